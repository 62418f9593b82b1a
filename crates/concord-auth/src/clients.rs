//! OAuth clients registered by administrators, and client authentication:
//! none (public, by `client_id`), `client_secret_basic`/`_post`
//! (confidential-symmetric) and `private_key_jwt` (confidential-asymmetric,
//! RS384 or ES384, keys from the JWK Set given at registration).

use concord_store::{timestamp, ClientRecord, StoreError};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use crate::error::AuthError;
use crate::oauth::OAuthError;
use crate::random;
use crate::scope::ScopeSet;
use crate::server::{now_seconds, AuthServer};

/// The assertion type of `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ASSERTION_JTI: &str = "assertion_jti";

/// How a client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Public,
    ConfidentialSymmetric,
    ConfidentialAsymmetric,
}

impl ClientType {
    pub fn code(self) -> &'static str {
        match self {
            ClientType::Public => "public",
            ClientType::ConfidentialSymmetric => "confidential-symmetric",
            ClientType::ConfidentialAsymmetric => "confidential-asymmetric",
        }
    }
    pub fn parse(code: &str) -> Option<ClientType> {
        [
            ClientType::Public,
            ClientType::ConfidentialSymmetric,
            ClientType::ConfidentialAsymmetric,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }
}

/// A client to register.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// `None`: a random id.
    pub client_id: Option<String>,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub allowed_scopes: String,
    /// JWK Set (JSON) for confidential-asymmetric clients.
    pub jwks: Option<String>,
}

/// The registered client and, for confidential-symmetric ones, the secret (shown once).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: ClientRecord,
    pub secret: Option<String>,
}

/// What a token, introspection or revocation request presented.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// From HTTP Basic.
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    jti: String,
    exp: i64,
}

fn valid_redirect(uri: &str) -> bool {
    (uri.starts_with("https://") || uri.starts_with("http://")) && !uri.contains('#')
}

impl AuthServer {
    /// Registers a client (administrators only; callers check).
    pub async fn register_client(&self, new: NewClient) -> Result<RegisteredClient, AuthError> {
        ScopeSet::parse(&new.allowed_scopes).map_err(AuthError::Invalid)?;
        if let Some(uri) = new.redirect_uris.iter().find(|u| !valid_redirect(u)) {
            return Err(AuthError::Invalid(format!(
                "redirect URI {uri:?} must be an absolute http(s) URL without a fragment"
            )));
        }
        let jwks = match (new.client_type, &new.jwks) {
            (ClientType::ConfidentialAsymmetric, Some(text)) => {
                let set: JwkSet = serde_json::from_str(text)
                    .map_err(|e| AuthError::Invalid(format!("the JWK Set is not valid: {e}")))?;
                if set.keys.is_empty() {
                    return Err(AuthError::Invalid("the JWK Set has no keys".into()));
                }
                for key in &set.keys {
                    DecodingKey::from_jwk(key).map_err(|e| {
                        AuthError::Invalid(format!("a key in the JWK Set is not usable: {e}"))
                    })?;
                }
                Some(text.clone())
            }
            (ClientType::ConfidentialAsymmetric, None) => {
                return Err(AuthError::Invalid(
                    "a confidential-asymmetric client needs a JWK Set".into(),
                ))
            }
            (_, _) => None,
        };
        let secret = match new.client_type {
            ClientType::ConfidentialSymmetric => Some(random::handle()?),
            _ => None,
        };
        let client = ClientRecord {
            client_id: match new.client_id {
                Some(id) => id,
                None => uuid::Uuid::new_v4().to_string(),
            },
            name: new.name,
            client_type: new.client_type.code().into(),
            secret_hash: secret.as_deref().map(random::hash_handle),
            redirect_uris: new.redirect_uris,
            allowed_scopes: new.allowed_scopes,
            jwks,
            active: true,
            created_at: timestamp::now_millis(),
        };
        match self.store().create_client(&self.ctx(), &client).await {
            Ok(()) => Ok(RegisteredClient { client, secret }),
            Err(StoreError::AlreadyExists { .. }) => {
                Err(AuthError::Conflict(format!("client {}", client.client_id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, AuthError> {
        Ok(self.store().list_clients(&self.ctx()).await?)
    }

    /// An active client by id.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, OAuthError> {
        Ok(self
            .store()
            .client_by_id(&self.ctx(), client_id)
            .await?
            .filter(|c| c.active))
    }

    /// Authenticates the client of a token-endpoint request. `audience` is
    /// the token endpoint URL that assertions must name.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        audience: &str,
    ) -> Result<ClientRecord, OAuthError> {
        if let Some(assertion) = &creds.assertion {
            if creds.assertion_type.as_deref() != Some(JWT_BEARER) {
                return Err(OAuthError::invalid_client(
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
            }
            return self.verify_assertion(assertion, creds, audience).await;
        }
        let (id, secret) = match (&creds.basic, &creds.client_id, &creds.client_secret) {
            (Some((id, secret)), _, _) => (id.clone(), Some(secret.clone())),
            (None, Some(id), secret) => (id.clone(), secret.clone()),
            (None, None, _) => {
                return Err(OAuthError::invalid_client("client authentication missing"))
            }
        };
        let client = self
            .client(&id)
            .await?
            .ok_or_else(|| OAuthError::invalid_client("unknown or inactive client"))?;
        match ClientType::parse(&client.client_type) {
            Some(ClientType::Public) => Ok(client),
            Some(ClientType::ConfidentialSymmetric) => {
                let ok = match (secret, &client.secret_hash) {
                    (Some(s), Some(hash)) => random::same(&random::hash_handle(&s), hash),
                    _ => false,
                };
                if ok {
                    Ok(client)
                } else {
                    Err(OAuthError::invalid_client("client secret missing or wrong"))
                }
            }
            Some(ClientType::ConfidentialAsymmetric) => Err(OAuthError::invalid_client(
                "this client must authenticate with a private_key_jwt client assertion",
            )),
            None => Err(OAuthError::server_error()),
        }
    }

    async fn verify_assertion(
        &self,
        assertion: &str,
        creds: &ClientCredentials,
        audience: &str,
    ) -> Result<ClientRecord, OAuthError> {
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| OAuthError::invalid_client("client assertion is not a JWT"))?;
        if !matches!(header.alg, Algorithm::RS384 | Algorithm::ES384) {
            return Err(OAuthError::invalid_client(
                "client assertions must be signed with RS384 or ES384",
            ));
        }
        // The client is named by `client_id` or, failing that, by the
        // (not yet verified) `iss`; the signature check below settles it.
        let claimed = match &creds.client_id {
            Some(id) => id.clone(),
            None => unverified_issuer(assertion)
                .ok_or_else(|| OAuthError::invalid_client("client assertion has no iss"))?,
        };
        let client = self
            .client(&claimed)
            .await?
            .ok_or_else(|| OAuthError::invalid_client("unknown or inactive client"))?;
        if ClientType::parse(&client.client_type) != Some(ClientType::ConfidentialAsymmetric) {
            return Err(OAuthError::invalid_client(
                "this client is not registered for private_key_jwt",
            ));
        }
        let set: JwkSet = client
            .jwks
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or_else(|| OAuthError::invalid_client("the client has no usable JWK Set"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[client.client_id.as_str()]);
        validation.sub = Some(client.client_id.clone());
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = 30;
        let keys = set
            .keys
            .iter()
            .filter(|k| match (&header.kid, &k.common.key_id) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            });
        let mut verified = None;
        let mut failure = "client assertion signature does not verify with the registered keys";
        for jwk in keys {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation) {
                Ok(data) => {
                    verified = Some(data.claims);
                    break;
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    failure = match e.kind() {
                        ErrorKind::ExpiredSignature => "client assertion expired",
                        ErrorKind::InvalidAudience => {
                            "client assertion aud must be the token endpoint URL"
                        }
                        ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => {
                            "client assertion iss and sub must be the client_id"
                        }
                        ErrorKind::MissingRequiredClaim(_) => {
                            "client assertion lacks a required claim (iss, sub, aud, exp, jti)"
                        }
                        _ => failure,
                    };
                }
            }
        }
        let claims = verified.ok_or_else(|| OAuthError::invalid_client(failure))?;
        debug_assert_eq!(claims.iss, claims.sub);
        let now = now_seconds();
        if claims.exp > now + self.config().assertion_max_age {
            return Err(OAuthError::invalid_client(
                "client assertion exp is more than 5 minutes ahead",
            ));
        }
        if claims.jti.is_empty() {
            return Err(OAuthError::invalid_client("client assertion needs a jti"));
        }
        let fresh = self
            .mark_once(
                ASSERTION_JTI,
                &format!("{}\u{0}{}", client.client_id, claims.jti),
                None,
                json!({}),
                (claims.exp + 60) * 1000,
            )
            .await?;
        if !fresh {
            return Err(OAuthError::invalid_client(
                "client assertion jti was already used (replay)",
            ));
        }
        Ok(client)
    }
}

/// The `iss` of a JWT, read without verifying it (to find the client's keys).
fn unverified_issuer(jwt: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_string)
}
