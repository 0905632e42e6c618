//! Extractors: JSON bodies with our error model, the authenticated caller, and the
//! `Idempotency-Key` header.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::auth::{Act, Actor};
use crate::issuance::idempotency::IdempotencyKey;

/// Largest accepted JSON body (a legalized document of 10 MB in base64, plus fields).
pub const MAX_BODY_BYTES: usize = 14 * 1024 * 1024;

/// A JSON body; rejections use the API error model (400 malformed JSON, 415 wrong content
/// type, 422 with the field for missing or mistyped fields). Keeps the raw bytes for the
/// idempotency hash.
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                let essence = value.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(status, "payload_too_large", "the body is too large")
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "malformed_body",
                        "the body could not be read",
                    )
                }
            })?;
        let value = parse_json(&raw)?;
        Ok(ApiJson { value, raw })
    }
}

/// Parses JSON, naming the field on a data error. Every body of the API is an object: an array
/// would otherwise fill a struct's fields by position (serde accepts both).
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    match raw.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "the body is not valid JSON",
            ));
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|error| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {error}"),
                )
            })?;
            Ok(value)
        }
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            let message = inner.to_string();
            // serde reports a missing field at its parent (the path lacks the name); an unknown
            // field's path already ends with it.
            let named = message
                .split('`')
                .nth(1)
                .filter(|_| message.starts_with("missing field"))
                .map(str::to_owned);
            let field = match named {
                Some(name) if path == "." || path.is_empty() => name,
                Some(name) => format!("{path}.{name}"),
                None => path,
            };
            let message = match message.find(" at line ") {
                Some(cut) => message[..cut].to_owned(),
                None => message,
            };
            Err(ApiError::invalid(field, message).with_code("invalid_field"))
        }
    }
}

impl ApiError {
    fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}

/// The authenticated caller (401 without a valid bearer token).
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty());
        let Some(token) = token else {
            // A TLS client certificate from the configured CA names its user.
            if let Some(super::tls::ClientCertificate(name)) = parts
                .extensions
                .get::<super::tls::ClientCertificate>()
                .cloned()
            {
                return match crate::auth::actor_by_name(state.service.db(), &name).await? {
                    Some(actor) => Ok(Caller(actor)),
                    None => {
                        deny(state, parts, 401, "client certificate of no enabled user");
                        Err(ApiError::unauthorized())
                    }
                };
            }
            deny(state, parts, 401, "no bearer token");
            return Err(ApiError::unauthorized());
        };
        // Asked of the database on every request: a revoked token, an expired one or one of a
        // disabled account fails on its next use, on every node.
        let now = state.now_unix();
        match crate::auth::authenticate(state.service.db(), token, now).await? {
            Some(actor) => Ok(Caller(actor)),
            None => {
                deny(
                    state,
                    parts,
                    401,
                    "unknown, expired, revoked or disabled token",
                );
                Err(ApiError::unauthorized())
            }
        }
    }
}

fn deny(state: &AppState, parts: &Parts, status: u16, reason: &str) {
    state.service.metrics().record_denial(status);
    tracing::warn!(
        status,
        method = %parts.method,
        path = %parts.uri.path(),
        reason,
        "request denied"
    );
}

impl Caller {
    /// 403 (logged) unless the caller's role may perform `act`.
    pub fn require(&self, state: &AppState, act: Act) -> Result<&Actor, ApiError> {
        if self.0.may(act) {
            Ok(&self.0)
        } else if self.0.role.may(act) {
            state.service.metrics().record_denial(403);
            Err(ApiError::forbidden(format!(
                "the grant of the role `{}` awaits a second admin's confirmation",
                self.0.role
            )))
        } else {
            state.service.metrics().record_denial(403);
            tracing::warn!(
                status = 403,
                user = %self.0.name,
                role = %self.0.role,
                act = ?act,
                "request denied: role may not act"
            );
            Err(ApiError::forbidden(format!(
                "the role `{}` may not perform this act",
                self.0.role
            )))
        }
    }
}

/// The optional `Idempotency-Key` header.
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyHeader(None)),
            Some(value) => value
                .to_str()
                .map(|text| IdempotencyHeader(Some(text.to_owned())))
                .map_err(|_| {
                    ApiError::invalid("Idempotency-Key", "must be visible ASCII characters")
                }),
        }
    }
}

impl IdempotencyHeader {
    /// Binds the key to this request (method + path + body).
    pub fn bind(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(key) = &self.0 else { return Ok(None) };
        let mut request = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(path.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(body);
        IdempotencyKey::new(key, &request)
            .map(Some)
            .map_err(ApiError::from)
    }
}

/// The client's address, when the server knows it (a real listener).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl ClientAddr {
    /// The client of a request: as the server found it (behind trusted proxies too, see
    /// `http::server`), else the peer.
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        ClientAddr(
            extensions
                .get::<super::server::ClientIp>()
                .map(|client| client.0)
                .or_else(|| {
                    extensions
                        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|info| info.0.ip())
                }),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::of(&parts.extensions))
    }
}
