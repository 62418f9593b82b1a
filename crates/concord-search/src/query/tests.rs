use super::*;
use crate::registry::ParamType;

fn ok(rt: Option<&str>, q: &str) -> SearchQuery {
    match parse(rt, q, Handling::Strict) {
        Ok(q) => q,
        Err(e) => panic!("{q}: {e:?}"),
    }
}

fn err(rt: Option<&str>, q: &str) -> String {
    match parse(rt, q, Handling::Strict) {
        Ok(x) => panic!("{q} parsed: {x:?}"),
        Err(e) => e
            .iter()
            .map(|i| i.diagnostics.clone())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn param(q: &SearchQuery, i: usize) -> &ParamFilter {
    match &q.filters[i] {
        Filter::Param(p) => p,
        other => panic!("not a param filter: {other:?}"),
    }
}

#[test]
fn tokens_with_system_semantics() {
    let q = ok(
        Some("Observation"),
        "code=http://loinc.org|1234-5,|x,sys|,plain",
    );
    let p = param(&q, 0);
    assert_eq!(p.kind, ParamType::Token);
    assert_eq!(
        p.values,
        vec![
            SearchValue::Token(TokenValue {
                system: TokenSystem::Is("http://loinc.org".into()),
                code: Some("1234-5".into())
            }),
            SearchValue::Token(TokenValue {
                system: TokenSystem::None,
                code: Some("x".into())
            }),
            SearchValue::Token(TokenValue {
                system: TokenSystem::Is("sys".into()),
                code: None
            }),
            SearchValue::Token(TokenValue {
                system: TokenSystem::Any,
                code: Some("plain".into())
            }),
        ]
    );
}

#[test]
fn and_by_repetition_or_by_comma() {
    let q = ok(Some("Patient"), "name=a,b&name=c");
    assert_eq!(q.filters.len(), 2);
    assert_eq!(param(&q, 0).values.len(), 2);
    assert_eq!(param(&q, 1).values, vec![SearchValue::String("c".into())]);
}

#[test]
fn escaping() {
    let q = ok(Some("Patient"), "name=a\\,b,c\\\\&identifier=sys\\|x|v\\$1");
    assert_eq!(
        param(&q, 0).values,
        vec![
            SearchValue::String("a,b".into()),
            SearchValue::String("c\\".into())
        ]
    );
    assert_eq!(
        param(&q, 1).values,
        vec![SearchValue::Token(TokenValue {
            system: TokenSystem::Is("sys|x".into()),
            code: Some("v$1".into())
        })]
    );
    assert_eq!(split_unescaped("a\\$b$c", '$'), vec!["a\\$b", "c"]);
    assert_eq!(unescape("a\\x"), "a\\x");
}

#[test]
fn every_prefix() {
    for (p, want) in [
        ("eq", Prefix::Eq),
        ("ne", Prefix::Ne),
        ("gt", Prefix::Gt),
        ("lt", Prefix::Lt),
        ("ge", Prefix::Ge),
        ("le", Prefix::Le),
        ("sa", Prefix::Sa),
        ("eb", Prefix::Eb),
        ("ap", Prefix::Ap),
    ] {
        let q = ok(Some("Patient"), &format!("birthdate={p}2020-01"));
        match &param(&q, 0).values[0] {
            SearchValue::Date(d) => {
                assert_eq!(d.prefix, want);
                assert_eq!(
                    d.range,
                    crate::datetime::parse_range("2020-01").unwrap_or(d.range)
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let q = ok(Some("RiskAssessment"), "probability=gt0.5");
    match &param(&q, 0).values[0] {
        SearchValue::Number(n) => {
            assert_eq!(n.prefix, Prefix::Gt);
            assert!((n.low - 0.45).abs() < 1e-9 && (n.high - 0.55).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dates_with_zone_plus_sign_and_bad_dates() {
    let q = ok(Some("Patient"), "birthdate=ge2020-01-01T10:00:00+01:00");
    assert!(matches!(&param(&q, 0).values[0], SearchValue::Date(d) if d.prefix == Prefix::Ge));
    assert!(err(Some("Patient"), "birthdate=2020-13").contains("not a valid date"));
    assert!(err(Some("Patient"), "birthdate=xx2020").contains("not a valid date"));
}

#[test]
fn quantities() {
    let q = ok(
        Some("Observation"),
        "value-quantity=le5.4|http://unitsofmeasure.org|mg,5||mg,3",
    );
    let v = &param(&q, 0).values;
    match &v[0] {
        SearchValue::Quantity(x) => {
            assert_eq!(x.prefix, Prefix::Le);
            assert_eq!(x.number.value, 5.4);
            assert_eq!(x.system.as_deref(), Some("http://unitsofmeasure.org"));
            assert_eq!(x.code.as_deref(), Some("mg"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&v[1], SearchValue::Quantity(x) if x.system.is_none() && x.code.as_deref() == Some("mg"))
    );
    assert!(matches!(&v[2], SearchValue::Quantity(x) if x.code.is_none()));
    assert!(err(Some("Observation"), "value-quantity=5|mg").contains("quantity"));
    assert!(err(Some("Observation"), "value-quantity=abc").contains("not a number"));
}

#[test]
fn references() {
    let q = ok(
        Some("Observation"),
        "subject=Patient/1,2,http://x.org/fhir/Patient/3,Patient/4/_history/2&subject:Patient=5",
    );
    assert_eq!(
        param(&q, 0).values,
        vec![
            SearchValue::Reference(ReferenceValue::Local {
                resource_type: Some("Patient".into()),
                id: "1".into(),
                version: None
            }),
            SearchValue::Reference(ReferenceValue::Local {
                resource_type: None,
                id: "2".into(),
                version: None
            }),
            SearchValue::Reference(ReferenceValue::Url("http://x.org/fhir/Patient/3".into())),
            SearchValue::Reference(ReferenceValue::Local {
                resource_type: Some("Patient".into()),
                id: "4".into(),
                version: Some("2".into())
            }),
        ]
    );
    let typed = param(&q, 1);
    assert_eq!(typed.modifier, Some(Modifier::Type("Patient".into())));
    assert_eq!(
        typed.values,
        vec![SearchValue::Reference(ReferenceValue::Local {
            resource_type: Some("Patient".into()),
            id: "5".into(),
            version: None
        })]
    );
    assert!(err(Some("Observation"), "subject:Patient=Group/1").contains("does not match"));
    assert!(err(Some("Observation"), "subject:Medication=1").contains("not allowed"));
    let q = ok(Some("Observation"), "subject:identifier=urn:mrn|123");
    assert!(matches!(&param(&q, 0).values[0], SearchValue::Token(_)));
}

#[test]
fn every_modifier() {
    let cases = [
        ("Patient", "name:exact=Ann", Modifier::Exact),
        ("Patient", "name:contains=nn", Modifier::Contains),
        ("Patient", "name:missing=true", Modifier::Missing),
        ("Observation", "code:not=1", Modifier::Not),
        ("Observation", "code:text=glucose", Modifier::Text),
        (
            "Patient",
            "identifier:of-type=http://s|MR|123",
            Modifier::OfType,
        ),
        ("Observation", "code:in=http://vs", Modifier::In),
        ("Observation", "code:not-in=http://vs", Modifier::NotIn),
        (
            "Observation",
            "code:below=http://snomed.info/sct|123",
            Modifier::Below,
        ),
        ("ValueSet", "url:above=http://x/a/b", Modifier::Above),
        ("ValueSet", "url:below=http://x/a", Modifier::Below),
        (
            "Observation",
            "subject:identifier=a|b",
            Modifier::Identifier,
        ),
        (
            "Observation",
            "subject:Patient=1",
            Modifier::Type("Patient".into()),
        ),
        ("Observation", "date:missing=false", Modifier::Missing),
    ];
    for (rt, query, want) in cases {
        let q = ok(Some(rt), query);
        assert_eq!(param(&q, 0).modifier, Some(want), "{query}");
    }
    let q = ok(Some("Patient"), "identifier:of-type=http://s|MR|123");
    assert_eq!(
        param(&q, 0).values,
        vec![SearchValue::OfType {
            system: "http://s".into(),
            code: "MR".into(),
            value: "123".into()
        }]
    );
    assert!(err(Some("Patient"), "name:missing=maybe").contains("true or false"));
    assert!(err(Some("Patient"), "name:bogus=x").contains("unknown modifier"));
    assert!(err(Some("Patient"), "birthdate:exact=2020").contains("not allowed"));
    assert!(err(Some("Patient"), "identifier:of-type=a|b").contains("system|code|value"));
}

#[test]
fn composites() {
    let q = ok(
        Some("Observation"),
        "code-value-quantity=http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg]",
    );
    match &param(&q, 0).values[0] {
        SearchValue::Composite(parts) => {
            assert_eq!(parts.len(), 2);
            assert!(
                matches!(&parts[0], SearchValue::Token(t) if t.code.as_deref() == Some("8480-6"))
            );
            assert!(matches!(&parts[1], SearchValue::Quantity(x) if x.prefix == Prefix::Gt));
        }
        other => panic!("{other:?}"),
    }
    assert!(err(Some("Observation"), "code-value-quantity=abc").contains("'$'"));
}

#[test]
fn chains_several_levels() {
    let q = ok(Some("Observation"), "subject:Patient.name=peter");
    match &q.filters[0] {
        Filter::Chain {
            param,
            target_types,
            inner,
        } => {
            assert_eq!(param, "subject");
            assert_eq!(target_types, &vec!["Patient".to_string()]);
            assert!(matches!(&**inner, Filter::Param(p) if p.code == "name"));
        }
        other => panic!("{other:?}"),
    }
    let q = ok(Some("Observation"), "patient.organization.name:exact=Acme");
    match &q.filters[0] {
        Filter::Chain { inner, .. } => match &**inner {
            Filter::Chain { param, inner, .. } => {
                assert_eq!(param, "organization");
                assert!(
                    matches!(&**inner, Filter::Param(p) if p.modifier == Some(Modifier::Exact))
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // Without a type, only targets having the parameter are kept.
    let q = ok(Some("Observation"), "subject.birthdate=2000");
    assert!(
        matches!(&q.filters[0], Filter::Chain { target_types, .. } if target_types == &vec!["Patient".to_string()])
    );
    assert!(err(Some("Observation"), "code.name=x").contains("only reference"));
    let deep = "subject:Patient.organization.partof.partof.partof.partof.name=x";
    assert!(err(Some("Observation"), deep).contains("at most"));
}

#[test]
fn reverse_chains_nested() {
    let q = ok(Some("Patient"), "_has:Observation:patient:code=1234");
    match &q.filters[0] {
        Filter::Has {
            resource_type,
            param,
            inner,
        } => {
            assert_eq!(
                (resource_type.as_str(), param.as_str()),
                ("Observation", "patient")
            );
            assert!(matches!(&**inner, Filter::Param(p) if p.code == "code"));
        }
        other => panic!("{other:?}"),
    }
    let q = ok(
        Some("Patient"),
        "_has:Observation:patient:_has:AuditEvent:entity:agent=Practitioner/1",
    );
    assert!(
        matches!(&q.filters[0], Filter::Has { inner, .. } if matches!(&**inner, Filter::Has { .. }))
    );
    assert!(err(Some("Patient"), "_has:Observation:code:code=1").contains("not a reference"));
    assert!(err(Some("Patient"), "_has:Observation=1").contains("_has:Type"));
}

#[test]
fn includes_sort_and_controls() {
    let q = ok(
        Some("Observation"),
        "_include=Observation:patient&_include=Observation:subject:Patient&_include:iterate=Patient:general-practitioner\
         &_revinclude=Provenance:target&_include=*&_sort=-date,code&_count=10&_total=accurate\
         &_summary=count&_elements=id,status&_format=json&_pretty=true",
    );
    assert_eq!(q.includes.len(), 4);
    assert_eq!(q.includes[1].target_type.as_deref(), Some("Patient"));
    assert!(q.includes[2].iterate);
    assert_eq!(q.includes[3].source_type, None);
    assert_eq!(q.revincludes[0].param.as_deref(), Some("target"));
    assert_eq!(
        q.sort,
        vec![
            SortKey {
                param: "date".into(),
                descending: true
            },
            SortKey {
                param: "code".into(),
                descending: false
            }
        ]
    );
    assert_eq!(q.count, Some(10));
    assert_eq!(q.total, Some(Total::Accurate));
    assert_eq!(q.summary, Some(Summary::Count));
    assert_eq!(q.elements, vec!["id", "status"]);
    assert_eq!(q.format.as_deref(), Some("json"));
    assert_eq!(q.pretty, Some(true));
    assert!(err(Some("Observation"), "_count=-1").contains("_count"));
    assert!(err(Some("Observation"), "_total=all").contains("_total"));
    assert!(err(Some("Observation"), "_summary=maybe").contains("_summary"));
    assert!(err(Some("Observation"), "_include=Patient:organization").contains("iterate"));
    assert!(err(Some("Observation"), "_sort=nope").contains("nope"));
}

#[test]
fn system_search_with_type() {
    let q = ok(
        None,
        "_type=Patient,Practitioner&name=smith&_lastUpdated=gt2020",
    );
    assert_eq!(q.types, vec!["Patient", "Practitioner"]);
    assert_eq!(q.filters.len(), 2);
    let q = ok(None, "_id=a,b&_tag=urn:x|y");
    assert_eq!(q.filters.len(), 2);
    assert!(err(None, "name=x").contains("unknown search parameter"));
    assert!(err(Some("Patient"), "_type=Patient").contains("system search"));
    assert!(err(None, "_type=Nope").contains("Nope"));
}

#[test]
fn special_and_text_params() {
    let q = ok(
        Some("Patient"),
        "_text=asthma&_content=cough&_profile=http://p&_security=a|b&_source=http://s",
    );
    assert_eq!(q.filters.len(), 5);
}

#[test]
fn unknown_parameters_by_handling() {
    assert!(err(Some("Patient"), "foo=1").contains("unknown search parameter 'foo'"));
    let q = match parse(Some("Patient"), "foo=1&name=x&_bar=2", Handling::Lenient) {
        Ok(q) => q,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(q.filters.len(), 1);
    assert_eq!(q.warnings.len(), 2);
    assert!(q
        .warnings
        .iter()
        .all(|w| w.severity == concord_fhir::Severity::Warning));
    assert_eq!(q.to_query_string(), "name=x");
    // Invalid values are errors even when lenient.
    assert!(parse(Some("Patient"), "birthdate=nope", Handling::Lenient).is_err());
}

#[test]
fn canonical_query_string() {
    let q = ok(
        Some("Patient"),
        "name=J%C3%B6rg&birthdate=ge2000&_count=5&empty=",
    );
    assert_eq!(
        q.to_query_string(),
        "name=J%C3%B6rg&birthdate=ge2000&_count=5"
    );
}

#[test]
fn hostile_inputs_are_errors_not_panics() {
    let many = vec!["x"; MAX_OR_VALUES + 1].join(",");
    assert!(err(Some("Patient"), &format!("name={many}")).contains("at most"));
    let chain = format!("subject{}=x", ".organization".repeat(20));
    assert!(parse(Some("Observation"), &chain, Handling::Strict).is_err());
    for bad in [
        "name:=x",
        "=x",
        "birthdate=ge",
        "value-quantity=1e999",
        "_has:::=1",
        "subject=Patient/",
        "code=%FF%FE",
        "name='; DROP TABLE resources; --",
    ] {
        let _ = parse(Some("Observation"), bad, Handling::Strict);
        let _ = parse(Some("Patient"), bad, Handling::Lenient);
    }
    assert!(parse(Some("Nope"), "a=b", Handling::Lenient).is_err());
}
