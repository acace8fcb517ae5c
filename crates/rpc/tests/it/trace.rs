//! `debug_trace*` over a real server: a contract that calls two others (one returns, one
//! reverts with a reason) and logs, traced with the call tracer and the struct logger, in a
//! block whose deposit funds the sender (the replay must mint it first).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolError;
use rollup_primitives::{GenesisAccount, Heads, L2Transaction, TxDeposit};
use rollup_rpc::{MAX_TRACE_BYTES, RpcContext, RpcServerConfig, start_server};
use rollup_storage::Store;
use serde_json::{Value, json};

use super::{
    CHAIN_ID, ENDLESS_GAS, ETHER, LOOPS, RETURNS_42, REVERTS, TOPIC, append, config_with_gas_limit,
    error, hex_u64, result, signer,
};

/// Calls [`RETURNS_42`], stores the word it returns in slot 0 and logs it under [`TOPIC`], then
/// calls [`REVERTS`] (which reverts with `Error("nope")`) and stops: 27 instructions here, 6 in
/// the first callee, 7 in the second.
const CALLER: Address = address!("0x00000000000000000000000000000000000c0de5");
/// Touches 1 MiB of memory, then loops.
const MEMORY_HOG: Address = address!("0x00000000000000000000000000000000000c0de6");

fn caller_code() -> Bytes {
    let call = |target: Address, return_size: u8| {
        // CALL(gas, target, 0, 0, 0, 0, return_size); POP
        let mut code = vec![0x60, return_size, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73];
        code.extend_from_slice(target.as_slice());
        code.extend_from_slice(&[0x5a, 0xf1, 0x50]);
        code
    };
    let mut code = call(RETURNS_42, 0x20);
    // SSTORE(0, MLOAD(0))
    code.extend_from_slice(&[0x60, 0, 0x51, 0x60, 0, 0x55]);
    // LOG1(0, 32, TOPIC)
    code.push(0x7f);
    code.extend_from_slice(TOPIC.as_slice());
    code.extend_from_slice(&[0x60, 0x20, 0x60, 0, 0xa1]);
    code.extend(call(REVERTS, 0));
    code.push(0x00);
    code.into()
}

/// `MLOAD(0x100000)` (1 MiB of memory), then `JUMPDEST PUSH1 5 JUMP` until gas ends.
fn memory_hog_code() -> Bytes {
    Bytes::from_static(&[0x62, 0x10, 0x00, 0x00, 0x51, 0x5b, 0x60, 0x05, 0x56])
}

/// anvil's second dev key: no L2 balance until a deposit mints it some.
fn fresh() -> PrivateKeySigner {
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
        .parse()
        .unwrap()
}

fn signed(key: &PrivateKeySigner, nonce: u64, to: Address, gas_limit: u64) -> L2Transaction {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        ..Default::default()
    };
    let signature = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    L2Transaction::Signed {
        envelope: TxEnvelope::from(tx.into_signed(signature)),
        sender: key.address(),
    }
}

fn deposit_to_self(seed: u8, from: Address, mint: u128, gas_limit: u64) -> L2Transaction {
    L2Transaction::Deposit(TxDeposit {
        source_hash: B256::repeat_byte(seed),
        from,
        to: from,
        mint,
        value: U256::ZERO,
        gas_limit,
        input: Bytes::new(),
    })
}

struct TraceFixture {
    addr: SocketAddr,
    /// Block 1: a deposit minting to `fresh()`, then `fresh()` calling [`CALLER`] (which only
    /// the mint pays for), then `signer()` calling [`REVERTS`].
    block1: [B256; 3],
    block1_hash: B256,
    /// Block 2: a deposit below its intrinsic gas (refused, keeps its mint), then a transfer.
    refused_deposit: B256,
    _handle: jsonrpsee::server::ServerHandle,
    _dir: tempfile::TempDir,
    _heads: tokio::sync::watch::Sender<Heads>,
}

async fn trace_fixture(server: RpcServerConfig) -> TraceFixture {
    trace_fixture_with_gas_limit(server, 30_000_000).await
}

async fn trace_fixture_with_gas_limit(server: RpcServerConfig, gas_limit: u64) -> TraceFixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_gas_limit(gas_limit);
    for (address, code) in [(CALLER, caller_code()), (MEMORY_HOG, memory_hog_code())] {
        config.genesis.alloc.insert(
            address,
            GenesisAccount {
                code: Some(code),
                ..Default::default()
            },
        );
    }
    let store = Store::open(dir.path()).unwrap();
    let genesis = store.init_genesis(&config).unwrap();
    // The deposit's call bumps the nonce of `fresh()`: its own transaction takes nonce 1.
    let block1 = [
        deposit_to_self(1, fresh().address(), ETHER, 100_000),
        signed(&fresh(), 1, CALLER, 200_000),
        signed(&signer(), 0, REVERTS, 100_000),
    ];
    let block1_hash = append(&store, &config, 11, block1.to_vec());
    let refused = deposit_to_self(2, fresh().address(), ETHER, 1_000);
    let block2_hash = append(
        &store,
        &config,
        12,
        vec![refused.clone(), signed(&signer(), 1, RETURNS_42, 100_000)],
    );
    let receipts = store.reader().unwrap().receipts(2).unwrap().unwrap();
    assert!(!receipts[0].success && receipts[1].success);

    let head = BlockNumHash {
        number: 2,
        hash: block2_hash,
    };
    let (heads_tx, heads_rx) = tokio::sync::watch::channel(Heads {
        unsafe_l2: head,
        safe_l2: head,
        finalized_l2: BlockNumHash {
            number: 0,
            hash: genesis,
        },
        l1_cursor: BlockNumHash::default(),
        l1_finalized: BlockNumHash::default(),
    });
    let ctx = RpcContext::new(store, Arc::new(config), heads_rx, None);
    let (addr, handle) = start_server(server, ctx).await.unwrap();
    TraceFixture {
        addr,
        block1: block1.map(|tx| tx.hash()),
        block1_hash,
        refused_deposit: refused.hash(),
        _handle: handle,
        _dir: dir,
        _heads: heads_tx,
    }
}

fn server() -> RpcServerConfig {
    RpcServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        max_connections: 16,
        ..Default::default()
    }
}

fn word(value: u8) -> String {
    format!("{}", B256::with_last_byte(value))
}

fn nope() -> String {
    format!(
        "{}",
        Bytes::from(alloy_sol_types::Revert::from("nope").abi_encode())
    )
}

async fn receipt_gas(addr: SocketAddr, hash: B256) -> u64 {
    hex_u64(&result(addr, "eth_getTransactionReceipt", json!([hash])).await["gasUsed"])
}

fn call_tracer(config: Value) -> Value {
    json!({"tracer": "callTracer", "tracerConfig": config})
}

/// The call tree of [`CALLER`]: both calls, the callee's return, the revert with its reason.
fn assert_caller_frame(frame: &Value, from: Address) {
    assert_eq!(frame["type"], "CALL", "{frame}");
    assert_eq!(frame["from"], json!(from));
    assert_eq!(frame["to"], json!(CALLER));
    assert!(frame.get("error").is_none(), "{frame}");
    let calls = frame["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{frame}");
    assert_eq!(calls[0]["type"], "CALL");
    assert_eq!(calls[0]["from"], json!(CALLER));
    assert_eq!(calls[0]["to"], json!(RETURNS_42));
    assert_eq!(calls[0]["output"], json!(word(42)));
    assert!(calls[0].get("error").is_none(), "{frame}");
    assert_eq!(calls[1]["to"], json!(REVERTS));
    assert_eq!(calls[1]["error"], "execution reverted");
    assert_eq!(calls[1]["revertReason"], "nope");
    assert_eq!(calls[1]["output"], json!(nope()));
}

#[tokio::test(flavor = "multi_thread")]
async fn call_tracer_shows_frames_gas_logs_and_revert_reasons() {
    let f = trace_fixture(server()).await;
    let [_, calls, reverts] = f.block1;

    // The sender's only ETH is the deposit's mint, earlier in the same block: the replay
    // reproduces the receipt exactly.
    let frame = result(
        f.addr,
        "debug_traceTransaction",
        json!([calls, call_tracer(json!({"withLog": true}))]),
    )
    .await;
    assert_caller_frame(&frame, fresh().address());
    assert_eq!(hex_u64(&frame["gas"]), 200_000);
    assert_eq!(hex_u64(&frame["gasUsed"]), receipt_gas(f.addr, calls).await);
    let logs = frame["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{frame}");
    assert_eq!(logs[0]["address"], json!(CALLER));
    assert_eq!(logs[0]["topics"], json!([TOPIC]));
    assert_eq!(logs[0]["data"], json!(word(42)));

    // Without withLog no logs; with onlyTopCall no children.
    let frame = result(
        f.addr,
        "debug_traceTransaction",
        json!([calls, {"tracer": "callTracer"}]),
    )
    .await;
    assert_caller_frame(&frame, fresh().address());
    assert!(frame.get("logs").is_none(), "{frame}");
    let top = result(
        f.addr,
        "debug_traceTransaction",
        json!([calls, call_tracer(json!({"onlyTopCall": true}))]),
    )
    .await;
    assert!(top.get("calls").is_none(), "{top}");
    assert_eq!(top["gasUsed"], frame["gasUsed"]);

    // A transaction that reverts at the top.
    let frame = result(
        f.addr,
        "debug_traceTransaction",
        json!([reverts, {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(frame["from"], json!(signer().address()));
    assert_eq!(frame["error"], "execution reverted");
    assert_eq!(frame["revertReason"], "nope");
    assert_eq!(frame["output"], json!(nope()));
    assert_eq!(
        hex_u64(&frame["gasUsed"]),
        receipt_gas(f.addr, reverts).await
    );

    // A deposit refused before execution: failed, no gas used, as its receipt says.
    let frame = result(
        f.addr,
        "debug_traceTransaction",
        json!([f.refused_deposit, {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(frame["from"], json!(fresh().address()));
    assert_eq!(hex_u64(&frame["gasUsed"]), 0);
    assert!(frame["error"].is_string(), "{frame}");
}

#[tokio::test(flavor = "multi_thread")]
async fn struct_logger_lists_every_instruction_with_its_options() {
    let f = trace_fixture(server()).await;
    let [_, calls, reverts] = f.block1;

    let trace = result(f.addr, "debug_traceTransaction", json!([calls])).await;
    assert_eq!(trace["failed"], false);
    assert_eq!(
        trace["gas"].as_u64().unwrap(),
        receipt_gas(f.addr, calls).await
    );
    assert_eq!(trace["returnValue"], "0x");
    let logs = trace["structLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 27 + 6 + 7, "one entry per instruction");
    let at_depth = |depth: u64| logs.iter().filter(|log| log["depth"] == depth).count();
    assert_eq!((at_depth(1), at_depth(2)), (27, 13));
    let ops: Vec<&str> = logs.iter().map(|log| log["op"].as_str().unwrap()).collect();
    assert_eq!(&ops[..3], ["PUSH1", "PUSH1", "PUSH1"]);
    assert_eq!(ops.iter().filter(|op| **op == "CALL").count(), 2);
    assert_eq!(ops.last(), Some(&"STOP"));
    assert!(ops.contains(&"REVERT") && ops.contains(&"LOG1"));
    // Defaults: the stack, and storage at SSTORE; no memory.
    let sstore = logs.iter().find(|log| log["op"] == "SSTORE").unwrap();
    assert_eq!(sstore["stack"].as_array().unwrap().len(), 2, "{sstore}");
    assert_eq!(
        sstore["storage"],
        json!({ hex_word(0): hex_word(42) }),
        "{sstore}"
    );
    assert!(logs.iter().all(|log| log.get("memory").is_none()));
    let first = &logs[0];
    assert_eq!(first["pc"], 0);
    assert_eq!(first["gasCost"], 3);
    assert_eq!(hex_gas(first), 200_000 - 21_000);

    // Options: memory on, stack and storage off, at most five entries.
    let trace = result(
        f.addr,
        "debug_traceTransaction",
        json!([calls, {"enableMemory": true, "disableStack": true, "disableStorage": true, "limit": 5}]),
    )
    .await;
    let logs = trace["structLogs"].as_array().unwrap();
    assert_eq!(logs.len(), 5);
    assert!(logs.iter().all(|log| log.get("stack").is_none()));
    let full = result(
        f.addr,
        "debug_traceTransaction",
        json!([calls, {"enableMemory": true, "disableStorage": true}]),
    )
    .await;
    let full = full["structLogs"].as_array().unwrap();
    let sstore = full.iter().find(|log| log["op"] == "SSTORE").unwrap();
    assert!(sstore.get("storage").is_none(), "{sstore}");
    // Memory words as reth writes them (0x-prefixed; geth leaves the prefix out).
    assert_eq!(sstore["memory"], json!([hex_word(42)]), "{sstore}");

    // A reverting transaction: failed, with the revert data as its return value.
    let trace = result(f.addr, "debug_traceTransaction", json!([reverts, {}])).await;
    assert_eq!(trace["failed"], true);
    assert_eq!(trace["returnValue"], json!(nope()));
    assert_eq!(trace["structLogs"].as_array().unwrap().len(), 7);
}

fn hex_word(value: u8) -> String {
    format!("{}", B256::with_last_byte(value))
}

fn hex_gas(log: &Value) -> u64 {
    log["gas"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_call_and_block_traces() {
    let f = trace_fixture(server()).await;
    let from = Address::repeat_byte(0x77);

    let frame = result(
        f.addr,
        "debug_traceCall",
        json!([{"from": from, "to": CALLER, "gas": "0x30000"}, "latest", {"tracer": "callTracer"}]),
    )
    .await;
    assert_caller_frame(&frame, from);
    assert_eq!(hex_u64(&frame["gas"]), 0x30000);
    let trace = result(f.addr, "debug_traceCall", json!([{"to": CALLER}, "0x1"])).await;
    assert_eq!(trace["structLogs"].as_array().unwrap().len(), 40);
    // At genesis CALLER exists too, and no tracer options is the struct logger.
    let trace = result(
        f.addr,
        "debug_traceCall",
        json!([{"to": RETURNS_42}, "earliest", {}]),
    )
    .await;
    assert_eq!(trace["returnValue"], json!(word(42)));

    // A whole block, in order, each with its hash; by number and by hash alike.
    let traces = result(
        f.addr,
        "debug_traceBlockByNumber",
        json!(["0x1", {"tracer": "callTracer"}]),
    )
    .await;
    let traces = traces.as_array().unwrap();
    assert_eq!(traces.len(), 3);
    for (trace, hash) in traces.iter().zip(f.block1) {
        assert_eq!(trace["txHash"], json!(hash));
        assert_eq!(
            hex_u64(&trace["result"]["gasUsed"]),
            receipt_gas(f.addr, hash).await
        );
    }
    assert_eq!(traces[0]["result"]["to"], json!(fresh().address()));
    assert_caller_frame(&traces[1]["result"], fresh().address());
    assert_eq!(traces[2]["result"]["revertReason"], "nope");
    let by_hash = result(
        f.addr,
        "debug_traceBlockByHash",
        json!([f.block1_hash, {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(by_hash.as_array().unwrap(), traces);
    let genesis = result(f.addr, "debug_traceBlockByNumber", json!(["earliest"])).await;
    assert_eq!(genesis, json!([]));

    // 4byte and noop tracers.
    let four = result(
        f.addr,
        "debug_traceTransaction",
        json!([f.block1[1], {"tracer": "4byteTracer"}]),
    )
    .await;
    assert_eq!(four, json!({}), "no call carried a selector");
    let noop = result(
        f.addr,
        "debug_traceTransaction",
        json!([f.block1[1], {"tracer": "noopTracer"}]),
    )
    .await;
    assert_eq!(noop, json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_errors_and_limits() {
    let f = trace_fixture(server()).await;
    let calls = f.block1[1];

    let missing = error(
        f.addr,
        "debug_traceTransaction",
        json!([B256::repeat_byte(0xee)]),
    )
    .await;
    assert_eq!(missing["code"], -32000, "{missing}");
    assert!(missing["message"].as_str().unwrap().contains("not found"));
    let block = error(f.addr, "debug_traceBlockByNumber", json!(["0x9"])).await;
    assert_eq!(block["code"], -32000, "{block}");
    for tracer in ["prestateTracer", "{ result: function() { return 1; } }"] {
        let err = error(
            f.addr,
            "debug_traceTransaction",
            json!([calls, {"tracer": tracer}]),
        )
        .await;
        assert_eq!(err["code"], -32602, "{err}");
        assert!(
            err["message"].as_str().unwrap().contains("not supported"),
            "{err}"
        );
    }
    let err = error(
        f.addr,
        "debug_traceTransaction",
        json!([calls, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": "yes"}}]),
    )
    .await;
    assert_eq!(err["code"], -32602, "{err}");
    // State and block overrides apply as in eth_call: code returning NUMBER, in block 0x2a.
    let trace = result(
        f.addr,
        "debug_traceCall",
        json!([{"to": CALLER}, "latest", {
            "stateOverrides": {(CALLER.to_string()): {"code": "0x4360005260206000f3"}},
            "blockOverrides": {"number": "0x2a"},
        }]),
    )
    .await;
    assert_eq!(trace["returnValue"], json!(word(42)), "{trace}");
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": CALLER}, "latest", {"blockOverrides": {"beaconRoot": word(1)}}]),
    )
    .await;
    assert_eq!(err["code"], -32602, "{err}");
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": CALLER, "gas": "0xffffffffff"}, "latest", {"tracer": "callTracer"}]),
    )
    .await;
    assert!(
        err["message"].as_str().unwrap().contains("gas cap"),
        "{err}"
    );

    // Memory at every step: the trace would be far larger than the node serves.
    let started = std::time::Instant::now();
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": MEMORY_HOG, "gas": "0x4c4b40"}, "latest", {"enableMemory": true}]),
    )
    .await;
    assert_eq!(err["code"], -32005, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains(&MAX_TRACE_BYTES.to_string()),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The call tracer of the same call records one frame and is fine.
    let frame = result(
        f.addr,
        "debug_traceCall",
        json!([{"to": MEMORY_HOG, "gas": "0x4c4b40"}, "latest", {"tracer": "callTracer"}]),
    )
    .await;
    assert_eq!(frame["error"], "out of gas", "{frame}");

    // A tracer timeout shorter than the node's applies; a malformed one is refused.
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": LOOPS}, "latest", {"tracer": "callTracer", "timeout": "1ns"}]),
    )
    .await;
    assert_eq!(err["message"], "execution aborted (timeout = 1ns)", "{err}");
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": LOOPS}, "latest", {"tracer": "callTracer", "timeout": "soon"}]),
    )
    .await;
    assert_eq!(err["code"], -32602, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_stops_at_the_evm_time_limit() {
    let timeout = Duration::from_millis(300);
    // Gas for hours of looping: only the time limit can end the trace.
    let f = trace_fixture_with_gas_limit(
        RpcServerConfig {
            evm_timeout: timeout,
            gas_cap: ENDLESS_GAS,
            ..server()
        },
        ENDLESS_GAS,
    )
    .await;
    let started = std::time::Instant::now();
    let err = error(
        f.addr,
        "debug_traceCall",
        json!([{"to": LOOPS}, "latest", {"tracer": "callTracer", "timeout": "1h"}]),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(
        err["message"], "execution aborted (timeout = 300ms)",
        "{err}"
    );
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_secs(2),
        "{elapsed:?}"
    );
}
