//! A set of SMART v2 permission letters (`c r u d s`).

use std::fmt;

/// Letters in their canonical order.
const LETTERS: [char; 5] = ['c', 'r', 'u', 'd', 's'];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms(u8);

impl Perms {
    pub const NONE: Perms = Perms(0);
    pub const ALL: Perms = Perms(0b1_1111);

    fn bit(letter: char) -> Option<u8> {
        LETTERS.iter().position(|l| *l == letter).map(|i| 1 << i)
    }

    /// Parses letters in canonical order without repeats (`rs`, `cruds`);
    /// `-` is the empty set. `None` for anything else.
    pub fn parse(text: &str) -> Option<Perms> {
        if text == "-" {
            return Some(Perms::NONE);
        }
        if text.is_empty() {
            return None;
        }
        let mut bits = 0u8;
        let mut last: Option<usize> = None;
        for ch in text.chars() {
            let at = LETTERS.iter().position(|l| *l == ch)?;
            if last.is_some_and(|l| at <= l) {
                return None;
            }
            last = Some(at);
            bits |= 1 << at;
        }
        Some(Perms(bits))
    }

    pub fn has(self, letter: char) -> bool {
        Perms::bit(letter).is_some_and(|b| self.0 & b != 0)
    }

    pub fn intersect(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        for letter in LETTERS {
            if self.has(letter) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_letters_only() {
        assert_eq!(Perms::parse("cruds"), Some(Perms::ALL));
        assert_eq!(Perms::parse("-"), Some(Perms::NONE));
        let rs = Perms::parse("rs").unwrap();
        assert!(rs.has('r') && rs.has('s') && !rs.has('c'));
        assert_eq!(rs.to_string(), "rs");
        for bad in ["", "sr", "rr", "x", "read", "r s"] {
            assert_eq!(Perms::parse(bad), None, "{bad}");
        }
    }
}
