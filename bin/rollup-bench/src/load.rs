//! Sending signed transactions over JSON-RPC and watching blocks for their inclusion.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{B256, Bytes};
use alloy_rpc_client::{ClientBuilder, RpcClient};
use serde_json::{Value, json};

use crate::workload::SignedTx;

/// An HTTP JSON-RPC client.
pub(crate) fn client(url: &str) -> eyre::Result<RpcClient> {
    Ok(ClientBuilder::default().http(url.parse()?))
}

pub(crate) async fn call(
    client: &RpcClient,
    method: &'static str,
    params: Value,
) -> eyre::Result<Value> {
    client
        .request::<_, Value>(method, params)
        .await
        .map_err(|err| eyre::eyre!("{method}: {err}"))
}

pub(crate) fn quantity(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
    })
}

/// Many calls in JSON-RPC batches of `chunk`.
pub(crate) async fn batch_call(
    client: &RpcClient,
    method: &'static str,
    params: Vec<Value>,
    chunk: usize,
) -> eyre::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(params.len());
    for part in params.chunks(chunk.max(1)) {
        let mut batch = client.new_batch();
        let mut waiters = Vec::with_capacity(part.len());
        for p in part {
            waiters.push(batch.add_call::<_, Value>(method, p)?);
        }
        batch
            .send()
            .await
            .map_err(|err| eyre::eyre!("{method} batch: {err}"))?;
        for waiter in waiters {
            out.push(waiter.await.map_err(|err| eyre::eyre!("{method}: {err}"))?);
        }
    }
    Ok(out)
}

/// A block as seen by the watcher.
#[derive(Debug, Clone)]
pub(crate) struct SeenBlock {
    pub(crate) seen: Instant,
    pub(crate) gas_used: u64,
    pub(crate) txs: usize,
}

/// A block the [`Watcher`] fetched.
#[derive(Debug, Clone)]
pub(crate) struct NewBlock {
    pub(crate) number: u64,
    pub(crate) hash: B256,
    pub(crate) gas_used: u64,
    /// Transaction hashes, in block order.
    pub(crate) txs: Vec<B256>,
}

/// Follows a chain's head by polling: each [`Watcher::poll`] asks for `eth_blockNumber` and
/// fetches every block above the last one it returned (one JSON-RPC batch per 100 blocks).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watcher {
    last: u64,
    rewinds: u64,
}

impl From<u64> for Watcher {
    /// A watcher that reports blocks above `last`.
    fn from(last: u64) -> Self {
        Self { last, rewinds: 0 }
    }
}

impl Watcher {
    /// Polls that found the head below a block already returned (the chain was unwound; the
    /// watcher does not go back for the replacing blocks).
    pub(crate) const fn rewinds(&self) -> u64 {
        self.rewinds
    }

    /// The blocks added since the last poll (none if the head has not moved).
    pub(crate) async fn poll(&mut self, client: &RpcClient) -> eyre::Result<Vec<NewBlock>> {
        let head =
            quantity(&call(client, "eth_blockNumber", json!([])).await?).unwrap_or(self.last);
        if head <= self.last {
            self.rewinds += u64::from(head < self.last);
            return Ok(Vec::new());
        }
        let params = (self.last + 1..=head)
            .map(|n| json!([format!("{n:#x}"), false]))
            .collect();
        let blocks = batch_call(client, "eth_getBlockByNumber", params, 100)
            .await?
            .iter()
            .zip(self.last + 1..)
            .map(|(block, number)| NewBlock {
                number,
                hash: block["hash"]
                    .as_str()
                    .and_then(|h| h.parse().ok())
                    .unwrap_or_default(),
                gas_used: quantity(&block["gasUsed"]).unwrap_or_default(),
                txs: block["transactions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|h| h.as_str().and_then(|h| h.parse().ok()))
                    .collect(),
            })
            .collect();
        self.last = head;
        Ok(blocks)
    }
}

/// What one load run measured.
#[derive(Debug)]
pub(crate) struct LoadResult {
    pub(crate) sent: usize,
    pub(crate) send_errors: usize,
    pub(crate) first_error: Option<String>,
    pub(crate) included: usize,
    /// First send to the last transaction's block being observable.
    pub(crate) elapsed: Duration,
    /// First send to the last send answered.
    pub(crate) send_elapsed: Duration,
    /// Gas of the blocks holding the transactions.
    pub(crate) gas: u64,
    /// Inclusion latency of every included transaction.
    pub(crate) latencies: Vec<Duration>,
    pub(crate) blocks: Vec<SeenBlock>,
}

/// Sends `txs` with `concurrency` requests in flight (each a JSON-RPC batch of `rpc_batch`
/// transactions), while a watcher polls the head and records when each block became observable.
/// A transaction's latency is its send time to its block being observable.
pub(crate) async fn run(
    url: &str,
    txs: &[SignedTx],
    concurrency: usize,
    rpc_batch: usize,
) -> eyre::Result<LoadResult> {
    let client = client(url)?;
    let start_head = quantity(&call(&client, "eth_blockNumber", json!([])).await?).unwrap_or(0);
    let index: HashMap<B256, usize> = txs.iter().enumerate().map(|(i, tx)| (tx.hash, i)).collect();
    let send_times: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; txs.len()]));
    let expected = Arc::new(AtomicUsize::new(txs.len()));
    let sends_done = Arc::new(AtomicUsize::new(0));

    // Watcher.
    let watcher = {
        let client = client.clone();
        let expected = expected.clone();
        let sends_done = sends_done.clone();
        tokio::spawn(async move {
            let mut heads = Watcher::from(start_head);
            let mut inclusion: Vec<Option<Instant>> = vec![None; index.len()];
            let mut found = 0usize;
            let mut blocks = Vec::new();
            let mut last_progress = Instant::now();
            loop {
                let new_blocks = heads.poll(&client).await?;
                let seen = Instant::now();
                if !new_blocks.is_empty() {
                    last_progress = seen;
                }
                for block in new_blocks {
                    for hash in &block.txs {
                        if let Some(&i) = index.get(hash)
                            && inclusion[i].is_none()
                        {
                            inclusion[i] = Some(seen);
                            found += 1;
                        }
                    }
                    blocks.push(SeenBlock {
                        seen,
                        gas_used: block.gas_used,
                        txs: block.txs.len(),
                    });
                }
                if sends_done.load(Ordering::SeqCst) == 1
                    && found >= expected.load(Ordering::SeqCst)
                {
                    break;
                }
                if last_progress.elapsed() > Duration::from_secs(60) {
                    eprintln!(
                        "  watcher: no new block for 60 s; {found} of {} transactions seen",
                        expected.load(Ordering::SeqCst)
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Ok::<_, eyre::Report>((inclusion, blocks))
        })
    };

    // Senders: every request's bytes are built before the clock starts (see `crate::sender`).
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new((0usize, None::<String>)));
    let authority = crate::sender::authority(url)?;
    let requests: Arc<Vec<(Vec<usize>, Vec<u8>)>> = Arc::new(
        txs.iter()
            .enumerate()
            .collect::<Vec<_>>()
            .chunks(rpc_batch.max(1))
            .map(|chunk| {
                let raws: Vec<&Bytes> = chunk.iter().map(|(_, tx)| &tx.raw).collect();
                (
                    chunk.iter().map(|(i, _)| *i).collect(),
                    crate::sender::send_raw_request(&authority, &raws),
                )
            })
            .collect(),
    );
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (next, requests, send_times, errors) = (
            next.clone(),
            requests.clone(),
            send_times.clone(),
            errors.clone(),
        );
        let mut connection = crate::sender::Connection::new(authority.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some((indexes, request)) = requests.get(n) else {
                    break;
                };
                let now = Instant::now();
                {
                    let mut times = send_times.lock().unwrap();
                    for i in indexes {
                        times[*i] = Some(now);
                    }
                }
                let outcome = match connection.round_trip(request).await {
                    Ok(body) => crate::sender::outcomes(&body, indexes.len()),
                    Err(err) => vec![Err(err.to_string()); indexes.len()],
                };
                for result in outcome {
                    if let Err(err) = result {
                        let mut errors = errors.lock().unwrap();
                        errors.0 += 1;
                        errors.1.get_or_insert(err);
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    let send_elapsed = start.elapsed();
    let (send_errors, first_error) = errors.lock().unwrap().clone();
    expected.store(txs.len() - send_errors, Ordering::SeqCst);
    sends_done.store(1, Ordering::SeqCst);
    let (inclusion, blocks) = watcher.await??;

    let send_times = send_times.lock().unwrap();
    let mut latencies = Vec::new();
    let mut end = start;
    for (i, included) in inclusion.iter().enumerate() {
        if let (Some(included), Some(sent)) = (included, send_times[i]) {
            latencies.push(included.saturating_duration_since(sent));
            end = end.max(*included);
        }
    }
    let gas = blocks
        .iter()
        .filter(|b| b.seen <= end)
        .map(|b| b.gas_used)
        .sum();
    Ok(LoadResult {
        sent: txs.len(),
        send_errors,
        first_error,
        included: latencies.len(),
        elapsed: end - start,
        send_elapsed,
        gas,
        latencies,
        blocks,
    })
}

/// JSON-RPC batch size of [`read_receipts`].
pub(crate) const RECEIPT_BATCH: usize = 200;

/// Every receipt of `txs` read back, as a wallet confirms its transactions: how many are missing
/// or failed, and how long the reads took (one connection, batches of [`RECEIPT_BATCH`]).
pub(crate) async fn read_receipts(url: &str, txs: &[SignedTx]) -> eyre::Result<(usize, Duration)> {
    let client = client(url)?;
    let params = txs.iter().map(|tx| json!([tx.hash])).collect();
    let start = Instant::now();
    let receipts = batch_call(&client, "eth_getTransactionReceipt", params, RECEIPT_BATCH).await?;
    let elapsed = start.elapsed();
    let failed = receipts
        .iter()
        .filter(|r| quantity(&r["status"]) != Some(1))
        .count();
    Ok((failed, elapsed))
}

/// p-th percentile (0..=100) of `values`, in milliseconds.
pub(crate) fn percentile_ms(values: &[Duration], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0)
}
