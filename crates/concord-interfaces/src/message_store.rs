//! The message store: a received message as a FHIR `Binary`, its processing
//! status as a FHIR `Task` with the same id.
//!
//! Key: `hl7v2-` + the first 48 hex digits of SHA-256(MSH-3 ‖ MSH-4 ‖
//! MSH-10), each part unescaped and trimmed, separated by 0x1F, kept as the
//! Task's [`MESSAGE_SYSTEM`] identifier. A retransmission (same sender,
//! same control id) has the same key, so it is recognised and applied once.
//!
//! Id (of the Binary, the Task and the Provenance of the message's
//! resources): `hl7v2-` + a new time-ordered id ([`new_message_id`]), so
//! the rows keyed by it are appended to their indexes instead of landing on
//! random pages. Messages stored before such ids existed have their key as
//! their id, and are found by the same identifier.

use base64::Engine as _;
use concord_core::{CoreError, Engine};
use concord_hl7v2::Message;
use concord_store::TenantContext;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `Binary.contentType` of a stored HL7 v2 message (ER7 encoding).
pub const MESSAGE_CONTENT_TYPE: &str = "x-application/hl7-v2+er7";

/// The identifier system of the message id on Tasks.
pub const MESSAGE_SYSTEM: &str = "urn:concord:hl7v2:message";
/// The identifier system whose value is the queue state (`completed`,
/// `failed`, `in-progress`): lets the error queue be listed with the
/// identifier index until FHIR search lands.
pub const QUEUE_SYSTEM: &str = "urn:concord:hl7v2:queue";
/// Task.code of inbound message processing.
pub const TASK_CODE_SYSTEM: &str = "urn:concord:hl7v2:task";
/// Where in the message an error is (`PID-3`), as Task.statusReason coding.
pub const ERROR_LOCATION_SYSTEM: &str = "urn:concord:hl7v2:error-location";
/// HL7 table 0357 (message error condition codes).
pub const ERROR_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0357";
/// HL7 table 0008 (acknowledgment code), Task.businessStatus.
pub const ACK_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0008";

/// The id of a newly received message's Binary and Task: `hl7v2-` + a
/// time-ordered id (`concord_core::new_id`).
pub fn new_message_id() -> String {
    format!("hl7v2-{}", concord_core::new_id())
}

/// A stored message: `id` of its Binary and Task, `key` recognising it
/// ([`message_key`]; for messages stored before ids were time-ordered the
/// two are equal).
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub id: &'a str,
    pub key: &'a str,
}

/// What recognises a message and its retransmissions: the value of its
/// Task's [`MESSAGE_SYSTEM`] identifier.
pub fn message_key(msg: &Message) -> String {
    let (app, fac) = msg.sender();
    let control = msg.control_id();
    let mut h = Sha256::new();
    for part in [app.as_deref(), fac.as_deref(), control.as_deref()] {
        h.update(part.unwrap_or("").trim().as_bytes());
        h.update([0x1f]);
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(24)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("hl7v2-{hex}")
}

/// The store id (and key) of bytes that do not parse: `hl7v2-` + 48 hex
/// digits of SHA-256(`unparsable` ‖ 0x1F ‖ the bytes) — the same bytes sent
/// again are recognised.
pub fn unparsable_id(raw: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"unparsable");
    h.update([0x1f]);
    h.update(raw);
    let hex: String = h
        .finalize()
        .iter()
        .take(24)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("hl7v2-{hex}")
}

/// The Binary holding the message exactly as received.
pub fn binary(id: &str, raw: &[u8]) -> Value {
    json!({
        "resourceType": "Binary",
        "id": id,
        "contentType": MESSAGE_CONTENT_TYPE,
        "data": base64::engine::general_purpose::STANDARD.encode(raw)
    })
}

/// The bytes of a stored Binary.
pub fn binary_bytes(binary: &Value) -> Option<Vec<u8>> {
    let data = binary.get("data")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// Task states used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    InProgress,
    Completed,
    Failed,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::InProgress => "in-progress",
            State::Completed => "completed",
            State::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "in-progress" => State::InProgress,
            "completed" => State::Completed,
            "failed" => State::Failed,
            _ => return None,
        })
    }
}

/// What went wrong, as kept on a failed Task (no patient data in `message`
/// beyond what the message itself holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `AE` or `AR`.
    pub ack_code: String,
    /// HL7 table 0357 code.
    pub error_code: u16,
    /// `PID-3`, `MSH-9`, or empty.
    pub location: String,
    pub message: String,
}

/// A short description of the message: type, control id and sender, which
/// are not patient data.
pub fn describe(msg: &Message) -> String {
    let (app, fac) = msg.sender();
    format!(
        "{}^{} control id {} from {}^{}",
        msg.message_type().unwrap_or_default(),
        msg.trigger_event().unwrap_or_default(),
        msg.control_id().unwrap_or_default(),
        app.unwrap_or_default(),
        fac.unwrap_or_default()
    )
}

/// The Task for message `id` (recognised by `key`) in `state`.
pub fn task(
    id: &str,
    key: &str,
    description: &str,
    state: State,
    failure: Option<&Failure>,
    now: &str,
) -> Value {
    let mut t = json!({
        "resourceType": "Task",
        "id": id,
        "identifier": [
            {"system": MESSAGE_SYSTEM, "value": key},
            {"system": QUEUE_SYSTEM, "value": state.code()}
        ],
        "status": state.code(),
        "intent": "order",
        "code": {
            "coding": [{"system": TASK_CODE_SYSTEM, "code": "inbound-message"}],
            "text": "Process an inbound HL7 v2 message"
        },
        "description": description,
        "focus": {"reference": format!("Binary/{id}")},
        "authoredOn": now,
        "lastModified": now
    });
    if let (Some(f), Some(obj)) = (failure, t.as_object_mut()) {
        let mut coding =
            vec![json!({"system": ERROR_CODE_SYSTEM, "code": f.error_code.to_string()})];
        if !f.location.is_empty() {
            coding.push(json!({"system": ERROR_LOCATION_SYSTEM, "code": f.location}));
        }
        obj.insert(
            "statusReason".into(),
            json!({"coding": coding, "text": f.message}),
        );
        obj.insert(
            "businessStatus".into(),
            json!({"coding": [{"system": ACK_CODE_SYSTEM, "code": f.ack_code}]}),
        );
    } else if state == State::Completed {
        if let Some(obj) = t.as_object_mut() {
            obj.insert(
                "businessStatus".into(),
                json!({"coding": [{"system": ACK_CODE_SYSTEM, "code": "AA"}]}),
            );
        }
    }
    t
}

/// The stored Task `id` as JSON; `None` when there is none (or it was
/// deleted, or its content does not parse).
pub async fn read_task(
    engine: &Engine,
    ctx: &TenantContext,
    id: &str,
) -> Result<Option<Value>, CoreError> {
    read_json(engine, ctx, "Task", id).await
}

/// The current version of a stored resource as JSON; `None` if it is not
/// stored or deleted.
pub(crate) async fn read_json(
    engine: &Engine,
    ctx: &TenantContext,
    resource_type: &str,
    id: &str,
) -> Result<Option<Value>, CoreError> {
    match engine.read(ctx, resource_type, id).await {
        Ok(v) => Ok(v
            .content
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())),
        Err(CoreError::NotFound { .. } | CoreError::Gone { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The message key recorded on a stored Task.
pub fn task_key(task: &Value) -> Option<&str> {
    task.get("identifier")?
        .as_array()?
        .iter()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(MESSAGE_SYSTEM))?
        .get("value")?
        .as_str()
}

/// The state and failure recorded on a stored Task.
pub fn task_state(task: &Value) -> (Option<State>, Option<Failure>) {
    let state = task
        .get("status")
        .and_then(Value::as_str)
        .and_then(State::parse);
    let reason = task.get("statusReason");
    let failure = reason.map(|r| {
        let coding = |system: &str| {
            r.get("coding")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|x| x.get("system").and_then(Value::as_str) == Some(system))
                })
                .and_then(|x| x.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Failure {
            ack_code: task
                .pointer("/businessStatus/coding/0/code")
                .and_then(Value::as_str)
                .unwrap_or("AE")
                .to_string(),
            error_code: coding(ERROR_CODE_SYSTEM).parse().unwrap_or(207),
            location: coding(ERROR_LOCATION_SYSTEM),
            message: r
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }
    });
    (state, failure)
}

/// Now, as a FHIR instant (UTC, milliseconds).
pub fn now_instant() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_sender_and_control_id_only() {
        let a =
            Message::parse(b"MSH|^~\\&|LAB|FAC|||20240101||ORU^R01|C1|P|2.5\rPID|1||1\r").unwrap();
        let b =
            Message::parse(b"MSH|^~\\&|LAB|FAC|||20250101||ORU^R01|C1|P|2.5\rPID|1||2\r").unwrap();
        let c = Message::parse(b"MSH|^~\\&|LAB|FAC2|||20240101||ORU^R01|C1|P|2.5\r").unwrap();
        assert_eq!(message_key(&a), message_key(&b));
        assert_ne!(message_key(&a), message_key(&c));
        assert!(message_key(&a).len() <= 64);
    }

    #[test]
    fn new_ids_are_valid_fhir_ids_in_increasing_order() {
        let ids: Vec<String> = (0..100).map(|_| new_message_id()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        for id in &ids {
            assert!(id.starts_with("hl7v2-") && id.len() <= 64);
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        }
    }

    #[test]
    fn task_round_trips_failure() {
        let f = Failure {
            ack_code: "AE".into(),
            error_code: 204,
            location: "PID-3".into(),
            message: "unknown patient".into(),
        };
        let t = task(
            "hl7v2-x",
            "hl7v2-key",
            "ORU^R01",
            State::Failed,
            Some(&f),
            "2026-01-01T00:00:00.000Z",
        );
        let (s, back) = task_state(&t);
        assert_eq!(task_key(&t), Some("hl7v2-key"));
        assert_eq!(s, Some(State::Failed));
        assert_eq!(back, Some(f));
    }
}
