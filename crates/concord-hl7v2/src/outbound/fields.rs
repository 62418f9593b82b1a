//! FHIR values → escaped HL7 v2 fields (the reverse of `crate::fhir`).

use serde_json::Value;

use super::{BuildError, Header};
use crate::delimiters::Delimiters;
use crate::escape::escape;

pub fn esc(s: &str) -> String {
    escape(s, &Delimiters::default()).into_owned()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub fn msh(h: &Header, message_type: &str) -> String {
    format!(
        "MSH|^~\\&|{}|{}|{}|{}|{}||{message_type}|{}|{}|2.5.1\r",
        esc(&h.sending_application),
        esc(&h.sending_facility),
        esc(&h.receiving_application),
        esc(&h.receiving_facility),
        esc(&h.timestamp),
        esc(&h.control_id),
        esc(&h.processing_id)
    )
}

/// FHIR system URI → HL7 table 0396 name (the reverse of
/// `fhir::tables::code_system`).
pub fn system_name(system: &str) -> Option<&'static str> {
    Some(match system {
        "http://loinc.org" => "LN",
        "http://snomed.info/sct" => "SCT",
        "http://hl7.org/fhir/sid/cvx" => "CVX",
        "http://hl7.org/fhir/sid/ndc" => "NDC",
        "http://hl7.org/fhir/sid/mvx" => "MVX",
        "http://www.nlm.nih.gov/research/umls/rxnorm" => "RXNORM",
        "http://unitsofmeasure.org" => "UCUM",
        "http://www.ama-assn.org/go/cpt" => "C4",
        "http://hl7.org/fhir/sid/icd-10-cm" => "I10C",
        "http://ncimeta.nci.nih.gov" => "NCIT",
        _ => return None,
    })
}

/// A CodeableConcept → CWE `code^text^system`.
pub fn cwe(cc: &Value) -> Option<String> {
    let coding = cc
        .get("coding")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let code = coding.and_then(|c| str_at(c, "/code"));
    let text = coding
        .and_then(|c| str_at(c, "/display"))
        .or_else(|| str_at(cc, "/text"));
    let system = coding.and_then(|c| str_at(c, "/system")).map(|s| {
        system_name(s)
            .map(str::to_string)
            .unwrap_or_else(|| "L".into())
    });
    match (code, text) {
        (Some(c), t) => Some(format!(
            "{}^{}^{}",
            esc(c),
            esc(t.unwrap_or("")),
            system.unwrap_or_default()
        )),
        (None, Some(t)) => Some(format!("^{}", esc(t))),
        (None, None) => None,
    }
}

/// An identifier system → HD `namespace&universal id&type`.
fn hd(system: &str) -> String {
    if let Some(oid) = system.strip_prefix("urn:oid:") {
        format!("&{}&ISO", esc(oid))
    } else if let Some(ns) = system.strip_prefix("urn:concord:hl7v2:aa:") {
        esc(ns)
    } else {
        format!("&{}&URI", esc(system))
    }
}

/// Patient.identifier → PID-3 repetitions (CX).
pub fn pid_3(patient: &Value) -> Result<String, BuildError> {
    let reps: Vec<String> = patient
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let value = str_at(i, "/value")?;
            let system = str_at(i, "/system").map(hd).unwrap_or_default();
            let ty = str_at(i, "/type/coding/0/code").unwrap_or("MR");
            Some(format!("{}^^^{system}^{}", esc(value), esc(ty)))
        })
        .collect();
    if reps.is_empty() {
        return Err(BuildError::missing("Patient.identifier"));
    }
    Ok(reps.join("~"))
}

/// FHIR date/dateTime → HL7 DTM (`2024-01-02T07:00:00+01:00` →
/// `20240102070000+0100`).
pub fn dtm(v: &str) -> String {
    let (date, time) = v.split_once('T').unwrap_or((v, ""));
    let mut out: String = date.chars().filter(char::is_ascii_digit).collect();
    if !time.is_empty() {
        let (clock, zone) = match time.find(['+', '-', 'Z']) {
            Some(i) => (&time[..i], &time[i..]),
            None => (time, ""),
        };
        let clock = clock.split('.').next().unwrap_or("");
        out.extend(clock.chars().filter(char::is_ascii_digit));
        match zone {
            "Z" => out.push_str("+0000"),
            "" => {}
            z => out.extend(z.chars().filter(|c| *c != ':')),
        }
    }
    out
}

/// The PID segment for a Patient.
pub fn pid(patient: &Value) -> Result<String, BuildError> {
    let name = patient.pointer("/name/0");
    let family = name.and_then(|n| str_at(n, "/family")).unwrap_or("");
    let given: Vec<&str> = name
        .and_then(|n| n.get("given"))
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let xpn = format!(
        "{}^{}^{}",
        esc(family),
        esc(given.first().copied().unwrap_or("")),
        esc(given.get(1).copied().unwrap_or(""))
    );
    let birth = str_at(patient, "/birthDate").map(dtm).unwrap_or_default();
    let sex = match str_at(patient, "/gender") {
        Some("male") => "M",
        Some("female") => "F",
        Some("other") => "O",
        Some("unknown") => "U",
        _ => "",
    };
    Ok(format!(
        "PID|1||{}||{}||{birth}|{sex}\r",
        pid_3(patient)?,
        xpn.trim_end_matches('^')
    ))
}

pub fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    str_at(v, pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_dtm() {
        assert_eq!(dtm("2024-01-02"), "20240102");
        assert_eq!(dtm("2024-01-02T07:00:00+01:00"), "20240102070000+0100");
        assert_eq!(dtm("2024-01-02T07:00:00.123Z"), "20240102070000+0000");
    }
}
