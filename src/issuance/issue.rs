//! The issuing pipeline shared by every kind: load the request and allocate its number, build
//! and sign, then issue in a batch (one statement on PostgreSQL, one group-commit transaction
//! on SQLite) with its ledger entry.

use std::time::Instant;

use serde::Serialize;

use super::batch::BatchStatement;
use super::documents::Built;
use super::idempotency::IdempotencyKey;
use super::ledger::{self, LedgerEvent};
use super::numbering::{self, Kind};
use super::requests::{RequestRecord, RequestState};
use super::{IssuanceError, Issuing};
use crate::auth::Actor;
use travdoc_store::issuing::{IssueError, IssueOutcome, IssueRow};
use travdoc_store::ledger::Event;

/// Where an issuance's document number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NumberSource {
    /// The next number of the series, allocated by the issuing pipeline.
    Next,
    /// A pre-printed booklet number, claimed by the pipeline (checked unused).
    Given(String),
    /// Already allocated for this request (see [`Issuing::load_for_issue`]).
    Allocated(String),
}

impl Issuing {
    /// Loads request `id` for issuing it. Without a pre-printed number the next number is
    /// allocated in the same statement (PostgreSQL) or transaction (SQLite) when the request is
    /// approved and the actor's to issue, after the HSM answered, batched with the other
    /// issuances of the node queued at the moment (see [`numbering::AllocationStatement`]):
    /// the issuing path makes two trips to the database, not three.
    pub(crate) async fn load_for_issue(
        &self,
        actor: &Actor,
        kind: Kind,
        id: &str,
        given_number: Option<&str>,
    ) -> Result<(RequestRecord, NumberSource), IssuanceError> {
        let mission = match (actor.role, &actor.mission) {
            (crate::auth::Role::Mission, Some(own)) => Some(Some(own.as_str())),
            (crate::auth::Role::Mission, None) => None,
            _ => Some(None),
        };
        let (None, Some(mission)) = (given_number, mission) else {
            let record = self.load_request(actor, kind, id).await?;
            let source = match given_number {
                Some(number) => NumberSource::Given(number.to_owned()),
                None => NumberSource::Next,
            };
            return Ok((record, source));
        };
        let not_found = || IssuanceError::NotFound {
            what: "request",
            id: id.to_owned(),
        };
        // Nothing is allocated when the HSM is down.
        self.signers.get().check()?;
        let item = numbering::AllocationItem {
            request_id: id.to_owned(),
            mission: mission.map(str::to_owned),
        };
        let (record, number) = self
            .batches
            .allocation(kind)
            .submit(item)
            .await
            .ok_or_else(|| super::batch::lost("allocate"))??
            .ok_or_else(not_found)?;
        let number = number?;
        let checked = record.and_then(|record| {
            if record.kind == kind && actor.can_see_mission(record.mission.as_deref()) {
                Ok(record)
            } else {
                Err(not_found())
            }
        });
        match (checked, number) {
            (Ok(record), Some(number)) => Ok((record, NumberSource::Allocated(number))),
            (Ok(record), None) => Ok((record, NumberSource::Next)),
            (Err(error), None) => Err(error),
            // The statement's conditions are these checks, so this does not happen; should it,
            // the number is recorded void like any other aborted issuance.
            (Err(error), Some(number)) => Err(self.abandon(actor, &number, error).await),
        }
    }

    /// [`Issuing::abandon`] for a number already allocated by [`Issuing::load_for_issue`];
    /// nothing to void otherwise.
    pub(crate) async fn abandon_source(
        &self,
        actor: &Actor,
        source: &NumberSource,
        error: IssuanceError,
    ) -> IssuanceError {
        match source {
            NumberSource::Allocated(number) => self.abandon(actor, number, error).await,
            _ => error,
        }
    }

    /// Voids `number`, whose issuance stopped on `error`, and returns the error.
    pub(crate) async fn abandon(
        &self,
        actor: &Actor,
        number: &str,
        error: IssuanceError,
    ) -> IssuanceError {
        let reason = format!("issuance aborted: {error}");
        if let Err(void_error) =
            numbering::void(&self.db, number, &reason, &actor.id, self.now()).await
        {
            tracing::error!(%number, error = %void_error, "could not void number; the recovery pass will");
        }
        error
    }

    /// The shared issuing pipeline for an approved request: allocate a number (committed),
    /// build and sign (HSM), then one transaction that stores the document, closes the number,
    /// moves the request to `issued`, appends to the ledger and stores the idempotent response
    /// (batched, see [`travdoc_store::issuing::issue`]).
    /// On any failure after allocation the number is voided. `source` says where the number
    /// comes from (see [`Issuing::load_for_issue`]).
    pub(crate) async fn issue_request<R, B, F>(
        &self,
        actor: &Actor,
        record: &RequestRecord,
        source: NumberSource,
        idempotency_key: Option<&IdempotencyKey>,
        build: B,
        respond: F,
    ) -> Result<R, IssuanceError>
    where
        R: Serialize,
        B: FnOnce(&str) -> Result<Built, IssuanceError> + Send + 'static,
        F: FnOnce(&str, &Built) -> R,
    {
        let started = Instant::now();
        if record.state != RequestState::Approved {
            let error = IssuanceError::WrongState {
                what: "request",
                id: record.id.clone(),
                state: record.state.as_str().to_owned(),
                expected: "approved",
            };
            return Err(match source {
                NumberSource::Allocated(number) => self.abandon(actor, &number, error).await,
                _ => error,
            });
        }
        let number = match source {
            NumberSource::Allocated(number) => number,
            NumberSource::Given(number) => {
                // Nothing is stored when the HSM is down.
                self.signers.get().check()?;
                numbering::claim(&self.db, record.kind, &number, &record.id, self.now()).await?
            }
            NumberSource::Next => {
                self.signers.get().check()?;
                numbering::allocate(
                    &self.db,
                    &self.numbering,
                    record.kind,
                    &record.id,
                    self.now(),
                )
                .await?
            }
        };
        self.finish_issue(
            actor,
            record,
            &number,
            idempotency_key,
            build,
            respond,
            started,
        )
        .await
    }

    /// Builds, signs and stores the document for an allocated `number`; voids the number when
    /// that fails.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn finish_issue<R, B, F>(
        &self,
        actor: &Actor,
        record: &RequestRecord,
        number: &str,
        idempotency_key: Option<&IdempotencyKey>,
        build: B,
        respond: F,
        started: Instant,
    ) -> Result<R, IssuanceError>
    where
        R: Serialize,
        B: FnOnce(&str) -> Result<Built, IssuanceError> + Send + 'static,
        F: FnOnce(&str, &Built) -> R,
    {
        let result = self
            .complete_issue(actor, record, number, idempotency_key, build, respond)
            .await;
        match result {
            Ok(response) => {
                self.metrics
                    .record_issuance(record.kind.as_str(), started.elapsed());
                Ok(response)
            }
            Err(error) => Err(self.abandon(actor, number, error).await),
        }
    }

    async fn complete_issue<R, B, F>(
        &self,
        actor: &Actor,
        record: &RequestRecord,
        number: &str,
        idempotency_key: Option<&IdempotencyKey>,
        build: B,
        respond: F,
    ) -> Result<R, IssuanceError>
    where
        R: Serialize,
        B: FnOnce(&str) -> Result<Built, IssuanceError> + Send + 'static,
        F: FnOnce(&str, &Built) -> R,
    {
        let signing = Instant::now();
        // Built and signed here, on the async worker: a TTD's MRZ, seal and HSM signature take
        // about a millisecond, and moving them to a blocking thread cost 19% of the issuing
        // throughput in the load test (64 clients: 2,275/s against 2,818/s on the same run).
        // A slow HSM is bounded by the HSM session pool and answered 503 when it is away.
        let built = build(number)?;
        self.metrics.record_sign(signing.elapsed());
        let response = respond(number, &built);
        let now = self.now_text();
        let action = match record.kind {
            Kind::Ttd => "ttd.issued",
            Kind::Passport => "passport.issued",
            Kind::Legalization => "legalization.issued",
        };
        let event_data = serde_json::json!({
            "number": number,
            "request": record.id,
            "mrz": built.mrz,
            "seal_sha256": built.seal.as_ref().map(|seal| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(seal))),
            "sod_sha256": built.sod.as_ref().map(|sod| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(sod))),
            "document_sha256": built.document_sha256,
        });
        let digest = |bytes: &Option<Vec<u8>>| {
            travdoc_store::ledger::Digest32::of(bytes.as_deref().unwrap_or_default())
        };
        let entry = match record.kind {
            Kind::Ttd => Event::TtdIssued {
                document_ref: number.to_owned(),
                issuing_state: self.country.clone(),
                seal_sha256: digest(&built.seal),
                signer_key_id: built.signer_key_id.clone(),
                mission: record.mission.clone().unwrap_or_default(),
                operator_ref: actor.id.clone(),
            },
            Kind::Passport => Event::PassportIssued {
                document_ref: number.to_owned(),
                issuing_state: self.country.clone(),
                sod_sha256: digest(&built.sod),
                ds_key_id: built.signer_key_id.clone(),
                operator_ref: actor.id.clone(),
            },
            Kind::Legalization => Event::LegalizationIssued {
                certificate_ref: number.to_owned(),
                legalized_document_sha256: built
                    .document_sha256
                    .as_deref()
                    .and_then(|text| hex::decode(text).ok())
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
                    .map(travdoc_store::ledger::Digest32)
                    .ok_or_else(|| IssuanceError::Build("document hash".into()))?,
                seal_sha256: digest(&built.seal),
                signer_key_id: built.signer_key_id.clone(),
                operator_ref: actor.id.clone(),
            },
        };
        // `<kind>.issued:<number>` is new: this transaction moves the number from allocated to
        // issued. The append also fills in the document's `ledger_index`.
        let event = LedgerEvent::new(action, number, &actor.id, &event_data, &now).with_new_entry(
            entry,
            "svc_documents",
            "number",
        );
        let item = issue_item(&IssueRows {
            record,
            number,
            now: &now,
            actor,
            built: &built,
            event: &event,
            idempotent: idempotency_key
                .map(|key| -> Result<_, IssuanceError> {
                    Ok((key, serde_json::to_string(&response)?))
                })
                .transpose()?,
        })?;
        let outcome = self
            .batches
            .issue
            .submit(item)
            .await
            .ok_or_else(|| super::batch::lost("issue"))?;
        match outcome {
            Ok(IssueOutcome::Issued) => {}
            Ok(IssueOutcome::RequestChanged) => return Err(request_changed(record)),
            // The batch names all its numbers; this issuance's own is the one to report.
            Err(IssuanceError::WrongState {
                what: NUMBER_WHAT, ..
            }) => return Err(number_not_allocated(number)),
            Err(error) => return Err(error),
        }
        Ok(response)
    }
}

fn request_changed(record: &RequestRecord) -> IssuanceError {
    IssuanceError::WrongState {
        what: "request",
        id: record.id.clone(),
        state: "changed concurrently".to_owned(),
        expected: "approved",
    }
}

/// What one issuance writes.
struct IssueRows<'a> {
    record: &'a RequestRecord,
    number: &'a str,
    now: &'a str,
    actor: &'a Actor,
    built: &'a Built,
    event: &'a LedgerEvent,
    /// The idempotency key and the response stored under it, when the caller gave one.
    idempotent: Option<(&'a IdempotencyKey, String)>,
}

const NUMBER_WHAT: &str = "document number";

fn number_not_allocated(number: &str) -> IssuanceError {
    IssuanceError::WrongState {
        what: NUMBER_WHAT,
        id: number.to_owned(),
        state: "not allocated".to_owned(),
        expected: "allocated",
    }
}

fn issue_item(rows: &IssueRows<'_>) -> Result<IssueRow, IssuanceError> {
    let (entry_key, entry) = ledger::entry(rows.event)
        .ok_or_else(|| IssuanceError::Build("an issuance without a ledger entry".into()))?;
    let (event_id, leaf_sha256) = rows.event.row_values();
    let (record, built) = (rows.record, rows.built);
    Ok(IssueRow {
        number: rows.number.to_owned(),
        kind: record.kind.as_str(),
        request_id: record.id.clone(),
        mission: record.mission.clone(),
        valid_until: built.valid_until.clone(),
        at: rows.now.to_owned(),
        actor: rows.actor.id.clone(),
        mrz: built
            .mrz
            .as_ref()
            .map(|lines| serde_json::json!(lines).to_string()),
        seal: built.seal.clone(),
        sod: built.sod.clone(),
        payload: built.payload.to_string(),
        document_sha256: built.document_sha256.clone(),
        event_id,
        action: rows.event.action,
        leaf_sha256,
        entry_key,
        entry,
        idempotent: rows
            .idempotent
            .as_ref()
            .map(|(key, body)| (key.key.clone(), key.request_hash.clone(), body.clone())),
        cancels: built
            .cancels
            .as_ref()
            .map(|(previous, reason)| cancellation(rows, previous, *reason))
            .transpose()?,
    })
}

/// The revocation of the previous passport `previous` that issuing `rows` makes: the same
/// event and ledger entry as a revocation by hand (`usecase::revoke`), by the issuing officer.
fn cancellation(
    rows: &IssueRows<'_>,
    previous: &str,
    reason: super::documents::RevocationReason,
) -> Result<travdoc_store::issuing::Cancellation, IssuanceError> {
    let event = LedgerEvent::new(
        "document.revoked",
        previous,
        &rows.actor.id,
        &serde_json::json!({
            "number": previous,
            "reason": reason.as_str(),
            "replaced_by": rows.number,
        }),
        rows.now,
    )
    .with_entry(Event::DocumentRevoked {
        document_ref: previous.to_owned(),
        reason: reason.as_str().to_owned(),
        operator_ref: rows.actor.id.clone(),
    });
    let (entry_key, entry) = ledger::entry(&event)
        .ok_or_else(|| IssuanceError::Build("a cancellation without a ledger entry".into()))?;
    let (event_id, leaf_sha256) = event.row_values();
    Ok(travdoc_store::issuing::Cancellation {
        number: previous.to_owned(),
        reason: reason.as_str().to_owned(),
        event_id,
        action: event.action,
        leaf_sha256,
        entry_key,
        entry,
    })
}

/// Issuing a batch of signed documents in one commit (see [`travdoc_store::issuing::issue`]).
pub(crate) struct IssueStatement {
    pub(crate) store: travdoc_store::Store,
}

impl BatchStatement for IssueStatement {
    type Item = IssueRow;
    type Outcome = IssueOutcome;
    const NAME: &'static str = "issue";

    fn run<'a>(&'a self, items: &'a [IssueRow]) -> super::batch::StatementFuture<'a, IssueOutcome> {
        Box::pin(async move {
            travdoc_store::issuing::issue(&self.store, items)
                .await
                .map_err(IssuanceError::from)
        })
    }
}

impl From<IssueError> for IssuanceError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::NumberNotAllocated(numbers) => number_not_allocated(&numbers),
            IssueError::Store(error) => error.into(),
            other => IssuanceError::Corrupt(other.to_string()),
        }
    }
}
