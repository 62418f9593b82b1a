//! One error type: which input field is wrong and why, in words a clinician
//! can act on (the pages show `message` next to the field).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicalError {
    /// The form field (or resource element) at fault, e.g. `dose`.
    pub field: &'static str,
    pub message: String,
}

impl ClinicalError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ClinicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ClinicalError {}

pub type Result<T> = std::result::Result<T, ClinicalError>;
