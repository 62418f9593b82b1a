//! `concord verify`: recompute every leaf from the stored resource versions,
//! the hash chain and the Merkle tree, check each signed tree head, and name
//! every entry that was modified, deleted, inserted or reordered. Findings
//! name type/id/version and leaf indexes only — never resource content.

use std::collections::HashMap;
use std::fmt;

use concord_store::audit_log::{BatchHasher, BATCH_TYPE};
use concord_store::merkle::{self, Hash};
use concord_store::{ledger, Store, StoreResult};

use super::key::PublicKey;
use super::log::row_leaf_hash;

/// Rows read per round trip.
const PAGE: usize = 10_000;

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A stored version whose content no longer hashes to its ledger entry.
    Modified { entry: String, leaf: i64 },
    /// A ledger entry whose resource version is gone.
    Deleted { entry: String, leaf: i64 },
    /// A stored version that no ledger entry records.
    Inserted { entry: String },
    /// A ledger entry that is not where the chain says it should be: the
    /// chain or leaf order around it was rearranged, or entries removed.
    Reordered { entry: String, leaf: i64 },
    /// A ledger entry whose own fields no longer give its entry hash.
    LedgerAltered { entry: String, leaf: i64 },
    /// A signed tree head whose signature is wrong.
    BadSignature { tree_size: i64, issued_at: i64 },
    /// A signed tree head whose root differs from the recomputed tree.
    RootMismatch { tree_size: i64, issued_at: i64 },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Modified { entry, leaf } => {
                write!(f, "MODIFIED {entry} (leaf {leaf}): stored content differs from the ledger")
            }
            Finding::Deleted { entry, leaf } => {
                write!(f, "DELETED {entry} (leaf {leaf}): the ledger records it, the store lost it")
            }
            Finding::Inserted { entry } => {
                write!(f, "INSERTED {entry}: stored, but no ledger entry records it")
            }
            Finding::Reordered { entry, leaf } => write!(
                f,
                "REORDERED {entry} (leaf {leaf}): out of place in the hash chain or leaf order"
            ),
            Finding::LedgerAltered { entry, leaf } => {
                write!(f, "ALTERED {entry} (leaf {leaf}): the ledger entry itself was changed")
            }
            Finding::BadSignature {
                tree_size,
                issued_at,
            } => write!(
                f,
                "BAD SIGNATURE on the tree head of size {tree_size} issued at {issued_at}"
            ),
            Finding::RootMismatch {
                tree_size,
                issued_at,
            } => write!(
                f,
                "ROOT MISMATCH: the tree head of size {tree_size} issued at {issued_at} does not match the log"
            ),
        }
    }
}

/// What `verify` checked and found.
#[derive(Debug, Default)]
pub struct Report {
    pub leaves: usize,
    pub versions: usize,
    /// Audit-log rows re-hashed against their batches' leaves.
    pub audit_events: usize,
    pub tree_heads: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

fn name(rt: &str, id: &str, version: i64) -> String {
    format!("{rt}/{id}/{version}")
}

type Key = (String, String, String, i64);

/// An audit batch's ledger row: tenant, first sequence number, event count,
/// batch hash.
type Batch = (String, String, i64, Vec<u8>);

/// Every audit-log row against its batch's ledger leaf: a batch whose
/// events no longer hash to the leaf was modified, one with fewer events
/// lost some, one with more had some inserted; a row naming no batch leaf
/// was inserted.
async fn audit_batches(
    store: &dyn Store,
    mut batches: HashMap<i64, Batch>,
    report: &mut Report,
) -> StoreResult<()> {
    let mut found: HashMap<i64, (String, BatchHasher)> = HashMap::new();
    let mut after = 0i64;
    loop {
        let rows = store.audit_log_rows(after, PAGE).await?;
        let n = rows.len();
        for row in rows {
            after = row.seq;
            report.audit_events += 1;
            match batches.get(&row.leaf_index) {
                Some((tenant, ..)) if *tenant == row.tenant => {
                    let (_, h) = found
                        .entry(row.leaf_index)
                        .or_insert_with(|| (row.tenant.clone(), BatchHasher::default()));
                    h.add(&row.id, &row.content);
                }
                _ => report.findings.push(Finding::Inserted {
                    entry: format!("AuditEvent/{} (audit row {})", row.id, row.seq),
                }),
            }
        }
        if n < PAGE {
            break;
        }
    }
    let mut leaves: Vec<i64> = batches.keys().copied().collect();
    leaves.sort();
    for leaf in leaves {
        let Some((_, first, count, hash)) = batches.remove(&leaf) else {
            continue;
        };
        let entry = format!("AuditEvent batch {first} of {count} event(s)");
        match found.get(&leaf) {
            None => report.findings.push(Finding::Deleted { entry, leaf }),
            Some((_, h)) if h.count() < count => {
                report.findings.push(Finding::Deleted { entry, leaf })
            }
            Some((_, h)) if h.count() > count => report.findings.push(Finding::Inserted {
                entry: format!("{entry} (leaf {leaf}) now holding {}", h.count()),
            }),
            Some((_, h)) if h.finish().as_slice() != hash.as_slice() => {
                report.findings.push(Finding::Modified { entry, leaf })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks the whole store against its ledger, tree and signed tree heads.
pub async fn verify(store: &dyn Store, key: Option<&PublicKey>) -> StoreResult<Report> {
    let mut report = Report::default();
    // 1. The ledger in leaf order: chain, entry hashes, leaf positions.
    let mut leaves: Vec<Hash> = Vec::new();
    let mut recorded: HashMap<Key, (Vec<u8>, i64, bool)> = HashMap::new();
    let mut prev: Vec<u8> = ledger::GENESIS.to_vec();
    let mut batches: HashMap<i64, Batch> = HashMap::new();
    let mut from = 0i64;
    loop {
        let rows = store.ledger_rows(from, PAGE).await?;
        let n = rows.len();
        for row in rows {
            from = row.leaf_index + 1;
            let entry = name(&row.resource_type, &row.id, row.version);
            let position = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
            let mut content = [0u8; 32];
            let well_formed = row.content_hash.len() == 32;
            if well_formed {
                content.copy_from_slice(&row.content_hash);
            }
            let recomputed = <[u8; 32]>::try_from(row.prev_hash.as_slice()).map(|p| {
                ledger::entry_hash(&p, &row.resource_type, &row.id, row.version, &content)
            });
            if !well_formed || recomputed.ok().map(|h| h.to_vec()) != Some(row.entry_hash.clone()) {
                report.findings.push(Finding::LedgerAltered {
                    entry: entry.clone(),
                    leaf: row.leaf_index,
                });
            } else if row.prev_hash != prev || row.leaf_index != position {
                report.findings.push(Finding::Reordered {
                    entry: entry.clone(),
                    leaf: row.leaf_index,
                });
            }
            prev = row.entry_hash.clone();
            leaves.push(row_leaf_hash(&row));
            if row.resource_type == BATCH_TYPE {
                batches.insert(
                    row.leaf_index,
                    (row.tenant, row.id, row.version, row.content_hash),
                );
                continue;
            }
            recorded.insert(
                (row.tenant, row.resource_type, row.id, row.version),
                (row.content_hash, row.leaf_index, false),
            );
        }
        if n < PAGE {
            break;
        }
    }
    report.leaves = leaves.len();
    // 2. Every stored version against its ledger entry.
    let mut after = 0i64;
    loop {
        let (rows, next) = store.version_rows(after, PAGE).await?;
        let n = rows.len();
        after = next;
        for v in rows {
            report.versions += 1;
            let entry = name(&v.resource_type, &v.id, v.version);
            let key = (v.tenant, v.resource_type, v.id, v.version);
            match recorded.get_mut(&key) {
                None => report.findings.push(Finding::Inserted { entry }),
                Some((hash, leaf, seen)) => {
                    *seen = true;
                    if ledger::content_hash(v.content.as_deref()).as_slice() != hash.as_slice() {
                        report
                            .findings
                            .push(Finding::Modified { entry, leaf: *leaf });
                    }
                }
            }
        }
        if n < PAGE {
            break;
        }
    }
    audit_batches(store, batches, &mut report).await?;
    let mut lost: Vec<(i64, String)> = recorded
        .into_iter()
        .filter(|(_, (_, _, seen))| !seen)
        .map(|((_, rt, id, v), (_, leaf, _))| (leaf, name(&rt, &id, v)))
        .collect();
    lost.sort();
    for (leaf, entry) in lost {
        report.findings.push(Finding::Deleted { entry, leaf });
    }
    // 3. Signed tree heads against the recomputed tree.
    for head in store.tree_heads().await? {
        report.tree_heads += 1;
        let message = ledger::tree_head_message(head.tree_size, head.issued_at, &head.root_hash);
        if let Some(key) = key {
            if !key.verify(&message, &head.signature) {
                report.findings.push(Finding::BadSignature {
                    tree_size: head.tree_size,
                    issued_at: head.issued_at,
                });
            }
        }
        let size = usize::try_from(head.tree_size).unwrap_or(usize::MAX);
        let matches = leaves
            .get(..size)
            .is_some_and(|l| merkle::root(l).as_slice() == head.root_hash.as_slice());
        if !matches {
            report.findings.push(Finding::RootMismatch {
                tree_size: head.tree_size,
                issued_at: head.issued_at,
            });
        }
    }
    Ok(report)
}
