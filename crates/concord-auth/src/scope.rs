//! SMART App Launch scopes, v1 (`patient/Observation.read`) and v2
//! (`patient/Observation.rs`, `user/*.cruds`, `patient/Observation.rs?category=laboratory`).

use std::fmt;

use crate::perms::Perms;

/// Whose data a resource scope reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeContext {
    /// The patient in the launch context only.
    Patient,
    /// Whatever the signed-in user may see.
    User,
    /// A backend service: no user, no patient context.
    System,
}

impl ScopeContext {
    pub fn code(self) -> &'static str {
        match self {
            ScopeContext::Patient => "patient",
            ScopeContext::User => "user",
            ScopeContext::System => "system",
        }
    }
}

/// `context/Type.perms[?param=value&…]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceScope {
    pub context: ScopeContext,
    /// `None` for `*`.
    pub resource_type: Option<String>,
    pub perms: Perms,
    /// Granular v2 restriction: search parameters every resource must match.
    pub filter: Vec<(String, String)>,
}

impl ResourceScope {
    /// Whether this scope names `resource_type` (or all types).
    pub fn covers_type(&self, resource_type: &str) -> bool {
        self.resource_type
            .as_deref()
            .is_none_or(|t| t == resource_type)
    }
}

impl fmt::Display for ResourceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}.{}",
            self.context.code(),
            self.resource_type.as_deref().unwrap_or("*"),
            self.perms
        )?;
        for (i, (k, v)) in self.filter.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// One scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Resource(ResourceScope),
    OpenId,
    FhirUser,
    Profile,
    /// EHR launch: the `launch` parameter names the context.
    Launch,
    /// Standalone: ask for a patient to be chosen.
    LaunchPatient,
    LaunchEncounter,
    OfflineAccess,
    OnlineAccess,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Resource(r) => r.fmt(f),
            Scope::OpenId => f.write_str("openid"),
            Scope::FhirUser => f.write_str("fhirUser"),
            Scope::Profile => f.write_str("profile"),
            Scope::Launch => f.write_str("launch"),
            Scope::LaunchPatient => f.write_str("launch/patient"),
            Scope::LaunchEncounter => f.write_str("launch/encounter"),
            Scope::OfflineAccess => f.write_str("offline_access"),
            Scope::OnlineAccess => f.write_str("online_access"),
        }
    }
}

fn valid_type(name: &str) -> bool {
    name == "*"
        || (name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn valid_param_part(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:|/%".contains(c))
}

impl Scope {
    /// Parses one scope. `Ok(None)` for a well-formed scope Concord does not
    /// use (OAuth lets servers ignore those); `Err` for a malformed resource scope.
    pub fn parse(text: &str) -> Result<Option<Scope>, String> {
        let simple = match text {
            "openid" => Some(Scope::OpenId),
            "fhirUser" => Some(Scope::FhirUser),
            "profile" => Some(Scope::Profile),
            "launch" => Some(Scope::Launch),
            "launch/patient" => Some(Scope::LaunchPatient),
            "launch/encounter" => Some(Scope::LaunchEncounter),
            "offline_access" => Some(Scope::OfflineAccess),
            "online_access" => Some(Scope::OnlineAccess),
            _ => None,
        };
        if simple.is_some() {
            return Ok(simple);
        }
        let Some((context, rest)) = text.split_once('/') else {
            return Ok(None);
        };
        let context = match context {
            "patient" => ScopeContext::Patient,
            "user" => ScopeContext::User,
            "system" => ScopeContext::System,
            _ => return Ok(None),
        };
        let bad = || format!("malformed scope {text:?}");
        let (body, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let (rtype, perms) = body.split_once('.').ok_or_else(bad)?;
        if !valid_type(rtype) {
            return Err(bad());
        }
        let perms = match perms {
            "read" => Perms::parse("rs"),
            "write" => Perms::parse("cud"),
            "*" => Some(Perms::ALL),
            v2 => Perms::parse(v2).filter(|p| !p.is_empty()),
        }
        .ok_or_else(bad)?;
        let mut filter = Vec::new();
        if let Some(query) = query {
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').ok_or_else(bad)?;
                if !valid_param_part(k) || !valid_param_part(v) {
                    return Err(bad());
                }
                filter.push((k.to_string(), v.to_string()));
            }
            if filter.is_empty() {
                return Err(bad());
            }
        }
        Ok(Some(Scope::Resource(ResourceScope {
            context,
            resource_type: (rtype != "*").then(|| rtype.to_string()),
            perms,
            filter,
        })))
    }
}

/// A parsed, de-duplicated list of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses a space-separated scope string, dropping scopes Concord does
    /// not use; `Err` names the first malformed one.
    pub fn parse(text: &str) -> Result<ScopeSet, String> {
        let mut set = ScopeSet::default();
        for word in text.split_ascii_whitespace() {
            if let Some(scope) = Scope::parse(word)? {
                set.insert(scope);
            }
        }
        Ok(set)
    }

    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn resource_scopes(&self) -> impl Iterator<Item = &ResourceScope> {
        self.0.iter().filter_map(|s| match s {
            Scope::Resource(r) => Some(r),
            _ => None,
        })
    }

    /// Whether any resource scope uses `context`.
    pub fn has_context(&self, context: ScopeContext) -> bool {
        self.resource_scopes().any(|r| r.context == context)
    }

    /// Keeps only the scopes `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Scope) -> bool) {
        self.0.retain(keep);
    }

    /// What of `self` (requested) `allowed` permits: simple scopes present in
    /// both; each resource scope cut down to the permissions some allowed
    /// scope of the same context and type (or `*`) grants. A requested `*`
    /// type under an allowed specific type yields that specific type.
    pub fn narrowed_to(&self, allowed: &ScopeSet) -> ScopeSet {
        let mut out = ScopeSet::default();
        for scope in self.iter() {
            let Scope::Resource(req) = scope else {
                if allowed.contains(scope) {
                    out.insert(scope.clone());
                }
                continue;
            };
            for a in allowed.resource_scopes() {
                if a.context != req.context || !(a.filter.is_empty() || a.filter == req.filter) {
                    continue;
                }
                let resource_type = match (&req.resource_type, &a.resource_type) {
                    (_, None) => req.resource_type.clone(),
                    (Some(r), Some(t)) if r == t => Some(r.clone()),
                    (None, Some(t)) => Some(t.clone()),
                    _ => continue,
                };
                let perms = req.perms.intersect(a.perms);
                if perms.is_empty() {
                    continue;
                }
                let filter = if req.filter.is_empty() {
                    a.filter.clone()
                } else {
                    req.filter.clone()
                };
                out.insert(Scope::Resource(ResourceScope {
                    context: req.context,
                    resource_type,
                    perms,
                    filter,
                }));
            }
        }
        out
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            s.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(text: &str) -> ResourceScope {
        match Scope::parse(text) {
            Ok(Some(Scope::Resource(r))) => r,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn v1_scopes_map_to_v2_letters() {
        assert_eq!(
            rs("patient/Observation.read").to_string(),
            "patient/Observation.rs"
        );
        assert_eq!(rs("user/*.write").to_string(), "user/*.cud");
        assert_eq!(rs("system/*.*").to_string(), "system/*.cruds");
        assert_eq!(rs("user/Patient.*").perms, Perms::ALL);
    }

    #[test]
    fn v2_and_granular_scopes() {
        let s = rs("patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory");
        assert_eq!(s.context, ScopeContext::Patient);
        assert_eq!(s.resource_type.as_deref(), Some("Observation"));
        assert_eq!(s.filter.len(), 1);
        assert_eq!(s.filter[0].0, "category");
        let all = rs("user/*.cruds");
        assert!(all.covers_type("Condition") && all.resource_type.is_none());
        assert_eq!(
            rs("patient/Condition.rs?category=problem-list-item&clinical-status=active")
                .filter
                .len(),
            2
        );
    }

    #[test]
    fn malformed_resource_scopes_are_errors() {
        for bad in [
            "patient/Observation",
            "patient/Observation.",
            "patient/Observation.sr",
            "patient/Observation.rr",
            "patient/observation.rs",
            "user/*.xyz",
            "patient/Observation.rs?",
            "patient/Observation.rs?category",
            "patient/Obs-ervation.rs",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_scopes_are_ignored_and_sets_dedupe() {
        let set =
            ScopeSet::parse("openid  fhirUser email patient/*.rs patient/*.read launch/patient")
                .unwrap();
        assert_eq!(
            set.to_string(),
            "openid fhirUser patient/*.rs launch/patient"
        );
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(ScopeSet::parse("openid patient/X.q").is_err());
    }

    #[test]
    fn narrowing_to_what_is_allowed() {
        let allowed =
            ScopeSet::parse("openid fhirUser patient/*.rs user/Observation.cruds").unwrap();
        let req = ScopeSet::parse(
            "openid offline_access patient/Observation.cruds user/*.rs system/*.rs patient/Condition.read",
        )
        .unwrap();
        assert_eq!(
            req.narrowed_to(&allowed).to_string(),
            "openid patient/Observation.rs user/Observation.rs patient/Condition.rs"
        );
        let granular = ScopeSet::parse("patient/Observation.rs?category=vital-signs").unwrap();
        let g = ScopeSet::parse("patient/Observation.rs").unwrap();
        assert!(g
            .narrowed_to(&granular)
            .resource_scopes()
            .all(|r| r.filter.len() == 1));
    }
}
