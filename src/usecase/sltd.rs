//! Lost, stolen, revoked and invalidated travel documents (`docs/checks.md`): importing a list
//! (INTERPOL SLTD as forwarded nationally, or a national list) from CSV, exporting our own
//! revoked documents in the same CSV, and the `SLTD_HIT` check a request's named documents
//! get. Called by the API (`POST /v1/sltd/imports`, `GET /v1/sltd/export`), the CLI
//! (`travdoc sltd import|export`) and the request use case.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::auth::Actor;
use crate::issuance::checks::{CheckCode, CheckHit};
use crate::issuance::{IssuanceError, Records};
use travdoc_store::ledger::{Entry, Event};
use travdoc_store::sltd::{self as store, ImportRow, SltdRow};

/// The header a list starts with; further columns are kept as the entry's `source`.
pub const HEADER: [&str; 5] = [
    "issuing_state",
    "document_type",
    "document_number",
    "status",
    "reported_on",
];

/// The statuses a list may give.
pub const STATUSES: [&str; 4] = ["lost", "stolen", "revoked", "invalidated"];

/// At most this many rejected lines are listed in a report (all are counted).
const LISTED_REJECTIONS: usize = 1000;

/// Rows written per batch while a file is read.
const CHUNK: usize = 5000;

/// A line refused, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RejectedLine {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub id: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Data lines read (the header not counted).
    pub lines: u64,
    /// Entries new to the lists (a line already listed adds nothing).
    pub added: u64,
    /// Lines refused.
    pub rejected: u64,
    /// The first 1,000 refused lines, with their line numbers and reasons.
    pub rejected_lines: Vec<RejectedLine>,
}

fn invalid(message: impl Into<String>) -> IssuanceError {
    IssuanceError::invalid("file", message)
}

fn check_header(header: &csv::StringRecord) -> Result<Vec<String>, IssuanceError> {
    let names: Vec<&str> = header.iter().collect();
    if names.len() < HEADER.len() || names[..HEADER.len()] != HEADER {
        return Err(invalid(format!(
            "the first line must be the header `{}` (further columns are kept as the source)",
            HEADER.join(",")
        )));
    }
    Ok(names[HEADER.len()..]
        .iter()
        .map(|name| (*name).to_owned())
        .collect())
}

fn field_ok(text: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(allowed)
}

/// One data line as an entry, or why not.
fn entry(
    record: &csv::StringRecord,
    extra: &[String],
    import_id: &str,
    line: u64,
) -> Result<SltdRow, String> {
    let get = |index: usize| record.get(index).unwrap_or("");
    let issuing_state = get(0);
    if !field_ok(issuing_state, 3, |b| b.is_ascii_uppercase() || b == b'<')
        || issuing_state.len() != 3
    {
        return Err("issuing_state: an ICAO three-letter code".to_owned());
    }
    let document_type = get(1);
    if !field_ok(document_type, 40, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'<' | b' ' | b'-' | b'_')
    }) {
        return Err("document_type: 1 to 40 of A-Z, 0-9, '<', space, '-', '_'".to_owned());
    }
    let document_number = get(2);
    if !field_ok(document_number, 20, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<'
    }) {
        return Err("document_number: 1 to 20 of A-Z, 0-9, '<'".to_owned());
    }
    let status = get(3);
    if !STATUSES.contains(&status) {
        return Err(format!("status: one of {}", STATUSES.join(", ")));
    }
    let reported_on = get(4);
    if crate::issuance::input::parse_date("reported_on", reported_on).is_err() {
        return Err("reported_on: a date YYYY-MM-DD".to_owned());
    }
    let source: Vec<String> = extra
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let value = record.get(HEADER.len() + index).unwrap_or("");
            (!value.is_empty()).then(|| format!("{name}={value}"))
        })
        .collect();
    let source = source.join("; ");
    if source.chars().count() > 1000 || source.chars().any(char::is_control) {
        return Err(
            "the extra columns: at most 1,000 characters, no control characters".to_owned(),
        );
    }
    Ok(SltdRow {
        issuing_state: issuing_state.to_owned(),
        document_type: document_type.to_owned(),
        document_number: document_number.to_owned(),
        status: status.to_owned(),
        reported_on: reported_on.to_owned(),
        source: (!source.is_empty()).then_some(source),
        import_id: import_id.to_owned(),
        line: i64::try_from(line).unwrap_or(i64::MAX),
    })
}

/// Imports a list: every valid line is added unless listed already, refused lines are
/// reported with their numbers, and one ledger entry records the file's SHA-256 and counts.
/// The whole file is one transaction (all of it or nothing, should the database fail).
pub async fn import(
    records: &Records,
    actor: &Actor,
    bytes: &[u8],
) -> Result<ImportReport, IssuanceError> {
    let now = records.now_text();
    let id = uuid::Uuid::new_v4().to_string();
    let sha256 = hex::encode(Sha256::digest(bytes));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|error| invalid(format!("the header cannot be read: {error}")))?
        .clone();
    let extra = check_header(&header)?;
    let mut report = ImportReport {
        id: id.clone(),
        sha256: sha256.clone(),
        lines: 0,
        added: 0,
        rejected: 0,
        rejected_lines: Vec::new(),
    };
    let reject = |report: &mut ImportReport, line: u64, reason: String| {
        report.rejected += 1;
        if report.rejected_lines.len() < LISTED_REJECTIONS {
            report.rejected_lines.push(RejectedLine { line, reason });
        }
    };
    let mut tx = records.db.begin().await?;
    let mut pending = Vec::with_capacity(CHUNK);
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                report.lines += 1;
                let line = record.position().map_or(line, |position| position.line());
                if record.len() != header.len() {
                    reject(
                        &mut report,
                        line,
                        format!("{} columns, the header has {}", record.len(), header.len()),
                    );
                    continue;
                }
                match entry(&record, &extra, &id, line) {
                    Ok(row) => pending.push(row),
                    Err(reason) => reject(&mut report, line, reason),
                }
                if pending.len() >= CHUNK {
                    report.added += store::insert(&mut tx, &pending).await?;
                    pending.clear();
                }
            }
            Err(error) => {
                report.lines += 1;
                reject(&mut report, line, format!("not CSV: {error}"));
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    // After a broken quote the reader cannot find the next line reliably.
                    return Err(invalid(format!("line {line}: {error}")));
                }
            }
        }
    }
    report.added += store::insert(&mut tx, &pending).await?;
    let counts = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    store::record_import(
        &mut tx,
        &ImportRow {
            id: id.clone(),
            sha256: sha256.clone(),
            imported_at: now.clone(),
            imported_by: actor.id.clone(),
            lines: counts(report.lines),
            added: counts(report.added),
            rejected: counts(report.rejected),
        },
    )
    .await?;
    let at = time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or_default();
    travdoc_store::ledger::append(
        &mut tx,
        &format!("sltd.import:{id}"),
        &Entry::new(
            at,
            Event::SltdImported {
                import_ref: id,
                sha256,
                lines: report.lines,
                added: report.added,
                rejected: report.rejected,
                operator_ref: actor.id.clone(),
            },
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// The SLTD status of one of our revocation reasons.
fn status_of(reason: Option<&str>) -> &'static str {
    match reason {
        Some("lost") => "lost",
        Some("stolen") => "stolen",
        Some("damaged") => "invalidated",
        _ => "revoked",
    }
}

/// Our revoked travel documents (revoked on or after `since`, `YYYY-MM-DD`), as a list in the
/// import's CSV, for forwarding to INTERPOL SLTD: a revocation for loss or theft is `lost` or
/// `stolen`, a damaged document `invalidated`, any other `revoked`.
pub async fn export(
    records: &Records,
    country: &str,
    since: Option<&str>,
) -> Result<String, IssuanceError> {
    if let Some(since) = since
        && crate::issuance::input::parse_date("since", since).is_err()
    {
        return Err(IssuanceError::invalid("since", "must be a date YYYY-MM-DD"));
    }
    let rows = store::revoked_since(records.db.reader(), since.unwrap_or("")).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, fields: &[&str]| {
        writer
            .write_record(fields)
            .map_err(|error| IssuanceError::Corrupt(format!("writing the export: {error}")))
    };
    write(&mut writer, &HEADER)?;
    for row in &rows {
        let document_type = if row.kind == "passport" { "P" } else { "PU" };
        write(
            &mut writer,
            &[
                country,
                document_type,
                &row.number,
                status_of(row.reason.as_deref()),
                row.updated_at.get(..10).unwrap_or(""),
            ],
        )?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| IssuanceError::Corrupt(format!("writing the export: {error}")))?;
    String::from_utf8(bytes).map_err(|error| IssuanceError::Corrupt(error.to_string()))
}

/// `SLTD_HIT` for a document an applicant names (`what`: how the request names it): the
/// lists' entries of that number for `issuing_state` (`listings`), and our own document of that
/// number when it is revoked (`own`, read with them by `travdoc_store::people::lookup`).
pub fn hits(
    issuing_state: &str,
    number: &str,
    what: &str,
    listings: &[store::SltdRow],
    own: Option<&travdoc_store::people::OwnDocument>,
) -> Vec<CheckHit> {
    let mut found = Vec::new();
    for listed in listings {
        if listed.issuing_state != issuing_state || listed.document_number != number {
            continue;
        }
        found.push(CheckHit::new(
            CheckCode::SltdHit,
            format!(
                "the {what} {number} ({}) is listed as {} since {}",
                listed.document_type, listed.status, listed.reported_on
            ),
            &format!("sltd import {} line {}", listed.import_id, listed.line),
        ));
    }
    if let Some(own) = own
        && own.state == "revoked"
    {
        found.push(CheckHit::new(
            CheckCode::SltdHit,
            format!(
                "the {what} {number} is our {}, revoked ({})",
                own.kind,
                own.reason.as_deref().unwrap_or("no reason recorded")
            ),
            "travdoc documents",
        ));
    }
    found
}
