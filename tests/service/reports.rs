//! `GET /v1/reports/{report}`: the figures of issuances, print jobs and stock over a range of
//! days, as JSON and CSV, for headquarters roles only; bad ranges name their field.

use serde_json::json;

use crate::common::{self, Server, Staff, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_count_issuances_and_print_jobs_as_json_and_csv() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let first = common::issue_ttd(&server, &staff).await?;
    common::issue_ttd(&server, &staff).await?;
    let number = first["document_number"].as_str().ok_or("number")?;
    let printed = server
        .call(
            "POST",
            &format!("/v1/documents/{number}/print"),
            Some(&staff.mission),
            Some(&json!({"printer": "default-folder"})),
        )
        .await?;
    assert_eq!(printed.status, 200, "{}", printed.body);
    let today = time::OffsetDateTime::now_utc().date().to_string();

    let issuances = server
        .call("GET", "/v1/reports/issuances", Some(&staff.approver), None)
        .await?;
    assert_eq!(issuances.status, 200, "{}", issuances.body);
    assert_eq!(issuances.body["to"], today.as_str());
    assert_eq!(
        issuances.body["rows"],
        json!([{"cells": [today, "ttd", "LON"], "count": 2}]),
        "{}",
        issuances.body
    );
    let csv = server
        .call(
            "GET",
            &format!("/v1/reports/issuances?format=csv&from={today}&to={today}"),
            Some(&staff.auditor),
            None,
        )
        .await?;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.text(),
        format!("day,kind,mission,count\n{today},ttd,LON,2\n")
    );
    let jobs = server
        .call("GET", "/v1/reports/print-jobs", Some(&staff.issuer), None)
        .await?;
    assert_eq!(
        jobs.body["rows"][0]["cells"][1], "default-folder",
        "{}",
        jobs.body
    );
    assert_eq!(jobs.body["rows"][0]["count"], 1);
    let stock = server
        .call("GET", "/v1/reports/stock", Some(&staff.admin), None)
        .await?;
    assert_eq!(stock.status, 200, "{}", stock.body);

    // A mission reads no reports; ranges are checked; an unknown report is 404.
    let mission = server
        .call("GET", "/v1/reports/issuances", Some(&staff.mission), None)
        .await?;
    assert_eq!(mission.status, 403);
    let backwards = server
        .call(
            "GET",
            "/v1/reports/issuances?from=2026-12-07&to=2026-12-01",
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(backwards.status, 422);
    assert_eq!(backwards.field(), "from");
    let long = server
        .call(
            "GET",
            "/v1/reports/issuances?from=2020-01-01&to=2026-12-01",
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(long.status, 422);
    let format = server
        .call(
            "GET",
            "/v1/reports/issuances?format=xml",
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(format.field(), "format");
    let unknown = server
        .call("GET", "/v1/reports/nothing", Some(&staff.approver), None)
        .await?;
    assert_eq!(unknown.status, 404);
    Ok(())
}
