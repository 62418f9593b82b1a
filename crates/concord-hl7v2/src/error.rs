//! Errors of the parser and of path look-ups.

use crate::ack::ErrorCode;

/// Why a message could not be parsed at all. The parser is otherwise
/// tolerant: odd segment names, empty fields and unknown escapes are kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message does not start with an MSH segment")]
    MissingMsh,
    #[error("a segment is longer than 4 GiB")]
    TooLarge,
    #[error("invalid delimiters in MSH-1/MSH-2: {reason}")]
    BadDelimiters { reason: &'static str },
}

impl ParseError {
    /// The HL7 table 0357 code an ACK should carry for this error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ParseError::Empty | ParseError::MissingMsh => ErrorCode::SegmentSequenceError,
            ParseError::TooLarge => ErrorCode::ValueTooLong,
            ParseError::BadDelimiters { .. } => ErrorCode::DataTypeError,
        }
    }

    /// Segment and field the error concerns, for ERR-2 (`MSH`, field).
    pub fn location(&self) -> (&'static str, usize) {
        match self {
            ParseError::Empty | ParseError::MissingMsh | ParseError::TooLarge => ("MSH", 0),
            ParseError::BadDelimiters { .. } => ("MSH", 2),
        }
    }
}

/// A terser path (`PID-3(2)-1`) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("invalid path {path:?}: {reason}")]
    Invalid { path: String, reason: &'static str },
}
