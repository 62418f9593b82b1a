//! A brute-force FHIR search evaluator: the expected answer of a search,
//! computed in memory over every stored resource. Each parameter's FHIRPath
//! expression (from the R4 SearchParameter definitions, compiled by
//! `concord_search::registry`) is evaluated by `concord_fhirpath` over every
//! resource of the type, and the values are filtered here following the R4
//! search page (see `matching.rs` for the semantics chosen). Nothing of
//! `concord_search`'s index extraction or query parsing is used.

pub mod dates;
pub mod matching;
mod offline;
pub mod values;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use concord_search::registry::{self, ParamType, SearchParamDef};
use serde_json::Value;

use matching::*;
use values::*;

/// Everything stored, by type, as the server returns it.
pub struct Corpus {
    pub base: String,
    pub by_type: BTreeMap<String, Vec<Value>>,
    index: HashMap<String, (String, usize)>,
}

/// A search request: `[POST ]path?query`, `path` being `Type`, empty
/// (system), `Patient/id/Type` (compartment) or `Patient/id/$everything`.
#[derive(Debug, Clone)]
pub struct Request {
    pub post: bool,
    pub path: String,
    pub query: String,
    pub params: Vec<(String, String)>,
}

impl Request {
    pub fn parse(line: &str) -> Request {
        let (post, rest) = match line.strip_prefix("POST ") {
            Some(r) => (true, r.trim()),
            None => (false, line.trim()),
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Request {
            post,
            path: percent_decode(path.trim_matches('/')),
            query: query.to_string(),
            params,
        }
    }

    /// The path as sent (percent-encoded again where needed).
    pub fn raw_path(&self) -> String {
        self.path
            .split('/')
            .map(|seg| {
                seg.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `%XX` → the byte (a path segment; `+` stays).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The expected answer.
#[derive(Debug, Default)]
pub struct Expected {
    /// `Type/id` of every match.
    pub matches: BTreeSet<String>,
    /// `Type/id` of every included resource that is not a match.
    pub includes: BTreeSet<String>,
    /// Sort keys (`code`, descending).
    pub sort: Vec<(String, bool)>,
    /// `$everything`: resources the server may add (referenced by members).
    pub allowed_extra: BTreeSet<String>,
}

/// A sort value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortVal {
    Num(f64),
    Text(String),
}

const CONTROL: &[&str] = &[
    "_count",
    "_sort",
    "_total",
    "_summary",
    "_elements",
    "_format",
    "_pretty",
    "_include",
    "_include:iterate",
    "_revinclude",
    "_revinclude:iterate",
    "_type",
    "_since",
];

impl Corpus {
    pub fn new(base: &str, resources: Vec<Value>) -> Corpus {
        let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for r in resources {
            let t = r["resourceType"].as_str().unwrap_or("").to_string();
            by_type.entry(t).or_default().push(r);
        }
        let mut index = HashMap::new();
        for (t, list) in &by_type {
            for (i, r) in list.iter().enumerate() {
                let id = r["id"].as_str().unwrap_or("");
                index.insert(format!("{t}/{id}"), (t.clone(), i));
            }
        }
        Corpus {
            base: base.trim_end_matches('/').to_string(),
            by_type,
            index,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.index
            .get(key)
            .map(|(t, i)| &self.by_type[t.as_str()][*i])
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn of_type(&self, t: &str) -> &[Value] {
        self.by_type.get(t).map_or(&[], Vec::as_slice)
    }

    /// The stored resource a reference points to (`Type/id`), if any.
    fn resolve(&self, r: &RefVal) -> Option<String> {
        let (t, id) = (r.rtype.as_ref()?, r.id.as_ref()?);
        if let Some(u) = &r.url {
            let local = u
                .strip_prefix(&self.base)
                .is_some_and(|rest| rest.trim_start_matches('/') == format!("{t}/{id}"));
            if !local {
                return None;
            }
        }
        let key = format!("{t}/{id}");
        self.index.contains_key(&key).then_some(key)
    }

    fn refs_of(&self, def: &SearchParamDef, res: &Value) -> Vec<RefVal> {
        param_items(def, res)
            .iter()
            .flat_map(|(ty, v, target)| references(ty, v, target.as_deref()))
            .collect()
    }

    /// The expected answer of `req`.
    pub fn evaluate(&self, req: &Request) -> Result<Expected, String> {
        let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
        let mut exp = Expected::default();
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        let types: Vec<String> = match segs.as_slice() {
            [] => match req.param("_type") {
                Some(ts) => ts.split(',').map(str::to_string).collect(),
                None => self.by_type.keys().cloned().collect(),
            },
            [t] | [_, _, t] => vec![t.to_string()],
            _ => return Err(format!("unsupported path {}", req.path)),
        };
        if let [c, cid, what] = segs.as_slice() {
            if *what == "$everything" {
                return self.everything(c, cid);
            }
            candidates = self.compartment(c, cid, what);
        } else {
            for t in &types {
                for r in self.of_type(t) {
                    candidates.insert(format!("{t}/{}", r["id"].as_str().unwrap_or("")));
                }
            }
        }
        for (k, v) in &req.params {
            if CONTROL.contains(&k.as_str()) || v.is_empty() {
                continue;
            }
            // Unknown parameters are ignored (lenient handling, the default).
            let base_name = k.split([':', '.']).next().unwrap_or_default();
            if base_name != "_has"
                && types
                    .iter()
                    .all(|t| registry::param(t, base_name).is_none())
            {
                continue;
            }
            let mut keep = BTreeSet::new();
            for t in &types {
                let ids = self.filter_set(t, k, v)?;
                keep.extend(ids.into_iter().map(|id| format!("{t}/{id}")));
            }
            candidates = candidates.intersection(&keep).cloned().collect();
        }
        exp.matches = candidates;
        exp.includes = self.includes(req, &exp.matches)?;
        if let Some(s) = req.param("_sort") {
            exp.sort = s
                .split(',')
                .map(|k| match k.strip_prefix('-') {
                    Some(k) => (k.to_string(), true),
                    None => (k.to_string(), false),
                })
                .collect();
        }
        Ok(exp)
    }

    /// Ids of the resources of type `t` that match `key=value`.
    pub fn filter_set(&self, t: &str, key: &str, value: &str) -> Result<HashSet<String>, String> {
        let id_of = |r: &Value| r["id"].as_str().unwrap_or("").to_string();
        if let Some(rest) = key.strip_prefix("_has:") {
            let mut parts = rest.splitn(3, ':');
            let (Some(src), Some(p), Some(inner)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("bad _has: {key}"));
            };
            let def = registry::param(src, p).ok_or_else(|| format!("unknown {src}.{p}"))?;
            let inner_ids = self.filter_set(src, inner, value)?;
            let mut out = HashSet::new();
            for r in self.of_type(src) {
                if !inner_ids.contains(&id_of(r)) {
                    continue;
                }
                for rv in self.refs_of(def, r) {
                    if let Some(key) = self.resolve(&rv) {
                        if let Some(id) = key.strip_prefix(&format!("{t}/")) {
                            out.insert(id.to_string());
                        }
                    }
                }
            }
            return Ok(out);
        }
        let (head, tail) = match key.split_once('.') {
            Some((h, tl)) => (h, Some(tl)),
            None => (key, None),
        };
        let (name, modifier) = match head.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (head, None),
        };
        let def =
            registry::param(t, name).ok_or_else(|| format!("unknown parameter {t}.{name}"))?;
        if let Some(tail) = tail {
            if def.kind != ParamType::Reference {
                return Err(format!("chain through non-reference {t}.{name}"));
            }
            let next: &str = tail.split(['.', ':']).next().unwrap_or_default();
            let targets: Vec<String> = match modifier {
                Some(m) => vec![m.to_string()],
                None => def
                    .targets
                    .iter()
                    .filter(|tt| registry::param(tt, next).is_some())
                    .cloned()
                    .collect(),
            };
            let mut sets = HashMap::new();
            for tt in &targets {
                sets.insert(tt.clone(), self.filter_set(tt, tail, value)?);
            }
            let mut out = HashSet::new();
            for r in self.of_type(t) {
                let hit = self.refs_of(def, r).iter().any(|rv| {
                    self.resolve(rv).is_some_and(|k| {
                        let (rt, id) = k.split_once('/').unwrap_or_default();
                        sets.get(rt).is_some_and(|s| s.contains(id))
                    })
                });
                if hit {
                    out.insert(id_of(r));
                }
            }
            return Ok(out);
        }
        let mut out = HashSet::new();
        for r in self.of_type(t) {
            if self.matches(def, r, modifier, value)? {
                out.insert(id_of(r));
            }
        }
        Ok(out)
    }

    fn matches(
        &self,
        def: &SearchParamDef,
        res: &Value,
        modifier: Option<&str>,
        value: &str,
    ) -> Result<bool, String> {
        if def.kind == ParamType::Composite && modifier != Some("missing") {
            let nodes = composite_items(def, res);
            for alt in split_unescaped(value, ',') {
                let parts = split_unescaped(&alt, '$');
                if parts.len() != def.components.len() {
                    return Err(format!(
                        "composite {} needs {} parts",
                        def.code,
                        def.components.len()
                    ));
                }
                for comps in &nodes {
                    let mut all = true;
                    for ((c, items), part) in def.components.iter().zip(comps).zip(&parts) {
                        let items: Vec<(String, Value, Option<String>)> = items
                            .iter()
                            .map(|(t, v)| (t.clone(), v.clone(), None))
                            .collect();
                        if !self.value_match(c.kind, None, &items, part)? {
                            all = false;
                            break;
                        }
                    }
                    if all {
                        return Ok(true);
                    }
                }
            }
            return Ok(false);
        }
        let items = param_items(def, res);
        if modifier == Some("missing") {
            let has = if def.kind == ParamType::Composite {
                composite_items(def, res).iter().any(|comps| {
                    comps
                        .iter()
                        .zip(&def.components)
                        .all(|(vals, c)| vals.iter().any(|(t, v)| has_value(c.kind, t, v)))
                })
            } else {
                items.iter().any(|(t, v, target)| {
                    if def.kind == ParamType::Reference {
                        !references(t, v, target.as_deref()).is_empty()
                    } else {
                        has_value(def.kind, t, v)
                    }
                })
            };
            return match value {
                "true" => Ok(!has),
                "false" => Ok(has),
                _ => Err(format!("bad :missing value {value}")),
            };
        }
        if modifier == Some("not") {
            for alt in split_unescaped(value, ',') {
                if self.value_match(def.kind, None, &items, &alt)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        for alt in split_unescaped(value, ',') {
            if self.value_match(def.kind, modifier, &items, &alt)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One (OR-free) value against a parameter's items.
    fn value_match(
        &self,
        kind: ParamType,
        modifier: Option<&str>,
        items: &[(String, Value, Option<String>)],
        v: &str,
    ) -> Result<bool, String> {
        match kind {
            ParamType::String => {
                if !matches!(modifier, None | Some("exact") | Some("contains")) {
                    return Err(format!("string modifier {modifier:?}"));
                }
                let vals: Vec<String> = items.iter().flat_map(|(t, x, _)| strings(t, x)).collect();
                Ok(string_match(modifier, &vals, &unescape(v)))
            }
            ParamType::Token => {
                let mut toks = Tokens::default();
                for (t, x, _) in items {
                    tokens(t, x, &mut toks);
                }
                match modifier {
                    None => Ok(token_match(&toks, &parse_token(v))),
                    Some("text") => Ok(string_match(None, &toks.texts, &unescape(v))),
                    Some("of-type") => Ok(of_type_match(&toks, v)),
                    Some(m) => Err(format!("token modifier :{m} not evaluated")),
                }
            }
            ParamType::Date => {
                if let Some(m) = modifier {
                    return Err(format!("modifier :{m} on a date parameter"));
                }
                let (p, s) = parse_date_search(v).ok_or_else(|| format!("bad date {v}"))?;
                Ok(items
                    .iter()
                    .flat_map(|(t, x, _)| dates(t, x))
                    .any(|r| date_match(&p, r, s)))
            }
            ParamType::Number => {
                if let Some(m) = modifier {
                    return Err(format!("modifier :{m} on a number parameter"));
                }
                let n = parse_number(v).ok_or_else(|| format!("bad number {v}"))?;
                Ok(items
                    .iter()
                    .filter_map(|(_, x, _)| number(x))
                    .any(|x| number_match(&n, x)))
            }
            ParamType::Quantity => {
                if let Some(m) = modifier {
                    return Err(format!("modifier :{m} on a quantity parameter"));
                }
                let q = parse_quantity(v).ok_or_else(|| format!("bad quantity {v}"))?;
                Ok(items
                    .iter()
                    .filter_map(|(t, x, _)| quantity(t, x))
                    .any(|x| quantity_match(&q, &x)))
            }
            ParamType::Reference => {
                let refs: Vec<RefVal> = items
                    .iter()
                    .flat_map(|(t, x, target)| references(t, x, target.as_deref()))
                    .collect();
                let v = unescape(v);
                if modifier == Some("identifier") {
                    let t = parse_token(&v);
                    return Ok(refs.iter().any(|r| {
                        let Some((sys, val)) = &r.identifier else {
                            return false;
                        };
                        let sys_ok = match &t.system {
                            None => true,
                            Some(None) => sys.is_none(),
                            Some(Some(s)) => sys.as_deref() == Some(s.as_str()),
                        };
                        sys_ok && (t.code.is_none() || *val == t.code)
                    }));
                }
                if let Some(m) = modifier {
                    if !concord_fhir::is_resource_type(m) {
                        return Err(format!("reference modifier :{m} not evaluated"));
                    }
                }
                Ok(refs
                    .iter()
                    .any(|r| reference_match(r, &v, modifier, &self.base)))
            }
            ParamType::Uri => {
                if !matches!(modifier, None | Some("below") | Some("above")) {
                    return Err(format!("uri modifier {modifier:?}"));
                }
                let vals: Vec<String> = items
                    .iter()
                    .filter_map(|(_, x, _)| x.as_str().map(str::to_string))
                    .collect();
                Ok(uri_match(modifier, &vals, &unescape(v)))
            }
            ParamType::Composite | ParamType::Special => Err("not evaluated".into()),
        }
    }

    /// Members of compartment `c/cid` of type `t`.
    fn compartment(&self, c: &str, cid: &str, t: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let params = concord_fhir::compartments::compartment_params(c, t);
        let me = format!("{c}/{cid}");
        for r in self.of_type(t) {
            let id = r["id"].as_str().unwrap_or("");
            let member = params.iter().any(|p| {
                if p == concord_fhir::compartments::SELF_PARAM {
                    return t == c && id == cid;
                }
                registry::param(t, p).is_some_and(|def| {
                    self.refs_of(def, r)
                        .iter()
                        .any(|rv| self.resolve(rv).as_deref() == Some(me.as_str()))
                })
            });
            if member {
                out.insert(format!("{t}/{id}"));
            }
        }
        out
    }

    fn everything(&self, c: &str, cid: &str) -> Result<Expected, String> {
        let mut exp = Expected::default();
        let me = format!("{c}/{cid}");
        if self.get(&me).is_none() {
            return Err(format!("{me} is not stored"));
        }
        exp.matches.insert(me);
        for t in self.by_type.keys() {
            exp.matches.extend(self.compartment(c, cid, t));
        }
        for key in &exp.matches {
            let (t, _) = key.split_once('/').unwrap_or_default();
            let res = self.get(key).expect("stored");
            for def in registry::for_type(t).map(|tp| tp.params()).unwrap_or(&[]) {
                if def.kind == ParamType::Reference {
                    for rv in self.refs_of(def, res) {
                        if let Some(k) = self.resolve(&rv) {
                            exp.allowed_extra.insert(k);
                        }
                    }
                }
            }
        }
        Ok(exp)
    }

    /// `_include` / `_revinclude` (with `:iterate`) over the matches.
    fn includes(
        &self,
        req: &Request,
        matches: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, String> {
        let specs: Vec<(bool, bool, &str)> = req
            .params
            .iter()
            .filter_map(|(k, v)| match k.as_str() {
                "_include" => Some((false, false, v.as_str())),
                "_include:iterate" => Some((false, true, v.as_str())),
                "_revinclude" => Some((true, false, v.as_str())),
                "_revinclude:iterate" => Some((true, true, v.as_str())),
                _ => None,
            })
            .collect();
        if specs.is_empty() {
            return Ok(BTreeSet::new());
        }
        let mut all: BTreeSet<String> = matches.clone();
        let mut frontier: BTreeSet<String> = matches.clone();
        let mut first = true;
        while !frontier.is_empty() {
            let mut added = BTreeSet::new();
            for (rev, iterate, spec) in &specs {
                if !first && !iterate {
                    continue;
                }
                let found = if *rev {
                    self.revinclude(spec, &frontier)?
                } else {
                    self.include(spec, &frontier)?
                };
                for k in found {
                    if !all.contains(&k) {
                        added.insert(k);
                    }
                }
            }
            all.extend(added.iter().cloned());
            frontier = added;
            first = false;
        }
        Ok(all.difference(matches).cloned().collect())
    }

    fn ref_params(t: &str, p: &str) -> Vec<&'static SearchParamDef> {
        if p == "*" {
            return registry::for_type(t)
                .map(|tp| {
                    tp.params()
                        .iter()
                        .filter(|d| d.kind == ParamType::Reference)
                        .collect()
                })
                .unwrap_or_default();
        }
        registry::param(t, p).into_iter().collect()
    }

    fn include(&self, spec: &str, from: &BTreeSet<String>) -> Result<BTreeSet<String>, String> {
        let mut out = BTreeSet::new();
        if spec == "*" {
            for key in from {
                let (t, _) = key.split_once('/').unwrap_or_default();
                out.extend(self.include(&format!("{t}:*"), &BTreeSet::from([key.clone()]))?);
            }
            return Ok(out);
        }
        let parts: Vec<&str> = spec.split(':').collect();
        let (src, p, target) = match parts.as_slice() {
            [s, p] => (*s, *p, None),
            [s, p, t] => (*s, *p, Some(*t)),
            _ => return Err(format!("bad _include {spec}")),
        };
        let defs = Self::ref_params(src, p);
        for key in from {
            if !key.starts_with(&format!("{src}/")) {
                continue;
            }
            let res = self.get(key).expect("stored");
            for def in &defs {
                for rv in self.refs_of(def, res) {
                    if let Some(k) = self.resolve(&rv) {
                        if target.is_none_or(|t| k.starts_with(&format!("{t}/"))) {
                            out.insert(k);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn revinclude(&self, spec: &str, to: &BTreeSet<String>) -> Result<BTreeSet<String>, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let (src, p, target) = match parts.as_slice() {
            [s, p] => (*s, *p, None),
            [s, p, t] => (*s, *p, Some(*t)),
            _ => return Err(format!("bad _revinclude {spec}")),
        };
        let defs = Self::ref_params(src, p);
        let mut out = BTreeSet::new();
        for r in self.of_type(src) {
            let hit = defs.iter().any(|def| {
                self.refs_of(def, r).iter().any(|rv| {
                    self.resolve(rv).is_some_and(|k| {
                        to.contains(&k) && target.is_none_or(|t| k.starts_with(&format!("{t}/")))
                    })
                })
            });
            if hit {
                out.insert(format!("{src}/{}", r["id"].as_str().unwrap_or("")));
            }
        }
        Ok(out)
    }

    /// The sort value of `key` for one resource: the lowest value when
    /// ascending, the highest when descending (dates: the low end of the
    /// earliest range, or the high end of the latest).
    pub fn sort_value(&self, key: &str, code: &str, desc: bool) -> Option<SortVal> {
        let res = self.get(key)?;
        let (t, _) = key.split_once('/')?;
        let def = registry::param(t, code)?;
        let items = param_items(def, res);
        let mut vals: Vec<SortVal> = Vec::new();
        for (ty, v, target) in &items {
            match def.kind {
                ParamType::Date => vals.extend(
                    dates(ty, v)
                        .into_iter()
                        .map(|r| SortVal::Num(if desc { r.high } else { r.low } as f64)),
                ),
                ParamType::String => {
                    vals.extend(strings(ty, v).iter().map(|s| SortVal::Text(norm(s))))
                }
                ParamType::Token => {
                    let mut toks = Tokens::default();
                    tokens(ty, v, &mut toks);
                    vals.extend(
                        toks.toks
                            .into_iter()
                            .filter_map(|t| t.code.map(SortVal::Text)),
                    );
                }
                ParamType::Number => vals.extend(number(v).map(SortVal::Num)),
                // Quantities sort by magnitude: in canonical units when the
                // UCUM unit converts, else as recorded.
                ParamType::Quantity => vals.extend(quantity(ty, v).map(|q| {
                    let canon = (q.system.as_deref() == Some(UCUM))
                        .then(|| q.code.as_deref().and_then(|c| canonical(q.value, c)))
                        .flatten();
                    SortVal::Num(canon.map_or(q.value, |(v, _)| v))
                })),
                ParamType::Reference => vals.extend(
                    references(ty, v, target.as_deref())
                        .into_iter()
                        .filter_map(|r| Some(SortVal::Text(format!("{}/{}", r.rtype?, r.id?)))),
                ),
                ParamType::Uri => vals.extend(v.as_str().map(|s| SortVal::Text(s.to_string()))),
                _ => {}
            }
        }
        let cmp = |a: &SortVal, b: &SortVal| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
        if desc {
            vals.into_iter().max_by(cmp)
        } else {
            vals.into_iter().min_by(cmp)
        }
    }

    /// Whether `order` (the matches as returned) is sorted by `keys`, with
    /// resources lacking a value either all first or all last per key.
    pub fn is_sorted(&self, order: &[String], keys: &[(String, bool)]) -> Result<(), String> {
        let vals: Vec<Vec<Option<SortVal>>> = order
            .iter()
            .map(|k| {
                keys.iter()
                    .map(|(code, desc)| self.sort_value(k, code, *desc))
                    .collect()
            })
            .collect();
        let mut last_err = String::new();
        for missing_last in [true, false] {
            let cmp = |a: &[Option<SortVal>], b: &[Option<SortVal>]| {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let desc = keys[i].1;
                    let o = match (x, y) {
                        (None, None) => std::cmp::Ordering::Equal,
                        (None, Some(_)) if missing_last => std::cmp::Ordering::Greater,
                        (None, Some(_)) => std::cmp::Ordering::Less,
                        (Some(_), None) if missing_last => std::cmp::Ordering::Less,
                        (Some(_), None) => std::cmp::Ordering::Greater,
                        (Some(x), Some(y)) => {
                            let o = x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal);
                            if desc {
                                o.reverse()
                            } else {
                                o
                            }
                        }
                    };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            };
            match (1..vals.len())
                .find(|&i| cmp(&vals[i - 1], &vals[i]) == std::cmp::Ordering::Greater)
            {
                None => return Ok(()),
                Some(i) => {
                    last_err = format!(
                        "out of order at {}: {} {:?} before {} {:?}",
                        i,
                        order[i - 1],
                        vals[i - 1],
                        order[i],
                        vals[i]
                    )
                }
            }
        }
        Err(last_err)
    }
}
