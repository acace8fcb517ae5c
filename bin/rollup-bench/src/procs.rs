//! Child processes: anvil and rollup-node.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use serde_json::Value;

/// A child process, killed on drop.
pub(crate) struct Proc {
    child: Child,
    pub(crate) log: Option<PathBuf>,
    /// A directory the process writes to and leaves behind, removed after it is killed.
    scratch: Option<tempfile::TempDir>,
}

impl Proc {
    pub(crate) fn spawn(mut command: Command, log: Option<&Path>) -> eyre::Result<Self> {
        match log {
            Some(path) => {
                let file = std::fs::File::create(path)?;
                command
                    .stdout(Stdio::from(file.try_clone()?))
                    .stderr(Stdio::from(file));
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .spawn()
            .map_err(|err| eyre::eyre!("cannot start {program}: {err}"))?;
        Ok(Self {
            child,
            log: log.map(Path::to_path_buf),
            scratch: None,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited, with the tail of its log.
    pub(crate) fn check_alive(&mut self) -> eyre::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            eyre::bail!("process exited with {status}{}", self.log_tail());
        }
        Ok(())
    }

    /// The last log line containing `needle`, if any.
    pub(crate) fn log_tail_matching(&self, needle: &str) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .rev()
            .find(|l| l.contains(needle))
            .map(|l| format!("; last {needle}: {}", strip_ansi(l)))
            .unwrap_or_default()
    }

    pub(crate) fn log_tail(&self) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "; log tail:\n{}",
            lines[lines.len().saturating_sub(15)..].join("\n")
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) from a `/proc/<pid>/stat` file; 0 if unreadable.
pub(crate) fn cpu_secs(stat: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = text.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // rest starts at field 3 (state): utime = field 14 → index 11.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds (user + system) of the threads of process `pid` whose names start with `name`
/// (the node's `rollup-kzg` counts its `rollup-kzg-chk` and `rollup-kzg-now` too); 0 if there are none.
pub(crate) fn thread_cpu_secs(pid: u32, name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim().starts_with(name))
        })
        .map(|task| cpu_secs(&task.path().join("stat").to_string_lossy()))
        .sum()
}

pub(crate) fn free_port() -> eyre::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `check` returns `Some`, failing after `timeout`.
pub(crate) async fn wait_for<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> eyre::Result<Option<T>>,
) -> eyre::Result<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        eyre::ensure!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn search_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    roots.extend(std::env::current_dir().ok());
    roots.extend(std::env::current_exe().ok());
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
}

/// The pinned anvil under node_modules (from the working directory, the executable or this
/// crate's source), then `anvil` on PATH.
pub(crate) fn anvil_bin(flag: Option<PathBuf>) -> PathBuf {
    if let Some(bin) = flag {
        return bin;
    }
    for root in search_roots() {
        for dir in root.ancestors() {
            let candidate = dir.join("node_modules/.bin/anvil");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    PathBuf::from("anvil")
}

/// `rollup-node` next to this executable (same target directory and profile).
pub(crate) fn node_bin(flag: Option<PathBuf>) -> eyre::Result<PathBuf> {
    if let Some(bin) = flag {
        return Ok(bin);
    }
    let exe = std::env::current_exe()?;
    let candidate = exe.with_file_name("rollup-node");
    eyre::ensure!(
        candidate.exists(),
        "{} not found: build it first (`cargo build --release -p rollup-node`) or pass --node-bin",
        candidate.display()
    );
    Ok(candidate)
}

/// A `rollup-node devnet` on an L1 the bench started.
pub(crate) struct Devnet {
    pub(crate) node: Proc,
    pub(crate) l2_url: String,
    pub(crate) inbox: Address,
    /// Its `--datadir` (`rollup.json`, `devnet.json`, `node.log`).
    pub(crate) datadir: PathBuf,
}

/// Starts `rollup-node devnet` on `l1_url` (deploying the contracts there) with its datadir at
/// `datadir`, an RPC on a free port, the L2 chain id [`crate::L2_CHAIN_ID`], a 50 ms L1 poll and
/// `extra` flags; returns once it has written `devnet.json`.
pub(crate) async fn start_devnet(
    node_bin: &Path,
    anvil_bin: &Path,
    l1_url: &str,
    datadir: &Path,
    extra: &[&str],
) -> eyre::Result<Devnet> {
    std::fs::create_dir_all(datadir)?;
    let mut command = Command::new(node_bin);
    command
        .args([
            "devnet",
            "--l1-rpc-url",
            l1_url,
            "--rpc-addr",
            "127.0.0.1:0",
            "--l1-poll-interval",
            "50ms",
            // anvil serves the beacon API's blob endpoint: the node reads blob batches back.
            "--l1-beacon-url",
            l1_url,
        ])
        .args(extra)
        .args(["--l2-chain-id", &crate::L2_CHAIN_ID.to_string()])
        .arg("--datadir")
        .arg(datadir)
        .env("RUST_LOG", "info")
        .env("ANVIL_BIN", anvil_bin);
    let mut node = Proc::spawn(command, Some(&datadir.join("node.log")))?;
    let info_path = datadir.join("devnet.json");
    let info: Value = wait_for(Duration::from_secs(120), "devnet.json", async || {
        node.check_alive()?;
        Ok(std::fs::read_to_string(&info_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok()))
    })
    .await?;
    let l2_url = info["l2RpcUrl"]
        .as_str()
        .ok_or_else(|| eyre::eyre!("devnet.json has no l2RpcUrl"))?
        .to_string();
    let inbox = info["contracts"]["batchInbox"]
        .as_str()
        .unwrap_or_default()
        .parse()?;
    Ok(Devnet {
        node,
        l2_url,
        inbox,
        datadir: datadir.to_path_buf(),
    })
}

/// A fresh anvil on a free loopback port, automining (`block_time` `None`) or mining every
/// `block_time` seconds, with `extra` flags.
pub(crate) async fn start_anvil(
    bin: &Path,
    block_time: Option<&str>,
    extra: &[&str],
) -> eyre::Result<(Proc, String)> {
    let port = free_port()?;
    // The old states anvil offloads to disk, which it leaves behind when killed.
    let states = tempfile::tempdir()?;
    let mut command = Command::new(bin);
    command.args([
        "--port",
        &port.to_string(),
        "--host",
        "127.0.0.1",
        "--silent",
    ]);
    command.arg("--cache-path").arg(states.path());
    if let Some(block_time) = block_time {
        command.args(["--block-time", block_time]);
    }
    command.args(extra);
    let mut proc = Proc::spawn(command, None)?;
    proc.scratch = Some(states);
    let url = format!("http://127.0.0.1:{port}");
    let client = crate::load::client(&url)?;
    wait_for(Duration::from_secs(30), "anvil to answer", async || {
        Ok(
            crate::load::call(&client, "eth_chainId", serde_json::json!([]))
                .await
                .ok(),
        )
    })
    .await?;
    Ok((proc, url))
}

pub(crate) fn strip_ansi(line: &str) -> String {
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
