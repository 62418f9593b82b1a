//! Search values and their matching, per parameter type, as the R4 search
//! page (http://hl7.org/fhir/R4/search.html) describes them.
//!
//! Choices where the page leaves room (the server must agree):
//! - string: starts-with after normalizing both sides (NFD, combining marks
//!   dropped, lowercase, whitespace runs collapsed, trimmed); `:exact` is
//!   equality as written; `:contains` is a substring of the normalized text.
//! - date prefixes, with the target range [tl, th] and the search range
//!   [sl, sh] (inclusive ms): eq `sl <= tl && th <= sh`; ne `!eq`;
//!   gt `th > sh`; lt `tl < sl`; ge `gt || eq`; le `lt || eq`;
//!   sa `tl > sh`; eb `th < sl`; ap: the target overlaps the search range
//!   widened on both sides by 10% of the gap between now and the search
//!   value (the spec's recommendation).
//! - number/quantity: `eq`/`ne` use the implicit precision range of the
//!   written value (`100` → [99.5, 100.5)); `gt lt ge le sa eb` compare with
//!   the exact value; `ap` is within 10% of the value. A quantity search
//!   with a UCUM unit also matches stored UCUM quantities of the same
//!   dimension after conversion to canonical units (common units only);
//!   a search without a unit compares the values as recorded.
//! - a resource with several values matches when any one value matches
//!   (also for `ne`); `:not` is "no value matches".

use super::dates::{parse_range, Range};
use super::values::{QtyVal, RefVal, Tokens};
use unicode_normalization::UnicodeNormalization;

/// The normalized form used by string search.
pub fn norm(s: &str) -> String {
    let stripped: String = s
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits on unescaped `sep`, keeping escapes for later.
pub fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let last = out.last_mut().expect("one part");
            last.push(c);
            if let Some(n) = chars.next() {
                last.push(n);
            }
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().expect("one part").push(c);
        }
    }
    out
}

/// `\,` `\|` `\$` `\\` → the character; the search page defines no other
/// escape, so any other backslash (and a trailing one) is literal.
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&n)) if matches!(n, ',' | '|' | '$' | '\\') => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

const PREFIXES: &[&str] = &["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"];

pub fn split_prefix(v: &str) -> (&str, &str) {
    if v.len() > 2 && PREFIXES.contains(&&v[..2]) {
        (&v[..2], &v[2..])
    } else {
        ("eq", v)
    }
}

// ---- string ----

pub fn string_match(modifier: Option<&str>, values: &[String], search: &str) -> bool {
    match modifier {
        Some("exact") => values.iter().any(|v| v == search),
        Some("contains") => {
            let s = norm(search);
            values.iter().any(|v| norm(v).contains(&s))
        }
        _ => {
            let s = norm(search);
            values.iter().any(|v| norm(v).starts_with(&s))
        }
    }
}

// ---- token ----

/// `[system|]code` as a search value.
pub struct TokenSearch {
    /// None: any system; Some(None): no system; Some(Some(s)): system s.
    pub system: Option<Option<String>>,
    pub code: Option<String>,
}

pub fn parse_token(v: &str) -> TokenSearch {
    let parts = split_unescaped(v, '|');
    if parts.len() == 1 {
        return TokenSearch {
            system: None,
            code: Some(unescape(&parts[0])),
        };
    }
    let sys = unescape(&parts[0]);
    let code = unescape(&parts[1..].join("|"));
    TokenSearch {
        system: Some((!sys.is_empty()).then_some(sys)),
        code: (!code.is_empty()).then_some(code),
    }
}

pub fn token_match(toks: &Tokens, t: &TokenSearch) -> bool {
    toks.toks.iter().any(|tok| {
        let sys_ok = match &t.system {
            None => true,
            Some(None) => tok.system.is_none(),
            Some(Some(s)) => tok.system.as_deref() == Some(s.as_str()),
        };
        let code_ok = match &t.code {
            None => true,
            Some(c) => tok.code.as_deref() == Some(c.as_str()),
        };
        sys_ok && code_ok && (tok.code.is_some() || t.code.is_none())
    })
}

/// `:of-type`: `type-system|type-code|value`.
pub fn of_type_match(toks: &Tokens, v: &str) -> bool {
    let parts: Vec<String> = split_unescaped(v, '|')
        .iter()
        .map(|p| unescape(p))
        .collect();
    if parts.len() != 3 {
        return false;
    }
    toks.toks.iter().any(|tok| {
        tok.code.as_deref() == Some(parts[2].as_str())
            && tok.id_type.iter().any(|(s, c)| {
                s.as_deref() == Some(parts[0].as_str()) && c.as_deref() == Some(parts[1].as_str())
            })
    })
}

// ---- date ----

pub fn date_match(prefix: &str, t: Range, s: Range) -> bool {
    let eq = s.low <= t.low && t.high <= s.high;
    match prefix {
        "eq" => eq,
        "ne" => !eq,
        "gt" => t.high > s.high,
        "lt" => t.low < s.low,
        "ge" => t.high > s.high || eq,
        "le" => t.low < s.low || eq,
        "sa" => t.low > s.high,
        "eb" => t.high < s.low,
        // "10% of the gap between now and the date", on both sides.
        "ap" => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let margin = (now - s.low).abs() / 10;
            t.low <= s.high.saturating_add(margin) && s.low.saturating_sub(margin) <= t.high
        }
        _ => false,
    }
}

pub fn parse_date_search(v: &str) -> Option<(String, Range)> {
    let (p, rest) = split_prefix(v);
    parse_range(rest).map(|r| (p.to_string(), r))
}

// ---- number ----

pub struct NumSearch {
    pub prefix: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

pub fn parse_number(v: &str) -> Option<NumSearch> {
    let (p, text) = split_prefix(v);
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    // Implicit precision: half a unit of the last written digit.
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (text, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i32);
    let half = 0.5 * 10f64.powi(exp - decimals);
    Some(NumSearch {
        prefix: p.to_string(),
        value,
        low: value - half,
        high: value + half,
    })
}

pub fn number_match(n: &NumSearch, v: f64) -> bool {
    let eq = n.low <= v && v < n.high;
    match n.prefix.as_str() {
        "eq" => eq,
        "ne" => !eq,
        "gt" | "sa" => v > n.value,
        "lt" | "eb" => v < n.value,
        "ge" => v >= n.value,
        "le" => v <= n.value,
        "ap" => (v - n.value).abs() <= (n.value * 0.1).abs(),
        _ => false,
    }
}

// ---- quantity ----

pub struct QtySearch {
    pub num: NumSearch,
    pub system: Option<String>,
    pub code: Option<String>,
}

pub fn parse_quantity(v: &str) -> Option<QtySearch> {
    let parts = split_unescaped(v, '|');
    if parts.len() != 1 && parts.len() != 3 {
        return None;
    }
    let num = parse_number(&unescape(&parts[0]))?;
    let (system, code) = if parts.len() == 3 {
        let s = unescape(&parts[1]);
        let c = unescape(&parts[2]);
        ((!s.is_empty()).then_some(s), (!c.is_empty()).then_some(c))
    } else {
        (None, None)
    };
    Some(QtySearch { num, system, code })
}

pub const UCUM: &str = "http://unitsofmeasure.org";

/// UCUM units this evaluator converts: code → (factor, canonical unit).
/// Only multiplicative conversions between units of one dimension.
fn ucum_factor(code: &str) -> Option<(f64, &'static str)> {
    Some(match code {
        "kg" => (1e3, "g"),
        "g" => (1.0, "g"),
        "mg" => (1e-3, "g"),
        "ug" => (1e-6, "g"),
        "ng" => (1e-9, "g"),
        "pg" => (1e-12, "g"),
        "[lb_av]" => (453.592_37, "g"),
        "[oz_av]" => (28.349_523_125, "g"),
        "L" | "l" => (1.0, "L"),
        "dL" => (0.1, "L"),
        "cL" => (1e-2, "L"),
        "mL" => (1e-3, "L"),
        "uL" => (1e-6, "L"),
        "fL" => (1e-15, "L"),
        "km" => (1e3, "m"),
        "m" => (1.0, "m"),
        "cm" => (1e-2, "m"),
        "mm" => (1e-3, "m"),
        "um" => (1e-6, "m"),
        "[in_i]" => (0.0254, "m"),
        "[ft_i]" => (0.3048, "m"),
        "s" => (1.0, "s"),
        "ms" => (1e-3, "s"),
        "min" => (60.0, "s"),
        "h" => (3600.0, "s"),
        "d" => (86_400.0, "s"),
        "wk" => (604_800.0, "s"),
        "mol" => (1.0, "mol"),
        "mmol" => (1e-3, "mol"),
        "umol" => (1e-6, "mol"),
        "nmol" => (1e-9, "mol"),
        "mol/L" => (1.0, "mol/L"),
        "mmol/L" => (1e-3, "mol/L"),
        "umol/L" => (1e-6, "mol/L"),
        "nmol/L" => (1e-9, "mol/L"),
        "g/L" => (1.0, "g/L"),
        "g/dL" => (10.0, "g/L"),
        "mg/dL" => (1e-2, "g/L"),
        "mg/L" | "ug/mL" => (1e-3, "g/L"),
        "ug/L" | "ng/mL" => (1e-6, "g/L"),
        "pg/mL" => (1e-9, "g/L"),
        "Pa" => (1.0, "Pa"),
        "kPa" => (1e3, "Pa"),
        "mm[Hg]" => (133.322_387_415, "Pa"),
        "/s" => (1.0, "/s"),
        "/min" => (1.0 / 60.0, "/s"),
        "kg/m2" => (1e3, "g/m2"),
        "g/m2" => (1.0, "g/m2"),
        "%" => (1e-2, "1"),
        "1" => (1.0, "1"),
        _ => return None,
    })
}

/// A UCUM quantity in its canonical unit.
pub fn canonical(value: f64, code: &str) -> Option<(f64, &'static str)> {
    ucum_factor(code).map(|(f, c)| (value * f, c))
}

/// A quantity matches as written (value, and code-or-unit / system|code
/// when given) or — when the search unit is a UCUM unit that converts and
/// the stored one is a UCUM unit of the same dimension — in canonical units.
/// A search without a unit compares the values as recorded ("irrespective
/// of the unit").
pub fn quantity_match(q: &QtySearch, v: &QtyVal) -> bool {
    let unit_ok = match (&q.system, &q.code) {
        (None, None) => true,
        (Some(s), None) => v.system.as_deref() == Some(s.as_str()),
        (None, Some(c)) => {
            v.code.as_deref() == Some(c.as_str()) || v.unit.as_deref() == Some(c.as_str())
        }
        (Some(s), Some(c)) => {
            v.system.as_deref() == Some(s.as_str()) && v.code.as_deref() == Some(c.as_str())
        }
    };
    if unit_ok && number_match(&q.num, v.value) {
        return true;
    }
    let Some(code) = q.code.as_deref() else {
        return false;
    };
    if q.system.as_deref().is_some_and(|s| s != UCUM) || v.system.as_deref() != Some(UCUM) {
        return false;
    }
    let (Some((f, canon)), Some((tv, tcanon))) = (
        ucum_factor(code),
        v.code.as_deref().and_then(|c| canonical(v.value, c)),
    ) else {
        return false;
    };
    if canon != tcanon {
        return false;
    }
    let n = NumSearch {
        prefix: q.num.prefix.clone(),
        value: q.num.value * f,
        low: q.num.low * f,
        high: q.num.high * f,
    };
    number_match(&n, tv)
}

// ---- reference ----

/// Does the stored reference `r` match the search value `v` (id, `Type/id`
/// or absolute URL; `base` is the server's base URL)?
pub fn reference_match(r: &RefVal, v: &str, type_modifier: Option<&str>, base: &str) -> bool {
    if let Some(t) = type_modifier {
        if r.rtype.as_deref() != Some(t) {
            return false;
        }
    }
    let local = |r: &RefVal| r.url.is_none() || r.url.as_deref().is_some_and(|u| is_local(u, base));
    if v.contains("://") || v.starts_with("urn:") {
        if r.url.as_deref() == Some(v) {
            return true;
        }
        // The server's own base: the same as the relative reference.
        if is_local(v, base) {
            let (t, id) = super::values::split_reference(v);
            return t.is_some() && local(r) && r.rtype == t && r.id == id;
        }
        return false;
    }
    let (t, id) = super::values::split_reference(v);
    if t.is_some() {
        return local(r) && r.rtype == t && r.id == id;
    }
    local(r) && r.id.as_deref() == Some(v)
}

fn is_local(url: &str, base: &str) -> bool {
    url.strip_prefix(base).is_some_and(|rest| {
        rest.starts_with('/') && super::values::split_reference(rest).0.is_some()
    })
}

// ---- uri ----

pub fn uri_match(modifier: Option<&str>, values: &[String], v: &str) -> bool {
    values.iter().any(|u| match modifier {
        Some("below") => u.starts_with(v),
        Some("above") => v.starts_with(u.as_str()),
        _ => u == v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_the_spec_says() {
        assert_eq!(norm("  José   MARÍA "), "jose maria");
        assert_eq!(split_unescaped(r"a\,b,c", ','), vec![r"a\,b", "c"]);
        assert_eq!(unescape(r"a\,b\\"), r"a,b\");
        assert_eq!(unescape(r"\'x\"), r"\'x\");
        let n = parse_number("100").unwrap();
        assert!((n.low - 99.5).abs() < 1e-9 && (n.high - 100.5).abs() < 1e-9);
        let n = parse_number("gt1.50").unwrap();
        assert_eq!(n.prefix, "gt");
        assert!((n.high - 1.505).abs() < 1e-9);
    }
}
