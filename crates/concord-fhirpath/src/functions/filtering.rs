//! where, select, repeat, aggregate, sort: functions whose argument is
//! evaluated once per input item (`$this`, `$index`, `$total`).

use super::arg;
use crate::ast::{Expr, Node, UnOp};
use crate::error::{FhirPathError, Result};
use crate::eval::compare::{contains_item, order};
use crate::eval::{eval, to_bool, Env};
use crate::types::Item;
use std::cmp::Ordering;

/// Upper bound on the items `repeat()` may produce.
const REPEAT_LIMIT: usize = 10_000;

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    Some(match name {
        "where" => where_(&args[0], input, env),
        "select" => select(&args[0], input, env),
        "repeat" => repeat(&args[0], input, env),
        "aggregate" => aggregate(args, input, env),
        "sort" => sort(args, input, env),
        _ => return None,
    })
}

fn where_<'a>(crit: &Expr, input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let mut out = Vec::new();
    for (i, item) in input.iter().enumerate() {
        let one = std::slice::from_ref(item);
        let r = eval(crit, one, &env.lambda(one, i))?;
        if to_bool(&r, "where()")? == Some(true) {
            out.push(item.clone());
        }
    }
    Ok(out)
}

fn select<'a>(proj: &Expr, input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let mut out = Vec::new();
    for (i, item) in input.iter().enumerate() {
        let one = std::slice::from_ref(item);
        out.extend(eval(proj, one, &env.lambda(one, i))?);
    }
    Ok(out)
}

fn repeat<'a>(proj: &Expr, input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let mut out: Vec<Item<'a>> = Vec::new();
    let mut frontier = input.to_vec();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (i, item) in frontier.iter().enumerate() {
            let one = std::slice::from_ref(item);
            for x in eval(proj, one, &env.lambda(one, i))? {
                if !contains_item(&out, &x) {
                    out.push(x.clone());
                    next.push(x);
                }
            }
            if out.len() > REPEAT_LIMIT {
                return Err(FhirPathError::exec(format!(
                    "repeat() produced more than {REPEAT_LIMIT} items"
                )));
            }
        }
        frontier = next;
    }
    Ok(out)
}

fn aggregate<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    let mut total = arg(args, 1, env)?;
    for (i, item) in input.iter().enumerate() {
        let one = std::slice::from_ref(item);
        let step = Env {
            ctx: env.ctx,
            this: one,
            index: Some(i as i64),
            total: Some(&total),
        };
        let next = eval(&args[0], one, &step)?;
        total = next;
    }
    Ok(total)
}

fn sort<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    // Per item: the key values (one per argument), each with its direction.
    let mut keyed: Vec<(Vec<Option<Item<'a>>>, Item<'a>)> = Vec::with_capacity(input.len());
    let mut desc = Vec::new();
    for a in args {
        let (inner, d) = match &a.node {
            Node::Unary(UnOp::Minus, inner) => (inner.as_ref(), true),
            _ => (a, false),
        };
        desc.push((inner, d));
    }
    for (i, item) in input.iter().enumerate() {
        let one = std::slice::from_ref(item);
        let mut keys = Vec::new();
        if args.is_empty() {
            keys.push(item.to_system());
        }
        for (e, _) in &desc {
            let r = eval(e, one, &env.lambda(one, i))?;
            keys.push(match r.as_slice() {
                [] => None,
                [k] => k.to_system(),
                _ => return Err(FhirPathError::exec("sort() keys must be single values")),
            });
        }
        keyed.push((keys, item.clone()));
    }
    let mut err = None;
    keyed.sort_by(|(ka, _), (kb, _)| {
        for (k, (a, b)) in ka.iter().zip(kb).enumerate() {
            // Empty keys sort first in either direction.
            let o = match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => match order(x, y) {
                    Ok(o) => o.unwrap_or(Ordering::Equal),
                    Err(e) => {
                        err = Some(e);
                        Ordering::Equal
                    }
                },
            };
            let o = if desc.get(k).is_some_and(|(_, d)| *d) {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(keyed.into_iter().map(|(_, i)| i).collect())
}
