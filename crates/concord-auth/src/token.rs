//! Access and ID tokens: signed JWTs (ES256), their claims, and validation.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::keys::KeyRing;
use crate::principal::{Principal, Subject};
use crate::role::AccountKind;
use crate::scope::ScopeSet;

/// The claims of a Concord access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    /// Account id, client id or operator name.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `user`, `client` or `operator`.
    pub kind: String,
    /// Account kind of a user: `staff`, `patient`, `proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acct: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Linked patients of a patient or proxy account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<String>,
    #[serde(default, rename = "fhirUser", skip_serializing_if = "Option::is_none")]
    pub fhir_user: Option<String>,
}

impl AccessClaims {
    /// The principal these (verified) claims describe.
    pub fn principal(&self) -> Result<Principal, AuthError> {
        let bad = |what: &str| AuthError::Invalid(format!("access token has {what}"));
        let subject = match self.kind.as_str() {
            "user" => {
                let acct = self.acct.as_deref().ok_or_else(|| bad("no account kind"))?;
                let kind = AccountKind::from_parts(acct, self.role.as_deref(), &self.patients)
                    .ok_or_else(|| bad("an unknown account kind or role"))?;
                Subject::User {
                    id: self.sub.clone(),
                    kind,
                }
            }
            "client" => Subject::Client {
                client_id: self.sub.clone(),
            },
            "operator" => Subject::Operator {
                name: self.sub.clone(),
            },
            _ => return Err(bad("an unknown subject kind")),
        };
        let scopes = ScopeSet::parse(&self.scope).map_err(|_| bad("malformed scopes"))?;
        Ok(Principal {
            subject,
            scopes,
            client_id: self.client_id.clone(),
            patient: self.patient.clone(),
            encounter: self.encounter.clone(),
            fhir_user: self.fhir_user.clone(),
            token_id: Some(self.jti.clone()),
        })
    }
}

/// OpenID Connect ID token claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(rename = "fhirUser", default, skip_serializing_if = "Option::is_none")]
    pub fhir_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Signs any claims with the newest key.
pub fn sign<T: Serialize>(keys: &KeyRing, claims: &T) -> Result<String, AuthError> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(keys.kid.clone());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, &keys.signing)
        .map_err(|e| AuthError::Internal(format!("cannot sign token: {e}")))
}

/// Why a token was refused (shown to the caller as `invalid_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRejected(pub &'static str);

/// Checks signature (one of our keys), algorithm and expiry; returns the claims.
pub fn verify(keys: &KeyRing, token: &str) -> Result<AccessClaims, TokenRejected> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| TokenRejected("malformed token"))?;
    if header.alg != Algorithm::ES256 {
        return Err(TokenRejected("unexpected signing algorithm"));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    validation.leeway = 30;
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    let candidates: Vec<&jsonwebtoken::DecodingKey> = match &header.kid {
        Some(kid) => keys
            .verifying
            .iter()
            .filter(|(k, _)| k == kid)
            .map(|(_, key)| key)
            .collect(),
        None => keys.verifying.iter().map(|(_, key)| key).collect(),
    };
    if candidates.is_empty() {
        return Err(TokenRejected("token signed by an unknown key"));
    }
    let mut last = TokenRejected("invalid signature");
    for key in candidates {
        match jsonwebtoken::decode::<AccessClaims>(token, key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => {
                last = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                        TokenRejected("token expired")
                    }
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                        TokenRejected("invalid signature")
                    }
                    _ => TokenRejected("invalid token"),
                }
            }
        }
    }
    Err(last)
}
