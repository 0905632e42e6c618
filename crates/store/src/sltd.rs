//! Lost, stolen, revoked and invalidated travel documents (`svc_sltd_entries`, migration
//! `0170_sltd.sql`): the imported lists, their imports, and our own revoked documents for the
//! export to INTERPOL (the checks read the lists with `people::lookup`).

use sqlx::Row as _;

use crate::{Result, StoreError, Transaction};

/// One listed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SltdRow {
    pub issuing_state: String,
    pub document_type: String,
    pub document_number: String,
    /// `lost`, `stolen`, `revoked` or `invalidated`.
    pub status: String,
    /// `YYYY-MM-DD`.
    pub reported_on: String,
    pub source: Option<String>,
    pub import_id: String,
    /// The line of the file it came from.
    pub line: i64,
}

/// Rows per `INSERT` (8 parameters each). Small on purpose: binding a parameter looks its name
/// up along the statement's whole parameter list in SQLite (sqlx binds by name), so the cost of
/// a statement grows with the square of its parameters; at 500 rows that lookup was 88% of a
/// 1,000,000-line import (44 s), at 40 rows it is noise.
const BATCH: usize = 40;

/// Adds `rows`, skipping those listed already; returns how many were new.
pub async fn insert(tx: &mut Transaction, rows: &[SltdRow]) -> Result<u64> {
    let mut added = 0;
    for chunk in rows.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO svc_sltd_entries (issuing_state, document_type, document_number, \
             status, reported_on, source, import_id, line) VALUES ",
        );
        for index in 0..chunk.len() {
            let base = index * 8;
            if index > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                base + 1,
                base + 2,
                base + 3,
                base + 4,
                base + 5,
                base + 6,
                base + 7,
                base + 8
            ));
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.issuing_state.clone())
                .bind(row.document_type.clone())
                .bind(row.document_number.clone())
                .bind(row.status.clone())
                .bind(row.reported_on.clone())
                .bind(row.source.clone())
                .bind(row.import_id.clone())
                .bind(row.line);
        }
        let done = query
            .execute(tx.conn())
            .await
            .map_err(StoreError::db("recording SLTD entries"))?;
        added += done.rows_affected();
    }
    Ok(added)
}

/// An import as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub id: String,
    pub sha256: String,
    pub imported_at: String,
    pub imported_by: String,
    pub lines: i64,
    pub added: i64,
    pub rejected: i64,
}

/// Records an import.
pub async fn record_import(tx: &mut Transaction, import: &ImportRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_sltd_imports (id, sha256, imported_at, imported_by, lines, added, \
         rejected) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&import.id)
    .bind(&import.sha256)
    .bind(&import.imported_at)
    .bind(&import.imported_by)
    .bind(import.lines)
    .bind(import.added)
    .bind(import.rejected)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording an SLTD import"))?;
    Ok(())
}

/// One of our revoked documents, for the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedRow {
    pub number: String,
    /// `ttd` or `passport`.
    pub kind: String,
    /// The revocation's reason (`lost`, `stolen`, `cancelled`, `damaged`).
    pub reason: Option<String>,
    /// RFC 3339: when it was revoked (its last change).
    pub updated_at: String,
}

/// Our revoked travel documents changed at or after `since` (RFC 3339 prefix), by number.
pub async fn revoked_since(pool: &sqlx::AnyPool, since: &str) -> Result<Vec<RevokedRow>> {
    let rows = sqlx::query(
        "SELECT number, kind, state_reason, updated_at FROM svc_documents \
         WHERE state = 'revoked' AND kind IN ('ttd', 'passport') AND updated_at >= $1 \
         ORDER BY number",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("listing revoked documents"))?;
    rows.iter()
        .map(|row| {
            Ok(RevokedRow {
                number: row.try_get("number")?,
                kind: row.try_get("kind")?,
                reason: row.try_get("state_reason")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StoreError::db("listing revoked documents"))
}
