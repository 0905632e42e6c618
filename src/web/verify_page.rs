//! The public verification page (`/verify`, and `/v`: the path legalization QR codes open).
//!
//! A visitor pastes seal or QR text, or uploads a photo or scan of the barcode (and optionally
//! the legalized document). The page builds the verification use case's input from the form and
//! runs it with the same rate limit as `POST /v1/verify`, then shows a verdict (valid, invalid, revoked, used,
//! expired) with its reasons in plain language, the checks that passed, and what the seal says
//! about the holder, in English, Sinhala or Tamil (`?lang=en|si|ta`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::i18n::{self, Lang};
use super::{WebError, render};
use crate::http::AppState;
use crate::usecase::verify::{
    Artifact, Code, MAX_ARTIFACT_BYTES as MAX_IMAGE_BYTES, MAX_DOCUMENT_BYTES, MAX_TEXT_CHARS,
    Outcome, Presented, RecordStatus, VerifyInput, decode_base64,
};

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// What the form carried.
#[derive(Debug, Default)]
struct Submission {
    lang: Lang,
    text: String,
    image: Option<Vec<u8>>,
    document: Option<Vec<u8>>,
    /// The two MRZ lines printed on a TTD, as typed or read by OCR.
    printed_mrz: String,
    /// A passport chip's EF.SOD and its data group files.
    sod: Option<Vec<u8>>,
    data_groups: Vec<Vec<u8>>,
}

/// One check shown to the visitor.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub key: &'static str,
    pub label: String,
    /// `passed`, `failed` or `skipped`.
    pub outcome: &'static str,
    pub outcome_text: String,
}

/// One line of what the seal says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub label: String,
    pub value: String,
}

/// The verdict of a verification outcome: `valid`, `revoked`, `used`, `expired` or `invalid`.
/// A genuine seal of a document that is no longer in force gets that status; anything wrong
/// with the seal itself is `invalid`.
pub fn verdict(answer: &Outcome) -> &'static str {
    if answer.is_valid() {
        return "valid";
    }
    let status_only = answer.reasons.iter().all(|reason| {
        matches!(
            reason.code,
            Code::DocumentRevoked | Code::DocumentUsed | Code::DocumentExpired
        )
    });
    if !status_only || answer.reasons.is_empty() {
        return "invalid";
    }
    match answer.document_status {
        RecordStatus::Revoked => "revoked",
        RecordStatus::Used => "used",
        RecordStatus::Expired => "expired",
        _ => "invalid",
    }
}

/// The checks, each passed, failed or not reached, from the reason codes.
pub fn checks(answer: &Outcome, lang: Lang) -> Vec<Check> {
    let has = |codes: &[Code]| answer.reasons.iter().any(|r| codes.contains(&r.code));
    let unreadable = has(&[
        Code::WrongFormat,
        Code::ReadError,
        Code::UnsupportedArtifact,
    ]);
    let unknown_signer = has(&[Code::UnknownCertificate]);
    let document_checked = answer.data.document_checked == Some(true)
        || has(&[
            Code::SealDocumentMismatch,
            Code::InvalidPrintedMrz,
            Code::NotComparable,
        ]);
    let is_ttd = answer.kind == Some(crate::issuance::numbering::Kind::Ttd);
    let record_checked = answer.document_status != RecordStatus::NotChecked;
    let mut list: Vec<(&'static str, Option<bool>)> = vec![
        ("read", Some(!unreadable)),
        (
            "signer",
            (!unreadable).then(|| {
                !has(&[
                    Code::UnknownCertificate,
                    Code::UntrustedCertificate,
                    Code::ExpiredCertificate,
                    Code::RevokedCertificate,
                    Code::InvalidDocumentType,
                ])
            }),
        ),
        (
            "signature",
            (!unreadable && !unknown_signer)
                .then(|| !has(&[Code::InvalidSignature, Code::DataGroupHashMismatch])),
        ),
    ];
    if is_ttd {
        list.push((
            "content",
            (!unreadable).then(|| !has(&[Code::InvalidSealMrz])),
        ));
    }
    if document_checked {
        list.push((
            "match",
            (!unreadable).then(|| {
                !has(&[
                    Code::DocumentHashMismatch,
                    Code::SealDocumentMismatch,
                    Code::InvalidPrintedMrz,
                    Code::NotComparable,
                ])
            }),
        ));
    }
    list.push((
        "record",
        record_checked.then(|| !has(&[Code::DocumentUnknown, Code::DocumentKindMismatch])),
    ));
    list.push((
        "status",
        (record_checked && !has(&[Code::DocumentUnknown])).then(|| {
            !has(&[
                Code::DocumentRevoked,
                Code::DocumentUsed,
                Code::DocumentExpired,
            ])
        }),
    ));
    list.into_iter()
        .map(|(key, passed)| {
            let outcome = match passed {
                Some(true) => "passed",
                Some(false) => "failed",
                None => "skipped",
            };
            Check {
                key,
                label: i18n::text(lang, &format!("check.{key}")),
                outcome,
                outcome_text: i18n::text(lang, &format!("check.{outcome}")),
            }
        })
        .collect()
}

/// `YYMMDD` as `YYYY-MM-DD`; `future` picks the century for expiry dates.
fn mrz_date(text: &str, future: bool) -> String {
    let digits = text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return text.replace('<', " ").trim().to_owned();
    }
    let (yy, mm, dd) = (&text[0..2], &text[2..4], &text[4..6]);
    let year: i32 = yy.parse().unwrap_or(0);
    let now = time::OffsetDateTime::now_utc().year() % 100;
    let century = if !future && year > now { 1900 } else { 2000 };
    format!("{:04}-{mm}-{dd}", century + year)
}

fn mrz_text(text: &str) -> String {
    text.split('<')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the seal says about the holder (TTD: from the TD2 MRZ) or the certificate.
pub fn fields(answer: &Outcome, lang: Lang) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |key: &'static str, value: String| {
        if !value.trim().is_empty() {
            out.push(Field {
                key,
                label: i18n::text(lang, &format!("field.{key}")),
                value,
            });
        }
    };
    if let Some(kind) = answer.kind {
        push("kind", i18n::text(lang, &format!("kind.{}", kind.as_str())));
    }
    let data = &answer.data;
    if let Some([line1, line2]) = &data.mrz
        && line1.len() == 36
    {
        let slice =
            |line: &str, from: usize, to: usize| line.get(from..to).unwrap_or("").to_owned();
        let names = slice(line1, 5, line1.len());
        let (surname, given) = names.split_once("<<").unwrap_or((names.as_str(), ""));
        push("number", mrz_text(&slice(line2, 0, 9)));
        push("surname", mrz_text(surname));
        push("given_names", mrz_text(given));
        push("nationality", mrz_text(&slice(line2, 10, 13)));
        push("birth_date", mrz_date(&slice(line2, 13, 19), false));
        push("sex", mrz_text(&slice(line2, 20, 21)));
        push("expiry", mrz_date(&slice(line2, 21, 27), true));
        push("issuing_state", mrz_text(&slice(line1, 2, 5)));
    } else if let Some(legalization) = &data.legalization {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        push(
            "certificate_number",
            legalization.certificate_number().to_owned(),
        );
        push("issue_date", legalization.issue_date().to_string());
        push("document_type", legalization.document_type().to_owned());
        push("signatory", text(legalization.signatory()));
        push("capacity", text(legalization.capacity()));
        push("seal_of", text(legalization.seal_of()));
        push("authority", legalization.authority().to_owned());
        push("place", text(legalization.place()));
        push("country_of_use", text(legalization.country_of_use()));
        push(
            "document_sha256",
            hex::encode(legalization.document_sha256()),
        );
    } else if let Some(number) = &answer.document_number {
        push("number", number.clone());
    }
    out
}

fn page(lang: Lang, extra: minijinja::Value) -> Result<Html<String>, WebError> {
    render(
        "verify.html",
        context! {
            lang => lang.code(),
            t => i18n::table(lang),
            languages => i18n::languages(lang),
            max_text => MAX_TEXT_CHARS,
            ..extra
        },
    )
}

/// `GET /verify` (and the QR path): the empty form, in the language asked for (`?lang=`), else
/// the browser's first choice among ours (`Accept-Language`), else English.
pub async fn show(
    headers: axum::http::HeaderMap,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let asked = query.ok().and_then(|Query(q)| q.lang);
    let lang = super::session::visitor_lang(&headers, asked.as_deref());
    // A cache keeps one copy per language the browser asks for.
    Ok((
        [(axum::http::header::VARY, "Accept-Language")],
        page(lang, context! {})?,
    )
        .into_response())
}

/// Reads one form field, refusing it as soon as it passes `limit` bytes (nothing larger is
/// ever held in memory).
pub(super) async fn read_field(
    mut field: axum::extract::multipart::Field<'_>,
    label: &'static str,
    limit: usize,
) -> Result<Vec<u8>, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| WebError::Field {
        field: label,
        message: "the form could not be read".to_owned(),
    })? {
        if bytes.len() + chunk.len() > limit {
            return Err(WebError::Field {
                field: label,
                message: format!("at most {limit} bytes"),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A text field of at most `limit` bytes.
pub(super) async fn read_text(
    field: axum::extract::multipart::Field<'_>,
    label: &'static str,
    limit: usize,
) -> Result<String, WebError> {
    String::from_utf8(read_field(field, label, limit).await?).map_err(|_| WebError::Field {
        field: label,
        message: "is not UTF-8 text".to_owned(),
    })
}

async fn read_submission(mut multipart: Multipart) -> Result<Submission, WebError> {
    let mut submission = Submission::default();
    while let Some(field) = multipart.next_field().await.map_err(|_| WebError::Field {
        field: "form",
        message: "the form could not be read".to_owned(),
    })? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "lang" => {
                let text = read_text(field, "lang", 16).await?;
                submission.lang = Lang::parse(Some(&text));
            }
            "text" => {
                // At most four UTF-8 bytes a character.
                let text = read_text(field, "text", 4 * MAX_TEXT_CHARS).await?;
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(WebError::Field {
                        field: "text",
                        message: format!("at most {MAX_TEXT_CHARS} characters"),
                    });
                }
                submission.text = text.trim().to_owned();
            }
            "printed_mrz" => {
                submission.printed_mrz = read_text(field, "printed_mrz", 200)
                    .await?
                    .trim()
                    .to_owned();
            }
            "image" => {
                let bytes = read_field(field, "image", MAX_IMAGE_BYTES).await?;
                submission.image = Some(bytes).filter(|bytes| !bytes.is_empty());
            }
            "document" => {
                let bytes = read_field(field, "document", MAX_DOCUMENT_BYTES).await?;
                submission.document = Some(bytes).filter(|bytes| !bytes.is_empty());
            }
            "sod" => {
                let bytes = read_field(field, "sod", MAX_IMAGE_BYTES).await?;
                submission.sod = Some(bytes).filter(|bytes| !bytes.is_empty());
            }
            "data_group" => {
                if submission.data_groups.len() >= 16 {
                    return Err(WebError::Field {
                        field: "data_group",
                        message: "at most 16 data groups".to_owned(),
                    });
                }
                let bytes = read_field(field, "data_group", MAX_IMAGE_BYTES).await?;
                if !bytes.is_empty() {
                    submission.data_groups.push(bytes);
                }
            }
            _ => {}
        }
    }
    Ok(submission)
}

/// The use case's input for a submission: an image wins over text; text with `#` (or a URL)
/// is QR text, other text is seal bytes in base64. `None` when nothing was given.
fn input_of(submission: &Submission) -> Option<Result<VerifyInput, WebError>> {
    let printed: Vec<&str> = submission
        .printed_mrz
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let presented = match (&submission.document, printed.as_slice()) {
        (Some(_), [_, ..]) => {
            return Some(Err(WebError::Field {
                field: "printed_mrz",
                message: "give the legalized document or the printed MRZ, not both".to_owned(),
            }));
        }
        (Some(bytes), []) => Presented::Document(bytes.clone()),
        (None, [first, second]) => {
            Presented::PrintedMrz([(*first).to_owned(), (*second).to_owned()])
        }
        (None, []) => Presented::Nothing,
        (None, _) => {
            return Some(Err(WebError::Field {
                field: "printed_mrz",
                message: "give the two MRZ lines".to_owned(),
            }));
        }
    };
    let artifact = if let Some(sod) = &submission.sod {
        let mut data_groups = std::collections::BTreeMap::new();
        for file in &submission.data_groups {
            let number = match travdoc_lds::dg::data_group_number_of(file) {
                Ok(number) => number,
                Err(_) => {
                    return Some(Err(WebError::Field {
                        field: "data_group",
                        message: "a file is not a data group".to_owned(),
                    }));
                }
            };
            if data_groups.insert(number, file.clone()).is_some() {
                return Some(Err(WebError::Field {
                    field: "data_group",
                    message: format!("DG{number} is given twice"),
                }));
            }
        }
        Artifact::Sod {
            sod: sod.clone(),
            data_groups,
        }
    } else if let Some(image) = &submission.image {
        Artifact::BarcodeImage(image.clone())
    } else if submission.text.is_empty() {
        return None;
    } else if submission.text.contains('#') || submission.text.contains("://") {
        Artifact::Qr(submission.text.clone())
    } else {
        match decode_base64("text", &submission.text) {
            Ok(bytes) => Artifact::Seal(bytes),
            Err(_) => {
                return Some(Err(WebError::Field {
                    field: "text",
                    message: "is neither QR text nor a seal in base64".to_owned(),
                }));
            }
        }
    };
    Some(
        VerifyInput::new(artifact, presented).map_err(|error| WebError::Field {
            field: match error.field.as_str() {
                "barcode_image" => "image",
                "document" => "document",
                "sod" => "sod",
                "printed_mrz" => "printed_mrz",
                field if field.starts_with("data_group") => "data_group",
                _ => "text",
            },
            message: error.message,
        }),
    )
}

/// `POST /verify`: verifies and shows the verdict.
pub async fn submit(
    State(state): State<AppState>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let submission = read_submission(multipart).await?;
    let lang = submission.lang;
    let input = match input_of(&submission) {
        None => {
            let html = page(lang, context! { error => i18n::text(lang, "verify.empty") })?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
        Some(Err(WebError::Field { field, message })) => {
            let html = page(
                lang,
                context! {
                    error => format!("{}: {field}: {message}", i18n::text(lang, "verify.refused")),
                    text => submission.text,
                },
            )?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
        Some(Err(other)) => return Err(other),
        Some(Ok(input)) => input,
    };
    let answer = match crate::http::verify_public(&state, input).await {
        Ok(answer) => answer,
        Err(error) => {
            let html = page(
                lang,
                context! {
                    error => format!("{}: {}", i18n::text(lang, "verify.refused"), error.message),
                    text => submission.text,
                },
            )?;
            return Ok((error.status, html).into_response());
        }
    };
    let verdict = verdict(&answer);
    // One line per code, in the order found (a code found twice is explained once).
    let mut codes: Vec<&'static str> = Vec::new();
    for reason in &answer.reasons {
        if !codes.contains(&reason.code.as_str()) {
            codes.push(reason.code.as_str());
        }
    }
    let reasons: Vec<minijinja::Value> = codes
        .iter()
        .map(|code| context! { code => *code, text => i18n::reason(lang, code) })
        .collect();
    let document_status = answer.document_status.as_str();
    let proof = answer
        .ledger_proof
        .as_ref()
        .and_then(|proof| serde_json::to_string_pretty(proof).ok());
    let mrz = answer.data.mrz.as_ref().map(|lines| lines.join("\n"));
    let html = page(
        lang,
        context! {
            result => context! {
                verdict => verdict,
                status => if answer.is_valid() { "VALID" } else { "INVALID" },
                document_status => document_status,
                title => i18n::text(lang, &format!("verdict.{verdict}")),
                text => i18n::text(lang, &format!("verdict.{verdict}.text")),
                reasons => reasons,
                codes => codes,
                checks => Serde(checks(&answer, lang)),
                fields => Serde(fields(&answer, lang)),
                mrz => mrz,
                proof => proof,
            },
        },
    )?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::usecase::verify::{Data, Reason, Status};

    fn answer(status: &str, reasons: &[Code], document_status: RecordStatus) -> Outcome {
        Outcome {
            status: if status == "VALID" {
                Status::Valid
            } else {
                Status::Invalid
            },
            reasons: reasons.iter().map(|code| Reason::new(*code, "")).collect(),
            document_status,
            document_number: Some("T2600001".to_owned()),
            kind: Some(crate::issuance::numbering::Kind::Ttd),
            data: Data {
                mrz: Some([
                    "PULKAPERERA<<NIMAL<KUMAR<<<<<<<<<<<<".to_owned(),
                    "T2600001<6LKA8501012M2612310<<<<<<<4".to_owned(),
                ]),
                ..Data::default()
            },
            ledger_proof: None,
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&answer("VALID", &[], RecordStatus::Valid)), "valid");
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &[Code::DocumentRevoked],
                RecordStatus::Revoked
            )),
            "revoked"
        );
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &[Code::DocumentUsed],
                RecordStatus::Used
            )),
            "used"
        );
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &[Code::DocumentExpired],
                RecordStatus::Expired
            )),
            "expired"
        );
        // A forged seal of a revoked number is invalid, not merely revoked.
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &[Code::InvalidSignature, Code::DocumentRevoked],
                RecordStatus::Revoked
            )),
            "invalid"
        );
        assert_eq!(
            verdict(&answer("INVALID", &[], RecordStatus::Unknown)),
            "invalid"
        );
    }

    #[test]
    fn checks_follow_the_reasons() {
        let revoked = checks(
            &answer("INVALID", &[Code::DocumentRevoked], RecordStatus::Revoked),
            Lang::En,
        );
        let outcome = |list: &[Check], key: &str| {
            list.iter()
                .find(|c| c.key == key)
                .map(|c| c.outcome)
                .unwrap_or("absent")
        };
        assert_eq!(outcome(&revoked, "signature"), "passed");
        assert_eq!(outcome(&revoked, "status"), "failed");
        assert_eq!(outcome(&revoked, "match"), "absent");
        let unreadable = checks(
            &answer("INVALID", &[Code::WrongFormat], RecordStatus::Unknown),
            Lang::Si,
        );
        assert_eq!(outcome(&unreadable, "read"), "failed");
        assert_eq!(outcome(&unreadable, "signature"), "skipped");
        let unknown = checks(
            &answer("INVALID", &[Code::UnknownCertificate], RecordStatus::Valid),
            Lang::Ta,
        );
        assert_eq!(outcome(&unknown, "signer"), "failed");
        assert_eq!(outcome(&unknown, "signature"), "skipped");
    }

    #[test]
    fn holder_fields_from_the_td2_mrz() {
        let list = fields(&answer("VALID", &[], RecordStatus::Valid), Lang::En);
        let value = |key: &str| list.iter().find(|f| f.key == key).map(|f| f.value.clone());
        assert_eq!(value("surname").as_deref(), Some("PERERA"));
        assert_eq!(value("given_names").as_deref(), Some("NIMAL KUMAR"));
        assert_eq!(value("number").as_deref(), Some("T2600001"));
        assert_eq!(value("birth_date").as_deref(), Some("1985-01-01"));
        assert_eq!(value("expiry").as_deref(), Some("2026-12-31"));
        assert_eq!(value("nationality").as_deref(), Some("LKA"));
    }

    #[test]
    fn text_is_qr_or_seal() {
        let artifact = |submission: &Submission| match input_of(submission) {
            Some(Ok(input)) => Some(input.artifact().clone()),
            _ => None,
        };
        let qr = Submission {
            text: "https://verify.example.lk/v#3AP_".into(),
            ..Submission::default()
        };
        assert!(matches!(artifact(&qr), Some(Artifact::Qr(_))));
        let seal = Submission {
            text: "3AP/ AA==".into(),
            ..Submission::default()
        };
        assert!(
            matches!(artifact(&seal), Some(Artifact::Seal(bytes)) if bytes == [0xDC, 0x03, 0xFF, 0x00])
        );
        let image = Submission {
            text: "ignored".into(),
            image: Some(vec![1, 2]),
            ..Submission::default()
        };
        assert!(matches!(artifact(&image), Some(Artifact::BarcodeImage(_))));
        assert!(input_of(&Submission::default()).is_none());
        let not_base64 = Submission {
            text: "not a seal!".into(),
            ..Submission::default()
        };
        assert!(matches!(
            input_of(&not_base64),
            Some(Err(WebError::Field { field: "text", .. }))
        ));
    }
}
