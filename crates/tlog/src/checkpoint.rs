//! Checkpoints (c2sp.org/tlog-checkpoint) and offline inclusion receipts
//! (c2sp.org/tlog-proof).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::merkle::Hash;
use crate::note::{Note, NoteError, NoteSigner, NoteVerifier};
use crate::proof::{MAX_PROOF_HASHES, ProofError, verify_inclusion};

/// First line of a tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Errors of checkpoint and proof texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("checkpoint origin line is empty")]
    EmptyOrigin,
    #[error("checkpoint has fewer than three lines")]
    TooShort,
    #[error("checkpoint tree size `{0}` is not a decimal number without leading zeros")]
    InvalidSize(String),
    #[error("checkpoint root hash is not base64 of 32 bytes")]
    InvalidRoot,
    #[error("checkpoint extension line is empty")]
    EmptyExtension,
    #[error("checkpoint origin is `{got}`, expected `{expected}`")]
    WrongOrigin { expected: String, got: String },
    #[error("tlog-proof: {0}")]
    MalformedProof(&'static str),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// The body of a checkpoint: origin, tree size, root hash and (not recommended) extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Parses a note text as a checkpoint.
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::TooShort)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooShort);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let parsed_size = size
            .parse::<u64>()
            .ok()
            .filter(|_| size_ok)
            .ok_or_else(|| CheckpointError::InvalidSize(size.to_owned()))?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
            .ok_or(CheckpointError::InvalidRoot)?;
        let extensions = lines.map(str::to_owned).collect::<Vec<_>>();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::EmptyExtension);
        }
        Ok(Self {
            origin: origin.to_owned(),
            size: parsed_size,
            root,
            extensions,
        })
    }

    /// Signs this checkpoint, returning the whole signed note text.
    pub fn sign(&self, signer: &dyn NoteSigner) -> Result<String, CheckpointError> {
        let mut note = Note::new(self.to_text())?;
        note.sign(signer)?;
        Ok(note.to_text())
    }

    /// Parses a signed checkpoint, checks its signatures against `verifiers` (C2SP rules) and
    /// that its origin is `origin`.
    pub fn open(
        signed: &str,
        origin: &str,
        verifiers: &[&dyn NoteVerifier],
    ) -> Result<Self, CheckpointError> {
        let note = Note::parse(signed.as_bytes())?;
        let checkpoint = Self::parse_text(note.text())?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                got: checkpoint.origin,
            });
        }
        note.verify(verifiers)?;
        Ok(checkpoint)
    }
}

/// An offline inclusion receipt (c2sp.org/tlog-proof).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    /// The audit path, leaf sibling first.
    pub path: Vec<Hash>,
    /// The signed checkpoint, as a whole note.
    pub checkpoint: String,
}

impl TlogProof {
    /// The text form.
    pub fn to_text(&self) -> String {
        let mut out = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.path {
            out.push_str(&BASE64.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses the text form (signatures are not checked here).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(CheckpointError::MalformedProof("no blank line"))?;
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(CheckpointError::MalformedProof("wrong first line"));
        }
        let mut extra = None;
        if let Some(line) = lines.peek().and_then(|line| line.strip_prefix("extra ")) {
            extra = Some(
                BASE64
                    .decode(line)
                    .map_err(|_| CheckpointError::MalformedProof("extra is not base64"))?,
            );
            lines.next();
        }
        let index = lines
            .next()
            .and_then(|line| line.strip_prefix("index "))
            .and_then(|number| number.parse::<u64>().ok())
            .ok_or(CheckpointError::MalformedProof("missing index line"))?;
        let mut path = Vec::new();
        for line in lines {
            if path.len() == MAX_PROOF_HASHES {
                return Err(CheckpointError::MalformedProof("too many hashes"));
            }
            let hash = BASE64
                .decode(line)
                .ok()
                .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
                .ok_or(CheckpointError::MalformedProof(
                    "hash is not base64 of 32 bytes",
                ))?;
            path.push(hash);
        }
        Ok(Self {
            extra,
            index,
            path,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Checks the log signature on the checkpoint and that `leaf_hash` is included at `index`.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        origin: &str,
        verifiers: &[&dyn NoteVerifier],
    ) -> Result<Checkpoint, CheckpointError> {
        let checkpoint = Checkpoint::open(&self.checkpoint, origin, verifiers)?;
        verify_inclusion(
            leaf_hash,
            self.index,
            checkpoint.size,
            &self.path,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}
