//! Code tables used by the mappings. Each names its public source.

/// Coding-system names of HL7 table 0396 (and common local spellings) →
/// FHIR system URIs. Sources: HL7 v2 table 0396 "Coding System"; FHIR R4
/// "Using Codes" (terminologies-systems.html); HL7 Terminology (THO)
/// `v2-nnnn` code systems for HL7-defined tables.
pub fn code_system(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    let known = match upper.as_str() {
        "LN" | "LOINC" => "http://loinc.org",
        "SCT" | "SNM" | "SNM3" | "SNOMED" | "SNOMEDCT" | "SNOMED-CT" => "http://snomed.info/sct",
        "I10" | "ICD10" | "ICD-10" => "http://hl7.org/fhir/sid/icd-10",
        "I10C" | "ICD10CM" | "ICD-10-CM" => "http://hl7.org/fhir/sid/icd-10-cm",
        "I9" | "I9C" | "I9CM" | "ICD9" | "ICD9CM" => "http://hl7.org/fhir/sid/icd-9-cm",
        "CVX" => "http://hl7.org/fhir/sid/cvx",
        "MVX" => "http://hl7.org/fhir/sid/mvx",
        "NDC" => "http://hl7.org/fhir/sid/ndc",
        "RXNORM" => "http://www.nlm.nih.gov/research/umls/rxnorm",
        "UCUM" => "http://unitsofmeasure.org",
        "C4" | "CPT" | "CPT4" => "http://www.ama-assn.org/go/cpt",
        "DCM" => "http://dicom.nema.org/resources/ontology/DCM",
        "NCIT" => "http://ncimeta.nci.nih.gov",
        "CDCPHINVS" => "urn:oid:2.16.840.1.114222.4.5.274",
        _ => "",
    };
    if !known.is_empty() {
        return Some(known.to_string());
    }
    // HL7nnnn / HL7-nnnn: an HL7-defined table.
    let digits = upper
        .strip_prefix("HL7")
        .map(|r| r.trim_start_matches('-'))
        .filter(|r| r.len() == 4 && r.bytes().all(|b| b.is_ascii_digit()))?;
    Some(v2_table(digits))
}

/// The THO code system of HL7 v2 table `nnnn`.
pub fn v2_table(nnnn: &str) -> String {
    format!("http://terminology.hl7.org/CodeSystem/v2-{nnnn}")
}

/// HL7 table 0001 (administrative sex) → FHIR administrative-gender.
pub fn gender(code: &str) -> Option<&'static str> {
    Some(match code.to_ascii_uppercase().as_str() {
        "M" => "male",
        "F" => "female",
        "O" | "A" | "N" | "X" => "other",
        "U" => "unknown",
        _ => return None,
    })
}

/// HL7 table 0004 (patient class) → HL7 v3 ActCode encounter class
/// (FHIR R4 Encounter.class, v3-ActEncounterCode). Source: HL7 v2-to-FHIR
/// concept map "PV1-2 Patient Class".
pub fn encounter_class(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code.to_ascii_uppercase().as_str() {
        "E" => ("EMER", "emergency"),
        "I" => ("IMP", "inpatient encounter"),
        "O" => ("AMB", "ambulatory"),
        "P" => ("PRENC", "pre-admission"),
        "R" => ("AMB", "ambulatory"),
        "B" => ("IMP", "inpatient encounter"),
        _ => return None,
    })
}

/// HL7 v3 ObservationInterpretation system.
pub const INTERPRETATION_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// HL7 table 0078 (interpretation codes) → HL7 v3 ObservationInterpretation
/// codes and displays. The two share most codes; listed are those defined in
/// both (v3 code system 2.16.840.1.113883.5.83, THO release of R4's time).
pub fn interpretation(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "L" => ("L", "Low"),
        "H" => ("H", "High"),
        "LL" => ("LL", "Critical low"),
        "HH" => ("HH", "Critical high"),
        "<" => ("<", "Off scale low"),
        ">" => (">", "Off scale high"),
        "N" => ("N", "Normal"),
        "A" => ("A", "Abnormal"),
        "AA" => ("AA", "Critical abnormal"),
        "U" => ("U", "Significant change up"),
        "D" => ("D", "Significant change down"),
        "B" => ("B", "Better"),
        "W" => ("W", "Worse"),
        "S" => ("S", "Susceptible"),
        "R" => ("R", "Resistant"),
        "I" => ("I", "Intermediate"),
        "MS" => ("MS", "moderately susceptible"),
        "VS" => ("VS", "very susceptible"),
        "NEG" => ("NEG", "Negative"),
        "POS" => ("POS", "Positive"),
        "IND" => ("IND", "Indeterminate"),
        "DET" => ("DET", "Detected"),
        "ND" => ("ND", "Not detected"),
        "E" => ("E", "Equivocal"),
        "EX" => ("EX", "outside threshold"),
        "HX" => ("HX", "above high threshold"),
        "LX" => ("LX", "below low threshold"),
        "NR" => ("NR", "Non-reactive"),
        "RR" => ("RR", "Reactive"),
        "WR" => ("WR", "Weakly reactive"),
        "SDD" => ("SDD", "Susceptible-dose dependent"),
        "NS" => ("NS", "Non-susceptible"),
        "HU" => ("HU", "Significantly high"),
        "LU" => ("LU", "Significantly low"),
        _ => return None,
    })
}

/// HL7 table 0085 (observation result status) → FHIR Observation.status.
pub fn observation_status(code: Option<&str>) -> &'static str {
    match code.map(str::to_ascii_uppercase).as_deref() {
        Some("F" | "U") => "final",
        Some("C") => "corrected",
        Some("P" | "R" | "S") => "preliminary",
        Some("I" | "O") => "registered",
        Some("D" | "W") => "entered-in-error",
        Some("X" | "N") => "cancelled",
        _ => "unknown",
    }
}

/// HL7 table 0123 (result status, OBR-25) → FHIR DiagnosticReport.status.
pub fn report_status(code: Option<&str>) -> &'static str {
    match code.map(str::to_ascii_uppercase).as_deref() {
        Some("O" | "I" | "S") => "registered",
        Some("P" | "R") => "preliminary",
        Some("A") => "partial",
        Some("F") => "final",
        Some("C" | "M") => "corrected",
        Some("X") => "cancelled",
        _ => "unknown",
    }
}

/// HL7 table 0190 (address type) → FHIR Address.use.
pub fn address_use(code: &str) -> Option<&'static str> {
    Some(match code {
        "H" | "P" => "home",
        "B" | "O" => "work",
        "C" => "temp",
        "BA" => "billing",
        "OLD" => "old",
        _ => return None,
    })
}

/// HL7 table 0201 (telecommunication use) and 0202 (equipment type) →
/// FHIR ContactPoint.use and .system.
pub fn telecom_use(code: &str) -> Option<&'static str> {
    Some(match code {
        "PRN" | "ORN" | "VHN" => "home",
        "WPN" => "work",
        "PRS" => "mobile",
        _ => return None,
    })
}

pub fn telecom_system(code: &str) -> Option<&'static str> {
    Some(match code {
        "PH" | "CP" | "SAT" | "TDD" | "TTY" => "phone",
        "FX" => "fax",
        "BP" => "pager",
        "Internet" | "X.400" => "email",
        _ => return None,
    })
}

/// HL7 table 0200 (name type) → FHIR HumanName.use.
pub fn name_use(code: &str) -> Option<&'static str> {
    Some(match code {
        "L" => "official",
        "D" | "C" => "usual",
        "M" => "maiden",
        "N" => "nickname",
        "S" | "U" => "anonymous",
        "T" => "temp",
        "BAD" | "NOUSE" => "old",
        _ => return None,
    })
}
