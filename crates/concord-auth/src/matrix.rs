//! The permission matrix: role × resource category → permitted interactions.
//! `docs/security.md` documents exactly this table; a test checks they agree.

use crate::perms::Perms;
use crate::role::Role;

/// A group of resource types that share permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Demographics,
    Clinical,
    Scheduling,
    Financial,
    Directory,
    Audit,
    Definitions,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Demographics,
        Category::Clinical,
        Category::Scheduling,
        Category::Financial,
        Category::Directory,
        Category::Audit,
        Category::Definitions,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Demographics => "demographics",
            Category::Clinical => "clinical",
            Category::Scheduling => "scheduling",
            Category::Financial => "financial",
            Category::Directory => "directory",
            Category::Audit => "audit",
            Category::Definitions => "definitions",
        }
    }

    /// The resource types listed for the category; `Clinical` lists none
    /// because it holds every type no other category lists.
    pub fn members(self) -> &'static [&'static str] {
        match self {
            Category::Demographics => &["Patient", "Person", "RelatedPerson"],
            Category::Clinical => &[],
            Category::Scheduling => &[
                "Appointment",
                "AppointmentResponse",
                "Encounter",
                "EpisodeOfCare",
                "Schedule",
                "Slot",
            ],
            Category::Financial => &[
                "Account",
                "ChargeItem",
                "ChargeItemDefinition",
                "Claim",
                "ClaimResponse",
                "Contract",
                "Coverage",
                "CoverageEligibilityRequest",
                "CoverageEligibilityResponse",
                "EnrollmentRequest",
                "EnrollmentResponse",
                "ExplanationOfBenefit",
                "InsurancePlan",
                "Invoice",
                "PaymentNotice",
                "PaymentReconciliation",
            ],
            Category::Directory => &[
                "Endpoint",
                "HealthcareService",
                "Location",
                "Organization",
                "OrganizationAffiliation",
                "Practitioner",
                "PractitionerRole",
            ],
            Category::Audit => &["AuditEvent"],
            Category::Definitions => &[
                "ActivityDefinition",
                "CapabilityStatement",
                "CodeSystem",
                "CompartmentDefinition",
                "ConceptMap",
                "GraphDefinition",
                "ImplementationGuide",
                "Library",
                "Measure",
                "MessageDefinition",
                "NamingSystem",
                "OperationDefinition",
                "PlanDefinition",
                "Questionnaire",
                "SearchParameter",
                "StructureDefinition",
                "StructureMap",
                "TerminologyCapabilities",
                "ValueSet",
            ],
        }
    }
}

/// The category a resource type belongs to.
pub fn category_of(resource_type: &str) -> Category {
    Category::ALL
        .into_iter()
        .find(|c| c.members().contains(&resource_type))
        .unwrap_or(Category::Clinical)
}

/// A row of the matrix: staff roles, and patients/proxies (who are further
/// limited to their own compartments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatrixRow {
    Staff(Role),
    Patient,
    Proxy,
}

impl MatrixRow {
    pub fn all() -> Vec<MatrixRow> {
        let mut rows: Vec<MatrixRow> = Role::ALL.into_iter().map(MatrixRow::Staff).collect();
        rows.push(MatrixRow::Patient);
        rows.push(MatrixRow::Proxy);
        rows
    }

    pub fn code(self) -> &'static str {
        match self {
            MatrixRow::Staff(role) => role.code(),
            MatrixRow::Patient => "patient",
            MatrixRow::Proxy => "proxy",
        }
    }
}

/// Cells in `Category::ALL` order: demographics, clinical, scheduling,
/// financial, directory, audit, definitions.
fn row_cells(row: MatrixRow) -> [&'static str; 7] {
    match row {
        MatrixRow::Staff(Role::Physician) => ["crus", "cruds", "cruds", "rs", "rs", "-", "rs"],
        MatrixRow::Staff(Role::Nurse) => ["crus", "crus", "crus", "-", "rs", "-", "rs"],
        MatrixRow::Staff(Role::MedicalAssistant) => ["crus", "crs", "crus", "-", "rs", "-", "rs"],
        MatrixRow::Staff(Role::FrontDesk) => ["crus", "-", "cruds", "rs", "rs", "-", "rs"],
        MatrixRow::Staff(Role::Billing) => ["rs", "rs", "rs", "cruds", "rs", "-", "rs"],
        MatrixRow::Staff(Role::PracticeAdmin) => ["rs", "-", "cruds", "rs", "cruds", "-", "rs"],
        MatrixRow::Staff(Role::SecurityOfficer) => ["rs", "-", "-", "-", "rs", "rs", "rs"],
        MatrixRow::Staff(Role::SystemAdmin) => ["-", "-", "-", "-", "cruds", "-", "cruds"],
        MatrixRow::Patient | MatrixRow::Proxy => ["rs", "rs", "rs", "rs", "rs", "rs", "rs"],
    }
}

/// What a row may do with a category.
pub fn permitted(row: MatrixRow, category: Category) -> Perms {
    let at = Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0);
    Perms::parse(row_cells(row)[at]).unwrap_or(Perms::NONE)
}

/// What a row may do with a resource type.
pub fn permitted_for_type(row: MatrixRow, resource_type: &str) -> Perms {
    permitted(row, category_of(resource_type))
}

#[cfg(test)]
mod tests;
