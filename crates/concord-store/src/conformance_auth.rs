//! The backend-neutral conformance suite for [`AuthStore`]. Every backend's
//! tests call [`run_all`]; each case works in a tenant of its own.

use serde_json::json;

use crate::{
    Actor, AuthStore, ClientRecord, GrantRecord, SigningKeyRecord, StoreError, TenantContext,
    UserRecord,
};

type CaseFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
type Case = (
    &'static str,
    fn(&dyn AuthStore, TenantContext) -> CaseFuture<'_>,
);

/// Runs every case against `store`, printing each name; panics on the first failure.
pub async fn run_all(store: &dyn AuthStore) {
    let run = crate::timestamp::now_millis();
    let cases: Vec<Case> = vec![
        ("user_create_read_list", |s, c| {
            Box::pin(user_create_read_list(s, c))
        }),
        ("user_duplicates_rejected", |s, c| {
            Box::pin(user_duplicates_rejected(s, c))
        }),
        ("user_update_replaces", |s, c| {
            Box::pin(user_update_replaces(s, c))
        }),
        ("login_failures_lock_and_reset", |s, c| {
            Box::pin(login_failures_lock_and_reset(s, c))
        }),
        ("client_create_update_list", |s, c| {
            Box::pin(client_create_update_list(s, c))
        }),
        ("grant_put_get_expire", |s, c| {
            Box::pin(grant_put_get_expire(s, c))
        }),
        ("grant_take_is_once", |s, c| {
            Box::pin(grant_take_is_once(s, c))
        }),
        ("grants_for_subject_and_delete", |s, c| {
            Box::pin(grants_for_subject_and_delete(s, c))
        }),
        ("purge_expired_grants", |s, c| {
            Box::pin(purge_expired_grants(s, c))
        }),
        ("signing_keys_newest_first", |s, c| {
            Box::pin(signing_keys_newest_first(s, c))
        }),
        ("auth_tenants_are_isolated", |s, c| {
            Box::pin(auth_tenants_are_isolated(s, c))
        }),
    ];
    for (name, case) in cases {
        println!("auth conformance: {name}");
        let ctx = TenantContext::new(format!("auth-{name}-{run:x}"), Actor::System, name);
        case(store, ctx).await;
    }
    println!("auth conformance: all cases passed");
}

/// A staff account record for tests.
pub fn sample_user(id: &str, username: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        username: username.into(),
        kind: "staff".into(),
        role: Some("physician".into()),
        patients: Vec::new(),
        fhir_user: Some(format!("Practitioner/{id}")),
        display_name: "Dr Test".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: Some("3132333435363738393031323334353637383930".into()),
        active: true,
        must_change_password: false,
        failed_logins: 0,
        locked_until: None,
        created_at: 1_700_000_000_000,
        last_login: None,
    }
}

fn sample_client(id: &str) -> ClientRecord {
    ClientRecord {
        client_id: id.into(),
        name: "Test app".into(),
        client_type: "public".into(),
        secret_hash: None,
        redirect_uris: vec!["http://localhost/cb".into(), "http://localhost/cb2".into()],
        allowed_scopes: "openid fhirUser patient/*.rs".into(),
        jwks: None,
        active: true,
        created_at: 1_700_000_000_000,
    }
}

fn grant(kind: &str, handle: &str, subject: Option<&str>, expires_at: i64) -> GrantRecord {
    GrantRecord {
        kind: kind.into(),
        handle_hash: handle.into(),
        subject: subject.map(str::to_string),
        client_id: Some("app".into()),
        data: json!({"scope": "patient/*.rs", "n": 1.5}),
        created_at: 1_000,
        expires_at,
    }
}

async fn user_create_read_list(s: &dyn AuthStore, ctx: TenantContext) {
    let mut proxy = sample_user("u2", "guardian");
    proxy.kind = "proxy".into();
    proxy.role = None;
    proxy.patients = vec!["child-1".into(), "child-2".into()];
    proxy.totp_secret = None;
    proxy.fhir_user = None;
    s.create_user(&ctx, &sample_user("u1", "drwho"))
        .await
        .unwrap();
    s.create_user(&ctx, &proxy).await.unwrap();
    assert_eq!(
        s.user_by_id(&ctx, "u1").await.unwrap(),
        Some(sample_user("u1", "drwho"))
    );
    assert_eq!(
        s.user_by_username(&ctx, "guardian").await.unwrap(),
        Some(proxy.clone())
    );
    assert_eq!(s.user_by_username(&ctx, "nobody").await.unwrap(), None);
    assert_eq!(s.user_by_id(&ctx, "nobody").await.unwrap(), None);
    let names: Vec<String> = s
        .list_users(&ctx)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["drwho", "guardian"]);
}

async fn user_duplicates_rejected(s: &dyn AuthStore, ctx: TenantContext) {
    s.create_user(&ctx, &sample_user("u1", "same"))
        .await
        .unwrap();
    let by_name = s.create_user(&ctx, &sample_user("u2", "same")).await;
    assert!(
        matches!(by_name, Err(StoreError::AlreadyExists { .. })),
        "{by_name:?}"
    );
    let by_id = s.create_user(&ctx, &sample_user("u1", "other")).await;
    assert!(
        matches!(by_id, Err(StoreError::AlreadyExists { .. })),
        "{by_id:?}"
    );
    assert_eq!(s.list_users(&ctx).await.unwrap().len(), 1);
}

async fn user_update_replaces(s: &dyn AuthStore, ctx: TenantContext) {
    let mut user = sample_user("u1", "nurse1");
    s.create_user(&ctx, &user).await.unwrap();
    user.active = false;
    user.role = Some("nurse".into());
    user.password_hash = "new-hash".into();
    user.must_change_password = true;
    user.totp_secret = None;
    assert!(s.update_user(&ctx, &user).await.unwrap());
    assert_eq!(s.user_by_id(&ctx, "u1").await.unwrap(), Some(user));
    let missing = sample_user("nope", "nope");
    assert!(!s.update_user(&ctx, &missing).await.unwrap());
}

async fn login_failures_lock_and_reset(s: &dyn AuthStore, ctx: TenantContext) {
    s.create_user(&ctx, &sample_user("u1", "a")).await.unwrap();
    assert_eq!(
        s.record_login_failure(&ctx, "u1", 3, 9_000).await.unwrap(),
        1
    );
    assert_eq!(
        s.record_login_failure(&ctx, "u1", 3, 9_000).await.unwrap(),
        2
    );
    let user = s.user_by_id(&ctx, "u1").await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (2, None));
    assert_eq!(
        s.record_login_failure(&ctx, "u1", 3, 9_000).await.unwrap(),
        3
    );
    let user = s.user_by_id(&ctx, "u1").await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (3, Some(9_000)));
    assert_eq!(
        s.record_login_failure(&ctx, "zz", 3, 9_000).await.unwrap(),
        0
    );
    s.record_login_success(&ctx, "u1", 12_345).await.unwrap();
    let user = s.user_by_id(&ctx, "u1").await.unwrap().unwrap();
    assert_eq!(
        (user.failed_logins, user.locked_until, user.last_login),
        (0, None, Some(12_345))
    );
}

async fn client_create_update_list(s: &dyn AuthStore, ctx: TenantContext) {
    let mut client = sample_client("app-1");
    s.create_client(&ctx, &client).await.unwrap();
    let dup = s.create_client(&ctx, &client).await;
    assert!(
        matches!(dup, Err(StoreError::AlreadyExists { .. })),
        "{dup:?}"
    );
    assert_eq!(
        s.client_by_id(&ctx, "app-1").await.unwrap(),
        Some(client.clone())
    );
    client.client_type = "confidential-asymmetric".into();
    client.jwks = Some(r#"{"keys":[]}"#.into());
    client.secret_hash = Some("ab".into());
    client.active = false;
    assert!(s.update_client(&ctx, &client).await.unwrap());
    assert_eq!(
        s.client_by_id(&ctx, "app-1").await.unwrap(),
        Some(client.clone())
    );
    assert!(!s.update_client(&ctx, &sample_client("zz")).await.unwrap());
    s.create_client(&ctx, &sample_client("app-0"))
        .await
        .unwrap();
    let ids: Vec<String> = s
        .list_clients(&ctx)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, vec!["app-0", "app-1"]);
    assert_eq!(s.client_by_id(&ctx, "zz").await.unwrap(), None);
}

async fn grant_put_get_expire(s: &dyn AuthStore, ctx: TenantContext) {
    let g = grant("code", "h1", Some("u1"), 5_000);
    s.put_grant(&ctx, &g).await.unwrap();
    let dup = s.put_grant(&ctx, &g).await;
    assert!(
        matches!(dup, Err(StoreError::AlreadyExists { .. })),
        "{dup:?}"
    );
    // The same handle under another kind is another grant.
    s.put_grant(&ctx, &grant("refresh", "h1", None, 5_000))
        .await
        .unwrap();
    assert_eq!(s.grant(&ctx, "code", "h1", 4_999).await.unwrap(), Some(g));
    assert_eq!(s.grant(&ctx, "code", "h1", 5_000).await.unwrap(), None);
    assert_eq!(s.grant(&ctx, "code", "other", 0).await.unwrap(), None);
    let refresh = s.grant(&ctx, "refresh", "h1", 0).await.unwrap().unwrap();
    assert_eq!(refresh.subject, None);
}

async fn grant_take_is_once(s: &dyn AuthStore, ctx: TenantContext) {
    let g = grant("code", "once", Some("u1"), 5_000);
    s.put_grant(&ctx, &g).await.unwrap();
    let (a, b) = tokio::join!(
        s.take_grant(&ctx, "code", "once", 1_000),
        s.take_grant(&ctx, "code", "once", 1_000)
    );
    let taken: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec![g], "exactly one taker gets the grant");
    assert_eq!(s.grant(&ctx, "code", "once", 1_000).await.unwrap(), None);
    s.put_grant(&ctx, &grant("code", "stale", None, 500))
        .await
        .unwrap();
    assert_eq!(
        s.take_grant(&ctx, "code", "stale", 600).await.unwrap(),
        None
    );
    assert_eq!(s.grant(&ctx, "code", "stale", 0).await.unwrap(), None);
}

async fn grants_for_subject_and_delete(s: &dyn AuthStore, ctx: TenantContext) {
    let mut a = grant("refresh", "a", Some("u1"), 9_000);
    a.created_at = 1;
    let mut b = grant("refresh", "b", Some("u1"), 9_000);
    b.created_at = 2;
    b.client_id = Some("other".into());
    s.put_grant(&ctx, &a).await.unwrap();
    s.put_grant(&ctx, &b).await.unwrap();
    s.put_grant(&ctx, &grant("refresh", "c", Some("u2"), 9_000))
        .await
        .unwrap();
    s.put_grant(&ctx, &grant("session", "d", Some("u1"), 9_000))
        .await
        .unwrap();
    s.put_grant(&ctx, &grant("refresh", "e", Some("u1"), 10))
        .await
        .unwrap();
    let live = s.grants_for(&ctx, "refresh", "u1", 100).await.unwrap();
    assert_eq!(live, vec![a.clone(), b.clone()]);
    let n = s
        .delete_grants_for(&ctx, "refresh", "u1", Some("other"))
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        s.grants_for(&ctx, "refresh", "u1", 100).await.unwrap(),
        vec![a]
    );
    s.delete_grants_for(&ctx, "refresh", "u1", None)
        .await
        .unwrap();
    assert!(s
        .grants_for(&ctx, "refresh", "u1", 0)
        .await
        .unwrap()
        .is_empty());
    assert!(s.grant(&ctx, "session", "d", 0).await.unwrap().is_some());
    assert!(s.grant(&ctx, "refresh", "c", 0).await.unwrap().is_some());
}

async fn purge_expired_grants(s: &dyn AuthStore, ctx: TenantContext) {
    for (h, exp) in [("x", 10), ("y", 20), ("z", 30)] {
        s.put_grant(&ctx, &grant("jti", h, None, exp))
            .await
            .unwrap();
    }
    assert_eq!(s.purge_expired_grants(&ctx, 20).await.unwrap(), 2);
    assert!(s.grant(&ctx, "jti", "z", 0).await.unwrap().is_some());
    // Purged handles can be stored again.
    s.put_grant(&ctx, &grant("jti", "x", None, 99))
        .await
        .unwrap();
}

async fn signing_keys_newest_first(s: &dyn AuthStore, ctx: TenantContext) {
    assert!(s.signing_keys(&ctx).await.unwrap().is_empty());
    let key = |kid: &str, at: i64| SigningKeyRecord {
        kid: kid.into(),
        alg: "ES256".into(),
        private_der: vec![0, 1, 2, 255],
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        created_at: at,
    };
    assert!(s.add_signing_key(&ctx, &key("k1", 1)).await.unwrap());
    assert!(s.add_signing_key(&ctx, &key("k2", 2)).await.unwrap());
    assert!(!s.add_signing_key(&ctx, &key("k1", 3)).await.unwrap());
    assert_eq!(
        s.signing_keys(&ctx).await.unwrap(),
        vec![key("k2", 2), key("k1", 1)]
    );
}

async fn auth_tenants_are_isolated(s: &dyn AuthStore, ctx: TenantContext) {
    let other = TenantContext::new(format!("{}-other", ctx.tenant), Actor::System, "x");
    s.create_user(&ctx, &sample_user("u1", "same"))
        .await
        .unwrap();
    s.create_user(&other, &sample_user("u1", "same"))
        .await
        .unwrap();
    s.put_grant(&ctx, &grant("code", "h", Some("u1"), 99))
        .await
        .unwrap();
    assert_eq!(s.grant(&other, "code", "h", 0).await.unwrap(), None);
    assert_eq!(s.take_grant(&other, "code", "h", 0).await.unwrap(), None);
    assert!(s.grant(&ctx, "code", "h", 0).await.unwrap().is_some());
    s.create_client(&ctx, &sample_client("c")).await.unwrap();
    assert_eq!(s.client_by_id(&other, "c").await.unwrap(), None);
    assert_eq!(s.list_users(&other).await.unwrap().len(), 1);
    assert_eq!(s.record_login_failure(&other, "u1", 1, 5).await.unwrap(), 1);
    let mine = s.user_by_id(&ctx, "u1").await.unwrap().unwrap();
    assert_eq!(mine.failed_logins, 0);
}
