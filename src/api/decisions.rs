//! An approver's decisions besides approval, on TTD requests and passport applications:
//! clear one hit of a held request, return it to the requester, reject it
//! (`usecase::decide`, as the console's request page).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Act, Actor};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller};
use crate::issuance::numbering::Kind;
use crate::issuance::requests::RequestView;
use crate::usecase::decide;

/// `clear-hold` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearHold {
    /// The hit's code, e.g. `NIC_MISMATCH`.
    pub code: String,
    /// Why the hit does not stop the request (at most 500 characters).
    pub reason: String,
}

/// `return` and `reject` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (at most 500 characters): the requester reads it.
    pub reason: String,
}

fn approver<'a>(state: &AppState, caller: &'a Caller, kind: Kind) -> Result<&'a Actor, ApiError> {
    let act = match kind {
        Kind::Ttd => Act::ApproveTtd,
        _ => Act::ApprovePassport,
    };
    caller.require(state, act)
}

async fn clear(
    state: AppState,
    caller: Caller,
    kind: Kind,
    id: String,
    body: ClearHold,
) -> Result<Response, ApiError> {
    let actor = approver(&state, &caller, kind)?;
    let view = decide::clear_hold(
        state.service.records(),
        actor,
        kind,
        &id,
        &body.code,
        &body.reason,
    )
    .await?;
    Ok(axum::Json(view).into_response())
}

async fn send_back(
    state: AppState,
    caller: Caller,
    kind: Kind,
    id: String,
    body: Decision,
) -> Result<Response, ApiError> {
    let actor = approver(&state, &caller, kind)?;
    let view =
        decide::return_request(state.service.records(), actor, kind, &id, &body.reason).await?;
    Ok(axum::Json(view).into_response())
}

async fn refuse(
    state: AppState,
    caller: Caller,
    kind: Kind,
    id: String,
    body: Decision,
) -> Result<Response, ApiError> {
    let actor = approver(&state, &caller, kind)?;
    let view = decide::reject(state.service.records(), actor, kind, &id, &body.reason).await?;
    Ok(axum::Json(view).into_response())
}

/// Clears one hit of a held TTD request, with a reason (an approver who is not the
/// requester); with no hit left the request is `requested` again.
#[utoipa::path(post, operation_id = "clear_ttd_hold", path = "/v1/ttds/{id}/clear-hold", params(("id" = String, Path)),
    request_body = ClearHold,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ttd_clear_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<ClearHold>,
) -> Result<Response, ApiError> {
    clear(state, caller, Kind::Ttd, id, body.value).await
}

/// Sends a TTD request back to its requester for correction.
#[utoipa::path(post, operation_id = "return_ttd", path = "/v1/ttds/{id}/return", params(("id" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ttd_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<Decision>,
) -> Result<Response, ApiError> {
    send_back(state, caller, Kind::Ttd, id, body.value).await
}

/// Rejects a TTD request (final).
#[utoipa::path(post, operation_id = "reject_ttd", path = "/v1/ttds/{id}/reject", params(("id" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ttd_reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<Decision>,
) -> Result<Response, ApiError> {
    refuse(state, caller, Kind::Ttd, id, body.value).await
}

/// Clears one hit of a held passport application, with a reason.
#[utoipa::path(post, operation_id = "clear_passport_hold", path = "/v1/passport-applications/{id}/clear-hold", params(("id" = String, Path)),
    request_body = ClearHold,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn passport_clear_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<ClearHold>,
) -> Result<Response, ApiError> {
    clear(state, caller, Kind::Passport, id, body.value).await
}

/// Sends a passport application back to its requester for correction.
#[utoipa::path(post, operation_id = "return_passport_application", path = "/v1/passport-applications/{id}/return", params(("id" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn passport_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<Decision>,
) -> Result<Response, ApiError> {
    send_back(state, caller, Kind::Passport, id, body.value).await
}

/// Rejects a passport application (final).
#[utoipa::path(post, operation_id = "reject_passport_application", path = "/v1/passport-applications/{id}/reject", params(("id" = String, Path)),
    request_body = Decision,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn passport_reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: ApiJson<Decision>,
) -> Result<Response, ApiError> {
    refuse(state, caller, Kind::Passport, id, body.value).await
}
