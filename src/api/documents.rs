//! Issued documents: read, list, PDF, print, revoke, clear on arrival.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::idempotent;
use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::issuance::documents::{DocumentFilter, DocumentView, PrintJobView, RevocationReason};

/// A document (a mission sees only its own).
#[utoipa::path(get, operation_id = "get_document", path = "/v1/documents/{number}", params(("number" = String, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<axum::Json<DocumentView>, ApiError> {
    let actor = caller.require(&state, Act::ReadDocument)?;
    Ok(axum::Json(
        crate::usecase::read::get_document(state.service.records(), actor, &number).await?,
    ))
}

/// Lists documents by state, type and mission (a mission sees only its own).
#[utoipa::path(get, operation_id = "list_documents", path = "/v1/documents", params(DocumentFilter),
    responses((status = 200, body = Vec<DocumentView>), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DocumentFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<DocumentView>>, ApiError> {
    let actor = caller.require(&state, Act::ListDocuments)?;
    let Query(filter) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    Ok(axum::Json(
        crate::usecase::read::list_documents(state.service.records(), actor, &filter).await?,
    ))
}

/// The document's PDF (TTD sheet, passport data page, legalization certificate).
#[utoipa::path(get, operation_id = "document_pdf", path = "/v1/documents/{number}/pdf", params(("number" = String, Path)),
    responses((status = 200, body = Vec<u8>, content_type = "application/pdf"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ReadDocument)?;
    let pdf = crate::usecase::read::document_pdf(state.service.printing(), actor, &number).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintBody {
    /// A configured printer name.
    pub printer: String,
    /// Required to print an already printed document again; the replaced blank is spoiled.
    #[serde(default)]
    pub reprint_reason: Option<String>,
}

/// Renders the document and sends it to a printer; records the job.
#[utoipa::path(post, operation_id = "print_document", path = "/v1/documents/{number}/print", params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")), request_body = PrintBody,
    responses((status = 200, body = PrintJobView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The document is not valid (revoked, used, expired), or a reprint reason is missing (printed before) or given too early (never printed)."),
        (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn print(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(number): Path<String>,
    body: ApiJson<PrintBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::Print)?;
    let key = idempotency.bind("POST", &format!("/v1/documents/{number}/print"), &body.raw)?;
    let act = crate::usecase::print::print_document(
        state.service.printing(),
        actor,
        &number,
        &body.value.printer,
        body.value.reprint_reason.as_deref(),
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: RevocationReason,
}

/// Revokes a document (lost, stolen, cancelled, damaged).
#[utoipa::path(post, operation_id = "revoke_document", path = "/v1/documents/{number}/revoke", params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")), request_body = RevokeBody,
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(number): Path<String>,
    body: ApiJson<RevokeBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::Revoke)?;
    let key = idempotency.bind("POST", &format!("/v1/documents/{number}/revoke"), &body.raw)?;
    let act = crate::usecase::revoke::revoke(
        state.service.records(),
        actor,
        &number,
        body.value.reason,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

/// Immigration marks a single-journey TTD used on arrival.
#[utoipa::path(post, operation_id = "clear_arrival", path = "/v1/documents/{number}/clear-arrival", params(("number" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn clear_arrival(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ClearArrival)?;
    let key = idempotency.bind(
        "POST",
        &format!("/v1/documents/{number}/clear-arrival"),
        b"",
    )?;
    let act = crate::usecase::clear_arrival::clear_arrival(
        state.service.records(),
        actor,
        &number,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}
