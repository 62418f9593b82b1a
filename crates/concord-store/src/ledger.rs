//! The hash chain every backend writes beside each resource version.
//! One formula for all backends, so `concord verify` can recompute any of them.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first ledger entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 of a version's stored JSON text (of nothing, for a delete).
pub fn content_hash(content: Option<&str>) -> [u8; 32] {
    Sha256::digest(content.unwrap_or("").as_bytes()).into()
}

/// SHA-256(prev_hash ‖ type ‖ "/" ‖ id ‖ "/" ‖ version ‖ content_hash).
pub fn entry_hash(
    prev: &[u8; 32],
    resource_type: &str,
    id: &str,
    version: i64,
    content_hash: &[u8; 32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(resource_type.as_bytes());
    h.update(b"/");
    h.update(id.as_bytes());
    h.update(b"/");
    h.update(version.to_string().as_bytes());
    h.update(content_hash);
    h.finalize().into()
}

/// The Merkle-log leaf of a ledger entry: `type "/" id "/" version` (UTF-8)
/// followed by the 32-byte content hash. The hash is fixed-length and last,
/// so the encoding is unambiguous.
pub fn leaf(resource_type: &str, id: &str, version: i64, content_hash: &[u8; 32]) -> Vec<u8> {
    let mut out = format!("{resource_type}/{id}/{version}").into_bytes();
    out.extend_from_slice(content_hash);
    out
}

/// The RFC 6962 leaf hash of a ledger entry's [`leaf`].
pub fn leaf_hash(resource_type: &str, id: &str, version: i64, content_hash: &[u8; 32]) -> [u8; 32] {
    crate::merkle::leaf_hash(&leaf(resource_type, id, version, content_hash))
}

/// The bytes a signed tree head signs: `"concord-tree-head-v1\n"`, the tree
/// size (8 bytes, big-endian), the issue time in milliseconds since the epoch
/// (8 bytes, big-endian, signed) and the 32-byte root hash.
pub fn tree_head_message(tree_size: i64, issued_at: i64, root: &[u8]) -> Vec<u8> {
    let mut m = b"concord-tree-head-v1\n".to_vec();
    m.extend_from_slice(&tree_size.to_be_bytes());
    m.extend_from_slice(&issued_at.to_be_bytes());
    m.extend_from_slice(root);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_depends_on_every_part() {
        let c = content_hash(Some("{}"));
        let a = entry_hash(&GENESIS, "Patient", "1", 1, &c);
        assert_ne!(a, entry_hash(&GENESIS, "Patient", "1", 2, &c));
        assert_ne!(a, entry_hash(&GENESIS, "Patient", "2", 1, &c));
        assert_ne!(a, entry_hash(&a, "Patient", "1", 1, &c));
        assert_ne!(
            a,
            entry_hash(&GENESIS, "Patient", "1", 1, &content_hash(None))
        );
        assert_eq!(a, entry_hash(&GENESIS, "Patient", "1", 1, &c));
    }
}
