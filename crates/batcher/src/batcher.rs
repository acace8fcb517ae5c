//! The batcher loop.

use std::time::Duration;

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use rollup_l1::{L1Error, L1Sender};
use rollup_primitives::{
    Batch, BatchBlock, BatchError, Heads, L2Transaction, MAX_BATCH_SIZE,
    bindings::IBatchInbox::postBatchCall, decode_l1_origin,
};
use rollup_storage::{StorageError, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

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
    /// Largest batch, in bytes (at most `MAX_BATCH_SIZE`).
    pub max_batch_bytes: usize,
    /// Post again when posted blocks are still not safe this many L1 blocks after inclusion.
    pub repost_after_l1_blocks: u64,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            batch_inbox: Address::ZERO,
            poll_interval: Duration::from_secs(1),
            max_blocks_per_batch: 256,
            max_batch_bytes: MAX_BATCH_SIZE,
            repost_after_l1_blocks: 8,
        }
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
}

/// Builds the batch of blocks `from..=` as many as fit in `max_bytes` and `max_blocks`, on top
/// of block `from - 1`. Returns the batch, its encoding and its last block; `None` if block
/// `from` does not exist.
pub fn build_batch(
    store: &Store,
    from: u64,
    to: u64,
    max_blocks: usize,
    max_bytes: usize,
) -> Result<Option<(Batch, Vec<u8>, u64)>, BatcherError> {
    let reader = store.reader()?;
    let Some(parent_hash) = reader.block_hash(from.saturating_sub(1))? else {
        return Ok(None);
    };
    let mut batch = Batch {
        parent_hash,
        blocks: Vec::new(),
    };
    let mut encoded: Option<(Vec<u8>, u64)> = None;
    for number in from..=to {
        if batch.blocks.len() >= max_blocks {
            break;
        }
        let (Some(header), Some(body)) = (reader.header(number)?, reader.body(number)?) else {
            break;
        };
        let origin = decode_l1_origin(&header.extra_data).map_err(|err| BatcherError::Encode {
            block: number,
            reason: err.to_string(),
        })?;
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
            break;
        };
        encoded = Some((bytes, number));
    }
    Ok(encoded.map(|(bytes, last)| (batch, bytes, last)))
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

    /// Runs until `cancel` fires. L1 errors are logged and retried; they never stop it.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), BatcherError> {
        info!(target: "rollup::batcher", inbox = %self.config.batch_inbox, sender = %self.sender.address(), "batcher running");
        let mut posted_up_to = self.heads.borrow().safe_l2.number;
        let mut in_flight: Vec<InFlight> = Vec::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
            let heads = *self.heads.borrow();
            let safe = heads.safe_l2.number;
            in_flight.retain(|batch| batch.last_block > safe);
            if self.any_reorged_out(&in_flight).await {
                warn!(target: "rollup::batcher", safe_l2 = safe, posted_up_to, "an L1 reorg dropped a posted batch; posting again from the safe head");
                metrics::counter!("rollup_batcher_reposts_total").increment(1);
                in_flight.clear();
                posted_up_to = safe;
            }
            if let Some(oldest) = in_flight.first() {
                match self.sender.head().await {
                    Ok(l1_head)
                        if l1_head >= oldest.included_in + self.config.repost_after_l1_blocks =>
                    {
                        warn!(
                            target: "rollup::batcher",
                            safe_l2 = safe, posted_up_to, included_in = oldest.included_in, l1_head,
                            "posted blocks did not become safe; posting again from the safe head"
                        );
                        metrics::counter!("rollup_batcher_reposts_total").increment(1);
                        in_flight.clear();
                        posted_up_to = safe;
                    }
                    Ok(_) => {}
                    Err(err) => {
                        warn!(target: "rollup::batcher", %err, "cannot read the L1 head");
                        continue;
                    }
                }
            }
            // The safe chain moved past what we posted (e.g. another batcher, or a re-derivation).
            if in_flight.is_empty() && posted_up_to != safe {
                posted_up_to = safe;
            }
            if heads.unsafe_l2.number <= posted_up_to {
                continue;
            }
            let built = build_batch(
                &self.store,
                posted_up_to + 1,
                heads.unsafe_l2.number,
                self.config.max_blocks_per_batch,
                self.config.max_batch_bytes.min(MAX_BATCH_SIZE),
            );
            let (batch, bytes, last_block) = match built {
                Ok(Some(built)) => built,
                Ok(None) => continue,
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot build a batch");
                    continue;
                }
            };
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
                        from = posted_up_to + 1, to = last_block, txs, bytes = bytes.len(), l1_block = included_in,
                        gas_used = receipt.gas_used, "batch posted"
                    );
                    metrics::counter!("rollup_batcher_batches_total").increment(1);
                    metrics::counter!("rollup_batcher_bytes_total").increment(bytes.len() as u64);
                    metrics::counter!("rollup_batcher_l1_gas_total").increment(receipt.gas_used);
                    in_flight.push(InFlight {
                        last_block,
                        included_in,
                        tx_hash: receipt.transaction_hash,
                        block_hash: receipt.block_hash.unwrap_or_default(),
                    });
                    posted_up_to = last_block;
                }
                Ok(receipt) => {
                    warn!(target: "rollup::batcher", tx = %receipt.transaction_hash, "batch transaction reverted (is this key the inbox's batcher?)");
                }
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "posting a batch failed; will retry")
                }
            }
            debug!(target: "rollup::batcher", posted_up_to, in_flight = in_flight.len(), "batcher state");
        }
    }
}
