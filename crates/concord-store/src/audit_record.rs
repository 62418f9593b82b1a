//! One audited access: the compact record the audit log stores (see
//! [`AuditRecord::encode`]) and the FHIR AuditEvent rendered from it on
//! read, shaped by IHE Basic Audit Log Patterns (BALP): type/subtype,
//! action, recorded, outcome, agent (who, requestor, network address),
//! source (this Concord) and entities (the patient, the resource touched,
//! the query of a search, base64).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{timestamp, CompartmentIndex, DateIndex, IndexRows, ReferenceIndex, TokenIndex};

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

    /// The action of a `code`.
    pub fn from_code(code: &str) -> Option<Action> {
        Some(match code {
            "C" => Action::Create,
            "R" => Action::Read,
            "U" => Action::Update,
            "D" => Action::Delete,
            "E" => Action::Execute,
            _ => return None,
        })
    }
}

impl Category {
    /// The category's code in the compact record.
    pub fn code(self) -> &'static str {
        match self {
            Category::Rest => "rest",
            Category::Login => "login",
            Category::Logout => "logout",
            Category::TokenIssue => "token",
            Category::Export => "export",
            Category::Emergency => "emergency",
        }
    }

    /// The category of a `code`.
    pub fn from_code(code: &str) -> Option<Category> {
        Some(match code {
            "rest" => Category::Rest,
            "login" => Category::Login,
            "logout" => Category::Logout,
            "token" => Category::TokenIssue,
            "export" => Category::Export,
            "emergency" => Category::Emergency,
            _ => return None,
        })
    }
}

/// The compact record's format version (its first element).
const FORMAT: u8 = 1;

/// The compact record as written: a JSON array (so it never starts like a
/// stored AuditEvent, which is an object), fields in this order.
#[derive(Serialize)]
struct CompactOut<'a>(
    u8,
    i64,
    &'a str,
    &'a str,
    &'a str,
    u16,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a [String],
    &'a str,
    Option<&'a str>,
);

/// The compact record as read back.
#[derive(Deserialize)]
struct CompactIn(
    u8,
    i64,
    String,
    String,
    String,
    u16,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    String,
    /// Added 27 Nov 2026: records written before have 17 fields.
    #[serde(default)]
    Option<String>,
);

/// Where the patients sit in [`CompactOut`] / [`CompactIn`].
const PATIENTS_FIELD: usize = 15;

/// Only the patients of a compact record: the fields before them are
/// skipped unbuilt, the rest not read ([`AuditRecord::patients_of`]).
struct PatientsOnly(Vec<String>);

impl<'de> Deserialize<'de> for PatientsOnly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = PatientsOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a compact audit record")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PatientsOnly, A::Error> {
                use serde::de::{Error, IgnoredAny};
                if seq.next_element::<u8>()? != Some(FORMAT) {
                    return Err(A::Error::custom("not a compact audit record"));
                }
                for _ in 1..PATIENTS_FIELD {
                    seq.next_element::<IgnoredAny>()?;
                }
                let patients = seq
                    .next_element::<Vec<String>>()?
                    .ok_or_else(|| A::Error::custom("no patients field"))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(PatientsOnly(patients))
            }
        }
        d.deserialize_seq(Visit)
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
    /// Why the caller says it acted, when it had to say (the reason given
    /// for break-the-glass access): `AuditEvent.purposeOfEvent.text`.
    pub reason: Option<String>,
}

impl AuditRecord {
    /// The compact record the audit log stores (and the ledger hashes):
    /// every field but the tenant, as one short JSON array.
    pub fn encode(&self) -> String {
        let a = &self.agent;
        let row = CompactOut(
            FORMAT,
            self.recorded,
            self.category.code(),
            &self.interaction,
            self.action.code(),
            self.status,
            &a.who,
            a.name.as_deref(),
            a.fhir_user.as_deref(),
            a.client_id.as_deref(),
            a.role.as_deref(),
            self.address.as_deref(),
            self.resource.as_deref(),
            self.query.as_deref(),
            self.operation.as_deref(),
            &self.patients,
            &self.request_id,
            self.reason.as_deref(),
        );
        // Serialising strings, numbers and options cannot fail.
        serde_json::to_string(&row).unwrap_or_default()
    }

    /// The patients an [`Self::encode`]d text names, without building the
    /// rest of the record (bulk patient links, patient-scoped searches of
    /// the log); `None` when the text is not a compact record.
    pub fn patients_of(text: &str) -> Option<Vec<String>> {
        serde_json::from_str::<PatientsOnly>(text).ok().map(|p| p.0)
    }

    /// The record of an [`Self::encode`]d text in `tenant`, or `None` when
    /// the text is not one (a full AuditEvent, or a damaged row).
    pub fn decode(tenant: &str, text: &str) -> Option<AuditRecord> {
        let c: CompactIn = serde_json::from_str(text).ok()?;
        if c.0 != FORMAT {
            return None;
        }
        Some(AuditRecord {
            tenant: tenant.to_string(),
            recorded: c.1,
            category: Category::from_code(&c.2)?,
            interaction: c.3,
            action: Action::from_code(&c.4)?,
            status: c.5,
            agent: Agent {
                who: c.6,
                name: c.7,
                fhir_user: c.8,
                client_id: c.9,
                role: c.10,
            },
            address: c.11,
            resource: c.12,
            query: c.13,
            operation: c.14,
            patients: c.15,
            request_id: c.16,
            reason: c.17,
        })
    }

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
        let mut event = json!({
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
        });
        if let Some(reason) = &self.reason {
            // Break-the-glass: emergency treatment (HL7 v3 ActReason ETREAT),
            // with the words the caller gave.
            let mut purpose = json!({"text": reason});
            if self.category == Category::Emergency {
                purpose["coding"] = json!([{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    "code": "ETREAT",
                    "display": "Emergency Treatment",
                }]);
            }
            event["purposeOfEvent"] = json!([purpose]);
        }
        event
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

    #[test]
    fn the_compact_record_round_trips() {
        let r = AuditRecord {
            tenant: "t".into(),
            recorded: 1_764_165_720_000,
            category: Category::TokenIssue,
            interaction: "token".into(),
            action: Action::Execute,
            status: 401,
            agent: Agent {
                who: "client:app".into(),
                name: Some("Dr \"Q\"".into()),
                fhir_user: None,
                client_id: Some("app".into()),
                role: None,
            },
            address: Some("10.0.0.1".into()),
            resource: None,
            query: Some("name=a,b&_count=2".into()),
            operation: Some("$everything".into()),
            patients: vec!["p1".into(), "p2".into()],
            request_id: "r9".into(),
            reason: None,
        };
        let text = r.encode();
        assert!(text.starts_with('['));
        let back = AuditRecord::decode("t", &text).expect("decodes");
        assert_eq!(back.encode(), text);
        assert_eq!(back.to_resource("1"), r.to_resource("1"));
        assert!(AuditRecord::decode("t", "{\"resourceType\":\"AuditEvent\"}").is_none());
        assert!(AuditRecord::decode("t", "[2]").is_none());
        assert_eq!(
            AuditRecord::patients_of(&text),
            Some(vec!["p1".to_string(), "p2".to_string()])
        );
        let none = AuditRecord {
            patients: Vec::new(),
            ..r
        };
        assert_eq!(AuditRecord::patients_of(&none.encode()), Some(Vec::new()));
        // A record written before the reason field existed (17 fields).
        let old = text
            .strip_suffix(",null]")
            .map(|t| format!("{t}]"))
            .expect("ends with the reason");
        let back = AuditRecord::decode("t", &old).expect("old records decode");
        assert_eq!(back.reason, None);
        assert_eq!(back.request_id, "r9");
        assert_eq!(
            AuditRecord::patients_of(&old),
            Some(vec!["p1".into(), "p2".into()])
        );
        for not_a_record in [
            "{\"resourceType\":\"AuditEvent\"}",
            "[2]",
            "[1,2]",
            "",
            "[1",
        ] {
            assert_eq!(
                AuditRecord::patients_of(not_a_record),
                None,
                "{not_a_record}"
            );
        }
    }

    #[test]
    fn an_emergency_access_carries_its_reason_as_the_purpose_of_event() {
        let r = AuditRecord {
            tenant: "t".into(),
            recorded: 1_764_165_720_000,
            category: Category::Emergency,
            interaction: "operation".into(),
            action: Action::Execute,
            status: 200,
            agent: Agent {
                who: "user:u7".into(),
                ..Agent::default()
            },
            address: None,
            resource: Some("Patient/p1".into()),
            query: None,
            operation: Some("$break-glass".into()),
            patients: vec!["p1".into()],
            request_id: "r1".into(),
            reason: Some("unresponsive in the emergency department".into()),
        };
        let back = AuditRecord::decode("t", &r.encode()).expect("decodes");
        assert_eq!(back.reason, r.reason);
        let event = back.to_resource("5");
        let purpose = &event["purposeOfEvent"][0];
        assert_eq!(purpose["text"], "unresponsive in the emergency department");
        assert_eq!(purpose["coding"][0]["code"], "ETREAT");
        assert_eq!(event["subtype"][0]["code"], "emergency");
        let plain = AuditRecord {
            reason: None,
            category: Category::Rest,
            ..r
        };
        assert!(plain.to_resource("6").get("purposeOfEvent").is_none());
    }
}
