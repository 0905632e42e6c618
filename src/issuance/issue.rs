//! The issuing pipeline shared by every kind: load the request and allocate its number, build
//! and sign, then issue in a batch (one statement on PostgreSQL, one group-commit transaction
//! on SQLite) with its ledger entry.

use std::time::Instant;

use serde::Serialize;
use sqlx::Row as _;

use super::batch::BatchStatement;
use super::documents::Built;
use super::idempotency::IdempotencyKey;
use super::ledger::{self, LedgerEvent};
use super::numbering::{self, Kind};
use super::requests::{RequestRecord, RequestState};
use super::{IssuanceError, Service};
use crate::auth::Actor;
use travdoc_store::ledger::Event;

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
