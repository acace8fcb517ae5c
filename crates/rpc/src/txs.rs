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

/// `eth_feeHistory` result, in geth's shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct FeeHistory {
    oldest_block: U64,
    base_fee_per_gas: Vec<U256>,
    gas_used_ratio: Vec<f64>,
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
        if let Some(percentiles) = &percentiles
            && (percentiles.iter().any(|p| !(0.0..=100.0).contains(p))
                || percentiles.windows(2).any(|w| w[0] > w[1]))
        {
            return Err(RpcError::InvalidParams(
                "reward percentiles must be ascending values between 0 and 100".into(),
            ));
        }
        let reader = api.reader()?;
        let newest = api.existing_block_number(&reader, BlockId::Number(newest))?;
        let count = count
            .to::<u64>()
            .clamp(1, MAX_FEE_HISTORY_BLOCKS)
            .min(newest + 1);
        let oldest = newest + 1 - count;
        let mut history = FeeHistory {
            oldest_block: U64::from(oldest),
            base_fee_per_gas: Vec::new(),
            gas_used_ratio: Vec::new(),
            reward: percentiles.as_ref().map(|_| Vec::new()),
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
                let mut tips: Vec<u128> = reader
                    .body(number)?
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|tx| match tx {
                        L2Transaction::Signed { envelope, .. } => {
                            envelope.effective_tip_per_gas(base_fee)
                        }
                        L2Transaction::Deposit(_) => None,
                    })
                    .collect();
                tips.sort_unstable();
                rewards.push(
                    percentiles
                        .iter()
                        .map(|p| {
                            if tips.is_empty() {
                                return U256::ZERO;
                            }
                            let index = ((p / 100.0) * (tips.len() - 1) as f64).round() as usize;
                            U256::from(tips[index.min(tips.len() - 1)])
                        })
                        .collect(),
                );
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
