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
        travdoc_store::snapshot::ping(self.reader()).await
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

/// A database failure, classified where the SQL runs: what the HTTP mapping, the batcher and the
/// idempotency rule need to know, without sqlx's error type (which never leaves the
/// repositories).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbFault {
    /// The database could not be reached or could not run the statement (pool exhausted or
    /// closed, a broken connection, the server shutting down (SQLSTATE class 57), a connection
    /// failure (08) or out of resources (53)): nothing ran, and retrying at once would not help.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the row: a concurrent request wrote the same record.
    #[error("a concurrent request wrote the same record: {0}")]
    Conflict(String),
    /// A serialization failure or a deadlock rolled the transaction back.
    #[error("the transaction was rolled back: {0}")]
    RolledBack(String),
    /// The database file is locked or busy (SQLite).
    #[error("the database is busy: {0}")]
    Busy(String),
    /// A statement raised an error with this SQLSTATE (e.g. `TDN01` from `issue_documents`).
    #[error("SQLSTATE {code}: {message}")]
    Raised { code: String, message: String },
    /// Anything else (a bug or corrupt data): logged, answered as an internal error.
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for DbFault {
    fn from(error: sqlx::Error) -> Self {
        let text = error.to_string();
        match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => DbFault::Unavailable(text),
            sqlx::Error::Database(db) => {
                let code = db.code().map(|code| code.into_owned());
                // SQLSTATEs have five characters; SQLite's numeric codes are shorter.
                let sqlstate = code.as_deref().filter(|code| code.len() == 5);
                if sqlstate.is_some_and(|code| {
                    ["57", "08", "53"]
                        .iter()
                        .any(|class| code.starts_with(class))
                }) {
                    DbFault::Unavailable(text)
                } else if db.is_unique_violation() {
                    DbFault::Conflict(text)
                } else if sqlstate.is_some_and(|code| code == "40001" || code == "40P01") {
                    DbFault::RolledBack(text)
                } else if db.message().contains("locked") || db.message().contains("busy") {
                    DbFault::Busy(text)
                } else if let Some(code) = sqlstate {
                    DbFault::Raised {
                        code: code.to_owned(),
                        message: db.message().to_owned(),
                    }
                } else {
                    DbFault::Other(text)
                }
            }
            _ => DbFault::Other(text),
        }
    }
}
