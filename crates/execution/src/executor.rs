//! Block execution with revm.

use std::time::Instant;

use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, Transaction as _, TxEnvelope};
use alloy_eips::{eip2930::AccessList, eip7702::RecoveredAuthorization};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, map::HashMap};
use revm::{
    Context, Database, DatabaseCommit, DatabaseRef, ExecuteCommitEvm, InspectEvm, Inspector,
    MainBuilder, MainContext,
    context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
    context_interface::ContextTr,
    context_interface::block::BlobExcessGasAndPrice,
    database::{BundleState, State, WrapDatabaseRef, states::bundle_state::BundleRetention},
    handler::MainnetContext,
    inspector::NoOpInspector,
    interpreter::{InstructionResult, Interpreter},
    primitives::hardfork::SpecId,
    state::Account,
};
use rollup_primitives::{L1Origin, L2Block, L2Receipt, L2Transaction, TxDeposit, encode_l1_origin};
use tracing::debug;

use crate::{ExecutionError, Result};

/// The EVM rules of L2 blocks.
pub const SPEC_ID: SpecId = SpecId::PRAGUE;

/// What a block is built from.
#[derive(Debug, Clone)]
pub struct BlockInput {
    /// Parent header.
    pub parent: Header,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp of the new block.
    pub timestamp: u64,
    /// L1 origin.
    pub l1_origin: L1Origin,
    /// `prevrandao` (the L1 origin's).
    pub prevrandao: B256,
    /// Fee recipient.
    pub beneficiary: Address,
    /// Block gas limit.
    pub gas_limit: u64,
    /// L2 chain id.
    pub chain_id: u64,
    /// Transactions: deposits first.
    pub transactions: Vec<L2Transaction>,
}

/// An executed, sealed block with everything the database needs.
#[derive(Debug)]
pub struct ExecutedBlock {
    /// The block. `header.state_root` is left for the caller, who owns the state commitment.
    pub block: L2Block,
    /// Receipts, one per transaction.
    pub receipts: Vec<L2Receipt>,
    /// State changes with reverts (one revert entry: this block).
    pub bundle: BundleState,
    /// Signed transactions left out because they no longer fit the block's gas (and, to keep
    /// nonces in order, every later transaction of the same sender). They are valid for a later
    /// block; every other left-out transaction was invalid.
    pub deferred: Vec<B256>,
}

fn block_env(
    number: u64,
    timestamp: u64,
    beneficiary: Address,
    gas_limit: u64,
    base_fee: u64,
    prevrandao: B256,
) -> BlockEnv {
    BlockEnv {
        number: U256::from(number),
        beneficiary,
        timestamp: U256::from(timestamp),
        gas_limit,
        basefee: base_fee,
        difficulty: U256::ZERO,
        prevrandao: Some(prevrandao),
        // L2 has no blobs; revm needs a blob fee under Cancun+ rules, so the minimum.
        blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new_with_spec(0, SPEC_ID)),
        ..Default::default()
    }
}

/// The blob base fee every L2 block has (`BLOBBASEFEE`): L2 carries no blobs, so no excess
/// blob gas ever builds up and the fee stays at its minimum.
pub fn blob_base_fee() -> u128 {
    BlobExcessGasAndPrice::new_with_spec(0, SPEC_ID).blob_gasprice
}

pub(crate) fn cfg_env(chain_id: u64) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(SPEC_ID);
    cfg.chain_id = chain_id;
    cfg
}

/// revm's transaction environment for a signed transaction from `sender`: what the block
/// executor runs (and what a benchmark of raw revm should run too).
pub fn signed_tx_env(envelope: &TxEnvelope, sender: Address) -> TxEnv {
    let authorization_list = envelope
        .authorization_list()
        .map(|list| {
            list.iter()
                .map(|auth| {
                    revm::context::either::Either::Right(RecoveredAuthorization::from(auth.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    TxEnv {
        tx_type: envelope.tx_type() as u8,
        caller: sender,
        gas_limit: envelope.gas_limit(),
        gas_price: envelope.max_fee_per_gas(),
        kind: envelope.kind(),
        value: envelope.value(),
        data: envelope.input().clone(),
        nonce: envelope.nonce(),
        chain_id: envelope.chain_id(),
        access_list: envelope.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: envelope.max_priority_fee_per_gas(),
        blob_hashes: envelope
            .blob_versioned_hashes()
            .map(<[B256]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: envelope.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list,
    }
}

/// revm's environment for a block transaction, and whether it is a deposit: what
/// [`execute_block`] runs and [`replay_block`] runs again.
pub(crate) fn block_tx_env(tx: &L2Transaction) -> (TxEnv, bool) {
    match tx {
        L2Transaction::Deposit(deposit) => (deposit_tx_env(deposit), true),
        L2Transaction::Signed { envelope, sender } => (signed_tx_env(envelope, *sender), false),
    }
}

/// The rules a block transaction runs under: a deposit pays no fee, has no nonce to check, is
/// not bound by the block gas limit and may come from an account with code (an aliased L1
/// contract).
pub(crate) const fn apply_tx_rules(cfg: &mut CfgEnv, is_deposit: bool) {
    cfg.disable_nonce_check = is_deposit;
    cfg.disable_base_fee = is_deposit;
    cfg.disable_block_gas_limit = is_deposit;
    cfg.disable_eip3607 = is_deposit;
}

fn deposit_tx_env(deposit: &TxDeposit) -> TxEnv {
    TxEnv {
        tx_type: 0,
        caller: deposit.from,
        gas_limit: deposit.gas_limit,
        gas_price: 0,
        kind: TxKind::Call(deposit.to),
        value: deposit.value,
        data: deposit.input.clone(),
        nonce: 0,
        chain_id: None,
        ..Default::default()
    }
}

/// Credits `amount` wei to `address` as a state transition of its own, so it survives a failed
/// call that follows.
pub(crate) fn mint<S: Database + DatabaseCommit>(
    db: &mut S,
    address: Address,
    amount: u128,
) -> Result<(), S::Error> {
    if amount == 0 {
        return Ok(());
    }
    let mut info = db.basic(address)?.unwrap_or_default();
    info.balance = info.balance.saturating_add(U256::from(amount));
    let mut account = Account::from(info);
    account.mark_touch();
    db.commit(HashMap::from_iter([(address, account)]));
    Ok(())
}

/// Executes a block on top of `db` (the parent's state).
///
/// Signed transactions that revm rejects as invalid (bad nonce, insufficient funds, …) are
/// dropped from the block; the sequencer validates before it gets here, and replicas apply the
/// same rule to batches.
pub fn execute_block<DB>(db: DB, input: BlockInput) -> Result<ExecutedBlock>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    let number = input.parent.number + 1;
    let db_error = |err: &dyn std::fmt::Display| ExecutionError::Database {
        block: number,
        message: err.to_string(),
    };
    let base_fee = input
        .parent
        .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
        .unwrap_or(input.parent.base_fee_per_gas.unwrap_or_default());

    let mut state = State::builder()
        .with_database_ref(db)
        .with_bundle_update()
        .build();
    let mut evm = Context::mainnet()
        .with_db(&mut state)
        .with_cfg(cfg_env(input.chain_id))
        .with_block(block_env(
            number,
            input.timestamp,
            input.beneficiary,
            input.gas_limit,
            base_fee,
            input.prevrandao,
        ))
        .build_mainnet();

    let mut receipts = Vec::with_capacity(input.transactions.len());
    let mut included = Vec::with_capacity(input.transactions.len());
    let mut cumulative_gas_used = 0u64;
    let mut deferred = Vec::new();
    let mut deferred_senders = std::collections::HashSet::new();
    for tx in input.transactions {
        if let L2Transaction::Deposit(deposit) = &tx {
            mint(evm.ctx.db_mut(), deposit.from, deposit.mint).map_err(|e| db_error(&e))?;
        }
        let (tx_env, is_deposit) = block_tx_env(&tx);
        evm.ctx.modify_cfg(|cfg| apply_tx_rules(cfg, is_deposit));
        // Whether a transaction is left out depends on it and the state alone, never on the
        // block's earlier transactions beyond what the trace state carries (its cumulative
        // gas), so that a one-step proof can decide it.
        if !is_deposit && cumulative_gas_used.saturating_add(tx.gas_limit()) > input.gas_limit {
            debug!(target: "rollup::execution", tx = %tx.hash(), "transaction does not fit the block's remaining gas; deferred");
            deferred_senders.insert(tx.sender());
            deferred.push(tx.hash());
            continue;
        }
        let (success, gas_used, logs) = match evm.transact_commit(tx_env) {
            Ok(result) => {
                let gas_used = result.tx_gas_used();
                let success = matches!(result, ExecutionResult::Success { .. });
                (success, gas_used, result.into_logs())
            }
            Err(revm::context::result::EVMError::Database(err)) => return Err(db_error(&err)),
            Err(err) if is_deposit => {
                // An invalid deposit (e.g. a gas limit below its intrinsic gas) still keeps its
                // mint and gets a failed receipt, so every replica records the same outcome.
                debug!(target: "rollup::execution", tx = %tx.hash(), %err, "deposit failed validation");
                (false, 0, Vec::new())
            }
            Err(err) if deferred_senders.contains(&tx.sender()) => {
                // Refused after a deferral of the same sender (its nonce is ahead now): valid
                // for a later block, so it goes back to the pool with the deferred one.
                debug!(target: "rollup::execution", tx = %tx.hash(), %err, "transaction after a deferred one of its sender; deferred");
                deferred.push(tx.hash());
                continue;
            }
            Err(err) => {
                debug!(target: "rollup::execution", tx = %tx.hash(), %err, "invalid transaction dropped");
                continue;
            }
        };
        cumulative_gas_used += gas_used;
        receipts.push(L2Receipt {
            tx_type: tx.tx_type(),
            success,
            cumulative_gas_used,
            logs,
        });
        included.push(tx);
    }
    drop(evm);
    state.merge_transitions(BundleRetention::Reverts);
    let bundle = state.take_bundle();

    let header = Header {
        parent_hash: input.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: input.beneficiary,
        state_root: B256::ZERO,
        transactions_root: L2Block::transactions_root(&included),
        receipts_root: L2Block::receipts_root(&receipts),
        logs_bloom: L2Block::logs_bloom(&receipts),
        difficulty: U256::ZERO,
        number,
        gas_limit: input.gas_limit,
        gas_used: cumulative_gas_used,
        timestamp: input.timestamp,
        extra_data: encode_l1_origin(input.l1_origin),
        mix_hash: input.prevrandao,
        nonce: Default::default(),
        base_fee_per_gas: Some(base_fee),
        ..Default::default()
    };
    Ok(ExecutedBlock {
        deferred,
        block: L2Block {
            header,
            transactions: included,
        },
        receipts,
        bundle,
    })
}

/// A read-only call (`eth_call`, `eth_estimateGas`).
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    /// Caller (zero address if unset).
    pub from: Address,
    /// Target (`None` to simulate a creation).
    pub to: Option<Address>,
    /// Gas limit (block gas limit if unset). It may exceed the block gas limit: a call is no
    /// transaction, and geth and reth let one run with up to their gas cap (the caller's job).
    pub gas: Option<u64>,
    /// Value.
    pub value: U256,
    /// Calldata.
    pub input: Bytes,
    /// Gas price the caller pays (`gasPrice`, or `maxFeePerGas`; 0 if unset, as geth runs
    /// calls without a price). The caller's balance must cover `gas × gas_price + value`, and
    /// `GASPRICE` reads it.
    pub gas_price: u128,
    /// EIP-2930 access list: warms what it names and costs its intrinsic gas, as in a
    /// transaction that carries it (empty: none, a legacy call).
    pub access_list: AccessList,
    /// What `BLOBBASEFEE` reads (a block override); `None`: the L2's, always the minimum.
    pub blob_base_fee: Option<u128>,
}

/// How many instructions [`CallDeadline`] lets run between two looks at the clock. Reading it
/// costs about as much as a few dozen cheap instructions; revm runs tens of millions of them a
/// second, so the deadline is overshot by at most this many instructions, well under a
/// millisecond of plain computation.
const DEADLINE_CHECK_INTERVAL: u32 = 4_096;

/// Stops a simulated call at a wall-clock deadline.
///
/// revm has no clock of its own, and gas bounds time only loosely: it prices an instruction at
/// what it costs with warm caches, so a call that reads state from a cold database, or runs on
/// a node with a high gas cap, can take seconds, and a node serving many such calls stops
/// answering. So [`simulate_call`] runs the interpreter with this inspector (revm calls
/// `Inspector::step` before every instruction). It counts instructions and reads the clock every
/// [`DEADLINE_CHECK_INTERVAL`] of them; once past the deadline it halts the frame it is in,
/// and halts every later instruction too, so the parent frames (which see a failed call and
/// would carry on) halt at their next instruction and the whole call unwinds at once.
/// [`simulate_call`] then reports [`ExecutionError::CallTimedOut`] instead of the halt.
#[derive(Debug)]
pub(crate) struct CallDeadline {
    deadline: Option<Instant>,
    steps_until_check: u32,
    pub(crate) expired: bool,
}

impl CallDeadline {
    pub(crate) const fn new(deadline: Option<Instant>) -> Self {
        Self {
            deadline,
            steps_until_check: DEADLINE_CHECK_INTERVAL,
            expired: false,
        }
    }
}

impl<CTX> Inspector<CTX> for CallDeadline {
    #[inline]
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        if !self.expired {
            let Some(deadline) = self.deadline else {
                return;
            };
            self.steps_until_check -= 1;
            if self.steps_until_check > 0 {
                return;
            }
            self.steps_until_check = DEADLINE_CHECK_INTERVAL;
            if Instant::now() < deadline {
                return;
            }
            self.expired = true;
        }
        // Out of gas: the frame ends with nothing to keep, like any other halt.
        interp.halt(InstructionResult::OutOfGas);
    }
}

/// Executes `call` on top of the state after `header`, without the base fee or nonce checks,
/// at the call's gas price (the caller's balance must cover `gas × gas_price + value`), and
/// returns the result; nothing is committed.
///
/// With a `deadline`, a call still running then is stopped and the answer is
/// [`ExecutionError::CallTimedOut`] (see [`CallDeadline`]); callers that serve untrusted requests
/// must set one.
pub fn simulate_call<DB>(
    db: DB,
    header: &Header,
    chain_id: u64,
    call: CallRequest,
    deadline: Option<Instant>,
) -> Result<ExecutionResult>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
{
    inspect_call(db, header, chain_id, call, deadline, NoOpInspector).map(|(result, _)| result)
}

/// [`simulate_call`] with `inspector` watching the execution (a tracer); returns it with what
/// it recorded. The deadline applies as in [`simulate_call`].
pub fn inspect_call<DB, I>(
    db: DB,
    header: &Header,
    chain_id: u64,
    call: CallRequest,
    deadline: Option<Instant>,
    inspector: I,
) -> Result<(ExecutionResult, I)>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    I: Inspector<MainnetContext<WrapDatabaseRef<DB>>>,
{
    let number = header.number;
    let mut cfg = cfg_env(chain_id);
    cfg.disable_nonce_check = true;
    cfg.disable_base_fee = true;
    cfg.disable_eip3607 = true;
    // A call may ask for more gas than a block holds, up to the RPC's gas cap, as in geth and
    // reth (a 40M-gas call on a 30M-gas chain runs; `GAS` reads what it was given).
    cfg.disable_block_gas_limit = true;
    let mut block = header_block_env(header);
    if let Some(blob_gasprice) = call.blob_base_fee {
        block.blob_excess_gas_and_price = Some(BlobExcessGasAndPrice {
            excess_blob_gas: 0,
            blob_gasprice,
        });
    }
    let mut evm = Context::mainnet()
        .with_ref_db(db)
        .with_cfg(cfg)
        .with_block(block)
        .build_mainnet_with_inspector((CallDeadline::new(deadline), inspector));
    let tx = TxEnv {
        caller: call.from,
        gas_limit: call.gas.unwrap_or(header.gas_limit),
        gas_price: call.gas_price,
        kind: call.to.map_or(TxKind::Create, TxKind::Call),
        value: call.value,
        data: call.input,
        chain_id: Some(chain_id),
        // revm reads an access list only from typed transactions.
        tx_type: if call.access_list.is_empty() {
            0
        } else {
            alloy_eips::eip2718::EIP2930_TX_TYPE_ID
        },
        access_list: call.access_list,
        ..Default::default()
    };
    let outcome = evm.inspect_tx(tx);
    let (deadline, inspector) = evm.inspector;
    if deadline.expired {
        return Err(ExecutionError::CallTimedOut);
    }
    match outcome {
        Ok(result) => Ok((result.result, inspector)),
        Err(revm::context::result::EVMError::Database(err)) => Err(ExecutionError::Database {
            block: number,
            message: err.to_string(),
        }),
        // geth's words, which wallets look for.
        Err(revm::context::result::EVMError::Transaction(
            revm::context::result::InvalidTransaction::LackOfFundForMaxFee { fee, balance },
        )) => Err(ExecutionError::InvalidCall(format!(
            "insufficient funds for gas * price + value: address {} have {balance} want {fee}",
            call.from
        ))),
        Err(revm::context::result::EVMError::Transaction(
            revm::context::result::InvalidTransaction::CallGasCostMoreThanGasLimit {
                initial_gas,
                gas_limit,
            },
        )) => Err(ExecutionError::InvalidCall(format!(
            "intrinsic gas too low: have {gas_limit}, want {initial_gas}"
        ))),
        Err(err) => Err(ExecutionError::InvalidCall(err.to_string())),
    }
}

/// The block environment of a stored block, as its header records it.
pub(crate) fn header_block_env(header: &Header) -> BlockEnv {
    block_env(
        header.number,
        header.timestamp,
        header.beneficiary,
        header.gas_limit,
        header.base_fee_per_gas.unwrap_or_default(),
        header.mix_hash,
    )
}

/// The intrinsic gas of a simulated call under L2 rules, as for a transaction with the same
/// data, recipient and access list.
pub fn call_intrinsic_gas(call: &CallRequest) -> u64 {
    let storage_keys = call
        .access_list
        .iter()
        .map(|item| item.storage_keys.len() as u64)
        .sum();
    let gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        SPEC_ID,
        &call.input,
        call.to.is_none(),
        call.access_list.len() as u64,
        storage_keys,
        0,
        None,
    );
    (gas.initial_regular_gas + gas.initial_state_gas).max(gas.floor_gas)
}

/// The intrinsic gas of a signed transaction under L2 rules (the larger of the initial gas and
/// the EIP-7623 calldata floor): a transaction with a lower gas limit can never be included.
pub fn intrinsic_gas(envelope: &TxEnvelope) -> u64 {
    let (accounts, storage_keys) = envelope.access_list().map_or((0, 0), |list| {
        (
            list.len() as u64,
            list.iter().map(|item| item.storage_keys.len() as u64).sum(),
        )
    });
    let authorizations = envelope
        .authorization_list()
        .map_or(0, |list| list.len() as u64);
    let gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        SPEC_ID,
        envelope.input(),
        envelope.kind().is_create(),
        accounts,
        storage_keys,
        authorizations,
        None,
    );
    (gas.initial_regular_gas + gas.initial_state_gas).max(gas.floor_gas)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use revm::{
        bytecode::Bytecode,
        context::result::HaltReason,
        database::{CacheDB, EmptyDB},
        state::AccountInfo,
    };

    use super::*;

    const LOOP: Address = Address::repeat_byte(0x10);

    /// A state holding, at [`LOOP`], `JUMPDEST PUSH1 0 JUMP`: a loop that only gas ends.
    fn state_with_loop() -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::new());
        let code = Bytecode::new_raw(Bytes::from_static(&[0x5b, 0x60, 0x00, 0x56]));
        db.insert_account_info(
            LOOP,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        db
    }

    fn header(gas_limit: u64) -> Header {
        Header {
            gas_limit,
            base_fee_per_gas: Some(0),
            ..Default::default()
        }
    }

    fn call_loop() -> CallRequest {
        CallRequest {
            to: Some(LOOP),
            ..Default::default()
        }
    }

    #[test]
    fn a_call_past_its_deadline_is_stopped() {
        let limit = Duration::from_millis(100);
        let started = Instant::now();
        // Gas enough to loop for hours: only the deadline can end it.
        let result = simulate_call(
            state_with_loop(),
            &header(u64::MAX / 4),
            1,
            call_loop(),
            Some(started + limit),
        );
        let elapsed = started.elapsed();
        assert!(
            matches!(result, Err(ExecutionError::CallTimedOut)),
            "{result:?}"
        );
        assert!(elapsed >= limit, "stopped early, after {elapsed:?}");
        assert!(elapsed < limit * 10, "stopped only after {elapsed:?}");
    }

    #[test]
    fn a_call_that_ends_in_time_keeps_its_result() {
        let deadline = Instant::now() + Duration::from_secs(60);
        let result = simulate_call(
            state_with_loop(),
            &header(100_000),
            1,
            call_loop(),
            Some(deadline),
        )
        .unwrap();
        assert!(
            matches!(
                result,
                ExecutionResult::Halt {
                    reason: HaltReason::OutOfGas(_),
                    ..
                }
            ),
            "{result:?}"
        );
        assert_eq!(result.tx_gas_used(), 100_000);
        let without_deadline =
            simulate_call(state_with_loop(), &header(100_000), 1, call_loop(), None).unwrap();
        assert_eq!(without_deadline, result);
    }
}
