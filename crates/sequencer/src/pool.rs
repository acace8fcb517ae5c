//! The transaction pool.
//!
//! Two sub-pools, as in geth and reth: *pending* holds each sender's transactions whose nonces
//! follow its account nonce without a gap (executable now, in order), *queued* the ones behind a
//! gap. Each has a cap on transactions and bytes; queued ones also a cap per sender and a
//! lifetime. When a sub-pool is full, a new transaction that pays a higher effective tip evicts
//! the cheapest *tail* (a sender's highest nonce in that sub-pool, so eviction never opens a
//! gap); one that cannot is refused with "txpool is full". Blocks take transactions by effective
//! tip at the block's base fee, highest first, each sender in nonce order.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_consensus::{Transaction as _, TxEnvelope, TxType};
use alloy_eips::{eip1559::BaseFeeParams, eip2718::Encodable2718};
use alloy_primitives::{Address, B256, U256};
use rollup_execution::intrinsic_gas;
use rollup_primitives::{DEPOSIT_TX_TYPE, L2Transaction, MAX_TX_SIZE, RollupConfig};
use rollup_storage::{Store, StoreReader};
use tokio::sync::{Notify, broadcast};
use tracing::{debug, warn};

use crate::PoolError;

/// Pool limits. Defaults are reth's (`--txpool.*`) where reth has the limit: 10 000
/// transactions and 20 MiB for pending, 16 slots per sender (here for queued ones), a 10% price
/// bump, a 3 h queued lifetime; queued gets less room than reth gives it, and no transaction is
/// larger than a block carries.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Largest accepted transaction, in bytes (EIP-2718 encoding). Never effectively above
    /// [`MAX_TX_SIZE`] (31 000): a larger one might not fit a batch segment, and no batch could
    /// carry the block holding it.
    pub max_tx_size: usize,
    /// How far ahead of an account's nonce transactions are accepted.
    pub max_nonce_gap: u64,
    /// Most transactions in the pending sub-pool.
    pub max_pending: usize,
    /// Most bytes (EIP-2718 encoded) in the pending sub-pool.
    pub max_pending_bytes: usize,
    /// Most transactions in the queued sub-pool (nonce gaps).
    pub max_queued: usize,
    /// Most bytes (EIP-2718 encoded) in the queued sub-pool.
    pub max_queued_bytes: usize,
    /// Most queued transactions of one sender (reth's and geth's account slots).
    pub max_queued_per_sender: usize,
    /// How long a transaction may stay queued before it is dropped (geth's `lifetime`).
    pub queued_lifetime: Duration,
    /// Fee increase, in percent, a same-nonce replacement must pay on both its max fee and its
    /// max priority fee.
    pub price_bump_percent: u128,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_tx_size: MAX_TX_SIZE,
            max_nonce_gap: 64,
            max_pending: 10_000,
            max_pending_bytes: 20 * 1024 * 1024,
            // Below reth's 10 000: queued transactions cannot be sequenced, so they get less room.
            max_queued: 4_096,
            max_queued_bytes: 10 * 1024 * 1024,
            max_queued_per_sender: 16,
            queued_lifetime: Duration::from_secs(3 * 60 * 60),
            price_bump_percent: 10,
        }
    }
}

/// The two sub-pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubPool {
    /// Nonces consecutive from the account nonce.
    Pending,
    /// Behind a nonce gap.
    Queued,
}

#[derive(Debug, Clone)]
struct Pooled {
    envelope: TxEnvelope,
    hash: B256,
    /// EIP-2718 length: what the transaction adds to a batch, before compression.
    size: usize,
    /// Arrival order: among equal tips, blocks take the earlier transaction first.
    seq: u64,
    added_at: Instant,
    sub_pool: SubPool,
}

impl Pooled {
    /// Orders transactions for eviction at `base_fee`: lowest effective tip first (`None`, a fee
    /// cap below the base fee, lowest of all), and among equal tips the newest first.
    fn eviction_key(&self, base_fee: u64) -> EvictionKey {
        (
            self.envelope.effective_tip_per_gas(base_fee),
            Reverse(self.seq),
        )
    }
}

type EvictionKey = (Option<u128>, Reverse<u64>);

/// One sender's transactions.
#[derive(Debug, Default)]
struct SenderTxs {
    /// The account nonce when last looked at.
    state_nonce: u64,
    txs: BTreeMap<u64, Pooled>,
}

impl SenderTxs {
    /// The highest nonce in `sub_pool` and its transaction.
    fn tail(&self, sub_pool: SubPool) -> Option<(u64, &Pooled)> {
        self.txs
            .iter()
            .rev()
            .find(|(_, pooled)| pooled.sub_pool == sub_pool)
            .map(|(nonce, pooled)| (*nonce, pooled))
    }

    /// What the executable (pending) transactions may cost at most: those at consecutive
    /// nonces from `state_nonce`, leaving out the one at `except` (which a new transaction
    /// replaces, so it still counts as filling its nonce). As geth, transactions behind a gap
    /// are not counted: they cannot run until the gap is filled.
    fn cost_except(&self, state_nonce: u64, except: u64) -> U256 {
        (state_nonce..)
            .zip(self.txs.range(state_nonce..))
            .take_while(|(next, (nonce, _))| *nonce == next)
            .filter(|(_, (nonce, _))| **nonce != except)
            .fold(U256::ZERO, |sum, (_, (_, pooled))| {
                sum.saturating_add(max_cost(&pooled.envelope))
            })
    }

    fn queued(&self) -> usize {
        self.txs
            .values()
            .filter(|pooled| pooled.sub_pool == SubPool::Queued)
            .count()
    }
}

/// The most `envelope` can take from its sender's balance: gas limit × max fee + value, or
/// `U256::MAX` if that does not fit (gas × fee fits in 64 + 128 bits; adding a value near 2^256
/// would wrap to a small cost).
fn max_cost(envelope: &TxEnvelope) -> U256 {
    (U256::from(envelope.gas_limit()) * U256::from(envelope.max_fee_per_gas()))
        .checked_add(envelope.value())
        .unwrap_or(U256::MAX)
}

/// Size of one sub-pool and its eviction candidates.
#[derive(Debug, Default)]
struct SubPoolState {
    count: usize,
    bytes: usize,
    /// Each sender's tail in this sub-pool, by eviction key.
    tails: BTreeMap<EvictionKey, (Address, u64)>,
}

/// Who may be evicted to bring the sub-pools within their limits.
#[derive(Debug, Clone, Copy)]
enum Evict {
    /// Only transactions of other senders paying a lower effective tip than a new one.
    CheaperThan { tip: Option<u128>, sender: Address },
    /// Anyone, cheapest first: the pool is over its limits after a state change.
    Any,
}

#[derive(Debug, Default)]
struct Inner {
    senders: HashMap<Address, SenderTxs>,
    by_hash: HashMap<B256, (Address, u64)>,
    pending: SubPoolState,
    queued: SubPoolState,
    /// Queued transactions by arrival, oldest first, for the lifetime.
    queued_by_age: BTreeMap<u64, (Address, u64)>,
    /// The base fee the eviction keys were computed at.
    base_fee: u64,
    next_seq: u64,
}

impl Inner {
    const fn sub_pool(&self, sub_pool: SubPool) -> &SubPoolState {
        match sub_pool {
            SubPool::Pending => &self.pending,
            SubPool::Queued => &self.queued,
        }
    }

    /// Takes `sender`'s transactions out of the counts and indexes, before changing them.
    fn detach(&mut self, sender: Address) {
        let Some(account) = self.senders.get(&sender) else {
            return;
        };
        for pooled in account.txs.values() {
            let state = match pooled.sub_pool {
                SubPool::Pending => &mut self.pending,
                SubPool::Queued => {
                    self.queued_by_age.remove(&pooled.seq);
                    &mut self.queued
                }
            };
            state.count -= 1;
            state.bytes -= pooled.size;
        }
        for (sub_pool, state) in [
            (SubPool::Pending, &mut self.pending),
            (SubPool::Queued, &mut self.queued),
        ] {
            if let Some((_, tail)) = account.tail(sub_pool) {
                state.tails.remove(&tail.eviction_key(self.base_fee));
            }
        }
    }

    /// Classifies `sender`'s transactions into the sub-pools and puts them back into the counts
    /// and indexes, after changing them.
    fn attach(&mut self, sender: Address) {
        let Some(account) = self.senders.get_mut(&sender) else {
            return;
        };
        if account.txs.is_empty() {
            self.senders.remove(&sender);
            return;
        }
        let mut next = account.state_nonce;
        for (nonce, pooled) in &mut account.txs {
            pooled.sub_pool = if *nonce == next {
                next += 1;
                SubPool::Pending
            } else {
                SubPool::Queued
            };
            let state = match pooled.sub_pool {
                SubPool::Pending => &mut self.pending,
                SubPool::Queued => {
                    self.queued_by_age.insert(pooled.seq, (sender, *nonce));
                    &mut self.queued
                }
            };
            state.count += 1;
            state.bytes += pooled.size;
        }
        for (sub_pool, state) in [
            (SubPool::Pending, &mut self.pending),
            (SubPool::Queued, &mut self.queued),
        ] {
            if let Some((nonce, tail)) = account.tail(sub_pool) {
                state
                    .tails
                    .insert(tail.eviction_key(self.base_fee), (sender, nonce));
            }
        }
    }

    /// Records `sender`'s account nonce, dropping its transactions below it.
    fn set_state_nonce(&mut self, sender: Address, state_nonce: u64) {
        let Some(account) = self.senders.get(&sender) else {
            return;
        };
        if account.state_nonce == state_nonce
            && account
                .txs
                .first_key_value()
                .is_none_or(|(nonce, _)| *nonce >= state_nonce)
        {
            return;
        }
        self.detach(sender);
        if let Some(account) = self.senders.get_mut(&sender) {
            account.state_nonce = state_nonce;
            let kept = account.txs.split_off(&state_nonce);
            for used in std::mem::replace(&mut account.txs, kept).into_values() {
                self.by_hash.remove(&used.hash);
            }
        }
        self.attach(sender);
    }

    /// Adds `pooled` at `nonce`, returning the transaction it replaces.
    fn insert(
        &mut self,
        sender: Address,
        state_nonce: u64,
        nonce: u64,
        pooled: Pooled,
    ) -> Option<Pooled> {
        self.set_state_nonce(sender, state_nonce);
        if let Some(place) = self.appended(sender, state_nonce, nonce) {
            self.append(sender, nonce, pooled, place);
            return None;
        }
        self.detach(sender);
        self.by_hash.insert(pooled.hash, (sender, nonce));
        let account = self.senders.entry(sender).or_default();
        account.state_nonce = state_nonce;
        let replaced = account.txs.insert(nonce, pooled);
        if let Some(replaced) = &replaced {
            self.by_hash.remove(&replaced.hash);
        }
        self.attach(sender);
        replaced
    }

    /// Where `sender`'s transaction at `nonce` goes if it is above every other of the sender's
    /// (the common case: a sender's transactions arrive in nonce order, and a removed block's
    /// come back in it): pending if it continues the sender's pending run, queued otherwise,
    /// with the eviction key of its sub-pool's tail so far, which it replaces. `None` where that
    /// does not apply, and [`Self::insert`] reclassifies all of the sender's transactions, a
    /// cost that grows with their number (a removed block's thousands of transactions of one
    /// sender took quadratic time).
    fn appended(
        &self,
        sender: Address,
        state_nonce: u64,
        nonce: u64,
    ) -> Option<(SubPool, Option<EvictionKey>)> {
        let account = self.senders.get(&sender)?;
        if account.state_nonce != state_nonce {
            return None;
        }
        let last = account.txs.last_key_value();
        if last.is_some_and(|(last, _)| *last >= nonce) {
            return None;
        }
        let sub_pool = match last {
            None if nonce == state_nonce => SubPool::Pending,
            Some((last, tail)) if tail.sub_pool == SubPool::Pending && *last + 1 == nonce => {
                SubPool::Pending
            }
            _ => SubPool::Queued,
        };
        // Pending transactions come before queued ones: the sub-pool's tail so far is the
        // sender's last transaction if that is in the same sub-pool.
        let old_tail = last
            .filter(|(_, tail)| tail.sub_pool == sub_pool)
            .map(|(_, tail)| tail.eviction_key(self.base_fee));
        Some((sub_pool, old_tail))
    }

    /// Adds `pooled` where [`Self::appended`] placed it.
    fn append(
        &mut self,
        sender: Address,
        nonce: u64,
        mut pooled: Pooled,
        (sub_pool, old_tail): (SubPool, Option<EvictionKey>),
    ) {
        pooled.sub_pool = sub_pool;
        let key = pooled.eviction_key(self.base_fee);
        let (seq, size, hash) = (pooled.seq, pooled.size, pooled.hash);
        if let Some(account) = self.senders.get_mut(&sender) {
            account.txs.insert(nonce, pooled);
        }
        let state = match sub_pool {
            SubPool::Pending => &mut self.pending,
            SubPool::Queued => {
                self.queued_by_age.insert(seq, (sender, nonce));
                &mut self.queued
            }
        };
        state.count += 1;
        state.bytes += size;
        if let Some(old_tail) = old_tail {
            state.tails.remove(&old_tail);
        }
        state.tails.insert(key, (sender, nonce));
        self.by_hash.insert(hash, (sender, nonce));
    }

    /// Removes the transaction at `nonce`; later ones of the sender become queued.
    fn remove(&mut self, sender: Address, nonce: u64) -> Option<Pooled> {
        self.detach(sender);
        let removed = self
            .senders
            .get_mut(&sender)
            .and_then(|account| account.txs.remove(&nonce));
        if let Some(removed) = &removed {
            self.by_hash.remove(&removed.hash);
        }
        self.attach(sender);
        removed
    }

    /// Recomputes the eviction keys if the base fee changed (once per block).
    fn set_base_fee(&mut self, base_fee: u64) {
        if base_fee == self.base_fee {
            return;
        }
        self.base_fee = base_fee;
        self.pending.tails.clear();
        self.queued.tails.clear();
        for (sender, account) in &self.senders {
            for (sub_pool, state) in [
                (SubPool::Pending, &mut self.pending),
                (SubPool::Queued, &mut self.queued),
            ] {
                if let Some((nonce, tail)) = account.tail(sub_pool) {
                    state
                        .tails
                        .insert(tail.eviction_key(base_fee), (*sender, nonce));
                }
            }
        }
    }

    /// Drops queued transactions that waited longer than `lifetime`. Returns how many.
    fn expire_queued(&mut self, lifetime: Duration) -> usize {
        let mut expired = 0;
        while let Some((_, &(sender, nonce))) = self.queued_by_age.first_key_value() {
            let stale = self
                .senders
                .get(&sender)
                .and_then(|account| account.txs.get(&nonce))
                .is_none_or(|pooled| pooled.added_at.elapsed() >= lifetime);
            if !stale {
                break;
            }
            if self.remove(sender, nonce).is_none() {
                // Not there: an index entry that outlived its transaction; never loop on it.
                self.queued_by_age.pop_first();
            }
            expired += 1;
        }
        expired
    }

    /// The transactions to evict, queued first, so each sub-pool is within `config`'s limits;
    /// `None` if `evict` does not allow enough of them.
    fn plan_evictions(&self, config: &PoolConfig, evict: Evict) -> Option<Vec<(Address, u64)>> {
        let mut victims = Vec::new();
        for (sub_pool, max_count, max_bytes) in [
            (SubPool::Queued, config.max_queued, config.max_queued_bytes),
            (
                SubPool::Pending,
                config.max_pending,
                config.max_pending_bytes,
            ),
        ] {
            let state = self.sub_pool(sub_pool);
            let mut excess_count = state.count.saturating_sub(max_count);
            let mut excess_bytes = state.bytes.saturating_sub(max_bytes);
            // Tails in key order, merged with the tails that evicting a tail uncovers.
            let mut tails = state
                .tails
                .iter()
                .filter(|(_, (sender, _))| match evict {
                    Evict::CheaperThan { sender: own, .. } => *sender != own,
                    Evict::Any => true,
                })
                .map(|(key, (sender, nonce))| (*key, *sender, *nonce))
                .peekable();
            let mut uncovered: BinaryHeap<Reverse<(EvictionKey, Address, u64)>> = BinaryHeap::new();
            while excess_count > 0 || excess_bytes > 0 {
                let from_index = tails.peek().map(|(key, ..)| *key);
                let from_heap = uncovered.peek().map(|Reverse((key, ..))| *key);
                let (key, sender, nonce) = match (from_index, from_heap) {
                    (Some(a), Some(b)) if a <= b => tails.next()?,
                    (Some(_), None) => tails.next()?,
                    (_, Some(_)) => uncovered.pop().map(|Reverse(victim)| victim)?,
                    (None, None) => return None,
                };
                if let Evict::CheaperThan { tip, .. } = evict
                    && key.0 >= tip
                {
                    return None;
                }
                let account = self.senders.get(&sender)?;
                let victim = account.txs.get(&nonce)?;
                excess_count = excess_count.saturating_sub(1);
                excess_bytes = excess_bytes.saturating_sub(victim.size);
                victims.push((sender, nonce));
                if let Some((lower, pooled)) = account.txs.range(..nonce).next_back()
                    && pooled.sub_pool == sub_pool
                {
                    uncovered.push(Reverse((
                        pooled.eviction_key(self.base_fee),
                        sender,
                        *lower,
                    )));
                }
            }
        }
        Some(victims)
    }

    fn record_metrics(&self) {
        metrics::gauge!("rollup_txpool_size").set(self.by_hash.len() as f64);
        metrics::gauge!("rollup_txpool_pending").set(self.pending.count as f64);
        metrics::gauge!("rollup_txpool_queued").set(self.queued.count as f64);
    }
}

/// The pool's transactions by sender and nonce ([`TxPool::content`]).
#[derive(Debug, Default)]
pub struct PoolContent {
    /// Executable in nonce order.
    pub pending: BTreeMap<Address, BTreeMap<u64, TxEnvelope>>,
    /// Waiting behind a nonce gap.
    pub queued: BTreeMap<Address, BTreeMap<u64, TxEnvelope>>,
}

impl PoolContent {
    fn add(&mut self, sender: Address, account: &SenderTxs) {
        for (nonce, pooled) in &account.txs {
            let sub_pool = match pooled.sub_pool {
                SubPool::Pending => &mut self.pending,
                SubPool::Queued => &mut self.queued,
            };
            sub_pool
                .entry(sender)
                .or_default()
                .insert(*nonce, pooled.envelope.clone());
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
    /// Hashes of admitted transactions, for live subscribers (`newPendingTransactions`).
    admitted: broadcast::Sender<B256>,
    /// The sequencer's data-availability throttle: while on, `add_raw` refuses transactions.
    throttle: crate::DaThrottle,
    /// When transactions arrived, for [`TxPool::burst`].
    arrivals: Arrivals,
}

/// A pause between two admitted transactions longer than this ends a burst ([`TxPool::burst`]).
pub const BURST_GAP: Duration = Duration::from_millis(100);

/// When the pool last admitted a transaction, and when the run of admissions it ends began (no
/// pause longer than [`BURST_GAP`] in it): milliseconds since `epoch`, `u64::MAX` for never.
/// Two relaxed atomics, written on every admission without the pool's lock; two admissions at
/// once may leave the start a millisecond off, which nothing that reads it minds.
#[derive(Debug)]
struct Arrivals {
    epoch: Instant,
    last: AtomicU64,
    since: AtomicU64,
}

impl Arrivals {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last: AtomicU64::new(u64::MAX),
            since: AtomicU64::new(u64::MAX),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn gap() -> u64 {
        BURST_GAP.as_millis() as u64
    }

    fn note(&self) {
        let now = self.now();
        let last = self.last.swap(now, Ordering::Relaxed);
        if last == u64::MAX || now.saturating_sub(last) > Self::gap() {
            self.since.store(now, Ordering::Relaxed);
        }
    }

    fn burst(&self) -> Option<Duration> {
        let now = self.now();
        let last = self.last.load(Ordering::Relaxed);
        if last == u64::MAX || now.saturating_sub(last) > Self::gap() {
            return None;
        }
        let since = self.since.load(Ordering::Relaxed).min(now);
        Some(Duration::from_millis(now - since))
    }
}

/// The EIP-2718 types the pool takes besides legacy (which has no type byte): what the batch
/// codec carries, as [`TxPool::check_static`] checks on the decoded envelope.
const POOLED_TX_TYPES: [u8; 2] = [TxType::Eip2930 as u8, TxType::Eip1559 as u8];

/// The highest first byte of a typed transaction (EIP-2718); a legacy one starts at `0xc0`.
const MAX_TX_TYPE_BYTE: u8 = 0x7f;

/// How many admitted transaction hashes [`TxPool::subscribe_admitted`] buffers for a receiver
/// that has not read them; a slower receiver skips the oldest (tokio's broadcast `Lagged`).
pub const ADMITTED_BUFFER: usize = 4096;

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
            admitted: broadcast::channel(ADMITTED_BUFFER).0,
            throttle: crate::DaThrottle::default(),
            arrivals: Arrivals::new(),
        }
    }

    /// How long the pool has been admitting transactions without a pause longer than
    /// [`BURST_GAP`], or `None` if the last one came longer ago than that. The batcher of the
    /// same process holds blob work that has slack for the first seconds of a burst: on a
    /// machine of few cores, a sidecar's proofs took the CPU the burst's transactions needed.
    pub fn burst(&self) -> Option<Duration> {
        self.arrivals.burst()
    }

    /// The data-availability throttle the sequencer of this pool sets (see
    /// [`crate::DaThrottle`]).
    pub fn throttle(&self) -> &crate::DaThrottle {
        &self.throttle
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Largest transaction accepted, in bytes.
    pub fn max_tx_size(&self) -> usize {
        self.config.max_tx_size.min(MAX_TX_SIZE)
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of transactions in the pending sub-pool: executable in nonce order.
    pub fn pending_len(&self) -> usize {
        self.lock().pending.count
    }

    /// Number of transactions in the queued sub-pool: waiting behind a nonce gap.
    pub fn queued_len(&self) -> usize {
        self.lock().queued.count
    }

    /// Checks the pool's indexes against its transactions, recomputed from scratch: sub-pools
    /// (a pending run from each sender's account nonce, queued after it), counts, bytes, each
    /// sender's tail per sub-pool, the queued transactions by age and the hash index. For
    /// tests: it walks the whole pool under its lock.
    #[doc(hidden)]
    pub fn self_check(&self) -> Result<(), String> {
        let inner = self.lock();
        let (mut pending, mut queued) = (SubPoolState::default(), SubPoolState::default());
        let mut by_age = BTreeMap::new();
        let mut hashes = 0;
        for (sender, account) in &inner.senders {
            if account.txs.is_empty() {
                return Err(format!("{sender} is kept without transactions"));
            }
            let mut next = account.state_nonce;
            for (nonce, pooled) in &account.txs {
                let expected = if *nonce == next {
                    next += 1;
                    SubPool::Pending
                } else {
                    SubPool::Queued
                };
                if pooled.sub_pool != expected {
                    return Err(format!(
                        "{sender} nonce {nonce} is {:?}, not {expected:?}",
                        pooled.sub_pool
                    ));
                }
                if inner.by_hash.get(&pooled.hash) != Some(&(*sender, *nonce)) {
                    return Err(format!(
                        "{sender} nonce {nonce} is missing from the hash index"
                    ));
                }
                hashes += 1;
                let state = match expected {
                    SubPool::Pending => &mut pending,
                    SubPool::Queued => {
                        by_age.insert(pooled.seq, (*sender, *nonce));
                        &mut queued
                    }
                };
                state.count += 1;
                state.bytes += pooled.size;
            }
            for (sub_pool, state) in [
                (SubPool::Pending, &mut pending),
                (SubPool::Queued, &mut queued),
            ] {
                if let Some((nonce, tail)) = account.tail(sub_pool) {
                    state
                        .tails
                        .insert(tail.eviction_key(inner.base_fee), (*sender, nonce));
                }
            }
        }
        for (name, found, expected) in [
            ("pending", &inner.pending, &pending),
            ("queued", &inner.queued, &queued),
        ] {
            if (found.count, found.bytes) != (expected.count, expected.bytes) {
                return Err(format!(
                    "{name}: {} transactions of {} bytes counted, {} of {} held",
                    found.count, found.bytes, expected.count, expected.bytes
                ));
            }
            if found.tails != expected.tails {
                return Err(format!(
                    "{name}: the tails index is {:?}, not {:?}",
                    found.tails, expected.tails
                ));
            }
        }
        if inner.queued_by_age != by_age {
            return Err("the queued-by-age index differs from the queued transactions".into());
        }
        if inner.by_hash.len() != hashes {
            return Err(format!(
                "{} hashes indexed, {hashes} transactions held",
                inner.by_hash.len()
            ));
        }
        Ok(())
    }

    /// Resolves when a transaction was added since the last call.
    pub async fn added(&self) {
        self.added.notified().await;
    }

    /// The hashes of transactions admitted from now on (replacements included), in admission
    /// order. Sending never waits: a receiver more than [`ADMITTED_BUFFER`] hashes behind skips
    /// the oldest.
    pub fn subscribe_admitted(&self) -> broadcast::Receiver<B256> {
        self.admitted.subscribe()
    }

    /// Every pooled transaction by sub-pool, sender and nonce (`txpool_content`). Copies the
    /// whole pool under its lock: for operators, not for every request.
    pub fn content(&self) -> PoolContent {
        let inner = self.lock();
        let mut content = PoolContent::default();
        for (sender, account) in &inner.senders {
            content.add(*sender, account);
        }
        content
    }

    /// One sender's pooled transactions by nonce (`txpool_contentFrom`), copying only those.
    pub fn content_of(&self, sender: Address) -> PoolContent {
        let inner = self.lock();
        let mut content = PoolContent::default();
        if let Some(account) = inner.senders.get(&sender) {
            content.add(sender, account);
        }
        content
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<L2Transaction> {
        let inner = self.lock();
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner
            .senders
            .get(sender)?
            .txs
            .get(nonce)
            .map(|pooled| L2Transaction::Signed {
                envelope: pooled.envelope.clone(),
                sender: *sender,
            })
    }

    /// The next nonce `address` should use, counting its pooled transactions that follow its
    /// account nonce without a gap (`eth_getTransactionCount(…, "pending")`).
    pub fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64 {
        let inner = self.lock();
        let mut nonce = state_nonce;
        if let Some(account) = inner.senders.get(&address) {
            while account.txs.contains_key(&nonce) {
                nonce += 1;
            }
        }
        nonce
    }

    /// The base fee the next block will have.
    fn next_base_fee(reader: &StoreReader) -> Result<u64, PoolError> {
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
        let backlog = self.throttle.backlog();
        if backlog.throttled {
            return Err(PoolError::Throttled {
                backlog_bytes: backlog.bytes,
                backlog_blocks: backlog.blocks,
            });
        }
        // The type first, from its byte, as geth: a blob transaction in its network form is past
        // any size limit, and "oversized" would send its sender shrinking data. Deposits come
        // only from L1, in our encoding or any other (an OP Stack deposit has another field
        // list and would only fail to decode).
        match raw.first() {
            Some(&DEPOSIT_TX_TYPE) => return Err(PoolError::DepositNotAllowed),
            Some(&ty) if ty <= MAX_TX_TYPE_BYTE && !POOLED_TX_TYPES.contains(&ty) => {
                return Err(PoolError::TxTypeNotSupported);
            }
            _ => {}
        }
        // Before decoding: recovering a signature is the expensive part.
        if raw.len() > self.max_tx_size() {
            return Err(PoolError::Oversized {
                size: raw.len(),
                limit: self.max_tx_size(),
            });
        }
        let started = std::time::Instant::now();
        let tx = L2Transaction::decode_2718_recover(raw)
            .map_err(|err| PoolError::Decode(err.to_string()))?;
        metrics::histogram!("rollup_pool_decode_recover_seconds").record(started.elapsed());
        let started = std::time::Instant::now();
        let added = self.add(tx);
        metrics::histogram!("rollup_pool_add_seconds").record(started.elapsed());
        added
    }

    /// Validates a decoded transaction and adds it, evicting cheaper transactions if its
    /// sub-pool is full.
    pub fn add(&self, tx: L2Transaction) -> Result<B256, PoolError> {
        self.admit(tx, false)
    }

    /// Adds again a transaction of an unsafe block that an L1 reorg removed. It passed every
    /// check when it was sequenced, and its sender's later transactions come back with it in
    /// nonce order, so neither the overdraft check (their fee caps, not the fees they paid,
    /// are what it would count) nor the usual nonce window nor the per-sender queued cap
    /// applies: all of a sender's removed transactions come back, however many (in nonce
    /// order each is appended without reclassifying the sender's others). Nor is a fee cap below the next base fee refused: the unwound chain's base fee may
    /// be higher than the one the transaction paid, and it waits until the fee falls. The
    /// pool's sizes and every other check still apply.
    pub fn readmit(&self, tx: L2Transaction) -> Result<B256, PoolError> {
        self.admit(tx, true)
    }

    fn admit(&self, tx: L2Transaction, readmitted: bool) -> Result<B256, PoolError> {
        let L2Transaction::Signed { envelope, sender } = tx else {
            return Err(PoolError::DepositNotAllowed);
        };
        let size = envelope.encode_2718_len();
        self.check_static(&envelope, size)?;
        // One read transaction for the head and the account: they agree with each other.
        let reader = self
            .store
            .reader()
            .map_err(|e| PoolError::Internal(e.to_string()))?;
        let base_fee = Self::next_base_fee(&reader)?;
        // A readmitted transaction's fee cap covered the base fee of the block it was in; the
        // next base fee may be above it now (the fee was falling, and the unwind took the chain
        // back to a higher one). It waits for the base fee to fall again, as geth and reth keep
        // such transactions: `best` takes none whose cap is below the block's base fee.
        if !readmitted && envelope.max_fee_per_gas() < u128::from(base_fee) {
            return Err(PoolError::FeeCapTooLow {
                max_fee: envelope.max_fee_per_gas(),
                base_fee,
            });
        }
        let account = reader
            .account(sender)
            .map_err(|e| PoolError::Internal(e.to_string()))?
            .unwrap_or_default();
        drop(reader);
        let nonce = envelope.nonce();
        if nonce < account.nonce {
            return Err(PoolError::NonceTooLow {
                state: account.nonce,
                tx: nonce,
            });
        }
        // A removed block's transactions come back in nonce order however many one sender had
        // (a depth-30 L1 reorg under load removed thousands per sender, and those past a
        // 1 024-nonce window were dropped, safe receipts among them).
        let window = if readmitted {
            u64::MAX
        } else {
            self.config.max_nonce_gap
        };
        if nonce > account.nonce.saturating_add(window) {
            return Err(PoolError::NonceTooHigh {
                state: account.nonce,
                tx: nonce,
                max_gap: window,
            });
        }
        let cost = max_cost(&envelope);
        if cost > account.balance {
            return Err(PoolError::InsufficientFunds {
                balance: account.balance,
                cost,
            });
        }

        let hash = *envelope.tx_hash();
        let tip = envelope.effective_tip_per_gas(base_fee);
        let mut inner = self.lock();
        inner.set_base_fee(base_fee);
        let expired = inner.expire_queued(self.config.queued_lifetime);
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        if let Some(existing) = inner
            .senders
            .get(&sender)
            .and_then(|account| account.txs.get(&nonce))
        {
            self.check_replacement(&existing.envelope, &envelope)?;
        }
        // Checked under the lock, so that two sends of one sender cannot both pass: the
        // sender's other pooled transactions (at most `max_nonce_gap` + 1) and this one must
        // fit the balance together, or a sender could hold many pool slots for the price of one
        // transaction that executes.
        let queued = inner
            .senders
            .get(&sender)
            .map(|pooled| pooled.cost_except(account.nonce, nonce))
            .unwrap_or_default();
        if !readmitted && queued.saturating_add(cost) > account.balance {
            return Err(PoolError::Overdraft {
                balance: account.balance,
                queued,
                cost,
            });
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let replaced = inner.insert(
            sender,
            account.nonce,
            nonce,
            Pooled {
                envelope,
                hash,
                size,
                seq,
                added_at: Instant::now(),
                sub_pool: SubPool::Queued,
            },
        );
        // A readmitted transaction is not held to its sender's queued cap: it comes back in nonce
        // order with the rest of the removed block, filling the gap its sender's later pooled
        // transactions wait behind (the unwind rolled the nonce back under them); the prune
        // after the readmission applies the cap to whatever is still behind a gap.
        let refused = if !readmitted
            && inner
                .senders
                .get(&sender)
                .is_some_and(|account| account.queued() > self.config.max_queued_per_sender)
        {
            Some(PoolError::SenderQueueFull {
                sender,
                max: self.config.max_queued_per_sender,
            })
        } else {
            match inner.plan_evictions(&self.config, Evict::CheaperThan { tip, sender }) {
                Some(victims) => {
                    for (victim, victim_nonce) in &victims {
                        inner.remove(*victim, *victim_nonce);
                    }
                    if !victims.is_empty() {
                        debug!(target: "rollup::txpool", evicted = victims.len(), %hash, "evicted cheaper transactions");
                        metrics::counter!("rollup_txpool_evicted_total")
                            .increment(victims.len() as u64);
                    }
                    None
                }
                None => Some(PoolError::PoolFull),
            }
        };
        if let Some(err) = refused {
            inner.remove(sender, nonce);
            if let Some(replaced) = replaced {
                inner.insert(sender, account.nonce, nonce, replaced);
            }
            return Err(err);
        }
        inner.record_metrics();
        drop(inner);
        if expired > 0 {
            metrics::counter!("rollup_txpool_expired_total").increment(expired as u64);
        }
        metrics::counter!("rollup_txpool_added_total").increment(1);
        self.arrivals.note();
        self.added.notify_one();
        // No receiver is not an error: nobody subscribed.
        let _ = self.admitted.send(hash);
        Ok(hash)
    }

    /// A same-nonce replacement must pay more, by the price bump, on both the max fee and the
    /// max priority fee (the gas price, for legacy transactions), as geth and reth require.
    fn check_replacement(&self, old: &TxEnvelope, new: &TxEnvelope) -> Result<(), PoolError> {
        let bump_percent = U256::from(self.config.price_bump_percent);
        let outbids = |old: u128, new: u128| {
            // In U256: fees up to u128::MAX times 100 + bump do not wrap.
            new > old
                && U256::from(new) * U256::from(100)
                    >= U256::from(old) * (U256::from(100) + bump_percent)
        };
        if outbids(old.max_fee_per_gas(), new.max_fee_per_gas())
            && outbids(old.priority_fee_or_price(), new.priority_fee_or_price())
        {
            Ok(())
        } else {
            Err(PoolError::ReplacementUnderpriced)
        }
    }

    /// Checks that need no state.
    fn check_static(&self, envelope: &TxEnvelope, size: usize) -> Result<(), PoolError> {
        match envelope {
            // What the batch codec (v1) carries. Anything else could be sequenced but never
            // posted to L1, which would stall the safe head.
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            _ => return Err(PoolError::TxTypeNotSupported),
        }
        if let TxEnvelope::Legacy(_) = envelope
            && envelope.chain_id().is_none()
        {
            return Err(PoolError::NotReplayProtected);
        }
        if envelope.chain_id() != Some(self.chain_id) {
            return Err(PoolError::WrongChainId {
                have: envelope.chain_id(),
                want: self.chain_id,
            });
        }
        if size > self.max_tx_size() {
            return Err(PoolError::Oversized {
                size,
                limit: self.max_tx_size(),
            });
        }
        if envelope.gas_limit() > self.block_gas_limit {
            return Err(PoolError::GasLimitExceeded {
                gas_limit: envelope.gas_limit(),
                block_gas_limit: self.block_gas_limit,
            });
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

    /// Executable transactions for the next block, within `gas_limit` and `max_bytes` (EIP-2718
    /// bytes in all; see [`rollup_primitives::DataPath::max_block_tx_bytes`]): by effective tip
    /// at `base_fee`, highest first (earlier arrival first among equal tips), each sender in
    /// nonce order from its account nonce (`account_nonce`). A transaction whose fee cap is
    /// below `base_fee`, or that no longer fits, holds back its sender's later ones for this
    /// block.
    pub fn best(
        &self,
        gas_limit: u64,
        max_bytes: usize,
        base_fee: u64,
        account_nonce: impl Fn(Address) -> u64,
    ) -> Vec<L2Transaction> {
        let mut inner = self.lock();
        inner.set_base_fee(base_fee);
        let inner = &*inner;
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<_>, sender: Address, nonce: u64| {
            if let Some(pooled) = inner
                .senders
                .get(&sender)
                .and_then(|account| account.txs.get(&nonce))
                && let Some(tip) = pooled.envelope.effective_tip_per_gas(base_fee)
            {
                heap.push((tip, Reverse(pooled.seq), sender, nonce));
            }
        };
        for sender in inner.senders.keys() {
            push(&mut heap, *sender, account_nonce(*sender));
        }
        let mut out = Vec::new();
        let mut gas = 0u64;
        let mut bytes = 0usize;
        while let Some((_, _, sender, nonce)) = heap.pop() {
            let Some(pooled) = inner
                .senders
                .get(&sender)
                .and_then(|account| account.txs.get(&nonce))
            else {
                continue;
            };
            let tx_gas = pooled.envelope.gas_limit();
            if gas.saturating_add(tx_gas) > gas_limit || bytes + pooled.size > max_bytes {
                // This sender waits for a later block; others may still fit.
                continue;
            }
            gas += tx_gas;
            bytes += pooled.size;
            out.push(L2Transaction::Signed {
                envelope: pooled.envelope.clone(),
                sender,
            });
            push(&mut heap, sender, nonce + 1);
        }
        out
    }

    /// Removes `hashes` (included in a block, or rejected by it) and every transaction whose
    /// nonce is now below its sender's account nonce (`account_nonce`), re-sorts the rest into
    /// pending and queued, drops queued transactions past their lifetime, and brings the
    /// sub-pools back within their limits (a rejected transaction turns its sender's later ones
    /// into queued ones), cheapest first.
    pub fn remove_and_prune(&self, hashes: &[B256], account_nonce: impl Fn(Address) -> u64) {
        let mut inner = self.lock();
        for hash in hashes {
            if let Some((sender, nonce)) = inner.by_hash.get(hash).copied() {
                inner.remove(sender, nonce);
            }
        }
        let senders: Vec<Address> = inner.senders.keys().copied().collect();
        let mut over_cap = 0usize;
        for sender in senders {
            inner.set_state_nonce(sender, account_nonce(sender));
            // Only a demotion can put a sender over its queued cap: drop from its tail.
            while let Some(account) = inner.senders.get(&sender)
                && account.queued() > self.config.max_queued_per_sender
                && let Some((tail, _)) = account.tail(SubPool::Queued)
            {
                inner.remove(sender, tail);
                over_cap += 1;
            }
        }
        if over_cap > 0 {
            warn!(target: "rollup::txpool", dropped = over_cap, max_queued_per_sender = self.config.max_queued_per_sender, "transactions behind a nonce gap over their sender's queued cap were dropped (a rejected transaction left a gap)");
            metrics::counter!("rollup_txpool_evicted_total").increment(over_cap as u64);
        }
        let expired = inner.expire_queued(self.config.queued_lifetime);
        let victims = inner
            .plan_evictions(&self.config, Evict::Any)
            .unwrap_or_default();
        for (sender, nonce) in &victims {
            inner.remove(*sender, *nonce);
        }
        if expired > 0 || !victims.is_empty() {
            debug!(target: "rollup::txpool", expired, evicted = victims.len(), "pruned the pool");
        }
        metrics::counter!("rollup_txpool_expired_total").increment(expired as u64);
        metrics::counter!("rollup_txpool_evicted_total").increment(victims.len() as u64);
        inner.record_metrics();
    }
}
