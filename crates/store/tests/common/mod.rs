//! Shared helpers: a software ledger signer, a private PostgreSQL cluster, sample logs and the
//! attacks a database administrator could run around the append-only triggers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use sqlx::{Executor as _, Row as _};
use travdoc_store::ledger::{self, Entry, Event, LedgerSigner, PrintStatus};
use travdoc_store::{Backend, Store};
use travdoc_tlog::EcdsaP256Signer;

pub const ORIGIN: &str = "travdoc.invalid/test/ledger";

/// A software P-256 key standing in for the HSM ledger key.
pub fn signer(seed: u8) -> EcdsaP256Signer<p256::ecdsa::SigningKey> {
    let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("valid scalar");
    EcdsaP256Signer::new(ORIGIN, key).expect("valid key name")
}

pub fn event(i: u64) -> Entry {
    let event = match i % 3 {
        0 => Event::PrintJob {
            document_ref: format!("doc-{i}"),
            job_ref: format!("job-{i}"),
            printer: "hq-1".into(),
            status: PrintStatus::Sent,
            blank_serial: Some(format!("B{i:06}")),
        },
        1 => Event::DocumentRevoked {
            document_ref: format!("doc-{i}"),
            reason: "lost".into(),
            operator_ref: "op-7".into(),
        },
        _ => Event::UserAdded {
            user_ref: format!("user-{i}"),
            role: "issuer".into(),
            operator_ref: "op-1".into(),
        },
    };
    Entry::new(1_790_000_000 + i as i64, event)
}

/// Appends entries [from, to) in batches of 7 per transaction.
pub async fn fill(store: &Store, from: u64, to: u64) {
    let mut i = from;
    while i < to {
        let end = (i + 7).min(to);
        let entries: Vec<(String, Entry)> =
            (i..end).map(|n| (format!("key-{n}"), event(n))).collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await.expect("begin");
        ledger::append_batch(&mut tx, &refs).await.expect("append");
        tx.commit().await.expect("commit");
        i = end;
    }
}

/// A log of 50 entries with checkpoints at 20 and 50.
pub async fn sample_log(store: &Store) {
    let signer = signer(7);
    fill(store, 0, 20).await;
    ledger::checkpoint(store, &signer as &dyn LedgerSigner, ORIGIN, 100)
        .await
        .expect("checkpoint 20");
    fill(store, 20, 50).await;
    ledger::checkpoint(store, &signer as &dyn LedgerSigner, ORIGIN, 200)
        .await
        .expect("checkpoint 50");
}

pub async fn verify(store: &Store) -> ledger::VerifyReport {
    ledger::verify(store, &[], &mut |_, _| {})
        .await
        .expect("verify runs")
}

/// Runs attacker SQL on one connection with the append-only triggers out of the way.
pub async fn attack(store: &Store, statements: &[String]) {
    let mut conn = store.pool().acquire().await.expect("connection");
    match store.backend() {
        Backend::Sqlite => {
            let names: Vec<String> =
                sqlx::query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    .fetch_all(&mut *conn)
                    .await
                    .expect("list triggers")
                    .iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect();
            for name in names {
                conn.execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                    .await
                    .expect("drop trigger");
            }
        }
        Backend::Postgres => {
            for table in [
                "ledger_entry",
                "ledger_entry_body",
                "ledger_hash",
                "ledger_checkpoint",
                "ledger_key",
                "ledger_state",
            ] {
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {table} DISABLE TRIGGER USER"
                )))
                .await
                .expect("disable triggers");
            }
        }
    }
    for statement in statements {
        conn.execute(sqlx::AssertSqlSafe(statement.clone()))
            .await
            .unwrap_or_else(|error| panic!("attack statement {statement}: {error}"));
    }
}

/// A blob literal for either backend.
pub fn blob(backend: Backend, bytes: &[u8]) -> String {
    match backend {
        Backend::Sqlite => format!("X'{}'", hex::encode(bytes)),
        Backend::Postgres => format!("decode('{}', 'hex')", hex::encode(bytes)),
    }
}

pub async fn body_of(store: &Store, index: i64) -> Vec<u8> {
    sqlx::query("SELECT body FROM ledger_entry_body WHERE idx = $1")
        .bind(index)
        .fetch_one(store.pool())
        .await
        .expect("body row")
        .get::<Vec<u8>, _>(0)
}

/// A private PostgreSQL cluster on a free port, stopped on drop.
pub struct PgCluster {
    dir: tempfile::TempDir,
    pub url: String,
}

pub fn script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/pg-test-cluster.sh"
    ))
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl PgCluster {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
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
        assert!(url.starts_with("postgres://"), "unexpected URL {url}");
        Self { dir, url }
    }

    /// A URL of a fresh database in this cluster.
    pub async fn database(&self, name: &str) -> String {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .expect("connect to the cluster");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let base = self
            .url
            .rfind('/')
            .map_or(self.url.as_str(), |at| &self.url[..at]);
        format!("{base}/{name}")
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Every attack on a fresh sample log; `open(name)` gives a fresh store per attack.
pub async fn tamper_suite(open: impl AsyncFn(&str) -> Store) {
    // Untouched: verifies.
    let store = open("clean").await;
    sample_log(&store).await;
    let report = verify(&store).await;
    assert!(report.is_ok(), "clean log: {:?}", report.problems);
    assert_eq!(report.entries, 50);
    assert_eq!(report.checkpoints, 2);
    // The triggers refuse ordinary changes.
    let refused = sqlx::query("UPDATE ledger_entry_body SET body = body WHERE idx = 1")
        .execute(store.pool())
        .await;
    assert!(refused.is_err(), "append-only trigger must refuse UPDATE");
    let refused = sqlx::query("DELETE FROM ledger_hash WHERE idx = 1")
        .execute(store.pool())
        .await;
    assert!(refused.is_err(), "append-only trigger must refuse DELETE");
    store.close().await;

    // 1. One byte of a stored entry body changed.
    let store = open("byte").await;
    sample_log(&store).await;
    let mut body = body_of(&store, 17).await;
    let at = body
        .iter()
        .position(|&b| b == b'-')
        .expect("a dash in the body");
    body[at] = b'_';
    attack(
        &store,
        &[format!(
            "UPDATE ledger_entry_body SET body = {} WHERE idx = 17",
            blob(store.backend(), &body)
        )],
    )
    .await;
    let report = verify(&store).await;
    assert_eq!(report.first_bad_index(), Some(17), "{:?}", report.problems);
    store.close().await;

    // 2. A row deleted.
    let store = open("delete").await;
    sample_log(&store).await;
    attack(
        &store,
        &["DELETE FROM ledger_entry WHERE idx = 23".to_owned()],
    )
    .await;
    let report = verify(&store).await;
    assert_eq!(report.first_bad_index(), Some(23), "{:?}", report.problems);
    store.close().await;

    // 3. Two rows swapped (every column but the index).
    let store = open("swap").await;
    sample_log(&store).await;
    let mut statements = vec![
        "UPDATE ledger_entry SET idempotency_key = 'tmp5' WHERE idx = 5".to_owned(),
        "UPDATE ledger_entry SET idempotency_key = 'tmp9' WHERE idx = 9".to_owned(),
    ];
    for (from, to) in [(9, 5), (5, 9)] {
        let row = sqlx::query(
            "SELECT kind, created_at, leaf, leaf_hash FROM ledger_entry WHERE idx = $1",
        )
        .bind(from)
        .fetch_one(store.pool())
        .await
        .expect("row");
        let body = body_of(&store, from).await;
        statements.push(format!(
            "UPDATE ledger_entry SET kind = {}, created_at = {}, leaf = {}, leaf_hash = {}, idempotency_key = 'key-{from}' WHERE idx = {to}",
            row.get::<i64, _>(0),
            row.get::<i64, _>(1),
            blob(store.backend(), &row.get::<Vec<u8>, _>(2)),
            blob(store.backend(), &row.get::<Vec<u8>, _>(3)),
        ));
        statements.push(format!(
            "UPDATE ledger_entry_body SET body = {} WHERE idx = {to}",
            blob(store.backend(), &body)
        ));
    }
    attack(&store, &statements).await;
    let report = verify(&store).await;
    assert_eq!(report.first_bad_index(), Some(5), "{:?}", report.problems);
    store.close().await;

    // 4. The log truncated to 30 entries, with a consistent state row rewritten by the
    //    attacker: the checkpoint at 50 names the first missing index.
    let store = open("truncate").await;
    sample_log(&store).await;
    let mut tree = travdoc_tlog::CompactRange::new();
    let leaves = sqlx::query("SELECT leaf_hash FROM ledger_entry WHERE idx < 30 ORDER BY idx")
        .fetch_all(store.pool())
        .await
        .expect("leaves");
    for row in leaves {
        let hash: Vec<u8> = row.get(0);
        tree.append(hash.try_into().expect("32 bytes"));
    }
    let kept_hashes = travdoc_tlog::merkle::stored_hash_count(30);
    attack(
        &store,
        &[
            "DELETE FROM ledger_entry_body WHERE idx >= 30".to_owned(),
            "DELETE FROM ledger_entry WHERE idx >= 30".to_owned(),
            format!("DELETE FROM ledger_hash WHERE idx >= {kept_hashes}"),
            format!(
                "UPDATE ledger_state SET size = 30, root = {}, frontier = {} WHERE id = 0",
                blob(store.backend(), &tree.root()),
                blob(store.backend(), &tree.hashes().concat())
            ),
        ],
    )
    .await;
    let report = verify(&store).await;
    assert_eq!(report.first_bad_index(), Some(30), "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.checkpoint == Some(50)));
    store.close().await;

    // 5a. A checkpoint forged by editing its text (size and root) under the old signature.
    let store = open("forge").await;
    sample_log(&store).await;
    let note: String = sqlx::query("SELECT note FROM ledger_checkpoint WHERE size = 50")
        .fetch_one(store.pool())
        .await
        .expect("checkpoint")
        .get(0);
    let parsed = travdoc_tlog::Note::parse(note.as_bytes()).expect("note");
    let body = travdoc_tlog::Checkpoint::parse_text(parsed.text()).expect("checkpoint");
    let forged_text = travdoc_tlog::Checkpoint::new(ORIGIN, 50, [9u8; 32]).to_text();
    let forged = note.replacen(&body.to_text(), &forged_text, 1);
    assert_ne!(forged, note);
    attack(
        &store,
        &[format!(
            "UPDATE ledger_checkpoint SET note = '{forged}' WHERE size = 50"
        )],
    )
    .await;
    let report = verify(&store).await;
    assert!(!report.is_ok());
    assert!(
        report.problems.iter().any(|p| p.checkpoint == Some(50)),
        "{:?}",
        report.problems
    );
    store.close().await;

    // 5b. A checkpoint re-signed by a key the log never recorded.
    let store = open("forgekey").await;
    sample_log(&store).await;
    let rogue = signer(9);
    let forged = travdoc_tlog::Checkpoint::new(ORIGIN, 20, [3u8; 32])
        .sign(&rogue)
        .expect("sign");
    attack(
        &store,
        &[format!(
            "UPDATE ledger_checkpoint SET note = '{forged}' WHERE size = 20"
        )],
    )
    .await;
    let report = verify(&store).await;
    assert!(
        report.problems.iter().any(|p| p.checkpoint == Some(20)),
        "{:?}",
        report.problems
    );
    store.close().await;

    // 6. Entry 10 rewritten with every derived hash and the state recomputed: only the signed
    //    checkpoints can tell, and they bound the change to [0, 20).
    let store = open("rewrite").await;
    sample_log(&store).await;
    let mut statements = Vec::new();
    let mut range = travdoc_tlog::CompactRange::new();
    let mut position = 0u64;
    for i in 0..50u64 {
        let entry = if i == 10 { event(1000) } else { event(i) };
        let body = entry.encode();
        let leaf = entry.leaf(&body);
        let hash = travdoc_tlog::leaf_hash(&leaf);
        for stored in range.append(hash) {
            if i >= 10 {
                statements.push(format!(
                    "UPDATE ledger_hash SET hash = {} WHERE idx = {position}",
                    blob(store.backend(), &stored)
                ));
            }
            position += 1;
        }
        if i == 10 {
            statements.push(format!(
                "UPDATE ledger_entry SET kind = {}, created_at = {}, leaf = {}, leaf_hash = {} WHERE idx = 10",
                entry.event.kind_code(),
                entry.time,
                blob(store.backend(), &leaf),
                blob(store.backend(), &hash)
            ));
            statements.push(format!(
                "UPDATE ledger_entry_body SET body = {} WHERE idx = 10",
                blob(store.backend(), &body)
            ));
        }
    }
    statements.push(format!(
        "UPDATE ledger_state SET root = {}, frontier = {} WHERE id = 0",
        blob(store.backend(), &range.root()),
        blob(store.backend(), &range.hashes().concat())
    ));
    attack(&store, &statements).await;
    let report = verify(&store).await;
    assert!(!report.is_ok());
    let problem = report
        .problems
        .iter()
        .find(|p| p.checkpoint == Some(20))
        .unwrap_or_else(|| panic!("checkpoint 20 must fail: {:?}", report.problems));
    assert!(problem.message.contains("[0, 20)"), "{}", problem.message);
    store.close().await;

    // 7. Every evidence column of every ledger table, changed alone, is noticed. (The
    //    idempotency key is how appends are de-duplicated, not evidence: only a malformed one
    //    is; `signed_at` and `added_at` are when the server stored a checkpoint or a key.)
    let other = |backend: Backend, bytes: &[u8]| blob(backend, bytes);
    type Tamper = Box<dyn Fn(Backend) -> String>;
    let columns: Vec<(&str, Tamper)> = vec![
        (
            "ledger_entry.idx",
            Box::new(|_| "UPDATE ledger_entry SET idx = 1000 WHERE idx = 7".into()),
        ),
        (
            "ledger_entry.idempotency_key",
            Box::new(|_| "UPDATE ledger_entry SET idempotency_key = '' WHERE idx = 7".into()),
        ),
        (
            "ledger_entry.kind",
            Box::new(|_| "UPDATE ledger_entry SET kind = kind + 1 WHERE idx = 7".into()),
        ),
        (
            "ledger_entry.created_at",
            Box::new(|_| {
                "UPDATE ledger_entry SET created_at = created_at + 1 WHERE idx = 7".into()
            }),
        ),
        (
            "ledger_entry.leaf",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_entry SET leaf = {} WHERE idx = 7",
                    other(b, b"forged leaf")
                )
            }),
        ),
        (
            "ledger_entry.leaf_hash",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_entry SET leaf_hash = {} WHERE idx = 7",
                    other(b, &[7u8; 32])
                )
            }),
        ),
        (
            "ledger_entry_body.idx",
            Box::new(|_| "UPDATE ledger_entry_body SET idx = 1000 WHERE idx = 7".into()),
        ),
        (
            "ledger_entry_body.body",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_entry_body SET body = {} WHERE idx = 7",
                    other(b, b"{}")
                )
            }),
        ),
        (
            "ledger_hash.idx",
            Box::new(|_| "UPDATE ledger_hash SET idx = 100000 WHERE idx = 3".into()),
        ),
        (
            "ledger_hash.hash",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_hash SET hash = {} WHERE idx = 3",
                    other(b, &[5u8; 32])
                )
            }),
        ),
        (
            "ledger_state.size",
            Box::new(|_| "UPDATE ledger_state SET size = size - 1 WHERE id = 0".into()),
        ),
        (
            "ledger_state.root",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_state SET root = {} WHERE id = 0",
                    other(b, &[1u8; 32])
                )
            }),
        ),
        (
            "ledger_state.frontier",
            Box::new(move |b| {
                format!(
                    "UPDATE ledger_state SET frontier = {} WHERE id = 0",
                    other(b, &[2u8; 96])
                )
            }),
        ),
        (
            "ledger_checkpoint.size",
            Box::new(|_| "UPDATE ledger_checkpoint SET size = 21 WHERE size = 20".into()),
        ),
        (
            "ledger_checkpoint.note",
            Box::new(|_| "UPDATE ledger_checkpoint SET note = 'not a note' WHERE size = 20".into()),
        ),
        (
            "ledger_key.name",
            Box::new(|_| "UPDATE ledger_key SET name = 'someone.else'".into()),
        ),
        (
            "ledger_key.key_id",
            Box::new(|_| "UPDATE ledger_key SET key_id = key_id + 1".into()),
        ),
        (
            "ledger_key.spki",
            Box::new(move |b| format!("UPDATE ledger_key SET spki = {}", other(b, b"not a key"))),
        ),
    ];
    for (column, statement) in columns {
        let name = format!("col_{}", column.replace(['.', '_'], ""));
        let store = open(&name).await;
        sample_log(&store).await;
        attack(&store, &[statement(store.backend())]).await;
        // Noticed: a problem in the report, or verification refusing the stored state.
        let noticed = match ledger::verify(&store, &[], &mut |_, _| {}).await {
            Ok(report) => !report.is_ok(),
            Err(_) => true,
        };
        assert!(noticed, "{column} changed and not noticed");
        store.close().await;
    }
}

/// Appends in a caller's transaction commit or roll back together with its own records, and
/// idempotency keys do not duplicate.
pub async fn transaction_suite(store: &Store) {
    let mut tx = store.begin().await.expect("begin");
    sqlx::query("CREATE TABLE test_document (number TEXT PRIMARY KEY, ledger_index BIGINT)")
        .execute(tx.conn())
        .await
        .expect("create");
    tx.commit().await.expect("commit");

    // Rolled back: neither the document nor the entry exists.
    let mut tx = store.begin().await.expect("begin");
    sqlx::query("INSERT INTO test_document (number) VALUES ($1)")
        .bind("N1")
        .execute(tx.conn())
        .await
        .expect("insert");
    let appended = ledger::append(&mut tx, "issue-N1", &event(1))
        .await
        .expect("append");
    assert_eq!(appended.index, 0);
    tx.rollback().await.expect("rollback");
    assert_eq!(ledger::state(store).await.expect("state").0, 0);
    let documents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM test_document")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(documents, 0);

    // Committed: both; a retry with the same key appends nothing.
    for attempt in 0..2 {
        let mut tx = store.begin().await.expect("begin");
        if attempt == 0 {
            sqlx::query("INSERT INTO test_document (number) VALUES ($1)")
                .bind("N1")
                .execute(tx.conn())
                .await
                .expect("insert");
        }
        let appended = ledger::append(&mut tx, "issue-N1", &event(1))
            .await
            .expect("append");
        assert_eq!(appended.index, 0);
        assert_eq!(appended.fresh, attempt == 0);
        tx.commit().await.expect("commit");
    }
    let mut tx = store.begin().await.expect("begin");
    let second = ledger::append(&mut tx, "issue-N2", &event(2))
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!(second.index, 1);
    assert_eq!(ledger::state(store).await.expect("state").0, 2);

    // Checkpoint, prove, re-checkpoint without growth returns the same note.
    let signer = signer(7);
    let first = ledger::checkpoint(store, &signer, ORIGIN, 10)
        .await
        .expect("checkpoint");
    let again = ledger::checkpoint(store, &signer, ORIGIN, 11)
        .await
        .expect("checkpoint");
    assert_eq!(first, again);
    let proof = ledger::prove_inclusion(store, 1).await.expect("proof");
    let text = proof.to_tlog_proof().to_text();
    let parsed = travdoc_tlog::TlogProof::parse(&text).expect("parses");
    let verifier = signer.verifier();
    let checkpoint = parsed
        .verify(&second.leaf_hash, ORIGIN, &[&verifier])
        .expect("receipt verifies offline");
    assert_eq!(checkpoint.size, 2);
    assert!(
        ledger::prove_inclusion(store, 2).await.is_err(),
        "not yet checkpointed"
    );
    let report = verify(store).await;
    assert!(report.is_ok(), "{:?}", report.problems);

    // A key the caller knows is new is appended without a lookup; if it was not new after
    // all, the constraint fails the transaction and nothing is appended.
    let mut tx = store.begin().await.expect("begin");
    sqlx::query("INSERT INTO test_document (number) VALUES ($1)")
        .bind("N3")
        .execute(tx.conn())
        .await
        .expect("insert");
    let row = ledger::IndexRow {
        table: "test_document",
        index_column: "ledger_index",
        key_column: "number",
        key: "N3",
    };
    let third = ledger::append_new(&mut tx, "issue-N3", &event(3), Some(&row))
        .await
        .expect("append_new");
    assert_eq!((third.index, third.fresh), (2, true));
    tx.commit().await.expect("commit");
    let linked: Option<i64> =
        sqlx::query_scalar("SELECT ledger_index FROM test_document WHERE number = 'N3'")
            .fetch_one(store.pool())
            .await
            .expect("linked index");
    assert_eq!(
        linked,
        Some(2),
        "the index is written where the caller keeps it"
    );
    let mut tx = store.begin().await.expect("begin");
    let again = ledger::append_new(&mut tx, "issue-N3", &event(3), None).await;
    assert!(again.is_err(), "a reused key must fail, not append twice");
    tx.rollback().await.expect("rollback");
    assert_eq!(ledger::state(store).await.expect("state").0, 3);
    let report = verify(store).await;
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// Proofs served from the hash cache stay right while another store (another process)
/// appends: `a` caches part of a chunk, `b` appends far past it and signs a checkpoint, and
/// every proof `a` then serves equals the uncached one read from the database, equals what a
/// store without a cache (`uncached`) serves, and verifies against the checkpoint root.
pub async fn cache_suite(a: &Store, b: &Store, uncached: &Store) {
    let signer = signer(7);
    fill_batched(a, 0, 3, 3).await;
    let early = ledger::checkpoint(a, &signer, ORIGIN, 1)
        .await
        .expect("checkpoint 3");
    let early_proof = ledger::prove_inclusion(a, 1).await.expect("proof at 3");
    fill_batched(b, 3, 5000, 500).await;
    let latest = ledger::checkpoint(b, &signer, ORIGIN, 2)
        .await
        .expect("checkpoint 5000");
    assert_eq!(latest.size, 5000);
    let root = |note: &str| {
        let parsed = travdoc_tlog::Note::parse(note.as_bytes()).expect("note");
        travdoc_tlog::Checkpoint::parse_text(parsed.text())
            .expect("checkpoint")
            .root
    };
    let mut conn = a.pool().acquire().await.expect("connection");
    for index in [
        0u64, 1, 2, 3, 1000, 2047, 2048, 2049, 4095, 4096, 4998, 4999,
    ] {
        let cached = ledger::prove_inclusion(a, index)
            .await
            .expect("cached proof");
        let direct = ledger::prove_inclusion_at(&mut conn, index, &latest)
            .await
            .expect("database proof");
        let without = ledger::prove_inclusion_against(uncached, index, &latest)
            .await
            .expect("proof without cache");
        assert_eq!(cached, direct, "index {index}");
        assert_eq!(cached, without, "index {index}");
        assert_eq!(cached.tree_size, 5000);
        travdoc_tlog::verify_inclusion(
            &cached.leaf_hash,
            index,
            5000,
            &cached.path,
            &root(&latest.note),
        )
        .unwrap_or_else(|error| panic!("index {index}: {error}"));
    }
    // The early proof, served before the cache grew, still holds against its checkpoint.
    travdoc_tlog::verify_inclusion(
        &early_proof.leaf_hash,
        1,
        3,
        &early_proof.path,
        &root(&early.note),
    )
    .expect("early proof");
    assert!(
        ledger::prove_inclusion_against(a, 5000, &latest)
            .await
            .is_err(),
        "beyond the checkpoint"
    );
    drop(conn);
    let report = verify(a).await;
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.entries, 5000);
}

/// Appends entries [from, to) in batches of `batch` per transaction.
pub async fn fill_batched(store: &Store, from: u64, to: u64, batch: u64) {
    let mut i = from;
    while i < to {
        let end = (i + batch).min(to);
        let entries: Vec<(String, Entry)> =
            (i..end).map(|n| (format!("key-{n}"), event(n))).collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await.expect("begin");
        ledger::append_batch(&mut tx, &refs).await.expect("append");
        tx.commit().await.expect("commit");
        i = end;
    }
}

/// Appends `count` entries from `first` with the server-side `ledger_append_batch`
/// (PostgreSQL, migration 0120) in one statement; checks the first index it answers and returns
/// the leaf hashes stored for them.
async fn server_batch(store: &Store, first: u64, count: u64) -> Vec<travdoc_tlog::merkle::Hash> {
    let prepared: Vec<ledger::PreparedEntry> = (first..first + count)
        .map(|i| ledger::PreparedEntry::new(&format!("mixed-{i}"), &event(i)).expect("entry"))
        .collect();
    let list = |column: usize, cast: &str| {
        let params: Vec<String> = (0..prepared.len())
            .map(|i| format!("${}", column * prepared.len() + i + 1))
            .collect();
        format!("ARRAY[{}]::{cast}[]", params.join(", "))
    };
    let sql = format!(
        "SELECT ledger_append_batch({}, {}, {}, {}, {}) AS first",
        list(0, "text"),
        list(1, "bigint"),
        list(2, "bigint"),
        list(3, "bytea"),
        list(4, "bytea"),
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for entry in &prepared {
        query = query.bind(entry.key().to_owned());
    }
    for entry in &prepared {
        query = query.bind(entry.kind());
    }
    for entry in &prepared {
        query = query.bind(entry.time());
    }
    for entry in &prepared {
        query = query.bind(entry.leaf().to_vec());
    }
    for entry in &prepared {
        query = query.bind(entry.body().to_vec());
    }
    let row = query
        .fetch_one(store.pool())
        .await
        .expect("ledger_append_batch");
    let answered: i64 = row.try_get("first").expect("first");
    assert_eq!(u64::try_from(answered).ok(), Some(first));
    let rows = sqlx::query("SELECT leaf_hash FROM ledger_entry WHERE idx >= $1 ORDER BY idx")
        .bind(i64::try_from(first).expect("index"))
        .fetch_all(store.pool())
        .await
        .expect("leaf hashes");
    assert_eq!(rows.len() as u64, count);
    rows.iter()
        .map(|row| {
            let hash: Vec<u8> = row.try_get(0).expect("hash");
            hash.try_into().expect("32 bytes")
        })
        .collect()
}

/// The append paths agree with the reference tree: single appends (on PostgreSQL the
/// server-side `ledger_append` function), keys known new, batches (the Rust path) and mixes of
/// them in one transaction, and on PostgreSQL batches appended in the server
/// (`ledger_append_batch`, as issuing does), across many tree shapes. After every commit the
/// state row's root is the in-memory tree's, and at the end every stored hash is, the log
/// verifies, and a checkpoint signs.
pub async fn append_paths_suite(store: &Store) {
    let mut tree = travdoc_tlog::merkle::MemoryTree::new();
    let expected_hash =
        |entry: &Entry| travdoc_tlog::merkle::leaf_hash(&entry.leaf(&entry.encode()));
    let mut n = 0u64;
    for round in 0..40u64 {
        let mut tx = store.begin().await.expect("begin");
        // Round r: (r % 4) single appends, then a batch of (r % 3) entries, then one key known
        // new, all in one transaction.
        for _ in 0..round % 4 {
            let entry = event(n);
            let appended = ledger::append(&mut tx, &format!("mixed-{n}"), &entry)
                .await
                .expect("append");
            assert_eq!((appended.index, appended.fresh), (n, true));
            assert_eq!(appended.leaf_hash, expected_hash(&entry));
            tree.push_hash(appended.leaf_hash);
            n += 1;
        }
        let batch: Vec<(String, Entry)> = (n..n + round % 3)
            .map(|i| (format!("mixed-{i}"), event(i)))
            .collect();
        let refs: Vec<(&str, &Entry)> = batch.iter().map(|(k, e)| (k.as_str(), e)).collect();
        for appended in ledger::append_batch(&mut tx, &refs).await.expect("batch") {
            assert_eq!((appended.index, appended.fresh), (n, true));
            tree.push_hash(appended.leaf_hash);
            n += 1;
        }
        let entry = event(n);
        let appended = ledger::append_new(&mut tx, &format!("mixed-{n}"), &entry, None)
            .await
            .expect("append_new");
        assert_eq!(
            (appended.index, appended.leaf_hash),
            (n, expected_hash(&entry))
        );
        tree.push_hash(appended.leaf_hash);
        n += 1;
        tx.commit().await.expect("commit");
        if store.backend() == Backend::Postgres {
            // Then a batch of 1 to 7 appended in the server, as the issuing statement does.
            for (i, appended) in server_batch(store, n, round % 7 + 1)
                .await
                .iter()
                .enumerate()
            {
                assert_eq!(appended, &expected_hash(&event(n + i as u64)));
                tree.push_hash(*appended);
            }
            n += round % 7 + 1;
        }
        let (size, root) = ledger::state(store).await.expect("state");
        assert_eq!((size, root), (tree.size(), tree.root()), "round {round}");
    }
    // A retried key answers the first entry and appends nothing.
    let mut tx = store.begin().await.expect("begin");
    let again = ledger::append(&mut tx, "mixed-5", &event(5))
        .await
        .expect("retry");
    tx.commit().await.expect("commit");
    assert_eq!((again.index, again.fresh), (5, false));
    let leaf_5 = tree.lookup(travdoc_tlog::merkle::stored_hash_index(0, 5));
    assert_eq!(Some(again.leaf_hash), leaf_5);
    assert_eq!(ledger::state(store).await.expect("state").0, n);
    let rows = sqlx::query("SELECT idx, hash FROM ledger_hash ORDER BY idx")
        .fetch_all(store.pool())
        .await
        .expect("stored hashes");
    assert_eq!(rows.len(), tree.stored_hashes().len());
    for (row, want) in rows.iter().zip(tree.stored_hashes()) {
        let hash: Vec<u8> = row.try_get(1).expect("hash");
        assert_eq!(hash.as_slice(), want.as_slice());
    }
    let report = verify(store).await;
    assert!(report.is_ok(), "{:?}", report.problems);
    let note = ledger::checkpoint(store, &signer(7), ORIGIN, 1)
        .await
        .expect("checkpoint");
    assert_eq!(note.size, n);
}
