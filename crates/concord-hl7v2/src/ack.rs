//! Original-mode acknowledgements (`ACK`): MSH with sender and receiver
//! swapped and a new control id, MSA with AA/AE/AR and the original control
//! id, and one ERR per error naming segment, field and position with a code
//! from HL7 table 0357.
//!
//! ERR is written in the form of the original's version: v2.2–v2.4 put
//! everything in ERR-1 (`PID^1^5^101&Required field missing&HL70357`);
//! v2.5 and later use ERR-2 (location), ERR-3 (code), ERR-4 (severity) and
//! ERR-8 (user message). Error texts must never contain patient data.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::delimiters::Delimiters;
use crate::error::ParseError;
use crate::escape::escape;
use crate::message::Message;

/// MSA-1 in original mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// AA: accepted.
    Accept,
    /// AE: an error while processing; the sender should correct and resend.
    Error,
    /// AR: rejected (unparsable, unsupported type/version, too large…).
    Reject,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }

    pub fn parse(s: &str) -> Option<AckCode> {
        match s {
            "AA" | "CA" => Some(AckCode::Accept),
            "AE" | "CE" => Some(AckCode::Error),
            "AR" | "CR" => Some(AckCode::Reject),
            _ => None,
        }
    }
}

/// HL7 table 0357, message error condition codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MessageAccepted,
    SegmentSequenceError,
    RequiredFieldMissing,
    DataTypeError,
    TableValueNotFound,
    ValueTooLong,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnsupportedVersionId,
    UnknownKeyIdentifier,
    DuplicateKeyIdentifier,
    ApplicationRecordLocked,
    ApplicationInternalError,
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::MessageAccepted => 0,
            ErrorCode::SegmentSequenceError => 100,
            ErrorCode::RequiredFieldMissing => 101,
            ErrorCode::DataTypeError => 102,
            ErrorCode::TableValueNotFound => 103,
            ErrorCode::ValueTooLong => 104,
            ErrorCode::UnsupportedMessageType => 200,
            ErrorCode::UnsupportedEventCode => 201,
            ErrorCode::UnsupportedProcessingId => 202,
            ErrorCode::UnsupportedVersionId => 203,
            ErrorCode::UnknownKeyIdentifier => 204,
            ErrorCode::DuplicateKeyIdentifier => 205,
            ErrorCode::ApplicationRecordLocked => 206,
            ErrorCode::ApplicationInternalError => 207,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            ErrorCode::MessageAccepted => "Message accepted",
            ErrorCode::SegmentSequenceError => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataTypeError => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::ValueTooLong => "Value too long",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedEventCode => "Unsupported event code",
            ErrorCode::UnsupportedProcessingId => "Unsupported processing id",
            ErrorCode::UnsupportedVersionId => "Unsupported version id",
            ErrorCode::UnknownKeyIdentifier => "Unknown key identifier",
            ErrorCode::DuplicateKeyIdentifier => "Duplicate key identifier",
            ErrorCode::ApplicationRecordLocked => "Application record locked",
            ErrorCode::ApplicationInternalError => "Application internal error",
        }
    }
}

/// ERR-4 severity (HL7 table 0516).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Fatal,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
            Severity::Fatal => "F",
        }
    }
}

/// One ERR segment: where (segment id, its 1-based occurrence, field,
/// repetition, component, sub-component), what (table 0357) and a message
/// for people (no patient data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    pub segment: String,
    pub sequence: Option<usize>,
    pub field: Option<usize>,
    pub repetition: Option<usize>,
    pub component: Option<usize>,
    pub subcomponent: Option<usize>,
    pub code: ErrorCode,
    pub severity: Severity,
    pub message: String,
}

impl ErrorDetail {
    pub fn new(segment: &str, field: Option<usize>, code: ErrorCode, message: &str) -> Self {
        ErrorDetail {
            segment: segment.to_string(),
            sequence: Some(1),
            field,
            repetition: None,
            component: None,
            subcomponent: None,
            code,
            severity: Severity::Error,
            message: message.to_string(),
        }
    }

    pub fn from_parse_error(e: &ParseError) -> Self {
        let (seg, field) = e.location();
        ErrorDetail::new(
            seg,
            (field > 0).then_some(field),
            e.error_code(),
            &e.to_string(),
        )
    }
}

/// Builds an original-mode ACK.
#[derive(Debug, Clone)]
pub struct AckBuilder<'a> {
    original: Option<&'a Message>,
    salvaged_control_id: Option<String>,
    code: AckCode,
    text: Option<String>,
    errors: Vec<ErrorDetail>,
    control_id: Option<String>,
    timestamp: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new, process-unique control id (≤ 20 characters).
pub fn new_control_id() -> String {
    let millis = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xFFFF;
    format!("{:x}{:04x}", millis, n)
}

/// Now, as an HL7 DTM in UTC (`YYYYMMDDHHMMSS+0000`).
pub fn now_timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl<'a> AckBuilder<'a> {
    /// An ACK (AA unless changed) for a parsed message.
    pub fn new(original: &'a Message) -> Self {
        AckBuilder {
            original: Some(original),
            salvaged_control_id: None,
            code: AckCode::Accept,
            text: None,
            errors: Vec::new(),
            control_id: None,
            timestamp: None,
        }
    }

    /// An AR for bytes that did not parse: the control id is salvaged from
    /// an MSH line when one can be read, and the error is named.
    pub fn unparsable(raw: &[u8], error: &ParseError) -> AckBuilder<'static> {
        AckBuilder {
            original: None,
            salvaged_control_id: salvage_control_id(raw),
            code: AckCode::Reject,
            text: None,
            errors: vec![ErrorDetail::from_parse_error(error)],
            control_id: None,
            timestamp: None,
        }
    }

    /// An ACK for bytes of which only the start is known (an oversize
    /// message): the head is parsed to find the sender and control id.
    pub fn rejected_head(head: &Message) -> AckBuilder<'_> {
        AckBuilder::new(head).code(AckCode::Reject)
    }

    pub fn code(mut self, code: AckCode) -> Self {
        self.code = code;
        self
    }

    /// MSA-3 text (no patient data).
    pub fn text(mut self, text: &str) -> Self {
        self.text = Some(text.to_string());
        self
    }

    pub fn error(mut self, e: ErrorDetail) -> Self {
        self.errors.push(e);
        self
    }

    pub fn control_id(mut self, id: &str) -> Self {
        self.control_id = Some(id.to_string());
        self
    }

    /// MSH-7; defaults to now (UTC).
    pub fn timestamp(mut self, ts: &str) -> Self {
        self.timestamp = Some(ts.to_string());
        self
    }

    /// The ACK message.
    pub fn build(&self) -> Message {
        let text = self.build_text();
        // The text is assembled from escaped parts with valid delimiters,
        // so it always parses; fall back to a minimal ACK regardless.
        Message::parse_str(&text).unwrap_or_else(|_| minimal_ack())
    }

    /// The ACK bytes (segments ended by `\r`, no BOM).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.build().to_bytes()
    }

    fn build_text(&self) -> String {
        let orig = self.original;
        let od = orig.map(|m| *m.delimiters());
        let complete = od.is_some_and(|d| {
            d.component.is_some()
                && d.repetition.is_some()
                && d.escape.is_some()
                && d.subcomponent.is_some()
        });
        let d = match od {
            Some(d) if complete => d,
            _ => Delimiters::default(),
        };
        let f = d.field;
        let c = d.component.unwrap_or('^');
        let s = d.subcomponent.unwrap_or('&');
        // A field of the original, raw when the delimiters are the same,
        // else its first component re-escaped.
        let copy = |n: usize| -> String {
            let Some(m) = orig else {
                return String::new();
            };
            let Some(seg) = m.all_segments().first() else {
                return String::new();
            };
            if complete {
                seg.field_raw(n).map(str::to_string).unwrap_or_default()
            } else {
                seg.get(&n.to_string(), m.delimiters())
                    .map(|v| escape(&v, &d).into_owned())
                    .unwrap_or_default()
            }
        };
        let esc = |v: &str| escape(v, &d).into_owned();
        let version = orig
            .and_then(|m| m.version())
            .map(|v| v.into_owned())
            .unwrap_or_default();
        let old_err = ["2.1", "2.2", "2.3", "2.4"]
            .iter()
            .any(|p| version.starts_with(p));
        let trigger = orig
            .and_then(|m| m.trigger_event())
            .map(|v| esc(&v))
            .unwrap_or_default();
        let msg_type = match (
            trigger.is_empty(),
            version.starts_with("2.3") || version.starts_with("2.2"),
        ) {
            (true, _) => "ACK".to_string(),
            (false, true) => format!("ACK{c}{trigger}"),
            (false, false) => format!("ACK{c}{trigger}{c}ACK"),
        };
        let control = self.control_id.clone().unwrap_or_else(new_control_id);
        let ts = self.timestamp.clone().unwrap_or_else(now_timestamp);
        let processing = {
            let p = copy(11);
            if p.is_empty() {
                "P".to_string()
            } else {
                p
            }
        };
        let version_raw = {
            let v = copy(12);
            if v.is_empty() {
                "2.5.1".to_string()
            } else {
                v
            }
        };
        let orig_control = match orig {
            Some(_) => copy(10),
            None => self
                .salvaged_control_id
                .as_deref()
                .map(esc)
                .unwrap_or_default(),
        };
        let mut out = String::new();
        out.push_str(&format!(
            "MSH{f}{enc}{f}{ra}{f}{rf}{f}{sa}{f}{sf}{f}{ts}{f}{f}{msg_type}{f}{control}{f}{processing}{f}{version_raw}\r",
            enc = d.encoding_characters(),
            ra = copy(5),
            rf = copy(6),
            sa = copy(3),
            sf = copy(4),
            control = esc(&control),
            ts = esc(&ts),
        ));
        out.push_str(&format!("MSA{f}{}{f}{orig_control}", self.code.as_str()));
        if let Some(t) = &self.text {
            out.push_str(&format!("{f}{}", esc(t)));
        }
        out.push('\r');
        let num = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
        for e in &self.errors {
            let seg = esc(&e.segment);
            if old_err {
                out.push_str(&format!(
                    "ERR{f}{seg}{c}{seq}{c}{field}{c}{code}{s}{text}{s}HL70357\r",
                    seq = num(e.sequence),
                    field = num(e.field),
                    code = e.code.code(),
                    text = esc(e.code.text()),
                ));
            } else {
                let mut loc = format!(
                    "{seg}{c}{}{c}{}{c}{}{c}{}{c}{}",
                    num(e.sequence),
                    num(e.field),
                    num(e.repetition),
                    num(e.component),
                    num(e.subcomponent)
                );
                while loc.ends_with(c) {
                    loc.pop();
                }
                out.push_str(&format!(
                    "ERR{f}{f}{loc}{f}{code}{c}{text}{c}HL70357{f}{sev}{f}{f}{f}{f}{msg}\r",
                    code = e.code.code(),
                    text = esc(e.code.text()),
                    sev = e.severity.as_str(),
                    msg = esc(&e.message),
                ));
            }
        }
        out
    }
}

fn minimal_ack() -> Message {
    let d = Delimiters::default();
    let segments = [("MSH|^~\\&|||||||ACK|||2.5.1", true), ("MSA|AR|", false)]
        .iter()
        .filter_map(|(line, header)| crate::message::Segment::parse(line, "\r", &d, *header))
        .collect();
    Message::from_parts(
        false,
        crate::message::Charset::Utf8,
        String::new(),
        d,
        segments,
    )
}

/// MSH-10 from the first line of bytes that did not fully parse, if it
/// looks like an MSH with a usable field separator.
fn salvage_control_id(raw: &[u8]) -> Option<String> {
    let raw = raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw);
    let line_end = raw
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(raw.len());
    let line = std::str::from_utf8(raw.get(..line_end)?).ok()?;
    let rest = line.strip_prefix("MSH")?;
    let sep = rest.chars().next()?;
    if sep.is_alphanumeric() || sep.is_whitespace() {
        return None;
    }
    // MSH-10 is the 10th part when split on the separator (MSH-1 is the
    // separator itself).
    let id = line.split(sep).nth(9)?;
    let id: String = id.chars().take(199).collect();
    (!id.is_empty()).then_some(id)
}

/// The MSA fields of a received ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckSummary {
    pub code: Option<AckCode>,
    /// MSA-2, the control id acknowledged.
    pub acknowledged_control_id: Option<String>,
}

impl Message {
    /// Reads MSA-1/MSA-2 of an ACK.
    pub fn ack_summary(&self) -> AckSummary {
        AckSummary {
            code: self.get("MSA-1").and_then(|c| AckCode::parse(&c)),
            acknowledged_control_id: self.get("MSA-2").map(|c| c.into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORU: &str = "MSH|^~\\&|LAB|LABFAC^1.2.3^ISO|EHR|EHRFAC|20240101120000||ORU^R01^ORU_R01|CTRL42|P|2.5.1\rPID|1||123^^^MRN\r";

    #[test]
    fn aa() {
        let m = Message::parse_str(ORU).unwrap();
        let ack = AckBuilder::new(&m)
            .control_id("A1")
            .timestamp("20240101120001")
            .build();
        assert_eq!(
            ack.encode(),
            "MSH|^~\\&|EHR|EHRFAC|LAB|LABFAC^1.2.3^ISO|20240101120001||ACK^R01^ACK|A1|P|2.5.1\rMSA|AA|CTRL42\r"
        );
        assert_eq!(ack.ack_summary().code, Some(AckCode::Accept));
    }

    #[test]
    fn ae_with_err() {
        let m = Message::parse_str(ORU).unwrap();
        let ack = AckBuilder::new(&m)
            .code(AckCode::Error)
            .error(ErrorDetail::new(
                "PID",
                Some(5),
                ErrorCode::RequiredFieldMissing,
                "patient name | missing",
            ))
            .build();
        assert_eq!(ack.get("MSA-1").as_deref(), Some("AE"));
        assert_eq!(ack.get("ERR-2-1").as_deref(), Some("PID"));
        assert_eq!(ack.get("ERR-2-3").as_deref(), Some("5"));
        assert_eq!(ack.get("ERR-3-1").as_deref(), Some("101"));
        assert_eq!(ack.get("ERR-3-3").as_deref(), Some("HL70357"));
        assert_eq!(ack.get("ERR-4").as_deref(), Some("E"));
        assert_eq!(ack.get("ERR-8").as_deref(), Some("patient name | missing"));
        assert!(ack.encode().contains("name \\F\\ missing"));
    }

    #[test]
    fn old_version_err() {
        let m = Message::parse_str(&ORU.replace("2.5.1", "2.3")).unwrap();
        let ack = AckBuilder::new(&m)
            .code(AckCode::Error)
            .error(ErrorDetail::new(
                "PID",
                Some(5),
                ErrorCode::RequiredFieldMissing,
                "x",
            ))
            .build();
        assert_eq!(ack.get("MSH-9").as_deref(), Some("ACK"));
        assert_eq!(ack.get("MSH-9-2").as_deref(), Some("R01"));
        assert_eq!(ack.get("MSH-9-3"), None);
        assert_eq!(ack.get("ERR-1-4-1").as_deref(), Some("101"));
        assert_eq!(ack.get("ERR-1-4-3").as_deref(), Some("HL70357"));
    }

    #[test]
    fn unparsable() {
        let raw = b"MSH|^^\\&|A|B|C|D|2024||ADT^A01|XYZ|P|2.5\r";
        let err = Message::parse(raw).unwrap_err();
        let ack = AckBuilder::unparsable(raw, &err).build();
        assert_eq!(ack.get("MSA-1").as_deref(), Some("AR"));
        assert_eq!(ack.get("MSA-2").as_deref(), Some("XYZ"));
        assert_eq!(ack.get("ERR-3-1").as_deref(), Some("102"));
        let ack = AckBuilder::unparsable(b"\x00garbage", &ParseError::MissingMsh).build();
        assert_eq!(ack.get("MSA-2"), None);
    }
}
