//! Runs the L2 node: core + L1 follower + RPC, and the sequencer and batcher roles, until
//! shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use eyre::{WrapErr, bail};
use rollup_l1::{BlobConfig, L1Follower, L1FollowerConfig};
use rollup_node_core::{L1Finalized, RollupNode};
use rollup_primitives::{BlockNumHash, RollupConfig};
use rollup_rpc::RpcServerConfig;
pub(crate) use rollup_service::Roles;
use rollup_service::{DataPath, L1Link, RoleSettings, Services};
use rollup_storage::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::cli::{BatcherData, NodeArgs, RunArgs};

/// How many processed L1 blocks the follower gets to find a fork point after a restart: as
/// many as it can use.
const KNOWN_L1_BLOCKS: usize = rollup_l1::WINDOW_DEPTH;

// The store keeps the history of every L2 block a reorg the follower unwinds can remove.
const _: () = assert!(rollup_storage::L1_REORG_DEPTH == rollup_l1::WINDOW_DEPTH as u64);

/// `--batcher-max-delay` unless set (the devnet sets its own).
const BATCHER_MAX_DELAY: Duration = Duration::from_secs(60);
/// How often a proposer proposes, outside the devnet: hourly, as OP Stack chains do.
const PROPOSAL_INTERVAL: Duration = Duration::from_secs(3_600);

/// `rollup-node node`.
pub(crate) async fn run_replica(args: NodeArgs) -> eyre::Result<()> {
    let config = RollupConfig::from_file(&args.config)?;
    let roles = Roles::from_flags(
        args.sequencer,
        args.batcher_key.as_deref(),
        "--batcher-key",
        args.proposer_key.as_deref(),
        "--proposer-key",
    )?
    .with_challenger_key(args.challenger_key.as_deref(), "--challenger-key")?;
    // Before the datadir is touched.
    roles.check_distinct_keys()?;
    check_confirmations(&config, &args.run, &roles)?;
    let lock = lock_datadir(&args.run)?;
    let config = Arc::new(config);
    let result = async {
        let beacon = async {
            match args.run.l1_beacon_url.as_deref() {
                Some(beacon_url) => check_beacon(&config, beacon_url).await,
                None => Ok(()),
            }
        };
        let (checked, beacon) = tokio::join!(
            check_l1_chain(
                &config,
                &args.l1_rpc_url,
                Some(START_CHECK_TIMEOUT),
                roles.proposer.as_ref().map(|key| key.address()),
            ),
            beacon
        );
        let checked = checked?;
        beacon?;
        let cancel = shutdown_on_signal();
        run_node(
            Arc::clone(&config),
            L1Endpoint {
                url: &args.l1_rpc_url,
                checked,
            },
            &args.run,
            roles,
            &lock,
            cancel,
            |_| Ok(()),
        )
        .await
    }
    .await;
    if result.is_err() {
        // A start refused (a wrong --l1-rpc-url, say) before the database was created leaves
        // no empty datadir behind.
        lock.release_unused();
    }
    result
}

/// Refuses an L1 whose chain id is not the config's, or on which the rollup's genesis L1 origin
/// is another block (wrong L1, or a config for another deployment): the follower would find
/// none of its blocks canonical and retry for ever. An L1 that has not reached the origin yet
/// is waited for here, before the database is created, so the origin is checked too. An L1 that
/// does not answer yet gives `Ok(false)`: the node starts its RPC and checks again before it
/// follows L1 (before, it followed unchecked, and a wrong L1 that came up later was reported as
/// a reorg deeper than the stored history); so does one that does not give its chain id within
/// `timeout`, if given (at start, where the node's RPC waits for the check).
async fn check_l1_chain(
    config: &RollupConfig,
    l1_rpc_url: &str,
    timeout: Option<Duration>,
    proposer: Option<alloy_primitives::Address>,
) -> eyre::Result<bool> {
    let l1 = rollup_l1::L1Rpc::connect(l1_rpc_url).await?;
    let origin = config.genesis.l1_origin;
    let checked = async {
        // An L1 that accepts connections and never answers would hold the node's start (and
        // its RPC) for the call's whole timeout: it is checked again before it is followed.
        let chain_id = match timeout {
            Some(timeout) => {
                let Ok(chain_id) = tokio::time::timeout(timeout, l1.chain_id()).await else {
                    warn!(target: "rollup::node", url = l1_rpc_url, "the L1 did not answer eth_chainId within {}s; checking it again before following it", timeout.as_secs());
                    return Ok(false);
                };
                chain_id?
            }
            None => l1.chain_id().await?,
        };
        eyre::ensure!(
            chain_id == config.l1_chain_id,
            "the L1 at {l1_rpc_url} is chain {chain_id}, but the rollup config is for L1 chain {} (wrong --l1-rpc-url or --config)",
            config.l1_chain_id
        );
        let mut waited = None::<std::time::Instant>;
        let block = loop {
            if let Some(block) = l1.fetch_header(origin.number).await? {
                break block;
            }
            if waited.is_none_or(|at| at.elapsed() >= Duration::from_secs(30)) {
                warn!(
                    target: "rollup::node",
                    l1_origin = origin.number,
                    "the L1 has not reached the rollup's genesis L1 origin yet; waiting for it"
                );
                waited = Some(std::time::Instant::now());
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        eyre::ensure!(
            block.hash == origin.hash,
            "the rollup config's genesis.l1Origin is block {} {}, but that block on the L1 at {l1_rpc_url} is {} (wrong --l1-rpc-url, or a --config of another deployment)",
            origin.number,
            origin.hash,
            block.hash
        );
        // The deployment's own values: a config that contradicts them derives a chain of its
        // own. One L1 cannot read yet (syncing, or an address without code) is warned about.
        let client = alloy_rpc_client::RpcClient::new_http(l1_rpc_url.parse()?);
        match rollup_service::check::check_deployment(client, config, proposer).await {
            Ok(warnings) => {
                for warning in warnings {
                    warn!(target: "rollup::node", "{warning}");
                }
            }
            Err(rollup_service::check::DeploymentCheck::Unread(why)) => {
                warn!(target: "rollup::node", "cannot check the rollup config against its deployment on L1: {why}");
            }
            Err(err) => eyre::bail!("{err}"),
        }
        Ok(true)
    };
    match checked.await {
        Ok(checked) => Ok(checked),
        Err(err) => match err.downcast_ref::<rollup_l1::L1Error>() {
            Some(l1_err) if l1_err.is_temporary() => {
                warn!(target: "rollup::node", %err, "cannot check the L1's chain id and the rollup's genesis origin yet; trying again before following L1");
                Ok(false)
            }
            _ => Err(err),
        },
    }
}

/// Longest the start-up check of the L1 waits for its chain id.
const START_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest the start-up check of `--l1-beacon-url` waits for its answers.
const BEACON_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses a `--l1-beacon-url` that serves no blobs of the rollup's L1 (no beacon API at all,
/// or another chain's), which would otherwise show only at the first blob batch, as a read that
/// retries for ever. One that cannot be asked now is warned about and left to the blob reads,
/// which retry.
async fn check_beacon(config: &RollupConfig, beacon_url: &str) -> eyre::Result<()> {
    let source = rollup_l1::BlobSource::new(beacon_url, config.contracts.batch_inbox)?;
    let checked = tokio::time::timeout(
        BEACON_CHECK_TIMEOUT,
        source.check(config.l1_chain_id, config.genesis.l1_origin),
    )
    .await;
    match checked {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) if err.is_temporary() => {
            warn!(target: "rollup::node", %err, "cannot check the beacon API yet; blob reads retry until it answers");
            Ok(())
        }
        Ok(Err(err)) => Err(err.into()),
        Err(_) => {
            warn!(target: "rollup::node", url = beacon_url, "the beacon API did not answer within {}s; blob reads retry until it does", BEACON_CHECK_TIMEOUT.as_secs());
            Ok(())
        }
    }
}

/// The L1 a node follows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct L1Endpoint<'a> {
    /// Its JSON-RPC URL.
    pub(crate) url: &'a str,
    /// Whether it was found to be the rollup's (chain id and genesis origin) before the node
    /// started; if not, it is checked before the node follows it.
    pub(crate) checked: bool,
}

/// A token cancelled on Ctrl-C or SIGTERM.
pub(crate) fn shutdown_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => info!(target: "rollup::node", "Ctrl-C: shutting down"),
            _ = term.recv() => info!(target: "rollup::node", "SIGTERM: shutting down"),
        }
        token.cancel();
    });
    cancel
}

/// Where the batcher puts batches' transactions: `--batcher-data`, with `auto` resolved by
/// asking L1 whether it takes blob transactions.
async fn batcher_data(args: &RunArgs, l1_rpc_url: &str) -> eyre::Result<DataPath> {
    let blobs_readable = args.l1_beacon_url.is_some();
    match args.batcher_data {
        BatcherData::Calldata => Ok(DataPath::Calldata),
        BatcherData::Blobs => {
            eyre::ensure!(
                blobs_readable,
                "--batcher-data blobs needs --l1-beacon-url: the node derives its own batches and must read their blobs back"
            );
            Ok(DataPath::BLOBS)
        }
        BatcherData::Auto if !blobs_readable => Ok(DataPath::Calldata),
        BatcherData::Auto => {
            let l1 = rollup_l1::L1Rpc::connect(l1_rpc_url).await?;
            // A few tries: a transient failure must not switch the path (blocks are sized for
            // it, and a node restarted on calldata cannot post blocks sealed for blobs).
            let mut last = None;
            for attempt in 0..3 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                match l1.blob_base_fee().await {
                    Ok(_) => return Ok(DataPath::BLOBS),
                    Err(err) => last = Some(err),
                }
            }
            if let Some(err) = last {
                warn!(target: "rollup::node", %err, "L1 does not answer eth_blobBaseFee; the batcher posts calldata");
            }
            Ok(DataPath::Calldata)
        }
    }
}

/// The roles' behaviour from the command line.
fn role_settings(args: &RunArgs, batcher_data: DataPath) -> RoleSettings {
    let l1_data_bytes_per_block = args
        .sequencer_l1_bytes_per_block
        .unwrap_or(batcher_data.max_batch_bytes() as u64);
    RoleSettings {
        block_time: args.block_time,
        batcher_interval: args.batcher_interval,
        batcher_max_delay: args.batcher_max_delay.unwrap_or(BATCHER_MAX_DELAY),
        batcher_window_margin: args.batcher_window_margin,
        proposal_interval: args.proposal_interval.unwrap_or(PROPOSAL_INTERVAL),
        proposal_head: args.proposer_head.unwrap_or_default(),
        dispute_interval: args.dispute_interval.unwrap_or(Duration::from_secs(12)),
        l1_resubmit_after: args.l1_resubmit_after,
        pool: args.txpool.pool_config(),
        pool_backup: args.txpool.transactions_backup(&datadir(args)),
        l1_data_bytes_per_block,
        batcher_data,
        batcher_max_in_flight: args.batcher_max_in_flight,
    }
}

/// The datadir of `args` (`./rollup-data` by default).
pub(crate) fn datadir(args: &RunArgs) -> std::path::PathBuf {
    args.datadir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("./rollup-data"))
}

/// Takes the lock of `args`' datadir, before anything else touches it: one node per datadir
/// (a second start stops here, having changed nothing).
pub(crate) fn lock_datadir(args: &RunArgs) -> eyre::Result<rollup_storage::DatadirLock> {
    Ok(rollup_storage::DatadirLock::acquire(
        &datadir(args).join("db"),
    )?)
}

/// Opens the database, starts the RPC server (then calls `on_ready` with its address), the
/// roles, and feeds L1 notifications to the core until `cancel` fires. The caller holds the
/// datadir's lock (`_lock`, [`lock_datadir`]) for at least that long.
pub(crate) async fn run_node(
    config: Arc<RollupConfig>,
    l1: L1Endpoint<'_>,
    args: &RunArgs,
    roles: Roles,
    _lock: &rollup_storage::DatadirLock,
    cancel: CancellationToken,
    on_ready: impl FnOnce(SocketAddr) -> eyre::Result<()>,
) -> eyre::Result<()> {
    if let Some(addr) = args.metrics_addr {
        crate::logging::start_metrics(addr)?;
    }
    let db_path = datadir(args).join("db");
    check_free_disk(args)?;
    let store = Store::open(&db_path)
        .wrap_err_with(|| format!("cannot open the database at {}", db_path.display()))?
        .with_history_retention(args.history_retention);
    let mut node = RollupNode::new(config.clone(), store.clone())?;
    let heads = node.heads();
    let batcher = if roles.batcher.is_some() {
        batcher_data(args, l1.url).await?
    } else {
        DataPath::Calldata
    };
    if roles.batcher.is_some() {
        info!(target: "rollup::node", data = batcher.as_str(), "batches go to L1 as {}", batcher.as_str());
    }
    // Blocks are sized for the batches that carry them (a sequencer whose batcher runs
    // elsewhere keeps to calldata's, which fit either way).
    node.set_data_path(batcher);
    let mut services = Services::start(
        &config,
        &store,
        &heads,
        // The dispute roles fetch from the beacon API the blobs they cannot rebuild.
        roles.clone().with_beacon_url(args.l1_beacon_url.as_deref()),
        &role_settings(args, batcher),
        &L1Link::Http(l1.url.to_string()),
        &cancel,
    )?;
    // Saved when the node stops, or when it gives up from here on (dropped).
    let pool = services.take_pool_keeper();
    let (rpc_addr, rpc_handle) = rollup_rpc::start_server(
        RpcServerConfig {
            addr: args.rpc_addr,
            max_block_range: args.rpc_max_block_range,
            max_logs_per_response: args.rpc_max_logs_per_response,
            max_connections: args.rpc_max_connections,
            max_connections_per_ip: args.rpc_max_connections_per_ip,
            trusted_proxies: args.rpc_trusted_proxies.clone(),
            gas_cap: args.rpc_gascap,
            evm_timeout: args.rpc_evm_timeout,
            max_heavy_requests: args.rpc_max_heavy_requests,
            heavy_queue_timeout: args.rpc_heavy_queue_timeout,
            max_subscriptions_per_connection: args.rpc_max_subscriptions_per_connection,
            max_filters: args.rpc_max_filters,
            live_feed_logs: rollup_rpc::LIVE_FEED_LOGS,
            cors_domains: args.rpc_cors_domain.clone(),
            http_idle_timeout: args.rpc_http_idle_timeout,
        },
        services.rpc_context(&config, &store, heads),
    )
    .await
    .wrap_err_with(|| {
        format!(
            "cannot serve JSON-RPC on {} (is the port in use? set --rpc-addr)",
            args.rpc_addr
        )
    })?;
    info!(
        target: "rollup::node",
        http = %format!("http://{rpc_addr}"), ws = %format!("ws://{rpc_addr}"),
        sequencer = roles.sequencer, batcher = roles.batcher.is_some(), proposer = roles.proposer.is_some(),
        "L2 JSON-RPC ready"
    );
    on_ready(rpc_addr)?;

    let follower_config = L1FollowerConfig {
        url: l1.url.to_string(),
        poll_interval: args.l1_poll_interval,
        confirmations: args.l1_confirmations,
        max_blocks_per_notification: 100,
        blobs: args.l1_beacon_url.clone().map(|beacon_url| BlobConfig {
            beacon_url,
            inbox: config.contracts.batch_inbox,
        }),
    };
    let disk = tokio::spawn(watch_free_disk(
        db_path.clone(),
        args.min_free_disk,
        cancel.clone(),
    ));
    let mut result = follow_l1(&mut node, &services, follower_config, l1.checked, &cancel).await;
    cancel.cancel();
    if let Ok(Some(low)) = disk.await {
        result = result.and(Err(eyre::eyre!("{low}")));
    }
    services.stop().await;
    let _ = rpc_handle.stop();
    rpc_handle.stopped().await;
    // Only now: the RPC server took transactions until it stopped.
    if let Some(pool) = pool {
        pool.save();
    }
    info!(target: "rollup::node", "stopped");
    result
}

/// How often a running node looks at the free space under its datadir.
const DISK_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Refuses to start a node whose datadir's filesystem has less than `--min-free-disk` free.
/// Refuses a sequencer that follows L1 at least a sequencing window behind its head: it would
/// adopt L1 origins whose windows close before its batches can land, so every epoch would be
/// forced in and every block it served replaced.
pub(crate) fn check_confirmations(
    config: &RollupConfig,
    args: &RunArgs,
    roles: &Roles,
) -> eyre::Result<()> {
    if roles.sequencer && args.l1_confirmations >= config.sequencing_window {
        bail!(
            "--l1-confirmations {} is not below the rollup's sequencing window ({} L1 blocks): a sequencer that far behind L1 adopts origins whose windows close before its batches land, and every block it builds is replaced by a forced one; follow L1 closer (0 follows the tip; reorgs are handled either way)",
            args.l1_confirmations,
            config.sequencing_window
        );
    }
    Ok(())
}

pub(crate) fn check_free_disk(args: &RunArgs) -> eyre::Result<()> {
    let db_path = datadir(args).join("db");
    std::fs::create_dir_all(&db_path)
        .wrap_err_with(|| format!("cannot create the database directory {}", db_path.display()))?;
    match low_disk(&db_path, args.min_free_disk) {
        Some(low) => bail!("{low}"),
        None => Ok(()),
    }
}

/// Refuses addresses the node could not serve on (taken by another process, or not this
/// machine's) before anything slow or lasting happens: the devnet deploys its contracts first,
/// and a server that failed only then left a datadir without its `devnet.json`. A port taken in
/// the moment between this check and the server's start still fails there, as before.
pub(crate) fn check_listen_addrs(args: &RunArgs) -> eyre::Result<()> {
    let addrs = [
        ("--rpc-addr", Some(args.rpc_addr)),
        ("--metrics-addr", args.metrics_addr),
    ];
    // One port for both, on one address or on an unspecified one (0.0.0.0 takes every
    // address); port 0 gives each its own.
    if let Some(metrics) = args.metrics_addr
        && metrics.port() != 0
        && metrics.port() == args.rpc_addr.port()
        && (metrics.ip() == args.rpc_addr.ip()
            || metrics.ip().is_unspecified()
            || args.rpc_addr.ip().is_unspecified())
    {
        bail!(
            "--rpc-addr {} and --metrics-addr {metrics} take the same port: the JSON-RPC server and the metrics endpoint need a port each; give --metrics-addr another port",
            args.rpc_addr
        );
    }
    for (flag, addr) in addrs {
        let Some(addr) = addr else { continue };
        if let Err(err) = std::net::TcpListener::bind(addr) {
            bail!(
                "{flag} {addr} cannot be served ({err}): another process (a node or devnet left running?) may listen there. Stop it or choose another {flag}"
            );
        }
    }
    Ok(())
}

/// What to tell the operator if the filesystem holding `db_path` has less than `min_mib` MiB
/// free (never, with `min_mib` 0 or free space that cannot be read).
fn low_disk(db_path: &std::path::Path, min_mib: u64) -> Option<String> {
    if min_mib == 0 {
        return None;
    }
    let free = match rollup_storage::free_disk_bytes(db_path) {
        Ok(free) => free,
        Err(err) => {
            warn!(target: "rollup::node", %err, path = %db_path.display(), "cannot read the free disk space");
            return None;
        }
    };
    let free_mib = free >> 20;
    (free_mib < min_mib).then(|| {
        format!(
            "only {free_mib} MiB free on the filesystem of {} (--min-free-disk {min_mib}): the \
             database cannot commit on a full disk, so the node stops here with everything it \
             committed intact; free some space (or lower --min-free-disk) and start it again",
            db_path.display()
        )
    })
}

/// Watches the free space under `db_path` until `cancel` fires; below `min_mib` it logs why,
/// cancels the node and returns the message.
async fn watch_free_disk(
    db_path: std::path::PathBuf,
    min_mib: u64,
    cancel: CancellationToken,
) -> Option<String> {
    if min_mib == 0 {
        return None;
    }
    loop {
        tokio::select! {
            () = cancel.cancelled() => return None,
            () = tokio::time::sleep(DISK_CHECK_INTERVAL) => {}
        }
        if let Some(low) = low_disk(&db_path, min_mib) {
            tracing::error!(target: "rollup::node", "{low}");
            cancel.cancel();
            return Some(low);
        }
    }
}

/// Runs follower and core (or the sequencer loop around the core) together; restarts the
/// follower from the stored cursor when the core asks for it (a reset) or the follower fails.
async fn follow_l1(
    node: &mut RollupNode,
    services: &Services,
    config: L1FollowerConfig,
    mut l1_checked: bool,
    cancel: &CancellationToken,
) -> eyre::Result<()> {
    let mut backoff = Duration::from_millis(200);
    while !cancel.is_cancelled() {
        if !l1_checked {
            let rollup_config = node.config().clone();
            let checked = tokio::select! {
                _ = cancel.cancelled() => break,
                checked = check_l1_chain(&rollup_config, &config.url, None, None) => checked?,
            };
            if !checked {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
            l1_checked = true;
            backoff = Duration::from_millis(200);
        }
        let known = node.recent_l1_blocks(KNOWN_L1_BLOCKS)?;
        let follower = tokio::select! {
            _ = cancel.cancelled() => break,
            follower = L1Follower::new(config.clone(), known) => follower,
        };
        let follower = match follower {
            Ok(follower) => follower,
            Err(err) => {
                warn!(target: "rollup::node", %err, retry_in = ?backoff, "cannot start following L1");
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        let (tx, rx) = mpsc::channel(16);
        let (finalized_tx, finalized_rx) = tokio::sync::watch::channel(BlockNumHash::default());
        let follower = follower
            .with_finalized(finalized_tx)
            .with_known_blobs(services.known_blobs())
            .with_health(services.health().role("l1-follower"));
        let l1_finalized = L1Finalized::new(finalized_rx);
        let follower_cancel = cancel.child_token();
        let follower_task = tokio::spawn(follower.run(tx, follower_cancel.clone()));
        let (finished_tx, mut finished_rx) = mpsc::unbounded_channel::<BlockNumHash>();
        let finished_log = tokio::spawn(async move {
            while let Some(height) = finished_rx.recv().await {
                debug!(target: "rollup::node", l1_block = height.number, "finished height");
            }
        });
        let result = services
            .drive(node, rx, finished_tx, l1_finalized, cancel.clone())
            .await;
        follower_cancel.cancel();
        let follower_result = follower_task.await;
        finished_log.abort();
        match result {
            Err(err) if err.is_reset() => {
                warn!(target: "rollup::node", %err, "resetting the L1 follower to the stored cursor");
            }
            Err(err) => return Err(err.into()),
            Ok(()) => match follower_result {
                Ok(Err(err)) => {
                    warn!(target: "rollup::node", %err, "L1 follower stopped; restarting it");
                    tokio::time::sleep(backoff).await;
                }
                Err(join) if join.is_panic() => {
                    return Err(eyre::eyre!("L1 follower panicked: {join}"));
                }
                _ => {}
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_disk_says_how_much_is_free_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let free_mib = rollup_storage::free_disk_bytes(dir.path()).unwrap() >> 20;
        assert_eq!(low_disk(dir.path(), 0), None, "0 turns the check off");
        assert_eq!(low_disk(dir.path(), 1), None);
        let low = low_disk(dir.path(), free_mib + 1_000_000).unwrap();
        assert!(low.contains("MiB free on the filesystem of"), "{low}");
        assert!(
            low.contains("free some space (or lower --min-free-disk)"),
            "{low}"
        );
    }

    /// The JSON-RPC server and the metrics endpoint on one address is named as that, not as a
    /// port some other process took.
    #[test]
    fn one_address_for_rpc_and_metrics_is_refused_as_such() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "rollup-node",
            "node",
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "http://127.0.0.1:8545",
            "--rpc-addr",
            "127.0.0.1:1",
            "--metrics-addr",
            "127.0.0.1:1",
        ])
        .unwrap();
        let crate::cli::Command::Node(args) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        let mut run = args.run;
        let err = check_listen_addrs(&run).unwrap_err().to_string();
        assert!(err.contains("take the same port"), "{err}");
        run.rpc_addr = "0.0.0.0:1".parse().unwrap();
        let err = check_listen_addrs(&run).unwrap_err().to_string();
        assert!(err.contains("take the same port"), "{err}");
        // Port 0: each gets a port of its own.
        run.rpc_addr = "127.0.0.1:0".parse().unwrap();
        run.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        check_listen_addrs(&run).unwrap();
    }

    /// A running node whose disk runs low is cancelled, with the reason.
    #[tokio::test]
    async fn the_watcher_cancels_the_node_when_the_disk_runs_low() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let low = watch_free_disk(dir.path().to_path_buf(), u64::MAX >> 21, cancel.clone()).await;
        assert!(low.unwrap().contains("--min-free-disk"));
        assert!(cancel.is_cancelled());
        // With room to spare it waits for the node to stop.
        let cancel = CancellationToken::new();
        let watcher = tokio::spawn(watch_free_disk(dir.path().to_path_buf(), 1, cancel.clone()));
        tokio::time::sleep(DISK_CHECK_INTERVAL + Duration::from_millis(500)).await;
        assert!(!watcher.is_finished());
        cancel.cancel();
        assert_eq!(watcher.await.unwrap(), None);
    }
}
