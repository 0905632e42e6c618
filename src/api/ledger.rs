//! The audit ledger for auditors: signed checkpoint, inclusion proofs, export.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Caller;

/// The latest signed checkpoint.
#[utoipa::path(get, operation_id = "ledger_checkpoint", path = "/v1/ledger/checkpoint",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(&state, Act::ReadLedger)?;
    Ok(axum::Json(state.ledger.checkpoint().await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// Leaf index.
    pub index: u64,
}

/// Inclusion proof of a leaf against the latest checkpoint.
#[utoipa::path(get, operation_id = "ledger_proof", path = "/v1/ledger/proof", params(ProofQuery),
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody, description = "No leaf of that index yet."), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn proof(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ProofQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(&state, Act::ReadLedger)?;
    let Query(query) =
        query.map_err(|_| ApiError::invalid("index", "must be a leaf index (0, 1, …)"))?;
    Ok(axum::Json(state.ledger.proof(query.index).await?).into_response())
}

/// The whole ledger as NDJSON with the checkpoint last.
#[utoipa::path(get, operation_id = "ledger_export", path = "/v1/ledger/export",
    responses((status = 200, body = String, content_type = "application/x-ndjson"), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&state, Act::ReadLedger)?;
    let text = state.ledger.export().await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        text,
    )
        .into_response())
}
