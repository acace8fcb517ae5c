//! A WebSocket client that sends requests and does not read the answers stops being read: the
//! node does not hold the answers to everything it is sent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use rollup_rpc::RpcServerConfig;

use crate::{DEPOSITOR, fixture};

/// Opens a WebSocket to `addr` over a socket with small kernel buffers, so that what the client
/// does not read backs up to the server at once.
async fn small_buffered_websocket(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.set_send_buffer_size(16 * 1024).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    upgrade(&mut stream, addr).await;
    stream
}

/// Asks `stream`, connected to `addr`, to upgrade to a WebSocket; returns the answer's head.
async fn handshake(stream: &mut TcpStream, addr: std::net::SocketAddr) -> Vec<u8> {
    let handshake = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    head
}

/// Upgrades `stream`, connected to `addr`, to a WebSocket.
pub(crate) async fn upgrade(stream: &mut TcpStream, addr: std::net::SocketAddr) {
    let head = handshake(stream, addr).await;
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
}

/// One masked text frame (a client's frames must be masked).
pub(crate) fn text_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | u8::try_from(len).unwrap()),
        len @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    let mask = [0x12, 0x34, 0x56, 0x78];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The next text frame's payload, skipping control frames.
pub(crate) async fn read_text(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    loop {
        let opcode = stream.read_u8().await.unwrap() & 0x0f;
        let len = match stream.read_u8().await.unwrap() & 0x7f {
            126 => usize::from(stream.read_u16().await.unwrap()),
            127 => usize::try_from(stream.read_u64().await.unwrap()).unwrap(),
            len => usize::from(len),
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).await.unwrap();
        if opcode == 1 {
            return payload;
        }
    }
}

/// Asks `websocket` for the chain id and checks that it answers with a result.
async fn assert_serves(websocket: &mut TcpStream) {
    let request = br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    websocket.write_all(&text_frame(request)).await.unwrap();
    let answer = read_text(websocket).await;
    assert!(
        String::from_utf8_lossy(&answer).contains("\"result\""),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// Writes `frame` over and over until told to stop, counting the frames written whole.
async fn send_until_stopped(
    mut writer: impl AsyncWrite + Unpin,
    frame: Vec<u8>,
    most: usize,
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> impl AsyncWrite + Unpin {
    while !stop.load(Ordering::Acquire) && sent.load(Ordering::Acquire) < most {
        writer.write_all(&frame).await.unwrap();
        sent.fetch_add(1, Ordering::AcqRel);
    }
    writer
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_client_that_does_not_read_stops_being_read() {
    let f = fixture().await;
    let stream = small_buffered_websocket(f.addr).await;
    let (mut reader, writer) = stream.into_split();

    // About 70 kB asking for about 100 kB: 1 024 storage proofs.
    let slots: Vec<String> = (0..1024u64).map(|i| format!("{:#066x}", i)).collect();
    let request = json!({
        "jsonrpc": "2.0", "id": 1, "method": "rollup_getProof",
        "params": [DEPOSITOR, slots, "latest"],
    })
    .to_string();
    // 2 000 of them would ask for some 200 MB of answers; unbounded, the server read them all
    // as fast as they came.
    let most = 2_000;
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sending = tokio::spawn(send_until_stopped(
        writer,
        text_frame(request.as_bytes()),
        most,
        Arc::clone(&sent),
        Arc::clone(&stop),
    ));

    // The sending stalls: the server stopped reading once its answers backed up.
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let now = sent.load(Ordering::Acquire);
        assert!(
            now < most,
            "the server read every request its client did not read answers to"
        );
        if now == last {
            break;
        }
        last = now;
    }
    stop.store(true, Ordering::Release);

    // Reading the answers lets the last request go out; every request is answered once.
    let (answers_tx, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let reading =
        tokio::spawn(async move { while answers_tx.send(read_text(&mut reader).await).is_ok() {} });
    let mut writer = sending.await.unwrap();
    let sent = sent.load(Ordering::Acquire);
    for _ in 0..sent {
        let answer: Value = serde_json::from_slice(&answers.recv().await.unwrap()).unwrap();
        assert_eq!(answer["id"], 1, "{answer}");
        let proofs = answer["result"]["storageProof"].as_array().map(Vec::len);
        assert!(
            proofs == Some(1024) || answer["error"]["code"] == -32005,
            "neither the proofs nor a limit: {:?}",
            answer["error"]
        );
    }

    // And the connection serves on.
    let ask = json!({"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []});
    writer
        .write_all(&text_frame(ask.to_string().as_bytes()))
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&answers.recv().await.unwrap()).unwrap();
    reading.abort();
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 2, "result": "0x2"}));
}

/// The server speaks HTTP/1.1 (and its WebSocket upgrade) only: a client that opens with
/// HTTP/2's preface (h2c with prior knowledge), whose streams the flow control would not see, is
/// not answered in HTTP/2 and its connection is closed.
#[tokio::test(flavor = "multi_thread")]
async fn http2_without_tls_is_not_served() {
    let f = fixture().await;

    let mut h2 = TcpStream::connect(f.addr).await.unwrap();
    // The connection preface, then an empty SETTINGS frame.
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), h2.read_to_end(&mut answer))
        .await
        .expect("the server kept an HTTP/2 connection open")
        .ok();
    // An HTTP/2 server answers with its own SETTINGS frame: 3 length bytes, then type 4.
    assert!(
        answer.get(3) != Some(&4) && !answer.starts_with(b"\x00\x00"),
        "answered in HTTP/2: {answer:?}"
    );

    // HTTP/1.1 on the same port works, two requests on one connection.
    let mut h1 = TcpStream::connect(f.addr).await.unwrap();
    for _ in 0..2 {
        assert_chain_id_answered(&mut h1, f.addr).await;
    }
}

/// Sends `eth_chainId` over plain HTTP/1.1 on `stream` and checks the answer.
async fn assert_chain_id_answered(stream: &mut TcpStream, addr: std::net::SocketAddr) {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap();
    let mut json = vec![0; length];
    stream.read_exact(&mut json).await.unwrap();
    let json: Value = serde_json::from_slice(&json).unwrap();
    assert!(json["result"].is_string(), "{json}");
}

/// A connection that sends no request, or only part of a request's headers, for the idle
/// timeout is closed, while a WebSocket stays open: before, 3 000 idle connections held 3 000
/// file descriptors for as long as their clients liked. A keep-alive connection's clock runs
/// from its last answer, and the default is geth's 120 s, above the 90 s client pools keep an
/// idle connection (hyper's 30 s closed connections clients were about to send on).
#[tokio::test(flavor = "multi_thread")]
async fn idle_and_half_sent_http_connections_are_closed() {
    assert_eq!(
        RpcServerConfig::default().http_idle_timeout,
        Duration::from_secs(120)
    );
    let timeout = Duration::from_secs(3);
    let f = crate::fixture_with(crate::FixtureOptions {
        server: RpcServerConfig {
            http_idle_timeout: timeout,
            ..crate::FixtureOptions::default().server
        },
        ..crate::FixtureOptions::default()
    })
    .await;
    let mut idle = TcpStream::connect(f.addr).await.unwrap();
    let mut half = TcpStream::connect(f.addr).await.unwrap();
    half.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut websocket = TcpStream::connect(f.addr).await.unwrap();
    upgrade(&mut websocket, f.addr).await;
    // Kept alive: asked again within the timeout of each answer, past the timeout in all.
    let mut kept = TcpStream::connect(f.addr).await.unwrap();

    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert_chain_id_answered(&mut kept, f.addr).await;
        tokio::time::sleep(timeout * 2 / 3).await;
    }
    assert!(started.elapsed() > timeout);
    for (what, stream) in [
        ("idle", &mut idle),
        ("half-sent", &mut half),
        ("kept-alive", &mut kept),
    ] {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest))
            .await
            .unwrap_or_else(|_| panic!("the {what} connection is still open after 20 s"))
            .ok();
    }
    // The WebSocket, past its upgrade, is not hyper's any more: still served.
    assert_serves(&mut websocket).await;
}

/// WebSockets take at most nine tenths of the connections: plain HTTP keeps the rest, so idle
/// WebSockets cannot lock every other client out, and a closed WebSocket gives its place back.
#[tokio::test(flavor = "multi_thread")]
async fn websockets_leave_a_tenth_of_the_connections_to_plain_http() {
    let max_connections = 20;
    let server = rollup_rpc::RpcServerConfig {
        max_connections,
        ..crate::FixtureOptions::default().server
    };
    let f = crate::fixture_with(crate::FixtureOptions {
        server,
        ..crate::FixtureOptions::default()
    })
    .await;
    let cap = rollup_rpc::websocket_cap(max_connections) as usize;
    assert_eq!(cap, 18);
    let mut open = Vec::new();
    for _ in 0..cap {
        let mut stream = TcpStream::connect(f.addr).await.unwrap();
        upgrade(&mut stream, f.addr).await;
        open.push(stream);
    }
    let refused_upgrade = async || {
        let mut stream = TcpStream::connect(f.addr).await.unwrap();
        let head = handshake(&mut stream, f.addr).await;
        if head.starts_with(b"HTTP/1.1 101") {
            return None;
        }
        let mut body = vec![0; 4096];
        let n = stream.read(&mut body).await.unwrap();
        Some(format!(
            "{}{}",
            String::from_utf8_lossy(&head),
            String::from_utf8_lossy(&body[..n])
        ))
    };
    let refusal = refused_upgrade().await.expect("a WebSocket past the cap");
    assert!(
        refusal.starts_with("HTTP/1.1 503") && refusal.contains("too many WebSocket connections"),
        "{refusal}"
    );
    // Plain HTTP is still served, over several connections at once.
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let addr = f.addr;
            tokio::spawn(async move { crate::result(addr, "eth_chainId", json!([])).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), json!("0x385"));
    }
    // A WebSocket that closes gives its place back.
    drop(open.pop());
    let started = std::time::Instant::now();
    while let Some(refusal) = refused_upgrade().await {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no place after a WebSocket closed: {refusal}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// This machine's address on its default route (no packet is sent: a UDP `connect` only picks
/// the source address); `None` without one.
fn own_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A WebSocket holds its address's connection slot for as long as it is open, not only for its
/// handshake: one address cannot open more WebSockets than the per-address cap.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_holds_its_addresss_connection_slot() {
    // Loopback clients are never capped: the client connects from the machine's own address.
    let Some(ip) = own_address() else {
        eprintln!("no address but loopback on this machine: the per-address cap cannot be met");
        return;
    };
    let server = rollup_rpc::RpcServerConfig {
        addr: "0.0.0.0:0".parse().unwrap(),
        max_connections_per_ip: 2,
        ..crate::FixtureOptions::default().server
    };
    let f = crate::fixture_with(crate::FixtureOptions {
        server,
        ..crate::FixtureOptions::default()
    })
    .await;
    let to = std::net::SocketAddr::new(ip, f.addr.port());
    let connect = async || {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(ip, 0)).unwrap();
        socket.connect(to).await.unwrap()
    };
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = connect().await;
        upgrade(&mut stream, to).await;
        open.push(stream);
    }
    // Long after both handshakes, a third connection from the address is still refused.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut third = connect().await;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), third.read_to_string(&mut answer))
        .await
        .expect("the third connection was neither refused nor closed")
        .ok();
    assert!(
        answer.starts_with("HTTP/1.1 429") && answer.contains("too many connections"),
        "{answer:?}"
    );
    // Both WebSockets still serve.
    for stream in &mut open {
        assert_serves(stream).await;
    }
}

/// An `eth_subscribe` inside a WebSocket batch is refused in the batch's own answer, which is
/// the only answer: the server library wrote the subscription's answer alone first, and then
/// again in the batch.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_batch_answers_once_and_refuses_eth_subscribe_in_it() {
    let f = fixture().await;
    let mut stream = TcpStream::connect(f.addr).await.unwrap();
    upgrade(&mut stream, f.addr).await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_chainId", "params": []},
    ]);
    stream
        .write_all(&text_frame(batch.to_string().as_bytes()))
        .await
        .unwrap();
    let first: Value = serde_json::from_slice(&read_text(&mut stream).await).unwrap();
    let answers = first
        .as_array()
        .expect("the batch's array first, and alone");
    assert_eq!(answers.len(), 2, "{first}");
    let subscribe = answers.iter().find(|a| a["id"] == 1).unwrap();
    assert_eq!(subscribe["error"]["code"], -32600, "{subscribe}");
    assert!(
        subscribe["error"]["message"]
            .as_str()
            .unwrap()
            .contains("send it as a request of its own"),
        "{subscribe}"
    );
    assert_eq!(
        answers.iter().find(|a| a["id"] == 2).unwrap()["result"],
        "0x385"
    );
    // Nothing else comes: no second answer, and no subscription's notifications.
    let next = tokio::time::timeout(Duration::from_millis(700), read_text(&mut stream)).await;
    assert!(
        next.is_err(),
        "{:?}",
        next.map(|m| String::from_utf8_lossy(&m).into_owned())
    );
    // Alone, the same subscription is taken.
    let alone =
        json!({"jsonrpc": "2.0", "id": 3, "method": "eth_subscribe", "params": ["newHeads"]});
    stream
        .write_all(&text_frame(alone.to_string().as_bytes()))
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&read_text(&mut stream).await).unwrap();
    assert!(answer["result"].is_string(), "{answer}");
    drop(f);
}
