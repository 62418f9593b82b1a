//! Which DiagnosticReport an ORU^R01's order lands on: the report already
//! stored for the order, else a new time-ordered id
//! (`concord_hl7v2::fhir::report_orders` lists the orders).
//!
//! A report is found by the order's key (its filler number, else its placer
//! number). A message with a filler number whose report is not found by it
//! also looks for a report stored under its placer number alone — an earlier
//! message of the order (often the preliminary result) that had no filler
//! number yet — so the final result updates that report and its
//! Observations instead of making a second set. A report that has a filler
//! number of its own is not taken: it belongs to another filler order
//! placed under the same placer order (a lab may split one order in
//! several). Several candidates: none is taken (a new report, as before).

use std::collections::HashMap;

use concord_core::{CoreError, Engine};
use concord_hl7v2::fhir::{PlacerNumber, ReportOrder, FILLER_TYPE};
use concord_store::TenantContext;
use serde_json::Value;

use crate::message_store::read_json;

/// Candidates read when looking a report up by its placer number.
const PLACER_CANDIDATES: usize = 10;

/// The DiagnosticReport id of each order, by order key.
pub(crate) async fn report_ids(
    engine: &Engine,
    ctx: &TenantContext,
    orders: &[ReportOrder],
) -> Result<HashMap<String, String>, CoreError> {
    let mut ids = HashMap::new();
    for order in orders {
        let id = stored_report(engine, ctx, order)
            .await?
            .unwrap_or_else(concord_core::new_id);
        ids.insert(order.key.clone(), id);
    }
    Ok(ids)
}

/// The id of the report stored for `order`: found by its key (the hashed id
/// of a report stored before chosen ids existed first), else by its placer
/// number alone.
async fn stored_report(
    engine: &Engine,
    ctx: &TenantContext,
    order: &ReportOrder,
) -> Result<Option<String>, CoreError> {
    let found = engine
        .find_ids(ctx, "DiagnosticReport", &order.query, 10)
        .await?;
    if found.contains(&order.hashed_id) {
        return Ok(Some(order.hashed_id.clone()));
    }
    if let Some(first) = found.into_iter().next() {
        return Ok(Some(first));
    }
    match &order.placer {
        Some(placer) => placer_only_report(engine, ctx, placer).await,
        None => Ok(None),
    }
}

/// The one report stored under `placer` that has no filler number.
async fn placer_only_report(
    engine: &Engine,
    ctx: &TenantContext,
    placer: &PlacerNumber,
) -> Result<Option<String>, CoreError> {
    let found = engine
        .find_ids(ctx, "DiagnosticReport", &placer.query, PLACER_CANDIDATES)
        .await?;
    let mut without_filler = Vec::new();
    for id in found {
        if let Some(report) = read_json(engine, ctx, "DiagnosticReport", &id).await? {
            if !has_filler_number(&report) {
                without_filler.push(id);
            }
        }
    }
    Ok(match without_filler.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    })
}

/// Whether the report carries a filler order number (`Identifier.type`
/// `FILL`, v2 table 0203).
fn has_filler_number(report: &Value) -> bool {
    report
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.pointer("/type/coding").and_then(Value::as_array))
        .flatten()
        .any(|c| c.get("code").and_then(Value::as_str) == Some(FILLER_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_filler_number_is_told_by_its_identifier_type() {
        let typed = |code: &str| json!({"identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": code}]}, "value": "1"}]});
        assert!(has_filler_number(&typed("FILL")));
        assert!(!has_filler_number(&typed("PLAC")));
        assert!(!has_filler_number(&json!({"identifier": [{"value": "1"}]})));
        assert!(!has_filler_number(&json!({})));
    }
}
