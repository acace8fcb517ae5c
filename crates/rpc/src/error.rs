//! RPC errors and their JSON-RPC codes.

use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;
use rollup_storage::StorageError;

/// JSON-RPC code for invalid parameters.
pub const INVALID_PARAMS_CODE: i32 = -32602;
/// JSON-RPC code for internal errors.
pub const INTERNAL_ERROR_CODE: i32 = -32603;
/// Generic server error (geth: `-32000`), e.g. an unknown block.
pub const SERVER_ERROR_CODE: i32 = -32000;
/// A query asks for more than the node serves (EIP-1474 "limit exceeded").
pub const LIMIT_EXCEEDED_CODE: i32 = -32005;
/// Execution reverted (geth's code for `eth_call` / `eth_estimateGas` reverts).
pub const EXECUTION_REVERTED_CODE: i32 = 3;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The request's parameters are malformed or inconsistent.
    #[error("{0}")]
    InvalidParams(String),
    /// The requested block is not stored (not yet produced, or an unknown hash).
    #[error("header not found: {0}")]
    UnknownBlock(String),
    /// `fromBlock` is after `toBlock`.
    #[error("invalid block range params: fromBlock {from} is after toBlock {to}")]
    InvalidBlockRange {
        /// Resolved `fromBlock`.
        from: u64,
        /// Resolved `toBlock`.
        to: u64,
    },
    /// An `eth_getLogs` range ends past the head (the wording of the execution-apis test, which
    /// geth and reth follow): answering with the logs up to the head instead would let a client
    /// that asked a lagging node move its cursor past blocks it never read.
    #[error("block range extends beyond current head block")]
    BlockRangePastHead,
    /// An `eth_getLogs` range spans more blocks than the server allows.
    #[error("query exceeds max block range {0}")]
    BlockRangeTooLarge(u64),
    /// An `eth_getLogs` over several blocks matched more logs than one response carries
    /// (reth's wording); `to` is the last block whose logs still fit.
    #[error("query exceeds max results {max}, retry with the range {from}-{to}")]
    TooManyLogs {
        /// Most logs one response carries.
        max: usize,
        /// First block of the range.
        from: u64,
        /// Last block that fits.
        to: u64,
    },
    /// The call reverted; `data` is the revert output.
    #[error("execution reverted{}", reason.as_ref().map(|reason| format!(": {reason}")).unwrap_or_default())]
    Reverted {
        /// The decoded `Error(string)` reason, if the output is one.
        reason: Option<String>,
        /// Raw revert output.
        data: Bytes,
    },
    /// The call halted (out of gas, invalid opcode, …) or was rejected before execution.
    #[error("{0}")]
    ExecutionFailed(String),
    /// `eth_estimateGas`: the call fails even with the highest gas limit allowed.
    #[error("gas required exceeds allowance ({0})")]
    GasExceedsAllowance(u64),
    /// `eth_call` asks for more gas than the node's gas cap (reth's wording, then what to do).
    #[error(
        "intrinsic gas too high: the call asks for {requested} gas, above this node's gas cap of {cap}; ask for less"
    )]
    GasAboveCap {
        /// Gas the call asked for.
        requested: u64,
        /// The node's gas cap (`--rpc-gascap`).
        cap: u64,
    },
    /// The call was still running at the time limit and was stopped (geth's wording).
    #[error("execution aborted (timeout = {0:?})")]
    ExecutionTimeout(std::time::Duration),
    /// The server is at one of its limits (heavy-request slots, database readers); the same
    /// request may succeed shortly.
    #[error("server busy: {0}; retry later")]
    Busy(String),
    /// Reading the database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The transaction pool refused a transaction (geth's messages: "nonce too low", …).
    #[error(transparent)]
    TxPool(#[from] rollup_sequencer::PoolError),
    /// This node has no transaction pool: it does not sequence.
    #[error("this node does not sequence transactions; send them to the sequencer's RPC")]
    NotSequencer,
    /// No installed filter has this id: it never existed, was uninstalled, or expired after
    /// five minutes without a poll (geth's wording).
    #[error("filter not found")]
    FilterNotFound,
    /// The filter was not polled while more chain events happened than the node buffers; it
    /// was removed.
    #[error(
        "filter fell behind: more than {0} block events since its last poll, so it was removed; install a new one and read the gap with eth_getLogs"
    )]
    FilterLagged(usize),
    /// A log filter met a block whose logs the live feed does not hold (too many logs at
    /// once); it was removed.
    #[error("filter removed: {0}")]
    LogsNotHeld(String),
    /// As many filters are installed as the node allows (`--rpc-max-filters`).
    #[error(
        "too many installed filters (at most {0}): uninstall unused ones with eth_uninstallFilter; filters not polled for 5 minutes expire"
    )]
    TooManyFilters(usize),
    /// The client's address holds its share of the installed filters already
    /// ([`crate::PER_CLIENT_SHARE`]).
    #[error(
        "too many installed filters from this address (at most {0}, a share of the node's): uninstall unused ones with eth_uninstallFilter; filters not polled for 5 minutes expire"
    )]
    TooManyFiltersFromClient(usize),
    /// The client's filters and log subscriptions name its share of
    /// [`crate::MAX_LIVE_CRITERIA`] already.
    #[error(
        "too many filter criteria from this address: its installed filters and log subscriptions name {0} addresses and topics together, its share of what this node keeps; name fewer, or uninstall filters you no longer poll"
    )]
    TooManyCriteriaFromClient(usize),
    /// Installed filters and log subscriptions together name [`crate::MAX_LIVE_CRITERIA`]
    /// addresses and topics already.
    #[error(
        "too many filter criteria: installed filters and log subscriptions name {0} addresses and topics together, the most this node keeps; name fewer, or uninstall filters you no longer poll"
    )]
    TooManyCriteria(usize),
    /// The method reads L1 and this node has no L1 link to read it through.
    #[error("this node has no L1 link: {0} is read from L1; ask a node that follows L1")]
    NoL1(&'static str),
    /// Reading L1 failed (the L1 node did not answer in time, or answered an error).
    #[error("reading L1 failed: {0}; retry later")]
    L1(String),
    /// No stored block holds a transaction with this hash (it may still be pending).
    #[error("transaction {0} not found")]
    TransactionNotFound(alloy_primitives::B256),
    /// A trace (`debug_trace*`) grew past the size this node serves; it was stopped.
    #[error(
        "trace too large: it would exceed this node's limit of {0} bytes of trace data; ask for less (the callTracer, or the struct logger with disableStack, disableStorage and without enableMemory), or trace on a node with a higher limit"
    )]
    TraceTooLarge(u64),
    /// Something that should not happen; the message says what.
    #[error("internal error: {0}")]
    Internal(String),
    /// The server could not bind or start.
    #[error("cannot start the RPC server on {addr}: {reason}")]
    Server {
        /// Requested address.
        addr: std::net::SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = RpcError> = core::result::Result<T, E>;

impl RpcError {
    /// The JSON-RPC error code of this error.
    pub const fn code(&self) -> i32 {
        match self {
            Self::InvalidParams(_) | Self::InvalidBlockRange { .. } | Self::BlockRangePastHead => {
                INVALID_PARAMS_CODE
            }
            Self::UnknownBlock(_)
            | Self::ExecutionFailed(_)
            | Self::GasExceedsAllowance(_)
            | Self::GasAboveCap { .. }
            | Self::ExecutionTimeout(_) => SERVER_ERROR_CODE,
            Self::BlockRangeTooLarge(_) | Self::TooManyLogs { .. } | Self::Busy(_) => {
                LIMIT_EXCEEDED_CODE
            }
            Self::Reverted { .. } => EXECUTION_REVERTED_CODE,
            // The client asked for something the node does not have: not a server fault.
            Self::Storage(StorageError::NotFound(_) | StorageError::HistoryPruned { .. }) => {
                SERVER_ERROR_CODE
            }
            Self::Storage(_) | Self::Internal(_) | Self::Server { .. } => INTERNAL_ERROR_CODE,
            Self::TxPool(_) | Self::NotSequencer => SERVER_ERROR_CODE,
            Self::NoL1(_) | Self::L1(_) => SERVER_ERROR_CODE,
            // -32000 as geth: clients (viem) reinstall a filter on it.
            Self::FilterNotFound | Self::FilterLagged(_) | Self::LogsNotHeld(_) => {
                SERVER_ERROR_CODE
            }
            Self::TooManyFilters(_)
            | Self::TooManyCriteria(_)
            | Self::TooManyFiltersFromClient(_)
            | Self::TooManyCriteriaFromClient(_) => LIMIT_EXCEEDED_CODE,
            Self::TraceTooLarge(_) => LIMIT_EXCEEDED_CODE,
            Self::TransactionNotFound(_) => SERVER_ERROR_CODE,
        }
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(err: RpcError) -> Self {
        let code = err.code();
        match err {
            RpcError::Reverted { ref data, .. } => {
                Self::owned(code, err.to_string(), Some(data.to_string()))
            }
            _ => Self::owned(code, err.to_string(), None::<()>),
        }
    }
}

/// Decodes a Solidity revert reason as geth's `abi.UnpackRevert` does: an `Error(string)`'s
/// message, or what a `Panic(uint256)` code means, in geth's words.
pub(crate) fn decode_revert_reason(output: &[u8]) -> Option<String> {
    use alloy_sol_types::SolError;
    if let Ok(revert) = alloy_sol_types::Revert::abi_decode(output) {
        return Some(revert.reason);
    }
    let code = alloy_sol_types::Panic::abi_decode(output).ok()?.code;
    let reason = match u64::try_from(code) {
        Ok(0x00) => "generic panic",
        Ok(0x01) => "assert(false)",
        Ok(0x11) => "arithmetic underflow or overflow",
        Ok(0x12) => "division or modulo by zero",
        Ok(0x21) => "enum overflow",
        Ok(0x22) => "invalid encoded storage byte array accessed",
        Ok(0x31) => "out-of-bounds array access; popping on an empty array",
        Ok(0x32) => "out-of-bounds access of an array or bytesArray",
        Ok(0x41) => "out of memory",
        Ok(0x51) => "uninitialized function",
        _ => return Some(format!("unknown panic code: {code:#x}")),
    };
    Some(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolError;

    #[test]
    fn revert_error_matches_geth_shape() {
        let data: Bytes = alloy_sol_types::Revert::from("nope").abi_encode().into();
        let err = RpcError::Reverted {
            reason: decode_revert_reason(&data),
            data: data.clone(),
        };
        let object = ErrorObjectOwned::from(err);
        assert_eq!(object.code(), 3);
        assert_eq!(object.message(), "execution reverted: nope");
        assert_eq!(
            object.data().map(|d| d.get().to_string()),
            Some(format!("\"{data}\""))
        );

        let bare = ErrorObjectOwned::from(RpcError::Reverted {
            reason: None,
            data: Bytes::new(),
        });
        assert_eq!(bare.message(), "execution reverted");
        assert_eq!(decode_revert_reason(&[1, 2, 3]), None);
    }

    #[test]
    fn panics_are_named_as_geth_names_them() {
        let panic = |code: u64| {
            decode_revert_reason(
                &alloy_sol_types::Panic {
                    code: alloy_primitives::U256::from(code),
                }
                .abi_encode(),
            )
        };
        assert_eq!(panic(0x12).as_deref(), Some("division or modulo by zero"));
        assert_eq!(panic(0x01).as_deref(), Some("assert(false)"));
        assert_eq!(panic(0x99).as_deref(), Some("unknown panic code: 0x99"));
        let message = ErrorObjectOwned::from(RpcError::Reverted {
            reason: panic(0x11),
            data: Bytes::new(),
        });
        assert_eq!(
            message.message(),
            "execution reverted: arithmetic underflow or overflow"
        );
    }
}
