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
    "rollup_batcher_nonces_taken_total",
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
    "rollup_proposer_proposals_reorged_total",
    "rollup_proposer_proposals_total",
    "rollup_rpc_evm_timeouts_total",
    "rollup_rpc_filters_dropped_total",
    "rollup_rpc_answers_withheld_total",
    "rollup_rpc_http_clients_dropped_total",
    "rollup_rpc_pending_skipped_total",
    "rollup_rpc_readers_full_total",
    "rollup_rpc_subscriptions_dropped_total",
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

/// The metrics table of `docs/operations.md`, the one place each metric is explained.
const OPERATIONS: &str = include_str!("../../../docs/operations.md");

/// Registers [`COUNTERS`] and [`GAUGES`] at zero with the installed metrics recorder and gives
/// every metric of `docs/operations.md`'s table its `# HELP` line from there. Call it once the
/// recorder is installed; it adds nothing to a counter that already counted.
pub fn register_at_zero() {
    for (name, help) in descriptions(OPERATIONS) {
        // The recorder keeps one description per name whatever the kind.
        metrics::describe_counter!(name, help);
    }
    for name in COUNTERS {
        metrics::counter!(*name).increment(0);
    }
    for name in GAUGES {
        metrics::gauge!(*name).increment(0.0);
    }
}

/// `(metric, what it counts)` for each metric named in the first column of a markdown table
/// row whose third column says what they are (`| `a`, `b` | kind | what |`), backticks
/// dropped from the text. Labels (`name{label}`) are not part of the name.
fn descriptions(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in doc.lines() {
        let Some(row) = line.strip_prefix("| `rollup_") else {
            continue;
        };
        let columns: Vec<&str> = row.splitn(3, " | ").collect();
        let [names, _kind, what] = columns[..] else {
            continue;
        };
        let what = what
            .trim_end()
            .trim_end_matches('|')
            .trim()
            .replace('`', "");
        for name in format!("`rollup_{names}").split('`').skip(1).step_by(2) {
            let name = name.split('{').next().unwrap_or(name);
            if name.starts_with("rollup_") {
                out.push((name.to_string(), what.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registered_at_zero_is_described() {
        let described = descriptions(OPERATIONS);
        for name in COUNTERS.iter().chain(GAUGES) {
            let help = described.iter().find(|(n, _)| n == name);
            assert!(
                help.is_some_and(|(_, help)| !help.is_empty()),
                "{name} is not in docs/operations.md's metrics table"
            );
        }
    }

    /// Each metric has a `# HELP` of its own: a dashboard user tells them apart by it.
    #[test]
    fn no_two_metrics_share_a_description() {
        let described = descriptions(OPERATIONS);
        for (i, (name, help)) in described.iter().enumerate() {
            for (other, other_help) in &described[i + 1..] {
                assert!(
                    help != other_help,
                    "{name} and {other} share the description {help:?} in docs/operations.md"
                );
            }
        }
    }

    #[test]
    fn a_table_row_describes_each_metric_it_names() {
        let doc = "| metric | kind | what |\n\
                   |---|---|---|\n\
                   | `rollup_a_total`, `rollup_b{role}` | counter | what `a` and b count |\n\
                   not a row | `rollup_c` |\n";
        assert_eq!(
            descriptions(doc),
            vec![
                ("rollup_a_total".into(), "what a and b count".into()),
                ("rollup_b".into(), "what a and b count".into()),
            ]
        );
    }

    #[test]
    fn help_lines_reach_the_prometheus_text() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, register_at_zero);
        let text = handle.render();
        assert!(
            text.contains(
                "# HELP rollup_l1_reorgs_total L1 reorgs the follower saw (a followed block replaced)\n"
            ),
            "{text}"
        );
        assert!(text.contains("rollup_l1_reorgs_total 0\n"), "{text}");
    }
}
