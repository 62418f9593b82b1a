//! Token validation for the resource server, introspection (RFC 7662) and
//! revocation (RFC 7009).

use concord_store::timestamp;
use serde_json::{json, Value};

use super::{OAuthError, REFRESH, REVOKED_JTI};
use crate::accounts::USER_REVOKED;
use crate::apps::{app_key, APP_REVOKED};
use crate::principal::Principal;
use crate::random;
use crate::server::AuthServer;
use crate::token::{self, AccessClaims, TokenRejected};

impl AuthServer {
    /// Verifies a bearer access token and checks it has not been revoked.
    pub async fn validate_claims(&self, bearer: &str) -> Result<AccessClaims, TokenRejected> {
        let keys = self
            .keys()
            .await
            .map_err(|_| TokenRejected("token keys unavailable"))?;
        let claims = token::verify(keys, bearer)?;
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
        Ok(claims)
    }

    /// The principal of a valid bearer token presented to the FHIR server
    /// at `base`: besides signature, algorithm, expiry and revocation, the
    /// token must have been issued by this server (`iss`) for this FHIR
    /// base URL (`aud`).
    pub async fn validate_for(&self, bearer: &str, base: &str) -> Result<Principal, TokenRejected> {
        let claims = self.validate_claims(bearer).await?;
        let base = base.trim_end_matches('/');
        if claims.iss.trim_end_matches('/') != self.issuer(base) {
            return Err(TokenRejected("token issued by another server"));
        }
        if claims.aud.trim_end_matches('/') != base {
            return Err(TokenRejected("token issued for another audience"));
        }
        claims
            .principal()
            .map_err(|_| TokenRejected("token claims are not usable"))
    }

    /// The principal of a valid bearer token (any audience of this issuer's keys).
    pub async fn validate(&self, bearer: &str) -> Result<Principal, TokenRejected> {
        let claims = self.validate_claims(bearer).await?;
        claims
            .principal()
            .map_err(|_| TokenRejected("token claims are not usable"))
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
                self.mark_once(
                    REVOKED_JTI,
                    &claims.jti,
                    Some(&claims.sub),
                    json!({}),
                    (claims.exp + 60) * 1000,
                )
                .await?;
            }
        }
        Ok(())
    }
}
