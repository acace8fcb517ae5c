//! Writes the vectors the Solidity verifier is checked against
//! (`contracts/test/fixtures/smt_vectors.json`, read by `SparseMerkleTrie.t.sol`) and fails if
//! the committed file differs from what this crate computes.

use crate::reference::{key_with_prefix, store_with, word};
use alloy_primitives::{Address, B256, U256, hex};
use rollup_trie::{
    MemoryStore, Proof, Terminal, account_key, account_value_hash, apply_updates, prove,
    storage_key, update_root_with_proof, verify,
};
use serde_json::{Value, json};
use std::{collections::BTreeMap, path::PathBuf};

const REGENERATE: &str = "UPDATE_FIXTURES=1 cargo test -p rollup-trie --test it fixture";

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/test/fixtures/smt_vectors.json")
}

fn terminal_json(terminal: &Terminal) -> (B256, B256) {
    match terminal {
        Terminal::Leaf { key, value_hash } => (*key, *value_hash),
        Terminal::Empty => (B256::ZERO, B256::ZERO),
    }
}

fn proof_vector(
    name: &str,
    store: &MemoryStore,
    entries: &BTreeMap<B256, B256>,
    key: B256,
) -> Value {
    let proof = prove(store, key).unwrap();
    let value = entries.get(&key).copied();
    verify(store.root(), key, value, &proof).unwrap();
    let (terminal_key, terminal_value_hash) = terminal_json(&proof.terminal);
    json!({
        "name": name,
        "root": store.root(),
        "key": key,
        "valueHash": value.unwrap_or_default(),
        "siblings": proof.siblings,
        "terminalKey": terminal_key,
        "terminalValueHash": terminal_value_hash,
    })
}

fn update_vector(
    name: &str,
    entries: &BTreeMap<B256, B256>,
    key: B256,
    new: Option<B256>,
) -> Value {
    let store = store_with(entries);
    let proof: Proof = prove(&store, key).unwrap();
    let old = entries.get(&key).copied();
    let new_root = update_root_with_proof(store.root(), key, old, new, &proof).unwrap();
    assert_eq!(
        new_root,
        apply_updates(&store, &BTreeMap::from([(key, new)]))
            .unwrap()
            .root,
        "{name}"
    );
    let (terminal_key, terminal_value_hash) = terminal_json(&proof.terminal);
    let last_sibling = proof
        .last_sibling
        .map(|node| hex::encode_prefixed(node.encode()))
        .unwrap_or_else(|| "0x".into());
    json!({
        "name": name,
        "root": store.root(),
        "key": key,
        "oldValueHash": old.unwrap_or_default(),
        "newValueHash": new.unwrap_or_default(),
        "siblings": proof.siblings,
        "terminalKey": terminal_key,
        "terminalValueHash": terminal_value_hash,
        "lastSibling": last_sibling,
        "newRoot": new_root,
    })
}

fn key_vectors() -> Vec<Value> {
    (0..4u64)
        .map(|i| {
            let address = Address::from_word(word("address", i));
            let slot = if i == 0 {
                U256::ZERO
            } else {
                U256::from_be_bytes(word("slot", i).0)
            };
            let nonce = if i == 3 { u64::MAX } else { i * 5 };
            let balance = if i == 3 {
                U256::MAX
            } else {
                U256::from(i) * U256::from(10u64.pow(18))
            };
            let code_hash = word("code", i);
            json!({
                "address": hex::encode_prefixed(address),
                "slot": B256::from(slot),
                "nonce": nonce,
                "balance": B256::from(balance),
                "codeHash": code_hash,
                "accountKey": account_key(address),
                "storageKey": storage_key(address, slot),
                "accountValueHash": account_value_hash(nonce, balance, code_hash),
            })
        })
        .collect()
}

fn generate() -> Value {
    // A trie of 64 pseudo-random keys plus two that differ only in their last bit.
    let mut entries: BTreeMap<B256, B256> = (0..64)
        .map(|i| (word("fixture-key", i), word("fixture-value", i)))
        .collect();
    let deep = B256::repeat_byte(0x5a);
    let deep_twin = deep ^ B256::with_last_byte(1);
    entries.insert(deep, B256::with_last_byte(1));
    entries.insert(deep_twin, B256::with_last_byte(2));
    let store = store_with(&entries);
    let absent_with = |want_empty: bool| {
        (0..)
            .map(|i| word("fixture-absent", i))
            .filter(|key| (prove(&store, *key).unwrap().terminal == Terminal::Empty) == want_empty)
            .take(2)
            .collect::<Vec<_>>()
    };

    let mut proofs = vec![
        proof_vector("membership", &store, &entries, word("fixture-key", 3)),
        proof_vector("membership", &store, &entries, word("fixture-key", 40)),
        proof_vector("membership at depth 256", &store, &entries, deep_twin),
    ];
    for key in absent_with(true) {
        proofs.push(proof_vector(
            "non-membership, empty terminal",
            &store,
            &entries,
            key,
        ));
    }
    for key in absent_with(false) {
        proofs.push(proof_vector(
            "non-membership, other leaf terminal",
            &store,
            &entries,
            key,
        ));
    }
    let single = BTreeMap::from([(word("fixture-key", 0), word("fixture-value", 0))]);
    let single_store = store_with(&single);
    proofs.push(proof_vector(
        "empty trie",
        &MemoryStore::new(),
        &BTreeMap::new(),
        word("fixture-key", 0),
    ));
    proofs.push(proof_vector(
        "single leaf, membership",
        &single_store,
        &single,
        word("fixture-key", 0),
    ));
    proofs.push(proof_vector(
        "single leaf, non-membership",
        &single_store,
        &single,
        word("fixture-key", 1),
    ));

    // a = 000…, b = 001…, c = 1…: deleting a lifts b two levels.
    let (a, b, c) = (
        key_with_prefix(&[0x00, 0x01]),
        key_with_prefix(&[0x20]),
        key_with_prefix(&[0x80]),
    );
    let small = BTreeMap::from([
        (a, B256::repeat_byte(1)),
        (b, B256::repeat_byte(2)),
        (c, B256::repeat_byte(3)),
    ]);
    let internal_sibling = entries
        .keys()
        .copied()
        .find(|key| {
            matches!(
                prove(&store, *key).unwrap().last_sibling,
                Some(rollup_trie::Node::Internal { .. })
            )
        })
        .unwrap();
    let leaf_sibling = entries
        .keys()
        .copied()
        .find(|key| {
            matches!(
                prove(&store, *key).unwrap().last_sibling,
                Some(rollup_trie::Node::Leaf { .. })
            )
        })
        .unwrap();
    let [empty_slot, ..] = absent_with(true)[..] else {
        unreachable!()
    };
    let [other_leaf, ..] = absent_with(false)[..] else {
        unreachable!()
    };
    let new = B256::repeat_byte(0x77);
    let updates = vec![
        update_vector("insert into the empty trie", &BTreeMap::new(), a, Some(new)),
        update_vector(
            "insert beside a single leaf, differing in bit 0",
            &single,
            word("fixture-key", 0) ^ key_with_prefix(&[0x80]),
            Some(new),
        ),
        update_vector(
            "insert beside a leaf sharing 12 bits",
            &BTreeMap::from([(a, B256::repeat_byte(1))]),
            key_with_prefix(&[0x00, 0x08]),
            Some(new),
        ),
        update_vector("insert into an empty slot", &entries, empty_slot, Some(new)),
        update_vector(
            "insert splitting another leaf",
            &entries,
            other_leaf,
            Some(new),
        ),
        update_vector(
            "insert splitting at depth 256",
            &BTreeMap::from([(deep, B256::with_last_byte(1))]),
            deep_twin,
            Some(new),
        ),
        update_vector(
            "update in place",
            &entries,
            word("fixture-key", 5),
            Some(new),
        ),
        update_vector(
            "delete with an internal sibling",
            &entries,
            internal_sibling,
            None,
        ),
        update_vector("delete with a leaf sibling", &entries, leaf_sibling, None),
        update_vector(
            "delete lifting the sibling leaf two levels",
            &small,
            a,
            None,
        ),
        update_vector("delete at depth 256", &entries, deep, None),
        update_vector(
            "delete the only leaf",
            &single,
            word("fixture-key", 0),
            None,
        ),
        update_vector("delete an absent key", &entries, empty_slot, None),
    ];

    json!({
        "generatedBy": format!("crates/trie/tests/it/fixture.rs; regenerate with `{REGENERATE}`"),
        "keyCount": 4,
        "keys": key_vectors(),
        "proofCount": proofs.len(),
        "proofs": proofs,
        "updateCount": updates.len(),
        "updates": updates,
    })
}

#[test]
fn solidity_fixture_is_up_to_date() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let path = fixture_path();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale or missing: the trie's vectors changed. Regenerate it with `{REGENERATE}` \
         (run from the workspace root) and re-run `forge test` in contracts/.",
        path.display()
    );
}
