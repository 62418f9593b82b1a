//! Required-binding checks for `code`, `Coding` and `CodeableConcept`.

use concord_fhir::definitions::code_in_value_set;
use serde_json::Value;

/// A problem with a bound value: the message and the sub-path (relative to the
/// element) it concerns.
pub struct BindingProblem {
    pub message: String,
    pub sub_path: Option<String>,
}

fn problem(message: String, sub_path: Option<String>) -> Option<BindingProblem> {
    Some(BindingProblem { message, sub_path })
}

/// Checks `value` of FHIR type `ty` against the required value set `url`.
/// Value sets that cannot be expanded locally are skipped.
pub fn check(ty: &str, url: &str, value: &Value) -> Option<BindingProblem> {
    match ty {
        "code" => {
            let code = value.as_str()?;
            match code_in_value_set(url, None, code) {
                Some(false) => problem(
                    format!("the code '{code}' is not in the required value set {url}"),
                    None,
                ),
                _ => None,
            }
        }
        "Coding" => {
            let (sys, code) = coding(value)?;
            match code_in_value_set(url, sys, code) {
                Some(false) => problem(
                    format!(
                        "the coding {}#{code} is not in the required value set {url}",
                        sys.unwrap_or("")
                    ),
                    Some(".code".into()),
                ),
                _ => None,
            }
        }
        "CodeableConcept" => {
            let codings = value.get("coding")?.as_array()?;
            let mut checked = false;
            for c in codings {
                let Some((sys, code)) = coding(c) else {
                    continue;
                };
                match code_in_value_set(url, sys, code) {
                    Some(true) => return None,
                    Some(false) => checked = true,
                    None => return None,
                }
            }
            if checked {
                problem(
                    format!("none of the codings is from the required value set {url}"),
                    Some(".coding".into()),
                )
            } else {
                None
            }
        }
        _ => None,
    }
}

fn coding(v: &Value) -> Option<(Option<&str>, &str)> {
    let code = v.get("code")?.as_str()?;
    Some((v.get("system").and_then(Value::as_str), code))
}
