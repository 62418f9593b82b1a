//! The feed side: change-feed events → queued outbound records.
//!
//! The cursor (the last change-feed sequence looked at) is kept as
//! `Basic/hl7v2-outbound-cursor` (identifier `urn:concord:hl7v2:outbound-cursor`).
//! It is saved after every batch that queued something and at least every
//! 1,000 events; after a crash the events since the saved cursor are read
//! again, and a record that exists already is never queued twice (its id
//! is derived from endpoint and resource). A new installation starts at
//! the end of the feed: resources written before the interface existed are
//! not sent.

use concord_core::CoreError;
use concord_store::{TenantContext, WriteKind};
use serde_json::{json, Value};

use super::record::{control_id, record_id, OutState, OutboundRecord};
use super::trigger::{
    build, hl7_now, order_body, patient_reference, wants, wants_cancel, watched_type, Purpose,
    CHANGE_MESSAGE_TYPE,
};
use super::{read_record, Hl7Outbound};
use crate::config::{EndpointConfig, EndpointKind};
use crate::message_store::{binary, binary_bytes, now_instant, read_json};

const CURSOR_ID: &str = "hl7v2-outbound-cursor";
const CURSOR_SYSTEM: &str = "urn:concord:hl7v2:outbound-cursor";
const BATCH: usize = 200;
const SAVE_EVERY: i64 = 1000;

/// Where the feed stands.
pub(crate) struct Cursor {
    pub sequence: i64,
    saved: i64,
}

fn kind_type(kind: EndpointKind) -> &'static str {
    match kind {
        EndpointKind::Lab => "ServiceRequest",
        EndpointKind::Registry => "Immunization",
    }
}

impl Hl7Outbound {
    pub(crate) async fn load_cursor(&self, ctx: &TenantContext) -> Result<Cursor, CoreError> {
        if let Some(basic) = read_json(&self.engine, ctx, "Basic", CURSOR_ID).await? {
            let seq = basic
                .pointer("/identifier/0/value")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok(Cursor {
                sequence: seq,
                saved: seq,
            });
        }
        // First start: begin at the end of the feed.
        let mut end = 0;
        loop {
            let events = self
                .engine
                .store()
                .changes_after(ctx, end, 1000)
                .await
                .map_err(CoreError::from)?;
            match events.last() {
                Some(e) => end = e.sequence,
                None => break,
            }
        }
        let mut cursor = Cursor {
            sequence: end,
            saved: -1,
        };
        self.save_cursor(ctx, &mut cursor).await?;
        Ok(cursor)
    }

    async fn save_cursor(&self, ctx: &TenantContext, cursor: &mut Cursor) -> Result<(), CoreError> {
        let basic = json!({
            "resourceType": "Basic",
            "id": CURSOR_ID,
            "identifier": [{"system": CURSOR_SYSTEM, "value": cursor.sequence.to_string()}],
            "code": {
                "coding": [{"system": "urn:concord:hl7v2:task", "code": "outbound-cursor"}],
                "text": "HL7 v2 outbound change-feed cursor"
            }
        });
        self.engine
            .update(ctx, "Basic", CURSOR_ID, basic, None)
            .await?;
        cursor.saved = cursor.sequence;
        Ok(())
    }

    /// One batch of the change feed; `true` when there may be more.
    pub(crate) async fn queue_changes(
        &self,
        ctx: &TenantContext,
        cursor: &mut Cursor,
    ) -> Result<bool, CoreError> {
        let events = self
            .engine
            .store()
            .changes_after(ctx, cursor.sequence, BATCH)
            .await
            .map_err(CoreError::from)?;
        let mut queued = 0;
        for ev in &events {
            if watched_type(&ev.resource_type) && ev.kind != WriteKind::Delete {
                for endpoint in &self.config.endpoints {
                    if kind_type(endpoint.kind) != ev.resource_type {
                        continue;
                    }
                    match self
                        .queue_one(
                            ctx,
                            endpoint,
                            &ev.resource_type,
                            &ev.id,
                            ev.version,
                            ev.sequence,
                        )
                        .await
                    {
                        Ok(true) => queued += 1,
                        Ok(false) => {}
                        // The database: try this event again next time.
                        Err(e @ CoreError::Store(_)) => return Err(e),
                        // Anything else would fail every time: skip the
                        // event rather than stop the feed.
                        Err(e) => tracing::error!(
                            sequence = ev.sequence,
                            endpoint = %endpoint.name,
                            error = %super::kind(&e),
                            "outbound: a change could not be queued; skipped"
                        ),
                    }
                }
            }
            cursor.sequence = ev.sequence;
        }
        if queued > 0 || cursor.sequence - cursor.saved >= SAVE_EVERY {
            self.save_cursor(ctx, cursor).await?;
        }
        if queued > 0 {
            self.queued.notify_waiters();
        }
        Ok(events.len() == BATCH)
    }

    /// Queues `rtype/id` for `endpoint` unless it is queued already or not
    /// wanted; `true` when queued. A lab order is queued when signed; once
    /// it was sent (or is on its way), a later version is queued as its
    /// cancellation when revoked, else as a change when what the lab is
    /// told of it (code, priority, time) differs from the last message
    /// sent for it.
    async fn queue_one(
        &self,
        ctx: &TenantContext,
        endpoint: &EndpointConfig,
        rtype: &str,
        id: &str,
        version: i64,
        sequence: i64,
    ) -> Result<bool, CoreError> {
        let focus = format!("{rtype}/{id}");
        let order_id = record_id(&endpoint.name, &focus);
        let cancel_id = record_id(&endpoint.name, &format!("{focus}#cancel"));
        let order = read_record(&self.engine, ctx, &order_id).await?;
        if order.as_ref().is_some_and(|(o, _)| {
            !matches!(o.state, OutState::Acked | OutState::Queued | OutState::Sent)
        }) {
            return Ok(false);
        }
        let Some(resource) = read_json(&self.engine, ctx, rtype, id).await? else {
            return Ok(false);
        };
        let (record_id, purpose, cancel) = if order.is_none() {
            if !wants(endpoint, &resource, version == 1) {
                return Ok(false);
            }
            (order_id, Purpose::Current, false)
        } else if read_record(&self.engine, ctx, &cancel_id).await?.is_some() {
            // Cancelled already: nothing more is sent for it.
            return Ok(false);
        } else if wants_cancel(endpoint, &resource) {
            (cancel_id, Purpose::Current, true)
        } else if version > 1 && wants(endpoint, &resource, false) {
            let change_id = record_id(&endpoint.name, &format!("{focus}#v{version}"));
            if read_record(&self.engine, ctx, &change_id).await?.is_some() {
                return Ok(false);
            }
            (change_id, Purpose::Change, false)
        } else {
            return Ok(false);
        };
        let now = now_instant();
        let control = control_id(&record_id);
        let patient_ref = patient_reference(&resource).map(str::to_string);
        let patient = match &patient_ref {
            Some(r) => {
                let pid = r.trim_start_matches("Patient/");
                read_json(&self.engine, ctx, "Patient", pid).await?
            }
            None => None,
        };
        let built = match &patient {
            Some(p) => build(endpoint, &resource, p, &control, &hl7_now(), purpose)
                .map_err(|e| e.to_string()),
            None => Err("the patient (subject) cannot be read".to_string()),
        };
        if purpose == Purpose::Change {
            if let Ok((_, text)) = &built {
                if !self
                    .changes_what_was_sent(ctx, endpoint, &focus, text)
                    .await?
                {
                    return Ok(false);
                }
            }
        }
        let (state, message_type, last_error, message) = match built {
            Ok((t, text)) if cancel => (OutState::Queued, format!("{t} cancel"), None, Some(text)),
            Ok((_, text)) if purpose == Purpose::Change => (
                OutState::Queued,
                CHANGE_MESSAGE_TYPE.to_string(),
                None,
                Some(text),
            ),
            Ok((t, text)) => (OutState::Queued, t.to_string(), None, Some(text)),
            Err(e) => (
                OutState::Failed,
                match endpoint.kind {
                    EndpointKind::Lab => "OML^O21",
                    EndpointKind::Registry => "VXU^V04",
                }
                .to_string(),
                Some(e),
                None,
            ),
        };
        let record = OutboundRecord {
            id: record_id.clone(),
            endpoint: endpoint.name.clone(),
            state,
            message_type,
            control_id: control,
            focus,
            patient: patient_ref,
            sequence,
            attempts: 0,
            last_error,
            ack_code: None,
            ack_text: None,
            ack_time: None,
            next_attempt: None,
            created: now.clone(),
            updated: now,
            has_message: message.is_some(),
        };
        let mut entries = Vec::new();
        if let Some(text) = &message {
            entries.push(json!({
                "resource": binary(&record_id, text.as_bytes()),
                "request": {"method": "PUT", "url": format!("Binary/{record_id}")}
            }));
        }
        entries.push(json!({
            "resource": record.to_task(),
            "request": {"method": "PUT", "url": format!("Task/{record_id}")}
        }));
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        self.engine.process_bundle(ctx, bundle).await?;
        if state == OutState::Failed {
            tracing::warn!(record = %record_id, endpoint = %endpoint.name, "outbound message could not be built");
            self.monitor.outbound_failed(&endpoint.name);
        } else {
            tracing::info!(record = %record_id, endpoint = %endpoint.name, "outbound message queued");
        }
        Ok(true)
    }

    /// Whether `message` asks something else of the lab than the last
    /// message built for `focus` at `endpoint` (the order or its latest
    /// change; see [`order_body`]).
    async fn changes_what_was_sent(
        &self,
        ctx: &TenantContext,
        endpoint: &EndpointConfig,
        focus: &str,
        message: &str,
    ) -> Result<bool, CoreError> {
        let records = Hl7Outbound::records_for(&self.engine, ctx, focus).await?;
        // Sorted by endpoint, then sequence: the last one is the newest.
        let Some(last) = records
            .iter()
            .rfind(|r| r.endpoint == endpoint.name && r.has_message)
        else {
            return Ok(true);
        };
        let sent = read_json(&self.engine, ctx, "Binary", &last.id)
            .await?
            .as_ref()
            .and_then(binary_bytes)
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok(sent.is_none_or(|sent| order_body(&sent) != order_body(message)))
    }
}
