//! End-to-end: traces of real L2 transactions — `debug_traceTransaction`, `debug_traceCall` and
//! `debug_traceBlockByNumber` with the call tracer and the struct logger — and `cast run`
//! replaying them, including a transaction in a block that starts with a deposit.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};

use super::{deposit_eth, ether};
use crate::support::{self, Anvil, Devnet};

/// A caller that deploys its callee, asks it for a number, stores and logs it, then calls a
/// function of it that reverts with a reason and carries on.
const CALLER_SOL: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Callee {
    function answer() external pure returns (uint256) {
        return 42;
    }

    function fail() external pure {
        revert("nope");
    }
}

contract Caller {
    event Answered(uint256 value);

    Callee public immutable callee;
    uint256 public last;

    constructor() {
        callee = new Callee();
    }

    function run() external returns (uint256 value) {
        value = callee.answer();
        last = value;
        emit Answered(value);
        try callee.fail() {} catch {}
    }
}
"#;

/// `run()`.
const RUN_SELECTOR: &str = "0xc0406226";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn foundry_bin(name: &str) -> PathBuf {
    let pinned = workspace_root().join("node_modules/.bin").join(name);
    assert!(
        pinned.exists(),
        "{name} not found at {}: run scripts/bootstrap.sh",
        pinned.display()
    );
    pinned
}

/// Runs forge or cast with `env`; panics with its output unless it succeeds. Returns stdout.
fn foundry(bin: &Path, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> String {
    let out = Command::new(bin)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .env("FOUNDRY_DISABLE_NIGHTLY_WARNING", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", bin.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{} {}` failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        bin.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The JSON object a command printed: all of its output, or its last line that is one.
fn json_output(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim())
        .ok()
        .or_else(|| {
            stdout
                .lines()
                .rev()
                .find_map(|line| serde_json::from_str(line.trim()).ok())
        })
        .filter(Value::is_object)
        .unwrap_or_else(|| panic!("no JSON object in output:\n{stdout}"))
}

fn quantity(value: &Value) -> u64 {
    value
        .as_u64()
        .or_else(|| {
            value
                .as_str()
                .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        })
        .unwrap_or_else(|| panic!("not a quantity: {value}"))
}

async fn receipt(devnet: &Devnet, hash: &Value) -> Value {
    let started = Instant::now();
    loop {
        let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
        if receipt.is_object() {
            return receipt;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no receipt for {hash}\n{}",
            devnet.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn call_tracer(with_log: bool) -> Value {
    json!({"tracer": "callTracer", "tracerConfig": {"withLog": with_log}})
}

/// The call tree of `Caller.run()`: two static calls into the callee, the second reverting
/// with its reason, and the `Answered(42)` log.
fn assert_run_frame(frame: &Value, caller: Address) {
    assert_eq!(frame["type"], "CALL", "{frame}");
    assert_eq!(frame["to"], json!(caller), "{frame}");
    assert!(frame.get("error").is_none(), "{frame}");
    let calls = frame["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "{frame}");
    assert_eq!(calls[0]["type"], "STATICCALL");
    assert_eq!(
        calls[0]["output"],
        json!(format!("{}", B256::with_last_byte(42)))
    );
    assert_eq!(calls[1]["type"], "STATICCALL");
    assert_eq!(calls[1]["error"], "execution reverted");
    assert_eq!(calls[1]["revertReason"], "nope");
    assert_eq!(frame["logs"].as_array().unwrap().len(), 1, "{frame}");
}

#[test]
fn traces_and_cast_run_work_against_l2() {
    support::run(traces_and_cast_run_work_against_l2_body());
}

async fn traces_and_cast_run_work_against_l2_body() {
    let (forge, cast) = (foundry_bin("forge"), foundry_bin("cast"));
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    let key = format!("{}", devnet.info.accounts[2].private_key);

    let project = dir.path().join("caller");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/Caller.sol"), CALLER_SOL).unwrap();
    std::fs::write(
        project.join("foundry.toml"),
        format!(
            "[profile.default]\nsrc = \"src\"\nout = \"out\"\ncache_path = \"cache\"\nsolc = \"{}\"\n\
             offline = true\nauto_detect_solc = false\nevm_version = \"cancun\"\n",
            workspace_root().join("scripts/solc").display()
        ),
    )
    .unwrap();
    let created = foundry(
        &forge,
        &[
            "create",
            "--root",
            project.to_str().unwrap(),
            "--rpc-url",
            &l2,
            "--private-key",
            &key,
            "--broadcast",
            "--json",
            "src/Caller.sol:Caller",
        ],
        &[],
        &project,
    );
    let created = json_output(&created);
    let caller: Address = created["deployedTo"].as_str().unwrap().parse().unwrap();

    let sent = foundry(
        &cast,
        &[
            "send",
            &format!("{caller:#x}"),
            "run()",
            "--rpc-url",
            &l2,
            "--private-key",
            &key,
            "--json",
        ],
        &[],
        &project,
    );
    let sent = json_output(&sent);
    assert_eq!(sent["status"], json!("0x1"), "{sent}");
    let hash = sent["transactionHash"].clone();
    let gas_used = quantity(&sent["gasUsed"]);

    // The call tracer and the struct logger agree with the receipt.
    let frame = devnet
        .l2("debug_traceTransaction", json!([hash, call_tracer(true)]))
        .await;
    assert_run_frame(&frame, caller);
    assert_eq!(quantity(&frame["gasUsed"]), gas_used);
    let trace = devnet.l2("debug_traceTransaction", json!([hash])).await;
    assert_eq!(trace["failed"], false, "{}", trace["failed"]);
    assert_eq!(quantity(&trace["gas"]), gas_used);
    assert_eq!(
        trace["returnValue"],
        json!(format!("{}", B256::with_last_byte(42)))
    );
    let ops: Vec<&str> = trace["structLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|log| log["op"].as_str().unwrap())
        .collect();
    for op in ["SSTORE", "LOG1", "STATICCALL", "REVERT"] {
        assert!(ops.contains(&op), "no {op} in the struct logs");
    }

    // The same call, not sent: debug_traceCall on the latest state.
    let frame = devnet
        .l2(
            "debug_traceCall",
            json!([{"to": caller, "data": RUN_SELECTOR}, "latest", call_tracer(true)]),
        )
        .await;
    assert_run_frame(&frame, caller);

    // cast run replays it locally from the L2's state and succeeds.
    let out = foundry(
        &cast,
        &["run", hash.as_str().unwrap(), "--rpc-url", &l2],
        &[],
        &project,
    );
    assert!(
        out.contains("Transaction successfully executed"),
        "cast run:\n{out}"
    );
    assert!(
        out.contains(&format!("Gas used: {gas_used}")),
        "cast run:\n{out}"
    );

    // A signed transaction in a block that starts with a deposit.
    let (block, deposit, signed) = deposit_and_transfer_in_one_block(&devnet).await;
    let traces = devnet
        .l2(
            "debug_traceBlockByNumber",
            json!([format!("{block:#x}"), call_tracer(false)]),
        )
        .await;
    let traces = traces.as_array().unwrap();
    assert_eq!(traces[0]["txHash"], deposit);
    for trace in traces {
        let receipt = receipt(&devnet, &trace["txHash"]).await;
        assert_eq!(
            quantity(&trace["result"]["gasUsed"]),
            quantity(&receipt["gasUsed"]),
            "{trace}"
        );
    }
    let frame = devnet
        .l2(
            "debug_traceTransaction",
            json!([deposit, call_tracer(false)]),
        )
        .await;
    assert_eq!(frame["value"], json!(format!("{:#x}", ether(2))), "{frame}");
    // cast reads blocks with deposits (type 0x7e) only in its OP Stack mode, which it picks by
    // chain id for known OP chains and by FOUNDRY_NETWORK=optimism for any other; deposits
    // themselves replay with --replay-system-txes.
    for tx in [&signed, &deposit] {
        let out = foundry(
            &cast,
            &[
                "run",
                tx.as_str().unwrap(),
                "--replay-system-txes",
                "--rpc-url",
                &l2,
            ],
            &[("FOUNDRY_NETWORK", "optimism")],
            &project,
        );
        assert!(
            out.contains("Transaction successfully executed"),
            "cast run {tx}:\n{out}"
        );
    }
}

/// Deposits 2 ether on L1 while sending L2 transfers every few milliseconds, until one transfer
/// lands in the L2 block that carries the deposit. Returns that block and both hashes.
async fn deposit_and_transfer_in_one_block(devnet: &Devnet) -> (u64, Value, Value) {
    let signer = PrivateKeySigner::from_bytes(&devnet.info.accounts[5].private_key).unwrap();
    let wallet = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.info.l2_rpc_url.parse().unwrap());
    let to = devnet.info.accounts[6].address;
    for attempt in 0..5 {
        let mut scanned = quantity(&devnet.l2("eth_blockNumber", json!([])).await);
        deposit_eth(devnet, 4, ether(2)).await;
        let started = Instant::now();
        'attempt: while started.elapsed() < Duration::from_secs(20) {
            let tx = TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(1));
            // Not waited for: the next goes out while this one is pending.
            let _pending = wallet.send_transaction(tx).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let head = quantity(&devnet.l2("eth_blockNumber", json!([])).await);
            while scanned < head {
                scanned += 1;
                let block = devnet
                    .l2(
                        "eth_getBlockByNumber",
                        json!([format!("{scanned:#x}"), true]),
                    )
                    .await;
                let txs = block["transactions"].as_array().unwrap();
                let Some(deposit) = txs.iter().find(|tx| tx["type"] == "0x7e") else {
                    continue;
                };
                if let Some(signed) = txs.iter().find(|tx| tx["type"] == "0x2") {
                    return (scanned, deposit["hash"].clone(), signed["hash"].clone());
                }
                eprintln!("attempt {attempt}: the deposit's L2 block {scanned} got no transfer");
                break 'attempt;
            }
        }
    }
    panic!(
        "no L2 block carried both a deposit and a transfer\n{}",
        devnet.log()
    );
}
