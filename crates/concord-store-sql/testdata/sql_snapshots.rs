// The search SQL of representative queries, pinned by insta snapshots in
// each backend (`src/snapshots/`). Both backends `include!` this file after
// importing their `DIALECT`, so the cases are written once; a change to the
// SQL shows up as a snapshot diff to review (`cargo insta review`, or
// `INSTA_UPDATE=always` to rewrite).
use concord_search::plan::{lower, PlanContext};
use concord_search::query::{parse, Handling};
use concord_store::search::{PageKey, PageStart, SqlValue};
use concord_store_sql::{count_sql, search_sql};

/// Snapshots stay in the including backend's `src/snapshots/` (insta would
/// otherwise look next to this shared file).
fn in_backend_snapshots(assertions: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/src/snapshots"));
    settings.bind(assertions);
}

const QUERIES: &[(&str, &str)] = &[
    ("name", "Patient?name=smi"),
    ("name_where_a_reference_drives", "Patient?organization=Organization/o1&name=smi"),
    ("birthdate_ge", "Patient?birthdate=ge1980-01-01"),
    ("patient_code_sorted", "Observation?patient=Patient/p1&code=http://loinc.org|8867-4&_sort=-date&_count=10"),
    ("code_value_quantity", "Observation?code=http://loinc.org|8480-6&value-quantity=gt140|http://unitsofmeasure.org|mm[Hg]"),
    ("chain", "Encounter?patient.name=smith"),
    ("has", "Patient?_has:Observation:patient:code=1234-5"),
    ("token_not_or", "Patient?gender:not=male,female"),
    ("string_exact_contains", "Patient?family:exact=Smith&given:contains=ann"),
    ("missing_and_composite", "Observation?value-quantity:missing=true&code-value-quantity=http://loinc.org|8480-6$120"),
    ("union_parameter", "Observation?combo-code=http://loinc.org|8480-6&combo-code-value-quantity=http://loinc.org|8480-6$gt120"),
    ("component_composite", "Observation?component-code-value-quantity=http://loinc.org|8480-6$120"),
    ("component_composite_prefix_in_units", "Observation?component-code-value-quantity=http://loinc.org|8480-6$gt16|http://unitsofmeasure.org|kPa"),
    ("uri_below_above", "ValueSet?url:below=http://hl7.org/fhir&reference:above=http://hl7.org/fhir/ValueSet/x"),
];

fn render(label: &str, url: &str) -> String {
    let (rt, q) = url.split_once('?').unwrap_or((url, ""));
    let query = parse(Some(rt), q, Handling::Strict).unwrap_or_else(|e| panic!("{label}: {e:?}"));
    let cx = PlanContext {
        base_url: "http://concord.test".into(),
        now: 1_700_000_000_000,
    };
    let plan = lower(&query, 10, &cx).unwrap_or_else(|e| panic!("{label}: {e:?}"));
    let page = search_sql(&DIALECT, "t", &plan);
    let count = count_sql(&DIALECT, "t", &plan);
    format!(
        "-- {url}\n{}\n-- params: {:?}\n-- count:\n{}\n",
        page.text, page.params, count.text
    )
}

#[test]
fn search_sql_snapshots() {
    in_backend_snapshots(|| {
        for (label, url) in QUERIES {
            insta::assert_snapshot!(*label, render(label, url));
        }
    });
}

#[test]
fn next_page_sql_snapshot() {
    let query =
        parse(Some("Patient"), "_sort=family,-birthdate", Handling::Strict).expect("parses");
    let cx = PlanContext {
        base_url: String::new(),
        now: 0,
    };
    let mut plan = lower(&query, 20, &cx).expect("lowers");
    plan.start = PageStart::After(PageKey {
        sort: vec![SqlValue::Text("smith".into()), SqlValue::Int(0)],
        resource_type: "Patient".into(),
        id: "p9".into(),
    });
    in_backend_snapshots(|| {
        insta::assert_snapshot!("next_page", search_sql(&DIALECT, "t", &plan).text);
    });
}

#[test]
fn name_next_page_sql_snapshot() {
    let query = parse(Some("Patient"), "name=smi&gender=female", Handling::Strict).expect("parses");
    let cx = PlanContext {
        base_url: String::new(),
        now: 0,
    };
    let mut plan = lower(&query, 20, &cx).expect("lowers");
    plan.start = PageStart::After(PageKey {
        sort: vec![SqlValue::Text("smith".into())],
        resource_type: "Patient".into(),
        id: "p9".into(),
    });
    in_backend_snapshots(|| {
        insta::assert_snapshot!("name_next_page", search_sql(&DIALECT, "t", &plan).text);
    });
}

#[test]
fn broad_driver_sql_snapshot() {
    let query = parse(
        Some("Observation"),
        "code=http://loinc.org|8480-6&value-quantity=gt150",
        Handling::Strict,
    )
    .expect("parses");
    let cx = PlanContext {
        base_url: String::new(),
        now: 0,
    };
    let plan = lower(&query, 20, &cx).expect("lowers");
    let estimate = concord_store_sql::driver_estimate_sql(&DIALECT, "t", &plan, 2000)
        .expect("a plain token drives and another condition could narrow");
    let scan = concord_store_sql::search_sql_with(&DIALECT, "t", &plan, true);
    in_backend_snapshots(|| {
        insta::assert_snapshot!(
            "broad_driver",
            format!("{}\n-- scan:\n{}", estimate.text, scan.text)
        );
    });
    // A single condition, or a selective driver, needs no estimate.
    let one = lower(
        &parse(Some("Observation"), "code=8480-6", Handling::Strict).expect("parses"),
        20,
        &cx,
    )
    .expect("lowers");
    assert!(concord_store_sql::driver_estimate_sql(&DIALECT, "t", &one, 2000).is_none());
}

#[test]
fn care_team_sql_snapshot() {
    use concord_store::search::Condition;
    // An access policy's care team (several patients, or none of any):
    // the patients become one compartment probe against a list.
    let query = parse(Some("Observation"), "code=8480-6", Handling::Strict).expect("parses");
    let cx = PlanContext {
        base_url: String::new(),
        now: 0,
    };
    let mut plan = lower(&query, 20, &cx).expect("lowers");
    let patient = |id: &str| Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: id.into(),
    };
    plan.conditions.push(Condition::Any(vec![
        patient("p1"),
        patient("p2"),
        patient("p3"),
        Condition::Not(Box::new(Condition::InCompartmentOfType {
            compartment_type: "Patient".into(),
        })),
    ]));
    let sql = search_sql(&DIALECT, "t", &plan);
    in_backend_snapshots(|| {
        insta::assert_snapshot!("care_team", format!("{}\n-- params: {:?}", sql.text, sql.params));
    });
}

#[test]
fn everything_page_sql_snapshot() {
    use concord_store::search::{Condition, SearchPlan};
    // `Patient/p1/$everything`: the compartment's many types are tested on
    // the compartment rows, not sought one by one on the resources key; a
    // few types (`_type=Observation,Encounter`) still are.
    let types: Vec<String> = ["Encounter", "Observation", "Patient", "Condition", "Procedure"]
        .iter()
        .chain(&["Immunization", "MedicationRequest", "CarePlan", "Goal"])
        .map(|t| t.to_string())
        .collect();
    let compartment = Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: "p1".into(),
    };
    let mut many = SearchPlan::new(types.clone(), 50);
    many.conditions.push(compartment.clone());
    let mut few = SearchPlan::new(types[..2].to_vec(), 50);
    few.conditions.push(compartment);
    let (many, few) = (search_sql(&DIALECT, "t", &many), search_sql(&DIALECT, "t", &few));
    in_backend_snapshots(|| {
        insta::assert_snapshot!(
            "everything_page",
            format!("-- 9 types:\n{}\n-- 2 types:\n{}", many.text, few.text)
        );
    });
}
