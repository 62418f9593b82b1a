use super::*;
use crate::query::{parse, Handling};
use concord_store::search::{CmpOp, Column, LikePart, RowTest, SortBy, SqlValue};

fn cx() -> PlanContext {
    PlanContext {
        base_url: "http://concord.test/fhir".into(),
        now: 1_700_000_000_000,
    }
}

fn plan(rt: &str, q: &str) -> SearchPlan {
    let query = parse(Some(rt), q, Handling::Strict).expect("parses");
    lower(&query, 10, &cx()).expect("lowers")
}

#[test]
fn token_values_or_together_in_one_row_condition() {
    let p = plan("Observation", "code=http://loinc.org|1234-5,999");
    let [Condition::Row {
        table,
        param,
        test,
        negate,
    }] = p.conditions.as_slice()
    else {
        panic!("one row condition: {:?}", p.conditions)
    };
    assert_eq!(
        (*table, param.as_str(), *negate),
        (IndexTable::Token, "code", false)
    );
    let RowTest::Or(alts) = test else { panic!() };
    assert_eq!(alts.len(), 2);
    assert_eq!(
        alts[0],
        RowTest::And(vec![
            RowTest::Cmp(Column::Code, CmpOp::Eq, SqlValue::Text("1234-5".into())),
            RowTest::Cmp(
                Column::System,
                CmpOp::Eq,
                SqlValue::Text("http://loinc.org".into())
            ),
        ])
    );
}

#[test]
fn local_absolute_reference_becomes_type_and_id() {
    let p = plan("Observation", "subject=http://concord.test/fhir/Patient/7");
    let Condition::Row { test, .. } = &p.conditions[0] else {
        panic!()
    };
    assert_eq!(
        test,
        &RowTest::Or(vec![RowTest::And(vec![
            RowTest::Cmp(Column::TargetId, CmpOp::Eq, SqlValue::Text("7".into())),
            RowTest::Cmp(
                Column::TargetType,
                CmpOp::Eq,
                SqlValue::Text("Patient".into())
            ),
        ])])
    );
}

#[test]
fn quantity_with_ucum_unit_also_matches_canonical_rows() {
    let p = plan(
        "Observation",
        "value-quantity=5000|http://unitsofmeasure.org|mg",
    );
    let [Condition::Any(forms)] = p.conditions.as_slice() else {
        panic!("as written or canonical: {:?}", p.conditions)
    };
    let [Condition::Row { param: written, .. }, Condition::Row {
        param: canon, test, ..
    }] = forms.as_slice()
    else {
        panic!("{forms:?}")
    };
    assert_eq!(
        (written.as_str(), canon.as_str()),
        ("value-quantity", "value-quantity:canonical")
    );
    let RowTest::Or(alts) = test else { panic!() };
    let RowTest::And(canonical) = &alts[0] else {
        panic!()
    };
    assert!(canonical.contains(&RowTest::Cmp(
        Column::Code,
        CmpOp::Eq,
        SqlValue::Text("g".into())
    )));
    // Without a unit only the values as recorded are compared.
    let p = plan("Observation", "value-quantity=gt50");
    assert!(matches!(&p.conditions[0], Condition::Row { param, .. } if param == "value-quantity"));
}

#[test]
fn chains_and_has_nest_conditions() {
    let p = plan("Observation", "subject:Patient.name=smith");
    assert!(
        matches!(&p.conditions[0], Condition::Chain { param, target_types, inner }
        if param == "subject" && target_types == &["Patient".to_string()] && inner.len() == 1)
    );
    let p = plan("Patient", "_has:Observation:patient:code=1234-5");
    assert!(
        matches!(&p.conditions[0], Condition::Has { source_type, param, .. }
        if source_type == "Observation" && param == "patient")
    );
}

#[test]
fn sorts_by_index_columns_and_resource_columns() {
    let p = plan("Observation", "_sort=-date,_id");
    assert_eq!(p.sort.len(), 2);
    assert!(p.sort[0].descending);
    assert!(matches!(
        &p.sort[0].by,
        SortBy::Index {
            column: Column::Low,
            column_desc: Column::High,
            ..
        }
    ));
    assert_eq!(p.sort[1].by, SortBy::Id);
}

#[test]
fn one_name_prefix_without_sort_orders_by_the_matched_name() {
    let p = plan("Patient", "gender=female&name=Smi");
    let [sort] = p.sort.as_slice() else {
        panic!("one sort key: {:?}", p.sort)
    };
    assert!(!sort.descending);
    assert_eq!(
        sort.by,
        SortBy::Matched {
            param: "name".into(),
            test: RowTest::Or(vec![RowTest::StartsWith(Column::ValueNorm, "smi".into())]),
        }
    );
    // Several values, :exact, :contains, an explicit _sort and a system
    // search keep their order (none: type and id; or the one asked for).
    for (rt, q) in [
        ("Patient", "name=smi,jo"),
        ("Patient", "name:exact=Smith"),
        ("Patient", "name:contains=mit"),
        ("Patient", "gender=female"),
    ] {
        assert!(plan(rt, q).sort.is_empty(), "{rt}?{q}");
    }
    assert_eq!(plan("Patient", "name=smi&_sort=_id").sort[0].by, SortBy::Id);
    let query = parse(
        None,
        "_type=Patient,Practitioner&name=smi",
        Handling::Strict,
    )
    .expect("parses");
    assert!(lower(&query, 10, &cx()).expect("lowers").sort.is_empty());
}

#[test]
fn union_parameters_read_their_parts_rows() {
    // combo-code = code | component-code: any part matches…
    let p = plan("Observation", "combo-code=http://loinc.org|8480-6");
    let [Condition::Any(parts)] = p.conditions.as_slice() else {
        panic!("{:?}", p.conditions)
    };
    let params: Vec<&str> = parts
        .iter()
        .filter_map(|c| match c {
            Condition::Row { param, .. } => Some(param.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(params, ["code", "component-code"]);
    // …but "no matching value" needs it of every part (flattened to two
    // top-level conditions).
    for q in ["combo-code:not=x", "combo-code:missing=true"] {
        let p = plan("Observation", q);
        assert_eq!(p.conditions.len(), 2, "{q}: {:?}", p.conditions);
        assert!(
            !p.conditions.iter().any(|c| matches!(c, Condition::Any(_))),
            "{q}"
        );
    }
    // Sorting by a union is refused with its parts named.
    let query = parse(Some("Observation"), "_sort=combo-code", Handling::Strict).expect("parses");
    let err = lower(&query, 10, &cx()).expect_err("refused");
    assert!(
        err[0].diagnostics.contains("code, component-code"),
        "{err:?}"
    );
}

#[test]
fn unknown_value_set_is_a_clear_error() {
    let query = parse(
        Some("Observation"),
        "code:in=http://example.org/vs",
        Handling::Strict,
    )
    .expect("parses");
    let err = lower(&query, 10, &cx()).expect_err("unknown value set");
    assert!(err[0].diagnostics.contains("not known"), "{err:?}");
    let known = parse(
        Some("Patient"),
        "gender:in=http://hl7.org/fhir/ValueSet/administrative-gender",
        Handling::Strict,
    )
    .expect("parses");
    assert!(lower(&known, 10, &cx()).is_ok());
}

#[test]
fn missing_on_id_is_always_or_never() {
    assert_eq!(
        plan("Patient", "_id:missing=true").conditions,
        vec![Condition::Never]
    );
    assert_eq!(
        plan("Patient", "_id:missing=false").conditions,
        vec![Condition::Always]
    );
}

#[test]
fn composite_on_the_resource_splits_into_components() {
    for q in [
        "code-value-quantity=http://loinc.org|29463-7$185",
        "code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|266919005",
    ] {
        // One value: its components become top-level conditions (each may drive).
        let p = plan("Observation", q);
        assert_eq!(p.conditions.len(), 2, "{q}: {:?}", p.conditions);
        assert!(
            matches!(&p.conditions[0], Condition::Row { param, .. } if param == "code"),
            "{q}"
        );
    }
    let two = plan(
        "Observation",
        "code-value-quantity=http://loinc.org|1-1$5,http://loinc.org|2-2$6",
    );
    assert!(
        matches!(two.conditions.as_slice(), [Condition::Any(alts)] if alts.len() == 2),
        "{:?}",
        two.conditions
    );
    let missing = plan("Observation", "code-value-quantity:missing=false");
    assert!(
        matches!(
            missing.conditions.as_slice(),
            [
                Condition::Present { present: true, .. },
                Condition::Present { present: true, .. }
            ]
        ),
        "{:?}",
        missing.conditions
    );
    // `code-value-string` keeps its rows: `value-string` also reads text.
    let string = plan("Observation", "code-value-string=http://loinc.org|1-1$abc");
    assert!(
        matches!(string.conditions.as_slice(), [Condition::Row { param, .. }] if param == "code-value-string"),
        "{:?}",
        string.conditions
    );
}

#[test]
fn prefixed_composite_on_the_resource_splits_into_components() {
    let p = plan(
        "Observation",
        "code-value-quantity=http://loinc.org|29463-7$gt80",
    );
    assert_eq!(p.conditions.len(), 2, "{:?}", p.conditions);
    assert!(matches!(&p.conditions[0], Condition::Row { param, .. } if param == "code"));
}

#[test]
fn prefixed_composite_over_repeating_elements_compares_the_stored_number() {
    // Without a unit: the text up to the number, any unit, and `number > 120`
    // on the same row — the as-written rows only.
    let p = plan(
        "Observation",
        "component-code-value-quantity=http://loinc.org|8480-6$gt120",
    );
    let [Condition::Row {
        table: IndexTable::Composite,
        param,
        test,
        negate: false,
    }] = p.conditions.as_slice()
    else {
        panic!("one composite row condition: {:?}", p.conditions)
    };
    assert_eq!(param, "component-code-value-quantity");
    assert_eq!(
        test,
        &RowTest::Or(vec![RowTest::And(vec![
            RowTest::Like(
                Column::Value,
                vec![
                    LikePart::Literal("http://loinc.org|8480-6".into()),
                    LikePart::Literal("$".into()),
                    LikePart::AnyRun,
                    LikePart::Literal("|".into()),
                    LikePart::AnyRun,
                    LikePart::Literal("|".into()),
                    LikePart::AnyRun,
                ]
            ),
            RowTest::Cmp(Column::Number, CmpOp::Gt, SqlValue::Real(120.0)),
        ])])
    );
    // With a UCUM unit that converts: as written, or in canonical units
    // against the `:canonical` rows.
    let p = plan(
        "Observation",
        "component-code-value-quantity=http://loinc.org|2339-0$ge5|http://unitsofmeasure.org|g",
    );
    let [Condition::Any(alts)] = p.conditions.as_slice() else {
        panic!("written or canonical: {:?}", p.conditions)
    };
    let params: Vec<&str> = alts
        .iter()
        .filter_map(|c| match c {
            Condition::Row { param, .. } => Some(param.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        params,
        vec![
            "component-code-value-quantity",
            "component-code-value-quantity:canonical"
        ]
    );
    // Equality also uses the number's precision range (120 matches 120.4).
    let p = plan(
        "Observation",
        "component-code-value-quantity=http://loinc.org|8480-6$120",
    );
    let Condition::Row { test, .. } = &p.conditions[0] else {
        panic!()
    };
    let RowTest::Or(alts) = test else { panic!() };
    let RowTest::And(parts) = &alts[0] else {
        panic!()
    };
    assert_eq!(
        parts[1],
        RowTest::And(vec![
            RowTest::Cmp(Column::Number, CmpOp::Ge, SqlValue::Real(119.5)),
            RowTest::Cmp(Column::Number, CmpOp::Lt, SqlValue::Real(120.5)),
        ])
    );
}
