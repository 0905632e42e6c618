//! Stored responses of mutating requests under their `Idempotency-Key` (`svc_idempotency`,
//! migration `0100_service.sql`), unique per (actor, key).

use sqlx::Row as _;

use crate::{Result, StoreError, Transaction};

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// SHA-256 (hex) of the request the key first came with.
    pub request_hash: String,
    pub status: i64,
    /// The response body, JSON.
    pub response: String,
}

/// The response stored under (`actor_id`, `key`), if any.
pub async fn lookup(pool: &sqlx::AnyPool, actor_id: &str, key: &str) -> Result<Option<StoredRow>> {
    let row = sqlx::query(
        "SELECT request_hash, status, response FROM svc_idempotency WHERE actor_id = $1 AND key = $2",
    )
    .bind(actor_id)
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading a stored response"))?;
    let Some(row) = row else { return Ok(None) };
    let read = || -> std::result::Result<StoredRow, sqlx::Error> {
        Ok(StoredRow {
            request_hash: row.try_get("request_hash")?,
            status: row.try_get("status")?,
            response: row.try_get("response")?,
        })
    };
    read()
        .map(Some)
        .map_err(StoreError::db("reading a stored response"))
}

/// Stores a response inside the act's transaction; a second store under the same (actor, key)
/// is a unique violation (a concurrent identical retry).
pub async fn insert(
    tx: &mut Transaction,
    actor_id: &str,
    key: &str,
    stored: &StoredRow,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_idempotency (actor_id, key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor_id)
    .bind(key)
    .bind(&stored.request_hash)
    .bind(stored.status)
    .bind(&stored.response)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("storing a response"))?;
    Ok(())
}
