//! `GET /v1/reports/{report}`: issuances, print jobs, spoilage and stock, as JSON or CSV
//! (`usecase::reports`, the same figures as the console's reports page).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::auth::Act;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Caller;
use crate::usecase::reports::{self, Report, ReportName, ReportQuery};

/// One report over a range of days (at most 366; default the last 30), as JSON or CSV
/// (`format=csv`): `issuances` (per day, kind and mission), `print-jobs` (per day, printer and
/// state), `spoiled` (blanks per day, type and location), `stock` (blanks now, by type,
/// location and state).
#[utoipa::path(get, operation_id = "get_report", path = "/v1/reports/{report}",
    params(("report" = ReportName, Path), ReportQuery),
    responses((status = 200, description = "the report, as JSON or (format=csv) CSV",
               content((Report = "application/json"), (String = "text/csv"))),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(&state, Act::ReadReports)?;
    let name = ReportName::parse(&name).ok_or_else(|| ApiError::not_found("no such report"))?;
    let Query(query) =
        query.map_err(|rejection| ApiError::invalid("query", rejection.body_text()))?;
    let csv = reports::wants_csv(query.format.as_deref())?;
    let report = reports::report(state.service.records(), name, &query).await?;
    if csv {
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.csv()?,
        )
            .into_response())
    } else {
        Ok(axum::Json(report).into_response())
    }
}
