//! SearchParameters of the base specification (`defs/searchparams.json`).

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

const SEARCHPARAMS_JSON: &str = include_str!("../../defs/searchparams.json");

/// One composite component: the component's SearchParameter URL and its expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParamComponent {
    pub definition: String,
    pub expression: String,
}

/// A base-spec SearchParameter in compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParam {
    pub code: String,
    /// Resource types this parameter applies to (`Resource` / `DomainResource` for all).
    pub base: Vec<String>,
    /// number | date | string | token | reference | composite | quantity | uri | special.
    pub kind: String,
    /// FHIRPath expression (absent for a few special parameters).
    pub expression: Option<String>,
    /// Reference targets, for `reference` parameters.
    pub target: Vec<String>,
    pub components: Vec<SearchParamComponent>,
    pub url: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn parse(json: &str) -> Vec<SearchParam> {
    let Ok(doc) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let Some(rows) = doc.get("params").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .map(|r| SearchParam {
            code: text(r.get(0)).unwrap_or_default(),
            base: strings(r.get(1)),
            kind: text(r.get(2)).unwrap_or_default(),
            expression: text(r.get(3)),
            target: strings(r.get(4)),
            components: r
                .get(5)
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| SearchParamComponent {
                            definition: text(c.get(0)).unwrap_or_default(),
                            expression: text(c.get(1)).unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            url: text(r.get(6)).unwrap_or_default(),
        })
        .collect()
}

/// Every SearchParameter of the base R4 specification, sorted by code then URL.
pub fn search_parameters() -> &'static [SearchParam] {
    static SP: OnceLock<Vec<SearchParam>> = OnceLock::new();
    SP.get_or_init(|| parse(SEARCHPARAMS_JSON))
}

/// The base-spec SearchParameter with canonical `url` (a `|version` suffix is ignored).
pub fn search_parameter_by_url(url: &str) -> Option<&'static SearchParam> {
    static BY_URL: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let map = BY_URL.get_or_init(|| {
        search_parameters()
            .iter()
            .enumerate()
            .map(|(i, p)| (p.url.as_str(), i))
            .collect()
    });
    let url = url.split('|').next().unwrap_or(url);
    map.get(url).and_then(|&i| search_parameters().get(i))
}

/// The parameters that apply to `resource_type`, including those based on
/// `Resource` and `DomainResource`.
pub fn search_parameters_for(
    resource_type: &str,
) -> impl Iterator<Item = &'static SearchParam> + '_ {
    search_parameters().iter().filter(move |p| {
        p.base
            .iter()
            .any(|b| b == resource_type || b == "Resource" || b == "DomainResource")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_parameters() {
        let all = search_parameters();
        assert!(all.len() > 1000);
        let birth = search_parameters_for("Patient")
            .find(|p| p.code == "birthdate")
            .map(|p| p.kind.as_str());
        assert_eq!(birth, Some("date"));
        assert!(search_parameters_for("Patient").any(|p| p.code == "_id"));
        let composite = all
            .iter()
            .find(|p| p.code == "code-value-quantity")
            .map(|p| p.components.len());
        assert_eq!(composite, Some(2));
        let name =
            search_parameter_by_url("http://hl7.org/fhir/SearchParameter/Organization-name|4.0.1")
                .map(|p| (p.kind.as_str(), p.base.clone()));
        assert_eq!(name, Some(("string", vec!["Organization".to_string()])));
    }
}
