//! Known answers from `shared/vectors/merkle/rfc6962_sha256.json` (transparency-dev/merkle
//! constants and the C2SP signed-note example).

use travdoc_tlog::merkle::{MemoryTree, leaf_hash, node_hash};
use travdoc_tlog::note::{AnyVerifier, Note, NoteError};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/merkle/rfc6962_sha256.json"
);

fn vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(VECTORS).expect("vectors file is readable");
    serde_json::from_str(&text).expect("vectors file is JSON")
}

fn hex32(value: &serde_json::Value) -> [u8; 32] {
    let bytes = hex::decode(value.as_str().expect("hex string")).expect("valid hex");
    bytes.try_into().expect("32 bytes")
}

fn leaves(vectors: &serde_json::Value) -> Vec<Vec<u8>> {
    vectors["leaf_inputs_hex"]
        .as_array()
        .expect("leaf array")
        .iter()
        .map(|leaf| hex::decode(leaf.as_str().expect("hex")).expect("valid hex"))
        .collect()
}

#[test]
fn roots_for_every_size_0_to_8() {
    let vectors = vectors();
    let leaves = leaves(&vectors);
    let roots = vectors["root_hashes_by_size"].as_array().expect("roots");
    assert_eq!(roots.len(), 9);
    let mut tree = MemoryTree::new();
    assert_eq!(tree.root(), hex32(&roots[0]));
    for (size, leaf) in leaves.iter().enumerate() {
        tree.push(leaf);
        assert_eq!(
            tree.root(),
            hex32(&roots[size + 1]),
            "root of size {}",
            size + 1
        );
    }
}

#[test]
fn every_node_hash() {
    let vectors = vectors();
    let leaves = leaves(&vectors);
    let levels = vectors["node_hashes_by_level"].as_array().expect("levels");
    let mut current: Vec<[u8; 32]> = leaves.iter().map(|leaf| leaf_hash(leaf)).collect();
    for (level, expected) in levels.iter().enumerate() {
        let expected: Vec<[u8; 32]> = expected
            .as_array()
            .expect("level array")
            .iter()
            .map(hex32)
            .collect();
        assert_eq!(current, expected, "level {level}");
        current = current
            .chunks(2)
            .filter(|pair| pair.len() == 2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    assert!(
        current.is_empty(),
        "the vectors cover every level up to the root"
    );
}

#[test]
fn signed_note_example_ed25519() {
    let vectors = vectors();
    let example = &vectors["signed_note_example"];
    let vkey = example["verifier_key"].as_str().expect("vkey");
    let text = example["text"].as_str().expect("text");
    let line = example["signature_line"].as_str().expect("line");
    let verifier = AnyVerifier::from_vkey(vkey).expect("vkey parses");
    assert_eq!(verifier.as_dyn().key_id(), 0x530d903a);
    assert_eq!(verifier.as_dyn().name(), "example.com/foo");

    let signed = format!("{text}\n{line}\n");
    let note = Note::parse(signed.as_bytes()).expect("note parses");
    assert_eq!(note.text(), text);
    assert_eq!(note.to_text(), signed, "formatting round-trips");
    let verified = note
        .verify(&[verifier.as_dyn()])
        .expect("signature verifies");
    assert_eq!(verified.len(), 1);

    // One changed character in the text breaks the signature.
    let tampered = signed.replacen("example", "exbmple", 1);
    let note = Note::parse(tampered.as_bytes()).expect("still well formed");
    assert!(matches!(
        note.verify(&[verifier.as_dyn()]),
        Err(NoteError::BadSignature { .. })
    ));
}
