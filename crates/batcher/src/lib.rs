//! The batcher: turns sequenced (unsafe) L2 blocks into versioned batches and posts them to the
//! L1 `BatchInbox`, so that anyone can derive the L2 chain from L1 alone.
//!
//! # Invariants
//! - Every batch extends a block the batcher believed safe or already posted: its
//!   `parent_hash` is the hash of the block before its first block, so derivation can tell
//!   a re-post from new data.
//! - A batch never exceeds [`MAX_BATCH_SIZE`](rollup_primitives::MAX_BATCH_SIZE) bytes.
//! - Blocks posted but not safe within `repost_after_l1_blocks` L1 blocks of their batch's
//!   inclusion (an L1 reorg dropped it, or derivation rejected it) are posted again from the
//!   safe head.

mod batcher;

pub use batcher::{Batcher, BatcherConfig, BatcherError, build_batch};
