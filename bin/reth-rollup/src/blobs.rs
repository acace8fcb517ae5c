//! The blobs of blob batches, attached to reth's L1 blocks before the core derives from them.
//!
//! A blob batch carries its L2 transactions in EIP-4844 blobs, which an execution node does not
//! keep with the block. For every transaction the core reads blobs from
//! ([`blob_batch_transactions`], the core's rule), the blobs are taken, in the order of its
//! versioned hashes, from the first of these that has all of them:
//! 1. [`KnownBlobs`]: those this process's batcher built (no lookup, no KZG work);
//! 2. reth's transaction pool blob store, which holds the sidecar of every blob transaction reth
//!    took into its pool (this node's own, and those peers gossiped) until the block including it
//!    is finalized; each blob is checked against its versioned hash, off the async runtime;
//! 3. the blocks this node holds, for a batch its own batcher posted before a restart emptied
//!    [`KnownBlobs`] ([`rebuild_blob_batch`]: the batcher's encoding is deterministic, and each
//!    rebuilt blob is checked against its versioned hash);
//! 4. the beacon API at `--rollup.l1-beacon-url` ([`BlobSource`]), retried until it answers.
//!
//! reth's blob store forgets a blob once its block is finalized, and is emptied whenever reth
//! starts, so a first sync of a rollup posted in blobs, or a restart that replays another
//! batcher's blob batches, finds those blobs only through the beacon API. A blob batch whose
//! blobs are nowhere stops the node with an error that names the flag: skipping it would fork
//! this node from every replica that reads it.
//!
//! Blocks the core already holds (a re-delivery) and blocks up to the rollup's L1 origin are
//! passed on as they are: the core skips them without reading their batches.

use std::{collections::HashMap, sync::Arc, time::Duration};

use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;
use eyre::WrapErr;
use reth_ethereum::pool::blobstore::BlobStore;
use rollup_l1::{
    BlobSource, KnownBlobs, blob_batch_transactions, rebuild_blob_batch, versioned_hash,
};
use rollup_primitives::{
    L1Block, L1Chain, L1Notification, bindings::IBatchInbox::postBlobBatchCall,
};
use rollup_storage::Store;
use tracing::{debug, warn};

/// Longest wait between two tries of the beacon API.
const MAX_BEACON_BACKOFF: Duration = Duration::from_secs(30);

/// Finds the blobs of the blob batches in reth's committed chains.
#[derive(Debug)]
pub(crate) struct BlobAttacher {
    inbox: Address,
    l1_origin: u64,
    store: Store,
    known: KnownBlobs,
    pool: Arc<dyn BlobStore>,
    beacon: Option<BlobSource>,
}

impl BlobAttacher {
    /// Reads the batches sent to `inbox` after `l1_origin`; `store` is the core's, to recognise
    /// the L1 blocks it holds.
    pub(crate) fn new(
        inbox: Address,
        l1_origin: u64,
        store: Store,
        known: KnownBlobs,
        pool: Arc<dyn BlobStore>,
        beacon: Option<BlobSource>,
    ) -> Self {
        Self {
            inbox,
            l1_origin,
            store,
            known,
            pool,
            beacon,
        }
    }

    /// `notification` with the blobs of its committed chain's blob batches attached. A reverted
    /// chain is only unwound, so it goes as it is.
    pub(crate) async fn attach(
        &self,
        notification: L1Notification,
    ) -> eyre::Result<L1Notification> {
        Ok(match notification {
            L1Notification::Committed { new } => L1Notification::Committed {
                new: self.attach_chain(new).await?,
            },
            L1Notification::Reorged { old, new } => L1Notification::Reorged {
                old,
                new: self.attach_chain(new).await?,
            },
            reverted @ L1Notification::Reverted { .. } => reverted,
        })
    }

    async fn attach_chain(&self, chain: Arc<L1Chain>) -> eyre::Result<Arc<L1Chain>> {
        let mut wanted = Vec::new();
        for (position, block) in chain.blocks().iter().enumerate() {
            let txs = blob_batch_transactions(block, self.inbox);
            if !txs.is_empty() && !self.core_skips(block)? {
                wanted.push((position, txs));
            }
        }
        if wanted.is_empty() {
            return Ok(chain);
        }
        let mut blocks = chain.blocks().to_vec();
        for (position, txs) in wanted {
            self.attach_block(&mut blocks[position], &txs).await?;
        }
        let chain = L1Chain::new(blocks).map_err(|reason| eyre::eyre!(reason))?;
        Ok(Arc::new(chain))
    }

    /// Whether the core passes over `block` without deriving from it: it holds that very block
    /// already, or the block is not after the rollup's L1 origin.
    fn core_skips(&self, block: &L1Block) -> eyre::Result<bool> {
        if block.number <= self.l1_origin {
            return Ok(true);
        }
        let held = self.store.reader()?.l1_block(block.number)?;
        Ok(held.is_some_and(|record| record.block.hash == block.hash))
    }

    /// Attaches the blobs of the transactions at `txs` in `block`.
    async fn attach_block(&self, block: &mut L1Block, txs: &[usize]) -> eyre::Result<()> {
        let own = txs
            .iter()
            .map(|&index| {
                self.known
                    .get_all(&block.transactions[index].blob_versioned_hashes)
            })
            .collect::<Vec<_>>();
        let from_pool = fill(block, txs, own, "own");
        if from_pool.is_empty() {
            return Ok(());
        }
        let lookups: Vec<(B256, Vec<B256>)> = from_pool
            .iter()
            .map(|&index| {
                let tx = &block.transactions[index];
                (tx.hash, tx.blob_versioned_hashes.clone())
            })
            .collect();
        let pool = self.pool.clone();
        // Reading the store touches files, and each blob's KZG commitment costs tens of
        // milliseconds: off the async runtime.
        let found = tokio::task::spawn_blocking(move || {
            lookups
                .into_iter()
                .map(|(tx_hash, hashes)| pool_blobs(pool.as_ref(), tx_hash, &hashes))
                .collect::<Vec<_>>()
        })
        .await
        .wrap_err("the task checking blobs from reth's pool failed")?;
        let from_blocks = fill(block, &from_pool, found, "pool");
        if from_blocks.is_empty() {
            return Ok(());
        }
        let lookups: Vec<(Bytes, Vec<B256>)> = from_blocks
            .iter()
            .map(|&index| {
                let tx = &block.transactions[index];
                let envelope = postBlobBatchCall::abi_decode(&tx.input)
                    .map(|call| call.envelope)
                    .unwrap_or_default();
                (envelope, tx.blob_versioned_hashes.clone())
            })
            .collect();
        let store = self.store.clone();
        // Encoding the blocks again and committing to each blob: off the async runtime.
        let rebuilt = tokio::task::spawn_blocking(move || {
            let reader = store.reader().ok();
            lookups
                .into_iter()
                .map(|(envelope, hashes): (Bytes, Vec<B256>)| {
                    let reader = reader.as_ref()?;
                    rebuild_blob_batch(&envelope, &hashes, |number| {
                        let header = reader.header(number).ok()??;
                        let body = reader.body(number).ok()??;
                        Some((header, body))
                    })
                })
                .collect::<Vec<_>>()
        })
        .await
        .wrap_err("the task rebuilding this node's own blobs failed")?;
        let missing = fill(block, &from_blocks, rebuilt, "rebuilt");
        if missing.is_empty() {
            return Ok(());
        }
        let Some(beacon) = &self.beacon else {
            let first = &block.transactions[missing[0]];
            eyre::bail!(
                "L1 block {} ({}) carries a blob batch (transaction {}, blobs: {}) whose blobs \
                 are neither this node's own (in memory or rebuilt from its blocks) nor in reth's \
                 blob pool (reth drops a blob once its block is finalized, and all of them when \
                 it starts), and derivation cannot go \
                 past it without them: start reth-rollup with --rollup.l1-beacon-url set to the \
                 beacon API of this L1's consensus client (one that still keeps the blobs of \
                 this block)",
                block.number,
                block.hash,
                first.hash,
                first.blob_versioned_hashes.len()
            );
        };
        debug!(target: "rollup::exex", l1_block = block.number, txs = missing.len(), url = beacon.url(), "blobs not at hand: reading them from the beacon API");
        let mut backoff = Duration::from_secs(1);
        let mut attempt = 1u32;
        while let Err(err) = beacon.attach(block).await {
            warn!(target: "rollup::exex", %err, l1_block = block.number, attempt, retry_in = ?backoff, "cannot read a blob batch's blobs from the beacon API; derivation waits for them");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BEACON_BACKOFF);
            attempt += 1;
        }
        metrics::counter!("rollup_exex_blobs_total", "source" => "beacon").increment(
            txs.iter()
                .map(|&index| block.transactions[index].blobs.len() as u64)
                .sum(),
        );
        Ok(())
    }
}

/// Gives each transaction at `txs` in `block` its blobs from `found` (same order), counting
/// them under `source`; returns the transactions `found` had nothing for.
fn fill(
    block: &mut L1Block,
    txs: &[usize],
    found: Vec<Option<Vec<Bytes>>>,
    source: &'static str,
) -> Vec<usize> {
    let mut missing = Vec::new();
    for (&index, blobs) in txs.iter().zip(found) {
        match blobs {
            Some(blobs) => {
                metrics::counter!("rollup_exex_blobs_total", "source" => source)
                    .increment(blobs.len() as u64);
                block.transactions[index].blobs = blobs;
            }
            None => missing.push(index),
        }
    }
    missing
}

/// The blobs with `versioned_hashes`, in that order, from the sidecar reth's pool keeps for
/// transaction `tx_hash`, each checked against its versioned hash; `None` if the pool does not
/// have them all.
fn pool_blobs(
    pool: &dyn BlobStore,
    tx_hash: B256,
    versioned_hashes: &[B256],
) -> Option<Vec<Bytes>> {
    let sidecar = match pool.get(tx_hash) {
        Ok(sidecar) => sidecar?,
        Err(err) => {
            warn!(target: "rollup::exex", %err, tx = %tx_hash, "cannot read reth's blob store");
            return None;
        }
    };
    let mut by_hash = HashMap::new();
    for blob in sidecar.blobs() {
        match versioned_hash(blob.as_slice()) {
            Ok(hash) => {
                by_hash.insert(hash, Bytes::copy_from_slice(blob.as_slice()));
            }
            Err(reason) => {
                warn!(target: "rollup::exex", %reason, tx = %tx_hash, "reth's blob store holds a blob that does not commit; not using it");
            }
        }
    }
    versioned_hashes
        .iter()
        .map(|hash| by_hash.get(hash).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use alloy_eips::{
        eip4844::{BYTES_PER_BLOB, Blob, BlobTransactionSidecar},
        eip7594::BlobTransactionSidecarVariant,
    };
    use std::{
        io::{Read, Write},
        net::TcpListener,
        sync::atomic::{AtomicUsize, Ordering},
    };

    use alloy_primitives::{B256, Log, U256};
    use alloy_sol_types::SolEvent;
    use reth_ethereum::pool::blobstore::{InMemoryBlobStore, PooledBlobSidecar};
    use rollup_node_core::RollupNode;
    use rollup_primitives::{
        BlockNumHash, L1Receipt, L1Transaction, bindings::IBatchInbox::BatchAppended,
    };

    use super::*;

    const INBOX: Address = Address::repeat_byte(2);
    const ORIGIN: u64 = 10;

    /// A valid blob (every field element below the modulus) that differs by `seed`.
    fn blob(seed: u8) -> Bytes {
        let mut blob = vec![0u8; BYTES_PER_BLOB];
        for element in blob.chunks_mut(32).take(64) {
            element[31] = seed;
        }
        Bytes::from(blob)
    }

    /// A successful `postBlobBatch` to the inbox with these blobs' versioned hashes, as reth's
    /// block and receipt show it.
    fn blob_batch(tx_hash: u8, blobs: &[Bytes]) -> (L1Transaction, L1Receipt) {
        let hashes = blobs
            .iter()
            .map(|blob| versioned_hash(blob).unwrap())
            .collect::<Vec<_>>();
        let event = BatchAppended {
            index: U256::from(tx_hash),
            firstBlock: 1,
            blockCount: 1,
            lastOrigin: ORIGIN,
            depositCount: 0,
            forced: false,
            dataHash: B256::ZERO,
            segmentRoot: B256::ZERO,
            blocksHash: B256::ZERO,
            blobCount: blobs.len() as u8,
            lastBlockOpen: false,
        };
        let tx = L1Transaction {
            hash: B256::repeat_byte(tx_hash),
            from: Address::repeat_byte(4),
            to: Some(INBOX),
            input: Bytes::from_static(b"envelope"),
            blob_versioned_hashes: hashes,
            blobs: Vec::new(),
        };
        let receipt = L1Receipt {
            success: true,
            logs: vec![Log {
                address: INBOX,
                data: event.encode_log_data(),
            }],
        };
        (tx, receipt)
    }

    fn block(number: u64, parent_hash: B256, txs: Vec<(L1Transaction, L1Receipt)>) -> L1Block {
        let (transactions, receipts) = txs.into_iter().unzip();
        L1Block {
            number,
            hash: B256::with_last_byte(number as u8),
            parent_hash,
            timestamp: 1_700_000_000 + number * 12,
            mix_hash: B256::ZERO,
            base_fee_per_gas: Some(7),
            transactions,
            receipts,
        }
    }

    fn committed(blocks: Vec<L1Block>) -> L1Notification {
        L1Notification::Committed {
            new: Arc::new(L1Chain::new(blocks).unwrap()),
        }
    }

    fn committed_blocks(notification: &L1Notification) -> &[L1Block] {
        match notification {
            L1Notification::Committed { new } => new.blocks(),
            other => panic!("expected a committed chain, got {other:?}"),
        }
    }

    /// An attacher over an empty rollup database whose L1 origin is block `ORIGIN`.
    fn attacher(
        dir: &tempfile::TempDir,
        known: KnownBlobs,
        pool: InMemoryBlobStore,
    ) -> BlobAttacher {
        let store = Store::open(&dir.path().join("db")).unwrap();
        BlobAttacher::new(INBOX, ORIGIN, store, known, Arc::new(pool), None)
    }

    /// reth's pool holding `blobs` as transaction `tx_hash`'s sidecar.
    fn pool_with(pool: &InMemoryBlobStore, tx_hash: u8, blobs: &[Bytes]) {
        let sidecar = BlobTransactionSidecar {
            blobs: blobs
                .iter()
                .map(|blob| Blob::try_from(blob.as_ref()).unwrap())
                .collect(),
            // Only the blobs are read: each is checked against its versioned hash anyway.
            commitments: Vec::new(),
            proofs: Vec::new(),
        };
        let sidecar = PooledBlobSidecar::from(BlobTransactionSidecarVariant::Eip4844(sidecar));
        pool.insert(B256::repeat_byte(tx_hash), sidecar).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blobs_from_reths_pool_are_attached_in_versioned_hash_order() {
        let dir = tempfile::tempdir().unwrap();
        let pool = InMemoryBlobStore::default();
        let blobs = [blob(1), blob(2)];
        // The pool's sidecar lists them the other way round: the versioned hashes decide.
        pool_with(&pool, 0xb1, &[blobs[1].clone(), blobs[0].clone()]);
        let attacher = attacher(&dir, KnownBlobs::default(), pool);

        let (other_tx, other_receipt) = blob_batch(0xc1, &[blob(3)]);
        // Not an inbox call: nobody reads its blobs, so their absence is fine.
        let other = (
            L1Transaction {
                to: Some(Address::repeat_byte(9)),
                ..other_tx
            },
            other_receipt,
        );
        let notification = committed(vec![block(
            ORIGIN + 1,
            B256::ZERO,
            vec![other, blob_batch(0xb1, &blobs)],
        )]);
        let attached = attacher.attach(notification).await.unwrap();
        let block = &committed_blocks(&attached)[0];
        assert!(block.transactions[0].blobs.is_empty());
        assert_eq!(block.transactions[1].blobs, blobs.to_vec());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn own_blobs_need_no_pool() {
        let dir = tempfile::tempdir().unwrap();
        let known = KnownBlobs::default();
        let own = blob(7);
        // What the batcher does: build the sidecar, remembering its blobs.
        rollup_l1::sidecar(vec![Blob::try_from(own.as_ref()).unwrap()], Some(&known)).unwrap();
        let attacher = attacher(&dir, known, InMemoryBlobStore::default());
        let notification = committed(vec![block(
            ORIGIN + 1,
            B256::ZERO,
            vec![blob_batch(0xb1, std::slice::from_ref(&own))],
        )]);
        let attached = attacher.attach(notification).await.unwrap();
        assert_eq!(
            committed_blocks(&attached)[0].transactions[0].blobs,
            vec![own]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blobs_found_nowhere_stop_with_the_beacon_flag() {
        let dir = tempfile::tempdir().unwrap();
        let pool = InMemoryBlobStore::default();
        let blobs = [blob(1)];
        // A sidecar in the pool that does not match the transaction's versioned hash is no
        // source for it.
        pool_with(&pool, 0xb1, &[blob(2)]);
        let attacher = attacher(&dir, KnownBlobs::default(), pool);
        let notification = committed(vec![block(
            ORIGIN + 1,
            B256::ZERO,
            vec![blob_batch(0xb1, &blobs)],
        )]);
        let err = attacher.attach(notification).await.unwrap_err().to_string();
        assert!(
            err.contains("--rollup.l1-beacon-url")
                && err.contains(&format!("L1 block {}", ORIGIN + 1))
                && err.contains(&B256::repeat_byte(0xb1).to_string()),
            "the error names the block, the transaction and the flag to set: {err}"
        );
    }

    /// A beacon API as anvil serves it (no chain spec, so blocks are named by execution hash)
    /// that fails its first blob request, then serves `blobs` for block `hash`. Returns its URL
    /// and how many blob requests it answered.
    fn beacon(hash: B256, blobs: Vec<Bytes>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut request = [0u8; 4096];
                let read = stream.read(&mut request).unwrap();
                let request = String::from_utf8_lossy(&request[..read]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or_default();
                let (status, body) = if path == format!("/eth/v1/beacon/blobs/{hash}") {
                    if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                        ("500 Internal Server Error", "{}".to_string())
                    } else {
                        ("200 OK", serde_json::json!({ "data": blobs }).to_string())
                    }
                } else {
                    ("404 Not Found", "{}".to_string())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, requests)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_beacon_api_serves_what_the_pool_lacks_and_is_retried() {
        let dir = tempfile::tempdir().unwrap();
        let pooled = [blob(1)];
        let elsewhere = [blob(2), blob(3)];
        let pool = InMemoryBlobStore::default();
        pool_with(&pool, 0xb1, &pooled);
        let block = block(
            ORIGIN + 1,
            B256::ZERO,
            vec![blob_batch(0xb1, &pooled), blob_batch(0xb2, &elsewhere)],
        );
        // The beacon node serves all of the block's blobs, in its own order.
        let (url, requests) = beacon(
            block.hash,
            vec![
                elsewhere[1].clone(),
                pooled[0].clone(),
                elsewhere[0].clone(),
            ],
        );
        let store = Store::open(&dir.path().join("db")).unwrap();
        let attacher = BlobAttacher::new(
            INBOX,
            ORIGIN,
            store,
            KnownBlobs::default(),
            Arc::new(pool),
            Some(BlobSource::new(&url, INBOX).unwrap()),
        );
        let attached = attacher.attach(committed(vec![block])).await.unwrap();
        let block = &committed_blocks(&attached)[0];
        assert_eq!(block.transactions[0].blobs, pooled.to_vec());
        assert_eq!(block.transactions[1].blobs, elsewhere.to_vec());
        assert_eq!(
            requests.load(Ordering::SeqCst),
            2,
            "a failed beacon request is retried, not taken for missing blobs"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn blocks_the_core_skips_need_no_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let origin = block(ORIGIN, B256::ZERO, vec![]);
        let mut node = RollupNode::new(
            crate::tests::config(BlockNumHash {
                number: ORIGIN,
                hash: origin.hash,
            }),
            store.clone(),
        )
        .unwrap();
        // The core holds block ORIGIN + 1 (without batches).
        let held = block(ORIGIN + 1, origin.hash, vec![]);
        node.handle_notification(&committed(vec![held.clone()]))
            .unwrap();
        let attacher = BlobAttacher::new(
            INBOX,
            ORIGIN,
            store,
            KnownBlobs::default(),
            Arc::new(InMemoryBlobStore::default()),
            None,
        );
        // The same blocks delivered again, now seen with blob batches whose blobs are nowhere
        // (the origin, and a block the core holds): passed on, the core skips them.
        let with_batch = |block: &L1Block, tx: u8| L1Block {
            transactions: vec![blob_batch(tx, &[blob(tx)]).0],
            receipts: vec![blob_batch(tx, &[blob(tx)]).1],
            ..block.clone()
        };
        let again = committed(vec![with_batch(&origin, 1), with_batch(&held, 2)]);
        assert_eq!(attacher.attach(again.clone()).await.unwrap(), again);
        // The next block is new to the core: its blobs are needed.
        let next = block(ORIGIN + 2, held.hash, vec![blob_batch(3, &[blob(3)])]);
        let err = attacher.attach(committed(vec![next])).await.unwrap_err();
        assert!(err.to_string().contains("--rollup.l1-beacon-url"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reverted_chains_are_passed_on() {
        let dir = tempfile::tempdir().unwrap();
        let attacher = attacher(&dir, KnownBlobs::default(), InMemoryBlobStore::default());
        let reverted = L1Notification::Reverted {
            old: Arc::new(
                L1Chain::new(vec![block(
                    ORIGIN + 1,
                    B256::ZERO,
                    vec![blob_batch(1, &[blob(1)])],
                )])
                .unwrap(),
            ),
        };
        assert_eq!(attacher.attach(reverted.clone()).await.unwrap(), reverted);
    }
}
