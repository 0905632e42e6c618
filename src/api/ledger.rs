//! The audit ledger for auditors: signed checkpoint, inclusion proofs, export.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::Caller;
use crate::auth::Act;
use crate::issuance::IssuanceError;

/// A boxed future (object-safe async).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Read access to the Merkle ledger (implemented over the store crate's ledger).
pub trait LedgerView: Send + Sync {
    /// The latest signed checkpoint.
    fn checkpoint(&self) -> BoxFuture<'_, Result<serde_json::Value, IssuanceError>>;
    /// The inclusion proof of leaf `index` against the latest checkpoint.
    fn proof(&self, index: u64) -> BoxFuture<'_, Result<serde_json::Value, IssuanceError>>;
    /// All entries as NDJSON, ending with the checkpoint.
    fn export(&self) -> BoxFuture<'_, Result<String, IssuanceError>>;
}

/// No ledger wired.
#[derive(Debug, Default)]
pub struct NoLedger;

impl LedgerView for NoLedger {
    fn checkpoint(&self) -> BoxFuture<'_, Result<serde_json::Value, IssuanceError>> {
        Box::pin(async { Err(IssuanceError::NotConfigured("ledger")) })
    }
    fn proof(&self, _index: u64) -> BoxFuture<'_, Result<serde_json::Value, IssuanceError>> {
        Box::pin(async { Err(IssuanceError::NotConfigured("ledger")) })
    }
    fn export(&self) -> BoxFuture<'_, Result<String, IssuanceError>> {
        Box::pin(async { Err(IssuanceError::NotConfigured("ledger")) })
    }
}

/// The latest signed checkpoint.
#[utoipa::path(get, path = "/v1/ledger/checkpoint",
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
#[utoipa::path(get, path = "/v1/ledger/proof", params(ProofQuery),
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
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
#[utoipa::path(get, path = "/v1/ledger/export",
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
