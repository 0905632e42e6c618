//! Load-test data: `count` issued documents with their requests and applicants, written
//! straight into the tables the checks before issuance read (`svc_requests`,
//! `svc_request_people`, `svc_documents`), so that a benchmark measures the checks against a
//! registry of a national size. They are not signed and not on the ledger: nothing but a
//! benchmark's data dir gets them (`travdoc bench seed`, `scripts/load-test.sh`).
//!
//! Seeded numbers are `Q` and eight digits, requests `seed-<n>`, names `SEED<<PERSON<n>`
//! (every one another person), NICs `20` and ten digits; half passports, half TTDs.

use crate::{Backend, Result, Store, StoreError};

/// Rows per statement.
const CHUNK: u64 = 50_000;

/// Seeds `count` documents numbered from `first`; returns how many were written.
pub async fn documents(store: &Store, first: u64, count: u64) -> Result<u64> {
    let mut written = 0;
    let mut start = first;
    let end = first + count;
    while start < end {
        let stop = (start + CHUNK).min(end);
        let mut tx = store.begin().await?;
        let (series, number, nic) = match store.backend() {
            Backend::Sqlite => (
                format!(
                    "WITH RECURSIVE s(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM s \
                     WHERE i + 1 < {stop})"
                ),
                "printf('Q%08d', s.i)",
                "printf('20%010d', s.i)",
            ),
            Backend::Postgres => (
                format!(
                    "WITH s(i) AS (SELECT generate_series({start}::BIGINT, {stop}::BIGINT - 1))"
                ),
                "'Q' || lpad(s.i::TEXT, 8, '0')",
                "'20' || lpad(s.i::TEXT, 10, '0')",
            ),
        };
        let kind = "CASE WHEN s.i % 2 = 0 THEN 'passport' ELSE 'ttd' END";
        let statements = [
            format!(
                "{series} INSERT INTO svc_requests (id, kind, state, mission, requested_by, \
                 approved_by, data, photo, document_number, created_at, updated_at, checks) \
                 SELECT 'seed-' || s.i, {kind}, 'issued', NULL, 'seed', 'seed', '{{}}', NULL, \
                 {number}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '[]' FROM s"
            ),
            format!(
                "{series} INSERT INTO svc_request_people (request_id, kind, mission, nic, \
                 name_key, birth_date, sex, case_id, created_at) \
                 SELECT 'seed-' || s.i, {kind}, NULL, {nic}, 'SEED<<PERSON<' || s.i, \
                 '1970-01-01', 'M', NULL, '2026-01-01T00:00:00Z' FROM s"
            ),
            format!(
                "{series} INSERT INTO svc_documents (number, kind, request_id, mission, state, \
                 state_reason, valid_until, issued_at, issued_by, mrz, seal, sod, payload, \
                 document_sha256, ledger_index, updated_at) \
                 SELECT {number}, {kind}, 'seed-' || s.i, NULL, 'issued', NULL, '2031-01-01', \
                 '2026-01-01T00:00:00Z', 'seed', NULL, NULL, NULL, '{{}}', NULL, NULL, \
                 '2026-01-01T00:00:00Z' FROM s"
            ),
        ];
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(tx.conn())
                .await
                .map_err(StoreError::db("seeding documents"))?;
        }
        tx.commit().await?;
        written += stop - start;
        start = stop;
    }
    Ok(written)
}
