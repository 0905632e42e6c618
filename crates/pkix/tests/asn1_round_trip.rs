//! Byte-exact round trips of this crate's ASN.1 types against known encodings.

use travdoc_pkix::alg::RsaPssParameters;
use travdoc_pkix::der::{Decode, Encode};
use travdoc_pkix::key::{SpecifiedEcDomain, curve_from_explicit_parameters};
use travdoc_pkix::{Curve, DocumentTypeList, HashAlgorithm, SignatureAlgorithm};

#[test]
fn document_type_list_matches_the_field_encoding() {
    // Seen in the Australian VDS-NC bar-code signer: version 0, {"NV"}.
    let known = hex::decode("300902010031041302 4e56".replace(' ', "")).expect("hex");
    let list = DocumentTypeList::from_der(&known).expect("decode");
    assert_eq!(list.codes(), vec!["NV".to_string()]);
    assert_eq!(list.to_der().expect("encode"), known);
    assert_eq!(DocumentTypeList::new(&["NV"]).expect("new"), list);
    assert!(DocumentTypeList::new(&["PPP"]).is_err());
    let passports = DocumentTypeList::new(&["P"]).expect("P");
    assert!(passports.covers("P<") && passports.covers("PP") && !passports.covers("V<"));
    assert!(!DocumentTypeList::new(&["PP"]).expect("PP").covers("P<"));
}

#[test]
fn explicit_ec_parameters_round_trip_and_map_to_named_curves() {
    let p256 = "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";
    let bp256 = "3081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7020101";
    for (encoding, curve) in [(p256, Curve::P256), (bp256, Curve::BrainpoolP256r1)] {
        let der = hex::decode(encoding).expect("hex");
        let params = SpecifiedEcDomain::from_der(&der).expect("decode");
        assert_eq!(params.to_der().expect("encode"), der);
        assert_eq!(
            curve_from_explicit_parameters(&params).expect("curve"),
            curve
        );
    }
    // brainpoolP256t1 has the same prime and order but another a/b: not mapped to r1.
    let mut twisted =
        SpecifiedEcDomain::from_der(&hex::decode(bp256).expect("hex")).expect("decode");
    twisted.curve.a = travdoc_pkix::der::asn1::OctetString::new(
        hex::decode("a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5374")
            .expect("hex"),
    )
    .expect("a");
    assert!(curve_from_explicit_parameters(&twisted).is_err());
}

#[test]
fn rsassa_pss_parameters_round_trip_from_the_bsi_sod() {
    // RSASSA-PSS-params of the BSI TR-03105-5 SOD: SHA-256, MGF1-SHA-256, salt 32.
    let known = hex::decode(concat!(
        "3034",
        "a00f300d06096086480165030402010500",
        "a11c301a06092a864886f70d010108300d06096086480165030402010500",
        "a203020120"
    ))
    .expect("hex");
    let params = RsaPssParameters::from_der(&known).expect("decode");
    assert_eq!(params.salt_length, Some(32));
    assert_eq!(params.to_der().expect("encode"), known);
    let ours = SignatureAlgorithm::RsaPss {
        hash: HashAlgorithm::Sha256,
        salt_len: 32,
    }
    .algorithm_identifier()
    .expect("alg");
    let ours_params = ours.parameters.expect("params").to_der().expect("der");
    assert_eq!(ours_params, known, "we emit the same full parameters");
}
