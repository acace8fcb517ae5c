//! The node's counters, registered at zero when the process starts.
//!
//! A Prometheus counter that first appears at 1 is invisible to `increase()` and `rate()` for
//! that first event, and a series that is missing looks like a broken scrape: an alert on "any
//! `rollup_deposit_nonce_gaps_total`" would miss the first gap. So every counter without labels
//! (and the live-feed gauges) exists from the start.

/// Counters without labels that any role of either binary may count, as documented in
/// `docs/operations.md`.
pub const COUNTERS: &[&str] = &[
    "rollup_bad_segments_total",
    "rollup_batch_transactions_skipped_total",
    "rollup_batcher_blobs_total",
    "rollup_batcher_forced_total",
    "rollup_batcher_l1_blob_gas_total",
    "rollup_batcher_l1_gas_total",
    "rollup_deposit_nonce_gaps_total",
    "rollup_deposits_skipped_total",
    "rollup_deposits_total",
    "rollup_dispute_blob_elements_loaded_total",
    "rollup_dispute_challenges_total",
    "rollup_dispute_resolved_total",
    "rollup_dispute_segments_opened_total",
    "rollup_forced_blocks_total",
    "rollup_l1_blobs_known_total",
    "rollup_l1_reorgs_total",
    "rollup_l1_reverts_total",
    "rollup_l1_finality_violations_total",
    "rollup_l1_inconsistent_answers_total",
    "rollup_l1_rpc_errors_total",
    "rollup_l1_tx_resubmissions_total",
    "rollup_proposer_proposals_total",
    "rollup_rpc_evm_timeouts_total",
    "rollup_rpc_filters_dropped_total",
    "rollup_rpc_http_clients_dropped_total",
    "rollup_rpc_pending_skipped_total",
    "rollup_rpc_readers_full_total",
    "rollup_rpc_subscriptions_dropped_total",
    "rollup_rpc_ws_answers_withheld_total",
    "rollup_rpc_ws_clients_dropped_total",
    "rollup_rpc_ws_reads_paused_total",
    "rollup_sequencer_blocks_total",
    "rollup_sequencer_catch_up_blocks_total",
    "rollup_sequencer_readmit_dropped_total",
    "rollup_sequencer_transactions_total",
    "rollup_sequencer_unbatchable_blocks_total",
    "rollup_txpool_added_total",
    "rollup_txpool_evicted_total",
    "rollup_txpool_expired_total",
];

/// Gauges that stay unset until their first change, set to zero.
pub const GAUGES: &[&str] = &["rollup_rpc_filters", "rollup_rpc_subscriptions"];

/// Registers [`COUNTERS`] and [`GAUGES`] at zero with the installed metrics recorder. Call it
/// once the recorder is installed; it adds nothing to a counter that already counted.
pub fn register_at_zero() {
    for name in COUNTERS {
        metrics::counter!(*name).increment(0);
    }
    for name in GAUGES {
        metrics::gauge!(*name).increment(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registered_at_zero_is_documented() {
        let operations = include_str!("../../../docs/operations.md");
        for name in COUNTERS.iter().chain(GAUGES) {
            assert!(
                operations.contains(&format!("`{name}`")),
                "{name} is not in docs/operations.md's metrics table"
            );
        }
    }
}
