//! The reports: issuances per day by kind and mission, print jobs per day by printer and
//! state, blanks spoiled per day by type and location, and blank stock levels, over a range of
//! days. One use case for `GET /v1/reports/{report}` (JSON or CSV) and the console's reports
//! page (tables, CSV links and charts drawn on the server as SVG).

use serde::{Deserialize, Serialize};

use crate::issuance::input::{date_text, parse_date};
use crate::issuance::{IssuanceError, Records};

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReportName {
    Issuances,
    PrintJobs,
    Spoiled,
    Stock,
}

impl ReportName {
    pub const ALL: [ReportName; 4] = [
        ReportName::Issuances,
        ReportName::PrintJobs,
        ReportName::Spoiled,
        ReportName::Stock,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|name| name.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Issuances => "issuances",
            ReportName::PrintJobs => "print-jobs",
            ReportName::Spoiled => "spoiled",
            ReportName::Stock => "stock",
        }
    }

    /// The CSV header (and the JSON rows' keys).
    pub fn columns(self) -> [&'static str; 4] {
        match self {
            ReportName::Issuances => ["day", "kind", "mission", "count"],
            ReportName::PrintJobs => ["day", "printer", "state", "count"],
            ReportName::Spoiled => ["day", "document_type", "location", "count"],
            ReportName::Stock => ["document_type", "location", "state", "count"],
        }
    }
}

/// A range of days, both included.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today, UTC).
    pub to: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// At most this many days in one report.
const MAX_DAYS: i64 = 366;

/// One report's rows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub report: ReportName,
    /// `YYYY-MM-DD`.
    pub from: String,
    /// `YYYY-MM-DD`.
    pub to: String,
    /// The columns of each row, in order.
    pub columns: Vec<String>,
    /// Text cells, then the count.
    pub rows: Vec<ReportRow>,
}

/// One row: three text cells and a count.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    pub cells: [String; 3],
    pub count: i64,
}

impl Report {
    /// The rows as CSV with the header.
    pub fn csv(&self) -> Result<String, IssuanceError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |error: csv::Error| IssuanceError::Corrupt(format!("writing CSV: {error}"));
        writer.write_record(&self.columns).map_err(failed)?;
        for row in &self.rows {
            let count = row.count.to_string();
            writer
                .write_record([&row.cells[0], &row.cells[1], &row.cells[2], &count])
                .map_err(failed)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|error| IssuanceError::Corrupt(format!("writing CSV: {error}")))?;
        String::from_utf8(bytes).map_err(|error| IssuanceError::Corrupt(error.to_string()))
    }
}

/// The range a query names (validated: dates, `from` not after `to`, at most a year).
pub fn range(records: &Records, query: &ReportQuery) -> Result<(String, String), IssuanceError> {
    let to = match query.to.as_deref() {
        None | Some("") => records.now().date(),
        Some(text) => parse_date("to", text)?,
    };
    let from = match query.from.as_deref() {
        None | Some("") => to - time::Duration::days(29),
        Some(text) => parse_date("from", text)?,
    };
    if from > to {
        return Err(IssuanceError::invalid("from", "is after `to`"));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(IssuanceError::invalid(
            "from",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((date_text(from), date_text(to)))
}

/// Report `name` over the range of `query`.
pub async fn report(
    records: &Records,
    name: ReportName,
    query: &ReportQuery,
) -> Result<Report, IssuanceError> {
    let (from, to) = range(records, query)?;
    let pool = records.db.reader();
    let rows: Vec<ReportRow> = match name {
        ReportName::Issuances => travdoc_store::reports::issuances(pool, &from, &to).await?,
        ReportName::PrintJobs => travdoc_store::reports::print_jobs(pool, &from, &to).await?,
        ReportName::Spoiled => travdoc_store::reports::spoiled(pool, &from, &to).await?,
        ReportName::Stock => travdoc_store::printing::stock(pool)
            .await?
            .into_iter()
            .map(|row| travdoc_store::reports::DayCount {
                day: row.doc_type,
                first: row.location,
                second: row.state,
                count: row.count,
            })
            .collect(),
    }
    .into_iter()
    .map(|row| ReportRow {
        cells: [row.day, row.first, row.second],
        count: row.count,
    })
    .collect();
    Ok(Report {
        report: name,
        from,
        to,
        columns: name
            .columns()
            .iter()
            .map(|column| (*column).to_owned())
            .collect(),
        rows,
    })
}

/// Whether `format` asks for CSV (`csv`), JSON (none or `json`), or neither (an error).
pub fn wants_csv(format: Option<&str>) -> Result<bool, IssuanceError> {
    match format {
        None | Some("" | "json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(IssuanceError::invalid("format", "must be json or csv")),
    }
}

/// A bar chart of issuances per day (stacked by kind) as an SVG document: drawn on the server,
/// no script, no external resource.
pub fn issuance_chart(report: &Report) -> String {
    use std::collections::BTreeMap;
    let mut days: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for row in &report.rows {
        *days
            .entry(row.cells[0].as_str())
            .or_default()
            .entry(row.cells[1].as_str())
            .or_default() += row.count;
    }
    let kinds = [
        ("passport", "#1f5f8b"),
        ("ttd", "#c0392b"),
        ("legalization", "#7d8b1f"),
    ];
    let width = 720.0_f64;
    let height = 240.0_f64;
    let left = 40.0;
    let bottom = 30.0;
    // Every day of the range has its slot, so that a quiet day shows as a gap.
    let mut range = Vec::new();
    if let (Ok(mut day), Ok(last)) = (
        parse_date("from", &report.from),
        parse_date("to", &report.to),
    ) {
        while day <= last && range.len() <= MAX_DAYS as usize {
            range.push(date_text(day));
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    let most = days
        .values()
        .map(|kinds| kinds.values().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (width - left) / range.len().max(1) as f64;
    let label_every = range.len().div_ceil(10).max(1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-labelledby=\"chart-title\"><title id=\"chart-title\">Documents issued per day, \
         {} to {}</title>",
        report.from, report.to
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{width}\" y2=\"{}\" stroke=\"#333\"/>\
         <text x=\"2\" y=\"14\" font-size=\"11\">{most}</text>",
        height - bottom,
        height - bottom
    ));
    let none = BTreeMap::new();
    for (index, day) in range.iter().enumerate() {
        let counts = days.get(day.as_str()).unwrap_or(&none);
        let x = left + slot * index as f64 + slot * 0.1;
        let mut y = height - bottom;
        for (kind, colour) in kinds {
            let count = counts.get(kind).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let bar = (height - bottom - 20.0) * count as f64 / most;
            y -= bar;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" \
                 fill=\"{colour}\"><title>{day}: {count} {kind}</title></rect>",
                slot * 0.8
            ));
        }
        if index % label_every == 0 {
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{}\" font-size=\"9\">{}</text>",
                height - bottom + 12.0,
                day.get(5..).unwrap_or(day)
            ));
        }
    }
    for (index, (kind, colour)) in kinds.iter().enumerate() {
        let x = left + 110.0 * index as f64;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{kind}</text>",
            height - 12.0,
            x + 14.0,
            height - 3.0
        ));
    }
    svg.push_str("</svg>");
    svg
}
