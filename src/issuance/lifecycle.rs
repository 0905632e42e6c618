//! A document's life after issue: revocation, arrival clearance, and the recovery of numbers
//! an interrupted issuance left allocated.

use super::db::Tx;
use super::documents::{
    DocumentRecord, DocumentState, DocumentStatus, DocumentView, RevocationReason,
};
use super::idempotency::{self, IdempotencyKey};
use super::ledger::{self, LedgerEvent};
use super::numbering::{self, Kind};
use super::{IssuanceError, Service};
use crate::auth::Actor;
use travdoc_store::ledger::Event;

impl Service {
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

    /// `POST /v1/documents/{number}/revoke`.
    pub async fn revoke(
        &self,
        actor: &Actor,
        number: &str,
        reason: RevocationReason,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<DocumentView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        if actor.role == crate::auth::Role::Consular && record.kind != Kind::Legalization {
            return Err(IssuanceError::NotFound {
                what: "document",
                id: number.to_owned(),
            });
        }
        if actor.role != crate::auth::Role::Consular
            && actor.role != crate::auth::Role::Issuer
            && actor.role != crate::auth::Role::Approver
            && record.kind != Kind::Ttd
        {
            return Err(IssuanceError::NotFound {
                what: "document",
                id: number.to_owned(),
            });
        }
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
        if !self
            .change_state(
                &mut tx,
                number,
                &[DocumentState::Issued, DocumentState::Printed],
                DocumentState::Revoked,
                Some(reason.as_str()),
                &now,
            )
            .await?
        {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: record.state.as_str().to_owned(),
                expected: "issued or printed",
            });
        }
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "document.revoked",
                number,
                &actor.id,
                &serde_json::json!({"number": number, "reason": reason.as_str()}),
                &now,
            )
            .with_entry(Event::DocumentRevoked {
                document_ref: number.to_owned(),
                reason: reason.as_str().to_owned(),
                operator_ref: actor.id.clone(),
            }),
        )
        .await?;
        let view = DocumentRecord {
            state: DocumentState::Revoked,
            state_reason: Some(reason.as_str().to_owned()),
            ..record
        }
        .view(self.now().date());
        idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
        tx.commit().await?;
        self.metrics.record_state_change("revoked");
        Ok(view)
    }

    /// `POST /v1/documents/{number}/clear-arrival`: marks a single-journey TTD used.
    pub async fn clear_arrival(
        &self,
        actor: &Actor,
        number: &str,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<DocumentView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        if record.kind != Kind::Ttd {
            return Err(IssuanceError::invalid(
                "number",
                "only a TTD (single journey) is cleared on arrival",
            ));
        }
        let today = self.now().date();
        let status = record.status(today);
        if status != DocumentStatus::Valid {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: status.as_str().to_owned(),
                expected: "valid",
            });
        }
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
        if !self
            .change_state(
                &mut tx,
                number,
                &[DocumentState::Issued, DocumentState::Printed],
                DocumentState::Used,
                None,
                &now,
            )
            .await?
        {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: "changed concurrently".to_owned(),
                expected: "valid",
            });
        }
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "ttd.arrival_cleared",
                number,
                &actor.id,
                &serde_json::json!({"number": number}),
                &now,
            )
            .with_entry(Event::ArrivalCleared {
                document_ref: number.to_owned(),
                port: String::new(),
                operator_ref: actor.id.clone(),
            }),
        )
        .await?;
        let view = DocumentRecord {
            state: DocumentState::Used,
            ..record
        }
        .view(today);
        idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
        tx.commit().await?;
        self.metrics.record_state_change("used");
        Ok(view)
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
