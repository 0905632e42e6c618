//! Requests and applications: `requested -> approved -> issued`, with the four-eyes rule
//! (the approver is never the requester) and mission scoping.

use serde::Serialize;
use sqlx::Row as _;

use super::idempotency::{self, IdempotencyKey};
use super::input::{PassportApplicationBody, TtdRequestBody};
use super::ledger::{self, LedgerEvent};
use super::numbering::Kind;
use super::{IssuanceError, Service};
use crate::auth::Actor;

/// What the API shows of a request.
/// Where a request is: waiting for a second officer, approved, or issued as a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestState {
    Requested,
    Approved,
    Issued,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Requested => "requested",
            RequestState::Approved => "approved",
            RequestState::Issued => "issued",
        }
    }

    /// The state a stored name names; another name is corrupt data.
    pub fn parse(text: &str) -> Result<Self, IssuanceError> {
        match text {
            "requested" => Ok(RequestState::Requested),
            "approved" => Ok(RequestState::Approved),
            "issued" => Ok(RequestState::Issued),
            other => Err(IssuanceError::Corrupt(format!("request state {other}"))),
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    /// `requested`, `approved` or `issued`.
    pub state: RequestState,
    pub mission: Option<String>,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub document_number: Option<String>,
    pub case_reference: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A request row as stored.
#[derive(Debug, Clone)]
pub(crate) struct RequestRecord {
    pub id: String,
    pub kind: Kind,
    pub state: RequestState,
    pub mission: Option<String>,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub data: serde_json::Value,
    pub photo: Option<Vec<u8>>,
    pub document_number: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl RequestRecord {
    pub fn view(&self) -> RequestView {
        RequestView {
            id: self.id.clone(),
            kind: self.kind.as_str().to_owned(),
            state: self.state,
            mission: self.mission.clone(),
            requested_by: self.requested_by.clone(),
            approved_by: self.approved_by.clone(),
            document_number: self.document_number.clone(),
            case_reference: self
                .data
                .get("case_reference")
                .and_then(|value| value.as_str())
                .map(str::to_owned),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

impl Service {
    /// `POST /v1/ttds`: a mission asks for a TTD.
    pub async fn request_ttd(
        &self,
        actor: &Actor,
        body: &TtdRequestBody,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<RequestView, IssuanceError> {
        let request = body.validate(actor.mission.as_ref(), self.now().date())?;
        // Names must transliterate and fit the MRZ now, not at issuance.
        self.precheck_ttd(&request)?;
        let data = serde_json::to_value(&request)?;
        self.insert_request(
            actor,
            Kind::Ttd,
            Some(request.mission.clone()),
            data,
            request.photo.clone(),
            idempotency_key,
        )
        .await
    }

    /// `POST /v1/passport-applications`.
    pub async fn apply_passport(
        &self,
        actor: &Actor,
        body: &PassportApplicationBody,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<RequestView, IssuanceError> {
        let application = body.validate(self.now().date())?;
        let data = serde_json::to_value(&application)?;
        self.insert_request(
            actor,
            Kind::Passport,
            None,
            data,
            Some(application.photo.clone()),
            idempotency_key,
        )
        .await
    }

    async fn insert_request(
        &self,
        actor: &Actor,
        kind: Kind,
        mission: Option<String>,
        data: serde_json::Value,
        photo: Option<Vec<u8>>,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<RequestView, IssuanceError> {
        let now = self.now_text();
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
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO svc_requests (id, kind, state, mission, requested_by, data, photo, \
             created_at, updated_at) VALUES ($1, $2, 'requested', $3, $4, $5, $6, $7, $7)",
        )
        .bind(&record.id)
        .bind(kind.as_str())
        .bind(&record.mission)
        .bind(&actor.id)
        .bind(record.data.to_string())
        .bind(record.photo.clone())
        .bind(&now)
        .execute(tx.conn())
        .await?;
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

    /// Loads a request of `kind` that `actor` may see (404 otherwise, so that a mission cannot
    /// probe another mission's requests).
    pub(crate) async fn load_request(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
    ) -> Result<RequestRecord, IssuanceError> {
        let not_found = || IssuanceError::NotFound {
            what: "request",
            id: id.to_owned(),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM svc_requests WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or_else(not_found)?;
        let record = request_from_row(&row)?;
        if record.kind != kind || !actor.can_see_mission(record.mission.as_deref()) {
            return Err(not_found());
        }
        Ok(record)
    }

    /// `GET /v1/ttds/{id}` and `GET /v1/passport-applications/{id}`.
    pub async fn get_request(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
    ) -> Result<RequestView, IssuanceError> {
        Ok(self.load_request(actor, kind, id).await?.view())
    }

    /// Approves a request (four-eyes: the approver must not be the requester).
    pub async fn approve(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<RequestView, IssuanceError> {
        self.approve_with(actor, kind, id, idempotency_key, FourEyes::Required)
            .await
    }

    /// Offline issuance by a local administrator (`travdoc ttd issue` without `--approved-by`):
    /// the request is approved by its own requester. The ledgered approval says so
    /// (`"four_eyes": false`), so an auditor sees every document issued without a second officer.
    pub async fn approve_waiving_four_eyes(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
    ) -> Result<RequestView, IssuanceError> {
        self.approve_with(actor, kind, id, None, FourEyes::Waived)
            .await
    }

    async fn approve_with(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
        idempotency_key: Option<&IdempotencyKey>,
        four_eyes: FourEyes,
    ) -> Result<RequestView, IssuanceError> {
        let record = self.load_request(actor, kind, id).await?;
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
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE svc_requests SET state = 'approved', approved_by = $2, updated_at = $3 \
             WHERE id = $1 AND state = 'requested' AND (requested_by <> $2 OR $4 = 1)",
        )
        .bind(id)
        .bind(&actor.id)
        .bind(&now)
        .bind(i64::from(four_eyes == FourEyes::Waived))
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
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
            ),
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
}

/// Whether an approval must come from someone other than the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FourEyes {
    Required,
    Waived,
}

/// The columns [`request_from_row`] reads.
pub(crate) const REQUEST_COLUMNS: &str = "id, kind, state, mission, requested_by, approved_by, \
     data, photo, document_number, created_at, updated_at";

pub(crate) fn request_from_row(row: &sqlx::any::AnyRow) -> Result<RequestRecord, IssuanceError> {
    let kind: String = row.try_get("kind")?;
    let data: String = row.try_get("data")?;
    Ok(RequestRecord {
        id: row.try_get("id")?,
        kind: Kind::parse(&kind).ok_or_else(|| IssuanceError::Corrupt(format!("kind {kind}")))?,
        state: RequestState::parse(&row.try_get::<String, _>("state")?)?,
        mission: row.try_get("mission")?,
        requested_by: row.try_get("requested_by")?,
        approved_by: row.try_get("approved_by")?,
        data: serde_json::from_str(&data)?,
        photo: row.try_get("photo")?,
        document_number: row.try_get("document_number")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
