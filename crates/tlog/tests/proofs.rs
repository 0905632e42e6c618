//! Proofs against a naive recursive tree (RFC 6962 §2.1 written out literally), for every size
//! up to 64: every index for inclusion and every (m, n) pair for consistency. Then the same
//! trees cross-checked against the independent `ct-merkle` implementation.

use proptest::prelude::*;
use sha2::Sha256;
use travdoc_tlog::merkle::{Hash, MemoryTree, leaf_hash, node_hash};
use travdoc_tlog::proof::{
    ProofError, consistency_ranges, hash_ranges, inclusion_ranges, root_from_inclusion_proof,
    verify_consistency, verify_inclusion,
};

const MAX: u64 = 64;

fn data(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

fn naive_mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => travdoc_tlog::EMPTY_ROOT,
        1 => leaf_hash(&leaves[0]),
        n => {
            let k = split(n);
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly below `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn naive_path(m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
    let n = leaves.len();
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut path = naive_path(m, &leaves[..k]);
        path.push(naive_mth(&leaves[k..]));
        path
    } else {
        let mut path = naive_path(m - k, &leaves[k..]);
        path.push(naive_mth(&leaves[..k]));
        path
    }
}

fn naive_subproof(m: usize, leaves: &[Vec<u8>], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![naive_mth(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = naive_subproof(m, &leaves[..k], whole);
        proof.push(naive_mth(&leaves[k..]));
        proof
    } else {
        let mut proof = naive_subproof(m - k, &leaves[k..], false);
        proof.push(naive_mth(&leaves[..k]));
        proof
    }
}

fn tree_of(size: u64) -> (Vec<Vec<u8>>, MemoryTree) {
    let leaves: Vec<Vec<u8>> = (0..size).map(data).collect();
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push(leaf);
    }
    (leaves, tree)
}

#[test]
fn roots_match_naive_tree() {
    for size in 0..=MAX {
        let (leaves, tree) = tree_of(size);
        assert_eq!(tree.root(), naive_mth(&leaves), "size {size}");
    }
}

#[test]
fn every_inclusion_proof_up_to_64() {
    for size in 1..=MAX {
        let (leaves, tree) = tree_of(size);
        let root = tree.root();
        for index in 0..size {
            let ranges = inclusion_ranges(index, size).expect("index in range");
            let proof = hash_ranges(&ranges, |i| tree.lookup(i)).expect("hashes stored");
            assert_eq!(proof, naive_path(index as usize, &leaves), "{index}/{size}");
            let leaf = leaf_hash(&leaves[index as usize]);
            verify_inclusion(&leaf, index, size, &proof, &root).expect("valid proof verifies");
            // Wrong index, wrong leaf, truncated or extended proofs all fail. (A wrong size
            // can legitimately give the same shape, e.g. index 0 in sizes 6 and 7: callers
            // must take the size from a signed checkpoint.)
            if size > 1 {
                let other = (index + 1) % size;
                assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err());
            }
            let wrong_leaf = leaf_hash(b"not a leaf");
            assert!(verify_inclusion(&wrong_leaf, index, size, &proof, &root).is_err());
            if let Some((_, shorter)) = proof.split_last() {
                assert!(verify_inclusion(&leaf, index, size, shorter, &root).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        }
    }
}

#[test]
fn every_consistency_proof_up_to_64() {
    let (all_leaves, big) = tree_of(MAX);
    let mut roots = vec![travdoc_tlog::EMPTY_ROOT];
    let mut growing = MemoryTree::new();
    for leaf in &all_leaves {
        growing.push(leaf);
        roots.push(growing.root());
    }
    for new in 0..=MAX {
        for old in 0..=new {
            let ranges = consistency_ranges(old, new).expect("sizes ordered");
            let proof = hash_ranges(&ranges, |i| big.lookup(i)).expect("hashes stored");
            if old > 0 && old < new {
                assert_eq!(
                    proof,
                    naive_subproof(old as usize, &all_leaves[..new as usize], true),
                    "{old} -> {new}"
                );
            } else {
                assert!(proof.is_empty());
            }
            let (r1, r2) = (&roots[old as usize], &roots[new as usize]);
            verify_consistency(old, r1, new, r2, &proof).expect("valid proof verifies");
            if old > 0 && old < new {
                // A different old root or new root is refused.
                assert!(verify_consistency(old, r2, new, r2, &proof).is_err());
                assert!(verify_consistency(old, r1, new, r1, &proof).is_err());
                let mut bent = proof.clone();
                bent[0][0] ^= 1;
                assert!(verify_consistency(old, r1, new, r2, &bent).is_err());
                let (_, shorter) = proof.split_last().expect("non-empty");
                assert!(verify_consistency(old, r1, new, r2, shorter).is_err());
            }
        }
    }
}

#[test]
fn refuses_out_of_range_and_overlong() {
    let leaf = leaf_hash(b"x");
    assert_eq!(
        root_from_inclusion_proof(&leaf, 3, 3, &[]),
        Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
    );
    let long = vec![leaf; 200];
    assert!(matches!(
        verify_inclusion(&leaf, 0, 2, &long, &leaf),
        Err(ProofError::TooLong { .. })
    ));
    assert!(verify_consistency(5, &leaf, 4, &leaf, &[]).is_err());
}

#[test]
fn cross_check_with_ct_merkle() {
    use ct_merkle::mem_backed_tree::MemoryBackedTree;
    use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
    let mut theirs: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
    let mut ours = MemoryTree::new();
    for size in 1..=MAX {
        let leaf = data(size - 1);
        theirs.push(leaf.clone());
        ours.push(&leaf);
        let their_root = theirs.root();
        assert_eq!(
            their_root.as_bytes().as_slice(),
            ours.root().as_slice(),
            "root {size}"
        );
        for index in 0..size {
            // Our proof verifies with their verifier and theirs with ours.
            let ranges = inclusion_ranges(index, size).expect("in range");
            let our_proof = hash_ranges(&ranges, |i| ours.lookup(i)).expect("stored");
            let their_proof = theirs.prove_inclusion(index as usize);
            assert_eq!(their_proof.as_bytes(), our_proof.concat().as_slice());
            let wrapped = InclusionProof::<Sha256>::from_bytes(our_proof.concat());
            their_root
                .verify_inclusion(&data(index), index, &wrapped)
                .expect("ct-merkle accepts our inclusion proof");
        }
        for old in 1..size {
            let ranges = consistency_ranges(old, size).expect("ordered");
            let our_proof = hash_ranges(&ranges, |i| ours.lookup(i)).expect("stored");
            let their_proof = theirs.prove_consistency((size - old) as usize);
            assert_eq!(their_proof.as_bytes(), our_proof.concat().as_slice());
            let mut old_tree = MemoryTree::new();
            for i in 0..old {
                old_tree.push(&data(i));
            }
            let old_root = RootHash::<Sha256>::new(old_tree.root().into(), old);
            let wrapped = ConsistencyProof::<Sha256>::try_from_bytes(our_proof.concat())
                .expect("whole hashes");
            their_root
                .verify_consistency(&old_root, &wrapped)
                .expect("ct-merkle accepts our consistency proof");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Large sizes: proofs from stored hashes verify, and fail for any other index.
    #[test]
    fn random_large_trees(size in 1u64..3000, pick in any::<u64>(), old_pick in any::<u64>()) {
        let (_, tree) = tree_of(size);
        let index = pick % size;
        let ranges = inclusion_ranges(index, size).expect("in range");
        let proof = hash_ranges(&ranges, |i| tree.lookup(i)).expect("stored");
        prop_assert!(proof.len() <= 64);
        let leaf = leaf_hash(&data(index));
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &tree.root()).is_ok());
        let old = old_pick % (size + 1);
        let (_, old_tree) = tree_of(old);
        let ranges = consistency_ranges(old, size).expect("ordered");
        let proof = hash_ranges(&ranges, |i| tree.lookup(i)).expect("stored");
        prop_assert!(
            verify_consistency(old, &old_tree.root(), size, &tree.root(), &proof).is_ok()
        );
    }
}
