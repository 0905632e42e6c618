//! Lost and stolen documents lists over HTTP and the CLI, on SQLite and PostgreSQL: an import
//! reports refused lines by number and adds nothing the second time; a request naming a listed
//! document is held with `SLTD_HIT`; our own revocation for theft is in the export.

use bytes::Bytes;
use serde_json::json;

use crate::common::{self, Server, Staff, TestResult, ttd_body};

const LIST: &str = "issuing_state,document_type,document_number,status,reported_on,list\n\
LKA,P,N1234567,stolen,2026-01-02,INTERPOL SLTD\n\
LKA,P,N7654321,missing,2026-01-02,INTERPOL SLTD\n\
UTO,P,L898902C3,lost,2026-13-01,national\n\
\"UTO\",\"P\",\"L898902C3\",\"lost\",\"2025-12-01\",\"national, forwarded\"\n";

async fn import(
    server: &Server,
    token: &str,
    body: &str,
    content_type: &str,
) -> Result<common::Answer, Box<dyn std::error::Error>> {
    server
        .raw(
            "POST",
            "/v1/sltd/imports",
            Some(token),
            Bytes::from(body.to_owned()),
            Some(content_type),
            &[],
        )
        .await
}

async fn lists_hold_and_export(server: Server) -> TestResult {
    let staff = Staff::create(&server).await?;

    // Only an admin imports, only CSV, only with the header.
    let by_issuer = import(&server, &staff.issuer, LIST, "text/csv").await?;
    assert_eq!(by_issuer.status, 403, "{}", by_issuer.body);
    let as_json = import(&server, &staff.admin, LIST, "application/json").await?;
    assert_eq!(as_json.status, 415, "{}", as_json.body);
    let headless = import(
        &server,
        &staff.admin,
        "LKA,P,N1,stolen,2026-01-02\n",
        "text/csv",
    )
    .await?;
    assert_eq!(headless.status, 422, "{}", headless.body);
    assert_eq!(headless.field(), "file");

    // Refused lines by number (the header is line 1); the quoted line with a comma is read.
    let first = import(&server, &staff.admin, LIST, "text/csv; charset=utf-8").await?;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["lines"], 4, "{}", first.body);
    assert_eq!(first.body["added"], 2, "{}", first.body);
    assert_eq!(first.body["rejected"], 2, "{}", first.body);
    assert_eq!(first.body["rejected_lines"][0]["line"], 3);
    assert!(
        first.body["rejected_lines"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("status")
    );
    assert_eq!(first.body["rejected_lines"][1]["line"], 4);
    assert!(
        first.body["rejected_lines"][1]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("reported_on")
    );
    // The same file again adds nothing (through the CLI this time).
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("list.csv");
    std::fs::write(&file, LIST)?;
    let again = server.cli(&["sltd", "import", file.to_str().ok_or("path")?])?;
    assert_eq!(
        again.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&again.stdout)?;
    assert_eq!(report["added"], 0, "{report}");
    assert_eq!(report["lines"], 4, "{report}");
    assert_eq!(report["sha256"], first.body["sha256"]);

    // A TTD request naming the stolen passport as the previous one is held, naming the line.
    let held = server
        .call(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Some(&ttd_body("LON")),
        )
        .await?;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!(held.body["state"], "on_hold", "{}", held.body);
    assert_eq!(held.body["checks"][0]["code"], "SLTD_HIT");
    let detail = held.body["checks"][0]["detail"]
        .as_str()
        .unwrap_or_default();
    assert!(
        detail.contains("N1234567") && detail.contains("stolen"),
        "{detail}"
    );
    let source = held.body["checks"][0]["source"]
        .as_str()
        .unwrap_or_default();
    assert!(source.ends_with("line 2"), "{source}");
    // A listing of another state's number does not hit an LKA passport of that number.
    let mut other = ttd_body("LON");
    other["previous_document"] = json!("L898902C3");
    let clean = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&other))
        .await?;
    assert_eq!(clean.body["state"], "requested", "{}", clean.body);

    // Our own TTD revoked as stolen: in the export, and a hit when named again.
    let mut unlisted = ttd_body("LON");
    unlisted["previous_document"] = json!(null);
    let approved = common::approved_ttd_with(&server, &staff, &unlisted).await?;
    let issued = server
        .call(
            "POST",
            &format!("/v1/ttds/{approved}/issue"),
            Some(&staff.mission),
            None,
        )
        .await?;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let number = issued.body["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    let revoked = server
        .call(
            "POST",
            &format!("/v1/documents/{number}/revoke"),
            Some(&staff.issuer),
            Some(&json!({"reason": "stolen"})),
        )
        .await?;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let export = server
        .call("GET", "/v1/sltd/export", Some(&staff.auditor), None)
        .await?;
    assert_eq!(export.status, 200, "{}", export.body);
    let text = String::from_utf8_lossy(&export.bytes).into_owned();
    assert!(
        text.starts_with("issuing_state,document_type,document_number,status,reported_on\n"),
        "{text}"
    );
    assert!(text.contains(&format!(",PU,{number},stolen,")), "{text}");
    let later = server
        .call(
            "GET",
            "/v1/sltd/export?since=2999-01-01",
            Some(&staff.auditor),
            None,
        )
        .await?;
    assert!(!String::from_utf8_lossy(&later.bytes).contains(&number));
    let bad_since = server
        .call(
            "GET",
            "/v1/sltd/export?since=yesterday",
            Some(&staff.auditor),
            None,
        )
        .await?;
    assert_eq!(bad_since.status, 422, "{}", bad_since.body);
    let by_mission = server
        .call("GET", "/v1/sltd/export", Some(&staff.mission), None)
        .await?;
    assert_eq!(by_mission.status, 403);
    let cli_export = server.cli(&["sltd", "export"])?;
    assert!(String::from_utf8_lossy(&cli_export.stdout).contains(&number));

    // The imports are on the ledger, with the file's hash.
    let exported = server.cli(&["ledger", "export"])?;
    let ledger = String::from_utf8_lossy(&exported.stdout);
    assert!(ledger.contains("\"kind\":\"sltd_imported\""));
    assert!(ledger.contains(first.body["sha256"].as_str().unwrap_or("?")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_hold_requests_and_our_revocations_are_exported_on_sqlite() -> TestResult {
    lists_hold_and_export(Server::start()?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_hold_requests_and_our_revocations_are_exported_on_postgresql() -> TestResult {
    let (server, _cluster) = crate::e2e_postgres::server_on_postgres()?;
    lists_hold_and_export(server).await
}
