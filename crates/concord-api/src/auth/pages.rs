//! The server-rendered sign-in, approval and error pages. Every value is
//! HTML-escaped; the pages carry no scripts.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use concord_auth::{PendingAuthorization, Scope, ScopeContext};

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Concord</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#111}}\
         label{{display:block;margin:.8rem 0 .2rem}}input[type=text],input[type=password]{{width:100%;padding:.4rem;font-size:1rem}}\
         .error{{color:#a00;border:1px solid #a00;padding:.5rem}}button{{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}}</style>\
         </head><body><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

fn error_box(code: &str, message: &str) -> String {
    format!(
        "<p class=\"error\" role=\"alert\" data-error=\"{}\">{}</p>",
        esc(code),
        esc(message)
    )
}

/// The sign-in form for a pending request.
pub fn login(
    status: StatusCode,
    request: &str,
    client_name: &str,
    error: Option<(&str, &str)>,
    ask_new_password: bool,
    csrf: &str,
) -> Response {
    let mut body = format!(
        "<p>Sign in to let <strong>{}</strong> use your Concord record.</p>",
        esc(client_name)
    );
    if let Some((code, message)) = error {
        body.push_str(&error_box(code, message));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/auth/login\">\
         <input type=\"hidden\" name=\"request\" value=\"{}\">{}\
         <label for=\"username\">Username</label>\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <label for=\"totp\">Authenticator code (staff)</label>\
         <input type=\"text\" id=\"totp\" name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\">",
        esc(request),
        crate::csrf::field(csrf)
    ));
    if ask_new_password {
        body.push_str(
            "<label for=\"new_password\">New password (at least 12 characters)</label>\
             <input type=\"password\" id=\"new_password\" name=\"new_password\" autocomplete=\"new-password\">",
        );
    }
    body.push_str("<button type=\"submit\">Sign in</button></form>");
    page(status, "Sign in", &body)
}

fn describe(scope: &Scope) -> String {
    match scope {
        Scope::Resource(r) => {
            let what = r.resource_type.as_deref().unwrap_or("all kinds of record");
            let whose = match r.context {
                ScopeContext::Patient => "the selected patient's",
                ScopeContext::User => "records you can access:",
                ScopeContext::System => "all",
            };
            let mut verbs = Vec::new();
            for (letter, verb) in [
                ('c', "create"),
                ('r', "read"),
                ('u', "update"),
                ('d', "delete"),
                ('s', "search"),
            ] {
                if r.perms.has(letter) {
                    verbs.push(verb);
                }
            }
            let filter = if r.filter.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> =
                    r.filter.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!(" (only where {})", parts.join(", "))
            };
            format!("{} {whose} {what}{filter}", verbs.join(", "))
        }
        Scope::OpenId => "Confirm your identity to the app".into(),
        Scope::FhirUser => "Tell the app who you are in the record".into(),
        Scope::Profile => "Share your name".into(),
        Scope::Launch => "Use the context the record was opened in".into(),
        Scope::LaunchPatient => "Know which patient is selected".into(),
        Scope::LaunchEncounter => "Know which encounter is selected".into(),
        Scope::OfflineAccess => "Keep access after you sign out (until you revoke it)".into(),
        Scope::OnlineAccess => "Keep access while you are signed in".into(),
    }
}

/// The approval screen: the user sees each scope and can untick it.
pub fn approve(
    pending: &PendingAuthorization,
    user_name: &str,
    patient_choices: Option<&[String]>,
    error: Option<(&str, &str)>,
    csrf: &str,
) -> Response {
    let mut body = format!(
        "<p>Signed in as <strong>{}</strong>. <strong>{}</strong> asks to:</p>",
        esc(user_name),
        esc(&pending.client_name)
    );
    if let Some((code, message)) = error {
        body.push_str(&error_box(code, message));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/auth/approve\">\
         <input type=\"hidden\" name=\"request\" value=\"{}\">{}<fieldset><legend>Permissions</legend>",
        esc(&pending.handle),
        crate::csrf::field(csrf)
    ));
    for (i, scope) in pending.scopes.iter().enumerate() {
        let text = scope.to_string();
        body.push_str(&format!(
            "<div><input type=\"checkbox\" id=\"s{i}\" name=\"scope\" value=\"{}\" checked>\
             <label for=\"s{i}\" style=\"display:inline\">{} <code>{}</code></label></div>",
            esc(&text),
            esc(&describe(scope)),
            esc(&text)
        ));
    }
    body.push_str("</fieldset>");
    if let Some(p) = &pending.launch_patient {
        body.push_str(&format!(
            "<p>Patient in context: <code>{}</code></p>",
            esc(p)
        ));
    } else if pending.needs_patient_choice() {
        match patient_choices {
            Some(choices) if !choices.is_empty() => {
                body.push_str("<label for=\"patient\">Patient</label><select id=\"patient\" name=\"patient\">");
                for c in choices {
                    body.push_str(&format!("<option value=\"{0}\">{0}</option>", esc(c)));
                }
                body.push_str("</select>");
            }
            Some(_) => {}
            None => body.push_str(
                "<label for=\"patient\">Patient id</label>\
                 <input type=\"text\" id=\"patient\" name=\"patient\" required>",
            ),
        }
    }
    body.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
    );
    page(StatusCode::OK, "Allow access?", &body)
}

/// An error the user sees (the client or redirect could not be trusted).
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    page(status, "Cannot continue", &error_box(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
