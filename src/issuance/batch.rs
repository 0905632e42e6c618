//! Batching of one kind of database act on PostgreSQL (number allocation, issuing).
//!
//! Callers submit items and wait for their own result. One leader task at a time takes
//! whatever is queued (at most `max` items), runs the batch, hands each caller its result and
//! goes on while items are queued. Under load a batch holds what arrived while the previous one
//! ran; alone, an item runs at once, in a batch of one.
//!
//! Why: a PostgreSQL act that takes a hot row lock (a number series' counter, the ledger state)
//! holds it through its commit, and with `synchronous_commit` on through its WAL flush, so
//! such acts run one flush at a time, whatever the pool size. One statement for a batch takes
//! the lock once and flushes once for all of it.
//!
//! The leader is a spawned task, so a caller that goes away (a client that disconnected) never
//! stops a batch midway; each batch runs in a task of its own, so that a panic in it fails that
//! batch's callers (their result channel closes) and not the ones queued behind it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::issue::IssueStatement;
use super::numbering::{AllocationItem, AllocationStatement, Kind, NumberingConfig};
use super::status::StatusLookup;
use super::{Clock, IssuanceError};
use crate::db::Db;
use crate::metrics::Metrics;

/// A batch's run, boxed.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

type Run<T, R> = dyn Fn(Vec<T>) -> BoxFuture<Vec<R>> + Send + Sync;

/// A batcher of items `T` with results `R`.
pub(crate) struct Batcher<T, R> {
    inner: Arc<Inner<T, R>>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Batcher {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<T, R> {
    queue: Mutex<Queue<T, R>>,
    max: usize,
    /// Runs one batch; must answer one result per item, in order.
    run: Box<Run<T, R>>,
}

struct Queue<T, R> {
    items: Vec<(T, oneshot::Sender<R>)>,
    /// A leader task is running (it takes what is queued before it stops).
    leading: bool,
}

impl<T, R> Batcher<T, R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    /// A batcher of at most `max` items per batch (at least one), running batches with `run`.
    pub(crate) fn new<F>(max: usize, run: F) -> Self
    where
        F: Fn(Vec<T>) -> BoxFuture<Vec<R>> + Send + Sync + 'static,
    {
        Batcher {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue {
                    items: Vec::new(),
                    leading: false,
                }),
                max: max.max(1),
                run: Box::new(run),
            }),
        }
    }

    /// Queues `item` and waits for its result: `None` when its batch failed without one (the
    /// batch panicked).
    pub(crate) async fn submit(&self, item: T) -> Option<R> {
        let (sender, receiver) = oneshot::channel();
        let lead = {
            let mut queue = self.inner.lock();
            queue.items.push((item, sender));
            !std::mem::replace(&mut queue.leading, true)
        };
        if lead {
            let inner = self.inner.clone();
            tokio::spawn(async move { inner.lead().await });
        }
        receiver.await.ok()
    }
}

impl<T, R> Inner<T, R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T, R>> {
        // The queue's state stays consistent whatever panicked while it was held.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn lead(self: Arc<Self>) {
        loop {
            let batch: Vec<(T, oneshot::Sender<R>)> = {
                let mut queue = self.lock();
                if queue.items.is_empty() {
                    queue.leading = false;
                    return;
                }
                let take = queue.items.len().min(self.max);
                queue.items.drain(..take).collect()
            };
            let (items, senders): (Vec<T>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
            let expected = items.len();
            // `run` is called inside the task too, so that nothing it does can stop the leader.
            let inner = self.clone();
            match tokio::spawn(async move { (inner.run)(items).await }).await {
                Ok(results) => {
                    if results.len() != expected {
                        tracing::error!(
                            expected,
                            got = results.len(),
                            "a batch answered the wrong number of results"
                        );
                    }
                    for (sender, result) in senders.into_iter().zip(results) {
                        // A caller that went away does not want its result.
                        let _ = sender.send(result);
                    }
                }
                Err(error) => {
                    tracing::error!(%error, size = expected, "a batch failed without results");
                }
            }
        }
    }
}

/// One statement that acts on a batch of items: [`of_statement`] runs it, falling
/// back to one item at a time when the whole batch fails.
pub(crate) trait BatchStatement: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Outcome: Send + 'static;

    /// What the batch is, for logs.
    const NAME: &'static str;

    /// Runs the statement for `items`: one outcome per item, in order, or one error for all
    /// (the statement rolled back whole).
    fn run<'a>(&'a self, items: &'a [Self::Item]) -> StatementFuture<'a, Self::Outcome>;
}

/// What [`BatchStatement::run`] answers: one outcome per item, or one error for all.
pub(crate) type StatementFuture<'a, O> =
    Pin<Box<dyn Future<Output = Result<Vec<O>, IssuanceError>> + Send + 'a>>;

/// The result of one item of a batch statement.
pub(crate) type ItemResult<S> = Result<<S as BatchStatement>::Outcome, IssuanceError>;

/// A batcher over `statement`. When a batch of several fails whole, its items are run again
/// one by one, so each gets its own outcome (one bad item, a deadlock with another node, must
/// not fail the others); when the database is unavailable, every item gets that error at once
/// instead.
pub(crate) fn of_statement<S: BatchStatement>(
    max: usize,
    statement: S,
    metrics: Arc<Metrics>,
) -> Batcher<S::Item, ItemResult<S>> {
    let statement = Arc::new(statement);
    Batcher::new(max, move |items: Vec<S::Item>| {
        let statement = statement.clone();
        let metrics = metrics.clone();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let size = items.len();
            let (results, one_by_one) = run_with_fallback(&*statement, items).await;
            metrics.record_batch(S::NAME, size, started.elapsed(), one_by_one);
            results
        }) as BoxFuture<Vec<ItemResult<S>>>
    })
}

/// Runs a batch; also says whether its items were run one by one.
async fn run_with_fallback<S: BatchStatement>(
    statement: &S,
    items: Vec<S::Item>,
) -> (Vec<ItemResult<S>>, bool) {
    let error = match statement.run(&items).await {
        Ok(outcomes) if outcomes.len() == items.len() => {
            return (outcomes.into_iter().map(Ok).collect(), false);
        }
        Ok(outcomes) => IssuanceError::Corrupt(format!(
            "{} answered {} outcomes for {} items",
            S::NAME,
            outcomes.len(),
            items.len()
        )),
        Err(error) => error,
    };
    if items.len() == 1 {
        return (vec![Err(error)], false);
    }
    if let IssuanceError::Database(crate::db::DbFault::Unavailable(_)) = &error {
        let message = error.to_string();
        let results = items
            .iter()
            .map(|_| {
                Err(IssuanceError::Database(crate::db::DbFault::Unavailable(
                    message.clone(),
                )))
            })
            .collect();
        return (results, false);
    }
    tracing::warn!(%error, size = items.len(), batch = S::NAME, "a batch failed; running its items one by one");
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let result = statement
            .run(std::slice::from_ref(item))
            .await
            .and_then(|outcomes| {
                outcomes.into_iter().next().ok_or_else(|| {
                    IssuanceError::Corrupt(format!("{} answered no outcome", S::NAME))
                })
            });
        results.push(result);
    }
    (results, true)
}

/// The error of an item whose batch failed without results (it panicked: a bug, logged).
pub(crate) fn lost(batch: &str) -> IssuanceError {
    IssuanceError::Build(format!("the {batch} batch failed"))
}

/// How many items one statement takes at most.
const MAX_BATCH: usize = 32;

type AllocationBatcher = Batcher<AllocationItem, ItemResult<AllocationStatement>>;

/// The document lookups of verification, batched.
pub(crate) struct StatusBatch(pub(crate) Batcher<String, ItemResult<StatusLookup>>);

impl StatusBatch {
    pub(crate) fn new(db: &Db, metrics: &Arc<Metrics>) -> Self {
        StatusBatch(of_statement(
            MAX_BATCH,
            StatusLookup { db: db.clone() },
            metrics.clone(),
        ))
    }
}

/// The batched statements of a node's issuing: reading and allocating, and issuing.
pub(crate) struct Batches {
    pub(crate) issue: Batcher<travdoc_store::issuing::IssueRow, ItemResult<IssueStatement>>,
    /// The checks' applicant lookups (`checks::LookupStatement`).
    pub(crate) lookup:
        Batcher<travdoc_store::people::ProbeRow, ItemResult<super::checks::LookupStatement>>,
    ttd: AllocationBatcher,
    passport: AllocationBatcher,
    legalization: AllocationBatcher,
}

impl Batches {
    pub(crate) fn new(
        db: &Db,
        numbering: &NumberingConfig,
        clock: &Arc<dyn Clock>,
        metrics: &Arc<Metrics>,
    ) -> Self {
        let allocation = |kind| {
            of_statement(
                MAX_BATCH,
                AllocationStatement {
                    db: db.clone(),
                    config: numbering.clone(),
                    kind,
                    clock: clock.clone(),
                },
                metrics.clone(),
            )
        };
        Batches {
            issue: of_statement(
                MAX_BATCH,
                IssueStatement {
                    store: db.store().clone(),
                },
                metrics.clone(),
            ),
            lookup: of_statement(
                MAX_BATCH,
                super::checks::LookupStatement { db: db.clone() },
                metrics.clone(),
            ),
            ttd: allocation(Kind::Ttd),
            passport: allocation(Kind::Passport),
            legalization: allocation(Kind::Legalization),
        }
    }

    /// The allocation batcher of `kind`'s series.
    pub(crate) fn allocation(&self, kind: Kind) -> &AllocationBatcher {
        match kind {
            Kind::Ttd => &self.ttd,
            Kind::Passport => &self.passport,
            Kind::Legalization => &self.legalization,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn doubling(sizes: Arc<Mutex<Vec<usize>>>) -> Batcher<u32, u32> {
        Batcher::new(4, move |items: Vec<u32>| {
            let sizes = sizes.clone();
            Box::pin(async move {
                sizes.lock().map(|mut s| s.push(items.len())).ok();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                items.into_iter().map(|x| x * 2).collect()
            }) as BoxFuture<Vec<u32>>
        })
    }

    #[tokio::test]
    async fn each_caller_gets_its_own_result_and_batches_form_under_load() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let batcher = doubling(sizes.clone());
        let alone = batcher.submit(21).await;
        assert_eq!(alone, Some(42));
        let tasks: Vec<_> = (0..10u32)
            .map(|n| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (n, batcher.submit(n).await) })
            })
            .collect();
        for task in tasks {
            let (n, result) = task.await.expect("task");
            assert_eq!(result, Some(n * 2));
        }
        let sizes = sizes.lock().expect("sizes").clone();
        assert_eq!(sizes[0], 1, "an item alone runs at once: {sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 11);
        assert!(sizes.iter().all(|&size| size <= 4), "{sizes:?}");
        assert!(sizes.len() < 11, "no batch formed: {sizes:?}");
    }

    #[tokio::test]
    async fn a_panicking_batch_fails_its_callers_only() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let batcher: Batcher<u32, u32> = Batcher::new(1, move |items: Vec<u32>| {
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                assert_ne!(items, [13], "thirteen");
                items
            }) as BoxFuture<Vec<u32>>
        });
        assert_eq!(batcher.submit(13).await, None);
        assert_eq!(batcher.submit(7).await, Some(7));
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // A panic before the batch's future even exists does not stop the leader either.
        let early: Batcher<u32, u32> = Batcher::new(1, |items: Vec<u32>| {
            assert_ne!(items, [13], "thirteen, at once");
            Box::pin(async move { items }) as BoxFuture<Vec<u32>>
        });
        assert_eq!(early.submit(13).await, None);
        assert_eq!(early.submit(7).await, Some(7));
    }

    /// A statement over numbers that fails whole when the batch holds a 13, and reports the
    /// database unavailable when it holds a 0; counts its runs.
    struct Picky {
        runs: Arc<AtomicUsize>,
    }

    impl BatchStatement for Picky {
        type Item = u32;
        type Outcome = u32;
        const NAME: &'static str = "picky";

        fn run<'a>(&'a self, items: &'a [u32]) -> StatementFuture<'a, u32> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if items.contains(&0) {
                    return Err(IssuanceError::from(sqlx::Error::PoolTimedOut));
                }
                if items.contains(&13) {
                    return Err(IssuanceError::invalid("item", "thirteen"));
                }
                Ok(items.iter().map(|x| x + 1).collect())
            })
        }
    }

    #[tokio::test]
    async fn a_failed_batch_runs_again_one_by_one_unless_the_database_is_away() {
        let runs = Arc::new(AtomicUsize::new(0));
        let picky = Picky { runs: runs.clone() };
        let (results, one_by_one) = run_with_fallback(&picky, vec![1, 13, 2]).await;
        assert!(one_by_one);
        assert_eq!(runs.load(Ordering::SeqCst), 4, "the batch, then each item");
        assert!(matches!(results[0], Ok(2)));
        assert!(matches!(
            results[1],
            Err(IssuanceError::InvalidField { .. })
        ));
        assert!(matches!(results[2], Ok(3)));

        runs.store(0, Ordering::SeqCst);
        let (results, one_by_one) = run_with_fallback(&picky, vec![1, 0, 2]).await;
        assert!(!one_by_one);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "no item is run again");
        assert_eq!(results.len(), 3);
        for result in results {
            match result {
                Err(IssuanceError::Database(crate::db::DbFault::Unavailable(_))) => {}
                other => panic!("{other:?}"),
            }
        }
    }
}
