//! Token validation for the resource server, introspection (RFC 7662) and
//! revocation (RFC 7009).

use std::sync::Arc;

use concord_store::timestamp;
use serde_json::{json, Value};

use super::{OAuthError, REFRESH, REVOKED_JTI};
use crate::accounts::USER_REVOKED;
use crate::apps::{app_key, APP_REVOKED};
use crate::principal::Principal;
use crate::random;
use crate::server::AuthServer;
use crate::token::{self, AccessClaims, TokenRejected};
use crate::verified::{self, Verified};

impl AuthServer {
    /// Verifies a bearer access token and checks it has not been revoked.
    pub async fn validate_claims(&self, bearer: &str) -> Result<AccessClaims, TokenRejected> {
        Ok(self.validated(bearer).await?.claims.clone())
    }

    /// The verified token (claims and principal), unrevoked. The signature
    /// is checked once per token (then remembered until the token expires,
    /// [`crate::verified`]); revocation is looked up again unless a clean
    /// lookup was made since the last revocation through this server and
    /// less than [`crate::verified::RECHECK`] ago.
    async fn validated(&self, bearer: &str) -> Result<Arc<Verified>, TokenRejected> {
        let k = verified::key(bearer);
        let now_s = timestamp::now_millis() / 1000;
        let verified = match self.verified().get(&k, now_s) {
            Some((v, true)) => return Ok(v),
            Some((v, false)) => v,
            None => {
                let keys = self
                    .keys()
                    .await
                    .map_err(|_| TokenRejected("token keys unavailable"))?;
                let claims = token::verify(keys, bearer)?;
                let principal = claims.principal().ok();
                let v = Arc::new(Verified { claims, principal });
                self.verified().put(k, v.clone(), now_s);
                v
            }
        };
        // Taken before the lookups: a revocation written while they run
        // advances it, so this clean result is then never trusted.
        let epoch = self.verified().epoch();
        self.check_revocation(&verified.claims).await?;
        self.verified().checked(&k, epoch);
        Ok(verified)
    }

    /// The revocation lookups: the token id, the app mark (a patient revoked
    /// the app) and the user mark (deactivation, password reset).
    async fn check_revocation(&self, claims: &AccessClaims) -> Result<(), TokenRejected> {
        let now = timestamp::now_millis();
        let store_err = |_| TokenRejected("token check unavailable");
        if self
            .store()
            .grant(
                &self.ctx(),
                REVOKED_JTI,
                &random::hash_handle(&claims.jti),
                now,
            )
            .await
            .map_err(store_err)?
            .is_some()
        {
            return Err(TokenRejected("token revoked"));
        }
        if let (true, Some(client)) = (claims.kind == "user", &claims.client_id) {
            let revoked = self
                .store()
                .grant(&self.ctx(), APP_REVOKED, &app_key(&claims.sub, client), now)
                .await
                .map_err(store_err)?;
            if let Some(r) = revoked {
                if claims.iat < r.data["before"].as_i64().unwrap_or(0) {
                    return Err(TokenRejected("token revoked"));
                }
            }
        }
        if claims.kind == "user" {
            let revoked = self
                .store()
                .grant(
                    &self.ctx(),
                    USER_REVOKED,
                    &random::hash_handle(&claims.sub),
                    now,
                )
                .await
                .map_err(store_err)?;
            if let Some(r) = revoked {
                if claims.iat < r.data["before"].as_i64().unwrap_or(0) {
                    return Err(TokenRejected("token revoked"));
                }
            }
        }
        Ok(())
    }

    /// The principal of a valid bearer token presented to the FHIR server
    /// at `base`: besides signature, algorithm, expiry and revocation, the
    /// token must have been issued by this server (`iss`) for this FHIR
    /// base URL (`aud`).
    pub async fn validate_for(&self, bearer: &str, base: &str) -> Result<Principal, TokenRejected> {
        let v = self.validated(bearer).await?;
        let base = base.trim_end_matches('/');
        if v.claims.iss.trim_end_matches('/') != self.issuer(base) {
            return Err(TokenRejected("token issued by another server"));
        }
        if v.claims.aud.trim_end_matches('/') != base {
            return Err(TokenRejected("token issued for another audience"));
        }
        v.principal
            .clone()
            .ok_or(TokenRejected("token claims are not usable"))
    }

    /// The principal of a valid bearer token (any audience of this issuer's keys).
    pub async fn validate(&self, bearer: &str) -> Result<Principal, TokenRejected> {
        let v = self.validated(bearer).await?;
        v.principal
            .clone()
            .ok_or(TokenRejected("token claims are not usable"))
    }

    /// RFC 7662: `{"active": false}` for anything not currently valid.
    pub async fn introspect(&self, token_text: &str) -> Value {
        if let Ok(c) = self.validate_claims(token_text).await {
            let mut out = json!({
                "active": true,
                "scope": c.scope,
                "sub": c.sub,
                "exp": c.exp,
                "iat": c.iat,
                "iss": c.iss,
                "jti": c.jti,
                "token_type": "Bearer",
            });
            for (k, v) in [
                ("client_id", &c.client_id),
                ("patient", &c.patient),
                ("encounter", &c.encounter),
                ("fhirUser", &c.fhir_user),
            ] {
                if let Some(v) = v {
                    out[k] = json!(v);
                }
            }
            return out;
        }
        let now = timestamp::now_millis();
        let grant = self
            .store()
            .grant(&self.ctx(), REFRESH, &random::hash_handle(token_text), now)
            .await
            .ok()
            .flatten();
        match grant {
            Some(g) => json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": g.data["scope"],
                "client_id": g.client_id,
                "sub": g.subject,
                "exp": g.expires_at / 1000,
            }),
            None => json!({ "active": false }),
        }
    }

    /// RFC 7009: revokes a refresh or access token of `client_id`. Unknown
    /// tokens are not an error.
    pub async fn revoke(&self, token_text: &str, client_id: &str) -> Result<(), OAuthError> {
        let now = timestamp::now_millis();
        let hash = random::hash_handle(token_text);
        if let Some(g) = self.store().grant(&self.ctx(), REFRESH, &hash, now).await? {
            if g.client_id.as_deref() == Some(client_id) {
                self.store()
                    .take_grant(&self.ctx(), REFRESH, &hash, now)
                    .await?;
            }
            return Ok(());
        }
        if let Ok(claims) = self.validate_claims(token_text).await {
            if claims.client_id.as_deref() == Some(client_id) {
                let marked = self
                    .mark_once(
                        REVOKED_JTI,
                        &claims.jti,
                        Some(&claims.sub),
                        json!({}),
                        (claims.exp + 60) * 1000,
                    )
                    .await;
                self.verified().revoked();
                marked?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use concord_store_sqlite::SqliteStore;

    use crate::scope::ScopeSet;
    use crate::verified::RECHECK;
    use crate::{AuthConfig, AuthServer};

    const BASE: &str = "http://127.0.0.1:1/fhir";

    /// The verified-token cache skips only the signature check: a revoked
    /// token is refused on its next use, and a token altered after a
    /// cached verification is verified (and refused) afresh.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cached_tokens_still_see_revocation_and_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("auth.db")).unwrap());
        let auth = AuthServer::new(store, AuthConfig::default());
        let scopes = ScopeSet::parse("system/*.rs").unwrap();
        let token = auth
            .service_token(BASE, "client", "app-1", &scopes, 300)
            .await
            .unwrap();
        assert!(auth.validate_for(&token, BASE).await.is_ok());
        assert_eq!(auth.verified_tokens(), 1, "verified once, remembered");
        assert!(auth.validate_for(&token, BASE).await.is_ok(), "cache hit");
        assert_eq!(auth.verified_tokens(), 1);

        // A token differing in one character of its signature.
        let mut chars: Vec<char> = token.chars().collect();
        let i = chars.len() - 10;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let forged: String = chars.into_iter().collect();
        assert!(auth.validate_for(&forged, BASE).await.is_err());
        assert_eq!(auth.verified_tokens(), 1, "a refused token is not kept");

        auth.revoke(&token, "app-1").await.unwrap();
        let refused = auth.validate_for(&token, BASE).await.unwrap_err();
        assert_eq!(refused.0, "token revoked");
        assert_eq!(auth.introspect(&token).await["active"], false);
    }

    /// A revocation written by another process sharing the database (here
    /// a second server over the same store) cannot advance this server's
    /// revocation epoch: a clean lookup is trusted for at most `RECHECK`,
    /// then the token is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revocation_by_another_process_applies_within_recheck() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("auth.db")).unwrap());
        let here = AuthServer::new(store.clone(), AuthConfig::default());
        let other = AuthServer::new(store, AuthConfig::default());
        let scopes = ScopeSet::parse("system/*.rs").unwrap();
        let token = here
            .service_token(BASE, "client", "app-1", &scopes, 300)
            .await
            .unwrap();
        assert!(here.validate_for(&token, BASE).await.is_ok());
        other.revoke(&token, "app-1").await.unwrap();
        assert!(
            other.validate_for(&token, BASE).await.is_err(),
            "at once there"
        );
        let started = std::time::Instant::now();
        loop {
            match here.validate_for(&token, BASE).await {
                Err(refused) => {
                    assert_eq!(refused.0, "token revoked");
                    break;
                }
                Ok(_) => {
                    assert!(
                        started.elapsed() < RECHECK + std::time::Duration::from_millis(500),
                        "still accepted after RECHECK"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}
