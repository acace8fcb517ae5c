//! `reth-rollup node --dev --rollup.dev` started as a user starts it: one process, L1 and L2,
//! with every role of `rollup-node devnet` (sequencer, batcher, proposer and its defender,
//! challenger), batches in blobs.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolEvent};
use rollup_primitives::bindings::IBatchInbox::{BatchAppended, postBlobBatchCall};
use rollup_service::devnet;
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
    let rollup = datadir.join("rollup");
    spawn(
        datadir,
        l1_port,
        l2_port,
        &[
            "--rollup.dev".as_ref(),
            "--rollup.datadir".as_ref(),
            rollup.as_os_str(),
        ],
        "node.log",
    )
}

/// reth-rollup on the dev chain of `datadir/reth` with the `rollup` arguments, its output in
/// `datadir/<log>`.
fn spawn(
    datadir: &Path,
    l1_port: u16,
    l2_port: u16,
    rollup: &[&std::ffi::OsStr],
    log: &str,
) -> Node {
    let log = std::fs::File::create(datadir.join(log)).unwrap();
    Node(
        Command::new(env!("CARGO_BIN_EXE_reth-rollup"))
            .args(["node", "--dev", "--dev.block-time", "1s"])
            .args(rollup)
            .arg("--datadir")
            .arg(datadir.join("reth"))
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

/// A quantity (`"0x1a"`) as a number.
fn quantity(value: &serde_json::Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a quantity: {value}"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

/// Sends 0.25 ETH on L2 from dev account 6 to dev account 7 and returns the L2 block that
/// holds it, once the sequencer has sealed it.
fn send_l2_transfer(l2_port: u16) -> u64 {
    let signers = devnet::dev_signers();
    let (from, to) = (&signers[6], signers[7].address());
    let nonce = quantity(
        &rpc_result(
            l2_port,
            "eth_getTransactionCount",
            &format!(r#"["{}","pending"]"#, from.address()),
        )
        .unwrap(),
    );
    let gas_price = quantity(&rpc_result(l2_port, "eth_gasPrice", "[]").unwrap());
    let tx = TxEip1559 {
        chain_id: 42069,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: u128::from(gas_price) * 2 + 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::from(250_000_000_000_000_000u128),
        ..Default::default()
    };
    let signature = from.sign_hash_sync(&tx.signature_hash()).unwrap();
    let raw = Bytes::from(TxEnvelope::from(tx.into_signed(signature)).encoded_2718());
    // Right after the devnet starts, the sequencer may still be catching up on L1 data (it
    // answers "throttled" then, and the transfer is sent again, as its message asks).
    let mut hash = String::new();
    wait_for(
        "the sequencer to take the transfer",
        Duration::from_secs(60),
        || {
            let sent = rpc(l2_port, "eth_sendRawTransaction", &format!(r#"["{raw}"]"#)).unwrap();
            let value: serde_json::Value = serde_json::from_str(&sent).unwrap();
            if let Some(sent) = value["result"].as_str() {
                hash = sent.to_string();
                return true;
            }
            let message = value["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("throttled"),
                "the sequencer refused the transfer: {sent}"
            );
            false
        },
    );
    let mut block = None;
    wait_for("the transfer's receipt", Duration::from_secs(60), || {
        block = rpc_result(
            l2_port,
            "eth_getTransactionReceipt",
            &format!(r#"["{hash}"]"#),
        )
        .filter(|receipt| !receipt.is_null())
        .map(|receipt| {
            assert_eq!(receipt["status"], "0x1", "the transfer failed: {receipt}");
            quantity(&receipt["blockNumber"])
        });
        block.is_some()
    });
    block.unwrap()
}

/// The inbox's successful `postBlobBatch` on reth's L1 whose batch holds L2 block `l2_block`:
/// its L1 transaction and the blob count the inbox recorded.
fn blob_batch_with(l1_port: u16, inbox: Address, l2_block: u64) -> Option<(serde_json::Value, u8)> {
    let head = quantity(&rpc_result(l1_port, "eth_blockNumber", "[]")?);
    for number in (1..=head).rev() {
        let block = rpc_result(
            l1_port,
            "eth_getBlockByNumber",
            &format!(r#"["{number:#x}",true]"#),
        )?;
        for tx in block["transactions"].as_array()? {
            let to = tx["to"].as_str().and_then(|to| to.parse::<Address>().ok());
            if to != Some(inbox) || tx["type"] != "0x3" {
                continue;
            }
            let receipt = rpc_result(
                l1_port,
                "eth_getTransactionReceipt",
                &format!(r#"["{}"]"#, tx["hash"].as_str()?),
            )?;
            if receipt["status"] != "0x1" {
                continue;
            }
            for log in receipt["logs"].as_array()? {
                let topics = log["topics"]
                    .as_array()?
                    .iter()
                    .filter_map(|topic| topic.as_str()?.parse::<B256>().ok())
                    .collect::<Vec<_>>();
                let data = log["data"].as_str()?.parse::<Bytes>().ok()?;
                let Ok(event) = BatchAppended::decode_raw_log(topics, &data) else {
                    continue;
                };
                let last = event.firstBlock + u64::from(event.blockCount);
                if (event.firstBlock..last).contains(&l2_block) {
                    return Some((tx.clone(), event.blobCount));
                }
            }
        }
    }
    None
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

    // An L2 transfer goes to L1 in a blob batch (reth's dev chain has Cancun from genesis),
    // whose blobs the ExEx attaches to reth's block, so the transfer's block becomes safe.
    let transfer_block = send_l2_transfer(l2_port);
    wait_for(
        "the transfer's block to be safe",
        Duration::from_secs(120),
        || l2_safe_head(l2_port) >= transfer_block,
    );
    let devnet_info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
    let inbox: Address = devnet_info["contracts"]["batchInbox"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (batch, blob_count) = blob_batch_with(l1_port, inbox, transfer_block)
        .unwrap_or_else(|| panic!("no postBlobBatch on L1 holds L2 block {transfer_block}"));
    assert!(
        blob_count > 0,
        "the batch's transactions are in blobs: {batch}"
    );
    assert_eq!(
        batch["blobVersionedHashes"].as_array().map(Vec::len),
        Some(usize::from(blob_count)),
        "{batch}"
    );
    assert!(
        batch["input"]
            .as_str()
            .unwrap()
            .starts_with(&alloy_primitives::hex::encode_prefixed(
                postBlobBatchCall::SELECTOR
            )),
        "{batch}"
    );
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

    let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap();
    let errors: Vec<&str> = log.lines().filter(|line| line.contains("ERROR")).collect();
    assert!(errors.is_empty(), "the node logged errors: {errors:#?}");

    // kill -9, restart: nothing lost, and it keeps going. reth persists every block of a
    // --rollup.dev devnet, so the L1 blocks, and the L2 blocks derived from them, are the same.
    let block_hash = |number: u64| {
        rpc_result(
            l2_port,
            "eth_getBlockByNumber",
            &format!(r#"["{number:#x}", false]"#),
        )
        .and_then(|block| block["hash"].as_str().map(str::to_string))
    };
    let safe_hash = block_hash(safe).expect("the safe block");
    drop(node);
    let _node = start(dir.path(), l1_port, l2_port);
    wait_for("the restarted L2 RPC", Duration::from_secs(120), || {
        rpc(l2_port, "eth_chainId", "[]").is_some()
    });
    assert!(
        l2_safe_head(l2_port) >= safe,
        "the safe head never goes back after a restart"
    );
    assert_eq!(
        block_hash(safe),
        Some(safe_hash),
        "the safe block is the same after the restart"
    );
    wait_for(
        "the safe head to move after the restart",
        Duration::from_secs(120),
        || l2_safe_head(l2_port) > safe,
    );

    // A fatal error of the rollup (a config whose origin hash was edited, on a rollup datadir
    // of its own) stops reth with the error and exit status 1, not between reth's panic lines.
    drop(_node);
    let mut config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("rollup/rollup.json")).unwrap(),
    )
    .unwrap();
    config["genesis"]["l1Origin"]["hash"] = serde_json::json!(format!("0x{}", "11".repeat(32)));
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, config.to_string()).unwrap();
    let other = dir.path().join("rollup-edited");
    let mut node = spawn(
        dir.path(),
        l1_port,
        l2_port,
        &[
            "--color".as_ref(),
            "never".as_ref(),
            "--rollup.config".as_ref(),
            edited.as_os_str(),
            "--rollup.datadir".as_ref(),
            other.as_os_str(),
        ],
        "fatal.log",
    );
    let mut status = None;
    wait_for("reth-rollup to stop", Duration::from_secs(120), || {
        status = node.0.try_wait().unwrap();
        status.is_some()
    });
    let log = std::fs::read_to_string(dir.path().join("fatal.log")).unwrap();
    assert_eq!(status.unwrap().code(), Some(1), "{log}");
    assert!(
        log.contains("reth-rollup stopped")
            && log.contains("recorded for that block in the BatchInbox"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}
