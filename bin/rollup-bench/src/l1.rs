//! Reading the rollup's batches back from L1.

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Log};
use alloy_rpc_client::RpcClient;
use alloy_sol_types::SolCall;
use rollup_primitives::{
    BatchEnvelope, L1Block, L1Receipt, L1Transaction,
    bindings::IBatchInbox::{postBatchCall, postBlobBatchCall},
    blob_data, decode_segment,
};
use serde_json::{Value, json};

use crate::{
    L2_CHAIN_ID,
    load::{batch_call, quantity},
};

/// The batch transactions to the `BatchInbox` in a range of L1 blocks: `postBatch` (calldata)
/// and `postBlobBatch` (envelope in calldata, segments in blobs).
#[derive(Debug, Default)]
pub(crate) struct BatchStats {
    /// Batch transactions, both kinds.
    pub(crate) batches: usize,
    /// Of those, blob batches.
    pub(crate) blob_batches: usize,
    /// Their calldata bytes (the whole call).
    pub(crate) calldata: usize,
    /// The batches inside (envelope and segments, wherever the segments travel).
    pub(crate) payload: usize,
    /// Blobs the blob batches carried.
    pub(crate) blobs: usize,
    /// The segment bytes that travelled in blobs.
    pub(crate) blob_payload: usize,
    /// Their L1 `gasUsed`.
    pub(crate) l1_gas: u64,
    /// Their L1 `blobGasUsed`.
    pub(crate) blob_gas: u64,
    /// L2 transactions the decoded batches carry.
    pub(crate) l2_txs: usize,
    /// Those transactions' RLP bytes.
    pub(crate) rlp: usize,
    /// Transactions to the inbox that are neither (forced inclusions): not counted above.
    pub(crate) other_inbox_txs: usize,
    /// Inbox transactions that reverted: not counted above, but their gas is in `l1_gas`.
    pub(crate) reverted: usize,
    /// Batches that left their last block open (it spans into the next batch).
    pub(crate) open_parts: usize,
}

impl BatchStats {
    /// Bytes on L1 per L2 transaction: calldata, and the blob data the segments fill.
    pub(crate) fn l1_bytes_per_tx(&self) -> f64 {
        (self.calldata + self.blob_payload) as f64 / self.l2_txs.max(1) as f64
    }
}

/// The blobs of `tx` (an RPC transaction object in block `block`, with its RPC `receipt`),
/// read back from the beacon API through `beacon` the way the node reads them: only for a blob
/// batch (its `BatchAppended` log counts blobs), each checked against its versioned hash.
async fn blobs_of(
    beacon: &rollup_l1::BlobSource,
    block: &Value,
    tx: &Value,
    receipt: &Value,
    inbox: Address,
) -> eyre::Result<Vec<Bytes>> {
    let hashes: Vec<B256> = serde_json::from_value(tx["blobVersionedHashes"].clone())?;
    let logs: Vec<Log> = serde_json::from_value(receipt["logs"].clone())?;
    let mut l1_block = L1Block {
        number: crate::load::quantity(&block["number"]).unwrap_or(0),
        hash: serde_json::from_value(block["hash"].clone())?,
        parent_hash: B256::ZERO,
        timestamp: crate::load::quantity(&block["timestamp"]).unwrap_or(0),
        mix_hash: B256::ZERO,
        base_fee_per_gas: None,
        transactions: vec![L1Transaction {
            hash: serde_json::from_value(tx["hash"].clone())?,
            from: Address::ZERO,
            to: Some(inbox),
            input: Bytes::new(),
            blob_versioned_hashes: hashes,
            blobs: Vec::new(),
        }],
        receipts: vec![L1Receipt {
            success: quantity(&receipt["status"]) == Some(1),
            logs,
        }],
    };
    beacon.attach(&mut l1_block).await?;
    Ok(l1_block.transactions.remove(0).blobs)
}

/// Scans L1 blocks `from..=to` for batches posted to `inbox`; blob batches' blobs come from the
/// beacon API at `beacon` (anvil's own URL).
pub(crate) async fn scan_batches(
    l1: &RpcClient,
    beacon: &str,
    inbox: Address,
    from: u64,
    to: u64,
) -> eyre::Result<BatchStats> {
    let mut stats = BatchStats::default();
    let params = (from..=to)
        .map(|n| json!([format!("{n:#x}"), true]))
        .collect();
    let blocks = batch_call(l1, "eth_getBlockByNumber", params, 100).await?;
    let inbox_txs: Vec<(&Value, &Value)> = blocks
        .iter()
        .flat_map(|block| {
            block["transactions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |tx| (block, tx))
        })
        .filter(|(_, tx)| tx["to"].as_str().and_then(|t| t.parse::<Address>().ok()) == Some(inbox))
        .collect();
    let hashes = inbox_txs
        .iter()
        .map(|(_, tx)| json!([tx["hash"]]))
        .collect();
    let receipts = batch_call(l1, "eth_getTransactionReceipt", hashes, 100).await?;
    let source = rollup_l1::BlobSource::new(beacon, inbox)?;
    for ((block, tx), receipt) in inbox_txs.into_iter().zip(&receipts) {
        if quantity(&receipt["status"]) != Some(1) {
            // A batch the inbox refused (one that lost a race with a reorg or a stale nonce
            // plan) still paid for its gas.
            stats.reverted += 1;
            stats.l1_gas += quantity(&receipt["gasUsed"]).unwrap_or(0);
            stats.blob_gas += quantity(&receipt["blobGasUsed"]).unwrap_or(0);
            continue;
        }
        let input: Bytes = tx["input"].as_str().unwrap_or("0x").parse()?;
        let envelope = if let Ok(call) = postBatchCall::abi_decode(&input) {
            stats.payload += call.data.len();
            BatchEnvelope::parse(&call.data)?
        } else if let Ok(call) = postBlobBatchCall::abi_decode(&input) {
            let blobs = blobs_of(&source, block, tx, receipt, inbox).await?;
            let envelope = BatchEnvelope::parse_blob(&call.envelope, &blob_data(&blobs))?;
            stats.blob_batches += 1;
            stats.blobs += blobs.len();
            stats.payload += call.envelope.len() + envelope.segment_bytes;
            stats.blob_payload += envelope.segment_bytes;
            envelope
        } else {
            stats.other_inbox_txs += 1;
            continue;
        };
        stats.batches += 1;
        stats.open_parts += usize::from(envelope.last_block_open);
        stats.calldata += input.len();
        for (count, segment) in &envelope.segments {
            for tx in decode_segment(segment, *count, L2_CHAIN_ID)? {
                stats.l2_txs += 1;
                stats.rlp += tx.encode_2718_len();
            }
        }
        stats.l1_gas += quantity(&receipt["gasUsed"]).unwrap_or(0);
        stats.blob_gas += quantity(&receipt["blobGasUsed"]).unwrap_or(0);
    }
    Ok(stats)
}
