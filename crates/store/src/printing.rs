//! Blank stock and print jobs (`svc_blanks`, migration `0110_blank_stock.sql`;
//! `svc_print_jobs`, `0100_service.sql`): registering blanks, counting them, reserving one for a
//! job and settling it (used, returned, spoiled), and recording the jobs.

use sqlx::Row as _;

use crate::{Result, StoreError, Transaction};

/// Registers blank `serial`; `false` when that serial is registered already.
pub async fn insert_blank(
    tx: &mut Transaction,
    serial: &str,
    doc_type: &str,
    location: &str,
    added_by: &str,
    now: &str,
) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO svc_blanks (serial, doc_type, location, state, added_by, added_at, \
         updated_at) VALUES ($1, $2, $3, 'available', $4, $5, $5)",
    )
    .bind(serial)
    .bind(doc_type)
    .bind(location)
    .bind(added_by)
    .bind(now)
    .execute(tx.conn())
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(source) => Err(StoreError::Database {
            operation: "registering a blank",
            source,
        }),
    }
}

/// Blanks of one type, location and state (one line of `travdoc stock list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StockRow {
    pub doc_type: String,
    pub location: String,
    pub state: String,
    pub count: i64,
    pub first: String,
    pub last: String,
}

/// Blank stock by type, location and state.
pub async fn stock(pool: &sqlx::AnyPool) -> Result<Vec<StockRow>> {
    let rows = sqlx::query(
        "SELECT doc_type, location, state, COUNT(*) AS n, MIN(serial) AS first, \
         MAX(serial) AS last FROM svc_blanks GROUP BY doc_type, location, state \
         ORDER BY doc_type, location, state",
    )
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("reading blank stock"))?;
    rows.iter()
        .map(|row| {
            Ok(StockRow {
                doc_type: row.try_get("doc_type")?,
                location: row.try_get("location")?,
                state: row.try_get("state")?,
                count: row.try_get("n")?,
                first: row.try_get("first")?,
                last: row.try_get("last")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StoreError::db("reading blank stock"))
}

/// How many blanks of `doc_type` were ever registered at `location`.
pub async fn registered_blanks(
    pool: &sqlx::AnyPool,
    doc_type: &str,
    location: &str,
) -> Result<i64> {
    sqlx::query("SELECT COUNT(*) AS n FROM svc_blanks WHERE doc_type = $1 AND location = $2")
        .bind(doc_type)
        .bind(location)
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get("n"))
        .map_err(StoreError::db("counting blanks"))
}

/// The lowest available blank of `doc_type` at `location`.
pub async fn lowest_available_blank(
    pool: &sqlx::AnyPool,
    doc_type: &str,
    location: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT serial FROM svc_blanks WHERE doc_type = $1 AND location = $2 \
         AND state = 'available' ORDER BY serial LIMIT 1",
    )
    .bind(doc_type)
    .bind(location)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("finding a blank"))?;
    row.map(|row| row.try_get("serial"))
        .transpose()
        .map_err(StoreError::db("finding a blank"))
}

/// Reserves blank `serial` for job `job_id` printing `number`, if it is still available.
pub async fn reserve_blank(
    pool: &sqlx::AnyPool,
    serial: &str,
    job_id: &str,
    number: &str,
    now: &str,
) -> Result<bool> {
    let taken = sqlx::query(
        "UPDATE svc_blanks SET state = 'reserved', job_id = $2, number = $3, \
         updated_at = $4 WHERE serial = $1 AND state = 'available'",
    )
    .bind(serial)
    .bind(job_id)
    .bind(number)
    .bind(now)
    .execute(pool)
    .await
    .map_err(StoreError::db("reserving a blank"))?;
    Ok(taken.rows_affected() == 1)
}

/// Settles a reserved blank: `used` when the job printed, back to `available` when it failed.
pub async fn settle_blank(
    tx: &mut Transaction,
    serial: &str,
    printed: bool,
    now: &str,
) -> Result<()> {
    let query = if printed {
        "UPDATE svc_blanks SET state = 'used', updated_at = $2 WHERE serial = $1"
    } else {
        "UPDATE svc_blanks SET state = 'available', job_id = NULL, number = NULL, \
         updated_at = $2 WHERE serial = $1"
    };
    sqlx::query(query)
        .bind(serial)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("settling a blank"))?;
    Ok(())
}

/// Marks blank `serial` spoiled, with the reason.
pub async fn spoil_blank(
    tx: &mut Transaction,
    serial: &str,
    reason: &str,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE svc_blanks SET state = 'spoiled', reason = $2, updated_at = $3 WHERE serial = $1",
    )
    .bind(serial)
    .bind(reason)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("spoiling a blank"))?;
    Ok(())
}

/// The blank of document `number`'s last successful print job.
pub async fn last_printed_blank(pool: &sqlx::AnyPool, number: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT blank_serial FROM svc_print_jobs WHERE number = $1 \
         AND state IN ('sent', 'completed') ORDER BY attempt DESC LIMIT 1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading print jobs"))?;
    Ok(row
        .map(|row| row.try_get::<Option<String>, _>("blank_serial"))
        .transpose()
        .map_err(StoreError::db("reading print jobs"))?
        .flatten())
}

/// A print job to record as `queued`.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub printer: &'a str,
    pub created_by: &'a str,
    pub now: &'a str,
    pub blank_serial: Option<&'a str>,
    pub reprint_reason: Option<&'a str>,
}

/// Records a queued job for its document, numbered after the document's earlier jobs; returns
/// its attempt number (1 for the first). A first print (no reprint reason) is recorded only when
/// no other job of the document is queued, sent or completed: `None` otherwise (a double click,
/// or a second operator at once), with nothing written. On PostgreSQL the document's row is
/// locked for the check; SQLite's single writer serialises it anyway.
pub async fn queue_job(tx: &mut Transaction, job: &NewJob<'_>) -> Result<Option<i64>> {
    if job.reprint_reason.is_none() {
        if tx.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT number FROM svc_documents WHERE number = $1 FOR UPDATE")
                .bind(job.number)
                .fetch_optional(tx.conn())
                .await
                .map_err(StoreError::db("locking a document for printing"))?;
        }
        let under_way: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM svc_print_jobs \
             WHERE number = $1 AND state IN ('queued', 'sent', 'completed')",
        )
        .bind(job.number)
        .fetch_one(tx.conn())
        .await
        .and_then(|row| row.try_get("n"))
        .map_err(StoreError::db("checking print jobs"))?;
        if under_way > 0 {
            return Ok(None);
        }
    }
    let earlier: i64 = sqlx::query("SELECT COUNT(*) AS n FROM svc_print_jobs WHERE number = $1")
        .bind(job.number)
        .fetch_one(tx.conn())
        .await
        .and_then(|row| row.try_get("n"))
        .map_err(StoreError::db("counting print jobs"))?;
    let attempt = earlier + 1;
    sqlx::query(
        "INSERT INTO svc_print_jobs (id, number, printer, state, detail, created_by, \
         created_at, updated_at, blank_serial, reprint_reason, attempt) \
         VALUES ($1, $2, $3, 'queued', NULL, $4, $5, $5, $6, $7, $8)",
    )
    .bind(job.id)
    .bind(job.number)
    .bind(job.printer)
    .bind(job.created_by)
    .bind(job.now)
    .bind(job.blank_serial)
    .bind(job.reprint_reason)
    .bind(attempt)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a print job"))?;
    Ok(Some(attempt))
}

/// Jobs still `queued` since before `before` (RFC 3339): their printer's answer was never
/// recorded (the process stopped, or the commit failed). `(id, number, blank serial)`.
pub async fn stale_queued(
    pool: &sqlx::AnyPool,
    before: &str,
) -> Result<Vec<(String, String, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT id, number, blank_serial FROM svc_print_jobs \
         WHERE state = 'queued' AND updated_at < $1 ORDER BY created_at",
    )
    .bind(before)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("finding interrupted print jobs"))?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("number")?,
                row.try_get("blank_serial")?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::db("finding interrupted print jobs"))
}

/// Records the printer's answer to job `id`: `completed`, `sent` or `failed`, with its detail.
pub async fn finish_job(
    tx: &mut Transaction,
    id: &str,
    state: &str,
    detail: Option<&str>,
    now: &str,
) -> Result<()> {
    sqlx::query("UPDATE svc_print_jobs SET state = $2, detail = $3, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(detail)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("recording a print job's outcome"))?;
    Ok(())
}

/// Moves blank `serial` of `doc_type` from `from` to `to` if it is available there; whether it
/// moved.
pub async fn move_blank(
    tx: &mut Transaction,
    serial: &str,
    doc_type: &str,
    (from, to): (&str, &str),
    now: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_blanks SET location = $4, updated_at = $5 \
         WHERE serial = $1 AND doc_type = $2 AND location = $3 AND state = 'available'",
    )
    .bind(serial)
    .bind(doc_type)
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("moving a blank"))?;
    Ok(done.rows_affected() == 1)
}

/// Marks blank `serial` spoiled by hand, with the reason, if it is available (a reserved or
/// used blank is settled by its print job) and, given `at`, held at that location; whether it
/// was.
pub async fn spoil_available_blank(
    tx: &mut Transaction,
    serial: &str,
    at: Option<&str>,
    reason: &str,
    now: &str,
) -> Result<bool> {
    let query = match at {
        Some(location) => sqlx::query(
            "UPDATE svc_blanks SET state = 'spoiled', reason = $2, updated_at = $3 \
             WHERE serial = $1 AND state = 'available' AND location = $4",
        )
        .bind(serial)
        .bind(reason)
        .bind(now)
        .bind(location),
        None => sqlx::query(
            "UPDATE svc_blanks SET state = 'spoiled', reason = $2, updated_at = $3 \
             WHERE serial = $1 AND state = 'available'",
        )
        .bind(serial)
        .bind(reason)
        .bind(now),
    };
    let done = query
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("spoiling a blank"))?;
    Ok(done.rows_affected() == 1)
}
