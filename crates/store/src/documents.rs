//! The issued documents' rows (`svc_documents`, migration `0100_service.sql`): reading one or a
//! page of them, moving one from a state to another, and the status rows verification reads in
//! batches. The SQL of these jobs lives here, beside its schema; the service gets typed rows and
//! parses their names (kind, state) into its own types.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Backend, Result, StoreError, Transaction};

/// A document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub number: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    pub request_id: String,
    pub mission: Option<String>,
    /// `issued`, `printed`, `used` or `revoked`.
    pub state: String,
    pub state_reason: Option<String>,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    /// RFC 3339.
    pub issued_at: String,
    /// The MRZ lines as a JSON array.
    pub mrz: Option<String>,
    pub seal: Option<Vec<u8>>,
    /// The issued data as JSON.
    pub payload: String,
    pub ledger_index: Option<i64>,
}

const DOCUMENT_COLUMNS: &str = "number, kind, request_id, mission, state, state_reason, \
     valid_until, issued_at, mrz, seal, payload, ledger_index";

fn document_row(row: &AnyRow) -> std::result::Result<DocumentRow, sqlx::Error> {
    Ok(DocumentRow {
        number: row.try_get("number")?,
        kind: row.try_get("kind")?,
        request_id: row.try_get("request_id")?,
        mission: row.try_get("mission")?,
        state: row.try_get("state")?,
        state_reason: row.try_get("state_reason")?,
        valid_until: row.try_get("valid_until")?,
        issued_at: row.try_get("issued_at")?,
        mrz: row.try_get("mrz")?,
        seal: row.try_get("seal")?,
        payload: row.try_get("payload")?,
        ledger_index: row.try_get("ledger_index")?,
    })
}

/// The document issued under `number`, if any.
pub async fn by_number(pool: &sqlx::AnyPool, number: &str) -> Result<Option<DocumentRow>> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM svc_documents WHERE number = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(number)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a document"))?;
    row.as_ref()
        .map(document_row)
        .transpose()
        .map_err(StoreError::db("reading a document"))
}

/// Which documents a page lists. `state` is a stored state, or `valid` / `expired` (issued or
/// printed, and within or past `valid_until` on `today`).
#[derive(Debug, Clone, Default)]
pub struct DocumentQuery<'a> {
    pub kind: Option<&'a str>,
    pub mission: Option<&'a str>,
    pub state: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub today: &'a str,
    pub limit: i64,
    pub offset: i64,
    /// Only the documents of the requests whose applicant matches (see
    /// [`crate::people::PersonFilter`]).
    pub person: crate::people::PersonFilter,
}

/// A page of documents, newest first.
pub async fn list(pool: &sqlx::AnyPool, query: &DocumentQuery<'_>) -> Result<Vec<DocumentRow>> {
    let (person, values) = crate::people::document_conditions(&query.person, 7);
    let sql = format!(
        "SELECT {DOCUMENT_COLUMNS} FROM svc_documents \
         WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR mission = $2) \
         AND ($3 IS NULL OR state = $3 \
           OR ($3 = 'valid' AND state IN ('issued', 'printed') AND valid_until >= $4) \
           OR ($3 = 'expired' AND state IN ('issued', 'printed') AND valid_until < $4)){person} \
         ORDER BY issued_at DESC, number DESC LIMIT $5 OFFSET $6"
    );
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(query.kind.map(str::to_owned))
        .bind(query.mission.map(str::to_owned))
        .bind(query.state.map(str::to_owned))
        .bind(query.today)
        .bind(query.limit)
        .bind(query.offset);
    for value in values {
        statement = statement.bind(value);
    }
    let rows = statement
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("listing documents"))?;
    rows.iter()
        .map(document_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("listing documents"))
}

/// Moves document `number` to state `to` when it is in one of `from` (at most three states),
/// recording `reason` and `now`. Whether it moved.
pub async fn change_state(
    tx: &mut Transaction,
    number: &str,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
    now: &str,
) -> Result<bool> {
    // Spelled out to keep the SQL static.
    let first = from.first().copied().unwrap_or("");
    let second = from.get(1).copied().unwrap_or(first);
    let third = from.get(2).copied().unwrap_or(first);
    let done = sqlx::query(
        "UPDATE svc_documents SET state = $2, state_reason = $3, updated_at = $4 \
         WHERE number = $1 AND state IN ($5, $6, $7)",
    )
    .bind(number)
    .bind(to)
    .bind(reason)
    .bind(now)
    .bind(first)
    .bind(second)
    .bind(third)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("changing a document's state"))?;
    Ok(done.rows_affected() == 1)
}

/// What verification reads of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub number: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    /// `issued`, `printed`, `used` or `revoked`.
    pub state: String,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    pub ledger_index: Option<i64>,
}

/// The status rows of the documents among `numbers`, in one query (on `pool`, the read pool).
/// A number with no document has no row.
pub async fn statuses(
    pool: &sqlx::AnyPool,
    backend: Backend,
    numbers: &[&str],
) -> Result<Vec<StatusRow>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT number, kind, state, valid_until, ledger_index FROM svc_documents \
         WHERE number IN {}",
        crate::ledger::placeholders(backend, 1, numbers.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for number in numbers {
        query = query.bind((*number).to_owned());
    }
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("reading document statuses"))?;
    rows.iter()
        .map(|row| {
            Ok(StatusRow {
                number: row.try_get("number")?,
                kind: row.try_get("kind")?,
                state: row.try_get("state")?,
                valid_until: row.try_get("valid_until")?,
                ledger_index: row.try_get("ledger_index")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StoreError::db("reading document statuses"))
}
