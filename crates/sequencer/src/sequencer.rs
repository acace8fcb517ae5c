//! The sequencing loop.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_eips::eip1559::BaseFeeParams;
use alloy_primitives::B256;
use rollup_node_core::{L1Finalized, NodeError, Result, RollupNode};
use rollup_primitives::{BlockNumHash, L1Notification, RoleHealth};
use tokio::{sync::mpsc, time::MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{DaBacklog, DaConfig, DaThrottle, PoolError, TxPool, throttle::Backlog};

/// Sequencer settings.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    /// Interval between blocks. Blocks are built only when there is something to include (pool
    /// transactions, or a new L1 origin with its deposits).
    pub block_time: Duration,
}

/// Builds unsafe blocks from the pool and applies L1 notifications, on one task.
#[derive(Debug, Clone)]
pub struct Sequencer {
    config: SequencerConfig,
    pool: Arc<TxPool>,
    /// Most pool transactions offered to one block: halved when a block does not encode as a
    /// batch although each of its transactions does, doubled back after each block that does.
    max_block_txs: Arc<AtomicUsize>,
    health: Option<RoleHealth>,
    /// What the L1 data path carries; `None`: [`DaConfig::for_window`] of the rollup's window.
    da: Option<DaConfig>,
    /// The blocks sequenced but not yet derived from L1, with their batch sizes.
    backlog: Arc<Mutex<Backlog>>,
    /// Shared with the pool, which refuses transactions while it is on.
    throttle: DaThrottle,
    /// Where the pool is written after an L1 reorg gave it transactions back
    /// ([`PoolBackup::save_unwound`]); `None`: nowhere.
    backup: Option<crate::PoolBackup>,
    /// Estimated batch bytes per user transaction (from the last blocks), to turn the byte
    /// headroom into a number of transactions.
    bytes_per_tx: Arc<AtomicU64>,
}

/// Starting estimate of batch bytes per transaction: a compressed ETH transfer takes ~80.
const INITIAL_BYTES_PER_TX: u64 = 120;

/// Most catch-up blocks built in one tick, so notifications and RPC are served in between.
const MAX_CATCH_UP_BLOCKS_PER_TICK: usize = 256;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Sequencer {
    /// A sequencer taking transactions from `pool`.
    pub fn new(config: SequencerConfig, pool: Arc<TxPool>) -> Self {
        let throttle = pool.throttle().clone();
        Self {
            config,
            pool,
            max_block_txs: Arc::new(AtomicUsize::new(usize::MAX)),
            health: None,
            da: None,
            backlog: Arc::default(),
            throttle,
            bytes_per_tx: Arc::new(AtomicU64::new(INITIAL_BYTES_PER_TX)),
            backup: None,
        }
    }

    /// Writes the pool beside `backup` whenever an L1 reorg gives it transactions back, so that
    /// a kill -9 before they are included again does not lose them
    /// ([`crate::PoolBackup::save_unwound`]).
    #[must_use]
    pub fn with_backup(mut self, backup: Option<crate::PoolBackup>) -> Self {
        self.backup = backup;
        self
    }

    /// Sets what the L1 data path carries (default: [`DaConfig::for_window`]).
    #[must_use]
    pub fn with_da(mut self, da: DaConfig) -> Self {
        self.da = Some(da);
        self
    }

    /// How many user transactions the next block may take so that everything sequenced still
    /// reaches L1 before its sequencing window closes (0: throttled). Publishes the backlog.
    fn da_budget(&self, node: &RollupNode) -> Result<usize> {
        let heads = *node.heads().borrow();
        let mut backlog = self.backlog.lock().unwrap_or_else(|e| e.into_inner());
        if backlog.sync(heads.safe_l2.number, heads.unsafe_l2.number) {
            backlog
                .reset(node.pending_batch_sizes(heads.safe_l2.number + 1, heads.unsafe_l2.number)?);
        }
        let window = node.config().sequencing_window;
        let da = self.da.unwrap_or_else(|| DaConfig::for_window(window));
        let headroom = backlog.headroom(heads.l1_cursor.number, window, da);
        let oldest_origin = backlog.oldest_origin();
        let per_tx = u128::from(self.bytes_per_tx.load(Ordering::Relaxed).max(1));
        let budget = usize::try_from(u128::try_from(headroom.max(0)).unwrap_or(0) / per_tx)
            .unwrap_or(usize::MAX);
        let backlog = DaBacklog {
            bytes: backlog.bytes(),
            blocks: backlog.len() as u64,
            throttled: budget == 0,
            headroom: u64::try_from(headroom).unwrap_or(0),
        };
        if backlog.throttled != self.throttle.backlog().throttled {
            if backlog.throttled {
                // The bound is time as much as bytes: after a restart or an L1 reorg a small
                // backlog of old-origin blocks can already be near its window's end.
                let deadline = oldest_origin.map(|origin| {
                    (origin + window)
                        .saturating_sub(da.margin_blocks)
                        .saturating_sub(heads.l1_cursor.number)
                });
                warn!(
                    target: "rollup::sequencer",
                    backlog_bytes = backlog.bytes, backlog_blocks = backlog.blocks,
                    headroom_bytes = headroom, l1_bytes_per_block = da.l1_bytes_per_block,
                    oldest_origin = ?oldest_origin, l1_head = heads.l1_cursor.number,
                    l1_blocks_to_deadline = ?deadline, window_margin = da.margin_blocks,
                    "L1 data backlog at its bound: the blocks not yet on L1 must land window_margin L1 blocks before the sequencing window of their L1 origin closes, and at l1_bytes_per_block one more transaction would not; taking no transactions until the batcher catches up"
                );
            } else {
                info!(target: "rollup::sequencer", backlog_bytes = backlog.bytes, "L1 data backlog drained: taking transactions again");
            }
        }
        self.throttle.set(backlog);
        Ok(budget)
    }

    /// Records a sealed block in the backlog and refines the bytes-per-transaction estimate.
    fn account(&self, number: u64, l1_origin: u64, batch_bytes: usize, user_txs: usize) {
        self.backlog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(number, l1_origin, batch_bytes);
        // Conservative: the latest sample when it is above the running average, so a block of
        // larger transactions tightens the next budget at once. The estimate can still be off by
        // a few percent for the next block; the window margin absorbs that.
        if user_txs > 0 {
            let sample = (batch_bytes as u64).div_ceil(user_txs as u64);
            let old = self.bytes_per_tx.load(Ordering::Relaxed);
            let average = (old * 3 + sample).div_ceil(4);
            self.bytes_per_tx
                .store(average.max(sample).max(1), Ordering::Relaxed);
        }
    }

    /// Reports each block sealed, and each block that could not be, to `health`.
    #[must_use]
    pub fn with_health(mut self, health: RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    /// Runs until `cancel` fires or the notification stream ends. Finished L1 heights are
    /// reported on `finished` after they are durably stored, as with [`RollupNode::run`].
    pub async fn run(
        &self,
        node: &mut RollupNode,
        mut notifications: mpsc::Receiver<L1Notification>,
        finished: mpsc::UnboundedSender<BlockNumHash>,
        mut l1_finalized: L1Finalized,
        cancel: CancellationToken,
    ) -> Result<()> {
        let mut ticker = tokio::time::interval(self.config.block_time);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        info!(target: "rollup::sequencer", block_time = ?self.config.block_time, "sequencing");
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                finalized = l1_finalized.changed() => {
                    // A small MDBX write, but a write: off the async workers, as the others.
                    tokio::task::block_in_place(|| node.set_l1_finalized(finalized))?;
                }
                next = notifications.recv() => {
                    let Some(notification) = next else { return Ok(()) };
                    let outcome = tokio::task::block_in_place(|| node.handle_notification(&notification))?;
                    if let Some(height) = outcome.finished_height {
                        let _ = finished.send(height);
                    }
                    if outcome.unwound_l2_blocks > 0 {
                        self.after_unwind(node)?;
                    }
                }
                _ = ticker.tick() => {
                    tokio::task::block_in_place(|| self.sequence(node))?;
                }
            }
        }
    }

    /// Builds one block if there is anything to put in it, or, while the chain is behind L1 by
    /// more than the drift or its L1 origin trails L1 by more than one block, a run of blocks.
    pub fn sequence(&self, node: &mut RollupNode) -> Result<()> {
        self.sequence_at(node, now_secs())
    }

    /// [`Self::sequence`] at wall-clock time `now` (seconds).
    pub fn sequence_at(&self, node: &mut RollupNode, now: u64) -> Result<()> {
        for _ in 0..MAX_CATCH_UP_BLOCKS_PER_TICK {
            if !self.sequence_one(node, now)? {
                break;
            }
        }
        Ok(())
    }

    /// Builds at most one block; returns whether another should follow at once (a catch-up
    /// block, or an L1 origin still behind).
    fn sequence_one(&self, node: &mut RollupNode, now: u64) -> Result<bool> {
        let reader = node.store().reader()?;
        let head = reader.l2_head()?.unwrap_or_default();
        let header = reader.header(head)?.ok_or_else(|| {
            NodeError::Storage(rollup_storage::StorageError::NotFound(format!(
                "header {head}"
            )))
        })?;
        let base_fee = header
            .next_block_base_fee(BaseFeeParams::ethereum())
            .unwrap_or(header.base_fee_per_gas.unwrap_or_default());
        let nonce_of = |address| {
            reader
                .account(address)
                .ok()
                .flatten()
                .map_or(0, |account| account.nonce)
        };
        // Offer more than the gas limit: transactions usually use less gas than they reserve, and
        // the executor defers whatever no longer fits (packing by gas used, as Ethereum does).
        let gas_limit = node.config().genesis.gas_limit;
        let started = std::time::Instant::now();
        let mut transactions = self.pool.best(
            gas_limit.saturating_mul(2),
            node.data_path().max_block_tx_bytes(),
            base_fee,
            nonce_of,
        );
        drop(reader);
        metrics::histogram!("rollup_pool_best_seconds").record(started.elapsed());
        let budget = self.da_budget(node)?;
        transactions.truncate(self.max_block_txs.load(Ordering::Relaxed).min(budget));
        if transactions.is_empty() && !node.next_origin_ready(now)? {
            return Ok(false);
        }
        let attempted: Vec<B256> = transactions.iter().map(|tx| tx.hash()).collect();
        let offered = transactions.len();
        let block = match node.build_block(transactions, now) {
            Ok(Some(block)) => block,
            Ok(None) => return Ok(false),
            Err(NodeError::Unbatchable {
                number,
                reason,
                rejected,
            }) => {
                metrics::counter!("rollup_sequencer_unbatchable_blocks_total").increment(1);
                if let Some(health) = &self.health {
                    health.error(format!(
                        "L2 block {number} does not encode as a batch: {reason}"
                    ));
                }
                if rejected.is_empty() {
                    // Each transaction fits a batch, all of them together do not: offer fewer.
                    let limit = (offered / 2).max(1);
                    self.max_block_txs.store(limit, Ordering::Relaxed);
                    warn!(target: "rollup::sequencer", number, %reason, limit, "block does not encode as a batch; building smaller blocks");
                } else {
                    warn!(target: "rollup::sequencer", number, %reason, dropped = rejected.len(), "transactions no batch can carry dropped from the pool");
                    self.prune(node, &rejected)?;
                }
                return Ok(false);
            }
            Err(err) => return Err(err),
        };
        let limit = self.max_block_txs.load(Ordering::Relaxed);
        self.max_block_txs
            .store(limit.saturating_mul(2), Ordering::Relaxed);
        let user_txs = block
            .transactions
            .iter()
            .filter(|tx| matches!(tx, rollup_primitives::L2Transaction::Signed { .. }))
            .count();
        self.account(block.number, block.l1_origin, block.batch_bytes, user_txs);
        let included: HashSet<B256> = block.transactions.iter().map(|tx| tx.hash()).collect();
        let deferred: HashSet<B256> = block.deferred.iter().copied().collect();
        let rejected = attempted
            .iter()
            .filter(|hash| !included.contains(*hash) && !deferred.contains(*hash))
            .count();
        debug!(
            target: "rollup::sequencer",
            number = block.number, hash = %block.hash, txs = block.transactions.len(), rejected,
            "sealed unsafe block"
        );
        metrics::counter!("rollup_sequencer_blocks_total").increment(1);
        if let Some(health) = &self.health {
            health.success(format!(
                "sealed L2 block {} with {} transactions",
                block.number,
                block.transactions.len()
            ));
        }
        metrics::counter!("rollup_sequencer_transactions_total").increment(included.len() as u64);
        // Included and rejected transactions leave the pool; deferred ones wait for the next block.
        let leaving: Vec<B256> = attempted
            .into_iter()
            .filter(|hash| !deferred.contains(hash))
            .collect();
        self.prune(node, &leaving)?;
        // Another block at once while the chain's L1 origin trails L1 by more than one block
        // (the node started late, or L1 blocks come as fast as L2 blocks): one origin per block
        // at the block interval would never close the gap, and each block it trails brings its
        // batch closer to its sequencing window's deadline.
        Ok(block.catching_up || node.next_origin_ready(now)?)
    }

    /// After L2 blocks were unwound: offers their transactions to the pool again, then prunes
    /// it. In this order: pruning first would roll each sender's nonce back while its later
    /// transactions still wait in the pool, behind a gap the readmitted ones are about to fill,
    /// and the per-sender cap on queued transactions would silently drop all but the first of
    /// them.
    pub fn after_unwind(&self, node: &mut RollupNode) -> Result<()> {
        self.readmit(node);
        self.prune(node, &[])
    }

    /// Offers the transactions of removed unsafe blocks to the pool again; those that are no
    /// longer valid (e.g. re-derived in another block) are refused by its checks.
    pub fn readmit(&self, node: &mut RollupNode) {
        let orphaned = node.take_orphaned_transactions();
        let total = orphaned.len();
        let mut readmitted = 0;
        let mut dropped = 0;
        let mut first_reason = None;
        for tx in orphaned {
            match self.pool.readmit(tx) {
                Ok(_) => readmitted += 1,
                // Included again by the re-derived chain, or replaced meanwhile by its sender:
                // nothing lost.
                Err(
                    PoolError::NonceTooLow { .. }
                    | PoolError::AlreadyKnown
                    | PoolError::ReplacementUnderpriced,
                ) => {}
                Err(err) => {
                    dropped += 1;
                    first_reason.get_or_insert(err);
                }
            }
        }
        if total > 0 {
            info!(target: "rollup::sequencer", readmitted, total, "transactions of removed L2 blocks offered again");
        }
        if let Some(reason) = first_reason {
            metrics::counter!("rollup_sequencer_readmit_dropped_total").increment(dropped);
            warn!(target: "rollup::sequencer", dropped, total, first_reason = %reason, "transactions of removed L2 blocks could not be pooled again and are dropped; their senders must send them again");
        }
        // Until they are in blocks again the pool is their only copy: on disk too, before the
        // next block.
        if readmitted > 0
            && let Some(backup) = &self.backup
        {
            match backup.save_unwound(&self.pool) {
                Ok(saved) => {
                    debug!(target: "rollup::sequencer", saved, path = %backup.unwound_path().display(), "pool written after the reorg");
                }
                Err(err) => {
                    warn!(target: "rollup::sequencer", %err, path = %backup.unwound_path().display(), "cannot write the pool after an L1 reorg: a kill -9 before the removed transactions are in blocks again would lose them");
                }
            }
        }
    }

    fn prune(&self, node: &RollupNode, hashes: &[B256]) -> Result<()> {
        let reader = node.store().reader()?;
        self.pool.remove_and_prune(hashes, |address| {
            reader
                .account(address)
                .ok()
                .flatten()
                .map_or(0, |account| account.nonce)
        });
        Ok(())
    }
}
