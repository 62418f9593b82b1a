//! iif, trace, now, today, timeOfDay, type, children, descendants.

use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::navigate::{children, descendants};
use crate::eval::{eval, to_bool, Env};
use crate::types::Item;

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    Some(match name {
        "iif" => iif(args, input, env),
        // Pure engine: tracing has no side effect; the input passes through.
        "trace" => Ok(input.to_vec()),
        "now" => Ok(vec![Item::Temporal(env.ctx.now())]),
        "today" => Ok(vec![Item::Temporal(env.ctx.now().date_part())]),
        "timeOfDay" => Ok(vec![Item::Temporal(env.ctx.now().time_part())]),
        "type" => Ok(input
            .iter()
            .map(|i| {
                let (namespace, name) = i.type_name();
                Item::TypeInfo { namespace, name }
            })
            .collect()),
        "children" => Ok(input
            .iter()
            .flat_map(|i| match i {
                Item::Node(n) => children(n),
                _ => Vec::new(),
            })
            .collect()),
        "descendants" => Ok(descendants(input)),
        _ => return None,
    })
}

fn iif<'a>(args: &[Expr], input: &[Item<'a>], env: &Env<'a, '_>) -> Result<Vec<Item<'a>>> {
    if input.len() > 1 {
        return Err(FhirPathError::exec(format!(
            "iif() expects at most one input item but got {}",
            input.len()
        )));
    }
    let scope = Env {
        ctx: env.ctx,
        this: input,
        index: env.index,
        total: env.total,
    };
    let focus = if input.is_empty() { env.this } else { input };
    let scope = if input.is_empty() {
        Env {
            ctx: env.ctx,
            this: env.this,
            index: env.index,
            total: env.total,
        }
    } else {
        scope
    };
    let c = eval(&args[0], focus, &scope)?;
    if env.ctx.is_strict() {
        if let [one] = c.as_slice() {
            if !matches!(one.to_system(), Some(Item::Boolean(_))) {
                return Err(FhirPathError::semantic(
                    "the criterion of iif() must be a Boolean",
                    None,
                ));
            }
        }
    }
    let cond = match c.as_slice() {
        [] => None,
        [_] => to_bool(&c, "iif()")?,
        _ => {
            return Err(FhirPathError::semantic(
                "the criterion of iif() must be a single Boolean",
                None,
            ))
        }
    };
    if cond == Some(true) {
        eval(&args[1], focus, &scope)
    } else {
        match args.get(2) {
            Some(e) => eval(e, focus, &scope),
            None => Ok(Vec::new()),
        }
    }
}
