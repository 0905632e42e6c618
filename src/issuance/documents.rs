//! Issued documents: their types, reading, listing and rendering. Issuing is in `issue.rs`,
//! revocation and arrival clearance in `lifecycle.rs`, verification's status lookup in
//! `status.rs`.

use serde::{Deserialize, Serialize};
use time::Date;

use super::input::parse_date;
use super::numbering::Kind;
use super::status::StatusRow;
use super::{IssuanceError, Printing, Records};
use crate::auth::Actor;

/// What a builder produced for a number: the parts stored with the document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Built {
    pub mrz: Option<Vec<String>>,
    pub seal: Option<Vec<u8>>,
    pub sod: Option<Vec<u8>>,
    pub payload: serde_json::Value,
    pub valid_until: String,
    pub document_sha256: Option<String>,
    /// The signing key's reference (certificate serial, hex) for the ledger.
    pub signer_key_id: String,
    /// Parts of the answer that are not stored (e.g. DG2 of a passport).
    pub response_extra: serde_json::Value,
    /// The previous passport this one cancels (number, revocation reason), revoked in the
    /// issuance's own commit.
    pub cancels: Option<(String, RevocationReason)>,
}

/// Where an issued document is in its life; stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocumentState {
    /// Numbered, signed and recorded.
    Issued,
    /// Sent to a printer.
    Printed,
    /// A TTD whose holder was cleared on arrival.
    Used,
    /// Revoked (lost, stolen, cancelled, damaged).
    Revoked,
}

impl DocumentState {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentState::Issued => "issued",
            DocumentState::Printed => "printed",
            DocumentState::Used => "used",
            DocumentState::Revoked => "revoked",
        }
    }

    /// The state a stored name names; another name is corrupt data.
    pub fn parse(text: &str) -> Result<Self, IssuanceError> {
        match text {
            "issued" => Ok(DocumentState::Issued),
            "printed" => Ok(DocumentState::Printed),
            "used" => Ok(DocumentState::Used),
            "revoked" => Ok(DocumentState::Revoked),
            other => Err(IssuanceError::Corrupt(format!("document state {other}"))),
        }
    }
}

/// Public status of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    Valid,
    Revoked,
    Used,
    Expired,
    Unknown,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Valid => "valid",
            DocumentStatus::Revoked => "revoked",
            DocumentStatus::Used => "used",
            DocumentStatus::Expired => "expired",
            DocumentStatus::Unknown => "unknown",
        }
    }

    pub(crate) fn of(state: DocumentState, valid_until: &str, today: Date) -> Self {
        match state {
            DocumentState::Revoked => DocumentStatus::Revoked,
            DocumentState::Used => DocumentStatus::Used,
            DocumentState::Issued | DocumentState::Printed => {
                match parse_date("valid_until", valid_until) {
                    Ok(until) if until < today => DocumentStatus::Expired,
                    Ok(_) => DocumentStatus::Valid,
                    Err(_) => DocumentStatus::Unknown,
                }
            }
        }
    }
}

/// Why a document is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevocationReason {
    Lost,
    Stolen,
    Cancelled,
    Damaged,
}

impl RevocationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Lost => "lost",
            RevocationReason::Stolen => "stolen",
            RevocationReason::Cancelled => "cancelled",
            RevocationReason::Damaged => "damaged",
        }
    }
}

/// A document as the API shows it to staff.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub number: String,
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    /// Life-cycle state: `issued`, `printed`, `used` or `revoked`.
    pub state: DocumentState,
    /// `valid`, `revoked`, `used` or `expired`.
    pub status: DocumentStatus,
    pub state_reason: Option<String>,
    pub mission: Option<String>,
    pub request_id: String,
    pub valid_until: String,
    pub issued_at: String,
    pub mrz: Option<Vec<String>>,
    pub ledger_index: Option<i64>,
    /// Issued document data (names, route, case reference, certificate fields).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A document row.
#[derive(Debug, Clone)]
pub(crate) struct DocumentRecord {
    pub number: String,
    pub kind: Kind,
    pub request_id: String,
    pub mission: Option<String>,
    pub state: DocumentState,
    pub state_reason: Option<String>,
    pub valid_until: String,
    pub issued_at: String,
    pub mrz: Option<Vec<String>>,
    pub seal: Option<Vec<u8>>,
    pub payload: serde_json::Value,
    pub ledger_index: Option<i64>,
}

impl DocumentRecord {
    pub fn status(&self, today: Date) -> DocumentStatus {
        DocumentStatus::of(self.state, &self.valid_until, today)
    }

    pub fn view(&self, today: Date) -> DocumentView {
        DocumentView {
            number: self.number.clone(),
            kind: self.kind.as_str().to_owned(),
            state: self.state,
            status: self.status(today),
            state_reason: self.state_reason.clone(),
            mission: self.mission.clone(),
            request_id: self.request_id.clone(),
            valid_until: self.valid_until.clone(),
            issued_at: self.issued_at.clone(),
            mrz: self.mrz.clone(),
            ledger_index: self.ledger_index,
            data: self.payload.clone(),
        }
    }
}

/// The stored row as the domain's record: the kind and the state parsed, the MRZ and the
/// data read as JSON (anything else is corrupt data).
pub(crate) fn document_record(
    row: travdoc_store::documents::DocumentRow,
) -> Result<DocumentRecord, IssuanceError> {
    Ok(DocumentRecord {
        kind: Kind::parse(&row.kind)
            .ok_or_else(|| IssuanceError::Corrupt(format!("kind {}", row.kind)))?,
        state: DocumentState::parse(&row.state)?,
        mrz: row
            .mrz
            .map(|text| serde_json::from_str(&text))
            .transpose()?,
        payload: serde_json::from_str(&row.payload)?,
        number: row.number,
        request_id: row.request_id,
        mission: row.mission,
        state_reason: row.state_reason,
        valid_until: row.valid_until,
        issued_at: row.issued_at,
        seal: row.seal,
        ledger_index: row.ledger_index,
    })
}

/// Filters of `GET /v1/documents`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentFilter {
    /// `issued`, `printed`, `used`, `revoked`, `valid` or `expired`.
    pub state: Option<String>,
    /// `ttd`, `passport` or `legalization`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub mission: Option<String>,
    /// At most 1000 (default 100).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// The holder's NIC, either layout.
    pub nic: Option<String>,
    /// The holder's name words, in any spelling the MRZ transliterates alike.
    pub name: Option<String>,
    /// The holder's birth date, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// The readmission case of a TTD.
    pub case_id: Option<String>,
}

impl DocumentFilter {
    /// The holder filters of this query.
    pub fn person(&self) -> super::people::PersonQuery {
        super::people::PersonQuery {
            nic: self.nic.clone(),
            name: self.name.clone(),
            birth_date: self.birth_date.clone(),
            case_id: self.case_id.clone(),
        }
    }
}

/// A print job as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrintJobView {
    pub id: String,
    pub number: String,
    pub printer: String,
    /// `queued`, `sent` (accepted, still printing), `completed` or `failed`.
    pub state: String,
    pub detail: Option<String>,
    /// The secure blank printed on (when blank stock is registered for the location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blank_serial: Option<String>,
    /// Why the document was printed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprint_reason: Option<String>,
    /// Which try this job is for the document (1 for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i64>,
}

impl Records {
    /// A document by number, if `actor` may see it (404 otherwise).
    pub(crate) async fn load_document(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<DocumentRecord, IssuanceError> {
        let not_found = || IssuanceError::NotFound {
            what: "document",
            id: number.to_owned(),
        };
        let record = self.find_document(number).await?.ok_or_else(not_found)?;
        if !actor.can_see_mission(record.mission.as_deref()) {
            return Err(not_found());
        }
        Ok(record)
    }

    /// A document by number, unscoped (for verification).
    pub(crate) async fn find_document(
        &self,
        number: &str,
    ) -> Result<Option<DocumentRecord>, IssuanceError> {
        travdoc_store::documents::by_number(self.db.reader(), number)
            .await?
            .map(document_record)
            .transpose()
    }

    /// The public status of a document number (for verification), and what verification needs
    /// of the document: its kind and ledger index. Looked up in batches with the other
    /// verifications of the moment (see [`StatusLookup`]).
    pub async fn document_status(
        &self,
        number: &str,
    ) -> Result<(DocumentStatus, Option<StatusRow>), IssuanceError> {
        let today = self.now().date();
        let found = self
            .status
            .0
            .submit(number.to_owned())
            .await
            .ok_or_else(|| super::batch::lost("status"))??;
        Ok(match found {
            Some(row) => (
                DocumentStatus::of(row.state, &row.valid_until, today),
                Some(row),
            ),
            None => (DocumentStatus::Unknown, None),
        })
    }
}

impl Printing {
    pub(crate) async fn render_input(
        &self,
        record: &DocumentRecord,
    ) -> Result<super::ports::RenderInput, IssuanceError> {
        let photo = travdoc_store::requests::photo(self.db.reader(), &record.request_id).await?;
        Ok(super::ports::RenderInput {
            kind: record.kind.as_str().to_owned(),
            number: record.number.clone(),
            mrz: record.mrz.clone(),
            seal: record.seal.clone(),
            photo,
            valid_until: record.valid_until.clone(),
            issued_at: record.issued_at.clone(),
            data: record.payload.clone(),
        })
    }

    pub(crate) async fn render_record(
        &self,
        record: &DocumentRecord,
    ) -> Result<Vec<u8>, IssuanceError> {
        let input = self.render_input(record).await?;
        let renderer = self.renderer.clone();
        tokio::task::spawn_blocking(move || renderer.render(&input))
            .await
            .map_err(|error| IssuanceError::Build(error.to_string()))?
            .map_err(IssuanceError::Build)
    }
}
