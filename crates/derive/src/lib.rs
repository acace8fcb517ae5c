//! Pure derivation: L1 blocks with receipts in, L2 inputs out. No I/O, no async.
//!
//! Today: deposits from `L1Bridge` logs ([`derive_deposits`]). Batches, proposals and dispute
//! moves join here as the protocol grows.
//!
//! # Invariants
//! - Derivation is a pure function of `(RollupConfig, L1Block)`: every replica derives the same
//!   deposits from the same block, byte for byte.
//! - Untrusted input never panics it; a log that breaks a rule is skipped by the rule written
//!   in `docs/derivation.md` and reported in [`DerivedDeposits::skipped`].

mod deposits;

pub use deposits::{DepositSkipReason, DerivedDeposits, SkippedDeposit, derive_deposits};
