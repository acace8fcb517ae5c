//! The `debug_trace*` handlers: geth's call tracer, struct logger, 4byte and noop tracers over a
//! re-execution, built with revm-inspectors (reth's tracers).
//!
//! A stored transaction is traced by replaying its block from the parent's state
//! ([`rollup_execution::replay_block`]): the transactions before it run first, deposits with
//! their mint and without fees, exactly as the block was built. `debug_traceCall` runs the call
//! as `eth_call` does. All are heavy requests: they wait for a heavy slot, run within the EVM
//! timeout, and their trace data is capped at [`MAX_TRACE_BYTES`].

use std::{cell::Cell, collections::HashSet, time::Duration};

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, TxKind, U256, map::HashMap};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_trace::geth::{
    CallConfig, CallFrame, DefaultFrame, FourByteFrame, GethDebugBuiltInTracerType,
    GethDebugTracerType, GethDebugTracingCallOptions, GethDebugTracingOptions,
    GethDefaultTracingOptions, GethTrace, NoopFrame, TraceResult,
};
use jsonrpsee::RpcModule;
use revm_inspectors::tracing::{FourByteInspector, TracingInspector, TracingInspectorConfig};
use rollup_execution::{
    inspect_call, replay_block,
    revm::{
        Inspector,
        bytecode::opcode,
        context::{either::Either, result::ExecutionResult},
        interpreter::{
            CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter,
            interpreter_types::{InputsTr, Jumps, MemoryTr, ReturnData},
        },
        primitives::Log,
    },
};
use rollup_primitives::L2Transaction;

use crate::{
    Result, RpcError,
    eth::{CallLimits, EthApi, heavy_method},
};

/// Most trace data one `debug_trace*` request may produce, estimated as the JSON it becomes:
/// 32 MiB. geth has no such limit; reth bounds only the response (160 MiB). A struct-log trace
/// with memory can grow by the memory size at every step, so without a cap a short transaction
/// could make the node build gigabytes. A request that reaches it is stopped and answered
/// [`RpcError::TraceTooLarge`].
pub const MAX_TRACE_BYTES: u64 = 32 << 20;

/// Registers `debug_traceTransaction`, `debug_traceCall`, `debug_traceBlockByNumber` and
/// `debug_traceBlockByHash`.
pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    heavy_method(module, "debug_traceTransaction", |api, args| {
        let hash: B256 = args.required(0, "transaction hash")?;
        let options: GethDebugTracingOptions =
            args.optional(1, "tracing options")?.unwrap_or_default();
        api.trace_transaction(hash, &options)
    });
    heavy_method(module, "debug_traceCall", |api, args| {
        let request: TransactionRequest = args.required(0, "call")?;
        let block: Option<BlockId> = args.optional(1, "block")?;
        let options: GethDebugTracingCallOptions =
            args.optional(2, "tracing options")?.unwrap_or_default();
        api.trace_call(request, block, options)
    });
    heavy_method(module, "debug_traceBlockByNumber", |api, args| {
        let tag: BlockNumberOrTag = args.required(0, "block number")?;
        let options: GethDebugTracingOptions =
            args.optional(1, "tracing options")?.unwrap_or_default();
        api.trace_block(BlockId::Number(tag), &options)
    });
    heavy_method(module, "debug_traceBlockByHash", |api, args| {
        let hash: B256 = args.required(0, "block hash")?;
        let options: GethDebugTracingOptions =
            args.optional(1, "tracing options")?.unwrap_or_default();
        api.trace_block(BlockId::from(hash), &options)
    });
}

/// The tracer a request asks for.
#[derive(Debug, Clone)]
enum Tracer {
    /// No `tracer`: geth's struct logger (opcode by opcode).
    StructLog(GethDefaultTracingOptions),
    /// `callTracer`: the tree of call frames.
    Call(CallConfig),
    /// `4byteTracer`: selectors called, with their calldata sizes.
    FourByte,
    /// `noopTracer`: `{}`.
    Noop,
}

impl Tracer {
    fn from_options(options: &GethDebugTracingOptions) -> Result<Self> {
        let Some(tracer) = &options.tracer else {
            return Ok(Self::StructLog(options.config));
        };
        match tracer {
            GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::CallTracer) => {
                let config = options
                    .tracer_config
                    .clone()
                    .into_call_config()
                    .map_err(|err| {
                        RpcError::InvalidParams(format!("invalid callTracer tracerConfig: {err}"))
                    })?;
                Ok(Self::Call(config))
            }
            GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::FourByteTracer) => {
                Ok(Self::FourByte)
            }
            GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::NoopTracer) => {
                Ok(Self::Noop)
            }
            other => Err(RpcError::InvalidParams(format!(
                "tracer {:?} is not supported: this node serves callTracer, 4byteTracer, \
                 noopTracer and the struct logger (no tracer)",
                short(other.as_str())
            ))),
        }
    }

    /// A fresh inspector for one transaction. The noop tracer runs the 4byte inspector, whose
    /// record is small, and drops it.
    fn inspector(&self) -> Either<TracingInspector, FourByteInspector> {
        match self {
            Self::StructLog(options) => Either::Left(TracingInspector::new(
                TracingInspectorConfig::from_geth_config(options),
            )),
            Self::Call(config) => Either::Left(TracingInspector::new(
                TracingInspectorConfig::from_geth_call_config(config),
            )),
            Self::FourByte | Self::Noop => Either::Right(FourByteInspector::default()),
        }
    }

    /// What the [`TraceBudget`] counts for this tracer.
    fn cost(&self) -> TraceCost {
        match self {
            Self::StructLog(options) => TraceCost {
                steps: Some(StepCost {
                    stack: options.is_stack_enabled(),
                    memory: options.is_memory_enabled(),
                    storage: options.is_storage_enabled(),
                    return_data: options.is_return_data_enabled(),
                }),
                frames: true,
                logs: false,
            },
            Self::Call(config) => TraceCost {
                steps: None,
                frames: true,
                logs: config.with_log.unwrap_or_default(),
            },
            Self::FourByte | Self::Noop => TraceCost::default(),
        }
    }

    /// The trace of one transaction (or call) from its inspector.
    fn finish(
        &self,
        inspector: Either<TracingInspector, FourByteInspector>,
        run: &TracedRun<'_>,
    ) -> GethTrace {
        let (result, gas_limit) = match run {
            TracedRun::Executed { result, gas_limit } => (result, *gas_limit),
            TracedRun::Rejected { tx, reason } => return self.rejected(tx, reason),
        };
        match (self, inspector) {
            (Self::StructLog(options), Either::Left(inspector)) => {
                let mut frame = inspector
                    .with_transaction_gas_limit(gas_limit)
                    .into_geth_builder()
                    .geth_traces(
                        result.tx_gas_used(),
                        result.output().cloned().unwrap_or_default(),
                        *options,
                    );
                // geth's `limit`: at most this many struct logs (0: no limit).
                if let Some(limit) = options.limit.filter(|limit| *limit > 0) {
                    frame
                        .struct_logs
                        .truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                }
                frame.into()
            }
            (Self::Call(config), Either::Left(inspector)) => inspector
                .with_transaction_gas_limit(gas_limit)
                .into_geth_builder()
                .geth_call_traces(*config, result.tx_gas_used())
                .into(),
            (Self::FourByte, Either::Right(inspector)) => FourByteFrame::from(&inspector).into(),
            _ => NoopFrame::default().into(),
        }
    }

    /// The trace of a deposit refused before execution (gas limit below its intrinsic gas): no
    /// frame ran, it used no gas and failed, as its receipt says.
    fn rejected(&self, tx: &L2Transaction, reason: &str) -> GethTrace {
        match self {
            Self::StructLog(_) => DefaultFrame {
                failed: true,
                ..Default::default()
            }
            .into(),
            Self::Call(_) => CallFrame {
                from: tx.sender(),
                gas: U256::from(tx.gas_limit()),
                gas_used: U256::ZERO,
                to: match tx.kind() {
                    TxKind::Call(to) => Some(to),
                    TxKind::Create => None,
                },
                input: tx.input().clone(),
                error: Some(reason.to_string()),
                value: Some(tx.value()),
                typ: "CALL".into(),
                ..Default::default()
            }
            .into(),
            Self::FourByte => FourByteFrame::default().into(),
            Self::Noop => NoopFrame::default().into(),
        }
    }
}

/// How a traced transaction or call ended.
enum TracedRun<'a> {
    Executed {
        result: ExecutionResult,
        gas_limit: u64,
    },
    /// A deposit refused before execution.
    Rejected {
        tx: &'a L2Transaction,
        reason: String,
    },
}

/// A tracer name for an error message: JavaScript tracers are code, so only their start.
fn short(name: &str) -> String {
    const MAX: usize = 40;
    match name.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_string(),
    }
}

/// geth's `timeout` option ("500ms", "10s", "1m"): a trace may ask for less time than the node
/// allows, never more.
fn requested_timeout(options: &GethDebugTracingOptions) -> Result<Option<Duration>> {
    let Some(text) = options.timeout.as_deref() else {
        return Ok(None);
    };
    let invalid = || {
        RpcError::InvalidParams(format!(
            "invalid timeout {text:?}: expected a duration such as \"500ms\", \"10s\" or \"1m\""
        ))
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(invalid)?;
    let (amount, unit) = text.split_at(split);
    let amount: f64 = amount.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "ns" => amount / 1e9,
        "us" | "µs" => amount / 1e6,
        "ms" => amount / 1e3,
        "s" => amount,
        "m" => amount * 60.0,
        "h" => amount * 3600.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| invalid())
}

impl EthApi {
    /// The limits of one trace: the node's EVM timeout, or less if the request asks for less.
    fn trace_limits(&self, options: &GethDebugTracingOptions) -> Result<CallLimits> {
        let mut limits = self.call_limits();
        if let Some(requested) = requested_timeout(options)?
            && requested < limits.timeout
        {
            limits.deadline -= limits.timeout - requested;
            limits.timeout = requested;
        }
        Ok(limits)
    }

    /// `debug_traceTransaction`.
    fn trace_transaction(
        &self,
        hash: B256,
        options: &GethDebugTracingOptions,
    ) -> Result<GethTrace> {
        let tracer = Tracer::from_options(options)?;
        let limits = self.trace_limits(options)?;
        let reader = self.reader()?;
        let stored = reader
            .transaction(hash)?
            .ok_or(RpcError::TransactionNotFound(hash))?;
        let index = stored.index as usize;
        let mut traces =
            self.trace_stored_block(&reader, stored.block_number, Some(index), &tracer, &limits)?;
        traces
            .pop()
            .map(|(_, trace)| trace)
            .ok_or_else(|| RpcError::Internal(format!("transaction {hash} was not replayed")))
    }

    /// `debug_traceBlockByNumber` and `debug_traceBlockByHash`: every transaction, in order.
    fn trace_block(
        &self,
        id: BlockId,
        options: &GethDebugTracingOptions,
    ) -> Result<Vec<TraceResult>> {
        let tracer = Tracer::from_options(options)?;
        let limits = self.trace_limits(options)?;
        let reader = self.reader()?;
        let number = self.existing_block_number(&reader, id)?;
        Ok(self
            .trace_stored_block(&reader, number, None, &tracer, &limits)?
            .into_iter()
            .map(|(hash, result)| TraceResult::Success {
                result,
                tx_hash: Some(hash),
            })
            .collect())
    }

    /// Replays stored block `number` up to transaction `only` (all of it if `None`) and traces
    /// that one (or every one). Returns the traces with their transaction hashes.
    fn trace_stored_block(
        &self,
        reader: &rollup_storage::StoreReader,
        number: u64,
        only: Option<usize>,
        tracer: &Tracer,
        limits: &CallLimits,
    ) -> Result<Vec<(B256, GethTrace)>> {
        let missing = || RpcError::UnknownBlock(format!("block {number}"));
        let header = reader.header(number)?.ok_or_else(missing)?;
        let body = reader.body(number)?.ok_or_else(missing)?;
        let Some(parent) = number.checked_sub(1) else {
            // Genesis has no transactions.
            return Ok(Vec::new());
        };
        let transactions = match only {
            Some(index) => body.get(..=index).ok_or_else(|| {
                RpcError::Internal(format!("block {number} has no transaction {index}"))
            })?,
            None => &body[..],
        };
        let parent_state = reader.state_at(parent)?;
        let used = Cell::new(0);
        let cost = tracer.cost();
        let replayed = replay_block(
            &parent_state,
            &header,
            self.ctx.config.l2_chain_id,
            transactions,
            Some(limits.deadline),
            |index, _| {
                only.is_none_or(|only| only == index)
                    .then(|| (TraceBudget::new(&used, cost), tracer.inspector()))
            },
        )
        .map_err(|err| crate::eth::call_error(err, limits))?;
        if used.get() > MAX_TRACE_BYTES {
            return Err(RpcError::TraceTooLarge(MAX_TRACE_BYTES));
        }
        Ok(replayed
            .into_iter()
            .map(|replayed| {
                let tx = &transactions[replayed.index];
                let run = match replayed.result {
                    Ok(result) => TracedRun::Executed {
                        result,
                        gas_limit: tx.gas_limit(),
                    },
                    Err(reason) => TracedRun::Rejected { tx, reason },
                };
                (tx.hash(), tracer.finish(replayed.inspector.1, &run))
            })
            .collect())
    }

    /// `debug_traceCall`: the call as `eth_call` runs it (same gas cap, same state and block
    /// overrides), traced.
    fn trace_call(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
        options: GethDebugTracingCallOptions,
    ) -> Result<GethTrace> {
        let overrides = match (options.state_overrides, options.block_overrides) {
            (None, None) => None,
            (state, block) => Some(crate::overrides::CallOverrides::new(state, block)?),
        };
        if options.tx_index.is_some() {
            return Err(RpcError::InvalidParams(
                "txIndex is not supported: debug_traceCall runs on the state after the block"
                    .into(),
            ));
        }
        let options = options.tracing_options;
        let tracer = Tracer::from_options(&options)?;
        let limits = self.trace_limits(&options)?;
        let (mut call, requested_gas) = self.capped_call(request)?;
        let chain_id = self.ctx.config.l2_chain_id;
        self.with_state(block, |state, header| {
            let (header, state) =
                crate::overrides::apply(overrides.as_ref(), state, header, &mut call);
            let header = &header;
            crate::eth::fit_gas_to_balance(&state, header, &mut call, requested_gas)?;
            let gas_limit = call.gas.unwrap_or(header.gas_limit);
            let used = Cell::new(0);
            let inspector = (TraceBudget::new(&used, tracer.cost()), tracer.inspector());
            let (result, (_, inspector)) = inspect_call(
                state,
                header,
                chain_id,
                call,
                Some(limits.deadline),
                inspector,
            )
            .map_err(|err| crate::eth::call_error(err, &limits))?;
            if used.get() > MAX_TRACE_BYTES {
                return Err(RpcError::TraceTooLarge(MAX_TRACE_BYTES));
            }
            Ok(tracer.finish(inspector, &TracedRun::Executed { result, gas_limit }))
        })
    }
}

/// Estimated JSON bytes of one struct log without stack, memory or storage:
/// `{"pc":…,"op":"…","gas":…,"gasCost":…,"depth":…,"refund":…},`.
const STEP_BYTES: u64 = 120;
/// One stack item in a struct log: a quoted 0x-hex word.
const STACK_ITEM_BYTES: u64 = 70;
/// One storage entry in a struct log: two quoted 64-digit hex words.
const STORAGE_ENTRY_BYTES: u64 = 140;
/// One call frame without its input and output.
const FRAME_BYTES: u64 = 300;
/// One log in a call frame without its data.
const LOG_BYTES: u64 = 250;
/// One topic of a log.
const TOPIC_BYTES: u64 = 70;

/// What a tracer records, for [`TraceBudget`].
#[derive(Debug, Clone, Copy, Default)]
struct TraceCost {
    /// Struct logs, with what each holds.
    steps: Option<StepCost>,
    /// Call frames, with their input and output.
    frames: bool,
    /// Logs in call frames.
    logs: bool,
}

#[derive(Debug, Clone, Copy)]
struct StepCost {
    stack: bool,
    memory: bool,
    storage: bool,
    return_data: bool,
}

/// Counts the trace data a tracer records, estimated as the JSON it becomes, into a counter
/// shared by every transaction of a request; once past [`MAX_TRACE_BYTES`] it halts every
/// instruction, so the execution unwinds at once (as the deadline does) and the request is
/// answered [`RpcError::TraceTooLarge`].
///
/// It runs before the tracer in the same instruction hooks, so it sees what the tracer is
/// about to copy: the stack, the memory, the return data, and for `SLOAD`/`SSTORE` the
/// contract's storage seen so far (geth repeats it at each of them).
#[derive(Debug)]
struct TraceBudget<'a> {
    used: &'a Cell<u64>,
    cost: TraceCost,
    /// Storage slots touched per contract in this transaction, as the struct logger shows them.
    slots: HashMap<Address, HashSet<U256>>,
}

impl<'a> TraceBudget<'a> {
    fn new(used: &'a Cell<u64>, cost: TraceCost) -> Self {
        Self {
            used,
            cost,
            slots: HashMap::default(),
        }
    }

    fn add(&self, bytes: u64) {
        self.used.set(self.used.get().saturating_add(bytes));
    }

    fn exceeded(&self) -> bool {
        self.used.get() > MAX_TRACE_BYTES
    }

    fn add_frame(&self, input_len: usize) {
        if self.cost.frames {
            self.add(FRAME_BYTES + 2 * input_len as u64);
        }
    }

    fn add_output(&self, output_len: usize) {
        if self.cost.frames {
            self.add(2 * output_len as u64);
        }
    }
}

impl<CTX> Inspector<CTX> for TraceBudget<'_> {
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        if self.exceeded() {
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        let Some(steps) = self.cost.steps else {
            return;
        };
        let mut bytes = STEP_BYTES;
        if steps.stack {
            bytes += interp.stack.len() as u64 * STACK_ITEM_BYTES;
        }
        if steps.memory {
            // A quoted 0x-hex word and a comma per 32 bytes.
            bytes += interp.memory.size() as u64 * 70 / 32;
        }
        if steps.return_data {
            bytes += 2 * interp.return_data.buffer().len() as u64;
        }
        if steps.storage
            && matches!(interp.bytecode.opcode(), opcode::SLOAD | opcode::SSTORE)
            && let Some(key) = interp.stack.data().last()
        {
            let slots = self.slots.entry(interp.input.target_address()).or_default();
            slots.insert(*key);
            bytes += slots.len() as u64 * STORAGE_ENTRY_BYTES;
        }
        self.add(bytes);
    }

    fn log(&mut self, _context: &mut CTX, log: Log) {
        if self.cost.logs {
            self.add(
                LOG_BYTES
                    + 2 * log.data.data.len() as u64
                    + TOPIC_BYTES * log.topics().len() as u64,
            );
        }
    }

    fn call(&mut self, _context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.add_frame(inputs.input.len());
        None
    }

    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.add_output(outcome.result.output.len());
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.add_frame(inputs.init_code().len());
        None
    }

    fn create_end(
        &mut self,
        _context: &mut CTX,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        self.add_output(outcome.result.output.len());
    }
}

#[cfg(test)]
mod tests {
    use alloy_consensus::Header;
    use alloy_primitives::Bytes;
    use rollup_execution::{
        CallRequest,
        revm::{
            bytecode::Bytecode,
            database::{CacheDB, EmptyDB},
            state::AccountInfo,
        },
    };

    use super::*;

    const CONTRACT: Address = Address::repeat_byte(0xc0);
    const CALLEE: Address = Address::repeat_byte(0xc1);

    /// Stores `i` in slot `i` and memory word `i` for `i` in `0..64`, so the storage shown at
    /// each `SSTORE` and the memory at each step keep growing; then calls [`CALLEE`] with 64
    /// bytes and copies its return data.
    fn growing_code() -> Bytes {
        let mut code = vec![
            0x60, 0x00, // PUSH1 0 (i)
            0x5b, // JUMPDEST
            0x80, 0x80, 0x55, // SSTORE(i, i)
            0x80, 0x80, 0x52, // MSTORE(i, i)
            0x60, 0x01, 0x01, // i + 1
            0x80, 0x60, 0x40, 0x11, // 64 > i + 1
            0x60, 0x02, 0x57, // JUMPI back
            // CALL(gas, CALLEE, 0, 0, 64, 0, 0); POP; RETURNDATACOPY(0, 0, RETURNDATASIZE)
            0x60, 0x00, 0x60, 0x00, 0x60, 0x40, 0x60, 0x00, 0x60, 0x00, 0x73,
        ];
        code.extend_from_slice(CALLEE.as_slice());
        code.extend_from_slice(&[0x5a, 0xf1, 0x50, 0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e, 0x00]);
        code.into()
    }

    /// Logs its calldata under one topic and returns it.
    fn callee_code() -> Bytes {
        Bytes::from_static(&[
            0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // CALLDATACOPY(0, 0, CALLDATASIZE)
            0x60, 0x07, 0x36, 0x60, 0x00, 0xa1, // LOG1(0, CALLDATASIZE, 7)
            0x36, 0x60, 0x00, 0xf3, // RETURN(0, CALLDATASIZE)
        ])
    }

    fn state() -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::new());
        for (address, code) in [(CONTRACT, growing_code()), (CALLEE, callee_code())] {
            let code = Bytecode::new_raw(code);
            db.insert_account_info(
                address,
                AccountInfo {
                    code_hash: code.hash_slow(),
                    code: Some(code),
                    ..Default::default()
                },
            );
        }
        db
    }

    /// What the budget counted for a trace of [`growing_code`], and the JSON it became.
    fn counted_and_json(tracer: &Tracer) -> (u64, usize) {
        let header = Header {
            gas_limit: 30_000_000,
            ..Default::default()
        };
        let call = CallRequest {
            to: Some(CONTRACT),
            gas: Some(5_000_000),
            ..Default::default()
        };
        let used = Cell::new(0);
        let inspector = (TraceBudget::new(&used, tracer.cost()), tracer.inspector());
        let (result, (_, inspector)) =
            inspect_call(state(), &header, 1, call, None, inspector).unwrap();
        assert!(result.is_success(), "{result:?}");
        let trace = tracer.finish(
            inspector,
            &TracedRun::Executed {
                result,
                gas_limit: 5_000_000,
            },
        );
        (used.get(), serde_json::to_string(&trace).unwrap().len())
    }

    #[test]
    fn the_budget_never_counts_less_than_the_json_it_becomes() {
        let everything = GethDefaultTracingOptions::default()
            .enable_memory()
            .enable_return_data();
        let tracers = [
            Tracer::StructLog(everything),
            Tracer::StructLog(GethDefaultTracingOptions::default()),
            Tracer::StructLog(everything.disable_stack().disable_storage()),
            Tracer::Call(CallConfig::default().with_log()),
            Tracer::Call(CallConfig::default()),
        ];
        for tracer in tracers {
            let (counted, json) = counted_and_json(&tracer);
            assert!(
                counted >= json as u64,
                "{tracer:?}: counted {counted} bytes for {json} bytes of JSON"
            );
            // Close enough that the limit means what it says.
            assert!(
                counted <= 4 * json as u64,
                "{tracer:?}: counted {counted} bytes for {json} bytes of JSON"
            );
        }
    }

    #[test]
    fn tracer_names_and_timeouts_parse_as_geth_sends_them() {
        let options = |json: serde_json::Value| -> GethDebugTracingOptions {
            serde_json::from_value(json).unwrap()
        };
        assert!(matches!(
            Tracer::from_options(&options(serde_json::json!({}))),
            Ok(Tracer::StructLog(_))
        ));
        let call = Tracer::from_options(&options(serde_json::json!({
            "tracer": "callTracer", "tracerConfig": {"onlyTopCall": true, "withLog": true}
        })));
        assert!(
            matches!(
                call,
                Ok(Tracer::Call(CallConfig {
                    only_top_call: Some(true),
                    with_log: Some(true)
                }))
            ),
            "{call:?}"
        );
        let js = "{ step: function() {}, result: function() { return 1; }, fault: function() {} }";
        let err = Tracer::from_options(&options(serde_json::json!({"tracer": js}))).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        assert!(err.to_string().len() < 200, "the code is cut short: {err}");

        let timeout =
            |text: &str| requested_timeout(&options(serde_json::json!({ "timeout": text })));
        assert_eq!(timeout("500ms").unwrap(), Some(Duration::from_millis(500)));
        assert_eq!(timeout("10s").unwrap(), Some(Duration::from_secs(10)));
        assert_eq!(timeout("1.5m").unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(timeout("1ns").unwrap(), Some(Duration::from_nanos(1)));
        for bad in ["", "10", "s", "ten seconds", "-1s"] {
            assert!(timeout(bad).is_err(), "{bad:?}");
        }
    }
}
