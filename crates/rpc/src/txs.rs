//! Sending transactions and fee discovery: `eth_sendRawTransaction`, `eth_feeHistory`.

use alloy_consensus::Transaction as _;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Bytes, U64, U256};
use jsonrpsee::RpcModule;
use rollup_primitives::L2Transaction;
use serde::Serialize;

use crate::{
    RpcError,
    eth::{EthApi, heavy_method, inline_method},
};

/// Most blocks one `eth_feeHistory` covers (geth's limit).
const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;

/// Most reward percentiles one `eth_feeHistory` asks for (geth's limit): the reward table is
/// blocks × percentiles, so an unbounded list would let one small request fill memory.
const MAX_FEE_HISTORY_PERCENTILES: usize = 100;

/// `eth_feeHistory` result, in geth's shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct FeeHistory {
    oldest_block: U64,
    base_fee_per_gas: Vec<U256>,
    gas_used_ratio: Vec<f64>,
    /// As geth after Cancun: L2 blocks carry no blobs, so the minimum fee and no use.
    base_fee_per_blob_gas: Vec<U256>,
    blob_gas_used_ratio: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reward: Option<Vec<Vec<U256>>>,
}

pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    inline_method(module, "eth_sendRawTransaction", |api, args| {
        let raw: Bytes = args.required(0, "raw transaction")?;
        let pool = api.ctx.pool.as_ref().ok_or(RpcError::NotSequencer)?;
        Ok(pool.add_raw(&raw)?)
    });

    heavy_method(module, "eth_feeHistory", |api, args| {
        let count: U64 = args.required(0, "block count")?;
        let newest: BlockNumberOrTag = args.required(1, "newest block")?;
        let percentiles: Option<Vec<f64>> = args.optional(2, "reward percentiles")?;
        if let Some(percentiles) = &percentiles {
            if percentiles.len() > MAX_FEE_HISTORY_PERCENTILES {
                return Err(RpcError::InvalidParams(format!(
                    "invalid reward percentiles: {} of them, over the query limit {MAX_FEE_HISTORY_PERCENTILES}",
                    percentiles.len()
                )));
            }
            if percentiles.iter().any(|p| !(0.0..=100.0).contains(p))
                || percentiles.windows(2).any(|w| w[0] > w[1])
            {
                return Err(RpcError::InvalidParams(
                    "reward percentiles must be ascending values between 0 and 100".into(),
                ));
            }
        }
        let reader = api.reader()?;
        // geth's words for a block past the head, which fee estimators look for.
        if let BlockNumberOrTag::Number(number) = newest {
            let head = crate::eth::stored_head(&reader)?;
            if number > head {
                return Err(RpcError::ExecutionFailed(format!(
                    "request beyond head block: requested {number}, head {head}"
                )));
            }
        }
        let newest = api.existing_block_number(&reader, BlockId::Number(newest))?;
        // No blocks asked for, no history (as reth and geth answer).
        if count.is_zero() {
            return Ok(FeeHistory {
                oldest_block: U64::ZERO,
                base_fee_per_gas: Vec::new(),
                gas_used_ratio: Vec::new(),
                base_fee_per_blob_gas: Vec::new(),
                blob_gas_used_ratio: Vec::new(),
                reward: None,
            });
        }
        let count = count
            .to::<u64>()
            .min(MAX_FEE_HISTORY_BLOCKS)
            .min(newest + 1);
        let oldest = newest + 1 - count;
        let mut history = FeeHistory {
            oldest_block: U64::from(oldest),
            base_fee_per_gas: Vec::new(),
            gas_used_ratio: Vec::new(),
            // One more than blocks, as the base fees: the next block's too.
            base_fee_per_blob_gas: vec![
                U256::from(rollup_execution::blob_base_fee());
                count as usize + 1
            ],
            blob_gas_used_ratio: vec![0.0; count as usize],
            // As geth: no `reward` field unless percentiles were asked for.
            reward: percentiles
                .as_ref()
                .filter(|percentiles| !percentiles.is_empty())
                .map(|_| Vec::new()),
        };
        let mut last = None;
        for number in oldest..=newest {
            let header = reader
                .header(number)?
                .ok_or_else(|| RpcError::UnknownBlock(format!("block {number}")))?;
            let base_fee = header.base_fee_per_gas.unwrap_or_default();
            history.base_fee_per_gas.push(U256::from(base_fee));
            history
                .gas_used_ratio
                .push(header.gas_used as f64 / header.gas_limit.max(1) as f64);
            if let (Some(percentiles), Some(rewards)) = (&percentiles, history.reward.as_mut()) {
                let body = reader.body(number)?.unwrap_or_default();
                let receipts = reader.receipts(number)?.unwrap_or_default();
                rewards.push(block_rewards(&body, &receipts, base_fee, percentiles));
            }
            last = Some(header);
        }
        // Like geth, one more base fee: the next block's.
        if let Some(header) = last {
            let next = header
                .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
                .unwrap_or(header.base_fee_per_gas.unwrap_or_default());
            history.base_fee_per_gas.push(U256::from(next));
        }
        Ok(history)
    });
}

/// The effective tips at `percentiles` of a block's gas, as geth computes them: the block's
/// user transactions sorted by tip, each weighted by the gas it used, and for each percentile
/// the tip of the transaction in which that share of their gas is reached. Deposits pay no tip
/// and are left out; a block without user transactions rewards zero.
fn block_rewards(
    body: &[L2Transaction],
    receipts: &[rollup_primitives::L2Receipt],
    base_fee: u64,
    percentiles: &[f64],
) -> Vec<U256> {
    let mut previous_cumulative = 0;
    let mut txs: Vec<(u128, u64)> = body
        .iter()
        .zip(receipts)
        .filter_map(|(tx, receipt)| {
            let gas_used = receipt
                .cumulative_gas_used
                .saturating_sub(previous_cumulative);
            previous_cumulative = receipt.cumulative_gas_used;
            match tx {
                L2Transaction::Signed { envelope, .. } => Some((
                    envelope.effective_tip_per_gas(base_fee).unwrap_or_default(),
                    gas_used,
                )),
                L2Transaction::Deposit(_) => None,
            }
        })
        .collect();
    if txs.is_empty() {
        return vec![U256::ZERO; percentiles.len()];
    }
    txs.sort_by_key(|(tip, _)| *tip);
    let total: u64 = txs.iter().map(|(_, gas)| gas).sum();
    let mut index = 0;
    let mut sum = txs[0].1;
    percentiles
        .iter()
        .map(|p| {
            let threshold = (total as f64 * p / 100.0) as u64;
            while sum < threshold && index + 1 < txs.len() {
                index += 1;
                sum += txs[index].1;
            }
            U256::from(txs[index].0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559};
    use alloy_primitives::{Address, Signature, TxKind};
    use rollup_primitives::L2Receipt;

    fn tx(tip: u128) -> L2Transaction {
        let envelope = TxEip1559 {
            chain_id: 1,
            max_fee_per_gas: 1_000 + tip,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::ZERO),
            ..Default::default()
        }
        .into_signed(Signature::new(U256::from(1), U256::from(1), false))
        .into();
        L2Transaction::Signed {
            envelope,
            sender: Address::ZERO,
        }
    }

    fn receipts(gas: &[u64]) -> Vec<L2Receipt> {
        let mut cumulative = 0;
        gas.iter()
            .map(|gas| {
                cumulative += gas;
                L2Receipt {
                    tx_type: 2,
                    success: true,
                    cumulative_gas_used: cumulative,
                    logs: Vec::new(),
                }
            })
            .collect()
    }

    #[test]
    fn rewards_are_weighted_by_gas_used_as_geth_weighs_them() {
        // Tips 1, 2, 3 using 10%, 80% and 10% of the gas: the median is the big one's tip,
        // not the middle transaction's by count.
        let body = [tx(3), tx(1), tx(2)];
        let receipts = receipts(&[10_000, 10_000, 80_000]);
        let rewards = block_rewards(
            &body,
            &receipts,
            1_000,
            &[0.0, 5.0, 10.0, 11.0, 50.0, 90.0, 91.0, 100.0],
        );
        let want: Vec<U256> = [1u64, 1, 1, 2, 2, 2, 3, 3]
            .into_iter()
            .map(U256::from)
            .collect();
        assert_eq!(rewards, want);
        assert_eq!(block_rewards(&[], &[], 1_000, &[50.0]), vec![U256::ZERO]);
    }
}
