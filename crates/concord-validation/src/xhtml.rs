//! Light checks on narrative XHTML: it must be a `<div>`, must not carry
//! active content, and may only use the XML entities (no HTML named entities).
//! Full XHTML parsing and the txt-1/txt-2 invariants belong to the FHIRPath
//! invariant layer.

const FORBIDDEN_TAGS: &[&str] = &[
    "<script", "<iframe", "<object", "<embed", "<applet", "<form", "<frame", "<base",
];
const XML_ENTITIES: &[&str] = &["lt", "gt", "amp", "quot", "apos"];

pub fn check(s: &str) -> Result<(), String> {
    let t = s.trim_start();
    if !t.starts_with("<div") {
        return Err("narrative XHTML must be a <div> element".into());
    }
    let lower = s.to_ascii_lowercase();
    for tag in FORBIDDEN_TAGS {
        if lower.contains(tag) {
            return Err(format!("narrative XHTML must not contain {tag}> elements"));
        }
    }
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        rest = &rest[i + 1..];
        let end = rest.find(';').filter(|&e| e <= 32);
        let Some(end) = end else {
            return Err("narrative XHTML has a bare '&' (use &amp;)".into());
        };
        let name = &rest[..end];
        let numeric = name
            .strip_prefix("#x")
            .map(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .or_else(|| {
                name.strip_prefix('#')
                    .map(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            })
            .unwrap_or(false);
        if !numeric && !XML_ENTITIES.contains(&name) {
            return Err(format!("invalid entity '&{name};' in narrative XHTML"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrative() {
        assert!(
            check("<div xmlns=\"http://www.w3.org/1999/xhtml\">a &amp; b &#160;</div>").is_ok()
        );
        assert!(check("<p>x</p>").is_err());
        assert!(check("<div><script>x</script></div>").is_err());
        assert!(check("<div>&reg;</div>").is_err());
    }
}
