//! The MLLP client: one connection, one message at a time, each answered
//! by one ACK frame.

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

use super::codec::{encode_frame, MllpDecoder};
use super::{MllpConfig, MllpError};
use crate::message::Message;

pub struct MllpClient {
    stream: TcpStream,
    buf: BytesMut,
    decoder: MllpDecoder,
    config: MllpConfig,
}

impl MllpClient {
    /// Connects within [`MllpConfig::connect_timeout`].
    pub async fn connect(addr: impl ToSocketAddrs, config: MllpConfig) -> Result<Self, MllpError> {
        let stream = tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| MllpError::Timeout("connecting"))??;
        let _ = stream.set_nodelay(true);
        Ok(MllpClient {
            stream,
            buf: BytesMut::with_capacity(4096),
            decoder: MllpDecoder::new(config.max_message_size),
            config,
        })
    }

    /// Sends one message and returns the ACK payload (unframed), within
    /// `write_timeout` for sending and `response_timeout` for the answer.
    pub async fn send(&mut self, message: &[u8]) -> Result<Vec<u8>, MllpError> {
        let framed = encode_frame(message)?;
        tokio::time::timeout(self.config.write_timeout, self.stream.write_all(&framed))
            .await
            .map_err(|_| MllpError::Timeout("sending"))??;
        let deadline = tokio::time::Instant::now() + self.config.response_timeout;
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf)? {
                return Ok(frame.to_vec());
            }
            let n = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf))
                .await
                .map_err(|_| MllpError::Timeout("waiting for the acknowledgement"))??;
            if n == 0 {
                return Err(if self.decoder.in_frame(&self.buf) {
                    MllpError::Truncated
                } else {
                    MllpError::Closed
                });
            }
        }
    }

    /// Sends a message and parses the ACK.
    pub async fn send_message(&mut self, message: &Message) -> Result<Message, MllpError> {
        let ack = self.send(&message.to_bytes()).await?;
        Ok(Message::parse(&ack)?)
    }

    /// Writes raw bytes without framing (for tests of hostile peers).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), MllpError> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }
}
