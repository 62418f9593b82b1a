//! Sign-in (username, password and the authenticator code: MFA is
//! required for staff) and sign-out. A fresh session id at every sign-in;
//! the session cookie is `HttpOnly; SameSite=Strict` (and `Secure` under
//! TLS); the session ends after the authorization server's idle and
//! absolute timeouts (`AuthConfig::session_idle`, `session_absolute`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use concord_auth::{AccountKind, LoginError};
use concord_core::audit::{Agent, Category};
use maud::{html, Markup};
use std::collections::HashMap;

use crate::audit::RequestMeta;
use crate::error::WebError;
use crate::form::{error_summary, Field, Form};
use crate::layout::bare_page;
use crate::{cookies, csrf, paths, WebState};

fn login_form(
    token: &str,
    next: &str,
    username: &str,
    message: Option<&str>,
    change_password: bool,
) -> Markup {
    let errors: Vec<String> = message.map(|m| vec![m.to_string()]).unwrap_or_default();
    bare_page(
        "Sign in",
        html! {
            (error_summary(&errors))
            form.login method="post" action=(paths::LOGIN) {
                input type="hidden" name=(csrf::FIELD) value=(token);
                input type="hidden" name="next" value=(next);
                (Field::new("username", "Username").value(username).required().autocomplete("username").render())
                (Field::new("password", "Password").kind("password").required().autocomplete("current-password").render())
                (Field::new("totp", "Authenticator code").required().autocomplete("one-time-code").inputmode("numeric")
                    .hint("The 6-digit code from your authenticator app.").render())
                @if change_password {
                    (Field::new("new_password", "New password").kind("password").required().autocomplete("new-password")
                        .hint("Your password was reset: choose a new one (at least 12 characters).").render())
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// A pre-session cookie value, new unless the browser has one.
fn pre_session(headers: &axum::http::HeaderMap) -> Result<(String, bool), WebError> {
    match cookies::get(headers, cookies::PRE_SESSION).filter(|v| v.len() >= 32) {
        Some(v) => Ok((v, false)),
        None => concord_auth::random::handle()
            .map(|h| (h, true))
            .map_err(|_| WebError::Internal("-".into())),
    }
}

/// `GET /ui/login`.
pub async fn show(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    if state.auth.is_none() {
        return Err(WebError::AuthDisabled);
    }
    let (pre, fresh) = pre_session(&headers)?;
    let next = paths::safe_next(q.get("next").map(String::as_str));
    let mut r = login_form(&csrf::token_for(&pre), &next, "", None, false).into_response();
    if fresh {
        cookies::set(
            &mut r,
            cookies::PRE_SESSION,
            &pre,
            state.config.secure_cookies,
            Some(1800),
        );
    }
    Ok(r)
}

/// `POST /ui/login` (CSRF already checked against the pre-session cookie).
pub async fn submit(
    State(state): State<WebState>,
    Extension(meta): Extension<RequestMeta>,
    headers: axum::http::HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    let Some(auth) = &state.auth else {
        return Err(WebError::AuthDisabled);
    };
    meta.note.session_event(Category::Login, "login");
    let username = form.value("username");
    let next = paths::safe_next(form.get("next").as_deref());
    meta.note.agent(Agent {
        who: format!("username:{username}"),
        ..Agent::default()
    });
    let (pre, _) = pre_session(&headers)?;
    let token = csrf::token_for(&pre);
    let again = |message: &str, change: bool| {
        (
            StatusCode::UNAUTHORIZED,
            login_form(&token, &next, &username, Some(message), change),
        )
            .into_response()
    };
    let user = match auth
        .login(
            &username,
            &form.value("password"),
            form.get("totp").as_deref(),
            form.get("new_password").as_deref(),
        )
        .await
    {
        Ok(user) => user,
        Err(e @ (LoginError::PasswordChangeRequired | LoginError::PasswordPolicy(_))) => {
            return Ok(again(&e.message(), true));
        }
        Err(e) => return Ok(again(&e.message(), false)),
    };
    let Some(AccountKind::Staff(role)) =
        AccountKind::from_parts(&user.kind, user.role.as_deref(), &user.patients)
    else {
        return Ok(again(
            "This workspace is for staff. Patients sign in to the patient portal.",
            false,
        ));
    };
    meta.note.agent(Agent {
        who: format!("user:{}", user.id),
        name: Some(user.display_name.clone()),
        fhir_user: user.fhir_user.clone(),
        client_id: None,
        role: Some(role.code().to_string()),
    });
    // A fresh session id at every sign-in (no session fixation).
    let session = auth.start_session(&user.id).await.map_err(|e| {
        tracing::error!(request_id = %meta.request_id, error = %e, "cannot start session");
        WebError::Internal(meta.request_id.clone())
    })?;
    tracing::info!(request_id = %meta.request_id, user = %user.id, "web sign-in");
    let mut r = Redirect::to(&next).into_response();
    let secure = state.config.secure_cookies;
    cookies::set(&mut r, cookies::SESSION, &session, secure, None);
    cookies::set(&mut r, cookies::PRE_SESSION, "", secure, Some(0));
    Ok(r)
}

/// `POST /ui/logout` (CSRF already checked against the session).
pub async fn logout(
    State(state): State<WebState>,
    Extension(meta): Extension<RequestMeta>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let Some(auth) = &state.auth else {
        return Err(WebError::AuthDisabled);
    };
    meta.note.session_event(Category::Logout, "logout");
    if let Some(handle) = cookies::get(&headers, cookies::SESSION) {
        if let Ok(Some((user, _))) = auth.session_user(&handle).await {
            meta.note.agent(Agent {
                who: format!("user:{}", user.id),
                name: Some(user.display_name),
                fhir_user: user.fhir_user,
                client_id: None,
                role: user.role,
            });
        }
        auth.end_session(&handle).await.map_err(|e| {
            tracing::error!(request_id = %meta.request_id, error = %e, "cannot end session");
            WebError::Internal(meta.request_id.clone())
        })?;
    }
    let mut r = Redirect::to(paths::LOGIN).into_response();
    cookies::set(
        &mut r,
        cookies::SESSION,
        "",
        state.config.secure_cookies,
        Some(0),
    );
    Ok(r)
}
