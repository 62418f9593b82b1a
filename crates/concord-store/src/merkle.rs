//! RFC 6962 Merkle tree math over the ledger's leaves: the tree hash of the
//! first n leaves, inclusion proofs (audit paths) and consistency proofs,
//! and their verification. Pure: every backend's ledger rows and every
//! verifier use these functions, so there is one definition of the tree.
//!
//! Leaf hash `SHA-256(0x00 ‖ leaf)`, node hash `SHA-256(0x01 ‖ left ‖ right)`,
//! the split point of n leaves is the largest power of two below n
//! (RFC 6962 §2.1).

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The leaf hash of a leaf's bytes: `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// The interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]): the root of the tree over `leaves` (leaf hashes).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path of leaf `index` in the tree over `leaves`,
/// from the leaf's sibling up to the root's child. `None` if out of range.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    path_into(index, leaves, &mut path);
    Some(path)
}

fn path_into(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path_into(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks an audit path: that `leaf` is leaf `index` of a tree of `size`
/// leaves with root `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && &r == root
}

/// PROOF(m, D[n]): the consistency proof between the tree of the first `m`
/// leaves and the tree over all `leaves`. `None` unless 0 < m ≤ n.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    subproof(m, leaves, true, &mut out);
    Some(out)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks a consistency proof: the tree of `size1` leaves with root `root1`
/// is a prefix of the tree of `size2` leaves with root `root2`
/// (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> bool {
    if size1 == 0 || size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if size1.is_power_of_two() {
        path.insert(0, *root1);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (size1 - 1, size2 - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && &fr == root1 && &sr == root2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[i as u8])).collect()
    }

    #[test]
    fn empty_tree_is_hash_of_nothing() {
        // SHA-256 of the empty string.
        let hex: String = empty_root().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_and_node_hashes_are_domain_separated() {
        let mut h = Sha256::new();
        h.update([0u8, b'a']);
        let expected: Hash = h.finalize().into();
        assert_eq!(leaf_hash(b"a"), expected);
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(a);
        h.update(b);
        let expected: Hash = h.finalize().into();
        assert_eq!(node_hash(&a, &b), expected);
        assert_ne!(leaf_hash(&[a, b].concat()), node_hash(&a, &b));
    }

    #[test]
    fn small_trees_by_hand() {
        let l = leaves(7);
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        // Three leaves: the left subtree holds two (largest power of 2 below 3).
        let ab = node_hash(&l[0], &l[1]);
        assert_eq!(root(&l[..3]), node_hash(&ab, &l[2]));
        let cd = node_hash(&l[2], &l[3]);
        assert_eq!(root(&l[..4]), node_hash(&ab, &cd));
        // Seven leaves: ((ab, cd), ((ef), g)).
        let ef = node_hash(&l[4], &l[5]);
        let right = node_hash(&ef, &l[6]);
        assert_eq!(root(&l), node_hash(&node_hash(&ab, &cd), &right));
    }

    #[test]
    fn inclusion_paths_by_hand() {
        // RFC 6962 §2.1.3 example tree of 7 leaves a..g.
        let l = leaves(7);
        let ab = node_hash(&l[0], &l[1]);
        let cd = node_hash(&l[2], &l[3]);
        let ef = node_hash(&l[4], &l[5]);
        let efg = node_hash(&ef, &l[6]);
        let abcd = node_hash(&ab, &cd);
        assert_eq!(inclusion_proof(0, &l), Some(vec![l[1], cd, efg]));
        assert_eq!(inclusion_proof(3, &l), Some(vec![l[2], ab, efg]));
        assert_eq!(inclusion_proof(4, &l), Some(vec![l[5], l[6], abcd]));
        assert_eq!(inclusion_proof(6, &l), Some(vec![ef, abcd]));
        assert_eq!(inclusion_proof(7, &l), None);
        assert_eq!(inclusion_proof(0, &l[..1]), Some(vec![]));
    }

    #[test]
    fn consistency_proofs_by_hand() {
        // RFC 6962 §2.1.3: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l],
        // PROOF(6, D[7]) = [i, j, k] in the RFC's names.
        let l = leaves(7);
        let ab = node_hash(&l[0], &l[1]);
        let cd = node_hash(&l[2], &l[3]);
        let ef = node_hash(&l[4], &l[5]);
        let efg = node_hash(&ef, &l[6]);
        let abcd = node_hash(&ab, &cd);
        assert_eq!(consistency_proof(3, &l), Some(vec![l[2], l[3], ab, efg]));
        assert_eq!(consistency_proof(4, &l), Some(vec![efg]));
        assert_eq!(consistency_proof(6, &l), Some(vec![ef, l[6], abcd]));
        assert_eq!(consistency_proof(7, &l), Some(vec![]));
        assert_eq!(consistency_proof(0, &l), None);
    }

    #[test]
    fn every_proof_verifies_and_wrong_ones_do_not() {
        for n in 1..=20usize {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let path = inclusion_proof(i, &l).unwrap_or_default();
                assert!(verify_inclusion(i as u64, n as u64, &l[i], &path, &r));
                let other = leaf_hash(b"forged");
                assert!(!verify_inclusion(i as u64, n as u64, &other, &path, &r));
                if n > 1 {
                    let j = (i + 1) % n;
                    assert!(!verify_inclusion(j as u64, n as u64, &l[i], &path, &r));
                }
            }
            for m in 1..=n {
                let proof = consistency_proof(m, &l).unwrap_or_default();
                let r1 = root(&l[..m]);
                assert!(
                    verify_consistency(m as u64, n as u64, &r1, &r, &proof),
                    "m={m} n={n}"
                );
                if m < n {
                    let wrong = leaf_hash(b"x");
                    assert!(!verify_consistency(m as u64, n as u64, &wrong, &r, &proof));
                }
            }
        }
    }
}
