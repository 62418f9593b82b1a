//! ServiceRequest (+ Patient) → OML^O21 (laboratory order), v2.5.1.

use serde_json::Value;

use super::fields::{cwe, dtm, esc, msh, pid, text};
use super::{BuildError, Header};

/// The placer order number: the ServiceRequest's first identifier, else
/// its id, in the sending application's namespace.
fn placer(sr: &Value, h: &Header) -> Result<String, BuildError> {
    let number = text(sr, "/identifier/0/value")
        .or_else(|| text(sr, "/id"))
        .ok_or_else(|| BuildError::missing("ServiceRequest.id"))?;
    Ok(format!("{}^{}", esc(number), esc(&h.sending_application)))
}

/// The order as it stands: ORC-1 (order control, HL7 table 0119) `NW`
/// (new order), or `CA` (cancel request) for a revoked or entered-in-error
/// ServiceRequest.
pub fn oml_o21(sr: &Value, patient: &Value, h: &Header) -> Result<String, BuildError> {
    let control = match text(sr, "/status") {
        Some("revoked" | "entered-in-error") => "CA",
        _ => "NW",
    };
    oml(sr, patient, h, control)
}

/// A change to an order sent before (its code, priority or time): ORC-1
/// `XO` (change order request, HL7 table 0119), the same placer number.
pub fn oml_o21_change(sr: &Value, patient: &Value, h: &Header) -> Result<String, BuildError> {
    oml(sr, patient, h, "XO")
}

fn oml(sr: &Value, patient: &Value, h: &Header, control: &str) -> Result<String, BuildError> {
    let code = sr
        .get("code")
        .and_then(cwe)
        .ok_or_else(|| BuildError::missing("ServiceRequest.code"))?;
    let placer = placer(sr, h)?;
    let when = text(sr, "/authoredOn").map(dtm).unwrap_or_default();
    let priority = match text(sr, "/priority") {
        Some("stat") => "S",
        Some("asap" | "urgent") => "A",
        _ => "R",
    };
    let mut m = msh(h, "OML^O21^OML_O21");
    m.push_str(&pid(patient)?);
    m.push_str(&format!("ORC|{control}|{placer}||||||||{when}\r"));
    m.push_str(&format!("TQ1|1||||||||{priority}\r"));
    m.push_str(&format!("OBR|1|{placer}||{code}|||{when}\r"));
    Ok(m)
}
