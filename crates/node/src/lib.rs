//! The ExEx-shaped rollup core: L1 notifications in, L2 chain out.
//!
//! [`RollupNode`] consumes [`L1Notification`]s exactly as reth delivers `ExExNotification`s —
//! from reth itself (`bin/reth-rollup`) or from the JSON-RPC follower (`rollup-l1`) — derives
//! deposits, executes L2 blocks with revm and stores them in MDBX.
//!
//! # Invariants
//! - The L1 cursor (number and hash) is written in the same MDBX transaction as the L2 blocks
//!   derived from that L1 block; a crash leaves both or neither.
//! - A finished height is reported only after the MDBX transaction holding it commits.
//! - A notification delivered twice changes nothing: blocks at or below the cursor with the
//!   stored hash are skipped.
//! - Reverts unwind L2 state exactly (per-block changesets) before any committed chain of the
//!   same notification is applied.
//! - [`RollupNode::run`] returns only on cancellation, when the notification stream ends, or
//!   on an error that needs the host to re-deliver from the stored cursor.
//!
//! [`L1Notification`]: rollup_primitives::L1Notification

mod error;
pub mod metrics;
mod node;

pub use error::{NodeError, Result};
pub use node::{L1Finalized, NotificationOutcome, RollupNode, SequencedBlock};
