//! Code systems the forms use, and the small curated tables behind the
//! pick lists. Sources are named per table.

/// ICD-10-CM (CMS/NCHS), as FHIR names it.
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// RxNorm (NLM).
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
/// CVX vaccine codes (CDC).
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
pub const ALLERGY_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
pub const ALLERGY_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";

/// Vaccines offered in the immunization form: CVX code and the CDC's short
/// description. Source: CDC, "IIS: HL7 Standard Code Set — CVX: Vaccines
/// Administered" (www2a.cdc.gov/vaccines/iis/iisstandards/vaccines.asp?rpt=cvx).
/// Other codes can be typed in the form's "other CVX code" field.
pub const CVX_VACCINES: &[(&str, &str)] = &[
    ("03", "MMR"),
    ("08", "Hep B, adolescent or pediatric"),
    ("10", "IPV"),
    ("20", "DTaP"),
    ("21", "varicella"),
    ("33", "pneumococcal polysaccharide PPV23"),
    ("48", "Hib (PRP-T)"),
    ("83", "Hep A, ped/adol, 2 dose"),
    ("115", "Tdap"),
    ("116", "rotavirus, pentavalent"),
    ("133", "Pneumococcal conjugate PCV 13"),
    ("141", "Influenza, seasonal, injectable"),
    (
        "150",
        "Influenza, injectable, quadrivalent, preservative free",
    ),
    ("165", "HPV9"),
    ("187", "zoster recombinant"),
    (
        "207",
        "COVID-19, mRNA, LNP-S, PF, 100 mcg/0.5mL dose or 50 mcg/0.25mL dose",
    ),
    ("208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose"),
];

/// Whether `code` has the shape of an ICD-10-CM code: a letter, a digit,
/// a letter or digit, then optionally a dot and 1–4 letters or digits
/// (CMS ICD-10-CM code structure).
pub fn icd10cm_shape(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() < 3 {
        return false;
    }
    let head = b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_alphanumeric();
    match code.get(3..) {
        Some("") => head,
        Some(rest) => {
            let Some(tail) = rest.strip_prefix('.') else {
                return false;
            };
            head && (1..=4).contains(&tail.len())
                && tail
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
        None => false,
    }
}

/// Whether `code` has the shape of a CVX code (1–3 digits).
pub fn cvx_shape(code: &str) -> bool {
    (1..=3).contains(&code.len()) && code.bytes().all(|c| c.is_ascii_digit())
}

/// Whether `code` has the shape of an RxNorm concept id (digits).
pub fn rxnorm_shape(code: &str) -> bool {
    (1..=10).contains(&code.len()) && code.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_shapes() {
        assert!(icd10cm_shape("E11.9"));
        assert!(icd10cm_shape("I10"));
        assert!(icd10cm_shape("S72.001A"));
        assert!(!icd10cm_shape("e11.9"));
        assert!(!icd10cm_shape("E11."));
        assert!(!icd10cm_shape("E11.12345"));
        assert!(!icd10cm_shape("11.9"));
        assert!(cvx_shape("08") && cvx_shape("208") && !cvx_shape("2088") && !cvx_shape("A1"));
        assert!(rxnorm_shape("197361") && !rxnorm_shape("abc"));
    }
}
