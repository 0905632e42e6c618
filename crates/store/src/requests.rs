//! The requests' rows (`svc_requests`, migration `0100_service.sql`): recording one, reading
//! one, approving one, and the row every statement that reads requests returns (the batched
//! allocation in [`crate::numbers`] reads its requests with [`request_row`] too).

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, StoreError, Transaction};

/// The columns of [`RequestRow`], for a `SELECT`.
pub const REQUEST_COLUMNS: &str = "id, kind, state, mission, requested_by, approved_by, \
     data, photo, document_number, created_at, updated_at, checks";

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    /// `requested`, `approved` or `issued`.
    pub state: String,
    pub mission: Option<String>,
    pub requested_by: String,
    pub approved_by: Option<String>,
    /// The request's data as JSON.
    pub data: String,
    pub photo: Option<Vec<u8>>,
    pub document_number: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The checks' hits and their clearances (JSON array; migration `0160_checks.sql`), none
    /// for a request made before checks.
    pub checks: Option<String>,
}

/// The request a row of [`REQUEST_COLUMNS`] holds.
pub fn request_row(row: &AnyRow) -> std::result::Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        state: row.try_get("state")?,
        mission: row.try_get("mission")?,
        requested_by: row.try_get("requested_by")?,
        approved_by: row.try_get("approved_by")?,
        data: row.try_get("data")?,
        photo: row.try_get("photo")?,
        document_number: row.try_get("document_number")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        checks: row.try_get("checks")?,
    })
}

/// A request to record.
#[derive(Debug, Clone, Copy)]
pub struct NewRequest<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    /// `requested`, or `approved` for a kind approved when it is made (legalization).
    pub state: &'a str,
    pub mission: Option<&'a str>,
    pub requested_by: &'a str,
    pub approved_by: Option<&'a str>,
    /// JSON.
    pub data: &'a str,
    pub photo: Option<&'a [u8]>,
    /// RFC 3339; both the creation and the update time.
    pub now: &'a str,
    /// The checks' hits (JSON array), when the kind is checked.
    pub checks: Option<&'a str>,
}

/// Records a request.
pub async fn insert(tx: &mut Transaction, request: &NewRequest<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_requests (id, kind, state, mission, requested_by, approved_by, data, \
         photo, created_at, updated_at, checks) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
    )
    .bind(request.id)
    .bind(request.kind)
    .bind(request.state)
    .bind(request.mission)
    .bind(request.requested_by)
    .bind(request.approved_by)
    .bind(request.data)
    .bind(request.photo.map(<[u8]>::to_vec))
    .bind(request.now)
    .bind(request.checks)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a request"))?;
    Ok(())
}

/// A returned request corrected by its requester: new data, photo, checks and state (only if
/// it is still `returned` and `requested_by` lodged it).
pub async fn correct(
    tx: &mut Transaction,
    id: &str,
    requested_by: &str,
    change: &NewRequest<'_>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_requests SET data = $3, photo = $4, checks = $5, state = $6, updated_at = $7 \
         WHERE id = $1 AND requested_by = $2 AND state = 'returned'",
    )
    .bind(id)
    .bind(requested_by)
    .bind(change.data)
    .bind(change.photo.map(<[u8]>::to_vec))
    .bind(change.checks)
    .bind(change.state)
    .bind(change.now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("correcting a request"))?;
    Ok(done.rows_affected() == 1)
}

/// Moves request `id` from state `from` to `to` with its checks (JSON) as they now stand;
/// false when it was not in `from` (another officer acted first).
pub async fn transition(
    tx: &mut Transaction,
    id: &str,
    from: &str,
    to: &str,
    checks: Option<&str>,
    now: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_requests SET state = $3, checks = $4, updated_at = $5 \
         WHERE id = $1 AND state = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(checks)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("changing a request's state"))?;
    Ok(done.rows_affected() == 1)
}

/// The request `id`, if any.
pub async fn by_id(pool: &sqlx::AnyPool, id: &str) -> Result<Option<RequestRow>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM svc_requests WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a request"))?;
    row.as_ref()
        .map(request_row)
        .transpose()
        .map_err(StoreError::db("reading a request"))
}

/// Moves request `id` from `requested` to `approved` by `approver`, unless the approver made
/// the request and `allow_own` is false (four eyes). Whether it moved.
pub async fn approve(
    tx: &mut Transaction,
    id: &str,
    approver: &str,
    now: &str,
    allow_own: bool,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_requests SET state = 'approved', approved_by = $2, updated_at = $3 \
         WHERE id = $1 AND state = 'requested' AND (requested_by <> $2 OR $4 = 1)",
    )
    .bind(id)
    .bind(approver)
    .bind(now)
    .bind(i64::from(allow_own))
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("approving a request"))?;
    Ok(done.rows_affected() == 1)
}

/// The applicant's photo of request `id` (none when the request has none or does not exist).
pub async fn photo(pool: &sqlx::AnyPool, id: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT photo FROM svc_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a request's photo"))?;
    match row {
        Some(row) => row
            .try_get("photo")
            .map_err(StoreError::db("reading a request's photo")),
        None => Ok(None),
    }
}

/// The newest `limit` requests of `kind`, optionally of one state and one mission.
pub async fn list(
    pool: &sqlx::AnyPool,
    kind: &str,
    state: Option<&str>,
    mission: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM svc_requests \
         WHERE kind = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR mission = $3) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind)
        .bind(state.map(str::to_owned))
        .bind(mission.map(str::to_owned))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("listing requests"))?;
    rows.iter()
        .map(request_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("listing requests"))
}
