//! Crash during concurrent issuance (SIGKILL), then restart: the ledger verifies, and every
//! allocated number ends up issued (with its document) or void (with a ledger entry).

use crate::common;

use common::{Server, Staff, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_issuance_leaves_no_gap_and_a_valid_ledger() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("var");
    let env = [("TRAVDOC_RECOVERY_GRACE_SECS", "0")];
    let mut server = Server::start_in(&data_dir, &env, None)?;
    let staff = Staff::create(&server).await?;
    let mut ids = Vec::new();
    for _ in 0..30 {
        let id = common::approved_ttd(&server, &staff).await?;
        ids.push(id);
    }
    {
        let server_ref = &server;
        let token = staff.mission.clone();
        let issuing = ids.iter().map(|id| {
            let token = token.clone();
            async move {
                let _ = server_ref
                    .call("POST", &format!("/v1/ttds/{id}/issue"), Some(&token), None)
                    .await;
            }
        });
        let all = common::join_all(issuing.collect());
        // Let some issuances complete, then crash in the middle of the rest.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(400), all).await;
    }
    server.kill9();

    let server = Server::start_in(&data_dir, &env, None)?;
    let ready = server.call("GET", "/readyz", None, None).await?;
    assert_eq!(ready.status, 200, "{}", ready.body);
    drop(server);

    let url = format!("sqlite://{}?mode=rw", data_dir.join("travdoc.db").display());
    let store = travdoc_store::Store::connect(&url).await?;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT number, state FROM svc_document_numbers ORDER BY number")
            .fetch_all(store.pool())
            .await?;
    assert!(!rows.is_empty());
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
