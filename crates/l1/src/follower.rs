//! The follower loop: polls the L1 node, keeps a window of canonical blocks, and turns what it
//! sees into [`L1Notification`]s.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use futures::{StreamExt, stream};
use metrics::{counter, gauge};
use rollup_primitives::{BlockNumHash, L1Block, L1Chain, L1Notification};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    blobs::BlobSource,
    error::{L1Error, Result},
    rpc::L1Rpc,
};

/// How many recent canonical blocks the follower remembers: the deepest reorg it can handle.
pub const WINDOW_DEPTH: usize = 1024;
/// How many of the newest remembered blocks keep their transactions and receipts, so a reorg's
/// `old` chain carries them. Older remembered blocks keep their header fields only, which bounds
/// memory on busy chains; post-merge reorgs are far shallower than this.
pub const FULL_BLOCKS_KEPT: usize = 64;
/// Blocks fetched concurrently during catch-up.
const FETCH_CONCURRENCY: usize = 8;
/// How often a block the node did not serve (`null` at or below the head it reported, or data
/// that does not add up) is asked for within one poll before the poll settles for the blocks
/// below it.
const BLOCK_ATTEMPTS: u32 = 4;
/// The pause before such a block is asked for again, times the attempts so far: a lagging
/// backend behind a load balancer catches up, or the next call goes to another one.
const BLOCK_RETRY_PAUSE: Duration = Duration::from_millis(100);
/// After how many polls in a row with answers that do not add up the follower warns (and again
/// after as many more): one or two are a reorg racing the calls.
const INCONSISTENT_WARN_EVERY: u32 = 5;

/// How many catch-up steps go by between two reads of L1's finalized block.
const FINALITY_EVERY_STEPS: u32 = 10;

/// Upper bound of the retry backoff after RPC errors.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How often catch-up progress is logged.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// Configuration of an [`L1Follower`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1FollowerConfig {
    /// http(s) JSON-RPC URL of the L1 node.
    pub url: String,
    /// How often to poll for new heads.
    pub poll_interval: Duration,
    /// Follow `head - confirmations` (0 follows the tip).
    pub confirmations: u64,
    /// The most blocks one `Committed` notification carries during catch-up (e.g. 100).
    pub max_blocks_per_notification: u64,
    /// Where the blobs of batch transactions come from: without it, blocks carry no blob data
    /// and a blob batch stops derivation with an error that says so.
    pub blobs: Option<BlobConfig>,
}

/// A beacon API to read blob data from, for the transactions to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobConfig {
    /// The beacon API's base URL (for anvil, its JSON-RPC URL).
    pub beacon_url: String,
    /// The address whose transactions' blobs derivation reads (the `BatchInbox`).
    pub inbox: Address,
}

/// Follows an L1 node over JSON-RPC and reports its canonical chain as [`L1Notification`]s with
/// reth ExEx semantics. See the crate documentation for the guarantees.
#[derive(Debug)]
pub struct L1Follower {
    config: L1FollowerConfig,
    rpc: L1Rpc,
    blobs: Option<BlobSource>,
    window: Window,
    progress: Progress,
    finalized: Option<tokio::sync::watch::Sender<BlockNumHash>>,
    health: Option<rollup_primitives::RoleHealth>,
    /// Whether the L1 node's head is below the followed tip (see [`Self::step`]), and if so
    /// whether this stretch of it was warned about.
    behind: Option<bool>,
    /// When the follower last warned of it: at most once a [`BEHIND_WARN_EVERY`], also when a
    /// lagging backend behind a load balancer comes and goes every few seconds.
    behind_warned_at: Option<std::time::Instant>,
}

/// How often the follower repeats that the L1 node's head is below the blocks it followed.
const BEHIND_WARN_EVERY: Duration = Duration::from_secs(60);

/// What one poll achieved.
enum Step {
    /// Caught up: wait `poll_interval`.
    Idle,
    /// More blocks are waiting: poll again at once.
    More,
    /// The consumer dropped its receiver.
    ReceiverGone,
}

impl L1Follower {
    /// Takes the blobs this process built itself (its batcher's) from `known` instead of the
    /// beacon API; others are fetched and checked as before. No effect without a blob source.
    #[must_use]
    pub fn with_known_blobs(mut self, known: crate::KnownBlobs) -> Self {
        self.blobs = self.blobs.map(|source| source.with_known(known));
        self
    }

    /// Creates a follower that starts after `known[0]`.
    ///
    /// `known` are the blocks the consumer already processed, newest first and contiguous
    /// (`known[i + 1].number == known[i].number - 1`); at most [`WINDOW_DEPTH`] of them are used.
    /// If `known[0]` is no longer canonical (L1 reorganised while the node was down), the first
    /// notification [`run`](Self::run) sends reverts the stale blocks (header-only [`L1Block`]s:
    /// number, hash and parent hash, no transactions, timestamp 0) down to the newest block of
    /// `known` that is still canonical, and carries the canonical replacements if there are any.
    ///
    /// A node whose head is below `known[0]` and agrees with `known` up to it lags (it is
    /// syncing, or a load-balanced backend answered): nothing is reverted, following waits until
    /// the node is past the stored blocks.
    ///
    /// Checks the L1 node once: if none of `known` is canonical this fails with
    /// [`L1Error::ReorgTooDeep`]. If the node cannot be reached, that check is left to `run`,
    /// which retries until it can.
    pub async fn new(config: L1FollowerConfig, known: Vec<BlockNumHash>) -> Result<Self> {
        if config.max_blocks_per_notification == 0 {
            return Err(L1Error::InvalidSetup(
                "max_blocks_per_notification must be at least 1".into(),
            ));
        }
        let rpc = L1Rpc::connect(&config.url).await?;
        let blobs = config
            .blobs
            .as_ref()
            .map(|blobs| BlobSource::new(&blobs.beacon_url, blobs.inbox))
            .transpose()?;
        let window = Window::from_known(&known)?;
        let follower = Self {
            config,
            rpc,
            blobs,
            window,
            progress: Progress::default(),
            finalized: None,
            health: None,
            behind: None,
            behind_warned_at: None,
        };

        let tip = follower.window.tip().num_hash();
        let check = async {
            let head = follower.rpc.head_number().await?;
            // Below every stored block, nothing can be compared: the node lags (see `step`).
            if head < follower.window.oldest().number {
                return Ok((head, None));
            }
            Ok::<_, L1Error>((head, Some(follower.find_fork(head).await?)))
        };
        match check.await {
            Ok((_, Some(fork))) if fork == tip => {
                info!(target: "rollup::l1", url = %follower.rpc.url(), start_after = tip.number, "L1 follower ready");
            }
            // The node's chain is a prefix of the stored one, or too short to tell: it lags.
            Ok((head, fork)) if fork.is_none_or(|fork| fork.number == head) => warn!(
                target: "rollup::l1",
                url = %follower.rpc.url(),
                head,
                stored_tip = tip.number,
                "the L1 node's head is below the stored L1 blocks and agrees with them up to it: it is syncing or lagging; following waits until it is past them"
            ),
            Ok((_, fork)) => warn!(
                target: "rollup::l1",
                stored_tip = tip.number,
                fork = fork.map(|fork| fork.number),
                "stored L1 blocks above the fork are no longer canonical; they will be reverted first"
            ),
            Err(err) if err.is_temporary() => warn!(
                target: "rollup::l1",
                %err,
                "cannot check the stored L1 blocks yet; the follower will retry"
            ),
            Err(err) => return Err(err),
        }
        Ok(follower)
    }

    /// Follows L1 until `cancel` fires, sending notifications on `tx`.
    ///
    /// Returns `Ok` when cancelled or when the receiver is dropped. Temporary errors (RPC failures,
    /// a reorg racing the calls) are logged and retried with backoff; it returns `Err` only for
    /// what retrying cannot fix, such as a reorg deeper than the remembered window.
    pub async fn run(
        mut self,
        tx: mpsc::Sender<L1Notification>,
        cancel: CancellationToken,
    ) -> Result<()> {
        let poll_interval = self.config.poll_interval;
        let mut backoff = poll_interval;
        // Answers that contradict each other (a block whose receipts do not match its header, a
        // block gone between two calls) in a row: a reorg racing the calls clears within a poll
        // or two, a provider that keeps serving bad data does not, and must be seen.
        let mut inconsistent_in_a_row = 0u32;
        let mut steps_since_finality = 0u32;
        // Polls failed in a row on temporary errors: the first that succeeds after them says
        // so, so that an operator can close an L1 outage from the log.
        let mut failed_in_a_row = 0u32;
        // L1's finality at once, not only once caught up: a node that restarts far behind would
        // otherwise serve `finalized` as the genesis for the whole catch-up.
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(()),
            () = self.report_finalized() => {}
        }
        loop {
            let step = tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                step = self.step(&tx) => step,
            };
            if let (Some(health), Ok(Step::More | Step::Idle)) = (&self.health, &step) {
                if self.behind.is_some() {
                    health.error(format!(
                        "the L1 node's head is below L1 block {}, which this node followed: it is syncing or lagging; following waits for it",
                        self.window.tip().number
                    ));
                } else {
                    health.success(format!(
                        "followed L1 up to block {}",
                        self.window.tip().number
                    ));
                }
            }
            if matches!(step, Ok(Step::More | Step::Idle)) {
                inconsistent_in_a_row = 0;
                if failed_in_a_row > 0 {
                    info!(target: "rollup::l1", failed_polls = failed_in_a_row, tip = self.window.tip().number, "L1 answers again");
                    failed_in_a_row = 0;
                }
            }
            let pause = match step {
                Ok(Step::More) => {
                    backoff = poll_interval;
                    steps_since_finality += 1;
                    if steps_since_finality >= FINALITY_EVERY_STEPS {
                        steps_since_finality = 0;
                        self.report_finalized().await;
                    }
                    continue;
                }
                Ok(Step::Idle) => {
                    backoff = poll_interval;
                    steps_since_finality = 0;
                    self.report_finalized().await;
                    poll_interval
                }
                Ok(Step::ReceiverGone) => {
                    info!(target: "rollup::l1", "notification receiver dropped; L1 follower stops");
                    return Ok(());
                }
                Err(err @ L1Error::Inconsistent { .. }) => {
                    counter!("rollup_l1_inconsistent_answers_total").increment(1);
                    inconsistent_in_a_row += 1;
                    if inconsistent_in_a_row.is_multiple_of(INCONSISTENT_WARN_EVERY) {
                        warn!(
                            target: "rollup::l1", %err, in_a_row = inconsistent_in_a_row,
                            "the L1 node keeps answering with data that does not add up (nothing of it is used); if this goes on, check the L1 node or provider behind --l1-rpc-url"
                        );
                        if let Some(health) = &self.health {
                            health.error(format!(
                                "{inconsistent_in_a_row} L1 polls in a row got data that does not add up: {err}"
                            ));
                        }
                    } else {
                        debug!(target: "rollup::l1", %err, "L1 changed during a poll; polling again");
                    }
                    poll_interval
                }
                Err(err) if err.is_temporary() => {
                    counter!("rollup_l1_rpc_errors_total").increment(1);
                    failed_in_a_row += 1;
                    warn!(target: "rollup::l1", %err, retry_in = ?backoff, "L1 poll failed");
                    if let Some(health) = &self.health {
                        health.error(format!("L1 poll failed: {err}"));
                    }
                    let pause = backoff;
                    backoff = (backoff * 2).clamp(Duration::from_millis(100), MAX_BACKOFF);
                    pause
                }
                Err(err) => return Err(err),
            };
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Also report L1's finalized block (polled when caught up) on `finalized`.
    #[must_use]
    pub fn with_finalized(mut self, finalized: tokio::sync::watch::Sender<BlockNumHash>) -> Self {
        self.finalized = Some(finalized);
        self
    }

    /// Reports each poll, and each failed one, to `health`.
    #[must_use]
    pub fn with_health(mut self, health: rollup_primitives::RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    async fn report_finalized(&self) {
        let Some(sender) = &self.finalized else {
            return;
        };
        match self.rpc.finalized().await {
            Ok(Some(finalized)) => {
                sender.send_if_modified(|current| {
                    let changed = *current != finalized;
                    *current = finalized;
                    changed
                });
            }
            Ok(None) => {}
            Err(err) => debug!(target: "rollup::l1", %err, "cannot read L1's finalized block"),
        }
    }

    fn batch(&self) -> u64 {
        self.config.max_blocks_per_notification
    }

    /// One poll: extend the chain, or detect and report a reorg.
    async fn step(&mut self, tx: &mpsc::Sender<L1Notification>) -> Result<Step> {
        let head = self.rpc.head_number().await?;
        gauge!("rollup_l1_head").set(head as f64);
        let target = head.saturating_sub(self.config.confirmations);
        let tip = self.window.tip().num_hash();
        // A head below what was followed: the L1 node is syncing or lags (a backend behind a
        // load balancer), or L1 went back to a shorter chain. Following waits for it either
        // way; say so rather than stall in silence.
        if head < tip.number {
            let warned = self.behind.unwrap_or(false);
            if self
                .behind_warned_at
                .is_none_or(|at| at.elapsed() >= BEHIND_WARN_EVERY)
            {
                warn!(target: "rollup::l1", head, followed = tip.number, url = %self.rpc.url(), "the L1 node's head is below the L1 blocks this node followed: it is syncing or lagging (a load-balanced backend?), or L1 went back to a shorter chain; following waits until it is past them");
                self.behind_warned_at = Some(std::time::Instant::now());
                self.behind = Some(true);
            } else {
                self.behind = Some(warned);
            }
        } else if self.behind.take() == Some(true) {
            info!(target: "rollup::l1", head, followed = tip.number, "the L1 node's head is past the followed blocks again");
        }

        if target > tip.number {
            let to = target.min(tip.number + self.batch());
            if to < target {
                // Before the first range: it is the slowest (a fresh node's first blocks), and
                // the operator sees nothing for seconds otherwise.
                self.progress.start(tip.number + 1, head, target);
            }
            let blocks = self.fetch_range(tip.number + 1, to).await?;
            // Fewer than asked for when a block was not served: the next poll goes on from here.
            let to = blocks.last().map_or(to, |block| block.number);
            if blocks[0].parent_hash == tip.hash {
                if !self.emit(tx, None, blocks).await? {
                    return Ok(Step::ReceiverGone);
                }
                self.progress.record(tip.number + 1, to, head, target);
                return Ok(if to < target { Step::More } else { Step::Idle });
            }
            debug!(target: "rollup::l1", number = tip.number + 1, "new block does not extend our tip");
        } else {
            // Nothing new, but the tip may have been replaced at the same height.
            match self.rpc.fetch_header(tip.number).await? {
                Some(header) if header.hash == tip.hash => return Ok(Step::Idle),
                Some(_) => {
                    debug!(target: "rollup::l1", number = tip.number, "our tip is no longer canonical");
                }
                // No block at our tip's height: the node lags behind what was followed (a
                // syncing node, a load-balanced backend behind the others), or L1 went back to a
                // shorter chain, which looks the same until L1 grows past our tip again. Only a
                // followed block the node has replaced is a reorg: reverting on a missing one
                // unwound finalized L2 blocks whenever a lagging backend answered.
                None if !self.replaced(head).await? => return Ok(Step::Idle),
                None => {
                    debug!(target: "rollup::l1", head, "the L1 node's head replaces a followed block");
                }
            }
        }
        self.handle_reorg(tx, head, target).await
    }

    /// Whether the node's block at `number` differs from the followed one there. A height the
    /// window does not hold, or one the node has no block at, replaces nothing.
    async fn replaced(&self, number: u64) -> Result<bool> {
        let Some(followed) = self.window.get(number).map(L1Block::num_hash) else {
            return Ok(false);
        };
        Ok(self
            .rpc
            .fetch_header(number)
            .await?
            .is_some_and(|header| header.hash != followed.hash))
    }

    /// Reports a reorg: finds the fork point, reverts our blocks above it and commits the
    /// canonical ones (up to one batch).
    async fn handle_reorg(
        &mut self,
        tx: &mpsc::Sender<L1Notification>,
        head: u64,
        target: u64,
    ) -> Result<Step> {
        let fork = self.find_fork(head).await?;
        let old = self.window.above(fork.number);
        if old.is_empty() {
            // Our tip is canonical after all (L1 switched back between our calls, or the node
            // answered inconsistently); poll again after the usual pause.
            return Ok(Step::Idle);
        }
        let mut to = target.min(fork.number + self.batch());
        let new = if to > fork.number {
            let blocks = self.fetch_range(fork.number + 1, to).await?;
            if blocks[0].parent_hash != fork.hash {
                return Err(L1Error::Inconsistent {
                    number: fork.number + 1,
                    reason: "the chain moved again while the reorg was being read".into(),
                });
            }
            to = blocks.last().map_or(to, |block| block.number);
            blocks
        } else {
            Vec::new()
        };
        counter!("rollup_l1_reorgs_total").increment(1);
        warn!(
            target: "rollup::l1",
            fork = fork.number,
            fork_hash = %fork.hash,
            reverted = old.len(),
            old_tip = old.last().map(|block| block.number),
            committed = new.len(),
            head,
            "L1 reorg"
        );
        let more = !new.is_empty() && to < target;
        if !self.emit(tx, Some(old), new).await? {
            return Ok(Step::ReceiverGone);
        }
        Ok(if more { Step::More } else { Step::Idle })
    }

    /// The newest remembered block that is still canonical, searching down from
    /// `min(our tip, head)`.
    async fn find_fork(&self, head: u64) -> Result<BlockNumHash> {
        let oldest = self.window.oldest().num_hash();
        let mut number = self.window.tip().number.min(head);
        while let Some(stored) = self.window.get(number) {
            // A missing block below the head the node reported is no fork: the node answered
            // from behind (another backend between two calls). Asked for again a few times,
            // else the poll is retried; never reverted.
            let canonical = served(number, || self.rpc.fetch_header(number))
                .await?
                .ok_or_else(|| L1Error::Inconsistent {
                    number,
                    reason: format!(
                        "the L1 node reported head {head} but has no block {number}: it \
                             answers from behind (a load-balanced backend?)"
                    ),
                })?;
            if canonical.hash == stored.hash {
                return Ok(stored.num_hash());
            }
            if number == oldest.number {
                break;
            }
            number -= 1;
        }
        Err(L1Error::ReorgTooDeep {
            count: self.window.len(),
            oldest_number: oldest.number,
            oldest_hash: oldest.hash,
        })
    }

    /// Fetches `from..=to` (concurrently) and checks that the blocks link up.
    ///
    /// A block the node does not serve is asked for again a few times ([`fetch_served`]); if it
    /// still is not, the blocks below it are returned, and the next poll (which reads the head
    /// again) asks for the rest. A load balancer that sends some calls to a lagging backend so
    /// slows following down instead of stalling it: with all or nothing, one `null` in three
    /// answers left a range of a hundred blocks no chance to complete. Fails if `from` itself is
    /// not had, or on any other error.
    async fn fetch_range(&self, from: u64, to: u64) -> Result<Vec<L1Block>> {
        let rpc = &self.rpc;
        let blob_source = self.blobs.as_ref();
        let mut fetches = stream::iter(from..=to)
            .map(|number| async move {
                let mut block = fetch_served(rpc, number).await?;
                if let Some(source) = blob_source {
                    source.attach(&mut block).await?;
                }
                Ok::<_, L1Error>(block)
            })
            .buffered(FETCH_CONCURRENCY);
        let mut blocks = Vec::new();
        while let Some(fetched) = fetches.next().await {
            match fetched {
                Ok(block) => blocks.push(block),
                Err(err @ L1Error::Inconsistent { .. }) if !blocks.is_empty() => {
                    debug!(target: "rollup::l1", %err, had = blocks.len(), "L1 did not serve a block of the range; reporting the blocks below it");
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        for pair in blocks.windows(2) {
            if pair[1].parent_hash != pair[0].hash {
                return Err(L1Error::Inconsistent {
                    number: pair[1].number,
                    reason: format!(
                        "its parent is not block {} ({})",
                        pair[0].number, pair[0].hash
                    ),
                });
            }
        }
        Ok(blocks)
    }

    /// Sends the notification for reverting `old` (if any) and committing `new`, then updates the
    /// window. Returns `false` if the receiver is gone.
    async fn emit(
        &mut self,
        tx: &mpsc::Sender<L1Notification>,
        old: Option<Vec<L1Block>>,
        new: Vec<L1Block>,
    ) -> Result<bool> {
        let fork = old
            .as_ref()
            .and_then(|old| old.first())
            .map(|block| block.number - 1);
        let new_chain = (!new.is_empty())
            .then(|| to_chain(new.clone()))
            .transpose()?;
        let notification = match (old, new_chain) {
            (None, Some(new)) => L1Notification::Committed { new },
            (Some(old), Some(new)) => L1Notification::Reorged {
                old: to_chain(old)?,
                new,
            },
            (Some(old), None) => L1Notification::Reverted {
                old: to_chain(old)?,
            },
            (None, None) => return Ok(true),
        };
        if tx.send(notification).await.is_err() {
            return Ok(false);
        }
        if let Some(fork) = fork {
            self.window.truncate_above(fork);
        }
        self.window.extend(new);
        let tip = self.window.tip();
        gauge!("rollup_l1_followed_block").set(tip.number as f64);
        debug!(target: "rollup::l1", tip = tip.number, hash = %tip.hash, "L1 notification sent");
        Ok(true)
    }
}

/// The block at `number` with its transactions and receipts, asked for up to
/// [`BLOCK_ATTEMPTS`] times (see [`served`]). Fails with [`L1Error::Inconsistent`] if it is
/// still not had.
async fn fetch_served(rpc: &L1Rpc, number: u64) -> Result<L1Block> {
    served(number, || rpc.fetch_block(number))
        .await?
        .ok_or_else(|| L1Error::Inconsistent {
            number,
            reason: "the L1 node has no such block although its head is past it: it answers \
                     from behind (a load-balanced backend?), or the block left the canonical chain"
                .into(),
        })
}

/// What `fetch` reads of L1 block `number`, asked for up to [`BLOCK_ATTEMPTS`] times while the
/// node answers `null` or data that does not add up ([`L1Error::Inconsistent`]): a
/// load-balanced backend that lags the one that reported the head, a reorg racing the calls.
/// The last answer if none was better: the caller reads the head again before asking anew, so
/// a block that is really gone (L1 went back to a shorter chain) is not waited for here.
async fn served<T, F>(number: u64, mut fetch: impl FnMut() -> F) -> Result<Option<T>>
where
    F: Future<Output = Result<Option<T>>>,
{
    let mut attempts = 1;
    loop {
        let answer = fetch().await;
        let retry = match &answer {
            Ok(None) | Err(L1Error::Inconsistent { .. }) => attempts < BLOCK_ATTEMPTS,
            Ok(Some(_)) | Err(_) => false,
        };
        if !retry {
            return answer;
        }
        debug!(target: "rollup::l1", number, attempts, "L1 block not served; asking again");
        tokio::time::sleep(BLOCK_RETRY_PAUSE * attempts).await;
        attempts += 1;
    }
}

fn to_chain(blocks: Vec<L1Block>) -> Result<Arc<L1Chain>> {
    let number = blocks.first().map_or(0, |block| block.number);
    L1Chain::new(blocks)
        .map(Arc::new)
        .map_err(|reason| L1Error::Inconsistent { number, reason })
}

/// The recent canonical chain as last reported: contiguous, ascending, parent-linked, never empty.
#[derive(Debug)]
struct Window {
    blocks: VecDeque<L1Block>,
}

impl Window {
    fn from_known(known: &[BlockNumHash]) -> Result<Self> {
        if known.is_empty() {
            return Err(L1Error::InvalidSetup(
                "no known L1 block to start after; pass at least the L1 block the rollup starts from"
                    .into(),
            ));
        }
        let known = &known[..known.len().min(WINDOW_DEPTH)];
        for pair in known.windows(2) {
            if pair[1].number + 1 != pair[0].number {
                return Err(L1Error::InvalidSetup(format!(
                    "known L1 blocks must be newest first and contiguous, but block {} follows {}",
                    pair[1].number, pair[0].number
                )));
            }
        }
        let blocks = known
            .iter()
            .enumerate()
            .rev()
            .map(|(index, block)| L1Block {
                number: block.number,
                hash: block.hash,
                // Unknown for the oldest; that block is never reverted (it is the last resort
                // fork point).
                parent_hash: known
                    .get(index + 1)
                    .map(|parent| parent.hash)
                    .unwrap_or_default(),
                timestamp: 0,
                mix_hash: Default::default(),
                base_fee_per_gas: None,
                transactions: Vec::new(),
                receipts: Vec::new(),
            })
            .collect();
        Ok(Self { blocks })
    }

    fn len(&self) -> usize {
        self.blocks.len()
    }

    fn tip(&self) -> &L1Block {
        self.blocks.back().expect("the window is never empty")
    }

    fn oldest(&self) -> &L1Block {
        self.blocks.front().expect("the window is never empty")
    }

    fn get(&self, number: u64) -> Option<&L1Block> {
        let index = number.checked_sub(self.oldest().number)?;
        self.blocks.get(usize::try_from(index).ok()?)
    }

    /// Copies of the blocks above `number`, ascending.
    fn above(&self, number: u64) -> Vec<L1Block> {
        self.blocks
            .iter()
            .filter(|block| block.number > number)
            .cloned()
            .collect()
    }

    /// Forgets the blocks above `number`; keeps at least the oldest block.
    fn truncate_above(&mut self, number: u64) {
        let keep = number
            .saturating_sub(self.oldest().number)
            .saturating_add(1);
        self.blocks
            .truncate(usize::try_from(keep).unwrap_or(usize::MAX).max(1));
    }

    /// Appends blocks that extend the tip, then trims to [`WINDOW_DEPTH`] and strips bodies older
    /// than [`FULL_BLOCKS_KEPT`].
    fn extend(&mut self, blocks: Vec<L1Block>) {
        self.blocks.extend(blocks);
        while self.blocks.len() > WINDOW_DEPTH {
            self.blocks.pop_front();
        }
        let strip = self.blocks.len().saturating_sub(FULL_BLOCKS_KEPT);
        for block in self.blocks.iter_mut().take(strip).rev() {
            if block.transactions.is_empty() && block.receipts.is_empty() {
                break; // everything older was stripped already
            }
            block.transactions = Vec::new();
            block.receipts = Vec::new();
        }
    }
}

/// Catch-up progress, logged every [`PROGRESS_INTERVAL`].
#[derive(Debug, Default)]
struct Progress {
    /// First block and start time of the current reporting period, while catching up.
    period: Option<(u64, Instant)>,
    blocks: u64,
}

impl Progress {
    /// A catch-up of more than one range begins at `from` (nothing if one is under way): says
    /// how far behind L1 the node is, and starts the period's clock.
    fn start(&mut self, from: u64, head: u64, target: u64) {
        if self.period.is_none() {
            info!(target: "rollup::l1", from, head, remaining = target + 1 - from, "catching up with L1");
            self.period = Some((from, Instant::now()));
        }
    }

    fn record(&mut self, from: u64, to: u64, head: u64, target: u64) {
        let (period_from, started) = *self.period.get_or_insert((from, Instant::now()));
        self.blocks += to + 1 - from;
        let elapsed = started.elapsed();
        if to >= target {
            if self.blocks > 1 && elapsed >= PROGRESS_INTERVAL / 5 {
                info!(target: "rollup::l1", tip = to, head, "caught up with L1");
            }
            *self = Self::default();
        } else if elapsed >= PROGRESS_INTERVAL {
            let blocks_per_sec = self.blocks as f64 / elapsed.as_secs_f64();
            info!(
                target: "rollup::l1",
                from = period_from,
                to,
                head,
                remaining = target - to,
                blocks_per_sec = format!("{blocks_per_sec:.1}"),
                "catching up with L1"
            );
            // The catch-up goes on: the next period starts here, without a second start line.
            self.period = Some((to + 1, Instant::now()));
            self.blocks = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;

    use super::*;

    /// A catch-up's period starts before its first range, which a fresh node spends seconds
    /// on; a second start inside it changes nothing, and reaching the target ends it.
    #[test]
    fn catch_up_progress_starts_before_the_first_range() {
        let mut progress = Progress::default();
        progress.start(10, 500, 490);
        let (from, started) = progress.period.unwrap();
        assert_eq!(from, 10);
        progress.start(110, 500, 490);
        assert_eq!(progress.period, Some((10, started)));
        progress.record(10, 109, 500, 490);
        assert_eq!(
            (progress.period, progress.blocks),
            (Some((10, started)), 100)
        );
        // A period's end reports and opens the next one: no new start line.
        progress.period = Some((10, started - PROGRESS_INTERVAL));
        progress.record(110, 209, 500, 490);
        let (from, _) = progress.period.unwrap();
        assert_eq!((from, progress.blocks), (210, 0));
        progress.start(210, 500, 490);
        assert_eq!(progress.period.unwrap().0, 210);
        progress.record(210, 490, 500, 490);
        assert!(progress.period.is_none());
    }

    fn known(tip: u64, count: u64) -> Vec<BlockNumHash> {
        (0..count)
            .map(|i| BlockNumHash {
                number: tip - i,
                hash: B256::with_last_byte((tip - i) as u8),
            })
            .collect()
    }

    #[test]
    fn window_from_known_is_ascending_and_linked() {
        let window = Window::from_known(&known(10, 4)).unwrap();
        assert_eq!(window.oldest().number, 7);
        assert_eq!(window.tip().number, 10);
        let above = window.above(7);
        assert_eq!(above.len(), 3);
        L1Chain::new(above).expect("stored blocks form a chain");
        assert_eq!(window.get(9).unwrap().hash, B256::with_last_byte(9));
        assert!(window.get(11).is_none() && window.get(6).is_none());
    }

    #[test]
    fn window_rejects_empty_and_gapped_known() {
        assert!(Window::from_known(&[]).is_err());
        let mut gapped = known(10, 3);
        gapped[2].number = 5;
        assert!(Window::from_known(&gapped).is_err());
    }

    #[test]
    fn window_truncates_and_trims() {
        let mut window = Window::from_known(&known(10, 4)).unwrap();
        window.truncate_above(8);
        assert_eq!(window.tip().number, 8);
        window.truncate_above(0);
        assert_eq!(window.len(), 1, "the oldest block stays");
        let mut parent = window.tip().clone();
        let blocks: Vec<_> = (0..(WINDOW_DEPTH as u64 + 10))
            .map(|_| {
                let mut block = parent.clone();
                block.number += 1;
                block.parent_hash = parent.hash;
                block.hash = B256::from(alloy_primitives::U256::from(block.number));
                block.receipts = vec![rollup_primitives::L1Receipt {
                    success: true,
                    logs: vec![],
                }];
                parent = block.clone();
                block
            })
            .collect();
        window.extend(blocks);
        assert_eq!(window.len(), WINDOW_DEPTH);
        let full = window
            .blocks
            .iter()
            .filter(|block| !block.receipts.is_empty())
            .count();
        assert_eq!(full, FULL_BLOCKS_KEPT);
    }
}
