//! Visit documentation: SOAP notes as FHIR `Composition`, sign-and-lock,
//! addenda, and encounter diagnoses as `Condition`.
//!
//! Why `Composition` rather than `DocumentReference`: a SOAP note is
//! structured text in four sections, and `Composition.section` holds exactly
//! that (title, LOINC section code, narrative, entries pointing at the
//! diagnoses), while `DocumentReference` would wrap an opaque attachment.
//! `Composition` also has the signing elements (`status`, `attester`) and
//! `relatesTo.code = appends` for addenda.
//!
//! Codes: document type LOINC 11506-3 "Progress note"; section codes LOINC
//! 61150-9 "Subjective Narrative", 61149-1 "Objective Narrative", 51848-0
//! "Assessment note", 18776-5 "Plan of care note" (source: LOINC, loinc.org).
//! Condition category and statuses come from the HL7 terminology code systems
//! named in the R4 Condition resource.

use crate::error::{ClinicalError, Result};
use crate::icd10;
use crate::util::{check_reference, format_datetime, narrative, reference, required_text};
use serde_json::{json, Value};

pub const LOINC: &str = "http://loinc.org";

/// The four SOAP sections: (key, title, LOINC code, LOINC display).
pub const SECTIONS: [(&str, &str, &str, &str); 4] = [
    (
        "subjective",
        "Subjective",
        "61150-9",
        "Subjective Narrative",
    ),
    ("objective", "Objective", "61149-1", "Objective Narrative"),
    ("assessment", "Assessment", "51848-0", "Assessment note"),
    ("plan", "Plan", "18776-5", "Plan of care note"),
];

/// A note template: a title and the headings each section starts with. The
/// headings are prompts for the clinician, not clinical content.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub id: &'static str,
    pub title: &'static str,
    /// Prompts for subjective, objective, assessment, plan.
    pub prompts: [&'static str; 4],
}

pub const TEMPLATES: [Template; 3] = [
    Template {
        id: "general",
        title: "General visit note",
        prompts: [
            "Chief complaint:\nHistory of present illness:\nReview of systems:",
            "Vital signs:\nExamination:",
            "Assessment:",
            "Plan:\nFollow-up:",
        ],
    },
    Template {
        id: "follow-up",
        title: "Follow-up visit note",
        prompts: [
            "Reason for follow-up:\nInterval history:\nAdherence and side effects:",
            "Vital signs:\nFocused examination:\nResults reviewed:",
            "Status of each problem:",
            "Changes to treatment:\nNext follow-up:",
        ],
    },
    Template {
        id: "well-visit",
        title: "Well visit note",
        prompts: [
            "Concerns:\nSocial and family history updates:\nScreening questions:",
            "Vital signs and growth/BMI:\nExamination:",
            "Health maintenance status:",
            "Screenings and immunizations due:\nCounselling:\nNext well visit:",
        ],
    },
];

pub fn template(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.id == id)
}

/// What the note editor submits.
#[derive(Debug, Clone, Default)]
pub struct NoteDraft {
    pub title: String,
    pub patient: String,
    pub encounter: String,
    pub author: String,
    /// Subjective, objective, assessment, plan.
    pub sections: [String; 4],
    /// `Condition/…` references of the encounter diagnoses (Assessment entries).
    pub diagnoses: Vec<String>,
    /// `dateTime` of the note.
    pub date: String,
}

fn check_common(d: &NoteDraft) -> Result<()> {
    check_reference("patient", &d.patient, &["Patient"])?;
    check_reference("encounter", &d.encounter, &["Encounter"])?;
    check_reference("author", &d.author, &["Practitioner", "PractitionerRole"])?;
    crate::util::check_datetime("date", &d.date)?;
    for r in &d.diagnoses {
        check_reference("diagnoses", r, &["Condition"])?;
    }
    if d.sections.iter().all(|s| s.trim().is_empty()) {
        return Err(ClinicalError::new("subjective", "the note is empty"));
    }
    Ok(())
}

/// Sections with content; an empty one is left out (R4 cmp-1 wants text,
/// entries or sub-sections in every section, even one with an emptyReason).
fn sections_json(d: &NoteDraft) -> Vec<Value> {
    SECTIONS
        .iter()
        .zip(d.sections.iter())
        .filter(|((key, ..), text)| {
            !text.trim().is_empty() || (*key == "assessment" && !d.diagnoses.is_empty())
        })
        .map(|((key, title, code, display), text)| {
            let mut s = json!({
                "title": title,
                "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
            });
            if !text.trim().is_empty() {
                s["text"] = narrative(text);
            }
            if *key == "assessment" && !d.diagnoses.is_empty() {
                s["entry"] = Value::Array(d.diagnoses.iter().map(|r| reference(r)).collect());
            }
            s
        })
        .collect()
}

/// A new draft note (`status = preliminary`), editable until signed.
pub fn build_note(d: &NoteDraft) -> Result<Value> {
    check_common(d)?;
    let title = required_text("title", &d.title)?;
    Ok(json!({
        "resourceType": "Composition",
        "status": "preliminary",
        "type": { "coding": [{ "system": LOINC, "code": "11506-3", "display": "Progress note" }] },
        "subject": reference(&d.patient),
        "encounter": reference(&d.encounter),
        "date": d.date,
        "author": [reference(&d.author)],
        "title": title,
        "section": sections_json(d),
    }))
}

/// Is this stored note still a draft? Signed notes (`final`, `amended`,
/// `entered-in-error`) are locked.
pub fn ensure_editable(stored: &Value) -> Result<()> {
    match stored["status"].as_str() {
        Some("preliminary") => Ok(()),
        Some(_) => Err(ClinicalError::new(
            "status",
            "this note is signed and locked; write an addendum instead",
        )),
        None => Err(ClinicalError::new("status", "not a note")),
    }
}

/// A new version of a draft with edited content; refuses signed notes.
pub fn update_note(stored: &Value, d: &NoteDraft) -> Result<Value> {
    ensure_editable(stored)?;
    let mut next = build_note(d)?;
    if let Some(id) = stored.get("id") {
        next["id"] = id.clone();
    }
    if let Some(rel) = stored.get("relatesTo") {
        next["relatesTo"] = rel.clone();
    }
    Ok(next)
}

/// Signs a draft: `status = final`, a legal attester with the signing time.
pub fn sign_note(stored: &Value, signer: &str, at: time::OffsetDateTime) -> Result<Value> {
    ensure_editable(stored)?;
    check_reference("signer", signer, &["Practitioner", "PractitionerRole"])?;
    let mut next = stored.clone();
    next["status"] = json!("final");
    next["attester"] =
        json!([{ "mode": "legal", "time": format_datetime(at), "party": reference(signer) }]);
    Ok(next)
}

/// An addendum to a signed note: a new draft Composition that `appends` to it.
pub fn build_addendum(original: &Value, original_ref: &str, d: &NoteDraft) -> Result<Value> {
    check_reference("original", original_ref, &["Composition"])?;
    if original["status"].as_str() != Some("final")
        && original["status"].as_str() != Some("amended")
    {
        return Err(ClinicalError::new(
            "original",
            "only a signed note can have an addendum",
        ));
    }
    let mut a = build_note(d)?;
    a["relatesTo"] = json!([{ "code": "appends", "targetReference": reference(original_ref) }]);
    Ok(a)
}

/// The plain text of a section (key `subjective`…`plan`), read back from its
/// narrative for the editor.
pub fn section_text(note: &Value, key: &str) -> String {
    let Some(pos) = SECTIONS.iter().position(|s| s.0 == key) else {
        return String::new();
    };
    let code = SECTIONS[pos].2;
    let Some(section) = note["section"].as_array().and_then(|s| {
        s.iter()
            .find(|s| s["code"]["coding"][0]["code"].as_str() == Some(code))
    }) else {
        return String::new();
    };
    let div = section["text"]["div"].as_str().unwrap_or("");
    let mut lines = Vec::new();
    for part in div.split("<p>").skip(1) {
        let line = part.split("</p>").next().unwrap_or("");
        lines.push(
            line.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        );
    }
    lines.join("\n")
}

/// An encounter diagnosis coded in ICD-10-CM (the code must be billable).
pub fn build_diagnosis(
    patient: &str,
    encounter: &str,
    recorder: &str,
    icd10_code: &str,
    recorded: &str,
) -> Result<Value> {
    check_reference("patient", patient, &["Patient"])?;
    check_reference("encounter", encounter, &["Encounter"])?;
    check_reference("recorder", recorder, &["Practitioner", "PractitionerRole"])?;
    crate::util::check_datetime("recorded", recorded)?;
    let code = icd10::lookup(icd10_code).ok_or_else(|| {
        ClinicalError::new(
            "diagnosis",
            format!(
                "{} is not a billable ICD-10-CM code; pick one from the list",
                icd10_code.trim()
            ),
        )
    })?;
    Ok(json!({
        "resourceType": "Condition",
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active" }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed" }] },
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis", "display": "Encounter Diagnosis" }] }],
        "code": { "coding": [{ "system": icd10::SYSTEM, "code": code.code, "display": code.description }], "text": code.description },
        "subject": reference(patient),
        "encounter": reference(encounter),
        "recordedDate": recorded,
        "recorder": reference(recorder),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::test_support::assert_valid;

    fn draft() -> NoteDraft {
        let t = template("follow-up").map(|t| t.prompts).unwrap_or_default();
        NoteDraft {
            title: "Follow-up visit note".into(),
            patient: "Patient/p1".into(),
            encounter: "Encounter/e1".into(),
            author: "Practitioner/dr1".into(),
            sections: [
                format!("{}\nFeels better <but> tired & thirsty", t[0]),
                "BP 128/82".into(),
                String::new(),
                "Continue current plan".into(),
            ],
            diagnoses: vec!["Condition/c1".into()],
            date: "2026-03-01T09:30:00Z".into(),
        }
    }

    #[test]
    fn note_is_valid_and_round_trips_text() {
        let note = build_note(&draft()).expect("note");
        assert_valid(&note);
        assert_eq!(note["status"], "preliminary");
        assert_eq!(note["section"].as_array().map(Vec::len), Some(4));
        assert_eq!(note["section"][2]["entry"][0]["reference"], "Condition/c1");
        assert!(section_text(&note, "subjective").ends_with("Feels better <but> tired & thirsty"));
        assert_eq!(section_text(&note, "objective"), "BP 128/82");
    }

    #[test]
    fn empty_section_is_left_out_and_empty_note_is_refused() {
        let mut d = draft();
        d.diagnoses.clear();
        let note = build_note(&d).expect("note");
        assert_valid(&note);
        assert_eq!(note["section"].as_array().map(Vec::len), Some(3));
        assert_eq!(section_text(&note, "assessment"), "");
        d.sections = Default::default();
        assert_eq!(build_note(&d).map_err(|e| e.field), Err("subjective"));
    }

    #[test]
    fn sign_locks_and_addendum_appends() {
        let mut note = build_note(&draft()).expect("note");
        note["id"] = json!("n1");
        let at = time::macros::datetime!(2026-03-01 10:00 UTC);
        let signed = sign_note(&note, "Practitioner/dr1", at).expect("sign");
        assert_valid(&signed);
        assert_eq!(signed["status"], "final");
        assert_eq!(signed["attester"][0]["mode"], "legal");
        assert_eq!(signed["attester"][0]["time"], "2026-03-01T10:00:00Z");
        // Locked: no edit, no second signature.
        assert!(update_note(&signed, &draft()).is_err());
        assert!(sign_note(&signed, "Practitioner/dr1", at).is_err());
        // Addendum only after signing.
        assert!(build_addendum(&note, "Composition/n1", &draft()).is_err());
        let add = build_addendum(&signed, "Composition/n1", &draft()).expect("addendum");
        assert_valid(&add);
        assert_eq!(add["relatesTo"][0]["code"], "appends");
        assert_eq!(
            add["relatesTo"][0]["targetReference"]["reference"],
            "Composition/n1"
        );
        // The draft itself can be edited and keeps its id.
        let edited = update_note(&note, &draft()).expect("edit");
        assert_eq!(edited["id"], "n1");
    }

    #[test]
    fn diagnosis_uses_icd10cm_and_rejects_unknown_codes() {
        let c = build_diagnosis(
            "Patient/p1",
            "Encounter/e1",
            "Practitioner/dr1",
            "e11.9",
            "2026-03-01T09:30:00Z",
        )
        .expect("condition");
        assert_valid(&c);
        assert_eq!(c["code"]["coding"][0]["code"], "E11.9");
        assert_eq!(c["category"][0]["coding"][0]["code"], "encounter-diagnosis");
        let err = build_diagnosis(
            "Patient/p1",
            "Encounter/e1",
            "Practitioner/dr1",
            "E11",
            "2026-03-01T09:30:00Z",
        )
        .expect_err("category code is not billable");
        assert!(err.message.contains("not a billable"));
        assert!(build_diagnosis(
            "Encounter/p1",
            "Encounter/e1",
            "Practitioner/dr1",
            "I10",
            "2026-03-01T09:30:00Z"
        )
        .is_err());
    }
}
