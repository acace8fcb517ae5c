//! The devnet stops when asked: Ctrl-C in a terminal (SIGINT to the whole foreground process
//! group; anvil has a group of its own, so the devnet stops it after mining what its pool holds)
//! and SIGTERM after the L1 died both end it within seconds, even with batch transactions
//! waiting on an L1 that will never mine them. A `kill -9` of the node takes
//! its anvil along, an anvil that dies stops the devnet with a clear error, and the devnet
//! refuses to run on an L1 port it did not open.

use std::{
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use alloy_provider::{Provider, ProviderBuilder};
use serde_json::{Value, json};

use crate::support::{self, Anvil, Devnet, DevnetInfo};

/// How long a stop may take.
const STOP_WITHIN: Duration = Duration::from_secs(5);

/// Flags that keep the batcher and proposer busy on L1 (every L2 block posted at once), so
/// that a stop finds them waiting for L1 transactions.
const BUSY_ROLES: [&str; 6] = [
    "--batcher-interval",
    "200ms",
    "--batcher-window-margin",
    "1000",
    "--proposal-interval",
    "1s",
];

/// Sends `signal` (e.g. `INT`) to process `pid`, or to process group `pid` if `group`.
fn kill(signal: &str, pid: u32, group: bool) {
    let target = if group {
        format!("-{pid}")
    } else {
        pid.to_string()
    };
    let status = Command::new("kill")
        .args([&format!("-{signal}"), "--", &target])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {target}");
}

/// Waits up to `limit` for `child` to exit; its status and how long that took.
fn exit_within(child: &mut Child, limit: Duration) -> Option<(ExitStatus, Duration)> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Waits until `account` has a transaction in `l1_url`'s pool that is not mined yet.
async fn wait_pending_transaction(l1_url: &str, account: Address, log: impl Fn() -> String) {
    let l1 = ProviderBuilder::new().connect_http(l1_url.parse().unwrap());
    let count = async |tag: &str| {
        l1.raw_request::<_, Value>("eth_getTransactionCount".into(), json!([account, tag]))
            .await
            .unwrap()
    };
    let start = Instant::now();
    while count("pending").await == count("latest").await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no pending L1 transaction from {account}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `rollup-node devnet` with its own anvil, leading its own process group as a terminal's
/// foreground job does; the whole group is killed on drop.
struct DevnetGroup {
    child: Child,
}

impl DevnetGroup {
    /// Starts the devnet in `datadir` with its anvil on `l1_port`, and waits for `devnet.json`.
    fn start_ready(datadir: &Path, l1_port: u16) -> (Self, DevnetInfo) {
        let mut group = Self {
            child: devnet_command(datadir, l1_port, &support::anvil_bin())
                .process_group(0)
                .spawn()
                .expect("start rollup-node"),
        };
        let info = support::wait_until(Duration::from_secs(90), "devnet.json", || {
            if let Some(status) = group.child.try_wait().unwrap() {
                panic!("devnet exited early with {status}\n{}", log_of(datadir));
            }
            std::fs::read_to_string(datadir.join("devnet.json"))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
        });
        (group, info)
    }
}

impl Drop for DevnetGroup {
    fn drop(&mut self) {
        // Quiet: the group may be gone already (a test that ended the devnet itself).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// `rollup-node devnet` starting its own `anvil` on `l1_port`, logging to `node.log` in `datadir`.
fn devnet_command(datadir: &Path, l1_port: u16, anvil: &Path) -> Command {
    let log = std::fs::File::create(datadir.join("node.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollup-node"));
    command
        .arg("devnet")
        .arg("--datadir")
        .arg(datadir)
        .arg("--anvil-bin")
        .arg(anvil)
        .args(["--l1-port", &l1_port.to_string(), "--l1-block-time", "1"])
        .args(["--rpc-addr", "127.0.0.1:0", "--l1-poll-interval", "50ms"])
        .args(BUSY_ROLES)
        .env("RUST_LOG", "info,rollup=debug")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log));
    command
}

/// Whether nothing listens on `port` now or within `limit`.
fn port_closes_within(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_of(datadir: &Path) -> String {
    std::fs::read_to_string(datadir.join("node.log")).unwrap_or_default()
}

#[test]
fn ctrl_c_ends_the_devnet_and_its_anvil() {
    support::run(ctrl_c_ends_the_devnet_and_its_anvil_body());
}

async fn ctrl_c_ends_the_devnet_and_its_anvil_body() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_path_buf();
    let l1_port = support::free_port();
    let (mut group, info) = DevnetGroup::start_ready(&datadir, l1_port);
    let l1_url = format!("http://127.0.0.1:{l1_port}");
    // A batch transaction waits for anvil's next block when Ctrl-C arrives.
    wait_pending_transaction(&l1_url, info.accounts[1].address, || log_of(&datadir)).await;
    // So does a user's: anvil mines nothing more from here (as if Ctrl-C came before its
    // next block), and its state file keeps no pool.
    let l1 = ProviderBuilder::new().connect_http(l1_url.parse().unwrap());
    let _: Value = l1
        .raw_request("evm_setIntervalMining".into(), json!([0]))
        .await
        .unwrap();
    let user = {
        use alloy_network::{EthereumWallet, TransactionBuilder};
        use alloy_rpc_types_eth::TransactionRequest;
        use alloy_signer_local::PrivateKeySigner;
        let signer = PrivateKeySigner::from_bytes(&info.accounts[5].private_key).unwrap();
        let wallet = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(l1_url.parse().unwrap());
        let tx = TransactionRequest::default()
            .with_to(Address::repeat_byte(0x55))
            .with_value(alloy_primitives::U256::from(1));
        *wallet.send_transaction(tx).await.unwrap().tx_hash()
    };

    kill("INT", group.child.id(), true);
    let Some((status, took)) = exit_within(&mut group.child, STOP_WITHIN) else {
        panic!(
            "the devnet did not stop within {STOP_WITHIN:?} of Ctrl-C\n{}",
            log_of(&datadir)
        );
    };
    assert!(status.success(), "{status}\n{}", log_of(&datadir));
    eprintln!("devnet stopped {took:?} after Ctrl-C");
    // Nothing is left behind: anvil is gone too.
    assert!(
        port_closes_within(l1_port, Duration::ZERO),
        "anvil still listens"
    );
    assert!(log_of(&datadir).contains("rollup::node: stopped"));

    // The next run resumes an L1 whose last block took in the pending transactions, the
    // user's included.
    // (`devnet.json` stays from the first run: wait for anvil itself.)
    let (_group, _) = DevnetGroup::start_ready(&datadir, l1_port);
    let start = Instant::now();
    while l1.get_block_number().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "anvil did not come back\n{}",
            log_of(&datadir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receipt = l1.get_transaction_receipt(user).await.unwrap();
    assert!(
        receipt.is_some_and(|receipt| receipt.status()),
        "the user's L1 transaction was lost at Ctrl-C\n{}",
        log_of(&datadir)
    );
}

#[test]
fn sigterm_ends_a_devnet_whose_l1_died() {
    support::run(sigterm_ends_a_devnet_whose_l1_died_body());
}

async fn sigterm_ends_a_devnet_whose_l1_died_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start_with(&anvil.url, dir.path(), &BUSY_ROLES);
    // L1 stops mining and gets one more block: the batcher posts the L2 block built on it, and
    // that batch transaction waits in anvil's pool.
    let l1 = devnet.l1(0);
    l1.raw_request::<_, Value>("evm_setAutomine".into(), json!([false]))
        .await
        .unwrap();
    l1.raw_request::<_, Value>("anvil_mine".into(), json!(["0x1"]))
        .await
        .unwrap();
    wait_pending_transaction(&anvil.url, devnet.info.accounts[1].address, || devnet.log()).await;

    // The L1 dies; the roles retry against it for a while, then the node is asked to stop.
    drop(anvil);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let proc = devnet.proc.as_mut().unwrap();
    assert!(proc.0.try_wait().unwrap().is_none(), "still running");
    kill("TERM", proc.0.id(), false);
    let Some((status, took)) = exit_within(&mut proc.0, STOP_WITHIN) else {
        panic!(
            "the node did not stop within {STOP_WITHIN:?} of SIGTERM\n{}",
            devnet.log()
        );
    };
    assert!(status.success(), "{status}\n{}", devnet.log());
    eprintln!("node stopped {took:?} after SIGTERM");
    assert!(devnet.log().contains("SIGTERM: shutting down"));
}

#[test]
fn a_stop_keeps_the_pools_transactions_for_the_next_start() {
    support::run(a_stop_keeps_the_pools_transactions_for_the_next_start_body());
}

/// Transactions the pool holds when the node stops (here two behind a nonce gap, which stay
/// pooled) are written to the datadir's backup, taken back by the next start, and included once
/// the gap is filled.
async fn a_stop_keeps_the_pools_transactions_for_the_next_start_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start_fast(&anvil.url, dir.path());
    let chain_id = devnet.info.l2_chain_id;
    let key =
        alloy_signer_local::PrivateKeySigner::from_bytes(&devnet.info.accounts[9].private_key)
            .unwrap();
    let mut hashes = Vec::new();
    for nonce in [1, 2] {
        let raw = crate::sustained::transfer(&key, chain_id, nonce);
        hashes.push(devnet.l2("eth_sendRawTransaction", json!([raw])).await);
    }
    let queued = |content: &Value| {
        content["queued"][key.address().to_checksum(None)]
            .as_object()
            .map_or(0, serde_json::Map::len)
    };
    assert_eq!(queued(&devnet.l2("txpool_content", json!([])).await), 2);

    let proc = devnet.proc.as_mut().unwrap();
    kill("TERM", proc.0.id(), false);
    let Some((status, _)) = exit_within(&mut proc.0, STOP_WITHIN) else {
        panic!("no stop within {STOP_WITHIN:?}\n{}", devnet.log());
    };
    assert!(status.success(), "{status}\n{}", devnet.log());
    let backup = dir.path().join("txpool-transactions-backup.txt");
    let text = std::fs::read_to_string(&backup)
        .unwrap_or_else(|err| panic!("no backup: {err}\n{}", devnet.log()));
    assert_eq!(
        text.lines().filter(|line| line.starts_with("0x")).count(),
        2,
        "{text}"
    );

    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    assert!(!backup.exists(), "read once, then removed");
    assert_eq!(
        queued(&devnet.l2("txpool_content", json!([])).await),
        2,
        "{}",
        devnet.log()
    );
    assert!(
        devnet
            .log()
            .contains("pooled transactions of the last stop taken back")
    );
    // The gap filled, all three are included.
    hashes.push(
        devnet
            .l2(
                "eth_sendRawTransaction",
                json!([crate::sustained::transfer(&key, chain_id, 0)]),
            )
            .await,
    );
    let start = Instant::now();
    for hash in hashes {
        let receipt = loop {
            let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
            if !receipt.is_null() {
                break receipt;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{hash} not included\n{}",
                devnet.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(receipt["status"], json!("0x1"));
    }
}

#[test]
fn kill_9_of_the_devnet_ends_its_anvil() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_path_buf();
    let l1_port = support::free_port();
    let (mut group, _) = DevnetGroup::start_ready(&datadir, l1_port);
    // The node alone, as an OOM kill or `kill -9 <pid>` does: its anvil must not live on to
    // answer (and be deployed onto by) the next run.
    kill("KILL", group.child.id(), false);
    group.child.wait().unwrap();
    assert!(
        port_closes_within(l1_port, Duration::from_secs(15)),
        "anvil outlived the killed devnet\n{}",
        log_of(&datadir)
    );
}

#[test]
fn the_devnet_stops_when_its_anvil_dies() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_path_buf();
    let l1_port = support::free_port();
    let (mut group, _) = DevnetGroup::start_ready(&datadir, l1_port);
    // anvil alone dies (an OOM kill, say): before, the sequencer went on without L1 and the
    // roles retried against nothing, twice a second, without saying why.
    // anvil is the devnet's only child process.
    let anvil = Command::new("pgrep")
        .args(["-P", &group.child.id().to_string()])
        .output()
        .unwrap();
    let pid: u32 = String::from_utf8_lossy(&anvil.stdout)
        .lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no anvil on port {l1_port}\n{}", log_of(&datadir)));
    kill("KILL", pid, false);
    let Some((status, _)) = exit_within(&mut group.child, Duration::from_secs(30)) else {
        panic!("the devnet ran on without its L1\n{}", log_of(&datadir));
    };
    let log = log_of(&datadir);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("anvil, the devnet's L1, exited (signal: 9"),
        "{log}"
    );
}

#[test]
fn the_devnet_refuses_an_l1_it_did_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path();

    // Something already listens on the L1 port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let status = devnet_command(datadir, port, &support::anvil_bin())
        .status()
        .unwrap();
    let log = log_of(datadir);
    assert!(!status.success(), "{log}");
    assert!(log.contains(&format!("--l1-port {port} is taken")), "{log}");
    assert!(!datadir.join("rollup.json").exists(), "{log}");

    // anvil starts but exits at once (here: not an anvil at all).
    let port = support::free_port();
    let status = devnet_command(datadir, port, Path::new("false"))
        .status()
        .unwrap();
    let log = log_of(datadir);
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("anvil exited (exit status: 1) before it answered"),
        "{log}"
    );
}

/// An anvil that reloaded its saved state answers `blockhash` wrong for every block before the
/// reload (keccak256 of the number's decimal text), so the inbox refuses a batch whose newest
/// new L1 origin is such a block. A devnet restarted with more unposted blocks on old origins
/// than one batch holds could then post nothing until the sequencing window closed, and
/// derivation replaced the unsafe chain: receipts users had been served moved. The batcher
/// now records the origins through a block L1 tells right, and the backlog lands as it was.
#[test]
fn a_backlog_on_origins_before_an_l1_restart_lands_as_sequenced() {
    support::run(a_backlog_on_origins_before_an_l1_restart_lands_as_sequenced_body());
}

async fn a_backlog_on_origins_before_an_l1_restart_lands_as_sequenced_body() {
    use alloy_network::{EthereumWallet, TransactionBuilder};
    use alloy_rpc_types_eth::TransactionRequest;
    use alloy_signer_local::PrivateKeySigner;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("anvil-state.json");
    let state = state.to_str().unwrap();
    let datadir = dir.path().join("devnet");
    // Calldata batches (120 000 bytes) so that the backlog takes several.
    let flags = ["--batcher-data", "calldata", "--batcher-interval", "200ms"];
    let mut l1 = Anvil::start_with(&["--block-time", "2", "--state", state]);
    let mut devnet = Devnet::start_with(&l1.url, &datadir, &flags);
    let batcher = devnet.info.accounts[1].address;
    let set_balance = async |url: &str, wei: u128| {
        let l1 = ProviderBuilder::new().connect_http(url.parse().unwrap());
        let _: Value = l1
            .raw_request(
                "anvil_setBalance".into(),
                json!([batcher, format!("{wei:#x}")]),
            )
            .await
            .unwrap();
    };
    // The batcher cannot pay: blocks pile up unposted, on new origins as L1 goes on.
    set_balance(&l1.url, 0).await;
    let signer = PrivateKeySigner::from_bytes(&devnet.info.accounts[5].private_key).unwrap();
    let l2 = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(devnet.info.l2_rpc_url.parse().unwrap());
    let mut served = Vec::new();
    for i in 0..8u8 {
        // 29 000 bytes that do not compress.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ u64::from(i);
        let data: Vec<u8> = (0..29_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let tx = TransactionRequest::default()
            .with_to(Address::repeat_byte(0x77))
            .with_input(data)
            .with_gas_limit(1_500_000);
        let receipt = l2
            .send_transaction(tx)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        served.push((receipt.transaction_hash, receipt.block_hash.unwrap()));
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let backlog_top: u64 = {
        let last = l2
            .get_transaction_receipt(served.last().unwrap().0)
            .await
            .unwrap()
            .unwrap();
        last.block_number.unwrap()
    };
    // L1 and the devnet go down and come back: anvil from its saved state, on another port.
    devnet.kill9();
    l1.stop();
    let l1 = Anvil::start_with(&["--block-time", "2", "--state", state]);
    set_balance(&l1.url, 10u128.pow(20)).await;
    let devnet = Devnet::start_with(&l1.url, &datadir, &flags);
    let started = Instant::now();
    loop {
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        if status["safeL2"]["number"].as_u64().unwrap() >= backlog_top {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the backlog did not land: {status}\n{}",
            devnet.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let log = devnet.log();
    assert!(
        !log.contains("derived block differs from the unsafe chain"),
        "the unsafe chain was replaced\n{log}"
    );
    assert!(
        log.contains("recorded the origins through a newer L1 block"),
        "{log}"
    );
    for (hash, block) in served {
        let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
        assert_eq!(receipt["blockHash"], json!(block), "{receipt}");
    }
}

/// anvil's state saved while it mined a block (a kill of the devnet or of anvil at that moment)
/// holds the block's effects without the block: here an inbox record that no L1 log carries.
/// A devnet resumed on it used to serve, and stop with an error only when derivation reached
/// the record; it now refuses before it is ready, saying why and what to do.
#[test]
fn a_torn_l1_state_is_refused_before_the_devnet_is_ready() {
    support::run(a_torn_l1_state_is_refused_before_the_devnet_is_ready_body());
}

async fn a_torn_l1_state_is_refused_before_the_devnet_is_ready_body() {
    /// `BatchInbox._records`' slot: its length is the record count.
    const RECORDS_SLOT: u64 = 5;
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_path_buf();
    let l1_port = support::free_port();
    let (mut group, info) = DevnetGroup::start_ready(&datadir, l1_port);
    let inbox = info.contracts.batch_inbox;
    let l1 =
        ProviderBuilder::new().connect_http(format!("http://127.0.0.1:{l1_port}").parse().unwrap());
    let start = Instant::now();
    while l1
        .get_storage_at(inbox, alloy_primitives::U256::from(RECORDS_SLOT))
        .await
        .unwrap()
        .is_zero()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no batch posted\n{}",
            log_of(&datadir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill("INT", group.child.id(), true);
    let Some((status, _)) = exit_within(&mut group.child, STOP_WITHIN) else {
        panic!("the devnet did not stop\n{}", log_of(&datadir));
    };
    assert!(status.success(), "{status}\n{}", log_of(&datadir));

    // Tear the saved state as a save in the middle of a block does: one record more than the
    // blocks log.
    let state = datadir.join("anvil-state.json");
    let mut anvil = Anvil::start_with(&["--state", state.to_str().unwrap()]);
    let saved = ProviderBuilder::new().connect_http(anvil.url.parse().unwrap());
    let slot = alloy_primitives::U256::from(RECORDS_SLOT);
    let records = saved.get_storage_at(inbox, slot).await.unwrap();
    assert!(!records.is_zero(), "anvil did not load the devnet's state");
    let _: Value = saved
        .raw_request(
            "anvil_setStorageAt".into(),
            json!([
                inbox,
                slot,
                alloy_primitives::B256::from(records + alloy_primitives::U256::from(1))
            ]),
        )
        .await
        .unwrap();
    anvil.stop();

    let mut resumed = devnet_command(&datadir, l1_port, &support::anvil_bin())
        .process_group(0)
        .spawn()
        .unwrap();
    let exited = exit_within(&mut resumed, Duration::from_secs(60));
    let log = log_of(&datadir);
    let Some((status, _)) = exited else {
        let _ = resumed.kill();
        panic!("the devnet resumed on a torn L1 state\n{log}");
    };
    assert!(!status.success(), "{log}");
    assert!(log.contains("contradicts itself"), "{log}");
    assert!(
        log.contains(&format!(
            "hold {} inbox records, and its blocks log {records}",
            records + alloy_primitives::U256::from(1)
        )),
        "{log}"
    );
    assert!(!log.contains("devnet ready"), "{log}");
    assert!(
        port_closes_within(l1_port, STOP_WITHIN),
        "anvil still listens"
    );
}
