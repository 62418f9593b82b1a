//! Rate limits for the sign-in form and the token endpoint: token buckets
//! kept in memory, one per client address and one per username / client_id.
//!
//! A bucket holds up to `per_minute` requests and refills continuously at
//! `per_minute` a minute, so a burst of one minute's allowance is accepted
//! and then one request every `60 / per_minute` seconds. A request must
//! find a token in **every** bucket it touches (address and account); the
//! refusal is 429 with `Retry-After` (whole seconds until the emptiest
//! bucket has a token again). Hand-written (about 80 lines) rather than a
//! crate: two keyed limits with idle-bucket eviction are all that is needed.
//! The address is the TCP peer; `X-Forwarded-For` is not trusted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Buckets kept before idle (full) ones are dropped.
const EVICT_ABOVE: usize = 10_000;

/// The configured limits (requests per minute; 0 = no limit).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// `POST /auth/login`, per client address.
    pub login_per_address: u32,
    /// `POST /auth/login`, per username.
    pub login_per_username: u32,
    /// `POST /auth/token`, per client address.
    pub token_per_address: u32,
    /// `POST /auth/token`, per client_id.
    pub token_per_client: u32,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::new(30, 10, 300, 120)
    }
}

impl RateLimits {
    pub fn new(
        login_per_address: u32,
        login_per_username: u32,
        token_per_address: u32,
        token_per_client: u32,
    ) -> RateLimits {
        RateLimits {
            login_per_address,
            login_per_username,
            token_per_address,
            token_per_client,
            buckets: Arc::default(),
        }
    }

    /// Takes one token from each `(key, per_minute)` bucket, or none of them:
    /// `Err(retry_after)` when any is empty.
    pub fn take(&self, keys: &[(String, u32)]) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a poisoned lock must not lock everyone out
        };
        if buckets.len() > EVICT_ABOVE {
            buckets.retain(|_, b| !b.full_at(now));
        }
        let mut wait = Duration::ZERO;
        for (key, per_minute) in keys.iter().filter(|(_, n)| *n > 0) {
            let b = buckets
                .entry(key.clone())
                .or_insert_with(|| Bucket::full(*per_minute, now));
            b.refill(now);
            if b.tokens < 1.0 {
                wait = wait.max(b.until_one());
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in keys.iter().filter(|(_, n)| *n > 0) {
            if let Some(b) = buckets.get_mut(key) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl Bucket {
    fn full(per_minute: u32, now: Instant) -> Bucket {
        let capacity = f64::from(per_minute);
        Bucket {
            tokens: capacity,
            capacity,
            per_sec: capacity / 60.0,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.at = now;
    }

    fn until_one(&self) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / self.per_sec).max(0.0))
    }

    fn full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * self.per_sec >= self.capacity
    }
}

/// The TCP peer's IP address (`unknown` when the server was started
/// without connect info), for the per-address buckets.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(addr))
    }
}

/// `Retry-After` seconds: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refuses_with_a_wait() {
        let limits = RateLimits::new(3, 0, 0, 0);
        let key = vec![("ip:1".to_string(), 3)];
        for _ in 0..3 {
            assert!(limits.take(&key).is_ok());
        }
        let wait = limits.take(&key).unwrap_err();
        // 3 a minute: one token every 20 s.
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        assert_eq!(retry_after_secs(wait), 20);
        // Another key is independent; 0 means unlimited.
        assert!(limits.take(&[("ip:2".to_string(), 3)]).is_ok());
        assert!(limits.take(&[("ip:1".to_string(), 0)]).is_ok());
    }

    #[test]
    fn all_or_nothing_across_keys() {
        let limits = RateLimits::new(0, 0, 0, 0);
        let a = ("a".to_string(), 1);
        let b = ("b".to_string(), 5);
        assert!(limits.take(std::slice::from_ref(&a)).is_ok());
        // `a` is empty, so `b` is not charged either.
        assert!(limits.take(&[a.clone(), b.clone()]).is_err());
        for _ in 0..5 {
            assert!(limits.take(std::slice::from_ref(&b)).is_ok());
        }
        assert!(limits.take(&[b]).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2500)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
