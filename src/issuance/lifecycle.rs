//! What every state change of an issued document shares (`change_state`), and the recovery of
//! numbers an interrupted issuance left allocated. The jobs that change a document's state are
//! use cases: `usecase/revoke.rs`, `usecase/clear_arrival.rs`, printing.

use super::documents::DocumentState;
use super::numbering;
use super::{IssuanceError, Records};
use crate::db::Tx;

impl Records {
    pub(crate) async fn change_state(
        &self,
        tx: &mut Tx,
        number: &str,
        from: &[DocumentState],
        to: DocumentState,
        reason: Option<&str>,
        now: &str,
    ) -> Result<bool, IssuanceError> {
        let from: Vec<&str> = from.iter().map(|state| state.as_str()).collect();
        Ok(
            travdoc_store::documents::change_state(tx, number, &from, to.as_str(), reason, now)
                .await?,
        )
    }

    /// Voids stale allocations left by a crash (startup recovery pass).
    pub async fn recover_numbers(
        &self,
        grace: time::Duration,
    ) -> Result<Vec<String>, IssuanceError> {
        let now = self.now();
        numbering::recover(&self.db, now - grace, now).await
    }
}
