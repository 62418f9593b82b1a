//! Core extension definitions (`defs/extensions.json`): the extensions the
//! R4 specification defines in the `http://hl7.org/fhir/StructureDefinition/`
//! namespace, with the `value[x]` types and the contexts each allows.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

const EXTENSIONS_JSON: &str = include_str!("../../defs/extensions.json");

/// The namespace of the extensions defined by the core specification.
pub const CORE_EXTENSION_NAMESPACE: &str = "http://hl7.org/fhir/StructureDefinition/";

/// One core extension definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionDef {
    pub url: String,
    /// Allowed `value[x]` type codes; `None` when the extension is complex
    /// and must not carry a value (`Extension.value[x]` max 0).
    pub value_types: Option<Vec<String>>,
    /// Context expressions (`context.type` = element): a type name
    /// (`HumanName`, `Element`, `Resource`) or an element path
    /// (`HumanName.family`, `Patient.contact`).
    pub contexts: Vec<String>,
}

impl ExtensionDef {
    /// True when `value_type` (e.g. `url`, `CodeableConcept`) may be used.
    pub fn allows_value_type(&self, value_type: &str) -> bool {
        self.value_types
            .as_ref()
            .is_some_and(|ts| ts.iter().any(|t| t == value_type))
    }
}

fn extensions() -> &'static HashMap<String, ExtensionDef> {
    static EXT: OnceLock<HashMap<String, ExtensionDef>> = OnceLock::new();
    EXT.get_or_init(|| parse(EXTENSIONS_JSON))
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn parse(text: &str) -> HashMap<String, ExtensionDef> {
    let mut out = HashMap::new();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return out;
    };
    let Some(map) = doc.get("extensions").and_then(Value::as_object) else {
        return out;
    };
    for (url, row) in map {
        out.insert(
            url.clone(),
            ExtensionDef {
                url: url.clone(),
                value_types: strings(row.get(0)),
                contexts: strings(row.get(1)).unwrap_or_default(),
            },
        );
    }
    out
}

/// The core extension definition for `url` (without a `|version` suffix).
pub fn extension_definition(url: &str) -> Option<&'static ExtensionDef> {
    extensions().get(url)
}

/// True for URLs in the core extension namespace (which the specification
/// owns: any extension there must be one it defines).
pub fn is_core_extension_url(url: &str) -> bool {
    url.starts_with(CORE_EXTENSION_NAMESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_core_extensions() {
        let link =
            extension_definition("http://hl7.org/fhir/StructureDefinition/narrativeLink").unwrap();
        assert!(link.allows_value_type("url"));
        assert!(!link.allows_value_type("uri"));
        assert_eq!(link.contexts, ["Element"]);
        let mothers = extension_definition(
            "http://hl7.org/fhir/StructureDefinition/humanname-mothers-family",
        )
        .unwrap();
        assert_eq!(mothers.contexts, ["HumanName.family"]);
        let race =
            extension_definition("http://hl7.org/fhir/StructureDefinition/patient-birthPlace")
                .unwrap();
        assert!(race.allows_value_type("Address"));
        assert!(extension_definition("http://hl7.org/fhir/StructureDefinition/nope").is_none());
        assert!(is_core_extension_url(
            "http://hl7.org/fhir/StructureDefinition/nope"
        ));
        assert!(!is_core_extension_url(
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
        ));
    }
}
