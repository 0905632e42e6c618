//! What verification reads of a document: one short row, looked up in batches.

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
            let unique: Vec<&str> = unique.into_iter().collect();
            let rows =
                travdoc_store::documents::statuses(self.db.reader(), self.db.backend(), &unique)
                    .await?;
            let mut found = std::collections::HashMap::new();
            for row in rows {
                found.insert(
                    row.number,
                    StatusRow {
                        kind: row.kind,
                        state: super::documents::DocumentState::parse(&row.state)?,
                        valid_until: row.valid_until,
                        ledger_index: row.ledger_index,
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
