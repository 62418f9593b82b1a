//! API behaviour, robustness (no panics, bounded recursion) and a few
//! property checks with a deterministic generator.

use crate::{compile, EvalContext, FhirPathError, Item};
use serde_json::{json, Value};

fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": "p1",
        "active": true,
        "birthDate": "1974-12-25",
        "_birthDate": {"extension": [{"url": "http://x/ext", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
        "name": [
            {"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
            {"use": "maiden", "given": [null, "Jim"], "_given": [{"id": "g0"}, null]}
        ],
        "contained": [{"resourceType": "Organization", "id": "org1", "name": "Acme"}],
        "managingOrganization": {"reference": "#org1"},
        "multipleBirthInteger": 2
    })
}

fn eval(expr: &str, v: &Value) -> Vec<Value> {
    compile(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate(v)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .iter()
        .map(Item::to_json)
        .collect()
}

#[test]
fn cli_json_forms() {
    let p = patient();
    assert_eq!(eval("birthDate", &p), vec![json!("1974-12-25")]);
    assert_eq!(
        eval("@2019-01-01T10:00 + 1 hour", &p),
        vec![json!("2019-01-01T11:00")]
    );
    assert_eq!(eval("1.50 + 0", &p)[0].to_string(), "1.50");
    assert_eq!(eval("4 'mg'", &p), vec![json!({"value": 4, "unit": "mg"})]);
    // The second name's first given has only an id: still a node, without a value.
    assert_eq!(eval("name.given", &p).len(), 4);
    assert_eq!(eval("multipleBirth", &p), vec![json!(2)]);
    assert_eq!(eval("multipleBirth is integer", &p), vec![json!(true)]);
    assert_eq!(
        eval("name.given.select(hasValue())", &p),
        vec![json!(true), json!(true), json!(false), json!(true)]
    );
    assert_eq!(eval("name[1].given.first().id", &p), vec![json!("g0")]);
    assert_eq!(
        eval("birthDate.extension('http://x/ext').value", &p),
        vec![json!("1974-12-25T14:35:45-05:00")]
    );
    assert_eq!(
        eval("managingOrganization.resolve().name", &p),
        vec![json!("Acme")]
    );
    assert_eq!(eval("contained.id.type().name", &p), vec![json!("id")]);
    assert_eq!(eval("%resource.id", &p), vec![json!("p1")]);
}

#[test]
fn error_kinds() {
    match compile("name.where(") {
        Err(FhirPathError::Syntax { position, .. }) => assert_eq!(position, 11),
        other => panic!("{other:?}"),
    }
    match compile("name.frobnicate()") {
        Err(FhirPathError::Semantic { position, .. }) => assert_eq!(position, Some(5)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        compile("substring()"),
        Err(FhirPathError::Semantic { .. })
    ));
    let p = patient();
    assert!(matches!(
        compile("name.single()").unwrap().evaluate(&p),
        Err(FhirPathError::Execution { .. })
    ));
    assert!(matches!(
        compile("multipleBirthInteger").unwrap().evaluate(&p),
        Err(FhirPathError::Semantic { .. })
    ));
    let strict = EvalContext::new(&p).strict(true);
    assert!(compile("name.given1")
        .unwrap()
        .evaluate_with(&strict)
        .is_err());
    assert!(compile("name.given1")
        .unwrap()
        .evaluate(&p)
        .unwrap()
        .is_empty());
}

#[test]
fn context_node_and_variables() {
    let p = patient();
    let name = &p["name"][0];
    let ctx = EvalContext::new(&p)
        .with_context_node(name, "HumanName")
        .with_variable("x", vec![Item::Integer(5)]);
    let out = compile("given.count() + %x")
        .unwrap()
        .evaluate_with(&ctx)
        .unwrap();
    assert_eq!(out[0].to_json(), json!(7));
    let out = compile("%resource.id")
        .unwrap()
        .evaluate_with(&ctx)
        .unwrap();
    assert_eq!(out[0].to_json(), json!("p1"));
    let out = compile("%context.family")
        .unwrap()
        .evaluate_with(&ctx)
        .unwrap();
    assert_eq!(out[0].to_json(), json!("Chalmers"));
    assert!(compile("%nope").unwrap().evaluate_with(&ctx).is_err());
}

#[test]
fn bundle_resolve() {
    let b = json!({
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "http://x/Patient/1", "resource": {"resourceType": "Patient", "id": "1", "gender": "male"}},
            {"resource": {"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/1"}}}
        ]
    });
    assert_eq!(
        eval(
            "entry.resource.ofType(Observation).subject.resolve().gender",
            &b
        ),
        vec![json!("male")]
    );
    assert_eq!(
        eval("entry.resource.subject.resolve() is Patient", &b),
        vec![json!(true)]
    );
}

#[test]
fn member_of_required_binding() {
    let p = json!({"resourceType": "Patient", "gender": "male"});
    assert_eq!(
        eval(
            "gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')",
            &p
        ),
        vec![json!(true)]
    );
}

/// Deterministic pseudo-random generator (no external crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'s>(&mut self, xs: &[&'s str]) -> &'s str {
        xs[self.next() % xs.len()]
    }
}

#[test]
fn random_expressions_never_panic() {
    const TOKS: &[&str] = &[
        "name",
        "given",
        ".",
        "(",
        ")",
        "[",
        "]",
        "0",
        "1",
        "2.5",
        "'a'",
        "@2019",
        "@T10:00",
        "+",
        "-",
        "*",
        "/",
        "div",
        "mod",
        "&",
        "|",
        "=",
        "!=",
        "~",
        "<",
        ">=",
        "and",
        "or",
        "implies",
        "is",
        "as",
        "String",
        "where(",
        "select(",
        "exists(",
        "count()",
        "first()",
        "$this",
        "$index",
        "%resource",
        "{}",
        "5 'mg'",
        "3 days",
        "today()",
        "repeat(",
        "children()",
        "descendants()",
        "iif(",
        ",",
        "toString()",
        "substring(",
        "birthDate",
        "aggregate(",
        "$total",
        "sort(",
        "lowBoundary()",
        "matches('a.*')",
        "'x'.replaceMatches('(',",
        "extension(",
        "resolve()",
        "ofType(",
        "Patient",
        "`given`",
        "true",
        "false",
        " ",
    ];
    let p = patient();
    let mut rng = Lcg(42);
    for _ in 0..4000 {
        let n = 1 + rng.next() % 14;
        let src: String = (0..n).map(|_| rng.pick(TOKS)).collect::<Vec<_>>().join("");
        if let Ok(e) = compile(&src) {
            let _ = e.evaluate(&p);
            let _ = e.evaluate_with(&EvalContext::empty());
        }
    }
    // Arbitrary bytes.
    for _ in 0..2000 {
        let n = rng.next() % 24;
        let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 128) as u8).collect();
        let _ = compile(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn integer_arithmetic_properties() {
    let mut rng = Lcg(7);
    let p = patient();
    for _ in 0..200 {
        let a = (rng.next() % 100_000) as i64 - 50_000;
        let b = (rng.next() % 1000) as i64 + 1;
        let q = eval(&format!("({a}) div {b} * {b} + ({a}) mod {b} = ({a})"), &p);
        assert_eq!(q, vec![json!(true)], "{a} {b}");
        let q = eval(&format!("(({a}) | {b} | ({a})).count()"), &p);
        assert_eq!(q, vec![json!(if a == b { 1 } else { 2 })]);
        let q = eval(&format!("({a}).toString().toInteger() = ({a})"), &p);
        assert_eq!(q, vec![json!(true)]);
    }
}

#[test]
fn deep_expressions_are_bounded() {
    // Nesting accepted by the parser must evaluate on a small stack.
    let mut expr = String::from("true");
    for _ in 0..70 {
        expr = format!("name.where({expr}).exists()");
    }
    let e = compile(&expr).unwrap();
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let p = patient();
            e.evaluate(&p).map(|r| r.len())
        })
        .unwrap();
    assert_eq!(handle.join().unwrap().unwrap(), 1);
    let mut too_deep = String::from("1");
    for _ in 0..200 {
        too_deep = format!("name.where({too_deep})");
    }
    assert!(compile(&too_deep).is_err());
}

#[test]
fn every_r4_search_parameter_expression_compiles_and_runs() {
    let p = patient();
    let obs = json!({
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1"}]},
        "valueQuantity": {"value": 1.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
        "effectiveDateTime": "2020-01-01"
    });
    let mut failures = Vec::new();
    for sp in concord_fhir::definitions::search_parameters() {
        let exprs = sp
            .expression
            .iter()
            .cloned()
            .chain(sp.components.iter().map(|c| c.expression.clone()));
        for x in exprs {
            match compile(&x) {
                Err(e) => failures.push(format!("{}: {x}: {e}", sp.url)),
                Ok(e) => {
                    for r in [&p, &obs] {
                        if let Err(err) = e.evaluate(r) {
                            failures.push(format!("{}: {x}: {err}", sp.url));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn backbone_context_without_lookups() {
    // FhirType::element gives the same typing as with_context_node("Patient.contact").
    let p = json!({"resourceType": "Patient",
        "contact": [{"name": {"family": "A"}, "_gender": {"extension": [{"url": "x", "valueString": "y"}]}}]});
    let td = concord_fhir::definitions::definitions()
        .type_def("Patient")
        .unwrap();
    let contact = &p["contact"][0];
    let node = crate::FhirNode {
        value: Some(contact),
        ext: None,
        ty: crate::FhirType::element(td, "contact"),
    };
    let ctx = EvalContext::new(&p).with_focus(vec![Item::Node(node)]);
    let by_path = EvalContext::new(&p).with_context_node(contact, "Patient.contact");
    for expr in [
        "name.family",
        "gender.extension.value",
        "name.exists() or telecom.exists()",
        "name.is(HumanName)",
    ] {
        let e = compile(expr).unwrap();
        let a: Vec<Value> = e
            .evaluate_with(&ctx)
            .unwrap()
            .iter()
            .map(Item::to_json)
            .collect();
        let b: Vec<Value> = e
            .evaluate_with(&by_path)
            .unwrap()
            .iter()
            .map(Item::to_json)
            .collect();
        assert_eq!(a, b, "{expr}");
        assert!(!a.is_empty(), "{expr}");
    }
}

#[test]
fn regex_cache_gives_the_same_answers() {
    let v = json!({"resourceType": "Patient", "id": "abc"});
    for _ in 0..3 {
        assert_eq!(eval("id.matches('^[a-c]+$')", &v), vec![json!(true)]);
        assert_eq!(eval("id.matches('^[x]+$')", &v), vec![json!(false)]);
        assert_eq!(eval("id.matchesFull('[a-c]+')", &v), vec![json!(true)]);
        assert_eq!(eval("id.matchesFull('[a-b]+')", &v), vec![json!(false)]);
    }
}
