//! Transparency-log maths for the travdoc audit ledger, with no I/O:
//!
//! - [`merkle`]: RFC 6962 leaf and node hashing, the root of any size, the compact range and
//!   the stored-hash numbering (an append-only table of every complete subtree hash);
//! - [`proof`]: inclusion and consistency proofs, generated from stored hashes and verified as
//!   in RFC 9162;
//! - [`note`]: C2SP signed notes, signed through a [`note::NoteSigner`] (an HSM key in
//!   production) and verified with Ed25519 (0x01) or ECDSA P-256 (0x02) keys;
//! - [`checkpoint`]: C2SP tlog-checkpoints and tlog-proof receipts.
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod proof;

pub use checkpoint::{Checkpoint, CheckpointError, TlogProof};
pub use merkle::{CompactRange, EMPTY_ROOT, Hash, MemoryTree, leaf_hash, node_hash};
pub use note::{
    AnyVerifier, EcdsaP256Signer, EcdsaP256Verifier, Note, NoteError, NoteSigner, NoteVerifier,
};
pub use proof::{ProofError, verify_consistency, verify_inclusion};

/// Invariants over arbitrary input, shared by the fuzz targets (`fuzz/`) and the property
/// tests that run them on stable Rust in CI.
#[doc(hidden)]
pub mod fuzzing {
    use crate::checkpoint::{Checkpoint, TlogProof};
    use crate::note::Note;

    /// Parses `data` as a signed note, a checkpoint and a proof bundle. Nothing may panic;
    /// a parsed note re-serialises to text that parses to the same note; no note verifies
    /// without a known key; a parsed checkpoint re-serialises to the text it came from.
    pub fn check_note_and_checkpoint(data: &[u8]) -> Result<(), String> {
        if let Ok(note) = Note::parse(data) {
            let again = Note::parse(note.to_text().as_bytes())
                .map_err(|error| format!("a parsed note does not parse again: {error}"))?;
            if again.text() != note.text() || again.signatures().len() != note.signatures().len() {
                return Err("a parsed note re-parses differently".into());
            }
            if note.verify(&[]).is_ok() {
                return Err("a note verified without any known key".into());
            }
        }
        let text = String::from_utf8_lossy(data);
        if let Ok(checkpoint) = Checkpoint::parse_text(&text)
            && checkpoint.to_text() != text
        {
            return Err("a parsed checkpoint re-serialises to other text".into());
        }
        if let Ok(proof) = TlogProof::parse(&text) {
            let _ = proof.to_text();
            if proof.verify(&[0; 32], "origin", &[]).is_ok() {
                return Err("a proof verified without any known key".into());
            }
        }
        Ok(())
    }
}
