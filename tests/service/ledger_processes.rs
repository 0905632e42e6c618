//! Several travdoc processes appending to one ledger: a real PostgreSQL cluster (started here
//! with scripts/pg-test-cluster.sh on a free port and stopped at the end), two OS processes
//! appending 10,000 entries at once, then a process killed with SIGKILL mid-append. The log
//! must verify with no gap, no duplicate and no half entry.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TRAVDOC: &str = env!("CARGO_BIN_EXE_travdoc");

struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster.sh")
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let output = Command::new(script())
            .arg("start")
            .arg(dir.path())
            .arg(port.to_string())
            .output()
            .expect("run pg-test-cluster.sh");
        assert!(
            output.status.success(),
            "PostgreSQL test cluster failed to start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Self { dir, url }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

fn travdoc(data_dir: &Path, url: &str) -> Command {
    let mut command = Command::new(TRAVDOC);
    command
        .env("DATABASE_URL", url)
        .env("TRAVDOC_DATA_DIR", data_dir)
        .env_remove("TRAVDOC_CONFIG");
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("run travdoc");
    assert!(
        output.status.success(),
        "travdoc failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Creates the PKI (its key and certificate events are the first ledger entries) and returns
/// how many entries that recorded.
fn init_pki(data_dir: &Path, url: &str) -> u64 {
    run_ok(travdoc(data_dir, url).args(["pki", "init"]));
    let export = run_ok(travdoc(data_dir, url).args(["ledger", "export"]));
    let count = export.lines().count() as u64;
    assert!(
        count >= 10,
        "the PKI's keys and certificates are ledgered: {export}"
    );
    count
}

fn entries_in(text: &str) -> u64 {
    // "ledger OK: N entries, ..."
    text.split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected verify output: {text}"))
}

#[test]
fn two_processes_then_a_crash_on_postgres() {
    let cluster = Cluster::start();
    let data = tempfile::tempdir().expect("data dir");
    let url = cluster.url.clone();

    // Migrate once, so both writers start on an existing schema (they would also race safely:
    // PostgreSQL migrations take an advisory lock).
    run_ok(travdoc(data.path(), &url).args(["ledger", "append-synthetic", "--count", "0"]));
    let pki = init_pki(data.path(), &url);

    let writers: Vec<_> = (0..2)
        .map(|_| {
            travdoc(data.path(), &url)
                .args(["ledger", "append-synthetic", "--count", "5000"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn writer")
        })
        .collect();
    for writer in writers {
        let output = writer.wait_with_output().expect("writer finishes");
        assert!(
            output.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    run_ok(travdoc(data.path(), &url).args(["ledger", "checkpoint"]));
    let verified = run_ok(travdoc(data.path(), &url).args(["ledger", "verify"]));
    assert!(verified.starts_with("ledger OK"), "{verified}");
    assert_eq!(entries_in(&verified), pki + 10_000);

    // Every index 0..10000 exactly once, in order.
    let export = run_ok(travdoc(data.path(), &url).args(["ledger", "export"]));
    let indexes: Vec<u64> = export
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            value["index"].as_u64().expect("index")
        })
        .collect();
    assert_eq!(indexes, (0..pki + 10_000).collect::<Vec<_>>());

    // Crash: SIGKILL a writer mid-append; the log still verifies and holds only whole entries.
    let mut victim = travdoc(data.path(), &url)
        .args([
            "ledger",
            "append-synthetic",
            "--count",
            "1000000",
            "--batch",
            "3",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn victim");
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let out = run_ok(travdoc(data.path(), &url).args(["ledger", "verify"]));
        if entries_in(&out) > pki + 10_300 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "victim made no progress"
        );
    }
    victim.kill().expect("SIGKILL the writer");
    victim.wait().expect("reaped");
    let verified = run_ok(travdoc(data.path(), &url).args(["ledger", "verify"]));
    assert!(verified.starts_with("ledger OK"), "{verified}");
    let size = entries_in(&verified);
    assert!(size > pki + 10_300);
    assert_eq!(
        size % 3,
        (pki + 10_000) % 3,
        "whole batches only: no half-committed transaction"
    );
    // A later writer continues the same sequence.
    run_ok(travdoc(data.path(), &url).args(["ledger", "append-synthetic", "--count", "5"]));
    run_ok(travdoc(data.path(), &url).args(["ledger", "checkpoint"]));
    let verified = run_ok(travdoc(data.path(), &url).args(["ledger", "verify"]));
    assert_eq!(entries_in(&verified), size + 5);
}

#[test]
fn cli_on_sqlite_verify_prove_export_and_tamper() {
    let data = tempfile::tempdir().expect("data dir");
    let db = data.path().join("travdoc.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let pki = init_pki(data.path(), &url);
    run_ok(travdoc(data.path(), &url).args([
        "ledger",
        "append-synthetic",
        "--count",
        "40",
        "--batch",
        "8",
    ]));
    let checkpoint = run_ok(travdoc(data.path(), &url).args(["ledger", "checkpoint"]));
    let lines: Vec<&str> = checkpoint.lines().collect();
    assert_eq!(lines[0], "travdoc.invalid/lka/ledger");
    assert_eq!(lines[1], (pki + 40).to_string());
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} travdoc.invalid/lka/ledger "));

    let index = (pki + 17).to_string();
    let proof = run_ok(travdoc(data.path(), &url).args(["ledger", "prove", "--index", &index]));
    assert!(
        proof.starts_with(&format!("c2sp.org/tlog-proof@v1\nindex {index}\n")),
        "{proof}"
    );
    assert!(
        proof.ends_with(&checkpoint),
        "the receipt carries the checkpoint"
    );
    let json =
        run_ok(travdoc(data.path(), &url).args(["ledger", "prove", "--index", &index, "--json"]));
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["index"], pki + 17);
    assert_eq!(value["tree_size"], pki + 40);
    assert_eq!(value["checkpoint"].as_str(), Some(checkpoint.as_str()));
    let export = run_ok(travdoc(data.path(), &url).args(["ledger", "export"]));
    let line: serde_json::Value =
        serde_json::from_str(export.lines().nth((pki + 17) as usize).expect("line")).expect("JSON");
    assert_eq!(line["leaf_hash"], value["leaf_hash"]);
    assert_eq!(line["entry"]["event"]["kind"], "blank_spoiled");

    // An attacker drops the trigger and edits the 13th synthetic entry: exit 1, index named.
    let bad = pki + 12;
    let tamper = format!(
        "DROP TRIGGER ledger_entry_body_no_update; \
         UPDATE ledger_entry_body SET body = CAST(REPLACE(CAST(body AS TEXT), 'synthetic load', 'synthetic l0ad') AS BLOB) WHERE idx = {bad};"
    );
    // (the sqlite3 CLI comes from scripts/install-system-deps.sh --with-test-tools)
    let ok = Command::new("sqlite3")
        .arg(&db)
        .arg(&tamper)
        .status()
        .expect("run sqlite3");
    assert!(ok.success());
    let output = travdoc(data.path(), &url)
        .args(["ledger", "verify"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(&format!("first bad index {bad}")), "{text}");
}
