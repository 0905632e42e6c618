//! Print exactly once (issue 18): concurrent first prints of one document (a double click, two
//! operators at once) print it once; the others are refused with nothing printed, no blank
//! used; an interrupted job is closed on the next start.

use serde_json::json;

use crate::common::{self, Server, Staff, TestResult};

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_first_prints_print_once() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let issued = common::issue_ttd(&server, &staff).await?;
    let number = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    let path = format!("/v1/documents/{number}/print");
    let body = json!({"printer": "default-folder"});
    let clicks: Vec<_> = (0..8)
        .map(|_| server.call("POST", &path, Some(&staff.mission), Some(&body)))
        .collect();
    let answers = common::join_all(clicks).await;
    let mut printed = 0;
    for answer in answers {
        let answer = answer?;
        match answer.status {
            200 => printed += 1,
            409 => assert_eq!(answer.code(), "invalid_state", "{}", answer.body),
            other => return Err(format!("print: {other} {}", answer.body).into()),
        }
    }
    assert_eq!(printed, 1, "one document, one first print");
    // The folder printer holds exactly one job for it.
    let spool = server.data_dir.join("spool").join("default");
    let files = std::fs::read_dir(&spool)?
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().contains(&number))
        .count();
    assert_eq!(files, 1, "{spool:?}");
    // A second print without a reason is refused; with one, it is a recorded reprint.
    let again = server
        .call("POST", &path, Some(&staff.mission), Some(&body))
        .await?;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.field(), "reprint_reason");
    let reprint = server
        .call(
            "POST",
            &path,
            Some(&staff.mission),
            Some(&json!({"printer": "default-folder", "reprint_reason": "jammed"})),
        )
        .await?;
    assert_eq!(reprint.status, 200, "{}", reprint.body);
    assert_eq!(reprint.body["attempt"], 2, "{}", reprint.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_print_job_is_closed_on_the_next_start() -> TestResult {
    let mut server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let issued = common::issue_ttd(&server, &staff).await?;
    let number = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    let data_dir = server.data_dir.clone();
    server.kill9();
    // A job the process recorded as queued and never answered (it stopped while printing).
    let sql = format!(
        "INSERT INTO svc_print_jobs (id, number, printer, state, created_by, created_at, \
         updated_at, attempt) VALUES ('interrupted-job', '{number}', 'default-folder', 'queued', \
         'someone', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)"
    );
    let inserted = std::process::Command::new("sqlite3")
        .arg(data_dir.join("travdoc.db"))
        .arg(&sql)
        .output()?;
    assert!(
        inserted.status.success(),
        "{}",
        String::from_utf8_lossy(&inserted.stderr)
    );
    let server = Server::start_in(&data_dir, &[], None)?;
    // The first print is no longer blocked by the interrupted job.
    let printed = server
        .call(
            "POST",
            &format!("/v1/documents/{number}/print"),
            Some(&staff.mission),
            Some(&json!({"printer": "default-folder"})),
        )
        .await?;
    assert_eq!(printed.status, 200, "{}", printed.body);
    let exported = std::process::Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["ledger", "export"])
        .env_remove("DATABASE_URL")
        .env_remove("SOFTHSM2_CONF")
        .output()?;
    let text = String::from_utf8_lossy(&exported.stdout);
    let closed = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .any(|line| {
            let event = &line["entry"]["event"];
            event["kind"] == "print_job"
                && event["job_ref"] == "interrupted-job"
                && event["status"] == "failed"
        });
    assert!(closed, "no ledger entry closing the interrupted job");
    Ok(())
}

/// Printers bound to missions: a mission prints only on a printer that names it (or `*`, the
/// embedded folder printer); a headquarters printer (no missions) is not a mission's;
/// headquarters staff print anywhere. Nothing is printed on a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mission_prints_only_on_its_own_printers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles)?;
    let profile = |name: &str, missions: &str| {
        let folder = dir.path().join(name);
        format!(
            "name = \"{name}\"\ndriver = \"folder\"\nfolder = \"{}\"\nmedia = \"iso_a4_210x297mm\"\n\
             dpi = 300\ntemplates = [\"ttd-sheet\", \"passport-datapage\"]\n{missions}\n",
            folder.display()
        )
    };
    std::fs::write(
        profiles.join("kwi.toml"),
        profile("kwi-folder", "missions = [\"KWI\"]"),
    )?;
    std::fs::write(profiles.join("hq.toml"), profile("hq-folder", ""))?;
    std::fs::write(
        profiles.join("lon.toml"),
        profile("lon-folder", "missions = [\"LON\", \"PAR\"]"),
    )?;
    let profiles_text = profiles.to_str().ok_or("path")?.to_owned();
    let data_dir = dir.path().join("var");
    let server = Server::start_in(
        &data_dir,
        &[("TRAVDOC_PRINTER_PROFILES", profiles_text.as_str())],
        None,
    )?;
    let staff = Staff::create(&server).await?;
    let first = common::issue_ttd(&server, &staff).await?;
    let second = common::issue_ttd(&server, &staff).await?;
    let number = |issued: &serde_json::Value| -> Result<String, Box<dyn std::error::Error>> {
        Ok(issued["document_number"]
            .as_str()
            .ok_or("number")?
            .to_owned())
    };
    let print = |number: String, token: String, printer: &'static str| {
        let server = &server;
        async move {
            server
                .call(
                    "POST",
                    &format!("/v1/documents/{number}/print"),
                    Some(&token),
                    Some(&json!({"printer": printer})),
                )
                .await
        }
    };
    // The London mission: not on Kuwait's printer, not on headquarters'.
    for printer in ["kwi-folder", "hq-folder"] {
        let refused = print(number(&first)?, staff.mission.clone(), printer).await?;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(refused.field(), "printer");
        assert!(
            std::fs::read_dir(dir.path().join(printer))
                .map(|entries| entries.count() == 0)
                .unwrap_or(true)
        );
    }
    // On its own.
    let printed = print(number(&first)?, staff.mission.clone(), "lon-folder").await?;
    assert_eq!(printed.status, 200, "{}", printed.body);
    // Headquarters prints anywhere, a mission's printer included.
    let printed = print(number(&second)?, staff.issuer.clone(), "kwi-folder").await?;
    assert_eq!(printed.status, 200, "{}", printed.body);
    Ok(())
}
