//! Immunization (+ Patient) → VXU^V04, v2.5.1 (CDC immunization
//! implementation guide conventions: RXA-9 NIP001, RXA-20 table 0322).

use serde_json::Value;

use super::fields::{cwe, dtm, esc, msh, pid, text};
use super::{BuildError, Header};

pub fn vxu_v04(im: &Value, patient: &Value, h: &Header) -> Result<String, BuildError> {
    let vaccine = im
        .get("vaccineCode")
        .and_then(cwe)
        .ok_or_else(|| BuildError::missing("Immunization.vaccineCode"))?;
    let when = text(im, "/occurrenceDateTime")
        .map(dtm)
        .ok_or_else(|| BuildError::missing("Immunization.occurrenceDateTime"))?;
    let id = text(im, "/id").ok_or_else(|| BuildError::missing("Immunization.id"))?;
    let (amount, unit) = match im.pointer("/doseQuantity/value") {
        Some(v) => (
            v.to_string(),
            text(im, "/doseQuantity/code")
                .or_else(|| text(im, "/doseQuantity/unit"))
                .map(|u| format!("{0}^{0}^UCUM", esc(u)))
                .unwrap_or_default(),
        ),
        None => ("999".to_string(), String::new()),
    };
    let source = match im.get("primarySource").and_then(Value::as_bool) {
        Some(false) => "01^Historical information - source unspecified^NIP001",
        _ => "00^New immunization record^NIP001",
    };
    let (completion, action) = match text(im, "/status") {
        Some("not-done") => ("RE", "A"),
        Some("entered-in-error") => ("CP", "D"),
        _ => ("CP", "A"),
    };
    let lot = text(im, "/lotNumber").map(esc).unwrap_or_default();
    let expiry = text(im, "/expirationDate").map(dtm).unwrap_or_default();
    let mut m = msh(h, "VXU^V04^VXU_V04");
    m.push_str(&pid(patient)?);
    m.push_str(&format!(
        "ORC|RE||{}^{}\r",
        esc(id),
        esc(&h.sending_application)
    ));
    m.push_str(&format!(
        "RXA|0|1|{when}|{when}|{vaccine}|{amount}|{unit}||{source}||||||{lot}|{expiry}||||{completion}|{action}\r"
    ));
    let route = im.get("route").and_then(cwe);
    let site = im.get("site").and_then(cwe);
    // RXR-1 (route) is required when RXR is sent.
    if let Some(route) = route {
        m.push_str(&format!("RXR|{route}|{}\r", site.unwrap_or_default()));
    }
    Ok(m)
}
