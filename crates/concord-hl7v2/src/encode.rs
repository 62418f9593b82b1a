//! [`Message`] → bytes. An unmodified parse is written back byte for byte:
//! same delimiters, same raw (escaped) leaf text, same segment terminators,
//! same leading line breaks, the BOM when the input had one, and the same
//! character set (UTF-8, or ISO-8859-1 when the input was not UTF-8).

use std::fmt;

use crate::delimiters::Delimiters;
use crate::message::{Charset, Field, Message, Segment};

pub(crate) fn write_field(out: &mut String, field: &Field, d: &Delimiters) {
    for (ri, rep) in field.repetitions.iter().enumerate() {
        if ri > 0 {
            push_opt(out, d.repetition);
        }
        for (ci, comp) in rep.components.iter().enumerate() {
            if ci > 0 {
                push_opt(out, d.component);
            }
            for (si, sub) in comp.subcomponents.iter().enumerate() {
                if si > 0 {
                    push_opt(out, d.subcomponent);
                }
                out.push_str(sub);
            }
        }
    }
}

/// A missing delimiter can only be "written" by a tree built through the
/// API against it; fall back to nothing (the parse never produces that).
fn push_opt(out: &mut String, c: Option<char>) {
    if let Some(c) = c {
        out.push(c);
    }
}

pub(crate) fn write_segment(out: &mut String, seg: &Segment, d: &Delimiters) {
    out.push_str(&seg.name);
    let skip = if seg.header {
        // MSH-1 is the separator itself, written once; MSH-2 is a plain leaf.
        1
    } else {
        0
    };
    for field in seg.fields.iter().skip(skip) {
        out.push(d.field);
        write_field(out, field, d);
    }
}

impl Message {
    /// The message text (no BOM), segment terminators as parsed.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.segments.len() * 80);
        out.push_str(&self.leading);
        for seg in &self.segments {
            write_segment(&mut out, seg, &self.delimiters);
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

impl Segment {
    /// The segment text as written, without its terminator.
    pub fn encode(&self, d: &Delimiters) -> String {
        let mut s = String::new();
        write_segment(&mut s, self, d);
        s
    }
}
