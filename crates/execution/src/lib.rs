//! The L2 block executor: revm over any [`revm::DatabaseRef`], deposits first.
//!
//! Pure: no tokio, no I/O beyond the database handed in. The caller persists what
//! [`ExecutedBlock`] returns (state changes with their reverts, receipts, the sealed block).
//!
//! # Invariants
//! - Executing the same parent state with the same [`BlockInput`] yields the same block hash,
//!   receipts and state changes on every machine.
//! - A deposit's `mint` is credited even when its call fails or is invalid, so deposited ETH
//!   can never vanish.
//! - Deposits pay no gas fee and are not bound by the block gas limit (they have their own
//!   per-L1-block budget, enforced by derivation).
//! - A simulated call ([`simulate_call`]) given a deadline ends by it, within a few thousand
//!   instructions, whatever its code does: revm has no clock, so an inspector reads one.
//! - A replayed block ([`replay_block`]) runs its transactions under the rules and in the order
//!   [`execute_block`] ran them, so an inspected transaction sees the state it saw when the
//!   block was built (a deposit's mint included), and the same deadline bounds the replay.

mod error;
mod executor;
pub mod ordered_trie;
mod replay;
mod trace;

pub use error::{ExecutionError, Result};
pub use executor::{
    BlockInput, CallRequest, ExecutedBlock, SPEC_ID, blob_base_fee, call_intrinsic_gas,
    execute_block, inspect_call, intrinsic_gas, signed_tx_env, simulate_call,
};
pub use ordered_trie::OrderedTrie;
pub use replay::{ReplayContext, ReplayState, ReplayedTransaction, replay_block};
pub use trace::{
    AppendProofs, BlockTrace, DEPOSIT_CHAIN_MARK, DepositStep, LAST_PRECOMPILE,
    MAX_STEP_ACCESS_LIST, MAX_STEP_CALLDATA, ProvenAccount, STEP_DEPOSIT, STEP_SEAL,
    STEP_TRANSACTION, TRACE_DEPTH, TRACE_STATE_VERSION, TRANSFER_GAS, TraceInput, TraceState,
    TransactionStep, block_context, block_context_hash, chain_message_hash, cut_at_mark,
    deposit_chain_mark, deposit_chain_witness, deposit_step, input_witness, seal_witness,
    trace_block, trace_block_until, transaction_step, trie_proof,
};

pub use revm;
