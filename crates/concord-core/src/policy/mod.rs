//! The access policy of one request: role permissions ∩ token scopes ∩
//! patient compartment ∩ care team (clinical roles) ∩ consent. It answers
//! the core's questions (confine a search, may read, may write) without
//! I/O; [`load`] ([`snapshot`]) reads what it needs first.
//!
//! Shared by every front door — the FHIR API's bearer-token guard and the
//! web UI's session — so both decide identically.
//!
//! Every decision goes through [`RequestPolicy::decide`]: the one place
//! where allowed/denied, principal, patients and interaction meet (audit
//! hooks in there).

use std::collections::BTreeSet;

use concord_auth::{may, AccountKind, Decision, DenyReason, Interaction, Principal, Role, Subject};
use concord_fhir::compartments::compartment_params;
use concord_search::plan::{self, PlanContext};
use concord_search::query::{parse_pairs, Handling};
use concord_store::search::Condition;
use concord_store::{AccessPolicy, Actor, Confinement, Denied, WriteAccess};
use serde_json::Value;

pub(crate) mod cache;
mod compartment;
mod consent;
mod everything;
mod snapshot;

pub use snapshot::load;

use compartment::{matches_filter, patients_of, UNDERSTOOD};
pub use consent::{denials, ConsentActor, ConsentRule, Denial, CLIENT_SYSTEM};

/// Roles whose access to patient data is limited to their care team.
pub fn is_clinical(role: Role) -> bool {
    matches!(role, Role::Physician | Role::Nurse | Role::MedicalAssistant)
}

/// The caller and everything its decisions depend on.
#[derive(Debug, Clone)]
pub struct RequestPolicy {
    pub principal: Principal,
    /// Patients whose care team the user is on (clinical roles only);
    /// shared with the policy cache (`cache`).
    pub care_team: cache::PatientSet,
    /// Patients the user has live break-the-glass access to.
    pub glass: BTreeSet<String>,
    /// Consent denials that name this caller.
    pub consents: Vec<ConsentRule>,
    /// With a care team loaded by [`load`]: the user's Practitioner and the
    /// care-team patients it is not general practitioner of. Searches of
    /// Patients then test `general-practitioner` on each candidate instead
    /// of listing the whole panel (`restriction`).
    gp_panel: Option<(String, cache::PatientSet)>,
    everything: bool,
}

/// The outcome of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny(&'static str),
}

impl Verdict {
    fn allowed(&self) -> bool {
        *self == Verdict::Allow
    }
}

const CARE_TEAM: &str =
    "the patient is not in the user's care team (break-the-glass gives emergency access)";
const CONSENT: &str = "the patient's consent does not permit sharing this with the caller";

/// Whether `resource_type` can be in a Patient compartment.
fn in_patient_compartment(resource_type: &str) -> bool {
    resource_type == "Patient" || !compartment_params("Patient", resource_type).is_empty()
}

fn or(mut list: Vec<Condition>) -> Condition {
    match list.len() {
        0 => Condition::Never,
        1 => list.remove(0),
        _ => Condition::Any(list),
    }
}

fn and(mut list: Vec<Condition>) -> Option<Condition> {
    match list.len() {
        0 => None,
        1 => Some(list.remove(0)),
        _ => Some(Condition::All(list)),
    }
}

fn compartment(patient: &str) -> Condition {
    Condition::Compartment {
        compartment_type: "Patient".into(),
        compartment_id: patient.to_string(),
    }
}

/// Search conditions for `param=value` pairs on `resource_type` (a
/// granular scope's filter, a consent's labels); nothing matches if they
/// cannot be lowered (fail closed).
fn lowered(resource_type: &str, pairs: &[(String, String)]) -> Condition {
    let cx = PlanContext {
        base_url: String::new(),
        now: concord_store::timestamp::now_millis(),
    };
    let plan = parse_pairs(Some(resource_type), pairs, Handling::Strict)
        .ok()
        .and_then(|q| plan::lower(&q, 1, &cx).ok());
    match plan {
        Some(p) if !p.conditions.is_empty() => and(p.conditions).unwrap_or(Condition::Never),
        _ => Condition::Never,
    }
}

/// What one decision of [`may`] adds to a search of one type.
fn decision_condition(resource_type: &str, d: &Decision) -> Option<Option<Condition>> {
    match d {
        Decision::Allow => Some(None),
        Decision::AllowIf(filters) => Some(Some(or(filters
            .iter()
            .map(|f| {
                // Only what reads understand (`matches_filter`), so a search
                // never counts what a read would refuse.
                if f.iter().all(|(p, _)| UNDERSTOOD.contains(&p.as_str())) {
                    lowered(resource_type, f)
                } else {
                    Condition::Never
                }
            })
            .collect()))),
        Decision::Deny(_) => None,
    }
}

/// Whether `principal` is clinical staff (confined to a care team).
pub(crate) fn clinical_principal(principal: &Principal) -> bool {
    matches!(
        &principal.subject,
        Subject::User { kind: AccountKind::Staff(role), .. } if is_clinical(*role)
    )
}

impl RequestPolicy {
    pub fn new(
        principal: Principal,
        care_team: BTreeSet<String>,
        glass: BTreeSet<String>,
        consents: Vec<ConsentRule>,
    ) -> RequestPolicy {
        RequestPolicy::with_shared_care_team(
            principal,
            std::sync::Arc::new(care_team),
            glass,
            consents,
        )
    }

    /// As [`RequestPolicy::new`], with a care team shared with others.
    pub fn with_shared_care_team(
        principal: Principal,
        care_team: cache::PatientSet,
        glass: BTreeSet<String>,
        consents: Vec<ConsentRule>,
    ) -> RequestPolicy {
        let mut p = RequestPolicy {
            principal,
            care_team,
            glass,
            consents,
            gp_panel: None,
            everything: false,
        };
        // Role and scopes only: kept per combination (`everything`).
        p.everything =
            !p.clinical() && p.consents.is_empty() && everything::reads_everything(&p.principal);
        p
    }

    /// Says that `care_team` is every patient whose general practitioner is
    /// `practitioner`, plus `beyond_gp` (see the field).
    pub fn with_gp_panel(mut self, practitioner: &str, beyond_gp: cache::PatientSet) -> Self {
        self.gp_panel = Some((practitioner.to_string(), beyond_gp));
        self
    }

    /// Whether a search of `resource_type` tests the general practitioner
    /// per candidate rather than listing the panel (Patients, with a panel
    /// known from [`load`]).
    fn tests_gp(&self, resource_type: &str) -> bool {
        self.gp_panel.is_some() && resource_type == "Patient"
    }

    /// The care-team alternatives of a search of `resource_type`: a
    /// compartment per treated patient; for Patients with a known panel, the
    /// candidate's own `general-practitioner` rows plus the rest listed (a
    /// general practitioner's panel can be tens of thousands of patients,
    /// each listed id costing every search).
    fn treated(&self, resource_type: &str) -> Vec<Condition> {
        match &self.gp_panel {
            Some((practitioner, beyond_gp)) if self.tests_gp(resource_type) => {
                let own = lowered(
                    "Patient",
                    &[("general-practitioner".into(), practitioner.clone())],
                );
                std::iter::once(own)
                    .chain(
                        beyond_gp
                            .iter()
                            .chain(self.glass.iter())
                            .map(|p| compartment(p)),
                    )
                    .collect()
            }
            _ => self
                .care_team
                .iter()
                .chain(self.glass.iter())
                .map(|p| compartment(p))
                .collect(),
        }
    }

    /// Whether the care-team rule applies (a clinical staff role).
    pub fn clinical(&self) -> bool {
        clinical_principal(&self.principal)
    }

    /// Patients the caller treats (care team or break-the-glass).
    fn treats(&self, patient: &str) -> bool {
        self.care_team.contains(patient) || self.glass.contains(patient)
    }

    /// Patients the caller may be confined to (linked patients, launch context).
    fn candidate_patients(&self) -> Vec<String> {
        let mut out = match &self.principal.subject {
            Subject::User { kind, .. } => kind.patients(),
            _ => Vec::new(),
        };
        if let Some(p) = &self.principal.patient {
            out.push(p.clone());
        }
        out.sort();
        out.dedup();
        out
    }

    /// Consent rules that bind the caller for `patient`.
    fn consents_for<'a>(&'a self, patient: &'a str) -> impl Iterator<Item = &'a ConsentRule> {
        let exempt =
            self.clinical() && self.care_team.contains(patient) || self.glass.contains(patient);
        self.consents
            .iter()
            .filter(move |r| !exempt && r.patient == patient)
    }

    /// THE decision: may the caller perform `interaction` on `resource`
    /// (or, without one, on resources of `resource_type` in no compartment)?
    pub fn decide(
        &self,
        interaction: Interaction,
        resource_type: &str,
        resource: Option<&Value>,
    ) -> Verdict {
        let patients = resource.map(patients_of).unwrap_or_default();
        let verdict = self.judge(interaction, resource_type, resource, &patients);
        // Audit hook: principal, patients, interaction and verdict meet here.
        tracing::debug!(
            actor = %self.principal.actor_id(),
            interaction = ?interaction,
            resource_type,
            patients = ?patients,
            allowed = verdict.allowed(),
            "access decision"
        );
        verdict
    }

    fn judge(
        &self,
        interaction: Interaction,
        resource_type: &str,
        resource: Option<&Value>,
        patients: &[String],
    ) -> Verdict {
        // 1. Role ∩ scopes ∩ patient compartment.
        let decisions: Vec<Decision> = if patients.is_empty() {
            vec![may(&self.principal, interaction, resource_type, None)]
        } else {
            patients
                .iter()
                .map(|pt| may(&self.principal, interaction, resource_type, Some(pt)))
                .collect()
        };
        let permitted = |d: &Decision| match d {
            Decision::Allow => true,
            Decision::AllowIf(filters) => {
                resource.is_some_and(|r| filters.iter().any(|f| matches_filter(r, f)))
            }
            Decision::Deny(_) => false,
        };
        // Reads: one permitted compartment suffices; writes: every one must be.
        let ok = if interaction.is_read() {
            decisions.iter().any(permitted)
        } else {
            decisions.iter().all(permitted)
        };
        if !ok {
            let reason = decisions.iter().find_map(|d| match d {
                Decision::Deny(r) => Some(*r),
                _ => None,
            });
            return Verdict::Deny(reason.map_or(
                "the access token's scopes allow only resources matching their filters",
                DenyReason::message,
            ));
        }
        // 2. Care team (clinical roles): reads need one treated patient,
        //    writes every patient touched. Registering a new Patient is free.
        if self.clinical() && !patients.is_empty() {
            let registering = interaction == Interaction::Create && resource_type == "Patient";
            let treated = if interaction.is_read() {
                patients.iter().any(|p| self.treats(p))
            } else {
                patients.iter().all(|p| self.treats(p))
            };
            if !treated && !registering {
                return Verdict::Deny(CARE_TEAM);
            }
        }
        // 3. Consent governs disclosure: reads only.
        if interaction.is_read() {
            if let Some(r) = resource {
                let refused = patients
                    .iter()
                    .any(|p| self.consents_for(p).any(|rule| rule.covers(r)));
                if refused {
                    return Verdict::Deny(CONSENT);
                }
            }
        }
        Verdict::Allow
    }

    /// The condition confining a search of one type, `Err` if it may not be searched.
    fn restriction(&self, resource_type: &str) -> Result<Option<Condition>, String> {
        let mut parts = Vec::new();
        let denied = |d: &Decision| match d {
            Decision::Deny(r) => r.message().to_string(),
            _ => DenyReason::NoScope.message().to_string(),
        };
        if in_patient_compartment(resource_type) {
            // Unconfined: allowed for a patient who is nobody in particular.
            let anyone = may(
                &self.principal,
                Interaction::Search,
                resource_type,
                Some(""),
            );
            match decision_condition(resource_type, &anyone) {
                Some(c) => parts.extend(c),
                None => {
                    let per_patient: Vec<Condition> = self
                        .candidate_patients()
                        .iter()
                        .filter_map(|p| {
                            let d =
                                may(&self.principal, Interaction::Search, resource_type, Some(p));
                            decision_condition(resource_type, &d).map(|c| match c {
                                None => compartment(p),
                                Some(f) => Condition::All(vec![compartment(p), f]),
                            })
                        })
                        .collect();
                    if per_patient.is_empty() {
                        return Err(denied(&anyone));
                    }
                    parts.push(or(per_patient));
                }
            }
            if self.clinical() {
                // As for reads (`judge`): the care team binds resources of
                // patients; one linked to no patient (a practitioner's
                // `Schedule`, a staff `Communication`) is not confined by it.
                // A Patient is always in its own compartment, so for
                // Patients that alternative never holds: left out, it costs
                // no probe per candidate (and no care team means no match).
                let unlinked = (resource_type != "Patient").then(|| {
                    Condition::Not(Box::new(Condition::InCompartmentOfType {
                        compartment_type: "Patient".into(),
                    }))
                });
                let alternatives: Vec<Condition> = self
                    .treated(resource_type)
                    .into_iter()
                    .chain(unlinked)
                    .collect();
                // A panel tested per candidate stays an `Any` even alone, so
                // it never drives the search: a general practitioner's
                // `general-practitioner` rows may be tens of thousands,
                // where the query's own condition (a name) is a few.
                parts.push(if self.tests_gp(resource_type) {
                    Condition::Any(alternatives)
                } else {
                    or(alternatives)
                });
            }
            let mut seen = BTreeSet::new();
            for rule in &self.consents {
                if !seen.insert((rule.patient.clone(), rule.labels.clone()))
                    || self.consents_for(&rule.patient).next().is_none()
                {
                    continue;
                }
                let mut refused = vec![compartment(&rule.patient)];
                if !rule.labels.is_empty() {
                    refused.push(or(rule
                        .label_params()
                        .into_iter()
                        .map(|pair| lowered(resource_type, &[pair]))
                        .collect()));
                }
                parts.push(Condition::Not(Box::new(
                    and(refused).unwrap_or(Condition::Never),
                )));
            }
        } else {
            let d = may(&self.principal, Interaction::Search, resource_type, None);
            match decision_condition(resource_type, &d) {
                Some(c) => parts.extend(c),
                None => return Err(denied(&d)),
            }
        }
        Ok(and(parts))
    }
}

impl AccessPolicy for RequestPolicy {
    fn confine(&self, types: &[String]) -> Result<Confinement, String> {
        if self.everything {
            return Ok(Confinement::default());
        }
        let explicit = !types.is_empty();
        let all: Vec<String>;
        let list: &[String] = if explicit {
            types
        } else {
            all = concord_fhir::RESOURCE_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect();
            &all
        };
        // Group the types by their restriction.
        let mut groups: Vec<(Option<Condition>, Vec<String>)> = Vec::new();
        for t in list {
            match self.restriction(t) {
                Ok(c) => match groups.iter_mut().find(|(g, _)| *g == c) {
                    Some((_, ts)) => ts.push(t.clone()),
                    None => groups.push((c, vec![t.clone()])),
                },
                Err(why) if explicit => return Err(format!("{t}: {why}")),
                Err(_) => {}
            }
        }
        let allowed: Vec<String> = groups.iter().flat_map(|(_, ts)| ts.clone()).collect();
        let condition = match groups.as_slice() {
            [] => Some(Condition::Never),
            [(c, _)] => c.clone(),
            _ => Some(or(groups
                .into_iter()
                .map(|(c, ts)| match c {
                    None => Condition::Types(ts),
                    Some(c) => Condition::All(vec![Condition::Types(ts), c]),
                })
                .collect())),
        };
        Ok(Confinement {
            types: (!explicit).then_some(allowed),
            condition,
        })
    }

    fn may_read(&self, resource_type: &str, resource: &Value) -> bool {
        self.decide(Interaction::Read, resource_type, Some(resource))
            .allowed()
    }

    fn may_write(
        &self,
        access: WriteAccess,
        resource_type: &str,
        current: Option<&Value>,
        proposed: Option<&Value>,
    ) -> Result<(), Denied> {
        if let Some(c) = current {
            if !self.may_read(resource_type, c) {
                return Err(Denied::Hidden);
            }
        }
        let interaction = match access {
            WriteAccess::Create => Interaction::Create,
            WriteAccess::Update => Interaction::Update,
            WriteAccess::Delete => Interaction::Delete,
        };
        let targets: Vec<Option<&Value>> = match access {
            WriteAccess::Create => vec![proposed],
            WriteAccess::Update => vec![current, proposed],
            WriteAccess::Delete => vec![current],
        };
        for t in targets {
            if let Verdict::Deny(why) = self.decide(interaction, resource_type, t) {
                return Err(Denied::Forbidden(why.to_string()));
            }
        }
        Ok(())
    }

    fn sees_everything(&self) -> bool {
        self.everything
    }

    fn actor(&self) -> Actor {
        match &self.principal.subject {
            Subject::Operator { name } => Actor::Operator(name.clone()),
            _ => Actor::User(self.principal.actor_id()),
        }
    }
}

#[cfg(test)]
mod tests;
