//! ECDSA verification over an arbitrary prime curve given by explicit domain parameters.
//!
//! Used only for curves the RustCrypto crates do not provide (brainpoolP224r1 in the 2008 BSI
//! test SOD, for example). Verification handles public data only, so variable-time big-integer
//! arithmetic (`num-bigint`) is acceptable here; it is never used for signing.

use num_bigint::BigUint;
use num_traits::{One, Zero};

use crate::PkixError;
use crate::key::SpecifiedEcDomain;

/// A short-Weierstrass curve y² = x³ + ax + b over GF(p) with base point G of order n.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimeCurve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    n: BigUint,
    g: (BigUint, BigUint),
    field_len: usize,
}

/// A point on a [`PrimeCurve`] (affine, not the point at infinity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericPublicKey {
    curve: PrimeCurve,
    q: (BigUint, BigUint),
}

/// Jacobian coordinates; z = 0 is the point at infinity.
#[derive(Clone, Debug)]
struct Jacobian {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl PrimeCurve {
    /// Build from explicit parameters (prime field, cofactor absent or 1).
    pub fn from_parameters(params: &SpecifiedEcDomain) -> Result<Self, PkixError> {
        let prime: der::asn1::Uint =
            params
                .field_id
                .parameters
                .decode_as()
                .map_err(|source| PkixError::Decode {
                    what: "ECParameters.fieldID.prime",
                    source,
                })?;
        let p = BigUint::from_bytes_be(prime.as_bytes());
        let field_len = p.bits().div_ceil(8) as usize;
        if p.bits() < 160 {
            return Err(PkixError::UnsupportedCurve {
                oid: "explicit prime below 160 bits".into(),
            });
        }
        if let Some(cofactor) = &params.cofactor
            && BigUint::from_bytes_be(cofactor.as_bytes()) != BigUint::one()
        {
            return Err(PkixError::UnsupportedCurve {
                oid: "explicit curve with cofactor != 1".into(),
            });
        }
        let a = BigUint::from_bytes_be(params.curve.a.as_bytes());
        let b = BigUint::from_bytes_be(params.curve.b.as_bytes());
        let n = BigUint::from_bytes_be(params.order.as_bytes());
        let curve = Self {
            p,
            a,
            b,
            n,
            g: (BigUint::zero(), BigUint::zero()),
            field_len,
        };
        let g = curve.decode_point(params.base.as_bytes())?;
        Ok(Self { g, ..curve })
    }

    fn decode_point(&self, bytes: &[u8]) -> Result<(BigUint, BigUint), PkixError> {
        let invalid = PkixError::InvalidPublicKey {
            reason: "EC point is not an uncompressed point on the curve",
        };
        if bytes.len() != 1 + 2 * self.field_len || bytes.first() != Some(&0x04) {
            return Err(invalid);
        }
        let x = BigUint::from_bytes_be(&bytes[1..1 + self.field_len]);
        let y = BigUint::from_bytes_be(&bytes[1 + self.field_len..]);
        if x >= self.p || y >= self.p {
            return Err(invalid);
        }
        let lhs = (&y * &y) % &self.p;
        let rhs = (&x * &x % &self.p * &x + &self.a * &x + &self.b) % &self.p;
        if lhs != rhs {
            return Err(invalid);
        }
        Ok((x, y))
    }

    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        ((a % &self.p) + &self.p - (b % &self.p)) % &self.p
    }

    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a * b) % &self.p
    }

    fn double(&self, pt: &Jacobian) -> Jacobian {
        if pt.z.is_zero() || pt.y.is_zero() {
            return Jacobian {
                x: BigUint::one(),
                y: BigUint::one(),
                z: BigUint::zero(),
            };
        }
        let y2 = self.mul(&pt.y, &pt.y);
        let s = self.mul(&(BigUint::from(4u8) * &pt.x), &y2);
        let z2 = self.mul(&pt.z, &pt.z);
        let z4 = self.mul(&z2, &z2);
        let m = (BigUint::from(3u8) * self.mul(&pt.x, &pt.x) + self.mul(&self.a, &z4)) % &self.p;
        let x3 = self.sub(&self.mul(&m, &m), &(BigUint::from(2u8) * &s));
        let y4 = self.mul(&y2, &y2);
        let y3 = self.sub(
            &self.mul(&m, &self.sub(&s, &x3)),
            &(BigUint::from(8u8) * y4),
        );
        let z3 = self.mul(&(BigUint::from(2u8) * &pt.y), &pt.z);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn add(&self, p1: &Jacobian, p2: &Jacobian) -> Jacobian {
        if p1.z.is_zero() {
            return p2.clone();
        }
        if p2.z.is_zero() {
            return p1.clone();
        }
        let z1s = self.mul(&p1.z, &p1.z);
        let z2s = self.mul(&p2.z, &p2.z);
        let u1 = self.mul(&p1.x, &z2s);
        let u2 = self.mul(&p2.x, &z1s);
        let s1 = self.mul(&p1.y, &self.mul(&z2s, &p2.z));
        let s2 = self.mul(&p2.y, &self.mul(&z1s, &p1.z));
        if u1 == u2 {
            if s1 == s2 {
                return self.double(p1);
            }
            return Jacobian {
                x: BigUint::one(),
                y: BigUint::one(),
                z: BigUint::zero(),
            };
        }
        let h = self.sub(&u2, &u1);
        let r = self.sub(&s2, &s1);
        let h2 = self.mul(&h, &h);
        let h3 = self.mul(&h2, &h);
        let u1h2 = self.mul(&u1, &h2);
        let x3 = self.sub(
            &self.sub(&self.mul(&r, &r), &h3),
            &(BigUint::from(2u8) * &u1h2),
        );
        let y3 = self.sub(&self.mul(&r, &self.sub(&u1h2, &x3)), &self.mul(&s1, &h3));
        let z3 = self.mul(&h, &self.mul(&p1.z, &p2.z));
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    fn scalar_mul(&self, k: &BigUint, point: &(BigUint, BigUint)) -> Jacobian {
        let base = Jacobian {
            x: point.0.clone(),
            y: point.1.clone(),
            z: BigUint::one(),
        };
        let mut acc = Jacobian {
            x: BigUint::one(),
            y: BigUint::one(),
            z: BigUint::zero(),
        };
        for i in (0..k.bits()).rev() {
            acc = self.double(&acc);
            if k.bit(i) {
                acc = self.add(&acc, &base);
            }
        }
        acc
    }

    fn affine_x(&self, pt: &Jacobian) -> Option<BigUint> {
        if pt.z.is_zero() {
            return None;
        }
        let z_inv = pt.z.modpow(&(&self.p - BigUint::from(2u8)), &self.p);
        let z_inv2 = self.mul(&z_inv, &z_inv);
        Some(self.mul(&pt.x, &z_inv2))
    }

    /// Order length in bytes (the size of r and s in a plain signature).
    pub fn order_len(&self) -> usize {
        self.n.bits().div_ceil(8) as usize
    }
}

impl GenericPublicKey {
    /// The key `point` (SEC 1 uncompressed) on `curve`.
    pub fn new(curve: PrimeCurve, point: &[u8]) -> Result<Self, PkixError> {
        let q = curve.decode_point(point)?;
        Ok(Self { curve, q })
    }

    /// The curve.
    pub fn curve(&self) -> &PrimeCurve {
        &self.curve
    }

    /// Verify ECDSA (r, s) over `digest` (X9.62 §7.4.1; the digest is truncated to the order's
    /// bit length).
    pub fn verify_prehash(&self, digest: &[u8], r: &[u8], s: &[u8]) -> Result<(), PkixError> {
        let curve = &self.curve;
        let n = &curve.n;
        let r = BigUint::from_bytes_be(r);
        let s = BigUint::from_bytes_be(s);
        if r.is_zero() || s.is_zero() || &r >= n || &s >= n {
            return Err(PkixError::BadSignature);
        }
        let mut e = BigUint::from_bytes_be(digest);
        let digest_bits = (digest.len() * 8) as u64;
        if digest_bits > n.bits() {
            e >>= digest_bits - n.bits();
        }
        let w = s.modpow(&(n - BigUint::from(2u8)), n);
        let u1 = (&e * &w) % n;
        let u2 = (&r * &w) % n;
        let point = curve.add(
            &curve.scalar_mul(&u1, &curve.g),
            &curve.scalar_mul(&u2, &self.q),
        );
        match curve.affine_x(&point) {
            Some(x) if &x % n == r => Ok(()),
            _ => Err(PkixError::BadSignature),
        }
    }
}

/// Split a DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` into magnitudes.
pub fn split_der_signature(signature: &[u8]) -> Result<(Vec<u8>, Vec<u8>), PkixError> {
    #[derive(der::Sequence)]
    struct EcdsaSigValue {
        r: der::asn1::Uint,
        s: der::asn1::Uint,
    }
    let value = <EcdsaSigValue as der::Decode>::from_der(signature)
        .map_err(|_| PkixError::InvalidSignatureEncoding)?;
    Ok((value.r.as_bytes().to_vec(), value.s.as_bytes().to_vec()))
}
