//! Inbound mapping of HL7 v2 messages to FHIR R4: pure functions from a
//! parsed [`Message`] to a transaction Bundle (`serde_json::Value`).
//!
//! One file per message family (`adt`, `oru`, `vxu`, `siu`, `mdm`, `rds`);
//! shared pieces: `values` (leaves, dates), `datatypes` (CX, XPN, CWE …),
//! `tables` and `ucum` (code tables with their sources), `patient` (PID,
//! NK1, PV1) and `bundle` (ids, entries, Provenance). See docs/hl7v2.md.
//!
//! The Bundle uses conditional create/update on identifiers and
//! deterministic ids (for ORU^R01, led by report ids the caller may choose:
//! [`report_orders`], [`MapOptions::report_ids`]), so applying the same
//! message twice changes nothing but version numbers, and a corrected
//! result lands on the same Observation. Messages about an existing patient (ORU, VXU, SIU, MDM,
//! RDS) reference it as `Patient?identifier=system|value`; the caller must
//! make sure it exists (an unknown patient is an error, never a new one).

mod adt;
pub mod bundle;
pub mod datatypes;
mod mdm;
mod oru;
mod patient;
mod rds;
mod siu;
pub mod tables;
pub mod ucum;
pub mod values;
mod vxu;

pub use oru::{PlacerNumber, ReportOrder, FILLER_TYPE};

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::ack::ErrorCode;
use crate::message::{Message, SegmentView};

/// What the mapping needs besides the message.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// Where the message is stored, e.g. `Binary/<id>` (Provenance.entity).
    pub message_reference: String,
    /// Provenance.recorded (a FHIR instant).
    pub recorded: String,
    /// The UTC offset (`+hh:mm`) assumed for times sent without one; with
    /// `None` such times keep only their date.
    pub default_offset: Option<String>,
    /// The ids of an ORU^R01's DiagnosticReports, by the order keys of
    /// [`report_orders`]; a report without one gets the hash of its order
    /// key (see `oru`).
    pub report_ids: HashMap<String, String>,
    /// The Provenance's id; `None`: a hash of `message_reference`.
    pub provenance_id: Option<String>,
}

/// The patient a message is about: an identifier system and value. Its
/// `Debug` output hides the value (patient data never reaches logs).
#[derive(Clone, PartialEq, Eq)]
pub struct PatientKey {
    pub system: String,
    pub value: String,
}

impl fmt::Debug for PatientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientKey({}|…)", self.system)
    }
}

impl PatientKey {
    /// `identifier=system|value`, encoded for a query string.
    pub fn query(&self) -> String {
        bundle::identifier_query(&self.system, &self.value)
    }

    /// A conditional reference to the patient.
    pub fn reference(&self) -> String {
        format!("Patient?{}", self.query())
    }

    /// The id a new Patient with this identifier gets.
    pub fn new_patient_id(&self) -> String {
        bundle::deterministic_id(&["Patient", &self.system, &self.value])
    }
}

/// An A40 merge: the record that is merged away.
#[derive(Debug, Clone)]
pub struct Merge {
    /// MRG-1: the prior (non-surviving) patient.
    pub prior: PatientKey,
    /// The surviving patient (PID-3).
    pub survivor: PatientKey,
}

/// A mapped message.
#[derive(Debug)]
pub struct Mapped {
    /// The transaction Bundle.
    pub bundle: Value,
    /// The patient the message is about.
    pub patient: Option<PatientKey>,
    /// True for ADT registration and update events, which may create the
    /// patient; everything else needs the patient to exist.
    pub registers_patient: bool,
    /// An A40 merge the caller applies to the prior record (it needs that
    /// record's current content).
    pub merge: Option<Merge>,
}

/// Why a message could not be mapped: where (segment, field) and what
/// (HL7 table 0357). The message never holds patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    pub segment: String,
    pub field: Option<usize>,
    pub code: ErrorCode,
    pub message: String,
}

impl MapError {
    pub fn new(
        segment: &str,
        field: Option<usize>,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> MapError {
        MapError {
            segment: segment.to_string(),
            field,
            code,
            message: message.into(),
        }
    }

    pub fn missing(segment: &str, field: usize, what: &str) -> MapError {
        MapError::new(
            segment,
            Some(field),
            ErrorCode::RequiredFieldMissing,
            format!("{segment}-{field} ({what}) is required"),
        )
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(n) => write!(f, "{}-{}: {}", self.segment, n, self.message),
            None => write!(f, "{}: {}", self.segment, self.message),
        }
    }
}

impl std::error::Error for MapError {}

/// The message types and events this module maps.
pub const SUPPORTED: &[(&str, &[&str])] = &[
    (
        "ADT",
        &[
            "A01", "A03", "A04", "A08", "A11", "A13", "A28", "A31", "A40",
        ],
    ),
    ("ORU", &["R01"]),
    ("VXU", &["V04"]),
    ("SIU", &["S12", "S13", "S14", "S15"]),
    ("MDM", &["T02"]),
    ("RDS", &["O13"]),
];

/// Whether [`map_message`] handles this type and event.
pub fn is_supported(message_type: &str, event: &str) -> bool {
    SUPPORTED
        .iter()
        .any(|(t, evs)| *t == message_type && evs.contains(&event))
}

/// Shared state of one mapping run.
pub(crate) struct Ctx<'a> {
    pub msg: &'a Message,
    pub opts: &'a MapOptions,
    /// `MSH-3^MSH-4` namespaces, for fallback identifier systems.
    pub sender: String,
    pub event: String,
}

impl<'a> Ctx<'a> {
    pub fn offset(&self) -> Option<&str> {
        self.opts.default_offset.as_deref()
    }

    /// A system for identifiers the sender gives without an assigning
    /// authority: `urn:concord:hl7v2:<sender>:<kind>`.
    pub fn local_system(&self, kind: &str) -> String {
        format!(
            "urn:concord:hl7v2:{}:{kind}",
            datatypes::uri_segment(&self.sender)
        )
    }

    pub fn seg(&self, name: &str) -> Option<SegmentView<'a>> {
        let msg: &'a Message = self.msg;
        let i = msg.all_segments().iter().position(|s| s.name() == name)?;
        msg.view(i)
    }

    pub fn date_time(&self, raw: Option<String>) -> Option<String> {
        values::date_time(raw, self.offset())
    }
}

/// Maps a message to a transaction Bundle.
pub fn map_message(msg: &Message, opts: &MapOptions) -> Result<Mapped, MapError> {
    let ty = msg
        .message_type()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let event = msg
        .trigger_event()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let ctx = Ctx {
        msg,
        opts,
        sender: sender_of(msg),
        event: event.clone(),
    };
    match ty.as_str() {
        "ADT" => adt::map(&ctx),
        "ORU" if event == "R01" => oru::map(&ctx),
        "VXU" if event == "V04" => vxu::map(&ctx),
        "SIU" if matches!(event.as_str(), "S12" | "S13" | "S14" | "S15") => siu::map(&ctx),
        "MDM" if event == "T02" => mdm::map(&ctx),
        "RDS" if event == "O13" => rds::map(&ctx),
        "ORU" | "VXU" | "SIU" | "MDM" | "RDS" => Err(MapError::new(
            "MSH",
            Some(9),
            ErrorCode::UnsupportedEventCode,
            format!("event {event} of {ty} is not mapped"),
        )),
        _ => Err(MapError::new(
            "MSH",
            Some(9),
            ErrorCode::UnsupportedMessageType,
            format!("message type {ty} is not mapped"),
        )),
    }
}

/// The orders whose DiagnosticReport id the caller may choose
/// ([`MapOptions::report_ids`]): those of an ORU^R01, none for other
/// messages.
pub fn report_orders(msg: &Message) -> Vec<ReportOrder> {
    let ctx = Ctx {
        msg,
        opts: &MapOptions::default(),
        sender: sender_of(msg),
        event: String::new(),
    };
    match (msg.message_type(), msg.trigger_event()) {
        (Some(t), Some(e)) if t.trim() == "ORU" && e.trim() == "R01" => oru::report_orders(&ctx),
        _ => Vec::new(),
    }
}

/// The Patient the message's PID describes, without storing anything: for
/// staff tools that register a patient from a message held in the error
/// queue, and for comparing mappings. `None` without a usable PID.
pub fn patient_from_message(msg: &Message, opts: &MapOptions) -> Option<(PatientKey, Value)> {
    let ctx = Ctx {
        msg,
        opts,
        sender: sender_of(msg),
        event: msg
            .trigger_event()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    };
    let (pid, key) = patient::key(&ctx).ok()?;
    let mut p = patient::patient(&ctx, &pid);
    if let Some(o) = p.as_object_mut() {
        o.insert("id".into(), Value::String(key.new_patient_id()));
    }
    Some((key, p))
}

fn sender_of(msg: &Message) -> String {
    let (app, fac) = msg.sender();
    format!(
        "{}^{}",
        app.as_deref().unwrap_or("").trim(),
        fac.as_deref().unwrap_or("").trim()
    )
}

/// The Bundle of a mapping run, with its Provenance.
pub(crate) fn finish(ctx: &Ctx<'_>, b: bundle::Builder) -> Value {
    let prov_id =
        ctx.opts.provenance_id.clone().unwrap_or_else(|| {
            bundle::deterministic_id(&["Provenance", &ctx.opts.message_reference])
        });
    b.finish(
        &prov_id,
        &ctx.opts.message_reference,
        &ctx.opts.recorded,
        &ctx.sender,
    )
}
