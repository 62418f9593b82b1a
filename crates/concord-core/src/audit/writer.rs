//! The buffered audit writer. Requests hand their [`AuditRecord`] to a
//! channel and go on; one task commits whatever has gathered as one batch —
//! one database transaction appending the events' compact records to the
//! audit log (`concord_store::audit_log`; the AuditEvent JSON is rendered
//! only when read) and one ledger leaf, so one Merkle-log leaf, whose hash
//! covers every event of the batch. Under load, batches grow while the
//! previous one commits (up to [`MAX_BATCH`]), and a batch of fewer than
//! [`LINGER_BELOW`] events waits up to [`LINGER`] for more; when idle, each
//! event commits about [`LINGER`] after it was sent. `flush`
//! waits until everything sent before it is committed (used on shutdown and
//! before AuditEvents are searched). Durability window: events accepted but
//! not yet committed — at most one batch in flight plus the queue — are lost
//! if the process is killed.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use concord_store::audit_log::AuditAppend;
use concord_store::{Actor, Store, TenantContext};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, Instant};

use super::bundle::entry_records;
use super::patients::PatientFields;
use super::record::AuditRecord;

/// Most events in one batch.
const MAX_BATCH: usize = 8_192;
/// Events queued before senders wait: back-pressure instead of unbounded
/// memory, and a bound on what a crash can lose (see the module docs).
const QUEUE: usize = 10_000;
/// How long a batch smaller than [`LINGER_BELOW`] waits for more events
/// before it is committed (looking every [`LINGER_STEP`], and committing
/// as soon as it has [`LINGER_BELOW`]): under load, batches of several
/// hundred events instead of a commit every few events — each commit
/// writes the pages it touched to the WAL and empties every SQLite reader
/// connection's page cache, so fewer, larger commits leave the reads
/// faster; idle, an event is committed this much later.
const LINGER: Duration = Duration::from_millis(100);
const LINGER_STEP: Duration = Duration::from_millis(5);
const LINGER_BELOW: usize = 4_096;
/// Attempts at committing a batch before it is given up (and logged).
const ATTEMPTS: usize = 3;

/// What the request left for the writer to finish off the request path.
#[derive(Debug, Clone, Default)]
pub enum Evidence {
    #[default]
    None,
    /// The resource returned or written (JSON): its patients are looked up.
    Resource(Bytes),
    /// A batch/transaction: request and response Bundles; each entry gets
    /// its own AuditEvent besides the Bundle's.
    Bundle { request: Bytes, response: Bytes },
}

enum Msg {
    Event(Box<(AuditRecord, Evidence)>),
    Flush(oneshot::Sender<()>),
}

/// Hands audit records to the batch committer. Cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
}

impl AuditWriter {
    /// Starts the committer task over `store`.
    pub fn spawn(store: Arc<dyn Store>) -> AuditWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        AuditWriter { tx }
    }

    /// A writer that drops every record: only for `concord bench --compare`,
    /// to measure the baseline that auditing is compared against. Nothing
    /// that serves requests constructs it (`concord serve` and `demo` always
    /// spawn the real writer; there is no setting to turn auditing off).
    pub fn discard_for_benchmark() -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if let Msg::Flush(done) = msg {
                    let _ = done.send(());
                }
            }
        });
        AuditWriter { tx }
    }

    /// Queues one record (waits only when the queue is full).
    pub async fn record(&self, record: AuditRecord, evidence: Evidence) {
        if self
            .tx
            .send(Msg::Event(Box::new((record, evidence))))
            .await
            .is_err()
        {
            tracing::error!("the audit writer has stopped; an audit event was lost");
        }
    }

    /// Waits until every record queued before this call is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<(AuditRecord, Evidence)> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        take(first, &mut batch, &mut waiting);
        gather(&mut rx, &mut batch, &mut waiting);
        // A small batch waits a moment for more events: one commit for
        // many, and fewer commits that invalidate the readers' page caches.
        // Not while someone waits for a flush. The writer sleeps rather than
        // waking on every event.
        if !batch.is_empty() && batch.len() < LINGER_BELOW && waiting.is_empty() {
            let until = Instant::now() + LINGER;
            loop {
                tokio::time::sleep(LINGER_STEP).await;
                gather(&mut rx, &mut batch, &mut waiting);
                if batch.len() >= LINGER_BELOW || !waiting.is_empty() || Instant::now() >= until {
                    break;
                }
            }
        }
        if !batch.is_empty() {
            commit(&store, batch.drain(..)).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

fn take(
    msg: Msg,
    batch: &mut Vec<(AuditRecord, Evidence)>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) {
    match msg {
        Msg::Event(e) => batch.push(*e),
        Msg::Flush(done) => waiting.push(done),
    }
}

/// Takes what is queued, up to a full batch.
fn gather(
    rx: &mut mpsc::Receiver<Msg>,
    batch: &mut Vec<(AuditRecord, Evidence)>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(msg) => take(msg, batch, waiting),
            Err(_) => break,
        }
    }
}

/// Expands evidence into final records (patients, bundle entries).
fn finish(record: AuditRecord, evidence: Evidence) -> Vec<AuditRecord> {
    match evidence {
        Evidence::None => vec![record],
        Evidence::Resource(body) => {
            let mut record = record;
            if record.patients.is_empty() {
                if let Ok(fields) = serde_json::from_slice::<PatientFields>(&body) {
                    record.patients = fields.patients(&|_| None);
                }
            }
            vec![record]
        }
        Evidence::Bundle { request, response } => {
            let mut record = record;
            let (kind, mut out) = entry_records(&record, &request, &response);
            if let Some(kind) = kind {
                record.interaction = kind;
            }
            out.insert(0, record);
            out
        }
    }
}

async fn commit(
    store: &Arc<dyn Store>,
    batch: impl ExactSizeIterator<Item = (AuditRecord, Evidence)>,
) {
    let n = batch.len();
    let mut by_tenant: BTreeMap<String, Vec<AuditAppend>> = BTreeMap::new();
    for (record, evidence) in batch {
        for r in finish(record, evidence) {
            let event = AuditAppend::of(&r);
            match by_tenant.get_mut(&r.tenant) {
                Some(events) => events.push(event),
                None => {
                    let mut events = Vec::with_capacity(n);
                    events.push(event);
                    by_tenant.insert(r.tenant, events);
                }
            }
        }
    }
    for (tenant, events) in by_tenant {
        let ctx = TenantContext::new(tenant, Actor::System, "audit");
        let n = events.len();
        // Shared, not copied, for the retries.
        let events: Arc<[AuditAppend]> = events.into();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store.append_audit(&ctx, Arc::clone(&events)).await {
                Ok(()) => break,
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, events = n, attempt, "retrying an audit batch");
                }
                Err(e) => {
                    tracing::error!(error = %e, events = n, "audit batch lost");
                    break;
                }
            }
        }
    }
}
