//! `concord verify` and `concord verify-proof`.

use concord_core::ledger::{
    check_consistency, check_proof, verify, LedgerKey, PublicKey, KEY_FILE,
};

use crate::cli::{VerifyArgs, VerifyProofArgs};
use crate::storage;

/// Recomputes the ledger, tree and tree heads; `Err` (exit 1) if anything is off.
pub async fn run(args: VerifyArgs) -> Result<(), String> {
    let key = match &args.public_key {
        Some(text) => Some(PublicKey::from_base64(text)?),
        None if args.storage.data_dir.join(KEY_FILE).exists() => {
            Some(LedgerKey::load(&args.storage.data_dir)?.public())
        }
        None => None,
    };
    let (store, description) = storage::open(&args.storage).await?;
    let report = verify(store.as_ref(), key.as_ref())
        .await
        .map_err(|e| format!("cannot read the ledger: {e}"))?;
    println!(
        "verify: {description}: {} ledger entries, {} stored versions, {} audit events, {} signed tree heads",
        report.leaves, report.versions, report.audit_events, report.tree_heads
    );
    for f in &report.findings {
        println!("{f}");
    }
    if key.is_none() && report.tree_heads > 0 {
        return Err(format!(
            "no public key ({KEY_FILE} not in the data directory, no --public-key): \
             tree head signatures were not checked"
        ));
    }
    if report.is_clean() {
        println!(
            "OK: the ledger, the Merkle tree and every signed tree head agree with the stored data"
        );
        Ok(())
    } else {
        Err(format!(
            "{} problem(s): the stored data does not match the ledger",
            report.findings.len()
        ))
    }
}

/// Checks an inclusion proof file against a public key.
pub fn run_proof(args: VerifyProofArgs) -> Result<(), String> {
    let key = PublicKey::from_base64(&args.public_key)?;
    let text = std::fs::read_to_string(&args.proof)
        .map_err(|e| format!("cannot read {}: {e}", args.proof.display()))?;
    let proof: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("the proof is not JSON: {e}"))?;
    if proof.get("consistency_path").is_some() {
        let (first, second) = check_consistency(&proof, &key)?;
        println!(
            "OK: the tree of {first} entries is a prefix of the tree of {second} entries, \
             both heads signed by this key"
        );
        return Ok(());
    }
    check_proof(&proof, &key)?;
    println!(
        "OK: {} is leaf {} of the tree of {} entries signed by this key",
        proof
            .get("resource")
            .and_then(|v| v.as_str())
            .unwrap_or("?"),
        proof
            .get("leaf_index")
            .and_then(|v| v.as_i64())
            .unwrap_or(-1),
        proof
            .pointer("/tree_head/tree_size")
            .and_then(|v| v.as_i64())
            .unwrap_or(-1)
    );
    Ok(())
}
