//! `GET /Patient/{id}/$access-log`: who looked at or changed this patient's
//! record, newest first — JSON (for the portal) or, with `Accept: text/html`
//! or `_format=html`, a page in plain words ("Dr. Jane Smith (physician)
//! viewed your lab results on 25 Nov 2026 at 14:02"). Names come from the
//! user account, else the Practitioner the account names.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use concord_core::search::SearchRequest;
use concord_core::Handling;
use concord_store::TenantContext;
use serde_json::{json, Value};

use crate::auth::pages::esc;
use crate::request_id::RequestId;
use crate::response::{base_url, json_response};
use crate::{ApiError, AppState};

/// Most events shown.
const LIMIT: &str = "500";

/// One line of the log.
struct Line {
    who: String,
    role: Option<String>,
    verb: &'static str,
    what: String,
    recorded: String,
    outcome: String,
}

fn verb(action: &str, subtype: &str) -> &'static str {
    match (action, subtype) {
        (_, "search-type" | "search-system") => "searched",
        ("C", _) => "added to",
        ("U", _) => "changed",
        ("D", _) => "deleted from",
        ("E", _) => "ran an operation on",
        _ => "viewed",
    }
}

/// A resource type in words ("MedicationRequest" → "medication requests").
fn words(rtype: &str) -> String {
    match rtype {
        "Patient" => "personal details".into(),
        "Observation" => "lab results and measurements".into(),
        "DiagnosticReport" => "test reports".into(),
        "AuditEvent" => "access log".into(),
        "" => "record".into(),
        other => {
            let mut out = String::new();
            for (i, c) in other.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push(' ');
                }
                out.push(c.to_ascii_lowercase());
            }
            out + "s"
        }
    }
}

/// "2026-11-25T14:02:33.120Z" → "25 Nov 2026 at 14:02" (UTC).
fn when(recorded: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (Some(y), Some(m), Some(d), Some(hm)) = (
        recorded.get(0..4),
        recorded.get(5..7).and_then(|m| m.parse::<usize>().ok()),
        recorded.get(8..10),
        recorded.get(11..16),
    ) else {
        return recorded.to_string();
    };
    let month = MONTHS.get(m.wrapping_sub(1)).copied().unwrap_or("?");
    format!("{} {month} {y} at {hm} UTC", d.trim_start_matches('0'))
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// The resource type an event touched (from its entity or its query).
fn touched(event: &Value) -> String {
    let entities = event.get("entity").and_then(Value::as_array);
    for e in entities.into_iter().flatten() {
        if text(e, "/role/code") == Some("4") {
            if let Some(r) = text(e, "/what/reference") {
                return r.split('/').next().unwrap_or("").to_string();
            }
        }
    }
    if text(event, "/subtype/0/code").is_some_and(|s| s.starts_with("search")) {
        for e in entities.into_iter().flatten() {
            if text(e, "/role/code") == Some("24") {
                return "records".into();
            }
        }
    }
    "Patient".into()
}

/// A person's name from a FHIR HumanName list.
fn human_name(resource: &Value) -> Option<String> {
    let name = resource.get("name")?.as_array()?.first()?;
    if let Some(t) = name.get("text").and_then(Value::as_str) {
        return Some(t.to_string());
    }
    let given: Vec<&str> = name
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let family = name.get("family").and_then(Value::as_str).unwrap_or("");
    let full = format!("{} {family}", given.join(" ")).trim().to_string();
    (!full.is_empty()).then_some(full)
}

/// Display name and role of an agent, resolved once per agent.
async fn resolve(
    state: &AppState,
    ctx: &TenantContext,
    who: &str,
    fhir_user: Option<&str>,
) -> (String, Option<String>) {
    if let (Some(server), Some(id)) = (state.config.auth.server(), who.strip_prefix("user:")) {
        if let Ok(Some(user)) = server.store().user_by_id(ctx, id).await {
            let name = if user.role.as_deref() == Some("physician") {
                format!("Dr. {}", user.display_name)
            } else {
                user.display_name.clone()
            };
            return (name, user.role.or(Some(user.kind)));
        }
    }
    if let Some((rt, id)) = fhir_user.and_then(|r| r.split_once('/')) {
        if let Ok(Some(v)) = state.engine.store().read(ctx, rt, id).await {
            if let Some(name) = v
                .content
                .and_then(|c| serde_json::from_str::<Value>(&c).ok())
                .as_ref()
                .and_then(human_name)
            {
                return (name, Some(rt.to_lowercase()));
            }
        }
    }
    let name = match who {
        "anonymous" => "Someone without signing in".to_string(),
        w if w.starts_with("client:") => format!("The application {}", &w[7..]),
        w if w.starts_with("operator:") => "A system operator".to_string(),
        w => w.to_string(),
    };
    (name, None)
}

fn wants_html(headers: &HeaderMap, query: Option<&str>) -> bool {
    let format_html = query.is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "_format" && v.contains("html"))
    });
    format_html
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

pub async fn access_log(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    concord_core::Engine::check_id(&id).map_err(|e| ApiError::from_core(e, &rid.0))?;
    let ctx = state.context(&rid.0);
    let request = SearchRequest {
        resource_type: Some("AuditEvent".into()),
        compartment: None,
        params: vec![
            ("patient".into(), format!("Patient/{id}")),
            ("_sort".into(), "-date".into()),
            ("_count".into(), LIMIT.into()),
        ],
        handling: Handling::Strict,
        base_url: base_url(&state, &headers),
    };
    let found = state
        .engine
        .search(&ctx, &request)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let mut names: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut lines = Vec::new();
    for m in &found.matches {
        let Some(event) = m
            .content
            .as_deref()
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
        else {
            continue;
        };
        let who = text(&event, "/agent/0/altId")
            .unwrap_or("anonymous")
            .to_string();
        if !names.contains_key(&who) {
            let resolved =
                resolve(&state, &ctx, &who, text(&event, "/agent/0/who/reference")).await;
            names.insert(who.clone(), resolved);
        }
        let (name, role) = names.get(&who).cloned().unwrap_or_default();
        let role =
            role.or_else(|| text(&event, "/agent/0/role/0/coding/0/code").map(str::to_string));
        lines.push(Line {
            who: name,
            role,
            verb: verb(
                text(&event, "/action").unwrap_or(""),
                text(&event, "/subtype/0/code").unwrap_or(""),
            ),
            what: words(&touched(&event)),
            recorded: text(&event, "/recorded").unwrap_or("").to_string(),
            outcome: text(&event, "/outcome").unwrap_or("0").to_string(),
        });
    }
    if wants_html(&headers, query.as_deref()) {
        return Ok(html(&lines));
    }
    let entries: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({
                "who": l.who,
                "role": l.role,
                "action": l.verb,
                "what": l.what,
                "recorded": l.recorded,
                "succeeded": l.outcome == "0",
                "text": sentence(l),
            })
        })
        .collect();
    let body = json!({"patient": format!("Patient/{id}"), "entries": entries});
    Ok(json_response(StatusCode::OK, body.to_string()))
}

fn sentence(l: &Line) -> String {
    let who = match &l.role {
        Some(r) => format!("{} ({r})", l.who),
        None => l.who.clone(),
    };
    let tried = if l.outcome == "0" {
        ""
    } else {
        "tried but was not allowed to "
    };
    let verb = if tried.is_empty() {
        l.verb.to_string()
    } else {
        // "tried … to view", from "viewed".
        match l.verb {
            "viewed" => "view".into(),
            "searched" => "search".into(),
            "changed" => "change".into(),
            "added to" => "add to".into(),
            "deleted from" => "delete from".into(),
            _ => "run an operation on".into(),
        }
    };
    format!(
        "{who} {tried}{verb} your {} on {}",
        l.what,
        when(&l.recorded)
    )
}

fn html(lines: &[Line]) -> Response {
    let mut items = String::new();
    for l in lines {
        items.push_str(&format!("<li>{}</li>\n", esc(&sentence(l))));
    }
    if items.is_empty() {
        items.push_str("<li>Nobody has looked at your record yet.</li>\n");
    }
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Who has seen your record</title></head>\n<body><main>\
         <h1>Who has seen your record</h1>\n<ul>\n{items}</ul></main></body></html>\n"
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}
