//! The sending side: one loop per endpoint, pending records in queue
//! order, one kept-open MLLP connection.
//!
//! * ACK `AA`/`CA` → `acked` (never sent again);
//! * ACK `AE`/`AR`/`CE`/`CR` → `rejected`, with the ACK's text; not
//!   retried, the next message goes on;
//! * no connection → `queued`; written but no (valid) ACK → `sent`: both are
//!   retried after `retry_initial_ms · 2^(attempts-1)` (capped at
//!   `retry_max_ms`), the same message first (order is kept), until
//!   `max_attempts` → `failed`.

use std::collections::HashMap;
use std::time::Duration;

use concord_core::{CoreError, Engine};
use concord_hl7v2::{Message, MllpClient, MllpConfig};
use concord_store::TenantContext;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::record::{OutState, OutboundRecord, OUTBOUND_QUEUE_SYSTEM};
use super::{kind, read_record, Hl7Outbound};
use crate::config::EndpointConfig;
use crate::message_store::{binary_bytes, now_instant};

/// What one attempt came to.
enum Attempt {
    Ack {
        code: String,
        text: Option<String>,
    },
    /// `written`: the message may have reached the receiver.
    Error {
        message: String,
        written: bool,
    },
}

/// Per-endpoint sender state kept between rounds.
struct Link {
    client: Option<MllpClient>,
    /// Retry times of records that failed an attempt (in memory: after a
    /// restart pending records are tried at once).
    not_before: HashMap<String, Instant>,
}

fn instant_after(d: Duration) -> String {
    let t = time::OffsetDateTime::now_utc() + d;
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

/// The pending records of an endpoint with their Task versions, in queue order.
pub(crate) async fn pending(
    engine: &Engine,
    ctx: &TenantContext,
    endpoint: &str,
) -> Result<Vec<(OutboundRecord, i64)>, CoreError> {
    let mut out = Vec::new();
    for state in [OutState::Queued, OutState::Sent] {
        let query = format!(
            "identifier={}|{}",
            OUTBOUND_QUEUE_SYSTEM,
            OutboundRecord::queue_value(endpoint, state)
        );
        for id in engine.find_ids(ctx, "Task", &query, 1000).await? {
            if let Some((r, v)) = read_record(engine, ctx, &id).await? {
                if r.state.pending() {
                    out.push((r, v));
                }
            }
        }
    }
    out.sort_by(|(a, _), (b, _)| (a.sequence, &a.id).cmp(&(b.sequence, &b.id)));
    Ok(out)
}

impl Hl7Outbound {
    pub(crate) async fn sender_loop(&self, name: &str, stop: &mut watch::Receiver<bool>) {
        let Some(endpoint) = self.config.endpoint(name).cloned() else {
            return;
        };
        let ctx = self.context("hl7v2-outbound-sender");
        let mut link = Link {
            client: None,
            not_before: HashMap::new(),
        };
        loop {
            let wait = match self.send_pending(&ctx, &endpoint, &mut link, stop).await {
                Ok(Some(d)) => d.min(self.poll().max(Duration::from_millis(50)) * 20),
                Ok(None) => self.poll(),
                Err(e) => {
                    tracing::warn!(endpoint = %endpoint.name, error = %kind(&e), "outbound: reading the queue failed");
                    self.poll()
                }
            };
            if !self.pause(wait, stop, true).await {
                return;
            }
        }
    }

    /// Sends the due records; `Some(delay)` when the head of the queue waits
    /// for a retry.
    async fn send_pending(
        &self,
        ctx: &TenantContext,
        endpoint: &EndpointConfig,
        link: &mut Link,
        stop: &watch::Receiver<bool>,
    ) -> Result<Option<Duration>, CoreError> {
        let records = pending(&self.engine, ctx, &endpoint.name).await?;
        link.not_before
            .retain(|id, _| records.iter().any(|(r, _)| &r.id == id));
        for (mut rec, version) in records {
            if *stop.borrow() {
                return Ok(None);
            }
            if let Some(t) = link.not_before.get(&rec.id) {
                let now = Instant::now();
                if *t > now {
                    return Ok(Some(*t - now));
                }
            }
            let bytes = match self.engine.read(ctx, "Binary", &rec.id).await {
                Ok(v) => v
                    .content
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Value>(c).ok())
                    .as_ref()
                    .and_then(binary_bytes),
                Err(CoreError::NotFound { .. } | CoreError::Gone { .. }) => None,
                Err(e) => return Err(e),
            };
            let Some(bytes) = bytes else {
                rec.state = OutState::Failed;
                rec.last_error = Some("the stored message (Binary) is missing".into());
                rec.updated = now_instant();
                self.save(ctx, &rec, version).await?;
                self.monitor.outbound_failed(&endpoint.name);
                continue;
            };
            let attempt = self.attempt(endpoint, link, &bytes, &rec.control_id).await;
            rec.attempts = rec.attempts.saturating_add(1);
            rec.updated = now_instant();
            match attempt {
                Attempt::Ack { code, text } => {
                    let accepted = matches!(code.as_str(), "AA" | "CA");
                    rec.state = if accepted {
                        OutState::Acked
                    } else {
                        OutState::Rejected
                    };
                    rec.ack_time = Some(rec.updated.clone());
                    rec.ack_code = Some(code.clone());
                    rec.ack_text = text;
                    rec.next_attempt = None;
                    if accepted {
                        rec.last_error = None;
                    }
                    self.save(ctx, &rec, version).await?;
                    link.not_before.remove(&rec.id);
                    self.monitor
                        .outbound_ack(&endpoint.name, &code, &rec.updated);
                    tracing::info!(record = %rec.id, endpoint = %endpoint.name, ack = %code, "outbound message acknowledged");
                }
                Attempt::Error { message, written } => {
                    self.monitor
                        .outbound_error(&endpoint.name, &message, &rec.updated);
                    rec.last_error = Some(message);
                    if rec.attempts >= endpoint.max_attempts.max(1) {
                        rec.state = OutState::Failed;
                        rec.next_attempt = None;
                        self.save(ctx, &rec, version).await?;
                        link.not_before.remove(&rec.id);
                        self.monitor.outbound_failed(&endpoint.name);
                        tracing::warn!(record = %rec.id, endpoint = %endpoint.name, attempts = rec.attempts, "outbound message failed; giving up");
                        continue;
                    }
                    let delay = endpoint.backoff(rec.attempts);
                    rec.state = if written {
                        OutState::Sent
                    } else {
                        OutState::Queued
                    };
                    rec.next_attempt = Some(instant_after(delay));
                    self.save(ctx, &rec, version).await?;
                    link.not_before
                        .insert(rec.id.clone(), Instant::now() + delay);
                    tracing::info!(record = %rec.id, endpoint = %endpoint.name, attempts = rec.attempts, delay_ms = delay.as_millis() as u64, "outbound attempt failed; will retry");
                    // Order is kept: nothing after it goes first.
                    return Ok(Some(delay));
                }
            }
        }
        Ok(None)
    }

    async fn save(
        &self,
        ctx: &TenantContext,
        rec: &OutboundRecord,
        version: i64,
    ) -> Result<(), CoreError> {
        self.engine
            .update(ctx, "Task", &rec.id, rec.to_task(), Some(version))
            .await
            .map(|_| ())
    }

    /// One send over the kept connection (a stale kept connection is
    /// replaced once without counting an attempt).
    async fn attempt(
        &self,
        endpoint: &EndpointConfig,
        link: &mut Link,
        bytes: &[u8],
        control_id: &str,
    ) -> Attempt {
        let config = MllpConfig {
            connect_timeout: Duration::from_millis(endpoint.connect_timeout_ms.max(1)),
            response_timeout: Duration::from_millis(endpoint.ack_timeout_ms.max(1)),
            write_timeout: Duration::from_millis(endpoint.ack_timeout_ms.max(1)),
            ..MllpConfig::default()
        };
        for round in 0..2 {
            let reused = link.client.is_some();
            let client = match link.client.as_mut() {
                Some(c) => c,
                None => {
                    match MllpClient::connect(endpoint.address.as_str(), config.clone()).await {
                        Ok(c) => link.client.insert(c),
                        Err(e) => {
                            return Attempt::Error {
                                message: format!("cannot connect to {}: {e}", endpoint.address),
                                written: false,
                            }
                        }
                    }
                }
            };
            self.monitor.outbound_sent(&endpoint.name);
            match client.send(bytes).await {
                Ok(ack) => return read_ack(&ack, control_id, link),
                Err(e) => {
                    link.client = None;
                    let stale = matches!(
                        e,
                        concord_hl7v2::MllpError::Closed | concord_hl7v2::MllpError::Io(_)
                    );
                    if reused && stale && round == 0 {
                        continue;
                    }
                    return Attempt::Error {
                        message: format!("no acknowledgement: {e}"),
                        written: true,
                    };
                }
            }
        }
        Attempt::Error {
            message: "no acknowledgement".into(),
            written: true,
        }
    }
}

fn read_ack(ack: &[u8], control_id: &str, link: &mut Link) -> Attempt {
    let Ok(msg) = Message::parse(ack) else {
        link.client = None;
        return Attempt::Error {
            message: "the acknowledgement did not parse".into(),
            written: true,
        };
    };
    let code = msg
        .get("MSA-1")
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let names = msg.get("MSA-2").unwrap_or_default();
    if !matches!(code.as_str(), "AA" | "AE" | "AR" | "CA" | "CE" | "CR") {
        link.client = None;
        return Attempt::Error {
            message: "the acknowledgement has no MSA-1 code".into(),
            written: true,
        };
    }
    if names.trim() != control_id {
        link.client = None;
        return Attempt::Error {
            message: "the acknowledgement is for another message (MSA-2)".into(),
            written: true,
        };
    }
    // ERR-8 (v2.5+) or MSA-3: the receiver's words about our own message.
    let text = msg
        .get("ERR-8")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| msg.get("MSA-3").filter(|s| !s.trim().is_empty()))
        .map(|s| s.chars().take(500).collect::<String>());
    Attempt::Ack { code, text }
}
