//! The five HL7 v2 delimiters (plus the v2.7 truncation character), read
//! from MSH-1 and MSH-2.

use crate::error::ParseError;

/// Delimiters of one message. MSH-1 is the field separator; MSH-2 lists, in
/// order, the component, repetition, escape and sub-component characters and
/// (v2.7+) the truncation character. A sender may omit trailing ones
/// (`MSH|^~|…`); an omitted delimiter is `None` and never splits anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: Option<char>,
    pub repetition: Option<char>,
    pub escape: Option<char>,
    pub subcomponent: Option<char>,
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    /// The customary `|^~\&`.
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: Some('^'),
            repetition: Some('~'),
            escape: Some('\\'),
            subcomponent: Some('&'),
            truncation: None,
        }
    }
}

impl Delimiters {
    /// Reads the delimiters from the start of an MSH segment (`MSH|^~\&|…`).
    /// `segment` is the text of the first segment (BOM already removed).
    pub fn from_msh(segment: &str) -> Result<Delimiters, ParseError> {
        let mut chars = segment.chars();
        let name: String = chars.by_ref().take(3).collect();
        if name != "MSH" {
            return Err(ParseError::MissingMsh);
        }
        let field = chars.next().ok_or(ParseError::BadDelimiters {
            reason: "MSH has no field separator",
        })?;
        let mut enc = Vec::with_capacity(5);
        for c in chars {
            if c == field || c == '\r' || c == '\n' {
                break;
            }
            enc.push(c);
        }
        if enc.len() > 5 {
            return Err(ParseError::BadDelimiters {
                reason: "MSH-2 has more than five encoding characters",
            });
        }
        let d = Delimiters {
            field,
            component: enc.first().copied(),
            repetition: enc.get(1).copied(),
            escape: enc.get(2).copied(),
            subcomponent: enc.get(3).copied(),
            truncation: enc.get(4).copied(),
        };
        d.validate()?;
        Ok(d)
    }

    /// Every delimiter must be distinct, printable and not alphanumeric.
    pub fn validate(&self) -> Result<(), ParseError> {
        let all = self.all();
        for (i, c) in all.iter().enumerate() {
            if c.is_alphanumeric() || c.is_whitespace() || c.is_control() {
                return Err(ParseError::BadDelimiters {
                    reason: "a delimiter is alphanumeric, whitespace or a control character",
                });
            }
            if all[..i].contains(c) {
                return Err(ParseError::BadDelimiters {
                    reason: "two delimiters are the same character",
                });
            }
        }
        Ok(())
    }

    fn all(&self) -> Vec<char> {
        let mut v = vec![self.field];
        v.extend(
            [
                self.component,
                self.repetition,
                self.escape,
                self.subcomponent,
                self.truncation,
            ]
            .into_iter()
            .flatten(),
        );
        v
    }

    /// The MSH-2 text these delimiters are written as.
    pub fn encoding_characters(&self) -> String {
        // A present delimiter after an absent one cannot be expressed; MSH-2
        // stops at the first absent one.
        let mut s = String::new();
        for c in [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
            self.truncation,
        ] {
            match c {
                Some(c) => s.push(c),
                None => break,
            }
        }
        s
    }

    /// Is `c` one of this message's delimiters?
    pub fn is_delimiter(&self, c: char) -> bool {
        self.all().contains(&c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard() {
        let d = Delimiters::from_msh("MSH|^~\\&|A").unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(d.encoding_characters(), "^~\\&");
    }

    #[test]
    fn odd_and_truncation() {
        let d = Delimiters::from_msh("MSH#*!@%$#x").unwrap();
        assert_eq!(d.field, '#');
        assert_eq!(d.component, Some('*'));
        assert_eq!(d.truncation, Some('$'));
        let d = Delimiters::from_msh("MSH|^~|").unwrap();
        assert_eq!(d.escape, None);
        let d = Delimiters::from_msh("MSH|^~\\&\rPID|1").unwrap();
        assert_eq!(d, Delimiters::default());
    }

    #[test]
    fn rejects() {
        assert!(Delimiters::from_msh("PID|").is_err());
        assert!(Delimiters::from_msh("MSH").is_err());
        assert!(Delimiters::from_msh("MSH|^^\\&|").is_err());
        assert!(Delimiters::from_msh("MSH|a~\\&|").is_err());
        assert!(Delimiters::from_msh("MSH|^~\\&#!|").is_err());
    }
}
