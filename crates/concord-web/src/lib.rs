//! Concord's clinician workspace: server-rendered HTML (maud templates,
//! escaped by default), plain CSS compiled into the binary, SVG charts,
//! no JavaScript build. Every page reads and writes through
//! [`concord_core::Engine`] with a context carrying the signed-in user's
//! access policy ([`concord_core::policy::RequestPolicy`], the same as the
//! FHIR API's), and every request leaves an AuditEvent.
//!
//! The binary and `concord-testkit` merge [`router`] next to the FHIR API;
//! every path is under `/ui`.
#![forbid(unsafe_code)]

mod audit;
pub mod codes;
mod cookies;
mod csrf;
pub mod data;
mod error;
pub mod fhir;
pub mod form;
pub mod layout;
pub mod nav;
pub mod pages;
pub mod paths;
mod session;
mod state;
mod static_files;
pub mod svg;
pub mod vitals;

use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;

pub use audit::MAX_FORM_BYTES;
pub use error::{WebError, WebResult};
pub use form::{csrf_field, Field, Form};
pub use layout::{bare_page, page, page_with};
pub use session::{role_may, Staff};
pub use state::{WebConfig, WebState};

/// The web UI's router (all under `/ui`). Merge it with the FHIR router:
/// it has no fallback of its own (unknown `/ui/…` paths get an HTML 404).
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/ui", get(|| async { Redirect::to(paths::HOME) }))
        .route(paths::HOME, get(pages::home::show))
        .route(
            paths::LOGIN,
            get(pages::login::show).post(pages::login::submit),
        )
        .route(paths::LOGOUT, post(pages::login::logout))
        .route(paths::STATIC_CSS, get(static_files::css))
        .route("/ui/patients", get(pages::patients::search))
        .route(
            "/ui/patients/new",
            get(pages::patients::new).post(pages::patients::create),
        )
        .route("/ui/patients/{id}", get(pages::chart::summary))
        .route(
            "/ui/patients/{id}/edit",
            get(pages::patients::edit).post(pages::patients::update),
        )
        .route("/ui/patients/{id}/timeline", get(pages::chart::timeline))
        .route(
            "/ui/patients/{id}/vitals",
            get(pages::vitals::show).post(pages::vitals::record),
        )
        .route("/ui/patients/{id}/labs", get(pages::labs::show))
        .route(
            "/ui/patients/{id}/problems",
            get(pages::lists::problems).post(pages::lists::add_problem),
        )
        .route(
            "/ui/patients/{id}/problems/{cid}/resolve",
            post(pages::lists::resolve_problem),
        )
        .route(
            "/ui/patients/{id}/allergies",
            get(pages::lists::allergies).post(pages::lists::add_allergy),
        )
        .route(
            "/ui/patients/{id}/medications",
            get(pages::lists::medications).post(pages::lists::start_medication),
        )
        .route(
            "/ui/patients/{id}/medications/{mid}/stop",
            post(pages::lists::stop_medication),
        )
        .route(
            "/ui/patients/{id}/medications/{mid}/change",
            post(pages::lists::change_medication),
        )
        .route(
            "/ui/patients/{id}/immunizations",
            get(pages::lists::immunizations).post(pages::lists::add_immunization),
        )
        .merge(clinical_routes())
        .route("/ui/{*rest}", get(not_found).post(not_found))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::layer,
        ))
        .with_state(state)
}

/// The clinical workflow pages (visit notes, orders, inbox, schedule).
fn clinical_routes() -> Router<WebState> {
    use pages::{inbox, messages, orders, schedule, tasks, visit};
    // Decompress and index ICD-10-CM (under a second) off the request
    // path, so the first diagnosis search does not pay for it.
    let _ = std::thread::Builder::new()
        .name("icd10-index".into())
        .spawn(concord_clinical::icd10::len);
    Router::new()
        .route(
            "/ui/patients/{id}/visit",
            get(visit::show).post(visit::start),
        )
        .route("/ui/notes/{id}", get(visit::editor).post(visit::save))
        .route("/ui/notes/{id}/diagnosis", post(visit::add_diagnosis))
        .route("/ui/notes/{id}/sign", post(visit::sign))
        .route("/ui/notes/{id}/addendum", post(visit::addendum))
        .route("/ui/patients/{id}/orders", get(orders::show))
        .route("/ui/patients/{id}/orders/service", post(orders::order))
        .route("/ui/patients/{id}/orders/rx", post(orders::prescribe))
        .route(inbox::INBOX, get(inbox::show))
        .route(inbox::SIGN_OFF, post(inbox::sign_off))
        .route(schedule::SCHEDULE, get(schedule::show))
        .route("/ui/schedule/setup", post(schedule::setup))
        .route("/ui/schedule/book", post(schedule::book))
        .route("/ui/schedule/cancel", post(schedule::cancel))
        .route("/ui/schedule/reschedule", post(schedule::reschedule))
        .route("/ui/schedule/check-in", post(schedule::check_in))
        .route(tasks::TASKS, get(tasks::show).post(tasks::create))
        .route("/ui/tasks/assign", post(tasks::assign))
        .route("/ui/tasks/complete", post(tasks::complete))
        .route(messages::MESSAGES, get(messages::show).post(messages::send))
        .route("/ui/messages/{id}", get(messages::open))
        .route("/ui/messages/{id}/reply", post(messages::reply))
}

async fn not_found() -> impl IntoResponse {
    WebError::NotFound
}
