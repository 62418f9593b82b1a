//! Account management (add, list, disable, reset) and sign-in checks
//! (password, lockout, TOTP).

use concord_store::{timestamp, StoreError, UserRecord};
use serde_json::json;

use crate::error::AuthError;
use crate::role::AccountKind;
use crate::server::AuthServer;
use crate::{password, random, totp};

/// Grant kind marking a TOTP time step as used.
const TOTP_USED: &str = "totp_used";
/// Grant kind: tokens of this user issued before `data.before` are refused.
pub(crate) const USER_REVOKED: &str = "user_revoked";

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub password: String,
    pub fhir_user: Option<String>,
    /// Enrol TOTP now (always for staff).
    pub with_totp: bool,
}

/// The created account and, when TOTP was enrolled, its secret (shown once).
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: UserRecord,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_uri: Option<String>,
}

/// Why a sign-in failed. Messages are for the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    InvalidCredentials,
    Locked,
    Disabled,
    TotpRequired,
    TotpInvalid,
    TotpNotEnrolled,
    PasswordChangeRequired,
    PasswordPolicy(String),
    Internal,
}

impl LoginError {
    /// A stable machine-readable code (also on the login page).
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::InvalidCredentials => "invalid_credentials",
            LoginError::Locked => "account_locked",
            LoginError::Disabled => "account_disabled",
            LoginError::TotpRequired => "totp_required",
            LoginError::TotpInvalid => "totp_invalid",
            LoginError::TotpNotEnrolled => "totp_not_enrolled",
            LoginError::PasswordChangeRequired => "password_change_required",
            LoginError::PasswordPolicy(_) => "password_policy",
            LoginError::Internal => "server_error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            LoginError::InvalidCredentials => "Wrong username or password.".into(),
            LoginError::Locked => {
                "This account is locked after too many failed sign-ins. Try again later or ask an administrator.".into()
            }
            LoginError::Disabled => "This account has been deactivated.".into(),
            LoginError::TotpRequired => "Enter the 6-digit code from your authenticator app.".into(),
            LoginError::TotpInvalid => "The authenticator code is wrong, expired or already used.".into(),
            LoginError::TotpNotEnrolled => {
                "Two-factor sign-in is required but not set up for this account; ask an administrator.".into()
            }
            LoginError::PasswordChangeRequired => {
                "Your password was reset: choose a new password.".into()
            }
            LoginError::PasswordPolicy(m) => m.clone(),
            LoginError::Internal => "Sign-in is unavailable right now.".into(),
        }
    }
}

fn kind_of(user: &UserRecord) -> Option<AccountKind> {
    AccountKind::from_parts(&user.kind, user.role.as_deref(), &user.patients)
}

fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
}

impl AuthServer {
    /// Adds an account. Staff always get TOTP.
    pub async fn add_user(&self, new: NewUser) -> Result<CreatedUser, AuthError> {
        if !valid_username(&new.username) {
            return Err(AuthError::Invalid(
                "usernames are 3–64 characters: letters, digits, . _ - @".into(),
            ));
        }
        password::check_policy(&new.password)?;
        if let AccountKind::Proxy { patients } = &new.kind {
            if patients.is_empty() {
                return Err(AuthError::Invalid(
                    "a proxy needs at least one patient".into(),
                ));
            }
        }
        let with_totp = new.with_totp || matches!(new.kind, AccountKind::Staff(_));
        let secret = if with_totp {
            Some(random::bytes(20)?)
        } else {
            None
        };
        let fhir_user = new.fhir_user.or_else(|| match &new.kind {
            AccountKind::Patient { patient } => Some(format!("Patient/{patient}")),
            _ => None,
        });
        let user = UserRecord {
            id: uuid::Uuid::new_v4().to_string(),
            username: new.username.clone(),
            kind: new.kind.code().into(),
            role: match &new.kind {
                AccountKind::Staff(r) => Some(r.code().into()),
                _ => None,
            },
            patients: new.kind.patients(),
            fhir_user,
            display_name: new.display_name,
            password_hash: password::hash(&new.password)?,
            totp_secret: secret.as_ref().map(hex::encode),
            active: true,
            must_change_password: false,
            failed_logins: 0,
            locked_until: None,
            created_at: timestamp::now_millis(),
            last_login: None,
        };
        match self.store().create_user(&self.ctx(), &user).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                return Err(AuthError::Conflict(format!("user {}", new.username)))
            }
            Err(e) => return Err(e.into()),
        }
        let totp_uri = secret
            .as_ref()
            .map(|s| totp::provisioning_uri("Concord", &user.username, s));
        Ok(CreatedUser {
            user,
            totp_secret: secret,
            totp_uri,
        })
    }

    pub async fn list_users(&self) -> Result<Vec<UserRecord>, AuthError> {
        Ok(self.store().list_users(&self.ctx()).await?)
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, AuthError> {
        Ok(self.store().user_by_id(&self.ctx(), id).await?)
    }

    async fn user_named(&self, username: &str) -> Result<UserRecord, AuthError> {
        self.store()
            .user_by_username(&self.ctx(), username)
            .await?
            .ok_or_else(|| AuthError::NotFound(format!("user {username}")))
    }

    /// Ends every session and refresh token of the user and refuses access
    /// tokens issued before now.
    pub(crate) async fn revoke_everything_of(&self, user_id: &str) -> Result<(), AuthError> {
        let ctx = self.ctx();
        for kind in [crate::sessions::SESSION, crate::oauth::REFRESH] {
            self.store()
                .delete_grants_for(&ctx, kind, user_id, None)
                .await?;
        }
        let now = timestamp::now_millis();
        let hash = random::hash_handle(user_id);
        self.store()
            .take_grant(&ctx, USER_REVOKED, &hash, now)
            .await?;
        let ttl = self
            .config()
            .access_token_ttl
            .max(self.config().operator_token_ttl);
        let marked = self
            .store()
            .put_grant(
                &ctx,
                &concord_store::GrantRecord {
                    kind: USER_REVOKED.into(),
                    handle_hash: hash,
                    subject: Some(user_id.into()),
                    client_id: None,
                    data: json!({ "before": now / 1000 + 1 }),
                    created_at: now,
                    expires_at: now + (ttl + 120) * 1000,
                },
            )
            .await;
        // Cached revocation lookups are stale now (`crate::verified`).
        self.verified().revoked();
        marked?;
        Ok(())
    }

    /// Deactivates an account: sign-in refused, sessions and tokens revoked.
    pub async fn disable_user(&self, username: &str) -> Result<(), AuthError> {
        let mut user = self.user_named(username).await?;
        user.active = false;
        self.store().update_user(&self.ctx(), &user).await?;
        self.revoke_everything_of(&user.id).await
    }

    /// Re-activates an account.
    pub async fn enable_user(&self, username: &str) -> Result<(), AuthError> {
        let mut user = self.user_named(username).await?;
        user.active = true;
        user.failed_logins = 0;
        user.locked_until = None;
        self.store().update_user(&self.ctx(), &user).await?;
        Ok(())
    }

    /// Administrator reset: sets a temporary password the user must change
    /// at next sign-in, unlocks, and revokes sessions and tokens.
    pub async fn reset_password(&self, username: &str, temporary: &str) -> Result<(), AuthError> {
        password::check_policy(temporary)?;
        let mut user = self.user_named(username).await?;
        user.password_hash = password::hash(temporary)?;
        user.must_change_password = true;
        user.failed_logins = 0;
        user.locked_until = None;
        self.store().update_user(&self.ctx(), &user).await?;
        self.revoke_everything_of(&user.id).await
    }

    /// Checks a sign-in. `new_password` completes a required password change.
    pub async fn login(
        &self,
        username: &str,
        password_text: &str,
        totp_code: Option<&str>,
        new_password: Option<&str>,
    ) -> Result<UserRecord, LoginError> {
        let ctx = self.ctx();
        let internal = |e: StoreError| {
            tracing::error!(error = %e, "sign-in store error");
            LoginError::Internal
        };
        let Some(user) = self
            .store()
            .user_by_username(&ctx, username)
            .await
            .map_err(internal)?
        else {
            password::verify_dummy(password_text);
            return Err(LoginError::InvalidCredentials);
        };
        let now = timestamp::now_millis();
        if user.locked_until.is_some_and(|t| t > now) {
            password::verify_dummy(password_text);
            return Err(LoginError::Locked);
        }
        let lock_until = now + self.config().lockout_seconds * 1000;
        let fail = |err: LoginError| async {
            let count = self
                .store()
                .record_login_failure(&ctx, &user.id, self.config().lockout_threshold, lock_until)
                .await
                .map_err(internal)?;
            tracing::info!(user = %user.id, failures = count, reason = err.code(), "sign-in failed");
            if count >= self.config().lockout_threshold {
                Err(LoginError::Locked)
            } else {
                Err(err)
            }
        };
        if !password::verify(password_text, &user.password_hash) {
            return fail(LoginError::InvalidCredentials).await;
        }
        if !user.active {
            return Err(LoginError::Disabled);
        }
        let kind = kind_of(&user).ok_or(LoginError::Internal)?;
        let needs_totp = matches!(kind, AccountKind::Staff(_)) || user.totp_secret.is_some();
        if needs_totp {
            let Some(secret_hex) = &user.totp_secret else {
                return Err(LoginError::TotpNotEnrolled);
            };
            let secret = hex::decode(secret_hex).map_err(|_| LoginError::Internal)?;
            let Some(code) = totp_code.filter(|c| !c.trim().is_empty()) else {
                return Err(LoginError::TotpRequired);
            };
            let unix = u64::try_from(now / 1000).unwrap_or(0);
            let Some(step) = totp::verify(&secret, code, unix) else {
                return fail(LoginError::TotpInvalid).await;
            };
            let fresh = self
                .mark_once(
                    TOTP_USED,
                    &format!("{}:{step}", user.id),
                    Some(&user.id),
                    json!({}),
                    now + 4 * 30 * 1000,
                )
                .await
                .map_err(|_| LoginError::Internal)?;
            if !fresh {
                return fail(LoginError::TotpInvalid).await;
            }
        }
        let mut user = user;
        if user.must_change_password {
            let Some(new) = new_password.filter(|p| !p.is_empty()) else {
                return Err(LoginError::PasswordChangeRequired);
            };
            password::check_policy(new).map_err(|e| LoginError::PasswordPolicy(e.to_string()))?;
            if new == password_text {
                return Err(LoginError::PasswordPolicy(
                    "the new password must differ from the temporary one".into(),
                ));
            }
            user.password_hash = password::hash(new).map_err(|_| LoginError::Internal)?;
            user.must_change_password = false;
            self.store()
                .update_user(&ctx, &user)
                .await
                .map_err(internal)?;
        }
        self.store()
            .record_login_success(&ctx, &user.id, now)
            .await
            .map_err(internal)?;
        Ok(user)
    }
}
