//! Secure printing: blank stock (numbered security paper per document type and location), print
//! jobs that reserve a blank, print its serial on the document and use it only when the printer
//! accepted the job (a failed job returns it, so a retry consumes one blank, not two), and
//! reprints, which need a reason and spoil the blank of the print they replace. Every print,
//! failure, reprint and spoilage is a ledger entry.

use serde::Serialize;
use travdoc_store::ledger::{Event, PrintStatus};

use super::documents::{DocumentRecord, DocumentState, DocumentStatus, PrintJobView};
use super::idempotency::{self, IdempotencyKey};
use super::ledger::{self, LedgerEvent};
use super::{IssuanceError, Service};
use crate::auth::Actor;

/// Where blanks of documents without a mission (passports, legalizations) are kept.
pub const HEADQUARTERS: &str = "HQ";
/// Most blanks one `stock add` registers.
pub const MAX_BATCH: u64 = 100_000;

/// One line of `stock list`: how many blanks of a type are at a location in a state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StockLine {
    pub doc_type: String,
    pub location: String,
    pub state: String,
    pub count: i64,
    pub first: String,
    pub last: String,
}

/// A serial as prefix + zero-padded number (`LKA-T000100` -> `LKA-T`, 100, width 6).
fn split_serial(field: &str, serial: &str) -> Result<(String, u64, usize), IssuanceError> {
    let serial = serial.trim();
    let digits = serial.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, number) = serial.split_at(serial.len() - digits);
    let valid_prefix = prefix
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if digits == 0 || digits > 12 || prefix.len() > 16 || !valid_prefix {
        return Err(IssuanceError::invalid(
            field,
            "a blank serial is up to 16 characters A-Z, 0-9 or '-' followed by 1 to 12 digits",
        ));
    }
    let value = number
        .parse()
        .map_err(|_| IssuanceError::invalid(field, "the number part is too large"))?;
    Ok((prefix.to_owned(), value, digits))
}

/// The serials from `from` to `to`, inclusive.
pub fn serial_range(from: &str, to: &str) -> Result<Vec<String>, IssuanceError> {
    let (prefix, first, width) = split_serial("from", from)?;
    let (to_prefix, last, to_width) = split_serial("to", to)?;
    if prefix != to_prefix || width != to_width {
        return Err(IssuanceError::invalid(
            "to",
            "must have the same prefix and number of digits as `from`",
        ));
    }
    if last < first {
        return Err(IssuanceError::invalid("to", "comes before `from`"));
    }
    if last - first >= MAX_BATCH {
        return Err(IssuanceError::invalid(
            "to",
            format!("at most {MAX_BATCH} blanks per batch"),
        ));
    }
    Ok((first..=last)
        .map(|n| format!("{prefix}{n:0width$}"))
        .collect())
}

fn doc_type(text: &str) -> Result<&'static str, IssuanceError> {
    match text {
        "ttd" => Ok("ttd"),
        "passport" => Ok("passport"),
        "legalization" => Ok("legalization"),
        _ => Err(IssuanceError::invalid(
            "type",
            "must be ttd, passport or legalization",
        )),
    }
}

fn location_code(text: &str) -> Result<String, IssuanceError> {
    let ok = (2..=8).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(IssuanceError::invalid(
            "location",
            "a mission code or HQ: 2 to 8 characters A-Z, 0-9 or '-'",
        ))
    }
}

impl Service {
    /// Registers blanks `from`..=`to` of `doc_type` at `location`; returns how many. A serial
    /// registered before makes the whole batch fail (nothing is added).
    pub async fn add_stock(
        &self,
        actor: &Actor,
        doc_type_text: &str,
        location: &str,
        from: &str,
        to: &str,
    ) -> Result<u64, IssuanceError> {
        let kind = doc_type(doc_type_text)?;
        let location = location_code(location)?;
        let serials = serial_range(from, to)?;
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
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

    /// Blank stock by type, location and state.
    pub async fn stock(&self) -> Result<Vec<StockLine>, IssuanceError> {
        Ok(travdoc_store::printing::stock(self.db.reader())
            .await?
            .into_iter()
            .map(|row| StockLine {
                doc_type: row.doc_type,
                location: row.location,
                state: row.state,
                count: row.count,
                first: row.first,
                last: row.last,
            })
            .collect())
    }

    /// Reserves the lowest available blank for `record` (its type, at its mission or HQ).
    /// `None` when no stock was ever registered there (the embedded default prints on plain
    /// paper); an error when the registered stock is used up.
    async fn reserve_blank(
        &self,
        record: &DocumentRecord,
        job_id: &str,
    ) -> Result<Option<String>, IssuanceError> {
        let kind = record.kind.as_str();
        let location = record
            .mission
            .clone()
            .unwrap_or_else(|| HEADQUARTERS.to_owned());
        let registered =
            travdoc_store::printing::registered_blanks(self.db.writer(), kind, &location).await?;
        if registered == 0 {
            return Ok(None);
        }
        // Another node may take the same blank between the two statements: try the next one.
        for _ in 0..8 {
            let Some(serial) =
                travdoc_store::printing::lowest_available_blank(self.db.writer(), kind, &location)
                    .await?
            else {
                return Err(IssuanceError::invalid(
                    "printer",
                    format!("no {kind} blank left at {location}: register stock first"),
                ));
            };
            let taken = travdoc_store::printing::reserve_blank(
                self.db.writer(),
                &serial,
                job_id,
                &record.number,
                &self.now_text(),
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
    async fn last_printed_blank(&self, number: &str) -> Result<Option<String>, IssuanceError> {
        Ok(travdoc_store::printing::last_printed_blank(self.db.reader(), number).await?)
    }

    /// `POST /v1/documents/{number}/print` with an optional reprint reason: renders for the
    /// printer with the reserved blank's serial, sends, and records the job.
    pub async fn print_document(
        &self,
        actor: &Actor,
        number: &str,
        printer: &str,
        reprint_reason: Option<&str>,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<PrintJobView, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        if !self.printers.printers().iter().any(|name| name == printer) {
            return Err(IssuanceError::invalid(
                "printer",
                format!("no printer named `{printer}`"),
            ));
        }
        let status = record.status(self.now().date());
        if status != DocumentStatus::Valid {
            return Err(IssuanceError::WrongState {
                what: "document",
                id: number.to_owned(),
                state: status.as_str().to_owned(),
                expected: "valid",
            });
        }
        let reason = reprint_reason.map(str::trim).filter(|r| !r.is_empty());
        let printed = record.state == DocumentState::Printed;
        let reprint = match (printed, reason) {
            (true, None) => {
                return Err(IssuanceError::invalid(
                    "reprint_reason",
                    "the document was already printed: a reprint needs a reason",
                ));
            }
            (true, Some(reason)) if reason.chars().count() > 200 => {
                return Err(IssuanceError::invalid(
                    "reprint_reason",
                    "at most 200 characters",
                ));
            }
            (true, Some(reason)) => Some(Reprint {
                reason: reason.to_owned(),
                previous_blank: self.last_printed_blank(&record.number).await?,
            }),
            (_, Some(_)) => {
                return Err(IssuanceError::invalid(
                    "reprint_reason",
                    "the document has not been printed yet",
                ));
            }
            (_, None) => None,
        };
        let job_id = uuid::Uuid::new_v4().to_string();
        let blank = self.reserve_blank(&record, &job_id).await?;
        // The job is on record as `queued` before the printer sees it: a crash while printing
        // leaves a visible queued job and a reserved blank, never a silent print.
        let attempt = self
            .queue_job(actor, &record, &job_id, printer, blank.as_deref(), reason)
            .await?;
        let mut input = self.render_input(&record).await?;
        if let (Some(serial), Some(data)) = (&blank, input.data.as_object_mut()) {
            data.insert("blank_serial".into(), serial.clone().into());
        }
        let outcome = self.printers.print(printer, &record.number, &input).await;
        let failed = outcome.as_ref().err().cloned();
        let job = self
            .record_job(
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

    /// Records the job as `queued` and returns which attempt it is for the document.
    async fn queue_job(
        &self,
        actor: &Actor,
        record: &DocumentRecord,
        job_id: &str,
        printer: &str,
        blank: Option<&str>,
        reprint_reason: Option<&str>,
    ) -> Result<i64, IssuanceError> {
        let now = self.now_text();
        let mut tx = self.db.begin().await?;
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
        &self,
        actor: &Actor,
        record: &DocumentRecord,
        job: Job,
        outcome: Result<super::ports::Printed, String>,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> Result<PrintJobView, IssuanceError> {
        let now = self.now_text();
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
        let mut tx = self.db.begin().await?;
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
            self.change_state(
                &mut tx,
                &record.number,
                &[DocumentState::Issued],
                DocumentState::Printed,
                None,
                &now,
            )
            .await?;
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
                travdoc_store::printing::spoil_blank(&mut tx, previous, &reprint.reason, &now)
                    .await?;
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
        self.metrics.record_print_job(state);
        Ok(view)
    }
}

impl Service {
    /// Every configured printer's state (reachability and attributes).
    pub async fn check_printers(&self) -> Vec<(String, Result<serde_json::Value, String>)> {
        self.printers.check().await
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_ranges_keep_prefix_and_width() {
        let serials = serial_range("LKA-T000998", "LKA-T001001").expect("range");
        assert_eq!(
            serials,
            vec!["LKA-T000998", "LKA-T000999", "LKA-T001000", "LKA-T001001"]
        );
        assert_eq!(serial_range("B7", "B7").expect("one"), vec!["B7"]);
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let field = |result: Result<Vec<String>, IssuanceError>| match result {
            Err(IssuanceError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(field(serial_range("T10", "T09")), "to");
        assert_eq!(field(serial_range("T10", "U12")), "to");
        assert_eq!(field(serial_range("T010", "T12")), "to");
        assert_eq!(field(serial_range("ABC", "ABD")), "from");
        assert_eq!(field(serial_range("T1", "T1000000")), "to");
        assert_eq!(field(serial_range("t1", "t2")), "from");
    }
}
