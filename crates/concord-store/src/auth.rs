//! Storage contract for the security layer's own bookkeeping: accounts,
//! registered clients, short-lived grants (login sessions, authorization
//! codes, refresh tokens, launch contexts, revocations) and the server's
//! signing keys. Clinical data never goes here; these rows are not FHIR.
//!
//! The store knows nothing of roles or scopes: it keeps what `concord-auth`
//! hands it. Secrets are stored only as hashes (passwords: Argon2id PHC
//! strings; tokens and codes: SHA-256 of the random handle).

use async_trait::async_trait;

use crate::{StoreResult, TenantContext};

/// A user account (staff, patient or proxy), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable account id (server-assigned).
    pub id: String,
    /// Login name, unique per tenant (stored as given; compared exactly).
    pub username: String,
    /// `staff`, `patient` or `proxy`.
    pub kind: String,
    /// Staff role code (e.g. `physician`); `None` for patients and proxies.
    pub role: Option<String>,
    /// Patient ids the account acts for: the patient's own (patient) or the
    /// children's (proxy). Empty for staff.
    pub patients: Vec<String>,
    /// FHIR reference of the person, e.g. `Practitioner/123` (`fhirUser`).
    pub fhir_user: Option<String>,
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// TOTP shared secret (raw bytes, hex encoded), when enrolled.
    pub totp_secret: Option<String>,
    pub active: bool,
    /// The user must choose a new password at next login (after an admin reset).
    pub must_change_password: bool,
    /// Consecutive failed logins since the last success.
    pub failed_logins: i64,
    /// Epoch milliseconds until which logins are refused.
    pub locked_until: Option<i64>,
    pub created_at: i64,
    pub last_login: Option<i64>,
}

/// An OAuth client registered by an administrator, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub name: String,
    /// `public`, `confidential-symmetric` or `confidential-asymmetric`.
    pub client_type: String,
    /// SHA-256 (hex) of the client secret, for confidential-symmetric clients.
    pub secret_hash: Option<String>,
    /// Exact redirect URIs allowed.
    pub redirect_uris: Vec<String>,
    /// The most the client may ever be granted (space-separated SMART scopes).
    pub allowed_scopes: String,
    /// Inline JWK Set (JSON text) for confidential-asymmetric clients.
    pub jwks: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

/// A short-lived grant: a login session, an authorization request or code, a
/// refresh token, a launch context, a revoked token id, a used assertion id.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    /// What it is (`session`, `code`, `refresh`, `launch`, …), chosen by the caller.
    pub kind: String,
    /// SHA-256 (hex) of the secret handle given to the holder; never the handle.
    pub handle_hash: String,
    /// The account it belongs to, if any.
    pub subject: Option<String>,
    /// The client it was issued to, if any.
    pub client_id: Option<String>,
    /// Everything else, owned by `concord-auth`.
    pub data: serde_json::Value,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds; expired grants are never returned.
    pub expires_at: i64,
}

/// A key the server signs tokens with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// JOSE algorithm, e.g. `ES256`.
    pub alg: String,
    /// Private key, PKCS#8 DER.
    pub private_der: Vec<u8>,
    /// Public key as a JWK (JSON text).
    pub public_jwk: String,
    pub created_at: i64,
}

/// Accounts, clients, grants and keys: every backend implements this beside
/// [`crate::Store`]. Every call is scoped to `ctx.tenant`.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Adds an account; `StoreError::AlreadyExists` if the id or username is taken.
    async fn create_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<()>;
    /// Replaces an account's record (matched by id); `false` if there is none.
    async fn update_user(&self, ctx: &TenantContext, user: &UserRecord) -> StoreResult<bool>;
    async fn user_by_id(&self, ctx: &TenantContext, id: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_username(
        &self,
        ctx: &TenantContext,
        username: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// Every account of the tenant, by username.
    async fn list_users(&self, ctx: &TenantContext) -> StoreResult<Vec<UserRecord>>;
    /// Atomically counts one failed login; when the count reaches `threshold`
    /// the account is locked until `lock_until` (epoch ms). Returns the new count
    /// (0 if there is no such account).
    async fn record_login_failure(
        &self,
        ctx: &TenantContext,
        id: &str,
        threshold: i64,
        lock_until: i64,
    ) -> StoreResult<i64>;
    /// Clears the failure count and lock and records the login time.
    async fn record_login_success(&self, ctx: &TenantContext, id: &str, at: i64)
        -> StoreResult<()>;

    /// Adds a client; `StoreError::AlreadyExists` if the id is taken.
    async fn create_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<()>;
    /// Replaces a client's record; `false` if there is none.
    async fn update_client(&self, ctx: &TenantContext, client: &ClientRecord) -> StoreResult<bool>;
    async fn client_by_id(
        &self,
        ctx: &TenantContext,
        client_id: &str,
    ) -> StoreResult<Option<ClientRecord>>;
    async fn list_clients(&self, ctx: &TenantContext) -> StoreResult<Vec<ClientRecord>>;

    /// Stores a grant; `StoreError::AlreadyExists` if (kind, handle_hash) exists.
    async fn put_grant(&self, ctx: &TenantContext, grant: &GrantRecord) -> StoreResult<()>;
    /// A grant that has not expired at `now`.
    async fn grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>>;
    /// Removes and returns a grant in one step, so a one-time grant (an
    /// authorization code, a rotated refresh token) is redeemed at most once,
    /// even by concurrent callers. Expired grants are removed but not returned.
    async fn take_grant(
        &self,
        ctx: &TenantContext,
        kind: &str,
        handle_hash: &str,
        now: i64,
    ) -> StoreResult<Option<GrantRecord>>;
    /// Removes grants of `kind` belonging to `subject` (all clients when
    /// `client_id` is `None`). Returns how many.
    async fn delete_grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        client_id: Option<&str>,
    ) -> StoreResult<u64>;
    /// Live grants of `kind` belonging to `subject`, oldest first.
    async fn grants_for(
        &self,
        ctx: &TenantContext,
        kind: &str,
        subject: &str,
        now: i64,
    ) -> StoreResult<Vec<GrantRecord>>;
    /// Deletes every grant expired at `now`; returns how many.
    async fn purge_expired_grants(&self, ctx: &TenantContext, now: i64) -> StoreResult<u64>;

    /// Adds a signing key; `false` (and no change) if the kid exists.
    async fn add_signing_key(
        &self,
        ctx: &TenantContext,
        key: &SigningKeyRecord,
    ) -> StoreResult<bool>;
    /// Every signing key, newest first (the first signs; all verify).
    async fn signing_keys(&self, ctx: &TenantContext) -> StoreResult<Vec<SigningKeyRecord>>;
}
