//! The `rollup_*` methods behind the status page: the heads and how far behind each is, block
//! statistics, recent batches, deposits and withdrawals, proposals, where one withdrawal stands,
//! and the health of the roles.
//!
//! Everything the node stores is read from MDBX on blocking threads (scans through the heavy
//! slots); what only L1 knows (proposals, proofs and payouts of withdrawals, the L1 gas of
//! batches, the L1 head) is read through the node's [`L1Reader`](crate::L1Reader), if it has one,
//! after the database part and holding no slot. Counts are capped and scans are bounded, so no
//! request costs more than a fixed amount whatever the chain's length.

use std::{
    collections::{BTreeSet, HashMap},
    future::Future,
    sync::Arc,
};

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use jsonrpsee::{RpcModule, types::ErrorObjectOwned};
use rollup_primitives::{
    DEPOSITOR, L2_BRIDGE, L2Transaction, RoleStatus, TxDeposit,
    bindings::{Game, IDisputeGame, IL1Bridge, IL2Bridge, IStateManager, Proposal},
    decode_l1_origin,
};
use rollup_storage::{BatchOutcome, StoreReader};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::debug;

use crate::{
    Result, RpcError,
    eth::{Args, EthApi},
    l1_reader::{CallError, L1_READS_AT_ONCE, L1HeadJson, L1Reader},
};

/// Most items one list method returns (`rollup_getRecentBatches`, `rollup_getDeposits`,
/// `rollup_getWithdrawals`, `rollup_getProposals`, `rollup_getDisputes`); larger counts are
/// clamped, except by the proposal and dispute pages, which refuse them.
pub const MAX_LIST_COUNT: u64 = 100;
/// Most blocks one `rollup_getBlockStats` returns.
pub const MAX_BLOCK_STATS: u64 = 1_024;
/// Most L1 blocks with batches or deposits one batch or deposit listing looks through.
pub const MAX_SCANNED_L1_BLOCKS: usize = 10_000;
/// How many L2 blocks back from the head `rollup_getWithdrawals` looks for withdrawals.
pub const WITHDRAWAL_SCAN_BLOCKS: u64 = 10_000;

const DEFAULT_LIST_COUNT: u64 = 20;
const DEFAULT_BLOCK_STATS: u64 = 300;

/// Registers a data method: parses its arguments, runs `handler` (which reads the database
/// through [`blocking`] and L1 through the reader) and maps its error.
fn data_method<R, F, Fut>(module: &mut RpcModule<EthApi>, name: &'static str, handler: F)
where
    R: Serialize + Clone + Send + 'static,
    F: Fn(Arc<EthApi>, Args) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    module
        .register_async_method(name, move |params, api, _| {
            let handler = handler.clone();
            async move {
                metrics::counter!("rollup_rpc_requests_total", "method" => name).increment(1);
                let result = match Args::parse(&params) {
                    Ok(args) => handler(api, args).await,
                    Err(err) => Err(err),
                };
                result.map_err(|err| {
                    debug!(target: "rollup::rpc", method = name, %err, "request failed");
                    ErrorObjectOwned::from(err)
                })
            }
        })
        .unwrap_or_else(|err| panic!("RPC method {name} registered twice: {err}"));
}

/// Runs `work` on a blocking thread; with `heavy`, first takes a heavy-request slot for it.
async fn blocking<T, W>(api: &Arc<EthApi>, heavy: Option<&'static str>, work: W) -> Result<T>
where
    T: Send + 'static,
    W: FnOnce(&EthApi) -> Result<T> + Send + 'static,
{
    let slot = match heavy {
        Some(name) => Some(api.heavy.acquire(name).await?),
        None => None,
    };
    let api = Arc::clone(api);
    tokio::task::spawn_blocking(move || {
        let result = work(&api);
        drop(slot);
        result
    })
    .await
    .map_err(|err| RpcError::Internal(format!("data handler failed: {err}")))?
}

/// Runs L1 reads at most [`L1_READS_AT_ONCE`] at a time, keeping their order.
async fn in_parallel<T, F: Future<Output = T>>(reads: impl Iterator<Item = F>) -> Vec<T> {
    use futures::StreamExt;
    // Collected first: a stream over the iterator's closure would not be `Send` for every
    // lifetime the handler needs.
    let reads: Vec<F> = reads.collect();
    futures::stream::iter(reads)
        .buffered(L1_READS_AT_ONCE)
        .collect()
        .await
}

/// A count argument: a JSON number, a decimal string or a hex quantity; absent means
/// `default`, more than `max` means `max`.
fn count_arg(args: &Args, index: usize, name: &str, default: u64, max: u64) -> Result<u64> {
    let count = match args.optional::<Value>(index, name)? {
        None => default,
        Some(value) => parse_number(&value).ok_or_else(|| {
            RpcError::InvalidParams(format!(
                "invalid argument {index} ({name}): expected a number, got {value}"
            ))
        })?,
    };
    Ok(count.min(max))
}

fn parse_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        },
        _ => None,
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Where an L2 block stands: `unsafe`, `safe` or `finalized`.
fn l2_status(api: &EthApi, number: u64) -> &'static str {
    let heads = *api.ctx.heads.borrow();
    if number <= heads.finalized_l2.number {
        "finalized"
    } else if number <= heads.safe_l2.number {
        "safe"
    } else {
        "unsafe"
    }
}

// --- heads ------------------------------------------------------------------------------------

/// How far one head is behind the one it is measured against.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LagJson {
    blocks: u64,
    seconds: u64,
}

/// An L1 block as an origin: number, hash and (if this node processed it) timestamp.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OriginJson {
    number: u64,
    hash: B256,
    timestamp: Option<u64>,
}

/// An L2 head with its timestamp, L1 origin and lag.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeadJson {
    number: u64,
    hash: B256,
    timestamp: u64,
    l1_origin: Option<OriginJson>,
    behind: LagJson,
}

/// The L1 cursor with its timestamp and lag behind L1's head.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CursorJson {
    number: u64,
    hash: B256,
    timestamp: Option<u64>,
    behind: Option<LagJson>,
}

/// `rollup_getHeads`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeadsJson {
    now: u64,
    unsafe_l2: HeadJson,
    safe_l2: HeadJson,
    finalized_l2: HeadJson,
    l1_cursor: CursorJson,
    l1_head: Option<L1HeadJson>,
    l1_finalized: rollup_primitives::BlockNumHash,
    l1_error: Option<String>,
}

fn origin_json(reader: &StoreReader, number: u64) -> Result<Option<OriginJson>> {
    let Some(header) = reader.header(number)? else {
        return Ok(None);
    };
    let Ok(origin) = decode_l1_origin(&header.extra_data) else {
        return Ok(None);
    };
    Ok(Some(OriginJson {
        number: origin.number,
        hash: origin.hash,
        timestamp: reader
            .l1_block(origin.number)?
            .map(|record| record.timestamp),
    }))
}

async fn heads(api: Arc<EthApi>) -> Result<HeadsJson> {
    let mut status = blocking(&api, None, |api| {
        let heads = *api.ctx.heads.borrow();
        let reader = api.reader()?;
        let timestamp = |number: u64| -> Result<u64> {
            Ok(reader.header(number)?.map_or(0, |header| header.timestamp))
        };
        let now = now_secs();
        let unsafe_time = timestamp(heads.unsafe_l2.number)?;
        let head = |head: rollup_primitives::BlockNumHash, behind: LagJson| -> Result<HeadJson> {
            Ok(HeadJson {
                number: head.number,
                hash: head.hash,
                timestamp: timestamp(head.number)?,
                l1_origin: origin_json(&reader, head.number)?,
                behind,
            })
        };
        let lag_to_unsafe = |number: u64| -> Result<LagJson> {
            Ok(LagJson {
                blocks: heads.unsafe_l2.number.saturating_sub(number),
                seconds: unsafe_time.saturating_sub(timestamp(number)?),
            })
        };
        Ok(HeadsJson {
            now,
            unsafe_l2: head(
                heads.unsafe_l2,
                LagJson {
                    blocks: 0,
                    seconds: now.saturating_sub(unsafe_time),
                },
            )?,
            safe_l2: head(heads.safe_l2, lag_to_unsafe(heads.safe_l2.number)?)?,
            finalized_l2: head(
                heads.finalized_l2,
                lag_to_unsafe(heads.finalized_l2.number)?,
            )?,
            l1_cursor: CursorJson {
                number: heads.l1_cursor.number,
                hash: heads.l1_cursor.hash,
                timestamp: reader
                    .l1_block(heads.l1_cursor.number)?
                    .map(|record| record.timestamp),
                behind: None,
            },
            l1_head: None,
            l1_finalized: heads.l1_finalized,
            l1_error: None,
        })
    })
    .await?;
    match &api.ctx.l1 {
        None => status.l1_error = Some(RpcError::NoL1("the L1 head").to_string()),
        Some(l1) => match l1.head(status.l1_cursor.number).await {
            Ok(head) => {
                status.l1_cursor.behind = Some(LagJson {
                    blocks: head.number.saturating_sub(status.l1_cursor.number),
                    seconds: status
                        .l1_cursor
                        .timestamp
                        .map_or(0, |time| head.timestamp.saturating_sub(time)),
                });
                status.l1_head = Some(head);
            }
            Err(err) => status.l1_error = Some(err.to_string()),
        },
    }
    Ok(status)
}

// --- block statistics ---------------------------------------------------------------------------

/// One L2 block's figures, for charts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockStatJson {
    number: u64,
    timestamp: u64,
    tx_count: u64,
    deposit_count: u64,
    gas_used: u64,
    gas_limit: u64,
    base_fee: Option<u64>,
}

fn block_stats(api: &EthApi, count: u64) -> Result<Vec<BlockStatJson>> {
    let reader = api.reader()?;
    let head = reader.l2_head()?.unwrap_or_default();
    let first = (head + 1).saturating_sub(count);
    let mut stats = Vec::with_capacity(count as usize);
    for number in first..=head {
        let (Some(header), Some(body)) = (reader.header(number)?, reader.body(number)?) else {
            continue;
        };
        let deposits = body.iter().filter(|tx| tx.is_deposit()).count() as u64;
        stats.push(BlockStatJson {
            number,
            timestamp: header.timestamp,
            tx_count: body.len() as u64,
            deposit_count: deposits,
            gas_used: header.gas_used,
            gas_limit: header.gas_limit,
            base_fee: header.base_fee_per_gas,
        });
    }
    Ok(stats)
}

// --- batches ------------------------------------------------------------------------------------

/// A batch posted to L1 and what derivation made of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchJson {
    l1_block: u64,
    l1_block_hash: Option<B256>,
    l1_timestamp: Option<u64>,
    l1_tx_hash: B256,
    l1_tx_index: u32,
    bytes: u32,
    status: &'static str,
    reason: Option<String>,
    first_l2_block: Option<u64>,
    last_l2_block: Option<u64>,
    l2_blocks: u32,
    tx_count: u32,
    bytes_per_tx: Option<u64>,
    l1_gas_used: Option<u64>,
}

/// Visits the derivation records of the newest L1 blocks first, at most
/// [`MAX_SCANNED_L1_BLOCKS`] of them, until `visit` returns `false`.
fn newest_derivations_first(
    reader: &StoreReader,
    mut visit: impl FnMut(u64, rollup_storage::L1BlockDerivation) -> Result<bool>,
) -> Result<()> {
    let mut below = None;
    let mut scanned = 0;
    while scanned < MAX_SCANNED_L1_BLOCKS {
        let page = reader.l1_derivations(below, 256.min(MAX_SCANNED_L1_BLOCKS - scanned))?;
        let Some((oldest, _)) = page.last() else {
            break;
        };
        below = Some(*oldest);
        scanned += page.len();
        for (number, derivation) in page {
            if !visit(number, derivation)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn recent_batches(api: &EthApi, count: u64) -> Result<Vec<BatchJson>> {
    let reader = api.reader()?;
    let mut batches = Vec::new();
    newest_derivations_first(&reader, |number, derivation| {
        if derivation.batches.is_empty() {
            return Ok(true);
        }
        let l1_block = reader.l1_block(number)?;
        for batch in derivation.batches.into_iter().rev() {
            if batches.len() as u64 >= count {
                return Ok(false);
            }
            let (status, reason) = match batch.outcome {
                BatchOutcome::Derived => ("derived", None),
                BatchOutcome::Ignored => ("ignored", None),
                BatchOutcome::Dropped(reason) => ("dropped", Some(reason)),
            };
            let derived = batch.l2_blocks > 0;
            batches.push(BatchJson {
                l1_block: number,
                l1_block_hash: l1_block.as_ref().map(|record| record.block.hash),
                l1_timestamp: l1_block.as_ref().map(|record| record.timestamp),
                l1_tx_hash: batch.tx_hash,
                l1_tx_index: batch.tx_index,
                bytes: batch.bytes,
                status,
                reason,
                first_l2_block: derived.then_some(batch.first_l2_block),
                last_l2_block: derived
                    .then(|| batch.first_l2_block + u64::from(batch.l2_blocks) - 1),
                l2_blocks: batch.l2_blocks,
                tx_count: batch.transactions,
                bytes_per_tx: (batch.transactions > 0)
                    .then(|| u64::from(batch.bytes) / u64::from(batch.transactions)),
                l1_gas_used: None,
            });
        }
        Ok(true)
    })?;
    Ok(batches)
}

// --- deposits -----------------------------------------------------------------------------------

/// A deposit or forced withdrawal, from its L1 log to its L2 transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DepositJson {
    nonce: Option<u64>,
    kind: &'static str,
    l1_block: u64,
    l1_timestamp: u64,
    l1_tx_hash: Option<B256>,
    log_index: Option<u64>,
    l2_tx_hash: B256,
    from: Address,
    to: Address,
    l1_token: Address,
    amount: U256,
    status: &'static str,
    l2_block: Option<u64>,
    success: Option<bool>,
}

/// What a deposit transaction moves: `(kind, from, to, l1Token, amount)`.
fn describe_deposit(deposit: &TxDeposit) -> (&'static str, Address, Address, Address, U256) {
    if deposit.to == L2_BRIDGE {
        if deposit.from == DEPOSITOR
            && let Ok(call) = IL2Bridge::finalizeDepositCall::abi_decode(&deposit.input)
        {
            return ("erc20", call.from, call.to, call.l1Token, call.amount);
        }
        if let Ok(call) = IL2Bridge::withdrawToCall::abi_decode(&deposit.input) {
            return (
                "forcedWithdrawal",
                deposit.from,
                call.to,
                call.l1Token,
                call.amount,
            );
        }
    }
    (
        "eth",
        deposit.from,
        deposit.to,
        Address::ZERO,
        deposit.value,
    )
}

fn recent_deposits(api: &EthApi, count: u64) -> Result<Vec<DepositJson>> {
    let reader = api.reader()?;
    let mut deposits = Vec::new();
    newest_derivations_first(&reader, |number, derivation| {
        if derivation.deposits.is_empty() {
            return Ok(true);
        }
        let Some(record) = reader.l1_block(number)? else {
            return Ok(true);
        };
        for (deposit, origin) in record.deposits.iter().zip(&derivation.deposits).rev() {
            if deposits.len() as u64 >= count {
                return Ok(false);
            }
            let known = !origin.tx_hash.is_zero();
            let (kind, from, to, l1_token, amount) = describe_deposit(deposit);
            let hash = deposit.hash();
            let included = reader.transaction(hash)?;
            deposits.push(DepositJson {
                nonce: known.then_some(origin.nonce),
                kind,
                l1_block: number,
                l1_timestamp: record.timestamp,
                l1_tx_hash: known.then_some(origin.tx_hash),
                log_index: known.then_some(origin.log_index),
                l2_tx_hash: hash,
                from,
                to,
                l1_token,
                amount,
                status: included
                    .as_ref()
                    .map_or("pending", |tx| l2_status(api, tx.block_number)),
                l2_block: included.as_ref().map(|tx| tx.block_number),
                success: included.as_ref().map(|tx| tx.receipt.success),
            });
        }
        Ok(true)
    })?;
    Ok(deposits)
}

// --- withdrawals --------------------------------------------------------------------------------

/// A withdrawal started on L2, and where it stands on L1.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithdrawalEventJson {
    l2_tx_hash: B256,
    l2_block: u64,
    l2_timestamp: u64,
    l1_origin: u64,
    withdrawal_hash: B256,
    nonce: U256,
    from: Address,
    to: Address,
    l1_token: Address,
    l2_token: Address,
    amount: U256,
    kind: &'static str,
    l2_status: &'static str,
    stage: Option<&'static str>,
    proposal_index: Option<u64>,
    final_at: Option<u64>,
    provers: Vec<Address>,
    l1_error: Option<String>,
}

/// The withdrawals `L2Bridge` recorded in block `number`, in log order.
fn block_withdrawals(
    api: &EthApi,
    reader: &StoreReader,
    number: u64,
    header: &alloy_consensus::Header,
) -> Result<Vec<WithdrawalEventJson>> {
    let (Some(body), Some(receipts)) = (reader.body(number)?, reader.receipts(number)?) else {
        return Ok(Vec::new());
    };
    let l1_origin = decode_l1_origin(&header.extra_data).map_or(0, |origin| origin.number);
    let mut found = Vec::new();
    for (tx, receipt) in body.iter().zip(&receipts) {
        for log in receipt.logs.iter().filter(|log| log.address == L2_BRIDGE) {
            let Ok(event) = IL2Bridge::WithdrawalInitiated::decode_log_data(&log.data) else {
                continue;
            };
            let kind = match tx {
                L2Transaction::Deposit(deposit) if deposit.from == DEPOSITOR => "refund",
                L2Transaction::Deposit(_) => "forced",
                L2Transaction::Signed { .. } => "withdrawal",
            };
            found.push(WithdrawalEventJson {
                l2_tx_hash: tx.hash(),
                l2_block: number,
                l2_timestamp: header.timestamp,
                l1_origin,
                withdrawal_hash: event.withdrawalHash,
                nonce: event.nonce,
                from: event.from,
                to: event.to,
                l1_token: event.l1Token,
                l2_token: event.l2Token,
                amount: event.amount,
                kind,
                l2_status: l2_status(api, number),
                stage: None,
                proposal_index: None,
                final_at: None,
                provers: Vec::new(),
                l1_error: None,
            });
        }
    }
    Ok(found)
}

fn recent_withdrawals(api: &EthApi, count: u64) -> Result<Vec<WithdrawalEventJson>> {
    use alloy_primitives::BloomInput;
    let reader = api.reader()?;
    let head = reader.l2_head()?.unwrap_or_default();
    let oldest = head.saturating_sub(WITHDRAWAL_SCAN_BLOCKS - 1);
    let topic = IL2Bridge::WithdrawalInitiated::SIGNATURE_HASH;
    let mut withdrawals = Vec::new();
    for number in (oldest..=head).rev() {
        let Some(header) = reader.header(number)? else {
            continue;
        };
        if !header
            .logs_bloom
            .contains_input(BloomInput::Raw(L2_BRIDGE.as_slice()))
            || !header
                .logs_bloom
                .contains_input(BloomInput::Raw(topic.as_slice()))
        {
            continue;
        }
        let mut found = block_withdrawals(api, &reader, number, &header)?;
        found.reverse();
        for withdrawal in found {
            if withdrawals.len() as u64 >= count {
                return Ok(withdrawals);
            }
            withdrawals.push(withdrawal);
        }
    }
    Ok(withdrawals)
}

/// What L1 says about a set of withdrawals.
struct L1Withdrawals {
    /// The newest live proposal.
    latest: Option<(u64, Proposal)>,
    challenge_period: u64,
    l1_time: u64,
}

/// Fills in where each withdrawal stands on L1: `finalized` (paid out), `proven` (against a
/// proposal that is not removed), `proposed` (the newest live proposal covers its L2 block) or
/// `initiated`. Returns the L1 facts it used.
async fn l1_stages(
    api: &EthApi,
    l1: &L1Reader,
    withdrawals: &mut [WithdrawalEventJson],
) -> Result<L1Withdrawals> {
    let state_manager = api.ctx.config.contracts.state_manager;
    let l1_bridge = api.ctx.config.contracts.l1_bridge;
    let count = l1
        .call(state_manager, IStateManager::proposalCountCall {})
        .await?;
    let latest = if count.is_zero() {
        None
    } else {
        match l1
            .call(state_manager, IStateManager::latestProposalCall {})
            .await
        {
            Ok(latest) => Some((
                u64::try_from(latest.index).unwrap_or(u64::MAX),
                latest.proposal,
            )),
            // Every proposal was removed: none is live.
            Err(CallError::Reverted(_)) => None,
            Err(err) => return Err(err.into()),
        }
    };
    let challenge_period = l1.challenge_period(state_manager).await?;
    let l1_time = l1.head(0).await?.timestamp;
    let facts = L1Withdrawals {
        latest,
        challenge_period,
        l1_time,
    };
    if withdrawals.is_empty() {
        return Ok(facts);
    }
    let ids: Vec<B256> = withdrawals.iter().map(|w| w.withdrawal_hash).collect();
    let from_block = withdrawals.iter().map(|w| w.l1_origin).min().unwrap_or(0);
    let logs = l1
        .logs(json!({
            "address": l1_bridge,
            "fromBlock": format!("{from_block:#x}"),
            "toBlock": "latest",
            "topics": [
                [
                    IL1Bridge::WithdrawalProven::SIGNATURE_HASH,
                    IL1Bridge::WithdrawalFinalized::SIGNATURE_HASH
                ],
                ids,
            ],
        }))
        .await?;
    let mut finalized = BTreeSet::new();
    let mut proofs: HashMap<B256, Vec<(Address, u64)>> = HashMap::new();
    for log in &logs {
        if let Ok(event) = IL1Bridge::WithdrawalFinalized::decode_log_data(&log.inner.data) {
            finalized.insert(event.withdrawalId);
        } else if let Ok(event) = IL1Bridge::WithdrawalProven::decode_log_data(&log.inner.data) {
            let index = u64::try_from(event.proposalIndex).unwrap_or(u64::MAX);
            proofs
                .entry(event.withdrawalId)
                .or_default()
                .push((event.prover, index));
        }
    }
    let indexes: BTreeSet<u64> = proofs.values().flatten().map(|(_, index)| *index).collect();
    let reads = indexes.iter().map(|index| async move {
        let proposal = l1
            .call(
                state_manager,
                IStateManager::proposalsCall {
                    index: U256::from(*index),
                },
            )
            .await;
        (*index, proposal)
    });
    let mut proposals = HashMap::new();
    for (index, proposal) in in_parallel(reads).await {
        proposals.insert(index, proposal.map_err(RpcError::from)?);
    }
    for withdrawal in withdrawals.iter_mut() {
        let final_at =
            |proposal: &Proposal| proposal.timestamp.saturating_add(facts.challenge_period);
        let mut live_proofs: Vec<(Address, u64, u64)> = proofs
            .get(&withdrawal.withdrawal_hash)
            .into_iter()
            .flatten()
            .filter_map(|(prover, index)| {
                let proposal = proposals.get(index)?;
                (!proposal.removed).then(|| (*prover, *index, final_at(proposal)))
            })
            .collect();
        live_proofs.sort_by_key(|(_, _, at)| *at);
        live_proofs.dedup_by_key(|(prover, _, _)| *prover);
        withdrawal.provers = live_proofs.iter().map(|(prover, ..)| *prover).collect();
        if let Some((_, index, at)) = live_proofs.first() {
            withdrawal.proposal_index = Some(*index);
            withdrawal.final_at = Some(*at);
        }
        withdrawal.stage = Some(if finalized.contains(&withdrawal.withdrawal_hash) {
            "finalized"
        } else if !live_proofs.is_empty() {
            "proven"
        } else if let Some((index, latest)) = &facts.latest
            && latest.l2BlockNumber >= withdrawal.l2_block
        {
            withdrawal.proposal_index = Some(*index);
            withdrawal.final_at = Some(final_at(latest));
            "proposed"
        } else {
            "initiated"
        });
    }
    Ok(facts)
}

/// Fills in the L1 stages of `withdrawals` when the node can read L1; otherwise (or when L1
/// fails) says why on each, leaving what the node knows.
async fn with_l1_stages(
    api: &EthApi,
    withdrawals: &mut [WithdrawalEventJson],
) -> Option<L1Withdrawals> {
    let outcome = match &api.ctx.l1 {
        None => Err(RpcError::NoL1("where a withdrawal stands")),
        Some(l1) => l1_stages(api, l1, withdrawals).await,
    };
    match outcome {
        Ok(facts) => Some(facts),
        Err(err) => {
            let message = err.to_string();
            for withdrawal in withdrawals.iter_mut() {
                withdrawal.l1_error = Some(message.clone());
            }
            None
        }
    }
}

/// One step of a withdrawal's path to L1.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PathStepJson {
    step: &'static str,
    done: Option<bool>,
    at: Option<u64>,
    detail: String,
}

/// `rollup_getWithdrawalStatus`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithdrawalStatusJson {
    withdrawal: WithdrawalEventJson,
    path: Vec<PathStepJson>,
}

fn withdrawal_path(
    withdrawal: &WithdrawalEventJson,
    facts: Option<&L1Withdrawals>,
) -> Vec<PathStepJson> {
    let step = |step, done, at, detail: String| PathStepJson {
        step,
        done,
        at,
        detail,
    };
    let safe = withdrawal.l2_status != "unsafe";
    let mut path = vec![
        step(
            "initiated on L2",
            Some(true),
            Some(withdrawal.l2_timestamp),
            format!(
                "L2 block {}, transaction {}",
                withdrawal.l2_block, withdrawal.l2_tx_hash
            ),
        ),
        step(
            "posted to L1",
            Some(safe),
            None,
            if safe {
                format!(
                    "L2 block {} is derived from L1 data ({})",
                    withdrawal.l2_block, withdrawal.l2_status
                )
            } else {
                format!(
                    "waiting for the batcher to post L2 block {}",
                    withdrawal.l2_block
                )
            },
        ),
    ];
    let Some(facts) = facts else {
        let unknown = withdrawal
            .l1_error
            .clone()
            .unwrap_or_else(|| "unknown".into());
        for name in [
            "covered by a proposal",
            "proven on L1",
            "challenge period over",
            "finalized on L1",
        ] {
            path.push(step(name, None, None, unknown.clone()));
        }
        return path;
    };
    let stage = withdrawal.stage.unwrap_or("initiated");
    let rank = |stage: &str| match stage {
        "finalized" => 3,
        "proven" => 2,
        "proposed" => 1,
        _ => 0,
    };
    let covered = rank(stage) >= 1;
    path.push(step(
        "covered by a proposal",
        Some(covered),
        None,
        match (&facts.latest, withdrawal.proposal_index) {
            (_, Some(index)) if covered => format!("proposal #{index}"),
            (Some((index, latest)), _) => format!(
                "waiting for a proposal at or after L2 block {} (latest: #{index} at L2 block {})",
                withdrawal.l2_block, latest.l2BlockNumber
            ),
            (None, _) => format!(
                "waiting for a proposal at or after L2 block {} (none live yet)",
                withdrawal.l2_block
            ),
        },
    ));
    let proven = rank(stage) >= 2;
    path.push(step(
        "proven on L1",
        Some(proven),
        None,
        if withdrawal.provers.is_empty() {
            if stage == "finalized" {
                "proven (the proof was used)".into()
            } else {
                "not proven yet: anyone can prove it (`rollup-node prove <l2 tx>`)".into()
            }
        } else {
            format!(
                "by {} against proposal #{}",
                withdrawal
                    .provers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                withdrawal.proposal_index.unwrap_or_default()
            )
        },
    ));
    let final_at = withdrawal.final_at;
    let is_final = stage == "finalized" || final_at.is_some_and(|at| at <= facts.l1_time);
    path.push(step(
        "challenge period over",
        Some(is_final),
        final_at,
        match final_at {
            Some(at) if at <= facts.l1_time => format!(
                "final for {} s of L1 time (challenge period {} s)",
                facts.l1_time - at,
                facts.challenge_period
            ),
            Some(at) => format!(
                "final in {} s of L1 time (challenge period {} s)",
                at - facts.l1_time,
                facts.challenge_period
            ),
            None if stage == "finalized" => "final".into(),
            None => format!(
                "starts with the proposal (challenge period {} s)",
                facts.challenge_period
            ),
        },
    ));
    path.push(step(
        "finalized on L1",
        Some(stage == "finalized"),
        None,
        if stage == "finalized" {
            format!("paid out to {} on L1", withdrawal.to)
        } else if is_final && proven {
            "ready: `rollup-node finalize <l2 tx>` pays it out".into()
        } else {
            "not yet".into()
        },
    ));
    path
}

// --- proposals ----------------------------------------------------------------------------------

/// Most L1 blocks one log query for a game's creation spans (its proposal's L1 block up to the
/// end of the challenge period: every L1 block takes at least a second).
const MAX_GAME_LOG_BLOCKS: u64 = 1_000_000;

/// An output root proposal on L1 and whether this node agrees with it. `state_root` is the
/// `StateManager`'s field of that name, which carries the proposal's output root.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProposalJson {
    index: u64,
    proposer: Address,
    state_root: B256,
    local_output_root: Option<B256>,
    batch_root: B256,
    l2_block: u64,
    l2_block_number: u64,
    l2_block_hash: B256,
    l1_block: u64,
    l1_tx_hash: Option<B256>,
    timestamp: u64,
    bond: U256,
    bond_returned: bool,
    status: &'static str,
    anchor: Option<u64>,
    anchor_index: Option<u64>,
    open_games: Option<u64>,
    allowlisted: Option<bool>,
    final_at: u64,
    seconds_to_finality: u64,
    matches_local: Option<bool>,
}

/// `rollup_getProposals`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProposalsJson {
    count: u64,
    challenge_period: u64,
    l1_time: u64,
    proposals: Vec<ProposalJson>,
}

/// Where a proposal stands: `removed` (a game or the guardian removed it), `challenged` (a game
/// on it is open: it is not final until every game closed in its favour), `final`, or
/// `pending` (its challenge period runs).
fn proposal_status(removed: bool, open_games: u64, l1_time: u64, final_at: u64) -> &'static str {
    if removed {
        "removed"
    } else if open_games > 0 {
        "challenged"
    } else if l1_time >= final_at {
        "final"
    } else {
        "pending"
    }
}

/// A `fromIndex` argument: absent or `null` means the newest `count`.
fn from_arg(args: &Args) -> Result<Option<u64>> {
    match args.optional::<Value>(0, "fromIndex")? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Ok(Some(parse_number(&value).ok_or_else(|| {
            RpcError::InvalidParams(format!(
                "invalid argument 0 (fromIndex): expected a number, got {value}"
            ))
        })?)),
    }
}

/// A page's `count` argument: default [`DEFAULT_LIST_COUNT`], more than [`MAX_LIST_COUNT`]
/// refused (-32602) rather than clamped, so a caller paging through learns the limit.
fn page_count_arg(args: &Args) -> Result<u64> {
    let count = count_arg(args, 1, "count", DEFAULT_LIST_COUNT, u64::MAX)?;
    if count > MAX_LIST_COUNT {
        return Err(RpcError::InvalidParams(format!(
            "count {count} is above the limit of {MAX_LIST_COUNT}: page with fromIndex"
        )));
    }
    Ok(count)
}

/// The indices of a page: from `from` (default: the newest `count`), `count` of them, below
/// `total`.
fn page(from: Option<u64>, count: u64, total: u64) -> std::ops::Range<u64> {
    let first = from.unwrap_or_else(|| total.saturating_sub(count));
    first..first.saturating_add(count).min(total)
}

/// The hash of the L1 transaction that emitted the first log `filter` matches, if any.
async fn first_log_tx(l1: &L1Reader, filter: Value) -> Option<B256> {
    l1.logs(filter)
        .await
        .ok()?
        .into_iter()
        .find(|log| !log.removed)
        .and_then(|log| log.transaction_hash)
}

fn index_topic(index: u64) -> B256 {
    B256::from(U256::from(index))
}

async fn proposals(api: Arc<EthApi>, from: Option<u64>, count: u64) -> Result<ProposalsJson> {
    let l1 = api
        .ctx
        .l1
        .clone()
        .ok_or(RpcError::NoL1("the StateManager's proposals"))?;
    let state_manager = api.ctx.config.contracts.state_manager;
    let total = l1
        .call(state_manager, IStateManager::proposalCountCall {})
        .await?;
    let total = u64::try_from(total).unwrap_or(u64::MAX);
    let challenge_period = l1.challenge_period(state_manager).await?;
    let l1_time = l1.head(0).await?.timestamp;
    let reads = page(from, count, total).map(|index| {
        let l1 = &l1;
        async move {
            let proposal = l1
                .call(
                    state_manager,
                    IStateManager::proposalsCall {
                        index: U256::from(index),
                    },
                )
                .await?;
            // A StateManager from before the fraud proof has no dispute data: left out.
            let dispute = l1
                .call(
                    state_manager,
                    IStateManager::disputeOfCall {
                        index: U256::from(index),
                    },
                )
                .await
                .ok();
            // The proposal's own L1 block holds its StateRootSubmitted log: one block's query.
            let block = format!("{:#x}", proposal.l1Block);
            let tx = first_log_tx(
                l1,
                json!({
                    "address": state_manager,
                    "fromBlock": block,
                    "toBlock": block,
                    "topics": [
                        IStateManager::StateRootSubmitted::SIGNATURE_HASH,
                        index_topic(index),
                    ],
                }),
            )
            .await;
            Ok::<_, CallError>((index, proposal, dispute, tx))
        }
    });
    let mut fetched = Vec::new();
    for read in in_parallel(reads).await {
        fetched.push(read.map_err(RpcError::from)?);
    }
    let proposals = blocking(&api, None, move |api| {
        let reader = api.reader()?;
        fetched
            .into_iter()
            .map(|(index, proposal, dispute, l1_tx_hash)| {
                let final_at = proposal.timestamp.saturating_add(challenge_period);
                let number = proposal.l2BlockNumber;
                // The proposal's root is the block's output root: state root, block hash and
                // derivation cursor, all of which this node must agree with.
                let local = crate::rollup::local_output_root(&reader, number)?;
                let local_output_root = local.map(|output| output.hash());
                let matches_local = local.map(|output| {
                    output.hash() == proposal.stateRoot
                        && output.l2_block_hash == proposal.l2BlockHash
                });
                // A removed proposal's games no longer count in the `StateManager`, which
                // leaves its counter where the removal found it.
                let open_games = dispute
                    .as_ref()
                    .map(|d| if proposal.removed { 0 } else { d.openGames });
                Ok(ProposalJson {
                    index,
                    proposer: proposal.proposer,
                    state_root: proposal.stateRoot,
                    local_output_root,
                    batch_root: proposal.batchRoot,
                    l2_block: number,
                    l2_block_number: number,
                    l2_block_hash: proposal.l2BlockHash,
                    l1_block: proposal.l1Block,
                    l1_tx_hash,
                    timestamp: proposal.timestamp,
                    bond: proposal.bond,
                    bond_returned: proposal.bondReturned,
                    status: proposal_status(
                        proposal.removed,
                        open_games.unwrap_or(0),
                        l1_time,
                        final_at,
                    ),
                    anchor: dispute.as_ref().map(|d| d.anchor),
                    anchor_index: dispute.as_ref().and_then(|d| d.anchor.checked_sub(1)),
                    open_games,
                    allowlisted: dispute.as_ref().map(|d| d.allowlisted),
                    final_at,
                    seconds_to_finality: final_at.saturating_sub(l1_time),
                    matches_local,
                })
            })
            .collect::<Result<Vec<_>>>()
    })
    .await?;
    Ok(ProposalsJson {
        count: total,
        challenge_period,
        l1_time,
        proposals,
    })
}

// --- disputes -----------------------------------------------------------------------------------

/// A dispute game on L1 (`DisputeGame.games(id)`), with its clocks as of L1's latest block.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DisputeJson {
    id: u64,
    proposal: u64,
    challenger: Address,
    proposer: Address,
    level: u8,
    lo: u64,
    hi: u64,
    l2_block: Option<u64>,
    status: &'static str,
    turn: Option<&'static str>,
    bond: U256,
    lo_claim: B256,
    hi_claim: B256,
    mid_claim: Option<B256>,
    proposer_clock_used: u64,
    challenger_clock_used: u64,
    last_move: u64,
    deadline: Option<u64>,
    l1_tx_hash: Option<B256>,
}

/// `rollup_getDisputes`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DisputesJson {
    dispute_game: Address,
    count: u64,
    challenger_bond: U256,
    max_clock_duration: u64,
    clock_extension: u64,
    l1_time: u64,
    games: Vec<DisputeJson>,
}

/// A game's status as the JSON names it.
fn game_status(status: u8) -> &'static str {
    match status {
        1 => "in_progress",
        2 => "proposer_won",
        3 => "challenger_won",
        _ => "unknown",
    }
}

/// The clock seconds each side used by `now`: the stored ones, plus the time since the last
/// move for the side to move (capped at the clock), while the game is in progress.
fn clocks_used(game: &Game, max_clock: u64, now: u64) -> (u64, u64) {
    let (mut proposer, mut challenger) = (game.proposerUsed, game.challengerUsed);
    if game.status == 1 {
        let running = now.saturating_sub(game.lastMove);
        if game.proposerToMove {
            proposer = proposer.saturating_add(running).min(max_clock);
        } else {
            challenger = challenger.saturating_add(running).min(max_clock);
        }
    }
    (proposer, challenger)
}

async fn disputes(api: Arc<EthApi>, from: Option<u64>, count: u64) -> Result<DisputesJson> {
    let l1 = api
        .ctx
        .l1
        .clone()
        .ok_or(RpcError::NoL1("the dispute games"))?;
    let state_manager = api.ctx.config.contracts.state_manager;
    let game_contract = l1.dispute_game(state_manager).await.map_err(|err| {
        RpcError::L1(format!(
            "cannot read the StateManager's dispute game (a StateManager from before the fraud proof?): {err}"
        ))
    })?;
    if game_contract.is_zero() {
        return Err(RpcError::L1(
            "the StateManager has no dispute game set".into(),
        ));
    }
    let total = l1
        .call(game_contract, IDisputeGame::gameCountCall {})
        .await?;
    let total = u64::try_from(total).unwrap_or(u64::MAX);
    let challenger_bond = l1
        .call(game_contract, IDisputeGame::challengerBondCall {})
        .await?;
    let max_clock = l1
        .call(game_contract, IDisputeGame::maxClockDurationCall {})
        .await?;
    let extension = l1
        .call(game_contract, IDisputeGame::clockExtensionCall {})
        .await?;
    let challenge_period = l1.challenge_period(state_manager).await?;
    let head = l1.head(0).await?;
    let reads = page(from, count, total).map(|id| {
        let l1 = &l1;
        async move {
            let game = l1
                .call(
                    game_contract,
                    IDisputeGame::gamesCall { id: U256::from(id) },
                )
                .await?;
            let proposal = l1
                .call(
                    state_manager,
                    IStateManager::proposalsCall {
                        index: U256::from(game.proposal),
                    },
                )
                .await?;
            let deadline = l1
                .call(
                    game_contract,
                    IDisputeGame::deadlineCall { id: U256::from(id) },
                )
                .await?;
            // The game opened within its proposal's challenge period: at most that many L1
            // blocks after the proposal's.
            let to = head.number.min(
                proposal
                    .l1Block
                    .saturating_add(challenge_period.min(MAX_GAME_LOG_BLOCKS)),
            );
            let tx = first_log_tx(
                l1,
                json!({
                    "address": game_contract,
                    "fromBlock": format!("{:#x}", proposal.l1Block),
                    "toBlock": format!("{to:#x}"),
                    "topics": [IDisputeGame::GameCreated::SIGNATURE_HASH, index_topic(id)],
                }),
            )
            .await;
            Ok::<_, CallError>((id, game, proposal.proposer, deadline, tx))
        }
    });
    let mut games = Vec::new();
    for read in in_parallel(reads).await {
        let (id, game, proposer, deadline, l1_tx_hash) = read.map_err(RpcError::from)?;
        let in_progress = game.status == 1;
        let (proposer_clock_used, challenger_clock_used) =
            clocks_used(&game, max_clock, head.timestamp);
        games.push(DisputeJson {
            id,
            proposal: game.proposal,
            challenger: game.challenger,
            proposer,
            level: game.level,
            lo: game.lo,
            hi: game.hi,
            l2_block: (game.level == 1).then_some(game.l2Block),
            status: game_status(game.status),
            turn: in_progress.then_some(if game.proposerToMove {
                "proposer"
            } else {
                "challenger"
            }),
            bond: game.bond,
            lo_claim: game.loClaim,
            hi_claim: game.hiClaim,
            mid_claim: (!game.midClaim.is_zero()).then_some(game.midClaim),
            proposer_clock_used,
            challenger_clock_used,
            last_move: game.lastMove,
            deadline: in_progress.then(|| u64::try_from(deadline).unwrap_or(u64::MAX)),
            l1_tx_hash,
        });
    }
    Ok(DisputesJson {
        dispute_game: game_contract,
        count: total,
        challenger_bond,
        max_clock_duration: max_clock,
        clock_extension: extension,
        l1_time: head.timestamp,
        games,
    })
}

// --- roles --------------------------------------------------------------------------------------

/// `rollup_getRoles`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RolesJson {
    l1_link: bool,
    sequencer: bool,
    roles: Vec<RoleStatus>,
}

/// Registers the status page's data methods.
pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    data_method(module, "rollup_getHeads", |api, _| heads(api));

    data_method(module, "rollup_getBlockStats", |api, args| async move {
        let count = count_arg(&args, 0, "count", DEFAULT_BLOCK_STATS, MAX_BLOCK_STATS)?;
        blocking(&api, Some("rollup_getBlockStats"), move |api| {
            block_stats(api, count)
        })
        .await
    });

    data_method(module, "rollup_getRecentBatches", |api, args| async move {
        let count = count_arg(&args, 0, "count", DEFAULT_LIST_COUNT, MAX_LIST_COUNT)?;
        let mut batches = blocking(&api, Some("rollup_getRecentBatches"), move |api| {
            recent_batches(api, count)
        })
        .await?;
        if let Some(l1) = &api.ctx.l1 {
            let hashes: Vec<B256> = batches.iter().map(|batch| batch.l1_tx_hash).collect();
            let gas = l1.gas_used(&hashes).await;
            for batch in &mut batches {
                batch.l1_gas_used = gas.get(&batch.l1_tx_hash).copied();
            }
        }
        Ok(batches)
    });

    data_method(module, "rollup_getDeposits", |api, args| async move {
        let count = count_arg(&args, 0, "count", DEFAULT_LIST_COUNT, MAX_LIST_COUNT)?;
        blocking(&api, Some("rollup_getDeposits"), move |api| {
            recent_deposits(api, count)
        })
        .await
    });

    data_method(module, "rollup_getWithdrawals", |api, args| async move {
        let count = count_arg(&args, 0, "count", DEFAULT_LIST_COUNT, MAX_LIST_COUNT)?;
        let mut withdrawals = blocking(&api, Some("rollup_getWithdrawals"), move |api| {
            recent_withdrawals(api, count)
        })
        .await?;
        with_l1_stages(&api, &mut withdrawals).await;
        Ok(withdrawals)
    });

    data_method(
        module,
        "rollup_getWithdrawalStatus",
        |api, args| async move {
            let tx_hash: B256 = args.required(0, "L2 transaction hash")?;
            let mut found = blocking(&api, None, move |api| {
                let reader = api.reader()?;
                let stored = reader.transaction(tx_hash)?.ok_or_else(|| {
                    RpcError::InvalidParams(format!("transaction {tx_hash} is not in the L2 chain"))
                })?;
                let header = reader.header(stored.block_number)?.ok_or_else(|| {
                    RpcError::UnknownBlock(format!("block {}", stored.block_number))
                })?;
                Ok(
                    block_withdrawals(api, &reader, stored.block_number, &header)?
                        .into_iter()
                        .filter(|withdrawal| withdrawal.l2_tx_hash == tx_hash)
                        .collect::<Vec<_>>(),
                )
            })
            .await?;
            if found.is_empty() {
                return Err(RpcError::InvalidParams(format!(
                    "transaction {tx_hash} initiated no withdrawal"
                )));
            }
            let facts = with_l1_stages(&api, &mut found).await;
            let withdrawal = found.swap_remove(0);
            Ok(WithdrawalStatusJson {
                path: withdrawal_path(&withdrawal, facts.as_ref()),
                withdrawal,
            })
        },
    );

    data_method(module, "rollup_getProposals", |api, args| async move {
        let from = from_arg(&args)?;
        let count = page_count_arg(&args)?;
        proposals(api, from, count).await
    });

    data_method(module, "rollup_getDisputes", |api, args| async move {
        let from = from_arg(&args)?;
        let count = page_count_arg(&args)?;
        disputes(api, from, count).await
    });

    data_method(module, "rollup_getRoles", |api, _| async move {
        Ok(RolesJson {
            l1_link: api.ctx.l1.is_some(),
            sequencer: api.ctx.pool.is_some(),
            roles: api.ctx.health.snapshot(),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_is_challenged_while_a_game_is_open() {
        assert_eq!(proposal_status(false, 0, 99, 100), "pending");
        assert_eq!(proposal_status(false, 0, 100, 100), "final");
        // An open game holds finality back, even after the challenge period.
        assert_eq!(proposal_status(false, 1, 99, 100), "challenged");
        assert_eq!(proposal_status(false, 2, 500, 100), "challenged");
        assert_eq!(proposal_status(true, 1, 500, 100), "removed");
        assert_eq!(proposal_status(true, 0, 0, 100), "removed");
    }

    #[test]
    fn pages_end_at_the_total() {
        assert_eq!(page(None, 20, 5), 0..5);
        assert_eq!(page(None, 2, 5), 3..5);
        assert_eq!(page(Some(4), 20, 5), 4..5);
        assert!(page(Some(9), 20, 5).is_empty());
        assert_eq!(page(Some(u64::MAX), 100, u64::MAX), u64::MAX..u64::MAX);
    }

    fn game(status: u8, proposer_to_move: bool) -> Game {
        Game {
            proposal: 3,
            challenger: Address::repeat_byte(7),
            level: 0,
            status,
            proposerToMove: proposer_to_move,
            lo: 0,
            hi: 8,
            l2Block: 0,
            proposerUsed: 5,
            challengerUsed: 7,
            lastMove: 1_000,
            loClaim: B256::ZERO,
            hiClaim: B256::ZERO,
            midClaim: B256::ZERO,
            bond: U256::from(1),
        }
    }

    /// The side to move has its running time counted, capped at the clock; a resolved game's
    /// clocks stand still.
    #[test]
    fn clocks_run_for_the_side_to_move() {
        assert_eq!(clocks_used(&game(1, true), 30, 1_010), (15, 7));
        assert_eq!(clocks_used(&game(1, false), 30, 1_010), (5, 17));
        assert_eq!(clocks_used(&game(1, true), 30, 9_999), (30, 7));
        assert_eq!(clocks_used(&game(2, true), 30, 9_999), (5, 7));
        assert_eq!(game_status(1), "in_progress");
        assert_eq!(game_status(2), "proposer_won");
        assert_eq!(game_status(3), "challenger_won");
    }
}
