//! Console sessions: the bearer token lives in an `HttpOnly; SameSite=Strict` cookie together
//! with a random per-sign-in nonce; state-changing forms carry a CSRF field derived from both
//! (`SHA-256("travdoc-web-csrf" ‖ nonce ‖ token)`), compared in constant time. Nothing is kept
//! in the process, so several `travdoc serve` nodes can serve one console.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::WebError;
use crate::auth::Actor;
use crate::http::AppState;

/// Name of the session cookie.
pub const COOKIE: &str = "td_session";

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// The CSRF value every state-changing form of this session must echo.
    pub csrf: String,
}

/// The CSRF value of a session.
pub fn csrf_for(nonce: &str, token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"travdoc-web-csrf\0");
    hasher.update(nonce.as_bytes());
    hasher.update(b"\0");
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

/// A fresh random nonce (128 bits, hex).
pub fn new_nonce() -> Result<String, WebError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| WebError::Random(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// `Set-Cookie` value that signs in (`secure` adds the `Secure` attribute).
pub fn set_cookie(nonce: &str, token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={nonce}.{token}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value that signs out.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request reached us on a loopback host name (development): only there may the
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

/// The `(nonce, token)` of the session cookie, if present and well formed.
pub fn cookie_parts(headers: &HeaderMap) -> Option<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| value.split_once('.'))
        .filter(|(nonce, token)| {
            nonce.len() == 32
                && nonce.bytes().all(|b| b.is_ascii_hexdigit())
                && !token.is_empty()
                && token.len() <= 128
        })
        .map(|(nonce, token)| (nonce.to_owned(), token.to_owned()))
}

impl Session {
    /// Refuses a form whose CSRF field is not this session's (403).
    pub fn check_csrf(&self, presented: &str) -> Result<(), WebError> {
        let ok = presented.len() == self.csrf.len()
            && bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes()));
        if ok {
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
        let (nonce, token) = cookie_parts(&parts.headers).ok_or(WebError::NotSignedIn)?;
        let actor = crate::auth::authenticate(state.service.db(), &token)
            .await
            .map_err(|error| WebError::Refused(crate::http::error::ApiError::from(error)))?
            .ok_or(WebError::NotSignedIn)?;
        Ok(Session {
            csrf: csrf_for(&nonce, &token),
            actor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_round_trip_and_csrf_binding() {
        let nonce = "00112233445566778899aabbccddeeff";
        let cookie = set_cookie(nonce, "tdk_abc-DEF_1", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie(nonce, "t", true).ends_with("; Secure"));
        let value = cookie.split(';').next().unwrap_or("");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {value}"))
                .unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(
            cookie_parts(&headers),
            Some((nonce.to_owned(), "tdk_abc-DEF_1".to_owned()))
        );
        // The CSRF value depends on both the nonce and the token.
        let first = csrf_for(nonce, "tdk_a");
        assert_eq!(first.len(), 64);
        assert_ne!(first, csrf_for(nonce, "tdk_b"));
        assert_ne!(first, csrf_for("ffeeddccbbaa99887766554433221100", "tdk_a"));
    }

    #[test]
    fn malformed_cookies_are_ignored() {
        for bad in [
            "td_session=abc",
            "td_session=xyz.tdk",
            "td_session=00112233445566778899aabbccddeeff.",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, HeaderValue::from_static(bad));
            assert_eq!(cookie_parts(&headers), None, "{bad}");
        }
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
