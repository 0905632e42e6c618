//! Asking for a document: a mission's TTD request or a passport application, checked into
//! typed input (names must transliterate and fit the MRZ now, not at issuance), recorded with
//! its ledger entry and the idempotent answer in one transaction. Called by the API
//! (`POST /v1/ttds`, `POST /v1/passport-applications`), the console and the offline commands.

use crate::auth::Actor;
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::input::{PassportApplicationBody, TtdRequestBody};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestRecord, RequestState, RequestView};
use crate::issuance::{IssuanceError, Issuing};

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
    insert_request(
        issuing,
        actor,
        Kind::Ttd,
        Some(request.mission().to_owned()),
        data,
        request.photo().map(<[u8]>::to_vec),
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
    insert_request(
        issuing,
        actor,
        Kind::Passport,
        None,
        data,
        Some(application.photo().to_vec()),
        idempotency_key,
    )
    .await
}

async fn insert_request(
    issuing: &Issuing,
    actor: &Actor,
    kind: Kind,
    mission: Option<String>,
    data: serde_json::Value,
    photo: Option<Vec<u8>>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    let now = issuing.now_text();
    let record = RequestRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        state: RequestState::Requested,
        mission,
        requested_by: actor.id.clone(),
        approved_by: None,
        data,
        photo,
        document_number: None,
        created_at: now.clone(),
        updated_at: now.clone(),
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
    idempotency::store(&mut tx, &actor.id, idempotency_key, 201, &view, &now).await?;
    tx.commit().await?;
    Ok(view)
}
