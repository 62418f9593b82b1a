//! The read and write guards over every interaction: searches (type,
//! system, compartment, `_search`) with chains, `_has`, includes, totals and
//! paging; history; `$everything`; batch and transaction entries; patch;
//! and hostile access tokens.

use reqwest::Method;
use serde_json::{json, Value};

use super::common::*;

/// p1 (treated by doc) and p2, each with a weight Observation; `o1f` is
/// p1's Observation whose `focus` names p2 (an include must not leak p2).
async fn seed(w: &World) {
    w.seed(json!({"resourceType": "Practitioner", "id": "doc"}))
        .await;
    w.seed(
        json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "One"}],
        "generalPractitioner": [{"reference": "Practitioner/doc"}]}),
    )
    .await;
    w.seed(json!({"resourceType": "Patient", "id": "p2", "name": [{"family": "Two"}]}))
        .await;
    for (id, p) in [("o1", "p1"), ("o2", "p2")] {
        w.seed(
            json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"text": "weight"}, "subject": {"reference": format!("Patient/{p}")},
            "performer": [{"reference": "Practitioner/doc"}]}),
        )
        .await;
    }
    w.seed(
        json!({"resourceType": "Observation", "id": "o1f", "status": "final",
        "code": {"text": "weight"}, "subject": {"reference": "Patient/p1"},
        "focus": [{"reference": "Patient/p2"}]}),
    )
    .await;
}

async fn bundle(w: &World, path: &str, token: &str) -> Value {
    let r = get(w, path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    json(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patient_searches_stay_in_the_compartment() {
    let w = World::new().await;
    seed(&w).await;
    let alice = patient_token(&w, "alice", "p1").await;
    let b = bundle(&w, "/Observation?_total=accurate", &alice).await;
    assert_eq!(
        ids_of(&b, "match"),
        vec!["Observation/o1", "Observation/o1f"]
    );
    assert_eq!(b["total"], 2);
    // _summary=count counts only the compartment.
    assert_eq!(
        bundle(&w, "/Observation?_summary=count", &alice).await["total"],
        2
    );
    // Paging never reaches p2: two pages of one.
    let first = bundle(&w, "/Observation?_count=1&_total=accurate", &alice).await;
    assert_eq!(first["total"], 2);
    let next = first["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let second = json(w.http.get(next).bearer_auth(&alice).send().await.unwrap()).await;
    let mut seen = ids_of(&first, "match");
    seen.extend(ids_of(&second, "match"));
    seen.sort();
    assert_eq!(seen, vec!["Observation/o1", "Observation/o1f"]);
    // _include: p2 (the focus of o1f) is filtered out; the performer is shown.
    let b = bundle(
        &w,
        "/Observation?_include=Observation:focus&_include=Observation:performer",
        &alice,
    )
    .await;
    assert_eq!(ids_of(&b, "include"), vec!["Practitioner/doc"]);
    // _revinclude from the own Patient: own observations only.
    let b = bundle(&w, "/Patient?_revinclude=Observation:subject", &alice).await;
    assert_eq!(ids_of(&b, "match"), vec!["Patient/p1"]);
    assert_eq!(
        ids_of(&b, "include"),
        vec!["Observation/o1", "Observation/o1f"]
    );
    // Chains and _has cannot reach into p2's data.
    let b = bundle(&w, "/Observation?subject:Patient.name=Two", &alice).await;
    assert!(ids_of(&b, "match").is_empty());
    let b = bundle(
        &w,
        "/Patient?_has:Observation:subject:code:text=weight",
        &alice,
    )
    .await;
    assert_eq!(ids_of(&b, "match"), vec!["Patient/p1"]);
    // System search, POST _search and another patient's compartment.
    let b = bundle(&w, "/?_id=o1,o2,p2", &alice).await;
    assert_eq!(ids_of(&b, "match"), vec!["Observation/o1"]);
    let r = w
        .http
        .post(format!("{}/Observation/_search", w.base()))
        .bearer_auth(&alice)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("_id=o1,o2")
        .send()
        .await
        .unwrap();
    assert_eq!(ids_of(&json(r).await, "match"), vec!["Observation/o1"]);
    let b = bundle(&w, "/Patient/p2/Observation", &alice).await;
    assert!(ids_of(&b, "match").is_empty());
    // $everything: own record without p2; another patient's is not found.
    let b = bundle(&w, "/Patient/p1/$everything", &alice).await;
    let all: Vec<String> = [ids_of(&b, "match"), ids_of(&b, "include")].concat();
    assert!(all.contains(&"Observation/o1f".to_string()), "{all:?}");
    assert!(
        !all.iter()
            .any(|i| i == "Patient/p2" || i == "Observation/o2"),
        "{all:?}"
    );
    assert_eq!(
        get(&w, "/Patient/p2/$everything", &alice).await.status(),
        404
    );
    // History: type history hides p2; instance history and vread are 404.
    let h = bundle(&w, "/Observation/_history", &alice).await;
    assert!(!h.to_string().contains("\"o2\""));
    assert_eq!(
        get(&w, "/Observation/o2/_history", &alice).await.status(),
        404
    );
    assert_eq!(
        get(&w, "/Observation/o2/_history/1", &alice).await.status(),
        404
    );
    assert_eq!(get(&w, "/_history", &alice).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_to_types_the_role_cannot_search_are_refused() {
    let w = World::new().await;
    seed(&w).await;
    let desk = staff_token(&w, "desk", "front-desk").await;
    assert_eq!(get(&w, "/Patient?name=One", &desk).await.status(), 200);
    let r = get(
        &w,
        "/Patient?_has:Observation:subject:code:text=weight",
        &desk,
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["resourceType"], "OperationOutcome");
    assert_eq!(
        get(&w, "/Appointment?patient.name=One", &desk)
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&w, "/Observation?_id=o1", &desk).await.status(),
        403,
        "no s on clinical"
    );
    // System search leaves out the types the role may not search.
    let b = bundle(&w, "/?_id=o1,p1", &desk).await;
    assert_eq!(ids_of(&b, "match"), vec!["Patient/p1"]);
    // _include of a type the role may not read is filtered, not refused.
    let b = bundle(&w, "/Patient?_id=p1&_revinclude=Observation:subject", &desk).await;
    assert!(ids_of(&b, "include").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_and_patches_are_decided_per_entry() {
    let w = World::new().await;
    seed(&w).await;
    let alice = patient_token(&w, "alice", "p1").await;
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Observation/o1"}},
        {"request": {"method": "GET", "url": "Observation/o2"}},
        {"request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                      "subject": {"reference": "Patient/p1"}}}
    ]});
    let r = json(send(&w, Method::POST, "/", &alice, Some(&batch)).await).await;
    let status = |i: usize| {
        r["entry"][i]["response"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(status(0).starts_with("200"), "{r}");
    assert!(status(1).starts_with("404"), "{r}");
    assert!(status(2).starts_with("403"), "read-only: {r}");
    // The physician's transaction touching a patient outside the care team
    // fails as a whole: nothing is stored.
    let doc = staff_token(&w, "doc", "physician").await;
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "tx"},
                      "subject": {"reference": "Patient/p1"}}},
        {"request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "tx"},
                      "subject": {"reference": "Patient/p2"}}}
    ]});
    let r = send(&w, Method::POST, "/", &doc, Some(&tx)).await;
    assert_eq!(r.status(), 403);
    let op = w.operator("system/*.rs").await;
    let b = bundle(&w, "/Observation?code:text=tx&_total=accurate", &op).await;
    assert_eq!(b["total"], 0);
    // Patch: decided on the patched result (a patient-context write token).
    let mut c = user_claims(
        &w,
        "doc",
        "staff",
        Some("physician"),
        &[],
        "patient/*.cruds",
    );
    c.patient = Some("p1".into());
    c.fhir_user = Some("Practitioner/doc".into());
    let ctx_token = mint(&w, &c).await;
    let patch = |doc: Value| {
        let w = &w;
        let t = ctx_token.clone();
        async move {
            w.http
                .patch(format!("{}/Observation/o1", w.base()))
                .bearer_auth(t)
                .header("content-type", "application/json-patch+json")
                .body(doc.to_string())
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let moved = json!([{"op": "replace", "path": "/subject/reference", "value": "Patient/p2"}]);
    assert_eq!(patch(moved).await, 403);
    let amended = json!([{"op": "replace", "path": "/status", "value": "amended"}]);
    assert_eq!(patch(amended).await, 200);
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tokens_get_401_with_an_operation_outcome() {
    let w = World::new().await;
    seed(&w).await;
    let mut good = user_claims(&w, "ops", "staff", Some("physician"), &[], "user/*.rs");
    good.fhir_user = Some("Practitioner/doc".into());
    let base_claims = serde_json::to_value(&good).unwrap();
    let mut hostile: Vec<(&str, String)> = Vec::new();
    hostile.push(("malformed", "not-a-jwt".into()));
    hostile.push(("three empty parts", "..".into()));
    hostile.push((
        "alg none, valid claims",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&base_claims)
        ),
    ));
    // HS256 "signed" with the public JWK text as the secret (key confusion).
    let jwks = w.auth().jwks().await.unwrap();
    let confused = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good,
        &jsonwebtoken::EncodingKey::from_secret(jwks.to_string().as_bytes()),
    )
    .unwrap();
    hostile.push(("HS256 key confusion", confused));
    let mut expired = good.clone();
    expired.exp -= 7200;
    expired.iat -= 7200;
    hostile.push(("expired", mint(&w, &expired).await));
    let mut wrong_aud = good.clone();
    wrong_aud.aud = "https://other.example/fhir".into();
    hostile.push(("wrong aud", mint(&w, &wrong_aud).await));
    let mut wrong_iss = good.clone();
    wrong_iss.iss = "https://evil.example".into();
    hostile.push(("wrong iss", mint(&w, &wrong_iss).await));
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = jwks["keys"][0]["kid"].as_str().map(str::to_string);
    let wrong_key = jsonwebtoken::encode(
        &header,
        &good,
        &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .unwrap();
    hostile.push(("wrong key, our kid", wrong_key));
    // A valid token with a tampered payload (signature no longer matches).
    let valid = mint(&w, &good).await;
    let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
    let mut tampered = base_claims.clone();
    tampered["role"] = json!("system-admin");
    parts[1] = b64(&tampered);
    hostile.push(("tampered payload", parts.join(".")));
    for (name, token) in &hostile {
        let r = get(&w, "/Patient/p1", token).await;
        assert_eq!(r.status(), 401, "{name}");
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.contains("invalid_token"), "{name}: {challenge}");
        assert_eq!(json(r).await["resourceType"], "OperationOutcome", "{name}");
    }
    println!("{} hostile tokens refused with 401", hostile.len());
    // The untampered token works (it is the claims, not the harness).
    assert_eq!(get(&w, "/Patient/p1", &valid).await.status(), 200);
}
