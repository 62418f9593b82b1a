//! Account kinds and staff roles.

use std::fmt;

/// A staff role. Each has one row in the permission matrix (`docs/security.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Physician,
    Nurse,
    MedicalAssistant,
    FrontDesk,
    Billing,
    PracticeAdmin,
    SecurityOfficer,
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Physician,
        Role::Nurse,
        Role::MedicalAssistant,
        Role::FrontDesk,
        Role::Billing,
        Role::PracticeAdmin,
        Role::SecurityOfficer,
        Role::SystemAdmin,
    ];

    /// The code used in storage, tokens, the CLI and `docs/security.md`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Physician => "physician",
            Role::Nurse => "nurse",
            Role::MedicalAssistant => "medical-assistant",
            Role::FrontDesk => "front-desk",
            Role::Billing => "billing",
            Role::PracticeAdmin => "practice-admin",
            Role::SecurityOfficer => "security-officer",
            Role::SystemAdmin => "system-admin",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// May manage accounts and clients (add, disable, reset passwords).
    pub fn administers_accounts(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityOfficer | Role::PracticeAdmin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What an account is, with what it needs to be checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A member of staff; permissions come from the role's matrix row.
    Staff(Role),
    /// A patient; sees only their own compartment.
    Patient { patient: String },
    /// A guardian or other proxy; sees only the compartments of the listed patients.
    Proxy { patients: Vec<String> },
}

impl AccountKind {
    /// The stored `kind` code.
    pub fn code(&self) -> &'static str {
        match self {
            AccountKind::Staff(_) => "staff",
            AccountKind::Patient { .. } => "patient",
            AccountKind::Proxy { .. } => "proxy",
        }
    }

    /// Patient ids whose compartments the account may see (empty for staff).
    pub fn patients(&self) -> Vec<String> {
        match self {
            AccountKind::Staff(_) => Vec::new(),
            AccountKind::Patient { patient } => vec![patient.clone()],
            AccountKind::Proxy { patients } => patients.clone(),
        }
    }

    /// Rebuilds the kind from stored fields; `None` if they do not fit together.
    pub fn from_parts(kind: &str, role: Option<&str>, patients: &[String]) -> Option<AccountKind> {
        match kind {
            "staff" => role.and_then(Role::parse).map(AccountKind::Staff),
            "patient" => match patients {
                [one] => Some(AccountKind::Patient {
                    patient: one.clone(),
                }),
                _ => None,
            },
            "proxy" if !patients.is_empty() => Some(AccountKind::Proxy {
                patients: patients.to_vec(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("doctor"), None);
    }

    #[test]
    fn kinds_round_trip_and_reject_misfits() {
        let kinds = [
            AccountKind::Staff(Role::Nurse),
            AccountKind::Patient {
                patient: "p1".into(),
            },
            AccountKind::Proxy {
                patients: vec!["c1".into(), "c2".into()],
            },
        ];
        for kind in kinds {
            let role = match &kind {
                AccountKind::Staff(r) => Some(r.code()),
                _ => None,
            };
            assert_eq!(
                AccountKind::from_parts(kind.code(), role, &kind.patients()),
                Some(kind.clone())
            );
        }
        assert_eq!(AccountKind::from_parts("staff", Some("boss"), &[]), None);
        assert_eq!(AccountKind::from_parts("patient", None, &[]), None);
        assert_eq!(AccountKind::from_parts("proxy", None, &[]), None);
        assert_eq!(AccountKind::from_parts("robot", None, &[]), None);
    }
}
