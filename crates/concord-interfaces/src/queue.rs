//! The error queue: failed Tasks, and reprocessing one after staff fixed
//! the message (`PUT Binary/{id}` with corrected data) or the data it needs
//! (e.g. registered the patient).

use concord_core::{CoreError, Engine};
use concord_hl7v2::Message;
use concord_store::TenantContext;
use serde_json::Value;

use crate::inbound::{Hl7Inbound, Outcome};
use crate::message_store::{
    binary_bytes, read_task, task_key, task_state, State, Stored, QUEUE_SYSTEM,
};

/// The failed Tasks (at most `limit`), found by their queue identifier.
pub async fn failed_tasks(
    engine: &Engine,
    ctx: &TenantContext,
    limit: usize,
) -> Result<Vec<Value>, CoreError> {
    let query = format!("identifier={}|failed", QUEUE_SYSTEM);
    let ids = engine.find_ids(ctx, "Task", &query, limit).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(t) = read_task(engine, ctx, &id).await? {
            out.push(t);
        }
    }
    Ok(out)
}

/// Why a Task cannot be reprocessed.
#[derive(Debug)]
pub enum ReprocessError {
    /// No such Task, or not an inbound-message Task.
    NotFound,
    /// The Task is completed already.
    AlreadyCompleted,
    /// The stored message is missing or no longer parses.
    BadMessage(String),
    Core(CoreError),
}

/// Re-runs mapping and applying for the message of Task `id`.
pub async fn reprocess(
    inbound: &Hl7Inbound,
    ctx: &TenantContext,
    id: &str,
) -> Result<Outcome, ReprocessError> {
    if !id.starts_with("hl7v2-") {
        return Err(ReprocessError::NotFound);
    }
    let engine = inbound.engine();
    let key = task_key(&existing_task(engine, ctx, id).await?)
        .unwrap_or(id)
        .to_string();
    // Read again under the message's lock: a retransmission may have
    // changed it meanwhile.
    let _guard = inbound.lock_for(&key).lock().await;
    let task = existing_task(engine, ctx, id).await?;
    if task_state(&task).0 == Some(State::Completed) {
        return Err(ReprocessError::AlreadyCompleted);
    }
    let binary = engine
        .read(ctx, "Binary", id)
        .await
        .map_err(ReprocessError::Core)?;
    let binary: Value = binary
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or_else(|| ReprocessError::BadMessage("the stored message is unreadable".into()))?;
    let raw = binary_bytes(&binary)
        .ok_or_else(|| ReprocessError::BadMessage("Binary.data is not base64".into()))?;
    let msg = Message::parse(&raw).map_err(|e| ReprocessError::BadMessage(e.to_string()))?;
    tracing::info!(message = %id, "reprocessing");
    let stored = Stored { id, key: &key };
    Ok(inbound.apply(ctx, stored, None, &msg).await)
}

/// The Task `id`; [`ReprocessError::NotFound`] without one.
async fn existing_task(
    engine: &Engine,
    ctx: &TenantContext,
    id: &str,
) -> Result<Value, ReprocessError> {
    read_task(engine, ctx, id)
        .await
        .map_err(ReprocessError::Core)?
        .ok_or(ReprocessError::NotFound)
}
