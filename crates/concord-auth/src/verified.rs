//! A bounded cache of access tokens whose signature was already checked, so
//! the guard verifies each token's ES256 signature (and parses its claims
//! and scopes) once, not on every request. Keyed by the SHA-256 of the token
//! (the token itself is never kept); an entry is used only while its token
//! is unexpired (`exp`, no leeway).
//!
//! **Revocation.** Each entry also remembers when its revocation lookups
//! (token id, user mark, app mark: [`crate::AuthServer::validate_claims`])
//! last found nothing, and under which *revocation epoch*. The epoch is a
//! counter that every revocation made through this server advances once its
//! mark is written, so a revocation made here applies to the very next
//! request. A revocation written by another process sharing the database
//! (`concord admin` on the same data directory, another server on the same
//! PostgreSQL) cannot advance it: a clean lookup is therefore trusted for at
//! most [`RECHECK`], after which the lookups run again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::principal::Principal;
use crate::token::AccessClaims;

/// Tokens remembered at most; a full cache first drops expired entries,
/// then (if still full) everything — a cold cache only costs verifications.
pub const CAPACITY: usize = 10_000;

/// How long a clean revocation lookup is trusted (see the module docs).
pub const RECHECK: Duration = Duration::from_secs(1);

/// The SHA-256 of a token.
pub type Key = [u8; 32];

/// A token whose signature was verified: its claims, and the principal they
/// make (`None` if the claims are not usable).
#[derive(Debug)]
pub struct Verified {
    pub claims: AccessClaims,
    pub principal: Option<Principal>,
}

struct Entry {
    verified: Arc<Verified>,
    /// Epoch and time of the last revocation lookup that found nothing.
    checked: Option<(u64, Instant)>,
}

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Key, Entry>>,
    epoch: AtomicU64,
}

pub fn key(token: &str) -> Key {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(digest.as_ref());
    k
}

impl VerifiedTokens {
    /// The verified token under `k` if it is unexpired at `now` (seconds
    /// since the epoch), and whether its last clean revocation lookup is
    /// still to be trusted (same epoch, younger than [`RECHECK`]).
    pub fn get(&self, k: &Key, now: i64) -> Option<(Arc<Verified>, bool)> {
        let epoch = self.epoch();
        let mut entries = self.entries.lock().ok()?;
        match entries.get(k) {
            Some(e) if now < e.verified.claims.exp => {
                let fresh = e
                    .checked
                    .is_some_and(|(at, when)| at == epoch && when.elapsed() < RECHECK);
                Some((e.verified.clone(), fresh))
            }
            Some(_) => {
                entries.remove(k);
                None
            }
            None => None,
        }
    }

    /// Remembers a token whose signature was just verified.
    pub fn put(&self, k: Key, verified: Arc<Verified>, now: i64) {
        if verified.claims.exp <= now {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now < e.verified.claims.exp);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            k,
            Entry {
                verified,
                checked: None,
            },
        );
    }

    /// The current revocation epoch: take it *before* the lookups.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Records that the revocation lookups begun under `epoch` found nothing.
    pub fn checked(&self, k: &Key, epoch: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(e) = entries.get_mut(k) {
                e.checked = Some((epoch, Instant::now()));
            }
        }
    }

    /// A revocation was written: every cached lookup is stale. Called after
    /// the revocation's mark is stored, so a lookup that began earlier is
    /// recorded under the old epoch and never trusted.
    pub fn revoked(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
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

    fn verified(sub: &str, exp: i64) -> Arc<Verified> {
        let claims = claims(sub, exp);
        let principal = claims.principal().ok();
        Arc::new(Verified { claims, principal })
    }

    fn sub(cache: &VerifiedTokens, token: &str, now: i64) -> Option<String> {
        cache
            .get(&key(token), now)
            .map(|(v, _)| v.claims.sub.clone())
    }

    #[test]
    fn entries_are_used_only_until_expiry() {
        let cache = VerifiedTokens::default();
        cache.put(key("tok-a"), verified("a", 100), 10);
        assert_eq!(sub(&cache, "tok-a", 99), Some("a".into()));
        assert!(sub(&cache, "tok-a", 100).is_none(), "expired at exp");
        assert_eq!(cache.len(), 0, "an expired entry is dropped when met");
        assert!(sub(&cache, "tok-b", 10).is_none(), "never seen");
        cache.put(key("tok-c"), verified("c", 5), 10);
        assert_eq!(cache.len(), 0, "an already expired token is not kept");
    }

    #[test]
    fn a_clean_revocation_lookup_is_trusted_until_a_revocation_or_recheck() {
        let cache = VerifiedTokens::default();
        let k = key("tok");
        cache.put(k, verified("a", 1_000), 10);
        assert_eq!(
            cache.get(&k, 10).map(|(_, f)| f),
            Some(false),
            "never checked"
        );
        let e = cache.epoch();
        cache.checked(&k, e);
        assert_eq!(cache.get(&k, 10).map(|(_, f)| f), Some(true));
        // A revocation anywhere makes every cached lookup stale.
        cache.revoked();
        assert_eq!(cache.get(&k, 10).map(|(_, f)| f), Some(false));
        // A lookup that began before the revocation is never trusted.
        cache.checked(&k, e);
        assert_eq!(cache.get(&k, 10).map(|(_, f)| f), Some(false));
        cache.checked(&k, cache.epoch());
        assert_eq!(cache.get(&k, 10).map(|(_, f)| f), Some(true));
        // And not for longer than RECHECK.
        std::thread::sleep(RECHECK + Duration::from_millis(50));
        assert_eq!(cache.get(&k, 10).map(|(_, f)| f), Some(false));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            cache.put(
                key(&format!("t{i}")),
                verified("s", if i % 2 == 0 { 50 } else { 500 }),
                10,
            );
        }
        assert_eq!(cache.len(), CAPACITY);
        // At time 60 half are expired: they make room for the newcomer.
        cache.put(key("fresh"), verified("f", 1_000), 60);
        assert_eq!(cache.len(), CAPACITY / 2 + 1);
        assert!(sub(&cache, "fresh", 60).is_some());
        assert!(sub(&cache, "t1", 60).is_some());
        assert!(sub(&cache, "t0", 60).is_none());
    }
}
