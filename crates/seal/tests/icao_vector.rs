//! The ICAO 9303-8 Appendix B ETD seal and its brainpoolP256r1 signer certificate.

use travdoc_pkix::TrustStore;
use travdoc_pkix::der::Decode;
use travdoc_pkix::x509_cert::Certificate;
use travdoc_seal::verify::{Presented, Status, SubIndication, Verifier};
use travdoc_seal::{HeaderVersion, Seal, SealDate, etd};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/vds");
/// 2026-06-13T00:00:00Z, the seal's issue date.
const AT: u64 = 1_781_308_800;

fn seal_bytes() -> Vec<u8> {
    let text = std::fs::read_to_string(format!("{VECTORS}/etd_icao_9303_part8_appB.hex"))
        .expect("vector file");
    hex::decode(text.trim()).expect("hex")
}

fn certificate() -> Certificate {
    let der = std::fs::read(format!("{VECTORS}/sealgen_UTTS5B.crt")).expect("certificate file");
    Certificate::from_der(&der).expect("certificate")
}

/// The test certificate is self-signed: it is its own CSCA (a trust anchor).
fn trust_store(certificate: &Certificate) -> TrustStore {
    let mut store = TrustStore::new();
    store.add_csca(certificate.clone());
    store
}

const LINE1: &str = "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<";
const LINE2: &str = "D231458907UTO7408122F2606277<<<<<<<8";

#[test]
fn decodes_to_the_published_fields() {
    let bytes = seal_bytes();
    assert_eq!(bytes.len(), 134);
    let seal = Seal::decode(&bytes).expect("decodes");
    let header = seal.header();
    assert_eq!(header.version(), HeaderVersion::V4);
    assert_eq!(header.issuing_country(), "UTO");
    assert_eq!(header.signer().signer_identifier(), "UTTS");
    assert_eq!(header.signer().certificate_reference(), "5B");
    assert_eq!(header.signer().serial_number(), Some(vec![0x5B]));
    assert_eq!(
        header.issue_date(),
        SealDate::from_ymd(2026, 6, 13).unwrap()
    );
    assert_eq!(
        header.signature_date(),
        SealDate::from_ymd(2023, 8, 23).unwrap()
    );
    assert_eq!(header.feature_definition_reference(), 0x5E);
    assert_eq!(header.document_type_category(), 0x03);
    assert_eq!(seal.features().len(), 1);
    assert_eq!(seal.features()[0].tag(), 0x02);
    assert_eq!(seal.features()[0].value().len(), 48);
    assert_eq!(seal.signature().len(), 64);
    let mrz = etd::mrz(&seal).expect("ETD profile");
    assert_eq!(mrz.lines(), [LINE1, LINE2]);
    assert_eq!(seal.signed_data().unwrap(), bytes[..68]);
}

#[test]
fn re_encodes_byte_for_byte() {
    let bytes = seal_bytes();
    let seal = Seal::decode(&bytes).expect("decodes");
    assert_eq!(seal.to_bytes().unwrap(), bytes);
    // Building the same seal from its parts gives the same signed bytes.
    let rebuilt = etd::builder(seal.header().clone(), &etd::mrz(&seal).unwrap()).unwrap();
    assert_eq!(rebuilt.to_be_signed().unwrap(), bytes[..68]);
}

#[test]
fn verifies_with_the_brainpool_certificate() {
    let certificate = certificate();
    let store = trust_store(&certificate);
    let certificates = [certificate];
    let verifier = Verifier::new(&certificates, &store, AT);
    let result = verifier.verify(&seal_bytes(), Presented::PrintedMrz([LINE1, LINE2]));
    assert_eq!(result.status, Status::Valid, "{:#?}", result.reasons);
    assert!(result.reasons.is_empty(), "{:#?}", result.reasons);
    let data = result.data.expect("data");
    assert_eq!(data.profile, "etd");
    assert_eq!(data.mrz, Some([LINE1.to_owned(), LINE2.to_owned()]));

    // The same seal read against a printed MRZ with spaces for fillers still matches.
    let spaced = [LINE1.replace('<', " "), LINE2.replace('<', " ")];
    let result = verifier.verify(
        &seal_bytes(),
        Presented::PrintedMrz([&spaced[0], &spaced[1]]),
    );
    assert_eq!(result.status, Status::Valid, "{:#?}", result.reasons);
}

#[test]
fn printed_mrz_that_differs_is_a_mismatch() {
    let certificate = certificate();
    let store = trust_store(&certificate);
    let certificates = [certificate];
    let verifier = Verifier::new(&certificates, &store, AT);
    // Another given name: TD2 names carry no check digit, so the printed MRZ itself is valid.
    let printed1 = "PUUTOERIKSSON<<ANNE<MARIA<<<<<<<<<<<";
    let result = verifier.verify(&seal_bytes(), Presented::PrintedMrz([printed1, LINE2]));
    assert_eq!(result.status, Status::Invalid);
    assert_eq!(
        result.codes(),
        [SubIndication::SealDocumentMismatch],
        "{:#?}",
        result.reasons
    );
    assert!(
        result.reasons[0].message.contains("line 1 position 19"),
        "{}",
        result.reasons[0].message
    );
}

#[test]
fn expired_or_untrusted_certificate() {
    let certificate = certificate();
    let certificates = [certificate.clone()];
    // 2031: after notAfter (2030-06-10).
    let store = trust_store(&certificate);
    let result = Verifier::new(&certificates, &store, 1_924_992_000)
        .verify(&seal_bytes(), Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::ExpiredCertificate]);
    // Not in the trust store: the signature is fine, the certificate is not trusted.
    let empty = TrustStore::new();
    let result = Verifier::new(&certificates, &empty, AT).verify(&seal_bytes(), Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::UntrustedCertificate]);
    // No signer certificates at all.
    let result = Verifier::new(&[], &store, AT).verify(&seal_bytes(), Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::UnknownCertificate]);
}

#[test]
fn result_serialises_to_json() {
    let certificate = certificate();
    let store = trust_store(&certificate);
    let certificates = [certificate];
    let result = Verifier::new(&certificates, &store, AT).verify(&seal_bytes(), Presented::Nothing);
    let json = serde_json::to_value(&result).expect("json");
    assert_eq!(json["status"], "VALID");
    assert_eq!(json["reasons"], serde_json::json!([]));
    assert_eq!(json["data"]["header"]["issuing_country"], "UTO");
    assert_eq!(json["data"]["header"]["signer_identifier"], "UTTS");
    assert_eq!(json["data"]["header"]["issue_date"], "2026-06-13");
    assert_eq!(json["data"]["features"][0]["tag"], 2);
    assert_eq!(json["data"]["mrz"][0], LINE1);
}
