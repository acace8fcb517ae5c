//! Notification handling, derivation of the safe chain, and sequencing of the unsafe chain.

use std::sync::Arc;

use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256};
use rollup_derive::{
    InboxRecord, MAX_L2_BLOCKS_PER_SECOND, SafeParent, check_batch_block, check_deposit_nonces,
    derive_deposits, extract_inbox_records,
};
use rollup_execution::{BlockInput, ExecutedBlock, execute_block};
use rollup_primitives::{
    Batch, BatchBlock, BatchEnvelope, BatchParent, BlockNumHash, DataPath, Heads, L1Block, L1Chain,
    L1Notification, L2Block, L2Receipt, L2Transaction, MAX_BATCH_SIZE, RollupConfig,
    decode_l1_origin, recover_signers,
};
use rollup_storage::{
    BatchOutcome, BatchRecord, BlockDerivation, DepositOrigin, L1BlockDerivation, L1BlockRecord,
    OpenBlockPart, StorageError, Store, StoreWriter,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::{NodeError, Result};

/// What handling one notification did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationOutcome {
    /// L1 blocks whose effects were removed.
    pub reverted_l1_blocks: u64,
    /// L2 blocks removed by those reverts (or replaced by derivation).
    pub unwound_l2_blocks: u64,
    /// The finalized L1 block a revert removed: L1 broke its own finality, and the finalized
    /// L2 head went back with it.
    pub finalized_l1_reverted: Option<u64>,
    /// L1 blocks newly processed.
    pub committed_l1_blocks: u64,
    /// L1 blocks skipped because they were already processed (re-delivery).
    pub duplicate_l1_blocks: u64,
    /// L2 blocks that became safe.
    pub safe_l2_blocks: u64,
    /// Segments that did not decode (their blocks were derived empty).
    pub bad_segments: u64,
    /// The height to report to the host as finished (`FinishedHeight`), set once the
    /// committed chain's tip is durably stored.
    pub finished_height: Option<BlockNumHash>,
}

/// L1's finalized block as an L1 source reports it (a watch that may close).
#[derive(Debug)]
pub struct L1Finalized(Option<watch::Receiver<BlockNumHash>>);

impl L1Finalized {
    /// Follows `receiver`.
    pub const fn new(receiver: watch::Receiver<BlockNumHash>) -> Self {
        Self(Some(receiver))
    }

    /// A source that never reports finality (the finalized head stays at genesis).
    pub const fn never() -> Self {
        Self(None)
    }

    /// The next reported finalized block; pends forever once the source is gone.
    pub async fn changed(&mut self) -> BlockNumHash {
        if let Some(receiver) = &mut self.0 {
            if receiver.changed().await.is_ok() {
                return *receiver.borrow_and_update();
            }
            self.0 = None;
        }
        std::future::pending().await
    }
}

/// A block the sequencer built.
#[derive(Debug, Clone)]
pub struct SequencedBlock {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Transactions, deposits first.
    pub transactions: Vec<L2Transaction>,
    /// Receipts.
    pub receipts: Vec<L2Receipt>,
    /// Offered transactions left for a later block because the block's gas ran out (or, in a
    /// catch-up block, all of them).
    pub deferred: Vec<B256>,
    /// Whether this was a catch-up block (timestamp in the past, L1 origin advanced, deposits
    /// only): the chain is more than the drift behind L1 and the next block can follow at once.
    pub catching_up: bool,
    /// Its size encoded alone as a batch: what posting it costs in L1 data, at most.
    pub batch_bytes: usize,
    /// Its L1 origin's number: its batch must be on L1 before `origin + sequencingWindow`.
    pub l1_origin: u64,
}

/// Inputs of one L2 block on top of a given parent.
struct Attributes {
    timestamp: u64,
    origin: L1BlockRecord,
    transactions: Vec<L2Transaction>,
    /// Where the block was derived from (its inbox record and position); the default for
    /// sequenced blocks, which are not safe.
    derivation: BlockDerivation,
}

/// The rollup core.
#[derive(Debug)]
pub struct RollupNode {
    config: Arc<RollupConfig>,
    store: Store,
    heads: watch::Sender<Heads>,
    /// Signed transactions of unsafe blocks that reorgs or derivation removed, for the
    /// sequencer to offer again.
    orphaned: Vec<L2Transaction>,
    /// How this rollup's batches go to L1: every block the sequencer seals must keep within the
    /// segments a block may span, each fitting a batch of this kind with the envelope.
    data_path: DataPath,
    /// The clock's second in which the sequencer last built a block dated ahead of the clock
    /// (`None` once the clock caught up): while ahead it builds one block per second of the
    /// clock, so the chain's time advances a tenth as fast as the clock and the lead closes.
    ahead_of_clock: Option<u64>,
    /// The finalized L1 block the source reported last, taken or not: one older than the
    /// recorded one is set aside ([`Self::set_l1_finalized`]) and taken once a revert removes
    /// the recorded one (the source does not report it again).
    reported_l1_finalized: Option<BlockNumHash>,
}

fn origin_of(header: &Header) -> Result<BlockNumHash> {
    decode_l1_origin(&header.extra_data).map_err(|err| {
        NodeError::Storage(StorageError::Inconsistent(format!(
            "L2 block {} has no L1 origin: {err}",
            header.number
        )))
    })
}

/// The senders of `envelopes` if the stored `body` of the block being derived holds exactly
/// these signed transactions, in order: the sequencer deriving its own batch. The same hash is
/// the same signed bytes and so the same signer, recovered when the transaction entered the
/// pool; recovering a batch again would double the node's largest cost per transaction.
fn stored_senders(
    body: Option<&[L2Transaction]>,
    envelopes: &[TxEnvelope],
) -> Option<Vec<Address>> {
    let body = body?;
    let mut stored = body.iter().filter_map(|tx| match tx {
        L2Transaction::Signed { envelope, sender } => Some((envelope.tx_hash(), *sender)),
        L2Transaction::Deposit(_) => None,
    });
    let mut senders = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        match stored.next() {
            Some((hash, sender)) if hash == envelope.tx_hash() => senders.push(sender),
            _ => return None,
        }
    }
    stored.next().is_none().then_some(senders)
}

/// What a child of L2 block `number` builds on: its timestamp, origin, and how many blocks
/// ending with it share its timestamp (counted up to [`MAX_L2_BLOCKS_PER_SECOND`]).
fn parent_of_next(writer: &StoreWriter, number: u64) -> Result<(Header, SafeParent)> {
    let parent = writer
        .header(number)?
        .ok_or_else(|| missing(format!("header {number}")))?;
    let mut blocks_at_timestamp = 1;
    let mut cursor = number;
    while blocks_at_timestamp < MAX_L2_BLOCKS_PER_SECOND && cursor > 0 {
        cursor -= 1;
        let earlier = writer
            .header(cursor)?
            .ok_or_else(|| missing(format!("header {cursor}")))?;
        if earlier.timestamp != parent.timestamp {
            break;
        }
        blocks_at_timestamp += 1;
    }
    let safe_parent = SafeParent {
        timestamp: parent.timestamp,
        l1_origin: origin_of(&parent)?.number,
        blocks_at_timestamp,
    };
    Ok((parent, safe_parent))
}

/// The L1 log each of `deposits` (derived from `block`, in log order) came from: the bridge log
/// whose nonce gives the deposit's source hash. Kept for operators only.
fn deposit_origins(
    config: &RollupConfig,
    block: &L1Block,
    deposits: &[rollup_primitives::TxDeposit],
) -> Vec<DepositOrigin> {
    use alloy_sol_types::SolEvent;
    use rollup_primitives::bindings::IL1Bridge::{DepositInitiated, ForcedWithdrawalInitiated};
    if deposits.is_empty() {
        return Vec::new();
    }
    let mut by_source = std::collections::HashMap::new();
    let mut log_index = 0u64;
    for (tx, receipt) in block.transactions.iter().zip(&block.receipts) {
        for log in &receipt.logs {
            let topics = log.data.topics();
            let bridge_message = log.address == config.contracts.l1_bridge
                && topics.first().is_some_and(|topic| {
                    *topic == DepositInitiated::SIGNATURE_HASH
                        || *topic == ForcedWithdrawalInitiated::SIGNATURE_HASH
                });
            if receipt.success
                && bridge_message
                && let Some(nonce) = topics.get(1).and_then(|topic| {
                    u64::try_from(alloy_primitives::U256::from_be_bytes(topic.0)).ok()
                })
            {
                by_source.insert(
                    rollup_primitives::deposit_source_hash(nonce),
                    DepositOrigin {
                        nonce,
                        tx_hash: tx.hash,
                        log_index,
                    },
                );
            }
            log_index += 1;
        }
    }
    deposits
        .iter()
        .map(|deposit| {
            by_source
                .get(&deposit.source_hash)
                .copied()
                .unwrap_or_default()
        })
        .collect()
}

/// What one L1 header adds to a batch, at most: the RLP of a Prague header (about 620 bytes)
/// and its 2-byte length. A block that adopts a new L1 origin carries that origin's header.
const L1_HEADER_BATCH_BYTES: usize = 640;

/// The size of `block` encoded alone as a batch, with the L1 header of its origin when it
/// adopts a new one (`new_epoch`), or why it cannot be encoded.
fn encode_alone(
    block: &L2Block,
    new_epoch: bool,
    data_path: DataPath,
) -> std::result::Result<usize, String> {
    let origin = decode_l1_origin(&block.header.extra_data).map_err(|err| err.to_string())?;
    let batch = Batch {
        first_block: block.header.number,
        deposit_count: 0,
        headers: Vec::new(),
        blocks: vec![BatchBlock {
            timestamp: block.header.timestamp,
            l1_origin: origin.number,
            transactions: block
                .transactions
                .iter()
                .filter_map(|tx| match tx {
                    L2Transaction::Signed { envelope, .. } => Some(envelope.clone()),
                    L2Transaction::Deposit(_) => None,
                })
                .collect(),
        }],
        last_block_open: false,
    };
    let parent = BatchParent {
        timestamp: block.header.timestamp,
        l1_origin: origin.number,
    };
    let (bytes, envelope_len) = batch
        .encode_unbounded(parent)
        .map_err(|err| err.to_string())?;
    let header = if new_epoch { L1_HEADER_BATCH_BYTES } else { 0 };
    // A block larger than one batch spans batches, cut at its segments (at most
    // MAX_SEGMENTS_PER_BLOCK, which `encode_unbounded` checks): its first segment with the
    // envelope must fit one batch of the path.
    let segments = usize::from(bytes[12] & !rollup_primitives::OPEN_FLAG);
    let first_segment = match envelope_len.checked_sub(segments * 6) {
        Some(table) if segments > 0 => {
            u32::from_be_bytes(bytes[table..table + 4].try_into().expect("4 bytes")) as usize
        }
        _ => 0,
    };
    if !data_path.fits(
        envelope_len + header + first_segment,
        envelope_len + header,
        MAX_BATCH_SIZE,
    ) {
        return Err(format!(
            "{} bytes of envelope with a first segment of {first_segment} do not fit one batch in {}",
            envelope_len + header,
            data_path.as_str()
        ));
    }
    Ok(bytes.len() + header)
}

/// The parts of L2 block `block` that the records before `index` left open, oldest first:
/// the records just before it whose stored part is of that block.
fn open_block_parts(writer: &StoreWriter, index: u64, block: u64) -> Result<Vec<OpenBlockPart>> {
    let mut parts = Vec::new();
    let mut at = index;
    while let Some(previous) = at.checked_sub(1) {
        match writer.open_block_part(previous)? {
            Some(part) if part.l2_block == block => parts.push(part),
            _ => break,
        }
        at = previous;
    }
    parts.reverse();
    Ok(parts)
}

/// A block's transactions from its stored `parts` then `rest` (the closing record's), and
/// whether all of them decoded (`rest_complete` for the closing record's).
fn joined_parts(
    parts: &[OpenBlockPart],
    rest: Vec<TxEnvelope>,
    rest_complete: bool,
) -> std::result::Result<(Vec<TxEnvelope>, bool), String> {
    let mut transactions = Vec::new();
    let mut complete = rest_complete;
    for part in parts {
        match &part.transactions {
            Some(raws) => {
                for raw in raws {
                    transactions.push(
                        TxEnvelope::decode_2718(&mut raw.as_slice())
                            .map_err(|err| format!("block {}: {err}", part.l2_block))?,
                    );
                }
            }
            None => complete = false,
        }
    }
    transactions.extend(rest);
    Ok((transactions, complete))
}

fn missing(what: String) -> NodeError {
    NodeError::Storage(StorageError::NotFound(what))
}

impl RollupNode {
    /// Opens the core on `store`, writing genesis on first start (or checking it matches).
    pub fn new(config: Arc<RollupConfig>, store: Store) -> Result<Self> {
        store.init_genesis(&config)?;
        // The finalized L1 block recorded before a restart: without it the finalized L2 head
        // read genesis until the L1 source first answered.
        let l1_finalized = store.reader()?.l1_finalized()?.unwrap_or_default();
        let (heads, _) = watch::channel(Heads {
            l1_finalized,
            ..Heads::default()
        });
        let node = Self {
            config,
            store,
            heads,
            orphaned: Vec::new(),
            data_path: DataPath::Calldata,
            ahead_of_clock: None,
            reported_l1_finalized: None,
        };
        node.publish_heads()?;
        let heads = *node.heads.borrow();
        info!(
            target: "rollup::node",
            l1_cursor = heads.l1_cursor.number, unsafe_l2 = heads.unsafe_l2.number, safe_l2 = heads.safe_l2.number,
            "rollup core ready"
        );
        Ok(node)
    }

    /// Sets how batches go to L1 ([`DataPath::Calldata`] until set): the sequencer seals only
    /// blocks the batcher can post that way (over as many batches as they span), and counts
    /// their backlog in its bytes.
    pub const fn set_data_path(&mut self, data_path: DataPath) {
        self.data_path = data_path;
    }

    /// How batches go to L1.
    pub const fn data_path(&self) -> DataPath {
        self.data_path
    }

    /// The store.
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// The config.
    pub const fn config(&self) -> &Arc<RollupConfig> {
        &self.config
    }

    /// Subscribes to head changes.
    pub fn heads(&self) -> watch::Receiver<Heads> {
        self.heads.subscribe()
    }

    /// The stored L1 cursor: where an L1 source must resume (reth:
    /// `set_notifications_with_head`).
    pub fn l1_cursor(&self) -> Result<BlockNumHash> {
        self.store
            .reader()?
            .l1_cursor()?
            .ok_or_else(|| NodeError::Disconnected("no L1 cursor stored".into()))
    }

    /// Processed L1 blocks, newest first: lets an L1 source find the fork point after a
    /// restart. Only blocks the node can still unwind to: those whose safe L2 head has its
    /// history kept. After an L1 reorg moved the cursor back, older ones may not (pruning
    /// followed the cursor before the reorg), and a fork below them must be refused as too deep
    /// rather than fail half way through the unwind.
    pub fn recent_l1_blocks(&self, limit: usize) -> Result<Vec<BlockNumHash>> {
        let reader = self.store.reader()?;
        let history_start = reader.oldest_history_block()?;
        Ok(reader
            .recent_l1_blocks(limit)?
            .into_iter()
            .take_while(|record| record.safe_l2_head >= history_start)
            .map(|record| record.block)
            .collect())
    }

    /// Records the newest finalized L1 block; the finalized L2 head follows it.
    ///
    /// An older block than the one recorded is ignored while the recorded one is still the
    /// block this node processed at its height: finality does not go back, but an L1 node's
    /// answer can (a load-balanced provider asking a lagging backend; anvil after a rollback
    /// counts finality from its new head), and the finalized L2 head went back with it, with
    /// no word in the log. Once the recorded block was reverted (L1 broke its own finality,
    /// which the revert reports), the older one is taken.
    pub fn set_l1_finalized(&mut self, l1_finalized: BlockNumHash) -> Result<()> {
        self.reported_l1_finalized = Some(l1_finalized);
        let current = self.heads.borrow().l1_finalized;
        if l1_finalized.number < current.number
            && self
                .store
                .reader()?
                .l1_block(current.number)?
                .is_some_and(|record| record.block.hash == current.hash)
        {
            debug!(
                target: "rollup::node",
                reported = l1_finalized.number, kept = current.number,
                "L1 reported an older finalized block than before; keeping the newer one"
            );
            return Ok(());
        }
        self.record_l1_finalized(l1_finalized)?;
        self.publish_heads()
    }

    /// Makes `l1_finalized` the finalized L1 block the heads follow, on disk too (for a restart).
    fn record_l1_finalized(&self, l1_finalized: BlockNumHash) -> Result<()> {
        if self.heads.borrow().l1_finalized == l1_finalized {
            return Ok(());
        }
        let mut writer = self.store.writer()?;
        writer.set_l1_finalized(l1_finalized)?;
        writer.commit()?;
        self.heads
            .send_modify(|heads| heads.l1_finalized = l1_finalized);
        Ok(())
    }

    fn publish_heads(&self) -> Result<()> {
        let reader = self.store.reader()?;
        let num_hash = |number: u64| -> Result<BlockNumHash> {
            Ok(BlockNumHash {
                number,
                hash: reader.block_hash(number)?.unwrap_or_default(),
            })
        };
        let unsafe_l2 = num_hash(reader.l2_head()?.unwrap_or_default())?;
        let safe_l2 = num_hash(reader.safe_head()?.unwrap_or_default())?;
        let l1_cursor = reader.l1_cursor()?.unwrap_or_default();
        let l1_finalized = self.heads.borrow().l1_finalized;
        // The finalized L2 head is the safe head as of the newest processed L1 block that is
        // finalized on L1 (and is still the block we processed at that height).
        let mut finalized_l2 = num_hash(0)?;
        let finalized_l1 = l1_finalized.number.min(l1_cursor.number);
        if let Some(record) = reader.l1_block(finalized_l1)?
            && (finalized_l1 < l1_finalized.number || record.block.hash == l1_finalized.hash)
        {
            finalized_l2 = num_hash(record.safe_l2_head.min(safe_l2.number))?;
        }
        metrics::gauge!("rollup_l2_unsafe_head").set(unsafe_l2.number as f64);
        metrics::gauge!("rollup_l2_safe_head").set(safe_l2.number as f64);
        metrics::gauge!("rollup_l2_finalized_head").set(finalized_l2.number as f64);
        metrics::gauge!("rollup_l1_cursor").set(l1_cursor.number as f64);
        self.heads.send_modify(|heads| {
            heads.unsafe_l2 = unsafe_l2;
            heads.safe_l2 = safe_l2;
            heads.finalized_l2 = finalized_l2;
            heads.l1_cursor = l1_cursor;
        });
        Ok(())
    }

    /// Applies one notification: the reverted chain first, then the committed one.
    pub fn handle_notification(
        &mut self,
        notification: &L1Notification,
    ) -> Result<NotificationOutcome> {
        let mut outcome = NotificationOutcome::default();
        let result = (|| {
            if let Some(old) = notification.reverted_chain() {
                self.revert(old, &mut outcome)?;
                // A plain revert finishes at the new tip too: the host prunes its ExEx WAL only
                // once every finished height is canonical, and the old one no longer is.
                outcome.finished_height = Some(self.l1_cursor()?);
            }
            if let Some(new) = notification.committed_chain() {
                self.commit(new, &mut outcome)?;
            }
            Ok(())
        })();
        self.publish_heads()?;
        result.map(|()| outcome)
    }

    /// Removes the effects of `old` (and anything stored above it).
    fn revert(&mut self, old: &L1Chain, outcome: &mut NotificationOutcome) -> Result<()> {
        let first = old.first().number;
        let cursor = self.l1_cursor()?;
        if first > cursor.number {
            debug!(target: "rollup::node", first, cursor = cursor.number, "revert above the cursor: nothing stored, nothing to do");
            return Ok(());
        }
        self.unwind_l1_from(first, outcome)?;
        metrics::counter!("rollup_l1_reverts_total").increment(1);
        Ok(())
    }

    /// Forgets L1 blocks from `first` on: the safe head goes back to what it was after
    /// `first - 1`, and every L2 block whose L1 origin is gone is removed. Unsafe blocks with an
    /// older origin stay (their batches may land again).
    fn unwind_l1_from(&mut self, first: u64, outcome: &mut NotificationOutcome) -> Result<()> {
        let cursor = self.l1_cursor()?;
        let genesis_origin = self.config.genesis.l1_origin;
        if first <= genesis_origin.number {
            return Err(NodeError::Disconnected(format!(
                "L1 block {first} is at or below the rollup's L1 origin {}: the rollup's genesis itself was reorged out; redeploy",
                genesis_origin.number
            )));
        }
        let (l1_finalized, finalized_l2) = {
            let heads = self.heads.borrow();
            (heads.l1_finalized, heads.finalized_l2)
        };
        // L1's finality is broken only if this node stored the finalized block itself and
        // it is reverted. A finalized block above the stored chain (L1 finalized further while
        // this node was down, or before it processed the blocks up to it) is not touched by
        // reverting stored blocks below it: those were only taken for its ancestors, and were
        // not. Reported as a broken finality, that was an error and an alarm on a restart after
        // an ordinary reorg, and the recorded finalized block went back to the fork point until
        // L1 finalized the next one.
        let stored_finalized = l1_finalized.number >= first
            && l1_finalized.number <= cursor.number
            && self
                .store
                .reader()?
                .l1_block(l1_finalized.number)?
                .is_some_and(|record| record.block.hash == l1_finalized.hash);
        if !stored_finalized && l1_finalized.number >= first && finalized_l2.number > 0 {
            warn!(
                target: "rollup::node",
                finalized_l1 = l1_finalized.number, from_l1 = first, cursor = cursor.number, finalized_l2 = finalized_l2.number,
                "stored L1 blocks below L1's finalized block, which this node has not reached, were reorged out: the finalized L2 head goes back to what the remaining blocks carry"
            );
        }
        if stored_finalized {
            // Not a reorg an L1 should ever make: what users were told is final is unwound.
            error!(
                target: "rollup::node",
                finalized_l1 = l1_finalized.number, from_l1 = first, finalized_l2 = finalized_l2.number,
                "L1 reverted its own finalized block: the finalized L2 head goes back with it; check the L1 node (a finalized block must never change)"
            );
            metrics::counter!("rollup_l1_finality_violations_total").increment(1);
            outcome.finalized_l1_reverted = Some(l1_finalized.number);
        }
        let mut writer = self.store.writer()?;
        let below = writer.remove_l1_blocks_from(first)?;
        // A reverted finalized block is forgotten with the revert, on disk too: the older one
        // the source reported before it, set aside while it stood, or else the block below the
        // revert (an ancestor of the reverted finalized block). Kept, it made the next fork's
        // blocks below its height count as finalized.
        let finalized_after =
            outcome
                .finalized_l1_reverted
                .map(|_| match self.reported_l1_finalized {
                    Some(reported) if reported.number < first => reported,
                    _ => below.block,
                });
        if let Some(finalized) = finalized_after {
            writer.set_l1_finalized(finalized)?;
        }
        let safe_before = writer.safe_head()?;
        let safe = below.safe_l2_head.min(safe_before);
        let head = writer.l2_head()?;
        let mut keep = head;
        for number in safe + 1..=head {
            let header = writer
                .header(number)?
                .ok_or_else(|| missing(format!("header {number}")))?;
            if origin_of(&header)?.number >= first {
                keep = number - 1;
                break;
            }
        }
        let unwound = self.unwind_unsafe(&mut writer, keep)?;
        writer.set_safe_head(safe.min(keep))?;
        // The RPC resolves `safe` and `finalized` through the published heads: lower them
        // before the removal commits, so no tag names a block that is gone. (They are set from
        // the store again once the notification is handled.)
        let kept = |number: u64| -> Result<BlockNumHash> {
            Ok(BlockNumHash {
                number,
                hash: writer.block_hash(number)?.unwrap_or_default(),
            })
        };
        let (unsafe_l2, safe_l2) = (kept(keep)?, kept(safe.min(keep))?);
        self.heads.send_if_modified(|heads| {
            let mut lowered = false;
            for (head, to) in [
                (&mut heads.unsafe_l2, unsafe_l2),
                (&mut heads.safe_l2, safe_l2),
                (&mut heads.finalized_l2, safe_l2),
            ] {
                if head.number > to.number {
                    *head = to;
                    lowered = true;
                }
            }
            lowered
        });
        writer.commit()?;
        if let Some(finalized) = finalized_after {
            self.heads
                .send_modify(|heads| heads.l1_finalized = finalized);
        }
        outcome.reverted_l1_blocks += cursor.number + 1 - first;
        outcome.unwound_l2_blocks += unwound;
        // Safe blocks go back only with the L1 blocks their batches were in: what was served as
        // safe there is re-derived from the new fork (the same transactions, unless the fork
        // dropped the batch).
        let safe_rolled_back = safe_before.saturating_sub(safe.min(keep));
        info!(
            target: "rollup::node",
            from_l1 = first, to_l1 = cursor.number, safe_l2 = safe.min(keep), unsafe_l2 = keep, unwound_l2_blocks = unwound,
            safe_l2_blocks_rolled_back = safe_rolled_back,
            "unwound L2 for reverted L1 blocks"
        );
        Ok(())
    }

    fn commit(&mut self, new: &L1Chain, outcome: &mut NotificationOutcome) -> Result<()> {
        let origin = self.config.genesis.l1_origin;
        for block in new.blocks() {
            // A committed block is canonical on the source: one at the origin's height that is
            // not the origin says the source follows another chain. (A revert of the origin may
            // be spurious, a host replaying what it already sent; this is not.)
            if block.number == origin.number && block.hash != origin.hash {
                return Err(NodeError::ForeignL1 {
                    number: origin.number,
                    hash: block.hash,
                    origin: origin.hash,
                });
            }
            let cursor = self.l1_cursor()?;
            if block.number <= cursor.number {
                let stored = self.store.reader()?.l1_block(block.number)?;
                match stored {
                    // Re-delivery of a block we already hold: nothing to do.
                    Some(record) if record.block.hash == block.hash => {
                        outcome.duplicate_l1_blocks += 1;
                        continue;
                    }
                    // Below the rollup's start: not ours.
                    None if block.number <= origin.number => continue,
                    // The host says a different block is canonical at this height: ours is not.
                    _ => {
                        warn!(
                            target: "rollup::node",
                            l1_block = block.number, hash = %block.hash,
                            "committed L1 block replaces a stored one; unwinding to its parent first"
                        );
                        self.unwind_l1_from(block.number, outcome)?;
                        // An L1 reorg applied all the same (a host that resumed on another
                        // fork, reth after a kill -9): counted as `revert` counts it.
                        metrics::counter!("rollup_l1_reverts_total").increment(1);
                    }
                }
            }
            let cursor = self.l1_cursor()?;
            if block.number != cursor.number + 1 || block.parent_hash != cursor.hash {
                return Err(NodeError::Disconnected(format!(
                    "L1 block {} (parent {}) does not extend the cursor {} ({})",
                    block.number, block.parent_hash, cursor.number, cursor.hash
                )));
            }
            self.apply_l1_block(block, outcome)?;
            outcome.committed_l1_blocks += 1;
        }
        // What this notification finished: the cursor it moved to, or, for a chain that ends
        // below the cursor (a re-delivery, or blocks from before the rollup's origin), that
        // chain's own tip. Reporting the cursor for an old chain tells the host that blocks it
        // still holds for us are done, and reth's ExEx manager then skips them one per new L1
        // block: a fresh `--rollup.dev` devnet, whose deployment blocks sit below its origin,
        // saw its first L1 notification about 15 s after it started, most of its 20-block
        // sequencing window.
        let cursor = self.l1_cursor()?;
        outcome.finished_height = Some(match new.blocks().last() {
            Some(tip) if tip.number < cursor.number => BlockNumHash {
                number: tip.number,
                hash: tip.hash,
            },
            _ => cursor,
        });
        Ok(())
    }

    /// Processes one L1 block in one MDBX transaction: records it with its deposits, derives
    /// safe L2 blocks from the inbox records it appended, and moves the L1 cursor.
    fn apply_l1_block(&mut self, block: &L1Block, outcome: &mut NotificationOutcome) -> Result<()> {
        let derived = derive_deposits(&self.config, block);
        for skipped in &derived.skipped {
            warn!(
                target: "rollup::derive",
                l1_block = block.number, log_index = skipped.log_index, reason = ?skipped.reason,
                "bridge log skipped by the deposit rules"
            );
        }
        metrics::counter!("rollup_deposits_skipped_total").increment(derived.skipped.len() as u64);
        metrics::counter!("rollup_deposits_total").increment(derived.deposits.len() as u64);

        let mut writer = self.store.writer()?;
        let safe_before = writer.safe_head()?;
        let parent_record = writer.l1_block(block.number - 1)?;
        let next_deposit_nonce = check_deposit_nonces(
            &self.config,
            block,
            parent_record
                .as_ref()
                .and_then(|record| record.next_deposit_nonce),
        )
        .inspect_err(|gap| {
            metrics::counter!("rollup_deposit_nonce_gaps_total").increment(1);
            tracing::error!(target: "rollup::derive", %gap, "deposit missing from L1 data; derivation stops");
        })?;
        let mut record = L1BlockRecord {
            block: block.num_hash(),
            timestamp: block.timestamp,
            mix_hash: block.mix_hash,
            safe_l2_head: safe_before,
            deposits: derived.deposits,
            next_deposit_nonce,
            next_inbox_record: parent_record
                .as_ref()
                .map_or(0, |record| record.next_inbox_record),
        };
        writer.record_l1_block(&record)?;
        let mut derivation = L1BlockDerivation {
            batches: Vec::new(),
            deposits: deposit_origins(&self.config, block, &record.deposits),
        };
        let records = extract_inbox_records(&self.config, block).map_err(|err| {
            tracing::error!(target: "rollup::derive", %err, "inbox data missing from L1; derivation stops");
            NodeError::InboxData(err.to_string())
        })?;
        for inbox_record in records {
            let batch_record = self.derive_record(
                &mut writer,
                block.number,
                record.next_inbox_record,
                &inbox_record,
                outcome,
            )?;
            derivation.batches.push(batch_record);
            record.next_inbox_record = inbox_record.index + 1;
        }
        record.safe_l2_head = writer.safe_head()?;
        writer.record_l1_block(&record)?;
        writer.record_l1_derivation(block.number, &derivation)?;
        writer.commit()?;
        outcome.safe_l2_blocks += record.safe_l2_head.saturating_sub(safe_before);
        debug!(
            target: "rollup::node",
            l1_block = block.number, deposits = record.deposits.len(), safe_l2 = record.safe_l2_head,
            "processed L1 block"
        );
        Ok(())
    }

    /// Derives the blocks of one inbox record on top of the safe head. The inbox checked the
    /// record's blocks at posting (numbers, origins, timestamps, deposits); a segment that does
    /// not decode empties its blocks. A block spanning records is derived from all its parts
    /// when the record that closes it arrives (a batch continuing it, or `forceInclude`); a
    /// record leaving its last block open keeps that block's part in the store until then.
    /// Anything that contradicts the inbox's checks means the L1 data or this node is wrong,
    /// and stops derivation.
    fn derive_record(
        &mut self,
        writer: &mut StoreWriter,
        inclusion: u64,
        expected_index: u64,
        inbox_record: &InboxRecord,
        outcome: &mut NotificationOutcome,
    ) -> Result<BatchRecord> {
        let inconsistent = |what: String| {
            tracing::error!(target: "rollup::derive", l1_block = inclusion, index = inbox_record.index, %what, "inbox record contradicts the node; derivation stops");
            NodeError::InboxData(format!(
                "inbox record {} in L1 block {inclusion}: {what}",
                inbox_record.index
            ))
        };
        if inbox_record.index != expected_index {
            // The inbox numbers its records one by one, in the L1 blocks that carry them: a
            // gap means this L1 counts a record no block of its chain carries (an L1 restored
            // from a state saved in the middle of a block, as a killed anvil can leave).
            return Err(inconsistent(format!(
                "expected record {expected_index} next: this L1 counts inbox records that no block of its chain carries (an L1 node restored from a state saved in the middle of a block, as a killed anvil can leave); this node cannot follow it: point it at an L1 node whose chain holds every record"
            )));
        }
        let mut record = BatchRecord {
            tx_hash: inbox_record.tx_hash,
            tx_index: inbox_record.tx_index as u32,
            bytes: inbox_record
                .data
                .as_ref()
                .map_or(0, |data| data.len() as u32),
            first_l2_block: inbox_record.first_block,
            l2_blocks: 0,
            transactions: 0,
            outcome: BatchOutcome::Derived,
        };
        let mut safe = writer.safe_head()?;
        // The parts of the block earlier records left open, oldest first.
        let open_parts = open_block_parts(writer, inbox_record.index, safe + 1)?;
        // This record replaces whatever an earlier record at its index (since unwound) left.
        writer.set_open_block_part(inbox_record.index, None)?;
        if !open_parts.is_empty() && inbox_record.first_block == safe + 2 {
            // `forceInclude` closed the open block with the parts posted.
            if inbox_record.data.is_some() {
                return Err(inconsistent(format!(
                    "a batch skips L2 block {} that earlier records left open",
                    safe + 1
                )));
            }
            let last = open_parts.last().expect("not empty");
            let (timestamp, l1_origin) = (last.timestamp, last.l1_origin);
            let (transactions, complete) = joined_parts(&open_parts, Vec::new(), true)
                .map_err(|err| inconsistent(format!("stored open block part: {err}")))?;
            let block = BatchBlock {
                timestamp,
                l1_origin,
                transactions: if complete { transactions } else { Vec::new() },
            };
            record.transactions +=
                self.derive_block(writer, block, last.closed_here, None, inclusion, outcome)?;
            record.l2_blocks += 1;
            safe += 1;
        }
        if inbox_record.first_block != safe + 1 {
            return Err(inconsistent(format!(
                "starts at L2 block {}, but the safe head is {safe}",
                inbox_record.first_block
            )));
        }
        let (parent, safe_parent) = parent_of_next(writer, safe)?;
        let batch_parent = BatchParent {
            timestamp: parent.timestamp,
            l1_origin: safe_parent.l1_origin,
        };
        let blocks = match &inbox_record.data {
            None => {
                // Forced blocks: one per epoch, each with that epoch's deposits, at the
                // timestamps the inbox computed the same way.
                let mut blocks = Vec::new();
                let mut previous = safe_parent;
                for _ in 0..inbox_record.block_count {
                    let origin = previous.l1_origin + 1;
                    let origin_timestamp = writer
                        .l1_block(origin)?
                        .ok_or_else(|| inconsistent(format!("forces unknown L1 origin {origin}")))?
                        .timestamp;
                    let timestamp =
                        previous.next_free_timestamp(previous.timestamp.max(origin_timestamp));
                    blocks.push((
                        BatchBlock {
                            timestamp,
                            l1_origin: origin,
                            transactions: Vec::new(),
                        },
                        true,
                    ));
                    previous = previous.child(timestamp, origin);
                }
                metrics::counter!("rollup_forced_blocks_total").increment(blocks.len() as u64);
                blocks
            }
            Some(data) => {
                // A blob batch's segment commitment (its versioned hashes) was checked against
                // the blobs when the record was read.
                let (envelope, segments_match) = match &inbox_record.blob_data {
                    Some(blob_data) => (BatchEnvelope::parse_blob(data, blob_data), true),
                    None => (BatchEnvelope::parse(data), false),
                };
                let envelope = envelope
                    .map_err(|err| inconsistent(format!("envelope does not parse: {err}")))?;
                if segments_match {
                    // A blob batch's size is its envelope and its segments, as a calldata one's.
                    record.bytes = (data.len() + envelope.segment_bytes) as u32;
                }
                if envelope.first_block != inbox_record.first_block
                    || envelope.deposit_count != inbox_record.deposit_count
                    || envelope.blocks_hash != inbox_record.blocks_hash
                    || envelope.last_block_open != inbox_record.last_block_open
                    || !(segments_match || envelope.segment_root() == inbox_record.segment_root)
                {
                    return Err(inconsistent(
                        "the data's envelope differs from what the inbox recorded of it".into(),
                    ));
                }
                let (blocks, failed) = envelope.decode_parts(batch_parent, self.config.l2_chain_id);
                if !failed.is_empty() {
                    let reasons = failed
                        .iter()
                        .map(|(index, err)| format!("segment {index}: {err}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    warn!(target: "rollup::derive", l1_block = inclusion, index = inbox_record.index, %reasons, "segments do not decode; their blocks are derived empty");
                    metrics::counter!("rollup_bad_segments_total").increment(failed.len() as u64);
                    outcome.bad_segments += failed.len() as u64;
                    record.outcome = BatchOutcome::Dropped(format!("blocks emptied: {reasons}"));
                }
                blocks
            }
        };
        if blocks.len() as u64 != inbox_record.block_count {
            return Err(inconsistent(format!(
                "{} blocks recorded, {} in the data",
                inbox_record.block_count,
                blocks.len()
            )));
        }
        let count = blocks.len();
        let mut last_origin = None;
        for (position, (batch_block, complete)) in blocks.into_iter().enumerate() {
            last_origin = Some(batch_block.l1_origin);
            let derivation = BlockDerivation {
                batch: inbox_record.data_hash,
                inbox_record: inbox_record.index,
                block_in_record: position as u64,
                l1_block: inclusion,
            };
            if position + 1 == count && inbox_record.last_block_open {
                // Kept until a later record closes the block.
                let part = OpenBlockPart {
                    l2_block: inbox_record.first_block + position as u64,
                    timestamp: batch_block.timestamp,
                    l1_origin: batch_block.l1_origin,
                    closed_here: derivation,
                    transactions: complete.then(|| {
                        batch_block
                            .transactions
                            .iter()
                            .map(Encodable2718::encoded_2718)
                            .collect()
                    }),
                };
                writer.set_open_block_part(inbox_record.index, Some(&part))?;
                break;
            }
            let (transactions, complete) = if position == 0 && !open_parts.is_empty() {
                joined_parts(&open_parts, batch_block.transactions, complete)
                    .map_err(|err| inconsistent(format!("stored open block part: {err}")))?
            } else {
                (batch_block.transactions, complete)
            };
            let batch_block = BatchBlock {
                transactions: if complete { transactions } else { Vec::new() },
                ..batch_block
            };
            // The inbox checked these at posting; a forced block is exempt from the window (it
            // is what the window's closing allows) and from the drift.
            let window_inclusion = inbox_record.data.is_some().then_some(if position == 0 {
                inclusion
            } else {
                batch_block.l1_origin
            });
            record.transactions += self.derive_block(
                writer,
                batch_block,
                derivation,
                window_inclusion,
                inclusion,
                outcome,
            )?;
            record.l2_blocks += 1;
        }
        // The inbox checked the deposit count against the bridge's chain of messages.
        if last_origin != Some(inbox_record.last_origin) {
            return Err(inconsistent(format!(
                "last origin {} recorded, {last_origin:?} derived",
                inbox_record.last_origin
            )));
        }
        if let Some(consumed) = writer
            .l1_block(inbox_record.last_origin)?
            .and_then(|origin| origin.next_deposit_nonce)
            && consumed != inbox_record.deposit_count
        {
            return Err(inconsistent(format!(
                "{} bridge messages recorded up to L1 block {}, {consumed} derived",
                inbox_record.deposit_count, inbox_record.last_origin
            )));
        }
        Ok(record)
    }

    /// Derives one block on top of the safe head: its deposits (when it starts an epoch), its
    /// batch transactions whose signatures recover, consolidated with the unsafe chain.
    /// `window_inclusion` is the L1 block the sequencing window is checked against (`None`
    /// for a forced block, which the window's closing allows). Returns the signed
    /// transactions it kept.
    fn derive_block(
        &mut self,
        writer: &mut StoreWriter,
        batch_block: BatchBlock,
        derivation: BlockDerivation,
        window_inclusion: Option<u64>,
        inclusion: u64,
        outcome: &mut NotificationOutcome,
    ) -> Result<u32> {
        let safe = writer.safe_head()?;
        let inconsistent = |what: String| {
            tracing::error!(target: "rollup::derive", l1_block = inclusion, index = derivation.inbox_record, %what, "inbox record contradicts the node; derivation stops");
            NodeError::InboxData(format!(
                "inbox record {} in L1 block {inclusion}: {what}",
                derivation.inbox_record
            ))
        };
        let (_, safe_parent) = parent_of_next(writer, safe)?;
        let origin = writer
            .l1_block(batch_block.l1_origin)?
            .ok_or_else(|| inconsistent(format!("unknown L1 origin {}", batch_block.l1_origin)))?;
        if let Some(window_inclusion) = window_inclusion {
            check_batch_block(
                &self.config,
                safe_parent,
                batch_block.l1_origin,
                origin.timestamp,
                batch_block.timestamp,
                window_inclusion,
            )
            .map_err(|err| inconsistent(format!("block {}: {err}", safe + 1)))?;
        }
        let mut transactions = Vec::with_capacity(batch_block.transactions.len() + 4);
        if batch_block.l1_origin == safe_parent.l1_origin + 1 {
            transactions.extend(origin.deposits.iter().cloned().map(L2Transaction::Deposit));
        }
        let mut signed = 0u32;
        // The unsafe block at this height, decoded once for both the senders and the
        // comparison that decides whether it is kept.
        let stored = writer.body(safe + 1)?;
        let senders = match stored_senders(stored.as_deref(), &batch_block.transactions) {
            Some(senders) => senders.into_iter().map(Ok).collect(),
            None => recover_signers(&batch_block.transactions),
        };
        for (envelope, sender) in batch_block.transactions.into_iter().zip(senders) {
            // A signature that does not recover is skipped like any invalid transaction.
            match sender {
                Ok(sender) => {
                    signed += 1;
                    transactions.push(L2Transaction::Signed { envelope, sender });
                }
                Err(err) => {
                    metrics::counter!("rollup_batch_transactions_skipped_total").increment(1);
                    warn!(target: "rollup::derive", l1_block = inclusion, block = safe + 1, tx = %envelope.tx_hash(), %err, "signature does not recover; transaction skipped");
                }
            }
        }
        let attributes = Attributes {
            timestamp: batch_block.timestamp,
            origin,
            transactions,
            derivation,
        };
        self.consolidate(writer, attributes, stored, outcome)?;
        Ok(signed)
    }

    /// Makes the block described by `attributes` the next safe block: if the unsafe chain
    /// already holds exactly that block it is reused, otherwise the unsafe chain from there is
    /// replaced by executing `attributes`. `stored` is the body of the unsafe block at that
    /// height, as the caller read it from `writer`.
    fn consolidate(
        &mut self,
        writer: &mut StoreWriter,
        attributes: Attributes,
        stored: Option<Vec<L2Transaction>>,
        outcome: &mut NotificationOutcome,
    ) -> Result<B256> {
        let safe = writer.safe_head()?;
        let number = safe + 1;
        if let Some(existing) = writer.header(number)? {
            let same = existing.timestamp == attributes.timestamp
                && origin_of(&existing)? == attributes.origin.block
                && stored.is_some_and(|body| {
                    body.iter()
                        .map(L2Transaction::hash)
                        .eq(attributes.transactions.iter().map(L2Transaction::hash))
                });
            if same {
                writer.set_safe_head(number)?;
                writer.set_block_derivation(number, &attributes.derivation)?;
                return Ok(writer.block_hash(number)?.unwrap_or_default());
            }
            let unwound = self.unwind_unsafe(writer, safe)?;
            outcome.unwound_l2_blocks += unwound;
            warn!(target: "rollup::derive", from = number, unwound, "derived block differs from the unsafe chain; replacing it");
        } else if writer.l2_head()? != safe {
            return Err(NodeError::Storage(StorageError::Inconsistent(format!(
                "no L2 block {number} but head above safe {safe}"
            ))));
        }
        let derivation = attributes.derivation;
        let (hash, ..) = self.execute_append(writer, attributes)?;
        writer.set_safe_head(number)?;
        writer.set_block_derivation(number, &derivation)?;
        Ok(hash)
    }

    /// Executes `attributes` on top of the L2 head and appends the block; returns its hash and
    /// the execution's outcome (with the sealed block, its state root set).
    fn execute_append(
        &self,
        writer: &mut StoreWriter,
        attributes: Attributes,
    ) -> Result<(B256, ExecutedBlock)> {
        let head = writer.l2_head()?;
        let parent = writer
            .header(head)?
            .ok_or_else(|| missing(format!("header {head}")))?;
        let parent_hash = writer.block_hash(head)?.unwrap_or_default();
        let input = BlockInput {
            parent,
            parent_hash,
            timestamp: attributes.timestamp,
            l1_origin: attributes.origin.block,
            prevrandao: attributes.origin.mix_hash,
            beneficiary: Address::ZERO,
            gas_limit: self.config.genesis.gas_limit,
            chain_id: self.config.l2_chain_id,
            transactions: attributes.transactions,
        };
        let started = std::time::Instant::now();
        let mut executed = execute_block(writer.state(), input)?;
        metrics::histogram!("rollup_block_execution_seconds").record(started.elapsed());
        let started = std::time::Instant::now();
        let hash =
            writer.append_block(&mut executed.block, &executed.receipts, &executed.bundle)?;
        // The state root, the block's hashes and every table write (not yet committed).
        metrics::histogram!("rollup_block_append_seconds").record(started.elapsed());
        Ok((hash, executed))
    }

    /// Whether a block built at `now` would adopt a new L1 origin (whose deposits must then be
    /// included): the sequencer builds such a block even with an empty pool.
    pub fn next_origin_ready(&self, now: u64) -> Result<bool> {
        let reader = self.store.reader()?;
        let head = reader.l2_head()?.unwrap_or_default();
        let parent = reader
            .header(head)?
            .ok_or_else(|| missing(format!("header {head}")))?;
        let origin = origin_of(&parent)?;
        // The chain's time, not only the clock's: see `build_block`.
        let clock = now.max(parent.timestamp);
        Ok(reader
            .l1_block(origin.number + 1)?
            .is_some_and(|next| clock >= next.timestamp))
    }

    /// Removes L2 blocks above `number`, keeping their signed transactions for
    /// [`Self::take_orphaned_transactions`].
    fn unwind_unsafe(&mut self, writer: &mut StoreWriter, number: u64) -> Result<u64> {
        for block in number + 1..=writer.l2_head()? {
            if let Some(body) = writer.body(block)? {
                self.orphaned
                    .extend(body.into_iter().filter(|tx| !tx.is_deposit()));
            }
        }
        Ok(writer.unwind_l2_to(number)?)
    }

    /// Signed transactions of unsafe blocks that an L1 reorg or derivation removed since the
    /// last call. The sequencer offers them to its pool again (which re-validates them), so a
    /// reorg does not silently drop users' transactions. Only meaningful right after the MDBX
    /// transaction that removed them committed; a failed transaction may leave stale entries,
    /// which the pool rejects.
    pub fn take_orphaned_transactions(&mut self) -> Vec<L2Transaction> {
        std::mem::take(&mut self.orphaned)
    }

    /// Sequencer: builds the next unsafe block on the L2 head from `transactions` at wall-clock
    /// time `now` (seconds). Adopts the next L1 origin when the node has processed it and its
    /// time has come, putting that origin's deposits first. Returns `None` when no block may be
    /// built now (L1 has stalled for longer than the allowed drift).
    pub fn build_block(
        &mut self,
        transactions: Vec<L2Transaction>,
        now: u64,
    ) -> Result<Option<SequencedBlock>> {
        let mut writer = self.store.writer()?;
        let head = writer.l2_head()?;
        let (parent, parent_rule) = parent_of_next(&writer, head)?;
        let parent_origin = origin_of(&parent)?;
        // The chain's time can be ahead of this machine's clock: blocks a batch or forced
        // records dated ahead (up to the drift past their origins), or a clock behind L1's.
        // Origins then follow the chain's time, not the clock's, which would hold them back
        // until the clock caught up.
        let clock = now.max(parent.timestamp);
        let (origin, new_epoch) = match writer.l1_block(parent_origin.number + 1)? {
            Some(next) if clock >= next.timestamp => (next, true),
            _ => (
                writer
                    .l1_block(parent_origin.number)?
                    .ok_or_else(|| missing(format!("L1 block {}", parent_origin.number)))?,
                false,
            ),
        };
        let mut timestamp = clock.max(origin.timestamp);
        let ahead = timestamp > now;
        if parent_rule.next_free_timestamp(timestamp) != timestamp {
            if !ahead {
                // MAX_L2_BLOCKS_PER_SECOND blocks already carry this second: wait for the next.
                return Ok(None);
            }
            // That second is full and ahead of the clock: waiting for the clock would stall the
            // chain until it got there (minutes, after a batch dated ahead). Take the next free
            // second while the drift allows, as `forceInclude` does.
            timestamp = parent_rule.next_free_timestamp(timestamp);
            if timestamp > origin.timestamp + self.config.max_sequencer_drift {
                return Ok(None);
            }
        }
        if ahead {
            // One block per second of the clock while ahead: ten blocks take an L2 second, so
            // the lead shrinks by nine tenths of a second each second instead of lasting.
            if self.ahead_of_clock == Some(now) {
                return Ok(None);
            }
            if self.ahead_of_clock.is_none() {
                warn!(
                    target: "rollup::sequencer",
                    ahead_seconds = timestamp - now, l2_block = head + 1,
                    "the chain's time is ahead of this machine's clock (blocks dated ahead, or this clock behind L1's): one block per second until the clock catches up; if this repeats, check the clock against L1's block times"
                );
            }
            self.ahead_of_clock = Some(now);
        } else if self.ahead_of_clock.take().is_some() {
            info!(target: "rollup::sequencer", l2_block = head + 1, "the clock caught up with the chain's time; sequencing at the block interval again");
        }
        let mut transactions = transactions;
        let mut held_back = Vec::new();
        let catching_up = timestamp > origin.timestamp + self.config.max_sequencer_drift;
        if catching_up {
            // Behind L1 by more than the drift (the sequencer was down, or its L1 view lags):
            // no block may carry `now`. Build a catch-up block in the past instead, at the new
            // origin's time, with its deposits and no user transactions, as op-node does; each
            // adopts the next L1 origin until the chain is back within the drift of L1's head.
            if !new_epoch {
                warn!(target: "rollup::sequencer", origin = origin.block.number, "L1 origin too old for the drift limit and no newer L1 block known; waiting for L1");
                return Ok(None);
            }
            timestamp = parent_rule.next_free_timestamp(parent.timestamp.max(origin.timestamp));
            if timestamp > origin.timestamp + self.config.max_sequencer_drift {
                return Ok(None);
            }
            held_back = transactions.iter().map(L2Transaction::hash).collect();
            transactions.clear();
            metrics::counter!("rollup_sequencer_catch_up_blocks_total").increment(1);
        }
        let mut all = Vec::with_capacity(transactions.len() + origin.deposits.len());
        if new_epoch {
            all.extend(origin.deposits.iter().cloned().map(L2Transaction::Deposit));
        }
        all.extend(transactions);
        let attributes = Attributes {
            timestamp,
            origin,
            transactions: all,
            derivation: BlockDerivation::default(),
        };
        let (hash, executed) = self.execute_append(&mut writer, attributes)?;
        // Only what can be posted becomes unsafe: a block no batch can carry would stall the
        // batcher and, once the sequencing window closes, be replaced by derivation.
        let started = std::time::Instant::now();
        let encoded = encode_alone(&executed.block, new_epoch, self.data_path);
        metrics::histogram!("rollup_block_batch_check_seconds").record(started.elapsed());
        let batch_bytes = match encoded {
            Ok(bytes) => bytes,
            Err(reason) => {
                drop(writer);
                let rejected = executed
                    .block
                    .transactions
                    .iter()
                    .filter(|tx| {
                        matches!(tx, L2Transaction::Signed { .. })
                            && encode_alone(
                                &L2Block {
                                    header: executed.block.header.clone(),
                                    transactions: vec![(*tx).clone()],
                                },
                                false,
                                self.data_path,
                            )
                            .is_err()
                    })
                    .map(L2Transaction::hash)
                    .collect();
                return Err(NodeError::Unbatchable {
                    number: head + 1,
                    reason,
                    rejected,
                });
            }
        };
        let l1_origin = origin_of(&executed.block.header)?.number;
        let started = std::time::Instant::now();
        writer.commit()?;
        metrics::histogram!("rollup_block_commit_seconds").record(started.elapsed());
        self.publish_heads()?;
        Ok(Some(SequencedBlock {
            number: head + 1,
            hash,
            transactions: executed.block.transactions,
            receipts: executed.receipts,
            deferred: executed.deferred.into_iter().chain(held_back).collect(),
            catching_up,
            batch_bytes,
            l1_origin,
        }))
    }

    /// The unposted blocks `from..=to` (normally the unsafe blocks above the safe head) as
    /// `(number, L1 origin number, size encoded alone as a batch)`, for a sequencer that lost
    /// its in-memory account of them (a restart). A block that no longer encodes counts as a
    /// full batch, so an error never hides backlog.
    pub fn pending_batch_sizes(&self, from: u64, to: u64) -> Result<Vec<(u64, u64, usize)>> {
        let reader = self.store.reader()?;
        let mut out = Vec::new();
        let mut previous_origin = match reader.header(from.saturating_sub(1))? {
            Some(header) => Some(origin_of(&header)?.number),
            None => None,
        };
        for number in from..=to {
            let (Some(header), Some(transactions)) = (reader.header(number)?, reader.body(number)?)
            else {
                break;
            };
            let origin = origin_of(&header)?.number;
            let new_epoch = previous_origin != Some(origin);
            previous_origin = Some(origin);
            let bytes = encode_alone(
                &L2Block {
                    header,
                    transactions,
                },
                new_epoch,
                self.data_path,
            )
            .unwrap_or(rollup_primitives::MAX_BATCH_SIZE);
            out.push((number, origin, bytes));
        }
        Ok(out)
    }

    /// Drives the core from a notification stream until `cancel` fires or the stream ends.
    /// Each committed tip is sent on `finished` after it is durably stored; L1's finalized
    /// block, as `l1_finalized` reports it, moves the finalized head.
    pub async fn run(
        &mut self,
        mut notifications: mpsc::Receiver<L1Notification>,
        finished: mpsc::UnboundedSender<BlockNumHash>,
        mut l1_finalized: L1Finalized,
        cancel: CancellationToken,
    ) -> Result<()> {
        loop {
            let notification = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                finalized = l1_finalized.changed() => {
                    // A small MDBX write, but a write: off the async workers, as the others.
                    tokio::task::block_in_place(|| self.set_l1_finalized(finalized))?;
                    continue;
                }
                next = notifications.recv() => match next {
                    Some(notification) => notification,
                    None => return Ok(()),
                },
            };
            let outcome = tokio::task::block_in_place(|| self.handle_notification(&notification))?;
            // No sequencer here to offer them again.
            self.orphaned.clear();
            if let Some(height) = outcome.finished_height {
                let _ = finished.send(height);
            }
        }
    }
}
