//! concord-web's integration tests: the production router on a real
//! socket (`concord-testkit`), driven over HTTP ([`http`]) and in real
//! headless Chromium ([`browser`]). Every test checks what was stored
//! through the FHIR API afterwards.

mod browser;
mod chromedriver;
mod flows_browser;
mod flows_http;
mod http;
mod support;
