//! Errors: syntax (with position), semantic (static or type rules) and
//! execution (runtime) failures.

use std::fmt;

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FhirPathError {
    /// The expression text is not valid FHIRPath. `position` is the byte
    /// offset; `line`/`column` are 1-based.
    Syntax {
        message: String,
        position: usize,
        line: usize,
        column: usize,
    },
    /// The expression is well-formed but not meaningful (unknown function,
    /// wrong argument count, invalid element for the type, ...).
    Semantic {
        message: String,
        position: Option<usize>,
    },
    /// Evaluation failed (a singleton was expected, incompatible operands, ...).
    Execution { message: String },
}

impl FhirPathError {
    pub(crate) fn syntax(src: &str, position: usize, message: impl Into<String>) -> Self {
        let before = src.get(..position.min(src.len())).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        FhirPathError::Syntax {
            message: message.into(),
            position,
            line,
            column,
        }
    }

    pub(crate) fn semantic(message: impl Into<String>, position: Option<usize>) -> Self {
        FhirPathError::Semantic {
            message: message.into(),
            position,
        }
    }

    pub(crate) fn exec(message: impl Into<String>) -> Self {
        FhirPathError::Execution {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            FhirPathError::Syntax { message, .. }
            | FhirPathError::Semantic { message, .. }
            | FhirPathError::Execution { message } => message,
        }
    }

    pub fn is_syntax(&self) -> bool {
        matches!(self, FhirPathError::Syntax { .. })
    }

    pub fn is_semantic(&self) -> bool {
        matches!(self, FhirPathError::Semantic { .. })
    }
}

impl fmt::Display for FhirPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FhirPathError::Syntax {
                message,
                line,
                column,
                ..
            } => write!(f, "syntax error at {line}:{column}: {message}"),
            FhirPathError::Semantic {
                message,
                position: Some(p),
            } => write!(f, "semantic error at offset {p}: {message}"),
            FhirPathError::Semantic { message, .. } => write!(f, "semantic error: {message}"),
            FhirPathError::Execution { message } => write!(f, "evaluation error: {message}"),
        }
    }
}

impl std::error::Error for FhirPathError {}

pub type Result<T> = std::result::Result<T, FhirPathError>;
