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

/// One segment. `fields[0]` is field 1 (for MSH: MSH-1, the field
/// separator; `fields[1]` is MSH-2, kept unsplit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub(crate) name: String,
    pub(crate) fields: Vec<Field>,
    /// The exact line break(s) that followed the segment ("" for the last
    /// one when the input had none).
    pub(crate) terminator: String,
    /// The message header (first MSH): MSH-1/MSH-2 are special.
    pub(crate) header: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub repetitions: Vec<Repetition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repetition {
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Raw, escaped text of each sub-component.
    pub subcomponents: Vec<String>,
}

impl Field {
    pub(crate) fn leaf(raw: String) -> Field {
        Field {
            repetitions: vec![Repetition {
                components: vec![Component {
                    subcomponents: vec![raw],
                }],
            }],
        }
    }

    /// The raw text of the field as written (delimiters included).
    pub fn raw(&self, d: &Delimiters) -> String {
        let mut s = String::new();
        crate::encode::write_field(&mut s, self, d);
        s
    }

    /// Is every leaf empty?
    pub fn is_empty(&self) -> bool {
        self.repetitions.iter().all(|r| {
            r.components
                .iter()
                .all(|c| c.subcomponents.iter().all(String::is_empty))
        })
    }
}

impl Segment {
    pub(crate) fn from_parts(
        name: String,
        fields: Vec<Field>,
        terminator: String,
        header: bool,
    ) -> Segment {
        let header = header && name == "MSH";
        Segment {
            name,
            fields,
            terminator,
            header,
        }
    }

    /// A new empty segment (`ZPI`, `OBX`, …) ending in `\r`.
    pub fn new(name: &str) -> Segment {
        Segment {
            name: name.to_string(),
            fields: Vec::new(),
            terminator: "\r".to_string(),
            header: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Is this a site-defined Z-segment?
    pub fn is_z_segment(&self) -> bool {
        self.name.starts_with('Z')
    }

    /// Field `n` (1-based).
    pub fn field(&self, n: usize) -> Option<&Field> {
        self.fields.get(n.checked_sub(1)?)
    }

    /// Number of fields present (trailing empty ones included).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    pub fn terminator(&self) -> &str {
        &self.terminator
    }

    /// The raw leaf at a location, still escaped.
    pub fn raw_at(&self, loc: &Location) -> Option<&str> {
        let field = self.field(loc.field)?;
        let rep = field.repetitions.get(loc.repetition.checked_sub(1)?)?;
        let comp = rep
            .components
            .get(loc.component.unwrap_or(1).checked_sub(1)?)?;
        comp.subcomponents
            .get(loc.subcomponent.unwrap_or(1).checked_sub(1)?)
            .map(String::as_str)
    }

    /// The unescaped value at a location relative to this segment (`"5"`,
    /// `"3(2)-1"`); `None` when absent or empty. MSH-1 and MSH-2 are
    /// returned as written.
    pub fn get(&self, location: &str, d: &Delimiters) -> Option<Cow<'_, str>> {
        let loc = Location::parse(location).ok()?;
        self.value(&loc, d)
    }

    pub fn value(&self, loc: &Location, d: &Delimiters) -> Option<Cow<'_, str>> {
        if self.header && loc.field <= 2 {
            let raw = self.raw_at(&Location {
                field: loc.field,
                repetition: 1,
                component: None,
                subcomponent: None,
            })?;
            return Some(Cow::Borrowed(raw)).filter(|s| !s.is_empty());
        }
        let raw = self.raw_at(loc)?;
        if raw.is_empty() {
            return None;
        }
        Some(unescape(raw, d))
    }

    /// Sets the leaf at `loc` to `raw` (already escaped), growing the
    /// segment as needed.
    /// Indexes of 0 are read as 1.
    pub fn set_raw(&mut self, loc: &Location, raw: &str) {
        let f = loc.field.max(1);
        while self.fields.len() < f {
            self.fields.push(Field::leaf(String::new()));
        }
        let field = &mut self.fields[f - 1];
        let r = loc.repetition.max(1);
        while field.repetitions.len() < r {
            field.repetitions.push(Repetition {
                components: vec![Component {
                    subcomponents: vec![String::new()],
                }],
            });
        }
        let rep = &mut field.repetitions[r - 1];
        let c = loc.component.unwrap_or(1).max(1);
        while rep.components.len() < c {
            rep.components.push(Component {
                subcomponents: vec![String::new()],
            });
        }
        let comp = &mut rep.components[c - 1];
        let s = loc.subcomponent.unwrap_or(1).max(1);
        while comp.subcomponents.len() < s {
            comp.subcomponents.push(String::new());
        }
        comp.subcomponents[s - 1] = raw.to_string();
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

    /// The raw (escaped) leaf at a path.
    pub fn get_raw(&self, path: &str) -> Option<&str> {
        let path = Path::parse(path).ok()?;
        let seg = self.nth_segment(&path.segment, path.segment_rep)?;
        seg.raw_at(&path.location)
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
        let seg = self
            .segments
            .iter_mut()
            .filter(|s| s.name == p.segment)
            .nth(p.segment_rep.saturating_sub(1))
            .ok_or_else(|| not_found("no such segment occurrence"))?;
        if seg.header && p.location.field <= 2 {
            return Err(not_found("MSH-1 and MSH-2 are the delimiters"));
        }
        seg.set_raw(&p.location, &escaped);
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
