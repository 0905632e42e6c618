//! The OpenAPI document says what the server does: schemathesis (from PyPI, installed by
//! `scripts/install-system-deps.sh --with-test-tools`) runs `st run --checks all` against a
//! live `travdoc serve` seeded with a user of every role, an issued TTD, an approved TTD request
//! and a passport application, with the configuration in `tests/schemathesis/schemathesis.toml`.
//! Any failure (an undocumented status, a response off its schema, a schema-valid request
//! refused, a schema-violating one accepted, a server error) fails the test.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::json;

use crate::common::{self, Server, Staff};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The schemathesis CLI: `TRAVDOC_SCHEMATHESIS`, else the virtual environment the install
/// script makes under `target/tools/schemathesis`.
fn schemathesis() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let path = match std::env::var_os("TRAVDOC_SCHEMATHESIS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/schemathesis/bin/st"),
    };
    if !path.exists() {
        return Err(format!(
            "schemathesis is not installed at {}: run scripts/install-system-deps.sh \
             --with-test-tools (or set TRAVDOC_SCHEMATHESIS)",
            path.display()
        )
        .into());
    }
    Ok(path)
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_failure_with_every_check() -> TestResult {
    let st = schemathesis()?;
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let issued = common::issue_ttd(&server, &staff).await?;
    let document = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    let approved = common::approved_ttd(&server, &staff).await?;
    // The account the user operations act on, and one of its API tokens.
    server.user("subject", "issuer", None).await?;
    let subject_token = server
        .call(
            "POST",
            "/v1/users/subject/tokens",
            Some(&staff.admin),
            Some(&json!({"label": "revoked by the run"})),
        )
        .await?;
    let subject_token = subject_token.body["id"]
        .as_str()
        .ok_or("token id")?
        .to_owned();
    let photo =
        base64::engine::general_purpose::STANDARD.encode(crate::e2e_passport::portrait_jpeg()?);
    // A passport application with `nic` (the one for approval and issuance, and others).
    let apply = |nic: &'static str| {
        let (server, staff, photo) = (&server, &staff, &photo);
        async move {
            let answer = server
                .call(
                    "POST",
                    "/v1/passport-applications",
                    Some(&staff.issuer),
                    Some(&json!({
                        "surname": "Silva", "given_names": "Ama Kumari", "nationality": "LKA",
                        "birth_date": "1990-02-01", "sex": "F", "photo": photo, "nic": nic})),
                )
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(answer.body)
        }
    };
    let application = apply("199053201234").await?["id"]
        .as_str()
        .ok_or("application id")?
        .to_owned();
    // Requests for the approver's other decisions (clear a hold, return, reject): held by a
    // NIC that disagrees with the birth date, so that each decision finds something to act on.
    let mut held_ttd = common::ttd_body("LON");
    held_ttd["nic"] = json!("199053201234");
    let held_ttd = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&held_ttd))
        .await?;
    assert_eq!(held_ttd.body["state"], "on_hold", "{}", held_ttd.body);
    let held_ttd = held_ttd.body["id"].as_str().ok_or("ttd id")?.to_owned();
    let held_application = apply("1990532X").await?;
    assert_eq!(held_application["state"], "on_hold", "{held_application}");
    let held_application = held_application["id"]
        .as_str()
        .ok_or("application id")?
        .to_owned();
    // Returned requests, for their requesters' corrections.
    let returned_ttd = server
        .call(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Some(&common::ttd_body("LON")),
        )
        .await?;
    let returned_ttd = returned_ttd.body["id"].as_str().ok_or("ttd id")?.to_owned();
    let returned_application = apply("199053201234").await?["id"]
        .as_str()
        .ok_or("application id")?
        .to_owned();
    for path in [
        format!("/v1/ttds/{returned_ttd}/return"),
        format!("/v1/passport-applications/{returned_application}/return"),
    ] {
        let returned = server
            .call(
                "POST",
                &path,
                Some(&staff.approver),
                Some(&json!({"reason": "for the contract run"})),
            )
            .await?;
        assert_eq!(returned.body["state"], "returned", "{}", returned.body);
    }

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let report = tempfile::tempdir()?;
    let output = Command::new(st)
        .arg("--config-file")
        .arg(root.join("tests/schemathesis/schemathesis.toml"))
        .args(["run", &format!("{}/openapi.json", server.url)])
        .args(["--checks", "all", "--no-color", "--seed", "20261207"])
        .current_dir(report.path())
        .env("TRAVDOC_URL", &server.url)
        .env("TRAVDOC_ADMIN_TOKEN", &staff.admin)
        .env("TRAVDOC_MISSION_TOKEN", &staff.mission)
        .env("TRAVDOC_APPROVER_TOKEN", &staff.approver)
        .env("TRAVDOC_ISSUER_TOKEN", &staff.issuer)
        .env("TRAVDOC_CONSULAR_TOKEN", &staff.consular)
        .env("TRAVDOC_IMMIGRATION_TOKEN", &staff.immigration)
        .env("TRAVDOC_AUDITOR_TOKEN", &staff.auditor)
        .env("TRAVDOC_TTD_REQUEST", &approved)
        .env("TRAVDOC_PASSPORT_APPLICATION", &application)
        .env("TRAVDOC_DOCUMENT", &document)
        .env("TRAVDOC_SUBJECT_TOKEN", &subject_token)
        .env("TRAVDOC_HELD_TTD", &held_ttd)
        .env("TRAVDOC_HELD_APPLICATION", &held_application)
        .env("TRAVDOC_RETURNED_TTD", &returned_ttd)
        .env("TRAVDOC_RETURNED_APPLICATION", &returned_application)
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // The summary is enough to read in CI; the whole report is printed on failure.
    let summary = text
        .find("=== SUMMARY ===")
        .map_or(text.as_ref(), |at| &text[at..]);
    eprintln!("{summary}");
    assert!(
        output.status.success(),
        "schemathesis reported failures:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every documented operation was reached.
    let served = server.call("GET", "/openapi.json", None, None).await?;
    let operations: usize = served.body["paths"]
        .as_object()
        .ok_or("paths")?
        .values()
        .filter_map(|item| item.as_object())
        .map(|item| item.len())
        .sum();
    assert!(
        text.contains(&format!("Tested: {operations}")),
        "not all {operations} operations were tested:\n{text}"
    );
    Ok(())
}
