//! MLLP over real loopback sockets (127.0.0.1, port 0).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use concord_hl7v2::mllp::{encode_frame, MllpConfig};
use concord_hl7v2::{
    AckBuilder, AckCode, AutoAck, Message, MessageHandler, MllpClient, MllpError, MllpServer,
    ParseError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn oru(control_id: &str, obx: usize) -> String {
    let mut s = format!(
        "MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20240101120000||ORU^R01^ORU_R01|{control_id}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE\rOBR|1|PL1|FL1|24331-1^Lipid panel^LN\r"
    );
    for i in 1..=obx {
        s.push_str(&format!(
            "OBX|{i}|NM|2093-3^Cholesterol^LN||{}|mg/dL|<200|N|||F\r",
            150 + i
        ));
    }
    s
}

/// Counts messages and answers AA (AR when unparsable).
#[derive(Default, Clone)]
struct Counting {
    seen: Arc<AtomicUsize>,
}

#[async_trait]
impl MessageHandler for Counting {
    async fn handle(&self, raw: &[u8], parsed: Result<Message, ParseError>) -> Vec<u8> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        AutoAck.handle(raw, parsed).await
    }
}

fn config() -> MllpConfig {
    MllpConfig {
        max_message_size: 64 * 1024,
        idle_timeout: Duration::from_millis(400),
        response_timeout: Duration::from_secs(10),
        ..MllpConfig::default()
    }
}

async fn start(handler: Counting, cfg: MllpConfig) -> concord_hl7v2::ServerHandle {
    MllpServer::bind("127.0.0.1:0", cfg, handler)
        .await
        .expect("bind")
        .spawn()
        .expect("spawn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_clients() {
    let counter = Counting::default();
    let server = start(counter.clone(), config()).await;
    let addr = server.local_addr();
    let mut tasks = Vec::new();
    for c in 0..32 {
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(addr, config()).await.expect("connect");
            for i in 0..10 {
                let id = format!("C{c}M{i}");
                let msg = Message::parse_str(&oru(&id, 10)).expect("parse");
                let ack = client.send_message(&msg).await.expect("ack");
                let summary = ack.ack_summary();
                assert_eq!(summary.code, Some(AckCode::Accept));
                assert_eq!(
                    summary.acknowledged_control_id.as_deref(),
                    Some(id.as_str())
                );
                assert_eq!(ack.get("MSH-5").as_deref(), Some("LAB"));
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    assert_eq!(counter.seen.load(Ordering::SeqCst), 320);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn oversize_message_gets_ar_and_connection_stays_usable() {
    let counter = Counting::default();
    let cfg = MllpConfig {
        max_message_size: 2048,
        ..config()
    };
    let server = start(counter.clone(), cfg.clone()).await;
    let mut client = MllpClient::connect(server.local_addr(), cfg)
        .await
        .expect("connect");
    let big = oru("BIG1", 200);
    assert!(big.len() > 2048);
    let ack = client.send(big.as_bytes()).await.expect("an AR comes back");
    let ack = Message::parse(&ack).expect("ack parses");
    assert_eq!(ack.get("MSA-1").as_deref(), Some("AR"));
    assert_eq!(ack.get("MSA-2").as_deref(), Some("BIG1"));
    assert_eq!(ack.get("ERR-3-1").as_deref(), Some("207"));
    assert_eq!(counter.seen.load(Ordering::SeqCst), 0);
    // The same connection goes on.
    let ack = client.send(oru("AFTER", 1).as_bytes()).await.expect("ack");
    assert!(String::from_utf8_lossy(&ack).contains("MSA|AA|AFTER"));
    assert_eq!(counter.seen.load(Ordering::SeqCst), 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_segment_with_default_limits() {
    let counter = Counting::default();
    let server = start(counter.clone(), MllpConfig::default()).await;
    let mut client = MllpClient::connect(server.local_addr(), MllpConfig::default())
        .await
        .expect("connect");
    let mut huge = oru("HUGE1", 1);
    huge.push_str("NTE|1||");
    huge.push_str(&"x".repeat(10 * 1024 * 1024));
    huge.push('\r');
    let ack = client
        .send(huge.as_bytes())
        .await
        .expect("an AR comes back");
    let ack = Message::parse(&ack).expect("ack parses");
    assert_eq!(ack.get("MSA-1").as_deref(), Some("AR"));
    assert_eq!(ack.get("MSA-2").as_deref(), Some("HUGE1"));
    let ack = client.send(oru("NEXT", 1).as_bytes()).await.expect("ack");
    assert!(String::from_utf8_lossy(&ack).contains("MSA|AA|NEXT"));
    assert_eq!(counter.seen.load(Ordering::SeqCst), 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn malformed_frames_close_the_connection() {
    let counter = Counting::default();
    let server = start(counter.clone(), config()).await;
    let addr = server.local_addr();
    for garbage in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &b"\x0bMSH|^~\\&|A\x1cX"[..],
        &b"\x0bMSH|^~\\&|A\x0bMSH|^~\\&|B\x1c\x0d"[..],
    ] {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(garbage).await.expect("write");
        let mut buf = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("closed promptly")
            .unwrap_or(0);
        assert_eq!(n, 0, "no reply to a framing error");
    }
    // A well-framed non-HL7 payload is answered AR (the handler sees it).
    let mut client = MllpClient::connect(addr, config()).await.expect("connect");
    let ack = client.send(b"\x00\x01 not hl7").await.expect("ack");
    let ack = Message::parse(&ack).expect("parses");
    assert_eq!(ack.get("MSA-1").as_deref(), Some("AR"));
    assert_eq!(counter.seen.load(Ordering::SeqCst), 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn idle_connection_is_dropped() {
    let counter = Counting::default();
    let server = start(counter, config()).await;
    let mut s = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("server closes the idle connection")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() >= Duration::from_millis(350));
    // Half a frame, then silence: dropped too.
    let mut s = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    s.write_all(b"\x0bMSH|^~\\&|A").await.expect("write");
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed")
        .unwrap_or(0);
    assert_eq!(n, 0);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn trickling_sender_is_dropped() {
    let cfg = MllpConfig {
        frame_timeout: Duration::from_millis(300),
        ..config()
    };
    let server = start(Counting::default(), cfg).await;
    let mut s = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    s.write_all(b"\x0bMSH|^~\\&|").await.expect("write");
    // One byte every 100 ms never trips the 400 ms idle timeout.
    let mut closed = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if s.write_all(b"A").await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), s.read(&mut probe)).await
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "trickling connection still open");
    assert!(started.elapsed() < Duration::from_secs(2));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn message_split_across_many_writes() {
    let counter = Counting::default();
    let server = start(counter.clone(), config()).await;
    let mut s = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut wire = encode_frame(oru("SPLIT1", 5).as_bytes()).expect("frame");
    wire.extend(encode_frame(oru("SPLIT2", 2).as_bytes()).expect("frame"));
    for chunk in wire.chunks(7) {
        s.write_all(chunk).await.expect("write");
        s.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.iter().filter(|&&b| b == 0x1c).count() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("acks arrive")
            .expect("read");
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("MSA|AA|SPLIT1"));
    assert!(text.contains("MSA|AA|SPLIT2"));
    assert_eq!(counter.seen.load(Ordering::SeqCst), 2);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn connection_limit_queues_further_clients() {
    let counter = Counting::default();
    let handler: Arc<dyn MessageHandler> = Arc::new(counter.clone());
    let cfg = MllpConfig {
        max_connections: 1,
        ..config()
    };
    let server = MllpServer::bind("127.0.0.1:0", cfg, handler)
        .await
        .expect("bind")
        .spawn()
        .expect("spawn");
    let addr = server.local_addr();
    let mut first = MllpClient::connect(addr, config()).await.expect("connect");
    first.send(oru("F1", 1).as_bytes()).await.expect("ack");
    let second = tokio::spawn(async move {
        let mut c = MllpClient::connect(addr, config()).await.expect("connect");
        c.send(oru("S1", 1).as_bytes()).await.expect("ack")
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        !second.is_finished(),
        "second client served beyond the limit"
    );
    drop(first);
    let ack = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("served once the first leaves")
        .expect("task");
    assert!(String::from_utf8_lossy(&ack).contains("MSA|AA|S1"));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn client_times_out_without_ack() {
    // A listener that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let (s, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(s);
    });
    let cfg = MllpConfig {
        response_timeout: Duration::from_millis(200),
        ..config()
    };
    let mut client = MllpClient::connect(addr, cfg).await.expect("connect");
    let err = client.send(oru("T1", 1).as_bytes()).await.unwrap_err();
    assert!(matches!(err, MllpError::Timeout(_)), "{err:?}");
    hold.abort();
}

#[test]
fn ack_for_unframeable_payload_is_refused() {
    assert!(encode_frame(b"a\x0bb").is_err());
    let m = Message::parse_str(&oru("X", 1)).expect("parse");
    assert!(AckBuilder::new(&m)
        .to_bytes()
        .starts_with(b"MSH|^~\\&|EHR|EHRFAC|LAB|LABFAC|"));
}
