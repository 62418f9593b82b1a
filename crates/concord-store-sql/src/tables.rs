//! Table and column names shared by both backends' schemas.

use concord_store::search::{Column, IndexTable};

pub(crate) fn table(t: IndexTable) -> &'static str {
    match t {
        IndexTable::Token => "idx_token",
        IndexTable::String => "idx_string",
        IndexTable::Date => "idx_date",
        IndexTable::Reference => "idx_reference",
        IndexTable::Quantity => "idx_quantity",
        IndexTable::Number => "idx_number",
        IndexTable::Uri => "idx_uri",
        IndexTable::Composite => "idx_composite",
    }
}

pub(crate) fn column(c: Column) -> &'static str {
    match c {
        Column::System => "system",
        Column::Code => "code",
        Column::ValueNorm => "value_norm",
        Column::ValueExact => "value_exact",
        Column::Low => "low",
        Column::High => "high",
        Column::TargetType => "target_type",
        Column::TargetId => "target_id",
        Column::Url => "url",
        Column::Value => "value",
        Column::Number => "number",
    }
}

/// Whether the column holds a number the dialect may need to cast to.
pub(crate) fn is_numeric(t: IndexTable, c: Column) -> bool {
    matches!(
        (t, c),
        (IndexTable::Quantity | IndexTable::Number, Column::Value)
            | (IndexTable::Composite, Column::Number)
    )
}
