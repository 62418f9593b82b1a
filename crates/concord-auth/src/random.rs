//! Random handles (codes, tokens, ids) and how they are stored (hashed).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::AuthError;

/// `n` random bytes from the operating system.
pub fn bytes(n: usize) -> Result<Vec<u8>, AuthError> {
    let mut buf = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AuthError::Internal("no randomness available".into()))?;
    Ok(buf)
}

/// A 256-bit random handle, base64url: for codes, tokens, sessions.
pub fn handle() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(bytes(32)?))
}

/// What the store keeps for a handle: SHA-256, hex.
pub fn hash_handle(handle: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        handle.as_bytes(),
    ))
}

/// Constant-time string equality (for secrets and PKCE).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_long_unique_and_hashed() {
        let a = handle().unwrap();
        let b = handle().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(hash_handle("abc").len(), 64);
        assert_eq!(
            hash_handle("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same("x", "x") && !same("x", "y"));
    }
}
