//! Building and signing seals.
//!
//! [`SealBuilder`] assembles header and message zone; signing hashes them with the hash that
//! belongs to the signer's curve (ICAO 9303-13 §2.4: SHA-256 for 256-bit curves, SHA-384 for
//! 384-bit curves) and asks a [`RawDigestSigner`] (an HSM key, or a software key in tests) for the
//! raw `r||s` signature of that digest.

use serde::Serialize;
use sha2::Digest;

use crate::error::SealError;
use crate::header::Header;
use crate::seal::{Feature, Seal, encode_signed_data};

/// The elliptic curves a travdoc seal may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Curve {
    /// NIST P-256 (secp256r1): travdoc's default.
    P256,
    /// brainpoolP256r1 (RFC 5639), used by the ICAO worked examples.
    BrainpoolP256r1,
    /// NIST P-384 (secp384r1).
    P384,
}

impl Curve {
    /// Size of the curve order in bytes; `r` and `s` are each padded to this size.
    pub const fn field_size(self) -> usize {
        match self {
            Self::P256 | Self::BrainpoolP256r1 => 32,
            Self::P384 => 48,
        }
    }

    /// Length of a raw `r||s` signature.
    pub const fn signature_len(self) -> usize {
        2 * self.field_size()
    }

    /// The digest of `data` with the hash chosen by the curve size (SHA-256 or SHA-384).
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::P256 | Self::BrainpoolP256r1 => sha2::Sha256::digest(data).to_vec(),
            Self::P384 => sha2::Sha384::digest(data).to_vec(),
        }
    }
}

/// A key that signs a precomputed digest and returns the raw `r||s` signature (PKCS#11 `CKM_ECDSA`
/// output). The HSM signer implements this with its `sign_digest_raw`.
pub trait RawDigestSigner {
    /// The curve of the key (selects the hash and the signature length).
    fn curve(&self) -> Curve;
    /// Signs `digest`; returns `r||s`, each padded to the curve's field size.
    fn sign_digest_raw(
        &self,
        digest: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;
}

/// Assembles an unsigned seal and signs it.
#[derive(Debug, Clone)]
pub struct SealBuilder {
    header: Header,
    features: Vec<Feature>,
}

impl SealBuilder {
    /// A builder with `header` and no features yet.
    pub fn new(header: Header) -> Self {
        Self {
            header,
            features: Vec::new(),
        }
    }

    /// Appends a feature (in the order given). Tag `0xFF` is refused.
    pub fn feature(mut self, tag: u8, value: impl Into<Vec<u8>>) -> Result<Self, SealError> {
        self.features.push(Feature::new(tag, value)?);
        Ok(self)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The bytes to be signed: header and message zone.
    pub fn to_be_signed(&self) -> Result<Vec<u8>, SealError> {
        encode_signed_data(&self.header, &self.features)
    }

    /// Signs with `signer`.
    pub fn sign<S: RawDigestSigner + ?Sized>(self, signer: &S) -> Result<Seal, SealError> {
        self.sign_with(signer.curve(), |digest| signer.sign_digest_raw(digest))
    }

    /// Signs with a callback that receives the digest and returns `r||s` for a key on `curve`.
    pub fn sign_with<F, E>(self, curve: Curve, sign: F) -> Result<Seal, SealError>
    where
        F: FnOnce(&[u8]) -> Result<Vec<u8>, E>,
        E: std::fmt::Display,
    {
        let to_be_signed = self.to_be_signed()?;
        let signature = sign(&curve.digest(&to_be_signed))
            .map_err(|error| SealError::Signer(error.to_string()))?;
        if signature.len() != curve.signature_len() {
            return Err(SealError::SignatureLength {
                expected: curve.signature_len(),
                found: signature.len(),
            });
        }
        Ok(Seal::from_parts(self.header, self.features, signature))
    }
}
