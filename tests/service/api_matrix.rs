//! Every role against every endpoint: allowed (anything but 401/403) or 403; no token is 401;
//! public endpoints need no token; a mission never sees another mission's documents.

use crate::common;

use common::{Server, Staff, TestResult, ttd_body};
use serde_json::json;

const ROLES: [&str; 7] = [
    "issuer",
    "approver",
    "mission",
    "consular",
    "immigration",
    "auditor",
    "admin",
];

fn token<'a>(staff: &'a Staff, role: &str) -> &'a str {
    match role {
        "issuer" => &staff.issuer,
        "approver" => &staff.approver,
        "mission" => &staff.mission,
        "consular" => &staff.consular,
        "immigration" => &staff.immigration,
        "auditor" => &staff.auditor,
        _ => &staff.admin,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_by_endpoint_matrix() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let passport = json!({"surname": "Silva", "given_names": "Ama", "nationality": "LKA",
        "birth_date": "1990-01-01", "sex": "F", "photo": "/9j/4AAQSkZJRgABAQ==",
        "nic": "199050101234"});
    let legalization = json!({"document_type": "Birth certificate", "signatory": "A. Registrar",
        "capacity": "Registrar", "authority": "Registrar General", "document": "aGVsbG8="});
    let missing = "00000000-0000-0000-0000-000000000000";
    // (method, path, body, roles allowed)
    let endpoints: Vec<(&str, String, Option<serde_json::Value>, &[&str])> = vec![
        (
            "POST",
            "/v1/users".into(),
            Some(json!({"name": "matrix-user", "role": "auditor"})),
            &["admin"],
        ),
        (
            "POST",
            "/v1/ttds".into(),
            Some(ttd_body("LON")),
            &["mission"],
        ),
        ("GET", format!("/v1/ttds/{missing}"), None, &ROLES),
        (
            "POST",
            format!("/v1/ttds/{missing}/approve"),
            None,
            &["approver"],
        ),
        (
            "POST",
            format!("/v1/ttds/{missing}/issue"),
            None,
            &["mission", "issuer"],
        ),
        (
            "POST",
            "/v1/passport-applications".into(),
            Some(passport),
            &["issuer"],
        ),
        (
            "GET",
            format!("/v1/passport-applications/{missing}"),
            None,
            &ROLES,
        ),
        (
            "POST",
            format!("/v1/passport-applications/{missing}/approve"),
            None,
            &["approver"],
        ),
        (
            "POST",
            format!("/v1/passport-applications/{missing}/issue"),
            None,
            &["issuer"],
        ),
        (
            "POST",
            "/v1/legalizations".into(),
            Some(legalization),
            &["consular"],
        ),
        ("GET", "/v1/documents/T9999999".into(), None, &ROLES),
        (
            "GET",
            "/v1/documents".into(),
            None,
            &[
                "issuer", "approver", "mission", "consular", "auditor", "admin",
            ],
        ),
        ("GET", "/v1/documents/T9999999/pdf".into(), None, &ROLES),
        (
            "POST",
            "/v1/documents/T9999999/print".into(),
            Some(json!({"printer": "none"})),
            &["mission", "issuer", "consular"],
        ),
        (
            "POST",
            "/v1/documents/T9999999/revoke".into(),
            Some(json!({"reason": "lost"})),
            &["issuer", "approver", "mission", "consular"],
        ),
        (
            "POST",
            "/v1/documents/T9999999/clear-arrival".into(),
            None,
            &["immigration"],
        ),
        (
            "GET",
            "/v1/ledger/checkpoint".into(),
            None,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/v1/ledger/proof?index=0".into(),
            None,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/v1/ledger/export".into(),
            None,
            &["auditor", "admin"],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, allowed) in &endpoints {
        let anonymous = server.call(method, path, None, body.as_ref()).await?;
        if anonymous.status != 401 || anonymous.code() != "unauthorized" {
            failures.push(format!(
                "{method} {path} without token: {}",
                anonymous.status
            ));
        }
        let bogus = server
            .call(method, path, Some("tdk_not-a-token"), body.as_ref())
            .await?;
        if bogus.status != 401 {
            failures.push(format!(
                "{method} {path} with a bogus token: {}",
                bogus.status
            ));
        }
        for role in ROLES {
            let answer = server
                .call(method, path, Some(token(&staff, role)), body.as_ref())
                .await?;
            let may = allowed.contains(&role);
            let ok = if may {
                answer.status != 401 && answer.status != 403
            } else {
                answer.status == 403 && answer.code() == "forbidden"
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {role}: {} (expected {})",
                    answer.status,
                    if may { "allowed" } else { "403" }
                ));
            }
        }
    }
    // Public endpoints: no token needed.
    for path in ["/healthz", "/openapi.json", "/metrics", "/v1/pki/signers"] {
        let answer = server.call("GET", path, None, None).await?;
        if answer.status != 200 {
            failures.push(format!("GET {path} (public): {}", answer.status));
        }
    }
    let verify = server
        .call("POST", "/v1/verify", None, Some(&json!({"seal": "AAAA"})))
        .await?;
    if verify.status != 200 || verify.body["status"] != "INVALID" {
        failures.push(format!(
            "POST /v1/verify (public): {} {}",
            verify.status, verify.body
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mission_never_sees_another_missions_requests() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let created = server
        .call(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Some(&ttd_body("LON")),
        )
        .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().ok_or("id")?;
    // The other mission cannot read, issue or request for LON.
    let read = server
        .call(
            "GET",
            &format!("/v1/ttds/{id}"),
            Some(&staff.other_mission),
            None,
        )
        .await?;
    assert_eq!(read.status, 404, "{}", read.body);
    let own = server
        .call("GET", &format!("/v1/ttds/{id}"), Some(&staff.mission), None)
        .await?;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["case_reference"], "RA-KWT-2026-0042");
    let approve = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(approve.status, 200, "{}", approve.body);
    let issue = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/issue"),
            Some(&staff.other_mission),
            None,
        )
        .await?;
    assert_eq!(issue.status, 404, "{}", issue.body);
    let foreign = server
        .call(
            "POST",
            "/v1/ttds",
            Some(&staff.other_mission),
            Some(&ttd_body("LON")),
        )
        .await?;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert_eq!(foreign.field(), "mission");
    let list = server
        .call(
            "GET",
            "/v1/documents?mission=LON",
            Some(&staff.other_mission),
            None,
        )
        .await?;
    assert_eq!(list.status, 404, "{}", list.body);
    Ok(())
}
