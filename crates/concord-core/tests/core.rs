//! The engine over a real SQLite store: what each index policy writes.

use std::sync::Arc;

use concord_core::{Engine, IndexPolicy};
use concord_store::{Actor, TenantContext};
use concord_store_sqlite::SqliteStore;
use serde_json::json;

fn engine(dir: &tempfile::TempDir, policy: IndexPolicy) -> Engine {
    let store = SqliteStore::open(dir.path().join("concord.db")).unwrap();
    Engine::new(Arc::new(store)).with_index_policy(policy)
}

fn patient() -> serde_json::Value {
    json!({"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "42"}],
        "name": [{"family": "Álvarez", "given": ["Ana"]}], "birthDate": "1980-05",
        "generalPractitioner": [{"reference": "Practitioner/dr1"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_policy_writes_every_row_kind_and_lean_writes_identifiers() {
    let ctx = TenantContext::new("t", Actor::System, "test");
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(IndexPolicy::default(), IndexPolicy::AllSearchParameters);
    let full = engine(&dir, IndexPolicy::default());
    let w = full.create(&ctx, "Patient", patient(), None).await.unwrap();
    let rows = full
        .store()
        .index_rows(&ctx, "Patient", &w.id)
        .await
        .unwrap();
    assert!(rows
        .tokens
        .iter()
        .any(|t| t.param == "identifier" && t.code == "42"));
    assert!(
        rows.strings
            .iter()
            .any(|s| s.param == "family" && s.value == "alvarez"),
        "accent-folded family name indexed: {:?}",
        rows.strings
    );
    assert!(rows.dates.iter().any(|d| d.param == "birthdate"));
    assert!(rows
        .references
        .iter()
        .any(|r| r.param == "general-practitioner"));
    assert!(
        !rows.compartments.is_empty(),
        "a Patient is in its own compartment"
    );

    let dir = tempfile::tempdir().unwrap();
    let lean = engine(&dir, IndexPolicy::Identifiers);
    let w = lean.create(&ctx, "Patient", patient(), None).await.unwrap();
    let rows = lean
        .store()
        .index_rows(&ctx, "Patient", &w.id)
        .await
        .unwrap();
    assert_eq!(rows.tokens.len(), 1);
    assert!(rows.strings.is_empty() && rows.dates.is_empty() && rows.references.is_empty());
    // Conditional create matches by identifier under either policy.
    let again = lean
        .create(&ctx, "Patient", patient(), Some("identifier=urn:mrn|42"))
        .await
        .unwrap();
    assert_eq!(again.id, w.id);
}

/// Resources written under the lean policy become searchable after a
/// reindex under the full one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_fills_in_the_search_index() {
    use concord_core::{Handling, SearchRequest};
    let ctx = TenantContext::new("t", Actor::System, "test");
    let dir = tempfile::tempdir().unwrap();
    let lean = engine(&dir, IndexPolicy::Identifiers);
    for _ in 0..3 {
        lean.create(&ctx, "Patient", patient(), None).await.unwrap();
    }
    let gone = lean.create(&ctx, "Patient", patient(), None).await.unwrap();
    lean.delete(&ctx, "Patient", &gone.id, None).await.unwrap();
    let search = |engine: Engine| async move {
        let req = SearchRequest {
            resource_type: Some("Patient".into()),
            compartment: None,
            params: vec![("family".into(), "alv".into())],
            handling: Handling::Strict,
            base_url: String::new(),
        };
        engine.search(&ctx_of(), &req).await.unwrap().matches.len()
    };
    assert_eq!(search(lean.clone()).await, 0, "not indexed by name yet");
    let full = engine(&dir, IndexPolicy::AllSearchParameters);
    let mut batches = 0;
    let done = full.reindex(&ctx, |_| batches += 1).await.unwrap();
    assert_eq!(done, 3, "live resources only");
    assert!(batches >= 1);
    assert_eq!(search(full.clone()).await, 3);
    // Idempotent.
    assert_eq!(full.reindex(&ctx, |_| {}).await.unwrap(), 3);
    assert_eq!(search(full).await, 3);
}

fn ctx_of() -> TenantContext {
    TenantContext::new("t", Actor::System, "test")
}

/// Server-assigned ids are time-ordered (UUID version 7, RFC 9562): each id
/// sorts after the ones issued before it, so a new resource's index rows are
/// appended at the end of their b-tree range instead of landing on a random
/// page (docs/architecture.md point 24). They stay valid FHIR ids.
#[test]
fn server_ids_are_valid_fhir_ids_issued_in_increasing_order() {
    let ids: Vec<String> = (0..2_000).map(|_| concord_core::new_id()).collect();
    for pair in ids.windows(2) {
        assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
    }
    for id in &ids {
        assert!(id.len() <= 64);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        let uuid = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(uuid.get_version_num(), 7, "{id}");
    }
}
