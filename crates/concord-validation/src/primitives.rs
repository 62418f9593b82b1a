//! Value checks for the FHIR primitive datatypes in their JSON form.

use crate::datetime;
use serde_json::Value;

/// FHIR caps strings at 1 MB.
const MAX_STRING_BYTES: usize = 1024 * 1024;

/// The JSON kind a primitive must be written as.
fn json_kind(ty: &str) -> &'static str {
    match ty {
        "boolean" => "boolean",
        "integer" | "positiveInt" | "unsignedInt" | "decimal" => "number",
        _ => "string",
    }
}

/// Checks one primitive JSON value against FHIR type `ty`. Returns the problem.
pub fn check(ty: &str, v: &Value) -> Result<(), String> {
    match (json_kind(ty), v) {
        ("boolean", Value::Bool(_)) => Ok(()),
        ("number", Value::Number(n)) => check_number(ty, n.as_str()).map_err(str::to_string),
        ("string", Value::String(s)) => check_string(ty, s),
        (kind, other) => Err(format!(
            "a FHIR {ty} must be a JSON {kind}, not {}",
            describe(other)
        )),
    }
}

pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_integer_text(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && (d == "0" || !d.starts_with('0'))
}

fn is_decimal_text(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let int_ok = is_integer_text(int) && !int.starts_with('-');
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    int_ok && frac_ok && exp_ok
}

fn check_number(ty: &str, text: &str) -> Result<(), &'static str> {
    if ty == "decimal" {
        return if is_decimal_text(text) {
            Ok(())
        } else {
            Err("not a valid decimal")
        };
    }
    if !is_integer_text(text) {
        return Err("not a valid integer (no fraction or exponent allowed)");
    }
    let n: i64 = text.parse().map_err(|_| "integer out of range")?;
    if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) {
        return Err("integer out of the 32-bit range");
    }
    match ty {
        "positiveInt" if n < 1 => Err("a positiveInt must be 1 or more"),
        "unsignedInt" if n < 0 => Err("an unsignedInt must be 0 or more"),
        _ => Ok(()),
    }
}

fn check_code(s: &str) -> bool {
    // [^\s]+(\s[^\s]+)* : no leading/trailing whitespace, single separators.
    // `\s` as in the spec's (Java) regex: ASCII whitespace only, so codes
    // with a no-break space (as in some v2 tables) stay valid.
    let mut prev_ws = true;
    for c in s.chars() {
        let ws = matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r');
        if ws && prev_ws {
            return false;
        }
        prev_ws = ws;
    }
    !prev_ws
}

// `usize::is_multiple_of` needs Rust 1.87; the workspace declares 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn check_base64(s: &str) -> bool {
    let mut n = 0usize;
    let mut pad = 0usize;
    for b in s.bytes() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            pad += 1;
        } else if pad > 0 || !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/') {
            return false;
        }
        n += 1;
    }
    n % 4 == 0 && pad <= 2
}

fn check_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let mut parts = rest.split('.');
    let first_ok = matches!(parts.next(), Some("0" | "1" | "2"));
    let mut count = 0;
    let rest_ok = parts.all(|p| {
        count += 1;
        is_integer_text(p) && !p.starts_with('-')
    });
    first_ok && count > 0 && rest_ok
}

fn check_uuid(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let b = u.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

fn check_string(ty: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!(
            "a {ty} must not be empty (FHIR JSON forbids empty strings)"
        ));
    }
    if s.len() > MAX_STRING_BYTES && ty != "xhtml" {
        return Err(format!(
            "value is longer than the 1 MB maximum ({} bytes)",
            s.len()
        ));
    }
    let ok = match ty {
        "date" => return datetime::check_date(s).map_err(|e| format!("'{s}': {e}")),
        "dateTime" => return datetime::check_date_time(s).map_err(|e| format!("'{s}': {e}")),
        "instant" => return datetime::check_instant(s).map_err(|e| format!("'{s}': {e}")),
        "time" => return datetime::check_time(s).map_err(|e| format!("'{s}': {e}")),
        "id" => concord_fhir::ids::is_valid_id(s),
        "code" => check_code(s),
        "uri" | "url" | "canonical" => !s.chars().any(char::is_whitespace),
        "oid" => check_oid(s),
        "uuid" => check_uuid(s),
        "base64Binary" => check_base64(s),
        "xhtml" => return crate::xhtml::check(s),
        "string" | "markdown" => {
            return match active_html(s) {
                Some(tag) => Err(format!(
                    "the {ty} contains an embedded <{tag}> tag, which is not allowed for security reasons"
                )),
                None => Ok(()),
            }
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("'{}' is not a valid {ty}", clip(s)))
    }
}

/// HTML elements that execute or load content. Plain markup (`<b>`, `<p/>`,
/// `<a>`, `<br/>`) and text such as `<integer>` or `IVL<TS>` stay allowed:
/// the official examples are full of both.
const ACTIVE_TAGS: &[&str] = &[
    "script", "iframe", "object", "embed", "applet", "form", "frame", "frameset", "base", "link",
    "meta", "style", "img", "svg", "math", "video", "audio", "source", "input", "button",
    "textarea", "select",
];

/// The active HTML element a string embeds (`<script ...>`), if any.
fn active_html(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find('<') {
        let start = from + i + 1;
        from = start;
        let name_end = b[start..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(b.len(), |n| start + n);
        if name_end == start
            || !matches!(
                b.get(name_end),
                Some(b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r') | None
            )
        {
            continue;
        }
        let name = &s[start..name_end];
        if let Some(tag) = ACTIVE_TAGS.iter().find(|t| t.eq_ignore_ascii_case(name)) {
            return Some(tag);
        }
    }
    None
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(t: &str) -> Value {
        serde_json::from_str(t).unwrap()
    }

    #[test]
    fn json_kinds() {
        assert!(check("boolean", &json!(true)).is_ok());
        assert!(check("boolean", &json!("true")).is_err());
        assert!(check("integer", &json!("1")).is_err());
        assert!(check("string", &json!(1)).is_err());
    }

    #[test]
    fn numbers() {
        assert!(check("integer", &num("-12")).is_ok());
        assert!(check("integer", &num("1.5")).is_err());
        assert!(check("integer", &num("2147483648")).is_err());
        assert!(check("positiveInt", &num("0")).is_err());
        assert!(check("unsignedInt", &num("0")).is_ok());
        assert!(check("unsignedInt", &num("-1")).is_err());
        assert!(check("decimal", &num("1.50")).is_ok());
        assert!(check("decimal", &num("1e-3")).is_ok());
    }

    #[test]
    fn strings() {
        assert!(check("string", &json!("")).is_err());
        assert!(check("code", &json!("a b")).is_ok());
        for bad in [" a", "a ", "a  b", "a\tb "] {
            assert!(check("code", &json!(bad)).is_err(), "{bad}");
        }
        assert!(check("uri", &json!("http://x y")).is_err());
        assert!(check("oid", &json!("urn:oid:1.2.3")).is_ok());
        assert!(check("oid", &json!("urn:oid:3.2")).is_err());
        assert!(check(
            "uuid",
            &json!("urn:uuid:a76d9bbf-f293-4fb7-ad4c-2851cac77162")
        )
        .is_ok());
        assert!(check(
            "uuid",
            &json!("urn:uuid:A76D9BBF-f293-4fb7-ad4c-2851cac77162")
        )
        .is_err());
        assert!(check("base64Binary", &json!("aGVsbG8=")).is_ok());
        assert!(check("base64Binary", &json!("%%%2@()()")).is_err());
        assert!(check("base64Binary", &json!("aGVsbG8")).is_err());
        assert!(check("id", &json!("a_b")).is_err());
        assert!(check("string", &json!("Standard <script>x</script>")).is_err());
        assert!(check("markdown", &json!("see <IMG src=x onerror=y>")).is_err());
        for ok in [
            "a <b>bold</b> <p/> <br/>",
            "within <integer> days",
            "IVL<TS>",
            "a < b",
            "<scripted>",
        ] {
            assert!(check("string", &json!(ok)).is_ok(), "{ok}");
        }
    }
}
