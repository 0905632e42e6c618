//! The same flow on a real PostgreSQL (a private cluster started by
//! `scripts/pg-test-cluster.sh`; the test fails when it cannot start), and two `travdoc serve`
//! processes on that database issuing at once without duplicate numbers.

use crate::common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use common::{Server, Staff, TestResult};

struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn start(port: u16) -> Result<Self, Box<dyn std::error::Error>> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh");
        let dir = tempfile::tempdir()?;
        // initdb runs as the postgres user, which must be able to reach the directory.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        }
        let output = Command::new(&script)
            .arg("start")
            .arg(dir.path().join("pg"))
            .arg(port.to_string())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "PostgreSQL test cluster did not start: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let stdout = String::from_utf8(output.stdout)?;
        let url = stdout
            .lines()
            .rev()
            .find(|line| line.starts_with("postgres://") || line.starts_with("postgresql://"))
            .ok_or_else(|| format!("no URL in the cluster script's output: {stdout}"))?
            .trim()
            .to_owned();
        Ok(Cluster { dir, url })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh");
        let _ = Command::new(script)
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttd_flow_and_two_nodes_on_postgresql() -> TestResult {
    let cluster = Cluster::start(55_431)?;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    let node_a = Server::start_in(&data_dir, &[("DATABASE_URL", &cluster.url)], None)?;
    let staff = Staff::create(&node_a).await?;
    let issued = common::issue_ttd(&node_a, &staff).await?;
    let seal = issued["seal"].clone();
    let verified = node_a
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&serde_json::json!({"seal": seal})),
        )
        .await?;
    assert_eq!(verified.body["status"], "VALID", "{}", verified.body);
    let number = issued["document_number"].as_str().ok_or("number")?;
    common::assert_issuance_proof(&node_a, &staff.auditor, &verified.body, number).await?;

    // A second node on the same database and the same (file-backed SoftHSM2) token.
    let node_b = Server::start_in(&data_dir, &[("DATABASE_URL", &cluster.url)], None)?;
    let mut tasks = Vec::new();
    for round in 0..12 {
        let node = if round % 2 == 0 { &node_a } else { &node_b };
        tasks.push(common::issue_ttd(node, &staff));
    }
    let results = common::join_all(tasks).await;
    let mut numbers = HashSet::new();
    numbers.insert(
        issued["document_number"]
            .as_str()
            .ok_or("number")?
            .to_owned(),
    );
    for result in results {
        let body = result?;
        let number = body["document_number"].as_str().ok_or("number")?.to_owned();
        assert!(numbers.insert(number.clone()), "duplicate number {number}");
    }
    assert_eq!(numbers.len(), 13);

    // One approved request issued six times at once through both nodes: exactly one issues;
    // the others are a state conflict (never a 500), whichever check stops them.
    let id = common::approved_ttd(&node_a, &staff).await?;
    let path = format!("/v1/ttds/{id}/issue");
    let mut racers = Vec::new();
    for round in 0..6 {
        let node = if round % 2 == 0 { &node_a } else { &node_b };
        racers.push(node.call("POST", &path, Some(&staff.mission), None));
    }
    let mut issued = 0;
    for answer in common::join_all(racers).await {
        let answer = answer?;
        match answer.status {
            200 => issued += 1,
            409 => assert_eq!(answer.code(), "invalid_state", "{}", answer.body),
            other => return Err(format!("issue race: HTTP {other}: {}", answer.body).into()),
        }
    }
    assert_eq!(issued, 1);
    Ok(())
}
