//! Segment groups, built from a small declarative table per message
//! structure.
//!
//! Each structure is written in the notation of the HL7 standard's message
//! tables: `SEG` required, `[SEG]` optional, `{SEG}` repeating, `[{SEG}]`
//! optional and repeating, `NAME( … )` a group. The tables follow v2.8 (the
//! later versions mostly add optional segments such as `PRT`/`ARV`), and the
//! same table serves v2.3–v2.8 because matching is tolerant:
//!
//! * items are matched in order; a segment may skip over required items
//!   that are missing;
//! * a segment that cannot be placed after the current position of a group
//!   ends that group (the parent may start a new repetition of it);
//! * Z-segments and segments unknown to the structure are attached where
//!   they appear, marked `expected: false`; so is a known segment that has no
//!   place left in the structure.
//!
//! Known structures: see [`KNOWN_STRUCTURES`]; [`structure_for`] maps a
//! message type and trigger event to its structure when MSH-9-3 is absent.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::message::Message;

/// Structures with a group table, and the structure names that alias them.
pub const KNOWN_STRUCTURES: &[(&str, &str)] = &[
    ("ADT_A01", "MSH [{SFT}] [UAC] EVN PID [PD1] [{ARV}] [{ROL}] [{NK1}] PV1 [PV2] [{ARV}] [{ROL}] [{DB1}] [{OBX}] [{AL1}] [{DG1}] [DRG] [{PROCEDURE(PR1 [{ROL}])}] [{GT1}] [{INSURANCE(IN1 [IN2] [{IN3}] [{ROL}] [{AUT}] [{RF1}])}] [ACC] [UB1] [UB2] [PDA]"),
    ("ADT_A03", "MSH [{SFT}] [UAC] EVN PID [PD1] [{ARV}] [{ROL}] [{NK1}] PV1 [PV2] [{ARV}] [{ROL}] [{DB1}] [{AL1}] [{DG1}] [DRG] [{PROCEDURE(PR1 [{ROL}])}] [{OBX}] [{GT1}] [{INSURANCE(IN1 [IN2] [{IN3}] [{ROL}] [{AUT}] [{RF1}])}] [ACC] [PDA]"),
    ("ADT_A05", "MSH [{SFT}] [UAC] EVN PID [PD1] [{ARV}] [{ROL}] [{NK1}] PV1 [PV2] [{ARV}] [{ROL}] [{DB1}] [{OBX}] [{AL1}] [{DG1}] [DRG] [{PROCEDURE(PR1 [{ROL}])}] [{GT1}] [{INSURANCE(IN1 [IN2] [{IN3}] [{ROL}] [{AUT}] [{RF1}])}] [ACC] [UB1] [UB2]"),
    ("ADT_A09", "MSH [{SFT}] [UAC] EVN PID [PD1] [{ARV}] PV1 [PV2] [{ARV}] [{DB1}] [{OBX}] [{DG1}]"),
    ("ADT_A39", "MSH [{SFT}] [UAC] EVN {PATIENT(PID [PD1] [{ARV}] MRG [PV1])}"),
    ("ORU_R01", "MSH [{SFT}] [UAC] {PATIENT_RESULT([PATIENT(PID [PD1] [{PRT}] [{NTE}] [{NK1}] [{ARV}] [{PATIENT_OBSERVATION(OBX [{PRT}])}] [VISIT(PV1 [PV2] [{PRT}])])] {ORDER_OBSERVATION([ORC] OBR [{NTE}] [{PRT}] [{TIMING_QTY(TQ1 [{TQ2}])}] [CTD] [{OBSERVATION(OBX [{PRT}] [{NTE}])}] [{FT1}] [{CTI}] [{SPECIMEN(SPM [{SPECIMEN_OBSERVATION(OBX [{PRT}])}])}])})} [DSC]"),
    ("VXU_V04", "MSH [{SFT}] [UAC] PID [PD1] [{NK1}] [{ARV}] [PATIENT_VISIT(PV1 [PV2])] [{GT1}] [{INSURANCE(IN1 [IN2] [IN3])}] [{PERSON_OBSERVATION(OBX [{PRT}] [{NTE}])}] [{ORDER([ORC] [{PRT}] [{TIMING(TQ1 [{TQ2}])}] RXA [RXR] [{OBSERVATION(OBX [{PRT}] [{NTE}])}])}]"),
    ("SIU_S12", "MSH [{SFT}] [UAC] SCH [{TQ1}] [{NTE}] [{PATIENT(PID [PD1] [{PRT}] [{ARV}] [PV1] [PV2] [{PRT}] [{OBX}] [{DG1}])}] {RESOURCES(RGS [{SERVICE(AIS [{NTE}])}] [{GENERAL_RESOURCE(AIG [{NTE}])}] [{LOCATION_RESOURCE(AIL [{NTE}])}] [{PERSONNEL_RESOURCE(AIP [{NTE}])}])}"),
    ("MDM_T02", "MSH [{SFT}] [UAC] EVN PID [{ARV}] PV1 [{ARV}] [{COMMON_ORDER(ORC [{TIMING(TQ1 [{TQ2}])}] OBR [{NTE}])}] TXA [{CON}] {OBSERVATION(OBX [{NTE}])}"),
    ("RDS_O13", "MSH [{SFT}] [UAC] [{NTE}] [PATIENT(PID [PD1] [{PRT}] [{NTE}] [{AL1}] [{ARV}] [PATIENT_VISIT(PV1 [PV2] [{PRT}] [{ARV}])])] {ORDER(ORC [{PRT}] [{TIMING(TQ1 [{TQ2}])}] [ORDER_DETAIL(RXO [{PRT}] [{NTE}] [{RXR}] [{RXC}])] [ENCODING(RXE [{PRT}] [{NTE}] [{TIMING_ENCODED(TQ1 [{TQ2}])}] [{RXR}] [{RXC}])] RXD [{PRT}] [{NTE}] {RXR} [{RXC}] [{CDO}] [{OBSERVATION(OBX [{PRT}] [{NTE}])}] [{FT1}])}"),
];

/// Structure names that share another's table.
const ALIASES: &[(&str, &str)] = &[
    ("ADT_A04", "ADT_A01"),
    ("ADT_A08", "ADT_A01"),
    ("ADT_A13", "ADT_A01"),
    ("ADT_A28", "ADT_A05"),
    ("ADT_A31", "ADT_A05"),
    ("ADT_A11", "ADT_A09"),
    ("ADT_A40", "ADT_A39"),
    ("SIU_S13", "SIU_S12"),
    ("SIU_S14", "SIU_S12"),
    ("SIU_S15", "SIU_S12"),
];

/// The structure of a message type and trigger event (as HL7 table 0354
/// assigns it), for the known structures.
pub fn structure_for(message_type: &str, trigger: &str) -> Option<&'static str> {
    Some(match (message_type, trigger) {
        ("ADT", "A01" | "A04" | "A08" | "A13") => "ADT_A01",
        ("ADT", "A03") => "ADT_A03",
        ("ADT", "A28" | "A31" | "A05") => "ADT_A05",
        ("ADT", "A11" | "A09") => "ADT_A09",
        ("ADT", "A40" | "A39") => "ADT_A39",
        ("ORU", "R01") => "ORU_R01",
        ("VXU", "V04") => "VXU_V04",
        ("SIU", "S12" | "S13" | "S14" | "S15") => "SIU_S12",
        ("MDM", "T02") => "MDM_T02",
        ("RDS", "O13") => "RDS_O13",
        _ => return None,
    })
}

/// One item of a structure table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    optional: bool,
    repeating: bool,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Segment(String),
    Group(String, Vec<Item>),
}

/// A built group: its name and children in message order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub children: Vec<GroupChild>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChild {
    /// Index into [`Message::all_segments`]. `expected` is false for
    /// Z-segments and segments the table has no place for.
    Segment {
        index: usize,
        expected: bool,
    },
    Group(Group),
}

impl Group {
    /// Direct child groups called `name`.
    pub fn groups<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Group> + 'a {
        self.children.iter().filter_map(move |c| match c {
            GroupChild::Group(g) if g.name == name => Some(g),
            _ => None,
        })
    }

    /// Indexes of the direct child segments called `name`.
    pub fn segment_indexes<'a>(
        &'a self,
        msg: &'a Message,
        name: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        self.children.iter().filter_map(move |c| match c {
            GroupChild::Segment { index, .. }
                if msg.all_segments().get(*index).map(|s| s.name()) == Some(name) =>
            {
                Some(*index)
            }
            _ => None,
        })
    }

    /// All segment indexes in this group and below, in message order.
    pub fn all_segment_indexes(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<usize>) {
        for c in &self.children {
            match c {
                GroupChild::Segment { index, .. } => out.push(*index),
                GroupChild::Group(g) => g.collect(out),
            }
        }
    }

    /// Every group called `name` at any depth, outermost first.
    pub fn find_groups<'a>(&'a self, name: &str) -> Vec<&'a Group> {
        let mut out = Vec::new();
        self.find_into(name, &mut out);
        out
    }

    fn find_into<'a>(&'a self, name: &str, out: &mut Vec<&'a Group>) {
        for c in &self.children {
            if let GroupChild::Group(g) = c {
                if g.name == name {
                    out.push(g);
                }
                g.find_into(name, out);
            }
        }
    }

    /// Segments the table had no place for (Z-segments included).
    pub fn unexpected_segments(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.unexpected_into(&mut out);
        out
    }

    fn unexpected_into(&self, out: &mut Vec<usize>) {
        for c in &self.children {
            match c {
                GroupChild::Segment {
                    index,
                    expected: false,
                } => out.push(*index),
                GroupChild::Segment { .. } => {}
                GroupChild::Group(g) => g.unexpected_into(out),
            }
        }
    }
}

/// Parses the structure notation. Errors are bugs in the static tables
/// (a unit test parses them all).
fn parse_table(text: &str) -> Result<Vec<Item>, String> {
    let tokens = tokenize(text);
    let mut pos = 0;
    let items = parse_items(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(format!("unexpected token at {pos}"));
    }
    Ok(items)
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn parse_items(tokens: &[String], pos: &mut usize) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    while let Some(t) = tokens.get(*pos) {
        if t == ")" || t == "]" || t == "}" {
            break;
        }
        items.push(parse_item(tokens, pos)?);
    }
    Ok(items)
}

fn expect(tokens: &[String], pos: &mut usize, want: &str) -> Result<(), String> {
    if tokens.get(*pos).map(String::as_str) == Some(want) {
        *pos += 1;
        Ok(())
    } else {
        Err(format!("expected {want} at token {pos}"))
    }
}

fn parse_item(tokens: &[String], pos: &mut usize) -> Result<Item, String> {
    let t = tokens.get(*pos).ok_or("unexpected end")?.clone();
    *pos += 1;
    match t.as_str() {
        "[" => {
            let mut inner = parse_item(tokens, pos)?;
            expect(tokens, pos, "]")?;
            inner.optional = true;
            Ok(inner)
        }
        "{" => {
            let mut inner = parse_item(tokens, pos)?;
            expect(tokens, pos, "}")?;
            inner.repeating = true;
            Ok(inner)
        }
        word if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            if tokens.get(*pos).map(String::as_str) == Some("(") {
                *pos += 1;
                let children = parse_items(tokens, pos)?;
                expect(tokens, pos, ")")?;
                if children.is_empty() {
                    return Err(format!("empty group {word}"));
                }
                Ok(Item {
                    optional: false,
                    repeating: false,
                    kind: Kind::Group(word.to_string(), children),
                })
            } else {
                Ok(Item {
                    optional: false,
                    repeating: false,
                    kind: Kind::Segment(word.to_string()),
                })
            }
        }
        other => Err(format!("unexpected token {other:?}")),
    }
}

struct Table {
    items: Vec<Item>,
    /// Every segment name the table mentions.
    known: Vec<String>,
}

fn tables() -> &'static HashMap<&'static str, Table> {
    static TABLES: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut map = HashMap::new();
        for (name, text) in KNOWN_STRUCTURES {
            if let Ok(items) = parse_table(text) {
                let mut known = Vec::new();
                names_in(&items, &mut known);
                map.insert(*name, Table { items, known });
            }
        }
        map
    })
}

fn names_in(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        match &item.kind {
            Kind::Segment(s) => {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            Kind::Group(_, children) => names_in(children, out),
        }
    }
}

/// Can `item` start with segment `name`?
fn starts_with(item: &Item, name: &str) -> bool {
    match &item.kind {
        Kind::Segment(s) => s == name,
        Kind::Group(_, children) => {
            for child in children {
                if starts_with(child, name) {
                    return true;
                }
                if !child.optional {
                    return false;
                }
            }
            false
        }
    }
}

/// The table name for a structure (resolving aliases).
fn resolve(structure: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == structure)
        .map(|(_, target)| *target)
        .unwrap_or(structure)
}

impl Message {
    /// The structure used for groups: MSH-9-3 when it names a known
    /// structure, else the one [`structure_for`] gives for MSH-9-1/MSH-9-2.
    pub fn structure(&self) -> Option<&'static str> {
        let t = tables();
        if let Some(s) = self.message_structure() {
            let r = resolve(&s);
            if let Some((k, _)) = t.get_key_value(r) {
                return Some(k);
            }
        }
        let (ty, ev) = (self.message_type()?, self.trigger_event()?);
        structure_for(&ty, &ev)
    }

    /// The segment groups of the message, or `None` when its structure has
    /// no table. The root group is named after the structure.
    pub fn groups(&self) -> Option<Group> {
        let name = self.structure()?;
        let table = tables().get(name)?;
        let names: Vec<&str> = self.segments.iter().map(|s| s.name()).collect();
        let mut pos = 0;
        let mut root = match_items(&table.items, &names, &mut pos, &table.known, name, true);
        // Anything left is attached to the root as unexpected.
        while pos < names.len() {
            root.children.push(GroupChild::Segment {
                index: pos,
                expected: false,
            });
            pos += 1;
        }
        Some(root)
    }
}

fn match_items(
    items: &[Item],
    names: &[&str],
    pos: &mut usize,
    known: &[String],
    group_name: &str,
    root: bool,
) -> Group {
    let mut group = Group {
        name: group_name.to_string(),
        children: Vec::new(),
    };
    let mut at = 0;
    while let Some(&name) = names.get(*pos) {
        let found = items
            .iter()
            .enumerate()
            .skip(at)
            .find(|(_, item)| starts_with(item, name));
        match found {
            Some((j, item)) => {
                match &item.kind {
                    Kind::Segment(_) => {
                        group.children.push(GroupChild::Segment {
                            index: *pos,
                            expected: true,
                        });
                        *pos += 1;
                    }
                    Kind::Group(gname, children) => {
                        let before = *pos;
                        let g = match_items(children, names, pos, known, gname, false);
                        group.children.push(GroupChild::Group(g));
                        if *pos == before {
                            // Cannot happen (the group starts with `name`),
                            // but never loop forever on a table bug.
                            group.children.push(GroupChild::Segment {
                                index: *pos,
                                expected: false,
                            });
                            *pos += 1;
                        }
                    }
                }
                at = if item.repeating { j } else { j + 1 };
            }
            None => {
                let is_known = known.iter().any(|k| k == name);
                if root || !is_known {
                    group.children.push(GroupChild::Segment {
                        index: *pos,
                        expected: false,
                    });
                    *pos += 1;
                } else {
                    return group;
                }
            }
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        for (name, text) in KNOWN_STRUCTURES {
            assert!(parse_table(text).is_ok(), "{name}: {:?}", parse_table(text));
        }
        assert_eq!(tables().len(), KNOWN_STRUCTURES.len());
        for (_, target) in ALIASES {
            assert!(tables().contains_key(target));
        }
    }

    #[test]
    fn oru_groups() {
        let text = "MSH|^~\\&|L|F|R|F|2024||ORU^R01|1|P|2.5.1\rPID|1\rPV1|1\rORC|RE\rOBR|1\rNTE|1\rOBX|1\rNTE|1\rZXX|1\rOBX|2\rSPM|1\rOBX|3\rOBR|2\rOBX|1\r";
        let m = Message::parse_str(text).unwrap();
        let g = m.groups().unwrap();
        assert_eq!(g.name, "ORU_R01");
        let pr: Vec<_> = g.groups("PATIENT_RESULT").collect();
        assert_eq!(pr.len(), 1);
        let orders: Vec<_> = pr[0].groups("ORDER_OBSERVATION").collect();
        assert_eq!(orders.len(), 2);
        let obs: Vec<_> = orders[0].groups("OBSERVATION").collect();
        assert_eq!(obs.len(), 2);
        assert_eq!(obs[0].all_segment_indexes(), vec![6, 7, 8]);
        assert_eq!(g.unexpected_segments(), vec![8]);
        let spm = orders[0].find_groups("SPECIMEN");
        assert_eq!(spm[0].all_segment_indexes(), vec![10, 11]);
        assert_eq!(orders[1].all_segment_indexes(), vec![12, 13]);
        assert_eq!(pr[0].groups("PATIENT").count(), 1);
    }
}
