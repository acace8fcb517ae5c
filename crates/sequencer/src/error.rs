use alloy_primitives::U256;

/// Why a transaction was not accepted. Messages follow geth's, which wallets and tools match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Bytes that are not a transaction.
    #[error("failed to decode transaction: {0}")]
    Decode(String),
    /// Deposits come only from L1.
    #[error("deposit transactions can only be derived from L1")]
    DepositNotAllowed,
    /// Signed for another chain, or not replay-protected.
    #[error("invalid chain id: have {have:?}, want {want}")]
    WrongChainId {
        /// The transaction's.
        have: Option<u64>,
        /// This chain's.
        want: u64,
    },
    /// Legacy transaction without EIP-155.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    NotReplayProtected,
    /// Blob transactions have no place on L2.
    #[error("transaction type not supported")]
    TxTypeNotSupported,
    /// Too large.
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Size in bytes.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// Already in the pool.
    #[error("already known")]
    AlreadyKnown,
    /// Nonce already used.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// The account's nonce.
        state: u64,
        /// The transaction's.
        tx: u64,
    },
    /// Too far ahead of the account's nonce.
    #[error(
        "nonce too high: next nonce {state}, tx nonce {tx}, at most {max_gap} ahead are queued"
    )]
    NonceTooHigh {
        /// The account's nonce.
        state: u64,
        /// The transaction's.
        tx: u64,
        /// Largest gap queued.
        max_gap: u64,
    },
    /// Gas below the intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// Gas limit.
        have: u64,
        /// Intrinsic gas.
        want: u64,
    },
    /// Gas above the block gas limit.
    #[error("exceeds block gas limit")]
    GasLimitExceeded,
    /// Fee cap below the base fee of the next block.
    #[error(
        "max fee per gas less than block base fee: maxFeePerGas: {max_fee}, baseFee: {base_fee}"
    )]
    FeeCapTooLow {
        /// The transaction's fee cap.
        max_fee: u128,
        /// Next block's base fee.
        base_fee: u64,
    },
    /// Tip above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Not enough ETH.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Balance.
        balance: U256,
        /// gas * maxFee + value.
        cost: U256,
    },
    /// A same-nonce replacement that does not pay enough more.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The pool is full.
    #[error("txpool is full")]
    PoolFull,
    /// Reading state failed.
    #[error("internal error: {0}")]
    Internal(String),
}
