//! Pure derivation: L1 blocks with receipts in, L2 inputs out. No I/O, no async.
//!
//! Deposits from `L1Bridge` logs ([`derive_deposits`]) and the `BatchInbox`'s records
//! ([`extract_inbox_records`]) with the rules a batch block satisfies ([`check_batch_block`],
//! enforced by the inbox at posting and re-checked here).
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
    BatchBlockError, InboxDataError, InboxRecord, MAX_L2_BLOCKS_PER_SECOND, SafeParent,
    batch_deadline, check_batch_block, extract_inbox_records,
};
pub use deposits::{
    DepositNonceGap, DepositSkipReason, DerivedDeposits, SkippedDeposit, bridge_message,
    bridge_message_hash, bridge_message_transaction, check_deposit_nonces, derive_deposits,
    extend_message_chain,
};
