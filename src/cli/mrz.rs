//! `travdoc mrz build|check` and `travdoc demo`: JSON Lines in, JSON Lines or text out, over the
//! pure `travdoc-mrz` crate.
//!
//! `mrz build` reads one JSON object per line:
//! `{"format":"TD3","document_code":"P","issuing_state":"UTO","surname":"Eriksson",
//! "given_names":"Anna María","document_number":"L898902C3","nationality":"UTO",
//! "birth_date":"1974-08-12","sex":"F","expiry_date":"2012-04-15","optional_data":"ZE184226B"}`
//! (`given_names`, `optional_data`, `optional_data_2` may be absent) and writes
//! `{"lines":[...]}` or `{"error":{"code","field","message"}}` per line; blank lines are skipped.
//! Two optional keys choose ICAO alternatives for that document:
//! - `"transliteration": {"umlaut": "AE"|"A", "u_umlaut": "UE"|"UXX"|"U", "a_ring": "AA"|"A",
//!   "n_tilde": "N"|"NXX", "cyrillic": "generic"|"belarusian"|"bulgarian"|"macedonian"|"serbian"|"ukrainian"}`
//!   (defaults: AE, follows umlaut, AA, N, generic);
//! - `"truncation": "initials"|"cut"` (default `initials`).
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Deserialize;
use serde_json::{Value, json};
use travdoc_mrz::{
    BuildOptions, CountryCode, Field, MrzError, MrzInput, ParsedMrz, Transliteration, Truncation,
    parse,
};

use super::Context;

#[derive(Debug, Subcommand)]
pub enum MrzCommand {
    /// Read JSON Lines of MRZ fields on stdin, write one JSON line per input.
    Build,
    /// Read MRZ text on stdin (MRZs separated by a blank line) and check every check digit.
    Check {
        /// One JSON object per MRZ: {"valid", "format", "fields", "checks", "problems"}.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: &MrzCommand) -> anyhow::Result<ExitCode> {
    match command {
        MrzCommand::Build => build(),
        MrzCommand::Check { json } => check(*json),
    }
}

/// One line of `mrz build` input. Every key is optional here so that a missing one is reported
/// as `missing_field` naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildRequest {
    format: Option<String>,
    document_code: Option<String>,
    issuing_state: Option<String>,
    surname: Option<String>,
    given_names: Option<String>,
    document_number: Option<String>,
    nationality: Option<String>,
    birth_date: Option<String>,
    sex: Option<String>,
    expiry_date: Option<String>,
    optional_data: Option<String>,
    optional_data_2: Option<String>,
    transliteration: Option<BTreeMap<String, String>>,
    truncation: Option<String>,
}

fn error_json(code: &str, field: &str, message: &str) -> Value {
    json!({"error": {"code": code, "field": field, "message": message}})
}

fn mrz_error_json(error: &MrzError) -> Value {
    error_json(error.code(), error.field(), &error.to_string())
}

fn build_one(request: &BuildRequest) -> Result<Vec<String>, MrzError> {
    let required = |value: &Option<String>, field: Field| -> Result<String, MrzError> {
        value.clone().ok_or(MrzError::MissingField { field })
    };
    let format = required(&request.format, Field::Format)?;
    let document_code = required(&request.document_code, Field::DocumentCode)?;
    let issuing_state = required(&request.issuing_state, Field::IssuingState)?;
    let surname = required(&request.surname, Field::Surname)?;
    let document_number = required(&request.document_number, Field::DocumentNumber)?;
    let nationality = required(&request.nationality, Field::Nationality)?;
    let birth_date = required(&request.birth_date, Field::BirthDate)?;
    let sex = required(&request.sex, Field::Sex)?;
    let expiry_date = required(&request.expiry_date, Field::ExpiryDate)?;
    let mut options = BuildOptions::default();
    if let Some(choices) = &request.transliteration {
        let mut transliteration = Transliteration::default();
        for (option, value) in choices {
            transliteration.set(option, value)?;
        }
        options.transliteration = transliteration;
    }
    if let Some(truncation) = &request.truncation {
        options.truncation = Truncation::parse(truncation)?;
    }
    let input = MrzInput {
        format: &format,
        document_code: &document_code,
        issuing_state: &issuing_state,
        surname: &surname,
        given_names: request.given_names.as_deref().unwrap_or(""),
        document_number: &document_number,
        nationality: &nationality,
        birth_date: &birth_date,
        sex: &sex,
        expiry_date: &expiry_date,
        optional_data: request.optional_data.as_deref().unwrap_or(""),
        optional_data_2: request.optional_data_2.as_deref().unwrap_or(""),
    };
    let mrz = input.build(&options)?;
    Ok(mrz.lines().map(str::to_owned).collect())
}

fn build() -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_built = true;
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<BuildRequest>(&line) {
            Ok(request) => match build_one(&request) {
                Ok(lines) => json!({"lines": lines}),
                Err(error) => {
                    all_built = false;
                    mrz_error_json(&error)
                }
            },
            Err(error) => {
                all_built = false;
                let code = if error.is_data() {
                    "invalid_request"
                } else {
                    "invalid_json"
                };
                error_json(
                    code,
                    "json",
                    &format!("cannot read this line as a build request: {error}"),
                )
            }
        };
        serde_json::to_writer(&mut out, &answer)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if all_built {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Splits text into MRZ blocks separated by blank lines.
fn blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line.trim());
            current.push('\n');
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

fn fields_json(parsed: &ParsedMrz) -> Value {
    let data = &parsed.data;
    json!({
        "document_code": data.document_code,
        "issuing_state": data.issuing_state,
        "primary_identifier": data.primary_identifier,
        "secondary_identifier": data.secondary_identifier,
        "document_number": data.document_number,
        "nationality": data.nationality,
        "birth_date": data.birth_date,
        "sex": data.sex,
        "expiry_date": data.expiry_date,
        "optional_data": data.optional_data,
        "optional_data_2": data.optional_data_2,
    })
}

fn report_json(result: &Result<ParsedMrz, MrzError>) -> (bool, Value) {
    match result {
        Ok(parsed) => {
            let valid = parsed.is_valid();
            let checks: Vec<Value> = parsed
                .checks
                .iter()
                .map(|check| {
                    json!({
                        "check": check.kind.as_str(),
                        "found": check.found.to_string(),
                        "expected": check.expected.to_string(),
                        "valid": check.valid,
                    })
                })
                .collect();
            let failed: Vec<&str> = parsed
                .failed_checks()
                .map(|check| check.kind.as_str())
                .collect();
            let problems: Vec<Value> = parsed
                .problems()
                .iter()
                .map(|problem| mrz_error_json(problem)["error"].clone())
                .collect();
            (
                valid,
                json!({
                    "valid": valid,
                    "format": parsed.format.as_str(),
                    "fields": fields_json(parsed),
                    "name_possibly_truncated": parsed.name_possibly_truncated,
                    "checks": checks,
                    "failed_checks": failed,
                    "problems": problems,
                }),
            )
        }
        Err(error) => (
            false,
            json!({
                "valid": false,
                "format": null,
                "fields": null,
                "checks": [],
                "failed_checks": [],
                "problems": [mrz_error_json(error)["error"].clone()],
            }),
        ),
    }
}

fn report_text(
    index: usize,
    result: &Result<ParsedMrz, MrzError>,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    match result {
        Err(error) => {
            writeln!(out, "MRZ {index}: INVALID ({}: {error})", error.code())?;
            Ok(false)
        }
        Ok(parsed) => {
            let valid = parsed.is_valid();
            writeln!(
                out,
                "MRZ {index}: {} {}",
                parsed.format,
                if valid { "valid" } else { "INVALID" }
            )?;
            let data = &parsed.data;
            for (name, value) in [
                ("document code", &data.document_code),
                ("issuing state", &data.issuing_state),
                ("primary identifier", &data.primary_identifier),
                ("secondary identifier", &data.secondary_identifier),
                ("document number", &data.document_number),
                ("nationality", &data.nationality),
                ("date of birth", &data.birth_date),
                ("sex", &data.sex),
                ("date of expiry", &data.expiry_date),
                ("optional data", &data.optional_data),
                ("optional data 2", &data.optional_data_2),
            ] {
                writeln!(out, "  {name:<21} {value}")?;
            }
            if parsed.name_possibly_truncated {
                writeln!(
                    out,
                    "  (the name field ends in a letter: the name may be truncated)"
                )?;
            }
            let mut any_failed = false;
            for failed in parsed.failed_checks() {
                any_failed = true;
                writeln!(
                    out,
                    "  FAILED check digit {}: found {}, expected {}",
                    failed.kind, failed.found, failed.expected
                )?;
            }
            if !any_failed {
                writeln!(out, "  all {} check digits pass", parsed.checks.len())?;
            }
            for problem in parsed.problems() {
                writeln!(out, "  PROBLEM {}: {problem}", problem.code())?;
            }
            Ok(valid)
        }
    }
}

fn check(as_json: bool) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_valid = true;
    for (index, block) in blocks(&text).iter().enumerate() {
        let result = parse(block);
        let valid = if as_json {
            let (valid, report) = report_json(&result);
            serde_json::to_writer(&mut out, &report)?;
            out.write_all(b"\n")?;
            valid
        } else {
            if index > 0 {
                writeln!(out)?;
            }
            report_text(index + 1, &result, &mut out)?
        };
        all_valid &= valid;
    }
    out.flush()?;
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Builds the ICAO specimen passport (TD3, code `PP`) for a sample person of the configured
/// country, prints it, parses it back and prints every check digit's verdict.
pub fn demo(context: &Context) -> anyhow::Result<ExitCode> {
    let country: CountryCode = context
        .config
        .country
        .parse()
        .map_err(|error: MrzError| error.for_field(Field::IssuingState))?;
    let input = MrzInput {
        format: "TD3",
        document_code: "PP",
        issuing_state: country.as_str(),
        surname: "Eriksson",
        given_names: "Anna María",
        document_number: "L898902C3",
        nationality: country.as_str(),
        birth_date: "1974-08-12",
        sex: "F",
        expiry_date: "2036-04-15",
        optional_data: "ZE184226B",
        optional_data_2: "",
    };
    let mrz = input.build(&BuildOptions::default())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Specimen passport MRZ (TD3, code PP, ICAO 9303 Part 4) for a sample holder of {country}: \
         Anna María Eriksson, born 1974-08-12.\n"
    )?;
    writeln!(out, "{mrz}\n")?;
    let parsed = parse(&mrz.to_string())?;
    writeln!(out, "Parsed back:")?;
    report_text(1, &Ok(parsed.clone()), &mut out)?;
    for check in &parsed.checks {
        writeln!(
            out,
            "  check digit {:<16} {} ({})",
            check.kind.as_str(),
            check.found,
            if check.valid { "ok" } else { "FAILED" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
