//! Asking for a document: a mission's TTD request or a passport application, checked into
//! typed input (names must transliterate and fit the MRZ now, not at issuance), recorded with
//! its ledger entry and the idempotent answer in one transaction. Called by the API
//! (`POST /v1/ttds`, `POST /v1/passport-applications`), the console and the offline commands.

use crate::auth::Actor;
use crate::issuance::checks::{self, CheckHit, PersonProbe};
use crate::issuance::documents::RevocationReason;
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::input::{
    PassportApplication, PassportApplicationBody, Person, PreviousDocumentStatus, TtdRequest,
    TtdRequestBody, date_text,
};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::{RequestRecord, RequestState, RequestView};
use crate::issuance::{IssuanceError, Issuing};
use crate::usecase::sltd;
use travdoc_store::ledger::Event;
use travdoc_store::people::PersonRow;

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
    let id = uuid::Uuid::new_v4().to_string();
    let now = issuing.now_text();
    let applicant = Applicant::Ttd(&request);
    let checks = run_checks(issuing, &id, &now, &applicant).await?;
    insert_request(
        issuing,
        actor,
        NewRecord {
            id,
            now,
            kind: Kind::Ttd,
            mission: Some(request.mission().to_owned()),
            data,
            photo: request.photo().map(<[u8]>::to_vec),
            checks,
        },
        &applicant,
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
    let id = uuid::Uuid::new_v4().to_string();
    let now = issuing.now_text();
    let applicant = Applicant::Passport(&application);
    let checks = run_checks(issuing, &id, &now, &applicant).await?;
    insert_request(
        issuing,
        actor,
        NewRecord {
            id,
            now,
            kind: Kind::Passport,
            mission: None,
            data,
            photo: Some(application.photo().to_vec()),
            checks,
        },
        &applicant,
        idempotency_key,
    )
    .await
}

/// A checked request's applicant.
pub(crate) enum Applicant<'a> {
    Ttd(&'a TtdRequest),
    Passport(&'a PassportApplication),
}

impl Applicant<'_> {
    fn person(&self) -> &Person {
        match self {
            Applicant::Ttd(request) => request.person(),
            Applicant::Passport(application) => application.person(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Applicant::Ttd(_) => Kind::Ttd,
            Applicant::Passport(_) => Kind::Passport,
        }
    }

    fn case_id(&self) -> Option<&str> {
        match self {
            Applicant::Ttd(request) => request.readmission().map(|case| case.case_id()),
            Applicant::Passport(_) => None,
        }
    }

    /// The previous passport named, and how the hit names it.
    fn previous(&self) -> Option<(&str, String)> {
        match self {
            Applicant::Ttd(request) => request
                .previous_document()
                .map(|number| (number, "previous passport".to_owned())),
            Applicant::Passport(application) => {
                application.previous_document().map(|(number, status)| {
                    (
                        number,
                        format!("previous passport (declared {})", status.as_str()),
                    )
                })
            }
        }
    }

    fn person_row(&self, id: &str, mission: Option<&str>, now: &str) -> PersonRow {
        crate::issuance::people::person_row(
            id,
            self.kind(),
            mission,
            self.person(),
            (self.case_id(), self.previous().map(|(number, _)| number)),
            now,
        )
    }
}

/// Every check of request `id` (made at `created_at`): the NIC's, the previous passport's
/// listings, and the person checks against the other requests and documents
/// (`docs/checks.md`). None when `[service] checks` is off.
pub(crate) async fn run_checks(
    issuing: &Issuing,
    id: &str,
    created_at: &str,
    applicant: &Applicant<'_>,
) -> Result<Vec<CheckHit>, IssuanceError> {
    if !issuing.settings.checks {
        return Ok(Vec::new());
    }
    let person = applicant.person();
    let probe = travdoc_store::people::ProbeRow {
        request_id: id.to_owned(),
        issuing_state: issuing.country.clone(),
        keys: Some(travdoc_store::people::ProbeKeys {
            nic: person
                .nic()
                .and_then(crate::issuance::people::canonical_nic),
            name_key: crate::issuance::people::name_key(person.surname(), person.given_names()),
            birth_date: person.birth_date().to_owned(),
            sex: person.sex().to_owned(),
            previous: applicant.previous().map(|(number, _)| number.to_owned()),
        }),
    };
    let found = lookup(issuing, probe).await?;
    Ok(evaluate(issuing, created_at, applicant, found))
}

/// One applicant lookup, batched with the others of the moment.
async fn lookup(
    issuing: &Issuing,
    probe: travdoc_store::people::ProbeRow,
) -> Result<travdoc_store::people::Lookup, IssuanceError> {
    issuing
        .batches
        .lookup
        .submit(probe)
        .await
        .ok_or_else(|| crate::issuance::batch::lost("look up"))?
}

/// The lookup of an issuance's re-check, by the request's id alone (its applicant row holds
/// the keys), so that it runs while the request is loaded and its number allocated; none when
/// the checks are off. The issuing use cases pass its answer to [`recheck`].
pub(crate) async fn lookup_for_issue(
    issuing: &Issuing,
    id: &str,
) -> Result<Option<travdoc_store::people::Lookup>, IssuanceError> {
    if !issuing.settings.checks {
        return Ok(None);
    }
    let probe = travdoc_store::people::ProbeRow {
        request_id: id.to_owned(),
        issuing_state: issuing.country.clone(),
        keys: None,
    };
    lookup(issuing, probe).await.map(Some)
}

/// The hits of `applicant` given what was looked up about it.
fn evaluate(
    issuing: &Issuing,
    created_at: &str,
    applicant: &Applicant<'_>,
    found: travdoc_store::people::Lookup,
) -> Vec<CheckHit> {
    let person = applicant.person();
    let mut checks = checks::nic_checks(person);
    let previous = applicant.previous();
    if let Some((number, what)) = &previous {
        checks.extend(sltd::hits(
            person.nationality(),
            number,
            what,
            &found.listings,
            found.own.as_ref(),
        ));
        if person.nationality() == issuing.country {
            checks.extend(checks::previous_holder_check(
                person,
                number,
                found.own.as_ref().and_then(|own| own.holder.as_ref()),
            ));
        }
    }
    let today = date_text(issuing.now().date());
    checks.extend(checks::person_checks(
        &PersonProbe {
            kind: applicant.kind(),
            person,
            previous_document: previous.as_ref().map(|(number, _)| *number),
            case_id: applicant.case_id(),
            today: &today,
            created_at,
        },
        &found.related,
    ));
    checks
}

/// The previous passport an application's issuance cancels: the one it names, when that is
/// our passport issued to the same person (revoked as lost or stolen when so declared, as
/// damaged, or as cancelled when handed in). Whether it is still valid is decided in the
/// issuing commit.
pub(crate) async fn cancelled_previous(
    issuing: &Issuing,
    application: &PassportApplication,
) -> Result<Option<(String, RevocationReason)>, IssuanceError> {
    let Some((number, status)) = application.previous_document() else {
        return Ok(None);
    };
    if application.person().nationality() != issuing.country {
        return Ok(None);
    }
    let Some((holder, kind)) = travdoc_store::people::holder(issuing.db.reader(), number).await?
    else {
        return Ok(None);
    };
    if kind != "passport" || !checks::same_holder(application.person(), &holder) {
        return Ok(None);
    }
    let reason = match status {
        PreviousDocumentStatus::Presented => RevocationReason::Cancelled,
        PreviousDocumentStatus::Lost => RevocationReason::Lost,
        PreviousDocumentStatus::Stolen => RevocationReason::Stolen,
        PreviousDocumentStatus::Damaged => RevocationReason::Damaged,
    };
    Ok(Some((number.to_owned(), reason)))
}

/// The checks run again just before issuance: an approved request they find something new
/// about goes `on_hold` (ledgered) and is not issued; what an approver cleared stays cleared.
/// The issuing use cases call this after loading the request, with what
/// [`lookup_for_issue`] read meanwhile (none: the checks are off).
pub(crate) async fn recheck(
    issuing: &Issuing,
    actor: &Actor,
    record: &RequestRecord,
    looked_up: Option<travdoc_store::people::Lookup>,
) -> Result<(), IssuanceError> {
    let Some(looked_up) = looked_up else {
        return Ok(());
    };
    if record.state != RequestState::Approved {
        return Ok(());
    }
    let found = match record.kind {
        Kind::Ttd => {
            let request: TtdRequest = serde_json::from_value(record.data.clone())?;
            evaluate(
                issuing,
                &record.created_at,
                &Applicant::Ttd(&request),
                looked_up,
            )
        }
        Kind::Passport => {
            let application: PassportApplication = serde_json::from_value(record.data.clone())?;
            evaluate(
                issuing,
                &record.created_at,
                &Applicant::Passport(&application),
                looked_up,
            )
        }
        Kind::Legalization => return Ok(()),
    };
    let (merged, new) = checks::merge(&record.checks, found);
    if !new {
        return Ok(());
    }
    let now = issuing.now_text();
    let held = RequestRecord {
        state: RequestState::OnHold,
        checks: merged,
        updated_at: now.clone(),
        ..record.clone()
    };
    let stored_checks = held.checks_json()?;
    let mut tx = issuing.db.begin().await?;
    let moved = travdoc_store::requests::transition(
        &mut tx,
        &record.id,
        RequestState::Approved.as_str(),
        RequestState::OnHold.as_str(),
        stored_checks.as_deref(),
        &now,
    )
    .await?;
    if moved {
        record_hold(&mut tx, &held, actor, &now).await?;
        tx.commit().await?;
    }
    Err(IssuanceError::WrongState {
        what: "request",
        id: record.id.clone(),
        state: if moved {
            "on_hold: the checks before issuance found something new".to_owned()
        } else {
            "changed concurrently".to_owned()
        },
        expected: "approved",
    })
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
    let data = serde_json::to_value(&request)?;
    let photo = request.photo().map(<[u8]>::to_vec);
    correct(issuing, actor, id, data, photo, &Applicant::Ttd(&request)).await
}

/// `PUT /v1/passport-applications/{id}`: as [`correct_ttd`].
pub async fn correct_passport(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    body: &PassportApplicationBody,
) -> Result<RequestView, IssuanceError> {
    let application = body.validate(issuing.now().date())?;
    let data = serde_json::to_value(&application)?;
    let photo = Some(application.photo().to_vec());
    correct(
        issuing,
        actor,
        id,
        data,
        photo,
        &Applicant::Passport(&application),
    )
    .await
}

async fn correct(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    data: serde_json::Value,
    photo: Option<Vec<u8>>,
    applicant: &Applicant<'_>,
) -> Result<RequestView, IssuanceError> {
    let kind = applicant.kind();
    let record = load_returned(&issuing.records, actor, kind, id).await?;
    let now = issuing.now_text();
    let checks = run_checks(issuing, id, &record.created_at, applicant).await?;
    let state = if checks::holds(&checks) {
        RequestState::OnHold
    } else {
        RequestState::Requested
    };
    let person = applicant.person_row(id, record.mission.as_deref(), &record.created_at);
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
    travdoc_store::people::upsert(&mut tx, &person).await?;
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

/// A request its requester may correct: theirs (403 otherwise) and `returned` (409
/// otherwise). The correction and the console's correction form both load it here.
pub(crate) async fn load_returned(
    records: &crate::issuance::Records,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<RequestRecord, IssuanceError> {
    let record = records.load_request(actor, kind, id).await?;
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
    Ok(record)
}

/// The re-check at issuance with its lookup made while the request is loaded and numbered
/// ([`lookup_for_issue`] beside `Issuing::load_for_issue`): the loaded request and where its
/// number comes from, or the error (the number voided when one was allocated).
pub(crate) async fn load_checked_for_issue(
    issuing: &Issuing,
    actor: &Actor,
    kind: Kind,
    id: &str,
    given_number: Option<&str>,
) -> Result<(RequestRecord, crate::issuance::issue::NumberSource), IssuanceError> {
    let (loaded, looked_up) = tokio::join!(
        issuing.load_for_issue(actor, kind, id, given_number),
        lookup_for_issue(issuing, id)
    );
    let (record, source) = loaded?;
    let rechecked = match looked_up {
        Ok(looked_up) => recheck(issuing, actor, &record, looked_up).await,
        Err(error) => Err(error),
    };
    match rechecked {
        Ok(()) => Ok((record, source)),
        Err(error) => Err(issuing.abandon_source(actor, &source, error).await),
    }
}

/// The ledger entry of a hold: the hit codes only (the details name the applicant's data,
/// which the leaf does not carry).
async fn record_hold(
    tx: &mut crate::db::Tx,
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

/// A new request's own fields.
struct NewRecord {
    id: String,
    now: String,
    kind: Kind,
    mission: Option<String>,
    data: serde_json::Value,
    photo: Option<Vec<u8>>,
    checks: Vec<CheckHit>,
}

async fn insert_request(
    issuing: &Issuing,
    actor: &Actor,
    new: NewRecord,
    applicant: &Applicant<'_>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<RequestView, IssuanceError> {
    let NewRecord {
        id,
        now,
        kind,
        mission,
        data,
        photo,
        checks,
    } = new;
    // A hit holds the request until an approver clears it (it cannot be approved before).
    let state = if checks::holds(&checks) {
        RequestState::OnHold
    } else {
        RequestState::Requested
    };
    let person = applicant.person_row(&id, mission.as_deref(), &now);
    let record = RequestRecord {
        id,
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
    travdoc_store::people::upsert(&mut tx, &person).await?;
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

/// Fills the applicant rows of requests made before the person checks existed (migration
/// `0180`), so that the checks and the search see them; run at start. Returns how many.
pub async fn backfill_people(issuing: &Issuing) -> Result<usize, IssuanceError> {
    let mut filled = 0;
    loop {
        let rows = travdoc_store::people::missing(issuing.db.reader(), 500).await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = issuing.db.begin().await?;
        let mut batch = 0;
        for row in rows {
            let record = crate::issuance::requests::request_record(row)?;
            let person = match record.kind {
                Kind::Ttd => {
                    serde_json::from_value::<TtdRequest>(record.data.clone()).map(|request| {
                        Applicant::Ttd(&request).person_row(
                            &record.id,
                            record.mission.as_deref(),
                            &record.created_at,
                        )
                    })
                }
                _ => serde_json::from_value::<PassportApplication>(record.data.clone()).map(
                    |application| {
                        Applicant::Passport(&application).person_row(
                            &record.id,
                            record.mission.as_deref(),
                            &record.created_at,
                        )
                    },
                ),
            };
            match person {
                Ok(person) => {
                    travdoc_store::people::upsert(&mut tx, &person).await?;
                    batch += 1;
                }
                Err(error) => {
                    tracing::warn!(request = %record.id, %error, "request data unreadable; not in the person index");
                }
            }
        }
        tx.commit().await?;
        if batch == 0 {
            // Only unreadable requests are left: they stay out of the index (warned above).
            return Ok(filled);
        }
        filled += batch;
    }
}
