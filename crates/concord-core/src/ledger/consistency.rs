//! Consistency proofs (RFC 9162 §2.1.4) between two signed tree heads: the
//! tree an auditor saw signed earlier is a prefix of a later one — nothing
//! logged before the first head was changed, removed or reordered after.
//! Built here from the cached leaves; checked with only the public key.

use concord_store::merkle;
use concord_store::TreeHead;
use serde_json::{json, Value};

use super::key::PublicKey;
use super::log::{tree_head_json, MerkleLog, SIGNED_MESSAGE};
use super::proof::{check_head, field, hashes};
use crate::CoreResult;

/// Why a consistency proof was not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The sizes asked for make no sense (400).
    BadSizes(String),
    /// No signed tree head of this size is stored (404).
    NoHead(i64),
}

impl MerkleLog {
    /// The consistency proof from the signed tree head of `first` leaves to
    /// the one of `second` leaves (default: the latest, signing a fresh head
    /// if none covers `first` yet). Both sizes must be those of stored,
    /// signed heads, `0 < first <= second`.
    pub async fn consistency(
        &self,
        first: i64,
        second: Option<i64>,
    ) -> CoreResult<Result<Value, Refused>> {
        if first < 1 {
            return Ok(Err(Refused::BadSizes(format!(
                "first must be the size of a signed tree head (at least 1), not {first}"
            ))));
        }
        if let Some(second) = second.filter(|s| *s < first) {
            return Ok(Err(Refused::BadSizes(format!(
                "second ({second}) must not be smaller than first ({first})"
            ))));
        }
        let Some(older) = self.store.tree_head_of_size(first).await? else {
            return Ok(Err(Refused::NoHead(first)));
        };
        let newer: TreeHead = match second {
            Some(size) => match self.store.tree_head_of_size(size).await? {
                Some(h) => h,
                None => return Ok(Err(Refused::NoHead(size))),
            },
            None => match self.store.latest_tree_head().await? {
                Some(h) if h.tree_size >= first => h,
                _ => self.issue_tree_head().await?,
            },
        };
        let leaves = self.first_leaves(newer.tree_size).await?;
        // A stored head larger than the ledger (rows removed behind the
        // server's back) has no proof: `concord verify` names what is gone.
        let Some(path) = usize::try_from(first)
            .ok()
            .filter(|_| usize::try_from(newer.tree_size).ok() == Some(leaves.len()))
            .and_then(|m| merkle::consistency_proof(m, &leaves))
        else {
            return Ok(Err(Refused::NoHead(newer.tree_size)));
        };
        Ok(Ok(json!({
            "first_tree_head": tree_head_json(&older),
            "second_tree_head": tree_head_json(&newer),
            "consistency_path": path.iter().map(hex::encode).collect::<Vec<_>>(),
            "public_key": self.key().public_base64(),
            "signed_message": SIGNED_MESSAGE,
        })))
    }
}

/// Checks a consistency proof (the JSON of `$ledger-consistency`) against
/// `key`. `Ok((first, second))` means: the key signed both tree heads, and
/// the tree of the first is a prefix of the tree of the second.
pub fn check_consistency(proof: &Value, key: &PublicKey) -> Result<(i64, i64), String> {
    let (size1, root1) = check_head(field(proof, "first_tree_head")?, key)?;
    let (size2, root2) = check_head(field(proof, "second_tree_head")?, key)?;
    let path = hashes(proof, "consistency_path")?;
    let (Ok(m), Ok(n)) = (u64::try_from(size1), u64::try_from(size2)) else {
        return Err("negative tree size".into());
    };
    if merkle::verify_consistency(m, n, &root1, &root2, &path) {
        Ok((size1, size2))
    } else {
        Err(format!(
            "the tree of {size1} entries is not shown to be a prefix of the tree of {size2}"
        ))
    }
}
