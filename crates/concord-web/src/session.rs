//! [`Staff`]: the signed-in member of staff of one page request, with the
//! access policy every engine call of the page carries.
//!
//! The extractor reads the session cookie, asks the authorization server
//! for the session's user (extending its idle timeout; an expired or
//! unknown session, or a deactivated account, sends the browser to the
//! sign-in page), and loads the user's access policy with
//! [`concord_core::policy::load`] — the same loader and decisions the FHIR
//! API's bearer-token guard uses. [`Staff::ctx`] is the confined context:
//! pages read and write through the engine with it and nothing else.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use concord_auth::{AccountKind, Principal, Role, ScopeSet, Subject};
use concord_core::audit::{Action, Agent};
use concord_core::policy::{self, RequestPolicy};
use concord_store::{AccessPolicy, TenantContext};

use crate::audit::{AuditNote, RequestMeta};
use crate::error::WebError;
use crate::{cookies, csrf, paths, WebState};

/// The scope a web session carries: everything, so the role's row of the
/// permission matrix (and care team, consent) decides alone.
const SESSION_SCOPES: &str = "user/*.cruds";

/// A signed-in member of staff, for one request.
#[derive(Clone)]
pub struct Staff {
    /// Account id.
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
    /// `Practitioner/…` of the account, when linked.
    pub fhir_user: Option<String>,
    pub principal: Principal,
    pub policy: Arc<RequestPolicy>,
    /// The confined store context: every page read and write uses it.
    pub ctx: TenantContext,
    /// The CSRF token to put in every form ([`crate::form::csrf_field`]).
    pub csrf: String,
    pub request_id: String,
    note: AuditNote,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("user_id", &self.user_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Staff {
    /// Says what this request did, for its AuditEvent (one per request):
    /// the interaction (`read`, `search-type`, `create`, `update`, …), the
    /// resource (`Type/id`) and the patients whose data it touched. A page
    /// that never calls it is audited as a plain page view.
    pub fn audit(
        &self,
        interaction: &'static str,
        action: Action,
        resource: Option<String>,
        patients: &[&str],
    ) {
        self.note.set(interaction, action, resource, patients);
    }

    /// May the role do `letter` (`c r u d s`) on `resource_type` at all (the
    /// permission matrix)? For menus and buttons; the engine decides again.
    pub fn may(&self, letter: char, resource_type: &str) -> bool {
        role_may(self.role, letter, resource_type)
    }
}

/// The permission matrix, for one staff role.
pub fn role_may(role: Role, letter: char, resource_type: &str) -> bool {
    concord_auth::matrix::permitted_for_type(
        concord_auth::matrix::MatrixRow::Staff(role),
        resource_type,
    )
    .has(letter)
}

fn to_login(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(paths::HOME);
    Redirect::to(&paths::login_then(next)).into_response()
}

impl FromRequestParts<WebState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Staff, Response> {
        let meta = parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or_default();
        let Some(auth) = &state.auth else {
            return Err(WebError::AuthDisabled.into_response());
        };
        let Some(handle) = cookies::get(&parts.headers, cookies::SESSION).filter(|h| !h.is_empty())
        else {
            return Err(to_login(parts));
        };
        let user = match auth.session_user(&handle).await {
            Ok(Some((user, _))) => user,
            Ok(None) => return Err(to_login(parts)),
            Err(e) => {
                tracing::error!(request_id = %meta.request_id, error = %e, "session lookup failed");
                return Err(WebError::Internal(meta.request_id.clone()).into_response());
            }
        };
        let Some(AccountKind::Staff(role)) =
            AccountKind::from_parts(&user.kind, user.role.as_deref(), &user.patients)
        else {
            return Err(
                WebError::Forbidden("This workspace is for staff accounts.".into()).into_response(),
            );
        };
        let scopes = ScopeSet::parse(SESSION_SCOPES)
            .map_err(|_| WebError::Internal(meta.request_id.clone()).into_response())?;
        let principal = Principal {
            subject: Subject::User {
                id: user.id.clone(),
                kind: AccountKind::Staff(role),
            },
            scopes,
            client_id: None,
            patient: None,
            encounter: None,
            fhir_user: user.fhir_user.clone(),
            token_id: None,
        };
        meta.note.agent(Agent {
            who: principal.actor_id(),
            name: Some(user.display_name.clone()),
            fhir_user: user.fhir_user.clone(),
            client_id: None,
            role: Some(role.code().to_string()),
        });
        let policy = policy::load(
            &state.engine,
            &state.system_context(&meta.request_id),
            Some(auth),
            principal.clone(),
        )
        .await
        .map_err(|e| WebError::from_core(e, &meta.request_id).into_response())?;
        let policy = Arc::new(policy);
        let mut ctx = state
            .system_context(&meta.request_id)
            .with_access(policy.clone());
        ctx.actor = policy.actor();
        Ok(Staff {
            user_id: user.id,
            display_name: user.display_name,
            role,
            fhir_user: user.fhir_user,
            principal,
            policy,
            ctx,
            csrf: csrf::token_for(&handle),
            request_id: meta.request_id,
            note: meta.note,
        })
    }
}
