//! `travdoc doctor` on a real data dir (SoftHSM2 token, SQLite, development PKI): all ok once
//! set up; then each fault an operator meets gives its own `warn` or `fail` line: a CRL within
//! its renewal window, an unreachable printer, a tampered ledger, a removed token.

use std::path::Path;

use crate::documents::travdoc_with;

/// `doctor --json` with `args` before it: the exit code and the checks.
fn doctor(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<serde_json::Value>) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["doctor", "--json"]);
    let run = travdoc_with(data, &all, env);
    let checks: Vec<serde_json::Value> = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}{}", run.stdout, run.stderr));
    (run.code, checks)
}

/// The lines of check `name`: (status, detail).
fn lines(checks: &[serde_json::Value], name: &str) -> Vec<(String, String)> {
    checks
        .iter()
        .filter(|check| check["check"] == name)
        .map(|check| {
            (
                check["status"].as_str().unwrap_or("").to_owned(),
                check["detail"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn only(checks: &[serde_json::Value], name: &str, status: &str) -> bool {
    let found = lines(checks, name);
    !found.is_empty() && found.iter().all(|(found, _)| found == status)
}

#[test]
fn doctor_is_all_ok_once_set_up_and_names_each_fault() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");

    // Before anything exists: the data dir is missing, and the command says how to make it.
    let (code, checks) = doctor(&data, &[], &[]);
    assert_eq!(code, 1);
    assert!(only(&checks, "data_dir", "fail"), "{checks:?}");

    let init = travdoc_with(&data, &["pki", "init"], &[]);
    assert_eq!(init.code, 0, "{}{}", init.stdout, init.stderr);
    let (code, checks) = doctor(&data, &[], &[]);
    assert_eq!(code, 0, "{checks:?}");
    for check in &checks {
        assert_eq!(check["status"], "ok", "{check}");
    }
    for name in [
        "config", "disk", "database", "hsm", "csca", "signer", "pki", "ledger", "printer",
    ] {
        assert!(!lines(&checks, name).is_empty(), "no {name} check");
    }
    assert_eq!(lines(&checks, "signer").len(), 5);

    // A configuration that does not parse is its own fail line.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[pki]\ncrl_renew_before = \"soon\"\n").expect("write");
    let (code, checks) = doctor(&data, &["--config", broken.to_str().expect("path")], &[]);
    assert_eq!(code, 1);
    assert!(only(&checks, "config", "fail"), "{checks:?}");

    // A CRL within its renewal window (a window of five years takes in today's CRL): warn.
    let window = dir.path().join("window.toml");
    std::fs::write(&window, "[pki]\ncrl_renew_before = \"5y\"\n").expect("write");
    let (code, checks) = doctor(&data, &["--config", window.to_str().expect("path")], &[]);
    assert_eq!(code, 0, "a warning is not a failure: {checks:?}");
    let pki = lines(&checks, "pki");
    assert!(
        pki.iter()
            .any(|(status, detail)| status == "warn" && detail.starts_with("crl:g1 in")),
        "{pki:?}"
    );

    // A printer whose address answers nothing: fail, naming it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).expect("profiles dir");
    std::fs::write(
        profiles.join("mission-kwi.toml"),
        format!(
            "name = \"mission-kwi\"\ndriver = \"ipp\"\nuri = \"ipp://127.0.0.1:{port}/ipp/print\"\n\
             media = \"iso_a4_210x297mm\"\ndpi = 600\noffset_x_mm = 0.0\noffset_y_mm = 0.0\n\
             templates = [\"ttd-sheet\"]\n"
        ),
    )
    .expect("profile");
    let profiles_text = profiles.to_str().expect("path").to_owned();
    let (code, checks) = doctor(
        &data,
        &[],
        &[("TRAVDOC_PRINTER_PROFILES", profiles_text.as_str())],
    );
    assert_eq!(code, 1, "{checks:?}");
    let printers = lines(&checks, "printer");
    assert!(
        printers
            .iter()
            .any(|(status, detail)| status == "fail" && detail.starts_with("mission-kwi:")),
        "{printers:?}"
    );
    assert!(
        printers
            .iter()
            .any(|(status, detail)| status == "ok" && detail.starts_with("default-folder")),
        "{printers:?}"
    );

    // A ledger entry changed behind the service's back: fail.
    tamper(&data.join("travdoc.db"));
    let (code, checks) = doctor(&data, &[], &[]);
    assert_eq!(code, 1);
    let ledger = lines(&checks, "ledger");
    assert!(
        ledger
            .iter()
            .any(|(status, detail)| status == "fail" && detail.starts_with("TAMPERED")),
        "{ledger:?}"
    );

    // The token's files gone: the HSM or every signer's key fails, naming the key.
    std::fs::rename(data.join("hsm"), dir.path().join("hsm-moved")).expect("move the token");
    let (code, checks) = doctor(&data, &[], &[]);
    assert_eq!(code, 1);
    let hsm_failed = lines(&checks, "hsm")
        .iter()
        .any(|(status, _)| status == "fail");
    let keys_missing = lines(&checks, "signer")
        .iter()
        .all(|(status, detail)| status == "fail" && detail.contains("not found"));
    assert!(hsm_failed || keys_missing, "{checks:?}");
}

/// Changes the body of the ledger's second entry in place, as someone with the database file
/// would: the append-only trigger dropped first.
fn tamper(database: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", database.display());
        let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
        sqlx::query("DROP TRIGGER ledger_entry_body_no_update")
            .execute(&pool)
            .await
            .expect("drop the trigger");
        let changed = sqlx::query(
            "UPDATE ledger_entry_body SET body = CAST('{\"tampered\":true}' AS BLOB) WHERE idx = 1",
        )
        .execute(&pool)
        .await
        .expect("tamper");
        assert_eq!(changed.rows_affected(), 1);
        pool.close().await;
    });
}
