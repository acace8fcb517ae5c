//! Proving old L1 block hashes to the inbox (`BatchInbox.proveOriginHashes`), for recording
//! origins after a silence longer than L1 remembers block hashes.
//!
//! Every way of recording origins (a batch's headers, `forceInclude`) checks its newest header
//! against L1's hash of that block, which L1 tells for 8 191 blocks (EIP-2935; 256 without it).
//! After a longer silence no call can record again until the hashes it needs are proven
//! backwards, chunk by chunk, from a block L1 still tells. The batcher and
//! `rollup-node force-include` both do it when the inbox answers `BatchInbox_BlockHashUnavailable`.

use alloy_primitives::Address;
use alloy_provider::Provider;
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolError, SolEvent};
use rollup_primitives::bindings::IBatchInbox;

/// L1 headers per `proveOriginHashes` transaction. Size binds first: about 690 bytes of
/// calldata each, so 150 stay under the 128 KiB geth and reth accept for one transaction, at
/// about 10M gas (41 000 per header plus calldata), well under EIP-7825's 2^24.
pub const ORIGIN_PROOF_CHUNK: u64 = 150;

/// Most new L1 origins one inbox call records (a batch's headers, `forceInclude`). Size binds
/// first, as for [`ORIGIN_PROOF_CHUNK`]: a header takes about 736 bytes of ABI calldata, so 150
/// stay under the 128 KiB geth and reth accept for one transaction (and, at about 68 000 gas
/// each, under EIP-7825's 2^24 gas). After a long silence a call with more would not get in.
pub const MAX_NEW_ORIGINS_PER_CALL: u64 = 150;

/// The EIP-2935 history contract, which tells L1 block hashes 8 191 blocks back.
pub const HISTORY_STORAGE_ADDRESS: alloy_primitives::Address =
    alloy_primitives::address!("0000F90827F1C53a10cb7A02335B175320002935");

/// The newest block a proof can start from at L1 head `head`: with the EIP-2935 history
/// contract, 7 935 blocks back (its 8 191 less 256 blocks for the first proof to land), so a
/// gap just past L1's memory takes a few transactions, not one per 150 blocks up to the head;
/// without it, [`ORIGIN_PROOF_DEPTH`] below the head (`blockhash` tells 256).
pub fn proof_anchor(head: u64, has_history: bool) -> u64 {
    let back = if has_history {
        8_191 - 256
    } else {
        ORIGIN_PROOF_DEPTH
    };
    head.saturating_sub(back)
}

/// Where a proof down to L1 block `lowest` starts: the lowest block in `lowest..=anchor` whose
/// hash the inbox already holds as proven, else `anchor` ([`proof_anchor`]). A proven hash
/// anchors a proof as well as one L1 tells, so a proof that stopped part way (a failed
/// transaction, a restart, a second caller) goes on below what it proved instead of sending it
/// all again: after a week-long silence that is up to 56 transactions of about 10M gas.
/// Proofs are found from the inbox's `OriginHashesProven` events since `lowest` (canonical
/// ones only, so a proof an L1 reorg dropped is not counted); an L1 node that refuses the log
/// query (some cap a query's block range) costs only the saving.
pub async fn resume_anchor<P: Provider>(
    provider: &P,
    inbox: Address,
    lowest: u64,
    anchor: u64,
) -> Result<u64, String> {
    if anchor <= lowest {
        return Ok(anchor);
    }
    let filter = Filter::new()
        .address(inbox)
        .event_signature(IBatchInbox::OriginHashesProven::SIGNATURE_HASH)
        .from_block(lowest)
        .to_block(alloy_rpc_types_eth::BlockNumberOrTag::Latest);
    let logs = provider
        .get_logs(&filter)
        .await
        .map_err(|err| format!("reading the inbox's OriginHashesProven events: {err}"))?;
    let proven_low = logs
        .iter()
        .filter_map(|log| IBatchInbox::OriginHashesProven::decode_log_data(log.data()).ok())
        // A proof holds the hashes of `firstBlock - 1 ..= lastBlock`.
        .filter_map(|event| event.firstBlock.checked_sub(1))
        .filter(|low| *low >= lowest)
        .min();
    Ok(proven_low.map_or(anchor, |low| low.min(anchor)))
}

/// `BatchInbox.ORIGIN_PROOF_DEPTH`: how far below L1's head the newest proven header must be.
pub const ORIGIN_PROOF_DEPTH: u64 = 64;

/// Whether `revert` (a call's revert data) is the inbox's `BatchInbox_BlockHashUnavailable`.
pub fn is_block_hash_unavailable(revert: &[u8]) -> bool {
    revert.starts_with(&IBatchInbox::BatchInbox_BlockHashUnavailable::SELECTOR)
}

/// The L1 block a failed inbox call (a gas estimate) named in `BatchInbox_BlockHashMismatch`:
/// the newest header it would record does not hash to L1's hash of its block.
pub fn block_hash_mismatch(err: &rollup_l1::L1Error) -> Option<u64> {
    let rollup_l1::L1Error::Rpc { source, .. } = err else {
        return None;
    };
    let data = source.as_error_resp()?.as_revert_data()?;
    IBatchInbox::BatchInbox_BlockHashMismatch::abi_decode(&data)
        .ok()
        .map(|mismatch| mismatch.number.saturating_to())
}

/// Why a batch's gas estimate (or call) may have reverted `BatchInbox_UnexpectedFirstBlock` with
/// an inbox behind the one the batcher read: the estimate ran on an L1 state without batches
/// the batcher saw appended. Said beside the revert, which alone reads like a batcher bug.
pub fn behind_the_read_inbox(err: &rollup_l1::L1Error) -> Option<&'static str> {
    let rollup_l1::L1Error::Rpc { source, .. } = err else {
        return None;
    };
    let data = source.as_error_resp()?.as_revert_data()?;
    let unexpected = IBatchInbox::BatchInbox_UnexpectedFirstBlock::abi_decode(&data).ok()?;
    (unexpected.expected < unexpected.firstBlock).then_some(
        "the L1 node estimated on an inbox older than the one the batcher read: an L1 reorg \
         removed batches, or a load balancer sent the estimate to a backend that lags; the \
         batcher reads the inbox again",
    )
}

/// Whether a failed inbox call (`eth_call`, gas estimate) reverted with
/// `BatchInbox_BlockHashUnavailable`: L1 no longer tells the hash of the run's newest block,
/// and nobody proved it.
pub fn refused_for_unknown_hash(
    err: &alloy_provider::transport::RpcError<alloy_provider::transport::TransportErrorKind>,
) -> bool {
    err.as_error_resp()
        .and_then(|payload| payload.as_revert_data())
        .is_some_and(|data| is_block_hash_unavailable(&data))
}

/// The chunks (`low..=high`, newest first, in the order they must be sent) that prove the hashes
/// of L1 blocks `lowest` up to `anchor` ([`proof_anchor`]): the first is anchored on a hash L1
/// tells, each next one on the parent the one before proved. Empty if `lowest` is above the
/// anchor (nothing to prove).
pub fn origin_proof_chunks(lowest: u64, anchor: u64) -> Vec<(u64, u64)> {
    if anchor < lowest {
        return Vec::new();
    }
    let mut high = anchor;
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
    use alloy_sol_types::SolError;

    /// An `eth_estimateGas` failure that reverted with `data`, as the L1 client reports it.
    fn reverted(data: Vec<u8>) -> rollup_l1::L1Error {
        let payload = alloy_json_rpc::ErrorPayload {
            code: 3,
            message: "execution reverted".into(),
            data: Some(
                serde_json::value::to_raw_value(&alloy_primitives::hex::encode_prefixed(data))
                    .unwrap(),
            ),
        };
        rollup_l1::L1Error::Rpc {
            url: "http://l1".into(),
            method: "eth_estimateGas",
            source: alloy_provider::transport::RpcError::ErrorResp(payload),
        }
    }

    #[test]
    fn an_estimate_on_an_older_inbox_says_the_l1_may_lag() {
        let unexpected = |expected: u64, first: u64| {
            reverted(
                IBatchInbox::BatchInbox_UnexpectedFirstBlock {
                    expected,
                    firstBlock: first,
                }
                .abi_encode(),
            )
        };
        // The inbox the estimate saw wants an older block than the one the batcher read.
        let why = behind_the_read_inbox(&unexpected(10, 12)).expect("said");
        assert!(why.contains("lags"), "{why}");
        // Ahead of the batcher (another batcher, a forced block): not a lagging L1.
        assert_eq!(behind_the_read_inbox(&unexpected(12, 10)), None);
        // Another revert, or no revert at all.
        let other = reverted(
            IBatchInbox::BatchInbox_BlockHashMismatch {
                number: alloy_primitives::U256::from(7),
            }
            .abi_encode(),
        );
        assert_eq!(behind_the_read_inbox(&other), None);
        assert_eq!(behind_the_read_inbox(&rollup_l1::L1Error::Cancelled), None);
    }

    #[test]
    fn chunks_cover_the_range_newest_first_without_gaps() {
        let anchor = proof_anchor(10_000, false);
        assert_eq!(anchor, 10_000 - 64);
        let chunks = origin_proof_chunks(1_000, anchor);
        assert_eq!(chunks.first(), Some(&(anchor - 149, anchor)));
        assert_eq!(chunks.last().unwrap().0, 1_000);
        for pair in chunks.windows(2) {
            assert_eq!(pair[1].1 + 1, pair[0].0, "adjacent");
        }
        assert!(
            chunks
                .iter()
                .all(|(low, high)| high - low < ORIGIN_PROOF_CHUNK)
        );
        assert_eq!(chunks.len() as u64, (anchor - 1_000) / 150 + 1);
        // Above the anchor: nothing to prove.
        assert!(origin_proof_chunks(9_990, anchor).is_empty());
        assert_eq!(origin_proof_chunks(anchor, anchor), vec![(anchor, anchor)]);
        // With EIP-2935 the proof starts far below the head: a gap just past L1's memory
        // takes a few transactions.
        let deep = proof_anchor(20_000, true);
        assert_eq!(deep, 20_000 - 7_935);
        assert_eq!(origin_proof_chunks(20_000 - 8_500, deep).len(), 4);
        assert_eq!(proof_anchor(10, true), 0);
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
