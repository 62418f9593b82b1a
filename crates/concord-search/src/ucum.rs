//! A small, multiplicative UCUM subset: units that convert to a canonical
//! unit by a constant factor. Index rows carry the canonical value and code
//! beside the written one, so `value-quantity=5|http://unitsofmeasure.org|g`
//! finds `5000 mg`. Units outside this table (and non-multiplicative ones such
//! as `Cel`/`[degF]`) are indexed only as written.

pub const UCUM: &str = "http://unitsofmeasure.org";

/// (unit, canonical unit, factor): value in unit × factor = value in canonical.
const UNITS: &[(&str, &str, f64)] = &[
    // mass → g
    ("kg", "g", 1e3),
    ("g", "g", 1.0),
    ("mg", "g", 1e-3),
    ("ug", "g", 1e-6),
    ("ng", "g", 1e-9),
    ("pg", "g", 1e-12),
    ("[lb_av]", "g", 453.592_37),
    ("[oz_av]", "g", 28.349_523_125),
    // volume → L
    ("L", "L", 1.0),
    ("l", "L", 1.0),
    ("dL", "L", 1e-1),
    ("cL", "L", 1e-2),
    ("mL", "L", 1e-3),
    ("uL", "L", 1e-6),
    ("fL", "L", 1e-15),
    // length → m
    ("km", "m", 1e3),
    ("m", "m", 1.0),
    ("cm", "m", 1e-2),
    ("mm", "m", 1e-3),
    ("um", "m", 1e-6),
    ("[in_i]", "m", 0.0254),
    ("[ft_i]", "m", 0.3048),
    // time → s
    ("s", "s", 1.0),
    ("ms", "s", 1e-3),
    ("min", "s", 60.0),
    ("h", "s", 3600.0),
    ("d", "s", 86_400.0),
    ("wk", "s", 604_800.0),
    // amount of substance → mol
    ("mol", "mol", 1.0),
    ("mmol", "mol", 1e-3),
    ("umol", "mol", 1e-6),
    ("nmol", "mol", 1e-9),
    // concentrations
    ("mol/L", "mol/L", 1.0),
    ("mmol/L", "mol/L", 1e-3),
    ("umol/L", "mol/L", 1e-6),
    ("nmol/L", "mol/L", 1e-9),
    ("g/L", "g/L", 1.0),
    ("g/dL", "g/L", 10.0),
    ("mg/dL", "g/L", 1e-2),
    ("mg/L", "g/L", 1e-3),
    ("ug/L", "g/L", 1e-6),
    ("ng/mL", "g/L", 1e-6),
    ("ug/mL", "g/L", 1e-3),
    ("pg/mL", "g/L", 1e-9),
    // pressure → Pa
    ("Pa", "Pa", 1.0),
    ("kPa", "Pa", 1e3),
    ("mm[Hg]", "Pa", 133.322_387_415),
    // rates
    ("/min", "/s", 1.0 / 60.0),
    ("/s", "/s", 1.0),
    ("kg/m2", "g/m2", 1e3),
    ("g/m2", "g/m2", 1.0),
    // dimensionless
    ("%", "1", 1e-2),
    ("1", "1", 1.0),
];

/// The canonical (value, code) of a UCUM quantity, when the unit is known.
pub fn canonical(value: f64, code: &str) -> Option<(f64, &'static str)> {
    UNITS
        .iter()
        .find(|(u, _, _)| *u == code)
        .map(|(_, c, f)| (value * f, *c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_known_units() {
        assert_eq!(
            canonical(5000.0, "mg").map(|(v, c)| ((v * 1e6).round(), c)),
            Some((5e6, "g"))
        );
        assert_eq!(canonical(250.0, "mL"), Some((0.25, "L")));
        assert_eq!(canonical(1.0, "Cel"), None);
        assert_eq!(canonical(1.0, "mmol/L").map(|(_, c)| c), Some("mol/L"));
    }
}
