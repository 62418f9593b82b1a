//! Outbound messages built from FHIR resources (pure): OML^O21 lab orders
//! from a ServiceRequest, VXU^V04 immunization reports from an
//! Immunization, both v2.5.1 and checked against PyPI `hl7apy`'s strict
//! validation in the tests. (ORM^O01 is not offered: hl7apy's 2.5.1
//! ORM_O01 table demands an RQD segment in every order.) Sending,
//! retries and ACK tracking are `concord-interfaces`' outbound service.

mod fields;
mod oml;
mod vxu;

pub use oml::{oml_o21, oml_o21_change};
pub use vxu::vxu_v04;

/// MSH values of an outbound message.
#[derive(Debug, Clone)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    /// MSH-10, unique per sender.
    pub control_id: String,
    /// MSH-7 as an HL7 DTM (e.g. `20240101120000+0000`).
    pub timestamp: String,
    /// MSH-11: `P`, `T` or `D`.
    pub processing_id: String,
}

/// Why a resource cannot become a message (names the FHIR element).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the message: {element} {problem}")]
pub struct BuildError {
    pub element: String,
    pub problem: String,
}

impl BuildError {
    pub(crate) fn missing(element: &str) -> BuildError {
        BuildError {
            element: element.to_string(),
            problem: "is required".to_string(),
        }
    }
}
