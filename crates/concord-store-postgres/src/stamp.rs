//! Sets `meta.versionId` and `meta.lastUpdated` on a resource and serializes it.

use concord_store::meta::stamp_meta;
use concord_store::StoreError;
use serde_json::Value;

/// Stamps `resource` in place with its new version and instant, and returns the
/// JSON text to store. Other `meta` elements are kept; `meta` is created if absent.
pub(crate) fn stamp(
    resource: &mut Value,
    version: i64,
    last_updated: i64,
) -> Result<String, StoreError> {
    if !resource.is_object() {
        return Err(StoreError::Backend(
            "resource to store is not a JSON object".to_string(),
        ));
    }
    stamp_meta(resource, version, last_updated);
    serde_json::to_string(resource)
        .map_err(|e| StoreError::Backend(format!("cannot serialize resource: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_other_meta_and_decimals() {
        let mut body: Value = serde_json::from_str(
            r#"{"resourceType":"Observation","meta":{"profile":["p"],"versionId":"9"},"value":1.50}"#,
        )
        .unwrap();
        let text = stamp(&mut body, 2, 0).unwrap();
        assert_eq!(
            text,
            r#"{"resourceType":"Observation","meta":{"profile":["p"],"versionId":"2","lastUpdated":"1970-01-01T00:00:00.000Z"},"value":1.50}"#
        );
    }

    #[test]
    fn creates_meta_and_rejects_non_objects() {
        let mut body = json!({"resourceType": "Patient"});
        stamp(&mut body, 1, 1_000).unwrap();
        assert_eq!(body["meta"]["versionId"], "1");
        assert!(stamp(&mut json!([1]), 1, 0).is_err());
    }
}
