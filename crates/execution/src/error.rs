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
    /// A simulated call was still running at its deadline and was stopped.
    #[error("the call ran past its deadline and was stopped")]
    CallTimedOut,
}

/// Result alias for this crate.
pub type Result<T, E = ExecutionError> = core::result::Result<T, E>;
