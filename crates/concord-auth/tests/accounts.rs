//! Accounts, sessions and lockout against a real store (SQLite).

use std::sync::Arc;
use std::time::Duration;

use concord_auth::{AccountKind, AuthConfig, AuthServer, LoginError, NewUser, Role};
use concord_store_sqlite::SqliteStore;

const PW: &str = "correct horse battery staple";

fn server(dir: &tempfile::TempDir, config: AuthConfig) -> AuthServer {
    let store = SqliteStore::open(dir.path().join("auth.db")).unwrap();
    AuthServer::new(Arc::new(store), config)
}

fn patient(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: name.into(),
        kind: AccountKind::Patient {
            patient: "p1".into(),
        },
        password: PW.into(),
        fhir_user: None,
        with_totp: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_idle_timeout_and_on_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let auth = server(
        &dir,
        AuthConfig {
            session_idle: 1,
            ..AuthConfig::default()
        },
    );
    let user = auth.add_user(patient("ann")).await.unwrap().user;
    let s = auth.start_session(&user.id).await.unwrap();
    assert_eq!(auth.session_user(&s).await.unwrap().unwrap().0.id, user.id);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(
        auth.session_user(&s).await.unwrap().is_none(),
        "idle timeout"
    );
    let s2 = auth.start_session(&user.id).await.unwrap();
    assert_ne!(s, s2);
    auth.end_session(&s2).await.unwrap();
    assert!(auth.session_user(&s2).await.unwrap().is_none());
    assert!(auth.session_user("forged").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_expires_and_success_resets_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let auth = server(
        &dir,
        AuthConfig {
            lockout_threshold: 2,
            lockout_seconds: 1,
            ..AuthConfig::default()
        },
    );
    auth.add_user(patient("ben")).await.unwrap();
    assert_eq!(
        auth.login("ben", "nope nope nope", None, None)
            .await
            .unwrap_err(),
        LoginError::InvalidCredentials
    );
    assert!(
        auth.login("ben", PW, None, None).await.is_ok(),
        "success resets"
    );
    assert_eq!(
        auth.login("ben", "nope nope nope", None, None)
            .await
            .unwrap_err(),
        LoginError::InvalidCredentials
    );
    assert_eq!(
        auth.login("ben", "nope nope nope", None, None)
            .await
            .unwrap_err(),
        LoginError::Locked
    );
    assert_eq!(
        auth.login("ben", PW, None, None).await.unwrap_err(),
        LoginError::Locked
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        auth.login("ben", PW, None, None).await.is_ok(),
        "lock expired"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_accounts_validate_input() {
    let dir = tempfile::tempdir().unwrap();
    let auth = server(&dir, AuthConfig::default());
    let mut bad = patient("x");
    assert!(auth.add_user(bad.clone()).await.is_err(), "short username");
    bad.username = "bad name!".into();
    assert!(auth.add_user(bad).await.is_err(), "bad characters");
    let staff = NewUser {
        kind: AccountKind::Staff(Role::Billing),
        ..patient("bill")
    };
    let created = auth.add_user(staff.clone()).await.unwrap();
    assert!(created.totp_secret.is_some() && created.user.totp_secret.is_some());
    assert!(created.totp_uri.unwrap().starts_with("otpauth://totp/"));
    assert!(created.user.password_hash.starts_with("$argon2id$"));
    assert!(matches!(
        auth.add_user(staff).await,
        Err(concord_auth::AuthError::Conflict(_))
    ));
    assert_eq!(
        auth.login("bill", PW, None, None).await.unwrap_err(),
        LoginError::TotpRequired
    );
    assert!(auth.disable_user("nobody").await.is_err());
}
