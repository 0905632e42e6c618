//! Digest and signature algorithm identifiers used by ICAO 9303 PKI (9303-12 §4.1.6–4.1.8).

use const_oid::ObjectIdentifier;
use der::asn1::Null;
use der::{Any, Decode, Encode, Sequence};
use digest::Digest;
use spki::AlgorithmIdentifierOwned;

use crate::PkixError;

/// OIDs used by this crate.
pub mod oids {
    use const_oid::ObjectIdentifier;

    /// id-sha1 (OIW).
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    /// id-sha224 (NIST).
    pub const SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
    /// id-sha256 (NIST).
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384 (NIST).
    pub const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512 (NIST).
    pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

    /// ecdsa-with-SHA1 (X9.62).
    pub const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
    /// ecdsa-with-SHA224.
    pub const ECDSA_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.1");
    /// ecdsa-with-SHA256.
    pub const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384.
    pub const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512.
    pub const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
    /// BSI TR-03111 ecdsa-plain-SHA1 (raw r||s signatures); `.2`..`.5` are SHA-224..SHA-512.
    pub const ECDSA_PLAIN_SHA1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.1");
    /// BSI ecdsa-plain-SHA224.
    pub const ECDSA_PLAIN_SHA224: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.2");
    /// BSI ecdsa-plain-SHA256.
    pub const ECDSA_PLAIN_SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.3");
    /// BSI ecdsa-plain-SHA384.
    pub const ECDSA_PLAIN_SHA384: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.4");
    /// BSI ecdsa-plain-SHA512.
    pub const ECDSA_PLAIN_SHA512: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.5");

    /// rsaEncryption (PKCS#1).
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// sha1WithRSAEncryption.
    pub const RSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
    /// sha224WithRSAEncryption.
    pub const RSA_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.14");
    /// sha256WithRSAEncryption.
    pub const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption.
    pub const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption.
    pub const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
    /// id-RSASSA-PSS (RFC 4055).
    pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    /// id-mgf1 (RFC 4055).
    pub const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");

    /// id-ecPublicKey (X9.62).
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// prime-field (X9.62 fieldType).
    pub const PRIME_FIELD: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.1.1");
    /// secp256r1 / P-256.
    pub const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 / P-384.
    pub const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    /// brainpoolP256r1.
    pub const BRAINPOOL_P256R1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.7");
    /// brainpoolP384r1.
    pub const BRAINPOOL_P384R1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.11");

    /// ICAO DocumentTypeList certificate extension (9303-12 §7.1.1.2).
    pub const DOCUMENT_TYPE_LIST: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.23.136.1.1.6.2");
    /// ICAO CSCA master list eContentType (9303-12 §9).
    pub const CSCA_MASTER_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.2");
    /// id-signedData (RFC 5652).
    pub const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
}

/// A digest algorithm allowed in eMRTD PKI (SHA-1 only for reading old documents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1 (legacy, verification only).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oids::SHA1,
            Self::Sha224 => oids::SHA224,
            Self::Sha256 => oids::SHA256,
            Self::Sha384 => oids::SHA384,
            Self::Sha512 => oids::SHA512,
        }
    }

    /// Recognise a digest OID.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, PkixError> {
        Ok(match *oid {
            oids::SHA1 => Self::Sha1,
            oids::SHA224 => Self::Sha224,
            oids::SHA256 => Self::Sha256,
            oids::SHA384 => Self::Sha384,
            oids::SHA512 => Self::Sha512,
            other => return Err(PkixError::UnsupportedDigestAlgorithm { oid: other }),
        })
    }

    /// The AlgorithmIdentifier with absent parameters (the form RFC 5754 prefers).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Digest output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hash `data`. SHA-256/384/512 go through `ring`'s assembly (AVX2/SHA-NI where the CPU has
    /// them; about twice the portable speed on a CPU without SHA-NI), which matters for the
    /// 15-20 kB face image (DG2) hashed for every SOD built and every Passive Authentication.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let fast = |algorithm| ring::digest::digest(algorithm, data).as_ref().to_vec();
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Self::Sha256 => fast(&ring::digest::SHA256),
            Self::Sha384 => fast(&ring::digest::SHA384),
            Self::Sha512 => fast(&ring::digest::SHA512),
        }
    }

    /// Short name, e.g. `SHA-256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}

/// RSASSA-PSS parameters (RFC 4055 §3.1).
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RsaPssParameters {
    /// hashAlgorithm (absent = SHA-1).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// maskGenAlgorithm (absent = MGF1 with SHA-1).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    /// saltLength (absent = 20).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub salt_length: Option<u32>,
    /// trailerField (absent = 1).
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub trailer_field: Option<u32>,
}

/// A signature algorithm, resolved from an AlgorithmIdentifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA, signature DER `Ecdsa-Sig-Value` (X9.62).
    Ecdsa(HashAlgorithm),
    /// ECDSA, signature plain `r||s` (BSI TR-03111).
    EcdsaPlain(HashAlgorithm),
    /// RSA PKCS#1 v1.5.
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash.
    RsaPss {
        /// Message hash (and MGF1 hash).
        hash: HashAlgorithm,
        /// Salt length in bytes.
        salt_len: usize,
    },
}

impl SignatureAlgorithm {
    /// Resolve a signature AlgorithmIdentifier (as in a certificate's signatureAlgorithm).
    pub fn from_algorithm_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self, PkixError> {
        use HashAlgorithm::*;
        Ok(match alg.oid {
            oids::ECDSA_SHA1 => Self::Ecdsa(Sha1),
            oids::ECDSA_SHA224 => Self::Ecdsa(Sha224),
            oids::ECDSA_SHA256 => Self::Ecdsa(Sha256),
            oids::ECDSA_SHA384 => Self::Ecdsa(Sha384),
            oids::ECDSA_SHA512 => Self::Ecdsa(Sha512),
            oids::ECDSA_PLAIN_SHA1 => Self::EcdsaPlain(Sha1),
            oids::ECDSA_PLAIN_SHA224 => Self::EcdsaPlain(Sha224),
            oids::ECDSA_PLAIN_SHA256 => Self::EcdsaPlain(Sha256),
            oids::ECDSA_PLAIN_SHA384 => Self::EcdsaPlain(Sha384),
            oids::ECDSA_PLAIN_SHA512 => Self::EcdsaPlain(Sha512),
            oids::RSA_SHA1 => Self::RsaPkcs1v15(Sha1),
            oids::RSA_SHA224 => Self::RsaPkcs1v15(Sha224),
            oids::RSA_SHA256 => Self::RsaPkcs1v15(Sha256),
            oids::RSA_SHA384 => Self::RsaPkcs1v15(Sha384),
            oids::RSA_SHA512 => Self::RsaPkcs1v15(Sha512),
            oids::RSASSA_PSS => Self::pss_from_parameters(alg.parameters.as_ref())?,
            other => return Err(PkixError::UnsupportedSignatureAlgorithm { oid: other }),
        })
    }

    /// Resolve the algorithm of a CMS SignerInfo: `signatureAlgorithm` may be a full signature OID
    /// or just the key type (`rsaEncryption`, `id-ecPublicKey`), in which case `digestAlgorithm`
    /// gives the hash. A full signature OID must agree with `digestAlgorithm`.
    pub fn from_signer_info(
        digest_algorithm: &AlgorithmIdentifierOwned,
        signature_algorithm: &AlgorithmIdentifierOwned,
    ) -> Result<Self, PkixError> {
        let digest = HashAlgorithm::from_oid(&digest_algorithm.oid)?;
        let resolved = match signature_algorithm.oid {
            oids::RSA_ENCRYPTION => Self::RsaPkcs1v15(digest),
            oids::EC_PUBLIC_KEY => Self::Ecdsa(digest),
            _ => Self::from_algorithm_identifier(signature_algorithm)?,
        };
        if resolved.hash() != digest {
            return Err(PkixError::DigestMismatch {
                digest_algorithm: digest.name(),
                signature_hash: resolved.hash().name(),
            });
        }
        Ok(resolved)
    }

    fn pss_from_parameters(parameters: Option<&Any>) -> Result<Self, PkixError> {
        let parameters = parameters.ok_or(PkixError::InvalidPssParameters {
            reason: "parameters absent",
        })?;
        let der = parameters.to_der().map_err(|source| PkixError::Decode {
            what: "RSASSA-PSS-params",
            source,
        })?;
        let params = RsaPssParameters::from_der(&der).map_err(|source| PkixError::Decode {
            what: "RSASSA-PSS-params",
            source,
        })?;
        let hash = match &params.hash_algorithm {
            Some(alg) => HashAlgorithm::from_oid(&alg.oid)?,
            None => HashAlgorithm::Sha1,
        };
        let mgf_hash = match &params.mask_gen_algorithm {
            Some(mgf) => {
                if mgf.oid != oids::MGF1 {
                    return Err(PkixError::InvalidPssParameters {
                        reason: "mask generation function is not MGF1",
                    });
                }
                let inner = mgf
                    .parameters
                    .as_ref()
                    .ok_or(PkixError::InvalidPssParameters {
                        reason: "MGF1 hash absent",
                    })?;
                let inner: AlgorithmIdentifierOwned =
                    inner.decode_as().map_err(|source| PkixError::Decode {
                        what: "MGF1 hash AlgorithmIdentifier",
                        source,
                    })?;
                HashAlgorithm::from_oid(&inner.oid)?
            }
            None => HashAlgorithm::Sha1,
        };
        if mgf_hash != hash {
            return Err(PkixError::InvalidPssParameters {
                reason: "MGF1 hash differs from the message hash",
            });
        }
        if params.trailer_field.unwrap_or(1) != 1 {
            return Err(PkixError::InvalidPssParameters {
                reason: "trailerField is not 1",
            });
        }
        let salt_len = params.salt_length.unwrap_or(20) as usize;
        Ok(Self::RsaPss { hash, salt_len })
    }

    /// The message hash.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::Ecdsa(h) | Self::EcdsaPlain(h) | Self::RsaPkcs1v15(h) => h,
            Self::RsaPss { hash, .. } => hash,
        }
    }

    /// Whether the algorithm needs an EC key.
    pub fn is_ecdsa(self) -> bool {
        matches!(self, Self::Ecdsa(_) | Self::EcdsaPlain(_))
    }

    /// The canonical AlgorithmIdentifier (ECDSA without parameters, RSA PKCS#1 with NULL,
    /// PSS with full parameters).
    pub fn algorithm_identifier(self) -> Result<AlgorithmIdentifierOwned, PkixError> {
        use HashAlgorithm::*;
        let (oid, null) = match self {
            Self::Ecdsa(h) => (
                match h {
                    Sha1 => oids::ECDSA_SHA1,
                    Sha224 => oids::ECDSA_SHA224,
                    Sha256 => oids::ECDSA_SHA256,
                    Sha384 => oids::ECDSA_SHA384,
                    Sha512 => oids::ECDSA_SHA512,
                },
                false,
            ),
            Self::EcdsaPlain(h) => (
                match h {
                    Sha1 => oids::ECDSA_PLAIN_SHA1,
                    Sha224 => oids::ECDSA_PLAIN_SHA224,
                    Sha256 => oids::ECDSA_PLAIN_SHA256,
                    Sha384 => oids::ECDSA_PLAIN_SHA384,
                    Sha512 => oids::ECDSA_PLAIN_SHA512,
                },
                false,
            ),
            Self::RsaPkcs1v15(h) => (
                match h {
                    Sha1 => oids::RSA_SHA1,
                    Sha224 => oids::RSA_SHA224,
                    Sha256 => oids::RSA_SHA256,
                    Sha384 => oids::RSA_SHA384,
                    Sha512 => oids::RSA_SHA512,
                },
                true,
            ),
            Self::RsaPss { hash, salt_len } => {
                let hash_id = AlgorithmIdentifierOwned {
                    oid: hash.oid(),
                    parameters: Some(Any::from(Null)),
                };
                let mgf = AlgorithmIdentifierOwned {
                    oid: oids::MGF1,
                    parameters: Some(Any::encode_from(&hash_id).map_err(|source| {
                        PkixError::Encode {
                            what: "MGF1 parameters",
                            source,
                        }
                    })?),
                };
                let params = RsaPssParameters {
                    hash_algorithm: Some(hash_id),
                    mask_gen_algorithm: Some(mgf),
                    salt_length: (salt_len != 20).then_some(salt_len as u32),
                    trailer_field: None,
                };
                return Ok(AlgorithmIdentifierOwned {
                    oid: oids::RSASSA_PSS,
                    parameters: Some(Any::encode_from(&params).map_err(|source| {
                        PkixError::Encode {
                            what: "RSASSA-PSS-params",
                            source,
                        }
                    })?),
                });
            }
        };
        Ok(AlgorithmIdentifierOwned {
            oid,
            parameters: null.then(|| Any::from(Null)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast and the portable implementations agree (FIPS 180-2 "abc" vectors as well).
    #[test]
    fn digests_match_the_portable_implementations() {
        let long: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
        for data in [&b""[..], b"abc", &long] {
            assert_eq!(
                HashAlgorithm::Sha256.digest(data),
                sha2::Sha256::digest(data).to_vec()
            );
            assert_eq!(
                HashAlgorithm::Sha384.digest(data),
                sha2::Sha384::digest(data).to_vec()
            );
            assert_eq!(
                HashAlgorithm::Sha512.digest(data),
                sha2::Sha512::digest(data).to_vec()
            );
        }
        assert_eq!(
            hex_of(&HashAlgorithm::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
