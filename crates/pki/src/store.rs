//! Public PKI state: certificates, CRLs, master lists (DER), serial and CRL counters, revocations
//! with reasons, key references. Behind [`PkiStore`]: the service keeps it in its database (one
//! state for every node); [`FileStore`] keeps files under a directory, each written atomically
//! (the service's export of the database state, and the store of tools without a database).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PkiError, Result};
use crate::kind::{RevocationReason, SignerKind};

/// Where a key lives: token label, key label and CKA_ID (hex), and its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub token_label: String,
    pub key_label: String,
    pub id_hex: String,
    pub algorithm: String,
}

/// A certificate we issued, and the file holding its DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRecord {
    /// Serial number, upper-case hex (for bar-code signers this is the VDS certificate reference).
    pub serial_hex: String,
    /// Artifact name (see [`PkiStore::put`]).
    pub file: String,
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint_sha256: String,
    pub subject: String,
    /// Validity, seconds since the Unix epoch.
    pub not_before: u64,
    pub not_after: u64,
    /// Private-key usage period, seconds since the Unix epoch.
    pub key_usage_not_before: u64,
    pub key_usage_not_after: u64,
}

/// Why and when a certificate was revoked (kept here: the ICAO CRL profile forbids reason codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub reason: RevocationReason,
    pub at: u64,
}

/// One CSCA key generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CscaRecord {
    pub generation: u32,
    pub key: KeyRecord,
    pub cert: CertRecord,
    /// Link certificate from the previous generation (absent for the first).
    pub link: Option<CertRecord>,
}

/// A signer certificate and its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerRecord {
    pub kind: SignerKind,
    /// CSCA generation that issued it.
    pub csca_generation: u32,
    pub key: KeyRecord,
    pub cert: CertRecord,
    pub revocation: Option<Revocation>,
}

/// A signer key made on the online token and waiting for its certificate from a ceremony
/// (`pki signer request` -> `pki ceremony sign` -> `pki signer import`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSigner {
    pub kind: SignerKind,
    pub key: KeyRecord,
    /// SHA-256 (hex) of the key's SubjectPublicKeyInfo as the request carries it.
    pub spki_sha256: String,
    pub requested_at: u64,
    /// The certificate the ceremony issued for it, not yet imported.
    pub certificate: Option<CertRecord>,
    pub csca_generation: Option<u32>,
}

/// A CRL issued by one CSCA generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlRecord {
    pub csca_generation: u32,
    pub number: u64,
    pub file: String,
    pub this_update: u64,
    pub next_update: u64,
}

/// The whole state, one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkiState {
    pub format_version: u32,
    /// ICAO code of the country.
    pub country: String,
    /// Development PKI (names marked TEST).
    pub test: bool,
    pub next_serial: u64,
    pub next_crl_number: u64,
    pub cscas: Vec<CscaRecord>,
    pub signers: Vec<SignerRecord>,
    /// Latest CRL per CSCA generation.
    pub crls: Vec<CrlRecord>,
    /// Artifact name of the latest master list.
    pub master_list: Option<String>,
    /// Signer keys waiting for their certificates.
    #[serde(default)]
    pub pending: Vec<PendingSigner>,
}

/// Storage for PKI state and public artifacts.
pub trait PkiStore: Send + Sync {
    /// The state, or `None` before the first initialisation.
    fn load(&self) -> Result<Option<PkiState>>;
    /// Replaces the state atomically.
    fn save(&self, state: &PkiState) -> Result<()>;
    /// Stores a public artifact (certificate, CRL, master list) under `name`.
    fn put(&self, name: &str, der: &[u8]) -> Result<()>;
    /// Reads an artifact.
    fn get(&self, name: &str) -> Result<Vec<u8>>;
    /// A number that changes whenever the state changes, cheap to read: a store shared by
    /// several processes makes each notice the others' changes with it. The default (0, never
    /// changing) suits a store only one process writes.
    fn generation(&self) -> Result<u64> {
        Ok(0)
    }
    /// The generation this store's own last load or save left the state at (no read).
    fn last_generation(&self) -> u64 {
        0
    }
    /// The names of every stored artifact.
    fn names(&self) -> Result<Vec<String>>;
}

/// Files under one directory (`DATA_DIR/pki/`): `state.json` plus artifacts.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(store_error(&dir))?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(PkiError::Store {
                path: self.dir.clone(),
                message: format!("bad artifact name `{name}`"),
            });
        }
        Ok(self.dir.join(name))
    }
}

fn store_error(path: &Path) -> impl Fn(std::io::Error) -> PkiError + '_ {
    move |error| PkiError::Store {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("artifact");
    let temporary = path.with_file_name(format!(".{file_name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(store_error(path))
}

impl PkiStore for FileStore {
    fn load(&self) -> Result<Option<PkiState>> {
        let path = self.dir.join("state.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|error| PkiError::Store {
                        path,
                        message: error.to_string(),
                    })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(&path)(error)),
        }
    }

    fn save(&self, state: &PkiState) -> Result<()> {
        let path = self.dir.join("state.json");
        let mut json = serde_json::to_vec_pretty(state).map_err(|error| PkiError::Store {
            path: path.clone(),
            message: error.to_string(),
        })?;
        json.push(b'\n');
        write_atomic(&path, &json)
    }

    fn put(&self, name: &str, der: &[u8]) -> Result<()> {
        write_atomic(&self.path(name)?, der)
    }

    fn get(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.path(name)?;
        std::fs::read(&path).map_err(store_error(&path))
    }

    fn names(&self) -> Result<Vec<String>> {
        let listing = std::fs::read_dir(&self.dir).map_err(store_error(&self.dir))?;
        let mut names: Vec<String> = listing
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".der") && !name.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    }
}
