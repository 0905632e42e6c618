//! The HTTP API (axum 0.8): one file per resource, thin handlers (extract -> check role -> one
//! domain call -> JSON), one error -> HTTP mapping ([`error`]), request ids, metrics and the
//! OpenAPI 3.1 document generated from the code (`GET /openapi.json`).

pub mod contract;
pub mod decisions;
pub mod documents;
pub mod health;
pub mod ledger;
pub mod legalizations;
pub mod passports;
pub mod pki;
pub mod reports;
pub mod requests;
pub mod sltd;
pub mod ttds;
pub mod users;
pub mod verify;

use std::future::Future;

use axum::Router;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi;

use crate::auth::Actor;
use crate::http::AppState;
use crate::http::error::{self as error, ApiError};
use crate::issuance::IssuanceError;
use crate::issuance::idempotency::{self, IdempotencyKey};
use contract::SharedAnswers;

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
        return Ok(replay(stored, status));
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
                Some(stored) => Ok(replay(stored, status)),
                None => Err(error.into()),
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// A stored answer again. Only successes are stored, and the act's own success status is the
/// one to replay (the batched issuing path records every success as 200, a legalization
/// answers 201).
fn replay(stored: idempotency::StoredResponse, success: StatusCode) -> Response {
    let status = match StatusCode::from_u16(stored.status) {
        Ok(status) if status.is_success() => success,
        Ok(status) => status,
        Err(_) => success,
    };
    let mut response = (status, axum::Json(stored.body)).into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "travdoc issuance service", description = "Issues, prints, revokes and verifies passports, temporary travel documents and legalization certificates."),
    paths(
        health::healthz, health::readyz, health::metrics,
        users::create_user, users::list_users, users::get_user, users::create_token, users::list_tokens,
        users::revoke_token, users::disable_user, users::enable_user, users::set_role, users::confirm_grant,
        users::reset_user, users::unlock_user,
        requests::search, requests::ttds,
        ttds::create, ttds::get, ttds::correct, ttds::approve, ttds::issue,
        decisions::ttd_clear_hold, decisions::ttd_return, decisions::ttd_reject,
        passports::create, passports::get, passports::correct, passports::approve, passports::issue,
        decisions::passport_clear_hold, decisions::passport_return, decisions::passport_reject,
        legalizations::create,
        documents::get, documents::list, documents::print, documents::revoke, documents::clear_arrival, documents::pdf,
        verify::verify,
        pki::csca, pki::signers, pki::certificates, pki::certificate, pki::crl, pki::crls, pki::crl_numbered, pki::masterlist,
        ledger::checkpoint, ledger::proof, ledger::export,
        sltd::import, sltd::export,
        reports::get,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth, &SharedAnswers),
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

/// The served OpenAPI document: the derived one with the shared answers, and the rules of
/// every field (`contract::constrain`) with this service's printer names.
pub fn document(printers: &[String]) -> serde_json::Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    contract::constrain(&mut document, printers);
    document
}

async fn openapi_json(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let printers = crate::usecase::print::printer_names(state.service.printing());
    axum::Json(document(&printers)).into_response()
}

/// The API's routes (the composition root merges them with the web pages' and adds the
/// shared layers, `crate::http::finish`).
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/users", post(users::create_user).get(users::list_users))
        .route("/v1/users/{name}", get(users::get_user))
        .route(
            "/v1/users/{name}/tokens",
            post(users::create_token).get(users::list_tokens),
        )
        .route("/v1/users/{name}/disable", post(users::disable_user))
        .route("/v1/users/{name}/enable", post(users::enable_user))
        .route("/v1/users/{name}/role", post(users::set_role))
        .route("/v1/users/{name}/confirm", post(users::confirm_grant))
        .route("/v1/users/{name}/reset", post(users::reset_user))
        .route("/v1/users/{name}/unlock", post(users::unlock_user))
        .route("/v1/tokens/{id}/revoke", post(users::revoke_token))
        .route("/v1/requests", get(requests::search))
        .route("/v1/ttds", post(ttds::create).get(requests::ttds))
        .route("/v1/ttds/{id}", get(ttds::get).put(ttds::correct))
        .route("/v1/ttds/{id}/approve", post(ttds::approve))
        .route("/v1/ttds/{id}/issue", post(ttds::issue))
        .route("/v1/ttds/{id}/clear-hold", post(decisions::ttd_clear_hold))
        .route("/v1/ttds/{id}/return", post(decisions::ttd_return))
        .route("/v1/ttds/{id}/reject", post(decisions::ttd_reject))
        .route(
            "/v1/passport-applications/{id}/clear-hold",
            post(decisions::passport_clear_hold),
        )
        .route(
            "/v1/passport-applications/{id}/return",
            post(decisions::passport_return),
        )
        .route(
            "/v1/passport-applications/{id}/reject",
            post(decisions::passport_reject),
        )
        .route("/v1/passport-applications", post(passports::create))
        .route(
            "/v1/passport-applications/{id}",
            get(passports::get).put(passports::correct),
        )
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
        .route("/v1/reports/{report}", get(reports::get))
        .route("/v1/sltd/imports", post(sltd::import))
        .route("/v1/sltd/export", get(sltd::export))
        .route("/v1/verify", post(verify::verify))
        .route("/v1/pki/csca", get(pki::csca))
        .route("/v1/pki/signers", get(pki::signers))
        .route("/v1/pki/certificates", get(pki::certificates))
        .route("/v1/pki/certificates/{serial}", get(pki::certificate))
        .route("/v1/pki/crl", get(pki::crl))
        .route("/v1/pki/crls", get(pki::crls))
        .route("/v1/pki/crls/{number}", get(pki::crl_numbered))
        .route("/v1/pki/masterlist", get(pki::masterlist))
        .route("/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/v1/ledger/proof", get(ledger::proof))
        .route("/v1/ledger/export", get(ledger::export))
}
