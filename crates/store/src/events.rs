//! The operational record of every act (`svc_events`, migration `0100_service.sql`): who did
//! what to which subject, and when, beside the act's ledger entry.

use sqlx::Row as _;

use crate::{Result, StoreError, Transaction};

/// An act to record.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    /// RFC 3339.
    pub at: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    /// The SHA-256 (hex) of the act's operational leaf.
    pub leaf_sha256: &'a str,
}

/// Records an act inside its transaction.
pub async fn insert(tx: &mut Transaction, event: &NewEvent<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.id)
    .bind(event.at)
    .bind(event.actor_id)
    .bind(event.action)
    .bind(event.subject)
    .bind(event.leaf_sha256)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording an act"))?;
    Ok(())
}

/// One act recorded on a document or its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// RFC 3339.
    pub at: String,
    pub action: String,
    pub actor_id: String,
    /// The actor's user name, when the actor is a user.
    pub actor_name: Option<String>,
    /// The act's ledger entry, when it has one.
    pub ledger_index: Option<i64>,
}

/// The acts recorded on document `number`, on its request `request_id` and on its print jobs
/// (subjects `<number>:<job id>`).
pub async fn document_events(
    pool: &sqlx::AnyPool,
    number: &str,
    request_id: &str,
) -> Result<Vec<EventRow>> {
    let jobs = format!("{number}:%");
    let rows = sqlx::query(
        "SELECT e.at, e.action, e.actor_id, u.name, l.idx FROM svc_events e \
         LEFT JOIN svc_users u ON u.id = e.actor_id \
         LEFT JOIN ledger_entry l ON l.idempotency_key = e.action || ':' || e.subject \
         WHERE e.subject = $1 OR e.subject = $2 OR e.subject LIKE $3 \
         ORDER BY e.at",
    )
    .bind(number)
    .bind(request_id)
    .bind(jobs)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("reading a document's history"))?;
    rows.iter()
        .map(|row| {
            Ok(EventRow {
                at: row.try_get("at")?,
                action: row.try_get("action")?,
                actor_id: row.try_get("actor_id")?,
                actor_name: row.try_get("name")?,
                ledger_index: row.try_get("idx")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StoreError::db("reading a document's history"))
}
