//! Glue between the domain's acts and the audit records. Every act writes, inside its own
//! transaction, one operational event (`svc_events`: who, what, when; the leaf hash commits to
//! the act's data by hash only), and acts the integrity ledger knows (issuance, revocation,
//! arrival clearance, voided numbers, print jobs) are appended to the Merkle ledger of
//! `travdoc-store` in the same transaction, with a natural idempotency key (one entry per act).

use sha2::{Digest, Sha256};
use travdoc_store::ledger::{Entry, Event, IndexRow};

use super::IssuanceError;
use crate::db::Tx;

/// One recorded act.
#[derive(Debug, Clone)]
pub struct LedgerEvent {
    pub action: &'static str,
    pub subject: String,
    pub actor_id: String,
    pub at: String,
    /// SHA-256 over the canonical JSON of the act's data.
    pub data_sha256: [u8; 32],
    /// The integrity-ledger event, for acts the ledger records.
    pub entry: Option<Event>,
    /// Set when the entry's key (`action:subject`) is known to be new, so the append need not
    /// look it up first: the table and key column of the row (keyed by `subject`) whose
    /// `ledger_index` the append fills in (see [`travdoc_store::ledger::append_new`]).
    pub new_key_row: Option<(&'static str, &'static str)>,
    /// The entry's key when one subject sees the same act more than once (a request whose
    /// two hits are cleared one by one); `action:subject` otherwise.
    pub key: Option<String>,
}

impl LedgerEvent {
    pub fn new(
        action: &'static str,
        subject: &str,
        actor_id: &str,
        data: &serde_json::Value,
        at: &str,
    ) -> Self {
        let data_sha256: [u8; 32] = Sha256::digest(data.to_string().as_bytes()).into();
        LedgerEvent {
            action,
            subject: subject.to_owned(),
            actor_id: actor_id.to_owned(),
            at: at.to_owned(),
            data_sha256,
            entry: None,
            new_key_row: None,
            key: None,
        }
    }

    /// Sets the entry's key (see [`LedgerEvent::key`]).
    pub fn with_key(mut self, key: String) -> Self {
        self.key = Some(key);
        self
    }

    /// Also appends `event` to the integrity ledger.
    pub fn with_entry(mut self, event: Event) -> Self {
        self.entry = Some(event);
        self
    }

    /// Also appends `event`, whose key the caller knows no earlier act used (an issuance:
    /// the number was allocated to this act alone), skipping the key lookup under the lock,
    /// and writes the entry's index into `table.ledger_index` of the row whose `key_column`
    /// is the subject, in the same statement.
    pub fn with_new_entry(
        mut self,
        event: Event,
        table: &'static str,
        key_column: &'static str,
    ) -> Self {
        self.entry = Some(event);
        self.new_key_row = Some((table, key_column));
        self
    }

    /// A fresh `svc_events` id and the hex SHA-256 of the operational leaf: the row's values
    /// besides time, actor, action and subject.
    pub fn row_values(&self) -> (String, String) {
        (
            uuid::Uuid::new_v4().to_string(),
            hex::encode(Sha256::digest(self.leaf())),
        )
    }

    /// The operational leaf: a hash over action, subject, time and the data hash.
    pub fn leaf(&self) -> Vec<u8> {
        serde_json::json!({
            "action": self.action,
            "subject_sha256": hex::encode(Sha256::digest(self.subject.as_bytes())),
            "at": self.at,
            "data_sha256": hex::encode(self.data_sha256),
        })
        .to_string()
        .into_bytes()
    }
}

fn unix_seconds(at: &str) -> i64 {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or_else(|_| travdoc_store::ledger::unix_now())
}

/// Records `event` inside `tx`; returns the Merkle ledger index when it was appended there.
pub async fn record(tx: &mut Tx, event: &LedgerEvent) -> Result<Option<i64>, IssuanceError> {
    insert_event(tx, event).await?;
    append(tx, event).await
}

/// The operational half of [`record`]: the `svc_events` row.
pub async fn insert_event(tx: &mut Tx, event: &LedgerEvent) -> Result<(), IssuanceError> {
    let (id, leaf_sha256) = event.row_values();
    let row = travdoc_store::events::NewEvent {
        id: &id,
        at: &event.at,
        actor_id: &event.actor_id,
        action: event.action,
        subject: &event.subject,
        leaf_sha256: &leaf_sha256,
    };
    travdoc_store::events::insert(tx, &row).await?;
    Ok(())
}

/// The integrity-ledger entry of `event`, if the ledger records it, with its key
/// (`action:subject`, one entry per act).
pub(crate) fn entry(event: &LedgerEvent) -> Option<(String, Entry)> {
    let entry = event.entry.as_ref()?;
    let key = event
        .key
        .clone()
        .unwrap_or_else(|| format!("{}:{}", event.action, event.subject));
    Some((key, Entry::new(unix_seconds(&event.at), entry.clone())))
}

/// The integrity-ledger half of [`record`], for a caller that wrote the `svc_events` row
/// apart (with [`insert_event`], or itself with [`LedgerEvent::row_values`]).
pub async fn append(tx: &mut Tx, event: &LedgerEvent) -> Result<Option<i64>, IssuanceError> {
    let Some((key, entry)) = entry(event) else {
        return Ok(None);
    };
    let appended = match event.new_key_row {
        Some((table, key_column)) => {
            let row = IndexRow {
                table,
                index_column: "ledger_index",
                key_column,
                key: &event.subject,
            };
            travdoc_store::ledger::append_new(tx, &key, &entry, Some(&row)).await?
        }
        None => travdoc_store::ledger::append(tx, &key, &entry).await?,
    };
    Ok(i64::try_from(appended.index).ok())
}
