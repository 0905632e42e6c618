//! Approving a request: the second officer's act (four eyes: the approver is never the
//! requester), its ledger entry and the idempotent answer, in one transaction. Called by the API
//! (`POST /v1/ttds/{id}/approve`, `/v1/passport-applications/{id}/approve`), the console and the
//! offline issuing commands.

use crate::auth::Actor;
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestRecord, RequestState, RequestView};
use crate::issuance::{IssuanceError, Records};
use travdoc_store::ledger::Event;

/// Whether an approval must come from someone other than the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FourEyes {
    Required,
    Waived,
}

/// Approves a request (four-eyes: the approver must not be the requester).
pub async fn approve(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    approve_with(
        records,
        actor,
        kind,
        id,
        idempotency_key,
        FourEyes::Required,
    )
    .await
}

/// Offline issuance by a local administrator (`travdoc ttd issue` without `--approved-by`):
/// the request is approved by its own requester. The ledgered approval says so
/// (`"four_eyes": false`), so an auditor sees every document issued without a second officer.
pub async fn approve_waiving_four_eyes(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<RequestView, IssuanceError> {
    approve_with(records, actor, kind, id, None, FourEyes::Waived).await
}

async fn approve_with(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    idempotency_key: Option<&IdempotencyKey>,
    four_eyes: FourEyes,
) -> Result<RequestView, IssuanceError> {
    let record = records.load_request(actor, kind, id).await?;
    if four_eyes == FourEyes::Required && record.requested_by == actor.id {
        return Err(IssuanceError::FourEyes);
    }
    if record.state != RequestState::Requested {
        return Err(IssuanceError::WrongState {
            what: "request",
            id: id.to_owned(),
            state: record.state.as_str().to_owned(),
            expected: "requested",
        });
    }
    let now = records.now_text();
    let mut tx = records.db.begin().await?;
    let moved = travdoc_store::requests::approve(
        &mut tx,
        id,
        &actor.id,
        &now,
        four_eyes == FourEyes::Waived,
    )
    .await?;
    if !moved {
        return Err(IssuanceError::WrongState {
            what: "request",
            id: id.to_owned(),
            state: "changed concurrently".to_owned(),
            expected: "requested",
        });
    }
    let action = match kind {
        Kind::Ttd => "ttd.approved",
        Kind::Passport => "passport.approved",
        Kind::Legalization => "legalization.approved",
    };
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            action,
            id,
            &actor.id,
            &serde_json::json!({
                "request": id,
                "approved_by": actor.id,
                "four_eyes": four_eyes == FourEyes::Required,
            }),
            &now,
        )
        // The second officer's act is evidence too: on the ledger with the request.
        .with_entry(Event::RequestApproved {
            request_ref: id.to_owned(),
            request_kind: kind.as_str().to_owned(),
            approver_ref: actor.id.clone(),
        }),
    )
    .await?;
    let view = RequestRecord {
        state: RequestState::Approved,
        approved_by: Some(actor.id.clone()),
        updated_at: now.clone(),
        ..record
    }
    .view();
    idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
    tx.commit().await?;
    Ok(view)
}
