//! USCDI v3 demographics: name, birth date, sex, gender identity, pronouns,
//! race and ethnicity (US Core extensions, OMB categories from the CDC Race
//! & Ethnicity Code Set), preferred language, address, phone, email and an
//! MRN per organization that has seen the patient.

use crate::fhir::{coding, concept, Ref, SNOMED};
use crate::json::jw;
use crate::json::{Json, With};
use crate::rng::Rng;
use crate::tables::tables;

const CDC_RACE: &str = "urn:oid:2.16.840.1.113883.6.238";
const US_CORE: &str = "http://hl7.org/fhir/us/core/StructureDefinition";

/// OMB race categories with a rough weight (the approximate national mix of
/// the US Census Bureau's QuickFacts, rounded; a synthetic mix).
const RACES: &[(&str, &str, u32)] = &[
    ("2106-3", "White", 60),
    ("2054-5", "Black or African American", 13),
    ("2028-9", "Asian", 6),
    ("1002-5", "American Indian or Alaska Native", 1),
    ("2076-8", "Native Hawaiian or Other Pacific Islander", 1),
];

/// Preferred languages (BCP 47) with a rough weight.
const LANGUAGES: &[(&str, &str, u32)] = &[
    ("en", "English", 85),
    ("es", "Spanish", 10),
    ("zh", "Chinese", 2),
    ("vi", "Vietnamese", 2),
    ("pt", "Portuguese", 1),
];

/// Towns in western Massachusetts and a ZIP code of each (USPS).
const TOWNS: &[(&str, &str)] = &[
    ("Springfield", "01103"),
    ("Holyoke", "01040"),
    ("Chicopee", "01013"),
    ("Westfield", "01085"),
    ("Northampton", "01060"),
    ("Agawam", "01001"),
    ("Worcester", "01608"),
    ("Ludlow", "01056"),
];

const STREETS: &[&str] = &[
    "Maple Street",
    "Oak Avenue",
    "Elm Street",
    "Chestnut Street",
    "Pleasant Street",
    "Park Avenue",
    "Highland Avenue",
    "Union Street",
    "River Road",
    "School Street",
];

/// Gender identity (SNOMED CT findings, as US Core's gender identity value set lists them).
const IDENTITY_MALE: (&str, &str) = ("446151000124109", "Identifies as male gender (finding)");
const IDENTITY_FEMALE: (&str, &str) = ("446141000124107", "Identifies as female gender (finding)");
const IDENTITY_NONBINARY: (&str, &str) =
    ("33791000087105", "Identifies as nonbinary gender (finding)");

/// Pronouns (LOINC answer list LL5144-2).
const PRONOUNS_HE: (&str, &str) = ("LA29518-0", "he/him/his/his/himself");
const PRONOUNS_SHE: (&str, &str) = ("LA29519-8", "she/her/her/hers/herself");
const PRONOUNS_THEY: (&str, &str) = ("LA29520-6", "they/them/their/theirs/themselves");

pub struct Person {
    pub female: bool,
    pub given: Vec<&'static str>,
    pub family: &'static str,
    pub birth_day: i64,
}

impl Person {
    pub fn draw(rng: &mut Rng, reference_day: i64) -> Person {
        let t = tables();
        let female = rng.chance(0.51);
        let names = if female {
            &t.female_names
        } else {
            &t.male_names
        };
        let mut given = vec![*rng.pick(names)];
        if rng.chance(0.4) {
            let middle = *rng.pick(names);
            if middle != given[0] {
                given.push(middle);
            }
        }
        let age = rng.range(18, 92);
        let birth_day = reference_day - age * 365 - age / 4 - rng.range(1, 364);
        let family = *rng.pick(&t.surnames);
        Person {
            female,
            given,
            family,
            birth_day,
        }
    }
}

/// The Patient resource: its demographic elements, then the managing
/// organization and the general practitioner.
#[allow(clippy::too_many_arguments)]
pub fn patient_resource(
    w: &mut Json,
    rng: &mut Rng,
    id: &str,
    index: u64,
    person: &Person,
    mrns: &[(String, String)],
    managing_organization: &Ref,
    general_practitioner: &Ref,
) {
    let (town, zip) = *rng.pick(TOWNS);
    let street = *rng.pick(STREETS);
    let race = RACES[rng.weighted(&RACES.iter().map(|r| r.2).collect::<Vec<_>>())];
    let hispanic = rng.chance(0.19);
    let (eth_code, eth_display) = if hispanic {
        ("2135-2", "Hispanic or Latino")
    } else {
        ("2186-5", "Not Hispanic or Latino")
    };
    let mut lang = LANGUAGES[rng.weighted(&LANGUAGES.iter().map(|l| l.2).collect::<Vec<_>>())];
    if hispanic && rng.chance(0.4) {
        lang = LANGUAGES[1];
    }
    let identity_roll = rng.unit();
    let (identity, pronouns) = if identity_roll < 0.02 {
        (IDENTITY_NONBINARY, PRONOUNS_THEY)
    } else if identity_roll < 0.03 {
        // Identifies as the gender other than the sex assigned at birth.
        if person.female {
            (IDENTITY_MALE, PRONOUNS_HE)
        } else {
            (IDENTITY_FEMALE, PRONOUNS_SHE)
        }
    } else if person.female {
        (IDENTITY_FEMALE, PRONOUNS_SHE)
    } else {
        (IDENTITY_MALE, PRONOUNS_HE)
    };
    let gender = match identity.0 {
        c if c == IDENTITY_NONBINARY.0 => "other",
        c if c == IDENTITY_FEMALE.0 => "female",
        _ => "male",
    };
    let identifiers = With(|w: &mut Json| {
        w.begin_array();
        for (system, value) in mrns {
            jw!(w, {
                "use": "usual",
                "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number")], "text": "MRN"},
                "system": system,
                "value": value
            });
        }
        w.end_array();
    });
    jw!(w, {
        "resourceType": "Patient",
        "id": id,
        "meta": {"profile": [format!("{US_CORE}/us-core-patient")]},
        "extension": [
            {"url": format!("{US_CORE}/us-core-race"), "extension": [
                {"url": "ombCategory", "valueCoding": coding(CDC_RACE, race.0, race.1)},
                {"url": "text", "valueString": race.1}]},
            {"url": format!("{US_CORE}/us-core-ethnicity"), "extension": [
                {"url": "ombCategory", "valueCoding": coding(CDC_RACE, eth_code, eth_display)},
                {"url": "text", "valueString": eth_display}]},
            {"url": format!("{US_CORE}/us-core-birthsex"), "valueCode": if person.female { "F" } else { "M" }},
            {"url": format!("{US_CORE}/us-core-genderIdentity"), "valueCodeableConcept": concept(SNOMED, identity.0, identity.1)},
            {"url": "http://hl7.org/fhir/StructureDefinition/individual-pronouns", "extension": [
                {"url": "value", "valueCodeableConcept": concept("http://loinc.org", pronouns.0, pronouns.1)}]}
        ],
        "identifier": identifiers,
        "active": true,
        "name": [{"use": "official", "family": person.family, "given": person.given}],
        "telecom": [
            {"system": "phone", "value": format!("413-555-{:04}", 100 + index % 9900), "use": if rng.chance(0.7) { "mobile" } else { "home" }},
            {"system": "email", "value": format!("{}.{}{}@example.com", person.given[0].to_lowercase(), person.family.to_lowercase(), index), "use": "home"}
        ],
        "gender": gender,
        "birthDate": crate::date::date(person.birth_day),
        "address": [{"use": "home", "line": [format!("{} {street}", rng.range(1, 999))], "city": town, "state": "MA", "postalCode": zip, "country": "US"}],
        "communication": [{"language": concept("urn:ietf:bcp:47", lang.0, lang.1), "preferred": true}],
        "managingOrganization": managing_organization,
        "generalPractitioner": [general_practitioner]
    });
}
