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

/// The explicit ECParameters (DER, as `openssl ecparam -param_enc explicit` writes them) of
/// the curves an explicit-parameter key may use (ICAO 9303-11/12): P-256, P-384, P-521 and
/// brainpoolP256r1/P320r1/P384r1/P512r1, and the 224-bit curves (secp224r1, brainpoolP224r1)
/// of documents issued around 2008 that are still in circulation. The four with a native implementation are recognised
/// before this module is reached ([`crate::key::curve_from_explicit_parameters`]).
const KNOWN_EXPLICIT: [(&str, &str); 9] = [
    (
        "secp224r1",
        "3081df020101302806072a8648ce3d0101021d00ffffffffffffffffffffffffffffffff0000000000000000000000013053041cfffffffffffffffffffffffffffffffefffffffffffffffffffffffe041cb4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4031500bd71344799d5c7fcdc45b59fa3b9ab8f6a948bc5043904b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34021d00ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d020101",
    ),
    (
        "brainpoolP224r1",
        "3081c8020101302806072a8648ce3d0101021d00d7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0ff303c041c68a5e62ca9ce6c1c299803a6c1530b514e182ad8b0042a59cad29f43041c2580f63ccfe44138870713b1a92369e33e2135d266dbb372386c400b0439040d9029ad2c7e5cf4340823b2a87dc68c9e4ce3174c1e6efdee12c07d58aa56f772c0726f24c6b89e4ecdac24354b9e99caa3f6d3761402cd021d00d7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939f020101",
    ),
    (
        "prime256v1",
        "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101",
    ),
    (
        "secp384r1",
        "30820157020101303c06072a8648ce3d0101023100fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff307b0430fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc0430b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef031500a335926aa319a27a1d00896a6773a4827acdac73046104aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f023100ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973020101",
    ),
    (
        "brainpoolP256r1",
        "3081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7020101",
    ),
    (
        "brainpoolP384r1",
        "30820140020101303c06072a8648ce3d01010231008cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53306404307bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826043004a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c110461041d1c64f068cf45ffa2a63a81b7c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8e826e03436d646aaef87b2e247d4af1e8abe1d7520f9c2a45cb1eb8e95cfd55262b70b29feec5864e19c054ff99129280e4646217791811142820341263c53150231008cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565020101",
    ),
    (
        "secp521r1",
        "308201c3020101304d06072a8648ce3d0101024201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff30819f044201fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc04420051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00031500d09e8800291cb85396cc6717393284aaa0da64ba0481850400c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650024201fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409020101",
    ),
    (
        "brainpoolP320r1",
        "30820110020101303406072a8648ce3d0101022900d35e472036bc4fb7e13c785ed201e065f98fcfa6f6f40def4f92b9ec7893ec28fcd412b1f1b32e27305404283ee30b568fbab0f883ccebd46d3f3bb8a2a73513f5eb79da66190eb085ffa9f492f375a97d860eb40428520883949dfdbc42d3ad198640688a6fe13f41349554b49acc31dccd884539816f5eb4ac8fb1f1a604510443bd7e9afb53d8b85289bcc48ee5bfe6f20137d10a087eb6e7871e2a10a599c710af8d0d39e2061114fdd05545ec1cc8ab4093247f77275e0743ffed117182eaa9c77877aaac6ac7d35245d1692e8ee1022900d35e472036bc4fb7e13c785ed201e065f98fcfa5b68f12a32d482ec7ee8658e98691555b44c59311020101",
    ),
    (
        "brainpoolP512r1",
        "308201a2020101304c06072a8648ce3d0101024100aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f330818404407830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca04403df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f7230481810481aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098eff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f8227dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892024100aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069020101",
    ),
];

/// Bytes of an even-length lower-case hex text.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16);
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
            _ => None,
        })
        .collect()
}

impl PrimeCurve {
    /// Build from explicit parameters, only when they are those of a known curve
    /// ([`KNOWN_EXPLICIT`]): a submitter never chooses
    /// the size of the arithmetic.
    pub fn from_parameters(params: &SpecifiedEcDomain) -> Result<Self, PkixError> {
        let curve = Self::from_any_parameters(params)?;
        for (name, hex_der) in KNOWN_EXPLICIT {
            let Some(bytes) = from_hex(hex_der) else {
                continue;
            };
            let Ok(known) = <SpecifiedEcDomain as der::Decode>::from_der(&bytes) else {
                continue;
            };
            let Ok(known) = Self::from_any_parameters(&known) else {
                continue;
            };
            if known.p == curve.p
                && known.a == curve.a
                && known.b == curve.b
                && known.n == curve.n
                && known.g == curve.g
            {
                debug_assert!(!name.is_empty());
                return Ok(curve);
            }
        }
        Err(PkixError::UnsupportedCurve {
            oid: "explicit parameters of no known curve (P-224/256/384/521, \
                  brainpoolP224/256/320/384/512r1)"
                .into(),
        })
    }

    /// Build from explicit parameters (prime field, cofactor absent or 1), whatever the curve;
    /// the prime at most 521 bits.
    fn from_any_parameters(params: &SpecifiedEcDomain) -> Result<Self, PkixError> {
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
        if p.bits() > 521 {
            return Err(PkixError::UnsupportedCurve {
                oid: "explicit prime above 521 bits".into(),
            });
        }
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
