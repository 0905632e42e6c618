//! Finding requests by their applicant: `GET /v1/requests` (TTD requests and passport
//! applications) and `GET /v1/ttds` (a readmission case's TTDs). Mission-scoped.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Caller;
use crate::issuance::requests::RequestView;
use crate::usecase::read::{RequestSearch, TtdSearch};

/// Requests whose applicant matches: NIC (either layout), name words (accents and
/// transliteration alike), birth date, readmission case; by type and state.
#[utoipa::path(get, operation_id = "search_requests", path = "/v1/requests", params(RequestSearch),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<RequestSearch>, QueryRejection>,
) -> Result<axum::Json<Vec<RequestView>>, ApiError> {
    let actor = caller.require(&state, Act::ReadRequest)?;
    let Query(search) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    Ok(axum::Json(
        crate::usecase::read::search_requests(state.service.records(), actor, &search).await?,
    ))
}

/// TTD requests, e.g. every one of a readmission case (`?case_id=`), each with its document
/// number once issued.
#[utoipa::path(get, operation_id = "list_ttds", path = "/v1/ttds", params(TtdSearch),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ttds(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<TtdSearch>, QueryRejection>,
) -> Result<axum::Json<Vec<RequestView>>, ApiError> {
    let actor = caller.require(&state, Act::ReadRequest)?;
    let Query(search) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    Ok(axum::Json(
        crate::usecase::read::search_requests(state.service.records(), actor, &search.into())
            .await?,
    ))
}
