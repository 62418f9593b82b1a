//! single, first, last, tail, skip, take, intersect, exclude, union, combine.

use super::{arg, arg_int};
use crate::ast::Expr;
use crate::error::{FhirPathError, Result};
use crate::eval::compare::{contains_item, distinct};
use crate::eval::Env;
use crate::types::Item;

pub(super) fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &[Item<'a>],
    env: &Env<'a, '_>,
) -> Option<Result<Vec<Item<'a>>>> {
    let n = |env: &Env<'a, '_>| -> Result<usize> {
        Ok(arg_int(args, 0, env, name)?.map_or(0, |n| usize::try_from(n).unwrap_or(0)))
    };
    Some(match name {
        "single" => match input {
            [] | [_] => Ok(input.to_vec()),
            _ => Err(FhirPathError::exec(format!(
                "single() expects at most one item but got {}",
                input.len()
            ))),
        },
        "first" => Ok(input.first().cloned().into_iter().collect()),
        "last" => Ok(input.last().cloned().into_iter().collect()),
        "tail" => Ok(input.iter().skip(1).cloned().collect()),
        "skip" => n(env).map(|n| input.iter().skip(n).cloned().collect()),
        "take" => n(env).map(|n| input.iter().take(n).cloned().collect()),
        "intersect" => arg(args, 0, env).map(|other| {
            distinct(
                input
                    .iter()
                    .filter(|i| contains_item(&other, i))
                    .cloned()
                    .collect(),
            )
        }),
        "exclude" => arg(args, 0, env).map(|other| {
            input
                .iter()
                .filter(|i| !contains_item(&other, i))
                .cloned()
                .collect()
        }),
        "union" => arg(args, 0, env).map(|other| {
            let mut all = input.to_vec();
            all.extend(other);
            distinct(all)
        }),
        "combine" => arg(args, 0, env).map(|other| {
            let mut all = input.to_vec();
            all.extend(other);
            all
        }),
        _ => return None,
    })
}
