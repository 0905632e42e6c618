//! Full verification of a stored ledger: every leaf and stored hash is recomputed from the
//! entry bodies (streamed in index order through an in-memory compact range), every checkpoint
//! signature is checked, every checkpoint root is compared with the recomputed tree, and
//! consecutive checkpoints are checked for consistency with proofs from the stored hashes.

use std::collections::HashMap;

use sqlx::{AnyPool, Row as _};
use travdoc_tlog::merkle::{CompactRange, Hash, leaf_hash, stored_hash_count};
use travdoc_tlog::note::{Note, NoteVerifier};
use travdoc_tlog::{Checkpoint, proof};

use super::event::{Entry, leaf_bytes};
use super::{LedgerError, read_hashes};
use crate::{Backend, Result, Store, StoreError};

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The entry index where the log first differs from what it should be, when known.
    pub index: Option<u64>,
    /// The checkpoint (by tree size) concerned, if any.
    pub checkpoint: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.index, self.checkpoint) {
            (Some(index), _) => write!(f, "index {index}: {}", self.message),
            (None, Some(size)) => write!(f, "checkpoint {size}: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// The size recorded in `ledger_state`.
    pub size: u64,
    /// The recomputed root of the checked entries.
    pub root: Hash,
    /// Checkpoints checked.
    pub checkpoints: usize,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The lowest entry index named by a problem.
    pub fn first_bad_index(&self) -> Option<u64> {
        self.problems.iter().filter_map(|p| p.index).min()
    }
}

fn entry_problem(index: u64, message: impl Into<String>) -> Problem {
    Problem {
        index: Some(index),
        checkpoint: None,
        message: message.into(),
    }
}

fn checkpoint_problem(size: u64, index: Option<u64>, message: impl Into<String>) -> Problem {
    Problem {
        index,
        checkpoint: Some(size),
        message: message.into(),
    }
}

/// Entries per verify chunk.
const VERIFY_CHUNK: u64 = 2048;

/// One entry row as stored.
struct EntryRow {
    index: i64,
    kind: i64,
    time: i64,
    leaf: Vec<u8>,
    leaf_hash: Vec<u8>,
    body: Option<Vec<u8>>,
}

/// The entries `[from, to)` and the stored hashes they create,
/// `[stored_hash_count(from), stored_hash_count(to))`, as stored (gaps included).
struct Chunk {
    to: u64,
    entries: Vec<EntryRow>,
    /// Position and hash (`None` when the stored value is not 32 bytes).
    hashes: Vec<(i64, Option<Hash>)>,
}

/// Reads one chunk. SQLite hands every result row from its worker thread to the caller
/// separately, which made a row-per-row walk of a 1M-entry log spend most of its time in
/// thread switches; so each chunk is read as one aggregated row (`group_concat` /
/// `string_agg` of hex, in index order). Anything unexpected in that text (a gap, a value of
/// the wrong type or length) falls back to reading the chunk row by row, which the checks
/// below then locate exactly.
async fn fetch_chunk(pool: AnyPool, backend: Backend, from: u64, to: u64) -> Result<Chunk> {
    let (entry_from, entry_to) = (bound(from), bound(to));
    let (hash_from, hash_to) = (bound(stored_hash_count(from)), bound(stored_hash_count(to)));
    let (entries, hashes) = futures_util::future::try_join(
        fetch_entries(&pool, backend, entry_from, entry_to),
        fetch_hashes(&pool, backend, hash_from, hash_to),
    )
    .await?;
    Ok(Chunk {
        to,
        entries,
        hashes,
    })
}

fn bound(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

async fn fetch_entries(
    pool: &AnyPool,
    backend: Backend,
    from: i64,
    to: i64,
) -> Result<Vec<EntryRow>> {
    if let Some(rows) = fetch_entries_aggregated(pool, backend, from, to).await {
        return Ok(rows);
    }
    fetch_entry_rows(pool, from, to).await
}

/// The fast path: `None` when the query fails or its text is not what a sound chunk gives.
async fn fetch_entries_aggregated(
    pool: &AnyPool,
    backend: Backend,
    from: i64,
    to: i64,
) -> Option<Vec<EntryRow>> {
    let aggregated = match backend {
        Backend::Sqlite => {
            "SELECT count(*), group_concat(e.idx || ',' || e.kind || ',' || e.created_at || ',' || hex(e.leaf) \
             || ',' || hex(e.leaf_hash) || ',' || coalesce(hex(b.body), '-'), ';' ORDER BY e.idx) \
             FROM ledger_entry e LEFT JOIN ledger_entry_body b ON b.idx = e.idx \
             WHERE e.idx >= $1 AND e.idx < $2"
        }
        Backend::Postgres => {
            "SELECT count(*), string_agg(e.idx::text || ',' || e.kind::text || ',' || e.created_at::text \
             || ',' || encode(e.leaf, 'hex') || ',' || encode(e.leaf_hash, 'hex') || ',' \
             || coalesce(encode(b.body, 'hex'), '-'), ';' ORDER BY e.idx) \
             FROM ledger_entry e LEFT JOIN ledger_entry_body b ON b.idx = e.idx \
             WHERE e.idx >= $1 AND e.idx < $2"
        }
    };
    let (count, text): (i64, Option<String>) = sqlx::query_as(aggregated)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await
        .ok()?;
    // Only hex and integers are joined, so exactly `count` records of six fields each means no
    // stored value contained a separator.
    let rows = parse_entries(&text.unwrap_or_default())?;
    usize::try_from(count)
        .is_ok_and(|count| rows.len() == count)
        .then_some(rows)
}

/// The slow path, one result row per entry.
async fn fetch_entry_rows(pool: &AnyPool, from: i64, to: i64) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(
        "SELECT e.idx, e.kind, e.created_at, e.leaf, e.leaf_hash, b.body FROM ledger_entry e \
         LEFT JOIN ledger_entry_body b ON b.idx = e.idx WHERE e.idx >= $1 AND e.idx < $2 \
         ORDER BY e.idx",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("reading entries"))?;
    rows.into_iter()
        .map(|row| {
            Ok(EntryRow {
                index: row.try_get(0).map_err(StoreError::db("reading idx"))?,
                kind: row.try_get(1).map_err(StoreError::db("reading kind"))?,
                time: row
                    .try_get(2)
                    .map_err(StoreError::db("reading created_at"))?,
                leaf: row.try_get(3).map_err(StoreError::db("reading leaf"))?,
                leaf_hash: row
                    .try_get(4)
                    .map_err(StoreError::db("reading leaf_hash"))?,
                body: row.try_get(5).map_err(StoreError::db("reading body"))?,
            })
        })
        .collect()
}

/// Parses `idx,kind,time,hex(leaf),hex(leaf_hash),hex(body)|-` records joined by `;`.
fn parse_entries(text: &str) -> Option<Vec<EntryRow>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    let mut out = Vec::with_capacity(VERIFY_CHUNK as usize);
    for record in text.split(';') {
        let mut fields = record.split(',');
        let mut next = || fields.next();
        let index = next()?.parse().ok()?;
        let kind = next()?.parse().ok()?;
        let time = next()?.parse().ok()?;
        let leaf = decode_hex(next()?)?;
        let leaf_hash = decode_hex(next()?)?;
        let body = match next()? {
            "-" => None,
            hex_body => Some(decode_hex(hex_body)?),
        };
        if next().is_some() {
            return None;
        }
        out.push(EntryRow {
            index,
            kind,
            time,
            leaf,
            leaf_hash,
            body,
        });
    }
    Some(out)
}

/// `count(*)`, `min(idx)`, `max(idx)` and every hash concatenated in index order.
type HashAggregate = (i64, Option<i64>, Option<i64>, Option<Vec<u8>>);

/// Lowercase or uppercase hex to bytes (a table lookup per digit; the `hex` crate's iterator
/// decoder was a tenth of the verify profile).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    const INVALID: u8 = 0xff;
    const TABLE: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut digit = 0;
        while digit < 10 {
            table[b'0' as usize + digit] = digit as u8;
            digit += 1;
        }
        let mut letter = 0;
        while letter < 6 {
            table[b'a' as usize + letter] = 10 + letter as u8;
            table[b'A' as usize + letter] = 10 + letter as u8;
            letter += 1;
        }
        table
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut bad = 0u8;
    for pair in bytes.chunks_exact(2) {
        let high = TABLE[usize::from(pair[0])];
        let low = TABLE[usize::from(pair[1])];
        bad |= high | low;
        out.push((high << 4) | (low & 0x0f));
    }
    (bad & 0xf0 == 0).then_some(out)
}

async fn fetch_hashes(
    pool: &AnyPool,
    backend: Backend,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Option<Hash>)>> {
    if let Some(hashes) = fetch_hashes_aggregated(pool, backend, from, to).await {
        return Ok(hashes);
    }
    fetch_hash_rows(pool, from, to).await
}

/// The fast path: `None` when the query fails or the chunk is not dense 32-byte hashes.
async fn fetch_hashes_aggregated(
    pool: &AnyPool,
    backend: Backend,
    from: i64,
    to: i64,
) -> Option<Vec<(i64, Option<Hash>)>> {
    let aggregated = match backend {
        Backend::Sqlite => {
            "SELECT count(*), min(idx), max(idx), \
             CAST(group_concat(hash, '' ORDER BY idx) AS BLOB) \
             FROM ledger_hash WHERE idx >= $1 AND idx < $2"
        }
        Backend::Postgres => {
            "SELECT count(*), min(idx), max(idx), string_agg(hash, '\\x'::bytea ORDER BY idx) \
             FROM ledger_hash WHERE idx >= $1 AND idx < $2"
        }
    };
    let (count, first, last, bytes): HashAggregate = sqlx::query_as(aggregated)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await
        .ok()?;
    let bytes = bytes.unwrap_or_default();
    let dense = count == to - from
        && (count == 0 || (first == Some(from) && last == Some(to - 1)))
        && usize::try_from(count).is_ok_and(|count| bytes.len() == count * 32);
    dense.then(|| {
        bytes
            .chunks_exact(32)
            .zip(from..)
            .map(|(hash, at)| (at, Hash::try_from(hash).ok()))
            .collect()
    })
}

/// The slow path, one result row per stored hash.
async fn fetch_hash_rows(pool: &AnyPool, from: i64, to: i64) -> Result<Vec<(i64, Option<Hash>)>> {
    let rows =
        sqlx::query("SELECT idx, hash FROM ledger_hash WHERE idx >= $1 AND idx < $2 ORDER BY idx")
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading stored hashes"))?;
    rows.into_iter()
        .map(|row| {
            let hash: Vec<u8> = row.try_get(1).map_err(StoreError::db("reading hash"))?;
            Ok((
                row.try_get(0).map_err(StoreError::db("reading hash idx"))?,
                Hash::try_from(hash.as_slice()).ok(),
            ))
        })
        .collect()
}

/// The state of the walk over the log, moved between the async reader and the blocking
/// checker.
struct Walk {
    range: CompactRange,
    stored_position: u64,
    first_problem: Option<Problem>,
    wanted_roots: HashMap<u64, ()>,
    computed_roots: HashMap<u64, Hash>,
}

/// What the entry itself says, computed in parallel for a chunk.
type LeafCheck = Result<Hash, String>;

fn check_leaf(row: &EntryRow) -> LeafCheck {
    let Some(body) = &row.body else {
        return Err("entry body is missing".to_owned());
    };
    let entry = Entry::decode(body).map_err(|error| format!("entry body: {error}"))?;
    let kind_code = entry.event.kind_code();
    if i64::from(kind_code) != row.kind || entry.time != row.time {
        return Err("kind or time column differs from the entry body".to_owned());
    }
    let recomputed_leaf = leaf_bytes(kind_code, entry.time, body);
    if recomputed_leaf.as_slice() != row.leaf.as_slice() {
        return Err("stored leaf does not commit to the entry body".to_owned());
    }
    let hash = leaf_hash(&recomputed_leaf);
    if row.leaf_hash.as_slice() != hash.as_slice() {
        return Err("stored leaf hash is wrong".to_owned());
    }
    Ok(hash)
}

/// Checks the leaves of a chunk on two threads (decoding and hashing dominate).
fn check_leaves(rows: &[EntryRow]) -> Vec<LeafCheck> {
    let half = rows.len() / 2;
    let (left, right) = rows.split_at(half);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| right.iter().map(check_leaf).collect::<Vec<_>>());
        let mut out: Vec<LeafCheck> = left.iter().map(check_leaf).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            // Cannot happen (check_leaf does not panic); recompute here if it did.
            Err(_) => out.extend(right.iter().map(check_leaf)),
        }
        out
    })
}

impl Walk {
    fn check(&mut self, chunk: &Chunk) {
        let leaves = check_leaves(&chunk.entries);
        let mut hashes = chunk.hashes.iter();
        for (row, leaf) in chunk.entries.iter().zip(leaves) {
            let expected = self.range.size();
            if row.index != bound(expected) {
                self.first_problem = Some(entry_problem(
                    expected,
                    format!(
                        "entry {expected} is missing (next stored entry is {})",
                        row.index
                    ),
                ));
                return;
            }
            let hash = match leaf {
                Ok(hash) => hash,
                Err(message) => {
                    self.first_problem = Some(entry_problem(expected, message));
                    return;
                }
            };
            // Compare every stored hash this leaf creates.
            let mut created: [Hash; 66] = [[0u8; 32]; 66];
            let mut count = 0usize;
            self.range.append_with(hash, |stored| {
                if count < created.len() {
                    created[count] = *stored;
                }
                count += 1;
            });
            for recomputed in created.iter().take(count) {
                let position = self.stored_position;
                let problem = match hashes.next() {
                    Some((at, _)) if *at != bound(position) => {
                        Some(format!("stored hash {position} is missing"))
                    }
                    Some((_, stored)) if stored.as_ref() != Some(recomputed) => Some(format!(
                        "stored hash {position} differs from the recomputed tree"
                    )),
                    Some(_) => None,
                    None => Some(format!("stored hash {position} is missing")),
                };
                if let Some(message) = problem {
                    self.first_problem = Some(entry_problem(expected, message));
                    return;
                }
                self.stored_position += 1;
            }
            if self.wanted_roots.contains_key(&self.range.size()) {
                self.computed_roots
                    .insert(self.range.size(), self.range.root());
            }
        }
        let reached = self.range.size();
        if reached < chunk.to {
            self.first_problem = Some(entry_problem(
                reached,
                format!("entry {reached} is missing"),
            ));
        }
    }
}

/// Verifies the whole ledger. Checkpoint signatures are checked against `trusted` keys when
/// given, otherwise against the keys recorded in `ledger_key`. `progress(done, total)` is called
/// now and then while entries are streamed.
pub async fn verify(
    store: &Store,
    trusted: &[&dyn NoteVerifier],
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport> {
    // Size, root and frontier of one moment: appends that follow do not count.
    let (size, state_root, stored_frontier) = super::state_with_frontier(store).await?;
    let stored_checkpoints = super::checkpoints(store).await?;
    let recorded_keys = super::known_keys(store).await?;
    let verifiers: Vec<&dyn NoteVerifier> = if trusted.is_empty() {
        recorded_keys
            .iter()
            .map(|k| k as &dyn NoteVerifier)
            .collect()
    } else {
        trusted.to_vec()
    };

    let mut report = VerifyReport {
        size,
        ..VerifyReport::default()
    };

    // Parse and authenticate checkpoints first; remember the sizes whose roots we need.
    let mut parsed: Vec<(u64, Checkpoint)> = Vec::new();
    let mut origin: Option<String> = None;
    for stored in &stored_checkpoints {
        report.checkpoints += 1;
        let note = match Note::parse(stored.note.as_bytes()) {
            Ok(note) => note,
            Err(error) => {
                report.problems.push(checkpoint_problem(
                    stored.size,
                    None,
                    format!("unreadable note: {error}"),
                ));
                continue;
            }
        };
        let body = match Checkpoint::parse_text(note.text()) {
            Ok(body) => body,
            Err(error) => {
                report.problems.push(checkpoint_problem(
                    stored.size,
                    None,
                    format!("not a checkpoint: {error}"),
                ));
                continue;
            }
        };
        if body.size != stored.size {
            report.problems.push(checkpoint_problem(
                stored.size,
                None,
                format!(
                    "note says size {} but is stored as size {}",
                    body.size, stored.size
                ),
            ));
            continue;
        }
        match &origin {
            Some(expected) if *expected != body.origin => {
                report.problems.push(checkpoint_problem(
                    stored.size,
                    None,
                    format!("origin `{}` differs from `{expected}`", body.origin),
                ));
                continue;
            }
            None => origin = Some(body.origin.clone()),
            Some(_) => {}
        }
        if let Err(error) = note.verify(&verifiers) {
            report.problems.push(checkpoint_problem(
                stored.size,
                None,
                format!("signature check failed: {error}"),
            ));
            continue;
        }
        parsed.push((stored.size, body));
    }
    let wanted_roots: HashMap<u64, ()> = parsed.iter().map(|(size, _)| (*size, ())).collect();
    let mut computed_roots: HashMap<u64, Hash> = HashMap::new();
    if wanted_roots.contains_key(&0) {
        computed_roots.insert(0, travdoc_tlog::EMPTY_ROOT);
    }

    // Entries (with bodies) and the stored hashes they create are read in aligned chunks,
    // the next chunk being fetched while this one is checked (see `fetch_chunk`).
    let mut walk = Walk {
        range: CompactRange::new(),
        stored_position: 0,
        first_problem: None,
        wanted_roots,
        computed_roots,
    };
    progress(0, size);
    let pool = store.pool().clone();
    let backend = store.backend();
    let chunk_of = |from: u64| {
        let to = (from + VERIFY_CHUNK).min(size);
        tokio::spawn(fetch_chunk(pool.clone(), backend, from, to))
    };
    let mut next = (size > 0).then(|| chunk_of(0));
    while let Some(pending) = next.take() {
        let chunk = pending.await.map_err(|_| LedgerError::VerifyWorker)??;
        if chunk.to < size {
            next = Some(chunk_of(chunk.to));
        }
        let to = chunk.to;
        walk = tokio::task::spawn_blocking(move || {
            walk.check(&chunk);
            walk
        })
        .await
        .map_err(|_| LedgerError::VerifyWorker)?;
        if walk.first_problem.is_some() || walk.range.size() < to {
            if let Some(pending) = next.take() {
                pending.abort();
            }
            break;
        }
        progress(walk.range.size(), size);
    }
    let Walk {
        range,
        first_problem,
        computed_roots,
        ..
    } = walk;
    progress(range.size(), size);
    report.entries = range.size();
    report.root = range.root();

    if let Some(problem) = first_problem {
        report.problems.push(problem);
    } else {
        if range.size() < size {
            report.problems.push(entry_problem(
                range.size(),
                format!(
                    "the log state says {size} entries but entries stop at {}",
                    range.size()
                ),
            ));
        } else if range.root() != state_root {
            report.problems.push(Problem {
                index: None,
                checkpoint: None,
                message: "ledger_state root differs from the recomputed root".to_owned(),
            });
        }
        if range.size() == size {
            // The frontier (the perfect subtree hashes the next append folds into) must be the
            // recomputed tree's: a tampered frontier would make every later root wrong.
            if stored_frontier != range.hashes().concat() {
                report.problems.push(Problem {
                    index: None,
                    checkpoint: None,
                    message: "ledger_state frontier differs from the recomputed tree".to_owned(),
                });
            }
        }
        // Idempotency keys are how appends are de-duplicated, not evidence (the leaf commits
        // to kind, time and body only); each must still be a well-formed key.
        let malformed: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(idx) FROM ledger_entry \
             WHERE length(idempotency_key) = 0 OR length(idempotency_key) > 200",
        )
        .fetch_one(store.pool())
        .await
        .map_err(StoreError::db("checking idempotency keys"))?;
        if let Some(index) = malformed {
            report.problems.push(entry_problem(
                u64::try_from(index).unwrap_or(0),
                "idempotency_key is not a well-formed key",
            ));
        }
        let extra: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_entry WHERE idx >= (SELECT size FROM ledger_state WHERE id = 0)",
        )
        .fetch_one(store.pool())
        .await
        .map_err(StoreError::db("counting entries"))?;
        if extra > 0 {
            report.problems.push(entry_problem(
                size,
                format!("{extra} entries lie beyond the recorded log size {size}"),
            ));
        }
    }

    // Checkpoint roots against the recomputed tree, then consistency of consecutive ones.
    let mut previous: Option<&(u64, Checkpoint)> = None;
    let mut last_good_size = 0u64;
    for item in &parsed {
        let (cp_size, body) = item;
        if *cp_size > size {
            report.problems.push(checkpoint_problem(
                *cp_size,
                Some(size),
                format!("signed for {cp_size} entries but the log has only {size}: entries from {size} are gone"),
            ));
            continue;
        }
        match computed_roots.get(cp_size) {
            Some(root) if *root == body.root => {}
            Some(_) => {
                report.problems.push(checkpoint_problem(
                    *cp_size,
                    None,
                    format!(
                        "root differs from the stored entries: an entry in [{last_good_size}, {cp_size}) was changed"
                    ),
                ));
                continue;
            }
            // Not reached because streaming stopped at an earlier problem.
            None => continue,
        }
        if let Some((old_size, old)) = previous {
            let ranges =
                proof::consistency_ranges(*old_size, *cp_size).map_err(LedgerError::from)?;
            let mut conn = store
                .pool()
                .acquire()
                .await
                .map_err(StoreError::db("acquiring a connection"))?;
            let fetched = read_hashes(&mut conn, &proof::stored_indexes(&ranges)).await?;
            let consistent = proof::hash_ranges_from_map(&ranges, &fetched)
                .and_then(|path| {
                    proof::verify_consistency(*old_size, &old.root, *cp_size, &body.root, &path)
                })
                .is_ok();
            if !consistent {
                report.problems.push(checkpoint_problem(
                    *cp_size,
                    None,
                    format!("not consistent with the checkpoint at size {old_size}"),
                ));
            }
        }
        previous = Some(item);
        last_good_size = *cp_size;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Entry, Event, append_batch};

    #[tokio::test]
    async fn aggregated_reads_equal_row_reads_on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("agg.db").display());
        let store = Store::connect(&url).await.expect("store");
        let entries: Vec<(String, Entry)> = (0..300u64)
            .map(|i| {
                let event = Event::BlankSpoiled {
                    blank_serial: format!("B{i}"),
                    reason: "jam".into(),
                    operator_ref: "op".into(),
                };
                (format!("k{i}"), Entry::new(1_790_000_000 + i as i64, event))
            })
            .collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await.expect("begin");
        append_batch(&mut tx, &refs).await.expect("append");
        tx.commit().await.expect("commit");
        let pool = store.pool();
        let hash_end = bound(stored_hash_count(300));
        let fast = fetch_hashes_aggregated(pool, Backend::Sqlite, 0, hash_end)
            .await
            .expect("the aggregated read is taken");
        let slow = fetch_hash_rows(pool, 0, hash_end).await.expect("rows");
        assert_eq!(fast.len(), 2 * 300 - 300u64.count_ones() as usize);
        assert_eq!(fast, slow);
        let fast = fetch_entries_aggregated(pool, Backend::Sqlite, 10, 250)
            .await
            .expect("the aggregated read is taken");
        let slow = fetch_entry_rows(pool, 10, 250).await.expect("rows");
        assert_eq!(fast.len(), 240);
        for (a, b) in fast.iter().zip(&slow) {
            assert_eq!(
                (a.index, a.kind, a.time, &a.leaf, &a.leaf_hash, &a.body),
                (b.index, b.kind, b.time, &b.leaf, &b.leaf_hash, &b.body)
            );
        }
        // A gap makes the aggregated hash read step aside.
        assert!(
            fetch_hashes_aggregated(pool, Backend::Sqlite, 0, hash_end + 1)
                .await
                .is_none()
        );
    }

    #[test]
    fn hex_decoding_matches_the_hex_crate_and_refuses_junk() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_hex(&hex::encode(&bytes)), Some(bytes.clone()));
        assert_eq!(decode_hex(&hex::encode_upper(&bytes)), Some(bytes));
        assert_eq!(decode_hex(""), Some(Vec::new()));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("-1"), None);
    }
}
