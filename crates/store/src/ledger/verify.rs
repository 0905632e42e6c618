//! Full verification of a stored ledger: every leaf and stored hash is recomputed from the
//! entry bodies (streamed in index order through an in-memory compact range), every checkpoint
//! signature is checked, every checkpoint root is compared with the recomputed tree, and
//! consecutive checkpoints are checked for consistency with proofs from the stored hashes.

use std::collections::HashMap;

use futures_util::TryStreamExt as _;
use sqlx::Row as _;
use travdoc_tlog::merkle::{CompactRange, Hash, leaf_hash, stored_hash_count};
use travdoc_tlog::note::{Note, NoteVerifier};
use travdoc_tlog::{Checkpoint, proof};

use super::event::{Entry, leaf_bytes};
use super::{LedgerError, read_hashes};
use crate::{Result, Store, StoreError};

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

/// Verifies the whole ledger. Checkpoint signatures are checked against `trusted` keys when
/// given, otherwise against the keys recorded in `ledger_key`. `progress(done, total)` is called
/// now and then while entries are streamed.
pub async fn verify(
    store: &Store,
    trusted: &[&dyn NoteVerifier],
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<VerifyReport> {
    let (size, state_root) = super::state(store).await?;
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

    // Stream entries (with bodies) and stored hashes in lockstep.
    let size_bound = i64::try_from(size).unwrap_or(i64::MAX);
    let hash_bound = i64::try_from(stored_hash_count(size)).unwrap_or(i64::MAX);
    let mut entries = sqlx::query(
        "SELECT e.idx, e.kind, e.created_at, e.leaf, e.leaf_hash, b.body FROM ledger_entry e \
         LEFT JOIN ledger_entry_body b ON b.idx = e.idx WHERE e.idx < $1 ORDER BY e.idx",
    )
    .bind(size_bound)
    .fetch(store.pool());
    let mut hashes = sqlx::query("SELECT idx, hash FROM ledger_hash WHERE idx < $1 ORDER BY idx")
        .bind(hash_bound)
        .fetch(store.pool());

    let mut range = CompactRange::new();
    let mut first_problem: Option<Problem> = None;
    let mut stored_position = 0u64;
    progress(0, size);
    'entries: while let Some(row) = entries
        .try_next()
        .await
        .map_err(StoreError::db("reading entries"))?
    {
        let expected = range.size();
        let index: i64 = row.try_get(0).map_err(StoreError::db("reading idx"))?;
        if index != i64::try_from(expected).unwrap_or(i64::MAX) {
            first_problem = Some(entry_problem(
                expected,
                format!("entry {expected} is missing (next stored entry is {index})"),
            ));
            break;
        }
        let kind: i64 = row.try_get(1).map_err(StoreError::db("reading kind"))?;
        let time: i64 = row
            .try_get(2)
            .map_err(StoreError::db("reading created_at"))?;
        let leaf: Vec<u8> = row.try_get(3).map_err(StoreError::db("reading leaf"))?;
        let stored_leaf_hash: Vec<u8> = row
            .try_get(4)
            .map_err(StoreError::db("reading leaf_hash"))?;
        let body: Option<Vec<u8>> = row.try_get(5).map_err(StoreError::db("reading body"))?;
        let Some(body) = body else {
            first_problem = Some(entry_problem(expected, "entry body is missing"));
            break;
        };
        let entry = match Entry::decode(&body) {
            Ok(entry) => entry,
            Err(error) => {
                first_problem = Some(entry_problem(expected, format!("entry body: {error}")));
                break;
            }
        };
        let kind_code = entry.event.kind_code();
        if i64::from(kind_code) != kind || entry.time != time {
            first_problem = Some(entry_problem(
                expected,
                "kind or time column differs from the entry body",
            ));
            break;
        }
        let recomputed_leaf = leaf_bytes(kind_code, entry.time, &body);
        if recomputed_leaf.as_slice() != leaf.as_slice() {
            first_problem = Some(entry_problem(
                expected,
                "stored leaf does not commit to the entry body",
            ));
            break;
        }
        let hash = leaf_hash(&recomputed_leaf);
        if stored_leaf_hash.as_slice() != hash.as_slice() {
            first_problem = Some(entry_problem(expected, "stored leaf hash is wrong"));
            break;
        }
        // Compare every stored hash this leaf creates.
        let mut created: [Hash; 66] = [[0u8; 32]; 66];
        let mut count = 0usize;
        range.append_with(hash, |stored| {
            if count < created.len() {
                created[count] = *stored;
            }
            count += 1;
        });
        for recomputed in created.iter().take(count) {
            let row = hashes
                .try_next()
                .await
                .map_err(StoreError::db("reading stored hashes"))?;
            let Some(row) = row else {
                first_problem = Some(entry_problem(
                    expected,
                    format!("stored hash {stored_position} is missing"),
                ));
                break 'entries;
            };
            let at: i64 = row.try_get(0).map_err(StoreError::db("reading hash idx"))?;
            let stored: Vec<u8> = row.try_get(1).map_err(StoreError::db("reading hash"))?;
            if at != i64::try_from(stored_position).unwrap_or(i64::MAX) {
                first_problem = Some(entry_problem(
                    expected,
                    format!("stored hash {stored_position} is missing"),
                ));
                break 'entries;
            }
            if stored.as_slice() != recomputed.as_slice() {
                first_problem = Some(entry_problem(
                    expected,
                    format!("stored hash {stored_position} differs from the recomputed tree"),
                ));
                break 'entries;
            }
            stored_position += 1;
        }
        if wanted_roots.contains_key(&range.size()) {
            computed_roots.insert(range.size(), range.root());
        }
        if range.size().is_multiple_of(16384) {
            progress(range.size(), size);
        }
    }
    drop(entries);
    drop(hashes);
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
