//! Issuing a batch of signed documents in one commit: the requests move from approved to
//! issued, their numbers from allocated to issued, the ledger entries are appended, and the
//! events, documents and idempotent responses are inserted (tables of migration
//! `0100_service.sql`; on PostgreSQL the server-side `issue_documents` of migration `0120`).

use std::collections::HashSet;

use sqlx::Row as _;

use crate::ledger::{Entry, PreparedEntry, placeholders};
use crate::{Backend, Result, Store, StoreError};

/// One signed issuance, ready to store.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub number: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: &'static str,
    pub request_id: String,
    pub mission: Option<String>,
    pub valid_until: String,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    /// JSON list of the MRZ lines.
    pub mrz: Option<String>,
    pub seal: Option<Vec<u8>>,
    pub sod: Option<Vec<u8>>,
    /// The issued data as JSON.
    pub payload: String,
    pub document_sha256: Option<String>,
    pub event_id: String,
    pub action: &'static str,
    pub leaf_sha256: String,
    /// The ledger entry and its idempotency key.
    pub entry_key: String,
    pub entry: Entry,
    /// The Idempotency-Key, its request hash and the response stored under it.
    pub idempotent: Option<(String, String, String)>,
    /// The previous passport a renewal or replacement cancels in the same commit.
    pub cancels: Option<Cancellation>,
}

/// A previous passport revoked by the issuance of its successor: only if it is still issued or
/// printed, with its own event row and ledger entry (`document.revoked`).
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub number: String,
    /// `lost`, `stolen`, `damaged` or `cancelled`.
    pub reason: String,
    pub event_id: String,
    pub action: &'static str,
    pub leaf_sha256: String,
    pub entry_key: String,
    pub entry: Entry,
}

/// What became of one issuance of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Stored, appended and committed.
    Issued,
    /// The request was not approved any more (a concurrent issue of it won, or it was named
    /// twice in the batch and the first won): nothing of this row was written, and its number
    /// is still allocated (the caller voids it).
    RequestChanged,
}

/// Why a batch failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A number of the batch was not allocated any more (voided by the recovery pass while
    /// its document was signed): nothing was written.
    #[error("document number {0} is not allocated any more")]
    NumberNotAllocated(String),
    /// The database answered something the statement does not produce.
    #[error("the issuing statement answered {0}")]
    Unexpected(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The SQLSTATE `issue_documents` raises when a row's number is not allocated any more.
const NUMBER_NOT_ALLOCATED: &str = "TDN01";

/// Issues `rows` in one commit: one autocommit statement on PostgreSQL (one round trip, one
/// ledger lock held inside the server), one transaction with a multi-row statement per table
/// on SQLite. A failure rolls the whole batch back.
pub async fn issue(store: &Store, rows: &[IssueRow]) -> Result<Vec<IssueOutcome>, IssueError> {
    match store.backend() {
        Backend::Postgres => issue_postgres(store.pool(), rows).await,
        Backend::Sqlite => issue_sqlite(store, rows).await,
    }
}

/// A row as `issue_documents` reads it, bytes as hex.
fn postgres_json(row: &IssueRow) -> Result<serde_json::Value> {
    let entry = PreparedEntry::new(&row.entry_key, &row.entry)?;
    let idempotent = row.idempotent.as_ref();
    let cancel = row.cancels.as_ref();
    let cancel_entry = cancel
        .map(|cancel| PreparedEntry::new(&cancel.entry_key, &cancel.entry))
        .transpose()?;
    Ok(serde_json::json!({
        "cancel_number": cancel.map(|cancel| &cancel.number),
        "cancel_reason": cancel.map(|cancel| &cancel.reason),
        "cancel_event_id": cancel.map(|cancel| &cancel.event_id),
        "cancel_action": cancel.map(|cancel| cancel.action),
        "cancel_leaf_sha256": cancel.map(|cancel| &cancel.leaf_sha256),
        "cancel_entry_key": cancel_entry.as_ref().map(|entry| entry.key()),
        "cancel_entry_kind": cancel_entry.as_ref().map(|entry| entry.kind()),
        "cancel_entry_time": cancel_entry.as_ref().map(|entry| entry.time()),
        "cancel_entry_leaf": cancel_entry.as_ref().map(|entry| hex::encode(entry.leaf())),
        "cancel_entry_body": cancel_entry.as_ref().map(|entry| hex::encode(entry.body())),
        "number": row.number,
        "kind": row.kind,
        "request_id": row.request_id,
        "mission": row.mission,
        "valid_until": row.valid_until,
        "at": row.at,
        "actor": row.actor,
        "mrz": row.mrz,
        "seal": row.seal.as_ref().map(hex::encode),
        "sod": row.sod.as_ref().map(hex::encode),
        "payload": row.payload,
        "document_sha256": row.document_sha256,
        "event_id": row.event_id,
        "action": row.action,
        "leaf_sha256": row.leaf_sha256,
        "entry_key": entry.key(),
        "entry_kind": entry.kind(),
        "entry_time": entry.time(),
        "entry_leaf": hex::encode(entry.leaf()),
        "entry_body": hex::encode(entry.body()),
        "idempotency_key": idempotent.map(|(key, _, _)| key),
        "request_hash": idempotent.map(|(_, hash, _)| hash),
        "response": idempotent.map(|(_, _, body)| body),
    }))
}

async fn issue_postgres(
    pool: &sqlx::AnyPool,
    rows: &[IssueRow],
) -> Result<Vec<IssueOutcome>, IssueError> {
    let list = rows.iter().map(postgres_json).collect::<Result<Vec<_>>>()?;
    let answered = sqlx::query(
        "SELECT item_ord::BIGINT AS item_ord, item_outcome FROM issue_documents($1::jsonb)",
    )
    .bind(serde_json::Value::Array(list).to_string())
    .fetch_all(pool)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(NUMBER_NOT_ALLOCATED) => {
            IssueError::NumberNotAllocated(db.message().to_owned())
        }
        _ => IssueError::Store(StoreError::db("issuing documents")(error)),
    })?;
    let mut outcomes = vec![None; rows.len()];
    for row in answered {
        let read = |error| IssueError::Store(StoreError::db("issuing documents")(error));
        let ord: i64 = row.try_get("item_ord").map_err(read)?;
        let outcome: String = row.try_get("item_outcome").map_err(read)?;
        let slot = usize::try_from(ord)
            .ok()
            .and_then(|ord| ord.checked_sub(1))
            .and_then(|index| outcomes.get_mut(index))
            .ok_or_else(|| IssueError::Unexpected(format!("item {ord}")))?;
        *slot = Some(match outcome.as_str() {
            "issued" => IssueOutcome::Issued,
            "request_changed" => IssueOutcome::RequestChanged,
            other => return Err(IssueError::Unexpected(format!("`{other}`"))),
        });
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.ok_or_else(|| IssueError::Unexpected("no row for an item".into())))
        .collect()
}

/// The same rules as `issue_documents`: a request not approved any more (or named twice: the
/// first row wins) answers [`IssueOutcome::RequestChanged`] with nothing written; a number not
/// allocated any more fails the batch, so a request is never issued without its number.
async fn issue_sqlite(store: &Store, rows: &[IssueRow]) -> Result<Vec<IssueOutcome>, IssueError> {
    let db = |operation| move |error| IssueError::Store(StoreError::db(operation)(error));
    let mut requests = HashSet::new();
    let candidates: Vec<&IssueRow> = rows
        .iter()
        .filter(|row| requests.insert(row.request_id.as_str()))
        .collect();
    let mut tx = store.begin().await?;
    let backend = tx.backend();

    // The requests that move from approved to issued.
    let sql = format!(
        "UPDATE svc_requests SET state = 'issued', document_number = j.column2, \
         updated_at = j.column3 FROM (VALUES {}) AS j \
         WHERE svc_requests.id = j.column1 AND svc_requests.state = 'approved' \
         RETURNING svc_requests.id",
        placeholders(backend, candidates.len(), 3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in &candidates {
        query = query
            .bind(row.request_id.clone())
            .bind(row.number.clone())
            .bind(row.at.clone());
    }
    let mut moved = HashSet::new();
    for answered in query
        .fetch_all(tx.conn())
        .await
        .map_err(db("issuing requests"))?
    {
        moved.insert(
            answered
                .try_get::<String, _>(0)
                .map_err(db("issuing requests"))?,
        );
    }
    let issued: Vec<&IssueRow> = candidates
        .into_iter()
        .filter(|row| moved.contains(&row.request_id))
        .collect();

    if !issued.is_empty() {
        // Their numbers move from allocated to issued, all of them or the batch fails.
        let sql = format!(
            "UPDATE svc_document_numbers SET state = 'issued', closed_at = j.column2 \
             FROM (VALUES {}) AS j \
             WHERE svc_document_numbers.number = j.column1 \
             AND svc_document_numbers.state = 'allocated'",
            placeholders(backend, issued.len(), 2)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in &issued {
            query = query.bind(row.number.clone()).bind(row.at.clone());
        }
        let closed = query
            .execute(tx.conn())
            .await
            .map_err(db("issuing numbers"))?
            .rows_affected();
        if closed != issued.len() as u64 {
            let numbers: Vec<&str> = issued.iter().map(|row| row.number.as_str()).collect();
            return Err(IssueError::NumberNotAllocated(numbers.join(", ")));
        }

        let entries: Vec<(&str, &Entry)> = issued
            .iter()
            .map(|row| (row.entry_key.as_str(), &row.entry))
            .collect();
        let appended = crate::ledger::append_batch_new(&mut tx, &entries).await?;
        if appended.len() != issued.len() {
            return Err(IssueError::Unexpected(
                "another number of ledger entries".into(),
            ));
        }

        let sql = format!(
            "INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256) VALUES {}",
            placeholders(backend, issued.len(), 6)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in &issued {
            query = query
                .bind(row.event_id.clone())
                .bind(row.at.clone())
                .bind(row.actor.clone())
                .bind(row.action)
                .bind(row.number.clone())
                .bind(row.leaf_sha256.clone());
        }
        query
            .execute(tx.conn())
            .await
            .map_err(db("recording events"))?;

        let sql = format!(
            "INSERT INTO svc_documents (number, kind, request_id, mission, state, valid_until, \
             issued_at, issued_by, mrz, seal, sod, payload, document_sha256, updated_at, \
             ledger_index) VALUES {}",
            placeholders(backend, issued.len(), 15)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (row, appended) in issued.iter().zip(&appended) {
            let index = i64::try_from(appended.index)
                .map_err(|_| IssueError::Unexpected("a ledger index beyond i64".into()))?;
            query = query
                .bind(row.number.clone())
                .bind(row.kind)
                .bind(row.request_id.clone())
                .bind(row.mission.clone())
                .bind("issued")
                .bind(row.valid_until.clone())
                .bind(row.at.clone())
                .bind(row.actor.clone())
                .bind(row.mrz.clone())
                .bind(row.seal.clone())
                .bind(row.sod.clone())
                .bind(row.payload.clone())
                .bind(row.document_sha256.clone())
                .bind(row.at.clone())
                .bind(index);
        }
        query
            .execute(tx.conn())
            .await
            .map_err(db("storing documents"))?;

        cancel_previous_sqlite(&mut tx, &issued).await?;

        let keyed: Vec<(&IssueRow, &(String, String, String))> = issued
            .iter()
            .filter_map(|row| row.idempotent.as_ref().map(|keyed| (*row, keyed)))
            .collect();
        if !keyed.is_empty() {
            let sql = format!(
                "INSERT INTO svc_idempotency \
                 (actor_id, key, request_hash, status, response, created_at) VALUES {}",
                placeholders(backend, keyed.len(), 6)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (row, (key, hash, body)) in keyed {
                query = query
                    .bind(row.actor.clone())
                    .bind(key.clone())
                    .bind(hash.clone())
                    .bind(200i64)
                    .bind(body.clone())
                    .bind(row.at.clone());
            }
            query
                .execute(tx.conn())
                .await
                .map_err(db("storing idempotent responses"))?;
        }
    }
    tx.commit().await?;
    let issued_numbers: HashSet<&str> = issued.iter().map(|row| row.number.as_str()).collect();
    Ok(rows
        .iter()
        .map(|row| {
            if issued_numbers.contains(row.number.as_str()) {
                IssueOutcome::Issued
            } else {
                IssueOutcome::RequestChanged
            }
        })
        .collect())
}

/// The previous passports the issued rows cancel: each revoked if still issued or printed,
/// then its event row and ledger entry (after the issuances' entries, in row order).
async fn cancel_previous_sqlite(
    tx: &mut crate::Transaction,
    issued: &[&IssueRow],
) -> Result<(), IssueError> {
    let db = |operation| move |error| IssueError::Store(StoreError::db(operation)(error));
    let mut cancelled: Vec<(&IssueRow, &Cancellation)> = Vec::new();
    for row in issued {
        let Some(cancel) = &row.cancels else {
            continue;
        };
        let done = sqlx::query(
            "UPDATE svc_documents SET state = 'revoked', state_reason = $2, updated_at = $3 \
             WHERE number = $1 AND kind = 'passport' AND state IN ('issued', 'printed')",
        )
        .bind(cancel.number.clone())
        .bind(cancel.reason.clone())
        .bind(row.at.clone())
        .execute(tx.conn())
        .await
        .map_err(db("cancelling a previous passport"))?;
        if done.rows_affected() == 1 {
            cancelled.push((row, cancel));
        }
    }
    if cancelled.is_empty() {
        return Ok(());
    }
    let entries: Vec<(&str, &Entry)> = cancelled
        .iter()
        .map(|(_, cancel)| (cancel.entry_key.as_str(), &cancel.entry))
        .collect();
    crate::ledger::append_batch_new(tx, &entries).await?;
    for (row, cancel) in cancelled {
        sqlx::query(
            "INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(cancel.event_id.clone())
        .bind(row.at.clone())
        .bind(row.actor.clone())
        .bind(cancel.action)
        .bind(cancel.number.clone())
        .bind(cancel.leaf_sha256.clone())
        .execute(tx.conn())
        .await
        .map_err(db("recording events"))?;
    }
    Ok(())
}
