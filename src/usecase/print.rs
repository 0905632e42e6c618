//! Printing a document on secure stock: the use case of `POST /v1/documents/{number}/print`,
//! the console and `travdoc print`, and blank stock (`travdoc stock`). A print job reserves a
//! blank, prints its serial on the document and uses it only when the printer accepted the
//! job (a failed job returns it, so a retry consumes one blank, not two); a reprint needs a
//! reason and spoils the blank of the print it replaces. Every print, failure, reprint and
//! spoilage is a ledger entry. The rules of serials and locations are in
//! `issuance/printing.rs`; the SQL is `travdoc_store::printing`.

use travdoc_store::ledger::{Event, PrintStatus};

use crate::auth::{Actor, Role};
use crate::issuance::documents::{DocumentRecord, DocumentState, DocumentStatus, PrintJobView};
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::printing::{HEADQUARTERS, doc_type, location_code, serial_range};
use crate::issuance::{IssuanceError, Printing};
use travdoc_store::printing::StockRow;

/// Registers blanks `from`..=`to` of `doc_type` at `location`; returns how many. A serial
/// registered before makes the whole batch fail (nothing is added).
pub async fn add_stock(
    printing: &Printing,
    actor: &Actor,
    doc_type_text: &str,
    location: &str,
    from: &str,
    to: &str,
) -> Result<u64, IssuanceError> {
    let kind = doc_type(doc_type_text)?;
    let location = location_code(location)?;
    let serials = serial_range(from, to)?;
    let now = printing.now_text();
    let mut tx = printing.db.begin().await?;
    for serial in &serials {
        let added = travdoc_store::printing::insert_blank(
            &mut tx, serial, kind, &location, &actor.id, &now,
        )
        .await?;
        if !added {
            return Err(IssuanceError::invalid(
                "from",
                format!("blank {serial} is already registered; nothing was added"),
            ));
        }
    }
    let data = serde_json::json!({
        "type": kind, "location": location, "from": serials.first(), "to": serials.last(),
        "count": serials.len(),
    });
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            "stock.added",
            &format!("{kind}:{location}:{from}"),
            &actor.id,
            &data,
            &now,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(serials.len() as u64)
}

/// Moves blanks `from`..=`to` of `doc_type` from location `source` to `target`: all of them
/// available at `source`, or nothing moves (the first that is not is named). Returns how many.
pub async fn move_stock(
    printing: &Printing,
    actor: &Actor,
    doc_type_text: &str,
    (source, target): (&str, &str),
    from: &str,
    to: &str,
) -> Result<u64, IssuanceError> {
    let kind = doc_type(doc_type_text)?;
    let source = location_code(source)?;
    let target = location_code(target)?;
    if source == target {
        return Err(IssuanceError::invalid(
            "to_location",
            "is the location the blanks are at",
        ));
    }
    let serials = serial_range(from, to)?;
    let now = printing.now_text();
    let mut tx = printing.db.begin().await?;
    for serial in &serials {
        if !travdoc_store::printing::move_blank(&mut tx, serial, kind, (&source, &target), &now)
            .await?
        {
            return Err(IssuanceError::invalid(
                "from",
                format!(
                    "blank {serial} is not an available {kind} blank at {source}; nothing was moved"
                ),
            ));
        }
    }
    let data = serde_json::json!({
        "type": kind, "from_location": source, "to_location": target,
        "from": serials.first(), "to": serials.last(), "count": serials.len(),
    });
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            "stock.moved",
            &format!("{kind}:{source}:{target}:{from}"),
            &actor.id,
            &data,
            &now,
        )
        .with_key(format!("stock.moved:{kind}:{from}:{to}:{now}")),
    )
    .await?;
    tx.commit().await?;
    Ok(serials.len() as u64)
}

/// The one location whose stock `actor` keeps: a mission officer their own mission's (the
/// blanks they print on); headquarters roles every location (`None`).
pub fn stock_scope(actor: &Actor) -> Option<String> {
    (actor.role == Role::Mission).then(|| {
        actor
            .mission
            .as_ref()
            .map(|mission| mission.as_str().to_owned())
            .unwrap_or_default()
    })
}

/// Spoils blank `serial` (damaged, misfed, destroyed) with a written reason: only an available
/// one (a reserved or used blank is settled by its print job), and for a mission officer only
/// one held at their mission ([`stock_scope`]). Ledgered.
pub async fn spoil_stock(
    printing: &Printing,
    actor: &Actor,
    serial: &str,
    reason_text: &str,
) -> Result<(), IssuanceError> {
    let serial = serial_range(serial, serial)
        .ok()
        .and_then(|mut serials| serials.pop())
        .ok_or_else(|| {
            IssuanceError::invalid(
                "serial",
                "a blank serial is up to 16 characters A-Z, 0-9 or '-' followed by 1 to 12 digits",
            )
        })?;
    let reason = crate::issuance::input::optional_free_text("reason", Some(reason_text), 200)?
        .ok_or_else(|| IssuanceError::invalid("reason", "is required"))?;
    let now = printing.now_text();
    let mut tx = printing.db.begin().await?;
    let scope = stock_scope(actor);
    if !travdoc_store::printing::spoil_available_blank(
        &mut tx,
        &serial,
        scope.as_deref(),
        &reason,
        &now,
    )
    .await?
    {
        return Err(IssuanceError::invalid(
            "serial",
            match &scope {
                Some(location) => format!("blank {serial} is not an available blank at {location}"),
                None => format!("blank {serial} is not an available blank"),
            },
        ));
    }
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            "blank.spoiled",
            &serial,
            &actor.id,
            &serde_json::json!({"blank": serial, "reason": reason}),
            &now,
        )
        .with_entry(Event::BlankSpoiled {
            blank_serial: serial.clone(),
            reason: reason.clone(),
            operator_ref: actor.id.clone(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Blank stock by type, location and state: every location's for headquarters roles, a
/// mission officer's own mission's only ([`stock_scope`]).
pub async fn stock(printing: &Printing, actor: &Actor) -> Result<Vec<StockRow>, IssuanceError> {
    let mut rows = travdoc_store::printing::stock(printing.db.reader()).await?;
    if let Some(location) = stock_scope(actor) {
        rows.retain(|row| row.location == location);
    }
    Ok(rows)
}

/// Reserves the lowest available blank for `record` (its type, at its mission or HQ).
/// `None` when no stock was ever registered there (the embedded default prints on plain
/// paper); an error when the registered stock is used up.
async fn reserve_blank(
    printing: &Printing,
    record: &DocumentRecord,
    job_id: &str,
) -> Result<Option<String>, IssuanceError> {
    let kind = record.kind.as_str();
    let location = record
        .mission
        .clone()
        .unwrap_or_else(|| HEADQUARTERS.to_owned());
    let registered =
        travdoc_store::printing::registered_blanks(printing.db.writer(), kind, &location).await?;
    if registered == 0 {
        return Ok(None);
    }
    // Another node may take the same blank between the two statements: try the next one.
    for _ in 0..8 {
        let Some(serial) =
            travdoc_store::printing::lowest_available_blank(printing.db.writer(), kind, &location)
                .await?
        else {
            return Err(IssuanceError::invalid(
                "printer",
                format!("no {kind} blank left at {location}: register stock first"),
            ));
        };
        let taken = travdoc_store::printing::reserve_blank(
            printing.db.writer(),
            &serial,
            job_id,
            &record.number,
            &printing.now_text(),
        )
        .await?;
        if taken {
            return Ok(Some(serial));
        }
    }
    Err(IssuanceError::invalid(
        "printer",
        "blank stock is contended; try again",
    ))
}

/// The blank of the document's last successful print (the one a reprint spoils).
async fn last_printed_blank(
    printing: &Printing,
    number: &str,
) -> Result<Option<String>, IssuanceError> {
    Ok(travdoc_store::printing::last_printed_blank(printing.db.reader(), number).await?)
}

/// `POST /v1/documents/{number}/print` with an optional reprint reason: renders for the
/// printer with the reserved blank's serial, sends, and records the job.
pub async fn print_document(
    printing: &Printing,
    actor: &Actor,
    number: &str,
    printer: &str,
    reprint_reason: Option<&str>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<PrintJobView, IssuanceError> {
    let record = printing.load_document(actor, number).await?;
    if !printing
        .printers
        .printers()
        .iter()
        .any(|name| name == printer)
    {
        return Err(IssuanceError::invalid(
            "printer",
            format!("no printer named `{printer}`"),
        ));
    }
    // A mission prints only on its own printers.
    let mission = actor.mission.as_ref().map(|mission| mission.as_str());
    if !printing.printers.serves(printer, mission) {
        return Err(IssuanceError::invalid(
            "printer",
            format!(
                "`{printer}` is not a printer of mission {}",
                mission.unwrap_or_default()
            ),
        ));
    }
    let status = record.status(printing.now().date());
    if status != DocumentStatus::Valid {
        return Err(IssuanceError::WrongState {
            what: "document",
            id: number.to_owned(),
            state: status.as_str().to_owned(),
            expected: "valid",
        });
    }
    let reason = crate::issuance::input::optional_free_text("reprint_reason", reprint_reason, 200)?;
    let printed = record.state == DocumentState::Printed;
    let reprint = match (printed, &reason) {
        (true, None) => {
            return Err(IssuanceError::StateRequires {
                field: "reprint_reason",
                message: "the document was already printed: a reprint needs a reason".to_owned(),
            });
        }
        (true, Some(reason)) => Some(Reprint {
            reason: reason.clone(),
            previous_blank: last_printed_blank(printing, &record.number).await?,
        }),
        (_, Some(_)) => {
            return Err(IssuanceError::StateRequires {
                field: "reprint_reason",
                message: "the document has not been printed yet".to_owned(),
            });
        }
        (_, None) => None,
    };
    let job_id = uuid::Uuid::new_v4().to_string();
    let blank = reserve_blank(printing, &record, &job_id).await?;
    // The job is on record as `queued` before the printer sees it: a crash while printing
    // leaves a visible queued job and a reserved blank, never a silent print.
    let queued = queue_job(
        printing,
        actor,
        &record,
        &job_id,
        printer,
        blank.as_deref(),
        reason.as_deref(),
    )
    .await;
    let attempt = match queued {
        Ok(Some(attempt)) => attempt,
        refused => {
            // Not printed: the blank goes back to the stock.
            if let Some(serial) = &blank {
                let mut tx = printing.db.begin().await?;
                travdoc_store::printing::settle_blank(&mut tx, serial, false, &printing.now_text())
                    .await?;
                tx.commit().await?;
            }
            refused?;
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: "already printed or being printed".to_owned(),
                expected: "issued and not printed (a reprint needs a reason)",
            });
        }
    };
    let mut input = printing.render_input(&record).await?;
    if let (Some(serial), Some(data)) = (&blank, input.data.as_object_mut()) {
        data.insert("blank_serial".into(), serial.clone().into());
    }
    let outcome = printing
        .printers
        .print(printer, &record.number, &input)
        .await;
    let failed = outcome.as_ref().err().cloned();
    let job = record_job(
        printing,
        actor,
        &record,
        Job {
            id: job_id,
            printer: printer.to_owned(),
            blank,
            reprint,
            attempt,
        },
        outcome,
        idempotency_key,
    )
    .await?;
    match failed {
        None => Ok(job),
        Some(message) => Err(IssuanceError::Printer(format!(
            "print job {} failed: {message}",
            job.id
        ))),
    }
}

/// Records the job as `queued` and returns which attempt it is for the document; `None` when
/// it is a first print and another job of the document is under way or done.
async fn queue_job(
    printing: &Printing,
    actor: &Actor,
    record: &DocumentRecord,
    job_id: &str,
    printer: &str,
    blank: Option<&str>,
    reprint_reason: Option<&str>,
) -> Result<Option<i64>, IssuanceError> {
    let now = printing.now_text();
    let mut tx = printing.db.begin().await?;
    let job = travdoc_store::printing::NewJob {
        id: job_id,
        number: &record.number,
        printer,
        created_by: &actor.id,
        now: &now,
        blank_serial: blank,
        reprint_reason,
    };
    let attempt = travdoc_store::printing::queue_job(&mut tx, &job).await?;
    tx.commit().await?;
    Ok(attempt)
}

/// Records a print job once the printer accepted or refused it (one transaction): the job,
/// the blank (used, or returned), the document's state, the spoiled blank of a reprint, and
/// their ledger entries.
async fn record_job(
    printing: &Printing,
    actor: &Actor,
    record: &DocumentRecord,
    job: Job,
    outcome: Result<crate::issuance::ports::Printed, String>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<PrintJobView, IssuanceError> {
    let now = printing.now_text();
    let (state, detail) = match &outcome {
        Ok(printed) if printed.completed => ("completed", printed.reference.clone()),
        Ok(printed) => ("sent", printed.reference.clone()),
        Err(message) => ("failed", message.clone()),
    };
    let view = PrintJobView {
        id: job.id.clone(),
        number: record.number.clone(),
        printer: job.printer.clone(),
        state: state.to_owned(),
        detail: Some(detail),
        blank_serial: job.blank.clone(),
        reprint_reason: job.reprint.as_ref().map(|r| r.reason.clone()),
        attempt: Some(job.attempt),
    };
    let mut tx = printing.db.begin().await?;
    travdoc_store::printing::finish_job(
        &mut tx,
        &view.id,
        &view.state,
        view.detail.as_deref(),
        &now,
    )
    .await?;
    if let Some(serial) = &job.blank {
        travdoc_store::printing::settle_blank(&mut tx, serial, outcome.is_ok(), &now).await?;
        tracing::debug!(blank = %serial, used = outcome.is_ok(), "blank settled");
    }
    if outcome.is_ok() && job.reprint.is_none() {
        let moved = printing
            .change_state(
                &mut tx,
                &record.number,
                &[DocumentState::Issued],
                DocumentState::Printed,
                None,
                &now,
            )
            .await?;
        if !moved {
            // The first-print claim of `queue_job` makes this unreachable; should it happen,
            // the print is still recorded (it did happen), and said loudly.
            tracing::error!(number = %record.number, job = %view.id,
                "a first print of a document no longer issued: recorded, check the document");
        }
    }
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            if outcome.is_ok() {
                "document.printed"
            } else {
                "document.print_failed"
            },
            &format!("{}:{}", record.number, view.id),
            &actor.id,
            &serde_json::json!({"number": record.number, "printer": view.printer,
                "job": view.id, "state": state, "blank": view.blank_serial}),
            &now,
        )
        .with_entry(Event::PrintJob {
            document_ref: record.number.clone(),
            job_ref: view.id.clone(),
            printer: view.printer.clone(),
            status: match state {
                "completed" => PrintStatus::Completed,
                "sent" => PrintStatus::Sent,
                _ => PrintStatus::Failed,
            },
            blank_serial: view.blank_serial.clone(),
        }),
    )
    .await?;
    if let (Ok(_), Some(reprint)) = (&outcome, &job.reprint) {
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "document.reprinted",
                &format!("{}:{}", record.number, view.id),
                &actor.id,
                &serde_json::json!({"number": record.number, "job": view.id,
                    "reason": reprint.reason, "previous_blank": reprint.previous_blank}),
                &now,
            )
            .with_entry(Event::Reprint {
                document_ref: record.number.clone(),
                reason: reprint.reason.clone(),
                previous_blank_serial: reprint.previous_blank.clone(),
                operator_ref: actor.id.clone(),
            }),
        )
        .await?;
        if let Some(previous) = &reprint.previous_blank {
            travdoc_store::printing::spoil_blank(&mut tx, previous, &reprint.reason, &now).await?;
            ledger::record(
                &mut tx,
                &LedgerEvent::new(
                    "blank.spoiled",
                    previous,
                    &actor.id,
                    &serde_json::json!({"blank": previous, "reason": reprint.reason,
                        "replaced_by_job": view.id}),
                    &now,
                )
                .with_entry(Event::BlankSpoiled {
                    blank_serial: previous.clone(),
                    reason: reprint.reason.clone(),
                    operator_ref: actor.id.clone(),
                }),
            )
            .await?;
        }
    }
    if outcome.is_ok() {
        idempotency::store(&mut tx, &actor.id, idempotency_key, 200, &view, &now).await?;
    }
    tx.commit().await?;
    printing.metrics.record_print_job(state);
    Ok(view)
}

/// Print jobs left `queued` for longer than `grace` (the process stopped, or the commit of the
/// printer's answer failed) are closed as `failed` with a detail saying the outcome is unknown;
/// their blanks are spoiled (a blank that may have been printed on is never reused), each with
/// its ledger entries. Runs when the service starts. Returns the jobs closed.
pub async fn reconcile_interrupted(
    printing: &Printing,
    grace: time::Duration,
) -> Result<Vec<String>, IssuanceError> {
    let now = printing.now();
    let before = crate::issuance::rfc3339(now - grace);
    let stale = travdoc_store::printing::stale_queued(printing.db.reader(), &before).await?;
    let now = crate::issuance::rfc3339(now);
    let detail = "interrupted before the printer's answer was recorded: check the printer; \
                  print again with a reprint reason if the document did not come out";
    let mut closed = Vec::new();
    for (id, number, blank) in stale {
        let mut tx = printing.db.begin().await?;
        travdoc_store::printing::finish_job(&mut tx, &id, "failed", Some(detail), &now).await?;
        ledger::record(
            &mut tx,
            &LedgerEvent::new(
                "document.print_failed",
                &format!("{number}:{id}"),
                "system",
                &serde_json::json!({"number": number, "job": id, "state": "failed",
                    "detail": detail, "blank": blank}),
                &now,
            )
            .with_entry(Event::PrintJob {
                document_ref: number.clone(),
                job_ref: id.clone(),
                printer: String::new(),
                status: PrintStatus::Failed,
                blank_serial: blank.clone(),
            }),
        )
        .await?;
        if let Some(serial) = &blank {
            let reason = format!("print job {id} interrupted");
            travdoc_store::printing::spoil_blank(&mut tx, serial, &reason, &now).await?;
            ledger::record(
                &mut tx,
                &LedgerEvent::new(
                    "blank.spoiled",
                    serial,
                    "system",
                    &serde_json::json!({"blank": serial, "reason": reason}),
                    &now,
                )
                .with_entry(Event::BlankSpoiled {
                    blank_serial: serial.clone(),
                    reason: reason.clone(),
                    operator_ref: "system".to_owned(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        closed.push(id);
    }
    Ok(closed)
}

/// The configured printers' names.
pub fn printer_names(printing: &Printing) -> Vec<String> {
    printing.printers.printers()
}

/// The printers `actor` may print on (a mission's own; every one for headquarters).
pub fn printers_of(printing: &Printing, actor: &Actor) -> Vec<String> {
    let mission = actor.mission.as_ref().map(|mission| mission.as_str());
    printing
        .printers
        .printers()
        .into_iter()
        .filter(|printer| printing.printers.serves(printer, mission))
        .collect()
}

/// Every configured printer's state (reachability and attributes).
pub async fn check_printers(
    printing: &Printing,
) -> Vec<(String, Result<serde_json::Value, String>)> {
    printing.printers.check().await
}

/// A print job in the making.
struct Job {
    id: String,
    printer: String,
    blank: Option<String>,
    reprint: Option<Reprint>,
    attempt: i64,
}

struct Reprint {
    reason: String,
    previous_blank: Option<String>,
}
