//! Interface monitoring: counters since start (in memory) plus the stored
//! state (message Tasks counted by their queue identifiers), as the JSON of
//! `GET /$hl7v2-monitor` and the admin page.

use std::collections::BTreeMap;
use std::sync::Mutex;

use concord_core::search::{Handling, SearchRequest};
use concord_core::{CoreError, Engine};
use concord_store::TenantContext;
use serde_json::{json, Value};

use crate::config::InterfacesConfig;
use crate::message_store::{now_instant, QUEUE_SYSTEM};
use crate::outbound::record::{OutState, OutboundRecord, OUTBOUND_QUEUE_SYSTEM};

/// Counters of the inbound listener since start.
#[derive(Debug, Default, Clone)]
struct InboundStats {
    received: u64,
    accepted: u64,
    errors: u64,
    rejected: u64,
    last_at: Option<String>,
    last_ack: Option<String>,
}

/// Counters of one outbound endpoint since start.
#[derive(Debug, Default, Clone)]
struct OutboundStats {
    attempts: u64,
    acked: u64,
    rejected: u64,
    errors: u64,
    failed: u64,
    last_ack_code: Option<String>,
    last_ack_at: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    inbound: InboundStats,
    outbound: BTreeMap<String, OutboundStats>,
}

/// Shared by the listener, the outbound service and the API.
#[derive(Debug, Default)]
pub struct Monitor {
    config: InterfacesConfig,
    counters: Mutex<Counters>,
}

impl Monitor {
    pub fn new(config: InterfacesConfig) -> Monitor {
        Monitor {
            config,
            counters: Mutex::new(Counters::default()),
        }
    }

    pub fn config(&self) -> &InterfacesConfig {
        &self.config
    }

    fn with<F: FnOnce(&mut Counters)>(&self, f: F) {
        // A poisoned lock only means a panic elsewhere; the counters stay usable.
        let mut c = match self.counters.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        f(&mut c);
    }

    fn out<F: FnOnce(&mut OutboundStats)>(&self, endpoint: &str, f: F) {
        self.with(|c| f(c.outbound.entry(endpoint.to_string()).or_default()));
    }

    /// An inbound message was answered with `ack` (`AA`, `AE`, `AR`).
    pub fn inbound(&self, ack: &str) {
        let now = now_instant();
        self.with(|c| {
            let s = &mut c.inbound;
            s.received += 1;
            match ack {
                "AA" => s.accepted += 1,
                "AR" => s.rejected += 1,
                _ => s.errors += 1,
            }
            s.last_at = Some(now);
            s.last_ack = Some(ack.to_string());
        });
    }

    pub(crate) fn outbound_sent(&self, endpoint: &str) {
        self.out(endpoint, |s| s.attempts += 1);
    }

    pub(crate) fn outbound_ack(&self, endpoint: &str, code: &str, at: &str) {
        self.out(endpoint, |s| {
            if matches!(code, "AA" | "CA") {
                s.acked += 1;
            } else {
                s.rejected += 1;
            }
            s.last_ack_code = Some(code.to_string());
            s.last_ack_at = Some(at.to_string());
        });
    }

    pub(crate) fn outbound_error(&self, endpoint: &str, error: &str, at: &str) {
        self.out(endpoint, |s| {
            s.errors += 1;
            s.last_error = Some(error.to_string());
            s.last_error_at = Some(at.to_string());
        });
    }

    pub(crate) fn outbound_failed(&self, endpoint: &str) {
        self.out(endpoint, |s| s.failed += 1);
    }

    fn counters(&self) -> (InboundStats, BTreeMap<String, OutboundStats>) {
        let mut out = (InboundStats::default(), BTreeMap::new());
        self.with(|c| out = (c.inbound.clone(), c.outbound.clone()));
        out
    }

    /// The monitor document (see docs/hl7v2.md).
    pub async fn snapshot(&self, engine: &Engine, ctx: &TenantContext) -> Result<Value, CoreError> {
        let (inbound, outbound) = self.counters();
        let completed = count(engine, ctx, QUEUE_SYSTEM, "completed").await?;
        let failed = count(engine, ctx, QUEUE_SYSTEM, "failed").await?;
        let mut endpoints = Vec::new();
        for e in &self.config.endpoints {
            let mut stored = serde_json::Map::new();
            let mut depth = 0;
            for state in OutState::ALL {
                let n = count(
                    engine,
                    ctx,
                    OUTBOUND_QUEUE_SYSTEM,
                    &OutboundRecord::queue_value(&e.name, state),
                )
                .await?;
                if state.pending() {
                    depth += n;
                }
                stored.insert(state.code().into(), json!(n));
            }
            let s = outbound.get(&e.name).cloned().unwrap_or_default();
            endpoints.push(json!({
                "name": e.name,
                "direction": "outbound",
                "kind": e.kind.code(),
                "address": e.address,
                "receivingApplication": e.receiving_application,
                "receivingFacility": e.receiving_facility,
                "messages": stored,
                "queueDepth": depth,
                "sinceStart": {
                    "attempts": s.attempts,
                    "acked": s.acked,
                    "rejected": s.rejected,
                    "connectionErrors": s.errors,
                    "failed": s.failed
                },
                "lastAck": {"code": s.last_ack_code, "time": s.last_ack_at},
                "lastError": {"text": s.last_error, "time": s.last_error_at}
            }));
        }
        Ok(json!({
            "generated": now_instant(),
            "inbound": [{
                "name": "mllp",
                "direction": "inbound",
                "messages": {"completed": completed, "failed": failed},
                "errorQueueDepth": failed,
                "sinceStart": {
                    "received": inbound.received,
                    "accepted": inbound.accepted,
                    "errors": inbound.errors,
                    "rejected": inbound.rejected
                },
                "lastAck": {"code": inbound.last_ack, "time": inbound.last_at}
            }],
            "outbound": endpoints
        }))
    }
}

/// Live Tasks with identifier `system|value`.
async fn count(
    engine: &Engine,
    ctx: &TenantContext,
    system: &str,
    value: &str,
) -> Result<u64, CoreError> {
    let req = SearchRequest {
        resource_type: Some("Task".into()),
        compartment: None,
        params: vec![
            ("identifier".into(), format!("{system}|{value}")),
            ("_summary".into(), "count".into()),
        ],
        handling: Handling::Strict,
        base_url: String::new(),
    };
    Ok(engine.search(ctx, &req).await?.total.unwrap_or(0))
}
