//! What the HTTP handlers of the API (`api/`) and of the web pages (`web/`) share: the state
//! they are given, the one mapping of errors to HTTP statuses ([`error`]), the extractors (caller,
//! client address, JSON with field-naming errors), the rate limiter, and the public
//! verification's admission (rate limit, then the use case). Neither `api/` nor `web/` imports
//! the other.

pub mod error;
pub mod extract;
pub mod ratelimit;

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
    pub tokens: Arc<extract::TokenCache>,
    pub verify_limiter: Arc<ratelimit::RateLimiter>,
}

impl AppState {
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
            tokens: Arc::new(extract::TokenCache::default()),
            verify_limiter: Arc::new(ratelimit::RateLimiter::new(verify_rate_per_second)),
        }
    }
}

/// Public verification as both the API and the page run it: the per-address rate limit, then
/// the use case, then the metric.
pub async fn verify_public(
    state: &AppState,
    client: &ClientAddr,
    input: VerifyInput,
) -> Result<Outcome, ApiError> {
    if !state.verify_limiter.allow(client.0) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many verifications from this address; slow down",
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let now = u64::try_from(now).unwrap_or_default();
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
