//! Clearing a TTD's holder on arrival: a valid single-journey TTD becomes used, with its ledger
//! entry and the idempotent answer, in one transaction. Called by
//! `POST /v1/documents/{number}/clear-arrival` and the console's document page.

use crate::auth::Actor;
use crate::issuance::documents::{DocumentRecord, DocumentState, DocumentStatus, DocumentView};
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::{IssuanceError, Records};
use travdoc_store::ledger::Event;

/// Marks the single-journey TTD `number` used: it must be valid (not revoked, used or expired).
pub async fn clear_arrival(
    records: &Records,
    actor: &Actor,
    number: &str,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<DocumentView, IssuanceError> {
    let record = records.load_document(actor, number).await?;
    if record.kind != Kind::Ttd {
        return Err(IssuanceError::invalid(
            "number",
            "only a TTD (single journey) is cleared on arrival",
        ));
    }
    let today = records.now().date();
    let status = record.status(today);
    if status != DocumentStatus::Valid {
        return Err(IssuanceError::WrongState {
            what: "document",
            id: number.to_owned(),
            state: status.as_str().to_owned(),
            expected: "valid",
        });
    }
    let now = records.now_text();
    let mut tx = records.db.begin().await?;
    if !records
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
    records.metrics.record_state_change("used");
    Ok(view)
}
