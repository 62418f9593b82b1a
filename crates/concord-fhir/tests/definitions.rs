//! The public definitions API, as other crates use it.

use concord_fhir::definitions::{
    code_in_value_set, definitions, element_by_path, search_parameters_for, Kind,
};

#[test]
fn every_resource_type_has_a_definition_and_types_resolve() {
    let defs = definitions();
    for t in concord_fhir::RESOURCE_TYPES {
        let def = defs.resource(t).expect("resource definition");
        assert_eq!(def.kind, Kind::Resource);
        assert!(def.element("id").is_some(), "{t}.id");
        for el in &def.elements {
            for ty in &el.types {
                assert!(
                    ty == "Resource" || defs.type_def(ty).is_some(),
                    "{t}.{}: unknown type {ty}",
                    el.path
                );
            }
        }
    }
}

#[test]
fn paths_bindings_and_search_parameters() {
    let (el, ty) = element_by_path("Bundle.entry.resource").expect("entry.resource");
    assert_eq!((el.max, ty), (Some(1), "Resource"));
    let (el, _) = element_by_path("Observation.status").expect("status");
    let vs = el.required_binding.as_deref().expect("required binding");
    assert_eq!(code_in_value_set(vs, None, "final"), Some(true));
    assert_eq!(code_in_value_set(vs, None, "done"), Some(false));
    assert!(search_parameters_for("Observation").any(|p| p.code == "code" && p.kind == "token"));
}
