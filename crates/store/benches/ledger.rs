//! Ledger benchmarks on SQLite (WAL, synchronous=FULL):
//! - `append/one_tx_per_entry`: durable appends, one transaction (one fsync) per entry;
//! - `append/batched_100`: group commit, 100 entries per transaction (throughput per entry);
//! - `proof_1m/inclusion`: an inclusion proof of a random entry of a 1,000,000-entry log;
//! - `verify_1m/full`: a full `verify` of that log.
//!
//! The 1M-entry log is built once into `$TMPDIR/travdoc-ledger-bench-1m.db` (big batches) and
//! reused by later runs.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use travdoc_store::ledger::{self, Entry, Event, PrintStatus};
use travdoc_store::{Store, StoreOptions};

const ORIGIN: &str = "travdoc.invalid/bench/ledger";
const BIG: u64 = 1_000_000;

fn entry(i: u64) -> Entry {
    Entry::new(
        1_790_000_000 + i as i64,
        Event::PrintJob {
            document_ref: format!("doc-{i:010}"),
            job_ref: format!("job-{i}"),
            printer: "hq-printer-1".into(),
            status: PrintStatus::Completed,
            blank_serial: Some(format!("B{i:09}")),
        },
    )
}

async fn append_range(store: &Store, from: u64, to: u64) {
    let entries: Vec<(String, Entry)> = (from..to)
        .map(|i| (format!("bench-{i}"), entry(i)))
        .collect();
    let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
    let mut tx = store.begin().await.expect("begin");
    ledger::append_batch(&mut tx, &refs).await.expect("append");
    tx.commit().await.expect("commit");
}

fn signer() -> travdoc_tlog::EcdsaP256Signer<p256::ecdsa::SigningKey> {
    let key = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).expect("scalar");
    travdoc_tlog::EcdsaP256Signer::new(ORIGIN, key).expect("name")
}

fn appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("append.db").display()
    );
    let store = runtime.block_on(Store::connect(&url)).expect("store");
    let mut next = 0u64;
    let mut group = c.benchmark_group("append");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_tx_per_entry", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iterations {
                    append_range(&store, next, next + 1).await;
                    next += 1;
                }
                start.elapsed()
            })
        })
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("batched_100", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iterations {
                    append_range(&store, next, next + 100).await;
                    next += 100;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

async fn big_log() -> Store {
    let path = std::env::temp_dir().join("travdoc-ledger-bench-1m.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let options = StoreOptions {
        sqlite_synchronous_full: false,
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url, options).await.expect("store");
    let (mut size, _) = ledger::state(&store).await.expect("state");
    if size < BIG {
        eprintln!("building a {BIG}-entry log in {} (once)", path.display());
        let start = Instant::now();
        while size < BIG {
            let end = (size + 5000).min(BIG);
            append_range(&store, size, end).await;
            size = end;
        }
        eprintln!("built in {:?}", start.elapsed());
    }
    ledger::checkpoint(&store, &signer(), ORIGIN, 1)
        .await
        .expect("checkpoint");
    store
}

fn big(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let store = runtime.block_on(big_log());
    let latest = runtime
        .block_on(ledger::latest_checkpoint(&store))
        .expect("checkpoint")
        .expect("one exists");
    let mut group = c.benchmark_group("proof_1m");
    group.throughput(Throughput::Elements(1));
    let mut conn = runtime
        .block_on(store.pool().acquire())
        .expect("connection");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    group.bench_function("inclusion", |b| {
        b.iter(|| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let index = seed % BIG;
            runtime
                .block_on(ledger::prove_inclusion_at(&mut conn, index, &latest))
                .expect("proof")
        })
    });
    group.finish();
    drop(conn);

    let mut group = c.benchmark_group("verify_1m");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(BIG));
    group.bench_function("full", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(ledger::verify(&store, &[], &mut |_, _| {}))
                .expect("verify");
            assert!(report.is_ok());
            report
        })
    });
    group.finish();
}

criterion_group!(benches, appends, big);
criterion_main!(benches);
