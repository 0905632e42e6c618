//! Temporary travel documents: request (mission), approve (approver), issue (mission or issuer).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::idempotent;
use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::issuance::input::TtdRequestBody;
use crate::issuance::numbering::Kind;
use crate::issuance::requests::RequestView;
use crate::usecase::issue_ttd::IssuedTtd;

/// A mission requests a TTD (stored as `requested`).
#[utoipa::path(post, operation_id = "create_ttd", path = "/v1/ttds", request_body = TtdRequestBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 201, body = RequestView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    body: ApiJson<TtdRequestBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::RequestTtd)?;
    let key = idempotency.bind("POST", "/v1/ttds", &body.raw)?;
    let act = crate::usecase::request::request_ttd(
        state.service.issuing(),
        actor,
        &body.value,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::CREATED, act).await
}

/// A TTD request (a mission sees only its own).
#[utoipa::path(get, operation_id = "get_ttd", path = "/v1/ttds/{id}", params(("id" = String, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RequestView>, ApiError> {
    let actor = caller.require(&state, Act::ReadRequest)?;
    Ok(axum::Json(
        crate::usecase::read::get_request(state.service.records(), actor, Kind::Ttd, &id).await?,
    ))
}

/// Approves a TTD request (an approver who is not the requester).
#[utoipa::path(post, operation_id = "approve_ttd", path = "/v1/ttds/{id}/approve", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ApproveTtd)?;
    let key = idempotency.bind("POST", &format!("/v1/ttds/{id}/approve"), b"")?;
    let act = crate::usecase::approve::approve(
        state.service.records(),
        actor,
        Kind::Ttd,
        &id,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

/// Issues an approved TTD: number, TD2 MRZ (`PU`), ETD seal signed in the HSM, ledger entry.
#[utoipa::path(post, operation_id = "issue_ttd", path = "/v1/ttds/{id}/issue", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 200, body = IssuedTtd), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::IssueTtd)?;
    let key = idempotency.bind("POST", &format!("/v1/ttds/{id}/issue"), b"")?;
    let act =
        crate::usecase::issue_ttd::issue_ttd(state.service.issuing(), actor, &id, key.as_ref());
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

/// The requester corrects a returned request (the whole body again); it is checked again and
/// goes back to `requested`, or `on_hold` on a hit.
#[utoipa::path(put, operation_id = "correct_ttd", path = "/v1/ttds/{id}", params(("id" = String, Path)),
    request_body = TtdRequestBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<TtdRequestBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::RequestTtd)?;
    let view =
        crate::usecase::request::correct_ttd(state.service.issuing(), actor, &id, &body.value)
            .await?;
    Ok(axum::response::IntoResponse::into_response(axum::Json(
        view,
    )))
}
