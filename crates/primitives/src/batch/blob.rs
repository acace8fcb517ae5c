//! Blob batches: a batch whose segments travel in EIP-4844 blobs instead of calldata.
//!
//! The envelope (everything up to and including the segment table) is the calldata of
//! `BatchInbox.postBlobBatch(bytes)`, checked by the inbox exactly like a calldata batch's. The
//! segments, back to back in table order, are the first bytes of the transaction's **blob data
//! stream**: each blob gives bytes 1..32 of each of its 4 096 32-byte field elements (31 bytes
//! each, [`BLOB_DATA_SIZE`] per blob), blobs in the order of the transaction's versioned hashes.
//! Byte 0 of every field element is written as zero, which keeps it below the BLS modulus, and
//! is ignored when read; bytes after the segments are ignored. The transaction carries exactly
//! [`blob_count`] blobs for its segment bytes, which the inbox checks with `BLOBHASH`.

use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob, FIELD_ELEMENTS_PER_BLOB};

use super::{MAX_BATCH_SIZE, MAX_SEGMENT_SIZE, MAX_SEGMENTS_PER_BATCH};

/// Data bytes per field element: byte 0 stays zero.
pub const BLOB_BYTES_PER_FIELD_ELEMENT: usize = 31;

/// Data bytes one blob carries: 4 096 × 31 = 126 976.
pub const BLOB_DATA_SIZE: usize = FIELD_ELEMENTS_PER_BLOB as usize * BLOB_BYTES_PER_FIELD_ELEMENT;

/// Most segment bytes one batch can hold (16 segments of 32 KiB).
pub const MAX_SEGMENT_BYTES_PER_BATCH: usize = MAX_SEGMENTS_PER_BATCH * MAX_SEGMENT_SIZE;

/// Most blobs a blob batch needs: enough for [`MAX_SEGMENT_BYTES_PER_BATCH`] (5).
pub const MAX_BLOBS_PER_BATCH: usize = MAX_SEGMENT_BYTES_PER_BATCH.div_ceil(BLOB_DATA_SIZE);

/// Where a batch's segments (its transactions) travel to L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataPath {
    /// In the calldata of `postBatch`, with the envelope: at most [`MAX_BATCH_SIZE`] bytes in
    /// all.
    #[default]
    Calldata,
    /// In EIP-4844 blobs of a `postBlobBatch` transaction whose calldata is the envelope: up to
    /// `max_blobs` blobs (at most [`MAX_BLOBS_PER_BATCH`]) of segments.
    Blobs {
        /// Most blobs per batch transaction.
        max_blobs: usize,
    },
}

impl DataPath {
    /// Blobs, as many per batch as a batch can fill.
    pub const BLOBS: Self = Self::Blobs {
        max_blobs: MAX_BLOBS_PER_BATCH,
    };

    /// A short name for logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Calldata => "calldata",
            Self::Blobs { .. } => "blobs",
        }
    }

    /// Whether a batch encoded as `len` bytes, of which the envelope is `envelope_len`, goes to
    /// L1 this way in one transaction, with at most `max_bytes` of calldata.
    pub fn fits(self, len: usize, envelope_len: usize, max_bytes: usize) -> bool {
        let max_bytes = max_bytes.min(MAX_BATCH_SIZE);
        match self {
            Self::Calldata => len <= max_bytes,
            Self::Blobs { max_blobs } => {
                envelope_len <= max_bytes
                    && blob_count(len.saturating_sub(envelope_len))
                        <= max_blobs.min(MAX_BLOBS_PER_BATCH)
            }
        }
    }

    /// Most bytes of signed transactions (EIP-2718) the sequencer puts in one block, so that
    /// every block fits one batch: with calldata 110 000 (a batch is at most 120 000 bytes, and
    /// FastLZ never expands by more than about 3%); with blobs 240 000, within 16 segments
    /// (two consecutive segments always hold more than one segment's worth, and each
    /// transaction fits one), which five blobs carry. The node checks every sealed block
    /// against its path anyway; these keep that check from failing.
    pub const fn max_block_tx_bytes(self) -> usize {
        match self {
            Self::Calldata => 110_000,
            Self::Blobs { .. } => 240_000,
        }
    }
}

/// The number of blobs a blob batch with `segment_bytes` bytes of segments carries.
pub const fn blob_count(segment_bytes: usize) -> usize {
    segment_bytes.div_ceil(BLOB_DATA_SIZE)
}

/// Packs `data` into [`blob_count`]`(data.len())` blobs, zero-padded.
pub fn to_blobs(data: &[u8]) -> Vec<Blob> {
    data.chunks(BLOB_DATA_SIZE)
        .map(|chunk| {
            let mut blob = Blob::ZERO;
            for (element, bytes) in chunk.chunks(BLOB_BYTES_PER_FIELD_ELEMENT).enumerate() {
                let at = element * 32 + 1;
                blob[at..at + bytes.len()].copy_from_slice(bytes);
            }
            blob
        })
        .collect()
}

/// The data stream of `blobs`: bytes 1..32 of every field element, blob after blob.
pub fn blob_data<B: AsRef<[u8]>>(blobs: &[B]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blobs.len() * BLOB_DATA_SIZE);
    for blob in blobs {
        let blob = blob.as_ref();
        debug_assert_eq!(blob.len(), BYTES_PER_BLOB);
        for element in blob.chunks(32) {
            out.extend_from_slice(element.get(1..).unwrap_or_default());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_data_round_trips_and_keeps_every_field_element_below_the_modulus() {
        for len in [
            1,
            30,
            31,
            32,
            BLOB_DATA_SIZE - 1,
            BLOB_DATA_SIZE,
            BLOB_DATA_SIZE + 1,
            3 * BLOB_DATA_SIZE + 17,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8 | 0x80).collect();
            let blobs = to_blobs(&data);
            assert_eq!(blobs.len(), blob_count(len), "len {len}");
            for blob in &blobs {
                assert!(blob.chunks(32).all(|element| element[0] == 0));
            }
            let read = blob_data(&blobs);
            assert_eq!(read.len(), blobs.len() * BLOB_DATA_SIZE);
            assert_eq!(&read[..len], &data[..], "len {len}");
            assert!(read[len..].iter().all(|byte| *byte == 0));
        }
        assert_eq!(MAX_BLOBS_PER_BATCH, 5);
        assert_eq!(blob_count(0), 0);
    }

    #[test]
    fn byte_zero_of_a_field_element_is_ignored() {
        let mut blob = Blob::ZERO;
        blob[0] = 0x12;
        blob[1] = 0xab;
        blob[32] = 0x34;
        blob[33] = 0xcd;
        let read = blob_data(&[blob]);
        assert_eq!(
            &read[..32],
            &[
                0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0xcd
            ]
        );
    }
}
