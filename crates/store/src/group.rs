//! Group commit for the one SQLite writer connection.
//!
//! SQLite with `synchronous = FULL` syncs the write-ahead log on every commit, and one writer
//! at a time may commit: the sync, not the SQL, bounds how many transactions a second the
//! service can take. Here several logical transactions share one physical transaction: each
//! runs inside its own savepoint (`SAVEPOINT g` … `RELEASE g`, or `ROLLBACK TO g` when it fails
//! or is dropped), and one `COMMIT` (one sync) makes a whole batch durable.
//!
//! A logical commit returns only after the physical commit that carries it, with that commit's
//! outcome: a caller that is told "committed" is durable, exactly as before, and a failed
//! physical commit fails every member of its batch. A logical transaction that fails takes
//! only its own savepoint back; the others in the batch are unaffected.
//!
//! Batching comes from the fairness of the lock: the committer waits for the lock behind the
//! writers already queued, so a batch holds whatever arrived while the previous one synced.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{Any, AnyConnection, AnyPool, Executor as _};
use tokio::sync::{Mutex, Notify, OwnedMappedMutexGuard, OwnedMutexGuard, watch};

use crate::{Result, StoreError};

/// What a batch's members learn: `None` while open, then the physical commit's outcome.
type Outcome = Option<std::result::Result<(), String>>;

struct State {
    /// The open physical transaction, if any.
    physical: Option<sqlx::Transaction<'static, Any>>,
    /// The members of the open physical transaction wait on this.
    batch: watch::Sender<Outcome>,
}

/// The group committer of one store (one per SQLite write pool).
#[derive(Clone)]
pub(crate) struct Group {
    pool: AnyPool,
    state: Arc<Mutex<State>>,
    /// A member left its savepoint open (failed or dropped): it must be rolled back before
    /// anything else runs on the physical transaction. Only touched under `state`'s lock.
    undo: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Group")
    }
}

/// One logical transaction in the group.
pub(crate) struct Member {
    physical: OwnedMappedMutexGuard<State, sqlx::Transaction<'static, Any>>,
    outcome: watch::Receiver<Outcome>,
    undo: Arc<AtomicBool>,
    wake: Arc<Notify>,
    released: bool,
}

fn db_error(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    StoreError::db(context)
}

/// Takes back a savepoint a member left open.
async fn undo_savepoint(physical: &mut sqlx::Transaction<'static, Any>) -> sqlx::Result<()> {
    physical.execute("ROLLBACK TO g").await?;
    physical.execute("RELEASE g").await?;
    Ok(())
}

/// Ends the open batch with `outcome` and starts a new one.
fn finish_batch(state: &mut State, outcome: std::result::Result<(), String>) {
    let (next, _) = watch::channel(None);
    let finished = std::mem::replace(&mut state.batch, next);
    finished.send_replace(Some(outcome));
}

impl Group {
    /// Starts the committer task on the current tokio runtime.
    pub(crate) fn start(pool: AnyPool) -> Self {
        let (batch, _) = watch::channel(None);
        let group = Group {
            pool,
            state: Arc::new(Mutex::new(State {
                physical: None,
                batch,
            })),
            undo: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
        };
        let committer = group.clone();
        tokio::spawn(async move { committer.run().await });
        group
    }

    async fn run(self) {
        loop {
            self.wake.notified().await;
            // Queued writers get the lock first and join the batch.
            let mut state = self.state.lock().await;
            self.undo_pending(&mut state).await;
            let Some(physical) = state.physical.take() else {
                continue;
            };
            let outcome = physical
                .commit()
                .await
                .map_err(|error| format!("committing: {error}"));
            finish_batch(&mut state, outcome);
        }
    }

    /// Rolls back the savepoint a failed or dropped member left open. When that fails the
    /// physical transaction is in an unknown state: it is given up whole, and its batch fails.
    async fn undo_pending(&self, state: &mut State) {
        if self.undo.swap(false, Ordering::AcqRel)
            && let Some(physical) = state.physical.as_mut()
            && let Err(error) = undo_savepoint(physical).await
        {
            state.physical = None;
            finish_batch(state, Err(format!("rolling back a savepoint: {error}")));
        }
    }

    /// Begins a logical transaction (a savepoint in the open physical transaction, which is
    /// begun with `BEGIN IMMEDIATE` when there is none).
    pub(crate) async fn begin(&self) -> Result<Member> {
        let mut state: OwnedMutexGuard<State> = self.state.clone().lock_owned().await;
        self.undo_pending(&mut state).await;
        if state.physical.is_none() {
            let physical = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(db_error("beginning a transaction"))?;
            state.physical = Some(physical);
        }
        if let Some(physical) = state.physical.as_mut() {
            physical
                .execute("SAVEPOINT g")
                .await
                .map_err(db_error("beginning a savepoint"))?;
        }
        let outcome = state.batch.subscribe();
        let physical = OwnedMutexGuard::try_map(state, |state| state.physical.as_mut())
            .map_err(|_| StoreError::GroupCommit("no physical transaction".into()))?;
        Ok(Member {
            physical,
            outcome,
            undo: self.undo.clone(),
            wake: self.wake.clone(),
            released: false,
        })
    }
}

impl Member {
    /// The connection, inside this member's savepoint.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.physical
    }

    /// Releases the savepoint and waits until the physical commit carrying it is done.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.physical
            .execute("RELEASE g")
            .await
            .map_err(db_error("releasing a savepoint"))?;
        self.released = true;
        let mut outcome = self.outcome.clone();
        drop(self);
        loop {
            if let Some(result) = outcome.borrow_and_update().clone() {
                return result.map_err(StoreError::GroupCommit);
            }
            if outcome.changed().await.is_err() {
                return Err(StoreError::GroupCommit(
                    "the committer stopped before this batch committed".into(),
                ));
            }
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.released {
            // Still under the lock: whoever takes it next rolls the savepoint back first.
            self.undo.store(true, Ordering::Release);
        }
        self.wake.notify_one();
    }
}
