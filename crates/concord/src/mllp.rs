//! The HL7 v2 interfaces of `concord serve`: the MLLP listener
//! (`--mllp-listen`) and the outbound service (`--hl7v2-config`).

use std::sync::Arc;
use std::time::Duration;

use concord_core::Engine;
use concord_hl7v2::{MllpConfig, MllpServer, ServerHandle};
use concord_interfaces::{
    Hl7Inbound, Hl7Outbound, InboundConfig, InterfacesConfig, Monitor, OutboundHandle,
};

use crate::cli::MllpArgs;

/// Reads `--hl7v2-config` (no file: no outbound endpoints).
pub fn load_config(args: &MllpArgs) -> Result<InterfacesConfig, String> {
    let Some(path) = &args.hl7v2_config else {
        return Ok(InterfacesConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    InterfacesConfig::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Starts the outbound service when endpoints are configured; prints them.
pub async fn start_outbound(
    engine: Engine,
    tenant: String,
    monitor: &Arc<Monitor>,
) -> Result<Option<OutboundHandle>, String> {
    let config = monitor.config().clone();
    if config.endpoints.is_empty() {
        return Ok(None);
    }
    for e in &config.endpoints {
        println!(
            "Concord HL7 v2 outbound endpoint: {} ({}) {}",
            e.name,
            e.kind.code(),
            e.address
        );
    }
    Hl7Outbound::new(engine, tenant, config, monitor.clone())
        .start()
        .await
        .map(Some)
        .map_err(|e| format!("cannot start the HL7 v2 outbound service: {e}"))
}

/// Starts the listener when `--mllp-listen` is set; prints its address.
pub async fn start(
    args: &MllpArgs,
    engine: Engine,
    tenant: String,
    monitor: Arc<Monitor>,
) -> Result<Option<ServerHandle>, String> {
    let Some(addr) = args.mllp_listen else {
        return Ok(None);
    };
    let config = MllpConfig {
        max_message_size: args.mllp_max_message_kb.max(1).saturating_mul(1024),
        idle_timeout: Duration::from_secs(args.mllp_idle_timeout_secs.max(1)),
        ..MllpConfig::default()
    };
    let inbound = Hl7Inbound::new(
        engine,
        InboundConfig {
            tenant,
            default_offset: args.hl7v2_default_offset.clone(),
            monitor,
        },
    );
    let server = MllpServer::bind(addr, config, inbound)
        .await
        .map_err(|e| format!("cannot listen for MLLP on {addr}: {e}"))?
        .spawn()
        .map_err(|e| format!("cannot start the MLLP listener: {e}"))?;
    println!("Concord HL7 v2 MLLP listener: {}", server.local_addr());
    Ok(Some(server))
}
