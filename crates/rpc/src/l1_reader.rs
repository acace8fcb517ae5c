//! A read-only view of L1 for the `rollup_*` methods that report L1 state: proposals, where a
//! withdrawal stands, the L1 gas of batches, the L1 head.
//!
//! Every read is bounded by [`L1_READ_TIMEOUT`], so a slow or dead L1 node makes those methods
//! answer "reading L1 failed", never hang. Reads that every status page polls (the L1 head, the
//! challenge period) are cached briefly, so many viewers cost L1 no more than one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes};
use alloy_rpc_client::RpcClient;
use alloy_sol_types::SolCall;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{Result, RpcError};

/// Longest one L1 read may take.
pub const L1_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the L1 head stays cached.
const HEAD_TTL: Duration = Duration::from_secs(1);
/// How long the challenge period stays cached (it changes only through governance).
const CHALLENGE_PERIOD_TTL: Duration = Duration::from_secs(60);
/// Most L1 reads one request runs at once.
pub(crate) const L1_READS_AT_ONCE: usize = 16;
/// Most L1 reads all requests together run at once: a reader shares the L1 endpoint (and its
/// provider's rate limit) with the node's L1 follower and roles, and one `rollup_getDisputes`
/// makes hundreds of reads. Reads beyond wait for a turn within [`L1_READ_TIMEOUT`].
pub(crate) const L1_READS_IN_ALL: usize = 32;
/// Most L1 gas figures of batch transactions remembered.
const GAS_CACHE_ENTRIES: usize = 4_096;

/// An L1 block header's number, hash and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct L1HeadJson {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Timestamp (seconds).
    pub timestamp: u64,
}

/// How an L1 `eth_call` failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The contract reverted (a verdict, e.g. "no proposal yet").
    Reverted(String),
    /// The read failed.
    Failed(RpcError),
}

impl From<CallError> for RpcError {
    fn from(err: CallError) -> Self {
        match err {
            CallError::Reverted(reason) => Self::L1(format!("an L1 call reverted: {reason}")),
            CallError::Failed(err) => err,
        }
    }
}

#[derive(Debug, Default)]
struct Caches {
    head: Option<(Instant, L1HeadJson)>,
    challenge_period: Option<(Instant, u64)>,
    dispute_game: Option<(Instant, Address)>,
    gas_used: HashMap<B256, u64>,
}

/// Reads L1 through the node's L1 link (an HTTP URL, or reth's own methods in-process).
#[derive(Clone)]
pub struct L1Reader {
    client: RpcClient,
    caches: Arc<Mutex<Caches>>,
    /// Turns of [`L1_READS_IN_ALL`] reads, shared by every request.
    turns: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for L1Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1Reader").finish_non_exhaustive()
    }
}

impl L1Reader {
    /// Reads L1 through `client`.
    pub fn new(client: RpcClient) -> Self {
        Self {
            client,
            caches: Arc::default(),
            turns: Arc::new(tokio::sync::Semaphore::new(L1_READS_IN_ALL)),
        }
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One JSON-RPC request to L1, bounded by [`L1_READ_TIMEOUT`].
    async fn request<R: DeserializeOwned + std::fmt::Debug + Send + Sync + Unpin + 'static>(
        &self,
        method: &'static str,
        params: Value,
    ) -> Result<R, CallError> {
        let call = async {
            // The semaphore is never closed.
            let _turn = self.turns.acquire().await;
            self.client.request::<_, R>(method, params).await
        };
        match tokio::time::timeout(L1_READ_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                let reverted = err
                    .as_error_resp()
                    .filter(|payload| payload.code == 3 || payload.message.contains("revert"));
                match reverted {
                    Some(payload) => Err(CallError::Reverted(payload.message.to_string())),
                    None => Err(CallError::Failed(RpcError::L1(format!("{method}: {err}")))),
                }
            }
            Err(_) => Err(CallError::Failed(RpcError::L1(format!(
                "{method} got no answer within {L1_READ_TIMEOUT:?}"
            )))),
        }
    }

    /// Calls a view function of an L1 contract at the latest block.
    pub(crate) async fn call<C: SolCall>(
        &self,
        to: Address,
        call: C,
    ) -> Result<C::Return, CallError> {
        let data = Bytes::from(call.abi_encode());
        let out: Bytes = self
            .request("eth_call", json!([{ "to": to, "data": data }, "latest"]))
            .await?;
        rollup_primitives::decode_returns::<C>(to, &out)
            .map_err(|reason| CallError::Failed(RpcError::L1(reason)))
    }

    /// The latest L1 block, at least block `at_least` (cached for a second, unless older).
    pub(crate) async fn head(&self, at_least: u64) -> Result<L1HeadJson> {
        if let Some((at, head)) = self.caches().head
            && at.elapsed() < HEAD_TTL
            && head.number >= at_least
        {
            return Ok(head);
        }
        let block: Option<Value> = self
            .request("eth_getBlockByNumber", json!(["latest", false]))
            .await?;
        let block = block.ok_or_else(|| RpcError::L1("L1 has no latest block".into()))?;
        let quantity = |field: &str| {
            block[field]
                .as_str()
                .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
                .ok_or_else(|| RpcError::L1(format!("the latest L1 block has no {field}")))
        };
        let head = L1HeadJson {
            number: quantity("number")?,
            timestamp: quantity("timestamp")?,
            hash: block["hash"]
                .as_str()
                .and_then(|hash| hash.parse().ok())
                .ok_or_else(|| RpcError::L1("the latest L1 block has no hash".into()))?,
        };
        self.caches().head = Some((Instant::now(), head));
        Ok(head)
    }

    /// `StateManager.challengePeriod()` (cached for a minute).
    pub(crate) async fn challenge_period(&self, state_manager: Address) -> Result<u64> {
        if let Some((at, period)) = self.caches().challenge_period
            && at.elapsed() < CHALLENGE_PERIOD_TTL
        {
            return Ok(period);
        }
        let period = self
            .call(
                state_manager,
                rollup_primitives::bindings::IStateManager::challengePeriodCall {},
            )
            .await?;
        let period = u64::try_from(period).unwrap_or(u64::MAX);
        self.caches().challenge_period = Some((Instant::now(), period));
        Ok(period)
    }

    /// `StateManager.disputeGame()`: where new games open (cached for a minute; the timelock
    /// may set another). Zero when none is set; an error for a StateManager from before the
    /// fraud proof, which has no such function.
    pub(crate) async fn dispute_game(&self, state_manager: Address) -> Result<Address> {
        if let Some((at, game)) = self.caches().dispute_game
            && at.elapsed() < CHALLENGE_PERIOD_TTL
        {
            return Ok(game);
        }
        let game = self
            .call(
                state_manager,
                rollup_primitives::bindings::IStateManager::disputeGameCall {},
            )
            .await?;
        self.caches().dispute_game = Some((Instant::now(), game));
        Ok(game)
    }

    /// `eth_getLogs` with a raw filter object.
    pub(crate) async fn logs(&self, filter: Value) -> Result<Vec<alloy_rpc_types_eth::Log>> {
        Ok(self.request("eth_getLogs", json!([filter])).await?)
    }

    /// Gas used by each of `transactions` on L1, where known (remembered once read).
    pub(crate) async fn gas_used(&self, transactions: &[B256]) -> HashMap<B256, u64> {
        let mut known = HashMap::new();
        let mut missing = Vec::new();
        {
            let caches = self.caches();
            for hash in transactions {
                match caches.gas_used.get(hash) {
                    Some(gas) => {
                        known.insert(*hash, *gas);
                    }
                    None => missing.push(*hash),
                }
            }
        }
        let reads = missing.iter().map(|hash| async move {
            let receipt: Result<Option<Value>, CallError> = self
                .request("eth_getTransactionReceipt", json!([hash]))
                .await;
            let gas = receipt.ok().flatten().and_then(|receipt| {
                receipt["gasUsed"]
                    .as_str()
                    .and_then(|hex| u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok())
            });
            (*hash, gas)
        });
        let reads: Vec<_> = reads.collect();
        let found: Vec<_> = futures::stream::iter(reads)
            .buffered(L1_READS_AT_ONCE)
            .collect()
            .await;
        let mut caches = self.caches();
        if caches.gas_used.len() + found.len() > GAS_CACHE_ENTRIES {
            caches.gas_used.clear();
        }
        for (hash, gas) in found {
            if let Some(gas) = gas {
                caches.gas_used.insert(hash, gas);
                known.insert(hash, gas);
            }
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// An L1 endpoint that answers every request after `delay`, counting the most requests it
    /// held at once.
    async fn slow_l1(delay: Duration) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let seen = Arc::clone(&most);
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let (now, most) = (Arc::clone(&now), Arc::clone(&most));
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0; 4096];
                    loop {
                        let read = socket.read(&mut buf).await.unwrap_or(0);
                        if read == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..read]);
                        let text = String::from_utf8_lossy(&request).into_owned();
                        let Some((head, body)) = text.split_once("\r\n\r\n") else {
                            continue;
                        };
                        let length: usize = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() < length {
                            continue;
                        }
                        let id =
                            serde_json::from_str::<Value>(&body[..length]).unwrap()["id"].clone();
                        request.clear();
                        let held = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(held, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        let answer =
                            json!({"jsonrpc": "2.0", "id": id, "result": "0x1"}).to_string();
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        if socket.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn reads_of_all_requests_together_are_bounded() {
        let (url, most) = slow_l1(Duration::from_millis(100)).await;
        let reader = L1Reader::new(RpcClient::new_http(url.parse().unwrap()));
        // Many requests at once, each running its own reads, as many status pages would.
        let reads = (0..4 * L1_READS_IN_ALL).map(|_| {
            let reader = reader.clone();
            tokio::spawn(async move {
                reader
                    .request::<String>("eth_blockNumber", json!([]))
                    .await
                    .map_err(RpcError::from)
            })
        });
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.unwrap().unwrap(), "0x1");
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            most <= L1_READS_IN_ALL,
            "the L1 endpoint held {most} reads at once"
        );
        assert!(most > 1, "reads still run side by side ({most})");
    }
}
