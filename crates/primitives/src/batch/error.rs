//! Errors of the batch codec.

/// Why a batch could not be encoded or decoded.
///
/// Decoding errors mean the posted bytes are not a valid batch: derivation drops the whole batch
/// (it is never partially applied) and moves on to the next one. Encoding errors mean the
/// sequencer tried to batch something the format cannot carry; the offending transaction must
/// not have been accepted into a block in the first place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The batch holds no blocks; an empty batch is never posted.
    #[error("a batch must contain at least one block")]
    NoBlocks,
    /// The batch has more blocks than [`MAX_BLOCKS_PER_BATCH`](super::MAX_BLOCKS_PER_BATCH).
    #[error("batch has {count} blocks, more than the limit of {max}; split it")]
    TooManyBlocks {
        /// Blocks in the batch.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The batch has more transactions than
    /// [`MAX_TRANSACTIONS_PER_BATCH`](super::MAX_TRANSACTIONS_PER_BATCH).
    #[error("batch has {count} transactions, more than the limit of {max}; split it")]
    TooManyTransactions {
        /// Transactions in the batch.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The encoded batch exceeds [`MAX_BATCH_SIZE`](super::MAX_BATCH_SIZE) bytes.
    #[error("encoded batch is {size} bytes, more than the limit of {max}; split it")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The uncompressed payload exceeds [`MAX_PAYLOAD_SIZE`](super::MAX_PAYLOAD_SIZE) bytes.
    #[error("uncompressed batch payload is larger than the limit of {max} bytes; split it")]
    PayloadTooLarge {
        /// The limit.
        max: usize,
    },
    /// A block's timestamp or L1 origin is lower than its predecessor's; the format stores
    /// non-negative deltas only.
    #[error("block {block} has {field} {current}, lower than the previous block's {previous}")]
    NotMonotonic {
        /// Index of the block in the batch.
        block: usize,
        /// `"timestamp"` or `"l1_origin"`.
        field: &'static str,
        /// The previous block's value.
        previous: u64,
        /// This block's value.
        current: u64,
    },
    /// A transaction type the format cannot carry (deposits, EIP-4844, EIP-7702).
    #[error("transaction {index} has type {tx_type:#x}, which batches cannot carry")]
    UnsupportedTxType {
        /// Index of the transaction in the batch.
        index: usize,
        /// Its EIP-2718 type.
        tx_type: u8,
    },
    /// A legacy transaction without EIP-155 replay protection.
    #[error(
        "legacy transaction {index} has no EIP-155 chain id; only replay-protected transactions are accepted"
    )]
    MissingChainId {
        /// Index of the transaction in the batch.
        index: usize,
    },
    /// Transactions of one batch signed for different chains.
    #[error(
        "transaction {index} is for chain {found}, but the batch's first transaction is for chain {expected}"
    )]
    ChainIdMismatch {
        /// Index of the transaction in the batch.
        index: usize,
        /// The chain id of the batch's first transaction.
        expected: u64,
        /// This transaction's chain id.
        found: u64,
    },
    /// The bytes are empty (no version byte).
    #[error("batch data is empty")]
    Empty,
    /// The version byte is not one this node understands.
    #[error("unknown batch version {0:#04x}")]
    UnknownVersion(u8),
    /// The FastLZ stream is malformed.
    #[error("malformed FastLZ stream at byte {offset}: {reason}")]
    Decompress {
        /// Offset of the offending instruction in the compressed stream.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The decompressed payload is malformed or not canonically encoded.
    #[error("malformed batch payload at byte {offset}: {reason}")]
    Malformed {
        /// Offset in the decompressed payload.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Bytes remain after the last field of the payload.
    #[error("{count} trailing bytes after the batch payload")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}
