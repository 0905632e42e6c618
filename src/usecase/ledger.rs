//! Reading the audit ledger (checkpoints, inclusion proofs, export): the port the API's ledger
//! handlers and verification call, implemented over the store crate's ledger by the
//! composition root.

use std::future::Future;
use std::pin::Pin;

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
