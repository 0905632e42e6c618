//! What staff read: a document, a page of documents, its PDF and its history (its recorded
//! acts, each with its integrity-ledger index when the ledger records it), a request and the
//! requests listed by kind and state. Each read is scoped to what the actor may see (404
//! otherwise). Called by the API, the console and the CLI.

use serde::Serialize;

use crate::auth::Actor;
use crate::issuance::documents::{DocumentFilter, DocumentView, document_record};
use crate::issuance::input::date_text;
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestState, RequestView, request_record};
use crate::issuance::{IssuanceError, Printing, Records};

/// One recorded act on a document (or on the request it was issued from).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// RFC 3339 time of the act.
    pub at: String,
    /// e.g. `ttd.requested`, `ttd.approved`, `ttd.issued`, `document.printed`, `document.revoked`.
    pub action: String,
    /// The acting user's name (the id when the user is unknown).
    pub actor: String,
    /// The integrity-ledger index of the act, for acts the ledger records.
    pub ledger_index: Option<i64>,
}

/// Requests of `kind` in `state` (`requested`, `approved`, `issued`; `None`: any), newest
/// first; a mission sees only its own.
pub async fn list_requests(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestView>, IssuanceError> {
    if let Some(state) = state
        && RequestState::parse(state).is_err()
    {
        return Err(IssuanceError::invalid(
            "state",
            "must be requested, on_hold, returned, rejected, approved or issued",
        ));
    }
    if !(1..=1000).contains(&limit) {
        return Err(IssuanceError::invalid("limit", "must be 1 to 1000"));
    }
    let mission = match (actor.role, &actor.mission) {
        (crate::auth::Role::Mission, Some(own)) => Some(own.as_str().to_owned()),
        // A mission user without a mission sees nothing (as `can_see_mission`).
        (crate::auth::Role::Mission, None) => return Ok(Vec::new()),
        _ => None,
    };
    travdoc_store::requests::list(
        records.db.reader(),
        kind.as_str(),
        state,
        mission.as_deref(),
        limit,
    )
    .await?
    .into_iter()
    .map(|row| request_record(row).map(|record| record.view()))
    .collect()
}

/// `GET /v1/requests` (and `GET /v1/ttds?case_id=`): the query of a request search.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestSearch {
    /// `ttd` or `passport` (default both).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `requested`, `on_hold`, `returned`, `rejected`, `approved` or `issued`.
    pub state: Option<String>,
    /// The applicant's NIC, either layout.
    pub nic: Option<String>,
    /// The applicant's name words, in any spelling the MRZ transliterates alike.
    pub name: Option<String>,
    /// The applicant's birth date, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// A readmission case.
    pub case_id: Option<String>,
    /// At most 1000 (default 100).
    pub limit: Option<i64>,
}

/// `GET /v1/ttds`: [`RequestSearch`] of TTD requests (a readmission case's, by `case_id`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TtdSearch {
    /// `requested`, `on_hold`, `returned`, `rejected`, `approved` or `issued`.
    pub state: Option<String>,
    /// The applicant's NIC, either layout.
    pub nic: Option<String>,
    /// The applicant's name words.
    pub name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// A readmission case: its TTD requests and (in `document_number`) documents.
    pub case_id: Option<String>,
    /// At most 1000 (default 100).
    pub limit: Option<i64>,
}

impl From<TtdSearch> for RequestSearch {
    fn from(search: TtdSearch) -> Self {
        RequestSearch {
            kind: Some("ttd".to_owned()),
            state: search.state,
            nic: search.nic,
            name: search.name,
            birth_date: search.birth_date,
            case_id: search.case_id,
            limit: search.limit,
        }
    }
}

/// Requests of people matching `search`, newest first; a mission sees only its own.
pub async fn search_requests(
    records: &Records,
    actor: &Actor,
    search: &RequestSearch,
) -> Result<Vec<RequestView>, IssuanceError> {
    let kind = match search.kind.as_deref() {
        None | Some("") => None,
        Some(text @ ("ttd" | "passport")) => Some(text),
        Some(_) => return Err(IssuanceError::invalid("type", "must be ttd or passport")),
    };
    let state = match search.state.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            RequestState::parse(text)
                .map_err(|_| {
                    IssuanceError::invalid(
                        "state",
                        "must be requested, on_hold, returned, rejected, approved or issued",
                    )
                })?
                .as_str(),
        ),
    };
    let limit = search.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(IssuanceError::invalid("limit", "must be 1 to 1000"));
    }
    let filter = crate::issuance::people::PersonQuery {
        nic: search.nic.clone(),
        name: search.name.clone(),
        birth_date: search.birth_date.clone(),
        case_id: search.case_id.clone(),
    }
    .filter()?;
    let mission = match (actor.role, &actor.mission) {
        (crate::auth::Role::Mission, Some(own)) => Some(own.as_str().to_owned()),
        (crate::auth::Role::Mission, None) => return Ok(Vec::new()),
        _ => None,
    };
    travdoc_store::people::search_requests(
        records.db.reader(),
        &filter,
        kind,
        state,
        mission.as_deref(),
        limit,
    )
    .await?
    .into_iter()
    .map(|row| request_record(row).map(|record| record.view()))
    .collect()
}

/// The acts recorded on document `number` and on its request, oldest first (404 when
/// `actor` may not see the document).
pub async fn document_history(
    records: &Records,
    actor: &Actor,
    number: &str,
) -> Result<Vec<HistoryEntry>, IssuanceError> {
    let record = records.load_document(actor, number).await?;
    let mut entries: Vec<HistoryEntry> =
        travdoc_store::events::document_events(records.db.reader(), number, &record.request_id)
            .await?
            .into_iter()
            .map(|event| HistoryEntry {
                at: event.at,
                action: event.action,
                actor: event.actor_name.unwrap_or(event.actor_id),
                ledger_index: event.ledger_index,
            })
            .collect();
    // RFC 3339 text with a variable number of fraction digits does not sort as text.
    let instant = |entry: &HistoryEntry| {
        time::OffsetDateTime::parse(&entry.at, &time::format_description::well_known::Rfc3339).ok()
    };
    entries.sort_by(|a, b| {
        instant(a)
            .cmp(&instant(b))
            .then(a.ledger_index.cmp(&b.ledger_index))
    });
    Ok(entries)
}

/// `GET /v1/documents/{number}`.
pub async fn get_document(
    records: &Records,
    actor: &Actor,
    number: &str,
) -> Result<DocumentView, IssuanceError> {
    let record = records.load_document(actor, number).await?;
    Ok(record.view(records.now().date()))
}

/// The console's document page: the view and the seal's bytes (mission-scoped).
pub async fn document_detail(
    records: &Records,
    actor: &Actor,
    number: &str,
) -> Result<(DocumentView, Option<Vec<u8>>), IssuanceError> {
    let record = records.load_document(actor, number).await?;
    let view = record.view(records.now().date());
    Ok((view, record.seal))
}

/// `GET /v1/documents`: a mission sees only its own documents.
pub async fn list_documents(
    records: &Records,
    actor: &Actor,
    filter: &DocumentFilter,
) -> Result<Vec<DocumentView>, IssuanceError> {
    if let Some(kind) = &filter.kind
        && Kind::parse(kind).is_none()
    {
        return Err(IssuanceError::invalid(
            "type",
            "must be ttd, passport or legalization",
        ));
    }
    if let Some(state) = &filter.state
        && !matches!(
            state.as_str(),
            "issued" | "printed" | "used" | "revoked" | "valid" | "expired"
        )
    {
        return Err(IssuanceError::invalid(
            "state",
            "must be issued, printed, used, revoked, valid or expired",
        ));
    }
    let mission = match (&actor.mission, &filter.mission) {
        (Some(own), Some(asked)) if own.as_str() != asked => {
            return Err(IssuanceError::NotFound {
                what: "mission",
                id: asked.clone(),
            });
        }
        (Some(own), _) => Some(own.as_str().to_owned()),
        (None, asked) => asked.clone(),
    };
    let limit = filter.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(IssuanceError::invalid("limit", "must be 1 to 1000"));
    }
    let offset = filter.offset.unwrap_or(0);
    if offset < 0 {
        return Err(IssuanceError::invalid("offset", "must not be negative"));
    }
    let person = filter.person().filter()?;
    let today = records.now().date();
    let today_text = date_text(today);
    let query = travdoc_store::documents::DocumentQuery {
        kind: filter.kind.as_deref(),
        mission: mission.as_deref(),
        state: filter.state.as_deref(),
        today: &today_text,
        limit,
        offset,
        person,
    };
    travdoc_store::documents::list(records.db.reader(), &query)
        .await?
        .into_iter()
        .map(|row| document_record(row).map(|record| record.view(today)))
        .collect()
}

/// Renders the document's PDF (staff; mission-scoped).
pub async fn document_pdf(
    printing: &Printing,
    actor: &Actor,
    number: &str,
) -> Result<Vec<u8>, IssuanceError> {
    let record = printing.load_document(actor, number).await?;
    printing.render_record(&record).await
}

/// The data of a request its requester may correct (state `returned`), for the correction
/// form; 404 for anyone else's, 409 in another state.
pub async fn returned_request_data(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<serde_json::Value, IssuanceError> {
    Ok(
        crate::usecase::request::load_returned(records, actor, kind, id)
            .await?
            .data,
    )
}

/// `GET /v1/ttds/{id}` and `GET /v1/passport-applications/{id}`.
pub async fn get_request(
    records: &Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<RequestView, IssuanceError> {
    Ok(records.load_request(actor, kind, id).await?.view())
}
