//! Results inbox: which results are new (not yet signed off), critical and
//! abnormal first, and the sign-off record.
//!
//! Sign-off is a FHIR `Task` per review (`status = completed`, `code` =
//! Concord's `result-review`, `focus` = the result, `owner` = the reviewer,
//! `executionPeriod.end` = when). Why a Task rather than a Provenance: the
//! review is a piece of workflow (who had to look at what, and when it was
//! done), Tasks are searchable by `focus`, `owner`, `code` and `status` with
//! the standard search parameters, and the same resource can later carry a
//! pending review (`status = requested`) assigned to a clinician. A
//! Provenance would record only the fact after it happened.
//!
//! Flags come from `Observation.interpretation` (HL7 v3
//! ObservationInterpretation: HH/LL/AA critical; H/L/A abnormal).

use crate::error::Result;
use crate::util::{check_reference, format_datetime, reference};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The code system of Concord's own task kinds.
pub const TASK_KIND_SYSTEM: &str = "urn:concord:task-kind";
pub const RESULT_REVIEW: &str = "result-review";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    Normal,
    Abnormal,
    Critical,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::Normal => "normal",
            Flag::Abnormal => "abnormal",
            Flag::Critical => "critical",
        }
    }
}

/// The flag of one Observation from its interpretation codes.
pub fn observation_flag(obs: &Value) -> Flag {
    let mut flag = Flag::Normal;
    for interp in obs["interpretation"].as_array().into_iter().flatten() {
        for c in interp["coding"].as_array().into_iter().flatten() {
            let f = match c["code"].as_str() {
                Some("HH" | "LL" | "AA") => Flag::Critical,
                Some("H" | "L" | "A" | "HU" | "LU" | "AU") => Flag::Abnormal,
                _ => Flag::Normal,
            };
            flag = flag.max(f);
        }
    }
    flag
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// `DiagnosticReport/…` or `Observation/…`.
    pub reference: String,
    pub title: String,
    pub patient: String,
    /// `issued` (or effective date) as written.
    pub when: String,
    pub flag: Flag,
}

fn title(r: &Value) -> String {
    r["code"]["text"]
        .as_str()
        .or_else(|| r["code"]["coding"][0]["display"].as_str())
        .or_else(|| r["code"]["coding"][0]["code"].as_str())
        .unwrap_or("Result")
        .to_string()
}

fn when(r: &Value) -> String {
    r["issued"]
        .as_str()
        .or_else(|| r["effectiveDateTime"].as_str())
        .or_else(|| r["effectivePeriod"]["start"].as_str())
        .unwrap_or("")
        .to_string()
}

fn ref_of(r: &Value) -> Option<String> {
    Some(format!(
        "{}/{}",
        r["resourceType"].as_str()?,
        r["id"].as_str()?
    ))
}

/// Results reviewed already: the `focus` of completed result-review Tasks.
pub fn reviewed(tasks: &[Value]) -> HashSet<String> {
    tasks
        .iter()
        .filter(|t| t["status"] == "completed")
        .filter(|t| {
            t["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["system"] == TASK_KIND_SYSTEM && c["code"] == RESULT_REVIEW)
        })
        .filter_map(|t| t["focus"]["reference"].as_str().map(str::to_string))
        .collect()
}

/// The inbox: DiagnosticReports, and Observations not part of one of the
/// given reports, that are not yet reviewed; critical, then abnormal, then
/// normal, newest first within each. A report's flag is the worst of its
/// results present in `results`.
pub fn build_inbox(results: &[Value], reviewed: &HashSet<String>) -> Vec<InboxItem> {
    let mut in_report: HashSet<String> = HashSet::new();
    for r in results
        .iter()
        .filter(|r| r["resourceType"] == "DiagnosticReport")
    {
        for m in r["result"].as_array().into_iter().flatten() {
            if let Some(s) = m["reference"].as_str() {
                in_report.insert(s.to_string());
            }
        }
    }
    let flag_of = |reference: &str| {
        results
            .iter()
            .find(|o| ref_of(o).as_deref() == Some(reference))
            .map(observation_flag)
            .unwrap_or(Flag::Normal)
    };
    let mut items: Vec<InboxItem> = results
        .iter()
        .filter_map(|r| {
            let reference = ref_of(r)?;
            if reviewed.contains(&reference) {
                return None;
            }
            let flag = match r["resourceType"].as_str()? {
                "Observation" if in_report.contains(&reference) => return None,
                "Observation" => observation_flag(r),
                "DiagnosticReport" => r["result"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["reference"].as_str())
                    .map(flag_of)
                    .max()
                    .unwrap_or(Flag::Normal),
                _ => return None,
            };
            Some(InboxItem {
                reference,
                title: title(r),
                patient: r["subject"]["reference"].as_str().unwrap_or("").to_string(),
                when: when(r),
                flag,
            })
        })
        .collect();
    items.sort_by(|a, b| b.flag.cmp(&a.flag).then(b.when.cmp(&a.when)));
    items
}

/// The sign-off record for one result.
pub fn build_review_task(
    result: &str,
    patient: &str,
    reviewer: &str,
    at: time::OffsetDateTime,
    comment: &str,
) -> Result<Value> {
    check_reference("result", result, &["DiagnosticReport", "Observation"])?;
    check_reference("patient", patient, &["Patient"])?;
    check_reference("reviewer", reviewer, &["Practitioner", "PractitionerRole"])?;
    let now = format_datetime(at);
    let mut t = json!({
        "resourceType": "Task",
        "status": "completed",
        "intent": "order",
        "code": { "coding": [{ "system": TASK_KIND_SYSTEM, "code": RESULT_REVIEW, "display": "Result review" }], "text": "Result review" },
        "description": "Result reviewed and signed off",
        "focus": reference(result),
        "for": reference(patient),
        "authoredOn": now,
        "lastModified": now,
        "requester": reference(reviewer),
        "owner": reference(reviewer),
        "executionPeriod": { "end": now },
    });
    if !comment.trim().is_empty() {
        t["note"] = json!([{ "text": comment.trim() }]);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;

    fn obs(id: &str, interp: Option<&str>, issued: &str) -> Value {
        let mut o = json!({
            "resourceType": "Observation", "id": id, "status": "final",
            "code": { "coding": [{ "system": "http://loinc.org", "code": "2345-7" }], "text": "Glucose" },
            "subject": { "reference": "Patient/p1" }, "issued": issued,
        });
        if let Some(i) = interp {
            o["interpretation"] = json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": i }] }]);
        }
        o
    }

    #[test]
    fn critical_then_abnormal_then_newest_and_reviewed_hidden() {
        let results = vec![
            obs("n-old", None, "2026-01-01T00:00:00Z"),
            obs("n-new", Some("N"), "2026-02-01T00:00:00Z"),
            obs("high", Some("H"), "2026-01-15T00:00:00Z"),
            obs("crit", Some("LL"), "2025-12-01T00:00:00Z"),
            obs("in-dr", Some("HH"), "2026-01-10T00:00:00Z"),
            json!({ "resourceType": "DiagnosticReport", "id": "dr1", "status": "final",
                "code": { "text": "Panel" }, "subject": { "reference": "Patient/p1" },
                "issued": "2026-01-10T00:00:00Z", "result": [{ "reference": "Observation/in-dr" }] }),
        ];
        let order: Vec<String> = build_inbox(&results, &HashSet::new())
            .into_iter()
            .map(|i| i.reference)
            .collect();
        assert_eq!(
            order,
            [
                "DiagnosticReport/dr1",
                "Observation/crit",
                "Observation/high",
                "Observation/n-new",
                "Observation/n-old"
            ]
        );
        let task = build_review_task(
            "DiagnosticReport/dr1",
            "Patient/p1",
            "Practitioner/dr1",
            time::macros::datetime!(2026-03-01 10:00 UTC),
            "seen",
        )
        .expect("task");
        assert_valid(&task);
        let done = reviewed(&[task]);
        let items = build_inbox(&results, &done);
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].reference, "Observation/crit");
        assert_eq!(items[0].flag, Flag::Critical);
    }
}
