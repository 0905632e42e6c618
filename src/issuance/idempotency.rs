//! `Idempotency-Key`: the response of a mutating request is stored with the request's hash under
//! a unique (actor, key) constraint, in the same transaction as the act. A retry with the same
//! key and body gets the stored response; the same key with another body is refused.

use sha2::{Digest, Sha256};

use super::{Db, IssuanceError};
use crate::db::Tx;

/// A client's idempotency key bound to the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// `key` must be 1 to 200 visible ASCII characters; `request` identifies the request
    /// (method, path and body).
    pub fn new(key: &str, request: &[u8]) -> Result<Self, IssuanceError> {
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IssuanceError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            ));
        }
        Ok(IdempotencyKey {
            key: key.to_owned(),
            request_hash: hex::encode(Sha256::digest(request)),
        })
    }
}

/// A stored response.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

/// The stored response for `key`, if any; a conflict when the key was used for another request.
pub async fn lookup(
    db: &Db,
    actor_id: &str,
    key: &IdempotencyKey,
) -> Result<Option<StoredResponse>, IssuanceError> {
    let Some(row) = travdoc_store::idempotency::lookup(db.reader(), actor_id, &key.key).await?
    else {
        return Ok(None);
    };
    if row.request_hash != key.request_hash {
        return Err(IssuanceError::IdempotencyConflict(key.key.clone()));
    }
    let (status, response) = (row.status, row.response);
    Ok(Some(StoredResponse {
        status: u16::try_from(status).map_err(|_| IssuanceError::Corrupt("status".into()))?,
        body: serde_json::from_str(&response)?,
    }))
}

/// Stores the response inside the act's transaction.
pub async fn store(
    tx: &mut Tx,
    actor_id: &str,
    key: Option<&IdempotencyKey>,
    status: u16,
    body: &impl serde::Serialize,
    now: &str,
) -> Result<(), IssuanceError> {
    let Some(key) = key else { return Ok(()) };
    let stored = travdoc_store::idempotency::StoredRow {
        request_hash: key.request_hash.clone(),
        status: i64::from(status),
        response: serde_json::to_string(body)?,
    };
    travdoc_store::idempotency::insert(tx, actor_id, &key.key, &stored, now).await?;
    Ok(())
}

/// Whether `error` is the unique violation of a concurrent identical retry.
pub fn is_duplicate(error: &IssuanceError) -> bool {
    matches!(
        error,
        IssuanceError::Database(crate::db::DbFault::Conflict(_))
    )
}
