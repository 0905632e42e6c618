//! Consistent copies of the database while writers go on (`travdoc backup`), and the checks of
//! a database to restore into. The tools that copy PostgreSQL (`pg_dump`, `pg_restore`) run in
//! the caller; the SQL that makes their copy consistent is here.

use std::path::Path;
use std::str::FromStr as _;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use crate::{Result, StoreError, backend_of};

/// The ledger as a copy holds it: entries and root (0 and empty before the first entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerMark {
    pub entries: i64,
    pub root: Vec<u8>,
}

const LEDGER_STATE: &str = "SELECT size, root FROM ledger_state WHERE id = 0";

async fn ledger_mark(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
) -> Result<LedgerMark> {
    Ok(sqlx::query_as::<_, (i64, Vec<u8>)>(LEDGER_STATE)
        .fetch_optional(executor)
        .await
        .map_err(StoreError::db("reading the ledger's state"))?
        .map(|(entries, root)| LedgerMark { entries, root })
        .unwrap_or_default())
}

async fn connect(url: &str) -> Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)?;
    let connect_error = |source| StoreError::Connect { backend, source };
    AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(AnyConnectOptions::from_str(url).map_err(connect_error)?)
        .await
        .map_err(connect_error)
}

/// SQLite: copies `database` into `target` (`VACUUM INTO`: one read transaction, so every
/// commit is in the copy whole or not at all) and reads the copy's ledger state.
pub async fn copy_sqlite(database: &Path, target: &Path) -> Result<LedgerMark> {
    let source = connect(&format!("sqlite://{}?mode=ro", database.display())).await?;
    let into = target.display().to_string().replace('\'', "''");
    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{into}'")))
        .execute(&source)
        .await
        .map_err(StoreError::db("copying the database"))?;
    source.close().await;
    let copy = connect(&format!("sqlite://{}?mode=ro", target.display())).await?;
    let mark = ledger_mark(&copy).await;
    copy.close().await;
    mark
}

/// PostgreSQL: a read-only repeatable-read transaction whose snapshot is exported for
/// `pg_dump --snapshot`, with the ledger's state read in it. Keep it until the dump is done,
/// then [`ExportedSnapshot::release`] it.
pub struct ExportedSnapshot {
    pool: sqlx::AnyPool,
    tx: sqlx::Transaction<'static, sqlx::Any>,
    id: String,
    ledger: LedgerMark,
}

impl ExportedSnapshot {
    /// Opens the transaction on `url` and exports its snapshot.
    pub async fn export(url: &str) -> Result<Self> {
        let pool = connect(url).await?;
        let mut tx = pool
            .begin()
            .await
            .map_err(StoreError::db("beginning the snapshot"))?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("beginning the snapshot"))?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::db("exporting the snapshot"))?;
        let ledger = ledger_mark(&mut *tx).await?;
        Ok(Self {
            pool,
            tx,
            id,
            ledger,
        })
    }

    /// The id `pg_dump --snapshot=` takes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The ledger in the snapshot.
    pub fn ledger(&self) -> &LedgerMark {
        &self.ledger
    }

    /// Ends the transaction (after the dump).
    pub async fn release(self) -> Result<()> {
        self.tx
            .rollback()
            .await
            .map_err(StoreError::db("ending the snapshot"))?;
        self.pool.close().await;
        Ok(())
    }
}

/// How many tables of its own the PostgreSQL database at `url` holds (a restore goes only
/// into one that holds none).
pub async fn postgres_tables(url: &str) -> Result<i64> {
    let pool = connect(url).await?;
    let tables = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&pool)
    .await
    .map_err(StoreError::db("listing the tables"));
    pool.close().await;
    tables
}

/// A cheap round trip (for `/readyz` and `doctor`).
pub async fn ping(pool: &sqlx::AnyPool) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
