//! JSON shapes served by the RPC: Ethereum's where one exists, OP Stack's for deposits.

use alloy_consensus::transaction::Recovered;
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use rollup_primitives::{Heads, L2Transaction, TxDeposit};
use serde::Serialize;

/// The L1 block an L2 block was derived from, as shown in blocks (hex quantities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct L1OriginJson {
    /// L1 block number.
    #[serde(with = "alloy_serde::quantity")]
    pub number: u64,
    /// L1 block hash.
    pub hash: B256,
}

impl From<BlockNumHash> for L1OriginJson {
    fn from(origin: BlockNumHash) -> Self {
        Self {
            number: origin.number,
            hash: origin.hash,
        }
    }
}

/// An L2 block: Ethereum's block object plus the non-standard `l1Origin`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcBlock {
    /// Header fields, `hash`, `size` and `totalDifficulty`.
    #[serde(flatten)]
    pub header: alloy_rpc_types_eth::Header,
    /// Always empty.
    pub uncles: Vec<B256>,
    /// Hashes or full transactions.
    pub transactions: BlockTransactionsJson,
    /// The L1 origin bound into `extraData` (`null` if it does not decode).
    pub l1_origin: Option<L1OriginJson>,
}

/// A block's transactions: hashes, or full objects.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BlockTransactionsJson {
    /// Transaction hashes.
    Hashes(Vec<B256>),
    /// Full transactions.
    Full(Vec<RpcTransaction>),
}

/// A mined transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RpcTransaction {
    /// A signed Ethereum transaction, in alloy's (= geth's) shape.
    Signed(Box<alloy_rpc_types_eth::Transaction>),
    /// A deposit, in the OP Stack's shape.
    Deposit(Box<DepositTransactionJson>),
}

/// Where a transaction sits in the chain.
#[derive(Debug, Clone, Copy)]
pub struct TxLocation {
    /// Block hash.
    pub block_hash: B256,
    /// Block number.
    pub block_number: u64,
    /// Index in the block.
    pub index: u64,
    /// The block's base fee.
    pub base_fee: Option<u64>,
}

impl RpcTransaction {
    /// The JSON object of `tx` at `location`; a deposit shows `deposit_nonce`, the nonce of its
    /// sender it used up (a signed transaction carries its own).
    pub fn new(tx: &L2Transaction, location: TxLocation, deposit_nonce: u64) -> Self {
        match tx {
            L2Transaction::Deposit(deposit) => Self::Deposit(Box::new(
                DepositTransactionJson::new(deposit, location, deposit_nonce),
            )),
            L2Transaction::Signed { envelope, sender } => {
                let info = alloy_consensus::transaction::TransactionInfo {
                    hash: Some(*envelope.tx_hash()),
                    index: Some(location.index),
                    block_hash: Some(location.block_hash),
                    block_number: Some(location.block_number),
                    base_fee: location.base_fee,
                    block_timestamp: None,
                };
                Self::Signed(Box::new(
                    alloy_rpc_types_eth::Transaction::from_transaction(
                        Recovered::new_unchecked(envelope.clone(), *sender),
                        info,
                    ),
                ))
            }
        }
    }
}

/// A deposit transaction (type `0x7e`) as the OP Stack serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositTransactionJson {
    /// Always `0x7e`.
    #[serde(rename = "type", with = "alloy_serde::quantity")]
    pub tx_type: u8,
    /// Transaction hash.
    pub hash: B256,
    /// Unique identity of the deposit.
    pub source_hash: B256,
    /// Sender.
    pub from: Address,
    /// Target.
    pub to: Address,
    /// Wei minted to `from`.
    #[serde(with = "alloy_serde::quantity")]
    pub mint: u128,
    /// Wei sent.
    pub value: U256,
    /// Gas limit.
    #[serde(with = "alloy_serde::quantity")]
    pub gas: u64,
    /// Calldata.
    pub input: Bytes,
    /// Always 0.
    #[serde(with = "alloy_serde::quantity")]
    pub nonce: u64,
    /// Always 0: deposits pay no gas fee.
    #[serde(with = "alloy_serde::quantity")]
    pub gas_price: u128,
    /// Signature placeholder (0).
    pub v: U256,
    /// Signature placeholder (0).
    pub r: U256,
    /// Signature placeholder (0).
    pub s: U256,
    /// Block hash.
    pub block_hash: B256,
    /// Block number.
    #[serde(with = "alloy_serde::quantity")]
    pub block_number: u64,
    /// Index in the block.
    #[serde(with = "alloy_serde::quantity")]
    pub transaction_index: u64,
}

impl DepositTransactionJson {
    /// The JSON object of `deposit` at `location`, which used up `nonce` of its sender.
    pub fn new(deposit: &TxDeposit, location: TxLocation, nonce: u64) -> Self {
        Self {
            tx_type: rollup_primitives::DEPOSIT_TX_TYPE,
            hash: deposit.hash(),
            source_hash: deposit.source_hash,
            from: deposit.from,
            to: deposit.to,
            mint: deposit.mint,
            value: deposit.value,
            gas: deposit.gas_limit,
            input: deposit.input.clone(),
            nonce,
            gas_price: 0,
            v: U256::ZERO,
            r: U256::ZERO,
            s: U256::ZERO,
            block_hash: location.block_hash,
            block_number: location.block_number,
            transaction_index: location.index,
        }
    }
}

/// A transaction receipt, for signed and deposit transactions alike.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcReceipt {
    /// EIP-2718 type.
    #[serde(rename = "type", with = "alloy_serde::quantity")]
    pub tx_type: u8,
    /// `0x1` on success, `0x0` on failure.
    #[serde(with = "alloy_serde::quantity")]
    pub status: u8,
    /// Gas used in the block up to and including this transaction.
    #[serde(with = "alloy_serde::quantity")]
    pub cumulative_gas_used: u64,
    /// Logs.
    pub logs: Vec<alloy_rpc_types_eth::Log>,
    /// Bloom of the logs.
    pub logs_bloom: Bloom,
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Index in the block.
    #[serde(with = "alloy_serde::quantity")]
    pub transaction_index: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block number.
    #[serde(with = "alloy_serde::quantity")]
    pub block_number: u64,
    /// Gas used by this transaction.
    #[serde(with = "alloy_serde::quantity")]
    pub gas_used: u64,
    /// Price per gas paid (0 for deposits).
    #[serde(with = "alloy_serde::quantity")]
    pub effective_gas_price: u128,
    /// Sender.
    pub from: Address,
    /// Target (`null` for creations).
    pub to: Option<Address>,
    /// Address of the created contract, if a creation.
    pub contract_address: Option<Address>,
    /// A deposit's: the nonce of its sender it used up (op-geth's field; absent otherwise).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "alloy_serde::quantity::opt"
    )]
    pub deposit_nonce: Option<u64>,
    /// A deposit's: `0x1`, the receipt version that carries [`Self::deposit_nonce`]
    /// (op-geth's field; absent otherwise).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "alloy_serde::quantity::opt"
    )]
    pub deposit_receipt_version: Option<u64>,
}

/// An L2 head with the L1 block it was derived from (decimal numbers, like [`Heads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct L2HeadJson {
    /// L2 block number.
    pub number: u64,
    /// L2 block hash.
    pub hash: B256,
    /// Its L1 origin (`null` if the block is not stored).
    pub l1_origin: Option<BlockNumHash>,
}

/// `rollup_syncStatus`: the node's [`Heads`], with each L2 head's L1 origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// Newest L2 block, possibly not yet posted to L1.
    pub unsafe_l2: L2HeadJson,
    /// Newest L2 block derived from L1 data.
    pub safe_l2: L2HeadJson,
    /// Newest L2 block derived from finalized L1 data.
    pub finalized_l2: L2HeadJson,
    /// The L1 cursor.
    pub l1_cursor: BlockNumHash,
    /// Newest finalized L1 block known.
    pub l1_finalized: BlockNumHash,
    /// On a sequencer: what it sequenced that is not yet derived from L1, and whether it takes
    /// transactions (absent on replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub da_backlog: Option<DaBacklogJson>,
}

/// The sequencer's L1 data backlog, in `rollup_syncStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaBacklogJson {
    /// Bytes of batch data sequenced but not yet derived from L1.
    pub bytes: u64,
    /// L2 blocks sequenced but not yet derived from L1.
    pub blocks: u64,
    /// True while the sequencer takes no transactions (the backlog is at the bound L1 can post
    /// in time).
    pub throttled: bool,
    /// Bytes of batch data it may still add: what L1 still carries, at the configured rate,
    /// before every pending block's sequencing window closes (margin kept). It throttles once
    /// this is less than one transaction's worth.
    pub headroom: u64,
}

impl SyncStatus {
    /// Combines `heads` with the L1 origin of each L2 head (`origin_of` returns `None` when a
    /// block is not stored).
    pub fn new(heads: &Heads, mut origin_of: impl FnMut(u64) -> Option<BlockNumHash>) -> Self {
        let mut head = |head: BlockNumHash| L2HeadJson {
            number: head.number,
            hash: head.hash,
            l1_origin: origin_of(head.number),
        };
        Self {
            unsafe_l2: head(heads.unsafe_l2),
            safe_l2: head(heads.safe_l2),
            finalized_l2: head(heads.finalized_l2),
            l1_cursor: heads.l1_cursor,
            l1_finalized: heads.l1_finalized,
            da_backlog: None,
        }
    }
}
