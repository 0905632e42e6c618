//! Crash during concurrent issuance (SIGKILL), then restart: the ledger verifies, and every
//! allocated number ends up issued (with its document) or void (with a ledger entry). On
//! SQLite and on PostgreSQL (whose issuing path is two batched statements of its own).

use crate::common;

use common::{Server, Staff, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_issuance_leaves_no_gap_and_a_valid_ledger() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    let url = format!("sqlite://{}?mode=rw", data_dir.join("travdoc.db").display());
    crash_and_check(&data_dir, &[], &url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_issuance_on_postgresql() -> TestResult {
    let cluster = crate::e2e_postgres::Cluster::start()?;
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    crash_and_check(&data_dir, &[("DATABASE_URL", &cluster.url)], &cluster.url).await
}

async fn crash_and_check(
    data_dir: &std::path::Path,
    extra_env: &[(&str, &str)],
    url: &str,
) -> TestResult {
    let mut env = vec![("TRAVDOC_RECOVERY_GRACE_SECS", "0")];
    env.extend_from_slice(extra_env);
    let data_dir = data_dir.to_owned();
    let mut server = Server::start_in(&data_dir, &env, None)?;
    let staff = Staff::create(&server).await?;
    let mut ids = Vec::new();
    for _ in 0..120 {
        let id = common::approved_ttd(&server, &staff).await?;
        ids.push(id);
    }
    let answered = std::sync::atomic::AtomicUsize::new(0);
    {
        let server_ref = &server;
        let answered = &answered;
        let token = staff.mission.clone();
        let issuing = ids.iter().map(|id| {
            let token = token.clone();
            async move {
                let _ = server_ref
                    .call("POST", &format!("/v1/ttds/{id}/issue"), Some(&token), None)
                    .await;
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let all = common::join_all(issuing.collect());
        // Let some issuances complete, then crash in the middle of the rest.
        let some_done = async {
            while answered.load(std::sync::atomic::Ordering::Relaxed) < 10 {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        };
        tokio::select! {
            _ = all => {}
            _ = some_done => {}
        }
    }
    server.kill9();

    let server = Server::start_in(&data_dir, &env, None)?;
    let ready = server.call("GET", "/readyz", None, None).await?;
    assert_eq!(ready.status, 200, "{}", ready.body);
    drop(server);

    let store = travdoc_store::Store::connect(url).await?;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT number, state FROM svc_document_numbers ORDER BY number")
            .fetch_all(store.pool())
            .await?;
    assert!(!rows.is_empty());
    let void = rows.iter().filter(|(_, state)| state == "void").count();
    eprintln!("after the crash: {} numbers, {void} void", rows.len());
    assert!(
        rows.len() - void < ids.len(),
        "the kill came after the burst: nothing was interrupted"
    );
    for (number, state) in &rows {
        assert!(state == "issued" || state == "void", "{number} is {state}");
        let documents: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM svc_documents WHERE number = $1")
                .bind(number)
                .fetch_one(store.pool())
                .await?;
        assert_eq!(documents, i64::from(state == "issued"), "{number}");
    }
    // The series has no gaps: numbers 1..=n all exist.
    for (index, (number, _)) in rows.iter().enumerate() {
        assert_eq!(number, &format!("T{:07}", index + 1));
    }
    let report = travdoc_store::ledger::verify(&store, &[], &mut |_, _| {}).await?;
    assert!(report.is_ok(), "{report:?}");
    Ok(())
}
