use rollup_execution::ExecutionError;
use rollup_storage::StorageError;

/// Errors of the rollup core, classified by what the caller should do about them.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed. Critical: the node stops; nothing half-written is visible.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Execution hit a database error. Critical.
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    /// The notification does not connect to the stored chain (a gap, or a parent that is not
    /// the cursor). Reset: restart the L1 source from the stored cursor so it re-delivers the
    /// missing reverts/commits.
    #[error(
        "L1 notification does not connect to the stored chain: {0}; the L1 source must resume from the stored cursor"
    )]
    Disconnected(String),
    /// The L1 source names a block at the rollup's L1 origin height that is not the origin:
    /// this L1 is not the chain the rollup was deployed on (a config of another deployment,
    /// or an L1 node of another chain). Critical: no restart of the source can fix it.
    #[error(
        "L1 block {number} is {hash}, but the rollup's L1 origin at that height is {origin}: this L1 is not the chain the rollup config was made for; point the node at that chain's L1, or use the config of the deployment on this one"
    )]
    ForeignL1 {
        /// The origin's height.
        number: u64,
        /// The block the L1 source holds there.
        hash: alloy_primitives::B256,
        /// The rollup's L1 origin.
        origin: alloy_primitives::B256,
    },
    /// L1 data is missing a deposit (a gap in the bridge's nonces). Critical: deriving on would
    /// lose the deposit for good; the operator must fix the L1 source.
    #[error(transparent)]
    DepositGap(#[from] rollup_derive::DepositNonceGap),
    /// L1 data contradicts what the `BatchInbox` guarantees (a record out of order, missing
    /// batch data, blocks that do not follow the safe head). Critical: deriving on would
    /// invent or lose blocks; the operator must fix the L1 source (or this node's config).
    #[error("{0}")]
    InboxData(String),
    /// A block the sequencer built does not encode as a batch; nothing was stored. Not fatal:
    /// the sequencer drops `rejected` (transactions no batch can carry) or builds smaller blocks.
    #[error("L2 block {number} would not encode as a batch ({reason}); it was not sequenced")]
    Unbatchable {
        /// The number the block would have had.
        number: u64,
        /// Why the codec refused it.
        reason: String,
        /// Transactions that do not encode even alone.
        rejected: Vec<alloy_primitives::B256>,
    },
}

impl NodeError {
    /// Whether restarting the L1 source from the stored cursor resolves the error.
    pub const fn is_reset(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

/// Result alias for this crate.
pub type Result<T, E = NodeError> = core::result::Result<T, E>;
