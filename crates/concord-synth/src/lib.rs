//! A deterministic generator of realistic longitudinal FHIR R4 / US Core
//! records: a shared directory (organizations, sites, payers,
//! practitioners) and one transaction Bundle per patient. The same seed and
//! reference date give byte-identical output; patient `i` does not depend on
//! how many patients are generated. See `README.md` and `docs/demo.md`.
#![forbid(unsafe_code)]

mod date;
mod demographics;
mod directory;
mod fhir;
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
        let mut patient = demographics::patient_resource(
            &mut rng,
            &self.patient_id(index),
            index,
            &person,
            &[mrn],
        );
        patient["managingOrganization"] = fhir::reference_named(
            "Organization",
            &self.directory.organization_id(home),
            PROVIDERS[home].name,
        )
        .value();
        patient
    }

    /// Patient `index`'s record as a transaction Bundle (PUT at fixed ids).
    pub fn patient_bundle(&self, index: u64) -> Value {
        record::Record::new(&self.directory, self.seed, index, self.today).build()
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, for callers that want a current
/// reference date (the generator itself never reads the clock).
pub fn today_utc(unix_seconds: u64) -> String {
    date::date((unix_seconds / 86_400) as i64)
}
