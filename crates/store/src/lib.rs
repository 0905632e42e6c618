//! travdoc persistence: one sqlx pool over SQLite (the embedded default, in WAL mode) or
//! PostgreSQL (several stateless nodes sharing one database), the embedded migrations of both
//! backends, and the audit [`ledger`].
//!
//! Domain code opens a [`Transaction`] with [`Store::begin`], runs its own SQL on
//! [`Transaction::conn`] (the `Any` driver: `$1` placeholders on both backends) and appends
//! ledger entries in the same transaction with [`ledger::append`], so a business record and its
//! ledger entry commit together or not at all.
//!
//! Migrations live in `migrations/sqlite` and `migrations/postgres`; every table owner adds
//! numbered files (`0002_documents.sql`, ...) to both folders.
#![forbid(unsafe_code)]

pub mod documents;
pub mod events;
mod group;
pub mod idempotency;
pub mod identity;
pub mod issuing;
pub mod ledger;
pub mod numbers;
pub mod people;
pub mod pki;
pub mod printing;
pub mod reports;
pub mod requests;
pub mod seed;
pub mod sltd;
pub mod snapshot;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor as _};
use std::str::FromStr as _;

/// Errors of the store and the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres://, got scheme `{scheme}`")]
    UnsupportedUrl { scheme: String },
    #[error("cannot connect to the {backend:?} database: {source}")]
    Connect {
        backend: Backend,
        source: sqlx::Error,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error while {operation}: {source}")]
    Database {
        operation: &'static str,
        source: sqlx::Error,
    },
    #[error("ledger: {0}")]
    Ledger(#[from] ledger::LedgerError),
    /// The physical commit of a group of transactions failed (all of them are rolled back).
    #[error("group commit: {0}")]
    GroupCommit(String),
}

impl StoreError {
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { operation, source }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pooled connection idle this long is pinged before use.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(1);

/// Connection options beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most pooled connections. Default 8.
    pub max_connections: u32,
    /// SQLite: how long a writer waits for the write lock, in milliseconds. Default 30 000.
    pub sqlite_busy_timeout_ms: u32,
    /// SQLite: `synchronous=FULL` (durable on power loss) when true, `NORMAL` otherwise.
    /// Default true.
    pub sqlite_synchronous_full: bool,
    /// Most memory the in-process cache of committed ledger hashes may use, in bytes (64 bytes
    /// per ledger entry; 0 disables it and every proof reads the database). Default 256 MiB,
    /// enough to serve proofs for a 4-million-entry log from memory.
    pub ledger_hash_cache_bytes: usize,
    /// SQLite with one connection: share one physical transaction (one commit, one log sync)
    /// among the logical transactions that queue for the writer (see the `group` module).
    /// Each logical commit still returns only once it is durable. Default false.
    pub sqlite_group_commit: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            sqlite_busy_timeout_ms: 30_000,
            sqlite_synchronous_full: true,
            ledger_hash_cache_bytes: 256 << 20,
            sqlite_group_commit: false,
        }
    }
}

/// A pool of connections to one database, with migrations applied.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Committed stored hashes, shared by every clone (see [`ledger::prove_inclusion`]).
    hash_cache: std::sync::Arc<ledger::cache::HashCache>,
    /// The group committer, when `sqlite_group_commit` is on.
    group: Option<group::Group>,
}

fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        let scheme = url.split(':').next().unwrap_or_default().to_owned();
        Err(StoreError::UnsupportedUrl { scheme })
    }
}

/// Where a database stands against this build's migrations, read without applying any
/// (`travdoc doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// Versions recorded as applied (successfully).
    pub applied: Vec<i64>,
    /// Versions this build knows.
    pub known: Vec<i64>,
}

impl MigrationState {
    /// The known versions not applied.
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|version| !self.applied.contains(version))
            .copied()
            .collect()
    }

    /// Applied versions this build does not know (a newer build migrated the database).
    pub fn unknown(&self) -> Vec<i64> {
        self.applied
            .iter()
            .filter(|version| !self.known.contains(version))
            .copied()
            .collect()
    }
}

/// Connects to `url` (one connection, nothing created or migrated) and compares its applied
/// migrations with this build's. A SQLite file that does not exist is an error.
pub async fn migration_state(url: &str) -> Result<MigrationState> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)?;
    let connect_error = |source| StoreError::Connect { backend, source };
    let mut options = AnyConnectOptions::from_str(url).map_err(connect_error)?;
    if backend == Backend::Sqlite {
        // Read-only, and never create the file.
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or_default();
        options = AnyConnectOptions::from_str(&format!("sqlite://{path}?mode=ro"))
            .map_err(connect_error)?;
    }
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(connect_error)?;
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let known = migrator
        .iter()
        .filter(|migration| !migration.migration_type.is_down_migration())
        .map(|migration| migration.version)
        .collect();
    let applied = match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_all(&pool)
        .await
    {
        Ok(rows) => rows
            .iter()
            .map(|row| sqlx::Row::try_get::<i64, _>(row, "version"))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(StoreError::db("reading the applied migrations"))?,
        // No migrations table: nothing applied yet.
        Err(sqlx::Error::Database(_)) => Vec::new(),
        Err(error) => return Err(StoreError::db("reading the applied migrations")(error)),
    };
    pool.close().await;
    Ok(MigrationState { applied, known })
}

impl Store {
    /// Connects (`sqlite:` URL or `postgres://`), and runs the migrations of that backend.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit options.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let connect_error = |source| StoreError::Connect { backend, source };
        let connect_options = AnyConnectOptions::from_str(url).map_err(connect_error)?;
        // sqlx pings a connection when it goes back to the pool and, by default, again when it
        // is taken out: on PostgreSQL each ping is a round trip, so a one-statement act cost
        // three. The release ping stays; the one on taking is kept only for a connection that
        // sat idle (where a restarted or vanished server shows up), not for one handed back a
        // moment ago, which is every connection under load.
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        if backend == Backend::Sqlite {
            let busy = options.sqlite_busy_timeout_ms;
            let synchronous = if options.sqlite_synchronous_full {
                "FULL"
            } else {
                "NORMAL"
            };
            pool_options = pool_options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {busy}")))
                        .await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "PRAGMA synchronous = {synchronous}"
                    )))
                    .await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = pool_options
            .connect_with(connect_options)
            .await
            .map_err(connect_error)?;
        let group = (backend == Backend::Sqlite && options.sqlite_group_commit)
            .then(|| group::Group::start(pool.clone()));
        let store = Self {
            pool,
            backend,
            group,
            hash_cache: std::sync::Arc::new(ledger::cache::HashCache::new(
                options.ledger_hash_cache_bytes,
            )),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // PostgreSQL serialises concurrent migrators with an advisory lock. SQLite has no such
        // lock, so a process racing another one on a fresh file retries once the other is done.
        let mut attempt = 0;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if self.backend == Backend::Sqlite && attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it cannot fail later on a lock upgrade; on PostgreSQL the
    /// ledger row lock is taken by the first append.
    pub async fn begin(&self) -> Result<Transaction> {
        if let Some(group) = &self.group {
            return Ok(Transaction {
                inner: Inner::Grouped(group.begin().await?),
                backend: self.backend,
                ledger: None,
            });
        }
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(StoreError::db("beginning a transaction"))?;
        Ok(Transaction {
            inner: Inner::Own(inner),
            backend: self.backend,
            ledger: None,
        })
    }

    pub(crate) fn hash_cache(&self) -> &ledger::cache::HashCache {
        &self.hash_cache
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction shared by domain code and the ledger.
pub struct Transaction {
    inner: Inner,
    backend: Backend,
    /// The ledger state read (and locked) by the first append in this transaction.
    pub(crate) ledger: Option<ledger::LockedState>,
}

/// A transaction of its own, or a member of a group commit.
enum Inner {
    Own(sqlx::Transaction<'static, sqlx::Any>),
    Grouped(group::Member),
}

impl Transaction {
    /// The connection, to run the caller's own SQL in this transaction:
    /// `sqlx::query("INSERT ...").bind(x).execute(tx.conn()).await`.
    pub fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            Inner::Own(inner) => inner,
            Inner::Grouped(member) => member.conn(),
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Commits everything done in this transaction.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            Inner::Own(inner) => inner.commit().await.map_err(StoreError::db("committing")),
            Inner::Grouped(member) => member.commit().await,
        }
    }

    /// Rolls everything back (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            Inner::Own(inner) => inner
                .rollback()
                .await
                .map_err(StoreError::db("rolling back")),
            // Dropping a member marks its savepoint for rollback before the group goes on.
            Inner::Grouped(member) => {
                drop(member);
                Ok(())
            }
        }
    }
}
