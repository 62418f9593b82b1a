//! The shared directory: care organizations and their sites (Locations),
//! payers, Practitioners and PractitionerRoles. Every patient bundle refers
//! to it, so it is loaded first. Organization and site names are fictitious.

use serde_json::{json, Value};

use crate::fhir::{self, coding, concept, reference, reference_named};
use crate::rng::Rng;
use crate::tables::tables;

/// A care organization (a provider) and its sites.
pub struct Provider {
    pub name: &'static str,
    pub sites: &'static [&'static str],
    pub city: &'static str,
    pub kind: ProviderKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProviderKind {
    PrimaryCare,
    Hospital,
    Cardiology,
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Riverbend Family Medicine",
        sites: &["Riverbend Main Street Clinic", "Riverbend Eastside Clinic"],
        city: "Springfield",
        kind: ProviderKind::PrimaryCare,
    },
    Provider {
        name: "Northgate Community Health Center",
        sites: &["Northgate Health Center"],
        city: "Worcester",
        kind: ProviderKind::PrimaryCare,
    },
    Provider {
        name: "St. Brigid Regional Hospital",
        sites: &["St. Brigid Emergency Department", "St. Brigid Medical Unit"],
        city: "Springfield",
        kind: ProviderKind::Hospital,
    },
    Provider {
        name: "Lakeside Cardiology Associates",
        sites: &["Lakeside Cardiology Clinic"],
        city: "Holyoke",
        kind: ProviderKind::Cardiology,
    },
];

/// Payers: (name, Source of Payment Typology code, display). Typology codes
/// from PHDSC's Source of Payment Typology (urn:oid:2.16.840.1.113883.3.221.5).
pub const PAYERS: &[(&str, &str, &str)] = &[
    ("Medicare", "1", "MEDICARE"),
    ("Medicaid", "2", "MEDICAID"),
    ("Harborlight Health Plan", "5", "PRIVATE HEALTH INSURANCE"),
    ("Bayview Mutual Insurance", "5", "PRIVATE HEALTH INSURANCE"),
];

pub const PAYER_TYPOLOGY: &str = "urn:oid:2.16.840.1.113883.3.221.5";

/// A clinical staff role in the generated directory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StaffRole {
    Physician,
    Nurse,
    MedicalAssistant,
}

/// Who works where: (provider index, role), one Practitioner each.
const ROSTER: &[(usize, StaffRole)] = &[
    (0, StaffRole::Physician),
    (0, StaffRole::Physician),
    (0, StaffRole::Physician),
    (0, StaffRole::Nurse),
    (0, StaffRole::Nurse),
    (0, StaffRole::MedicalAssistant),
    (1, StaffRole::Physician),
    (1, StaffRole::Physician),
    (1, StaffRole::Nurse),
    (1, StaffRole::MedicalAssistant),
    (2, StaffRole::Physician),
    (2, StaffRole::Physician),
    (2, StaffRole::Nurse),
    (2, StaffRole::Nurse),
    (3, StaffRole::Physician),
    (3, StaffRole::Nurse),
];

pub struct Staff {
    pub id: String,
    pub role_id: String,
    pub family: &'static str,
    pub given: &'static str,
    pub role: StaffRole,
    pub provider: usize,
    pub npi: String,
}

impl Staff {
    pub fn display(&self) -> String {
        match self.role {
            StaffRole::Physician => format!("Dr. {} {}", self.given, self.family),
            _ => format!("{} {}", self.given, self.family),
        }
    }
}

pub struct Directory {
    pub prefix: String,
    pub staff: Vec<Staff>,
}

impl Directory {
    pub fn new(seed: u64, prefix: &str) -> Directory {
        let t = tables();
        let mut rng = Rng::new(seed, u64::MAX);
        let staff = ROSTER
            .iter()
            .enumerate()
            .map(|(k, (provider, role))| {
                let female = rng.chance(0.5);
                let given = if female {
                    *rng.pick(&t.female_names)
                } else {
                    *rng.pick(&t.male_names)
                };
                let family = *rng.pick(&t.surnames);
                Staff {
                    id: format!("{prefix}-pr{k}"),
                    role_id: format!("{prefix}-prrole{k}"),
                    family,
                    given,
                    role: *role,
                    provider: *provider,
                    npi: fhir::npi(rng.below(900_000_000) + 100_000_000),
                }
            })
            .collect();
        Directory {
            prefix: prefix.to_string(),
            staff,
        }
    }

    pub fn organization_id(&self, provider: usize) -> String {
        format!("{}-org{provider}", self.prefix)
    }

    pub fn payer_id(&self, payer: usize) -> String {
        format!("{}-payer{payer}", self.prefix)
    }

    /// The site id of `provider`'s `site`-th location.
    pub fn location_id(&self, provider: usize, site: usize) -> String {
        format!("{}-loc{provider}-{site}", self.prefix)
    }

    /// Staff of one provider with one role.
    pub fn staff_of(&self, provider: usize, role: StaffRole) -> Vec<&Staff> {
        self.staff
            .iter()
            .filter(|s| s.provider == provider && s.role == role)
            .collect()
    }

    /// The MRN identifier system of a provider (the HL7 example OID arc,
    /// 2.16.840.1.113883.19, reserved for examples: these are synthetic).
    pub fn mrn_system(provider: usize) -> String {
        format!("urn:oid:2.16.840.1.113883.19.5.{}", provider + 1)
    }

    /// The directory as a transaction Bundle (PUT, fixed ids).
    pub fn bundle(&self) -> Value {
        let mut entries = Vec::new();
        for (p, provider) in PROVIDERS.iter().enumerate() {
            let org_id = self.organization_id(p);
            entries.push(fhir::put_entry(json!({
                "resourceType": "Organization",
                "id": org_id,
                "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization"]},
                "identifier": [{"system": fhir::NPI, "value": fhir::npi(1_000_000 + p as u64 * 7919)}],
                "active": true,
                "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")]}],
                "name": provider.name,
                "telecom": [{"system": "phone", "value": format!("413-555-01{:02}", p * 10), "use": "work"}],
                "address": [{"line": [format!("{} Main Street", 100 + p * 25)], "city": provider.city, "state": "MA", "postalCode": "01103", "country": "US"}]
            })));
            for (s, site) in provider.sites.iter().enumerate() {
                entries.push(fhir::put_entry(json!({
                    "resourceType": "Location",
                    "id": self.location_id(p, s),
                    "status": "active",
                    "name": site,
                    "mode": "instance",
                    "telecom": [{"system": "phone", "value": format!("413-555-01{:02}", p * 10 + s + 1), "use": "work"}],
                    "address": {"line": [format!("{} Main Street", 100 + p * 25 + s)], "city": provider.city, "state": "MA", "postalCode": "01103", "country": "US"},
                    "managingOrganization": reference_named("Organization", &org_id, provider.name)
                })));
            }
        }
        for (k, (name, code, display)) in PAYERS.iter().enumerate() {
            entries.push(fhir::put_entry(json!({
                "resourceType": "Organization",
                "id": self.payer_id(k),
                "active": true,
                "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")]},
                         concept(PAYER_TYPOLOGY, code, display)],
                "name": name
            })));
        }
        for (k, s) in self.staff.iter().enumerate() {
            let provider = &PROVIDERS[s.provider];
            entries.push(fhir::put_entry(json!({
                "resourceType": "Practitioner",
                "id": s.id,
                "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner"]},
                "identifier": [{"system": fhir::NPI, "value": s.npi}],
                "active": true,
                "name": [{"use": "official", "family": s.family, "given": [s.given]}],
                "telecom": [{"system": "phone", "value": format!("413-555-02{:02}", k), "use": "work"}]
            })));
            if s.role == StaffRole::Physician {
                if let Some(last) = entries.last_mut() {
                    last["resource"]["name"][0]["prefix"] = json!(["Dr."]);
                }
            }
            let (code, specialty) = match (s.role, provider.kind) {
                (StaffRole::Physician, ProviderKind::PrimaryCare) => (
                    Some(("doctor", "Doctor")),
                    Some(("207Q00000X", "Family Medicine Physician")),
                ),
                (StaffRole::Physician, ProviderKind::Hospital) => (
                    Some(("doctor", "Doctor")),
                    Some(("207P00000X", "Emergency Medicine Physician")),
                ),
                (StaffRole::Physician, ProviderKind::Cardiology) => (
                    Some(("doctor", "Doctor")),
                    Some(("207RC0000X", "Cardiovascular Disease Physician")),
                ),
                (StaffRole::Nurse, _) => (
                    Some(("nurse", "Nurse")),
                    Some(("163W00000X", "Registered Nurse")),
                ),
                (StaffRole::MedicalAssistant, _) => (None, None),
            };
            let mut role = json!({
                "resourceType": "PractitionerRole",
                "id": s.role_id,
                "active": true,
                "practitioner": reference_named("Practitioner", &s.id, &s.display()),
                "organization": reference_named("Organization", &self.organization_id(s.provider), provider.name),
                "location": (0..provider.sites.len()).map(|site| reference("Location", &self.location_id(s.provider, site))).collect::<Vec<_>>(),
            });
            role["code"] = match code {
                Some((c, d)) => {
                    json!([{"coding": [coding("http://terminology.hl7.org/CodeSystem/practitioner-role", c, d)], "text": d}])
                }
                None => json!([{"text": "Medical assistant"}]),
            };
            if let Some((c, d)) = specialty {
                role["specialty"] = json!([{"coding": [coding("http://nucc.org/provider-taxonomy", c, d)], "text": d}]);
            }
            entries.push(fhir::put_entry(role));
        }
        fhir::transaction(entries)
    }
}
