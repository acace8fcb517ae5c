//! The RPC server over real MDBX and real sockets: genesis plus two blocks (deposits and one
//! signed transaction), queried over HTTP and WebSocket.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use alloy_consensus::{EMPTY_ROOT_HASH, SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{BlockNumHash, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bloom, Bytes, TxKind, U256, address, b256, hex};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolError;
use rollup_execution::{BlockInput, execute_block};
use rollup_primitives::{
    ContractAddresses, GenesisAccount, Heads, L2Genesis, L2Transaction, OUTPUT_ROOT_VERSION,
    OutputRoot, RollupConfig, TxDeposit,
};
use rollup_rpc::{RpcContext, RpcServerConfig, start_server};
use rollup_sequencer::{PoolConfig, TxPool};
use rollup_storage::{BlockDerivation, Store};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

mod flow;
mod live;
mod status;
mod trace;

const ETHER: u128 = 1_000_000_000_000_000_000;
const CHAIN_ID: u64 = 901;
const MAX_BLOCK_RANGE: u64 = 2;

/// Runtime code returning the word 42.
const RETURNS_42: Address = address!("0x00000000000000000000000000000000000c0de1");
/// Runtime code reverting with `Error("nope")`.
const REVERTS: Address = address!("0x00000000000000000000000000000000000c0de2");
/// Runtime code emitting `LOG1(TOPIC)` with empty data.
const EMITS_LOG: Address = address!("0x00000000000000000000000000000000000c0de3");
const TOPIC: B256 = b256!("0x1111111111111111111111111111111111111111111111111111111111111111");
/// Runtime code `JUMPDEST PUSH1 0 JUMP`: a loop only gas or time ends.
const LOOPS: Address = address!("0x00000000000000000000000000000000000c0de4");
/// Runtime code `SLOAD(7)`, `BALANCE(RECIPIENT)`, `STOP`: one slot and one other account.
const READS: Address = address!("0x00000000000000000000000000000000000c0de5");
const DEPOSITOR: Address = address!("0x00000000000000000000000000000000000d0d01");
const RECIPIENT: Address = address!("0x00000000000000000000000000000000000b0b01");

fn reverting_code() -> Bytes {
    let data = alloy_sol_types::Revert::from("nope").abi_encode();
    // CODECOPY(0, 12, len); REVERT(0, len) — the 12-byte prefix, then the revert data.
    let len = u8::try_from(data.len()).unwrap();
    let mut code = vec![0x60, len, 0x60, 12, 0x60, 0, 0x39, 0x60, len, 0x60, 0, 0xfd];
    code.extend_from_slice(&data);
    code.into()
}

fn log_code() -> Bytes {
    // PUSH32 TOPIC; PUSH1 0; PUSH1 0; LOG1; STOP
    let mut code = vec![0x7f];
    code.extend_from_slice(TOPIC.as_slice());
    code.extend_from_slice(&[0x60, 0, 0x60, 0, 0xa1, 0x00]);
    code.into()
}

fn signer() -> PrivateKeySigner {
    // anvil's first dev key
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap()
}

fn config() -> RollupConfig {
    config_with_gas_limit(30_000_000)
}

fn config_with_gas_limit(gas_limit: u64) -> RollupConfig {
    let mut alloc = BTreeMap::new();
    alloc.insert(
        signer().address(),
        GenesisAccount {
            balance: U256::from(10 * ETHER),
            ..Default::default()
        },
    );
    alloc.insert(
        RETURNS_42,
        GenesisAccount {
            code: Some(Bytes::from_static(&hex!("602a60005260206000f3"))),
            storage: BTreeMap::from([(B256::ZERO, B256::with_last_byte(7))]),
            ..Default::default()
        },
    );
    alloc.insert(
        REVERTS,
        GenesisAccount {
            code: Some(reverting_code()),
            ..Default::default()
        },
    );
    alloc.insert(
        EMITS_LOG,
        GenesisAccount {
            code: Some(log_code()),
            ..Default::default()
        },
    );
    alloc.insert(
        LOOPS,
        GenesisAccount {
            code: Some(Bytes::from_static(&hex!("5b600056"))),
            ..Default::default()
        },
    );
    alloc.insert(
        READS,
        GenesisAccount {
            code: Some(
                [
                    &hex!("6007545073")[..],
                    RECIPIENT.as_slice(),
                    &hex!("315000"),
                ]
                .concat()
                .into(),
            ),
            ..Default::default()
        },
    );
    RollupConfig {
        l1_chain_id: 1337,
        l2_chain_id: CHAIN_ID,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(0xb1),
            batch_inbox: Address::repeat_byte(0xb2),
            state_manager: Address::repeat_byte(0xb3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash {
                number: 10,
                hash: B256::repeat_byte(0x10),
            },
            timestamp: 1_000,
            gas_limit,
            base_fee_per_gas: 1_000_000_000,
            alloc,
        },
        sequencing_window: 10,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(4),
    }
}

/// Where the fixture's safe block 1 was derived from.
const BLOCK1_DERIVATION: BlockDerivation = BlockDerivation {
    batch: B256::repeat_byte(0xba),
    inbox_record: 3,
    block_in_record: 1,
    l1_block: 12,
};

fn deposit(seed: u8, mint: u128, to: Address, value: U256) -> L2Transaction {
    L2Transaction::Deposit(TxDeposit {
        source_hash: B256::repeat_byte(seed),
        from: DEPOSITOR,
        to,
        mint,
        value,
        gas_limit: 100_000,
        input: Bytes::new(),
    })
}

/// Appends a block on L1 origin 13 whose one deposit (nonce `seed`) calls the logging
/// contract, so the block has one log.
fn append_logging_block(store: &Store, seed: u8) -> B256 {
    append(
        store,
        &config(),
        13,
        vec![deposit(seed, ETHER, EMITS_LOG, U256::ZERO)],
    )
}

fn append(
    store: &Store,
    config: &RollupConfig,
    l1_origin: u64,
    transactions: Vec<L2Transaction>,
) -> B256 {
    let reader = store.reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let parent = reader.header(head).unwrap().unwrap();
    let parent_hash = reader.block_hash(head).unwrap().unwrap();
    let input = BlockInput {
        timestamp: parent.timestamp + 2,
        parent,
        parent_hash,
        l1_origin: BlockNumHash {
            number: l1_origin,
            hash: B256::repeat_byte(l1_origin as u8),
        },
        prevrandao: B256::repeat_byte(0x55),
        beneficiary: Address::ZERO,
        gas_limit: config.genesis.gas_limit,
        chain_id: config.l2_chain_id,
        transactions,
    };
    let mut executed = execute_block(reader, input).unwrap();
    let mut writer = store.writer().unwrap();
    let hash = writer
        .append_block(&mut executed.block, &executed.receipts, &executed.bundle)
        .unwrap();
    writer.commit().unwrap();
    hash
}

struct Fixture {
    addr: SocketAddr,
    store: Store,
    deposit_with_log: B256,
    signed: B256,
    hashes: [B256; 3],
    _handle: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
    _heads: tokio::sync::watch::Sender<Heads>,
}

/// What a test changes about the fixture.
struct FixtureOptions {
    server: RpcServerConfig,
    block_gas_limit: u64,
    max_readers: u64,
}

impl Default for FixtureOptions {
    fn default() -> Self {
        Self {
            server: RpcServerConfig {
                addr: "127.0.0.1:0".parse().unwrap(),
                max_block_range: MAX_BLOCK_RANGE,
                max_connections: 16,
                ..Default::default()
            },
            block_gas_limit: 30_000_000,
            max_readers: rollup_storage::DEFAULT_MAX_READERS,
        }
    }
}

async fn fixture() -> Fixture {
    fixture_with(FixtureOptions::default()).await
}

async fn fixture_with(options: FixtureOptions) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_gas_limit(options.block_gas_limit);
    let store = Store::open_with_max_readers(dir.path(), options.max_readers).unwrap();
    let genesis = store.init_genesis(&config).unwrap();

    let with_log = deposit(1, 5 * ETHER, EMITS_LOG, U256::ZERO);
    let block1 = append(&store, &config, 11, vec![with_log.clone()]);

    let transfer = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(RECIPIENT),
        value: U256::from(1_000),
        ..Default::default()
    };
    let signature = signer().sign_hash_sync(&transfer.signature_hash()).unwrap();
    let envelope = TxEnvelope::from(transfer.into_signed(signature));
    let signed = L2Transaction::Signed {
        envelope,
        sender: signer().address(),
    };
    let block2 = append(
        &store,
        &config,
        12,
        vec![
            deposit(2, ETHER, RECIPIENT, U256::from(ETHER / 2)),
            signed.clone(),
        ],
    );
    // Block 1 is safe: derived from the record `BLOCK1_DERIVATION` names.
    let mut writer = store.writer().unwrap();
    writer.set_block_derivation(1, &BLOCK1_DERIVATION).unwrap();
    writer.commit().unwrap();

    let heads = Heads {
        unsafe_l2: BlockNumHash {
            number: 2,
            hash: block2,
        },
        safe_l2: BlockNumHash {
            number: 1,
            hash: block1,
        },
        finalized_l2: BlockNumHash {
            number: 0,
            hash: genesis,
        },
        l1_cursor: BlockNumHash {
            number: 12,
            hash: B256::repeat_byte(12),
        },
        l1_finalized: BlockNumHash {
            number: 10,
            hash: B256::repeat_byte(0x10),
        },
    };
    let (heads_tx, heads_rx) = tokio::sync::watch::channel(heads);
    let pool = Arc::new(TxPool::new(PoolConfig::default(), &config, store.clone()));
    let health = rollup_primitives::Health::default();
    health
        .role("sequencer")
        .success("sealed L2 block 2 with 2 transactions");
    // An L1 outage that ended, and a role still failing.
    let follower = health.role("l1-follower");
    follower.error("L1 poll failed: connection refused");
    follower.success("followed L1 up to block 12");
    health
        .role("batcher")
        .error("posting the batch failed: nonce too low");
    let ctx =
        RpcContext::new(store.clone(), Arc::new(config), heads_rx, Some(pool)).with_health(health);
    let (addr, handle) = start_server(options.server, ctx).await.unwrap();
    Fixture {
        addr,
        store,
        deposit_with_log: with_log.hash(),
        signed: signed.hash(),
        hashes: [genesis, block1, block2],
        _handle: handle,
        _dir: dir,
        _heads: heads_tx,
    }
}

/// POSTs `body` and returns the HTTP status and the response body.
async fn http_post(addr: SocketAddr, body: &str) -> (u16, String) {
    http_post_with(addr, "", body).await
}

/// POSTs `body` with more header lines (`name: value\r\n` each) and returns the HTTP status
/// and the response body.
async fn http_post_with(addr: SocketAddr, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// One JSON-RPC call; returns the whole response object.
async fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let (_, body) = http_post(addr, &body).await;
    serde_json::from_str(&body).unwrap_or_else(|err| panic!("{method}: bad response {body}: {err}"))
}

/// The `result` of a call that must succeed.
async fn result(addr: SocketAddr, method: &str, params: Value) -> Value {
    let response = call(addr, method, params).await;
    assert!(
        response.get("error").is_none(),
        "{method} failed: {response}"
    );
    response["result"].clone()
}

/// The `error` of a call that must fail.
async fn error(addr: SocketAddr, method: &str, params: Value) -> Value {
    let response = call(addr, method, params).await;
    assert!(
        response.get("error").is_some(),
        "{method} should fail: {response}"
    );
    response["error"].clone()
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn hex_u128(value: &Value) -> u128 {
    u128::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_over_geths_limit_is_refused_whole() {
    let f = fixture().await;
    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(
                    |id| json!({"jsonrpc": "2.0", "id": id, "method": "eth_chainId", "params": []}),
                )
                .collect(),
        )
        .to_string()
    };
    let limit = rollup_rpc::MAX_BATCH_REQUESTS as usize;
    let (_, body) = http_post(f.addr, &batch(limit)).await;
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answers.as_array().unwrap().len(), limit);
    assert!(answers[0].get("result").is_some(), "{}", answers[0]);
    let (_, body) = http_post(f.addr, &batch(limit + 1)).await;
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["error"]["code"], json!(-32010), "{refused}");
}

/// Any number is an id, as geth has it: a request whose id jsonrpsee cannot hold (negative,
/// fractional, with an exponent, above 2^64 - 1) runs and is answered with its id as sent.
/// Before, it was taken for a notification and got no answer. An id that is no string, number
/// or null is refused.
#[tokio::test(flavor = "multi_thread")]
async fn every_numeric_id_is_answered_as_sent() {
    let f = fixture().await;
    let chain_id = result(f.addr, "eth_chainId", json!([])).await;
    for id in ["-1", "1.5", "1e3", "18446744073709551616", "7"] {
        let request =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_chainId","params":[]}}"#);
        let (status, body) = http_post(f.addr, &request).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{chain_id}}}"#),
            "id {id}"
        );
    }
    let batch = r#"[{"jsonrpc":"2.0","id":-2,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":3,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":0.5,"method":"no_such_method","params":[]}]"#;
    let (_, body) = http_post(f.addr, batch).await;
    assert!(
        body.starts_with(&format!(
            r#"[{{"jsonrpc":"2.0","id":-2,"result":{chain_id}}},{{"jsonrpc":"2.0","id":3,"result":{chain_id}}},{{"jsonrpc":"2.0","id":0.5,"error":{{"code":-32601"#
        )),
        "{body}"
    );
    let (_, body) = http_post(
        f.addr,
        r#"{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId","params":[]}"#,
    )
    .await;
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["error"]["code"], json!(-32600), "{refused}");
    assert_eq!(refused["id"], Value::Null);
}

/// A notification (a request without an id) runs and gets no answer, as geth has it over HTTP:
/// before, it was not run and the server answered `null`. In a batch only the requests with
/// ids are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_runs_and_gets_no_answer() {
    let fx = fixture().await;
    let chain_id = config().l2_chain_id;
    let fee = 100_000_000_000u128;
    let raw = signed_raw(chain_id, 1, fee, 21_000, vec![]);
    let hash = alloy_primitives::keccak256(&raw);
    let request = json!({"jsonrpc": "2.0", "method": "eth_sendRawTransaction", "params": [raw]});
    let (status, body) = http_post(fx.addr, &request.to_string()).await;
    assert_eq!((status, body.as_str()), (204, ""));
    let pooled = result(fx.addr, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(
        pooled["hash"],
        json!(hash),
        "the notification did not run: {pooled}"
    );

    let raw = signed_raw(chain_id, 2, fee, 21_000, vec![]);
    let hash = alloy_primitives::keccak256(&raw);
    let batch = json!([
        {"jsonrpc": "2.0", "method": "eth_sendRawTransaction", "params": [raw]},
        {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
    ]);
    let (status, body) = http_post(fx.addr, &batch.to_string()).await;
    assert_eq!(status, 200);
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answers,
        json!([{"jsonrpc": "2.0", "id": 7, "result": format!("{chain_id:#x}")}])
    );
    let pooled = result(fx.addr, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(pooled["hash"], json!(hash), "{pooled}");
    // Without `"jsonrpc": "2.0"` it is no notification jsonrpsee runs: refused, and said so
    // (not a silent 204 for a transaction that never reached the pool).
    let raw = signed_raw(chain_id, 3, fee, 21_000, vec![]);
    let request = json!({"method": "eth_sendRawTransaction", "params": [raw]});
    let (status, body) = http_post(fx.addr, &request.to_string()).await;
    let refused: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status} {body}"));
    assert_eq!(refused["id"], Value::Null, "{refused}");
    assert!(refused["error"]["code"].is_i64(), "{refused}");
    // Notifications alone in a batch: no answer either.
    let batch = json!([{"jsonrpc": "2.0", "method": "eth_chainId"}, {"jsonrpc": "2.0", "method": "eth_blockNumber"}]);
    let (status, body) = http_post(fx.addr, &batch.to_string()).await;
    assert_eq!((status, body.as_str()), (204, ""));
}

/// A batch just under the request bound whose ids are swapped for longer stand-ins is still
/// answered (jsonrpsee read the rewritten body against the same bound, and answered 500).
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_near_the_size_bound_with_odd_ids_is_answered() {
    let f = fixture().await;
    let count = rollup_rpc::MAX_BATCH_REQUESTS as usize;
    let entry = |i: usize, pad: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":-{i},"method":"web3_sha3","params":["0x{}"]}}"#,
            "ab".repeat(pad)
        )
    };
    let small: usize = (0..count).map(|i| entry(i, 0).len() + 1).sum();
    let pad = (10 * 1024 * 1024 - 200 - small) / count / 2;
    let body = format!(
        "[{}]",
        (0..count)
            .map(|i| entry(i, pad))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(body.len() <= 10 * 1024 * 1024 && body.len() > 10 * 1024 * 1024 - 2 * count);
    let (status, answer) = http_post(f.addr, &body).await;
    assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
    let answers: Vec<Value> = serde_json::from_str(&answer).unwrap();
    assert_eq!(answers.len(), count);
    assert_eq!(answers[5]["id"], json!(-5), "{}", answers[5]);
}

#[tokio::test(flavor = "multi_thread")]
async fn chain_info_and_state_queries() {
    let f = fixture().await;
    assert_eq!(
        result(f.addr, "eth_chainId", json!([])).await,
        json!("0x385")
    );
    assert_eq!(result(f.addr, "net_version", json!([])).await, json!("901"));
    assert_eq!(
        result(f.addr, "web3_clientVersion", json!([])).await,
        json!(format!("rollup-node/{}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        result(f.addr, "eth_blockNumber", json!([])).await,
        json!("0x2")
    );
    assert_eq!(result(f.addr, "eth_syncing", json!([])).await, json!(false));
    assert!(hex_u128(&result(f.addr, "eth_gasPrice", json!([])).await) > 1_000_000_000);
    assert_eq!(
        result(f.addr, "eth_maxPriorityFeePerGas", json!([])).await,
        json!("0x3b9aca00")
    );

    // The depositor got 5 ether in block 1, then 1 more and sent half of one away in block 2.
    let balance = |block: Value| {
        let addr = f.addr;
        async move { hex_u128(&result(addr, "eth_getBalance", json!([DEPOSITOR, block])).await) }
    };
    assert_eq!(balance(json!("latest")).await, 5 * ETHER + ETHER / 2);
    assert_eq!(balance(json!("pending")).await, 5 * ETHER + ETHER / 2);
    assert_eq!(balance(json!("0x1")).await, 5 * ETHER);
    assert_eq!(balance(json!("safe")).await, 5 * ETHER);
    assert_eq!(balance(json!("finalized")).await, 0);
    assert_eq!(balance(json!("earliest")).await, 0);
    assert_eq!(balance(json!({"blockHash": f.hashes[1]})).await, 5 * ETHER);
    assert_eq!(
        balance(json!({"blockNumber": "0x2"})).await,
        5 * ETHER + ETHER / 2
    );
    assert_eq!(
        hex_u128(&result(f.addr, "eth_getBalance", json!([RECIPIENT])).await),
        ETHER / 2 + 1_000,
        "the block parameter defaults to latest"
    );
    let unknown = error(f.addr, "eth_getBalance", json!([DEPOSITOR, "0x9"])).await;
    assert_eq!(unknown["code"], -32000, "{unknown}");

    let nonce = |who: Address, block: &'static str| {
        let addr = f.addr;
        async move { hex_u64(&result(addr, "eth_getTransactionCount", json!([who, block])).await) }
    };
    assert_eq!(nonce(signer().address(), "latest").await, 1);
    assert_eq!(nonce(signer().address(), "0x1").await, 0);
    let stored = f
        .store
        .reader()
        .unwrap()
        .account(DEPOSITOR)
        .unwrap()
        .unwrap()
        .nonce;
    assert_eq!(nonce(DEPOSITOR, "latest").await, stored);

    assert_eq!(
        result(f.addr, "eth_getCode", json!([RETURNS_42, "latest"])).await,
        json!("0x602a60005260206000f3")
    );
    assert_eq!(
        result(f.addr, "eth_getCode", json!([RECIPIENT, "latest"])).await,
        json!("0x")
    );
    // reth's eth_getAccountInfo: the three in one, at any block.
    assert_eq!(
        result(f.addr, "eth_getAccountInfo", json!([RETURNS_42, "latest"])).await,
        json!({"balance": "0x0", "nonce": "0x0", "code": "0x602a60005260206000f3"})
    );
    assert_eq!(
        result(f.addr, "eth_getAccountInfo", json!([DEPOSITOR, "0x1"])).await,
        json!({
            "balance": format!("{:#x}", 5 * ETHER),
            "nonce": result(f.addr, "eth_getTransactionCount", json!([DEPOSITOR, "0x1"])).await,
            "code": "0x"
        })
    );
    let signer_info = result(f.addr, "eth_getAccountInfo", json!([signer().address()])).await;
    assert_eq!(signer_info["nonce"], json!("0x1"), "{signer_info}");
    assert_eq!(
        result(
            f.addr,
            "eth_getAccountInfo",
            json!([Address::repeat_byte(0x99)])
        )
        .await,
        json!({"balance": "0x0", "nonce": "0x0", "code": "0x"})
    );
    assert_eq!(
        result(
            f.addr,
            "eth_getStorageAt",
            json!([RETURNS_42, "0x0", "latest"])
        )
        .await,
        json!(format!("{}", B256::with_last_byte(7)))
    );
    assert_eq!(
        result(
            f.addr,
            "eth_getStorageAt",
            json!([RETURNS_42, "0x1", "earliest"])
        )
        .await,
        json!(format!("{}", B256::ZERO))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blocks_transactions_and_receipts() {
    let f = fixture().await;
    let block = result(f.addr, "eth_getBlockByNumber", json!(["0x1", false])).await;
    assert_eq!(block["hash"], json!(f.hashes[1]));
    assert_eq!(block["parentHash"], json!(f.hashes[0]));
    assert_eq!(block["number"], json!("0x1"));
    assert_eq!(block["transactions"], json!([f.deposit_with_log]));
    assert_eq!(block["uncles"], json!([]));
    assert_eq!(
        block["l1Origin"],
        json!({"number": "0xb", "hash": B256::repeat_byte(11)})
    );
    for field in [
        "sha3Uncles",
        "miner",
        "stateRoot",
        "transactionsRoot",
        "receiptsRoot",
        "logsBloom",
        "difficulty",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "extraData",
        "mixHash",
        "nonce",
        "baseFeePerGas",
        "size",
    ] {
        assert!(block.get(field).is_some(), "block lacks {field}: {block}");
    }
    let by_hash = result(f.addr, "eth_getBlockByHash", json!([f.hashes[1], false])).await;
    assert_eq!(by_hash, block);
    assert_eq!(
        result(f.addr, "eth_getBlockByNumber", json!(["0x7", false])).await,
        Value::Null
    );
    assert_eq!(
        result(
            f.addr,
            "eth_getBlockByHash",
            json!([B256::repeat_byte(9), true])
        )
        .await,
        Value::Null
    );
    assert_eq!(
        result(f.addr, "eth_getBlockByNumber", json!(["safe", false])).await["hash"],
        json!(f.hashes[1])
    );

    let full = result(f.addr, "eth_getBlockByNumber", json!(["latest", true])).await;
    let txs = full["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0]["type"], "0x7e");
    assert_eq!(txs[1]["type"], "0x2");
    assert_eq!(txs[1]["hash"], json!(f.signed));
    assert_eq!(txs[1]["from"], json!(signer().address()));
    assert_eq!(
        result(
            f.addr,
            "eth_getBlockTransactionCountByNumber",
            json!(["0x2"])
        )
        .await,
        json!("0x2")
    );

    let tx = result(
        f.addr,
        "eth_getTransactionByHash",
        json!([f.deposit_with_log]),
    )
    .await;
    assert_eq!(tx["type"], "0x7e");
    assert_eq!(tx["sourceHash"], json!(B256::repeat_byte(1)));
    assert_eq!(tx["from"], json!(DEPOSITOR));
    assert_eq!(tx["to"], json!(EMITS_LOG));
    assert_eq!(tx["mint"], json!(format!("{:#x}", 5 * ETHER)));
    assert_eq!(tx["gas"], "0x186a0");
    assert_eq!(
        (tx["nonce"].clone(), tx["gasPrice"].clone(), tx["v"].clone()),
        (json!("0x0"), json!("0x0"), json!("0x0"))
    );
    assert_eq!(tx["blockHash"], json!(f.hashes[1]));
    assert_eq!(tx["blockNumber"], "0x1");
    assert_eq!(tx["transactionIndex"], "0x0");
    assert_eq!(
        result(
            f.addr,
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x1", "0x0"])
        )
        .await,
        tx
    );
    assert_eq!(
        result(
            f.addr,
            "eth_getTransactionByHash",
            json!([B256::repeat_byte(3)])
        )
        .await,
        Value::Null
    );
    // The bytes of an included one hash to it, a deposit's in its 0x7e encoding.
    for hash in [f.deposit_with_log, f.signed] {
        let raw = result(f.addr, "eth_getRawTransactionByHash", json!([hash])).await;
        let raw: alloy_primitives::Bytes = serde_json::from_value(raw).unwrap();
        assert_eq!(alloy_primitives::keccak256(&raw), hash);
    }
    let raw = result(
        f.addr,
        "eth_getRawTransactionByHash",
        json!([f.deposit_with_log]),
    )
    .await;
    assert!(raw.as_str().unwrap().starts_with("0x7e"), "{raw}");
    assert_eq!(
        result(
            f.addr,
            "eth_getRawTransactionByHash",
            json!([B256::repeat_byte(3)])
        )
        .await,
        Value::Null
    );

    let receipt = result(
        f.addr,
        "eth_getTransactionReceipt",
        json!([f.deposit_with_log]),
    )
    .await;
    assert_eq!(receipt["type"], "0x7e");
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["transactionHash"], json!(f.deposit_with_log));
    assert_eq!(receipt["blockHash"], json!(f.hashes[1]));
    assert_eq!(receipt["from"], json!(DEPOSITOR));
    assert_eq!(receipt["to"], json!(EMITS_LOG));
    assert_eq!(receipt["contractAddress"], Value::Null);
    assert_eq!(receipt["effectiveGasPrice"], "0x0");
    assert_eq!(receipt["gasUsed"], receipt["cumulativeGasUsed"]);
    let logs = receipt["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["address"], json!(EMITS_LOG));
    assert_eq!(logs[0]["topics"], json!([TOPIC]));
    assert_eq!(logs[0]["logIndex"], "0x0");
    assert_eq!(logs[0]["transactionHash"], json!(f.deposit_with_log));
    assert_eq!(logs[0]["blockNumber"], "0x1");
    assert_eq!(logs[0]["removed"], false);
    assert_ne!(receipt["logsBloom"], json!(alloy_primitives::Bloom::ZERO));

    assert_eq!(receipt["depositReceiptVersion"], "0x1");
    let signed = result(f.addr, "eth_getTransactionReceipt", json!([f.signed])).await;
    assert_eq!(signed["type"], "0x2");
    assert!(signed.get("depositNonce").is_none(), "{signed}");
    assert!(signed.get("depositReceiptVersion").is_none(), "{signed}");
    assert_eq!(signed["gasUsed"], "0x5208");
    assert_eq!(signed["transactionIndex"], "0x1");
    let block_receipts = result(f.addr, "eth_getBlockReceipts", json!(["latest"])).await;
    assert_eq!(block_receipts[1], signed);
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_status_reports_heads_with_l1_origins() {
    let f = fixture().await;
    let status = result(f.addr, "rollup_syncStatus", json!([])).await;
    assert_eq!(status["unsafeL2"]["number"], 2);
    assert_eq!(status["unsafeL2"]["hash"], json!(f.hashes[2]));
    assert_eq!(
        status["unsafeL2"]["l1Origin"],
        json!({"number": 12, "hash": B256::repeat_byte(12)})
    );
    assert_eq!(status["safeL2"]["l1Origin"]["number"], 11);
    assert_eq!(
        status["finalizedL2"]["l1Origin"],
        json!({"number": 10, "hash": B256::repeat_byte(0x10)})
    );
    assert_eq!(
        status["l1Cursor"],
        json!({"number": 12, "hash": B256::repeat_byte(12)})
    );
    assert_eq!(status["l1Finalized"]["number"], 10);
}

/// A deposit shows the nonce of its sender it used up, as op-geth shows it (in the
/// transaction's `nonce` and the receipt's `depositNonce`): two deposits of one sender in one
/// block use its next two nonces.
#[tokio::test(flavor = "multi_thread")]
async fn deposits_show_the_nonce_they_used() {
    let f = fixture().await;
    let before = hex_u64(
        &result(
            f.addr,
            "eth_getTransactionCount",
            json!([DEPOSITOR, "latest"]),
        )
        .await,
    );
    assert!(before > 0, "the fixture's deposits used some");
    let block = append(
        &f.store,
        &config(),
        13,
        vec![
            deposit(3, 0, RECIPIENT, U256::ZERO),
            deposit(4, 0, RECIPIENT, U256::ZERO),
        ],
    );
    let full = result(f.addr, "eth_getBlockByHash", json!([block, true])).await;
    let txs = full["transactions"].as_array().unwrap();
    let number = full["number"].clone();
    for index in 0..2u64 {
        let tx = &txs[index as usize];
        assert_eq!(hex_u64(&tx["nonce"]), before + index, "{tx}");
        assert_eq!(
            &result(f.addr, "eth_getTransactionByHash", json!([tx["hash"]])).await,
            tx
        );
        // Its receipt shows the same, as op-geth's do since Canyon.
        let receipt = result(f.addr, "eth_getTransactionReceipt", json!([tx["hash"]])).await;
        assert_eq!(receipt["depositNonce"], tx["nonce"], "{receipt}");
        assert_eq!(receipt["depositReceiptVersion"], "0x1");
        let receipts = result(f.addr, "eth_getBlockReceipts", json!([block])).await;
        assert_eq!(receipts[index as usize], receipt);
        assert_eq!(
            &result(
                f.addr,
                "eth_getTransactionByBlockNumberAndIndex",
                json!([number, format!("{index:#x}")])
            )
            .await,
            tx
        );
    }
    // The account's nonce agrees: two more used up.
    let after = result(
        f.addr,
        "eth_getTransactionCount",
        json!([DEPOSITOR, "latest"]),
    )
    .await;
    assert_eq!(hex_u64(&after), before + 2);

    // A deposit refused before it ran (a value the sender does not hold) uses up no nonce: it
    // and the next one show the same.
    let block = append(
        &f.store,
        &config(),
        13,
        vec![
            deposit(5, 0, RECIPIENT, U256::from(u128::MAX)),
            deposit(6, 0, RECIPIENT, U256::ZERO),
        ],
    );
    let full = result(f.addr, "eth_getBlockByHash", json!([block, true])).await;
    let receipts = result(f.addr, "eth_getBlockReceipts", json!([block])).await;
    assert_eq!(receipts[0]["status"], "0x0", "{receipts}");
    assert_eq!(receipts[0]["gasUsed"], "0x0", "{receipts}");
    for tx in full["transactions"].as_array().unwrap() {
        assert_eq!(hex_u64(&tx["nonce"]), before + 2, "{tx}");
    }
    let last = result(
        f.addr,
        "eth_getTransactionCount",
        json!([DEPOSITOR, "latest"]),
    )
    .await;
    assert_eq!(hex_u64(&last), before + 3);
}

/// Calls and estimates are refused where geth and reth refuse them, in their words, so a
/// simulation never succeeds for what the pool would then refuse.
#[tokio::test(flavor = "multi_thread")]
async fn calls_are_refused_as_geth_refuses_them() {
    let f = fixture().await;
    let from = signer().address();
    let refused = |request: Value| async move {
        let call = error(f.addr, "eth_call", json!([request.clone(), "latest"])).await;
        let estimate = error(f.addr, "eth_estimateGas", json!([request])).await;
        assert_eq!(call, estimate);
        (
            call["code"].as_i64().unwrap(),
            call["message"].as_str().unwrap().to_string(),
        )
    };
    for (request, code, message) in [
        (
            json!({"from": from, "to": RECIPIENT, "authorizationList": []}),
            -32602,
            "EIP-7702 authorizations are not supported",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "blobVersionedHashes": [B256::with_last_byte(1)]}),
            -32602,
            "blob transactions are not supported",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "chainId": "0x1"}),
            -32000,
            "chainId does not match node's (have=1, want=901)",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "maxFeePerGas": "0x100", "maxPriorityFeePerGas": "0x200"}),
            -32000,
            "maxFeePerGas (256) < maxPriorityFeePerGas (512)",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "gasPrice": "0x100", "maxFeePerGas": "0x200"}),
            -32000,
            "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "maxFeePerGas": "0x1"}),
            -32000,
            "max fee per gas less than block base fee",
        ),
    ] {
        let (have_code, have_message) = refused(request.clone()).await;
        assert_eq!(have_code, code, "{request}: {have_message}");
        assert!(have_message.contains(message), "{request}: {have_message}");
    }

    // revm's words turned into geth's.
    let call = |request: Value| async move {
        error(f.addr, "eth_call", json!([request, "latest"])).await["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        call(json!({"to": LOOPS, "gas": "0x5208", "data": "0x0102"})).await,
        "intrinsic gas too low: have 21000, want 21032"
    );
    assert!(
        call(json!({"from": RECIPIENT, "to": LOOPS, "gasPrice": "0xffffffffffffffffffffffff"}))
            .await
            .starts_with("insufficient funds for gas * price + value: address "),
    );
    assert_eq!(
        call(json!({"data": "0xfe"})).await,
        "invalid opcode: INVALID"
    );
}

/// `eth_fillTransaction` (viem prepares transactions with it first): the request filled in as
/// geth fills it, unsigned; signed as answered, the pool takes it, and the next fill counts it.
#[tokio::test(flavor = "multi_thread")]
async fn transactions_are_filled_as_geth_fills_them() {
    use alloy_eips::eip2718::Decodable2718;
    let f = fixture().await;
    let from = signer().address();
    let head = result(f.addr, "eth_getBlockByNumber", json!(["latest", false])).await;
    let base_fee = hex_u128(&head["baseFeePerGas"]);

    let filled = result(
        f.addr,
        "eth_fillTransaction",
        json!([{"from": from, "to": RECIPIENT, "value": "0x7"}]),
    )
    .await;
    let tx = &filled["tx"];
    assert_eq!(tx["type"], "0x2", "{filled}");
    assert_eq!(hex_u64(&tx["chainId"]), CHAIN_ID);
    assert_eq!(
        hex_u64(&tx["nonce"]),
        1,
        "the fixture's block 2 used nonce 0"
    );
    assert_eq!(hex_u64(&tx["gas"]), 21_000);
    assert_eq!(hex_u128(&tx["value"]), 7);
    let tip = hex_u128(&result(f.addr, "eth_maxPriorityFeePerGas", json!([])).await);
    assert_eq!(hex_u128(&tx["maxPriorityFeePerGas"]), tip);
    assert_eq!(hex_u128(&tx["maxFeePerGas"]), tip + 2 * base_fee);
    assert_eq!(tx["r"], "0x0");
    // `raw` is `tx` encoded, its signature zero.
    let raw: Bytes = serde_json::from_value(filled["raw"].clone()).unwrap();
    let decoded = TxEnvelope::decode_2718(&mut raw.as_ref()).unwrap();
    assert_eq!(serde_json::to_value(&decoded).unwrap(), *tx);

    // Signed as answered, it is a transaction the pool takes.
    let unsigned = decoded.as_eip1559().unwrap().tx().clone();
    let signature = signer().sign_hash_sync(&unsigned.signature_hash()).unwrap();
    let signed = TxEnvelope::from(unsigned.into_signed(signature));
    let sent = result(
        f.addr,
        "eth_sendRawTransaction",
        json!([Bytes::from(
            alloy_eips::eip2718::Encodable2718::encoded_2718(&signed)
        )]),
    )
    .await;
    assert_eq!(sent, json!(signed.tx_hash()));
    let next = result(
        f.addr,
        "eth_fillTransaction",
        json!([{"from": from, "to": RECIPIENT}]),
    )
    .await;
    assert_eq!(
        hex_u64(&next["tx"]["nonce"]),
        2,
        "the pooled nonce is counted"
    );

    // What the caller names is kept: a legacy price, an access list, a gas limit, a nonce.
    let legacy = result(
        f.addr,
        "eth_fillTransaction",
        json!([{"from": from, "to": RECIPIENT, "gasPrice": "0x3b9aca00", "gas": "0x6000", "nonce": "0x9"}]),
    )
    .await;
    assert_eq!(legacy["tx"]["type"], "0x0", "{legacy}");
    assert_eq!(hex_u64(&legacy["tx"]["chainId"]), CHAIN_ID);
    assert_eq!(hex_u64(&legacy["tx"]["gas"]), 0x6000);
    assert_eq!(hex_u64(&legacy["tx"]["nonce"]), 9);
    let with_list = result(
        f.addr,
        "eth_fillTransaction",
        json!([{"from": from, "to": RECIPIENT, "gasPrice": "0x3b9aca00",
                "accessList": [{"address": RECIPIENT, "storageKeys": []}]}]),
    )
    .await;
    assert_eq!(with_list["tx"]["type"], "0x1", "{with_list}");
    assert_eq!(hex_u64(&with_list["tx"]["gas"]), 21_000 + 2_400);

    // Refused as geth refuses them.
    for (request, code, message) in [
        (
            json!({"from": from}),
            -32000,
            "contract creation without any data provided",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "chainId": "0x1"}),
            -32000,
            "chainId does not match node's (have=1, want=901)",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "maxFeePerGas": "0x1"}),
            -32000,
            "maxFeePerGas (1) < maxPriorityFeePerGas (1000000000)",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "gasPrice": "0x100", "maxFeePerGas": "0x200"}),
            -32000,
            "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified",
        ),
        (
            json!({"from": from, "to": RECIPIENT, "authorizationList": []}),
            -32602,
            "EIP-7702 authorizations are not supported",
        ),
        (
            json!({"from": RECIPIENT, "to": from, "value": "0xffffffffffffffffffffffffff"}),
            -32000,
            "insufficient funds for transfer",
        ),
    ] {
        let refused = error(f.addr, "eth_fillTransaction", json!([request])).await;
        assert_eq!(refused["code"], code, "{request}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().contains(message),
            "{request}: {refused}"
        );
    }
}

/// Methods a tool may call that mean little on an L2 answer as geth answers for a post-merge
/// node without peers.
#[tokio::test(flavor = "multi_thread")]
async fn uncles_peers_and_sha3_answer_as_geth() {
    let f = fixture().await;
    assert_eq!(result(f.addr, "net_peerCount", json!([])).await, "0x0");
    assert_eq!(
        result(f.addr, "web3_sha3", json!(["0x68656c6c6f"])).await,
        json!(alloy_primitives::keccak256("hello"))
    );
    assert_eq!(
        result(f.addr, "eth_getUncleCountByBlockNumber", json!(["latest"])).await,
        "0x0"
    );
    assert_eq!(
        result(f.addr, "eth_getUncleCountByBlockNumber", json!(["0xffff"])).await,
        Value::Null
    );
    let genesis = result(f.addr, "eth_getBlockByNumber", json!(["0x0", false])).await;
    assert_eq!(
        result(
            f.addr,
            "eth_getUncleCountByBlockHash",
            json!([genesis["hash"]])
        )
        .await,
        "0x0"
    );
    assert_eq!(
        result(f.addr, "eth_getUncleCountByBlockHash", json!([B256::ZERO])).await,
        Value::Null
    );
    for method in [
        "eth_getUncleByBlockNumberAndIndex",
        "eth_getUncleByBlockHashAndIndex",
    ] {
        assert_eq!(
            result(f.addr, method, json!([genesis["hash"], "0x0"])).await,
            Value::Null
        );
        assert_eq!(
            error(f.addr, method, json!(["latest"])).await["code"],
            -32602
        );
    }
}

/// `eth_createAccessList` lists what a call touches beyond its sender and recipient, with the
/// gas the call uses carrying that list; calls and estimates honour a request's access list.
#[tokio::test(flavor = "multi_thread")]
async fn access_lists_are_created_and_honoured() {
    let f = fixture().await;
    let from = signer().address();
    let created = result(
        f.addr,
        "eth_createAccessList",
        json!([{"from": from, "to": READS}, "latest"]),
    )
    .await;
    // Sorted by address; the recipient is listed only for its slots.
    let list = json!([
        {"address": RECIPIENT, "storageKeys": []},
        {"address": READS, "storageKeys": [B256::with_last_byte(7)]},
    ]);
    assert_eq!(created["accessList"], list, "{created}");
    assert!(created.get("error").is_none(), "{created}");
    // 21 000 + the list (2 × 2 400 + 1 900) + warm SLOAD and BALANCE (2 × 100) + pushes and pops.
    assert_eq!(hex_u64(&created["gasUsed"]), 27_910, "{created}");

    // The estimate follows the list it is given: without one the reads are cold (2 100 + 2 600).
    let estimate = |request: Value| async move {
        hex_u64(&result(f.addr, "eth_estimateGas", json!([request])).await)
    };
    assert_eq!(estimate(json!({"from": from, "to": READS})).await, 25_710);
    assert_eq!(
        estimate(json!({"from": from, "to": READS, "accessList": list})).await,
        27_910
    );

    // A call that fails still gets its list, and says why it failed.
    let reverted = result(f.addr, "eth_createAccessList", json!([{"to": REVERTS}])).await;
    assert_eq!(reverted["accessList"], json!([]), "{reverted}");
    assert_eq!(reverted["error"], "execution reverted: nope", "{reverted}");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_estimates_and_reverts() {
    let f = fixture().await;
    let output = result(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42, "data": "0x"}, "latest"]),
    )
    .await;
    assert_eq!(output, json!(format!("{}", B256::with_last_byte(42))));
    let output = result(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42, "input": "0x1234"}, "earliest"]),
    )
    .await;
    assert_eq!(output, json!(format!("{}", B256::with_last_byte(42))));

    let revert = error(f.addr, "eth_call", json!([{"to": REVERTS}, "latest"])).await;
    assert_eq!(revert["code"], 3);
    assert_eq!(revert["message"], "execution reverted: nope");
    let data: Bytes = alloy_sol_types::Revert::from("nope").abi_encode().into();
    assert_eq!(revert["data"], json!(data));

    let revert = error(f.addr, "eth_estimateGas", json!([{"to": REVERTS}])).await;
    assert_eq!(revert["code"], 3);

    let transfer = result(
        f.addr,
        "eth_estimateGas",
        json!([{"from": signer().address(), "to": RECIPIENT, "value": "0x1"}]),
    )
    .await;
    assert_eq!(hex_u64(&transfer), 21_000);
    let with_code = hex_u64(&result(f.addr, "eth_estimateGas", json!([{"to": EMITS_LOG}])).await);
    assert!(with_code > 21_000 && with_code < 30_000, "{with_code}");

    // The caller's balance counts, as in geth: a value above it is refused, and a gas price
    // limits the gas the balance pays for (the signer holds about 10 ETH).
    let rich = "0x56bc75e2d63100000"; // 100 ETH
    let estimate = error(
        f.addr,
        "eth_estimateGas",
        json!([{"from": signer().address(), "to": RECIPIENT, "value": rich}]),
    )
    .await;
    assert_eq!(
        (estimate["code"].clone(), estimate["message"].clone()),
        (json!(-32000), json!("insufficient funds for transfer"))
    );
    let call = error(
        f.addr,
        "eth_call",
        json!([{"from": signer().address(), "to": RECIPIENT, "value": rich}]),
    )
    .await;
    assert_eq!(call["code"], -32000);
    assert!(
        call["message"]
            .as_str()
            .unwrap()
            .starts_with("insufficient funds for gas * price + value: address"),
        "{call}"
    );
    // With a price too, in geth's words rather than as a gas limit of 0.
    let priced_call = error(
        f.addr,
        "eth_call",
        json!([{"from": signer().address(), "to": RECIPIENT, "value": rich, "gasPrice": "0x3b9aca00"}]),
    )
    .await;
    assert!(
        priced_call["message"]
            .as_str()
            .unwrap()
            .starts_with("insufficient funds for gas * price + value"),
        "{priced_call}"
    );
    // A balance and a value of 2^256 - 1 (a state override): the amount wanted does not wrap.
    let max = format!("{:#x}", U256::MAX);
    let huge = error(
        f.addr,
        "eth_call",
        json!([
            {"from": signer().address(), "to": RECIPIENT, "value": max, "gasPrice": "0x3b9aca00"},
            "latest",
            {signer().address().to_string(): {"balance": max}}
        ]),
    )
    .await;
    let message = huge["message"].as_str().unwrap();
    let want: U256 = message.rsplit("want ").next().unwrap().parse().unwrap();
    assert_eq!(want, U256::MAX, "{message}");
    let priced = |price: &str| json!([{"from": signer().address(), "to": RECIPIENT, "value": "0x1", "gasPrice": price}]);
    let affordable = result(f.addr, "eth_estimateGas", priced("0x3b9aca00")).await;
    assert_eq!(hex_u64(&affordable), 21_000);
    // 10^15 wei per gas: the balance pays for about 10 000 gas, less than a transfer needs.
    let unaffordable = error(f.addr, "eth_estimateGas", priced("0x38d7ea4c68000")).await;
    assert_eq!(unaffordable["code"], -32000);
    assert!(
        unaffordable["message"]
            .as_str()
            .unwrap()
            .starts_with("gas required exceeds allowance (99"),
        "{unaffordable}"
    );
    // GASPRICE reads the call's price; a call that names no gas gets what the balance pays for
    // (at 10^12 wei per gas, about 10M of the 50M gas cap).
    let gas_price = result(
        f.addr,
        "eth_call",
        json!([{"from": signer().address(), "data": "0x3a60005260206000f3", "gasPrice": "0xe8d4a51000"}]),
    )
    .await;
    assert_eq!(
        gas_price,
        json!(format!("{}", B256::from(U256::from(10u64.pow(12)))))
    );

    let conflicting = error(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42, "data": "0x01", "input": "0x02"}]),
    )
    .await;
    assert_eq!(conflicting["code"], -32602);
    // State overrides that are not one are refused.
    for method in ["eth_estimateGas", "eth_createAccessList"] {
        let garbage = error(
            f.addr,
            method,
            json!([{"to": RETURNS_42}, "latest", "garbage"]),
        )
        .await;
        assert_eq!(garbage["code"], -32602, "{method}: {garbage}");
    }
}

/// Runtime code that returns what the one-byte `opcode` (a block field) pushes.
fn returns_opcode(opcode: &str) -> String {
    format!("0x{opcode}60005260206000f3")
}

#[tokio::test(flavor = "multi_thread")]
async fn block_overrides_change_the_block_a_call_runs_in() {
    let f = fixture().await;
    let word = |n: U256| json!(B256::from(n).to_string());
    let probe = "0x00000000000000000000000000000000000b10c0";
    let run = |code: String, block: Value| {
        let addr = f.addr;
        async move {
            result(
                addr,
                "eth_call",
                json!([{"to": probe}, "latest", {probe: {"code": code}}, block]),
            )
            .await
        }
    };
    let recipient = "0x00000000000000000000000000000000000fee00";
    let randao = B256::repeat_byte(0x5a);
    for (opcode, field, value, expected) in [
        ("43", "number", json!("0x1234"), U256::from(0x1234)),
        (
            "42",
            "time",
            json!("0x77777777"),
            U256::from(0x7777_7777u64),
        ),
        (
            "45",
            "gasLimit",
            json!("0x2faf080"),
            U256::from(50_000_000u64),
        ),
        (
            "41",
            "feeRecipient",
            json!(recipient),
            U256::from(0xfee00u64),
        ),
        (
            "44",
            "prevRandao",
            json!(randao),
            U256::from_be_bytes(randao.0),
        ),
        (
            "48",
            "baseFeePerGas",
            json!("0x3b9aca00"),
            U256::from(1_000_000_000u64),
        ),
        ("4a", "blobBaseFee", json!("0x7"), U256::from(7)),
    ] {
        assert_eq!(
            run(returns_opcode(opcode), json!({(field): value})).await,
            word(expected),
            "{field}"
        );
    }
    // geth's and alloy's other names for the same fields.
    assert_eq!(
        run(returns_opcode("41"), json!({"coinbase": recipient})).await,
        word(U256::from(0xfee00u64))
    );
    assert_eq!(
        run(returns_opcode("44"), json!({"random": randao})).await,
        word(U256::from_be_bytes(randao.0))
    );
    // Without overrides the stored head's own values.
    assert_eq!(
        run(returns_opcode("43"), Value::Null).await,
        word(U256::from(f.hashes.len() - 1))
    );

    // BLOCKHASH: a hash the request gives, the stored one below the stored head, and zero for
    // the head and after it, which only a later number can reach (as geth answers).
    let blockhash = |n: u8| format!("0x60{n:02x}4060005260206000f3");
    let given = B256::repeat_byte(0x11);
    // Keys are decimal numbers in quotes, as reth (and alloy) read them.
    let later = json!({"number": "0x100", "blockHash": {"1": given}});
    assert_eq!(run(blockhash(1), later.clone()).await, json!(given));
    assert_eq!(run(blockhash(0), later.clone()).await, json!(f.hashes[0]));
    let head = u8::try_from(f.hashes.len() - 1).unwrap();
    assert_eq!(
        run(blockhash(head), later).await,
        json!(B256::ZERO.to_string())
    );

    // The estimate searches up to the overridden gas limit: the probe needs a little more
    // than the 21 000 of any call.
    let estimate = |limit: &str| {
        let (addr, code, limit) = (f.addr, returns_opcode("5a"), limit.to_string());
        async move {
            call(
                addr,
                "eth_estimateGas",
                json!([{"to": probe}, "latest", {probe: {"code": code}}, {"gasLimit": limit}]),
            )
            .await
        }
    };
    let too_low = estimate("0x5208").await;
    assert_eq!(
        too_low["error"]["message"], "gas required exceeds allowance (21000)",
        "{too_low}"
    );
    let enough = estimate("0x5300").await;
    let gas = hex_u64(&enough["result"]);
    assert!((21_001..=0x5300).contains(&gas), "{enough}");

    // Refused: what eth_call does not take, and values the header cannot hold.
    for (block, message) in [
        (
            json!({"beaconRoot": given}),
            "block override 'beaconRoot' is not supported for this RPC method",
        ),
        (
            json!({"withdrawals": []}),
            "block override 'withdrawals' is not supported for this RPC method",
        ),
        (
            json!({"number": "0x10000000000000000"}),
            "block override 'number' 18446744073709551616 does not fit in 64 bits",
        ),
    ] {
        for method in ["eth_call", "eth_estimateGas", "eth_createAccessList"] {
            let refused = error(
                f.addr,
                method,
                json!([{"to": probe}, "latest", null, block]),
            )
            .await;
            assert_eq!(refused["code"], -32602, "{method}: {refused}");
            assert_eq!(refused["message"], message, "{method}");
        }
    }
    let garbage = error(
        f.addr,
        "eth_call",
        json!([{"to": probe}, "latest", null, {"time": "soon"}]),
    )
    .await;
    assert_eq!(garbage["code"], -32602, "{garbage}");
}

/// Runtime code returning the word in storage slot 0: `SLOAD(0)`, `MSTORE(0)`, `RETURN(0, 32)`.
const RETURNS_SLOT_0: &str = "0x60005460005260206000f3";

#[tokio::test(flavor = "multi_thread")]
async fn state_overrides_apply_to_calls_estimates_and_access_lists() {
    let f = fixture().await;
    let word = |n: u64| json!(B256::from(U256::from(n)).to_string());
    let slot = |n: u64| B256::from(U256::from(n)).to_string();
    // RETURNS_42 stores 7 in slot 0; with code that returns slot 0, each kind of storage
    // override shows.
    let call_with = |over: Value| {
        let addr = f.addr;
        async move {
            result(
                addr,
                "eth_call",
                json!([{"to": RETURNS_42}, "latest", {(RETURNS_42.to_string()): over}]),
            )
            .await
        }
    };
    assert_eq!(call_with(json!({"code": RETURNS_SLOT_0})).await, word(7));
    assert_eq!(
        call_with(json!({"code": RETURNS_SLOT_0, "stateDiff": {(slot(0)): slot(42)}})).await,
        word(42)
    );
    assert_eq!(
        call_with(json!({"code": RETURNS_SLOT_0, "stateDiff": {(slot(1)): slot(5)}})).await,
        word(7),
        "stateDiff keeps the slots it does not name"
    );
    assert_eq!(
        call_with(json!({"code": RETURNS_SLOT_0, "state": {(slot(1)): slot(5)}})).await,
        word(0),
        "state replaces the whole storage"
    );
    // Nothing stays: the next call sees the stored code.
    assert_eq!(
        result(f.addr, "eth_call", json!([{"to": RETURNS_42}])).await,
        word(42)
    );

    // An estimate for an account without funds, once it has some; and for code that halts.
    let poor = "0x000000000000000000000000000000000000dead";
    let transfer = json!({"from": poor, "to": RECIPIENT, "value": "0x1"});
    let refused = error(f.addr, "eth_estimateGas", json!([transfer])).await;
    assert_eq!(refused["message"], "insufficient funds for transfer");
    assert_eq!(
        result(
            f.addr,
            "eth_estimateGas",
            json!([transfer, "latest", {poor: {"balance": "0xde0b6b3a7640000"}}])
        )
        .await,
        json!("0x5208")
    );
    let halts = error(
        f.addr,
        "eth_estimateGas",
        json!([{"from": signer().address(), "to": RECIPIENT}, "latest", {(RECIPIENT.to_string()): {"code": "0xfe"}}]),
    )
    .await;
    assert_eq!(halts["message"], "invalid opcode: INVALID", "{halts}");

    // The access list is the overriding code's.
    let list = result(
        f.addr,
        "eth_createAccessList",
        json!([{"from": signer().address(), "to": RETURNS_42}, "latest", {(RETURNS_42.to_string()): {"code": RETURNS_SLOT_0}}]),
    )
    .await;
    assert_eq!(
        list["accessList"],
        json!([{"address": RETURNS_42, "storageKeys": [slot(0)]}]),
        "{list}"
    );

    // Refused as geth refuses them.
    for (over, message) in [
        (
            json!({"state": {}, "stateDiff": {}}),
            format!("account {RETURNS_42} has both 'state' and 'stateDiff'"),
        ),
        (
            json!({"movePrecompileToAddress": RECIPIENT}),
            format!("account {RETURNS_42}: movePrecompileToAddress is not supported"),
        ),
    ] {
        let refused = error(
            f.addr,
            "eth_call",
            json!([{"to": RETURNS_42}, "latest", {(RETURNS_42.to_string()): over}]),
        )
        .await;
        assert_eq!(refused["code"], -32602, "{refused}");
        assert_eq!(refused["message"], message);
    }
    // Code is taken as given, as geth takes it: what only looks like a delegation runs, and
    // halts on its first byte.
    let not_a_delegation = error(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42}, "latest", {(RETURNS_42.to_string()): {"code": "0xef0100aa"}}]),
    )
    .await;
    assert_eq!(not_a_delegation["code"], -32000, "{not_a_delegation}");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_logs_filters_and_limits() {
    let f = fixture().await;
    let logs = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "latest"}]),
    )
    .await;
    assert_eq!(logs.as_array().unwrap().len(), 1);
    assert_eq!(logs[0]["transactionHash"], json!(f.deposit_with_log));
    assert_eq!(logs[0]["blockHash"], json!(f.hashes[1]));

    let by_address = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "address": [RETURNS_42, EMITS_LOG]}]),
    )
    .await;
    assert_eq!(
        by_address.as_array().unwrap().len(),
        1,
        "toBlock defaults to latest"
    );
    let by_address = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x2", "address": [RETURNS_42, EMITS_LOG]}]),
    )
    .await;
    assert_eq!(by_address.as_array().unwrap().len(), 1);
    let wrong_address = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x2", "address": RETURNS_42}]),
    )
    .await;
    assert_eq!(wrong_address, json!([]));
    let by_topic = result(
        f.addr,
        "eth_getLogs",
        json!([{"blockHash": f.hashes[1], "topics": [[B256::ZERO, TOPIC]]}]),
    )
    .await;
    assert_eq!(by_topic.as_array().unwrap().len(), 1);
    let wildcard = result(
        f.addr,
        "eth_getLogs",
        json!([{"blockHash": f.hashes[1], "topics": [null]}]),
    )
    .await;
    assert_eq!(wildcard.as_array().unwrap().len(), 1);
    let wrong_topic = result(
        f.addr,
        "eth_getLogs",
        json!([{"blockHash": f.hashes[1], "topics": [B256::ZERO]}]),
    )
    .await;
    assert_eq!(wrong_topic, json!([]));

    let too_wide = error(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0x2"}]),
    )
    .await;
    assert_eq!(too_wide["code"], -32005);
    assert_eq!(
        too_wide["message"],
        format!("query exceeds max block range {MAX_BLOCK_RANGE}")
    );
    let reversed = error(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x2", "toBlock": "0x1"}]),
    )
    .await;
    assert_eq!(reversed["code"], -32602);
    // A range that ends past the head (block 2) is refused, as geth and reth refuse it, whether
    // it starts at or past the head: answering the blocks there are would let an indexer asking
    // a lagging replica move its cursor past blocks it never read.
    for (from, to) in [("0x2", "0x3"), ("0x5", "0x9")] {
        let ahead = error(
            f.addr,
            "eth_getLogs",
            json!([{"fromBlock": from, "toBlock": to}]),
        )
        .await;
        assert_eq!(ahead["code"], -32602, "{from}-{to}: {ahead}");
        assert_eq!(
            ahead["message"],
            "block range extends beyond current head block"
        );
    }
    let unknown = error(
        f.addr,
        "eth_getLogs",
        json!([{"blockHash": B256::repeat_byte(7)}]),
    )
    .await;
    assert_eq!(unknown["code"], -32000);

    // geth's bounds on the criteria: 1 000 addresses, 1 000 values per topic position.
    let addresses = |n: usize| {
        (0..n)
            .map(|i| Address::from_word(B256::from(U256::from(i))))
            .collect::<Vec<_>>()
    };
    let many = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x2", "address": addresses(1_000)}]),
    )
    .await;
    assert_eq!(many, json!([]));
    for filter in [
        json!({"fromBlock": "0x1", "address": addresses(1_001)}),
        json!({"fromBlock": "0x1", "topics": [null, (0..1_001u64).map(|i| B256::from(U256::from(i))).collect::<Vec<_>>()]}),
    ] {
        for method in ["eth_getLogs", "eth_newFilter"] {
            let refused = error(f.addr, method, json!([filter])).await;
            assert_eq!(refused["code"], -32602, "{method}: {refused}");
            assert!(
                refused["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("exceed max"),
                "{refused}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_logs_over_several_blocks_stops_at_the_result_limit() {
    let fixture = |max_logs_per_response| {
        fixture_with(FixtureOptions {
            server: RpcServerConfig {
                addr: "127.0.0.1:0".parse().unwrap(),
                max_block_range: 100,
                max_logs_per_response,
                max_connections: 16,
                ..Default::default()
            },
            ..Default::default()
        })
    };
    let f = fixture(1).await;
    // Block 1 holds the fixture's log, block 3 another one.
    let hash3 = append_logging_block(&f.store, 3);
    // The range that takes it past the limit is refused with the range that fits, as reth
    // answers, before the response is built.
    let refused = error(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x3"}]),
    )
    .await;
    assert_eq!(refused["code"], -32005);
    assert_eq!(
        refused["message"],
        "query exceeds max results 1, retry with the range 1-2"
    );
    let fits = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x2"}]),
    )
    .await;
    assert_eq!(fits.as_array().unwrap().len(), 1);
    // One block's logs always come whole.
    let whole = result(f.addr, "eth_getLogs", json!([{"blockHash": hash3}])).await;
    assert_eq!(whole.as_array().unwrap().len(), 1);

    // 0 is no limit, as with reth's flag.
    let f = fixture(0).await;
    append_logging_block(&f.store, 3);
    let all = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "0x3"}]),
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_standard_errors() {
    let f = fixture().await;
    let (_, body) = http_post(f.addr, "{not json").await;
    let response: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(response["error"]["code"], -32700);

    assert_eq!(
        error(f.addr, "eth_sendRawTransaction", json!(["0x00"])).await["code"],
        -32000
    );
    assert_eq!(error(f.addr, "eth_nope", json!([])).await["code"], -32601);

    let bad = error(f.addr, "eth_getBalance", json!(["0x1234", "latest"])).await;
    assert_eq!(bad["code"], -32602);
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("argument 0 (address)"),
        "{bad}"
    );
    let missing = error(f.addr, "eth_getBlockByNumber", json!([])).await;
    assert_eq!(missing["code"], -32602);
    let bad_tag = error(f.addr, "eth_getCode", json!([RETURNS_42, "sideways"])).await;
    assert_eq!(bad_tag["code"], -32602);

    // Bytes that are not a transaction: what is wrong, in terms of what was sent.
    let garbage = error(f.addr, "eth_sendRawTransaction", json!(["0xdeadbeef"])).await;
    assert_eq!(garbage["code"], -32000);
    assert!(
        garbage["message"]
            .as_str()
            .unwrap()
            .contains("legacy transaction RLP list of 30 bytes but only 3 follow"),
        "{garbage}"
    );

    // A log filter's bad address or topic is named, by every method that takes a filter.
    let topic = format!("0x{}", "ab".repeat(32));
    for (filter, expected) in [
        (
            json!({"address": "0x1234"}),
            "invalid argument 0 (filter): invalid address \"0x1234\": an address is 20 bytes",
        ),
        (
            json!({"address": [RETURNS_42, "nope"]}),
            "invalid address \"nope\"",
        ),
        (
            json!({"topics": [null, [topic, "0xab"]]}),
            "invalid topic 1 value \"0xab\": a topic is 32 bytes",
        ),
        (json!({"topics": "0xab"}), "invalid topics \"0xab\""),
        (json!("latest"), "a filter is an object, not \"latest\""),
    ] {
        for method in ["eth_getLogs", "eth_newFilter"] {
            let refused = error(f.addr, method, json!([filter])).await;
            assert_eq!(refused["code"], -32602, "{method}: {refused}");
            assert!(
                refused["message"].as_str().unwrap().contains(expected),
                "{method}: {refused}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_serves_requests() {
    let f = fixture().await;
    let mut stream = TcpStream::connect(f.addr).await.unwrap();
    flow::upgrade(&mut stream, f.addr).await;
    let ask = json!({"jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": []});
    stream
        .write_all(&flow::text_frame(ask.to_string().as_bytes()))
        .await
        .unwrap();
    let response: Value = serde_json::from_slice(&flow::read_text(&mut stream).await).unwrap();
    assert_eq!(
        response,
        json!({"jsonrpc": "2.0", "id": 7, "result": "0x2"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alloy_provider_parses_blocks_transactions_and_receipts() {
    let f = fixture().await;
    let provider =
        ProviderBuilder::new().connect_http(format!("http://{}", f.addr).parse().unwrap());
    assert_eq!(provider.get_chain_id().await.unwrap(), CHAIN_ID);
    assert_eq!(provider.get_block_number().await.unwrap(), 2);

    let genesis = provider
        .get_block_by_number(BlockNumberOrTag::Earliest)
        .full()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(genesis.header.hash, f.hashes[0]);
    assert_eq!(genesis.header.number, 0);

    let balance = provider.get_balance(RECIPIENT).await.unwrap();
    assert_eq!(balance, U256::from(ETHER / 2 + 1_000));

    let tx = provider
        .get_transaction_by_hash(f.signed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.inner.signer(), signer().address());
    let receipt = provider
        .get_transaction_receipt(f.signed)
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.status());
    assert_eq!(receipt.gas_used, 21_000);
    assert_eq!(receipt.block_hash, Some(f.hashes[2]));
    assert_eq!(receipt.from, signer().address());

    let output = provider
        .call(alloy_rpc_types_eth::TransactionRequest::default().to(RETURNS_42))
        .await
        .unwrap();
    assert_eq!(output, Bytes::from(B256::with_last_byte(42).to_vec()));
}

/// A signed EIP-1559 transaction from the funded dev key.
fn signed_raw(chain_id: u64, nonce: u64, max_fee: u128, gas_limit: u64, input: Vec<u8>) -> Bytes {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1),
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = signer().sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope = TxEnvelope::from(tx.into_signed(signature));
    alloy_eips::eip2718::Encodable2718::encoded_2718(&envelope).into()
}

/// The sequencer's pool as geth's `txpool_*` methods show it: counts, full transactions and
/// one-line summaries by sub-pool, sender and decimal nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txpool_methods_show_the_pool_as_geth() {
    let fx = fixture().await;
    let chain_id = config().l2_chain_id;
    let fee = 100_000_000_000u128;
    let status = || async { result(fx.addr, "txpool_status", json!([])).await };
    assert_eq!(status().await, json!({"pending": "0x0", "queued": "0x0"}));
    // Nonce 1 is next (the fixture's transfer used 0); nonce 3 waits behind a gap.
    let ready = result(
        fx.addr,
        "eth_sendRawTransaction",
        json!([signed_raw(chain_id, 1, fee, 21_000, vec![])]),
    )
    .await;
    let gapped = result(
        fx.addr,
        "eth_sendRawTransaction",
        json!([signed_raw(chain_id, 3, fee, 21_000, vec![])]),
    )
    .await;
    assert_eq!(status().await, json!({"pending": "0x1", "queued": "0x1"}));

    let sender = signer().address();
    let content = result(fx.addr, "txpool_content", json!([])).await;
    let by_sender = |sub_pool: &str| content[sub_pool][sender.to_string()].clone();
    assert_eq!(by_sender("pending")["1"]["hash"], ready, "{content}");
    assert_eq!(by_sender("queued")["3"]["hash"], gapped, "{content}");
    assert_eq!(by_sender("pending")["1"]["blockHash"], Value::Null);
    let from = result(fx.addr, "txpool_contentFrom", json!([sender])).await;
    assert_eq!(from["pending"], by_sender("pending"));
    assert_eq!(from["queued"], by_sender("queued"));
    let nobody = result(fx.addr, "txpool_contentFrom", json!([RECIPIENT])).await;
    assert_eq!(nobody, json!({"pending": {}, "queued": {}}));

    let inspect = result(fx.addr, "txpool_inspect", json!([])).await;
    assert_eq!(
        inspect["pending"][sender.to_string()]["1"],
        format!(
            "{}: 1 wei + 21000 gas × {fee} wei",
            Address::repeat_byte(0x77)
        ),
        "{inspect}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_raw_transaction_validates_like_geth() {
    let fx = fixture().await;
    let chain_id = config().l2_chain_id;
    let fee = 100_000_000_000u128;
    let expect = |error: Value, code: i64, needle: &str| {
        assert_eq!(error["code"], json!(code), "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(needle),
            "expected {needle:?} in {error}"
        );
    };
    // The fixture's signed transfer used nonce 0: replaying it is "nonce too low".
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 0, fee, 21_000, vec![])]),
        )
        .await,
        -32000,
        "nonce too low",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id + 1, 1, fee, 21_000, vec![])]),
        )
        .await,
        -32000,
        "invalid chain id",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 1, 1, 21_000, vec![])]),
        )
        .await,
        -32000,
        "max fee per gas less than block base fee",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 1, fee, 20_000, vec![])]),
        )
        .await,
        -32000,
        "intrinsic gas too low",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 1, fee, 31_000_000, vec![])]),
        )
        .await,
        -32000,
        "exceeds block gas limit",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 1, fee, 5_000_000, vec![1; 130 * 1024])]),
        )
        .await,
        -32000,
        "oversized data",
    );
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(
                chain_id,
                1,
                u128::MAX / 1_000_000_000,
                21_000,
                vec![]
            )]),
        )
        .await,
        -32000,
        "insufficient funds",
    );
    expect(
        error(fx.addr, "eth_sendRawTransaction", json!(["0x02deadbeef"])).await,
        -32000,
        "failed to decode",
    );
    expect(
        error(fx.addr, "eth_sendRawTransaction", json!(["not hex"])).await,
        -32602,
        "",
    );

    // A valid one is accepted, pending nonce counts it, and a resend is "already known".
    let raw = signed_raw(chain_id, 1, fee, 21_000, vec![]);
    let hash = result(fx.addr, "eth_sendRawTransaction", json!([raw])).await;
    assert_eq!(hash.as_str().unwrap().len(), 66);
    let pending = result(
        fx.addr,
        "eth_getTransactionCount",
        json!([signer().address(), "pending"]),
    )
    .await;
    let latest = result(
        fx.addr,
        "eth_getTransactionCount",
        json!([signer().address(), "latest"]),
    )
    .await;
    assert_eq!((hex_u64(&latest), hex_u64(&pending)), (1, 2));
    expect(
        error(fx.addr, "eth_sendRawTransaction", json!([raw])).await,
        -32000,
        "already known",
    );
    // Same nonce, same fee: not a valid replacement.
    expect(
        error(
            fx.addr,
            "eth_sendRawTransaction",
            json!([signed_raw(chain_id, 1, fee, 21_001, vec![])]),
        )
        .await,
        -32000,
        "replacement transaction underpriced",
    );

    let history = result(
        fx.addr,
        "eth_feeHistory",
        json!(["0x2", "latest", [25.0, 75.0]]),
    )
    .await;
    assert_eq!(
        history["baseFeePerGas"].as_array().unwrap().len(),
        3,
        "{history}"
    );
    assert_eq!(history["reward"].as_array().unwrap().len(), 2, "{history}");
    // Blob fields as geth has them after Cancun, at the fee BLOBBASEFEE reads on L2.
    assert_eq!(
        history["baseFeePerBlobGas"],
        json!(["0x1", "0x1", "0x1"]),
        "{history}"
    );
    assert_eq!(history["blobGasUsedRatio"], json!([0.0, 0.0]), "{history}");
    assert_eq!(result(fx.addr, "eth_blobBaseFee", json!([])).await, "0x1");
    // No percentiles, no reward table (geth leaves the field out).
    for percentiles in [json!([]), Value::Null] {
        let plain = result(
            fx.addr,
            "eth_feeHistory",
            json!(["0x2", "latest", percentiles]),
        )
        .await;
        assert!(plain.get("reward").is_none(), "{plain}");
    }
    expect(
        error(
            fx.addr,
            "eth_feeHistory",
            json!(["0x2", "latest", [75.0, 25.0]]),
        )
        .await,
        -32602,
        "percentiles",
    );
    // The reward table is blocks × percentiles: geth's limit of 100 keeps one request small.
    let too_many = vec![50.0; 101];
    expect(
        error(
            fx.addr,
            "eth_feeHistory",
            json!(["0x2", "latest", too_many]),
        )
        .await,
        -32602,
        "over the query limit 100",
    );
    expect(
        error(fx.addr, "eth_feeHistory", json!(["0x2", "0x999999", []])).await,
        -32000,
        "request beyond head block: requested 10066329, head ",
    );
    let empty = result(fx.addr, "eth_feeHistory", json!(["0x0", "latest", [50.0]])).await;
    assert_eq!(empty["baseFeePerGas"], json!([]), "{empty}");
    assert_eq!(empty["gasUsedRatio"], json!([]), "{empty}");
    assert_eq!(empty["baseFeePerBlobGas"], json!([]), "{empty}");
}

fn proof_from_json(value: &Value) -> rollup_trie::Proof {
    let siblings = value["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().parse().unwrap())
        .collect();
    let terminal = match &value["terminal"] {
        Value::Null => rollup_trie::Terminal::Empty,
        leaf => rollup_trie::Terminal::Leaf {
            key: leaf["key"].as_str().unwrap().parse().unwrap(),
            value_hash: leaf["valueHash"].as_str().unwrap().parse().unwrap(),
        },
    };
    let last_sibling = value["lastSibling"]
        .as_str()
        .map(|hex_node| rollup_trie::Node::decode(&hex::decode(hex_node).unwrap()).unwrap());
    rollup_trie::Proof {
        siblings,
        terminal,
        last_sibling,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_proof_verifies_against_the_block_state_root() {
    let fx = fixture().await;
    let latest = result(fx.addr, "eth_getBlockByNumber", json!(["latest", false])).await;
    let state_root: B256 = latest["stateRoot"].as_str().unwrap().parse().unwrap();
    assert_ne!(state_root, B256::ZERO);

    let proof = result(
        fx.addr,
        "rollup_getProof",
        json!([RETURNS_42, ["0x0", "0x1"], "latest"]),
    )
    .await;
    assert_eq!(proof["stateRoot"], json!(state_root));
    let nonce = hex_u64(&proof["nonce"]);
    let balance: U256 = proof["balance"].as_str().unwrap().parse().unwrap();
    let code_hash: B256 = proof["codeHash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        code_hash,
        alloy_primitives::keccak256(hex!("602a60005260206000f3"))
    );
    let value_hash = rollup_trie::account_value_hash(nonce, balance, code_hash);
    let account_proof = proof_from_json(&proof["accountProof"]);
    rollup_trie::verify(
        state_root,
        rollup_trie::account_key(RETURNS_42),
        Some(value_hash),
        &account_proof,
    )
    .unwrap();
    // A lie about the balance does not verify.
    let lie = rollup_trie::account_value_hash(nonce, balance + U256::from(1), code_hash);
    assert!(
        rollup_trie::verify(
            state_root,
            rollup_trie::account_key(RETURNS_42),
            Some(lie),
            &account_proof
        )
        .is_err()
    );

    let slots = proof["storageProof"].as_array().unwrap();
    assert_eq!(slots[0]["value"], json!("0x7"));
    rollup_trie::verify(
        state_root,
        rollup_trie::storage_key(RETURNS_42, U256::ZERO),
        Some(rollup_trie::storage_value_hash(U256::from(7))),
        &proof_from_json(&slots[0]["proof"]),
    )
    .unwrap();
    // Slot 1 is empty: the proof shows absence.
    assert_eq!(slots[1]["value"], json!("0x0"));
    rollup_trie::verify(
        state_root,
        rollup_trie::storage_key(RETURNS_42, U256::from(1)),
        None,
        &proof_from_json(&slots[1]["proof"]),
    )
    .unwrap();

    // Older blocks: proofs against their own state roots. The fixture's deposits changed the
    // dev account's balance after genesis, so genesis and latest proofs differ.
    let dev = signer().address();
    for block in ["0x0", "0x1", "latest"] {
        let header = result(fx.addr, "eth_getBlockByNumber", json!([block, false])).await;
        let root: B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
        let proof = result(fx.addr, "rollup_getProof", json!([dev, [], block])).await;
        assert_eq!(proof["stateRoot"], json!(root));
        let balance: U256 = proof["balance"].as_str().unwrap().parse().unwrap();
        let expected: U256 = result(fx.addr, "eth_getBalance", json!([dev, block]))
            .await
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(balance, expected, "{block}");
        let value_hash = rollup_trie::account_value_hash(
            hex_u64(&proof["nonce"]),
            balance,
            proof["codeHash"].as_str().unwrap().parse().unwrap(),
        );
        rollup_trie::verify(
            root,
            rollup_trie::account_key(dev),
            Some(value_hash),
            &proof_from_json(&proof["accountProof"]),
        )
        .unwrap_or_else(|err| panic!("proof at {block}: {err}"));
    }
    let err = error(fx.addr, "rollup_getProof", json!([RETURNS_42, [], "0x99"])).await;
    assert_eq!(err["code"], json!(-32000), "{err}");
}

/// A safe block's proof carries its output root preimage (hex quantities) and hash: the
/// block's state root and hash and where it was derived from, hashing to what a proposal of the
/// block carries. A block not derived as safe has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_proof_carries_the_output_root_of_safe_blocks() {
    let fx = fixture().await;
    let header = result(fx.addr, "eth_getBlockByNumber", json!(["0x1", false])).await;
    let state_root: B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
    let proof = result(fx.addr, "rollup_getProof", json!([RETURNS_42, [], "safe"])).await;
    assert_eq!(
        proof["outputRoot"],
        json!({
            "version": "0x1",
            "l2BlockNumber": "0x1",
            "stateRoot": state_root,
            "l2BlockHash": fx.hashes[1],
            "inboxRecord": "0x3",
            "blockInRecord": "0x1",
            "l1Block": "0xc",
        })
    );
    let expected = OutputRoot {
        version: OUTPUT_ROOT_VERSION,
        l2_block_number: 1,
        state_root,
        l2_block_hash: fx.hashes[1],
        inbox_record: BLOCK1_DERIVATION.inbox_record,
        block_in_record: BLOCK1_DERIVATION.block_in_record,
        l1_block: BLOCK1_DERIVATION.l1_block,
    }
    .hash();
    assert_eq!(proof["outputRootHash"], json!(expected));
    assert_ne!(expected, state_root);
    // The proofs are against the state root inside it.
    assert_eq!(proof["stateRoot"], json!(state_root));
    rollup_trie::verify(
        state_root,
        rollup_trie::account_key(RETURNS_42),
        Some(rollup_trie::account_value_hash(
            hex_u64(&proof["nonce"]),
            proof["balance"].as_str().unwrap().parse().unwrap(),
            proof["codeHash"].as_str().unwrap().parse().unwrap(),
        )),
        &proof_from_json(&proof["accountProof"]),
    )
    .unwrap();

    // Block 2 is unsafe: no output root.
    let proof = result(
        fx.addr,
        "rollup_getProof",
        json!([RETURNS_42, [], "latest"]),
    )
    .await;
    assert_eq!(proof["outputRoot"], Value::Null);
    assert_eq!(proof["outputRootHash"], Value::Null);
    // The genesis has the genesis output root, the one every dispute range may start at: no
    // derivation cursor, its L1 origin as the L1 block.
    let proof = result(fx.addr, "rollup_getProof", json!([RETURNS_42, [], "0x0"])).await;
    assert_eq!(
        proof["outputRoot"]["l2BlockNumber"],
        json!("0x0"),
        "{proof:#}"
    );
    assert_eq!(
        proof["outputRoot"]["inboxRecord"],
        json!("0x0"),
        "{proof:#}"
    );
    assert_eq!(
        proof["outputRoot"]["blockInRecord"],
        json!("0x0"),
        "{proof:#}"
    );
    assert!(proof["outputRootHash"].is_string(), "{proof:#}");
}

/// A block gas limit and gas cap so high that only the time limit can end [`LOOPS`].
const ENDLESS_GAS: u64 = 1_000_000_000_000;

/// Options for a server whose calls can loop until the time limit.
fn endless_gas_options(server: RpcServerConfig) -> FixtureOptions {
    FixtureOptions {
        server: RpcServerConfig {
            gas_cap: ENDLESS_GAS,
            ..server
        },
        block_gas_limit: ENDLESS_GAS,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_call_stops_at_the_time_limit() {
    let timeout = std::time::Duration::from_millis(300);
    let server = RpcServerConfig {
        evm_timeout: timeout,
        ..FixtureOptions::default().server
    };
    let f = fixture_with(endless_gas_options(server)).await;
    for method in ["eth_call", "eth_estimateGas"] {
        let started = std::time::Instant::now();
        let err = error(f.addr, method, json!([{"to": LOOPS}, "latest"])).await;
        let elapsed = started.elapsed();
        assert_eq!(err["code"], -32000, "{method}: {err}");
        assert_eq!(
            err["message"], "execution aborted (timeout = 300ms)",
            "{method}: {err}"
        );
        // Stopped at the limit, not by gas (that would take hours), and for `eth_estimateGas`
        // one limit for the whole search, not one per trial run.
        assert!(
            elapsed >= timeout,
            "{method} answered after only {elapsed:?}"
        );
        assert!(
            elapsed < timeout + std::time::Duration::from_secs(2),
            "{method} answered only after {elapsed:?}"
        );
    }
    // The server carries on.
    let output = result(f.addr, "eth_call", json!([{"to": RETURNS_42}])).await;
    assert_eq!(output, json!(format!("{}", B256::with_last_byte(42))));
}

/// A call is no transaction: it may ask for more gas than a block holds, up to the gas cap, as
/// in geth and reth. Before, the block's 30M bounded every call whatever it asked for, so a call
/// needing 40M ran out of gas here and succeeded on geth.
#[tokio::test(flavor = "multi_thread")]
async fn a_call_may_use_more_gas_than_a_block_holds_up_to_the_cap() {
    let f = fixture().await;
    // Init code that returns the GAS it has left: `GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
    let gas_left = |out: Value| {
        U256::from_str_radix(out.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    let asked = 40_000_000u64;
    let out = result(
        f.addr,
        "eth_call",
        json!([{"data": "0x5a60005260206000f3", "gas": format!("{asked:#x}")}, "latest"]),
    )
    .await;
    let left = gas_left(out);
    assert!(
        left > U256::from(30_000_000u64) && left < U256::from(asked),
        "GAS read {left} of {asked} asked"
    );
    // Without gas the call gets the cap (50M by default), not the block gas limit.
    let out = result(
        f.addr,
        "eth_call",
        json!([{"data": "0x5a60005260206000f3"}]),
    )
    .await;
    assert!(
        gas_left(out) > U256::from(asked),
        "the cap, not the block's gas limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gas_above_the_cap_is_refused_by_calls_and_clamped_by_estimates() {
    let cap = 100_000u64;
    let f = fixture_with(FixtureOptions {
        server: RpcServerConfig {
            gas_cap: cap,
            ..FixtureOptions::default().server
        },
        ..Default::default()
    })
    .await;

    // eth_call, as reth: more gas than the cap is refused, the cap itself is fine.
    let refused = error(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42, "gas": format!("{:#x}", cap + 1)}]),
    )
    .await;
    assert_eq!(refused["code"], -32000, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.starts_with("intrinsic gas too high") && message.contains("100000"),
        "{message}"
    );
    let output = result(
        f.addr,
        "eth_call",
        json!([{"to": RETURNS_42, "gas": format!("{cap:#x}")}]),
    )
    .await;
    assert_eq!(output, json!(format!("{}", B256::with_last_byte(42))));
    // A call that names no gas gets the cap, not the block's 30M: the loop runs out of it.
    let out_of_gas = error(f.addr, "eth_call", json!([{"to": LOOPS}])).await;
    assert_eq!(out_of_gas["message"], "out of gas", "{out_of_gas}");

    // eth_estimateGas, as geth: a request above the cap is searched up to the cap.
    let clamped = error(
        f.addr,
        "eth_estimateGas",
        json!([{"to": LOOPS, "gas": format!("{:#x}", 10 * cap)}]),
    )
    .await;
    assert_eq!(
        clamped["message"],
        format!("gas required exceeds allowance ({cap})"),
        "{clamped}"
    );
    let estimate = hex_u64(
        &result(
            f.addr,
            "eth_estimateGas",
            json!([{"to": EMITS_LOG, "gas": format!("{:#x}", 10 * cap)}]),
        )
        .await,
    );
    assert!(estimate > 21_000 && estimate < cap, "{estimate}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_slow_calls_leaves_the_node_responsive() {
    const FLOOD: usize = 300;
    const SLOTS: usize = 4;
    let evm_timeout = std::time::Duration::from_secs(1);
    let queue_timeout = std::time::Duration::from_secs(2);
    let server = RpcServerConfig {
        max_connections: 1_000,
        max_heavy_requests: SLOTS,
        evm_timeout,
        heavy_queue_timeout: queue_timeout,
        ..FixtureOptions::default().server
    };
    let f = fixture_with(endless_gas_options(server)).await;
    let addr = f.addr;

    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..FLOOD)
        .map(|_| tokio::spawn(async move { call(addr, "eth_call", json!([{"to": LOOPS}])).await }))
        .collect();

    // While the flood runs, cheap requests answer promptly, and the node keeps writing blocks
    // that readers see.
    let mut slowest = std::time::Duration::ZERO;
    for probe in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let asked = std::time::Instant::now();
        assert_eq!(result(addr, "eth_chainId", json!([])).await, json!("0x385"));
        result(addr, "eth_blockNumber", json!([])).await;
        result(addr, "eth_getBalance", json!([RECIPIENT, "latest"])).await;
        slowest = slowest.max(asked.elapsed());
        if probe == 3 {
            let store = f.store.clone();
            let wrote = std::time::Instant::now();
            tokio::task::spawn_blocking(move || {
                append(&store, &config_with_gas_limit(ENDLESS_GAS), 13, Vec::new())
            })
            .await
            .unwrap();
            let write_time = wrote.elapsed();
            assert!(
                write_time < std::time::Duration::from_secs(1),
                "writing a block took {write_time:?} during the flood"
            );
            assert_eq!(
                result(addr, "eth_blockNumber", json!([])).await,
                json!("0x3")
            );
        }
    }
    assert!(
        slowest < std::time::Duration::from_secs(1),
        "cheap requests took up to {slowest:?} during the flood"
    );

    // Every slow call gets an answer: stopped at the time limit, or "server busy".
    let (mut timed_out, mut busy) = (0, 0);
    for response in flood {
        let response = response.await.unwrap();
        let error = &response["error"];
        match error["code"].as_i64() {
            Some(-32000) => {
                assert_eq!(error["message"], "execution aborted (timeout = 1s)");
                timed_out += 1;
            }
            Some(-32005) => {
                let message = error["message"].as_str().unwrap();
                assert!(message.starts_with("server busy"), "{error}");
                assert!(message.contains("(eth_call is one)"), "{error}");
                busy += 1;
            }
            _ => panic!("unexpected answer {response}"),
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(timed_out + busy, FLOOD);
    // At most SLOTS calls ran at a time: each runs for the whole time limit, so no more than
    // SLOTS of them fit in each second the flood lasted; the rest were turned away.
    let rounds = (elapsed.as_secs_f64() / evm_timeout.as_secs_f64()).ceil() as usize;
    assert!(
        timed_out >= SLOTS && timed_out <= SLOTS * rounds,
        "{timed_out} calls ran in {elapsed:?}, {busy} busy"
    );
    assert!(
        elapsed < queue_timeout + evm_timeout + std::time::Duration::from_secs(5),
        "the flood took {elapsed:?} to drain"
    );

    // Afterwards the node serves heavy requests as before.
    let output = result(addr, "eth_call", json!([{"to": RETURNS_42}])).await;
    assert_eq!(output, json!(format!("{}", B256::with_last_byte(42))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_reader_table_answers_busy_and_recovers() {
    let f = fixture_with(FixtureOptions {
        max_readers: 8,
        ..Default::default()
    })
    .await;
    // Take every reader slot (MDBX may round the 8 up).
    let mut held = Vec::new();
    while let Ok(reader) = f.store.reader() {
        held.push(reader);
        assert!(held.len() < 1_000, "reader slots never ran out");
    }

    // Requests that need the database answer "busy" after a short retry; the rest still work.
    let busy = error(f.addr, "eth_getBalance", json!([RECIPIENT, "latest"])).await;
    assert_eq!(busy["code"], -32005, "{busy}");
    assert!(
        busy["message"].as_str().unwrap().starts_with("server busy"),
        "{busy}"
    );
    let busy = error(f.addr, "eth_call", json!([{"to": RETURNS_42}])).await;
    assert_eq!(busy["code"], -32005, "{busy}");
    assert_eq!(
        result(f.addr, "eth_chainId", json!([])).await,
        json!("0x385")
    );

    // A slot freed while a request retries serves it. The slots are freed 50 ms into its
    // 250 ms of retries; on a machine so loaded that this thread ran only after the retries
    // ended, the request was answered busy: the slots are taken again and it is tried again.
    let addr = f.addr;
    let mut answers = Vec::new();
    for _ in 0..5 {
        while let Ok(reader) = f.store.reader() {
            held.push(reader);
        }
        let pending = tokio::spawn(async move {
            call(addr, "eth_getBalance", json!([RECIPIENT, "latest"])).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        held.clear();
        let response = pending.await.unwrap();
        if response["error"]["code"] == -32005 {
            answers.push(response);
            continue;
        }
        assert_eq!(
            response["result"],
            json!(format!("{:#x}", ETHER / 2 + 1_000)),
            "{response}"
        );
        return;
    }
    panic!("no request was served after its slot was freed: {answers:?}");
}

/// The [`rollup_execution::TraceState`] a `rollup_getTraceClaim` result's `state` shows.
fn trace_state_from_json(state: &Value) -> rollup_execution::TraceState {
    let hash = |name: &str| -> B256 { state[name].as_str().unwrap().parse().unwrap() };
    rollup_execution::TraceState {
        l2_block: hex_u64(&state["l2Block"]),
        inputs: hex_u64(&state["inputs"]),
        state_root: hash("stateRoot"),
        cumulative_gas: hex_u64(&state["cumulativeGas"]),
        included: hex_u64(&state["included"]),
        tx_root: hash("txRoot"),
        receipt_root: hash("receiptRoot"),
        logs_bloom: state["logsBloom"].as_str().unwrap().parse().unwrap(),
        context: hash("context"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_claims_run_from_the_parent_output_root_to_the_block_output_root() {
    let fx = fixture().await;
    let output_root = |proof: &Value| -> B256 {
        proof["outputRootHash"]
            .as_str()
            .unwrap_or_else(|| panic!("no output root: {proof}"))
            .parse()
            .unwrap()
    };
    let genesis_output =
        output_root(&result(fx.addr, "rollup_getProof", json!([RETURNS_42, [], "0x0"])).await);
    let block1_output =
        output_root(&result(fx.addr, "rollup_getProof", json!([RETURNS_42, [], "0x1"])).await);
    let claim = |block: &str, position: &str| {
        let params = json!([block, position]);
        async move { result(fx.addr, "rollup_getTraceClaim", params).await }
    };

    // Safe block 1 holds one deposit: positions 0 (its parent's output root), 1 (the
    // preamble), 2 (after the deposit) and the seal at 3; padding repeats the seal's claim.
    let at0 = claim("0x1", "0x0").await;
    assert_eq!(
        at0,
        json!({"claim": genesis_output, "seal": "0x3", "state": null})
    );
    let genesis = result(fx.addr, "eth_getBlockByNumber", json!(["0x0", false])).await;
    let block1 = result(fx.addr, "eth_getBlockByNumber", json!(["0x1", false])).await;
    let header1 = fx.store.reader().unwrap().header(1).unwrap().unwrap();
    let context = rollup_execution::block_context_hash(&header1);

    let at1 = claim("0x1", "0x1").await;
    let preamble = trace_state_from_json(&at1["state"]);
    assert_eq!(
        (preamble.l2_block, preamble.inputs, preamble.cumulative_gas),
        (1, 1, 0)
    );
    assert_eq!(preamble.included, 0);
    assert_eq!(json!(preamble.state_root), genesis["stateRoot"]);
    assert_eq!(
        (preamble.tx_root, preamble.receipt_root),
        (EMPTY_ROOT_HASH, EMPTY_ROOT_HASH)
    );
    assert_eq!(preamble.logs_bloom, Bloom::ZERO);
    assert_eq!(preamble.context, context);
    assert_eq!(at1["claim"], json!(preamble.hash()), "{at1}");
    assert_eq!(at1["seal"], "0x3");

    let at2 = claim("0x1", "0x2").await;
    let after_deposit = trace_state_from_json(&at2["state"]);
    assert_eq!(at2["claim"], json!(after_deposit.hash()), "{at2}");
    assert_eq!((after_deposit.inputs, after_deposit.included), (2, 1));
    assert_eq!(json!(after_deposit.state_root), block1["stateRoot"]);
    assert_eq!(
        after_deposit.cumulative_gas,
        hex_u64(&block1["gasUsed"]),
        "the last state before the seal used the block's gas"
    );
    // The last trace state holds what the header commits to the block's transactions with.
    assert_eq!(
        (
            after_deposit.tx_root,
            after_deposit.receipt_root,
            after_deposit.logs_bloom
        ),
        (
            header1.transactions_root,
            header1.receipts_root,
            header1.logs_bloom
        )
    );
    assert_eq!(after_deposit.context, context);

    // A tag names the block too.
    assert_eq!(claim("safe", "0x2").await, at2);
    for position in ["0x3", "0x4", "0x10000"] {
        assert_eq!(
            claim("0x1", position).await,
            json!({"claim": block1_output, "seal": "0x3", "state": null}),
            "position {position}"
        );
    }

    // What is not a claim of a trace this node can compute is the caller's mistake.
    let refused = [
        (json!(["0x0", "0x0"]), "genesis"),
        (json!(["0x2", "0x0"]), "not safe"),
        (json!(["0x9", "0x0"]), "not stored"),
        (json!(["0x1", "0x10001"]), "past the trace's last"),
        (json!(["latest", "0x0"]), "not safe"),
        (json!(["one", "0x0"]), "invalid argument 0"),
        (json!([1, "0x0"]), "invalid argument 0"),
        (json!(["0x1", 2]), "invalid argument 1"),
        (json!(["0x1", "2"]), "not a hex quantity"),
        (json!(["0x1", "0x+1"]), "not a hex quantity"),
        (json!(["0x1", "0x"]), "not a hex quantity"),
        (json!(["0x1"]), "missing value for required argument 1"),
    ];
    for (params, why) in refused {
        let err = error(fx.addr, "rollup_getTraceClaim", params.clone()).await;
        assert_eq!(err["code"], -32602, "{params}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(why),
            "{params}: {err}"
        );
    }

    // Once block 2 is safe, its trace has both inputs: the deposit, then the signed transfer,
    // and it ends at the block's state root and gas.
    let mut writer = fx.store.writer().unwrap();
    writer
        .set_block_derivation(
            2,
            &BlockDerivation {
                block_in_record: 2,
                ..BLOCK1_DERIVATION
            },
        )
        .unwrap();
    writer.commit().unwrap();
    let at0 = claim("0x2", "0x0").await;
    assert_eq!(at0["claim"], json!(block1_output));
    assert_eq!(at0["seal"], "0x4");
    let last = claim("0x2", "0x3").await;
    let last = trace_state_from_json(&last["state"]);
    let block2 = result(fx.addr, "eth_getBlockByNumber", json!(["0x2", false])).await;
    assert_eq!((last.l2_block, last.inputs, last.included), (2, 3, 2));
    assert_eq!(json!(last.state_root), block2["stateRoot"]);
    assert_eq!(last.cumulative_gas, hex_u64(&block2["gasUsed"]));

    // Once the parent's state is pruned, the block cannot be traced here: the message says so.
    let store = fx.store.clone().with_history_retention(0);
    let mut writer = store.writer().unwrap();
    let head = writer.l2_head().unwrap();
    writer.settle_l2_through(head).unwrap();
    writer.commit().unwrap();
    append(&store, &config(), 13, Vec::new());
    let err = error(fx.addr, "rollup_getTraceClaim", json!(["0x2", "0x1"])).await;
    assert_eq!(err["code"], -32602, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("cannot trace L2 block 2: state at L2 block 1 is pruned"),
        "{err}"
    );
}

/// A block range limit of 0 is no limit, as reth's `--rpc.max-blocks-per-filter` (before, it
/// refused every `eth_getLogs` by range, one block's included).
#[tokio::test(flavor = "multi_thread")]
async fn a_block_range_limit_of_zero_is_no_limit() {
    let f = fixture_with(FixtureOptions {
        server: RpcServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_block_range: 0,
            max_connections: 16,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let logs = result(
        f.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "latest"}]),
    )
    .await;
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");
}

/// Behind a trusted proxy each forwarded client gets its own share of the filters; without the
/// proxy trusted, the header moves nothing (loopback stays uncapped).
#[tokio::test(flavor = "multi_thread")]
async fn clients_behind_a_trusted_proxy_get_their_own_shares() {
    let install = |addr: SocketAddr, forwarded: &'static str| async move {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_newBlockFilter", "params": []})
            .to_string();
        let (_, body) = http_post_with(addr, forwarded, &body).await;
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let server = |trusted: &[&str]| RpcServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        max_connections: 16,
        max_filters: 20,
        trusted_proxies: trusted.iter().map(|range| range.parse().unwrap()).collect(),
        ..Default::default()
    };
    let f = fixture_with(FixtureOptions {
        server: server(&["127.0.0.1"]),
        ..Default::default()
    })
    .await;
    let one = "X-Forwarded-For: 203.0.113.7\r\n";
    // A client that writes its own header first is still the address the proxy appended.
    let one_posing = "X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n";
    assert!(install(f.addr, one).await["result"].is_string());
    assert!(install(f.addr, one_posing).await["result"].is_string());
    let refused = install(f.addr, one).await;
    assert_eq!(refused["error"]["code"], -32005, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from this address"),
        "{refused}"
    );
    // Another client behind the same proxy, and the proxy's own (loopback) calls, go on.
    let other = "X-Forwarded-For: 203.0.113.8\r\n";
    assert!(install(f.addr, other).await["result"].is_string());
    assert!(install(f.addr, "").await["result"].is_string());

    // Without trusting the proxy, the same header is ignored: loopback, uncapped.
    let f = fixture_with(FixtureOptions {
        server: server(&[]),
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert!(install(f.addr, one).await["result"].is_string());
    }
}
