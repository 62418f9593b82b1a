//! Whether a caller may read every resource type unconfined — the "sees
//! everything" shortcut of [`super::RequestPolicy`] (no search confinement,
//! no per-resource read check). Deciding it asks [`may`] about each of the
//! R4 resource types, and the answer depends only on who the caller is
//! (subject kind, staff role or linked patients), its scopes and whether
//! its token has a patient in context — not on any stored data — so it is
//! computed once per such combination and kept for the life of the
//! process. A role change or a narrower token is a different key (tokens
//! carry role and scopes), so it can never be served a stale answer.

use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, RwLock};

use concord_auth::{may, AccountKind, Decision, Interaction, Principal, ScopeSet, Subject};
use indexmap::{Equivalent, IndexMap};

/// Combinations kept at most; the map is emptied when it would grow past this.
const MAX_ENTRIES: usize = 1_024;

/// Everything `may` looks at, besides the resource type, borrowed from the
/// principal: looking an answer up builds nothing.
#[derive(PartialEq, Eq, Hash)]
struct KeyRef<'a> {
    /// The account kind (with its role or linked patients) of a user;
    /// `None` for clients and operators, told apart by `client`.
    kind: Option<&'a AccountKind>,
    client: bool,
    /// The granted scopes.
    scopes: &'a ScopeSet,
    /// Whether the token has a patient in launch context.
    patient_context: bool,
}

impl<'a> KeyRef<'a> {
    fn of(p: &'a Principal) -> KeyRef<'a> {
        let (kind, client) = match &p.subject {
            Subject::User { kind, .. } => (Some(kind), false),
            Subject::Client { .. } => (None, true),
            Subject::Operator { .. } => (None, false),
        };
        KeyRef {
            kind,
            client,
            scopes: &p.scopes,
            patient_context: p.patient.is_some(),
        }
    }
}

/// The stored key: the same parts, owned. It hashes as its [`KeyRef`], so
/// the map is searched with a borrowed one ([`Equivalent`]).
#[derive(PartialEq, Eq)]
struct Key {
    kind: Option<AccountKind>,
    client: bool,
    scopes: ScopeSet,
    patient_context: bool,
}

impl Key {
    fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            kind: self.kind.as_ref(),
            client: self.client,
            scopes: &self.scopes,
            patient_context: self.patient_context,
        }
    }
}

impl From<KeyRef<'_>> for Key {
    fn from(k: KeyRef<'_>) -> Key {
        Key {
            kind: k.kind.cloned(),
            client: k.client,
            scopes: k.scopes.clone(),
            patient_context: k.patient_context,
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_ref().hash(h);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self == key.as_ref()
    }
}

/// Asks `may` about every resource type (the uncached answer).
pub(super) fn compute(principal: &Principal) -> bool {
    concord_fhir::RESOURCE_TYPES
        .iter()
        .all(|t| may(principal, Interaction::Read, t, Some("")) == Decision::Allow)
}

fn cache() -> &'static RwLock<IndexMap<Key, bool>> {
    static CACHE: OnceLock<RwLock<IndexMap<Key, bool>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(IndexMap::new()))
}

/// Whether `principal` may read every resource type of every compartment.
pub(super) fn reads_everything(principal: &Principal) -> bool {
    let key = KeyRef::of(principal);
    if let Some(v) = cache().read().ok().and_then(|m| m.get(&key).copied()) {
        return v;
    }
    let v = compute(principal);
    if let Ok(mut m) = cache().write() {
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(key.into(), v);
    }
    v
}

#[cfg(test)]
mod tests {
    use concord_auth::{Role, ScopeSet};

    use super::*;

    fn principal(subject: Subject, scopes: &str, patient: Option<&str>) -> Principal {
        Principal {
            subject,
            scopes: ScopeSet::parse(scopes).unwrap(),
            client_id: None,
            patient: patient.map(str::to_string),
            encounter: None,
            fhir_user: None,
            token_id: None,
        }
    }

    fn staff(role: Role, scopes: &str) -> Principal {
        principal(
            Subject::User {
                id: "u1".into(),
                kind: AccountKind::Staff(role),
            },
            scopes,
            None,
        )
    }

    /// The cached answer is the computed one for every combination, asked
    /// twice (the second time from the cache), interleaved so a wrong key
    /// would serve one caller another's answer.
    #[test]
    fn cached_answers_match_the_computed_ones_per_role_scopes_and_context() {
        let operator = |scopes| principal(Subject::Operator { name: "ops".into() }, scopes, None);
        let callers = vec![
            operator("system/*.rs"),
            operator("system/Patient.rs"),
            operator("system/*.cruds"),
            staff(Role::SystemAdmin, "user/*.cruds"),
            staff(Role::Billing, "user/*.cruds"),
            staff(Role::SecurityOfficer, "user/*.rs"),
            staff(Role::FrontDesk, "user/*.rs"),
            principal(
                Subject::User {
                    id: "p1".into(),
                    kind: AccountKind::Patient {
                        patient: "pt1".into(),
                    },
                },
                "patient/*.rs",
                Some("pt1"),
            ),
            principal(
                Subject::Client {
                    client_id: "c".into(),
                },
                "system/*.rs",
                None,
            ),
        ];
        let expected: Vec<bool> = callers.iter().map(compute).collect();
        assert!(expected.contains(&true) && expected.contains(&false));
        for _ in 0..2 {
            for (c, e) in callers.iter().zip(&expected) {
                assert_eq!(reads_everything(c), *e, "{:?}", c.subject);
            }
        }
        // The same role with narrower scopes, or another role with the same
        // scopes, is another key.
        assert!(reads_everything(&operator("system/*.rs")));
        assert!(!reads_everything(&operator("system/Patient.rs")));
    }
}
