//! End-to-end: users transact on L2 with stock tooling (forge, cast), and the chain they build is
//! reproduced hash for hash from L1 alone — by a fresh replica, by a replica killed with SIGKILL
//! mid-derivation, and after an L1 reorg that removed already-safe batches.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use rollup_primitives::bindings::IBatchInbox;
use serde_json::{Value, json};

use super::{deposit_eth, ether};
use crate::support::{self, Anvil, Devnet, Proc, free_port};

/// Generous bound for any single wait below; a healthy run needs a small fraction of it.
const WAIT: Duration = Duration::from_secs(30);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn foundry_bin(name: &str, env: &str) -> PathBuf {
    if let Ok(bin) = std::env::var(env) {
        return bin.into();
    }
    let pinned = workspace_root().join("node_modules/.bin").join(name);
    assert!(
        pinned.exists(),
        "{name} not found at {}: run scripts/bootstrap.sh (or set {env})",
        pinned.display()
    );
    pinned
}

/// A raw JSON-RPC call that may fail (a node still starting, a method not served).
async fn rpc(url: &str, method: &str, params: Value) -> Result<Value, String> {
    let provider = ProviderBuilder::new().connect_http(url.parse().unwrap());
    provider
        .raw_request::<_, Value>(method.to_string().into(), params)
        .await
        .map_err(|err| format!("{method} on {url}: {err}"))
}

/// A JSON quantity: a JSON number or a `0x` hex string.
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

#[derive(Debug, Clone, Copy)]
pub(crate) struct Heads {
    unsafe_l2: u64,
    safe_l2: u64,
}

async fn heads(url: &str) -> Result<Heads, String> {
    let status = rpc(url, "rollup_syncStatus", json!([])).await?;
    Ok(Heads {
        unsafe_l2: quantity(&status["unsafeL2"]["number"]),
        safe_l2: quantity(&status["safeL2"]["number"]),
    })
}

async fn block(url: &str, number: u64) -> Value {
    let block = rpc(
        url,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    )
    .await
    .unwrap();
    assert!(
        block.is_object(),
        "block {number} missing on {url}: {block}"
    );
    block
}

/// A deadline for polling loops: `check` panics with `what` and `context()` once passed.
struct Deadline {
    start: Instant,
    limit: Duration,
}

impl Deadline {
    fn new(limit: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
        }
    }

    async fn tick(&self, what: impl FnOnce() -> String) {
        assert!(
            self.start.elapsed() < self.limit,
            "timed out after {:?}: {}",
            self.limit,
            what()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `url`'s safe head is at least `target`; returns the heads then.
pub(crate) async fn wait_safe(url: &str, target: u64, log: impl Fn() -> String) -> Heads {
    let deadline = Deadline::new(WAIT);
    loop {
        let status = heads(url).await;
        if let Ok(h) = status
            && h.safe_l2 >= target
        {
            return h;
        }
        deadline
            .tick(|| {
                format!(
                    "safe head of {url} to reach {target}; last {status:?}\n{}",
                    log()
                )
            })
            .await;
    }
}

/// Asserts both nodes hold the same blocks `0..=to`: hashes, state roots, parents.
async fn assert_same_chain(expected: &str, actual: &str, to: u64) {
    for number in 0..=to {
        let (a, b) = (block(expected, number).await, block(actual, number).await);
        assert_eq!(
            (&a["hash"], &a["stateRoot"], &a["parentHash"]),
            (&b["hash"], &b["stateRoot"], &b["parentHash"]),
            "block {number} differs:\nexpected {a}\nactual   {b}"
        );
    }
}

/// A provider on L2 that signs with dev account `index`; it fills nonce (pending count), gas,
/// fees and chain id over the L2 RPC like any wallet would.
fn l2_wallet(devnet: &Devnet, index: usize) -> DynProvider {
    let signer = PrivateKeySigner::from_bytes(&devnet.info.accounts[index].private_key).unwrap();
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.info.l2_rpc_url.parse().unwrap())
        .erased()
}

/// Sends `count` ETH transfers of `1 + i` gwei from dev account `from` to `to`, `gap` apart,
/// without waiting for each; then waits for every receipt. Returns the highest L2 block holding
/// one of them.
async fn transfers(devnet: &Devnet, from: usize, to: Address, count: u64, gap: Duration) -> u64 {
    let wallet = l2_wallet(devnet, from);
    let mut hashes = Vec::new();
    for i in 0..count {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1 + i) * U256::from(1_000_000_000u64));
        let pending = wallet.send_transaction(tx).await.unwrap_or_else(|err| {
            panic!("L2 transfer {i} rejected: {err}\n{}", tail(devnet.log()))
        });
        hashes.push(*pending.tx_hash());
        tokio::time::sleep(gap).await;
    }
    let mut last_block = 0;
    for hash in hashes {
        let receipt = wait_receipt(&devnet.info.l2_rpc_url, hash, || tail(devnet.log())).await;
        assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
        last_block = last_block.max(quantity(&receipt["blockNumber"]));
    }
    last_block
}

async fn wait_receipt(url: &str, hash: B256, log: impl Fn() -> String) -> Value {
    let deadline = Deadline::new(WAIT);
    loop {
        let receipt = rpc(url, "eth_getTransactionReceipt", json!([hash]))
            .await
            .unwrap();
        if receipt.is_object() {
            return receipt;
        }
        deadline
            .tick(|| format!("receipt of {hash}\n{}", log()))
            .await;
    }
}

/// `rollup-node node`: a replica deriving the chain from L1 only, on its own datadir.
struct Replica {
    proc: Option<Proc>,
    url: String,
    datadir: PathBuf,
}

impl Replica {
    fn start(devnet: &Devnet, datadir: &Path) -> Self {
        std::fs::create_dir_all(datadir).unwrap();
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(datadir.join("replica.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_rollup-node"))
            .arg("node")
            .arg("--config")
            .arg(devnet.datadir.join("rollup.json"))
            .args([
                "--l1-rpc-url",
                &devnet.l1_url,
                "--rpc-addr",
                &format!("127.0.0.1:{port}"),
                "--l1-poll-interval",
                "50ms",
                "--l1-beacon-url",
                &devnet.l1_url,
            ])
            .arg("--datadir")
            .arg(datadir)
            .env("RUST_LOG", "info,rollup=debug")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rollup-node node");
        Self {
            proc: Some(Proc(child)),
            url: format!("http://127.0.0.1:{port}"),
            datadir: datadir.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.datadir.join("replica.log")).unwrap_or_default()
    }

    /// Its heads once its RPC answers (panics if the process died).
    async fn heads(&mut self) -> Result<Heads, String> {
        if let Some(proc) = self.proc.as_mut()
            && let Ok(Some(status)) = proc.0.try_wait()
        {
            panic!("replica exited with {status}; log:\n{}", tail(self.log()));
        }
        heads(&self.url).await
    }

    async fn wait_safe(&mut self, target: u64) -> Heads {
        let deadline = Deadline::new(WAIT);
        loop {
            let status = self.heads().await;
            if let Ok(h) = status
                && h.safe_l2 >= target
            {
                return h;
            }
            deadline
                .tick(|| {
                    format!(
                        "replica safe head to reach {target}; last {status:?}\n{}",
                        tail(self.log())
                    )
                })
                .await;
        }
    }

    /// SIGKILL: no shutdown path runs.
    fn kill9(&mut self) {
        drop(self.proc.take());
    }
}

async fn l1_head(devnet: &Devnet) -> u64 {
    devnet.l1(0).get_block_number().await.unwrap()
}

async fn l1_block_hash(devnet: &Devnet, number: u64) -> Value {
    rpc(
        &devnet.l1_url,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    )
    .await
    .unwrap()["hash"]
        .clone()
}

// ---------------------------------------------------------------------------------------------

const TOKEN_SOL: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A minimal ERC-20: the deployer holds the whole supply.
contract Token {
    event Transfer(address indexed from, address indexed to, uint256 value);

    string public constant name = "Test";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    constructor(uint256 supply) {
        totalSupply = supply;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "insufficient balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
"#;

/// Runs a forge/cast command; panics with its stdout and stderr (the RPC incompatibility, if
/// any) when it fails. Returns stdout.
fn foundry(bin: &Path, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(bin)
        .args(args)
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

/// The last JSON object a command printed.
fn last_json(stdout: &str) -> Value {
    stdout
        .lines()
        .rev()
        .find_map(|line| {
            serde_json::from_str::<Value>(line.trim())
                .ok()
                .filter(Value::is_object)
        })
        .or_else(|| serde_json::from_str(stdout.trim()).ok())
        .unwrap_or_else(|| panic!("no JSON in output:\n{stdout}"))
}

fn topic_of(address: Address) -> String {
    format!("{:#x}", B256::left_padding_from(address.as_slice()))
}

#[test]
fn forge_create_and_cast_send_work_against_l2() {
    support::run(forge_create_and_cast_send_work_against_l2_body());
}

async fn forge_create_and_cast_send_work_against_l2_body() {
    let (forge, cast) = (
        foundry_bin("forge", "FORGE_BIN"),
        foundry_bin("cast", "CAST_BIN"),
    );
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    let deployer = &devnet.info.accounts[2];
    let key = format!("{}", deployer.private_key);
    let recipients: Vec<Address> = (6..9).map(|i| devnet.info.accounts[i].address).collect();

    // A forge project whose compiler is the project's solcjs wrapper (works from any cwd).
    let project = dir.path().join("token");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/Token.sol"), TOKEN_SOL).unwrap();
    std::fs::write(
        project.join("foundry.toml"),
        format!(
            "[profile.default]\nsrc = \"src\"\nout = \"out\"\ncache_path = \"cache\"\nsolc = \"{}\"\n\
             offline = true\nauto_detect_solc = false\nevm_version = \"cancun\"\n",
            workspace_root().join("scripts/solc").display()
        ),
    )
    .unwrap();

    // forge create: compiles, estimates, signs for the L2 chain id, broadcasts, waits.
    let supply = 1_000_000u64;
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
            "src/Token.sol:Token",
            "--constructor-args",
            &supply.to_string(),
        ],
        &project,
    );
    let created = last_json(&created);
    let token: Address = created["deployedTo"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        created["deployer"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        deployer.address
    );
    let code = devnet.l2("eth_getCode", json!([token, "latest"])).await;
    assert!(code.as_str().unwrap().len() > 2, "no code at {token}");
    let create_receipt = devnet
        .l2(
            "eth_getTransactionReceipt",
            json!([created["transactionHash"]]),
        )
        .await;
    assert_eq!(create_receipt["status"], json!("0x1"), "{create_receipt}");
    assert_eq!(
        create_receipt["contractAddress"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        token
    );

    // Several cast sends in a row from one account: each takes the next (pending) nonce.
    let nonce_before = quantity(
        &devnet
            .l2(
                "eth_getTransactionCount",
                json!([deployer.address, "pending"]),
            )
            .await,
    );
    let amounts = [100u64, 250, 7];
    let mut sent = Vec::new();
    for (to, amount) in recipients.iter().zip(amounts) {
        let out = foundry(
            &cast,
            &[
                "send",
                &format!("{token:#x}"),
                "transfer(address,uint256)",
                &format!("{to:#x}"),
                &amount.to_string(),
                "--rpc-url",
                &l2,
                "--private-key",
                &key,
                "--json",
            ],
            &project,
        );
        let receipt = last_json(&out);
        assert_eq!(
            receipt["status"],
            json!("0x1"),
            "cast send reverted: {receipt}"
        );
        sent.push((
            receipt["transactionHash"].as_str().unwrap().to_string(),
            *to,
            amount,
        ));
    }
    // And a plain ETH transfer with cast.
    let eth_to = devnet.info.accounts[9].address;
    let eth_before = devnet.l2_balance(eth_to, "latest").await;
    foundry(
        &cast,
        &[
            "send",
            &format!("{eth_to:#x}"),
            "--value",
            "0.5ether",
            "--rpc-url",
            &l2,
            "--private-key",
            &key,
            "--json",
        ],
        &project,
    );
    assert_eq!(
        devnet.l2_balance(eth_to, "latest").await,
        eth_before + U256::from(500_000_000_000_000_000u64)
    );
    let nonce_after = quantity(
        &devnet
            .l2(
                "eth_getTransactionCount",
                json!([deployer.address, "latest"]),
            )
            .await,
    );
    assert_eq!(nonce_after, nonce_before + 4, "one nonce per cast send");

    // cast call: balances.
    let balance_of = |owner: Address| {
        let out = foundry(
            &cast,
            &[
                "call",
                &format!("{token:#x}"),
                "balanceOf(address)(uint256)",
                &format!("{owner:#x}"),
                "--rpc-url",
                &l2,
            ],
            &project,
        );
        out.split_whitespace()
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    for (to, amount) in recipients.iter().zip(amounts) {
        assert_eq!(balance_of(*to), amount, "balance of {to}");
    }
    assert_eq!(
        balance_of(deployer.address),
        supply - amounts.iter().sum::<u64>()
    );

    // cast receipt: status 1 and the Transfer log.
    let transfer_topic = format!("{:#x}", keccak256("Transfer(address,address,uint256)"));
    for (hash, to, amount) in &sent {
        let receipt = last_json(&foundry(
            &cast,
            &["receipt", hash, "--rpc-url", &l2, "--json"],
            &project,
        ));
        assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
        let logs = receipt["logs"].as_array().unwrap();
        assert_eq!(logs.len(), 1, "{receipt}");
        assert_eq!(
            logs[0]["address"]
                .as_str()
                .unwrap()
                .parse::<Address>()
                .unwrap(),
            token
        );
        assert_eq!(
            logs[0]["topics"],
            json!([transfer_topic, topic_of(deployer.address), topic_of(*to)])
        );
        assert_eq!(
            U256::from_str_radix(
                logs[0]["data"].as_str().unwrap().trim_start_matches("0x"),
                16
            )
            .unwrap(),
            U256::from(*amount)
        );
        assert_eq!(logs[0]["transactionHash"], json!(hash));
    }

    // eth_getLogs: exactly the mint and the three transfers, in order; topic filters work.
    let logs = devnet
        .l2(
            "eth_getLogs",
            json!([{ "address": token, "fromBlock": "0x0", "toBlock": "latest", "topics": [transfer_topic] }]),
        )
        .await;
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 4, "{logs:?}");
    assert_eq!(logs[0]["topics"][1], json!(topic_of(Address::ZERO)));
    assert_eq!(logs[0]["transactionHash"], created["transactionHash"]);
    for (log, (hash, to, _)) in logs[1..].iter().zip(&sent) {
        assert_eq!(log["transactionHash"], json!(hash));
        assert_eq!(log["topics"][2], json!(topic_of(*to)));
        assert_eq!(log["removed"], json!(false));
    }
    let to_second = devnet
        .l2(
            "eth_getLogs",
            json!([{ "address": token, "fromBlock": "0x0", "toBlock": "latest",
                     "topics": [transfer_topic, null, topic_of(recipients[1])] }]),
        )
        .await;
    assert_eq!(to_second.as_array().unwrap().len(), 1, "{to_second}");
    assert_eq!(to_second[0]["transactionHash"], json!(sent[1].0));
    let other_topic = format!("{:#x}", keccak256("Approval(address,address,uint256)"));
    let none = devnet
        .l2(
            "eth_getLogs",
            json!([{ "address": token, "fromBlock": "0x0", "toBlock": "latest", "topics": [other_topic] }]),
        )
        .await;
    assert_eq!(none, json!([]));

    deterministic_deployment_and_multicall(&devnet, &forge, &project, &key, deployer.address).await;
}

/// A `forge script` that deploys with a salt, which goes through the CREATE2 deployer tools
/// expect at its usual address; then Multicall3, at its usual address, reads the token.
const DEPLOY_SCRIPT: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Token} from "src/Token.sol";

interface Vm {
    function startBroadcast(uint256 privateKey) external;
    function stopBroadcast() external;
    function envUint(string calldata name) external view returns (uint256);
}

contract DeployDeterministic {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external {
        vm.startBroadcast(vm.envUint("DEPLOYER_KEY"));
        new Token{salt: bytes32(uint256(7))}(1000);
        vm.stopBroadcast();
    }
}
"#;

alloy_sol_types::sol! {
    /// The part of Multicall3's ABI viem's `multicall` uses.
    interface IMulticall3 {
        struct Call3 {
            address target;
            bool allowFailure;
            bytes callData;
        }
        struct Result {
            bool success;
            bytes returnData;
        }
        function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData);
        function getEthBalance(address addr) external view returns (uint256 balance);
    }
}

async fn deterministic_deployment_and_multicall(
    devnet: &Devnet,
    forge: &Path,
    project: &Path,
    key: &str,
    deployer: Address,
) {
    std::fs::create_dir_all(project.join("script")).unwrap();
    std::fs::write(project.join("script/Deploy.s.sol"), DEPLOY_SCRIPT).unwrap();
    let out = Command::new(forge)
        .args([
            "script",
            "script/Deploy.s.sol:DeployDeterministic",
            "--root",
        ])
        .arg(project)
        .args([
            "--rpc-url",
            &devnet.info.l2_rpc_url,
            "--broadcast",
            "--slow",
        ])
        .current_dir(project)
        .env("DEPLOYER_KEY", key)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "forge script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Where CREATE2 from the deployer puts the token: the same address on every chain that has
    // the deployer.
    let artifact: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("out/Token.sol/Token.json")).unwrap(),
    )
    .unwrap();
    let creation: Vec<u8> =
        alloy_primitives::hex::decode(artifact["bytecode"]["object"].as_str().unwrap()).unwrap();
    let init_code = [creation, U256::from(1000).to_be_bytes_vec()].concat();
    let token =
        rollup_primitives::CREATE2_DEPLOYER.create2(B256::with_last_byte(7), keccak256(&init_code));
    let code = devnet.l2("eth_getCode", json!([token, "latest"])).await;
    assert!(code.as_str().unwrap().len() > 2, "no token at {token}");

    // Multicall3's aggregate3, with viem's selector: the token's supply and the deployer's ETH.
    let call = IMulticall3::aggregate3Call {
        calls: vec![
            IMulticall3::Call3 {
                target: token,
                allowFailure: false,
                callData: keccak256("totalSupply()")[..4].to_vec().into(),
            },
            IMulticall3::Call3 {
                target: rollup_primitives::MULTICALL3,
                allowFailure: false,
                callData: IMulticall3::getEthBalanceCall { addr: deployer }
                    .abi_encode()
                    .into(),
            },
        ],
    };
    let input = call.abi_encode();
    assert_eq!(
        input[..4],
        [0x82, 0xad, 0x56, 0xcb],
        "Multicall3's aggregate3 selector"
    );
    let out = devnet
        .l2(
            "eth_call",
            json!([{"to": rollup_primitives::MULTICALL3, "data": alloy_primitives::Bytes::from(input)}, "latest"]),
        )
        .await;
    let out = alloy_primitives::hex::decode(out.as_str().unwrap()).unwrap();
    let results = IMulticall3::aggregate3Call::abi_decode_returns(&out).unwrap();
    assert!(results.iter().all(|result| result.success));
    assert_eq!(
        U256::from_be_slice(&results[0].returnData),
        U256::from(1000)
    );
    assert_eq!(
        U256::from_be_slice(&results[1].returnData),
        devnet.l2_balance(deployer, "latest").await
    );
}

/// Some L2 activity (transfers from two accounts) and an ETH deposit; returns the highest L2
/// block it touched.
async fn activity(devnet: &Devnet) -> u64 {
    let user = devnet.info.accounts[3].address;
    let before = devnet.l2_balance(user, "latest").await;
    deposit_eth(devnet, 3, ether(2)).await;
    let a = transfers(
        devnet,
        4,
        devnet.info.accounts[7].address,
        6,
        Duration::from_millis(40),
    )
    .await;
    let b = transfers(
        devnet,
        5,
        devnet.info.accounts[8].address,
        4,
        Duration::from_millis(120),
    )
    .await;
    devnet.wait_balance(user, before + ether(2)).await;
    a.max(b)
        .max(quantity(&devnet.l2("eth_blockNumber", json!([])).await))
}

async fn assert_same_balances(devnet: &Devnet, replica: &str, at: u64) {
    for account in &devnet.info.accounts {
        let params = json!([account.address, format!("{at:#x}")]);
        let expected = devnet.l2("eth_getBalance", params.clone()).await;
        let actual = rpc(replica, "eth_getBalance", params).await.unwrap();
        assert_eq!(
            expected, actual,
            "balance of {} at L2 block {at}",
            account.address
        );
    }
}

#[test]
fn replica_from_scratch_reaches_the_same_chain() {
    support::run(replica_from_scratch_reaches_the_same_chain_body());
}

async fn replica_from_scratch_reaches_the_same_chain_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    let touched = activity(&devnet).await;
    // Batches landed: the safe head covers everything the activity produced.
    let sequencer = wait_safe(&l2, touched, || tail(devnet.log())).await;
    let target = sequencer.safe_l2;
    assert!(target >= touched);

    let mut replica = Replica::start(&devnet, &dir.path().join("replica"));
    let reached = replica.wait_safe(target).await;
    assert!(reached.unsafe_l2 >= reached.safe_l2, "{reached:?}");
    assert_same_chain(&l2, &replica.url, target).await;
    assert_same_balances(&devnet, &replica.url, target).await;
    // The replica serves the deposit and the transfers as the sequencer does.
    let user = devnet.info.accounts[7].address;
    assert_eq!(
        rpc(
            &replica.url,
            "eth_getTransactionCount",
            json!([devnet.info.accounts[4].address, format!("{target:#x}")])
        )
        .await
        .unwrap(),
        json!("0x6")
    );
    assert_eq!(
        rpc(
            &replica.url,
            "eth_getBalance",
            json!([user, format!("{target:#x}")])
        )
        .await
        .unwrap(),
        devnet
            .l2("eth_getBalance", json!([user, format!("{target:#x}")]))
            .await
    );
    // A replica does not sequence.
    let raw = rpc(&replica.url, "eth_sendRawTransaction", json!(["0x02"])).await;
    assert!(raw.is_err(), "replica accepted a transaction: {raw:?}");
}

/// Counts the inbox's batch transactions on L1 that succeeded: `(in blobs, in calldata)`.
async fn batch_transactions(devnet: &Devnet) -> (usize, usize) {
    let rollup: Value =
        serde_json::from_str(&std::fs::read_to_string(devnet.datadir.join("rollup.json")).unwrap())
            .unwrap();
    let inbox: Address = serde_json::from_value(rollup["contracts"]["batchInbox"].clone()).unwrap();
    let l1 = devnet.l1(0);
    let (mut blobs, mut calldata) = (0, 0);
    for number in 0..=l1.get_block_number().await.unwrap() {
        let block = l1
            .get_block_by_number(number.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.into_transactions() {
            if alloy_consensus::Transaction::to(&tx) != Some(inbox) {
                continue;
            }
            let receipt = l1
                .get_transaction_receipt(*tx.inner.tx_hash())
                .await
                .unwrap()
                .unwrap();
            let selector = &alloy_consensus::Transaction::input(&tx)[..4];
            if !receipt.status() || selector == IBatchInbox::forceIncludeCall::SELECTOR {
                continue;
            }
            match alloy_consensus::Transaction::blob_versioned_hashes(&tx) {
                Some(hashes) if !hashes.is_empty() => {
                    assert_eq!(selector, IBatchInbox::postBlobBatchCall::SELECTOR);
                    blobs += 1;
                }
                _ => {
                    assert_eq!(selector, IBatchInbox::postBatchCall::SELECTOR);
                    calldata += 1;
                }
            }
        }
    }
    (blobs, calldata)
}

/// The batcher posts in blobs (the devnet's default with anvil's beacon API), then, restarted
/// with `--batcher-data calldata`, in calldata, then in blobs again; a replica that reads blobs
/// from the beacon API derives the whole chain hash for hash.
#[test]
fn a_chain_posted_in_blobs_and_calldata_derives_hash_for_hash() {
    support::run(a_chain_posted_in_blobs_and_calldata_derives_hash_for_hash_body());
}

async fn a_chain_posted_in_blobs_and_calldata_derives_hash_for_hash_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("devnet");
    let to = Address::repeat_byte(0x77);
    let mut devnet = Devnet::start_fast(&anvil.url, &datadir);
    let mut last = 0;
    for (round, extra) in [&[][..], &["--batcher-data", "calldata"][..], &[][..]]
        .into_iter()
        .enumerate()
    {
        if round > 0 {
            devnet.kill9();
            devnet = Devnet::start_fast_with(&anvil.url, &datadir, extra);
        }
        let before = batch_transactions(&devnet).await;
        last = transfers(&devnet, 4, to, 8, Duration::from_millis(40)).await;
        wait_safe(&devnet.info.l2_rpc_url, last, || tail(devnet.log())).await;
        let after = batch_transactions(&devnet).await;
        if extra.is_empty() {
            assert!(
                after.0 > before.0,
                "round {round}: no blob batch: {before:?} -> {after:?}"
            );
            assert!(
                devnet.log().contains("batches go to L1 as blobs"),
                "round {round}"
            );
        } else {
            assert!(
                after.1 > before.1,
                "round {round}: no calldata batch: {before:?} -> {after:?}"
            );
            assert_eq!(
                after.0, before.0,
                "round {round}: blobs posted with --batcher-data calldata"
            );
        }
        eprintln!("round {round}: batch transactions (blobs, calldata) {after:?}");
    }
    let l2 = devnet.info.l2_rpc_url.clone();
    let target = wait_safe(&l2, last, || tail(devnet.log())).await.safe_l2;
    let mut replica = Replica::start(&devnet, &dir.path().join("replica"));
    replica.wait_safe(target).await;
    assert_same_chain(&l2, &replica.url, target).await;
    assert_same_balances(&devnet, &replica.url, target).await;
}

#[test]
fn replica_killed_mid_derivation_converges() {
    support::run(replica_killed_mid_derivation_converges_body());
}

async fn replica_killed_mid_derivation_converges_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    // Many transfers spread over many blocks: at least 40, and until the chain has 30+ blocks.
    let (mut sent, mut last_tx_block) = (0, 0);
    let deadline = Deadline::new(WAIT);
    while sent < 40 || last_tx_block < 30 {
        let to = devnet.info.accounts[7].address;
        last_tx_block = transfers(&devnet, 4, to, 10, Duration::from_millis(60)).await;
        sent += 10;
        deadline
            .tick(|| format!("30 L2 blocks; at {last_tx_block}"))
            .await;
    }
    let target = wait_safe(&l2, last_tx_block, || tail(devnet.log()))
        .await
        .safe_l2;

    let replica_dir = dir.path().join("replica");
    let mut replica = Replica::start(&devnet, &replica_dir);
    // Kill it as soon as it has committed a safe block (its log says so right after each L1
    // block's MDBX commit; watching the file is much faster than its RPC).
    let deadline = Deadline::new(WAIT);
    loop {
        let _ = replica.heads().await; // panics if it died
        if processed(&replica.log()).iter().any(|p| p.safe_l2 > 0) {
            replica.kill9();
            break;
        }
        deadline
            .tick(|| format!("replica to start deriving\n{}", tail(replica.log())))
            .await;
    }
    let log_before_restart = replica.log();
    let done = processed(&log_before_restart);
    let last = *done.last().unwrap();
    assert!(
        last.safe_l2 < target,
        "the replica derived all {target} blocks before the test could kill it: {last:?}"
    );
    eprintln!(
        "replica killed after L1 block {} at safe L2 block {} of {target}",
        last.l1_block, last.safe_l2
    );

    let mut restarted = Replica::start(&devnet, &replica_dir);
    // Nothing committed is lost: it resumes from (at least) the last L1 block it committed,
    // and its first answer already holds the safe blocks derived before the kill.
    let deadline = Deadline::new(WAIT);
    let first_seen = loop {
        if let Ok(h) = restarted.heads().await {
            break h;
        }
        deadline
            .tick(|| format!("restarted replica RPC\n{}", tail(restarted.log())))
            .await;
    };
    assert!(
        first_seen.safe_l2 >= last.safe_l2,
        "restart lost derived blocks: {first_seen:?}, before the kill {last:?}"
    );
    let restart_log = restarted.log()[log_before_restart.len()..].to_string();
    let resumed_from = restart_log
        .lines()
        .map(strip_ansi)
        .find(|line| line.contains("rollup core ready"))
        .and_then(|line| field(&line, "l1_cursor"))
        .unwrap_or_else(|| {
            panic!(
                "no `rollup core ready` line after restart:\n{}",
                tail(restart_log.clone())
            )
        });
    assert!(
        resumed_from >= last.l1_block,
        "restart resumed from L1 block {resumed_from}, before the last committed one {}",
        last.l1_block
    );
    restarted.wait_safe(target).await;
    assert_same_chain(&l2, &restarted.url, target).await;
    assert_same_balances(&devnet, &restarted.url, target).await;
}

/// `name=<digits>` in a (colourless) log line.
fn field(line: &str, name: &str) -> Option<u64> {
    let start = line.find(&format!(" {name}="))? + name.len() + 2;
    let digits: String = line[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[derive(Debug, Clone, Copy)]
struct Processed {
    l1_block: u64,
    safe_l2: u64,
}

/// The node's `processed L1 block` lines, each logged after that block's commit.
fn processed(log: &str) -> Vec<Processed> {
    log.lines()
        .map(strip_ansi)
        .filter(|line| line.contains("processed L1 block"))
        .filter_map(|line| {
            Some(Processed {
                l1_block: field(&line, "l1_block")?,
                safe_l2: field(&line, "safe_l2")?,
            })
        })
        .collect()
}

#[test]
fn l1_reorg_under_posted_batches_is_recovered() {
    support::run(l1_reorg_under_posted_batches_is_recovered_body());
}

/// The last lines of a node log, without colour codes, and every error or warning line before
/// them (a node that exited ends its log with a long backtrace that would push its error out).
pub(crate) fn tail(log: String) -> String {
    let lines: Vec<String> = log.lines().map(strip_ansi).collect();
    let start = lines.len().saturating_sub(80);
    let earlier: Vec<&str> = lines[..start]
        .iter()
        .filter(|line| line.contains("ERROR") || line.contains("WARN") || line.starts_with("Error"))
        .map(String::as_str)
        .collect();
    format!(
        "{}\n--- last lines ---\n{}",
        earlier.join("\n"),
        lines[start..].join("\n")
    )
}

/// `line` without terminal colour codes (the node colours its log even into a file).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `unwound L2 for reverted L1 blocks` lines the node logged: `(safe_l2, unsafe_l2)`.
fn unwinds(log: &str) -> Vec<(u64, u64)> {
    log.lines()
        .map(strip_ansi)
        .filter(|line| line.contains("unwound L2 for reverted L1 blocks"))
        .filter_map(|line| Some((field(&line, "safe_l2")?, field(&line, "unsafe_l2")?)))
        .collect()
}

async fn l1_reorg_under_posted_batches_is_recovered_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    let l1 = devnet.l1(0);

    let last_tx_block = transfers(
        &devnet,
        4,
        devnet.info.accounts[7].address,
        8,
        Duration::from_millis(60),
    )
    .await;
    let safe_before = wait_safe(&l2, last_tx_block, || tail(devnet.log()))
        .await
        .safe_l2;
    // Fork point: the L1 origin of the last block with our transactions. Its batch was posted
    // after that L1 block was processed, so in a later L1 block: replacing every L1 block above
    // the origin removes the batch, while the L2 blocks (origins at or below it) stay valid.
    let origin = quantity(&block(&l2, last_tx_block).await["l1Origin"]["number"]);
    let inbox = {
        let info: Value = serde_json::from_str(
            &std::fs::read_to_string(devnet.datadir.join("devnet.json")).unwrap(),
        )
        .unwrap();
        info["contracts"]["batchInbox"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap()
    };
    // The kept L2 blocks: every block whose origin is at or below the fork point.
    let mut kept = last_tx_block;
    while kept < safe_before
        && quantity(&block(&l2, kept + 1).await["l1Origin"]["number"]) <= origin
    {
        kept += 1;
    }
    let hashes_before: Vec<Value> = {
        let mut out = Vec::new();
        for n in 0..=kept {
            out.push(block(&l2, n).await["hash"].clone());
        }
        out
    };
    // The batch posts that made blocks above the fork point safe.
    let head = l1_head(&devnet).await;
    let mut batch_posts = 0;
    for number in origin + 1..=head {
        let b = rpc(
            &devnet.l1_url,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        )
        .await
        .unwrap();
        batch_posts += b["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|tx| tx["to"].as_str().and_then(|t| t.parse::<Address>().ok()) == Some(inbox))
            .count();
    }
    assert!(batch_posts > 0, "no batch posted above L1 block {origin}");
    let fork_child_before = l1_block_hash(&devnet, origin + 1).await;

    // Replace every L1 block above the origin with empty ones. The batcher keeps mining blocks
    // (anvil automines), so retry until the first block above the fork point changed.
    let log_len = devnet.log().len();
    let deadline = Deadline::new(WAIT);
    loop {
        let head = l1_head(&devnet).await;
        l1.raw_request::<_, Value>("anvil_reorg".into(), json!([head - origin, []]))
            .await
            .unwrap();
        if l1_block_hash(&devnet, origin + 1).await != fork_child_before {
            break;
        }
        deadline
            .tick(|| "anvil_reorg to replace the fork point's child".into())
            .await;
    }
    let reorged_at = Instant::now();

    // The safe head rewinds below what it was (seen over RPC if the window is wide enough,
    // and always in the node's own account of the unwind).
    let mut lowest_safe = u64::MAX;
    let deadline = Deadline::new(WAIT);
    let unwound = loop {
        if let Ok(h) = heads(&l2).await {
            lowest_safe = lowest_safe.min(h.safe_l2);
        }
        let log = devnet.log();
        let found = unwinds(&log[log_len.min(log.len())..]);
        if let Some(first) = found.first() {
            break *first;
        }
        deadline
            .tick(|| {
                format!(
                    "the node to unwind for the L1 reorg\n{}",
                    tail(devnet.log())
                )
            })
            .await;
    };
    let (unwound_safe, unwound_unsafe) = unwound;
    assert!(
        unwound_safe < last_tx_block,
        "safe head did not rewind below the reorged batch: {unwound:?}, last tx block {last_tx_block}"
    );
    assert!(
        unwound_unsafe >= kept,
        "unsafe blocks with surviving origins were dropped: kept only up to {unwound_unsafe}, expected {kept}"
    );
    eprintln!(
        "unwound: safe {safe_before} -> {unwound_safe}, unsafe kept to {unwound_unsafe}; lowest safe seen over RPC {lowest_safe}; {batch_posts} batch posts reorged out"
    );

    // The batcher posts again and the safe head comes back over everything.
    let recovered = wait_safe(&l2, safe_before, || tail(devnet.log())).await;
    eprintln!(
        "safe head recovered in {:?}: {recovered:?}",
        reorged_at.elapsed()
    );
    for (n, hash) in hashes_before.iter().enumerate() {
        assert_eq!(
            &block(&l2, n as u64).await["hash"],
            hash,
            "L2 block {n} (origin at or below the fork point) changed after the reorg"
        );
    }
    // The transfers are still there, safe.
    assert!(recovered.safe_l2 >= last_tx_block);

    // A replica started now derives the same chain from the reorged L1.
    let target = heads(&l2).await.unwrap().safe_l2;
    let mut replica = Replica::start(&devnet, &dir.path().join("replica"));
    replica.wait_safe(target).await;
    assert_same_chain(&l2, &replica.url, target).await;
    assert_same_balances(&devnet, &replica.url, target).await;
}

/// Like the test above, but the reorg also hits while the batcher waits for its next batch
/// transaction: the reorg removes the batcher's earlier transactions, so the nonce the waiting
/// transaction holds is now a gap on L1 and can never be mined.
#[test]
fn l1_reorg_while_a_batch_transaction_is_pending_is_recovered() {
    support::run(l1_reorg_while_a_batch_transaction_is_pending_is_recovered_body());
}

async fn l1_reorg_while_a_batch_transaction_is_pending_is_recovered_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l2 = devnet.info.l2_rpc_url.clone();
    let l1 = devnet.l1(0);
    let batcher = devnet.info.accounts[1].address;
    let to = devnet.info.accounts[7].address;

    let last_tx_block = transfers(&devnet, 4, to, 4, Duration::from_millis(60)).await;
    wait_safe(&l2, last_tx_block, || tail(devnet.log())).await;
    let origin = quantity(&block(&l2, last_tx_block).await["l1Origin"]["number"]);

    // L1 stops mining; one more L2 transaction makes the batcher send a batch that now waits
    // in anvil's pool.
    l1.raw_request::<_, Value>("evm_setAutomine".into(), json!([false]))
        .await
        .unwrap();
    let nonce = |tag: &'static str| {
        let l1_url = devnet.l1_url.clone();
        async move {
            quantity(
                &rpc(&l1_url, "eth_getTransactionCount", json!([batcher, tag]))
                    .await
                    .unwrap(),
            )
        }
    };
    transfers_no_wait(&devnet, 4, to, 1).await;
    let deadline = Deadline::new(WAIT);
    while nonce("pending").await <= nonce("latest").await {
        deadline
            .tick(|| format!("a pending batch transaction\n{}", tail(devnet.log())))
            .await;
    }
    // Reorg away every L1 block above the origin (with the earlier batches), then mine again.
    let head = l1_head(&devnet).await;
    l1.raw_request::<_, Value>("anvil_reorg".into(), json!([head - origin, []]))
        .await
        .unwrap();
    eprintln!(
        "batcher nonce after the reorg: latest {}, pending {}",
        nonce("latest").await,
        nonce("pending").await
    );
    l1.raw_request::<_, Value>("evm_setAutomine".into(), json!([true]))
        .await
        .unwrap();
    l1.raw_request::<_, Value>("anvil_mine".into(), json!(["0x1"]))
        .await
        .unwrap();

    // Recovery within the usual bound: everything sequenced so far becomes safe again.
    let unsafe_now = heads(&l2).await.unwrap().unsafe_l2;
    let start = Instant::now();
    wait_safe(&l2, unsafe_now, || tail(devnet.log())).await;
    eprintln!("recovered in {:?}", start.elapsed());
}

/// Sends `count` transfers without waiting for receipts; returns how many were sent.
async fn transfers_no_wait(devnet: &Devnet, from: usize, to: Address, count: u64) -> u64 {
    let wallet = l2_wallet(devnet, from);
    for _ in 0..count {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1));
        let _pending = wallet.send_transaction(tx).await.unwrap();
    }
    count
}

/// A batch transaction the L1 node drops from its pool (evicted from a full pool, or reorged
/// out on a node that does not put such transactions back, as anvil) is sent again within
/// seconds, not after the resubmission delay: every later batch waits on its nonce.
#[test]
fn a_batch_transaction_the_l1_node_dropped_is_sent_again_soon() {
    support::run(a_batch_transaction_the_l1_node_dropped_is_sent_again_soon_body());
}

async fn a_batch_transaction_the_l1_node_dropped_is_sent_again_soon_body() {
    let dir = tempfile::tempdir().unwrap();
    // Blocks two seconds apart, so a batch transaction waits in the pool long enough to drop.
    let anvil = Anvil::start_with(&["--block-time", "2"]);
    // A resubmission delay far past the test's bound: only the batcher's look for dropped
    // transactions can send it again in time.
    let devnet = Devnet::start_fast_with(&anvil.url, dir.path(), &["--l1-resubmit-after", "90s"]);
    let batcher = devnet.info.accounts[1].address;
    let l1 = devnet.l1(0);
    let mined_nonce = async || -> u64 {
        let count: alloy_primitives::U64 = l1
            .raw_request("eth_getTransactionCount".into(), (batcher, "latest"))
            .await
            .unwrap();
        count.to()
    };
    // The batcher's lowest pending transaction, dropped from anvil's pool.
    let deadline = Deadline::new(Duration::from_secs(120));
    let (nonce, dropped_at) = loop {
        let content: Value = l1.raw_request("txpool_content".into(), ()).await.unwrap();
        let lowest = content["pending"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(from, _)| from.parse::<Address>().ok() == Some(batcher))
            .flat_map(|(_, by_nonce)| by_nonce.as_object().into_iter().flatten())
            .filter_map(|(nonce, tx)| Some((nonce.parse::<u64>().ok()?, tx["hash"].clone())))
            .min_by_key(|(nonce, _)| *nonce);
        if let Some((nonce, hash)) = lowest {
            let _: Value = l1
                .raw_request("anvil_dropTransaction".into(), [hash])
                .await
                .unwrap();
            // Dropped before it was mined: the nonce is still free.
            if mined_nonce().await <= nonce {
                break (nonce, Instant::now());
            }
        }
        deadline
            .tick(|| format!("a batch transaction to drop\n{}", tail(devnet.log())))
            .await;
    };
    // A batch lands at that nonce again, well before the 90 s resubmission delay.
    let deadline = Deadline::new(Duration::from_secs(30));
    while mined_nonce().await <= nonce {
        deadline
            .tick(|| format!("nonce {nonce} mined after its drop\n{}", tail(devnet.log())))
            .await;
    }
    eprintln!(
        "nonce {nonce} mined {:?} after its drop",
        dropped_at.elapsed()
    );
    assert!(
        devnet
            .log()
            .contains("the L1 node no longer has the batch transaction"),
        "{}",
        tail(devnet.log())
    );
    // And the chain goes on being posted: the safe head passes the unsafe head of now.
    let l2 = devnet.info.l2_rpc_url.clone();
    let target = heads(&l2).await.unwrap().unsafe_l2;
    wait_safe(&l2, target, || tail(devnet.log())).await;
}
