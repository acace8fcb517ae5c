//! Typed access to the L1 node's JSON-RPC: heads, headers and full blocks with receipts.

use std::{
    future::Future,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use alloy_consensus::Transaction as _;
use alloy_primitives::B256;
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag, Transaction, TransactionReceipt};
use alloy_transport::TransportResult;
use rollup_primitives::{BlockNumHash, L1Block, L1Receipt, L1Transaction};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::error::{L1Error, Result};

/// How long one JSON-RPC call may take before it counts as failed.
const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// The block fields the follower reads. Deserialized by hand rather than through alloy's header so
/// that nodes omitting fields derivation does not need (`mixHash` on some clients) still work.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RpcBlock<T> {
    hash: B256,
    parent_hash: B256,
    #[serde(with = "alloy_serde::quantity")]
    number: u64,
    #[serde(with = "alloy_serde::quantity")]
    timestamp: u64,
    #[serde(default)]
    mix_hash: Option<B256>,
    #[serde(default, with = "alloy_serde::quantity::opt")]
    base_fee_per_gas: Option<u64>,
    transactions: Vec<T>,
}

impl<T> RpcBlock<T> {
    fn header_only(&self) -> L1Block {
        L1Block {
            number: self.number,
            hash: self.hash,
            parent_hash: self.parent_hash,
            timestamp: self.timestamp,
            mix_hash: self.mix_hash.unwrap_or_default(),
            base_fee_per_gas: self.base_fee_per_gas,
            transactions: Vec::new(),
            receipts: Vec::new(),
        }
    }
}

/// A JSON-RPC client for an L1 execution node (anvil, reth, geth), returning blocks in the
/// rollup's [`L1Block`] shape.
///
/// Receipts come from `eth_getBlockReceipts`; if the node does not support it, the client falls
/// back to one `eth_getTransactionReceipt` per transaction and remembers that.
#[derive(Debug)]
pub struct L1Rpc {
    provider: RootProvider,
    url: String,
    block_receipts_supported: AtomicBool,
}

/// Accepts only http(s) endpoints, the transports the L1 roles use.
pub(crate) fn check_http_url(url: &str) -> Result<()> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(L1Error::InvalidUrl {
            url: url.to_string(),
            reason: "only http:// and https:// endpoints are supported".into(),
        })
    }
}

impl L1Rpc {
    /// Creates a client for the http(s) JSON-RPC endpoint at `url`. Does not contact the node.
    pub async fn connect(url: &str) -> Result<Self> {
        check_http_url(url)?;
        let provider = RootProvider::connect(url)
            .await
            .map_err(|err| L1Error::InvalidUrl {
                url: url.to_string(),
                reason: err.to_string(),
            })?;
        Ok(Self {
            provider,
            url: url.to_string(),
            block_receipts_supported: AtomicBool::new(true),
        })
    }

    /// The endpoint this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The number of the node's latest block (`eth_blockNumber`).
    pub async fn head_number(&self) -> Result<u64> {
        self.call("eth_blockNumber", self.provider.get_block_number())
            .await
    }

    /// L1's finalized block, if the node reports one.
    pub async fn finalized(&self) -> Result<Option<BlockNumHash>> {
        let block: Option<RpcBlock<B256>> = self
            .call(
                "eth_getBlockByNumber",
                self.provider.raw_request(
                    "eth_getBlockByNumber".into(),
                    (BlockNumberOrTag::Finalized, false),
                ),
            )
            .await?;
        Ok(block.map(|block| {
            let header = block.header_only();
            BlockNumHash {
                number: header.number,
                hash: header.hash,
            }
        }))
    }

    /// The canonical block at `number` without transactions and receipts, or `None` if the node
    /// has no block at that height.
    pub async fn fetch_header(&self, number: u64) -> Result<Option<L1Block>> {
        let block: Option<RpcBlock<B256>> = self
            .call(
                "eth_getBlockByNumber",
                self.provider.raw_request(
                    "eth_getBlockByNumber".into(),
                    (BlockNumberOrTag::Number(number), false),
                ),
            )
            .await?;
        let Some(block) = block else { return Ok(None) };
        check_number(number, block.number)?;
        Ok(Some(block.header_only()))
    }

    /// The canonical block at `number` with its transactions (senders recovered by the node) and
    /// receipts, or `None` if the node has no block at that height.
    ///
    /// Receipts are fetched by the block's hash, so a reorg between the two calls is reported as
    /// [`L1Error::Inconsistent`] instead of mixing two blocks.
    pub async fn fetch_block(&self, number: u64) -> Result<Option<L1Block>> {
        let block: Option<RpcBlock<Transaction>> = self
            .call(
                "eth_getBlockByNumber",
                self.provider.raw_request(
                    "eth_getBlockByNumber".into(),
                    (BlockNumberOrTag::Number(number), true),
                ),
            )
            .await?;
        let Some(block) = block else { return Ok(None) };
        check_number(number, block.number)?;

        let receipts = if block.transactions.is_empty() {
            Vec::new()
        } else {
            self.fetch_receipts(&block).await?
        };
        let inconsistent = |reason: String| L1Error::Inconsistent { number, reason };
        if receipts.len() != block.transactions.len() {
            return Err(inconsistent(format!(
                "block {} has {} transactions but the node returned {} receipts",
                block.hash,
                block.transactions.len(),
                receipts.len()
            )));
        }
        for (tx, receipt) in block.transactions.iter().zip(&receipts) {
            let tx_hash = *tx.inner.tx_hash();
            if receipt.transaction_hash != tx_hash {
                return Err(inconsistent(format!(
                    "receipt for {} found where transaction {tx_hash} was expected",
                    receipt.transaction_hash
                )));
            }
            if receipt.block_hash.is_some_and(|hash| hash != block.hash) {
                return Err(inconsistent(format!(
                    "receipt of transaction {tx_hash} is from block {:?}, not {}",
                    receipt.block_hash, block.hash
                )));
            }
        }

        let mut l1_block = block.header_only();
        l1_block.transactions = block.transactions.iter().map(convert_transaction).collect();
        l1_block.receipts = receipts.iter().map(convert_receipt).collect();
        Ok(Some(l1_block))
    }

    async fn fetch_receipts(
        &self,
        block: &RpcBlock<Transaction>,
    ) -> Result<Vec<TransactionReceipt>> {
        let gone = || L1Error::Inconsistent {
            number: block.number,
            reason: format!(
                "block {} left the canonical chain before its receipts were read",
                block.hash
            ),
        };
        if self.block_receipts_supported.load(Ordering::Relaxed) {
            let call = self.provider.get_block_receipts(BlockId::from(block.hash));
            match self.call("eth_getBlockReceipts", call).await {
                Ok(Some(receipts)) => return Ok(receipts),
                Ok(None) => return Err(gone()),
                Err(L1Error::Rpc { source, .. }) if is_unsupported(&source) => {
                    warn!(
                        target: "rollup::l1",
                        url = %self.url,
                        %source,
                        "L1 node does not support eth_getBlockReceipts; fetching receipts one transaction at a time"
                    );
                    self.block_receipts_supported
                        .store(false, Ordering::Relaxed);
                }
                Err(err) => return Err(err),
            }
        }
        let mut receipts = Vec::with_capacity(block.transactions.len());
        for tx in &block.transactions {
            let call = self.provider.get_transaction_receipt(*tx.inner.tx_hash());
            match self.call("eth_getTransactionReceipt", call).await? {
                Some(receipt) => receipts.push(receipt),
                None => return Err(gone()),
            }
        }
        debug!(target: "rollup::l1", number = block.number, txs = receipts.len(), "receipts fetched per transaction");
        Ok(receipts)
    }

    /// Runs one RPC call with a timeout, attaching the URL and method to its error.
    async fn call<T>(
        &self,
        method: &'static str,
        call: impl Future<Output = TransportResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(RPC_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(L1Error::Rpc {
                url: self.url.clone(),
                method,
                source,
            }),
            Err(_) => Err(L1Error::Timeout {
                url: self.url.clone(),
                method,
                seconds: RPC_TIMEOUT.as_secs(),
            }),
        }
    }
}

fn check_number(requested: u64, returned: u64) -> Result<()> {
    if requested == returned {
        Ok(())
    } else {
        Err(L1Error::Inconsistent {
            number: requested,
            reason: format!("the node returned block {returned} instead"),
        })
    }
}

/// Whether a JSON-RPC error means "this method does not exist here".
fn is_unsupported(err: &alloy_transport::TransportError) -> bool {
    let Some(payload) = err.as_error_resp() else {
        return false;
    };
    let message = payload.message.to_ascii_lowercase();
    payload.code == -32601
        || [
            "not supported",
            "unsupported",
            "does not exist",
            "not found",
            "not available",
        ]
        .iter()
        .any(|needle| message.contains(needle))
}

fn convert_transaction(tx: &Transaction) -> L1Transaction {
    L1Transaction {
        hash: *tx.inner.tx_hash(),
        from: tx.inner.signer(),
        to: tx.to(),
        input: tx.input().clone(),
        blob_versioned_hashes: tx
            .blob_versioned_hashes()
            .map(<[B256]>::to_vec)
            .unwrap_or_default(),
    }
}

fn convert_receipt(receipt: &TransactionReceipt) -> L1Receipt {
    L1Receipt {
        success: receipt.status(),
        logs: receipt
            .inner
            .logs()
            .iter()
            .map(|log| log.inner.clone())
            .collect(),
    }
}
