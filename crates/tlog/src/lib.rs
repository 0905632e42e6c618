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
