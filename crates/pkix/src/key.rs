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

    /// Every supported curve.
    pub const ALL: [Curve; 4] = [
        Self::P256,
        Self::P384,
        Self::BrainpoolP256r1,
        Self::BrainpoolP384r1,
    ];

    /// The curve's domain parameters, read from the RustCrypto curve crate that implements it
    /// (the single source of truth for both reading and writing explicit parameters).
    pub fn domain_parameters(self) -> DomainParameters {
        match self {
            Self::P256 => DomainParameters::of::<p256::NistP256>(),
            Self::P384 => DomainParameters::of::<p384::NistP384>(),
            Self::BrainpoolP256r1 => DomainParameters::of::<bp256::BrainpoolP256r1>(),
            Self::BrainpoolP384r1 => DomainParameters::of::<bp384::BrainpoolP384r1>(),
        }
    }

    /// The X9.62 `ECParameters` of this curve as ICAO 9303-12 wants them in certificates:
    /// version 1, prime field, a and b (no seed), uncompressed base point, order, cofactor.
    pub fn explicit_parameters(self) -> Result<SpecifiedEcDomain, PkixError> {
        let domain = self.domain_parameters();
        let encode = |what: &'static str| move |source| PkixError::Encode { what, source };
        let mut base = Vec::with_capacity(1 + 2 * domain.prime.len());
        base.push(0x04);
        base.extend_from_slice(&domain.generator_x);
        base.extend_from_slice(&domain.generator_y);
        Ok(SpecifiedEcDomain {
            version: Uint::new(&[1]).map_err(encode("ECParameters.version"))?,
            field_id: FieldId {
                field_type: oids::PRIME_FIELD,
                parameters: Any::encode_from(
                    &Uint::new(&domain.prime).map_err(encode("ECParameters.fieldID.prime"))?,
                )
                .map_err(encode("ECParameters.fieldID.prime"))?,
            },
            curve: CurveCoefficients {
                a: OctetString::new(domain.a).map_err(encode("ECParameters.curve.a"))?,
                b: OctetString::new(domain.b).map_err(encode("ECParameters.curve.b"))?,
                seed: None,
            },
            base: OctetString::new(base).map_err(encode("ECParameters.base"))?,
            order: Uint::new(&domain.order).map_err(encode("ECParameters.order"))?,
            cofactor: Some(Uint::new(&[domain.cofactor]).map_err(encode("ECParameters.cofactor"))?),
        })
    }

    /// Whether explicit parameters describe exactly this curve: same prime, a, b and order, the
    /// same base point (uncompressed or compressed) and a cofactor that is absent or equal.
    fn matches(self, params: &SpecifiedEcDomain, prime: &[u8]) -> bool {
        let domain = self.domain_parameters();
        let base = params.base.as_bytes();
        let base_matches = match base.split_first() {
            Some((0x04, coordinates)) => {
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                coordinates.len() == 2 * domain.prime.len()
                    && same_integer(x, &domain.generator_x)
                    && same_integer(y, &domain.generator_y)
            }
            Some((&tag @ (0x02 | 0x03), x)) => {
                let y_is_odd = domain.generator_y.last().is_some_and(|byte| byte & 1 == 1);
                x.len() == domain.prime.len()
                    && same_integer(x, &domain.generator_x)
                    && (tag == 0x03) == y_is_odd
            }
            _ => false,
        };
        let cofactor_matches = params
            .cofactor
            .as_ref()
            .is_none_or(|cofactor| same_integer(cofactor.as_bytes(), &[domain.cofactor]));
        same_integer(prime, &domain.prime)
            && same_integer(params.curve.a.as_bytes(), &domain.a)
            && same_integer(params.curve.b.as_bytes(), &domain.b)
            && same_integer(params.order.as_bytes(), &domain.order)
            && base_matches
            && cofactor_matches
    }
}

/// Domain parameters of a named curve, big-endian, each field element as long as the prime.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DomainParameters {
    /// The field prime p.
    pub prime: Vec<u8>,
    /// Coefficient a.
    pub a: Vec<u8>,
    /// Coefficient b.
    pub b: Vec<u8>,
    /// x coordinate of the base point G.
    pub generator_x: Vec<u8>,
    /// y coordinate of the base point G.
    pub generator_y: Vec<u8>,
    /// The order n of G.
    pub order: Vec<u8>,
    /// The cofactor h.
    pub cofactor: u8,
}

impl DomainParameters {
    fn of<C: primeorder::PrimeCurveParams>() -> Self {
        use primeorder::{Field, PrimeField};
        // p and n do not fit in their own fields: p - 1 and n - 1 do (as -1), then add one.
        let minus_one = -<C as primeorder::FieldArithmetic>::FieldElement::ONE;
        let order_minus_one = -primeorder::Scalar::<C>::ONE;
        Self {
            prime: plus_one(minus_one.to_repr().as_slice()),
            a: C::EQUATION_A.to_repr().to_vec(),
            b: C::EQUATION_B.to_repr().to_vec(),
            generator_x: C::GENERATOR.0.to_repr().to_vec(),
            generator_y: C::GENERATOR.1.to_repr().to_vec(),
            order: plus_one(order_minus_one.to_repr().as_slice()),
            // `PrimeCurveParams` curves have prime order: the group is the whole curve.
            cofactor: 1,
        }
    }
}

/// `value + 1` for a big-endian unsigned integer (one byte longer only on overflow).
fn plus_one(value: &[u8]) -> Vec<u8> {
    let mut result = value.to_vec();
    for byte in result.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            return result;
        }
    }
    result.insert(0, 1);
    result
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

/// Equality of two big-endian unsigned integers, ignoring leading zeros.
fn same_integer(left: &[u8], right: &[u8]) -> bool {
    strip_zeros(left) == strip_zeros(right)
}

/// Map explicit domain parameters to the named curve with the same prime, coefficients, base
/// point, order and cofactor (parameters of any other curve are refused).
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
    if let Some(curve) = Curve::ALL
        .into_iter()
        .find(|curve| curve.matches(params, prime.as_bytes()))
    {
        return Ok(curve);
    }
    Err(PkixError::UnsupportedCurve {
        oid: "explicit parameters of an unknown curve".into(),
    })
}

/// The largest RSA modulus a key may have, in bits.
pub const MAX_RSA_BITS: usize = 4096;

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
                use rsa::traits::PublicKeyParts as _;
                let key = rsa::PublicKey::from_pkcs1_der(key_bytes).map_err(|_| {
                    PkixError::InvalidPublicKey {
                        reason: "RSAPublicKey does not decode",
                    }
                })?;
                // The submitter chooses the modulus: beyond MAX_RSA_BITS the cost of a check
                // is theirs to set, and no eMRTD key is that large.
                if key.size() * 8 > MAX_RSA_BITS {
                    return Err(PkixError::InvalidPublicKey {
                        reason: "RSA modulus above 4096 bits",
                    });
                }
                Ok(Self::Rsa(key))
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

/// How a certificate's SubjectPublicKeyInfo carries EC domain parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcParameterEncoding {
    /// X9.62 `ECParameters` SEQUENCE with the cofactor and an uncompressed base point, as
    /// ICAO 9303-12 requires for CSCA and signer certificates.
    #[default]
    Explicit,
    /// The `namedCurve` OID of RFC 5480 (for verifiers that read nothing else).
    Named,
}

impl EcParameterEncoding {
    /// The configuration name: `explicit` or `named`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Explicit => "explicit",
            Self::Named => "named",
        }
    }
}

impl std::fmt::Display for EcParameterEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EcParameterEncoding {
    type Err = PkixError;
    fn from_str(text: &str) -> Result<Self, PkixError> {
        [Self::Explicit, Self::Named]
            .into_iter()
            .find(|encoding| encoding.name() == text)
            .ok_or_else(|| PkixError::UnknownEcParameterEncoding {
                value: text.to_owned(),
            })
    }
}

/// `spki` with its EC domain parameters written as `encoding` (the subjectPublicKey bits, and so
/// the key identifier, stay the same). RSA and other non-EC keys are returned unchanged, as are
/// explicit parameters of a curve without a name when `encoding` is [`EcParameterEncoding::Explicit`].
pub fn encode_ec_parameters(
    spki: &SubjectPublicKeyInfoOwned,
    encoding: EcParameterEncoding,
) -> Result<SubjectPublicKeyInfoOwned, PkixError> {
    if spki.algorithm.oid != oids::EC_PUBLIC_KEY {
        return Ok(spki.clone());
    }
    let curve = match (ec_domain(spki)?, encoding) {
        (EcDomain::Named(curve), _) => curve,
        (EcDomain::Explicit(_), EcParameterEncoding::Explicit) => return Ok(spki.clone()),
        (EcDomain::Explicit(_), EcParameterEncoding::Named) => {
            return Err(PkixError::UnsupportedCurve {
                oid: "explicit parameters of an unnamed curve have no named-curve OID".into(),
            });
        }
    };
    let parameters = match encoding {
        EcParameterEncoding::Named => Any::encode_from(&curve.oid()),
        EcParameterEncoding::Explicit => {
            let point = spki.subject_public_key.raw_bytes();
            if point.first() != Some(&0x04) || point.len() != 1 + 2 * curve.field_len() {
                return Err(PkixError::InvalidPublicKey {
                    reason: "explicit domain parameters need an uncompressed EC point",
                });
            }
            Any::encode_from(&curve.explicit_parameters()?)
        }
    }
    .map_err(|source| PkixError::Encode {
        what: "ECParameters",
        source,
    })?;
    let mut encoded = spki.clone();
    encoded.algorithm.parameters = Some(parameters);
    Ok(encoded)
}

/// Whether two SubjectPublicKeyInfos hold the same public key, however their EC domain
/// parameters are written: a named-curve OID and explicit parameters of that curve are the same
/// domain. Other keys (RSA) must be equal as encoded.
pub fn same_public_key(
    left: &SubjectPublicKeyInfoOwned,
    right: &SubjectPublicKeyInfoOwned,
) -> Result<bool, PkixError> {
    if left.algorithm.oid != oids::EC_PUBLIC_KEY || right.algorithm.oid != oids::EC_PUBLIC_KEY {
        return Ok(left == right);
    }
    if left.subject_public_key != right.subject_public_key {
        return Ok(false);
    }
    Ok(match (ec_domain(left)?, ec_domain(right)?) {
        (EcDomain::Named(left), EcDomain::Named(right)) => left == right,
        (EcDomain::Explicit(left), EcDomain::Explicit(right)) => left == right,
        _ => false,
    })
}
