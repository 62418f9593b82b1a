//! The apps a user (typically a patient) has authorized, and revoking them.
//!
//! An app is "authorized" while a refresh token of the user for it lives.
//! Revoking an app deletes those refresh tokens and refuses the app's access
//! tokens of that user issued until now.

use concord_store::{timestamp, GrantRecord};
use serde_json::json;

use crate::error::AuthError;
use crate::oauth::REFRESH;
use crate::random;
use crate::server::AuthServer;

/// Grant kind: access tokens of `user` for `client` issued before
/// `data.before` (seconds) are refused. Keyed by hash of `user client`.
pub(crate) const APP_REVOKED: &str = "app_revoked";

/// One app a user has authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedApp {
    pub client_id: String,
    pub name: String,
    /// The scopes of the newest grant.
    pub scope: String,
    /// When the first live grant was made (epoch ms).
    pub since: i64,
}

pub(crate) fn app_key(user_id: &str, client_id: &str) -> String {
    random::hash_handle(&format!("{user_id} {client_id}"))
}

impl AuthServer {
    /// The apps `user_id` has live refresh tokens for, by client id.
    pub async fn authorized_apps(&self, user_id: &str) -> Result<Vec<AuthorizedApp>, AuthError> {
        let now = timestamp::now_millis();
        let grants = self
            .store()
            .grants_for(&self.ctx(), REFRESH, user_id, now)
            .await?;
        let mut apps: Vec<AuthorizedApp> = Vec::new();
        for g in grants {
            let Some(client_id) = g.client_id.clone() else {
                continue;
            };
            let scope = g.data["scope"].as_str().unwrap_or_default().to_string();
            if let Some(app) = apps.iter_mut().find(|a| a.client_id == client_id) {
                app.scope = scope;
                continue;
            }
            let name = self
                .store()
                .client_by_id(&self.ctx(), &client_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_else(|| client_id.clone());
            apps.push(AuthorizedApp {
                client_id,
                name,
                scope,
                since: g.created_at,
            });
        }
        apps.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(apps)
    }

    /// Revokes `user_id`'s authorization of `client_id`: its refresh tokens
    /// are deleted and its access tokens issued until now are refused.
    /// Returns how many refresh tokens were deleted.
    pub async fn revoke_app(&self, user_id: &str, client_id: &str) -> Result<u64, AuthError> {
        let ctx = self.ctx();
        let deleted = self
            .store()
            .delete_grants_for(&ctx, REFRESH, user_id, Some(client_id))
            .await?;
        let now = timestamp::now_millis();
        let key = app_key(user_id, client_id);
        self.store()
            .take_grant(&ctx, APP_REVOKED, &key, now)
            .await?;
        let ttl = self.config().access_token_ttl;
        let marked = self
            .store()
            .put_grant(
                &ctx,
                &GrantRecord {
                    kind: APP_REVOKED.into(),
                    handle_hash: key,
                    subject: Some(user_id.into()),
                    client_id: Some(client_id.into()),
                    data: json!({ "before": now / 1000 + 1 }),
                    created_at: now,
                    expires_at: now + (ttl + 120) * 1000,
                },
            )
            .await;
        // Cached revocation lookups are stale now (`crate::verified`).
        self.verified().revoked();
        marked?;
        tracing::info!(user = %user_id, client = %client_id, refresh_tokens = deleted, "app authorization revoked by the user");
        Ok(deleted)
    }
}
