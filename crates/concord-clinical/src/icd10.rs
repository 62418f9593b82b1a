//! ICD-10-CM billable codes: lookup and search.
//!
//! Data: `data/icd10cm.tsv.gz`, built by `scripts/gen_icd10cm.py` from the
//! CMS/NCHS ICD-10-CM release shipped in PyPI `simple-icd-10-cm` (the header
//! of the file names the release). It is compiled into the binary and
//! decompressed and indexed once, on first use.
//!
//! Search: a query that looks like a code (`E11`, `e11.9`, `E119`) is a code
//! prefix search (dots optional); otherwise every query word must start a word
//! of the description (`diab mell typ 2`). Results are ranked: exact code,
//! then more whole-word matches, then shorter descriptions, then code order.

use std::sync::OnceLock;

const DATA: &[u8] = include_bytes!("../data/icd10cm.tsv.gz");

/// The FHIR system URI for ICD-10-CM (HL7 terminology).
pub const SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10-cm";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icd10Code {
    /// With its dot, e.g. `E11.9`.
    pub code: String,
    pub description: String,
}

struct Table {
    source: String,
    codes: Vec<Icd10Code>,
    /// Codes without dots, upper case, in the same order as `codes`.
    keys: Vec<String>,
    /// (lower-case word, code index), sorted: prefix ranges by binary search.
    words: Vec<(String, u32)>,
}

static TABLE: OnceLock<Table> = OnceLock::new();

fn table() -> &'static Table {
    TABLE.get_or_init(load)
}

fn load() -> Table {
    use std::io::Read;
    let mut text = String::new();
    // The artefact is part of the source tree; a corrupt one fails the tests
    // (`table_loads`), so an empty table here is the only fallback needed.
    if flate2::read::GzDecoder::new(DATA)
        .read_to_string(&mut text)
        .is_err()
    {
        text.clear();
    }
    let mut source = String::new();
    let mut codes = Vec::with_capacity(75_000);
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# Source: ") {
            source = h.to_string();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((code, description)) = line.split_once('\t') {
            codes.push(Icd10Code {
                code: code.to_string(),
                description: description.to_string(),
            });
        }
    }
    codes.sort_by(|a, b| a.code.cmp(&b.code));
    let keys = codes.iter().map(|c| key(&c.code)).collect();
    let mut words = Vec::with_capacity(codes.len() * 8);
    for (i, c) in codes.iter().enumerate() {
        let mut seen: Vec<String> = Vec::new();
        for w in tokens(&c.description) {
            if !seen.contains(&w) {
                seen.push(w.clone());
                words.push((w, i as u32));
            }
        }
    }
    words.sort_unstable();
    Table {
        source,
        codes,
        keys,
        words,
    }
}

fn key(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The source line of the artefact (CMS release and package version).
pub fn source() -> &'static str {
    &table().source
}

/// Number of billable codes loaded.
pub fn len() -> usize {
    table().codes.len()
}

/// Exact lookup, dots and case optional (`e119` finds `E11.9`).
pub fn lookup(code: &str) -> Option<&'static Icd10Code> {
    let t = table();
    let k = key(code.trim());
    t.keys.binary_search(&k).ok().and_then(|i| t.codes.get(i))
}

fn looks_like_code(q: &str) -> bool {
    let mut chars = q.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && matches!(chars.next(), Some(c) if c.is_ascii_digit())
        && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// Ranked search by code prefix or description words; at most `limit` results.
pub fn search(query: &str, limit: usize) -> Vec<&'static Icd10Code> {
    let t = table();
    let q = query.trim();
    if q.is_empty() || limit == 0 {
        return Vec::new();
    }
    if looks_like_code(q) {
        let k = key(q);
        let start = t.keys.partition_point(|x| x.as_str() < k.as_str());
        return t.keys[start..]
            .iter()
            .take_while(|x| x.starts_with(&k))
            .take(limit)
            .enumerate()
            .map(|(i, _)| &t.codes[start + i])
            .collect();
    }
    let words: Vec<String> = tokens(q).collect();
    if words.is_empty() {
        return Vec::new();
    }
    // One posting list per query word: (code index, whole-word match),
    // sorted by code index. Intersect from the shortest list.
    let mut postings: Vec<Vec<(u32, bool)>> = words
        .iter()
        .map(|w| {
            let start = t.words.partition_point(|(x, _)| x.as_str() < w.as_str());
            let mut list: Vec<(u32, bool)> = t.words[start..]
                .iter()
                .take_while(|(x, _)| x.starts_with(w.as_str()))
                .map(|(x, i)| (*i, x == w))
                .collect();
            // Whole-word entries first for each code, then keep one per code.
            list.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            list.dedup_by_key(|e| e.0);
            list
        })
        .collect();
    postings.sort_by_key(Vec::len);
    let Some((first, rest)) = postings.split_first() else {
        return Vec::new();
    };
    let mut hits: Vec<(u32, usize)> = first
        .iter()
        .filter_map(|&(i, whole)| {
            let mut score = usize::from(whole);
            for list in rest {
                let pos = list.binary_search_by_key(&i, |e| e.0).ok()?;
                score += usize::from(list[pos].1);
            }
            Some((i, score))
        })
        .collect();
    hits.sort_by(|a, b| {
        let (ca, cb) = (&t.codes[a.0 as usize], &t.codes[b.0 as usize]);
        b.1.cmp(&a.1)
            .then(ca.description.len().cmp(&cb.description.len()))
            .then(ca.code.cmp(&cb.code))
    });
    hits.into_iter()
        .take(limit)
        .map(|(i, _)| &t.codes[i as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_with_source() {
        assert!(len() > 70_000, "{} codes", len());
        assert!(source().contains("CMS"), "{}", source());
    }

    #[test]
    fn lookup_with_and_without_dot() {
        assert_eq!(
            lookup("e119").map(|c| c.description.as_str()),
            Some("Type 2 diabetes mellitus without complications")
        );
        assert_eq!(lookup("I10").map(|c| c.code.as_str()), Some("I10"));
        // E11 is a category, not billable.
        assert!(lookup("E11").is_none());
        assert!(lookup("ZZZ").is_none());
    }

    #[test]
    fn code_prefix_search_is_ordered() {
        let hits = search("E11.6", 50);
        assert!(hits.len() > 3);
        assert!(hits.iter().all(|c| c.code.starts_with("E11.6")));
        assert!(hits.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn word_search_requires_every_word_and_ranks_whole_words() {
        let hits = search("essential hypertension", 5);
        assert_eq!(hits.first().map(|c| c.code.as_str()), Some("I10"));
        let hits = search("diab typ 2 without compl", 10);
        assert!(hits.iter().any(|c| c.code == "E11.9"), "{hits:?}");
        for c in &hits {
            let d = c.description.to_lowercase();
            assert!(d.contains("diab") && d.contains("without"), "{d}");
        }
        assert!(search("qqqqzz hypertension", 5).is_empty());
        assert!(search("   ", 5).is_empty());
    }
}
