//! Batch and transaction Bundles (FHIR R4 http.html#transaction).
//! A transaction is processed in the spec's order — DELETE, POST, PUT/PATCH,
//! GET/HEAD — resolves `urn:uuid` and conditional references, and commits all
//! its writes in one store transaction: all or nothing. A batch runs each entry
//! on its own.

use foldhash::{HashMap, HashMapExt};

use base64::Engine as _;
use concord_fhir::{Issue, IssueType};
use concord_store::{PendingWrite, TenantContext, WriteKind, WriteOutcome};
use serde_json::Value;

use crate::references::{conditional_references, rewrite};
use crate::write::{pending, set_id, WriteResult};
use crate::{new_id, parse_etag, CoreError, CoreResult, Engine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    Batch,
    Transaction,
}

/// The HTTP status of one entry's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Ok,
    Created,
    NoContent,
}

impl EntryStatus {
    pub fn text(self) -> &'static str {
        match self {
            EntryStatus::Ok => "200 OK",
            EntryStatus::Created => "201 Created",
            EntryStatus::NoContent => "204 No Content",
        }
    }
}

/// One entry of the response Bundle.
#[derive(Debug, Clone)]
pub struct EntryResponse {
    pub status: EntryStatus,
    pub resource_type: String,
    pub id: Option<String>,
    pub version: Option<i64>,
    pub last_modified: Option<i64>,
    /// JSON text of the resource, when there is one to return.
    pub resource: Option<String>,
    pub warnings: Vec<Issue>,
}

impl EntryResponse {
    fn from_write(method: Method, w: WriteResult) -> EntryResponse {
        let status = match (method, w.outcome) {
            (_, WriteOutcome::Created) => EntryStatus::Created,
            (_, WriteOutcome::Updated) => EntryStatus::Ok,
            (_, WriteOutcome::Deleted) => EntryStatus::NoContent,
            (Method::Delete, WriteOutcome::NoOp) => EntryStatus::NoContent,
            (_, WriteOutcome::NoOp) => EntryStatus::Ok,
        };
        let has_id = !w.id.is_empty();
        EntryResponse {
            status,
            resource_type: w.resource_type,
            id: has_id.then_some(w.id),
            version: (w.version > 0).then_some(w.version),
            last_modified: (w.last_updated > 0).then_some(w.last_updated),
            resource: w.content,
            warnings: w.warnings,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn parse(text: &str) -> Option<Method> {
        Some(match text {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    /// Processing order in a transaction.
    fn rank(self) -> u8 {
        match self {
            Method::Delete => 0,
            Method::Post => 1,
            Method::Put | Method::Patch => 2,
            Method::Get | Method::Head => 3,
        }
    }
}

/// What an entry's `request.url` names.
#[derive(Debug, Clone)]
enum Target {
    Type(String),
    Instance(String, String),
    Version(String, String, i64),
    Conditional(String, String),
}

#[derive(Debug)]
struct Entry {
    index: usize,
    method: Method,
    target: Target,
    full_url: Option<String>,
    resource: Option<Value>,
    if_match: Option<i64>,
    if_none_exist: Option<String>,
}

fn entry_error(index: usize, code: IssueType, msg: impl Into<String>) -> CoreError {
    CoreError::BadRequest(vec![
        Issue::error(code, msg).at(format!("Bundle.entry[{index}]"))
    ])
}

fn parse_target(index: usize, url: &str) -> CoreResult<Target> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let bad = || {
        entry_error(
            index,
            IssueType::Invalid,
            format!("unsupported request.url '{url}'"),
        )
    };
    let target = match (parts.as_slice(), query) {
        ([rt], Some(q)) if !q.is_empty() => Target::Conditional(rt.to_string(), q.to_string()),
        ([rt], _) => Target::Type(rt.to_string()),
        ([rt, id], _) => Target::Instance(rt.to_string(), id.to_string()),
        ([rt, id, "_history", v], _) => Target::Version(
            rt.to_string(),
            id.to_string(),
            v.parse().map_err(|_| bad())?,
        ),
        _ => return Err(bad()),
    };
    let rt = match &target {
        Target::Type(rt)
        | Target::Instance(rt, _)
        | Target::Version(rt, _, _)
        | Target::Conditional(rt, _) => rt,
    };
    Engine::check_type(rt).map_err(|e| e.within(&format!("Bundle.entry[{index}].request.url")))?;
    Ok(target)
}

fn parse_entry(index: usize, mut entry: Value) -> CoreResult<Entry> {
    let resource = entry.get_mut("resource").map(Value::take);
    let request = entry
        .get("request")
        .ok_or_else(|| entry_error(index, IssueType::Required, "entry.request is missing"))?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .and_then(Method::parse)
        .ok_or_else(|| {
            entry_error(
                index,
                IssueType::Required,
                "entry.request.method is missing or unknown",
            )
        })?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| entry_error(index, IssueType::Required, "entry.request.url is missing"))?;
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let if_match = match text("ifMatch") {
        Some(tag) => Some(parse_etag(&tag).ok_or_else(|| {
            entry_error(
                index,
                IssueType::Invalid,
                format!("ifMatch '{tag}' is not a version tag"),
            )
        })?),
        None => None,
    };
    Ok(Entry {
        index,
        method,
        target: parse_target(index, url)?,
        full_url: entry
            .get("fullUrl")
            .and_then(Value::as_str)
            .map(str::to_string),
        resource,
        if_match,
        if_none_exist: text("ifNoneExist"),
    })
}

/// The entry's resource, which its method needs.
fn need_body(index: usize, resource: Option<Value>) -> CoreResult<Value> {
    resource.ok_or_else(|| entry_error(index, IssueType::Required, "entry.resource is missing"))
}

/// What a transaction entry will do once its target is known.
enum Plan {
    Write {
        method: Method,
        kind: WriteKind,
        resource_type: String,
        id: String,
        body: Option<Value>,
        if_match: Option<i64>,
    },
    Patch {
        resource_type: String,
        id: String,
        patch: Value,
        if_match: Option<i64>,
    },
    /// Nothing to write: a conditional create that matched, a delete of nothing.
    Done(EntryResponse),
    Read(Target),
}

impl Engine {
    /// Processes a batch or transaction Bundle. A transaction fails as a whole
    /// (nothing stored); a batch gives each entry its own result.
    pub async fn process_bundle(
        &self,
        ctx: &TenantContext,
        mut bundle: Value,
    ) -> CoreResult<(BundleKind, Vec<CoreResult<EntryResponse>>)> {
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(CoreError::bad_request(
                "POST to the base URL takes a Bundle",
            ));
        }
        let kind = match bundle.get("type").and_then(Value::as_str) {
            Some("transaction") => BundleKind::Transaction,
            Some("batch") => BundleKind::Batch,
            other => {
                return Err(CoreError::bad_request(format!(
                    "Bundle.type must be 'transaction' or 'batch', not {other:?}"
                )))
            }
        };
        let raw = match bundle.get_mut("entry") {
            Some(Value::Array(entries)) => std::mem::take(entries),
            _ => Vec::new(),
        };
        match kind {
            BundleKind::Transaction => {
                let mut entries = Vec::with_capacity(raw.len());
                for (i, e) in raw.into_iter().enumerate() {
                    entries.push(parse_entry(i, e)?);
                }
                let results = self.transaction(ctx, entries).await?;
                Ok((kind, results.into_iter().map(Ok).collect()))
            }
            BundleKind::Batch => {
                let mut results = Vec::with_capacity(raw.len());
                for (i, e) in raw.into_iter().enumerate() {
                    let result = match parse_entry(i, e) {
                        Ok(entry) => self.batch_entry(ctx, entry).await,
                        Err(err) => Err(err),
                    };
                    results.push(result);
                }
                Ok((kind, results))
            }
        }
    }

    async fn batch_entry(&self, ctx: &TenantContext, mut e: Entry) -> CoreResult<EntryResponse> {
        let prefix = format!("Bundle.entry[{}].resource", e.index);
        let resource = e.resource.take();
        let index = e.index;
        let body = move || need_body(index, resource);
        let result = match (e.method, &e.target) {
            (Method::Post, Target::Type(rt)) => {
                self.create(ctx, rt, body()?, e.if_none_exist.as_deref())
                    .await
            }
            (Method::Put, Target::Instance(rt, id)) => {
                self.update(ctx, rt, id, body()?, e.if_match).await
            }
            (Method::Put, Target::Conditional(rt, q)) => {
                self.conditional_update(ctx, rt, q, body()?, e.if_match)
                    .await
            }
            (Method::Patch, Target::Instance(rt, id)) => {
                let patch = patch_document(e.index, body()?)?;
                self.patch(ctx, rt, id, &patch, e.if_match).await
            }
            (Method::Delete, Target::Instance(rt, id)) => {
                self.delete(ctx, rt, id, e.if_match).await
            }
            (Method::Delete, Target::Conditional(rt, q)) => {
                self.conditional_delete(ctx, rt, q).await
            }
            (Method::Get | Method::Head, target) => {
                return self.read_target(ctx, e.index, target).await
            }
            _ => {
                return Err(entry_error(
                    e.index,
                    IssueType::NotSupported,
                    "this method and url combination is not supported",
                ))
            }
        };
        result
            .map(|w| EntryResponse::from_write(e.method, w))
            .map_err(|err| err.within(&prefix))
    }

    async fn read_target(
        &self,
        ctx: &TenantContext,
        index: usize,
        target: &Target,
    ) -> CoreResult<EntryResponse> {
        let v = match target {
            Target::Instance(rt, id) => self.read(ctx, rt, id).await?,
            Target::Version(rt, id, v) => self.vread(ctx, rt, id, *v).await?,
            _ => {
                return Err(entry_error(
                    index,
                    IssueType::NotSupported,
                    "search inside a Bundle is not supported yet",
                ))
            }
        };
        Ok(EntryResponse {
            status: EntryStatus::Ok,
            resource_type: v.resource_type,
            id: Some(v.id),
            version: Some(v.version),
            last_modified: Some(v.last_updated),
            resource: v.content,
            warnings: Vec::new(),
        })
    }

    async fn transaction(
        &self,
        ctx: &TenantContext,
        mut entries: Vec<Entry>,
    ) -> CoreResult<Vec<EntryResponse>> {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries[i].method.rank());
        let mut refs: HashMap<String, String> = HashMap::new();
        let mut plans: Vec<Option<Plan>> = (0..entries.len()).map(|_| None).collect();
        // 1. Targets and ids, against the committed state.
        for &i in &order {
            let plan = self.plan(ctx, &mut entries[i], &mut refs).await?;
            plans[i] = Some(plan);
        }
        // 2. References, ids and validation of every resource; all problems at once.
        let mut conditional: HashMap<String, String> = HashMap::new();
        let mut problems: Vec<CoreError> = Vec::new();
        for &i in &order {
            let Some(plan) = plans[i].as_mut() else {
                continue;
            };
            let prefix = format!("Bundle.entry[{i}].resource");
            if let Err(e) = self.prepare_plan(ctx, plan, &refs, &mut conditional).await {
                problems.push(e.within(&prefix));
            }
        }
        if !problems.is_empty() {
            return Err(merge_errors(problems));
        }
        // 3. One commit for every write.
        let mut writes: Vec<PendingWrite> = Vec::new();
        let mut write_slots: Vec<(usize, Method)> = Vec::new();
        for &i in &order {
            // Only writes are taken out here; reads and finished entries stay for step 4.
            match plans[i].take() {
                Some(Plan::Write {
                    method,
                    kind,
                    resource_type,
                    id,
                    body,
                    if_match,
                }) => {
                    writes.push(pending(
                        self.index_policy(),
                        kind,
                        &resource_type,
                        &id,
                        body,
                        if_match,
                    ));
                    write_slots.push((i, method));
                }
                Some(Plan::Patch { .. }) => {
                    return Err(CoreError::Store(concord_store::StoreError::Backend(
                        "unprepared patch".into(),
                    )));
                }
                other => plans[i] = other,
            }
        }
        for w in &mut writes {
            // AuditEvents are append-only: a PUT may only add a new one (the
            // store refuses the create if the id exists).
            if w.resource_type == "AuditEvent" && w.kind == WriteKind::Update {
                w.kind = WriteKind::Create;
            }
            Engine::check_write(w)?;
        }
        self.authorize_writes(ctx, &writes).await?;
        self.check_locked(ctx, &mut writes).await?;
        let committed = self.store().commit(ctx, writes).await?;
        self.policy_cache()
            .written(committed.iter().map(|w| w.resource_type.as_str()));
        let mut responses: Vec<Option<EntryResponse>> = (0..entries.len()).map(|_| None).collect();
        for ((i, method), w) in write_slots.into_iter().zip(committed) {
            let result = WriteResult {
                resource_type: w.resource_type,
                id: w.id,
                version: w.version,
                last_updated: w.last_updated,
                outcome: w.outcome,
                content: w.content,
                warnings: Vec::new(),
            };
            responses[i] = Some(EntryResponse::from_write(method, result));
        }
        // 4. Reads, after the writes.
        for &i in &order {
            match plans[i].take() {
                Some(Plan::Done(r)) => responses[i] = Some(r),
                Some(Plan::Read(target)) => {
                    responses[i] = Some(
                        self.read_target(ctx, i, &target)
                            .await
                            .map_err(|e| e.within(&format!("Bundle.entry[{i}]")))?,
                    )
                }
                _ => {}
            }
        }
        responses
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| entry_error(i, IssueType::Exception, "entry was not processed"))
            })
            .collect()
    }

    /// Decides what an entry does; assigns ids and records fullUrl → Type/id.
    async fn plan(
        &self,
        ctx: &TenantContext,
        e: &mut Entry,
        refs: &mut HashMap<String, String>,
    ) -> CoreResult<Plan> {
        let resource = e.resource.take();
        let index = e.index;
        let needs_body = move || need_body(index, resource);
        let e = &*e;
        let mut map_full_url = |rt: &str, id: &str| {
            if let Some(full) = &e.full_url {
                refs.insert(full.clone(), format!("{rt}/{id}"));
            }
        };
        let too_many = || {
            CoreError::PreconditionFailed(format!(
                "Bundle.entry[{}]: conditional criteria match more than one resource",
                e.index
            ))
        };
        let plan = match (e.method, &e.target) {
            (Method::Delete, Target::Instance(rt, id)) => {
                Engine::check_id(id)?;
                write_plan(e.method, WriteKind::Delete, rt, id, None, e.if_match)
            }
            (Method::Delete, Target::Conditional(rt, q)) => {
                match self.match_criteria(ctx, rt, q).await?.as_slice() {
                    [] => Plan::Done(EntryResponse {
                        status: EntryStatus::NoContent,
                        resource_type: rt.clone(),
                        id: None,
                        version: None,
                        last_modified: None,
                        resource: None,
                        warnings: Vec::new(),
                    }),
                    [id] => write_plan(e.method, WriteKind::Delete, rt, id, None, None),
                    _ => return Err(too_many()),
                }
            }
            (Method::Post, Target::Type(rt)) => {
                let body = needs_body()?;
                if let Some(q) = &e.if_none_exist {
                    match self.match_criteria(ctx, rt, q).await?.as_slice() {
                        [] => {}
                        [id] => {
                            map_full_url(rt, id);
                            let current = self.read(ctx, rt, id).await?;
                            return Ok(Plan::Done(EntryResponse {
                                status: EntryStatus::Ok,
                                resource_type: rt.clone(),
                                id: Some(id.clone()),
                                version: Some(current.version),
                                last_modified: Some(current.last_updated),
                                resource: current.content,
                                warnings: Vec::new(),
                            }));
                        }
                        _ => return Err(too_many()),
                    }
                }
                let id = new_id();
                map_full_url(rt, &id);
                write_plan(e.method, WriteKind::Create, rt, &id, Some(body), None)
            }
            (Method::Put, Target::Instance(rt, id)) => {
                Engine::check_id(id)?;
                map_full_url(rt, id);
                write_plan(
                    e.method,
                    WriteKind::Update,
                    rt,
                    id,
                    Some(needs_body()?),
                    e.if_match,
                )
            }
            (Method::Put, Target::Conditional(rt, q)) => {
                let body = needs_body()?;
                let id = match self.match_criteria(ctx, rt, q).await?.as_slice() {
                    [] => body
                        .get("id")
                        .and_then(Value::as_str)
                        .map_or_else(new_id, str::to_string),
                    [id] => id.clone(),
                    _ => return Err(too_many()),
                };
                map_full_url(rt, &id);
                write_plan(e.method, WriteKind::Update, rt, &id, Some(body), e.if_match)
            }
            (Method::Patch, Target::Instance(rt, id)) => Plan::Patch {
                resource_type: rt.clone(),
                id: id.clone(),
                patch: patch_document(e.index, needs_body()?)?,
                if_match: e.if_match,
            },
            (Method::Get | Method::Head, target @ (Target::Instance(..) | Target::Version(..))) => {
                Plan::Read(target.clone())
            }
            _ => {
                return Err(entry_error(
                    e.index,
                    IssueType::NotSupported,
                    "this method and url combination is not supported in a transaction",
                ))
            }
        };
        Ok(plan)
    }

    /// Rewrites references, sets ids, applies patches and validates.
    async fn prepare_plan(
        &self,
        ctx: &TenantContext,
        plan: &mut Plan,
        refs: &HashMap<String, String>,
        conditional: &mut HashMap<String, String>,
    ) -> CoreResult<()> {
        if let Plan::Patch {
            resource_type,
            id,
            patch,
            if_match,
        } = plan
        {
            let current = self.read(ctx, resource_type, id).await?;
            if let Some(expected) = if_match {
                if *expected != current.version {
                    return Err(CoreError::PreconditionFailed(format!(
                        "{resource_type}/{id} is at version {}, not {expected}",
                        current.version
                    )));
                }
            }
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| CoreError::bad_request(format!("not a JSON Patch document: {e}")))?;
            let mut doc: Value = serde_json::from_str(current.content.as_deref().unwrap_or("{}"))
                .map_err(|e| {
                CoreError::bad_request(format!("stored resource unreadable: {e}"))
            })?;
            json_patch::patch(&mut doc, &ops)
                .map_err(|e| CoreError::bad_request(format!("the patch cannot be applied: {e}")))?;
            *plan = write_plan(
                Method::Patch,
                WriteKind::Update,
                resource_type,
                id,
                Some(doc),
                Some(current.version),
            );
        }
        let Plan::Write {
            kind,
            resource_type,
            id,
            body: Some(body),
            ..
        } = plan
        else {
            return Ok(());
        };
        rewrite(body, refs);
        let mut found = Vec::new();
        conditional_references(body, &mut found);
        for reference in found {
            if conditional.contains_key(&reference) {
                continue;
            }
            let (rt, q) = reference.split_once('?').unwrap_or((&reference, ""));
            let resolved = match self.match_criteria(ctx, rt, q).await?.as_slice() {
                [one] => format!("{rt}/{one}"),
                [] => {
                    return Err(CoreError::bad_request(format!(
                        "conditional reference '{reference}' matches no resource"
                    )))
                }
                _ => {
                    return Err(CoreError::PreconditionFailed(format!(
                        "conditional reference '{reference}' matches more than one resource"
                    )))
                }
            };
            conditional.insert(reference, resolved);
        }
        rewrite(body, conditional);
        if *kind == WriteKind::Create {
            set_id(body, id);
        } else {
            match body.get("id").and_then(Value::as_str) {
                Some(body_id) if body_id != id.as_str() => {
                    return Err(CoreError::bad_request(format!(
                        "the resource id '{body_id}' does not match the target id '{id}'"
                    )))
                }
                Some(_) => {}
                None => set_id(body, id),
            }
        }
        Engine::validate(resource_type, body)?;
        Ok(())
    }
}

fn write_plan(
    method: Method,
    kind: WriteKind,
    resource_type: &str,
    id: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> Plan {
    Plan::Write {
        method,
        kind,
        resource_type: resource_type.to_string(),
        id: id.to_string(),
        body,
        if_match,
    }
}

/// A PATCH entry carries its JSON Patch as a Binary resource (base64 data).
fn patch_document(index: usize, resource: Value) -> CoreResult<Value> {
    if resource.is_array() {
        return Ok(resource);
    }
    let is_binary = resource.get("resourceType").and_then(Value::as_str) == Some("Binary");
    let data = resource.get("data").and_then(Value::as_str);
    match (is_binary, data) {
        (true, Some(data)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|_| entry_error(index, IssueType::Invalid, "Binary.data is not base64"))?;
            serde_json::from_slice(&bytes).map_err(|_| {
                entry_error(index, IssueType::Invalid, "Binary.data is not a JSON Patch document")
            })
        }
        _ => Err(entry_error(
            index,
            IssueType::NotSupported,
            "PATCH entries take a JSON Patch in a Binary resource (FHIRPath Patch is not supported yet)",
        )),
    }
}

/// Many problems, one error: validation failures win (422), with every issue.
fn merge_errors(errors: Vec<CoreError>) -> CoreError {
    let any_invalid = errors.iter().any(|e| matches!(e, CoreError::Invalid(_)));
    let only_issues = errors
        .iter()
        .all(|e| matches!(e, CoreError::Invalid(_) | CoreError::BadRequest(_)));
    if !only_issues {
        return errors
            .into_iter()
            .find(|e| !matches!(e, CoreError::Invalid(_) | CoreError::BadRequest(_)))
            .unwrap_or_else(|| CoreError::bad_request("transaction failed"));
    }
    let issues: Vec<Issue> = errors.iter().flat_map(CoreError::issues).collect();
    if any_invalid {
        CoreError::Invalid(issues)
    } else {
        CoreError::BadRequest(issues)
    }
}
