//! Known-answer vectors: hashes written out byte by byte, and pinned constants.

use crate::reference::{internal_hash, key_with_prefix, leaf_hash, store_with};
use alloy_primitives::{Address, B256, U256, address, b256, keccak256};
use rollup_trie::{MemoryStore, account_key, account_value_hash, root, storage_key};
use std::collections::BTreeMap;

#[test]
fn empty_trie_root_is_zero() {
    assert_eq!(root(&MemoryStore::new()).unwrap(), B256::ZERO);
    assert_eq!(store_with(&BTreeMap::new()).root(), B256::ZERO);
}

#[test]
fn single_leaf_root_is_the_leaf_hash() {
    let key = B256::repeat_byte(0xab);
    let value = B256::repeat_byte(0xcd);
    let mut preimage = vec![0x00];
    preimage.extend_from_slice(key.as_slice());
    preimage.extend_from_slice(value.as_slice());
    assert_eq!(preimage.len(), 65);
    assert_eq!(
        store_with(&BTreeMap::from([(key, value)])).root(),
        keccak256(&preimage)
    );
}

#[test]
fn keys_differing_in_bit_zero_sit_under_the_root() {
    let (left, right) = (key_with_prefix(&[0x7f]), key_with_prefix(&[0x80]));
    let (lv, rv) = (B256::with_last_byte(1), B256::with_last_byte(2));
    let store = store_with(&BTreeMap::from([(left, lv), (right, rv)]));
    assert_eq!(
        store.root(),
        internal_hash(leaf_hash(left, lv), leaf_hash(right, rv))
    );
    assert_eq!(store.len(), 3);
    // Sharing bit 0 (both left) adds an internal node with an empty right child.
    let (a, b) = (key_with_prefix(&[0x00]), key_with_prefix(&[0x40]));
    let store = store_with(&BTreeMap::from([(a, lv), (b, rv)]));
    assert_eq!(
        store.root(),
        internal_hash(
            internal_hash(leaf_hash(a, lv), leaf_hash(b, rv)),
            B256::ZERO
        )
    );
}

#[test]
fn keys_and_value_hashes_match_their_definitions() {
    let account: Address = address!("0x4200000000000000000000000000000000000016");
    let slot = U256::from(7);
    assert_eq!(
        account_key(account),
        keccak256([&[0u8][..], account.as_slice()].concat())
    );
    assert_eq!(
        storage_key(account, slot),
        keccak256([&[1u8][..], account.as_slice(), &slot.to_be_bytes::<32>()].concat())
    );
    let code_hash = keccak256([]);
    let mut words = [0u8; 96];
    words[31] = 3;
    words[32..64].copy_from_slice(&U256::from(10u64.pow(18)).to_be_bytes::<32>());
    words[64..].copy_from_slice(code_hash.as_slice());
    assert_eq!(
        account_value_hash(3, U256::from(10u64.pow(18)), code_hash),
        keccak256(words)
    );

    // Pinned (= `cast keccak 0x004200…0016`), so a change to the encoding cannot pass silently.
    assert_eq!(
        account_key(account),
        b256!("0xd792b3139e6f8d3b3c61b44425e8998aa19c98009de317836cb5fed0c26bc84e")
    );
}
