use signet_libmdbx::{MdbxError, ReadError};

/// How the operator names the rollup's datadir: `rollup-node`'s flag, and `reth-rollup`'s
/// (where `--datadir` is reth's own).
const DATADIR_FLAGS: &str = "`--datadir`; `--rollup.datadir` in reth-rollup";

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// MDBX failed (I/O, full map, corrupted file).
    #[error("MDBX error: {0}")]
    Mdbx(#[from] MdbxError),
    /// MDBX read failed.
    #[error("MDBX read error: {0}")]
    Read(#[from] ReadError),
    /// Stored bytes do not decode: the database is corrupt or from an incompatible version.
    #[error("corrupt {table} entry {key}: {reason}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// Key, hex.
        key: String,
        /// Why.
        reason: String,
    },
    /// Another process holds the database directory (see [`crate::DatadirLock`]).
    #[error(
        "the database at {path} is in use by another process (pid {holder}): a node is already running on this datadir; stop it first, or start this one with another datadir ({DATADIR_FLAGS})",
        DATADIR_FLAGS = DATADIR_FLAGS
    )]
    Locked {
        /// Database directory.
        path: String,
        /// What the lock file says of its holder (its process id).
        holder: String,
    },
    /// The database file is too short to be one MDBX wrote (truncated, or replaced by an empty
    /// file): opening it would start an empty database in its place.
    #[error(
        "the database file {path} is {len} bytes, shorter than any database MDBX writes: it was truncated or replaced. Restore it from a backup, or move the datadir away to start from genesis (the node derives the safe chain again from L1; unsafe blocks not yet posted are lost)"
    )]
    Truncated {
        /// The data file.
        path: String,
        /// Its length in bytes.
        len: u64,
    },
    /// The database was initialised for a different rollup.
    #[error(
        "database at {path} holds genesis {stored}, but the config's genesis is {expected}: use a fresh datadir ({DATADIR_FLAGS}) or the matching config",
        DATADIR_FLAGS = DATADIR_FLAGS
    )]
    GenesisMismatch {
        /// Path.
        path: String,
        /// Stored genesis hash.
        stored: String,
        /// Expected genesis hash.
        expected: String,
    },
    /// The database was created with other consensus parameters than the config now given.
    #[error(
        "database at {path} was created with a different rollup config; these consensus parameters changed:\n  {}\nA node that changes them derives another chain: start with the config the datadir was created with, or use a fresh datadir ({DATADIR_FLAGS}) for the new one",
        changes.join("\n  "),
        DATADIR_FLAGS = DATADIR_FLAGS
    )]
    ConfigMismatch {
        /// Path.
        path: String,
        /// `field: stored → given` lines.
        changes: Vec<String>,
    },
    /// A requested block or state is not in the database.
    #[error("{0} not found")]
    NotFound(String),
    /// Historical state further back than the node keeps.
    #[error(
        "state at L2 block {requested} is pruned: this node keeps the history of its last {kept} blocks and the oldest state it can serve is L2 block {oldest}; ask an archive node with a longer history retention"
    )]
    HistoryPruned {
        /// Requested block.
        requested: u64,
        /// The oldest block whose state is still kept.
        oldest: u64,
        /// Blocks of history kept behind the head ([`crate::Store::history_retention`]).
        kept: u64,
    },
    /// The state trie is inconsistent with the stored nodes.
    #[error("state trie: {0}")]
    Trie(String),
    /// The database directory cannot be created (a file in its place, no permission).
    #[error(
        "cannot create the database directory {path}: {reason}; the datadir ({DATADIR_FLAGS}) must name a directory this user can create and write",
        DATADIR_FLAGS = DATADIR_FLAGS
    )]
    Directory {
        /// The directory.
        path: String,
        /// Why, from the filesystem.
        reason: String,
    },
    /// The write would break chain continuity (a bug in the caller).
    #[error("inconsistent write: {0}")]
    Inconsistent(String),
    /// A commit failed and MDBX aborted the transaction itself: nothing of it was written.
    #[error(
        "committing to the database failed, and nothing of the write was kept (a full disk, or the database map at its size limit?): free space under the datadir and start the node again; it resumes from its last commit"
    )]
    CommitFailed,
}

impl StorageError {
    /// Whether the failure is transient, so the same operation retried shortly may succeed:
    /// every MDBX reader slot is taken (`MDBX_READERS_FULL`), which passes as soon as other
    /// read transactions end. Everything else is a fault of the database, the disk or the caller
    /// that a retry does not fix.
    ///
    /// A reader that serves a user (RPC) retries briefly and then answers "busy"; the node core
    /// never meets this in practice, since slots ([`crate::DEFAULT_MAX_READERS`]) far outnumber
    /// the read transactions the process can hold at once.
    pub const fn is_temporary(&self) -> bool {
        matches!(
            self,
            Self::Mdbx(MdbxError::ReadersFull)
                | Self::Read(ReadError::Mdbx(MdbxError::ReadersFull))
        )
    }
}

impl revm::database_interface::DBErrorMarker for StorageError {}

/// Result alias for this crate.
pub type Result<T, E = StorageError> = core::result::Result<T, E>;

pub(crate) fn corrupt(table: &'static str, key: &[u8], reason: impl ToString) -> StorageError {
    StorageError::Corrupt {
        table,
        key: alloy_primitives::hex::encode(key),
        reason: reason.to_string(),
    }
}
