//! Batches: a sequencer's blocks posted to L1 are derived by a replica hash for hash; bad
//! batches are dropped by the written rules; the sequencing window forces deposits in.

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use rollup_node_core::RollupNode;
use rollup_primitives::{
    Batch, BatchBlock, GenesisAccount, L1Block, L1Chain, L1Notification, L1Receipt, L1Transaction,
    L2Transaction, RollupConfig, bindings::IBatchInbox::postBatchCall, decode_l1_origin,
};
use rollup_storage::Store;

use super::{ORIGIN, balance, config, l1_block, user};

const INBOX: Address = Address::repeat_byte(2);

fn key() -> PrivateKeySigner {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap()
}

/// The shared config with a 10-block sequencing window and a funded account for `key()`.
fn batch_config() -> Arc<RollupConfig> {
    let mut config = (*config()).clone();
    config.sequencing_window = 10;
    config.genesis.alloc.insert(
        key().address(),
        GenesisAccount {
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    Arc::new(config)
}

fn open(dir: &std::path::Path) -> RollupNode {
    RollupNode::new(batch_config(), Store::open(dir).unwrap()).unwrap()
}

fn transfer(nonce: u64, to: Address, value: u64) -> L2Transaction {
    let tx = TxEip1559 {
        chain_id: batch_config().l2_chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(value),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = key().sign_hash_sync(&tx.signature_hash()).unwrap();
    L2Transaction::Signed {
        envelope: TxEnvelope::from(tx.into_signed(signature)),
        sender: key().address(),
    }
}

/// L1 block `number` of fork 0 carrying one `postBatch(data)` call per entry of `batches`.
fn l1_with_batches(number: u64, batches: &[Vec<u8>]) -> L1Block {
    let mut block = l1_block(number, 0, 0, &[]);
    for (i, data) in batches.iter().enumerate() {
        block.transactions.push(L1Transaction {
            hash: B256::with_last_byte(0x80 + i as u8),
            from: user(9),
            to: Some(INBOX),
            input: postBatchCall {
                data: data.clone().into(),
            }
            .abi_encode()
            .into(),
            blob_versioned_hashes: vec![],
        });
        block.receipts.push(L1Receipt {
            success: true,
            logs: vec![],
        });
    }
    block
}

fn commit(node: &mut RollupNode, blocks: Vec<L1Block>) -> rollup_node_core::NotificationOutcome {
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(blocks).unwrap()),
    })
    .unwrap()
}

/// The batch of `node`'s blocks `from..=to`.
fn batch_of(node: &RollupNode, from: u64, to: u64) -> Batch {
    let reader = node.store().reader().unwrap();
    Batch {
        parent_hash: reader.block_hash(from - 1).unwrap().unwrap(),
        blocks: (from..=to)
            .map(|n| {
                let header = reader.header(n).unwrap().unwrap();
                BatchBlock {
                    timestamp: header.timestamp,
                    l1_origin: decode_l1_origin(&header.extra_data).unwrap().number,
                    transactions: reader
                        .body(n)
                        .unwrap()
                        .unwrap()
                        .into_iter()
                        .filter_map(|tx| match tx {
                            L2Transaction::Signed { envelope, .. } => Some(envelope),
                            L2Transaction::Deposit(_) => None,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

fn hashes(node: &RollupNode) -> Vec<B256> {
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    (0..=head)
        .map(|n| reader.block_hash(n).unwrap().unwrap())
        .collect()
}

/// A sequencer that saw L1 blocks 101..=103 (with deposits) and built four blocks with
/// transfers, two of them adopting new origins.
fn sequenced() -> (tempfile::TempDir, RollupNode, Vec<L1Block>) {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let l1: Vec<L1Block> = (101..=103)
        .map(|n| l1_block(n, 0, 0, &[(user(0), n)]))
        .collect();
    commit(&mut node, l1.clone());
    let t = |n: u64| 1_000 + n * 12;
    node.build_block(vec![transfer(0, user(5), 1)], t(101))
        .unwrap()
        .unwrap(); // origin 101
    node.build_block(
        vec![transfer(1, user(5), 2), transfer(2, user(6), 3)],
        t(101) + 1,
    )
    .unwrap()
    .unwrap(); // 101
    node.build_block(vec![], t(102)).unwrap().unwrap(); // origin 102
    node.build_block(vec![transfer(3, user(5), 4)], t(102))
        .unwrap()
        .unwrap(); // 102, same second
    (dir, node, l1)
}

#[test]
fn replica_derives_the_sequencers_chain_hash_for_hash() {
    let (_dir, mut sequencer, mut l1) = sequenced();
    let heads = *sequencer.heads().borrow();
    assert_eq!((heads.unsafe_l2.number, heads.safe_l2.number), (4, 0));
    assert_eq!(
        balance(&sequencer, user(0)),
        U256::from(101 + 102),
        "deposits of adopted origins"
    );

    // The batcher posts blocks 1..=2 and 3..=4 in L1 block 104.
    let posted = l1_with_batches(
        104,
        &[
            batch_of(&sequencer, 1, 2).encode().unwrap(),
            batch_of(&sequencer, 3, 4).encode().unwrap(),
        ],
    );
    l1.push(posted.clone());

    let outcome = commit(&mut sequencer, vec![posted]);
    assert_eq!(
        (
            outcome.safe_l2_blocks,
            outcome.unwound_l2_blocks,
            outcome.dropped_batches
        ),
        (4, 0, 0)
    );
    assert_eq!(
        sequencer.heads().borrow().safe_l2.number,
        4,
        "its own batches made the blocks safe"
    );

    let replica_dir = tempfile::tempdir().unwrap();
    let mut replica = open(replica_dir.path());
    commit(&mut replica, l1);
    assert_eq!(
        hashes(&replica),
        hashes(&sequencer),
        "same chain from L1 alone"
    );
    assert_eq!(replica.heads().borrow().safe_l2.number, 4);
    assert_eq!(balance(&replica, user(5)), U256::from(1 + 2 + 4));
    // Each safe block remembers the batch it came from (what a proposal's batch root commits to).
    let reader = replica.store().reader().unwrap();
    let first = alloy_primitives::keccak256(batch_of(&sequencer, 1, 2).encode().unwrap());
    let second = alloy_primitives::keccak256(batch_of(&sequencer, 3, 4).encode().unwrap());
    let recorded: Vec<_> = (1..=4)
        .map(|n| reader.block_batch(n).unwrap().unwrap())
        .collect();
    assert_eq!(recorded, vec![first, first, second, second]);
    assert_eq!(balance(&replica, user(6)), U256::from(3));
}

#[test]
fn bad_batches_are_dropped_and_the_window_forces_deposits_in() {
    let (_dir, sequencer, l1) = sequenced();
    let good = batch_of(&sequencer, 1, 2);
    let mut wrong_parent = good.clone();
    wrong_parent.parent_hash = B256::repeat_byte(7);
    let mut origin_jump = good.clone();
    origin_jump.blocks[0].l1_origin = ORIGIN + 2;
    origin_jump.blocks[1].l1_origin = ORIGIN + 2;
    let mut future_timestamp = good.clone();
    future_timestamp.blocks[1].timestamp += 10_000;
    let mut bad_signature = good;
    if let TxEnvelope::Eip1559(signed) = &bad_signature.blocks[0].transactions[0] {
        let tx = signed.tx().clone();
        let signature = alloy_primitives::Signature::new(U256::ZERO, U256::from(1), false);
        bad_signature.blocks[0].transactions[0] = TxEnvelope::from(tx.into_signed(signature));
    }
    let batches = vec![
        vec![0xde, 0xad],                   // not a batch
        wrong_parent.encode().unwrap(),     // does not extend the safe head: ignored
        origin_jump.encode().unwrap(),      // origin skips an epoch
        bad_signature.encode().unwrap(),    // signature does not recover
        future_timestamp.encode().unwrap(), // second block beyond the drift
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut replica = open(dir.path());
    let mut blocks = l1;
    blocks.push(l1_with_batches(104, &batches));
    let outcome = commit(&mut replica, blocks);
    assert_eq!(
        outcome.dropped_batches, 4,
        "decode, origin, drift and signature failures"
    );
    // future_timestamp's first block was valid and stays; nothing else was derived.
    assert_eq!(replica.heads().borrow().safe_l2.number, 1);
    assert_eq!(hashes(&replica)[1], hashes(&sequencer)[1]);

    // No more batches: once the window of epoch 102 (10 blocks) closes, replicas derive it
    // themselves, with its deposits and no transactions.
    let more: Vec<L1Block> = (105..=111).map(|n| l1_block(n, 0, 0, &[])).collect();
    commit(&mut replica, more);
    let reader = replica.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let forced = reader.header(2).unwrap().unwrap();
    assert_eq!(decode_l1_origin(&forced.extra_data).unwrap().number, 102);
    assert_eq!(
        reader.body(2).unwrap().unwrap().len(),
        1,
        "only the deposit of L1 block 102"
    );
    assert_eq!(head, 2, "epoch 103's window is still open at L1 block 111");
    assert_eq!(balance(&replica, user(0)), U256::from(101 + 102));
}

#[test]
fn derived_blocks_replace_a_diverging_unsafe_chain() {
    // The sequencer's unsafe blocks never made it to L1; the window closes and replicas (and the
    // sequencer itself) derive deposit-only blocks instead, replacing the unsafe ones.
    let (_dir, mut sequencer, _) = sequenced();
    let before = hashes(&sequencer);
    let later: Vec<L1Block> = (104..=111).map(|n| l1_block(n, 0, 0, &[])).collect();
    let outcome = commit(&mut sequencer, later);
    assert!(outcome.unwound_l2_blocks >= 3, "{outcome:?}");
    let after = hashes(&sequencer);
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1], "the forced block has no transfers");
    assert_eq!(
        balance(&sequencer, user(5)),
        U256::ZERO,
        "unposted transfers are gone"
    );
    assert_eq!(
        balance(&sequencer, user(0)),
        U256::from(101 + 102),
        "deposits are not"
    );
    // The removed transfers are handed back, in order, for the sequencer to offer again.
    let orphaned: Vec<u64> = sequencer
        .take_orphaned_transactions()
        .iter()
        .map(|tx| tx.nonce())
        .collect();
    assert_eq!(orphaned, vec![0, 1, 2, 3]);
    assert!(sequencer.take_orphaned_transactions().is_empty());
}

/// An empty batch block at `timestamp` on the genesis origin.
fn empty_block(timestamp: u64) -> BatchBlock {
    BatchBlock {
        timestamp,
        l1_origin: ORIGIN,
        transactions: vec![],
    }
}

fn safe_head(node: &RollupNode) -> u64 {
    node.store().reader().unwrap().safe_head().unwrap().unwrap()
}

/// L2 time is a consensus rule: a batch of 65 536 empty blocks with one timestamp derives at
/// most `MAX_L2_BLOCKS_PER_SECOND` blocks for that second (genesis holds one of them); the rest
/// of the batch is dropped, so a compromised batcher key cannot make replicas derive an
/// unbounded run of blocks.
#[test]
fn a_batch_of_65536_blocks_in_one_second_is_refused_past_the_per_second_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let genesis = node.store().reader().unwrap().header(0).unwrap().unwrap();
    let batch = Batch {
        parent_hash: genesis.hash_slow(),
        blocks: vec![empty_block(genesis.timestamp); 65_536],
    };
    let outcome = commit(
        &mut node,
        vec![l1_with_batches(101, &[batch.encode().unwrap()])],
    );
    assert_eq!(outcome.dropped_batches, 1);
    assert_eq!(
        safe_head(&node),
        rollup_derive::MAX_L2_BLOCKS_PER_SECOND - 1,
        "genesis and nine more blocks share the second"
    );
}

/// One L1 block derives at most `MAX_L2_BLOCKS_PER_L1_BLOCK` blocks, even when every block
/// respects the per-second cap: the rest of the batch is dropped.
#[test]
fn one_l1_block_derives_at_most_the_per_l1_block_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let genesis = node.store().reader().unwrap().header(0).unwrap().unwrap();
    let cap = rollup_derive::MAX_L2_BLOCKS_PER_L1_BLOCK;
    let blocks: Vec<BatchBlock> = (0..cap + 100)
        .map(|i| empty_block(genesis.timestamp + 1 + i / rollup_derive::MAX_L2_BLOCKS_PER_SECOND))
        .collect();
    let batch = Batch {
        parent_hash: genesis.hash_slow(),
        blocks,
    };
    let outcome = commit(
        &mut node,
        vec![l1_with_batches(101, &[batch.encode().unwrap()])],
    );
    assert_eq!(outcome.dropped_batches, 1);
    assert_eq!(safe_head(&node), cap);
}

/// Derivation reads only the configured batcher's batches: the same valid batch sent by
/// another account derives nothing.
#[test]
fn batches_from_anyone_but_the_batcher_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let genesis = node.store().reader().unwrap().header(0).unwrap().unwrap();
    let batch = Batch {
        parent_hash: genesis.hash_slow(),
        blocks: vec![empty_block(genesis.timestamp + 1)],
    }
    .encode()
    .unwrap();
    let mut foreign = l1_with_batches(101, std::slice::from_ref(&batch));
    foreign.transactions.last_mut().unwrap().from = user(8);
    commit(&mut node, vec![foreign]);
    assert_eq!(
        safe_head(&node),
        0,
        "a batch from another account is not derived"
    );
    commit(&mut node, vec![l1_with_batches(102, &[batch])]);
    assert_eq!(safe_head(&node), 1, "the batcher's own copy is");
}

/// What derivation made of each batch and deposit is kept per L1 block for operators (the
/// `rollup_getRecentBatches` and `rollup_getDeposits` methods), and an L1 revert removes it
/// with the block.
#[test]
fn derivation_records_say_what_each_batch_and_deposit_became_and_unwind_with_l1() {
    use rollup_storage::{BatchOutcome, BatchRecord, DepositOrigin};
    let (_dir, sequencer, mut l1) = sequenced();
    let first = batch_of(&sequencer, 1, 2).encode().unwrap();
    let second = batch_of(&sequencer, 3, 4).encode().unwrap();
    let posted = l1_with_batches(
        104,
        &[
            first.clone(),
            vec![0xde, 0xad],
            second.clone(),
            first.clone(),
        ],
    );
    l1.push(posted);
    let dir = tempfile::tempdir().unwrap();
    let mut replica = open(dir.path());
    commit(&mut replica, l1);

    let reader = replica.store().reader().unwrap();
    let records = reader.l1_derivations(None, 100).unwrap();
    assert_eq!(
        records
            .iter()
            .map(|(number, _)| *number)
            .collect::<Vec<_>>(),
        vec![104, 103, 102, 101],
        "newest first, only blocks with batches or deposits"
    );
    let batch =
        |index: u8, bytes: usize, first_l2_block, l2_blocks, transactions, outcome| BatchRecord {
            tx_hash: B256::with_last_byte(0x80 + index),
            tx_index: 1 + u32::from(index),
            bytes: bytes as u32,
            first_l2_block,
            l2_blocks,
            transactions,
            outcome,
        };
    let not_a_batch = match &records[0].1.batches[1].outcome {
        BatchOutcome::Dropped(reason) => reason.clone(),
        other => panic!("garbage should be dropped, got {other:?}"),
    };
    assert_eq!(
        records[0].1.batches,
        vec![
            batch(0, first.len(), 1, 2, 3, BatchOutcome::Derived),
            batch(1, 2, 3, 0, 0, BatchOutcome::Dropped(not_a_batch)),
            batch(2, second.len(), 3, 2, 1, BatchOutcome::Derived),
            batch(3, first.len(), 5, 0, 0, BatchOutcome::Ignored),
        ]
    );
    assert!(records[0].1.deposits.is_empty());
    // L1 block 102 carried one deposit (nonce 1: one per block since the origin).
    assert_eq!(
        records[2].1.deposits,
        vec![DepositOrigin {
            nonce: 1,
            tx_hash: B256::with_last_byte(1),
            log_index: 0,
        }]
    );
    assert_eq!(
        reader.l1_derivations(Some(103), 1).unwrap()[0].0,
        102,
        "paging goes on below a given block"
    );
    drop(reader);

    let reverted = L1Notification::Reverted {
        old: Arc::new(L1Chain::new(vec![l1_with_batches(104, &[first])]).unwrap()),
    };
    replica.handle_notification(&reverted).unwrap();
    let reader = replica.store().reader().unwrap();
    assert_eq!(
        reader.l1_derivations(None, 100).unwrap()[0].0,
        103,
        "the reverted block's record is gone"
    );
}
