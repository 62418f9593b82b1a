//! [`Message`] → bytes. An unmodified parse is written back byte for byte:
//! each segment keeps its raw line (same delimiters, same escaped text,
//! trailing empty fields included) and its exact terminator; the line
//! breaks before MSH, the BOM (when the input had one) and the character
//! set (UTF-8, or ISO-8859-1 when the input was not UTF-8) are kept too.
//! Edits through [`Message::set`] rewrite only the segment they touch.

use std::fmt;

use crate::message::{Charset, Message};

impl Message {
    /// The message text (no BOM), segment terminators as parsed.
    pub fn encode(&self) -> String {
        let len = self.leading.len()
            + self
                .segments
                .iter()
                .map(|s| s.raw.len() + s.terminator.len())
                .sum::<usize>();
        let mut out = String::with_capacity(len);
        out.push_str(&self.leading);
        for seg in &self.segments {
            out.push_str(&seg.raw);
            out.push_str(&seg.terminator);
        }
        out
    }

    /// The message bytes: BOM (if parsed with one), then the text in the
    /// parsed character set. Characters outside ISO-8859-1 set into a
    /// Latin-1 message are written as `?`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text = self.encode();
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        match self.charset {
            Charset::Utf8 => out.extend_from_slice(text.as_bytes()),
            Charset::Latin1 => out.extend(text.chars().map(|c| u8::try_from(c).unwrap_or(b'?'))),
        }
        out
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}
