/// Errors that stop execution of a block. Invalid *transactions* are not errors: they are
/// handled by the block rules (deposits fail with a receipt, signed ones are dropped).
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The state database failed; the block cannot be executed now (retry after fixing I/O).
    #[error("state database error while executing L2 block {block}: {message}")]
    Database {
        /// L2 block number.
        block: u64,
        /// Underlying error.
        message: String,
    },
    /// A simulated call is invalid before execution (e.g. gas below intrinsic gas).
    #[error("invalid call: {0}")]
    InvalidCall(String),
    /// A stored signed transaction is invalid on its parent block's state when replayed: the
    /// database does not hold the state the block was built on.
    #[error(
        "transaction {index} of L2 block {block} is invalid on its parent's state when replayed \
         ({reason}); the database is inconsistent"
    )]
    InvalidStoredTransaction {
        /// L2 block number.
        block: u64,
        /// Index of the transaction in the block.
        index: usize,
        /// What revm refused.
        reason: String,
    },
    /// A simulated call or a replay was still running at its deadline and was stopped.
    #[error("the call ran past its deadline and was stopped")]
    CallTimedOut,
}

/// Result alias for this crate.
pub type Result<T, E = ExecutionError> = core::result::Result<T, E>;
