//! Concord's HL7 v2 inbound interface, between the MLLP transport and the
//! FHIR write path:
//!
//! * `message_store`: every received message is kept FHIR-natively as a
//!   `Binary` (`x-application/hl7-v2+er7`) whose id is derived from a
//!   SHA-256 of the sending application/facility and MSH-10, together with
//!   a `Task` recording its processing status;
//! * `inbound`: [`Hl7Inbound`], the `MessageHandler` that stores, detects
//!   retransmissions, maps (`concord_hl7v2::fhir`), applies the transaction
//!   through `concord_core::Engine` and answers AA/AE/AR;
//! * `queue`: the error queue (failed Tasks) and reprocessing;
//! * `outbound`: [`Hl7Outbound`], lab orders and immunizations sent over
//!   MLLP from the change feed, one `Task` record per message;
//! * `config`: the endpoints; `monitor`: counters and queue depths.
//!
//! Nothing here logs patient data: only message ids, control ids, types,
//! sizes and error kinds.
#![forbid(unsafe_code)]

mod ack;
pub mod concept_map;
pub mod config;
pub mod inbound;
mod merge;
pub mod message_store;
pub mod monitor;
pub mod outbound;
pub mod queue;
mod report_ids;

pub use config::{EndpointConfig, EndpointKind, InterfacesConfig};
pub use inbound::{Hl7Inbound, InboundConfig, Outcome};
pub use message_store::{message_key, unparsable_id, MESSAGE_CONTENT_TYPE};
pub use monitor::Monitor;
pub use outbound::{Hl7Outbound, OutState, OutboundHandle, OutboundRecord, ResendError};
pub use queue::{failed_tasks, reprocess, ReprocessError};
