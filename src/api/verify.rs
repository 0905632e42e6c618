//! `POST /v1/verify`: public, rate-limited verification of any artifact. The handler turns the
//! JSON body into the use case's [`VerifyInput`] and returns its outcome as JSON.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiJson;
use crate::usecase::verify::{
    Artifact, InputError, Presented, RecordStatus, VerifyInput, decode_base64,
};

/// Exactly one of `seal`, `barcode_image`, `qr` or `sod` (+ `data_groups`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// Seal bytes, base64.
    pub seal: Option<String>,
    /// PNG or JPEG photo/scan of the barcode, base64.
    pub barcode_image: Option<String>,
    /// QR text (legalization).
    pub qr: Option<String>,
    /// EF.SOD, base64.
    pub sod: Option<String>,
    /// Data groups by number (`"1"`, `"2"`, …), base64.
    pub data_groups: Option<BTreeMap<String, String>>,
    /// The legalized document, base64 (its hash is compared with the certificate's).
    pub document: Option<String>,
    /// The two MRZ lines printed on a TTD (compared with the seal's MRZ).
    pub printed_mrz: Option<Vec<String>>,
}

/// The answer (the JSON of the verification use case's outcome).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct VerifyResponse {
    /// `VALID` or `INVALID`.
    pub status: String,
    /// Reason codes (`docs/verification.md`).
    pub reasons: Vec<String>,
    /// The reasons with their trust level (`informational`, `medium`, `high`) and a message.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<serde_json::Value>,
    /// `not_checked` unless the artifact was proven genuine.
    pub document_status: RecordStatus,
    pub document_number: Option<String>,
    /// `ttd`, `passport` or `legalization`.
    pub kind: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub ledger_proof: Option<serde_json::Value>,
}

fn invalid(error: InputError) -> ApiError {
    ApiError::invalid(&error.field, &error.message)
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    decode_base64(field, text).map_err(invalid)
}

impl VerifyBody {
    /// The use case's input: one artifact, and what was presented with it.
    pub fn input(&self) -> Result<VerifyInput, ApiError> {
        let given = [
            self.seal.is_some(),
            self.barcode_image.is_some(),
            self.qr.is_some(),
            self.sod.is_some(),
        ]
        .iter()
        .filter(|given| **given)
        .count();
        if given != 1 {
            return Err(ApiError::invalid(
                "seal",
                "give exactly one of seal, barcode_image, qr or sod",
            ));
        }
        if self.data_groups.is_some() && self.sod.is_none() {
            return Err(ApiError::invalid("data_groups", "only with sod"));
        }
        let presented = match (&self.document, &self.printed_mrz) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "printed_mrz",
                    "give document (legalization) or printed_mrz (TTD), not both",
                ));
            }
            (Some(document), None) => Presented::Document(decode("document", document)?),
            (None, Some(lines)) => match lines.as_slice() {
                [first, second] => Presented::PrintedMrz([first.clone(), second.clone()]),
                _ => return Err(ApiError::invalid("printed_mrz", "give the two MRZ lines")),
            },
            (None, None) => Presented::Nothing,
        };
        let artifact = if let Some(seal) = &self.seal {
            Artifact::Seal(decode("seal", seal)?)
        } else if let Some(image) = &self.barcode_image {
            Artifact::BarcodeImage(decode("barcode_image", image)?)
        } else if let Some(qr) = &self.qr {
            Artifact::Qr(qr.clone())
        } else {
            let sod = decode("sod", self.sod.as_deref().unwrap_or_default())?;
            let mut data_groups = BTreeMap::new();
            for (number, value) in self.data_groups.iter().flatten() {
                let field = format!("data_groups.{number}");
                // Only the plain numbers ("1" to "16"): "01" or "+1" would name DG1 twice.
                let index: u8 = number
                    .parse()
                    .ok()
                    .filter(|n: &u8| (1..=16).contains(n) && n.to_string() == *number)
                    .ok_or_else(|| ApiError::invalid(&field, "data group numbers are 1 to 16"))?;
                data_groups.insert(index, decode(&field, value)?);
            }
            Artifact::Sod { sod, data_groups }
        };
        VerifyInput::new(artifact, presented).map_err(invalid)
    }
}

/// Verifies a seal, barcode image, QR text or SOD with data groups; answers with the checks
/// and, for a genuine artifact, the document's status and a ledger inclusion proof.
#[utoipa::path(post, path = "/v1/verify", request_body = VerifyBody,
    responses((status = 200, body = VerifyResponse), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    body: ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let input = body.value.input()?;
    let outcome = crate::http::verify_public(&state, input).await?;
    Ok(axum::Json(outcome).into_response())
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use crate::usecase::verify::{Artifact, Presented, Verifier, VerifyInput};

    /// The documented answer (`VerifyResponse` in the OpenAPI document) names exactly the
    /// fields the use case's outcome serialises, so the two cannot drift apart.
    #[test]
    fn the_documented_answer_is_the_outcome() {
        let verifier = Verifier::new(travdoc_pkix::TrustStore::new(), Vec::new());
        let input = VerifyInput::new(Artifact::Seal(vec![0xDC, 0x03]), Presented::Nothing)
            .unwrap_or_else(|error| panic!("{error}"));
        let outcome = serde_json::to_value(verifier.check(&input, 0)).unwrap_or_default();
        let mut answered: Vec<String> = outcome
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        answered.sort();
        let document = serde_json::to_value(crate::api::ApiDoc::openapi()).unwrap_or_default();
        let mut documented: Vec<String> =
            document["components"]["schemas"]["VerifyResponse"]["properties"]
                .as_object()
                .map(|object| object.keys().cloned().collect())
                .unwrap_or_default();
        documented.sort();
        assert!(!answered.is_empty());
        assert_eq!(answered, documented);
    }

    #[test]
    fn seal_text_may_be_standard_or_url_safe_base64_with_line_breaks() {
        let body = super::VerifyBody {
            seal: Some("3AP/\nAA==".to_owned()),
            ..Default::default()
        };
        let input = body
            .input()
            .unwrap_or_else(|error| panic!("{}", error.message));
        assert!(
            matches!(input.artifact(), Artifact::Seal(bytes) if bytes == &[0xDC, 0x03, 0xFF, 0x00])
        );
        let body = super::VerifyBody {
            seal: Some("not base64!".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            body.input().err().map(|error| error.field),
            Some(Some("seal".to_owned()))
        );
    }
}
