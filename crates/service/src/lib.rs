//! The roles one rollup process runs around its core, wired once for every host.
//!
//! `rollup-node` follows L1 over JSON-RPC and `reth-rollup` runs inside reth's L1 node; both
//! start the same [`Services`] from the same [`Roles`] and [`RoleSettings`], so what a role does
//! cannot drift between the two binaries. Only the link to L1 differs ([`L1Link`]): an HTTP URL,
//! or reth's own `eth_*` methods called in-process.
//!
//! # Invariants
//! - A role that is not configured does not run: no pool and no `eth_sendRawTransaction`
//!   without the sequencer, no L1 transaction without its key.
//! - The sequencer and the core run on one task ([`Services::drive`]): a block is never built
//!   while a notification is half applied.
//! - [`Services::stop`] returns only after every role task has ended; errors are logged with the
//!   role's name (target `rollup::service`), never swallowed silently.
//! - The pool's transactions outlive a stop: [`Services::start`] reads the backup the last stop
//!   wrote, last, when nothing can fail any more, and the host writes it
//!   ([`PoolKeeper::save`]) once its RPC server no longer takes transactions. A keeper dropped
//!   unsaved (the host gave up on an error) writes it then.

pub mod check;
pub mod cli;
pub mod deploy;
pub mod devnet;

use std::{sync::Arc, time::Duration};

use alloy_signer_local::PrivateKeySigner;
use rollup_batcher::{Batcher, BatcherConfig};
pub use rollup_batcher::{DEFAULT_MAX_IN_FLIGHT, DataPath};
use rollup_l1::{InProcessTransport, L1Error, L1Sender, SenderConfig};
use rollup_node_core::{L1Finalized, RollupNode};
use rollup_primitives::{BlockNumHash, Heads, Health, L1Notification, RollupConfig};
pub use rollup_proposer::ProposalHead;
use rollup_proposer::{DisputeAgent, DisputeConfig, Proposer, ProposerConfig};
use rollup_rpc::{L1Reader, RpcContext};
use rollup_sequencer::{PoolBackup, PoolConfig, PoolKeeper, Sequencer, SequencerConfig, TxPool};
use rollup_storage::Store;
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Errors starting the roles.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A role's key does not parse.
    #[error("{flag} is not a valid private key: {reason}")]
    InvalidKey {
        /// The flag that carried it.
        flag: String,
        /// Why.
        reason: String,
    },
    /// The batcher key is not the rollup's batcher: every batch it posted would be ignored.
    #[error(
        "the batcher key's account {key} is not the rollup config's batcherAddress {batcher}: replicas would ignore every batch it posts"
    )]
    NotTheBatcher {
        /// The key's account.
        key: String,
        /// The config's batcher.
        batcher: String,
    },
    /// Two roles were given keys of the same account.
    #[error(
        "the {first} and {second} keys are the same L1 account {account}: each role sends its own L1 transactions from its own loop, and two on one account take each other's nonces (replacing each other's transactions, or failing with \"nonce used by another transaction\"); give each role a key of its own"
    )]
    SharedKey {
        /// One role.
        first: &'static str,
        /// The other.
        second: &'static str,
        /// Their account.
        account: String,
    },
    /// The L1 link cannot be set up.
    #[error(transparent)]
    L1(#[from] L1Error),
}

/// Which roles this process runs besides deriving from L1.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    /// Build unsafe blocks from a transaction pool (and serve `eth_sendRawTransaction`).
    pub sequencer: bool,
    /// Post batches to L1 with this key.
    pub batcher: Option<PrivateKeySigner>,
    /// Propose state roots with this key (and defend them in the dispute game).
    pub proposer: Option<PrivateKeySigner>,
    /// Challenge proposals this node disagrees with, and play the games, with this key.
    pub challenger: Option<PrivateKeySigner>,
    /// The L1 beacon API the dispute roles fetch a disputed blob batch's blobs from when this
    /// process neither built them nor can rebuild them from its stored blocks.
    pub beacon_url: Option<String>,
}

impl Roles {
    /// Refuses keys of one account for two roles (see [`ServiceError::SharedKey`]).
    pub fn check_distinct_keys(&self) -> Result<(), ServiceError> {
        let keyed: Vec<(&'static str, alloy_primitives::Address)> = [
            ("batcher", &self.batcher),
            ("proposer", &self.proposer),
            ("challenger", &self.challenger),
        ]
        .into_iter()
        .filter_map(|(role, key)| key.as_ref().map(|key| (role, key.address())))
        .collect();
        for (i, (first, account)) in keyed.iter().enumerate() {
            if let Some((second, _)) = keyed[i + 1..].iter().find(|(_, other)| other == account) {
                return Err(ServiceError::SharedKey {
                    first,
                    second,
                    account: account.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Roles from command-line values; `*_flag` name the flags in errors.
    pub fn from_flags(
        sequencer: bool,
        batcher_key: Option<&str>,
        batcher_flag: &str,
        proposer_key: Option<&str>,
        proposer_flag: &str,
    ) -> Result<Self, ServiceError> {
        if batcher_key.is_some() && !sequencer {
            // Only the sequencer's own blocks are unposted: a replica's come from L1.
            warn!(target: "rollup::service", "{batcher_flag} without the sequencer role: the batcher posts this node's blocks, and a replica's all come from L1 already, so it will post nothing. Give the key to the sequencer's node");
        }
        Ok(Self {
            sequencer,
            batcher: parse_key(batcher_flag, batcher_key)?,
            proposer: parse_key(proposer_flag, proposer_key)?,
            challenger: None,
            beacon_url: None,
        })
    }

    /// Lets the dispute roles fetch blobs from the beacon API at `url` (if any).
    #[must_use]
    pub fn with_beacon_url(mut self, url: Option<&str>) -> Self {
        self.beacon_url = url.map(str::to_string);
        self
    }

    /// Adds the challenger role, with the key given to `flag` (if any).
    pub fn with_challenger_key(
        mut self,
        key: Option<&str>,
        flag: &str,
    ) -> Result<Self, ServiceError> {
        self.challenger = parse_key(flag, key)?;
        Ok(self)
    }
}

fn parse_key(flag: &str, key: Option<&str>) -> Result<Option<PrivateKeySigner>, ServiceError> {
    key.map(|key| key.trim().parse::<PrivateKeySigner>())
        .transpose()
        .map_err(|err| ServiceError::InvalidKey {
            flag: flag.to_string(),
            reason: err.to_string(),
        })
}

/// How the roles behave (the same flags on both binaries).
#[derive(Debug, Clone)]
pub struct RoleSettings {
    /// L2 block interval.
    pub block_time: Duration,
    /// How often the batcher looks for blocks to post.
    pub batcher_interval: Duration,
    /// Longest a block with transactions waits to be posted.
    pub batcher_max_delay: Duration,
    /// L1 blocks to spare before the sequencing window of the oldest pending block closes.
    pub batcher_window_margin: u64,
    /// How often the proposer considers a proposal.
    pub proposal_interval: Duration,
    /// Which L2 head the proposer proposes (finalized in production).
    pub proposal_head: ProposalHead,
    /// How often the challenger, and the proposer defending its proposals, look at the
    /// dispute game: well inside its clocks.
    pub dispute_interval: Duration,
    /// How long an L1 transaction waits for inclusion before it is re-sent with higher fees.
    pub l1_resubmit_after: Duration,
    /// Transaction pool limits.
    pub pool: PoolConfig,
    /// Where the pool's transactions are kept across a stop (none: they are lost).
    pub pool_backup: Option<PoolBackup>,
    /// Bytes of batch data the batcher gets onto L1 per L1 block: the sequencer sequences no
    /// more than that rate can post in time ([`rollup_sequencer::DaConfig`]).
    pub l1_data_bytes_per_block: u64,
    /// Where the batcher puts batches' transactions: calldata or blobs. Blobs need the node's
    /// L1 source to read them back (a beacon API).
    pub batcher_data: DataPath,
    /// Most batch transactions in flight at once.
    pub batcher_max_in_flight: usize,
}

/// How the roles reach L1 to send transactions and read its state.
#[derive(Debug, Clone)]
pub enum L1Link {
    /// An L1 node's JSON-RPC over HTTP.
    Http(String),
    /// The L1 node's own methods, in this process (inside reth).
    InProcess(InProcessTransport),
}

impl L1Link {
    /// A read-only view of L1 through this link, for the RPC methods that report L1 state.
    pub fn reader(&self) -> Result<L1Reader, L1Error> {
        match self {
            // Answers bounded in size as every other L1 client of the node's: a status page
            // read must not let an L1 endpoint fill the node's memory.
            Self::Http(url) => url
                .parse()
                .map(|parsed| {
                    L1Reader::new(rollup_l1::http_client_with_timeout(
                        parsed,
                        rollup_rpc::L1_READ_TIMEOUT,
                    ))
                })
                .map_err(|err| L1Error::InvalidUrl {
                    url: url.clone(),
                    reason: format!("{url:?} is not a URL: {err}"),
                }),
            Self::InProcess(transport) => Ok(L1Reader::new(transport.clone().into_client())),
        }
    }

    fn sender(&self, signer: PrivateKeySigner, config: SenderConfig) -> Result<L1Sender, L1Error> {
        match self {
            Self::Http(url) => L1Sender::new(url, signer, config),
            Self::InProcess(transport) => Ok(L1Sender::with_client(
                transport.clone().into_client(),
                "the L1 node in this process",
                signer,
                config,
            )),
        }
    }
}

type RoleTask = (&'static str, JoinHandle<Result<(), String>>);

/// How often the roles' L1 balances are read for `rollup_l1_account_balance_eth`.
const BALANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Sets `rollup_l1_account_balance_eth{role}` to the L1 balance of each role's account, every
/// [`BALANCE_INTERVAL`] until `cancel` fires: the batcher, proposer and challenger pay gas and
/// bonds from them, and a role that runs dry stops landing its transactions (an alert on the
/// gauge comes before that). A read that fails leaves the last value and is tried again.
async fn watch_balances(accounts: Vec<(&'static str, L1Sender)>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(BALANCE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        for (role, sender) in &accounts {
            match sender.balance().await {
                Ok(wei) => {
                    metrics::gauge!("rollup_l1_account_balance_eth", "role" => *role)
                        .set(wei_to_eth(wei));
                }
                Err(err) => {
                    debug!(target: "rollup::service", role, %err, "could not read the account's L1 balance");
                }
            }
        }
    }
}

/// `wei` in ETH, as a gauge holds it (to about 15 significant digits).
fn wei_to_eth(wei: alloy_primitives::U256) -> f64 {
    let wei: u128 = wei.saturating_to();
    (wei / 1_000_000_000) as f64 / 1e9 + (wei % 1_000_000_000) as f64 / 1e18
}

/// The running roles of one process.
#[derive(Debug)]
pub struct Services {
    pool: Option<Arc<TxPool>>,
    pool_keeper: Option<PoolKeeper>,
    sequencer: Option<Sequencer>,
    tasks: Vec<RoleTask>,
    cancel: CancellationToken,
    health: Health,
    l1_reader: Option<L1Reader>,
    known_blobs: rollup_l1::KnownBlobs,
}

impl Services {
    /// Creates the pool and sequencer (if configured) and spawns the batcher and proposer (if
    /// configured), all stopping when `cancel` fires.
    pub fn start(
        config: &Arc<RollupConfig>,
        store: &Store,
        heads: &watch::Receiver<Heads>,
        roles: Roles,
        settings: &RoleSettings,
        l1: &L1Link,
        cancel: &CancellationToken,
    ) -> Result<Self, ServiceError> {
        roles.check_distinct_keys()?;
        // Registered in the order `rollup_getRoles` lists them.
        let health = Health::default();
        let known_blobs = rollup_l1::KnownBlobs::default();
        // Only the dispute roles read blobs outside derivation.
        let blob_source = match (
            &roles.beacon_url,
            roles.proposer.is_some() || roles.challenger.is_some(),
        ) {
            (Some(url), true) => Some(Arc::new(rollup_l1::BlobSource::new(
                url,
                config.contracts.batch_inbox,
            )?)),
            _ => None,
        };
        health.role("derivation");
        if matches!(l1, L1Link::Http(_)) {
            health.role("l1-follower");
        }
        let pool = roles
            .sequencer
            .then(|| Arc::new(TxPool::new(settings.pool, config, store.clone())));
        let sequencer = pool.clone().map(|pool| {
            Sequencer::new(
                SequencerConfig {
                    block_time: settings.block_time,
                },
                pool,
            )
            .with_health(health.role("sequencer"))
            .with_backup(settings.pool_backup.clone())
            .with_da(rollup_sequencer::DaConfig {
                l1_bytes_per_block: settings.l1_data_bytes_per_block,
                ..rollup_sequencer::DaConfig::for_window(config.sequencing_window)
            })
        });
        let sender_config = SenderConfig {
            resubmit_after: settings.l1_resubmit_after,
            ..Default::default()
        };
        let mut tasks: Vec<RoleTask> = Vec::new();
        // The accounts the roles pay L1 from, for `rollup_l1_account_balance_eth`.
        let mut accounts: Vec<(&'static str, L1Sender)> = Vec::new();
        if let Some(signer) = roles.batcher {
            if signer.address() != config.batcher_address {
                return Err(ServiceError::NotTheBatcher {
                    key: signer.address().to_string(),
                    batcher: config.batcher_address.to_string(),
                });
            }
            let sender = l1.sender(signer, sender_config)?;
            accounts.push(("batcher", sender.clone()));
            let mut batcher = Batcher::new(
                BatcherConfig {
                    poll_interval: settings.batcher_interval,
                    max_delay: settings.batcher_max_delay,
                    window_margin: settings.batcher_window_margin,
                    data: settings.batcher_data,
                    max_in_flight: settings.batcher_max_in_flight,
                    ..BatcherConfig::new(config)
                },
                store.clone(),
                heads.clone(),
                sender,
            )
            .with_health(health.role("batcher"))
            .with_known_blobs(known_blobs.clone());
            if let Some(pool) = &pool {
                let throttle = pool.throttle().clone();
                let room = pool.throttle().clone();
                let arrivals = Arc::clone(pool);
                batcher = batcher.with_sequencer_load(rollup_batcher::SequencerLoad {
                    throttled: Arc::new(move || throttle.backlog().throttled),
                    // Only while the backlog has used at most about half its room (the headroom
                    // is the least any pending block's deadline leaves): under a sustained
                    // load, blob work that waited would bring the throttle on.
                    burst: Arc::new(move || {
                        let backlog = room.backlog();
                        (backlog.bytes <= backlog.headroom)
                            .then(|| arrivals.burst())
                            .flatten()
                    }),
                });
            }
            let cancel = cancel.child_token();
            tasks.push((
                "batcher",
                tokio::spawn(
                    async move { batcher.run(cancel).await.map_err(|err| err.to_string()) },
                ),
            ));
        }
        let dispute = |challenge: bool| DisputeConfig {
            state_manager: config.contracts.state_manager,
            chain_id: config.l2_chain_id,
            interval: settings.dispute_interval,
            challenge,
        };
        if let Some(signer) = roles.proposer {
            let sender = l1.sender(signer, sender_config)?;
            accounts.push(("proposer", sender.clone()));
            // The proposer defends its own proposals from the same account, in its own loop.
            let defender = DisputeAgent::new(dispute(false), store.clone(), sender.clone())
                .with_health(health.role("defender"))
                .with_known_blobs(known_blobs.clone())
                .with_blob_source(blob_source.clone());
            let proposer = Proposer::new(
                ProposerConfig {
                    state_manager: config.contracts.state_manager,
                    interval: settings.proposal_interval,
                    head: settings.proposal_head,
                },
                store.clone(),
                heads.clone(),
                sender,
            )
            .with_defender(defender)
            .with_health(health.role("proposer"));
            let cancel = cancel.child_token();
            tasks.push((
                "proposer",
                tokio::spawn(
                    async move { proposer.run(cancel).await.map_err(|err| err.to_string()) },
                ),
            ));
        }
        if let Some(signer) = roles.challenger {
            let sender = l1.sender(signer, sender_config)?;
            accounts.push(("challenger", sender.clone()));
            let challenger = DisputeAgent::new(dispute(true), store.clone(), sender)
                .with_health(health.role("challenger"))
                .with_known_blobs(known_blobs.clone())
                .with_blob_source(blob_source);
            let cancel = cancel.child_token();
            tasks.push((
                "challenger",
                tokio::spawn(
                    async move { challenger.run(cancel).await.map_err(|err| err.to_string()) },
                ),
            ));
        }
        if !accounts.is_empty() {
            tokio::spawn(watch_balances(accounts, cancel.child_token()));
        }
        info!(
            target: "rollup::service",
            sequencer = sequencer.is_some(),
            roles = %tasks.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(","),
            "roles started"
        );
        let l1_reader = l1
            .reader()
            .inspect_err(|err| warn!(target: "rollup::service", %err, "the RPC cannot read L1: rollup_getProposals and withdrawal stages will say so"))
            .ok();
        // Last: once the file is read, only the keeper holds what it held.
        let pool_keeper = match (&pool, &settings.pool_backup) {
            (Some(pool), Some(backup)) => Some(backup.clone().restore_into(pool)),
            _ => None,
        };
        Ok(Self {
            pool,
            pool_keeper,
            sequencer,
            tasks,
            cancel: cancel.clone(),
            health,
            l1_reader,
            known_blobs,
        })
    }

    /// The health registry the roles report to (`rollup_getRoles`); the L1 follower of
    /// `rollup-node` reports as `l1-follower`.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// The blobs this process's batcher built, for its L1 source to read back without the
    /// beacon API or another KZG commitment.
    pub fn known_blobs(&self) -> rollup_l1::KnownBlobs {
        self.known_blobs.clone()
    }

    /// The transaction pool, if this process sequences.
    pub fn pool(&self) -> Option<Arc<TxPool>> {
        self.pool.clone()
    }

    /// The pool with its backup, if this process sequences and keeps one. The host takes it
    /// right after [`Self::start`] and saves it once its RPC server has stopped, so no
    /// transaction it accepted is left out; left here, it is saved when these services are
    /// dropped.
    pub fn take_pool_keeper(&mut self) -> Option<PoolKeeper> {
        self.pool_keeper.take()
    }

    /// What the L2 RPC server needs: the store, config and heads, the pool if sequencing, the
    /// roles' health and a view of L1 through the roles' link.
    pub fn rpc_context(
        &self,
        config: &Arc<RollupConfig>,
        store: &Store,
        heads: watch::Receiver<Heads>,
    ) -> RpcContext {
        let context = RpcContext::new(store.clone(), config.clone(), heads, self.pool())
            .with_health(self.health.clone());
        match &self.l1_reader {
            Some(reader) => context.with_l1(reader.clone()),
            None => context,
        }
    }

    /// Drives the core from `notifications` until they end, `cancel` fires or the core fails:
    /// the sequencer's loop around it when sequencing, the plain core loop otherwise. Finished
    /// L1 heights go to `finished` once durably stored.
    pub async fn drive(
        &self,
        node: &mut RollupNode,
        notifications: mpsc::Receiver<L1Notification>,
        finished: mpsc::UnboundedSender<BlockNumHash>,
        l1_finalized: L1Finalized,
        cancel: CancellationToken,
    ) -> rollup_node_core::Result<()> {
        // Each finished height passes through here on its way out, as the derivation's health.
        let derivation = self.health.role("derivation");
        let (derived, mut derived_rx) = mpsc::unbounded_channel::<BlockNumHash>();
        let report = derivation.clone();
        let forward = tokio::spawn(async move {
            while let Some(height) = derived_rx.recv().await {
                report.success(format!("derived L1 block {}", height.number));
                if finished.send(height).is_err() {
                    break;
                }
            }
        });
        let result = match &self.sequencer {
            Some(sequencer) => {
                sequencer
                    .run(node, notifications, derived, l1_finalized, cancel)
                    .await
            }
            None => node.run(notifications, derived, l1_finalized, cancel).await,
        };
        let _ = forward.await;
        if let Err(err) = &result {
            derivation.error(err.to_string());
        }
        // Transactions of blocks an unwind removed, if the loop ended before offering them
        // again (on an error after the unwind was committed): the pool, and with it the
        // backup, keeps them.
        if let Some(sequencer) = &self.sequencer {
            tokio::task::block_in_place(|| sequencer.readmit(node));
        }
        result
    }

    /// Stops every role and waits for it; each role's error is logged with its name.
    pub async fn stop(self) {
        self.cancel.cancel();
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    warn!(target: "rollup::service", role = name, %err, "role stopped with an error")
                }
                Err(join) => {
                    warn!(target: "rollup::service", role = name, %join, "role task failed")
                }
            }
        }
        info!(target: "rollup::service", "roles stopped");
    }
}

/// Parses a proposer-head flag: `finalized` or `safe`.
pub fn parse_proposal_head(text: &str) -> Result<ProposalHead, String> {
    match text.trim() {
        "finalized" => Ok(ProposalHead::Finalized),
        "safe" => Ok(ProposalHead::Safe),
        other => Err(format!("{other:?} is not a head: use finalized or safe")),
    }
}

/// Parses a duration flag: `500ms`, `2s`, `5m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |i| text.split_at(i));
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms or 2s"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        "h" => Duration::from_secs(value.saturating_mul(3_600)),
        "d" => Duration::from_secs(value.saturating_mul(86_400)),
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}: use ms, s, m, h or d"
            ));
        }
    };
    // No setting wants more, and a far larger one overflowed the clock arithmetic it feeds
    // (`Instant::now() + timeout` panicked on every `eth_call` after `--rpc-evm-timeout
    // 99999999999999d`).
    if duration > MAX_DURATION {
        return Err(format!(
            "{text:?} is longer than any setting takes: at most 365d"
        ));
    }
    Ok(duration)
}

/// The longest duration [`parse_duration`] accepts: a year.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// A duration that must not be zero (a zero time limit would refuse every call).
pub fn parse_nonzero_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!(
            "{text:?} is zero: give a positive duration like 5s"
        )),
        duration => Ok(duration),
    }
}

/// An http(s) URL (a beacon API's), checked when the flag is read: a bad one would otherwise
/// surface only when the first blob is fetched, and under another flag's name.
pub fn parse_http_url(url: &str) -> Result<String, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(format!("{url:?} is not an http:// or https:// URL"))
    }
}

/// A `--rpc-cors-domain` value, checked when the flag is read ([`rollup_rpc::cors_layer`]'s
/// rules): `*`, or origins such as `http://localhost:3000`.
pub fn parse_cors_domains(domains: &str) -> Result<String, String> {
    rollup_rpc::cors_layer(domains).map(|_| domains.to_string())
}

/// An address (a flag, or a field of `deploy.toml`): 20 bytes of hex; one written in mixed case must carry a valid EIP-55
/// checksum (a typo in it would otherwise send funds to another address).
pub fn parse_address(text: &str) -> Result<alloy_primitives::Address, String> {
    let address: alloy_primitives::Address = text
        .parse()
        .map_err(|_| format!("{text:?} is not an address (0x and 40 hex digits)"))?;
    let hex = text.trim_start_matches("0x");
    let mixed =
        hex.chars().any(|c| c.is_ascii_lowercase()) && hex.chars().any(|c| c.is_ascii_uppercase());
    if mixed && alloy_primitives::Address::parse_checksummed(text, None).is_err() {
        return Err(format!(
            "{text} has a wrong EIP-55 checksum (mixed case that does not match {address}): check it for a typo, or write it in one case"
        ));
    }
    Ok(address)
}

/// A listening address: `IP:PORT`, or `HOST:PORT` for a name the system resolves (such as
/// `localhost:9545`; its IPv4 address if it has one). The error says what form is expected.
pub fn parse_socket_addr(addr: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(parsed) = addr.parse() {
        return Ok(parsed);
    }
    let form =
        "give IP:PORT (127.0.0.1:9545, 0.0.0.0:9545, [::1]:9545) or HOST:PORT (localhost:9545)";
    if addr
        .rsplit_once(':')
        .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(format!("{addr:?} is not an address with a port: {form}"));
    }
    let resolved: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve {addr:?} ({err}): {form}"))?
        .collect();
    resolved
        .iter()
        .find(|resolved| resolved.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("{addr:?} resolves to no address: {form}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_account_for_two_roles_is_refused() {
        use alloy_signer_local::PrivateKeySigner;
        let one = PrivateKeySigner::random();
        let roles = super::Roles {
            batcher: Some(PrivateKeySigner::random()),
            proposer: Some(one.clone()),
            challenger: Some(one.clone()),
            ..Default::default()
        };
        let err = roles.check_distinct_keys().unwrap_err().to_string();
        assert!(
            err.contains("the proposer and challenger keys are the same L1 account")
                && err.contains(&one.address().to_string()),
            "{err}"
        );
        let roles = super::Roles {
            proposer: Some(one),
            challenger: Some(PrivateKeySigner::random()),
            ..Default::default()
        };
        roles.check_distinct_keys().unwrap();
    }

    #[test]
    fn balances_read_as_eth() {
        use alloy_primitives::U256;
        assert_eq!(super::wei_to_eth(U256::ZERO), 0.0);
        assert_eq!(
            super::wei_to_eth(U256::from(1_500_000_000_000_000_000u128)),
            1.5
        );
        assert_eq!(super::wei_to_eth(U256::from(1u64)), 1e-18);
        let genesis = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18));
        assert_eq!(super::wei_to_eth(genesis), 10_000.0);
        // Beyond u128 saturates instead of wrapping.
        assert!(super::wei_to_eth(U256::MAX) > 3e20);
    }

    use super::*;

    #[test]
    fn listening_addresses_take_ips_and_resolvable_names() {
        assert_eq!(
            parse_socket_addr("0.0.0.0:9545").unwrap(),
            "0.0.0.0:9545".parse().unwrap()
        );
        assert_eq!(
            parse_socket_addr("[::1]:1").unwrap(),
            "[::1]:1".parse().unwrap()
        );
        assert_eq!(
            parse_socket_addr("localhost:9545").unwrap(),
            "127.0.0.1:9545".parse().unwrap()
        );
        for bad in [
            "localhost",
            "9545",
            ":9545",
            "localhost:http",
            "127.0.0.1:99999",
        ] {
            let err = parse_socket_addr(bad).unwrap_err();
            assert!(
                err.contains("is not an address with a port"),
                "{bad}: {err}"
            );
        }
        let err = parse_socket_addr("no-such-host.invalid:9545").unwrap_err();
        assert!(err.contains("cannot resolve"), "{err}");
    }

    /// A range whose blocks were all forced in by the sequencing window (no batch at all) can
    /// still be proposed: its batch root commits to the L1 origins, never to zero (which the
    /// StateManager refuses).
    #[test]
    fn a_range_of_forced_blocks_has_a_nonzero_batch_root() {
        use rollup_primitives::{
            BlockNumHash, ContractAddresses, L1Block, L1Chain, L2Genesis, batch_root,
        };
        let origin = BlockNumHash {
            number: 10,
            hash: alloy_primitives::B256::repeat_byte(10),
        };
        let config = Arc::new(RollupConfig {
            l1_chain_id: 1,
            l2_chain_id: 7,
            contracts: ContractAddresses {
                l1_bridge: alloy_primitives::Address::repeat_byte(1),
                batch_inbox: alloy_primitives::Address::repeat_byte(2),
                state_manager: alloy_primitives::Address::repeat_byte(3),
            },
            genesis: L2Genesis {
                l1_origin: origin,
                timestamp: 100,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1_000_000_000,
                alloc: Default::default(),
            },
            sequencing_window: 2,
            max_sequencer_drift: 600,
            batcher_address: alloy_primitives::Address::repeat_byte(4),
        });
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut node = RollupNode::new(config, store.clone()).unwrap();
        let mut parent = origin.hash;
        let blocks = (11..=20)
            .map(|number| {
                let hash = alloy_primitives::B256::repeat_byte(number as u8);
                // In L1 block 13 someone forces epochs 11 (window 2: closed at 13) in.
                let (transactions, receipts) = if number == 13 {
                    use alloy_sol_types::SolEvent;
                    let event = rollup_primitives::bindings::IBatchInbox::BatchAppended {
                        index: alloy_primitives::U256::ZERO,
                        firstBlock: 1,
                        blockCount: 1,
                        lastOrigin: 11,
                        depositCount: 0,
                        forced: true,
                        dataHash: Default::default(),
                        segmentRoot: Default::default(),
                        blocksHash: Default::default(),
                        blobCount: 0,
                        lastBlockOpen: false,
                    };
                    (
                        vec![rollup_primitives::L1Transaction {
                            hash: alloy_primitives::B256::repeat_byte(0xf0),
                            from: alloy_primitives::Address::repeat_byte(9),
                            to: Some(alloy_primitives::Address::repeat_byte(2)),
                            input: Default::default(),
                            blob_versioned_hashes: vec![],
                            blobs: vec![],
                        }],
                        vec![rollup_primitives::L1Receipt {
                            success: true,
                            logs: vec![alloy_primitives::Log {
                                address: alloy_primitives::Address::repeat_byte(2),
                                data: event.encode_log_data(),
                            }],
                        }],
                    )
                } else {
                    (vec![], vec![])
                };
                let block = L1Block {
                    number,
                    hash,
                    parent_hash: parent,
                    timestamp: 100 + 12 * (number - 10),
                    mix_hash: Default::default(),
                    base_fee_per_gas: Some(1),
                    transactions,
                    receipts,
                };
                parent = hash;
                block
            })
            .collect();
        node.handle_notification(&L1Notification::Committed {
            new: Arc::new(L1Chain::new(blocks).unwrap()),
        })
        .unwrap();
        let safe = store.reader().unwrap().safe_head().unwrap().unwrap();
        assert!(safe > 0, "the forced record derived a block");
        let (_, root, _) = rollup_proposer::proposal_inputs(&store, 0, safe).unwrap();
        assert_ne!(root, alloy_primitives::B256::ZERO);
        assert_ne!(root, batch_root(&[]));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7_200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("2w").is_err());
        assert_eq!(parse_duration("365d").unwrap(), MAX_DURATION);
        assert!(
            parse_duration("366d").unwrap_err().contains("at most 365d"),
            "a duration the clock arithmetic could overflow on is refused"
        );
        assert!(parse_duration("99999999999999999d").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_nonzero_duration("0s").is_err());
    }

    #[test]
    fn role_keys_are_checked_and_errors_name_the_flag() {
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let roles =
            Roles::from_flags(true, Some(key), "--batcher-key", None, "--proposer-key").unwrap();
        assert!(roles.sequencer);
        assert_eq!(
            roles.batcher.unwrap().address(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse::<alloy_primitives::Address>()
                .unwrap()
        );
        assert!(roles.proposer.is_none());
        let err = Roles::from_flags(
            false,
            None,
            "--rollup.batcher-key",
            Some("0x12"),
            "--rollup.proposer-key",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--rollup.proposer-key is not a valid private key"),
            "{err}"
        );
    }
}
