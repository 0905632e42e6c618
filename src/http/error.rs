//! The one place where errors become HTTP: status, a stable code, a message a person can act
//! on, the field when there is one, and the request id. Never internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::db::DbFault;
use crate::issuance::IssuanceError;

tokio::task_local! {
    /// The request id of the request being served (set by the request-id middleware).
    pub static REQUEST_ID: String;
}

/// The request id of the current request, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u32>,
}

/// `{"error": {...}}`.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (e.g. `invalid_field`, `hsm_unavailable`).
    pub code: String,
    pub message: String,
    /// The offending field, when the error is about one.
    pub field: Option<String>,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; quote the request id to the operators",
        )
    }
}

fn database_error(fault: &DbFault) -> ApiError {
    match fault {
        // The pool or the connection failed, or PostgreSQL is shutting down or restarting
        // (class 57), lost the connection (08) or ran out of resources (53): the statement
        // did not run.
        DbFault::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable; nothing was stored, retry later",
        ),
        DbFault::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a concurrent request changed the same record; retry",
        ),
        DbFault::RolledBack(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database rolled the transaction back (conflict); nothing was stored, retry",
        ),
        DbFault::Busy(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is busy; nothing was stored, retry later",
        ),
        other @ (DbFault::Raised { .. } | DbFault::Other(_)) => {
            tracing::error!(error = %other, "database error");
            ApiError::internal()
        }
    }
}

impl From<IssuanceError> for ApiError {
    fn from(error: IssuanceError) -> Self {
        use IssuanceError as E;
        match error {
            E::InvalidField { field, message } => ApiError::invalid(field, message),
            E::NotFound { what, id } => ApiError::not_found(format!("{what} `{id}` not found")),
            E::WrongState { .. } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", error.to_string())
            }
            E::StateRequires { field, .. } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", error.to_string())
                    .with_field(field)
            }
            E::FourEyes => ApiError::new(StatusCode::FORBIDDEN, "four_eyes", error.to_string()),
            E::NotRequester => {
                ApiError::new(StatusCode::FORBIDDEN, "not_requester", error.to_string())
            }
            E::MissionMismatch { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "mission_mismatch", error.to_string())
                    .with_field("mission")
            }
            // 409, not the 422 of the IETF idempotency-key draft: the request itself is well
            // formed; it conflicts with what the server holds under the key (RFC 9110 §15.5.10).
            E::IdempotencyConflict(_) => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                error.to_string(),
            )
            .with_field("Idempotency-Key"),
            E::HsmUnavailable(detail) => {
                tracing::warn!(%detail, "HSM unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "hsm_unavailable",
                    "the HSM is unavailable; nothing was issued, retry later",
                )
            }
            E::NotConfigured(what) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                format!("this service has no {what} configured"),
            ),
            E::NoValidSigner(what) => {
                tracing::error!(signer = what, "no valid signer: issuance refused");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_valid_signer",
                    format!(
                        "no valid {what} signer (revoked, retired or past its key-usage period); \
                         nothing was issued or numbered; the PKI operators must issue a new one"
                    ),
                )
            }
            E::SeriesExhausted(series) => {
                tracing::error!(%series, "number series exhausted");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "series_exhausted",
                    "the document number series is exhausted; contact the operators",
                )
            }
            E::Printer(message) => ApiError::new(StatusCode::BAD_GATEWAY, "printer_error", message),
            E::Busy(message) => ApiError {
                retry_after: Some(1),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
            },
            E::Database(error) => database_error(&error),
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::UnknownRole(_) => ApiError::invalid("role", error.to_string()),
            AuthError::InvalidMission(_)
            | AuthError::MissionRequired
            | AuthError::MissionNotAllowed => ApiError::invalid("mission", error.to_string()),
            AuthError::InvalidName(_) => ApiError::invalid("name", error.to_string()),
            AuthError::DuplicateName(_) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate", error.to_string())
                    .with_field("name")
            }
            AuthError::UnknownUser(_) | AuthError::UnknownToken(_) => {
                ApiError::not_found(error.to_string())
            }
            AuthError::TokenLife(_) => ApiError::invalid("expires_days", error.to_string()),
            AuthError::TokenLabel => ApiError::invalid("label", error.to_string()),
            AuthError::Language(_) => ApiError::invalid("language", error.to_string()),
            AuthError::WeakPassword(_) => ApiError::invalid("password", error.to_string()),
            AuthError::LastAdmin | AuthError::NoPendingGrant(_) | AuthError::SameRole(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", error.to_string())
            }
            AuthError::OwnGrant | AuthError::NotAnAdmin | AuthError::HostMayNotConfirm => {
                ApiError::new(StatusCode::FORBIDDEN, "four_eyes", error.to_string())
            }
            AuthError::EnrolmentInvalid
            | AuthError::BadCode
            | AuthError::BadCredentials
            | AuthError::SignInExpired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", error.to_string())
            }
            AuthError::Passkey(_) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "passkey_refused",
                error.to_string(),
            ),
            AuthError::PasskeyConfig(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "passkeys_off", error.to_string())
            }
            AuthError::Busy(_) => {
                let mut busy =
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string());
                busy.retry_after = Some(60);
                busy
            }
            AuthError::Locked(_) => {
                let mut locked =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked", error.to_string());
                locked.retry_after = Some(60);
                locked
            }
            AuthError::Database(error) => database_error(&error),
            other => {
                tracing::error!(error = %other, "auth error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                request_id: current_request_id(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}
