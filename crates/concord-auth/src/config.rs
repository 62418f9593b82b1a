//! Lifetimes and limits of the security layer.

/// Settings of [`crate::AuthServer`]. All durations in seconds.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The tenant whose accounts, clients and keys are used.
    pub tenant: String,
    /// A fixed issuer URL (the FHIR base); when `None`, each request's base URL.
    pub issuer: Option<String>,
    pub access_token_ttl: i64,
    /// Tokens printed by `concord admin token`.
    pub operator_token_ttl: i64,
    pub code_ttl: i64,
    /// How long the login and approval pages stay valid.
    pub request_ttl: i64,
    pub refresh_ttl: i64,
    pub session_idle: i64,
    pub session_absolute: i64,
    /// Consecutive failed logins that lock an account.
    pub lockout_threshold: i64,
    pub lockout_seconds: i64,
    /// Longest lifetime accepted for a client assertion (SMART: 5 minutes).
    pub assertion_max_age: i64,
    /// How long a break-the-glass access lasts.
    pub break_glass_ttl: i64,
    /// How long break-the-glass alerts are kept for security officers.
    pub break_glass_alert_retention: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            tenant: concord_store::DEFAULT_TENANT.to_string(),
            issuer: None,
            access_token_ttl: 3600,
            operator_token_ttl: 900,
            code_ttl: 300,
            request_ttl: 600,
            refresh_ttl: 30 * 24 * 3600,
            session_idle: 15 * 60,
            session_absolute: 8 * 3600,
            lockout_threshold: 5,
            lockout_seconds: 15 * 60,
            assertion_max_age: 300,
            break_glass_ttl: 3600,
            break_glass_alert_retention: 400 * 24 * 3600,
        }
    }
}
