//! Public PKI publication: CSCA, signer certificates, CRL, master list.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};

fn der_response(der: Vec<u8>, content_type: &'static str) -> Response {
    ([(axum::http::header::CONTENT_TYPE, content_type)], der).into_response()
}

/// The CSCA certificate (DER; the newest when there are several).
#[utoipa::path(get, path = "/v1/pki/csca",
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-cert"), (status = 503, body = ErrorBody)))]
pub async fn csca(State(state): State<AppState>) -> Result<Response, ApiError> {
    let cscas = state.publication.csca();
    let Some(latest) = cscas.last().cloned() else {
        return Err(not_published("CSCA"));
    };
    Ok(der_response(latest, "application/pkix-cert"))
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SignerCertificate {
    /// `passport`, `ttd`, `legalization`, `master-list`, `ledger`.
    pub purpose: String,
    /// DER, base64.
    pub certificate: String,
}

/// The signer certificates by purpose.
#[utoipa::path(get, path = "/v1/pki/signers", responses((status = 200, body = Vec<SignerCertificate>)))]
pub async fn signers(State(state): State<AppState>) -> axum::Json<Vec<SignerCertificate>> {
    axum::Json(
        state
            .publication
            .signers()
            .into_iter()
            .map(|(purpose, der)| SignerCertificate {
                purpose,
                certificate: base64::engine::general_purpose::STANDARD.encode(der),
            })
            .collect(),
    )
}

/// The CSCA's current CRL (DER).
#[utoipa::path(get, path = "/v1/pki/crl",
    responses((status = 200, body = Vec<u8>, content_type = "application/pkix-crl"), (status = 503, body = ErrorBody)))]
pub async fn crl(State(state): State<AppState>) -> Result<Response, ApiError> {
    let crl = state
        .publication
        .crl()
        .ok_or_else(|| not_published("CRL"))?;
    Ok(der_response(crl, "application/pkix-crl"))
}

/// The CSCA master list (CMS, DER).
#[utoipa::path(get, path = "/v1/pki/masterlist",
    responses((status = 200, body = Vec<u8>, content_type = "application/octet-stream"), (status = 503, body = ErrorBody)))]
pub async fn masterlist(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = state
        .publication
        .master_list()
        .ok_or_else(|| not_published("master list"))?;
    Ok(der_response(list, "application/octet-stream"))
}

fn not_published(what: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "not_configured",
        format!("no {what} is published by this service"),
    )
}
