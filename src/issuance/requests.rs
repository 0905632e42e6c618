//! Requests and applications: `requested -> approved -> issued`, with the four-eyes rule
//! (the approver is never the requester) and mission scoping. A request with a check's hit
//! waits `on_hold` until an approver clears each hit (then `requested`), returns it to the
//! requester (`returned`) or rejects it (`rejected`, final).

use serde::Serialize;

use super::numbering::Kind;
use super::{IssuanceError, Records};
use crate::auth::Actor;

/// Where a request is: waiting for a second officer, approved, or issued as a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Requested,
    /// A check found something an approver must clear first (`checks`).
    OnHold,
    /// Sent back to the requester for correction.
    Returned,
    /// Refused by an approver; final.
    Rejected,
    Approved,
    Issued,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Requested => "requested",
            RequestState::OnHold => "on_hold",
            RequestState::Returned => "returned",
            RequestState::Rejected => "rejected",
            RequestState::Approved => "approved",
            RequestState::Issued => "issued",
        }
    }

    /// The state a stored name names; another name is corrupt data.
    pub fn parse(text: &str) -> Result<Self, IssuanceError> {
        match text {
            "requested" => Ok(RequestState::Requested),
            "on_hold" => Ok(RequestState::OnHold),
            "returned" => Ok(RequestState::Returned),
            "rejected" => Ok(RequestState::Rejected),
            "approved" => Ok(RequestState::Approved),
            "issued" => Ok(RequestState::Issued),
            other => Err(IssuanceError::Corrupt(format!("request state {other}"))),
        }
    }
}

/// What the API shows of a request.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    /// `requested`, `on_hold`, `returned`, `rejected`, `approved` or `issued`.
    pub state: RequestState,
    pub mission: Option<String>,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub document_number: Option<String>,
    pub case_reference: Option<String>,
    /// The readmission case of a TTD request, when the person returns under one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readmission: Option<super::input::Readmission>,
    pub created_at: String,
    pub updated_at: String,
    /// What the checks before issuance found, and how each hit was cleared.
    #[serde(default)]
    pub checks: Vec<super::checks::CheckHit>,
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
    pub checks: Vec<super::checks::CheckHit>,
}

impl RequestRecord {
    /// The checks as stored: none for a kind that is not checked (legalization).
    pub(crate) fn checks_json(&self) -> Result<Option<String>, IssuanceError> {
        Ok(match self.kind {
            Kind::Legalization => None,
            _ => Some(serde_json::to_string(&self.checks)?),
        })
    }

    /// Records this request (in `tx`, with its ledger entry written by the caller).
    pub(crate) async fn insert(&self, tx: &mut crate::db::Tx) -> Result<(), IssuanceError> {
        let data = self.data.to_string();
        let checks = self.checks_json()?;
        let request = travdoc_store::requests::NewRequest {
            id: &self.id,
            kind: self.kind.as_str(),
            state: self.state.as_str(),
            mission: self.mission.as_deref(),
            requested_by: &self.requested_by,
            approved_by: self.approved_by.as_deref(),
            data: &data,
            photo: self.photo.as_deref(),
            now: &self.created_at,
            checks: checks.as_deref(),
        };
        travdoc_store::requests::insert(tx, &request).await?;
        Ok(())
    }

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
            readmission: self
                .data
                .get("readmission")
                .and_then(|value| serde_json::from_value(value.clone()).ok()),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            checks: self.checks.clone(),
        }
    }
}

impl Records {
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
        let record = travdoc_store::requests::by_id(self.db.reader(), id)
            .await?
            .map(request_record)
            .transpose()?
            .ok_or_else(not_found)?;
        if record.kind != kind || !actor.can_see_mission(record.mission.as_deref()) {
            return Err(not_found());
        }
        Ok(record)
    }
}

/// The stored row as the domain's record: kind and state parsed, the data read as JSON.
pub(crate) fn request_record(
    row: travdoc_store::requests::RequestRow,
) -> Result<RequestRecord, IssuanceError> {
    Ok(RequestRecord {
        kind: Kind::parse(&row.kind)
            .ok_or_else(|| IssuanceError::Corrupt(format!("kind {}", row.kind)))?,
        state: RequestState::parse(&row.state)?,
        data: serde_json::from_str(&row.data)?,
        id: row.id,
        mission: row.mission,
        requested_by: row.requested_by,
        approved_by: row.approved_by,
        photo: row.photo,
        document_number: row.document_number,
        created_at: row.created_at,
        updated_at: row.updated_at,
        checks: match row.checks.as_deref() {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text)?,
        },
    })
}
