//! Command line: every flag can also come from the environment (`ROLLUP_*`), and the rollup
//! parameters from a config file.

use rollup_service::{ProposalHead, parse_duration, parse_nonzero_duration, parse_proposal_head};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// An optimistic rollup node: derives the L2 chain from L1 (deposits and batches), executes it
/// with revm into MDBX, serves it over JSON-RPC, and runs the sequencer, batcher and proposer
/// roles.
///
/// Quick start: `rollup-node devnet` starts a local L1 (anvil), deploys the rollup contracts and
/// runs the L2 node with every role; it prints the URLs and writes them, with funded accounts,
/// to `<datadir>/devnet.json` (default ./devnet-data). From the same folder, `rollup-node
/// deposit --amount 1 --account 5` moves 1 ETH of dev account 5 from L1 to L2; `withdraw`,
/// `prove` and `finalize` move it back. `rollup-node node --config rollup.json --l1-rpc-url URL`
/// runs a replica anywhere; against a deployment other than the devnet, the user commands take
/// `--config rollup.json --l1-rpc-url URL --l2-rpc-url URL` and a key in `ROLLUP_PRIVATE_KEY`.
#[derive(Debug, Parser)]
#[command(name = "rollup-node", version, about, long_about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// What to log, as a tracing filter: `info`, `rollup=debug`, `warn,rollup::node=trace`.
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    pub(crate) log_filter: String,
    /// Log as human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "ROLLUP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a replica: follow an L1 node over JSON-RPC and serve the derived L2 chain.
    Node(NodeArgs),
    /// Run a local devnet: anvil L1 + deployed contracts + the L2 node, in one process.
    ///
    /// A second run with the same --datadir resumes the same chains.
    Devnet(DevnetArgs),
    /// Deposit ETH or an ERC-20 from L1 to the same account on L2.
    Deposit(TokenAmountArgs),
    /// Start a withdrawal on L2 (ETH, or a bridged ERC-20 back to its L1 token); prints the L2
    /// transaction hash the other withdrawal commands take.
    Withdraw(TokenAmountArgs),
    /// Where a withdrawal stands: its L2 block, the proposal covering it, proven, final at,
    /// finalized.
    WithdrawalStatus(WithdrawalTxArgs),
    /// Prove a withdrawal on L1: waits for a proposal covering its L2 block, then sends
    /// `L1Bridge.proveWithdrawal` with the proof against that proposal's state root.
    Prove(ProveArgs),
    /// Pay out a proven withdrawal on L1 once its proposal is final (after the challenge period).
    Finalize(FinalizeArgs),
}

/// Where the user commands (`deposit`, `withdraw`, ...) find the chains, contracts and key.
///
/// On the devnet everything comes from its `devnet.json`. Against any other deployment, pass
/// its `rollup.json` with `--config` (contract addresses), `--l1-rpc-url`, `--l2-rpc-url` and
/// `--private-key` (or their environment variables).
#[derive(Debug, Args, Clone)]
pub(crate) struct ClientArgs {
    /// The `devnet.json` that `rollup-node devnet` writes: RPC URLs, contract addresses and the
    /// funded dev accounts. Not read when --config is given.
    #[arg(
        long,
        env = "ROLLUP_DEVNET_FILE",
        default_value = "./devnet-data/devnet.json"
    )]
    pub(crate) devnet: PathBuf,
    /// A rollup config (`rollup.json`, as `node --config` takes) to read the contract addresses
    /// from instead of a devnet file; then --l1-rpc-url, --l2-rpc-url and --private-key are
    /// required.
    #[arg(long, value_name = "ROLLUP_JSON", env = "ROLLUP_CLIENT_CONFIG", conflicts_with_all = ["devnet", "account"])]
    pub(crate) config: Option<PathBuf>,
    /// L1 JSON-RPC URL (default: the devnet file's; required with --config).
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: Option<String>,
    /// L2 JSON-RPC URL (default: the devnet file's; required with --config).
    #[arg(long, env = "ROLLUP_L2_RPC_URL")]
    pub(crate) l2_rpc_url: Option<String>,
    /// Sign with this dev account of the devnet file (0-9).
    #[arg(long, env = "ROLLUP_ACCOUNT", default_value_t = 0)]
    pub(crate) account: usize,
    /// Sign with this private key (hex) instead of a dev account. Prefer the environment
    /// variable over the flag.
    #[arg(
        long,
        env = "ROLLUP_PRIVATE_KEY",
        hide_env_values = true,
        conflicts_with = "account"
    )]
    pub(crate) private_key: Option<String>,
}

/// `rollup-node deposit` and `rollup-node withdraw`.
#[derive(Debug, Args)]
pub(crate) struct TokenAmountArgs {
    /// Amount in ether, or in whole tokens for an ERC-20 (18 decimals), e.g. `1.5`.
    #[arg(long)]
    pub(crate) amount: String,
    /// The L1 address of the ERC-20 (default: ETH). For `withdraw`, the L1 token whose bridged
    /// L2 token is burned.
    #[arg(long)]
    pub(crate) token: Option<alloy_primitives::Address>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// A withdrawal, named by the L2 transaction that started it.
#[derive(Debug, Args)]
pub(crate) struct WithdrawalTxArgs {
    /// Hash of the L2 transaction that called `L2Bridge.withdraw` (`rollup-node withdraw` prints it).
    pub(crate) tx: alloy_primitives::B256,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node prove`.
#[derive(Debug, Args)]
pub(crate) struct ProveArgs {
    #[command(flatten)]
    pub(crate) tx: WithdrawalTxArgs,
    /// Give up waiting for a covering proposal after this long, e.g. `10m` (default: wait forever).
    #[arg(long, value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
}

/// `rollup-node finalize`.
#[derive(Debug, Args)]
pub(crate) struct FinalizeArgs {
    #[command(flatten)]
    pub(crate) tx: WithdrawalTxArgs,
    /// Wait until the proposal the withdrawal was proven against is final, then finalize
    /// (without it, send now: too early fails with `L1Bridge_ProposalNotFinal`).
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait: give up after this long, e.g. `10m` (default: wait forever).
    #[arg(long, value_parser = parse_duration, requires = "wait")]
    pub(crate) timeout: Option<Duration>,
}

/// Flags of the L2 node itself (shared by `node` and `devnet`).
#[derive(Debug, Args, Clone)]
pub(crate) struct RunArgs {
    /// Where the L2 data lives (its MDBX database is `<dir>/db`) [default: ./rollup-data for
    /// `node`; ./devnet-data for `devnet`, where the user commands look for `devnet.json`].
    #[arg(long, env = "ROLLUP_DATADIR")]
    pub(crate) datadir: Option<PathBuf>,
    /// Address of the L2 JSON-RPC server (HTTP and WebSocket on the same port).
    #[arg(long, env = "ROLLUP_RPC_ADDR", default_value = "127.0.0.1:9545")]
    pub(crate) rpc_addr: SocketAddr,
    /// Serve Prometheus metrics at this address (`/metrics`); off if unset.
    #[arg(long, env = "ROLLUP_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// How often to poll L1 for new blocks, e.g. `500ms`, `2s`.
    #[arg(long, env = "ROLLUP_L1_POLL_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub(crate) l1_poll_interval: Duration,
    /// Follow L1 this many blocks behind its head (0 follows the tip; reorgs are handled
    /// either way).
    #[arg(long, env = "ROLLUP_L1_CONFIRMATIONS", default_value_t = 0)]
    pub(crate) l1_confirmations: u64,
    /// Largest `eth_getLogs` block range.
    #[arg(long, env = "ROLLUP_RPC_MAX_BLOCK_RANGE", default_value_t = 10_000)]
    pub(crate) rpc_max_block_range: u64,
    /// How many L2 blocks of history (old state, old proofs) the node keeps; older history is
    /// pruned. Keep it above the challenge period in blocks plus margin on a node that serves
    /// withdrawal proofs (1 000 000 blocks: 7 days at 1 s blocks, plus 4.6 days).
    #[arg(long, env = "ROLLUP_HISTORY_RETENTION", value_name = "BLOCKS", default_value_t = rollup_storage::DEFAULT_HISTORY_RETENTION)]
    pub(crate) history_retention: u64,
    /// Most gas one `eth_call` or `eth_estimateGas` may use (reth's `--rpc.gascap`): an
    /// `eth_call` asking for more is refused, one asking for none gets this much;
    /// `eth_estimateGas` searches up to it.
    #[arg(long, env = "ROLLUP_RPC_GASCAP", default_value_t = rollup_rpc::DEFAULT_GAS_CAP, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) rpc_gascap: u64,
    /// Wall-clock limit of one `eth_call` or `eth_estimateGas`, e.g. `5s`, `500ms` (reth's
    /// `--rpc.evm-timeout`); a call still running then is stopped with an error.
    #[arg(long, env = "ROLLUP_RPC_EVM_TIMEOUT", default_value = "5s", value_parser = parse_nonzero_duration)]
    pub(crate) rpc_evm_timeout: Duration,
    /// Most heavy requests (`eth_call`, `eth_estimateGas`, `eth_getLogs`, `eth_feeHistory`,
    /// `rollup_getProof`, `rollup_getWithdrawalProof`) running at once; default: twice the CPU
    /// cores. Others wait for a slot up to --rpc-heavy-queue-timeout.
    #[arg(long, env = "ROLLUP_RPC_MAX_HEAVY_REQUESTS", default_value_t = rollup_rpc::default_max_heavy_requests(), value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(crate) rpc_max_heavy_requests: usize,
    /// Longest a heavy request waits for a slot before it is answered "server busy" (-32005).
    #[arg(long, env = "ROLLUP_RPC_HEAVY_QUEUE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub(crate) rpc_heavy_queue_timeout: Duration,
    /// Sequencer block interval, e.g. `1s`, `250ms`. A block is built when there are
    /// transactions, or a newer L1 block to adopt as origin (every L1 block gets one).
    #[arg(long, env = "ROLLUP_BLOCK_TIME", default_value = "1s", value_parser = parse_duration)]
    pub(crate) block_time: Duration,
    /// How often the batcher looks for new L2 blocks to post.
    #[arg(long, env = "ROLLUP_BATCHER_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub(crate) batcher_interval: Duration,
    /// Post a batch at the latest this long after the oldest unposted L2 block with transactions
    /// (deposits included) was sealed, even if the batch is not full [default: 60s; 1s for
    /// `devnet`]. Full batches go out at once; blocks without transactions wait for a batch
    /// that goes out anyway, or for --batcher-window-margin.
    #[arg(long, env = "ROLLUP_BATCHER_MAX_DELAY", value_parser = parse_duration)]
    pub(crate) batcher_max_delay: Option<Duration>,
    /// L1 blocks to spare: the batcher posts pending L2 blocks, even without transactions, once
    /// only this many L1 blocks remain before the sequencing window of the oldest would close
    /// (after which derivation replaces it). A margin as large as the window posts every block
    /// at once.
    #[arg(long, env = "ROLLUP_BATCHER_WINDOW_MARGIN", default_value_t = 10)]
    pub(crate) batcher_window_margin: u64,
    /// How often the proposer considers proposing the safe head's state root.
    #[arg(long, env = "ROLLUP_PROPOSAL_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub(crate) proposal_interval: Duration,
    /// Which L2 head the proposer proposes: `finalized` (derived from finalized L1 blocks, so no
    /// L1 reorg can change it) or `safe` [default: finalized; safe for `devnet`, whose L1
    /// finality is simulated].
    #[arg(long, env = "ROLLUP_PROPOSER_HEAD", value_name = "HEAD", value_parser = parse_proposal_head)]
    pub(crate) proposer_head: Option<ProposalHead>,
    /// How long the batcher waits for an L1 transaction before resubmitting it with higher fees.
    #[arg(long, env = "ROLLUP_L1_RESUBMIT_AFTER", default_value = "12s", value_parser = parse_duration)]
    pub(crate) l1_resubmit_after: Duration,
}

/// `rollup-node node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Rollup config (JSON): chain ids, L1 contract addresses, L2 genesis. `devnet` writes one
    /// to `<datadir>/rollup.json`.
    #[arg(long, env = "ROLLUP_CONFIG")]
    pub(crate) config: PathBuf,
    /// JSON-RPC URL of the L1 execution node (reth, geth, anvil).
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: String,
    /// Sequence: accept transactions (`eth_sendRawTransaction`) and build unsafe blocks.
    /// Without it the node is a replica that derives the chain from L1 only.
    #[arg(long, env = "ROLLUP_SEQUENCER")]
    pub(crate) sequencer: bool,
    /// Private key (hex) of the batcher account, which posts batches to the BatchInbox; the
    /// batcher runs only when set. Prefer the environment variable over the flag.
    #[arg(long, env = "ROLLUP_BATCHER_KEY", hide_env_values = true)]
    pub(crate) batcher_key: Option<String>,
    /// Private key (hex) of the StateManager's proposer account; the proposer runs only when
    /// set. It proposes the safe head's state root with the required bond.
    #[arg(long, env = "ROLLUP_PROPOSER_KEY", hide_env_values = true)]
    pub(crate) proposer_key: Option<String>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// `rollup-node devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Use this L1 instead of starting anvil (it must have anvil's funded dev accounts, e.g.
    /// another anvil).
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: Option<String>,
    /// Port of the anvil this command starts.
    #[arg(long, env = "ROLLUP_DEVNET_L1_PORT", default_value_t = 8545)]
    pub(crate) l1_port: u16,
    /// L1 block time of the anvil this command starts, in seconds.
    #[arg(long, env = "ROLLUP_DEVNET_L1_BLOCK_TIME", default_value_t = 2)]
    pub(crate) l1_block_time: u64,
    /// The anvil binary (default: the project's pinned one under node_modules, then PATH).
    #[arg(long, env = "ANVIL_BIN")]
    pub(crate) anvil_bin: Option<PathBuf>,
    /// L2 chain id of a new devnet.
    #[arg(long, env = "ROLLUP_DEVNET_L2_CHAIN_ID", default_value_t = 42069)]
    pub(crate) l2_chain_id: u64,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

impl Cli {
    pub(crate) async fn run(self) -> eyre::Result<()> {
        match self.command {
            Command::Node(args) => crate::runner::run_replica(args).await,
            Command::Devnet(args) => crate::devnet::run(args).await,
            Command::Deposit(args) => crate::client::deposit(args).await,
            Command::Withdraw(args) => crate::client::withdraw(args).await,
            Command::WithdrawalStatus(args) => crate::client::status(args).await,
            Command::Prove(args) => crate::client::prove(args).await,
            Command::Finalize(args) => crate::client::finalize(args).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// Every `rollup-node …` code span in `help`, whitespace-normalised (clap wraps long help).
    fn command_lines(help: &str) -> Vec<String> {
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|span| {
                if span.starts_with("rollup-node ") {
                    Some(span.to_owned())
                } else if span.starts_with("--config ") {
                    // Flags the help gives the user commands: try them on one.
                    Some(format!("rollup-node deposit --amount 1 {span}"))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The quick start in `rollup-node --help` and `rollup-node devnet --help`, as written:
    /// every command line it prints parses with the real command line.
    #[test]
    fn help_quick_start_parses() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let mut lines = command_lines(&cli.render_long_help().to_string());
        let devnet = cli
            .find_subcommand_mut("devnet")
            .expect("a devnet subcommand");
        lines.extend(command_lines(&devnet.render_long_help().to_string()));
        for expected in [
            "rollup-node devnet",
            "rollup-node deposit --amount 1 --account 5",
            "rollup-node node --config rollup.json --l1-rpc-url URL",
            "rollup-node deposit --amount 1 --config rollup.json --l1-rpc-url URL --l2-rpc-url URL",
        ] {
            assert!(
                lines.iter().any(|line| line == expected),
                "the quick start no longer shows `{expected}`: {lines:?}"
            );
        }
        for line in &lines {
            let cli = Cli::try_parse_from(line.split(' '))
                .unwrap_or_else(|err| panic!("`{line}` from --help does not parse:\n{err}"));
            // The devnet and the user commands agree on where devnet.json lives.
            match cli.command {
                Command::Devnet(args) => assert_eq!(args.run.datadir, None),
                Command::Deposit(args) if args.client.config.is_none() => assert_eq!(
                    args.client.devnet,
                    PathBuf::from(format!("{}/devnet.json", crate::devnet::DEFAULT_DATADIR))
                ),
                _ => {}
            }
        }
    }

    /// The user commands against a deployment other than the devnet.
    #[test]
    fn user_commands_take_a_rollup_config() {
        let cli = Cli::try_parse_from([
            "rollup-node",
            "deposit",
            "--amount",
            "0.5",
            "--config",
            "deploy/rollup.json",
            "--l1-rpc-url",
            "https://l1.example",
            "--l2-rpc-url",
            "https://l2.example",
            "--private-key",
            "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        ])
        .unwrap();
        let Command::Deposit(args) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(args.amount, "0.5");
        let client = args.client;
        assert_eq!(client.config, Some(PathBuf::from("deploy/rollup.json")));
        assert_eq!(client.l1_rpc_url.as_deref(), Some("https://l1.example"));
        assert_eq!(client.l2_rpc_url.as_deref(), Some("https://l2.example"));
        assert!(client.private_key.is_some());

        // The same for a command that takes a transaction hash.
        let hash = format!("0x{}", "ab".repeat(32));
        let cli = Cli::try_parse_from([
            "rollup-node",
            "prove",
            &hash,
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "https://l1.example",
            "--l2-rpc-url",
            "https://l2.example",
        ])
        .unwrap();
        let Command::Prove(args) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(args.tx.client.config, Some(PathBuf::from("rollup.json")));

        // A config replaces the devnet file and its dev accounts.
        for other in [["--devnet", "devnet.json"], ["--account", "5"]] {
            let line = [
                "rollup-node",
                "withdraw",
                "--amount",
                "1",
                "--config",
                "rollup.json",
            ];
            let err = Cli::try_parse_from(line.iter().chain(&other)).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{other:?}"
            );
        }
    }

    fn run_args(line: &[&str]) -> Result<RunArgs, clap::Error> {
        let base = [
            "rollup-node",
            "node",
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "http://l1",
        ];
        let cli = Cli::try_parse_from(base.iter().chain(line))?;
        match cli.command {
            Command::Node(args) => Ok(args.run),
            command => panic!("parsed as {command:?}"),
        }
    }

    #[test]
    fn batcher_posting_flags() {
        let defaults = run_args(&[]).unwrap();
        // Unset: 60s for `node`, the devnet's own default for `devnet`.
        assert_eq!(defaults.batcher_max_delay, None);
        assert_eq!(defaults.batcher_window_margin, 10);
        let set =
            run_args(&["--batcher-max-delay", "30s", "--batcher-window-margin", "4"]).unwrap();
        assert_eq!(set.batcher_max_delay, Some(Duration::from_secs(30)));
        assert_eq!(set.batcher_window_margin, 4);
    }

    #[test]
    fn rpc_limits_default_to_the_servers_and_can_be_set() {
        let defaults = run_args(&[]).unwrap();
        assert_eq!(defaults.rpc_gascap, rollup_rpc::DEFAULT_GAS_CAP);
        assert_eq!(defaults.rpc_evm_timeout, rollup_rpc::DEFAULT_EVM_TIMEOUT);
        assert_eq!(
            defaults.rpc_max_heavy_requests,
            rollup_rpc::default_max_heavy_requests()
        );
        assert_eq!(
            defaults.rpc_heavy_queue_timeout,
            rollup_rpc::DEFAULT_HEAVY_QUEUE_TIMEOUT
        );

        let set = run_args(&[
            "--rpc-gascap",
            "1000000",
            "--rpc-evm-timeout",
            "500ms",
            "--rpc-max-heavy-requests",
            "32",
            "--rpc-heavy-queue-timeout",
            "1s",
        ])
        .unwrap();
        assert_eq!(set.rpc_gascap, 1_000_000);
        assert_eq!(set.rpc_evm_timeout, Duration::from_millis(500));
        assert_eq!(set.rpc_max_heavy_requests, 32);
        assert_eq!(set.rpc_heavy_queue_timeout, Duration::from_secs(1));

        for zero in [
            ["--rpc-gascap", "0"],
            ["--rpc-evm-timeout", "0s"],
            ["--rpc-max-heavy-requests", "0"],
        ] {
            assert!(run_args(&zero).is_err(), "{zero:?} accepted");
        }
    }
}
