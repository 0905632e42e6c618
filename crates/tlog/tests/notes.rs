//! ECDSA P-256 (type 0x02) notes and checkpoints signed through the generic signer, and the
//! parsers' refusals.

use base64::Engine as _;
use sha2::Digest as _;
use travdoc_tlog::note::{AnyVerifier, NoteSigner, key_id};
use travdoc_tlog::{Checkpoint, CheckpointError, EcdsaP256Signer, Note, NoteError, TlogProof};

const ORIGIN: &str = "passports.example.gov/ledger";

fn signer(seed: u8) -> EcdsaP256Signer<p256::ecdsa::SigningKey> {
    let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("scalar");
    EcdsaP256Signer::new(ORIGIN, key).expect("name")
}

#[test]
fn key_id_hashes_name_type_and_spki() {
    let signer = signer(1);
    let mut hasher = sha2::Sha256::new();
    hasher.update(ORIGIN.as_bytes());
    hasher.update([0x0A, 0x02]);
    hasher.update(signer.spki_der());
    let digest = hasher.finalize();
    assert_eq!(signer.key_id().to_be_bytes(), digest[..4]);
    assert_eq!(signer.key_id(), key_id(ORIGIN, 0x02, signer.spki_der()));
    // SPKI DER of an uncompressed P-256 point is 91 bytes.
    assert_eq!(signer.spki_der().len(), 91);
}

#[test]
fn checkpoint_sign_open_and_vkey_round_trip() {
    let signer = signer(1);
    let checkpoint = Checkpoint::new(ORIGIN, 20852163, [7u8; 32]);
    let signed = checkpoint.sign(&signer).expect("signs");
    let lines: Vec<&str> = signed.lines().collect();
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "20852163");
    assert_eq!(
        lines[2],
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    );
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} passports.example.gov/ledger "));
    // The signature after the key ID is DER: SEQUENCE { INTEGER r, INTEGER s }.
    let note = Note::parse(signed.as_bytes()).expect("parses");
    let signature = &note.signatures()[0].signature;
    assert_eq!(signature[0], 0x30);
    assert!(p256::ecdsa::DerSignature::try_from(signature.as_slice()).is_ok());

    let verifier = signer.verifier();
    let vkey = verifier.to_vkey();
    let parsed = AnyVerifier::from_vkey(&vkey).expect("vkey parses");
    let opened = Checkpoint::open(&signed, ORIGIN, &[parsed.as_dyn()]).expect("verifies");
    assert_eq!(opened, checkpoint);

    // Wrong origin, other key, changed text.
    assert!(matches!(
        Checkpoint::open(&signed, "other.example/log", &[&verifier]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    let other = signer_verifier(2);
    assert!(matches!(
        Checkpoint::open(&signed, ORIGIN, &[&other]),
        Err(CheckpointError::Note(NoteError::NoKnownSignature))
    ));
    let changed = signed.replacen("20852163", "20852164", 1);
    assert!(matches!(
        Checkpoint::open(&changed, ORIGIN, &[&verifier]),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
}

fn signer_verifier(seed: u8) -> travdoc_tlog::EcdsaP256Verifier {
    signer(seed).verifier()
}

#[test]
fn unknown_signatures_are_ignored_and_cosigned_notes_verify() {
    let (log, witness) = (signer(1), signer(3));
    let mut note = Note::new(Checkpoint::new(ORIGIN, 5, [1u8; 32]).to_text()).expect("text");
    note.sign(&witness).expect("witness signs");
    note.sign(&log).expect("log signs");
    let reparsed = Note::parse(note.to_text().as_bytes()).expect("parses");
    let verifier = log.verifier();
    let verified = reparsed.verify(&[&verifier]).expect("log signature found");
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].key_id(), log.key_id());
}

#[test]
fn malformed_notes_and_checkpoints_are_refused() {
    assert_eq!(
        Note::parse(b"no signatures\n"),
        Err(NoteError::MissingSeparator)
    );
    assert_eq!(Note::parse(b"text\n\n"), Err(NoteError::NoSignatures));
    assert_eq!(
        Note::parse(b"tab\there\n\n\xe2\x80\x94 a AAAAAAA=\n"),
        Err(NoteError::ControlCharacter(9))
    );
    assert!(matches!(
        Note::parse("text\n\n- a AAAAAAA=\n".as_bytes()),
        Err(NoteError::MalformedSignatureLine { line: 1, .. })
    ));
    assert!(matches!(
        Note::parse("text\n\n\u{2014} a AAA=\n".as_bytes()),
        Err(NoteError::MalformedSignatureLine { .. })
    ));
    assert!(matches!(
        Checkpoint::parse_text("o\n012\nAAAA\n"),
        Err(CheckpointError::InvalidSize(_))
    ));
    assert!(matches!(
        Checkpoint::parse_text("o\n12\nAAAA\n"),
        Err(CheckpointError::InvalidRoot)
    ));
    assert!(matches!(
        Checkpoint::parse_text("o\n12\n"),
        Err(CheckpointError::TooShort)
    ));
    let root = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    let parsed = Checkpoint::parse_text(&format!("o\n0\n{root}\next\n")).expect("parses");
    assert_eq!(parsed.extensions, vec!["ext".to_owned()]);
}

#[test]
fn tlog_proof_round_trip() {
    let signer = signer(1);
    let signed = Checkpoint::new(ORIGIN, 2, [0u8; 32])
        .sign(&signer)
        .expect("signs");
    let proof = TlogProof {
        extra: Some(b"receipt".to_vec()),
        index: 1,
        path: vec![[4u8; 32]],
        checkpoint: signed,
    };
    let text = proof.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra cmVjZWlwdA==\nindex 1\n"));
    assert_eq!(TlogProof::parse(&text).expect("parses"), proof);
}
