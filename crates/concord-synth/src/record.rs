//! One patient's longitudinal record: the Patient, years of Encounters with
//! vitals, labs, diagnoses, prescriptions, procedures, immunizations and a
//! progress note each, chronic problems and medications, allergies,
//! coverage, a care team and upcoming appointments.

use crate::date;
use crate::demographics::{patient_resource, Person};
use crate::directory::{Directory, Staff, StaffRole, PAYERS, PAYER_TYPOLOGY, PROVIDERS};
use crate::fhir::{self, coding, concept, reference, reference_named, Ref, ICD10, RXNORM, SNOMED};
use crate::json::jw;
use crate::json::{Base64, Json, With};
use crate::labs::{self, LabState, Vitals};
use crate::rng::Rng;
use crate::tables::{tables, Condition, Sex};
use crate::PatientRecord;

const HOSPITAL: usize = 2;
const CARDIOLOGY: usize = 3;
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    Checkup,
    FollowUp,
    Symptom,
    Emergency,
    Inpatient,
    Cardiology,
}

impl Visit {
    fn snomed(self) -> (&'static str, &'static str) {
        match self {
            Visit::Checkup => ("185349003", "Encounter for check up (procedure)"),
            Visit::FollowUp | Visit::Cardiology => ("390906007", "Follow-up encounter (procedure)"),
            Visit::Symptom => ("185345009", "Encounter for symptom (procedure)"),
            Visit::Emergency => ("50849002", "Emergency room admission (procedure)"),
            Visit::Inpatient => ("183452005", "Emergency hospital admission (procedure)"),
        }
    }

    fn class(self) -> (&'static str, &'static str) {
        match self {
            Visit::Emergency => ("EMER", "emergency"),
            Visit::Inpatient => ("IMP", "inpatient encounter"),
            _ => ("AMB", "ambulatory"),
        }
    }
}

struct Planned {
    day: i64,
    minute: i64,
    visit: Visit,
    provider: usize,
    acute: Option<usize>,
}

/// Builds one patient's resources.
pub struct Record<'a> {
    dir: &'a Directory,
    rng: Rng,
    pid: String,
    index: u64,
    today: i64,
    counter: u32,
    /// The resources' JSON text, one after another.
    out: Json,
    /// Each resource's type, id and place in `out`.
    spans: Vec<crate::Span>,
    subject: Ref,
    last_encounter: Option<Ref>,
}

impl<'a> Record<'a> {
    pub fn new(dir: &'a Directory, seed: u64, index: u64, today: i64) -> Record<'a> {
        let pid = format!("{}-{index}", dir.prefix);
        Record {
            dir,
            rng: Rng::new(seed, index),
            subject: reference("Patient", &pid),
            pid,
            index,
            today,
            counter: 0,
            out: Json::with_capacity(256 * 1024),
            spans: Vec::with_capacity(256),
            last_encounter: None,
        }
    }

    fn next_id(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("{}-{kind}{}", self.pid, self.counter)
    }

    /// Where the next resource starts in `out`.
    fn begin(&mut self) -> usize {
        self.out.restart();
        self.out.len()
    }

    /// Records the resource written since `start`.
    fn end(&mut self, kind: &'static str, id: String, start: usize) {
        self.spans.push(crate::Span {
            kind,
            id,
            range: start..self.out.len(),
        });
    }

    /// This patient's resources.
    pub fn build(mut self) -> PatientRecord {
        let t = tables();
        let person = Person::draw(&mut self.rng, self.today);
        let age = date::years_between(person.birth_day, self.today);
        let home = if self.rng.chance(0.6) { 0 } else { 1 };
        let physicians = self.dir.staff_of(home, StaffRole::Physician);
        let pcp: &Staff = physicians[self.rng.below(physicians.len() as u64) as usize];
        let nurses = self.dir.staff_of(home, StaffRole::Nurse);
        let nurse: &Staff = nurses[self.rng.below(nurses.len() as u64) as usize];
        let assistant = self
            .dir
            .staff_of(home, StaffRole::MedicalAssistant)
            .first()
            .copied();

        // Chronic problems, each with an onset date.
        let age_factor = (age as f64 / 55.0).clamp(0.3, 1.6);
        let mut chronic: Vec<(usize, i64)> = Vec::new();
        for (k, c) in t.conditions.iter().enumerate() {
            if !c.chronic || c.min_age > age {
                continue;
            }
            if c.key == "prediabetes"
                && chronic
                    .iter()
                    .any(|(j, _)| t.conditions[*j].key == "diabetes")
            {
                continue;
            }
            if self.rng.chance(f64::from(c.weight) / 100.0 * age_factor) {
                let earliest = (person.birth_day + c.min_age * 365).max(self.today - 15 * 365);
                let onset = self.rng.range(earliest, self.today - 30);
                chronic.push((k, onset));
            }
        }
        let mut state = LabState::default();
        for (k, _) in &chronic {
            match t.conditions[*k].labs {
                "diabetes" => state.diabetes = true,
                "prediabetes" => state.prediabetes = true,
                "lipids" => state.lipids = true,
                "kidney" => state.kidney = true,
                "anemia" => state.anemia = true,
                _ => {}
            }
        }

        // Years of visits.
        let years = self.rng.range(2, 8).min(age - 17).max(1);
        let start = self.today - years * 365;
        let mut plan: Vec<Planned> = Vec::new();
        for y in 0..years {
            if self.rng.chance(0.85) {
                let day = start + y * 365 + self.rng.range(0, 330);
                plan.push(self.planned(day, Visit::Checkup, home, None));
            }
            if !chronic.is_empty() {
                for _ in 0..self.rng.range(1, 2) {
                    let day = start + y * 365 + self.rng.range(0, 360);
                    plan.push(self.planned(day, Visit::FollowUp, home, None));
                }
            }
        }
        let cardiac = chronic
            .iter()
            .any(|(k, _)| matches!(t.conditions[*k].key, "cad" | "afib"));
        if cardiac
            || (chronic
                .iter()
                .any(|(k, _)| t.conditions[*k].key == "hypertension")
                && self.rng.chance(0.3))
        {
            for _ in 0..self.rng.range(1, 3) {
                let day = self.rng.range(start, self.today - 1);
                plan.push(self.planned(day, Visit::Cardiology, CARDIOLOGY, None));
            }
        }
        let acute: Vec<usize> = t
            .conditions
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.chronic && c.min_age <= age)
            .map(|(k, _)| k)
            .collect();
        let weights: Vec<u32> = acute.iter().map(|k| t.conditions[*k].weight).collect();
        for _ in 0..self.rng.range(0, 3) {
            let cond = acute[self.rng.weighted(&weights)];
            let day = self.rng.range(start, self.today - 1);
            let (visit, provider) = if self.rng.chance(0.3) {
                (Visit::Emergency, HOSPITAL)
            } else {
                (Visit::Symptom, home)
            };
            plan.push(self.planned(day, visit, provider, Some(cond)));
        }
        if !chronic.is_empty() && self.rng.chance(0.08) {
            let day = self.rng.range(start, self.today - 10);
            plan.push(self.planned(day, Visit::Inpatient, HOSPITAL, None));
        }
        plan.sort_by_key(|p| (p.day, p.minute));

        // Identifiers: an MRN at every organization that has seen the patient.
        let mut providers_seen: Vec<usize> = vec![home];
        for p in &plan {
            if !providers_seen.contains(&p.provider) {
                providers_seen.push(p.provider);
            }
        }
        let mrns: Vec<(String, String)> = providers_seen
            .iter()
            .map(|p| {
                (
                    Directory::mrn_system(*p),
                    format!("{}{:07}", ["RB", "NG", "SB", "LC"][*p], self.index + 1),
                )
            })
            .collect();
        let managing = reference_named(
            "Organization",
            &self.dir.organization_id(home),
            PROVIDERS[home].name,
        );
        let practitioner = reference_named("Practitioner", &pcp.id, &pcp.display());
        let at = self.begin();
        patient_resource(
            &mut self.out,
            &mut self.rng,
            &self.pid,
            self.index,
            &person,
            &mrns,
            &managing,
            &practitioner,
        );
        let pid = self.pid.clone();
        self.end("Patient", pid.clone(), at);

        // Care team.
        let members = With(|w: &mut Json| {
            w.begin_array();
            jw!(w, {
                "role": [concept(SNOMED, "446050000", "Primary care physician")],
                "member": reference_named("Practitioner", &pcp.id, &pcp.display())
            });
            jw!(w, {
                "role": [concept(SNOMED, "224535009", "Registered nurse")],
                "member": reference_named("Practitioner", &nurse.id, &nurse.display())
            });
            if let Some(ma) = assistant {
                jw!(w, {
                    "role": [{"text": "Medical assistant"}],
                    "member": reference_named("Practitioner", &ma.id, &ma.display())
                });
            }
            w.end_array();
        });
        let care_team_id = self.next_id("ct");
        let at = self.begin();
        jw!(&mut self.out, {
            "resourceType": "CareTeam",
            "id": care_team_id,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-careteam"]},
            "status": "active",
            "name": format!("Primary care team, {}", PROVIDERS[home].name),
            "subject": &self.subject,
            "participant": members,
            "managingOrganization": [reference("Organization", &self.dir.organization_id(home))]
        });
        self.end("CareTeam", care_team_id, at);

        // Chronic problems and their medications.
        let mut problem_ids: Vec<(usize, String)> = Vec::new();
        for (k, onset) in &chronic {
            let c = &t.conditions[*k];
            let id = self.next_id("cond");
            let at = self.begin();
            condition(&mut self.out, &id, c, &self.subject, *onset, None, None);
            self.end("Condition", id.clone(), at);
            problem_ids.push((*k, id));
        }
        for (k, cond_id) in problem_ids.clone() {
            let c = &t.conditions[k];
            let meds: Vec<_> = t
                .medications
                .iter()
                .filter(|m| m.condition == c.key)
                .collect();
            if meds.is_empty() {
                continue;
            }
            let onset = chronic
                .iter()
                .find(|(j, _)| *j == k)
                .map(|(_, d)| *d)
                .unwrap_or(start);
            let count = if meds.len() > 1 && self.rng.chance(0.3) {
                2
            } else {
                1
            };
            for m in meds.iter().take(count) {
                let authored = (onset + self.rng.range(0, 20)).min(self.today - 1);
                let status = if self.rng.chance(0.1) {
                    "stopped"
                } else {
                    "active"
                };
                let id = self.next_id("med");
                let at = self.begin();
                medication_request(
                    &mut self.out,
                    &id,
                    m.rxnorm,
                    m.display,
                    status,
                    &self.subject,
                    None,
                    pcp,
                    authored,
                    Some(&cond_id),
                    c,
                );
                self.end("MedicationRequest", id, at);
            }
        }

        // Allergies.
        let allergy_count = if self.rng.chance(0.3) {
            if self.rng.chance(0.3) {
                2
            } else {
                1
            }
        } else {
            0
        };
        for _ in 0..allergy_count {
            let a = self.rng.pick(&t.allergies);
            let r = self.rng.pick(&t.reactions);
            let severe = r.code == "39579001";
            let recorded = self.rng.range(start, self.today - 1);
            let id = self.next_id("alg");
            let at = self.begin();
            jw!(&mut self.out, {
                "resourceType": "AllergyIntolerance",
                "id": id,
                "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-allergyintolerance"]},
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
                "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
                "type": "allergy",
                "category": [a.category],
                "criticality": if severe { "high" } else { "low" },
                "code": concept(SNOMED, a.code, a.display),
                "patient": &self.subject,
                "recordedDate": date::date(recorded),
                "recorder": reference("Practitioner", &pcp.id),
                "reaction": [{"manifestation": [concept(SNOMED, r.code, r.display)],
                              "severity": if severe { "severe" } else if self.rng.chance(0.5) { "moderate" } else { "mild" }}]
            });
            self.end("AllergyIntolerance", id, at);
        }

        // Visits.
        let height = if person.female {
            self.rng.real(152.0, 175.0)
        } else {
            self.rng.real(163.0, 190.0)
        };
        let mut weight = if chronic
            .iter()
            .any(|(k, _)| t.conditions[*k].key == "obesity")
        {
            height * height / 10_000.0 * self.rng.real(30.5, 38.0)
        } else {
            height * height / 10_000.0 * self.rng.real(19.5, 29.0)
        };
        let hypertensive = chronic
            .iter()
            .any(|(k, _)| t.conditions[*k].key == "hypertension");
        let mut last_td: Option<i64> = None;
        let mut had_colonoscopy = false;
        let mut zoster = false;
        let mut pneumococcal = false;
        for p in &plan {
            weight = (weight + self.rng.real(-1.5, 1.5)).max(40.0);
            self.visit(
                p,
                &person,
                age,
                pcp,
                nurse,
                &chronic,
                state,
                height,
                weight,
                hypertensive,
            );
            if p.visit == Visit::Checkup {
                let age_then = date::years_between(person.birth_day, p.day);
                let enc = self.last_encounter.clone();
                if last_td.is_none_or(|d| p.day - d > 3650) && self.rng.chance(0.15) {
                    let cvx = if self.rng.chance(0.5) { "115" } else { "113" };
                    self.immunization(cvx, p.day, p.minute + 20, nurse, enc.as_ref(), p.provider);
                    last_td = Some(p.day);
                }
                if crate::tables::vaccine("187").is_some_and(|v| age_then >= v.min_age)
                    && !zoster
                    && self.rng.chance(0.4)
                {
                    self.immunization("187", p.day, p.minute + 25, nurse, enc.as_ref(), p.provider);
                    let second = p.day + self.rng.range(60, 180);
                    if second < self.today {
                        self.immunization("187", second, 600, nurse, None, p.provider);
                    }
                    zoster = true;
                }
                if crate::tables::vaccine("33").is_some_and(|v| age_then >= v.min_age)
                    && !pneumococcal
                    && self.rng.chance(0.5)
                {
                    self.immunization("33", p.day, p.minute + 30, nurse, enc.as_ref(), p.provider);
                    pneumococcal = true;
                }
                if age_then >= 45 && !had_colonoscopy && self.rng.chance(0.15) {
                    let day = p.day + self.rng.range(14, 60);
                    if day < self.today {
                        self.procedure("73761001", "Colonoscopy", day, 540, pcp, None, HOSPITAL);
                        had_colonoscopy = true;
                    }
                }
            }
        }
        // Influenza every autumn (CDC: annual vaccination).
        let (first_year, _, _) = date::civil_from_days(start);
        let (this_year, _, _) = date::civil_from_days(self.today);
        for year in first_year..=this_year {
            let day = date::days_from_civil(year, 10, 1) + self.rng.range(0, 45);
            if day > start && day < self.today && self.rng.chance(0.6) {
                let minute = 600 + self.rng.range(0, 300);
                self.immunization("140", day, minute, nurse, None, home);
            }
        }

        // Coverage.
        let payer = if age >= 65 {
            Some(0)
        } else if self.rng.chance(0.2) {
            Some(1)
        } else if self.rng.chance(0.94) {
            Some(2 + self.rng.below(2) as usize)
        } else {
            None
        };
        if let Some(k) = payer {
            let (name, code, display) = PAYERS[k];
            let id = self.next_id("cov");
            let at = self.begin();
            jw!(&mut self.out, {
                "resourceType": "Coverage",
                "id": id,
                "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-coverage"]},
                "identifier": [{"type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MB", "Member Number")]}, "system": format!("urn:oid:2.16.840.1.113883.19.6.{}", k + 1), "value": format!("M{:09}", self.rng.below(1_000_000_000))}],
                "status": "active",
                "type": concept(PAYER_TYPOLOGY, code, display),
                "subscriberId": format!("S{:09}", self.rng.below(1_000_000_000)),
                "beneficiary": &self.subject,
                "relationship": concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"),
                "period": {"start": date::date(start)},
                "payor": [reference_named("Organization", &self.dir.payer_id(k), name)]
            });
            self.end("Coverage", id, at);
        }

        // Upcoming appointments (booked, after the reference date).
        let upcoming = if self.rng.chance(0.75) {
            if self.rng.chance(0.25) {
                2
            } else {
                1
            }
        } else {
            0
        };
        for n in 0..upcoming {
            let day = self.today + self.rng.range(1, 45);
            let minute = 8 * 60 + 15 * self.rng.range(0, 32);
            let minutes = if n == 0 { 20 } else { 30 };
            let site = self.rng.below(PROVIDERS[home].sites.len() as u64) as usize;
            let (code, display) = if n == 0 {
                ("FOLLOWUP", "A follow up visit from a previous appointment")
            } else {
                ("ROUTINE", "Routine appointment - default if not valued")
            };
            let id = self.next_id("appt");
            let at = self.begin();
            jw!(&mut self.out, {
                "resourceType": "Appointment",
                "id": id,
                "status": "booked",
                "appointmentType": concept("http://terminology.hl7.org/CodeSystem/v2-0276", code, display),
                "description": if n == 0 { "Follow-up visit" } else { "Annual check-up" },
                "start": date::date_time(day, minute),
                "end": date::date_time(day, minute + minutes),
                "minutesDuration": minutes,
                "created": date::date(self.today - self.rng.range(1, 30)),
                "participant": [
                    {"actor": reference_named("Patient", &pid, &format!("{} {}", person.given[0], person.family)), "required": "required", "status": "accepted"},
                    {"actor": reference_named("Practitioner", &pcp.id, &pcp.display()), "required": "required", "status": "accepted"},
                    {"actor": reference_named("Location", &self.dir.location_id(home, site), PROVIDERS[home].sites[site]), "required": "required", "status": "accepted"}
                ]
            });
            self.end("Appointment", id, at);
        }
        PatientRecord {
            text: std::mem::take(&mut self.out).into_string(),
            spans: std::mem::take(&mut self.spans),
        }
    }

    fn planned(
        &mut self,
        day: i64,
        visit: Visit,
        provider: usize,
        acute: Option<usize>,
    ) -> Planned {
        let day = day.min(self.today - 1);
        Planned {
            day,
            minute: 8 * 60 + 15 * self.rng.range(0, 34),
            visit,
            provider,
            acute,
        }
    }
}

impl Record<'_> {
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        p: &Planned,
        person: &Person,
        age: i64,
        pcp: &Staff,
        nurse: &Staff,
        chronic: &[(usize, i64)],
        state: LabState,
        height: f64,
        weight: f64,
        hypertensive: bool,
    ) {
        let t = tables();
        let provider = &PROVIDERS[p.provider];
        let doctor: &Staff = if p.provider == 0 || p.provider == 1 {
            if self.rng.chance(0.75) && pcp.provider == p.provider {
                pcp
            } else {
                let all = self.dir.staff_of(p.provider, StaffRole::Physician);
                all[self.rng.below(all.len() as u64) as usize]
            }
        } else {
            let all = self.dir.staff_of(p.provider, StaffRole::Physician);
            all[self.rng.below(all.len() as u64) as usize]
        };
        let site_nurse: &Staff = if p.provider == nurse.provider {
            nurse
        } else {
            let all = self.dir.staff_of(p.provider, StaffRole::Nurse);
            all[self.rng.below(all.len() as u64) as usize]
        };
        let site = match p.visit {
            Visit::Emergency => 0,
            Visit::Inpatient => 1,
            _ => self.rng.below(provider.sites.len() as u64) as usize,
        };
        let length = match p.visit {
            Visit::Emergency => self.rng.range(120, 360),
            Visit::Inpatient => self.rng.range(2, 5) * 1440,
            Visit::Checkup => 30,
            _ => 20,
        };
        let start = date::date_time(p.day, p.minute);
        let end = date::date_time(p.day, p.minute + length);
        let enc_id = self.next_id("enc");
        let encounter_ref = reference("Encounter", &enc_id);
        self.last_encounter = Some(encounter_ref.clone());
        let (type_code, type_display) = p.visit.snomed();
        let (class_code, class_display) = p.visit.class();
        let org_ref = reference_named(
            "Organization",
            &self.dir.organization_id(p.provider),
            provider.name,
        );
        let acute = p.acute.map(|k| &t.conditions[k]);
        let at = self.begin();
        jw!(&mut self.out, {
            "resourceType": "Encounter",
            "id": enc_id,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]},
            "status": "finished",
            "class": coding(ACT_CODE, class_code, class_display),
            "type": [concept(SNOMED, type_code, type_display)],
            "subject": &self.subject,
            "participant": [
                {"type": [concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")],
                 "period": {"start": start, "end": end},
                 "individual": reference_named("Practitioner", &doctor.id, &doctor.display())},
                {"type": [concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PART", "Participation")],
                 "individual": reference_named("Practitioner", &site_nurse.id, &site_nurse.display())}
            ],
            "period": {"start": start, "end": end},
            "location": [{"location": reference_named("Location", &self.dir.location_id(p.provider, site), provider.sites[site])}],
            "serviceProvider": org_ref,
            "reasonCode": acute.map(|c| [concept(SNOMED, c.snomed, c.snomed_display)]),
            "hospitalization": (p.visit == Visit::Inpatient).then_some(With(|w: &mut Json| jw!(w, {
                "admitSource": concept("http://terminology.hl7.org/CodeSystem/admit-source", "emd", "From accident/emergency department")
            })))
        });
        self.end("Encounter", enc_id, at);

        // Vital signs.
        let fever = acute
            .is_some_and(|c| matches!(c.key, "bronchitis" | "pharyngitis" | "uri" | "sinusitis"));
        let vitals = Vitals {
            systolic: fhir::round(
                if hypertensive {
                    self.rng.real(132.0, 165.0)
                } else {
                    self.rng.real(104.0, 132.0)
                },
                0,
            ),
            diastolic: fhir::round(
                if hypertensive {
                    self.rng.real(82.0, 100.0)
                } else {
                    self.rng.real(64.0, 84.0)
                },
                0,
            ),
            heart_rate: fhir::round(
                self.rng.real(
                    58.0,
                    if p.visit == Visit::Emergency {
                        115.0
                    } else {
                        95.0
                    },
                ),
                0,
            ),
            weight: fhir::round(weight, 1),
            height: fhir::round(height, 1),
            temperature: fhir::round(
                if fever {
                    self.rng.real(37.6, 39.2)
                } else {
                    self.rng.real(36.3, 37.2)
                },
                1,
            ),
            respiratory_rate: fhir::round(self.rng.real(12.0, 20.0), 0),
            oxygen: fhir::round(self.rng.real(94.0, 99.5), 0),
        };
        let full = matches!(
            p.visit,
            Visit::Checkup | Visit::Emergency | Visit::Inpatient
        );
        let when = date::date_time(p.day, p.minute + 5);
        for sign in labs::vital_signs(&vitals, full) {
            let id = self.next_id("obs");
            let at = self.begin();
            labs::vital_observation(
                &mut self.out,
                &id,
                &sign,
                &self.subject,
                &encounter_ref,
                &when,
            );
            self.end("Observation", id, at);
        }

        // Laboratory results.
        let mut panels: Vec<&str> = Vec::new();
        match p.visit {
            Visit::Checkup => {
                panels.push("bmp");
                if self.rng.chance(0.6) {
                    panels.push("cbc");
                }
                if age >= 40 || state.lipids {
                    panels.push("lipid");
                }
                if state.diabetes || state.prediabetes {
                    panels.push("a1c");
                }
            }
            Visit::FollowUp => {
                if state.diabetes || state.prediabetes {
                    panels.push("a1c");
                }
                if state.kidney || state.diabetes {
                    panels.push("bmp");
                }
                if state.anemia {
                    panels.push("cbc");
                }
            }
            Visit::Emergency | Visit::Inpatient => {
                panels.push("bmp");
                panels.push("cbc");
            }
            _ => {}
        }
        let hospital = matches!(p.visit, Visit::Emergency | Visit::Inpatient);
        let lab_when = date::date_time(p.day, p.minute + 45);
        let sex = if person.female {
            Sex::Female
        } else {
            Sex::Male
        };
        for panel in panels {
            for lab in t
                .labs
                .iter()
                .filter(|l| l.panel == panel && (l.sex == Sex::Any || l.sex == sex))
            {
                let value = labs::draw_value(&mut self.rng, lab, state, hospital);
                let id = self.next_id("obs");
                let at = self.begin();
                labs::lab_observation(
                    &mut self.out,
                    &id,
                    lab,
                    value,
                    &self.subject,
                    &encounter_ref,
                    &org_ref,
                    &lab_when,
                );
                self.end("Observation", id, at);
            }
        }

        // Diagnosis and prescription for an acute problem.
        let mut plan_text = Vec::new();
        if let Some(c) = acute {
            let cond_id = self.next_id("cond");
            let abated = (p.day + self.rng.range(7, 21))
                .min(self.today - 1)
                .max(p.day);
            let at = self.begin();
            condition(
                &mut self.out,
                &cond_id,
                c,
                &self.subject,
                p.day,
                Some(abated),
                Some(&encounter_ref),
            );
            self.end("Condition", cond_id.clone(), at);
            if let Some(m) = t.medications.iter().find(|m| m.condition == c.key) {
                let id = self.next_id("med");
                let at = self.begin();
                medication_request(
                    &mut self.out,
                    &id,
                    m.rxnorm,
                    m.display,
                    "completed",
                    &self.subject,
                    Some(&encounter_ref),
                    doctor,
                    p.day,
                    Some(&cond_id),
                    c,
                );
                self.end("MedicationRequest", id, at);
                plan_text.push(format!("Prescribed {}.", m.display));
            }
        }

        // Procedures.
        if p.visit == Visit::Checkup && self.rng.chance(0.4) {
            self.procedure_at(
                "171207006",
                "Depression screening (procedure)",
                p,
                doctor,
                &encounter_ref,
            );
        }
        if matches!(p.visit, Visit::Emergency | Visit::Cardiology) && self.rng.chance(0.6) {
            self.procedure_at(
                "29303009",
                "Electrocardiographic procedure",
                p,
                doctor,
                &encounter_ref,
            );
        }
        if p.visit == Visit::FollowUp
            && chronic
                .iter()
                .any(|(k, _)| matches!(t.conditions[*k].key, "asthma" | "copd"))
            && self.rng.chance(0.4)
        {
            self.procedure_at(
                "127783003",
                "Spirometry (procedure)",
                p,
                doctor,
                &encounter_ref,
            );
        }
        if acute.is_some_and(|c| c.key == "bronchitis") && p.visit == Visit::Emergency {
            self.procedure_at(
                "399208008",
                "Plain chest X-ray (procedure)",
                p,
                doctor,
                &encounter_ref,
            );
        }

        // The progress note.
        let assessment = match acute {
            Some(c) => format!("{} ({}).", c.icd10_display, c.icd10),
            None if chronic.is_empty() => "Routine visit; no active problems.".to_string(),
            None => {
                let names: Vec<String> = chronic
                    .iter()
                    .filter(|(_, onset)| *onset <= p.day)
                    .map(|(k, _)| {
                        format!(
                            "{} ({})",
                            t.conditions[*k].icd10_display, t.conditions[*k].icd10
                        )
                    })
                    .collect();
                if names.is_empty() {
                    "Routine visit; no active problems.".to_string()
                } else {
                    format!("Follow-up of {}.", names.join("; "))
                }
            }
        };
        if plan_text.is_empty() {
            plan_text.push("Continue current plan; return as scheduled.".into());
        }
        let text = format!(
            "{type_display} at {site_name}.\n\nSubjective: seen for {reason}.\nObjective: BP {sys}/{dia} mmHg, heart rate {hr}/min, weight {w} kg.\nAssessment: {assessment}\nPlan: {plan}\n\nSigned: {doctor}",
            site_name = provider.sites[site],
            reason = acute.map_or_else(|| type_display.trim_end_matches(" (procedure)").to_lowercase(), |c| c.snomed_display.to_lowercase()),
            sys = vitals.systolic,
            dia = vitals.diastolic,
            hr = vitals.heart_rate,
            w = vitals.weight,
            plan = plan_text.join(" "),
            doctor = doctor.display(),
        );
        let doc_id = self.next_id("note");
        let at = self.begin();
        jw!(&mut self.out, {
            "resourceType": "DocumentReference",
            "id": doc_id,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"]},
            "status": "current",
            "docStatus": "final",
            "type": concept(fhir::LOINC, "11506-3", "Progress note"),
            "category": [concept("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")],
            "subject": &self.subject,
            "date": format!("{}.000+00:00", end.trim_end_matches('Z')),
            "author": [reference_named("Practitioner", &doctor.id, &doctor.display())],
            "custodian": org_ref,
            "content": [{"attachment": {
                "contentType": "text/plain; charset=utf-8",
                "data": Base64(&text),
                "title": format!("Progress note {}", date::date(p.day))
            }}],
            "context": {"encounter": [encounter_ref], "period": {"start": start, "end": end}}
        });
        self.end("DocumentReference", doc_id, at);
    }

    fn procedure_at(
        &mut self,
        code: &str,
        display: &str,
        p: &Planned,
        doctor: &Staff,
        encounter: &Ref,
    ) {
        self.procedure(
            code,
            display,
            p.day,
            p.minute + 10,
            doctor,
            Some(encounter),
            p.provider,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn procedure(
        &mut self,
        code: &str,
        display: &str,
        day: i64,
        minute: i64,
        doctor: &Staff,
        encounter: Option<&Ref>,
        provider: usize,
    ) {
        let id = self.next_id("proc");
        let at = self.begin();
        jw!(&mut self.out, {
            "resourceType": "Procedure",
            "id": id,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-procedure"]},
            "status": "completed",
            "code": concept(SNOMED, code, display),
            "subject": &self.subject,
            "performedPeriod": {"start": date::date_time(day, minute), "end": date::date_time(day, minute + 15)},
            "performer": [{"actor": reference_named("Practitioner", &doctor.id, &doctor.display()),
                           "onBehalfOf": reference("Organization", &self.dir.organization_id(provider))}],
            "encounter": encounter
        });
        self.end("Procedure", id, at);
    }

    fn immunization(
        &mut self,
        cvx: &str,
        day: i64,
        minute: i64,
        nurse: &Staff,
        encounter: Option<&Ref>,
        provider: usize,
    ) {
        let Some(v) = crate::tables::vaccine(cvx) else {
            return;
        };
        let id = self.next_id("imm");
        let at = self.begin();
        jw!(&mut self.out, {
            "resourceType": "Immunization",
            "id": id,
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-immunization"]},
            "status": "completed",
            "vaccineCode": concept(fhir::CVX, v.cvx, v.display),
            "patient": &self.subject,
            "occurrenceDateTime": date::date_time(day, minute),
            "primarySource": true,
            "location": reference("Location", &self.dir.location_id(provider, 0)),
            "lotNumber": format!("L{:06}", self.rng.below(1_000_000)),
            "performer": [{"actor": reference_named("Practitioner", &nurse.id, &nurse.display())}],
            "encounter": encounter
        });
        self.end("Immunization", id, at);
    }
}

fn condition(
    w: &mut Json,
    id: &str,
    c: &Condition,
    subject: &Ref,
    onset: i64,
    abated: Option<i64>,
    encounter: Option<&Ref>,
) {
    let (category, category_display) = if encounter.is_some() {
        ("encounter-diagnosis", "Encounter Diagnosis")
    } else {
        ("problem-list-item", "Problem List Item")
    };
    let (status, status_display) = if abated.is_some() {
        ("resolved", "Resolved")
    } else {
        ("active", "Active")
    };
    jw!(w, {
        "resourceType": "Condition",
        "id": id,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition"]},
        "clinicalStatus": concept(CONDITION_CLINICAL, status, status_display),
        "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
        "category": [concept("http://terminology.hl7.org/CodeSystem/condition-category", category, category_display)],
        "code": {"coding": [coding(ICD10, c.icd10, c.icd10_display), coding(SNOMED, c.snomed, c.snomed_display)], "text": c.snomed_display},
        "subject": subject,
        "onsetDateTime": date::date(onset),
        "recordedDate": date::date(onset),
        "abatementDateTime": abated.map(date::date),
        "encounter": encounter
    });
}

#[allow(clippy::too_many_arguments)]
fn medication_request(
    w: &mut Json,
    id: &str,
    rxnorm: &str,
    display: &str,
    status: &str,
    subject: &Ref,
    encounter: Option<&Ref>,
    prescriber: &Staff,
    authored: i64,
    reason: Option<&str>,
    c: &Condition,
) {
    jw!(w, {
        "resourceType": "MedicationRequest",
        "id": id,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest"]},
        "status": status,
        "intent": "order",
        "category": [concept("http://terminology.hl7.org/CodeSystem/medicationrequest-category", if c.chronic { "community" } else { "outpatient" }, if c.chronic { "Community" } else { "Outpatient" })],
        "medicationCodeableConcept": concept(RXNORM, rxnorm, display),
        "subject": subject,
        "authoredOn": date::date(authored),
        "requester": reference_named("Practitioner", &prescriber.id, &prescriber.display()),
        "reasonCode": [concept(ICD10, c.icd10, c.icd10_display)],
        "encounter": encounter,
        "reasonReference": reason.map(|r| [reference("Condition", r)])
    });
}
