//! The Ed25519 key that signs tree heads: a file in the data directory,
//! created on first start (`ledger-ed25519.key`, the 32-byte seed in hex,
//! owner-only), with the public key beside it (`ledger-ed25519.pub`, base64).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// File name of the private key in the data directory.
pub const KEY_FILE: &str = "ledger-ed25519.key";
/// File name of the public key (base64 of the 32 raw bytes).
pub const PUBLIC_KEY_FILE: &str = "ledger-ed25519.pub";

/// The tree-head signing key.
#[derive(Clone)]
pub struct LedgerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerKey")
            .field("public", &self.public_base64())
            .finish()
    }
}

fn key_path(dir: &Path) -> PathBuf {
    dir.join(KEY_FILE)
}

impl LedgerKey {
    /// Reads the key from `dir`, creating it (and `dir`) on first use.
    pub fn load_or_create(dir: &Path) -> Result<LedgerKey, String> {
        let path = key_path(dir);
        if path.exists() {
            return LedgerKey::load(dir);
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
        let key = LedgerKey {
            signing: SigningKey::from_bytes(&seed),
        };
        write_private(&path, &hex::encode(seed))?;
        std::fs::write(dir.join(PUBLIC_KEY_FILE), key.public_base64() + "\n")
            .map_err(|e| format!("cannot write the ledger public key: {e}"))?;
        tracing::info!(path = %path.display(), "created the ledger signing key");
        Ok(key)
    }

    /// Reads an existing key from `dir`.
    pub fn load(dir: &Path) -> Result<LedgerKey, String> {
        let path = key_path(dir);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| format!("{} is not a hex Ed25519 seed", path.display()))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{} is not a 32-byte Ed25519 seed", path.display()))?;
        Ok(LedgerKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The public key as base64 of its 32 raw bytes.
    pub fn public_base64(&self) -> String {
        self.public().to_base64()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// An Ed25519 public key, for checking tree heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// From base64 (standard alphabet) of the 32 raw bytes.
    pub fn from_base64(text: &str) -> Result<PublicKey, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "the public key is not base64".to_string())?;
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "an Ed25519 public key has 32 bytes".to_string())?;
        VerifyingKey::from_bytes(&raw)
            .map(PublicKey)
            .map_err(|_| "not a valid Ed25519 public key".to_string())
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        self.0.verify(message, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let a = LedgerKey::load_or_create(dir.path()).unwrap();
        let b = LedgerKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.public_base64(), b.public_base64());
        let sig = a.sign(b"m");
        let public = PublicKey::from_base64(&a.public_base64()).unwrap();
        assert!(public.verify(b"m", &sig));
        assert!(!public.verify(b"n", &sig));
        let published = std::fs::read_to_string(dir.path().join(PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(published.trim(), a.public_base64());
    }
}
