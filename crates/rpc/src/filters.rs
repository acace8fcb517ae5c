//! The filter API over HTTP: `eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`.
//!
//! A filter is a cursor into the live feeds of [`crate::pubsub`]: installing one starts
//! listening, each `eth_getFilterChanges` drains what arrived since the last poll. So filters see
//! exactly what subscriptions see, removed logs (`removed: true`) after an L2 reorg included.
//! HTTP has no connection to tie a filter to: its id (128 random bits) is all that names it, a
//! filter not polled for [`FILTER_EXPIRY`] is removed (geth's default), and at most
//! `max_filters` are installed at once, for everyone together.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{B256, U128};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log};
use jsonrpsee::RpcModule;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::TryRecvError};
use tracing::debug;

use crate::{
    Result, RpcError,
    eth::{EthApi, client_method, heavy_method, method},
    pubsub::{CHAIN_EVENT_BUFFER, ChainEvent, Live, random_id},
};

/// A filter not polled for this long is removed (geth's filter deadline).
pub const FILTER_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// What one filter listens to.
#[derive(Debug)]
enum Kind {
    /// Hashes of new canonical blocks.
    Blocks(broadcast::Receiver<ChainEvent>),
    /// Logs matching the filter, and removed ones after a reorg.
    Logs {
        filter: Box<Filter>,
        events: broadcast::Receiver<ChainEvent>,
        /// What the filter names, given back when it is removed.
        _criteria: crate::pubsub::CriteriaLease,
    },
    /// Hashes of transactions the pool admits; `None` on a replica (no pool).
    PendingTransactions(Option<broadcast::Receiver<B256>>),
}

#[derive(Debug)]
struct Installed {
    kind: Kind,
    last_poll: Instant,
    /// Why the filter cannot go on, found by a poll that still had changes to return: the
    /// next poll answers it and removes the filter.
    failed: Option<RpcError>,
}

/// `eth_getFilterChanges` result: hashes (block and pending filters) or logs.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Changes {
    Hashes(Vec<B256>),
    Logs(Vec<Log>),
}

/// An installed filter and who installed it.
type Owned = (crate::ClientAddr, Arc<Mutex<Installed>>);

/// The installed filters, shared by every request.
#[derive(Debug)]
pub(crate) struct Filters {
    /// By id: who installed it (kept to a share of the filters, [`crate::PER_CLIENT_SHARE`])
    /// and the filter.
    installed: Mutex<HashMap<U128, Owned>>,
    max: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Filters {
    /// No filters; at most `max` at once (at least one).
    pub(crate) fn new(max: usize) -> Self {
        Self {
            installed: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    /// Removes filters not polled for [`FILTER_EXPIRY`]. A filter being polled right now is
    /// not expired.
    pub(crate) fn sweep(&self) {
        let mut installed = lock(&self.installed);
        let before = installed.len();
        installed.retain(|_, (_, filter)| {
            filter
                .try_lock()
                .map_or(true, |filter| filter.last_poll.elapsed() < FILTER_EXPIRY)
        });
        if installed.len() != before {
            debug!(target: "rollup::rpc", expired = before - installed.len(), "expired idle filters");
            metrics::gauge!("rollup_rpc_filters").set(installed.len() as f64);
        }
    }

    /// The most filters one client address may hold.
    fn share(&self) -> usize {
        (self.max / crate::PER_CLIENT_SHARE).max(1)
    }

    fn install(&self, kind: Kind, client: crate::ClientAddr) -> Result<U128> {
        self.sweep();
        let mut installed = lock(&self.installed);
        if installed.len() >= self.max {
            return Err(RpcError::TooManyFilters(self.max));
        }
        if client.0.is_some() {
            let held = installed
                .values()
                .filter(|(owner, _)| *owner == client)
                .count();
            if held >= self.share() {
                return Err(RpcError::TooManyFiltersFromClient(self.share()));
            }
        }
        let id = random_id();
        installed.insert(
            id,
            (
                client,
                Arc::new(Mutex::new(Installed {
                    kind,
                    last_poll: Instant::now(),
                    failed: None,
                })),
            ),
        );
        metrics::gauge!("rollup_rpc_filters").set(installed.len() as f64);
        Ok(id)
    }

    fn get(&self, id: U128) -> Result<Arc<Mutex<Installed>>> {
        self.sweep();
        lock(&self.installed)
            .get(&id)
            .map(|(_, filter)| Arc::clone(filter))
            .ok_or(RpcError::FilterNotFound)
    }

    fn uninstall(&self, id: U128) -> bool {
        let mut installed = lock(&self.installed);
        let removed = installed.remove(&id).is_some();
        metrics::gauge!("rollup_rpc_filters").set(installed.len() as f64);
        removed
    }

    /// What arrived for filter `id` since its last poll: for a log filter, whole blocks until
    /// about `max_logs` logs (the rest waits for the next poll).
    fn changes(&self, id: U128, max_logs: usize) -> Result<Changes> {
        let filter = self.get(id)?;
        let mut filter = lock(&filter);
        filter.last_poll = Instant::now();
        if let Some(failed) = filter.failed.take() {
            drop(filter);
            self.drop_failed(id);
            return Err(failed);
        }
        let drained = match &mut filter.kind {
            Kind::Blocks(events) => {
                drain_chain(events, usize::MAX, |event, hashes: &mut Vec<B256>| {
                    // The replacements of removed blocks come as new blocks.
                    if let ChainEvent::Added(block) = event {
                        hashes.push(block.hash);
                    }
                    Ok(())
                })
                .map(|(hashes, failed)| (Changes::Hashes(hashes), failed))
            }
            Kind::Logs { filter, events, .. } => {
                // A poll takes whole blocks up to about the logs one `eth_getLogs` returns;
                // the rest stays for the next poll.
                drain_chain(events, max_logs, |event, logs: &mut Vec<Log>| {
                    let (block, removed) = match event {
                        ChainEvent::Added(block) => (block, false),
                        ChainEvent::Removed(block) => (block, true),
                    };
                    logs.extend(
                        block
                            .matching_logs(filter, removed)
                            .map_err(|gap| RpcError::LogsNotHeld(gap.to_string()))?,
                    );
                    Ok(())
                })
                .map(|(logs, failed)| (Changes::Logs(logs), failed))
            }
            Kind::PendingTransactions(None) => Ok((Changes::Hashes(Vec::new()), None)),
            Kind::PendingTransactions(Some(admitted)) => {
                let mut hashes = Vec::new();
                loop {
                    match admitted.try_recv() {
                        Ok(hash) => hashes.push(hash),
                        Err(TryRecvError::Lagged(skipped)) => {
                            // Best effort, as the pool's feed: the oldest are gone.
                            metrics::counter!("rollup_rpc_pending_skipped_total")
                                .increment(skipped);
                        }
                        Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                    }
                }
                Ok((Changes::Hashes(hashes), None))
            }
        };
        match drained {
            // What came before the failure is answered now, the failure with the next poll:
            // no change the filter saw is lost.
            Ok((changes, Some(failed))) => {
                filter.failed = Some(failed);
                Ok(changes)
            }
            Ok((changes, None)) => Ok(changes),
            Err(failed) => {
                drop(filter);
                self.drop_failed(id);
                Err(failed)
            }
        }
    }

    /// Removes a filter that cannot go on (it fell behind, or met a block whose logs the live
    /// feed does not hold).
    fn drop_failed(&self, id: U128) {
        self.uninstall(id);
        metrics::counter!("rollup_rpc_filters_dropped_total").increment(1);
    }

    /// The criteria of log filter `id` (any other kind is "not found", as geth answers).
    fn log_filter(&self, id: U128) -> Result<Filter> {
        let filter = self.get(id)?;
        let filter = lock(&filter);
        match &filter.kind {
            Kind::Logs { filter, .. } => Ok(filter.as_ref().clone()),
            _ => Err(RpcError::FilterNotFound),
        }
    }
}

/// Drains `events` into `collect`, stopping once `limit` items are collected (the events left
/// wait for the next poll). A filter that fell behind, or an event `collect` cannot take, ends
/// the drain: an error if nothing was collected before it, else the items with the error to
/// answer next.
fn drain_chain<T>(
    events: &mut broadcast::Receiver<ChainEvent>,
    limit: usize,
    collect: impl Fn(ChainEvent, &mut Vec<T>) -> Result<()>,
) -> Result<(Vec<T>, Option<RpcError>)> {
    let mut out = Vec::new();
    while out.len() < limit {
        let failed = match events.try_recv() {
            Ok(event) => match collect(event, &mut out) {
                Ok(()) => continue,
                Err(err) => err,
            },
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            Err(TryRecvError::Lagged(_)) => RpcError::FilterLagged(CHAIN_EVENT_BUFFER),
        };
        return if out.is_empty() {
            Err(failed)
        } else {
            Ok((out, Some(failed)))
        };
    }
    Ok((out, None))
}

/// Refuses a filter whose `fromBlock` comes after its `toBlock` (both numbers), as geth refuses
/// it for a filter or a logs subscription: it could never match anything.
pub(crate) fn check_block_order(filter: &Filter) -> Result<()> {
    if let FilterBlockOption::Range {
        from_block: Some(BlockNumberOrTag::Number(from)),
        to_block: Some(BlockNumberOrTag::Number(to)),
    } = filter.block_option
        && from > to
    {
        return Err(RpcError::InvalidBlockRange { from, to });
    }
    Ok(())
}

/// Registers the filter methods.
pub(crate) fn register(module: &mut RpcModule<EthApi>, live: &Live) {
    let installer = live.clone();
    client_method(module, "eth_newFilter", move |_, args, client| {
        let filter = args.filter(0)?;
        crate::eth::check_filter_criteria(&filter)?;
        check_block_order(&filter)?;
        // Expired filters give their criteria back first.
        installer.filters().sweep();
        let criteria = installer.lease_criteria(&filter, client)?;
        installer.filters().install(
            Kind::Logs {
                filter: Box::new(filter),
                events: installer.chain_events(),
                _criteria: criteria,
            },
            client,
        )
    });
    let installer = live.clone();
    client_method(module, "eth_newBlockFilter", move |_, _, client| {
        installer
            .filters()
            .install(Kind::Blocks(installer.chain_events()), client)
    });
    let installer = live.clone();
    client_method(
        module,
        "eth_newPendingTransactionFilter",
        move |_, args, client| {
            // reth's optional "full transactions" flag is not supported: hashes only, as geth.
            if args.optional::<bool>(0, "full transactions")? == Some(true) {
                return Err(RpcError::InvalidParams(
                    "full transactions in pending transaction filters are not supported; use the \
                 newPendingTransactions subscription with `true`"
                        .into(),
                ));
            }
            installer.filters().install(
                Kind::PendingTransactions(installer.admitted_transactions()),
                client,
            )
        },
    );
    let poller = live.clone();
    method(module, "eth_getFilterChanges", move |api, args| {
        let max_logs = match api.max_logs_per_response {
            0 => usize::MAX,
            max => max,
        };
        poller
            .filters()
            .changes(args.required(0, "filter id")?, max_logs)
    });
    let uninstaller = live.clone();
    method(module, "eth_uninstallFilter", move |_, args| {
        Ok(uninstaller
            .filters()
            .uninstall(args.required(0, "filter id")?))
    });
    let reader = live.clone();
    heavy_method(module, "eth_getFilterLogs", move |api, args| {
        let filter = reader
            .filters()
            .log_filter(args.required(0, "filter id")?)?;
        api.logs(&filter)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_expire_unpolled_and_are_capped() {
        let local = crate::ClientAddr::of([127, 0, 0, 1].into());
        let filters = Filters::new(2);
        let first = filters
            .install(Kind::PendingTransactions(None), local)
            .unwrap();
        let second = filters
            .install(Kind::PendingTransactions(None), local)
            .unwrap();
        assert_ne!(first, second);
        assert!(matches!(
            filters.install(Kind::PendingTransactions(None), local),
            Err(RpcError::TooManyFilters(2))
        ));
        assert!(matches!(
            filters.changes(first, 1),
            Ok(Changes::Hashes(hashes)) if hashes.is_empty()
        ));

        // Not polled for the expiry: gone, and its place is free again.
        let long_ago = Instant::now().checked_sub(FILTER_EXPIRY + Duration::from_secs(1));
        let Some(long_ago) = long_ago else {
            return; // the clock started less than the expiry ago (fresh boot): nothing to test
        };
        lock(&filters.get(second).unwrap()).last_poll = long_ago;
        assert!(matches!(
            filters.changes(second, 1),
            Err(RpcError::FilterNotFound)
        ));
        assert!(filters.changes(first, 1).is_ok(), "polled recently");
        filters
            .install(Kind::PendingTransactions(None), local)
            .unwrap();
    }

    /// One client address holds at most its share of the filters; others, and loopback
    /// clients, are not held back by it; an uninstalled filter gives its place back.
    #[test]
    fn one_client_holds_at_most_its_share_of_the_filters() {
        let filters = Filters::new(20);
        let one = crate::ClientAddr::of([203, 0, 113, 7].into());
        let other = crate::ClientAddr::of([203, 0, 113, 8].into());
        let local = crate::ClientAddr::of([127, 0, 0, 1].into());
        let pending = || Kind::PendingTransactions(None);
        let first = filters.install(pending(), one).unwrap();
        filters.install(pending(), one).unwrap();
        assert!(matches!(
            filters.install(pending(), one),
            Err(RpcError::TooManyFiltersFromClient(2))
        ));
        filters.install(pending(), other).unwrap();
        for _ in 0..5 {
            filters.install(pending(), local).unwrap();
        }
        assert!(filters.uninstall(first));
        filters.install(pending(), one).unwrap();
    }
}
