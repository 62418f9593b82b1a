//! Resending a rejected or failed outbound message after staff fixed the
//! cause (corrected the order, the patient, or the receiver's setup): the
//! message is built again from the resource's current version, with a new
//! MSH-10, and queued. An acknowledged message is never sent again.

use concord_core::{CoreError, Engine};
use concord_store::TenantContext;
use serde_json::{json, Value};

use super::record::{control_id, OutState, OutboundRecord};
use super::trigger::{build, hl7_now, Purpose, CHANGE_MESSAGE_TYPE};
use super::{read_record, Hl7Outbound};
use crate::config::InterfacesConfig;
use crate::message_store::{binary, now_instant, read_json};

/// Why a record cannot be resent.
#[derive(Debug)]
pub enum ResendError {
    /// No such outbound record.
    NotFound,
    /// Acknowledged (AA): never sent twice.
    Acked,
    /// Queued or in flight already.
    Pending,
    /// Its endpoint is no longer configured.
    NoEndpoint(String),
    Core(CoreError),
}

/// The resource `Type/id` as JSON; `None` if it is not stored.
async fn read_reference(
    engine: &Engine,
    ctx: &TenantContext,
    reference: &str,
) -> Result<Option<Value>, CoreError> {
    match reference.split_once('/') {
        Some((rtype, id)) => read_json(engine, ctx, rtype, id).await,
        None => Ok(None),
    }
}

impl Hl7Outbound {
    /// Rebuilds and queues record `id` (see the module docs). The record
    /// comes back `queued`, or `failed` when the message still cannot be
    /// built.
    pub async fn resend(
        engine: &Engine,
        ctx: &TenantContext,
        config: &InterfacesConfig,
        id: &str,
    ) -> Result<OutboundRecord, ResendError> {
        if !id.starts_with("hl7out-") {
            return Err(ResendError::NotFound);
        }
        let (mut rec, version) = read_record(engine, ctx, id)
            .await
            .map_err(ResendError::Core)?
            .ok_or(ResendError::NotFound)?;
        match rec.state {
            OutState::Acked => return Err(ResendError::Acked),
            OutState::Queued | OutState::Sent => return Err(ResendError::Pending),
            OutState::Rejected | OutState::Failed => {}
        }
        let endpoint = config
            .endpoint(&rec.endpoint)
            .ok_or_else(|| ResendError::NoEndpoint(rec.endpoint.clone()))?;
        let now = now_instant();
        let control = control_id(&format!("{id}#{now}"));
        let resource = read_reference(engine, ctx, &rec.focus)
            .await
            .map_err(ResendError::Core)?;
        let patient = match &rec.patient {
            Some(p) => read_reference(engine, ctx, p)
                .await
                .map_err(ResendError::Core)?,
            None => None,
        };
        let built = match (&resource, &patient) {
            (Some(r), Some(p)) => {
                // A change is resent as a change; anything else as the
                // resource stands (a revoked order: its cancellation).
                let purpose = if rec.message_type == CHANGE_MESSAGE_TYPE {
                    Purpose::Change
                } else {
                    Purpose::Current
                };
                build(endpoint, r, p, &control, &hl7_now(), purpose).map_err(|e| e.to_string())
            }
            (None, _) => Err(format!("{} cannot be read", rec.focus)),
            (_, None) => Err("the patient (subject) cannot be read".to_string()),
        };
        rec.updated = now;
        rec.ack_code = None;
        rec.ack_text = None;
        rec.ack_time = None;
        rec.next_attempt = None;
        let mut entries = Vec::new();
        match built {
            Ok((_, text)) => {
                rec.state = OutState::Queued;
                rec.attempts = 0;
                rec.last_error = None;
                rec.control_id = control;
                rec.has_message = true;
                entries.push(json!({
                    "resource": binary(id, text.as_bytes()),
                    "request": {"method": "PUT", "url": format!("Binary/{id}")}
                }));
            }
            Err(e) => {
                rec.state = OutState::Failed;
                rec.last_error = Some(e);
            }
        }
        entries.push(json!({
            "resource": rec.to_task(),
            "request": {"method": "PUT", "url": format!("Task/{id}"), "ifMatch": format!("W/\"{version}\"")}
        }));
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        engine
            .process_bundle(ctx, bundle)
            .await
            .map_err(ResendError::Core)?;
        tracing::info!(record = %id, state = rec.state.code(), "outbound message resent by request");
        Ok(rec)
    }
}
