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
