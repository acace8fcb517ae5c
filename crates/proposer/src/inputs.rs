//! What L1 fixes about one disputed block's inputs, as the one-step verifier reads it: the
//! block table of the inbox record holding the block and the batch itself (for a blob batch,
//! its envelope and blobs), whose segments give the block's batch transactions (those the
//! rules skip included) and the leaves they are proven by.

use std::ops::Range;

use alloy_consensus::TxEnvelope;
use alloy_primitives::{B256, Bytes, keccak256};
use rollup_primitives::{
    BatchEnvelope, bindings::IBatchInbox::Record, blob_data, decode_segment, tx_leaf,
};

/// How a record's batch reached L1.
#[derive(Debug, Clone)]
pub(crate) enum Posted {
    /// `postBatch(data)`: the envelope and the segments.
    Calldata(Bytes),
    /// `postBlobBatch(envelope)`: the envelope alone, the segments in blobs with the
    /// transaction's versioned hashes; the blobs themselves when this node has them.
    Blobs {
        envelope: Bytes,
        versioned_hashes: Vec<B256>,
        blobs: Option<Vec<Bytes>>,
    },
    /// `forceInclude`: no batch; the block table as the inbox built it.
    Forced(Bytes),
}

/// A blob batch as `SegmentStore.loadBlob` and `openBlob` take it.
#[derive(Debug, Clone)]
pub(crate) struct BlobBatch {
    /// `postBlobBatch`'s argument.
    pub envelope: Bytes,
    /// The transaction's versioned hashes, in order.
    pub versioned_hashes: Vec<B256>,
    /// Its blobs, in that order (each checked against its hash).
    pub blobs: Vec<Bytes>,
    /// Each segment's byte offset in the blobs' data stream.
    pub offsets: Vec<usize>,
    /// Each segment's length.
    pub lengths: Vec<usize>,
}

/// One segment of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// The batch index of its first transaction.
    pub first_tx: usize,
    /// Its transaction count (the segment table's).
    pub tx_count: usize,
    /// Its transactions; `None` if it does not decode.
    pub transactions: Option<Vec<TxEnvelope>>,
    /// Their leaves (empty if it does not decode).
    pub leaves: Vec<B256>,
}

/// The disputed block's place in its inbox record (for a block spanning records, the one
/// that closed it), with its parts in the records before that left it open.
#[derive(Debug, Clone)]
pub(crate) struct BlockBatch {
    /// The record's index.
    pub record: u64,
    /// The record's block table (`InputWitness.blockTable`).
    pub block_table: Bytes,
    /// The batch as posted, for a calldata batch (what `SegmentStore.open` takes).
    pub data: Option<Bytes>,
    /// The envelope and blobs of a blob batch whose blobs this node has.
    pub blob: Option<BlobBatch>,
    /// The batch's segments, for a calldata batch or a blob batch with its blobs.
    pub segments: Vec<Segment>,
    /// The batch indices of the block's transactions.
    pub block_txs: Range<usize>,
    /// The block's parts in earlier records, oldest first (each the batch's last
    /// transactions): empty unless the block spans records.
    pub earlier: Vec<Self>,
}

impl BlockBatch {
    /// Reads the block `l2_block` of record `index` (`record`) from how it was posted. Fails if
    /// the posted data is not the record's (hash or block table) or does not parse.
    pub(crate) fn new(
        index: u64,
        record: &Record,
        posted: Posted,
        l2_block: u64,
        chain_id: u64,
    ) -> Result<Self, String> {
        let position = l2_block
            .checked_sub(record.firstBlock)
            .filter(|p| *p < u64::from(record.blockCount))
            .ok_or_else(|| format!("record {index} does not hold block {l2_block}"))?;
        let (block_table, data, blob, segments) = match posted {
            Posted::Forced(table) => (table, None, None, Vec::new()),
            Posted::Blobs {
                envelope,
                versioned_hashes,
                blobs,
            } => {
                if keccak256(&envelope) != record.dataHash {
                    return Err(format!(
                        "the envelope found for record {index} is not its own"
                    ));
                }
                let table = Bytes::from(envelope_block_table(&envelope)?);
                match blobs {
                    Some(blobs) => {
                        let lengths = envelope_segment_lengths(&envelope)?;
                        // As derivation reads it: the envelope bounded as calldata, the
                        // segments (up to 16 × 32 KiB) from the blobs. Parsed whole, as a
                        // calldata batch, most full blob batches are too large.
                        let parsed = BatchEnvelope::parse_blob(&envelope, &blob_data(&blobs))
                            .map_err(|err| {
                                format!("record {index}'s blob batch does not parse: {err}")
                            })?;
                        let offsets = lengths
                            .iter()
                            .scan(0, |at, length| {
                                let offset = *at;
                                *at += length;
                                Some(offset)
                            })
                            .collect();
                        let blob = BlobBatch {
                            envelope,
                            versioned_hashes,
                            blobs,
                            offsets,
                            lengths,
                        };
                        (table, None, Some(blob), decode_segments(&parsed, chain_id))
                    }
                    None => (table, None, None, Vec::new()),
                }
            }
            Posted::Calldata(data) => {
                if keccak256(&data) != record.dataHash {
                    return Err(format!("the batch found for record {index} is not its own"));
                }
                let envelope = BatchEnvelope::parse(&data)
                    .map_err(|err| format!("record {index}'s batch does not parse: {err}"))?;
                let segments = decode_segments(&envelope, chain_id);
                (
                    Bytes::from(envelope.block_table()),
                    Some(data),
                    None,
                    segments,
                )
            }
        };
        if keccak256(&block_table) != record.blocksHash
            || block_table.len() != usize::from(record.blockCount) * 7
        {
            return Err(format!(
                "record {index}'s block table is not the one it recorded"
            ));
        }
        let counts = block_table
            .chunks(7)
            .map(|entry| usize::from(u16::from_be_bytes([entry[5], entry[6]])));
        let position = usize::try_from(position).unwrap_or(usize::MAX);
        let start: usize = counts.clone().take(position).sum();
        let count = counts.clone().nth(position).unwrap_or(0);
        Ok(Self {
            record: index,
            block_table,
            data,
            blob,
            segments,
            block_txs: start..start + count,
            earlier: Vec::new(),
        })
    }

    /// The block's parts, in order: the earlier records', then this one's.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &Self> {
        self.earlier.iter().chain(std::iter::once(self))
    }

    /// Whether a part holding transactions of the block came without its bytes (a blob batch
    /// whose blobs this node could not get): [`Self::transactions`] is `None` until they come.
    pub(crate) fn lacks_data(&self) -> bool {
        self.parts()
            .any(|part| !part.block_txs.is_empty() && part.data.is_none() && part.blob.is_none())
    }

    /// How many batch transactions the block has, over all its parts (as the block tables
    /// count them, those the rules skip included).
    pub(crate) fn batch_tx_count(&self) -> usize {
        self.parts().map(|part| part.block_txs.len()).sum()
    }

    /// Whether the stored block `body` holds every batch transaction of the block: derivation
    /// skipped none, so a trace of `body` has its seal where L1 has it.
    pub(crate) fn holds_all_of(&self, body: &[rollup_primitives::L2Transaction]) -> bool {
        let signed = body
            .iter()
            .filter(|tx| !matches!(tx, rollup_primitives::L2Transaction::Deposit(_)))
            .count();
        signed == self.batch_tx_count()
    }

    /// Whether the block has batch transactions (in any part).
    pub(crate) fn has_batch_txs(&self) -> bool {
        self.parts().any(|part| !part.block_txs.is_empty())
    }

    /// The first segment with a transaction of the block in the record where it starts (the
    /// verifier's `firstSegment`).
    pub(crate) fn first_segment(&self) -> u64 {
        self.parts()
            .find(|part| !part.block_txs.is_empty())
            .map_or(0, |part| part.block_segments().start as u64)
    }

    /// The segments holding a transaction of the block.
    pub(crate) fn block_segments(&self) -> Range<usize> {
        if self.block_txs.is_empty() {
            return 0..0;
        }
        let holds = |at: usize| move |s: &Segment| s.first_tx <= at && at < s.first_tx + s.tx_count;
        let first = self.segments.iter().position(holds(self.block_txs.start));
        let last = self.segments.iter().position(holds(self.block_txs.end - 1));
        match (first, last) {
            (Some(first), Some(last)) => first..last + 1,
            _ => 0..0,
        }
    }

    /// The block's batch transactions, in order, when L1 shows them: over all its parts,
    /// whose segments with a transaction of the block all decode (else the block is empty and
    /// has none). `None` for a blob batch whose blobs this node does not have.
    pub(crate) fn transactions(&self) -> Option<Vec<TxEnvelope>> {
        let mut out = Vec::new();
        for part in self.parts() {
            let transactions = part.part_transactions()?;
            if transactions.is_empty() && !part.block_txs.is_empty() {
                return Some(Vec::new());
            }
            out.extend(transactions);
        }
        Some(out)
    }

    /// [`Self::transactions`] of this record's part alone.
    fn part_transactions(&self) -> Option<Vec<TxEnvelope>> {
        if self.block_txs.is_empty() {
            return Some(Vec::new());
        }
        if self.data.is_none() && self.blob.is_none() {
            return None;
        }
        let mut out = Vec::with_capacity(self.block_txs.len());
        for segment in &self.segments[self.block_segments()] {
            let Some(transactions) = &segment.transactions else {
                return Some(Vec::new());
            };
            for (i, tx) in transactions.iter().enumerate() {
                if self.block_txs.contains(&(segment.first_tx + i)) {
                    out.push(tx.clone());
                }
            }
        }
        Some(out)
    }

    /// The block's batch transaction `k` (from 0, over all its parts): the first segment with
    /// a transaction of the block where it starts ([`Self::first_segment`]) and the Merkle
    /// siblings of the transaction's leaf in its own segment. `None` if the block has no such
    /// transaction or it is not in a decoded segment.
    pub(crate) fn leaf_proof(&self, k: usize) -> Option<(u64, Vec<B256>)> {
        let mut k = k;
        for part in self.parts() {
            if k < part.block_txs.len() {
                return Some((self.first_segment(), part.part_leaf_proof(k)?));
            }
            k -= part.block_txs.len();
        }
        None
    }

    /// The Merkle siblings of the leaf of this record's part's transaction `k`.
    fn part_leaf_proof(&self, k: usize) -> Option<Vec<B256>> {
        let target = self.block_txs.start.checked_add(k)?;
        if !self.block_txs.contains(&target) {
            return None;
        }
        let segment = self.segments[self.block_segments()]
            .iter()
            .find(|s| s.first_tx <= target && target < s.first_tx + s.leaves.len())?;
        rollup_primitives::merkle_proof(&segment.leaves, target - segment.first_tx)
    }
}

/// The segments of a parsed batch, decoded, with their transactions' leaves.
fn decode_segments(envelope: &BatchEnvelope, chain_id: u64) -> Vec<Segment> {
    let mut first_tx = 0;
    envelope
        .segments
        .iter()
        .map(|(count, bytes)| {
            let transactions = decode_segment(bytes, *count, chain_id).ok();
            let leaves = transactions
                .as_deref()
                .map(|txs| txs.iter().map(tx_leaf).collect())
                .unwrap_or_default();
            let segment = Segment {
                first_tx,
                tx_count: *count,
                transactions,
                leaves,
            };
            first_tx += count;
            segment
        })
        .collect()
}

/// A byte of `envelope`, or an error if it is truncated.
fn envelope_byte(envelope: &[u8], at: usize) -> Result<usize, String> {
    envelope
        .get(at)
        .copied()
        .map(usize::from)
        .ok_or_else(|| "the envelope is truncated".to_string())
}

/// Where the block table of a batch envelope (`version ‖ firstBlock ‖ blockCount ‖
/// headerCount ‖ segmentCount ‖ depositCount ‖ headers ‖ blocks ‖ segment table ...`) starts,
/// and its block count, read as `SegmentStore` reads it.
fn envelope_blocks(envelope: &[u8]) -> Result<(usize, usize), String> {
    let byte = |at| envelope_byte(envelope, at);
    let block_count = (byte(9)? << 8) | byte(10)?;
    let mut offset = 21;
    for _ in 0..byte(11)? {
        offset += 2 + ((byte(offset)? << 8) | byte(offset + 1)?);
    }
    Ok((offset, block_count))
}

/// The block table of a batch envelope.
fn envelope_block_table(envelope: &[u8]) -> Result<Vec<u8>, String> {
    let (offset, block_count) = envelope_blocks(envelope)?;
    envelope
        .get(offset..offset + block_count * 7)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "the envelope is truncated".to_string())
}

/// The segment lengths of a batch envelope's segment table (after its block table).
fn envelope_segment_lengths(envelope: &[u8]) -> Result<Vec<usize>, String> {
    let (offset, block_count) = envelope_blocks(envelope)?;
    let table = offset + block_count * 7;
    (0..envelope_byte(envelope, 12)? & usize::from(!rollup_primitives::OPEN_FLAG))
        .map(|j| {
            let at = table + j * 6;
            (0..4).try_fold(0, |length, i| {
                Ok((length << 8) | envelope_byte(envelope, at + i)?)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{SignableTransaction, TxEip1559};
    use alloy_primitives::{Signature, TxKind, U256};
    use rollup_primitives::{Batch, BatchBlock, BatchParent, MAX_BATCH_SIZE, to_blobs};

    use super::*;

    /// A transaction carrying `len` bytes of calldata that do not compress.
    fn bulky(nonce: u64, len: usize) -> TxEnvelope {
        let mut state = nonce.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let input = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect::<Vec<_>>();
        let tx = TxEip1559 {
            chain_id: 42_069,
            nonce,
            gas_limit: 1_000_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(alloy_primitives::Address::repeat_byte(7)),
            value: U256::ZERO,
            access_list: Default::default(),
            input: input.into(),
        };
        let signature = Signature::new(U256::from(nonce + 1), U256::from(nonce + 2), false);
        tx.into_signed(signature).into()
    }

    /// A blob batch whose segments come to more than a calldata batch may hold (the batcher
    /// fills blob batches to 16 segments of 32 KiB) is read as derivation reads it. Before, the
    /// agent parsed envelope and segments as one calldata batch and refused it as too large, so
    /// it could neither defend nor challenge a root at any block of such a record.
    #[test]
    fn a_blob_batch_larger_than_a_calldata_batch_is_read() {
        let transactions: Vec<_> = (0..6).map(|nonce| bulky(nonce, 30_000)).collect();
        let batch = Batch {
            first_block: 5,
            deposit_count: 0,
            headers: Vec::new(),
            blocks: vec![BatchBlock {
                timestamp: 11,
                l1_origin: 3,
                transactions: transactions.clone(),
            }],
            last_block_open: false,
        };
        let parent = BatchParent {
            timestamp: 10,
            l1_origin: 3,
        };
        let (bytes, envelope_len) = batch.encode_unbounded(parent).unwrap();
        assert!(bytes.len() > MAX_BATCH_SIZE, "{} bytes", bytes.len());
        let envelope = Bytes::copy_from_slice(&bytes[..envelope_len]);
        let blobs: Vec<Bytes> = to_blobs(&bytes[envelope_len..])
            .iter()
            .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
            .collect();
        let block_table = BatchEnvelope::parse_blob(&envelope, &blob_data(&blobs))
            .unwrap()
            .block_table();
        let record = Record {
            firstBlock: 5,
            blockCount: 1,
            lastOrigin: 3,
            depositCount: 0,
            l1Block: 20,
            forced: false,
            blobCount: blobs.len() as u8,
            lastBlockOpen: false,
            firstBlockTxOffset: 0,
            txCount: 6,
            lastBlockTxs: 6,
            lastBlockDeltas: Default::default(),
            openSegments: 0,
            dataHash: keccak256(&envelope),
            segmentRoot: B256::ZERO,
            blocksHash: keccak256(&block_table),
        };
        // Without its blobs the batch lacks its transactions' bytes (the agent reads it again
        // until it has them).
        let without = Posted::Blobs {
            envelope: envelope.clone(),
            versioned_hashes: Vec::new(),
            blobs: None,
        };
        let read = BlockBatch::new(0, &record, without, 5, 42_069).unwrap();
        assert!(read.lacks_data());
        assert!(read.transactions().is_none());
        assert_eq!(read.batch_tx_count(), 6);
        let stored = |count: usize| -> Vec<rollup_primitives::L2Transaction> {
            let deposit = rollup_primitives::L2Transaction::Deposit(Default::default());
            let signed = transactions.iter().take(count).map(|tx| {
                rollup_primitives::L2Transaction::Signed {
                    envelope: tx.clone(),
                    sender: alloy_primitives::Address::repeat_byte(1),
                }
            });
            std::iter::once(deposit).chain(signed).collect()
        };
        assert!(read.holds_all_of(&stored(6)), "deposits are not counted");
        assert!(!read.holds_all_of(&stored(5)), "derivation skipped one");
        let posted = Posted::Blobs {
            envelope,
            versioned_hashes: Vec::new(),
            blobs: Some(blobs),
        };
        let read = BlockBatch::new(0, &record, posted, 5, 42_069).unwrap();
        assert!(!read.lacks_data());
        assert_eq!(read.block_txs, 0..6);
        let decoded: Vec<TxEnvelope> = read
            .segments
            .iter()
            .flat_map(|segment| segment.transactions.clone().expect("every segment decodes"))
            .collect();
        assert_eq!(decoded, transactions);
    }
}
