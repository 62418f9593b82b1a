//! Reading FHIR JSON for display: names, codes, dates, quantities. Pure
//! functions over `serde_json::Value`; missing data reads as "".

use serde_json::Value;

/// `Patient.identifier` type for medical record numbers (HL7 v2 table 0203).
pub const MR_TYPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// The identifier system of MRNs Concord assigns at registration.
pub const MRN_SYSTEM: &str = "urn:concord:mrn";

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = match cur.get(p) {
            Some(next) => next,
            None => return "",
        };
    }
    cur.as_str().unwrap_or("")
}

/// "Given Family" of the first (official, else any) name.
pub fn human_name(resource: &Value) -> String {
    let names = resource.get("name").and_then(Value::as_array);
    let Some(names) = names else {
        return String::new();
    };
    let name = names
        .iter()
        .find(|n| n.get("use").and_then(Value::as_str) == Some("official"))
        .or_else(|| names.first());
    let Some(n) = name else {
        return String::new();
    };
    if let Some(text) = n.get("text").and_then(Value::as_str) {
        return text.to_string();
    }
    let given: Vec<&str> = n
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let family = n.get("family").and_then(Value::as_str).unwrap_or("");
    let mut out = given.join(" ");
    if !family.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(family);
    }
    out
}

/// "Family, Given" for lists.
pub fn sort_name(resource: &Value) -> String {
    let n = resource
        .get("name")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let Some(n) = n else {
        return String::new();
    };
    let family = n.get("family").and_then(Value::as_str).unwrap_or("");
    let given: Vec<&str> = n
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match (family.is_empty(), given.is_empty()) {
        (false, false) => format!("{family}, {}", given.join(" ")),
        (false, true) => family.to_string(),
        _ => human_name(resource),
    }
}

/// The medical record number: an identifier typed `MR`, else Concord's
/// MRN system, else the first identifier.
pub fn mrn(patient: &Value) -> String {
    let ids = patient.get("identifier").and_then(Value::as_array);
    let Some(ids) = ids else {
        return String::new();
    };
    let typed = ids.iter().find(|i| {
        i.get("type")
            .and_then(|t| t.get("coding"))
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.get("code").and_then(Value::as_str) == Some("MR"))
            })
    });
    typed
        .or_else(|| {
            ids.iter()
                .find(|i| i.get("system").and_then(Value::as_str) == Some(MRN_SYSTEM))
        })
        .or_else(|| ids.first())
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// A telecom value of the given system (`phone`, `email`).
pub fn telecom(resource: &Value, system: &str) -> String {
    resource
        .get("telecom")
        .and_then(Value::as_array)
        .and_then(|t| {
            t.iter()
                .find(|c| c.get("system").and_then(Value::as_str) == Some(system))
        })
        .and_then(|c| c.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Text of a CodeableConcept: `text`, else the first coding's display, else its code.
pub fn concept_text(cc: Option<&Value>) -> String {
    let Some(cc) = cc else {
        return String::new();
    };
    if let Some(t) = cc.get("text").and_then(Value::as_str) {
        return t.to_string();
    }
    let first = cc
        .get("coding")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    match first {
        Some(c) => c
            .get("display")
            .and_then(Value::as_str)
            .or_else(|| c.get("code").and_then(Value::as_str))
            .unwrap_or("")
            .to_string(),
        None => String::new(),
    }
}

/// The first code of a CodeableConcept with the given system.
pub fn code_in(cc: Option<&Value>, system: &str) -> Option<String> {
    cc?.get("coding")?
        .as_array()?
        .iter()
        .find(|c| c.get("system").and_then(Value::as_str) == Some(system))
        .and_then(|c| c.get("code"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Any code of a CodeableConcept (first coding).
pub fn first_code(cc: Option<&Value>) -> Option<String> {
    cc?.get("coding")?
        .as_array()?
        .first()?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

/// The date (YYYY-MM-DD) part of a FHIR date or dateTime.
pub fn day(text: &str) -> &str {
    text.get(..10).unwrap_or(text)
}

/// When a clinical item happened: effective / onset / recorded / authored / period start.
pub fn when(resource: &Value) -> String {
    for key in [
        "effectiveDateTime",
        "occurrenceDateTime",
        "onsetDateTime",
        "authoredOn",
        "recordedDate",
        "issued",
        "date",
    ] {
        if let Some(s) = resource.get(key).and_then(Value::as_str) {
            return s.to_string();
        }
    }
    for key in ["effectivePeriod", "period"] {
        if let Some(s) = resource
            .get(key)
            .and_then(|p| p.get("start"))
            .and_then(Value::as_str)
        {
            return s.to_string();
        }
    }
    String::new()
}

/// Whole years between a birth date (YYYY-MM-DD) and today (YYYY-MM-DD).
pub fn age_years(birth: &str, today: &str) -> Option<i64> {
    let p = |s: &str, a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok());
    let (by, bm, bd) = (
        p(birth, 0, 4)?,
        p(birth, 5, 7).unwrap_or(1),
        p(birth, 8, 10).unwrap_or(1),
    );
    let (ty, tm, td) = (p(today, 0, 4)?, p(today, 5, 7)?, p(today, 8, 10)?);
    let mut age = ty - by;
    if (tm, td) < (bm, bd) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

/// Today's date, UTC, as YYYY-MM-DD.
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

/// Now as a FHIR instant (UTC, seconds).
pub fn now_instant() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// A Quantity as "value unit".
pub fn quantity(q: Option<&Value>) -> String {
    let Some(q) = q else {
        return String::new();
    };
    let value = match q.get("value") {
        Some(Value::Number(n)) => n.to_string(),
        _ => return String::new(),
    };
    let unit = q
        .get("unit")
        .or_else(|| q.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{value} {unit}").trim().to_string()
}

/// A Quantity's value as f64.
pub fn quantity_value(q: Option<&Value>) -> Option<f64> {
    match q?.get("value")? {
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// The reference `Type/id` of a Reference element.
pub fn reference(r: Option<&Value>) -> String {
    r.and_then(|r| r.get("reference"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_ages_and_mrns() {
        let p = json!({"name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
            "identifier": [{"system": "x", "value": "1"},
                {"type": {"coding": [{"system": MR_TYPE_SYSTEM, "code": "MR"}]}, "value": "MRN-7"}]});
        assert_eq!(human_name(&p), "Peter James Chalmers");
        assert_eq!(sort_name(&p), "Chalmers, Peter James");
        assert_eq!(mrn(&p), "MRN-7");
        assert_eq!(age_years("1974-12-25", "2026-11-26"), Some(51));
        assert_eq!(age_years("1974-11-26", "2026-11-26"), Some(52));
        assert_eq!(age_years("2027-01-01", "2026-11-26"), None);
        assert_eq!(
            quantity(Some(&json!({"value": 72, "unit": "/min"}))),
            "72 /min"
        );
    }
}
