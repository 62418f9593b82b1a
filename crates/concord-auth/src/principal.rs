//! Who is calling, as established from a validated access token.

use crate::role::AccountKind;
use crate::scope::ScopeSet;

/// The party behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A signed-in account (possibly through an app).
    User { id: String, kind: AccountKind },
    /// A backend service (SMART Backend Services, `client_credentials`).
    Client { client_id: String },
    /// An operator token from `concord admin token`.
    Operator { name: String },
}

/// A validated caller: subject, granted scopes and launch context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: Subject,
    pub scopes: ScopeSet,
    /// The client the token was issued to, if any.
    pub client_id: Option<String>,
    /// Launch context: the patient in context.
    pub patient: Option<String>,
    /// Launch context: the encounter in context.
    pub encounter: Option<String>,
    /// FHIR reference of the user (`Practitioner/…`, `Patient/…`).
    pub fhir_user: Option<String>,
    /// Token id, for audit and revocation.
    pub token_id: Option<String>,
}

impl Principal {
    /// An id for logs and audit: account id, client id or operator name.
    pub fn actor_id(&self) -> String {
        match &self.subject {
            Subject::User { id, .. } => format!("user:{id}"),
            Subject::Client { client_id } => format!("client:{client_id}"),
            Subject::Operator { name } => format!("operator:{name}"),
        }
    }
}
