//! The batcher loop.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use rollup_l1::{L1Error, L1Sender};
use rollup_primitives::{
    Batch, BatchBlock, BatchError, Heads, L2Transaction, MAX_BATCH_SIZE, RoleHealth, RollupConfig,
    bindings::IBatchInbox::postBatchCall, decode_l1_origin,
};
use rollup_storage::{StorageError, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, trace, warn};

/// Batcher errors.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// Reading L2 blocks failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Talking to L1 failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// A block could not be encoded into a batch.
    #[error("cannot encode L2 block {block} into a batch: {reason}")]
    Encode {
        /// The block.
        block: u64,
        /// Why.
        reason: String,
    },
}

/// Batcher settings.
#[derive(Debug, Clone, Copy)]
pub struct BatcherConfig {
    /// The L1 `BatchInbox`.
    pub batch_inbox: Address,
    /// How often to look for new blocks to post.
    pub poll_interval: Duration,
    /// Most L2 blocks in one batch.
    pub max_blocks_per_batch: usize,
    /// Largest batch, in bytes (at most `MAX_BATCH_SIZE`). Pending blocks that fill a batch of
    /// this size go out at once.
    pub max_batch_bytes: usize,
    /// Post again when posted blocks are still not safe this many L1 blocks after inclusion.
    pub repost_after_l1_blocks: u64,
    /// The longest an L2 block with transactions (user transactions or deposits) waits to be
    /// posted, counted from its timestamp. Blocks without transactions do not start this clock:
    /// they go out with the next batch, or before their sequencing window closes.
    pub max_delay: Duration,
    /// The rollup's sequencing window, in L1 blocks (`RollupConfig::sequencing_window`): a batch
    /// counts only if it is included before `origin + sequencing_window` of its oldest block.
    pub sequencing_window: u64,
    /// L1 blocks to spare: pending blocks, even without transactions, are posted once at most
    /// this many L1 blocks after the next one remain before the sequencing window of the oldest
    /// of them closes (room for the batch transaction to be resubmitted with higher fees). A
    /// margin as large as the window posts every block as soon as it is sealed.
    pub window_margin: u64,
}

impl BatcherConfig {
    /// Settings for `rollup`'s inbox and sequencing window, with the default limits: posts
    /// when a batch is full, when a block with transactions is a minute old, and 10 L1 blocks
    /// before a sequencing window would close.
    pub const fn new(rollup: &RollupConfig) -> Self {
        Self {
            batch_inbox: rollup.contracts.batch_inbox,
            poll_interval: Duration::from_secs(1),
            max_blocks_per_batch: 256,
            max_batch_bytes: MAX_BATCH_SIZE,
            repost_after_l1_blocks: 8,
            max_delay: Duration::from_secs(60),
            sequencing_window: rollup.sequencing_window,
            window_margin: 10,
        }
    }

    /// Why `pending` should be posted now, at `now` (since the Unix epoch) with the L1 head at
    /// `l1_head`; `None` while it can wait (for more blocks to fill the batch).
    pub fn post_reason(
        &self,
        pending: &PendingBatch,
        now: Duration,
        l1_head: u64,
    ) -> Option<PostReason> {
        if pending.full {
            return Some(PostReason::Full);
        }
        if let Some(timestamp) = pending.oldest_with_transactions
            && now.saturating_sub(Duration::from_secs(timestamp)) >= self.max_delay
        {
            return Some(PostReason::MaxDelay);
        }
        // A transaction sent now lands in `l1_head + 1` at the earliest; the oldest pending block
        // counts only if its batch lands by `last_inclusion` (after that, derivation would
        // replace it with a deposit-only block).
        let last_inclusion = pending
            .first_l1_origin()
            .saturating_add(self.sequencing_window.saturating_sub(1));
        if l1_head.saturating_add(1).saturating_add(self.window_margin) >= last_inclusion {
            return Some(PostReason::WindowDeadline);
        }
        None
    }
}

/// Why the batcher posts the pending blocks now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostReason {
    /// They fill a batch (bytes or block count); more are waiting.
    Full,
    /// The oldest block with transactions reached [`BatcherConfig::max_delay`].
    MaxDelay,
    /// The sequencing window of the oldest block is about to close
    /// ([`BatcherConfig::window_margin`]).
    WindowDeadline,
}

impl PostReason {
    /// A short name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::MaxDelay => "max delay",
            Self::WindowDeadline => "window deadline",
        }
    }
}

/// The unposted blocks from some block on, as many as fit one batch.
#[derive(Debug, Clone)]
pub struct PendingBatch {
    /// The batch.
    pub batch: Batch,
    /// Its encoding.
    pub bytes: Vec<u8>,
    /// Its last L2 block.
    pub last_block: u64,
    /// More blocks were waiting than fit: the batch is as large as it gets.
    pub full: bool,
    /// Timestamp of the oldest block in the batch with transactions (deposits included).
    pub oldest_with_transactions: Option<u64>,
}

impl PendingBatch {
    /// The L1 origin of the batch's first block: the earliest sequencing window to meet.
    pub fn first_l1_origin(&self) -> u64 {
        self.batch.blocks.first().map_or(0, |block| block.l1_origin)
    }
}

/// A posted batch waiting to become safe.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    last_block: u64,
    included_in: u64,
    tx_hash: alloy_primitives::B256,
    block_hash: alloy_primitives::B256,
}

/// Posts batches until cancelled.
#[derive(Debug)]
pub struct Batcher {
    config: BatcherConfig,
    store: Store,
    heads: watch::Receiver<Heads>,
    sender: L1Sender,
    health: Option<RoleHealth>,
}

/// Builds the batch of blocks `from..=to`, as many as fit in `max_bytes` and `max_blocks`, on
/// top of block `from - 1`. `None` if block `from` does not exist; an error if it alone does not
/// fit.
pub fn build_batch(
    store: &Store,
    from: u64,
    to: u64,
    max_blocks: usize,
    max_bytes: usize,
) -> Result<Option<PendingBatch>, BatcherError> {
    let reader = store.reader()?;
    let Some(parent_hash) = reader.block_hash(from.saturating_sub(1))? else {
        return Ok(None);
    };
    let mut batch = Batch {
        parent_hash,
        blocks: Vec::new(),
    };
    let mut encoded: Option<(Vec<u8>, u64)> = None;
    let mut full = false;
    let mut oldest_with_transactions = None;
    for number in from..=to {
        if batch.blocks.len() >= max_blocks {
            full = true;
            break;
        }
        let (Some(header), Some(body)) = (reader.header(number)?, reader.body(number)?) else {
            break;
        };
        let origin = decode_l1_origin(&header.extra_data).map_err(|err| BatcherError::Encode {
            block: number,
            reason: err.to_string(),
        })?;
        let busy = !body.is_empty();
        let transactions = body
            .into_iter()
            .filter_map(|tx| match tx {
                L2Transaction::Signed { envelope, .. } => Some(envelope),
                L2Transaction::Deposit(_) => None,
            })
            .collect();
        batch.blocks.push(BatchBlock {
            timestamp: header.timestamp,
            l1_origin: origin.number,
            transactions,
        });
        // Over the limit, by our cap or the codec's own: post what fit before this block.
        let too_large = |size: usize| size > max_bytes;
        let bytes = match batch.encode() {
            Ok(bytes) if !too_large(bytes.len()) => Some(bytes),
            Ok(_) | Err(BatchError::TooLarge { .. } | BatchError::PayloadTooLarge { .. }) => None,
            Err(err) => {
                return Err(BatcherError::Encode {
                    block: number,
                    reason: err.to_string(),
                });
            }
        };
        let Some(bytes) = bytes else {
            batch.blocks.pop();
            if batch.blocks.is_empty() {
                return Err(BatcherError::Encode {
                    block: number,
                    reason: format!("the block alone does not fit a {max_bytes}-byte batch"),
                });
            }
            full = true;
            break;
        };
        if busy && oldest_with_transactions.is_none() {
            oldest_with_transactions = Some(header.timestamp);
        }
        encoded = Some((bytes, number));
    }
    Ok(encoded.map(|(bytes, last_block)| PendingBatch {
        batch,
        bytes,
        last_block,
        full,
        oldest_with_transactions,
    }))
}

/// What the batcher remembers between rounds.
#[derive(Debug, Default)]
struct Progress {
    /// The last block posted (or safe).
    posted_up_to: u64,
    /// Posted batches not yet safe, oldest first.
    in_flight: Vec<InFlight>,
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl Batcher {
    /// A batcher reading blocks from `store`, following `heads`, posting with `sender`.
    pub const fn new(
        config: BatcherConfig,
        store: Store,
        heads: watch::Receiver<Heads>,
        sender: L1Sender,
    ) -> Self {
        Self {
            config,
            store,
            heads,
            sender,
            health: None,
        }
    }

    /// Reports each batch posted, and each failure, to `health`.
    #[must_use]
    pub fn with_health(mut self, health: RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    fn report_error(&self, message: impl FnOnce() -> String) {
        if let Some(health) = &self.health {
            health.error(message());
        }
    }

    /// Whether an L1 reorg removed (or moved) the inclusion of any posted batch.
    async fn any_reorged_out(&self, in_flight: &[InFlight]) -> bool {
        use alloy_provider::Provider;
        for batch in in_flight {
            match self
                .sender
                .provider()
                .get_transaction_receipt(batch.tx_hash)
                .await
            {
                Ok(Some(receipt)) if receipt.block_hash == Some(batch.block_hash) => {}
                Ok(_) => return true,
                // Cannot tell now; the repost timer still covers it.
                Err(_) => return false,
            }
        }
        false
    }

    /// Runs until `cancel` fires. L1 errors are logged and retried; they never stop it. Every
    /// L1 call and wait stops with `cancel`, so a dead L1 cannot hold up a shutdown.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), BatcherError> {
        self.sender = self.sender.with_cancel(cancel.clone());
        info!(
            target: "rollup::batcher",
            inbox = %self.config.batch_inbox, sender = %self.sender.address(),
            max_delay = ?self.config.max_delay, window_margin = self.config.window_margin,
            "batcher running"
        );
        let mut progress = Progress {
            posted_up_to: self.heads.borrow().safe_l2.number,
            in_flight: Vec::new(),
        };
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = self.round(&mut progress) => {}
            }
        }
    }

    /// One look at the heads: repost what L1 dropped, then post the pending blocks if it is
    /// time (see [`BatcherConfig::post_reason`]).
    async fn round(&self, progress: &mut Progress) {
        let heads = *self.heads.borrow();
        let safe = heads.safe_l2.number;
        progress.in_flight.retain(|batch| batch.last_block > safe);
        if self.any_reorged_out(&progress.in_flight).await {
            warn!(target: "rollup::batcher", safe_l2 = safe, posted_up_to = progress.posted_up_to, "an L1 reorg dropped a posted batch; posting again from the safe head");
            metrics::counter!("rollup_batcher_reposts_total").increment(1);
            progress.in_flight.clear();
            progress.posted_up_to = safe;
        }
        if let Some(oldest) = progress.in_flight.first() {
            match self.sender.head().await {
                Ok(l1_head)
                    if l1_head >= oldest.included_in + self.config.repost_after_l1_blocks =>
                {
                    warn!(
                        target: "rollup::batcher",
                        safe_l2 = safe, posted_up_to = progress.posted_up_to, included_in = oldest.included_in, l1_head,
                        "posted blocks did not become safe; posting again from the safe head"
                    );
                    metrics::counter!("rollup_batcher_reposts_total").increment(1);
                    progress.in_flight.clear();
                    progress.posted_up_to = safe;
                }
                Ok(_) => {}
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot read the L1 head");
                    self.report_error(|| format!("cannot read the L1 head: {err}"));
                    return;
                }
            }
        }
        // The safe chain moved past what we posted (e.g. another batcher, or a re-derivation).
        if progress.in_flight.is_empty() && progress.posted_up_to != safe {
            progress.posted_up_to = safe;
        }
        if heads.unsafe_l2.number <= progress.posted_up_to {
            return;
        }
        let from = progress.posted_up_to + 1;
        let built = build_batch(
            &self.store,
            from,
            heads.unsafe_l2.number,
            self.config.max_blocks_per_batch,
            self.config.max_batch_bytes.min(MAX_BATCH_SIZE),
        );
        let pending = match built {
            Ok(Some(pending)) => pending,
            Ok(None) => return,
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot build a batch");
                self.report_error(|| format!("cannot build a batch: {err}"));
                return;
            }
        };
        let l1_head = match self.sender.head().await {
            Ok(l1_head) => l1_head,
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read the L1 head");
                self.report_error(|| format!("cannot read the L1 head: {err}"));
                return;
            }
        };
        let Some(reason) = self.config.post_reason(&pending, unix_now(), l1_head) else {
            trace!(
                target: "rollup::batcher",
                from, to = pending.last_block, bytes = pending.bytes.len(), l1_head,
                first_l1_origin = pending.first_l1_origin(), oldest_with_transactions = ?pending.oldest_with_transactions,
                "batch not due yet"
            );
            return;
        };
        let PendingBatch {
            batch,
            bytes,
            last_block,
            ..
        } = pending;
        let txs: usize = batch.blocks.iter().map(|b| b.transactions.len()).sum();
        let input = Bytes::from(
            postBatchCall {
                data: bytes.clone().into(),
            }
            .abi_encode(),
        );
        match self.sender.send(self.config.batch_inbox, input).await {
            Ok(receipt) if receipt.status() => {
                let included_in = receipt.block_number.unwrap_or_default();
                info!(
                    target: "rollup::batcher",
                    from, to = last_block, txs, bytes = bytes.len(), reason = reason.as_str(), l1_block = included_in,
                    gas_used = receipt.gas_used, "batch posted"
                );
                metrics::counter!("rollup_batcher_batches_total").increment(1);
                metrics::counter!("rollup_batcher_bytes_total").increment(bytes.len() as u64);
                metrics::counter!("rollup_batcher_l1_gas_total").increment(receipt.gas_used);
                progress.in_flight.push(InFlight {
                    last_block,
                    included_in,
                    tx_hash: receipt.transaction_hash,
                    block_hash: receipt.block_hash.unwrap_or_default(),
                });
                progress.posted_up_to = last_block;
                if let Some(health) = &self.health {
                    health.success(format!(
                        "posted L2 blocks {from}..={last_block} ({txs} transactions, {} bytes) in L1 block {included_in}",
                        bytes.len()
                    ));
                }
            }
            Ok(receipt) => {
                warn!(target: "rollup::batcher", tx = %receipt.transaction_hash, "batch transaction reverted (is this key the inbox's batcher?)");
                self.report_error(|| {
                    format!(
                        "batch transaction {} reverted (is this key the inbox's batcher?)",
                        receipt.transaction_hash
                    )
                });
            }
            Err(L1Error::Cancelled) => return,
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "posting a batch failed; will retry");
                self.report_error(|| format!("posting a batch failed: {err}"));
            }
        }
        debug!(target: "rollup::batcher", posted_up_to = progress.posted_up_to, in_flight = progress.in_flight.len(), "batcher state");
    }
}
