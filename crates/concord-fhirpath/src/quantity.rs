//! Quantities: a decimal value with a UCUM unit or a calendar duration, and
//! a small UCUM subset (multiplicative units only) for conversion.

use rust_decimal::Decimal;
use std::str::FromStr;

/// A System.Quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub value: Decimal,
    /// The UCUM code, or a calendar keyword (`year`, `days`, ...).
    pub unit: String,
}

/// Calendar duration keywords, singular and plural.
const CALENDAR: &[(&str, &str)] = &[
    ("year", "years"),
    ("month", "months"),
    ("week", "weeks"),
    ("day", "days"),
    ("hour", "hours"),
    ("minute", "minutes"),
    ("second", "seconds"),
    ("millisecond", "milliseconds"),
];

/// The singular calendar keyword for `unit`, if it is one.
pub fn calendar_unit(unit: &str) -> Option<&'static str> {
    CALENDAR
        .iter()
        .find(|(s, p)| *s == unit || *p == unit)
        .map(|(s, _)| *s)
}

/// Dimension exponents: length, mass, time, temperature, amount, current,
/// luminosity, calendar month (a separate dimension: calendar months and
/// years do not convert to UCUM `mo`/`a`).
pub type Dims = [i32; 8];

/// A unit reduced to a factor over base units.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduced {
    pub factor: Decimal,
    pub dims: Dims,
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or(Decimal::ONE)
}

fn base(i: usize) -> Dims {
    let mut d = [0; 8];
    d[i] = 1;
    d
}

fn atom(name: &str) -> Option<Reduced> {
    let (f, dims): (&str, Dims) = match name {
        "m" => ("1", base(0)),
        "g" => ("1", base(1)),
        "s" => ("1", base(2)),
        "K" => ("1", base(3)),
        "mol" => ("1", base(4)),
        "A" => ("1", base(5)),
        "cd" => ("1", base(6)),
        "min" => ("60", base(2)),
        "h" => ("3600", base(2)),
        "d" => ("86400", base(2)),
        "wk" => ("604800", base(2)),
        "mo" => ("2629800", base(2)),
        "a" => ("31557600", base(2)),
        "L" | "l" => ("0.001", [3, 0, 0, 0, 0, 0, 0, 0]),
        "[in_i]" => ("0.0254", base(0)),
        "[ft_i]" => ("0.3048", base(0)),
        "[yd_i]" => ("0.9144", base(0)),
        "[mi_i]" => ("1609.344", base(0)),
        "[lb_av]" => ("453.59237", base(1)),
        "[oz_av]" => ("28.349523125", base(1)),
        "[gr]" => ("0.06479891", base(1)),
        "t" => ("1000000", base(1)),
        "Hz" => ("1", [0, 0, -1, 0, 0, 0, 0, 0]),
        "N" => ("1000", [1, 1, -2, 0, 0, 0, 0, 0]),
        "Pa" => ("1000", [-1, 1, -2, 0, 0, 0, 0, 0]),
        "J" => ("1000", [2, 1, -2, 0, 0, 0, 0, 0]),
        "W" => ("1000", [2, 1, -3, 0, 0, 0, 0, 0]),
        "mm[Hg]" => ("133322", [-1, 1, -2, 0, 0, 0, 0, 0]),
        "%" => ("0.01", [0; 8]),
        "1" => ("1", [0; 8]),
        _ => return None,
    };
    Some(Reduced {
        factor: dec(f),
        dims,
    })
}

const PREFIXES: &[(&str, &str)] = &[
    ("da", "10"),
    ("Y", "1000000000000000000000000"),
    ("Z", "1000000000000000000000"),
    ("E", "1000000000000000000"),
    ("P", "1000000000000000"),
    ("T", "1000000000000"),
    ("G", "1000000000"),
    ("M", "1000000"),
    ("k", "1000"),
    ("h", "100"),
    ("d", "0.1"),
    ("c", "0.01"),
    ("m", "0.001"),
    ("u", "0.000001"),
    ("n", "0.000000001"),
    ("p", "0.000000000001"),
    ("f", "0.000000000000001"),
];

/// Prefixable metric atoms.
const METRIC: &[&str] = &[
    "m", "g", "s", "mol", "A", "cd", "L", "l", "Hz", "N", "Pa", "J", "W", "t", "K",
];

fn simple(sym: &str) -> Option<Reduced> {
    if let Some(r) = atom(sym) {
        return Some(r);
    }
    for (p, f) in PREFIXES {
        if let Some(rest) = sym.strip_prefix(p) {
            if METRIC.contains(&rest) {
                let mut r = atom(rest)?;
                r.factor *= dec(f);
                return Some(r);
            }
        }
    }
    None
}

fn pow(r: &Reduced, e: i32) -> Option<Reduced> {
    if e.unsigned_abs() > 12 {
        return None;
    }
    let mut factor = Decimal::ONE;
    for _ in 0..e.unsigned_abs() {
        factor = factor.checked_mul(r.factor)?;
    }
    if e < 0 {
        factor = Decimal::ONE.checked_div(factor)?;
    }
    let mut dims = r.dims;
    for d in &mut dims {
        *d *= e;
    }
    Some(Reduced { factor, dims })
}

/// One component such as `cm2`, `s-1`, `[lb_av]`, `10*3`, `{beats}`.
fn component(c: &str) -> Option<Reduced> {
    // Strip annotations.
    let mut s = String::new();
    let mut depth = 0;
    for ch in c.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => s.push(ch),
            _ => {}
        }
    }
    if s.is_empty() {
        return Some(Reduced {
            factor: Decimal::ONE,
            dims: [0; 8],
        });
    }
    if let Some((b, e)) = s.split_once('*') {
        let b = Decimal::from_str(b).ok()?;
        let e: i32 = e.parse().ok().filter(|e: &i32| e.unsigned_abs() <= 28)?;
        let mut f = Decimal::ONE;
        for _ in 0..e.unsigned_abs() {
            f = f.checked_mul(b)?;
        }
        if e < 0 {
            f = Decimal::ONE.checked_div(f)?;
        }
        return Some(Reduced {
            factor: f,
            dims: [0; 8],
        });
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Reduced {
            factor: Decimal::from_str(&s).ok()?,
            dims: [0; 8],
        });
    }
    if let Some(r) = simple(&s) {
        return Some(r);
    }
    // Trailing exponent.
    let split = s
        .char_indices()
        .rev()
        .take_while(|(_, ch)| ch.is_ascii_digit() || *ch == '-' || *ch == '+')
        .last()
        .map(|(i, _)| i)?;
    let (sym, exp) = s.split_at(split);
    let e: i32 = exp.parse().ok()?;
    pow(&simple(sym)?, e)
}

/// Reduces a UCUM unit expression (`mg`, `g/m`, `cm.m`, `m2`, `kg/m2`,
/// `mm[Hg]`) or a calendar keyword to base units. `None` = not understood.
pub fn reduce(unit: &str) -> Option<Reduced> {
    if let Some(cal) = calendar_unit(unit) {
        let (f, dims) = match cal {
            "year" => ("12", base(7)),
            "month" => ("1", base(7)),
            "week" => ("604800", base(2)),
            "day" => ("86400", base(2)),
            "hour" => ("3600", base(2)),
            "minute" => ("60", base(2)),
            "second" => ("1", base(2)),
            _ => ("0.001", base(2)),
        };
        return Some(Reduced {
            factor: dec(f),
            dims,
        });
    }
    if unit.contains('(') || unit.is_empty() {
        return None;
    }
    let mut total = Reduced {
        factor: Decimal::ONE,
        dims: [0; 8],
    };
    let mut divide = false;
    let mut start = 0;
    let bytes = unit.as_bytes();
    let mut i = 0;
    let mut in_bracket = false;
    while i <= bytes.len() {
        let at_end = i == bytes.len();
        let b = if at_end { b'.' } else { bytes[i] };
        if b == b'[' || b == b'{' {
            in_bracket = true;
        } else if b == b']' || b == b'}' {
            in_bracket = false;
        }
        if !in_bracket && (b == b'.' || b == b'/') {
            let part = &unit[start..i];
            if part.is_empty() {
                if !(i == 0 && b == b'/') {
                    return None;
                }
            } else {
                let r = component(part)?;
                total = combine(&total, &r, divide)?;
            }
            divide = b == b'/';
            start = i + 1;
        }
        i += 1;
    }
    Some(total)
}

fn combine(a: &Reduced, b: &Reduced, divide: bool) -> Option<Reduced> {
    let mut dims = a.dims;
    for (d, e) in dims.iter_mut().zip(b.dims.iter()) {
        *d = if divide {
            d.checked_sub(*e)?
        } else {
            d.checked_add(*e)?
        };
    }
    let factor = if divide {
        a.factor.checked_div(b.factor)?
    } else {
        a.factor.checked_mul(b.factor)?
    };
    Some(Reduced { factor, dims })
}

impl Quantity {
    pub fn new(value: Decimal, unit: impl Into<String>) -> Self {
        Quantity {
            value,
            unit: unit.into(),
        }
    }

    /// The unit as written in FHIRPath: calendar keywords bare, UCUM quoted.
    pub fn to_text(&self) -> String {
        if calendar_unit(&self.unit).is_some() {
            format!("{} {}", self.value, self.unit)
        } else {
            format!("{} '{}'", self.value, self.unit)
        }
    }

    /// The value in base units, and the dimensions.
    pub fn normalised(&self) -> Option<(Decimal, Dims)> {
        let r = reduce(&self.unit)?;
        Some((self.value.checked_mul(r.factor)?, r.dims))
    }

    /// True when both units reduce to the same dimensions.
    pub fn comparable(&self, other: &Quantity) -> bool {
        if same_unit(&self.unit, &other.unit) {
            return true;
        }
        matches!((reduce(&self.unit), reduce(&other.unit)), (Some(a), Some(b)) if a.dims == b.dims)
    }

    /// `other`'s value expressed in this quantity's unit.
    pub fn convert_value(&self, other: &Quantity) -> Option<Decimal> {
        if same_unit(&self.unit, &other.unit) {
            return Some(other.value);
        }
        let a = reduce(&self.unit)?;
        let b = reduce(&other.unit)?;
        if a.dims != b.dims {
            return None;
        }
        other.value.checked_mul(b.factor)?.checked_div(a.factor)
    }

    /// Product or quotient of two quantities.
    pub fn mul_div(&self, other: &Quantity, divide: bool) -> Option<Quantity> {
        let a = reduce(&self.unit)?;
        let b = reduce(&other.unit)?;
        let r = combine(&a, &b, divide)?;
        let value = if divide {
            self.value.checked_div(other.value)?
        } else {
            self.value.checked_mul(other.value)?
        };
        let unit = match (self.unit.as_str(), other.unit.as_str(), divide) {
            (_, "1", _) => self.unit.clone(),
            ("1", u, false) => u.to_string(),
            (x, y, true) if x == y => "1".to_string(),
            (x, y, true) => format!("{x}/{y}"),
            (x, y, false) => format!("{x}.{y}"),
        };
        let _ = r;
        Some(Quantity { value, unit })
    }
}

/// Units equal as written, with calendar keywords and their UCUM twins for
/// the definite durations (week = wk, day = d, ...).
pub fn same_unit(a: &str, b: &str) -> bool {
    fn canon(u: &str) -> &str {
        match calendar_unit(u) {
            Some("week") => "wk",
            Some("day") => "d",
            Some("hour") => "h",
            Some("minute") => "min",
            Some("second") => "s",
            Some("millisecond") => "ms",
            Some(c) => c,
            None => u,
        }
    }
    canon(a) == canon(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &str, u: &str) -> Quantity {
        Quantity::new(Decimal::from_str(v).unwrap(), u)
    }

    #[test]
    fn converts_common_units() {
        assert_eq!(
            q("4", "g").convert_value(&q("4000", "mg")).unwrap(),
            Decimal::from(4)
        );
        assert!(q("1", "cm").comparable(&q("1", "[in_i]")));
        assert!(!q("1", "cm").comparable(&q("1", "s")));
        assert!(!q("1", "cm").comparable(&q("1", "[s]")));
        assert!(!q("1", "year").comparable(&q("1", "a")));
        assert!(q("7", "days").comparable(&q("1", "wk")));
        let m2 = q("2.0", "cm").mul_div(&q("2.0", "m"), false).unwrap();
        assert_eq!(
            m2.normalised().unwrap(),
            q("0.040", "m2").normalised().unwrap()
        );
    }
}
