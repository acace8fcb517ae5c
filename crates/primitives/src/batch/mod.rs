//! Batches: the L2 blocks the batcher posts to the `BatchInbox` on L1, and their codec.
//!
//! # Wire format, version 2
//!
//! A batch is the `data` of one `BatchInbox.postBatch(bytes)` call. Its envelope is
//! uncompressed, so the inbox checks it at posting and records it; only transactions are
//! compressed, in independent **segments** that an L1 contract can open one at a time.
//! Integers in the envelope are big-endian.
//!
//! ```text
//! version        1 byte   0x02
//! first_block    8 bytes  L2 number of the first block (the inbox's next block)
//! block_count    2 bytes  1..=MAX_BLOCKS_PER_BATCH
//! header_count   1 byte   L1 headers that extend the inbox's recorded L1 origins
//! segment_count  1 byte   0..=MAX_SEGMENTS_PER_BATCH, ORed with OPEN_FLAG (0x80) when the
//!                         batch's last block continues in the next batch
//! deposit_count  8 bytes  bridge messages in L1 blocks up to the batch's last origin
//! headers        header_count x (length: 2 bytes ‖ RLP of an L1 header)
//! blocks         block_count x (origin delta: 1 byte, 0 or 1 ‖ timestamp delta: 4 bytes ‖
//!                tx count: 2 bytes), each relative to the block before (the first block to
//!                the L2 parent)
//! segment table  segment_count x (length: 4 bytes ‖ tx count: 2 bytes)
//! segments       the segments, back to back; their lengths add up to the rest exactly
//! ```
//!
//! The batch's transactions, in order, are split into blocks by the blocks' tx counts and into
//! segments by the segments' tx counts; a block may span segments, and batches: a batch with
//! [`OPEN_FLAG`] leaves its last block open, and the next batch starts with that block again,
//! repeating its entry's deltas with the count of its further transactions (the inbox keeps a
//! block within [`MAX_SEGMENTS_PER_BLOCK`] segments over all its batches). Each segment is
//! `FastLZ(payload)` (solady's `LibZip` stream format, at most [`MAX_SEGMENT_SIZE`] bytes,
//! decompressing to at most [`MAX_SEGMENT_PAYLOAD`]) with the payload laid out by field rather
//! than by transaction, like OP's span batches, so FastLZ sees long runs of alike bytes:
//!
//! ```text
//! address_count          varint, then that many 20-byte addresses
//! -- one entry per transaction, column after column:
//! tx_types               1 byte each: 0 legacy (EIP-155), 1 EIP-2930, 2 EIP-1559
//! y_parity               bitmap
//! nonces                 varint distance back to a transaction with nonce - 1, or 0; then, for
//!                        the zeros, the nonces as varints
//! gas_limits             recent-value codes (4 bits each), then the new values as varints
//! to                     varint: 0 creates a contract, i + 1 is address i of the table
//! values                 decimal
//! gas_price/max_fee      recent-value codes, then the new values as decimals
//! max_priority_fee       the same, over EIP-1559 transactions only
//! calldata_headers       varint: 2 * len for raw calldata of len bytes; 1 for an ERC-20
//!                        `transfer(address,uint256)`, 3 for `approve(address,uint256)`
//! calldata_bodies        raw calldata, or for the ERC-20 forms: address index varint, decimal
//! access_lists           typed transactions only: entry count varint; per entry an address
//!                        index varint, key count varint, 32-byte keys
//! signatures             r ‖ s, 64 bytes each
//! ```
//!
//! *varint* is unsigned LEB128 (at most 64 bits; 256 for gas limits); *decimal* is 0 for zero,
//! else the byte `e + 1` (`e <= 77`) then a varint mantissa `m` for `m * 10^e`; bitmaps are
//! packed least significant bit first; a *recent-value code* `j > 0` repeats the `j`-th most
//! recently used value of the column, 0 takes the next new value. Chain ids are not stored:
//! typed transactions carry the chain id given to the decoder and legacy ones are rebuilt as
//! EIP-155 for it.
//!
//! # Consensus
//! - [`decode_segment`] is the rule, and the Solidity `SegmentOpener` accepts exactly the same
//!   segments with the same transactions. Rules that would only make the encoding unique
//!   (minimal varints, referenced rather than repeated values, used addresses, zero padding
//!   bits) are deliberately absent: each side must be deterministic, not canonical.
//! - A segment that does not decode empties every block with a transaction in it; the blocks
//!   themselves (number, timestamp, origin) are fixed by the envelope the inbox accepted.
//! - [`BatchEnvelope::parse`] never panics, and decoding allocates at most the input plus
//!   bounded multiples of [`MAX_SEGMENT_PAYLOAD`].

mod blob;
mod error;
mod fastlz;
mod segment;
mod wire;

#[cfg(test)]
mod tests;

pub use blob::{
    BLOB_BYTES_PER_FIELD_ELEMENT, BLOB_DATA_SIZE, DataPath, KZG_PRECOMPUTE, MAX_BLOBS_PER_BATCH,
    MAX_SEGMENT_BYTES_PER_BATCH, blob_challenge, blob_commitment, blob_count, blob_data,
    blob_element_point, blob_element_proof, blob_elements_covering, kzg_settings, to_blobs,
    whole_blob_proof,
};
pub use error::BatchError;
pub use fastlz::{flz_compress, flz_decompress};
pub use segment::{
    batch_tx, decode_segment, encode_segment, merkle_proof, merkle_root, segment_tx_root, tx_leaf,
};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{B256, Bytes, keccak256};

/// Version byte of the format described in the [module docs](self).
pub const BATCH_VERSION: u8 = 0x02;

/// Largest batch in bytes: the calldata of one L1 transaction, under the 128 KiB transaction
/// size limit of L1 clients with room for the call's envelope.
pub const MAX_BATCH_SIZE: usize = 120_000;

/// Most blocks in one batch (7 envelope bytes each).
pub const MAX_BLOCKS_PER_BATCH: usize = 4_096;

/// Most segments in one batch.
pub const MAX_SEGMENTS_PER_BATCH: usize = 16;

/// The flag in the envelope's segment count byte that leaves the batch's last block open
/// (`BatchInbox.OPEN_FLAG`).
pub const OPEN_FLAG: u8 = 0x80;

/// Most segments holding one block's transactions over all the batches holding them
/// (`BatchInbox.MAX_SEGMENTS_PER_BLOCK`).
pub const MAX_SEGMENTS_PER_BLOCK: usize = 16;

/// Largest compressed segment. FastLZ's window is 8 KiB, so segments of this size lose little
/// ratio against one stream over the whole batch.
pub const MAX_SEGMENT_SIZE: usize = 32_768;

/// Largest decompressed segment payload: bounds what opening one segment costs on L1.
pub const MAX_SEGMENT_PAYLOAD: usize = 65_536;

/// Largest transaction (EIP-2718 bytes) a batch is sure to carry: whatever its contents, it fits
/// one segment of [`MAX_SEGMENT_SIZE`] on its own (FastLZ adds at most one byte per 32 of
/// incompressible data). The sequencer's pool refuses larger ones.
pub const MAX_TX_SIZE: usize = 31_000;

/// Most transactions in one segment: bounds the per-transaction hashing of an L1 opening.
pub const MAX_TRANSACTIONS_PER_SEGMENT: usize = 256;

/// Most L1 headers one batch carries (the count is one byte).
pub const MAX_HEADERS_PER_BATCH: usize = 255;

/// Fixed bytes before the headers.
const ENVELOPE_FIXED: usize = 21;
/// Bytes of one block entry.
const BLOCK_ENTRY: usize = 7;
/// Bytes of one segment table entry: length (4) and transaction count (2).
const SEGMENT_ENTRY: usize = 6;

/// A run of consecutive L2 blocks, as posted to L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Number of the first block.
    pub first_block: u64,
    /// Bridge messages in L1 blocks up to the last block's origin (the inbox checks it).
    pub deposit_count: u64,
    /// RLP-encoded L1 headers extending the inbox's recorded origins, oldest first.
    pub headers: Vec<Bytes>,
    /// The blocks, in order. When the batch continues an open block, the first is that
    /// block (its timestamp and origin again, only its further transactions), and the parent
    /// given to [`Self::encode`] is that block's parent.
    pub blocks: Vec<BatchBlock>,
    /// Whether the last block continues in the next batch ([`OPEN_FLAG`]).
    pub last_block_open: bool,
}

/// One L2 block of a [`Batch`]: what derivation needs to rebuild it besides the deposits,
/// which come from L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchBlock {
    /// The block's timestamp.
    pub timestamp: u64,
    /// Number of the block's L1 origin.
    pub l1_origin: u64,
    /// The sequenced transactions: signed, never deposits.
    pub transactions: Vec<TxEnvelope>,
}

/// The L2 block a batch builds on: the block before its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchParent {
    /// Its timestamp.
    pub timestamp: u64,
    /// Its L1 origin's number.
    pub l1_origin: u64,
}

/// One block entry of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEntry {
    /// 0: the previous block's origin; 1: the next L1 block.
    pub origin_delta: u8,
    /// Seconds after the previous block.
    pub timestamp_delta: u32,
    /// Sequenced transactions in the block.
    pub tx_count: u16,
}

/// A block of a batch as its segments decode, with whether every segment holding one of its
/// transactions decoded ([`BatchEnvelope::decode_parts`]).
pub type DecodedBlock = (BatchBlock, bool);

/// A parsed envelope: everything but the segments' contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEnvelope {
    /// Number of the first block.
    pub first_block: u64,
    /// Bridge messages in L1 blocks up to the last block's origin.
    pub deposit_count: u64,
    /// RLP-encoded L1 headers.
    pub headers: Vec<Bytes>,
    /// The block entries.
    pub blocks: Vec<BlockEntry>,
    /// `(tx count, compressed bytes)` of each segment.
    pub segments: Vec<(usize, Bytes)>,
    /// `keccak256` of the block table (what the inbox records as `blocksHash`).
    pub blocks_hash: B256,
    /// The segments' total length in bytes.
    pub segment_bytes: usize,
    /// Whether the last block continues in the next batch ([`OPEN_FLAG`]).
    pub last_block_open: bool,
}

impl Batch {
    /// Encodes the batch on top of `parent`.
    ///
    /// Fails if the batch has no or too many blocks, timestamps or origins that go back or
    /// origins that skip an L1 block, a block with more than 65 535 transactions or a
    /// transaction the format cannot carry (deposit, EIP-4844, EIP-7702, legacy without
    /// EIP-155, another chain than the batch's first transaction), or if the result exceeds
    /// [`MAX_BATCH_SIZE`] or [`MAX_SEGMENTS_PER_BATCH`].
    pub fn encode(&self, parent: BatchParent) -> Result<Vec<u8>, BatchError> {
        let (out, _) = self.encode_unbounded(parent)?;
        if out.len() > MAX_BATCH_SIZE {
            return Err(BatchError::TooLarge {
                size: out.len(),
                max: MAX_BATCH_SIZE,
            });
        }
        Ok(out)
    }

    /// [`Self::encode`] without the calldata bound on the whole batch: returns the bytes and the
    /// envelope's length (where the segments start). For a blob batch, whose segments travel
    /// in blobs: the envelope is still at most [`MAX_BATCH_SIZE`] (else
    /// [`BatchError::TooLarge`]); the segments are bounded by their count and size alone.
    pub fn encode_unbounded(&self, parent: BatchParent) -> Result<(Vec<u8>, usize), BatchError> {
        if self.blocks.is_empty() {
            return Err(BatchError::NoBlocks);
        }
        if self.blocks.len() > MAX_BLOCKS_PER_BATCH {
            return Err(BatchError::TooManyBlocks {
                count: self.blocks.len(),
                max: MAX_BLOCKS_PER_BATCH,
            });
        }
        if self.headers.len() > MAX_HEADERS_PER_BATCH {
            return Err(BatchError::TooManyHeaders {
                count: self.headers.len(),
            });
        }
        let mut table = Vec::with_capacity(self.blocks.len() * BLOCK_ENTRY);
        let (mut timestamp, mut origin) = (parent.timestamp, parent.l1_origin);
        for (index, block) in self.blocks.iter().enumerate() {
            let origin_delta = match block.l1_origin.checked_sub(origin) {
                Some(delta @ (0 | 1)) => delta as u8,
                _ => {
                    return Err(BatchError::OriginNotAdjacent {
                        block: index,
                        previous: origin,
                        current: block.l1_origin,
                    });
                }
            };
            let timestamp_delta = block
                .timestamp
                .checked_sub(timestamp)
                .and_then(|delta| u32::try_from(delta).ok())
                .ok_or(BatchError::NotMonotonic {
                    block: index,
                    field: "timestamp",
                    previous: timestamp,
                    current: block.timestamp,
                })?;
            let tx_count = u16::try_from(block.transactions.len()).map_err(|_| {
                BatchError::TooManyTransactions {
                    count: block.transactions.len(),
                    max: u16::MAX as usize,
                }
            })?;
            table.push(origin_delta);
            table.extend_from_slice(&timestamp_delta.to_be_bytes());
            table.extend_from_slice(&tx_count.to_be_bytes());
            (timestamp, origin) = (block.timestamp, block.l1_origin);
        }

        let txs: Vec<TxEnvelope> = self
            .blocks
            .iter()
            .flat_map(|block| block.transactions.iter().cloned())
            .collect();
        let segments = split_into_segments(&txs)?;
        if segments.len() > MAX_SEGMENTS_PER_BATCH {
            return Err(BatchError::TooManySegments {
                count: segments.len(),
            });
        }

        let mut out = Vec::with_capacity(
            ENVELOPE_FIXED
                + segments
                    .iter()
                    .map(|(_, s)| s.len() + SEGMENT_ENTRY)
                    .sum::<usize>(),
        );
        out.push(BATCH_VERSION);
        out.extend_from_slice(&self.first_block.to_be_bytes());
        out.extend_from_slice(&(self.blocks.len() as u16).to_be_bytes());
        out.push(self.headers.len() as u8);
        out.push(segments.len() as u8 | if self.last_block_open { OPEN_FLAG } else { 0 });
        out.extend_from_slice(&self.deposit_count.to_be_bytes());
        for header in &self.headers {
            let len = u16::try_from(header.len()).map_err(|_| BatchError::TooLarge {
                size: header.len(),
                max: u16::MAX as usize,
            })?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(header);
        }
        out.extend_from_slice(&table);
        for (count, segment) in &segments {
            out.extend_from_slice(&(segment.len() as u32).to_be_bytes());
            out.extend_from_slice(&(*count as u16).to_be_bytes());
        }
        let envelope_len = out.len();
        if envelope_len > MAX_BATCH_SIZE {
            return Err(BatchError::TooLarge {
                size: envelope_len,
                max: MAX_BATCH_SIZE,
            });
        }
        for (_, segment) in &segments {
            out.extend_from_slice(segment);
        }
        Ok((out, envelope_len))
    }

    /// Number of transactions in all blocks.
    pub fn transaction_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| block.transactions.len())
            .sum()
    }
}

/// How [`Batch::encode`] splits `txs`, when they start a batch, into segments: the number of
/// transactions in each. The split is greedy (each segment takes as many transactions as fit),
/// so the transactions after any boundary, starting a batch of their own, split the same way:
/// a block cut at these boundaries into batches keeps exactly these segments.
pub fn segment_tx_counts(txs: &[TxEnvelope]) -> Result<Vec<usize>, BatchError> {
    Ok(split_into_segments(txs)?
        .into_iter()
        .map(|(count, _)| count)
        .collect())
}

/// Splits `txs` into as few segments as the limits allow, in order: as many transactions as fit
/// one segment, then the next. Only the batcher splits (derivation decodes whatever split it
/// finds), so the search needs no rule every replica shares.
fn split_into_segments(txs: &[TxEnvelope]) -> Result<Vec<(usize, Vec<u8>)>, BatchError> {
    let too_large = |err: &BatchError| {
        matches!(
            err,
            BatchError::TooLarge { .. } | BatchError::PayloadTooLarge { .. }
        )
    };
    let mut segments = Vec::new();
    let mut rest = txs;
    while !rest.is_empty() {
        let most = rest.len().min(MAX_TRANSACTIONS_PER_SEGMENT);
        // The common case: everything left (up to the count limit) fits.
        let (take, segment) = match encode_segment(&rest[..most]) {
            Ok(segment) => (most, segment),
            Err(err) if too_large(&err) && most > 1 => {
                // Binary search for the longest prefix that fits: `fits` encodes, `fails` does
                // not. Compressed size grows with the prefix closely enough that the prefix
                // found fills the segment, where halving could leave it half empty.
                let (mut fits, mut fails) = (None::<(usize, Vec<u8>)>, most);
                let mut low = 0;
                while fails - low > 1 {
                    let mid = low + (fails - low) / 2;
                    match encode_segment(&rest[..mid]) {
                        Ok(segment) => {
                            low = mid;
                            fits = Some((mid, segment));
                        }
                        Err(err) if too_large(&err) => fails = mid,
                        Err(err) => return Err(err),
                    }
                }
                match fits {
                    Some(found) => found,
                    // Not even one transaction fits.
                    None => (1, encode_segment(&rest[..1])?),
                }
            }
            Err(err) => return Err(err),
        };
        segments.push((take, segment));
        rest = &rest[take..];
    }
    Ok(segments)
}

impl BatchEnvelope {
    /// Parses `data` and checks everything the inbox checks about its shape: version, size,
    /// counts and limits, origin deltas, segment lengths and transaction counts. (The inbox
    /// also checks it against its state: first block, origins, timestamps, deposits.)
    pub fn parse(data: &[u8]) -> Result<Self, BatchError> {
        Self::parse_from(data, None)
    }

    /// Parses a blob batch: `envelope` is the `postBlobBatch` calldata (ending with the segment
    /// table) and `blob_data` the transaction's blob data stream ([`blob_data`]), whose first
    /// bytes are the segments; the bytes after them are ignored. Checks what [`Self::parse`]
    /// checks, and that the blob data holds every segment.
    pub fn parse_blob(envelope: &[u8], blob_data: &[u8]) -> Result<Self, BatchError> {
        Self::parse_from(envelope, Some(blob_data))
    }

    fn parse_from(data: &[u8], blob_data: Option<&[u8]>) -> Result<Self, BatchError> {
        if data.is_empty() {
            return Err(BatchError::Empty);
        }
        if data.len() > MAX_BATCH_SIZE {
            return Err(BatchError::TooLarge {
                size: data.len(),
                max: MAX_BATCH_SIZE,
            });
        }
        if data[0] != BATCH_VERSION {
            return Err(BatchError::UnknownVersion(data[0]));
        }
        let mut r = Envelope { data, pos: 1 };
        let first_block = u64::from_be_bytes(r.array()?);
        let block_count = usize::from(u16::from_be_bytes(r.array()?));
        let header_count = usize::from(r.array::<1>()?[0]);
        let segment_byte = r.array::<1>()?[0];
        let last_block_open = segment_byte & OPEN_FLAG != 0;
        let segment_count = usize::from(segment_byte & !OPEN_FLAG);
        let deposit_count = u64::from_be_bytes(r.array()?);
        debug_assert_eq!(r.pos, ENVELOPE_FIXED);
        if block_count == 0 || block_count > MAX_BLOCKS_PER_BATCH {
            return Err(BatchError::TooManyBlocks {
                count: block_count,
                max: MAX_BLOCKS_PER_BATCH,
            });
        }
        if segment_count > MAX_SEGMENTS_PER_BATCH {
            return Err(BatchError::TooManySegments {
                count: segment_count,
            });
        }
        let mut headers = Vec::with_capacity(header_count);
        for _ in 0..header_count {
            let len = usize::from(u16::from_be_bytes(r.array()?));
            headers.push(Bytes::copy_from_slice(r.take(len)?));
        }
        let table = r.take(block_count * BLOCK_ENTRY)?;
        let blocks_hash = keccak256(table);
        let mut blocks = Vec::with_capacity(block_count);
        let mut block_txs = 0usize;
        for entry in table.chunks_exact(BLOCK_ENTRY) {
            let origin_delta = entry[0];
            if origin_delta > 1 {
                return Err(BatchError::Envelope("origin delta is neither 0 nor 1"));
            }
            let entry = BlockEntry {
                origin_delta,
                timestamp_delta: u32::from_be_bytes([entry[1], entry[2], entry[3], entry[4]]),
                tx_count: u16::from_be_bytes([entry[5], entry[6]]),
            };
            block_txs += usize::from(entry.tx_count);
            blocks.push(entry);
        }
        let mut sizes = Vec::with_capacity(segment_count);
        let mut segment_txs = 0usize;
        for _ in 0..segment_count {
            let len = u32::from_be_bytes(r.array()?) as usize;
            let count = usize::from(u16::from_be_bytes(r.array()?));
            if len == 0 || len > MAX_SEGMENT_SIZE {
                return Err(BatchError::Envelope("segment length outside 1..=32768"));
            }
            if count == 0 || count > MAX_TRANSACTIONS_PER_SEGMENT {
                return Err(BatchError::Envelope("segment tx count outside 1..=256"));
            }
            segment_txs += count;
            sizes.push((count, len));
        }
        if segment_txs != block_txs {
            return Err(BatchError::Envelope(
                "segments and blocks hold different transaction counts",
            ));
        }
        let segment_bytes: usize = sizes.iter().map(|(_, len)| len).sum();
        let mut blob = blob_data.map(|blob_data| {
            (
                r.pos,
                Envelope {
                    data: blob_data,
                    pos: 0,
                },
            )
        });
        if let Some((envelope_end, blob)) = &blob {
            if *envelope_end != data.len() {
                return Err(BatchError::TrailingBytes {
                    count: data.len() - envelope_end,
                });
            }
            if segment_bytes == 0 {
                return Err(BatchError::Envelope("a blob batch without segment bytes"));
            }
            if blob.data.len() < segment_bytes {
                return Err(BatchError::MissingBlobData {
                    declared: segment_bytes,
                });
            }
        }
        let source = match &mut blob {
            Some((_, blob)) => blob,
            None => &mut r,
        };
        let mut segments = Vec::with_capacity(segment_count);
        for (count, len) in sizes {
            segments.push((count, Bytes::copy_from_slice(source.take(len)?)));
        }
        if blob.is_none() && r.pos != data.len() {
            return Err(BatchError::TrailingBytes {
                count: data.len() - r.pos,
            });
        }
        Ok(Self {
            segment_bytes,
            last_block_open,
            first_block,
            deposit_count,
            headers,
            blocks,
            segments,
            blocks_hash,
        })
    }

    /// The batch's blocks on top of `parent`, with their transactions: a block with a
    /// transaction in a segment that does not decode is empty (the rest are unaffected).
    /// Returns the blocks and the indices of the segments that did not decode, with why.
    pub fn decode_blocks(
        &self,
        parent: BatchParent,
        chain_id: u64,
    ) -> (Vec<BatchBlock>, Vec<(usize, BatchError)>) {
        let (blocks, failed) = self.decode_parts(parent, chain_id);
        let blocks = blocks
            .into_iter()
            .map(|(block, complete)| BatchBlock {
                transactions: if complete {
                    block.transactions
                } else {
                    Vec::new()
                },
                ..block
            })
            .collect();
        (blocks, failed)
    }

    /// [`Self::decode_blocks`] without emptying: each block with whether every segment holding
    /// one of its transactions decoded (if not, its transactions here are only those that did).
    /// A block spanning batches is empty if any of its parts is incomplete, which only the
    /// caller, holding every part, can tell.
    pub fn decode_parts(
        &self,
        parent: BatchParent,
        chain_id: u64,
    ) -> (Vec<DecodedBlock>, Vec<(usize, BatchError)>) {
        let mut txs: Vec<Option<TxEnvelope>> = Vec::new();
        let mut failed = Vec::new();
        for (index, (count, bytes)) in self.segments.iter().enumerate() {
            match decode_segment(bytes, *count, chain_id) {
                Ok(decoded) => txs.extend(decoded.into_iter().map(Some)),
                Err(err) => {
                    txs.extend(std::iter::repeat_n(None, *count));
                    failed.push((index, err));
                }
            }
        }
        let mut txs = txs.into_iter();
        let (mut timestamp, mut origin) = (parent.timestamp, parent.l1_origin);
        let blocks = self
            .blocks
            .iter()
            .map(|entry| {
                timestamp = timestamp.saturating_add(u64::from(entry.timestamp_delta));
                origin += u64::from(entry.origin_delta);
                let block_txs: Vec<Option<TxEnvelope>> =
                    txs.by_ref().take(usize::from(entry.tx_count)).collect();
                let complete = block_txs.iter().all(Option::is_some);
                let block = BatchBlock {
                    timestamp,
                    l1_origin: origin,
                    transactions: block_txs.into_iter().flatten().collect(),
                };
                (block, complete)
            })
            .collect();
        (blocks, failed)
    }

    /// The block table as posted (what the inbox records `blocksHash` of): per block its
    /// origin delta, timestamp delta and transaction count.
    pub fn block_table(&self) -> Vec<u8> {
        let mut table = Vec::with_capacity(self.blocks.len() * BLOCK_ENTRY);
        for entry in &self.blocks {
            table.push(entry.origin_delta);
            table.extend_from_slice(&entry.timestamp_delta.to_be_bytes());
            table.extend_from_slice(&entry.tx_count.to_be_bytes());
        }
        table
    }

    /// The Merkle root of the segments' hashes (what the inbox records as `segmentRoot`).
    pub fn segment_root(&self) -> B256 {
        merkle_root(
            &self
                .segments
                .iter()
                .map(|(_, bytes)| keccak256(bytes))
                .collect::<Vec<_>>(),
        )
    }

    /// Total transactions in the batch.
    pub fn transaction_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| usize::from(block.tx_count))
            .sum()
    }

    /// The L1 origin of the last block, on top of a parent with origin `parent_origin`.
    pub fn last_origin(&self, parent_origin: u64) -> u64 {
        parent_origin
            + self
                .blocks
                .iter()
                .map(|block| u64::from(block.origin_delta))
                .sum::<u64>()
    }
}

/// Reads the fixed-width envelope fields.
struct Envelope<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Envelope<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], BatchError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.data.len())
            .ok_or(BatchError::Envelope("runs past the end of the batch"))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BatchError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}
