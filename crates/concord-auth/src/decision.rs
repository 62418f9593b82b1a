//! The access decision: role permissions ∩ token scopes ∩ patient compartment.
//!
//! `compartment_patient` is the Patient the resource belongs to (the
//! resource's own id for a Patient; for a create, the patient the new
//! resource names), or `None` when the resource is not in any patient's
//! compartment (a Practitioner, a Medication, a ValueSet). Callers that
//! search must confine the search to the principal's patients themselves.

use crate::interaction::Interaction;
use crate::matrix::{permitted_for_type, MatrixRow};
use crate::principal::{Principal, Subject};
use crate::role::AccountKind;
use crate::scope::{ResourceScope, ScopeContext};

/// Why access was refused (safe to show the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// No granted scope covers this interaction on this type.
    NoScope,
    /// The account's role does not permit it (permission matrix).
    RoleForbids,
    /// A patient-context token asked for another patient's data.
    OutsidePatientContext,
    /// A patient or proxy account asked for data of someone not linked to it.
    NotLinkedPatient,
    /// A patient-context token tried to write data not tied to its patient.
    PatientContextWrite,
}

impl DenyReason {
    pub fn message(self) -> &'static str {
        match self {
            DenyReason::NoScope => "the access token's scopes do not permit this interaction",
            DenyReason::RoleForbids => "the user's role does not permit this interaction",
            DenyReason::OutsidePatientContext => {
                "the access token is limited to another patient's data"
            }
            DenyReason::NotLinkedPatient => "the account may only see its own patients' data",
            DenyReason::PatientContextWrite => {
                "a patient-context token may only write data about its patient"
            }
        }
    }
}

/// The outcome of [`may`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed only for resources matching one of these granular filters
    /// (each a list of `param=value` that must all hold); the caller checks.
    AllowIf(Vec<Vec<(String, String)>>),
    Deny(DenyReason),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        !matches!(self, Decision::Deny(_))
    }
}

/// May `principal` perform `interaction` on a resource of `resource_type`
/// belonging to `compartment_patient`?
pub fn may(
    principal: &Principal,
    interaction: Interaction,
    resource_type: &str,
    compartment_patient: Option<&str>,
) -> Decision {
    let letter = interaction.letter();
    // 1. Role (users only): the permission matrix, and for patients and
    //    proxies, only their linked patients' compartments.
    if let Subject::User { kind, .. } = &principal.subject {
        let row = match kind {
            AccountKind::Staff(role) => MatrixRow::Staff(*role),
            AccountKind::Patient { .. } => MatrixRow::Patient,
            AccountKind::Proxy { .. } => MatrixRow::Proxy,
        };
        if !permitted_for_type(row, resource_type).has(letter) {
            return Decision::Deny(DenyReason::RoleForbids);
        }
        if !matches!(kind, AccountKind::Staff(_)) {
            if let Some(p) = compartment_patient {
                if !kind.patients().iter().any(|linked| linked == p) {
                    return Decision::Deny(DenyReason::NotLinkedPatient);
                }
            }
        }
    }
    // 2. Scopes: which contexts this kind of subject may use.
    let usable = |s: &&ResourceScope| {
        matches!(
            (&principal.subject, s.context),
            (
                Subject::User { .. },
                ScopeContext::Patient | ScopeContext::User
            ) | (
                Subject::Client { .. } | Subject::Operator { .. },
                ScopeContext::System
            )
        )
    };
    let mut reason = DenyReason::NoScope;
    let mut filters = Vec::new();
    for scope in principal.scopes.resource_scopes().filter(usable) {
        if !scope.covers_type(resource_type) || !scope.perms.has(letter) {
            continue;
        }
        // 3. Patient context for patient/ scopes.
        if scope.context == ScopeContext::Patient {
            match (principal.patient.as_deref(), compartment_patient) {
                (Some(ctx), Some(p)) if ctx == p => {}
                (Some(_), Some(_)) | (None, _) => {
                    reason = DenyReason::OutsidePatientContext;
                    continue;
                }
                (Some(_), None) if !interaction.is_read() => {
                    reason = DenyReason::PatientContextWrite;
                    continue;
                }
                (Some(_), None) => {}
            }
        }
        if scope.filter.is_empty() {
            return Decision::Allow;
        }
        filters.push(scope.filter.clone());
    }
    if filters.is_empty() {
        Decision::Deny(reason)
    } else {
        Decision::AllowIf(filters)
    }
}

#[cfg(test)]
mod tests;
