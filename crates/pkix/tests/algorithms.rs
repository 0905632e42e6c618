//! Signature algorithms with software keys: named curves, explicit parameters, RSA PKCS#1 / PSS.

use p256::ecdsa::signature::{Keypair, Signer};
use spki::{AlgorithmIdentifierOwned, EncodePublicKey, SubjectPublicKeyInfoOwned};
use travdoc_pkix::der::{Any, Decode, Encode};
use travdoc_pkix::generic_ec::{GenericPublicKey, PrimeCurve};
use travdoc_pkix::key::SpecifiedEcDomain;
use travdoc_pkix::{
    HashAlgorithm, PkixError, SignatureAlgorithm, verify_prehash_ecdsa_raw, verify_signature,
};

const P256_EXPLICIT: &str = "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";

fn p256_key(seed: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("scalar")
}

fn spki_of(key: &p256::ecdsa::SigningKey) -> SubjectPublicKeyInfoOwned {
    let der = key.verifying_key().to_public_key_der().expect("spki");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki decode")
}

#[test]
fn p256_named_and_explicit_parameters_verify_the_same_signature() {
    let key = p256_key(7);
    let message = b"LDSSecurityObject";
    let signature: p256::ecdsa::DerSignature = key.sign(message);
    let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)
        .algorithm_identifier()
        .expect("alg");
    let named = spki_of(&key);
    verify_signature(&named, &alg, message, signature.as_bytes()).expect("named verifies");

    // Same key with explicit P-256 parameters: must map to P-256.
    let explicit_params = Any::from_der(&hex::decode(P256_EXPLICIT).expect("hex")).expect("any");
    let mut explicit = named.clone();
    explicit.algorithm.parameters = Some(explicit_params);
    verify_signature(&explicit, &alg, message, signature.as_bytes()).expect("explicit verifies");
    assert!(matches!(
        verify_signature(&explicit, &alg, b"other", signature.as_bytes()),
        Err(PkixError::BadSignature)
    ));

    // The generic prime-curve code agrees with p256 on both outcomes.
    let domain =
        SpecifiedEcDomain::from_der(&hex::decode(P256_EXPLICIT).expect("hex")).expect("domain");
    let curve = PrimeCurve::from_parameters(&domain).expect("curve");
    let point = key.verifying_key().to_sec1_point(false);
    let generic = GenericPublicKey::new(curve, point.as_bytes()).expect("point");
    let fixed: p256::ecdsa::Signature = key.sign(message);
    let bytes = fixed.to_bytes();
    let digest = HashAlgorithm::Sha256.digest(message);
    generic
        .verify_prehash(&digest, &bytes[..32], &bytes[32..])
        .expect("generic verifies");
    let other = HashAlgorithm::Sha256.digest(b"other");
    assert!(
        generic
            .verify_prehash(&other, &bytes[..32], &bytes[32..])
            .is_err()
    );
}

#[test]
fn raw_r_and_s_verify_for_seals() {
    let key = p256_key(9);
    let message = b"seal header and message";
    let fixed: p256::ecdsa::Signature = key.sign(message);
    let digest = HashAlgorithm::Sha256.digest(message);
    verify_prehash_ecdsa_raw(&spki_of(&key), &digest, &fixed.to_bytes()).expect("raw verifies");
    let mut bad = fixed.to_bytes().to_vec();
    bad[5] ^= 1;
    assert!(verify_prehash_ecdsa_raw(&spki_of(&key), &digest, &bad).is_err());
}

#[test]
fn rsa_pss_and_pkcs1_verify_and_parse_parameters() {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs1v15::SigningKey as Pkcs1SigningKey;
    use rsa::pss::SigningKey as PssSigningKey;
    use signature::SignatureEncoding;
    use spki::DynSignatureAlgorithmIdentifier;
    // A throwaway 2048-bit test key (generated with openssl for these tests only).
    let private =
        rsa::PrivateKey::from_pkcs1_der(include_bytes!("data/test-only-rsa2048.pkcs1.der"))
            .expect("rsa key");
    let spki_der = rsa::PublicKey::from(&private)
        .to_public_key_der()
        .expect("spki");
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).expect("decode");
    let message = b"signed attributes";

    let pss = PssSigningKey::<sha2::Sha256>::new(private.clone());
    let alg: AlgorithmIdentifierOwned = pss.signature_algorithm_identifier().expect("alg id");
    assert_eq!(
        SignatureAlgorithm::from_algorithm_identifier(&alg).expect("parse"),
        SignatureAlgorithm::RsaPss {
            hash: HashAlgorithm::Sha256,
            salt_len: 32
        }
    );
    let signature = pss.sign(message);
    verify_signature(&spki, &alg, message, &signature.to_vec()).expect("pss verifies");
    assert!(verify_signature(&spki, &alg, b"x", &signature.to_vec()).is_err());
    // Our own encoding of the PSS identifier parses back to the same algorithm.
    let ours = SignatureAlgorithm::RsaPss {
        hash: HashAlgorithm::Sha256,
        salt_len: 32,
    }
    .algorithm_identifier()
    .expect("encode");
    verify_signature(&spki, &ours, message, &signature.to_vec()).expect("pss verifies with our id");
    assert!(ours.to_der().is_ok());

    let pkcs1 = Pkcs1SigningKey::<sha2::Sha256>::new(private);
    let signature = pkcs1.sign(message);
    let alg = SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256)
        .algorithm_identifier()
        .expect("alg");
    verify_signature(&spki, &alg, message, &signature.to_vec()).expect("pkcs1 verifies");
    // PKCS#1 signature under a PSS identifier fails.
    assert!(verify_signature(&spki, &ours, message, &signature.to_vec()).is_err());
    let _ = pkcs1.verifying_key();
}

/// Keys whose cost the submitter would choose are refused before any arithmetic (issue 18):
/// explicit EC parameters of no known curve (a 4096-bit prime, or a 256-bit one that is not
/// P-256's), and an RSA modulus of 8192 bits.
#[test]
fn unknown_curves_and_huge_keys_are_refused_before_any_arithmetic() {
    let domain =
        SpecifiedEcDomain::from_der(&hex::decode(P256_EXPLICIT).expect("hex")).expect("domain");
    // A 4096-bit prime.
    let mut huge = domain.clone();
    let mut prime = vec![0xFFu8; 512];
    prime[511] = 0xC5;
    huge.field_id.parameters =
        Any::encode_from(&travdoc_pkix::der::asn1::Uint::new(&prime).expect("uint")).expect("any");
    let started = std::time::Instant::now();
    assert!(PrimeCurve::from_parameters(&huge).is_err());
    // A curve of the right size that is not a known one (b changed).
    let mut unknown = domain.clone();
    let mut b = unknown.curve.b.as_bytes().to_vec();
    b[31] ^= 1;
    unknown.curve.b = travdoc_pkix::der::asn1::OctetString::new(b).expect("b");
    assert!(PrimeCurve::from_parameters(&unknown).is_err());
    // P-256 itself is known.
    assert!(PrimeCurve::from_parameters(&domain).is_ok());

    // An 8192-bit RSA modulus: RSAPublicKey { modulus, publicExponent 65537 }.
    let mut modulus = vec![0xC3u8; 1024];
    modulus[1023] |= 1;
    let key = travdoc_pkix::der::asn1::Uint::new(&modulus).expect("modulus");
    let exponent = travdoc_pkix::der::asn1::Uint::new(&[1, 0, 1]).expect("exponent");
    let mut body = key.to_der().expect("der");
    body.extend(exponent.to_der().expect("der"));
    let mut rsa_public_key = vec![0x30, 0x82];
    rsa_public_key.extend(u16::try_from(body.len()).expect("len").to_be_bytes());
    rsa_public_key.extend(body);
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: travdoc_pkix::der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(Any::null()),
        },
        subject_public_key: travdoc_pkix::der::asn1::BitString::from_bytes(&rsa_public_key)
            .expect("bits"),
    };
    let refused = travdoc_pkix::key::PublicKey::from_spki(&spki);
    assert!(
        matches!(refused, Err(PkixError::InvalidPublicKey { reason }) if reason.contains("4096")),
        "{refused:?}"
    );
    eprintln!("refused in {:?}", started.elapsed());
}
