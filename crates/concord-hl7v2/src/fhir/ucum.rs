//! Units of OBX-6 → UCUM. When OBX-6-3 already says the unit is UCUM the
//! code is taken as it is; otherwise the small table below maps the common
//! non-UCUM spellings seen in lab feeds. Sources: "The Unified Code for
//! Units of Measure" (unitsofmeasure.org, c/s symbols) and the FHIR R4
//! value set `ucum-common` (<http://hl7.org/fhir/ValueSet/ucum-common>),
//! following HL7 v2.5.1 OBX-6 guidance to send UCUM.

pub const UCUM: &str = "http://unitsofmeasure.org";

/// A non-UCUM spelling (compared case-sensitively first, then ignoring
/// case) → its UCUM code.
const TABLE: &[(&str, &str)] = &[
    ("%", "%"),
    ("mg/dl", "mg/dL"),
    ("g/dl", "g/dL"),
    ("g/l", "g/L"),
    ("mg/l", "mg/L"),
    ("ug/l", "ug/L"),
    ("ng/ml", "ng/mL"),
    ("pg/ml", "pg/mL"),
    ("ug/dl", "ug/dL"),
    ("mmol/l", "mmol/L"),
    ("umol/l", "umol/L"),
    ("nmol/l", "nmol/L"),
    ("pmol/l", "pmol/L"),
    ("meq/l", "meq/L"),
    ("mEq/L", "meq/L"),
    ("iu/l", "[IU]/L"),
    ("IU/L", "[IU]/L"),
    ("u/l", "U/L"),
    ("miu/ml", "m[IU]/mL"),
    ("uiu/ml", "u[IU]/mL"),
    ("k/ul", "10*3/uL"),
    ("K/uL", "10*3/uL"),
    ("x10e3/ul", "10*3/uL"),
    ("10^3/ul", "10*3/uL"),
    ("m/ul", "10*6/uL"),
    ("x10e6/ul", "10*6/uL"),
    ("10^6/ul", "10*6/uL"),
    ("giga.l-1", "10*9/L"),
    ("10^9/l", "10*9/L"),
    ("tera.l-1", "10*12/L"),
    ("10^12/l", "10*12/L"),
    ("fl", "fL"),
    ("pg", "pg"),
    ("ml", "mL"),
    ("l", "L"),
    ("dl", "dL"),
    ("mg", "mg"),
    ("g", "g"),
    ("kg", "kg"),
    ("lb", "[lb_av]"),
    ("lbs", "[lb_av]"),
    ("oz", "[oz_av]"),
    ("cm", "cm"),
    ("mm", "mm"),
    ("m", "m"),
    ("in", "[in_i]"),
    ("inch", "[in_i]"),
    ("mmhg", "mm[Hg]"),
    ("mm hg", "mm[Hg]"),
    ("bpm", "/min"),
    ("beats/min", "/min"),
    ("/min", "/min"),
    ("breaths/min", "/min"),
    ("degc", "Cel"),
    ("deg c", "Cel"),
    ("cel", "Cel"),
    ("degf", "[degF]"),
    ("deg f", "[degF]"),
    ("s", "s"),
    ("sec", "s"),
    ("min", "min"),
    ("h", "h"),
    ("hr", "h"),
    ("d", "d"),
    ("day", "d"),
    ("wk", "wk"),
    ("mo", "mo"),
    ("yr", "a"),
    ("a", "a"),
    ("kg/m2", "kg/m2"),
    ("ml/min/1.73m2", "mL/min/{1.73_m2}"),
    ("ratio", "{ratio}"),
];

/// `(code, human unit)` for OBX-6: the UCUM code when known.
pub fn to_ucum(code: &str, system: Option<&str>) -> Option<String> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    if system.is_some_and(|s| s.eq_ignore_ascii_case("UCUM")) {
        // UCUM expressions never contain whitespace (UCUM §3).
        return (!code.contains(char::is_whitespace)).then(|| code.to_string());
    }
    if let Some((_, u)) = TABLE.iter().find(|(k, _)| *k == code) {
        return Some((*u).to_string());
    }
    TABLE
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(code))
        .map(|(_, u)| (*u).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_common_units() {
        assert_eq!(to_ucum("mg/dl", None).as_deref(), Some("mg/dL"));
        assert_eq!(to_ucum("beats/min", Some("ISO")).as_deref(), Some("/min"));
        assert_eq!(to_ucum("giga.l-1", None).as_deref(), Some("10*9/L"));
        assert_eq!(to_ucum("mL", Some("UCUM")).as_deref(), Some("mL"));
        assert_eq!(to_ucum("furlongs", None), None);
    }
}
