//! MLLP (Minimal Lower Layer Protocol) transport: `0x0B` message `0x1C
//! 0x0D` frames over TCP, a concurrent listener and a client.

mod client;
mod codec;
mod server;

pub use client::MllpClient;
pub use codec::{encode_frame, MllpDecoder, END_BLOCK, START_BLOCK};
pub use server::{AutoAck, MessageHandler, MllpServer, ServerHandle};

use std::time::Duration;

/// Limits shared by the server and the client.
#[derive(Debug, Clone)]
pub struct MllpConfig {
    /// Largest message accepted (payload bytes between the frame bytes).
    pub max_message_size: usize,
    /// Server: a connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Server: a message must arrive completely within this time of its
    /// first byte, however steadily the bytes trickle in (slow senders).
    pub frame_timeout: Duration,
    /// Writing one ACK (server) or message (client) must finish in this time.
    pub write_timeout: Duration,
    /// Server: connections served at once; further ones wait in the
    /// kernel's accept backlog.
    pub max_connections: usize,
    /// Client: time to establish the TCP connection.
    pub connect_timeout: Duration,
    /// Client: time from the end of sending to the complete ACK.
    pub response_timeout: Duration,
}

impl Default for MllpConfig {
    fn default() -> Self {
        MllpConfig {
            max_message_size: 4 * 1024 * 1024,
            idle_timeout: Duration::from_secs(300),
            frame_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_connections: 512,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
        }
    }
}

/// Transport errors. None carries message contents.
#[derive(Debug, thiserror::Error)]
pub enum MllpError {
    #[error("{count} bytes outside an MLLP frame (expected 0x0B)")]
    Garbage { count: usize },
    #[error("frame end byte 0x1C not followed by 0x0D")]
    BadFrameEnd,
    #[error("a new frame (0x0B) started before the previous one ended")]
    UnexpectedStart,
    #[error("message exceeds the maximum size of {limit} bytes")]
    Oversize {
        limit: usize,
        /// The first bytes of the message (to read its MSH for an AR ACK).
        head: Vec<u8>,
    },
    #[error("the payload contains an MLLP frame byte (0x0B or 0x1C)")]
    FrameByteInPayload,
    #[error("connection closed in the middle of a frame")]
    Truncated,
    #[error("connection closed before the acknowledgement arrived")]
    Closed,
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("the acknowledgement did not parse: {0}")]
    BadAck(#[from] crate::error::ParseError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
