//! The `eth_*`, `net_*` and `web3_*` handlers.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::{Header, SignableTransaction as _, Transaction as _};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2718::Encodable2718};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, TxKind, U64, U256};
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{AccessListResult, Filter, FilterBlockOption, TransactionRequest};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use revm_inspectors::access_list::AccessListInspector;
use rollup_execution::{
    CallRequest, ExecutionError, inspect_call,
    revm::{
        DatabaseRef,
        bytecode::Bytecode,
        context::result::{ExecutionResult, HaltReason},
        state::AccountInfo,
    },
    simulate_call,
};
use rollup_primitives::{L2Receipt, L2Transaction, decode_l1_origin};
use rollup_storage::{HistoricalState, StorageError, StoreReader, StoredTransaction};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::debug;

use crate::{
    Result, RpcContext, RpcError,
    error::decode_revert_reason,
    overrides::{CallOverrides, CallState},
    types::{BlockTransactionsJson, RpcBlock, RpcReceipt, RpcTransaction, TxLocation},
};

/// The tip suggested on top of the base fee: 1 gwei.
pub(crate) const SUGGESTED_PRIORITY_FEE: u64 = 1_000_000_000;

/// Gas every transaction pays before execution.
const TX_BASE_GAS: u64 = 21_000;

/// How long a handler keeps retrying to open a read transaction while every MDBX reader slot
/// is taken, before it answers "server busy".
const READER_RETRY: Duration = Duration::from_millis(250);

/// `eth_getTransactionByHash`'s answer: a transaction in a block, or one in the pool.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
enum FoundTransaction {
    Included(RpcTransaction),
    Pooled(Box<alloy_rpc_types_eth::Transaction>),
}

/// The state shared by all handlers.
#[derive(Debug)]
pub(crate) struct EthApi {
    pub(crate) ctx: RpcContext,
    pub(crate) max_block_range: u64,
    pub(crate) max_logs_per_response: usize,
    pub(crate) gas_cap: u64,
    pub(crate) evm_timeout: Duration,
    pub(crate) heavy: HeavySlots,
}

/// The slots heavy requests run in: a request waits for one (asynchronously, holding no thread)
/// at most `queue_timeout`, and holds it until its blocking work ends.
#[derive(Debug)]
pub(crate) struct HeavySlots {
    slots: Arc<Semaphore>,
    max: usize,
    queue_timeout: Duration,
}

impl HeavySlots {
    /// `max` slots (at least one: zero would refuse every heavy request).
    pub(crate) fn new(max: usize, queue_timeout: Duration) -> Self {
        let max = max.max(1);
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            queue_timeout,
        }
    }

    pub(crate) async fn acquire(&self, method: &'static str) -> Result<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.queue_timeout, Arc::clone(&self.slots).acquire_owned())
            .await
        {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; treat it like a full queue all the same.
            Ok(Err(_)) | Err(_) => {
                metrics::counter!("rollup_rpc_busy_total", "method" => method).increment(1);
                Err(RpcError::Busy(format!(
                    "all {} slots for heavy requests ({method} is one) stayed taken for {:?}",
                    self.max, self.queue_timeout
                )))
            }
        }
    }
}

/// Positional JSON-RPC parameters, decoded one by one so an error names the bad argument.
pub(crate) struct Args(Vec<serde_json::Value>);

impl Args {
    pub(crate) fn parse(params: &Params<'_>) -> Result<Self> {
        match params.as_str() {
            None => Ok(Self(Vec::new())),
            Some(json) => serde_json::from_str(json).map(Self).map_err(|err| {
                RpcError::InvalidParams(format!("params must be a JSON array: {err}"))
            }),
        }
    }

    /// Argument `index`, which must be present.
    pub(crate) fn required<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T> {
        match self.0.get(index) {
            None => Err(RpcError::InvalidParams(format!(
                "missing value for required argument {index} ({name})"
            ))),
            Some(value) => serde_json::from_value(value.clone()).map_err(|err| {
                RpcError::InvalidParams(format!("invalid argument {index} ({name}): {err}"))
            }),
        }
    }

    /// Argument `index`, a log filter ([`parse_filter`]).
    pub(crate) fn filter(&self, index: usize) -> Result<Filter> {
        let value = self.0.get(index).ok_or_else(|| {
            RpcError::InvalidParams(format!(
                "missing value for required argument {index} (filter)"
            ))
        })?;
        parse_filter(value).map_err(|reason| {
            RpcError::InvalidParams(format!("invalid argument {index} (filter): {reason}"))
        })
    }

    /// Argument `index`, absent or `null` meaning `None`.
    pub(crate) fn optional<T: DeserializeOwned>(
        &self,
        index: usize,
        name: &str,
    ) -> Result<Option<T>> {
        match self.0.get(index) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(_) => self.required(index, name).map(Some),
        }
    }
}

fn respond<R>(name: &'static str, result: Result<R>) -> Result<R, ErrorObjectOwned> {
    result.map_err(|err| {
        debug!(target: "rollup::rpc", method = name, %err, "request failed");
        ErrorObjectOwned::from(err)
    })
}

/// Registers a handler that runs inline on the server task: one that touches neither the
/// database nor the pool (constants, the config); `eth_blockNumber`, one read of the head, which
/// wallets poll constantly; or `eth_sendRawTransaction`, whose work is a signature recovery, one
/// read of hot pages (the head, the sender's account) and a short pool lock. Sending it to a blocking thread, as [`method`] does, costs a thread hand-off per
/// transaction, which under load measured as more node CPU than it protects.
pub(crate) fn inline_method<R, F>(module: &mut RpcModule<EthApi>, name: &'static str, handler: F)
where
    R: Serialize + Clone + 'static,
    F: Fn(&EthApi, Args) -> Result<R> + Send + Sync + 'static,
{
    module
        .register_method(name, move |params, api, _| {
            metrics::counter!("rollup_rpc_requests_total", "method" => name).increment(1);
            respond(
                name,
                Args::parse(&params).and_then(|args| handler(api, args)),
            )
        })
        .unwrap_or_else(|err| panic!("RPC method {name} registered twice: {err}"));
}

/// Registers a handler that reads the database or the pool: it runs on a blocking thread, so a
/// slow read (a cold page, a long history) never holds up the async workers.
pub(crate) fn method<R, F>(module: &mut RpcModule<EthApi>, name: &'static str, handler: F)
where
    R: Serialize + Clone + 'static,
    F: Fn(&EthApi, Args) -> Result<R> + Clone + Send + Sync + 'static,
{
    module
        .register_blocking_method(name, move |params, api, _| {
            metrics::counter!("rollup_rpc_requests_total", "method" => name).increment(1);
            respond(
                name,
                Args::parse(&params).and_then(|args| handler(&api, args)),
            )
        })
        .unwrap_or_else(|err| panic!("RPC method {name} registered twice: {err}"));
}

/// [`method`] for a handler that holds a node-wide budget on a client's behalf (a filter): it
/// is given the client's address ([`crate::ClientAddr`]), to keep it to its share.
pub(crate) fn client_method<R, F>(module: &mut RpcModule<EthApi>, name: &'static str, handler: F)
where
    R: Serialize + Clone + 'static,
    F: Fn(&EthApi, Args, crate::ClientAddr) -> Result<R> + Clone + Send + Sync + 'static,
{
    module
        .register_blocking_method(name, move |params, api, extensions| {
            metrics::counter!("rollup_rpc_requests_total", "method" => name).increment(1);
            let client = crate::ClientAddr::from_extensions(&extensions);
            respond(
                name,
                Args::parse(&params).and_then(|args| handler(&api, args, client)),
            )
        })
        .unwrap_or_else(|err| panic!("RPC method {name} registered twice: {err}"));
}

/// Registers a heavy handler (one that executes or scans): it waits for a slot of
/// [`HeavySlots`], then runs on a blocking thread holding it.
pub(crate) fn heavy_method<R, F>(module: &mut RpcModule<EthApi>, name: &'static str, handler: F)
where
    R: Serialize + Clone + Send + 'static,
    F: Fn(&EthApi, Args) -> Result<R> + Clone + Send + Sync + 'static,
{
    module
        .register_async_method(name, move |params, api, _| {
            let handler = handler.clone();
            async move {
                metrics::counter!("rollup_rpc_requests_total", "method" => name).increment(1);
                let result = async {
                    let args = Args::parse(&params)?;
                    let slot = api.heavy.acquire(name).await?;
                    tokio::task::spawn_blocking(move || {
                        let result = handler(&api, args);
                        drop(slot);
                        result
                    })
                    .await
                    .map_err(|err| RpcError::Internal(format!("{name} handler failed: {err}")))?
                }
                .await;
                respond(name, result)
            }
        })
        .unwrap_or_else(|err| panic!("RPC method {name} registered twice: {err}"));
}

/// `account`'s code, as `eth_getCode` answers it.
fn code_of(state: StateView<'_>, account: AccountInfo) -> Result<Bytes> {
    Ok(match account.code {
        Some(code) => code.original_bytes(),
        None if account.code_hash == KECCAK256_EMPTY => Bytes::new(),
        None => state.code_by_hash_ref(account.code_hash)?.original_bytes(),
    })
}

/// The state at one block, for revm and for account queries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StateView<'a> {
    Latest(&'a StoreReader),
    Historical(&'a HistoricalState<'a>),
}

impl DatabaseRef for StateView<'_> {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StorageError> {
        match self {
            Self::Latest(db) => db.basic_ref(address),
            Self::Historical(db) => db.basic_ref(address),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StorageError> {
        match self {
            Self::Latest(db) => db.code_by_hash_ref(code_hash),
            Self::Historical(db) => db.code_by_hash_ref(code_hash),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StorageError> {
        match self {
            Self::Latest(db) => db.storage_ref(address, index),
            Self::Historical(db) => db.storage_ref(address, index),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StorageError> {
        match self {
            Self::Latest(db) => db.block_hash_ref(number),
            Self::Historical(db) => db.block_hash_ref(number),
        }
    }
}

/// The base fee of the stored head block (0 before London-style headers).
fn head_base_fee(reader: &StoreReader) -> Result<u64> {
    Ok(reader
        .header(stored_head(reader)?)?
        .and_then(|h| h.base_fee_per_gas)
        .unwrap_or_default())
}

pub(crate) fn stored_head(reader: &StoreReader) -> Result<u64> {
    reader
        .l2_head()?
        .ok_or_else(|| RpcError::Internal("the database holds no L2 genesis yet".into()))
}

impl EthApi {
    /// `address`'s next nonce counting the sequencer's pooled transactions, from its nonce in
    /// the latest state (`state_nonce`); that nonce itself on a replica, which has no pool.
    fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64 {
        self.ctx
            .pool
            .as_ref()
            .map_or(state_nonce, |pool| pool.pending_nonce(address, state_nonce))
    }

    /// A read transaction. While every MDBX reader slot is taken it retries for
    /// [`READER_RETRY`] (slots free up as other requests end), then answers "server busy".
    /// Runs on blocking threads only: it sleeps between attempts.
    pub(crate) fn reader(&self) -> Result<StoreReader> {
        let give_up = Instant::now() + READER_RETRY;
        let mut pause = Duration::from_millis(2);
        loop {
            match self.ctx.store.reader() {
                Ok(reader) => return Ok(reader),
                Err(err) if err.is_temporary() => {
                    if Instant::now() + pause > give_up {
                        metrics::counter!("rollup_rpc_readers_full_total").increment(1);
                        return Err(RpcError::Busy(format!(
                            "the database has no free reader slot ({err})"
                        )));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// A block tag as a number; `None` for a number above the head.
    fn tag_number(&self, head: u64, tag: BlockNumberOrTag) -> Option<u64> {
        let number = match tag {
            BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => head,
            BlockNumberOrTag::Safe => self.ctx.heads.borrow().safe_l2.number,
            BlockNumberOrTag::Finalized => self.ctx.heads.borrow().finalized_l2.number,
            BlockNumberOrTag::Earliest => 0,
            BlockNumberOrTag::Number(number) => number,
        };
        (number <= head).then_some(number)
    }

    /// A block id as the number of a stored block, `None` if there is no such block.
    pub(crate) fn block_number(&self, reader: &StoreReader, id: BlockId) -> Result<Option<u64>> {
        let head = stored_head(reader)?;
        Ok(match id {
            BlockId::Number(tag) => self.tag_number(head, tag),
            BlockId::Hash(hash) => reader.block_number(hash.block_hash)?,
        })
    }

    /// Like [`Self::block_number`], but a missing block is an error (for state queries).
    pub(crate) fn existing_block_number(&self, reader: &StoreReader, id: BlockId) -> Result<u64> {
        self.existing_block(reader, id)
    }

    fn existing_block(&self, reader: &StoreReader, id: BlockId) -> Result<u64> {
        self.block_number(reader, id)?
            .ok_or_else(|| RpcError::UnknownBlock(block_id_display(id)))
    }

    /// Runs `query` against the state after block `id` (default: latest).
    pub(crate) fn with_state<T>(
        &self,
        id: Option<BlockId>,
        query: impl FnOnce(StateView<'_>, &Header) -> Result<T>,
    ) -> Result<T> {
        let reader = self.reader()?;
        let head = stored_head(&reader)?;
        let number = self.existing_block(&reader, id.unwrap_or_default())?;
        let header = reader
            .header(number)?
            .ok_or_else(|| RpcError::UnknownBlock(format!("block {number}")))?;
        if number == head {
            query(StateView::Latest(&reader), &header)
        } else {
            let historical = reader.state_at(number)?;
            query(StateView::Historical(&historical), &header)
        }
    }

    fn block(&self, reader: &StoreReader, number: u64, full: bool) -> Result<Option<RpcBlock>> {
        let Some(header) = reader.header(number)? else {
            return Ok(None);
        };
        let hash = reader
            .block_hash(number)?
            .unwrap_or_else(|| header.hash_slow());
        let body = reader.body(number)?.unwrap_or_default();
        let size = block_size(&header, &body);
        let transactions = if full {
            let nonces = deposit_nonces(reader, number, &body)?;
            BlockTransactionsJson::Full(
                body.iter()
                    .zip(nonces)
                    .enumerate()
                    .map(|(index, (tx, nonce))| {
                        RpcTransaction::new(tx, location(&header, hash, index), nonce)
                    })
                    .collect(),
            )
        } else {
            BlockTransactionsJson::Hashes(body.iter().map(L2Transaction::hash).collect())
        };
        let l1_origin = decode_l1_origin(&header.extra_data).ok().map(Into::into);
        Ok(Some(RpcBlock {
            header: alloy_rpc_types_eth::Header {
                hash,
                inner: header,
                total_difficulty: Some(U256::ZERO),
                size: Some(U256::from(size)),
            },
            uncles: Vec::new(),
            transactions,
            l1_origin,
        }))
    }

    fn transaction_in_block(
        &self,
        reader: &StoreReader,
        number: Option<u64>,
        index: U64,
    ) -> Result<Option<RpcTransaction>> {
        let Some(number) = number else {
            return Ok(None);
        };
        let index = index.to::<u64>();
        let Ok(i) = usize::try_from(index) else {
            return Ok(None);
        };
        let (Some(header), Some(tx), Some(hash)) = (
            reader.header(number)?,
            reader.body_entry(number, i)?,
            reader.block_hash(number)?,
        ) else {
            return Ok(None);
        };
        let nonce = deposit_nonce_of(reader, number, &tx, i)?;
        Ok(Some(RpcTransaction::new(
            &tx,
            location(&header, hash, i),
            nonce,
        )))
    }

    fn block_receipts(&self, reader: &StoreReader, number: u64) -> Result<Option<Vec<RpcReceipt>>> {
        let (Some(header), Some(body), Some(receipts), Some(hash)) = (
            reader.header(number)?,
            reader.body(number)?,
            reader.receipts(number)?,
            reader.block_hash(number)?,
        ) else {
            return Ok(None);
        };
        let mut previous_gas = 0;
        let mut log_index = 0;
        let mut out = Vec::with_capacity(body.len());
        let nonces = deposit_nonces(reader, number, &body)?;
        for (index, ((tx, receipt), nonce)) in body.iter().zip(&receipts).zip(nonces).enumerate() {
            let gas_used = receipt.cumulative_gas_used.saturating_sub(previous_gas);
            out.push(build_receipt(
                tx,
                receipt,
                gas_used,
                log_index,
                location(&header, hash, index),
                nonce,
            ));
            previous_gas = receipt.cumulative_gas_used;
            log_index += receipt.logs.len() as u64;
        }
        Ok(Some(out))
    }

    /// The limits one EVM request runs within, its clock started now.
    pub(crate) fn call_limits(&self) -> CallLimits {
        CallLimits {
            deadline: Instant::now() + self.evm_timeout,
            timeout: self.evm_timeout,
        }
    }

    /// The call a request asks for, with its gas held to the gas cap (a request above the cap
    /// is refused; one without gas gets the cap), and the gas it asked for.
    pub(crate) fn capped_call(
        &self,
        request: TransactionRequest,
    ) -> Result<(CallRequest, Option<u64>)> {
        let mut call = call_request(request, self.ctx.config.l2_chain_id)?;
        let requested = call.gas;
        match call.gas {
            Some(requested) if requested > self.gas_cap => {
                return Err(RpcError::GasAboveCap {
                    requested,
                    cap: self.gas_cap,
                });
            }
            Some(_) => {}
            None => call.gas = Some(self.gas_cap),
        }
        Ok((call, requested))
    }

    /// `eth_call`. Asking for more gas than the cap is refused; asking for none gives the cap,
    /// which may exceed the block gas limit (a call is not bound by it, in geth and reth
    /// either).
    fn call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        overrides: Option<&CallOverrides>,
    ) -> Result<Bytes> {
        let (mut call, request_gas) = self.capped_call(request)?;
        let chain_id = self.ctx.config.l2_chain_id;
        let limits = self.call_limits();
        self.with_state(block, |state, header| {
            let (header, state) = crate::overrides::apply(overrides, state, header, &mut call);
            let header = &header;
            fit_gas_to_balance(&state, header, &mut call, request_gas)?;
            match run_call(state, header, chain_id, call, &limits)? {
                ExecutionResult::Success { output, .. } => Ok(output.into_data()),
                result => Err(failure(result)),
            }
        })
    }

    /// `eth_createAccessList`, as reth answers it: the call runs once with an access-list
    /// inspector, starting from the request's own list, and again with the list it found, for
    /// the gas the call uses with it. The sender, the recipient (or the created contract) and
    /// the precompiles are left out of the list, as they are warm anyway. A call that reverts or
    /// halts still gets its list, with the failure in `error`.
    fn create_access_list(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        overrides: Option<&CallOverrides>,
    ) -> Result<AccessListResult> {
        let (mut call, request_gas) = self.capped_call(request)?;
        let chain_id = self.ctx.config.l2_chain_id;
        let limits = self.call_limits();
        self.with_state(block, |state, header| {
            let (header, state) = crate::overrides::apply(overrides, state, header, &mut call);
            let header = &header;
            fit_gas_to_balance(&state, header, &mut call, request_gas)?;
            let inspector = AccessListInspector::new(call.access_list.clone());
            let (_, inspector) = inspect_call(
                state,
                header,
                chain_id,
                call.clone(),
                Some(limits.deadline),
                inspector,
            )
            .map_err(|err| call_error(err, &limits))?;
            let mut access_list = inspector.into_access_list();
            // The inspector's order is a hash map's; answer the same list the same way.
            access_list.0.sort_by_key(|item| item.address);
            let with_list = CallRequest {
                access_list: access_list.clone(),
                ..call
            };
            let result = run_call(state, header, chain_id, with_list, &limits)?;
            let gas_used = U256::from(result.tx_gas_used());
            let error = (!result.is_success()).then(|| failure(result).to_string());
            Ok(AccessListResult {
                access_list,
                gas_used,
                error,
            })
        })
    }

    /// `eth_fillTransaction`, as geth answers it: the request with what a wallet needs to sign
    /// it filled in (EIP-1559 fees, the priority fee this node suggests and a fee cap of twice
    /// the head's base fee above it, unless a legacy `gasPrice` is named; the sender's pending
    /// nonce; the gas `eth_estimateGas` finds at the head; the chain id), answered unsigned as
    /// `raw` (its EIP-2718 encoding with a zero signature) and `tx`. Nothing is signed or sent.
    fn fill_transaction(&self, mut request: TransactionRequest) -> Result<FilledTransaction> {
        let chain_id = self.ctx.config.l2_chain_id;
        // The checks every call makes (chain id, fee fields, unsupported types) first.
        call_request(request.clone(), chain_id)?;
        let refused = |message: String| Err(RpcError::ExecutionFailed(message));
        let reader = self.reader()?;
        let base_fee = head_base_fee(&reader)?;
        let from = request.from.unwrap_or_default();
        let state_nonce = StateView::Latest(&reader)
            .basic_ref(from)?
            .map(|account| account.nonce)
            .unwrap_or_default();
        drop(reader);
        if request.gas_price.is_none() {
            let tip = *request
                .max_priority_fee_per_gas
                .get_or_insert(u128::from(SUGGESTED_PRIORITY_FEE));
            let max_fee = *request
                .max_fee_per_gas
                .get_or_insert(tip.saturating_add(2 * u128::from(base_fee)));
            if max_fee < tip {
                return refused(format!(
                    "maxFeePerGas ({max_fee}) < maxPriorityFeePerGas ({tip})"
                ));
            }
        }
        let input = request
            .input
            .clone()
            .try_into_unique_input()
            .map_err(|err| RpcError::InvalidParams(format!("invalid call: {err}")))?
            .unwrap_or_default();
        let to = match request.to {
            Some(TxKind::Call(to)) => TxKind::Call(to),
            Some(TxKind::Create) | None if input.is_empty() => {
                return refused("contract creation without any data provided".into());
            }
            Some(TxKind::Create) | None => TxKind::Create,
        };
        let nonce = request
            .nonce
            .unwrap_or_else(|| self.pending_nonce(from, state_nonce));
        let gas_limit = match request.gas {
            Some(gas) => gas,
            None => self.estimate_gas(request.clone(), None, None)?.to(),
        };
        let value = request.value.unwrap_or_default();
        // Signed with a zero signature, as geth encodes an unsigned transaction.
        let unsigned = alloy_primitives::Signature::new(U256::ZERO, U256::ZERO, false);
        let tx: alloy_consensus::TxEnvelope = match (request.gas_price, request.access_list) {
            (Some(gas_price), None) => alloy_consensus::TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price,
                gas_limit,
                to,
                value,
                input,
            }
            .into_signed(unsigned)
            .into(),
            (Some(gas_price), Some(access_list)) => alloy_consensus::TxEip2930 {
                chain_id,
                nonce,
                gas_price,
                gas_limit,
                to,
                value,
                access_list,
                input,
            }
            .into_signed(unsigned)
            .into(),
            (None, access_list) => alloy_consensus::TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: request.max_fee_per_gas.unwrap_or_default(),
                max_priority_fee_per_gas: request.max_priority_fee_per_gas.unwrap_or_default(),
                to,
                value,
                access_list: access_list.unwrap_or_default(),
                input,
            }
            .into_signed(unsigned)
            .into(),
        };
        Ok(FilledTransaction {
            raw: tx.encoded_2718().into(),
            tx,
        })
    }

    /// `eth_estimateGas`: a search for the lowest gas limit that succeeds, at most the
    /// request's gas, the block gas limit and the gas cap (a request above the cap is clamped to
    /// it, as geth does). All trial runs share one time limit.
    fn estimate_gas(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        overrides: Option<&CallOverrides>,
    ) -> Result<U64> {
        let chain_id = self.ctx.config.l2_chain_id;
        let mut call = call_request(request, chain_id)?;
        let limits = self.call_limits();
        self.with_state(block, |state, header| {
            let (header, state) = crate::overrides::apply(overrides, state, header, &mut call);
            let header = &header;
            check_fee_cap(header, &call)?;
            let mut high = call
                .gas
                .unwrap_or(header.gas_limit)
                .min(header.gas_limit)
                .min(self.gas_cap);
            // As geth: a value above the balance is refused before any search, and with a gas
            // price the search stops at the gas the rest of the balance pays for.
            let Ok(available) = balance_after_value(&state, &call)? else {
                return Err(RpcError::ExecutionFailed(
                    "insufficient funds for transfer".into(),
                ));
            };
            let unpriced = high;
            if let Some(allowance) = gas_allowance(available, call.gas_price) {
                high = high.min(allowance);
            }
            let cap = high;
            let attempt = |gas: u64| {
                run_call(
                    state,
                    header,
                    chain_id,
                    CallRequest {
                        gas: Some(gas),
                        ..call.clone()
                    },
                    &limits,
                )
            };
            let first = match attempt(high) {
                // The balance pays for less gas than even the call's intrinsic gas.
                Err(RpcError::ExecutionFailed(_)) if high < unpriced => {
                    return Err(RpcError::GasExceedsAllowance(high));
                }
                first => first?,
            };
            let (used, refunded) = match first {
                result @ ExecutionResult::Success { .. } => {
                    (result.tx_gas_used(), result.gas().inner_refunded())
                }
                ExecutionResult::Halt {
                    reason: HaltReason::OutOfGas(_),
                    ..
                } => {
                    return Err(RpcError::GasExceedsAllowance(cap));
                }
                result => return Err(failure(result)),
            };
            // The gas limit a call needs can exceed the gas it ends up using (refunds, the 63/64
            // rule), so search for the lowest limit that still succeeds, starting with geth's
            // optimistic guess.
            let succeeds = |gas: u64| -> Result<bool> {
                match attempt(gas) {
                    Ok(result) => Ok(result.is_success()),
                    // Below intrinsic gas revm rejects the call before executing it.
                    Err(RpcError::ExecutionFailed(_)) => Ok(false),
                    Err(err) => Err(err),
                }
            };
            // Most calls (transfers, calls without refunds) need exactly what they use.
            if used < high && succeeds(used)? {
                return Ok(U64::from(used));
            }
            let mut low = used.max(TX_BASE_GAS - 1);
            let optimistic = (used + refunded + 2_300) * 64 / 63;
            if optimistic < high {
                if succeeds(optimistic)? {
                    high = optimistic;
                } else {
                    low = optimistic;
                }
            }
            while low + 1 < high {
                // Stop within 1.5% of the optimum, as geth does; the caller adds margin anyway.
                if (high - low) * 1000 / high < 15 {
                    break;
                }
                let mid = low + (high - low) / 2;
                if succeeds(mid)? {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            Ok(U64::from(high))
        })
    }

    pub(crate) fn logs(&self, filter: &Filter) -> Result<Vec<alloy_rpc_types_eth::Log>> {
        let reader = self.reader()?;
        let head = stored_head(&reader)?;
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let number = reader
                    .block_number(hash)?
                    .ok_or_else(|| RpcError::UnknownBlock(format!("block {hash}")))?;
                (number, number)
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => {
                let resolve = |tag: Option<BlockNumberOrTag>| match tag.unwrap_or_default() {
                    BlockNumberOrTag::Number(number) => number,
                    tag => self.tag_number(head, tag).unwrap_or(head),
                };
                let (from, to) = (resolve(from_block), resolve(to_block));
                if from > to {
                    return Err(RpcError::InvalidBlockRange { from, to });
                }
                if to > head {
                    return Err(RpcError::BlockRangePastHead);
                }
                if self.max_block_range != 0 && to - from >= self.max_block_range {
                    return Err(RpcError::BlockRangeTooLarge(self.max_block_range));
                }
                (from, to)
            }
        };
        let mut logs = Vec::new();
        for number in from..=to {
            let Some(header) = reader.header(number)? else {
                break;
            };
            if !filter.matches_bloom(header.logs_bloom) {
                continue;
            }
            append_block_logs(&reader, &header, |log| filter.matches(log), &mut logs)?;
            // As reth: one block's logs always come whole; a range stops at the block that
            // takes it past the limit, before the response is built.
            // 0 means no limit, as with reth's flag.
            if from != to
                && self.max_logs_per_response != 0
                && logs.len() > self.max_logs_per_response
            {
                return Err(RpcError::TooManyLogs {
                    max: self.max_logs_per_response,
                    from,
                    to: number.saturating_sub(1).max(from),
                });
            }
        }
        Ok(logs)
    }
}

/// Appends the logs of the stored block `header` that `accept` takes to `out`, with the
/// positions `eth_getLogs` reports (block, transaction, index within the block). Shared by
/// `eth_getLogs` and the live feeds (subscriptions and filters).
pub(crate) fn append_block_logs(
    reader: &StoreReader,
    header: &Header,
    accept: impl Fn(&alloy_primitives::Log) -> bool,
    out: &mut Vec<alloy_rpc_types_eth::Log>,
) -> Result<()> {
    let number = header.number;
    let (Some(body), Some(receipts), Some(hash)) = (
        reader.body(number)?,
        reader.receipts(number)?,
        reader.block_hash(number)?,
    ) else {
        return Err(RpcError::Internal(format!(
            "L2 block {number} has a header but no body or receipts"
        )));
    };
    let mut log_index = 0u64;
    for (index, (tx, receipt)) in body.iter().zip(&receipts).enumerate() {
        for log in &receipt.logs {
            if accept(log) {
                out.push(rpc_log(
                    log,
                    tx.hash(),
                    location(header, hash, index),
                    log_index,
                ));
            }
            log_index += 1;
        }
    }
    Ok(())
}

fn block_id_display(id: BlockId) -> String {
    match id {
        BlockId::Hash(hash) => format!("block {}", hash.block_hash),
        BlockId::Number(BlockNumberOrTag::Number(number)) => format!("block {number}"),
        BlockId::Number(tag) => format!("block {tag}"),
    }
}

const fn location(header: &Header, block_hash: B256, index: usize) -> TxLocation {
    TxLocation {
        block_hash,
        block_number: header.number,
        index: index as u64,
        base_fee: header.base_fee_per_gas,
    }
}

/// The RLP length of the block `[header, transactions, uncles]`, as geth reports in `size`.
fn block_size(header: &Header, body: &[L2Transaction]) -> usize {
    let transactions: usize = body
        .iter()
        .map(|tx| {
            let len = tx.encode_2718_len();
            // Typed transactions are RLP strings inside the list; legacy ones are lists already.
            if tx.tx_type() == 0 {
                len
            } else {
                alloy_rlp::Header {
                    list: false,
                    payload_length: len,
                }
                .length_with_payload()
            }
        })
        .sum();
    let transactions = alloy_rlp::Header {
        list: true,
        payload_length: transactions,
    }
    .length_with_payload();
    let empty_uncles = 1;
    alloy_rlp::Header {
        list: true,
        payload_length: header.length() + transactions + empty_uncles,
    }
    .length_with_payload()
}

fn rpc_log(
    log: &alloy_primitives::Log,
    tx_hash: B256,
    at: TxLocation,
    log_index: u64,
) -> alloy_rpc_types_eth::Log {
    alloy_rpc_types_eth::Log {
        inner: log.clone(),
        block_hash: Some(at.block_hash),
        block_number: Some(at.block_number),
        block_timestamp: None,
        transaction_hash: Some(tx_hash),
        transaction_index: Some(at.index),
        log_index: Some(log_index),
        removed: false,
    }
}

/// The receipt of `tx` at `at`; a deposit's carries `deposit_nonce`, the nonce it used up
/// ([`deposit_nonces`]).
fn build_receipt(
    tx: &L2Transaction,
    receipt: &L2Receipt,
    gas_used: u64,
    first_log_index: u64,
    at: TxLocation,
    deposit_nonce: u64,
) -> RpcReceipt {
    let is_deposit = matches!(tx, L2Transaction::Deposit(_));
    let hash = tx.hash();
    let effective_gas_price = match tx {
        L2Transaction::Deposit(_) => 0,
        L2Transaction::Signed { envelope, .. } => envelope.effective_gas_price(at.base_fee),
    };
    let (to, contract_address) = match tx.kind() {
        TxKind::Call(to) => (Some(to), None),
        TxKind::Create => (None, Some(tx.sender().create(tx.nonce()))),
    };
    RpcReceipt {
        tx_type: receipt.tx_type,
        status: u8::from(receipt.success),
        cumulative_gas_used: receipt.cumulative_gas_used,
        logs: receipt
            .logs
            .iter()
            .enumerate()
            .map(|(i, log)| rpc_log(log, hash, at, first_log_index + i as u64))
            .collect(),
        logs_bloom: receipt.bloom(),
        transaction_hash: hash,
        transaction_index: at.index,
        block_hash: at.block_hash,
        block_number: at.block_number,
        gas_used,
        effective_gas_price,
        from: tx.sender(),
        to,
        contract_address,
        deposit_nonce: is_deposit.then_some(deposit_nonce),
        deposit_receipt_version: is_deposit.then_some(1),
    }
}

/// The nonce each deposit of block `number` (whose transactions are `body`) used up: its
/// sender's nonce as it ran, the parent state's plus one per earlier transaction of the sender
/// in the block that used one up. Every signed transaction does, and every deposit that ran;
/// one that revm refused before running (a forced withdrawal of more than the sender holds)
/// fails using no gas and no nonce, and shows the nonce it would have used. 0 for signed
/// transactions, which carry their own, and for every deposit of a block whose parent state
/// is pruned.
fn deposit_nonces(reader: &StoreReader, number: u64, body: &[L2Transaction]) -> Result<Vec<u64>> {
    let mut nonces = vec![0; body.len()];
    if number == 0
        || !body
            .iter()
            .any(|tx| matches!(tx, L2Transaction::Deposit(_)))
    {
        return Ok(nonces);
    }
    let parent = match reader.state_at(number - 1) {
        Ok(state) => state,
        Err(rollup_storage::StorageError::HistoryPruned { .. }) => return Ok(nonces),
        Err(err) => return Err(err.into()),
    };
    let receipts = reader.receipts(number)?.unwrap_or_default();
    let mut used: std::collections::HashMap<Address, u64> = std::collections::HashMap::new();
    let mut previous_gas = 0;
    for (index, (tx, nonce)) in body.iter().zip(&mut nonces).enumerate() {
        let receipt = receipts.get(index);
        let gas = receipt.map_or(previous_gas, |receipt| receipt.cumulative_gas_used);
        let refused = receipt.is_some_and(|receipt| !receipt.success) && gas == previous_gas;
        previous_gas = gas;
        let sender = tx.sender();
        let before = match used.get(&sender) {
            Some(count) => *count,
            None => parent.basic_ref(sender)?.map_or(0, |account| account.nonce),
        };
        if matches!(tx, L2Transaction::Deposit(_)) {
            *nonce = before;
            if refused {
                used.insert(sender, before);
                continue;
            }
        }
        used.insert(sender, before + 1);
    }
    Ok(nonces)
}

/// Where a stored transaction sits, and the nonce it used up if it is a deposit
/// ([`deposit_nonce_of`]).
fn stored_location(reader: &StoreReader, stored: &StoredTransaction) -> Result<(TxLocation, u64)> {
    let at = TxLocation {
        block_hash: stored.block_hash,
        block_number: stored.block_number,
        index: u64::from(stored.index),
        base_fee: stored.base_fee,
    };
    let nonce = deposit_nonce_of(
        reader,
        stored.block_number,
        &stored.transaction,
        stored.index as usize,
    )?;
    Ok((at, nonce))
}

/// [`deposit_nonces`] for the one transaction `tx` at `index` of block `number`.
fn deposit_nonce_of(
    reader: &StoreReader,
    number: u64,
    tx: &L2Transaction,
    index: usize,
) -> Result<u64> {
    if !matches!(tx, L2Transaction::Deposit(_)) {
        return Ok(0);
    }
    let body = reader.body(number)?.unwrap_or_default();
    Ok(deposit_nonces(reader, number, &body)?
        .get(index)
        .copied()
        .unwrap_or_default())
}

/// The call a request describes, refused up front (as geth and reth refuse it) if it names
/// another chain, inconsistent fees, or what a transaction on this L2 cannot carry: the pool
/// accepts legacy, EIP-2930 and EIP-1559 transactions only, so simulating an EIP-7702 or
/// blob transaction would report a success that could never be sent.
pub(crate) fn call_request(request: TransactionRequest, chain_id: u64) -> Result<CallRequest> {
    let invalid = |message: String| Err(RpcError::InvalidParams(message));
    if request.authorization_list.is_some() {
        return invalid(
            "EIP-7702 authorizations are not supported: this L2 accepts legacy, EIP-2930 and \
             EIP-1559 transactions"
                .into(),
        );
    }
    if request.blob_versioned_hashes.is_some()
        || request.sidecar.is_some()
        || request.max_fee_per_blob_gas.is_some()
    {
        return invalid(
            "blob transactions are not supported: this L2 accepts legacy, EIP-2930 and EIP-1559 \
             transactions"
                .into(),
        );
    }
    // geth answers these three with its generic server error code.
    let refused = |message: String| Err(RpcError::ExecutionFailed(message));
    if let Some(have) = request.chain_id
        && have != chain_id
    {
        return refused(format!(
            "chainId does not match node's (have={have}, want={chain_id})"
        ));
    }
    if request.gas_price.is_some()
        && (request.max_fee_per_gas.is_some() || request.max_priority_fee_per_gas.is_some())
    {
        return refused(
            "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified".into(),
        );
    }
    if let (Some(max_fee), Some(tip)) = (request.max_fee_per_gas, request.max_priority_fee_per_gas)
        && tip > max_fee
    {
        return refused(format!(
            "maxFeePerGas ({max_fee}) < maxPriorityFeePerGas ({tip})"
        ));
    }
    let input = request
        .input
        .try_into_unique_input()
        .map_err(|err| RpcError::InvalidParams(format!("invalid call: {err}")))?
        .unwrap_or_default();
    Ok(CallRequest {
        from: request.from.unwrap_or_default(),
        to: match request.to {
            Some(TxKind::Call(to)) => Some(to),
            Some(TxKind::Create) | None => None,
        },
        gas: request.gas,
        value: request.value.unwrap_or_default(),
        input,
        // As geth: the legacy price, else the EIP-1559 fee cap; none runs the call for free.
        gas_price: request
            .gas_price
            .or(request.max_fee_per_gas)
            .unwrap_or_default(),
        access_list: request.access_list.unwrap_or_default(),
        blob_base_fee: None,
    })
}

/// As reth, for a call with a gas price: one that names no gas (`requested_gas`) gets what the
/// caller's balance pays for after the value, not a gas cap it cannot afford; a value above
/// the balance is refused in geth's words (the EVM would otherwise report a gas limit of 0).
pub(crate) fn fit_gas_to_balance(
    state: &impl DatabaseRef<Error = StorageError>,
    header: &Header,
    call: &mut CallRequest,
    requested_gas: Option<u64>,
) -> Result<()> {
    if call.gas_price == 0 {
        return Ok(());
    }
    check_fee_cap(header, call)?;
    let available = match balance_after_value(state, call)? {
        Ok(available) => available,
        Err(balance) => {
            return Err(RpcError::ExecutionFailed(format!(
                "insufficient funds for gas * price + value: address {} have {balance} want {}",
                call.from, call.value
            )));
        }
    };
    if requested_gas.is_none()
        && let Some(allowance) = gas_allowance(available, call.gas_price)
    {
        // Less than the call's intrinsic gas: geth's words, not a gas limit the caller never set.
        let intrinsic = rollup_execution::call_intrinsic_gas(call);
        if allowance < intrinsic {
            // Saturating: a balance and a value near 2^256 wrapped to a small `want`.
            let balance = available.saturating_add(call.value);
            let want = U256::from(intrinsic)
                .saturating_mul(U256::from(call.gas_price))
                .saturating_add(call.value);
            return Err(RpcError::ExecutionFailed(format!(
                "insufficient funds for gas * price + value: address {} have {balance} want {want}",
                call.from
            )));
        }
        call.gas = call.gas.map(|gas| gas.min(allowance));
    }
    Ok(())
}

/// As geth: a priced call must offer at least the block's base fee.
pub(crate) fn check_fee_cap(header: &Header, call: &CallRequest) -> Result<()> {
    let base_fee = u128::from(header.base_fee_per_gas.unwrap_or_default());
    if call.gas_price != 0 && call.gas_price < base_fee {
        return Err(RpcError::ExecutionFailed(format!(
            "max fee per gas less than block base fee: address {}, maxFeePerGas: {}, baseFee: {base_fee}",
            call.from, call.gas_price
        )));
    }
    Ok(())
}

/// The caller's balance left after the call's value, or `Err(balance)` if the value is more.
fn balance_after_value(
    state: &impl DatabaseRef<Error = StorageError>,
    call: &CallRequest,
) -> Result<std::result::Result<U256, U256>> {
    let balance = state
        .basic_ref(call.from)?
        .map(|account| account.balance)
        .unwrap_or_default();
    Ok(balance.checked_sub(call.value).ok_or(balance))
}

/// The gas `available` wei pay for at `gas_price`; `None` for a call without a price.
fn gas_allowance(available: U256, gas_price: u128) -> Option<u64> {
    (gas_price > 0).then(|| (available / U256::from(gas_price)).saturating_to())
}

/// When an EVM request must end.
pub(crate) struct CallLimits {
    pub(crate) deadline: Instant,
    /// The configured limit, for the error message.
    pub(crate) timeout: Duration,
}

fn run_call(
    state: CallState<'_>,
    header: &Header,
    chain_id: u64,
    call: CallRequest,
    limits: &CallLimits,
) -> Result<ExecutionResult> {
    simulate_call(state, header, chain_id, call, Some(limits.deadline))
        .map_err(|err| call_error(err, limits))
}

/// The RPC error for a call that could not run to an outcome.
pub(crate) fn call_error(err: ExecutionError, limits: &CallLimits) -> RpcError {
    match err {
        ExecutionError::InvalidCall(message) => RpcError::ExecutionFailed(message),
        ExecutionError::CallTimedOut => {
            metrics::counter!("rollup_rpc_evm_timeouts_total").increment(1);
            RpcError::ExecutionTimeout(limits.timeout)
        }
        err => RpcError::Internal(err.to_string()),
    }
}

/// The error for a call that did not succeed, worded as geth words it.
fn failure(result: ExecutionResult) -> RpcError {
    match result {
        ExecutionResult::Revert { output, .. } => RpcError::Reverted {
            reason: decode_revert_reason(&output),
            data: output,
        },
        ExecutionResult::Halt { reason, .. } => RpcError::ExecutionFailed(halt_message(&reason)),
        ExecutionResult::Success { .. } => {
            RpcError::Internal("a successful call reported as failed".into())
        }
    }
}

/// Why a call halted, in geth's words (wallets and libraries match on them).
fn halt_message(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(_) => "out of gas",
        HaltReason::InvalidFEOpcode => "invalid opcode: INVALID",
        HaltReason::OpcodeNotFound | HaltReason::NotActivated => {
            "invalid opcode: opcode not defined"
        }
        HaltReason::InvalidJump => "invalid jump destination",
        HaltReason::StackUnderflow => "stack underflow",
        HaltReason::StackOverflow => "stack limit reached 1024",
        HaltReason::OutOfOffset => "return data out of bounds",
        HaltReason::CreateCollision => "contract address collision",
        HaltReason::NonceOverflow => "nonce uint64 overflow",
        HaltReason::CreateContractSizeLimit => "max code size exceeded",
        HaltReason::CreateContractStartingWithEF => "invalid code: must not begin with 0xef",
        HaltReason::CreateInitCodeSizeLimit => "max initcode size exceeded",
        HaltReason::StateChangeDuringStaticCall | HaltReason::CallNotAllowedInsideStatic => {
            "write protection"
        }
        HaltReason::OutOfFunds => "insufficient balance for transfer",
        HaltReason::CallTooDeep => "max call depth exceeded",
        HaltReason::OverflowPayment => "gas uint64 overflow",
        other => return format!("execution halted: {other}"),
    }
    .to_string()
}

/// What `eth_fillTransaction` answers: geth's `SignTransactionResult` of an unsigned
/// transaction.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FilledTransaction {
    /// The transaction's EIP-2718 encoding, its signature zero.
    raw: Bytes,
    /// The transaction's fields (and its zero signature).
    tx: alloy_consensus::TxEnvelope,
}

/// Registers the `eth_*`, `net_*` and `web3_*` methods.
pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    inline_method(module, "web3_clientVersion", |_, _| {
        Ok(concat!("rollup-node/", env!("CARGO_PKG_VERSION")).to_string())
    });
    inline_method(module, "net_version", |api, _| {
        Ok(api.ctx.config.l2_chain_id.to_string())
    });
    inline_method(module, "net_listening", |_, _| Ok(true));
    // The L2 has no peer-to-peer network: blocks come from the sequencer and from L1.
    inline_method(module, "net_peerCount", |_, _| Ok(U64::ZERO));
    inline_method(module, "web3_sha3", |_, args| {
        let data: Bytes = args.required(0, "data")?;
        Ok(alloy_primitives::keccak256(&data))
    });
    inline_method(module, "eth_chainId", |api, _| {
        Ok(U64::from(api.ctx.config.l2_chain_id))
    });
    inline_method(module, "eth_syncing", |_, _| Ok(false));
    inline_method(module, "eth_accounts", |_, _| Ok(Vec::<Address>::new()));
    inline_method(module, "eth_blockNumber", |api, _| {
        Ok(U64::from(stored_head(&api.reader()?)?))
    });
    method(module, "eth_gasPrice", |api, _| {
        let base_fee = head_base_fee(&api.reader()?)?;
        Ok(U256::from(base_fee) + U256::from(SUGGESTED_PRIORITY_FEE))
    });
    inline_method(module, "eth_maxPriorityFeePerGas", |_, _| {
        Ok(U256::from(SUGGESTED_PRIORITY_FEE))
    });
    inline_method(module, "eth_blobBaseFee", |_, _| {
        Ok(U256::from(rollup_execution::blob_base_fee()))
    });

    method(module, "eth_getBalance", |api, args| {
        let address: Address = args.required(0, "address")?;
        api.with_state(args.optional(1, "block")?, |state, _| {
            Ok(state
                .basic_ref(address)?
                .map(|account| account.balance)
                .unwrap_or_default())
        })
    });
    method(module, "eth_getTransactionCount", |api, args| {
        let address: Address = args.required(0, "address")?;
        let block: Option<BlockId> = args.optional(1, "block")?;
        let nonce = api.with_state(block, |state, _| {
            Ok(state
                .basic_ref(address)?
                .map(|account| account.nonce)
                .unwrap_or_default())
        })?;
        // `pending` counts the sequencer's pooled transactions too, so wallets can send several
        // transactions back to back.
        let pending = matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending)));
        Ok(U64::from(if pending {
            api.pending_nonce(address, nonce)
        } else {
            nonce
        }))
    });
    method(module, "eth_getCode", |api, args| {
        let address: Address = args.required(0, "address")?;
        api.with_state(args.optional(1, "block")?, |state, _| {
            let Some(account) = state.basic_ref(address)? else {
                return Ok(Bytes::new());
            };
            code_of(state, account)
        })
    });
    // reth's: the balance, nonce and code of `eth_getBalance`, `eth_getTransactionCount` and
    // `eth_getCode` in one read of one state (cast's `balance` and `nonce` ask for it first).
    method(module, "eth_getAccountInfo", |api, args| {
        let address: Address = args.required(0, "address")?;
        api.with_state(args.optional(1, "block")?, |state, _| {
            let Some(account) = state.basic_ref(address)? else {
                return Ok(alloy_rpc_types_eth::AccountInfo::default());
            };
            Ok(alloy_rpc_types_eth::AccountInfo {
                balance: account.balance,
                nonce: account.nonce,
                code: code_of(state, account)?,
            })
        })
    });
    method(module, "eth_getStorageAt", |api, args| {
        let address: Address = args.required(0, "address")?;
        let slot: U256 = args.required(1, "storage slot")?;
        api.with_state(args.optional(2, "block")?, |state, _| {
            Ok(B256::from(state.storage_ref(address, slot)?))
        })
    });

    method(module, "eth_getBlockByNumber", |api, args| {
        let tag: BlockNumberOrTag = args.required(0, "block number")?;
        let full = args.optional(1, "full transactions")?.unwrap_or(false);
        let reader = api.reader()?;
        match api.block_number(&reader, BlockId::Number(tag))? {
            Some(number) => api.block(&reader, number, full),
            None => Ok(None),
        }
    });
    method(module, "eth_getBlockByHash", |api, args| {
        let hash: B256 = args.required(0, "block hash")?;
        let full = args.optional(1, "full transactions")?.unwrap_or(false);
        let reader = api.reader()?;
        match reader.block_number(hash)? {
            Some(number) => api.block(&reader, number, full),
            None => Ok(None),
        }
    });
    method(
        module,
        "eth_getBlockTransactionCountByNumber",
        |api, args| {
            let tag: BlockNumberOrTag = args.required(0, "block number")?;
            let reader = api.reader()?;
            let Some(number) = api.block_number(&reader, BlockId::Number(tag))? else {
                return Ok(None);
            };
            Ok(reader.body(number)?.map(|body| U64::from(body.len())))
        },
    );
    method(module, "eth_getBlockTransactionCountByHash", |api, args| {
        let hash: B256 = args.required(0, "block hash")?;
        let reader = api.reader()?;
        let Some(number) = reader.block_number(hash)? else {
            return Ok(None);
        };
        Ok(reader.body(number)?.map(|body| U64::from(body.len())))
    });
    // L2 blocks have no uncles: 0 for a block that exists (null otherwise), and no uncle at any
    // index, as geth answers for a post-merge block.
    method(module, "eth_getUncleCountByBlockNumber", |api, args| {
        let tag: BlockNumberOrTag = args.required(0, "block number")?;
        let reader = api.reader()?;
        Ok(api
            .block_number(&reader, BlockId::Number(tag))?
            .map(|_| U64::ZERO))
    });
    method(module, "eth_getUncleCountByBlockHash", |api, args| {
        let hash: B256 = args.required(0, "block hash")?;
        Ok(api.reader()?.block_number(hash)?.map(|_| U64::ZERO))
    });
    for name in [
        "eth_getUncleByBlockNumberAndIndex",
        "eth_getUncleByBlockHashAndIndex",
    ] {
        inline_method(module, name, |_, args| {
            let _: serde_json::Value = args.required(0, "block")?;
            let _: U64 = args.required(1, "uncle index")?;
            Ok(None::<()>)
        });
    }
    // Heavy: a block of log-heavy transactions answers megabytes (an outsider's 31
    // transactions with 12 400 logs, 8 MB), and a hundred such calls at once on blocking
    // threads took the node past 2 GB and stopped its blocks for seconds.
    heavy_method(module, "eth_getBlockReceipts", |api, args| {
        let id: BlockId = args.required(0, "block")?;
        let reader = api.reader()?;
        match api.block_number(&reader, id)? {
            Some(number) => api.block_receipts(&reader, number),
            None => Ok(None),
        }
    });

    method(module, "eth_getTransactionByHash", |api, args| {
        let hash: B256 = args.required(0, "transaction hash")?;
        let reader = api.reader()?;
        let Some(stored) = reader.transaction(hash)? else {
            // Not in a block yet: the sequencer's pool answers with no block fields, as geth
            // does, so wallets can follow (and replace) what they sent.
            return Ok(api
                .ctx
                .pool
                .as_ref()
                .and_then(|pool| pool.get(&hash))
                .and_then(crate::pubsub::pending_transaction)
                .map(|tx| FoundTransaction::Pooled(Box::new(tx))));
        };
        let (at, nonce) = stored_location(&reader, &stored)?;
        Ok(Some(FoundTransaction::Included(RpcTransaction::new(
            &stored.transaction,
            at,
            nonce,
        ))))
    });
    // geth's: the transaction's signed bytes as `eth_sendRawTransaction` took them (`cast tx
    // --raw`), from a block or the pool; null if the node knows no such transaction.
    method(module, "eth_getRawTransactionByHash", |api, args| {
        let hash: B256 = args.required(0, "transaction hash")?;
        let reader = api.reader()?;
        let transaction = match reader.transaction(hash)? {
            Some(stored) => Some(stored.transaction),
            None => api.ctx.pool.as_ref().and_then(|pool| pool.get(&hash)),
        };
        Ok(transaction.map(|tx| Bytes::from(tx.encoded_2718())))
    });
    method(
        module,
        "eth_getTransactionByBlockNumberAndIndex",
        |api, args| {
            let tag: BlockNumberOrTag = args.required(0, "block number")?;
            let index: U64 = args.required(1, "transaction index")?;
            let reader = api.reader()?;
            let number = api.block_number(&reader, BlockId::Number(tag))?;
            api.transaction_in_block(&reader, number, index)
        },
    );
    method(
        module,
        "eth_getTransactionByBlockHashAndIndex",
        |api, args| {
            let hash: B256 = args.required(0, "block hash")?;
            let index: U64 = args.required(1, "transaction index")?;
            let reader = api.reader()?;
            let number = reader.block_number(hash)?;
            api.transaction_in_block(&reader, number, index)
        },
    );
    method(module, "eth_getTransactionReceipt", |api, args| {
        let hash: B256 = args.required(0, "transaction hash")?;
        let reader = api.reader()?;
        let Some(stored) = reader.transaction(hash)? else {
            return Ok(None);
        };
        let (at, nonce) = stored_location(&reader, &stored)?;
        Ok(Some(build_receipt(
            &stored.transaction,
            &stored.receipt,
            stored.gas_used,
            stored.first_log_index,
            at,
            nonce,
        )))
    });

    heavy_method(module, "eth_call", |api, args| {
        let request: TransactionRequest = args.required(0, "call")?;
        let overrides = call_overrides(&args)?;
        api.call(request, args.optional(1, "block")?, overrides.as_ref())
    });
    heavy_method(module, "eth_createAccessList", |api, args| {
        let request: TransactionRequest = args.required(0, "call")?;
        let overrides = call_overrides(&args)?;
        api.create_access_list(request, args.optional(1, "block")?, overrides.as_ref())
    });
    heavy_method(module, "eth_estimateGas", |api, args| {
        let request: TransactionRequest = args.required(0, "call")?;
        let overrides = call_overrides(&args)?;
        api.estimate_gas(request, args.optional(1, "block")?, overrides.as_ref())
    });
    heavy_method(module, "eth_fillTransaction", |api, args| {
        let request: TransactionRequest = args.required(0, "transaction")?;
        api.fill_transaction(request)
    });
    heavy_method(module, "eth_getLogs", |api, args| {
        let filter = args.filter(0)?;
        check_filter_criteria(&filter)?;
        api.logs(&filter)
    });
}

/// The overrides of `eth_call`, `eth_estimateGas` and `eth_createAccessList`: state overrides
/// (argument 2) and block overrides (argument 3), see [`CallOverrides`]. A block override named
/// `withdrawals` is refused as geth refuses it: it applies to `eth_simulateV1` only, and taking
/// it silently would run the call in a block other than the one asked for.
fn call_overrides(args: &Args) -> Result<Option<CallOverrides>> {
    let state = args.optional(2, "state overrides")?;
    let block = args.optional::<serde_json::Value>(3, "block overrides")?;
    if block
        .as_ref()
        .is_some_and(|block| block.get("withdrawals").is_some())
    {
        return Err(RpcError::InvalidParams(
            "block override 'withdrawals' is not supported for this RPC method".into(),
        ));
    }
    let block = block
        .map(serde_json::from_value)
        .transpose()
        .map_err(|err| RpcError::InvalidParams(format!("invalid block overrides: {err}")))?;
    if state.is_none() && block.is_none() {
        return Ok(None);
    }
    CallOverrides::new(state, block).map(Some)
}

/// Most addresses one log filter may name, and most values one topic position may list
/// (geth's limits). Each is checked against every log of every block the filter scans, and an
/// installed filter or subscription keeps them for as long as it lives.
pub(crate) const MAX_FILTER_CRITERIA: usize = 1_000;

/// A log filter from JSON, with an error that names the address or topic that is wrong:
/// serde's own, for their several accepted forms, says only that the data "did not match any
/// variant of untagged enum".
pub(crate) fn parse_filter(value: &serde_json::Value) -> std::result::Result<Filter, String> {
    use serde_json::Value;
    /// At most this much of a bad value is quoted back.
    const QUOTED: usize = 80;
    let quote = |value: &Value| {
        let text = value.to_string();
        match text.char_indices().nth(QUOTED) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    };
    let is_hex = |value: &Value, bytes: usize| {
        value.as_str().is_some_and(|text| {
            text.len() == 2 + 2 * bytes
                && text.starts_with("0x")
                && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    /// One value, a list of them, or null (none).
    fn items(value: &Value) -> &[Value] {
        match value {
            Value::Null => &[],
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }
    let Value::Object(fields) = value else {
        return Err(format!("a filter is an object, not {}", quote(value)));
    };
    if let Some(bad) = fields
        .get("address")
        .map(items)
        .unwrap_or_default()
        .iter()
        .find(|address| !is_hex(address, 20))
    {
        return Err(format!(
            "invalid address {}: an address is 20 bytes of 0x-prefixed hex",
            quote(bad)
        ));
    }
    match fields.get("topics") {
        None | Some(Value::Null) => {}
        Some(Value::Array(positions)) => {
            for (position, topic) in positions.iter().enumerate() {
                if let Some(bad) = items(topic)
                    .iter()
                    .find(|value| !value.is_null() && !is_hex(value, 32))
                {
                    return Err(format!(
                        "invalid topic {position} value {}: a topic is 32 bytes of 0x-prefixed \
                         hex, null, or a list of them",
                        quote(bad)
                    ));
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "invalid topics {}: a list with one entry per topic position",
                quote(other)
            ));
        }
    }
    serde_json::from_value(value.clone()).map_err(|err| err.to_string())
}

/// Refuses a log filter (`eth_getLogs`, `eth_newFilter`, a `logs` subscription) with more
/// addresses or topic values than [`MAX_FILTER_CRITERIA`].
pub(crate) fn check_filter_criteria(filter: &Filter) -> Result<()> {
    if filter.address.len() > MAX_FILTER_CRITERIA {
        return Err(RpcError::InvalidParams(format!(
            "exceed max addresses: the filter names {}, at most {MAX_FILTER_CRITERIA}",
            filter.address.len()
        )));
    }
    if let Some((position, topic)) = filter
        .topics
        .iter()
        .enumerate()
        .find(|(_, topic)| topic.len() > MAX_FILTER_CRITERIA)
    {
        return Err(RpcError::InvalidParams(format!(
            "exceed max sub topics: topic {position} lists {} values, at most {MAX_FILTER_CRITERIA}",
            topic.len()
        )));
    }
    Ok(())
}

/// Shares `api` as the module context.
pub(crate) fn module(api: EthApi) -> RpcModule<EthApi> {
    RpcModule::from_arc(Arc::new(api))
}
