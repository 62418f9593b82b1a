//! `/admin/interfaces`: a server-rendered page (no JavaScript) with the
//! interface monitor, the error queue (each message with a Reprocess
//! button: a plain form POST to `/admin/interfaces/reprocess`) and the
//! rejected/failed outbound messages (each with a Resend button, POST
//! `/admin/interfaces/resend`); both answer with a redirect back to the
//! page and a status line.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use concord_interfaces::{
    failed_tasks, reprocess as reprocess_task, Hl7Outbound, OutState, OutboundRecord, Outcome,
    ReprocessError, ResendError,
};
use serde_json::Value;

use crate::request_id::RequestId;
use crate::{ApiError, AppState};

const QUEUE_LIMIT: usize = 200;

/// HTML-escapes text for element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn cell(s: &str) -> String {
    if s.is_empty() {
        "<td>—</td>".into()
    } else {
        format!("<td>{}</td>", esc(s))
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#111;background:#fff}\
table{border-collapse:collapse;margin-bottom:2rem}caption{text-align:left;font-weight:bold;font-size:1.2rem;padding:.5rem 0}\
th,td{border:1px solid #555;padding:.35rem .6rem;text-align:left;vertical-align:top}th{background:#e8e8e8}\
button{font-size:1rem;padding:.3rem .8rem}button:focus,a:focus{outline:3px solid #0047ab;outline-offset:2px}\
.notice{border:2px solid #0047ab;padding:.5rem 1rem;margin-bottom:1rem}";

fn interfaces_table(monitor: &Value) -> String {
    let mut rows = String::new();
    for i in monitor["inbound"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>inbound</td><td>MLLP listener</td><td>{} applied, {} failed</td><td>{} received, {} accepted, {} errors, {} rejected</td><td>{} (error queue)</td>{}{}<td>—</td></tr>",
            esc(&text(i, "/name")),
            esc(&text(i, "/messages/completed")),
            esc(&text(i, "/messages/failed")),
            esc(&text(i, "/sinceStart/received")),
            esc(&text(i, "/sinceStart/accepted")),
            esc(&text(i, "/sinceStart/errors")),
            esc(&text(i, "/sinceStart/rejected")),
            esc(&text(i, "/errorQueueDepth")),
            cell(&text(i, "/lastAck/code")),
            cell(&text(i, "/lastAck/time")),
        ));
    }
    for o in monitor["outbound"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>outbound ({})</td><td>{}</td><td>{} acked, {} rejected, {} failed</td><td>{} attempts, {} acked, {} rejected, {} connection errors</td><td>{}</td>{}{}{}</tr>",
            esc(&text(o, "/name")),
            esc(&text(o, "/kind")),
            esc(&text(o, "/address")),
            esc(&text(o, "/messages/acked")),
            esc(&text(o, "/messages/rejected")),
            esc(&text(o, "/messages/failed")),
            esc(&text(o, "/sinceStart/attempts")),
            esc(&text(o, "/sinceStart/acked")),
            esc(&text(o, "/sinceStart/rejected")),
            esc(&text(o, "/sinceStart/connectionErrors")),
            esc(&text(o, "/queueDepth")),
            cell(&text(o, "/lastAck/code")),
            cell(&text(o, "/lastAck/time")),
            cell(&text(o, "/lastError/text")),
        ));
    }
    format!(
        "<table><caption>Interfaces</caption><thead><tr><th scope=\"col\">Interface</th><th scope=\"col\">Direction</th>\
         <th scope=\"col\">Address</th><th scope=\"col\">Stored messages</th><th scope=\"col\">Since start</th>\
         <th scope=\"col\">Queue depth</th><th scope=\"col\">Last ACK code</th><th scope=\"col\">Last ACK time</th>\
         <th scope=\"col\">Last error</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

fn queue_table(tasks: &[Value], csrf_field: &str) -> String {
    if tasks.is_empty() {
        return "<h2>Error queue</h2><p>The error queue is empty.</p>".into();
    }
    let mut rows = String::new();
    for t in tasks {
        let id = text(t, "/id");
        let location = t
            .pointer("/statusReason/coding")
            .and_then(Value::as_array)
            .and_then(|c| c.get(1))
            .map(|c| text(c, "/code"))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><th scope=\"row\"><a href=\"/Task/{id}\">{id}</a></th>{}{}{}{}{}\
             <td><form method=\"post\" action=\"/admin/interfaces/reprocess\">{csrf_field}\
             <input type=\"hidden\" name=\"task\" value=\"{id}\">\
             <button type=\"submit\" aria-label=\"Reprocess message {id}\">Reprocess</button></form></td></tr>",
            cell(&text(t, "/description")),
            cell(&text(t, "/businessStatus/coding/0/code")),
            cell(&location),
            cell(&text(t, "/statusReason/text")),
            cell(&text(t, "/lastModified")),
            id = esc(&id),
        ));
    }
    format!(
        "<table><caption>Error queue ({} messages)</caption><thead><tr><th scope=\"col\">Message</th>\
         <th scope=\"col\">Description</th><th scope=\"col\">ACK sent</th><th scope=\"col\">Location</th>\
         <th scope=\"col\">Error</th><th scope=\"col\">Last change</th><th scope=\"col\">Action</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        tasks.len()
    )
}

fn outbound_table(records: &[OutboundRecord], csrf_field: &str) -> String {
    if records.is_empty() {
        return "<h2>Outbound problems</h2><p>No rejected or failed outbound messages.</p>".into();
    }
    let mut rows = String::new();
    for r in records {
        rows.push_str(&format!(
            "<tr><th scope=\"row\"><a href=\"/Task/{id}\">{id}</a></th>{}{}<td><a href=\"/{focus}\">{focus}</a></td>{}{}{}{}\
             <td><form method=\"post\" action=\"/admin/interfaces/resend\">{csrf_field}\
             <input type=\"hidden\" name=\"task\" value=\"{id}\">\
             <button type=\"submit\" aria-label=\"Resend outbound message {id}\">Resend</button></form></td></tr>",
            cell(&r.endpoint),
            cell(&format!("{} {}", r.message_type, r.control_id)),
            cell(r.state.code()),
            cell(r.ack_code.as_deref().unwrap_or("")),
            cell(
                r.ack_text
                    .as_deref()
                    .or(r.last_error.as_deref())
                    .unwrap_or("")
            ),
            cell(&r.attempts.to_string()),
            id = esc(&r.id),
            focus = esc(&r.focus),
        ));
    }
    format!(
        "<table><caption>Outbound problems ({} messages, not retried)</caption><thead><tr>\
         <th scope=\"col\">Record</th><th scope=\"col\">Endpoint</th><th scope=\"col\">Message</th>\
         <th scope=\"col\">Resource</th><th scope=\"col\">State</th><th scope=\"col\">ACK</th>\
         <th scope=\"col\">Error</th><th scope=\"col\">Attempts</th><th scope=\"col\">Action</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        records.len()
    )
}

fn html(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `GET /admin/interfaces[?done=…]`.
/// What the page's forms are bound to (with the browser's CSRF secret).
const BINDING: &str = "admin/interfaces";

pub async fn page(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let browser = match crate::csrf::Browser::of(&headers) {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    let field = crate::csrf::field(&browser.token(BINDING));
    let ctx = state.request_context(&rid);
    let monitor = state
        .config
        .hl7v2_monitor
        .snapshot(&state.engine, &ctx)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let tasks = failed_tasks(&state.engine, &ctx, QUEUE_LIMIT)
        .await
        .map_err(|e| ApiError::from_core(e, &rid.0))?;
    let mut problems = Vec::new();
    for e in &state.config.hl7v2_monitor.config().endpoints {
        for st in [OutState::Rejected, OutState::Failed] {
            problems.extend(
                Hl7Outbound::records_in(&state.engine, &ctx, &e.name, st, QUEUE_LIMIT)
                    .await
                    .map_err(|e| ApiError::from_core(e, &rid.0))?,
            );
        }
    }
    let notice = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| {
            format!(
                "<p class=\"notice\" role=\"status\">{}</p>",
                esc(&v.chars().take(300).collect::<String>())
            )
        })
        .unwrap_or_default();
    let page = html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>HL7 v2 interfaces — Concord</title><style>{STYLE}</style></head><body><main>\
         <h1>HL7 v2 interfaces</h1>{notice}<p>Generated {}. <a href=\"/admin/interfaces\">Refresh</a> · \
         <a href=\"/$hl7v2-monitor\">JSON</a></p>{}{}{}</main></body></html>",
        esc(&text(&monitor, "/generated")),
        interfaces_table(&monitor),
        queue_table(&tasks, &field),
        outbound_table(&problems, &field)
    ));
    Ok(browser.finish(page, crate::csrf::secure(&state, &headers)))
}

/// A form posted from a browser must carry the page's CSRF token; a
/// request with an `Authorization` header (a script with a token, which a
/// browser never adds on its own) needs none.
#[allow(clippy::result_large_err)] // the refusal page, once, on the error path
fn check_form(headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Ok(());
    }
    let token = form_urlencoded::parse(body)
        .find(|(k, _)| k == concord_auth::csrf::FIELD)
        .map(|(_, v)| v.into_owned());
    crate::csrf::check(headers, token.as_deref(), BINDING)
}

/// The `task` field of a posted form (empty when absent).
fn task_field(body: &[u8]) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "task")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `POST /admin/interfaces/reprocess` (form field `task`): reprocesses and
/// redirects back to the page with the outcome.
pub async fn reprocess(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Err(r) = check_form(&headers, &body) {
        return Ok(r);
    }
    let id = task_field(&body);
    let ctx = state.request_context(&rid);
    let inbound = crate::hl7v2::inbound(&state);
    let done = match reprocess_task(&inbound, &ctx, &id).await {
        Ok(Outcome::Applied { .. }) => format!("{id}: reprocessed and applied."),
        // The error text may quote the message: it stays in the queue
        // table, not in the redirect URL.
        Ok(Outcome::Failed { failure, .. }) => {
            format!(
                "{id}: failed again (at {}); see the error queue.",
                failure.location
            )
        }
        Ok(_) => format!("{id}: not applied; try again."),
        Err(ReprocessError::NotFound) => format!("{id}: no such message."),
        Err(ReprocessError::AlreadyCompleted) => format!("{id}: already completed."),
        Err(ReprocessError::BadMessage(_)) => format!("{id}: the stored message cannot be read."),
        Err(ReprocessError::Core(e)) => return Err(ApiError::from_core(e, &rid.0)),
    };
    Ok(back_to_page(&done))
}

/// `POST /admin/interfaces/resend` (form field `task`).
pub async fn resend(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Err(r) = check_form(&headers, &body) {
        return Ok(r);
    }
    let id = task_field(&body);
    let ctx = state.request_context(&rid);
    let config = state.config.hl7v2_monitor.config();
    let done = match Hl7Outbound::resend(&state.engine, &ctx, config, &id).await {
        Ok(r) if r.state == OutState::Queued => format!("{id}: queued again."),
        Ok(_) => format!("{id}: the message still cannot be built; see the table."),
        Err(ResendError::NotFound) => format!("{id}: no such outbound message."),
        Err(ResendError::Acked) => format!("{id}: acknowledged; never sent again."),
        Err(ResendError::Pending) => format!("{id}: queued already."),
        Err(ResendError::NoEndpoint(n)) => format!("{id}: endpoint {n} is not configured."),
        Err(ResendError::Core(e)) => return Err(ApiError::from_core(e, &rid.0)),
    };
    Ok(back_to_page(&done))
}

fn back_to_page(done: &str) -> Response {
    let location = format!(
        "/admin/interfaces?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("done", done)
            .finish()
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_problems_have_a_labelled_resend_button() {
        let task = serde_json::json!({
            "resourceType": "Task", "id": "hl7out-1", "status": "rejected",
            "businessStatus": {"coding": [{"system": "urn:concord:hl7v2:outbound-status", "code": "rejected"}]},
            "code": {"coding": [{"system": "urn:concord:hl7v2:task", "code": "outbound-message"}]},
            "focus": {"reference": "ServiceRequest/7"},
            "identifier": [{"system": "urn:concord:hl7v2:control-id", "value": "C1"}],
            "output": [
                {"type": {"coding": [{"code": "endpoint"}]}, "valueString": "lab1"},
                {"type": {"coding": [{"code": "message-type"}]}, "valueString": "OML^O21"},
                {"type": {"coding": [{"code": "ack-code"}]}, "valueCode": "AE"},
                {"type": {"coding": [{"code": "ack-text"}]}, "valueString": "unknown <test>"}
            ]
        });
        let record = OutboundRecord::from_task(&task).unwrap();
        let html = outbound_table(&[record], "<input name=csrf>");
        assert!(html.contains("<input name=csrf>"));
        assert!(html.contains("<caption>Outbound problems (1 messages, not retried)</caption>"));
        assert!(html.contains("unknown &lt;test&gt;"));
        assert!(html.contains("aria-label=\"Resend outbound message hl7out-1\">Resend</button>"));
        assert!(html.contains("action=\"/admin/interfaces/resend\""));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<b a=\"1\">&'"), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
    }
}
