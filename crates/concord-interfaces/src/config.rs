//! Interface configuration: the outbound endpoints, read from a JSON file
//! (`concord serve --hl7v2-config interfaces.json`). See docs/hl7v2.md.

use std::time::Duration;

use serde::Deserialize;

/// What an endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// Laboratory orders: OML^O21 for signed ServiceRequests.
    Lab,
    /// Immunization registry: VXU^V04 for new Immunizations.
    Registry,
}

impl EndpointKind {
    pub fn code(self) -> &'static str {
        match self {
            EndpointKind::Lab => "lab",
            EndpointKind::Registry => "registry",
        }
    }
}

/// One outbound HL7 v2 endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// A short name (letters, digits, `-`, `.`): part of record ids.
    pub name: String,
    /// `host:port` of the receiver's MLLP listener.
    pub address: String,
    pub kind: EndpointKind,
    /// MSH-3 / MSH-4 (Concord) and MSH-5 / MSH-6 (the receiver).
    #[serde(default = "default_application")]
    pub sending_application: String,
    #[serde(default)]
    pub sending_facility: String,
    #[serde(default)]
    pub receiving_application: String,
    #[serde(default)]
    pub receiving_facility: String,
    /// MSH-11: `P` (production), `T` (training) or `D` (debugging).
    #[serde(default = "default_processing_id")]
    pub processing_id: String,
    /// Lab endpoints: send every signed order, not only those whose
    /// category is laboratory.
    #[serde(default)]
    pub all_orders: bool,
    /// Attempts (connection errors, timeouts) before a message is `failed`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt up to `retry_max_ms`.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Time from sending to the complete ACK.
    #[serde(default = "default_ack_timeout_ms")]
    pub ack_timeout_ms: u64,
}

fn default_application() -> String {
    "CONCORD".into()
}
fn default_processing_id() -> String {
    "P".into()
}
fn default_max_attempts() -> u32 {
    20
}
fn default_retry_initial_ms() -> u64 {
    1_000
}
fn default_retry_max_ms() -> u64 {
    300_000
}
fn default_connect_timeout_ms() -> u64 {
    10_000
}
fn default_ack_timeout_ms() -> u64 {
    30_000
}
fn default_poll_ms() -> u64 {
    500
}

impl EndpointConfig {
    /// The delay before attempt `attempts + 1` (exponential, capped).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(20);
        let ms = self
            .retry_initial_ms
            .saturating_mul(1u64 << shift)
            .min(self.retry_max_ms.max(self.retry_initial_ms));
        Duration::from_millis(ms)
    }
}

/// Every interface setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfacesConfig {
    #[serde(default)]
    pub endpoints: Vec<EndpointConfig>,
    /// How often the change feed and the queues are looked at when idle.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
}

impl Default for InterfacesConfig {
    fn default() -> Self {
        InterfacesConfig {
            endpoints: Vec::new(),
            poll_interval_ms: default_poll_ms(),
        }
    }
}

impl InterfacesConfig {
    /// Parses and checks a JSON configuration.
    pub fn from_json(text: &str) -> Result<InterfacesConfig, String> {
        let config: InterfacesConfig =
            serde_json::from_str(text).map_err(|e| format!("interface configuration: {e}"))?;
        config.check()?;
        Ok(config)
    }

    /// Names are unique and id-safe, addresses look like `host:port`.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for e in &self.endpoints {
            let ok = !e.name.is_empty()
                && e.name.len() <= 20
                && e.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(format!(
                    "endpoint name '{}': 1-20 characters of A-Z, a-z, 0-9, '-' and '.'",
                    e.name
                ));
            }
            if !seen.insert(e.name.clone()) {
                return Err(format!("endpoint name '{}' is used twice", e.name));
            }
            let port_ok = e
                .address
                .rsplit_once(':')
                .map(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
                .unwrap_or(false);
            if !port_ok {
                return Err(format!(
                    "endpoint '{}': address must be host:port, not '{}'",
                    e.name, e.address
                ));
            }
            if !matches!(e.processing_id.as_str(), "P" | "T" | "D") {
                return Err(format!("endpoint '{}': processing_id is P, T or D", e.name));
            }
        }
        Ok(())
    }

    pub fn endpoint(&self, name: &str) -> Option<&EndpointConfig> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_checks_names() {
        let c = InterfacesConfig::from_json(
            r#"{"endpoints": [{"name": "lab1", "address": "127.0.0.1:2576", "kind": "lab",
                "receiving_application": "LIS"}]}"#,
        )
        .unwrap();
        assert_eq!(c.endpoints[0].sending_application, "CONCORD");
        assert_eq!(c.endpoints[0].kind, EndpointKind::Lab);
        assert_eq!(c.endpoints[0].backoff(1), Duration::from_millis(1000));
        assert_eq!(c.endpoints[0].backoff(3), Duration::from_millis(4000));
        assert_eq!(c.endpoints[0].backoff(30), Duration::from_millis(300_000));
        assert!(InterfacesConfig::from_json(
            r#"{"endpoints": [{"name": "a b", "address": "x:1", "kind": "lab"}]}"#
        )
        .is_err());
        assert!(InterfacesConfig::from_json(
            r#"{"endpoints": [{"name": "a", "address": "nohost", "kind": "registry"}]}"#
        )
        .is_err());
        assert!(InterfacesConfig::from_json(r#"{"endpoint": []}"#).is_err());
    }
}
