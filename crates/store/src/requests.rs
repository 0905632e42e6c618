//! The requests' rows (`svc_requests`, migration `0100_service.sql`). Only what has moved here
//! so far: the rest of the request SQL is still in the service's `issuance/requests.rs`.

use sqlx::Row as _;

use crate::{Result, StoreError};

/// The applicant's photo of request `id` (none when the request has none or does not exist).
pub async fn photo(pool: &sqlx::AnyPool, id: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT photo FROM svc_requests WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a request's photo"))?;
    match row {
        Some(row) => row
            .try_get("photo")
            .map_err(StoreError::db("reading a request's photo")),
        None => Ok(None),
    }
}
