//! The restore drill: `travdoc backup` while `serve` issues a burst of TTDs, `travdoc restore`
//! into a new data dir (the token restored from the HSM's own backup, here a copy), then the
//! ledger verifies, every document issued before the backup is there, and a seal issued before
//! the backup verifies against the restored service; a cut-short backup is refused whole.

use serde_json::json;

use crate::common::{self, Server, Staff, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_issuing_restores_into_a_working_service() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let mut before = Vec::new();
    for _ in 0..3 {
        let issued = common::issue_ttd(&server, &staff).await?;
        before.push((
            issued["document_number"]
                .as_str()
                .ok_or("number")?
                .to_owned(),
            issued["seal"].as_str().ok_or("seal")?.to_owned(),
        ));
    }

    // A burst of issuances while the backup runs.
    let dir = tempfile::tempdir()?;
    let archive = dir.path().join("travdoc-backup.tar");
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(common::approved_ttd(&server, &staff).await?);
    }
    let burst = {
        let server = &server;
        let mission = staff.mission.clone();
        async move {
            let mut issued = 0;
            for id in ids {
                let answer = server
                    .call(
                        "POST",
                        &format!("/v1/ttds/{id}/issue"),
                        Some(&mission),
                        None,
                    )
                    .await?;
                if answer.status == 200 {
                    issued += 1;
                }
            }
            Ok::<_, Box<dyn std::error::Error>>(issued)
        }
    };
    let archive_text = archive.to_str().ok_or("path")?.to_owned();
    let data_dir = server.data_dir.clone();
    let backup = tokio::task::spawn_blocking(move || {
        common::cli(&data_dir, &[], &["backup", "--out", &archive_text])
            .map_err(|error| error.to_string())
    });
    let (issued, backup) = tokio::join!(burst, backup);
    assert_eq!(issued?, 12);
    let backup = backup??;
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&backup.stdout)?;
    assert!(
        report["ledger_entries"].as_i64().unwrap_or(0) > 0,
        "{report}"
    );

    // A backup cut short is refused, and nothing is written.
    let bytes = std::fs::read(&archive)?;
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2])?;
    let refused_dir = dir.path().join("refused");
    let refused = common::cli(&refused_dir, &[], &["restore", cut.to_str().ok_or("path")?])?;
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("damaged or partial"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!refused_dir.join("travdoc.db").exists());
    // As is one with a byte changed inside the database.
    let mut flipped = bytes.clone();
    let middle = 512 + (bytes.len() / 4);
    flipped[middle] ^= 0x01;
    let flipped_file = dir.path().join("flipped.tar");
    std::fs::write(&flipped_file, &flipped)?;
    let refused = common::cli(
        &refused_dir,
        &[],
        &["restore", flipped_file.to_str().ok_or("path")?],
    )?;
    assert_eq!(refused.status.code(), Some(2));
    assert!(!refused_dir.join("travdoc.db").exists());

    // Restore into a new data dir; the token comes from the HSM's own backup (a copy here).
    let restored = dir.path().join("restored");
    let done = common::cli(
        &restored,
        &[],
        &["restore", archive.to_str().ok_or("path")?],
    )?;
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        !restored.join("hsm").exists(),
        "the backup holds no key material"
    );
    copy_dir(&server.data_dir.join("hsm"), &restored.join("hsm"))?;
    let verified = common::cli(&restored, &[], &["ledger", "verify"])?;
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    drop(server);

    // The restored service starts, holds every document issued before the backup, and
    // verifies their seals.
    let service = Server::start_in(&restored, &[], None)?;
    // The staff accounts came back with the database.
    let token = common::cli_token(&restored, &[], "issuer1")?;
    for (number, seal) in &before {
        let document = service
            .call(
                "GET",
                &format!("/v1/documents/{number}"),
                Some(&token),
                None,
            )
            .await?;
        assert_eq!(document.status, 200, "{}", document.body);
        let verdict = service
            .call("POST", "/v1/verify", None, Some(&json!({"seal": seal})))
            .await?;
        assert_eq!(verdict.body["status"], "VALID", "{}", verdict.body);
        assert_eq!(verdict.body["document_number"], number.as_str());
    }
    Ok(())
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// PostgreSQL, while a service runs on it: the manual procedure docs/backup-restore.md gives
/// (pg_dump, createdb, pg_restore; its ledger verifies), then `travdoc backup` and `travdoc
/// restore` (refused over a database in use; the restored ledger has the backup's root; a
/// service over it verifies a seal issued before the backup).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_backup_restore_and_the_documented_procedure_restore_a_working_service()
-> TestResult {
    let (server, cluster) = crate::e2e_postgres::server_on_postgres()?;
    let staff = Staff::create(&server).await?;
    let issued = common::issue_ttd(&server, &staff).await?;
    let seal = issued["seal"].as_str().ok_or("seal")?.to_owned();
    let number = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    // `doctor` on PostgreSQL: every check ok while the service runs.
    let doctor = server.cli(&["doctor", "--json"])?;
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&doctor.stdout)?;
    assert!(doctor.status.success(), "{checks:?}");
    assert!(
        checks.iter().any(|check| check["check"] == "config"
            && check["detail"]
                .as_str()
                .unwrap_or("")
                .contains("PostgreSQL")),
        "{checks:?}"
    );

    let bin = std::path::PathBuf::from(
        std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_owned()),
    );
    let dir = tempfile::tempdir()?;
    let dump = dir.path().join("travdoc.pgdump");
    let run = |program: &str, args: &[&str]| -> Result<(), Box<dyn std::error::Error>> {
        let output = std::process::Command::new(bin.join(program))
            .args(args)
            .output()?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("{program}: {}", String::from_utf8_lossy(&output.stderr)).into())
        }
    };
    let dump_text = dump.to_str().ok_or("path")?.to_owned();
    run(
        "pg_dump",
        &[
            "--format=custom",
            &format!("--file={dump_text}"),
            &cluster.url,
        ],
    )?;
    let (base, _) = cluster.url.rsplit_once('/').ok_or("database URL")?;
    let restored_url = format!("{base}/travdoc_restored");
    run(
        "psql",
        &[&cluster.url, "-c", "CREATE DATABASE travdoc_restored"],
    )?;
    run(
        "pg_restore",
        &[
            "--no-owner",
            &format!("--dbname={restored_url}"),
            &dump_text,
        ],
    )?;

    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored)?;
    let env = [("DATABASE_URL".to_owned(), restored_url.clone())];
    let verified = common::cli(&restored, &env, &["ledger", "verify"])?;
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );

    // `travdoc backup` drives pg_dump itself while the service runs (one exported snapshot, the
    // ledger's size and root read in it), and `travdoc restore` pg_restore into a new database.
    let archive = dir.path().join("travdoc-pg.tar");
    let archive_text = archive.to_str().ok_or("path")?;
    let backup = server.cli(&["backup", "--out", archive_text])?;
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&backup.stdout)?;
    assert!(
        printed["ledger_entries"].as_i64().unwrap_or(0) > 0,
        "{printed}"
    );
    // Never over a database in use: the service's own is refused, and stays as it was.
    let over = common::cli(
        &dir.path().join("over"),
        &[("DATABASE_URL".to_owned(), cluster.url.clone())],
        &["restore", archive_text],
    )?;
    assert!(!over.status.success());
    assert!(
        String::from_utf8_lossy(&over.stderr).contains("new, empty"),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
    let from_backup_url = format!("{base}/travdoc_from_backup");
    run(
        "psql",
        &[&cluster.url, "-c", "CREATE DATABASE travdoc_from_backup"],
    )?;
    let from_backup = dir.path().join("from-backup");
    let env = [("DATABASE_URL".to_owned(), from_backup_url.clone())];
    let restored_out = common::cli(&from_backup, &env, &["restore", archive_text])?;
    assert!(
        restored_out.status.success(),
        "{}",
        String::from_utf8_lossy(&restored_out.stderr)
    );
    let verified = common::cli(&from_backup, &env, &["ledger", "verify"])?;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        String::from_utf8_lossy(&verified.stdout)
            .contains(printed["ledger_root"].as_str().ok_or("root")?),
        "the restored ledger has the root the backup printed: {}",
        String::from_utf8_lossy(&verified.stdout)
    );

    copy_dir(&server.data_dir.join("hsm"), &from_backup.join("hsm"))?;
    drop(server);
    let service = Server::start_in(&from_backup, &[("DATABASE_URL", &from_backup_url)], None)?;
    let verdict = service
        .call("POST", "/v1/verify", None, Some(&json!({"seal": seal})))
        .await?;
    assert_eq!(verdict.body["status"], "VALID", "{}", verdict.body);
    assert_eq!(verdict.body["document_number"], number.as_str());
    Ok(())
}
