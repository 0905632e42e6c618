//! The figures of the reports (`usecase::reports`): issuances per day by kind and mission,
//! print jobs per day by printer and state, blanks spoiled per day by type and location. Days
//! are the first ten characters of the RFC 3339 times (UTC); `from` and `to` are days,
//! both included.

use sqlx::Row as _;

use crate::{Result, StoreError};

/// One count of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The first grouping (kind, printer, document type).
    pub first: String,
    /// The second grouping (mission, state, location); empty when none.
    pub second: String,
    pub count: i64,
}

async fn counts(
    pool: &sqlx::AnyPool,
    sql: &'static str,
    from: &str,
    to: &str,
) -> Result<Vec<DayCount>> {
    // Days compared as `YYYY-MM-DD` texts of one length: the same order under any collation
    // (a locale's collation may skip punctuation, so a time is never compared with a day).
    let rows = sqlx::query(sql)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("reading report figures"))?;
    rows.iter()
        .map(|row| {
            Ok(DayCount {
                day: row.try_get("day")?,
                first: row.try_get("first")?,
                second: row.try_get("second")?,
                count: row.try_get("n")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(StoreError::db("reading report figures"))
}

/// Documents issued per day, by kind and mission (empty for headquarters).
pub async fn issuances(pool: &sqlx::AnyPool, from: &str, to: &str) -> Result<Vec<DayCount>> {
    counts(
        pool,
        "SELECT substr(issued_at, 1, 10) AS day, kind AS first, \
         COALESCE(mission, '') AS second, COUNT(*) AS n FROM svc_documents \
         WHERE substr(issued_at, 1, 10) >= $1 AND substr(issued_at, 1, 10) <= $2 \
         GROUP BY substr(issued_at, 1, 10), kind, COALESCE(mission, '') \
         ORDER BY day, first, second",
        from,
        to,
    )
    .await
}

/// Print jobs per day, by printer and state.
pub async fn print_jobs(pool: &sqlx::AnyPool, from: &str, to: &str) -> Result<Vec<DayCount>> {
    counts(
        pool,
        "SELECT substr(created_at, 1, 10) AS day, printer AS first, state AS second, \
         COUNT(*) AS n FROM svc_print_jobs \
         WHERE substr(created_at, 1, 10) >= $1 AND substr(created_at, 1, 10) <= $2 \
         GROUP BY substr(created_at, 1, 10), printer, state ORDER BY day, first, second",
        from,
        to,
    )
    .await
}

/// Blanks spoiled per day, by document type and location.
pub async fn spoiled(pool: &sqlx::AnyPool, from: &str, to: &str) -> Result<Vec<DayCount>> {
    counts(
        pool,
        "SELECT substr(updated_at, 1, 10) AS day, doc_type AS first, location AS second, \
         COUNT(*) AS n FROM svc_blanks \
         WHERE state = 'spoiled' AND substr(updated_at, 1, 10) >= $1 \
         AND substr(updated_at, 1, 10) <= $2 \
         GROUP BY substr(updated_at, 1, 10), doc_type, location ORDER BY day, first, second",
        from,
        to,
    )
    .await
}
