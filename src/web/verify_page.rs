//! The public verification page (`/verify`, and `/v`: the path legalization QR codes open).
//!
//! A visitor pastes seal or QR text, or uploads a photo or scan of the barcode (and optionally
//! the legalized document). The page hands that to the API's verify handler (the same code as
//! `POST /v1/verify`, rate limit included) and shows a verdict (valid, invalid, revoked, used,
//! expired) with its reasons in plain language, the checks that passed, and what the seal says
//! about the holder, in English, Sinhala or Tamil (`?lang=en|si|ta`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::i18n::{self, Lang};
use super::{WebError, render};
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ClientAddr};
use crate::api::verify::{VerifyBody, VerifyResponse};
use crate::issuance::documents::DocumentStatus;

/// Largest accepted barcode image.
const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest accepted legalized document.
const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Longest accepted seal or QR text.
const MAX_TEXT_CHARS: usize = 8192;

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

/// The verdict of a verification answer: `valid`, `revoked`, `used`, `expired` or `invalid`.
/// A genuine seal of a document that is no longer in force gets that status; anything wrong
/// with the seal itself is `invalid`.
pub fn verdict(answer: &VerifyResponse) -> &'static str {
    if answer.status == "VALID" {
        return "valid";
    }
    let status_only = answer.reasons.iter().all(|reason| {
        matches!(
            reason.as_str(),
            "DOCUMENT_REVOKED" | "DOCUMENT_USED" | "DOCUMENT_EXPIRED"
        )
    });
    if !status_only || answer.reasons.is_empty() {
        return "invalid";
    }
    match answer.document_status {
        DocumentStatus::Revoked => "revoked",
        DocumentStatus::Used => "used",
        DocumentStatus::Expired => "expired",
        _ => "invalid",
    }
}

/// The checks, each passed, failed or not reached, from the reason codes.
pub fn checks(answer: &VerifyResponse, lang: Lang) -> Vec<Check> {
    let has = |codes: &[&str]| answer.reasons.iter().any(|r| codes.contains(&r.as_str()));
    let unreadable = has(&[
        "WRONG_FORMAT",
        "READ_ERROR",
        "UNKNOWN_PROFILE",
        "UNSUPPORTED_ARTIFACT",
    ]);
    let unknown_signer = has(&["UNKNOWN_CERTIFICATE"]);
    let document_checked = answer
        .data
        .get("document_checked")
        .and_then(|v| v.as_bool())
        == Some(true);
    let is_ttd = answer.kind.as_deref() == Some("ttd");
    let mut list: Vec<(&'static str, Option<bool>)> = vec![
        ("read", Some(!unreadable)),
        (
            "signer",
            (!unreadable).then(|| {
                !has(&[
                    "UNKNOWN_CERTIFICATE",
                    "UNTRUSTED_CERTIFICATE",
                    "EXPIRED_CERTIFICATE",
                    "REVOKED_CERTIFICATE",
                    "INVALID_DOCUMENTTYPE",
                ])
            }),
        ),
        (
            "signature",
            (!unreadable && !unknown_signer).then(|| !has(&["INVALID_SIGNATURE"])),
        ),
    ];
    if is_ttd {
        list.push((
            "content",
            (!unreadable).then(|| !has(&["INVALID_SEAL_MRZ"])),
        ));
    }
    if document_checked {
        list.push((
            "match",
            (!unreadable).then(|| !has(&["DOCUMENT_HASH_MISMATCH"])),
        ));
    }
    list.push((
        "record",
        (!unreadable).then(|| !has(&["DOCUMENT_UNKNOWN", "SEAL_DOCUMENT_MISMATCH"])),
    ));
    list.push((
        "status",
        (!unreadable && !has(&["DOCUMENT_UNKNOWN"]))
            .then(|| !has(&["DOCUMENT_REVOKED", "DOCUMENT_USED", "DOCUMENT_EXPIRED"])),
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
pub fn fields(answer: &VerifyResponse, lang: Lang) -> Vec<Field> {
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
    if let Some(kind) = answer.kind.as_deref() {
        push("kind", i18n::text(lang, &format!("kind.{kind}")));
    }
    let data = &answer.data;
    let mrz: Vec<&str> = data
        .get("mrz")
        .and_then(|value| value.as_array())
        .map(|lines| lines.iter().filter_map(|line| line.as_str()).collect())
        .unwrap_or_default();
    if let [line1, line2] = mrz.as_slice() {
        let (line1, line2) = (*line1, *line2);
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
    } else if answer.kind.as_deref() == Some("legalization") {
        for key in [
            "certificate_number",
            "issue_date",
            "document_type",
            "signatory",
            "capacity",
            "authority",
            "place",
            "country_of_use",
            "document_sha256",
        ] {
            let value = match data.get(key) {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            push(key, value);
        }
    } else if let Some(number) = &answer.document_number {
        push("number", number.clone());
    }
    out
}

fn languages(current: Lang) -> Vec<minijinja::Value> {
    Lang::ALL
        .iter()
        .map(|lang| {
            context! {
                code => lang.code(),
                name => lang.native_name(),
                current => *lang == current,
            }
        })
        .collect()
}

fn page(lang: Lang, extra: minijinja::Value) -> Result<Html<String>, WebError> {
    render(
        "verify.html",
        context! {
            lang => lang.code(),
            t => i18n::table(lang),
            languages => languages(lang),
            max_text => MAX_TEXT_CHARS,
            ..extra
        },
    )
}

/// `GET /verify` (and the QR path): the empty form.
pub async fn show(
    query: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Html<String>, WebError> {
    let lang = Lang::parse(query.ok().and_then(|Query(q)| q.lang).as_deref());
    page(lang, context! {})
}

async fn read_submission(mut multipart: Multipart) -> Result<Submission, WebError> {
    let mut submission = Submission::default();
    let too_large = |field: &'static str| WebError::Field {
        field,
        message: "the file is too large".to_owned(),
    };
    let unreadable = |field: &'static str| WebError::Field {
        field,
        message: "the form could not be read".to_owned(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| unreadable("form"))?
    {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "lang" => {
                let text = field.text().await.map_err(|_| unreadable("lang"))?;
                submission.lang = Lang::parse(Some(&text));
            }
            "text" => {
                let text = field.text().await.map_err(|_| unreadable("text"))?;
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(WebError::Field {
                        field: "text",
                        message: format!("at most {MAX_TEXT_CHARS} characters"),
                    });
                }
                submission.text = text.trim().to_owned();
            }
            "image" | "document" => {
                let (label, limit) = if name == "image" {
                    ("image", MAX_IMAGE_BYTES)
                } else {
                    ("document", MAX_DOCUMENT_BYTES)
                };
                let mut field = field;
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable(label))? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(too_large(label));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    if name == "image" {
                        submission.image = Some(bytes);
                    } else {
                        submission.document = Some(bytes);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(submission)
}

/// The API request for a submission: an image wins over text; text with `#` (or a URL) is QR
/// text, other text is seal bytes in base64.
fn body_of(submission: &Submission) -> Option<VerifyBody> {
    let engine = base64::engine::general_purpose::STANDARD;
    let document = submission
        .document
        .as_ref()
        .map(|bytes| engine.encode(bytes));
    let mut body = VerifyBody {
        seal: None,
        barcode_image: None,
        qr: None,
        sod: None,
        data_groups: None,
        document,
    };
    if let Some(image) = &submission.image {
        body.barcode_image = Some(engine.encode(image));
    } else if submission.text.is_empty() {
        return None;
    } else if submission.text.contains('#') || submission.text.contains("://") {
        body.qr = Some(submission.text.clone());
    } else {
        let compact: String = submission.text.split_whitespace().collect();
        body.seal = Some(compact);
    }
    Some(body)
}

/// `POST /verify`: verifies and shows the verdict.
pub async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let submission = read_submission(multipart).await?;
    let lang = submission.lang;
    let Some(body) = body_of(&submission) else {
        let html = page(lang, context! { error => i18n::text(lang, "verify.empty") })?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let request = ApiJson {
        value: body,
        raw: bytes::Bytes::new(),
    };
    let answer = match crate::api::verify::verify(State(state), client, request).await {
        Ok(response) => read_answer(response).await,
        Err(error) => Err(error),
    };
    let answer = match answer {
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
    let mut reasons: Vec<String> = answer
        .reasons
        .iter()
        .map(|code| i18n::reason(lang, code))
        .collect();
    reasons.dedup();
    let proof = answer
        .ledger_proof
        .as_ref()
        .and_then(|proof| serde_json::to_string_pretty(proof).ok());
    let mrz = answer
        .data
        .get("mrz")
        .and_then(|value| value.as_array())
        .map(|lines| {
            lines
                .iter()
                .filter_map(|line| line.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        });
    let html = page(
        lang,
        context! {
            result => context! {
                verdict => verdict,
                title => i18n::text(lang, &format!("verdict.{verdict}")),
                text => i18n::text(lang, &format!("verdict.{verdict}.text")),
                reasons => reasons,
                codes => answer.reasons.clone(),
                checks => Serde(checks(&answer, lang)),
                fields => Serde(fields(&answer, lang)),
                mrz => mrz,
                proof => proof,
            },
        },
    )?;
    Ok(html.into_response())
}

async fn read_answer(response: Response) -> Result<VerifyResponse, ApiError> {
    let bytes = axum::body::to_bytes(response.into_body(), 8 * 1024 * 1024)
        .await
        .map_err(|_| ApiError::internal())?;
    serde_json::from_slice(&bytes).map_err(|_| ApiError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, reasons: &[&str], document_status: DocumentStatus) -> VerifyResponse {
        VerifyResponse {
            status: status.to_owned(),
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
            document_status,
            document_number: Some("T2600001".to_owned()),
            kind: Some("ttd".to_owned()),
            data: serde_json::json!({"mrz": [
                "PULKAPERERA<<NIMAL<KUMAR<<<<<<<<<<<<",
                "T2600001<6LKA8501012M2612310<<<<<<<4"
            ]}),
            ledger_proof: None,
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(&answer("VALID", &[], DocumentStatus::Valid)),
            "valid"
        );
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &["DOCUMENT_REVOKED"],
                DocumentStatus::Revoked
            )),
            "revoked"
        );
        assert_eq!(
            verdict(&answer("INVALID", &["DOCUMENT_USED"], DocumentStatus::Used)),
            "used"
        );
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &["DOCUMENT_EXPIRED"],
                DocumentStatus::Expired
            )),
            "expired"
        );
        // A forged seal of a revoked number is invalid, not merely revoked.
        assert_eq!(
            verdict(&answer(
                "INVALID",
                &["INVALID_SIGNATURE", "DOCUMENT_REVOKED"],
                DocumentStatus::Revoked
            )),
            "invalid"
        );
        assert_eq!(
            verdict(&answer("INVALID", &[], DocumentStatus::Unknown)),
            "invalid"
        );
    }

    #[test]
    fn checks_follow_the_reasons() {
        let revoked = checks(
            &answer("INVALID", &["DOCUMENT_REVOKED"], DocumentStatus::Revoked),
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
            &answer("INVALID", &["WRONG_FORMAT"], DocumentStatus::Unknown),
            Lang::Si,
        );
        assert_eq!(outcome(&unreadable, "read"), "failed");
        assert_eq!(outcome(&unreadable, "signature"), "skipped");
        let unknown = checks(
            &answer("INVALID", &["UNKNOWN_CERTIFICATE"], DocumentStatus::Valid),
            Lang::Ta,
        );
        assert_eq!(outcome(&unknown, "signer"), "failed");
        assert_eq!(outcome(&unknown, "signature"), "skipped");
    }

    #[test]
    fn holder_fields_from_the_td2_mrz() {
        let list = fields(&answer("VALID", &[], DocumentStatus::Valid), Lang::En);
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
        let qr = Submission {
            text: "https://verify.example.lk/v#3AP_".into(),
            ..Submission::default()
        };
        assert!(body_of(&qr).is_some_and(|b| b.qr.is_some() && b.seal.is_none()));
        let seal = Submission {
            text: "3AP/ AA==".into(),
            ..Submission::default()
        };
        assert_eq!(
            body_of(&seal).and_then(|b| b.seal).as_deref(),
            Some("3AP/AA==")
        );
        let image = Submission {
            text: "ignored".into(),
            image: Some(vec![1, 2]),
            ..Submission::default()
        };
        assert!(body_of(&image).is_some_and(|b| b.barcode_image.is_some() && b.seal.is_none()));
        assert!(body_of(&Submission::default()).is_none());
    }
}
