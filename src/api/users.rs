//! `/v1/users` (admins): accounts, API tokens, grants and locks, through
//! `usecase::accounts` (the same acts as `travdoc user` and the console's users page).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Act, MissionCode, Role};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Caller};
use crate::usecase::accounts::{self, AccountView, NewAccount, NewToken, Party, TokenView};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub role: Role,
    /// Required for the `mission` role, refused for the others.
    pub mission: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for (at most 64 characters).
    #[serde(default)]
    pub label: Option<String>,
    /// Days until it expires: 1 to 366 (default 90).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<u32>)]
    pub expires_days: Option<u32>,
}

/// A whole number written either way JSON allows (`186` or `186.0`: JSON Schema counts both as
/// an integer); a fraction, a negative or a number past `u32` is refused with the field named.
fn whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = match number.as_u64() {
        Some(value) => Some(value),
        None => number
            .as_f64()
            .filter(|value| value.fract() == 0.0 && *value >= 0.0 && *value <= f64::from(u32::MAX))
            .map(|value| value as u64),
    };
    whole
        .and_then(|value| u32::try_from(value).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("expected a whole number of days, found {number}")))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub role: Role,
    /// Required for the `mission` role, refused for the others.
    pub mission: Option<String>,
}

fn admin(state: &AppState, caller: &Caller) -> Result<Party, ApiError> {
    Ok(Party::Admin(
        caller.require(state, Act::ManageUsers)?.clone(),
    ))
}

fn mission(code: Option<String>) -> Result<Option<MissionCode>, ApiError> {
    code.map(MissionCode::try_from)
        .transpose()
        .map_err(ApiError::from)
}

/// Adds an account (admin). Approver and admin accounts can act once a second admin confirms.
/// The answer holds the one-time enrolment code (24 hours) with which the person sets a
/// password and a second factor; it is not stored and not shown again.
#[utoipa::path(post, operation_id = "create_user", path = "/v1/users", request_body = CreateUser,
    responses((status = 201, body = NewAccount),
              (status = 409, body = ErrorBody, description = "A user of that name exists.")),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    let party = admin(&state, &caller)?;
    let body = body.value;
    let created = accounts::add_user(
        state.service.db(),
        &party,
        &body.name,
        body.role,
        mission(body.mission)?,
        state.now(),
    )
    .await?;
    tracing::info!(user = %created.account.name, role = %created.account.role, by = %party.reference(), "user created");
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Every account (admin).
#[utoipa::path(get, operation_id = "list_users", path = "/v1/users",
    responses((status = 200, body = Vec<AccountView>)), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<AccountView>>, ApiError> {
    admin(&state, &caller)?;
    Ok(axum::Json(accounts::list(state.service.db()).await?))
}

/// One account (admin).
#[utoipa::path(get, operation_id = "get_user", path = "/v1/users/{name}", params(("name" = String, Path)),
    responses((status = 200, body = AccountView)), security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::account(state.service.db(), &name).await?,
    ))
}

/// Creates an API token for the account (admin); the token is in the answer only.
#[utoipa::path(post, operation_id = "create_token", path = "/v1/users/{name}/tokens",
    params(("name" = String, Path)), request_body = CreateToken,
    responses((status = 201, body = NewToken)), security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    let party = admin(&state, &caller)?;
    let body = body.value;
    let token = accounts::issue_token(
        state.service.db(),
        &party,
        &name,
        body.label.as_deref().unwrap_or(""),
        body.expires_days.unwrap_or(90),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(token)).into_response())
}

/// The account's API tokens, without their secrets (admin).
#[utoipa::path(get, operation_id = "list_tokens", path = "/v1/users/{name}/tokens",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<TokenView>)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::tokens(state.service.db(), &name).await?,
    ))
}

/// Revokes an API token (admin): it fails with 401 on its next use.
#[utoipa::path(post, operation_id = "revoke_token", path = "/v1/tokens/{id}/revoke",
    params(("id" = String, Path)),
    responses((status = 204, description = "Revoked.")), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let party = admin(&state, &caller)?;
    accounts::revoke_token(state.service.db(), &party, &id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables the account (admin): its sessions and tokens fail with 401 on their next request.
#[utoipa::path(post, operation_id = "disable_user", path = "/v1/users/{name}/disable",
    params(("name" = String, Path)),
    responses((status = 200, body = AccountView),
              (status = 409, body = ErrorBody, description = "It is the last enabled admin.")),
    security(("bearer" = [])))]
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let party = admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::disable(state.service.db(), &party, &name, state.now()).await?,
    ))
}

/// Enables the account (admin); an approver or admin account once a second admin confirms.
#[utoipa::path(post, operation_id = "enable_user", path = "/v1/users/{name}/enable",
    params(("name" = String, Path)),
    responses((status = 200, body = AccountView)), security(("bearer" = [])))]
pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let party = admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::enable(state.service.db(), &party, &name, state.now()).await?,
    ))
}

/// Changes the account's role (admin); to approver or admin once a second admin confirms.
#[utoipa::path(post, operation_id = "set_role", path = "/v1/users/{name}/role",
    params(("name" = String, Path)), request_body = SetRole,
    responses((status = 200, body = AccountView),
              (status = 409, body = ErrorBody, description = "It is the last enabled admin.")),
    security(("bearer" = [])))]
pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: ApiJson<SetRole>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let party = admin(&state, &caller)?;
    let body = body.value;
    Ok(axum::Json(
        accounts::set_role(
            state.service.db(),
            &party,
            &name,
            body.role,
            mission(body.mission)?,
            state.now(),
        )
        .await?,
    ))
}

/// Confirms the account's pending grant (an admin other than the one who asked and the
/// grantee).
#[utoipa::path(post, operation_id = "confirm_grant", path = "/v1/users/{name}/confirm",
    params(("name" = String, Path)),
    responses((status = 200, body = AccountView),
              (status = 409, body = ErrorBody, description = "No grant is pending.")),
    security(("bearer" = [])))]
pub async fn confirm_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let party = admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::confirm(state.service.db(), &party, &name, state.now()).await?,
    ))
}

/// Clears the account's password and second factor, ends its sessions, and answers a new
/// one-time enrolment code (admin).
#[utoipa::path(post, operation_id = "reset_user", path = "/v1/users/{name}/reset",
    params(("name" = String, Path)),
    responses((status = 200, body = NewAccount)), security(("bearer" = [])))]
pub async fn reset_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<NewAccount>, ApiError> {
    let party = admin(&state, &caller)?;
    Ok(axum::Json(
        accounts::reset(state.service.db(), &party, &name, state.now()).await?,
    ))
}

/// Lifts the account's sign-in lock (admin).
#[utoipa::path(post, operation_id = "unlock_user", path = "/v1/users/{name}/unlock",
    params(("name" = String, Path)),
    responses((status = 204, description = "Unlocked.")), security(("bearer" = [])))]
pub async fn unlock_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let party = admin(&state, &caller)?;
    accounts::unlock(state.service.db(), &party, &name, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
