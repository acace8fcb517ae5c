//! End-to-end: live data from a running devnet. `eth_subscribe` over WebSocket (a Rust client)
//! and the filter API over HTTP see new blocks, a contract's events and pending transactions;
//! then viem's `watchBlocks`, `watchContractEvent` and `watchPendingTransactions` do, over
//! WebSocket and over HTTP polling (`tests/viem/watch.mjs`, run with node).

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::core::{
    client::{Subscription, SubscriptionClientT},
    params::ArrayParams,
};
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use serde_json::{Value, json};

use crate::support::{self, Anvil, Devnet, Proc};

/// Bound for any single wait below; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(30);

const PING_EVENT: &str = "Ping(address,uint256)";

/// Init code of a contract that, on every call, emits `Ping(address indexed from, uint256
/// value)` with the caller and the call's value.
fn ping_contract() -> Bytes {
    // CALLVALUE PUSH1 0 MSTORE  CALLER PUSH32 topic0 PUSH1 32 PUSH1 0 LOG2 STOP
    let mut runtime = vec![0x34, 0x60, 0x00, 0x52, 0x33, 0x7f];
    runtime.extend_from_slice(keccak256(PING_EVENT).as_slice());
    runtime.extend_from_slice(&[0x60, 0x20, 0x60, 0x00, 0xa2, 0x00]);
    let len = u8::try_from(runtime.len()).unwrap();
    // CODECOPY(0, 12, len) RETURN(0, len): the 12-byte prefix, then the runtime code.
    let mut init = vec![
        0x60, len, 0x60, 12, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3,
    ];
    init.extend(runtime);
    init.into()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn l2_wallet(devnet: &Devnet, index: usize) -> DynProvider {
    let signer = PrivateKeySigner::from_bytes(&devnet.info.accounts[index].private_key).unwrap();
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.info.l2_rpc_url.parse().unwrap())
        .erased()
}

fn ws_url(devnet: &Devnet) -> String {
    devnet.info.l2_rpc_url.replacen("http://", "ws://", 1)
}

fn params(values: Vec<Value>) -> ArrayParams {
    let mut params = ArrayParams::new();
    for value in values {
        params.insert(value).unwrap();
    }
    params
}

async fn subscribe(client: &WsClient, args: Vec<Value>) -> Subscription<Value> {
    client
        .subscribe("eth_subscribe", params(args), "eth_unsubscribe")
        .await
        .unwrap()
}

async fn next(
    subscription: &mut Subscription<Value>,
    what: &str,
    log: impl Fn() -> String,
) -> Value {
    match tokio::time::timeout(WAIT, subscription.next()).await {
        Ok(Some(Ok(value))) => value,
        Ok(other) => panic!("{what}: subscription ended with {other:?}\n{}", log()),
        Err(_) => panic!("no {what} within {WAIT:?}\n{}", log()),
    }
}

/// Calls the ping contract with `value` wei; returns the transaction hash without waiting.
async fn ping(wallet: &DynProvider, contract: Address, value: u64) -> B256 {
    let tx = TransactionRequest::default()
        .with_to(contract)
        .with_value(U256::from(value));
    *wallet.send_transaction(tx).await.unwrap().tx_hash()
}

fn tail(log: String) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Polls a filter until `done` holds for everything it returned so far.
async fn poll_filter(
    devnet: &Devnet,
    id: &Value,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    let mut changes = Vec::new();
    loop {
        let new = devnet.l2("eth_getFilterChanges", json!([id])).await;
        changes.extend(new.as_array().unwrap().iter().cloned());
        if done(&changes) {
            return changes;
        }
        assert!(
            start.elapsed() < WAIT,
            "{what}: filter returned {changes:?}\n{}",
            tail(devnet.log())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn subscriptions_filters_and_viem_watchers_see_blocks_events_and_pending_transactions() {
    support::run(live_body());
}

async fn live_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let log = || tail(devnet.log());
    let account = &devnet.info.accounts[4];
    let wallet = l2_wallet(&devnet, 4);
    let deploy = TransactionRequest::default().with_deploy_code(ping_contract());
    let receipt = wallet
        .send_transaction(deploy)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let contract = receipt.contract_address.expect("a contract was created");

    // Subscriptions over WebSocket and filters over HTTP, all set up before the transaction.
    let client = WsClientBuilder::default()
        .build(ws_url(&devnet))
        .await
        .unwrap();
    let mut heads = subscribe(&client, vec![json!("newHeads")]).await;
    let mut logs = subscribe(&client, vec![json!("logs"), json!({"address": contract})]).await;
    let mut pending = subscribe(&client, vec![json!("newPendingTransactions")]).await;
    let block_filter = devnet.l2("eth_newBlockFilter", json!([])).await;
    let log_filter = devnet
        .l2(
            "eth_newFilter",
            // From the first block: a filter's range defaults to `latest`, which
            // `eth_getFilterLogs` reads at call time, so an L2 block sequenced after the event's
            // (an L1 origin to adopt) emptied it now and then.
            json!([{"address": contract, "topics": [keccak256(PING_EVENT)], "fromBlock": "earliest"}]),
        )
        .await;
    let pending_filter = devnet
        .l2("eth_newPendingTransactionFilter", json!([]))
        .await;

    let sent = ping(&wallet, contract, 7).await;
    assert_eq!(next(&mut pending, "pending hash", log).await, json!(sent));
    let event = next(&mut logs, "Ping log", log).await;
    assert_eq!(event["transactionHash"], json!(sent), "{event}");
    assert_eq!(event["address"], json!(contract));
    assert_eq!(
        event["topics"],
        json!([
            keccak256(PING_EVENT),
            B256::left_padding_from(account.address.as_slice())
        ])
    );
    assert_eq!(event["data"], json!(B256::with_last_byte(7)));
    assert_eq!(event["removed"], json!(false));
    let included: u64 = u64::from_str_radix(
        event["blockNumber"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    // Every head up to the event's block, each the block the node serves at that height.
    loop {
        let head = next(&mut heads, "new head", log).await;
        let number = head["number"].as_str().unwrap().to_string();
        let block = devnet
            .l2("eth_getBlockByNumber", json!([number, false]))
            .await;
        assert_eq!(head["hash"], block["hash"], "head {number}");
        assert_eq!(head["parentHash"], block["parentHash"], "head {number}");
        if head["hash"] == event["blockHash"] {
            break;
        }
        let number = u64::from_str_radix(number.trim_start_matches("0x"), 16).unwrap();
        assert!(
            number < included,
            "passed block {included} without its head"
        );
    }
    poll_filter(&devnet, &block_filter, "block filter", |hashes| {
        hashes.contains(&event["blockHash"])
    })
    .await;
    let filtered = poll_filter(&devnet, &log_filter, "log filter", |logs| !logs.is_empty()).await;
    assert_eq!(
        filtered,
        vec![event.clone()],
        "filters report what subscriptions do"
    );
    let hashes = poll_filter(&devnet, &pending_filter, "pending filter", |hashes| {
        hashes.contains(&json!(sent))
    })
    .await;
    assert_eq!(hashes, vec![json!(sent)]);
    assert_eq!(
        devnet.l2("eth_getFilterLogs", json!([log_filter])).await,
        json!([event]),
        "the filter's whole range: the contract's only event so far"
    );
    assert_eq!(
        devnet.l2("eth_uninstallFilter", json!([log_filter])).await,
        json!(true)
    );
    drop(client);

    viem_watchers(&devnet, &wallet, contract, account.address).await;
}

/// Runs `tests/viem/watch.mjs` against the devnet while calling the ping contract, until the
/// script saw everything; checks what it saw against the chain.
async fn viem_watchers(devnet: &Devnet, wallet: &DynProvider, contract: Address, sender: Address) {
    let root = workspace_root();
    assert!(
        root.join("node_modules/viem/package.json").exists(),
        "viem is not installed: run scripts/bootstrap.sh"
    );
    let mut script = Proc(
        Command::new("node")
            .arg(root.join("tests/viem/watch.mjs"))
            .args(["--http", &devnet.info.l2_rpc_url, "--ws", &ws_url(devnet)])
            .args([
                "--contract",
                &contract.to_string(),
                "--sender",
                &sender.to_string(),
            ])
            .args(["--timeout-ms", "60000"])
            .current_dir(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run node (installed by scripts/bootstrap.sh)"),
    );
    let stdout = script.0.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = tokio::time::timeout(WAIT, lines.recv()).await;
    assert!(
        matches!(&first, Ok(Some(line)) if line == "ready"),
        "watch.mjs did not start: {first:?}"
    );

    // Call the contract until the script has seen every kind of event on both transports.
    let mut sent = BTreeMap::new();
    let start = Instant::now();
    let report = loop {
        if let Ok(line) = lines.try_recv() {
            break serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|err| panic!("watch.mjs printed {line}: {err}"));
        }
        if let Some(status) = script.0.try_wait().unwrap() {
            // It may have printed its report just before exiting.
            if let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(1), lines.recv()).await
                && status.success()
            {
                break serde_json::from_str(&line).unwrap();
            }
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut script.0.stderr.take().unwrap(), &mut stderr)
                .unwrap();
            panic!(
                "watch.mjs failed ({status}):\n{stderr}\n{}",
                tail(devnet.log())
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "watch.mjs saw nothing complete in 90 s\n{}",
            tail(devnet.log())
        );
        let value = 1_000 + sent.len() as u64;
        sent.insert(ping(wallet, contract, value).await, value);
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    let methods: BTreeSet<&str> = report["httpMethods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        !methods.contains("eth_getLogs"),
        "viem fell back from filters to eth_getLogs: {methods:?}"
    );
    for transport in ["ws", "http"] {
        let seen = &report[transport];
        for hash in seen["pending"].as_array().unwrap() {
            let hash: B256 = serde_json::from_value(hash.clone()).unwrap();
            assert!(
                sent.contains_key(&hash),
                "{transport}: unknown pending {hash}"
            );
        }
        for event in seen["events"].as_array().unwrap() {
            let hash: B256 = serde_json::from_value(event["transactionHash"].clone()).unwrap();
            let value = sent
                .get(&hash)
                .unwrap_or_else(|| panic!("{transport}: event of an unknown transaction {event}"));
            assert_eq!(event["value"], json!(format!("{value:#x}")), "{transport}");
            assert_eq!(
                event["from"].as_str().unwrap().parse::<Address>().unwrap(),
                sender
            );
        }
        for block in seen["blocks"].as_array().unwrap() {
            let served = devnet
                .l2("eth_getBlockByNumber", json!([block["number"], false]))
                .await;
            assert_eq!(block["hash"], served["hash"], "{transport}: {block}");
        }
    }
}
