//! Asking for a document: a mission's TTD request or a passport application, checked into
//! typed input (names must transliterate and fit the MRZ now, not at issuance), recorded with
//! its ledger entry and the idempotent answer in one transaction. Called by the API
//! (`POST /v1/ttds`, `POST /v1/passport-applications`), the console and the offline commands.

use crate::auth::Actor;
use crate::issuance::checks::{self, CheckHit};
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::input::{PassportApplicationBody, TtdRequestBody};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestRecord, RequestState, RequestView};
use crate::issuance::{IssuanceError, Issuing};
use crate::usecase::sltd;
use travdoc_store::ledger::Event;

/// `POST /v1/ttds`: a mission asks for a TTD.
pub async fn request_ttd(
    issuing: &Issuing,
    actor: &Actor,
    body: &TtdRequestBody,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    let request = body.validate(actor.mission.as_ref(), issuing.now().date())?;
    // Names must transliterate and fit the MRZ now, not at issuance.
    crate::usecase::issue_ttd::precheck_ttd(issuing, &request)?;
    let data = serde_json::to_value(&request)?;
    let mut checks = checks::nic_checks(request.person());
    if let Some(previous) = request.previous_document() {
        let nationality = request.person().nationality();
        checks.extend(sltd::hits(&issuing.db, nationality, previous, "previous passport").await?);
    }
    insert_request(
        issuing,
        actor,
        Kind::Ttd,
        Some(request.mission().to_owned()),
        data,
        request.photo().map(<[u8]>::to_vec),
        checks,
        idempotency_key,
    )
    .await
}

/// `POST /v1/passport-applications`.
pub async fn apply_passport(
    issuing: &Issuing,
    actor: &Actor,
    body: &PassportApplicationBody,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    let application = body.validate(issuing.now().date())?;
    let data = serde_json::to_value(&application)?;
    let mut checks = checks::nic_checks(application.person());
    if let Some((previous, status)) = application.previous_document() {
        let nationality = application.person().nationality();
        let what = format!("previous passport (declared {})", status.as_str());
        checks.extend(sltd::hits(&issuing.db, nationality, previous, &what).await?);
    }
    insert_request(
        issuing,
        actor,
        Kind::Passport,
        None,
        data,
        Some(application.photo().to_vec()),
        checks,
        idempotency_key,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert_request(
    issuing: &Issuing,
    actor: &Actor,
    kind: Kind,
    mission: Option<String>,
    data: serde_json::Value,
    photo: Option<Vec<u8>>,
    checks: Vec<CheckHit>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    let now = issuing.now_text();
    // A hit holds the request until an approver clears it (it cannot be approved before).
    let state = if checks::holds(&checks) {
        RequestState::OnHold
    } else {
        RequestState::Requested
    };
    let record = RequestRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        state,
        mission,
        requested_by: actor.id.clone(),
        approved_by: None,
        data,
        photo,
        document_number: None,
        created_at: now.clone(),
        updated_at: now.clone(),
        checks,
    };
    let view = record.view();
    let mut tx = issuing.db.begin().await?;
    record.insert(&mut tx).await?;
    let action = match kind {
        Kind::Ttd => "ttd.requested",
        Kind::Passport => "passport.applied",
        Kind::Legalization => "legalization.requested",
    };
    ledger::record(
        &mut tx,
        &LedgerEvent::new(action, &record.id, &actor.id, &record.data, &now),
    )
    .await?;
    if record.state == RequestState::OnHold {
        // The codes only: the details name the applicant's data, which the leaf does not carry.
        let codes: Vec<String> = record
            .checks
            .iter()
            .map(|hit| hit.code.as_str().to_owned())
            .collect();
        let held = match kind {
            Kind::Ttd => "ttd.held",
            _ => "passport.held",
        };
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                held,
                &record.id,
                &actor.id,
                &serde_json::json!({"request": record.id, "checks": record.checks}),
                &now,
            )
            .with_entry(Event::RequestHeld {
                request_ref: record.id.clone(),
                request_kind: kind.as_str().to_owned(),
                codes,
            }),
        )
        .await?;
    }
    idempotency::store(&mut tx, &actor.id, idempotency_key, 201, &view, &now).await?;
    tx.commit().await?;
    Ok(view)
}
