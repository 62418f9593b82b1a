//! Encryption at rest (SQLCipher): the file holds no plaintext, opens only
//! with its key, and `rekey` rotates, adds or removes the key.

use std::path::Path;

use concord_store::{conformance, Actor, ResourceStore, TenantContext};
use concord_store_sqlite::{rekey, DbKey, SqliteStore};

const RAW: &str = "8c1f0e4b9a7d3c2e5f60718293a4b5c6d7e8f9011223344556677889900aabbc";
const FAMILY: &str = "Zebulonovich";
const MRN: &str = "MRN-77441122-QX";

fn key(text: &str) -> Option<DbKey> {
    Some(DbKey::new(text).unwrap())
}

fn patient() -> serde_json::Value {
    serde_json::json!({
        "resourceType": "Patient", "id": "enc1",
        "identifier": [{"system": "urn:test:mrn", "value": MRN}],
        "name": [{"family": FAMILY, "given": ["Quillon"]}],
        "birthDate": "1931-07-14"
    })
}

async fn store_fixture(path: &Path, k: Option<DbKey>) {
    let store = SqliteStore::open_with_key(path, k).unwrap();
    let ctx = TenantContext::new("t", Actor::System, "r");
    store
        .commit(
            &ctx,
            vec![concord_store::PendingWrite {
                resource_type: "Patient".into(),
                id: "enc1".into(),
                kind: concord_store::WriteKind::Update,
                precondition: concord_store::Precondition::None,
                resource: Some(patient()),
                index: Default::default(),
            }],
        )
        .await
        .unwrap();
}

async fn family_of(path: &Path, k: Option<DbKey>) -> Result<String, String> {
    let store = SqliteStore::open_with_key(path, k).map_err(|e| e.to_string())?;
    let ctx = TenantContext::new("t", Actor::System, "r");
    let v = store.read(&ctx, "Patient", "enc1").await.unwrap().unwrap();
    let body: serde_json::Value = serde_json::from_str(&v.content.unwrap()).unwrap();
    Ok(body["name"][0]["family"].as_str().unwrap().to_string())
}

/// Every byte of the database and its WAL.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        all.extend(wal);
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_store_passes_the_conformance_suite() {
    // FTS5, JSON functions and every query run on the SQLCipher build.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_key(dir.path().join("concord.db"), key(RAW)).unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_file_has_no_plaintext_and_needs_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concord.db");
    store_fixture(&path, key(RAW)).await;
    let bytes = file_bytes(&path);
    assert!(bytes.len() > 4096);
    for needle in [
        FAMILY,
        MRN,
        "1931-07-14",
        "Quillon",
        "SQLite format 3",
        "CREATE TABLE",
    ] {
        assert!(!contains(&bytes, needle), "{needle} readable in the file");
    }
    assert_eq!(family_of(&path, key(RAW)).await.unwrap(), FAMILY);
    // No key, a wrong key: a clear error, not garbage.
    let none = family_of(&path, None).await.unwrap_err();
    assert!(none.contains("the file is encrypted"), "{none}");
    let wrong = family_of(&path, key("a wrong passphrase"))
        .await
        .unwrap_err();
    assert!(wrong.contains("the database key is wrong"), "{wrong}");
    // The same fixture without a key is plain SQLite (the control).
    let plain = dir.path().join("plain.db");
    store_fixture(&plain, None).await;
    let bytes = file_bytes(&plain);
    assert!(contains(&bytes, "SQLite format 3") && contains(&bytes, FAMILY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_rotates_adds_and_removes_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concord.db");
    // Plain → encrypted (passphrase).
    store_fixture(&path, None).await;
    rekey(&path, None, key("first passphrase").as_ref()).unwrap();
    assert!(!contains(&file_bytes(&path), FAMILY));
    assert_eq!(
        family_of(&path, key("first passphrase")).await.unwrap(),
        FAMILY
    );
    assert!(family_of(&path, None).await.is_err());
    // Rotation in place (PRAGMA rekey) to a raw key; the old key stops working.
    rekey(&path, key("first passphrase").as_ref(), key(RAW).as_ref()).unwrap();
    assert_eq!(family_of(&path, key(RAW)).await.unwrap(), FAMILY);
    let old = family_of(&path, key("first passphrase")).await.unwrap_err();
    assert!(old.contains("key is wrong"), "{old}");
    // Rekeying with the wrong current key changes nothing.
    assert!(rekey(&path, key("not it").as_ref(), key("x").as_ref()).is_err());
    assert_eq!(family_of(&path, key(RAW)).await.unwrap(), FAMILY);
    // Writes keep working after a rotation, then encrypted → plain.
    store_fixture(&path, key(RAW)).await;
    rekey(&path, key(RAW).as_ref(), None).unwrap();
    assert!(contains(&file_bytes(&path), "SQLite format 3"));
    assert_eq!(family_of(&path, None).await.unwrap(), FAMILY);
}
