//! The ExEx contract, driven exactly as reth drives an execution extension: committed, reorged
//! and reverted chains, duplicate deliveries after a restart, and `FinishedHeight`
//! expectations — against real MDBX.
//!
//! The L1 chains here carry no batches: their L2 blocks are forced in (`forceInclude`), one per
//! L1 block as soon as the sequencing window allows (see [`forced_record`]).

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, Log, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_node_core::RollupNode;
use rollup_primitives::{
    BlockNumHash, ContractAddresses, L1Block, L1Chain, L1Notification, L1Receipt, L1Transaction,
    L2Genesis, RollupConfig,
    bindings::{
        IBatchInbox::{BatchAppended, forceIncludeCall},
        IL1Bridge::DepositInitiated,
    },
};
use rollup_storage::{L1_REORG_DEPTH, Store};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod batches;
mod history;

const BRIDGE: Address = Address::repeat_byte(0xb1);
const ORIGIN: u64 = 100;

fn config() -> Arc<RollupConfig> {
    Arc::new(RollupConfig {
        l1_chain_id: 31337,
        l2_chain_id: 42069,
        contracts: ContractAddresses {
            l1_bridge: BRIDGE,
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash {
                number: ORIGIN,
                hash: l1_hash(ORIGIN, 0),
            },
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc: Default::default(),
        },
        sequencing_window: 2,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(0x19),
    })
}

/// Hash of L1 block `number` on fork `fork`.
fn l1_hash(number: u64, fork: u64) -> B256 {
    if number <= ORIGIN {
        return keccak256([number.to_be_bytes(), 0u64.to_be_bytes()].concat());
    }
    keccak256([number.to_be_bytes(), fork.to_be_bytes()].concat())
}

fn user(i: u8) -> Address {
    Address::repeat_byte(0x10 + i)
}

/// A bridge deposit log; `nonce` is the bridge's gapless deposit counter.
fn deposit_log(nonce: u64, to: Address, amount: u64) -> Log {
    let event = DepositInitiated {
        nonce: U256::from(nonce),
        from: to,
        to,
        l1Token: Address::ZERO,
        l2Token: Address::ZERO,
        amount: U256::from(amount),
        gasLimit: 21_000,
        refundTo: to,
        tokenMetadata: Default::default(),
    };
    Log {
        address: BRIDGE,
        data: event.encode_log_data(),
    }
}

/// L1 block `number` on `fork` (its parent is on `parent_fork`), with ETH deposits. Their
/// nonces assume one deposit in every L1 block since the origin.
fn l1_block(number: u64, fork: u64, parent_fork: u64, deposits: &[(Address, u64)]) -> L1Block {
    L1Block {
        number,
        hash: l1_hash(number, fork),
        parent_hash: l1_hash(number - 1, parent_fork),
        timestamp: 1_000 + number * 12,
        mix_hash: B256::with_last_byte(number as u8),
        base_fee_per_gas: Some(1),
        transactions: vec![L1Transaction {
            hash: B256::with_last_byte(1),
            from: user(0),
            to: Some(BRIDGE),
            input: Bytes::new(),
            blob_versioned_hashes: vec![],
            blobs: vec![],
        }],
        receipts: vec![L1Receipt {
            success: true,
            logs: deposits
                .iter()
                .enumerate()
                .map(|(i, (to, amount))| deposit_log(number - ORIGIN - 1 + i as u64, *to, *amount))
                .collect(),
        }],
    }
}

/// The `BatchInbox` record of anyone's `forceInclude([])` in L1 block `number`, as on the
/// chains of [`chain`]: there, every L1 block forces the L2 block of origin `number -
/// sequencing_window` in (the earliest the inbox allows; every earlier origin was forced the
/// same way, one L1 block before). `None` while the first window is open.
fn forced_record(number: u64) -> Option<(L1Transaction, L1Receipt)> {
    let config = config();
    let origin = number
        .checked_sub(config.sequencing_window)
        .filter(|origin| *origin > ORIGIN)?;
    // The forced block's time is its origin's; the block before it is the previous origin's
    // forced block (or L2 genesis).
    let time = |n: u64| {
        if n == ORIGIN {
            config.genesis.timestamp
        } else {
            1_000 + n * 12
        }
    };
    let mut entry = vec![1u8];
    entry.extend_from_slice(&((time(origin) - time(origin - 1)) as u32).to_be_bytes());
    entry.extend_from_slice(&0u16.to_be_bytes());
    let event = BatchAppended {
        index: U256::from(origin - ORIGIN - 1),
        firstBlock: origin - ORIGIN,
        blockCount: 1,
        lastOrigin: origin,
        // One deposit in every L1 block since the rollup's origin.
        depositCount: origin - ORIGIN,
        forced: true,
        dataHash: B256::ZERO,
        segmentRoot: B256::ZERO,
        blocksHash: keccak256(&entry),
        blobCount: 0,
        lastBlockOpen: false,
    };
    let inbox = config.contracts.batch_inbox;
    Some((
        L1Transaction {
            hash: B256::with_last_byte(2),
            from: user(7),
            to: Some(inbox),
            input: forceIncludeCall { headers: vec![] }.abi_encode().into(),
            blob_versioned_hashes: vec![],
            blobs: vec![],
        },
        L1Receipt {
            success: true,
            logs: vec![Log {
                address: inbox,
                data: event.encode_log_data(),
            }],
        },
    ))
}

/// A chain of blocks `from..=to` on `fork`, the first one's parent on `parent_fork`, with one
/// deposit of `number` wei to `user(fork)` and one forced L2 block ([`forced_record`]) in every
/// block.
fn chain(from: u64, to: u64, fork: u64, parent_fork: u64) -> Arc<L1Chain> {
    let blocks = (from..=to)
        .map(|n| {
            let mut block = l1_block(
                n,
                fork,
                if n == from { parent_fork } else { fork },
                &[(user(fork as u8), n)],
            );
            if let Some((tx, receipt)) = forced_record(n) {
                block.transactions.push(tx);
                block.receipts.push(receipt);
            }
            block
        })
        .collect();
    Arc::new(L1Chain::new(blocks).unwrap())
}

fn committed(from: u64, to: u64, fork: u64, parent_fork: u64) -> L1Notification {
    L1Notification::Committed {
        new: chain(from, to, fork, parent_fork),
    }
}

fn balance(node: &RollupNode, address: Address) -> U256 {
    node.store()
        .reader()
        .unwrap()
        .account(address)
        .unwrap()
        .map(|a| a.balance)
        .unwrap_or_default()
}

fn sum(from: u64, to: u64) -> U256 {
    U256::from((from..=to).sum::<u64>())
}

/// Everything a user can observe of the chain: head, block hashes, and balances.
fn snapshot(node: &RollupNode) -> (u64, Vec<B256>, Vec<U256>) {
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let hashes = (0..=head)
        .map(|n| reader.block_hash(n).unwrap().unwrap())
        .collect();
    let balances = (0..4).map(|i| balance(node, user(i))).collect();
    (head, hashes, balances)
}

fn open(dir: &std::path::Path) -> RollupNode {
    RollupNode::new(config(), Store::open(dir).unwrap()).unwrap()
}

/// Reports L1 block `number` of fork `fork` as L1's finalized block.
fn finalize(node: &mut RollupNode, number: u64, fork: u64) {
    node.set_l1_finalized(BlockNumHash {
        number,
        hash: l1_hash(number, fork),
    })
    .unwrap();
}

#[test]
fn committed_chain_applies_deposits_and_reports_finished_height() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let outcome = node
        .handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    assert_eq!(outcome.committed_l1_blocks, 5);
    assert_eq!(
        outcome.finished_height,
        Some(BlockNumHash {
            number: 105,
            hash: l1_hash(105, 0)
        })
    );
    // Without a sequencer, each epoch's deposits are derived once its block is forced in, once
    // its sequencing window (2 L1 blocks here) has closed: epochs 101..=103 are L2 blocks 1..=3.
    assert_eq!(balance(&node, user(0)), sum(101, 103));
    let heads = *node.heads().borrow();
    assert_eq!(heads.unsafe_l2.number, 3);
    assert_eq!(heads.safe_l2.number, 3);
    assert_eq!(heads.l1_cursor.number, 105);
    // Each L2 block binds its L1 origin.
    let header = node.store().reader().unwrap().header(3).unwrap().unwrap();
    assert_eq!(
        rollup_primitives::decode_l1_origin(&header.extra_data)
            .unwrap()
            .number,
        103
    );
}

#[test]
fn duplicate_delivery_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    let before = snapshot(&node);
    let outcome = node
        .handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    assert_eq!(outcome.duplicate_l1_blocks, 5);
    assert_eq!(outcome.committed_l1_blocks, 0);
    // A re-delivered chain that overlaps and extends: only the new part applies.
    let outcome = node
        .handle_notification(&committed(103, 107, 0, 0))
        .unwrap();
    assert_eq!(
        (outcome.duplicate_l1_blocks, outcome.committed_l1_blocks),
        (3, 2)
    );
    assert_eq!(&snapshot(&node).1[..before.1.len()], &before.1[..]);
    assert_eq!(balance(&node, user(0)), sum(101, 105));
}

/// A chain that ends below the cursor (re-delivered, or from before the rollup's origin)
/// finishes at its own tip: a host that buffers later blocks for the rollup (reth's ExEx
/// manager) must go on delivering them, not skip them as already done.
#[test]
fn an_old_chain_finishes_at_its_own_tip() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    let at = |number| BlockNumHash {
        number,
        hash: l1_hash(number, 0),
    };
    // Held blocks, re-delivered.
    let outcome = node
        .handle_notification(&committed(102, 103, 0, 0))
        .unwrap();
    assert_eq!(outcome.duplicate_l1_blocks, 2);
    assert_eq!(outcome.finished_height, Some(at(103)));
    // Up to the cursor, and past it: the cursor.
    let outcome = node
        .handle_notification(&committed(104, 105, 0, 0))
        .unwrap();
    assert_eq!(outcome.finished_height, Some(at(105)));
    let outcome = node
        .handle_notification(&committed(105, 106, 0, 0))
        .unwrap();
    assert_eq!(outcome.finished_height, Some(at(106)));
    assert_eq!(node.l1_cursor().unwrap(), at(106));
}

#[test]
fn reorg_unwinds_exactly_and_applies_the_new_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 103, 0, 0))
        .unwrap();
    let at_103 = snapshot(&node);
    node.handle_notification(&committed(104, 108, 0, 0))
        .unwrap();
    let at_108 = snapshot(&node);

    // Blocks 104..=108 of fork 0 are replaced by 104..=107 of fork 1.
    let outcome = node
        .handle_notification(&L1Notification::Reorged {
            old: chain(104, 108, 0, 0),
            new: chain(104, 107, 1, 0),
        })
        .unwrap();
    assert_eq!(outcome.reverted_l1_blocks, 5);
    // L2 blocks with origins 104..=106 go; the blocks of epochs 102 and 103 (forced in by the
    // reverted L1 blocks 104 and 105) stay as unsafe and are re-derived identically.
    assert_eq!(outcome.unwound_l2_blocks, 3);
    assert_eq!(outcome.committed_l1_blocks, 4);
    assert_eq!(outcome.finished_height.unwrap().hash, l1_hash(107, 1));
    assert_eq!(
        balance(&node, user(0)),
        sum(101, 103),
        "fork-0 deposits after 103 are gone"
    );
    assert_eq!(
        balance(&node, user(1)),
        sum(104, 105),
        "fork-1 deposits applied"
    );
    let (head, hashes, _) = snapshot(&node);
    assert_eq!(head, 5);
    assert_eq!(
        &hashes[..2],
        &at_103.1[..],
        "blocks below the fork point are untouched"
    );
    assert_eq!(
        &hashes[..4],
        &at_108.1[..4],
        "blocks of older epochs are re-derived identically"
    );

    // Nothing of the removed blocks is left: the old transactions are not findable.
    let old_tx = chain(104, 104, 0, 0).first().clone();
    let derived = rollup_derive::derive_deposits(&config(), &old_tx);
    let reader = node.store().reader().unwrap();
    assert!(
        reader
            .transaction(derived.deposits[0].hash())
            .unwrap()
            .is_none()
    );
}

/// Every head the node publishes names a stored block, also while an L1 reorg removes blocks:
/// the RPC resolves `safe` and `finalized` through the published heads, and a head above the
/// store made `eth_getBlockByNumber("safe")` answer `null` for that moment.
#[test]
fn published_heads_never_name_a_removed_block() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 110, 0, 0))
        .unwrap();
    let heads = node.heads();
    let store = node.store().clone();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let checker = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut checked = 0u64;
            while !done.load(Ordering::Acquire) {
                let before = *heads.borrow();
                let reader = store.reader().unwrap();
                // The heads moved while the reader opened: which of the two it saw is unknown.
                if *heads.borrow() != before {
                    continue;
                }
                for (name, head) in [
                    ("unsafe", before.unsafe_l2),
                    ("safe", before.safe_l2),
                    ("finalized", before.finalized_l2),
                ] {
                    assert_eq!(
                        reader.block_hash(head.number).unwrap(),
                        Some(head.hash),
                        "the {name} head {head:?} is not a stored block"
                    );
                }
                checked += 1;
            }
            checked
        })
    };
    for round in 0..60u64 {
        // Fork `round + 1` replaces blocks 104..=110 of fork `round`, and back.
        node.handle_notification(&L1Notification::Reorged {
            old: chain(104, 110, round, 0),
            new: chain(104, 110, round + 1, 0),
        })
        .unwrap();
    }
    done.store(true, Ordering::Release);
    let checked = checker.join().unwrap();
    assert!(checked > 0, "the checker never saw steady heads");
}

#[test]
fn revert_then_identical_recommit_restores_identical_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 110, 0, 0))
        .unwrap();
    let full = snapshot(&node);
    let outcome = node
        .handle_notification(&L1Notification::Reverted {
            old: chain(106, 110, 0, 0),
        })
        .unwrap();
    assert_eq!(
        outcome.finished_height,
        Some(BlockNumHash {
            number: 105,
            hash: l1_hash(105, 0)
        }),
        "a pure revert finishes at the new tip, so the host can prune its ExEx WAL"
    );
    assert_eq!(snapshot(&node).0, 5);
    assert_eq!(balance(&node, user(0)), sum(101, 105));
    assert_eq!(
        node.l1_cursor().unwrap(),
        BlockNumHash {
            number: 105,
            hash: l1_hash(105, 0)
        }
    );
    // A revert of blocks we never stored (above the cursor) is a no-op.
    node.handle_notification(&L1Notification::Reverted {
        old: chain(106, 110, 0, 0),
    })
    .unwrap();
    node.handle_notification(&committed(106, 110, 0, 0))
        .unwrap();
    assert_eq!(
        snapshot(&node),
        full,
        "same L1 chain, same L2 chain, hash for hash"
    );
}

#[test]
fn deep_reorg_back_to_the_first_block_after_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    for start in (101..=160).step_by(10) {
        node.handle_notification(&committed(start, start + 9, 0, 0))
            .unwrap();
    }
    assert_eq!(snapshot(&node).0, 58);
    node.handle_notification(&L1Notification::Reorged {
        old: chain(101, 160, 0, 0),
        new: chain(101, 103, 2, 0),
    })
    .unwrap();
    assert_eq!(snapshot(&node).0, 1);
    assert_eq!(balance(&node, user(0)), U256::ZERO);
    assert_eq!(balance(&node, user(2)), sum(101, 101));
}

#[test]
fn reorg_of_the_rollup_origin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 103, 0, 0))
        .unwrap();
    let blocks = vec![l1_block(ORIGIN, 3, 3, &[]), l1_block(101, 3, 3, &[])];
    let err = node
        .handle_notification(&L1Notification::Reverted {
            old: Arc::new(L1Chain::new(blocks).unwrap()),
        })
        .unwrap_err();
    assert!(err.is_reset(), "{err}");
    assert_eq!(snapshot(&node).0, 1, "state untouched");
}

/// A source that commits another block at the origin's height follows another chain (a config
/// of another deployment): a critical error that names both blocks, not a reset that would
/// retry the same L1 for ever, and nothing is stored.
#[test]
fn a_committed_block_at_the_origin_height_that_is_not_the_origin_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let before = snapshot(&node);
    let mut foreign = l1_block(ORIGIN, 0, 0, &[]);
    foreign.hash = B256::repeat_byte(0xf0);
    let mut next = l1_block(ORIGIN + 1, 0, 0, &[]);
    next.parent_hash = foreign.hash;
    let err = node
        .handle_notification(&L1Notification::Committed {
            new: Arc::new(L1Chain::new(vec![foreign, next]).unwrap()),
        })
        .unwrap_err();
    assert!(!err.is_reset(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&B256::repeat_byte(0xf0).to_string())
            && message.contains(&l1_hash(ORIGIN, 0).to_string())
            && message.contains("not the chain the rollup config was made for"),
        "{message}"
    );
    assert_eq!(snapshot(&node), before);
    assert_eq!(node.l1_cursor().unwrap().number, ORIGIN);
    // The origin itself, re-delivered, is still ours.
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(vec![l1_block(ORIGIN, 0, 0, &[])]).unwrap()),
    })
    .unwrap();
    node.handle_notification(&committed(101, 102, 0, 0))
        .unwrap();
    assert_eq!(node.l1_cursor().unwrap().number, 102);
}

#[test]
fn gaps_and_foreign_parents_are_reset_errors_that_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 103, 0, 0))
        .unwrap();
    let before = snapshot(&node);
    let err = node
        .handle_notification(&committed(105, 106, 0, 0))
        .unwrap_err();
    assert!(err.is_reset(), "{err}");
    let err = node
        .handle_notification(&committed(104, 105, 5, 5))
        .unwrap_err();
    assert!(err.is_reset(), "{err}");
    assert_eq!(snapshot(&node), before);
}

#[test]
fn committed_block_conflicting_with_a_stored_one_unwinds_first() {
    // reth may deliver, after a restart, a committed chain that replaces blocks we stored
    // before the crash (its revert notification was lost with the process).
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 106, 0, 0))
        .unwrap();
    node.handle_notification(&committed(104, 106, 1, 0))
        .unwrap();
    assert_eq!(snapshot(&node).0, 4);
    assert_eq!(balance(&node, user(0)), sum(101, 103));
    assert_eq!(balance(&node, user(1)), sum(104, 104));
}

#[test]
fn restart_resumes_from_the_cursor_and_redelivery_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut node = open(dir.path());
        node.handle_notification(&committed(101, 104, 0, 0))
            .unwrap();
    }
    let mut node = open(dir.path());
    assert_eq!(node.l1_cursor().unwrap().number, 104);
    let recent = node.recent_l1_blocks(3).unwrap();
    assert_eq!(
        recent.iter().map(|b| b.number).collect::<Vec<_>>(),
        vec![104, 103, 102]
    );
    // The host re-delivers from an older point, as reth does after a restart.
    let outcome = node
        .handle_notification(&committed(102, 108, 0, 0))
        .unwrap();
    assert_eq!(
        (outcome.duplicate_l1_blocks, outcome.committed_l1_blocks),
        (3, 4)
    );
    assert_eq!(
        balance(&node, user(0)),
        sum(101, 106),
        "no deposit applied twice or lost"
    );
}

#[test]
fn genesis_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let mut other = (*config()).clone();
    other.genesis.timestamp += 1;
    let err = RollupNode::new(Arc::new(other), Store::open(dir.path()).unwrap()).unwrap_err();
    assert!(err.to_string().contains("genesis.timestamp"), "{err}");
}

/// Every consensus parameter is bound to the datadir, not only those in the genesis block: a
/// changed window, drift, chain id or contract address is refused with what changed.
#[test]
fn changed_consensus_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    type Change = (&'static str, fn(&mut RollupConfig));
    let changes: [Change; 4] = [
        ("sequencingWindow: 2 → 3", |c| c.sequencing_window += 1),
        ("l2ChainId: 42069 → 42070", |c| c.l2_chain_id += 1),
        ("maxSequencerDrift: 600 → 60", |c| {
            c.max_sequencer_drift = 60
        }),
        ("contracts.batchInbox", |c| {
            c.contracts.batch_inbox = Address::repeat_byte(9)
        }),
    ];
    for (expected, change) in changes {
        let mut other = (*config()).clone();
        change(&mut other);
        let err = RollupNode::new(Arc::new(other), Store::open(dir.path()).unwrap()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(
            message.contains("fresh datadir (`--datadir`"),
            "says what to do: {message}"
        );
    }
    // The same config still opens, and the chain is untouched.
    let node = RollupNode::new(config(), Store::open(dir.path()).unwrap()).unwrap();
    assert_eq!(node.l1_cursor().unwrap().number, ORIGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_loop_reports_finished_heights_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let (tx, rx) = mpsc::channel(8);
    let (finished_tx, mut finished_rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let store = node.store().clone();
    let task = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            node.run(
                rx,
                finished_tx,
                rollup_node_core::L1Finalized::never(),
                cancel,
            )
            .await
        }
    });
    tx.send(committed(101, 102, 0, 0)).await.unwrap();
    tx.send(committed(103, 103, 0, 0)).await.unwrap();
    assert_eq!(finished_rx.recv().await.unwrap().number, 102);
    let height = finished_rx.recv().await.unwrap();
    assert_eq!(height.number, 103);
    // Finished means durable: a fresh read transaction sees it.
    assert_eq!(
        store.reader().unwrap().l1_cursor().unwrap().unwrap(),
        height
    );
    cancel.cancel();
    task.await.unwrap().unwrap();
}

/// After an L1 reorg moved the cursor back, the L1 blocks offered for finding the next fork
/// point stop where history was pruned (it followed the cursor before the reorg): a fork below
/// them is refused as too deep, and every fork at or above them unwinds.
#[test]
fn recent_l1_blocks_stop_where_history_was_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = RollupNode::new(
        config(),
        Store::open(dir.path()).unwrap().with_history_retention(0),
    )
    .unwrap();
    let tip = 101 + L1_REORG_DEPTH + 150;
    node.handle_notification(&committed(101, tip, 0, 0))
        .unwrap();
    let pruned_to = node
        .store()
        .reader()
        .unwrap()
        .oldest_history_block()
        .unwrap();
    assert!(pruned_to > 0, "history was pruned");
    // A reorg of 100 blocks moves the cursor back.
    node.handle_notification(&L1Notification::Reverted {
        old: chain(tip - 99, tip, 0, 0),
    })
    .unwrap();
    let recent = node.recent_l1_blocks(L1_REORG_DEPTH as usize).unwrap();
    assert!(
        recent.len() < L1_REORG_DEPTH as usize,
        "{} blocks offered",
        recent.len()
    );
    // The oldest offered one can still be unwound to.
    let oldest = recent.last().unwrap().number;
    node.handle_notification(&L1Notification::Reverted {
        old: chain(oldest + 1, tip - 100, 0, 0),
    })
    .unwrap();
    assert_eq!(node.l1_cursor().unwrap().number, oldest);
}

#[test]
fn finalized_head_follows_l1_finality() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    // After L1 block 103 the safe head was L2 block 1 (epoch 101 forced in).
    finalize(&mut node, 103, 0);
    let heads = *node.heads().borrow();
    assert_eq!(heads.finalized_l2.number, 1);
    assert_eq!(heads.l1_finalized.number, 103);
    // An older finalized block than before (a lagging provider, anvil after a rollback) while
    // ours at 103 still stands: finality does not go back.
    finalize(&mut node, 101, 0);
    let heads = *node.heads().borrow();
    assert_eq!(heads.l1_finalized.number, 103);
    assert_eq!(heads.finalized_l2.number, 1);
    // A restart serves the same finalized head before L1 says anything (it read genesis for a
    // moment, until the L1 source's first answer).
    drop(node);
    let mut node = open(dir.path());
    assert_eq!(*node.heads().borrow(), heads);
    // A finalized hash we did not process (another fork) finalizes nothing new.
    finalize(&mut node, 104, 9);
    assert_eq!(node.heads().borrow().finalized_l2.number, 0);
}

/// A revert of blocks at or below L1's finalized block (L1 broke its own finality) is applied
/// like any other, and reported: the finalized L2 head goes back with it.
#[test]
fn a_revert_of_a_finalized_l1_block_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    let revert = |from| L1Notification::Reverted {
        old: chain(from, 105, 0, 0),
    };
    finalize(&mut node, 103, 0);
    assert_eq!(node.heads().borrow().finalized_l2.number, 1);
    // Above the finalized block: an ordinary reorg.
    let outcome = node.handle_notification(&revert(104)).unwrap();
    assert_eq!(outcome.finalized_l1_reverted, None);
    node.handle_notification(&committed(104, 105, 0, 0))
        .unwrap();
    // Through it: reported.
    let outcome = node.handle_notification(&revert(103)).unwrap();
    assert_eq!(outcome.finalized_l1_reverted, Some(103));
    assert_eq!(outcome.reverted_l1_blocks, 3);
    assert_eq!(node.heads().borrow().finalized_l2.number, 0);
    // The finalized block recorded is gone: an older one L1 reports now is taken.
    finalize(&mut node, 102, 0);
    assert_eq!(node.heads().borrow().l1_finalized.number, 102);
}

/// L1 finalized a block above the stored chain (L1 went on while this node was down) on a fork
/// that does not hold the stored top blocks: their revert is an ordinary reorg. It was taken
/// for a broken finality: an error and an alarm on a restart after an ordinary reorg, and the
/// recorded finalized block went back to the fork point until L1 finalized the next one.
#[test]
fn a_revert_below_a_finalized_block_not_reached_yet_is_no_broken_finality() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    let finalized = BlockNumHash {
        number: 110,
        hash: l1_hash(110, 1),
    };
    node.set_l1_finalized(finalized).unwrap();
    // Until then, the stored blocks are taken for its ancestors, as during a catch-up.
    let before = node.heads().borrow().finalized_l2;
    let outcome = node
        .handle_notification(&L1Notification::Reverted {
            old: chain(104, 105, 0, 0),
        })
        .unwrap();
    assert_eq!(outcome.finalized_l1_reverted, None);
    assert_eq!(outcome.reverted_l1_blocks, 2);
    let heads = *node.heads().borrow();
    assert_eq!(heads.l1_finalized, finalized, "L1's finalized block stands");
    // What the blocks that stay carry: after L1 block 103 the safe head was L2 block 1.
    assert_eq!(heads.finalized_l2.number, 1);
    assert!(heads.finalized_l2.number <= before.number);
    // The fork's blocks go on from there and count as final below the finalized block.
    node.handle_notification(&committed(104, 106, 1, 0))
        .unwrap();
    let heads = *node.heads().borrow();
    assert_eq!(heads.l1_finalized, finalized);
    assert_eq!(heads.finalized_l2, heads.safe_l2);
}

/// A revert below L1's finalized block forgets that block, on disk too: the block below the
/// revert (its ancestor) stands in for it. Kept, it made the next fork's blocks below its
/// height count as finalized, and after a restart as well.
#[test]
fn a_reverted_finalized_block_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 108, 0, 0))
        .unwrap();
    finalize(&mut node, 106, 0);
    let outcome = node
        .handle_notification(&L1Notification::Reverted {
            old: chain(105, 108, 0, 0),
        })
        .unwrap();
    assert_eq!(outcome.finalized_l1_reverted, Some(106));
    let below = BlockNumHash {
        number: 104,
        hash: l1_hash(104, 0),
    };
    assert_eq!(node.heads().borrow().l1_finalized, below);
    let final_at_104 = node.heads().borrow().finalized_l2;
    drop(node);
    let mut node = open(dir.path());
    assert_eq!(node.heads().borrow().l1_finalized, below);
    // Another fork below the reverted block's height: its safe blocks are not final.
    node.handle_notification(&committed(105, 105, 1, 0))
        .unwrap();
    let heads = *node.heads().borrow();
    assert!(heads.safe_l2.number > final_at_104.number, "{heads:?}");
    assert_eq!(heads.finalized_l2, final_at_104);
}

/// An older finalized block reported before the revert that removes the recorded one (anvil
/// after a rollback reports its new finality first) is set aside, and taken by the revert:
/// the source does not report it again.
#[test]
fn an_older_finality_reported_before_a_revert_is_taken_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 105, 0, 0))
        .unwrap();
    finalize(&mut node, 103, 0);
    finalize(&mut node, 102, 0);
    assert_eq!(node.heads().borrow().l1_finalized.number, 103, "set aside");
    let outcome = node
        .handle_notification(&L1Notification::Reverted {
            old: chain(103, 105, 0, 0),
        })
        .unwrap();
    assert_eq!(outcome.finalized_l1_reverted, Some(103));
    assert_eq!(node.heads().borrow().l1_finalized.number, 102);
}

/// A deposit missing from the L1 data (a gap in the bridge's nonces) stops derivation with an
/// error that says so, and applies nothing of the block that shows the gap.
#[test]
fn a_gap_in_deposit_nonces_stops_derivation_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&committed(101, 103, 0, 0))
        .unwrap();
    let before = snapshot(&node);
    let cursor = node.l1_cursor().unwrap();

    // Block 104 carries nonce 4: nonce 3 never arrived.
    let mut gapped = l1_block(104, 0, 0, &[]);
    gapped.receipts[0].logs.push(deposit_log(4, user(0), 104));
    let err = node
        .handle_notification(&L1Notification::Committed {
            new: Arc::new(L1Chain::new(vec![gapped]).unwrap()),
        })
        .unwrap_err();
    assert!(!err.is_reset(), "retrying the same L1 data cannot fix it");
    let message = err.to_string();
    assert!(
        message.contains("nonce 4") && message.contains("3 was expected"),
        "{message}"
    );
    assert_eq!(snapshot(&node), before, "nothing of block 104 is applied");
    assert_eq!(node.l1_cursor().unwrap(), cursor);

    // The complete block derives, and the count continues across restarts.
    drop(node);
    let mut node = open(dir.path());
    node.handle_notification(&committed(104, 105, 0, 0))
        .unwrap();
    assert_eq!(node.l1_cursor().unwrap().number, 105);
    assert!(
        balance(&node, user(0)) > before.2[0],
        "deposits keep arriving"
    );
}

/// The bridge's first message (nonce 0) missing from the L1 data: the rollup's origin precedes
/// the bridge, so nonce 0 is due first, and a first message with nonce 1 is a gap that stops
/// derivation, not a new base (deposit 0 would be lost without a word).
#[test]
fn a_missing_first_deposit_stops_derivation() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let mut gapped = l1_block(101, 0, 0, &[]);
    gapped.receipts[0].logs.push(deposit_log(1, user(1), 7));
    let result = node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(vec![gapped]).unwrap()),
    });
    assert!(
        result.is_err(),
        "derivation went on: user 1 has {} wei and deposit 0 is lost",
        balance(&node, user(1))
    );
    assert_eq!(balance(&node, user(1)), U256::ZERO);
}

/// A database from before L1 block records carried the next deposit nonce: its newest record
/// has none although messages were derived. The next message sets the count, as it did then,
/// instead of being taken for a gap after nonce 0.
#[test]
fn a_record_without_a_deposit_nonce_takes_the_next_message_as_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(vec![l1_block(ORIGIN + 1, 0, 0, &[(user(1), 7)])]).unwrap()),
    })
    .unwrap();
    {
        let mut writer = node.store().writer().unwrap();
        let mut record = writer.l1_block(ORIGIN + 1).unwrap().unwrap();
        assert_eq!(record.next_deposit_nonce, Some(1));
        record.next_deposit_nonce = None;
        writer.record_l1_block(&record).unwrap();
        writer.commit().unwrap();
    }
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(vec![l1_block(ORIGIN + 2, 0, 0, &[(user(2), 7)])]).unwrap()),
    })
    .unwrap();
    let writer = node.store().writer().unwrap();
    assert_eq!(
        writer
            .l1_block(ORIGIN + 2)
            .unwrap()
            .unwrap()
            .next_deposit_nonce,
        Some(2)
    );
}
