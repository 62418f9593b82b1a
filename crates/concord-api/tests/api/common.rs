//! Small helpers shared by the API tests.

pub use concord_testkit::TestApp;
use reqwest::header::HeaderMap;
pub use reqwest::Method;
use reqwest::RequestBuilder;
use serde_json::Value;

pub const FHIR_JSON: &str = "application/fhir+json";

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a FHIR OperationOutcome body with at least one issue, each with
    /// a severity and a code; returns the joined diagnostics.
    #[track_caller]
    pub fn outcome(&self) -> String {
        assert_eq!(
            self.json["resourceType"],
            "OperationOutcome",
            "expected an OperationOutcome (status {}), got: {}",
            self.status,
            short(&self.text)
        );
        let ct = self.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with(FHIR_JSON),
            "an OperationOutcome goes out as {FHIR_JSON}, not '{ct}'"
        );
        let issues = self.json["issue"].as_array().expect("issue array");
        assert!(!issues.is_empty(), "an OperationOutcome needs an issue");
        for i in issues {
            assert!(i["severity"].is_string() && i["code"].is_string(), "{i}");
        }
        issues
            .iter()
            .filter_map(|i| i["diagnostics"].as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// Asserts the status and that the body is an OperationOutcome.
    #[track_caller]
    pub fn expect_error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "body: {}", short(&self.text));
        self.outcome()
    }
}

pub fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

pub async fn send(rb: RequestBuilder) -> Resp {
    let r = rb.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("a readable body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

pub fn req(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, app.url(path))
}

/// A request with a FHIR JSON body.
pub fn with_body(app: &TestApp, method: Method, path: &str, body: &Value) -> RequestBuilder {
    req(app, method, path)
        .header("content-type", FHIR_JSON)
        .body(body.to_string())
}

pub async fn get(app: &TestApp, path: &str) -> Resp {
    send(req(app, Method::GET, path)).await
}

pub async fn post(app: &TestApp, path: &str, body: &Value) -> Resp {
    send(with_body(app, Method::POST, path, body)).await
}

pub async fn put(app: &TestApp, path: &str, body: &Value) -> Resp {
    send(with_body(app, Method::PUT, path, body)).await
}

pub async fn delete(app: &TestApp, path: &str) -> Resp {
    send(req(app, Method::DELETE, path)).await
}

/// PUTs `body` as `Type/id` (created or updated), failing the test otherwise.
pub async fn put_with_id(app: &TestApp, resource_type: &str, id: &str, mut body: Value) {
    body["id"] = serde_json::json!(id);
    let r = put(app, &format!("{resource_type}/{id}"), &body).await;
    assert!(
        r.status == 200 || r.status == 201,
        "{resource_type}/{id}: {}",
        short(&r.text)
    );
}

/// Creates a resource with POST and returns its server-assigned id.
pub async fn create(app: &TestApp, body: &Value) -> String {
    let rt = body["resourceType"].as_str().expect("resourceType");
    let r = post(app, rt, body).await;
    assert_eq!(r.status, 201, "create {rt}: {}", short(&r.text));
    r.json["id"].as_str().expect("id").to_string()
}

/// The store context of the API's requests (`AppState::context`: default tenant).
/// Live resources of one type, straight from the store.
pub async fn count_type(app: &TestApp, rt: &str) -> u64 {
    app.engine
        .store()
        .count_by_type(&app.context())
        .await
        .expect("count_by_type")
        .into_iter()
        .find(|(t, _)| t == rt)
        .map_or(0, |(_, n)| n)
}

/// Versions in the system history (every write ever committed).
pub async fn history_total(app: &TestApp, path: &str) -> u64 {
    let r = get(app, path).await;
    assert_eq!(r.status, 200, "{}", short(&r.text));
    r.json["total"].as_u64().expect("history total")
}

/// The server still answers `/metadata`.
#[track_caller]
pub fn assert_alive_sync(r: &Resp) {
    assert_eq!(
        r.status,
        200,
        "metadata after hostile input: {}",
        short(&r.text)
    );
    assert_eq!(r.json["resourceType"], "CapabilityStatement");
}

pub async fn assert_alive(app: &TestApp) {
    let r = get(app, "metadata").await;
    assert_alive_sync(&r);
}

/// A resource without `meta.versionId` / `meta.lastUpdated` (and without `meta`
/// if nothing else is left in it): what "semantically equal" compares.
pub fn without_server_meta(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        let empty = match obj.get_mut("meta").and_then(Value::as_object_mut) {
            Some(meta) => {
                meta.remove("versionId");
                meta.remove("lastUpdated");
                meta.is_empty()
            }
            None => false,
        };
        if empty {
            obj.remove("meta");
        }
    }
    v
}

pub fn patient(family: &str) -> Value {
    serde_json::json!({"resourceType": "Patient", "name": [{"family": family}]})
}

/// Ids of the `match` entries of a searchset, in order.
pub fn ids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", short(&r.text));
    assert_eq!(r.json["type"], "searchset");
    r.json["entry"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["search"]["mode"] == "match")
                .map(|e| e["resource"]["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

pub fn link(r: &Resp, rel: &str) -> Option<String> {
    r.json["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == rel)
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

/// Every match of `query`, following `next` links (pages of `count`).
pub async fn all_pages(app: &TestApp, query: &str, count: usize) -> Vec<String> {
    let mut url = app.url(&format!("{query}&_count={count}"));
    let mut seen = Vec::new();
    loop {
        let r = get_url(&url).await;
        let page = ids(&r);
        assert!(page.len() <= count);
        seen.extend(page);
        match link(&r, "next") {
            Some(n) => url = n,
            None => return seen,
        }
    }
}

pub async fn get_url(url: &str) -> Resp {
    send(reqwest::Client::new().get(url)).await
}
