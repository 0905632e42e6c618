//! Key algorithms, key references and the public half of a token key.

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString, UintRef};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::error::{HsmError, Result};

/// id-ecPublicKey (RFC 5480).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// The key types travdoc generates in a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256 (the default).
    EcP256,
    /// ECDSA on NIST P-384 with SHA-384.
    EcP384,
    /// ECDSA on brainpoolP256r1 with SHA-256 (where the token offers it).
    EcBrainpoolP256r1,
    /// ECDSA on brainpoolP384r1 with SHA-384 (where the token offers it).
    EcBrainpoolP384r1,
    /// RSA-3072 for RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32.
    RsaPss3072,
}

/// The hash a key signs with (chosen from the key size, as ICAO 9303-13 does for seals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
}

impl HashAlgorithm {
    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
        }
    }

    /// Hashes `message` in software.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(message).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(message).to_vec(),
        }
    }
}

impl KeyAlgorithm {
    /// All algorithms, in a stable order.
    pub const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::EcP256,
        KeyAlgorithm::EcP384,
        KeyAlgorithm::EcBrainpoolP256r1,
        KeyAlgorithm::EcBrainpoolP384r1,
        KeyAlgorithm::RsaPss3072,
    ];

    /// Stable name used in configuration and state files.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcP256 => "ec-p256",
            KeyAlgorithm::EcP384 => "ec-p384",
            KeyAlgorithm::EcBrainpoolP256r1 => "ec-brainpoolP256r1",
            KeyAlgorithm::EcBrainpoolP384r1 => "ec-brainpoolP384r1",
            KeyAlgorithm::RsaPss3072 => "rsa-pss-3072",
        }
    }

    /// Curve OID for EC keys.
    pub fn curve_oid(self) -> Option<ObjectIdentifier> {
        Some(match self {
            KeyAlgorithm::EcP256 => ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
            KeyAlgorithm::EcP384 => ObjectIdentifier::new_unwrap("1.3.132.0.34"),
            KeyAlgorithm::EcBrainpoolP256r1 => ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.7"),
            KeyAlgorithm::EcBrainpoolP384r1 => {
                ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.11")
            }
            KeyAlgorithm::RsaPss3072 => return None,
        })
    }

    /// The hash signed over.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcBrainpoolP256r1 | KeyAlgorithm::RsaPss3072 => {
                HashAlgorithm::Sha256
            }
            KeyAlgorithm::EcP384 | KeyAlgorithm::EcBrainpoolP384r1 => HashAlgorithm::Sha384,
        }
    }

    /// True for ECDSA keys.
    pub fn is_ec(self) -> bool {
        self.curve_oid().is_some()
    }

    /// Length of a raw signature (r||s for ECDSA, the modulus length for RSA).
    pub fn raw_signature_len(self) -> usize {
        match self {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcBrainpoolP256r1 => 64,
            KeyAlgorithm::EcP384 | KeyAlgorithm::EcBrainpoolP384r1 => 96,
            KeyAlgorithm::RsaPss3072 => 384,
        }
    }

    /// The X.509/CMS signature AlgorithmIdentifier.
    pub fn signature_algorithm(self) -> spki::Result<AlgorithmIdentifierOwned> {
        match self {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcBrainpoolP256r1 => {
                Ok(AlgorithmIdentifierOwned {
                    oid: ECDSA_WITH_SHA256,
                    parameters: None,
                })
            }
            KeyAlgorithm::EcP384 | KeyAlgorithm::EcBrainpoolP384r1 => {
                Ok(AlgorithmIdentifierOwned {
                    oid: ECDSA_WITH_SHA384,
                    parameters: None,
                })
            }
            KeyAlgorithm::RsaPss3072 => {
                rsa::pss::get_default_pss_signature_algo_id::<sha2::Sha256>()
            }
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<&str> = KeyAlgorithm::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown key algorithm `{text}` (known: {})",
                    names.join(", ")
                )
            })
    }
}

/// A persistent reference to a key pair in the token: CKA_LABEL and CKA_ID (never a handle).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRef {
    /// CKA_LABEL of both halves.
    pub label: String,
    /// CKA_ID of both halves.
    pub id: Vec<u8>,
}

impl KeyRef {
    /// CKA_ID as lower-case hex.
    pub fn id_hex(&self) -> String {
        hex::encode(&self.id)
    }
}

/// The public half of a token key, as a SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmPublicKey {
    algorithm: KeyAlgorithm,
    spki_der: Vec<u8>,
}

#[derive(Sequence)]
struct RsaPublicKeyAsn1<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

impl HsmPublicKey {
    /// From CKA_EC_POINT (a DER OCTET STRING around the SEC1 point, or the bare point).
    pub(crate) fn from_ec_point(algorithm: KeyAlgorithm, ec_point: &[u8]) -> Result<Self> {
        let curve = algorithm.curve_oid().ok_or(HsmError::Malformed {
            field: "CKA_EC_POINT",
            message: "not an EC key".to_owned(),
        })?;
        let point = match OctetString::from_der(ec_point) {
            Ok(octets) => octets.as_bytes().to_vec(),
            Err(_) => ec_point.to_vec(),
        };
        check_point(algorithm, &point)?;
        let algorithm_identifier = AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(der::Any::encode_from(&curve).map_err(malformed("CKA_EC_PARAMS"))?),
        };
        Self::from_parts(algorithm, algorithm_identifier, &point)
    }

    /// From CKA_MODULUS and CKA_PUBLIC_EXPONENT.
    pub(crate) fn from_rsa(
        algorithm: KeyAlgorithm,
        modulus: &[u8],
        exponent: &[u8],
    ) -> Result<Self> {
        let key = RsaPublicKeyAsn1 {
            modulus: UintRef::new(modulus).map_err(malformed("CKA_MODULUS"))?,
            public_exponent: UintRef::new(exponent).map_err(malformed("CKA_PUBLIC_EXPONENT"))?,
        };
        let key_der = key.to_der().map_err(malformed("CKA_MODULUS"))?;
        let algorithm_identifier = AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(der::Any::null()),
        };
        Self::from_parts(algorithm, algorithm_identifier, &key_der)
    }

    fn from_parts(
        algorithm: KeyAlgorithm,
        identifier: AlgorithmIdentifierOwned,
        key: &[u8],
    ) -> Result<Self> {
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: identifier,
            subject_public_key: BitString::from_bytes(key).map_err(malformed("public key"))?,
        };
        let spki_der = spki.to_der().map_err(malformed("public key"))?;
        Ok(Self {
            algorithm,
            spki_der,
        })
    }

    /// The key algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Parsed SubjectPublicKeyInfo.
    pub fn spki(&self) -> Result<SubjectPublicKeyInfoOwned> {
        SubjectPublicKeyInfoOwned::from_der(&self.spki_der).map_err(malformed("public key"))
    }
}

impl spki::EncodePublicKey for HsmPublicKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::from_der(&self.spki_der)?)
    }
}

fn check_point(algorithm: KeyAlgorithm, point: &[u8]) -> Result<()> {
    let ok = match algorithm {
        KeyAlgorithm::EcP256 => p256::PublicKey::from_sec1_bytes(point).is_ok(),
        KeyAlgorithm::EcP384 => p384::PublicKey::from_sec1_bytes(point).is_ok(),
        KeyAlgorithm::EcBrainpoolP256r1 => {
            ecdsa::VerifyingKey::<bp256::BrainpoolP256r1>::from_sec1_bytes(point).is_ok()
        }
        KeyAlgorithm::EcBrainpoolP384r1 => {
            ecdsa::VerifyingKey::<bp384::BrainpoolP384r1>::from_sec1_bytes(point).is_ok()
        }
        KeyAlgorithm::RsaPss3072 => false,
    };
    if ok {
        Ok(())
    } else {
        Err(HsmError::Malformed {
            field: "CKA_EC_POINT",
            message: format!("not a valid {algorithm} point"),
        })
    }
}

pub(crate) fn malformed<E: std::fmt::Display>(field: &'static str) -> impl Fn(E) -> HsmError {
    move |error| HsmError::Malformed {
        field,
        message: error.to_string(),
    }
}
