//! `rollup-node devnet`: anvil + contracts + L2 node in one process.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use alloy_provider::{Provider, ProviderBuilder};
use eyre::{WrapErr, bail};
use rollup_service::devnet;
use tokio::process::{Child, Command};
use tracing::{error, info, warn};

use crate::{cli::DevnetArgs, runner};

/// `--batcher-max-delay` of the devnet unless set: blocks with transactions become safe within
/// seconds, while an idle devnet still posts only near the sequencing window's deadline.
const DEVNET_BATCHER_MAX_DELAY: Duration = Duration::from_secs(1);

/// The file anvil saves the devnet's L1 in, and resumes it from.
const ANVIL_STATE: &str = "anvil-state.json";

/// The log of the anvil the devnet starts, in its datadir.
const ANVIL_LOG: &str = "anvil.log";

/// `devnet`'s datadir unless `--datadir` says otherwise; the user commands' default
/// `--devnet` file is `devnet.json` in it.
pub(crate) const DEFAULT_DATADIR: &str = "./devnet-data";

/// Runs the devnet until Ctrl-C or SIGTERM, then shuts down in order: the roles and the node
/// stop first (none of them waits on L1 once cancelled, even if anvil is already gone), then the
/// anvil this command started, if any, so it can write its state.
pub(crate) async fn run(mut args: DevnetArgs) -> eyre::Result<()> {
    args.run
        .batcher_max_delay
        .get_or_insert(DEVNET_BATCHER_MAX_DELAY);
    args.run
        .proposal_interval
        .get_or_insert(Duration::from_secs(30));
    // The devnet's game clocks are 30 s: its challenger and proposer look every second.
    args.run
        .dispute_interval
        .get_or_insert(Duration::from_secs(1));
    // anvil's finality trails its head by 64 blocks; the devnet proposes what is safe so a
    // withdrawal's life cycle fits in minutes (a reorg removes the proposal; it is made again).
    args.run
        .proposer_head
        .get_or_insert(rollup_service::ProposalHead::Safe);
    // A dapp under development is served from its own origin (as anvil allows).
    args.run.rpc_cors_domain.get_or_insert_with(|| "*".into());
    // The user commands (`deposit`, `withdraw`, …) read ./devnet-data/devnet.json by default.
    let datadir = args
        .run
        .datadir
        .get_or_insert_with(|| PathBuf::from(DEFAULT_DATADIR))
        .clone();
    std::fs::create_dir_all(&datadir)
        .wrap_err_with(|| format!("cannot create --datadir {}", datadir.display()))?;
    // Before anvil starts from the datadir's state or anything is deployed or written, and
    // held until anvil has saved its state on the way out.
    let lock = runner::lock_datadir(&args.run)?;
    // Before anvil starts and anything is deployed.
    check_datadir_is_a_devnets(&datadir, args.l1_rpc_url.is_some())?;
    runner::check_free_disk(&args.run)?;
    runner::check_listen_addrs(&args.run)?;
    let cancel = runner::shutdown_on_signal();

    let mut anvil = None;
    let l1_rpc_url = match args.l1_rpc_url.clone() {
        Some(url) => url,
        None => {
            let (child, url) = start_anvil(&args, &datadir).await?;
            anvil = Some(child);
            // anvil serves the beacon API's blob endpoint itself: batches go in blobs.
            args.run.l1_beacon_url.get_or_insert_with(|| url.clone());
            url
        }
    };
    let result = run_with_l1(&args, &datadir, &l1_rpc_url, anvil.as_mut(), &lock, cancel).await;
    let result = match (&anvil, result) {
        (Some(_), Err(err)) if is_torn_l1_state(&err) => Err(err.wrap_err(format!(
            "the devnet's L1 contradicts itself: anvil's saved state {} holds an inbox record that no L1 block carries (anvil was stopped, or the devnet killed, while it mined a block, and it wrote its state mid-block). This devnet cannot be resumed: start a fresh one with another --datadir, or move {} away",
            datadir.join(ANVIL_STATE).display(),
            datadir.display()
        ))),
        (_, result) => result,
    };
    if let Some(child) = anvil {
        stop_anvil(child, &l1_rpc_url).await;
        // Only this run could read its offloaded states; anvil leaves them behind.
        let _ = std::fs::remove_dir_all(anvil_state_cache(&datadir));
    }
    drop(lock);
    result
}

async fn run_with_l1(
    args: &DevnetArgs,
    datadir: &Path,
    l1_rpc_url: &str,
    anvil: Option<&mut Child>,
    lock: &rollup_storage::DatadirLock,
    cancel: tokio_util::sync::CancellationToken,
) -> eyre::Result<()> {
    let client =
        alloy_rpc_client::RpcClient::new_http(l1_rpc_url.parse().wrap_err("bad --l1-rpc-url")?);
    let provider = ProviderBuilder::new().connect_client(client.clone());
    let mut anvil = anvil;
    if wait_for_l1(
        &provider,
        l1_rpc_url,
        anvil.as_deref_mut(),
        datadir,
        &cancel,
    )
    .await?
    .is_none()
    {
        return Ok(());
    }
    // The anvil started here is the devnet's L1: if it dies, the roles would retry against
    // nothing while the sequencer went on without L1, so the devnet stops and says why.
    let node_cancel = cancel.child_token();
    let work = deploy_and_run(args, datadir, l1_rpc_url, client, lock, node_cancel.clone());
    tokio::pin!(work);
    let anvil_exited = async {
        match anvil {
            Some(child) => child.wait().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = &mut work => result,
        status = anvil_exited => {
            let status = status.map_or_else(|err| err.to_string(), |status| status.to_string());
            // A Ctrl-C in the terminal reaches anvil too (one process group): stopping
            // together is no failure.
            if cancel.is_cancelled() {
                info!(target: "rollup::devnet", %status, "anvil stopped with the devnet");
                return work.await;
            }
            error!(target: "rollup::devnet", %status, "anvil, the devnet's L1, exited; stopping the devnet");
            node_cancel.cancel();
            let _ = work.await;
            bail!(
                "anvil, the devnet's L1, exited ({status}) while the devnet ran: see {}. Run the same command again to resume from the saved L1 state",
                datadir.join(ANVIL_LOG).display()
            )
        }
    }
}

/// Refuses a datadir whose L2 database no devnet of it can resume (a replica's, or one whose
/// `rollup.json` or saved L1 was removed): the devnet would start anvil, deploy a new rollup and
/// write its `rollup.json` and L1 state there, and only then find that the database holds
/// another chain, leaving the datadir mixed. With `external_l1` (`--l1-rpc-url`) the L1 is not
/// the datadir's to keep.
fn check_datadir_is_a_devnets(datadir: &Path, external_l1: bool) -> eyre::Result<()> {
    let mut missing: Vec<&str> = [devnet::ROLLUP_CONFIG_FILE, ANVIL_STATE]
        .into_iter()
        .filter(|file| !datadir.join(file).exists())
        .collect();
    if external_l1 {
        missing.retain(|file| *file != ANVIL_STATE);
    }
    devnet::refuse_unresumable(datadir, &missing, "--datadir")?;
    Ok(())
}

/// Deploys (or finds) the devnet's contracts on the L1 at `l1_rpc_url` and runs the L2 node with
/// every role until `cancel`.
async fn deploy_and_run(
    args: &DevnetArgs,
    datadir: &Path,
    l1_rpc_url: &str,
    client: alloy_rpc_client::RpcClient,
    lock: &rollup_storage::DatadirLock,
    cancel: tokio_util::sync::CancellationToken,
) -> eyre::Result<()> {
    // Stopping mid-deployment leaves no rollup.json behind: the next run deploys afresh.
    let devnet = tokio::select! {
        biased;
        () = cancel.cancelled() => return Ok(()),
        setup = devnet::setup(datadir, client, l1_rpc_url, args.l2_chain_id, args.l2_gas_limit) => setup?,
    };
    let signers = devnet::dev_signers();
    let roles = runner::Roles {
        sequencer: true,
        batcher: Some(signers[1].clone()),
        proposer: Some(signers[devnet::PROPOSER_ACCOUNT].clone()),
        challenger: Some(signers[devnet::CHALLENGER_ACCOUNT].clone()),
        beacon_url: None,
    };
    runner::check_confirmations(&devnet.config, &args.run, &roles)?;
    let info_path = datadir.join(devnet::DEVNET_INFO_FILE);
    let config = Arc::new(devnet.config.clone());
    runner::run_node(
        config,
        // The devnet deployed the rollup on this L1 itself.
        runner::L1Endpoint {
            url: l1_rpc_url,
            checked: true,
        },
        &args.run,
        roles,
        lock,
        cancel,
        move |rpc| {
            let info = devnet.info(l1_rpc_url, rpc);
            devnet::write_json(&info_path, &info)?;
            if crate::logging::json_logs() {
                tracing::info!(
                    target: "rollup::devnet",
                    l1_rpc = %info.l1_rpc_url,
                    l2_rpc = %info.l2_rpc_url,
                    l2_ws = %info.l2_ws_url,
                    details = %info_path.display(),
                    "devnet ready"
                );
                return Ok(());
            }
            out!(
                "\ndevnet ready\n  L1 RPC:  {}\n  L2 RPC:  {}\n  L2 WS:   {}\n  details: {}\n",
                info.l1_rpc_url,
                info.l2_rpc_url,
                info.l2_ws_url,
                info_path.display()
            );
            Ok(())
        },
    )
    .await
}

/// L1's chain id once it answers; `None` if `cancel` fires first. An error if the `anvil` this
/// command started exits first: whatever answers then is not it.
async fn wait_for_l1(
    provider: &impl Provider,
    url: &str,
    mut anvil: Option<&mut Child>,
    datadir: &Path,
    cancel: &tokio_util::sync::CancellationToken,
) -> eyre::Result<Option<u64>> {
    let mut last_error = None;
    for _ in 0..150 {
        if let Some(child) = anvil.as_deref_mut()
            && let Some(status) = child.try_wait()?
        {
            let log = datadir.join(ANVIL_LOG);
            let damaged = std::fs::read_to_string(&log)
                .is_ok_and(|text| text.contains("failed to parse json file"));
            if damaged {
                bail!(
                    "anvil exited ({status}): it cannot read the devnet's saved L1 state {}, which a crash of the whole machine (or a kill of anvil itself) cut off while anvil was writing it (see {}). This devnet's L1 cannot be resumed: start a fresh devnet with another --datadir, or move {} away",
                    datadir.join(ANVIL_STATE).display(),
                    log.display(),
                    datadir.display()
                );
            }
            bail!(
                "anvil exited ({status}) before it answered at {url}: see {}",
                log.display()
            );
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(None),
            id = provider.get_chain_id() => match id {
                Ok(id) => return Ok(Some(id)),
                Err(err) => last_error = Some(err),
            },
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(None),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    let why = last_error.map_or_else(String::new, |source| {
        let err = rollup_l1::L1Error::Rpc {
            url: url.to_string(),
            method: "eth_chainId",
            source,
        };
        format!(": {err}")
    });
    bail!("L1 at {url} did not answer eth_chainId within 30s{why}")
}

fn anvil_binary(args: &DevnetArgs) -> PathBuf {
    if let Some(bin) = &args.anvil_bin {
        return bin.clone();
    }
    // The pinned anvil installed by scripts/bootstrap.sh, found from the executable's or the
    // working directory's ancestors.
    let roots = std::env::current_exe()
        .ok()
        .into_iter()
        .chain(std::env::current_dir().ok());
    for root in roots {
        for dir in root.ancestors() {
            let candidate = dir.join("node_modules/.bin/anvil");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    PathBuf::from("anvil")
}

/// Where anvil offloads the states of old blocks while it runs (`--cache-path`). Only the run
/// that wrote them reads them (the next run resumes from `anvil-state.json`), and anvil leaves
/// them behind, about 80 MB per thousand blocks, so the devnet clears them at start and stop.
fn anvil_state_cache(datadir: &Path) -> PathBuf {
    datadir.join("anvil-cache")
}

async fn start_anvil(args: &DevnetArgs, datadir: &Path) -> eyre::Result<(Child, String)> {
    let bin = anvil_binary(args);
    let state = datadir.join(ANVIL_STATE);
    // Another process on the port (an anvil left running, any other L1) would answer in place of
    // the one started here, which fails on "address in use": the devnet would deploy onto it.
    if let Err(err) = std::net::TcpListener::bind(("127.0.0.1", args.l1_port)) {
        bail!(
            "--l1-port {} is taken ({err}): another process (an anvil left running?) listens \
             there. Stop it, choose another --l1-port, or pass --l1-rpc-url to use that L1",
            args.l1_port
        );
    }
    let log = std::fs::File::create(datadir.join(ANVIL_LOG))?;
    let cache = anvil_state_cache(datadir);
    // A run that was killed left its offloaded states; nothing reads them any more.
    if cache.exists() {
        std::fs::remove_dir_all(&cache).wrap_err_with(|| {
            format!("cannot clear anvil's old state cache {}", cache.display())
        })?;
    }
    let mut command = Command::new(&bin);
    command
        .arg("--port")
        .arg(args.l1_port.to_string())
        .arg("--host")
        .arg("127.0.0.1")
        .arg("--block-time")
        .arg(args.l1_block_time.to_string())
        .arg("--state")
        .arg(&state)
        // anvil also saves its state when it stops (SIGTERM, which it gets however the devnet
        // ends); the interval only bounds what a crash of the whole machine loses. Each save
        // rewrites the whole file, blocks and blobs included (about 130 MB after 15 minutes),
        // so not every second.
        .arg("--state-interval")
        .arg("10")
        .arg("--cache-path")
        .arg(&cache)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        // A group of its own: Ctrl-C in a terminal signals the foreground group, and anvil
        // stopping on it at once would skip what the devnet does first (pause its mining, take
        // in its pool's transactions, then SIGTERM it to save its state).
        .process_group(0)
        .kill_on_drop(true);
    // anvil ends with this process however it ends, kill -9 included: SIGTERM, so it still
    // writes its state. Set in the child before exec; it fires when the spawning thread exits,
    // and this runs on the main thread, which lives as long as the process. A parent that died
    // before the signal was armed is caught by its pid: the child then has another parent.
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: the closure makes only async-signal-safe system calls.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::other(
                        "the devnet exited while starting anvil",
                    ));
                }
                Ok(())
            });
        }
    }
    let child = command.spawn().wrap_err_with(|| {
        format!("cannot start anvil ({}): run scripts/bootstrap.sh, or pass --anvil-bin or --l1-rpc-url", bin.display())
    })?;
    let url = format!("http://127.0.0.1:{}", args.l1_port);
    info!(target: "rollup::devnet", %url, bin = %bin.display(), "started anvil L1");
    Ok((child, url))
}

/// Whether the node stopped on an inbox record out of order: on a resumed devnet, the mark of an
/// anvil state written in the middle of mining a block (its effects saved, the block not).
fn is_torn_l1_state(err: &eyre::Report) -> bool {
    let text = format!("{err:#}");
    text.contains("inbox record") && text.contains("expected record")
}

async fn stop_anvil(mut child: Child, url: &str) {
    info!(target: "rollup::devnet", "stopping anvil");
    if let Ok(Some(status)) = child.try_wait() {
        info!(target: "rollup::devnet", %status, "anvil had already exited");
        return;
    }
    // anvil writes its state when it gets SIGTERM, mining or not: a state written while it
    // mined a block holds that block's effects without the block, an L1 that contradicts
    // itself. Stop its interval mining first, and give a block in progress time to end.
    let client = url.parse().ok().map(alloy_rpc_client::RpcClient::new_http);
    let paused = async {
        client
            .as_ref()?
            .request::<_, serde_json::Value>("evm_setIntervalMining", (0,))
            .await
            .ok()
    };
    if let (Ok(Some(_)), Some(client)) = (
        tokio::time::timeout(Duration::from_secs(2), paused).await,
        &client,
    ) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // anvil's state file holds blocks, not its pool: what the pool holds now (a deposit
        // sent a moment ago, a batch) would be gone at the next start. One last block takes
        // it in; `evm_mine` answers once the block is done.
        let mined = async {
            let status: serde_json::Value = client.request("txpool_status", ()).await.ok()?;
            let pending = status["pending"]
                .as_str()
                .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
                .or_else(|| status["pending"].as_u64())?;
            if pending == 0 {
                return Some(0);
            }
            client
                .request::<_, serde_json::Value>("evm_mine", ())
                .await
                .ok()
                .map(|_| pending)
        };
        match tokio::time::timeout(Duration::from_secs(5), mined).await {
            Ok(Some(0)) => {}
            Ok(Some(pending)) => info!(
                target: "rollup::devnet",
                pending,
                "mined one last L1 block with the transactions anvil's pool held, so the next start has them"
            ),
            _ => warn!(
                target: "rollup::devnet",
                "could not mine anvil's pending transactions: those it holds are lost with it"
            ),
        }
    }
    // SIGTERM lets anvil write its state file, so the next run resumes the same L1.
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    warn!(target: "rollup::devnet", "anvil did not stop on SIGTERM; killing it");
    let _ = child.kill().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datadir with an L2 database and no `rollup.json` (a replica's) is refused before
    /// anvil starts or anything is written; a fresh one, or a devnet's, is not.
    #[test]
    fn a_replicas_datadir_is_not_taken_for_a_devnets() {
        let dir = tempfile::tempdir().unwrap();
        check_datadir_is_a_devnets(dir.path(), false).unwrap();
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        std::fs::write(dir.path().join("db").join("mdbx.dat"), b"").unwrap();
        let err = check_datadir_is_a_devnets(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a devnet's datadir"), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing written"
        );
        // A replica that keeps its rollup.json beside its database: still no saved L1.
        std::fs::write(dir.path().join(devnet::ROLLUP_CONFIG_FILE), b"{}").unwrap();
        let err = check_datadir_is_a_devnets(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains(ANVIL_STATE), "{err}");
        // Against an L1 of its own choosing, the config is enough; with anvil's state, a devnet.
        check_datadir_is_a_devnets(dir.path(), true).unwrap();
        std::fs::write(dir.path().join(ANVIL_STATE), b"{}").unwrap();
        check_datadir_is_a_devnets(dir.path(), false).unwrap();
    }

    #[test]
    fn an_inbox_record_out_of_order_is_taken_for_a_torn_l1_state() {
        let torn = eyre::Report::new(rollup_node_core::NodeError::InboxData(
            "inbox record 25 in L1 block 68: expected record 24 next".into(),
        ))
        .wrap_err("the rollup core failed");
        assert!(is_torn_l1_state(&torn));
        let other = eyre::eyre!("inbox record 25 in L1 block 68: the batch is missing");
        assert!(!is_torn_l1_state(&other));
    }
}
