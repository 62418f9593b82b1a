//! A deterministic generator of realistic longitudinal FHIR R4 / US Core
//! records: a shared directory (organizations, sites, payers,
//! practitioners) and one transaction Bundle per patient. The same seed and
//! reference date give byte-identical output; patient `i` does not depend on
//! how many patients are generated. See `README.md` and `docs/demo.md`.
#![forbid(unsafe_code)]
// `jw!` (json.rs) munches a resource's tokens one at a time.
#![recursion_limit = "1024"]

mod date;
mod demographics;
mod directory;
mod fhir;
mod json;
mod labs;
mod record;
mod rng;
mod tables;

use serde_json::Value;

pub use directory::{Directory, Staff, StaffRole, PROVIDERS};
pub use labs::{flag, Flag};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// "Today" for the population (`YYYY-MM-DD`): histories end before it,
    /// appointments are booked after it.
    pub reference_date: String,
}

pub struct Generator {
    seed: u64,
    today: i64,
    directory: Directory,
}

impl Generator {
    pub fn new(config: &Config) -> Result<Generator, String> {
        let today = date::parse(&config.reference_date).ok_or_else(|| {
            format!(
                "reference date {:?} is not a YYYY-MM-DD date",
                config.reference_date
            )
        })?;
        let prefix = format!("syn{}", config.seed);
        Ok(Generator {
            seed: config.seed,
            today,
            directory: Directory::new(config.seed, &prefix),
        })
    }

    /// The shared directory (ids of practitioners, organizations, sites).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The directory as a transaction Bundle; load it before the patients.
    pub fn directory_bundle(&self) -> Value {
        self.directory.bundle()
    }

    /// The id of patient `index`.
    pub fn patient_id(&self, index: u64) -> String {
        format!("{}-{index}", self.directory.prefix)
    }

    /// Patient `index`'s Patient resource alone (demographics, an MRN at the
    /// home organization, phone, email, address), for loads that need only
    /// patients (the patient search benchmark). Deterministic, but drawn on
    /// its own: not the same person as in [`Generator::patient_bundle`].
    pub fn patient_only(&self, index: u64) -> Value {
        let mut rng = rng::Rng::new(self.seed ^ 0x9E37_79B9_7F4A_7C15, index);
        let person = demographics::Person::draw(&mut rng, self.today);
        let home = usize::from(!rng.chance(0.6));
        let mrn = (
            Directory::mrn_system(home),
            format!("{}{:07}", ["RB", "NG", "SB", "LC"][home], index + 1),
        );
        let managing = fhir::reference_named(
            "Organization",
            &self.directory.organization_id(home),
            PROVIDERS[home].name,
        );
        let physicians = self.directory.staff_of(home, StaffRole::Physician);
        let Some(pcp) = physicians.get(rng.below(physicians.len().max(1) as u64) as usize) else {
            return Value::Null;
        };
        let practitioner = fhir::reference_named("Practitioner", &pcp.id, &pcp.display());
        let mut w = json::Json::with_capacity(2_048);
        demographics::patient_resource(
            &mut w,
            &mut rng,
            &self.patient_id(index),
            index,
            &person,
            &[mrn],
            &managing,
            &practitioner,
        );
        // The writer's output is well-formed JSON by construction.
        serde_json::from_str(&w.into_string()).unwrap_or(Value::Null)
    }

    /// Patient `index`'s record as JSON text (the fast path: what
    /// `concord generate` writes).
    pub fn patient_record(&self, index: u64) -> PatientRecord {
        record::Record::new(&self.directory, self.seed, index, self.today).build()
    }

    /// Patient `index`'s record as a transaction Bundle (PUT at fixed ids),
    /// parsed from [`PatientRecord::write_bundle`]'s text.
    pub fn patient_bundle(&self, index: u64) -> Value {
        self.patient_record(index).bundle()
    }
}

/// Where one resource is in a [`PatientRecord`]'s text.
struct Span {
    kind: &'static str,
    id: String,
    range: std::ops::Range<usize>,
}

/// One patient's resources as compact JSON text, in the order a
/// transaction Bundle lists them.
pub struct PatientRecord {
    text: String,
    spans: Vec<Span>,
}

/// One resource of a [`PatientRecord`].
pub struct Resource<'a> {
    /// The resource type (`Patient`, `Observation`, ...).
    pub kind: &'static str,
    pub id: &'a str,
    /// The resource as compact JSON (one line).
    pub json: &'a str,
}

impl PatientRecord {
    /// How many resources the record has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The length of the resources' JSON text, all together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        self.spans.iter().map(|s| Resource {
            kind: s.kind,
            id: &s.id,
            json: &self.text[s.range.clone()],
        })
    }

    /// Appends the record as a transaction Bundle: each resource PUT at its
    /// id (so reloading is idempotent).
    pub fn write_bundle(&self, out: &mut Vec<u8>) {
        out.reserve(self.text.len() + self.spans.len() * 80 + 64);
        out.extend_from_slice(br#"{"resourceType":"Bundle","type":"transaction","entry":["#);
        for (n, r) in self.resources().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"resource":"#);
            out.extend_from_slice(r.json.as_bytes());
            out.extend_from_slice(br#","request":{"method":"PUT","url":""#);
            out.extend_from_slice(r.kind.as_bytes());
            out.push(b'/');
            out.extend_from_slice(r.id.as_bytes());
            out.extend_from_slice(b"\"}}");
        }
        out.extend_from_slice(b"]}");
    }

    /// The record as a transaction Bundle `Value` (for loading through the
    /// engine).
    pub fn bundle(&self) -> Value {
        let mut text = Vec::new();
        self.write_bundle(&mut text);
        // The text is the generator's own output, not outside input: it is
        // always valid JSON (tests parse every record).
        serde_json::from_slice(&text).expect("the generator writes valid JSON")
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, for callers that want a current
/// reference date (the generator itself never reads the clock).
pub fn today_utc(unix_seconds: u64) -> String {
    date::date((unix_seconds / 86_400) as i64)
}
