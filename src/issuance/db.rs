//! The service's database handle over `travdoc-store` (one sqlx `Any` dialect for SQLite and
//! PostgreSQL, migrations of both, the ledger). On SQLite, writes go through one connection
//! (SQLite serialises writers anyway; one in-process writer queues them without lock retries,
//! and the writes queued at one moment share one commit)
//! and reads through a small pool; on PostgreSQL one pool serves both.

use travdoc_store::{Store, StoreError, StoreOptions};

pub use travdoc_store::Backend;

/// Errors opening the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A write transaction (business rows and ledger entries commit together).
pub type Tx = travdoc_store::Transaction;

/// The stores for writes and reads.
#[derive(Debug, Clone)]
pub struct Db {
    write: Store,
    read: Store,
}

impl Db {
    /// Connects to `url` (creating a SQLite file when needed) and runs all migrations.
    /// `TRAVDOC_SQLITE_SYNC=normal` trades power-loss durability of the last commits for
    /// throughput (default: `full`). On SQLite the writes queued at one moment share one
    /// commit (group commit, see `travdoc_store::StoreOptions::sqlite_group_commit`);
    /// `TRAVDOC_SQLITE_GROUP_COMMIT=off` commits each transaction alone (for comparison).
    /// `connections`: the PostgreSQL pool size (see `Config::database_connections`).
    pub async fn open(url: &str, connections: u32) -> Result<Self, DbError> {
        let sqlite = url.starts_with("sqlite:");
        let full = std::env::var("TRAVDOC_SQLITE_SYNC")
            .map(|value| !value.eq_ignore_ascii_case("normal"))
            .unwrap_or(true);
        let group_commit = std::env::var("TRAVDOC_SQLITE_GROUP_COMMIT")
            .map(|value| !value.eq_ignore_ascii_case("off"))
            .unwrap_or(true);
        if sqlite {
            let write = Store::connect_with(
                url,
                StoreOptions {
                    max_connections: 1,
                    sqlite_synchronous_full: full,
                    sqlite_group_commit: group_commit,
                    ..StoreOptions::default()
                },
            )
            .await?;
            let read = Store::connect_with(
                url,
                StoreOptions {
                    max_connections: 4,
                    sqlite_synchronous_full: full,
                    ..StoreOptions::default()
                },
            )
            .await?;
            Ok(Db { write, read })
        } else {
            let store = Store::connect_with(
                url,
                StoreOptions {
                    max_connections: connections,
                    ..StoreOptions::default()
                },
            )
            .await?;
            Ok(Db {
                write: store.clone(),
                read: store,
            })
        }
    }

    pub fn backend(&self) -> Backend {
        self.write.backend()
    }

    /// The store that takes writes (and the ledger's checkpointing).
    pub fn store(&self) -> &Store {
        &self.write
    }

    /// The store for reads (proofs, exports).
    pub fn read_store(&self) -> &Store {
        &self.read
    }

    /// The pool for reads.
    pub fn reader(&self) -> &sqlx::AnyPool {
        self.read.pool()
    }

    /// The pool for writes (one connection on SQLite).
    pub fn writer(&self) -> &sqlx::AnyPool {
        self.write.pool()
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.write.begin().await
    }

    /// A cheap round trip (for `/readyz`).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(self.reader()).await?;
        Ok(())
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Removes a password from a URL before it is shown.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
