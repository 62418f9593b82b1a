//! Laboratory and vital-sign Observations: values, reference ranges (from
//! `data/labs.tsv`, NLM MedlinePlus) and interpretation flags, including
//! critical ones (Kost 1990 limits, see the table's header).

use crate::fhir::{coding, concept, quantity, round, Quantity, Ref, LOINC};
use crate::json::jw;
use crate::json::{Json, With};
use crate::rng::Rng;
use crate::tables::{range_source_url, Lab, Sex};

const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// What the patient's conditions push lab values towards.
#[derive(Default, Clone, Copy)]
pub struct LabState {
    pub diabetes: bool,
    pub prediabetes: bool,
    pub lipids: bool,
    pub kidney: bool,
    pub anemia: bool,
}

/// How a result compares with its range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flag {
    Normal,
    Low,
    High,
    CriticalLow,
    CriticalHigh,
}

impl Flag {
    fn code(self) -> (&'static str, &'static str) {
        match self {
            Flag::Normal => ("N", "Normal"),
            Flag::Low => ("L", "Low"),
            Flag::High => ("H", "High"),
            Flag::CriticalLow => ("LL", "Critical low"),
            Flag::CriticalHigh => ("HH", "Critical high"),
        }
    }
}

fn places(lab: &Lab) -> i32 {
    match lab.high.or(lab.low) {
        Some(v) if v >= 100.0 => 0,
        _ => 1,
    }
}

/// The flag of a value against the lab's range and critical limits.
pub fn flag(lab: &Lab, value: f64) -> Flag {
    if lab.critical_low.is_some_and(|c| value < c) {
        return Flag::CriticalLow;
    }
    if lab.critical_high.is_some_and(|c| value > c) {
        return Flag::CriticalHigh;
    }
    if lab.low.is_some_and(|l| value < l) {
        return Flag::Low;
    }
    match lab.high {
        Some(h) if value > h || (lab.high_exclusive && value >= h) => Flag::High,
        _ => Flag::Normal,
    }
}

/// Draws a value: usually inside the range (or where the patient's
/// conditions put it), sometimes just outside, rarely beyond a critical limit.
pub fn draw_value(rng: &mut Rng, lab: &Lab, state: LabState, acute: bool) -> f64 {
    let p = places(lab);
    let critical_chance = if acute { 0.06 } else { 0.006 };
    if rng.chance(critical_chance) {
        let beyond = match (lab.critical_low, lab.critical_high) {
            (Some(lo), Some(hi)) => Some(if rng.chance(0.5) {
                lo * rng.real(0.8, 0.97)
            } else {
                hi * rng.real(1.03, 1.2)
            }),
            (Some(lo), None) => Some(lo * rng.real(0.7, 0.97)),
            (None, Some(hi)) => Some(hi * rng.real(1.03, 1.2)),
            (None, None) => None,
        };
        if let Some(v) = beyond {
            return round(v, p);
        }
    }
    let (lo, hi) = match (lab.low, lab.high) {
        (Some(l), Some(h)) => (l, h),
        (Some(l), None) => (l, l * 1.6),
        (None, Some(h)) => (h * 0.55, h * 0.95),
        (None, None) => (0.0, 1.0),
    };
    let span = hi - lo;
    let mut v = rng.real(lo + span * 0.1, hi - span * 0.1);
    match lab.loinc {
        "2339-0" if state.diabetes => v = rng.real(120.0, 260.0),
        "2339-0" if state.prediabetes => v = rng.real(95.0, 125.0),
        "4548-4" if state.diabetes => v = rng.real(6.5, 9.8),
        "4548-4" if state.prediabetes => v = rng.real(5.7, 6.4),
        "2093-3" | "18262-6" | "2571-8" if state.lipids => v = hi * rng.real(1.05, 1.45),
        "38483-4" if state.kidney => v = rng.real(1.4, 2.6),
        "6299-2" if state.kidney => v = rng.real(21.0, 40.0),
        "718-7" | "4544-3" if state.anemia => v = lo * rng.real(0.78, 0.97),
        _ => {
            if rng.chance(0.05) {
                v = if rng.chance(0.5) && lab.low.is_some() {
                    lo * rng.real(0.85, 0.98)
                } else {
                    hi * rng.real(1.03, 1.2)
                };
            }
        }
    }
    round(v, p)
}

/// A laboratory Observation (US Core laboratory result profile).
#[allow(clippy::too_many_arguments)]
pub fn lab_observation(
    w: &mut Json,
    id: &str,
    lab: &Lab,
    value: f64,
    subject: &Ref,
    encounter: &Ref,
    performer: &Ref,
    when: &str,
) {
    let f = flag(lab, value);
    let (code, display) = f.code();
    let applies_to = match lab.sex {
        Sex::Any => None,
        Sex::Male => Some(("male", "Male")),
        Sex::Female => Some(("female", "Female")),
    };
    let bounds = match (lab.low, lab.high) {
        (Some(l), Some(h)) => format!("{l}-{h} {}", lab.unit),
        (Some(l), None) => format!("{l} {} or higher", lab.unit),
        (None, Some(h)) if lab.high_exclusive => format!("below {h} {}", lab.unit),
        (None, Some(h)) => format!("up to {h} {}", lab.unit),
        (None, None) => String::new(),
    };
    jw!(w, {
        "resourceType": "Observation",
        "id": id,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},
        "status": "final",
        "category": [{"coding": [coding(CATEGORY, "laboratory", "Laboratory")]}],
        "code": concept(LOINC, lab.loinc, lab.display),
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": when,
        "issued": format!("{}.000+00:00", when.trim_end_matches('Z')),
        "performer": [performer],
        "valueQuantity": quantity(value, lab.unit),
        "interpretation": [{"coding": [coding(INTERPRETATION, code, display)], "text": display}],
        "referenceRange": [{
            "low": lab.low.map(|low| quantity(low, lab.unit)),
            "high": lab.high.map(|high| quantity(high, lab.unit)),
            "appliesTo": applies_to.map(|(c, d)| [concept("http://hl7.org/fhir/administrative-gender", c, d)]),
            "text": format!("{bounds} (NLM MedlinePlus, {})", range_source_url(lab.normal_source))
        }]
    });
}

/// The vital signs taken at a visit.
pub struct Vitals {
    pub systolic: f64,
    pub diastolic: f64,
    pub heart_rate: f64,
    pub weight: f64,
    pub height: f64,
    pub temperature: f64,
    pub respiratory_rate: f64,
    pub oxygen: f64,
}

/// One vital sign: its FHIR vital signs profile, LOINC code and value
/// (UCUM units, as that profile requires).
pub struct VitalSign {
    profile: &'static str,
    loinc: &'static str,
    display: &'static str,
    value: VitalValue,
}

enum VitalValue {
    /// Blood pressure: systolic and diastolic components.
    Pressure(f64, f64),
    Quantity(Quantity<'static>),
}

/// The vital signs of a visit, in the order they are written; `full` adds
/// height, BMI, temperature, respiratory rate and oxygen saturation.
pub fn vital_signs(v: &Vitals, full: bool) -> Vec<VitalSign> {
    let sign = |profile: &'static str,
                loinc: &'static str,
                display: &'static str,
                value: f64,
                unit: &'static str| VitalSign {
        profile,
        loinc,
        display,
        value: VitalValue::Quantity(quantity(value, unit)),
    };
    let mut out = Vec::with_capacity(8);
    out.push(VitalSign {
        profile: "bp",
        loinc: "85354-9",
        display: "Blood pressure panel with all children optional",
        value: VitalValue::Pressure(v.systolic, v.diastolic),
    });
    out.push(sign(
        "heartrate",
        "8867-4",
        "Heart rate",
        v.heart_rate,
        "/min",
    ));
    out.push(sign("bodyweight", "29463-7", "Body weight", v.weight, "kg"));
    if full {
        out.push(sign("bodyheight", "8302-2", "Body height", v.height, "cm"));
        let bmi = round(v.weight / (v.height / 100.0).powi(2), 1);
        out.push(sign(
            "bmi",
            "39156-5",
            "Body mass index (BMI) [Ratio]",
            bmi,
            "kg/m2",
        ));
        out.push(sign(
            "bodytemp",
            "8310-5",
            "Body temperature",
            v.temperature,
            "Cel",
        ));
        out.push(sign(
            "resprate",
            "9279-1",
            "Respiratory rate",
            v.respiratory_rate,
            "/min",
        ));
        out.push(sign(
            "oxygensat",
            "2708-6",
            "Oxygen saturation in Arterial blood",
            v.oxygen,
            "%",
        ));
    }
    out
}

/// One vital-sign Observation (FHIR R4 vital signs profile).
pub fn vital_observation(
    w: &mut Json,
    id: &str,
    sign: &VitalSign,
    subject: &Ref,
    encounter: &Ref,
    when: &str,
) {
    let (components, value) = match sign.value {
        VitalValue::Pressure(systolic, diastolic) => (
            Some(With(move |w: &mut Json| {
                jw!(w, [
                    {"code": concept(LOINC, "8480-6", "Systolic blood pressure"), "valueQuantity": quantity(systolic, "mm[Hg]")},
                    {"code": concept(LOINC, "8462-4", "Diastolic blood pressure"), "valueQuantity": quantity(diastolic, "mm[Hg]")}
                ])
            })),
            None,
        ),
        VitalValue::Quantity(q) => (None, Some(q)),
    };
    jw!(w, {
        "resourceType": "Observation",
        "id": id,
        "meta": {"profile": [format!("http://hl7.org/fhir/StructureDefinition/{}", sign.profile)]},
        "status": "final",
        "category": [{"coding": [coding(CATEGORY, "vital-signs", "Vital Signs")], "text": "Vital Signs"}],
        "code": concept(LOINC, sign.loinc, sign.display),
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": when,
        "component": components,
        "valueQuantity": value
    });
}
