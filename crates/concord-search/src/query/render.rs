//! The canonical query string of a parsed search (for `self` links): the
//! accepted parameters in request order, dropped ones left out, re-encoded.

use super::model::SearchQuery;

impl SearchQuery {
    /// `name=value&…` of the accepted parameters (form-urlencoded).
    pub fn to_query_string(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.canonical {
            s.append_pair(name, value);
        }
        s.finish()
    }

    /// The accepted `(name, value)` pairs, decoded, in request order.
    pub fn accepted(&self) -> &[(String, String)] {
        &self.canonical
    }
}
