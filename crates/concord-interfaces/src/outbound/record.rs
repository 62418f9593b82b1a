//! The outbound record: one FHIR `Task` per outbound message (the message
//! itself is `Binary` with the same id), holding its state, attempts, last
//! error and last ACK. Identifiers make every list the sender and the API
//! need an identifier lookup (works with `--search-index=false`).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::message_store::ACK_CODE_SYSTEM;

/// `Task.identifier` system: the record id.
pub const OUTBOUND_SYSTEM: &str = "urn:concord:hl7v2:outbound";
/// `Task.identifier` system: `{endpoint}:{state}` (the queues).
pub const OUTBOUND_QUEUE_SYSTEM: &str = "urn:concord:hl7v2:outbound-queue";
/// `Task.identifier` system: the resource sent (`ServiceRequest/123`).
pub const OUTBOUND_FOCUS_SYSTEM: &str = "urn:concord:hl7v2:outbound-focus";
/// `Task.businessStatus` system: the outbound state.
pub const OUTBOUND_STATUS_SYSTEM: &str = "urn:concord:hl7v2:outbound-status";
/// `Task.output.type` system.
pub const OUTPUT_SYSTEM: &str = "urn:concord:hl7v2:outbound-output";
/// `Task.code` system (shared with inbound Tasks).
const TASK_CODE_SYSTEM: &str = crate::message_store::TASK_CODE_SYSTEM;

/// Where an outbound message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutState {
    /// Waiting to be sent (first time or after a connection error).
    Queued,
    /// Written to the receiver, no ACK yet (a timeout): sent again.
    Sent,
    /// ACK AA (or CA): done, never sent again.
    Acked,
    /// ACK AE/AR (or CE/CR): not retried; staff look at it.
    Rejected,
    /// Gave up after `max_attempts`, or the message could not be built.
    Failed,
}

impl OutState {
    pub const ALL: [OutState; 5] = [
        OutState::Queued,
        OutState::Sent,
        OutState::Acked,
        OutState::Rejected,
        OutState::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OutState::Queued => "queued",
            OutState::Sent => "sent",
            OutState::Acked => "acked",
            OutState::Rejected => "rejected",
            OutState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OutState> {
        OutState::ALL.into_iter().find(|x| x.code() == s)
    }

    /// `Task.status` of the state.
    pub fn task_status(self) -> &'static str {
        match self {
            OutState::Queued => "requested",
            OutState::Sent => "in-progress",
            OutState::Acked => "completed",
            OutState::Rejected => "rejected",
            OutState::Failed => "failed",
        }
    }

    /// Still to be sent.
    pub fn pending(self) -> bool {
        matches!(self, OutState::Queued | OutState::Sent)
    }
}

/// One outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecord {
    pub id: String,
    pub endpoint: String,
    pub state: OutState,
    /// `OML^O21`, `VXU^V04`.
    pub message_type: String,
    /// MSH-10.
    pub control_id: String,
    /// `ServiceRequest/123`.
    pub focus: String,
    /// `Patient/abc`, when known.
    pub patient: Option<String>,
    /// The change-feed sequence that queued it (send order).
    pub sequence: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub ack_code: Option<String>,
    pub ack_text: Option<String>,
    pub ack_time: Option<String>,
    /// Not before this instant (retry backoff).
    pub next_attempt: Option<String>,
    pub created: String,
    pub updated: String,
    /// The message was built and is stored as `Binary/{id}`.
    pub has_message: bool,
}

/// The record (and Binary) id for `focus` sent to `endpoint`: the same
/// resource is queued once per endpoint, whatever happens to it later.
pub fn record_id(endpoint: &str, focus: &str) -> String {
    format!("hl7out-{}", hash_hex(&[endpoint, focus], 40))
}

/// MSH-10 for a record: 20 characters (the v2.5.1 limit), unique per record.
pub fn control_id(record_id: &str) -> String {
    format!("C{}", hash_hex(&[record_id], 19))
}

fn hash_hex(parts: &[&str], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    hex[..len.min(hex.len())].to_string()
}

fn output(code: &str, value: Value) -> Value {
    let mut o = json!({"type": {"coding": [{"system": OUTPUT_SYSTEM, "code": code}]}});
    if let (Some(obj), Value::Object(v)) = (o.as_object_mut(), value) {
        obj.extend(v);
    }
    o
}

impl OutboundRecord {
    /// The queue identifier value of `endpoint` in `state`.
    pub fn queue_value(endpoint: &str, state: OutState) -> String {
        format!("{endpoint}:{}", state.code())
    }

    /// The record as a FHIR Task.
    pub fn to_task(&self) -> Value {
        let mut identifiers = vec![
            json!({"system": OUTBOUND_SYSTEM, "value": self.id}),
            json!({"system": OUTBOUND_QUEUE_SYSTEM, "value": OutboundRecord::queue_value(&self.endpoint, self.state)}),
            json!({"system": OUTBOUND_FOCUS_SYSTEM, "value": self.focus}),
        ];
        identifiers
            .push(json!({"system": "urn:concord:hl7v2:control-id", "value": self.control_id}));
        let mut outputs = vec![
            output("endpoint", json!({"valueString": self.endpoint})),
            output("message-type", json!({"valueString": self.message_type})),
            output(
                "sequence",
                json!({"valueString": self.sequence.to_string()}),
            ),
            output("attempts", json!({"valueUnsignedInt": self.attempts})),
        ];
        if let Some(e) = &self.last_error {
            outputs.push(output("last-error", json!({"valueString": e})));
        }
        if let Some(c) = &self.ack_code {
            outputs.push(output("ack-code", json!({"valueCode": c})));
        }
        if let Some(t) = &self.ack_text {
            outputs.push(output("ack-text", json!({"valueString": t})));
        }
        if let Some(t) = &self.ack_time {
            outputs.push(output("ack-time", json!({"valueInstant": t})));
        }
        if let Some(t) = &self.next_attempt {
            outputs.push(output("next-attempt", json!({"valueInstant": t})));
        }
        let mut task = json!({
            "resourceType": "Task",
            "id": self.id,
            "identifier": identifiers,
            "status": self.state.task_status(),
            "businessStatus": {
                "coding": [{"system": OUTBOUND_STATUS_SYSTEM, "code": self.state.code()}],
                "text": self.state.code()
            },
            "intent": "order",
            "code": {
                "coding": [{"system": TASK_CODE_SYSTEM, "code": "outbound-message"}],
                "text": "Send an HL7 v2 message"
            },
            "description": format!("{} to {} (control id {})", self.message_type, self.endpoint, self.control_id),
            "focus": {"reference": self.focus},
            "authoredOn": self.created,
            "lastModified": self.updated,
            "output": outputs
        });
        if let Some(obj) = task.as_object_mut() {
            if self.has_message {
                obj.insert(
                    "input".into(),
                    json!([{
                        "type": {"coding": [{"system": OUTPUT_SYSTEM, "code": "message"}]},
                        "valueReference": {"reference": format!("Binary/{}", self.id)}
                    }]),
                );
            }
            if let Some(p) = &self.patient {
                obj.insert("for".into(), json!({"reference": p}));
            }
            if matches!(self.state, OutState::Rejected | OutState::Failed) {
                let mut coding = Vec::new();
                if let Some(c) = &self.ack_code {
                    coding.push(json!({"system": ACK_CODE_SYSTEM, "code": c}));
                }
                let text = self
                    .ack_text
                    .clone()
                    .or_else(|| self.last_error.clone())
                    .unwrap_or_else(|| self.state.code().to_string());
                let mut reason = json!({"text": text});
                if !coding.is_empty() {
                    reason["coding"] = Value::Array(coding);
                }
                obj.insert("statusReason".into(), reason);
            }
        }
        task
    }

    /// Reads a record back from its Task (`None` if it is not one).
    pub fn from_task(task: &Value) -> Option<OutboundRecord> {
        let code = task
            .pointer("/code/coding/0/code")
            .and_then(Value::as_str)?;
        if code != "outbound-message" {
            return None;
        }
        let out = |name: &str| -> Option<&Value> {
            task.get("output")?
                .as_array()?
                .iter()
                .find(|o| o.pointer("/type/coding/0/code").and_then(Value::as_str) == Some(name))
        };
        let out_str = |name: &str, key: &str| -> Option<String> {
            out(name)?.get(key)?.as_str().map(str::to_string)
        };
        let identifier = |system: &str| -> Option<String> {
            task.get("identifier")?
                .as_array()?
                .iter()
                .find(|i| i.get("system").and_then(Value::as_str) == Some(system))?
                .get("value")?
                .as_str()
                .map(str::to_string)
        };
        Some(OutboundRecord {
            id: task.get("id")?.as_str()?.to_string(),
            endpoint: out_str("endpoint", "valueString")?,
            state: OutState::parse(
                task.pointer("/businessStatus/coding/0/code")
                    .and_then(Value::as_str)?,
            )?,
            message_type: out_str("message-type", "valueString").unwrap_or_default(),
            control_id: identifier("urn:concord:hl7v2:control-id").unwrap_or_default(),
            focus: task
                .pointer("/focus/reference")
                .and_then(Value::as_str)?
                .to_string(),
            patient: task
                .pointer("/for/reference")
                .and_then(Value::as_str)
                .map(str::to_string),
            sequence: out_str("sequence", "valueString")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            attempts: out("attempts")
                .and_then(|o| o.get("valueUnsignedInt"))
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            last_error: out_str("last-error", "valueString"),
            ack_code: out_str("ack-code", "valueCode"),
            ack_text: out_str("ack-text", "valueString"),
            ack_time: out_str("ack-time", "valueInstant"),
            next_attempt: out_str("next-attempt", "valueInstant"),
            created: task
                .get("authoredOn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            updated: task
                .get("lastModified")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            has_message: task.get("input").is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_its_task() {
        let id = record_id("lab1", "ServiceRequest/1");
        assert!(id.len() <= 64);
        assert_eq!(control_id(&id).len(), 20);
        let r = OutboundRecord {
            id: id.clone(),
            endpoint: "lab1".into(),
            state: OutState::Rejected,
            message_type: "OML^O21".into(),
            control_id: control_id(&id),
            focus: "ServiceRequest/1".into(),
            patient: Some("Patient/p".into()),
            sequence: 42,
            attempts: 2,
            last_error: Some("connection refused".into()),
            ack_code: Some("AE".into()),
            ack_text: Some("unknown test".into()),
            ack_time: Some("2026-01-01T00:00:00.000Z".into()),
            next_attempt: None,
            created: "2026-01-01T00:00:00.000Z".into(),
            updated: "2026-01-01T00:00:01.000Z".into(),
            has_message: true,
        };
        let task = r.to_task();
        assert_eq!(task["status"], "rejected");
        assert!(concord_validation_free_check(&task));
        assert_eq!(OutboundRecord::from_task(&task), Some(r));
        assert_ne!(record_id("lab2", "ServiceRequest/1"), id);
    }

    /// The shape the validator cares most about: no empty strings.
    fn concord_validation_free_check(v: &Value) -> bool {
        match v {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => a.iter().all(concord_validation_free_check),
            Value::Object(o) => o.values().all(concord_validation_free_check),
            _ => true,
        }
    }
}
