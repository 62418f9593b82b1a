//! Sign-in sessions of the authorization server (the login cookie), with
//! idle and absolute timeouts.

use concord_store::{timestamp, GrantRecord, UserRecord};
use serde_json::json;

use crate::error::AuthError;
use crate::random;
use crate::server::AuthServer;

pub(crate) const SESSION: &str = "session";

impl AuthServer {
    /// Starts a session for a signed-in user; returns the cookie value.
    pub async fn start_session(&self, user_id: &str) -> Result<String, AuthError> {
        let now = timestamp::now_millis();
        let cfg = self.config();
        let handle = random::handle()?;
        self.store()
            .put_grant(
                &self.ctx(),
                &GrantRecord {
                    kind: SESSION.into(),
                    handle_hash: random::hash_handle(&handle),
                    subject: Some(user_id.into()),
                    client_id: None,
                    data: json!({ "auth_time": now / 1000, "absolute_end": now + cfg.session_absolute * 1000 }),
                    created_at: now,
                    expires_at: now + cfg.session_idle.min(cfg.session_absolute) * 1000,
                },
            )
            .await?;
        Ok(handle)
    }

    /// The active user of a session, extending its idle timeout; `None` when
    /// the session is unknown, timed out, or its user is deactivated.
    pub async fn session_user(&self, handle: &str) -> Result<Option<(UserRecord, i64)>, AuthError> {
        let ctx = self.ctx();
        let now = timestamp::now_millis();
        let hash = random::hash_handle(handle);
        let Some(mut grant) = self.store().take_grant(&ctx, SESSION, &hash, now).await? else {
            return Ok(None);
        };
        let absolute_end = grant.data["absolute_end"].as_i64().unwrap_or(0);
        let auth_time = grant.data["auth_time"].as_i64().unwrap_or(0);
        if absolute_end <= now {
            return Ok(None);
        }
        let Some(user_id) = grant.subject.clone() else {
            return Ok(None);
        };
        let Some(user) = self.store().user_by_id(&ctx, &user_id).await? else {
            return Ok(None);
        };
        if !user.active {
            return Ok(None);
        }
        grant.expires_at = (now + self.config().session_idle * 1000).min(absolute_end);
        self.store().put_grant(&ctx, &grant).await?;
        Ok(Some((user, auth_time)))
    }

    /// Signs out.
    pub async fn end_session(&self, handle: &str) -> Result<(), AuthError> {
        let now = timestamp::now_millis();
        self.store()
            .take_grant(&self.ctx(), SESSION, &random::hash_handle(handle), now)
            .await?;
        Ok(())
    }
}
