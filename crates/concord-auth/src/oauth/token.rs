//! The token endpoint: `authorization_code`, `refresh_token` (with
//! rotation and reuse detection) and `client_credentials` (SMART Backend
//! Services).

use concord_store::{timestamp, ClientRecord, GrantRecord};
use serde_json::{json, Value};

use super::issue::Context;
use super::{pkce, OAuthError, CODE, REFRESH, REFRESH_USED};
use crate::clients::{ClientCredentials, ClientType};
use crate::random;
use crate::scope::{Scope, ScopeContext, ScopeSet};
use crate::server::AuthServer;

/// The form of `POST /auth/token`.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client: ClientCredentials,
}

impl AuthServer {
    /// Handles a token request. `issuer` is the FHIR base; `token_url` the
    /// endpoint's own URL (the audience of client assertions).
    pub async fn token(
        &self,
        req: &TokenRequest,
        issuer: &str,
        token_url: &str,
    ) -> Result<Value, OAuthError> {
        let grant_type = req
            .grant_type
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        // Check the grant type before the client, so a bad grant type is
        // reported as such and no assertion is used up.
        if !matches!(
            grant_type,
            "authorization_code" | "refresh_token" | "client_credentials"
        ) {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("grant_type {grant_type:?} is not supported"),
            ));
        }
        let client = self.authenticate_client(&req.client, token_url).await?;
        match grant_type {
            "authorization_code" => self.redeem_code(req, &client, issuer).await,
            "refresh_token" => self.refresh(req, &client, issuer).await,
            _ => self.client_credentials(req, &client, issuer).await,
        }
    }

    async fn active_user(
        &self,
        grant: &GrantRecord,
    ) -> Result<concord_store::UserRecord, OAuthError> {
        let id = grant
            .subject
            .as_deref()
            .ok_or_else(OAuthError::server_error)?;
        self.user(id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| OAuthError::invalid_grant("the user's account is not active"))
    }

    async fn redeem_code(
        &self,
        req: &TokenRequest,
        client: &ClientRecord,
        issuer: &str,
    ) -> Result<Value, OAuthError> {
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
        let now = timestamp::now_millis();
        let grant = self
            .store()
            .take_grant(&self.ctx(), CODE, &random::hash_handle(code), now)
            .await?
            .ok_or_else(|| {
                OAuthError::invalid_grant("authorization code is invalid, expired or already used")
            })?;
        if grant.client_id.as_deref() != Some(client.client_id.as_str()) {
            return Err(OAuthError::invalid_grant(
                "authorization code was issued to another client",
            ));
        }
        if req.redirect_uri.as_deref() != grant.data["redirect_uri"].as_str() {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        let verifier = req
            .code_verifier
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_grant("code_verifier is required (PKCE)"))?;
        let challenge = grant.data["code_challenge"].as_str().unwrap_or_default();
        if !pkce::verify(verifier, challenge) {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge (PKCE)",
            ));
        }
        let user = self.active_user(&grant).await?;
        let scopes = ScopeSet::parse(grant.data["scope"].as_str().unwrap_or_default())
            .map_err(|_| OAuthError::server_error())?;
        let ctx = Context::from_data(&grant.data);
        tracing::info!(user = %user.id, client = %client.client_id, "tokens issued for authorization code");
        self.user_token_response(issuer, &user, &client.client_id, &scopes, &ctx)
            .await
    }

    async fn refresh(
        &self,
        req: &TokenRequest,
        client: &ClientRecord,
        issuer: &str,
    ) -> Result<Value, OAuthError> {
        let token = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
        let now = timestamp::now_millis();
        let hash = random::hash_handle(token);
        let Some(grant) = self.store().grant(&self.ctx(), REFRESH, &hash, now).await? else {
            // A rotated-out token presented again: someone has a copy.
            // Revoke the whole family of this user and client.
            if let Some(used) = self
                .store()
                .grant(&self.ctx(), REFRESH_USED, &hash, now)
                .await?
            {
                if let (Some(subject), Some(client_id)) = (&used.subject, &used.client_id) {
                    self.store()
                        .delete_grants_for(&self.ctx(), REFRESH, subject, Some(client_id))
                        .await?;
                    tracing::warn!(user = %subject, client = %client_id, "refresh token reuse: revoked the client's refresh tokens");
                }
                return Err(OAuthError::invalid_grant(
                    "refresh token was already used; the app's refresh tokens are revoked",
                ));
            }
            return Err(OAuthError::invalid_grant(
                "refresh token is invalid, expired or revoked",
            ));
        };
        if grant.client_id.as_deref() != Some(client.client_id.as_str()) {
            return Err(OAuthError::invalid_grant(
                "refresh token was issued to another client",
            ));
        }
        let original = ScopeSet::parse(grant.data["scope"].as_str().unwrap_or_default())
            .map_err(|_| OAuthError::server_error())?;
        let scopes = match req.scope.as_deref() {
            None => original,
            Some(text) => {
                let asked = ScopeSet::parse(text).map_err(OAuthError::invalid_scope)?;
                if asked.iter().any(|s| !original.contains(s)) {
                    return Err(OAuthError::invalid_scope(
                        "a refresh may only keep or narrow the original scopes",
                    ));
                }
                asked
            }
        };
        let user = self.active_user(&grant).await?;
        // Rotation: the presented token is redeemed exactly once.
        if self
            .store()
            .take_grant(&self.ctx(), REFRESH, &hash, now)
            .await?
            .is_none()
        {
            return Err(OAuthError::invalid_grant(
                "refresh token was already used; the app's refresh tokens are revoked",
            ));
        }
        self.store()
            .put_grant(
                &self.ctx(),
                &GrantRecord {
                    kind: REFRESH_USED.into(),
                    data: json!({}),
                    created_at: now,
                    ..grant.clone()
                },
            )
            .await?;
        let ctx = Context::from_data(&grant.data);
        self.user_token_response(issuer, &user, &client.client_id, &scopes, &ctx)
            .await
    }

    async fn client_credentials(
        &self,
        req: &TokenRequest,
        client: &ClientRecord,
        issuer: &str,
    ) -> Result<Value, OAuthError> {
        if ClientType::parse(&client.client_type) != Some(ClientType::ConfidentialAsymmetric)
            || req.client.assertion.is_none()
        {
            return Err(OAuthError::unauthorized_client(
                "client_credentials needs a confidential-asymmetric client authenticating with private_key_jwt",
            ));
        }
        let asked = ScopeSet::parse(req.scope.as_deref().unwrap_or_default())
            .map_err(OAuthError::invalid_scope)?;
        if asked
            .iter()
            .any(|s| !matches!(s, Scope::Resource(r) if r.context == ScopeContext::System))
        {
            return Err(OAuthError::invalid_scope(
                "backend services may only request system/ scopes",
            ));
        }
        let allowed = ScopeSet::parse(&client.allowed_scopes).unwrap_or_default();
        let scopes = asked.narrowed_to(&allowed);
        if scopes.is_empty() {
            return Err(OAuthError::invalid_scope(
                "none of the requested scopes is allowed for this client",
            ));
        }
        let ttl = self.config().access_token_ttl.min(300);
        let token = self
            .service_token(issuer, "client", &client.client_id, &scopes, ttl)
            .await?;
        tracing::info!(client = %client.client_id, "backend service token issued");
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scopes.to_string(),
        }))
    }
}
