//! The transaction pool.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap},
    sync::Mutex,
};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip1559::BaseFeeParams;
use alloy_primitives::{Address, B256, U256};
use rollup_execution::intrinsic_gas;
use rollup_primitives::{L2Transaction, RollupConfig};
use rollup_storage::Store;
use tokio::sync::Notify;

use crate::PoolError;

/// Most bytes of transactions (EIP-2718 encoded) in one block: every block must fit one batch
/// (`MAX_BATCH_SIZE` after compression, 120 000 bytes), and the batch encoding is never much
/// larger than the raw transactions (FastLZ expands incompressible data by at most ~3%).
pub const MAX_BLOCK_TX_BYTES: usize = 110_000;

/// Pool limits.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Largest accepted transaction, in bytes (geth: 128 KiB).
    pub max_tx_size: usize,
    /// How far ahead of an account's nonce transactions are queued.
    pub max_nonce_gap: u64,
    /// Most transactions held.
    pub max_transactions: usize,
    /// Fee increase, in percent, a same-nonce replacement must pay.
    pub price_bump_percent: u128,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_tx_size: 128 * 1024,
            max_nonce_gap: 64,
            max_transactions: 50_000,
            price_bump_percent: 10,
        }
    }
}

#[derive(Debug, Clone)]
struct Pooled {
    tx: L2Transaction,
    hash: B256,
    /// EIP-2718 length: what the transaction adds to a batch, before compression.
    size: usize,
    /// Arrival order: blocks take transactions first come, first served.
    seq: u64,
}

impl Pooled {
    fn envelope(&self) -> &TxEnvelope {
        match &self.tx {
            L2Transaction::Signed { envelope, .. } => envelope,
            L2Transaction::Deposit(_) => unreachable!("deposits never enter the pool"),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_sender: HashMap<Address, BTreeMap<u64, Pooled>>,
    by_hash: HashMap<B256, (Address, u64)>,
    next_seq: u64,
}

impl Inner {
    fn remove(&mut self, sender: Address, nonce: u64) {
        if let Some(txs) = self.by_sender.get_mut(&sender) {
            if let Some(tx) = txs.remove(&nonce) {
                self.by_hash.remove(&tx.hash);
            }
            if txs.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
    }
}

/// Validated transactions waiting for a block. Shared between RPC (which adds) and the
/// sequencer (which takes); all methods are short critical sections.
#[derive(Debug)]
pub struct TxPool {
    config: PoolConfig,
    chain_id: u64,
    block_gas_limit: u64,
    store: Store,
    inner: Mutex<Inner>,
    added: Notify,
}

impl TxPool {
    /// A pool for the rollup `rollup`, validating against the state in `store`.
    pub fn new(config: PoolConfig, rollup: &RollupConfig, store: Store) -> Self {
        Self {
            config,
            chain_id: rollup.l2_chain_id,
            block_gas_limit: rollup.genesis.gas_limit,
            store,
            inner: Mutex::new(Inner::default()),
            added: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves when a transaction was added since the last call.
    pub async fn added(&self) {
        self.added.notified().await;
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<L2Transaction> {
        let inner = self.lock();
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner
            .by_sender
            .get(sender)?
            .get(nonce)
            .map(|pooled| pooled.tx.clone())
    }

    /// The next nonce `address` should use, counting its pooled transactions that follow its
    /// account nonce without a gap (`eth_getTransactionCount(…, "pending")`).
    pub fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64 {
        let inner = self.lock();
        let mut nonce = state_nonce;
        if let Some(txs) = inner.by_sender.get(&address) {
            while txs.contains_key(&nonce) {
                nonce += 1;
            }
        }
        nonce
    }

    /// The base fee the next block will have.
    fn next_base_fee(&self) -> Result<u64, PoolError> {
        let reader = self
            .store
            .reader()
            .map_err(|e| PoolError::Internal(e.to_string()))?;
        let head = reader
            .l2_head()
            .map_err(|e| PoolError::Internal(e.to_string()))?
            .unwrap_or_default();
        let header = reader
            .header(head)
            .map_err(|e| PoolError::Internal(e.to_string()))?
            .ok_or_else(|| PoolError::Internal(format!("no header for head {head}")))?;
        Ok(header
            .next_block_base_fee(BaseFeeParams::ethereum())
            .unwrap_or(header.base_fee_per_gas.unwrap_or_default()))
    }

    /// Decodes, recovers and validates raw EIP-2718 bytes and adds the transaction. Returns its
    /// hash.
    pub fn add_raw(&self, raw: &[u8]) -> Result<B256, PoolError> {
        if raw.len() > self.config.max_tx_size {
            return Err(PoolError::Oversized {
                size: raw.len(),
                limit: self.config.max_tx_size,
            });
        }
        let tx = L2Transaction::decode_2718_recover(raw)
            .map_err(|err| PoolError::Decode(err.to_string()))?;
        self.add(tx)
    }

    /// Validates a decoded transaction and adds it.
    pub fn add(&self, tx: L2Transaction) -> Result<B256, PoolError> {
        let L2Transaction::Signed { envelope, sender } = &tx else {
            return Err(PoolError::DepositNotAllowed);
        };
        let sender = *sender;
        self.check_static(envelope)?;
        let base_fee = self.next_base_fee()?;
        if envelope.max_fee_per_gas() < u128::from(base_fee) {
            return Err(PoolError::FeeCapTooLow {
                max_fee: envelope.max_fee_per_gas(),
                base_fee,
            });
        }
        let account = self
            .store
            .reader()
            .and_then(|reader| reader.account(sender))
            .map_err(|e| PoolError::Internal(e.to_string()))?
            .unwrap_or_default();
        let nonce = envelope.nonce();
        if nonce < account.nonce {
            return Err(PoolError::NonceTooLow {
                state: account.nonce,
                tx: nonce,
            });
        }
        if nonce > account.nonce + self.config.max_nonce_gap {
            return Err(PoolError::NonceTooHigh {
                state: account.nonce,
                tx: nonce,
                max_gap: self.config.max_nonce_gap,
            });
        }
        let cost = U256::from(envelope.gas_limit()) * U256::from(envelope.max_fee_per_gas())
            + envelope.value();
        if cost > account.balance {
            return Err(PoolError::InsufficientFunds {
                balance: account.balance,
                cost,
            });
        }

        let hash = tx.hash();
        let size = alloy_eips::eip2718::Encodable2718::encode_2718_len(&tx);
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        if let Some(existing) = inner.by_sender.get(&sender).and_then(|txs| txs.get(&nonce)) {
            let bump = |old: u128| old + old * self.config.price_bump_percent / 100;
            let old = existing.envelope();
            let fee_ok = envelope.max_fee_per_gas() >= bump(old.max_fee_per_gas());
            let tip_ok = envelope
                .max_priority_fee_per_gas()
                .unwrap_or(envelope.max_fee_per_gas())
                >= bump(
                    old.max_priority_fee_per_gas()
                        .unwrap_or(old.max_fee_per_gas()),
                );
            if !(fee_ok && tip_ok) {
                return Err(PoolError::ReplacementUnderpriced);
            }
            inner.remove(sender, nonce);
        } else if inner.by_hash.len() >= self.config.max_transactions {
            return Err(PoolError::PoolFull);
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.by_hash.insert(hash, (sender, nonce));
        inner.by_sender.entry(sender).or_default().insert(
            nonce,
            Pooled {
                tx,
                hash,
                size,
                seq,
            },
        );
        drop(inner);
        metrics::counter!("rollup_txpool_added_total").increment(1);
        self.added.notify_one();
        Ok(hash)
    }

    /// Checks that need no state.
    fn check_static(&self, envelope: &TxEnvelope) -> Result<(), PoolError> {
        match envelope {
            TxEnvelope::Eip4844(_) => return Err(PoolError::TxTypeNotSupported),
            TxEnvelope::Legacy(_) if envelope.chain_id().is_none() => {
                return Err(PoolError::NotReplayProtected);
            }
            _ => {}
        }
        if envelope.chain_id() != Some(self.chain_id) {
            return Err(PoolError::WrongChainId {
                have: envelope.chain_id(),
                want: self.chain_id,
            });
        }
        if envelope.gas_limit() > self.block_gas_limit {
            return Err(PoolError::GasLimitExceeded);
        }
        let intrinsic = intrinsic_gas(envelope);
        if envelope.gas_limit() < intrinsic {
            return Err(PoolError::IntrinsicGasTooLow {
                have: envelope.gas_limit(),
                want: intrinsic,
            });
        }
        if let Some(tip) = envelope.max_priority_fee_per_gas()
            && tip > envelope.max_fee_per_gas()
        {
            return Err(PoolError::TipAboveFeeCap);
        }
        Ok(())
    }

    /// Executable transactions for the next block, first come first served across senders and
    /// in nonce order per sender, within `gas_limit` and [`MAX_BLOCK_TX_BYTES`], paying at least
    /// `base_fee`. `account_nonce` gives each sender's current nonce.
    pub fn best(
        &self,
        gas_limit: u64,
        base_fee: u64,
        account_nonce: impl Fn(Address) -> u64,
    ) -> Vec<L2Transaction> {
        let inner = self.lock();
        let mut cursors: HashMap<Address, u64> = HashMap::new();
        let mut heap = BinaryHeap::new();
        for (sender, txs) in &inner.by_sender {
            let nonce = account_nonce(*sender);
            if let Some(first) = txs.get(&nonce) {
                cursors.insert(*sender, nonce);
                heap.push(Reverse((first.seq, *sender)));
            }
        }
        let mut out = Vec::new();
        let mut gas = 0u64;
        let mut bytes = 0usize;
        while let Some(Reverse((_, sender))) = heap.pop() {
            let nonce = cursors[&sender];
            let pooled = &inner.by_sender[&sender][&nonce];
            let envelope = pooled.envelope();
            if envelope.max_fee_per_gas() < u128::from(base_fee)
                || gas + envelope.gas_limit() > gas_limit
                || bytes + pooled.size > MAX_BLOCK_TX_BYTES
            {
                // This sender waits for a later block; others may still fit.
                continue;
            }
            gas += envelope.gas_limit();
            bytes += pooled.size;
            out.push(pooled.tx.clone());
            if let Some(next) = inner.by_sender[&sender].get(&(nonce + 1)) {
                cursors.insert(sender, nonce + 1);
                heap.push(Reverse((next.seq, sender)));
            }
        }
        out
    }

    /// Removes `hashes` (included in a block, or rejected by it) and every transaction whose
    /// nonce is now below its sender's account nonce.
    pub fn remove_and_prune(&self, hashes: &[B256], account_nonce: impl Fn(Address) -> u64) {
        let mut inner = self.lock();
        for hash in hashes {
            if let Some((sender, nonce)) = inner.by_hash.get(hash).copied() {
                inner.remove(sender, nonce);
            }
        }
        let senders: Vec<Address> = inner.by_sender.keys().copied().collect();
        for sender in senders {
            let nonce = account_nonce(sender);
            let stale: Vec<u64> = inner.by_sender[&sender]
                .range(..nonce)
                .map(|(n, _)| *n)
                .collect();
            for n in stale {
                inner.remove(sender, n);
            }
        }
        metrics::gauge!("rollup_txpool_size").set(inner.by_hash.len() as f64);
    }
}
