//! The tamper-evident ledger: the Merkle log over every resource version
//! (tree math in `concord_store::merkle`), its Ed25519 signing key, signed
//! tree heads, inclusion and consistency proofs and the verifier behind
//! `concord verify`.

mod consistency;
mod key;
mod log;
mod proof;
mod verify;

pub use consistency::{check_consistency, Refused};
pub use key::{LedgerKey, PublicKey, KEY_FILE, PUBLIC_KEY_FILE};
pub use log::{row_leaf_hash, tree_head_json, MerkleLog, SIGNED_MESSAGE};
pub use proof::check_proof;
pub use verify::{verify, Finding, Report};
