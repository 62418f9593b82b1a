//! The ledger's hash chain (a placeholder for the audit work to come).

use sha2::{Digest, Sha256};

/// The hashes of one ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerHashes {
    pub content_hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
}

/// SHA-256 of the stored content text; empty for a delete.
pub(crate) fn content_hash(content: Option<&str>) -> Vec<u8> {
    content.map_or_else(Vec::new, |text| Sha256::digest(text.as_bytes()).to_vec())
}

/// SHA-256(prev_hash || type || '/' || id || '/' || version || content_hash).
pub(crate) fn entry(
    prev_hash: &[u8],
    resource_type: &str,
    id: &str,
    version: i64,
    content: Option<&str>,
) -> LedgerHashes {
    let content_hash = content_hash(content);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(resource_type.as_bytes());
    hasher.update(b"/");
    hasher.update(id.as_bytes());
    hasher.update(b"/");
    hasher.update(version.to_string().as_bytes());
    hasher.update(&content_hash);
    LedgerHashes {
        content_hash,
        prev_hash: prev_hash.to_vec(),
        entry_hash: hasher.finalize().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_entries() {
        let genesis = [0u8; 32];
        let first = entry(&genesis, "Patient", "p", 1, Some("{}"));
        assert_eq!(first.prev_hash, genesis.to_vec());
        assert_eq!(first.content_hash.len(), 32);
        let second = entry(&first.entry_hash, "Patient", "p", 2, None);
        assert!(second.content_hash.is_empty());
        assert_eq!(second.prev_hash, first.entry_hash);
        let mut manual = Sha256::new();
        manual.update(first.entry_hash.as_slice());
        manual.update(b"Patient/p/2");
        assert_eq!(second.entry_hash, manual.finalize().to_vec());
    }
}
