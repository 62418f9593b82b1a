//! Minting access, refresh and ID tokens.

use concord_store::{timestamp, UserRecord};
use serde_json::{json, Map, Value};

use super::{OAuthError, REFRESH};
use crate::error::AuthError;
use crate::scope::{Scope, ScopeSet};
use crate::server::{now_seconds, AuthServer};
use crate::token::{sign, AccessClaims, IdClaims};

/// Launch context carried from the code (or refresh token) into tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub patient: Option<String>,
    pub encounter: Option<String>,
    pub need_patient_banner: bool,
    pub nonce: Option<String>,
    pub auth_time: Option<i64>,
}

impl Context {
    pub fn from_data(data: &Value) -> Context {
        let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
        Context {
            patient: s("patient"),
            encounter: s("encounter"),
            need_patient_banner: data["need_patient_banner"].as_bool().unwrap_or(false),
            nonce: s("nonce"),
            auth_time: data["auth_time"].as_i64(),
        }
    }
}

impl AuthServer {
    pub(crate) async fn access_claims_for_user(
        &self,
        issuer: &str,
        user: &UserRecord,
        client_id: &str,
        scopes: &ScopeSet,
        ctx: &Context,
    ) -> AccessClaims {
        let now = now_seconds();
        AccessClaims {
            iss: issuer.to_string(),
            sub: user.id.clone(),
            aud: issuer.to_string(),
            exp: now + self.config().access_token_ttl,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: scopes.to_string(),
            client_id: Some(client_id.to_string()),
            kind: "user".into(),
            acct: Some(user.kind.clone()),
            role: user.role.clone(),
            patients: user.patients.clone(),
            patient: ctx.patient.clone(),
            encounter: ctx.encounter.clone(),
            fhir_user: user.fhir_user.clone(),
        }
    }

    /// The token response for a user grant (authorization code or refresh).
    pub(crate) async fn user_token_response(
        &self,
        issuer: &str,
        user: &UserRecord,
        client_id: &str,
        scopes: &ScopeSet,
        ctx: &Context,
    ) -> Result<Value, OAuthError> {
        let keys = self.keys().await?;
        let claims = self
            .access_claims_for_user(issuer, user, client_id, scopes, ctx)
            .await;
        let access = sign(keys, &claims)?;
        let mut out = Map::new();
        out.insert("access_token".into(), json!(access));
        out.insert("token_type".into(), json!("Bearer"));
        out.insert("expires_in".into(), json!(self.config().access_token_ttl));
        out.insert("scope".into(), json!(scopes.to_string()));
        if let Some(p) = &ctx.patient {
            out.insert("patient".into(), json!(p));
            out.insert("need_patient_banner".into(), json!(ctx.need_patient_banner));
        }
        if let Some(e) = &ctx.encounter {
            out.insert("encounter".into(), json!(e));
        }
        if scopes.contains(&Scope::OpenId) {
            let id = IdClaims {
                iss: issuer.to_string(),
                sub: user.id.clone(),
                aud: client_id.to_string(),
                exp: claims.exp,
                iat: claims.iat,
                auth_time: ctx.auth_time,
                nonce: ctx.nonce.clone(),
                fhir_user: scopes
                    .contains(&Scope::FhirUser)
                    .then(|| user.fhir_user.clone())
                    .flatten(),
                name: scopes
                    .contains(&Scope::Profile)
                    .then(|| user.display_name.clone()),
            };
            out.insert("id_token".into(), json!(sign(keys, &id)?));
        }
        if scopes.contains(&Scope::OfflineAccess) || scopes.contains(&Scope::OnlineAccess) {
            let refresh = self
                .put_new_grant(
                    REFRESH,
                    Some(&user.id),
                    Some(client_id),
                    json!({
                        "scope": scopes.to_string(),
                        "patient": ctx.patient,
                        "encounter": ctx.encounter,
                        "need_patient_banner": ctx.need_patient_banner,
                        "auth_time": ctx.auth_time,
                        "family": uuid::Uuid::new_v4().to_string(),
                    }),
                    self.config().refresh_ttl,
                )
                .await?;
            out.insert("refresh_token".into(), json!(refresh));
        }
        Ok(Value::Object(out))
    }

    /// A signed access token for a backend client or an operator.
    pub(crate) async fn service_token(
        &self,
        issuer: &str,
        kind: &str,
        subject: &str,
        scopes: &ScopeSet,
        ttl: i64,
    ) -> Result<String, AuthError> {
        let now = now_seconds();
        let claims = AccessClaims {
            iss: issuer.to_string(),
            sub: subject.to_string(),
            aud: issuer.to_string(),
            exp: now + ttl,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: scopes.to_string(),
            client_id: (kind == "client").then(|| subject.to_string()),
            kind: kind.into(),
            acct: None,
            role: None,
            patients: Vec::new(),
            patient: None,
            encounter: None,
            fhir_user: None,
        };
        sign(self.keys().await?, &claims)
    }

    /// A short-lived operator token (`concord admin token`) with `system/` scopes.
    pub async fn operator_token(
        &self,
        issuer: &str,
        operator: &str,
        scope: &str,
    ) -> Result<String, AuthError> {
        let scopes = ScopeSet::parse(scope).map_err(AuthError::Invalid)?;
        let all_system = scopes.iter().all(
            |s| matches!(s, Scope::Resource(r) if r.context == crate::scope::ScopeContext::System),
        );
        if scopes.is_empty() || !all_system {
            return Err(AuthError::Invalid(
                "operator tokens take system/ scopes only, e.g. 'system/*.*'".into(),
            ));
        }
        let _ = timestamp::now_millis();
        self.service_token(
            issuer,
            "operator",
            operator,
            &scopes,
            self.config().operator_token_ttl,
        )
        .await
    }
}
