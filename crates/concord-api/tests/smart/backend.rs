//! SMART Backend Services: `client_credentials` with `private_key_jwt`
//! assertions signed RS384 and ES384 by keys generated here; the public
//! keys are registered inline as a JWK Set.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::common::*;

struct Signer {
    alg: Algorithm,
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

fn es384() -> Signer {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    Signer {
        alg: Algorithm::ES384,
        kid: "ec-1".into(),
        key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-384", "kid": "ec-1", "alg": "ES384", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..49]), "y": URL_SAFE_NO_PAD.encode(&point[49..97])}),
    }
}

fn rs384() -> Signer {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    Signer {
        alg: Algorithm::RS384,
        kid: "rsa-1".into(),
        key: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({"kty": "RSA", "kid": "rsa-1", "alg": "RS384", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())}),
    }
}

fn assertion(s: &Signer, client_id: &str, aud: &str, jti: &str, exp_in: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut header = Header::new(s.alg);
    header.kid = Some(s.kid.clone());
    let claims =
        json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": now + exp_in, "jti": jti});
    jsonwebtoken::encode(&header, &claims, &s.key).unwrap()
}

/// Registers through the admin endpoint with an operator token.
async fn register(w: &World, client_id: &str, signer: &Signer) {
    let operator = w.operator("system/*.cruds").await;
    let r = w
        .http
        .post(format!("{}/auth/clients", w.base()))
        .bearer_auth(&operator)
        .body(
            json!({"client_id": client_id, "name": "Nightly export", "client_type": "confidential-asymmetric",
                "scope": "system/*.rs", "jwks": {"keys": [signer.jwk.clone()]}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

async fn token_with(w: &World, assertion: &str, scope: &str) -> reqwest::Response {
    w.post_form(
        "/auth/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", concord_auth::JWT_BEARER),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

async fn backend_flow(signer: Signer) {
    let w = World::new().await;
    w.seed(json!({"resourceType": "Patient", "id": "p1"})).await;
    register(&w, "svc", &signer).await;
    let aud = format!("{}/auth/token", w.base());
    let a = assertion(&signer, "svc", &aud, "jti-1", 240);
    let r = token_with(&w, &a, "system/*.rs").await;
    assert_eq!(r.status(), 200);
    let t = json(r).await;
    assert_eq!(t["scope"], "system/*.rs");
    assert!(t["expires_in"].as_i64().unwrap() <= 300);
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(get(&w, "/Patient/p1", access).await.status(), 200);
    // Read-only scopes: no writes.
    let write = w
        .http
        .post(format!("{}/Patient", w.base()))
        .bearer_auth(access)
        .header("content-type", "application/fhir+json")
        .body(json!({"resourceType": "Patient"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 403);
    // Asking for more than registered is narrowed to what is allowed.
    let b = assertion(&signer, "svc", &aud, "jti-2", 240);
    assert_eq!(
        json(token_with(&w, &b, "system/*.cruds").await).await["scope"],
        "system/*.rs"
    );
    // Replay, wrong audience, too long-lived, user scopes: refused.
    let replay = token_with(&w, &a, "system/*.rs").await;
    assert_eq!(replay.status(), 401);
    let body = json(replay).await;
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("replay"));
    let wrong_aud = assertion(
        &signer,
        "svc",
        "https://elsewhere.example/token",
        "jti-3",
        240,
    );
    let body = json(token_with(&w, &wrong_aud, "system/*.rs").await).await;
    assert!(
        body["error_description"].as_str().unwrap().contains("aud"),
        "{body}"
    );
    let long = assertion(&signer, "svc", &aud, "jti-4", 3600);
    assert_eq!(
        json(token_with(&w, &long, "system/*.rs").await).await["error"],
        "invalid_client"
    );
    let user_scope = assertion(&signer, "svc", &aud, "jti-5", 240);
    assert_eq!(
        json(token_with(&w, &user_scope, "user/*.rs").await).await["error"],
        "invalid_scope"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_es384_assertion() {
    backend_flow(es384()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_with_rs384_assertion() {
    backend_flow(rs384()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertions_signed_by_other_keys_or_algorithms_are_refused() {
    let w = World::new().await;
    let registered = es384();
    register(&w, "svc", &registered).await;
    let aud = format!("{}/auth/token", w.base());
    let mut stranger = es384();
    stranger.kid = registered.kid.clone();
    let forged = assertion(&stranger, "svc", &aud, "f-1", 240);
    let r = token_with(&w, &forged, "system/*.rs").await;
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "invalid_client");
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "svc", "sub": "svc", "aud": aud, "exp": 9_999_999_999i64, "jti": "h"}),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    let body = json(token_with(&w, &hs, "system/*.rs").await).await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("RS384 or ES384"));
    // Registration is for administrators only.
    let r = w
        .http
        .post(format!("{}/auth/clients", w.base()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
