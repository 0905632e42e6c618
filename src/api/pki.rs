//! Public PKI publication for foreign authorities: every certificate ever issued with its
//! state, each certificate and CRL by its number, the current CSCA, CRL, signers and master
//! list. Served from the snapshot of the PKI's state in force (rebuilt on every change), each
//! with an entity tag: `If-None-Match` answers 304.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::usecase::publication::{Artifact, CertificateEntry, CrlEntry, serial_key};

/// How long a client may keep an answer that can change (the lists, the current CRL) before
/// asking again (with its entity tag).
const CHANGING: &str = "public, max-age=60";
/// Answers that never change (a certificate or a CRL by its number).
const IMMUTABLE: &str = "public, max-age=86400, immutable";

/// `artifact` with its entity tag, or 304 when the client holds it already.
fn published(
    headers: &HeaderMap,
    artifact: &Artifact,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let etag = HeaderValue::from_str(&artifact.etag).ok();
    let held = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == artifact.etag);
    let mut response = if held {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type)],
            artifact.bytes.clone(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    if let Some(etag) = etag {
        response_headers.insert(header::ETAG, etag);
    }
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The CSCA certificate (DER; the current generation).
#[utoipa::path(get, operation_id = "pki_csca", path = "/v1/pki/csca",
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-cert"),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 503, body = ErrorBody)))]
pub async fn csca(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let snapshot = state.publication.published();
    let csca = snapshot
        .csca
        .as_ref()
        .ok_or_else(|| not_published("CSCA"))?;
    Ok(published(&headers, csca, "application/pkix-cert", CHANGING))
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SignerCertificate {
    /// `passport`, `ttd`, `legalization`, `master-list`, `ledger`.
    pub purpose: String,
    /// DER, base64.
    pub certificate: String,
}

/// The current signer certificates by purpose.
#[utoipa::path(get, operation_id = "pki_signers", path = "/v1/pki/signers", responses((status = 200, body = Vec<SignerCertificate>)))]
pub async fn signers(State(state): State<AppState>) -> axum::Json<Vec<SignerCertificate>> {
    axum::Json(
        state
            .publication
            .published()
            .signers
            .iter()
            .map(|(purpose, der)| SignerCertificate {
                purpose: purpose.clone(),
                certificate: base64::engine::general_purpose::STANDARD.encode(der),
            })
            .collect(),
    )
}

/// Every certificate this PKI ever issued (CSCAs, link certificates, signers), with its role,
/// validity, private-key usage period, state and revocation.
#[utoipa::path(get, operation_id = "pki_certificates", path = "/v1/pki/certificates",
    responses((status = 200, body = Vec<CertificateEntry>),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 503, body = ErrorBody)))]
pub async fn certificates(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.publication.published();
    let list = snapshot
        .certificates
        .as_ref()
        .ok_or_else(|| not_published("certificate list"))?;
    Ok(published(&headers, list, "application/json", CHANGING))
}

/// One certificate by serial number (hex), DER.
#[utoipa::path(get, operation_id = "pki_certificate", path = "/v1/pki/certificates/{serial}",
    params(("serial" = String, Path, description = "serial number, hex (as in the list)")),
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-cert"),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn certificate(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Serials we issue are at most 20 octets (RFC 5280).
    if serial.is_empty() || serial.len() > 40 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid("serial", "1 to 40 hexadecimal digits"));
    }
    let snapshot = state.publication.published();
    let der = snapshot
        .by_serial
        .get(&serial_key(&serial))
        .ok_or_else(|| ApiError::not_found(format!("no certificate with serial {serial}")))?;
    Ok(published(&headers, der, "application/pkix-cert", IMMUTABLE))
}

/// The current CSCA's current CRL (DER).
#[utoipa::path(get, operation_id = "pki_crl", path = "/v1/pki/crl",
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-crl"),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 503, body = ErrorBody)))]
pub async fn crl(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let snapshot = state.publication.published();
    let crl = snapshot.crl.as_ref().ok_or_else(|| not_published("CRL"))?;
    Ok(published(&headers, crl, "application/pkix-crl", CHANGING))
}

/// Every CRL ever issued: number, issuing CSCA generation, thisUpdate, nextUpdate, and whether
/// it is the one in force for its CSCA.
#[utoipa::path(get, operation_id = "pki_crls", path = "/v1/pki/crls",
    responses((status = 200, body = Vec<CrlEntry>),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 503, body = ErrorBody)))]
pub async fn crls(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let snapshot = state.publication.published();
    let list = snapshot
        .crl_list
        .as_ref()
        .ok_or_else(|| not_published("CRL list"))?;
    Ok(published(&headers, list, "application/json", CHANGING))
}

/// Any CRL ever issued, by its cRLNumber (DER).
#[utoipa::path(get, operation_id = "pki_crl_numbered", path = "/v1/pki/crls/{number}",
    params(("number" = u64, Path, description = "the CRL's cRLNumber")),
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-crl"),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn crl_numbered(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let number: u64 = number
        .parse()
        .map_err(|_| ApiError::invalid("number", "a CRL number: a whole number"))?;
    let snapshot = state.publication.published();
    let crl = snapshot
        .crls
        .get(&number)
        .ok_or_else(|| ApiError::not_found(format!("no CRL number {number}")))?;
    Ok(published(&headers, crl, "application/pkix-crl", IMMUTABLE))
}

/// The CSCA master list (CMS, DER).
#[utoipa::path(get, operation_id = "pki_masterlist", path = "/v1/pki/masterlist",
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 304, description = "the client's copy (If-None-Match) is current"),
        (status = 503, body = ErrorBody)))]
pub async fn masterlist(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.publication.published();
    let list = snapshot
        .master_list
        .as_ref()
        .ok_or_else(|| not_published("master list"))?;
    Ok(published(
        &headers,
        list,
        "application/octet-stream",
        CHANGING,
    ))
}

fn not_published(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_configured",
        format!("no {what} is published by this service"),
    )
}
