use alloy_primitives::{Address, U256};

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
    #[error("invalid chain id: have {}, want {want}", have.map_or_else(|| "none".to_string(), |id| id.to_string()))]
    WrongChainId {
        /// The transaction's.
        have: Option<u64>,
        /// This chain's.
        want: u64,
    },
    /// Legacy transaction without EIP-155.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    NotReplayProtected,
    /// A type the batch codec cannot carry (EIP-4844 blobs, EIP-7702 authorizations): such a
    /// transaction could be sequenced but never posted to L1. Legacy (EIP-155), EIP-2930 and
    /// EIP-1559 transactions are accepted.
    #[error("transaction type not supported")]
    TxTypeNotSupported,
    /// Larger than the pool accepts, which is never more than one batch segment is sure to
    /// carry (`MAX_TX_SIZE`).
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
    /// Too far ahead of the account's nonce. Counted from the nonce in state, not from the
    /// sender's transactions already pooled: after a deep L1 reorg put back more than
    /// `max_gap` of them, the message said "queued" of transactions that were pending.
    #[error(
        "nonce too high: the account's nonce is {state} and the tx nonce {tx}; the pool takes a sender's transactions up to {max_gap} past the account's nonce, pending ones included: send again once earlier ones are in a block"
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
    /// Gas above the block gas limit: no block could include it.
    #[error("exceeds block gas limit: gas limit {gas_limit}, block gas limit {block_gas_limit}")]
    GasLimitExceeded {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The chain's block gas limit.
        block_gas_limit: u64,
    },
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
    /// Not enough ETH. A cost above `U256::MAX` (a value near 2^256) is reported as
    /// `U256::MAX`, never wrapped.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Balance.
        balance: U256,
        /// gas * maxFee + value.
        cost: U256,
    },
    /// The transaction is affordable alone, but not with the sender's other pooled
    /// transactions: together they would overdraw the balance (geth's overdraft check).
    #[error(
        "insufficient funds for gas * price + value: balance {balance}, queued cost {queued}, tx cost {cost}"
    )]
    Overdraft {
        /// Balance.
        balance: U256,
        /// gas * maxFee + value of the sender's other pooled transactions.
        queued: U256,
        /// gas * maxFee + value of this one.
        cost: U256,
    },
    /// A same-nonce replacement that does not raise both the max fee and the max priority fee
    /// by the price bump (10% by default).
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The transaction's sub-pool (pending or queued) is full and it does not pay a higher
    /// effective tip than any transaction it could evict. Pay a higher priority fee, or wait.
    #[error("txpool is full")]
    PoolFull,
    /// The sequencer has sequenced as much as the batcher can post to L1 before the sequencing
    /// window closes: it takes no transactions until the backlog drains.
    #[error(
        "sequencer is throttled: {backlog_bytes} bytes in {backlog_blocks} L2 blocks wait to be posted to L1; retry in a few L1 blocks"
    )]
    Throttled {
        /// Bytes sequenced but not yet derived from L1.
        backlog_bytes: u64,
        /// Blocks sequenced but not yet derived from L1.
        backlog_blocks: u64,
    },
    /// The sender already has the most transactions the pool queues behind nonce gaps.
    #[error(
        "txpool is full: sender {sender} has {max} queued transactions behind a nonce gap; \
         send the missing nonces first"
    )]
    SenderQueueFull {
        /// The sender.
        sender: Address,
        /// Queued transactions allowed per sender.
        max: usize,
    },
    /// Reading state failed.
    #[error("internal error: {0}")]
    Internal(String),
}
