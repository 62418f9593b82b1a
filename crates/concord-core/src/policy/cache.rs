//! The slow, rarely changing inputs of an access policy, kept between
//! requests: a practitioner's care team (three searches over the tenant's
//! patients, encounters and care teams — milliseconds for a physician with
//! thousands of patients) and the tenant's patient-privacy consent denials
//! (every active Consent read and parsed).
//!
//! An entry is used only while nothing that could change it has been
//! written through this engine since it was made (a write of a type in
//! [`POLICY_TYPES`] starts a new generation; the generation is taken
//! *before* the lookups, so a write racing with them leaves the entry
//! already stale) and for at most [`MAX_AGE`], which bounds how long a
//! change written by another Concord process sharing the database (several
//! servers on one PostgreSQL) takes to apply here. Break-the-glass grants
//! are not cached.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::consent::Denial;

/// Resource types whose writes can change a care team or a consent rule:
/// care teams come from `Patient.generalPractitioner`, `CareTeam` and
/// `Encounter` participants; consent rules from `Consent` and, for
/// organisations, `PractitionerRole`.
pub const POLICY_TYPES: &[&str] = &[
    "Patient",
    "CareTeam",
    "Encounter",
    "Consent",
    "PractitionerRole",
];

/// The longest an entry is used (see the module docs).
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// Entries kept per map; the map is emptied when it would grow past this.
const MAX_ENTRIES: usize = 4_096;

/// A patient set shared between the requests that use it.
pub type PatientSet = Arc<BTreeSet<String>>;

/// A practitioner's care team as cached: every patient (`all`), and the
/// patients it has for another reason than being their general
/// practitioner (`beyond_gp`; a search of Patients tests the general
/// practitioner on each candidate's own index rows and lists only these).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CareTeam {
    pub all: PatientSet,
    pub beyond_gp: PatientSet,
}

struct Cached<T> {
    generation: u64,
    made: Instant,
    value: T,
}

/// Per-engine cache; cheap to share.
#[derive(Default)]
pub struct PolicyCache {
    generation: AtomicU64,
    /// (tenant, Practitioner reference) → care team.
    care_teams: Mutex<HashMap<(String, String), Cached<CareTeam>>>,
    /// tenant → every active patient-privacy denial.
    denials: Mutex<HashMap<String, Cached<Arc<Vec<Denial>>>>>,
}

impl PolicyCache {
    /// Called after a commit that wrote these resource types.
    pub fn written<'a>(&self, types: impl IntoIterator<Item = &'a str>) {
        if types.into_iter().any(|t| POLICY_TYPES.contains(&t)) {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The current generation: take it before looking anything up.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn care_team(&self, tenant: &str, practitioner: &str) -> Option<CareTeam> {
        let key = (tenant.to_string(), practitioner.to_string());
        self.get(&self.care_teams, &key)
    }

    pub fn keep_care_team(&self, tenant: &str, practitioner: &str, generation: u64, v: CareTeam) {
        let key = (tenant.to_string(), practitioner.to_string());
        put(&self.care_teams, key, generation, v);
    }

    pub fn denials(&self, tenant: &str) -> Option<Arc<Vec<Denial>>> {
        self.get(&self.denials, &tenant.to_string())
    }

    pub fn keep_denials(&self, tenant: &str, generation: u64, v: Arc<Vec<Denial>>) {
        put(&self.denials, tenant.to_string(), generation, v);
    }

    fn get<K: Eq + Hash, T: Clone>(
        &self,
        map: &Mutex<HashMap<K, Cached<T>>>,
        key: &K,
    ) -> Option<T> {
        let now = self.generation();
        let map = map.lock().ok()?;
        map.get(key)
            .filter(|c| c.generation == now && c.made.elapsed() < MAX_AGE)
            .map(|c| c.value.clone())
    }
}

fn put<K: Eq + Hash, T>(map: &Mutex<HashMap<K, Cached<T>>>, key: K, generation: u64, value: T) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Cached {
                generation,
                made: Instant::now(),
                value,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> CareTeam {
        CareTeam {
            all: Arc::new(ids.iter().map(|s| s.to_string()).collect()),
            beyond_gp: PatientSet::default(),
        }
    }

    #[test]
    fn entries_serve_until_a_policy_write_or_their_age() {
        let cache = PolicyCache::default();
        let g = cache.generation();
        cache.keep_care_team("t", "Practitioner/1", g, set(&["a"]));
        assert_eq!(cache.care_team("t", "Practitioner/1"), Some(set(&["a"])));
        assert_eq!(cache.care_team("t", "Practitioner/2"), None);
        assert_eq!(cache.care_team("u", "Practitioner/1"), None);
        // Observations do not change care teams; an Encounter may.
        cache.written(["Observation", "DiagnosticReport"]);
        assert!(cache.care_team("t", "Practitioner/1").is_some());
        cache.written(["Observation", "Encounter"]);
        assert_eq!(cache.care_team("t", "Practitioner/1"), None);
    }

    #[test]
    fn a_lookup_raced_by_a_write_is_not_served() {
        let cache = PolicyCache::default();
        let before = cache.generation();
        // A Consent is written while the denials are being read ...
        cache.written(["Consent"]);
        // ... so what was read under the old generation is never served.
        cache.keep_denials("t", before, Arc::new(Vec::new()));
        assert!(cache.denials("t").is_none());
        cache.keep_denials("t", cache.generation(), Arc::new(Vec::new()));
        assert!(cache.denials("t").is_some());
    }
}
