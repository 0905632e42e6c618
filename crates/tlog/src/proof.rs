//! Inclusion and consistency proofs (RFC 6962 §2.1.1–2.1.2 generation, RFC 9162 §2.1.3.2 and
//! §2.1.4.2 verification).
//!
//! Generation is split so that storage stays outside this crate: [`inclusion_ranges`] and
//! [`consistency_ranges`] name the subtree ranges a proof needs, [`stored_indexes`] turns them
//! into the stored-hash positions to read (`O(log n)` of them), and [`hash_ranges`] folds what
//! was read into the proof.

use std::collections::HashMap;

use crate::merkle::{Hash, fold_subtrees, node_hash, perfect_subtrees, stored_hash_index};

/// Longest proof accepted by the verifiers (a tree of 2^64 leaves needs at most 64 hashes, a
/// consistency proof at most about twice that).
pub const MAX_PROOF_HASHES: usize = 128;

/// Why a proof was refused or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old} is larger than new size {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("proof has {got} hashes, more than the limit {MAX_PROOF_HASHES}")]
    TooLong { got: usize },
    #[error("proof has the wrong number of hashes for these sizes")]
    WrongLength,
    #[error("recomputed root does not match")]
    RootMismatch,
    #[error("stored hash {index} is missing")]
    MissingHash { index: u64 },
}

/// A half-open range of leaves `[start, end)` whose subtree hash is one proof element.
pub type LeafRange = (u64, u64);

fn largest_power_of_two_below(n: u64) -> u64 {
    // n >= 2
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The ranges whose hashes form the audit path of leaf `index` in a tree of `size`, ordered
/// leaf to root (RFC 6962 `PATH`).
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<LeafRange>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    while end - start > 1 {
        let k = largest_power_of_two_below(end - start);
        if m < k {
            out.push((start + k, end));
            end = start + k;
        } else {
            out.push((start, start + k));
            start += k;
            m -= k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The ranges whose hashes form the consistency proof from `old` to `new` leaves (RFC 6962
/// `PROOF`). Empty when `old == new` or `old == 0`.
pub fn consistency_ranges(old: u64, new: u64) -> Result<Vec<LeafRange>, ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let (mut start, mut end, mut m, mut whole) = (0u64, new, old, true);
    loop {
        let n = end - start;
        if m == n {
            if !whole {
                out.push((start, end));
            }
            break;
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            out.push((start + k, end));
            end = start + k;
        } else {
            out.push((start, start + k));
            start += k;
            m -= k;
            whole = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// The stored-hash positions needed to hash these ranges, deduplicated and sorted.
pub fn stored_indexes(ranges: &[LeafRange]) -> Vec<u64> {
    let mut out: Vec<u64> = ranges
        .iter()
        .flat_map(|&(start, end)| perfect_subtrees(start, end))
        .map(|(level, n)| stored_hash_index(level, n))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Hashes each range from stored hashes given by `lookup` (by stored-hash position).
pub fn hash_ranges(
    ranges: &[LeafRange],
    lookup: impl Fn(u64) -> Option<Hash>,
) -> Result<Vec<Hash>, ProofError> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut parts = Vec::new();
    for &(start, end) in ranges {
        parts.clear();
        for (level, n) in perfect_subtrees(start, end) {
            let index = stored_hash_index(level, n);
            parts.push(lookup(index).ok_or(ProofError::MissingHash { index })?);
        }
        out.push(fold_subtrees(&parts));
    }
    Ok(out)
}

/// [`hash_ranges`] over a map of fetched hashes.
pub fn hash_ranges_from_map(
    ranges: &[LeafRange],
    fetched: &HashMap<u64, Hash>,
) -> Result<Vec<Hash>, ProofError> {
    hash_ranges(ranges, |index| fetched.get(&index).copied())
}

/// Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong { got: proof.len() });
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, *leaf_hash);
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ != 0 && fn_ & 1 == 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(r)
}

/// Checks that `leaf_hash` is at `index` in the tree of `size` leaves with this `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if computed == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that the tree `(size1, root1)` is a prefix of `(size2, root2)` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    root1: &Hash,
    size2: u64,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::TooLong { got: proof.len() });
    }
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder {
            old: size1,
            new: size2,
        });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if size1 == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ != 0 && fn_ & 1 == 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
