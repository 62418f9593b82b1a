//! The ledger's hash chain, with the one formula all backends share
//! (`concord_store::ledger`), shaped for the batched inserts of `journal.rs`.

use concord_store::ledger::{content_hash, entry_hash};

/// The hashes of one ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerHashes {
    pub content_hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
}

/// The entry for one version, chained onto `prev_hash` (32 bytes).
pub(crate) fn entry(
    prev_hash: &[u8],
    resource_type: &str,
    id: &str,
    version: i64,
    content: Option<&str>,
) -> LedgerHashes {
    let mut prev = [0u8; 32];
    if prev_hash.len() == 32 {
        prev.copy_from_slice(prev_hash);
    }
    let content_hash = content_hash(content);
    let entry = entry_hash(&prev, resource_type, id, version, &content_hash);
    LedgerHashes {
        content_hash: content_hash.to_vec(),
        prev_hash: prev.to_vec(),
        entry_hash: entry.to_vec(),
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
        assert_eq!(second.prev_hash, first.entry_hash);
        assert_ne!(second.entry_hash, first.entry_hash);
    }
}
