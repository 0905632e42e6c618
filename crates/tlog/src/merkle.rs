//! RFC 6962 §2.1 hashing, the compact range (the right-hand frontier of perfect subtrees), and
//! the dense post-order "stored hash" numbering used to keep every complete subtree hash of
//! a growing tree in an append-only table.

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// `SHA-256("")`, the root of the empty tree.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `H(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `H(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The position, in the dense append-only numbering, of the hash of the perfect subtree at
/// `level` whose leaves are `[n << level, (n + 1) << level)`.
///
/// Appending leaf `i` writes its leaf hash and then one parent hash for every trailing one
/// bit of `i`, so a tree of `s` leaves holds `2s - popcount(s)` stored hashes.
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    let last_leaf = ((n + 1) << level) - 1;
    stored_hash_count(last_leaf) + u64::from(level)
}

/// The number of stored hashes of a tree of `size` leaves.
pub fn stored_hash_count(size: u64) -> u64 {
    2 * size - u64::from(size.count_ones())
}

/// The perfect subtrees of the tree of `size` leaves, left to right, as `(level, n)` pairs: one
/// per set bit of `size`, largest first.
pub fn perfect_subtrees(start: u64, end: u64) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut position = start;
    while position < end {
        let mut level = if position == 0 {
            63
        } else {
            position.trailing_zeros()
        };
        while level > 0 && (level >= 64 || position + (1u64 << level) > end) {
            level -= 1;
        }
        out.push((level, position >> level));
        position += 1u64 << level;
    }
    out
}

/// The hashes of the perfect subtrees that make up a tree (the "compact range" of `[0, size)`),
/// kept so that appending needs no reads and the root is `O(log n)` hashing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// One hash per set bit of `size`, highest level first.
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a compact range from its size and hashes (as stored). `None` when the number of
    /// hashes does not match the number of set bits of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(Self { size, hashes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree hashes, highest level first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash. Returns the stored hashes this append creates, in stored-hash order:
    /// the leaf hash, then each completed parent; the first is at `stored_hash_count(old size)`.
    pub fn append(&mut self, leaf: Hash) -> Vec<Hash> {
        let mut created = Vec::with_capacity(2);
        self.append_with(leaf, |hash| created.push(*hash));
        created
    }

    /// [`append`](Self::append) without allocating: `stored` sees each stored hash in order.
    pub fn append_with(&mut self, leaf: Hash, mut stored: impl FnMut(&Hash)) {
        stored(&leaf);
        let mut current = leaf;
        let mut index = self.size;
        while index & 1 == 1 {
            // The last hash is a complete left sibling of the same level.
            let left = self.hashes.pop().unwrap_or(EMPTY_ROOT);
            current = node_hash(&left, &current);
            stored(&current);
            index >>= 1;
        }
        self.hashes.push(current);
        self.size += 1;
    }

    /// The RFC 6962 root of the tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        match iter.next() {
            None => EMPTY_ROOT,
            Some(last) => iter.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

/// The root of a tree given the hashes of its perfect subtrees (left to right), as returned by
/// [`perfect_subtrees`].
pub fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    match iter.next() {
        None => EMPTY_ROOT,
        Some(last) => iter.fold(*last, |right, left| node_hash(left, &right)),
    }
}

/// An in-memory tree holding every stored hash, for tests, tools and small logs.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    range: CompactRange,
    stored: Vec<Hash>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the leaf with this data.
    pub fn push(&mut self, data: &[u8]) {
        self.push_hash(leaf_hash(data));
    }

    /// Appends a leaf hash.
    pub fn push_hash(&mut self, hash: Hash) {
        let stored = &mut self.stored;
        self.range.append_with(hash, |hash| stored.push(*hash));
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// Every stored hash, in stored-hash order.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.stored
    }

    /// A lookup usable with the proof builders in [`crate::proof`].
    pub fn lookup(&self, index: u64) -> Option<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|index| self.stored.get(index))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_index_matches_append_order() {
        let mut tree = MemoryTree::new();
        for i in 0..300u64 {
            tree.push(&i.to_be_bytes());
        }
        // Level 0 leaves are at stored_hash_index(0, i); higher levels are node hashes.
        for i in 0..300u64 {
            let at = stored_hash_index(0, i) as usize;
            assert_eq!(tree.stored_hashes()[at], leaf_hash(&i.to_be_bytes()));
        }
        for level in 1..8u32 {
            for n in 0..(300u64 >> level) {
                let left = tree.stored_hashes()[stored_hash_index(level - 1, 2 * n) as usize];
                let right = tree.stored_hashes()[stored_hash_index(level - 1, 2 * n + 1) as usize];
                let at = stored_hash_index(level, n) as usize;
                assert_eq!(tree.stored_hashes()[at], node_hash(&left, &right));
            }
        }
        assert_eq!(tree.stored_hashes().len() as u64, stored_hash_count(300));
    }

    #[test]
    fn perfect_subtrees_follow_size_bits() {
        assert_eq!(perfect_subtrees(0, 13), vec![(3, 0), (2, 2), (0, 12)]);
        assert_eq!(perfect_subtrees(8, 13), vec![(2, 2), (0, 12)]);
        assert!(perfect_subtrees(5, 5).is_empty());
    }
}
