//! Known-answer tests against real CSCA certificates from `shared/vectors/certs`.

use travdoc_pkix::cert::{ValidityStatus, validity_at, verify_issued_by};
use travdoc_pkix::der::{Decode, Tagged};
use travdoc_pkix::key::{EcDomain, ec_domain};
use travdoc_pkix::x509_cert::Certificate;
use travdoc_pkix::{ChainError, PkixError, TrustStore};

fn load(name: &str) -> Certificate {
    let path = format!(
        "{}/../../../shared/vectors/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Certificate::from_der(&bytes).unwrap_or_else(|e| panic!("decode {path}: {e}"))
}

// 2030-01-01T00:00:00Z
const IN_2030: u64 = 1_893_456_000;
// 2025-01-01T00:00:00Z
const IN_2025: u64 = 1_735_689_600;

#[test]
fn indonesian_link_certificate_is_issued_by_2016_csca() {
    let link = load("ID_CSCA_2020-10_LINK.cer");
    let old = load("ID_CSCA_2016-01.cer");
    verify_issued_by(&link, &old).expect("link cert verifies under the 2016 CSCA");
    // The new self-signed 2020 CSCA did not issue the link certificate.
    let new = load("ID_CSCA_2020-10.cer");
    assert!(verify_issued_by(&link, &new).is_err());
    verify_issued_by(&new, &new).expect("2020 CSCA is self-signed");
}

#[test]
fn dutch_csca_is_self_signed() {
    let nl = load("NL_CSCA_7.cer");
    verify_issued_by(&nl, &nl).expect("NL CSCA self-signed");
    assert_eq!(validity_at(&nl, IN_2030), ValidityStatus::Valid);
}

#[test]
fn german_csca_with_explicit_parameters_is_self_signed() {
    let de = load("DE_csca-germany_CSCA07.cer");
    let spki = de.tbs_certificate().subject_public_key_info();
    let params = spki.algorithm.parameters.as_ref().expect("EC parameters");
    // Explicit parameters (a SEQUENCE), not a named-curve OID.
    assert_eq!(params.tag(), travdoc_pkix::der::Tag::Sequence);
    // brainpoolP512r1 given explicitly: no RustCrypto crate, so the generic prime-curve path.
    match ec_domain(spki).expect("domain") {
        EcDomain::Named(curve) => panic!("unexpected named curve {curve:?}"),
        EcDomain::Explicit(params) => {
            let prime = params.field_id.parameters.value();
            assert_eq!(prime.len(), 65, "512-bit prime with a leading zero");
        }
    }
    verify_issued_by(&de, &de).expect("DE CSCA self-signed");
}

#[test]
fn tampered_certificate_fails() {
    let path = format!(
        "{}/../../../shared/vectors/certs/NL_CSCA_7.cer",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut bytes = std::fs::read(path).expect("read");
    // Flip a byte inside the subject public key near the end of the TBS (signature stays).
    let len = bytes.len();
    bytes[len - 150] ^= 0x01;
    // A decode failure would also be a rejection; when it decodes, the signature must fail.
    if let Ok(cert) = Certificate::from_der(&bytes) {
        let original = load("NL_CSCA_7.cer");
        assert!(verify_issued_by(&cert, &original).is_err());
    }
}

#[test]
fn trust_store_chain_errors_are_distinct() {
    let link = load("ID_CSCA_2020-10_LINK.cer");
    let mut store = TrustStore::new();
    assert_eq!(store.chain(&link, IN_2025), Err(ChainError::UnknownIssuer));

    store.add_csca(load("ID_CSCA_2016-01.cer"));
    let issuer = store.chain(&link, IN_2025).expect("link chains in 2025");
    assert_eq!(issuer, &load("ID_CSCA_2016-01.cer"));

    // Time injection: before notBefore and long after notAfter.
    assert!(matches!(
        store.chain(&link, 0),
        Err(ChainError::NotYetValid { .. })
    ));
    assert!(matches!(
        store.chain(&link, 4_102_444_800 * 2),
        Err(ChainError::Expired { .. })
    ));
}

#[test]
fn wrong_key_with_right_name_is_bad_signature() {
    // A store holding a certificate with the 2016 CSCA's subject name but another key.
    // The 2020 self-signed CSCA has a different subject, so build the case from the link cert:
    // the link cert's subject equals the 2020 CSCA's subject; the 2020 CSCA is self-signed, so
    // verifying the 2020 CSCA against a store holding only the link cert finds the name but the
    // link cert's key is the 2020 key, so it verifies. Instead, check a name match with a wrong key
    // by verifying the link certificate against the 2020 CSCA.
    let link = load("ID_CSCA_2020-10_LINK.cer");
    let new = load("ID_CSCA_2020-10.cer");
    let result = verify_issued_by(&link, &new);
    assert!(matches!(
        result,
        Err(PkixError::IssuerNameMismatch
            | PkixError::KeyIdentifierMismatch
            | PkixError::BadSignature)
    ));
}

#[test]
fn master_list_round_trips_and_loads_into_the_trust_store() {
    use travdoc_pkix::der::{Any, Encode, Tag, asn1::SetOfVec};
    use travdoc_pkix::trust::CscaMasterList;
    let list = CscaMasterList {
        version: 0,
        cert_list: vec![
            load("NL_CSCA_7.cer"),
            load("ID_CSCA_2016-01.cer"),
            load("DE_csca-germany_CSCA07.cer"),
        ],
    };
    let der = list.to_der().expect("encode");
    let decoded = CscaMasterList::from_der(&der).expect("decode");
    assert_eq!(decoded, list, "order kept");
    assert_eq!(decoded.to_der().expect("re-encode"), der);

    // Wrap in ContentInfo / SignedData (unsigned: the store does not check ML signatures).
    let signed_data = cms::signed_data::SignedData {
        version: cms::content_info::CmsVersion::V3,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: cms::signed_data::EncapsulatedContentInfo {
            econtent_type: travdoc_pkix::alg::oids::CSCA_MASTER_LIST,
            econtent: Some(Any::new(Tag::OctetString, der).expect("octets")),
        },
        certificates: None,
        crls: None,
        signer_infos: cms::signed_data::SignerInfos(SetOfVec::new()),
    };
    let content_info = cms::content_info::ContentInfo {
        content_type: travdoc_pkix::alg::oids::SIGNED_DATA,
        content: Any::encode_from(&signed_data).expect("any"),
    };
    let mut store = TrustStore::new();
    assert_eq!(
        store
            .add_master_list(&content_info.to_der().expect("der"))
            .expect("ml"),
        3
    );
    assert!(
        store
            .chain(&load("ID_CSCA_2020-10_LINK.cer"), IN_2025)
            .is_ok()
    );
}
