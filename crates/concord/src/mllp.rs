//! The HL7 v2 MLLP listener of `concord serve --mllp-listen`.

use std::time::Duration;

use concord_core::Engine;
use concord_hl7v2::{MllpConfig, MllpServer, ServerHandle};
use concord_interfaces::{Hl7Inbound, InboundConfig};

use crate::cli::MllpArgs;

/// Starts the listener when `--mllp-listen` is set; prints its address.
pub async fn start(
    args: &MllpArgs,
    engine: Engine,
    tenant: String,
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
