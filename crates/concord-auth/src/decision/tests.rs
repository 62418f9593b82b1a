use super::*;
use crate::role::Role;
use crate::scope::ScopeSet;

fn user(kind: AccountKind, scopes: &str, patient: Option<&str>) -> Principal {
    Principal {
        subject: Subject::User {
            id: "u1".into(),
            kind,
        },
        scopes: ScopeSet::parse(scopes).unwrap(),
        client_id: Some("app".into()),
        patient: patient.map(str::to_string),
        encounter: None,
        fhir_user: None,
        token_id: None,
    }
}

fn staff(role: Role, scopes: &str) -> Principal {
    user(AccountKind::Staff(role), scopes, None)
}

fn client(scopes: &str) -> Principal {
    Principal {
        subject: Subject::Client {
            client_id: "svc".into(),
        },
        scopes: ScopeSet::parse(scopes).unwrap(),
        client_id: Some("svc".into()),
        patient: None,
        encounter: None,
        fhir_user: None,
        token_id: None,
    }
}

use Interaction::*;

#[test]
fn role_and_scope_must_both_allow() {
    let doc = staff(Role::Physician, "user/*.cruds");
    assert_eq!(may(&doc, Read, "Observation", Some("p1")), Decision::Allow);
    assert_eq!(
        may(&doc, Delete, "Observation", Some("p1")),
        Decision::Allow
    );
    assert_eq!(
        may(&doc, Read, "AuditEvent", Some("p1")),
        Decision::Deny(DenyReason::RoleForbids)
    );
    let narrow = staff(Role::Physician, "user/Observation.rs");
    assert_eq!(
        may(&narrow, Create, "Observation", Some("p1")),
        Decision::Deny(DenyReason::NoScope)
    );
    assert_eq!(
        may(&narrow, Read, "Condition", Some("p1")),
        Decision::Deny(DenyReason::NoScope)
    );
    let front = staff(Role::FrontDesk, "user/*.cruds");
    assert_eq!(
        may(&front, Read, "Observation", Some("p1")),
        Decision::Deny(DenyReason::RoleForbids)
    );
    assert_eq!(
        may(&front, Create, "Appointment", Some("p1")),
        Decision::Allow
    );
    let admin = staff(Role::SystemAdmin, "user/*.cruds");
    assert!(!may(&admin, Read, "Patient", Some("p1")).is_allowed());
    assert!(may(&admin, Update, "Organization", None).is_allowed());
    let officer = staff(Role::SecurityOfficer, "user/*.rs");
    assert!(may(&officer, Search, "AuditEvent", None).is_allowed());
    assert!(!may(&officer, Delete, "AuditEvent", None).is_allowed());
}

#[test]
fn interactions_map_to_letters() {
    let p = staff(Role::Physician, "user/Observation.r");
    assert!(may(&p, Read, "Observation", None).is_allowed());
    assert!(may(&p, Vread, "Observation", None).is_allowed());
    assert!(may(&p, HistoryInstance, "Observation", None).is_allowed());
    assert!(!may(&p, Search, "Observation", None).is_allowed());
    assert!(!may(&p, HistoryType, "Observation", None).is_allowed());
    let u = staff(Role::Physician, "user/Observation.u");
    assert!(may(&u, Update, "Observation", None).is_allowed());
    assert!(may(&u, Patch, "Observation", None).is_allowed());
    assert!(!may(&u, Create, "Observation", None).is_allowed());
}

#[test]
fn patient_scopes_are_confined_to_the_launch_patient() {
    let doc = user(
        AccountKind::Staff(Role::Physician),
        "patient/*.cruds",
        Some("p1"),
    );
    assert_eq!(may(&doc, Read, "Observation", Some("p1")), Decision::Allow);
    assert_eq!(
        may(&doc, Read, "Observation", Some("p2")),
        Decision::Deny(DenyReason::OutsidePatientContext)
    );
    // Not patient-specific: readable, not writable.
    assert_eq!(may(&doc, Read, "Practitioner", None), Decision::Allow);
    assert_eq!(
        may(&doc, Create, "Medication", None),
        Decision::Deny(DenyReason::PatientContextWrite)
    );
    // Without a patient in context, patient scopes give nothing.
    let none = user(AccountKind::Staff(Role::Physician), "patient/*.rs", None);
    assert_eq!(
        may(&none, Read, "Observation", Some("p1")),
        Decision::Deny(DenyReason::OutsidePatientContext)
    );
}

#[test]
fn patients_and_proxies_see_only_their_own() {
    let me = user(
        AccountKind::Patient {
            patient: "p1".into(),
        },
        "patient/*.rs user/*.rs",
        Some("p1"),
    );
    assert!(may(&me, Read, "Observation", Some("p1")).is_allowed());
    assert_eq!(
        may(&me, Read, "Observation", Some("p2")),
        Decision::Deny(DenyReason::NotLinkedPatient)
    );
    assert_eq!(
        may(&me, Create, "Observation", Some("p1")),
        Decision::Deny(DenyReason::RoleForbids)
    );
    assert!(may(&me, Search, "AuditEvent", Some("p1")).is_allowed());
    let guardian = user(
        AccountKind::Proxy {
            patients: vec!["c1".into(), "c2".into()],
        },
        "user/*.rs",
        None,
    );
    assert!(may(&guardian, Read, "Immunization", Some("c2")).is_allowed());
    assert_eq!(
        may(&guardian, Read, "Immunization", Some("p9")),
        Decision::Deny(DenyReason::NotLinkedPatient)
    );
}

#[test]
fn system_scopes_are_for_clients_only() {
    let svc = client("system/*.rs");
    assert!(may(&svc, Search, "Observation", None).is_allowed());
    assert!(may(&svc, Read, "Patient", Some("p1")).is_allowed());
    assert_eq!(
        may(&svc, Create, "Patient", None),
        Decision::Deny(DenyReason::NoScope)
    );
    // A client cannot use user/ or patient/ scopes; a user cannot use system/.
    let odd = client("user/*.cruds patient/*.cruds");
    assert!(!may(&odd, Read, "Patient", None).is_allowed());
    let sneaky = staff(Role::Physician, "system/*.cruds");
    assert!(!may(&sneaky, Read, "Observation", None).is_allowed());
}

#[test]
fn granular_scopes_allow_with_filters() {
    let p = user(
        AccountKind::Patient {
            patient: "p1".into(),
        },
        "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs",
        Some("p1"),
    );
    match may(&p, Search, "Observation", Some("p1")) {
        Decision::AllowIf(filters) => assert_eq!(
            filters,
            vec![
                vec![("category".to_string(), "laboratory".to_string())],
                vec![("category".to_string(), "vital-signs".to_string())]
            ]
        ),
        other => panic!("{other:?}"),
    }
    // A plain scope beside a granular one allows outright.
    let mixed = user(
        AccountKind::Staff(Role::Nurse),
        "user/Observation.rs?category=laboratory user/Observation.rs",
        None,
    );
    assert_eq!(may(&mixed, Read, "Observation", Some("x")), Decision::Allow);
}

/// Every role × interaction × representative type, with user/*.cruds: the
/// decision equals the matrix cell.
#[test]
fn decisions_follow_the_matrix_for_every_role() {
    let mut cells = 0;
    for role in Role::ALL {
        let p = staff(role, "user/*.cruds");
        for t in [
            "Patient",
            "Observation",
            "Appointment",
            "Claim",
            "Practitioner",
            "AuditEvent",
            "ValueSet",
        ] {
            for i in Interaction::ALL {
                let want = permitted_for_type(MatrixRow::Staff(role), t).has(i.letter());
                assert_eq!(
                    may(&p, i, t, Some("p1")).is_allowed(),
                    want,
                    "{role} {i:?} {t}"
                );
                cells += 1;
            }
        }
    }
    println!("decision matrix: {cells} cells checked");
}
