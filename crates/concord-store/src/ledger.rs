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
