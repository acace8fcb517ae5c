//! The sequencer: a transaction pool fed by `eth_sendRawTransaction`, and the loop that turns it
//! into unsafe L2 blocks on a fixed interval while applying L1 notifications in between.
//!
//! # Invariants
//! - A transaction enters the pool only after its signature is recovered (once, here) and it
//!   passed every check a block would apply (chain id, nonce, funds, intrinsic gas, fee cap,
//!   size); the sender travels with it from then on.
//! - Block building and L1 notification handling run on one task, so the MDBX writer is never
//!   contended and every block is built on the state the L1 view implies.
//! - Every pooled transaction has a type the batch codec carries, fits one block by gas and one
//!   batch segment by bytes (`MAX_TX_SIZE`), and costs (`gas * maxFee + value`, never wrapped)
//!   no more than its sender's balance. A block holds at most
//!   `DataPath::max_block_tx_bytes` of transactions, so it keeps within the segments a block may
//!   span over its batches.
//! - The pool is bounded: pending and queued sub-pools each have a transaction and a byte cap,
//!   queued transactions a per-sender cap and a lifetime ([`PoolConfig`]). Queued transactions
//!   never take pending's room, so nonce-gap spam cannot keep an executable transaction out.
//! - Blocks take transactions by effective tip at the block's base fee, highest first, each
//!   sender in nonce order.
//! - Nothing is sequenced that the batcher cannot post before its sequencing window closes, at
//!   the L1 data rate of [`DaConfig`]: past that the sequencer builds deposit-only blocks and
//!   the pool refuses transactions ([`DaThrottle`]), so a served receipt is never reverted by
//!   the node's own overload.
//! - A transaction leaves the pool when a block includes it, when its nonce is used by another
//!   transaction, when block building rejects it, when a better-paying transaction evicts it
//!   from a full sub-pool, or when it stayed queued longer than the lifetime.

mod args;
mod backup;
mod error;
mod pool;
mod sequencer;
mod throttle;

pub use args::parse_at_least_one;
pub use backup::{BACKUP_FILE_NAME, PoolBackup, PoolKeeper, Restored};
pub use error::PoolError;
pub use pool::{ADMITTED_BUFFER, BURST_GAP, PoolConfig, PoolContent, TxPool};
pub use sequencer::{Sequencer, SequencerConfig};
pub use throttle::{DaBacklog, DaConfig, DaThrottle};
