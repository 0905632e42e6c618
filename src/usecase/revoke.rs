//! Revoking an issued document (lost, stolen, cancelled, damaged): who may revoke which kind,
//! the state change, its ledger entry and the idempotent answer, in one transaction. Called by
//! `POST /v1/documents/{number}/revoke` and the console's document page.

use crate::auth::Actor;
use crate::issuance::documents::{DocumentRecord, DocumentState, DocumentView, RevocationReason};
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::{IssuanceError, Records};
use travdoc_store::ledger::Event;

/// Revokes document `number` for `reason` as `actor`: consular staff revoke legalizations only,
/// issuers and approvers any kind, others TTDs only (another kind is "not found" to them).
pub async fn revoke(
    records: &Records,
    actor: &Actor,
    number: &str,
    reason: RevocationReason,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<DocumentView, IssuanceError> {
    let record = records.load_document(actor, number).await?;
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
    let now = records.now_text();
    let mut tx = records.db.begin().await?;
    if !records
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
    .view(records.now().date());
    idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
    tx.commit().await?;
    records.metrics.record_state_change("revoked");
    Ok(view)
}
