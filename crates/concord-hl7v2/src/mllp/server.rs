//! The MLLP listener.
//!
//! Each connection is served by its own task; messages on one connection
//! are handled strictly in order (the ACK is written before the next frame
//! is handled), connections run concurrently up to
//! [`MllpConfig::max_connections`].
//!
//! Behaviour on bad input:
//! * a frame that does not parse as HL7 is still handed to the handler
//!   (with the `ParseError`); [`AutoAck`] answers AR;
//! * a message over [`MllpConfig::max_message_size`] is never buffered
//!   beyond the limit: its first 4 KiB are kept, the rest is read and
//!   dropped up to the frame end, then it is answered with an AR ACK (its
//!   control id read from those 4 KiB when possible, ERR code 207 naming the
//!   limit) and the connection stays open; the handler never sees it. If
//!   the frame does not end within `frame_timeout`, the connection is
//!   closed without an answer;
//! * bytes outside a frame, a bad frame end or a frame cut by a new start
//!   block close the connection (the peer is out of sync);
//! * a connection idle for [`MllpConfig::idle_timeout`] is closed, as is
//!   one whose ACK cannot be written within `write_timeout`.
//!
//! Logs carry peer addresses, control ids and sizes, never contents.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::codec::{encode_frame, MllpDecoder};
use super::{MllpConfig, MllpError};
use crate::ack::{AckBuilder, AckCode, ErrorCode, ErrorDetail};
use crate::error::ParseError;
use crate::message::Message;

/// Receives every complete message and returns the ACK bytes to send back
/// (unframed). Store the message before returning an AA.
#[async_trait]
pub trait MessageHandler: Send + Sync + 'static {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8>;
}

/// Lets a shared or boxed handler (`Arc<dyn MessageHandler>`) serve.
#[async_trait]
impl<T: MessageHandler + ?Sized> MessageHandler for Arc<T> {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8> {
        (**self).handle(raw, parsed).await
    }
}

/// Acknowledges every parsed message AA and every unparsable one AR.
#[derive(Debug, Default, Clone, Copy)]
pub struct AutoAck;

#[async_trait]
impl MessageHandler for AutoAck {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8> {
        match parsed {
            Ok(m) => AckBuilder::new(&m).to_bytes(),
            Err(e) => AckBuilder::unparsable(raw, &e).to_bytes(),
        }
    }
}

pub struct MllpServer<H> {
    listener: TcpListener,
    config: MllpConfig,
    handler: Arc<H>,
}

/// A server running in the background.
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets each connection finish the message it is
    /// handling, and waits for them.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

impl<H: MessageHandler> MllpServer<H> {
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: MllpConfig,
        handler: H,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(MllpServer {
            listener,
            config,
            handler: Arc::new(handler),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Runs in a background task until [`ServerHandle::shutdown`].
    pub fn spawn(self) -> std::io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let (tx, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            self.run_until(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await
        });
        Ok(ServerHandle {
            addr,
            shutdown: tx,
            task,
        })
    }

    /// Serves until `shutdown` completes, then drains the connections.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(self.config.max_connections.max(1)));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                a = self.listener.accept() => a,
            };
            // Reap finished connection tasks.
            while tasks.try_join_next().is_some() {}
            match accepted {
                Ok((stream, peer)) => {
                    let handler = self.handler.clone();
                    let config = self.config.clone();
                    let stop = stop_rx.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        tracing::debug!(%peer, "mllp connection opened");
                        let reason = serve_connection(stream, handler, config, stop).await;
                        tracing::debug!(%peer, reason, "mllp connection closed");
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "mllp accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        Ok(())
    }
}

/// Serves one connection; returns why it ended (for the log).
async fn serve_connection<H: MessageHandler>(
    mut stream: TcpStream,
    handler: Arc<H>,
    config: MllpConfig,
    mut stop: watch::Receiver<bool>,
) -> &'static str {
    let _ = stream.set_nodelay(true);
    let mut decoder = MllpDecoder::new(config.max_message_size);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut frame_started: Option<tokio::time::Instant> = None;
    // The AR for an oversize message, sent once its frame has ended.
    let mut pending_ar: Option<Vec<u8>> = None;
    loop {
        loop {
            let was_discarding = decoder.is_discarding();
            let decoded = decoder.decode(&mut buf);
            if was_discarding && !decoder.is_discarding() {
                // The oversize frame has ended: answer it before anything
                // that followed it.
                if let Some(ar) = pending_ar.take() {
                    if let Err(reason) = write_frame(&mut stream, &ar, &config).await {
                        return reason;
                    }
                }
            }
            match decoded {
                Ok(Some(frame)) => {
                    let parsed = Message::parse(&frame);
                    let control_id = parsed
                        .as_ref()
                        .ok()
                        .and_then(|m| m.control_id().map(|c| truncate(&c)));
                    tracing::debug!(
                        control_id,
                        bytes = frame.len(),
                        parsed = parsed.is_ok(),
                        "mllp message received"
                    );
                    let ack = handler.handle(&frame, parsed).await;
                    if let Err(reason) = write_frame(&mut stream, &ack, &config).await {
                        return reason;
                    }
                }
                Ok(None) => break,
                Err(MllpError::Oversize { limit, head }) => {
                    tracing::warn!(
                        limit,
                        "mllp message over the size limit; discarding it, AR follows"
                    );
                    let ar = oversize_ack(&head, limit);
                    if decoder.is_discarding() {
                        pending_ar = Some(ar);
                    } else if let Err(reason) = write_frame(&mut stream, &ar, &config).await {
                        return reason;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mllp framing error; closing the connection");
                    let _ = stream.shutdown().await;
                    return "framing error";
                }
            }
        }
        if *stop.borrow() {
            return "server shutting down";
        }
        let now = tokio::time::Instant::now();
        let mut deadline = now + config.idle_timeout;
        if decoder.in_frame(&buf) {
            let started = *frame_started.get_or_insert(now);
            deadline = deadline.min(started + config.frame_timeout);
        } else {
            frame_started = None;
        }
        let read = tokio::select! {
            r = tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)) => r,
            _ = stop.changed() => return "server shutting down",
        };
        match read {
            Err(_) => {
                let _ = stream.shutdown().await;
                return if frame_started.is_some() {
                    "frame timeout"
                } else {
                    "idle timeout"
                };
            }
            Ok(Ok(0)) => {
                return if decoder.in_frame(&buf) {
                    tracing::warn!(bytes = buf.len(), "mllp connection closed mid-frame");
                    "closed mid-frame"
                } else {
                    "closed by peer"
                };
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return "read error",
        }
    }
}

async fn write_frame(
    stream: &mut TcpStream,
    payload: &[u8],
    config: &MllpConfig,
) -> Result<(), &'static str> {
    let framed = encode_frame(payload).map_err(|_| "handler returned an unframeable ACK")?;
    match tokio::time::timeout(config.write_timeout, stream.write_all(&framed)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err("write error"),
        Err(_) => Err("write timeout"),
    }
}

fn oversize_ack(head: &[u8], limit: usize) -> Vec<u8> {
    let text = format!("message exceeds the maximum size of {limit} bytes");
    let detail = ErrorDetail::new("MSH", None, ErrorCode::ApplicationInternalError, &text);
    match Message::parse(head) {
        Ok(m) => AckBuilder::rejected_head(&m)
            .code(AckCode::Reject)
            .error(detail)
            .to_bytes(),
        Err(e) => AckBuilder::unparsable(head, &e).error(detail).to_bytes(),
    }
}

/// Control ids are logged, but bounded.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}
