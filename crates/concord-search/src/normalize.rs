//! String normalization shared by indexing and querying: lowercase, accents
//! removed (Unicode NFD, combining marks dropped), whitespace runs collapsed
//! to one space, ends trimmed.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The normalized form of a string value or search term.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        normalize_ascii(text.as_bytes())
    } else {
        normalize_unicode(text)
    }
}

/// [`normalize`] of any text: NFD, combining marks dropped, lowercased.
fn normalize_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        for l in c.to_lowercase() {
            push(&mut out, &mut pending_space, l);
        }
    }
    out
}

/// [`normalize`] of ASCII text, byte by byte (most stored strings are
/// ASCII; this is the common path of every string and full-text row).
fn normalize_ascii(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text {
        // `char::is_whitespace` on ASCII: tab, line feed, vertical tab,
        // form feed, carriage return and space.
        if matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(char::from(b.to_ascii_lowercase()));
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

    /// The ASCII path gives what the general one gives, for every ASCII
    /// character (control characters and every whitespace included).
    #[test]
    fn ascii_path_agrees_with_the_general_path() {
        let general = super::normalize_unicode;
        let all: String = (0u8..128).map(char::from).collect();
        let mut samples = vec![all.clone(), format!("  {all}\t\x0b {all} \x0c")];
        for c in (0u8..128).map(char::from) {
            samples.push(format!("{c}a{c}{c}B {c}"));
        }
        for s in &samples {
            assert_eq!(normalize(s), general(s), "{s:?}");
        }
    }
}
