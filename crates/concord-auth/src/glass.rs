//! Break-the-glass: time-limited emergency access of a clinician to a
//! patient outside their care team, with an alert for security officers.
//!
//! Both are grants in the [`concord_store::AuthStore`]: the access grant
//! (subject: the user; data: patient, reason, until) expires with the
//! access; the alert (subject: [`ALERTS`]) is kept for
//! [`crate::AuthConfig::break_glass_alert_retention`].

use concord_store::{timestamp, GrantRecord};
use serde_json::{json, Value};

use crate::error::AuthError;
use crate::random;
use crate::server::AuthServer;

/// Grant kind of an active emergency access.
pub(crate) const BREAK_GLASS: &str = "break_glass";
/// Grant kind of a security alert.
pub(crate) const GLASS_ALERT: &str = "break_glass_alert";
/// The subject every alert is filed under (so they list together).
const ALERTS: &str = "security-alerts";

/// An emergency access just granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlassAccess {
    pub patient: String,
    /// Epoch milliseconds.
    pub until: i64,
    /// The alert's id.
    pub alert_id: String,
}

impl AuthServer {
    /// Grants `user_id` emergency access to `patient` for the configured
    /// time and files an alert. `reason` must not be blank.
    pub async fn break_glass(
        &self,
        user_id: &str,
        patient: &str,
        reason: &str,
    ) -> Result<GlassAccess, AuthError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AuthError::Invalid("a reason is required".into()));
        }
        let now = timestamp::now_millis();
        let until = now + self.config().break_glass_ttl * 1000;
        let alert_id = uuid::Uuid::new_v4().to_string();
        let data = json!({
            "id": alert_id,
            "user": user_id,
            "patient": patient,
            "reason": reason,
            "at": now,
            "until": until,
        });
        let ctx = self.ctx();
        self.store()
            .put_grant(
                &ctx,
                &GrantRecord {
                    kind: BREAK_GLASS.into(),
                    handle_hash: random::hash_handle(&alert_id),
                    subject: Some(user_id.into()),
                    client_id: None,
                    data: data.clone(),
                    created_at: now,
                    expires_at: until,
                },
            )
            .await?;
        self.store()
            .put_grant(
                &ctx,
                &GrantRecord {
                    kind: GLASS_ALERT.into(),
                    handle_hash: random::hash_handle(&format!("alert {alert_id}")),
                    subject: Some(ALERTS.into()),
                    client_id: None,
                    data,
                    created_at: now,
                    expires_at: now + self.config().break_glass_alert_retention * 1000,
                },
            )
            .await?;
        tracing::warn!(user = %user_id, alert = %alert_id, "break-the-glass access granted");
        Ok(GlassAccess {
            patient: patient.to_string(),
            until,
            alert_id,
        })
    }

    /// The patients `user_id` has live emergency access to.
    pub async fn glass_patients(&self, user_id: &str) -> Result<Vec<String>, AuthError> {
        let now = timestamp::now_millis();
        let grants = self
            .store()
            .grants_for(&self.ctx(), BREAK_GLASS, user_id, now)
            .await?;
        let mut out: Vec<String> = grants
            .iter()
            .filter_map(|g| g.data["patient"].as_str().map(str::to_string))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every retained break-the-glass alert, oldest first: `id`, `user`,
    /// `patient`, `reason`, `at`, `until` (epoch ms).
    pub async fn glass_alerts(&self) -> Result<Vec<Value>, AuthError> {
        let now = timestamp::now_millis();
        let grants = self
            .store()
            .grants_for(&self.ctx(), GLASS_ALERT, ALERTS, now)
            .await?;
        Ok(grants.into_iter().map(|g| g.data).collect())
    }
}
