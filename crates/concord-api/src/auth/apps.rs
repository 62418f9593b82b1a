//! A user's authorized apps: `GET /auth/apps` (JSON), `GET /auth/apps/page`
//! (a server-rendered list with a revoke button per app) and
//! `POST /auth/apps/{client}/revoke`. The user is the holder of the bearer
//! token or of the authorization server's sign-in cookie. Revoking deletes
//! the app's refresh tokens for the user and refuses the access tokens it
//! holds for the user.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use concord_auth::Subject;
use serde_json::json;

use super::authorize::session_cookie;
use super::form::{no_store_json, Form};
use super::guard::{authenticate, unauthorized};
use super::pages::{esc, page as render};
use super::server;
use crate::AppState;

/// The signed-in user: by bearer token, else by session cookie.
async fn user_of(state: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let auth = server(state)?;
    if super::guard::bearer(headers).is_some() {
        let principal = authenticate(state, headers).await?;
        return match principal.subject {
            Subject::User { id, .. } => Ok(id),
            _ => Err(unauthorized(None, "only users authorize apps")),
        };
    }
    if let Some(cookie) = session_cookie(headers) {
        if let Ok(Some((user, _))) = auth.session_user(&cookie).await {
            return Ok(user.id);
        }
    }
    Err(unauthorized(None, "sign in, or present an access token"))
}

fn internal() -> Response {
    no_store_json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": "server_error"}),
    )
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(auth) = server(&state) else {
        return internal();
    };
    match auth.authorized_apps(&user).await {
        Ok(apps) => {
            let list: Vec<_> = apps
                .iter()
                .map(|a| {
                    json!({"client_id": a.client_id, "name": a.name, "scope": a.scope,
                    "since": concord_store::timestamp::format_instant(a.since)})
                })
                .collect();
            no_store_json(StatusCode::OK, &json!({ "apps": list }))
        }
        Err(_) => internal(),
    }
}

/// What the apps page's forms are bound to (with the browser's CSRF secret).
const PAGE_BINDING: &str = "auth/apps/page";

pub async fn revoke(
    State(state): State<AppState>,
    Path(client): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A bearer token is not sent by browsers on their own; a sign-in cookie
    // is, so the page's form must prove it came from the page.
    if super::guard::bearer(&headers).is_none() {
        let token = Form::parse(&body).get(concord_auth::csrf::FIELD);
        if let Err(r) = crate::csrf::check(&headers, token.as_deref(), PAGE_BINDING) {
            return r;
        }
    }
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(auth) = server(&state) else {
        return internal();
    };
    match auth.revoke_app(&user, &client).await {
        Ok(n) => {
            if super::guard::bearer(&headers).is_none() {
                // The page's form: back to the list.
                return Redirect::to("/auth/apps/page").into_response();
            }
            no_store_json(
                StatusCode::OK,
                &json!({"client_id": client, "revoked_refresh_tokens": n}),
            )
        }
        Err(_) => internal(),
    }
}

async fn page_handler(state: &AppState, headers: &HeaderMap) -> Response {
    let user = match user_of(state, headers).await {
        Ok(u) => u,
        Err(_) => {
            return render(
                StatusCode::UNAUTHORIZED,
                "Your apps",
                "<p>Sign in through an app first; this page uses that sign-in.</p>",
            )
        }
    };
    let Ok(auth) = server(state) else {
        return internal();
    };
    let Ok(apps) = auth.authorized_apps(&user).await else {
        return internal();
    };
    let browser = match crate::csrf::Browser::of(headers) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let field = crate::csrf::field(&browser.token(PAGE_BINDING));
    let mut body =
        String::from("<p>These apps may use your record. Revoking one ends its access now.</p>");
    if apps.is_empty() {
        body.push_str("<p data-apps=\"0\">No app has access.</p>");
    } else {
        body.push_str(&format!("<ul data-apps=\"{}\">", apps.len()));
        for a in &apps {
            body.push_str(&format!(
                "<li><strong>{}</strong> <small>({})</small><br>{}\
                 <form method=\"post\" action=\"/auth/apps/{}/revoke\">{field}\
                 <button type=\"submit\">Revoke {}</button></form></li>",
                esc(&a.name),
                esc(&a.client_id),
                esc(&a.scope),
                form_urlencoded::byte_serialize(a.client_id.as_bytes()).collect::<String>(),
                esc(&a.name),
            ));
        }
        body.push_str("</ul>");
    }
    browser.finish(
        render(StatusCode::OK, "Your apps", &body),
        crate::csrf::secure(state, headers),
    )
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page_handler(&state, &headers).await
}
