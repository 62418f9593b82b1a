//! The authorization endpoint: validating the request, remembering it while
//! the user signs in and approves, and issuing the code.

use concord_store::{timestamp, UserRecord};
use serde_json::{json, Value};

use super::{pkce, OAuthError, AUTHZ_REQUEST, CODE, LAUNCH};
use crate::random;
use crate::role::AccountKind;
use crate::scope::{Scope, ScopeContext, ScopeSet};
use crate::server::AuthServer;

/// The query of `GET /auth/authorize`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub aud: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub launch: Option<String>,
    pub nonce: Option<String>,
}

/// A refused authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRejection {
    /// The client or redirect URI cannot be trusted: show the error, never redirect.
    Show(OAuthError),
    /// Send the error back to the client's redirect URI (this full URL).
    Redirect(String),
}

/// An authorization request waiting for sign-in and approval.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAuthorization {
    /// The secret handle that names it in the login and approval forms.
    pub handle: String,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub state: String,
    /// What may be granted (requested ∩ what the client may get).
    pub scopes: ScopeSet,
    /// Patient and encounter from an EHR launch.
    pub launch_patient: Option<String>,
    pub launch_encounter: Option<String>,
    /// The user who signed in for this request, once they have.
    pub user_id: Option<String>,
}

impl PendingAuthorization {
    /// Whether the approval screen must ask which patient.
    pub fn needs_patient_choice(&self) -> bool {
        self.launch_patient.is_none()
            && (self.scopes.contains(&Scope::LaunchPatient)
                || self.scopes.has_context(ScopeContext::Patient))
    }
}

/// What the user decided on the approval screen.
#[derive(Debug, Clone, Default)]
pub struct Approval {
    /// The scopes the user kept (a subset of the pending ones).
    pub scopes: Vec<String>,
    /// The chosen patient (standalone launch), already checked to exist.
    pub patient: Option<String>,
}

/// `redirect_uri` with the given query parameters appended.
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", query.finish())
}

fn error_redirect(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
) -> AuthorizeRejection {
    let mut params = vec![
        ("error", error.error),
        ("error_description", error.description.as_str()),
    ];
    if let Some(s) = state {
        params.push(("state", s));
    }
    AuthorizeRejection::Redirect(redirect_with(redirect_uri, &params))
}

fn from_grant(handle: &str, data: &Value) -> Option<PendingAuthorization> {
    let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    Some(PendingAuthorization {
        handle: handle.to_string(),
        client_id: s("client_id")?,
        client_name: s("client_name").unwrap_or_default(),
        redirect_uri: s("redirect_uri")?,
        state: s("state").unwrap_or_default(),
        scopes: ScopeSet::parse(&s("scope")?).ok()?,
        launch_patient: s("launch_patient"),
        launch_encounter: s("launch_encounter"),
        user_id: s("user_id"),
    })
}

impl AuthServer {
    /// Creates an EHR launch context; returns the `launch` value to pass to the app.
    pub async fn create_launch(
        &self,
        patient: Option<&str>,
        encounter: Option<&str>,
    ) -> Result<String, crate::error::AuthError> {
        self.put_new_grant(
            LAUNCH,
            None,
            None,
            json!({ "patient": patient, "encounter": encounter }),
            self.config().request_ttl,
        )
        .await
    }

    /// Validates an authorization request (`base` is the FHIR base URL the
    /// app must name as `aud`) and remembers it; returns it with its handle.
    pub async fn begin_authorization(
        &self,
        p: &AuthorizeParams,
        base: &str,
    ) -> Result<PendingAuthorization, AuthorizeRejection> {
        let show = |e: OAuthError| AuthorizeRejection::Show(e);
        let client_id = p
            .client_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| show(OAuthError::invalid_request("client_id is required")))?;
        let client = self.client(client_id).await.map_err(show)?.ok_or_else(|| {
            show(OAuthError::unauthorized_client(
                "unknown or inactive client",
            ))
        })?;
        let redirect_uri = match (&p.redirect_uri, client.redirect_uris.as_slice()) {
            (Some(uri), registered) if registered.iter().any(|r| r == uri) => uri.clone(),
            (None, [only]) => only.clone(),
            (Some(_), _) => {
                return Err(show(OAuthError::invalid_request(
                    "redirect_uri does not match a URI registered for this client",
                )))
            }
            (None, _) => {
                return Err(show(OAuthError::invalid_request(
                    "redirect_uri is required",
                )))
            }
        };
        let state = p.state.as_deref();
        let fail = |e: OAuthError| error_redirect(&redirect_uri, &e, state);
        if p.response_type.as_deref() != Some("code") {
            return Err(fail(OAuthError::new(
                "unsupported_response_type",
                "response_type must be code",
            )));
        }
        let Some(state) = state.filter(|s| !s.is_empty()) else {
            return Err(fail(OAuthError::invalid_request("state is required")));
        };
        match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if pkce::valid_challenge(c) => {}
            (Some(_), Some("S256")) => {
                return Err(fail(OAuthError::invalid_request(
                    "code_challenge must be the base64url SHA-256 of the code verifier",
                )))
            }
            _ => {
                return Err(fail(OAuthError::invalid_request(
                    "PKCE is required: code_challenge with code_challenge_method=S256",
                )))
            }
        }
        let base = base.trim_end_matches('/');
        match p.aud.as_deref().map(|a| a.trim_end_matches('/')) {
            Some(aud) if aud == base => {}
            Some(_) => {
                return Err(fail(OAuthError::invalid_request(
                    "aud must be this server's FHIR base URL",
                )))
            }
            None => return Err(fail(OAuthError::invalid_request("aud is required"))),
        }
        let requested = ScopeSet::parse(p.scope.as_deref().unwrap_or_default())
            .map_err(|e| fail(OAuthError::invalid_scope(e)))?;
        let allowed = ScopeSet::parse(&client.allowed_scopes).unwrap_or_default();
        let mut scopes = requested.narrowed_to(&allowed);
        // Users never get system/ scopes.
        scopes.retain(|s| !matches!(s, Scope::Resource(r) if r.context == ScopeContext::System));
        if !scopes.iter().any(|s| matches!(s, Scope::Resource(_))) {
            return Err(fail(OAuthError::invalid_scope(
                "none of the requested resource scopes is allowed for this client",
            )));
        }
        let (mut launch_patient, mut launch_encounter) = (None, None);
        if let Some(launch) = p.launch.as_deref() {
            let now = timestamp::now_millis();
            let grant = self
                .store()
                .grant(&self.ctx(), LAUNCH, &random::hash_handle(launch), now)
                .await
                .map_err(|e| fail(e.into()))?
                .ok_or_else(|| fail(OAuthError::invalid_request("unknown or expired launch")))?;
            launch_patient = grant.data["patient"].as_str().map(str::to_string);
            launch_encounter = grant.data["encounter"].as_str().map(str::to_string);
        } else {
            scopes.retain(|s| *s != Scope::Launch);
        }
        let data = json!({
            "client_id": client.client_id,
            "client_name": client.name,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": scopes.to_string(),
            "code_challenge": p.code_challenge,
            "nonce": p.nonce,
            "launch_patient": launch_patient,
            "launch_encounter": launch_encounter,
        });
        let handle = self
            .put_new_grant(
                AUTHZ_REQUEST,
                None,
                Some(&client.client_id),
                data.clone(),
                self.config().request_ttl,
            )
            .await
            .map_err(|e| fail(e.into()))?;
        from_grant(&handle, &data).ok_or_else(|| fail(OAuthError::server_error()))
    }

    /// A pending request by its handle.
    pub async fn pending(&self, handle: &str) -> Result<Option<PendingAuthorization>, OAuthError> {
        let now = timestamp::now_millis();
        let grant = self
            .store()
            .grant(
                &self.ctx(),
                AUTHZ_REQUEST,
                &random::hash_handle(handle),
                now,
            )
            .await?;
        Ok(grant.and_then(|g| from_grant(handle, &g.data)))
    }

    /// Binds a pending request to the user who signed in for it.
    pub async fn attach_user(&self, handle: &str, user_id: &str) -> Result<(), OAuthError> {
        let now = timestamp::now_millis();
        let hash = random::hash_handle(handle);
        let Some(mut grant) = self
            .store()
            .take_grant(&self.ctx(), AUTHZ_REQUEST, &hash, now)
            .await?
        else {
            return Err(OAuthError::invalid_request(
                "the sign-in request expired; start again",
            ));
        };
        grant.data["user_id"] = json!(user_id);
        grant.subject = Some(user_id.into());
        self.store().put_grant(&self.ctx(), &grant).await?;
        Ok(())
    }

    /// The user declined: the redirect carrying `access_denied`.
    pub async fn deny(&self, handle: &str) -> Result<String, OAuthError> {
        let now = timestamp::now_millis();
        let grant = self
            .store()
            .take_grant(
                &self.ctx(),
                AUTHZ_REQUEST,
                &random::hash_handle(handle),
                now,
            )
            .await?
            .ok_or_else(|| OAuthError::invalid_request("the request expired; start again"))?;
        let pending = from_grant(handle, &grant.data).ok_or_else(OAuthError::server_error)?;
        let e = OAuthError::new("access_denied", "the user declined the request");
        match error_redirect(&pending.redirect_uri, &e, Some(&pending.state)) {
            AuthorizeRejection::Redirect(url) => Ok(url),
            AuthorizeRejection::Show(e) => Err(e),
        }
    }

    /// The user approved: issues the code and returns the redirect URL.
    /// `user` must be the session's user; `auth_time` its sign-in time.
    pub async fn approve(
        &self,
        handle: &str,
        user: &UserRecord,
        auth_time: i64,
        approval: &Approval,
    ) -> Result<String, OAuthError> {
        let now = timestamp::now_millis();
        let grant = self
            .store()
            .take_grant(
                &self.ctx(),
                AUTHZ_REQUEST,
                &random::hash_handle(handle),
                now,
            )
            .await?
            .ok_or_else(|| OAuthError::invalid_request("the request expired; start again"))?;
        let pending = from_grant(handle, &grant.data).ok_or_else(OAuthError::server_error)?;
        if pending.user_id.as_deref() != Some(user.id.as_str()) {
            return Err(OAuthError::new(
                "access_denied",
                "this request belongs to another sign-in",
            ));
        }
        let kind = AccountKind::from_parts(&user.kind, user.role.as_deref(), &user.patients)
            .ok_or_else(OAuthError::server_error)?;
        // Keep only pending scopes the user ticked.
        let mut granted = ScopeSet::default();
        for s in pending.scopes.iter() {
            if approval.scopes.iter().any(|kept| *kept == s.to_string()) {
                granted.insert(s.clone());
            }
        }
        let patient = match (&pending.launch_patient, &kind) {
            (Some(p), _) => Some(p.clone()),
            (None, AccountKind::Patient { patient }) => Some(patient.clone()),
            (None, AccountKind::Proxy { patients }) => match &approval.patient {
                Some(p) if patients.contains(p) => Some(p.clone()),
                Some(_) => {
                    return Err(OAuthError::new(
                        "access_denied",
                        "that patient is not linked to this account",
                    ))
                }
                None if patients.len() == 1 => patients.first().cloned(),
                None => None,
            },
            (None, AccountKind::Staff(_)) => approval.patient.clone(),
        };
        if patient.is_none()
            && (granted.has_context(ScopeContext::Patient)
                || granted.contains(&Scope::LaunchPatient))
        {
            return Err(OAuthError::invalid_request(
                "choose a patient for patient-level access",
            ));
        }
        let code_challenge = grant.data["code_challenge"].as_str().unwrap_or_default();
        let need_banner = pending.launch_patient.is_none();
        let code = self
            .put_new_grant(
                CODE,
                Some(&user.id),
                Some(&pending.client_id),
                json!({
                    "redirect_uri": pending.redirect_uri,
                    "code_challenge": code_challenge,
                    "scope": granted.to_string(),
                    "patient": patient,
                    "encounter": pending.launch_encounter,
                    "need_patient_banner": need_banner,
                    "nonce": grant.data["nonce"],
                    "auth_time": auth_time,
                }),
                self.config().code_ttl,
            )
            .await?;
        Ok(redirect_with(
            &pending.redirect_uri,
            &[("code", code.as_str()), ("state", pending.state.as_str())],
        ))
    }
}
