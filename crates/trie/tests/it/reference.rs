//! A from-scratch reference trie: a plain recursion over the final key set.

use alloy_primitives::{B256, keccak256};
use rollup_trie::{MemoryStore, Node, NodePath, apply_updates};
use std::collections::BTreeMap;

fn bit(key: &B256, index: usize) -> bool {
    (key[index / 8] >> (7 - index % 8)) & 1 == 1
}

/// Hash of a leaf, written out independently of the crate.
pub(crate) fn leaf_hash(key: B256, value_hash: B256) -> B256 {
    keccak256([&[0u8][..], key.as_slice(), value_hash.as_slice()].concat())
}

/// Hash of an internal node, written out independently of the crate.
pub(crate) fn internal_hash(left: B256, right: B256) -> B256 {
    keccak256([&[1u8][..], left.as_slice(), right.as_slice()].concat())
}

/// Root of the trie holding `entries`.
pub(crate) fn reference_root(entries: &BTreeMap<B256, B256>) -> B256 {
    let entries: Vec<_> = entries.iter().map(|(k, v)| (*k, *v)).collect();
    subtree_root(&entries, 0)
}

fn subtree_root(entries: &[(B256, B256)], depth: usize) -> B256 {
    match entries {
        [] => B256::ZERO,
        [(key, value)] => leaf_hash(*key, *value),
        _ => {
            let split = entries.partition_point(|(key, _)| !bit(key, depth));
            internal_hash(
                subtree_root(&entries[..split], depth + 1),
                subtree_root(&entries[split..], depth + 1),
            )
        }
    }
}

/// The node set of the trie holding `entries`, built from scratch.
pub(crate) fn reference_store(entries: &BTreeMap<B256, B256>) -> MemoryStore {
    let entries: Vec<_> = entries.iter().map(|(k, v)| (*k, *v)).collect();
    let mut nodes = BTreeMap::new();
    build(&entries, NodePath::ROOT, &mut nodes);
    MemoryStore::from(nodes)
}

fn build(entries: &[(B256, B256)], path: NodePath, nodes: &mut BTreeMap<NodePath, Node>) -> B256 {
    match entries {
        [] => B256::ZERO,
        [(key, value_hash)] => {
            nodes.insert(
                path,
                Node::Leaf {
                    key: *key,
                    value_hash: *value_hash,
                },
            );
            leaf_hash(*key, *value_hash)
        }
        _ => {
            let split = entries.partition_point(|(key, _)| !bit(key, path.depth() as usize));
            let left = build(&entries[..split], path.child(false), nodes);
            let right = build(&entries[split..], path.child(true), nodes);
            nodes.insert(path, Node::Internal { left, right });
            internal_hash(left, right)
        }
    }
}

/// A store holding `entries`, built through `apply_updates` in one batch.
pub(crate) fn store_with(entries: &BTreeMap<B256, B256>) -> MemoryStore {
    let mut store = MemoryStore::new();
    let updates = entries.iter().map(|(k, v)| (*k, Some(*v))).collect();
    store.apply(&apply_updates(&store, &updates).unwrap());
    store
}

/// A key from a short hex prefix, the rest zero: handy to place keys by their top bits.
pub(crate) fn key_with_prefix(prefix: &[u8]) -> B256 {
    let mut key = B256::ZERO;
    key[..prefix.len()].copy_from_slice(prefix);
    key
}

/// Deterministic pseudo-random word number `i` of stream `tag`.
pub(crate) fn word(tag: &str, i: u64) -> B256 {
    keccak256([tag.as_bytes(), &i.to_be_bytes()].concat())
}
