//! The parsed message tree and its read/write API.
//!
//! Message → segments → fields → repetitions → components → sub-components.
//! Leaves keep their raw (escaped) text; [`Message::get`] unescapes.

use std::borrow::Cow;

use crate::delimiters::Delimiters;
use crate::error::PathError;
use crate::escape::{escape, unescape};
use crate::path::{Location, Path};

/// How the message bytes were decoded; the encoder writes them back the
/// same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// Not valid UTF-8: each byte was read as one ISO-8859-1 character.
    Latin1,
}

/// A parsed HL7 v2 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub(crate) bom: bool,
    pub(crate) charset: Charset,
    /// Line breaks before MSH, kept for byte-identical encoding.
    pub(crate) leading: String,
    pub(crate) delimiters: Delimiters,
    pub(crate) segments: Vec<Segment>,
}

/// One segment: its raw line (without terminator) and the byte range of
/// each field in it. Repetitions, components and sub-components are split
/// on demand, so parsing costs one string and 8 bytes per field whatever
/// the input (hostile messages full of delimiters stay small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub(crate) name: String,
    pub(crate) raw: String,
    /// `fields[i]` is field i+1 as `start..end` in `raw`. For the header
    /// MSH, field 1 is the separator itself and field 2 is MSH-2, unsplit.
    pub(crate) fields: Vec<(u32, u32)>,
    /// The exact line break(s) that followed the segment ("" for the last
    /// one when the input had none).
    pub(crate) terminator: String,
    /// The message header (first MSH): MSH-1/MSH-2 are special.
    pub(crate) header: bool,
}

fn split_opt(s: &str, c: Option<char>) -> impl Iterator<Item = &str> {
    let (c, whole) = match c {
        Some(c) => (c, false),
        None => ('\0', true),
    };
    let mut it = s.split(c);
    let mut once = Some(s);
    std::iter::from_fn(move || if whole { once.take() } else { it.next() })
}

/// Splits `text` on `sep`, pads to `index + 1` parts, replaces part `index`
/// with `f(old)` and joins again. Without a separator only part 0 exists.
fn replace_part(
    text: &str,
    sep: Option<char>,
    index: usize,
    f: impl FnOnce(&str) -> String,
) -> String {
    let Some(sep) = sep else {
        return if index == 0 {
            f(text)
        } else {
            text.to_string()
        };
    };
    let mut parts: Vec<String> = text.split(sep).map(str::to_string).collect();
    while parts.len() <= index {
        parts.push(String::new());
    }
    let old = std::mem::take(&mut parts[index]);
    parts[index] = f(&old);
    parts.join(&sep.to_string())
}

impl Segment {
    /// Splits a segment line. `header` marks the message's first segment:
    /// when it is MSH, MSH-1 and MSH-2 are not split. `None` when the line
    /// is longer than 4 GiB.
    pub fn parse(line: &str, terminator: &str, d: &Delimiters, header: bool) -> Option<Segment> {
        u32::try_from(line.len()).ok()?;
        let sep = d.field;
        let name_end = line.find(sep).unwrap_or(line.len());
        let name = line[..name_end].to_string();
        let header = header && name == "MSH";
        let mut fields = Vec::new();
        let w = sep.len_utf8();
        let mut pos = name_end;
        if header && pos < line.len() {
            // MSH-1: the separator; MSH-2: up to the next separator.
            fields.push((pos as u32, (pos + w) as u32));
            let start = pos + w;
            let end = line[start..].find(sep).map_or(line.len(), |i| start + i);
            fields.push((start as u32, end as u32));
            pos = end;
        }
        while pos < line.len() {
            let start = pos + w;
            let end = line[start..].find(sep).map_or(line.len(), |i| start + i);
            fields.push((start as u32, end as u32));
            pos = end;
        }
        Some(Segment {
            name,
            raw: line.to_string(),
            fields,
            terminator: terminator.to_string(),
            header,
        })
    }

    /// A new empty segment (`ZPI`, `OBX`, …) ending in `\r`.
    pub fn new(name: &str) -> Segment {
        Segment {
            name: name.to_string(),
            raw: name.to_string(),
            fields: Vec::new(),
            terminator: "\r".to_string(),
            header: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The segment text as written, without its terminator.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Is this a site-defined Z-segment?
    pub fn is_z_segment(&self) -> bool {
        self.name.starts_with('Z')
    }

    /// Field `n` (1-based) as written, delimiters and escapes included.
    pub fn field_raw(&self, n: usize) -> Option<&str> {
        let &(a, b) = self.fields.get(n.checked_sub(1)?)?;
        self.raw.get(a as usize..b as usize)
    }

    /// Number of fields present (trailing empty ones included).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// The repetitions of field `n`, raw.
    pub fn repetitions<'a>(&'a self, n: usize, d: &Delimiters) -> Vec<&'a str> {
        match self.field_raw(n) {
            Some(f) if self.header && n <= 2 => vec![f],
            Some(f) => split_opt(f, d.repetition).collect(),
            None => Vec::new(),
        }
    }

    pub fn terminator(&self) -> &str {
        &self.terminator
    }

    /// The raw text at a location, still escaped: a whole repetition when
    /// the location has no component, a whole component when it has no
    /// sub-component.
    pub fn raw_at(&self, loc: &Location, d: &Delimiters) -> Option<&str> {
        let field = self.field_raw(loc.field)?;
        if self.header && loc.field <= 2 {
            return Some(field);
        }
        let rep = split_opt(field, d.repetition).nth(loc.repetition.checked_sub(1)?)?;
        let Some(c) = loc.component else {
            return Some(rep);
        };
        let comp = split_opt(rep, d.component).nth(c.checked_sub(1)?)?;
        let Some(sub) = loc.subcomponent else {
            return Some(comp);
        };
        split_opt(comp, d.subcomponent).nth(sub.checked_sub(1)?)
    }

    /// The unescaped leaf value at a location relative to this segment
    /// (`"5"`, `"3(2)-1"`); component and sub-component default to 1.
    /// `None` when absent or empty. MSH-1 and MSH-2 are returned as written.
    pub fn get(&self, location: &str, d: &Delimiters) -> Option<Cow<'_, str>> {
        let loc = Location::parse(location).ok()?;
        self.value(&loc, d)
    }

    pub fn value(&self, loc: &Location, d: &Delimiters) -> Option<Cow<'_, str>> {
        if self.header && loc.field <= 2 {
            return self
                .field_raw(loc.field)
                .filter(|s| !s.is_empty())
                .map(Cow::Borrowed);
        }
        let leaf = Location {
            component: Some(loc.component.unwrap_or(1)),
            subcomponent: Some(loc.subcomponent.unwrap_or(1)),
            ..*loc
        };
        let raw = self.raw_at(&leaf, d)?;
        if raw.is_empty() {
            return None;
        }
        Some(unescape(raw, d))
    }

    /// Replaces the text at `loc` with `raw` (already escaped), growing the
    /// segment as needed. A location without component (sub-component)
    /// replaces the whole repetition (component). Indexes of 0 are read as
    /// 1. MSH-1 and MSH-2 of the header are left alone.
    pub fn set_raw(&mut self, loc: &Location, raw: &str, d: &Delimiters) {
        let f = loc.field.max(1);
        if self.header && f <= 2 {
            return;
        }
        let index = if self.header { f - 1 } else { f };
        let line = replace_part(&self.raw, Some(d.field), index, |field| {
            replace_part(
                field,
                d.repetition,
                loc.repetition.max(1) - 1,
                |rep| match loc.component {
                    None => raw.to_string(),
                    Some(c) => replace_part(rep, d.component, c.max(1) - 1, |comp| {
                        match loc.subcomponent {
                            None => raw.to_string(),
                            Some(s) => replace_part(comp, d.subcomponent, s.max(1) - 1, |_| {
                                raw.to_string()
                            }),
                        }
                    }),
                },
            )
        });
        if let Some(seg) = Segment::parse(&line, &self.terminator, d, self.header) {
            *self = seg;
        }
    }
}

/// A segment together with its message's delimiters, so values can be
/// read with segment-relative paths: `obx.get("5")`, `pid.get("3(2)-1")`.
#[derive(Debug, Clone, Copy)]
pub struct SegmentView<'a> {
    pub segment: &'a Segment,
    pub delimiters: &'a Delimiters,
}

impl<'a> SegmentView<'a> {
    pub fn name(&self) -> &'a str {
        self.segment.name()
    }

    /// Unescaped value; see [`Segment::get`].
    pub fn get(&self, location: &str) -> Option<Cow<'a, str>> {
        self.segment.get(location, self.delimiters)
    }

    /// Raw (escaped) text; see [`Segment::raw_at`].
    pub fn get_raw(&self, location: &str) -> Option<&'a str> {
        let loc = Location::parse(location).ok()?;
        self.segment.raw_at(&loc, self.delimiters)
    }

    /// The raw repetitions of field `n`.
    pub fn repetitions(&self, n: usize) -> Vec<&'a str> {
        self.segment.repetitions(n, self.delimiters)
    }
}

impl Message {
    pub(crate) fn from_parts(
        bom: bool,
        charset: Charset,
        leading: String,
        delimiters: Delimiters,
        segments: Vec<Segment>,
    ) -> Message {
        Message {
            bom,
            charset,
            leading,
            delimiters,
            segments,
        }
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    /// Did the input start with a UTF-8 byte-order mark? It is written back
    /// by [`Message::to_bytes`] and never part of any field.
    pub fn has_bom(&self) -> bool {
        self.bom
    }

    /// Drops (or adds) the byte-order mark written by the encoder.
    pub fn set_bom(&mut self, bom: bool) {
        self.bom = bom;
    }

    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Every segment, in order.
    pub fn all_segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Mutable access to the segments (insert, remove, edit).
    pub fn segments_mut(&mut self) -> &mut Vec<Segment> {
        &mut self.segments
    }

    /// Every segment called `name`, in order.
    pub fn segments<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.name == name)
    }

    /// The `n`-th (1-based) segment called `name`.
    pub fn nth_segment(&self, name: &str, n: usize) -> Option<&Segment> {
        self.segments
            .iter()
            .filter(|s| s.name == name)
            .nth(n.checked_sub(1)?)
    }

    /// Segment `index` of [`Message::all_segments`] (as group children
    /// name them) with this message's delimiters, for `get("5-1")`.
    pub fn view(&self, index: usize) -> Option<SegmentView<'_>> {
        self.segments.get(index).map(|segment| SegmentView {
            segment,
            delimiters: &self.delimiters,
        })
    }

    /// Every segment called `name`, with this message's delimiters.
    pub fn views<'a>(&'a self, name: &'a str) -> impl Iterator<Item = SegmentView<'a>> + 'a {
        self.segments(name).map(|segment| SegmentView {
            segment,
            delimiters: &self.delimiters,
        })
    }

    /// The first segment called `name`.
    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    /// The unescaped value at a terser path (`PID-5-1`, `PID-3(2)-1`,
    /// `OBX(2)-5`). `None` when the path is invalid, the element is absent
    /// or empty. The HL7 null `""` is returned as the two characters `""`.
    pub fn get(&self, path: &str) -> Option<Cow<'_, str>> {
        let path = Path::parse(path).ok()?;
        self.get_path(&path)
    }

    pub fn get_path(&self, path: &Path) -> Option<Cow<'_, str>> {
        let seg = self.nth_segment(&path.segment, path.segment_rep)?;
        seg.value(&path.location, &self.delimiters)
    }

    /// The raw (escaped) text at a path: a whole repetition for `PID-5`, a
    /// component for `PID-5-1`, a sub-component for `PID-5-1-1`.
    pub fn get_raw(&self, path: &str) -> Option<&str> {
        let path = Path::parse(path).ok()?;
        let seg = self.nth_segment(&path.segment, path.segment_rep)?;
        seg.raw_at(&path.location, &self.delimiters)
    }

    /// Sets the value at a path, escaping it. The segment occurrence must
    /// exist (add segments with [`Message::segments_mut`]); the field,
    /// repetition, component and sub-component are created as needed.
    /// MSH-1 and MSH-2 cannot be set (delimiters are fixed per message).
    pub fn set(&mut self, path: &str, value: &str) -> Result<(), PathError> {
        let p = Path::parse(path)?;
        let not_found = |reason| PathError::Invalid {
            path: path.to_string(),
            reason,
        };
        let escaped = escape(value, &self.delimiters).into_owned();
        let d = self.delimiters;
        let loc = Location {
            component: Some(p.location.component.unwrap_or(1)),
            subcomponent: Some(p.location.subcomponent.unwrap_or(1)),
            ..p.location
        };
        let seg = self
            .segments
            .iter_mut()
            .filter(|s| s.name == p.segment)
            .nth(p.segment_rep.saturating_sub(1))
            .ok_or_else(|| not_found("no such segment occurrence"))?;
        if seg.header && p.location.field <= 2 {
            return Err(not_found("MSH-1 and MSH-2 are the delimiters"));
        }
        seg.set_raw(&loc, &escaped, &d);
        Ok(())
    }

    fn msh(&self, loc: &str) -> Option<Cow<'_, str>> {
        self.segments
            .first()
            .filter(|s| s.header)?
            .get(loc, &self.delimiters)
    }

    /// MSH-9-1, e.g. `ADT`.
    pub fn message_type(&self) -> Option<Cow<'_, str>> {
        self.msh("9-1")
    }

    /// MSH-9-2, e.g. `A01`.
    pub fn trigger_event(&self) -> Option<Cow<'_, str>> {
        self.msh("9-2")
    }

    /// MSH-9-3 as sent, e.g. `ADT_A01` (absent in v2.3 messages).
    pub fn message_structure(&self) -> Option<Cow<'_, str>> {
        self.msh("9-3")
    }

    /// MSH-10.
    pub fn control_id(&self) -> Option<Cow<'_, str>> {
        self.msh("10")
    }

    /// MSH-11-1 (`P`, `T`, `D`).
    pub fn processing_id(&self) -> Option<Cow<'_, str>> {
        self.msh("11-1")
    }

    /// MSH-12-1, e.g. `2.5.1`.
    pub fn version(&self) -> Option<Cow<'_, str>> {
        self.msh("12-1")
    }

    /// MSH-3-1 and MSH-4-1: who sent the message (for duplicate detection
    /// together with the control id).
    pub fn sender(&self) -> (Option<Cow<'_, str>>, Option<Cow<'_, str>>) {
        (self.msh("3-1"), self.msh("4-1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "MSH|^~\\&|APP|FAC|||20240101||ADT^A01^ADT_A01|C1|P|2.5.1\rPID|1||111^^^A^MR~222^^^B^SS||DOE&VAN^JOHN\\S\\X||||||\rZPI|x\r";

    #[test]
    fn access() {
        let m = Message::parse_str(MSG).unwrap();
        assert_eq!(m.get("MSH-1").as_deref(), Some("|"));
        assert_eq!(m.get("MSH-2").as_deref(), Some("^~\\&"));
        assert_eq!(m.get("MSH-3").as_deref(), Some("APP"));
        assert_eq!(m.message_type().as_deref(), Some("ADT"));
        assert_eq!(m.trigger_event().as_deref(), Some("A01"));
        assert_eq!(m.control_id().as_deref(), Some("C1"));
        assert_eq!(m.version().as_deref(), Some("2.5.1"));
        assert_eq!(m.get("PID-3(2)-1").as_deref(), Some("222"));
        assert_eq!(m.get("PID-3(2)-5").as_deref(), Some("SS"));
        assert_eq!(m.get("PID-3(3)-1"), None);
        assert_eq!(m.get("PID-5-1-2").as_deref(), Some("VAN"));
        assert_eq!(m.get("PID-5-2").as_deref(), Some("JOHN^X"));
        assert_eq!(m.get_raw("PID-5"), Some("DOE&VAN^JOHN\\S\\X"));
        assert_eq!(m.get_raw("PID-5-1"), Some("DOE&VAN"));
        assert_eq!(m.get("PID-7"), None);
        assert_eq!(m.segment("PID").unwrap().field_count(), 11);
        assert!(m.segment("ZPI").unwrap().is_z_segment());
        assert_eq!(m.get("ZPI-1").as_deref(), Some("x"));
        let pid = m.views("PID").next().unwrap();
        assert_eq!(pid.get("3(2)-1").as_deref(), Some("222"));
        assert_eq!(pid.get_raw("5"), Some("DOE&VAN^JOHN\\S\\X"));
        assert_eq!(pid.repetitions(3).len(), 2);
        assert_eq!(m.view(2).unwrap().name(), "ZPI");
        assert!(m.view(3).is_none());
    }

    #[test]
    fn set_grows_and_escapes() {
        let mut m = Message::parse_str(MSG).unwrap();
        m.set("PID-5-2", "JANE|Q").unwrap();
        assert_eq!(m.get("PID-5-2").as_deref(), Some("JANE|Q"));
        assert_eq!(m.get_raw("PID-5"), Some("DOE&VAN^JANE\\F\\Q"));
        m.set("PID-13(2)-4-2", "x").unwrap();
        assert_eq!(m.get_raw("PID-13(2)"), Some("^^^&x"));
        assert_eq!(m.segment("PID").unwrap().field_raw(13), Some("~^^^&x"));
        m.set("ZPI-3", "z").unwrap();
        assert_eq!(m.segment("ZPI").unwrap().raw(), "ZPI|x||z");
        m.set("MSH-10", "C2").unwrap();
        assert_eq!(m.control_id().as_deref(), Some("C2"));
        assert!(m.set("MSH-2", "x").is_err());
        assert!(m.set("OBX-1", "1").is_err());
        let again = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!(again, m);
        // Untouched segments keep their text.
        assert!(m.encode().ends_with("ZPI|x||z\r"));
    }
}
