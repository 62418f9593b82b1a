//! `GET /auth/authorize`, the sign-in form (`POST /auth/login`) and the
//! approval screen (`POST /auth/approve`).

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use concord_auth::{
    AccountKind, Approval, AuthServer, AuthorizeParams, AuthorizeRejection, LoginError,
    PendingAuthorization,
};
use concord_store::UserRecord;

use super::form::{is_form, Form};
use super::{pages, server};
use crate::csrf::Browser;
use crate::limit::{retry_after_secs, ClientAddr};
use crate::request_id::RequestId;
use crate::response::base_url;
use crate::AppState;

const COOKIE: &str = "concord_session";

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    crate::csrf::cookie(headers, COOKIE)
}

fn see_other(url: &str) -> Response {
    // 302 with Location, as OAuth redirects are specified.
    let mut r = Redirect::to(url).into_response();
    *r.status_mut() = StatusCode::FOUND;
    r
}

fn params(form: &Form) -> AuthorizeParams {
    AuthorizeParams {
        response_type: form.get("response_type"),
        client_id: form.get("client_id"),
        redirect_uri: form.get("redirect_uri"),
        scope: form.get("scope"),
        state: form.get("state"),
        aud: form.get("aud"),
        code_challenge: form.get("code_challenge"),
        code_challenge_method: form.get("code_challenge_method"),
        launch: form.get("launch"),
        nonce: form.get("nonce"),
    }
}

/// Patient choices for the approval page: `Some(list)` to pick from,
/// `Some([])` when the account's own patient applies, `None` for free entry.
fn patient_choices(user: &UserRecord) -> Option<Vec<String>> {
    match AccountKind::from_parts(&user.kind, user.role.as_deref(), &user.patients) {
        Some(AccountKind::Proxy { patients }) => Some(patients),
        Some(AccountKind::Patient { .. }) => Some(Vec::new()),
        _ => None,
    }
}

fn approval_page(
    p: &PendingAuthorization,
    user: &UserRecord,
    err: Option<(&str, &str)>,
    browser: &Browser,
) -> Response {
    pages::approve(
        p,
        &user.display_name,
        patient_choices(user).as_deref(),
        err,
        &browser.token(&p.handle),
    )
}

pub async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = Form::from_query(query.as_deref());
    let single = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "aud",
        "code_challenge",
        "code_challenge_method",
        "launch",
    ];
    if let Some(name) = form.repeated(&single) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("parameter {name} appears more than once"),
        );
    }
    let base = base_url(&state, &headers);
    let pending = match auth.begin_authorization(&params(&form), &base).await {
        Ok(p) => p,
        Err(AuthorizeRejection::Show(e)) => {
            let status = if e.error == "server_error" {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            return pages::error(status, e.error, &e.description);
        }
        Err(AuthorizeRejection::Redirect(url)) => return see_other(&url),
    };
    let browser = match Browser::of(&headers) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let secure = crate::csrf::secure(&state, &headers);
    // Already signed in: straight to the approval screen.
    if let Some(cookie) = session_cookie(&headers) {
        if let Ok(Some((user, _))) = auth.session_user(&cookie).await {
            if auth.attach_user(&pending.handle, &user.id).await.is_ok() {
                return browser.finish(approval_page(&pending, &user, None, &browser), secure);
            }
        }
    }
    let page = pages::login(
        StatusCode::OK,
        &pending.handle,
        &pending.client_name,
        None,
        false,
        &browser.token(&pending.handle),
    );
    browser.finish(page, secure)
}

/// 429 page for too many sign-in attempts.
fn too_many(wait: std::time::Duration) -> Response {
    let secs = retry_after_secs(wait);
    let mut r = pages::error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("Too many sign-in attempts. Wait {secs} seconds, then try again."),
    );
    if let Ok(v) = secs.to_string().parse() {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn login_failure_status(e: &LoginError) -> StatusCode {
    match e {
        LoginError::Locked => StatusCode::TOO_MANY_REQUESTS,
        LoginError::Internal => StatusCode::SERVICE_UNAVAILABLE,
        LoginError::PasswordChangeRequired | LoginError::PasswordPolicy(_) => StatusCode::OK,
        _ => StatusCode::UNAUTHORIZED,
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !is_form(&headers) {
        return pages::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the sign-in form must be posted as application/x-www-form-urlencoded",
        );
    }
    let form = Form::parse(&body);
    let request = form.get("request").unwrap_or_default();
    let username = form.get("username").unwrap_or_default();
    let limits = &state.config.rate_limits;
    if let Err(wait) = limits.take(&[
        (format!("login-ip:{addr}"), limits.login_per_address),
        (
            format!("login-user:{}", username.trim().to_lowercase()),
            limits.login_per_username,
        ),
    ]) {
        return too_many(wait);
    }
    if let Err(r) = crate::csrf::check(&headers, form.get("csrf").as_deref(), &request) {
        return r;
    }
    let browser = match Browser::of(&headers) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let pending = match auth.pending(&request).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "this sign-in request is unknown or expired; return to the app and start again",
            )
        }
        Err(e) => return pages::error(StatusCode::INTERNAL_SERVER_ERROR, e.error, &e.description),
    };
    let password = form.get("password").unwrap_or_default();
    let totp = form.get("totp");
    let new_password = form.get("new_password");
    let user = match auth
        .login(
            &username,
            &password,
            totp.as_deref(),
            new_password.as_deref(),
        )
        .await
    {
        Ok(u) => u,
        Err(e) => {
            let ask_new = matches!(
                e,
                LoginError::PasswordChangeRequired | LoginError::PasswordPolicy(_)
            );
            return pages::login(
                login_failure_status(&e),
                &request,
                &pending.client_name,
                Some((e.code(), &e.message())),
                ask_new,
                &browser.token(&request),
            );
        }
    };
    finish_login(auth, &state, &headers, &pending, &user, &browser).await
}

async fn finish_login(
    auth: &AuthServer,
    state: &AppState,
    headers: &HeaderMap,
    pending: &PendingAuthorization,
    user: &UserRecord,
    browser: &Browser,
) -> Response {
    // A fresh session id at every sign-in (no session fixation).
    let session = match auth.start_session(&user.id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start session");
            return pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "sign-in is unavailable",
            );
        }
    };
    if let Err(e) = auth.attach_user(&pending.handle, &user.id).await {
        return pages::error(StatusCode::BAD_REQUEST, e.error, &e.description);
    }
    let mut response = approval_page(pending, user, None, browser);
    let secure = crate::csrf::secure(state, headers);
    crate::csrf::set_cookie(&mut response, COOKIE, &session, "/auth", secure);
    response
}

pub async fn approve(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = match server(&state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !is_form(&headers) {
        return pages::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "the approval form must be posted as application/x-www-form-urlencoded",
        );
    }
    let form = Form::parse(&body);
    let request = form.get("request").unwrap_or_default();
    if let Err(r) = crate::csrf::check(&headers, form.get("csrf").as_deref(), &request) {
        return r;
    }
    let browser = match Browser::of(&headers) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let pending = match auth.pending(&request).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "this request is unknown or expired; return to the app and start again",
            )
        }
        Err(e) => return pages::error(StatusCode::INTERNAL_SERVER_ERROR, e.error, &e.description),
    };
    let session = session_cookie(&headers).unwrap_or_default();
    let Ok(Some((user, auth_time))) = auth.session_user(&session).await else {
        return pages::login(
            StatusCode::UNAUTHORIZED,
            &request,
            &pending.client_name,
            Some(("login_required", "Your session ended; sign in again.")),
            false,
            &browser.token(&request),
        );
    };
    if pending.user_id.as_deref() != Some(user.id.as_str()) {
        return pages::error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "this request belongs to another sign-in",
        );
    }
    if form.get("decision").as_deref() == Some("deny") {
        return match auth.deny(&request).await {
            Ok(url) => see_other(&url),
            Err(e) => pages::error(StatusCode::BAD_REQUEST, e.error, &e.description),
        };
    }
    let patient = form.get("patient").filter(|p| !p.trim().is_empty());
    let is_staff = patient_choices(&user).is_none();
    if is_staff && pending.needs_patient_choice() {
        let known = match &patient {
            Some(p) => {
                let ctx = state.context(&rid.0);
                matches!(
                    state.engine.store().read(&ctx, "Patient", p.trim()).await,
                    Ok(Some(v)) if v.content.is_some()
                )
            }
            None => false,
        };
        if !known {
            return approval_page(
                &pending,
                &user,
                Some(("invalid_request", "Enter the id of an existing patient.")),
                &browser,
            );
        }
    }
    let approval = Approval {
        scopes: form.all("scope"),
        patient: patient.map(|p| p.trim().to_string()),
    };
    match auth.approve(&request, &user, auth_time, &approval).await {
        Ok(url) => see_other(&url),
        Err(e) => pages::error(StatusCode::BAD_REQUEST, e.error, &e.description),
    }
}
