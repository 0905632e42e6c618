//! Issued documents: the issuing pipeline shared by all kinds, reading, listing, revocation,
//! arrival clearance and printing.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use time::Date;

use super::batch::BatchStatement;
use super::db::Tx;
use super::idempotency::{self, IdempotencyKey};
use super::input::{date_text, parse_date};
use super::ledger::{self, LedgerEvent};
use super::numbering::{self, Kind};
use super::requests::RequestRecord;
use super::{IssuanceError, Service};
use crate::auth::Actor;
use travdoc_store::ledger::Event;

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

    fn of(state: &str, valid_until: &str, today: Date) -> Self {
        match state {
            "revoked" => DocumentStatus::Revoked,
            "used" => DocumentStatus::Used,
            _ => match parse_date("valid_until", valid_until) {
                Ok(until) if until < today => DocumentStatus::Expired,
                Ok(_) => DocumentStatus::Valid,
                Err(_) => DocumentStatus::Unknown,
            },
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
    pub state: String,
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
    pub state: String,
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
        DocumentStatus::of(&self.state, &self.valid_until, today)
    }

    pub fn view(&self, today: Date) -> DocumentView {
        DocumentView {
            number: self.number.clone(),
            kind: self.kind.as_str().to_owned(),
            state: self.state.clone(),
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

fn document_from_row(row: &sqlx::any::AnyRow) -> Result<DocumentRecord, IssuanceError> {
    let kind: String = row.try_get("kind")?;
    let mrz: Option<String> = row.try_get("mrz")?;
    let payload: String = row.try_get("payload")?;
    Ok(DocumentRecord {
        number: row.try_get("number")?,
        kind: Kind::parse(&kind).ok_or_else(|| IssuanceError::Corrupt(format!("kind {kind}")))?,
        request_id: row.try_get("request_id")?,
        mission: row.try_get("mission")?,
        state: row.try_get("state")?,
        state_reason: row.try_get("state_reason")?,
        valid_until: row.try_get("valid_until")?,
        issued_at: row.try_get("issued_at")?,
        mrz: mrz.map(|text| serde_json::from_str(&text)).transpose()?,
        seal: row.try_get("seal")?,
        payload: serde_json::from_str(&payload)?,
        ledger_index: row.try_get("ledger_index")?,
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

/// Where an issuance's document number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NumberSource {
    /// The next number of the series, allocated by the issuing pipeline.
    Next,
    /// A pre-printed booklet number, claimed by the pipeline (checked unused).
    Given(String),
    /// Already allocated for this request (see [`Service::load_for_issue`]).
    Allocated(String),
}

impl Service {
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
        self.signers.check()?;
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

    /// [`Service::abandon`] for a number already allocated by [`Service::load_for_issue`];
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
    /// (batched, see [`PostgresIssue`] and [`SqliteIssue`]).
    /// On any failure after allocation the number is voided. `source` says where the number
    /// comes from (see [`Service::load_for_issue`]).
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
        B: FnOnce(&str) -> Result<Built, IssuanceError>,
        F: FnOnce(&str, &Built) -> R,
    {
        let started = Instant::now();
        if record.state != "approved" {
            let error = IssuanceError::WrongState {
                what: "request",
                id: record.id.clone(),
                state: record.state.clone(),
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
                self.signers.check()?;
                numbering::claim(&self.db, record.kind, &number, &record.id, self.now()).await?
            }
            NumberSource::Next => {
                self.signers.check()?;
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
        B: FnOnce(&str) -> Result<Built, IssuanceError>,
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
        B: FnOnce(&str) -> Result<Built, IssuanceError>,
        F: FnOnce(&str, &Built) -> R,
    {
        let signing = Instant::now();
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
            Err(IssuanceError::Database(super::db::DbFault::Raised { code, .. }))
                if code == NUMBER_NOT_ALLOCATED =>
            {
                return Err(number_not_allocated(number));
            }
            Err(error) => return Err(error),
        }
        Ok(response)
    }

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
        let sql = "SELECT number, kind, request_id, mission, state, state_reason, valid_until, \
                   issued_at, mrz, seal, sod, payload, document_sha256, ledger_index \
                   FROM svc_documents WHERE number = $1";
        let row = sqlx::query(sql)
            .bind(number)
            .fetch_optional(self.db.reader())
            .await?;
        row.as_ref().map(document_from_row).transpose()
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
            .batches
            .status
            .submit(number.to_owned())
            .await
            .ok_or_else(|| super::batch::lost("status"))??;
        Ok(match found {
            Some(row) => (
                DocumentStatus::of(&row.state, &row.valid_until, today),
                Some(row),
            ),
            None => (DocumentStatus::Unknown, None),
        })
    }

    /// `GET /v1/documents/{number}`.
    pub async fn get_document(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<DocumentView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        Ok(record.view(self.now().date()))
    }

    /// `GET /v1/documents`: a mission sees only its own documents.
    pub async fn list_documents(
        &self,
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
        let today = self.now().date();
        let rows = sqlx::query(
            "SELECT number, kind, request_id, mission, state, state_reason, valid_until, \
             issued_at, mrz, seal, sod, payload, document_sha256, ledger_index FROM svc_documents \
             WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR mission = $2) \
             AND ($3 IS NULL OR state = $3 \
               OR ($3 = 'valid' AND state IN ('issued', 'printed') AND valid_until >= $4) \
               OR ($3 = 'expired' AND state IN ('issued', 'printed') AND valid_until < $4)) \
             ORDER BY issued_at DESC, number DESC LIMIT $5 OFFSET $6",
        )
        .bind(filter.kind.clone())
        .bind(mission)
        .bind(filter.state.clone())
        .bind(date_text(today))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| document_from_row(row).map(|record| record.view(today)))
            .collect()
    }

    pub(crate) async fn change_state(
        &self,
        tx: &mut Tx,
        number: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        now: &str,
    ) -> Result<bool, IssuanceError> {
        // `from` holds at most three fixed states; spelled out to keep the SQL static.
        let first = from.first().copied().unwrap_or("");
        let second = from.get(1).copied().unwrap_or(first);
        let third = from.get(2).copied().unwrap_or(first);
        let done = sqlx::query(
            "UPDATE svc_documents SET state = $2, state_reason = $3, updated_at = $4 \
             WHERE number = $1 AND state IN ($5, $6, $7)",
        )
        .bind(number)
        .bind(to)
        .bind(reason)
        .bind(now)
        .bind(first)
        .bind(second)
        .bind(third)
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `POST /v1/documents/{number}/revoke`.
    pub async fn revoke(
        &self,
        actor: &Actor,
        number: &str,
        reason: RevocationReason,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<DocumentView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        if actor.role == crate::auth::Role::Consular && record.kind != Kind::Legalization {
            return Err(IssuanceError::NotFound {
                what: "document",
                id: number.to_owned(),
            });
        }
        if actor.role != crate::auth::Role::Consular
            && actor.role != crate::auth::Role::Issuer
            && actor.role != crate::auth::Role::Approver
            && record.kind != Kind::Ttd
        {
            return Err(IssuanceError::NotFound {
                what: "document",
                id: number.to_owned(),
            });
        }
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
        if !self
            .change_state(
                &mut tx,
                number,
                &["issued", "printed"],
                "revoked",
                Some(reason.as_str()),
                &now,
            )
            .await?
        {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: record.state,
                expected: "issued or printed",
            });
        }
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "document.revoked",
                number,
                &actor.id,
                &serde_json::json!({"number": number, "reason": reason.as_str()}),
                &now,
            )
            .with_entry(Event::DocumentRevoked {
                document_ref: number.to_owned(),
                reason: reason.as_str().to_owned(),
                operator_ref: actor.id.clone(),
            }),
        )
        .await?;
        let view = DocumentRecord {
            state: "revoked".to_owned(),
            state_reason: Some(reason.as_str().to_owned()),
            ..record
        }
        .view(self.now().date());
        idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
        tx.commit().await?;
        self.metrics.record_state_change("revoked");
        Ok(view)
    }

    /// `POST /v1/documents/{number}/clear-arrival`: marks a single-journey TTD used.
    pub async fn clear_arrival(
        &self,
        actor: &Actor,
        number: &str,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<DocumentView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        if record.kind != Kind::Ttd {
            return Err(IssuanceError::invalid(
                "number",
                "only a TTD (single journey) is cleared on arrival",
            ));
        }
        let today = self.now().date();
        let status = record.status(today);
        if status != DocumentStatus::Valid {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: status.as_str().to_owned(),
                expected: "valid",
            });
        }
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
        if !self
            .change_state(&mut tx, number, &["issued", "printed"], "used", None, &now)
            .await?
        {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: "changed concurrently".to_owned(),
                expected: "valid",
            });
        }
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "ttd.arrival_cleared",
                number,
                &actor.id,
                &serde_json::json!({"number": number}),
                &now,
            )
            .with_entry(Event::ArrivalCleared {
                document_ref: number.to_owned(),
                port: String::new(),
                operator_ref: actor.id.clone(),
            }),
        )
        .await?;
        let view = DocumentRecord {
            state: "used".to_owned(),
            ..record
        }
        .view(today);
        idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
        tx.commit().await?;
        self.metrics.record_state_change("used");
        Ok(view)
    }

    /// Renders the document's PDF (staff; mission-scoped).
    pub async fn document_pdf(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<u8>, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        self.render_record(&record).await
    }

    pub(crate) async fn render_input(
        &self,
        record: &DocumentRecord,
    ) -> Result<super::ports::RenderInput, IssuanceError> {
        let photo: Option<Vec<u8>> = sqlx::query("SELECT photo FROM svc_requests WHERE id = $1")
            .bind(&record.request_id)
            .fetch_optional(self.db.reader())
            .await?
            .map(|row| row.try_get("photo"))
            .transpose()?
            .flatten();
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

    async fn render_record(&self, record: &DocumentRecord) -> Result<Vec<u8>, IssuanceError> {
        let input = self.render_input(record).await?;
        let renderer = self.renderer.clone();
        tokio::task::spawn_blocking(move || renderer.render(&input))
            .await
            .map_err(|error| IssuanceError::Build(error.to_string()))?
            .map_err(IssuanceError::Build)
    }

    /// `POST /v1/documents/{number}/print` (first print; see [`Service::print_document`] for
    /// reprints and blank stock).
    pub async fn print(
        &self,
        actor: &Actor,
        number: &str,
        printer: &str,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<PrintJobView, IssuanceError> {
        self.print_document(actor, number, printer, None, idempotency_key)
            .await
    }

    /// Voids stale allocations left by a crash (startup recovery pass).
    pub async fn recover_numbers(
        &self,
        grace: time::Duration,
    ) -> Result<Vec<String>, IssuanceError> {
        let now = self.now();
        numbering::recover(&self.db, now - grace, now).await
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

/// The SQLSTATE `issue_documents` raises when an item's number is not allocated any more.
const NUMBER_NOT_ALLOCATED: &str = "TDN01";

fn number_not_allocated(number: &str) -> IssuanceError {
    IssuanceError::WrongState {
        what: "document number",
        id: number.to_owned(),
        state: "not allocated".to_owned(),
        expected: "allocated",
    }
}

/// One signed issuance, ready to store: the document row, the event row, the ledger entry and
/// the idempotent response.
#[derive(Debug, Clone)]
pub(crate) struct IssueItem {
    number: String,
    kind: Kind,
    request_id: String,
    mission: Option<String>,
    valid_until: String,
    at: String,
    actor: String,
    /// JSON list of the MRZ lines.
    mrz: Option<String>,
    seal: Option<Vec<u8>>,
    sod: Option<Vec<u8>>,
    payload: String,
    document_sha256: Option<String>,
    event_id: String,
    action: &'static str,
    leaf_sha256: String,
    entry_key: String,
    entry: travdoc_store::ledger::Entry,
    /// The Idempotency-Key, its request hash and the response stored under it.
    idempotent: Option<(String, String, String)>,
}

fn issue_item(rows: &IssueRows<'_>) -> Result<IssueItem, IssuanceError> {
    let (entry_key, entry) = ledger::entry(rows.event)
        .ok_or_else(|| IssuanceError::Build("an issuance without a ledger entry".into()))?;
    let (event_id, leaf_sha256) = rows.event.row_values();
    let (record, built) = (rows.record, rows.built);
    Ok(IssueItem {
        number: rows.number.to_owned(),
        kind: record.kind,
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
    })
}

impl IssueItem {
    /// The item as `issue_documents` (migration 0120) reads it, bytes as hex.
    fn postgres_json(&self) -> Result<serde_json::Value, IssuanceError> {
        let entry = travdoc_store::ledger::PreparedEntry::new(&self.entry_key, &self.entry)?;
        let idempotent = self.idempotent.as_ref();
        Ok(serde_json::json!({
            "number": self.number,
            "kind": self.kind.as_str(),
            "request_id": self.request_id,
            "mission": self.mission,
            "valid_until": self.valid_until,
            "at": self.at,
            "actor": self.actor,
            "mrz": self.mrz,
            "seal": self.seal.as_ref().map(hex::encode),
            "sod": self.sod.as_ref().map(hex::encode),
            "payload": self.payload,
            "document_sha256": self.document_sha256,
            "event_id": self.event_id,
            "action": self.action,
            "leaf_sha256": self.leaf_sha256,
            "entry_key": entry.key(),
            "entry_kind": entry.kind(),
            "entry_time": entry.time(),
            "entry_leaf": hex::encode(entry.leaf()),
            "entry_body": hex::encode(entry.body()),
            "idempotency_key": idempotent.map(|(key, _, _)| key),
            "request_hash": idempotent.map(|(_, hash, _)| hash),
            "response": idempotent.map(|(_, _, body)| body),
        }))
    }
}

/// What became of one issuance of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IssueOutcome {
    /// Stored, appended and committed.
    Issued,
    /// The request was not approved any more (a concurrent issue of it won): nothing of this
    /// item was written, and its number is still allocated (the caller voids it).
    RequestChanged,
}

/// Issuing on PostgreSQL: a batch of issuances in one autocommit statement, the server-side
/// `issue_documents` (migration 0120). The requests and numbers move to issued, the ledger
/// entries are appended, the events, documents and idempotent responses inserted: one round
/// trip, one ledger lock and one commit for the batch, the lock held inside the server only.
/// A failure anywhere (a unique key, the connection) rolls the whole statement back.
pub(crate) struct PostgresIssue {
    pub(crate) pool: sqlx::AnyPool,
}

impl BatchStatement for PostgresIssue {
    type Item = IssueItem;
    type Outcome = IssueOutcome;
    const NAME: &'static str = "issue";

    fn run<'a>(
        &'a self,
        items: &'a [IssueItem],
    ) -> super::batch::StatementFuture<'a, IssueOutcome> {
        Box::pin(async move {
            let list = items
                .iter()
                .map(IssueItem::postgres_json)
                .collect::<Result<Vec<_>, _>>()?;
            let rows = sqlx::query(
                "SELECT item_ord::BIGINT AS item_ord, item_outcome \
                 FROM issue_documents($1::jsonb)",
            )
            .bind(serde_json::Value::Array(list).to_string())
            .fetch_all(&self.pool)
            .await?;
            let mut outcomes = vec![None; items.len()];
            for row in rows {
                let ord: i64 = row.try_get("item_ord")?;
                let outcome: String = row.try_get("item_outcome")?;
                let slot = usize::try_from(ord)
                    .ok()
                    .and_then(|ord| ord.checked_sub(1))
                    .and_then(|index| outcomes.get_mut(index))
                    .ok_or_else(|| {
                        IssuanceError::Corrupt(format!("issue_documents answered item {ord}"))
                    })?;
                *slot = Some(match outcome.as_str() {
                    "issued" => IssueOutcome::Issued,
                    "request_changed" => IssueOutcome::RequestChanged,
                    other => {
                        return Err(IssuanceError::Corrupt(format!(
                            "issue_documents answered `{other}`"
                        )));
                    }
                });
            }
            outcomes
                .into_iter()
                .map(|outcome| {
                    outcome.ok_or_else(|| {
                        IssuanceError::Corrupt("issue_documents skipped an item".into())
                    })
                })
                .collect()
        })
    }
}

/// Issuing on SQLite: a batch of issuances in one transaction of the group commit, with one
/// multi-row statement per table instead of one statement per table and issuance (on the single
/// writer connection every statement waits its turn). The same rules as `issue_documents` on
/// PostgreSQL: a request not approved any more (or named twice: the first item wins) answers
/// [`IssueOutcome::RequestChanged`] with nothing written; a number not allocated any more fails
/// the batch, so a request is never issued without its number.
pub(crate) struct SqliteIssue {
    pub(crate) db: super::Db,
}

impl BatchStatement for SqliteIssue {
    type Item = IssueItem;
    type Outcome = IssueOutcome;
    const NAME: &'static str = "issue";

    fn run<'a>(
        &'a self,
        items: &'a [IssueItem],
    ) -> super::batch::StatementFuture<'a, IssueOutcome> {
        Box::pin(issue_sqlite(&self.db, items))
    }
}

async fn issue_sqlite(
    db: &super::Db,
    items: &[IssueItem],
) -> Result<Vec<IssueOutcome>, IssuanceError> {
    use travdoc_store::Backend::Sqlite;
    use travdoc_store::ledger::placeholders;

    let mut requests = std::collections::HashSet::new();
    let candidates: Vec<&IssueItem> = items
        .iter()
        .filter(|item| requests.insert(item.request_id.as_str()))
        .collect();
    let mut tx = db.begin().await?;

    // The requests that move from approved to issued.
    let sql = format!(
        "UPDATE svc_requests SET state = 'issued', document_number = j.column2, \
         updated_at = j.column3 FROM (VALUES {}) AS j \
         WHERE svc_requests.id = j.column1 AND svc_requests.state = 'approved' \
         RETURNING svc_requests.id",
        placeholders(Sqlite, candidates.len(), 3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for item in &candidates {
        query = query
            .bind(item.request_id.clone())
            .bind(item.number.clone())
            .bind(item.at.clone());
    }
    let mut moved = std::collections::HashSet::new();
    for row in query.fetch_all(tx.conn()).await? {
        moved.insert(row.try_get::<String, _>(0)?);
    }
    let issued: Vec<&IssueItem> = candidates
        .into_iter()
        .filter(|item| moved.contains(&item.request_id))
        .collect();

    if !issued.is_empty() {
        // Their numbers move from allocated to issued, all of them or the batch fails.
        let sql = format!(
            "UPDATE svc_document_numbers SET state = 'issued', closed_at = j.column2 \
             FROM (VALUES {}) AS j \
             WHERE svc_document_numbers.number = j.column1 \
             AND svc_document_numbers.state = 'allocated'",
            placeholders(Sqlite, issued.len(), 2)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for item in &issued {
            query = query.bind(item.number.clone()).bind(item.at.clone());
        }
        let closed = query.execute(tx.conn()).await?.rows_affected();
        if closed != issued.len() as u64 {
            let numbers: Vec<&str> = issued.iter().map(|item| item.number.as_str()).collect();
            return Err(number_not_allocated(&numbers.join(", ")));
        }

        let entries: Vec<(&str, &travdoc_store::ledger::Entry)> = issued
            .iter()
            .map(|item| (item.entry_key.as_str(), &item.entry))
            .collect();
        let appended = travdoc_store::ledger::append_batch_new(&mut tx, &entries).await?;
        if appended.len() != issued.len() {
            return Err(IssuanceError::Corrupt(
                "the ledger appended another number of entries".into(),
            ));
        }

        let sql = format!(
            "INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256) VALUES {}",
            placeholders(Sqlite, issued.len(), 6)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for item in &issued {
            query = query
                .bind(item.event_id.clone())
                .bind(item.at.clone())
                .bind(item.actor.clone())
                .bind(item.action)
                .bind(item.number.clone())
                .bind(item.leaf_sha256.clone());
        }
        query.execute(tx.conn()).await?;

        let sql = format!(
            "INSERT INTO svc_documents (number, kind, request_id, mission, state, valid_until, \
             issued_at, issued_by, mrz, seal, sod, payload, document_sha256, updated_at, \
             ledger_index) VALUES {}",
            placeholders(Sqlite, issued.len(), 15)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (item, appended) in issued.iter().zip(&appended) {
            query = query
                .bind(item.number.clone())
                .bind(item.kind.as_str())
                .bind(item.request_id.clone())
                .bind(item.mission.clone())
                .bind("issued")
                .bind(item.valid_until.clone())
                .bind(item.at.clone())
                .bind(item.actor.clone())
                .bind(item.mrz.clone())
                .bind(item.seal.clone())
                .bind(item.sod.clone())
                .bind(item.payload.clone())
                .bind(item.document_sha256.clone())
                .bind(item.at.clone())
                .bind(
                    i64::try_from(appended.index)
                        .map_err(|_| IssuanceError::Corrupt("a ledger index beyond i64".into()))?,
                );
        }
        query.execute(tx.conn()).await?;

        let keyed: Vec<(&IssueItem, &(String, String, String))> = issued
            .iter()
            .filter_map(|item| item.idempotent.as_ref().map(|keyed| (*item, keyed)))
            .collect();
        if !keyed.is_empty() {
            let sql = format!(
                "INSERT INTO svc_idempotency \
                 (actor_id, key, request_hash, status, response, created_at) VALUES {}",
                placeholders(Sqlite, keyed.len(), 6)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (item, (key, hash, body)) in keyed {
                query = query
                    .bind(item.actor.clone())
                    .bind(key.clone())
                    .bind(hash.clone())
                    .bind(200i64)
                    .bind(body.clone())
                    .bind(item.at.clone());
            }
            query.execute(tx.conn()).await?;
        }
    }
    tx.commit().await?;
    let issued_numbers: std::collections::HashSet<&str> =
        issued.iter().map(|item| item.number.as_str()).collect();
    Ok(items
        .iter()
        .map(|item| {
            if issued_numbers.contains(item.number.as_str()) {
                IssueOutcome::Issued
            } else {
                IssueOutcome::RequestChanged
            }
        })
        .collect())
}

/// What verification reads of a document.
#[derive(Debug, Clone)]
pub struct StatusRow {
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    pub state: String,
    pub valid_until: String,
    pub ledger_index: Option<i64>,
}

/// The documents of a batch of verifications, read with one query (on the read pool): under
/// load every verification made one, and on PostgreSQL the per-query cost of both processes
/// was most of the database's share of a verification.
pub(crate) struct StatusLookup {
    pub(crate) db: super::Db,
}

impl BatchStatement for StatusLookup {
    type Item = String;
    type Outcome = Option<StatusRow>;
    const NAME: &'static str = "status";

    fn run<'a>(
        &'a self,
        numbers: &'a [String],
    ) -> super::batch::StatementFuture<'a, Option<StatusRow>> {
        Box::pin(async move {
            let unique: std::collections::BTreeSet<&str> =
                numbers.iter().map(String::as_str).collect();
            let sql = format!(
                "SELECT number, kind, state, valid_until, ledger_index FROM svc_documents \
                 WHERE number IN {}",
                travdoc_store::ledger::placeholders(self.db.backend(), 1, unique.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for number in &unique {
                query = query.bind((*number).to_owned());
            }
            let mut found = std::collections::HashMap::new();
            for row in query.fetch_all(self.db.reader()).await? {
                let number: String = row.try_get("number")?;
                found.insert(
                    number,
                    StatusRow {
                        kind: row.try_get("kind")?,
                        state: row.try_get("state")?,
                        valid_until: row.try_get("valid_until")?,
                        ledger_index: row.try_get("ledger_index")?,
                    },
                );
            }
            Ok(numbers
                .iter()
                .map(|number| found.get(number).cloned())
                .collect())
        })
    }
}
