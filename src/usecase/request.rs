//! Asking for a document: a mission's TTD request or a passport application, checked into
//! typed input (names must transliterate and fit the MRZ now, not at issuance), recorded with
//! its ledger entry and the idempotent answer in one transaction. Called by the API
//! (`POST /v1/ttds`, `POST /v1/passport-applications`), the console and the offline commands.

use crate::auth::Actor;
use crate::issuance::checks::{self, CheckHit};
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::input::{
    PassportApplication, PassportApplicationBody, TtdRequest, TtdRequestBody,
};
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
    let checks = ttd_checks(issuing, &request).await?;
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
    let checks = passport_checks(issuing, &application).await?;
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

/// The checks of a TTD request: its NIC, and the previous passport it names.
async fn ttd_checks(
    issuing: &Issuing,
    request: &TtdRequest,
) -> Result<Vec<CheckHit>, IssuanceError> {
    let mut checks = checks::nic_checks(request.person());
    if let Some(previous) = request.previous_document() {
        let nationality = request.person().nationality();
        checks.extend(sltd::hits(&issuing.db, nationality, previous, "previous passport").await?);
    }
    Ok(checks)
}

/// The checks of a passport application: its NIC, and the previous passport it names.
async fn passport_checks(
    issuing: &Issuing,
    application: &PassportApplication,
) -> Result<Vec<CheckHit>, IssuanceError> {
    let mut checks = checks::nic_checks(application.person());
    if let Some((previous, status)) = application.previous_document() {
        let nationality = application.person().nationality();
        let what = format!("previous passport (declared {})", status.as_str());
        checks.extend(sltd::hits(&issuing.db, nationality, previous, &what).await?);
    }
    Ok(checks)
}

/// `PUT /v1/ttds/{id}`: the requester corrects a returned request; it is checked again and
/// goes back to `requested` (or `on_hold` on a hit).
pub async fn correct_ttd(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    body: &TtdRequestBody,
) -> Result<RequestView, IssuanceError> {
    let request = body.validate(actor.mission.as_ref(), issuing.now().date())?;
    crate::usecase::issue_ttd::precheck_ttd(issuing, &request)?;
    let checks = ttd_checks(issuing, &request).await?;
    let data = serde_json::to_value(&request)?;
    let photo = request.photo().map(<[u8]>::to_vec);
    correct(issuing, actor, Kind::Ttd, id, data, photo, checks).await
}

/// `PUT /v1/passport-applications/{id}`: as [`correct_ttd`].
pub async fn correct_passport(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    body: &PassportApplicationBody,
) -> Result<RequestView, IssuanceError> {
    let application = body.validate(issuing.now().date())?;
    let checks = passport_checks(issuing, &application).await?;
    let data = serde_json::to_value(&application)?;
    let photo = Some(application.photo().to_vec());
    correct(issuing, actor, Kind::Passport, id, data, photo, checks).await
}

async fn correct(
    issuing: &Issuing,
    actor: &Actor,
    kind: Kind,
    id: &str,
    data: serde_json::Value,
    photo: Option<Vec<u8>>,
    checks: Vec<CheckHit>,
) -> Result<RequestView, IssuanceError> {
    let record = issuing.records.load_request(actor, kind, id).await?;
    if record.requested_by != actor.id {
        return Err(IssuanceError::NotRequester);
    }
    if record.state != RequestState::Returned {
        return Err(IssuanceError::WrongState {
            what: "request",
            id: id.to_owned(),
            state: record.state.as_str().to_owned(),
            expected: "returned",
        });
    }
    let now = issuing.now_text();
    let state = if checks::holds(&checks) {
        RequestState::OnHold
    } else {
        RequestState::Requested
    };
    let record = RequestRecord {
        state,
        data,
        photo,
        checks,
        updated_at: now.clone(),
        ..record
    };
    let stored_data = record.data.to_string();
    let stored_checks = record.checks_json()?;
    let mut tx = issuing.db.begin().await?;
    let change = travdoc_store::requests::NewRequest {
        id,
        kind: kind.as_str(),
        state: state.as_str(),
        mission: record.mission.as_deref(),
        requested_by: &record.requested_by,
        approved_by: None,
        data: &stored_data,
        photo: record.photo.as_deref(),
        now: &now,
        checks: stored_checks.as_deref(),
    };
    if !travdoc_store::requests::correct(&mut tx, id, &actor.id, &change).await? {
        return Err(IssuanceError::WrongState {
            what: "request",
            id: id.to_owned(),
            state: "changed concurrently".to_owned(),
            expected: "returned",
        });
    }
    let action = match kind {
        Kind::Ttd => "ttd.corrected",
        _ => "passport.corrected",
    };
    // The correction's own key: a request may be returned and corrected more than once.
    let key = format!("{action}:{id}:{now}:{}", uuid::Uuid::new_v4());
    ledger::record(
        &mut tx,
        &LedgerEvent::new(action, id, &actor.id, &record.data, &now).with_key(key),
    )
    .await?;
    if state == RequestState::OnHold {
        record_hold(&mut tx, &record, actor, &now).await?;
    }
    tx.commit().await?;
    Ok(record.view())
}

/// The ledger entry of a hold: the hit codes only (the details name the applicant's data,
/// which the leaf does not carry).
async fn record_hold(
    tx: &mut crate::issuance::db::Tx,
    record: &RequestRecord,
    actor: &Actor,
    now: &str,
) -> Result<(), IssuanceError> {
    let codes: Vec<String> = record
        .checks
        .iter()
        .map(|hit| hit.code.as_str().to_owned())
        .collect();
    let held = match record.kind {
        Kind::Ttd => "ttd.held",
        _ => "passport.held",
    };
    ledger::record(
        tx,
        &LedgerEvent::new(
            held,
            &record.id,
            &actor.id,
            &serde_json::json!({"request": record.id, "checks": record.checks}),
            now,
        )
        .with_entry(Event::RequestHeld {
            request_ref: record.id.clone(),
            request_kind: record.kind.as_str().to_owned(),
            codes,
        })
        .with_key(format!(
            "{held}:{}:{now}:{}",
            record.id,
            uuid::Uuid::new_v4()
        )),
    )
    .await?;
    Ok(())
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
        record_hold(&mut tx, &record, actor, &now).await?;
    }
    idempotency::store(&mut tx, &actor.id, idempotency_key, 201, &view, &now).await?;
    tx.commit().await?;
    Ok(view)
}
