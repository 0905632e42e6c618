//! The country PKI's state and artifacts (`pki_state`, `pki_artifacts`, migration
//! `0130_pki.sql`): the source of truth every node reads. A change is one transaction that
//! moves the generation on (refused when another writer moved it first), stores the artifacts
//! it made and appends its ledger entries.

use sha2::Digest as _;
use sqlx::Row as _;

use crate::ledger::{self, Entry};
use crate::{Result, Store, StoreError};

/// The generation of the PKI state: 0 before the first change, then one more per change. One
/// indexed read of one row: what every node polls.
pub async fn generation(pool: &sqlx::AnyPool) -> Result<i64> {
    let value: Option<i64> = sqlx::query_scalar("SELECT generation FROM pki_state WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading the PKI generation"))?;
    Ok(value.unwrap_or(0))
}

/// The state document and its generation, if the PKI exists.
pub async fn load(pool: &sqlx::AnyPool) -> Result<Option<(i64, String)>> {
    let row = sqlx::query("SELECT generation, state FROM pki_state WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading the PKI state"))?;
    row.map(|row| -> std::result::Result<(i64, String), sqlx::Error> {
        Ok((row.try_get("generation")?, row.try_get("state")?))
    })
    .transpose()
    .map_err(StoreError::db("reading the PKI state"))
}

/// An artifact's DER, if stored.
pub async fn artifact(pool: &sqlx::AnyPool, name: &str) -> Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT der FROM pki_artifacts WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a PKI artifact"))
}

/// The names of every stored artifact.
pub async fn artifact_names(pool: &sqlx::AnyPool) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM pki_artifacts ORDER BY name")
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("listing PKI artifacts"))
}

/// One change of the PKI.
#[derive(Debug, Clone, Copy)]
pub struct PkiChange<'a> {
    /// The generation the change was made from (0: the PKI is being created).
    pub from_generation: i64,
    /// The new state document.
    pub state: &'a str,
    /// Artifacts made by the change, by name.
    pub artifacts: &'a [(String, Vec<u8>)],
    /// Its ledger entries with their idempotency keys.
    pub entries: &'a [(String, Entry)],
    /// RFC 3339 time of the change.
    pub at: &'a str,
}

/// Commits a change in one transaction: the state (only if its generation is still
/// `from_generation`), the artifacts and the ledger entries. `Ok(None)`: another writer changed
/// the PKI first and nothing was written; `Ok(Some(generation))`: the new generation.
pub async fn commit(store: &Store, change: PkiChange<'_>) -> Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let next = change.from_generation + 1;
    let moved = if change.from_generation == 0 {
        sqlx::query(
            "INSERT INTO pki_state (id, generation, state, updated_at) VALUES (1, 1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(change.state.to_owned())
        .bind(change.at.to_owned())
        .execute(tx.conn())
        .await
    } else {
        sqlx::query(
            "UPDATE pki_state SET generation = $1, state = $2, updated_at = $3 \
             WHERE id = 1 AND generation = $4",
        )
        .bind(next)
        .bind(change.state.to_owned())
        .bind(change.at.to_owned())
        .bind(change.from_generation)
        .execute(tx.conn())
        .await
    }
    .map_err(StoreError::db("writing the PKI state"))?;
    if moved.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    for (name, der) in change.artifacts {
        sqlx::query(
            "INSERT INTO pki_artifacts (name, der, sha256, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET der = excluded.der, sha256 = excluded.sha256",
        )
        .bind(name.clone())
        .bind(der.clone())
        .bind(hex::encode(sha2::Sha256::digest(der)))
        .bind(change.at.to_owned())
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("storing a PKI artifact"))?;
    }
    if !change.entries.is_empty() {
        let refs: Vec<(&str, &Entry)> = change
            .entries
            .iter()
            .map(|(key, entry)| (key.as_str(), entry))
            .collect();
        ledger::append_batch(&mut tx, &refs).await?;
    }
    tx.commit().await?;
    Ok(Some(next))
}
