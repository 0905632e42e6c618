//! The staff console (`/console`) and the public verification page (`/verify`): server-rendered
//! HTML (minijinja, auto-escaped `.html` templates from `templates/web/`), no external assets
//! (the stylesheet and the one small script are compiled in and served from `/static/`).
//!
//! Handlers are thin: session -> form -> one call into the same domain functions the HTTP API
//! calls ([`crate::issuance::Service`], the API's verify handler) -> render. Errors are mapped
//! to a status and a message by the API's single mapping ([`crate::http::error::ApiError`]).

pub mod console;
pub mod console_text;
pub mod i18n;
pub mod passkeys;
pub mod session;
pub mod signin;
pub mod verify_page;

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::Environment;

use crate::http::AppState;
use crate::http::error::ApiError;

/// Errors of the web pages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// No (or no longer a valid) session: the browser is sent to the sign-in page.
    #[error("sign in first")]
    NotSignedIn,
    /// A state-changing form without this session's CSRF field.
    #[error(
        "the form is out of date or was not sent by this console (CSRF check failed); reload the page and try again"
    )]
    Csrf,
    /// The role may not do this.
    #[error("your role `{role}` may not {act}")]
    Forbidden { role: String, act: &'static str },
    /// A form field is missing or malformed.
    #[error("field `{field}`: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// The domain (or the verifier) refused; status and message from the API's mapping.
    #[error("{}", .0.message)]
    Refused(ApiError),
    /// A template failed to render (a bug: logged, shown as a generic error).
    #[error("template `{name}` failed: {message}")]
    Template { name: String, message: String },
    /// The operating system random generator failed.
    #[error("the random generator failed: {0}")]
    Random(String),
}

impl From<crate::issuance::IssuanceError> for WebError {
    fn from(error: crate::issuance::IssuanceError) -> Self {
        WebError::Refused(ApiError::from(error))
    }
}

impl WebError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotSignedIn => StatusCode::SEE_OTHER,
            WebError::Csrf | WebError::Forbidden { .. } => StatusCode::FORBIDDEN,
            WebError::Field { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Refused(error) => error.status,
            WebError::Template { .. } | WebError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a person can act on (never internals).
    pub fn public_message(&self) -> String {
        match self {
            WebError::Template { .. } | WebError::Random(_) => {
                "something went wrong on our side; try again, and tell the administrator if it persists".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The form field the error is about, if any.
    pub fn field(&self) -> Option<String> {
        match self {
            WebError::Field { field, .. } => Some((*field).to_owned()),
            WebError::Refused(error) => error.field.clone(),
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::NotSignedIn = self {
            return Redirect::to("/console/login").into_response();
        }
        if let WebError::Template { name, message } = &self {
            tracing::error!(template = %name, %message, "web template failed");
        }
        let status = self.status();
        let lang = page_lang();
        let title = status.canonical_reason().unwrap_or("Error");
        let body = render(
            "error.html",
            minijinja::context! {
                lang => lang.code(),
                title => console_text::translate(lang, title),
                status => status.as_u16(),
                message => self.public_message(),
            },
        )
        .unwrap_or_else(|_| {
            Html(format!(
                "<!doctype html><title>{}</title><p>{}</p>",
                status.as_u16(),
                status.as_u16()
            ))
        });
        (status, body).into_response()
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/web/base.html")),
    (
        "console_base.html",
        include_str!("../../templates/web/console_base.html"),
    ),
    ("error.html", include_str!("../../templates/web/error.html")),
    ("forms.html", include_str!("../../templates/web/forms.html")),
    ("login.html", include_str!("../../templates/web/login.html")),
    (
        "login_code.html",
        include_str!("../../templates/web/login_code.html"),
    ),
    ("enrol.html", include_str!("../../templates/web/enrol.html")),
    (
        "enrol_totp.html",
        include_str!("../../templates/web/enrol_totp.html"),
    ),
    (
        "enrol_done.html",
        include_str!("../../templates/web/enrol_done.html"),
    ),
    ("users.html", include_str!("../../templates/web/users.html")),
    (
        "passkeys.html",
        include_str!("../../templates/web/passkeys.html"),
    ),
    (
        "dashboard.html",
        include_str!("../../templates/web/dashboard.html"),
    ),
    (
        "request.html",
        include_str!("../../templates/web/request.html"),
    ),
    (
        "people.html",
        include_str!("../../templates/web/people.html"),
    ),
    (
        "reports.html",
        include_str!("../../templates/web/reports.html"),
    ),
    (
        "passport_new.html",
        include_str!("../../templates/web/passport_new.html"),
    ),
    (
        "legalization_new.html",
        include_str!("../../templates/web/legalization_new.html"),
    ),
    ("stock.html", include_str!("../../templates/web/stock.html")),
    (
        "ttd_new.html",
        include_str!("../../templates/web/ttd_new.html"),
    ),
    (
        "document.html",
        include_str!("../../templates/web/document.html"),
    ),
    (
        "verify.html",
        include_str!("../../templates/web/verify.html"),
    ),
];

const STYLESHEET: &str = include_str!("../../templates/web/web.css");
const VERIFY_SCRIPT: &str = include_str!("../../templates/web/verify.js");
const PASSKEYS_SCRIPT: &str = include_str!("../../templates/web/passkeys.js");
const PHOTO_SCRIPT: &str = include_str!("../../templates/web/photo.js");

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        environment.add_function("_", console_text::template_function);
        for (name, source) in TEMPLATES {
            if let Err(error) = environment.add_template(name, source) {
                // Checked by a unit test; a broken template renders as an error page.
                tracing::error!(template = %name, %error, "web template does not parse");
            }
        }
        environment
    })
}

/// Renders a named template (auto-escaping: every name ends in `.html`).
pub fn render(name: &str, context: minijinja::Value) -> Result<Html<String>, WebError> {
    let failed = |error: minijinja::Error| WebError::Template {
        name: name.to_owned(),
        message: format!("{error:#}"),
    };
    let template = environment().get_template(name).map_err(failed)?;
    template.render(context).map(Html).map_err(failed)
}

tokio::task_local! {
    /// The language of the page being answered: the visitor's, then the signed-in person's
    /// once their session is read; an error page is shown in it.
    static PAGE_LANG: std::cell::Cell<i18n::Lang>;
}

/// The language of the page being answered (English outside a page's request).
fn page_lang() -> i18n::Lang {
    PAGE_LANG.try_with(std::cell::Cell::get).unwrap_or_default()
}

/// Records the signed-in person's language for the rest of this request's answer.
pub(crate) fn set_page_lang(lang: i18n::Lang) {
    let _ = PAGE_LANG.try_with(|cell| cell.set(lang));
}

/// The titles an error page may carry (the statuses the pages answer with), for the
/// catalogue's test.
#[cfg(test)]
const ERROR_TITLES: [&str; 11] = [
    "Bad Request",
    "Unauthorized",
    "Forbidden",
    "Not Found",
    "Conflict",
    "Payload Too Large",
    "Unprocessable Entity",
    "Too Many Requests",
    "Internal Server Error",
    "Service Unavailable",
    "Error",
];

/// Security headers for every page: a strict CSP (own origin only, no inline script), no
/// framing, no sniffing, no referrer; console pages are not cached.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let console = request.uri().path().starts_with("/console");
    let asked = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned)
    });
    let visitor = session::visitor_lang(request.headers(), asked.as_deref());
    let mut response = PAGE_LANG
        .scope(std::cell::Cell::new(visitor), next.run(request))
        .await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
             img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if console {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

async fn verify_script() -> Response {
    script(VERIFY_SCRIPT)
}

async fn passkeys_script() -> Response {
    script(PASSKEYS_SCRIPT)
}

async fn photo_script() -> Response {
    script(PHOTO_SCRIPT)
}

fn script(text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
        .into_response()
}

/// The path of the configured verification URL (what a legalization QR code opens), when it is
/// one the page should also answer on.
fn qr_path(verify_url: &str) -> Option<String> {
    let after_scheme = verify_url
        .split_once("://")
        .map_or(verify_url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |start| &after_scheme[start..]);
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let reserved = ["", "/verify", "/v", "/console", "/static", "/v1"];
    let sane = path.starts_with('/')
        && path.len() <= 64
        && path[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'))
        && !path.contains("//")
        && !path.contains('{')
        && !reserved.contains(&path)
        && !reserved
            .iter()
            .filter(|prefix| !prefix.is_empty())
            .any(|prefix| path.starts_with(&format!("{prefix}/")));
    sane.then(|| path.to_owned())
}

/// The passkey routes: JSON of a few kilobytes at most (an authenticator's answer).
fn passkey_routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route(
            "/console/passkeys",
            get(passkeys::page).post(passkeys::register),
        )
        .route(
            "/console/passkeys/options",
            post(passkeys::registration_options),
        )
        .route("/console/passkeys/{id}/remove", post(passkeys::remove))
        .route(
            "/console/login/passkey/options",
            post(passkeys::sign_in_options),
        )
        .route("/console/login/passkey", post(passkeys::sign_in))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}

/// The web routes, with their state applied (merge into any router).
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    use axum::routing::{get, post};
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/verify") }))
        .route("/static/web.css", get(stylesheet))
        .route("/static/verify.js", get(verify_script))
        .route("/static/passkeys.js", get(passkeys_script))
        .route("/static/photo.js", get(photo_script))
        // The public page; `/v` is the default QR base path (`<verify_url>#<seal>`).
        .route("/verify", get(verify_page::show).post(verify_page::submit))
        .route("/v", get(verify_page::show).post(verify_page::submit))
        .route("/console", get(console::dashboard))
        .route(
            "/console/login",
            get(signin::login_form).post(signin::login),
        )
        .route(
            "/console/login/code",
            get(signin::code_form).post(signin::code),
        )
        .route("/console/logout", post(signin::logout))
        .route("/console/language", post(console::set_language))
        .route(
            "/console/enrol",
            get(signin::enrol_form).post(signin::enrol),
        )
        .route("/console/enrol/totp", post(signin::enrol_totp))
        .merge(passkey_routes())
        .route("/console/users", get(signin::users).post(signin::add_user))
        .route("/console/users/{name}/{act}", post(signin::user_act))
        .route("/console/find", get(console::find))
        .route("/console/people", get(console::people))
        .route("/console/passports/new", get(console::passport_form))
        .route("/console/passports", post(console::passport_create))
        .route(
            "/console/legalizations/new",
            get(console::legalization_form),
        )
        .route("/console/legalizations", post(console::legalization_create))
        .route("/console/stock", get(console::stock_page))
        .route("/console/stock/{act}", post(console::stock_act))
        .route("/console/reports", get(console::reports))
        .route("/console/reports/{file}", get(console::report_csv))
        .route(
            "/console/requests/ttd/{id}/correct",
            get(console::ttd_correction_form).post(console::ttd_correct),
        )
        .route("/console/ttds/new", get(console::ttd_form))
        .route("/console/ttds", post(console::ttd_create))
        .route("/console/requests/{kind}/{id}", get(console::request_page))
        .route(
            "/console/requests/{kind}/{id}/approve",
            post(console::request_approve),
        )
        .route(
            "/console/requests/{kind}/{id}/decide/{decision}",
            post(console::request_decide),
        )
        .route(
            "/console/requests/{kind}/{id}/issue",
            post(console::request_issue),
        )
        .route("/console/documents/{number}", get(console::document_page))
        .route(
            "/console/documents/{number}/pdf",
            get(console::document_pdf),
        )
        .route(
            "/console/documents/{number}/print",
            post(console::document_print),
        )
        .route(
            "/console/documents/{number}/revoke",
            post(console::document_revoke),
        )
        .route(
            "/console/documents/{number}/clear-arrival",
            post(console::document_clear_arrival),
        );
    if let Some(path) = qr_path(&state.service.settings().verify_url) {
        router = router.route(&path, get(verify_page::show).post(verify_page::submit));
    }
    router
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut environment = Environment::new();
        for (name, source) in TEMPLATES {
            assert!(
                name.ends_with(".html"),
                "{name} must be .html for auto-escaping"
            );
            if let Err(error) = environment.add_template(name, source) {
                panic!("{name}: {error:#}");
            }
        }
    }

    #[test]
    fn every_template_file_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/web");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") {
                assert!(
                    TEMPLATES.iter().any(|(registered, _)| *registered == name),
                    "templates/web/{name} is not in TEMPLATES"
                );
            }
        }
    }

    #[test]
    fn templates_escape_html() {
        let page = render(
            "error.html",
            minijinja::context! { title => "x", status => 400, message => "<script>alert(1)</script>" },
        );
        let Ok(Html(page)) = page else {
            panic!("render failed")
        };
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>alert"), "{page}");
    }

    #[test]
    fn qr_paths() {
        assert_eq!(
            qr_path("https://verify.example.lk/l"),
            Some("/l".to_owned())
        );
        assert_eq!(qr_path("https://verify.travdoc.invalid/v"), None);
        assert_eq!(
            qr_path("https://x.lk/check/legal"),
            Some("/check/legal".to_owned())
        );
        assert_eq!(qr_path("https://x.lk/"), None);
        assert_eq!(qr_path("https://x.lk/v1/verify"), None);
        assert_eq!(qr_path("https://x.lk/console"), None);
        assert_eq!(qr_path("https://x.lk/a/{b}"), None);
    }

    /// The console templates (the public page has its own table, `i18n.rs`).
    fn console_templates() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
        TEMPLATES.iter().filter(|(name, _)| *name != "verify.html")
    }

    /// Words shown as they are in every language (names, codes, formats).
    const UNTRANSLATED: &[&str] = &[
        "travdoc", "console", "NIC", "MRZ", "TTD", "ICAO", "SHA-256", "CSV", "JPEG", "SVG", "KiB",
        "LKA", "QR", "TOTP", "ID",
    ];

    fn visible_english(text: &str) -> bool {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|word| word.chars().any(|c| c.is_ascii_alphabetic()))
            .any(|word| !UNTRANSLATED.contains(&word))
    }

    /// `text` with template code, comments, scripts and tags removed: what a reader sees
    /// that the template wrote itself; and the values of the attributes a reader hears.
    fn literal_texts(source: &str) -> Vec<String> {
        let code = regex::Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}").unwrap();
        let without_code = code.replace_all(source, "\u{0}");
        let attributes =
            regex::Regex::new(r#"(?:aria-label|placeholder|title|alt)="([^"]*)""#).unwrap();
        let mut found: Vec<String> = attributes
            .captures_iter(&without_code)
            .map(|capture| capture[1].to_owned())
            .collect();
        let tags = regex::Regex::new(r"(?s)<script.*?</script>|<style.*?</style>|<[^>]*>").unwrap();
        found.extend(
            tags.replace_all(&without_code, "\u{0}")
                .split('\u{0}')
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
        );
        found
    }

    #[test]
    fn console_templates_write_every_text_through_the_catalogue() {
        for (name, source) in console_templates() {
            let english: Vec<String> = literal_texts(source)
                .into_iter()
                .filter(|text| visible_english(&html_unescape(text)))
                .collect();
            assert!(english.is_empty(), "{name} shows untranslated {english:?}");
        }
    }

    #[test]
    fn every_console_text_has_its_translations() {
        let call = regex::Regex::new(r#"_\(\s*"((?:[^"\\]|\\.)*)""#).unwrap();
        let mut missing = Vec::new();
        for (name, source) in console_templates() {
            for capture in call.captures_iter(source) {
                let text = &capture[1];
                if visible_english(text) && console_text::translate(i18n::Lang::Si, text) == text {
                    missing.push(format!("{name}: {text}"));
                }
            }
        }
        // Texts the handlers give the pages: titles, notices, refusals of the sign-in.
        let handlers = [
            include_str!("console.rs"),
            include_str!("signin.rs"),
            include_str!("passkeys.rs"),
        ];
        let given = regex::Regex::new(
            r#"(?s)page\(\s*"[a-z_]+\.html",\s*&?session,\s*"([^"]+)"|\("[a-z_]+\.html", "([^"]+)"\)|title => "([^"]+)"|translate\([^,()]+, "([^"]+)"\)|said\("([^"]+)"\)|Some\("([A-Z][^"]+)"\)"#,
        )
        .unwrap();
        for source in handlers {
            for capture in given.captures_iter(source) {
                let Some(text) = capture.iter().skip(1).flatten().next() else {
                    continue;
                };
                let text = text.as_str();
                if console_text::translate(i18n::Lang::Si, text) == text {
                    missing.push(format!("handler: {text}"));
                }
            }
        }
        for text in ERROR_TITLES.iter().chain(&console::shown_codes()) {
            if console_text::translate(i18n::Lang::Ta, text) == *text {
                missing.push(format!("error title: {text}"));
            }
        }
        for (_, text) in console::REPORT_TITLES
            .iter()
            .chain(&console::REPORT_COLUMNS)
        {
            if console_text::translate(i18n::Lang::Si, text) == *text {
                missing.push(format!("report: {text}"));
            }
        }
        for (key, text) in console::FLASHES {
            if console_text::translate(i18n::Lang::Ta, text) == *text {
                missing.push(format!("flash {key}: {text}"));
            }
        }
        assert!(
            missing.is_empty(),
            "not in templates/web/console.tsv:\n{}",
            missing.join("\n")
        );
    }

    fn html_unescape(text: &str) -> String {
        let entity = regex::Regex::new(r"&[a-zA-Z]+;|&#[0-9]+;").unwrap();
        entity.replace_all(text, " ").into_owned()
    }

    #[test]
    fn a_console_page_renders_in_the_language_asked() {
        let page = |lang: &str| {
            render(
                "login.html",
                minijinja::context! { lang => lang, title => "Sign in", form => "f", languages => i18n::languages(i18n::Lang::parse(Some(lang))) },
            )
            .map(|Html(page)| page)
            .unwrap_or_default()
        };
        let tamil = page("ta");
        assert!(tamil.contains(r#"<html lang="ta">"#), "{tamil}");
        assert!(tamil.contains(console_text::translate(i18n::Lang::Ta, "Password")));
        assert!(!tamil.contains(">Password<"), "{tamil}");
        assert!(page("en").contains("Password"));
    }

    #[test]
    fn no_external_assets() {
        for (name, source) in TEMPLATES {
            for needle in ["http://", "https://", "//cdn", "@import"] {
                assert!(!source.contains(needle), "{name} refers to {needle}");
            }
        }
        assert!(!STYLESHEET.contains("url(http"));
    }
}
