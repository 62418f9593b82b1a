//! Terser-like paths: `PID-5-1`, `PID-3(2)-1`, `OBX(3)-5-1-2`.
//!
//! `SEG[(n)]-field[(rep)][-component[-subcomponent]]`, every index 1-based.
//! `SEG(n)` is the n-th occurrence of that segment in the message; `(rep)`
//! the repetition of the field. Omitted repetition, component and
//! sub-component default to 1, as in HAPI's terser.

use crate::error::PathError;

/// A parsed terser path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub segment: String,
    /// 1-based occurrence of the segment.
    pub segment_rep: usize,
    pub location: Location,
}

/// The part of a path after the segment: field, repetition, component,
/// sub-component (1-based). `component`/`subcomponent` are `None` when the
/// path stops above them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub field: usize,
    pub repetition: usize,
    pub component: Option<usize>,
    pub subcomponent: Option<usize>,
}

impl Location {
    /// Parses `5`, `3(2)-1`, `3-1-2` (a path relative to a segment).
    pub fn parse(text: &str) -> Result<Location, PathError> {
        let bad = |reason| PathError::Invalid {
            path: text.to_string(),
            reason,
        };
        let mut parts = text.split('-');
        let (field, repetition) = index_with_rep(parts.next().unwrap_or(""))
            .ok_or_else(|| bad("field must be a number ≥ 1, optionally with (repetition)"))?;
        let component = parts
            .next()
            .map(|p| number(p).ok_or_else(|| bad("component must be a number ≥ 1")))
            .transpose()?;
        let subcomponent = parts
            .next()
            .map(|p| number(p).ok_or_else(|| bad("sub-component must be a number ≥ 1")))
            .transpose()?;
        if parts.next().is_some() {
            return Err(bad("too many parts"));
        }
        Ok(Location {
            field,
            repetition,
            component,
            subcomponent,
        })
    }
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let bad = |reason| PathError::Invalid {
            path: text.to_string(),
            reason,
        };
        let (seg, rest) = text
            .split_once('-')
            .ok_or_else(|| bad("expected SEG-field"))?;
        let (name, segment_rep) = name_with_rep(seg).ok_or_else(|| {
            bad("segment must be three letters or digits, optionally with (occurrence)")
        })?;
        let location = Location::parse(rest).map_err(|_| bad("invalid field part"))?;
        Ok(Path {
            segment: name.to_string(),
            segment_rep,
            location,
        })
    }
}

fn number(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&n| n >= 1)
}

/// `3` or `3(2)`.
fn index_with_rep(s: &str) -> Option<(usize, usize)> {
    match s.split_once('(') {
        None => Some((number(s)?, 1)),
        Some((n, rep)) => Some((number(n)?, number(rep.strip_suffix(')')?)?)),
    }
}

/// `PID` or `OBX(3)`.
fn name_with_rep(s: &str) -> Option<(&str, usize)> {
    let (name, rep) = match s.split_once('(') {
        None => (s, 1),
        Some((n, rep)) => (n, number(rep.strip_suffix(')')?)?),
    };
    let ok = name.len() == 3 && name.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some((name, rep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let p = Path::parse("PID-3(2)-1").unwrap();
        assert_eq!(p.segment, "PID");
        assert_eq!(p.location.field, 3);
        assert_eq!(p.location.repetition, 2);
        assert_eq!(p.location.component, Some(1));
        let p = Path::parse("OBX(3)-5-1-2").unwrap();
        assert_eq!(p.segment_rep, 3);
        assert_eq!(p.location.subcomponent, Some(2));
        let p = Path::parse("MSH-9").unwrap();
        assert_eq!(p.location.component, None);
        for bad in [
            "PID",
            "PID-0",
            "PID-x",
            "PID-3(0)",
            "PIDX-1",
            "PID-1-2-3-4",
            "PID-3(2",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }
}
