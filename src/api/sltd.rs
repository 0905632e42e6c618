//! Lost, stolen and revoked documents lists: import (admin), export of our own (admin,
//! auditor), through `usecase::sltd` (as `travdoc sltd import|export`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Caller;
use crate::usecase::sltd::{self, ImportReport};

/// Imports a list in CSV (`text/csv`; header
/// `issuing_state,document_type,document_number,status,reported_on`, further columns kept as
/// the source). A line listed already adds nothing; refused lines come back with their numbers.
/// Files beyond the request size limit go through `travdoc sltd import FILE`.
#[utoipa::path(post, operation_id = "import_sltd", path = "/v1/sltd/imports",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ImportReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let actor = caller.require(&state, Act::ImportSltd)?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"));
    if !csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be CSV (Content-Type: text/csv)",
        ));
    }
    let report = sltd::import(state.service.records(), actor, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(report)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Only documents revoked on or after this day (`YYYY-MM-DD`).
    pub since: Option<String>,
}

/// Our lost, stolen, revoked and invalidated travel documents, in the import's CSV, for
/// forwarding to INTERPOL SLTD.
#[utoipa::path(get, operation_id = "export_sltd", path = "/v1/sltd/export", params(ExportQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(&state, Act::ExportSltd)?;
    let Query(query) =
        query.map_err(|_| ApiError::invalid("since", "must be a date YYYY-MM-DD"))?;
    let text = sltd::export(
        state.service.records(),
        state.service.country(),
        query.since.as_deref(),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}
