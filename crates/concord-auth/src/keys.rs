//! The server's token-signing keys: ECDSA P-256 (ES256), generated on first
//! use and kept in the data store so every process of a deployment (and
//! `concord admin token`) signs and verifies with the same keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use concord_store::{AuthStore, SigningKeyRecord, TenantContext};
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use crate::error::AuthError;

/// Loaded keys: the newest signs, all verify.
pub struct KeyRing {
    pub kid: String,
    pub signing: EncodingKey,
    pub verifying: Vec<(String, DecodingKey)>,
    /// The public JWK Set published at the JWKS endpoint.
    pub jwks: Value,
}

fn public_jwk(pkcs8: &[u8]) -> Result<(String, Value), AuthError> {
    let pair = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| AuthError::Internal("stored signing key is not a P-256 key".into()))?;
    let point = pair.public_key().as_ref();
    if point.len() != 65 {
        return Err(AuthError::Internal("unexpected public key encoding".into()));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, point);
    let kid = hex::encode(&digest.as_ref()[..8]);
    let jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        "use": "sig",
        "alg": "ES256",
        "kid": kid,
    });
    Ok((kid, jwk))
}

fn generate(now: i64) -> Result<SigningKeyRecord, AuthError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| AuthError::Internal("cannot generate a signing key".into()))?;
    let der = pkcs8.as_ref().to_vec();
    let (kid, jwk) = public_jwk(&der)?;
    Ok(SigningKeyRecord {
        kid,
        alg: "ES256".into(),
        private_der: der,
        public_jwk: jwk.to_string(),
        created_at: now,
    })
}

/// Loads the tenant's keys, creating the first one if there is none.
pub async fn load(
    store: &dyn AuthStore,
    ctx: &TenantContext,
    now: i64,
) -> Result<KeyRing, AuthError> {
    let mut records = store.signing_keys(ctx).await?;
    if records.is_empty() {
        store.add_signing_key(ctx, &generate(now)?).await?;
        // Another process may have added one at the same moment: use what is stored.
        records = store.signing_keys(ctx).await?;
    }
    let newest = records
        .first()
        .ok_or_else(|| AuthError::Internal("no signing key".into()))?;
    let mut verifying = Vec::new();
    let mut published = Vec::new();
    for record in &records {
        let (kid, jwk) = public_jwk(&record.private_der)?;
        let x = jwk["x"].as_str().unwrap_or_default();
        let y = jwk["y"].as_str().unwrap_or_default();
        let key = DecodingKey::from_ec_components(x, y)
            .map_err(|e| AuthError::Internal(format!("bad public key: {e}")))?;
        verifying.push((kid, key));
        published.push(jwk);
    }
    Ok(KeyRing {
        kid: newest.kid.clone(),
        signing: EncodingKey::from_ec_der(&newest.private_der),
        verifying,
        jwks: json!({ "keys": published }),
    })
}
