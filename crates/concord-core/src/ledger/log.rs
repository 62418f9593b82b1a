//! The running Merkle log: leaf hashes cached in memory (32 bytes a leaf,
//! caught up from the ledger rows on demand), signed tree heads issued on
//! an interval and on demand, and inclusion proofs (consistency proofs:
//! `super::consistency`).

use std::sync::Arc;
use std::time::Duration;

use concord_store::merkle::{self, Hash};
use concord_store::{ledger, timestamp, LedgerRow, Store, StoreError, TreeHead};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::key::LedgerKey;
use crate::{CoreError, CoreResult};

/// What a tree head's signature covers, as the proofs describe it.
pub const SIGNED_MESSAGE: &str =
    "\"concord-tree-head-v1\\n\" || tree_size (u64 BE) || issued_at ms (i64 BE) || root_hash (32 bytes)";

/// Ledger rows read per round trip while catching up.
const PAGE: usize = 10_000;

/// The Merkle log over a store's ledger, with the key that signs its heads.
#[derive(Clone)]
pub struct MerkleLog {
    pub(super) store: Arc<dyn Store>,
    key: LedgerKey,
    leaves: Arc<Mutex<Vec<Hash>>>,
}

/// The leaf hash of a ledger row, recomputed from its fields.
pub fn row_leaf_hash(row: &LedgerRow) -> Hash {
    let mut content = [0u8; 32];
    if row.content_hash.len() == 32 {
        content.copy_from_slice(&row.content_hash);
    }
    ledger::leaf_hash(&row.resource_type, &row.id, row.version, &content)
}

fn to_hash(bytes: &[u8]) -> Option<Hash> {
    <[u8; 32]>::try_from(bytes).ok()
}

/// A tree head as JSON: size, root (hex), issue time and signature (base64).
pub fn tree_head_json(h: &TreeHead) -> Value {
    use base64::Engine as _;
    json!({
        "tree_size": h.tree_size,
        "root_hash": hex::encode(&h.root_hash),
        "issued_at": h.issued_at,
        "issued_at_text": timestamp::format_instant(h.issued_at),
        "signature": base64::engine::general_purpose::STANDARD.encode(&h.signature),
    })
}

impl MerkleLog {
    pub fn new(store: Arc<dyn Store>, key: LedgerKey) -> MerkleLog {
        MerkleLog {
            store,
            key,
            leaves: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn key(&self) -> &LedgerKey {
        &self.key
    }

    /// Appends the leaves committed since the last call to the cache.
    async fn catch_up(&self, leaves: &mut Vec<Hash>) -> CoreResult<()> {
        loop {
            let from = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
            let rows = self.store.ledger_rows(from, PAGE).await?;
            let n = rows.len();
            for row in rows {
                if row.leaf_index != i64::try_from(leaves.len()).unwrap_or(-1) {
                    return Err(CoreError::Store(StoreError::Backend(format!(
                        "the ledger has a gap at leaf {}: run `concord verify`",
                        leaves.len()
                    ))));
                }
                leaves.push(row_leaf_hash(&row));
            }
            if n < PAGE {
                return Ok(());
            }
        }
    }

    /// Signs and stores a tree head over every leaf committed so far.
    pub async fn issue_tree_head(&self) -> CoreResult<TreeHead> {
        let mut leaves = self.leaves.lock().await;
        self.catch_up(&mut leaves).await?;
        let head = self.sign(&leaves);
        drop(leaves);
        self.store.save_tree_head(&head).await?;
        tracing::debug!(tree_size = head.tree_size, "issued a signed tree head");
        Ok(head)
    }

    fn sign(&self, leaves: &[Hash]) -> TreeHead {
        let root = merkle::root(leaves);
        let tree_size = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
        let issued_at = timestamp::now_millis();
        let signature = self
            .key
            .sign(&ledger::tree_head_message(tree_size, issued_at, &root));
        TreeHead {
            tree_size,
            root_hash: root.to_vec(),
            issued_at,
            signature,
        }
    }

    /// The hashes of the first `size` leaves (empty if the log has fewer).
    pub(super) async fn first_leaves(&self, size: i64) -> CoreResult<Vec<Hash>> {
        let mut leaves = self.leaves.lock().await;
        self.catch_up(&mut leaves).await?;
        let size = usize::try_from(size).unwrap_or(0);
        Ok(leaves.get(..size).map(<[Hash]>::to_vec).unwrap_or_default())
    }

    /// Issues a tree head if leaves were added since the latest one.
    pub async fn issue_if_grown(&self) -> CoreResult<Option<TreeHead>> {
        let latest = self.store.latest_tree_head().await?;
        let size = {
            let mut leaves = self.leaves.lock().await;
            self.catch_up(&mut leaves).await?;
            leaves.len()
        };
        let grown = latest.is_none_or(|h| usize::try_from(h.tree_size).unwrap_or(0) < size);
        if grown && size > 0 {
            return self.issue_tree_head().await.map(Some);
        }
        Ok(None)
    }

    /// Issues tree heads every `every` (when the log grew), until the runtime stops.
    pub fn spawn_signer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let log = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = log.issue_if_grown().await {
                    tracing::warn!(error = %e, "could not issue a signed tree head");
                }
            }
        })
    }

    /// The inclusion proof of one resource version: its leaf, leaf index,
    /// audit path and a signed tree head covering it (issued now if the
    /// latest does not). `None` if the version has no ledger entry.
    pub async fn proof(
        &self,
        tenant: &str,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> CoreResult<Option<Value>> {
        use base64::Engine as _;
        let Some(row) = self
            .store
            .ledger_row_of(tenant, resource_type, id, version)
            .await?
        else {
            return Ok(None);
        };
        let mut head = self.store.latest_tree_head().await?;
        if head.as_ref().is_none_or(|h| h.tree_size <= row.leaf_index) {
            head = Some(self.issue_tree_head().await?);
        }
        let Some(head) = head else {
            return Ok(None);
        };
        let leaves = self.first_leaves(head.tree_size).await?;
        let index = usize::try_from(row.leaf_index).unwrap_or(usize::MAX);
        let path = merkle::inclusion_proof(index, &leaves).unwrap_or_default();
        let content = to_hash(&row.content_hash).unwrap_or([0; 32]);
        let leaf = ledger::leaf(&row.resource_type, &row.id, row.version, &content);
        Ok(Some(json!({
            "resource": format!("{}/{}/_history/{}", row.resource_type, row.id, row.version),
            "leaf": base64::engine::general_purpose::STANDARD.encode(&leaf),
            "leaf_hash": hex::encode(merkle::leaf_hash(&leaf)),
            "content_hash": hex::encode(content),
            "leaf_index": row.leaf_index,
            "audit_path": path.iter().map(hex::encode).collect::<Vec<_>>(),
            "tree_head": tree_head_json(&head),
            "public_key": self.key.public_base64(),
            "signed_message": SIGNED_MESSAGE,
        })))
    }
}
