//! empty, exists, all, allTrue/anyTrue/allFalse/anyFalse, subsetOf,
//! supersetOf, count, distinct, isDistinct, not.

use super::{arg, boolean};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::compare::{contains_item, distinct};
use crate::eval::{eval, to_bool, Env};
use crate::types::Item;

fn bools(input: &[Item], f: &str) -> Result<Vec<bool>> {
    input
        .iter()
        .map(|i| match i.to_system() {
            Some(Item::Boolean(b)) => Ok(b),
            _ => Err(FhirPathError::exec(format!(
                "{f}() expects Booleans, not {}",
                i.type_name().1
            ))),
        })
        .collect()
}

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    Some(match name {
        "empty" => boolean(input.is_empty()),
        "exists" => match args.first() {
            None => boolean(!input.is_empty()),
            Some(crit) => (|| {
                for (i, item) in input.iter().enumerate() {
                    let one = std::slice::from_ref(item);
                    let r = eval(crit, one, &env.lambda(one, i))?;
                    if to_bool(&r, "exists()")? == Some(true) {
                        return boolean(true);
                    }
                }
                boolean(false)
            })(),
        },
        "all" => (|| {
            for (i, item) in input.iter().enumerate() {
                let one = std::slice::from_ref(item);
                let r = eval(&args[0], one, &env.lambda(one, i))?;
                if to_bool(&r, "all()")? != Some(true) {
                    return boolean(false);
                }
            }
            boolean(true)
        })(),
        "allTrue" => bools(input, name).and_then(|b| boolean(b.iter().all(|x| *x))),
        "anyTrue" => bools(input, name).and_then(|b| boolean(b.iter().any(|x| *x))),
        "allFalse" => bools(input, name).and_then(|b| boolean(b.iter().all(|x| !*x))),
        "anyFalse" => bools(input, name).and_then(|b| boolean(b.iter().any(|x| !*x))),
        "subsetOf" => arg(args, 0, env)
            .and_then(|other| boolean(input.iter().all(|i| contains_item(&other, i)))),
        "supersetOf" => arg(args, 0, env)
            .and_then(|other| boolean(other.iter().all(|i| contains_item(input, i)))),
        "count" => Ok(vec![Item::Integer(input.len() as i64)]),
        "distinct" => Ok(distinct(input.to_vec())),
        "isDistinct" => boolean(distinct(input.to_vec()).len() == input.len()),
        "not" => {
            to_bool(input, "not()").map(|b| b.map(|b| vec![Item::Boolean(!b)]).unwrap_or_default())
        }
        _ => return None,
    })
}
