//! [`Hl7Inbound`]: store → detect retransmission → map → apply → ACK.
//!
//! * A new message is mapped (`concord_hl7v2::fhir`) and applied as ONE
//!   transaction holding the `Binary` (the message as received), its `Task`
//!   (`completed`) and the mapped resources with their Provenance; the ACK
//!   (AA) is written only after that commit. A message that fails (mapping
//!   error, unknown patient, invalid resource) is stored as `Binary` + a
//!   `failed` Task in one transaction, then answered AE (or AR for an
//!   unsupported type/event). So every ACKed message is stored, and nothing
//!   is ever half applied.
//! * A retransmission (same sender and control id → same key, the Task's
//!   identifier; see `message_store`) finds its Task: `completed` → AA
//!   again, nothing applied; `failed` → the same AE/AR (staff fix and
//!   reprocess it from the error queue); a Task left `in-progress` is
//!   processed now.
//! * An ORU^R01's DiagnosticReport keeps the id of the report already
//!   stored for its order (found by the order number, or by the placer
//!   number when an earlier message lacked the filler number: see
//!   `report_ids`), else gets a new time-ordered one; its Observations' ids
//!   derive from it (see `concord_hl7v2::fhir::report_orders`).
//! * Messages with the same key are processed one at a time, and so are
//!   messages about the same order (striped locks by order key and placer
//!   number, held until the commit).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use concord_core::{CoreError, Engine};
use concord_hl7v2::fhir::bundle::{identifier_query, transaction};
use concord_hl7v2::fhir::{map_message, report_orders, MapError, MapOptions, Mapped, ReportOrder};
use concord_hl7v2::{AckBuilder, ErrorCode, Message, MessageHandler, ParseError};
use concord_store::{Actor, TenantContext, DEFAULT_TENANT};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::ack;
use crate::concept_map::apply_stored_maps;
use crate::merge;
use crate::message_store::{
    self, binary, describe, message_key, new_message_id, now_instant, read_task, task, task_state,
    Failure, State, Stored, MESSAGE_SYSTEM,
};
use crate::monitor::Monitor;
use crate::report_ids::report_ids;

/// `meta.source` of resources written from inbound messages.
pub const INBOUND_SOURCE: &str = "urn:concord:hl7v2:inbound";

/// Settings of the inbound interface.
#[derive(Debug, Clone)]
pub struct InboundConfig {
    /// The tenant messages are stored in.
    pub tenant: String,
    /// UTC offset (`+hh:mm`) assumed for message times without one; `None`
    /// keeps only their date.
    pub default_offset: Option<String>,
    /// Where received messages are counted.
    pub monitor: Arc<Monitor>,
}

impl Default for InboundConfig {
    fn default() -> Self {
        InboundConfig {
            tenant: DEFAULT_TENANT.to_string(),
            default_offset: None,
            monitor: Arc::new(Monitor::default()),
        }
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored and applied now.
    Applied { id: String },
    /// Seen before; nothing applied. `failure` is the recorded error of a
    /// message still in the error queue.
    Duplicate {
        id: String,
        failure: Option<Failure>,
    },
    /// Stored and put in the error queue.
    Failed { id: String, failure: Failure },
    /// Not stored: the database could not be written (AE; the sender retries).
    NotStored { failure: Failure },
}

const LOCKS: usize = 64;

/// Striped per-message locks, shared by every `Hl7Inbound` of the process
/// (the MLLP listener and the API's reprocess operation).
fn locks() -> &'static [Mutex<()>] {
    static L: OnceLock<Vec<Mutex<()>>> = OnceLock::new();
    L.get_or_init(|| (0..LOCKS).map(|_| Mutex::new(())).collect())
}

/// Striped per-order locks (taken after the message's lock).
fn order_locks() -> &'static [Mutex<()>] {
    static L: OnceLock<Vec<Mutex<()>>> = OnceLock::new();
    L.get_or_init(|| (0..LOCKS).map(|_| Mutex::new(())).collect())
}

fn stripe(key: &str) -> usize {
    key.bytes()
        .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize))
        % LOCKS
}

/// The inbound HL7 v2 interface; a [`MessageHandler`] for `MllpServer`.
pub struct Hl7Inbound {
    engine: Engine,
    config: InboundConfig,
}

impl Hl7Inbound {
    pub fn new(engine: Engine, config: InboundConfig) -> Arc<Hl7Inbound> {
        Arc::new(Hl7Inbound { engine, config })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn config(&self) -> &InboundConfig {
        &self.config
    }

    fn context(&self, id: &str) -> TenantContext {
        TenantContext::new(self.config.tenant.clone(), Actor::System, id)
    }

    /// The lock of the message with `key` (see [`message_key`]).
    pub(crate) fn lock_for(&self, key: &str) -> &Mutex<()> {
        &locks()[stripe(key)]
    }

    /// Locks every order of the message, in one order (no deadlock).
    async fn lock_orders(
        &self,
        orders: &[ReportOrder],
    ) -> Vec<tokio::sync::MutexGuard<'static, ()>> {
        // By the order key and the placer number: a message with only the
        // placer number and one with both find the same report.
        let mut stripes: Vec<usize> = orders
            .iter()
            .flat_map(|o| std::iter::once(&o.key).chain(o.placer.as_ref().map(|p| &p.key)))
            .map(|k| stripe(k))
            .collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for n in stripes {
            guards.push(order_locks()[n].lock().await);
        }
        guards
    }

    /// The id and content of the Task of the message with `key`.
    async fn stored_task(
        &self,
        ctx: &TenantContext,
        key: &str,
    ) -> Result<Option<(String, Value)>, CoreError> {
        let query = identifier_query(MESSAGE_SYSTEM, key);
        let ids = self.engine.find_ids(ctx, "Task", &query, 1).await?;
        let Some(id) = ids.into_iter().next() else {
            return Ok(None);
        };
        Ok(read_task(&self.engine, ctx, &id)
            .await?
            .map(|task| (id, task)))
    }

    /// The id of the stored message (its Binary and Task), if it was received.
    pub async fn task_id(&self, msg: &Message) -> Option<String> {
        let key = message_key(msg);
        let ctx = self.context(&key);
        self.stored_task(&ctx, &key).await.ok()?.map(|(id, _)| id)
    }

    /// Stores and applies one parsed message (see the module docs).
    pub async fn receive(&self, raw: &[u8], msg: &Message) -> Outcome {
        let key = message_key(msg);
        let _guard = self.lock_for(&key).lock().await;
        let ctx = self.context(&key);
        let id = match self.stored_task(&ctx, &key).await {
            Ok(Some((id, task))) => match task_state(&task) {
                (Some(State::Completed), _) => {
                    tracing::info!(message = %id, "retransmission of an applied message");
                    return Outcome::Duplicate { id, failure: None };
                }
                (Some(State::Failed), failure) => {
                    tracing::info!(message = %id, "retransmission of a message in the error queue");
                    return Outcome::Duplicate { id, failure };
                }
                _ => id,
            },
            Ok(None) => new_message_id(),
            Err(e) => return not_stored(&key, &e),
        };
        self.apply(&ctx, Stored { id: &id, key: &key }, Some(raw), msg)
            .await
    }

    /// Maps and applies a message. With `raw` the Binary is written in the
    /// same transaction (first receipt); without, it is already stored
    /// (reprocessing). The caller holds the message's lock.
    pub(crate) async fn apply(
        &self,
        ctx: &TenantContext,
        stored: Stored<'_>,
        raw: Option<&[u8]>,
        msg: &Message,
    ) -> Outcome {
        let id = stored.id;
        let now = now_instant();
        let description = describe(msg);
        let orders = report_orders(msg);
        let _orders = self.lock_orders(&orders).await;
        let built = match report_ids(&self.engine, ctx, &orders).await {
            Ok(report_ids) => self.build(ctx, id, msg, &now, report_ids).await,
            Err(e) => Err(core_failure(&e)),
        };
        match built {
            Ok(mut bundle) => {
                let mut head = Vec::new();
                if let Some(raw) = raw {
                    head.push(entry("Binary", id, binary(id, raw)));
                }
                head.push(entry(
                    "Task",
                    id,
                    task(id, stored.key, &description, State::Completed, None, &now),
                ));
                if let Some(Value::Array(entries)) = bundle.get_mut("entry") {
                    head.append(entries);
                    *entries = head;
                }
                match self.engine.process_bundle(ctx, bundle).await {
                    Ok(_) => {
                        tracing::debug!(message = %id, "message applied");
                        Outcome::Applied { id: id.to_string() }
                    }
                    Err(e) => {
                        let failure = core_failure(&e);
                        self.store_failure(ctx, stored, raw, &description, failure, &now)
                            .await
                    }
                }
            }
            Err(failure) => {
                self.store_failure(ctx, stored, raw, &description, failure, &now)
                    .await
            }
        }
    }

    async fn store_failure(
        &self,
        ctx: &TenantContext,
        stored: Stored<'_>,
        raw: Option<&[u8]>,
        description: &str,
        failure: Failure,
        now: &str,
    ) -> Outcome {
        let id = stored.id;
        let mut entries = Vec::new();
        if let Some(raw) = raw {
            entries.push(entry("Binary", id, binary(id, raw)));
        }
        entries.push(entry(
            "Task",
            id,
            task(
                id,
                stored.key,
                description,
                State::Failed,
                Some(&failure),
                now,
            ),
        ));
        match self.engine.process_bundle(ctx, transaction(entries)).await {
            Ok(_) => {
                tracing::warn!(message = %id, code = failure.error_code, location = %failure.location, "message put in the error queue");
                Outcome::Failed {
                    id: id.to_string(),
                    failure,
                }
            }
            Err(e) => not_stored(id, &e),
        }
    }

    /// The transaction for a message, or why there is none.
    async fn build(
        &self,
        ctx: &TenantContext,
        id: &str,
        msg: &Message,
        now: &str,
        report_ids: HashMap<String, String>,
    ) -> Result<Value, Failure> {
        let opts = MapOptions {
            message_reference: format!("Binary/{id}"),
            recorded: now.to_string(),
            default_offset: self.config.default_offset.clone(),
            report_ids,
            provenance_id: Some(id.to_string()),
        };
        let mapped: Mapped = map_message(msg, &opts).map_err(map_failure)?;
        let mut bundle = mapped.bundle;
        if let Some(key) = &mapped.patient {
            if !mapped.registers_patient {
                let found = self
                    .engine
                    .find_ids(ctx, "Patient", &key.query(), 2)
                    .await
                    .map_err(|e| core_failure(&e))?;
                match found.as_slice() {
                    [id] => {
                        // Resolved once here; the transaction need not look it up again.
                        resolve_reference(&mut bundle, &key.reference(), &format!("Patient/{id}"));
                    }
                    [] => {
                        return Err(Failure {
                            ack_code: "AE".into(),
                            error_code: ErrorCode::UnknownKeyIdentifier.code(),
                            location: "PID-3".into(),
                            message: format!(
                                "unknown patient: no Patient has this identifier (system {}); register the patient (ADT) and reprocess",
                                key.system
                            ),
                        })
                    }
                    _ => {
                        return Err(Failure {
                            ack_code: "AE".into(),
                            error_code: ErrorCode::DuplicateKeyIdentifier.code(),
                            location: "PID-3".into(),
                            message: "several Patients have this identifier".into(),
                        })
                    }
                }
            }
        }
        let (app, _) = msg.sender();
        apply_stored_maps(&self.engine, ctx, &mut bundle, app.as_deref().unwrap_or(""))
            .await
            .map_err(|e| core_failure(&e))?;
        mark_inbound(&mut bundle);
        if let Some(merge) = &mapped.merge {
            let mut more = merge::merge_entries(&self.engine, ctx, merge, core_failure).await?;
            if let Some(Value::Array(entries)) = bundle.get_mut("entry") {
                entries.append(&mut more);
            }
        }
        Ok(bundle)
    }
}

/// `meta.source` of every mapped resource: written by the inbound
/// interface (the outbound interface does not send such resources back).
fn mark_inbound(bundle: &mut Value) {
    let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) else {
        return;
    };
    for e in entries {
        let Some(r) = e.get_mut("resource").and_then(Value::as_object_mut) else {
            continue;
        };
        if matches!(
            r.get("resourceType").and_then(Value::as_str),
            Some("Provenance" | "Patient" | "Binary" | "Task")
        ) {
            continue;
        }
        let meta = r.entry("meta").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.entry("source").or_insert_with(|| json!(INBOUND_SOURCE));
        }
    }
}

/// Replaces every `reference` equal to `from` with `to`.
fn resolve_reference(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Object(map) => {
            if map.get("reference").and_then(Value::as_str) == Some(from) {
                map.insert("reference".into(), Value::String(to.to_string()));
            }
            for v in map.values_mut() {
                resolve_reference(v, from, to);
            }
        }
        Value::Array(items) => {
            for v in items {
                resolve_reference(v, from, to);
            }
        }
        _ => {}
    }
}

/// `PUT resource_type/id` (the resource moved in: `json!` would copy it).
fn entry(resource_type: &str, id: &str, resource: Value) -> Value {
    let mut e = serde_json::Map::with_capacity(2);
    e.insert("resource".into(), resource);
    e.insert(
        "request".into(),
        json!({"method": "PUT", "url": format!("{resource_type}/{id}")}),
    );
    Value::Object(e)
}

fn map_failure(e: MapError) -> Failure {
    let reject = matches!(
        e.code,
        ErrorCode::UnsupportedMessageType
            | ErrorCode::UnsupportedEventCode
            | ErrorCode::UnsupportedProcessingId
            | ErrorCode::UnsupportedVersionId
    );
    Failure {
        ack_code: if reject { "AR" } else { "AE" }.into(),
        error_code: e.code.code(),
        location: match e.field {
            Some(f) => format!("{}-{f}", e.segment),
            None => e.segment.clone(),
        },
        message: e.message,
    }
}

/// A write-path error as a failure (the issues' text and locations).
fn core_failure(e: &CoreError) -> Failure {
    let issues = e.issues();
    let text: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| match i.expression.first() {
            Some(x) => format!("{x}: {}", i.diagnostics),
            None => i.diagnostics.clone(),
        })
        .collect();
    Failure {
        ack_code: "AE".into(),
        error_code: ErrorCode::ApplicationInternalError.code(),
        location: String::new(),
        message: if text.is_empty() {
            e.to_string()
        } else {
            text.join("; ")
        },
    }
}

fn not_stored(id: &str, e: &CoreError) -> Outcome {
    // The error kind only: issue texts may quote identifiers from the message.
    let kind = match e {
        CoreError::BadRequest(_) => "bad request",
        CoreError::Invalid(_) => "invalid",
        CoreError::UnknownType(_) => "unknown type",
        CoreError::NotFound { .. } => "not found",
        CoreError::Gone { .. } => "gone",
        CoreError::PreconditionFailed(_) => "precondition failed",
        CoreError::Conflict(_) => "conflict",
        CoreError::Forbidden(_) => "forbidden",
        CoreError::NotSupported(_) => "not supported",
        CoreError::ReadOnly(_) => "read only",
        CoreError::Store(_) => "storage error",
    };
    tracing::error!(message = %id, error = kind, "message not stored");
    Outcome::NotStored {
        failure: Failure {
            ack_code: "AE".into(),
            error_code: ErrorCode::ApplicationInternalError.code(),
            location: String::new(),
            message: "the message could not be stored; send it again".into(),
        },
    }
}

#[async_trait]
impl MessageHandler for Hl7Inbound {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8> {
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                self.store_unparsable(raw, &e).await;
                self.config.monitor.inbound("AR");
                return AckBuilder::unparsable(raw, &e).to_bytes();
            }
        };
        let (code, ack) = match self.receive(raw, &msg).await {
            Outcome::Applied { .. } | Outcome::Duplicate { failure: None, .. } => {
                ("AA".to_string(), ack::accept(&msg))
            }
            Outcome::Duplicate {
                failure: Some(f), ..
            }
            | Outcome::Failed { failure: f, .. }
            | Outcome::NotStored { failure: f } => (f.ack_code.clone(), ack::failure(&msg, &f)),
        };
        self.config.monitor.inbound(&code);
        ack
    }
}

impl Hl7Inbound {
    /// The stored message's processing state, for tests and tools.
    pub async fn state(&self, id: &str) -> Option<(State, Option<Failure>)> {
        let task = read_task(&self.engine, &self.context(id), id)
            .await
            .ok()??;
        match task_state(&task) {
            (Some(s), f) => Some((s, f)),
            _ => None,
        }
    }
}

pub use message_store::State as TaskState;

impl Hl7Inbound {
    /// Keeps bytes that do not parse as `Binary` + a failed `Task` (the
    /// error queue; staff may correct the Binary and reprocess). The same
    /// bytes again are stored once. Empty messages are not stored.
    pub async fn store_unparsable(&self, raw: &[u8], e: &ParseError) -> Option<String> {
        if raw.iter().all(u8::is_ascii_whitespace) {
            tracing::warn!(bytes = raw.len(), "empty message rejected (AR), not stored");
            return None;
        }
        let id = message_store::unparsable_id(raw);
        let _guard = self.lock_for(&id).lock().await;
        let ctx = self.context(&id);
        match self.engine.read(&ctx, "Task", &id).await {
            Ok(_) => {
                tracing::info!(message = %id, "retransmission of an unparsable message");
                return Some(id);
            }
            Err(CoreError::NotFound { .. }) | Err(CoreError::Gone { .. }) => {}
            Err(err) => {
                not_stored(&id, &err);
                return None;
            }
        }
        let (segment, field) = e.location();
        let failure = Failure {
            ack_code: "AR".into(),
            error_code: e.error_code().code(),
            location: if field > 0 {
                format!("{segment}-{field}")
            } else {
                segment.to_string()
            },
            message: e.to_string(),
        };
        let description = format!("unparsable message ({} bytes)", raw.len());
        match self
            .store_failure(
                &ctx,
                Stored { id: &id, key: &id },
                Some(raw),
                &description,
                failure,
                &now_instant(),
            )
            .await
        {
            Outcome::Failed { .. } => {
                tracing::warn!(message = %id, bytes = raw.len(), "unparsable message rejected (AR) and put in the error queue");
                Some(id)
            }
            _ => None,
        }
    }
}
