//! PKI events (keys generated, certificates issued and revoked, CSCA rollover, CRLs, master
//! lists) into the audit ledger.
//!
//! The PKI emits its events synchronously while it holds its own state lock, and it also runs
//! from `travdoc pki ...` where the database may be down. So the sink never talks to the
//! database: it appends each ledger entry, with its idempotency key, as one line to a journal
//! (`DATA_DIR/pki/ledger-pending.jsonl`, fsync'd under an exclusive file lock). [`drain`] moves
//! the journal into the ledger in one transaction and empties it; it runs after every PKI
//! command, when the service starts and before every checkpoint. Appends are idempotent by key,
//! so a crash between the commit and the truncation only replays entries the ledger already
//! has: nothing is lost and nothing is recorded twice.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use travdoc_pki::{PkiEvent, PkiEventKind, PkiEventSink};
use travdoc_store::Store;
use travdoc_store::ledger::{self, Digest32, Entry, Event};

use super::IssuanceError;

/// One pending ledger entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    key: String,
    time: i64,
    event: Event,
}

/// The journal file of a data dir.
pub fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join("pki").join("ledger-pending.jsonl")
}

fn digest(hex_text: &str) -> Digest32 {
    let mut bytes = [0u8; 32];
    if hex::decode_to_slice(hex_text, &mut bytes).is_err() {
        // Fingerprints come from the PKI as 64 hex digits; anything else is recorded as the
        // SHA-256 of the text itself, so the entry still commits to what the PKI said.
        return Digest32::of(hex_text.as_bytes());
    }
    Digest32(bytes)
}

/// The ledger entries of one PKI event, each with its idempotency key.
pub(crate) fn entries(event: &PkiEvent, algorithm: &str) -> Vec<(String, Event)> {
    let serial = event.serial_hex.clone();
    let fingerprint = event.fingerprint_sha256.clone();
    let key = |what: &str| format!("pki:{what}:{serial}:{fingerprint}");
    let generated = |label: String, purpose: String| Event::PkiKeyGenerated {
        key_label: label,
        key_id: serial.clone(),
        algorithm: algorithm.to_owned(),
        purpose,
    };
    let issued = |profile: String, issuer: String| Event::CertificateIssued {
        certificate_sha256: digest(&fingerprint),
        serial: serial.clone(),
        profile,
        issuer_key_id: issuer,
    };
    match &event.kind {
        PkiEventKind::CscaCreated { generation } => vec![
            (
                key("key"),
                generated(format!("travdoc-csca-{generation}"), "csca".to_owned()),
            ),
            (
                key("cert"),
                issued(format!("csca-g{generation}"), serial.clone()),
            ),
        ],
        PkiEventKind::LinkCertificateIssued {
            from_generation,
            to_generation,
            old_csca_sha256,
            new_csca_sha256,
        } => vec![
            (
                key("cert"),
                issued(
                    format!("csca-link-g{from_generation}-g{to_generation}"),
                    format!("csca-g{from_generation}"),
                ),
            ),
            (
                key("rollover"),
                Event::CscaRollover {
                    old_certificate_sha256: digest(old_csca_sha256),
                    new_certificate_sha256: digest(new_csca_sha256),
                    link_certificate_sha256: Some(digest(&fingerprint)),
                },
            ),
        ],
        PkiEventKind::SignerIssued { kind } => vec![
            (
                key("key"),
                generated(format!("travdoc-{kind}"), kind.to_string()),
            ),
            (
                key("cert"),
                issued(format!("{kind}-signer"), "current csca".to_owned()),
            ),
        ],
        PkiEventKind::Revoked { reason } => vec![(
            key("revoked"),
            Event::CertificateRevoked {
                certificate_sha256: digest(&fingerprint),
                serial: serial.clone(),
                reason: reason.to_string(),
            },
        )],
        PkiEventKind::CrlIssued { number } => vec![(
            key("crl"),
            Event::CrlIssued {
                crl_sha256: digest(&fingerprint),
                crl_number: *number,
                issuer_key_id: serial.clone(),
            },
        )],
        PkiEventKind::MasterListIssued => vec![(
            key("masterlist"),
            Event::MasterListIssued {
                master_list_sha256: digest(&fingerprint),
                signer_serial: serial.clone(),
            },
        )],
        PkiEventKind::SignerRequested { kind } => vec![(
            // No certificate yet: the key is named by its public key's fingerprint.
            key("requested-key"),
            Event::PkiKeyGenerated {
                key_label: format!("travdoc-{kind}-request"),
                key_id: fingerprint.clone(),
                algorithm: algorithm.to_owned(),
                purpose: kind.to_string(),
            },
        )],
        PkiEventKind::SignerActivated { kind } => vec![(
            key("activated"),
            Event::SignerActivated {
                certificate_sha256: digest(&fingerprint),
                serial: serial.clone(),
                purpose: kind.to_string(),
            },
        )],
        other => vec![(key("other"), issued(format!("{other:?}"), String::new()))],
    }
}

/// The sink given to the PKI: appends to the journal.
#[derive(Debug)]
pub struct JournalSink {
    path: PathBuf,
    algorithm: String,
}

impl JournalSink {
    pub fn new(data_dir: &Path, algorithm: &str) -> Self {
        JournalSink {
            path: journal_path(data_dir),
            algorithm: algorithm.to_owned(),
        }
    }

    fn append(&self, lines: &str) -> std::io::Result<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.lock()?;
        let mut writer = &file;
        writer.write_all(lines.as_bytes())?;
        file.sync_data()?;
        file.unlock()
    }
}

impl PkiEventSink for JournalSink {
    fn record(&self, event: &PkiEvent) {
        let time = ledger::unix_now();
        let mut lines = String::new();
        for (key, event) in entries(event, &self.algorithm) {
            match serde_json::to_string(&Pending { key, time, event }) {
                Ok(line) => {
                    lines.push_str(&line);
                    lines.push('\n');
                }
                Err(error) => tracing::error!(%error, "PKI event cannot be encoded"),
            }
        }
        if let Err(error) = self.append(&lines) {
            // Nothing else can be done from inside the PKI; say so loudly.
            tracing::error!(%error, path = %self.path.display(), ?event,
                "PKI event NOT journalled for the ledger");
            eprintln!(
                "travdoc: PKI event not journalled for the ledger ({}): {error}",
                self.path.display()
            );
        }
    }
}

/// Moves every journalled PKI entry into the ledger (one transaction) and empties the journal.
/// Returns how many entries were appended (entries already in the ledger count too).
pub async fn drain(data_dir: &Path, store: &Store) -> Result<usize, IssuanceError> {
    let path = journal_path(data_dir);
    if !path.exists() {
        return Ok(0);
    }
    let io = |error: std::io::Error| {
        IssuanceError::Ledger(format!("PKI event journal {}: {error}", path.display()))
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    // A line without its newline was torn by a crash while the PKI wrote it: the act it
    // describes did not finish either, so it is dropped with the truncation below.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    let mut pending = Vec::new();
    for (number, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Pending = serde_json::from_str(line).map_err(|error| {
            IssuanceError::Ledger(format!(
                "PKI event journal {} line {}: {error}",
                path.display(),
                number + 1
            ))
        })?;
        pending.push(entry);
    }
    if !pending.is_empty() {
        let entries: Vec<(String, Entry)> = pending
            .into_iter()
            .map(|p| (p.key, Entry::new(p.time, p.event)))
            .collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await?;
        ledger::append_batch(&mut tx, &refs).await?;
        tx.commit().await?;
    }
    let count = complete.lines().filter(|l| !l.trim().is_empty()).count();
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    file.sync_all().map_err(io)?;
    file.unlock().map_err(io)?;
    Ok(count)
}
