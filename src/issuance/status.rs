//! What verification reads of a document: one short row, looked up in batches.

use sqlx::Row as _;

use super::batch::BatchStatement;
/// What verification reads of a document.
#[derive(Debug, Clone)]
pub struct StatusRow {
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    pub state: super::documents::DocumentState,
    pub valid_until: String,
    pub ledger_index: Option<i64>,
}

/// The documents of a batch of verifications, read with one query (on the read pool): under
/// load every verification made one, and on PostgreSQL the per-query cost of both processes
/// was most of the database's share of a verification.
pub(crate) struct StatusLookup {
    pub(crate) db: super::Db,
}

impl BatchStatement for StatusLookup {
    type Item = String;
    type Outcome = Option<StatusRow>;
    const NAME: &'static str = "status";

    fn run<'a>(
        &'a self,
        numbers: &'a [String],
    ) -> super::batch::StatementFuture<'a, Option<StatusRow>> {
        Box::pin(async move {
            let unique: std::collections::BTreeSet<&str> =
                numbers.iter().map(String::as_str).collect();
            let sql = format!(
                "SELECT number, kind, state, valid_until, ledger_index FROM svc_documents \
                 WHERE number IN {}",
                travdoc_store::ledger::placeholders(self.db.backend(), 1, unique.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for number in &unique {
                query = query.bind((*number).to_owned());
            }
            let mut found = std::collections::HashMap::new();
            for row in query.fetch_all(self.db.reader()).await? {
                let number: String = row.try_get("number")?;
                found.insert(
                    number,
                    StatusRow {
                        kind: row.try_get("kind")?,
                        state: super::documents::DocumentState::parse(
                            &row.try_get::<String, _>("state")?,
                        )?,
                        valid_until: row.try_get("valid_until")?,
                        ledger_index: row.try_get("ledger_index")?,
                    },
                );
            }
            Ok(numbers
                .iter()
                .map(|number| found.get(number).cloned())
                .collect())
        })
    }
}
