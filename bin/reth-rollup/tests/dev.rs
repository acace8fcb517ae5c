//! `reth-rollup node --dev --rollup.dev` started as a user starts it: one process, L1 and L2.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A JSON-RPC call over plain HTTP/1.1 (no client library needed for two methods).
fn rpc(port: u16, method: &str, params: &str) -> Option<String> {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split("\r\n\r\n").nth(1).map(str::to_string)
}

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(datadir: &Path, l1_port: u16, l2_port: u16) -> Node {
    let log = std::fs::File::create(datadir.join("node.log")).unwrap();
    Node(
        Command::new(env!("CARGO_BIN_EXE_reth-rollup"))
            .args(["node", "--dev", "--dev.block-time", "1s", "--rollup.dev"])
            .arg("--datadir")
            .arg(datadir.join("reth"))
            .arg("--rollup.datadir")
            .arg(datadir.join("rollup"))
            .args([
                "--http",
                "--http.addr",
                "127.0.0.1",
                "--http.port",
                &l1_port.to_string(),
            ])
            .args([
                "--port",
                "0",
                "--discovery.port",
                "0",
                "--authrpc.port",
                &free_port().to_string(),
            ])
            .args([
                "--ipcdisable",
                "--rollup.rpc-addr",
                &format!("127.0.0.1:{l2_port}"),
            ])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    )
}

fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn l2_safe_head(l2_port: u16) -> u64 {
    let status = rpc(l2_port, "rollup_syncStatus", "[]").unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
    value["result"]["safeL2"]["number"]
        .as_u64()
        .or_else(|| {
            value["result"]["safeL2"]["number"]
                .as_str()
                .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
        })
        .unwrap_or(0)
}

#[test]
fn one_process_devnet_starts_derives_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (l1_port, l2_port) = (free_port(), free_port());
    let node = start(dir.path(), l1_port, l2_port);
    let info = dir.path().join("rollup/devnet.json");
    wait_for("devnet.json", Duration::from_secs(120), || info.exists());
    let chain_id = rpc(l2_port, "eth_chainId", "[]").unwrap();
    assert!(chain_id.contains("0xa455"), "L2 chain id 42069: {chain_id}");
    // The L1 is reth itself: its eth_chainId is the dev chain's.
    let l1_chain_id = rpc(l1_port, "eth_chainId", "[]").unwrap();
    assert!(
        l1_chain_id.contains("0x539"),
        "L1 chain id 1337: {l1_chain_id}"
    );
    // The sequencer builds, the batcher posts through reth's pool, reth mines, the ExEx derives.
    wait_for("a safe L2 block", Duration::from_secs(120), || {
        l2_safe_head(l2_port) > 0
    });
    let safe = l2_safe_head(l2_port);

    // kill -9, restart: nothing lost, and it keeps going.
    drop(node);
    let _node = start(dir.path(), l1_port, l2_port);
    wait_for("the restarted L2 RPC", Duration::from_secs(120), || {
        rpc(l2_port, "eth_chainId", "[]").is_some()
    });
    assert!(
        l2_safe_head(l2_port) >= safe,
        "the safe head never goes back after a restart"
    );
    wait_for(
        "the safe head to move after the restart",
        Duration::from_secs(120),
        || l2_safe_head(l2_port) > safe,
    );
}
