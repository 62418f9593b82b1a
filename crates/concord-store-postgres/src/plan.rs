//! The pure decision for one write, given the resource's current row.

use concord_store::{PendingWrite, Precondition, StoreError, WriteKind, WriteOutcome};

/// The current row of a resource, as locked inside the commit transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Current {
    pub version: i64,
    pub last_updated: i64,
    pub kind: WriteKind,
}

/// What to do for one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Nothing to write (delete of something absent or already deleted).
    NoOp,
    /// Write this new version.
    Write { version: i64, outcome: WriteOutcome },
}

/// Decides a write against the current row, or refuses it.
pub(crate) fn plan(write: &PendingWrite, current: Option<Current>) -> Result<Plan, StoreError> {
    if write.kind == WriteKind::Create && current.is_some() {
        return Err(StoreError::AlreadyExists {
            resource_type: write.resource_type.clone(),
            id: write.id.clone(),
        });
    }
    if let Precondition::VersionIs(expected) = write.precondition {
        let actual = current.map(|c| c.version);
        if actual != Some(expected) {
            return Err(StoreError::VersionConflict {
                resource_type: write.resource_type.clone(),
                id: write.id.clone(),
                expected,
                current: actual,
            });
        }
    }
    let next = current.map_or(1, |c| c.version + 1);
    let live = current.filter(|c| c.kind != WriteKind::Delete);
    Ok(match write.kind {
        WriteKind::Create => Plan::Write {
            version: next,
            outcome: WriteOutcome::Created,
        },
        WriteKind::Update => Plan::Write {
            version: next,
            outcome: if live.is_some() {
                WriteOutcome::Updated
            } else {
                WriteOutcome::Created
            },
        },
        WriteKind::Delete => match live {
            Some(_) => Plan::Write {
                version: next,
                outcome: WriteOutcome::Deleted,
            },
            None => Plan::NoOp,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_store::IndexRows;

    fn w(kind: WriteKind, precondition: Precondition) -> PendingWrite {
        PendingWrite {
            resource_type: "Patient".into(),
            id: "p".into(),
            kind,
            precondition,
            resource: None,
            index: IndexRows::default(),
        }
    }

    fn cur(version: i64, kind: WriteKind) -> Option<Current> {
        Some(Current {
            version,
            last_updated: 0,
            kind,
        })
    }

    #[test]
    fn create_needs_a_fresh_id() {
        let create = w(WriteKind::Create, Precondition::None);
        assert_eq!(
            plan(&create, None).unwrap(),
            Plan::Write {
                version: 1,
                outcome: WriteOutcome::Created
            }
        );
        assert!(matches!(
            plan(&create, cur(2, WriteKind::Delete)),
            Err(StoreError::AlreadyExists { .. })
        ));
    }

    #[test]
    fn update_after_delete_is_a_create() {
        let update = w(WriteKind::Update, Precondition::None);
        assert_eq!(
            plan(&update, cur(2, WriteKind::Delete)).unwrap(),
            Plan::Write {
                version: 3,
                outcome: WriteOutcome::Created
            }
        );
        assert_eq!(
            plan(&update, cur(2, WriteKind::Update)).unwrap(),
            Plan::Write {
                version: 3,
                outcome: WriteOutcome::Updated
            }
        );
    }

    #[test]
    fn preconditions_and_noop_deletes() {
        let guarded = w(WriteKind::Update, Precondition::VersionIs(1));
        assert!(matches!(
            plan(&guarded, None),
            Err(StoreError::VersionConflict {
                expected: 1,
                current: None,
                ..
            })
        ));
        assert!(matches!(
            plan(&guarded, cur(2, WriteKind::Update)),
            Err(StoreError::VersionConflict {
                expected: 1,
                current: Some(2),
                ..
            })
        ));
        let delete = w(WriteKind::Delete, Precondition::None);
        assert_eq!(plan(&delete, None).unwrap(), Plan::NoOp);
        assert_eq!(
            plan(&delete, cur(3, WriteKind::Delete)).unwrap(),
            Plan::NoOp
        );
    }
}
