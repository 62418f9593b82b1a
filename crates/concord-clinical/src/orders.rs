//! Lab and imaging orders as FHIR `ServiceRequest`, from a small curated
//! table of LOINC order codes (`data/orderables.tsv`, header names LOINC).
//!
//! Category codes are SNOMED CT 108252007 "Laboratory procedure" and
//! 363679005 "Imaging", from the R4 servicerequest-category value set.

use crate::error::{ClinicalError, Result};
use crate::notes::LOINC;
use crate::util::{check_reference, reference};
use serde_json::{json, Value};
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/orderables.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Lab,
    Imaging,
}

impl OrderKind {
    fn category(self) -> (&'static str, &'static str) {
        match self {
            OrderKind::Lab => ("108252007", "Laboratory procedure"),
            OrderKind::Imaging => ("363679005", "Imaging"),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            OrderKind::Lab => "Lab",
            OrderKind::Imaging => "Imaging",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orderable {
    pub kind: OrderKind,
    pub loinc: String,
    pub display: String,
}

/// Every orderable, in file order.
pub fn orderables() -> &'static [Orderable] {
    static TABLE: OnceLock<Vec<Orderable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                let kind = match f.next()? {
                    "lab" => OrderKind::Lab,
                    "imaging" => OrderKind::Imaging,
                    _ => return None,
                };
                Some(Orderable {
                    kind,
                    loinc: f.next()?.to_string(),
                    display: f.next()?.to_string(),
                })
            })
            .collect()
    })
}

pub fn orderable(loinc: &str) -> Option<&'static Orderable> {
    orderables().iter().find(|o| o.loinc == loinc.trim())
}

/// `routine`, `urgent`, `asap` or `stat` (R4 request-priority, required binding).
pub const PRIORITIES: [&str; 4] = ["routine", "urgent", "asap", "stat"];

pub struct OrderInput<'a> {
    pub loinc: &'a str,
    pub priority: &'a str,
    pub patient: &'a str,
    pub encounter: Option<&'a str>,
    pub requester: &'a str,
    pub authored_on: &'a str,
    /// Free-text reason / clinical question (optional).
    pub note: &'a str,
}

pub fn build_order(i: &OrderInput<'_>) -> Result<Value> {
    let o = orderable(i.loinc)
        .ok_or_else(|| ClinicalError::new("code", "choose a test from the list"))?;
    if !PRIORITIES.contains(&i.priority) {
        return Err(ClinicalError::new(
            "priority",
            "choose routine, urgent, asap or stat",
        ));
    }
    check_reference("patient", i.patient, &["Patient"])?;
    check_reference(
        "requester",
        i.requester,
        &["Practitioner", "PractitionerRole"],
    )?;
    if let Some(e) = i.encounter {
        check_reference("encounter", e, &["Encounter"])?;
    }
    crate::util::check_datetime("authoredOn", i.authored_on)?;
    let (cat, cat_display) = o.kind.category();
    let mut sr = json!({
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [{ "coding": [{ "system": "http://snomed.info/sct", "code": cat, "display": cat_display }] }],
        "priority": i.priority,
        "code": { "coding": [{ "system": LOINC, "code": o.loinc, "display": o.display }], "text": o.display },
        "subject": reference(i.patient),
        "authoredOn": i.authored_on,
        "requester": reference(i.requester),
    });
    if let Some(e) = i.encounter {
        sr["encounter"] = reference(e);
    }
    if !i.note.trim().is_empty() {
        sr["note"] = json!([{ "text": i.note.trim() }]);
    }
    Ok(sr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;

    #[test]
    fn table_has_labs_and_imaging() {
        assert!(orderables().iter().any(|o| o.kind == OrderKind::Lab));
        assert!(orderables().iter().any(|o| o.kind == OrderKind::Imaging));
        assert_eq!(orderable("4548-4").map(|o| o.kind), Some(OrderKind::Lab));
    }

    #[test]
    fn every_orderable_builds_a_valid_service_request() {
        for o in orderables() {
            let sr = build_order(&OrderInput {
                loinc: &o.loinc,
                priority: "routine",
                patient: "Patient/p1",
                encounter: Some("Encounter/e1"),
                requester: "Practitioner/dr1",
                authored_on: "2026-03-01T09:30:00Z",
                note: "fasting",
            })
            .expect("order");
            assert_valid(&sr);
            assert_eq!(sr["code"]["coding"][0]["code"], o.loinc.as_str());
        }
    }

    #[test]
    fn bad_input_is_refused_with_the_field() {
        let base = OrderInput {
            loinc: "0000-0",
            priority: "routine",
            patient: "Patient/p1",
            encounter: None,
            requester: "Practitioner/dr1",
            authored_on: "2026-03-01T09:30:00Z",
            note: "",
        };
        assert_eq!(build_order(&base).map_err(|e| e.field), Err("code"));
        let b = OrderInput {
            loinc: "58410-2",
            priority: "now",
            ..base
        };
        assert_eq!(build_order(&b).map_err(|e| e.field), Err("priority"));
    }
}
