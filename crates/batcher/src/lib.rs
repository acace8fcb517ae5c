//! The batcher: turns sequenced (unsafe) L2 blocks into versioned batches and posts them to the
//! L1 `BatchInbox`, so that anyone can derive the L2 chain from L1 alone.
//!
//! # When a batch goes out
//! Posting costs L1 gas whatever the batch holds, so pending blocks wait until one of
//! [`PostReason`]: they fill a batch; the oldest block with transactions is
//! [`BatcherConfig::max_delay`] old (like op-batcher's channel duration); or the sequencing window
//! of the oldest pending block is [`BatcherConfig::window_margin`] L1 blocks from closing. An idle
//! chain therefore posts once per sequencing window, not once per L1 block. Blobs are paid for
//! whole (blob gas and the batcher's KZG proofs), so a blob batch whose last blob would carry
//! less than half a blob's data leaves its last blocks to the next batch
//! ([`PendingBatch::fewer_blobs`]) when they can wait there: their window is not closing, and
//! more blocks wait than fit or they are not yet due for their age
//! ([`BatcherConfig::cut_pays`]). Blocks that are due anyway would go out at once, alone.
//!
//! # Invariants
//! - Every batch starts at the inbox's next block, read from L1 each round, and only when the
//!   local chain continues the inbox's last recorded block (its timestamp and origin): the
//!   inbox refuses anything else. A batch an L1 reorg dropped is posted again because the
//!   inbox, reorged with it, asks for those blocks again.
//! - A batch carries the L1 headers of the origins it adds (checked against their hashes here
//!   and by the inbox) and the bridge's message count up to its last origin.
//! - A batch never exceeds [`MAX_BATCH_SIZE`](rollup_primitives::MAX_BATCH_SIZE) bytes.
//! - Pending blocks are sent at the latest when `window_margin` L1 blocks (after the next one)
//!   remain before the sequencing window of the oldest of them closes, whatever `max_delay` is:
//!   a block whose batch lands later is replaced by a deposit-only block in derivation.
//! - Every L1 call and wait of [`Batcher::run`] ends when its cancellation token fires.

mod batcher;
pub mod origins;

pub use batcher::{
    BatchStart, Batcher, BatcherConfig, BatcherError, DEFAULT_MAX_IN_FLIGHT, MAX_BURST_HOLD,
    PendingBatch, PostReason, SequencerLoad, build_batch, newest_recorded_origin, wait_out_burst,
};
pub use rollup_primitives::DataPath;
