//! Bytes → [`Message`]. Tolerant of a UTF-8 BOM, of `\r`, `\n` and `\r\n`
//! segment endings (and blank lines), and of empty trailing fields. The
//! parse is lossless: every leaf keeps its raw, still-escaped text and each
//! segment its exact terminator, so [`Message::to_bytes`] reproduces the
//! input.

use crate::delimiters::Delimiters;
use crate::error::ParseError;
use crate::message::{Charset, Message, Segment};

const BOM: &str = "\u{feff}";

impl Message {
    /// Parses a message from bytes. The text is read as UTF-8 when it is
    /// valid UTF-8 and as ISO-8859-1 otherwise (a lossless mapping, so the
    /// original bytes can always be written back).
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        let (bom, bytes) = match bytes.strip_prefix(BOM.as_bytes()) {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        match std::str::from_utf8(bytes) {
            Ok(text) => parse_text(bom, text, Charset::Utf8),
            Err(_) => {
                let text: String = bytes.iter().map(|&b| char::from(b)).collect();
                parse_text(bom, &text, Charset::Latin1)
            }
        }
    }

    /// Parses a message from text (always re-encoded as UTF-8).
    pub fn parse_str(text: &str) -> Result<Message, ParseError> {
        match text.strip_prefix(BOM) {
            Some(rest) => parse_text(true, rest, Charset::Utf8),
            None => parse_text(false, text, Charset::Utf8),
        }
    }
}

fn is_break(c: char) -> bool {
    c == '\r' || c == '\n'
}

fn parse_text(bom: bool, body: &str, charset: Charset) -> Result<Message, ParseError> {
    let start = body.find(|c| !is_break(c)).unwrap_or(body.len());
    let leading = &body[..start];
    let mut rest = &body[start..];
    if rest.is_empty() {
        return Err(ParseError::Empty);
    }
    let delimiters = Delimiters::from_msh(rest)?;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let line_end = rest.find(is_break).unwrap_or(rest.len());
        let line = &rest[..line_end];
        let after = &rest[line_end..];
        let term_end = after.find(|c| !is_break(c)).unwrap_or(after.len());
        let terminator = &after[..term_end];
        let segment = Segment::parse(line, terminator, &delimiters, segments.is_empty())
            .ok_or(ParseError::TooLarge)?;
        segments.push(segment);
        rest = &after[term_end..];
    }
    Ok(Message::from_parts(
        bom,
        charset,
        leading.to_string(),
        delimiters,
        segments,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_and_bom() {
        for text in [
            "MSH|^~\\&|A\rPID|1\r",
            "MSH|^~\\&|A\nPID|1",
            "\u{feff}MSH|^~\\&|A\r\nPID|1\r\n\r\n",
        ] {
            let m = Message::parse(text.as_bytes()).unwrap();
            assert_eq!(m.all_segments().len(), 2);
            assert_eq!(m.get("PID-1").as_deref(), Some("1"));
            assert_eq!(m.to_bytes(), text.as_bytes());
        }
    }

    #[test]
    fn latin1_is_kept() {
        let bytes = b"MSH|^~\\&|A\rPID|1||||M\xfcller\r";
        let m = Message::parse(bytes).unwrap();
        assert_eq!(m.get("PID-5").as_deref(), Some("Müller"));
        assert_eq!(m.to_bytes(), bytes);
    }

    #[test]
    fn errors() {
        assert_eq!(Message::parse(b""), Err(ParseError::Empty));
        assert_eq!(Message::parse(b"\r\n"), Err(ParseError::Empty));
        assert_eq!(Message::parse(b"PID|1"), Err(ParseError::MissingMsh));
        assert!(Message::parse(b"MSH").is_err());
    }
}
