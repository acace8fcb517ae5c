//! Notification handling.

use std::sync::Arc;

use alloy_primitives::Address;
use rollup_derive::derive_deposits;
use rollup_execution::{BlockInput, execute_block};
use rollup_primitives::{
    BlockNumHash, Heads, L1Block, L1Chain, L1Notification, L2Transaction, RollupConfig,
};
use rollup_storage::Store;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{NodeError, Result};

/// What handling one notification did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationOutcome {
    /// L1 blocks whose effects were removed.
    pub reverted_l1_blocks: u64,
    /// L2 blocks removed by those reverts.
    pub unwound_l2_blocks: u64,
    /// L1 blocks newly processed.
    pub committed_l1_blocks: u64,
    /// L1 blocks skipped because they were already processed (re-delivery).
    pub duplicate_l1_blocks: u64,
    /// The height to report to the host as finished (`FinishedHeight`), set once the
    /// committed chain's tip is durably stored.
    pub finished_height: Option<BlockNumHash>,
}

/// The rollup core.
#[derive(Debug)]
pub struct RollupNode {
    config: Arc<RollupConfig>,
    store: Store,
    heads: watch::Sender<Heads>,
}

impl RollupNode {
    /// Opens the core on `store`, writing genesis on first start (or checking it matches).
    pub fn new(config: Arc<RollupConfig>, store: Store) -> Result<Self> {
        store.init_genesis(&config)?;
        let (heads, _) = watch::channel(Heads::default());
        let node = Self {
            config,
            store,
            heads,
        };
        node.publish_heads()?;
        let cursor = node.l1_cursor()?;
        let head = node.heads.borrow().unsafe_l2;
        info!(target: "rollup::node", l1_cursor = cursor.number, l2_head = head.number, "rollup core ready");
        Ok(node)
    }

    /// The store.
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// The config.
    pub fn config(&self) -> &Arc<RollupConfig> {
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
    /// restart.
    pub fn recent_l1_blocks(&self, limit: usize) -> Result<Vec<BlockNumHash>> {
        Ok(self
            .store
            .reader()?
            .recent_l1_blocks(limit)?
            .into_iter()
            .map(|r| r.block)
            .collect())
    }

    /// Records the newest finalized L1 block; the finalized L2 head follows it.
    pub fn set_l1_finalized(&mut self, l1_finalized: BlockNumHash) -> Result<()> {
        self.heads
            .send_modify(|heads| heads.l1_finalized = l1_finalized);
        self.publish_heads()
    }

    fn publish_heads(&self) -> Result<()> {
        let reader = self.store.reader()?;
        let head = reader.l2_head()?.unwrap_or_default();
        let head_hash = reader.block_hash(head)?.unwrap_or_default();
        let l1_cursor = reader.l1_cursor()?.unwrap_or_default();
        let l1_finalized = self.heads.borrow().l1_finalized;
        // The finalized L2 head is the L2 head after the newest processed L1 block that is
        // finalized on L1 (and still the block we processed at that height).
        let mut finalized_l2 = BlockNumHash {
            number: 0,
            hash: reader.block_hash(0)?.unwrap_or_default(),
        };
        let finalized_l1 = l1_finalized.number.min(l1_cursor.number);
        if let Some(record) = reader.l1_block(finalized_l1)?
            && (finalized_l1 < l1_finalized.number || record.block.hash == l1_finalized.hash)
        {
            finalized_l2 = BlockNumHash {
                number: record.l2_head,
                hash: reader.block_hash(record.l2_head)?.unwrap_or_default(),
            };
        }
        let unsafe_l2 = BlockNumHash {
            number: head,
            hash: head_hash,
        };
        metrics::gauge!("rollup_l2_head").set(head as f64);
        metrics::gauge!("rollup_l1_cursor").set(l1_cursor.number as f64);
        self.heads.send_modify(|heads| {
            heads.unsafe_l2 = unsafe_l2;
            heads.safe_l2 = unsafe_l2;
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
        if let Some(old) = notification.reverted_chain() {
            self.revert(old, &mut outcome)?;
        }
        if let Some(new) = notification.committed_chain() {
            self.commit(new, &mut outcome)?;
        }
        self.publish_heads()?;
        Ok(outcome)
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

    fn unwind_l1_from(&mut self, first: u64, outcome: &mut NotificationOutcome) -> Result<()> {
        let cursor = self.l1_cursor()?;
        let genesis_origin = self.config.genesis.l1_origin;
        if first <= genesis_origin.number {
            return Err(NodeError::Disconnected(format!(
                "L1 block {first} is at or below the rollup's L1 origin {}: the rollup's genesis itself was reorged out; redeploy",
                genesis_origin.number
            )));
        }
        let mut writer = self.store.writer()?;
        let below = writer.remove_l1_blocks_from(first)?;
        let unwound = writer.unwind_l2_to(below.l2_head)?;
        writer.commit()?;
        outcome.reverted_l1_blocks += cursor.number + 1 - first;
        outcome.unwound_l2_blocks += unwound;
        info!(
            target: "rollup::node",
            from_l1 = first, to_l1 = cursor.number, l2_head = below.l2_head, unwound_l2_blocks = unwound,
            "unwound L2 state for reverted L1 blocks"
        );
        Ok(())
    }

    fn commit(&mut self, new: &L1Chain, outcome: &mut NotificationOutcome) -> Result<()> {
        for block in new.blocks() {
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
                    None if block.number <= self.config.genesis.l1_origin.number => continue,
                    // The host says a different block is canonical at this height: ours is not.
                    _ => {
                        warn!(
                            target: "rollup::node",
                            l1_block = block.number, hash = %block.hash,
                            "committed L1 block replaces a stored one; unwinding to its parent first"
                        );
                        self.unwind_l1_from(block.number, outcome)?;
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
            self.apply_l1_block(block)?;
            outcome.committed_l1_blocks += 1;
        }
        outcome.finished_height = Some(self.l1_cursor()?);
        Ok(())
    }

    /// Derives and executes the L2 block of one L1 block, and stores it with the new cursor in
    /// one MDBX transaction.
    fn apply_l1_block(&mut self, block: &L1Block) -> Result<()> {
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
        let deposit_count = derived.deposits.len();

        let reader = self.store.reader()?;
        let head = reader.l2_head()?.unwrap_or_default();
        let parent = reader.header(head)?.ok_or_else(|| {
            rollup_storage::StorageError::NotFound(format!("header of L2 head {head}"))
        })?;
        let parent_hash = reader.block_hash(head)?.unwrap_or_default();
        let input = BlockInput {
            timestamp: block.timestamp.max(parent.timestamp),
            parent,
            parent_hash,
            l1_origin: block.num_hash(),
            prevrandao: block.mix_hash,
            beneficiary: Address::ZERO,
            gas_limit: self.config.genesis.gas_limit,
            chain_id: self.config.l2_chain_id,
            transactions: derived
                .deposits
                .into_iter()
                .map(L2Transaction::Deposit)
                .collect(),
        };
        let executed = execute_block(&reader, input)?;
        drop(reader);

        let mut writer = self.store.writer()?;
        let hash = writer.append_block(&executed.block, &executed.receipts, &executed.bundle)?;
        let l2_number = executed.block.number();
        writer.record_l1_block(block.num_hash(), l2_number)?;
        writer.commit()?;
        debug!(
            target: "rollup::node",
            l1_block = block.number, l2_block = l2_number, l2_hash = %hash, deposits = deposit_count,
            "derived L2 block"
        );
        if deposit_count > 0 {
            info!(target: "rollup::node", l1_block = block.number, l2_block = l2_number, deposits = deposit_count, "applied deposits");
        }
        Ok(())
    }

    /// Drives the core from a notification stream until `cancel` fires or the stream ends.
    /// Each committed tip is sent on `finished` after it is durably stored.
    pub async fn run(
        &mut self,
        mut notifications: mpsc::Receiver<L1Notification>,
        finished: mpsc::UnboundedSender<BlockNumHash>,
        cancel: CancellationToken,
    ) -> Result<()> {
        loop {
            let notification = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                next = notifications.recv() => match next {
                    Some(notification) => notification,
                    None => return Ok(()),
                },
            };
            let outcome = tokio::task::block_in_place(|| self.handle_notification(&notification))?;
            if let Some(height) = outcome.finished_height {
                let _ = finished.send(height);
            }
        }
    }
}
