//! Live feeds: `eth_subscribe`/`eth_unsubscribe` over WebSocket, and the chain follower that
//! feeds them and the filters of [`crate::filters`].
//!
//! One follower task per server turns head changes into [`ChainEvent`]s: every new canonical
//! block in order ([`ChainEvent::Added`]) and, when the node replaced blocks it had (an L1 reorg
//! unwinding L2, or derivation replacing unsafe blocks), the blocks that left the chain
//! ([`ChainEvent::Removed`], oldest first, before the blocks that replace them), as geth's
//! `ChainEvent` and `RemovedLogsEvent`. It reads each block once and shares it with every
//! subscriber and filter through a tokio broadcast channel of [`CHAIN_EVENT_BUFFER`] events.
//!
//! # Invariants
//! - Nothing here ever makes the node wait: the follower only reads the database (on a blocking
//!   thread, after the node published the head) and sends into broadcast channels, which never
//!   block; the pool's announcements are a broadcast channel too.
//! - A subscriber (or filter) that falls more than [`CHAIN_EVENT_BUFFER`] events behind loses
//!   its subscription (or filter) with an error saying so: block and log feeds never skip events
//!   silently. Pending transaction feeds are best effort: a slow reader skips the oldest
//!   hashes.
//! - A block is reported removed only if it was reported added, and only while it is among the
//!   last [`REORG_WINDOW`] blocks reported: a deeper reorg reports the window's blocks removed
//!   and is logged as a warning. Every block of the new chain after the fork is reported added,
//!   down to [`HASH_HISTORY`] blocks back.
//! - The follower runs only while someone listens: with no subscriber and no filter it tracks
//!   the head without reading blocks.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicUsize, Ordering},
    },
};

use alloy_consensus::transaction::Recovered;
use alloy_eips::BlockNumHash;
use alloy_primitives::{B128, B256, Bloom, U128};
use alloy_rpc_types_eth::{Filter, Log, pubsub::SubscriptionKind};
use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionCloseResponse, SubscriptionSink,
    core::{JsonRawValue, SubscriptionError, to_json_raw_value, traits::IdProvider},
    types::{ErrorObjectOwned, Params, SubscriptionId},
};
use rollup_primitives::{Heads, L2Transaction, decode_l1_origin};
use rollup_sequencer::TxPool;
use rollup_storage::{Store, StoreReader};
use serde::Serialize;
use tokio::sync::{
    broadcast::{self, error::RecvError},
    watch,
};
use tracing::{debug, warn};

use crate::{
    Result, RpcContext, RpcError,
    eth::{EthApi, append_block_logs},
    filters::Filters,
    flow::Flow,
    types::L1OriginJson,
};

/// Chain events buffered for subscribers and filters: one past this behind is dropped.
pub const CHAIN_EVENT_BUFFER: usize = 512;
/// Recently reported blocks kept (with their logs) to report them removed after a reorg.
pub const REORG_WINDOW: usize = 256;
/// The fewest of them kept when their logs crowd out a new block's (see [`LIVE_FEED_LOGS`]).
const MIN_REORG_WINDOW: usize = 16;
/// Most logs the live feed holds at once in the block events alive (each event keeps its
/// block's logs for every subscriber and filter that has not read it yet, and for reporting
/// them removed). A block whose logs would go past it is sent without them: about 300 MB of
/// logs at most, where 768 blocks of cheap log-heavy transactions could otherwise hold
/// gigabytes.
pub const LIVE_FEED_LOGS: usize = 1_000_000;
/// Blocks the follower reads per database transaction while catching up.
const CATCH_UP_CHUNK: u64 = 64;
/// Blocks reported whose number and hash the follower keeps (40 bytes each, 2.6 MB in all),
/// beyond the [`REORG_WINDOW`] it keeps whole: a reorg deeper than the window finds where the
/// new chain forks from what was reported, and every block after that is reported added.
const HASH_HISTORY: usize = 65_536;

/// One block as the live feeds report it, read once for all of them.
#[derive(Debug)]
pub(crate) struct BlockEvent {
    pub(crate) number: u64,
    pub(crate) hash: B256,
    parent_hash: B256,
    /// The `newHeads` notification: the header as geth sends it, plus `l1Origin`.
    header: Box<JsonRawValue>,
    /// Every log of the block, positioned as `eth_getLogs` reports them; `None` if they would
    /// have taken the live feed past [`LIVE_FEED_LOGS`].
    pub(crate) logs: Option<Vec<Log>>,
    /// The block's logs bloom: tells a filter whether a block without its logs held could
    /// have any for it.
    logs_bloom: Bloom,
    /// The live feed's count of logs held, which this event's logs are part of until it is
    /// dropped.
    held: Arc<AtomicUsize>,
}

impl Drop for BlockEvent {
    fn drop(&mut self) {
        if let Some(logs) = &self.logs {
            self.held.fetch_sub(logs.len(), Ordering::Relaxed);
        }
    }
}

/// A live log feed met a block whose logs it does not hold ([`LIVE_FEED_LOGS`]) and that may
/// hold logs for its filter: the feed cannot go on without a gap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogsNotHeld(pub(crate) u64);

impl std::fmt::Display for LogsNotHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "L2 block {} came with more logs than the node's live feed holds at once; read them \
             and what follows with eth_getLogs from that block, then subscribe or install the \
             filter again",
            self.0
        )
    }
}

impl BlockEvent {
    /// The block as the filters match it.
    pub(crate) const fn num_hash(&self) -> BlockNumHash {
        BlockNumHash {
            number: self.number,
            hash: self.hash,
        }
    }

    /// The logs `filter` matches (address, topics and block), marked `removed` as asked; an
    /// error if the event does not hold the block's logs and the block may have some for
    /// `filter`.
    pub(crate) fn matching_logs(
        &self,
        filter: &Filter,
        removed: bool,
    ) -> std::result::Result<Vec<Log>, LogsNotHeld> {
        Ok(self.matching(filter, removed)?.collect())
    }

    /// [`Self::matching_logs`], one log at a time: a subscriber encodes and sends each before
    /// it copies the next, so a block's logs are not copied once per subscriber at once (1 024
    /// subscriptions of one connection on a block of 5 000 logs took the node to 3 GB).
    pub(crate) fn matching<'a>(
        &'a self,
        filter: &'a Filter,
        removed: bool,
    ) -> std::result::Result<impl Iterator<Item = Log> + 'a, LogsNotHeld> {
        let logs: &[Log] = if !filter.matches_block(&self.num_hash()) {
            &[]
        } else {
            match &self.logs {
                Some(logs) => logs,
                None if filter.matches_bloom(self.logs_bloom) => {
                    return Err(LogsNotHeld(self.number));
                }
                None => &[],
            }
        };
        Ok(logs
            .iter()
            .filter(|log| filter.matches(&log.inner))
            .map(move |log| Log {
                removed,
                ..log.clone()
            }))
    }
}

/// A change of the canonical L2 chain.
#[derive(Debug, Clone)]
pub(crate) enum ChainEvent {
    /// A block joined the canonical chain (in order, parents first).
    Added(Arc<BlockEvent>),
    /// A reported block left the canonical chain (oldest first, before its replacements).
    Removed(Arc<BlockEvent>),
}

/// The `newHeads` notification body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HeadJson {
    #[serde(flatten)]
    header: alloy_rpc_types_eth::Header,
    #[serde(skip_serializing_if = "Option::is_none")]
    l1_origin: Option<L1OriginJson>,
}

/// Addresses and topic values that installed filters and log subscriptions may name together,
/// over all clients. Each filter may name 1 000 addresses and 1 000 values per topic position;
/// kept in sets, each costs about 110 bytes: 3 072 subscriptions of 5 000 each took an
/// outsider's node from 1 to 2.7 GB, with no bound but the connection count. About 110 MB.
pub const MAX_LIVE_CRITERIA: usize = 1_000_000;

/// What the installed filters and log subscriptions name, counted against
/// [`MAX_LIVE_CRITERIA`].
#[derive(Debug, Default)]
pub(crate) struct CriteriaBudget {
    /// Over all clients.
    used: usize,
    /// By client address ([`crate::ClientAddr`]; loopback clients are not counted here).
    by_client: HashMap<std::net::IpAddr, usize>,
}

/// A filter's share of the [`CriteriaBudget`], given back when the filter or subscription ends.
#[derive(Debug)]
pub(crate) struct CriteriaLease {
    /// The budget alone, not the feeds' shared state: an installed filter holding that would
    /// keep it, and the follower task that ends with it, alive after the server stopped.
    budget: Arc<std::sync::Mutex<CriteriaBudget>>,
    count: usize,
    client: crate::ClientAddr,
}

impl CriteriaBudget {
    /// Takes `count` criteria for `client`: refused past [`MAX_LIVE_CRITERIA`] over all
    /// clients, or past a client address's share of it ([`crate::PER_CLIENT_SHARE`]).
    fn take(&mut self, count: usize, client: crate::ClientAddr) -> crate::Result<()> {
        let share = MAX_LIVE_CRITERIA / crate::PER_CLIENT_SHARE;
        if self.used + count > MAX_LIVE_CRITERIA {
            return Err(RpcError::TooManyCriteria(MAX_LIVE_CRITERIA));
        }
        if let Some(ip) = client.0 {
            let used = self.by_client.entry(ip).or_default();
            if *used + count > share {
                return Err(RpcError::TooManyCriteriaFromClient(share));
            }
            *used += count;
        }
        self.used += count;
        Ok(())
    }

    /// Gives back what [`Self::take`] took.
    fn give_back(&mut self, count: usize, client: crate::ClientAddr) {
        self.used -= count;
        if let Some(ip) = client.0
            && let Some(used) = self.by_client.get_mut(&ip)
        {
            *used -= count;
            if *used == 0 {
                self.by_client.remove(&ip);
            }
        }
    }
}

impl Drop for CriteriaLease {
    fn drop(&mut self) {
        self.budget
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .give_back(self.count, self.client);
    }
}

/// How many addresses and topic values `filter` names.
fn criteria_of(filter: &Filter) -> usize {
    filter.address.len() + filter.topics.iter().map(|topic| topic.len()).sum::<usize>()
}

/// The state the live feeds share: the chain events, the pool's announcements, the filters.
#[derive(Debug, Clone)]
pub(crate) struct Live(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    store: Store,
    heads: watch::Receiver<Heads>,
    pool: Option<Arc<TxPool>>,
    chain: broadcast::Sender<ChainEvent>,
    follower: OnceLock<()>,
    filters: Filters,
    /// Most logs the follower keeps in the events it sent ([`LIVE_FEED_LOGS`] by default).
    logs_budget: usize,
    /// What installed filters and log subscriptions name ([`MAX_LIVE_CRITERIA`]).
    criteria: Arc<std::sync::Mutex<CriteriaBudget>>,
}

impl Live {
    /// Live feeds over `ctx`, with at most `max_filters` installed filters and `logs_budget`
    /// logs held.
    pub(crate) fn new(ctx: &RpcContext, max_filters: usize, logs_budget: usize) -> Self {
        Self(Arc::new(Shared {
            store: ctx.store.clone(),
            heads: ctx.heads.clone(),
            pool: ctx.pool.clone(),
            chain: broadcast::channel(CHAIN_EVENT_BUFFER).0,
            follower: OnceLock::new(),
            filters: Filters::new(max_filters),
            logs_budget,
            criteria: Arc::default(),
        }))
    }

    /// Counts what `filter` names against [`MAX_LIVE_CRITERIA`] for as long as the lease
    /// lives; refused once the filters and subscriptions installed name that much, or those
    /// of `client` its share of it ([`crate::PER_CLIENT_SHARE`]).
    pub(crate) fn lease_criteria(
        &self,
        filter: &Filter,
        client: crate::ClientAddr,
    ) -> crate::Result<CriteriaLease> {
        let count = criteria_of(filter);
        self.0
            .criteria
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(count, client)?;
        Ok(CriteriaLease {
            budget: Arc::clone(&self.0.criteria),
            count,
            client,
        })
    }

    /// The installed filters.
    pub(crate) fn filters(&self) -> &Filters {
        &self.0.filters
    }

    /// Chain events from now on. Starts the follower on first use (it needs the runtime, which
    /// building the module does not).
    pub(crate) fn chain_events(&self) -> broadcast::Receiver<ChainEvent> {
        // Subscribe first: the follower then sees a listener from its very first look.
        let events = self.0.chain.subscribe();
        self.0.follower.get_or_init(|| {
            let follower = Follower {
                window: VecDeque::new(),
                held: Arc::new(AtomicUsize::new(0)),
                logs_budget: self.0.logs_budget,
                last_seen: self.0.heads.borrow().unsafe_l2,
                reported: VecDeque::from([self.0.heads.borrow().unsafe_l2]),
            };
            tokio::spawn(follow(
                Arc::downgrade(&self.0),
                self.0.heads.clone(),
                follower,
            ));
        });
        events
    }

    /// Hashes of transactions the pool admits from now on; `None` without a pool (replicas).
    pub(crate) fn admitted_transactions(&self) -> Option<broadcast::Receiver<B256>> {
        self.0.pool.as_ref().map(|pool| pool.subscribe_admitted())
    }

    /// Serves one `eth_subscribe` until the client unsubscribes, disconnects or falls behind;
    /// returns what to send when it ends.
    async fn subscribe(
        &self,
        params: Params<'static>,
        pending: PendingSubscriptionSink,
        client: crate::ClientAddr,
        flow: Option<Arc<Flow>>,
    ) -> SubscriptionCloseResponse {
        let request = match SubscriptionRequest::parse(&params) {
            Ok(request) => request,
            Err(err) => {
                pending.reject(ErrorObjectOwned::from(err)).await;
                return SubscriptionCloseResponse::None;
            }
        };
        let lease = match &request {
            SubscriptionRequest::Logs(filter) => match self.lease_criteria(filter, client) {
                Ok(lease) => Some(lease),
                Err(err) => {
                    pending.reject(ErrorObjectOwned::from(err)).await;
                    return SubscriptionCloseResponse::None;
                }
            },
            _ => None,
        };
        // Listen before accepting, so nothing between the answer and the first event is lost.
        let feed = match request {
            SubscriptionRequest::NewHeads => Feed::Chain(self.chain_events(), None),
            SubscriptionRequest::Logs(filter) => Feed::Chain(self.chain_events(), Some(filter)),
            SubscriptionRequest::PendingTransactions { full } => Feed::Pending {
                admitted: self.admitted_transactions(),
                pool: self.0.pool.clone().filter(|_| full),
            },
        };
        let Ok(sink) = pending.accept().await else {
            return SubscriptionCloseResponse::None;
        };
        metrics::gauge!("rollup_rpc_subscriptions").increment(1.0);
        let close = match feed {
            Feed::Chain(events, filter) => {
                forward_chain(&sink, flow.as_deref(), events, filter.as_deref()).await
            }
            Feed::Pending { admitted, pool } => {
                forward_pending(&sink, flow.as_deref(), admitted, pool).await
            }
        };
        metrics::gauge!("rollup_rpc_subscriptions").decrement(1.0);
        drop(lease);
        if let SubscriptionCloseResponse::NotifErr(_) = &close {
            metrics::counter!("rollup_rpc_subscriptions_dropped_total").increment(1);
        }
        close
    }
}

/// What `eth_subscribe` asked for.
#[derive(Debug)]
enum SubscriptionRequest {
    NewHeads,
    Logs(Box<Filter>),
    PendingTransactions { full: bool },
}

impl SubscriptionRequest {
    fn parse(params: &Params<'_>) -> Result<Self> {
        let invalid = |err: &dyn std::fmt::Display| RpcError::InvalidParams(err.to_string());
        let mut sequence = params.sequence();
        // Read as JSON first, so that a bad value is reported in serde's words rather than
        // as jsonrpsee's error object.
        let kind: serde_json::Value = sequence.next().map_err(|_| {
            invalid(&"missing subscription kind: newHeads, logs or newPendingTransactions")
        })?;
        let kind: SubscriptionKind = serde_json::from_value(kind)
            .map_err(|err| invalid(&format_args!("invalid subscription kind: {err}")))?;
        let extra: Option<serde_json::Value> = sequence
            .optional_next()
            .map_err(|_| invalid(&"invalid subscription parameter"))?;
        match kind {
            SubscriptionKind::NewHeads => Ok(Self::NewHeads),
            SubscriptionKind::Logs => {
                let filter: Filter = match extra {
                    None | Some(serde_json::Value::Null) => Filter::default(),
                    Some(value) => crate::eth::parse_filter(&value)
                        .map_err(|err| invalid(&format_args!("invalid logs filter: {err}")))?,
                };
                crate::eth::check_filter_criteria(&filter)?;
                crate::filters::check_block_order(&filter)?;
                Ok(Self::Logs(Box::new(filter)))
            }
            SubscriptionKind::NewPendingTransactions => {
                let full = match extra {
                    None | Some(serde_json::Value::Null) => false,
                    Some(value) => serde_json::from_value(value).map_err(|err| {
                        invalid(&format_args!("invalid full-transactions flag: {err}"))
                    })?,
                };
                Ok(Self::PendingTransactions { full })
            }
            kind => Err(RpcError::InvalidParams(format!(
                "unsupported subscription kind {kind}: this node serves newHeads, logs and \
                 newPendingTransactions"
            ))),
        }
    }
}

enum Feed {
    Chain(broadcast::Receiver<ChainEvent>, Option<Box<Filter>>),
    Pending {
        admitted: Option<broadcast::Receiver<B256>>,
        /// Set when full transactions were asked for.
        pool: Option<Arc<TxPool>>,
    },
}

/// How a notification fared in [`send_counted`].
enum Sent {
    Delivered,
    /// The connection may not owe it now (its client is behind, or all clients together are),
    /// and `give_up` said not to wait: not sent.
    Withheld,
    /// The subscription or the connection is gone.
    Closed,
}

/// Sends `message` on `sink`, counted on the connection's `flow` (what it owes until its socket
/// writes it), as answers are: a client that does not read cannot make the node hold more of
/// its notifications than of its answers (ten connections of full pending transactions held
/// 116 MB each, bounded only by jsonrpsee's 1 024 messages per connection). While the
/// connection may not owe it, waits for it to owe less, unless `give_up` says otherwise: at
/// once for a best-effort feed, once the subscriber fell too far behind for one that never
/// skips.
async fn send_counted(
    sink: &SubscriptionSink,
    flow: Option<&Flow>,
    message: Box<JsonRawValue>,
    give_up: impl Fn() -> bool,
) -> Sent {
    let bytes = message.get().len() + NOTIFICATION_ENVELOPE_BYTES;
    let mut mark = None;
    if let Some(flow) = flow {
        loop {
            mark = flow.owe(bytes);
            if mark.is_some() {
                break;
            }
            if give_up() {
                return Sent::Withheld;
            }
            tokio::select! {
                () = sink.closed() => return Sent::Closed,
                () = tokio::time::sleep(WITHHELD_RETRY) => {}
            }
        }
    }
    if sink.send(message).await.is_ok() {
        return Sent::Delivered;
    }
    if let (Some(flow), Some(mark)) = (flow, mark) {
        flow.release(mark);
    }
    Sent::Closed
}

/// About the least a notification's envelope adds to its result on the wire
/// (`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x…","result":…}}`
/// with a 128-bit id), counted with it; at most what is written, so a notification is never
/// owed past its last byte.
const NOTIFICATION_ENVELOPE_BYTES: usize = 96;

/// How often a withheld notification of a block or log feed is tried again.
const WITHHELD_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// Drops a block or log subscriber that fell `skipped` events behind its feed (skipped by the
/// feed, or waiting for it while its notifications could not be sent), saying so.
fn fell_behind(sink: &SubscriptionSink, skipped: usize) -> SubscriptionCloseResponse {
    debug!(target: "rollup::rpc", subscription = ?sink.subscription_id(), skipped, "subscriber fell behind; dropped");
    SubscriptionCloseResponse::NotifErr(SubscriptionError::from(format!(
        "subscription dropped: the client fell more than {CHAIN_EVENT_BUFFER} blocks behind \
         ({skipped} events skipped or waiting); subscribe again and read the gap with \
         eth_getLogs or eth_getBlockByNumber"
    )))
}

/// Sends `newHeads` (no filter) or `logs` (a filter) notifications until the client leaves or
/// falls too far behind.
async fn forward_chain(
    sink: &SubscriptionSink,
    flow: Option<&Flow>,
    mut events: broadcast::Receiver<ChainEvent>,
    filter: Option<&Filter>,
) -> SubscriptionCloseResponse {
    loop {
        let event = tokio::select! {
            () = sink.closed() => return SubscriptionCloseResponse::None,
            event = events.recv() => event,
        };
        let (block, removed, filter) = match (event, filter) {
            (Ok(ChainEvent::Added(block)), None) => {
                match send_counted(sink, flow, block.header.clone(), || {
                    events.len() >= CHAIN_EVENT_BUFFER
                })
                .await
                {
                    Sent::Delivered => continue,
                    Sent::Closed => return SubscriptionCloseResponse::None,
                    Sent::Withheld => return fell_behind(sink, events.len()),
                }
            }
            // New heads are new heads only: the replacements follow as `Added`.
            (Ok(ChainEvent::Removed(_)), None) => continue,
            (Ok(ChainEvent::Added(block)), Some(filter)) => (block, false, filter),
            (Ok(ChainEvent::Removed(block)), Some(filter)) => (block, true, filter),
            (Err(RecvError::Lagged(skipped)), _) => {
                return fell_behind(sink, usize::try_from(skipped).unwrap_or(usize::MAX));
            }
            // The node is shutting down.
            (Err(RecvError::Closed), _) => return SubscriptionCloseResponse::None,
        };
        let logs = match block.matching(filter, removed) {
            Ok(logs) => logs,
            Err(gap) => {
                debug!(target: "rollup::rpc", subscription = ?sink.subscription_id(), block = gap.0, "log subscriber met a block whose logs the feed does not hold; dropped");
                return SubscriptionCloseResponse::NotifErr(SubscriptionError::from(format!(
                    "subscription dropped: {gap}"
                )));
            }
        };
        // One at a time: encoded, sent, then the next copied.
        for log in logs {
            let Ok(message) = to_json_raw_value(&log) else {
                continue;
            };
            match send_counted(sink, flow, message, || events.len() >= CHAIN_EVENT_BUFFER).await {
                Sent::Delivered => {}
                Sent::Closed => return SubscriptionCloseResponse::None,
                Sent::Withheld => return fell_behind(sink, events.len()),
            }
        }
    }
}

/// Sends `newPendingTransactions` notifications: hashes, or full transactions when `pool` is
/// set. Without a pool (a replica) nothing is ever sent.
async fn forward_pending(
    sink: &SubscriptionSink,
    flow: Option<&Flow>,
    admitted: Option<broadcast::Receiver<B256>>,
    pool: Option<Arc<TxPool>>,
) -> SubscriptionCloseResponse {
    let Some(mut admitted) = admitted else {
        sink.closed().await;
        return SubscriptionCloseResponse::None;
    };
    loop {
        let admitted = tokio::select! {
            () = sink.closed() => return SubscriptionCloseResponse::None,
            admitted = admitted.recv() => admitted,
        };
        let message = match admitted {
            Ok(hash) => match &pool {
                None => to_json_raw_value(&hash).ok(),
                // Gone already (mined or replaced): nothing to show in full.
                Some(pool) => pool
                    .get(&hash)
                    .and_then(|tx| to_json_raw_value(&pending_transaction(tx)).ok()),
            },
            Err(RecvError::Lagged(skipped)) => {
                debug!(target: "rollup::rpc", subscription = ?sink.subscription_id(), skipped, "pending transaction subscriber fell behind; oldest hashes skipped");
                metrics::counter!("rollup_rpc_pending_skipped_total").increment(skipped);
                None
            }
            Err(RecvError::Closed) => return SubscriptionCloseResponse::None,
        };
        if let Some(message) = message {
            match send_counted(sink, flow, message, || true).await {
                Sent::Delivered => {}
                // Best effort, as for a lagging reader: skipped, not waited for.
                Sent::Withheld => {
                    metrics::counter!("rollup_rpc_pending_skipped_total").increment(1);
                }
                Sent::Closed => return SubscriptionCloseResponse::None,
            }
        }
    }
}

/// A pooled transaction in geth's shape for pending transactions (no block fields).
pub(crate) fn pending_transaction(tx: L2Transaction) -> Option<alloy_rpc_types_eth::Transaction> {
    match tx {
        L2Transaction::Signed { envelope, sender } => {
            let info = alloy_consensus::transaction::TransactionInfo {
                hash: Some(*envelope.tx_hash()),
                ..Default::default()
            };
            Some(alloy_rpc_types_eth::Transaction::from_transaction(
                Recovered::new_unchecked(envelope, sender),
                info,
            ))
        }
        L2Transaction::Deposit(_) => None,
    }
}

/// Where the follower is: the blocks it reported recently, newest last.
#[derive(Debug)]
struct Follower {
    window: VecDeque<Arc<BlockEvent>>,
    /// Logs held by the block events alive (in the window, the broadcast buffer, or a reader's
    /// hands); each event takes its share off when dropped.
    held: Arc<AtomicUsize>,
    logs_budget: usize,
    /// The newest block reported (or, while idle, the head it last saw).
    last_seen: BlockNumHash,
    /// The last [`HASH_HISTORY`] blocks reported, oldest first, the window's among them (and
    /// first the head the feed started from).
    reported: VecDeque<BlockNumHash>,
}

impl Follower {
    /// Nobody listens: forget the window, remember only where the chain is.
    fn idle(&mut self, head: BlockNumHash) {
        self.window.clear();
        self.reported.clear();
        // Where the listeners' feed starts counts as reported: a reorg below it is found too.
        self.reported.push_back(head);
        self.last_seen = head;
    }

    /// Reads one consistent snapshot: reports the window's blocks that are no longer canonical,
    /// then up to `chunk` new blocks. Returns the events (to send even when reading fails part
    /// way: they already moved the follower) and whether it reached the stored head.
    fn advance(&mut self, reader: &StoreReader, chunk: u64) -> (Vec<ChainEvent>, Result<bool>) {
        let mut events = Vec::new();
        let result = self.advance_into(reader, chunk, &mut events);
        (events, result)
    }

    fn advance_into(
        &mut self,
        reader: &StoreReader,
        chunk: u64,
        events: &mut Vec<ChainEvent>,
    ) -> Result<bool> {
        let head = reader.l2_head()?.unwrap_or_default();
        let mut removed = Vec::new();
        while let Some(tip) = self.window.back() {
            if tip.number <= head && reader.block_hash(tip.number)? == Some(tip.hash) {
                break;
            }
            let tip = self
                .window
                .pop_back()
                .expect("the loop checked the window is not empty");
            self.last_seen = BlockNumHash {
                number: tip.number.saturating_sub(1),
                hash: tip.parent_hash,
            };
            if self.reported.back().is_some_and(|b| b.number >= tip.number) {
                self.reported.pop_back();
            }
            removed.push(tip);
        }
        let mut next = self.last_seen.number + 1;
        if self.window.is_empty()
            && reader.block_hash(self.last_seen.number)? != Some(self.last_seen.hash)
        {
            // The block below the first one to read was replaced too: while nobody listened,
            // or by a reorg deeper than the window. The blocks reported before the window say
            // where the new chain forks off: every block after that is reported added. Only
            // past them (or with nothing reported) the height is reported again, unchecked
            // below, and never above the head.
            let deep = !removed.is_empty();
            while let Some(reported) = self.reported.back() {
                if reported.number <= head
                    && reader.block_hash(reported.number)? == Some(reported.hash)
                {
                    break;
                }
                self.reported.pop_back();
            }
            next = match self.reported.back() {
                Some(fork) => {
                    self.last_seen = *fork;
                    fork.number + 1
                }
                None => self.last_seen.number.min(head),
            };
            if deep {
                warn!(
                    target: "rollup::rpc",
                    below = self.last_seen.number + 1, window = REORG_WINDOW,
                    "L2 reorg deeper than the live feeds' window: removed logs below it are not reported; the new chain's blocks are"
                );
            }
        }
        events.extend(removed.into_iter().rev().map(ChainEvent::Removed));
        let last = head.min(next.saturating_add(chunk - 1));
        for number in next..=last {
            let block = Arc::new(read_block(
                reader,
                number,
                &self.held,
                self.logs_budget,
                &mut self.window,
            )?);
            self.last_seen = block.num_hash();
            self.window.push_back(Arc::clone(&block));
            if self.window.len() > REORG_WINDOW {
                self.window.pop_front();
            }
            self.reported.push_back(block.num_hash());
            if self.reported.len() > HASH_HISTORY {
                self.reported.pop_front();
            }
            events.push(ChainEvent::Added(block));
        }
        Ok(last >= head)
    }
}

/// Block `number` of the snapshot, with its header JSON and every log if they fit within
/// `budget` beside the logs `held` already (which then counts them). To make room it first
/// lets go of the oldest blocks of `window` (kept to report their logs removed in a reorg),
/// down to [`MIN_REORG_WINDOW`]: new logs for the listeners come before removed logs of old
/// blocks. Before, a steady 4 000 logs a block filled the budget with the window alone, and
/// every log subscriber was dropped with no slow client at all.
fn read_block(
    reader: &StoreReader,
    number: u64,
    held: &Arc<AtomicUsize>,
    budget: usize,
    window: &mut VecDeque<Arc<BlockEvent>>,
) -> Result<BlockEvent> {
    let missing = || RpcError::Internal(format!("L2 block {number} is not stored"));
    let header = reader.header(number)?.ok_or_else(missing)?;
    let hash = reader.block_hash(number)?.ok_or_else(missing)?;
    let logs_bloom = header.logs_bloom;
    let mut logs = Vec::new();
    if logs_bloom != Bloom::ZERO {
        append_block_logs(reader, &header, |_| true, &mut logs)?;
    }
    // Only the follower adds to `held`; readers dropping events only take from it.
    let room = || budget.saturating_sub(held.load(Ordering::Relaxed));
    while logs.len() > room() && window.len() > MIN_REORG_WINDOW {
        // Its logs leave the count once no listener holds the event any more.
        window.pop_front();
    }
    let room = room();
    let logs = if logs.len() <= room {
        held.fetch_add(logs.len(), Ordering::Relaxed);
        Some(logs)
    } else {
        warn!(target: "rollup::rpc", block = number, logs = logs.len(), room, "the live feed holds too many logs to keep this block's; log subscribers and filters that could match it are dropped with an error");
        None
    };
    let json = HeadJson {
        l1_origin: decode_l1_origin(&header.extra_data).ok().map(Into::into),
        header: alloy_rpc_types_eth::Header {
            hash,
            inner: header,
            total_difficulty: None,
            size: None,
        },
    };
    Ok(BlockEvent {
        number,
        hash,
        parent_hash: json.header.inner.parent_hash,
        header: to_json_raw_value(&json)
            .map_err(|err| RpcError::Internal(format!("cannot encode header {number}: {err}")))?,
        logs,
        logs_bloom,
        held: Arc::clone(held),
    })
}

/// The follower: wakes on every head change, reads what changed (while anyone listens) and
/// broadcasts it. Ends when the node's heads close or the server is gone.
async fn follow(shared: Weak<Shared>, mut heads: watch::Receiver<Heads>, mut follower: Follower) {
    loop {
        {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            shared.filters.sweep();
            // Read the head before counting listeners: one that arrives after the count gets
            // every block after this head.
            let head = heads.borrow_and_update().unsafe_l2;
            if shared.chain.receiver_count() == 0 {
                follower.idle(head);
            } else {
                loop {
                    let store = shared.store.clone();
                    let read = tokio::task::spawn_blocking(move || {
                        let result = match store.reader() {
                            Ok(reader) => follower.advance(&reader, CATCH_UP_CHUNK),
                            Err(err) => (Vec::new(), Err(err.into())),
                        };
                        (follower, result)
                    })
                    .await;
                    let Ok((returned, (events, result))) = read else {
                        // The runtime is shutting down.
                        return;
                    };
                    follower = returned;
                    for event in events {
                        // No receiver left is fine: the next wake goes idle.
                        let _ = shared.chain.send(event);
                    }
                    match result {
                        Ok(true) => break,
                        Ok(false) => {}
                        Err(err) => {
                            // Retried on the next head change (a full reader table, …).
                            warn!(target: "rollup::rpc", %err, "live feeds could not read new blocks; retrying on the next head");
                            break;
                        }
                    }
                }
            }
        }
        if heads.changed().await.is_err() {
            return;
        }
    }
}

/// Subscription ids as geth makes them: 16 random bytes as a hex quantity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HexIdProvider;

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        SubscriptionId::Str(format!("{:#x}", random_id()).into())
    }
}

/// 128 random bits: subscription and filter ids, unguessable (filters have no owner but their
/// id).
pub(crate) fn random_id() -> U128 {
    U128::from_be_bytes(B128::random().0)
}

/// Registers `eth_subscribe` and `eth_unsubscribe` (notifications go out as
/// `eth_subscription`, as geth names them).
pub(crate) fn register(module: &mut RpcModule<EthApi>, live: &Live) {
    let live = live.clone();
    module
        .register_subscription(
            "eth_subscribe",
            "eth_subscription",
            "eth_unsubscribe",
            move |params, pending, _, extensions| {
                let live = live.clone();
                let client = crate::ClientAddr::from_extensions(&extensions);
                let flow = extensions.get::<Arc<Flow>>().cloned();
                async move {
                    metrics::counter!("rollup_rpc_requests_total", "method" => "eth_subscribe")
                        .increment(1);
                    live.subscribe(params, pending, client, flow).await
                }
            },
        )
        .unwrap_or_else(|err| panic!("eth_subscribe registered twice: {err}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One client address names at most its share of the criteria; the node-wide bound holds
    /// over everyone, loopback clients included; what is given back can be taken again.
    #[test]
    fn one_client_names_at_most_its_share_of_the_criteria() {
        let share = MAX_LIVE_CRITERIA / crate::PER_CLIENT_SHARE;
        let one = crate::ClientAddr::of([203, 0, 113, 7].into());
        let other = crate::ClientAddr::of([203, 0, 113, 8].into());
        let local = crate::ClientAddr::of([127, 0, 0, 1].into());
        let mut budget = CriteriaBudget::default();
        budget.take(share, one).unwrap();
        assert!(matches!(
            budget.take(1, one),
            Err(RpcError::TooManyCriteriaFromClient(s)) if s == share
        ));
        budget.take(share, other).unwrap();
        budget.take(MAX_LIVE_CRITERIA - 2 * share, local).unwrap();
        assert!(matches!(
            budget.take(1, local),
            Err(RpcError::TooManyCriteria(MAX_LIVE_CRITERIA))
        ));
        budget.give_back(share, one);
        assert!(!budget.by_client.contains_key(&one.0.unwrap()));
        budget.take(1, one).unwrap();
    }
}
