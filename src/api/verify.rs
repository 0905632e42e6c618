//! `POST /v1/verify`: public, rate-limited verification of any artifact.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ClientAddr};
use crate::issuance::documents::DocumentStatus;
use crate::verify::Artifact;

/// Exactly one of `seal`, `barcode_image`, `qr` or `sod` (+ `data_groups`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    /// `VALID` or `INVALID`.
    pub status: String,
    pub reasons: Vec<String>,
    pub document_status: DocumentStatus,
    pub document_number: Option<String>,
    /// `ttd`, `passport` or `legalization`.
    pub kind: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub ledger_proof: Option<serde_json::Value>,
}

const MAX_ARTIFACT_BYTES: usize = 4 * 1024 * 1024;

fn decode(field: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()))
        .map_err(|_| ApiError::invalid(field, "is not valid base64"))?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(ApiError::invalid(field, "is too large"));
    }
    Ok(bytes)
}

impl VerifyBody {
    fn artifact(&self) -> Result<(Artifact, Option<Vec<u8>>), ApiError> {
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
        let document = self
            .document
            .as_deref()
            .map(|text| decode("document", text))
            .transpose()?;
        let artifact = if let Some(seal) = &self.seal {
            Artifact::Seal(decode("seal", seal)?)
        } else if let Some(image) = &self.barcode_image {
            Artifact::BarcodeImage(decode("barcode_image", image)?)
        } else if let Some(qr) = &self.qr {
            if qr.is_empty() || qr.len() > 8192 {
                return Err(ApiError::invalid("qr", "must be 1 to 8192 characters"));
            }
            Artifact::Qr(qr.clone())
        } else {
            let sod = decode("sod", self.sod.as_deref().unwrap_or_default())?;
            let mut data_groups = BTreeMap::new();
            for (number, value) in self.data_groups.iter().flatten() {
                let field = format!("data_groups.{number}");
                let index: u8 = number
                    .parse()
                    .ok()
                    .filter(|n| (1..=16).contains(n))
                    .ok_or_else(|| ApiError::invalid(&field, "data group numbers are 1 to 16"))?;
                data_groups.insert(index, decode(&field, value)?);
            }
            if data_groups.is_empty() {
                return Err(ApiError::invalid("data_groups", "give at least DG1"));
            }
            Artifact::Sod { sod, data_groups }
        };
        Ok((artifact, document))
    }
}

/// Verifies a seal, barcode image, QR text or SOD with data groups; answers with the checks,
/// the document's status and a ledger inclusion proof.
#[utoipa::path(post, path = "/v1/verify", request_body = VerifyBody,
    responses((status = 200, body = VerifyResponse), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    client: ClientAddr,
    body: ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    if !state.verify_limiter.allow(client.0) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many verifications from this address; slow down",
        ));
    }
    let (artifact, document) = body.value.artifact()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let now = u64::try_from(now).unwrap_or_default();
    let verifier = state.verifier.clone();
    let result = if matches!(artifact, Artifact::BarcodeImage(_)) {
        tokio::task::spawn_blocking(move || verifier.verify(&artifact, document.as_deref(), now))
            .await
            .map_err(|_| ApiError::internal())?
    } else {
        verifier.verify(&artifact, document.as_deref(), now)
    };
    let mut reasons = result.reasons.clone();
    let (document_status, view) = match &result.number {
        Some(number) => state.service.document_status(number).await?,
        None => (DocumentStatus::Unknown, None),
    };
    // A seal whose number we issued must be of the kind we issued under that number.
    let mut ledger_proof = None;
    if let Some(view) = &view {
        if Some(view.kind.as_str()) != result.kind.as_deref() {
            reasons.push("SEAL_DOCUMENT_MISMATCH".to_owned());
        }
        if let Some(index) = view
            .ledger_index
            .and_then(|index| u64::try_from(index).ok())
        {
            ledger_proof = state.ledger.proof(index).await.ok();
        }
    }
    match document_status {
        DocumentStatus::Valid => {}
        DocumentStatus::Revoked => reasons.push("DOCUMENT_REVOKED".to_owned()),
        DocumentStatus::Used => reasons.push("DOCUMENT_USED".to_owned()),
        DocumentStatus::Expired => reasons.push("DOCUMENT_EXPIRED".to_owned()),
        DocumentStatus::Unknown => reasons.push("DOCUMENT_UNKNOWN".to_owned()),
    }
    let status = if reasons.is_empty() {
        "VALID"
    } else {
        "INVALID"
    };
    state.service.metrics().record_verification(status);
    Ok(axum::Json(VerifyResponse {
        status: status.to_owned(),
        reasons,
        document_status,
        document_number: result.number,
        kind: result.kind,
        data: result.data,
        ledger_proof,
    })
    .into_response())
}
