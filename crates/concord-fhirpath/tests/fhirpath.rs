//! Runs the official FHIRPath R4 test suite (`shared/corpora/fhirpath`).

use concord_fhirpath::{compile, EvalContext, Item};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The pass count must not fall below this.
const FLOOR: usize = 929;
/// Live tests in `tests-fhir-r4.xml`. The file contains 937 `<test`
/// strings, but two of them sit inside XML comments.
const TOTAL: usize = 935;

#[derive(Debug, Default, Clone)]
struct Case {
    group: String,
    name: String,
    input: Option<String>,
    predicate: bool,
    strict: bool,
    check_ordered: bool,
    unordered: bool,
    expression: String,
    invalid: Option<String>,
    outputs: Vec<(Option<String>, String)>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/fhirpath")
}

fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn parse_suite(xml: &str) -> Vec<Case> {
    let mut reader = Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut group = String::new();
    let mut cur: Option<Case> = None;
    let mut text = String::new();
    let mut out_type: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                text.clear();
                match e.name().as_ref() {
                    b"group" => group = attr(&e, "name").unwrap_or_default(),
                    b"test" => {
                        cur = Some(Case {
                            group: group.clone(),
                            name: attr(&e, "name").unwrap_or_default(),
                            input: attr(&e, "inputfile"),
                            predicate: attr(&e, "predicate").as_deref() == Some("true"),
                            strict: attr(&e, "mode").as_deref() == Some("strict"),
                            check_ordered: attr(&e, "checkOrderedFunctions").as_deref()
                                == Some("true"),
                            unordered: attr(&e, "ordered").as_deref() == Some("false"),
                            ..Case::default()
                        })
                    }
                    b"expression" => {
                        if let Some(c) = cur.as_mut() {
                            c.invalid = attr(&e, "invalid");
                            if attr(&e, "mode").as_deref() == Some("strict") {
                                c.strict = true;
                            }
                        }
                    }
                    b"output" => out_type = attr(&e, "type"),
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) if e.name().as_ref() == b"output" => {
                if let Some(c) = cur.as_mut() {
                    c.outputs.push((attr(&e, "type"), String::new()));
                }
            }
            Ok(Event::Text(t)) => {
                text.push_str(&t.unescape().map(|s| s.into_owned()).unwrap_or_default())
            }
            Ok(Event::CData(t)) => text.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"expression" => {
                    if let Some(c) = cur.as_mut() {
                        c.expression = text.trim().to_string();
                    }
                }
                b"output" => {
                    if let Some(c) = cur.as_mut() {
                        c.outputs.push((out_type.take(), text.clone()));
                    }
                }
                b"test" => {
                    if let Some(c) = cur.take() {
                        cases.push(c);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => panic!("bad suite XML: {e}"),
            _ => {}
        }
    }
    cases
}

fn type_ok(expected: &str, item: &Item) -> bool {
    let (_, name) = item.type_name();
    name == expected || name.eq_ignore_ascii_case(expected)
}

fn run_case(case: &Case, inputs: &HashMap<String, Result<Value, String>>) -> Result<(), String> {
    let resource = match &case.input {
        None => None,
        Some(file) => match inputs.get(file) {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => return Err(format!("input {file}: {e}")),
            None => return Err(format!("input {file} not loaded")),
        },
    };
    let expected_error = case.invalid.is_some();
    let expr = match compile(&case.expression) {
        Ok(e) => e,
        Err(e) if expected_error => {
            return if case.invalid.as_deref() == Some("syntax") && !e.is_syntax() {
                Err(format!("expected a syntax error, got {e}"))
            } else {
                Ok(())
            };
        }
        Err(e) => return Err(format!("compile error: {e}")),
    };
    let ctx = match resource {
        Some(r) => EvalContext::new(r),
        None => EvalContext::empty(),
    }
    .strict(case.strict)
    .check_ordered_functions(case.check_ordered);
    let result = expr.evaluate_with(&ctx);
    let items = match result {
        Err(e) if expected_error => {
            return if case.invalid.as_deref() == Some("syntax") {
                Err(format!("expected a syntax error, got {e}"))
            } else {
                Ok(())
            }
        }
        Err(e) => return Err(format!("evaluation error: {e}")),
        Ok(_) if expected_error => {
            return Err(format!(
                "expected a {} error, evaluation succeeded",
                case.invalid.as_deref().unwrap_or("")
            ))
        }
        Ok(items) => items,
    };
    let items: Vec<Item> = if case.predicate {
        let b = match items.as_slice() {
            [Item::Boolean(b)] => *b,
            other => !other.is_empty(),
        };
        vec![Item::Boolean(b)]
    } else {
        items
    };
    let got: Vec<String> = items.iter().map(Item::to_text).collect();
    let want: Vec<String> = case.outputs.iter().map(|(_, t)| t.clone()).collect();
    let mismatch = || format!("expected [{}], got [{}]", want.join(", "), got.join(", "));
    if got.len() != want.len() {
        return Err(mismatch());
    }
    if case.unordered {
        let mut g = got.clone();
        let mut w = want.clone();
        g.sort();
        w.sort();
        if g != w {
            return Err(mismatch());
        }
        return Ok(());
    }
    for (i, (item, (ty, text))) in items.iter().zip(&case.outputs).enumerate() {
        if &got[i] != text {
            return Err(mismatch());
        }
        if let Some(ty) = ty {
            if !type_ok(ty, item) {
                return Err(format!(
                    "item {i}: expected type {ty}, got {}",
                    item.type_name().1
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn official_r4_suite() {
    let dir = corpus_dir();
    let suite = dir.join("tests-fhir-r4.xml");
    let Ok(xml) = std::fs::read_to_string(&suite) else {
        println!(
            "SKIPPED: FHIRPath suite not found at {} — the official tests did not run",
            suite.display()
        );
        return;
    };
    let cases = parse_suite(&xml);
    let mut inputs: HashMap<String, Result<Value, String>> = HashMap::new();
    for c in &cases {
        if let Some(f) = &c.input {
            inputs.entry(f.clone()).or_insert_with(|| {
                let json = f
                    .trim_end_matches(".xml")
                    .trim_end_matches(".json")
                    .to_string()
                    + ".json";
                let path = dir.join("input-json").join(&json);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("missing {}: {e}", path.display()))
                    .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            });
        }
    }
    let mut passed = 0;
    let mut failures = Vec::new();
    for c in &cases {
        let r = std::panic::catch_unwind(|| run_case(c, &inputs))
            .unwrap_or_else(|_| Err("PANIC".to_string()));
        match r {
            Ok(()) => passed += 1,
            Err(reason) => failures.push(format!(
                "  [{}] {}: `{}` — {reason}",
                c.group,
                c.name,
                c.expression.replace('\n', " ")
            )),
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!(
        "FHIRPath R4 suite: {passed}/{TOTAL} live tests passed ({}/937 counting the two commented-out entries as failures)",
        passed
    );
    assert_eq!(cases.len(), TOTAL, "the suite should have {TOTAL} tests");
    assert!(
        passed >= FLOOR,
        "FHIRPath suite regressed: {passed} < floor {FLOOR}"
    );
}
