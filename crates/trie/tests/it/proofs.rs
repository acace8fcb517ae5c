//! Proofs: membership and non-membership verify, every tampering is rejected, and the root
//! computed from a proof after an update equals the one `apply_updates` computes.

use crate::{
    reference::{key_with_prefix, store_with, word},
    updates::{arb_key, arb_value},
};
use alloy_primitives::B256;
use proptest::prelude::*;
use rollup_trie::{
    MemoryStore, Node, Proof, Terminal, VerifyError, apply_updates, prove, update_root_with_proof,
    verify,
};
use std::collections::BTreeMap;

/// Checks `update_root_with_proof` against `apply_updates` for one key and returns the proof.
fn check_update(
    store: &MemoryStore,
    entries: &BTreeMap<B256, B256>,
    key: B256,
    new: Option<B256>,
) -> Proof {
    let proof = prove(store, key).unwrap();
    let old = entries.get(&key).copied();
    let from_proof = update_root_with_proof(store.root(), key, old, new, &proof).unwrap();
    let expected = apply_updates(store, &BTreeMap::from([(key, new)]))
        .unwrap()
        .root;
    assert_eq!(
        from_proof, expected,
        "update of {key} from {old:?} to {new:?}"
    );
    proof
}

/// 300 pseudo-random keys plus a few crafted ones: two sharing 12 bits (a chain of internal
/// nodes with an empty child) and two differing only in their last bit (leaves at depth 256).
fn sample_entries() -> BTreeMap<B256, B256> {
    let mut entries: BTreeMap<B256, B256> = (0..300)
        .map(|i| (word("key", i), word("value", i)))
        .collect();
    let mut deep = B256::repeat_byte(0x5a);
    entries.insert(deep, B256::with_last_byte(1));
    deep[31] ^= 1;
    entries.insert(deep, B256::with_last_byte(2));
    entries
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proofs_verify_and_predict_updates(
        entries in proptest::collection::btree_map(arb_key(), any::<[u8; 32]>().prop_map(|v| B256::from(v) | B256::with_last_byte(1)), 0..40),
        queries in proptest::collection::vec((arb_key(), arb_value(), any::<proptest::sample::Index>()), 1..16),
    ) {
        let store = store_with(&entries);
        let root = store.root();
        let present: Vec<B256> = entries.keys().copied().collect();
        for (fresh, new, pick) in queries {
            // Half the queries hit a present key.
            let key = if present.is_empty() || pick.index(2) == 0 { fresh } else { *pick.get(&present) };
            let value = entries.get(&key).copied();
            let proof = prove(&store, key).unwrap();
            prop_assert_eq!(verify(root, key, value, &proof), Ok(()));
            if let Some(value) = value {
                let other = value ^ B256::with_last_byte(0x80);
                prop_assert!(verify(root, key, Some(other), &proof).is_err());
                prop_assert!(verify(root, key, None, &proof).is_err());
            } else {
                prop_assert!(verify(root, key, Some(B256::with_last_byte(7)), &proof).is_err());
            }
            let from_proof = update_root_with_proof(root, key, value, new, &proof).unwrap();
            let expected = apply_updates(&store, &BTreeMap::from([(key, new)])).unwrap().root;
            prop_assert_eq!(from_proof, expected);
        }
    }
}

#[test]
fn membership_and_both_non_membership_terminals_verify() {
    let entries = sample_entries();
    let store = store_with(&entries);
    let root = store.root();
    for (key, value) in &entries {
        let proof = prove(&store, *key).unwrap();
        assert_eq!(
            proof.terminal,
            Terminal::Leaf {
                key: *key,
                value_hash: *value
            }
        );
        verify(root, *key, Some(*value), &proof).unwrap();
    }
    let (mut empty, mut other) = (0, 0);
    for i in 0..200 {
        let key = word("absent", i);
        let proof = prove(&store, key).unwrap();
        match proof.terminal {
            Terminal::Empty => empty += 1,
            Terminal::Leaf { key: found, .. } => {
                assert_ne!(found, key);
                other += 1;
            }
        }
        verify(root, key, None, &proof).unwrap();
        // A zero value hash means absent too.
        verify(root, key, Some(B256::ZERO), &proof).unwrap();
    }
    assert!(
        empty > 0 && other > 0,
        "both terminals exercised: {empty} empty, {other} other-leaf"
    );
}

#[test]
fn tampered_proofs_fail_with_distinct_errors() {
    let entries = sample_entries();
    let store = store_with(&entries);
    let root = store.root();
    let (key, value) = entries.iter().nth(17).map(|(k, v)| (*k, *v)).unwrap();
    let proof = prove(&store, key).unwrap();
    assert!(proof.siblings.len() >= 4, "a typical depth");

    // Wrong value.
    let wrong = B256::repeat_byte(0xee);
    assert_eq!(
        verify(root, key, Some(wrong), &proof),
        Err(VerifyError::ValueMismatch {
            key,
            claimed: wrong,
            proven: value
        })
    );
    // Claimed absent.
    assert_eq!(
        verify(root, key, None, &proof),
        Err(VerifyError::UnexpectedMembership {
            key,
            value_hash: value
        })
    );

    // Wrong key: this leaf's proof presented for a key on another path.
    let wrong_key = key ^ key_with_prefix(&[0x80]);
    assert_eq!(
        verify(root, wrong_key, Some(value), &proof),
        Err(VerifyError::TerminalOffPath {
            key: wrong_key,
            terminal_key: key,
            depth: proof.siblings.len()
        })
    );

    // Truncated: the top sibling dropped.
    let mut truncated = proof.clone();
    truncated.siblings.remove(0);
    assert!(matches!(
        verify(root, key, Some(value), &truncated),
        Err(VerifyError::RootMismatch { .. })
    ));

    // Extra sibling below the leaf: an empty one breaks canonical placement, a non-empty one the root.
    let mut padded = proof.clone();
    padded.siblings.push(B256::ZERO);
    assert_eq!(
        verify(root, key, Some(value), &padded),
        Err(VerifyError::NonCanonical {
            depth: proof.siblings.len() + 1
        })
    );
    let mut extended = proof.clone();
    extended.siblings.push(B256::repeat_byte(3));
    assert!(matches!(
        verify(root, key, Some(value), &extended),
        Err(VerifyError::RootMismatch { .. })
    ));
    let mut overlong = proof.clone();
    overlong.siblings = vec![B256::repeat_byte(3); 257];
    assert_eq!(
        verify(root, key, Some(value), &overlong),
        Err(VerifyError::TooManySiblings { len: 257 })
    );

    // Every single tampered sibling.
    for index in 0..proof.siblings.len() {
        let mut tampered = proof.clone();
        tampered.siblings[index] ^= B256::with_last_byte(1);
        let err = verify(root, key, Some(value), &tampered).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::RootMismatch { .. } | VerifyError::NonCanonical { .. }
            ),
            "{err}"
        );
    }

    // A proof for another key: its absence proof claimed as this key's membership, and
    // another absent key's proof claimed as this absence.
    let absent = (0..)
        .map(|i| word("absent", i))
        .find(|k| prove(&store, *k).unwrap().terminal == Terminal::Empty)
        .unwrap();
    let absent_proof = prove(&store, absent).unwrap();
    assert_eq!(
        verify(root, key, Some(value), &absent_proof),
        Err(VerifyError::UnexpectedNonMembership { key })
    );
    let other_absent = absent ^ key_with_prefix(&[0x80]);
    assert!(matches!(
        verify(root, other_absent, None, &absent_proof),
        Err(VerifyError::RootMismatch { .. })
    ));

    // A zero-valued terminal leaf is never stored.
    let mut zero_leaf = proof.clone();
    zero_leaf.terminal = Terminal::Leaf {
        key,
        value_hash: B256::ZERO,
    };
    assert_eq!(
        verify(root, key, None, &zero_leaf),
        Err(VerifyError::ZeroValueLeaf { key })
    );

    // Wrong root.
    assert!(matches!(
        verify(B256::repeat_byte(9), key, Some(value), &proof),
        Err(VerifyError::RootMismatch { .. })
    ));
}

#[test]
fn update_with_proof_covers_every_case() {
    let entries = sample_entries();
    let store = store_with(&entries);

    // Update in place, and re-set the same value.
    let (key, value) = entries.iter().next().map(|(k, v)| (*k, *v)).unwrap();
    check_update(&store, &entries, key, Some(B256::repeat_byte(0x11)));
    check_update(&store, &entries, key, Some(value));
    // Delete of an absent key and insert at an empty slot / splitting another leaf.
    let mut kinds = (false, false);
    for i in 0..100 {
        let absent = word("absent", i);
        let proof = check_update(&store, &entries, absent, Some(B256::repeat_byte(0x22)));
        check_update(&store, &entries, absent, None);
        match proof.terminal {
            Terminal::Empty => kinds.0 = true,
            Terminal::Leaf { .. } => kinds.1 = true,
        }
    }
    assert_eq!(kinds, (true, true));
    // Deletes: with an internal sibling (no collapse) and a leaf sibling (collapse).
    let mut kinds = (false, false);
    for key in entries.keys() {
        let proof = check_update(&store, &entries, *key, None);
        match proof.last_sibling {
            Some(Node::Internal { .. }) => kinds.0 = true,
            Some(Node::Leaf { .. }) => kinds.1 = true,
            None => unreachable!("a trie of many keys has a sibling on every path"),
        }
    }
    assert_eq!(kinds, (true, true));
}

#[test]
fn delete_collapses_through_empty_siblings() {
    // a = 000…, b = 001…, c = 1…: root → (depth 1: internal(internal(a, b), ∅), c).
    let a = key_with_prefix(&[0x00, 0x01]);
    let b = key_with_prefix(&[0x20]);
    let c = key_with_prefix(&[0x80]);
    let entries = BTreeMap::from([
        (a, B256::repeat_byte(1)),
        (b, B256::repeat_byte(2)),
        (c, B256::repeat_byte(3)),
    ]);
    let store = store_with(&entries);
    let proof = check_update(&store, &entries, a, None);
    assert_eq!(proof.siblings.len(), 3);
    assert!(proof.siblings[1].is_zero());
    // After deleting a, b rises two levels to depth 1.
    let after = apply_updates(&store, &BTreeMap::from([(a, None)])).unwrap();
    let leaf = |k: B256, v: B256| {
        Node::Leaf {
            key: k,
            value_hash: v,
        }
        .hash()
    };
    let expected = Node::Internal {
        left: leaf(b, B256::repeat_byte(2)),
        right: leaf(c, B256::repeat_byte(3)),
    }
    .hash();
    assert_eq!(after.root, expected);

    // Deleting the only key empties the trie; deleting from two keys leaves the other at the root.
    let single = BTreeMap::from([(a, B256::repeat_byte(1))]);
    let single_store = store_with(&single);
    check_update(&single_store, &single, a, None);
    let pair = BTreeMap::from([(a, B256::repeat_byte(1)), (c, B256::repeat_byte(3))]);
    check_update(&store_with(&pair), &pair, a, None);
    // Inserting into the empty trie, and beside a leaf sharing 12 bits.
    check_update(
        &MemoryStore::new(),
        &BTreeMap::new(),
        a,
        Some(B256::repeat_byte(1)),
    );
    check_update(
        &single_store,
        &single,
        key_with_prefix(&[0x00, 0x08]),
        Some(B256::repeat_byte(4)),
    );
}

#[test]
fn delete_needs_an_honest_last_sibling() {
    let entries = sample_entries();
    let store = store_with(&entries);
    let root = store.root();
    let (key, value) = entries.iter().next().map(|(k, v)| (*k, *v)).unwrap();
    let mut proof = prove(&store, key).unwrap();
    let honest = proof.last_sibling.take();
    assert_eq!(
        update_root_with_proof(root, key, Some(value), None, &proof),
        Err(VerifyError::MissingLastSibling {
            depth: proof.siblings.len()
        })
    );
    // Claiming a leaf sibling is internal (or the reverse) does not hash to the sibling.
    proof.last_sibling = Some(match honest.unwrap() {
        Node::Leaf { key, value_hash } => Node::Internal {
            left: key,
            right: value_hash,
        },
        Node::Internal { left, right } => Node::Leaf {
            key: left,
            value_hash: right,
        },
    });
    assert!(matches!(
        update_root_with_proof(root, key, Some(value), None, &proof),
        Err(VerifyError::LastSiblingMismatch { .. })
    ));
    // The old value must be proven before anything is computed.
    assert!(matches!(
        update_root_with_proof(
            root,
            key,
            Some(B256::repeat_byte(1)),
            None,
            &prove(&store, key).unwrap()
        ),
        Err(VerifyError::ValueMismatch { .. })
    ));
}

#[test]
fn prove_detects_a_corrupt_store() {
    let entries = sample_entries();
    let store = store_with(&entries);
    let key = *entries.keys().next().unwrap();
    let mut nodes = store.nodes().clone();
    let path = rollup_trie::NodePath::new(1, key).unwrap();
    let node = nodes.get_mut(&path).unwrap();
    if let Node::Internal { left, .. } = node {
        *left ^= B256::with_last_byte(1);
    }
    let err = prove(&MemoryStore::from(nodes), key).unwrap_err();
    assert!(
        matches!(err, rollup_trie::TrieError::HashMismatch { path: p, .. } if p == path),
        "{err}"
    );
}
