//! MDBX storage for the L2: state, blocks, receipts, per-block changesets, and the L1 cursor.
//!
//! One [`Store`] owns the MDBX environment. Writes go through a [`StoreWriter`] (one MDBX
//! read-write transaction); readers use [`StoreReader`] (a read-only transaction, a consistent
//! snapshot) which also serves revm as a [`revm::DatabaseRef`].
//!
//! # Invariants
//! - Every L2 block written records a changeset of the prior values of everything it touched,
//!   so [`StoreWriter::unwind_l2_to`] restores the exact earlier state and leaves nothing of
//!   the removed blocks behind (headers, bodies, receipts, transaction index, changesets).
//! - Every block's changes are indexed in the same transaction: per account, storage slot and
//!   trie node, the history indexes list the blocks that changed it, so the state and trie of
//!   any kept block is read by seeks ([`StoreReader::state_at`], [`StoreReader::trie_proof_at`])
//!   at a cost independent of its distance to the head. An unwind removes exactly the entries
//!   of the blocks it removes.
//! - History is kept for [`Store::history_retention`] blocks behind the head
//!   ([`DEFAULT_HISTORY_RETENTION`] unless set); older changesets and index entries are pruned
//!   as the head advances, and reads of pruned state fail with [`StorageError::HistoryPruned`].
//!   Whatever the retention, nothing an L1 reorg of up to [`L1_REORG_DEPTH`] blocks can unwind
//!   is pruned.
//! - The L1 cursor is written in the same transaction as the L2 state derived up to it: after
//!   a crash the database holds either both or neither.
//! - Readers never observe a half-written block.

mod codec;
mod disk;
mod error;
mod lock;
mod reader;
mod store;
mod tables;
mod writer;

pub use disk::free_disk_bytes;
pub use error::{Result, StorageError};
pub use lock::{DatadirLock, LOCK_FILE};
pub use reader::{HistoricalState, StoreReader, StoredTransaction};
pub use store::{DEFAULT_HISTORY_RETENTION, DEFAULT_MAX_READERS, Store};
pub use writer::{L1_REORG_DEPTH, PRUNE_BLOCKS_PER_APPEND, StoreWriter};

pub use codec::{
    BatchOutcome, BatchRecord, BlockDerivation, DepositOrigin, L1BlockDerivation, L1BlockRecord,
    OpenBlockPart,
};
