//! `--sustained`: a load held above the L1 data bound for a span of L1 time.
//!
//! A fresh anvil mining every `--l1-block-time` seconds and the real `rollup-node devnet`, its
//! throttle set to `--l1-bytes-per-block`. Simulated users offer a fixed rate of sends; each
//! sender sends its nonces in order, one at a time, and resends a refused transaction after a
//! back-off before anything newer. A watcher records the block each transaction was first seen
//! in; at checkpoints and at the end the receipts must still be there, successful, in that
//! block. `rollup_syncStatus` is sampled throughout for the heads and the throttle's backlog;
//! after the load the batches are read back from L1 to compare the bytes used with the bound.

mod served;
mod users;

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use alloy_rpc_client::RpcClient;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::{
    CpuProbe, L2_CHAIN_ID,
    load::{self, Watcher, batch_call, call, quantity},
    procs,
    workload::{self, Accounts, Kind},
};
use served::{Rng, Served, Vanished};
use users::{Answer, Outgoing, Sender, Tally};

/// Transactions each sender keeps signed ahead of its next send.
const SIGN_AHEAD: usize = 4;
/// A send with no answer after this long counts as a transport failure (and is resent).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the watcher asks for new L2 blocks.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// After the load: how long the pool may go without including an accepted transaction.
const DRAIN_IDLE: Duration = Duration::from_secs(60);

/// What `--sustained` runs.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// L1 time to hold the load for (the L1 timestamp span).
    pub(crate) duration: Duration,
    pub(crate) kind: Kind,
    /// Sends per second offered, resends included.
    pub(crate) rate: f64,
    pub(crate) senders: usize,
    /// JSON-RPC requests in flight, each on its own client.
    pub(crate) connections: usize,
    /// Most transactions per JSON-RPC batch.
    pub(crate) rpc_batch: usize,
    /// Back-off before a refused transaction is resent.
    pub(crate) retry_after: Duration,
    /// anvil's `--block-time`, seconds.
    pub(crate) l1_block_time: u64,
    /// The node's `--sequencer-l1-bytes-per-block`.
    pub(crate) l1_bytes_per_block: u64,
    /// Where its batcher puts batches.
    pub(crate) batcher_data: crate::BatcherData,
    /// The sequencer's `--block-time`.
    pub(crate) block_time: String,
    /// The node's `--batcher-interval`.
    pub(crate) batcher_interval: String,
    /// How often `rollup_syncStatus` is sampled.
    pub(crate) status_every: Duration,
    /// How often served receipts are sampled during the load.
    pub(crate) checkpoint_every: Duration,
    /// How many served receipts each checkpoint checks.
    pub(crate) checkpoint_sample: usize,
    pub(crate) node_bin: PathBuf,
    pub(crate) anvil_bin: PathBuf,
}

/// The users, shared by the signer, the dispatcher and the answers.
#[derive(Debug, Default)]
struct Users {
    senders: Vec<Sender>,
    /// Where the dispatcher's round-robin over the senders resumes.
    cursor: usize,
    /// Every transaction sent at least once.
    offered: HashSet<B256>,
    /// Every transaction the node took.
    accepted: HashSet<B256>,
    tally: Tally,
}

impl Users {
    /// Up to `n` transactions to send now, round-robin over the senders that have one.
    fn take(&mut self, n: usize, now: Instant) -> Vec<Outgoing> {
        let count = self.senders.len();
        let mut out = Vec::with_capacity(n);
        let mut resume = self.cursor;
        for step in 0..count {
            if out.len() == n {
                break;
            }
            let index = (self.cursor + step) % count;
            if let Some(tx) = self.senders[index].take(index, now) {
                self.offered.insert(tx.tx.hash);
                out.push(tx);
                resume = (index + 1) % count;
            }
        }
        self.cursor = resume;
        out
    }
}

/// One `rollup_syncStatus` sample with the heads' timestamps and L1's head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Since the load started.
    pub(crate) wall: Duration,
    pub(crate) l1_block: u64,
    pub(crate) l1_timestamp: u64,
    pub(crate) unsafe_head: u64,
    pub(crate) safe_head: u64,
    pub(crate) unsafe_timestamp: u64,
    pub(crate) safe_timestamp: u64,
    pub(crate) backlog_bytes: u64,
    pub(crate) backlog_blocks: u64,
    pub(crate) throttled: bool,
}

/// How the safe head kept pace with the unsafe head over a run's samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Pace {
    pub(crate) max_lag_blocks: u64,
    pub(crate) max_lag_secs: u64,
    pub(crate) final_lag_blocks: u64,
    pub(crate) final_lag_secs: u64,
    pub(crate) max_backlog_bytes: u64,
    pub(crate) max_backlog_blocks: u64,
    /// Share of samples in which the sequencer was throttled.
    pub(crate) throttled_share: f64,
    /// The longest wall time the safe head stood still between samples.
    pub(crate) longest_safe_stall: Duration,
}

impl Pace {
    pub(crate) fn of(samples: &[Sample]) -> Self {
        let mut pace = Self::default();
        let lag = |s: &Sample| {
            (
                s.unsafe_head.saturating_sub(s.safe_head),
                s.unsafe_timestamp.saturating_sub(s.safe_timestamp),
            )
        };
        let mut moved_at: Option<(u64, Duration)> = None;
        for sample in samples {
            let (blocks, secs) = lag(sample);
            pace.max_lag_blocks = pace.max_lag_blocks.max(blocks);
            pace.max_lag_secs = pace.max_lag_secs.max(secs);
            pace.max_backlog_bytes = pace.max_backlog_bytes.max(sample.backlog_bytes);
            pace.max_backlog_blocks = pace.max_backlog_blocks.max(sample.backlog_blocks);
            match moved_at {
                Some((safe, since)) if safe == sample.safe_head => {
                    pace.longest_safe_stall = pace.longest_safe_stall.max(sample.wall - since);
                }
                _ => moved_at = Some((sample.safe_head, sample.wall)),
            }
        }
        if let Some(last) = samples.last() {
            (pace.final_lag_blocks, pace.final_lag_secs) = lag(last);
            pace.throttled_share =
                samples.iter().filter(|s| s.throttled).count() as f64 / samples.len() as f64;
        }
        pace
    }
}

/// The backlog the throttle allows: what `l1_bytes_per_block` posts in the sequencing window
/// less the margin the sequencer keeps (the node's own [`rollup_sequencer::DaConfig`]).
pub(crate) fn backlog_bound(sequencing_window: u64, l1_bytes_per_block: u64) -> (u64, u64) {
    let margin = rollup_sequencer::DaConfig::for_window(sequencing_window).margin_blocks;
    let blocks = sequencing_window.saturating_sub(margin);
    (blocks, blocks * l1_bytes_per_block)
}

/// Runs the sustained load and prints its report; `Ok(false)` when a check failed.
pub(crate) async fn run(opts: &Options) -> eyre::Result<bool> {
    println!(
        "\n=== sustained load: {} workload, {} s of L1 time ({} s L1 blocks, {} bytes per L1 block), {:.0} sends/s offered by {} senders over {} connections, RPC batches of up to {}, resend after {} ms ===",
        opts.kind.name(),
        opts.duration.as_secs(),
        opts.l1_block_time,
        opts.l1_bytes_per_block,
        opts.rate,
        opts.senders,
        opts.connections,
        opts.rpc_batch,
        opts.retry_after.as_millis()
    );
    let plan = workload::build(opts.kind, L2_CHAIN_ID, 0, opts.senders)?;
    let accounts = Arc::new(Accounts::new(opts.senders)?);
    let dir = tempfile::tempdir()?;
    let (l1_proc, l1_url) =
        procs::start_anvil(&opts.anvil_bin, Some(&opts.l1_block_time.to_string()), &[]).await?;
    let bytes_per_block = opts.l1_bytes_per_block.to_string();
    let devnet = procs::start_devnet(
        &opts.node_bin,
        &opts.anvil_bin,
        &l1_url,
        &dir.path().join("sequencer"),
        &[
            "--block-time",
            &opts.block_time,
            "--batcher-interval",
            &opts.batcher_interval,
            "--sequencer-l1-bytes-per-block",
            &bytes_per_block,
            "--batcher-data",
            opts.batcher_data.as_flag(),
        ],
    )
    .await?;
    let mut node = devnet.node;
    let l2 = load::client(&devnet.l2_url)?;
    let l1 = load::client(&l1_url)?;
    let setup_start = Instant::now();
    crate::run_setup(&devnet.l2_url, &plan, 16)
        .await
        .map_err(|e| eyre::eyre!("setup: {e:#}{}", node.log_tail()))?;
    let (unsafe_head, _, _) = crate::sync_status(&l2).await?;
    crate::wait_safe(&l2, unsafe_head, &mut node).await?;
    let rollup: Value = serde_json::from_str(&std::fs::read_to_string(
        devnet.datadir.join("rollup.json"),
    )?)?;
    let window = quantity(&rollup["sequencingWindow"])
        .ok_or_else(|| eyre::eyre!("rollup.json has no sequencingWindow"))?;
    let (bound_blocks, bound_bytes) = backlog_bound(window, opts.l1_bytes_per_block);
    println!(
        "setup included and safe in {:.1} s; sequencing window {window} L1 blocks, backlog bound {bound_bytes} bytes ({bound_blocks} L1 blocks × {} bytes)",
        setup_start.elapsed().as_secs_f64(),
        opts.l1_bytes_per_block
    );

    // The users, with every sender's first transactions signed before the clock starts.
    let users = Arc::new(Mutex::new(Users {
        senders: (0..opts.senders).map(|_| Sender::default()).collect(),
        ..Default::default()
    }));
    let stop_load = Arc::new(AtomicBool::new(false));
    let signer = spawn_signer(users.clone(), accounts, opts.kind, stop_load.clone());
    procs::wait_for(
        Duration::from_secs(60),
        "the first signatures",
        async || {
            let users = users.lock().unwrap();
            Ok(users
                .senders
                .iter()
                .all(|s| s.wants_signed(SIGN_AHEAD).is_none())
                .then_some(()))
        },
    )
    .await?;

    let served = Arc::new(Mutex::new(Served::default()));
    let stop_watch = Arc::new(AtomicBool::new(false));
    let start_head = quantity(&call(&l2, "eth_blockNumber", json!([])).await?).unwrap_or(0);
    let watcher = spawn_watcher(l2.clone(), start_head, served.clone(), stop_watch.clone());
    let l1_start = l1_head(&l1).await?;
    let probe = CpuProbe::start(&[("node", &node), ("L1 anvil", &l1_proc)]);
    let start = Instant::now();
    let clients = (0..opts.connections.max(1))
        .map(|_| load::client(&devnet.l2_url))
        .collect::<eyre::Result<Vec<_>>>()?;
    let dispatcher = tokio::spawn(dispatch(
        users.clone(),
        clients,
        opts.clone(),
        stop_load.clone(),
    ));

    // Sample, check and report until the L1 span is reached.
    let mut samples = Vec::new();
    let (mut status_errors, mut first_status_error) = (0u64, None);
    let mut rng = Rng::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    let (mut checkpoints, mut next_checkpoint) = (0usize, start + opts.checkpoint_every);
    let mut next_progress = start + PROGRESS_EVERY;
    let wall_limit = opts.duration * 3 + Duration::from_secs(120);
    let mut next_sample = start;
    let mut failure = None;
    loop {
        next_sample += opts.status_every;
        tokio::time::sleep_until(next_sample.into()).await;
        if let Err(err) = node.check_alive() {
            failure = Some(err);
            break;
        }
        match sample(&l2, &l1, start).await {
            Ok(s) => samples.push(s),
            Err(err) => {
                status_errors += 1;
                first_status_error.get_or_insert(format!("{err:#}"));
            }
        }
        let l1_span = samples
            .last()
            .map_or(0, |s| s.l1_timestamp.saturating_sub(l1_start.1));
        if Instant::now() >= next_progress {
            next_progress += PROGRESS_EVERY;
            print_progress(&users, &served, samples.last(), l1_span, start);
        }
        if Instant::now() >= next_checkpoint {
            next_checkpoint += opts.checkpoint_every;
            checkpoints += 1;
            let picked = served
                .lock()
                .unwrap()
                .sample(opts.checkpoint_sample, &mut rng);
            match check_receipts(&l2, &served, &picked).await {
                Ok(gone) => {
                    let (seen, vanished) = {
                        let served = served.lock().unwrap();
                        (served.len(), served.vanished().len())
                    };
                    println!(
                        "  checkpoint {checkpoints} at L1 +{l1_span} s: {} of {seen} served transactions sampled, {gone} vanished; {vanished} vanished in all so far",
                        picked.len()
                    );
                }
                Err(err) => println!("  checkpoint {checkpoints}: cannot read receipts: {err:#}"),
            }
        }
        if l1_span >= opts.duration.as_secs() {
            break;
        }
        if start.elapsed() > wall_limit {
            failure = Some(eyre::eyre!(
                "L1 time advanced only {l1_span} s in {:.0} s of wall time",
                start.elapsed().as_secs_f64()
            ));
            break;
        }
    }

    // Stop offering; what is in flight is answered first.
    stop_load.store(true, Ordering::SeqCst);
    let limits = dispatcher.await?;
    let signed = signer
        .join()
        .map_err(|_| eyre::eyre!("the signer panicked"))??;
    let load_wall = start.elapsed();
    let cpu = probe.report();
    if let Some(err) = failure {
        stop_watch.store(true, Ordering::SeqCst);
        return Err(err.wrap_err(format!("the load stopped early{}", node.log_tail())));
    }
    let l1_stop = l1_head(&l1).await?;
    let (stop_unsafe, _, _) = crate::sync_status(&l2).await?;
    let (tally, offered, accepted) = {
        let users = users.lock().unwrap();
        (
            users.tally.clone(),
            users.offered.clone(),
            users.accepted.clone(),
        )
    };
    let included_during = {
        // The watcher may trail the head by a poll.
        tokio::time::sleep(WATCH_EVERY * 2).await;
        let served = served.lock().unwrap();
        served
            .all()
            .iter()
            .filter(|h| offered.contains(*h))
            .filter(|h| served.get(h).is_some_and(|i| i.block <= stop_unsafe))
            .count()
    };

    // Let the pool drain: every accepted transaction should be included.
    let drain_start = Instant::now();
    let mut last = (usize::MAX, Instant::now());
    let never_included = loop {
        let missing = {
            let served = served.lock().unwrap();
            accepted.iter().filter(|h| served.get(h).is_none()).count()
        };
        if missing != last.0 {
            last = (missing, Instant::now());
        }
        if missing == 0 || last.1.elapsed() > DRAIN_IDLE {
            break missing;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let drain = drain_start.elapsed();
    let (final_unsafe, _, _) = crate::sync_status(&l2).await?;
    let catch_up_start = Instant::now();
    let caught_up = crate::wait_safe(&l2, final_unsafe, &mut node).await;
    let catch_up = catch_up_start.elapsed();
    stop_watch.store(true, Ordering::SeqCst);
    let watch = watcher.await?;
    let included_in_all = {
        let served = served.lock().unwrap();
        served.all().iter().filter(|h| offered.contains(*h)).count()
    };

    // Every served receipt, once the safe head has caught up.
    let all: Vec<B256> = served.lock().unwrap().all().to_vec();
    let final_check = check_receipts(&l2, &served, &all).await;
    let (vanished, no_receipt, failed, moved) = {
        let served = served.lock().unwrap();
        let vanished = served.vanished();
        let count = |f: fn(&Vanished) -> bool| vanished.values().filter(|v| f(v)).count();
        (
            vanished.len(),
            count(|v| *v == Vanished::NoReceipt),
            count(|v| *v == Vanished::Failed),
            count(|v| matches!(v, Vanished::Moved { .. })),
        )
    };
    let batches =
        crate::l1::scan_batches(&l1, &l1_url, devnet.inbox, l1_start.0 + 1, l1_stop.0).await;

    // The report.
    let pace = Pace::of(&samples);
    let wall = load_wall.as_secs_f64();
    let l1_span = l1_stop.1.saturating_sub(l1_start.1);
    println!("\n==================== sustained load ====================");
    println!(
        "L1 time: blocks {}..{} ({} blocks, {l1_span} s of L1 timestamps) in {wall:.1} s of wall time",
        l1_start.0,
        l1_stop.0,
        l1_stop.0 - l1_start.0
    );
    println!(
        "offered: {} sends ({:.0}/s, target {:.0}/s), {} of them resends of refused transactions; {} distinct transactions, {} signed",
        tally.offered,
        tally.offered as f64 / wall,
        opts.rate,
        tally.resent,
        offered.len(),
        signed
    );
    if limits.no_connection + limits.no_sender > 0 {
        println!(
            "  the offered rate was held back {} times by busy connections and {} times by every sender waiting (in flight or backing off)",
            limits.no_connection, limits.no_sender
        );
    }
    println!(
        "accepted: {} ({:.0}/s)",
        tally.accepted,
        tally.accepted as f64 / wall
    );
    println!("refused: {} with a message:", tally.refused_total());
    for (kind, (count, first)) in &tally.refused {
        println!("  {count:>9}  {kind}");
        if first != kind {
            println!("             (first: {first})");
        }
    }
    println!(
        "failures: {} refusals without a message{}, {} sends without a JSON-RPC answer{}",
        tally.no_message.0,
        tally
            .no_message
            .1
            .map(|c| format!(" (first code {c})"))
            .unwrap_or_default(),
        tally.transport.0,
        tally
            .transport
            .1
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    println!(
        "included: {included_during} of the bench's transactions in L2 blocks {}..={stop_unsafe} during the load: {:.0} tx/s over the wall time, {:.0} tx/s over the L1 span; {} more while the pool drained ({:.1} s); accepted but never included: {never_included}",
        start_head + 1,
        included_during as f64 / wall,
        included_during as f64 / l1_span.max(1) as f64,
        included_in_all - included_during,
        drain.as_secs_f64()
    );
    println!(
        "served receipts: {} transactions seen in served blocks; {checkpoints} checkpoints of up to {} during the load and all of them at the end{}; vanished: {vanished} (no receipt {no_receipt}, failed {failed}, in another block {moved})",
        all.len(),
        opts.checkpoint_sample,
        match &final_check {
            Ok(_) => String::new(),
            Err(err) => format!(" (the final check could not read receipts: {err:#})"),
        }
    );
    if watch.errors > 0 || watch.rewinds > 0 {
        println!(
            "  watcher: {} failed polls{}, the head went backwards {} times",
            watch.errors,
            watch
                .first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            watch.rewinds
        );
    }
    println!(
        "safe head: unsafe − safe at most {} blocks / {} s, {} blocks / {} s when the load stopped; longest safe-head stall {:.0} s; {} ({} samples every {} s{})",
        pace.max_lag_blocks,
        pace.max_lag_secs,
        pace.final_lag_blocks,
        pace.final_lag_secs,
        pace.longest_safe_stall.as_secs_f64(),
        match &caught_up {
            Ok(()) => format!(
                "reached the final unsafe head {final_unsafe} {:.1} s after the pool drained",
                catch_up.as_secs_f64()
            ),
            Err(err) => format!("did NOT reach the final unsafe head {final_unsafe}: {err:#}"),
        },
        samples.len(),
        opts.status_every.as_secs_f64(),
        if status_errors > 0 {
            format!(
                ", {status_errors} failed: {}",
                first_status_error.as_deref().unwrap_or("")
            )
        } else {
            String::new()
        }
    );
    println!(
        "backlog: at most {} bytes / {} L2 blocks vs the bound {bound_bytes} bytes ({:.0}%); throttled in {:.0}% of the samples (it switches per L2 block, so samples miss most of it)",
        pace.max_backlog_bytes,
        pace.max_backlog_blocks,
        pace.max_backlog_bytes as f64 * 100.0 / bound_bytes.max(1) as f64,
        pace.throttled_share * 100.0
    );
    let available = opts.l1_bytes_per_block as f64 / opts.l1_block_time as f64;
    match &batches {
        Ok(stats) => {
            let span = l1_span.max(1) as f64;
            println!(
                "L1 data: {} batches ({} in {} blobs) in L1 blocks {}..={} carrying {} L2 txs; batch bytes {:.0}/s (calldata {:.0}/s) vs {available:.0} bytes/s available ({} bytes per L1 block / {} s): {:.0}%; {:.1} L1 bytes per L2 tx",
                stats.batches,
                stats.blob_batches,
                stats.blobs,
                l1_start.0 + 1,
                l1_stop.0,
                stats.l2_txs,
                stats.payload as f64 / span,
                stats.calldata as f64 / span,
                opts.l1_bytes_per_block,
                opts.l1_block_time,
                stats.payload as f64 * 100.0 / span / available,
                stats.l1_bytes_per_tx()
            );
            if stats.other_inbox_txs > 0 {
                println!(
                    "  {} other transactions to the inbox (forced inclusions) are not counted",
                    stats.other_inbox_txs
                );
            }
            if stats.reverted > 0 {
                println!(
                    "  {} batch transactions reverted on L1; their gas is in the L1 gas below",
                    stats.reverted
                );
            }
            println!(
                "L1 gas: {} for the batches ({:.0} gas/s, {:.0} per L1 block, {:.0} per L2 tx); blob gas {} ({:.0} per L2 tx)",
                stats.l1_gas,
                stats.l1_gas as f64 / span,
                stats.l1_gas as f64 / (l1_stop.0 - l1_start.0).max(1) as f64,
                stats.l1_gas as f64 / stats.l2_txs.max(1) as f64,
                stats.blob_gas,
                stats.blob_gas as f64 / stats.l2_txs.max(1) as f64
            );
        }
        Err(err) => println!("L1 data: cannot read the batches from L1: {err:#}"),
    }
    println!("{cpu}");
    let node_log: Vec<String> = std::fs::read_to_string(devnet.datadir.join("node.log"))
        .unwrap_or_default()
        .lines()
        .map(procs::strip_ansi)
        .collect();
    let count = |needle: &str| node_log.iter().filter(|l| l.contains(needle)).count();
    println!(
        "node log: the throttle went on {} times and off {} times; {} WARN and {} ERROR lines",
        count("L1 data backlog at its bound"),
        count("L1 data backlog drained"),
        count(" WARN "),
        count(" ERROR ")
    );
    // What they said: the first few, so a run shows whether they are expected.
    for line in node_log
        .iter()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .take(5)
    {
        println!("  {}", line.chars().take(300).collect::<String>());
    }

    let throttled_refusals = tally
        .refused
        .keys()
        .any(|k| k.starts_with("sequencer is throttled"));
    let held = l1_span >= opts.duration.as_secs();
    // Refusals, samples and the node's own log each see the throttle; any one will do.
    let past_bound = throttled_refusals
        || pace.throttled_share > 0.0
        || count("L1 data backlog at its bound") > 0;
    let checks = [
        ("the load held for the L1 span asked", held),
        (
            "the load went past the L1 data bound (the sequencer throttled)",
            past_bound,
        ),
        ("no served receipt vanished", vanished == 0),
        (
            "every served receipt was read at the end",
            final_check.is_ok(),
        ),
        (
            "every refusal carried a message and every send was answered",
            tally.failures() == 0,
        ),
        (
            "every accepted transaction was included",
            never_included == 0,
        ),
        ("the safe head caught up after the load", caught_up.is_ok()),
    ];
    println!("checks:");
    for (what, ok) in &checks {
        println!("  {} {what}", if *ok { "ok  " } else { "FAIL" });
    }
    drop(node);
    drop(l1_proc);
    let passed = checks.iter().all(|(_, ok)| *ok);
    if held && !past_bound {
        println!(
            "the backlog peaked at {:.0}% of its bound, so the run shows nothing about overload: raise --rate (now {}) or lower --l1-bytes-per-block (now {}); if the refusals above are mostly for the fee or a full pool, lowering the bytes is what helps",
            pace.max_backlog_bytes as f64 * 100.0 / bound_bytes.max(1) as f64,
            opts.rate,
            opts.l1_bytes_per_block
        );
    }
    if !passed {
        println!(
            "the node's datadir and log are kept in {}",
            dir.keep().display()
        );
    }
    Ok(passed)
}

/// Keeps every sender `SIGN_AHEAD` transactions ahead, on a thread of its own; returns how many
/// it signed.
fn spawn_signer(
    users: Arc<Mutex<Users>>,
    accounts: Arc<Accounts>,
    kind: Kind,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<eyre::Result<usize>> {
    std::thread::spawn(move || {
        let mut signed = 0usize;
        while !stop.load(Ordering::SeqCst) {
            let wants: Vec<(usize, u64, usize)> = users
                .lock()
                .unwrap()
                .senders
                .iter()
                .enumerate()
                .filter_map(|(s, sender)| {
                    sender
                        .wants_signed(SIGN_AHEAD)
                        .map(|(first, count)| (s, first, count))
                })
                .collect();
            if wants.is_empty() {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            for (s, first, count) in wants {
                let txs = (first..first + count as u64)
                    .map(|nonce| {
                        signed += 1;
                        accounts.measured(kind, L2_CHAIN_ID, signed, s, nonce)
                    })
                    .collect::<eyre::Result<Vec<_>>>()?;
                users.lock().unwrap().senders[s].signed(first, txs);
            }
        }
        Ok(signed)
    })
}

/// How often the dispatcher could not offer what the rate asked.
#[derive(Debug, Default, Clone, Copy)]
struct Limits {
    /// Every connection had a request in flight.
    no_connection: u64,
    /// No sender had a transaction ready (all in flight or backing off).
    no_sender: u64,
}

/// Offers `opts.rate` sends per second until `stop`, then waits for the answers in flight.
async fn dispatch(
    users: Arc<Mutex<Users>>,
    clients: Vec<RpcClient>,
    opts: Options,
    stop: Arc<AtomicBool>,
) -> Limits {
    let connections = clients.len();
    let permits = Arc::new(Semaphore::new(connections));
    let mut limits = Limits::default();
    let tick = Duration::from_millis(10);
    // At most half a second of sends is made up after a stall.
    let most = (opts.rate / 2.0).max(1.0);
    let mut budget = 0.0f64;
    let mut last = Instant::now();
    let mut next_client = 0usize;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(tick).await;
        let now = Instant::now();
        budget = (budget + opts.rate * (now - last).as_secs_f64()).min(most);
        last = now;
        while budget >= 1.0 {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                limits.no_connection += 1;
                break;
            };
            let want = (budget as usize).min(opts.rpc_batch.max(1));
            let txs = users.lock().unwrap().take(want, now);
            if txs.is_empty() {
                limits.no_sender += 1;
                break;
            }
            budget -= txs.len() as f64;
            let client = clients[next_client % connections].clone();
            next_client += 1;
            let (answered, back_off) = (users.clone(), opts.retry_after);
            tokio::spawn(async move {
                let answers = send(&client, &txs).await;
                let now = Instant::now();
                let mut users = answered.lock().unwrap();
                for (out, answer) in txs.into_iter().zip(answers) {
                    users.tally.record(&answer, out.resend);
                    if answer == Answer::Accepted {
                        users.accepted.insert(out.tx.hash);
                    }
                    let sender = out.sender;
                    users.senders[sender].answered(out, &answer, now, back_off);
                }
                drop(permit);
            });
        }
    }
    let _ = permits.acquire_many(connections as u32).await;
    limits
}

/// Sends `txs` as one JSON-RPC batch (or one request for one transaction); an answer per
/// transaction.
async fn send(client: &RpcClient, txs: &[Outgoing]) -> Vec<Answer> {
    let all = |answer: Answer| vec![answer; txs.len()];
    let timed_out = || Answer::Transport(format!("no answer within {SEND_TIMEOUT:?}"));
    if let [one] = txs {
        let call = client.request::<_, Value>("eth_sendRawTransaction", json!([one.tx.raw]));
        return match tokio::time::timeout(SEND_TIMEOUT, call).await {
            Ok(result) => vec![Answer::of(&result)],
            Err(_) => vec![timed_out()],
        };
    }
    let mut batch = client.new_batch();
    let waiters = match txs
        .iter()
        .map(|out| batch.add_call::<_, Value>("eth_sendRawTransaction", &json!([out.tx.raw])))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(waiters) => waiters,
        Err(err) => return all(Answer::Transport(err.to_string())),
    };
    let answers = async {
        if let Err(err) = batch.send().await {
            return all(Answer::Transport(err.to_string()));
        }
        let mut answers = Vec::with_capacity(txs.len());
        for waiter in waiters {
            answers.push(Answer::of(&waiter.await));
        }
        answers
    };
    tokio::time::timeout(SEND_TIMEOUT, answers)
        .await
        .unwrap_or_else(|_| all(timed_out()))
}

/// What the watcher saw go wrong.
#[derive(Debug, Default)]
struct WatchReport {
    errors: u64,
    first_error: Option<String>,
    rewinds: u64,
}

/// Records every served block's transactions until `stop`.
fn spawn_watcher(
    l2: RpcClient,
    start_head: u64,
    served: Arc<Mutex<Served>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<WatchReport> {
    tokio::spawn(async move {
        let mut heads = Watcher::from(start_head);
        let mut report = WatchReport::default();
        loop {
            // One more poll after `stop`, so what the caller waited for is recorded.
            let last_round = stop.load(Ordering::SeqCst);
            match heads.poll(&l2).await {
                Ok(blocks) => {
                    let mut served = served.lock().unwrap();
                    for block in blocks {
                        served.record(block.number, block.hash, &block.txs);
                    }
                }
                Err(err) => {
                    report.errors += 1;
                    report.first_error.get_or_insert(format!("{err:#}"));
                }
            }
            if last_round {
                report.rewinds = heads.rewinds();
                return report;
            }
            tokio::time::sleep(WATCH_EVERY).await;
        }
    })
}

/// L1's head: number and timestamp.
async fn l1_head(l1: &RpcClient) -> eyre::Result<(u64, u64)> {
    let block = call(l1, "eth_getBlockByNumber", json!(["latest", false])).await?;
    Ok((
        quantity(&block["number"]).unwrap_or_default(),
        quantity(&block["timestamp"]).unwrap_or_default(),
    ))
}

async fn sample(l2: &RpcClient, l1: &RpcClient, start: Instant) -> eyre::Result<Sample> {
    let status = call(l2, "rollup_syncStatus", json!([])).await?;
    let wall = start.elapsed();
    let number = |head: &str| quantity(&status[head]["number"]).unwrap_or(0);
    let (unsafe_head, safe_head) = (number("unsafeL2"), number("safeL2"));
    let heads = batch_call(
        l2,
        "eth_getBlockByNumber",
        vec![
            json!([format!("{unsafe_head:#x}"), false]),
            json!([format!("{safe_head:#x}"), false]),
        ],
        2,
    )
    .await?;
    let (l1_block, l1_timestamp) = l1_head(l1).await?;
    let backlog = &status["daBacklog"];
    Ok(Sample {
        wall,
        l1_block,
        l1_timestamp,
        unsafe_head,
        safe_head,
        unsafe_timestamp: quantity(&heads[0]["timestamp"]).unwrap_or_default(),
        safe_timestamp: quantity(&heads[1]["timestamp"]).unwrap_or_default(),
        backlog_bytes: quantity(&backlog["bytes"]).unwrap_or_default(),
        backlog_blocks: quantity(&backlog["blocks"]).unwrap_or_default(),
        throttled: backlog["throttled"].as_bool().unwrap_or(false),
    })
}

/// Reads the receipts of `hashes` and checks each against the block it was first seen in;
/// returns how many are not there, failed or moved.
async fn check_receipts(
    l2: &RpcClient,
    served: &Mutex<Served>,
    hashes: &[B256],
) -> eyre::Result<usize> {
    let params = hashes.iter().map(|h| json!([h])).collect();
    let receipts = batch_call(l2, "eth_getTransactionReceipt", params, 200).await?;
    let mut served = served.lock().unwrap();
    Ok(hashes
        .iter()
        .zip(&receipts)
        .filter(|(hash, receipt)| served.check(**hash, receipt).is_some())
        .count())
}

fn print_progress(
    users: &Mutex<Users>,
    served: &Mutex<Served>,
    last: Option<&Sample>,
    l1_span: u64,
    start: Instant,
) {
    let tally = users.lock().unwrap().tally.clone();
    let seen = served.lock().unwrap().len();
    let wall = start.elapsed().as_secs_f64();
    let status = last.map_or_else(String::new, |s| {
        format!(
            "; unsafe {} safe {} (lag {} blocks / {} s), backlog {} bytes{}",
            s.unsafe_head,
            s.safe_head,
            s.unsafe_head.saturating_sub(s.safe_head),
            s.unsafe_timestamp.saturating_sub(s.safe_timestamp),
            s.backlog_bytes,
            if s.throttled { ", throttled" } else { "" }
        )
    });
    println!(
        "  L1 +{l1_span} s ({wall:.0} s wall): offered {} ({:.0}/s), accepted {}, refused {}, failures {}, {seen} txs seen included{status}",
        tally.offered,
        tally.offered as f64 / wall,
        tally.accepted,
        tally.refused_total(),
        tally.failures()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, unsafe_head: u64, safe_head: u64, throttled: bool) -> Sample {
        Sample {
            wall: Duration::from_secs(secs),
            unsafe_head,
            safe_head,
            unsafe_timestamp: unsafe_head / 10,
            safe_timestamp: safe_head / 10,
            backlog_bytes: (unsafe_head - safe_head) * 100,
            backlog_blocks: unsafe_head - safe_head,
            throttled,
            ..Default::default()
        }
    }

    #[test]
    fn pace_reports_the_worst_and_the_last_lag_and_the_longest_stall() {
        let samples = [
            at(0, 100, 90, false),
            at(2, 120, 90, true),
            at(4, 140, 90, true),
            at(6, 160, 150, false),
        ];
        let pace = Pace::of(&samples);
        assert_eq!((pace.max_lag_blocks, pace.max_lag_secs), (50, 5));
        assert_eq!((pace.final_lag_blocks, pace.final_lag_secs), (10, 1));
        assert_eq!(
            (pace.max_backlog_bytes, pace.max_backlog_blocks),
            (5000, 50)
        );
        assert_eq!(pace.throttled_share, 0.5);
        assert_eq!(pace.longest_safe_stall, Duration::from_secs(4));
        assert_eq!(Pace::of(&[]), Pace::default());
    }

    #[test]
    fn the_backlog_bound_keeps_the_sequencers_margin() {
        // The devnet: a 20-block window, a margin of a quarter of it.
        assert_eq!(backlog_bound(20, 20_000), (15, 300_000));
        // Short windows keep at least 2 blocks in hand.
        assert_eq!(backlog_bound(4, 1_000), (2, 2_000));
    }

    #[test]
    fn the_dispatcher_takes_round_robin_and_skips_senders_with_nothing_ready() {
        let mut users = Users {
            senders: (0..4).map(|_| Sender::default()).collect(),
            ..Default::default()
        };
        let tx = |n: u8| crate::workload::SignedTx {
            raw: Default::default(),
            hash: B256::with_last_byte(n),
        };
        for (s, sender) in users.senders.iter_mut().enumerate() {
            if s != 2 {
                sender.signed(0, vec![tx(s as u8 * 10), tx(s as u8 * 10 + 1)]);
            }
        }
        let now = Instant::now();
        let first: Vec<usize> = users.take(2, now).iter().map(|o| o.sender).collect();
        assert_eq!(first, [0, 1]);
        // 0 and 1 are in flight, 2 has nothing: only 3 is left.
        let second: Vec<usize> = users.take(4, now).iter().map(|o| o.sender).collect();
        assert_eq!(second, [3]);
        assert_eq!(users.offered.len(), 3);
    }
}
