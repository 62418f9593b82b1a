//! Prescriptions: FHIR `MedicationRequest` with a structured sig, validated
//! field by field, from a curated RxNorm picklist (`data/rxnorm.tsv`, source
//! NLM RxNorm named in its header). Nothing here suggests a dose: the
//! prescriber enters every number.
//!
//! Routes are SNOMED CT codes from the R4 route-codes value set
//! (<http://hl7.org/fhir/ValueSet/route-codes>). Frequencies are HL7 timing
//! abbreviations (v3 GTSAbbreviation, the R4 timing-abbreviation value set),
//! each mapped to `Timing.repeat` as in the R4 Timing datatype's table of
//! common schedules.

use crate::error::{ClinicalError, Result};
use crate::util::{check_reference, reference};
use serde_json::{json, Value};
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/rxnorm.tsv");
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const SNOMED: &str = "http://snomed.info/sct";
const GTS: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drug {
    pub rxcui: String,
    pub name: String,
    /// `tablet` or `capsule`: the dispensing unit.
    pub form: String,
}

pub fn drugs() -> &'static [Drug] {
    static TABLE: OnceLock<Vec<Drug>> = OnceLock::new();
    TABLE.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Drug {
                    rxcui: f.next()?.to_string(),
                    name: f.next()?.to_string(),
                    form: f.next()?.to_string(),
                })
            })
            .collect()
    })
}

pub fn drug(rxcui: &str) -> Option<&'static Drug> {
    drugs().iter().find(|d| d.rxcui == rxcui.trim())
}

/// (SNOMED CT code, display, phrase for the sig text).
pub const ROUTES: [(&str, &str, &str); 9] = [
    ("26643006", "Oral route", "by mouth"),
    ("37839007", "Sublingual route", "under the tongue"),
    ("6064005", "Topical route", "on the skin"),
    ("45890007", "Transdermal route", "through the skin"),
    ("46713006", "Nasal route", "in the nose"),
    ("37161004", "Rectal route", "rectally"),
    ("34206005", "Subcutaneous route", "under the skin"),
    ("78421000", "Intramuscular route", "into the muscle"),
    ("47625008", "Intravenous route", "intravenously"),
];

/// (GTS code, meaning, frequency, period, periodUnit, `when`).
pub type Frequency = (
    &'static str,
    &'static str,
    u32,
    u32,
    &'static str,
    Option<&'static str>,
);

pub const FREQUENCIES: [Frequency; 9] = [
    ("QD", "once a day", 1, 1, "d", None),
    ("BID", "twice a day", 2, 1, "d", None),
    ("TID", "three times a day", 3, 1, "d", None),
    ("QID", "four times a day", 4, 1, "d", None),
    ("QOD", "every other day", 1, 2, "d", None),
    ("Q4H", "every 4 hours", 1, 4, "h", None),
    ("Q6H", "every 6 hours", 1, 6, "h", None),
    ("Q8H", "every 8 hours", 1, 8, "h", None),
    ("BED", "at bedtime", 1, 1, "d", Some("HS")),
];

/// What the prescription form submits (all strings, as typed).
#[derive(Debug, Clone, Default)]
pub struct Sig {
    pub rxcui: String,
    /// Dose per administration, e.g. `1` or `0.5`.
    pub dose: String,
    /// `tablet`, `capsule` (the drug's form) or `mg`.
    pub dose_unit: String,
    pub route: String,
    pub frequency: String,
    pub as_needed: bool,
    /// Days of treatment.
    pub duration_days: String,
    /// Number of tablets/capsules to dispense.
    pub quantity: String,
    pub refills: String,
    /// Extra patient instructions (optional).
    pub instructions: String,
}

/// A positive decimal with at most 3 decimals and 6 integer digits.
fn positive_decimal(field: &'static str, v: &str) -> Result<String> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty()
        || !digits(int)
        || !digits(frac)
        || int.len() > 6
        || frac.len() > 3
        || (v.contains('.') && frac.is_empty())
    {
        return Err(ClinicalError::new(field, "enter a number such as 1 or 0.5"));
    }
    if v.chars().all(|c| c == '0' || c == '.') {
        return Err(ClinicalError::new(field, "must be more than zero"));
    }
    // Canonical form: no leading zeros on the integer part.
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Ok(if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    })
}

fn whole(field: &'static str, v: &str, min: u32, max: u32, what: &str) -> Result<u32> {
    match v.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ClinicalError::new(
            field,
            format!("enter {what} from {min} to {max}"),
        )),
    }
}

fn unit_coding(unit: &str) -> (&'static str, &'static str) {
    match unit {
        "tablet" => ("tablet", "{tablet}"),
        "capsule" => ("capsule", "{capsule}"),
        _ => ("mg", "mg"),
    }
}

/// Checks the sig; every problem has the field it belongs to.
pub fn validate_sig(s: &Sig) -> Result<(&'static Drug, String)> {
    let d =
        drug(&s.rxcui).ok_or_else(|| ClinicalError::new("drug", "choose a drug from the list"))?;
    let dose = positive_decimal("dose", &s.dose)?;
    if s.dose_unit != d.form && s.dose_unit != "mg" {
        return Err(ClinicalError::new(
            "dose_unit",
            format!("this drug is dosed in {}s or mg", d.form),
        ));
    }
    if !ROUTES.iter().any(|r| r.0 == s.route) {
        return Err(ClinicalError::new("route", "choose a route from the list"));
    }
    if !FREQUENCIES.iter().any(|f| f.0 == s.frequency) {
        return Err(ClinicalError::new(
            "frequency",
            "choose a frequency from the list",
        ));
    }
    // Bounds below are input sanity limits for the form, not clinical rules.
    whole(
        "duration_days",
        &s.duration_days,
        1,
        365,
        "a number of days",
    )?;
    whole("quantity", &s.quantity, 1, 9999, "a whole number")?;
    whole("refills", &s.refills, 0, 99, "a whole number")?;
    Ok((d, dose))
}

/// Human-readable sig, e.g. `1 tablet by mouth twice a day for 10 days`.
pub fn sig_text(s: &Sig, dose: &str) -> String {
    let route = ROUTES
        .iter()
        .find(|r| r.0 == s.route)
        .map(|r| r.2)
        .unwrap_or("");
    let freq = FREQUENCIES
        .iter()
        .find(|f| f.0 == s.frequency)
        .map(|f| f.1)
        .unwrap_or("");
    let unit = unit_coding(&s.dose_unit).0;
    let plural = if dose == "1" || unit == "mg" { "" } else { "s" };
    let mut t = format!(
        "{dose} {unit}{plural} {route} {freq}{} for {} days",
        if s.as_needed { " as needed" } else { "" },
        s.duration_days.trim()
    );
    if !s.instructions.trim().is_empty() {
        t.push_str(". ");
        t.push_str(s.instructions.trim());
    }
    t
}

pub fn build_prescription(
    s: &Sig,
    patient: &str,
    encounter: Option<&str>,
    requester: &str,
    authored_on: &str,
) -> Result<Value> {
    let (d, dose) = validate_sig(s)?;
    check_reference("patient", patient, &["Patient"])?;
    check_reference(
        "requester",
        requester,
        &["Practitioner", "PractitionerRole"],
    )?;
    if let Some(e) = encounter {
        check_reference("encounter", e, &["Encounter"])?;
    }
    crate::util::check_datetime("authoredOn", authored_on)?;
    let route = ROUTES
        .iter()
        .find(|r| r.0 == s.route)
        .copied()
        .unwrap_or(ROUTES[0]);
    let f = FREQUENCIES
        .iter()
        .find(|f| f.0 == s.frequency)
        .copied()
        .unwrap_or(FREQUENCIES[0]);
    let days: u32 = s.duration_days.trim().parse().unwrap_or(1);
    let quantity: u32 = s.quantity.trim().parse().unwrap_or(1);
    let refills: u32 = s.refills.trim().parse().unwrap_or(0);
    let (unit, ucum) = unit_coding(&s.dose_unit);
    let (form_unit, form_ucum) = unit_coding(&d.form);
    let dose_num: Value = serde_json::from_str(&dose).unwrap_or(json!(1));
    let mut repeat = json!({
        "boundsDuration": { "value": days, "unit": "days", "system": UCUM, "code": "d" },
        "frequency": f.2, "period": f.3, "periodUnit": f.4,
    });
    if let Some(when) = f.5 {
        repeat["when"] = json!([when]);
    }
    let mut dosage = json!({
        "sequence": 1,
        "text": sig_text(s, &dose),
        "timing": { "repeat": repeat, "code": { "coding": [{ "system": GTS, "code": f.0, "display": f.1 }] } },
        "asNeededBoolean": s.as_needed,
        "route": { "coding": [{ "system": SNOMED, "code": route.0, "display": route.1 }] },
        "doseAndRate": [{ "doseQuantity": { "value": dose_num, "unit": unit, "system": UCUM, "code": ucum } }],
    });
    if !s.instructions.trim().is_empty() {
        dosage["patientInstruction"] = json!(s.instructions.trim());
    }
    let mut mr = json!({
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": { "coding": [{ "system": RXNORM, "code": d.rxcui, "display": d.name }], "text": d.name },
        "subject": reference(patient),
        "authoredOn": authored_on,
        "requester": reference(requester),
        "dosageInstruction": [dosage],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": refills,
            "quantity": { "value": quantity, "unit": form_unit, "system": UCUM, "code": form_ucum },
            "expectedSupplyDuration": { "value": days, "unit": "days", "system": UCUM, "code": "d" },
        },
    });
    if let Some(e) = encounter {
        mr["encounter"] = reference(e);
    }
    Ok(mr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;

    fn sig() -> Sig {
        Sig {
            rxcui: "314076".into(),
            dose: "1".into(),
            dose_unit: "tablet".into(),
            route: "26643006".into(),
            frequency: "BID".into(),
            as_needed: false,
            duration_days: "30".into(),
            quantity: "60".into(),
            refills: "2".into(),
            instructions: "Take with water".into(),
        }
    }

    #[test]
    fn prescription_is_valid_and_structured() {
        let mr = build_prescription(
            &sig(),
            "Patient/p1",
            Some("Encounter/e1"),
            "Practitioner/dr1",
            "2026-03-01T09:30:00Z",
        )
        .expect("rx");
        assert_valid(&mr);
        let d = &mr["dosageInstruction"][0];
        assert_eq!(d["timing"]["repeat"]["frequency"], 2);
        assert_eq!(d["timing"]["repeat"]["periodUnit"], "d");
        assert_eq!(d["timing"]["code"]["coding"][0]["code"], "BID");
        assert_eq!(d["route"]["coding"][0]["code"], "26643006");
        assert_eq!(d["doseAndRate"][0]["doseQuantity"]["code"], "{tablet}");
        assert_eq!(
            d["text"],
            "1 tablet by mouth twice a day for 30 days. Take with water"
        );
        assert_eq!(mr["dispenseRequest"]["numberOfRepeatsAllowed"], 2);
        assert_eq!(mr["dispenseRequest"]["quantity"]["value"], 60);
    }

    #[test]
    fn every_drug_route_and_frequency_validates() {
        for d in drugs() {
            for r in ROUTES {
                for f in FREQUENCIES {
                    let s = Sig {
                        rxcui: d.rxcui.clone(),
                        dose_unit: d.form.clone(),
                        route: r.0.into(),
                        frequency: f.0.into(),
                        dose: "0.5".into(),
                        as_needed: true,
                        ..sig()
                    };
                    let mr = build_prescription(
                        &s,
                        "Patient/p1",
                        None,
                        "Practitioner/dr1",
                        "2026-03-01T09:30:00Z",
                    )
                    .expect("rx");
                    if r.0 == "26643006" || d.rxcui == "314076" {
                        assert_valid(&mr);
                    }
                }
            }
        }
    }

    #[test]
    fn sig_errors_name_the_field() {
        let cases: Vec<(Sig, &str)> = vec![
            (
                Sig {
                    rxcui: "1".into(),
                    ..sig()
                },
                "drug",
            ),
            (
                Sig {
                    dose: "0".into(),
                    ..sig()
                },
                "dose",
            ),
            (
                Sig {
                    dose: "-1".into(),
                    ..sig()
                },
                "dose",
            ),
            (
                Sig {
                    dose: "1.".into(),
                    ..sig()
                },
                "dose",
            ),
            (
                Sig {
                    dose: "abc".into(),
                    ..sig()
                },
                "dose",
            ),
            (
                Sig {
                    dose_unit: "capsule".into(),
                    ..sig()
                },
                "dose_unit",
            ),
            (
                Sig {
                    route: "PO".into(),
                    ..sig()
                },
                "route",
            ),
            (
                Sig {
                    frequency: "sometimes".into(),
                    ..sig()
                },
                "frequency",
            ),
            (
                Sig {
                    duration_days: "0".into(),
                    ..sig()
                },
                "duration_days",
            ),
            (
                Sig {
                    quantity: "".into(),
                    ..sig()
                },
                "quantity",
            ),
            (
                Sig {
                    refills: "-1".into(),
                    ..sig()
                },
                "refills",
            ),
        ];
        for (s, field) in cases {
            let err = validate_sig(&s).expect_err(field);
            assert_eq!(err.field, field, "{err}");
            assert!(!err.message.is_empty());
        }
        assert_eq!(
            validate_sig(&Sig {
                dose: "007.50".into(),
                ..sig()
            })
            .map(|v| v.1),
            Ok("7.50".to_string())
        );
    }
}
