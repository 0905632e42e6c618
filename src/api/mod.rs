//! The HTTP API (axum 0.8): one file per resource, thin handlers (extract -> check role -> one
//! domain call -> JSON), one error -> HTTP mapping ([`error`]), request ids, metrics and the
//! OpenAPI 3.1 document generated from the code (`GET /openapi.json`).

pub mod documents;
pub mod error;
pub mod extract;
pub mod health;
pub mod ledger;
pub mod legalizations;
pub mod passports;
pub mod pki;
pub mod ratelimit;
pub mod ttds;
pub mod users;
pub mod verify;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::Instrument as _;
use utoipa::OpenApi;

use crate::auth::Actor;
use crate::issuance::idempotency::{self, IdempotencyKey};
use crate::issuance::{IssuanceError, Service};
use crate::usecase::verify::Verification;
use error::{ApiError, REQUEST_ID};

/// Public parts the API publishes (PKI) and the ledger view; filled by the wiring.
pub trait Publication: Send + Sync {
    /// CSCA certificate(s), DER.
    fn csca(&self) -> Vec<Vec<u8>>;
    /// Signer certificates by purpose, DER.
    fn signers(&self) -> Vec<(String, Vec<u8>)>;
    /// The current CRL, DER.
    fn crl(&self) -> Option<Vec<u8>>;
    /// The master list, DER (CMS).
    fn master_list(&self) -> Option<Vec<u8>>;
}

/// Nothing published.
#[derive(Debug, Default)]
pub struct NoPublication;

impl Publication for NoPublication {
    fn csca(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn signers(&self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }
    fn crl(&self) -> Option<Vec<u8>> {
        None
    }
    fn master_list(&self) -> Option<Vec<u8>> {
        None
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub verification: Verification,
    pub publication: Arc<dyn Publication>,
    pub ledger: Arc<dyn ledger::LedgerView>,
    pub tokens: Arc<extract::TokenCache>,
    pub verify_limiter: Arc<ratelimit::RateLimiter>,
}

impl AppState {
    pub fn new(
        service: Service,
        verification: Verification,
        publication: Arc<dyn Publication>,
        ledger: Arc<dyn ledger::LedgerView>,
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

/// Runs a mutating act with `Idempotency-Key` semantics: a stored response is replayed; a
/// concurrent duplicate that lost the race gets the winner's response, whether it lost on the
/// stored key itself or, earlier, on the state the winner had already moved (an issued
/// request is no longer approved).
pub(crate) async fn idempotent<T, Fut>(
    state: &AppState,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    status: StatusCode,
    act: Fut,
) -> Result<Response, ApiError>
where
    T: Serialize,
    Fut: Future<Output = Result<T, IssuanceError>>,
{
    if let Some(key) = key
        && let Some(stored) = idempotency::lookup(state.service.db(), &actor.id, key).await?
    {
        return Ok(replay(stored));
    }
    match act.await {
        Ok(value) => Ok((status, axum::Json(value)).into_response()),
        Err(error)
            if key.is_some()
                && (idempotency::is_duplicate(&error)
                    || matches!(error, IssuanceError::WrongState { .. })) =>
        {
            let stored = match key {
                Some(key) => idempotency::lookup(state.service.db(), &actor.id, key).await?,
                None => None,
            };
            match stored {
                Some(stored) => Ok(replay(stored)),
                None => Err(error.into()),
            }
        }
        Err(error) => Err(error.into()),
    }
}

fn replay(stored: idempotency::StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(stored.body)).into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
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

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "travdoc issuance service", description = "Issues, prints, revokes and verifies passports, temporary travel documents and legalization certificates."),
    paths(
        health::healthz, health::readyz, health::metrics,
        users::create_user,
        ttds::create, ttds::get, ttds::approve, ttds::issue,
        passports::create, passports::get, passports::approve, passports::issue,
        legalizations::create,
        documents::get, documents::list, documents::print, documents::revoke, documents::clear_arrival, documents::pdf,
        verify::verify,
        pki::csca, pki::signers, pki::crl, pki::masterlist,
        ledger::checkpoint, ledger::proof, ledger::export,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(text) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/users", post(users::create_user))
        .route("/v1/ttds", post(ttds::create))
        .route("/v1/ttds/{id}", get(ttds::get))
        .route("/v1/ttds/{id}/approve", post(ttds::approve))
        .route("/v1/ttds/{id}/issue", post(ttds::issue))
        .route("/v1/passport-applications", post(passports::create))
        .route("/v1/passport-applications/{id}", get(passports::get))
        .route(
            "/v1/passport-applications/{id}/approve",
            post(passports::approve),
        )
        .route(
            "/v1/passport-applications/{id}/issue",
            post(passports::issue),
        )
        .route("/v1/legalizations", post(legalizations::create))
        .route("/v1/documents", get(documents::list))
        .route("/v1/documents/{number}", get(documents::get))
        .route("/v1/documents/{number}/pdf", get(documents::pdf))
        .route("/v1/documents/{number}/print", post(documents::print))
        .route("/v1/documents/{number}/revoke", post(documents::revoke))
        .route(
            "/v1/documents/{number}/clear-arrival",
            post(documents::clear_arrival),
        )
        .route("/v1/verify", post(verify::verify))
        .route("/v1/pki/csca", get(pki::csca))
        .route("/v1/pki/signers", get(pki::signers))
        .route("/v1/pki/crl", get(pki::crl))
        .route("/v1/pki/masterlist", get(pki::masterlist))
        .route("/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/v1/ledger/proof", get(ledger::proof))
        .route("/v1/ledger/export", get(ledger::export))
        // Staff console and public verification page (src/web).
        .merge(crate::web::router(state.clone()))
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
