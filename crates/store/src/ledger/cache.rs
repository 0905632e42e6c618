//! An in-process cache of committed stored hashes, so an inclusion proof is `O(log n)` memory
//! reads instead of a database round trip.
//!
//! Stored hashes are append-only and, once committed, never change: row `i` of `ledger_hash`
//! is the same in every process forever. The cache therefore only ever holds rows read through
//! the pool (committed, never a caller's open transaction), and it needs no invalidation when
//! other processes append: their rows simply lie beyond what is cached and are read on demand.
//! It is filled lazily, in chunks of [`CHUNK`] consecutive stored hashes (a chunk at the end of
//! the log may be partial and is extended later), and bounded in memory; when full, rows are
//! still served but not kept. `verify` never reads it: it always recomputes from the database.

use std::collections::HashMap;
use std::sync::RwLock;

use sqlx::Row as _;
use travdoc_tlog::merkle::Hash;

use super::{LedgerError, hash_of, i64_of, u64_of};
use crate::{Result, StoreError};

/// Stored hashes per cache chunk (128 KiB).
pub(crate) const CHUNK: u64 = 4096;

/// Bytes held by one full chunk.
const CHUNK_BYTES: usize = CHUNK as usize * 32;

/// The cache behind one [`crate::Store`] and its clones.
#[derive(Debug)]
pub(crate) struct HashCache {
    /// Chunk number -> the stored hashes from `chunk * CHUNK` on (at most `CHUNK`).
    chunks: RwLock<HashMap<u64, Vec<Hash>>>,
    max_chunks: usize,
    /// Hashes of leaf ranges `[start, end)` that are not one perfect subtree (the right edge
    /// of a checkpointed tree), so a proof folds nothing twice. Committed leaves never change,
    /// so neither do these.
    edges: RwLock<HashMap<(u64, u64), Hash>>,
    /// Held while a chunk is read from the database, so that requests which all miss the same
    /// chunk at once (the first verifications after the log grew) read it once, not once each:
    /// 64 concurrent verifications of a fresh entry had read ~1 M rows and stalled for up to a
    /// second.
    loading: tokio::sync::Mutex<()>,
    /// Rows read from the database so far (for tests and diagnostics).
    rows_read: std::sync::atomic::AtomicU64,
}

/// Most remembered right-edge range hashes (a few dozen per checkpoint size).
const MAX_EDGES: usize = 4096;

impl HashCache {
    /// A cache holding at most about `max_bytes` of hashes (0 disables it).
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            chunks: RwLock::new(HashMap::new()),
            max_chunks: max_bytes / CHUNK_BYTES,
            edges: RwLock::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
            rows_read: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The remembered hash of the leaf range `[start, end)`, if any.
    pub(crate) fn edge(&self, start: u64, end: u64) -> Option<Hash> {
        if self.max_chunks == 0 {
            return None;
        }
        let edges = self
            .edges
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        edges.get(&(start, end)).copied()
    }

    /// Remembers the hash of the leaf range `[start, end)` of committed leaves.
    pub(crate) fn remember_edge(&self, start: u64, end: u64, hash: Hash) {
        if self.max_chunks == 0 {
            return;
        }
        let mut edges = self
            .edges
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if edges.len() >= MAX_EDGES {
            edges.clear();
        }
        edges.insert((start, end), hash);
    }

    /// The hashes at the sorted, deduplicated positions `wanted`, all below `bound` (the
    /// stored-hash count of a committed tree size), in the order of `wanted`.
    pub(crate) async fn get(
        &self,
        pool: &sqlx::AnyPool,
        wanted: &[u64],
        bound: u64,
    ) -> Result<Vec<Hash>> {
        let mut found: Vec<Option<Hash>> = Vec::with_capacity(wanted.len());
        let mut missing: Vec<u64> = Vec::new();
        {
            let chunks = self
                .chunks
                .read()
                .unwrap_or_else(|poison| poison.into_inner());
            for &index in wanted {
                let hash = chunks
                    .get(&(index / CHUNK))
                    .and_then(|hashes| hashes.get((index % CHUNK) as usize))
                    .copied();
                if hash.is_none() && missing.last() != Some(&(index / CHUNK)) {
                    missing.push(index / CHUNK);
                }
                found.push(hash);
            }
        }
        for chunk in missing {
            let loaded = self.load(pool, chunk, bound).await?;
            let start = chunk * CHUNK;
            for (slot, &index) in found.iter_mut().zip(wanted) {
                if slot.is_none() && index / CHUNK == chunk {
                    *slot = loaded.get((index - start) as usize).copied();
                }
            }
        }
        found
            .into_iter()
            .zip(wanted)
            .map(|(hash, &index)| {
                hash.ok_or_else(|| {
                    LedgerError::Proof(travdoc_tlog::ProofError::MissingHash { index }).into()
                })
            })
            .collect()
    }

    /// Reads the rest of one chunk (up to `bound`) from the database, keeps it when there is
    /// room, and returns the chunk as far as it is known.
    async fn load(&self, pool: &sqlx::AnyPool, chunk: u64, bound: u64) -> Result<Vec<Hash>> {
        let start = chunk * CHUNK;
        let end = (start + CHUNK).min(bound);
        // Without a cache there is nothing to share: every caller reads for itself.
        let _one_reader = if self.max_chunks > 0 {
            Some(self.loading.lock().await)
        } else {
            None
        };
        // Whoever held the lock before may have read this chunk already.
        let mut hashes = {
            let chunks = self
                .chunks
                .read()
                .unwrap_or_else(|poison| poison.into_inner());
            chunks.get(&chunk).cloned().unwrap_or_default()
        };
        let from = start + hashes.len() as u64;
        if from >= end {
            return Ok(hashes);
        }
        let rows = sqlx::query(
            "SELECT idx, hash FROM ledger_hash WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(i64_of(from))
        .bind(i64_of(end))
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("reading stored hashes"))?;
        self.rows_read
            .fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
        for row in rows {
            let index = u64_of(
                row.try_get(0).map_err(StoreError::db("reading idx"))?,
                "hash idx",
            )?;
            if index != start + hashes.len() as u64 {
                // A gap: keep only the dense prefix; the caller reports the missing hash.
                break;
            }
            let hash: Vec<u8> = row.try_get(1).map_err(StoreError::db("reading hash"))?;
            hashes.push(hash_of(&hash, "ledger_hash", index, "hash")?);
        }
        let mut chunks = self
            .chunks
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        let longer = chunks
            .get(&chunk)
            .is_none_or(|cached| cached.len() < hashes.len());
        let room = chunks.contains_key(&chunk) || chunks.len() < self.max_chunks;
        if longer && room {
            chunks.insert(chunk, hashes.clone());
        }
        Ok(hashes)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::ledger::{Entry, Event, append_batch};
    use travdoc_tlog::merkle::stored_hash_count;

    /// Many proofs missing the same chunks at once read each chunk once between them.
    #[tokio::test]
    async fn concurrent_misses_read_a_chunk_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
        let store = Store::connect(&url).await.expect("connect");
        let entries: Vec<(String, Entry)> = (0..3000)
            .map(|i| {
                let event = Event::UserAdded {
                    user_ref: format!("user-{i}"),
                    role: "issuer".into(),
                    operator_ref: "op".into(),
                };
                (format!("k-{i}"), Entry::new(1_790_000_000, event))
            })
            .collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await.expect("begin");
        append_batch(&mut tx, &refs).await.expect("append");
        tx.commit().await.expect("commit");
        let bound = stored_hash_count(3000);
        let cache = store.hash_cache();
        let wanted = [0, bound - 1];
        let reads = (0..32).map(|_| cache.get(store.pool(), &wanted, bound));
        for hashes in futures_util::future::join_all(reads).await {
            assert_eq!(hashes.expect("hashes").len(), 2);
        }
        let read = cache.rows_read.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            read, bound,
            "each stored hash read once, not once per caller"
        );
    }
}
