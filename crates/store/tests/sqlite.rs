//! The ledger on a real SQLite file (WAL): transactions, idempotency, proofs, and tampering.

mod common;

use travdoc_store::Store;

async fn open_in(dir: &std::path::Path, name: &str) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{name}.db")).display()
    );
    Store::connect(&url).await.expect("connect")
}

#[tokio::test]
async fn transactions_and_idempotency() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_in(dir.path(), "tx").await;
    common::transaction_suite(&store).await;
}

#[tokio::test]
async fn append_paths_agree_with_the_reference_tree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_in(dir.path(), "paths").await;
    common::append_paths_suite(&store).await;
}

#[tokio::test]
async fn tampering_is_detected_and_located() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_owned();
    common::tamper_suite(async |name: &str| open_in(&path, name).await).await;
}

#[tokio::test]
async fn cached_proofs_follow_another_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = open_in(dir.path(), "shared").await;
    let b = open_in(dir.path(), "shared").await;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shared.db").display()
    );
    let options = travdoc_store::StoreOptions {
        ledger_hash_cache_bytes: 0,
        ..travdoc_store::StoreOptions::default()
    };
    let uncached = Store::connect_with(&url, options).await.expect("connect");
    common::cache_suite(&a, &b, &uncached).await;
}

async fn open_grouped(dir: &std::path::Path, name: &str) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{name}.db")).display()
    );
    let options = travdoc_store::StoreOptions {
        max_connections: 1,
        sqlite_group_commit: true,
        ..travdoc_store::StoreOptions::default()
    };
    Store::connect_with(&url, options).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_passes_the_transaction_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_grouped(dir.path(), "grouped-suite").await;
    common::transaction_suite(&store).await;
}

/// 96 concurrent writers share commits; the ones that fail (a bad statement) or are dropped
/// without committing leave nothing, the others everything, and the ledger verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_keeps_each_transaction_all_or_nothing() {
    use sqlx::Row as _;
    use travdoc_store::ledger;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_grouped(dir.path(), "grouped").await;
    let writers: Vec<_> = (0..96u64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.expect("begin");
                let entry = common::event(i);
                let appended = ledger::append(&mut tx, &format!("key-{i}"), &entry)
                    .await
                    .expect("append");
                match i % 4 {
                    // A statement fails: the caller gives the transaction up.
                    1 => {
                        let failed = sqlx::query("INSERT INTO no_such_table VALUES (1)")
                            .execute(tx.conn())
                            .await;
                        assert!(failed.is_err());
                        drop(tx);
                        None
                    }
                    // Dropped without a commit (an early return in the caller).
                    2 => None,
                    3 => {
                        tx.rollback().await.expect("rollback");
                        None
                    }
                    _ => {
                        tx.commit().await.expect("commit");
                        Some(appended.index)
                    }
                }
            })
        })
        .collect();
    let mut committed = Vec::new();
    for writer in writers {
        if let Some(index) = writer.await.expect("writer") {
            committed.push(index);
        }
    }
    committed.sort_unstable();
    // Committed entries got the consecutive indexes 0..n: the dropped ones left no gap.
    assert_eq!(committed, (0..24).collect::<Vec<u64>>());

    // A separate connection (no group) sees exactly the committed keys.
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("grouped.db").display()
    );
    let plain = Store::connect(&url).await.expect("connect");
    let rows = sqlx::query("SELECT idempotency_key FROM ledger_entry ORDER BY idx")
        .fetch_all(plain.pool())
        .await
        .expect("keys");
    let mut keys: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String, _>(0).expect("key"))
        .collect();
    keys.sort();
    let mut expected: Vec<String> = (0..96u64)
        .filter(|i| i % 4 == 0)
        .map(|i| format!("key-{i}"))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
    let report = ledger::verify(&plain, &[], &mut |_, _| {})
        .await
        .expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.entries, 24);
}

/// When the physical commit fails, every member of its batch is told so, and none of their
/// writes stay. A deferred foreign key is checked only at COMMIT, which makes that failure
/// reproducible: one member writes a dangling row and releases its savepoint (no error yet),
/// another commits a sound row in the same physical transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_failure_fails_the_whole_batch_and_keeps_nothing() {
    use sqlx::Row as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_grouped(dir.path(), "grouped-failure").await;
    let mut tx = store.begin().await.expect("begin");
    sqlx::query("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        .execute(tx.conn())
        .await
        .expect("parent");
    sqlx::query(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER \
         REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .execute(tx.conn())
    .await
    .expect("child");
    tx.commit().await.expect("schema commits");

    // Hold the writer so that both members below queue behind it and land in one batch (the
    // lock is fair: they get it before the committer, which queues only once the gate commits).
    let gate = store.begin().await.expect("gate");
    let (queued, mut started) = tokio::sync::mpsc::channel::<()>(2);
    let dangling = {
        let store = store.clone();
        let queued = queued.clone();
        tokio::spawn(async move {
            let _ = queued.send(()).await;
            let mut tx = store.begin().await.expect("begin");
            sqlx::query("INSERT INTO child (id, parent) VALUES (1, 99)")
                .execute(tx.conn())
                .await
                .expect("deferred: no error yet");
            tx.commit().await
        })
    };
    let sound = {
        let store = store.clone();
        tokio::spawn(async move {
            let _ = queued.send(()).await;
            let mut tx = store.begin().await.expect("begin");
            sqlx::query("INSERT INTO parent (id) VALUES (1)")
                .execute(tx.conn())
                .await
                .expect("insert");
            tx.commit().await
        })
    };
    for _ in 0..2 {
        started.recv().await.expect("a member started");
    }
    // From its signal to its place in the lock's queue a member takes microseconds.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let gate_result = gate.commit().await;
    let dangling = dangling.await.expect("task");
    let sound = sound.await.expect("task");
    assert!(
        dangling.is_err(),
        "the member with the dangling row must learn the commit failed"
    );
    assert!(
        sound.is_err() && gate_result.is_err(),
        "every member of the failed batch is told: {sound:?} {gate_result:?}"
    );

    // Nothing of the batch is stored, and the group goes on working.
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("grouped-failure.db").display()
    );
    let plain = Store::connect(&url).await.expect("connect");
    let count = |table: &'static str| {
        let plain = plain.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(plain.pool())
                .await
                .expect("count")
                .try_get::<i64, _>(0)
                .expect("count")
        }
    };
    assert_eq!(count("parent").await, 0);
    assert_eq!(count("child").await, 0);
    let mut tx = store.begin().await.expect("begin after a failed batch");
    sqlx::query("INSERT INTO parent (id) VALUES (2)")
        .execute(tx.conn())
        .await
        .expect("insert");
    tx.commit().await.expect("a later batch commits");
    assert_eq!(count("parent").await, 1);
}

/// The documents repository: a row reads back typed, a page filters by kind, mission and
/// validity, a state moves only from the states named, and the status lookup answers for the
/// numbers that exist.
#[tokio::test]
async fn documents_repository() {
    use travdoc_store::documents::{self, DocumentQuery};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_in(dir.path(), "documents").await;
    for (number, kind, mission, valid_until) in [
        ("T0000001", "ttd", Some("LON"), "2030-01-01"),
        ("T0000002", "ttd", Some("PAR"), "2020-01-01"),
        ("N0000001", "passport", None, "2035-06-30"),
    ] {
        sqlx::query(
            "INSERT INTO svc_documents (number, kind, request_id, mission, state, valid_until, \
             issued_at, issued_by, mrz, payload, ledger_index, updated_at) \
             VALUES ($1, $2, $3, $4, 'issued', $5, '2026-12-07T00:00:00Z', 'test', \
             '[\"A\",\"B\"]', '{}', 7, '2026-12-07T00:00:00Z')",
        )
        .bind(number)
        .bind(kind)
        .bind(format!("request-{number}"))
        .bind(mission)
        .bind(valid_until)
        .execute(store.pool())
        .await
        .expect("insert");
    }
    let row = documents::by_number(store.pool(), "T0000001")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        (
            row.kind.as_str(),
            row.state.as_str(),
            row.mission.as_deref()
        ),
        ("ttd", "issued", Some("LON"))
    );
    assert_eq!(row.mrz.as_deref(), Some("[\"A\",\"B\"]"));
    assert_eq!(row.ledger_index, Some(7));
    assert!(
        documents::by_number(store.pool(), "T9999999")
            .await
            .expect("read")
            .is_none()
    );

    let page = |state: Option<&'static str>, kind: Option<&'static str>| DocumentQuery {
        kind,
        mission: None,
        state,
        today: "2026-12-07",
        limit: 10,
        offset: 0,
        person: Default::default(),
    };
    let numbers = |rows: Vec<documents::DocumentRow>| -> Vec<String> {
        rows.into_iter().map(|row| row.number).collect()
    };
    let valid = documents::list(store.pool(), &page(Some("valid"), Some("ttd")))
        .await
        .expect("list");
    assert_eq!(numbers(valid), ["T0000001"]);
    let expired = documents::list(store.pool(), &page(Some("expired"), None))
        .await
        .expect("list");
    assert_eq!(numbers(expired), ["T0000002"]);
    let all = documents::list(store.pool(), &page(None, None))
        .await
        .expect("list");
    assert_eq!(all.len(), 3);

    let mut tx = store.begin().await.expect("begin");
    assert!(
        !documents::change_state(&mut tx, "T0000001", &["printed"], "used", None, "now")
            .await
            .expect("update"),
        "moved from a state it is not in"
    );
    assert!(
        documents::change_state(
            &mut tx,
            "T0000001",
            &["issued", "printed"],
            "revoked",
            Some("stolen"),
            "now"
        )
        .await
        .expect("update")
    );
    tx.commit().await.expect("commit");

    let statuses = documents::statuses(
        store.pool(),
        store.backend(),
        &["T0000001", "N0000001", "X0000000"],
    )
    .await
    .expect("statuses");
    let mut found: Vec<(String, String)> = statuses
        .into_iter()
        .map(|row| (row.number, row.state))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("N0000001".to_owned(), "issued".to_owned()),
            ("T0000001".to_owned(), "revoked".to_owned())
        ]
    );
}
