//! travdoc's own ETD and legalization seals, signed with software keys on every supported curve.

mod common;

use common::{AT_2026_06_13, SignerSpec, TestKey, TestPki};
use sha2::Digest;
use travdoc_pkix::x509_cert::Certificate;
use travdoc_seal::etd::{self, EtdMrz};
use travdoc_seal::legalization::{self, Legalization, LegalizationFields};
use travdoc_seal::verify::{Presented, Status, SubIndication, Verifier};
use travdoc_seal::{Curve, Seal, SealDate, SignerReference, qr_payload};

const CURVES: [Curve; 3] = [Curve::P256, Curve::BrainpoolP256r1, Curve::P384];
const LINE1: &str = "PULKAPERERA<<KAMALA<NIROSHA<<<<<<<<<";
const LINE2: &str = "N123456785LKA9001011F2612317<<<<<<<0";
const DOCUMENT: &[u8] = b"%PDF-1.7 birth certificate of K. N. Perera";

fn date(text: &str) -> SealDate {
    text.parse().expect("date")
}

fn etd_mrz() -> EtdMrz {
    EtdMrz::new(LINE1, LINE2).expect("mrz")
}

fn signer_reference(common_name: &str, serial: &[u8]) -> SignerReference {
    SignerReference::from_serial(&format!("LK{common_name}"), serial).expect("signer reference")
}

fn etd_seal(key: &TestKey, serial: &[u8], mrz: &EtdMrz) -> Seal {
    let header = etd::header(
        "LKA",
        signer_reference("ET", serial),
        date("2026-06-01"),
        date("2026-06-01"),
    )
    .unwrap();
    etd::builder(header, mrz)
        .unwrap()
        .sign(key)
        .expect("signed")
}

fn legalization_fields() -> LegalizationFields {
    LegalizationFields {
        certificate_number: "LG2026X7Q4M9".into(),
        issue_date: date("2026-06-02"),
        document_sha256: sha2::Sha256::digest(DOCUMENT).into(),
        document_type: "Birth certificate".into(),
        signatory: Some("ජයසිංහ / Jayasinghe".into()),
        capacity: Some("Additional District Registrar".into()),
        authority: "Consular Affairs Division, Ministry of Foreign Affairs, Colombo".into(),
        place: Some("Colombo".into()),
        country_of_use: Some("ARE".into()),
        seal_of: None,
    }
}

fn legalization_seal(key: &TestKey, serial: &[u8]) -> Seal {
    let legalization = Legalization::new(legalization_fields()).unwrap();
    let header = legalization::header(
        "LKA",
        signer_reference("LG", serial),
        &legalization,
        date("2026-06-02"),
    )
    .unwrap();
    legalization::builder(header, &legalization)
        .unwrap()
        .sign(key)
        .expect("signed")
}

struct Setup {
    pki: TestPki,
    key: TestKey,
    certificates: Vec<Certificate>,
}

fn setup(curve: Curve, common_name: &str, serial: &[u8], document_types: Option<&[&str]>) -> Setup {
    let pki = TestPki::new("own");
    let key = TestKey::new(curve, &format!("{common_name} {curve:?}"));
    let mut spec = SignerSpec::new(common_name, serial);
    spec.document_types = document_types;
    let certificate = pki.signer_certificate(&key, &spec);
    // A second signer certificate with another serial, to exercise the lookup.
    let other_key = TestKey::new(curve, "other");
    let other = pki.signer_certificate(&other_key, &SignerSpec::new(common_name, &[0x7F]));
    Setup {
        pki,
        key,
        certificates: vec![other, certificate],
    }
}

#[test]
fn etd_seals_verify_on_every_curve() {
    for curve in CURVES {
        let setup = setup(curve, "ET", &[0x01, 0x2C], Some(&["PU"]));
        let seal = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz());
        assert_eq!(seal.signature().len(), curve.signature_len());
        let bytes = seal.to_bytes().unwrap();
        assert_eq!(Seal::decode(&bytes).unwrap(), seal);
        let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
        let result = verifier.verify(&bytes, Presented::PrintedMrz([LINE1, LINE2]));
        assert_eq!(
            result.status,
            Status::Valid,
            "{curve:?}: {:#?}",
            result.reasons
        );
        assert!(
            result.reasons.is_empty(),
            "{curve:?}: {:#?}",
            result.reasons
        );
    }
}

#[test]
fn legalization_seals_verify_on_every_curve() {
    for curve in CURVES {
        let setup = setup(curve, "LG", &[0x42], None);
        let seal = legalization_seal(&setup.key, &[0x42]);
        let bytes = seal.to_bytes().unwrap();
        let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
        let result = verifier.verify(&bytes, Presented::DocumentFile(DOCUMENT));
        assert_eq!(
            result.status,
            Status::Valid,
            "{curve:?}: {:#?}",
            result.reasons
        );
        let data = result.data.expect("data");
        let legalization = data.legalization.expect("legalization fields");
        assert_eq!(
            legalization,
            Legalization::new(legalization_fields()).unwrap()
        );
        // Through the QR text as well.
        let text = qr_payload(&bytes, "https://verify.immigration.gov.lk/l").unwrap();
        let result = verifier.verify_qr(
            &text,
            Presented::DocumentSha256(sha2::Sha256::digest(DOCUMENT).into()),
        );
        assert_eq!(
            result.status,
            Status::Valid,
            "{curve:?}: {:#?}",
            result.reasons
        );
    }
}

#[test]
fn legalization_against_another_document_fails_with_a_clear_reason() {
    let setup = setup(Curve::P256, "LG", &[0x42], None);
    let bytes = legalization_seal(&setup.key, &[0x42]).to_bytes().unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    let result = verifier.verify(
        &bytes,
        Presented::DocumentFile(b"%PDF-1.7 a different file"),
    );
    assert_eq!(result.status, Status::Invalid);
    assert_eq!(result.codes(), [SubIndication::DocumentHashMismatch]);
    let message = &result.reasons[0].message;
    assert!(
        message.contains(&hex::encode(sha2::Sha256::digest(DOCUMENT))),
        "{message}"
    );
    assert!(message.contains("LG2026X7Q4M9"), "{message}");
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["status"], "INVALID");
    assert_eq!(json["reasons"][0]["code"], "DOCUMENT_HASH_MISMATCH");
    assert_eq!(
        json["data"]["legalization"]["certificate_number"],
        "LG2026X7Q4M9"
    );
}

#[test]
fn seal_mrz_differing_from_the_printed_mrz_is_a_mismatch() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz())
        .to_bytes()
        .unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    let printed = "PULKAPERERA<<KAMALI<NIROSHA<<<<<<<<<";
    let result = verifier.verify(&bytes, Presented::PrintedMrz([printed, LINE2]));
    assert_eq!(result.codes(), [SubIndication::SealDocumentMismatch]);
}

#[test]
fn seal_mrz_with_a_wrong_check_digit_is_invalid_seal_mrz() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let wrong = "N123456786LKA9001011F2612317<<<<<<<0";
    let mrz = EtdMrz::new(LINE1, wrong).unwrap();
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &mrz)
        .to_bytes()
        .unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    let result = verifier.verify(&bytes, Presented::PrintedMrz([LINE1, wrong]));
    assert!(
        result.has(SubIndication::InvalidSealMrz),
        "{:#?}",
        result.reasons
    );
    assert!(
        result.has(SubIndication::InvalidPrintedMrz),
        "{:#?}",
        result.reasons
    );
    assert!(!result.has(SubIndication::SealDocumentMismatch));
    assert_eq!(result.status, Status::Invalid);
}

#[test]
fn signer_certificate_not_allowed_for_the_document_type() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PP"]));
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz())
        .to_bytes()
        .unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    let result = verifier.verify(&bytes, Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::InvalidDocumentType]);
}

#[test]
fn revoked_and_expired_signer_certificates() {
    let mut setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz())
        .to_bytes()
        .unwrap();
    let expired_at = 1_772_323_200 + 400 * 86_400;
    let result = Verifier::new(&setup.certificates, &setup.pki.store, expired_at)
        .verify(&bytes, Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::ExpiredCertificate]);
    let certificate = setup.certificates[1].clone();
    setup.pki.revoke(&certificate);
    let result = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13)
        .verify(&bytes, Presented::Nothing);
    assert_eq!(result.codes(), [SubIndication::RevokedCertificate]);
}

#[test]
fn signer_certificate_from_another_csca_is_untrusted() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz())
        .to_bytes()
        .unwrap();
    let stranger = TestPki::new("stranger");
    let verifier = Verifier::new(&setup.certificates, &stranger.store, AT_2026_06_13);
    assert_eq!(
        verifier.verify(&bytes, Presented::Nothing).codes(),
        [SubIndication::UntrustedCertificate]
    );
}

#[test]
fn unknown_features_are_informational() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let header = etd::header(
        "LKA",
        signer_reference("ET", &[0x01, 0x2C]),
        date("2026-06-01"),
        date("2026-06-01"),
    )
    .unwrap();
    let seal = etd::builder(header, &etd_mrz())
        .unwrap()
        .feature(0x7A, vec![1, 2, 3])
        .unwrap()
        .sign(&setup.key)
        .unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    let result = verifier.verify(
        &seal.to_bytes().unwrap(),
        Presented::PrintedMrz([LINE1, LINE2]),
    );
    assert_eq!(result.status, Status::Valid);
    assert_eq!(result.codes(), [SubIndication::UnknownFeature]);
}

/// Expected outcome of a seal with one byte changed: the sub-indication that must appear.
fn expected_for_mutation(original: &Seal, mutated: &[u8]) -> SubIndication {
    match Seal::decode(mutated) {
        Err(_) => SubIndication::WrongFormat,
        Ok(seal) if seal.header().signer() != original.header().signer() => {
            SubIndication::UnknownCertificate
        }
        Ok(_) => SubIndication::InvalidSignature,
    }
}

/// Flips one bit in every byte position (the bit moves with the position) and checks the
/// sub-indication: ETD seals on every curve, legalization seals on P-256 (their message zone
/// handling does not depend on the curve).
#[test]
fn altering_any_byte_gives_the_right_sub_indication() {
    let mut cases: Vec<(Curve, &str)> = CURVES.iter().map(|curve| (*curve, "etd")).collect();
    cases.push((Curve::P256, "legalization"));
    for (curve, profile) in cases {
        let (setup, seal, presented) = if profile == "etd" {
            let setup = setup(curve, "ET", &[0x01, 0x2C], Some(&["PU"]));
            let seal = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz());
            (setup, seal, Presented::PrintedMrz([LINE1, LINE2]))
        } else {
            let setup = setup(curve, "LG", &[0x42], None);
            let seal = legalization_seal(&setup.key, &[0x42]);
            (setup, seal, Presented::DocumentFile(DOCUMENT))
        };
        let bytes = seal.to_bytes().unwrap();
        let signature_start = bytes.len() - seal.signature().len();
        let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
        assert!(verifier.verify(&bytes, presented).is_valid());
        for position in 0..bytes.len() {
            let mask = 1u8 << (position % 8);
            let mut mutated = bytes.clone();
            mutated[position] ^= mask;
            let result = verifier.verify(&mutated, presented);
            let expected = expected_for_mutation(&seal, &mutated);
            let case = format!("{curve:?} {profile} byte {position} ^ {mask:#04x}");
            assert_eq!(result.status, Status::Invalid, "{case}");
            assert!(
                result.has(expected),
                "{case}: expected {expected:?}, got {:?}",
                result.codes()
            );
            if position >= signature_start {
                assert_eq!(result.codes(), [SubIndication::InvalidSignature], "{case}");
            }
        }
    }
}

#[test]
fn evidence_of_another_profile_is_not_comparable() {
    let setup = setup(Curve::P256, "ET", &[0x01, 0x2C], Some(&["PU"]));
    let bytes = etd_seal(&setup.key, &[0x01, 0x2C], &etd_mrz())
        .to_bytes()
        .unwrap();
    let verifier = Verifier::new(&setup.certificates, &setup.pki.store, AT_2026_06_13);
    // A document file handed in with an ETD seal proves nothing about the seal's document:
    // neither a printed-MRZ mismatch nor a format error, a code of its own.
    let result = verifier.verify(&bytes, Presented::DocumentFile(b"%PDF-1.7 a file"));
    assert_eq!(result.codes(), [SubIndication::NotComparable]);
    assert_eq!(result.status, Status::Invalid);
}
