//! [`AuthServer`]: the security layer's entry point, over an [`AuthStore`].

use std::sync::Arc;

use concord_store::{timestamp, Actor, AuthStore, GrantRecord, StoreError, TenantContext};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::keys::{self, KeyRing};
use crate::random;
use crate::verified::VerifiedTokens;

struct Inner {
    store: Arc<dyn AuthStore>,
    config: AuthConfig,
    keys: OnceCell<KeyRing>,
    verified: VerifiedTokens,
}

/// Accounts, sessions, clients, the OAuth flows and token validation. Cheap to clone.
#[derive(Clone)]
pub struct AuthServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("tenant", &self.inner.config.tenant)
            .finish_non_exhaustive()
    }
}

impl AuthServer {
    pub fn new(store: Arc<dyn AuthStore>, config: AuthConfig) -> AuthServer {
        AuthServer {
            inner: Arc::new(Inner {
                store,
                config,
                keys: OnceCell::new(),
                verified: VerifiedTokens::default(),
            }),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &dyn AuthStore {
        self.inner.store.as_ref()
    }

    /// Tokens whose signature was already verified (see [`crate::verified`]).
    pub(crate) fn verified(&self) -> &VerifiedTokens {
        &self.inner.verified
    }

    /// How many verified tokens are remembered (for tests and metrics).
    pub fn verified_tokens(&self) -> usize {
        self.inner.verified.len()
    }

    pub(crate) fn ctx(&self) -> TenantContext {
        TenantContext::new(self.inner.config.tenant.clone(), Actor::System, "auth")
    }

    /// The issuer: the configured one, else the request's base URL.
    pub fn issuer(&self, request_base: &str) -> String {
        self.inner
            .config
            .issuer
            .clone()
            .unwrap_or_else(|| request_base.trim_end_matches('/').to_string())
    }

    /// The signing keys (loaded, or created, on first use).
    pub async fn keys(&self) -> Result<&KeyRing, AuthError> {
        self.inner
            .keys
            .get_or_try_init(|| async {
                keys::load(self.store(), &self.ctx(), timestamp::now_millis()).await
            })
            .await
    }

    /// The public JWK Set.
    pub async fn jwks(&self) -> Result<Value, AuthError> {
        Ok(self.keys().await?.jwks.clone())
    }

    /// Stores a grant under the hash of a fresh handle; returns the handle.
    pub(crate) async fn put_new_grant(
        &self,
        kind: &str,
        subject: Option<&str>,
        client_id: Option<&str>,
        data: Value,
        ttl_seconds: i64,
    ) -> Result<String, AuthError> {
        let handle = random::handle()?;
        let now = timestamp::now_millis();
        self.store()
            .put_grant(
                &self.ctx(),
                &GrantRecord {
                    kind: kind.into(),
                    handle_hash: random::hash_handle(&handle),
                    subject: subject.map(str::to_string),
                    client_id: client_id.map(str::to_string),
                    data,
                    created_at: now,
                    expires_at: now + ttl_seconds * 1000,
                },
            )
            .await?;
        Ok(handle)
    }

    /// Records a marker grant keyed by `key` (hashed); `false` if it exists
    /// already (a replay).
    pub(crate) async fn mark_once(
        &self,
        kind: &str,
        key: &str,
        subject: Option<&str>,
        data: Value,
        expires_at: i64,
    ) -> Result<bool, AuthError> {
        let grant = GrantRecord {
            kind: kind.into(),
            handle_hash: random::hash_handle(key),
            subject: subject.map(str::to_string),
            client_id: None,
            data,
            created_at: timestamp::now_millis(),
            expires_at,
        };
        match self.store().put_grant(&self.ctx(), &grant).await {
            Ok(()) => Ok(true),
            Err(StoreError::AlreadyExists { .. }) => {
                // An expired marker may still be stored: replace it.
                let now = timestamp::now_millis();
                let live = self
                    .store()
                    .grant(&self.ctx(), kind, &grant.handle_hash, now)
                    .await?;
                if live.is_some() {
                    return Ok(false);
                }
                self.store()
                    .take_grant(&self.ctx(), kind, &grant.handle_hash, now)
                    .await?;
                match self.store().put_grant(&self.ctx(), &grant).await {
                    Ok(()) => Ok(true),
                    Err(StoreError::AlreadyExists { .. }) => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Seconds since the epoch.
pub(crate) fn now_seconds() -> i64 {
    timestamp::now_millis() / 1000
}
