//! The console's sign-in (name and password, then an authenticator or recovery code),
//! enrolment with a one-time code (password, TOTP with a QR code, recovery codes), sign-out,
//! and the admins' users page. Each handler calls `usecase::signin` or `usecase::accounts`, the
//! same code the API and the CLI call.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::console_text::translate;
use super::session::{self, FORM_COOKIE, SIGN_IN_COOKIE, Session};
use super::{WebError, render};
use crate::auth::{Act, AuthError, MissionCode, Role};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::usecase::{accounts, signin};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub form: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    pub form: String,
    pub code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EnrolForm {
    pub form: String,
    pub enrolment_code: String,
    pub password: String,
    pub password_again: String,
    pub code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddUserForm {
    pub csrf: String,
    pub name: String,
    pub role: String,
    pub mission: String,
}

use super::console::form;

pub(super) fn secure(
    headers: &HeaderMap,
    tls: &Option<axum::Extension<crate::http::tls::OverTls>>,
) -> bool {
    tls.as_ref().is_some_and(|axum::Extension(tls)| tls.0) || !session::is_loopback_host(headers)
}

/// A page before a session, with a fresh double-submit value in the form and the cookie.
///
/// Its language is the visitor's ([`session::visitor_lang`]); a language asked for with
/// `?lang=` is remembered in a cookie for the next pages. The title and a refusal (`error`)
/// are shown in that language too.
fn pre_session_page(
    name: &str,
    headers: &HeaderMap,
    tls: &Option<axum::Extension<crate::http::tls::OverTls>>,
    status: StatusCode,
    extra: minijinja::Value,
) -> Result<Response, WebError> {
    pre_session_page_in(name, headers, tls, status, None, extra)
}

fn pre_session_page_in(
    name: &str,
    headers: &HeaderMap,
    tls: &Option<axum::Extension<crate::http::tls::OverTls>>,
    status: StatusCode,
    asked: Option<&str>,
    extra: minijinja::Value,
) -> Result<Response, WebError> {
    let lang = session::visitor_lang(headers, asked);
    let translated = |key: &str| {
        extra
            .get_attr(key)
            .ok()
            .and_then(|value| value.as_str().map(|text| translate(lang, text).to_owned()))
    };
    let value =
        crate::identity::csrf_value().map_err(|error| WebError::Random(error.to_string()))?;
    let html = render(
        name,
        context! {
            form => value.as_str(),
            lang => lang.code(),
            languages => super::i18n::languages(lang),
            title => translated("title"),
            error => translated("error"),
            ..extra
        },
    )?;
    let secure = secure(headers, tls);
    let mut response = (
        status,
        [(
            header::SET_COOKIE,
            session::set_cookie(FORM_COOKIE, &value, secure, Some(1800)),
        )],
        html,
    )
        .into_response();
    if asked.is_some_and(|code| code == lang.code())
        && let Ok(cookie) = header::HeaderValue::from_str(&session::set_cookie(
            session::LANG_COOKIE,
            lang.code(),
            secure,
            Some(365 * 24 * 3600),
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `?lang=` of the pages before sign-in.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Refuses a form before a session whose double-submit value is not the cookie's.
pub(super) fn check_form(headers: &HeaderMap, presented: &str) -> Result<(), WebError> {
    match session::cookie(headers, FORM_COOKIE) {
        Some(expected) if session::same_secret(presented, &expected) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

fn refused(error: AuthError) -> WebError {
    WebError::Refused(ApiError::from(error))
}

/// `GET /console/login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    asked: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let asked = asked.map(|Query(query)| query).unwrap_or_default();
    pre_session_page_in(
        "login.html",
        &headers,
        &tls,
        StatusCode::OK,
        asked.lang.as_deref(),
        context! { title => "Sign in", passkeys => state.passkeys.is_some() },
    )
}

/// `POST /console/login`: the password step; on to the code.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    client: crate::http::extract::ClientAddr,
    body: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, WebError> {
    let client = client.0.map(|address| address.to_string());
    let body = form(body)?;
    check_form(&headers, &body.form)?;
    match signin::sign_in_password(
        state.service.db(),
        &state.auth,
        body.name.trim(),
        &body.password,
        client.as_deref(),
        state.now_unix(),
    )
    .await
    {
        Ok(pending) => Ok((
            StatusCode::SEE_OTHER,
            [
                (
                    header::SET_COOKIE,
                    session::set_cookie(
                        SIGN_IN_COOKIE,
                        &pending,
                        secure(&headers, &tls),
                        Some(300),
                    ),
                ),
                (header::LOCATION, "/console/login/code".to_owned()),
            ],
        )
            .into_response()),
        Err(error @ (AuthError::BadCredentials | AuthError::Locked(_))) => {
            state.service.metrics().record_denial(401);
            let status = match error {
                AuthError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            pre_session_page(
                "login.html",
                &headers,
                &tls,
                status,
                context! { title => "Sign in", error => error.to_string(), name => body.name.trim(),
                passkeys => state.passkeys.is_some() },
            )
        }
        Err(error) => Err(refused(error)),
    }
}

/// A sign-in completed (by code or passkey): the session cookie under its new id, the
/// sign-in's own cookies cleared.
pub(super) fn signed_in(response: &mut Response, started: &signin::NewSession, secure: bool) {
    tracing::info!(user = %started.actor.name, role = %started.actor.role, "console sign-in");
    let headers_out = response.headers_mut();
    for cookie in [
        session::set_cookie(session::COOKIE, &started.id, secure, None),
        session::clear_cookie(SIGN_IN_COOKIE),
        session::clear_cookie(FORM_COOKIE),
    ] {
        if let Ok(value) = header::HeaderValue::from_str(&cookie) {
            headers_out.append(header::SET_COOKIE, value);
        }
    }
}

/// `GET /console/login/code`.
pub async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
) -> Result<Response, WebError> {
    if session::cookie(&headers, SIGN_IN_COOKIE).is_none() {
        return Ok(super::console::see_other("/console/login"));
    }
    pre_session_page(
        "login_code.html",
        &headers,
        &tls,
        StatusCode::OK,
        context! { title => "Sign in", passkeys => state.passkeys.is_some() },
    )
}

/// `POST /console/login/code`: the second factor; the session starts under a new id.
pub async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    client: crate::http::extract::ClientAddr,
    body: Result<Form<CodeForm>, FormRejection>,
) -> Result<Response, WebError> {
    let client = client.0.map(|address| address.to_string());
    let body = form(body)?;
    check_form(&headers, &body.form)?;
    let Some(pending) = session::cookie(&headers, SIGN_IN_COOKIE) else {
        return Ok(super::console::see_other("/console/login"));
    };
    match signin::sign_in_code(
        state.service.db(),
        &state.auth,
        &pending,
        &body.code,
        client.as_deref(),
        state.now_unix(),
    )
    .await
    {
        Ok(started) => {
            let mut response = super::console::see_other("/console?msg=signed-in");
            signed_in(&mut response, &started, secure(&headers, &tls));
            Ok(response)
        }
        Err(AuthError::SignInExpired) => Ok(super::console::see_other("/console/login")),
        Err(error @ (AuthError::BadCode | AuthError::Locked(_) | AuthError::BadCredentials)) => {
            state.service.metrics().record_denial(401);
            pre_session_page(
                "login_code.html",
                &headers,
                &tls,
                StatusCode::UNAUTHORIZED,
                context! { title => "Sign in", error => error.to_string(),
                passkeys => state.passkeys.is_some() },
            )
        }
        Err(error) => Err(refused(error)),
    }
}

/// `POST /console/logout`: ends the session on the server.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    body: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, WebError> {
    session.check_csrf(&form(body)?.csrf)?;
    signin::sign_out(state.service.db(), &session.id, state.now_unix())
        .await
        .map_err(refused)?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie(session::COOKIE)),
            (header::LOCATION, "/console/login?signed-out".to_owned()),
        ],
    )
        .into_response())
}

/// `GET /console/enrol`.
pub async fn enrol_form(
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    asked: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let asked = asked.map(|Query(query)| query).unwrap_or_default();
    pre_session_page_in(
        "enrol.html",
        &headers,
        &tls,
        StatusCode::OK,
        asked.lang.as_deref(),
        context! { title => "Set up your account", min => crate::identity::MIN_PASSWORD_CHARS },
    )
}

/// The enrolment QR code as an inline SVG (no external resource, no script).
fn qr_svg(uri: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .map_err(|error| WebError::Random(error.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// `POST /console/enrol`: the enrolment code and a new password; on to the authenticator.
pub async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    body: Result<Form<EnrolForm>, FormRejection>,
) -> Result<Response, WebError> {
    let body = form(body)?;
    check_form(&headers, &body.form)?;
    let again = |error: String| {
        pre_session_page(
            "enrol.html",
            &headers,
            &tls,
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { title => "Set up your account", error => error,
            min => crate::identity::MIN_PASSWORD_CHARS },
        )
    };
    if body.password != body.password_again {
        return again("The two passwords differ.".to_owned());
    }
    match signin::enrol_password(
        state.service.db(),
        &state.auth,
        &body.enrolment_code,
        &body.password,
        state.now_unix(),
    )
    .await
    {
        Ok(totp) => pre_session_page(
            "enrol_totp.html",
            &headers,
            &tls,
            StatusCode::OK,
            context! {
                title => "Set up your authenticator",
                user => totp.user,
                secret => totp.secret,
                qr => qr_svg(&totp.uri)?,
                enrolment_code => body.enrolment_code.trim(),
            },
        ),
        Err(error @ (AuthError::EnrolmentInvalid | AuthError::WeakPassword(_))) => {
            again(error.to_string())
        }
        Err(error) => Err(refused(error)),
    }
}

/// `POST /console/enrol/totp`: a code from the app confirms it; the recovery codes are shown
/// once.
pub async fn enrol_totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<axum::Extension<crate::http::tls::OverTls>>,
    body: Result<Form<EnrolForm>, FormRejection>,
) -> Result<Response, WebError> {
    let body = form(body)?;
    check_form(&headers, &body.form)?;
    match signin::enrol_totp(
        state.service.db(),
        &body.enrolment_code,
        &body.code,
        state.now_unix(),
    )
    .await
    {
        Ok(recovery) => pre_session_page(
            "enrol_done.html",
            &headers,
            &tls,
            StatusCode::OK,
            context! { title => "Your recovery codes", recovery => recovery },
        ),
        Err(AuthError::BadCode) => {
            // The same secret again (it stays pending until a code confirms it).
            let account = signin::enrolment_account(
                state.service.db(),
                &body.enrolment_code,
                state.now_unix(),
            )
            .await
            .map_err(refused)?;
            let pending =
                travdoc_store::identity::user_by_name(state.service.db().reader(), &account)
                    .await
                    .map_err(|error| refused(error.into()))?
                    .and_then(|user| user.totp_pending)
                    .ok_or_else(|| refused(AuthError::EnrolmentInvalid))?;
            let uri = crate::identity::totp_uri(&state.auth.totp_issuer, &account, &pending);
            pre_session_page(
                "enrol_totp.html",
                &headers,
                &tls,
                StatusCode::UNPROCESSABLE_ENTITY,
                context! {
                    title => "Set up your authenticator",
                    user => account,
                    secret => pending,
                    qr => qr_svg(&uri)?,
                    enrolment_code => body.enrolment_code.trim(),
                    error => AuthError::BadCode.to_string(),
                },
            )
        }
        Err(error) => Err(refused(error)),
    }
}

fn admin(session: &Session) -> Result<accounts::Party, WebError> {
    if session.actor.may(Act::ManageUsers) {
        Ok(accounts::Party::Admin(session.actor.clone()))
    } else {
        Err(WebError::Forbidden {
            role: session.actor.role.to_string(),
            act: "manage users",
        })
    }
}

/// `GET /console/users` (admins): the accounts, their state, and what can be done.
pub async fn users(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, WebError> {
    admin(&session)?;
    users_page(&state, &session, None, None).await
}

async fn users_page(
    state: &AppState,
    session: &Session,
    notice: Option<String>,
    enrolment: Option<(String, String)>,
) -> Result<Html<String>, WebError> {
    let list = accounts::list(state.service.db()).await.map_err(refused)?;
    super::console::page(
        "users.html",
        session,
        "Users",
        None,
        context! {
            users => Serde(&list),
            roles => Role::ALL.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
            notice => notice,
            enrolment => enrolment.map(|(name, code)| context! { name => name, code => code }),
        },
    )
}

/// `POST /console/users`: adds an account; its enrolment code is shown once.
pub async fn add_user(
    State(state): State<AppState>,
    session: Session,
    body: Result<Form<AddUserForm>, FormRejection>,
) -> Result<Html<String>, WebError> {
    let body = form(body)?;
    session.check_csrf(&body.csrf)?;
    let party = admin(&session)?;
    let role: Role = body.role.parse().map_err(refused)?;
    let mission = Some(body.mission.trim())
        .filter(|code| !code.is_empty())
        .map(|code| code.parse::<MissionCode>())
        .transpose()
        .map_err(refused)?;
    let created = accounts::add_user(
        state.service.db(),
        &party,
        body.name.trim(),
        role,
        mission,
        state.now(),
    )
    .await
    .map_err(refused)?;
    let name = created.account.name.clone();
    users_page(
        &state,
        &session,
        Some(translate(session.lang, "Account {name} created.").replace("{name}", &name)),
        Some((name, created.enrolment_code)),
    )
    .await
}

/// `POST /console/users/{name}/{act}`: confirm, disable, enable, reset or unlock.
pub async fn user_act(
    State(state): State<AppState>,
    session: Session,
    Path((name, act)): Path<(String, String)>,
    body: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Html<String>, WebError> {
    session.check_csrf(&form(body)?.csrf)?;
    let party = admin(&session)?;
    let db = state.service.db();
    let at = state.now();
    // The notice in the admin's language, the account's name in it.
    let said = |english: &str| translate(session.lang, english).replace("{name}", &name);
    let (notice, enrolment) = match act.as_str() {
        "confirm" => {
            accounts::confirm(db, &party, &name, at)
                .await
                .map_err(refused)?;
            (said("The grant of {name} is confirmed."), None)
        }
        "disable" => {
            accounts::disable(db, &party, &name, at)
                .await
                .map_err(refused)?;
            (
                said("{name} is disabled; its sessions and tokens have stopped."),
                None,
            )
        }
        "enable" => {
            let account = accounts::enable(db, &party, &name, at)
                .await
                .map_err(refused)?;
            let text = if account.pending.is_some() {
                said("Enabling {name} awaits a second admin's confirmation.")
            } else {
                said("{name} is enabled.")
            };
            (text, None)
        }
        "reset" => {
            let reset = accounts::reset(db, &party, &name, at)
                .await
                .map_err(refused)?;
            (
                said("{name} must enrol again."),
                Some((name.clone(), reset.enrolment_code)),
            )
        }
        "unlock" => {
            accounts::unlock(db, &party, &name, at)
                .await
                .map_err(refused)?;
            (said("{name} is unlocked."), None)
        }
        _ => {
            return Err(WebError::Refused(ApiError::not_found(
                "no such act on a user",
            )));
        }
    };
    users_page(&state, &session, Some(notice), enrolment).await
}
