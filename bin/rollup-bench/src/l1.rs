//! Reading the rollup's batches back from L1.

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes};
use alloy_rpc_client::RpcClient;
use alloy_sol_types::SolCall;
use rollup_primitives::{BatchEnvelope, bindings::IBatchInbox::postBatchCall, decode_segment};
use serde_json::json;

use crate::{
    L2_CHAIN_ID,
    load::{batch_call, quantity},
};

/// The `postBatch` transactions to the `BatchInbox` in a range of L1 blocks.
#[derive(Debug, Default)]
pub(crate) struct BatchStats {
    /// Batch transactions.
    pub(crate) batches: usize,
    /// Their calldata bytes (the whole `postBatch` call).
    pub(crate) calldata: usize,
    /// The batch payloads inside it.
    pub(crate) payload: usize,
    /// Their L1 `gasUsed`.
    pub(crate) l1_gas: u64,
    /// L2 transactions the decoded batches carry.
    pub(crate) l2_txs: usize,
    /// Those transactions' RLP bytes.
    pub(crate) rlp: usize,
    /// Transactions to the inbox that are not `postBatch` calls (blob batches among them):
    /// not counted above.
    pub(crate) other_inbox_txs: usize,
}

/// Scans L1 blocks `from..=to` for batches posted to `inbox`.
pub(crate) async fn scan_batches(
    l1: &RpcClient,
    inbox: Address,
    from: u64,
    to: u64,
) -> eyre::Result<BatchStats> {
    let mut stats = BatchStats::default();
    let params = (from..=to)
        .map(|n| json!([format!("{n:#x}"), true]))
        .collect();
    let blocks = batch_call(l1, "eth_getBlockByNumber", params, 100).await?;
    let mut hashes = Vec::new();
    for block in &blocks {
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let to: Option<Address> = tx["to"].as_str().and_then(|t| t.parse().ok());
            if to != Some(inbox) {
                continue;
            }
            let input: Bytes = tx["input"].as_str().unwrap_or("0x").parse()?;
            let Ok(call) = postBatchCall::abi_decode(&input) else {
                stats.other_inbox_txs += 1;
                continue;
            };
            stats.batches += 1;
            stats.calldata += input.len();
            stats.payload += call.data.len();
            let envelope = BatchEnvelope::parse(&call.data)?;
            for (count, segment) in &envelope.segments {
                for tx in decode_segment(segment, *count, L2_CHAIN_ID)? {
                    stats.l2_txs += 1;
                    stats.rlp += tx.encode_2718_len();
                }
            }
            hashes.push(json!([tx["hash"]]));
        }
    }
    for receipt in batch_call(l1, "eth_getTransactionReceipt", hashes, 100).await? {
        stats.l1_gas += quantity(&receipt["gasUsed"]).unwrap_or(0);
    }
    Ok(stats)
}
