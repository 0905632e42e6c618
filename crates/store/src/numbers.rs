//! Document numbers (`svc_number_series`, `svc_document_numbers`, migration `0100_service.sql`):
//! moving a series' counter, recording numbers `allocated`, claiming a pre-printed number,
//! voiding an aborted issuance's number, finding the ones a crash left allocated.
//!
//! The SQL lives here; the service decides what a number looks like ([`SeriesPieces`] is its
//! format cut into the parts SQL can render) and checks every number SQL rendered against its
//! own rendering.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::ledger::placeholders;
use crate::requests::{REQUEST_COLUMNS, RequestRow, request_row};
use crate::{Result, StoreError, Transaction};

/// A series and its format in the pieces SQL renders a number from:
/// `before || lpad(counter, width, '0') || after`, allocated only while the counter is below
/// `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPieces {
    pub series: String,
    pub before: String,
    pub width: i64,
    pub after: String,
    pub limit: i64,
    /// RFC 3339 time of the allocation.
    pub at: String,
}

/// The counter and number CTEs; `$1` to `$6` are bound by [`bind_pieces`], and a query `ok`
/// must be defined before them (one row: allocate; none: do not).
const ALLOCATE_CTES: &str = "s AS (INSERT INTO svc_number_series (series, last_value) \
       SELECT $1, 1 WHERE EXISTS (SELECT 1 FROM ok) \
       ON CONFLICT (series) DO UPDATE SET last_value = svc_number_series.last_value + 1 \
       RETURNING last_value), \
     n AS (INSERT INTO svc_document_numbers (number, series, state, request_id, allocated_at) \
       SELECT $2 || lpad(s.last_value::text, $3::int, '0') || $4, $1, 'allocated', $7, $5 \
       FROM s WHERE s.last_value < $6 RETURNING number)";

fn bind_pieces<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    pieces: &SeriesPieces,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(pieces.series.clone())
        .bind(pieces.before.clone())
        .bind(pieces.width)
        .bind(pieces.after.clone())
        .bind(pieces.at.clone())
        .bind(pieces.limit)
}

/// A counter value and the number SQL rendered for it: `(None, None)` when nothing was
/// allocated, `(Some(seq), None)` when the counter passed the series' limit.
pub type Rendered = (Option<i64>, Option<String>);

fn rendered(row: &AnyRow) -> std::result::Result<Rendered, sqlx::Error> {
    Ok((row.try_get("last_value")?, row.try_get("number")?))
}

/// PostgreSQL: allocates the next number of the series for `request_id` in one autocommit
/// statement (the counter's upsert and the `allocated` row as data-modifying `WITH` queries):
/// three round trips fewer than BEGIN, two statements and COMMIT; the counter row stays locked
/// only while the statement runs.
pub async fn allocate_one_postgres(
    pool: &sqlx::AnyPool,
    pieces: &SeriesPieces,
    request_id: &str,
) -> Result<Rendered> {
    let sql = format!(
        "WITH ok AS (SELECT 1), {ALLOCATE_CTES} \
         SELECT s.last_value, n.number FROM s LEFT JOIN n ON true"
    );
    let row = bind_pieces(sqlx::query(sqlx::AssertSqlSafe(sql)), pieces)
        .bind(request_id.to_owned())
        .fetch_one(pool)
        .await
        .map_err(StoreError::db("allocating a number"))?;
    rendered(&row).map_err(StoreError::db("allocating a number"))
}

/// One request a batch reads and allocates a number for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationAsk {
    pub request_id: String,
    /// Allocate only for a request of this mission.
    pub mission: Option<String>,
}

/// What a batch found for one ask: the request (none: no such request; an error: a row that
/// does not read) and the number allocated for it.
pub type Found = Option<(std::result::Result<RequestRow, String>, Rendered)>;

/// PostgreSQL: reads a batch of requests and, in the same statement, allocates the next
/// numbers of the series, in ask order, for those of `kind`, approved and (when the ask names
/// one) of that mission: the counter moves once for the batch. Once this returns the numbers
/// are committed.
pub async fn allocate_batch_postgres(
    pool: &sqlx::AnyPool,
    pieces: &SeriesPieces,
    kind: &str,
    asks: &[AllocationAsk],
) -> Result<Vec<Found>> {
    let list: Vec<serde_json::Value> = asks
        .iter()
        .map(|ask| serde_json::json!({"request": ask.request_id, "mission": ask.mission}))
        .collect();
    // `q` looks each request up by its key (LIMIT 1 keeps the planner from joining the whole
    // table, as it would for a set of unknown size); `a` numbers the allowed asks: the batch's
    // k numbers are the counter's last k values, in ask order.
    let sql = format!(
        "WITH i AS (SELECT e.ord, e.item->>'request' AS request, e.item->>'mission' AS scope \
           FROM jsonb_array_elements($8::jsonb) WITH ORDINALITY AS e(item, ord)), \
         q AS (SELECT i.ord, i.scope, t.* FROM i CROSS JOIN LATERAL \
           (SELECT {REQUEST_COLUMNS} FROM svc_requests WHERE id = i.request LIMIT 1) t), \
         ok AS (SELECT q.ord, q.id, row_number() OVER (ORDER BY q.ord) AS rn FROM q \
           WHERE q.kind = $7 AND q.state = 'approved' \
           AND (q.scope IS NULL OR q.mission = q.scope)), \
         c AS (SELECT count(*) AS k FROM ok), \
         s AS (INSERT INTO svc_number_series (series, last_value) \
           SELECT $1, c.k FROM c WHERE c.k > 0 \
           ON CONFLICT (series) DO UPDATE \
           SET last_value = svc_number_series.last_value + EXCLUDED.last_value \
           RETURNING last_value), \
         a AS (SELECT ok.ord, ok.id, s.last_value - c.k + ok.rn AS seq, \
           $2 || lpad((s.last_value - c.k + ok.rn)::text, $3::int, '0') || $4 AS number \
           FROM ok, s, c), \
         n AS (INSERT INTO svc_document_numbers \
           (number, series, state, request_id, allocated_at) \
           SELECT a.number, $1, 'allocated', a.id, $5 FROM a WHERE a.seq < $6 \
           RETURNING number) \
         SELECT q.*, a.seq AS last_value, n.number AS number FROM q \
           LEFT JOIN a ON a.ord = q.ord LEFT JOIN n ON n.number = a.number"
    );
    let rows = bind_pieces(sqlx::query(sqlx::AssertSqlSafe(sql)), pieces)
        .bind(kind.to_owned())
        .bind(serde_json::Value::Array(list).to_string())
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("allocating numbers"))?;
    // From here on the numbers are committed: what goes wrong is the ask's, never the batch's
    // (which would be run again and allocate twice).
    let mut found: Vec<Found> = (0..asks.len()).map(|_| None).collect();
    for row in rows {
        let slot = row
            .try_get::<i64, _>("ord")
            .ok()
            .and_then(|ord| usize::try_from(ord).ok())
            .and_then(|ord| ord.checked_sub(1))
            .and_then(|index| found.get_mut(index));
        // A row of no ask does not happen (`ord` comes from the asks); were it to, its number
        // would stay allocated and the recovery pass would void it.
        if let Some(slot) = slot {
            let request = request_row(&row).map_err(|error| error.to_string());
            let number = rendered(&row).unwrap_or((None, None));
            *slot = Some((request, number));
        }
    }
    Ok(found)
}

/// The requests with these ids (those that exist), read in the caller's transaction.
pub async fn requests_in(
    tx: &mut Transaction,
    ids: &[&str],
) -> Result<Vec<std::result::Result<RequestRow, (String, String)>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM svc_requests WHERE id IN {}",
        placeholders(tx.backend(), 1, ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind((*id).to_owned());
    }
    let rows = query
        .fetch_all(tx.conn())
        .await
        .map_err(StoreError::db("reading requests"))?;
    Ok(rows
        .iter()
        .map(|row| {
            request_row(row).map_err(|error| {
                let id = row.try_get::<String, _>("id").unwrap_or_default();
                (id, error.to_string())
            })
        })
        .collect())
}

/// Moves the series' counter by `count` (creating it at `count`) in the caller's transaction,
/// which holds the counter's row lock until it commits; returns the counter's new value.
pub async fn advance(tx: &mut Transaction, series: &str, count: i64) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO svc_number_series (series, last_value) VALUES ($1, $2) \
         ON CONFLICT (series) DO UPDATE \
         SET last_value = svc_number_series.last_value + excluded.last_value \
         RETURNING last_value",
    )
    .bind(series.to_owned())
    .bind(count)
    .fetch_one(tx.conn())
    .await
    .map_err(StoreError::db("moving a number counter"))
}

/// Records `(number, request id)` pairs `allocated` in `series`, in the caller's transaction.
pub async fn insert_allocated(
    tx: &mut Transaction,
    series: &str,
    numbers: &[(String, String)],
    at: &str,
) -> Result<()> {
    if numbers.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO svc_document_numbers (number, series, state, request_id, allocated_at) \
         VALUES {}",
        placeholders(tx.backend(), numbers.len(), 5)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (number, request_id) in numbers {
        query = query
            .bind(number.clone())
            .bind(series.to_owned())
            .bind("allocated")
            .bind(request_id.clone())
            .bind(at.to_owned());
    }
    query
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("recording allocated numbers"))?;
    Ok(())
}

/// Records a number the caller chose (a pre-printed booklet's) `allocated` in `series`, in its
/// own transaction. `false`: the number was used before, in any series.
pub async fn claim(
    store: &crate::Store,
    series: &str,
    number: &str,
    request_id: &str,
    at: &str,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO svc_document_numbers (number, series, state, request_id, allocated_at) \
         VALUES ($1, $2, 'allocated', $3, $4)",
    )
    .bind(number.to_owned())
    .bind(series.to_owned())
    .bind(request_id.to_owned())
    .bind(at.to_owned())
    .execute(tx.conn())
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Ok(false),
        Err(error) => return Err(StoreError::db("claiming a number")(error)),
    }
    tx.commit().await?;
    Ok(true)
}

/// Moves `number` from allocated to void with `reason`, in the caller's transaction; `false`
/// when it was not allocated.
pub async fn void(tx: &mut Transaction, number: &str, reason: &str, at: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_document_numbers SET state = 'void', closed_at = $2, reason = $3 \
         WHERE number = $1 AND state = 'allocated'",
    )
    .bind(number.to_owned())
    .bind(at.to_owned())
    .bind(reason.to_owned())
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("voiding a number"))?;
    Ok(done.rows_affected() == 1)
}

/// The numbers still `allocated` since before `before` (RFC 3339), in order.
pub async fn allocated_before(pool: &sqlx::AnyPool, before: &str) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT number FROM svc_document_numbers WHERE state = 'allocated' AND allocated_at < $1 \
         ORDER BY number",
    )
    .bind(before.to_owned())
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("finding numbers left allocated"))
}
