//! The syntax tree of a compiled expression.

use crate::datetime::Temporal;
use crate::quantity::Quantity;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Boolean(bool),
    String(String),
    Integer(i64),
    Decimal(Decimal),
    Date(Temporal),
    DateTime(Temporal),
    Time(Temporal),
    Quantity(Quantity),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    Equiv,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Plus,
    Minus,
}

/// A type name such as `Quantity`, `System.String`, `FHIR.Patient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSpec {
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for TypeSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeOp {
    Is,
    As,
    OfType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Literal(Literal),
    /// `{}`
    Empty,
    /// Member access on `target`, or on the focus when `target` is `None`.
    Member(Option<Box<Expr>>, String),
    /// Function invocation on `target` (or the focus).
    Call {
        target: Option<Box<Expr>>,
        name: String,
        args: Vec<Expr>,
    },
    /// `is`/`as` operators and the `is()`/`as()`/`ofType()` functions.
    Type {
        target: Option<Box<Expr>>,
        op: TypeOp,
        spec: TypeSpec,
        /// Written as a function call (`as()` on many items is an error).
        function: bool,
    },
    Index(Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    This,
    IndexVar,
    Total,
    Env(String),
}

/// A node with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub node: Node,
    pub pos: usize,
    /// Height of this subtree (bounded by the parser).
    pub depth: usize,
}
