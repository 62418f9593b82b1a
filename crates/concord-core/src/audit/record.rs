//! One audited access as a FHIR AuditEvent shaped by IHE Basic Audit Log
//! Patterns (BALP): type/subtype, action, recorded, outcome, agent (who,
//! requestor, network address), source (this Concord) and entities (the
//! patient, the resource touched, the query of a search, base64).

use base64::Engine as _;
use concord_store::{
    timestamp, CompartmentIndex, DateIndex, IndexRows, ReferenceIndex, TokenIndex,
};
use serde_json::{json, Value};

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const RESTFUL: &str = "http://hl7.org/fhir/restful-interaction";
const ACTOR: &str = "urn:concord:actor";

/// What kind of event: the AuditEvent `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// A FHIR REST interaction (subtype: the interaction).
    Rest,
    /// A sign-in attempt.
    Login,
    /// A sign-out (token or session revoked).
    Logout,
    /// An access token issued (or refused) at the token endpoint.
    TokenIssue,
    /// Data leaving the system in bulk.
    Export,
    /// Break-the-glass access.
    Emergency,
}

/// The AuditEvent `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Execute,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Create => "C",
            Action::Read => "R",
            Action::Update => "U",
            Action::Delete => "D",
            Action::Execute => "E",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    /// `user:{account}`, `client:{id}`, `operator:{name}` or `anonymous`.
    pub who: String,
    /// Display name, when known at the time.
    pub name: Option<String>,
    /// FHIR reference of the user (`Practitioner/…`).
    pub fhir_user: Option<String>,
    /// The app the token was issued to.
    pub client_id: Option<String>,
    /// The account's role, when a user.
    pub role: Option<String>,
}

impl Agent {
    pub fn anonymous() -> Agent {
        Agent {
            who: "anonymous".into(),
            ..Agent::default()
        }
    }
}

/// One audited access.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub tenant: String,
    /// Milliseconds since the epoch.
    pub recorded: i64,
    pub category: Category,
    /// The subtype code: a FHIR restful interaction (`read`, `search-type`,
    /// `transaction`, `operation`, …), or `login`/`logout`/`token`.
    pub interaction: String,
    pub action: Action,
    /// HTTP status of the answer.
    pub status: u16,
    pub agent: Agent,
    /// Caller's network address.
    pub address: Option<String>,
    /// The resource touched, `Type/id` or `Type/id/_history/v`.
    pub resource: Option<String>,
    /// The query of a search, as sent.
    pub query: Option<String>,
    /// The operation name, e.g. `$everything`.
    pub operation: Option<String>,
    /// Ids of the patients whose data was touched.
    pub patients: Vec<String>,
    /// The request id.
    pub request_id: String,
}

impl AuditRecord {
    /// The AuditEvent `outcome`: 0 success, 4 minor failure (4xx), 8 serious failure (5xx).
    pub fn outcome(&self) -> &'static str {
        match self.status {
            0..=399 => "0",
            400..=499 => "4",
            _ => "8",
        }
    }

    fn event_type(&self) -> (Value, Value) {
        let dcm =
            |code: &str, display: &str| json!({"system": DCM, "code": code, "display": display});
        match self.category {
            Category::Rest => (
                json!({"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}),
                json!({"system": RESTFUL, "code": self.interaction}),
            ),
            Category::Login => (dcm("110114", "User Authentication"), dcm("110122", "Login")),
            Category::Logout => (
                dcm("110114", "User Authentication"),
                dcm("110123", "Logout"),
            ),
            Category::TokenIssue => (
                dcm("110114", "User Authentication"),
                json!({"system": "urn:concord:audit-subtype", "code": "token", "display": "Access token issued"}),
            ),
            Category::Export => (
                dcm("110106", "Export"),
                json!({"system": RESTFUL, "code": self.interaction}),
            ),
            Category::Emergency => (
                json!({"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}),
                json!({"system": "urn:concord:audit-subtype", "code": "emergency", "display": "Emergency access (break-the-glass)"}),
            ),
        }
    }

    /// The AuditEvent resource, with id `id`.
    pub fn to_resource(&self, id: &str) -> Value {
        let (event_type, subtype) = self.event_type();
        let mut who = json!({
            "identifier": {"system": ACTOR, "value": self.agent.who},
        });
        if let Some(r) = &self.agent.fhir_user {
            who["reference"] = json!(r);
        }
        if let Some(n) = &self.agent.name {
            who["display"] = json!(n);
        }
        let mut agent = json!({
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP", "display": "information recipient"}]},
            "who": who,
            "altId": self.agent.who,
            "requestor": true,
        });
        if let Some(role) = &self.agent.role {
            agent["role"] = json!([{"coding": [{"system": "urn:concord:role", "code": role}]}]);
        }
        if let Some(address) = &self.address {
            agent["network"] = json!({"address": address, "type": "2"});
        }
        let mut agents = vec![agent];
        if let Some(client) = &self.agent.client_id {
            agents.push(json!({
                "type": {"coding": [{"system": DCM, "code": "110150", "display": "Application"}]},
                "who": {"identifier": {"system": "urn:concord:client", "value": client}},
                "requestor": false,
            }));
        }
        let mut entities: Vec<Value> = self
            .patients
            .iter()
            .map(|p| {
                json!({
                    "what": {"reference": format!("Patient/{p}")},
                    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
                    "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
                })
            })
            .collect();
        if let Some(r) = &self.resource {
            entities.push(json!({
                "what": {"reference": r},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4", "display": "Domain Resource"},
            }));
        }
        if let Some(q) = &self.query {
            entities.push(json!({
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query"},
                "query": base64::engine::general_purpose::STANDARD.encode(q.as_bytes()),
            }));
        }
        if let Some(op) = &self.operation {
            entities.push(json!({
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "21", "display": "Job"},
                "name": op,
            }));
        }
        entities.push(json!({
            "what": {"identifier": {"system": "urn:concord:request-id", "value": self.request_id}},
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "4", "display": "Other"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "3", "display": "Report"},
        }));
        json!({
            "resourceType": "AuditEvent",
            "id": id,
            "type": event_type,
            "subtype": [subtype],
            "action": self.action.code(),
            "recorded": timestamp::format_instant(self.recorded),
            "outcome": self.outcome(),
            "outcomeDesc": format!("HTTP {}", self.status),
            "agent": agents,
            "source": {
                "site": "concord",
                "observer": {"display": "Concord"},
                "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4", "display": "Application Server"}],
            },
            "entity": entities,
        })
    }

    /// The search-index rows of [`Self::to_resource`], made directly (the same
    /// rows `concord-search` extracts for these parameters; a unit test
    /// compares them) because FHIRPath per event would cost more than the
    /// access being audited.
    pub fn index_rows(&self) -> IndexRows {
        let mut rows = IndexRows::default();
        let token = |param: &str, system: Option<&str>, code: &str| TokenIndex {
            param: param.into(),
            system: system.map(str::to_string),
            code: code.into(),
        };
        let (event_type, subtype) = self.event_type();
        for (param, coding) in [("type", &event_type), ("subtype", &subtype)] {
            if let Some(code) = coding.get("code").and_then(Value::as_str) {
                rows.tokens.push(token(
                    param,
                    coding.get("system").and_then(Value::as_str),
                    code,
                ));
            }
        }
        // `code` elements index without a system.
        rows.tokens.push(token("action", None, self.action.code()));
        rows.tokens.push(token("outcome", None, self.outcome()));
        rows.tokens.push(token("altid", None, &self.agent.who));
        rows.dates.push(DateIndex {
            param: "date".into(),
            low: self.recorded,
            high: self.recorded,
        });
        let reference = |param: &str, r: &str| {
            let mut parts = r.split('/');
            ReferenceIndex {
                param: param.into(),
                target_type: parts.next().map(str::to_string),
                target_id: parts.next().map(str::to_string),
                url: None,
            }
        };
        for p in &self.patients {
            let r = format!("Patient/{p}");
            rows.references.push(reference("patient", &r));
            rows.references.push(reference("entity", &r));
            rows.compartments.push(CompartmentIndex {
                compartment_type: "Patient".into(),
                compartment_id: p.clone(),
            });
        }
        if let Some(r) = &self.resource {
            rows.references.push(reference("entity", r));
        }
        if let Some(r) = &self.agent.fhir_user {
            rows.references.push(reference("agent", r));
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AuditRecord {
        AuditRecord {
            tenant: "t".into(),
            recorded: 1_764_165_720_000,
            category: Category::Rest,
            interaction: "read".into(),
            action: Action::Read,
            status: 200,
            agent: Agent {
                who: "user:u1".into(),
                name: None,
                fhir_user: Some("Practitioner/d1".into()),
                client_id: Some("app".into()),
                role: Some("physician".into()),
            },
            address: Some("127.0.0.1".into()),
            resource: Some("Observation/o1".into()),
            query: None,
            operation: None,
            patients: vec!["p1".into()],
            request_id: "r1".into(),
        }
    }

    /// The rows made by hand are the rows `concord-search` extracts for
    /// the same parameters, so searches find AuditEvents either way.
    #[test]
    fn direct_index_rows_match_extraction() {
        let r = sample();
        let resource = r.to_resource("e1");
        let extracted = concord_search::index_rows(&resource);
        let direct = r.index_rows();
        let params = [
            "date", "action", "outcome", "type", "subtype", "altid", "entity", "agent",
        ];
        for p in params {
            let mut a: Vec<String> = direct
                .tokens
                .iter()
                .filter(|t| t.param == p)
                .map(|t| format!("{:?}|{}", t.system, t.code))
                .chain(
                    direct
                        .references
                        .iter()
                        .filter(|x| x.param == p)
                        .map(|x| format!("{:?}/{:?}", x.target_type, x.target_id)),
                )
                .chain(
                    direct
                        .dates
                        .iter()
                        .filter(|d| d.param == p)
                        .map(|d| format!("{}-{}", d.low, d.high)),
                )
                .collect();
            let mut b: Vec<String> = extracted
                .tokens
                .iter()
                .filter(|t| t.param == p)
                .map(|t| format!("{:?}|{}", t.system, t.code))
                .chain(
                    extracted
                        .references
                        .iter()
                        .filter(|x| x.param == p && x.url.is_none())
                        .map(|x| format!("{:?}/{:?}", x.target_type, x.target_id)),
                )
                .chain(
                    extracted
                        .dates
                        .iter()
                        .filter(|d| d.param == p)
                        .map(|d| format!("{}-{}", d.low, d.high)),
                )
                .collect();
            a.sort();
            a.dedup();
            b.sort();
            b.dedup();
            assert_eq!(a, b, "parameter {p}");
        }
        assert!(direct
            .compartments
            .iter()
            .any(|c| c.compartment_type == "Patient" && c.compartment_id == "p1"));
        assert!(direct
            .references
            .iter()
            .any(|x| x.param == "patient" && x.target_id.as_deref() == Some("p1")));
    }

    #[test]
    fn outcome_follows_the_status() {
        let mut r = sample();
        assert_eq!(r.outcome(), "0");
        r.status = 403;
        assert_eq!(r.outcome(), "4");
        r.status = 503;
        assert_eq!(r.outcome(), "8");
        assert_eq!(r.to_resource("x")["outcome"], "8");
    }
}
