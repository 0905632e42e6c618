//! `POST /v1/users` (admin): creates a user and returns its token once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{self, Act, MissionCode, NewUser, Role};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, Caller};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub role: Role,
    /// Required for the `mission` role, refused for the others.
    pub mission: Option<String>,
}

/// Creates a user (admin only); the token in the answer is not stored and not shown again.
#[utoipa::path(post, path = "/v1/users", request_body = CreateUser,
    responses((status = 201, body = NewUser), (status = 401, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody),
              (status = 409, body = super::error::ErrorBody, description = "A user of that name exists."),
              (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    caller.require(&state, Act::ManageUsers)?;
    let body = body.value;
    let mission = body
        .mission
        .map(MissionCode::try_from)
        .transpose()
        .map_err(ApiError::from)?;
    let now = crate::issuance::rfc3339(time::OffsetDateTime::now_utc());
    let user = auth::add_user(
        state.service.db(),
        &body.name,
        body.role,
        mission,
        &now,
        &caller.0.id,
    )
    .await?;
    tracing::info!(user = %user.name, role = %user.role, by = %caller.0.name, "user created");
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}
