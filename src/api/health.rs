//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::AppState;

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: String,
    /// Per part: `ok` or what is wrong.
    pub database: Option<String>,
    pub hsm: Option<String>,
    /// `ok`, or what of the PKI needs attention soon (a CRL's nextUpdate, a key-usage period, a
    /// CSCA's end): readiness does not depend on it.
    pub pki: Option<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        database: None,
        hsm: None,
        pki: None,
    })
}

/// The database and the HSM answer.
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.service.db().ping().await {
        Ok(()) => "ok".to_owned(),
        Err(error) => {
            tracing::warn!(%error, "readiness: database");
            "unavailable".to_owned()
        }
    };
    let hsm = match state.service.signers().check() {
        Ok(()) => "ok".to_owned(),
        Err(error) => {
            tracing::warn!(%error, "readiness: HSM");
            "unavailable".to_owned()
        }
    };
    let attention = state.publication.published().attention.clone();
    let pki = if attention.is_empty() {
        "ok".to_owned()
    } else {
        attention.join("; ")
    };
    let ready = database == "ok" && hsm == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ready { "ok" } else { "unavailable" }.to_owned(),
            database: Some(database),
            hsm: Some(hsm),
            pki: Some(pki),
        }),
    )
        .into_response()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn metrics(
    State(state): State<AppState>,
    client: crate::http::extract::ClientAddr,
) -> Response {
    if !state.metrics_allow.is_empty()
        && !client
            .0
            .is_some_and(|address| state.metrics_allow.contains(&address))
    {
        return crate::http::error::ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this address may not read the metrics",
        )
        .into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        format!(
            "{}{}",
            state.service.metrics().render(),
            pki_deadlines(&state.publication.published().deadlines)
        ),
    )
        .into_response()
}

/// `travdoc_pki_seconds_until{what="crl:g1"}`: seconds until each PKI deadline (negative: past).
fn pki_deadlines(deadlines: &[(String, u64)]) -> String {
    if deadlines.is_empty() {
        return String::new();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let mut text = String::from(
        "# HELP travdoc_pki_seconds_until Seconds until a CRL's nextUpdate, a key-usage period's end or a CSCA certificate's end.\n\
         # TYPE travdoc_pki_seconds_until gauge\n",
    );
    for (what, at) in deadlines {
        let seconds = i128::from(*at) - i128::from(now);
        text.push_str(&format!(
            "travdoc_pki_seconds_until{{what=\"{what}\"}} {seconds}\n"
        ));
    }
    text
}
