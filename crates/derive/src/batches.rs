//! Batches: `BatchInbox.postBatch` calldata → L2 block inputs, and the rules a batch block must
//! satisfy to extend the safe chain.

use alloy_primitives::Bytes;
use alloy_sol_types::SolCall;
use rollup_primitives::{L1Block, RollupConfig, bindings::IBatchInbox::postBatchCall};

/// Raw batch data posted in one L1 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchData {
    /// Index of the posting transaction in its L1 block.
    pub tx_index: usize,
    /// The `data` argument of `postBatch`.
    pub data: Bytes,
}

/// Extracts batch data from an L1 block: the `data` of every successful top-level
/// `postBatch(bytes)` call to the configured `BatchInbox`, in transaction order.
///
/// Only calls sent by the configured batcher account count (the inbox also accepts only its
/// batcher; derivation does not rely on that alone); calls that revert, go elsewhere, come
/// from anyone else or carry malformed calldata are ignored.
pub fn extract_batch_data(config: &RollupConfig, block: &L1Block) -> Vec<BatchData> {
    block
        .transactions
        .iter()
        .zip(&block.receipts)
        .enumerate()
        .filter(|(_, (tx, receipt))| {
            receipt.success
                && tx.to == Some(config.contracts.batch_inbox)
                && tx.from == config.batcher_address
        })
        .filter_map(|(tx_index, (tx, _))| {
            let call = postBatchCall::abi_decode_validate(&tx.input).ok()?;
            Some(BatchData {
                tx_index,
                data: call.data,
            })
        })
        .collect()
}

/// Most L2 blocks that may share one timestamp (second): 100 ms blocks at the fastest. With
/// timestamps never ahead of the L1 origin by more than the drift, this bounds the number of
/// L2 blocks per unit of L1 time, so no batcher, honest or not, can make replicas derive an
/// unbounded run of blocks.
pub const MAX_L2_BLOCKS_PER_SECOND: u64 = 10;

/// Most L2 blocks one L1 block may derive (its batches and forced epochs together); the rest of
/// a batch that would exceed it is dropped. Bounds the work and the MDBX transaction of one L1
/// block; far above what honest batches carry (10 blocks per second of a 12 s slot, plus
/// catch-up).
pub const MAX_L2_BLOCKS_PER_L1_BLOCK: u64 = 4_096;

/// Most L2 transactions the batches of one L1 block may derive; the rest of a batch that would
/// exceed it is dropped.
pub const MAX_L2_TRANSACTIONS_PER_L1_BLOCK: u64 = 65_536;

/// What the next block must build on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeParent {
    /// Parent timestamp.
    pub timestamp: u64,
    /// Parent's L1 origin number.
    pub l1_origin: u64,
    /// How many blocks, ending with the parent, carry the parent's timestamp (1 if only the
    /// parent does).
    pub blocks_at_timestamp: u64,
}

impl SafeParent {
    /// The earliest timestamp a child may take at or after `wanted` without breaking
    /// [`MAX_L2_BLOCKS_PER_SECOND`].
    pub const fn next_free_timestamp(&self, wanted: u64) -> u64 {
        if wanted <= self.timestamp && self.blocks_at_timestamp >= MAX_L2_BLOCKS_PER_SECOND {
            self.timestamp + 1
        } else if wanted < self.timestamp {
            self.timestamp
        } else {
            wanted
        }
    }
}

/// Why a batch block cannot extend the safe chain. The block and the rest of its batch are
/// dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchBlockError {
    /// The origin must be the parent's origin or the next L1 block.
    #[error("L1 origin {origin} is neither the parent's origin {parent_origin} nor the next block")]
    OriginNotAdjacent {
        /// Claimed origin.
        origin: u64,
        /// Parent's origin.
        parent_origin: u64,
    },
    /// A batch cannot reference an L1 block later than the one including it.
    #[error("L1 origin {origin} is after the including L1 block {inclusion}")]
    OriginAfterInclusion {
        /// Claimed origin.
        origin: u64,
        /// Including L1 block.
        inclusion: u64,
    },
    /// Included after the sequencing window of its origin closed.
    #[error(
        "included in L1 block {inclusion}, after the sequencing window of origin {origin} closed"
    )]
    OutsideSequencingWindow {
        /// Origin.
        origin: u64,
        /// Including L1 block.
        inclusion: u64,
    },
    /// Timestamps never go back.
    #[error("timestamp {timestamp} is before the parent's {parent}")]
    TimestampBeforeParent {
        /// Block timestamp.
        timestamp: u64,
        /// Parent timestamp.
        parent: u64,
    },
    /// Too many blocks with one timestamp.
    #[error("more than {MAX_L2_BLOCKS_PER_SECOND} L2 blocks at timestamp {timestamp}")]
    TooManyBlocksPerSecond {
        /// The shared timestamp.
        timestamp: u64,
    },
    /// An L2 block cannot be older than its L1 origin.
    #[error("timestamp {timestamp} is before its L1 origin's {origin_timestamp}")]
    TimestampBeforeOrigin {
        /// Block timestamp.
        timestamp: u64,
        /// Origin timestamp.
        origin_timestamp: u64,
    },
    /// An L2 block may run at most `max_sequencer_drift` ahead of its origin.
    #[error(
        "timestamp {timestamp} is more than the allowed drift ahead of its L1 origin's {origin_timestamp}"
    )]
    TooFarAhead {
        /// Block timestamp.
        timestamp: u64,
        /// Origin timestamp.
        origin_timestamp: u64,
    },
}

/// Checks one batch block against its parent, its origin's timestamp and the L1 block that
/// includes it. Pure: every replica reaches the same verdict.
pub fn check_batch_block(
    config: &RollupConfig,
    parent: SafeParent,
    origin: u64,
    origin_timestamp: u64,
    timestamp: u64,
    inclusion: u64,
) -> Result<(), BatchBlockError> {
    if origin != parent.l1_origin && origin != parent.l1_origin + 1 {
        return Err(BatchBlockError::OriginNotAdjacent {
            origin,
            parent_origin: parent.l1_origin,
        });
    }
    if origin > inclusion {
        return Err(BatchBlockError::OriginAfterInclusion { origin, inclusion });
    }
    if inclusion >= origin.saturating_add(config.sequencing_window) {
        return Err(BatchBlockError::OutsideSequencingWindow { origin, inclusion });
    }
    if timestamp < parent.timestamp {
        return Err(BatchBlockError::TimestampBeforeParent {
            timestamp,
            parent: parent.timestamp,
        });
    }
    if timestamp == parent.timestamp && parent.blocks_at_timestamp >= MAX_L2_BLOCKS_PER_SECOND {
        return Err(BatchBlockError::TooManyBlocksPerSecond { timestamp });
    }
    if timestamp < origin_timestamp {
        return Err(BatchBlockError::TimestampBeforeOrigin {
            timestamp,
            origin_timestamp,
        });
    }
    if timestamp > origin_timestamp.saturating_add(config.max_sequencer_drift) {
        return Err(BatchBlockError::TooFarAhead {
            timestamp,
            origin_timestamp,
        });
    }
    Ok(())
}

/// Whether the sequencing window of epoch `next_epoch` has closed by L1 block `current`: from
/// then on replicas derive the epoch's first block (its deposits, no transactions) themselves.
pub const fn sequencing_window_closed(
    config: &RollupConfig,
    next_epoch: u64,
    current: u64,
) -> bool {
    next_epoch <= current && current >= next_epoch + config.sequencing_window - 1
}
