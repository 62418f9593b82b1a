//! A bounded cache of access tokens whose signature was already checked, so
//! the guard verifies each token's ES256 signature once, not on every
//! request. Keyed by the SHA-256 of the token (the token itself is never
//! kept); an entry is used only while its token is unexpired (`exp`, no
//! leeway). Only the signature and claim parsing are cached: revocation (of
//! the token, the user or the app) is still looked up on every request by
//! [`crate::AuthServer::validate_claims`], so it takes effect at once.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::token::AccessClaims;

/// Tokens remembered at most; a full cache first drops expired entries,
/// then (if still full) everything — a cold cache only costs verifications.
pub const CAPACITY: usize = 10_000;

type Key = [u8; 32];

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Key, AccessClaims>>,
}

fn key(token: &str) -> Key {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(digest.as_ref());
    k
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before and is unexpired at
    /// `now` (seconds since the epoch).
    pub fn get(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let k = key(token);
        let mut entries = self.entries.lock().ok()?;
        match entries.get(&k) {
            Some(c) if now < c.exp => Some(c.clone()),
            Some(_) => {
                entries.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Remembers the claims of a token whose signature was just verified.
    pub fn put(&self, token: &str, claims: &AccessClaims, now: i64) {
        if claims.exp <= now {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, c| now < c.exp);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key(token), claims.clone());
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str, exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "http://x".into(),
            sub: sub.into(),
            aud: "http://x".into(),
            exp,
            iat: 0,
            jti: format!("j-{sub}"),
            scope: "system/*.rs".into(),
            client_id: None,
            kind: "operator".into(),
            acct: None,
            role: None,
            patients: Vec::new(),
            patient: None,
            encounter: None,
            fhir_user: None,
        }
    }

    #[test]
    fn entries_are_used_only_until_expiry() {
        let cache = VerifiedTokens::default();
        cache.put("tok-a", &claims("a", 100), 10);
        assert_eq!(cache.get("tok-a", 99).map(|c| c.sub), Some("a".into()));
        assert!(cache.get("tok-a", 100).is_none(), "expired at exp");
        assert_eq!(cache.len(), 0, "an expired entry is dropped when met");
        assert!(cache.get("tok-b", 10).is_none(), "never seen");
        cache.put("tok-c", &claims("c", 5), 10);
        assert_eq!(cache.len(), 0, "an already expired token is not kept");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            cache.put(
                &format!("t{i}"),
                &claims("s", if i % 2 == 0 { 50 } else { 500 }),
                10,
            );
        }
        assert_eq!(cache.len(), CAPACITY);
        // At time 60 half are expired: they make room for the newcomer.
        cache.put("fresh", &claims("f", 1_000), 60);
        assert_eq!(cache.len(), CAPACITY / 2 + 1);
        assert!(cache.get("fresh", 60).is_some());
        assert!(cache.get("t1", 60).is_some());
        assert!(cache.get("t0", 60).is_none());
    }
}
