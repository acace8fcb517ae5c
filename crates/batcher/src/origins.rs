//! Proving old L1 block hashes to the inbox (`BatchInbox.proveOriginHashes`), for recording
//! origins after a silence longer than L1 remembers block hashes.
//!
//! Every way of recording origins (a batch's headers, `forceInclude`) checks its newest header
//! against L1's hash of that block, which L1 tells for 8 191 blocks (EIP-2935; 256 without it).
//! After a longer silence no call can record again until the hashes it needs are proven
//! backwards, chunk by chunk, from a block L1 still tells. The batcher and
//! `rollup-node force-include` both do it when the inbox answers `BatchInbox_BlockHashUnavailable`.

use alloy_sol_types::SolError;
use rollup_primitives::bindings::IBatchInbox;

/// L1 headers per `proveOriginHashes` transaction. Size binds first: about 690 bytes of
/// calldata each, so 150 stay under the 128 KiB geth and reth accept for one transaction, at
/// about 10M gas (41 000 per header plus calldata), well under EIP-7825's 2^24.
pub const ORIGIN_PROOF_CHUNK: u64 = 150;

/// Most new L1 origins one inbox call records (a batch's headers, `forceInclude`): recording
/// one costs about 68 000 gas (its hash and timestamp take two storage slots, plus the header's
/// calldata), so 200 stay under EIP-7825's 2^24 gas per transaction with room for the rest of
/// the call. The format allows 255 headers a batch; after a long silence that would not fit.
pub const MAX_NEW_ORIGINS_PER_CALL: u64 = 200;

/// `BatchInbox.ORIGIN_PROOF_DEPTH`: how far below L1's head the newest proven header must be.
pub const ORIGIN_PROOF_DEPTH: u64 = 64;

/// Whether `revert` (a call's revert data) is the inbox's `BatchInbox_BlockHashUnavailable`.
pub fn is_block_hash_unavailable(revert: &[u8]) -> bool {
    revert.starts_with(&IBatchInbox::BatchInbox_BlockHashUnavailable::SELECTOR)
}

/// The chunks (`low..=high`, newest first, in the order they must be sent) that prove the hashes
/// of L1 blocks `lowest` up to [`ORIGIN_PROOF_DEPTH`] below `head`: the first is anchored on a
/// hash L1 tells, each next one on the parent the one before proved. Empty if `lowest` is too
/// recent to need (or allow) a proof.
pub fn origin_proof_chunks(lowest: u64, head: u64) -> Vec<(u64, u64)> {
    let Some(mut high) = head
        .checked_sub(ORIGIN_PROOF_DEPTH)
        .filter(|high| *high >= lowest)
    else {
        return Vec::new();
    };
    let mut chunks = Vec::new();
    loop {
        let low = high.saturating_sub(ORIGIN_PROOF_CHUNK - 1).max(lowest);
        chunks.push((low, high));
        if low == lowest {
            return chunks;
        }
        high = low - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_range_newest_first_without_gaps() {
        let chunks = origin_proof_chunks(1_000, 10_000);
        assert_eq!(chunks.first(), Some(&(10_000 - 64 - 149, 10_000 - 64)));
        assert_eq!(chunks.last().unwrap().0, 1_000);
        for pair in chunks.windows(2) {
            assert_eq!(pair[1].1 + 1, pair[0].0, "adjacent");
        }
        assert!(
            chunks
                .iter()
                .all(|(low, high)| high - low < ORIGIN_PROOF_CHUNK)
        );
        assert_eq!(chunks.len(), (10_000 - 64 - 1_000) / 150 + 1);
        // Too recent: nothing to prove.
        assert!(origin_proof_chunks(9_990, 10_000).is_empty());
        assert_eq!(origin_proof_chunks(9_936, 10_000), vec![(9_936, 9_936)]);
        assert!(origin_proof_chunks(5, 10).is_empty());
    }

    #[test]
    fn the_selector_is_the_inbox_error() {
        let mut revert = IBatchInbox::BatchInbox_BlockHashUnavailable::SELECTOR.to_vec();
        revert.extend([0u8; 32]);
        assert!(is_block_hash_unavailable(&revert));
        assert!(!is_block_hash_unavailable(&[0xde, 0xad, 0xbe, 0xef]));
        assert!(!is_block_hash_unavailable(&[]));
    }
}
