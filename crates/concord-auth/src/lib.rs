//! Concord's security core: accounts and roles with the documented
//! permission matrix, password (Argon2id) and TOTP checks with lockout,
//! sessions, SMART App Launch 2 scopes, an OAuth 2.0 / OpenID Connect
//! authorization server's logic (codes with PKCE, refresh rotation,
//! introspection, revocation, Backend Services), signed access tokens, and
//! the access decision [`may`].
//!
//! HTTP lives in `concord-api`; storage behind [`concord_store::AuthStore`].
#![forbid(unsafe_code)]

mod accounts;
mod apps;
mod clients;
mod config;
pub mod csrf;
mod decision;
mod error;
mod glass;
mod interaction;
mod keys;
pub mod matrix;
pub mod oauth;
mod password;
mod perms;
mod principal;
pub mod random;
mod role;
pub mod scope;
mod server;
mod sessions;
pub mod token;
pub mod totp;
mod verified;

pub use accounts::{CreatedUser, LoginError, NewUser};
pub use apps::AuthorizedApp;
pub use clients::{ClientCredentials, ClientType, NewClient, RegisteredClient, JWT_BEARER};
pub use config::AuthConfig;
pub use decision::{may, Decision, DenyReason};
pub use error::AuthError;
pub use glass::GlassAccess;
pub use interaction::Interaction;
pub use oauth::{
    Approval, AuthorizeParams, AuthorizeRejection, OAuthError, PendingAuthorization, TokenRequest,
};
pub use password::{check_policy as check_password_policy, MIN_LENGTH as MIN_PASSWORD_LENGTH};
pub use perms::Perms;
pub use principal::{Principal, Subject};
pub use role::{AccountKind, Role};
pub use scope::{Scope, ScopeContext, ScopeSet};
pub use server::AuthServer;
