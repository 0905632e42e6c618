//! The worked example of `docs/legalization-seal-profile.md` §7: the bytes printed there are
//! produced by this code and verify with the example public key printed there.

mod common;

use common::{AT_2026_06_13, SignerSpec, TestKey, TestPki};
use sha2::Digest;
use travdoc_seal::legalization::{self, Legalization, LegalizationFields};
use travdoc_seal::verify::{Presented, Verifier};
use travdoc_seal::{Curve, SealDate, SignerReference, parse_qr_payload, qr_payload};

const DOC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/legalization-seal-profile.md"
));
const DOCUMENT: &[u8] = b"example legalized document\n";
const BASE_URL: &str = "https://verify.example.lk/l";

fn example() -> (TestKey, Vec<u8>) {
    let date = SealDate::from_ymd(2026, 6, 2).unwrap();
    let fields = LegalizationFields {
        certificate_number: "LG2026X7Q4M9".into(),
        issue_date: date,
        document_sha256: sha2::Sha256::digest(DOCUMENT).into(),
        document_type: "Birth certificate".into(),
        signatory: Some("A. B. Jayasinghe".into()),
        capacity: Some("Additional District Registrar".into()),
        authority: "Consular Affairs Division, Colombo".into(),
        place: Some("Colombo".into()),
        country_of_use: Some("ARE".into()),
        seal_of: None,
    };
    let legalization = Legalization::new(fields).unwrap();
    let signer = SignerReference::from_serial("LKLG", &[0x42]).unwrap();
    let header = legalization::header("LKA", signer, &legalization, date).unwrap();
    let key = TestKey::new(Curve::P256, "travdoc legalization example");
    let seal = legalization::builder(header, &legalization)
        .unwrap()
        .sign(&key)
        .unwrap();
    (key, seal.to_bytes().unwrap())
}

/// Hex in the document, with whitespace removed, between the markers `<name>:` lines.
fn doc_block(name: &str) -> String {
    let start = DOC
        .find(&format!("<!-- {name} -->"))
        .unwrap_or_else(|| panic!("marker {name} in the document"));
    let rest = &DOC[start..];
    let open = rest.find("```\n").expect("code block") + 4;
    let close = rest[open..].find("```").expect("code block end") + open;
    rest[open..close].split_whitespace().collect()
}

#[test]
fn document_shows_the_bytes_this_code_produces() {
    let (key, bytes) = example();
    let mut public_key = key.spki().subject_public_key.raw_bytes().to_vec();
    public_key.truncate(65);
    if std::env::var_os("PRINT_EXAMPLE").is_some() {
        println!("seal {}", hex::encode(&bytes));
        println!("key {}", hex::encode(&public_key));
        println!("qr {}", qr_payload(&bytes, BASE_URL).unwrap());
    }
    assert_eq!(doc_block("example-seal"), hex::encode(&bytes));
    assert_eq!(doc_block("example-public-key"), hex::encode(&public_key));
    let qr = doc_block("example-qr");
    assert_eq!(qr, qr_payload(&bytes, BASE_URL).unwrap());
    assert_eq!(parse_qr_payload(&qr).unwrap(), bytes);
}

#[test]
fn example_verifies() {
    let (key, bytes) = example();
    let pki = TestPki::new("example");
    let certificate = pki.signer_certificate(&key, &SignerSpec::new("LG", &[0x42]));
    let certificates = [certificate];
    let result = Verifier::new(&certificates, &pki.store, AT_2026_06_13)
        .verify(&bytes, Presented::DocumentFile(DOCUMENT));
    assert!(result.is_valid(), "{:#?}", result.reasons);
}
