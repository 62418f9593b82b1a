//! String functions (on a single String input).

use super::{arg, arg_int, arg_string, input_single};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::Env;
use crate::types::Item;
use regex::Regex;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const NAMES: &[&str] = &[
    "indexOf",
    "lastIndexOf",
    "substring",
    "startsWith",
    "endsWith",
    "contains",
    "upper",
    "lower",
    "replace",
    "matches",
    "matchesFull",
    "replaceMatches",
    "length",
    "toChars",
    "trim",
    "split",
    "join",
    "encode",
    "decode",
    "escape",
    "unescape",
];

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    if !NAMES.contains(&name) {
        return None;
    }
    if name == "join" {
        return Some(join(args, input, env));
    }
    Some((|| {
        if let [Item::Node(n)] = input {
            if !n.is_primitive() {
                return Err(FhirPathError::semantic(
                    format!("{name}() expects a String input, not {}", n.ty.name),
                    None,
                ));
            }
        }
        let s = match input_single(input, name)? {
            None => return Ok(Vec::new()),
            Some(Item::String(s)) => s,
            Some(other) => {
                return Err(FhirPathError::semantic(
                    format!(
                        "{name}() expects a String input, not {}",
                        other.type_name().1
                    ),
                    None,
                ))
            }
        };
        string_fn(name, &s, args, env)
    })())
}

fn one(i: Item<'static>) -> Result<Vec<Item<'static>>> {
    Ok(vec![i])
}

/// Compiled patterns, shared by every evaluation: compiling a regex costs
/// far more than matching it, and invariant expressions (`matches('[A-Z]…')`)
/// run on every write with the same few patterns. Bounded: cleared when full.
const REGEX_CACHE_LIMIT: usize = 512;

fn regex_cache() -> &'static Mutex<HashMap<String, Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn regex(pattern: &str, full: bool) -> Result<Regex> {
    let p = if full {
        format!("(?s)^(?:{pattern})$")
    } else {
        format!("(?s){pattern}")
    };
    if let Some(re) = regex_cache().lock().ok().and_then(|c| c.get(&p).cloned()) {
        return Ok(re);
    }
    let re = Regex::new(&p)
        .map_err(|e| FhirPathError::exec(format!("invalid regular expression: {e}")))?;
    if let Ok(mut c) = regex_cache().lock() {
        if c.len() >= REGEX_CACHE_LIMIT {
            c.clear();
        }
        c.insert(p, re.clone());
    }
    Ok(re)
}

fn string_fn<'a>(name: &str, s: &str, args: &[Expr], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let a0 = || arg_string(args, 0, env, name);
    macro_rules! need {
        ($e:expr) => {
            match $e? {
                Some(v) => v,
                None => return Ok(Vec::new()),
            }
        };
    }
    match name {
        "indexOf" | "lastIndexOf" => {
            let sub = need!(a0());
            let found = if name == "indexOf" {
                s.find(&sub)
            } else {
                s.rfind(&sub)
            };
            one(Item::Integer(
                found.map_or(-1, |b| s[..b].chars().count() as i64),
            ))
        }
        "substring" => {
            let start = need!(arg_int(args, 0, env, name));
            let len = arg_int(args, 1, env, name)?;
            let chars: Vec<char> = s.chars().collect();
            if start < 0 || start as usize >= chars.len() {
                return Ok(Vec::new());
            }
            let start = start as usize;
            let end = match len {
                Some(l) if l <= 0 => start,
                Some(l) => start.saturating_add(l as usize).min(chars.len()),
                None => chars.len(),
            };
            one(Item::String(chars[start..end].iter().collect()))
        }
        "startsWith" => one(Item::Boolean(s.starts_with(need!(a0()).as_str()))),
        "endsWith" => one(Item::Boolean(s.ends_with(need!(a0()).as_str()))),
        "contains" => one(Item::Boolean(s.contains(need!(a0()).as_str()))),
        "upper" => one(Item::String(s.to_uppercase())),
        "lower" => one(Item::String(s.to_lowercase())),
        "replace" => {
            let pat = need!(a0());
            let rep = need!(arg_string(args, 1, env, name));
            one(Item::String(s.replace(&pat, &rep)))
        }
        "matches" | "matchesFull" => {
            let re = regex(&need!(a0()), name == "matchesFull")?;
            one(Item::Boolean(re.is_match(s)))
        }
        "replaceMatches" => {
            let pat = need!(a0());
            let rep = need!(arg_string(args, 1, env, name));
            if pat.is_empty() {
                return one(Item::String(s.to_string()));
            }
            let re = regex(&pat, false)?;
            one(Item::String(re.replace_all(s, rep.as_str()).into_owned()))
        }
        "length" => one(Item::Integer(s.chars().count() as i64)),
        "toChars" => Ok(s.chars().map(|c| Item::String(c.to_string())).collect()),
        "trim" => one(Item::String(s.trim().to_string())),
        "split" => {
            let sep = need!(a0());
            Ok(s.split(sep.as_str())
                .map(|p| Item::String(p.to_string()))
                .collect())
        }
        "encode" => {
            let fmt = need!(a0());
            let out = match fmt.as_str() {
                "base64" => base64(s.as_bytes(), false),
                "urlbase64" => base64(s.as_bytes(), true),
                "hex" => s.bytes().map(|b| format!("{b:02x}")).collect(),
                _ => return Err(FhirPathError::exec(format!("unknown encoding '{fmt}'"))),
            };
            one(Item::String(out))
        }
        "decode" => {
            let fmt = need!(a0());
            let bytes = match fmt.as_str() {
                "base64" | "urlbase64" => unbase64(s),
                "hex" => unhex(s),
                _ => return Err(FhirPathError::exec(format!("unknown encoding '{fmt}'"))),
            };
            Ok(bytes
                .and_then(|b| String::from_utf8(b).ok())
                .map(Item::String)
                .into_iter()
                .collect())
        }
        "escape" | "unescape" => {
            let fmt = need!(a0());
            let out = match (name, fmt.as_str()) {
                ("escape", "html") => escape_html(s),
                ("unescape", "html") => unescape_html(s),
                ("escape", "json") => escape_json(s),
                ("unescape", "json") => unescape_json(s),
                _ => {
                    return Err(FhirPathError::exec(format!(
                        "unknown escape target '{fmt}'"
                    )))
                }
            };
            one(Item::String(out))
        }
        _ => Ok(Vec::new()),
    }
}

fn join<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let sep = match arg(args, 0, env)?.first().and_then(Item::to_system) {
        Some(Item::String(s)) => s,
        _ => String::new(),
    };
    let mut parts = Vec::new();
    for i in input {
        match i.to_system() {
            Some(Item::String(s)) => parts.push(s),
            _ => return Err(FhirPathError::exec("join() expects Strings")),
        }
    }
    Ok(vec![Item::String(parts.join(&sep))])
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64(data: &[u8], url: bool) -> String {
    let table = if url { B64URL } else { B64 };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(table[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    Some(out)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

fn escape_html(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn unescape_html(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape_json(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn unescape_json(s: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap_or_else(|_| s.to_string())
}
