//! Ledger benchmarks on SQLite (WAL). Run: `cargo bench -p travdoc-store --bench ledger`.
//!
//! - `append/*`: durable appends with the store's default `synchronous=FULL` (every commit
//!   fsyncs the WAL), one transaction per entry and group-committed batches, each beside a
//!   baseline that inserts the same bytes (key, leaf, body) into a plain table the same way;
//! - `proof_1m/*`: inclusion proofs of random entries of a 1,000,000-entry log: from the hash
//!   cache against a given checkpoint, against the latest checkpoint (one extra query), and
//!   uncached from the database; baseline: one point SELECT through the pool;
//! - `verify_1m/*`: a full `verify` of that log (1,000 signed checkpoints), beside two
//!   baselines: the hashing it cannot avoid (SHA-256 of every body, leaf and node) and a bare
//!   scan of the rows it reads.
//!
//! The 1M-entry log is built once (batches of 5,000, `synchronous=NORMAL`, a checkpoint every
//! 1,000 entries) into `$TMPDIR/travdoc-ledger-bench-1m-v2.db` and reused by later runs;
//! delete it to rebuild.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::TryStreamExt as _;
use travdoc_store::ledger::{self, Entry, Event, PrintStatus};
use travdoc_store::{Store, StoreOptions};
use travdoc_tlog::merkle::CompactRange;

const ORIGIN: &str = "travdoc.invalid/bench/ledger";
const BIG: u64 = 1_000_000;
const CHECKPOINT_EVERY: u64 = 1_000;

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

/// The baseline: the same bytes in a plain table, one multi-row INSERT per transaction.
async fn raw_insert_range(store: &Store, from: u64, to: u64) {
    let mut tx = store.begin().await.expect("begin");
    for start in (from..to).step_by(400) {
        let end = (start + 400).min(to);
        let rows = (start..end)
            .map(|_| "(?,?,?,?)")
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("INSERT INTO bench_raw (idx, idempotency_key, leaf, body) VALUES {rows}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in start..end {
            let entry = entry(i);
            let body = entry.encode();
            let leaf = entry.leaf(&body);
            query = query
                .bind(i as i64)
                .bind(format!("bench-{i}"))
                .bind(leaf.to_vec())
                .bind(body);
        }
        query.execute(tx.conn()).await.expect("raw insert");
    }
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
    // Default options: WAL, synchronous=FULL.
    let store = runtime.block_on(Store::connect(&url)).expect("store");
    runtime.block_on(async {
        sqlx::query(
            "CREATE TABLE bench_raw (idx INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, \
             leaf BLOB NOT NULL, body BLOB NOT NULL)",
        )
        .execute(store.pool())
        .await
        .expect("baseline table")
    });
    let mut next = 0u64;
    let mut raw_next = 0u64;
    let mut group = c.benchmark_group("append");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    group.bench_function("ledger_one_tx_per_entry", |b| {
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
    group.bench_function("baseline_raw_one_tx_per_entry", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iterations {
                    raw_insert_range(&store, raw_next, raw_next + 1).await;
                    raw_next += 1;
                }
                start.elapsed()
            })
        })
    });
    for batch in [100u64, 1000] {
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("ledger_batched_{batch}"), |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        append_range(&store, next, next + batch).await;
                        next += batch;
                    }
                    start.elapsed()
                })
            })
        });
        group.bench_function(format!("baseline_raw_batched_{batch}"), |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        raw_insert_range(&store, raw_next, raw_next + batch).await;
                        raw_next += batch;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
    runtime.block_on(store.close());
}

async fn big_log() -> Store {
    let path = std::env::temp_dir().join("travdoc-ledger-bench-1m-v2.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let options = StoreOptions {
        sqlite_synchronous_full: false,
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url, options).await.expect("store");
    let (mut size, _) = ledger::state(&store).await.expect("state");
    if size < BIG {
        eprintln!("building a {BIG}-entry log in {} (once)", path.display());
        let signer = signer();
        let start = Instant::now();
        while size < BIG {
            let end = (size + 5000).min(BIG);
            let mut at = size;
            while at < end {
                let to = (at + CHECKPOINT_EVERY).min(end);
                append_range(&store, at, to).await;
                ledger::checkpoint(&store, &signer, ORIGIN, to as i64)
                    .await
                    .expect("checkpoint");
                at = to;
            }
            size = end;
        }
        eprintln!("built in {:?}", start.elapsed());
    }
    store
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn proofs(c: &mut Criterion, runtime: &tokio::runtime::Runtime, store: &Store) {
    let latest = runtime
        .block_on(ledger::latest_checkpoint(store))
        .expect("checkpoint")
        .expect("one exists");
    assert_eq!(latest.size, BIG);
    // Fill the hash cache once (a leaf every 1,024 touches every 4,096-hash chunk).
    let start = Instant::now();
    runtime.block_on(async {
        for index in (0..BIG).step_by(1024) {
            ledger::prove_inclusion_against(store, index, &latest)
                .await
                .expect("proof");
        }
    });
    eprintln!("hash cache filled in {:?}", start.elapsed());

    let mut group = c.benchmark_group("proof_1m");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    group.bench_function("inclusion_cached", |b| {
        b.iter(|| {
            let index = xorshift(&mut seed) % BIG;
            runtime
                .block_on(ledger::prove_inclusion_against(store, index, &latest))
                .expect("proof")
        })
    });
    group.bench_function("inclusion_latest_checkpoint", |b| {
        b.iter(|| {
            let index = xorshift(&mut seed) % BIG;
            runtime
                .block_on(ledger::prove_inclusion(store, index))
                .expect("proof")
        })
    });
    let mut conn = runtime
        .block_on(store.pool().acquire())
        .expect("connection");
    group.bench_function("inclusion_uncached_db", |b| {
        b.iter(|| {
            let index = xorshift(&mut seed) % BIG;
            runtime
                .block_on(ledger::prove_inclusion_at(&mut conn, index, &latest))
                .expect("proof")
        })
    });
    group.bench_function("baseline_point_select", |b| {
        b.iter(|| {
            let index = (xorshift(&mut seed) % BIG) as i64;
            runtime
                .block_on(
                    sqlx::query_scalar::<_, Vec<u8>>("SELECT hash FROM ledger_hash WHERE idx = $1")
                        .bind(index)
                        .fetch_one(&mut *conn),
                )
                .expect("row")
        })
    });
    {
        // Returning a pooled connection needs the runtime's context.
        let _context = runtime.enter();
        drop(conn);
    }
    group.finish();
}

fn verifies(c: &mut Criterion, runtime: &tokio::runtime::Runtime, store: &Store) {
    // Baseline inputs: every body, as stored.
    let bodies: Vec<(u16, i64, Vec<u8>)> = (0..BIG)
        .map(|i| {
            let entry = entry(i);
            (entry.event.kind_code(), entry.time, entry.encode())
        })
        .collect();
    let mut group = c.benchmark_group("verify_1m");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(BIG));
    group.bench_function("full", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(ledger::verify(store, &[], &mut |_, _| {}))
                .expect("verify");
            assert!(report.is_ok(), "{:?}", report.problems);
            assert_eq!(report.entries, BIG);
            report
        })
    });
    group.bench_function("baseline_sha256_bodies_leaves_nodes", |b| {
        b.iter(|| {
            let mut range = CompactRange::new();
            for (kind, time, body) in &bodies {
                let leaf = ledger::event::leaf_bytes(*kind, *time, body);
                range.append_with(travdoc_tlog::leaf_hash(&leaf), |_| {});
            }
            range.root()
        })
    });
    group.bench_function("baseline_scan_rows", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut bytes = 0usize;
                let mut rows = sqlx::query_as::<_, (i64, Vec<u8>, Vec<u8>)>(
                    "SELECT e.idx, e.leaf, b.body FROM ledger_entry e \
                     JOIN ledger_entry_body b ON b.idx = e.idx ORDER BY e.idx",
                )
                .fetch(store.pool());
                while let Some((_, leaf, body)) = rows.try_next().await.expect("row") {
                    bytes += leaf.len() + body.len();
                }
                drop(rows);
                let mut rows = sqlx::query_as::<_, (i64, Vec<u8>)>(
                    "SELECT idx, hash FROM ledger_hash ORDER BY idx",
                )
                .fetch(store.pool());
                while let Some((_, hash)) = rows.try_next().await.expect("row") {
                    bytes += hash.len();
                }
                bytes
            })
        })
    });
    group.finish();
}

fn big(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = runtime.block_on(big_log());
    proofs(c, &runtime, &store);
    verifies(c, &runtime, &store);
    runtime.block_on(store.close());
}

criterion_group!(benches, appends, big);
criterion_main!(benches);
