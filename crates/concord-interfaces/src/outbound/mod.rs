//! The outbound interface: lab orders (OML^O21) for signed ServiceRequests
//! and VXU^V04 for new Immunizations, sent over MLLP to configured
//! endpoints.
//!
//! * `feed`: reads the store's change feed (the outbox written with every
//!   commit) from a saved cursor and queues one record per (endpoint,
//!   resource): the built message as `Binary` and its state as `Task`, in
//!   one transaction;
//! * `sender`: one loop per endpoint sends pending records in queue order
//!   over one kept-open MLLP connection, records every ACK and retries
//!   connection errors and timeouts with exponential backoff;
//! * `record`: the Task of a record; `trigger`: what is sent where;
//! * `resend`: a rejected or failed message built again and queued.
//!
//! Restart-safe: the queue is in the database; a record is `acked` only
//! after an AA, so un-ACKed messages are sent again (with the same MSH-10,
//! so the receiver can recognise the retransmission) and acked ones never.

mod feed;
pub mod record;
mod resend;
mod sender;
pub mod trigger;

use std::sync::Arc;
use std::time::Duration;

use concord_core::{CoreError, Engine};
use concord_store::{Actor, TenantContext};
use serde_json::Value;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::config::InterfacesConfig;
use crate::monitor::Monitor;
pub use record::{OutState, OutboundRecord};
pub use resend::ResendError;

/// The outbound service; cheap to share.
pub struct Hl7Outbound {
    engine: Engine,
    tenant: String,
    config: InterfacesConfig,
    monitor: Arc<Monitor>,
    /// Wakes the senders when the feed queued something.
    queued: Notify,
}

/// The running loops; `shutdown` stops them between messages.
pub struct OutboundHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl OutboundHandle {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

impl Hl7Outbound {
    pub fn new(
        engine: Engine,
        tenant: String,
        config: InterfacesConfig,
        monitor: Arc<Monitor>,
    ) -> Arc<Hl7Outbound> {
        Arc::new(Hl7Outbound {
            engine,
            tenant,
            config,
            monitor,
            queued: Notify::new(),
        })
    }

    pub fn config(&self) -> &InterfacesConfig {
        &self.config
    }

    pub(crate) fn context(&self, request: &str) -> TenantContext {
        TenantContext::new(self.tenant.clone(), Actor::System, request)
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.config.poll_interval_ms.max(10))
    }

    /// Reads (or, on first start, sets) the change-feed cursor, then starts
    /// the feed loop and one sender per endpoint (nothing when no endpoint
    /// is configured). Everything committed after this returns is sent.
    pub async fn start(self: &Arc<Self>) -> Result<OutboundHandle, CoreError> {
        let (stop, watcher) = watch::channel(false);
        let mut tasks = Vec::new();
        if !self.config.endpoints.is_empty() {
            let ctx = self.context("hl7v2-outbound-feed");
            let cursor = self.load_cursor(&ctx).await?;
            let me = self.clone();
            let mut w = watcher.clone();
            tasks.push(tokio::spawn(
                async move { me.feed_loop(cursor, &mut w).await },
            ));
            for e in &self.config.endpoints {
                let me = self.clone();
                let name = e.name.clone();
                let mut w = watcher.clone();
                tasks.push(tokio::spawn(
                    async move { me.sender_loop(&name, &mut w).await },
                ));
            }
        }
        Ok(OutboundHandle { stop, tasks })
    }

    /// Waits `d`, or less when woken or stopped; `false` when stopped.
    async fn pause(&self, d: Duration, stop: &mut watch::Receiver<bool>, wake: bool) -> bool {
        if *stop.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.queued.notified(), if wake => {}
            _ = stop.changed() => {}
        }
        !*stop.borrow()
    }

    async fn feed_loop(&self, mut cursor: feed::Cursor, stop: &mut watch::Receiver<bool>) {
        let ctx = self.context("hl7v2-outbound-feed");
        loop {
            match self.queue_changes(&ctx, &mut cursor).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %kind(&e), "outbound: reading the change feed failed; retrying")
                }
            }
            if !self.pause(self.poll(), stop, false).await {
                return;
            }
        }
    }

    /// The records for a resource (`ServiceRequest/123`), one per endpoint
    /// it was queued for.
    pub async fn records_for(
        engine: &Engine,
        ctx: &TenantContext,
        focus: &str,
    ) -> Result<Vec<OutboundRecord>, CoreError> {
        let query = format!("identifier={}|{}", record::OUTBOUND_FOCUS_SYSTEM, focus);
        let ids = engine.find_ids(ctx, "Task", &query, 100).await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some((r, _)) = read_record(engine, ctx, &id).await? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| (&a.endpoint, a.sequence).cmp(&(&b.endpoint, b.sequence)));
        Ok(out)
    }
}

impl Hl7Outbound {
    /// The records of `endpoint` in `state` (at most `limit`), oldest first.
    pub async fn records_in(
        engine: &Engine,
        ctx: &TenantContext,
        endpoint: &str,
        state: OutState,
        limit: usize,
    ) -> Result<Vec<OutboundRecord>, CoreError> {
        let query = format!(
            "identifier={}|{}",
            record::OUTBOUND_QUEUE_SYSTEM,
            OutboundRecord::queue_value(endpoint, state)
        );
        let mut out = Vec::new();
        for id in engine.find_ids(ctx, "Task", &query, limit).await? {
            if let Some((r, _)) = read_record(engine, ctx, &id).await? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| (a.sequence, &a.id).cmp(&(b.sequence, &b.id)));
        Ok(out)
    }
}

/// A record and its Task version, or `None` when there is none.
pub(crate) async fn read_record(
    engine: &Engine,
    ctx: &TenantContext,
    id: &str,
) -> Result<Option<(OutboundRecord, i64)>, CoreError> {
    match engine.read(ctx, "Task", id).await {
        Ok(v) => {
            let task: Option<Value> = v
                .content
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok());
            Ok(task
                .as_ref()
                .and_then(OutboundRecord::from_task)
                .map(|r| (r, v.version)))
        }
        Err(CoreError::NotFound { .. } | CoreError::Gone { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The kind of a core error, for logs (issue texts may quote data).
pub(crate) fn kind(e: &CoreError) -> &'static str {
    match e {
        CoreError::BadRequest(_) => "bad request",
        CoreError::Invalid(_) => "invalid",
        CoreError::UnknownType(_) => "unknown type",
        CoreError::NotFound { .. } => "not found",
        CoreError::Gone { .. } => "gone",
        CoreError::PreconditionFailed(_) => "precondition failed",
        CoreError::Conflict(_) => "conflict",
        CoreError::Forbidden(_) => "forbidden",
        CoreError::ReadOnly(_) => "read-only",
        CoreError::NotSupported(_) => "not supported",
        CoreError::Store(_) => "storage error",
    }
}
