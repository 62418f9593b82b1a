//! Bytes → [`Message`]. Tolerant of a UTF-8 BOM, of `\r`, `\n` and `\r\n`
//! segment endings (and blank lines), and of empty trailing fields. The
//! parse is lossless: every leaf keeps its raw, still-escaped text and each
//! segment its exact terminator, so [`Message::to_bytes`] reproduces the
//! input.

use crate::delimiters::Delimiters;
use crate::error::ParseError;
use crate::message::{Charset, Component, Field, Message, Repetition, Segment};

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
        segments.push(parse_segment(
            line,
            terminator,
            &delimiters,
            segments.is_empty(),
        ));
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

/// Splits one segment line. `is_header` marks the first (MSH) segment,
/// whose MSH-1 and MSH-2 are not split.
pub(crate) fn parse_segment(
    line: &str,
    terminator: &str,
    d: &Delimiters,
    is_header: bool,
) -> Segment {
    let mut parts = line.split(d.field);
    let name = parts.next().unwrap_or("").to_string();
    let mut fields = Vec::new();
    if is_header && name == "MSH" {
        fields.push(Field::leaf(d.field.to_string()));
        fields.push(Field::leaf(parts.next().unwrap_or("").to_string()));
    }
    fields.extend(parts.map(|raw| parse_field(raw, d)));
    Segment::from_parts(name, fields, terminator.to_string(), is_header)
}

fn split(s: &str, c: Option<char>) -> Vec<&str> {
    match c {
        Some(c) => s.split(c).collect(),
        None => vec![s],
    }
}

pub(crate) fn parse_field(raw: &str, d: &Delimiters) -> Field {
    Field {
        repetitions: split(raw, d.repetition)
            .into_iter()
            .map(|rep| Repetition {
                components: split(rep, d.component)
                    .into_iter()
                    .map(|c| Component {
                        subcomponents: split(c, d.subcomponent)
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
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
