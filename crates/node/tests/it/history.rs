//! Historical state and proofs through L1 reorgs: what `state_at` and `trie_proof_at` answer
//! for a block is what the node showed while that block was its head, for every block still
//! canonical, including blocks unwound and re-derived on another fork.

use std::collections::HashMap;

use alloy_primitives::{Address, B256};
use rollup_execution::revm::{DatabaseRef, state::AccountInfo};
use rollup_node_core::RollupNode;
use rollup_primitives::L1Notification;

use super::{chain, committed, open, user};

/// What a user saw at an L2 head: its state root and the accounts of users 0..4.
type Observed = (B256, Vec<Option<AccountInfo>>);

fn accounts() -> Vec<Address> {
    (0..4).map(user).collect()
}

/// Records the head as the node shows it now, by block hash.
fn observe(node: &RollupNode, seen: &mut HashMap<B256, (u64, Observed)>) {
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let header = reader.header(head).unwrap().unwrap();
    let latest = accounts()
        .into_iter()
        .map(|address| reader.account(address).unwrap())
        .collect();
    seen.insert(
        reader.block_hash(head).unwrap().unwrap(),
        (head, (header.state_root, latest)),
    );
}

/// Checks every canonical block that was observed; returns how many were.
fn check_history(node: &RollupNode, seen: &HashMap<B256, (u64, Observed)>) -> usize {
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let mut checked = 0;
    for number in 0..=head {
        let hash = reader.block_hash(number).unwrap().unwrap();
        let Some((observed_at, (root, observed))) = seen.get(&hash) else {
            continue;
        };
        assert_eq!(*observed_at, number);
        assert_eq!(reader.header(number).unwrap().unwrap().state_root, *root);
        let state = reader.state_at(number).unwrap();
        for (address, expected) in accounts().into_iter().zip(observed) {
            let account = state.basic_ref(address).unwrap();
            assert_eq!(&account, expected, "{address} at L2 block {number}");
            let key = rollup_trie::account_key(address);
            let proof = reader.trie_proof_at(number, key).unwrap();
            let value = account.map(|info| {
                rollup_trie::account_value_hash(info.nonce, info.balance, info.code_hash)
            });
            rollup_trie::verify(*root, key, value, &proof)
                .unwrap_or_else(|err| panic!("proof of {address} at L2 block {number}: {err}"));
        }
        checked += 1;
    }
    checked
}

#[test]
fn historical_state_and_proofs_match_what_was_observed_through_reorgs() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let mut seen = HashMap::new();
    observe(&node, &mut seen);
    for l1 in 101..=112 {
        node.handle_notification(&committed(l1, l1, 0, 0)).unwrap();
        observe(&node, &mut seen);
    }
    assert!(check_history(&node, &seen) >= 10);
    let before_reorg = node.store().reader().unwrap().l2_head().unwrap().unwrap();

    // L1 blocks 107..=112 are replaced by 107..=115 of fork 1: the L2 blocks derived from them
    // are unwound, and blocks with the same numbers re-derived with other deposits.
    node.handle_notification(&L1Notification::Reorged {
        old: chain(107, 112, 0, 0),
        new: chain(107, 107, 1, 0),
    })
    .unwrap();
    observe(&node, &mut seen);
    for l1 in 108..=115 {
        node.handle_notification(&committed(l1, l1, 1, 1)).unwrap();
        observe(&node, &mut seen);
    }
    // A revert and an identical recommit on top.
    node.handle_notification(&L1Notification::Reverted {
        old: chain(114, 115, 1, 1),
    })
    .unwrap();
    node.handle_notification(&committed(114, 115, 1, 1))
        .unwrap();

    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    assert!(
        head > before_reorg,
        "the new fork is longer: {head} vs {before_reorg}"
    );
    drop(reader);
    let checked = check_history(&node, &seen);
    assert!(
        checked >= 12,
        "only {checked} observed blocks are canonical"
    );
    // Fork-1 funds exist only from the fork on, and history says so.
    let reader = node.store().reader().unwrap();
    assert!(
        reader
            .state_at(3)
            .unwrap()
            .basic_ref(user(1))
            .unwrap()
            .is_none()
    );
    assert!(
        reader
            .state_at(head)
            .unwrap()
            .basic_ref(user(1))
            .unwrap()
            .is_some()
    );
}
