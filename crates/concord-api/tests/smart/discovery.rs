//! Discovery documents and the JWK Set.

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_and_openid_configuration() {
    let w = World::new().await;
    let base = w.base();
    let smart = json(
        w.http
            .get(format!("{base}/.well-known/smart-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        smart["authorization_endpoint"],
        format!("{base}/auth/authorize")
    );
    assert_eq!(smart["token_endpoint"], format!("{base}/auth/token"));
    assert_eq!(
        smart["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let caps: Vec<&str> = smart["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for c in [
        "launch-ehr",
        "launch-standalone",
        "client-confidential-asymmetric",
        "permission-v2",
        "sso-openid-connect",
    ] {
        assert!(caps.contains(&c), "{c}");
    }
    let algs = smart["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert_eq!(algs.len(), 2);
    let oidc = json(
        w.http
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(oidc["issuer"], base);
    assert_eq!(oidc["jwks_uri"], format!("{base}/auth/jwks"));
    let jwks = json(
        w.http
            .get(format!("{base}/auth/jwks"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["alg"], "ES256");
    assert!(key.get("d").is_none(), "no private part published");
}
