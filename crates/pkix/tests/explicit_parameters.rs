//! Writing explicit EC domain parameters (ICAO 9303-12) and reading them back.

use p256::ecdsa::signature::Signer;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use travdoc_pkix::der::asn1::{OctetString, Uint};
use travdoc_pkix::der::{Decode, Encode, Tag, Tagged};
use travdoc_pkix::key::{
    EcDomain, EcParameterEncoding, SpecifiedEcDomain, curve_from_explicit_parameters, ec_domain,
    encode_ec_parameters,
};
use travdoc_pkix::{
    Curve, HashAlgorithm, PkixError, PublicKey, SignatureAlgorithm, verify_signature,
};

/// X9.62 explicit P-256 parameters as found in real certificates (with the SEC 2 seed).
const P256_EXPLICIT_WITH_SEED: &str = "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";
/// Explicit brainpoolP256r1 parameters (RFC 5639 has no seed in the encoding).
const BP256_EXPLICIT: &str = "3081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7020101";

#[test]
fn written_parameters_equal_known_encodings() {
    let bp256 = hex::decode(BP256_EXPLICIT).expect("hex");
    let ours = Curve::BrainpoolP256r1
        .explicit_parameters()
        .expect("bp256 parameters");
    assert_eq!(ours.to_der().expect("encode"), bp256);

    // The known P-256 encoding carries the optional seed, which we omit.
    let mut known =
        SpecifiedEcDomain::from_der(&hex::decode(P256_EXPLICIT_WITH_SEED).expect("hex"))
            .expect("decode");
    assert!(known.curve.seed.is_some());
    known.curve.seed = None;
    let ours = Curve::P256.explicit_parameters().expect("p256 parameters");
    assert_eq!(ours, known);
    assert_eq!(
        ours.to_der().expect("encode"),
        known.to_der().expect("encode")
    );
}

#[test]
fn every_curve_round_trips_and_keeps_cofactor_and_uncompressed_base() {
    for curve in Curve::ALL {
        let params = curve.explicit_parameters().expect("parameters");
        let der = params.to_der().expect("encode");
        let decoded = SpecifiedEcDomain::from_der(&der).expect("decode");
        assert_eq!(decoded, params);
        assert_eq!(
            curve_from_explicit_parameters(&decoded).expect("map"),
            curve
        );
        assert_eq!(decoded.version.as_bytes(), [1]);
        assert_eq!(
            decoded.cofactor.as_ref().map(Uint::as_bytes),
            Some(&[1u8][..])
        );
        let base = decoded.base.as_bytes();
        assert_eq!(base.len(), 1 + 2 * curve.field_len(), "{curve:?}");
        assert_eq!(base[0], 0x04, "{curve:?}");
        assert_eq!(decoded.curve.a.as_bytes().len(), curve.field_len());
        assert_eq!(decoded.curve.b.as_bytes().len(), curve.field_len());
        assert!(decoded.curve.seed.is_none());
    }
}

#[test]
fn other_generator_or_cofactor_is_not_the_named_curve() {
    let mut params = Curve::P256.explicit_parameters().expect("parameters");
    params.cofactor = Some(Uint::new(&[4]).expect("uint"));
    assert!(curve_from_explicit_parameters(&params).is_err());

    // 2G instead of G: same curve equation, another base point.
    let two_g = p256::ProjectivePoint::GENERATOR + p256::ProjectivePoint::GENERATOR;
    let encoded = p256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(
        &p256::elliptic_curve::group::Curve::to_affine(&two_g),
        false,
    );
    let mut params = Curve::P256.explicit_parameters().expect("parameters");
    params.base = OctetString::new(encoded.as_bytes()).expect("octets");
    assert!(curve_from_explicit_parameters(&params).is_err());

    // The compressed form of the real G is accepted (X9.62 allows it).
    let mut params = Curve::P256.explicit_parameters().expect("parameters");
    let uncompressed = params.base.as_bytes().to_vec();
    let y_odd = uncompressed.last().expect("y") & 1 == 1;
    let mut compressed = vec![if y_odd { 0x03 } else { 0x02 }];
    compressed.extend_from_slice(&uncompressed[1..33]);
    params.base = OctetString::new(compressed.clone()).expect("octets");
    assert_eq!(
        curve_from_explicit_parameters(&params).expect("compressed G"),
        Curve::P256
    );
    compressed[0] ^= 0x01;
    params.base = OctetString::new(compressed).expect("octets");
    assert!(curve_from_explicit_parameters(&params).is_err());
}

fn p256_spki(key: &p256::ecdsa::SigningKey) -> SubjectPublicKeyInfoOwned {
    let der = key.verifying_key().to_public_key_der().expect("spki");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("decode")
}

#[test]
fn spki_re_encoding_keeps_the_key_and_verifies() {
    let key = p256::ecdsa::SigningKey::from_slice(&[9; 32]).expect("scalar");
    let named = p256_spki(&key);
    let explicit = encode_ec_parameters(&named, EcParameterEncoding::Explicit).expect("explicit");
    let parameters = explicit.algorithm.parameters.as_ref().expect("parameters");
    assert_eq!(parameters.tag(), Tag::Sequence);
    assert_eq!(
        explicit.subject_public_key, named.subject_public_key,
        "the key bits (and so the SKI) do not change"
    );
    assert!(matches!(
        ec_domain(&explicit).expect("domain"),
        EcDomain::Named(Curve::P256)
    ));
    let message = b"CscaMasterList";
    let signature: p256::ecdsa::DerSignature = key.sign(message);
    let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)
        .algorithm_identifier()
        .expect("alg");
    verify_signature(&explicit, &alg, message, signature.as_bytes()).expect("verifies");
    assert!(verify_signature(&explicit, &alg, b"other", signature.as_bytes()).is_err());

    let back = encode_ec_parameters(&explicit, EcParameterEncoding::Named).expect("named");
    assert_eq!(back, named);
    assert_eq!(
        encode_ec_parameters(&named, EcParameterEncoding::Named).expect("named"),
        named
    );

    // brainpoolP384r1 too.
    let bp_key = ecdsa::SigningKey::<bp384::BrainpoolP384r1>::from_slice(&[5; 48]).expect("key");
    let der = bp_key.verifying_key().to_public_key_der().expect("spki");
    let bp_named = SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("decode");
    let bp_explicit =
        encode_ec_parameters(&bp_named, EcParameterEncoding::Explicit).expect("explicit");
    assert!(matches!(
        ec_domain(&bp_explicit).expect("domain"),
        EcDomain::Named(Curve::BrainpoolP384r1)
    ));
    match (
        PublicKey::from_spki(&bp_explicit).expect("explicit key"),
        PublicKey::from_spki(&bp_named).expect("named key"),
    ) {
        (PublicKey::BrainpoolP384r1(explicit), PublicKey::BrainpoolP384r1(named)) => {
            assert_eq!(explicit, named)
        }
        other => panic!("expected brainpoolP384r1 keys, got {other:?}"),
    }
}

#[test]
fn compressed_points_and_bad_names_are_refused() {
    let key = p256::ecdsa::SigningKey::from_slice(&[3; 32]).expect("scalar");
    let mut compressed = p256_spki(&key);
    let point = key.verifying_key().to_sec1_point(true);
    compressed.subject_public_key =
        spki::der::asn1::BitString::from_bytes(point.as_bytes()).expect("bits");
    assert!(matches!(
        encode_ec_parameters(&compressed, EcParameterEncoding::Explicit),
        Err(PkixError::InvalidPublicKey { .. })
    ));
    assert_eq!(
        "explicit".parse::<EcParameterEncoding>().ok(),
        Some(EcParameterEncoding::Explicit)
    );
    assert_eq!(
        "named".parse::<EcParameterEncoding>().ok(),
        Some(EcParameterEncoding::Named)
    );
    match "namedCurve".parse::<EcParameterEncoding>() {
        Err(error @ PkixError::UnknownEcParameterEncoding { .. }) => {
            assert!(error.to_string().contains("namedCurve"), "{error}")
        }
        other => panic!("expected an unknown encoding error, got {other:?}"),
    }
}
