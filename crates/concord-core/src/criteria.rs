//! Conditional-operation criteria (`If-None-Exist`, `PUT/DELETE Type?…`).
//! Until full search lands: `_id` and `identifier` (token forms `code`,
//! `system|code`, `|code`).

use concord_store::Criterion;

use crate::{CoreError, CoreResult};

/// Parses a query string like `identifier=http://x|123&_id=a` into criteria.
pub fn parse_criteria(query: &str) -> CoreResult<Vec<Criterion>> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut criteria = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.starts_with('_') && matches!(name.as_ref(), "_format" | "_pretty" | "_summary") {
            continue;
        }
        if value.is_empty() {
            return Err(CoreError::bad_request(format!(
                "conditional criterion '{name}' has no value"
            )));
        }
        match name.as_ref() {
            "_id" => criteria.push(Criterion::Id(value.into_owned())),
            "identifier" => {
                let (system, code) = match value.split_once('|') {
                    Some((s, c)) => (Some(s.to_string()), c.to_string()),
                    None => (None, value.to_string()),
                };
                if code.is_empty() {
                    return Err(CoreError::NotSupported(
                        "identifier criteria need a value (system| alone is not supported yet)"
                            .into(),
                    ));
                }
                criteria.push(Criterion::Token {
                    param: "identifier".into(),
                    system,
                    code,
                });
            }
            other => {
                return Err(CoreError::NotSupported(format!(
                    "conditional criterion '{other}' is not supported yet (use _id or identifier)"
                )))
            }
        }
    }
    if criteria.is_empty() {
        return Err(CoreError::bad_request(
            "conditional operation without criteria",
        ));
    }
    Ok(criteria)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_identifier_forms_and_id() {
        let c = parse_criteria("identifier=http%3A%2F%2Fx%7C123&_id=a").unwrap();
        assert_eq!(
            c,
            vec![
                Criterion::Token {
                    param: "identifier".into(),
                    system: Some("http://x".into()),
                    code: "123".into()
                },
                Criterion::Id("a".into())
            ]
        );
        let c = parse_criteria("identifier=|9").unwrap();
        assert!(matches!(&c[0], Criterion::Token { system: Some(s), .. } if s.is_empty()));
        let c = parse_criteria("identifier=9").unwrap();
        assert!(matches!(&c[0], Criterion::Token { system: None, .. }));
    }

    #[test]
    fn rejects_unknown_and_empty() {
        assert!(matches!(
            parse_criteria("name=x"),
            Err(CoreError::NotSupported(_))
        ));
        assert!(matches!(parse_criteria(""), Err(CoreError::BadRequest(_))));
        assert!(matches!(
            parse_criteria("_id="),
            Err(CoreError::BadRequest(_))
        ));
    }
}
