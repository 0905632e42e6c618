//! Public keys from SubjectPublicKeyInfo, including EC keys with explicit domain parameters.

use der::asn1::{BitString, OctetString, Uint};
use der::{Any, Decode, Sequence};
use signature::hazmat::PrehashVerifier;
use spki::SubjectPublicKeyInfoOwned;

use crate::PkixError;
use crate::alg::{HashAlgorithm, SignatureAlgorithm, oids};
use crate::generic_ec::{GenericPublicKey, PrimeCurve, split_der_signature};

/// A named curve supported for verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// brainpoolP256r1.
    BrainpoolP256r1,
    /// brainpoolP384r1.
    BrainpoolP384r1,
}

impl Curve {
    /// The curve's OID.
    pub fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            Self::P256 => oids::P256,
            Self::P384 => oids::P384,
            Self::BrainpoolP256r1 => oids::BRAINPOOL_P256R1,
            Self::BrainpoolP384r1 => oids::BRAINPOOL_P384R1,
        }
    }

    /// The hash ICAO pairs with this curve size (SHA-256 for 256-bit, SHA-384 for 384-bit).
    pub fn default_hash(self) -> HashAlgorithm {
        match self {
            Self::P256 | Self::BrainpoolP256r1 => HashAlgorithm::Sha256,
            Self::P384 | Self::BrainpoolP384r1 => HashAlgorithm::Sha384,
        }
    }

    /// Field element size in bytes.
    pub fn field_len(self) -> usize {
        match self {
            Self::P256 | Self::BrainpoolP256r1 => 32,
            Self::P384 | Self::BrainpoolP384r1 => 48,
        }
    }

    fn from_oid(oid: &const_oid::ObjectIdentifier) -> Result<Self, PkixError> {
        Ok(match *oid {
            oids::P256 => Self::P256,
            oids::P384 => Self::P384,
            oids::BRAINPOOL_P256R1 => Self::BrainpoolP256r1,
            oids::BRAINPOOL_P384R1 => Self::BrainpoolP384r1,
            other => {
                return Err(PkixError::UnsupportedCurve {
                    oid: other.to_string(),
                });
            }
        })
    }

    const ALL: [Curve; 4] = [
        Self::P256,
        Self::P384,
        Self::BrainpoolP256r1,
        Self::BrainpoolP384r1,
    ];

    /// (p, a, b, n) big-endian, from SEC 2 / RFC 5639.
    fn domain(self) -> [&'static str; 4] {
        match self {
            Self::P256 => [
                "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
                "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
                "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
                "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
            ],
            Self::P384 => [
                "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
                "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc",
                "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
                "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
            ],
            Self::BrainpoolP256r1 => [
                "a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377",
                "7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9",
                "26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6",
                "a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7",
            ],
            Self::BrainpoolP384r1 => [
                "8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53",
                "7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826",
                "04a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c11",
                "8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565",
            ],
        }
    }
}

/// X9.62 / RFC 3279 §2.3.5 explicit curve parameters.
///
/// ```text
/// ECParameters ::= SEQUENCE {
///    version   ECPVer,          -- version is always 1
///    fieldID   FieldID,         -- identifies the finite field over which the curve is defined
///    curve     Curve,           -- coefficients a and b of the elliptic curve
///    base      ECPoint,         -- specifies the base point P on the elliptic curve
///    order     INTEGER,         -- the order n of the base point
///    cofactor  INTEGER OPTIONAL -- The integer h = #E(Fq)/n
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SpecifiedEcDomain {
    /// version (1).
    pub version: Uint,
    /// fieldID.
    pub field_id: FieldId,
    /// curve.
    pub curve: CurveCoefficients,
    /// base point.
    pub base: OctetString,
    /// order n.
    pub order: Uint,
    /// cofactor h.
    pub cofactor: Option<Uint>,
}

/// ```text
/// FieldID ::= SEQUENCE { fieldType OBJECT IDENTIFIER, parameters ANY DEFINED BY fieldType }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct FieldId {
    /// fieldType (prime-field).
    pub field_type: const_oid::ObjectIdentifier,
    /// Prime-p ::= INTEGER for prime fields.
    pub parameters: Any,
}

/// ```text
/// Curve ::= SEQUENCE { a FieldElement, b FieldElement, seed BIT STRING OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CurveCoefficients {
    /// a.
    pub a: OctetString,
    /// b.
    pub b: OctetString,
    /// seed.
    pub seed: Option<BitString>,
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn hex_eq(bytes: &[u8], hex_str: &str) -> bool {
    // Small local hex comparison (constants only).
    let bytes = strip_zeros(bytes);
    let want: Vec<u8> = (0..hex_str.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex_str.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    bytes == strip_zeros(&want)
}

/// Map explicit domain parameters to the named curve with the same prime, coefficients and order.
pub fn curve_from_explicit_parameters(params: &SpecifiedEcDomain) -> Result<Curve, PkixError> {
    if params.field_id.field_type != oids::PRIME_FIELD {
        return Err(PkixError::UnsupportedCurve {
            oid: format!(
                "explicit parameters over field type {}",
                params.field_id.field_type
            ),
        });
    }
    let prime: Uint =
        params
            .field_id
            .parameters
            .decode_as()
            .map_err(|source| PkixError::Decode {
                what: "ECParameters.fieldID.prime",
                source,
            })?;
    for curve in Curve::ALL {
        let [p, a, b, n] = curve.domain();
        if hex_eq(prime.as_bytes(), p)
            && hex_eq(params.curve.a.as_bytes(), a)
            && hex_eq(params.curve.b.as_bytes(), b)
            && hex_eq(params.order.as_bytes(), n)
        {
            return Ok(curve);
        }
    }
    Err(PkixError::UnsupportedCurve {
        oid: "explicit parameters of an unknown curve".into(),
    })
}

/// A verification key.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PublicKey {
    /// P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// brainpoolP256r1.
    BrainpoolP256r1(ecdsa::VerifyingKey<bp256::BrainpoolP256r1>),
    /// brainpoolP384r1.
    BrainpoolP384r1(ecdsa::VerifyingKey<bp384::BrainpoolP384r1>),
    /// RSA.
    Rsa(rsa::PublicKey),
    /// Another prime curve given by explicit parameters (e.g. brainpoolP224r1).
    ExplicitPrime(Box<GenericPublicKey>),
}

impl PublicKey {
    /// Read a key from a SubjectPublicKeyInfo (named or explicit EC parameters, RSA).
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, PkixError> {
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(PkixError::InvalidPublicKey {
                reason: "subjectPublicKey has unused bits",
            })?;
        match spki.algorithm.oid {
            oids::EC_PUBLIC_KEY => {
                let curve = match ec_domain(spki)? {
                    EcDomain::Named(curve) => curve,
                    EcDomain::Explicit(params) => {
                        let curve = PrimeCurve::from_parameters(&params)?;
                        return Ok(Self::ExplicitPrime(Box::new(GenericPublicKey::new(
                            curve, key_bytes,
                        )?)));
                    }
                };
                let bad = |_| PkixError::InvalidPublicKey {
                    reason: "EC point not on the curve",
                };
                Ok(match curve {
                    Curve::P256 => Self::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad)?,
                    ),
                    Curve::P384 => Self::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad)?,
                    ),
                    Curve::BrainpoolP256r1 => Self::BrainpoolP256r1(
                        ecdsa::VerifyingKey::<bp256::BrainpoolP256r1>::from_sec1_bytes(key_bytes)
                            .map_err(bad)?,
                    ),
                    Curve::BrainpoolP384r1 => Self::BrainpoolP384r1(
                        ecdsa::VerifyingKey::<bp384::BrainpoolP384r1>::from_sec1_bytes(key_bytes)
                            .map_err(bad)?,
                    ),
                })
            }
            oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                Ok(Self::Rsa(
                    rsa::PublicKey::from_pkcs1_der(key_bytes).map_err(|_| {
                        PkixError::InvalidPublicKey {
                            reason: "RSAPublicKey does not decode",
                        }
                    })?,
                ))
            }
            other => Err(PkixError::UnsupportedPublicKey { oid: other }),
        }
    }

    /// The curve of an EC key, `None` for RSA.
    pub fn curve(&self) -> Option<Curve> {
        match self {
            Self::P256(_) => Some(Curve::P256),
            Self::P384(_) => Some(Curve::P384),
            Self::BrainpoolP256r1(_) => Some(Curve::BrainpoolP256r1),
            Self::BrainpoolP384r1(_) => Some(Curve::BrainpoolP384r1),
            Self::Rsa(_) | Self::ExplicitPrime(_) => None,
        }
    }

    /// Verify `signature` over an already computed `digest` with `algorithm`.
    pub fn verify_prehash(
        &self,
        algorithm: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), PkixError> {
        if digest.len() != algorithm.hash().output_len() {
            return Err(PkixError::DigestLength {
                expected: algorithm.hash().output_len(),
                actual: digest.len(),
            });
        }
        match (algorithm, self) {
            (SignatureAlgorithm::Ecdsa(_), _) => self.verify_ecdsa(digest, signature, false),
            (SignatureAlgorithm::EcdsaPlain(_), _) => self.verify_ecdsa(digest, signature, true),
            (SignatureAlgorithm::RsaPkcs1v15(hash), Self::Rsa(key)) => {
                use rsa::Pkcs1v15Sign;
                let scheme = match hash {
                    HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                    HashAlgorithm::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
                    HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                    HashAlgorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                    HashAlgorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.verify(scheme, digest, signature)
                    .map_err(|_| PkixError::BadSignature)
            }
            (SignatureAlgorithm::RsaPss { hash, salt_len }, Self::Rsa(key)) => {
                use rsa::Pss;
                let result = match hash {
                    HashAlgorithm::Sha1 => key.verify(
                        Pss::<sha1::Sha1>::new_with_salt(salt_len),
                        digest,
                        signature,
                    ),
                    HashAlgorithm::Sha224 => key.verify(
                        Pss::<sha2::Sha224>::new_with_salt(salt_len),
                        digest,
                        signature,
                    ),
                    HashAlgorithm::Sha256 => key.verify(
                        Pss::<sha2::Sha256>::new_with_salt(salt_len),
                        digest,
                        signature,
                    ),
                    HashAlgorithm::Sha384 => key.verify(
                        Pss::<sha2::Sha384>::new_with_salt(salt_len),
                        digest,
                        signature,
                    ),
                    HashAlgorithm::Sha512 => key.verify(
                        Pss::<sha2::Sha512>::new_with_salt(salt_len),
                        digest,
                        signature,
                    ),
                };
                result.map_err(|_| PkixError::BadSignature)
            }
            _ => Err(PkixError::AlgorithmKeyMismatch),
        }
    }

    fn verify_ecdsa(&self, digest: &[u8], signature: &[u8], raw: bool) -> Result<(), PkixError> {
        macro_rules! check {
            ($curve:ident, $key:expr) => {{
                let sig = if raw {
                    $curve::ecdsa::Signature::from_slice(signature)
                } else {
                    $curve::ecdsa::DerSignature::from_bytes(signature)
                        .and_then($curve::ecdsa::Signature::try_from)
                }
                .map_err(|_| PkixError::InvalidSignatureEncoding)?;
                $key.verify_prehash(digest, &sig)
                    .map_err(|_| PkixError::BadSignature)
            }};
        }
        match self {
            Self::P256(key) => check!(p256, key),
            Self::P384(key) => check!(p384, key),
            Self::BrainpoolP256r1(key) => {
                use bp256::r1 as bp256r1;
                check!(bp256r1, key)
            }
            Self::BrainpoolP384r1(key) => {
                use bp384::r1 as bp384r1;
                check!(bp384r1, key)
            }
            Self::ExplicitPrime(key) => {
                let (r, s) = if raw {
                    let half = signature.len() / 2;
                    if !signature.len().is_multiple_of(2) || half != key.curve().order_len() {
                        return Err(PkixError::InvalidSignatureEncoding);
                    }
                    (signature[..half].to_vec(), signature[half..].to_vec())
                } else {
                    split_der_signature(signature)?
                };
                key.verify_prehash(digest, &r, &s)
            }
            Self::Rsa(_) => Err(PkixError::AlgorithmKeyMismatch),
        }
    }

    /// Whether this is an EC key (named or explicit curve).
    pub fn is_ec(&self) -> bool {
        !matches!(self, Self::Rsa(_))
    }
}

/// The named curve of an EC SPKI (named OID, or explicit parameters equal to a named curve's).
pub fn ec_curve(spki: &SubjectPublicKeyInfoOwned) -> Result<Curve, PkixError> {
    match ec_domain(spki)? {
        EcDomain::Named(curve) => Ok(curve),
        EcDomain::Explicit(_) => Err(PkixError::UnsupportedCurve {
            oid: "explicit parameters of an unnamed curve".into(),
        }),
    }
}

/// EC domain of an SPKI.
#[derive(Clone, Debug)]
pub enum EcDomain {
    /// A supported named curve (also when given explicitly with the same parameters).
    Named(Curve),
    /// Explicit parameters of another curve.
    Explicit(Box<SpecifiedEcDomain>),
}

/// Resolve the EC domain parameters of an SPKI.
pub fn ec_domain(spki: &SubjectPublicKeyInfoOwned) -> Result<EcDomain, PkixError> {
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or(PkixError::InvalidPublicKey {
            reason: "EC parameters absent",
        })?;
    if let Ok(oid) = params.decode_as::<const_oid::ObjectIdentifier>() {
        return Curve::from_oid(&oid).map(EcDomain::Named);
    }
    let der = der::Encode::to_der(params).map_err(|source| PkixError::Encode {
        what: "ECParameters",
        source,
    })?;
    let explicit = SpecifiedEcDomain::from_der(&der).map_err(|source| PkixError::Decode {
        what: "ECParameters",
        source,
    })?;
    match curve_from_explicit_parameters(&explicit) {
        Ok(curve) => Ok(EcDomain::Named(curve)),
        Err(_) => Ok(EcDomain::Explicit(Box::new(explicit))),
    }
}
