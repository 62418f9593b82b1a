//! HL7 v2 escape sequences (section 2.7 of the standard).
//!
//! | sequence | unescaped to |
//! |---|---|
//! | `\F\` `\S\` `\T\` `\R\` `\E\` `\P\` | field, component, sub-component, repetition, escape, truncation character |
//! | `\Xhh…\` | the bytes `hh…`, read as UTF-8 when valid, else ISO-8859-1 |
//! | `\.br\` | a line feed `\n` |
//! | `\H\` `\N\`, other formatting (`\.sp\`, `\.in\`, …), `\Cxxyy\`, `\Mxxyyzz\`, `\Zxx\`, unknown or unterminated | kept verbatim, escape characters included |
//!
//! Escaping writes delimiters as `\F\ \S\ \T\ \R\ \E\ \P\`, a line feed as
//! `\.br\` and a carriage return as `\X0D\`. Because `\H\`/`\N\` survive
//! unescaping verbatim, re-escaping such a value escapes their backslashes
//! (`\E\H\E\`); write raw text (`set_raw`) to emit highlighting.

use std::borrow::Cow;

use crate::delimiters::Delimiters;

/// Replaces the escape sequences of `raw` by the characters they stand for.
pub fn unescape<'a>(raw: &'a str, d: &Delimiters) -> Cow<'a, str> {
    let Some(esc) = d.escape else {
        return Cow::Borrowed(raw);
    };
    if !raw.contains(esc) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let Some(end) = after.find(esc) else {
            // Unterminated: keep the remainder as written.
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        let body = &after[..end];
        let whole = &rest[start..start + esc.len_utf8() * 2 + end];
        match decode_sequence(body, d) {
            Some(text) => out.push_str(&text),
            None => out.push_str(whole),
        }
        rest = &after[end + esc.len_utf8()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The text an escape sequence body stands for, or `None` to keep it verbatim.
fn decode_sequence(body: &str, d: &Delimiters) -> Option<String> {
    let one = |c: Option<char>| c.map(String::from);
    match body {
        "F" => Some(d.field.to_string()),
        "S" => one(d.component),
        "T" => one(d.subcomponent),
        "R" => one(d.repetition),
        "E" => one(d.escape),
        "P" => one(d.truncation),
        ".br" => Some("\n".to_string()),
        _ => {
            let hex = body.strip_prefix('X')?;
            decode_hex(hex)
        }
    }
}

fn decode_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let bytes = bytes?;
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    })
}

/// Escapes `value` so it can be written as one leaf (sub-component) of a
/// message with delimiters `d`. Without an escape character delimiters
/// cannot be represented and are replaced by spaces.
pub fn escape<'a>(value: &'a str, d: &Delimiters) -> Cow<'a, str> {
    let needs = |c: char| c == '\r' || c == '\n' || d.is_delimiter(c);
    if !value.chars().any(needs) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        let Some(esc) = d.escape else {
            out.push(' ');
            continue;
        };
        let code = if c == d.field {
            "F"
        } else if Some(c) == d.component {
            "S"
        } else if Some(c) == d.subcomponent {
            "T"
        } else if Some(c) == d.repetition {
            "R"
        } else if Some(c) == d.escape {
            "E"
        } else if Some(c) == d.truncation {
            "P"
        } else if c == '\n' {
            ".br"
        } else {
            "X0D"
        };
        out.push(esc);
        out.push_str(code);
        out.push(esc);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences() {
        let d = Delimiters::default();
        assert_eq!(
            unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", &d),
            "a|b^c&d~e\\f"
        );
        assert_eq!(unescape("x\\X41C3A9\\y", &d), "xAéy");
        assert_eq!(unescape("\\XE9\\", &d), "é");
        assert_eq!(unescape("l1\\.br\\l2", &d), "l1\nl2");
        assert_eq!(unescape("\\H\\bold\\N\\", &d), "\\H\\bold\\N\\");
        assert_eq!(unescape("open \\F", &d), "open \\F");
        assert_eq!(unescape("\\X4\\", &d), "\\X4\\");
        assert_eq!(unescape("\\P\\", &d), "\\P\\");
        assert!(matches!(unescape("plain", &d), Cow::Borrowed(_)));
    }

    #[test]
    fn roundtrip() {
        let d = Delimiters::default();
        for v in ["a|b^c&d~e\\f", "line\nnext\r", "plain", "", "é|ü"] {
            assert_eq!(unescape(&escape(v, &d), &d), v);
        }
        assert_eq!(escape("a|b", &d), "a\\F\\b");
    }
}
