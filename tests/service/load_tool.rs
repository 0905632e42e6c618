//! The load tool (`travdoc bench`) against a real server: it reports what it measured, keeps
//! warm-up requests out of the measured figures, and every request it made took effect.

use crate::common;

use std::process::Command;

use common::{Server, TestResult};

/// A mission user and an approver for the bench, with API tokens, made as `load-test.sh`
/// makes them: offline, the approver's grant confirmed by the admin.
pub(crate) async fn bench_tokens(
    server: &Server,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let run = |output: std::process::Output| -> Result<(), Box<dyn std::error::Error>> {
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned().into())
        }
    };
    run(server.cli(&[
        "user",
        "add",
        "bench-mission",
        "--role",
        "mission",
        "--mission",
        "BNCH",
    ])?)?;
    run(server.cli(&["user", "add", "bench-approver", "--role", "approver"])?)?;
    run(server.cli_as_admin(&["user", "confirm", "bench-approver"])?)?;
    Ok((
        common::cli_token_of(server, "bench-mission")?,
        common::cli_token_of(server, "bench-approver")?,
    ))
}

async fn bench(
    server: &Server,
    what: &str,
    count: &str,
    warmup: &str,
) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    let (mission, approver) = match server.cli(&["user", "list"])? {
        listed if String::from_utf8_lossy(&listed.stdout).contains("bench-mission") => (
            common::cli_token_of(server, "bench-mission")?,
            common::cli_token_of(server, "bench-approver")?,
        ),
        _ => bench_tokens(server).await?,
    };
    let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .args(["bench", what, "--url", &server.url, "--concurrency", "4"])
        .args(["--count", count, "--warmup", warmup])
        .env("TRAVDOC_MISSION_TOKEN", &mission)
        .env("TRAVDOC_APPROVER_TOKEN", &approver)
        .output()?;
    let stdout = String::from_utf8(output.stdout)?;
    if !output.status.success() {
        return Err(format!(
            "bench {what} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

#[tokio::test]
async fn bench_reports_measured_and_warm_up_requests_apart() -> TestResult {
    let server = Server::start()?;
    let issue = bench(&server, "issue", "12", "5").await?;
    let names: Vec<&str> = issue.iter().filter_map(|r| r["bench"].as_str()).collect();
    assert_eq!(
        names,
        [
            "ttd request+approve (setup)",
            "ttd issue (warm-up)",
            "ttd issue"
        ]
    );
    assert_eq!(issue[0]["ok"], 17);
    assert_eq!(
        (issue[1]["ok"].as_u64(), issue[1]["failed"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(
        (issue[2]["ok"].as_u64(), issue[2]["failed"].as_u64()),
        (Some(12), Some(0))
    );
    assert!(
        issue[2]["per_second"]
            .as_f64()
            .is_some_and(|rate| rate > 0.0)
    );
    assert!(issue[2]["p99_ms"].as_f64() >= issue[2]["p50_ms"].as_f64());
    // Every issuance the tool counted is a document in the service.
    let staff = common::Staff::create(&server).await?;
    let listed = server
        .call("GET", "/v1/documents?type=ttd", Some(&staff.issuer), None)
        .await?;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(17),
        "{}",
        listed.body
    );

    let verify = bench(&server, "verify", "20", "0").await?;
    let last = verify.last().ok_or("no verify report")?;
    assert_eq!(last["bench"], "verify (seal)");
    assert_eq!(
        (last["ok"].as_u64(), last["failed"].as_u64()),
        (Some(20), Some(0))
    );

    // Pages: every request answered with the page; a page that is not there counts as failed.
    let page = |path: &str| {
        Command::new(env!("CARGO_BIN_EXE_travdoc"))
            .args(["bench", "page", "--url", &server.url, "--path", path])
            .args(["--concurrency", "2", "--count", "10", "--warmup", "2"])
            .args(["--accept-language", "ta"])
            .output()
    };
    let reports = |output: std::process::Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    };
    let login = reports(page("/console/login")?);
    let names: Vec<&str> = login.iter().filter_map(|r| r["bench"].as_str()).collect();
    assert_eq!(
        names,
        ["page (warm-up) /console/login", "page /console/login"]
    );
    assert_eq!(
        (login[1]["ok"].as_u64(), login[1]["failed"].as_u64()),
        (Some(10), Some(0))
    );
    let missing = reports(page("/no/such/page")?);
    let last = missing.last().ok_or("no page report")?;
    assert_eq!(
        (last["ok"].as_u64(), last["failed"].as_u64()),
        (Some(0), Some(10))
    );
    Ok(())
}
