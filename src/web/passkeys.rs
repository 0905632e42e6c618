//! The console's passkeys: a signed-in person's list (add, remove), and the two passkey
//! sign-ins (as the second step after the password, or on their own). The browser's part is
//! `/static/passkeys.js` (WebAuthn is a script API); the rules are `usecase::passkeys`.
//!
//! The JSON requests are same-origin `fetch` calls: a signed-in request carries the session's
//! CSRF value in `X-CSRF-Token`, a sign-in request the double-submit value of the sign-in page
//! in its body, like the forms.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::WebError;
use super::session::{self, SIGN_IN_COOKIE, Session};
use super::signin::{check_form, secure, signed_in};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ClientAddr};
use crate::usecase::passkeys::{self, Passkeys};

fn party(state: &AppState) -> Result<&Arc<Passkeys>, ApiError> {
    state.passkeys.as_ref().ok_or_else(|| {
        ApiError::from(crate::auth::AuthError::PasskeyConfig(
            "set [auth] passkey_origin to the console's origin".to_owned(),
        ))
    })
}

fn check_header(session: &Session, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get("x-csrf-token")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if session::same_secret(presented, &session.csrf) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the request did not come from this console's page; reload it",
        ))
    }
}

/// `GET /console/passkeys`: the person's passkeys.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, WebError> {
    list_page(&state, &session, None).await
}

async fn list_page(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
) -> Result<Html<String>, WebError> {
    let list = passkeys::list(state.service.db(), &session.actor)
        .await
        .map_err(|error| WebError::Refused(error.into()))?;
    super::console::page(
        "passkeys.html",
        session,
        "Passkeys",
        None,
        context! {
            passkeys => Serde(&list),
            enabled => state.passkeys.is_some(),
            notice => notice.map(|text| super::console_text::translate(session.lang, text)),
        },
    )
}

/// `POST /console/passkeys/options`: a new registration ceremony for the signed-in person.
pub async fn registration_options(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_header(&session, &headers)?;
    let ceremony = passkeys::start_registration(
        state.service.db(),
        party(&state)?,
        &session.actor,
        state.now_unix(),
    )
    .await?;
    Ok(axum::Json(ceremony).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub ceremony: String,
    pub credential: serde_json::Value,
    #[serde(default)]
    pub label: String,
}

/// `POST /console/passkeys`: the authenticator's answer; the passkey is stored.
pub async fn register(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: ApiJson<Registration>,
) -> Result<Response, ApiError> {
    check_header(&session, &headers)?;
    let body = body.value;
    let added = passkeys::finish_registration(
        state.service.db(),
        party(&state)?,
        &session.actor,
        &body.ceremony,
        body.credential,
        &body.label,
        state.now_unix(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(added)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: String,
}

/// `POST /console/passkeys/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Html<String>, WebError> {
    let body = super::console::form(body)?;
    session.check_csrf(&body.csrf)?;
    passkeys::remove(state.service.db(), &session.actor, &id, state.now_unix())
        .await
        .map_err(|error| WebError::Refused(error.into()))?;
    list_page(&state, &session, Some("The passkey is removed.")).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInOptions {
    /// The sign-in page's double-submit value.
    pub form: String,
    /// True after the password step (the passkey as the second factor).
    #[serde(default)]
    pub second_factor: bool,
}

/// `POST /console/login/passkey/options`: a sign-in ceremony, for the account whose password
/// was just checked (second factor) or for whoever holds a passkey of this site.
pub async fn sign_in_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: ApiJson<SignInOptions>,
) -> Result<Response, ApiError> {
    let body = body.value;
    check_form(&headers, &body.form).map_err(|_| csrf_refused())?;
    let party = party(&state)?;
    let ceremony = if body.second_factor {
        let pending = session::cookie(&headers, SIGN_IN_COOKIE)
            .ok_or(crate::auth::AuthError::SignInExpired)?;
        passkeys::start_second_factor(state.service.db(), party, &pending, state.now_unix()).await?
    } else {
        passkeys::start_sign_in(state.service.db(), party, state.now_unix()).await?
    };
    Ok(axum::Json(ceremony).into_response())
}

fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "the sign-in page is out of date; reload it",
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub form: String,
    pub ceremony: String,
    pub credential: serde_json::Value,
    #[serde(default)]
    pub second_factor: bool,
}

/// `POST /console/login/passkey`: the authenticator's answer; the session starts (the answer
/// names the page to open).
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    client: ClientAddr,
    body: ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let client = client.0.map(|address| address.to_string());
    let body = body.value;
    check_form(&headers, &body.form).map_err(|_| csrf_refused())?;
    let party = party(&state)?;
    let db = state.service.db();
    let started = if body.second_factor {
        let pending = session::cookie(&headers, SIGN_IN_COOKIE)
            .ok_or(crate::auth::AuthError::SignInExpired)?;
        passkeys::finish_second_factor(
            db,
            &state.auth,
            party,
            &pending,
            &body.ceremony,
            body.credential,
            client.as_deref(),
            state.now_unix(),
        )
        .await
    } else {
        passkeys::finish_sign_in(
            db,
            &state.auth,
            party,
            &body.ceremony,
            body.credential,
            client.as_deref(),
            state.now_unix(),
        )
        .await
    };
    let started = started.inspect_err(|_| state.service.metrics().record_denial(401))?;
    let mut response =
        axum::Json(serde_json::json!({ "location": "/console?msg=signed-in" })).into_response();
    signed_in(&mut response, &started, secure(&headers, &tls));
    Ok(response)
}
