//! String normalization shared by indexing and querying: lowercase, accents
//! removed (Unicode NFD, combining marks dropped), whitespace runs collapsed
//! to one space, ends trimmed.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The normalized form of a string value or search term.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    if text.is_ascii() {
        for c in text.chars() {
            push(&mut out, &mut pending_space, c.to_ascii_lowercase());
        }
        return out;
    }
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        for l in c.to_lowercase() {
            push(&mut out, &mut pending_space, l);
        }
    }
    out
}

fn push(out: &mut String, pending_space: &mut bool, c: char) {
    if c.is_whitespace() {
        *pending_space = !out.is_empty();
        return;
    }
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn lowercases_strips_accents_and_collapses_spaces() {
        assert_eq!(normalize("  José   MARÍA\tÑúñez "), "jose maria nunez");
        assert_eq!(normalize("Chalmers"), "chalmers");
        assert_eq!(normalize("Müller-Lüdenscheidt"), "muller-ludenscheidt");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("Ærøskøbing"), "ærøskøbing");
    }
}
