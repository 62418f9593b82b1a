//! `meta.versionId` and `meta.lastUpdated` are the store's to set.

use serde_json::{Map, Value};

use crate::timestamp::format_instant;

/// Sets `meta.versionId` and `meta.lastUpdated` on a resource, keeping the rest of `meta`.
pub fn stamp_meta(resource: &mut Value, version: i64, last_updated: i64) {
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("versionId".into(), Value::String(version.to_string()));
        meta.insert(
            "lastUpdated".into(),
            Value::String(format_instant(last_updated)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_other_meta() {
        let mut r =
            json!({"resourceType": "Patient", "meta": {"profile": ["x"], "versionId": "9"}});
        stamp_meta(&mut r, 2, 0);
        assert_eq!(r["meta"]["versionId"], "2");
        assert_eq!(r["meta"]["profile"][0], "x");
        assert_eq!(r["meta"]["lastUpdated"], "1970-01-01T00:00:00.000Z");
    }
}
