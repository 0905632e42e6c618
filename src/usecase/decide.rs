//! An approver's decisions on a request other than approval: clearing one hit of a held
//! request (with a written reason), sending a request back to its requester, and rejecting
//! it. The approver is never the requester; each decision is one state change, with its
//! ledger entry, in one transaction. Called by the API (`/v1/{ttds|passport-applications}/{id}/
//! clear-hold|return|reject`) and the console's request page.

use crate::auth::Actor;
use crate::issuance::checks::{self, CheckCode, Clearance};
use crate::issuance::input::optional_free_text;
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestRecord, RequestState, RequestView};
use crate::issuance::{IssuanceError, Records};
use travdoc_store::ledger::Event;

/// A decision's written reason: required, free text of at most 500 characters.
fn reason(text: &str) -> Result<String, IssuanceError> {
    optional_free_text("reason", Some(text), 500)?
        .ok_or_else(|| IssuanceError::invalid("reason", "is required"))
}

fn kind_of(kind: Kind) -> Result<&'static str, IssuanceError> {
    match kind {
        Kind::Ttd => Ok("ttd"),
        Kind::Passport => Ok("passport"),
        Kind::Legalization => Err(IssuanceError::invalid(
            "kind",
            "a legalization is not held, returned or rejected",
        )),
    }
}

async fn load(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<RequestRecord, IssuanceError> {
    kind_of(kind)?;
    let record = records.load_request(actor, kind, id).await?;
    if record.requested_by == actor.id {
        return Err(IssuanceError::FourEyes);
    }
    Ok(record)
}

fn wrong_state(id: &str, state: RequestState, expected: &'static str) -> IssuanceError {
    IssuanceError::WrongState {
        what: "request",
        id: id.to_owned(),
        state: state.as_str().to_owned(),
        expected,
    }
}

/// Writes the new state and checks (only if the request is still in `from`), the operational
/// record (with the reason) and the ledger entry; returns the view.
#[allow(clippy::too_many_arguments)]
async fn decide(
    records: &Records,
    actor: &Actor,
    record: RequestRecord,
    to: RequestState,
    action: &'static str,
    reason: &str,
    entry: Event,
    expected: &'static str,
) -> Result<RequestView, IssuanceError> {
    let now = records.now_text();
    let from = record.state;
    let record = RequestRecord {
        state: to,
        updated_at: now.clone(),
        ..record
    };
    let checks = record.checks_json()?;
    let mut tx = records.db.begin().await?;
    let moved = travdoc_store::requests::transition(
        &mut tx,
        &record.id,
        from.as_str(),
        to.as_str(),
        checks.as_deref(),
        &now,
    )
    .await?;
    if !moved {
        return Err(IssuanceError::WrongState {
            what: "request",
            id: record.id.clone(),
            state: "changed concurrently".to_owned(),
            expected,
        });
    }
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            action,
            &record.id,
            &actor.id,
            &serde_json::json!({"request": record.id, "reason": reason, "state": to.as_str()}),
            &now,
        )
        .with_entry(entry)
        // One request may see several decisions of one kind (a hit cleared after another).
        .with_key(format!(
            "{action}:{}:{now}:{}",
            record.id,
            uuid::Uuid::new_v4()
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(record.view())
}

/// Clears the first standing hit of `code` on a held request; when none stands any more the
/// request goes back to `requested` (an approver may then approve it, not its requester).
pub async fn clear_hold(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    code: &str,
    reason_text: &str,
) -> Result<RequestView, IssuanceError> {
    let code = CheckCode::parse(code)
        .ok_or_else(|| IssuanceError::invalid("code", "is not a check code"))?;
    let reason = reason(reason_text)?;
    let mut record = load(records, actor, kind, id).await?;
    if record.state != RequestState::OnHold {
        return Err(wrong_state(id, record.state, "on_hold"));
    }
    let now = records.now_text();
    let hit = record
        .checks
        .iter_mut()
        .find(|hit| hit.code == code && hit.cleared.is_none())
        .ok_or_else(|| IssuanceError::StateRequires {
            field: "code",
            message: format!("the request has no standing {} hit", code.as_str()),
        })?;
    hit.cleared = Some(Clearance {
        by: actor.id.clone(),
        reason: reason.clone(),
        at: now,
    });
    let to = if checks::holds(&record.checks) {
        RequestState::OnHold
    } else {
        RequestState::Requested
    };
    let action = match kind {
        Kind::Ttd => "ttd.hold-cleared",
        _ => "passport.hold-cleared",
    };
    let entry = Event::HoldCleared {
        request_ref: id.to_owned(),
        request_kind: kind_of(kind)?.to_owned(),
        code: code.as_str().to_owned(),
        approver_ref: actor.id.clone(),
    };
    decide(
        records, actor, record, to, action, &reason, entry, "on_hold",
    )
    .await
}

/// Returning or rejecting: where each may start, where it ends, and how it is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Returned,
    Rejected,
}

impl Ending {
    fn allowed(self, state: RequestState) -> bool {
        match self {
            Ending::Returned => matches!(state, RequestState::Requested | RequestState::OnHold),
            Ending::Rejected => matches!(
                state,
                RequestState::Requested | RequestState::OnHold | RequestState::Returned
            ),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Ending::Returned => "requested or on_hold",
            Ending::Rejected => "requested, on_hold or returned",
        }
    }

    fn state(self) -> RequestState {
        match self {
            Ending::Returned => RequestState::Returned,
            Ending::Rejected => RequestState::Rejected,
        }
    }

    fn action(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (Ending::Returned, Kind::Ttd) => "ttd.returned",
            (Ending::Returned, _) => "passport.returned",
            (Ending::Rejected, Kind::Ttd) => "ttd.rejected",
            (Ending::Rejected, _) => "passport.rejected",
        }
    }

    fn entry(self, request_ref: String, request_kind: String, approver_ref: String) -> Event {
        match self {
            Ending::Returned => Event::RequestReturned {
                request_ref,
                request_kind,
                approver_ref,
            },
            Ending::Rejected => Event::RequestRejected {
                request_ref,
                request_kind,
                approver_ref,
            },
        }
    }
}

async fn end(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    reason_text: &str,
    ending: Ending,
) -> Result<RequestView, IssuanceError> {
    let reason = reason(reason_text)?;
    let record = load(records, actor, kind, id).await?;
    if !ending.allowed(record.state) {
        return Err(wrong_state(id, record.state, ending.expected()));
    }
    let entry = ending.entry(id.to_owned(), kind_of(kind)?.to_owned(), actor.id.clone());
    decide(
        records,
        actor,
        record,
        ending.state(),
        ending.action(kind),
        &reason,
        entry,
        ending.expected(),
    )
    .await
}

/// Sends a requested or held request back to its requester for correction.
pub async fn return_request(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    reason_text: &str,
) -> Result<RequestView, IssuanceError> {
    end(records, actor, kind, id, reason_text, Ending::Returned).await
}

/// Refuses a request that is not yet approved (final).
pub async fn reject(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
    reason_text: &str,
) -> Result<RequestView, IssuanceError> {
    end(records, actor, kind, id, reason_text, Ending::Rejected).await
}
