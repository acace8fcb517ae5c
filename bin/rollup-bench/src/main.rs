//! `rollup-bench`: one signed workload, four measurements side by side.
//!
//! (a) raw revm in memory (the ceiling), (b) the sequencer end to end through JSON-RPC to
//! persisted, state-rooted blocks, (c) a replica deriving the same chain from L1, (d) anvil under
//! the same load through its JSON-RPC. With `--sustained`, instead: a load held above the L1
//! data bound for a span of L1 time, checking that no served receipt disappears and that the
//! safe head keeps pace. See `docs/benchmarks.md`.

mod blob_work;
mod l1;
mod load;
mod procs;
mod raw_revm;
mod sender;
mod sustained;
mod workload;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use clap::{Parser, ValueEnum};
use serde_json::json;

use crate::{
    load::{LoadResult, batch_call, call, percentile_ms, quantity},
    procs::{Proc, wait_for},
    workload::{Kind, Plan},
};

/// Chain id of the devnet L2 the bench starts.
const L2_CHAIN_ID: u64 = 42069;
/// anvil's chain id.
const ANVIL_CHAIN_ID: u64 = 31337;

/// The help heading of the flags that only `--sustained` takes.
const SUSTAINED: &str = "Sustained load (--sustained)";

/// Benchmarks the rollup against raw revm and anvil on one signed workload.
#[derive(Debug, Parser)]
#[command(
    name = "rollup-bench",
    about,
    long_about = None,
    after_help = "Two modes. Without --sustained: rows (a) raw revm, (b) the sequencer end to end, \
(c) a replica deriving from L1 and (d) anvil, on one workload signed up front. With \
--sustained 10m: a fresh anvil (--l1-block-time) and `rollup-node devnet` with its throttle at \
--l1-bytes-per-block; --senders users offer --rate sends/s (resending what is refused after \
--retry-after, nonces in order) for 10 minutes of L1 timestamps, then the report: offered, \
accepted, refused by message, failures, included tx/s, served receipts that vanished, the \
safe head's lag, the backlog against its bound and the L1 bytes/s and gas the batches used. \
Exits non-zero if a check fails. See docs/benchmarks.md."
)]
struct Args {
    /// Where the devnet's batcher puts batches: `blobs` (its default with anvil as L1) or
    /// `calldata`. Row (b)'s bytes/tx counts calldata and the blob bytes the batches fill.
    #[arg(long, value_enum, default_value_t = BatcherData::Blobs)]
    batcher_data: BatcherData,
    /// Which workload [default: all; eth with --sustained, which takes one].
    #[arg(long, value_enum)]
    workload: Option<WorkloadArg>,
    /// Measured transactions per workload.
    #[arg(long, default_value_t = 5000, conflicts_with = "sustained")]
    txs: usize,
    /// Distinct senders (funded in setup; transactions go round-robin over them) [default: 500;
    /// 580, the most the setup funds, with --sustained].
    #[arg(long)]
    senders: Option<usize>,
    /// JSON-RPC requests in flight [default: 16; 2 with --sustained, each on its own client].
    #[arg(long)]
    concurrency: Option<usize>,
    /// Transactions per JSON-RPC request (1: one `eth_sendRawTransaction` per HTTP request;
    /// more: JSON-RPC batches, at most 1 000 as the node and geth accept) [default: 1; with
    /// --sustained at most 200, fewer when the rate leaves fewer to send].
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
    rpc_batch: Option<usize>,
    /// Sequencer block time.
    #[arg(long, default_value = "100ms")]
    block_time: String,
    /// Block gas limit of the L2 (the devnet's `--l2-gas-limit`) and of the reference anvil
    /// (its `--gas-limit`), so rows (b) and (d) share it [default: 30000000]. At 100 ms blocks
    /// the default caps both at about 14 000 ETH transfers per second.
    #[arg(long, value_name = "GAS", default_value_t = 30_000_000, conflicts_with = "sustained", value_parser = clap::value_parser!(u64).range(30_000_000..))]
    l2_gas_limit: u64,
    /// Batcher interval.
    #[arg(long, default_value = "500ms")]
    batcher_interval: String,
    /// The rollup-node binary (default: next to this executable).
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// The anvil binary (default: the pinned one under node_modules, then PATH).
    #[arg(long)]
    anvil_bin: Option<PathBuf>,
    /// Block time of the reference anvil (row d), in seconds (fractions allowed); default: the
    /// sequencer's 100 ms (with the same --l2-gas-limit). `auto`: automine (a block per
    /// transaction).
    #[arg(long, default_value = "0.1", conflicts_with = "sustained")]
    anvil_block_time: String,
    /// Skip stages: any of raw, sequencer, anvil (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "sustained")]
    skip: Vec<String>,

    /// Instead of the four rows: time the node's KZG work (setup, commitments, both sidecar
    /// formats) on this many blobs in one thread, and exit. No node or L1 is started.
    #[arg(long, value_name = "BLOBS", conflicts_with = "sustained")]
    blob_work: Option<usize>,

    /// Instead of the four rows: hold a load above the L1 data bound for this much L1 time
    /// (the span of L1 block timestamps), e.g. `10m`, `90s`.
    #[arg(long, value_name = "L1_TIME", value_parser = parse_duration, help_heading = SUSTAINED)]
    sustained: Option<Duration>,
    /// Sends offered per second, resends of refused transactions included.
    #[arg(long, default_value_t = 3000.0, requires = "sustained", help_heading = SUSTAINED)]
    rate: f64,
    /// Seconds between L1 blocks: the `--block-time` of the anvil the bench starts as L1.
    #[arg(long, value_name = "SECONDS", default_value_t = 1, requires = "sustained", help_heading = SUSTAINED, value_parser = clap::value_parser!(u64).range(1..))]
    l1_block_time: u64,
    /// The node's `--sequencer-l1-bytes-per-block`: the L1 data rate its throttle counts on
    /// [default: the node's own, one full batch per L1 block: 120 000 bytes with calldata,
    /// 524 288 with blobs]. A smaller value shrinks the backlog the throttle allows but does
    /// not slow the batcher.
    #[arg(long, value_name = "BYTES", requires = "sustained", help_heading = SUSTAINED, value_parser = clap::value_parser!(u64).range(1..))]
    l1_bytes_per_block: Option<u64>,
    /// How long a user waits before resending a refused transaction (the same one: its nonce
    /// is not skipped).
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration, requires = "sustained", help_heading = SUSTAINED)]
    retry_after: Duration,
    /// How often `rollup_syncStatus` (heads, backlog, throttle) is sampled.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration, requires = "sustained", help_heading = SUSTAINED)]
    status_every: Duration,
    /// How often served receipts are sampled and checked during the load (all of them are
    /// checked at the end).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration, requires = "sustained", help_heading = SUSTAINED)]
    checkpoint_every: Duration,
    /// How many served receipts each checkpoint checks, picked at random.
    #[arg(long, value_name = "N", default_value_t = 500, requires = "sustained", help_heading = SUSTAINED)]
    checkpoint_sample: usize,
}

/// `90s`, `10m`, `500ms`, `1h`, or bare seconds; fractions allowed (`1.5s`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use e.g. 90s, 10m, 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("`{text}`: {err}"))
}

/// Where the devnet's batcher puts batches (`rollup-node --batcher-data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BatcherData {
    /// EIP-4844 blobs, the devnet's default.
    Blobs,
    /// Calldata.
    Calldata,
}

impl BatcherData {
    pub(crate) const fn as_flag(self) -> &'static str {
        match self {
            Self::Blobs => "blobs",
            Self::Calldata => "calldata",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WorkloadArg {
    Eth,
    Erc20,
    Mix,
    All,
}

/// One row of the table.
#[derive(Debug, Default, Clone)]
struct Row {
    tps: f64,
    mgas: f64,
    p50: Option<f64>,
    p99: Option<f64>,
    bytes: Option<f64>,
    l1_gas: Option<f64>,
}

type Stage = Result<Row, String>;

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start tokio: {err}");
            std::process::exit(1);
        }
    };
    print_machine();
    if let Some(blobs) = args.blob_work {
        if let Err(err) = blob_work::run(blobs) {
            eprintln!("blob work: {err:#}");
            std::process::exit(2);
        }
        return;
    }
    if let Some(duration) = args.sustained {
        let passed = sustained_options(&args, duration)
            .and_then(|opts| runtime.block_on(sustained::run(&opts)));
        match passed {
            Ok(true) => {}
            Ok(false) => std::process::exit(1),
            Err(err) => {
                eprintln!("sustained load: {err:#}");
                std::process::exit(2);
            }
        }
        return;
    }
    let kinds = match args.workload.unwrap_or(WorkloadArg::All) {
        WorkloadArg::Eth => vec![Kind::Eth],
        WorkloadArg::Erc20 => vec![Kind::Erc20],
        WorkloadArg::Mix => vec![Kind::Mix],
        WorkloadArg::All => vec![Kind::Eth, Kind::Erc20, Kind::Mix],
    };
    let mut tables = Vec::new();
    for kind in kinds {
        tables.push(runtime.block_on(bench(&args, kind)));
    }
    println!("\n==================== summary ====================");
    for table in tables {
        println!("{table}");
    }
}

fn sustained_options(args: &Args, duration: Duration) -> eyre::Result<sustained::Options> {
    let kind = match args.workload.unwrap_or(WorkloadArg::Eth) {
        WorkloadArg::Eth => Kind::Eth,
        WorkloadArg::Erc20 => Kind::Erc20,
        WorkloadArg::Mix => Kind::Mix,
        WorkloadArg::All => eyre::bail!("--sustained runs one workload: eth, erc20 or mix"),
    };
    eyre::ensure!(args.rate > 0.0, "--rate must be above 0");
    Ok(sustained::Options {
        duration,
        kind,
        rate: args.rate,
        senders: args.senders.unwrap_or(580),
        connections: args.concurrency.unwrap_or(2),
        rpc_batch: args.rpc_batch.unwrap_or(200),
        retry_after: args.retry_after,
        l1_block_time: args.l1_block_time,
        l1_bytes_per_block: args.l1_bytes_per_block.unwrap_or(
            match args.batcher_data {
                BatcherData::Calldata => rollup_primitives::DataPath::Calldata,
                BatcherData::Blobs => rollup_primitives::DataPath::BLOBS,
            }
            .max_batch_bytes() as u64,
        ),
        batcher_data: args.batcher_data,
        block_time: args.block_time.clone(),
        batcher_interval: args.batcher_interval.clone(),
        status_every: args.status_every,
        checkpoint_every: args.checkpoint_every,
        checkpoint_sample: args.checkpoint_sample,
        node_bin: procs::node_bin(args.node_bin.clone())?,
        anvil_bin: procs::anvil_bin(args.anvil_bin.clone()),
    })
}

fn print_machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    / 1048576.0
            })
        })
        .unwrap_or(0.0);
    println!("machine: {cores} cores, {cpu}, {mem:.1} GiB RAM");
}

/// `--senders`, `--concurrency` and `--rpc-batch` of the four-row mode.
fn row_load(args: &Args) -> (usize, usize, usize) {
    (
        args.senders.unwrap_or(500),
        args.concurrency.unwrap_or(16),
        args.rpc_batch.unwrap_or(1),
    )
}

async fn bench(args: &Args, kind: Kind) -> String {
    let (senders, concurrency, rpc_batch) = row_load(args);
    println!(
        "\n=== workload {} ({} txs, {} senders, concurrency {}, rpc batch {}, L2 gas limit {}) ===",
        kind.name(),
        args.txs,
        senders,
        concurrency,
        rpc_batch,
        args.l2_gas_limit
    );
    let start = Instant::now();
    let plans = workload::build(kind, L2_CHAIN_ID, args.txs, senders).and_then(|l2| {
        Ok((
            l2,
            workload::build(kind, ANVIL_CHAIN_ID, args.txs, senders)?,
        ))
    });
    let (l2_plan, anvil_plan) = match plans {
        Ok(plans) => plans,
        Err(err) => return format!("workload {}: cannot sign: {err:#}", kind.name()),
    };
    let rlp: usize = l2_plan.workload.iter().map(|tx| tx.raw.len()).sum();
    let setup: usize = l2_plan.setup.iter().map(Vec::len).sum();
    println!(
        "signed {} setup + {} measured txs twice (chain ids {L2_CHAIN_ID} and {ANVIL_CHAIN_ID}) in {:.2} s; {:.1} RLP bytes/tx",
        setup,
        args.txs,
        start.elapsed().as_secs_f64(),
        rlp as f64 / args.txs as f64
    );

    let skip = |stage: &str| args.skip.iter().any(|s| s == stage);
    let mut avg_gas = None;
    let raw: Stage = if skip("raw") {
        Err("skipped".into())
    } else {
        let dev_balance = U256::from(1000u64) * U256::from(10u64).pow(U256::from(18));
        match raw_revm::run(&l2_plan, L2_CHAIN_ID, dev_balance) {
            Ok(r) => {
                let secs = r.elapsed.as_secs_f64();
                println!(
                    "(a) raw revm: {} txs in {:.3} s (best of {}; slowest {:.3} s), {} gas ({:.0} gas/tx), {} failed; decode+recover alone: {:.3} s ({:.0}/s)",
                    r.txs,
                    secs,
                    raw_revm::RUNS,
                    r.slowest.as_secs_f64(),
                    r.gas,
                    r.gas as f64 / r.txs as f64,
                    r.failed,
                    r.recover_elapsed.as_secs_f64(),
                    r.txs as f64 / r.recover_elapsed.as_secs_f64()
                );
                avg_gas = Some(r.gas as f64 / r.txs as f64);
                Ok(Row {
                    tps: r.txs as f64 / secs,
                    mgas: r.gas as f64 / secs / 1e6,
                    bytes: Some(rlp as f64 / r.txs as f64),
                    ..Default::default()
                })
            }
            Err(err) => Err(format!("{err:#}")),
        }
    };
    let (seq, replica) = if skip("sequencer") {
        (Err("skipped".into()), Err("skipped".into()))
    } else {
        match sequencer_stage(args, &l2_plan).await {
            Ok(rows) => rows,
            Err(err) => (
                Err(format!("{err:#}")),
                Err("sequencer stage failed".into()),
            ),
        }
    };
    let anvil = if skip("anvil") {
        Err("skipped".into())
    } else {
        anvil_stage(args, &anvil_plan)
            .await
            .map_err(|err| format!("{err:#}"))
    };

    let mut table = format!(
        "workload {} — {} txs, {} senders{}\n{:<34} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10}\n",
        kind.name(),
        args.txs,
        senders,
        avg_gas
            .map(|g| format!(", {g:.0} gas/tx"))
            .unwrap_or_default(),
        "",
        "tx/s",
        "Mgas/s",
        "p50 ms",
        "p99 ms",
        "bytes/tx",
        "L1 gas/tx"
    );
    let anvil_label = if args.anvil_block_time == "auto" {
        "(d) anvil (automine, RPC)".to_string()
    } else {
        format!("(d) anvil ({} s blocks, RPC)", args.anvil_block_time)
    };
    let rows = [
        ("(a) raw revm (1 thread, in memory)", raw),
        ("(b) sequencer e2e (RPC → MDBX)", seq),
        ("(c) replica derivation from L1", replica),
        (anvil_label.as_str(), anvil),
    ];
    let opt =
        |v: Option<f64>, prec: usize| v.map_or_else(|| "-".to_string(), |v| format!("{v:.prec$}"));
    for (name, row) in rows {
        match row {
            Ok(r) => table.push_str(&format!(
                "{name:<34} {:>9.0} {:>8.2} {:>8} {:>8} {:>9} {:>10}\n",
                r.tps,
                r.mgas,
                opt(r.p50, 0),
                opt(r.p99, 0),
                opt(r.bytes, 1),
                opt(r.l1_gas, 0)
            )),
            Err(err) => table.push_str(&format!(
                "{name:<34} error: {}\n",
                err.lines().next().unwrap_or("")
            )),
        }
    }
    println!("\n{table}");
    table
}

fn load_row(result: &LoadResult) -> eyre::Result<Row> {
    eyre::ensure!(
        result.included == result.sent,
        "only {} of {} transactions included ({} send errors); {:.0} tx/s until the stall",
        result.included,
        result.sent,
        result.send_errors,
        result.included as f64 / result.elapsed.as_secs_f64().max(1e-9)
    );
    let secs = result.elapsed.as_secs_f64().max(1e-9);
    Ok(Row {
        tps: result.included as f64 / secs,
        mgas: result.gas as f64 / secs / 1e6,
        p50: percentile_ms(&result.latencies, 50.0),
        p99: percentile_ms(&result.latencies, 99.0),
        ..Default::default()
    })
}

/// A row's block gas limit and block interval, to tell when the limit, not the chain under
/// test, set the row's rate.
#[derive(Debug, Clone, Copy)]
struct GasCap {
    gas_limit: u64,
    interval: Duration,
    /// The largest gas limit of a measured transaction: a block with less left was full.
    largest_tx_gas: u64,
}

impl GasCap {
    /// `interval` as the bench's flags give it (`100ms`, or anvil's seconds); `None` for
    /// anvil's `auto`, whose blocks hold one transaction each.
    fn new(args: &Args, plan: &Plan, interval: &str) -> Option<Self> {
        let interval = parse_duration(interval).ok()?;
        Some(Self {
            gas_limit: args.l2_gas_limit,
            interval,
            largest_tx_gas: plan.largest_gas_limit(),
        })
    }

    /// How many of the row's blocks with transactions were full, of how many, and the rate the
    /// limit allows this workload; `None` if no block was full.
    fn binding(&self, result: &LoadResult) -> Option<(usize, usize, f64)> {
        let with_txs = result.blocks.iter().filter(|b| b.txs > 0);
        let full = with_txs
            .clone()
            .filter(|b| b.gas_used.saturating_add(self.largest_tx_gas) > self.gas_limit)
            .count();
        if full == 0 || result.included == 0 || result.gas == 0 {
            return None;
        }
        let gas_per_tx = result.gas as f64 / result.included as f64;
        let ceiling = self.gas_limit as f64 / gas_per_tx / self.interval.as_secs_f64().max(1e-9);
        Some((full, with_txs.count(), ceiling))
    }

    /// Prints [`Self::binding`], if any block was full.
    fn describe(&self, result: &LoadResult) {
        if let Some((full, blocks, ceiling)) = self.binding(result) {
            println!(
                "    gas limit: {full} of {blocks} blocks with txs were full ({} gas); at a block every {:?} it allows this workload at most {ceiling:.0} tx/s, which this row cannot exceed (--l2-gas-limit raises it for rows (b) and (d) alike)",
                self.gas_limit, self.interval,
            );
        }
    }
}

fn describe_load(label: &str, result: &LoadResult) {
    let blocks: Vec<_> = result.blocks.iter().filter(|b| b.txs > 0).collect();
    let max_txs = blocks.iter().map(|b| b.txs).max().unwrap_or(0);
    println!(
        "{label}: {} of {} included in {:.3} s (all sent in {:.3} s = {:.0} tx/s accepted); {} blocks with txs, avg {:.0} max {} txs/block; {} send errors{}",
        result.included,
        result.sent,
        result.elapsed.as_secs_f64(),
        result.send_elapsed.as_secs_f64(),
        result.sent as f64 / result.send_elapsed.as_secs_f64(),
        blocks.len(),
        result.included as f64 / blocks.len().max(1) as f64,
        max_txs,
        result.send_errors,
        result
            .first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
}

/// Reads back every receipt of the measured transactions (after the row's clock stopped),
/// prints how fast the node answered, and returns how many are missing or failed.
async fn check_receipts(url: &str, txs: &[workload::SignedTx]) -> eyre::Result<usize> {
    let (failed, elapsed) = load::read_receipts(url, txs).await?;
    println!(
        "    receipts read back: {} in {:.3} s ({:.0}/s, JSON-RPC batches of {}, one connection)",
        txs.len(),
        elapsed.as_secs_f64(),
        txs.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        load::RECEIPT_BATCH
    );
    Ok(failed)
}

/// Sends the setup waves, each fully included and successful before the next.
async fn run_setup(url: &str, plan: &Plan, concurrency: usize) -> eyre::Result<()> {
    let client = load::client(url)?;
    let nonce = quantity(
        &call(
            &client,
            "eth_getTransactionCount",
            json!([plan.dev[0], "latest"]),
        )
        .await?,
    );
    eyre::ensure!(
        nonce == Some(0),
        "dev account 0 has nonce {nonce:?}, expected 0 on a fresh chain"
    );
    for (i, wave) in plan.setup.iter().enumerate() {
        let result = load::run(url, wave, concurrency, 1).await?;
        eyre::ensure!(
            result.included == wave.len(),
            "setup wave {i}: {} of {} included ({} send errors, first: {:?})",
            result.included,
            wave.len(),
            result.send_errors,
            result.first_error
        );
        let (failed, _) = load::read_receipts(url, wave).await?;
        eyre::ensure!(failed == 0, "setup wave {i}: {failed} transactions failed");
    }
    Ok(())
}

struct CpuProbe {
    procs: Vec<(&'static str, String, f64)>,
    /// The node's pid and its KZG thread's CPU seconds at the start (blob sidecars and blob
    /// checks run there, mostly after the transactions are in).
    kzg: Option<(u32, f64)>,
    own: f64,
    wall: Instant,
}

impl CpuProbe {
    fn start(procs: &[(&'static str, &Proc)]) -> Self {
        Self {
            procs: procs
                .iter()
                .map(|(name, p)| {
                    let stat = format!("/proc/{}/stat", p.pid());
                    let before = procs::cpu_secs(&stat);
                    (*name, stat, before)
                })
                .collect(),
            // Only our nodes have a KZG thread (anvil's rows have none to show).
            kzg: procs
                .first()
                .filter(|(name, _)| matches!(*name, "node" | "replica"))
                .map(|(_, p)| {
                    (
                        p.pid(),
                        procs::thread_cpu_secs(p.pid(), rollup_l1::KZG_THREAD_NAME),
                    )
                }),
            own: procs::cpu_secs("/proc/self/stat"),
            wall: Instant::now(),
        }
    }

    /// CPU seconds of the first process's KZG thread since the start, if it has one.
    fn kzg_secs(&self) -> Option<f64> {
        self.kzg
            .map(|(pid, before)| procs::thread_cpu_secs(pid, rollup_l1::KZG_THREAD_NAME) - before)
    }

    /// CPU seconds of the first process and of its KZG thread since the start.
    fn first_with_kzg(&self) -> (f64, f64) {
        let total = self
            .procs
            .first()
            .map_or(0.0, |(_, stat, before)| procs::cpu_secs(stat) - before);
        (total, self.kzg_secs().unwrap_or(0.0))
    }

    fn report(&self) -> String {
        let mut parts: Vec<String> = self
            .procs
            .iter()
            .map(|(name, stat, before)| format!("{name} {:.2} s", procs::cpu_secs(stat) - before))
            .collect();
        if let (Some(first), Some(kzg)) = (parts.first_mut(), self.kzg_secs()) {
            first.push_str(&format!(" (KZG thread {kzg:.2} s)"));
        }
        parts.push(format!(
            "bench {:.2} s",
            procs::cpu_secs("/proc/self/stat") - self.own
        ));
        format!(
            "CPU over {:.2} s wall: {}",
            self.wall.elapsed().as_secs_f64(),
            parts.join(", ")
        )
    }
}

async fn sync_status(
    client: &alloy_rpc_client::RpcClient,
) -> eyre::Result<(u64, u64, Option<B256>)> {
    let status = call(client, "rollup_syncStatus", json!([])).await?;
    let number = |head: &str| quantity(&status[head]["number"]).unwrap_or(0);
    let safe_hash = status["safeL2"]["hash"]
        .as_str()
        .and_then(|h| h.parse().ok());
    Ok((number("unsafeL2"), number("safeL2"), safe_hash))
}

/// Waits until the safe head reaches `target`; fails when it stops moving for 30 s.
async fn wait_safe(
    client: &alloy_rpc_client::RpcClient,
    target: u64,
    node: &mut Proc,
) -> eyre::Result<()> {
    let mut progress = (0u64, Instant::now());
    wait_for(Duration::from_secs(600), "the safe head", async || {
        node.check_alive()?;
        let (_, safe, _) = sync_status(client).await?;
        if safe != progress.0 {
            progress = (safe, Instant::now());
        }
        eyre::ensure!(
            progress.1.elapsed() < Duration::from_secs(30),
            "safe head stuck at {safe} (target {target}) for 30 s{}",
            node.log_tail_matching("WARN")
        );
        Ok((safe >= target).then_some(()))
    })
    .await
}

/// Waits until the KZG thread of process `pid` has used no CPU for half a second (at most 20 s)
/// and returns the seconds waited, and whether it went quiet. A node loads the KZG trusted setup in the background when it
/// starts (2 to 3 s of one core), and row (b) begins a second or two later: without this the
/// load falls inside the row's window on some runs and not on others, and row (b) measures
/// the start-up rather than the sequencer.
async fn wait_kzg_quiet(pid: u32) -> (f64, bool) {
    let start = Instant::now();
    let mut last = procs::thread_cpu_secs(pid, rollup_l1::KZG_THREAD_NAME);
    let mut quiet_since = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = procs::thread_cpu_secs(pid, rollup_l1::KZG_THREAD_NAME);
        if now > last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= Duration::from_millis(500) {
            return (start.elapsed().as_secs_f64(), true);
        }
    }
    (start.elapsed().as_secs_f64(), false)
}

/// Rows (b) and (c).
async fn sequencer_stage(args: &Args, plan: &Plan) -> eyre::Result<(Stage, Stage)> {
    let anvil_bin = procs::anvil_bin(args.anvil_bin.clone());
    let node_bin = procs::node_bin(args.node_bin.clone())?;
    let dir = tempfile::tempdir()?;
    let (l1_proc, l1_url) = procs::start_anvil(&anvil_bin, None, &[]).await?;
    let seq_dir = dir.path().join("sequencer");
    let metrics_addr = format!("127.0.0.1:{}", procs::free_port()?);
    let procs::Devnet {
        mut node,
        l2_url,
        inbox,
        ..
    } = procs::start_devnet(
        &node_bin,
        &anvil_bin,
        &l1_url,
        &seq_dir,
        &[
            "--block-time",
            &args.block_time,
            "--l2-gas-limit",
            &args.l2_gas_limit.to_string(),
            "--batcher-interval",
            &args.batcher_interval,
            "--batcher-data",
            args.batcher_data.as_flag(),
            "--metrics-addr",
            &metrics_addr,
        ],
    )
    .await?;
    let l2 = load::client(&l2_url)?;
    let l1 = load::client(&l1_url)?;

    let setup_start = Instant::now();
    let (_, concurrency, rpc_batch) = row_load(args);
    run_setup(&l2_url, plan, concurrency)
        .await
        .map_err(|e| eyre::eyre!("setup: {e:#}{}", node.log_tail()))?;
    let (unsafe_head, _, _) = sync_status(&l2).await?;
    wait_safe(&l2, unsafe_head, &mut node).await?;
    let l1_start = quantity(&call(&l1, "eth_blockNumber", json!([])).await?).unwrap_or(0);
    println!(
        "(b) setup included and safe in {:.2} s",
        setup_start.elapsed().as_secs_f64()
    );
    match wait_kzg_quiet(node.pid()).await {
        (waited, true) => println!(
            "(b) the node's KZG thread went quiet (trusted setup loaded, setup sidecars done) {waited:.2} s later"
        ),
        (waited, false) => println!(
            "(b) WARNING: the node's KZG thread was still busy after {waited:.0} s; row (b) includes its work"
        ),
    }

    let probe = CpuProbe::start(&[("node", &node), ("L1 anvil", &l1_proc)]);
    let stages_before = stage_times(&metrics_addr).unwrap_or_default();
    let result = load::run(&l2_url, &plan.workload, concurrency, rpc_batch).await?;
    let cpu = probe.report();
    describe_load("(b) sequencer", &result);
    if let Some(cap) = GasCap::new(args, plan, &args.block_time) {
        cap.describe(&result);
    }
    println!("    {cpu}");
    match stage_times(&metrics_addr) {
        Ok(after) => print_stages(&stages_before, &after, plan.workload.len()),
        Err(err) => println!("    stages: cannot read the node's metrics: {err:#}"),
    }
    let failed = check_receipts(&l2_url, &plan.workload).await?;
    if failed > 0 {
        println!("    WARNING: {failed} receipts missing or failed");
    }
    let mut seq_row = match load_row(&result) {
        Ok(row) => row,
        Err(err) => {
            return Ok((
                Err(format!("{err:#}")),
                Err("sequencer did not include every transaction".into()),
            ));
        }
    };

    // Batches and the replica: failures here leave row (b)'s throughput standing.
    let after = async {
        // The newest block with transactions: empty blocks after it (one per new L1 origin,
        // and every batch mined on this automining L1 makes one) are posted only with a later
        // batch or before their sequencing window closes, which an idle L1 never reaches.
        let (mut unsafe_head, _, _) = sync_status(&l2).await?;
        while unsafe_head > 0 {
            let block = call(
                &l2,
                "eth_getBlockByNumber",
                json!([format!("{unsafe_head:#x}"), false]),
            )
            .await?;
            if block["transactions"]
                .as_array()
                .is_some_and(|txs| !txs.is_empty())
            {
                break;
            }
            unsafe_head -= 1;
        }
        let t = Instant::now();
        wait_safe(&l2, unsafe_head, &mut node).await?;
        println!(
            "    safe head reached block {unsafe_head}, the newest with transactions, {:.2} s after the last inclusion",
            t.elapsed().as_secs_f64()
        );
        let (node_cpu, kzg_cpu) = probe.first_with_kzg();
        let txs = plan.workload.len().max(1) as f64;
        println!(
            "    node CPU from the first send until those blocks were safe: {node_cpu:.2} s ({:.0} µs/tx), of which the KZG thread (blob sidecars and checks) {kzg_cpu:.2} s ({:.0} µs/tx)",
            node_cpu / txs * 1e6,
            kzg_cpu / txs * 1e6
        );
        let l1_end = quantity(&call(&l1, "eth_blockNumber", json!([])).await?).unwrap_or(0);
        match l1::scan_batches(&l1, &l1_url, inbox, l1_start + 1, l1_end).await {
            Ok(stats) if stats.l2_txs > 0 => {
                println!(
                    "    batches: {} on L1 ({} in {} blobs; {} left a block open for the next) carrying {} L2 txs; {} calldata bytes, {} batch bytes ({} of them in blobs) vs {} tx RLP bytes (compression {:.2}x); {} L1 gas, {} blob gas ({:.0} per L2 tx)",
                    stats.batches,
                    stats.blob_batches,
                    stats.blobs,
                    stats.open_parts,
                    stats.l2_txs,
                    stats.calldata,
                    stats.payload,
                    stats.blob_payload,
                    stats.rlp,
                    stats.rlp as f64 / stats.payload.max(1) as f64,
                    stats.l1_gas,
                    stats.blob_gas,
                    stats.blob_gas as f64 / stats.l2_txs as f64
                );
                if stats.reverted > 0 {
                    println!(
                        "    {} batch transactions reverted on L1; their gas is in the L1 gas above",
                        stats.reverted
                    );
                }
                seq_row.bytes = Some(stats.l1_bytes_per_tx());
                seq_row.l1_gas = Some(stats.l1_gas as f64 / stats.l2_txs as f64);
            }
            Ok(_) => println!("    batches: none found on L1 after block {l1_start}"),
            Err(err) => println!("    batches: cannot scan L1: {err:#}"),
        }
        replica_stage(&node_bin, &seq_dir, &l1_url, &l2, unsafe_head, dir.path()).await
    };
    let replica = after.await.map_err(|e: eyre::Report| format!("{e:#}"));
    if let Err(err) = &replica {
        println!("(c) {err}");
    }
    drop(node);
    drop(l1_proc);
    Ok((Ok(seq_row), replica))
}

/// Row (c): a fresh replica derives the whole chain (setup and workload) from L1.
async fn replica_stage(
    node_bin: &Path,
    seq_dir: &Path,
    l1_url: &str,
    l2: &alloy_rpc_client::RpcClient,
    target: u64,
    dir: &Path,
) -> eyre::Result<Row> {
    let (_, safe, safe_hash) = sync_status(l2).await?;
    eyre::ensure!(safe >= target, "sequencer safe head {safe} below {target}");
    // Count what the replica has to derive: every block up to the sequencer's safe head.
    let params = (1..=safe)
        .map(|n| json!([format!("{n:#x}"), false]))
        .collect();
    let (mut txs, mut gas) = (0usize, 0u64);
    for block in batch_call(l2, "eth_getBlockByNumber", params, 100).await? {
        txs += block["transactions"].as_array().map_or(0, Vec::len);
        gas += quantity(&block["gasUsed"]).unwrap_or(0);
    }
    let replica_dir = dir.join("replica");
    let port = procs::free_port()?;
    let mut command = Command::new(node_bin);
    command
        .args([
            "node",
            "--l1-rpc-url",
            l1_url,
            "--l1-poll-interval",
            "50ms",
            "--l1-beacon-url",
            l1_url,
            "--rpc-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--config")
        .arg(seq_dir.join("rollup.json"))
        .arg("--datadir")
        .arg(&replica_dir)
        .env("RUST_LOG", "info");
    std::fs::create_dir_all(&replica_dir)?;
    let start = Instant::now();
    let mut replica = Proc::spawn(command, Some(&dir.join("replica.log")))?;
    let client = load::client(&format!("http://127.0.0.1:{port}"))?;
    let mut first_answer = None;
    let probe = CpuProbe::start(&[("replica", &replica)]);
    wait_for(
        Duration::from_secs(300),
        "the replica's safe head",
        async || {
            replica.check_alive()?;
            let Ok((_, replica_safe, hash)) = sync_status(&client).await else {
                return Ok(None);
            };
            first_answer.get_or_insert_with(|| start.elapsed());
            if replica_safe >= safe {
                eyre::ensure!(
                    replica_safe > safe || hash == safe_hash,
                    "replica block {safe} hash {hash:?} differs from the sequencer's {safe_hash:?}"
                );
                return Ok(Some(()));
            }
            Ok(None)
        },
    )
    .await?;
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "(c) replica derived {safe} blocks ({txs} txs, {gas} gas, setup included) in {elapsed:.3} s from spawn (RPC up after {:.3} s); {}",
        first_answer.unwrap_or_default().as_secs_f64(),
        probe.report()
    );
    Ok(Row {
        tps: txs as f64 / elapsed,
        mgas: gas as f64 / elapsed / 1e6,
        ..Default::default()
    })
}

/// Row (d).
async fn anvil_stage(args: &Args, plan: &Plan) -> eyre::Result<Row> {
    let (anvil, url) = procs::start_anvil(
        &procs::anvil_bin(args.anvil_bin.clone()),
        Some(args.anvil_block_time.as_str()).filter(|t| *t != "auto"),
        &["--gas-limit", &args.l2_gas_limit.to_string()],
    )
    .await?;
    let (_, concurrency, rpc_batch) = row_load(args);
    run_setup(&url, plan, concurrency)
        .await
        .map_err(|e| eyre::eyre!("setup: {e:#}"))?;
    let probe = CpuProbe::start(&[("anvil", &anvil)]);
    let result = load::run(&url, &plan.workload, concurrency, rpc_batch).await?;
    let cpu = probe.report();
    describe_load("(d) anvil", &result);
    if let Some(cap) = GasCap::new(args, plan, &args.anvil_block_time) {
        cap.describe(&result);
    }
    println!("    {cpu}");
    let failed = check_receipts(&url, &plan.workload).await?;
    if failed > 0 {
        println!("    WARNING: {failed} receipts missing or failed");
    }
    drop(anvil);
    load_row(&result)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn a_row_is_bound_by_the_gas_limit_only_when_a_block_had_no_room_left() {
        let cap = GasCap {
            gas_limit: 30_000_000,
            interval: Duration::from_millis(100),
            largest_tx_gas: 21_000,
        };
        let block = |txs: usize| load::SeenBlock {
            seen: Instant::now(),
            gas_used: txs as u64 * 21_000,
            txs,
        };
        let result = |blocks: Vec<load::SeenBlock>| LoadResult {
            sent: blocks.iter().map(|b| b.txs).sum(),
            send_errors: 0,
            first_error: None,
            included: blocks.iter().map(|b| b.txs).sum(),
            elapsed: Duration::from_secs(1),
            send_elapsed: Duration::from_secs(1),
            gas: blocks.iter().map(|b| b.gas_used).sum(),
            latencies: Vec::new(),
            blocks,
        };
        // 1 428 transfers leave 12 000 gas: no room for another one.
        let (full, blocks, ceiling) = cap
            .binding(&result(vec![
                block(1_428),
                block(1_428),
                block(0),
                block(144),
            ]))
            .expect("two blocks were full");
        assert_eq!((full, blocks), (2, 3));
        assert!(
            (ceiling - 30_000_000.0 / 21_000.0 * 10.0).abs() < 1.0,
            "{ceiling}"
        );
        // 1 427 transfers leave 33 000 gas: room for one more, so the limit did not bind.
        assert_eq!(cap.binding(&result(vec![block(1_427), block(900)])), None);
        assert_eq!(cap.binding(&result(Vec::new())), None);
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn both_modes_parse_from_real_command_lines() {
        let rows = Args::try_parse_from([
            "rollup-bench",
            "--workload",
            "eth",
            "--txs",
            "100000",
            "--senders",
            "580",
            "--rpc-batch",
            "1000",
            "--concurrency",
            "2",
            "--skip",
            "raw,anvil",
        ])
        .unwrap();
        assert_eq!(rows.sustained, None);
        assert_eq!(row_load(&rows), (580, 2, 1000));
        assert_eq!(rows.skip, ["raw", "anvil"]);

        let sustained = Args::try_parse_from([
            "rollup-bench",
            "--sustained",
            "10m",
            "--rate",
            "3000",
            "--l1-bytes-per-block",
            "20000",
        ])
        .unwrap();
        assert_eq!(sustained.sustained, Some(Duration::from_secs(600)));
        assert_eq!(sustained.l1_block_time, 1);
        assert_eq!(sustained.retry_after, Duration::from_millis(100));
        assert_eq!(
            row_load(&Args::try_parse_from(["rollup-bench"]).unwrap()),
            (500, 16, 1)
        );
    }

    #[test]
    fn sustained_only_flags_need_sustained_and_row_flags_refuse_it() {
        assert!(Args::try_parse_from(["rollup-bench", "--rate", "100"]).is_err());
        assert!(
            Args::try_parse_from(["rollup-bench", "--sustained", "90s", "--txs", "5"]).is_err()
        );
        assert!(
            Args::try_parse_from(["rollup-bench", "--sustained", "90s", "--skip", "raw"]).is_err()
        );
    }

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("m").is_err());
    }
}

/// The node's per-stage timings (`rollup_*_seconds` summaries): name → (sum in seconds, count).
fn stage_times(addr: &str) -> eyre::Result<std::collections::BTreeMap<String, (f64, u64)>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut body = String::new();
    stream.read_to_string(&mut body)?;
    Ok(parse_stage_times(&body))
}

/// The `*_seconds_sum` and `*_seconds_count` lines of a Prometheus text exposition.
fn parse_stage_times(body: &str) -> std::collections::BTreeMap<String, (f64, u64)> {
    let mut out = std::collections::BTreeMap::new();
    for line in body.lines() {
        let Some((name, value)) = line.split_once(' ') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        if let Some(stage) = name.strip_suffix("_seconds_sum") {
            out.entry(stage.to_string()).or_insert((0.0, 0)).0 = value;
        } else if let Some(stage) = name.strip_suffix("_seconds_count") {
            out.entry(stage.to_string()).or_insert((0.0, 0)).1 = value as u64;
        }
    }
    out
}

#[cfg(test)]
mod stage_tests {
    #[test]
    fn stage_sums_and_counts_are_read_from_the_exposition() {
        let body = "HTTP/1.0 200 OK\r\n\r\n# TYPE rollup_block_commit_seconds summary\n\
                    rollup_block_commit_seconds{quantile=\"0.5\"} 0.001\n\
                    rollup_block_commit_seconds_sum 1.25\n\
                    rollup_block_commit_seconds_count 40\n\
                    rollup_pool_add_seconds_sum 0.5\n\
                    rollup_batcher_batches_total{data=\"blobs\"} 3\n";
        let stages = super::parse_stage_times(body);
        assert_eq!(stages["rollup_block_commit"], (1.25, 40));
        assert_eq!(stages["rollup_pool_add"], (0.5, 0));
        assert_eq!(stages.len(), 2);
    }
}

/// Prints where the node's time went during the load, stage by stage, per transaction.
fn print_stages(
    before: &std::collections::BTreeMap<String, (f64, u64)>,
    after: &std::collections::BTreeMap<String, (f64, u64)>,
    txs: usize,
) {
    let stages = [
        ("rollup_pool_decode_recover", "RPC decode + sender recovery"),
        ("rollup_pool_add", "pool checks + insert"),
        ("rollup_pool_best", "picking a block's transactions"),
        ("rollup_block_execution", "execution (revm)"),
        ("rollup_block_append", "state root + table writes"),
        ("rollup_block_batch_check", "batch fit check (compression)"),
        ("rollup_block_commit", "MDBX commit"),
    ];
    println!("    node time per transaction, by stage (from its metrics):");
    let mut total = 0.0;
    for (name, label) in stages {
        let (sum_after, count_after) = after.get(name).copied().unwrap_or_default();
        let (sum_before, count_before) = before.get(name).copied().unwrap_or_default();
        let seconds = sum_after - sum_before;
        total += seconds;
        println!(
            "      {label:<34} {:>8.1} µs/tx  ({} calls, {:.3} s)",
            seconds * 1e6 / txs.max(1) as f64,
            count_after.saturating_sub(count_before),
            seconds
        );
    }
    println!(
        "      {:<34} {:>8.1} µs/tx  (RPC framing, JSON and the rest are not in these stages)",
        "sum of the stages",
        total * 1e6 / txs.max(1) as f64
    );
}
