//! The ledger on a real PostgreSQL (a private cluster started by the test): transactions,
//! idempotency, proofs, and tampering.

mod common;

use travdoc_store::Store;

#[tokio::test]
async fn postgres_transactions_and_tampering() {
    let cluster = common::PgCluster::start();
    let url = cluster.database("txsuite").await;
    let store = Store::connect(&url).await.expect("connect");
    common::transaction_suite(&store).await;
    store.close().await;
    let url = cluster.database("appendpaths").await;
    let store = Store::connect(&url).await.expect("connect");
    common::append_paths_suite(&store).await;
    store.close().await;
    let url = cluster.database("cachesuite").await;
    let a = Store::connect(&url).await.expect("connect");
    let b = Store::connect(&url).await.expect("connect");
    let options = travdoc_store::StoreOptions {
        ledger_hash_cache_bytes: 0,
        ..travdoc_store::StoreOptions::default()
    };
    let uncached = Store::connect_with(&url, options).await.expect("connect");
    common::cache_suite(&a, &b, &uncached).await;
    for store in [a, b, uncached] {
        store.close().await;
    }
    let cluster_ref = &cluster;
    common::tamper_suite(async |name: &str| {
        let url = cluster_ref.database(name).await;
        Store::connect(&url).await.expect("connect")
    })
    .await;
}
