//! Pratt parser for FHIRPath N1.
//!
//! Precedence (loosest first): `implies`; `or` `xor`; `and`; `in` `contains`;
//! `=` `~` `!=` `!~`; `<` `>` `<=` `>=`; `|`; `is` `as`; `+` `-` `&`;
//! `*` `/` `div` `mod`; unary `+` `-`; invocation `.` and indexer `[]`.

use crate::ast::{BinOp, Expr, Literal, Node, TypeOp, TypeSpec, UnOp};
use crate::datetime::Temporal;
use crate::error::{FhirPathError, Result};
use crate::lexer::{tokenize, Tok, Token};
use crate::quantity::{calendar_unit, Quantity};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Deepest syntax tree accepted; deeper expressions are rejected so that
/// evaluation cannot exhaust the stack.
pub const MAX_DEPTH: usize = 150;

pub fn parse(src: &str) -> Result<Expr> {
    let toks = tokenize(src)?;
    let mut p = Parser { src, toks, i: 0 };
    let e = p.expr(0, 0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        let pos = t.pos;
        return Err(p.err_at(pos, format!("unexpected {}", describe(&p.peek().tok))));
    }
    Ok(e)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("identifier '{s}'"),
        Tok::Quoted(s) => format!("identifier `{s}`"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Number(s) => format!("number {s}"),
        Tok::DateTime(s) => format!("literal @{s}"),
        Tok::Env(s) => format!("variable %{s}"),
        Tok::Dollar(s) => format!("${s}"),
        Tok::Sym(s) => format!("'{s}'"),
        Tok::Eof => "end of expression".to_string(),
    }
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    i: usize,
}

fn infix(t: &Tok) -> Option<(u8, BinOp)> {
    let op = match t {
        Tok::Sym(s) => match *s {
            "*" => (10, BinOp::Mul),
            "/" => (10, BinOp::Div),
            "+" => (9, BinOp::Add),
            "-" => (9, BinOp::Sub),
            "&" => (9, BinOp::Concat),
            "|" => (7, BinOp::Union),
            "<" => (6, BinOp::Lt),
            ">" => (6, BinOp::Gt),
            "<=" => (6, BinOp::Le),
            ">=" => (6, BinOp::Ge),
            "=" => (5, BinOp::Eq),
            "!=" => (5, BinOp::Ne),
            "~" => (5, BinOp::Equiv),
            "!~" => (5, BinOp::NotEquiv),
            _ => return None,
        },
        Tok::Ident(s) => match s.as_str() {
            "div" => (10, BinOp::IntDiv),
            "mod" => (10, BinOp::Mod),
            "in" => (4, BinOp::In),
            "contains" => (4, BinOp::Contains),
            "and" => (3, BinOp::And),
            "or" => (2, BinOp::Or),
            "xor" => (2, BinOp::Xor),
            "implies" => (1, BinOp::Implies),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

const TYPE_BP: u8 = 8;

fn depth_of(e: &Expr) -> usize {
    e.depth
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.i + k).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn err_at(&self, pos: usize, msg: impl Into<String>) -> FhirPathError {
        FhirPathError::syntax(self.src, pos, msg)
    }

    fn expect(&mut self, sym: &str) -> Result<()> {
        let t = self.peek().clone();
        if t.tok == Tok::Sym(sym_static(sym)) {
            self.bump();
            Ok(())
        } else {
            Err(self.err_at(
                t.pos,
                format!("expected '{sym}' but found {}", describe(&t.tok)),
            ))
        }
    }

    fn mk(&self, node: Node, pos: usize) -> Result<Expr> {
        let depth = 1 + match &node {
            Node::Member(Some(t), _) => depth_of(t),
            Node::Call { target, args, .. } => target
                .as_deref()
                .map_or(0, depth_of)
                .max(args.iter().map(depth_of).max().unwrap_or(0)),
            Node::Type {
                target: Some(t), ..
            } => depth_of(t),
            Node::Index(a, b) | Node::Binary(_, a, b) => depth_of(a).max(depth_of(b)),
            Node::Unary(_, a) => depth_of(a),
            _ => 0,
        };
        if depth > MAX_DEPTH {
            return Err(self.err_at(
                pos,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(Expr { node, pos, depth })
    }

    fn expr(&mut self, min_bp: u8, level: usize) -> Result<Expr> {
        if level > MAX_DEPTH {
            let pos = self.peek().pos;
            return Err(self.err_at(
                pos,
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        let mut lhs = self.prefix(level)?;
        loop {
            let t = self.peek().clone();
            if let Tok::Ident(w) = &t.tok {
                if w == "is" || w == "as" {
                    if TYPE_BP < min_bp {
                        break;
                    }
                    self.bump();
                    let spec = self.type_spec()?;
                    let op = if w == "is" { TypeOp::Is } else { TypeOp::As };
                    lhs = self.mk(
                        Node::Type {
                            target: Some(Box::new(lhs)),
                            op,
                            spec,
                            function: false,
                        },
                        t.pos,
                    )?;
                    continue;
                }
            }
            let Some((bp, op)) = infix(&t.tok) else {
                break;
            };
            if bp < min_bp {
                break;
            }
            self.bump();
            let rhs = self.expr(bp + 1, level + 1)?;
            lhs = self.mk(Node::Binary(op, Box::new(lhs), Box::new(rhs)), t.pos)?;
        }
        Ok(lhs)
    }

    fn type_spec(&mut self) -> Result<TypeSpec> {
        let first = self.name("a type name")?;
        if self.peek().tok == Tok::Sym(".") {
            if let Tok::Ident(_) | Tok::Quoted(_) = self.peek_at(1) {
                self.bump();
                let second = self.name("a type name")?;
                return Ok(TypeSpec {
                    namespace: Some(first),
                    name: second,
                });
            }
        }
        Ok(TypeSpec {
            namespace: None,
            name: first,
        })
    }

    fn name(&mut self, what: &str) -> Result<String> {
        let t = self.bump();
        match t.tok {
            Tok::Ident(s) | Tok::Quoted(s) => Ok(s),
            other => Err(self.err_at(
                t.pos,
                format!("expected {what} but found {}", describe(&other)),
            )),
        }
    }

    fn prefix(&mut self, level: usize) -> Result<Expr> {
        let t = self.peek().clone();
        if let Tok::Sym(s @ ("+" | "-")) = t.tok {
            self.bump();
            if level > MAX_DEPTH {
                return Err(self.err_at(t.pos, "expression nested too deeply"));
            }
            let operand = self.prefix(level + 1)?;
            let op = if s == "-" { UnOp::Minus } else { UnOp::Plus };
            return self.mk(Node::Unary(op, Box::new(operand)), t.pos);
        }
        let mut e = self.term(level)?;
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Sym(".") => {
                    self.bump();
                    let nt = self.bump();
                    let name = match nt.tok {
                        Tok::Ident(s) | Tok::Quoted(s) => s,
                        other => {
                            return Err(self.err_at(
                                nt.pos,
                                format!("expected a name after '.' but found {}", describe(&other)),
                            ))
                        }
                    };
                    if self.peek().tok == Tok::Sym("(") {
                        e = self.call(Some(e), name, nt.pos, level)?;
                    } else {
                        e = self.mk(Node::Member(Some(Box::new(e)), name), nt.pos)?;
                    }
                }
                Tok::Sym("[") => {
                    self.bump();
                    let idx = self.expr(0, level + 1)?;
                    self.expect("]")?;
                    e = self.mk(Node::Index(Box::new(e), Box::new(idx)), t.pos)?;
                }
                _ => return Ok(e),
            }
        }
    }

    fn call(
        &mut self,
        target: Option<Expr>,
        name: String,
        pos: usize,
        level: usize,
    ) -> Result<Expr> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::Sym(")") {
            loop {
                args.push(self.expr(0, level + 1)?);
                if self.peek().tok == Tok::Sym(",") {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.expect(")")?;
        let op = match name.as_str() {
            "is" => Some(TypeOp::Is),
            "as" => Some(TypeOp::As),
            "ofType" => Some(TypeOp::OfType),
            _ => None,
        };
        if let Some(op) = op {
            if args.len() != 1 {
                return Err(FhirPathError::semantic(
                    format!("{name}() takes exactly one type argument"),
                    Some(pos),
                ));
            }
            let spec = as_type_spec(&args[0]).ok_or_else(|| {
                FhirPathError::semantic(
                    format!("the argument of {name}() must be a type name"),
                    Some(args[0].pos),
                )
            })?;
            return self.mk(
                Node::Type {
                    target: target.map(Box::new),
                    op,
                    spec,
                    function: true,
                },
                pos,
            );
        }
        self.mk(
            Node::Call {
                target: target.map(Box::new),
                name,
                args,
            },
            pos,
        )
    }

    fn term(&mut self, level: usize) -> Result<Expr> {
        let t = self.bump();
        let pos = t.pos;
        match t.tok {
            Tok::Number(text) => {
                let lit = self.number(&text, pos)?;
                self.mk(Node::Literal(lit), pos)
            }
            Tok::Str(s) => self.mk(Node::Literal(Literal::String(s)), pos),
            Tok::DateTime(text) => {
                let lit = if let Some(time) = text.strip_prefix('T') {
                    Temporal::parse_time(time).map(Literal::Time)
                } else if text.contains('T') {
                    Temporal::parse_datetime(&text).map(Literal::DateTime)
                } else {
                    Temporal::parse_date(&text).map(Literal::Date)
                };
                match lit {
                    Some(l) => self.mk(Node::Literal(l), pos),
                    None => Err(self.err_at(pos, format!("invalid date/time literal @{text}"))),
                }
            }
            Tok::Env(name) => self.mk(Node::Env(name), pos),
            Tok::Dollar(name) => {
                let node = match name.as_str() {
                    "this" => Node::This,
                    "index" => Node::IndexVar,
                    _ => Node::Total,
                };
                self.mk(node, pos)
            }
            Tok::Sym("(") => {
                let e = self.expr(0, level + 1)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                self.mk(Node::Empty, pos)
            }
            Tok::Ident(name) => {
                if self.peek().tok == Tok::Sym("(") {
                    return self.call(None, name, pos, level);
                }
                match name.as_str() {
                    "true" => self.mk(Node::Literal(Literal::Boolean(true)), pos),
                    "false" => self.mk(Node::Literal(Literal::Boolean(false)), pos),
                    _ => self.mk(Node::Member(None, name), pos),
                }
            }
            Tok::Quoted(name) => self.mk(Node::Member(None, name), pos),
            other => Err(self.err_at(pos, format!("unexpected {}", describe(&other)))),
        }
    }

    fn number(&mut self, text: &str, pos: usize) -> Result<Literal> {
        // Quantity: a number followed by a unit string or a calendar keyword.
        let unit = match self.peek().tok.clone() {
            Tok::Str(u) => {
                self.bump();
                Some(u)
            }
            Tok::Ident(w) if calendar_unit(&w).is_some() => {
                self.bump();
                Some(w)
            }
            _ => None,
        };
        let value = Decimal::from_str(text)
            .map_err(|_| self.err_at(pos, format!("number {text} is out of range")))?;
        if let Some(unit) = unit {
            return Ok(Literal::Quantity(Quantity::new(value, unit)));
        }
        if text.contains('.') {
            Ok(Literal::Decimal(value))
        } else {
            text.parse::<i64>()
                .map(Literal::Integer)
                .map_err(|_| self.err_at(pos, format!("integer {text} is out of range")))
        }
    }
}

fn sym_static(s: &str) -> &'static str {
    match s {
        "(" => "(",
        ")" => ")",
        "[" => "[",
        "]" => "]",
        "}" => "}",
        _ => ",",
    }
}

fn as_type_spec(e: &Expr) -> Option<TypeSpec> {
    match &e.node {
        Node::Member(None, name) => Some(TypeSpec {
            namespace: None,
            name: name.clone(),
        }),
        Node::Member(Some(t), name) => match &t.node {
            Node::Member(None, ns) => Some(TypeSpec {
                namespace: Some(ns.clone()),
                name: name.clone(),
            }),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(e: &Expr) -> String {
        match &e.node {
            Node::Literal(Literal::Integer(i)) => i.to_string(),
            Node::Literal(l) => format!("{l:?}"),
            Node::Member(None, n) => n.clone(),
            Node::Member(Some(t), n) => format!("{}.{n}", shape(t)),
            Node::Call { target, name, args } => format!(
                "{}{name}({})",
                target
                    .as_ref()
                    .map(|t| format!("{}.", shape(t)))
                    .unwrap_or_default(),
                args.iter().map(shape).collect::<Vec<_>>().join(",")
            ),
            Node::Binary(op, a, b) => format!("({} {op:?} {})", shape(a), shape(b)),
            Node::Unary(op, a) => format!("{op:?}({})", shape(a)),
            Node::Type {
                target, op, spec, ..
            } => format!(
                "({} {op:?} {spec})",
                target.as_ref().map(|t| shape(t)).unwrap_or_default()
            ),
            other => format!("{other:?}"),
        }
    }

    fn p(s: &str) -> String {
        shape(&parse(s).unwrap())
    }

    #[test]
    fn precedence() {
        assert_eq!(p("1+2*3+4"), "((1 Add (2 Mul 3)) Add 4)");
        assert_eq!(p("1 > 2 is Boolean"), "(1 Gt (2 Is Boolean))");
        assert_eq!(p("1 | 1 is Integer"), "(1 Union (1 Is Integer))");
        assert_eq!(p("-1.convertsToInteger()"), "Minus(1.convertsToInteger())");
        assert_eq!(p("a and b or c implies d"), "(((a And b) Or c) Implies d)");
        assert_eq!(p("a = b and c in d"), "((a Eq b) And (c In d))");
        assert_eq!(p("x.is(FHIR.Patient)"), "(x Is FHIR.Patient)");
        assert_eq!(p("a - b - c"), "((a Sub b) Sub c)");
    }

    #[test]
    fn literals() {
        assert!(p("4 days").contains("days"));
        assert!(p("@2015-02-04T14:34:28.123+10:00").contains("DateTime"));
        assert!(p("@T14:34").contains("Time"));
        assert_eq!(p("`given`"), "given");
    }

    #[test]
    fn errors_have_positions() {
        match parse("2 + 2 /") {
            Err(FhirPathError::Syntax { position, .. }) => assert_eq!(position, 7),
            other => panic!("{other:?}"),
        }
        match parse("name.where(x = 1") {
            Err(FhirPathError::Syntax {
                position, column, ..
            }) => {
                assert_eq!((position, column), (16, 17))
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("2 + 2 /* open").is_err());
        assert!(parse("'abc").is_err());
        assert!(parse("a.").is_err());
        assert!(parse("@2019-1").is_err() || parse("@2019-1").is_ok());
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let deep = "(".repeat(5000) + "1" + &")".repeat(5000);
        assert!(parse(&deep).is_err());
        let chain = "a".to_string() + &".b".repeat(5000);
        assert!(parse(&chain).is_err());
        let sum = vec!["1"; 5000].join("+");
        assert!(parse(&sum).is_err());
        let neg = "-".repeat(5000) + "1";
        assert!(parse(&neg).is_err());
    }
}
