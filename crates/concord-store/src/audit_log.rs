//! The compact audit log: AuditEvents are not stored as ordinary resource
//! versions (history, resources, ~12 index rows each, one ledger leaf each)
//! but as one append-only row each. An event of Concord's own trail is
//! stored as its compact record ([`AuditRecord::encode`], a short JSON
//! array, ~250 bytes) with an id derived from its sequence number; the
//! FHIR AuditEvent JSON and its search-index rows are made from the record
//! when read or searched ([`stored_version`], [`candidate`]). An AuditEvent
//! POSTed by another audit source is kept whole (the JSON object, its index
//! rows packed in the `idx` column). The patients each event names go to a
//! small link table, and each batch the audit writer commits is one ledger
//! leaf whose content hash covers every row of the batch in order
//! ([`BatchHasher`] over the stored text, record or JSON). Both backends
//! serve `read`, `vread`, `search` and `count` of type `AuditEvent` from it
//! through the functions here, which evaluate a [`SearchPlan`] over the
//! index rows in memory (narrowed to one patient's events when the plan
//! names a patient). What the plan language has beyond that — chains,
//! `_has`, `_include` from AuditEvent, full text — finds no AuditEvent.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::audit_record::AuditRecord;
use crate::meta::stamp_meta;
use crate::search::{
    Column, Condition, IndexTable, LikePart, PageStart, RowTest, SearchHit, SearchPage, SearchPlan,
    SortBy, SortSpec, SqlValue,
};
use crate::{
    CompartmentIndex, DateIndex, IndexRows, ReferenceIndex, StoreError, StoreResult, StoredVersion,
    TokenIndex, WriteKind,
};

/// The resource type kept in the audit log.
pub const AUDIT_TYPE: &str = "AuditEvent";
/// The `type` of a ledger row that stands for one batch of audit events
/// (its `id` is the batch's first audit sequence number, its `version`
/// the number of events).
pub const BATCH_TYPE: &str = "$audit-batch";

/// One event of the trail to append: its compact record. The store gives
/// it the id [`trail_id`] of its sequence number.
#[derive(Debug, Clone)]
pub struct AuditAppend {
    /// [`AuditRecord::encode`]: the row's content, as hashed by the ledger.
    pub record: String,
    /// The patients it names (for the patient link table).
    pub patients: Vec<String>,
}

impl AuditAppend {
    pub fn of(record: &AuditRecord) -> AuditAppend {
        AuditAppend {
            record: record.encode(),
            patients: record.patients.clone(),
        }
    }
}

/// An AuditEvent from another audit source (`POST`/`PUT` over the API):
/// kept whole, with its index rows.
#[derive(Debug, Clone)]
pub struct ForeignAudit {
    pub id: String,
    /// The AuditEvent resource (its `meta` is stamped when stored).
    pub resource: Value,
    /// Its search-index rows (tokens, dates, references, compartments).
    pub index: IndexRows,
}

/// The id of the trail's event stored at sequence number `seq`.
pub fn trail_id(seq: i64) -> String {
    seq.to_string()
}

/// Whether `id` is in the trail's id space (digits only): another audit
/// source may not take it, or a later event of the trail could not be
/// stored.
pub fn is_trail_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// The error for an AuditEvent from another source whose id is taken: by
/// an event already in the log, or by the trail's id space ([`is_trail_id`]).
pub fn foreign_id_taken(id: &str) -> StoreError {
    StoreError::AlreadyExists {
        resource_type: AUDIT_TYPE.to_string(),
        id: id.to_string(),
    }
}

/// Whether a row's stored text is a compact record (a JSON array) rather
/// than a whole AuditEvent (a JSON object).
pub fn is_record(content: &str) -> bool {
    content.starts_with('[')
}

/// The AuditEvent of a stored row: rendered from a compact record, or the
/// stored JSON as it is.
pub fn stored_version(
    tenant: &str,
    id: &str,
    stored_at: i64,
    content: String,
) -> StoreResult<StoredVersion> {
    let content = if is_record(&content) {
        let record = AuditRecord::decode(tenant, &content)
            .ok_or_else(|| StoreError::Backend(format!("audit row {id} is not a record")))?;
        let mut resource = record.to_resource(id);
        stamp_meta(&mut resource, 1, stored_at);
        resource.to_string()
    } else {
        content
    };
    Ok(StoredVersion {
        resource_type: AUDIT_TYPE.to_string(),
        id: id.to_string(),
        version: 1,
        last_updated: stored_at,
        kind: WriteKind::Create,
        content: Some(content),
    })
}

/// A stored row as search sees it: `idx` is the packed index of a whole
/// AuditEvent (empty for a compact record), `content` the row's text when
/// `idx` is empty. A damaged record has no index rows (matches nothing).
pub fn candidate(
    tenant: &str,
    id: String,
    stored_at: i64,
    idx: &str,
    content: Option<&str>,
) -> AuditCandidate {
    let index = match content {
        Some(text) if idx.is_empty() => AuditRecord::decode(tenant, text)
            .map(|r| r.index_rows())
            .unwrap_or_default(),
        _ => decode_index(idx),
    };
    AuditCandidate {
        id,
        stored_at,
        index,
    }
}

/// A stored audit row as `concord verify` re-hashes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLogRow {
    pub seq: i64,
    pub tenant: String,
    pub id: String,
    /// The leaf of the batch this row was committed in.
    pub leaf_index: i64,
    pub content: String,
}

/// A stored audit row as search sees it.
#[derive(Debug, Clone)]
pub struct AuditCandidate {
    pub id: String,
    /// When it was stored (its `meta.lastUpdated`), ms.
    pub stored_at: i64,
    pub index: IndexRows,
}

/// Whether a plan searches the audit log (type `AuditEvent` only).
pub fn is_audit_plan(plan: &SearchPlan) -> bool {
    plan.types.len() == 1 && plan.types[0] == AUDIT_TYPE
}

/// The hash a batch's ledger leaf records: SHA-256 over each event's id
/// and content hash, in sequence order.
#[derive(Default)]
pub struct BatchHasher {
    bytes: Vec<u8>,
    count: i64,
}

impl BatchHasher {
    pub fn add(&mut self, id: &str, content: &str) {
        self.bytes.extend_from_slice(id.as_bytes());
        self.bytes.push(0);
        self.bytes
            .extend_from_slice(&crate::ledger::content_hash(Some(content)));
        self.count += 1;
    }

    pub fn count(&self) -> i64 {
        self.count
    }

    pub fn finish(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.bytes).into()
    }
}

/// The index rows packed for the `idx` column.
pub fn encode_index(rows: &IndexRows) -> String {
    json!({
        "t": rows.tokens.iter().map(|t| json!([t.param, t.system, t.code])).collect::<Vec<_>>(),
        "d": rows.dates.iter().map(|d| json!([d.param, d.low, d.high])).collect::<Vec<_>>(),
        "r": rows.references.iter()
            .map(|r| json!([r.param, r.target_type, r.target_id, r.url]))
            .collect::<Vec<_>>(),
        "c": rows.compartments.iter()
            .map(|c| json!([c.compartment_type, c.compartment_id]))
            .collect::<Vec<_>>(),
    })
    .to_string()
}

/// The index rows of an `idx` column (malformed parts are skipped).
pub fn decode_index(text: &str) -> IndexRows {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let s = |a: &Value, i: usize| a[i].as_str().map(str::to_string);
    let mut rows = IndexRows::default();
    for a in list("t") {
        rows.tokens.push(TokenIndex {
            param: s(&a, 0).unwrap_or_default(),
            system: s(&a, 1),
            code: s(&a, 2).unwrap_or_default(),
        });
    }
    for a in list("d") {
        rows.dates.push(DateIndex {
            param: s(&a, 0).unwrap_or_default(),
            low: a[1].as_i64().unwrap_or(0),
            high: a[2].as_i64().unwrap_or(0),
        });
    }
    for a in list("r") {
        rows.references.push(ReferenceIndex {
            param: s(&a, 0).unwrap_or_default(),
            target_type: s(&a, 1),
            target_id: s(&a, 2),
            url: s(&a, 3),
        });
    }
    for a in list("c") {
        rows.compartments.push(CompartmentIndex {
            compartment_type: s(&a, 0).unwrap_or_default(),
            compartment_id: s(&a, 1).unwrap_or_default(),
        });
    }
    rows
}

/// The patients an event's rows name (for the patient link table).
pub fn patients(rows: &IndexRows) -> Vec<String> {
    let mut out: Vec<String> = rows
        .compartments
        .iter()
        .filter(|c| c.compartment_type == "Patient")
        .map(|c| c.compartment_id.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A patient every match must name, when a top-level condition says so
/// (the patient compartment, or `patient=`): the candidates are then that
/// patient's events only.
pub fn patient_hint(plan: &SearchPlan) -> Option<String> {
    plan.conditions.iter().find_map(|c| match c {
        Condition::Compartment {
            compartment_type,
            compartment_id,
        } if compartment_type == "Patient" => Some(compartment_id.clone()),
        Condition::Row {
            table: IndexTable::Reference,
            param,
            test,
            negate: false,
        } if param == "patient" => target_id_eq(test),
        _ => None,
    })
}

fn target_id_eq(test: &RowTest) -> Option<String> {
    match test {
        RowTest::Cmp(Column::TargetId, crate::search::CmpOp::Eq, SqlValue::Text(id)) => {
            Some(id.clone())
        }
        RowTest::And(parts) => parts.iter().find_map(target_id_eq),
        _ => None,
    }
}

/// A column's value on one index row.
enum Val<'a> {
    Int(i64),
    Text(&'a str),
}

trait RowView {
    fn param(&self) -> &str;
    fn col(&self, c: Column) -> Option<Val<'_>>;
}

impl RowView for TokenIndex {
    fn param(&self) -> &str {
        &self.param
    }
    fn col(&self, c: Column) -> Option<Val<'_>> {
        match c {
            Column::System => self.system.as_deref().map(Val::Text),
            Column::Code => Some(Val::Text(&self.code)),
            _ => None,
        }
    }
}

impl RowView for DateIndex {
    fn param(&self) -> &str {
        &self.param
    }
    fn col(&self, c: Column) -> Option<Val<'_>> {
        match c {
            Column::Low => Some(Val::Int(self.low)),
            Column::High => Some(Val::Int(self.high)),
            _ => None,
        }
    }
}

impl RowView for ReferenceIndex {
    fn param(&self) -> &str {
        &self.param
    }
    fn col(&self, c: Column) -> Option<Val<'_>> {
        match c {
            Column::TargetType => self.target_type.as_deref().map(Val::Text),
            Column::TargetId => self.target_id.as_deref().map(Val::Text),
            Column::Url => self.url.as_deref().map(Val::Text),
            _ => None,
        }
    }
}

/// A single-value view (the last-updated instant in `_lastUpdated` tests).
struct Instant(i64);

impl RowView for Instant {
    fn param(&self) -> &str {
        ""
    }
    fn col(&self, _: Column) -> Option<Val<'_>> {
        Some(Val::Int(self.0))
    }
}

fn cmp_val(a: &Val<'_>, b: &SqlValue) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), SqlValue::Int(y)) => Some(x.cmp(y)),
        (Val::Int(x), SqlValue::Real(y)) => (*x as f64).partial_cmp(y),
        (Val::Text(x), SqlValue::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

fn like(text: &str, parts: &[LikePart]) -> bool {
    // Greedy wildcard match: each literal in order, anchored at the ends
    // unless a run stands there.
    let mut rest = text;
    let mut anchored = true;
    for (i, p) in parts.iter().enumerate() {
        match p {
            LikePart::AnyRun => anchored = false,
            LikePart::Literal(l) => {
                let last = i + 1 == parts.len();
                if anchored {
                    match rest.strip_prefix(l.as_str()) {
                        Some(r) => rest = r,
                        None => return false,
                    }
                } else if last {
                    return rest.ends_with(l.as_str());
                } else {
                    match rest.find(l.as_str()) {
                        Some(at) => rest = &rest[at + l.len()..],
                        None => return false,
                    }
                }
                anchored = true;
            }
        }
    }
    !anchored || rest.is_empty() || parts.is_empty()
}

fn passes(row: &dyn RowView, test: &RowTest) -> bool {
    match test {
        RowTest::Cmp(c, op, v) => {
            let Some(ord) = row.col(*c).and_then(|x| cmp_val(&x, v)) else {
                return false;
            };
            use crate::search::CmpOp::*;
            match op {
                Eq => ord == Ordering::Equal,
                Ne => ord != Ordering::Equal,
                Lt => ord == Ordering::Less,
                Le => ord != Ordering::Greater,
                Gt => ord == Ordering::Greater,
                Ge => ord != Ordering::Less,
            }
        }
        RowTest::IsNull(c) => row.col(*c).is_none(),
        RowTest::StartsWith(c, p) => {
            matches!(row.col(*c), Some(Val::Text(t)) if t.starts_with(p.as_str()))
        }
        RowTest::Contains(c, p) => {
            matches!(row.col(*c), Some(Val::Text(t)) if t.contains(p.as_str()))
        }
        RowTest::Like(c, parts) => matches!(row.col(*c), Some(Val::Text(t)) if like(t, parts)),
        RowTest::In(c, vs) => row
            .col(*c)
            .is_some_and(|x| vs.iter().any(|v| cmp_val(&x, v) == Some(Ordering::Equal))),
        RowTest::And(ts) => ts.iter().all(|t| passes(row, t)),
        RowTest::Or(ts) => ts.iter().any(|t| passes(row, t)),
        RowTest::Not(t) => !passes(row, t),
    }
}

fn rows_of(r: &IndexRows, table: IndexTable) -> Vec<&dyn RowView> {
    match table {
        IndexTable::Token => r.tokens.iter().map(|x| x as &dyn RowView).collect(),
        IndexTable::Date => r.dates.iter().map(|x| x as &dyn RowView).collect(),
        IndexTable::Reference => r.references.iter().map(|x| x as &dyn RowView).collect(),
        _ => Vec::new(),
    }
}

fn holds(c: &Condition, e: &AuditCandidate) -> bool {
    match c {
        Condition::Id(ids) => ids.contains(&e.id),
        Condition::LastUpdated(test) => passes(&Instant(e.stored_at), test),
        Condition::Row {
            table,
            param,
            test,
            negate,
        } => {
            let any = rows_of(&e.index, *table)
                .into_iter()
                .any(|r| r.param() == param && passes(r, test));
            any != *negate
        }
        Condition::Present {
            table,
            param,
            present,
        } => {
            rows_of(&e.index, *table)
                .into_iter()
                .any(|r| r.param() == param)
                == *present
        }
        Condition::Compartment {
            compartment_type,
            compartment_id,
        } => e.index.compartments.iter().any(|c| {
            c.compartment_type == *compartment_type && c.compartment_id == *compartment_id
        }),
        Condition::InCompartmentOfType { compartment_type } => e
            .index
            .compartments
            .iter()
            .any(|c| c.compartment_type == *compartment_type),
        Condition::Types(types) => types.iter().any(|t| t == AUDIT_TYPE),
        Condition::References { param, targets } => e.index.references.iter().any(|r| {
            param.as_ref().is_none_or(|p| *p == r.param)
                && targets.iter().any(|(t, i)| {
                    r.target_type.as_deref() == Some(t.as_str())
                        && r.target_id.as_deref() == Some(i.as_str())
                })
        }),
        Condition::Any(cs) => cs.iter().any(|c| holds(c, e)),
        Condition::All(cs) => cs.iter().all(|c| holds(c, e)),
        Condition::Not(c) => !holds(c, e),
        Condition::Never => false,
        Condition::Always => true,
        // Chains, `_has`, `_include` sources and full text reach into the
        // resource tables, where no AuditEvent is.
        Condition::Chain { .. }
        | Condition::Has { .. }
        | Condition::ReferencedBy { .. }
        | Condition::FullText { .. } => false,
    }
}

fn sort_value(s: &SortSpec, e: &AuditCandidate) -> SqlValue {
    let value = match &s.by {
        SortBy::Id => Some(SqlValue::Text(e.id.clone())),
        SortBy::LastUpdated => Some(SqlValue::Int(e.stored_at)),
        SortBy::Index {
            table,
            param,
            column,
            column_desc,
            preferred,
        } => {
            let one = |p: &str| {
                let c = if s.descending { *column_desc } else { *column };
                let vals = rows_of(&e.index, *table)
                    .into_iter()
                    .filter(|r| r.param() == p)
                    .filter_map(|r| match r.col(c) {
                        Some(Val::Int(i)) => Some(SqlValue::Int(i)),
                        Some(Val::Text(t)) => Some(SqlValue::Text(t.to_string())),
                        None => None,
                    });
                if s.descending {
                    vals.max_by(cmp_sql)
                } else {
                    vals.min_by(cmp_sql)
                }
            };
            preferred.as_deref().and_then(one).or_else(|| one(param))
        }
        SortBy::Matched { param, test } => rows_of(&e.index, IndexTable::String)
            .into_iter()
            .filter(|r| r.param() == param && passes(*r, test))
            .filter_map(|r| match r.col(Column::ValueNorm) {
                Some(Val::Text(t)) => Some(SqlValue::Text(t.to_string())),
                _ => None,
            })
            .min_by(cmp_sql),
    };
    value.unwrap_or_else(|| s.missing_value())
}

fn cmp_sql(a: &SqlValue, b: &SqlValue) -> Ordering {
    match (a, b) {
        (SqlValue::Int(x), SqlValue::Int(y)) => x.cmp(y),
        (SqlValue::Text(x), SqlValue::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (SqlValue::Real(x), SqlValue::Real(y)) => x.total_cmp(y),
        (SqlValue::Int(x), SqlValue::Real(y)) => (*x as f64).total_cmp(y),
        (SqlValue::Real(x), SqlValue::Int(y)) => x.total_cmp(&(*y as f64)),
        (SqlValue::Int(_) | SqlValue::Real(_), SqlValue::Text(_)) => Ordering::Less,
        (SqlValue::Text(_), _) => Ordering::Greater,
    }
}

/// Order of two hits under the plan's sort (then type and id ascending).
fn order(plan: &SearchPlan, a: &SearchHit, b: &SearchHit) -> Ordering {
    for (n, s) in plan.sort.iter().enumerate() {
        let (x, y) = (a.sort.get(n), b.sort.get(n));
        let o = match (x, y) {
            (Some(x), Some(y)) => cmp_sql(x, y),
            _ => Ordering::Equal,
        };
        let o = if s.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.resource_type
        .cmp(&b.resource_type)
        .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
}

fn matching(plan: &SearchPlan, candidates: &[AuditCandidate]) -> Vec<SearchHit> {
    candidates
        .iter()
        .filter(|e| plan.conditions.iter().all(|c| holds(c, e)))
        .map(|e| SearchHit {
            resource_type: AUDIT_TYPE.to_string(),
            id: e.id.clone(),
            sort: plan.sort.iter().map(|s| sort_value(s, e)).collect(),
        })
        .collect()
}

/// The page of `plan` among `candidates` (every audit row the plan may
/// match), as the SQL search would give it.
pub fn search(plan: &SearchPlan, candidates: &[AuditCandidate]) -> SearchPage {
    let mut hits = matching(plan, candidates);
    hits.sort_by(|a, b| order(plan, a, b));
    let (mut page, backwards): (Vec<SearchHit>, bool) = match &plan.start {
        PageStart::First => (hits, false),
        PageStart::After(key) => {
            let k = SearchHit {
                resource_type: key.resource_type.clone(),
                id: key.id.clone(),
                sort: key.sort.clone(),
            };
            (
                hits.into_iter()
                    .filter(|h| order(plan, h, &k) == Ordering::Greater)
                    .collect(),
                false,
            )
        }
        PageStart::Before(key) => {
            let k = SearchHit {
                resource_type: key.resource_type.clone(),
                id: key.id.clone(),
                sort: key.sort.clone(),
            };
            let mut before: Vec<SearchHit> = hits
                .into_iter()
                .filter(|h| order(plan, h, &k) == Ordering::Less)
                .collect();
            before.reverse();
            (before, true)
        }
    };
    let more = page.len() > plan.count;
    page.truncate(plan.count);
    if backwards {
        page.reverse();
    }
    SearchPage { hits: page, more }
}

/// How many of `candidates` match `plan`.
pub fn count(plan: &SearchPlan, candidates: &[AuditCandidate]) -> u64 {
    candidates
        .iter()
        .filter(|e| plan.conditions.iter().all(|c| holds(c, e)))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::CmpOp;

    fn event(id: &str, at: i64, patient: &str, subtype: &str) -> AuditCandidate {
        let mut index = IndexRows::default();
        index.tokens.push(TokenIndex {
            param: "subtype".into(),
            system: Some("http://hl7.org/fhir/restful-interaction".into()),
            code: subtype.into(),
        });
        index.dates.push(DateIndex {
            param: "date".into(),
            low: at,
            high: at,
        });
        index.references.push(ReferenceIndex {
            param: "patient".into(),
            target_type: Some("Patient".into()),
            target_id: Some(patient.into()),
            url: None,
        });
        index.compartments.push(CompartmentIndex {
            compartment_type: "Patient".into(),
            compartment_id: patient.into(),
        });
        AuditCandidate {
            id: id.into(),
            stored_at: at,
            index: decode_index(&encode_index(&index)),
        }
    }

    fn token(param: &str, code: &str) -> Condition {
        Condition::Row {
            table: IndexTable::Token,
            param: param.into(),
            test: RowTest::Cmp(Column::Code, CmpOp::Eq, SqlValue::Text(code.into())),
            negate: false,
        }
    }

    #[test]
    fn plans_filter_sort_and_page_packed_rows() {
        let all = vec![
            event("a", 300, "p1", "read"),
            event("b", 100, "p1", "search-type"),
            event("c", 200, "p2", "read"),
            event("d", 400, "p1", "read"),
        ];
        let mut plan = SearchPlan::new(vec![AUDIT_TYPE.into()], 1);
        plan.conditions = vec![
            token("subtype", "read"),
            Condition::Compartment {
                compartment_type: "Patient".into(),
                compartment_id: "p1".into(),
            },
        ];
        plan.sort = vec![SortSpec {
            by: SortBy::Index {
                table: IndexTable::Date,
                param: "date".into(),
                column: Column::Low,
                column_desc: Column::High,
                preferred: None,
            },
            descending: true,
        }];
        assert_eq!(count(&plan, &all), 2);
        assert_eq!(patient_hint(&plan).as_deref(), Some("p1"));
        let first = search(&plan, &all);
        assert_eq!(first.hits[0].id, "d");
        assert!(first.more);
        plan.start = PageStart::After(first.hits[0].key());
        let second = search(&plan, &all);
        assert_eq!(second.hits[0].id, "a");
        assert!(!second.more);
        plan.start = PageStart::Before(second.hits[0].key());
        assert_eq!(search(&plan, &all).hits[0].id, "d");
        // A date range, and a negated token.
        let mut plan = SearchPlan::new(vec![AUDIT_TYPE.into()], 10);
        plan.conditions = vec![
            Condition::Row {
                table: IndexTable::Date,
                param: "date".into(),
                test: RowTest::Cmp(Column::Low, CmpOp::Ge, SqlValue::Int(200)),
                negate: false,
            },
            Condition::Row {
                table: IndexTable::Token,
                param: "subtype".into(),
                test: RowTest::Cmp(Column::Code, CmpOp::Eq, SqlValue::Text("read".into())),
                negate: true,
            },
        ];
        assert_eq!(count(&plan, &all), 0);
        plan.conditions.pop();
        let ids: Vec<String> = search(&plan, &all).hits.into_iter().map(|h| h.id).collect();
        assert_eq!(ids, vec!["a", "c", "d"]);
    }

    #[test]
    fn wildcard_patterns() {
        let p = |s: &str| LikePart::Literal(s.into());
        assert!(like("abcdef", &[p("ab"), LikePart::AnyRun, p("ef")]));
        assert!(like("abcdef", &[p("abc"), LikePart::AnyRun]));
        assert!(!like("abcdef", &[p("abc")]));
        assert!(like(
            "abcdef",
            &[LikePart::AnyRun, p("cd"), LikePart::AnyRun]
        ));
        assert!(!like(
            "abcdef",
            &[LikePart::AnyRun, p("x"), LikePart::AnyRun]
        ));
    }

    #[test]
    fn the_batch_hash_covers_every_event_in_order() {
        let mut a = BatchHasher::default();
        a.add("e1", "{\"x\":1}");
        a.add("e2", "{\"x\":2}");
        let mut b = BatchHasher::default();
        b.add("e2", "{\"x\":2}");
        b.add("e1", "{\"x\":1}");
        let mut c = BatchHasher::default();
        c.add("e1", "{\"x\":1}");
        c.add("e2", "{\"x\":3}");
        assert_eq!(a.count(), 2);
        assert_ne!(a.finish(), b.finish());
        assert_ne!(a.finish(), c.finish());
    }
}
