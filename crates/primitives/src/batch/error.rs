//! Errors of the batch codec.

/// Why a batch could not be encoded or decoded.
///
/// A segment that does not decode empties the blocks it holds transactions of (see the
/// [module docs](super)); an envelope the inbox accepted always parses. Encoding errors mean the
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
    /// A segment holds no transactions (or a block more than a count can say).
    #[error("a segment must hold at least one transaction")]
    NoTransactions,
    /// A segment has more transactions than
    /// [`MAX_TRANSACTIONS_PER_SEGMENT`](super::MAX_TRANSACTIONS_PER_SEGMENT), or a block more
    /// than its 16-bit count can say.
    #[error("{count} transactions, more than the limit of {max}; split them")]
    TooManyTransactions {
        /// Transactions in the batch.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The encoded batch exceeds [`MAX_BATCH_SIZE`](super::MAX_BATCH_SIZE) bytes, or a
    /// segment [`MAX_SEGMENT_SIZE`](super::MAX_SEGMENT_SIZE).
    #[error("encoded {size} bytes, more than the limit of {max}; split it")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A segment's uncompressed payload exceeds
    /// [`MAX_SEGMENT_PAYLOAD`](super::MAX_SEGMENT_PAYLOAD) bytes.
    #[error("uncompressed segment payload is larger than the limit of {max} bytes; split it")]
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
    /// A block's origin is neither its predecessor's nor the next L1 block.
    #[error("block {block} has L1 origin {current}, neither {previous} nor the next L1 block")]
    OriginNotAdjacent {
        /// Index of the block in the batch.
        block: usize,
        /// The previous block's origin.
        previous: u64,
        /// This block's origin.
        current: u64,
    },
    /// More segments than [`MAX_SEGMENTS_PER_BATCH`](super::MAX_SEGMENTS_PER_BATCH).
    #[error(
        "{count} segments, more than the limit of {}; split the batch",
        super::MAX_SEGMENTS_PER_BATCH
    )]
    TooManySegments {
        /// Segments needed.
        count: usize,
    },
    /// More L1 headers than one batch can carry.
    #[error(
        "{count} L1 headers, more than the {} one batch can carry",
        super::MAX_HEADERS_PER_BATCH
    )]
    TooManyHeaders {
        /// Headers needed.
        count: usize,
    },
    /// The uncompressed envelope breaks the format.
    #[error("malformed batch envelope: {0}")]
    Envelope(&'static str),
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
    /// The decompressed segment payload is malformed.
    #[error("malformed segment payload at byte {offset}: {reason}")]
    Malformed {
        /// Offset in the decompressed payload.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A blob batch's blobs hold fewer bytes than its segment table declares.
    #[error("the segment table declares {declared} bytes of segments, more than the blobs hold")]
    MissingBlobData {
        /// The segments' total length.
        declared: usize,
    },
    /// Bytes remain after the last field of a segment payload or the batch.
    #[error("{count} trailing bytes")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}
