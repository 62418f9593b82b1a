//! `meta.versionId` and `meta.lastUpdated` are the store's to set.

use serde_json::{Map, Value};

use crate::timestamp::format_instant;

/// A resource serialized before its version and time are known, with two
/// slots for `meta.versionId` and `meta.lastUpdated`: [`MetaTemplate::fill`]
/// gives exactly the text of [`stamp_meta`] followed by
/// `serde_json::to_string`. A store serializes each resource on the
/// request's thread this way and only fills the slots in its writer, which
/// is the one place writes queue for.
#[derive(Debug, Clone)]
pub struct MetaTemplate {
    text: String,
    /// Byte offsets of the two slots (inside the quotes) in `text`; `None`
    /// for a value that is not a JSON object (nothing to stamp).
    slots: Option<(usize, usize)>,
}

impl MetaTemplate {
    /// Serializes `resource`, with `meta.versionId` and `meta.lastUpdated`
    /// added (empty) where [`stamp_meta`] puts them.
    pub fn new(resource: &mut Value) -> Result<MetaTemplate, serde_json::Error> {
        // Adds the two (empty) elements in place; no change to a non-object.
        stamp_meta_with(resource, String::new(), String::new());
        let mut out: Vec<u8> = Vec::with_capacity(1024);
        let (mut version_at, mut updated_at) = (None, None);
        match resource.as_object() {
            Some(obj) => write_object(&mut out, obj, &mut |out, key, value| match (
                key,
                value.as_object(),
            ) {
                ("meta", Some(meta)) => write_object(out, meta, &mut |out, k, v| match k {
                    "versionId" => slot(out, &mut version_at),
                    "lastUpdated" => slot(out, &mut updated_at),
                    _ => serde_json::to_writer(out, v),
                }),
                _ => serde_json::to_writer(out, value),
            })?,
            None => serde_json::to_writer(&mut out, resource)?,
        }
        // serde_json writes valid UTF-8 only.
        let text = String::from_utf8(out).map_err(serde::ser::Error::custom)?;
        Ok(MetaTemplate {
            text,
            slots: version_at.zip(updated_at),
        })
    }

    /// The JSON text with `version` and `last_updated` (epoch milliseconds)
    /// in the slots.
    pub fn fill(&self, version: i64, last_updated: i64) -> String {
        let Some((v, u)) = self.slots else {
            return self.text.clone();
        };
        let version = version.to_string();
        let updated = format_instant(last_updated);
        // The slots in the order they appear (`meta` may hold them either way).
        let (first, second) = if v < u {
            ((v, &version), (u, &updated))
        } else {
            ((u, &updated), (v, &version))
        };
        let mut out = String::with_capacity(self.text.len() + version.len() + updated.len());
        out.push_str(&self.text[..first.0]);
        out.push_str(first.1);
        out.push_str(&self.text[first.0..second.0]);
        out.push_str(second.1);
        out.push_str(&self.text[second.0..]);
        out
    }
}

/// Writes one member's value of an object (`write_object`).
type WriteMember<'a> = dyn FnMut(&mut Vec<u8>, &str, &Value) -> Result<(), serde_json::Error> + 'a;

/// Writes `map` as a JSON object, each member's value by `value` (in the
/// map's order, as serde_json does).
fn write_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    value: &mut WriteMember<'_>,
) -> Result<(), serde_json::Error> {
    out.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, k)?;
        out.push(b':');
        value(out, k, v)?;
    }
    out.push(b'}');
    Ok(())
}

/// Writes an empty string value and notes the offset inside its quotes.
fn slot(out: &mut Vec<u8>, at: &mut Option<usize>) -> Result<(), serde_json::Error> {
    out.push(b'"');
    *at = Some(out.len());
    out.push(b'"');
    Ok(())
}

/// Sets `meta.versionId` and `meta.lastUpdated` on a resource, keeping the rest of `meta`.
pub fn stamp_meta(resource: &mut Value, version: i64, last_updated: i64) {
    stamp_meta_with(resource, version.to_string(), format_instant(last_updated));
}

fn stamp_meta_with(resource: &mut Value, version: String, last_updated: String) {
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
        meta.insert("versionId".into(), Value::String(version));
        meta.insert("lastUpdated".into(), Value::String(last_updated));
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

    /// The template filled is the text of `stamp_meta` + `to_string`.
    fn same_as_stamped(mut r: Value) {
        let mut stamped = r.clone();
        stamp_meta(&mut stamped, 12, 1_700_000_000_123);
        let expected = serde_json::to_string(&stamped).unwrap();
        let template = MetaTemplate::new(&mut r).unwrap();
        assert_eq!(template.fill(12, 1_700_000_000_123), expected);
    }

    #[test]
    fn template_fills_like_stamp_meta() {
        // No meta, meta without and with the two elements (in either
        // order), escapes in keys and values, a contained resource's meta.
        same_as_stamped(json!({"resourceType": "Patient", "id": "a"}));
        same_as_stamped(json!({"resourceType": "Patient", "meta": {"profile": ["p"]}, "id": "b"}));
        same_as_stamped(json!({"resourceType": "Patient",
            "meta": {"lastUpdated": "2001-01-01T00:00:00Z", "source": "s\"x", "versionId": "7"},
            "name": [{"text": "Ünïcode \u{1} \"quoted\""}]}));
        same_as_stamped(json!({"resourceType": "Observation", "contained": [
            {"resourceType": "Patient", "id": "c", "meta": {"versionId": "3"}}],
            "meta": "not an object", "valueQuantity": {"value": 1.50}}));
        same_as_stamped(json!({"resourceType": "Basic", "k\"ey": {"meta": {"versionId": "x"}}}));
        same_as_stamped(json!(["not", "an", "object"]));
    }
}
