//! Checking an inclusion proof (the JSON of `$ledger-proof`) with nothing but
//! the public key: the tree head's signature, then the audit path from the
//! leaf to the signed root.

use base64::Engine as _;
use concord_store::ledger;
use concord_store::merkle::{self, Hash};
use serde_json::Value;

use super::key::PublicKey;

pub(super) fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name)
        .ok_or_else(|| format!("the proof has no '{name}'"))
}

pub(super) fn hash(text: &str) -> Result<Hash, String> {
    let bytes = hex::decode(text).map_err(|_| format!("'{text}' is not hex"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "a hash has 32 bytes".to_string())
}

/// A list of hex hashes (an audit or consistency path).
pub(super) fn hashes(v: &Value, name: &str) -> Result<Vec<Hash>, String> {
    field(v, name)?
        .as_array()
        .ok_or_else(|| format!("'{name}' is not an array"))?
        .iter()
        .map(|h| {
            h.as_str()
                .ok_or("a path entry is not a string".to_string())
                .and_then(hash)
        })
        .collect()
}

pub(super) fn int(v: &Value, name: &str) -> Result<i64, String> {
    field(v, name)?
        .as_i64()
        .ok_or_else(|| format!("'{name}' is not an integer"))
}

pub(super) fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    field(v, name)?
        .as_str()
        .ok_or_else(|| format!("'{name}' is not a string"))
}

/// Checks the signature of a tree head (the JSON of `tree_head_json`)
/// against `key`; returns its tree size and root.
pub(super) fn check_head(head: &Value, key: &PublicKey) -> Result<(i64, Hash), String> {
    let size = int(head, "tree_size")?;
    let issued_at = int(head, "issued_at")?;
    let root = hash(text(head, "root_hash")?)?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(text(head, "signature")?)
        .map_err(|_| "the signature is not base64".to_string())?;
    if !key.verify(
        &ledger::tree_head_message(size, issued_at, &root),
        &signature,
    ) {
        return Err("the tree head's signature does not verify with this public key".into());
    }
    Ok((size, root))
}

/// Checks `proof` against `key`. `Ok` means: the key signed a tree head whose
/// tree contains this leaf at this index.
pub fn check_proof(proof: &Value, key: &PublicKey) -> Result<(), String> {
    let (size, root) = check_head(field(proof, "tree_head")?, key)?;
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(text(proof, "leaf")?)
        .map_err(|_| "the leaf is not base64".to_string())?;
    let index = int(proof, "leaf_index")?;
    let path = hashes(proof, "audit_path")?;
    let (Ok(index), Ok(size)) = (u64::try_from(index), u64::try_from(size)) else {
        return Err("negative leaf index or tree size".into());
    };
    if merkle::verify_inclusion(index, size, &merkle::leaf_hash(&leaf), &path, &root) {
        Ok(())
    } else {
        Err("the audit path does not lead from the leaf to the signed root".into())
    }
}
