//! The matched-value walk: a search ordered by [`SortBy::Matched`] whose
//! driving condition is that same string condition (`Patient?name=smi`)
//! reads the string index in `(value_norm, id)` order — the order the
//! lookup index already has — and stops after a page, instead of listing
//! every match and sorting it. Each resource comes once, at its smallest
//! matched value (the key the general query computes for it), and every
//! other condition is probed per row, so the walk returns exactly what the
//! general query returns, in the same order with the same sort values
//! (page keys work across both).

use concord_store::search::{Condition, IndexTable, RowTest, SearchPlan, SortBy};

/// The position of the condition the walk reads, when it can: one type,
/// the plan ordered by the matched value of a string condition alone, and
/// that condition is the one that drives.
pub(crate) fn walk_at(plan: &SearchPlan) -> Option<(usize, &str, &RowTest)> {
    if plan.types.len() != 1 {
        return None;
    }
    let [sort] = plan.sort.as_slice() else {
        return None;
    };
    let SortBy::Matched { param, test } = &sort.by else {
        return None;
    };
    if sort.descending {
        return None;
    }
    let at = crate::conditions::driver(&plan.conditions)?;
    match &plan.conditions[at] {
        Condition::Row {
            table: IndexTable::String,
            param: p,
            test: t,
            negate: false,
        } if p == param && t == test => Some((at, param, test)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_store::search::{Column, SortSpec};

    fn prefix(s: &str) -> RowTest {
        RowTest::Or(vec![RowTest::StartsWith(Column::ValueNorm, s.into())])
    }

    fn name(test: RowTest) -> Condition {
        Condition::Row {
            table: IndexTable::String,
            param: "name".into(),
            test,
            negate: false,
        }
    }

    fn plan(conditions: Vec<Condition>, sorted_by: RowTest) -> SearchPlan {
        let mut p = SearchPlan::new(vec!["Patient".into()], 20);
        p.conditions = conditions;
        p.sort.push(SortSpec {
            by: SortBy::Matched {
                param: "name".into(),
                test: sorted_by,
            },
            descending: false,
        });
        p
    }

    #[test]
    fn a_driving_name_condition_is_walked() {
        let p = plan(
            vec![
                Condition::Row {
                    table: IndexTable::Token,
                    param: "gender".into(),
                    test: RowTest::Cmp(
                        Column::Code,
                        concord_store::search::CmpOp::Eq,
                        concord_store::search::SqlValue::Text("female".into()),
                    ),
                    negate: false,
                },
                name(prefix("smi")),
            ],
            prefix("smi"),
        );
        assert_eq!(
            walk_at(&p).map(|(at, param, _)| (at, param)),
            Some((1, "name"))
        );
    }

    #[test]
    fn other_drivers_and_shapes_take_the_general_query() {
        // An id drives instead.
        let p = plan(
            vec![Condition::Id(vec!["1".into()]), name(prefix("smi"))],
            prefix("smi"),
        );
        assert!(walk_at(&p).is_none());
        // The sort names another value than the condition.
        assert!(walk_at(&plan(vec![name(prefix("smi"))], prefix("jo"))).is_none());
        // Two types.
        let mut two = plan(vec![name(prefix("smi"))], prefix("smi"));
        two.types.push("Practitioner".into());
        assert!(walk_at(&two).is_none());
        // Descending.
        let mut down = plan(vec![name(prefix("smi"))], prefix("smi"));
        down.sort[0].descending = true;
        assert!(walk_at(&down).is_none());
    }
}
