//! The batcher loop.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use rollup_l1::{L1Error, L1Sender, Prepared};
use rollup_primitives::{
    BLOB_DATA_SIZE, Batch, BatchBlock, BatchError, BatchParent, DataPath, Heads, L2Transaction,
    MAX_BATCH_SIZE, MAX_HEADERS_PER_BATCH, MAX_SEGMENTS_PER_BATCH, RoleHealth, RollupConfig,
    bindings::{
        IBatchInbox,
        IBatchInbox::{postBatchCall, postBlobBatchCall},
        IL1Bridge,
    },
    blob_count, decode_l1_origin,
};
use rollup_storage::{StorageError, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, trace, warn};

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
    /// The first block to post was built on an L1 origin that L1 no longer serves at its
    /// number (an L1 reorg the node has not unwound yet): nothing is posted until it has.
    #[error("L2 block {block} was built on L1 block {origin}, which an L1 reorg replaced")]
    OriginReorged {
        /// The block.
        block: u64,
        /// Its L1 origin's number.
        origin: u64,
    },
}

/// Batcher settings.
#[derive(Debug, Clone, Copy)]
pub struct BatcherConfig {
    /// The L1 `BatchInbox`.
    pub batch_inbox: Address,
    /// The L1 bridge, whose deposit count each batch states.
    pub l1_bridge: Address,
    /// How often to look for new blocks to post.
    pub poll_interval: Duration,
    /// Most L2 blocks in one batch.
    pub max_blocks_per_batch: usize,
    /// Largest batch, in bytes (at most `MAX_BATCH_SIZE`). Pending blocks that fill a batch of
    /// this size go out at once.
    pub max_batch_bytes: usize,
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
    /// Where batches carry their transactions: calldata, or blobs.
    pub data: DataPath,
    /// Most batch transactions in flight at once, at consecutive nonces: each builds on the
    /// one before it, so the batcher can use more than one batch's worth of each L1 block.
    pub max_in_flight: usize,
}

impl BatcherConfig {
    /// Settings for `rollup`'s inbox and sequencing window, with the default limits: posts
    /// when a batch is full, when a block with transactions is a minute old, and 10 L1 blocks
    /// before a sequencing window would close.
    pub const fn new(rollup: &RollupConfig) -> Self {
        Self {
            batch_inbox: rollup.contracts.batch_inbox,
            l1_bridge: rollup.contracts.l1_bridge,
            poll_interval: Duration::from_secs(1),
            max_blocks_per_batch: 256,
            max_batch_bytes: MAX_BATCH_SIZE,
            max_delay: Duration::from_secs(60),
            sequencing_window: rollup.sequencing_window,
            window_margin: 10,
            data: DataPath::Calldata,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
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
        if self.window_closing(pending.first_l1_origin(), l1_head) {
            return Some(PostReason::WindowDeadline);
        }
        None
    }

    /// Whether blocks with L1 origin `origin` must be posted now, with the L1 head at `l1_head`,
    /// to land within their sequencing window with [`Self::window_margin`] to spare.
    fn window_closing(&self, origin: u64, l1_head: u64) -> bool {
        // A transaction sent now lands in `l1_head + 1` at the earliest; a block counts only if
        // its batch lands by `last_inclusion` (after that, derivation would replace it with a
        // deposit-only block).
        let last_inclusion = origin.saturating_add(self.sequencing_window.saturating_sub(1));
        l1_head.saturating_add(1).saturating_add(self.window_margin) >= last_inclusion
    }

    /// Whether a batch whose oldest block has L1 origin `origin` has used up half its
    /// sequencing window with the L1 head at `l1_head`: its blob work then has no slack left
    /// to yield to sequencing (the sequencer's throttle refuses transactions from three
    /// quarters on). Unlike [`PostReason::WindowDeadline`], which a window margin as large as
    /// the window turns on for every batch, this is about the L1 blocks left.
    pub fn short_of_slack(&self, origin: u64, l1_head: u64) -> bool {
        let last_inclusion = origin.saturating_add(self.sequencing_window.saturating_sub(1));
        last_inclusion.saturating_sub(l1_head) <= self.sequencing_window / 2
    }

    /// Whether the blob work of a batch whose oldest block has L1 origin `origin` has no slack
    /// to yield to sequencing, with the L1 head at `l1_head`: half its window is used
    /// ([`Self::short_of_slack`]), or this process's sequencer is refusing transactions until
    /// the backlog reaches L1 (`sequencer_throttled`). Under load the throttle comes first:
    /// its margin is a quarter of the window less the backlog's posting time.
    pub fn blob_work_urgent(&self, origin: u64, l1_head: u64, sequencer_throttled: bool) -> bool {
        sequencer_throttled || self.short_of_slack(origin, l1_head)
    }

    /// Whether to post `cut` (a prefix of `pending`, in fewer blobs: see
    /// [`PendingBatch::fewer_blobs`]) instead of `pending`, posted now for `reason`. Only if
    /// `cut` carries more bytes per blob than `pending`, and the blocks left out can wait for a
    /// later batch and will find company there: their window is not closing, and either more
    /// blocks wait than fit (`Full`) or they are not due for their age yet. Blocks left out that
    /// are due anyway would go out at once, alone, in a mostly empty blob of their own and one
    /// more batch transaction.
    pub fn cut_pays(
        &self,
        reason: PostReason,
        pending: &PendingBatch,
        cut: &PendingBatch,
        now: Duration,
        l1_head: u64,
    ) -> bool {
        let Some(first_left) = pending.batch.blocks.get(cut.batch.blocks.len()) else {
            return false;
        };
        let young = now.saturating_sub(Duration::from_secs(first_left.timestamp)) < self.max_delay;
        // Blocks are coarse: leaving one out can leave the cut's own last blob as empty.
        let fuller = cut.segments().len() * blob_count(pending.segments().len())
            > pending.segments().len() * blob_count(cut.segments().len());
        cut.data != DataPath::Calldata
            && cut.last_block < pending.last_block
            && fuller
            && !self.window_closing(first_left.l1_origin, l1_head)
            && match reason {
                PostReason::Full => true,
                PostReason::MaxDelay => young,
                PostReason::WindowDeadline => false,
            }
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
    /// Its encoding: the envelope, then the segments.
    pub bytes: Vec<u8>,
    /// The envelope's length: where the segments start in `bytes`.
    pub envelope_len: usize,
    /// How it goes to L1.
    pub data: DataPath,
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

    /// The L1 origin of the batch's last block.
    pub fn last_l1_origin(&self) -> u64 {
        self.batch.blocks.last().map_or(0, |block| block.l1_origin)
    }

    /// The segment bytes (what a blob batch's blobs carry).
    pub fn segments(&self) -> &[u8] {
        &self.bytes[self.envelope_len..]
    }

    /// The blob count to cut this batch down to, leaving its last blocks to the next batch,
    /// when its last blob would carry less than half a blob's data: L1 charges blob gas, and the
    /// batcher spends a blob's KZG proofs, per blob however full it is. `None` for a batch
    /// whose blobs are full enough, a batch of one blob, or one in calldata.
    pub fn fewer_blobs(&self) -> Option<usize> {
        let DataPath::Blobs { .. } = self.data else {
            return None;
        };
        let bytes = self.segments().len();
        let blobs = blob_count(bytes);
        let in_last = bytes.checked_sub(blobs.checked_sub(1)? * BLOB_DATA_SIZE)?;
        (blobs > 1 && in_last < BLOB_DATA_SIZE / 2).then_some(blobs - 1)
    }

    /// Sets the bridge messages the batch consumes (the bridge's count up to its last origin),
    /// which the inbox checks.
    pub fn set_deposit_count(&mut self, count: u64) {
        self.batch.deposit_count = count;
        self.bytes[DEPOSIT_COUNT_OFFSET..DEPOSIT_COUNT_OFFSET + 8]
            .copy_from_slice(&count.to_be_bytes());
    }
}

/// Batch transactions in flight at once by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;

/// Failed submissions in a row after which the batches in flight are prepared afresh.
const MAX_SUBMIT_FAILURES: u32 = 3;

/// How long a batch transaction waits before the batcher asks whether the L1 node still has it:
/// a quarter of the resubmission delay, at most 3 s (one just sent may not show yet on every
/// node behind a load-balanced endpoint).
fn dropped_after(resubmit_after: Duration) -> Duration {
    (resubmit_after / 4).min(Duration::from_secs(3))
}

/// Most epochs one `BatchInbox.forceInclude` forces.
const MAX_FORCED_BLOCKS: u64 = 256;

/// Where the deposit count sits in an encoded batch.
const DEPOSIT_COUNT_OFFSET: usize = 13;

/// Posts batches until cancelled.
#[derive(Debug)]
pub struct Batcher {
    config: BatcherConfig,
    store: Store,
    heads: watch::Receiver<Heads>,
    sender: L1Sender,
    health: Option<RoleHealth>,
    /// Failures reported to `health` so far, and whether the latest report was one: a round
    /// that reads L1 and has nothing to post ends a failure (see [`Self::report_idle`]).
    health_errors: std::sync::atomic::AtomicU64,
    health_failing: std::sync::atomic::AtomicBool,
    known_blobs: Option<rollup_l1::KnownBlobs>,
    sequencer: Option<SequencerLoad>,
}

/// What the sequencer of this process is doing, asked as the batcher decides when and at what
/// priority its blob work runs.
#[derive(Clone)]
pub struct SequencerLoad {
    /// Whether it refuses transactions for want of L1 data room (its data-availability
    /// throttle).
    pub throttled: Arc<dyn Fn() -> bool + Send + Sync>,
    /// How long its pool has been taking a burst of transactions that blob work may wait out
    /// (`TxPool::burst`): `None` without one, and `None` once the backlog of unposted blocks
    /// has used about half the room the sequencing window leaves it (under a sustained load,
    /// blob work that waited brought the throttle on sooner and took a sixth fewer
    /// transactions).
    pub burst: Arc<dyn Fn() -> Option<Duration> + Send + Sync>,
}

impl std::fmt::Debug for SequencerLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequencerLoad")
            .field("throttled", &(self.throttled)())
            .field("burst", &(self.burst)())
            .finish()
    }
}

/// How much of a burst of transactions a sidecar with slack waits out before its proofs start
/// ([`wait_out_burst`]).
pub const MAX_BURST_HOLD: Duration = Duration::from_secs(2);

/// Waits while the sequencer of this process takes a burst of transactions, until the burst has
/// lasted [`MAX_BURST_HOLD`], the throttle goes on (blob work is then urgent), or it has waited
/// `most`. On two cores a batch's sidecar (hundreds of milliseconds of proofs per blob) took CPU
/// that the burst's signature recoveries and blocks needed, even at the idle priority: the
/// scheduler left woken RPC threads queued behind a busy core while the other ran the proofs.
/// The batch has its sequencing window of slack; a burst that lasts longer is a sustained load,
/// whose blob work cannot wait for a pause and runs as before. Returns how long it waited.
pub async fn wait_out_burst(load: &SequencerLoad, most: Duration) -> Duration {
    let started = tokio::time::Instant::now();
    while !(load.throttled)()
        && let Some(lasted) = (load.burst)()
        && let Some(left) = Some(
            MAX_BURST_HOLD
                .saturating_sub(lasted)
                .min(most.saturating_sub(started.elapsed())),
        )
        .filter(|left| !left.is_zero())
    {
        tokio::time::sleep(BURST_POLL.min(left)).await;
    }
    started.elapsed()
}

/// How often [`wait_out_burst`] asks whether the burst is over.
const BURST_POLL: Duration = Duration::from_millis(20);

/// Where the next batch starts, as the inbox on L1 says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchStart {
    /// The inbox's next block: the batch's first.
    pub first_block: u64,
    /// The block before it, as the inbox recorded it.
    pub parent: BatchParent,
    /// The newest L1 block whose header the inbox has recorded; the batch carries the headers
    /// of newer origins it uses.
    pub last_recorded_origin: u64,
    /// When the first block is open (an earlier batch posted its first transactions and left
    /// it open), how many of its transactions are posted: the batch continues it with the
    /// rest. `parent` is then that block's parent.
    pub posted_txs: Option<usize>,
}

impl BatchStart {
    /// Where the batch starts in the chain's transactions: its first block and the
    /// transactions of it already posted. Later starts compare greater.
    pub fn position(&self) -> (u64, usize) {
        (self.first_block, self.posted_txs.unwrap_or(0))
    }

    /// Where the batch after `pending` (built from this start) starts: after its last block,
    /// or at that block again when the batch left it open.
    pub fn after(&self, pending: &PendingBatch) -> Self {
        let last = pending.batch.blocks.last();
        let last_recorded_origin = self.last_recorded_origin.max(pending.last_l1_origin());
        if pending.batch.last_block_open {
            let before = if pending.batch.blocks.len() == 1 {
                self.posted_txs.unwrap_or(0)
            } else {
                0
            };
            let parent = if pending.batch.blocks.len() == 1 {
                self.parent
            } else {
                let previous = &pending.batch.blocks[pending.batch.blocks.len() - 2];
                BatchParent {
                    timestamp: previous.timestamp,
                    l1_origin: previous.l1_origin,
                }
            };
            return Self {
                first_block: pending.last_block,
                parent,
                last_recorded_origin,
                posted_txs: Some(before + last.map_or(0, |block| block.transactions.len())),
            };
        }
        Self {
            first_block: pending.last_block + 1,
            parent: BatchParent {
                timestamp: last.map_or(0, |block| block.timestamp),
                l1_origin: pending.last_l1_origin(),
            },
            last_recorded_origin,
            posted_txs: None,
        }
    }
}

/// The newest block of `pending` whose L1 origin is at or below `last_recorded` (recorded by
/// the inbox, so the batch carries no header for it), with that origin as the block names it.
pub fn newest_recorded_origin(
    store: &Store,
    pending: &PendingBatch,
    last_recorded: u64,
) -> Result<Option<(u64, rollup_primitives::BlockNumHash)>, BatcherError> {
    let Some(offset) = pending
        .batch
        .blocks
        .iter()
        .rposition(|block| block.l1_origin <= last_recorded)
    else {
        return Ok(None);
    };
    let number = pending.batch.first_block + offset as u64;
    let Some(header) = store.reader()?.header(number)? else {
        return Ok(None);
    };
    let origin = decode_l1_origin(&header.extra_data).map_err(|err| BatcherError::Encode {
        block: number,
        reason: err.to_string(),
    })?;
    Ok(Some((number, origin)))
}

/// Builds the batch of blocks `start.first_block..=to`, as many as fit `max_blocks` and the
/// data path (for calldata `max_bytes` of batch, for blobs the blob count and an envelope of at
/// most `max_bytes`), with the L1 headers of the origins it adds (`header(number)` gives an L1
/// header's RLP). `None` if the first block does not exist or a header is not available yet.
/// A batch continuing an open block ([`BatchStart::posted_txs`]) starts with that block's
/// other transactions. A first block too large for one batch is split: the batch takes as
/// many of its segments (as the block alone splits into them, see
/// [`rollup_primitives::segment_tx_counts`]) as fit and leaves it open, so over all its
/// batches the block keeps the segments the sequencer checked it fits; an error if not even
/// its first segment fits. The deposit count is left at zero: set it with
/// [`PendingBatch::set_deposit_count`].
pub fn build_batch(
    store: &Store,
    start: &BatchStart,
    to: u64,
    max_blocks: usize,
    max_bytes: usize,
    data: DataPath,
    header: &dyn Fn(u64) -> Option<Bytes>,
) -> Result<Option<PendingBatch>, BatcherError> {
    let reader = store.reader()?;
    let mut batch = Batch {
        first_block: start.first_block,
        deposit_count: 0,
        headers: Vec::new(),
        blocks: Vec::new(),
        last_block_open: false,
    };
    let mut encoded: Option<((Vec<u8>, usize), u64)> = None;
    let mut full = false;
    let mut oldest_with_transactions = None;
    let mut recorded = start.last_recorded_origin;
    for number in start.first_block..=to {
        if batch.blocks.len() >= max_blocks {
            full = true;
            break;
        }
        let (Some(header_of_block), Some(body)) = (reader.header(number)?, reader.body(number)?)
        else {
            break;
        };
        let origin =
            decode_l1_origin(&header_of_block.extra_data).map_err(|err| BatcherError::Encode {
                block: number,
                reason: err.to_string(),
            })?;
        let headers_before = batch.headers.len();
        let mut missing_header = false;
        let mut reorged = false;
        while recorded < origin.number {
            match header(recorded + 1) {
                // The block's own origin must be the L1 block it was built on. Right after an
                // L1 reorg the store still holds blocks of the old chain until the node unwinds
                // them (the batcher can see the reorg first): posted with the new chain's
                // headers, the inbox took them, and derivation replaced the blocks the
                // sequencer rebuilt, reverting receipts served after the reorg.
                Some(rlp) if recorded + 1 == origin.number && keccak256(&rlp) != origin.hash => {
                    if batch.blocks.is_empty() {
                        return Err(BatcherError::OriginReorged {
                            block: number,
                            origin: origin.number,
                        });
                    }
                    reorged = true;
                    break;
                }
                Some(rlp) => {
                    batch.headers.push(rlp);
                    recorded += 1;
                }
                None => {
                    missing_header = true;
                    break;
                }
            }
        }
        if reorged {
            // The blocks before it go out at once: the next batch starts at this block, which
            // finds the header again (read anew, should the cached one be the stale side).
            batch.headers.truncate(headers_before);
            full = true;
            break;
        }
        if missing_header || batch.headers.len() > MAX_HEADERS_PER_BATCH {
            // Post what we have; the rest waits for its L1 headers (or the next batch). The
            // batch cannot grow, so it is full, past the codec's header limit and when it
            // already adds as many origins as one batch transaction may (the batcher fetches
            // no headers past those for it): otherwise an idle stretch longer than that cap
            // would hold the batch, and every transaction after it, until the window closed.
            batch.headers.truncate(headers_before);
            full = !missing_header
                || headers_before as u64 >= crate::origins::MAX_NEW_ORIGINS_PER_CALL;
            break;
        }
        let busy = !body.is_empty();
        let mut transactions: Vec<_> = body
            .into_iter()
            .filter_map(|tx| match tx {
                L2Transaction::Signed { envelope, .. } => Some(envelope),
                L2Transaction::Deposit(_) => None,
            })
            .collect();
        if number == start.first_block
            && let Some(posted) = start.posted_txs
        {
            if posted >= transactions.len() {
                return Err(BatcherError::Encode {
                    block: number,
                    reason: format!(
                        "the inbox holds {posted} of its {} transactions and leaves it open",
                        transactions.len()
                    ),
                });
            }
            transactions.drain(..posted);
        }
        batch.blocks.push(BatchBlock {
            timestamp: header_of_block.timestamp,
            l1_origin: origin.number,
            transactions,
        });
        // Over the limit, by our cap or the codec's own: post what fit before this block.
        let fits =
            |bytes: &[u8], envelope_len: usize| data.fits(bytes.len(), envelope_len, max_bytes);
        let bytes = match batch.encode_unbounded(start.parent) {
            Ok((bytes, envelope_len)) if fits(&bytes, envelope_len) => Some((bytes, envelope_len)),
            Ok(_)
            | Err(
                BatchError::TooLarge { .. }
                | BatchError::PayloadTooLarge { .. }
                | BatchError::TooManySegments { .. },
            ) => None,
            Err(err) => {
                return Err(BatcherError::Encode {
                    block: number,
                    reason: err.to_string(),
                });
            }
        };
        let bytes = match bytes {
            Some(bytes) => bytes,
            // The first block alone does not fit: post its first segments and leave it open.
            None if batch.blocks.len() == 1 => {
                let block = batch.blocks.pop().expect("one block");
                match open_part(&mut batch, block, start.parent, &fits) {
                    Some(bytes) => {
                        full = true;
                        if busy {
                            oldest_with_transactions = Some(header_of_block.timestamp);
                        }
                        encoded = Some((bytes, number));
                        break;
                    }
                    None => {
                        return Err(BatcherError::Encode {
                            block: number,
                            reason: format!(
                                "not even the block's first segment fits a batch ({}, {max_bytes} bytes)",
                                data.as_str()
                            ),
                        });
                    }
                }
            }
            None => {
                batch.blocks.pop();
                batch.headers.truncate(headers_before);
                full = true;
                break;
            }
        };
        if busy && oldest_with_transactions.is_none() {
            oldest_with_transactions = Some(header_of_block.timestamp);
        }
        encoded = Some((bytes, number));
    }
    Ok(encoded.map(|((bytes, envelope_len), last_block)| {
        // A blob batch must carry segment bytes: one without transactions goes as calldata.
        let data = if bytes.len() == envelope_len {
            DataPath::Calldata
        } else {
            data
        };
        PendingBatch {
            batch,
            bytes,
            envelope_len,
            data,
            last_block,
            full,
            oldest_with_transactions,
        }
    }))
}

/// Puts into `batch` (whose other blocks were taken out) as much of `block` as fits, cut at the
/// boundaries of the segments its transactions split into alone, and leaves it open. Returns
/// the encoding, or `None` if not even one segment's transactions fit.
fn open_part(
    batch: &mut Batch,
    mut block: BatchBlock,
    parent: BatchParent,
    fits: &dyn Fn(&[u8], usize) -> bool,
) -> Option<(Vec<u8>, usize)> {
    let counts = rollup_primitives::segment_tx_counts(&block.transactions).ok()?;
    let all = std::mem::take(&mut block.transactions);
    batch.last_block_open = true;
    // The most segments first: the batch is as full as it can be.
    for segments in (1..counts.len()).rev() {
        let take: usize = counts[..segments].iter().sum();
        block.transactions = all[..take].to_vec();
        batch.blocks.push(block.clone());
        if let Ok((bytes, envelope_len)) = batch.encode_unbounded(parent)
            && fits(&bytes, envelope_len)
            && keeps_segments(&bytes, envelope_len, &counts[..segments])
        {
            return Some((bytes, envelope_len));
        }
        batch.blocks.pop();
    }
    batch.last_block_open = false;
    None
}

/// Whether the encoded part `bytes` (a batch of the open block alone, its envelope
/// `envelope_len` bytes) split its transactions
/// into exactly the segments `counts`, as the block does alone: a part that split them
/// otherwise could take the block past its 16 segments over all its batches.
fn keeps_segments(bytes: &[u8], envelope_len: usize, counts: &[usize]) -> bool {
    rollup_primitives::BatchEnvelope::parse_blob(&bytes[..envelope_len], &bytes[envelope_len..])
        .is_ok_and(|envelope| {
            envelope
                .segments
                .iter()
                .map(|(count, _)| *count)
                .eq(counts.iter().copied())
        })
}

/// What the batcher remembers between rounds: L1 headers it fetched (RLP), by number, and the
/// batch transactions in flight.
#[derive(Debug, Default)]
struct Progress {
    headers: BTreeMap<u64, Bytes>,
    /// Sent and not yet mined, in nonce order; each continues the one before.
    in_flight: VecDeque<InFlight>,
    /// After the in-flight batches were given up (a revert, an L1 reorg), transactions of ours
    /// may still wait in L1's pool up to `.1`: new ones at those nonces must outbid `.0`.
    outbid: Option<(Prepared, u64)>,
    /// The L1 block whose wrong `blockhash` the batcher last said it waits out (said once).
    waiting_out: Option<u64>,
    /// The L2 block built on an L1 origin a reorg replaced that the batcher waits for the node
    /// to unwind, since when, and whether that was said as a warning.
    unwind_wait: Option<(u64, std::time::Instant, bool)>,
    /// When a batch's nonce went to a transaction this process did not send, over the last
    /// [`FOREIGN_NONCE_WINDOW`] (see [`Progress::foreign_sender`]).
    nonces_taken: VecDeque<std::time::Instant>,
    /// How much longer the sidecars of this round may wait out a burst ([`wait_out_burst`]):
    /// [`MAX_BURST_HOLD`] for a round however many batches it posts, so that a round does not
    /// leave its batches in flight unwatched for long.
    burst_hold: Duration,
    /// Failed L1 reads in a row, by what was read: an L1 outage is one warning a minute for
    /// each, not one a round.
    read_failures: std::collections::HashMap<&'static str, rollup_l1::RepeatedFailure>,
}

/// How long a batch nonce taken by another transaction counts towards
/// [`FOREIGN_NONCES_ALARM`].
const FOREIGN_NONCE_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

/// Batch nonces taken by transactions this process did not send, within
/// [`FOREIGN_NONCE_WINDOW`], that mean another process sends with this key (a leftover of an
/// earlier run, or a submission whose hash was never learnt, explains one).
const FOREIGN_NONCES_ALARM: usize = 3;

/// A batch transaction sent and not yet seen mined.
#[derive(Debug)]
struct InFlight {
    /// Where it starts.
    start: BatchStart,
    /// Its last L2 block.
    last_block: u64,
    /// Where the batch after it starts.
    next: BatchStart,
    nonce: u64,
    prepared: Prepared,
    /// Every submission's hash (a resubmission with higher fees has another).
    hashes: Vec<B256>,
    /// Submissions in a row that L1 refused.
    failures: u32,
    /// When it was last (re)submitted.
    sent_at: tokio::time::Instant,
    /// Whether the last look found its nonce used and none of its hashes mined: the receipt may
    /// only be late, so the batch is given up only if the next look finds the same.
    nonce_taken: bool,
    /// Whether the L1 node no longer knows any of its submissions ([`dropped_after`]): it is
    /// resubmitted at once instead of after the resubmission delay.
    dropped: bool,
    /// For the log line once it is mined.
    txs: usize,
    headers: usize,
    bytes: usize,
    blobs: usize,
    data: DataPath,
    reason: PostReason,
}

impl Progress {
    /// Says that reading `what` from L1 failed: as a warning the first time, when the failure
    /// changes, and once a minute while it repeats ([`rollup_l1::RepeatedFailure`]); in the
    /// debug log otherwise.
    fn read_failed(&mut self, what: &'static str, err: &dyn std::fmt::Display) {
        let text = err.to_string();
        match self.read_failures.entry(what).or_default().failed(&text) {
            Some(0) => warn!(target: "rollup::batcher", err = %text, "cannot read {what}"),
            Some(repeats) => {
                warn!(target: "rollup::batcher", err = %text, repeats, "still cannot read {what}");
            }
            None => debug!(target: "rollup::batcher", err = %text, "cannot read {what}"),
        }
    }

    /// Says that reading `what` from L1 worked again, if it had failed.
    fn read_worked(&mut self, what: &'static str) {
        if let Some(failed) = self
            .read_failures
            .get_mut(what)
            .and_then(rollup_l1::RepeatedFailure::succeeded)
        {
            info!(target: "rollup::batcher", failed, "{what} read again");
        }
    }

    /// Notes that a batch's nonce went to a transaction this process did not send, at `now`.
    fn nonce_taken(&mut self, now: std::time::Instant) {
        self.nonces_taken.push_back(now);
        while self
            .nonces_taken
            .front()
            .is_some_and(|at| now.duration_since(*at) > FOREIGN_NONCE_WINDOW)
        {
            self.nonces_taken.pop_front();
        }
    }

    /// What to alarm about while [`FOREIGN_NONCES_ALARM`] batch nonces of `account` went to
    /// other transactions within [`FOREIGN_NONCE_WINDOW`] of `now`: another process (a second
    /// node, a script, a wallet) sends with the batcher's key, and the two fight for nonces.
    fn foreign_sender(&self, account: Address, now: std::time::Instant) -> Option<String> {
        let recent = self
            .nonces_taken
            .iter()
            .filter(|at| now.duration_since(**at) <= FOREIGN_NONCE_WINDOW)
            .count();
        (recent >= FOREIGN_NONCES_ALARM).then(|| {
            format!(
                "{recent} batch nonces of {account} went to transactions this node did not send in the last {} minutes: another process sends with the batcher's key (a second node running the batcher, a script, a wallet); the two fight for nonces and replace each other's batches. Stop the other one",
                FOREIGN_NONCE_WINDOW.as_secs() / 60
            )
        })
    }

    /// Gives up every batch in flight: the next batch is built from the inbox again, at the
    /// mined nonce, outbidding whatever of ours still waits in L1's pool.
    fn reset(&mut self) {
        let sent = self
            .in_flight
            .iter()
            .filter(|flight| !flight.hashes.is_empty());
        let floor = sent
            .clone()
            .map(|flight| flight.prepared.clone())
            .reduce(|highest, prepared| highest.max(&prepared));
        let up_to = sent.map(|flight| flight.nonce).max();
        if let (Some(floor), Some(up_to)) = (floor, up_to) {
            // Merged with what an earlier reset left waiting.
            self.outbid = Some(match self.outbid.take() {
                Some((earlier, earlier_up_to)) => (floor.max(&earlier), up_to.max(earlier_up_to)),
                None => (floor, up_to),
            });
        }
        self.in_flight.clear();
        self.headers.clear();
    }
}

/// A generous gas limit for a batch transaction that cannot be estimated (the batches before
/// it are not mined yet): calldata at the EIP-7623 floor or the standard price, whichever is
/// more, plus the inbox's work for its L1 headers, blocks and segments (measured: about
/// 190 000 for the fixed part, 62 000 per header). Unused gas is not paid for.
fn batch_gas_limit(input: &[u8], pending: &PendingBatch) -> u64 {
    let zeros = input.iter().filter(|byte| **byte == 0).count() as u64;
    let non_zeros = input.len() as u64 - zeros;
    let tokens = zeros + 4 * non_zeros;
    let execution = 300_000
        + 100_000 * pending.batch.headers.len() as u64
        + 2_000 * pending.batch.blocks.len() as u64
        + 20_000 * MAX_SEGMENTS_PER_BATCH as u64;
    let limit = 21_000 + (4 * tokens + execution).max(10 * tokens);
    // EIP-7825 caps one transaction at 2^24 gas.
    limit.min(1 << 24)
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
            health_errors: std::sync::atomic::AtomicU64::new(0),
            health_failing: std::sync::atomic::AtomicBool::new(false),
            known_blobs: None,
            sequencer: None,
        }
    }

    /// Asks this process's sequencer (`load`) whether it is refusing transactions while the
    /// backlog waits for L1: blob work then runs at the default priority, as at half the
    /// window ([`BatcherConfig::blob_work_urgent`]), since while it is on, users wait on the
    /// batcher; and whether it is taking a burst of transactions, which blob work with slack
    /// waits out for a while ([`wait_out_burst`]).
    #[must_use]
    pub fn with_sequencer_load(mut self, load: SequencerLoad) -> Self {
        self.sequencer = Some(load);
        self
    }

    /// [`BatcherConfig::blob_work_urgent`], asking this process's sequencer.
    fn blob_work_urgent(&self, origin: u64, l1_head: u64) -> bool {
        let throttled = self
            .sequencer
            .as_ref()
            .is_some_and(|load| (load.throttled)());
        self.config.blob_work_urgent(origin, l1_head, throttled)
    }

    /// Remembers the blobs of every sidecar it builds in `known`, where this process's L1
    /// follower finds them when the batch comes back from L1.
    #[must_use]
    pub fn with_known_blobs(mut self, known: rollup_l1::KnownBlobs) -> Self {
        self.known_blobs = Some(known);
        self
    }

    /// Reports each batch posted, and each failure, to `health`.
    #[must_use]
    pub fn with_health(mut self, health: RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    fn report_error(&self, message: impl FnOnce() -> String) {
        if let Some(health) = &self.health {
            self.health_errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.health_failing
                .store(true, std::sync::atomic::Ordering::Relaxed);
            health.error(message());
        }
    }

    fn report_success(&self, message: impl FnOnce() -> String) {
        if let Some(health) = &self.health {
            self.health_failing
                .store(false, std::sync::atomic::Ordering::Relaxed);
            health.success(message());
        }
    }

    /// Ends a reported failure after a round that read L1, reported nothing and had nothing to
    /// post or settle: without it the batcher would show failing until its next batch, which
    /// an idle sequencer may not give for a long time. Not while a standing alarm holds (the
    /// node not unwinding, another sender on the key), which is reported once, not each round.
    fn report_idle(&self, errors_before: u64, start: &BatchStart, progress: &Progress) {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.health_failing.load(Relaxed)
            || self.health_errors.load(Relaxed) != errors_before
            || !progress.in_flight.is_empty()
            || progress.unwind_wait.is_some()
            || progress
                .foreign_sender(self.sender.address(), std::time::Instant::now())
                .is_some()
        {
            return;
        }
        self.report_success(|| {
            format!(
                "reading L1 works again; nothing to post yet (the inbox holds L2 blocks up to {})",
                start.first_block.saturating_sub(1)
            )
        });
    }

    /// Holds the batch back while L2 block `block` stands on an L1 origin a reorg replaced
    /// (`err`): the node unwinds it within moments. Said at debug; should it last a minute (the
    /// node's L1 follower stuck, or behind the batcher's L1 endpoint), a warning and the
    /// batcher's health say so, once.
    fn wait_for_unwind(&self, block: u64, err: &BatcherError, progress: &mut Progress) {
        let now = std::time::Instant::now();
        let (since, said) = match progress.unwind_wait {
            Some((waiting, since, said)) if waiting == block => (since, said),
            _ => (now, false),
        };
        debug!(target: "rollup::batcher", %err, "not posting until the node unwinds the block");
        let said = said
            || {
                let long = now.duration_since(since) >= Duration::from_secs(60);
                if long {
                    warn!(target: "rollup::batcher", %err, "the node has not unwound the block for a minute: is its L1 follower behind the batcher's L1 endpoint? Nothing is posted until it does");
                    self.report_error(|| format!("waiting a minute for the node to unwind: {err}"));
                }
                long
            };
        progress.unwind_wait = Some((block, since, said));
    }

    async fn call<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return, String> {
        self.call_at(to, call, alloy_rpc_types_eth::BlockId::latest())
            .await
    }

    /// `call` on `to` as of L1 block `block`.
    async fn call_at<C: SolCall>(
        &self,
        to: Address,
        call: C,
        block: alloy_rpc_types_eth::BlockId,
    ) -> Result<C::Return, String> {
        use alloy_provider::Provider;
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(call.abi_encode());
        let out = self
            .sender
            .provider()
            .call(tx)
            .block(block)
            .await
            // A revert named from the contracts' errors: alloy's text carries the revert data's
            // raw bytes, NULs included, which made `grep` take the devnet's log for a binary file.
            .map_err(|err| rollup_l1::call_failure(&err))?;
        rollup_primitives::decode_returns::<C>(to, &out)
    }

    /// Where the next batch starts, read from the inbox at the L1 head: every field as of one
    /// block, so a batch posted in between cannot pair one record's first block with
    /// another's parent (the inbox would refuse the batch, and its L1 gas would be lost).
    /// With it, the inbox's last origin (of its open block, if any: not that block's parent's).
    async fn batch_start(&self) -> Result<(BatchStart, u64), String> {
        use alloy_provider::Provider;
        let inbox = self.config.batch_inbox;
        let at = self
            .sender
            .provider()
            .get_block_number()
            .await
            .map_err(|err| err.to_string())?
            .into();
        let first_block = self
            .call_at(inbox, IBatchInbox::nextBlockCall {}, at)
            .await?;
        let timestamp = self
            .call_at(inbox, IBatchInbox::lastTimestampCall {}, at)
            .await?;
        let l1_origin = self
            .call_at(inbox, IBatchInbox::lastOriginCall {}, at)
            .await?;
        let last_recorded_origin = self
            .call_at(inbox, IBatchInbox::lastRecordedOriginCall {}, at)
            .await?;
        let records = self
            .call_at(inbox, IBatchInbox::recordCountCall {}, at)
            .await?;
        let mut start = BatchStart {
            first_block,
            parent: BatchParent {
                timestamp,
                l1_origin,
            },
            last_recorded_origin,
            posted_txs: None,
        };
        if let Some(last) = records.checked_sub(U256::from(1)) {
            let record = self
                .call_at(inbox, IBatchInbox::recordsCall { index: last }, at)
                .await?;
            if record.lastBlockOpen {
                // The open block is the inbox's last: its parent is one entry back.
                let deltas = record.lastBlockDeltas.to::<u64>();
                start.parent = BatchParent {
                    timestamp: timestamp.saturating_sub(deltas & 0xffff_ffff),
                    l1_origin: l1_origin.saturating_sub(deltas >> 32),
                };
                let before = if record.blockCount == 1 {
                    record.firstBlockTxOffset as usize
                } else {
                    0
                };
                start.posted_txs = Some(before + usize::from(record.lastBlockTxs));
            }
        }
        Ok((start, l1_origin))
    }

    /// The RLP of L1 header `number`, checked against its hash.
    async fn fetch_header(&self, number: u64) -> Result<Option<Bytes>, String> {
        rollup_l1::header_rlp(self.sender.provider(), number).await
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
        if matches!(self.config.data, DataPath::Blobs { .. }) {
            // The trusted setup loads now rather than in front of the first blob batch.
            rollup_l1::start_kzg_thread();
        }
        let mut progress = Progress::default();
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

    /// Sends `forceInclude` for the epochs after the inbox's last origin up to `last_closed`,
    /// with the L1 headers the inbox still lacks.
    async fn force_include(
        &self,
        start: &BatchStart,
        last_origin: u64,
        last_closed: u64,
        progress: &mut Progress,
    ) {
        let epoch = last_origin + 1;
        let mut headers = Vec::new();
        for number in start.last_recorded_origin + 1..=last_closed {
            let header = match progress.headers.get(&number) {
                Some(header) => Ok(Some(header.clone())),
                None => self.fetch_header(number).await,
            };
            match header {
                Ok(Some(header)) => {
                    progress.headers.insert(number, header.clone());
                    headers.push(header);
                }
                Ok(None) => return,
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot fetch an L1 header");
                    return;
                }
            }
        }
        let input = Bytes::from(IBatchInbox::forceIncludeCall { headers }.abi_encode());
        // After a silence longer than L1 remembers block hashes, the run's newest hash must be
        // proven first (`BatchInbox.proveOriginHashes`).
        if self.hash_unavailable(&input).await && !self.prove_origin_hashes(last_closed).await {
            progress.headers.clear();
            return;
        }
        match self.sender.send(self.config.batch_inbox, input).await {
            Ok(receipt) if receipt.status() => {
                warn!(
                    target: "rollup::batcher",
                    epoch, last_closed, l2_block = start.first_block, l1_block = receipt.block_number.unwrap_or_default(),
                    "the sequencing window of the next epoch closed before its blocks were posted; forced the closed epochs' deposits in"
                );
                metrics::counter!("rollup_batcher_forced_total").increment(1);
            }
            Ok(receipt) => {
                progress.headers.clear();
                debug!(target: "rollup::batcher", tx = %receipt.transaction_hash, epoch, "forceInclude reverted (someone else forced it first?)");
            }
            Err(L1Error::Cancelled) => {}
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "forcing the next epoch failed; will retry");
                self.report_error(|| format!("forcing epoch {epoch} failed: {err}"));
                if let Some(number) = crate::origins::block_hash_mismatch(&err) {
                    self.record_origins_past(start.last_recorded_origin, number, progress)
                        .await;
                }
                progress.headers.clear();
            }
        }
    }

    /// After the inbox refused a batch or a `forceInclude` for
    /// `BatchInbox_BlockHashMismatch(number)`: if the header of `number` it carried is still the
    /// one L1's RPC serves, L1's `blockhash`
    /// disagrees with L1's own RPC about that block (anvil, once it reloaded its saved state,
    /// answers keccak256 of the number's decimal text for every block before the reload), and
    /// no batch whose newest new origin is such a block can land: the batcher would retry
    /// until the sequencing window closed and derivation replaced the unsafe chain. Records
    /// the origins after `last_recorded` through a newer L1 block instead (`recordOrigins`,
    /// anyone's to call), whose hash L1 tells right; the batches then carry no header up to
    /// it. A header that changed is an L1 reorg: the caller rebuilds the batch.
    async fn record_origins_past(&self, last_recorded: u64, number: u64, progress: &mut Progress) {
        use alloy_provider::Provider;
        let Some(carried) = progress.headers.get(&number) else {
            return;
        };
        match self.fetch_header(number).await {
            Ok(Some(served)) if &served == carried => {}
            _ => return,
        }
        let head = match self.sender.head().await {
            Ok(head) => head,
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read the L1 head");
                return;
            }
        };
        let newest = head
            .saturating_sub(1)
            .min(last_recorded + crate::origins::MAX_NEW_ORIGINS_PER_CALL);
        if newest <= number {
            if progress.waiting_out != Some(number) {
                progress.waiting_out = Some(number);
                if last_recorded + crate::origins::MAX_NEW_ORIGINS_PER_CALL > number {
                    // Only L1's head is not past it yet, and the next L1 block is one whose
                    // hash L1 tells right (an outsider read the warning below right after
                    // every restart of the devnet, and saw the batch go out seconds later).
                    info!(
                        target: "rollup::batcher", number, head,
                        "L1's blockhash of L1 block {number} disagrees with its RPC (anvil after it reloaded its saved state): batches record the origins through a newer L1 block as soon as L1 has one"
                    );
                } else {
                    // One call carries at most MAX_NEW_ORIGINS_PER_CALL headers: past that, no
                    // call can end at a block L1 tells right until `number` is more than 256
                    // blocks old, when L1 reads its hash from the EIP-2935 history instead of
                    // `blockhash`.
                    warn!(
                        target: "rollup::batcher", number, head, last_recorded,
                        "L1's blockhash of L1 block {number} disagrees with its RPC (anvil after it reloaded its saved state) and the origins to record reach past it: batches wait until L1 is past block {}, when L1 tells its hash from its EIP-2935 history",
                        number + 257
                    );
                }
            }
            return;
        }
        let mut headers = Vec::new();
        for at in last_recorded + 1..=newest {
            match self.fetch_header(at).await {
                Ok(Some(header)) => headers.push(header),
                Ok(None) => return,
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot fetch an L1 header");
                    return;
                }
            }
        }
        let input = Bytes::from(IBatchInbox::recordOriginsCall { headers }.abi_encode());
        let call = TransactionRequest::default()
            .with_from(self.sender.address())
            .with_to(self.config.batch_inbox)
            .with_input(input.clone());
        if let Err(err) = self.sender.provider().call(call).await {
            debug!(target: "rollup::batcher", number, newest, err = %rollup_l1::printable(&err.to_string()), "recording origins through a newer L1 block would fail too");
            return;
        }
        match self.sender.send(self.config.batch_inbox, input).await {
            Ok(receipt) if receipt.status() => {
                warn!(
                    target: "rollup::batcher", number, through = newest,
                    "L1's blockhash of an L1 block disagrees with its RPC (anvil does so for every block before it reloaded its saved state); recorded the origins through a newer L1 block, whose hash it tells right"
                );
            }
            Ok(receipt) => {
                debug!(target: "rollup::batcher", tx = %receipt.transaction_hash, "recordOrigins reverted");
            }
            Err(L1Error::Cancelled) => {}
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "recording origins failed; will retry");
            }
        }
    }

    /// Whether the inbox refuses `input` (a call that records origins) because L1 no longer
    /// tells the hash of its newest header and nobody proved it.
    async fn hash_unavailable(&self, input: &Bytes) -> bool {
        use alloy_provider::Provider;
        let call = TransactionRequest::default()
            .with_from(self.sender.address())
            .with_to(self.config.batch_inbox)
            .with_input(input.clone());
        self.sender
            .provider()
            .call(call)
            .await
            .is_err_and(|err| crate::origins::refused_for_unknown_hash(&err))
    }

    /// Proves the hashes of L1 blocks `lowest..` backwards to the inbox, a chunk per
    /// transaction ([`crate::origins::origin_proof_chunks`]); `false` if a step failed (the
    /// next round goes on below what was proven: [`crate::origins::resume_anchor`]).
    async fn prove_origin_hashes(&self, lowest: u64) -> bool {
        let head = match self.sender.head().await {
            Ok(head) => head,
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read the L1 head");
                return false;
            }
        };
        let has_history = {
            use alloy_provider::Provider;
            match self
                .sender
                .provider()
                .get_code_at(crate::origins::HISTORY_STORAGE_ADDRESS)
                .await
            {
                Ok(code) => !code.is_empty(),
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot read L1's EIP-2935 history contract");
                    return false;
                }
            }
        };
        let anchor = crate::origins::proof_anchor(head, has_history);
        let anchor = crate::origins::resume_anchor(
            self.sender.provider(),
            self.config.batch_inbox,
            lowest,
            anchor,
        )
        .await
        .unwrap_or_else(|err| {
            warn!(target: "rollup::batcher", %err, "cannot tell what is proven already; proving from the top");
            anchor
        });
        let chunks = crate::origins::origin_proof_chunks(lowest, anchor);
        warn!(
            target: "rollup::batcher", lowest, from = anchor, transactions = chunks.len(),
            "L1 no longer tells the hash of an L1 block the inbox must record: proving old L1 hashes first (nobody recorded origins for longer than L1 remembers hashes)"
        );
        for (done, (low, high)) in chunks.iter().copied().enumerate() {
            let mut headers = Vec::new();
            for number in low..=high {
                match self.fetch_header(number).await {
                    Ok(Some(header)) => headers.push(header),
                    Ok(None) => return false,
                    Err(err) => {
                        warn!(target: "rollup::batcher", %err, "cannot fetch an L1 header");
                        return false;
                    }
                }
            }
            let input = Bytes::from(IBatchInbox::proveOriginHashesCall { headers }.abi_encode());
            match self.sender.send(self.config.batch_inbox, input).await {
                Ok(receipt) if receipt.status() => {
                    info!(target: "rollup::batcher", low, high, done = done + 1, of = chunks.len(), "proved old L1 block hashes");
                }
                Ok(receipt) => {
                    warn!(target: "rollup::batcher", tx = %receipt.transaction_hash, low, high, "proveOriginHashes reverted; will retry");
                    return false;
                }
                Err(L1Error::Cancelled) => return false,
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "proving old L1 hashes failed; will retry");
                    self.report_error(|| format!("proving old L1 hashes failed: {err}"));
                    return false;
                }
            }
        }
        true
    }

    /// One look at the heads, the batches in flight and the inbox: settle what was mined,
    /// resubmit what waits too long, then post the blocks after the last batch (in flight, or
    /// the inbox's) while it is time (see [`BatcherConfig::post_reason`]) and fewer than
    /// [`BatcherConfig::max_in_flight`] are in flight. The inbox is the record of what is
    /// posted, so a batch an L1 reorg dropped is simply posted again.
    async fn round(&self, progress: &mut Progress) {
        progress.burst_hold = MAX_BURST_HOLD;
        let errors_before = self
            .health_errors
            .load(std::sync::atomic::Ordering::Relaxed);
        if !self.settle(progress).await {
            return;
        }
        let heads = *self.heads.borrow();
        let (start, last_origin) = match self.batch_start().await {
            Ok(start) => {
                progress.read_worked("the inbox");
                start
            }
            Err(err) => {
                progress.read_failed("the inbox", &err);
                self.report_error(|| format!("cannot read the inbox: {err}"));
                return;
            }
        };
        let l1_head = match self.sender.head().await {
            Ok(l1_head) => {
                progress.read_worked("the L1 head");
                l1_head
            }
            Err(err) => {
                progress.read_failed("the L1 head", &err);
                self.report_error(|| format!("cannot read the L1 head: {err}"));
                return;
            }
        };
        // The inbox must be where the batches in flight expect it: behind the first of them
        // means an L1 reorg dropped a mined batch (or another batcher posted): start over from
        // the inbox. Ahead of it: the first was mined after `settle` looked; wait for it.
        if let Some(front) = progress.in_flight.front() {
            match start.position().cmp(&front.start.position()) {
                std::cmp::Ordering::Equal => {}
                std::cmp::Ordering::Greater => return,
                std::cmp::Ordering::Less => {
                    warn!(target: "rollup::batcher", inbox_next = start.first_block, in_flight_from = front.start.first_block, "the inbox is behind the batches in flight (an L1 reorg?); posting again from the inbox");
                    progress.reset();
                }
            }
        }
        // Once the next epoch's sequencing window has closed anyone may force it in, and a
        // batch adopting it has one more window of grace. Post if there is a batch that can
        // still land; else force the closed epochs (once derivation has applied every inbox
        // record, so a force of ours is never repeated before the node has seen it).
        // The inbox's last origin: an open block's own, not its parent's.
        let next_epoch = last_origin + 1;
        let forcible = l1_head + 1 >= next_epoch + self.config.sequencing_window;
        let mut posted = false;
        while progress.in_flight.len() < self.config.max_in_flight.max(1) {
            let from = progress.in_flight.back().map_or(start, |last| last.next);
            if !self
                .post_pending(&heads, &from, l1_head, forcible, progress)
                .await
            {
                break;
            }
            posted = true;
        }
        if !posted
            && progress.in_flight.is_empty()
            && forcible
            && heads.safe_l2.number + 1 >= start.first_block
        {
            let last_closed = (l1_head + 1 - self.config.sequencing_window)
                .min(last_origin + MAX_FORCED_BLOCKS)
                .min(start.last_recorded_origin + crate::origins::MAX_NEW_ORIGINS_PER_CALL);
            self.force_include(&start, last_origin, last_closed, progress)
                .await;
        } else if !posted {
            self.report_idle(errors_before, &start, progress);
        }
    }

    /// Looks at the batches in flight, oldest first: logs and drops the mined ones, gives all
    /// up when one reverted or its nonce went to another transaction, and resubmits with higher
    /// fees those that waited longer than the sender's resubmission delay. Returns `false` if
    /// L1 could not be read (try again next round).
    async fn settle(&self, progress: &mut Progress) -> bool {
        if progress.in_flight.is_empty() {
            return true;
        }
        let mined_nonce = match self.sender.mined_nonce().await {
            Ok(nonce) => {
                progress.read_worked("the batcher's nonce");
                nonce
            }
            Err(err) => {
                progress.read_failed("the batcher's nonce", &err);
                return false;
            }
        };
        while let Some(front) = progress.in_flight.front() {
            let mut mined = None;
            for hash in &front.hashes {
                match self.sender.receipt(*hash).await {
                    Ok(Some(receipt)) => {
                        mined = Some(receipt);
                        break;
                    }
                    Ok(None) => {}
                    Err(err) => {
                        warn!(target: "rollup::batcher", %err, "cannot read a batch receipt");
                        return false;
                    }
                }
            }
            match mined {
                Some(receipt) if receipt.status() => {
                    let flight = progress.in_flight.pop_front().expect("front exists");
                    self.report_posted(&flight, &receipt);
                    // Said again after the success, for as long as it holds.
                    if let Some(alarm) =
                        progress.foreign_sender(self.sender.address(), std::time::Instant::now())
                    {
                        self.report_error(|| alarm);
                    }
                }
                Some(receipt) => {
                    warn!(target: "rollup::batcher", tx = %receipt.transaction_hash, from = front.start.first_block, in_flight = progress.in_flight.len(), "batch transaction reverted (another batch or a forced block took its place, or this key is not the inbox's batcher); reading the inbox again");
                    self.report_error(|| {
                        format!(
                            "batch transaction {} reverted (is this key the inbox's batcher?)",
                            receipt.transaction_hash
                        )
                    });
                    progress.reset();
                    return true;
                }
                None if mined_nonce > front.nonce && !front.nonce_taken => {
                    // Mined at our nonce, but none of our hashes has a receipt yet: it may be
                    // only late (then the batch is reported, and counted, next round).
                    if let Some(front) = progress.in_flight.front_mut() {
                        front.nonce_taken = true;
                    }
                    // Nothing to resubmit at a used nonce either.
                    return true;
                }
                None if mined_nonce > front.nonce => {
                    // Still none: another transaction took the nonce (a leftover of an earlier
                    // run, or a submission whose hash we never learnt). Read the inbox again.
                    debug!(target: "rollup::batcher", nonce = front.nonce, mined_nonce, "a batch's nonce was used by another transaction; reading the inbox again");
                    metrics::counter!("rollup_batcher_nonces_taken_total").increment(1);
                    let now = std::time::Instant::now();
                    progress.nonce_taken(now);
                    if let Some(alarm) = progress.foreign_sender(self.sender.address(), now) {
                        error!(target: "rollup::batcher", account = %self.sender.address(), "{alarm}");
                        self.report_error(|| alarm);
                    }
                    progress.reset();
                    return true;
                }
                None => {
                    // Not mined, its nonce still free: if the L1 node no longer holds any of its
                    // submissions (dropped from its pool, or reorged out on a node that does not
                    // put them back, as anvil), every later batch waits on this nonce until the
                    // resubmission delay; it goes again now.
                    let resubmit_after = self.sender.resubmit_after();
                    if !front.hashes.is_empty()
                        && front.sent_at.elapsed() >= dropped_after(resubmit_after)
                        && front.sent_at.elapsed() < resubmit_after
                        && self.none_known(&front.hashes).await
                    {
                        info!(target: "rollup::batcher", nonce = front.nonce, from = front.start.first_block, "the L1 node no longer has the batch transaction (dropped from its pool, or reorged out); sending it again");
                        if let Some(front) = progress.in_flight.front_mut() {
                            front.dropped = true;
                        }
                    }
                    break;
                }
            }
        }
        // Resubmit, with higher fees, what waited too long (or was dropped): from the oldest on,
        // since a later nonce cannot be mined before it.
        let resubmit_after = self.sender.resubmit_after();
        let mut give_up = false;
        for flight in &mut progress.in_flight {
            if flight.sent_at.elapsed() < resubmit_after && !flight.dropped {
                continue;
            }
            flight.dropped = false;
            // Fees rise only over a submission of ours that L1 took and did not mine; after
            // failed submissions (no funds, a full pool) the batches are prepared afresh.
            if flight.failures >= MAX_SUBMIT_FAILURES {
                give_up = true;
                break;
            }
            if !flight.hashes.is_empty() || flight.failures > 0 {
                flight.prepared.bump();
            }
            flight.sent_at = tokio::time::Instant::now();
            metrics::counter!("rollup_l1_tx_resubmissions_total").increment(1);
            match self.sender.submit(&flight.prepared, flight.nonce).await {
                Ok(hash) => {
                    info!(target: "rollup::batcher", tx = %hash, nonce = flight.nonce, from = flight.start.first_block, "batch transaction resubmitted with higher fees");
                    flight.hashes.push(hash);
                    flight.failures = 0;
                }
                Err(L1Error::Cancelled) => return false,
                Err(err) => {
                    flight.failures += 1;
                    warn!(target: "rollup::batcher", %err, nonce = flight.nonce, failures = flight.failures, "resubmitting a batch transaction failed; will retry");
                }
            }
        }
        if give_up {
            warn!(target: "rollup::batcher", "batch transactions keep failing to submit; preparing them afresh from the inbox");
            progress.reset();
        }
        true
    }

    /// Whether the L1 node knows none of `hashes` (an unanswered look counts as known: nothing
    /// is sent again on a guess).
    async fn none_known(&self, hashes: &[B256]) -> bool {
        for hash in hashes {
            if !matches!(self.sender.known(*hash).await, Ok(false)) {
                return false;
            }
        }
        true
    }

    fn report_posted(&self, flight: &InFlight, receipt: &alloy_rpc_types_eth::TransactionReceipt) {
        let included_in = receipt.block_number.unwrap_or_default();
        let (from, last_block, txs, bytes, blobs, path) = (
            flight.start.first_block,
            flight.last_block,
            flight.txs,
            flight.bytes,
            flight.blobs,
            flight.data,
        );
        info!(
            target: "rollup::batcher",
            from, to = last_block, txs, headers = flight.headers, bytes, data = path.as_str(), blobs, reason = flight.reason.as_str(), l1_block = included_in,
            gas_used = receipt.gas_used, blob_gas_used = receipt.blob_gas_used.unwrap_or_default(), "batch posted"
        );
        metrics::counter!("rollup_batcher_batches_total", "data" => path.as_str()).increment(1);
        metrics::counter!("rollup_batcher_bytes_total", "data" => path.as_str())
            .increment(bytes as u64);
        metrics::counter!("rollup_batcher_blobs_total").increment(blobs as u64);
        metrics::counter!("rollup_batcher_l1_gas_total").increment(receipt.gas_used);
        metrics::counter!("rollup_batcher_l1_blob_gas_total")
            .increment(receipt.blob_gas_used.unwrap_or_default());
        self.report_success(|| {
            format!(
                "posted L2 blocks {from}..={last_block} ({txs} transactions, {bytes} bytes in {}) in L1 block {included_in}",
                if blobs == 0 {
                    "calldata".to_string()
                } else {
                    format!("{blobs} blobs")
                }
            )
        });
    }

    /// Builds the batch that starts at `start` (after the inbox's last block, or after the last
    /// batch in flight) and sends it if it is due (or `urgent`: the next epoch is forcible and
    /// the batch can still land), at the nonce after the last in flight. Returns whether a
    /// batch transaction was sent.
    async fn post_pending(
        &self,
        heads: &Heads,
        start: &BatchStart,
        l1_head: u64,
        urgent: bool,
        progress: &mut Progress,
    ) -> bool {
        let start = *start;
        if heads.unsafe_l2.number < start.first_block {
            return false;
        }
        // The local chain must continue the blocks the inbox holds; when it does not (a forced
        // block, another batcher), derivation replaces the local blocks first.
        let local_parent = self
            .store
            .reader()
            .and_then(|reader| reader.header(start.first_block.saturating_sub(1)));
        match local_parent {
            Ok(Some(parent))
                if parent.timestamp == start.parent.timestamp
                    && decode_l1_origin(&parent.extra_data)
                        .is_ok_and(|origin| origin.number == start.parent.l1_origin) => {}
            Ok(_) => {
                debug!(target: "rollup::batcher", next_block = start.first_block, "the local chain does not continue the inbox's blocks yet; waiting for derivation");
                return false;
            }
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read L2 blocks");
                return false;
            }
        }
        // The headers of origins the inbox has not recorded yet, as far as the unsafe head's.
        progress
            .headers
            .retain(|number, _| *number > start.last_recorded_origin);
        let head_origin = self
            .store
            .reader()
            .ok()
            .and_then(|reader| reader.header(heads.unsafe_l2.number).ok().flatten())
            .and_then(|header| decode_l1_origin(&header.extra_data).ok())
            .map_or(0, |origin| origin.number);
        let wanted = head_origin.min(
            start.last_recorded_origin
                + (MAX_HEADERS_PER_BATCH as u64).min(crate::origins::MAX_NEW_ORIGINS_PER_CALL),
        );
        for number in start.last_recorded_origin + 1..=wanted {
            if progress.headers.contains_key(&number) {
                continue;
            }
            match self.fetch_header(number).await {
                Ok(Some(rlp)) => {
                    progress.headers.insert(number, rlp);
                }
                Ok(None) => break,
                Err(err) => {
                    warn!(target: "rollup::batcher", %err, "cannot fetch an L1 header");
                    self.report_error(|| format!("cannot fetch L1 header {number}: {err}"));
                    return false;
                }
            }
        }
        let from = start.first_block;
        let built = build_batch(
            &self.store,
            &start,
            heads.unsafe_l2.number,
            self.config.max_blocks_per_batch,
            self.config.max_batch_bytes.min(MAX_BATCH_SIZE),
            self.config.data,
            &|number| progress.headers.get(&number).cloned(),
        );
        let mut pending = match built {
            Ok(Some(pending)) => pending,
            Ok(None) => return false,
            Err(err @ BatcherError::OriginReorged { block, origin }) => {
                // The node unwinds the block in a moment, or the cached header is the stale
                // side: read again from there.
                progress.headers.retain(|number, _| *number < origin);
                self.wait_for_unwind(block, &err, progress);
                return false;
            }
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot build a batch");
                self.report_error(|| format!("cannot build a batch: {err}"));
                return false;
            }
        };
        // The inbox takes a batch until two windows after its first block's origin.
        let can_land = l1_head + 1 < pending.first_l1_origin() + 2 * self.config.sequencing_window;
        if !can_land {
            return false;
        }
        // Blocks on origins the inbox recorded already (by an earlier batch, or anyone's
        // `recordOrigins` or `forceInclude`) carry no header for `build_batch` to check: the
        // newest such origin must be the one the inbox holds at its number. Origins form a
        // chain, so it vouches for the older ones. Not recorded on L1 yet (a batch in flight
        // records it): that batch's headers were checked.
        match newest_recorded_origin(&self.store, &pending, start.last_recorded_origin) {
            Ok(Some((block, origin))) => {
                let recorded = self
                    .call(
                        self.config.batch_inbox,
                        IBatchInbox::originHashCall {
                            number: U256::from(origin.number),
                        },
                    )
                    .await;
                if recorded.is_ok_and(|hash| hash != origin.hash) {
                    let err = BatcherError::OriginReorged {
                        block,
                        origin: origin.number,
                    };
                    self.wait_for_unwind(block, &err, progress);
                    return false;
                }
            }
            Ok(None) => {}
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read L2 blocks");
                return false;
            }
        }
        progress.unwind_wait = None;
        let reason = match self.config.post_reason(&pending, unix_now(), l1_head) {
            Some(reason) => reason,
            None if urgent => PostReason::WindowDeadline,
            None => {
                trace!(
                    target: "rollup::batcher",
                    from, to = pending.last_block, bytes = pending.bytes.len(), l1_head,
                    first_l1_origin = pending.first_l1_origin(), oldest_with_transactions = ?pending.oldest_with_transactions,
                    "batch not due yet"
                );
                return false;
            }
        };
        // Whole blobs where the blocks of a mostly empty last blob can wait for the next batch.
        if let Some(max_blobs) = pending.fewer_blobs()
            && let Ok(Some(cut)) = build_batch(
                &self.store,
                &start,
                pending.last_block,
                self.config.max_blocks_per_batch,
                self.config.max_batch_bytes.min(MAX_BATCH_SIZE),
                DataPath::Blobs { max_blobs },
                &|number| progress.headers.get(&number).cloned(),
            )
            && self
                .config
                .cut_pays(reason, &pending, &cut, unix_now(), l1_head)
        {
            debug!(
                target: "rollup::batcher",
                from, to = cut.last_block, left = pending.last_block - cut.last_block,
                blobs = max_blobs, "leaving the last blocks to the next batch, for whole blobs"
            );
            pending = cut;
        }
        let deposit_count = self
            .call(
                self.config.l1_bridge,
                IL1Bridge::depositCountAtCall {
                    l1Block: U256::from(pending.last_l1_origin()),
                },
            )
            .await
            .map(|count| count.saturating_to::<u64>());
        match deposit_count {
            Ok(count) => pending.set_deposit_count(count),
            Err(err) => {
                warn!(target: "rollup::batcher", %err, "cannot read the bridge's deposit count");
                self.report_error(|| format!("cannot read the bridge's deposit count: {err}"));
                return false;
            }
        }
        let next = start.after(&pending);
        let path = pending.data;
        // L1 pools keep one account's blob and ordinary transactions apart: a batch without
        // transactions (calldata) waits until no blob batch is in flight.
        if path == DataPath::Calldata
            && progress
                .in_flight
                .iter()
                .any(|flight| flight.prepared.has_blobs())
        {
            return false;
        }
        let blobs = match path {
            DataPath::Calldata => 0,
            DataPath::Blobs { .. } => blob_count(pending.segments().len()),
        };
        let (input, sidecar) = match path {
            DataPath::Calldata => (
                postBatchCall {
                    data: pending.bytes.clone().into(),
                }
                .abi_encode(),
                None,
            ),
            DataPath::Blobs { .. } => {
                let segments = pending.segments().to_vec();
                let known = self.known_blobs.clone();
                // KZG commitments and cell proofs take a while per blob: on the KZG thread,
                // off the runtime and below sequencing's priority (a batch has slack, a
                // transaction waiting for its block does not), unless half the window is used
                // up or the sequencer is throttled: then at the default priority, as on a busy
                // machine the KZG thread's share held such a batch up for tens of seconds while
                // the sequencer's throttle refused transactions; the same once that happens
                // while the sidecar waits behind other blob work. Asked for every batch: the
                // sidecar's form changes at L1's Osaka fork.
                let format = self.sender.sidecar_format().await;
                let work = move || {
                    rollup_l1::sidecar_in(
                        rollup_primitives::to_blobs(&segments),
                        known.as_ref(),
                        format,
                    )
                };
                let origin = pending.first_l1_origin();
                // A sidecar with slack first waits out a burst; the throttle may come on
                // meanwhile, so its urgency is asked after the wait.
                if let Some(load) = &self.sequencer
                    && !self.blob_work_urgent(origin, l1_head)
                    && !progress.burst_hold.is_zero()
                {
                    let waited = wait_out_burst(load, progress.burst_hold).await;
                    progress.burst_hold = progress.burst_hold.saturating_sub(waited);
                    if waited >= BURST_POLL {
                        debug!(target: "rollup::batcher", first_block = pending.batch.first_block, waited_ms = waited.as_millis(), "the sidecar waited out a burst of transactions");
                    }
                }
                let sidecar = if self.blob_work_urgent(origin, l1_head) {
                    rollup_l1::urgent_kzg_work(work).await
                } else {
                    // Queued behind other blob work, it moves once it becomes urgent.
                    let urgent = async {
                        loop {
                            tokio::time::sleep(self.config.poll_interval).await;
                            if let Ok(head) = self.sender.head().await
                                && self.blob_work_urgent(origin, head)
                            {
                                break;
                            }
                        }
                    };
                    rollup_l1::kzg_work_unless_urgent(work, urgent).await
                }
                .and_then(|sidecar| sidecar);
                match sidecar {
                    Ok(sidecar) => (
                        postBlobBatchCall {
                            envelope: pending.bytes[..pending.envelope_len].to_vec().into(),
                        }
                        .abi_encode(),
                        Some(sidecar),
                    ),
                    Err(err) => {
                        warn!(target: "rollup::batcher", %err, "cannot build the blob sidecar");
                        self.report_error(|| format!("cannot build a blob sidecar: {err}"));
                        return false;
                    }
                }
            }
        };
        // With batches in flight the inbox is not yet where this one starts, so its gas cannot
        // be estimated: use a generous bound instead.
        let gas_limit = (!progress.in_flight.is_empty()).then(|| batch_gas_limit(&input, &pending));
        let nonce = match progress.in_flight.back() {
            Some(last) => last.nonce + 1,
            None => match self.sender.mined_nonce().await {
                Ok(nonce) => {
                    progress.read_worked("the batcher's nonce");
                    nonce
                }
                Err(err) => {
                    progress.read_failed("the batcher's nonce", &err);
                    return false;
                }
            },
        };
        let mut prepared = match self
            .sender
            .prepare(self.config.batch_inbox, input.into(), sidecar, gas_limit)
            .await
        {
            Ok(prepared) => prepared,
            Err(L1Error::Cancelled) => return false,
            Err(err) => {
                // The estimate reverts when the batch would (e.g. a forced block took its
                // place): read the inbox again.
                match crate::origins::behind_the_read_inbox(&err) {
                    Some(why) => {
                        warn!(target: "rollup::batcher", %err, from, why, "cannot prepare a batch transaction; will retry");
                    }
                    None => {
                        warn!(target: "rollup::batcher", %err, from, "cannot prepare a batch transaction; will retry");
                    }
                }
                self.report_error(|| format!("posting a batch failed: {err}"));
                if progress.in_flight.is_empty()
                    && let Some(number) = crate::origins::block_hash_mismatch(&err)
                {
                    self.record_origins_past(start.last_recorded_origin, number, progress)
                        .await;
                }
                progress.headers.clear();
                return false;
            }
        };
        if let Some((stale, up_to)) = &progress.outbid {
            if nonce <= *up_to {
                prepared.outbid(stale);
            } else {
                progress.outbid = None;
            }
        }
        let mut hashes = Vec::new();
        let mut failures = 0;
        match self.sender.submit(&prepared, nonce).await {
            Ok(hash) => hashes.push(hash),
            Err(L1Error::Cancelled) => return false,
            // Kept in flight: resubmitted with higher fees after the resubmission delay (an
            // older transaction of ours may hold the nonce: "replacement underpriced").
            Err(err) => {
                failures = 1;
                warn!(target: "rollup::batcher", %err, nonce, from, "sending a batch transaction failed; will resubmit");
                self.report_error(|| format!("posting a batch failed: {err}"));
            }
        }
        debug!(target: "rollup::batcher", from, to = pending.last_block, nonce, data = path.as_str(), blobs, in_flight = progress.in_flight.len() + 1, reason = reason.as_str(), "batch transaction sent");
        progress.in_flight.push_back(InFlight {
            start,
            last_block: pending.last_block,
            next,
            nonce,
            prepared,
            hashes,
            failures,
            sent_at: tokio::time::Instant::now(),
            nonce_taken: false,
            dropped: false,
            txs: pending.batch.transaction_count(),
            headers: pending.batch.headers.len(),
            bytes: pending.bytes.len(),
            blobs,
            data: path,
            reason,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sidecar with slack waits while a burst lasts, for at most [`MAX_BURST_HOLD`] of it and
    /// at most what its round has left, and not at all once the throttle is on.
    #[tokio::test]
    async fn a_sidecar_waits_out_the_first_seconds_of_a_burst() {
        let load = |throttled: bool, burst: fn(Duration) -> Option<Duration>| {
            let start = std::time::Instant::now();
            SequencerLoad {
                throttled: Arc::new(move || throttled),
                burst: Arc::new(move || burst(start.elapsed())),
            }
        };
        let ms = Duration::from_millis;
        let waited =
            |load: SequencerLoad, most: Duration| async move { wait_out_burst(&load, most).await };
        // Lower bounds are exact (a sleep never ends early); upper ones leave a slow machine
        // room.
        let took = waited(load(false, |_| None), MAX_BURST_HOLD).await;
        assert!(took < ms(100), "no burst: {took:?}");
        let took = waited(load(true, Some), MAX_BURST_HOLD).await;
        assert!(took < ms(100), "throttled: {took:?}");
        // A burst that ends after 150 ms.
        let took = waited(
            load(false, |at| (at < Duration::from_millis(150)).then_some(at)),
            MAX_BURST_HOLD,
        )
        .await;
        assert!(
            took >= ms(150) && took < ms(600),
            "until the burst ended: {took:?}"
        );
        // A burst that has lasted 1.8 s already and goes on: 0.2 s more.
        let took = waited(
            load(false, |at| {
                Some(MAX_BURST_HOLD - Duration::from_millis(200) + at)
            }),
            MAX_BURST_HOLD,
        )
        .await;
        assert!(
            took >= ms(200) && took < ms(650),
            "until the burst had lasted the most it holds: {took:?}"
        );
        // A burst that lasted longer than that is a sustained load: no wait.
        let took = waited(load(false, |at| Some(MAX_BURST_HOLD + at)), MAX_BURST_HOLD).await;
        assert!(took < ms(100), "sustained: {took:?}");
        // Short bursts one after another (each seen 0 ms old): at most what the round has left.
        let took = waited(load(false, |_| Some(Duration::ZERO)), ms(300)).await;
        assert!(
            took >= ms(300) && took < ms(750),
            "at most the round's hold: {took:?}"
        );
        let took = waited(load(false, |_| Some(Duration::ZERO)), Duration::ZERO).await;
        assert!(took < ms(100), "the round's hold used up: {took:?}");
    }

    /// One batch nonce taken by another transaction is explained by a leftover of an earlier
    /// run; three within ten minutes mean another process sends with the key.
    #[test]
    fn nonces_taken_again_and_again_mean_another_sender() {
        let account = Address::repeat_byte(0xba);
        let start = std::time::Instant::now();
        let at = |seconds| start + std::time::Duration::from_secs(seconds);
        let mut progress = Progress::default();
        progress.nonce_taken(at(0));
        progress.nonce_taken(at(100));
        assert_eq!(progress.foreign_sender(account, at(100)), None);
        progress.nonce_taken(at(200));
        let alarm = progress.foreign_sender(account, at(200)).unwrap();
        assert!(
            alarm.contains(&format!("3 batch nonces of {account}"))
                && alarm.contains("another process"),
            "{alarm}"
        );
        // The alarm lasts while they are recent, and ends when they age out.
        assert!(progress.foreign_sender(account, at(599)).is_some());
        assert_eq!(progress.foreign_sender(account, at(601)), None);
        // Old ones are dropped as new ones come.
        progress.nonce_taken(at(1_000));
        assert_eq!(progress.nonces_taken.len(), 1);
    }
}
