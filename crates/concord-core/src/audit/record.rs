//! The audited-access record lives in `concord_store::audit_record` (the
//! stores render its AuditEvent on read); this module keeps the check that
//! its hand-made search-index rows are what `concord-search` extracts.

pub use concord_store::audit_record::{Action, Agent, AuditRecord, Category};

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
            reason: None,
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
