//! The input trace of one L2 block, as level 1 of the dispute game bisects it.
//!
//! A block's trace has a claim at every position from 0 to `2^TRACE_DEPTH`:
//! - position 0 is the parent's output root (agreed when level 1 starts);
//! - position `1` is the state after the preamble (the block context fixed, nothing run);
//! - position `1 + i` is the state after the block's transaction `i` (deposits first);
//! - the seal, position `transactions + 2`, turns the last trace state into the block's output
//!   root, and every later position repeats it (padding, the identity step).
//!
//! Inner positions are [`TraceState`]s, `keccak256` of their ABI encoding, which commit to
//! everything that crosses transactions: the state root, cumulative gas, the included count,
//! hash chains of the transaction hashes and receipts, and the block context. Only the block
//! in dispute is ever traced: the node re-executes it on demand from its parent's historical
//! state, recomputing the state root after every transaction on an overlay of the parent's trie.

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::Header;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;
use revm::{
    DatabaseRef,
    database::{State, states::CacheAccount},
    inspector::NoOpInspector,
};
use rollup_primitives::{L2Transaction, decode_l1_origin};
use rollup_trie::{Node, NodePath, NodeStore, TrieUpdate};

use crate::{
    ExecutionError, Result,
    executor::{block_tx_env, header_block_env, mint},
    replay::{TxOutcome, TxRun},
};

/// Bisected positions of one block's trace: `2^16`, as `DisputeGame.TRACE_DEPTH` says.
pub const TRACE_DEPTH: u32 = 16;

/// The version of [`TraceState`]'s layout.
pub const TRACE_STATE_VERSION: u64 = 1;

/// What a trace claim commits to between the preamble and the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceState {
    /// The block being built.
    pub l2_block: u64,
    /// Inputs consumed: 1 after the preamble, `1 + i` after transaction `i`.
    pub inputs: u64,
    /// The state root after them.
    pub state_root: B256,
    /// Gas used by the block so far.
    pub cumulative_gas: u64,
    /// Transactions included so far.
    pub included: u64,
    /// `keccak256(previous ‖ tx hash)` over the included transactions, from zero.
    pub tx_accumulator: B256,
    /// `keccak256(previous ‖ keccak256(receipt))` over their EIP-2718 receipts, from zero.
    pub receipt_accumulator: B256,
    /// [`block_context_hash`] of the block.
    pub context: B256,
}

impl TraceState {
    /// The claim: `keccak256(abi.encode(version, l2Block, inputs, stateRoot, cumulativeGas,
    /// included, txAccumulator, receiptAccumulator, context))`.
    pub fn hash(&self) -> B256 {
        keccak256(self.abi_encode())
    }

    /// `abi.encode(OneStepVerifier.TraceState)`: the preimage of [`Self::hash`], the witness
    /// of a step from this state.
    pub fn abi_encode(&self) -> Vec<u8> {
        (
            U256::from(TRACE_STATE_VERSION),
            U256::from(self.l2_block),
            U256::from(self.inputs),
            self.state_root,
            U256::from(self.cumulative_gas),
            U256::from(self.included),
            self.tx_accumulator,
            self.receipt_accumulator,
            self.context,
        )
            .abi_encode_params()
    }
}

/// The block context a trace fixes in its preamble: `keccak256(abi.encode(parentHash, number,
/// timestamp, l1OriginNumber, l1OriginHash, baseFee, gasLimit, beneficiary, prevrandao))`.
pub fn block_context_hash(header: &Header) -> B256 {
    let origin = decode_l1_origin(&header.extra_data).unwrap_or_default();
    keccak256(
        (
            header.parent_hash,
            U256::from(header.number),
            U256::from(header.timestamp),
            U256::from(origin.number),
            origin.hash,
            U256::from(header.base_fee_per_gas.unwrap_or_default()),
            U256::from(header.gas_limit),
            header.beneficiary,
            header.mix_hash,
        )
            .abi_encode_params(),
    )
}

/// One block's trace claims.
#[derive(Debug, Clone)]
pub struct BlockTrace {
    /// Claims at positions `0..=seal`; every later position repeats the last.
    claims: Vec<B256>,
    /// The trace states behind positions `1..seal`.
    states: Vec<TraceState>,
}

impl BlockTrace {
    /// The position of the seal: the first position whose claim is the block's output root.
    pub fn seal_position(&self) -> u64 {
        self.claims.len() as u64 - 1
    }

    /// The claim at `position` (anything past the seal is the block's output root).
    pub fn claim(&self, position: u64) -> B256 {
        let last = self.claims.len() - 1;
        self.claims[usize::try_from(position).map_or(last, |p| p.min(last))]
    }

    /// The trace state at `position`, for `1 <= position < seal`.
    pub fn state(&self, position: u64) -> Option<&TraceState> {
        let index = usize::try_from(position).ok()?.checked_sub(1)?;
        self.states.get(index)
    }
}

/// A trie on top of another: writes of earlier steps first, then the parent's nodes.
struct Overlay<S> {
    base: S,
    writes: BTreeMap<NodePath, Option<Node>>,
}

impl<S: NodeStore> NodeStore for Overlay<S> {
    type Error = S::Error;

    fn node(&self, path: &NodePath) -> core::result::Result<Option<Node>, Self::Error> {
        match self.writes.get(path) {
            Some(write) => Ok(*write),
            None => self.base.node(path),
        }
    }
}

/// The trie leaves (key → value hash, `None`: absent) a cached account stands for now.
fn cached_leaves(address: Address, cached: &CacheAccount, out: &mut Vec<(B256, Option<B256>)>) {
    let key = rollup_trie::account_key(address);
    match &cached.account {
        Some(account) => {
            out.push((
                key,
                Some(rollup_trie::account_value_hash(
                    account.info.nonce,
                    account.info.balance,
                    account.info.code_hash,
                )),
            ));
            for (slot, value) in &account.storage {
                out.push((
                    rollup_trie::storage_key(address, *slot),
                    (!value.is_zero()).then(|| rollup_trie::storage_value_hash(*value)),
                ));
            }
        }
        None => out.push((key, None)),
    }
}

/// Traces stored block `header` with `transactions` (its body) on `db`, the state after its
/// parent, whose state trie is `trie` (its root must be the parent's state root).
/// `parent_output` and `output` are the output roots at the trace's two ends. Fails if the
/// re-executed block does not end in `header`'s state root and gas: the database does not hold
/// the state the block was built on.
pub fn trace_block<DB, S>(
    db: DB,
    trie: S,
    header: &Header,
    chain_id: u64,
    transactions: &[L2Transaction],
    parent_output: B256,
    output: B256,
) -> Result<BlockTrace>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    let block = header.number;
    let db_error = |err: &dyn std::fmt::Display| ExecutionError::Database {
        block,
        message: err.to_string(),
    };
    let mut overlay = Overlay {
        base: trie,
        writes: BTreeMap::new(),
    };
    let mut current = TraceState {
        l2_block: block,
        inputs: 1,
        state_root: rollup_trie::root(&overlay).map_err(|err| db_error(&err))?,
        cumulative_gas: 0,
        included: 0,
        tx_accumulator: B256::ZERO,
        receipt_accumulator: B256::ZERO,
        context: block_context_hash(header),
    };
    let mut states = vec![current];
    let mut emitted: HashMap<B256, Option<B256>> = HashMap::new();
    let mut leaves = Vec::new();
    let mut state = State::builder().with_database_ref(db).build();
    let block_env = header_block_env(header);
    for (index, tx) in transactions.iter().enumerate() {
        if let L2Transaction::Deposit(deposit) = tx {
            mint(&mut state, deposit.from, deposit.mint).map_err(|err| db_error(&err))?;
        }
        let (tx_env, is_deposit) = block_tx_env(tx);
        let run = TxRun {
            chain_id,
            block: &block_env,
            is_deposit,
            deadline: None,
        };
        let (outcome, _, after) = run.run(state, tx_env, NoOpInspector)?;
        state = after;
        let (success, gas_used, logs) = match outcome {
            TxOutcome::Executed(result) => (
                result.is_success(),
                result.tx_gas_used(),
                result.into_logs(),
            ),
            TxOutcome::Database(message) => {
                return Err(ExecutionError::Database { block, message });
            }
            TxOutcome::Invalid(_) if is_deposit => (false, 0, Vec::new()),
            TxOutcome::Invalid(reason) => {
                return Err(ExecutionError::InvalidStoredTransaction {
                    block,
                    index,
                    reason,
                });
            }
        };
        // The trie changes of this transaction: every cached leaf that differs from what the
        // trie was last given.
        leaves.clear();
        for (address, cached) in &state.cache.accounts {
            cached_leaves(*address, cached, &mut leaves);
        }
        let mut updates = BTreeMap::new();
        for (key, value) in leaves.drain(..) {
            if emitted.get(&key) != Some(&value) {
                emitted.insert(key, value);
                updates.insert(key, value);
            }
        }
        let TrieUpdate { root, writes } =
            rollup_trie::apply_updates(&overlay, &updates).map_err(|err| db_error(&err))?;
        overlay.writes.extend(writes);
        current.cumulative_gas += gas_used;
        let receipt = rollup_primitives::L2Receipt {
            tx_type: tx.tx_type(),
            success,
            cumulative_gas_used: current.cumulative_gas,
            logs,
        };
        current.inputs += 1;
        current.state_root = root;
        current.included += 1;
        current.tx_accumulator = keccak256([current.tx_accumulator, tx.hash()].concat());
        current.receipt_accumulator = keccak256(
            [
                current.receipt_accumulator,
                keccak256(receipt.encoded_2718()),
            ]
            .concat(),
        );
        states.push(current);
    }
    if current.state_root != header.state_root || current.cumulative_gas != header.gas_used {
        return Err(ExecutionError::Database {
            block,
            message: format!(
                "re-executing the block for its trace ended at state root {} and {} gas, its header says {} and {}",
                current.state_root, current.cumulative_gas, header.state_root, header.gas_used
            ),
        });
    }
    let mut claims = Vec::with_capacity(states.len() + 2);
    claims.push(parent_output);
    claims.extend(states.iter().map(TraceState::hash));
    claims.push(output);
    Ok(BlockTrace { claims, states })
}
