//! Incremental updates agree with the from-scratch reference, whatever the batching, and
//! unwind exactly.

use crate::reference::{reference_root, reference_store};
use alloy_primitives::B256;
use proptest::{prelude::*, sample::Index};
use rollup_trie::{MemoryStore, Node, NodePath, TrieUpdate, apply_updates, root};
use std::collections::BTreeMap;

/// Keys that exercise the structure: uniform ones, ones sharing 240+ bits (long chains of
/// internal nodes with an empty child, leaves at depth 256) and ones differing only in the top
/// byte.
pub(crate) fn arb_key() -> impl Strategy<Value = B256> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(B256::from),
        any::<u16>().prop_map(|low| {
            let mut key = B256::ZERO;
            key[30..].copy_from_slice(&low.to_be_bytes());
            key
        }),
        any::<u8>().prop_map(|top| {
            let mut key = B256::ZERO;
            key[0] = top;
            key
        }),
    ]
}

/// A new value: mostly set (a few distinct small values, so re-setting the same value happens),
/// sometimes deleted, sometimes zero (which also deletes).
pub(crate) fn arb_value() -> impl Strategy<Value = Option<B256>> {
    prop_oneof![
        3 => (1u8..4).prop_map(|v| Some(B256::with_last_byte(v))),
        3 => any::<[u8; 32]>().prop_map(|v| Some(B256::from(v))),
        2 => Just(None),
        1 => Just(Some(B256::ZERO)),
    ]
}

/// Batches of updates over a pool of keys, so that later batches hit earlier keys.
fn arb_batches() -> impl Strategy<Value = Vec<BTreeMap<B256, Option<B256>>>> {
    (
        proptest::collection::vec(arb_key(), 1..48),
        proptest::collection::vec(
            proptest::collection::vec((any::<Index>(), arb_value()), 0..32),
            1..8,
        ),
    )
        .prop_map(|(pool, batches)| {
            batches
                .into_iter()
                .map(|batch| {
                    batch
                        .into_iter()
                        .map(|(index, value)| (*index.get(&pool), value))
                        .collect()
                })
                .collect()
        })
}

fn apply_to_model(model: &mut BTreeMap<B256, B256>, batch: &BTreeMap<B256, Option<B256>>) {
    for (key, value) in batch {
        match value.filter(|v| !v.is_zero()) {
            Some(value) => model.insert(*key, value),
            None => model.remove(key),
        };
    }
}

/// The node `store` holds at each position `update` writes, read from the store.
fn priors_read_back(store: &MemoryStore, update: &TrieUpdate) -> BTreeMap<NodePath, Option<Node>> {
    update
        .writes
        .keys()
        .map(|path| (*path, store.nodes().get(path).copied()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn incremental_equals_reference_and_unwinds_exactly(batches in arb_batches()) {
        let mut store = MemoryStore::new();
        let mut model = BTreeMap::new();
        for batch in &batches {
            let previous_store = store.clone();
            let previous_model = model.clone();

            let update = apply_updates(&store, batch).unwrap();
            store.apply(&update);
            apply_to_model(&mut model, batch);

            prop_assert_eq!(update.root, reference_root(&model));
            prop_assert_eq!(root(&store).unwrap(), update.root);
            // History independence: the node set is the one a from-scratch build gives.
            prop_assert_eq!(&store, &reference_store(&model));
            // Writes only delete nodes that existed.
            for (path, write) in &update.writes {
                if write.is_none() {
                    prop_assert!(previous_store.nodes().contains_key(path), "delete of absent node at {}", path);
                }
            }
            // The priors are what the store held at each written position, and only those.
            prop_assert_eq!(priors_read_back(&previous_store, &update), update.priors.clone());

            // Unwinding by re-applying the prior values restores the exact prior trie.
            let inverse = batch.keys().map(|key| (*key, previous_model.get(key).copied())).collect();
            let mut unwound = store.clone();
            let unwind = apply_updates(&unwound, &inverse).unwrap();
            unwound.apply(&unwind);
            prop_assert_eq!(unwind.root, previous_store.root());
            prop_assert_eq!(priors_read_back(&store, &unwind), unwind.priors.clone());
            prop_assert_eq!(&unwound, &previous_store);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn batching_does_not_matter(batches in arb_batches()) {
        // Applying every batch one key at a time gives the same trie as batch by batch.
        let mut batched = MemoryStore::new();
        let mut single = MemoryStore::new();
        for batch in &batches {
            batched.apply(&apply_updates(&batched, batch).unwrap());
            for (key, value) in batch {
                let one = BTreeMap::from([(*key, *value)]);
                single.apply(&apply_updates(&single, &one).unwrap());
            }
            prop_assert_eq!(&batched, &single);
        }
    }
}

#[test]
fn empty_update_changes_nothing() {
    let store = crate::reference::store_with(&BTreeMap::from([(
        B256::repeat_byte(1),
        B256::repeat_byte(2),
    )]));
    let update = apply_updates(&store, &BTreeMap::new()).unwrap();
    assert_eq!(update.root, store.root());
    assert!(update.writes.is_empty());
}

#[test]
fn missing_node_is_reported() {
    let entries = BTreeMap::from([
        (B256::repeat_byte(0x01), B256::repeat_byte(1)),
        (B256::repeat_byte(0x02), B256::repeat_byte(2)),
        (B256::repeat_byte(0x81), B256::repeat_byte(3)),
    ]);
    let store = crate::reference::store_with(&entries);
    let mut nodes = store.nodes().clone();
    let left = rollup_trie::NodePath::ROOT.child(false);
    nodes.remove(&left);
    let broken = MemoryStore::from(nodes);
    let updates = BTreeMap::from([(B256::repeat_byte(0x03), Some(B256::repeat_byte(4)))]);
    let err = apply_updates(&broken, &updates).unwrap_err();
    assert!(
        matches!(err, rollup_trie::TrieError::MissingNode { path, .. } if path == left),
        "{err}"
    );
}
