//! Pure derivation: L1 blocks with receipts in, L2 inputs out. No I/O, no async.
//!
//! Deposits from `L1Bridge` logs ([`derive_deposits`]) and batch data from `BatchInbox` calls
//! ([`extract_batch_data`]) with the rules a batch block must satisfy ([`check_batch_block`]).
//! Proposals and dispute moves join here as the protocol grows.
//!
//! # Invariants
//! - Derivation is a pure function of `(RollupConfig, L1Block)`: every replica derives the same
//!   deposits from the same block, byte for byte.
//! - Untrusted input never panics it; a log that breaks a rule is skipped by the rule written
//!   in `docs/derivation.md` and reported in [`DerivedDeposits::skipped`].

mod batches;
mod deposits;

pub use batches::{
    BatchBlockError, BatchData, MAX_L2_BLOCKS_PER_L1_BLOCK, MAX_L2_BLOCKS_PER_SECOND,
    MAX_L2_TRANSACTIONS_PER_L1_BLOCK, SafeParent, check_batch_block, extract_batch_data,
    sequencing_window_closed,
};
pub use deposits::{
    DepositNonceGap, DepositSkipReason, DerivedDeposits, SkippedDeposit,
    bridge_message_transaction, check_deposit_nonces, derive_deposits,
};
