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

use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob, FIELD_ELEMENTS_PER_BLOB, c_kzg};
use alloy_primitives::{B256, U256, uint};

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

    /// Most bytes of batch data one batch transaction takes to L1 this way: a whole batch
    /// ([`MAX_BATCH_SIZE`]) with calldata; with blobs the segments of a full batch (16 of 32 KiB,
    /// 524 288 bytes, which fill 4.13 blobs) or of `max_blobs` blobs, whichever is less. This is
    /// the sequencer's default L1 data rate: one full batch per L1 block. It is an estimate both
    /// ways: a batch of small transactions holds fewer bytes (a segment carries at most 256
    /// transactions, about 23 kB of ETH transfers), and the batcher may post several batches per
    /// L1 block.
    pub fn max_batch_bytes(self) -> usize {
        match self {
            Self::Calldata => MAX_BATCH_SIZE,
            Self::Blobs { max_blobs } => (max_blobs.min(MAX_BLOBS_PER_BATCH) * BLOB_DATA_SIZE)
                .min(MAX_SEGMENT_BYTES_PER_BATCH),
        }
    }

    /// Most bytes of signed transactions (EIP-2718) the sequencer puts in one block, so that
    /// every block fits [`MAX_SEGMENTS_PER_BLOCK`](super::MAX_SEGMENTS_PER_BLOCK) segments:
    /// 240 000 (two consecutive segments always hold more than one segment's worth, and each
    /// transaction fits one). A block larger than one batch spans batches (the batcher cuts it
    /// at its segment boundaries), on either path. The node checks every sealed block's
    /// segments anyway; this keeps that check from failing.
    pub const fn max_block_tx_bytes(self) -> usize {
        let _ = self;
        240_000
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

/// The BLS12-381 scalar field's modulus (EIP-4844 `BLS_MODULUS`).
const BLS_MODULUS: U256 =
    uint!(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001_U256);

/// The primitive 4096th root of unity blobs are evaluated over, `7^((BLS_MODULUS - 1) / 4096)`
/// (`SegmentStore.ROOT_OF_UNITY`).
const ROOT_OF_UNITY: U256 =
    uint!(0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306_U256);

/// The point at which a blob's polynomial takes the value of its field element `index`:
/// `ω^bitrev(index)`, the consensus specs' bit-reversed domain (`SegmentStore._point`).
pub fn blob_element_point(index: usize) -> B256 {
    let bits = FIELD_ELEMENTS_PER_BLOB.trailing_zeros();
    let reversed = (index as u64).reverse_bits() >> (64 - bits);
    ROOT_OF_UNITY
        .pow_mod(U256::from(reversed), BLS_MODULUS)
        .into()
}

/// The field elements of a blob stream covering its bytes `offset..offset + length`: what
/// `SegmentStore.loadBlob` proves for a segment at that place.
pub fn blob_elements_covering(offset: usize, length: usize) -> std::ops::Range<usize> {
    let first = offset / BLOB_BYTES_PER_FIELD_ELEMENT;
    first
        ..(offset + length)
            .div_ceil(BLOB_BYTES_PER_FIELD_ELEMENT)
            .max(first)
}

/// The precomputation of the KZG trusted setup this node loads: 8, the value revm's
/// point-evaluation precompile and alloy's sidecar builder load, so every blob path of a node
/// shares one setup. A second value would be a second setup: 2 to 3 s of CPU to load it and,
/// at 8, about 100 MB. 8 makes EIP-7594 cell proofs (the batcher's largest cost per blob) about
/// a third faster than 0 and commitments no slower.
pub const KZG_PRECOMPUTE: u64 = 8;

/// The mainnet KZG trusted setup at [`KZG_PRECOMPUTE`], loaded on first use.
pub fn kzg_settings() -> &'static c_kzg::KzgSettings {
    c_kzg::ethereum_kzg_settings(KZG_PRECOMPUTE)
}

/// The KZG commitment of `blob` (48 bytes).
pub fn blob_commitment(blob: &[u8]) -> Result<[u8; 48], String> {
    let blob = c_kzg::Blob::from_bytes(blob).map_err(|err| format!("not a blob: {err}"))?;
    let commitment = kzg_settings()
        .blob_to_kzg_commitment(&blob)
        .map_err(|err| format!("not a blob: {err}"))?;
    Ok(commitment.to_bytes().into_inner())
}

/// Field element `index` of `blob` proven for the point-evaluation precompile: its 32 bytes
/// (of which bytes 1 to 31 are stream data) and its KZG proof at
/// [`blob_element_point`]`(index)`, as `SegmentStore.loadBlob` takes them. An error if the
/// blob is malformed.
pub fn blob_element_proof(blob: &[u8], index: usize) -> Result<([u8; 32], [u8; 48]), String> {
    let at = index * 32;
    let element = blob
        .get(at..at + 32)
        .ok_or_else(|| format!("a blob has no field element {index}"))?;
    let kzg_blob = c_kzg::Blob::from_bytes(blob).map_err(|err| format!("not a blob: {err}"))?;
    let z = c_kzg::Bytes32::new(blob_element_point(index).0);
    let (proof, y) = kzg_settings()
        .compute_kzg_proof(&kzg_blob, &z)
        .map_err(|err| format!("proving field element {index}: {err}"))?;
    if y.as_slice() != element {
        return Err(format!(
            "field element {index}: the proof's value is not the element"
        ));
    }
    let mut value = [0; 32];
    value.copy_from_slice(element);
    Ok((value, proof.to_bytes().into_inner()))
}

/// The point `SegmentStore.loadWholeBlob` checks a blob at: `keccak256(commitment ‖
/// keccak256(blob))` reduced modulo the BLS modulus (`SegmentStore.blobChallenge`), fixed by
/// the blob's values before anyone proves anything there.
pub fn blob_challenge(commitment: &[u8; 48], blob: &[u8]) -> B256 {
    let digest = alloy_primitives::keccak256(
        [
            commitment.as_slice(),
            alloy_primitives::keccak256(blob).as_slice(),
        ]
        .concat(),
    );
    B256::from(U256::from_be_bytes(digest.0).reduce_mod(BLS_MODULUS))
}

/// `blob` proven whole, as `SegmentStore.loadWholeBlob` takes it: its KZG commitment and the
/// KZG proof of its polynomial at [`blob_challenge`]. An error if it is not a blob.
pub fn whole_blob_proof(blob: &[u8]) -> Result<([u8; 48], [u8; 48]), String> {
    let commitment = blob_commitment(blob)?;
    let kzg_blob = c_kzg::Blob::from_bytes(blob).map_err(|err| format!("not a blob: {err}"))?;
    let z = c_kzg::Bytes32::new(blob_challenge(&commitment, blob).0);
    let (proof, _) = kzg_settings()
        .compute_kzg_proof(&kzg_blob, &z)
        .map_err(|err| format!("proving a whole blob: {err}"))?;
    Ok((commitment, proof.to_bytes().into_inner()))
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
        assert_eq!(DataPath::BLOBS.max_batch_bytes(), 524_288);
        assert_eq!(DataPath::Blobs { max_blobs: 2 }.max_batch_bytes(), 253_952);
        assert_eq!(DataPath::Calldata.max_batch_bytes(), MAX_BATCH_SIZE);
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

    /// An element's proof verifies at its point with the blob's commitment, for the element's
    /// own value; the points are the bit-reversed powers of the root of unity.
    #[test]
    fn element_proofs_open_the_stream_bytes() {
        assert_eq!(blob_element_point(0), B256::from(U256::from(1)));
        // Element 1 is bit-reversed to ω^2048 = -1, element 2048 to ω.
        assert_eq!(
            blob_element_point(1),
            B256::from(BLS_MODULUS - U256::from(1))
        );
        assert_eq!(blob_element_point(2048), B256::from(ROOT_OF_UNITY));
        assert_eq!(
            ROOT_OF_UNITY.pow_mod(U256::from(4096), BLS_MODULUS),
            U256::from(1)
        );
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        let blob = to_blobs(&data).remove(0);
        let commitment = blob_commitment(blob.as_slice()).unwrap();
        let settings = kzg_settings();
        for index in [0, 1, 6, 4095] {
            let (y, proof) = blob_element_proof(blob.as_slice(), index).unwrap();
            let expected: Vec<u8> = data
                .iter()
                .copied()
                .chain(std::iter::repeat(0))
                .skip(index * 31)
                .take(31)
                .collect();
            assert_eq!(y[0], 0);
            assert_eq!(&y[1..], expected.as_slice(), "element {index}");
            let verified = settings
                .verify_kzg_proof(
                    &c_kzg::Bytes48::new(commitment),
                    &c_kzg::Bytes32::new(blob_element_point(index).0),
                    &c_kzg::Bytes32::new(y),
                    &c_kzg::Bytes48::new(proof),
                )
                .unwrap();
            assert!(verified, "element {index}");
        }
        assert_eq!(blob_elements_covering(0, 31), 0..1);
        assert_eq!(blob_elements_covering(30, 2), 0..2);
        assert_eq!(blob_elements_covering(500, 700), 16..39);
        assert_eq!(blob_elements_covering(62, 0), 2..2);
        assert!(blob_element_proof(blob.as_slice(), 4096).is_err());
    }
}
