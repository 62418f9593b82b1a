//! HL7 v2 for Concord: a lossless parser and encoder for v2.3–v2.8, terser
//! paths, segment groups, original-mode ACKs and MLLP transport.
//!
//! Messages are hostile input: nothing here panics on any bytes, and
//! nothing logs message contents (only control ids and sizes).
#![forbid(unsafe_code)]

pub mod ack;
pub mod delimiters;
mod encode;
pub mod error;
pub mod escape;
pub mod fhir;
pub mod groups;
pub mod message;
pub mod mllp;
pub mod outbound;
mod parse;
pub mod path;

pub use ack::{AckBuilder, AckCode, AckSummary, ErrorCode, ErrorDetail, Severity};
pub use delimiters::Delimiters;
pub use error::{ParseError, PathError};
pub use groups::{Group, GroupChild};
pub use message::{Charset, Message, Segment, SegmentView};
pub use mllp::{
    AutoAck, MessageHandler, MllpClient, MllpConfig, MllpError, MllpServer, ServerHandle,
};
pub use path::{Location, Path};
