//! The audit trail: every access becomes a FHIR AuditEvent (IHE BALP),
//! written in batches by [`AuditWriter`] through the store's commit, so each
//! batch is one transaction appended to the ledger's Merkle log. AuditEvents
//! are never written through the API (the engine refuses them), so auditing
//! cannot recurse.

mod bundle;
mod patients;
mod record;
mod writer;

pub use record::{Action, Agent, AuditRecord, Category};
pub use writer::{AuditWriter, Evidence};
