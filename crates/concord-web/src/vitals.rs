//! Vital signs: the LOINC codes and UCUM units of the HL7 FHIR R4
//! vital-signs profiles (<http://hl7.org/fhir/R4/observation-vitalsigns.html>),
//! the checks a typed value must pass, and the Observation it becomes.
//!
//! Plausibility limits (a value outside is refused as a likely typing or
//! unit error, not judged clinically) come from the OHDSI Data Quality
//! Dashboard's concept-level thresholds (`plausibleValueLow` /
//! `plausibleValueHigh` in `inst/csv/OMOP_CDMv5.3.1_Concept_Level.csv`,
//! github.com/OHDSI/DataQualityDashboard), per measurement concept and unit:
//! pulse rate 0–300 /min, respiratory rate 0–100 /min, body temperature
//! 34–45 °C, body weight 2–500 kg / 4–1000 lb / 2000–500000 g, body height
//! 20–250 cm, systolic 60–300 mm Hg, diastolic 30–200 mm Hg. Limits in the
//! other profile units (°F, inches) are those limits converted
//! (°F = °C × 9/5 + 32; 1 in = 2.54 cm). Oxygen saturation is a
//! percentage (0–100) by definition; systolic must exceed diastolic by
//! definition of the two pressures.

use serde_json::{json, Number, Value};

pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const CATEGORY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// A unit a vital sign may be recorded in, with its plausible range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitRange {
    /// UCUM code.
    pub ucum: &'static str,
    /// Shown to people.
    pub label: &'static str,
    pub low: f64,
    pub high: f64,
}

/// One vital sign of the entry form.
#[derive(Debug, Clone, Copy)]
pub struct Vital {
    /// Form field name (and `{key}_unit` for the unit).
    pub key: &'static str,
    pub label: &'static str,
    pub loinc: &'static str,
    pub display: &'static str,
    /// The first unit is the default.
    pub units: &'static [UnitRange],
}

const fn u(ucum: &'static str, label: &'static str, low: f64, high: f64) -> UnitRange {
    UnitRange {
        ucum,
        label,
        low,
        high,
    }
}

pub const BP_PANEL: &str = "85354-9";
pub const SYSTOLIC: Vital = Vital {
    key: "systolic",
    label: "Systolic blood pressure",
    loinc: "8480-6",
    display: "Systolic blood pressure",
    units: &[u("mm[Hg]", "mmHg", 60.0, 300.0)],
};
pub const DIASTOLIC: Vital = Vital {
    key: "diastolic",
    label: "Diastolic blood pressure",
    loinc: "8462-4",
    display: "Diastolic blood pressure",
    units: &[u("mm[Hg]", "mmHg", 30.0, 200.0)],
};

/// The single-value vital signs of the entry form (blood pressure is the
/// panel of [`SYSTOLIC`] and [`DIASTOLIC`]).
pub const SINGLE: &[Vital] = &[
    Vital {
        key: "heart_rate",
        label: "Heart rate",
        loinc: "8867-4",
        display: "Heart rate",
        units: &[u("/min", "beats/min", 0.0, 300.0)],
    },
    Vital {
        key: "resp_rate",
        label: "Respiratory rate",
        loinc: "9279-1",
        display: "Respiratory rate",
        units: &[u("/min", "breaths/min", 0.0, 100.0)],
    },
    Vital {
        key: "temperature",
        label: "Body temperature",
        loinc: "8310-5",
        display: "Body temperature",
        units: &[u("Cel", "°C", 34.0, 45.0), u("[degF]", "°F", 93.2, 113.0)],
    },
    Vital {
        key: "spo2",
        label: "Oxygen saturation",
        loinc: "2708-6",
        display: "Oxygen saturation in Arterial blood",
        units: &[u("%", "%", 0.0, 100.0)],
    },
    Vital {
        key: "weight",
        label: "Body weight",
        loinc: "29463-7",
        display: "Body weight",
        units: &[
            u("kg", "kg", 2.0, 500.0),
            u("[lb_av]", "lb", 4.0, 1000.0),
            u("g", "g", 2000.0, 500000.0),
        ],
    },
    Vital {
        key: "height",
        label: "Body height",
        loinc: "8302-2",
        display: "Body height",
        units: &[u("cm", "cm", 20.0, 250.0), u("[in_i]", "in", 7.87, 98.43)],
    },
];

/// BMI (LOINC 39156-5), computed when weight and height are both entered.
pub const BMI: Vital = Vital {
    key: "bmi",
    label: "Body mass index",
    loinc: "39156-5",
    display: "Body mass index (BMI) [Ratio]",
    units: &[u("kg/m2", "kg/m²", 0.0, f64::MAX)],
};

/// Every vital sign code shown in tables and trends, in display order.
pub fn all() -> Vec<Vital> {
    let mut v = vec![SYSTOLIC, DIASTOLIC];
    v.extend_from_slice(SINGLE);
    v.push(BMI);
    v
}

/// A checked value: the number as typed and its UCUM unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub text: String,
    pub value: f64,
    pub unit: UnitRange,
}

/// Checks one typed value; `Ok(None)` when left blank.
pub fn check(
    vital: &Vital,
    raw: Option<&str>,
    unit: Option<&str>,
) -> Result<Option<Reading>, String> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let unit_code = unit.unwrap_or(vital.units[0].ucum);
    let Some(range) = vital.units.iter().find(|r| r.ucum == unit_code) else {
        let allowed: Vec<&str> = vital.units.iter().map(|r| r.label).collect();
        return Err(format!(
            "{}: the unit must be one of {}.",
            vital.label,
            allowed.join(", ")
        ));
    };
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    let value = text.parse::<f64>().ok().filter(|v| plain && v.is_finite());
    let Some(value) = value else {
        return Err(format!(
            "{}: \"{}\" is not a number (use digits and a decimal point, e.g. 72 or 36.8).",
            vital.label,
            text.chars().take(20).collect::<String>()
        ));
    };
    if value < range.low || value > range.high {
        return Err(format!(
            "{}: {} {} is outside the plausible range {}–{} {} — check the value and the unit.",
            vital.label,
            text,
            range.label,
            trim_number(range.low),
            trim_number(range.high),
            range.label
        ));
    }
    Ok(Some(Reading {
        text: text.to_string(),
        value,
        unit: *range,
    }))
}

fn trim_number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Blood pressure: both or neither, systolic above diastolic.
pub fn check_bp(
    systolic: Option<&str>,
    diastolic: Option<&str>,
) -> Result<Option<(Reading, Reading)>, Vec<String>> {
    let s = check(&SYSTOLIC, systolic, None);
    let d = check(&DIASTOLIC, diastolic, None);
    match (s, d) {
        (Ok(None), Ok(None)) => Ok(None),
        (Ok(Some(s)), Ok(Some(d))) => {
            if s.value <= d.value {
                Err(vec![format!(
                    "Blood pressure: systolic ({}) must be higher than diastolic ({}).",
                    s.text, d.text
                )])
            } else {
                Ok(Some((s, d)))
            }
        }
        (Ok(Some(_)), Ok(None)) | (Ok(None), Ok(Some(_))) => Err(vec![
            "Blood pressure: enter both systolic and diastolic.".into(),
        ]),
        (s, d) => Err([s.err(), d.err()].into_iter().flatten().collect()),
    }
}

/// The number as typed, kept exactly (FHIR decimals keep their precision).
fn number(text: &str) -> Value {
    text.parse::<Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn quantity(r: &Reading) -> Value {
    json!({"value": number(&r.text), "unit": r.unit.label, "system": UCUM, "code": r.unit.ucum})
}

fn coded(vital: &Vital) -> Value {
    json!({"coding": [{"system": LOINC, "code": vital.loinc, "display": vital.display}], "text": vital.label})
}

fn base(code: Value, patient: &str, when: &str, performer: Option<&str>) -> Value {
    let mut obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}], "text": "Vital Signs"}],
        "code": code,
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": when,
    });
    if let Some(p) = performer {
        obs["performer"] = json!([{"reference": p}]);
    }
    obs
}

/// One vital-sign Observation.
pub fn observation(
    vital: &Vital,
    r: &Reading,
    patient: &str,
    when: &str,
    performer: Option<&str>,
) -> Value {
    let mut obs = base(coded(vital), patient, when, performer);
    obs["valueQuantity"] = quantity(r);
    obs
}

/// The blood-pressure panel Observation (profile: code 85354-9, components).
pub fn bp_observation(
    s: &Reading,
    d: &Reading,
    patient: &str,
    when: &str,
    performer: Option<&str>,
) -> Value {
    let code = json!({"coding": [{"system": LOINC, "code": BP_PANEL, "display": "Blood pressure panel with all children optional"}], "text": "Blood pressure"});
    let mut obs = base(code, patient, when, performer);
    obs["component"] = json!([
        {"code": coded(&SYSTOLIC), "valueQuantity": quantity(s)},
        {"code": coded(&DIASTOLIC), "valueQuantity": quantity(d)},
    ]);
    obs
}

/// BMI from weight and height (kg / m², CDC's definition), one decimal.
pub fn bmi(weight: &Reading, height: &Reading) -> Option<Reading> {
    let kg = match weight.unit.ucum {
        "kg" => weight.value,
        "g" => weight.value / 1000.0,
        "[lb_av]" => weight.value * 0.453_592_37,
        _ => return None,
    };
    let m = match height.unit.ucum {
        "cm" => height.value / 100.0,
        "[in_i]" => height.value * 0.0254,
        _ => return None,
    };
    if m <= 0.0 {
        return None;
    }
    let v = kg / (m * m);
    Some(Reading {
        text: format!("{v:.1}"),
        value: (v * 10.0).round() / 10.0,
        unit: BMI.units[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_units_and_limits() {
        let hr = SINGLE[0];
        assert_eq!(check(&hr, Some(""), None), Ok(None));
        assert_eq!(check(&hr, Some("72"), None).unwrap().unwrap().value, 72.0);
        assert!(check(&hr, Some("7 2"), None)
            .unwrap_err()
            .contains("not a number"));
        assert!(check(&hr, Some("-5"), None)
            .unwrap_err()
            .contains("not a number"));
        assert!(check(&hr, Some("301"), None)
            .unwrap_err()
            .contains("plausible range 0–300"));
        let weight = SINGLE[4];
        // 80 typed as kg is fine; 800 kg is not (probably lb or a typo).
        assert!(check(&weight, Some("80"), Some("kg")).unwrap().is_some());
        assert!(check(&weight, Some("800"), Some("kg")).is_err());
        assert!(check(&weight, Some("800"), Some("[lb_av]")).is_ok());
        assert!(check(&weight, Some("80"), Some("stone"))
            .unwrap_err()
            .contains("unit"));
        let temp = SINGLE[2];
        assert!(check(&temp, Some("98.6"), Some("Cel")).is_err());
        assert!(check(&temp, Some("98.6"), Some("[degF]"))
            .unwrap()
            .is_some());
    }

    #[test]
    fn blood_pressure_needs_both_and_order() {
        assert!(check_bp(Some("120"), Some("80")).unwrap().is_some());
        assert_eq!(check_bp(None, None), Ok(None));
        assert!(check_bp(Some("120"), None).is_err());
        assert!(check_bp(Some("80"), Some("120")).unwrap_err()[0].contains("higher"));
    }

    #[test]
    fn observations_follow_the_profile() {
        let s = check(&SYSTOLIC, Some("120"), None).unwrap().unwrap();
        let d = check(&DIASTOLIC, Some("80"), None).unwrap().unwrap();
        let bp = bp_observation(&s, &d, "p1", "2026-01-01T10:00:00Z", None);
        assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(bp["component"][0]["valueQuantity"]["code"], "mm[Hg]");
        let w = check(&SINGLE[4], Some("70"), Some("kg")).unwrap().unwrap();
        let h = check(&SINGLE[5], Some("175"), Some("cm")).unwrap().unwrap();
        assert_eq!(bmi(&w, &h).unwrap().text, "22.9");
        let obs = observation(
            &SINGLE[4],
            &w,
            "p1",
            "2026-01-01T10:00:00Z",
            Some("Practitioner/x"),
        );
        assert_eq!(obs["valueQuantity"]["system"], UCUM);
        assert_eq!(obs["performer"][0]["reference"], "Practitioner/x");
    }
}
