//! The host seam: L1 blocks and the notifications that carry them, shaped like reth's ExEx
//! notifications so the same core runs inside reth and behind a JSON-RPC follower.

use std::sync::Arc;

use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, Bytes, Log};
use serde::{Deserialize, Serialize};

/// An L1 transaction: only the fields derivation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1Transaction {
    /// Transaction hash.
    pub hash: B256,
    /// Recovered sender.
    pub from: Address,
    /// Recipient (`None` for contract creation).
    pub to: Option<Address>,
    /// Calldata.
    pub input: Bytes,
    /// EIP-4844 versioned blob hashes, if any.
    #[serde(default)]
    pub blob_versioned_hashes: Vec<B256>,
    /// The blobs themselves, in the order of `blob_versioned_hashes`, each checked against its
    /// hash: attached by the L1 source to the batch transactions derivation reads (the
    /// `BatchInbox`'s), empty for every other transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<Bytes>,
}

/// The receipt of an L1 transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1Receipt {
    /// Whether the transaction succeeded. Logs of failed transactions are never derived from.
    pub success: bool,
    /// Logs in emission order.
    pub logs: Vec<Log>,
}

/// An L1 block with its transactions and receipts (one receipt per transaction, same order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1Block {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// `prevrandao` of the block (the header's mix hash).
    pub mix_hash: B256,
    /// Base fee per gas, if London is active.
    pub base_fee_per_gas: Option<u64>,
    /// Transactions.
    pub transactions: Vec<L1Transaction>,
    /// Receipts, one per transaction.
    pub receipts: Vec<L1Receipt>,
}

impl L1Block {
    /// The block's number and hash.
    pub const fn num_hash(&self) -> BlockNumHash {
        BlockNumHash {
            number: self.number,
            hash: self.hash,
        }
    }

    /// The parent's number and hash. The genesis block has number 0 and reports itself.
    pub const fn parent_num_hash(&self) -> BlockNumHash {
        BlockNumHash {
            number: self.number.saturating_sub(1),
            hash: self.parent_hash,
        }
    }

    /// Iterates over `(log_index_in_block, log)` of successful transactions only.
    ///
    /// The log index counts logs of *all* receipts, as Ethereum's `logIndex` does, so it is the
    /// same index users see in `eth_getLogs`.
    pub fn successful_logs(&self) -> impl Iterator<Item = (u64, &Log)> {
        let mut index = 0u64;
        self.receipts.iter().flat_map(move |receipt| {
            let start = index;
            index += receipt.logs.len() as u64;
            let success = receipt.success;
            receipt
                .logs
                .iter()
                .enumerate()
                .filter(move |_| success)
                .map(move |(i, log)| (start + i as u64, log))
        })
    }
}

/// A contiguous, ascending run of L1 blocks, each the child of the one before.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct L1Chain {
    blocks: Vec<L1Block>,
}

impl L1Chain {
    /// Builds a chain, checking that the blocks are contiguous and linked by parent hash.
    pub fn new(blocks: Vec<L1Block>) -> Result<Self, String> {
        if blocks.is_empty() {
            return Err("an L1 chain needs at least one block".into());
        }
        for pair in blocks.windows(2) {
            let (parent, child) = (&pair[0], &pair[1]);
            if child.number != parent.number + 1 || child.parent_hash != parent.hash {
                return Err(format!(
                    "L1 block {} ({}) does not extend block {} ({})",
                    child.number, child.hash, parent.number, parent.hash
                ));
            }
        }
        Ok(Self { blocks })
    }

    /// The blocks, ascending.
    pub fn blocks(&self) -> &[L1Block] {
        &self.blocks
    }

    /// The first (lowest) block.
    pub fn first(&self) -> &L1Block {
        &self.blocks[0]
    }

    /// The last (highest) block: the chain's tip.
    pub fn tip(&self) -> &L1Block {
        self.blocks.last().expect("chains are never empty")
    }

    /// Number of blocks.
    pub const fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Always false: chains are never empty.
    pub const fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

/// A change of the canonical L1 chain, as reth's `ExExNotification` reports it.
///
/// Consumers handle the reverted chain first, then the committed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum L1Notification {
    /// New blocks extend the canonical chain.
    Committed {
        /// The new blocks.
        new: Arc<L1Chain>,
    },
    /// `old` left the canonical chain and `new` replaced it (same fork point).
    Reorged {
        /// Blocks no longer canonical.
        old: Arc<L1Chain>,
        /// Their replacement.
        new: Arc<L1Chain>,
    },
    /// Blocks left the canonical chain with no replacement yet.
    Reverted {
        /// Blocks no longer canonical.
        old: Arc<L1Chain>,
    },
}

impl L1Notification {
    /// The chain this notification reverts, if any.
    pub fn reverted_chain(&self) -> Option<&Arc<L1Chain>> {
        match self {
            Self::Reorged { old, .. } | Self::Reverted { old } => Some(old),
            Self::Committed { .. } => None,
        }
    }

    /// The chain this notification commits, if any.
    pub fn committed_chain(&self) -> Option<&Arc<L1Chain>> {
        match self {
            Self::Committed { new } | Self::Reorged { new, .. } => Some(new),
            Self::Reverted { .. } => None,
        }
    }
}
