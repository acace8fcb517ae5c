//! The sequencer: a transaction pool fed by `eth_sendRawTransaction`, and the loop that turns it
//! into unsafe L2 blocks on a fixed interval while applying L1 notifications in between.
//!
//! # Invariants
//! - A transaction enters the pool only after its signature is recovered (once, here) and it
//!   passed every check a block would apply (chain id, nonce, funds, intrinsic gas, fee cap,
//!   size); the sender travels with it from then on.
//! - Block building and L1 notification handling run on one task, so the MDBX writer is never
//!   contended and every block is built on the state the L1 view implies.
//! - A transaction leaves the pool when a block includes it, when its nonce is used by another
//!   transaction, or when block building rejects it.

mod error;
mod pool;
mod sequencer;

pub use error::PoolError;
pub use pool::{MAX_BLOCK_TX_BYTES, PoolConfig, TxPool};
pub use sequencer::{Sequencer, SequencerConfig};
