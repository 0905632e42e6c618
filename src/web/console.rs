//! Staff console (sign-in and enrolment are in [`super::signin`]): lists of documents by state and type, TTD
//! requests (mission), approval (a different officer), issuance, printing, revocation, arrival
//! clearance and a document page with its ledger proof. Each handler: session -> form (CSRF) ->
//! one call into [`crate::issuance::Service`] (the same calls the API makes) -> page or redirect.
//! What a user sees is decided by [`crate::auth::Role::may`]; mission scoping is the domain's.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::session::Session;
use super::{WebError, render};
use crate::auth::{Act, Actor, Role};
use crate::http::AppState;
use crate::issuance::documents::{DocumentFilter, RevocationReason};
use crate::issuance::input::TtdRequestBody;
use crate::issuance::numbering::Kind;
use crate::issuance::requests::RequestState;

/// A form that carries only the CSRF field.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct MessageQuery {
    pub msg: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub state: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Kind of the request list: `ttd` or `passport`.
    pub requests: Option<String>,
    /// State of the request list: `requested`, `approved`, `issued` or `any`.
    pub request_state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    pub q: String,
}

#[derive(Debug, Deserialize)]
pub struct PrintForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub printer: String,
    /// Required when the document was already printed.
    #[serde(default)]
    pub reprint_reason: String,
    /// Made with the page: a second submission of the same form (a double click, a reload)
    /// answers as the first instead of printing again.
    #[serde(default)]
    pub idempotency_key: String,
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
}

/// The TTD request form (every field text, validated by the domain).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TtdForm {
    pub csrf: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: String,
    pub sex: String,
    pub destination: String,
    pub route: String,
    pub valid_until: String,
    pub case_reference: String,
    pub previous_document: String,
    pub nic: String,
    pub nic_absent_reason: String,
    /// A readmission case: with the case reference as its id.
    pub returning_from: String,
    pub agreement: String,
}

/// The readmission case of a TTD form: given when the state returned from or the agreement is
/// filled in (the domain then asks for the rest, naming the field).
fn readmission(ttd: &TtdForm) -> Option<crate::issuance::input::ReadmissionBody> {
    if ttd.returning_from.trim().is_empty() && ttd.agreement.trim().is_empty() {
        return None;
    }
    Some(crate::issuance::input::ReadmissionBody {
        case_id: ttd.case_reference.trim().to_owned(),
        returning_from: ttd.returning_from.trim().to_ascii_uppercase(),
        agreement: ttd.agreement.trim().to_owned(),
    })
}

/// A form's fields, or a 422 naming the form.
pub(super) fn form<T>(result: Result<Form<T>, FormRejection>) -> Result<T, WebError> {
    result
        .map(|Form(value)| value)
        .map_err(|rejection| WebError::Field {
            field: "form",
            message: rejection.body_text(),
        })
}

fn query<T: Default>(result: Result<Query<T>, QueryRejection>) -> T {
    result.map(|Query(value)| value).unwrap_or_default()
}

/// 403 unless the session's role may perform `act`.
fn require(session: &Session, act: Act, what: &'static str) -> Result<(), WebError> {
    if session.actor.may(act) {
        Ok(())
    } else {
        tracing::warn!(user = %session.actor.name, role = %session.actor.role, ?act, "console act denied");
        Err(WebError::Forbidden {
            role: session.actor.role.to_string(),
            act: what,
        })
    }
}

/// The acts a role may perform, for the templates.
fn abilities(actor: &Actor) -> minijinja::Value {
    // Nothing while a grant of the role awaits confirmation.
    let role = if actor.granted {
        Some(actor.role)
    } else {
        None
    };
    let role = RoleAbilities(role);
    context! {
        request_ttd => role.may(Act::RequestTtd),
        approve_ttd => role.may(Act::ApproveTtd),
        approve_passport => role.may(Act::ApprovePassport),
        issue_ttd => role.may(Act::IssueTtd),
        issue_passport => role.may(Act::IssuePassport),
        list => role.may(Act::ListDocuments),
        read => role.may(Act::ReadDocument),
        read_request => role.may(Act::ReadRequest),
        print => role.may(Act::Print),
        revoke => role.may(Act::Revoke),
        clear_arrival => role.may(Act::ClearArrival),
        ledger => role.may(Act::ReadLedger),
        users => role.may(Act::ManageUsers),
        reports => role.may(Act::ReadReports),
        apply_passport => role.may(Act::ApplyPassport),
        legalize => role.may(Act::Legalize),
        stock => role.may(Act::ManageStock),
        mission_stock => role.may(Act::KeepMissionStock),
    }
}

/// The acts of a role in force (none while its grant awaits confirmation).
struct RoleAbilities(Option<Role>);

impl RoleAbilities {
    fn may(&self, act: Act) -> bool {
        self.0.is_some_and(|role| role.may(act))
    }
}

fn user(actor: &Actor) -> minijinja::Value {
    context! {
        name => actor.name.as_str(),
        role => actor.role.as_str(),
        mission => actor.mission.as_ref().map(|m| m.as_str().to_owned()),
    }
}

/// A page of the console with the common context.
pub(super) fn page(
    name: &str,
    session: &Session,
    title: &str,
    message: Option<&str>,
    extra: minijinja::Value,
) -> Result<Html<String>, WebError> {
    let lang = session.lang;
    render(
        name,
        context! {
            lang => lang.code(),
            languages => super::i18n::languages(lang),
            title => super::console_text::translate(lang, title),
            user => user(&session.actor),
            can => abilities(&session.actor),
            csrf => session.csrf.as_str(),
            path => console_path(&session.path).unwrap_or("/console"),
            message => message.and_then(flash).map(|text| super::console_text::translate(lang, text)),
            ..extra
        },
    )
}

/// The language form of the console's top bar.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    csrf: String,
    language: String,
    #[serde(default)]
    back: String,
}

/// `POST /console/language`: the signed-in person reads the console in another language from
/// now on (stored with their account, so on every device); back to the page they were on.
pub async fn set_language(
    State(state): State<AppState>,
    session: Session,
    body: Result<Form<LanguageForm>, FormRejection>,
) -> Result<Response, WebError> {
    let body = form(body)?;
    session.check_csrf(&body.csrf)?;
    crate::usecase::accounts::set_language(state.service.db(), &session.actor, &body.language)
        .await
        .map_err(|error| WebError::Refused(crate::http::error::ApiError::from(error)))?;
    Ok(see_other(console_path(&body.back).unwrap_or("/console")))
}

/// `back` when it is a path of the console itself (never another site: no `//`, no scheme).
fn console_path(back: &str) -> Option<&str> {
    let path = back.split(['?', '#']).next().unwrap_or("");
    let ours = (path == "/console" || path.starts_with("/console/"))
        && !back.contains("//")
        && !back.contains('\\')
        && back.len() <= 512
        && back.bytes().all(|b| b.is_ascii_graphic());
    ours.then_some(back)
}

/// The reports page's section titles, by report.
pub(super) const REPORT_TITLES: [(&str, &str); 4] = [
    ("issuances", "Issuances by day, kind and mission"),
    ("print-jobs", "Print jobs by day, printer and state"),
    ("spoiled", "Blanks spoiled by day, type and location"),
    ("stock", "Blank stock now, by type, location and state"),
];

/// The codes the pages show in the reader's language (`{{ _(request.state) }}`): the filters'
/// document states, kinds and request states, and the reasons and blank states. A test holds
/// each to its translations; the page keeps the code itself in a `data-` attribute.
#[cfg(test)]
pub(super) fn shown_codes() -> Vec<&'static str> {
    let mut codes: Vec<&str> = STATES
        .iter()
        .chain(&TYPES)
        .chain(&REQUEST_STATES)
        .copied()
        .collect();
    codes.extend([
        "cancelled",
        "lost",
        "stolen",
        "damaged",
        "unknown",
        "available",
        "reserved",
        "spoiled",
    ]);
    codes
}

/// The reports' column headings on the page (the CSV keeps the keys).
pub(super) const REPORT_COLUMNS: [(&str, &str); 8] = [
    ("day", "Day"),
    ("kind", "Kind"),
    ("mission", "Mission"),
    ("printer", "Printer"),
    ("state", "State"),
    ("document_type", "Document type"),
    ("location", "Location"),
    ("count", "Count"),
];

/// Known confirmation messages (`?msg=` after a redirect), by key.
pub(super) const FLASHES: &[(&str, &str)] = &[
    ("signed-in", "Signed in."),
    (
        "requested",
        "The TTD request was stored. An approver at headquarters must now approve it.",
    ),
    ("approved", "Approved."),
    ("hold-cleared", "The hit is cleared."),
    ("returned", "The request is returned to its requester."),
    ("rejected", "The request is rejected."),
    (
        "corrected",
        "The corrected request was stored and checked again.",
    ),
    (
        "applied",
        "The passport application was stored. Another officer must approve it.",
    ),
    ("stock-received", "The blanks were received."),
    ("stock-moved", "The blanks were moved."),
    ("stock-spoiled", "The blank is spoiled."),
    (
        "issued",
        "Issued: the document number is allocated and the seal is signed.",
    ),
    ("printed", "Sent to the printer."),
    ("revoked", "The document is revoked."),
    ("cleared", "Arrival cleared: the document is now used."),
];

fn flash(key: &str) -> Option<&'static str> {
    FLASHES
        .iter()
        .find(|(known, _)| *known == key)
        .map(|(_, text)| *text)
}

fn kind_of(text: &str) -> Result<Kind, WebError> {
    match Kind::parse(text) {
        Some(kind @ (Kind::Ttd | Kind::Passport)) => Ok(kind),
        _ => Err(WebError::Refused(crate::http::error::ApiError::not_found(
            "no such kind of request",
        ))),
    }
}

pub(super) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

const STATES: [&str; 6] = ["valid", "issued", "printed", "used", "revoked", "expired"];
const TYPES: [&str; 3] = ["ttd", "passport", "legalization"];
const REQUEST_STATES: [&str; 6] = [
    "requested",
    "on_hold",
    "returned",
    "rejected",
    "approved",
    "issued",
];
const REQUEST_KINDS: [&str; 2] = ["ttd", "passport"];

/// `GET /console`: what this role may act on.
pub async fn dashboard(
    State(state): State<AppState>,
    session: Session,
    list_query: Result<Query<ListQuery>, QueryRejection>,
    message: Result<Query<MessageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    let list_query = query(list_query);
    let message = query(message);
    let actor = &session.actor;
    let selected_state = list_query.state.filter(|s| STATES.contains(&s.as_str()));
    let default_kind = match actor.role {
        Role::Mission | Role::Immigration => Some("ttd".to_owned()),
        Role::Consular => Some("legalization".to_owned()),
        _ => None,
    };
    let selected_kind = match list_query.kind.as_deref() {
        Some("all") => None,
        Some(kind) if TYPES.contains(&kind) => Some(kind.to_owned()),
        _ => default_kind,
    };
    let documents = if actor.role.may(Act::ListDocuments) {
        let filter = DocumentFilter {
            state: selected_state.clone(),
            kind: selected_kind.clone(),
            mission: None,
            limit: Some(200),
            ..DocumentFilter::default()
        };
        crate::usecase::read::list_documents(state.service.records(), actor, &filter).await?
    } else {
        Vec::new()
    };
    // Requests: approvers start on what waits for them, missions and issuers on what they
    // may issue next; passport applications are the issuers' and approvers' business.
    let request_kind = match list_query.requests.as_deref() {
        Some("passport") => Kind::Passport,
        Some(_) => Kind::Ttd,
        None if actor.role == Role::Issuer => Kind::Passport,
        None => Kind::Ttd,
    };
    let request_state = match list_query.request_state.as_deref() {
        Some("any") => None,
        Some(state) if REQUEST_STATES.contains(&state) => Some(state.to_owned()),
        _ => match actor.role {
            Role::Approver => Some("requested".to_owned()),
            Role::Mission | Role::Issuer => Some("approved".to_owned()),
            _ => None,
        },
    };
    let requests = if actor.role.may(Act::ReadRequest) {
        crate::usecase::read::list_requests(
            state.service.records(),
            actor,
            request_kind,
            request_state.as_deref(),
            100,
        )
        .await?
    } else {
        Vec::new()
    };
    // An approver sees the requests a check holds, whatever the list above shows.
    let approve = match request_kind {
        Kind::Passport => Act::ApprovePassport,
        _ => Act::ApproveTtd,
    };
    let held = if actor.role.may(approve) && request_state.as_deref() != Some("on_hold") {
        crate::usecase::read::list_requests(
            state.service.records(),
            actor,
            request_kind,
            Some("on_hold"),
            100,
        )
        .await?
    } else {
        Vec::new()
    };
    page(
        "dashboard.html",
        &session,
        "Console",
        message.msg.as_deref(),
        context! {
            documents => Serde(documents),
            states => STATES,
            types => TYPES,
            selected_state => selected_state,
            selected_kind => selected_kind,
            requests => Serde(requests),
            held => Serde(held),
            request_kinds => REQUEST_KINDS,
            request_states => REQUEST_STATES,
            selected_request_kind => request_kind.as_str(),
            selected_request_state => request_state,
        },
    )
}

/// `GET /console/find?q=`: a document number or a request id.
pub async fn find(
    State(state): State<AppState>,
    session: Session,
    find_query: Result<Query<FindQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let wanted = query(find_query).q.trim().to_owned();
    let sane = !wanted.is_empty()
        && wanted.len() <= 64
        && wanted
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !sane {
        return Err(WebError::Field {
            field: "q",
            message: "give a document number or a request id (letters, digits and '-')".to_owned(),
        });
    }
    if uuid::Uuid::parse_str(&wanted).is_ok() && session.actor.role.may(Act::ReadRequest) {
        for kind in [Kind::Ttd, Kind::Passport] {
            if crate::usecase::read::get_request(
                state.service.records(),
                &session.actor,
                kind,
                &wanted,
            )
            .await
            .is_ok()
            {
                return Ok(see_other(&format!(
                    "/console/requests/{}/{wanted}",
                    kind.as_str()
                )));
            }
        }
    }
    let number = wanted.to_ascii_uppercase();
    Ok(see_other(&format!("/console/documents/{number}")))
}

/// `GET /console/people`: requests and documents of the people matching the find box's
/// name, NIC, birth date or case (`read::search_requests` and `read::list_documents`, as
/// `GET /v1/requests` and `GET /v1/documents`).
pub async fn people(
    State(state): State<AppState>,
    session: Session,
    person_query: Result<Query<crate::issuance::people::PersonQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    require(&session, Act::ReadRequest, "read requests")?;
    let wanted = query(person_query);
    let given =
        |value: &Option<String>| value.as_deref().is_some_and(|text| !text.trim().is_empty());
    if !(given(&wanted.name)
        || given(&wanted.nic)
        || given(&wanted.birth_date)
        || given(&wanted.case_id))
    {
        return Err(WebError::Field {
            field: "name",
            message: "give a name, a NIC, a birth date or a readmission case".to_owned(),
        });
    }
    let search = crate::usecase::read::RequestSearch {
        nic: wanted.nic.clone(),
        name: wanted.name.clone(),
        birth_date: wanted.birth_date.clone(),
        case_id: wanted.case_id.clone(),
        limit: Some(200),
        ..Default::default()
    };
    let requests =
        crate::usecase::read::search_requests(state.service.records(), &session.actor, &search)
            .await?;
    let documents = if session.actor.role.may(Act::ListDocuments) {
        let filter = DocumentFilter {
            nic: wanted.nic.clone(),
            name: wanted.name.clone(),
            birth_date: wanted.birth_date.clone(),
            case_id: wanted.case_id.clone(),
            limit: Some(200),
            ..DocumentFilter::default()
        };
        Some(
            crate::usecase::read::list_documents(state.service.records(), &session.actor, &filter)
                .await?,
        )
    } else {
        None
    };
    page(
        "people.html",
        &session,
        "People found",
        None,
        context! {
            query => Serde(serde_json::json!({
                "name": wanted.name, "nic": wanted.nic,
                "birth_date": wanted.birth_date, "case_id": wanted.case_id,
            })),
            requests => Serde(requests),
            documents => documents.map(Serde),
        },
    )
}

/// `GET /console/reports`: every report over a range of days, with the issuances drawn as an
/// SVG chart on the server (`usecase::reports`, as `GET /v1/reports/{report}`).
pub async fn reports(
    State(state): State<AppState>,
    session: Session,
    range: Result<Query<crate::usecase::reports::ReportQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    use crate::usecase::reports::{self, ReportName};
    require(&session, Act::ReadReports, "read reports")?;
    let range = query(range);
    let mut all = Vec::new();
    for name in ReportName::ALL {
        all.push(reports::report(state.service.records(), name, &range).await?);
    }
    let chart = all.first().map(reports::issuance_chart).unwrap_or_default();
    let (from, to) = all
        .first()
        .map(|report| (report.from.clone(), report.to.clone()))
        .unwrap_or_default();
    page(
        "reports.html",
        &session,
        "Reports",
        None,
        context! {
            column_names => REPORT_COLUMNS
                .map(|(column, name)| (column, super::console_text::translate(session.lang, name)))
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
            reports => Serde(all),
            chart => chart,
            from => from,
            to => to,
            titles => Serde(REPORT_TITLES.map(|(report, title)| {
                (report, super::console_text::translate(session.lang, title))
            }).into_iter().collect::<std::collections::BTreeMap<_, _>>()),
        },
    )
}

/// `GET /console/reports/{report}.csv`: one report as CSV (the API's figures).
pub async fn report_csv(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
    range: Result<Query<crate::usecase::reports::ReportQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    use crate::usecase::reports::{self, ReportName};
    require(&session, Act::ReadReports, "read reports")?;
    let name = file
        .strip_suffix(".csv")
        .and_then(ReportName::parse)
        .ok_or_else(|| {
            WebError::Refused(crate::http::error::ApiError::not_found("no such report"))
        })?;
    let report = reports::report(state.service.records(), name, &query(range)).await?;
    let body = report.csv()?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"travdoc-{}-{}-{}.csv\"",
                    name.as_str(),
                    report.from,
                    report.to
                ),
            ),
        ],
        body,
    )
        .into_response())
}

/// The passport application form's text fields (the photo comes as a file).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PassportForm {
    #[serde(skip_serializing)]
    pub csrf: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: String,
    pub sex: String,
    pub place_of_birth: String,
    pub personal_number: String,
    pub nic: String,
    pub nic_absent_reason: String,
    pub validity_years: String,
    pub previous_document_number: String,
    pub previous_document_status: String,
}

/// `GET /console/passports/new`: the passport application form (issuers), with the photo
/// upload and its preview.
pub async fn passport_form(session: Session) -> Result<Html<String>, WebError> {
    require(&session, Act::ApplyPassport, "take passport applications")?;
    page(
        "passport_new.html",
        &session,
        "Passport application",
        None,
        context! { form => Serde(PassportForm::default()) },
    )
}

/// The largest text field of a console form sent as multipart.
const FORM_FIELD_BYTES: usize = 1024;

/// `POST /console/passports` (multipart): `request::apply_passport`, as
/// `POST /v1/passport-applications`.
pub async fn passport_create(
    State(state): State<AppState>,
    session: Session,
    multipart: MultipartBody,
) -> Result<Response, WebError> {
    use base64::Engine as _;
    // DG2's limit, plus one byte so that a larger file is refused by the domain's rule.
    let (form, photo) = read_multipart::<PassportForm>(multipart, "photo", 65_536).await?;
    let photo = photo.unwrap_or_default();
    let csrf = form.csrf.clone();
    session.check_csrf(&csrf)?;
    require(&session, Act::ApplyPassport, "take passport applications")?;
    let validity_years = match form.validity_years.as_str() {
        "" => None,
        text => Some(text.parse::<u8>().map_err(|_| WebError::Field {
            field: "validity_years",
            message: "must be 5 or 10".to_owned(),
        })?),
    };
    let body = crate::issuance::input::PassportApplicationBody {
        surname: form.surname.clone(),
        given_names: form.given_names.clone(),
        nationality: form.nationality.to_ascii_uppercase(),
        birth_date: form.birth_date.clone(),
        sex: form.sex.clone(),
        place_of_birth: optional(&form.place_of_birth),
        personal_number: optional(&form.personal_number.to_ascii_uppercase()),
        validity_years,
        photo: base64::engine::general_purpose::STANDARD.encode(&photo),
        nic: optional(&form.nic),
        nic_absent_reason: optional(&form.nic_absent_reason),
        previous_document_number: optional(&form.previous_document_number.to_ascii_uppercase()),
        previous_document_status: optional(&form.previous_document_status),
    };
    match crate::usecase::request::apply_passport(
        state.service.issuing(),
        &session.actor,
        &body,
        None,
    )
    .await
    {
        Ok(view) => Ok(see_other(&format!(
            "/console/requests/passport/{}?msg=applied",
            view.id
        ))),
        Err(error) => refused_form(
            &session,
            ("passport_new.html", "Passport application"),
            &form,
            None,
            error,
        ),
    }
}

/// The legalization form's text fields (the document comes as a file).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LegalizationForm {
    #[serde(skip_serializing)]
    pub csrf: String,
    pub document_type: String,
    pub signatory: String,
    pub capacity: String,
    pub seal_of: String,
    pub authority: String,
    pub country_of_use: String,
    pub place: String,
}

/// `GET /console/legalizations/new`: the legalization form (consular staff).
pub async fn legalization_form(session: Session) -> Result<Html<String>, WebError> {
    require(&session, Act::Legalize, "legalize documents")?;
    page(
        "legalization_new.html",
        &session,
        "Legalize a document",
        None,
        context! { form => Serde(LegalizationForm::default()) },
    )
}

/// `POST /console/legalizations` (multipart): `legalize::legalize`, as `POST /v1/legalizations`;
/// on success the certificate's page.
pub async fn legalization_create(
    State(state): State<AppState>,
    session: Session,
    multipart: MultipartBody,
) -> Result<Response, WebError> {
    use base64::Engine as _;
    let (form, document) = read_multipart::<LegalizationForm>(
        multipart,
        "document",
        crate::issuance::input::MAX_DOCUMENT_BYTES,
    )
    .await?;
    let document = document.unwrap_or_default();
    let csrf = form.csrf.clone();
    session.check_csrf(&csrf)?;
    require(&session, Act::Legalize, "legalize documents")?;
    let body = crate::issuance::input::LegalizationBody {
        document_type: form.document_type.clone(),
        signatory: optional(&form.signatory),
        capacity: optional(&form.capacity),
        authority: form.authority.clone(),
        seal_of: optional(&form.seal_of),
        country_of_use: optional(&form.country_of_use.to_ascii_uppercase()),
        place: optional(&form.place),
        document: base64::engine::general_purpose::STANDARD.encode(&document),
    };
    match crate::usecase::legalize::legalize(state.service.issuing(), &session.actor, &body, None)
        .await
    {
        Ok(issued) => Ok(see_other(&format!(
            "/console/documents/{}?msg=issued",
            issued.certificate_number
        ))),
        Err(error) => refused_form(
            &session,
            ("legalization_new.html", "Legalize a document"),
            &form,
            None,
            error,
        ),
    }
}

/// `GET /console/stock`: blank stock counts, and the forms to receive, move and spoil blanks.
pub async fn stock_page(
    State(state): State<AppState>,
    session: Session,
    message: Result<Query<MessageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    require_stock(&session)?;
    let stock = crate::usecase::print::stock(state.service.printing(), &session.actor).await?;
    page(
        "stock.html",
        &session,
        "Blank stock",
        query(message).msg.as_deref(),
        context! {
            stock => Serde(stock),
            at => crate::usecase::print::stock_scope(&session.actor),
        },
    )
}

/// 403 unless the session keeps blank stock: headquarters anywhere, a mission at its own.
fn require_stock(session: &Session) -> Result<(), WebError> {
    if session.actor.may(Act::KeepMissionStock) {
        Ok(())
    } else {
        require(session, Act::ManageStock, "manage blank stock")
    }
}

/// A stock form's fields (each act uses its own).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StockForm {
    pub csrf: String,
    pub doc_type: String,
    pub location: String,
    pub to_location: String,
    pub from: String,
    pub to: String,
    pub serial: String,
    pub reason: String,
}

/// `POST /console/stock/{receive|move|spoil}` (`print::add_stock`, `move_stock`,
/// `spoil_stock`, as `travdoc stock`).
pub async fn stock_act(
    State(state): State<AppState>,
    session: Session,
    Path(act): Path<String>,
    body: Result<Form<StockForm>, FormRejection>,
) -> Result<Response, WebError> {
    let stock = form(body)?;
    session.check_csrf(&stock.csrf)?;
    if act == "spoil" {
        require_stock(&session)?;
    } else {
        require(&session, Act::ManageStock, "manage blank stock")?;
    }
    let printing = state.service.printing();
    let actor = &session.actor;
    let message = match act.as_str() {
        "receive" => {
            crate::usecase::print::add_stock(
                printing,
                actor,
                stock.doc_type.trim(),
                stock.location.trim(),
                stock.from.trim(),
                stock.to.trim(),
            )
            .await?;
            "stock-received"
        }
        "move" => {
            crate::usecase::print::move_stock(
                printing,
                actor,
                stock.doc_type.trim(),
                (stock.location.trim(), stock.to_location.trim()),
                stock.from.trim(),
                stock.to.trim(),
            )
            .await?;
            "stock-moved"
        }
        "spoil" => {
            crate::usecase::print::spoil_stock(printing, actor, stock.serial.trim(), &stock.reason)
                .await?;
            "stock-spoiled"
        }
        _ => {
            return Err(WebError::Refused(crate::http::error::ApiError::not_found(
                "no such stock act",
            )));
        }
    };
    Ok(see_other(&format!("/console/stock?msg={message}")))
}

/// `GET /console/ttds/new`: the TTD request form (missions).
pub async fn ttd_form(session: Session) -> Result<Html<String>, WebError> {
    require(&session, Act::RequestTtd, "request a TTD")?;
    page(
        "ttd_new.html",
        &session,
        "Request a temporary travel document",
        None,
        context! { form => Serde(TtdForm::default()) },
    )
}

type MultipartBody = Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>;

/// A console form sent as multipart: its text fields (each at most a kilobyte, at most 32 of
/// them) read into `T`, and the one file field `file` (at most `file_limit` bytes; none when
/// no file was chosen). One reader for the TTD, passport and legalization forms.
async fn read_multipart<T: serde::de::DeserializeOwned>(
    multipart: MultipartBody,
    file: &'static str,
    file_limit: usize,
) -> Result<(T, Option<Vec<u8>>), WebError> {
    let unreadable = || WebError::Field {
        field: "form",
        message: "the form could not be read".to_owned(),
    };
    let mut multipart = multipart.map_err(|_| unreadable())?;
    let mut fields = serde_json::Map::new();
    let mut bytes = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_owned();
        if name == file {
            let read = super::verify_page::read_field(field, file, file_limit).await?;
            bytes = Some(read).filter(|read| !read.is_empty());
            continue;
        }
        let text = super::verify_page::read_text(field, "form", FORM_FIELD_BYTES).await?;
        if fields.len() < 32 {
            fields.insert(name, serde_json::Value::String(text.trim().to_owned()));
        }
    }
    let form =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| unreadable())?;
    Ok((form, bytes))
}

/// A form page again with the domain's refusal, its field marked (the fields as they were
/// sent; a file must be chosen again).
fn refused_form<F: Serialize>(
    session: &Session,
    (template, title): (&str, &str),
    form: F,
    correcting: Option<&str>,
    error: crate::issuance::IssuanceError,
) -> Result<Response, WebError> {
    let error = WebError::from(error);
    let status = error.status();
    let html = page(
        template,
        session,
        title,
        None,
        context! {
            form => Serde(form),
            correcting => correcting,
            error => error.public_message(),
            error_field => error.field(),
        },
    )?;
    Ok((status, html).into_response())
}

/// The request body of a TTD form for `mission` (the domain validates it).
fn ttd_body(ttd: &TtdForm, mission: String, photo: Option<&[u8]>) -> TtdRequestBody {
    use base64::Engine as _;
    TtdRequestBody {
        surname: ttd.surname.trim().to_owned(),
        given_names: ttd.given_names.trim().to_owned(),
        nationality: ttd.nationality.trim().to_ascii_uppercase(),
        birth_date: ttd.birth_date.trim().to_owned(),
        sex: ttd.sex.trim().to_owned(),
        mission,
        destination: ttd.destination.trim().to_ascii_uppercase(),
        route: ttd
            .route
            .split([',', ' '])
            .map(|stop| stop.trim().to_ascii_uppercase())
            .filter(|stop| !stop.is_empty())
            .collect(),
        valid_until: ttd.valid_until.trim().to_owned(),
        case_reference: optional(&ttd.case_reference),
        previous_document: optional(&ttd.previous_document),
        photo: photo.map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes)),
        nic: optional(&ttd.nic),
        nic_absent_reason: optional(&ttd.nic_absent_reason),
        readmission: readmission(ttd),
    }
}

fn text_of(data: &serde_json::Value, pointer: &str) -> String {
    match data.pointer(pointer) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// `GET /console/requests/ttd/{id}/correct`: a returned request's form, filled with what it
/// holds (its requester only). The photo is not shown again: a correction without one keeps
/// none, as `PUT /v1/ttds/{id}`.
pub async fn ttd_correction_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    require(&session, Act::RequestTtd, "correct a TTD request")?;
    let data = crate::usecase::read::returned_request_data(
        state.service.records(),
        &session.actor,
        Kind::Ttd,
        &id,
    )
    .await?;
    let form = TtdForm {
        surname: text_of(&data, "/person/surname"),
        given_names: text_of(&data, "/person/given_names"),
        nationality: text_of(&data, "/person/nationality"),
        birth_date: text_of(&data, "/person/birth_date"),
        sex: text_of(&data, "/person/sex"),
        nic: text_of(&data, "/person/nic"),
        nic_absent_reason: text_of(&data, "/person/nic_absent_reason"),
        destination: text_of(&data, "/destination"),
        route: text_of(&data, "/route"),
        valid_until: text_of(&data, "/valid_until"),
        case_reference: text_of(&data, "/case_reference"),
        previous_document: text_of(&data, "/previous_document"),
        returning_from: text_of(&data, "/readmission/returning_from"),
        agreement: text_of(&data, "/readmission/agreement"),
        csrf: String::new(),
    };
    page(
        "ttd_new.html",
        &session,
        "Correct the returned request",
        None,
        context! { form => Serde(form), correcting => id },
    )
}

/// `POST /console/requests/ttd/{id}/correct`: `request::correct_ttd`, as `PUT /v1/ttds/{id}`.
pub async fn ttd_correct(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    multipart: MultipartBody,
) -> Result<Response, WebError> {
    let (ttd, body) = ttd_submission(&session, multipart).await?;
    match crate::usecase::request::correct_ttd(state.service.issuing(), &session.actor, &id, &body)
        .await
    {
        Ok(view) => Ok(see_other(&format!(
            "/console/requests/ttd/{}?msg=corrected",
            view.id
        ))),
        Err(error) => refused_form(
            &session,
            ("ttd_new.html", "Correct the returned request"),
            TtdForm {
                csrf: String::new(),
                ..ttd
            },
            Some(&id),
            error,
        ),
    }
}

/// A TTD form as sent (request or correction): read, its CSRF token and the officer's role
/// checked, and the request body for the officer's mission.
async fn ttd_submission(
    session: &Session,
    multipart: MultipartBody,
) -> Result<(TtdForm, TtdRequestBody), WebError> {
    let (ttd, photo) = read_multipart::<TtdForm>(multipart, "photo", 65_536).await?;
    session.check_csrf(&ttd.csrf)?;
    require(session, Act::RequestTtd, "request a TTD")?;
    let mission = session
        .actor
        .mission
        .as_ref()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let body = ttd_body(&ttd, mission, photo.as_deref());
    Ok((ttd, body))
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `POST /console/ttds`: stores a TTD request (`request_ttd`, as `POST /v1/ttds`).
pub async fn ttd_create(
    State(state): State<AppState>,
    session: Session,
    multipart: MultipartBody,
) -> Result<Response, WebError> {
    let (ttd, body) = ttd_submission(&session, multipart).await?;
    match crate::usecase::request::request_ttd(state.service.issuing(), &session.actor, &body, None)
        .await
    {
        Ok(view) => Ok(see_other(&format!(
            "/console/requests/ttd/{}?msg=requested",
            view.id
        ))),
        Err(error) => refused_form(
            &session,
            ("ttd_new.html", "Request a temporary travel document"),
            TtdForm {
                csrf: String::new(),
                ..ttd
            },
            None,
            error,
        ),
    }
}

/// `GET /console/requests/{kind}/{id}`.
pub async fn request_page(
    State(state): State<AppState>,
    session: Session,
    Path((kind, id)): Path<(String, String)>,
    message: Result<Query<MessageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    require(&session, Act::ReadRequest, "read requests")?;
    let kind = kind_of(&kind)?;
    let view =
        crate::usecase::read::get_request(state.service.records(), &session.actor, kind, &id)
            .await?;
    let role = session.actor.role;
    let (approve, issue) = match kind {
        Kind::Passport => (Act::ApprovePassport, Act::IssuePassport),
        _ => (Act::ApproveTtd, Act::IssueTtd),
    };
    let may_approve = role.may(approve)
        && view.state == RequestState::Requested
        && view.requested_by != session.actor.id;
    let own_request = view.requested_by == session.actor.id;
    let may_issue = role.may(issue) && view.state == RequestState::Approved;
    // Clear a hit, return or reject: an approver who did not lodge the request.
    let may_decide = role.may(approve)
        && !own_request
        && matches!(
            view.state,
            RequestState::Requested | RequestState::OnHold | RequestState::Returned
        );
    // A returned TTD request is corrected on the form by its requester.
    let can_correct = kind == Kind::Ttd
        && view.state == RequestState::Returned
        && own_request
        && role.may(Act::RequestTtd);
    page(
        "request.html",
        &session,
        "Request",
        query(message).msg.as_deref(),
        context! {
            request => Serde(view),
            kind => kind.as_str(),
            may_approve => may_approve,
            own_request => own_request && role.may(approve),
            may_issue => may_issue,
            may_decide => may_decide,
            can_correct => can_correct,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub csrf: String,
    pub code: String,
    pub reason: String,
}

/// `POST /console/requests/{kind}/{id}/{clear-hold|return|reject}` (`usecase::decide`).
pub async fn request_decide(
    State(state): State<AppState>,
    session: Session,
    Path((kind, id, decision)): Path<(String, String, String)>,
    body: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, WebError> {
    let body = form(body)?;
    session.check_csrf(&body.csrf)?;
    let kind = kind_of(&kind)?;
    let act = if kind == Kind::Passport {
        Act::ApprovePassport
    } else {
        Act::ApproveTtd
    };
    require(&session, act, "decide on requests")?;
    let records = state.service.records();
    let reason = body.reason.trim();
    let message = match decision.as_str() {
        "clear-hold" => {
            crate::usecase::decide::clear_hold(
                records,
                &session.actor,
                kind,
                &id,
                &body.code,
                reason,
            )
            .await?;
            "hold-cleared"
        }
        "return" => {
            crate::usecase::decide::return_request(records, &session.actor, kind, &id, reason)
                .await?;
            "returned"
        }
        "reject" => {
            crate::usecase::decide::reject(records, &session.actor, kind, &id, reason).await?;
            "rejected"
        }
        _ => {
            return Err(WebError::Refused(crate::http::error::ApiError::not_found(
                "no such decision on a request",
            )));
        }
    };
    Ok(see_other(&format!(
        "/console/requests/{}/{id}?msg={message}",
        kind.as_str()
    )))
}

/// `POST /console/requests/{kind}/{id}/approve` (`approve`, four-eyes in the domain).
pub async fn request_approve(
    State(state): State<AppState>,
    session: Session,
    Path((kind, id)): Path<(String, String)>,
    body: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, WebError> {
    session.check_csrf(&form(body)?.csrf)?;
    let kind = kind_of(&kind)?;
    let act = if kind == Kind::Passport {
        Act::ApprovePassport
    } else {
        Act::ApproveTtd
    };
    require(&session, act, "approve requests")?;
    crate::usecase::approve::approve(state.service.records(), &session.actor, kind, &id, None)
        .await?;
    Ok(see_other(&format!(
        "/console/requests/{}/{id}?msg=approved",
        kind.as_str()
    )))
}

/// `POST /console/requests/{kind}/{id}/issue` (`issue_ttd` / `issue_passport`).
pub async fn request_issue(
    State(state): State<AppState>,
    session: Session,
    Path((kind, id)): Path<(String, String)>,
    body: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, WebError> {
    session.check_csrf(&form(body)?.csrf)?;
    let kind = kind_of(&kind)?;
    let number = if kind == Kind::Passport {
        require(&session, Act::IssuePassport, "issue passports")?;
        crate::usecase::personalize::issue_passport(
            state.service.issuing(),
            &session.actor,
            &id,
            None,
        )
        .await?
        .document_number
    } else {
        require(&session, Act::IssueTtd, "issue TTDs")?;
        crate::usecase::issue_ttd::issue_ttd(state.service.issuing(), &session.actor, &id, None)
            .await?
            .document_number
    };
    Ok(see_other(&format!(
        "/console/documents/{number}?msg=issued"
    )))
}

/// `GET /console/documents/{number}`: details, actions, ledger proof.
pub async fn document_page(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    message: Result<Query<MessageQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    require(&session, Act::ReadDocument, "read documents")?;
    let (view, seal) =
        crate::usecase::read::document_detail(state.service.records(), &session.actor, &number)
            .await?;
    let seal = seal.as_deref().map(|bytes| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    });
    let proof = match view
        .ledger_index
        .and_then(|index| u64::try_from(index).ok())
    {
        Some(index) => state
            .ledger
            .proof(index)
            .await
            .ok()
            .and_then(|proof| serde_json::to_string_pretty(&proof).ok()),
        None => None,
    };
    let valid = view.status.as_str() == "valid";
    let is_ttd = view.kind == Kind::Ttd.as_str();
    let role = session.actor.role;
    let printers = if role.may(Act::Print) && valid {
        crate::usecase::print::printers_of(state.service.printing(), &session.actor)
    } else {
        Vec::new()
    };
    let mrz = view.mrz.clone().unwrap_or_default().join("\n");
    let history =
        crate::usecase::read::document_history(state.service.records(), &session.actor, &number)
            .await?;
    page(
        "document.html",
        &session,
        &super::console_text::translate(session.lang, "Document {number}")
            .replace("{number}", &view.number),
        query(message).msg.as_deref(),
        context! {
            document => Serde(view),
            mrz => mrz,
            seal => seal,
            proof => proof,
            history => Serde(history),
            printers => printers,
            may_print => role.may(Act::Print) && valid,
            print_key => uuid::Uuid::new_v4().to_string(),
            may_revoke => role.may(Act::Revoke) && valid,
            may_clear => role.may(Act::ClearArrival) && valid && is_ttd,
            reasons => ["lost", "stolen", "cancelled", "damaged"],
        },
    )
}

/// `GET /console/documents/{number}/pdf` (`document_pdf`, as `GET /v1/documents/{n}/pdf`).
pub async fn document_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
) -> Result<Response, WebError> {
    require(&session, Act::ReadDocument, "read documents")?;
    let pdf = crate::usecase::read::document_pdf(state.service.printing(), &session.actor, &number)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

/// `POST /console/documents/{number}/print` (`print_document`, as
/// `POST /v1/documents/{n}/print`; a reprint carries its reason).
pub async fn document_print(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    body: Result<Form<PrintForm>, FormRejection>,
) -> Result<Response, WebError> {
    let print = form(body)?;
    session.check_csrf(&print.csrf)?;
    require(&session, Act::Print, "print documents")?;
    if print.printer.trim().is_empty() {
        return Err(WebError::Field {
            field: "printer",
            message: "choose a printer".to_owned(),
        });
    }
    let reprint_reason = optional(&print.reprint_reason);
    let key = match print.idempotency_key.trim() {
        "" => None,
        key => {
            let request = serde_json::json!({"number": number, "printer": print.printer.trim(),
                "reprint_reason": reprint_reason});
            Some(crate::issuance::idempotency::IdempotencyKey::new(
                key,
                request.to_string().as_bytes(),
            )?)
        }
    };
    let printed_before = match &key {
        Some(key) => {
            crate::issuance::idempotency::lookup(state.service.db(), &session.actor.id, key)
                .await?
                .is_some()
        }
        None => false,
    };
    if !printed_before {
        crate::usecase::print::print_document(
            state.service.printing(),
            &session.actor,
            &number,
            print.printer.trim(),
            reprint_reason.as_deref(),
            key.as_ref(),
        )
        .await?;
    }
    Ok(see_other(&format!(
        "/console/documents/{number}?msg=printed"
    )))
}

/// `POST /console/documents/{number}/revoke` (`revoke`).
pub async fn document_revoke(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    body: Result<Form<RevokeForm>, FormRejection>,
) -> Result<Response, WebError> {
    let revoke = form(body)?;
    session.check_csrf(&revoke.csrf)?;
    require(&session, Act::Revoke, "revoke documents")?;
    let reason = match revoke.reason.as_str() {
        "lost" => RevocationReason::Lost,
        "stolen" => RevocationReason::Stolen,
        "cancelled" => RevocationReason::Cancelled,
        "damaged" => RevocationReason::Damaged,
        _ => {
            return Err(WebError::Field {
                field: "reason",
                message: "choose lost, stolen, cancelled or damaged".to_owned(),
            });
        }
    };
    crate::usecase::revoke::revoke(
        state.service.records(),
        &session.actor,
        &number,
        reason,
        None,
    )
    .await?;
    Ok(see_other(&format!(
        "/console/documents/{number}?msg=revoked"
    )))
}

/// `POST /console/documents/{number}/clear-arrival` (`clear_arrival`).
pub async fn document_clear_arrival(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    body: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, WebError> {
    session.check_csrf(&form(body)?.csrf)?;
    require(&session, Act::ClearArrival, "clear arrivals")?;
    crate::usecase::clear_arrival::clear_arrival(
        state.service.records(),
        &session.actor,
        &number,
        None,
    )
    .await?;
    Ok(see_other(&format!(
        "/console/documents/{number}?msg=cleared"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_of_language_returns_only_to_the_console() {
        for ours in [
            "/console",
            "/console/stock",
            "/console/people?name=Perera&nic=",
        ] {
            assert_eq!(console_path(ours), Some(ours), "{ours}");
        }
        for other in [
            "",
            "https://evil.example/console",
            "//evil.example/console",
            "/console//evil.example",
            "/consoleX",
            "/verify",
            "/console/\\evil",
            "/console/a b",
            "/console/\u{e9}",
        ] {
            assert_eq!(console_path(other), None, "{other}");
        }
    }

    #[test]
    fn flash_messages_are_a_closed_set() {
        assert!(flash("approved").is_some());
        assert!(flash("<script>").is_none());
    }

    #[test]
    fn only_requests_have_pages() {
        assert!(kind_of("ttd").is_ok());
        assert!(kind_of("passport").is_ok());
        assert!(kind_of("legalization").is_err());
        assert!(kind_of("x").is_err());
    }
}
