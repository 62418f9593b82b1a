//! Value syntax: escaping (`\,` `\$` `\|` `\\`), prefixes, numbers, dates,
//! tokens, quantities, references and composites.

use super::model::*;
use super::{invalid, Problem, MAX_OR_VALUES};
use crate::datetime::parse_range;
use crate::registry::{ParamType, SearchParamDef};
use concord_fhir::is_resource_type;

/// Splits at `sep` characters not escaped by `\`; pieces keep their escapes.
pub fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Removes the search escapes: `\,` `\$` `\|` `\\` → `,` `$` `|` `\`
/// (any other backslash is kept).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if matches!(n, ',' | '$' | '|' | '\\') {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Parses the OR-ed values of one parameter.
pub(super) fn values(
    p: &SearchParamDef,
    modifier: Option<&Modifier>,
    raw: &str,
) -> Result<Vec<SearchValue>, Problem> {
    // FHIR strings never contain NUL (and PostgreSQL text cannot hold it):
    // such a value is malformed, not merely unmatched.
    if raw.contains('\0') {
        return Err(invalid(format!(
            "parameter '{}' has a value with a NUL character",
            p.code
        )));
    }
    let pieces = split_unescaped(raw, ',');
    if pieces.len() > MAX_OR_VALUES {
        return Err(invalid(format!(
            "parameter '{}' has {} values; at most {MAX_OR_VALUES} are allowed",
            p.code,
            pieces.len()
        )));
    }
    pieces
        .into_iter()
        .map(|piece| {
            if piece.is_empty() {
                return Err(invalid(format!(
                    "parameter '{}' has an empty value",
                    p.code
                )));
            }
            one(p, modifier, piece)
        })
        .collect()
}

fn one(p: &SearchParamDef, modifier: Option<&Modifier>, raw: &str) -> Result<SearchValue, Problem> {
    match modifier {
        Some(Modifier::Missing) => match raw {
            "true" => Ok(SearchValue::Missing(true)),
            "false" => Ok(SearchValue::Missing(false)),
            _ => Err(invalid(format!(
                "'{}:missing' takes true or false, not '{raw}'",
                p.code
            ))),
        },
        Some(Modifier::Text) => Ok(SearchValue::String(unescape(raw))),
        Some(Modifier::In | Modifier::NotIn) => Ok(SearchValue::Uri(unescape(raw))),
        Some(Modifier::OfType) => of_type(p, raw),
        Some(Modifier::Identifier) => Ok(SearchValue::Token(token(raw))),
        Some(Modifier::Type(t)) => reference(raw, Some(t)).map(SearchValue::Reference),
        _ => typed(p.kind, p.code, raw, p),
    }
}

fn typed(
    kind: ParamType,
    code: &str,
    raw: &str,
    p: &SearchParamDef,
) -> Result<SearchValue, Problem> {
    Ok(match kind {
        ParamType::Number => SearchValue::Number(number(code, raw)?),
        ParamType::Date => SearchValue::Date(date(code, raw)?),
        ParamType::String => SearchValue::String(unescape(raw)),
        ParamType::Token => SearchValue::Token(token(raw)),
        ParamType::Reference => SearchValue::Reference(reference(raw, None)?),
        ParamType::Quantity => SearchValue::Quantity(quantity(code, raw)?),
        ParamType::Uri => SearchValue::Uri(unescape(raw)),
        ParamType::Composite => composite(p, raw)?,
        ParamType::Special => SearchValue::String(unescape(raw)),
    })
}

fn composite(p: &SearchParamDef, raw: &str) -> Result<SearchValue, Problem> {
    let parts = split_unescaped(raw, '$');
    if parts.len() != p.components.len() {
        return Err(invalid(format!(
            "composite '{}' needs {} '$'-separated values, got {}",
            p.code,
            p.components.len(),
            parts.len()
        )));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (c, part) in p.components.iter().zip(parts) {
        if c.kind == ParamType::Composite {
            return Err(invalid("nested composite parameters are not supported"));
        }
        out.push(typed(c.kind, &c.code, part, p)?);
    }
    Ok(SearchValue::Composite(out))
}

/// Splits off a two-letter prefix (`ge2020`, `lt5.4`).
fn prefix(raw: &str) -> (Prefix, &str) {
    if raw.len() > 2 && raw.is_char_boundary(2) {
        if let Some(p) = Prefix::parse(&raw[..2]) {
            return (p, &raw[2..]);
        }
    }
    (Prefix::Eq, raw)
}

fn number(code: &str, raw: &str) -> Result<NumberValue, Problem> {
    let (prefix, text) = prefix(raw);
    let bad = || invalid(format!("'{code}': '{raw}' is not a number"));
    let numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !numeric {
        return Err(bad());
    }
    let value: f64 = text.parse().map_err(|_| bad())?;
    if !value.is_finite() {
        return Err(bad());
    }
    let (low, high) = if text.contains(['e', 'E']) {
        (value, value)
    } else {
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let half = 0.5 * 10f64.powi(-decimals);
        (value - half, value + half)
    };
    Ok(NumberValue {
        prefix,
        value,
        low,
        high,
        text: text.to_string(),
    })
}

fn date(code: &str, raw: &str) -> Result<DateValue, Problem> {
    let (prefix, text) = prefix(raw);
    // A `+` of a zone offset arrives as a space when not percent-encoded.
    let text = text.replace(' ', "+");
    let range = parse_range(&text)
        .ok_or_else(|| invalid(format!("'{code}': '{raw}' is not a valid date")))?;
    Ok(DateValue {
        prefix,
        range,
        text,
    })
}

fn token(raw: &str) -> TokenValue {
    let parts = split_unescaped(raw, '|');
    let opt = |s: &str| (!s.is_empty()).then(|| unescape(s));
    match parts.as_slice() {
        [code] => TokenValue {
            system: TokenSystem::Any,
            code: opt(code),
        },
        [system, rest @ ..] => TokenValue {
            system: if system.is_empty() {
                TokenSystem::None
            } else {
                TokenSystem::Is(unescape(system))
            },
            code: opt(&rest.join("|")),
        },
        [] => TokenValue {
            system: TokenSystem::Any,
            code: None,
        },
    }
}

fn of_type(p: &SearchParamDef, raw: &str) -> Result<SearchValue, Problem> {
    match split_unescaped(raw, '|').as_slice() {
        [system, code, value] if !code.is_empty() && !value.is_empty() => Ok(SearchValue::OfType {
            system: unescape(system),
            code: unescape(code),
            value: unescape(value),
        }),
        _ => Err(invalid(format!(
            "'{}:of-type' takes system|code|value, not '{raw}'",
            p.code
        ))),
    }
}

fn quantity(code: &str, raw: &str) -> Result<QuantityValue, Problem> {
    let parts = split_unescaped(raw, '|');
    let opt = |s: &str| (!s.is_empty()).then(|| unescape(s));
    let (num, system, unit) = match parts.as_slice() {
        [n] => (*n, None, None),
        [n, s, c] => (*n, opt(s), opt(c)),
        _ => {
            return Err(invalid(format!(
                "'{code}': quantity '{raw}' must be [prefix]number[|system|code]"
            )))
        }
    };
    let number = number(code, num)?;
    Ok(QuantityValue {
        prefix: number.prefix,
        number,
        system,
        code: unit,
    })
}

fn reference(raw: &str, type_modifier: Option<&str>) -> Result<ReferenceValue, Problem> {
    let text = unescape(raw);
    if text.contains("://") || text.starts_with("urn:") {
        return Ok(ReferenceValue::Url(text));
    }
    let (path, version) = match text.split_once("/_history/") {
        Some((p, v)) => (p.to_string(), Some(v.to_string())),
        None => (text.clone(), None),
    };
    let (ty, id) = match path.split_once('/') {
        Some((t, id)) if is_resource_type(t) && !id.is_empty() && !id.contains('/') => {
            (Some(t.to_string()), id.to_string())
        }
        None if !path.is_empty() => (None, path),
        _ => return Err(invalid(format!("'{raw}' is not a valid reference"))),
    };
    let ty = match (ty, type_modifier) {
        (Some(t), Some(m)) if t != m => {
            return Err(invalid(format!(
                "reference '{raw}' does not match the modifier ':{m}'"
            )))
        }
        (t, m) => t.or(m.map(str::to_string)),
    };
    Ok(ReferenceValue::Local {
        resource_type: ty,
        id,
        version,
    })
}
