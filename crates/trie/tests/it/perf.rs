//! Throughput of incremental updates (run with `cargo test --release -p rollup-trie perf -- --nocapture`).

use crate::reference::{reference_root, word};
use alloy_primitives::B256;
use rollup_trie::{MemoryStore, Node, NodePath, NodeStore, apply_updates};
use std::{cell::Cell, collections::BTreeMap, convert::Infallible, time::Instant};

/// Counts reads through to a `MemoryStore`.
struct Counting<'a> {
    store: &'a MemoryStore,
    reads: Cell<usize>,
}

impl NodeStore for Counting<'_> {
    type Error = Infallible;

    fn node(&self, path: &NodePath) -> Result<Option<Node>, Self::Error> {
        self.reads.set(self.reads.get() + 1);
        self.store.node(path)
    }
}

#[test]
fn perf_ten_thousand_keys_in_batches_of_a_thousand() {
    const KEYS: u64 = 10_000;
    const BATCH: u64 = 1_000;
    let mut store = MemoryStore::new();
    let mut model = BTreeMap::new();
    let (mut reads, mut writes, mut elapsed) = (0, 0, 0.0);
    for batch in 0..KEYS / BATCH {
        let updates: BTreeMap<B256, Option<B256>> = (batch * BATCH..(batch + 1) * BATCH)
            .map(|i| (word("perf-key", i), Some(word("perf-value", i))))
            .collect();
        let counting = Counting {
            store: &store,
            reads: Cell::new(0),
        };
        let started = Instant::now();
        let update = apply_updates(&counting, &updates).unwrap();
        elapsed += started.elapsed().as_secs_f64();
        reads += counting.reads.get();
        writes += update.writes.len();
        store.apply(&update);
        model.extend(updates.iter().map(|(k, v)| (*k, v.unwrap())));
    }
    // The same number of updates to existing keys in the full trie.
    let updates: BTreeMap<B256, Option<B256>> = (0..BATCH)
        .map(|i| (word("perf-key", i * 7), Some(word("perf-new", i))))
        .collect();
    let counting = Counting {
        store: &store,
        reads: Cell::new(0),
    };
    let started = Instant::now();
    let update = apply_updates(&counting, &updates).unwrap();
    let update_elapsed = started.elapsed().as_secs_f64();
    let depth = rollup_trie::prove(&store, word("perf-key", 1))
        .unwrap()
        .siblings
        .len();
    println!(
        "insert {KEYS} keys in batches of {BATCH}: {:.2} µs/key, {:.1} node reads/key, {:.1} node writes/key; \
         then {BATCH} updates of existing keys: {:.2} µs/key, {:.1} reads/key, {:.1} writes/key; \
         {} nodes stored, a typical proof has {depth} siblings",
        elapsed * 1e6 / KEYS as f64,
        reads as f64 / KEYS as f64,
        writes as f64 / KEYS as f64,
        update_elapsed * 1e6 / BATCH as f64,
        counting.reads.get() as f64 / BATCH as f64,
        update.writes.len() as f64 / BATCH as f64,
        store.len(),
    );
    assert_eq!(store.root(), reference_root(&model));
    // O(updates × depth): a batch of 1000 into 10k keys touches far fewer than 1000 × 256 nodes.
    assert!(
        update.writes.len() < 1_000 * 2 * (depth + 4),
        "{} writes",
        update.writes.len()
    );
}
