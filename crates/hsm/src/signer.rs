//! A RustCrypto signer backed by a token key.

use std::sync::Mutex;

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::ObjectHandle;
use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};

use crate::error::{HsmError, Result};
use crate::key::{HsmPublicKey, KeyAlgorithm, KeyRef};
use crate::token::Hsm;

macro_rules! der_of {
    ($curve:ty, $raw:expr) => {
        ecdsa::Signature::<$curve>::from_slice($raw)
            .map(|signature| signature.to_der().as_bytes().to_vec())
            .map_err(|error| HsmError::Malformed {
                field: "signature",
                message: error.to_string(),
            })?
    };
}

/// A key in the token that signs.
///
/// Implements [`signature::Signer`] for the DER signature type of its curve
/// (`p256::ecdsa::DerSignature`, `p384::ecdsa::DerSignature`, the brainpool ones) and for
/// `rsa::pss::Signature`, plus [`signature::Keypair`] and
/// [`spki::DynSignatureAlgorithmIdentifier`], so the x509-cert and cms builders take it unchanged.
/// The message is hashed in software and the digest signed with `CKM_ECDSA` / `CKM_RSA_PKCS_PSS`.
/// Signing through a mismatched signature type fails with [`HsmError::AlgorithmMismatch`].
pub struct HsmSigner {
    hsm: Hsm,
    key: KeyRef,
    public: HsmPublicKey,
    /// Private-key handle found in a given connection generation.
    handle: Mutex<Option<(u64, ObjectHandle)>>,
}

impl std::fmt::Debug for HsmSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmSigner")
            .field("token", &self.hsm.token_label())
            .field("key", &self.key)
            .field("algorithm", &self.public.algorithm())
            .finish()
    }
}

impl Clone for HsmSigner {
    fn clone(&self) -> Self {
        HsmSigner::new(self.hsm.clone(), self.key.clone(), self.public.clone())
    }
}

impl HsmSigner {
    pub(crate) fn new(hsm: Hsm, key: KeyRef, public: HsmPublicKey) -> Self {
        Self {
            hsm,
            key,
            public,
            handle: Mutex::new(None),
        }
    }

    /// The key reference (token label + CKA_ID).
    pub fn key_ref(&self) -> &KeyRef {
        &self.key
    }

    /// The key algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    /// The public key.
    pub fn public_key(&self) -> &HsmPublicKey {
        &self.public
    }

    /// DER SubjectPublicKeyInfo of the key.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.public.spki_der().to_vec()
    }

    /// Whether the token this key lives on answered within `window` (see
    /// [`crate::Hsm::answered_within`]).
    pub fn answered_within(&self, window: std::time::Duration) -> bool {
        self.hsm.answered_within(window)
    }

    /// Signs a digest computed by the caller (its length must match the key's hash) and returns
    /// the raw signature: `r||s` (each left-padded to the curve size) for ECDSA, as a visible
    /// digital seal needs; the RSASSA-PSS signature block for RSA.
    pub fn sign_digest_raw(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let algorithm = self.algorithm();
        let expected = algorithm.hash().output_len();
        if digest.len() != expected {
            return Err(HsmError::DigestLength {
                algorithm: algorithm.name(),
                expected,
                actual: digest.len(),
            });
        }
        let mechanism = if algorithm.is_ec() {
            Mechanism::Ecdsa
        } else {
            Mechanism::RsaPkcsPss(PkcsPssParams {
                hash_alg: MechanismType::SHA256,
                mgf: PkcsMgfType::MGF1_SHA256,
                s_len: 32.into(),
            })
        };
        let signature = self
            .hsm
            .sign_with(&self.key, &self.handle, &mechanism, digest)?;
        if signature.len() != algorithm.raw_signature_len() {
            return Err(HsmError::Malformed {
                field: "signature",
                message: format!(
                    "{} bytes from the token, expected {} for {algorithm}",
                    signature.len(),
                    algorithm.raw_signature_len()
                ),
            });
        }
        Ok(signature)
    }

    /// Hashes `message` with the key's hash and signs it; the raw signature as in
    /// [`HsmSigner::sign_digest_raw`].
    pub fn sign_message_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign_digest_raw(&self.algorithm().hash().digest(message))
    }

    /// Signs `message` and returns a DER `ECDSA-Sig-Value` (ECDSA) or the PSS block (RSA), as
    /// X.509 and CMS carry them.
    pub fn sign_message_der(&self, message: &[u8]) -> Result<Vec<u8>> {
        let raw = self.sign_message_raw(message)?;
        let algorithm = self.algorithm();
        let der = match algorithm {
            KeyAlgorithm::EcP256 => der_of!(p256::NistP256, &raw),
            KeyAlgorithm::EcP384 => der_of!(p384::NistP384, &raw),
            KeyAlgorithm::EcBrainpoolP256r1 => der_of!(bp256::BrainpoolP256r1, &raw),
            KeyAlgorithm::EcBrainpoolP384r1 => der_of!(bp384::BrainpoolP384r1, &raw),
            KeyAlgorithm::RsaPss3072 => raw,
        };
        Ok(der)
    }

    fn require(&self, wanted: KeyAlgorithm, requested: &'static str) -> Result<()> {
        if self.algorithm() == wanted {
            Ok(())
        } else {
            Err(HsmError::AlgorithmMismatch {
                label: self.key.label.clone(),
                algorithm: self.algorithm().name(),
                requested,
            })
        }
    }
}

fn to_signature_error(error: HsmError) -> signature::Error {
    signature::Error::from_source(error)
}

macro_rules! ecdsa_signer {
    ($signature:ty, $algorithm:expr, $name:literal) => {
        impl signature::Signer<$signature> for HsmSigner {
            fn try_sign(
                &self,
                message: &[u8],
            ) -> std::result::Result<$signature, signature::Error> {
                self.require($algorithm, $name)
                    .map_err(to_signature_error)?;
                let raw = self.sign_message_raw(message).map_err(to_signature_error)?;
                let fixed = ecdsa::Signature::from_slice(&raw)?;
                Ok(fixed.to_der())
            }
        }
    };
}

ecdsa_signer!(
    p256::ecdsa::DerSignature,
    KeyAlgorithm::EcP256,
    "ECDSA P-256"
);
ecdsa_signer!(
    p384::ecdsa::DerSignature,
    KeyAlgorithm::EcP384,
    "ECDSA P-384"
);
ecdsa_signer!(
    ecdsa::der::Signature<bp256::BrainpoolP256r1>,
    KeyAlgorithm::EcBrainpoolP256r1,
    "ECDSA brainpoolP256r1"
);
ecdsa_signer!(
    ecdsa::der::Signature<bp384::BrainpoolP384r1>,
    KeyAlgorithm::EcBrainpoolP384r1,
    "ECDSA brainpoolP384r1"
);

impl signature::Signer<rsa::pss::Signature> for HsmSigner {
    fn try_sign(
        &self,
        message: &[u8],
    ) -> std::result::Result<rsa::pss::Signature, signature::Error> {
        self.require(KeyAlgorithm::RsaPss3072, "RSASSA-PSS")
            .map_err(to_signature_error)?;
        let raw = self.sign_message_raw(message).map_err(to_signature_error)?;
        rsa::pss::Signature::try_from(raw.as_slice())
    }
}

impl signature::Keypair for HsmSigner {
    type VerifyingKey = HsmPublicKey;
    fn verifying_key(&self) -> HsmPublicKey {
        self.public.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for HsmSigner {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        self.algorithm().signature_algorithm()
    }
}
