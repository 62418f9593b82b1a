//! ACK bytes for an outcome: AA, or AE/AR with an ERR naming the segment
//! and field.

use concord_hl7v2::{AckBuilder, AckCode, ErrorCode, ErrorDetail, Message};

use crate::message_store::Failure;

/// HL7 table 0357 code → `ErrorCode`.
pub fn error_code(code: u16) -> ErrorCode {
    match code {
        0 => ErrorCode::MessageAccepted,
        100 => ErrorCode::SegmentSequenceError,
        101 => ErrorCode::RequiredFieldMissing,
        102 => ErrorCode::DataTypeError,
        103 => ErrorCode::TableValueNotFound,
        104 => ErrorCode::ValueTooLong,
        200 => ErrorCode::UnsupportedMessageType,
        201 => ErrorCode::UnsupportedEventCode,
        202 => ErrorCode::UnsupportedProcessingId,
        203 => ErrorCode::UnsupportedVersionId,
        204 => ErrorCode::UnknownKeyIdentifier,
        205 => ErrorCode::DuplicateKeyIdentifier,
        206 => ErrorCode::ApplicationRecordLocked,
        _ => ErrorCode::ApplicationInternalError,
    }
}

/// `PID-3` → (`PID`, Some(3)); anything else → (`MSH`, None).
fn split_location(location: &str) -> (String, Option<usize>) {
    match location.split_once('-') {
        Some((seg, field)) if seg.len() == 3 => (seg.to_string(), field.parse().ok()),
        _ if location.len() == 3 => (location.to_string(), None),
        _ => ("MSH".to_string(), None),
    }
}

pub fn accept(msg: &Message) -> Vec<u8> {
    AckBuilder::new(msg).to_bytes()
}

pub fn failure(msg: &Message, f: &Failure) -> Vec<u8> {
    let code = if f.ack_code == "AR" {
        AckCode::Reject
    } else {
        AckCode::Error
    };
    let (segment, field) = split_location(&f.location);
    // ERR-8 goes back to the sender, who sent these values; keep it short.
    let text: String = f.message.chars().take(200).collect();
    AckBuilder::new(msg)
        .code(code)
        .error(ErrorDetail::new(
            &segment,
            field,
            error_code(f.error_code),
            &text,
        ))
        .to_bytes()
}
