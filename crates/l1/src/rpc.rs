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

/// How long one JSON-RPC call may take before it counts as failed (its retries included).
const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// How often one call is retried when the L1 node rate-limits it.
const RATE_LIMIT_RETRIES: u32 = 8;

/// The wait before each such retry, in milliseconds, unless the node names one.
const RATE_LIMIT_BACKOFF_MS: u64 = 250;

/// A block as the L1 node returns it: the full header (so its hash can be recomputed) and the
/// transactions (hashes or full objects).
#[derive(Debug, Deserialize)]
struct RpcBlock<T> {
    #[serde(flatten)]
    header: alloy_rpc_types_eth::Header,
    transactions: Vec<T>,
}

impl<T> RpcBlock<T> {
    fn number(&self) -> u64 {
        self.header.inner.number
    }

    /// The header fields derivation reads, after checking that they hash to the block hash the
    /// node claims: a node (or a proxy) cannot hand over fields of another block, and every
    /// commitment in the header (transactions root, receipts root) is then the real one.
    fn header_only(&self) -> std::result::Result<L1Block, String> {
        let computed = self.header.inner.hash_slow();
        if computed != self.header.hash {
            return Err(format!(
                "the header fields hash to {computed}, not to the claimed block hash {}",
                self.header.hash
            ));
        }
        let header = &self.header.inner;
        Ok(L1Block {
            number: header.number,
            hash: self.header.hash,
            parent_hash: header.parent_hash,
            timestamp: header.timestamp,
            mix_hash: header.mix_hash,
            base_fee_per_gas: header.base_fee_per_gas,
            transactions: Vec::new(),
            receipts: Vec::new(),
        })
    }
}

/// Checks the transactions and receipts the node returned against the roots in the (already
/// hash-checked) header: nothing can be added, dropped, reordered or altered, including a log of
/// a receipt, without derivation noticing.
fn check_block_commitments(
    header: &alloy_consensus::Header,
    transactions: &[alloy_consensus::TxEnvelope],
    receipts: &[alloy_consensus::ReceiptEnvelope],
) -> std::result::Result<(), String> {
    let transactions_root = alloy_consensus::proofs::calculate_transaction_root(transactions);
    if transactions_root != header.transactions_root {
        return Err(format!(
            "its transactions hash to root {transactions_root}, but the header commits to {}",
            header.transactions_root
        ));
    }
    let receipts_root = alloy_consensus::proofs::calculate_receipt_root(receipts);
    if receipts_root != header.receipts_root {
        return Err(format!(
            "its receipts hash to root {receipts_root}, but the header commits to {}",
            header.receipts_root
        ));
    }
    Ok(())
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
        let parsed = reqwest::Url::parse(url).map_err(|err| L1Error::InvalidUrl {
            url: url.to_string(),
            reason: err.to_string(),
        })?;
        // Rate limits (HTTP 429, 503, JSON-RPC -32005 and the like) are retried per call, after
        // the provider's `Retry-After` if it gives one: a catch-up step fetches up to a hundred
        // blocks with their receipts, all or nothing, and with one refused call in seven a step
        // never completed and the node fell further behind.
        let client = alloy_rpc_client::ClientBuilder::default()
            .layer(alloy_transport::layers::RetryBackoffLayer::new(
                RATE_LIMIT_RETRIES,
                RATE_LIMIT_BACKOFF_MS,
                u64::MAX,
            ))
            .transport(
                crate::transport::BoundedHttp::new(parsed),
                alloy_transport::utils::guess_local_url(url),
            );
        let provider = RootProvider::new(client);
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

    /// The node's chain id (`eth_chainId`).
    pub async fn chain_id(&self) -> Result<u64> {
        self.call("eth_chainId", self.provider.get_chain_id()).await
    }

    /// The blob base fee (`eth_blobBaseFee`): fails on an L1 without blobs.
    pub async fn blob_base_fee(&self) -> Result<u128> {
        self.call("eth_blobBaseFee", self.provider.get_blob_base_fee())
            .await
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
        block
            .map(|block| {
                let number = block.number();
                let header = block
                    .header_only()
                    .map_err(|reason| L1Error::Inconsistent { number, reason })?;
                Ok(BlockNumHash {
                    number: header.number,
                    hash: header.hash,
                })
            })
            .transpose()
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
        check_number(number, block.number())?;
        let header = block
            .header_only()
            .map_err(|reason| L1Error::Inconsistent { number, reason })?;
        Ok(Some(header))
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
        check_number(number, block.number())?;
        let inconsistent = |reason: String| L1Error::Inconsistent { number, reason };
        let mut l1_block = block.header_only().map_err(inconsistent)?;

        let receipts = if block.transactions.is_empty() {
            Vec::new()
        } else {
            self.fetch_receipts(&block).await?
        };
        if receipts.len() != block.transactions.len() {
            return Err(inconsistent(format!(
                "block {} has {} transactions but the node returned {} receipts",
                block.header.hash,
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
            if receipt
                .block_hash
                .is_some_and(|hash| hash != block.header.hash)
            {
                return Err(inconsistent(format!(
                    "receipt of transaction {tx_hash} is from block {:?}, not {}",
                    receipt.block_hash, block.header.hash
                )));
            }
        }
        let envelopes: Vec<_> = block
            .transactions
            .iter()
            .map(|tx| tx.inner.inner().clone())
            .collect();
        let receipt_envelopes: Vec<_> = receipts
            .iter()
            .map(|receipt| receipt.inner.clone().into_primitives_receipt())
            .collect();
        check_block_commitments(&block.header.inner, &envelopes, &receipt_envelopes)
            .map_err(|reason| inconsistent(format!("block {}: {reason}", block.header.hash)))?;

        l1_block.transactions = block.transactions.iter().map(convert_transaction).collect();
        l1_block.receipts = receipts.iter().map(convert_receipt).collect();
        Ok(Some(l1_block))
    }

    async fn fetch_receipts(
        &self,
        block: &RpcBlock<Transaction>,
    ) -> Result<Vec<TransactionReceipt>> {
        let gone = || L1Error::Inconsistent {
            number: block.number(),
            reason: format!(
                "block {} left the canonical chain before its receipts were read",
                block.header.hash
            ),
        };
        if self.block_receipts_supported.load(Ordering::Relaxed) {
            let call = self
                .provider
                .get_block_receipts(BlockId::from(block.header.hash));
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
        debug!(target: "rollup::l1", number = block.number(), txs = receipts.len(), "receipts fetched per transaction");
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

/// Whether a JSON-RPC error means "this method does not exist here": the code, or words about
/// the method (geth: "the method … does not exist/is not available"). Not any "not found": a
/// node behind a load balancer answers "header not found" for a block one backend lacks, and
/// taking that for an unsupported method turned `eth_getBlockReceipts` off for good.
fn is_unsupported(err: &alloy_transport::TransportError) -> bool {
    let Some(payload) = err.as_error_resp() else {
        return false;
    };
    let message = payload.message.to_ascii_lowercase();
    payload.code == -32601
        || (message.contains("method")
            && [
                "not supported",
                "unsupported",
                "does not exist",
                "not found",
                "not available",
            ]
            .iter()
            .any(|needle| message.contains(needle)))
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
        blobs: Vec::new(),
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

#[cfg(test)]
mod commitment_tests {
    use alloy_consensus::{
        Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Signed, TxEnvelope, TxLegacy,
        proofs::{calculate_receipt_root, calculate_transaction_root},
    };
    use alloy_primitives::{Address, Bytes, Log, LogData, Signature, U256};

    use super::*;

    fn fixture() -> (Header, Vec<TxEnvelope>, Vec<ReceiptEnvelope>) {
        let tx = TxEnvelope::Legacy(Signed::new_unhashed(
            TxLegacy {
                nonce: 7,
                gas_limit: 21_000,
                ..Default::default()
            },
            Signature::new(U256::from(1), U256::from(2), false),
        ));
        let log = Log {
            address: Address::repeat_byte(0xb0),
            data: LogData::new_unchecked(
                vec![B256::repeat_byte(1)],
                Bytes::from_static(b"deposit"),
            ),
        };
        let receipt = Receipt {
            status: true.into(),
            cumulative_gas_used: 21_000,
            logs: vec![log],
        };
        let receipts = vec![ReceiptEnvelope::Legacy(ReceiptWithBloom::from(receipt))];
        let txs = vec![tx];
        let header = Header {
            number: 5,
            transactions_root: calculate_transaction_root(&txs),
            receipts_root: calculate_receipt_root(&receipts),
            ..Default::default()
        };
        (header, txs, receipts)
    }

    #[test]
    fn honest_block_passes() {
        let (header, txs, receipts) = fixture();
        check_block_commitments(&header, &txs, &receipts).unwrap();
    }

    #[test]
    fn altered_log_dropped_receipt_or_transaction_is_refused() {
        let (header, txs, receipts) = fixture();
        let mut altered = receipts.clone();
        if let ReceiptEnvelope::Legacy(receipt) = &mut altered[0] {
            receipt.receipt.logs[0].data =
                LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::from_static(b"forged"));
        }
        let err = check_block_commitments(&header, &txs, &altered).unwrap_err();
        assert!(err.contains("receipts hash to root"), "{err}");
        let err = check_block_commitments(&header, &txs, &[]).unwrap_err();
        assert!(err.contains("receipts"), "{err}");
        let err = check_block_commitments(&header, &[], &receipts).unwrap_err();
        assert!(err.contains("transactions hash to root"), "{err}");
    }

    #[test]
    fn header_fields_must_hash_to_the_claimed_block_hash() {
        let (header, _, _) = fixture();
        let honest = RpcBlock::<B256> {
            header: alloy_rpc_types_eth::Header {
                hash: header.hash_slow(),
                inner: header.clone(),
                total_difficulty: None,
                size: None,
            },
            transactions: vec![],
        };
        assert_eq!(honest.header_only().unwrap().hash, header.hash_slow());
        let mut forged = honest;
        forged.header.inner.receipts_root = B256::repeat_byte(0xee);
        let err = forged.header_only().unwrap_err();
        assert!(err.contains("claimed block hash"), "{err}");
    }
}

#[cfg(test)]
mod tests {
    use alloy_json_rpc::ErrorPayload;
    use alloy_transport::TransportError;

    use super::is_unsupported;

    fn refused(code: i64, message: &str) -> TransportError {
        let payload: ErrorPayload =
            serde_json::from_value(serde_json::json!({"code": code, "message": message})).unwrap();
        TransportError::ErrorResp(payload)
    }

    /// Only an answer about the method turns `eth_getBlockReceipts` off, not a block one backend
    /// of a load-balanced provider lacks.
    #[test]
    fn a_missing_block_is_not_a_missing_method() {
        assert!(is_unsupported(&refused(-32601, "whatever")));
        assert!(is_unsupported(&refused(
            -32000,
            "the method eth_getBlockReceipts does not exist/is not available"
        )));
        assert!(is_unsupported(&refused(-32000, "Method not found")));
        assert!(!is_unsupported(&refused(-32000, "header not found")));
        assert!(!is_unsupported(&refused(-32000, "block not available")));
    }
}
