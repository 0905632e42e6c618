//! Passport applications: lodge (issuer), approve (approver, four-eyes), issue (issuer).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::idempotent;
use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::issuance::input::PassportApplicationBody;
use crate::issuance::numbering::Kind;
use crate::issuance::requests::RequestView;
use crate::usecase::personalize::IssuedPassport;

/// Lodges a passport application (stored as `requested`).
#[utoipa::path(post, operation_id = "create_passport_application", path = "/v1/passport-applications", request_body = PassportApplicationBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 201, body = RequestView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    body: ApiJson<PassportApplicationBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ApplyPassport)?;
    let key = idempotency.bind("POST", "/v1/passport-applications", &body.raw)?;
    let act = crate::usecase::request::apply_passport(
        state.service.issuing(),
        actor,
        &body.value,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::CREATED, act).await
}

/// A passport application.
#[utoipa::path(get, operation_id = "get_passport_application", path = "/v1/passport-applications/{id}", params(("id" = String, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RequestView>, ApiError> {
    let actor = caller.require(&state, Act::ReadRequest)?;
    Ok(axum::Json(
        crate::usecase::read::get_request(state.service.records(), actor, Kind::Passport, &id)
            .await?,
    ))
}

/// Approves an application (an approver who is not the requester).
#[utoipa::path(post, operation_id = "approve_passport_application", path = "/v1/passport-applications/{id}/approve", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ApprovePassport)?;
    let key = idempotency.bind(
        "POST",
        &format!("/v1/passport-applications/{id}/approve"),
        b"",
    )?;
    let act = crate::usecase::approve::approve(
        state.service.records(),
        actor,
        Kind::Passport,
        &id,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

/// Issues an approved passport: number, TD3 MRZ, chip personalization package (SOD signed in the HSM), data page.
#[utoipa::path(post, operation_id = "issue_passport", path = "/v1/passport-applications/{id}/issue", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 200, body = IssuedPassport), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::IssuePassport)?;
    let key = idempotency.bind(
        "POST",
        &format!("/v1/passport-applications/{id}/issue"),
        b"",
    )?;
    let act = crate::usecase::personalize::issue_passport(
        state.service.issuing(),
        actor,
        &id,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::OK, act).await
}

/// The requester corrects a returned application (the whole body again); it is checked again.
#[utoipa::path(put, operation_id = "correct_passport_application", path = "/v1/passport-applications/{id}", params(("id" = String, Path)),
    request_body = PassportApplicationBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn correct(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<PassportApplicationBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ApplyPassport)?;
    let view =
        crate::usecase::request::correct_passport(state.service.issuing(), actor, &id, &body.value)
            .await?;
    Ok(axum::response::IntoResponse::into_response(axum::Json(
        view,
    )))
}
