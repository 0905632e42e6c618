//! What the HTTP handlers of the API (`api/`) and of the web pages (`web/`) share: the state
//! they are given, the one mapping of errors to HTTP statuses ([`error`]), the extractors (caller,
//! client address, JSON with field-naming errors), the rate limiter, and the public
//! verification's admission (rate limit, then the use case). Neither `api/` nor `web/` imports
//! the other.

pub mod error;
pub mod extract;
pub mod ratelimit;
pub mod server;
pub mod tls;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use crate::issuance::Service;
use crate::usecase::ledger::LedgerView;
use crate::usecase::publication::Publication;
use crate::usecase::verify::{Outcome, Verification, VerifyInput};
use error::{ApiError, REQUEST_ID};
use extract::ClientAddr;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub verification: Verification,
    pub publication: Arc<dyn Publication>,
    pub ledger: Arc<dyn LedgerView>,
    /// Console sessions and sign-in throttling (`[auth]`).
    pub auth: Arc<crate::usecase::signin::AuthSettings>,
    /// The passkey relying party, when passkeys are set up (`[auth] passkey_origin`).
    pub passkeys: Option<Arc<crate::usecase::passkeys::Passkeys>>,
    pub verify_limiter: Arc<ratelimit::RateLimiter>,
    /// When not empty, the only addresses that may read `/metrics`.
    pub metrics_allow: Arc<Vec<std::net::IpAddr>>,
}

impl AppState {
    /// Now, by the service's one clock (the one a test moves).
    pub fn now(&self) -> time::OffsetDateTime {
        self.service.records().now()
    }

    /// [`AppState::now`] in Unix seconds (sessions, tokens, sign-in throttling).
    pub fn now_unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    pub fn new(
        service: Service,
        verification: Verification,
        publication: Arc<dyn Publication>,
        ledger: Arc<dyn LedgerView>,
        verify_rate_per_second: u32,
    ) -> Self {
        AppState {
            service,
            verification,
            publication,
            ledger,
            auth: Arc::new(crate::usecase::signin::AuthSettings::default()),
            passkeys: None,
            verify_limiter: Arc::new(ratelimit::RateLimiter::new(verify_rate_per_second)),
            metrics_allow: Arc::new(Vec::new()),
        }
    }

    /// The console's session and sign-in limits.
    pub fn with_auth(mut self, settings: crate::usecase::signin::AuthSettings) -> Self {
        self.auth = Arc::new(settings);
        self
    }

    /// Passkeys on, for this relying party.
    pub fn with_passkeys(mut self, passkeys: Option<crate::usecase::passkeys::Passkeys>) -> Self {
        self.passkeys = passkeys.map(Arc::new);
        self
    }

    /// Restricts `/metrics` to `addresses` (none: open).
    pub fn with_metrics_allow(mut self, addresses: Vec<std::net::IpAddr>) -> Self {
        self.metrics_allow = Arc::new(addresses);
        self
    }
}

/// Public verification as both the API and the page run it: the per-address rate limit, then
/// the use case, then the metric.
pub async fn verify_public(state: &AppState, input: VerifyInput) -> Result<Outcome, ApiError> {
    let now = u64::try_from(state.now_unix()).unwrap_or_default();
    let outcome = state.verification.verify(input, now).await?;
    state
        .service
        .metrics()
        .record_verification(if outcome.is_valid() {
            "VALID"
        } else {
            "INVALID"
        });
    Ok(outcome)
}

/// The layers every route has, API and pages alike: the JSON 404 and 405, the body limit, the
/// request id with its tracing span and HTTP metrics, and a panic answered as a 500 without
/// internals.
pub fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(fallback)
        .layer(middleware::from_fn(method_not_allowed))
        .layer(axum::extract::DefaultBodyLimit::max(
            extract::MAX_BODY_BYTES,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), admission))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| ApiError::internal().into_response(),
        ))
        .with_state(state)
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request id (from `x-request-id` when sane, else a new UUID), echoed in the response and in
/// error bodies; a tracing span per request; HTTP metrics.
async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let mut response = REQUEST_ID
        .scope(
            request_id.clone(),
            next.run(request).instrument(span.clone()),
        )
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .service
        .metrics()
        .record_http(method.as_str(), &route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request served"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// The public verification's admission, before its body is read: the per-client rate limit
/// (the client as [`server::ClientIp`] says, behind trusted proxies too). The API answers JSON,
/// the page a short HTML page.
async fn admission(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let verifying =
        request.method() == axum::http::Method::POST && matches!(path, "/v1/verify" | "/verify");
    if verifying {
        let client = ClientAddr::of(request.extensions()).0;
        if !state.verify_limiter.allow(client) {
            let mut response = if path == "/verify" {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::response::Html(
                        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                         <title>Too many verifications</title></head><body><main><h1>Too many \
                         verifications</h1><p>Too many verifications from this address. Wait a \
                         moment and try again.</p></main></body></html>",
                    ),
                )
                    .into_response()
            } else {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many verifications from this address; slow down",
                )
                .into_response()
            };
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("1"),
            );
            return response;
        }
    }
    next.run(request).await
}

async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not accept that method",
        )
        .into_response();
    }
    response
}
