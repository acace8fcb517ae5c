//! The sequencer's pool as geth shows it: `txpool_status`, `txpool_content`,
//! `txpool_contentFrom` and `txpool_inspect`. Only the sequencer has a pool; a replica answers
//! as `eth_sendRawTransaction` does there.

use std::collections::BTreeMap;

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, U64};
use jsonrpsee::RpcModule;
use rollup_primitives::L2Transaction;
use rollup_sequencer::{PoolContent, TxPool};
use serde::Serialize;

use crate::{
    RpcError,
    eth::{EthApi, heavy_method, inline_method},
};

/// `txpool_status`.
#[derive(Debug, Clone, Serialize)]
struct Status {
    pending: U64,
    queued: U64,
}

/// One sub-pool of `txpool_content` or `txpool_inspect`: sender (checksummed) → nonce
/// (decimal) → entry, as geth writes them.
type SubPool<T> = BTreeMap<String, BTreeMap<String, T>>;

/// `txpool_content` and `txpool_inspect`.
#[derive(Debug, Clone, Serialize)]
struct Content<T> {
    pending: SubPool<T>,
    queued: SubPool<T>,
}

/// `txpool_contentFrom`: one sender's transactions.
#[derive(Debug, Clone, Serialize)]
struct ContentFrom {
    pending: BTreeMap<String, alloy_rpc_types_eth::Transaction>,
    queued: BTreeMap<String, alloy_rpc_types_eth::Transaction>,
}

fn pool(api: &EthApi) -> Result<&TxPool, RpcError> {
    api.ctx.pool.as_deref().ok_or(RpcError::NotSequencer)
}

/// `sender`'s transactions by nonce, each made with `entry`.
fn by_nonce<T>(
    sender: Address,
    txs: BTreeMap<u64, TxEnvelope>,
    entry: &impl Fn(Address, TxEnvelope) -> Option<T>,
) -> BTreeMap<String, T> {
    txs.into_iter()
        .filter_map(|(nonce, envelope)| Some((nonce.to_string(), entry(sender, envelope)?)))
        .collect()
}

fn map_content<T>(
    content: PoolContent,
    entry: impl Fn(Address, TxEnvelope) -> Option<T>,
) -> Content<T> {
    let map = |sub_pool: BTreeMap<Address, BTreeMap<u64, TxEnvelope>>| {
        sub_pool
            .into_iter()
            .map(|(sender, txs)| (sender.to_string(), by_nonce(sender, txs, &entry)))
            .collect()
    };
    Content {
        pending: map(content.pending),
        queued: map(content.queued),
    }
}

/// A pooled transaction as `eth_getTransactionByHash` shows it (no block fields).
fn full(sender: Address, envelope: TxEnvelope) -> Option<alloy_rpc_types_eth::Transaction> {
    crate::pubsub::pending_transaction(L2Transaction::Signed { envelope, sender })
}

/// geth's one-line summary: `to: value wei + gas gas × price wei` (the fee cap for EIP-1559).
fn summary(_: Address, envelope: TxEnvelope) -> Option<String> {
    let to = envelope
        .to()
        .map_or_else(|| "contract creation".to_string(), |to| to.to_string());
    Some(format!(
        "{to}: {} wei + {} gas × {} wei",
        envelope.value(),
        envelope.gas_limit(),
        envelope.max_fee_per_gas()
    ))
}

pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    inline_method(module, "txpool_status", |api, _| {
        let pool = pool(api)?;
        Ok(Status {
            pending: U64::from(pool.pending_len()),
            queued: U64::from(pool.queued_len()),
        })
    });
    heavy_method(module, "txpool_content", |api, _| {
        Ok(map_content(pool(api)?.content(), full))
    });
    heavy_method(module, "txpool_inspect", |api, _| {
        Ok(map_content(pool(api)?.content(), summary))
    });
    heavy_method(module, "txpool_contentFrom", |api, args| {
        let sender: Address = args.required(0, "address")?;
        let mut content = pool(api)?.content_of(sender);
        let take = |sub_pool: &mut BTreeMap<Address, BTreeMap<u64, TxEnvelope>>| {
            by_nonce(sender, sub_pool.remove(&sender).unwrap_or_default(), &full)
        };
        Ok(ContentFrom {
            pending: take(&mut content.pending),
            queued: take(&mut content.queued),
        })
    });
}
