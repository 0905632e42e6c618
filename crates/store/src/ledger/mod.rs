//! The audit ledger: an RFC 6962 tree over typed [`Event`]s, stored in SQL.
//!
//! Life-cycle: **append** ([`append`], [`append_batch`]) inside the caller's transaction: the
//! single `ledger_state` row is locked (`SELECT ... FOR UPDATE` on PostgreSQL; the transaction
//! already holds the write lock on SQLite via `BEGIN IMMEDIATE`), the entry gets index `size`,
//! its stored hashes are computed from the compact range kept in that row, and the row is
//! updated; all of it commits with the caller's own records or not at all. On PostgreSQL a
//! single entry is appended in the server by the function `ledger_append` (migration 0003;
//! [`PreparedEntry`] calls it from a caller's own statement), so the lock is never held across
//! a client round trip; batches append here, in Rust. **Checkpoint**
//! ([`checkpoint`], [`checkpoint_if_due`]): under the same lock, the current tree is checked
//! to extend the last checkpoint and signed through a [`NoteSigner`] (the HSM ledger key).
//! **Prove** ([`prove_inclusion`], [`prove_consistency`]) reads O(log n) stored hashes.
//! **Verify** ([`verify`]) recomputes everything from the entry bodies.

pub(crate) mod cache;
pub mod event;
mod verify;

pub use event::{Digest32, Entry, Event, PrintStatus};
pub use verify::{Problem, VerifyReport, verify};

use std::collections::{HashMap, HashSet};

use sqlx::Row as _;
use travdoc_tlog::merkle::{CompactRange, Hash, leaf_hash, stored_hash_count, stored_hash_index};
use travdoc_tlog::note::{EcdsaP256Verifier, NoteError, NoteSigner, NoteVerifier};
use travdoc_tlog::proof;
use travdoc_tlog::{Checkpoint, CheckpointError};

use crate::{Backend, Result, Store, StoreError, Transaction};

/// Ledger-specific failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("idempotency key is empty or longer than 200 bytes")]
    InvalidIdempotencyKey,
    #[error("ledger_state row is missing or malformed ({field})")]
    CorruptState { field: &'static str },
    #[error("stored row {table}[{index}] is malformed ({field})")]
    CorruptRow {
        table: &'static str,
        index: u64,
        field: &'static str,
    },
    #[error("stored checkpoint at size {size} is unreadable: {source}")]
    CorruptCheckpoint { size: u64, source: CheckpointError },
    #[error(
        "refusing to sign: the tree of size {size} does not extend the last checkpoint (size {checkpoint_size})"
    )]
    WouldFork { size: u64, checkpoint_size: u64 },
    #[error("no checkpoint covers index {index} yet (latest checkpoint size {size})")]
    NotCheckpointed { index: u64, size: u64 },
    #[error("index {index} is not below the log size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("no checkpoint has been signed yet")]
    NoCheckpoint,
    #[error("signing the checkpoint failed: {0}")]
    Signing(#[from] CheckpointError),
    #[error("the signer's public key is unusable: {0}")]
    SignerKey(NoteError),
    #[error("writing the export: {0}")]
    Export(std::io::Error),
    #[error("proof: {0}")]
    Proof(#[from] travdoc_tlog::ProofError),
    #[error("a verify worker task failed or was cancelled")]
    VerifyWorker,
}

/// A signer whose public key can be recorded, so `verify` needs no HSM.
pub trait LedgerSigner: NoteSigner + Send + Sync {
    /// The public key, SubjectPublicKeyInfo DER (signature type 0x02, ECDSA P-256).
    fn spki_der(&self) -> Vec<u8>;
}

impl<S> LedgerSigner for travdoc_tlog::EcdsaP256Signer<S>
where
    S: signature::Signer<p256::ecdsa::DerSignature>
        + signature::Keypair<VerifyingKey = p256::ecdsa::VerifyingKey>
        + Send
        + Sync,
{
    fn spki_der(&self) -> Vec<u8> {
        travdoc_tlog::EcdsaP256Signer::spki_der(self).to_vec()
    }
}

/// How often checkpoints are signed (the `[ledger]` section of the configuration).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// The log origin (first checkpoint line and the key name), a scheme-less URL.
    pub origin: String,
    /// Sign a checkpoint once this many entries are not yet covered. Default 1000.
    pub checkpoint_every_entries: u64,
    /// Sign a checkpoint once the newest entry is this many seconds older than the latest
    /// checkpoint. Default 300.
    pub checkpoint_interval_secs: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            origin: "travdoc.invalid/ledger".to_owned(),
            checkpoint_every_entries: 1000,
            checkpoint_interval_secs: 300,
        }
    }
}

/// The ledger row as locked by a transaction.
#[derive(Debug, Clone)]
pub(crate) struct LockedState {
    range: CompactRange,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// `leaf_hash(leaf)` of the entry at that index.
    pub leaf_hash: Hash,
    /// False when the idempotency key was already used: nothing new was appended.
    pub fresh: bool,
}

fn u64_of(value: i64, field: &'static str) -> Result<u64> {
    u64::try_from(value).map_err(|_| LedgerError::CorruptState { field }.into())
}

fn i64_of(value: u64) -> i64 {
    // Sizes above i64::MAX cannot be stored; they cannot occur either.
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn hash_of(bytes: &[u8], table: &'static str, index: u64, field: &'static str) -> Result<Hash> {
    Hash::try_from(bytes).map_err(|_| {
        LedgerError::CorruptRow {
            table,
            index,
            field,
        }
        .into()
    })
}

fn decode_frontier(size: u64, bytes: &[u8]) -> Result<CompactRange> {
    if !bytes.len().is_multiple_of(32) {
        return Err(LedgerError::CorruptState { field: "frontier" }.into());
    }
    let hashes = bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect();
    CompactRange::from_parts(size, hashes)
        .ok_or_else(|| LedgerError::CorruptState { field: "frontier" }.into())
}

async fn lock_state(tx: &mut Transaction) -> Result<CompactRange> {
    if let Some(state) = &tx.ledger {
        return Ok(state.range.clone());
    }
    let sql = match tx.backend {
        Backend::Postgres => "SELECT size, frontier FROM ledger_state WHERE id = 0 FOR UPDATE",
        Backend::Sqlite => "SELECT size, frontier FROM ledger_state WHERE id = 0",
    };
    let row = sqlx::query(sql)
        .fetch_optional(tx.conn())
        .await
        .map_err(StoreError::db("locking the ledger state"))?
        .ok_or(LedgerError::CorruptState { field: "row" })?;
    let size = u64_of(
        row.try_get::<i64, _>(0)
            .map_err(StoreError::db("reading ledger size"))?,
        "size",
    )?;
    let frontier: Vec<u8> = row
        .try_get(1)
        .map_err(StoreError::db("reading ledger frontier"))?;
    let range = decode_frontier(size, &frontier)?;
    tx.ledger = Some(LockedState {
        range: range.clone(),
    });
    Ok(range)
}

/// Most rows per multi-row INSERT (keeps under SQLite's bound-parameter limit).
const ROWS_PER_INSERT: usize = 400;

/// `rows` parenthesised groups of `columns` placeholders.
///
/// SQLite gets anonymous `?` placeholders: numbered ones (`$n`) are named parameters there, and
/// sqlx looks each one's name up with `sqlite3_bind_parameter_name`, a linear scan, which makes
/// binding a 2,400-parameter INSERT quadratic (it was 36 % of the append profile).
pub fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push(',');
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push(',');
            }
            match backend {
                Backend::Sqlite => out.push('?'),
                Backend::Postgres => {
                    out.push('$');
                    out.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// A comma-separated list of `count` placeholders (for `IN (...)`).
fn placeholder_list(backend: Backend, count: usize) -> String {
    let groups = placeholders(backend, count, 1);
    groups.replace(['(', ')'], "")
}

/// A value bound to one of the ledger's write statements.
enum Value<'a> {
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// One write of an append: its SQL and its values, in placeholder order.
struct Write<'a> {
    sql: String,
    values: Vec<Value<'a>>,
}

/// The writes of one append chunk, with PostgreSQL placeholders numbered across all of them
/// (they become one statement there).
struct Writes<'a> {
    backend: Backend,
    list: Vec<Write<'a>>,
    next: usize,
}

impl<'a> Writes<'a> {
    fn new(backend: Backend) -> Self {
        Writes {
            backend,
            list: Vec::with_capacity(5),
            next: 1,
        }
    }

    /// Adds `sql`, its placeholders written `?`, with their values in order.
    fn add(&mut self, sql: &str, values: Vec<Value<'a>>) {
        let sql = match self.backend {
            Backend::Sqlite => sql.to_owned(),
            Backend::Postgres => {
                let mut out = String::with_capacity(sql.len() + values.len() * 4);
                for c in sql.chars() {
                    if c == '?' {
                        out.push('$');
                        out.push_str(&self.next.to_string());
                        self.next += 1;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        };
        self.list.push(Write { sql, values });
    }

    /// Adds `INSERT INTO {head} VALUES (...), ...`, `columns` values a row.
    fn insert(&mut self, head: &str, columns: usize, values: Vec<Value<'a>>) {
        let rows = values.len() / columns;
        let groups = placeholders(Backend::Sqlite, rows, columns);
        self.add(&format!("INSERT INTO {head} VALUES {groups}"), values);
    }
}

/// Runs `writes` in `tx`. SQLite runs them one by one (it is in-process; a round trip is a
/// function call). PostgreSQL (a batch) gets them as one statement, all but the last as
/// data-modifying `WITH` queries, so the ledger row lock is held for one round trip plus the
/// commit, not one per table.
async fn run_writes(tx: &mut Transaction, writes: Vec<Write<'_>>) -> Result<()> {
    let statements: Vec<Write<'_>> = match tx.backend {
        Backend::Sqlite => writes,
        Backend::Postgres => {
            let count = writes.len();
            let mut sql = String::new();
            let mut values = Vec::new();
            for (number, write) in writes.into_iter().enumerate() {
                if number + 1 < count {
                    sql.push_str(if number == 0 { "WITH " } else { ", " });
                    sql.push_str(&format!("w{number} AS ({})", write.sql));
                } else {
                    sql.push(' ');
                    sql.push_str(&write.sql);
                }
                values.extend(write.values);
            }
            vec![Write { sql, values }]
        }
    };
    for statement in statements {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql));
        for value in statement.values {
            query = match value {
                Value::Int(number) => query.bind(number),
                Value::Text(text) => query.bind(text),
                Value::Bytes(bytes) => query.bind(bytes),
            };
        }
        query
            .execute(tx.conn())
            .await
            .map_err(StoreError::db("writing ledger entries"))?;
    }
    Ok(())
}

struct NewEntry {
    index: u64,
    key: String,
    kind: u16,
    time: i64,
    leaf: Vec<u8>,
    leaf_hash: Hash,
    body: Vec<u8>,
    /// How many stored hashes appending this entry completed (the leaf's and its parents').
    hash_count: usize,
}

/// Appends one entry in the caller's transaction. Retrying with the same idempotency key
/// returns the existing index and appends nothing.
pub async fn append(
    tx: &mut Transaction,
    idempotency_key: &str,
    entry: &Entry,
) -> Result<Appended> {
    let mut out = append_entries(tx, &[(idempotency_key, entry)], true, None).await?;
    out.pop()
        .ok_or_else(|| LedgerError::CorruptState { field: "append" }.into())
}

/// Where the caller keeps an entry's index: `UPDATE {table} SET {index_column} = <index>
/// WHERE {key_column} = {key}`. The names are the caller's constants, never input.
#[derive(Debug, Clone, Copy)]
pub struct IndexRow<'a> {
    pub table: &'static str,
    pub index_column: &'static str,
    pub key_column: &'static str,
    pub key: &'a str,
}

/// Appends one entry whose idempotency key the caller knows to be new (for example one naming
/// a document number this transaction has just moved from allocated to issued), without first
/// looking the key up, and writes its index into `row` (a row the transaction has written)
/// in the same statement. Should the key exist after all, the UNIQUE constraint fails the
/// statement and with it the caller's transaction; nothing is appended twice.
pub async fn append_new(
    tx: &mut Transaction,
    idempotency_key: &str,
    entry: &Entry,
    row: Option<&IndexRow<'_>>,
) -> Result<Appended> {
    let mut out = append_entries(tx, &[(idempotency_key, entry)], false, row).await?;
    out.pop()
        .ok_or_else(|| LedgerError::CorruptState { field: "append" }.into())
}

/// Appends several entries in the caller's transaction (group commit: one state update and
/// multi-row inserts). Results are in input order.
pub async fn append_batch(
    tx: &mut Transaction,
    entries: &[(&str, &Entry)],
) -> Result<Vec<Appended>> {
    append_entries(tx, entries, true, None).await
}

/// [`append_batch`] for keys the caller knows to be new (issuances of freshly allocated
/// numbers): no lookup; should one exist after all, the UNIQUE constraint fails the insert.
pub async fn append_batch_new(
    tx: &mut Transaction,
    entries: &[(&str, &Entry)],
) -> Result<Vec<Appended>> {
    append_entries(tx, entries, false, None).await
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 200 {
        return Err(LedgerError::InvalidIdempotencyKey.into());
    }
    Ok(())
}

/// One entry ready for the PostgreSQL function `ledger_append` (migration 0003), which appends
/// it in the server: the ledger row lock is then held for no client round trip, and a caller
/// can append inside its own single statement, in autocommit, in one round trip.
#[derive(Debug, Clone)]
pub struct PreparedEntry {
    key: String,
    kind: i64,
    time: i64,
    leaf: Vec<u8>,
    body: Vec<u8>,
}

impl PreparedEntry {
    /// Encodes `entry` under `idempotency_key`.
    pub fn new(idempotency_key: &str, entry: &Entry) -> Result<Self> {
        check_key(idempotency_key)?;
        let body = entry.encode();
        let leaf = entry.leaf(&body).to_vec();
        Ok(PreparedEntry {
            key: idempotency_key.to_owned(),
            kind: i64::from(entry.event.kind_code()),
            time: entry.time,
            leaf,
            body,
        })
    }

    /// The entry's idempotency key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The event's kind code (`ledger_append`'s `p_kind`).
    pub fn kind(&self) -> i64 {
        self.kind
    }

    /// The entry's time, in Unix seconds.
    pub fn time(&self) -> i64 {
        self.time
    }

    /// The leaf the entry's hash is computed from.
    pub fn leaf(&self) -> &[u8] {
        &self.leaf
    }

    /// The encoded entry, as stored.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// `ledger_append($first, ..., $first + 5)`: a set-returning call with the columns `idx`,
    /// `leaf_hash` and `fresh`, to use in the caller's statement, the values bound with
    /// [`PreparedEntry::bind`] at those placeholders.
    pub fn call(first: usize) -> String {
        let list: Vec<String> = (first..first + 6).map(|n| format!("${n}")).collect();
        format!("ledger_append({})", list.join(", "))
    }

    /// Binds the six values of [`PreparedEntry::call`]. `new`: the caller knows the key to be
    /// new (no lookup; if it exists after all, the UNIQUE constraint fails the statement);
    /// otherwise an existing key answers its entry with `fresh = false`.
    pub fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        new: bool,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        query
            .bind(self.key.clone())
            .bind(self.kind)
            .bind(self.time)
            .bind(self.leaf.clone())
            .bind(self.body.clone())
            .bind(new)
    }
}

/// Reads `idx`, `leaf_hash` and `fresh` as returned by `ledger_append`.
pub fn appended_from_row(row: &sqlx::any::AnyRow) -> Result<Appended> {
    let index = u64_of(
        row.try_get("idx").map_err(StoreError::db("reading idx"))?,
        "idx",
    )?;
    let hash: Vec<u8> = row
        .try_get("leaf_hash")
        .map_err(StoreError::db("reading leaf_hash"))?;
    let fresh: bool = row
        .try_get("fresh")
        .map_err(StoreError::db("reading fresh"))?;
    Ok(Appended {
        index,
        leaf_hash: hash_of(&hash, "ledger_entry", index, "leaf_hash")?,
        fresh,
    })
}

/// One entry on PostgreSQL: `ledger_append` and, when asked, the caller's index row, in one
/// statement.
async fn append_one_postgres(
    tx: &mut Transaction,
    idempotency_key: &str,
    entry: &Entry,
    new: bool,
    index_row: Option<&IndexRow<'_>>,
) -> Result<Appended> {
    let prepared = PreparedEntry::new(idempotency_key, entry)?;
    let mut sql = format!("WITH l AS (SELECT * FROM {})", PreparedEntry::call(1));
    if let Some(row) = index_row {
        sql.push_str(&format!(
            ", u AS (UPDATE {} SET {} = (SELECT idx FROM l) WHERE {} = $7)",
            row.table, row.index_column, row.key_column
        ));
    }
    sql.push_str(" SELECT idx, leaf_hash, fresh FROM l");
    let mut query = prepared.bind(sqlx::query(sqlx::AssertSqlSafe(sql)), new);
    if let Some(row) = index_row {
        query = query.bind(row.key.to_owned());
    }
    let row = query
        .fetch_one(tx.conn())
        .await
        .map_err(StoreError::db("appending to the ledger"))?;
    // The state row changed in the server: a later append in this transaction reads it again.
    tx.ledger = None;
    appended_from_row(&row)
}

async fn append_entries(
    tx: &mut Transaction,
    entries: &[(&str, &Entry)],
    look_up_keys: bool,
    index_row: Option<&IndexRow<'_>>,
) -> Result<Vec<Appended>> {
    for (key, _) in entries {
        check_key(key)?;
    }
    if let (Backend::Postgres, [(key, entry)]) = (tx.backend, entries) {
        let appended = append_one_postgres(tx, key, entry, !look_up_keys, index_row).await?;
        return Ok(vec![appended]);
    }
    let mut range = lock_state(tx).await?;

    // Keys already in the log (the lock makes this check-then-insert safe; the UNIQUE
    // constraint is the backstop).
    let mut existing: HashMap<String, (u64, Hash)> = HashMap::new();
    let lookups = if look_up_keys { entries } else { &[] };
    for chunk in lookups.chunks(ROWS_PER_INSERT) {
        let list = placeholder_list(tx.backend, chunk.len());
        let sql = format!(
            "SELECT idempotency_key, idx, leaf_hash FROM ledger_entry WHERE idempotency_key IN ({list})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, _) in chunk {
            query = query.bind(*key);
        }
        let rows = query
            .fetch_all(tx.conn())
            .await
            .map_err(StoreError::db("looking up idempotency keys"))?;
        for row in rows {
            let key: String = row.try_get(0).map_err(StoreError::db("reading key"))?;
            let index = u64_of(
                row.try_get(1).map_err(StoreError::db("reading idx"))?,
                "idx",
            )?;
            let hash: Vec<u8> = row
                .try_get(2)
                .map_err(StoreError::db("reading leaf_hash"))?;
            existing.insert(
                key,
                (index, hash_of(&hash, "ledger_entry", index, "leaf_hash")?),
            );
        }
    }

    let first_stored = stored_hash_count(range.size());
    let mut stored_hashes: Vec<Hash> = Vec::with_capacity(entries.len() * 2);
    let mut fresh: Vec<NewEntry> = Vec::with_capacity(entries.len());
    let mut results = Vec::with_capacity(entries.len());
    let mut seen: HashSet<&str> = HashSet::new();
    for (key, entry) in entries {
        if let Some(&(index, leaf_hash)) = existing.get(*key) {
            results.push(Appended {
                index,
                leaf_hash,
                fresh: false,
            });
            continue;
        }
        if !seen.insert(key) {
            // The same key twice in one batch: the first one wins.
            if let Some(first) = fresh.iter().find(|new| new.key == *key) {
                results.push(Appended {
                    index: first.index,
                    leaf_hash: first.leaf_hash,
                    fresh: false,
                });
            }
            continue;
        }
        let body = entry.encode();
        let leaf = entry.leaf(&body);
        let hash = leaf_hash(&leaf);
        let index = range.size();
        let hashes_before = stored_hashes.len();
        range.append_with(hash, |stored| stored_hashes.push(*stored));
        let hash_count = stored_hashes.len() - hashes_before;
        results.push(Appended {
            index,
            leaf_hash: hash,
            fresh: true,
        });
        fresh.push(NewEntry {
            index,
            key: (*key).to_owned(),
            kind: entry.event.kind_code(),
            time: entry.time,
            leaf: leaf.to_vec(),
            leaf_hash: hash,
            body,
            hash_count,
        });
    }
    if fresh.is_empty() {
        return Ok(results);
    }

    let frontier: Vec<u8> = range.hashes().concat();
    let root = range.root();
    let size = i64_of(range.size());
    let backend = tx.backend;
    let chunks = fresh.len().div_ceil(ROWS_PER_INSERT);
    let mut next_hash = 0usize;
    for (chunk_number, chunk) in fresh.chunks(ROWS_PER_INSERT).enumerate() {
        let mut writes = Writes::new(backend);
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for new in chunk {
            values.extend([
                Value::Int(i64_of(new.index)),
                Value::Text(new.key.as_str()),
                Value::Int(i64::from(new.kind)),
                Value::Int(new.time),
                Value::Bytes(new.leaf.as_slice()),
                Value::Bytes(new.leaf_hash.as_slice()),
            ]);
        }
        writes.insert(
            "ledger_entry (idx, idempotency_key, kind, created_at, leaf, leaf_hash)",
            6,
            values,
        );
        let values = chunk
            .iter()
            .flat_map(|new| [Value::Int(i64_of(new.index)), Value::Bytes(&new.body)])
            .collect();
        writes.insert("ledger_entry_body (idx, body)", 2, values);
        let hash_count: usize = chunk.iter().map(|new| new.hash_count).sum();
        let hashes = stored_hashes
            .get(next_hash..next_hash + hash_count)
            .ok_or(LedgerError::CorruptState { field: "hashes" })?;
        let base = first_stored + next_hash as u64;
        next_hash += hash_count;
        let values = hashes
            .iter()
            .enumerate()
            .flat_map(|(offset, hash)| {
                [
                    Value::Int(i64_of(base + offset as u64)),
                    Value::Bytes(hash.as_slice()),
                ]
            })
            .collect();
        writes.insert("ledger_hash (idx, hash)", 2, values);
        if chunk_number + 1 == chunks {
            if let (Some(row), Some(new)) = (index_row, fresh.first()) {
                writes.add(
                    &format!(
                        "UPDATE {} SET {} = ? WHERE {} = ?",
                        row.table, row.index_column, row.key_column
                    ),
                    vec![Value::Int(i64_of(new.index)), Value::Text(row.key)],
                );
            }
            writes.add(
                "UPDATE ledger_state SET size = ?, root = ?, frontier = ? WHERE id = 0",
                vec![
                    Value::Int(size),
                    Value::Bytes(root.as_slice()),
                    Value::Bytes(frontier.as_slice()),
                ],
            );
        }
        run_writes(tx, writes.list).await?;
    }
    tx.ledger = Some(LockedState { range });
    Ok(results)
}

/// The committed size and root.
pub async fn state(store: &Store) -> Result<(u64, Hash)> {
    let (size, root, _) = state_with_frontier(store).await?;
    Ok((size, root))
}

/// [`state`] and the stored frontier, read together (one snapshot of the state row).
pub(crate) async fn state_with_frontier(store: &Store) -> Result<(u64, Hash, Vec<u8>)> {
    let row = sqlx::query("SELECT size, root, frontier FROM ledger_state WHERE id = 0")
        .fetch_optional(store.pool())
        .await
        .map_err(StoreError::db("reading the ledger state"))?
        .ok_or(LedgerError::CorruptState { field: "row" })?;
    let size = u64_of(
        row.try_get(0).map_err(StoreError::db("reading size"))?,
        "size",
    )?;
    let root: Vec<u8> = row.try_get(1).map_err(StoreError::db("reading root"))?;
    let root =
        Hash::try_from(root.as_slice()).map_err(|_| LedgerError::CorruptState { field: "root" })?;
    let frontier: Vec<u8> = row.try_get(2).map_err(StoreError::db("reading frontier"))?;
    Ok((size, root, frontier))
}

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The whole signed note.
    pub note: String,
    pub signed_at: i64,
}

async fn latest_checkpoint_on(conn: &mut sqlx::AnyConnection) -> Result<Option<StoredCheckpoint>> {
    let row = sqlx::query(
        "SELECT size, note, signed_at FROM ledger_checkpoint ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await
    .map_err(StoreError::db("reading the latest checkpoint"))?;
    row.map(|row| {
        Ok(StoredCheckpoint {
            size: u64_of(
                row.try_get(0).map_err(StoreError::db("reading size"))?,
                "checkpoint size",
            )?,
            note: row.try_get(1).map_err(StoreError::db("reading note"))?,
            signed_at: row
                .try_get(2)
                .map_err(StoreError::db("reading signed_at"))?,
        })
    })
    .transpose()
}

/// The newest stored checkpoint, if any.
pub async fn latest_checkpoint(store: &Store) -> Result<Option<StoredCheckpoint>> {
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(StoreError::db("acquiring a connection"))?;
    latest_checkpoint_on(&mut conn).await
}

/// Every stored checkpoint, oldest first.
pub async fn checkpoints(store: &Store) -> Result<Vec<StoredCheckpoint>> {
    let rows = sqlx::query("SELECT size, note, signed_at FROM ledger_checkpoint ORDER BY size")
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::db("reading checkpoints"))?;
    rows.into_iter()
        .map(|row| {
            Ok(StoredCheckpoint {
                size: u64_of(
                    row.try_get(0).map_err(StoreError::db("reading size"))?,
                    "checkpoint size",
                )?,
                note: row.try_get(1).map_err(StoreError::db("reading note"))?,
                signed_at: row
                    .try_get(2)
                    .map_err(StoreError::db("reading signed_at"))?,
            })
        })
        .collect()
}

/// Which database a bare connection talks to.
pub(crate) fn backend_of_connection(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Reads the stored hashes at these positions.
pub(crate) async fn read_hashes(
    conn: &mut sqlx::AnyConnection,
    indexes: &[u64],
) -> Result<HashMap<u64, Hash>> {
    let backend = backend_of_connection(conn);
    let mut out = HashMap::with_capacity(indexes.len());
    for chunk in indexes.chunks(ROWS_PER_INSERT) {
        if chunk.is_empty() {
            continue;
        }
        let list = placeholder_list(backend, chunk.len());
        let sql = format!("SELECT idx, hash FROM ledger_hash WHERE idx IN ({list})");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for index in chunk {
            query = query.bind(i64_of(*index));
        }
        let rows = query
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::db("reading stored hashes"))?;
        for row in rows {
            let index = u64_of(
                row.try_get(0).map_err(StoreError::db("reading idx"))?,
                "hash idx",
            )?;
            let hash: Vec<u8> = row.try_get(1).map_err(StoreError::db("reading hash"))?;
            out.insert(index, hash_of(&hash, "ledger_hash", index, "hash")?);
        }
    }
    Ok(out)
}

/// The root of the first `size` leaves, from stored hashes.
pub(crate) async fn root_at(conn: &mut sqlx::AnyConnection, size: u64) -> Result<Hash> {
    if size == 0 {
        return Ok(travdoc_tlog::EMPTY_ROOT);
    }
    let ranges = [(0, size)];
    let fetched = read_hashes(conn, &proof::stored_indexes(&ranges)).await?;
    let hashes = proof::hash_ranges_from_map(&ranges, &fetched).map_err(LedgerError::from)?;
    hashes
        .first()
        .copied()
        .ok_or_else(|| LedgerError::CorruptState { field: "root" }.into())
}

/// A consistency proof between two sizes of the stored tree.
pub async fn prove_consistency(store: &Store, old: u64, new: u64) -> Result<Vec<Hash>> {
    let (size, _) = state(store).await?;
    if new > size {
        return Err(LedgerError::IndexOutOfRange { index: new, size }.into());
    }
    let ranges = proof::consistency_ranges(old, new).map_err(LedgerError::from)?;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(StoreError::db("acquiring a connection"))?;
    let fetched = read_hashes(&mut conn, &proof::stored_indexes(&ranges)).await?;
    Ok(proof::hash_ranges_from_map(&ranges, &fetched).map_err(LedgerError::from)?)
}

/// An inclusion proof against a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    /// Audit path, leaf sibling first.
    pub path: Vec<Hash>,
    /// The signed checkpoint (whole note) the path leads to.
    pub checkpoint: String,
}

impl InclusionProof {
    /// As a C2SP tlog-proof.
    pub fn to_tlog_proof(&self) -> travdoc_tlog::TlogProof {
        travdoc_tlog::TlogProof {
            extra: None,
            index: self.index,
            path: self.path.clone(),
            checkpoint: self.checkpoint.clone(),
        }
    }
}

/// Proves entry `index` against the latest checkpoint (one query for the checkpoint, then
/// the path from the store's hash cache, see [`prove_inclusion_against`]).
pub async fn prove_inclusion(store: &Store, index: u64) -> Result<InclusionProof> {
    let latest = latest_checkpoint(store)
        .await?
        .ok_or(LedgerError::NoCheckpoint)?;
    prove_inclusion_against(store, index, &latest).await
}

/// Proves entry `index` against a given stored checkpoint, reading the `O(log n)` stored
/// hashes from the store's in-process cache of committed hashes (filled from the database on
/// first use, in chunks; see `StoreOptions::ledger_hash_cache_bytes`). Correct with several
/// writers: committed stored hashes never change, so the cache never goes stale.
pub async fn prove_inclusion_against(
    store: &Store,
    index: u64,
    checkpoint: &StoredCheckpoint,
) -> Result<InclusionProof> {
    let size = checkpoint.size;
    if index >= size {
        return Err(LedgerError::NotCheckpointed { index, size }.into());
    }
    let ranges = proof::inclusion_ranges(index, size).map_err(LedgerError::from)?;
    let cache = store.hash_cache();
    // Each path element is one perfect subtree (one stored hash) or, on the right edge, a
    // range folded from several; those are remembered, so a warm proof hashes nothing.
    let leaf_at = stored_hash_index(0, index);
    let mut wanted = vec![leaf_at];
    let mut remembered: Vec<Option<Hash>> = Vec::with_capacity(ranges.len());
    for &(start, end) in &ranges {
        let width = end - start;
        if width.is_power_of_two() && start.is_multiple_of(width) {
            wanted.push(stored_hash_index(
                width.trailing_zeros(),
                start >> width.trailing_zeros(),
            ));
            remembered.push(None);
        } else if let Some(hash) = cache.edge(start, end) {
            remembered.push(Some(hash));
        } else {
            for (level, n) in travdoc_tlog::merkle::perfect_subtrees(start, end) {
                wanted.push(stored_hash_index(level, n));
            }
            remembered.push(None);
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let fetched = cache
        .get(store.pool(), &wanted, stored_hash_count(size))
        .await?;
    let lookup = |at: u64| {
        wanted
            .iter()
            .position(|&wanted_at| wanted_at == at)
            .and_then(|position| fetched.get(position))
            .copied()
    };
    let mut path = Vec::with_capacity(ranges.len());
    for (&(start, end), known) in ranges.iter().zip(remembered) {
        let hash = match known {
            Some(hash) => hash,
            None => {
                let hash = proof::hash_ranges(&[(start, end)], lookup)
                    .map_err(LedgerError::from)?
                    .first()
                    .copied()
                    .ok_or(LedgerError::CorruptState { field: "path" })?;
                let width = end - start;
                if !(width.is_power_of_two() && start.is_multiple_of(width)) {
                    cache.remember_edge(start, end, hash);
                }
                hash
            }
        };
        path.push(hash);
    }
    let leaf_hash =
        lookup(leaf_at).ok_or(LedgerError::Proof(travdoc_tlog::ProofError::MissingHash {
            index: leaf_at,
        }))?;
    Ok(InclusionProof {
        index,
        tree_size: size,
        leaf_hash,
        path,
        checkpoint: checkpoint.note.clone(),
    })
}

/// Proves entry `index` against a given checkpoint, reading every hash from the database on
/// this connection (no cache).
pub async fn prove_inclusion_at(
    conn: &mut sqlx::AnyConnection,
    index: u64,
    checkpoint: &StoredCheckpoint,
) -> Result<InclusionProof> {
    let size = checkpoint.size;
    if index >= size {
        return Err(LedgerError::NotCheckpointed { index, size }.into());
    }
    let ranges = proof::inclusion_ranges(index, size).map_err(LedgerError::from)?;
    let leaf_at = travdoc_tlog::merkle::stored_hash_index(0, index);
    let mut wanted = proof::stored_indexes(&ranges);
    wanted.push(leaf_at);
    let fetched = read_hashes(conn, &wanted).await?;
    let path = proof::hash_ranges_from_map(&ranges, &fetched).map_err(LedgerError::from)?;
    let leaf_hash = *fetched.get(&leaf_at).ok_or(LedgerError::Proof(
        travdoc_tlog::ProofError::MissingHash { index: leaf_at },
    ))?;
    Ok(InclusionProof {
        index,
        tree_size: size,
        leaf_hash,
        path,
        checkpoint: checkpoint.note.clone(),
    })
}

async fn register_key(tx: &mut Transaction, signer: &dyn LedgerSigner, now: i64) -> Result<()> {
    let key_id = i64::from(signer.key_id());
    let known = sqlx::query("SELECT spki FROM ledger_key WHERE name = $1 AND key_id = $2")
        .bind(signer.name())
        .bind(key_id)
        .fetch_optional(tx.conn())
        .await
        .map_err(StoreError::db("reading ledger keys"))?;
    if known.is_none() {
        sqlx::query(
            "INSERT INTO ledger_key (name, key_id, spki, added_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(signer.name())
        .bind(key_id)
        .bind(signer.spki_der())
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("recording the ledger key"))?;
    }
    Ok(())
}

/// The verifiers of every recorded ledger key.
pub async fn known_keys(store: &Store) -> Result<Vec<EcdsaP256Verifier>> {
    let rows = sqlx::query("SELECT name, key_id, spki FROM ledger_key ORDER BY added_at")
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::db("reading ledger keys"))?;
    let mut out = Vec::new();
    for row in rows {
        let name: String = row.try_get(0).map_err(StoreError::db("reading name"))?;
        let key_id: i64 = row.try_get(1).map_err(StoreError::db("reading key_id"))?;
        let spki: Vec<u8> = row.try_get(2).map_err(StoreError::db("reading spki"))?;
        let verifier =
            EcdsaP256Verifier::from_spki_der(&name, &spki).map_err(LedgerError::SignerKey)?;
        if i64::from(verifier.key_id()) != key_id {
            return Err(LedgerError::CorruptState {
                field: "ledger_key.key_id",
            }
            .into());
        }
        out.push(verifier);
    }
    Ok(out)
}

/// Signs a checkpoint of the current tree (or returns the stored one when nothing was appended
/// since). Refuses to sign a tree that does not extend the latest checkpoint, so the log never
/// signs two inconsistent checkpoints.
pub async fn checkpoint(
    store: &Store,
    signer: &dyn LedgerSigner,
    origin: &str,
    now: i64,
) -> Result<StoredCheckpoint> {
    let mut tx = store.begin().await?;
    let range = lock_state(&mut tx).await?;
    let size = range.size();
    let root = range.root();
    let latest = latest_checkpoint_on(tx.conn()).await?;
    if let Some(latest) = &latest {
        if latest.size == size {
            tx.rollback().await?;
            return Ok(latest.clone());
        }
        let old = checkpoint_body(latest)?;
        if old.size > size || root_at(tx.conn(), old.size).await? != old.root {
            return Err(LedgerError::WouldFork {
                size,
                checkpoint_size: old.size,
            }
            .into());
        }
    }
    // The compact range must agree with the stored hashes proofs will be served from.
    if root_at(tx.conn(), size).await? != root {
        return Err(LedgerError::WouldFork {
            size,
            checkpoint_size: latest.map(|c| c.size).unwrap_or(0),
        }
        .into());
    }
    let note = Checkpoint::new(origin, size, root)
        .sign(signer)
        .map_err(LedgerError::from)?;
    register_key(&mut tx, signer, now).await?;
    sqlx::query("INSERT INTO ledger_checkpoint (size, note, signed_at) VALUES ($1, $2, $3)")
        .bind(i64_of(size))
        .bind(note.as_str())
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("storing the checkpoint"))?;
    tx.commit().await?;
    Ok(StoredCheckpoint {
        size,
        note,
        signed_at: now,
    })
}

/// Signs a checkpoint when the configuration says one is due: `checkpoint_every_entries`
/// entries are not covered yet, or entries are waiting and the latest checkpoint is older than
/// `checkpoint_interval_secs`. Returns the new checkpoint, if one was signed.
pub async fn checkpoint_if_due(
    store: &Store,
    signer: &dyn LedgerSigner,
    config: &LedgerConfig,
    now: i64,
) -> Result<Option<StoredCheckpoint>> {
    let (size, _) = state(store).await?;
    let latest = latest_checkpoint(store).await?;
    let (covered, signed_at) = latest
        .as_ref()
        .map(|c| (c.size, c.signed_at))
        .unwrap_or((0, i64::MIN));
    let waiting = size.saturating_sub(covered);
    let age = now.saturating_sub(signed_at);
    let due = waiting > 0
        && (waiting >= config.checkpoint_every_entries
            || age >= i64::try_from(config.checkpoint_interval_secs).unwrap_or(i64::MAX));
    if !due {
        return Ok(None);
    }
    checkpoint(store, signer, &config.origin, now)
        .await
        .map(Some)
}

fn checkpoint_body(stored: &StoredCheckpoint) -> Result<Checkpoint> {
    let note = travdoc_tlog::Note::parse(stored.note.as_bytes()).map_err(|error| {
        LedgerError::CorruptCheckpoint {
            size: stored.size,
            source: error.into(),
        }
    })?;
    Checkpoint::parse_text(note.text()).map_err(|source| {
        LedgerError::CorruptCheckpoint {
            size: stored.size,
            source,
        }
        .into()
    })
}

/// One exported entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedEntry {
    pub index: u64,
    pub leaf_hash: String,
    pub entry: serde_json::Value,
}

/// Calls `each` for every entry in index order (the body parsed as JSON).
pub async fn export(
    store: &Store,
    mut each: impl FnMut(ExportedEntry) -> std::io::Result<()>,
) -> Result<u64> {
    use futures_util::TryStreamExt as _;
    let mut rows = sqlx::query(
        "SELECT e.idx, e.leaf_hash, b.body FROM ledger_entry e \
         JOIN ledger_entry_body b ON b.idx = e.idx ORDER BY e.idx",
    )
    .fetch(store.pool());
    let mut count = 0;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(StoreError::db("reading entries"))?
    {
        let index = u64_of(
            row.try_get(0).map_err(StoreError::db("reading idx"))?,
            "idx",
        )?;
        let hash: Vec<u8> = row
            .try_get(1)
            .map_err(StoreError::db("reading leaf_hash"))?;
        let body: Vec<u8> = row.try_get(2).map_err(StoreError::db("reading body"))?;
        let entry = serde_json::from_slice(&body).map_err(|_| LedgerError::CorruptRow {
            table: "ledger_entry_body",
            index,
            field: "body",
        })?;
        each(ExportedEntry {
            index,
            leaf_hash: hex::encode(hash),
            entry,
        })
        .map_err(LedgerError::Export)?;
        count += 1;
    }
    Ok(count)
}

/// Looks up the index of an entry by its leaf hash. A scan (no index since migration 0002:
/// the index cost every append and served nothing hot); use the entry index where known.
pub async fn find_by_leaf_hash(store: &Store, hash: &Hash) -> Result<Option<u64>> {
    let row = sqlx::query("SELECT idx FROM ledger_entry WHERE leaf_hash = $1 ORDER BY idx LIMIT 1")
        .bind(hash.as_slice())
        .fetch_optional(store.pool())
        .await
        .map_err(StoreError::db("looking up a leaf hash"))?;
    row.map(|row| {
        u64_of(
            row.try_get(0).map_err(StoreError::db("reading idx"))?,
            "idx",
        )
    })
    .transpose()
}

/// Unix seconds now (for callers without an injected clock).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
