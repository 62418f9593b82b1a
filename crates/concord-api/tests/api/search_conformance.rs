//! The search conformance set: every query of `search-queries.txt` runs
//! against a server loaded with the R4 examples (of the types the queries
//! touch) and 20 Synthea patients, and its answer is compared with the
//! brute-force evaluator's (`brute`), which reads every stored resource back
//! from the server and filters in memory. Matches and includes must be the
//! same sets, `_sort` orders must hold, paging must neither repeat nor drop
//! a resource, and `_total`/`_summary=count` must count the matches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use crate::brute::{Corpus, Expected, Request};
use crate::common::*;

const QUERIES: &str = include_str!("search-queries.txt");
const KNOWN: &str = include_str!("search-known-disagreements.txt");

/// The queries the server is known to answer differently (see the file).
fn known_disagreements() -> Vec<&'static str> {
    KNOWN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}
const SYNTHEA_PATIENTS: usize = 20;

/// The queries, `(section, line)`, without comments and blank lines.
pub fn queries() -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in QUERIES.lines() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix('#') {
            section = c.trim().to_string();
        } else if !line.is_empty() {
            out.push((section.clone(), line.to_string()));
        }
    }
    out
}

/// Resource types named by the queries (paths, `_type`, includes, chains):
/// the R4 examples of these types are loaded.
pub fn example_types() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, q) in queries() {
        for word in q.split(|c: char| !c.is_ascii_alphanumeric()) {
            if concord_fhir::is_resource_type(word) && word != "Bundle" {
                out.insert(word.to_string());
            }
        }
    }
    // Targets of the references the queries follow.
    for t in ["Organization", "Practitioner", "Location", "Encounter"] {
        out.insert(t.to_string());
    }
    out
}

/// Loads the examples (PUT, their own ids) and Synthea (transactions);
/// returns the `Type/id` of everything stored and the Synthea patients' ids.
async fn load(app: &TestApp, examples: PathBuf, synthea: PathBuf) -> (Vec<String>, Vec<String>) {
    let types = example_types();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&examples)
        .expect("read the examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split_once('-'))
                .is_some_and(|(t, _)| types.contains(t))
        })
        .collect();
    files.sort();
    let types_ref = &types;
    let stored: Vec<Result<String, String>> = stream::iter(files)
        .map(|f| async move {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let text = tokio::fs::read(&f)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            let v: Value = serde_json::from_slice(&text).map_err(|e| format!("{name}: {e}"))?;
            let (Some(rt), Some(id)) = (v["resourceType"].as_str(), v["id"].as_str()) else {
                return Err(format!("{name}: no type or id"));
            };
            if !types_ref.contains(rt) {
                return Err(format!("{name}: a {rt}"));
            }
            let path = format!("{rt}/{id}");
            let r = send(
                req(app, Method::PUT, &path)
                    .header("content-type", FHIR_JSON)
                    .body(text),
            )
            .await;
            if matches!(r.status, 200 | 201) {
                Ok(path)
            } else {
                Err(format!(
                    "{name}: PUT {path} → {} {}",
                    r.status,
                    short(&r.text)
                ))
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    // Examples that break R4 are refused (400/422): expected, not counted.
    // Anything else is a server problem worth seeing.
    for e in stored.iter().filter_map(|r| r.as_ref().err()) {
        if !e.contains("→ 400") && !e.contains("→ 422") && !e.contains(": a ") {
            println!("  LOAD FAILED {e}");
        }
    }
    let mut keys: Vec<String> = stored.into_iter().filter_map(Result::ok).collect();
    let examples_loaded = keys.len();

    // The smallest Synthea Bundles (by file size), for speed.
    let mut bundles: Vec<(u64, PathBuf)> = std::fs::read_dir(&synthea)
        .expect("read the synthea folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
        .collect();
    bundles.sort();
    bundles.truncate(SYNTHEA_PATIENTS);
    let mut patients = Vec::new();
    for (_, file) in bundles {
        let text = tokio::fs::read(&file).await.expect("read bundle");
        let r = send(
            req(app, Method::POST, "")
                .header("content-type", FHIR_JSON)
                .body(text),
        )
        .await;
        assert_eq!(r.status, 200, "{}: {}", file.display(), short(&r.text));
        for e in r.json["entry"].as_array().into_iter().flatten() {
            let loc = e["response"]["location"].as_str().unwrap_or("");
            let key = loc.split("/_history").next().unwrap_or("");
            let key = key.rsplitn(3, '/').collect::<Vec<_>>();
            if key.len() >= 2 {
                let k = format!("{}/{}", key[1], key[0]);
                if key[1] == "Patient" {
                    patients.push(key[0].to_string());
                }
                keys.push(k);
            }
        }
    }
    println!(
        "search conformance: loaded {examples_loaded} R4 examples ({} types) and {} Synthea resources ({} patients)",
        types.len(),
        keys.len() - examples_loaded,
        patients.len()
    );
    // As `concord import` does after a load: on PostgreSQL, without it the
    // planner knows nothing of this test's new tenant in the shared
    // database, estimates one row everywhere and picked, for two-level
    // chains, nested loops that ran for more than ten minutes.
    app.engine
        .store()
        .refresh_statistics()
        .await
        .expect("refresh planner statistics");
    keys.sort();
    keys.dedup();
    (keys, patients)
}

/// Reads every stored resource back (so `meta` is the stored one).
async fn read_back(app: &TestApp, keys: &[String]) -> Vec<Value> {
    stream::iter(keys.iter().cloned())
        .map(|k| async move {
            let r = get(app, &k).await;
            assert_eq!(r.status, 200, "read back {k}: {}", short(&r.text));
            r.json
        })
        .buffer_unordered(8)
        .collect()
        .await
}

/// The server's answer, every page followed.
#[derive(Debug, Default)]
pub struct Answer {
    pub status: u16,
    pub error: Option<String>,
    pub matches: Vec<String>,
    pub includes: BTreeSet<String>,
    pub totals: Vec<Option<u64>>,
    pub pages: usize,
    pub max_page_matches: usize,
    /// The matches of each page, in order.
    pub page_matches: Vec<Vec<String>>,
    /// Walking back from the last page by `previous` links, and its `first`
    /// link, did not give the same pages.
    pub backward_error: Option<String>,
}

fn link_of(page: &Value, relation: &str) -> Option<String> {
    page["link"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

fn page_match_keys(page: &Value) -> Vec<String> {
    page["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"].as_str().unwrap_or("match") == "match")
        .filter_map(entry_key)
        .collect()
}

/// From the last page: `previous` links lead back through the same pages,
/// and `first` to the first one.
async fn walk_back(app: &TestApp, last: &Value, forward: &[Vec<String>]) -> Result<(), String> {
    let first = link_of(last, "first").ok_or("the last page has no first link")?;
    let r = send(app.client.get(&first)).await;
    if page_match_keys(&r.json) != forward[0] {
        return Err("the first link does not give the first page".into());
    }
    let mut page = last.clone();
    for i in (0..forward.len() - 1).rev() {
        let prev = link_of(&page, "previous")
            .ok_or_else(|| format!("page {} has no previous link", i + 2))?;
        let r = send(app.client.get(&prev)).await;
        if r.status != 200 {
            return Err(format!("previous link of page {}: {}", i + 2, r.status));
        }
        if page_match_keys(&r.json) != forward[i] {
            return Err(format!(
                "previous link of page {} gives another page",
                i + 2
            ));
        }
        page = r.json;
    }
    if link_of(&page, "previous").is_some() {
        return Err("the first page has a previous link".into());
    }
    Ok(())
}

fn entry_key(e: &Value) -> Option<String> {
    let r = &e["resource"];
    Some(format!(
        "{}/{}",
        r["resourceType"].as_str()?,
        r["id"].as_str()?
    ))
}

pub async fn run_query(app: &TestApp, req_: &Request) -> Answer {
    let mut ans = Answer::default();
    let first = if req_.post {
        let path = if req_.path.is_empty() {
            "_search".to_string()
        } else {
            format!("{}/_search", req_.raw_path())
        };
        send(
            req(app, Method::POST, &path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(req_.query.clone()),
        )
        .await
    } else {
        get(app, &format!("{}?{}", req_.raw_path(), req_.query)).await
    };
    let mut page = first;
    loop {
        ans.status = page.status;
        if page.status != 200 || page.json["resourceType"] != "Bundle" {
            ans.error = Some(format!("{} {}", page.status, short(&page.text)));
            return ans;
        }
        ans.pages += 1;
        ans.totals.push(page.json["total"].as_u64());
        let mut n = 0;
        for e in page.json["entry"].as_array().into_iter().flatten() {
            let mode = e["search"]["mode"].as_str().unwrap_or("match");
            let Some(key) = entry_key(e) else { continue };
            match mode {
                "match" => {
                    n += 1;
                    ans.matches.push(key);
                }
                "include" => {
                    ans.includes.insert(key);
                }
                _ => {}
            }
        }
        ans.max_page_matches = ans.max_page_matches.max(n);
        ans.page_matches.push(page_match_keys(&page.json));
        let Some(next) = link_of(&page.json, "next") else {
            // (only where the query sets `_count`: the walk doubles the requests)
            if ans.pages > 1 && req_.param("_count").is_some() {
                ans.backward_error = walk_back(app, &page.json, &ans.page_matches).await.err();
            }
            break;
        };
        if ans.pages > 2000 {
            ans.error = Some("more than 2000 pages".into());
            return ans;
        }
        page = send(app.client.get(&next)).await;
    }
    ans
}

fn list(set: &BTreeSet<String>) -> String {
    let v: Vec<&String> = set.iter().take(40).collect();
    let more = if set.len() > 40 {
        format!(" … (+{})", set.len() - 40)
    } else {
        String::new()
    };
    format!("{v:?}{more}")
}

/// Compares one answer with the expectation; `Err` describes the difference.
pub fn compare(
    corpus: &Corpus,
    req_: &Request,
    exp: &Expected,
    ans: &Answer,
) -> Result<(), String> {
    if let Some(e) = &ans.error {
        return Err(format!("server error: {e}"));
    }
    let mut problems = Vec::new();
    let got: BTreeSet<String> = ans.matches.iter().cloned().collect();
    if got.len() != ans.matches.len() {
        let mut seen = BTreeSet::new();
        let dups: BTreeSet<String> = ans
            .matches
            .iter()
            .filter(|k| !seen.insert((*k).clone()))
            .cloned()
            .collect();
        problems.push(format!("duplicates across pages: {}", list(&dups)));
    }
    let summary_count = req_.param("_summary") == Some("count");
    let expected_count = exp.matches.len() as u64;
    if summary_count {
        if !got.is_empty() {
            problems.push("_summary=count returned entries".into());
        }
        if ans.totals.first().copied().flatten() != Some(expected_count) {
            problems.push(format!(
                "total {:?}, expected {expected_count}",
                ans.totals.first()
            ));
        }
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        };
    }
    if exp.allowed_extra.is_empty() {
        if got != exp.matches {
            problems.push(format!(
                "expected {} ids, returned {}; missing {}; unexpected {}",
                exp.matches.len(),
                got.len(),
                list(&exp.matches.difference(&got).cloned().collect()),
                list(&got.difference(&exp.matches).cloned().collect())
            ));
        }
    } else {
        // $everything: every member, and only members or what they reference.
        let all: BTreeSet<String> = got.union(&ans.includes).cloned().collect();
        let missing: BTreeSet<String> = exp.matches.difference(&all).cloned().collect();
        let extra: BTreeSet<String> = all
            .iter()
            .filter(|k| !exp.matches.contains(*k) && !exp.allowed_extra.contains(*k))
            .cloned()
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "members expected {}, returned {}; missing {}; not members nor referenced {}",
                exp.matches.len(),
                all.len(),
                list(&missing),
                list(&extra)
            ));
        }
    }
    if exp.allowed_extra.is_empty() {
        let includes: BTreeSet<String> = ans.includes.difference(&got).cloned().collect();
        if includes != exp.includes {
            problems.push(format!(
                "includes: expected {}, returned {}; missing {}; unexpected {}",
                exp.includes.len(),
                includes.len(),
                list(&exp.includes.difference(&includes).cloned().collect()),
                list(&includes.difference(&exp.includes).cloned().collect())
            ));
        }
    }
    if !exp.sort.is_empty() {
        if let Err(e) = corpus.is_sorted(&ans.matches, &exp.sort) {
            problems.push(format!("_sort: {e}"));
        }
    }
    if let Some(n) = req_.param("_count").and_then(|c| c.parse::<usize>().ok()) {
        if ans.max_page_matches > n.max(1) {
            problems.push(format!(
                "_count={n} but a page had {} matches",
                ans.max_page_matches
            ));
        }
        if n > 0 && exp.matches.len() > n && ans.pages < 2 {
            problems.push(format!("{} matches in one page with _count={n}", got.len()));
        }
    }
    if let Some(e) = &ans.backward_error {
        problems.push(format!("paging links: {e}"));
    }
    if req_.param("_total") == Some("accurate")
        && ans.totals.first().copied().flatten() != Some(expected_count)
    {
        problems.push(format!(
            "total {:?}, expected {expected_count}",
            ans.totals.first()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `{base}` and `{synthea-patient}` / `{synthea-patient-N}` in a query line.
pub fn substitute(line: &str, base: &str, patients: &[String]) -> String {
    let mut out = line.replace("{base}", base);
    for (i, p) in patients.iter().enumerate().rev() {
        out = out.replace(&format!("{{synthea-patient-{}}}", i + 1), p);
    }
    if let Some(p) = patients.first() {
        out = out.replace("{synthea-patient}", p);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_conformance() {
    let (Some(examples), Some(synthea)) = (
        concord_testkit::r4_examples_dir(),
        concord_testkit::shared_corpus("synthea"),
    ) else {
        let msg =
            "SKIPPED: search conformance set needs the R4 examples and ../shared/corpora/synthea";
        println!("{msg}");
        eprintln!("{msg}");
        return;
    };
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let (keys, patients) = load(&app, examples, synthea).await;
    let resources = read_back(&app, &keys).await;
    let corpus = Corpus::new(&app.base, resources);
    let loaded = started.elapsed();
    let queries = queries();
    assert!(queries.len() >= 150, "{} queries", queries.len());
    let mut agree = 0;
    let mut empty = Vec::new();
    let mut non_empty = 0;
    let known = known_disagreements();
    for k in &known {
        assert!(
            queries.iter().any(|(_, q)| q == k),
            "search-known-disagreements.txt lists a query that is not in the set: {k}"
        );
    }
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    let mut timings: Vec<(f64, usize, String)> = Vec::new();
    let mut fixed = Vec::new();
    let mut per_section: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (section, written) in &queries {
        let is_known = known.contains(&written.as_str());
        let line = substitute(written, &app.base, &patients);
        let request = Request::parse(&line);
        let exp = match corpus.evaluate(&request) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{line}\n    evaluator cannot answer: {e}"));
                continue;
            }
        };
        if exp.matches.is_empty() {
            empty.push(line.clone());
        } else {
            non_empty += 1;
        }
        let asked = Instant::now();
        let ans = run_query(&app, &request).await;
        timings.push((asked.elapsed().as_secs_f64(), ans.pages, line.clone()));
        let entry = per_section.entry(section.clone()).or_default();
        entry.1 += 1;
        match compare(&corpus, &request, &exp, &ans) {
            Ok(()) => {
                agree += 1;
                entry.0 += 1;
                if is_known {
                    fixed.push(written.clone());
                }
            }
            Err(why) => {
                let report = format!(
                    "{line}\n    {why}\n    expected ids: {}\n    returned ids: {}",
                    list(&exp.matches),
                    list(&ans.matches.iter().cloned().collect())
                );
                if is_known {
                    known_seen.push(report);
                } else {
                    failures.push(report);
                }
            }
        }
    }
    let backend = std::env::var("CONCORD_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into());
    println!(
        "search conformance ({backend}): {agree}/{} queries agree; {non_empty} with non-empty expected results; \
         {} resources; loaded in {:.1}s, total {:.1}s",
        queries.len(),
        corpus.len(),
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for line in &empty {
        println!("  expected no match: {line}");
    }
    timings.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("  slowest queries (all pages):");
    for (t, pages, q) in timings.iter().take(5) {
        println!("    {:>7.1} ms  {pages:>3} pages  {q}", t * 1000.0);
    }
    for (s, (a, n)) in &per_section {
        println!("  {a:>3}/{n:<3} {s}");
    }
    for f in &known_seen {
        println!("  KNOWN DISAGREEMENT (search-known-disagreements.txt) {f}");
    }
    for f in &failures {
        println!("  DISAGREE {f}");
    }
    for f in &fixed {
        println!("  AGREES NOW (remove it from search-known-disagreements.txt): {f}");
    }
    println!(
        "search conformance ({backend}): {} known disagreements, {} unexpected",
        known_seen.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} queries disagree (besides {} known)",
        failures.len(),
        queries.len(),
        known_seen.len()
    );
    assert!(
        fixed.is_empty(),
        "known disagreements that agree now: {fixed:?}"
    );
}
