//! Data-availability throttling: never sequence what cannot reach L1 in time.
//!
//! Every unsafe block must be posted before its L1 origin's sequencing window closes, or
//! derivation replaces it (and every receipt served from it disappears). The sequencer therefore
//! keeps an account of the blocks sequenced but not yet safe — each with its L1 origin and its
//! size encoded as a batch — and of how many bytes of batch data the batcher gets onto L1 per L1
//! block. Before each block it computes the **headroom**: the bytes it may still add so that
//! every pending block, posted in order at that rate, lands before its own deadline with
//! `margin` L1 blocks to spare. User transactions are offered only within the headroom; with
//! none left the sequencer builds deposit-only blocks (a few bytes each) and the pool refuses
//! new transactions with a clear error until the batcher catches up.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

/// What the L1 data path can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaConfig {
    /// Bytes of batch data the batcher gets onto L1 per L1 block.
    pub l1_bytes_per_block: u64,
    /// L1 blocks to keep in hand before a pending block's sequencing window closes.
    pub margin_blocks: u64,
}

impl DaConfig {
    /// One full batch per L1 block, as the batcher posts today, and a margin of a quarter of
    /// the sequencing window (at least 2 L1 blocks).
    pub fn for_window(sequencing_window: u64) -> Self {
        Self {
            l1_bytes_per_block: rollup_primitives::MAX_BATCH_SIZE as u64,
            margin_blocks: (sequencing_window / 4).max(2),
        }
    }
}

/// A sequenced block not yet derived from L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    number: u64,
    origin: u64,
    bytes: u64,
}

/// The sequencer's account of unposted blocks.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    blocks: VecDeque<Pending>,
}

impl Backlog {
    /// Forgets blocks at or below the safe head (posted and derived) and above the unsafe head
    /// (unwound); returns whether blocks between them are unknown (after a restart or a reorg).
    pub(crate) fn sync(&mut self, safe: u64, head: u64) -> bool {
        while self.blocks.front().is_some_and(|b| b.number <= safe) {
            self.blocks.pop_front();
        }
        while self.blocks.back().is_some_and(|b| b.number > head) {
            self.blocks.pop_back();
        }
        let known_through = self.blocks.back().map_or(safe, |b| b.number);
        let contiguous = self.blocks.front().is_none_or(|b| b.number == safe + 1);
        known_through < head || !contiguous
    }

    /// Replaces the account with `blocks` (`(number, origin, bytes)`, ascending).
    pub(crate) fn reset(&mut self, blocks: impl IntoIterator<Item = (u64, u64, usize)>) {
        self.blocks = blocks
            .into_iter()
            .map(|(number, origin, bytes)| Pending {
                number,
                origin,
                bytes: bytes as u64,
            })
            .collect();
    }

    /// Records a newly sequenced block.
    pub(crate) fn push(&mut self, number: u64, origin: u64, bytes: usize) {
        if self.blocks.back().is_some_and(|b| b.number >= number) {
            self.blocks.retain(|b| b.number < number);
        }
        self.blocks.push_back(Pending {
            number,
            origin,
            bytes: bytes as u64,
        });
    }

    /// Bytes waiting to be posted.
    pub(crate) fn bytes(&self) -> u64 {
        self.blocks.iter().map(|b| b.bytes).sum()
    }

    /// Blocks waiting to be posted.
    pub(crate) fn len(&self) -> usize {
        self.blocks.len()
    }

    /// The L1 origin of the oldest block waiting to be posted: its sequencing window closes
    /// first.
    pub(crate) fn oldest_origin(&self) -> Option<u64> {
        self.blocks.front().map(|b| b.origin)
    }

    /// Bytes that may still be sequenced (into a block whose origin is at least the newest
    /// pending one's) while every pending block, posted in order at `da.l1_bytes_per_block`
    /// from L1 block `l1_head` on, still lands `da.margin_blocks` before its window closes.
    /// Negative when the backlog is already past that point.
    pub(crate) fn headroom(&self, l1_head: u64, window: u64, da: DaConfig) -> i128 {
        let rate = i128::from(da.l1_bytes_per_block);
        let room_for = |origin: u64| {
            // L1 blocks left to post before `origin`'s window closes, keeping the margin.
            let deadline = i128::from(origin) + i128::from(window) - i128::from(da.margin_blocks);
            (deadline - i128::from(l1_head)).max(0) * rate
        };
        let mut cumulative = 0i128;
        let mut headroom = i128::MAX;
        for block in &self.blocks {
            cumulative += i128::from(block.bytes);
            headroom = headroom.min(room_for(block.origin) - cumulative);
        }
        // A new block goes after all of them, with an origin no older than the newest one's.
        let newest_origin = self
            .blocks
            .back()
            .map_or(l1_head, |b| b.origin.max(l1_head));
        headroom.min(room_for(newest_origin) - cumulative)
    }
}

/// Shared throttle state: set by the sequencer, read by the pool (which refuses new
/// transactions while it is on) and by `rollup_syncStatus` and metrics.
#[derive(Debug, Clone, Default)]
pub struct DaThrottle {
    inner: Arc<ThrottleState>,
}

#[derive(Debug, Default)]
struct ThrottleState {
    /// Bytes sequenced but not yet derived from L1.
    backlog_bytes: AtomicU64,
    /// Blocks sequenced but not yet derived from L1.
    backlog_blocks: AtomicU64,
    /// Bytes the sequencer may still add to the backlog.
    headroom: AtomicU64,
    /// 1 while the sequencer takes no user transactions.
    throttled: AtomicU64,
}

/// A snapshot of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaBacklog {
    /// Bytes sequenced but not yet derived from L1.
    pub bytes: u64,
    /// Blocks sequenced but not yet derived from L1.
    pub blocks: u64,
    /// Whether the sequencer takes no user transactions until the batcher catches up.
    pub throttled: bool,
    /// Bytes the sequencer may still add to the backlog: what lands on L1 before every pending
    /// block's deadline, with the margin, at the configured L1 data rate. It throttles once
    /// this is less than one transaction's worth (so `throttled` may come with a few bytes).
    pub headroom: u64,
}

impl DaThrottle {
    /// The current backlog and whether sequencing is throttled.
    pub fn backlog(&self) -> DaBacklog {
        DaBacklog {
            bytes: self.inner.backlog_bytes.load(Ordering::Relaxed),
            blocks: self.inner.backlog_blocks.load(Ordering::Relaxed),
            throttled: self.inner.throttled.load(Ordering::Relaxed) == 1,
            headroom: self.inner.headroom.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set(&self, backlog: DaBacklog) {
        self.inner
            .backlog_bytes
            .store(backlog.bytes, Ordering::Relaxed);
        self.inner
            .backlog_blocks
            .store(backlog.blocks, Ordering::Relaxed);
        self.inner
            .throttled
            .store(u64::from(backlog.throttled), Ordering::Relaxed);
        self.inner
            .headroom
            .store(backlog.headroom, Ordering::Relaxed);
        metrics::gauge!("rollup_sequencer_da_backlog_bytes").set(backlog.bytes as f64);
        metrics::gauge!("rollup_sequencer_da_backlog_blocks").set(backlog.blocks as f64);
        metrics::gauge!("rollup_sequencer_da_headroom_bytes").set(backlog.headroom as f64);
        metrics::gauge!("rollup_sequencer_da_throttled")
            .set(f64::from(u8::from(backlog.throttled)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DA: DaConfig = DaConfig {
        l1_bytes_per_block: 1_000,
        margin_blocks: 2,
    };

    #[test]
    fn headroom_is_what_still_lands_before_every_deadline() {
        let mut backlog = Backlog::default();
        // Empty: 10-block window, 2 of margin, 8 L1 blocks of 1 000 bytes.
        assert_eq!(backlog.headroom(100, 10, DA), 8_000);
        backlog.push(1, 100, 3_000);
        assert_eq!(backlog.headroom(100, 10, DA), 5_000);
        // An older origin binds first: block 1 must land before 100 + 10 - 2 = 108.
        backlog.push(2, 104, 4_000);
        assert_eq!(backlog.headroom(104, 10, DA), 8_000 - 7_000);
        // Time passes without posting: past the point of no return.
        assert!(backlog.headroom(107, 10, DA) < 0);
    }

    #[test]
    fn sync_forgets_posted_and_unwound_blocks_and_spots_gaps() {
        let mut backlog = Backlog::default();
        for number in 1..=5 {
            backlog.push(number, 100, 10);
        }
        assert!(!backlog.sync(2, 5));
        assert_eq!((backlog.len(), backlog.bytes()), (3, 30));
        assert!(!backlog.sync(2, 4), "an unwound block is dropped");
        assert_eq!(backlog.len(), 2);
        assert!(backlog.sync(2, 6), "a block it never saw");
        let mut fresh = Backlog::default();
        assert!(fresh.sync(7, 9), "after a restart");
        assert!(!fresh.sync(9, 9), "nothing pending");
    }
}
