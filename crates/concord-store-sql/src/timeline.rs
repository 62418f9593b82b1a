//! The patient-timeline walk: `X?patient=P&_sort=-date&_count=N` reads the
//! patient's resources of type X newest first off the `patient_timeline`
//! table (rows derived by [`concord_store::IndexRows::timeline`]) and stops
//! after N matches, instead of computing and sorting the date of every one
//! of the patient's resources. Every other condition (and the `patient`
//! condition itself) is still probed per row, so the walk returns exactly
//! what the general query returns, in the same order with the same sort
//! values (page keys work across both).

use concord_store::search::{
    CmpOp, Column, Condition, IndexTable, RowTest, SearchPlan, SortBy, SqlValue,
};
use concord_store::{TIMELINE_DATE, TIMELINE_REFERENCE};

/// The patient id whose timeline answers `plan`, when it can: one type, one
/// descending sort key on the `date` parameter, and a condition that holds
/// only for resources whose `patient` reference targets that id.
pub(crate) fn walk_target(plan: &SearchPlan) -> Option<&str> {
    if plan.types.len() != 1 {
        return None;
    }
    let [sort] = plan.sort.as_slice() else {
        return None;
    };
    let SortBy::Index {
        table: IndexTable::Date,
        param,
        preferred: None,
        ..
    } = &sort.by
    else {
        return None;
    };
    if !sort.descending || param != TIMELINE_DATE {
        return None;
    }
    plan.conditions.iter().find_map(|c| match c {
        Condition::Row {
            table: IndexTable::Reference,
            param,
            test,
            negate: false,
        } if param == TIMELINE_REFERENCE => target_of(test),
        _ => None,
    })
}

/// The smallest `newest` a match can have, from the plan's conditions on
/// the `date` parameter (`date=ge2025-06-01`: the walk ends at the first
/// row older than that instead of reading the rest of the record). A
/// resource matches such a condition only through one of its `date` rows,
/// and `newest` is the largest `high` of them.
pub(crate) fn newest_at_least(plan: &SearchPlan) -> Option<i64> {
    plan.conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Row {
                table: IndexTable::Date,
                param,
                test,
                negate: false,
            } if param == TIMELINE_DATE => high_at_least(test),
            _ => None,
        })
        .max()
}

/// A lower bound on `high` of every date row passing `test` (a row's `low`
/// never exceeds its `high`).
fn high_at_least(test: &RowTest) -> Option<i64> {
    match test {
        RowTest::Cmp(Column::High | Column::Low, op, SqlValue::Int(v)) => match op {
            CmpOp::Ge | CmpOp::Eq => Some(*v),
            CmpOp::Gt => v.checked_add(1),
            _ => None,
        },
        RowTest::And(parts) => parts.iter().filter_map(high_at_least).max(),
        RowTest::Or(parts) => parts
            .iter()
            .map(high_at_least)
            .collect::<Option<Vec<i64>>>()?
            .into_iter()
            .min(),
        _ => None,
    }
}

/// The target id every row passing `test` has.
fn target_of(test: &RowTest) -> Option<&str> {
    match test {
        RowTest::Cmp(Column::TargetId, CmpOp::Eq, SqlValue::Text(id)) => Some(id),
        RowTest::And(parts) => parts.iter().find_map(target_of),
        RowTest::Or(parts) => match parts.as_slice() {
            [one] => target_of(one),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_store::search::SortSpec;

    fn plan(test: RowTest, descending: bool, param: &str) -> SearchPlan {
        let mut p = SearchPlan::new(vec!["Observation".into()], 10);
        p.conditions.push(Condition::Row {
            table: IndexTable::Reference,
            param: param.into(),
            test,
            negate: false,
        });
        p.sort.push(SortSpec {
            by: SortBy::Index {
                table: IndexTable::Date,
                param: "date".into(),
                column: Column::Low,
                column_desc: Column::High,
                preferred: None,
            },
            descending,
        });
        p
    }

    fn id_and_type(id: &str) -> RowTest {
        RowTest::Or(vec![RowTest::And(vec![
            RowTest::Cmp(Column::TargetId, CmpOp::Eq, SqlValue::Text(id.into())),
            RowTest::Cmp(
                Column::TargetType,
                CmpOp::Eq,
                SqlValue::Text("Patient".into()),
            ),
        ])])
    }

    #[test]
    fn newest_first_by_patient_walks_the_timeline() {
        assert_eq!(
            walk_target(&plan(id_and_type("p1"), true, "patient")),
            Some("p1")
        );
    }

    fn date_row(test: RowTest) -> Condition {
        Condition::Row {
            table: IndexTable::Date,
            param: "date".into(),
            test,
            negate: false,
        }
    }

    fn cmp(column: Column, op: CmpOp, v: i64) -> RowTest {
        RowTest::Cmp(column, op, SqlValue::Int(v))
    }

    #[test]
    fn date_conditions_bound_the_walk() {
        let mut p = plan(id_and_type("p1"), true, "patient");
        assert_eq!(newest_at_least(&p), None);
        // ge: above the value's end, or inside it from its start.
        let ge = RowTest::Or(vec![
            cmp(Column::High, CmpOp::Gt, 199),
            RowTest::And(vec![
                cmp(Column::Low, CmpOp::Ge, 100),
                cmp(Column::Low, CmpOp::Le, 199),
                cmp(Column::High, CmpOp::Le, 199),
            ]),
        ]);
        p.conditions.push(date_row(ge));
        assert_eq!(newest_at_least(&p), Some(100));
        // The stronger of two bounds holds.
        p.conditions
            .push(date_row(cmp(Column::High, CmpOp::Gt, 150)));
        assert_eq!(newest_at_least(&p), Some(151));
        // Upper bounds, negations and other parameters bound nothing.
        let mut q = plan(id_and_type("p1"), true, "patient");
        q.conditions
            .push(date_row(cmp(Column::Low, CmpOp::Lt, 100)));
        q.conditions.push(date_row(RowTest::Not(Box::new(cmp(
            Column::High,
            CmpOp::Ge,
            5,
        )))));
        q.conditions.push(Condition::Row {
            table: IndexTable::Date,
            param: "issued".into(),
            test: cmp(Column::High, CmpOp::Ge, 5),
            negate: false,
        });
        let either = RowTest::Or(vec![
            cmp(Column::High, CmpOp::Ge, 5),
            cmp(Column::Low, CmpOp::Lt, 1),
        ]);
        q.conditions.push(date_row(either));
        assert_eq!(newest_at_least(&q), None);
    }

    #[test]
    fn other_shapes_take_the_general_query() {
        // Oldest first, another reference parameter, several patients, a URL.
        assert_eq!(
            walk_target(&plan(id_and_type("p1"), false, "patient")),
            None
        );
        assert_eq!(walk_target(&plan(id_and_type("p1"), true, "subject")), None);
        let two = RowTest::Or(vec![id_and_type("p1"), id_and_type("p2")]);
        assert_eq!(walk_target(&plan(two, true, "patient")), None);
        let url = RowTest::Cmp(
            Column::Url,
            CmpOp::Eq,
            SqlValue::Text("http://x/Patient/1".into()),
        );
        assert_eq!(walk_target(&plan(url, true, "patient")), None);
        let mut two_types = plan(id_and_type("p1"), true, "patient");
        two_types.types.push("Condition".into());
        assert_eq!(walk_target(&two_types), None);
    }
}
