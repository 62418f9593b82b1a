//! A synthetic population for the search benchmark: per patient one Patient,
//! four Encounters and four vital-sign Observations per encounter (heart
//! rate, systolic and diastolic blood pressure, body weight), and for one in
//! 25 patients an HbA1c result — about 21 resources each. Deterministic for
//! an index. LOINC codes are those of the FHIR R4 vital-signs profiles
//! (http://hl7.org/fhir/R4/observation-vitalsigns.html) and LOINC 4548-4
//! (Hemoglobin A1c/Hemoglobin.total in Blood). Values are spread over broad
//! ranges for load, not clinical realism. Surnames are from the US Census
//! Bureau's 2010 list of frequently occurring surnames.

use serde_json::{json, Value};

pub const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
];

const GIVEN: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
];

/// (LOINC code, display, UCUM unit, low, high) of the vital signs.
pub const VITALS: &[(&str, &str, &str, f64, f64)] = &[
    ("8867-4", "Heart rate", "/min", 45.0, 130.0),
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 90.0, 190.0),
    ("8462-4", "Diastolic blood pressure", "mm[Hg]", 50.0, 120.0),
    ("29463-7", "Body weight", "kg", 3.0, 150.0),
];

pub const HBA1C: &str = "4548-4";

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((low + unit * (high - low)) * 10.0).round() / 10.0
    }
}

/// Patient number `n`'s record as a transaction Bundle.
pub fn patient_bundle(n: u64) -> Value {
    let mut rng = Rng(n.wrapping_mul(2_654_435_761).wrapping_add(17));
    let family = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
    let given = GIVEN[rng.below(GIVEN.len() as u64) as usize];
    let year = 1930 + rng.below(90);
    let birth = format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28));
    let pid = format!("urn:uuid:00000000-0000-4000-8000-{n:012}");
    let mut entries = vec![json!({
        "fullUrl": pid,
        "resource": {"resourceType": "Patient",
            "identifier": [{"system": "urn:concord:bench:mrn", "value": format!("MRN{n}")}],
            "name": [{"family": family, "given": [given]}],
            "gender": if rng.below(2) == 0 { "female" } else { "male" },
            "birthDate": birth},
        "request": {"method": "POST", "url": "Patient"}
    })];
    for e in 0..4u64 {
        let eid = format!("urn:uuid:00000000-0000-4000-9{e:03}-{n:012}");
        let day = format!(
            "20{:02}-{:02}-{:02}",
            15 + rng.below(10),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        entries.push(json!({
            "fullUrl": eid,
            "resource": {"resourceType": "Encounter", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": pid},
                "period": {"start": format!("{day}T09:00:00Z"), "end": format!("{day}T09:30:00Z")}},
            "request": {"method": "POST", "url": "Encounter"}
        }));
        for (code, display, unit, low, high) in VITALS {
            entries.push(observation(
                &pid,
                &eid,
                code,
                display,
                rng.between(*low, *high),
                unit,
                &day,
            ));
        }
        if e == 0 && n.is_multiple_of(25) {
            entries.push(observation(
                &pid,
                &eid,
                HBA1C,
                "Hemoglobin A1c",
                rng.between(4.0, 12.0),
                "%",
                &day,
            ));
        }
    }
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

fn observation(
    pid: &str,
    eid: &str,
    code: &str,
    display: &str,
    value: f64,
    unit: &str,
    day: &str,
) -> Value {
    json!({
        "resource": {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": pid}, "encounter": {"reference": eid},
            "effectiveDateTime": format!("{day}T09:10:00Z"),
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}},
        "request": {"method": "POST", "url": "Observation"}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_deterministic_and_valid() {
        assert_eq!(patient_bundle(7), patient_bundle(7));
        assert_ne!(patient_bundle(7), patient_bundle(8));
        for n in [0, 1, 25] {
            let b = patient_bundle(n);
            let entries = b["entry"].as_array().unwrap();
            assert_eq!(entries.len(), if n % 25 == 0 { 22 } else { 21 });
            for e in entries {
                let issues = concord_validation::validate_resource(&e["resource"]);
                assert!(
                    !concord_fhir::outcome::has_failures(&issues),
                    "{}: {issues:?}",
                    e["resource"]
                );
            }
        }
    }
}
