use std::collections::BTreeSet;

use concord_auth::{AccountKind, Principal, Role, ScopeSet, Subject};
use concord_store::search::Condition;
use concord_store::{AccessPolicy, Denied, WriteAccess};
use serde_json::json;

use super::ConsentRule;
use super::RequestPolicy;

fn principal(kind: AccountKind, scope: &str, patient: Option<&str>) -> Principal {
    Principal {
        subject: Subject::User {
            id: "u".into(),
            kind,
        },
        scopes: ScopeSet::parse(scope).unwrap(),
        client_id: Some("app".into()),
        patient: patient.map(str::to_string),
        encounter: None,
        fhir_user: Some("Practitioner/u".into()),
        token_id: None,
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn compartment(p: &str) -> Condition {
    Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: p.into(),
    }
}

#[test]
fn patient_searches_are_confined_in_the_query() {
    let p = RequestPolicy::new(
        principal(
            AccountKind::Patient {
                patient: "p1".into(),
            },
            "patient/*.rs",
            Some("p1"),
        ),
        BTreeSet::new(),
        BTreeSet::new(),
        Vec::new(),
    );
    assert!(!p.sees_everything());
    let c = p.confine(&["Observation".into()]).unwrap();
    assert_eq!(c.condition, Some(compartment("p1")));
    assert_eq!(c.types, None);
    // Not in any compartment: readable, no condition.
    let c = p.confine(&["Practitioner".into()]).unwrap();
    assert_eq!(c.condition, None);
    // Every type: narrowed, grouped by restriction with Types conditions.
    let c = p.confine(&[]).unwrap();
    assert!(c.types.as_ref().is_some_and(|t| t.len() > 100));
    assert!(matches!(c.condition, Some(Condition::Any(_))));
    // Reads and writes.
    let own = json!({"resourceType": "Observation", "subject": {"reference": "Patient/p1"}});
    let other = json!({"resourceType": "Observation", "subject": {"reference": "Patient/p2"}});
    assert!(p.may_read("Observation", &own));
    assert!(!p.may_read("Observation", &other));
    assert_eq!(
        p.may_write(WriteAccess::Update, "Observation", Some(&other), Some(&own)),
        Err(Denied::Hidden)
    );
    assert!(matches!(
        p.may_write(WriteAccess::Update, "Observation", Some(&own), Some(&own)),
        Err(Denied::Forbidden(_))
    ));
}

#[test]
fn clinicians_are_confined_to_their_care_team_and_consent_binds_others() {
    let doc = RequestPolicy::new(
        principal(AccountKind::Staff(Role::Physician), "user/*.cruds", None),
        set(&["p1"]),
        set(&["p9"]),
        Vec::new(),
    );
    let c = doc.confine(&["Observation".into()]).unwrap();
    assert_eq!(
        c.condition,
        Some(Condition::Any(vec![
            compartment("p1"),
            compartment("p9"),
            // Like reads: what is linked to no patient is not confined.
            Condition::Not(Box::new(Condition::InCompartmentOfType {
                compartment_type: "Patient".into()
            }))
        ]))
    );
    // A Patient is in its own compartment: no "linked to none" alternative.
    assert_eq!(
        doc.confine(&["Patient".into()]).unwrap().condition,
        Some(Condition::Any(vec![compartment("p1"), compartment("p9")]))
    );
    let unlinked = json!({"resourceType": "Schedule", "actor": [{"reference": "Practitioner/d1"}]});
    assert!(doc.may_read("Schedule", &unlinked));
    // Outside the care team, even the role's permitted type is refused.
    let p3 = json!({"resourceType": "Condition", "subject": {"reference": "Patient/p3"}});
    assert!(!doc.may_read("Condition", &p3));
    assert!(
        doc.confine(&["AuditEvent".into()]).is_err(),
        "no s on audit"
    );
    let billing = RequestPolicy::new(
        principal(AccountKind::Staff(Role::Billing), "user/*.rs", None),
        BTreeSet::new(),
        BTreeSet::new(),
        vec![ConsentRule {
            patient: "p3".into(),
            labels: Vec::new(),
        }],
    );
    assert!(!billing.may_read("Condition", &p3));
    let c = billing.confine(&["Condition".into()]).unwrap();
    assert_eq!(
        c.condition,
        Some(Condition::Not(Box::new(compartment("p3"))))
    );
}

#[test]
fn a_general_practitioners_panel_is_tested_not_listed_for_patients() {
    // p1 and p2 have the user as general practitioner; p5 is on a CareTeam.
    let doc = RequestPolicy::new(
        principal(AccountKind::Staff(Role::Physician), "user/*.cruds", None),
        set(&["p1", "p2", "p5"]),
        set(&["p9"]),
        Vec::new(),
    )
    .with_gp_panel("Practitioner/d1", std::sync::Arc::new(set(&["p5"])));
    let Some(Condition::Any(alternatives)) = doc.confine(&["Patient".into()]).unwrap().condition
    else {
        panic!("care-team alternatives expected")
    };
    assert_eq!(alternatives.len(), 3, "{alternatives:?}");
    assert!(
        matches!(&alternatives[0], Condition::Row { param, .. } if param == "general-practitioner"),
        "{alternatives:?}"
    );
    assert_eq!(alternatives[1..], [compartment("p5"), compartment("p9")]);
    // Alone, the general-practitioner test is still an `Any` (never the
    // search's driver).
    let gp_only = RequestPolicy::new(
        principal(AccountKind::Staff(Role::Physician), "user/*.cruds", None),
        set(&["p1"]),
        BTreeSet::new(),
        Vec::new(),
    )
    .with_gp_panel("Practitioner/d1", std::sync::Arc::new(BTreeSet::new()));
    assert!(matches!(
        gp_only.confine(&["Patient".into()]).unwrap().condition,
        Some(Condition::Any(list)) if list.len() == 1
    ));
    // Other types still list every treated patient's compartment.
    let Some(Condition::Any(listed)) = doc.confine(&["Observation".into()]).unwrap().condition
    else {
        panic!("care-team alternatives expected")
    };
    for p in ["p1", "p2", "p5", "p9"] {
        assert!(listed.contains(&compartment(p)), "{p}");
    }
    // Reads decide on the whole set.
    let p2 = json!({"resourceType": "Patient", "id": "p2"});
    assert!(doc.may_read("Patient", &p2));
}
