//! The same flow on a real PostgreSQL (a private cluster started by
//! `scripts/pg-test-cluster.sh`; the test fails when it cannot start), and two `travdoc serve`
//! processes on that database issuing at once without duplicate numbers.

use crate::common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use common::{Server, Staff, TestResult};

/// `travdoc serve` on a fresh data dir over a private PostgreSQL cluster; the server is
/// dropped (stopped) before the cluster.
pub(crate) fn server_on_postgres() -> Result<(Server, Cluster), Box<dyn std::error::Error>> {
    let cluster = Cluster::start()?;
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(
        &dir.path().join("var"),
        &[("DATABASE_URL", &cluster.url)],
        Some(dir),
    )?;
    Ok((server, cluster))
}

pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    pub(crate) url: String,
    port: u16,
}

impl Cluster {
    /// Starts a cluster on a free port (kept for restarts).
    pub(crate) fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let url = Self::start_in(&dir, port)?;
        Ok(Cluster { dir, url, port })
    }

    /// Starts the cluster in `dir` (created on first use; the data is kept across restarts).
    fn start_in(dir: &tempfile::TempDir, port: u16) -> Result<String, Box<dyn std::error::Error>> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh");
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
        Ok(url)
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`).
    pub(crate) fn stop(&self) {
        self.stop_with("immediate");
    }

    /// Stops the server with pg_ctl's shutdown `mode`. `fast` closes every connection but
    /// writes what was committed: the test cluster runs with `synchronous_commit = off`, so
    /// an `immediate` stop may lose the last commits, which a durable production server
    /// would not.
    pub(crate) fn stop_with(&self, mode: &str) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh");
        let _ = Command::new(script)
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .arg(mode)
            .output();
    }

    /// Starts it again on the same port and data.
    pub(crate) fn restart(&self) -> Result<(), Box<dyn std::error::Error>> {
        Self::start_in(&self.dir, self.port).map(|_| ())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttd_flow_and_two_nodes_on_postgresql() -> TestResult {
    let cluster = Cluster::start()?;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    let node_a = Server::start_in(&data_dir, &[("DATABASE_URL", &cluster.url)], None)?;
    let staff = Staff::create(&node_a).await?;
    let issued = common::issue_ttd(&node_a, &staff).await?;
    let verified = common::verify_issued_seal(&node_a, &issued).await?;
    let number = issued["document_number"].as_str().ok_or("number")?;
    common::assert_issuance_proof(&node_a, &staff.auditor, &verified, number).await?;

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

    // The idempotent response is stored by the issuing statement itself on PostgreSQL.
    crate::e2e_ttd::idempotent_issue(&node_b, &staff).await?;
    // The racers that lost had numbers allocated: each is recorded void, none left issued
    // without a document.
    let void = common::assert_numbers_accounted(&cluster.url).await?;
    eprintln!("after the races: {void} numbers void");
    issue_documents_refusals(&cluster.url, &node_a, &staff).await
}

/// The issuing statement's two refusals, called directly. An item whose request is not approved
/// any more answers `request_changed`, and nothing of it is written. An item whose number is not
/// allocated any more fails the whole statement with SQLSTATE TDN01: no other item of the batch
/// is issued either, no request moves, nothing is appended.
async fn issue_documents_refusals(url: &str, node: &Server, staff: &Staff) -> TestResult {
    let store = travdoc_store::Store::connect(url).await?;
    let pool = store.pool();
    let first = common::approved_ttd(node, staff).await?;
    let second = common::approved_ttd(node, staff).await?;
    let issued: String =
        sqlx::query_scalar("SELECT id FROM svc_requests WHERE state = 'issued' LIMIT 1")
            .fetch_one(pool)
            .await?;
    for (number, state, request) in [
        ("X0000001", "allocated", &first),
        ("X0000002", "void", &second),
        ("X0000003", "allocated", &issued),
    ] {
        sqlx::query(
            "INSERT INTO svc_document_numbers (number, series, state, request_id, allocated_at) \
             VALUES ($1, 'test', $2, $3, '2026-11-28T00:00:00Z')",
        )
        .bind(number)
        .bind(state)
        .bind(request)
        .execute(pool)
        .await?;
    }
    let item = |request: &str, number: &str| {
        serde_json::json!({
            "number": number, "kind": "ttd", "request_id": request, "mission": "LON",
            "valid_until": "2027-01-01", "at": "2026-11-28T00:00:00Z", "actor": "test",
            "payload": "{}", "event_id": format!("event-{number}"), "action": "ttd.issued",
            "leaf_sha256": "00", "entry_key": format!("ttd.issued:{number}"), "entry_kind": 1,
            "entry_time": 0, "entry_leaf": "00", "entry_body": "00",
        })
    };
    let call = |items: serde_json::Value| {
        sqlx::query("SELECT item_ord::BIGINT AS ord, item_outcome FROM issue_documents($1::jsonb)")
            .bind(items.to_string())
            .fetch_all(pool)
    };
    let (size, _) = travdoc_store::ledger::state(&store).await?;

    let rows = call(serde_json::json!([item(&issued, "X0000003")])).await?;
    assert_eq!(rows.len(), 1);
    let outcome: String = sqlx::Row::try_get(&rows[0], "item_outcome")?;
    assert_eq!(outcome, "request_changed");

    let error = call(serde_json::json!([
        item(&first, "X0000001"),
        item(&second, "X0000002")
    ]))
    .await
    .err()
    .ok_or("a batch with a void number was issued")?;
    let code = error
        .as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned());
    assert_eq!(code.as_deref(), Some("TDN01"), "{error}");

    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT number, state FROM svc_document_numbers WHERE number LIKE 'X%' ORDER BY number",
    )
    .fetch_all(pool)
    .await?;
    let expected = [
        ("X0000001", "allocated"),
        ("X0000002", "void"),
        ("X0000003", "allocated"),
    ];
    for ((number, state), (want_number, want_state)) in states.iter().zip(expected) {
        assert_eq!((number.as_str(), state.as_str()), (want_number, want_state));
    }
    for request in [&first, &second] {
        let state: String = sqlx::query_scalar("SELECT state FROM svc_requests WHERE id = $1")
            .bind(request)
            .fetch_one(pool)
            .await?;
        assert_eq!(state, "approved", "{request}");
    }
    let documents: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM svc_documents WHERE number LIKE 'X%'")
            .fetch_one(pool)
            .await?;
    assert_eq!(documents, 0);
    assert_eq!(travdoc_store::ledger::state(&store).await?.0, size);
    Ok(())
}

/// The database goes away under a running node and comes back: while it is away, issuing
/// answers 503 `database_unavailable` (never a 500) and stores nothing; once it is back the
/// node issues again without a restart, and every number is issued or recorded void.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restart_is_a_503_then_the_node_recovers() -> TestResult {
    let cluster = Cluster::start()?;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    let node = Server::start_in(&data_dir, &[("DATABASE_URL", &cluster.url)], None)?;
    let staff = Staff::create(&node).await?;
    common::issue_ttd(&node, &staff).await?;
    let waiting = common::approved_ttd(&node, &staff).await?;
    let path = format!("/v1/ttds/{waiting}/issue");

    cluster.stop_with("fast");
    for _ in 0..3 {
        let answer = node.call("POST", &path, Some(&staff.mission), None).await?;
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert_eq!(answer.code(), "database_unavailable", "{}", answer.body);
    }
    cluster.restart()?;
    // Connections broken by the restart may fail one request each (503, never 500); then
    // the same request issues.
    let mut issued = None;
    for _ in 0..40 {
        let answer = node.call("POST", &path, Some(&staff.mission), None).await?;
        match answer.status {
            200 => {
                issued = Some(answer.body);
                break;
            }
            503 => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            other => return Err(format!("after the restart: HTTP {other}: {}", answer.body).into()),
        }
    }
    let issued = issued.ok_or("the node did not recover after the database came back")?;
    common::verify_issued_seal(&node, &issued).await?;
    drop(node);

    let store = travdoc_store::Store::connect(&cluster.url).await?;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT number, state FROM svc_document_numbers ORDER BY number")
            .fetch_all(store.pool())
            .await?;
    assert!(rows.iter().any(|(_, state)| state == "issued"));
    for (number, state) in &rows {
        assert!(state == "issued" || state == "void", "{number} is {state}");
    }
    let report = travdoc_store::ledger::verify(&store, &[], &mut |_, _| {}).await?;
    assert!(report.is_ok(), "{report:?}");
    Ok(())
}

/// PostgreSQL over TLS with `sslmode=verify-full` (issue 18): a cluster started with a server
/// certificate from a test CA; the service connects, checking the certificate against that CA
/// and the host name, and issues; a service given another CA does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_over_tls_with_verify_full() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    }
    let openssl = |args: &[&str]| -> Result<(), Box<dyn std::error::Error>> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
        }
        Ok(())
    };
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for (name, subject) in [
        ("ca", "/CN=Test database CA"),
        ("other-ca", "/CN=Another CA"),
    ] {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509"];
        args.extend(p256);
        args.extend([
            "-keyout", &key, "-out", &pem, "-days", "2", "-subj", subject,
        ]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend(["-addext", "keyUsage=critical,keyCertSign"]);
        openssl(&args)?;
    }
    let mut args = vec!["req"];
    args.extend(p256);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&args)?;
    std::fs::write(
        dir.path().join("server.cnf"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.cnf",
    ])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh");
    let started = Command::new(&script)
        .args([
            "start",
            &dir.path().join("pg").display().to_string(),
            &port.to_string(),
        ])
        .env("PG_SSL_CERT", dir.path().join("server.pem"))
        .env("PG_SSL_KEY", dir.path().join("server.key"))
        .output()?;
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let stop = || {
        let _ = Command::new(&script)
            .args(["stop", &dir.path().join("pg").display().to_string()])
            .output();
    };
    let url = |ca: &str| {
        format!(
            "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={}",
            dir.path().join(ca).display()
        )
    };
    // Verified against the test CA and the host name: the service starts and issues.
    let verified = url("ca.pem");
    let outcome = async {
        let server = Server::start_in(
            &dir.path().join("var"),
            &[("DATABASE_URL", &verified)],
            None,
        )?;
        let staff = Staff::create(&server).await?;
        let issued = common::issue_ttd(&server, &staff).await?;
        common::verify_issued_seal(&server, &issued).await?;
        drop(server);
        // Another CA: the connection is refused, the service does not start.
        let wrong = url("other-ca.pem");
        let refused = Server::start_in(&dir.path().join("var2"), &[("DATABASE_URL", &wrong)], None);
        assert!(
            refused.is_err(),
            "a database certificate from an unknown CA was accepted"
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    stop();
    outcome
}
