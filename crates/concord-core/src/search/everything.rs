//! `Patient/[id]/$everything`: the patient, everything in their compartment
//! (`_type`, `_since` narrow it), and the resources those reference
//! (practitioners, organizations, medications, …), paged by `_count`.

use concord_fhir::Issue;
use concord_search::query::{parse_pairs, Handling, Include};
use concord_store::search::{CmpOp, Column, Condition, RowTest, SearchPlan, SqlValue};
use concord_store::TenantContext;

use super::{page_size, take_cursor, SearchOutcome};
use crate::access::confine_plan;
use crate::{CoreError, CoreResult, Engine};

/// `$everything` page size when `_count` is not given.
pub const EVERYTHING_COUNT: usize = 50;

impl Engine {
    pub async fn patient_everything(
        &self,
        ctx: &TenantContext,
        patient_id: &str,
        params: &[(String, String)],
    ) -> CoreResult<SearchOutcome> {
        self.read(ctx, "Patient", patient_id).await?;
        let (params, start) = take_cursor(params)?;
        let mut since = None;
        let mut types = Vec::new();
        let mut rest = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "_since" => {
                    let range = concord_search::datetime::parse_range(&v).ok_or_else(|| {
                        CoreError::bad_request(format!("_since must be an instant, not '{v}'"))
                    })?;
                    since = Some(range.low);
                }
                "_type" => {
                    for t in v.split(',') {
                        Engine::check_type(t)?;
                        types.push(t.to_string());
                    }
                }
                "_count" | "_format" | "_pretty" => rest.push((k, v)),
                other => {
                    return Err(CoreError::BadRequest(vec![Issue::error(
                        concord_fhir::IssueType::NotSupported,
                        format!("$everything does not take '{other}'"),
                    )]))
                }
            }
        }
        if types.is_empty() {
            // Every type of the Patient compartment but the audit trail
            // (read through `$access-log` or `GET /AuditEvent?patient=`).
            types = concord_fhir::RESOURCE_TYPES
                .iter()
                .filter(|t| {
                    **t == "Patient"
                        || (**t != "AuditEvent"
                            && !concord_fhir::compartments::compartment_params("Patient", t)
                                .is_empty())
                })
                .map(|t| t.to_string())
                .collect();
        }
        types.retain(|t| t != "AuditEvent");
        let mut query =
            parse_pairs(None, &rest, Handling::Strict).map_err(CoreError::BadRequest)?;
        let mut plan = SearchPlan::new(types, page_size(&query, EVERYTHING_COUNT));
        plan.conditions.push(Condition::Compartment {
            compartment_type: "Patient".into(),
            compartment_id: patient_id.to_string(),
        });
        if let Some(since) = since {
            plan.conditions.push(Condition::LastUpdated(RowTest::Cmp(
                Column::Low,
                CmpOp::Ge,
                SqlValue::Int(since),
            )));
        }
        plan.start = start;
        confine_plan(ctx, &mut plan)?;
        // What the compartment's resources reference comes along.
        query.includes.push(Include {
            source_type: None,
            param: None,
            target_type: None,
            iterate: false,
        });
        self.run(ctx, query, plan).await
    }
}
