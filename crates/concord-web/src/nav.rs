//! The role-aware navigation menu. An entry is shown when the user's role
//! may do `letter` on `resource_type` per the permission matrix
//! (`docs/security.md`); the engine still decides every read and write.
//! Add an entry here when you add a top-level page.

use concord_auth::Role;

use crate::session::role_may;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// The resource type and interaction letter the page is about.
    pub resource_type: &'static str,
    pub letter: char,
}

pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/ui/patients",
        label: "Find patient",
        resource_type: "Patient",
        letter: 's',
    },
    NavItem {
        href: "/ui/patients/new",
        label: "Register patient",
        resource_type: "Patient",
        letter: 'c',
    },
    NavItem {
        href: "/ui/inbox",
        label: "Results inbox",
        resource_type: "Task",
        letter: 'c',
    },
    NavItem {
        href: "/ui/schedule",
        label: "Schedule",
        resource_type: "Appointment",
        letter: 's',
    },
    NavItem {
        href: "/ui/tasks",
        label: "Tasks",
        resource_type: "Task",
        letter: 's',
    },
    // Sending needs `c` on Communication: physicians, nurses, medical
    // assistants (billing may read clinical data but sends no messages).
    NavItem {
        href: "/ui/messages",
        label: "Messages",
        resource_type: "Communication",
        letter: 'c',
    },
];

/// The entries `role` sees.
pub fn items_for(role: Role) -> impl Iterator<Item = &'static NavItem> {
    NAV.iter()
        .filter(move |i| role_may(role, i.letter, i.resource_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_follow_the_matrix() {
        let labels = |r: Role| items_for(r).map(|i| i.label).collect::<Vec<_>>();
        assert!(labels(Role::Physician).contains(&"Register patient"));
        assert!(labels(Role::FrontDesk).contains(&"Find patient"));
        // Billing may search demographics but not create patients.
        assert!(!labels(Role::Billing).contains(&"Register patient"));
        // System administrators see no patient data at all.
        assert!(labels(Role::SystemAdmin).is_empty());
        assert!(labels(Role::Nurse).contains(&"Messages"));
        assert!(labels(Role::MedicalAssistant).contains(&"Messages"));
        assert!(!labels(Role::FrontDesk).contains(&"Messages"));
        assert!(!labels(Role::Billing).contains(&"Messages"));
    }
}
