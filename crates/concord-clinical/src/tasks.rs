//! Staff tasks (`Task`: create, assign, complete) and messages
//! (`Communication` between staff, optionally about a patient).

use crate::error::{ClinicalError, Result};
use crate::inbox::TASK_KIND_SYSTEM;
use crate::util::{check_reference, format_datetime, reference, required_text};
use serde_json::{json, Value};
use time::OffsetDateTime;

const STAFF: &[&str] = &["Practitioner", "PractitionerRole"];

pub const STAFF_TASK: &str = "staff-task";

pub fn build_task(
    description: &str,
    requester: &str,
    owner: Option<&str>,
    patient: Option<&str>,
    at: OffsetDateTime,
) -> Result<Value> {
    let description = required_text("description", description)?;
    if description.chars().count() > 1000 {
        return Err(ClinicalError::new(
            "description",
            "keep the task under 1000 characters",
        ));
    }
    check_reference("requester", requester, STAFF)?;
    let now = format_datetime(at);
    let mut t = json!({
        "resourceType": "Task",
        "status": if owner.is_some() { "ready" } else { "requested" },
        "intent": "order",
        "code": { "coding": [{ "system": TASK_KIND_SYSTEM, "code": STAFF_TASK, "display": "Staff task" }] },
        "description": description,
        "authoredOn": now,
        "lastModified": now,
        "requester": reference(requester),
    });
    if let Some(o) = owner {
        check_reference("owner", o, STAFF)?;
        t["owner"] = reference(o);
    }
    if let Some(p) = patient {
        check_reference("patient", p, &["Patient"])?;
        t["for"] = reference(p);
    }
    Ok(t)
}

fn ensure_open(t: &Value) -> Result<()> {
    match t["status"].as_str() {
        Some("completed" | "cancelled" | "entered-in-error" | "failed" | "rejected") => {
            Err(ClinicalError::new("status", "this task is closed"))
        }
        Some(_) => Ok(()),
        None => Err(ClinicalError::new("status", "not a task")),
    }
}

pub fn assign(task: &Value, owner: &str, at: OffsetDateTime) -> Result<Value> {
    ensure_open(task)?;
    check_reference("owner", owner, STAFF)?;
    let mut t = task.clone();
    t["owner"] = reference(owner);
    t["status"] = json!("ready");
    t["lastModified"] = json!(format_datetime(at));
    Ok(t)
}

pub fn complete(task: &Value, by: &str, at: OffsetDateTime, note: &str) -> Result<Value> {
    ensure_open(task)?;
    check_reference("by", by, STAFF)?;
    let now = format_datetime(at);
    let mut t = task.clone();
    t["status"] = json!("completed");
    t["lastModified"] = json!(now);
    t["executionPeriod"] = json!({ "end": now });
    if t.get("owner").is_none() {
        t["owner"] = reference(by);
    }
    if !note.trim().is_empty() {
        let mut notes = t["note"].as_array().cloned().unwrap_or_default();
        notes.push(json!({ "text": note.trim(), "authorReference": reference(by), "time": now }));
        t["note"] = Value::Array(notes);
    }
    Ok(t)
}

pub fn build_message(
    sender: &str,
    recipients: &[&str],
    patient: Option<&str>,
    topic: &str,
    text: &str,
    at: OffsetDateTime,
) -> Result<Value> {
    check_reference("sender", sender, STAFF)?;
    if recipients.is_empty() {
        return Err(ClinicalError::new(
            "recipient",
            "choose at least one recipient",
        ));
    }
    for r in recipients {
        check_reference("recipient", r, STAFF)?;
    }
    let text = required_text("text", text)?;
    let mut c = json!({
        "resourceType": "Communication",
        "status": "completed",
        "sent": format_datetime(at),
        "sender": reference(sender),
        "recipient": recipients.iter().map(|r| reference(r)).collect::<Vec<_>>(),
        "payload": [{ "contentString": text }],
    });
    if !topic.trim().is_empty() {
        c["topic"] = json!({ "text": topic.trim() });
    }
    if let Some(p) = patient {
        check_reference("patient", p, &["Patient"])?;
        c["subject"] = reference(p);
    }
    Ok(c)
}

/// Message priorities offered (R4 `request-priority`, a required binding
/// on `Communication.priority`).
pub const PRIORITIES: &[(&str, &str)] = &[("routine", "Routine"), ("urgent", "Urgent")];

/// Sets `Communication.priority` (`routine` or `urgent`).
pub fn with_priority(mut message: Value, priority: &str) -> Result<Value> {
    let p = priority.trim();
    if !PRIORITIES.iter().any(|(code, _)| *code == p) {
        return Err(ClinicalError::new("priority", "choose routine or urgent"));
    }
    message["priority"] = json!(p);
    Ok(message)
}

/// A reply: a new message `inResponseTo` the original, to its sender (or,
/// when `sender` wrote the original, to its recipients), about the same
/// patient and topic, with the same priority.
pub fn build_reply(
    original: &Value,
    original_ref: &str,
    sender: &str,
    text: &str,
    at: OffsetDateTime,
) -> Result<Value> {
    check_reference("original", original_ref, &["Communication"])?;
    let from = original["sender"]["reference"].as_str().unwrap_or("");
    let to: Vec<String> = if from == sender {
        original["recipient"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["reference"].as_str().map(str::to_string))
            .collect()
    } else {
        vec![from.to_string()]
    };
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let topic = original["topic"]["text"].as_str().unwrap_or("");
    let topic = if topic.is_empty() || topic.starts_with("Re: ") {
        topic.to_string()
    } else {
        format!("Re: {topic}")
    };
    let patient = original["subject"]["reference"].as_str();
    let mut reply = build_message(sender, &to, patient, &topic, text, at)?;
    reply["inResponseTo"] = json!([reference(original_ref)]);
    if let Some(p) = original["priority"].as_str() {
        reply["priority"] = json!(p);
    }
    Ok(reply)
}

/// Whether the message has been opened by its recipient.
pub fn is_read(message: &Value) -> bool {
    message.get("received").and_then(Value::as_str).is_some()
}

/// Marks a message read: `Communication.received` ("when received") set
/// to the time its recipient first opened it. `None` if already read.
pub fn mark_read(message: &Value, at: OffsetDateTime) -> Option<Value> {
    if is_read(message) {
        return None;
    }
    let mut m = message.clone();
    m["received"] = json!(format_datetime(at));
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;
    use time::macros::datetime;

    #[test]
    fn task_life_cycle() {
        let at = datetime!(2026-03-01 09:00 UTC);
        let t = build_task(
            "Call patient about results",
            "Practitioner/dr1",
            None,
            Some("Patient/p1"),
            at,
        )
        .expect("task");
        assert_valid(&t);
        assert_eq!(t["status"], "requested");
        let t = assign(&t, "Practitioner/nurse1", datetime!(2026-03-01 09:05 UTC)).expect("assign");
        assert_valid(&t);
        assert_eq!(
            (t["status"].as_str(), t["owner"]["reference"].as_str()),
            (Some("ready"), Some("Practitioner/nurse1"))
        );
        let done = complete(
            &t,
            "Practitioner/nurse1",
            datetime!(2026-03-01 10:00 UTC),
            "Left voicemail",
        )
        .expect("complete");
        assert_valid(&done);
        assert_eq!(done["status"], "completed");
        assert_eq!(done["executionPeriod"]["end"], "2026-03-01T10:00:00Z");
        assert!(complete(&done, "Practitioner/nurse1", at, "").is_err());
        assert!(assign(&done, "Practitioner/dr1", at).is_err());
        assert_eq!(
            build_task("  ", "Practitioner/dr1", None, None, at).map_err(|e| e.field),
            Err("description")
        );
    }

    #[test]
    fn message_between_staff() {
        let at = datetime!(2026-03-01 09:00 UTC);
        let m = build_message(
            "Practitioner/dr1",
            &["Practitioner/nurse1"],
            Some("Patient/p1"),
            "Refill",
            "Please check the pharmacy",
            at,
        )
        .expect("msg");
        assert_valid(&m);
        assert_eq!(
            m["payload"][0]["contentString"],
            "Please check the pharmacy"
        );
        assert!(build_message("Practitioner/dr1", &[], None, "", "x", at).is_err());
        assert!(build_message("Practitioner/dr1", &["Patient/p1"], None, "", "x", at).is_err());
        assert!(build_message("Practitioner/dr1", &["Practitioner/n"], None, "", "", at).is_err());
        let m = with_priority(m, "urgent").expect("priority");
        assert!(with_priority(m.clone(), "stat-ish").is_err());
        assert!(!is_read(&m));
        let read = mark_read(&m, datetime!(2026-03-01 09:30 UTC)).expect("unread");
        assert_valid(&read);
        assert_eq!(read["received"], "2026-03-01T09:30:00Z");
        assert!(mark_read(&read, at).is_none());
        let reply = build_reply(&read, "Communication/m1", "Practitioner/nurse1", "Done", at)
            .expect("reply");
        assert_valid(&reply);
        assert_eq!(reply["recipient"][0]["reference"], "Practitioner/dr1");
        assert_eq!(reply["inResponseTo"][0]["reference"], "Communication/m1");
        assert_eq!(reply["subject"]["reference"], "Patient/p1");
        assert_eq!(
            (reply["topic"]["text"].as_str(), reply["priority"].as_str()),
            (Some("Re: Refill"), Some("urgent"))
        );
        // The sender's own follow-up goes to the original recipients.
        let follow = build_reply(&read, "Communication/m1", "Practitioner/dr1", "Also", at)
            .expect("follow-up");
        assert_eq!(follow["recipient"][0]["reference"], "Practitioner/nurse1");
    }
}
