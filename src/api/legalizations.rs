//! Legalization certificates (consular).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::idempotent;
use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::issuance::input::LegalizationBody;
use crate::usecase::legalize::IssuedLegalization;

/// Issues a legalization certificate: number, document hash, signed seal and its QR text.
#[utoipa::path(post, operation_id = "create_legalization", path = "/v1/legalizations", request_body = LegalizationBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key: a repeat with the same key and request gets the first answer")),
    responses((status = 201, body = IssuedLegalization), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: IdempotencyHeader,
    body: ApiJson<LegalizationBody>,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::Legalize)?;
    let key = idempotency.bind("POST", "/v1/legalizations", &body.raw)?;
    let act = crate::usecase::legalize::legalize(
        state.service.issuing(),
        actor,
        &body.value,
        key.as_ref(),
    );
    idempotent(&state, actor, key.as_ref(), StatusCode::CREATED, act).await
}
