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
