//! The pool's ordering and bookkeeping, and the sequencing loop against a real core and MDBX.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use rollup_node_core::RollupNode;
use rollup_primitives::{BlockNumHash, ContractAddresses, GenesisAccount, L2Genesis, RollupConfig};
use rollup_sequencer::{PoolConfig, PoolError, Sequencer, SequencerConfig, TxPool};
use rollup_storage::Store;

fn keys() -> Vec<PrivateKeySigner> {
    (1u8..=3)
        .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap())
        .collect()
}

fn config() -> RollupConfig {
    let alloc: BTreeMap<Address, GenesisAccount> = keys()
        .iter()
        .map(|k| {
            (
                k.address(),
                GenesisAccount {
                    balance: U256::from(10u128.pow(20)),
                    ..Default::default()
                },
            )
        })
        .collect();
    RollupConfig {
        l1_chain_id: 1,
        l2_chain_id: 7,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: 1,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc,
        },
        sequencing_window: 10,
        max_sequencer_drift: u64::MAX / 4,
    }
}

fn raw(key: &PrivateKeySigner, nonce: u64, max_fee: u128) -> Bytes {
    raw_with_input(key, nonce, max_fee, 21_000, Bytes::new())
}

fn raw_with_input(
    key: &PrivateKeySigner,
    nonce: u64,
    max_fee: u128,
    gas_limit: u64,
    input: Bytes,
) -> Bytes {
    let tx = TxEip1559 {
        chain_id: 7,
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: max_fee / 10,
        to: TxKind::Call(Address::repeat_byte(0x99)),
        value: U256::from(1),
        access_list: Default::default(),
        input,
    };
    let signature = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(signature))
        .encoded_2718()
        .into()
}

fn setup() -> (tempfile::TempDir, RollupNode, Arc<TxPool>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config());
    let store = Store::open(dir.path()).unwrap();
    let node = RollupNode::new(config.clone(), store.clone()).unwrap();
    let pool = Arc::new(TxPool::new(PoolConfig::default(), &config, store));
    (dir, node, pool)
}

const FEE: u128 = 10_000_000_000;

#[test]
fn best_is_first_come_first_served_in_nonce_order_and_stops_at_gaps() {
    let (_dir, _node, pool) = setup();
    let [a, b, c] = keys().try_into().unwrap();
    let b1 = pool.add_raw(&raw(&b, 1, FEE)).unwrap(); // queued behind b0
    let a0 = pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    let b0 = pool.add_raw(&raw(&b, 0, FEE)).unwrap();
    let c2 = pool.add_raw(&raw(&c, 2, FEE)).unwrap(); // gap: c0, c1 missing
    let a1 = pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    assert_eq!(pool.len(), 5);
    let best: Vec<B256> = pool
        .best(30_000_000, 1_000_000_000, |_| 0)
        .iter()
        .map(|tx| tx.hash())
        .collect();
    // Arrival order, but never ahead of a lower nonce: a0, then b0, then b1 (it arrived first
    // and only had to wait for b0), then a1; c is not executable.
    assert_eq!(best, vec![a0, b0, b1, a1]);
    assert!(!best.contains(&c2));
    // Gas-limited: only what fits.
    assert_eq!(pool.best(42_000, 1_000_000_000, |_| 0).len(), 2);
    // Fee cap below the base fee: nothing.
    assert!(pool.best(30_000_000, FEE as u64 + 1, |_| 0).is_empty());
    assert_eq!(pool.pending_nonce(a.address(), 0), 2);
    assert_eq!(pool.pending_nonce(c.address(), 0), 0);
}

#[test]
fn replacement_needs_a_fee_bump_and_pruning_drops_used_nonces() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    assert_eq!(
        pool.add_raw(&raw(&a, 0, FEE + 1)),
        Err(PoolError::ReplacementUnderpriced)
    );
    let replacement = pool.add_raw(&raw(&a, 0, FEE * 2)).unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.best(30_000_000, 1, |_| 0)[0].hash(), replacement);
    pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    pool.remove_and_prune(&[], |_| 1);
    assert_eq!(pool.len(), 1, "nonce 0 is used");
    assert_eq!(
        pool.add_raw(&raw(&a, 70, FEE)),
        Err(PoolError::NonceTooHigh {
            state: 0,
            tx: 70,
            max_gap: 64
        })
    );
}

#[test]
fn sequencing_includes_pool_transactions_and_empties_the_pool() {
    let (_dir, mut node, pool) = setup();
    let sequencer = Sequencer::new(
        SequencerConfig {
            block_time: Duration::from_millis(10),
        },
        pool.clone(),
    );
    let [a, b, _] = keys().try_into().unwrap();
    let hashes: Vec<B256> = [raw(&a, 0, FEE), raw(&a, 1, FEE), raw(&b, 0, FEE)]
        .iter()
        .map(|r| pool.add_raw(r).unwrap())
        .collect();
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    let reader = node.store().reader().unwrap();
    assert_eq!(reader.l2_head().unwrap(), Some(1));
    let included: Vec<B256> = reader
        .body(1)
        .unwrap()
        .unwrap()
        .iter()
        .map(|tx| tx.hash())
        .collect();
    assert_eq!(included, hashes);
    for hash in &hashes {
        assert!(reader.transaction(*hash).unwrap().unwrap().receipt.success);
    }
    assert_eq!(reader.account(a.address()).unwrap().unwrap().nonce, 2);
    // Nothing to do: no block.
    drop(reader);
    sequencer.sequence(&mut node).unwrap();
    assert_eq!(node.store().reader().unwrap().l2_head().unwrap(), Some(1));
    // A transaction whose nonce was used meanwhile is rejected at the pool door.
    assert_eq!(
        pool.add_raw(&raw(&a, 1, FEE * 3)),
        Err(PoolError::NonceTooLow { state: 2, tx: 1 })
    );
}

#[test]
fn a_block_never_holds_more_transaction_bytes_than_one_batch_carries() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    let calldata = Bytes::from(vec![0xab; 20_000]);
    for nonce in 0..8 {
        pool.add_raw(&raw_with_input(&a, nonce, FEE, 1_000_000, calldata.clone()))
            .unwrap();
    }
    let best = pool.best(30_000_000, 1, |_| 0);
    let bytes: usize = best
        .iter()
        .map(alloy_eips::eip2718::Encodable2718::encode_2718_len)
        .sum();
    assert_eq!(best.len(), 5, "{bytes} bytes");
    assert!(bytes <= rollup_sequencer::MAX_BLOCK_TX_BYTES);
}

#[test]
fn blocks_are_packed_by_gas_used_and_what_does_not_fit_waits() {
    let (_dir, mut node, pool) = setup();
    let sequencer = Sequencer::new(
        SequencerConfig {
            block_time: Duration::from_millis(10),
        },
        pool.clone(),
    );
    let [a, b, _] = keys().try_into().unwrap();
    // Each reserves 12M gas but uses 21 000: three fit a 30M block by gas used.
    for (key, nonce) in [(&a, 0), (&b, 0), (&a, 1)] {
        pool.add_raw(&raw_with_input(key, nonce, FEE, 12_000_000, Bytes::new()))
            .unwrap();
    }
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .body(1)
            .unwrap()
            .unwrap()
            .len(),
        3
    );

    // 29.99M each: after the first, the rest no longer fit and wait (in nonce order) for later
    // blocks instead of being dropped.
    for nonce in 2..5 {
        pool.add_raw(&raw_with_input(&a, nonce, FEE, 29_990_000, Bytes::new()))
            .unwrap();
    }
    sequencer.sequence(&mut node).unwrap();
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .body(2)
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(pool.len(), 2, "deferred, not dropped");
    sequencer.sequence(&mut node).unwrap();
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .account(a.address())
            .unwrap()
            .unwrap()
            .nonce,
        5
    );
}
