//! A FHIRPath (N1) engine over FHIR R4 JSON resources.
//!
//! ```
//! let patient = serde_json::json!({
//!     "resourceType": "Patient",
//!     "name": [{"given": ["Peter", "James"], "family": "Chalmers"}]
//! });
//! let expr = concord_fhirpath::compile("Patient.name.given.first()").unwrap();
//! let out = expr.evaluate(&patient).unwrap();
//! assert_eq!(out[0].to_json(), serde_json::json!("Peter"));
//! ```
#![forbid(unsafe_code)]

mod ast;
mod datetime;
mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod quantity;
mod types;

#[cfg(test)]
mod tests;

pub use datetime::{Temporal, TemporalKind};
pub use error::FhirPathError;
pub use eval::EvalContext;
pub use quantity::Quantity;
pub use types::{FhirNode, FhirType, Item};

use serde_json::Value;

/// A compiled expression: parse and check once, evaluate many times.
/// `Send + Sync` and cheap to share.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    root: ast::Expr,
}

/// Parses and checks an expression (syntax, known functions and argument
/// counts).
pub fn compile(expr: &str) -> Result<Expression, FhirPathError> {
    let root = parser::parse(expr)?;
    functions::validate(&root)?;
    Ok(Expression {
        source: expr.to_string(),
        root,
    })
}

impl Expression {
    /// The expression text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against a resource (which is `%resource`, `%rootResource`,
    /// `%context` and the focus).
    pub fn evaluate<'a>(&self, resource: &'a Value) -> Result<Vec<Item<'a>>, FhirPathError> {
        self.evaluate_with(&EvalContext::new(resource))
    }

    /// Evaluates with an explicit context.
    pub fn evaluate_with<'a>(&self, ctx: &EvalContext<'a>) -> Result<Vec<Item<'a>>, FhirPathError> {
        if ctx.checks_order() {
            functions::check_ordered(&self.root)?;
        }
        let focus = ctx.focus();
        if ctx.is_strict() {
            let root = match focus {
                [Item::Node(n)] if !n.ty.name.is_empty() => Some(n.ty),
                _ => None,
            };
            eval::check::check(&self.root, root)?;
        }
        let env = eval::Env {
            ctx,
            this: focus,
            index: None,
            total: None,
        };
        eval::eval(&self.root, focus, &env)
    }
}

#[cfg(test)]
mod api_tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn expression_is_send_sync() {
        assert_send_sync::<Expression>();
    }
}
