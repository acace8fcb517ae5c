//! `reth-rollup node --dev --rollup.dev` started as a user starts it: one process, L1 and L2,
//! with every role of `rollup-node devnet` (sequencer, batcher, proposer and its defender,
//! challenger).

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

/// `result` of a JSON-RPC call on the L2 port, if it answered one.
fn rpc_result(l2_port: u16, method: &str, params: &str) -> Option<serde_json::Value> {
    let response = rpc(l2_port, method, params)?;
    let mut value: serde_json::Value = serde_json::from_str(&response).ok()?;
    Some(value.get_mut("result")?.take())
}

/// The roles `rollup_getRoles` lists, with how many rounds each finished.
fn roles(l2_port: u16) -> Vec<(String, u64)> {
    rpc_result(l2_port, "rollup_getRoles", "[]")
        .and_then(|result| result["roles"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|role| {
            (
                role["name"].as_str().unwrap_or_default().to_string(),
                role["successes"].as_u64().unwrap_or(0),
            )
        })
        .collect()
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

    // Every role runs, the dispute roles included, and each finishes rounds against reth's L1.
    let expected = [
        "derivation",
        "sequencer",
        "batcher",
        "proposer",
        "defender",
        "challenger",
    ];
    wait_for(
        "every role to finish a round",
        Duration::from_secs(60),
        || {
            let roles = roles(l2_port);
            expected
                .iter()
                .filter(|name| **name != "proposer")
                .all(|name| roles.iter().any(|(role, done)| role == name && *done > 0))
                && expected
                    .iter()
                    .all(|name| roles.iter().any(|(role, _)| role == name))
        },
    );
    // The proposer proposes through reth's pool; the challenger agrees with the root and opens
    // no game on it.
    wait_for("a proposal", Duration::from_secs(120), || {
        rpc_result(l2_port, "rollup_getProposals", "[]")
            .is_some_and(|result| result["count"].as_u64().unwrap_or(0) > 0)
    });
    let proposals = rpc_result(l2_port, "rollup_getProposals", "[]").unwrap();
    let first = &proposals["proposals"][0];
    assert_eq!(
        first["stateRoot"], first["localOutputRoot"],
        "the node agrees with its own proposer: {proposals}"
    );
    let challenger_rounds = || {
        roles(l2_port)
            .into_iter()
            .find(|(name, _)| name == "challenger")
            .map_or(0, |(_, done)| done)
    };
    let seen = challenger_rounds();
    wait_for(
        "the challenger to look at the proposal",
        Duration::from_secs(30),
        || challenger_rounds() >= seen + 3,
    );
    let disputes = rpc_result(l2_port, "rollup_getDisputes", "[]").unwrap();
    assert_eq!(
        disputes["count"].as_u64(),
        Some(0),
        "no game on a true root: {disputes}"
    );

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
