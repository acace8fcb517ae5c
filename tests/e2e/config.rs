//! Config mistakes are refused at start with a message that says what to fix.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use rollup_primitives::{BlockNumHash, ContractAddresses, L2Genesis, RollupConfig};

use crate::support::Anvil;

fn config(l1_chain_id: u64) -> RollupConfig {
    RollupConfig {
        l1_chain_id,
        l2_chain_id: 42069,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: 1,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc: Default::default(),
        },
        sequencing_window: 3_600,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(4),
    }
}

/// A replica pointed at an L1 of another chain than its config names, or at one on which the
/// config's genesis L1 origin is another block, stops at once and says what disagrees, instead
/// of deriving nothing (or retrying a "reorg deeper than the stored history") forever.
#[test]
fn a_replica_refuses_an_l1_its_config_is_not_for() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut on_chain_31337 = config(31337);
    on_chain_31337.genesis.l1_origin.hash = B256::repeat_byte(9);
    for (config, expected) in [
        (config(1), vec!["is chain 31337", "for L1 chain 1"]),
        (
            on_chain_31337,
            vec![
                "genesis.l1Origin is block 0 0x0909",
                "but that block on the L1",
            ],
        ),
    ] {
        let path = dir.path().join("rollup.json");
        std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_rollup-node"))
            .arg("node")
            .arg("--config")
            .arg(&path)
            .args(["--l1-rpc-url", &anvil.url, "--rpc-addr", "127.0.0.1:0"])
            .arg("--datadir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        for part in expected {
            assert!(stderr.contains(part), "{stderr}");
        }
        // Refused before its database was created: no empty datadir (with its lock file)
        // is left behind.
        assert!(!dir.path().join("data").exists(), "{stderr}");
    }
}

/// `rollup-node node` with `args` and `datadir`, pointed at an L1 that is not there, run to
/// its end: for mistakes refused before it reads L1.
fn node_without_l1(args: &[&str], datadir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rollup-node"))
        .arg("node")
        .args(args)
        .args([
            "--l1-rpc-url",
            "http://127.0.0.1:1",
            "--rpc-addr",
            "127.0.0.1:0",
        ])
        .arg("--datadir")
        .arg(datadir)
        .output()
        .unwrap()
}

/// A sequencer told to follow L1 a whole sequencing window behind its head is refused before
/// anything starts (every epoch it adopted would be forced in and its blocks replaced); a
/// replica may follow that far behind.
#[test]
fn a_sequencer_a_window_behind_l1_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&config(31337)).unwrap()).unwrap();
    let output = node_without_l1(
        &[
            "--config",
            path.to_str().unwrap(),
            "--sequencer",
            "--l1-confirmations",
            "3600",
        ],
        &dir.path().join("data"),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "--l1-confirmations 3600 is not below the rollup's sequencing window (3600 L1 blocks)"
        ),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "the datadir was not touched"
    );
}

/// Under `--log-format json` a fatal error is also a JSON log line (what a log collector reads),
/// besides the plain text on stderr a person reads.
#[test]
fn a_fatal_error_is_logged_as_json_under_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = node_without_l1(
        &[
            "--log-format",
            "json",
            "--config",
            missing.to_str().unwrap(),
        ],
        &dir.path().join("data"),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("Error: "), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let fatal = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["fields"]["message"] == "stopped on a fatal error")
        .unwrap_or_else(|| panic!("no fatal error in the JSON log:\n{stdout}"));
    assert_eq!(fatal["level"], "ERROR");
    let error = fatal["fields"]["error"].as_str().unwrap();
    assert!(
        stderr.contains(error),
        "the JSON line names the error stderr shows: {error}\n{stderr}"
    );
}

/// `rollup-node node` with `config` on the L1 at `l1_url` and `datadir`, its output piped.
fn spawn_replica(
    config: &std::path::Path,
    l1_url: &str,
    datadir: &std::path::Path,
) -> std::process::Child {
    spawn_node(config, l1_url, datadir, &[])
}

/// [`spawn_replica`] with `extra` flags (roles, keys).
fn spawn_node(
    config: &std::path::Path,
    l1_url: &str,
    datadir: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rollup-node"))
        .arg("node")
        .arg("--config")
        .arg(config)
        .args(["--l1-rpc-url", l1_url, "--rpc-addr", "127.0.0.1:0"])
        .arg("--datadir")
        .arg(datadir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A config whose genesis L1 origin the L1 has not reached yet: the replica waits for it before
/// it creates its database, then checks it. Before, it wrote the database at once and then
/// retried "an L1 reorg deeper than the stored history" for ever, even once L1 got there.
#[test]
fn a_replica_waits_for_its_genesis_origin_then_checks_it() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut ahead = config(31337);
    ahead.genesis.l1_origin = BlockNumHash {
        number: 5,
        hash: B256::repeat_byte(7),
    };
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&ahead).unwrap()).unwrap();
    let data = dir.path().join("data");
    let mut node = spawn_replica(&path, &anvil.url, &data);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        node.try_wait().unwrap().is_none(),
        "the replica did not wait"
    );
    // Only the datadir's lock is there: no database yet.
    assert!(
        !data.join("db").join("mdbx.dat").exists(),
        "the database was created before the check"
    );
    // L1 reaches block 5, whose hash is not the config's.
    let mined = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data",
        ])
        .arg(r#"{"jsonrpc":"2.0","id":1,"method":"anvil_mine","params":["0x6"]}"#)
        .arg(&anvil.url)
        .output()
        .unwrap();
    assert!(mined.status.success());
    let started = Instant::now();
    while node.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replica did not check the origin once L1 reached it"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = node.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("genesis.l1Origin is block 5 0x0707"),
        "{stderr}"
    );
}

/// An L1 that does not answer when the replica starts is checked once it does, before the
/// replica follows it: an L1 of another chain that comes up late is refused by name. Before, the
/// replica followed it unchecked and retried "an L1 reorg deeper than the stored history" for
/// ever.
#[test]
fn a_replica_checks_an_l1_that_comes_up_late() {
    let port = crate::support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&config(31337)).unwrap()).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut node = spawn_replica(&path, &url, &dir.path().join("data"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        node.try_wait().unwrap().is_none(),
        "the replica waits for its L1"
    );
    // Another chain's L1 comes up where the replica looks for its own.
    let _l1 = crate::support::Proc(
        Command::new(crate::support::anvil_bin())
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .args(["--chain-id", "1", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while node.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(40) {
            let _ = node.kill();
            let output = node.wait_with_output().unwrap();
            panic!(
                "the replica did not check the L1 once it answered:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = node.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is chain 1, but the rollup config is for L1 chain 31337"),
        "{stderr}"
    );
}

/// An L1 that takes connections and never answers does not hold the replica's RPC back for the
/// L1 call's whole timeout (30 s): the start check gives up after 10 s and the node checks the
/// L1 again before it follows it.
#[test]
fn a_replica_serves_its_rpc_while_its_l1_hangs() {
    // Connections queue in the backlog and are never read.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let l1_url = format!("http://{}", hung.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&config(31337)).unwrap()).unwrap();
    let rpc = format!("127.0.0.1:{}", crate::support::free_port());
    let mut node = crate::support::Proc(
        Command::new(env!("CARGO_BIN_EXE_rollup-node"))
            .arg("node")
            .arg("--config")
            .arg(&path)
            .args(["--l1-rpc-url", &l1_url, "--rpc-addr", &rpc, "--datadir"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    loop {
        let answer = Command::new("curl")
            .args([
                "-s",
                "-m",
                "2",
                "-H",
                "content-type: application/json",
                "--data",
            ])
            .arg(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#)
            .arg(format!("http://{rpc}"))
            .output()
            .unwrap();
        if String::from_utf8_lossy(&answer.stdout).contains("\"result\":\"0xa455\"") {
            break;
        }
        assert!(
            node.0.try_wait().unwrap().is_none(),
            "the replica stopped while its L1 hung"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no RPC 20 s after start while the L1 hangs"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(hung);
}

/// A `--l1-beacon-url` that serves another chain's blobs is refused at start, naming the flag.
/// Before, it showed only at the first blob batch, as a blob read that retried for ever.
#[test]
fn a_replica_refuses_a_beacon_url_of_another_l1() {
    let l1 = Anvil::start();
    // Another chain: its genesis is dated otherwise, so its blocks have other hashes.
    let other = Anvil::start_with(&["--timestamp", "1000"]);
    let genesis = Command::new("curl")
        .args(["-s", "-H", "content-type: application/json", "--data"])
        .arg(r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x0",false]}"#)
        .arg(&l1.url)
        .output()
        .unwrap();
    let genesis: serde_json::Value = serde_json::from_slice(&genesis.stdout).unwrap();
    let mut on_l1 = config(31337);
    on_l1.genesis.l1_origin.hash = genesis["result"]["hash"].as_str().unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&on_l1).unwrap()).unwrap();
    let mut node = Command::new(env!("CARGO_BIN_EXE_rollup-node"))
        .arg("node")
        .arg("--config")
        .arg(&path)
        .args(["--l1-rpc-url", &l1.url, "--l1-beacon-url", &other.url])
        .args(["--rpc-addr", "127.0.0.1:0", "--datadir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while node.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = node.kill();
    let output = node.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "--l1-beacon-url {} serves no beacon chain spec",
            other.url
        )),
        "{stderr}"
    );
}

/// `rollup-node deploy` of `deploy_toml` to the L1 at `l1_url` into `out`, signed with `key`.
fn run_deploy(
    l1_url: &str,
    deploy_toml: &std::path::Path,
    out: &std::path::Path,
    key: &str,
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rollup-node"))
        .args(["deploy", "--l1-rpc-url", l1_url, "--config"])
        .arg(deploy_toml)
        .arg("--out")
        .arg(out)
        .env("ROLLUP_PRIVATE_KEY", key)
        .output()
        .unwrap()
}

/// A deployment that fails before it sends anything (genesis ETH beyond the deployer's
/// balance) says so, and leaves no empty `--out` folder behind; before, it said contracts
/// deployed before the failure stayed on L1 unused.
#[test]
fn a_deploy_that_sends_nothing_says_so_and_leaves_no_folder() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let deploy_toml = dir.path().join("deploy.toml");
    std::fs::write(
        &deploy_toml,
        "preset = \"devnet\"\nl2_chain_id = 4242\nowner = \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"\nbatcher = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\nproposer = \"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"\n[l2_alloc]\n\"0x5555555555555555555555555555555555555555\" = \"100000000000000000000000000\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = run_deploy(
        &anvil.url,
        &deploy_toml,
        &out,
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("deployment failed before it sent anything"),
        "{stderr}"
    );
    assert!(!out.exists(), "an empty --out was left behind");
}

/// `rollup-node deploy` with the production preset against a fresh L1, as an operator runs it:
/// every contract behind a proxy whose admin is the timelock, the 7-day challenge period, and a
/// `rollup.json` a replica starts from. An upgrade then waits out the timelock: refused before
/// the delay, executed after it.
#[test]
fn deploy_with_the_production_preset_then_run_a_replica() {
    crate::support::run(deploy_with_the_production_preset_then_run_a_replica_body());
}

async fn deploy_with_the_production_preset_then_run_a_replica_body() {
    use alloy_network::{EthereumWallet, TransactionBuilder};
    use alloy_primitives::{B256, Bytes, U256};
    use alloy_provider::{Provider, ProviderBuilder};
    use alloy_rpc_types_eth::TransactionRequest;
    use alloy_signer_local::PrivateKeySigner;
    use alloy_sol_types::{SolCall, SolValue};
    use rollup_primitives::{
        artifacts,
        bindings::{IProxyAdmin, IStateManager, ITimelock},
    };
    use serde_json::{Value, json};

    use crate::{
        support::Replica,
        withdrawals::{l1_rpc, view},
    };

    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    // anvil's dev accounts 0 (deployer and timelock owner), 1 batcher, 2 proposer, 9 guardian.
    let keys = [
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ];
    let address = |key: &str| key.parse::<PrivateKeySigner>().unwrap().address();
    let deploy_toml = dir.path().join("deploy.toml");
    std::fs::write(
        &deploy_toml,
        format!(
            "l2_chain_id = 4242\nowner = \"{}\"\nbatcher = \"{}\"\nproposer = \"{}\"\ndispute_game = \"0xa0Ee7A142d267C1f36714E4a8F75612F20a79720\"\n",
            address(keys[0]),
            address(keys[1]),
            address(keys[2])
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = run_deploy(&anvil.url, &deploy_toml, &out, keys[0]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "deploy failed\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rollup_json = out.join("rollup.json");
    let config = RollupConfig::from_file(&rollup_json).unwrap();
    assert_eq!(config.l2_chain_id, 4242);
    let deployment: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("deployment.json")).unwrap())
            .unwrap();
    let field = |value: &Value| value.as_str().unwrap().parse::<Address>().unwrap();
    let timelock = field(&deployment["timelock"]);

    // A second deploy into the same folder is refused rather than overwriting it.
    let again = run_deploy(&anvil.url, &deploy_toml, &out, keys[0]);
    assert!(!again.status.success());

    // The replica starts from the written config and follows L1.
    let replica = Replica::start(&anvil.url, &rollup_json, &dir.path().join("replica"), &[]);
    let status = replica.rpc("rollup_syncStatus", json!([])).await;
    assert!(status["l1Cursor"].is_object(), "{status}");

    // A sequencer whose proposer key is not the StateManager's proposer (anvil's account 3)
    // refuses to start and deposits no bond: before, it locked the 20 ETH bond, then failed
    // every round with StateManager_NotProposer (and later warned once an interval).
    let wrong_proposer = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
    let sequencer = spawn_node(
        &rollup_json,
        &anvil.url,
        &dir.path().join("sequencer"),
        &[
            "--sequencer",
            "--batcher-key",
            keys[1],
            "--proposer-key",
            wrong_proposer,
        ],
    );
    let output = tokio::task::spawn_blocking(move || sequencer.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(
        stderr.contains("is not the StateManager's proposer"),
        "{stderr}"
    );
    let bonded: U256 = view(
        &ProviderBuilder::new()
            .connect_http(anvil.url.parse().unwrap())
            .erased(),
        config.contracts.state_manager,
        IStateManager::bondBalanceCall {
            account: address(wrong_proposer),
        },
    )
    .await;
    assert_eq!(bonded, U256::ZERO);

    // The production preset, read back from L1.
    let owner = ProviderBuilder::new()
        .wallet(EthereumWallet::from(
            keys[0].parse::<PrivateKeySigner>().unwrap(),
        ))
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    let manager = config.contracts.state_manager;
    assert_eq!(
        view(&owner, manager, IStateManager::challengePeriodCall {}).await,
        U256::from(7 * 86_400)
    );
    assert_eq!(
        view(&owner, manager, IStateManager::ownerCall {}).await,
        timelock
    );
    let delay = view(&owner, timelock, ITimelock::getMinDelayCall {}).await;
    assert_eq!(delay, U256::from(10 * 86_400));

    // An upgrade of the StateManager through the timelock: scheduled now, executable only
    // after the delay.
    let admin = field(&deployment["proxies"]["StateManager"]["admin"]);
    let mut init = artifacts::STATE_MANAGER.bytecode.to_vec();
    init.extend(
        (
            U256::from(7 * 86_400),
            U256::from(2u64) * U256::from(10u64).pow(U256::from(18)),
        )
            .abi_encode_params(),
    );
    let new_impl = owner
        .send_transaction(TransactionRequest::default().with_deploy_code(init))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .contract_address
        .unwrap();
    let upgrade: Bytes = IProxyAdmin::upgradeAndCallCall {
        proxy: manager,
        implementation: new_impl,
        data: Bytes::new(),
    }
    .abi_encode()
    .into();
    let send = |input: Vec<u8>| {
        let owner = owner.clone();
        async move {
            owner
                .send_transaction(
                    TransactionRequest::default()
                        .with_to(timelock)
                        .with_input(input),
                )
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
        }
    };
    let schedule = ITimelock::scheduleCall {
        target: admin,
        value: U256::ZERO,
        data: upgrade.clone(),
        predecessor: B256::ZERO,
        salt: B256::ZERO,
        delay,
    };
    assert!(send(schedule.abi_encode()).await.status());
    let execute = ITimelock::executeCall {
        target: admin,
        value: U256::ZERO,
        payload: upgrade,
        predecessor: B256::ZERO,
        salt: B256::ZERO,
    };
    let early = owner
        .call(
            TransactionRequest::default()
                .with_to(timelock)
                .with_input(execute.abi_encode()),
        )
        .await;
    assert!(
        early.is_err(),
        "an upgrade executed before the timelock delay"
    );
    l1_rpc(&owner, "evm_increaseTime", json!([10 * 86_400 + 1])).await;
    l1_rpc(&owner, "evm_mine", json!([])).await;
    assert!(send(execute.abi_encode()).await.status());
    assert_eq!(
        view(&owner, manager, IStateManager::proposalBondCall {}).await,
        U256::from(2u64) * U256::from(10u64).pow(U256::from(18)),
        "the new implementation's bond"
    );
    drop(replica);
}

/// `rollup-node devnet --l2-gas-limit` and `--l2-chain-id` set a new devnet's block gas limit
/// and chain id: its blocks and its RPC carry them. A gas limit below one L1 block's deposits is
/// refused before anything starts; resuming the devnet with another value of either is refused
/// with what to do, since both are part of the chain, and resuming it without the flags keeps
/// its own.
#[test]
fn the_devnet_takes_its_chain_id_and_gas_limit_from_the_flags() {
    crate::support::run(the_devnet_takes_its_chain_id_and_gas_limit_from_the_flags_body());
}

async fn the_devnet_takes_its_chain_id_and_gas_limit_from_the_flags_body() {
    use std::io::Read;

    use serde_json::json;

    use crate::support::{Devnet, Proc, wait_until};

    // A refusal comes within seconds; a devnet that starts instead fails the wait (and is
    // killed) rather than hanging the test.
    let refusal = |l1_url: &str, datadir: &std::path::Path, flags: &[&str]| {
        let child = Devnet::command(l1_url, datadir, flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut proc = Proc(child);
        let status = wait_until(
            Duration::from_secs(30),
            "rollup-node devnet to refuse",
            || proc.0.try_wait().unwrap(),
        );
        assert!(!status.success());
        let mut stderr = String::new();
        proc.0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        stderr
    };
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();

    let stderr = refusal(
        &anvil.url,
        &dir.path().join("small"),
        &["--l2-gas-limit", "29999999"],
    );
    assert!(
        stderr.contains("--l2-gas-limit") && stderr.contains("30000000.."),
        "{stderr}"
    );

    let datadir = dir.path().join("devnet");
    let mut devnet = Devnet::start_with(
        &anvil.url,
        &datadir,
        &["--l2-gas-limit", "60000000", "--l2-chain-id", "4242"],
    );
    // (eth_chainId, the head's gasLimit)
    async fn chain(devnet: &Devnet) -> (serde_json::Value, serde_json::Value) {
        let head = devnet
            .l2("eth_getBlockByNumber", json!(["latest", false]))
            .await;
        (
            devnet.l2("eth_chainId", json!([])).await,
            head["gasLimit"].clone(),
        )
    }
    assert_eq!(chain(&devnet).await, (json!("0x1092"), json!("0x3938700")));
    devnet.kill9();

    for (flags, expected) in [
        (
            ["--l2-gas-limit", "45000000"],
            "has an L2 gas limit of 60000000, not 45000000",
        ),
        (
            ["--l2-chain-id", "42069"],
            "has L2 chain id 4242, not 42069",
        ),
    ] {
        let stderr = refusal(&anvil.url, &datadir, &flags);
        assert!(stderr.contains(expected), "{stderr}");
    }

    let devnet = Devnet::start_with(&anvil.url, &datadir, &[]);
    assert_eq!(chain(&devnet).await, (json!("0x1092"), json!("0x3938700")));
}

/// A replica whose `rollup.json` contradicts the deployment it names on L1 (an edited chain id,
/// genesis, sequencing window or contract address) refuses to start, naming the field. Before,
/// it derived a chain of its own from the right L1 and served it without a word.
#[test]
fn a_replica_refuses_a_config_its_deployment_contradicts() {
    crate::support::run(a_replica_refuses_a_config_its_deployment_contradicts_body());
}

/// Starts a replica with `config` (written to `dir/<name>.json`, its datadir `dir/<name>`),
/// checks that it exits with a failure, and returns what it printed on stderr.
async fn refusal(config: &RollupConfig, dir: &std::path::Path, l1_url: &str, name: &str) -> String {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string(config).unwrap()).unwrap();
    let node = spawn_replica(&path, l1_url, &dir.join(name));
    let output = tokio::task::spawn_blocking(move || node.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{name}: it started\n{stderr}");
    stderr
}

async fn a_replica_refuses_a_config_its_deployment_contradicts_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = crate::support::Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let deployed = RollupConfig::from_file(&dir.path().join("devnet").join("rollup.json")).unwrap();
    // (name, the edit, what the refusal says)
    type Edit = (&'static str, fn(&mut RollupConfig), &'static str);
    let edits: [Edit; 4] = [
        (
            "chain",
            |c| c.l2_chain_id += 1,
            "rollup config's l2ChainId is",
        ),
        (
            "base-fee",
            |c| c.genesis.base_fee_per_gas = c.genesis.base_fee_per_gas.saturating_add(1),
            "genesis (alloc, timestamp, gasLimit or baseFeePerGas)",
        ),
        (
            "window",
            |c| c.sequencing_window += 1,
            "rollup config's sequencingWindow is",
        ),
        (
            "swapped",
            |c| {
                std::mem::swap(&mut c.contracts.batch_inbox, &mut c.contracts.state_manager);
            },
            "rollup config's contracts.stateManager is",
        ),
    ];
    for (name, edit, expected) in edits {
        let mut config = deployed.clone();
        edit(&mut config);
        let stderr = refusal(&config, dir.path(), &anvil.url, name).await;
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    // A genesis origin this L1 has (the block before the real one, with its hash) but the
    // inbox never recorded: a config of a deployment on another chain with contracts at the
    // same addresses, as a dev chain started afresh has. Said as such, not as a wrong address.
    let before = deployed.genesis.l1_origin.number - 1;
    let block: serde_json::Value = {
        use alloy_provider::Provider;
        alloy_provider::ProviderBuilder::new()
            .connect_http(anvil.url.parse().unwrap())
            .raw_request(
                "eth_getBlockByNumber".into(),
                serde_json::json!([format!("{before:#x}"), false]),
            )
            .await
            .unwrap()
    };
    let mut config = deployed.clone();
    config.genesis.l1_origin = BlockNumHash {
        number: before,
        hash: block["hash"].as_str().unwrap().parse().unwrap(),
    };
    let stderr = refusal(&config, dir.path(), &anvil.url, "origin").await;
    assert!(
        stderr.contains("BatchInbox_OriginNotRecorded")
            && stderr.contains("never recorded the rollup's genesis L1 origin"),
        "origin: {stderr}"
    );
    // A genesis origin the inbox recorded, but after a deposit: no L2 would derive that
    // deposit, and derivation expects nonce 0 first. Refused, saying why.
    let deposited = crate::deposit_eth(&devnet, 3, alloy_primitives::U256::from(1u64))
        .await
        .block_number
        .unwrap();
    let recorded = {
        use alloy_provider::Provider;
        use alloy_sol_types::SolCall;
        let l1 = devnet.l1(0);
        let inbox = deployed.contracts.batch_inbox;
        let start = std::time::Instant::now();
        'found: loop {
            let head = l1.get_block_number().await.unwrap();
            for number in deposited..=head {
                let call = rollup_primitives::bindings::IBatchInbox::originHashCall {
                    number: alloy_primitives::U256::from(number),
                };
                let request = alloy_rpc_types_eth::TransactionRequest::default()
                    .to(inbox)
                    .input(call.abi_encode().into());
                if let Ok(out) = l1.call(request).await {
                    let hash = B256::from_slice(&out);
                    if !hash.is_zero() {
                        break 'found BlockNumHash { number, hash };
                    }
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no origin recorded after the deposit's L1 block {deposited}\n{}",
                devnet.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let mut config = deployed.clone();
    config.genesis.l1_origin = recorded;
    let stderr = refusal(&config, dir.path(), &anvil.url, "late-origin").await;
    assert!(
        stderr.contains("bridge messages at or before the rollup config's genesis.l1Origin"),
        "late origin: {stderr}"
    );
    // The deployment's own config starts.
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&deployed).unwrap()).unwrap();
    let mut node = spawn_replica(&path, &anvil.url, &dir.path().join("replica"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        node.try_wait().unwrap().is_none(),
        "the deployment's own config was refused\n{}",
        devnet.log()
    );
    let _ = node.kill();
    let _ = node.wait();
}

/// Another process sending with the batcher's key (a second node's batcher, a script) takes
/// the nonces of the node's batch transactions: the batcher says so as an error and in its
/// health (`rollup_getRoles`), naming the account, instead of only giving its batches up at
/// debug level again and again.
#[test]
fn another_sender_on_the_batcher_key_is_an_alarm() {
    crate::support::run(another_sender_on_the_batcher_key_is_an_alarm_body());
}

async fn another_sender_on_the_batcher_key_is_an_alarm_body() {
    use alloy_network::TransactionBuilder;
    use alloy_provider::Provider;
    let dir = tempfile::tempdir().unwrap();
    // Blocks a second apart, so the batcher's transactions wait in the pool where another
    // transaction at their nonce can take their place.
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let devnet = crate::support::Devnet::start_fast_with(&anvil.url, dir.path(), &[]);
    let batcher = devnet.info.accounts[1].address;
    let other = devnet.l1(1);
    let nonce = async |tag: &str| -> u64 {
        let count: alloy_primitives::U64 = other
            .raw_request("eth_getTransactionCount".into(), (batcher, tag))
            .await
            .unwrap();
        count.to()
    };
    let started = Instant::now();
    let mut taken = std::collections::BTreeSet::new();
    while started.elapsed() < Duration::from_secs(180) {
        let roles = devnet.l2("rollup_getRoles", serde_json::json!([])).await;
        let alarm = roles["roles"].as_array().unwrap().iter().find_map(|role| {
            (role["name"] == "batcher")
                .then(|| role["lastError"]["message"].as_str())
                .flatten()
                .filter(|message| message.contains("another process sends with the batcher's key"))
                .map(str::to_owned)
        });
        if let Some(alarm) = alarm {
            assert!(alarm.contains(&batcher.to_string()), "{alarm}");
            assert!(
                devnet
                    .log()
                    .contains("another process sends with the batcher's key"),
                "said in the log too"
            );
            return;
        }
        // A batch transaction waits at the mined nonce: take that nonce with a dearer one.
        let (mined, pending) = (nonce("latest").await, nonce("pending").await);
        if pending > mined && taken.insert(mined) {
            let tx = alloy_rpc_types_eth::TransactionRequest::default()
                .with_to(batcher)
                .with_nonce(mined)
                .with_gas_limit(21_000)
                .with_max_fee_per_gas(2_000_000_000_000)
                .with_max_priority_fee_per_gas(1_000_000_000_000);
            // It may lose the race to the batch being mined.
            let _ = other.send_transaction(tx).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no alarm after taking {} batch nonces\n{}",
        taken.len(),
        devnet.log()
    );
}
