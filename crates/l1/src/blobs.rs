//! Blob data for derivation: the EIP-4844 blobs of the batch transactions an L1 block carries,
//! from a beacon node's API (`GET /eth/v1/beacon/blobs/{block_id}`), each checked against its
//! versioned hash before anything reads it.
//!
//! L1 execution nodes do not serve the blobs of mined transactions; the consensus layer does,
//! for about 18 days. A real beacon node names blocks by slot, computed from the execution
//! block's timestamp and the chain's genesis time and slot length (`/eth/v1/beacon/genesis`,
//! `/eth/v1/config/spec`). anvil serves the same endpoint but has no slots: it names blocks by
//! number or execution block hash, and it has no `/eth/v1/config/spec`, which is how the source
//! tells the two apart.

use std::time::Duration;

use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob, c_kzg, kzg_to_versioned_hash};
use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolEvent;
use rollup_primitives::{
    BlockNumHash, L1Block, L1Transaction, bindings::IBatchInbox::BatchAppended,
};
use serde::Deserialize;
use tokio::sync::OnceCell;
use tracing::debug;

use crate::error::{L1Error, Result};

/// How long one beacon API request may take.
const BEACON_TIMEOUT: Duration = Duration::from_secs(30);

/// How the beacon API names an execution block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockIds {
    /// By slot: `(timestamp - genesis_time) / seconds_per_slot`.
    Slots {
        genesis_time: u64,
        seconds_per_slot: u64,
    },
    /// By execution block hash (anvil).
    ExecutionHash,
}

/// Where derivation gets blob data: a beacon API endpoint, for the transactions sent to one
/// address (the `BatchInbox`).
#[derive(Debug)]
pub struct BlobSource {
    url: String,
    inbox: Address,
    http: reqwest::Client,
    ids: OnceCell<BlockIds>,
    known: Option<KnownBlobs>,
}

/// Blobs this process built itself, by versioned hash: the batcher's own blobs, which the node
/// then reads back from L1. A blob found here was committed to by this process, so neither the
/// beacon API nor another KZG commitment is needed for it (the commitment is what costs: tens
/// of milliseconds per blob, as much again as building the sidecar's proofs).
///
/// Bounded: the newest [`KnownBlobs::CAPACITY`] blobs are kept; an older one is fetched and
/// checked as any other. Clones share one store.
#[derive(Debug, Clone, Default)]
pub struct KnownBlobs {
    inner: std::sync::Arc<std::sync::Mutex<KnownInner>>,
}

#[derive(Debug, Default)]
struct KnownInner {
    by_hash: std::collections::HashMap<B256, Bytes>,
    order: std::collections::VecDeque<B256>,
}

impl KnownBlobs {
    /// How many blobs are kept (16 MiB): the blobs of several full batches in flight.
    pub const CAPACITY: usize = 128;

    /// Remembers `blob` under `versioned_hash`, which the caller computed from the blob's own
    /// KZG commitment.
    fn insert(&self, versioned_hash: B256, blob: Bytes) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if inner.by_hash.insert(versioned_hash, blob).is_none() {
            inner.order.push_back(versioned_hash);
        }
        while inner.order.len() > Self::CAPACITY {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_hash.remove(&oldest);
            }
        }
    }

    /// The blob with `versioned_hash`, if this process built it recently.
    pub fn get(&self, versioned_hash: &B256) -> Option<Bytes> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.by_hash.get(versioned_hash).cloned()
    }

    /// The blobs with `versioned_hashes`, in that order, if all of them are kept.
    pub fn get_all(&self, versioned_hashes: &[B256]) -> Option<Vec<Bytes>> {
        versioned_hashes.iter().map(|hash| self.get(hash)).collect()
    }

    /// How many blobs are kept now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .order
            .len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A beacon API request that failed.
#[derive(Debug)]
struct GetError {
    /// What happened, for the log.
    reason: String,
    /// Whether the URL answered in a way no beacon API does (a client error other than 404, or a
    /// success that is not the API's JSON), rather than not yet (unreachable, timing out, a
    /// server error).
    refused: bool,
}

impl From<GetError> for String {
    fn from(err: GetError) -> Self {
        err.reason
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Debug, Deserialize)]
struct Genesis {
    #[serde(with = "alloy_serde::displayfromstr")]
    genesis_time: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct Spec {
    #[serde(with = "alloy_serde::displayfromstr")]
    seconds_per_slot: u64,
    /// The execution chain the beacon chain's deposit contract is on: the L1's chain id (a
    /// decimal string, as every client serves it; a number is taken too).
    #[serde(default)]
    deposit_chain_id: Option<serde_json::Value>,
}

impl BlobSource {
    /// A source reading the beacon API at `url` (http or https) for transactions to `inbox`.
    /// Does not contact the node.
    pub fn new(url: &str, inbox: Address) -> Result<Self> {
        crate::rpc::check_http_url(url)?;
        // Loading the KZG trusted setup takes seconds: start it now, in the background, rather
        // than in front of the first blob batch (or of the first L2 block that calls the
        // point-evaluation precompile: revm loads the same setup).
        crate::start_kzg_thread();
        let http = reqwest::Client::builder()
            .timeout(BEACON_TIMEOUT)
            .build()
            .map_err(|err| L1Error::InvalidSetup(format!("beacon API client: {err}")))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            inbox,
            http,
            ids: OnceCell::new(),
            known: None,
        })
    }

    /// Takes blobs from `known` (this process's own) before asking the beacon API.
    pub fn with_known(mut self, known: KnownBlobs) -> Self {
        self.known = Some(known);
        self
    }

    /// The beacon API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn error(&self, number: u64, reason: impl Into<String>) -> L1Error {
        L1Error::Blobs {
            url: self.url.clone(),
            number,
            reason: reason.into(),
        }
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
    ) -> std::result::Result<Option<T>, GetError> {
        let unanswered = |reason: String| GetError {
            reason,
            refused: false,
        };
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .map_err(|err| {
                unanswered(if err.is_timeout() {
                    format!("GET {path}: no answer within {}s", BEACON_TIMEOUT.as_secs())
                } else {
                    format!("GET {path}: {err}")
                })
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = crate::transport::read_bounded(response, crate::transport::MAX_RESPONSE_BYTES)
            .await
            .map_err(|err| unanswered(format!("GET {path}: {err}")))?;
        if !status.is_success() {
            // A client error other than these means the URL serves no such API (a JSON-RPC
            // endpoint answers GET with 405); a server error may pass.
            let passing = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            return Err(GetError {
                // On one line: a server's body often ends in a newline, which broke the
                // message (and the JSON log line's text) in two.
                reason: format!(
                    "GET {path}: HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                refused: !passing,
            });
        }
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|envelope| Some(envelope.data))
            .map_err(|err| GetError {
                reason: format!("GET {path}: unexpected response: {err}"),
                refused: true,
            })
    }

    async fn block_ids(&self, number: u64) -> Result<BlockIds> {
        if let Some(ids) = self.ids.get() {
            return Ok(*ids);
        }
        // Only a missing endpoint means anvil; any other failure is retried later. Only a
        // beacon node's answer is remembered: a 404 for the spec is asked again at the next
        // read, so one 404 from a proxy in front of a restarting beacon node cannot make every
        // later read ask a real beacon node by execution hash, which it never answers.
        let spec = self
            .get::<Spec>("/eth/v1/config/spec")
            .await
            .map_err(|reason| self.error(number, reason))?;
        let Some(spec) = spec.filter(|spec| spec.seconds_per_slot > 0) else {
            debug!(target: "rollup::l1", url = %self.url, "the beacon API has no chain spec: naming blocks by execution hash (anvil)");
            return Ok(BlockIds::ExecutionHash);
        };
        let genesis = self
            .get::<Genesis>("/eth/v1/beacon/genesis")
            .await
            .map_err(|reason| self.error(number, reason))?
            .ok_or_else(|| self.error(number, "the beacon API has no genesis"))?;
        let ids = BlockIds::Slots {
            genesis_time: genesis.genesis_time,
            seconds_per_slot: spec.seconds_per_slot,
        };
        // Another read may have set it meanwhile, from the same answers.
        let _ = self.ids.set(ids);
        Ok(ids)
    }

    /// Checks, before any blob is needed, that the URL serves this L1's blobs: a beacon node
    /// whose chain spec names `l1_chain_id` as its deposit chain, or an L1 node serving the blob
    /// endpoint itself (anvil) that knows the rollup's L1 origin block `origin`. A URL that is
    /// neither is [`L1Error::WrongBeacon`]; one that cannot be asked now (down, timing out,
    /// answering errors) is a temporary [`L1Error::Blobs`] error, and every blob read retries.
    pub async fn check(&self, l1_chain_id: u64, origin: BlockNumHash) -> Result<()> {
        let wrong = |reason: String| L1Error::WrongBeacon {
            url: self.url.clone(),
            reason,
        };
        // An answer no beacon API gives is the URL's fault; no answer yet is temporary.
        let failed = |err: GetError, what: &str| {
            if err.refused {
                wrong(format!(
                    "{what}: {}; pass the beacon API of the L1 that --l1-rpc-url serves (an execution node's JSON-RPC URL serves no blobs, anvil's excepted)",
                    err.reason
                ))
            } else {
                self.error(origin.number, err)
            }
        };
        let spec = self
            .get::<Spec>("/eth/v1/config/spec")
            .await
            .map_err(|err| failed(err, "is no beacon node's API"))?;
        match spec {
            Some(spec) => {
                let chain = match &spec.deposit_chain_id {
                    Some(serde_json::Value::String(chain)) => chain.parse::<u64>().ok(),
                    Some(serde_json::Value::Number(chain)) => chain.as_u64(),
                    _ => None,
                };
                if let Some(chain) = chain
                    && chain != l1_chain_id
                {
                    return Err(wrong(format!(
                        "is a beacon node of the chain whose deposit chain id is {chain}, but the rollup's L1 is chain {l1_chain_id}: point it at the beacon node of the L1 that --l1-rpc-url serves"
                    )));
                }
            }
            None => {
                let path = format!("/eth/v1/beacon/blobs/{}", origin.hash);
                let blobs = self.get::<Vec<Bytes>>(&path).await.map_err(|err| {
                    failed(
                        err,
                        "serves no beacon chain spec, and is no anvil serving this L1 either",
                    )
                })?;
                if blobs.is_none() {
                    return Err(wrong(format!(
                        "serves no beacon chain spec, and no blobs of the rollup's L1 origin block {} {}: it is not a beacon node's API (nor an anvil serving this L1); pass the beacon API of the L1 that --l1-rpc-url serves",
                        origin.number, origin.hash
                    )));
                }
            }
        }
        Ok(())
    }

    /// The blobs with `versioned_hashes`, in that order, that L1 block `number` (with `hash`
    /// and `timestamp`) carried: this process's own if it has them all, else the beacon API's,
    /// each checked against its versioned hash. For a blob batch read outside derivation (the
    /// dispute agent's); an error as [`Self::attach`]'s.
    pub async fn fetch(
        &self,
        number: u64,
        hash: B256,
        timestamp: u64,
        versioned_hashes: &[B256],
    ) -> Result<Vec<Bytes>> {
        if let Some(blobs) = self
            .known
            .as_ref()
            .and_then(|known| known.get_all(versioned_hashes))
        {
            return Ok(blobs);
        }
        let (by_hash, id, served_count) = self.served(number, hash, timestamp, None).await?;
        versioned_hashes
            .iter()
            .map(|wanted| {
                by_hash.get(wanted).cloned().ok_or_else(|| {
                    self.error(
                        number,
                        format!(
                            "the beacon node did not serve blob {wanted} (it served \
                             {served_count} blobs for block {id})"
                        ),
                    )
                })
            })
            .collect()
    }

    /// The blobs the beacon API serves for L1 block `number`, by versioned hash (each
    /// recomputed from the blob), with the block's id in the API and how many it served.
    ///
    /// With `by_position` (the versioned hashes of every blob the block carries, in block
    /// order, which is the order the beacon API serves them in; and the wanted ones), only the
    /// wanted blobs are committed to: a mainnet block carries other rollups' blobs too, each a
    /// commitment of tens of milliseconds for nothing. Without it, or when the served blobs do
    /// not line up (or a picked blob does not match its hash), every served blob is.
    async fn served(
        &self,
        number: u64,
        hash: B256,
        timestamp: u64,
        by_position: Option<(Vec<B256>, Vec<B256>)>,
    ) -> Result<(std::collections::HashMap<B256, Bytes>, String, usize)> {
        let ids = self.block_ids(number).await?;
        let id = match ids {
            BlockIds::ExecutionHash => hash.to_string(),
            BlockIds::Slots {
                genesis_time,
                seconds_per_slot,
            } => {
                let since = timestamp.checked_sub(genesis_time).ok_or_else(|| {
                    self.error(number, "the block is older than the beacon chain's genesis")
                })?;
                (since / seconds_per_slot).to_string()
            }
        };
        // All of the block's blobs, unfiltered: beacon nodes differ in how they read the
        // `versioned_hashes` filter (repeated or comma-separated), and a block holds few blobs.
        let path = format!("/eth/v1/beacon/blobs/{id}");
        let served: Vec<Bytes> = self
            .get(&path)
            .await
            .map_err(|reason| self.error(number, reason))?
            .ok_or_else(|| {
                let cause = match ids {
                    // Blocks are named by execution hash only where the URL has no beacon chain
                    // spec: anvil, or something at that URL that is no beacon API at all.
                    BlockIds::ExecutionHash => {
                        "it serves no beacon chain spec either: if it is not anvil, check that --l1-beacon-url is a beacon node's API"
                    }
                    BlockIds::Slots { .. } => "blobs pruned, or the node is behind",
                };
                self.error(
                    number,
                    format!("the beacon node does not know block {id} ({cause})"),
                )
            })?;
        let served_count = served.len();
        // More blobs than any L1 block can carry is no answer about one block, and a
        // commitment to each of hundreds would hold the KZG thread for a minute every retry.
        // (Not the block's own count: anvil's endpoint can serve a blob more than the block's
        // transactions list, and every served blob is then committed to, below.)
        if served_count > MAX_SERVED_BLOBS {
            return Err(self.error(
                number,
                format!(
                    "the beacon node served {served_count} blobs for block {id}, more than any L1 block carries ({MAX_SERVED_BLOBS}): a faulty beacon node"
                ),
            ));
        }
        // A commitment takes tens of milliseconds per blob (and seconds for the trusted setup
        // on first use): on the KZG thread, off the async runtime and below the sequencer.
        let hashed = crate::kzg_work(move || {
            if let Some(picked) =
                by_position.and_then(|(layout, wanted)| pick_by_position(&layout, &served, &wanted))
            {
                return Ok(picked);
            }
            served
                .into_iter()
                .map(|blob| versioned_hash(&blob).map(|hash| (hash, blob)))
                .collect::<std::result::Result<std::collections::HashMap<_, _>, _>>()
        })
        .await
        .map_err(|err| self.error(number, format!("blob check: {err}")))?;
        let by_hash = hashed.map_err(|reason| self.error(number, reason))?;
        Ok((by_hash, id, served_count))
    }

    /// Attaches to every inbox transaction of `block` that carries blobs its blobs
    /// ([`L1Transaction::blobs`]), in the order of its versioned hashes. Every blob is checked
    /// against its versioned hash (KZG commitment); a blob the beacon node does not have, or
    /// one that does not match, is an error (retry later, or point at a node that keeps blobs).
    pub async fn attach(&self, block: &mut L1Block) -> Result<()> {
        let wanted = blob_batch_transactions(block, self.inbox);
        if wanted.is_empty() {
            return Ok(());
        }
        if let Some(known) = &self.known {
            let mut all_known = true;
            for &index in &wanted {
                let tx = &mut block.transactions[index];
                match known.get_all(&tx.blob_versioned_hashes) {
                    Some(blobs) => tx.blobs = blobs,
                    None => all_known = false,
                }
            }
            if all_known {
                metrics::counter!("rollup_l1_blobs_known_total").increment(
                    wanted
                        .iter()
                        .map(|&index| block.transactions[index].blobs.len() as u64)
                        .sum(),
                );
                return Ok(());
            }
        }
        let layout = block
            .transactions
            .iter()
            .flat_map(|tx| tx.blob_versioned_hashes.iter().copied())
            .collect();
        let ours: Vec<B256> = wanted
            .iter()
            .flat_map(|&index| {
                block.transactions[index]
                    .blob_versioned_hashes
                    .iter()
                    .copied()
            })
            .collect();
        let (by_hash, id, served_count) = self
            .served(
                block.number,
                block.hash,
                block.timestamp,
                Some((layout, ours)),
            )
            .await?;
        for index in wanted {
            let tx: &mut L1Transaction = &mut block.transactions[index];
            tx.blobs = tx
                .blob_versioned_hashes
                .iter()
                .map(|hash| {
                    by_hash.get(hash).cloned().ok_or_else(|| {
                        self.error(
                            block.number,
                            format!(
                                "the beacon node did not serve blob {hash} of transaction {} \
                                 (it served {served_count} blobs for block {id})",
                                tx.hash
                            ),
                        )
                    })
                })
                .collect::<Result<_>>()?;
        }
        Ok(())
    }
}

/// The most blobs a beacon answer for one block may hold: far above what any L1 fork lets a
/// block carry (Ethereum's maximum is in the tens), a bound on the commitments one answer costs.
pub const MAX_SERVED_BLOBS: usize = 128;

/// The transactions of `block` whose blobs derivation reads: successful calls of `inbox` that
/// carry blobs and logged a blob batch (`BatchAppended` with a non-zero blob count). Anyone may
/// send another inbox call with blobs (`recordOrigins`, `forceInclude`); nobody reads those.
/// Every L1 source (the beacon API here, an L1 node's own blob store elsewhere) applies this
/// same rule.
pub fn blob_batch_transactions(block: &L1Block, inbox: Address) -> Vec<usize> {
    block
        .transactions
        .iter()
        .zip(&block.receipts)
        .enumerate()
        .filter(|(_, (tx, receipt))| {
            receipt.success
                && tx.to == Some(inbox)
                && !tx.blob_versioned_hashes.is_empty()
                && receipt.logs.iter().any(|log| {
                    log.address == inbox
                        && log.topics().first() == Some(&BatchAppended::SIGNATURE_HASH)
                        && BatchAppended::decode_log_data(&log.data)
                            .is_ok_and(|event| event.blobCount > 0)
                })
        })
        .map(|(index, _)| index)
        .collect()
}

/// The `wanted` blobs of a block picked from `served` by position: `layout` lists the
/// versioned hashes of all the block's blobs in block order, and a beacon node serves them in
/// that order. Each picked blob is checked against its hash, so only they cost a commitment.
/// `None` when the served blobs do not line up with `layout` or a picked one does not match.
fn pick_by_position(
    layout: &[B256],
    served: &[Bytes],
    wanted: &[B256],
) -> Option<std::collections::HashMap<B256, Bytes>> {
    if layout.len() != served.len() {
        return None;
    }
    wanted
        .iter()
        .map(|hash| {
            let blob = &served[layout.iter().position(|at| at == hash)?];
            (versioned_hash(blob).ok()? == *hash).then(|| (*hash, blob.clone()))
        })
        .collect()
}

/// The versioned hash of `blob`'s KZG commitment; an error if it is not a blob.
pub fn versioned_hash(blob: &[u8]) -> std::result::Result<B256, String> {
    if blob.len() != BYTES_PER_BLOB {
        return Err(format!(
            "a blob of {} bytes, not {BYTES_PER_BLOB}",
            blob.len()
        ));
    }
    let blob = c_kzg::Blob::from_bytes(blob).map_err(|err| format!("not a blob: {err}"))?;
    let commitment = rollup_primitives::kzg_settings()
        .blob_to_kzg_commitment(&blob)
        .map_err(|err| format!("not a blob (a field element is out of range?): {err}"))?;
    Ok(kzg_to_versioned_hash(commitment.as_slice()))
}

/// The blobs of a blob batch this node's batcher posted, rebuilt from the blocks the node
/// holds: `envelope` is the batch's `postBlobBatch` argument (its first block and block count),
/// `block(n)` the stored header and body of L2 block `n`, and `versioned_hashes` the
/// transaction's. The batcher's encoding is deterministic in the blocks' transactions,
/// timestamps and origins, so encoding the same blocks gives the same segments and blobs; each
/// is checked against its versioned hash, so blocks that differ from what was posted (the
/// unsafe chain since replaced, another node's batch) give `None`, never wrong blobs. For a
/// node that lost its in-memory [`KnownBlobs`] to a restart and has no other source of its own
/// blobs. Costs one KZG commitment per blob.
pub fn rebuild_blob_batch(
    envelope: &[u8],
    versioned_hashes: &[B256],
    block: impl Fn(
        u64,
    ) -> Option<(
        rollup_primitives::Header,
        Vec<rollup_primitives::L2Transaction>,
    )>,
) -> Option<Vec<Bytes>> {
    if envelope.first() != Some(&rollup_primitives::BATCH_VERSION) || versioned_hashes.is_empty() {
        return None;
    }
    let first_block = u64::from_be_bytes(envelope.get(1..9)?.try_into().ok()?);
    let block_count = u16::from_be_bytes(envelope.get(9..11)?.try_into().ok()?);
    let segment_byte = *envelope.get(12)?;
    let open = segment_byte & rollup_primitives::OPEN_FLAG != 0;
    let segment_count = usize::from(segment_byte & !rollup_primitives::OPEN_FLAG);
    // The block table's counts and the segment table's lengths.
    let mut table = 21;
    for _ in 0..*envelope.get(11)? {
        table += 2 + usize::from(u16::from_be_bytes(
            envelope.get(table..table + 2)?.try_into().ok()?,
        ));
    }
    let counts: Vec<usize> = envelope
        .get(table..table + usize::from(block_count) * 7)?
        .chunks(7)
        .map(|entry| usize::from(u16::from_be_bytes([entry[5], entry[6]])))
        .collect();
    let segments_at = table + usize::from(block_count) * 7;
    let lengths: Vec<usize> = envelope
        .get(segments_at..segments_at + segment_count * 6)?
        .chunks(6)
        .map(|entry| u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize)
        .collect();
    let origin = |header: &rollup_primitives::Header| {
        rollup_primitives::decode_l1_origin(&header.extra_data)
            .ok()
            .map(|origin| origin.number)
    };
    let (parent, _) = block(first_block.checked_sub(1)?)?;
    let parent = rollup_primitives::BatchParent {
        timestamp: parent.timestamp,
        l1_origin: origin(&parent)?,
    };
    let mut blocks = Vec::with_capacity(usize::from(block_count));
    for number in first_block..first_block + u64::from(block_count) {
        let (header, body) = block(number)?;
        blocks.push(rollup_primitives::BatchBlock {
            timestamp: header.timestamp,
            l1_origin: origin(&header)?,
            transactions: body
                .into_iter()
                .filter_map(|tx| match tx {
                    rollup_primitives::L2Transaction::Signed { envelope, .. } => Some(envelope),
                    rollup_primitives::L2Transaction::Deposit(_) => None,
                })
                .collect(),
        });
    }
    // A block spanning batches is here in part: an open last block, its first transactions;
    // a first block continuing one, the transactions after the earlier parts, which the
    // batcher cut at the segments the block splits into alone (the last ones when this batch
    // closes it).
    let first_count = *counts.first()?;
    let first_len = blocks.first()?.transactions.len();
    if open && blocks.len() > 1 {
        let last = blocks.last_mut()?;
        last.transactions.truncate(*counts.last()?);
    }
    let offsets: Vec<usize> = if first_len <= first_count {
        vec![0]
    } else if block_count > 1 || !open {
        vec![first_len - first_count]
    } else {
        let alone = rollup_primitives::segment_tx_counts(&blocks[0].transactions).ok()?;
        std::iter::once(0)
            .chain(alone.iter().scan(0, |at, count| {
                *at += count;
                Some(*at)
            }))
            .filter(|offset| offset + first_count <= first_len)
            .collect()
    };
    // Headers and the deposit count change the envelope only, never the segments.
    let all_first = blocks.first()?.transactions.clone();
    for offset in offsets {
        blocks[0].transactions = all_first[offset..(offset + first_count).min(first_len)].to_vec();
        let batch = rollup_primitives::Batch {
            first_block,
            deposit_count: 0,
            headers: Vec::new(),
            blocks: blocks.clone(),
            last_block_open: open,
        };
        let Ok((bytes, envelope_len)) = batch.encode_unbounded(parent) else {
            continue;
        };
        // Cheap before the KZG check: the segments must have the table's lengths.
        let ours = rollup_primitives::BatchEnvelope::parse_blob(
            &bytes[..envelope_len],
            &bytes[envelope_len..],
        )
        .ok()?;
        if ours.segments.len() != lengths.len()
            || ours
                .segments
                .iter()
                .zip(&lengths)
                .any(|((_, segment), length)| segment.len() != *length)
        {
            continue;
        }
        let blobs = rollup_primitives::to_blobs(&bytes[envelope_len..]);
        if blobs.len() != versioned_hashes.len() {
            return None;
        }
        let mut out = Vec::with_capacity(blobs.len());
        for (blob, hash) in blobs.iter().zip(versioned_hashes) {
            if versioned_hash(blob.as_slice()).ok()? != *hash {
                return None;
            }
            out.push(Bytes::copy_from_slice(blob.as_slice()));
        }
        return Some(out);
    }
    None
}

/// Which blob sidecar an L1 takes: EIP-4844 blob proofs before Osaka, EIP-7594 cell proofs
/// since (an Osaka node refuses the old form, a pre-Osaka one the new).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidecarFormat {
    /// One KZG proof per blob (Cancun and Prague).
    Eip4844,
    /// Cell proofs (Osaka on).
    Eip7594,
}

impl SidecarFormat {
    /// The format the fork described by an `eth_config` (EIP-7910) answer's `current` entry
    /// takes: Osaka added the `P256VERIFY` precompile (EIP-7951), so a fork without it is
    /// before Osaka. An answer without a precompile list says nothing: Osaka's.
    pub fn from_eth_config(config: &serde_json::Value) -> Self {
        match config["current"]["precompiles"].as_object() {
            Some(precompiles) if !precompiles.contains_key("P256VERIFY") => Self::Eip4844,
            _ => Self::Eip7594,
        }
    }

    /// A short name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eip4844 => "eip4844",
            Self::Eip7594 => "eip7594",
        }
    }
}

/// The sidecar that carries `blobs` in `format`, remembering them in `known` as [`sidecar`]
/// does.
pub fn sidecar_in(
    blobs: Vec<Blob>,
    known: Option<&KnownBlobs>,
    format: SidecarFormat,
) -> std::result::Result<alloy_eips::eip7594::BlobTransactionSidecarVariant, String> {
    match format {
        SidecarFormat::Eip7594 => sidecar(blobs, known).map(Into::into),
        SidecarFormat::Eip4844 => {
            let sidecar =
                alloy_eips::eip4844::BlobTransactionSidecar::try_from_blobs_with_settings(
                    blobs,
                    rollup_primitives::kzg_settings(),
                )
                .map_err(|err| {
                    format!("cannot compute the blobs' KZG commitments and proofs: {err}")
                })?;
            if let Some(known) = known {
                for (blob, commitment) in sidecar.blobs.iter().zip(&sidecar.commitments) {
                    known.insert(
                        kzg_to_versioned_hash(commitment.as_slice()),
                        Bytes::copy_from_slice(blob.as_slice()),
                    );
                }
            }
            Ok(sidecar.into())
        }
    }
}

/// The sidecar that carries `blobs` (EIP-7594 cell proofs, what L1 takes since Osaka). With
/// `known`, each blob is remembered under its versioned hash, so that reading it back from L1
/// costs neither a fetch nor a second commitment.
pub fn sidecar(
    blobs: Vec<Blob>,
    known: Option<&KnownBlobs>,
) -> std::result::Result<alloy_eips::eip7594::BlobTransactionSidecarEip7594, String> {
    let sidecar = alloy_eips::eip7594::BlobTransactionSidecarEip7594::try_from_blobs_with_settings(
        blobs,
        rollup_primitives::kzg_settings(),
    )
    .map_err(|err| format!("cannot compute the blobs' KZG commitments and proofs: {err}"))?;
    if let Some(known) = known {
        for (blob, commitment) in sidecar.blobs.iter().zip(&sidecar.commitments) {
            known.insert(
                kzg_to_versioned_hash(commitment.as_slice()),
                Bytes::copy_from_slice(blob.as_slice()),
            );
        }
    }
    Ok(sidecar)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the wanted blobs of a block are committed to, found by their position among the
    /// block's blobs; a served list that does not line up, or a blob at the wrong place, is
    /// left to the full check.
    #[test]
    fn wanted_blobs_are_picked_by_position() {
        let data: Vec<u8> = (0..2 * rollup_primitives::BLOB_DATA_SIZE)
            .map(|i| (i * 13 + i / 977) as u8)
            .collect();
        let ours: Vec<Bytes> = rollup_primitives::to_blobs(&data)
            .iter()
            .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
            .collect();
        let hashes: Vec<B256> = ours
            .iter()
            .map(|blob| versioned_hash(blob).unwrap())
            .collect();
        // Another rollup's blob, which would fail a commitment: every field element out of range.
        let foreign = Bytes::from(vec![0xff; BYTES_PER_BLOB]);
        assert!(versioned_hash(&foreign).is_err());
        let foreign_hash = B256::repeat_byte(0x01);

        let layout = [foreign_hash, hashes[0], hashes[1]];
        let served = [foreign.clone(), ours[0].clone(), ours[1].clone()];
        let picked = pick_by_position(&layout, &served, &[hashes[1], hashes[0]]).unwrap();
        assert_eq!(picked.len(), 2);
        assert_eq!(picked[&hashes[0]], ours[0]);
        assert_eq!(picked[&hashes[1]], ours[1]);

        // Fewer served than the block carries, blobs out of order, a hash not in the block.
        assert_eq!(pick_by_position(&layout, &served[1..], &hashes), None);
        let swapped = [foreign, ours[1].clone(), ours[0].clone()];
        assert_eq!(pick_by_position(&layout, &swapped, &hashes), None);
        assert_eq!(
            pick_by_position(&layout, &served, &[B256::repeat_byte(2)]),
            None
        );
    }

    /// Every blob path of the node uses the one setup alloy's sidecar builder (and revm's
    /// point-evaluation precompile, at the same precompute) loads: a second one would cost
    /// seconds of CPU and about 100 MB more.
    #[test]
    fn the_node_loads_one_kzg_setup() {
        let ours = rollup_primitives::kzg_settings();
        assert!(std::ptr::eq(
            ours,
            alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get()
        ));
    }

    #[test]
    fn the_sidecar_format_follows_the_fork_in_eth_config() {
        let config = |precompiles: serde_json::Value| serde_json::json!({"current": {"activationTime": 0, "precompiles": precompiles}});
        let prague =
            config(serde_json::json!({"BLS12_G1ADD": "0x0b", "KZG_POINT_EVALUATION": "0x0a"}));
        let osaka =
            config(serde_json::json!({"P256VERIFY": "0x0100", "KZG_POINT_EVALUATION": "0x0a"}));
        assert_eq!(
            SidecarFormat::from_eth_config(&prague),
            SidecarFormat::Eip4844
        );
        assert_eq!(
            SidecarFormat::from_eth_config(&osaka),
            SidecarFormat::Eip7594
        );
        // An answer that says nothing about precompiles: Osaka's.
        assert_eq!(
            SidecarFormat::from_eth_config(&serde_json::json!({"current": {}})),
            SidecarFormat::Eip7594
        );
        assert_eq!(
            SidecarFormat::from_eth_config(&serde_json::Value::Null),
            SidecarFormat::Eip7594
        );
    }

    /// L2 blocks 1..=3 on genesis 0 (origin 7 then 8), each with `per_block` signed transfers
    /// (a block of deposits only included, which a batch carries as an empty block).
    fn stored_blocks(
        per_block: usize,
    ) -> std::collections::BTreeMap<
        u64,
        (
            rollup_primitives::Header,
            Vec<rollup_primitives::L2Transaction>,
        ),
    > {
        use alloy_consensus::{SignableTransaction, TxEip1559};
        use alloy_primitives::{Signature, TxKind, U256};
        let mut blocks = std::collections::BTreeMap::new();
        for number in 0..=3u64 {
            let header = rollup_primitives::Header {
                number,
                timestamp: 1_000 + 2 * number,
                extra_data: rollup_primitives::encode_l1_origin(rollup_primitives::L1Origin {
                    number: 7 + number / 2,
                    hash: B256::repeat_byte(number as u8),
                }),
                ..Default::default()
            };
            let count = if number == 0 {
                0
            } else {
                per_block * number as usize
            };
            let body = (0..count)
                .map(|i| {
                    let tx = TxEip1559 {
                        chain_id: 901,
                        nonce: i as u64,
                        gas_limit: 21_000,
                        max_fee_per_gas: 1_000_000_000,
                        max_priority_fee_per_gas: 1,
                        to: TxKind::Call(Address::repeat_byte(number as u8)),
                        value: U256::from(i),
                        access_list: Default::default(),
                        input: Bytes::new(),
                    };
                    rollup_primitives::L2Transaction::Signed {
                        envelope: tx.into_signed(Signature::test_signature()).into(),
                        sender: Address::repeat_byte(0x5e),
                    }
                })
                .collect();
            blocks.insert(number, (header, body));
        }
        blocks
    }

    /// Blocks 1..=3 posted as one blob batch: its envelope and versioned hashes.
    fn posted(
        blocks: &std::collections::BTreeMap<
            u64,
            (
                rollup_primitives::Header,
                Vec<rollup_primitives::L2Transaction>,
            ),
        >,
    ) -> (Vec<u8>, Vec<B256>, Vec<Blob>) {
        let batch = rollup_primitives::Batch {
            first_block: 1,
            deposit_count: 3,
            headers: vec![Bytes::from_static(b"an L1 header")],
            blocks: (1..=3)
                .map(|n| {
                    let (header, body) = &blocks[&n];
                    rollup_primitives::BatchBlock {
                        timestamp: header.timestamp,
                        l1_origin: rollup_primitives::decode_l1_origin(&header.extra_data)
                            .unwrap()
                            .number,
                        transactions: body
                            .iter()
                            .filter_map(|tx| match tx {
                                rollup_primitives::L2Transaction::Signed { envelope, .. } => {
                                    Some(envelope.clone())
                                }
                                rollup_primitives::L2Transaction::Deposit(_) => None,
                            })
                            .collect(),
                    }
                })
                .collect(),
            last_block_open: false,
        };
        let parent = rollup_primitives::BatchParent {
            timestamp: 1_000,
            l1_origin: 7,
        };
        let (bytes, envelope_len) = batch.encode_unbounded(parent).unwrap();
        let blobs = rollup_primitives::to_blobs(&bytes[envelope_len..]);
        let hashes = blobs
            .iter()
            .map(|blob| versioned_hash(blob.as_slice()).unwrap())
            .collect();
        (bytes[..envelope_len].to_vec(), hashes, blobs)
    }

    #[test]
    fn own_blob_batches_are_rebuilt_from_the_stored_blocks() {
        // Some thousand transactions, over several segments.
        let blocks = stored_blocks(400);
        let (envelope, hashes, blobs) = posted(&blocks);
        assert!(!hashes.is_empty());
        let rebuilt = rebuild_blob_batch(&envelope, &hashes, |n| blocks.get(&n).cloned())
            .expect("the same blocks give the same blobs");
        assert_eq!(
            rebuilt,
            blobs
                .iter()
                .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
                .collect::<Vec<_>>()
        );
    }

    /// The parts of a block spanning three blob batches, as the batcher cuts it (at its own
    /// segments, each part a batch of its own, the last with the next block), rebuild too.
    #[test]
    fn the_parts_of_a_block_spanning_batches_are_rebuilt() {
        let blocks = stored_blocks(300);
        let signed = |n: u64| -> Vec<_> {
            blocks[&n]
                .1
                .iter()
                .filter_map(|tx| match tx {
                    rollup_primitives::L2Transaction::Signed { envelope, .. } => {
                        Some(envelope.clone())
                    }
                    rollup_primitives::L2Transaction::Deposit(_) => None,
                })
                .collect()
        };
        let entry = |n: u64, transactions| {
            let header = &blocks[&n].0;
            rollup_primitives::BatchBlock {
                timestamp: header.timestamp,
                l1_origin: rollup_primitives::decode_l1_origin(&header.extra_data)
                    .unwrap()
                    .number,
                transactions,
            }
        };
        let parent_header = &blocks[&1].0;
        let parent = rollup_primitives::BatchParent {
            timestamp: parent_header.timestamp,
            l1_origin: rollup_primitives::decode_l1_origin(&parent_header.extra_data)
                .unwrap()
                .number,
        };
        let two = signed(2);
        let counts = rollup_primitives::segment_tx_counts(&two).unwrap();
        assert_eq!(counts.len(), 3, "{counts:?}");
        let (a, b) = (counts[0], counts[0] + counts[1]);
        let parts = [
            (vec![entry(2, two[..a].to_vec())], true),
            (vec![entry(2, two[a..b].to_vec())], true),
            (
                vec![entry(2, two[b..].to_vec()), entry(3, signed(3))],
                false,
            ),
        ];
        for (part, open) in parts {
            let batch = rollup_primitives::Batch {
                first_block: 2,
                deposit_count: 0,
                headers: vec![],
                blocks: part,
                last_block_open: open,
            };
            let (bytes, envelope_len) = batch.encode_unbounded(parent).unwrap();
            let blobs: Vec<Bytes> = rollup_primitives::to_blobs(&bytes[envelope_len..])
                .iter()
                .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
                .collect();
            let hashes: Vec<B256> = blobs
                .iter()
                .map(|blob| versioned_hash(blob).unwrap())
                .collect();
            assert_eq!(
                rebuild_blob_batch(&bytes[..envelope_len], &hashes, |n| blocks.get(&n).cloned()),
                Some(blobs),
                "the part of {} transactions (open: {open})",
                batch.blocks[0].transactions.len()
            );
        }
    }

    #[test]
    fn other_blocks_or_a_missing_one_rebuild_nothing() {
        let blocks = stored_blocks(3);
        let (envelope, hashes, _) = posted(&blocks);
        // The unsafe chain since replaced: one transaction differs.
        let mut replaced = blocks.clone();
        replaced.get_mut(&2).unwrap().1.pop();
        assert_eq!(
            rebuild_blob_batch(&envelope, &hashes, |n| replaced.get(&n).cloned()),
            None
        );
        // A block the node does not hold.
        assert_eq!(
            rebuild_blob_batch(&envelope, &hashes, |n| (n != 3)
                .then(|| blocks.get(&n).cloned())
                .flatten()),
            None
        );
        // Not a v2 envelope, or other hashes.
        assert_eq!(
            rebuild_blob_batch(&envelope[..5], &hashes, |n| blocks.get(&n).cloned()),
            None
        );
        assert_eq!(
            rebuild_blob_batch(&envelope, &[B256::ZERO], |n| blocks.get(&n).cloned()),
            None
        );
    }

    #[test]
    fn known_blobs_keep_the_newest_and_forget_the_oldest() {
        let known = KnownBlobs::default();
        let hash = |i: usize| B256::from(alloy_primitives::U256::from(i));
        for i in 0..KnownBlobs::CAPACITY + 3 {
            known.insert(hash(i), Bytes::from(vec![i as u8]));
        }
        // Remembering a blob again does not count twice.
        known.insert(hash(KnownBlobs::CAPACITY + 2), Bytes::from(vec![0xff]));
        assert_eq!(known.len(), KnownBlobs::CAPACITY);
        for i in 0..3 {
            assert_eq!(known.get(&hash(i)), None, "blob {i} should be forgotten");
        }
        assert_eq!(known.get(&hash(3)), Some(Bytes::from(vec![3])));
        assert_eq!(
            known.get(&hash(KnownBlobs::CAPACITY + 2)),
            Some(Bytes::from(vec![0xff]))
        );
        // Clones share one store.
        let clone = known.clone();
        clone.insert(hash(10_000), Bytes::new());
        assert_eq!(known.get(&hash(10_000)), Some(Bytes::new()));
        assert_eq!(known.get(&hash(3)), None);
    }
}
