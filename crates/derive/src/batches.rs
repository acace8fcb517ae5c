//! Batches: `BatchInbox` records → L2 block inputs, and the rules a batch block satisfies.
//!
//! The inbox checks every batch at posting (see `docs/derivation.md`) and appends a record;
//! derivation reads exactly those records, in order. A record is either a posted batch (its
//! data is the calldata of the `postBatch` call that emitted it), a blob batch (the envelope is
//! the calldata of `postBlobBatch`, the segments are in the transaction's blobs) or a forced
//! block (`forceInclude`).

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_primitives::{
    L1Block, RollupConfig,
    bindings::IBatchInbox::{BatchAppended, postBatchCall, postBlobBatchCall},
    blob_data,
};

/// One record the `BatchInbox` appended, as its `BatchAppended` event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRecord {
    /// The record's index in the inbox.
    pub index: u64,
    /// Number of its first L2 block.
    pub first_block: u64,
    /// Its L2 blocks.
    pub block_count: u64,
    /// The L1 origin of its last block.
    pub last_origin: u64,
    /// Bridge messages in L1 blocks up to `last_origin`.
    pub deposit_count: u64,
    /// `keccak256` of the batch data, or of a blob batch's envelope (zero for a forced block).
    pub data_hash: B256,
    /// Merkle root of the segments' hashes; for a blob batch `keccak256` of its versioned
    /// hashes (zero for a forced block).
    pub segment_root: B256,
    /// `keccak256` of the block table.
    pub blocks_hash: B256,
    /// Whether its last block continues in the next record (the envelope's open flag): that
    /// block is derived when a later record closes it.
    pub last_block_open: bool,
    /// The batch data (a blob batch's envelope); `None` for a forced block.
    pub data: Option<Bytes>,
    /// A blob batch's blob data stream ([`blob_data`] of its blobs), whose first bytes are its
    /// segments; `None` for a calldata batch or a forced block.
    pub blob_data: Option<Vec<u8>>,
    /// The L1 transaction that appended it.
    pub tx_hash: B256,
    /// That transaction's index in its L1 block.
    pub tx_index: usize,
}

/// L1 data that contradicts what the inbox guarantees: derivation cannot go on without losing
/// or inventing blocks, so it stops until the L1 source is fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxDataError {
    /// A `BatchAppended` log that does not decode.
    #[error("L1 block {l1_block}: malformed BatchAppended log in transaction {tx_index}")]
    MalformedLog {
        /// The L1 block.
        l1_block: u64,
        /// The transaction.
        tx_index: usize,
    },
    /// A posted batch whose calldata is missing or does not hash to the record's `dataHash`.
    #[error(
        "L1 block {l1_block}: inbox record {index} names data {data_hash}, but transaction {tx_index} does not carry it"
    )]
    MissingData {
        /// The L1 block.
        l1_block: u64,
        /// The record.
        index: u64,
        /// The data hash the inbox recorded.
        data_hash: B256,
        /// The transaction.
        tx_index: usize,
    },
    /// A blob batch whose blobs the L1 source did not attach: the node has no beacon API to
    /// read them from, or the transaction's blobs do not match the record.
    #[error(
        "L1 block {l1_block}: inbox record {index} is a blob batch of {blob_count} blobs, but the \
         blobs of transaction {tx_index} are not at hand or do not match it \
         (is --l1-beacon-url set to a beacon node that keeps blobs?)"
    )]
    MissingBlobs {
        /// The L1 block.
        l1_block: u64,
        /// The record.
        index: u64,
        /// The blob count the inbox recorded.
        blob_count: u8,
        /// The transaction.
        tx_index: usize,
    },
}

/// Reads the records the configured `BatchInbox` appended in `block`, in log order, with each
/// posted batch's data (the calldata of the top-level `postBatch` call that emitted the
/// record: the inbox accepts only such calls, from its batcher).
pub fn extract_inbox_records(
    config: &RollupConfig,
    block: &L1Block,
) -> Result<Vec<InboxRecord>, InboxDataError> {
    let inbox = config.contracts.batch_inbox;
    let mut records = Vec::new();
    for (tx_index, (tx, receipt)) in block.transactions.iter().zip(&block.receipts).enumerate() {
        if !receipt.success {
            continue;
        }
        for log in &receipt.logs {
            if log.address != inbox || log.topics().first() != Some(&BatchAppended::SIGNATURE_HASH)
            {
                continue;
            }
            let event = BatchAppended::decode_log_data_validate(&log.data).map_err(|_| {
                InboxDataError::MalformedLog {
                    l1_block: block.number,
                    tx_index,
                }
            })?;
            let index = u64::try_from(event.index).map_err(|_| InboxDataError::MalformedLog {
                l1_block: block.number,
                tx_index,
            })?;
            let missing_data = InboxDataError::MissingData {
                l1_block: block.number,
                index,
                data_hash: event.dataHash,
                tx_index,
            };
            let (data, blobs) = if event.forced {
                (None, None)
            } else if event.blobCount == 0 {
                let data = (tx.to == Some(inbox))
                    .then(|| postBatchCall::abi_decode(&tx.input).ok())
                    .flatten()
                    .map(|call| call.data)
                    .filter(|data| keccak256(data) == event.dataHash)
                    .ok_or(missing_data)?;
                (Some(data), None)
            } else {
                let envelope = (tx.to == Some(inbox))
                    .then(|| postBlobBatchCall::abi_decode(&tx.input).ok())
                    .flatten()
                    .map(|call| call.envelope)
                    .filter(|envelope| keccak256(envelope) == event.dataHash)
                    .ok_or(missing_data)?;
                // The blobs the source attached were checked against the transaction's
                // versioned hashes; those must be the ones the inbox recorded.
                let hashes = &tx.blob_versioned_hashes;
                let recorded = hashes.len() == usize::from(event.blobCount)
                    && keccak256(hashes.iter().flat_map(|hash| hash.0).collect::<Vec<u8>>())
                        == event.segmentRoot;
                if !recorded || tx.blobs.len() != hashes.len() {
                    return Err(InboxDataError::MissingBlobs {
                        l1_block: block.number,
                        index,
                        blob_count: event.blobCount,
                        tx_index,
                    });
                }
                (Some(envelope), Some(blob_data(&tx.blobs)))
            };
            records.push(InboxRecord {
                index,
                first_block: event.firstBlock,
                block_count: u64::from(event.blockCount),
                last_origin: event.lastOrigin,
                deposit_count: event.depositCount,
                data_hash: event.dataHash,
                segment_root: event.segmentRoot,
                blocks_hash: event.blocksHash,
                last_block_open: event.lastBlockOpen,
                data,
                blob_data: blobs,
                tx_hash: tx.hash,
                tx_index,
            });
        }
    }
    Ok(records)
}

/// Most L2 blocks that may share one timestamp (second): 100 ms blocks at the fastest. With
/// timestamps never ahead of the L1 origin by more than the drift, this bounds the number of
/// L2 blocks per unit of L1 time, so no batcher, honest or not, can make replicas derive an
/// unbounded run of blocks.
pub const MAX_L2_BLOCKS_PER_SECOND: u64 = 10;

/// The first L1 block that can no longer include a batch whose first block has L1 origin
/// `origin`: two sequencing windows after it. After one window anyone may force the epoch in
/// (`BatchInbox.forceInclude`); the second is the sequencer's grace to catch up after an outage
/// or a forced run (whichever lands first wins).
pub const fn batch_deadline(config: &RollupConfig, origin: u64) -> u64 {
    origin.saturating_add(config.sequencing_window.saturating_mul(2))
}

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
    /// What a child with `timestamp` and `l1_origin` is as a parent.
    pub const fn child(&self, timestamp: u64, l1_origin: u64) -> Self {
        let blocks_at_timestamp = if timestamp == self.timestamp {
            self.blocks_at_timestamp + 1
        } else {
            1
        };
        Self {
            timestamp,
            l1_origin,
            blocks_at_timestamp,
        }
    }

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
        "included in L1 block {inclusion}, more than two sequencing windows after origin {origin}"
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
    if inclusion >= batch_deadline(config, origin) {
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
