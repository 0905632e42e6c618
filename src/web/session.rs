//! Console sessions on the server: the `td_session` cookie (`HttpOnly; SameSite=Strict`,
//! `Secure` but on a loopback development host) holds only a random session id; the database
//! holds its SHA-256, the user, the CSRF value of its forms and its idle and absolute limits
//! (`usecase::signin`). Signing out or disabling the user ends it on the server, on every node.
//!
//! The pages before a session (sign-in, enrolment) carry a double-submit value instead: a
//! random `td_form` cookie (`SameSite=Strict`, so another site's form cannot send it) that the
//! form repeats.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq as _;

use super::WebError;
use crate::auth::Actor;
use crate::http::AppState;

/// The language a visitor chose before signing in (`?lang=` on the sign-in pages).
pub const LANG_COOKIE: &str = "td_lang";
/// Name of the session cookie.
pub const COOKIE: &str = "td_session";
/// The first sign-in step's cookie (until the second factor).
pub const SIGN_IN_COOKIE: &str = "td_signin";
/// The double-submit cookie of the forms before a session.
pub const FORM_COOKIE: &str = "td_form";

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// The CSRF value every state-changing form of this session must echo.
    pub csrf: String,
    /// The cookie's session id (for signing out).
    pub id: String,
    /// The console language its user chose.
    pub lang: super::i18n::Lang,
    /// The page asked for (path and query), to come back to after a change of language.
    pub path: String,
}

/// A `Set-Cookie` value (`secure` adds `Secure`; `max_age` in seconds, none for a browser
/// session cookie).
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u32>) -> String {
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict{}{}",
        max_age
            .map(|age| format!("; Max-Age={age}"))
            .unwrap_or_default(),
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request reached us on a loopback host name (development): only there may a
/// cookie go without `Secure`.
pub fn is_loopback_host(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|name| format!("{name}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_owned()
    };
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

/// The value of cookie `name`, if present and of the shape our ids have (base64url or hex,
/// 16 to 64 characters).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_text(headers, name)
        .filter(|value| {
            (16..=64).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        })
        .map(str::to_owned)
}

/// The raw value of cookie `name` (the first one sent).
fn cookie_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Whether `presented` equals `expected` (constant time; both non-empty).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    !expected.is_empty()
        && presented.len() == expected.len()
        && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

impl Session {
    /// Refuses a form whose CSRF field is not this session's (403).
    pub fn check_csrf(&self, presented: &str) -> Result<(), WebError> {
        if same_secret(presented, &self.csrf) {
            Ok(())
        } else {
            tracing::warn!(user = %self.actor.name, "console form refused: CSRF token missing or wrong");
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let id = cookie(&parts.headers, COOKIE).ok_or(WebError::NotSignedIn)?;
        let now = state.now_unix();
        let live = crate::usecase::signin::session(state.service.db(), &state.auth, &id, now)
            .await
            .map_err(|error| WebError::Refused(crate::http::error::ApiError::from(error)))?
            .ok_or(WebError::NotSignedIn)?;
        let lang = super::i18n::Lang::parse(Some(&live.language));
        super::set_page_lang(lang);
        Ok(Session {
            actor: live.actor,
            csrf: live.csrf,
            id,
            lang,
            // A page answering a form is not one to come back to: the console's start then.
            path: match parts.method {
                axum::http::Method::GET => parts
                    .uri
                    .path_and_query()
                    .map(|path| path.as_str().to_owned())
                    .unwrap_or_default(),
                _ => "/console".to_owned(),
            },
        })
    }
}

/// The language of a page before sign-in: the one asked for (`?lang=`), else the one asked for
/// last (the `td_lang` cookie), else the browser's first choice among ours (`Accept-Language`,
/// by weight), else English.
pub fn visitor_lang(headers: &HeaderMap, asked: Option<&str>) -> super::i18n::Lang {
    use super::i18n::Lang;
    let known = |code: &str| Lang::ALL.into_iter().find(|lang| lang.code() == code);
    if let Some(lang) = asked.and_then(known) {
        return lang;
    }
    if let Some(lang) = cookie_text(headers, LANG_COOKIE).and_then(known) {
        return lang;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let mut best: Option<(Lang, f32)> = None;
    for item in accepted.split(',').take(16) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let weight = parts
            .find_map(|part| part.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = known(primary)
            && weight > 0.0
            && best.is_none_or(|(_, top)| weight > top)
        {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_round_trip_with_their_attributes() {
        let cookie_text = set_cookie(COOKIE, "AbC-dEf_0123456789xyz", false, None);
        assert!(cookie_text.contains("HttpOnly") && cookie_text.contains("SameSite=Strict"));
        assert!(!cookie_text.contains("Secure"));
        assert!(set_cookie(COOKIE, "x", true, Some(300)).ends_with("; Max-Age=300; Secure"));
        let value = cookie_text.split(';').next().unwrap_or("");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {value}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(
            cookie(&headers, COOKIE).as_deref(),
            Some("AbC-dEf_0123456789xyz")
        );
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn malformed_cookies_are_ignored() {
        for bad in [
            "td_session=abc",
            "td_session=a.b.c.d.e.f.g.h.i.j",
            "td_session=",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, HeaderValue::from_static(bad));
            assert_eq!(cookie(&headers, COOKIE), None, "{bad}");
        }
    }

    #[test]
    fn a_visitor_gets_the_language_asked_then_remembered_then_preferred() {
        use crate::web::i18n::Lang;
        let mut headers = HeaderMap::new();
        assert_eq!(visitor_lang(&headers, None), Lang::En);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR, en;q=0.5, ta-LK;q=0.8"),
        );
        assert_eq!(visitor_lang(&headers, None), Lang::Ta);
        assert_eq!(visitor_lang(&headers, Some("si")), Lang::Si);
        assert_eq!(visitor_lang(&headers, Some("xx")), Lang::Ta);
        headers.insert(header::COOKIE, HeaderValue::from_static("td_lang=si"));
        assert_eq!(visitor_lang(&headers, None), Lang::Si);
        headers.insert(header::COOKIE, HeaderValue::from_static("td_lang=zz"));
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("si;q=0, *"),
        );
        assert_eq!(visitor_lang(&headers, None), Lang::En);
    }

    #[test]
    fn loopback_hosts() {
        for (host, expected) in [
            ("127.0.0.1:8080", true),
            ("localhost", true),
            ("[::1]:80", true),
            ("verify.example.lk", false),
            ("10.0.0.5:8080", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(is_loopback_host(&headers), expected, "{host}");
        }
    }
}
