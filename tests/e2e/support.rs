//! Harness: a real anvil L1 and the real `rollup-node` binary with real MDBX.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_network::EthereumWallet;
use alloy_primitives::{Address, B256, U256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_signer_local::PrivateKeySigner;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

pub(crate) fn anvil_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("ANVIL_BIN") {
        return bin.into();
    }
    let pinned = workspace_root().join("node_modules/.bin/anvil");
    assert!(
        pinned.exists(),
        "anvil not found at {}: run scripts/bootstrap.sh (or set ANVIL_BIN)",
        pinned.display()
    );
    pinned
}

/// A child process killed (SIGKILL) on drop.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real anvil, automining (one block per transaction) unless told otherwise.
pub(crate) struct Anvil {
    _proc: Proc,
    pub(crate) url: String,
    /// anvil's `--cache-path`: the old states it offloads, removed after anvil is killed (anvil
    /// leaves them behind; a long silence's 8 700 blocks are about 1 GB).
    _states: tempfile::TempDir,
}

impl Anvil {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// anvil with `extra` flags (e.g. `--block-time 1` for an L1 that mines on its own).
    pub(crate) fn start_with(extra: &[&str]) -> Self {
        let port = free_port();
        let states = tempfile::tempdir().expect("anvil's state cache dir");
        let child = Command::new(anvil_bin())
            .args([
                "--port",
                &port.to_string(),
                "--host",
                "127.0.0.1",
                "--silent",
            ])
            .arg("--cache-path")
            .arg(states.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start anvil");
        let url = format!("http://127.0.0.1:{port}");
        let anvil = Self {
            _proc: Proc(child),
            url,
            _states: states,
        };
        wait_until(Duration::from_secs(20), "anvil to answer", || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()
                .then_some(())
        });
        anvil
    }

    /// SIGTERM, as the devnet stops its anvil: one started with `--state` writes its state
    /// file on the way out. Waits until it exited.
    pub(crate) fn stop(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self._proc.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self._proc.0.wait().unwrap();
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub(crate) fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevnetInfo {
    pub(crate) l2_rpc_url: String,
    pub(crate) l2_chain_id: u64,
    pub(crate) contracts: Contracts,
    pub(crate) accounts: Vec<Account>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contracts {
    pub(crate) l1_bridge: Address,
    pub(crate) batch_inbox: Address,
    pub(crate) state_manager: Address,
    pub(crate) dev_token: Address,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Account {
    pub(crate) address: Address,
    pub(crate) private_key: B256,
}

/// `rollup-node devnet` attached to `l1_url`, with its datadir.
pub(crate) struct Devnet {
    pub(crate) proc: Option<Proc>,
    pub(crate) datadir: PathBuf,
    pub(crate) l1_url: String,
    pub(crate) info: DevnetInfo,
}

impl Devnet {
    /// `rollup-node devnet` with default block, batch and proposal intervals.
    pub(crate) fn start(l1_url: &str, datadir: &Path) -> Self {
        Self::start_with(l1_url, datadir, &[])
    }

    /// Fast L2 blocks, batches and proposals, for tests that wait on them. Every block is
    /// posted at once, empty ones too (a window margin wider than the devnet's window): these
    /// tests' anvil mines only when sent a transaction, so L1 would never reach the sequencing
    /// window deadline that otherwise posts empty blocks.
    pub(crate) fn start_fast(l1_url: &str, datadir: &Path) -> Self {
        Self::start_fast_with(l1_url, datadir, &[])
    }

    /// [`Self::start_fast`] with `extra` flags.
    pub(crate) fn start_fast_with(l1_url: &str, datadir: &Path, extra: &[&str]) -> Self {
        let fast = [
            "--block-time",
            "100ms",
            "--batcher-interval",
            "200ms",
            "--batcher-window-margin",
            "1000",
            "--proposal-interval",
            "1s",
        ];
        Self::start_with(l1_url, datadir, &[&fast[..], extra].concat())
    }

    /// The command line of `rollup-node devnet` attached to `l1_url` (its RPC on a free port,
    /// anvil's beacon API as the blob source) with `extra` flags and its datadir, not started.
    pub(crate) fn command(l1_url: &str, datadir: &Path, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollup-node"));
        command
            .args([
                "devnet",
                "--l1-rpc-url",
                l1_url,
                "--rpc-addr",
                "127.0.0.1:0",
                "--l1-poll-interval",
                "50ms",
                "--l1-beacon-url",
                l1_url,
            ])
            .args(extra)
            .arg("--datadir")
            .arg(datadir);
        command
    }

    /// `rollup-node devnet` attached to `l1_url` with `extra` flags; returns once it wrote a
    /// fresh `devnet.json`. anvil's beacon API is the blob source, so batches go in blobs
    /// unless `extra` says `--batcher-data calldata`.
    pub(crate) fn start_with(l1_url: &str, datadir: &Path, extra: &[&str]) -> Self {
        std::fs::create_dir_all(datadir).unwrap();
        let info_path = datadir.join("devnet.json");
        let modified = || {
            std::fs::metadata(&info_path)
                .and_then(|m| m.modified())
                .ok()
        };
        let previous = modified();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(datadir.join("node.log"))
            .unwrap();
        std::fs::create_dir_all(datadir).unwrap();
        let child = Self::command(l1_url, datadir, extra)
            .env("RUST_LOG", "info,rollup=debug")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rollup-node");
        let mut proc = Proc(child);
        let info = wait_until(Duration::from_secs(60), "devnet.json", || {
            if let Ok(Some(status)) = proc.0.try_wait() {
                panic!(
                    "rollup-node exited early with {status}; log:\n{}",
                    std::fs::read_to_string(datadir.join("node.log")).unwrap_or_default()
                );
            }
            if modified() == previous {
                return None;
            }
            std::fs::read_to_string(&info_path)
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
        });
        Self {
            proc: Some(proc),
            datadir: datadir.to_path_buf(),
            l1_url: l1_url.to_string(),
            info,
        }
    }

    /// SIGKILL: no shutdown path runs.
    pub(crate) fn kill9(&mut self) {
        drop(self.proc.take());
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.datadir.join("node.log")).unwrap_or_default()
    }

    /// A provider on L1 that signs with dev account `index`.
    pub(crate) fn l1(&self, index: usize) -> DynProvider {
        let signer = PrivateKeySigner::from_bytes(&self.info.accounts[index].private_key).unwrap();
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.l1_url.parse().unwrap())
            .erased()
    }

    /// A raw JSON-RPC call to L2.
    pub(crate) async fn l2(&self, method: &str, params: Value) -> Value {
        let provider = ProviderBuilder::new().connect_http(self.info.l2_rpc_url.parse().unwrap());
        provider
            .raw_request::<_, Value>(method.to_string().into(), params)
            .await
            .unwrap_or_else(|err| panic!("L2 {method} failed: {err}"))
    }

    pub(crate) async fn l2_balance(&self, address: Address, block: &str) -> U256 {
        self.l2("eth_getBalance", json!([address, block]))
            .await
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Waits until `address` holds `expected` wei on L2 (latest).
    pub(crate) async fn wait_balance(&self, address: Address, expected: U256) {
        let start = Instant::now();
        loop {
            let balance = self.l2_balance(address, "latest").await;
            if balance == expected {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "L2 balance of {address} is {balance}, expected {expected}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the L2 node has processed L1 block `l1_block`.
    pub(crate) async fn synced_to(&self, l1_block: u64) {
        let start = Instant::now();
        loop {
            let status = self.l2("rollup_syncStatus", json!([])).await;
            let cursor = status["l1Cursor"]["number"].as_u64().or_else(|| {
                status["l1Cursor"]["number"]
                    .as_str()
                    .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            });
            if cursor.is_some_and(|c| c >= l1_block) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "L2 did not reach L1 block {l1_block}: {status}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs an async test body on its own runtime with large stacks: alloy's provider futures are
/// big in debug builds and overflow the default 2 MiB test thread stack.
pub(crate) fn run(body: impl std::future::Future<Output = ()> + Send + 'static) {
    const STACK: usize = 32 << 20;
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(STACK)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(body);
        })
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// `rollup-node node`: a replica of `config` following `l1_url`, with `extra` flags (roles).
pub(crate) struct Replica {
    _proc: Proc,
    pub(crate) datadir: PathBuf,
    pub(crate) rpc_url: String,
}

impl Replica {
    pub(crate) fn start(l1_url: &str, config: &Path, datadir: &Path, extra: &[&str]) -> Self {
        std::fs::create_dir_all(datadir).unwrap();
        let log = std::fs::File::create(datadir.join("node.log")).unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_rollup-node"))
            .args(["node", "--l1-rpc-url", l1_url, "--l1-poll-interval", "50ms"])
            .args(["--l1-beacon-url", l1_url])
            .arg("--config")
            .arg(config)
            .arg("--datadir")
            .arg(datadir)
            .args(["--rpc-addr", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("RUST_LOG", "info,rollup=debug")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start rollup-node node");
        let mut proc = Proc(child);
        wait_until(Duration::from_secs(60), "the replica's RPC", || {
            if let Ok(Some(status)) = proc.0.try_wait() {
                panic!(
                    "rollup-node node exited early with {status}; log:\n{}",
                    std::fs::read_to_string(datadir.join("node.log")).unwrap_or_default()
                );
            }
            std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()
                .then_some(())
        });
        Self {
            _proc: proc,
            datadir: datadir.to_path_buf(),
            rpc_url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.datadir.join("node.log")).unwrap_or_default()
    }

    /// A raw JSON-RPC call to the replica.
    pub(crate) async fn rpc(&self, method: &str, params: Value) -> Value {
        let provider = ProviderBuilder::new().connect_http(self.rpc_url.parse().unwrap());
        provider
            .raw_request::<_, Value>(method.to_string().into(), params)
            .await
            .unwrap_or_else(|err| panic!("replica {method} failed: {err}"))
    }
}
