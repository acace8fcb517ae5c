//! `reth-rollup`: a reth L1 node with the whole rollup installed as an execution extension.
//!
//! A thin adapter: reth's `ExExNotification`s become the core's `L1Notification`s
//! ([`convert`]); the core ([`RollupNode`]) and every configured role (sequencer with its pool,
//! batcher, proposer defending its proposals, challenger) run exactly as in `rollup-node`, wired
//! by `rollup-service`, with the roles reaching L1 through reth's own `eth_*` methods in-process
//! (their transactions enter reth's pool; no HTTP between two parts of one process).
//! `--rollup.dev` with reth's `--dev` deploys the rollup's contracts on reth's dev chain and runs
//! every role: a one-process devnet.
//!
//! Batches go to L1 in EIP-4844 blobs where reth's chain takes them (`--rollup.batcher-data`);
//! the ExEx attaches their blobs to reth's blocks ([`blobs`]) from the batcher's own, reth's
//! blob pool, or a beacon API (`--rollup.l1-beacon-url`).
//!
//! # Invariants
//! - On start the notification stream resumes from the core's stored L1 cursor
//!   (`set_notifications_with_head`), so reth backfills exactly the blocks the core lacks.
//! - `FinishedHeight` is sent only after the MDBX transaction holding that L1 block's L2 state
//!   commits, for committed, reorged and reverted chains alike.
//! - The ExEx future never returns while the node runs: it ends only when reth closes the
//!   notification stream at shutdown, or with an error that reth treats as critical.
//! - Every blob batch the core derives from reaches it with its blobs, each checked against its
//!   versioned hash; one whose blobs cannot be had stops the ExEx, it is never skipped.
//! - L2 `eth_*` is served only on `--rollup.rpc-addr`; reth's own server keeps its L1 `eth_*`
//!   and gains only the `rollup_*` methods.

mod blobs;
mod convert;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use eyre::WrapErr;
use futures_util::TryStreamExt;
use reth_ethereum::{
    EthPrimitives,
    chainspec::EthereumHardforks,
    cli::{chainspec::EthereumChainSpecParser, interface::Cli},
    exex::{ExExContext, ExExHead, ExExNotificationsStream},
    node::{
        EthereumNode,
        api::{FullNodeComponents, NodeTypes},
    },
    pool::TransactionPool,
    provider::{BlockHashReader, BlockIdReader, BlockNumReader, ReceiptProvider},
    rpc::builder::{RethRpcModule, RpcModuleSelection},
};
use reth_stages_types::ExecutionStageThresholds;
use rollup_l1::{BlobSource, InProcessTransport};
use rollup_node_core::{L1Finalized, RollupNode};
use rollup_primitives::{BlockNumHash, RollupConfig};
use rollup_rpc::{RpcContext, RpcServerConfig};
use rollup_service::{
    DataPath, L1Link, ProposalHead, RoleSettings, Roles, Services, cli::RoleSwitch, devnet,
    parse_duration, parse_http_url, parse_nonzero_duration, parse_proposal_head,
};
use rollup_storage::Store;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::{blobs::BlobAttacher, convert::to_l1_notification};

#[global_allocator]
static ALLOC: reth_cli_util::allocator::Allocator = reth_cli_util::allocator::new_allocator();
// Makes jemalloc's symbols visible to the linker, so it also serves C code (libmdbx, RocksDB).
use reth_cli_util::allocator::tikv_jemalloc_sys as _;

/// Most L1 blocks in one backfilled chain reth hands the ExEx.
const BACKFILL_CHUNK_BLOCKS: u64 = 1_000;

/// How often in a row the ExEx may re-open reth's stream from the stored cursor without the
/// cursor moving before it gives up: a gap reth cannot fill is an error, never a silent skip.
const MAX_CATCH_UPS_WITHOUT_PROGRESS: u32 = 3;

/// Where the batcher puts batches' transactions (`--rollup.batcher-data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BatcherData {
    /// Blobs if reth's chain has EIP-4844 (Cancun) active now, calldata otherwise.
    Auto,
    /// EIP-4844 blobs: the envelope in calldata, the transactions in up to 5 blobs per batch.
    Blobs,
    /// Calldata only: at most 120 000 bytes per batch.
    Calldata,
}

/// The rollup's flags, added to reth's `node` command. Every flag takes an explicit clap id:
/// field names alone (`config`, `datadir`) are ids reth's own `node` arguments already use, and
/// clap then refuses every command line.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Rollup")]
struct RollupArgs {
    /// The rollup config (JSON: chain ids, contract addresses, L2 genesis). Not needed with
    /// --rollup.dev, which writes its own to the rollup datadir.
    #[arg(
        id = "rollup.config",
        long = "rollup.config",
        value_name = "FILE",
        env = "ROLLUP_CONFIG",
        required_unless_present = "rollup.dev",
        conflicts_with = "rollup.dev"
    )]
    config: Option<PathBuf>,
    /// Where the rollup keeps its data; its MDBX database is `<dir>/db`.
    /// Defaults to `<reth datadir>/rollup`.
    #[arg(
        id = "rollup.datadir",
        long = "rollup.datadir",
        value_name = "DIR",
        env = "ROLLUP_DATADIR"
    )]
    datadir: Option<PathBuf>,
    /// One-process devnet on reth's dev chain (needs --dev): deploys the rollup's contracts
    /// (or resumes those in the rollup datadir), writes `rollup.json` and `devnet.json` there, and
    /// runs every role as `rollup-node devnet` does: sequencer, batcher (dev account 1),
    /// proposer (2) and challenger (10), with the dev accounts' keys (anvil's test mnemonic;
    /// never use them anywhere real), as `devnet.json` lists them.
    #[arg(id = "rollup.dev", long = "rollup.dev", requires = "dev")]
    dev: bool,
    /// L2 chain id of a new --rollup.dev devnet [default: 42069]. It is fixed at genesis: a
    /// devnet resumed from its datadir keeps its own and refuses a different value.
    #[arg(
        id = "rollup.dev-l2-chain-id",
        long = "rollup.dev-l2-chain-id",
        value_name = "ID",
        requires = "rollup.dev",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    dev_l2_chain_id: Option<u64>,
    /// Address of the L2 JSON-RPC server (`eth_*`, `net_*`, `web3_*`, `rollup_*`; HTTP and
    /// WebSocket on one port). Separate from reth's, whose `eth_*` is L1.
    #[arg(
        id = "rollup.rpc-addr",
        long = "rollup.rpc-addr",
        value_name = "ADDR",
        env = "ROLLUP_RPC_ADDR",
        default_value = "127.0.0.1:9545",
        value_parser = rollup_service::parse_socket_addr
    )]
    rpc_addr: SocketAddr,
    /// Largest block range one L2 `eth_getLogs` may scan (0 for no limit).
    #[arg(id = "rollup.rpc-max-block-range", long = "rollup.rpc-max-block-range", value_name = "BLOCKS", default_value_t = rollup_rpc::DEFAULT_MAX_BLOCK_RANGE)]
    rpc_max_block_range: u64,
    /// Most logs one `eth_getLogs` over several blocks returns (0 for no limit); past it the
    /// request is refused with the range that fits.
    #[arg(id = "rollup.rpc-max-logs-per-response", long = "rollup.rpc-max-logs-per-response", value_name = "LOGS", default_value_t = rollup_rpc::DEFAULT_MAX_LOGS_PER_RESPONSE)]
    rpc_max_logs_per_response: usize,
    /// Web origins a browser page may call the rollup's HTTP RPC from (CORS): `*` or a
    /// comma-separated list; unset, no CORS headers (reth's `--http.corsdomain` covers only
    /// reth's own server).
    #[arg(
        id = "rollup.rpc-cors-domain",
        long = "rollup.rpc-cors-domain",
        value_name = "ORIGINS",
        value_parser = rollup_service::parse_cors_domains
    )]
    rpc_cors_domain: Option<String>,
    /// How many L2 blocks of history (old state, old proofs) the rollup keeps; older history
    /// is pruned. Keep it above the challenge period in blocks plus margin; the blocks an L1
    /// reorg of up to 1 024 blocks could unwind are kept whatever this says.
    #[arg(id = "rollup.history-retention", long = "rollup.history-retention", value_name = "BLOCKS", default_value_t = rollup_storage::DEFAULT_HISTORY_RETENTION)]
    history_retention: u64,
    /// Gas cap of L2 `eth_call` / `eth_estimateGas`.
    #[arg(id = "rollup.rpc-gascap", long = "rollup.rpc-gascap", value_name = "GAS", default_value_t = RpcServerConfig::default().gas_cap)]
    rpc_gascap: u64,
    /// Time limit of one L2 `eth_call` / `eth_estimateGas`.
    #[arg(id = "rollup.rpc-evm-timeout", long = "rollup.rpc-evm-timeout", value_name = "DURATION", default_value = "5s", value_parser = parse_nonzero_duration)]
    rpc_evm_timeout: Duration,
    /// Heavy L2 requests (calls, logs, proofs) running at once.
    #[arg(id = "rollup.rpc-max-heavy-requests", long = "rollup.rpc-max-heavy-requests", value_name = "N", default_value_t = RpcServerConfig::default().max_heavy_requests)]
    rpc_max_heavy_requests: usize,
    /// Longest a heavy L2 request waits for a slot before it is answered "busy".
    #[arg(id = "rollup.rpc-heavy-queue-timeout", long = "rollup.rpc-heavy-queue-timeout", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    rpc_heavy_queue_timeout: Duration,
    /// How long an L2 HTTP connection may go without sending a whole request's headers (idle
    /// between requests, or half sent) before it is closed; geth's keep-alive idle timeout.
    #[arg(id = "rollup.rpc-http-idle-timeout", long = "rollup.rpc-http-idle-timeout", value_name = "DURATION", env = "ROLLUP_RPC_HTTP_IDLE_TIMEOUT", default_value = "120s", value_parser = parse_nonzero_duration)]
    rpc_http_idle_timeout: Duration,
    /// Most `eth_subscribe` subscriptions one L2 WebSocket connection may hold; one more is
    /// refused (-32006).
    #[arg(id = "rollup.rpc-max-subscriptions-per-connection", long = "rollup.rpc-max-subscriptions-per-connection", value_name = "N", env = "ROLLUP_RPC_MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = rollup_rpc::DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION, value_parser = clap::value_parser!(u32).range(1..))]
    rpc_max_subscriptions_per_connection: u32,
    /// Most L2 filters (`eth_newFilter`, `eth_newBlockFilter`,
    /// `eth_newPendingTransactionFilter`) installed at once, for all clients together; one more
    /// is refused (-32005). Filters not polled for 5 minutes expire.
    #[arg(id = "rollup.rpc-max-filters", long = "rollup.rpc-max-filters", value_name = "N", env = "ROLLUP_RPC_MAX_FILTERS", default_value_t = rollup_rpc::DEFAULT_MAX_FILTERS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    rpc_max_filters: usize,
    /// Most connections the L2 RPC holds open at once.
    #[arg(id = "rollup.rpc-max-connections", long = "rollup.rpc-max-connections", value_name = "N", env = "ROLLUP_RPC_MAX_CONNECTIONS", default_value_t = rollup_rpc::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    rpc_max_connections: u32,
    /// Most of those one client address may hold (0 for no cap); one more is answered HTTP 429
    /// and closed. Loopback clients are not capped.
    #[arg(id = "rollup.rpc-max-connections-per-ip", long = "rollup.rpc-max-connections-per-ip", value_name = "N", env = "ROLLUP_RPC_MAX_CONNECTIONS_PER_IP", default_value_t = rollup_rpc::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    rpc_max_connections_per_ip: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client, comma-separated addresses or
    /// ranges (`127.0.0.1,10.0.0.0/8`): their requests are held to the per-client shares as
    /// that client. Ignored from any other address. None by default.
    #[arg(
        id = "rollup.rpc-trusted-proxies",
        long = "rollup.rpc-trusted-proxies",
        value_name = "RANGES",
        env = "ROLLUP_RPC_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    rpc_trusted_proxies: Vec<rollup_rpc::IpRange>,
    /// Run the sequencer: build L2 blocks from a transaction pool (and serve
    /// `eth_sendRawTransaction` on the L2 RPC).
    #[arg(
        id = "rollup.sequencer",
        long = "rollup.sequencer",
        env = "ROLLUP_SEQUENCER"
    )]
    sequencer: bool,
    /// Run the batcher with this L1 key (the BatchInbox's batcher): posts L2 blocks to L1
    /// through reth's own pool. --rollup.dev runs it with dev account 1.
    #[arg(
        id = "rollup.batcher-key",
        long = "rollup.batcher-key",
        value_name = "KEY",
        env = "ROLLUP_BATCHER_KEY",
        hide_env_values = true,
        conflicts_with = "rollup.dev"
    )]
    batcher_key: Option<String>,
    /// Run the proposer with this L1 key: proposes output roots of L2 blocks with the
    /// StateManager's bond, and defends them in the DisputeGame. --rollup.dev runs it with dev
    /// account 2.
    #[arg(
        id = "rollup.proposer-key",
        long = "rollup.proposer-key",
        value_name = "KEY",
        env = "ROLLUP_PROPOSER_KEY",
        hide_env_values = true,
        conflicts_with = "rollup.dev"
    )]
    proposer_key: Option<String>,
    /// Run the challenger with this L1 key: challenges every proposal in its challenge period
    /// whose output root differs from this node's, posting the DisputeGame's challenger bond
    /// (the account must hold it on L1), plays the games, resolves them and claims what it wins.
    /// The proposer defends its own proposals without it. --rollup.dev runs it with dev account
    /// 10.
    #[arg(
        id = "rollup.challenger-key",
        long = "rollup.challenger-key",
        value_name = "KEY",
        env = "ROLLUP_CHALLENGER_KEY",
        hide_env_values = true,
        conflicts_with = "rollup.dev"
    )]
    challenger_key: Option<String>,
    /// L2 block interval of the sequencer.
    #[arg(id = "rollup.block-time", long = "rollup.block-time", value_name = "DURATION", default_value = "1s", value_parser = parse_nonzero_duration)]
    block_time: Duration,
    /// How often the batcher looks for L2 blocks to post.
    #[arg(id = "rollup.batcher-interval", long = "rollup.batcher-interval", value_name = "DURATION", default_value = "2s", value_parser = parse_nonzero_duration)]
    batcher_interval: Duration,
    /// Longest an L2 block with transactions waits to be posted [default: 60s; 1s with
    /// --rollup.dev].
    #[arg(id = "rollup.batcher-max-delay", long = "rollup.batcher-max-delay", value_name = "DURATION", value_parser = parse_duration)]
    batcher_max_delay: Option<Duration>,
    /// L1 blocks to spare before the sequencing window of the oldest pending L2 block closes.
    #[arg(
        id = "rollup.batcher-window-margin",
        long = "rollup.batcher-window-margin",
        value_name = "BLOCKS",
        default_value_t = 10
    )]
    batcher_window_margin: u64,
    /// How often the proposer considers proposing a new state root [default: 1h; 30s with
    /// --rollup.dev]. Each proposal locks its bond for the challenge period.
    #[arg(id = "rollup.proposal-interval", long = "rollup.proposal-interval", value_name = "DURATION", value_parser = parse_nonzero_duration)]
    proposal_interval: Option<Duration>,
    /// Which L2 head the proposer proposes: `finalized` or `safe` [default: finalized; safe with
    /// --rollup.dev].
    #[arg(
        id = "rollup.proposer-head",
        long = "rollup.proposer-head",
        value_name = "HEAD",
        value_parser = parse_proposal_head
    )]
    proposer_head: Option<ProposalHead>,
    /// How often the challenger, and the proposer defending its proposals, look at the
    /// DisputeGame and move [default: 12s; 1s with --rollup.dev]. Keep it far inside the game's
    /// clock: a side that does not move in time loses.
    #[arg(id = "rollup.dispute-interval", long = "rollup.dispute-interval", value_name = "DURATION", value_parser = parse_nonzero_duration)]
    dispute_interval: Option<Duration>,
    /// How long an L1 transaction of a role waits before it is re-sent with higher fees.
    #[arg(id = "rollup.l1-resubmit-after", long = "rollup.l1-resubmit-after", value_name = "DURATION", default_value = "12s", value_parser = parse_nonzero_duration)]
    l1_resubmit_after: Duration,
    /// Where the batcher puts batches' transactions: `blobs` (EIP-4844: the envelope in
    /// calldata, the transactions in up to 5 blobs per batch; a batch without transactions still
    /// goes as calldata), `calldata` (at most 120 000 bytes per batch), or `auto`: blobs when
    /// reth's chain has Cancun active (mainnet, Sepolia, Holesky, Hoodi and --dev do), calldata
    /// otherwise. Only with a batcher (--rollup.batcher-key, --rollup.dev). The node reads its
    /// own blobs back from memory and from reth's blob pool; after a restart it may need
    /// --rollup.l1-beacon-url (see there).
    #[arg(
        id = "rollup.batcher-data",
        long = "rollup.batcher-data",
        value_name = "DATA",
        env = "ROLLUP_BATCHER_DATA",
        value_enum,
        default_value_t = BatcherData::Auto
    )]
    batcher_data: BatcherData,
    /// Beacon API of this L1's consensus client (e.g. `http://localhost:5052`), where the rollup
    /// reads the blobs of blob batches it finds neither among its own batcher's (in memory, or
    /// rebuilt from the L2 blocks it holds) nor in reth's blob pool. reth's pool keeps a blob
    /// transaction's blobs only until its block is finalized, and drops them all when reth
    /// starts: a replica that restarts and replays another batcher's blob batches, or first
    /// derives a rollup that was posted in blobs, needs this. Without it, such a blob batch stops
    /// the node with an error (skipping it would fork this node from the other replicas). The
    /// proposer and challenger fetch a disputed batch's blobs here too when they cannot rebuild
    /// them. reth's --dev chain has no beacon node: a --rollup.dev devnet reads its blobs from memory, the
    /// pool and its own blocks only.
    #[arg(
        id = "rollup.l1-beacon-url",
        long = "rollup.l1-beacon-url",
        value_name = "URL",
        env = "ROLLUP_L1_BEACON_URL",
        value_parser = parse_http_url
    )]
    l1_beacon_url: Option<String>,
    /// Bytes of batch data the batcher gets onto L1 per L1 block. The sequencer takes no more
    /// transactions than this rate can post before the sequencing window of each pending block
    /// closes (keeping a quarter of the window in hand); past that it builds deposit-only
    /// blocks and the L2 `eth_sendRawTransaction` answers "sequencer is throttled" until the
    /// batcher catches up [default: one full batch per L1 block: 120 000 bytes with calldata,
    /// 524 288 with blobs].
    #[arg(
        id = "rollup.sequencer-l1-bytes-per-block",
        long = "rollup.sequencer-l1-bytes-per-block",
        value_name = "BYTES",
        env = "ROLLUP_SEQUENCER_L1_BYTES_PER_BLOCK",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    sequencer_l1_bytes_per_block: Option<u64>,
    /// Most batch transactions the batcher has in flight at once, at consecutive nonces, each
    /// continuing the one before: more than one lets a backlog use more than one batch's worth
    /// of each L1 block. At most 16, what reth's pool keeps pending per account.
    #[arg(
        id = "rollup.batcher-max-in-flight",
        long = "rollup.batcher-max-in-flight",
        value_name = "N",
        env = "ROLLUP_BATCHER_MAX_IN_FLIGHT",
        default_value_t = rollup_service::DEFAULT_MAX_IN_FLIGHT,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16)
    )]
    batcher_max_in_flight: usize,
    #[command(flatten)]
    txpool: RollupTxPoolArgs,
}

rollup_sequencer::txpool_args!(
    /// The limits of the rollup's own transaction pool (the L2 sequencer's), under
    /// `--rollup.txpool.*`: reth's `--txpool.*` flags size its L1 pool.
    struct RollupTxPoolArgs,
    prefix = "rollup."
);

impl RollupArgs {
    /// Of the role-only flags `typed`, those whose role this node does not run, each with the
    /// flags that would run it.
    fn unused_role_flags(&self, typed: &[(String, RoleSwitch)]) -> Vec<(String, String)> {
        let runs = |role: RoleSwitch| {
            self.dev
                || match role {
                    RoleSwitch::Sequencer => self.sequencer,
                    RoleSwitch::Batcher => self.batcher_key.is_some(),
                    RoleSwitch::Proposer => self.proposer_key.is_some(),
                    RoleSwitch::Dispute => {
                        self.proposer_key.is_some() || self.challenger_key.is_some()
                    }
                    RoleSwitch::L1Sender => {
                        self.batcher_key.is_some()
                            || self.proposer_key.is_some()
                            || self.challenger_key.is_some()
                    }
                }
        };
        typed
            .iter()
            .filter(|(_, role)| !runs(*role))
            .map(|(flag, role)| (flag.clone(), role.flags("rollup.")))
            .collect()
    }

    fn roles(&self) -> eyre::Result<Roles> {
        if self.dev {
            // Every role of `rollup-node devnet`, with the dev accounts `devnet.json` names
            // (the key flags conflict with --rollup.dev).
            let signers = devnet::dev_signers();
            return Ok(Roles {
                sequencer: true,
                batcher: Some(signers[devnet::BATCHER_ACCOUNT].clone()),
                proposer: Some(signers[devnet::PROPOSER_ACCOUNT].clone()),
                challenger: Some(signers[devnet::CHALLENGER_ACCOUNT].clone()),
                beacon_url: self.l1_beacon_url.clone(),
            });
        }
        let roles = Roles::from_flags(
            self.sequencer,
            self.batcher_key.as_deref(),
            "--rollup.batcher-key",
            self.proposer_key.as_deref(),
            "--rollup.proposer-key",
        )?
        .with_challenger_key(self.challenger_key.as_deref(), "--rollup.challenger-key")?
        .with_beacon_url(self.l1_beacon_url.as_deref());
        // Before reth starts: found in the ExEx, it crashed it with reth's RPC already up.
        roles.check_distinct_keys()?;
        Ok(roles)
    }

    /// Where the batcher puts batches, with `auto` resolved by whether reth's chain takes blob
    /// transactions now (`blobs_active`). Without a batcher: calldata, the size every block
    /// fits whichever way the batcher elsewhere posts it (as `rollup-node` does).
    fn data_path(&self, has_batcher: bool, blobs_active: bool) -> eyre::Result<DataPath> {
        if !has_batcher {
            return Ok(DataPath::Calldata);
        }
        Ok(match self.batcher_data {
            BatcherData::Calldata => DataPath::Calldata,
            BatcherData::Blobs => {
                eyre::ensure!(
                    blobs_active,
                    "--rollup.batcher-data blobs: reth's chain has no Cancun (EIP-4844) active \
                     yet, so L1 takes no blob transactions; use --rollup.batcher-data calldata \
                     or auto"
                );
                DataPath::BLOBS
            }
            BatcherData::Auto if blobs_active => DataPath::BLOBS,
            BatcherData::Auto => DataPath::Calldata,
        })
    }

    fn role_settings(&self, batcher_data: DataPath) -> RoleSettings {
        let default_delay = Duration::from_secs(if self.dev { 1 } else { 60 });
        RoleSettings {
            block_time: self.block_time,
            batcher_interval: self.batcher_interval,
            batcher_max_delay: self.batcher_max_delay.unwrap_or(default_delay),
            batcher_window_margin: self.batcher_window_margin,
            proposal_interval: self
                .proposal_interval
                .unwrap_or(Duration::from_secs(if self.dev { 30 } else { 3_600 })),
            dispute_interval: self
                .dispute_interval
                .unwrap_or(Duration::from_secs(if self.dev { 1 } else { 12 })),
            proposal_head: self.proposer_head.unwrap_or(if self.dev {
                ProposalHead::Safe
            } else {
                ProposalHead::Finalized
            }),
            l1_resubmit_after: self.l1_resubmit_after,
            pool: self.txpool.pool_config(),
            // Where it is kept depends on the rollup datadir, which `run_rollup` resolves.
            pool_backup: None,
            // One full batch per L1 block, as the batcher posts them, unless told otherwise.
            l1_data_bytes_per_block: self
                .sequencer_l1_bytes_per_block
                .unwrap_or(batcher_data.max_batch_bytes() as u64),
            batcher_data,
            batcher_max_in_flight: self.batcher_max_in_flight,
        }
    }

    fn rpc_config(&self) -> RpcServerConfig {
        RpcServerConfig {
            addr: self.rpc_addr,
            max_block_range: self.rpc_max_block_range,
            max_logs_per_response: self.rpc_max_logs_per_response,
            cors_domains: self.rpc_cors_domain.clone(),
            gas_cap: self.rpc_gascap,
            evm_timeout: self.rpc_evm_timeout,
            max_heavy_requests: self.rpc_max_heavy_requests,
            heavy_queue_timeout: self.rpc_heavy_queue_timeout,
            http_idle_timeout: self.rpc_http_idle_timeout,
            max_subscriptions_per_connection: self.rpc_max_subscriptions_per_connection,
            max_filters: self.rpc_max_filters,
            max_connections: self.rpc_max_connections,
            max_connections_per_ip: self.rpc_max_connections_per_ip,
            trusted_proxies: self.rpc_trusted_proxies.clone(),
            ..Default::default()
        }
    }
}

/// The rollup's core with its database, once its config is known.
struct Core {
    config: Arc<RollupConfig>,
    store: Store,
    node: RollupNode,
    /// Held for as long as the rollup runs in this reth: one node per rollup datadir.
    _lock: rollup_storage::DatadirLock,
}

impl Core {
    fn open(config: RollupConfig, datadir: &Path, history_retention: u64) -> eyre::Result<Self> {
        let config = Arc::new(config);
        let db_path = datadir.join("db");
        let lock = rollup_storage::DatadirLock::acquire(&db_path)?;
        let store = Store::open(&db_path)
            .wrap_err_with(|| format!("cannot open the rollup database at {}", db_path.display()))?
            .with_history_retention(history_retention);
        let node = RollupNode::new(config.clone(), store.clone())?;
        Ok(Self {
            config,
            store,
            node,
            _lock: lock,
        })
    }
}

/// reth's command line with the rollup's flags on `node`.
type RethRollupCli = Cli<EthereumChainSpecParser, RollupArgs>;

/// Parses `args` as reth does, and returns with them the role-only flags typed on `node`'s
/// command line (a warning names those whose role does not run, once logging is up).
fn parse_from(
    args: &[std::ffi::OsString],
) -> Result<(RethRollupCli, Vec<(String, RoleSwitch)>), clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let command = RethRollupCli::command();
    let matches = command.clone().try_get_matches_from(args)?;
    let cli = RethRollupCli::from_arg_matches(&matches)
        .map_err(|err| err.format(&mut RethRollupCli::command()))?;
    let typed = match (command.find_subcommand("node"), matches.subcommand()) {
        (Some(node), Some(("node", node_matches))) => {
            rollup_service::cli::typed_role_flags(node, node_matches, "rollup.")
        }
        _ => Vec::new(),
    };
    Ok((cli, typed))
}

/// reth's engine flags that make it persist every block, and their values.
const PERSIST_EVERY_BLOCK: [(&str, &str); 2] = [
    ("--engine.persistence-threshold", "0"),
    ("--engine.memory-block-buffer-target", "0"),
];

/// `args` with [`PERSIST_EVERY_BLOCK`] added for a `--rollup.dev` devnet on reth's `--dev`
/// chain, where the command line sets neither. reth keeps its newest blocks in memory and
/// persists them a few at a time: a kill -9 lost those L1 blocks and every L1 transaction in
/// them, a deposit reported credited on L2 included, and, in the first seconds of a new devnet,
/// part of its deployment.
fn persist_every_dev_block(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let given = |args: &[std::ffi::OsString], flag: &str| {
        args.iter().any(|arg| {
            arg.to_str().is_some_and(|arg| {
                arg == flag
                    || arg
                        .strip_prefix(flag)
                        .is_some_and(|rest| rest.starts_with('='))
            })
        })
    };
    // Either flag given: the command line's choice, whole (the two are checked together).
    let chosen = PERSIST_EVERY_BLOCK
        .iter()
        .any(|(flag, _)| given(&args, flag));
    if !given(&args, "--rollup.dev") || !given(&args, "--dev") || chosen {
        return args;
    }
    for (flag, value) in PERSIST_EVERY_BLOCK {
        args.push(flag.into());
        args.push(value.into());
    }
    args
}

fn main() -> eyre::Result<()> {
    reth_cli_util::sigsegv_handler::install();
    let args = persist_every_dev_block(std::env::args_os().collect());
    let (cli, typed) = parse_from(&args).unwrap_or_else(|err| {
        // A bad value from the environment names its variable, as rollup-node's do.
        use clap::CommandFactory;
        rollup_service::cli::naming_the_environment(err, &RethRollupCli::command(), &args, |name| {
            std::env::var_os(name).is_some()
        })
        .exit()
    });
    cli.run(async move |builder, args| {
        for (flag, switch) in args.unused_role_flags(&typed) {
            warn!(target: "rollup::exex", "{flag} tunes a role this node does not run: it has no effect without {switch}");
        }
        // A key that does not parse stops the command here, before reth starts.
        let roles = args.roles()?;
        // So does a taken L2 RPC address: found only once the ExEx runs, it would crash the
        // ExEx after the roles started, and reth could still exit with status 0.
        if let Err(err) = std::net::TcpListener::bind(args.rpc_addr) {
            eyre::bail!(
                "--rollup.rpc-addr {} cannot be used ({err}): another process (a node left running?) listens there; stop it or choose another address",
                args.rpc_addr
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let blobs_active = builder.config().chain.is_cancun_active_at_timestamp(now);
        let batcher_data = args.data_path(roles.batcher.is_some(), blobs_active)?;
        let datadir = args
            .datadir
            .clone()
            .unwrap_or_else(|| builder.config().datadir().data_dir().join("rollup"));
        std::fs::create_dir_all(&datadir)
            .wrap_err_with(|| format!("cannot create the rollup datadir {}", datadir.display()))?;
        let l1_chain_id = builder.config().chain.chain.id();
        // Before reth starts and before the devnet deploys anything to L1.
        if let Some(l2_chain_id) = args.dev_l2_chain_id {
            eyre::ensure!(
                l2_chain_id != l1_chain_id,
                "--rollup.dev-l2-chain-id {l2_chain_id} is the L1's own chain id (reth's --chain): the L2 needs another, or its transactions could be replayed on L1"
            );
        }
        let config_path = match (&args.config, args.dev) {
            (Some(path), _) => Some(path.clone()),
            (None, true) => Some(datadir.join(devnet::ROLLUP_CONFIG_FILE)).filter(|p| p.exists()),
            (None, false) => None,
        };
        if args.dev && config_path.is_none() {
            // Before anything is deployed: a database without its devnet's config is another
            // chain's, which a new deployment beside it would only find out after the fact.
            devnet::refuse_unresumable(&datadir, &[devnet::ROLLUP_CONFIG_FILE], "--rollup.datadir")?;
        }
        // With a config at hand the core opens now, so reth's own server also serves rollup_*;
        // a new --rollup.dev devnet opens it once its contracts are deployed.
        let core = match &config_path {
            Some(path) => {
                let config = RollupConfig::from_file(path).wrap_err_with(|| {
                    format!("cannot read the rollup config {}", path.display())
                })?;
                eyre::ensure!(
                    config.l1_chain_id == l1_chain_id,
                    "the rollup config {} is for L1 chain {}, but this node runs chain {l1_chain_id} (set --chain)",
                    path.display(),
                    config.l1_chain_id
                );
                if args.dev && args.config.is_none() {
                    // A --rollup.dev devnet being resumed: refused before reth starts.
                    devnet::check_resumable(&datadir, &config, args.dev_l2_chain_id, None)?;
                }
                Some(Core::open(config, &datadir, args.history_retention)?)
            }
            None => None,
        };
        let reth_rollup_context = core.as_ref().map(|core| {
            RpcContext::new(
                core.store.clone(),
                core.config.clone(),
                core.node.heads(),
                None,
            )
        });
        let l1_http = builder
            .config()
            .rpc
            .http
            .then(|| format!("http://{}:{}", builder.config().rpc.http_addr, builder.config().rpc.http_port));
        let (eth_methods_tx, eth_methods_rx) = oneshot::channel();
        let (fatal_tx, fatal_rx) = oneshot::channel::<eyre::Report>();
        let handle = builder
            .node(EthereumNode::default())
            .extend_rpc_modules(move |ctx| {
                // reth's eth_* for the roles, called in-process (whether or not --http is on).
                let eth = ctx.registry.module_for(&RpcModuleSelection::from([RethRpcModule::Eth]));
                let transport = InProcessTransport::new(eth);
                if let Some(context) = reth_rollup_context {
                    // Proposals, dispute games and withdrawal stages are read from reth itself.
                    let l1 = L1Link::InProcess(transport.clone()).reader()?;
                    ctx.modules.merge_configured(rollup_namespace(context.with_l1(l1)))?;
                }
                let _ = eth_methods_tx.send(transport);
                Ok(())
            })
            .install_exex("rollup", async move |ctx| {
                // reth's metrics recorder is installed by now.
                rollup_node_core::metrics::register_at_zero();
                let rollup =
                    run_rollup(ctx, args, roles, batcher_data, datadir, core, eth_methods_rx, l1_http);
                Ok(async move {
                    // reth panics on an ExEx that returns, with or without an error, and the
                    // operator would read the cause between panic lines. The error goes to the
                    // command instead, which stops reth and exits with it; this task waits to
                    // be dropped with reth's others.
                    if let Err(err) = rollup.await {
                        error!(target: "rollup::exex", "the rollup stopped: {err:#}");
                        let _ = fatal_tx.send(err);
                    }
                    std::future::pending::<eyre::Result<()>>().await
                })
            })
            .launch_with_debug_capabilities()
            .await?;
        tokio::select! {
            exit = handle.wait_for_node_exit() => exit,
            Ok(err) = fatal_rx => Err(err.wrap_err("reth-rollup stopped")),
        }
    })
}

/// Methods of the L2 port that reth's server leaves out besides every non-`rollup_*` one:
/// `rollup_getRoles` reports the roles' health and pool, which start after reth's server is
/// built, so on reth's port it would list no roles while they run.
const L2_PORT_ONLY: &[&str] = &["rollup_getRoles"];

/// The `rollup_*` methods only: reth's server keeps its own (L1) `eth_*`.
fn rollup_namespace(ctx: RpcContext) -> jsonrpsee::RpcModule<()> {
    let mut module = rollup_rpc::rpc_module(ctx);
    let foreign: Vec<&'static str> = module
        .method_names()
        .filter(|name| !name.starts_with("rollup_") || L2_PORT_ONLY.contains(name))
        .collect();
    for name in foreign {
        module.remove_method(name);
    }
    module
}

/// Sets up what needs reth running (a --rollup.dev deployment, the roles' in-process L1 link,
/// the L2 RPC server), then runs the ExEx until reth shuts down.
#[allow(clippy::too_many_arguments)]
async fn run_rollup<Node>(
    ctx: ExExContext<Node>,
    args: RollupArgs,
    roles: Roles,
    batcher_data: DataPath,
    datadir: PathBuf,
    core: Option<Core>,
    eth_methods: oneshot::Receiver<InProcessTransport>,
    l1_http: Option<String>,
) -> eyre::Result<()>
where
    Node: FullNodeComponents<Types: NodeTypes<Primitives = EthPrimitives>>,
{
    let transport = eth_methods
        .await
        .wrap_err("reth started without its RPC modules; the rollup's roles cannot reach L1")?;
    let mut devnet = None;
    let core = match core {
        Some(core) => core,
        None => {
            // --rollup.dev on a new datadir: deploy through reth's own eth_* (dev mining).
            let setup = devnet::setup(
                &datadir,
                transport.clone().into_client(),
                "reth (in-process)",
                args.dev_l2_chain_id,
                None,
            )
            .await?;
            let core = Core::open(setup.config.clone(), &datadir, args.history_retention)?;
            devnet = Some(setup);
            core
        }
    };
    if args.dev && devnet.is_none() {
        devnet = Some(
            devnet::setup(
                &datadir,
                transport.clone().into_client(),
                "reth (in-process)",
                args.dev_l2_chain_id,
                None,
            )
            .await?,
        );
    }
    let cancel = CancellationToken::new();
    let heads = core.node.heads();
    let mut node = core.node;
    // Blocks are sized for the batches that carry them.
    node.set_data_path(batcher_data);
    let beacon = args
        .l1_beacon_url
        .as_deref()
        .map(|url| BlobSource::new(url, core.config.contracts.batch_inbox))
        .transpose()
        .wrap_err("cannot use --rollup.l1-beacon-url")?;
    if roles.batcher.is_some() {
        info!(target: "rollup::exex", data = batcher_data.as_str(), "batches go to L1 as {}", batcher_data.as_str());
        if matches!(batcher_data, DataPath::Blobs { .. }) && beacon.is_none() && !args.dev {
            warn!(target: "rollup::exex", "batches go in blobs but --rollup.l1-beacon-url is not set: this node reads them back from memory and reth's blob pool, which lose them at a restart, so a restart that replays an older L1 block with a blob batch stops until the flag is given");
        }
    }
    // The config against the deployment it names, as `rollup-node node` checks it: one that
    // contradicts it derives a chain of its own. A reth still syncing up to the deployment
    // has no code there yet: a warning.
    match rollup_service::check::check_deployment(
        transport.clone().into_client(),
        &core.config,
        roles.proposer.as_ref().map(|key| key.address()),
    )
    .await
    {
        Ok(warnings) => {
            for warning in warnings {
                warn!(target: "rollup::exex", "{warning}");
            }
        }
        Err(rollup_service::check::DeploymentCheck::Unread(why)) => {
            warn!(target: "rollup::exex", "cannot check the rollup config against its deployment on L1: {why}");
        }
        Err(err) => return Err(eyre::eyre!("{err}")),
    }
    let settings = RoleSettings {
        pool_backup: args.txpool.transactions_backup(&datadir),
        ..args.role_settings(batcher_data)
    };
    let mut services = Services::start(
        &core.config,
        &core.store,
        &heads,
        roles,
        &settings,
        &L1Link::InProcess(transport),
        &cancel,
    )?;
    // Saved when the rollup stops, or when it gives up from here on (dropped).
    let pool = services.take_pool_keeper();
    let (l2_rpc_addr, l2_rpc) = rollup_rpc::start_server(
        args.rpc_config(),
        services.rpc_context(&core.config, &core.store, heads),
    )
    .await
    // The cause in the message itself: reth prints an ExEx's error without its chain.
    .map_err(|err| {
        cancel.cancel();
        eyre::eyre!(
            "cannot serve the L2 JSON-RPC on {}: {err} (set --rollup.rpc-addr)",
            args.rpc_addr
        )
    })?;
    info!(target: "rollup::exex", addr = %l2_rpc_addr, datadir = %datadir.display(), "L2 JSON-RPC ready");
    let announced = match &devnet {
        Some(devnet) => {
            let info_path = datadir.join(devnet::DEVNET_INFO_FILE);
            let l1 = l1_http.clone().unwrap_or_default();
            if l1_http.is_none() {
                warn!(target: "rollup::exex", "reth's HTTP RPC is off (--http): devnet.json has no L1 URL for user commands");
            }
            devnet::write_json(&info_path, &devnet.info(&l1, l2_rpc_addr))
                .map(|()| {
                    info!(target: "rollup::exex", l1 = %l1, l2 = %format!("http://{l2_rpc_addr}"), details = %info_path.display(), "devnet ready");
                })
                .map_err(eyre::Report::from)
        }
        None => Ok(()),
    };
    // From here on every way out stops the L2 RPC server before the pool is saved.
    let result = match announced {
        Ok(()) => run_exex(ctx, node, services, beacon, cancel).await,
        Err(err) => {
            // The roles' tasks stop with the rollup, not only with reth's shutdown.
            cancel.cancel();
            Err(err)
        }
    };
    let _ = l2_rpc.stop();
    l2_rpc.stopped().await;
    // Only now: the L2 RPC server took transactions until it stopped.
    if let Some(pool) = pool {
        pool.save();
    }
    result
}

/// Refuses to start on an L1 that cannot feed this rollup, with a message that says what to do,
/// instead of letting reth fail deep inside its notification stream:
/// - the rollup's L1 origin is not the block this node holds at that height (wrong `--chain`, or
///   a config made for another deployment);
/// - this node pruned the receipts of the next block the rollup must derive from (deposits and
///   batches are read from receipts and bodies, so a pruned node cannot backfill the rollup).
///
/// A node that has not yet synced up to the origin is fine: the rollup waits for it.
fn check_l1_start<P>(provider: &P, origin: BlockNumHash, cursor: BlockNumHash) -> eyre::Result<()>
where
    P: BlockHashReader + BlockNumReader + ReceiptProvider,
{
    let best = provider.best_block_number()?;
    if origin.number <= best {
        let held = provider.block_hash(origin.number)?;
        eyre::ensure!(
            held == Some(origin.hash),
            "the rollup's L1 origin is block {} ({}), but this node holds {} at that height: \
             the rollup config belongs to another chain or deployment (check --chain and \
             --rollup.config)",
            origin.number,
            origin.hash,
            held.map_or_else(|| "no block".to_string(), |hash| hash.to_string())
        );
    } else {
        warn!(target: "rollup::exex", l1_origin = origin.number, l1_head = best, "reth has not reached the rollup's L1 origin yet; the rollup starts once it does");
    }
    let next = cursor.number + 1;
    if next <= best {
        let receipts = provider.receipts_by_block(next.into());
        eyre::ensure!(
            matches!(receipts, Ok(Some(_))),
            "this node no longer holds the receipts of L1 block {next}, which the rollup must derive \
             from next (its stored L1 cursor is {}): run reth without pruning receipts or bodies \
             below the rollup's L1 origin {} (an archive node), or re-sync it",
            cursor.number,
            origin.number
        );
    }
    Ok(())
}

/// The ExEx: feeds reth's notifications to the core (inside the sequencer's loop when
/// sequencing, exactly as `rollup-node` does), from the core's stored L1 cursor on, and reports
/// each durably stored tip to reth as `FinishedHeight`.
///
/// The core runs on its own task; this loop only converts and forwards, so a slow block never
/// delays reading reth's stream more than the one-notification channel allows (backpressure),
/// and a long backfill is applied one reth chain at a time.
async fn run_exex<Node>(
    mut ctx: ExExContext<Node>,
    mut node: RollupNode,
    mut services: Services,
    beacon: Option<BlobSource>,
    cancel: CancellationToken,
) -> eyre::Result<()>
where
    Node: FullNodeComponents<Types: NodeTypes<Primitives = EthPrimitives>>,
{
    let start = node.l1_cursor()?;
    check_l1_start(ctx.provider(), node.config().genesis.l1_origin, start)?;
    let blobs = BlobAttacher::new(
        node.config().contracts.batch_inbox,
        node.config().genesis.l1_origin.number,
        node.store().clone(),
        services.known_blobs(),
        Arc::from(ctx.pool().blob_store()),
        beacon,
    );
    // reth treats an ExEx head above the node's head at launch as off the canonical chain and
    // replays it from its WAL as a revert. A fresh --rollup.dev devnet is exactly that (its
    // origin was mined after launch): start from the launch head instead; the core skips the
    // blocks up to its origin and recognises the ones it holds.
    let head = if start.number > ctx.head.number {
        ctx.head
    } else {
        start
    };
    if start == node.config().genesis.l1_origin {
        info!(target: "rollup::exex", l1_block = start.number, hash = %start.hash, from = head.number, "starting at the rollup's L1 origin");
    } else {
        info!(target: "rollup::exex", l1_block = start.number, hash = %start.hash, from = head.number, "resuming from the stored L1 cursor");
    }
    // Backfill in chains of at most BACKFILL_CHUNK_BLOCKS L1 blocks (reth's default is 500 000):
    // each is converted and applied before the next is read, so a first start on a node far
    // past the rollup's origin holds one chunk at a time.
    ctx.notifications
        .set_backfill_thresholds(ExecutionStageThresholds {
            max_blocks: Some(BACKFILL_CHUNK_BLOCKS),
            ..Default::default()
        });
    ctx.set_notifications_with_head(ExExHead::new(head));

    let (finalized_tx, finalized_rx) = watch::channel(BlockNumHash::default());
    let mut catch_ups_without_progress = 0u32;
    loop {
        let (tx, rx) = mpsc::channel(1);
        let (finished_tx, mut finished_rx) = mpsc::unbounded_channel();
        let l1_finalized = L1Finalized::new(finalized_rx.clone());
        let core_cancel = cancel.child_token();
        let mut core = tokio::spawn({
            let core_cancel = core_cancel.clone();
            async move {
                let result = services
                    .drive(&mut node, rx, finished_tx, l1_finalized, core_cancel)
                    .await;
                (node, services, result)
            }
        });
        let mut stream_closed = false;
        let (returned_node, returned_services, result) = loop {
            tokio::select! {
                joined = &mut core => break joined.wrap_err("the rollup core task panicked")?,
                Some(height) = finished_rx.recv() => {
                    catch_ups_without_progress = 0;
                    ctx.send_finished_height(height)
                        .map_err(|_| eyre::eyre!("reth closed the ExEx event channel"))?;
                }
                next = ctx.notifications.try_next(), if !stream_closed => {
                    let cursor = start;
                    let Some(notification) = next.wrap_err_with(|| format!(
                        "reth cannot deliver L1 blocks from the rollup's stored L1 cursor {} ({}): \
                         if reth's datadir was replaced or re-synced to another chain, delete the \
                         rollup's datadir so it re-derives from its L1 origin",
                        cursor.number, cursor.hash
                    ))? else {
                        info!(target: "rollup::exex", "notification stream closed: the node is shutting down");
                        stream_closed = true;
                        core_cancel.cancel();
                        continue;
                    };
                    let notification = blobs.attach(to_l1_notification(&notification)?).await?;
                    if tx.send(notification).await.is_err() {
                        // The core stopped; its result arrives on the join branch.
                        continue;
                    }
                    // The finalized L2 head follows L1 finality.
                    if let Some(finalized) = ctx.provider().finalized_block_num_hash()? {
                        finalized_tx.send_if_modified(|current| {
                            let changed = *current != finalized;
                            *current = finalized;
                            changed
                        });
                    }
                }
            }
        };
        node = returned_node;
        services = returned_services;
        // Heights finished just before the core stopped.
        while let Ok(height) = finished_rx.try_recv() {
            ctx.send_finished_height(height)
                .map_err(|_| eyre::eyre!("reth closed the ExEx event channel"))?;
        }
        match result {
            Ok(()) => {
                services.stop().await;
                return Ok(());
            }
            // The notification does not connect to the stored chain: blocks went by that the
            // core never saw. Whatever was applied before is committed with its cursor;
            // re-open the stream from the stored cursor so reth backfills the gap.
            Err(err) if err.is_reset() => {
                let cursor = node.l1_cursor()?;
                catch_ups_without_progress += 1;
                metrics::counter!("rollup_exex_catch_ups_total").increment(1);
                if catch_ups_without_progress > MAX_CATCH_UPS_WITHOUT_PROGRESS {
                    services.stop().await;
                    return Err(err).wrap_err(format!(
                        "reth's notifications do not connect to the rollup's L1 cursor {} ({}) even after {MAX_CATCH_UPS_WITHOUT_PROGRESS} catch-ups; check that reth follows the rollup's L1 chain",
                        cursor.number, cursor.hash
                    ));
                }
                warn!(target: "rollup::exex", %err, l1_cursor = cursor.number, attempt = catch_ups_without_progress, "L1 notification does not connect; catching up from the stored cursor");
                ctx.catch_up_notifications_with_head(ExExHead::new(cursor))?;
            }
            Err(err) => {
                services.stop().await;
                return Err(err).wrap_err("the rollup core failed; stopping the ExEx");
            }
        }
        debug!(target: "rollup::exex", "core restarted after a catch-up");
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, time::Duration};

    use alloy_consensus::{BlockBody, Header};
    use alloy_primitives::{Address, B256};
    use clap::CommandFactory;
    use reth_ethereum::{
        Block,
        exex::ExExEvent,
        primitives::RecoveredBlock,
        provider::{Chain, ExecutionOutcome},
    };
    use reth_exex_test_utils::test_exex_context;
    use rollup_primitives::{ContractAddresses, L2Genesis};
    use rollup_sequencer::PoolConfig;

    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<RollupArgs, clap::Error> {
        let mut cli = RethRollupCli::try_parse_from(args.iter().copied())?;
        Ok(cli
            .as_node_command_mut()
            .expect("the `node` command was parsed")
            .ext
            .clone())
    }

    /// A `--rollup.dev` devnet on `--dev` has reth persist every block, unless the command line
    /// says otherwise; nothing else changes.
    #[test]
    fn a_dev_devnet_persists_every_block_unless_told_otherwise() {
        let args = |line: &[&str]| {
            persist_every_dev_block(line.iter().map(std::ffi::OsString::from).collect())
        };
        let engine = |line: Vec<std::ffi::OsString>| {
            let mut cli = RethRollupCli::try_parse_from(line).unwrap();
            let node = cli.as_node_command_mut().expect("the node command");
            (
                node.engine.persistence_threshold,
                node.engine.memory_block_buffer_target,
            )
        };
        assert_eq!(
            engine(args(&["reth-rollup", "node", "--dev", "--rollup.dev"])),
            (0, Some(0))
        );
        for line in [
            &["reth-rollup", "node", "--dev"][..],
            &["reth-rollup", "node", "--rollup.dev"],
            &[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev-l2-chain-id",
                "5",
            ],
            &[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev",
                "--engine.persistence-threshold=7",
            ],
            &[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev",
                "--engine.memory-block-buffer-target",
                "1",
            ],
        ] {
            assert_eq!(args(line).len(), line.len(), "{line:?}");
        }
        assert_eq!(
            engine(args(&[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev",
                "--engine.persistence-threshold=7"
            ]))
            .0,
            7
        );
    }

    #[test]
    fn cli_definition_is_consistent() {
        // clap's own checks: duplicate ids, clashing long flags, bad defaults.
        RethRollupCli::command().debug_assert();
    }

    #[test]
    fn rollup_flags_parse_beside_reths_datadir_config_dev_and_chain() {
        let args = parse(&[
            "reth-rollup",
            "node",
            "--dev",
            "--datadir",
            "/data/reth",
            "--config",
            "/data/reth.toml",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.datadir",
            "/data/rollup",
            "--rollup.rpc-addr",
            "127.0.0.1:19545",
        ])
        .unwrap();
        assert_eq!(args.config, Some(PathBuf::from("/data/rollup.json")));
        assert_eq!(args.datadir, Some(PathBuf::from("/data/rollup")));
        assert_eq!(args.rpc_addr, "127.0.0.1:19545".parse().unwrap());

        let args = parse(&[
            "reth-rollup",
            "node",
            "--chain",
            "sepolia",
            "--datadir",
            "/data/reth",
            "--rollup.config",
            "/data/rollup.json",
        ])
        .unwrap();
        assert_eq!(args.datadir, None, "defaults to <reth datadir>/rollup");
        assert_eq!(args.rpc_addr, "127.0.0.1:9545".parse().unwrap());
    }

    #[test]
    fn role_flags_parse_with_the_rollup_prefix() {
        let args = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.sequencer",
            "--rollup.batcher-key",
            "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
            "--rollup.block-time",
            "250ms",
            "--rollup.batcher-max-delay",
            "5s",
        ])
        .unwrap();
        let roles = args.roles().unwrap();
        assert!(roles.sequencer && roles.batcher.is_some() && roles.proposer.is_none());
        let settings = args.role_settings(DataPath::Calldata);
        assert_eq!(settings.block_time, Duration::from_millis(250));
        assert_eq!(settings.batcher_max_delay, Duration::from_secs(5));
        let bad = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.proposer-key",
            "0x12",
        ])
        .unwrap();
        let err = bad.roles().unwrap_err().to_string();
        assert!(err.contains("--rollup.proposer-key"), "{err}");
    }

    #[test]
    fn pool_and_data_limits_parse_beside_reths_own_txpool_flags() {
        let args = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            // reth's own: its L1 pool.
            "--txpool.pending-max-count",
            "7",
            "--rollup.txpool.pending-max-count",
            "50000",
            "--rollup.txpool.queued-max-count",
            "9000",
            "--rollup.txpool.max-account-slots",
            "32",
            "--rollup.sequencer-l1-bytes-per-block",
            "100000",
            "--rollup.batcher-max-in-flight",
            "8",
            "--rollup.rpc-max-filters",
            "64",
            "--rollup.rpc-max-subscriptions-per-connection",
            "12",
        ])
        .unwrap();
        let settings = args.role_settings(DataPath::BLOBS);
        assert_eq!(settings.pool.max_pending, 50_000);
        assert_eq!(settings.pool.max_queued, 9_000);
        assert_eq!(settings.pool.max_queued_per_sender, 32);
        assert_eq!(settings.l1_data_bytes_per_block, 100_000);
        assert_eq!(settings.batcher_max_in_flight, 8);
        let rpc = args.rpc_config();
        assert_eq!(
            (rpc.max_filters, rpc.max_subscriptions_per_connection),
            (64, 12)
        );

        let defaults = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
        ])
        .unwrap();
        let settings = defaults.role_settings(DataPath::BLOBS);
        assert_eq!(settings.pool.max_pending, PoolConfig::default().max_pending);
        assert_eq!(
            settings.l1_data_bytes_per_block,
            DataPath::BLOBS.max_batch_bytes() as u64
        );
        assert_eq!(
            settings.batcher_max_in_flight,
            rollup_service::DEFAULT_MAX_IN_FLIGHT
        );
        let err = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.batcher-max-in-flight",
            "17",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("--rollup.batcher-max-in-flight"), "{err}");
    }

    #[test]
    fn challenger_key_and_dispute_interval_parse_with_the_rollup_prefix() {
        let challenger = &devnet::dev_signers()[devnet::CHALLENGER_ACCOUNT];
        let key = alloy_primitives::hex::encode_prefixed(challenger.credential().to_bytes());
        let args = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.challenger-key",
            &key,
            "--rollup.dispute-interval",
            "3s",
        ])
        .unwrap();
        let roles = args.roles().unwrap();
        assert!(!roles.sequencer && roles.batcher.is_none() && roles.proposer.is_none());
        assert_eq!(
            roles.challenger.map(|signer| signer.address()),
            Some(challenger.address()),
            "a challenger alone: a replica that watches proposals"
        );
        assert_eq!(
            args.role_settings(DataPath::Calldata).dispute_interval,
            Duration::from_secs(3)
        );

        let args = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
        ])
        .unwrap();
        assert!(
            args.roles().unwrap().challenger.is_none(),
            "no key, no challenger"
        );
        assert_eq!(
            args.role_settings(DataPath::Calldata).dispute_interval,
            Duration::from_secs(12)
        );

        let bad = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.challenger-key",
            "0x12",
        ])
        .unwrap();
        let err = bad.roles().unwrap_err().to_string();
        assert!(err.contains("--rollup.challenger-key"), "{err}");

        let err = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.dispute-interval",
            "0s",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--rollup.dispute-interval") && err.contains("zero"),
            "a zero interval would spin: {err}"
        );
    }

    #[test]
    fn rollup_dev_needs_reths_dev_and_no_config() {
        let args = parse(&["reth-rollup", "node", "--dev", "--rollup.dev"]).unwrap();
        assert!(args.dev && args.config.is_none());
        // Every role of `rollup-node devnet`, with the accounts devnet.json names.
        let roles = args.roles().unwrap();
        let signers = devnet::dev_signers();
        assert!(roles.sequencer);
        assert_eq!(
            roles.batcher.map(|signer| signer.address()),
            Some(signers[devnet::BATCHER_ACCOUNT].address())
        );
        assert_eq!(
            roles.proposer.map(|signer| signer.address()),
            Some(signers[devnet::PROPOSER_ACCOUNT].address())
        );
        assert_eq!(
            roles.challenger.map(|signer| signer.address()),
            Some(signers[devnet::CHALLENGER_ACCOUNT].address())
        );
        let settings = args.role_settings(DataPath::Calldata);
        assert_eq!(settings.batcher_max_delay, Duration::from_secs(1));
        assert_eq!(settings.proposal_interval, Duration::from_secs(30));
        assert_eq!(settings.dispute_interval, Duration::from_secs(1));
        assert_eq!(settings.proposal_head, ProposalHead::Safe);
        // The dev accounts are the devnet's roles: a key flag would contradict devnet.json.
        for flag in [
            "--rollup.batcher-key",
            "--rollup.proposer-key",
            "--rollup.challenger-key",
        ] {
            let err = parse(&[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev",
                flag,
                "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
            ])
            .unwrap_err()
            .to_string();
            assert!(err.contains(flag) && err.contains("--rollup.dev"), "{err}");
        }
        assert!(
            parse(&["reth-rollup", "node", "--rollup.dev"]).is_err(),
            "--rollup.dev without --dev"
        );
        assert!(
            parse(&[
                "reth-rollup",
                "node",
                "--dev",
                "--rollup.dev-l2-chain-id",
                "7"
            ])
            .is_err(),
            "--rollup.dev-l2-chain-id without --rollup.dev would be ignored"
        );
        let dev = parse(&[
            "reth-rollup",
            "node",
            "--dev",
            "--rollup.dev",
            "--rollup.dev-l2-chain-id",
            "7",
        ])
        .unwrap();
        assert_eq!(dev.dev_l2_chain_id, Some(7));
        // Refused at parsing, before reth starts or anything is deployed: a zero chain id, and
        // a config beside --rollup.dev (which writes its own, and would overwrite the file).
        let zero = parse(&[
            "reth-rollup",
            "node",
            "--dev",
            "--rollup.dev",
            "--rollup.dev-l2-chain-id",
            "0",
        ])
        .unwrap_err()
        .to_string();
        assert!(zero.contains("--rollup.dev-l2-chain-id"), "{zero}");
        let both = parse(&[
            "reth-rollup",
            "node",
            "--dev",
            "--rollup.dev",
            "--rollup.config",
            "rollup.json",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            both.contains("--rollup.config") && both.contains("--rollup.dev"),
            "{both}"
        );
    }

    /// A replica's flags for roles it does not run are named (they did nothing in silence), as
    /// rollup-node names them; with the role, or on a --rollup.dev devnet, nothing.
    #[test]
    fn role_flags_without_their_role_are_named() {
        let unused = |extra: &[&str]| {
            let line: Vec<std::ffi::OsString> =
                ["reth-rollup", "node", "--rollup.config", "rollup.json"]
                    .iter()
                    .chain(extra)
                    .map(Into::into)
                    .collect();
            let (mut cli, typed) = parse_from(&line).unwrap();
            let args = cli.as_node_command_mut().unwrap().ext.clone();
            args.unused_role_flags(&typed)
        };
        assert_eq!(
            unused(&[
                "--rollup.block-time",
                "2s",
                "--rollup.txpool.pricebump",
                "20",
                "--rollup.proposal-interval",
                "5s",
                "--rollup.rpc-gascap",
                "1000000",
            ]),
            vec![
                (
                    "--rollup.block-time".to_string(),
                    "--rollup.sequencer".to_string()
                ),
                (
                    "--rollup.proposal-interval".to_string(),
                    "--rollup.proposer-key".to_string()
                ),
                (
                    "--rollup.txpool.pricebump".to_string(),
                    "--rollup.sequencer".to_string()
                ),
            ]
        );
        assert!(unused(&["--rollup.sequencer", "--rollup.block-time", "2s"]).is_empty());
        assert!(unused(&[]).is_empty());
    }

    /// A bad value from the environment names its variable, as rollup-node's do.
    #[test]
    fn a_bad_value_from_the_environment_names_its_variable() {
        use clap::CommandFactory;
        let line: Vec<std::ffi::OsString> = ["reth-rollup", "node", "--dev", "--rollup.dev"]
            .iter()
            .map(Into::into)
            .collect();
        // The error clap gives the value, as if it came from the variable (set here only for
        // the helper: setting it in the process would reach the other tests' parsing).
        let err = RethRollupCli::command()
            .try_get_matches_from(
                line.iter()
                    .cloned()
                    .chain(["--rollup.batcher-data".into(), "foo".into()]),
            )
            .unwrap_err();
        let err = rollup_service::cli::naming_the_environment(
            err,
            &RethRollupCli::command(),
            &line,
            |name| name == "ROLLUP_BATCHER_DATA",
        )
        .to_string();
        assert!(err.contains("ROLLUP_BATCHER_DATA"), "{err}");
    }

    /// Two roles on one account are refused with the flags, before reth starts.
    #[test]
    fn one_key_for_two_roles_is_refused_before_reth_starts() {
        let key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
        let args = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "rollup.json",
            "--rollup.proposer-key",
            key,
            "--rollup.challenger-key",
            key,
        ])
        .unwrap();
        let err = args.roles().unwrap_err().to_string();
        assert!(err.contains("are the same L1 account"), "{err}");
    }

    #[test]
    fn batcher_data_defaults_to_blobs_where_l1_takes_them() {
        // --rollup.dev on reth's dev chain (Cancun from genesis): blobs.
        let dev = parse(&["reth-rollup", "node", "--dev", "--rollup.dev"]).unwrap();
        let data = dev.data_path(true, true).unwrap();
        assert_eq!(data, DataPath::BLOBS);
        assert_eq!(
            dev.role_settings(data).l1_data_bytes_per_block,
            524_288,
            "the sequencer paces itself by what a blob batch carries: 16 segments of 32 KiB"
        );
        // auto before Cancun, or without a batcher: calldata.
        assert_eq!(dev.data_path(true, false).unwrap(), DataPath::Calldata);
        assert_eq!(dev.data_path(false, true).unwrap(), DataPath::Calldata);

        let args = |data: &str| {
            parse(&[
                "reth-rollup",
                "node",
                "--rollup.config",
                "/data/rollup.json",
                "--rollup.batcher-data",
                data,
                "--rollup.l1-beacon-url",
                "http://127.0.0.1:5052",
            ])
            .unwrap()
        };
        let calldata = args("calldata");
        assert_eq!(
            calldata.l1_beacon_url.as_deref(),
            Some("http://127.0.0.1:5052")
        );
        assert_eq!(calldata.data_path(true, true).unwrap(), DataPath::Calldata);
        assert_eq!(
            calldata
                .role_settings(DataPath::Calldata)
                .l1_data_bytes_per_block,
            rollup_primitives::MAX_BATCH_SIZE as u64
        );
        let blobs = args("blobs");
        assert_eq!(blobs.data_path(true, true).unwrap(), DataPath::BLOBS);
        let err = blobs.data_path(true, false).unwrap_err().to_string();
        assert!(
            err.contains("--rollup.batcher-data") && err.contains("Cancun"),
            "blobs on an L1 without them is refused, saying why: {err}"
        );

        let err = parse(&[
            "reth-rollup",
            "node",
            "--rollup.config",
            "/data/rollup.json",
            "--rollup.l1-beacon-url",
            "localhost:5052",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("--rollup.l1-beacon-url"), "{err}");
        assert!(
            parse(&[
                "reth-rollup",
                "node",
                "--rollup.config",
                "/data/rollup.json",
                "--rollup.batcher-data",
                "blob",
            ])
            .is_err()
        );
    }

    #[test]
    fn missing_rollup_config_names_the_rollup_flag() {
        let err = parse(&["reth-rollup", "node", "--dev"]).unwrap_err();
        assert!(
            err.to_string().contains("--rollup.config"),
            "the error must name the flag to add: {err}"
        );
    }

    /// reth's server gets the `rollup_*` methods, with an L1 view (proposals and games are
    /// read from reth itself), but not `rollup_getRoles`, which only the L2 port can answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reths_port_serves_rollup_methods_but_not_the_roles() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let node = RollupNode::new(config(BlockNumHash::default()), store.clone()).unwrap();
        let module = rollup_namespace(RpcContext::new(
            store,
            node.config().clone(),
            node.heads(),
            None,
        ));
        let names: Vec<&str> = module.method_names().collect();
        assert!(
            names.iter().all(|name| name.starts_with("rollup_")),
            "no L2 eth_* on reth's port: {names:?}"
        );
        for name in [
            "rollup_syncStatus",
            "rollup_getProposals",
            "rollup_getDisputes",
        ] {
            assert!(names.contains(&name), "{name} missing: {names:?}");
        }
        assert!(!names.contains(&"rollup_getRoles"), "{names:?}");
    }

    pub(crate) fn config(origin: BlockNumHash) -> Arc<RollupConfig> {
        Arc::new(RollupConfig {
            l1_chain_id: 1,
            l2_chain_id: 42069,
            contracts: ContractAddresses {
                l1_bridge: Address::repeat_byte(1),
                batch_inbox: Address::repeat_byte(2),
                state_manager: Address::repeat_byte(3),
            },
            genesis: L2Genesis {
                l1_origin: origin,
                timestamp: 1_000,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1_000_000_000,
                alloc: BTreeMap::new(),
            },
            sequencing_window: 100,
            max_sequencer_drift: 600,
            batcher_address: alloy_primitives::Address::repeat_byte(4),
        })
    }

    /// Empty L1 blocks `first..=last` on top of `parent`, as reth would commit them.
    fn l1_chain(first: u64, last: u64, mut parent: B256, fork: u8) -> Chain {
        let mut blocks = Vec::new();
        for number in first..=last {
            let block = RecoveredBlock::new_unhashed(
                Block {
                    header: Header {
                        number,
                        parent_hash: parent,
                        timestamp: 1_700_000_000 + number * 12,
                        mix_hash: B256::repeat_byte(fork),
                        base_fee_per_gas: Some(7),
                        ..Default::default()
                    },
                    body: BlockBody::default(),
                },
                vec![],
            );
            parent = block.hash();
            blocks.push(block);
        }
        let receipts = vec![vec![]; blocks.len()];
        let outcome = ExecutionOutcome::new(Default::default(), receipts, first, vec![]);
        Chain::new(blocks, outcome, Default::default())
    }

    /// No roles: a replica (no L1 transaction is ever sent, so the L1 link is never used).
    fn replica(node: &RollupNode, store: &Store) -> Services {
        let args = parse(&["reth-rollup", "node", "--rollup.config", "/unused"]).unwrap();
        Services::start(
            node.config(),
            store,
            &node.heads(),
            Roles::default(),
            &args.role_settings(DataPath::Calldata),
            &L1Link::Http("http://127.0.0.1:1".into()),
            &CancellationToken::new(),
        )
        .unwrap()
    }

    async fn next_finished_height(
        events: &mut tokio::sync::mpsc::UnboundedReceiver<ExExEvent>,
    ) -> BlockNumHash {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Some(ExExEvent::FinishedHeight(height))) => height,
            other => panic!("expected a FinishedHeight event, got {other:?}"),
        }
    }

    /// The ExEx inside reth's own test context: committed, reorged and reverted chains each end
    /// in a `FinishedHeight` at the new canonical tip, read back from the rollup's MDBX cursor.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exex_reports_finished_heights_for_commit_reorg_and_revert() {
        let (ctx, mut handle) = test_exex_context().await.unwrap();
        let genesis = handle.genesis.num_hash();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let node = RollupNode::new(config(genesis), store.clone()).unwrap();
        let services = replica(&node, &store);
        let exex = tokio::spawn(run_exex(
            ctx,
            node,
            services,
            None,
            CancellationToken::new(),
        ));

        let cursor = || store.reader().unwrap().l1_cursor().unwrap().unwrap();

        let first = l1_chain(1, 3, genesis.hash, 0);
        let tip = first.tip().num_hash();
        handle
            .send_notification_chain_committed(first.clone())
            .await
            .unwrap();
        assert_eq!(next_finished_height(&mut handle.events_rx).await, tip);
        assert_eq!(cursor(), tip);

        // Reorg of block 3: the finished height is the new fork's tip.
        let old = Chain::new(
            [first.blocks()[&3].clone()],
            ExecutionOutcome::new(Default::default(), vec![vec![]], 3, vec![]),
            Default::default(),
        );
        let new = l1_chain(3, 4, first.blocks()[&2].hash(), 1);
        let new_tip = new.tip().num_hash();
        assert_ne!(new_tip.hash, tip.hash);
        handle
            .send_notification_chain_reorged(old, new.clone())
            .await
            .unwrap();
        assert_eq!(next_finished_height(&mut handle.events_rx).await, new_tip);
        assert_eq!(cursor(), new_tip);

        // A plain revert of block 4 also finishes, at block 3 of the new fork: reth prunes its
        // ExEx WAL only once every finished height is canonical again.
        let reverted = Chain::new(
            [new.blocks()[&4].clone()],
            ExecutionOutcome::new(Default::default(), vec![vec![]], 4, vec![]),
            Default::default(),
        );
        handle
            .send_notification_chain_reverted(reverted)
            .await
            .unwrap();
        let at_3 = new.blocks()[&3].num_hash();
        assert_eq!(next_finished_height(&mut handle.events_rx).await, at_3);
        assert_eq!(cursor(), at_3);

        assert!(
            !exex.is_finished(),
            "the ExEx future never returns while the node runs"
        );
        exex.abort();
    }

    /// A rollup whose L1 origin is not on reth's chain is refused before any notification, with
    /// a message that names the mismatch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exex_refuses_an_l1_origin_that_is_not_on_reths_chain() {
        let (ctx, handle) = test_exex_context().await.unwrap();
        let foreign = BlockNumHash {
            number: 0,
            hash: B256::repeat_byte(0xee),
        };
        assert_ne!(foreign.hash, handle.genesis.hash());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let node = RollupNode::new(config(foreign), store.clone()).unwrap();
        let services = replica(&node, &store);
        let err = run_exex(ctx, node, services, None, CancellationToken::new())
            .await
            .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("L1 origin") && message.contains("another chain"),
            "unexpected error: {message}"
        );
    }
}
