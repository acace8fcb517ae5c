//! Batches: derivation reads the `BatchInbox`'s records, in order. A sequencer's blocks posted to
//! L1 are derived by a replica hash for hash; a segment that does not decode empties its blocks;
//! a forced record derives a deposit-only block; L1 data that contradicts the inbox stops
//! derivation.
//!
//! The tests play the inbox: [`Inbox`] appends only the records the real contract would (and
//! emits them as it does, `BatchAppended` in the receipt of the batcher's `postBatch` call). The
//! few tests of contradicting L1 data tamper with such a record afterwards.

use std::{collections::BTreeMap, sync::Arc};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use rollup_derive::MAX_L2_BLOCKS_PER_SECOND;
use rollup_node_core::{NodeError, NotificationOutcome, RollupNode};
use rollup_primitives::{
    Batch, BatchBlock, BatchEnvelope, BatchParent, GenesisAccount, L1Block, L1Chain,
    L1Notification, L1Receipt, L1Transaction, L2Transaction, RollupConfig,
    bindings::IBatchInbox::{BatchAppended, forceIncludeCall, postBatchCall},
    decode_l1_origin,
};
use rollup_storage::{BatchOutcome, BatchRecord, DepositOrigin, Store};

use super::{BRIDGE, ORIGIN, balance, config, l1_block, snapshot, user};

const INBOX: Address = Address::repeat_byte(2);

/// Anvil's dev key 0, funded in [`batch_config`]: the sequencer's users.
fn key() -> PrivateKeySigner {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap()
}

/// Anvil's dev key 1, funded in [`batch_config`].
fn other_key() -> PrivateKeySigner {
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
        .parse()
        .unwrap()
}

/// The shared config with a 10-block sequencing window and funded [`key`] and [`other_key`].
fn batch_config() -> Arc<RollupConfig> {
    let mut config = (*config()).clone();
    config.sequencing_window = 10;
    for key in [key(), other_key()] {
        config.genesis.alloc.insert(
            key.address(),
            GenesisAccount {
                balance: U256::from(10u128.pow(21)),
                ..Default::default()
            },
        );
    }
    Arc::new(config)
}

fn open(dir: &std::path::Path) -> RollupNode {
    RollupNode::new(batch_config(), Store::open(dir).unwrap()).unwrap()
}

/// Timestamp of L1 block `number` (as [`l1_block`] makes it).
const fn l1_time(number: u64) -> u64 {
    1_000 + number * 12
}

fn signed_transfer(key: &PrivateKeySigner, nonce: u64, to: Address, value: u64) -> TxEnvelope {
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
    let signature = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(signature))
}

fn transfer(nonce: u64, to: Address, value: u64) -> L2Transaction {
    L2Transaction::Signed {
        envelope: signed_transfer(&key(), nonce, to, value),
        sender: key().address(),
    }
}

/// The `BatchInbox` as these tests play it: it appends a record only when the real contract
/// would (`postBatch`: the next block, origins it has recorded, the L2 time rules, the window
/// for the first block, the bridge's message count; `forceInclude`: only once the window of the
/// next origin has closed), and emits `BatchAppended` from the inbox address in the receipt of
/// the calling transaction. Anyone may record origins (`recordOrigins`); here every L1 block
/// before the current one is recorded, so batches carry no headers.
#[derive(Debug, Clone)]
struct Inbox {
    config: Arc<RollupConfig>,
    next_index: u64,
    next_block: u64,
    last_origin: u64,
    last_timestamp: u64,
    blocks_at_last_timestamp: u64,
    /// The block the last record left open (`nextBlock`): its parent and its entry's deltas.
    open: Option<(BatchParent, (u8, u32))>,
    /// L1 blocks seen, by number: timestamp and bridge messages in L1 blocks up to it.
    l1: BTreeMap<u64, (u64, u64)>,
}

impl Inbox {
    fn new() -> Self {
        let config = batch_config();
        let genesis = &config.genesis;
        Self {
            next_index: 0,
            next_block: 1,
            last_origin: genesis.l1_origin.number,
            last_timestamp: genesis.timestamp,
            blocks_at_last_timestamp: 1,
            open: None,
            l1: BTreeMap::from([(genesis.l1_origin.number, (genesis.timestamp, 0))]),
            config,
        }
    }

    /// L1 block `number` of `fork` with `deposits` (see [`l1_block`]), which the inbox sees.
    fn l1_block(
        &mut self,
        number: u64,
        fork: u64,
        parent_fork: u64,
        deposits: &[(Address, u64)],
    ) -> L1Block {
        let block = l1_block(number, fork, parent_fork, deposits);
        let (&below, &(_, messages_below)) = self.l1.range(..number).next_back().unwrap();
        assert_eq!(below + 1, number, "the inbox sees L1 blocks in order");
        // A block on another fork replaces what the inbox saw from its height on.
        self.l1.split_off(&number);
        let messages = block
            .receipts
            .iter()
            .filter(|receipt| receipt.success)
            .flat_map(|receipt| &receipt.logs)
            .filter(|log| log.address == BRIDGE)
            .count() as u64;
        self.l1
            .insert(number, (block.timestamp, messages_below + messages));
        block
    }

    fn origin_timestamp(&self, origin: u64) -> u64 {
        self.l1[&origin].0
    }

    /// `bridge.depositCountAt(origin)`.
    fn deposit_count_at(&self, origin: u64) -> u64 {
        self.l1[&origin].1
    }

    /// The L2 block the next batch builds on, as the inbox recorded it: the open block's
    /// parent when a batch must continue it.
    const fn parent(&self) -> BatchParent {
        match self.open {
            Some((parent, _)) => parent,
            None => BatchParent {
                timestamp: self.last_timestamp,
                l1_origin: self.last_origin,
            },
        }
    }

    /// `batch` as the batcher posts it next: on the inbox's last block, with the bridge's
    /// message count up to its last origin.
    fn encode(&self, batch: &Batch) -> Vec<u8> {
        let mut batch = batch.clone();
        batch.deposit_count = self.deposit_count_at(batch.blocks.last().unwrap().l1_origin);
        batch.encode(self.parent()).unwrap()
    }

    /// The batcher posts `batch` in `block`; returns the data.
    fn post_batch(&mut self, block: &mut L1Block, batch: &Batch) -> Vec<u8> {
        let data = self.encode(batch);
        self.post(block, data.clone());
        data
    }

    /// The batcher calls `postBatch(data)` in `block`. Panics where the contract reverts: the
    /// inbox checks the envelope, never the segments' contents.
    fn post(&mut self, block: &mut L1Block, data: Vec<u8>) -> BatchAppended {
        assert_eq!(self.l1.keys().next_back(), Some(&block.number));
        let envelope = BatchEnvelope::parse(&data).expect("the inbox refuses what does not parse");
        assert!(
            envelope.headers.is_empty(),
            "origins are recorded apart here"
        );
        assert_eq!(
            envelope.first_block, self.next_block,
            "firstBlock == nextBlock"
        );
        let (mut origin, mut timestamp, mut at_timestamp) = (
            self.last_origin,
            self.last_timestamp,
            self.blocks_at_last_timestamp,
        );
        let mut last_parent = self.parent();
        for (index, entry) in envelope.blocks.iter().enumerate() {
            if index == 0
                && let Some((_, deltas)) = self.open
            {
                // The open block again: the same entry, not stepped again.
                assert_eq!((entry.origin_delta, entry.timestamp_delta), deltas);
                assert!(entry.tx_count > 0);
                assert!(block.number < origin + 2 * self.config.sequencing_window);
                continue;
            }
            last_parent = BatchParent {
                timestamp,
                l1_origin: origin,
            };
            origin += u64::from(entry.origin_delta);
            assert!(origin < block.number, "origin {origin} is not recorded yet");
            let next = timestamp + u64::from(entry.timestamp_delta);
            at_timestamp = if next == timestamp {
                at_timestamp + 1
            } else {
                1
            };
            timestamp = next;
            assert!(at_timestamp <= MAX_L2_BLOCKS_PER_SECOND);
            let origin_timestamp = self.origin_timestamp(origin);
            assert!(timestamp >= origin_timestamp);
            assert!(timestamp <= origin_timestamp + self.config.max_sequencer_drift);
            if index == 0 {
                assert!(block.number < origin + 2 * self.config.sequencing_window);
            }
        }
        assert_eq!(envelope.deposit_count, self.deposit_count_at(origin));
        let event = BatchAppended {
            index: U256::from(self.next_index),
            firstBlock: envelope.first_block,
            blockCount: envelope.blocks.len() as u16,
            lastOrigin: origin,
            depositCount: envelope.deposit_count,
            forced: false,
            dataHash: keccak256(&data),
            segmentRoot: envelope.segment_root(),
            blocksHash: envelope.blocks_hash,
            blobCount: 0,
            lastBlockOpen: envelope.last_block_open,
        };
        let input = postBatchCall { data: data.into() }.abi_encode();
        append_record(block, self.config.batcher_address, input, &event);
        self.next_index += 1;
        self.next_block += envelope.blocks.len() as u64;
        self.open = envelope.last_block_open.then(|| {
            let last = envelope.blocks.last().unwrap();
            assert!(last.tx_count > 0);
            self.next_block -= 1;
            (last_parent, (last.origin_delta, last.timestamp_delta))
        });
        (
            self.last_origin,
            self.last_timestamp,
            self.blocks_at_last_timestamp,
        ) = (origin, timestamp, at_timestamp);
        event
    }

    /// Anyone calls `forceInclude([])` in `block`: one block on the next origin, no
    /// transactions.
    fn force(&mut self, block: &mut L1Block) -> BatchAppended {
        assert_eq!(self.l1.keys().next_back(), Some(&block.number));
        // The open block is closed with the parts posted.
        if self.open.take().is_some() {
            self.next_block += 1;
        }
        let origin = self.last_origin + 1;
        assert!(origin < block.number, "origin {origin} is not recorded yet");
        assert!(
            block.number >= origin + self.config.sequencing_window,
            "the window of origin {origin} is still open"
        );
        let mut timestamp = self.last_timestamp.max(self.origin_timestamp(origin));
        if timestamp == self.last_timestamp
            && self.blocks_at_last_timestamp >= MAX_L2_BLOCKS_PER_SECOND
        {
            timestamp += 1;
        }
        let mut entry = vec![1u8];
        entry.extend_from_slice(&((timestamp - self.last_timestamp) as u32).to_be_bytes());
        entry.extend_from_slice(&0u16.to_be_bytes());
        let event = BatchAppended {
            index: U256::from(self.next_index),
            firstBlock: self.next_block,
            blockCount: 1,
            lastOrigin: origin,
            depositCount: self.deposit_count_at(origin),
            forced: true,
            dataHash: B256::ZERO,
            segmentRoot: B256::ZERO,
            blocksHash: keccak256(&entry),
            blobCount: 0,
            lastBlockOpen: false,
        };
        let input = forceIncludeCall { headers: vec![] }.abi_encode();
        append_record(block, user(7), input, &event);
        self.next_index += 1;
        self.next_block += 1;
        self.blocks_at_last_timestamp = if timestamp == self.last_timestamp {
            self.blocks_at_last_timestamp + 1
        } else {
            1
        };
        (self.last_origin, self.last_timestamp) = (origin, timestamp);
        event
    }
}

/// Appends to `block` a successful call of the inbox by `from` whose receipt holds `event`,
/// emitted by the inbox.
fn append_record(block: &mut L1Block, from: Address, input: Vec<u8>, event: &BatchAppended) {
    let tx_index = block.transactions.len() as u64;
    block.transactions.push(L1Transaction {
        hash: keccak256([block.hash.as_slice(), &tx_index.to_be_bytes()].concat()),
        from,
        to: Some(INBOX),
        input: input.into(),
        blob_versioned_hashes: vec![],
        blobs: vec![],
    });
    block.receipts.push(L1Receipt {
        success: true,
        logs: vec![Log {
            address: INBOX,
            data: event.encode_log_data(),
        }],
    });
}

/// Rewrites the record the last transaction of `block` emitted: L1 data the real inbox never
/// produces.
fn tamper(block: &mut L1Block, change: impl FnOnce(&mut BatchAppended)) {
    let log = &mut block.receipts.last_mut().unwrap().logs[0];
    let mut event = BatchAppended::decode_log_data(&log.data).unwrap();
    change(&mut event);
    log.data = event.encode_log_data();
}

/// Makes segment `index` of the batch `data` undecodable: its first FastLZ instruction becomes a
/// back-reference before any output.
fn corrupt_segment(data: &mut [u8], index: usize) {
    let envelope = BatchEnvelope::parse(data).unwrap();
    let from_end: usize = envelope.segments[index..]
        .iter()
        .map(|(_, bytes)| bytes.len())
        .sum();
    let start = data.len() - from_end;
    data[start] = 0xff;
}

fn commit(node: &mut RollupNode, blocks: Vec<L1Block>) -> NotificationOutcome {
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(blocks).unwrap()),
    })
    .unwrap()
}

fn revert(node: &mut RollupNode, blocks: Vec<L1Block>) -> NotificationOutcome {
    node.handle_notification(&L1Notification::Reverted {
        old: Arc::new(L1Chain::new(blocks).unwrap()),
    })
    .unwrap()
}

/// The batch of `node`'s blocks `from..=to` (deposit count left to the inbox).
fn batch_of(node: &RollupNode, from: u64, to: u64) -> Batch {
    let reader = node.store().reader().unwrap();
    Batch {
        first_block: from,
        deposit_count: 0,
        headers: vec![],
        blocks: (from..=to)
            .map(|n| {
                let header = reader.header(n).unwrap().unwrap();
                BatchBlock {
                    timestamp: header.timestamp,
                    l1_origin: decode_l1_origin(&header.extra_data).unwrap().number,
                    transactions: signed_transactions(node, n),
                }
            })
            .collect(),
        last_block_open: false,
    }
}

/// The signed (non-deposit) transactions of `node`'s block `number`.
fn signed_transactions(node: &RollupNode, number: u64) -> Vec<TxEnvelope> {
    node.store()
        .reader()
        .unwrap()
        .body(number)
        .unwrap()
        .unwrap()
        .into_iter()
        .filter_map(|tx| match tx {
            L2Transaction::Signed { envelope, .. } => Some(envelope),
            L2Transaction::Deposit(_) => None,
        })
        .collect()
}

fn hashes(node: &RollupNode) -> Vec<B256> {
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    (0..=head)
        .map(|n| reader.block_hash(n).unwrap().unwrap())
        .collect()
}

fn safe_head(node: &RollupNode) -> u64 {
    node.store().reader().unwrap().safe_head().unwrap().unwrap()
}

fn l2_head(node: &RollupNode) -> u64 {
    node.store().reader().unwrap().l2_head().unwrap().unwrap()
}

/// `(timestamp, L1 origin, transactions)` of `node`'s block `number`.
fn block_summary(node: &RollupNode, number: u64) -> (u64, u64, Vec<L2Transaction>) {
    let reader = node.store().reader().unwrap();
    let header = reader.header(number).unwrap().unwrap();
    (
        header.timestamp,
        decode_l1_origin(&header.extra_data).unwrap().number,
        reader.body(number).unwrap().unwrap(),
    )
}

/// A sequencer that saw L1 blocks 101..=103 (one deposit each) and built four blocks with
/// transfers, two of them adopting new origins; and the inbox, which has seen the same L1.
fn sequenced() -> (tempfile::TempDir, RollupNode, Vec<L1Block>, Inbox) {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let mut inbox = Inbox::new();
    let l1: Vec<L1Block> = (101..=103)
        .map(|n| inbox.l1_block(n, 0, 0, &[(user(0), n)]))
        .collect();
    commit(&mut node, l1.clone());
    node.build_block(vec![transfer(0, user(5), 1)], l1_time(101))
        .unwrap()
        .unwrap(); // origin 101
    node.build_block(
        vec![transfer(1, user(5), 2), transfer(2, user(6), 3)],
        l1_time(101) + 1,
    )
    .unwrap()
    .unwrap(); // 101
    node.build_block(vec![], l1_time(102)).unwrap().unwrap(); // origin 102
    node.build_block(vec![transfer(3, user(5), 4)], l1_time(102))
        .unwrap()
        .unwrap(); // 102, same second
    (dir, node, l1, inbox)
}

#[test]
fn replica_derives_the_sequencers_chain_hash_for_hash() {
    let (_dir, mut sequencer, mut l1, mut inbox) = sequenced();
    let heads = *sequencer.heads().borrow();
    assert_eq!((heads.unsafe_l2.number, heads.safe_l2.number), (4, 0));
    assert_eq!(
        balance(&sequencer, user(0)),
        U256::from(101 + 102),
        "deposits of adopted origins"
    );

    // The batcher posts blocks 1..=2 and 3..=4 in L1 block 104.
    let mut posted = inbox.l1_block(104, 0, 0, &[]);
    let first = inbox.post_batch(&mut posted, &batch_of(&sequencer, 1, 2));
    let second = inbox.post_batch(&mut posted, &batch_of(&sequencer, 3, 4));
    l1.push(posted.clone());

    let outcome = commit(&mut sequencer, vec![posted]);
    assert_eq!(
        (
            outcome.safe_l2_blocks,
            outcome.unwound_l2_blocks,
            outcome.bad_segments
        ),
        (4, 0, 0)
    );
    assert_eq!(
        sequencer.heads().borrow().safe_l2.number,
        4,
        "its own batches made the blocks safe"
    );
    assert!(sequencer.take_orphaned_transactions().is_empty());

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
    assert_eq!(balance(&replica, user(6)), U256::from(3));
    // Each safe block remembers the batch it came from (what a proposal's batch root commits to).
    let reader = replica.store().reader().unwrap();
    let recorded: Vec<_> = (1..=4)
        .map(|n| reader.block_batch(n).unwrap().unwrap())
        .collect();
    let (first, second) = (keccak256(&first), keccak256(&second));
    assert_eq!(recorded, vec![first, first, second, second]);
}

/// A segment that does not decode empties every block with a transaction in it (also a block
/// it shares with another segment) and no other; the blocks themselves stay, and the chain
/// goes on from them the same way on every replica.
#[test]
fn a_segment_that_does_not_decode_empties_exactly_its_blocks_and_the_chain_goes_on() {
    let (a, b) = (key(), other_key());
    // 310 transfers: segments hold at most 256, so block 2 spans both segments.
    let batch = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![
            BatchBlock {
                timestamp: l1_time(101),
                l1_origin: 101,
                transactions: (0..200)
                    .map(|n| signed_transfer(&a, n, user(5), 1))
                    .collect(),
            },
            BatchBlock {
                timestamp: l1_time(101) + 1,
                l1_origin: 101,
                transactions: (200..300)
                    .map(|n| signed_transfer(&a, n, user(5), 1))
                    .collect(),
            },
            BatchBlock {
                timestamp: l1_time(102),
                l1_origin: 102,
                transactions: (0..10)
                    .map(|n| signed_transfer(&b, n, user(6), 1))
                    .collect(),
            },
        ],
        last_block_open: false,
    };
    let next = Batch {
        first_block: 4,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![BatchBlock {
            timestamp: l1_time(103),
            l1_origin: 103,
            transactions: vec![signed_transfer(&b, 10, user(6), 1)],
        }],
        last_block_open: false,
    };
    // Signed transactions per block (1..=4) when segment 0 or 1 does not decode. With segment
    // 1 gone, block 4's transfer has a nonce `b` never reached: invalid, left out.
    for (corrupted, expected) in [(0, [0, 0, 10, 1]), (1, [200, 0, 0, 0])] {
        let mut inbox = Inbox::new();
        let mut l1: Vec<L1Block> = (101..=103)
            .map(|n| inbox.l1_block(n, 0, 0, &[(user(0), n)]))
            .collect();
        let mut block = inbox.l1_block(104, 0, 0, &[]);
        let mut data = inbox.encode(&batch);
        let envelope = BatchEnvelope::parse(&data).unwrap();
        assert_eq!(
            envelope
                .segments
                .iter()
                .map(|(count, _)| *count)
                .collect::<Vec<_>>(),
            vec![256, 54]
        );
        corrupt_segment(&mut data, corrupted);
        inbox.post(&mut block, data);
        l1.push(block);
        let mut block = inbox.l1_block(105, 0, 0, &[]);
        inbox.post_batch(&mut block, &next);
        l1.push(block);

        let dir = tempfile::tempdir().unwrap();
        let mut replica = open(dir.path());
        let outcome = commit(&mut replica, l1.clone());
        assert_eq!(outcome.bad_segments, 1);
        assert_eq!(
            safe_head(&replica),
            4,
            "every block of both records is safe"
        );
        let signed: Vec<usize> = (1..=4)
            .map(|n| signed_transactions(&replica, n).len())
            .collect();
        assert_eq!(signed, expected, "segment {corrupted}");
        // The blocks keep the envelope's timestamps and origins, and their deposits.
        let summaries: Vec<_> = (1..=4)
            .map(|n| {
                let (timestamp, origin, txs) = block_summary(&replica, n);
                (
                    timestamp,
                    origin,
                    txs.iter().filter(|tx| tx.is_deposit()).count(),
                )
            })
            .collect();
        assert_eq!(
            summaries,
            vec![
                (l1_time(101), 101, 1),
                (l1_time(101) + 1, 101, 0),
                (l1_time(102), 102, 1),
                (l1_time(103), 103, 1),
            ]
        );
        let (user5, user6) = if corrupted == 0 { (0, 11) } else { (200, 0) };
        assert_eq!(balance(&replica, user(5)), U256::from(user5));
        assert_eq!(balance(&replica, user(6)), U256::from(user6));
        let derivations = replica
            .store()
            .reader()
            .unwrap()
            .l1_derivations(Some(105), 1)
            .unwrap();
        match &derivations[0].1.batches[0].outcome {
            BatchOutcome::Dropped(reason) => {
                assert!(reason.contains(&format!("segment {corrupted}")), "{reason}")
            }
            other => panic!("the corrupted batch is reported, got {other:?}"),
        }

        // A second replica, fed the same L1 in other pieces, derives the same chain.
        let dir = tempfile::tempdir().unwrap();
        let mut second = open(dir.path());
        commit(&mut second, l1[..4].to_vec());
        commit(&mut second, l1[4..].to_vec());
        assert_eq!(hashes(&second), hashes(&replica));
        assert_eq!(safe_head(&second), 4);
    }
}

/// `forceInclude` appends one block on the next origin once its sequencing window has closed:
/// derived with that origin's deposits and nothing else, at the later of the parent's and the
/// origin's time. It replaces the unsafe blocks whose batches never reached L1.
#[test]
fn a_forced_record_derives_a_deposit_only_block_and_replaces_a_diverging_unsafe_chain() {
    let (_dir, mut sequencer, _, mut inbox) = sequenced();
    let before = hashes(&sequencer);
    // No batch lands. The window of origin 101 (10 L1 blocks) closes at L1 block 111.
    let mut later: Vec<L1Block> = (104..=110).map(|n| inbox.l1_block(n, 0, 0, &[])).collect();
    assert_eq!(
        commit(&mut sequencer, later.clone()).safe_l2_blocks,
        0,
        "a closing window forces nothing by itself"
    );
    assert_eq!(hashes(&sequencer), before);
    later.clear();
    for number in [111, 112] {
        let mut block = inbox.l1_block(number, 0, 0, &[]);
        inbox.force(&mut block);
        later.push(block);
    }
    let outcome = commit(&mut sequencer, later);
    assert_eq!(outcome.unwound_l2_blocks, 4, "{outcome:?}");
    assert_eq!(outcome.safe_l2_blocks, 2);
    let heads = *sequencer.heads().borrow();
    assert_eq!((heads.unsafe_l2.number, heads.safe_l2.number), (2, 2));
    let after = hashes(&sequencer);
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1], "the forced block has no transfers");
    for (number, origin) in [(1, 101), (2, 102)] {
        let (timestamp, block_origin, txs) = block_summary(&sequencer, number);
        assert_eq!((timestamp, block_origin), (l1_time(origin), origin));
        assert_eq!(txs.len(), 1, "only the deposit of L1 block {origin}");
        assert!(txs[0].is_deposit());
        assert_eq!(
            sequencer
                .store()
                .reader()
                .unwrap()
                .block_batch(number)
                .unwrap(),
            Some(B256::ZERO),
            "derived without batch data"
        );
    }
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

/// A forced block takes the later of the parent's and the origin's time, plus one second when
/// `MAX_L2_BLOCKS_PER_SECOND` blocks already share that time.
#[test]
fn a_forced_block_moves_to_the_next_second_only_when_its_second_is_full() {
    for (sharing, expected) in [
        (MAX_L2_BLOCKS_PER_SECOND - 1, l1_time(102)),
        (MAX_L2_BLOCKS_PER_SECOND, l1_time(102) + 1),
    ] {
        let mut inbox = Inbox::new();
        let mut l1 = vec![inbox.l1_block(101, 0, 0, &[(user(0), 101)])];
        // `sharing` blocks on origin 101 at the time of L1 block 102 (ahead of their origin,
        // within the drift).
        let mut block = inbox.l1_block(102, 0, 0, &[(user(0), 102)]);
        let batch = Batch {
            first_block: 1,
            deposit_count: 0,
            headers: vec![],
            blocks: (0..sharing)
                .map(|_| BatchBlock {
                    timestamp: l1_time(102),
                    l1_origin: 101,
                    transactions: vec![],
                })
                .collect(),
            last_block_open: false,
        };
        inbox.post_batch(&mut block, &batch);
        l1.push(block);
        l1.extend((103..=111).map(|n| inbox.l1_block(n, 0, 0, &[(user(0), n)])));
        let mut block = inbox.l1_block(112, 0, 0, &[(user(0), 112)]);
        inbox.force(&mut block);
        l1.push(block);

        let dir = tempfile::tempdir().unwrap();
        let mut replica = open(dir.path());
        commit(&mut replica, l1);
        let forced = sharing + 1;
        assert_eq!(safe_head(&replica), forced);
        let (timestamp, origin, txs) = block_summary(&replica, forced);
        assert_eq!(
            (timestamp, origin),
            (expected, 102),
            "after {sharing} blocks"
        );
        assert_eq!(txs.len(), 1);
        assert_eq!(balance(&replica, user(0)), U256::from(101 + 102));
    }
}

/// A batch whose blocks differ from the unsafe chain replaces it from the first difference;
/// blocks before it are kept as they are.
#[test]
fn derived_blocks_replace_a_diverging_unsafe_chain() {
    let (_dir, mut sequencer, _, mut inbox) = sequenced();
    let before = hashes(&sequencer);
    // The inbox holds other blocks 1..=2 than the sequencer (say, posted before it restarted
    // from an older state): block 1 as the sequencer built it, then one block on origin 102.
    let mut other = batch_of(&sequencer, 1, 1);
    other.blocks.push(BatchBlock {
        timestamp: l1_time(102),
        l1_origin: 102,
        transactions: vec![],
    });
    let mut block = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut block, &other);
    let outcome = commit(&mut sequencer, vec![block]);
    assert_eq!(
        (outcome.safe_l2_blocks, outcome.unwound_l2_blocks),
        (2, 3),
        "block 1 kept, blocks 2..=4 replaced"
    );
    let after = hashes(&sequencer);
    assert_eq!(after.len(), 3);
    assert_eq!(after[..2], before[..2]);
    assert_ne!(after[2], before[2]);
    let (timestamp, origin, txs) = block_summary(&sequencer, 2);
    assert_eq!((timestamp, origin), (l1_time(102), 102));
    assert!(txs.len() == 1 && txs[0].is_deposit());
    assert_eq!(balance(&sequencer, user(5)), U256::from(1));
    assert_eq!(balance(&sequencer, user(0)), U256::from(101 + 102));
    let orphaned: Vec<u64> = sequencer
        .take_orphaned_transactions()
        .iter()
        .map(|tx| tx.nonce())
        .collect();
    assert_eq!(orphaned, vec![1, 2, 3]);
}

/// L1 data that contradicts the inbox's guarantees (records out of order or not following the
/// safe head, batch data missing, blocks or counts other than the inbox checked) stops
/// derivation with `NodeError::InboxData`; nothing of the L1 block is applied, and the block
/// as the inbox really emitted it derives afterwards.
#[test]
fn records_that_contradict_the_inbox_stop_derivation_and_apply_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let mut inbox = Inbox::new();
    let l1: Vec<L1Block> = (101..=103)
        .map(|n| inbox.l1_block(n, 0, 0, &[(user(0), n)]))
        .collect();
    commit(&mut node, l1);
    let before = snapshot(&node);
    let cursor = node.l1_cursor().unwrap();
    let batch = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![
            BatchBlock {
                timestamp: l1_time(101),
                l1_origin: 101,
                transactions: vec![signed_transfer(&key(), 0, user(5), 1)],
            },
            BatchBlock {
                timestamp: l1_time(102),
                l1_origin: 102,
                transactions: vec![],
            },
        ],
        last_block_open: false,
    };
    // L1 block 104 as the inbox emits it (with a deposit of its own), then changed.
    let posted = |change: &dyn Fn(&mut L1Block)| {
        let mut inbox = inbox.clone();
        let mut block = inbox.l1_block(104, 0, 0, &[(user(0), 104)]);
        inbox.post_batch(&mut block, &batch);
        change(&mut block);
        block
    };
    let valid_data = inbox.encode(&batch);
    let mut cases: Vec<(&str, L1Block)> = vec![
        (
            "expected record 0 next",
            posted(&|block| tamper(block, |event| event.index = U256::from(1))),
        ),
        (
            "starts at L2 block 2, but the safe head is 0",
            posted(&|block| tamper(block, |event| event.firstBlock = 2)),
        ),
        (
            "does not carry it",
            posted(&|block| {
                block.transactions.last_mut().unwrap().input = postBatchCall {
                    data: Bytes::from(vec![0xde, 0xad]),
                }
                .abi_encode()
                .into();
            }),
        ),
        (
            "does not carry it",
            posted(&|block| block.transactions.last_mut().unwrap().to = Some(user(8))),
        ),
        (
            "3 blocks recorded, 2 in the data",
            posted(&|block| tamper(block, |event| event.blockCount = 3)),
        ),
        (
            "last origin 103 recorded",
            posted(&|block| tamper(block, |event| event.lastOrigin = 103)),
        ),
        (
            // The data states the bridge's count; a record that says otherwise contradicts it.
            "the data's envelope differs from what the inbox recorded",
            posted(&|block| tamper(block, |event| event.depositCount = 5)),
        ),
        (
            "the data's envelope differs from what the inbox recorded",
            posted(&|block| tamper(block, |event| event.segmentRoot = B256::repeat_byte(7))),
        ),
        (
            // The same record twice: the first one derives within the block, which is not kept.
            "expected record 1 next",
            posted(&|block| {
                let (tx, receipt) = (
                    block.transactions.last().unwrap().clone(),
                    block.receipts.last().unwrap().clone(),
                );
                block.transactions.push(tx);
                block.receipts.push(receipt);
            }),
        ),
    ];
    // Blocks the inbox refuses: eleven in one second (genesis and ten more).
    let mut crowded = inbox.clone();
    let mut block = crowded.l1_block(104, 0, 0, &[(user(0), 104)]);
    let too_many = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![
            BatchBlock {
                timestamp: batch_config().genesis.timestamp,
                l1_origin: ORIGIN,
                transactions: vec![],
            };
            MAX_L2_BLOCKS_PER_SECOND as usize
        ],
        last_block_open: false,
    };
    let data = too_many.encode(crowded.parent()).unwrap();
    let envelope = BatchEnvelope::parse(&data).unwrap();
    let event = BatchAppended {
        index: U256::ZERO,
        firstBlock: 1,
        blockCount: envelope.blocks.len() as u16,
        lastOrigin: ORIGIN,
        depositCount: 0,
        forced: false,
        dataHash: keccak256(&data),
        segmentRoot: envelope.segment_root(),
        blocksHash: envelope.blocks_hash,
        blobCount: 0,
        lastBlockOpen: false,
    };
    let input = postBatchCall { data: data.into() }.abi_encode();
    append_record(&mut block, batch_config().batcher_address, input, &event);
    cases.push(("more than 10 L2 blocks at timestamp 1000", block));

    for (expected, block) in cases {
        let err = node
            .handle_notification(&L1Notification::Committed {
                new: Arc::new(L1Chain::new(vec![block]).unwrap()),
            })
            .unwrap_err();
        assert!(
            matches!(err, NodeError::InboxData(_)),
            "{expected}: {err:?}"
        );
        assert!(!err.is_reset(), "retrying the same L1 data cannot fix it");
        let message = err.to_string();
        assert!(message.contains(expected), "{expected}: {message}");
        assert_eq!(snapshot(&node), before, "{expected}: nothing is applied");
        assert_eq!(node.l1_cursor().unwrap(), cursor);
        let reader = node.store().reader().unwrap();
        assert_eq!(reader.l1_block(104).unwrap(), None, "{expected}");
        assert_eq!(reader.safe_head().unwrap(), Some(0));
    }

    // The block as the inbox emitted it derives.
    let block = posted(&|_| {});
    assert_eq!(
        block.transactions.last().unwrap().input,
        Bytes::from(
            postBatchCall {
                data: valid_data.into()
            }
            .abi_encode()
        )
    );
    let outcome = commit(&mut node, vec![block]);
    assert_eq!(
        (outcome.committed_l1_blocks, outcome.safe_l2_blocks),
        (1, 2)
    );
    assert_eq!(balance(&node, user(5)), U256::from(1));
}

/// The inbox records of an L1 block that is reverted go with it: the safe head, the derivation
/// records and the next expected record index (`next_inbox_record`) return to the parent's,
/// and the records landing again on the new fork derive the same blocks.
#[test]
fn records_in_a_reverted_l1_block_unwind_with_it() {
    let (_dir, sequencer, l1, mut inbox) = sequenced();
    let at_103 = inbox.clone();
    let mut b104 = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut b104, &batch_of(&sequencer, 1, 2));
    let at_104 = inbox.clone();
    let mut b105 = inbox.l1_block(105, 0, 0, &[]);
    inbox.post_batch(&mut b105, &batch_of(&sequencer, 3, 4));

    let dir = tempfile::tempdir().unwrap();
    let mut replica = open(dir.path());
    commit(
        &mut replica,
        [l1, vec![b104.clone(), b105.clone()]].concat(),
    );
    let derived = hashes(&replica);
    assert_eq!(derived, hashes(&sequencer));
    let next_record = |node: &RollupNode, number: u64| {
        node.store()
            .reader()
            .unwrap()
            .l1_block(number)
            .unwrap()
            .map(|record| record.next_inbox_record)
    };
    assert_eq!(
        (
            next_record(&replica, 103),
            next_record(&replica, 104),
            next_record(&replica, 105)
        ),
        (Some(0), Some(1), Some(2))
    );

    // L1 block 105 is reverted: record 1 is expected again; its blocks stay unsafe (their
    // origins are older), and the derivation record of 105 is gone.
    let outcome = revert(&mut replica, vec![b105]);
    assert_eq!(outcome.reverted_l1_blocks, 1);
    assert_eq!((safe_head(&replica), l2_head(&replica)), (2, 4));
    assert_eq!(next_record(&replica, 104), Some(1));
    assert_eq!(next_record(&replica, 105), None);
    let latest = |node: &RollupNode| {
        node.store()
            .reader()
            .unwrap()
            .l1_derivations(None, 1)
            .unwrap()[0]
            .0
    };
    assert_eq!(latest(&replica), 104);
    assert_eq!(
        replica.store().reader().unwrap().block_batch(3).unwrap(),
        None
    );

    // The batch lands again in another block 105: the same blocks become safe, none replaced.
    let mut inbox = at_104;
    let mut other_105 = inbox.l1_block(105, 1, 0, &[]);
    inbox.post_batch(&mut other_105, &batch_of(&sequencer, 3, 4));
    let outcome = commit(&mut replica, vec![other_105.clone()]);
    assert_eq!((outcome.safe_l2_blocks, outcome.unwound_l2_blocks), (2, 0));
    assert_eq!(hashes(&replica), derived);
    assert_eq!(next_record(&replica, 105), Some(2));

    // Both record-carrying blocks are reverted: record 0 is expected next, after block 103.
    revert(&mut replica, vec![b104, other_105]);
    assert_eq!((safe_head(&replica), l2_head(&replica)), (0, 4));
    assert_eq!(next_record(&replica, 103), Some(0));
    assert_eq!(latest(&replica), 103);
    // One batch of all four blocks lands as record 0 in yet another block 104.
    let mut inbox = at_103;
    let mut other_104 = inbox.l1_block(104, 2, 0, &[]);
    inbox.post_batch(&mut other_104, &batch_of(&sequencer, 1, 4));
    let outcome = commit(&mut replica, vec![other_104]);
    assert_eq!((outcome.safe_l2_blocks, outcome.unwound_l2_blocks), (4, 0));
    assert_eq!(hashes(&replica), derived);
    assert_eq!(next_record(&replica, 104), Some(1));
}

/// A transaction whose signature recovers no sender is left out of its block like any invalid
/// transaction; the rest of the batch and the chain after it derive.
#[test]
fn a_transaction_with_an_unrecoverable_signature_is_skipped() {
    let (_dir, sequencer, mut l1, mut inbox) = sequenced();
    let mut bad = batch_of(&sequencer, 3, 4);
    let TxEnvelope::Eip1559(signed) = &bad.blocks[1].transactions[0] else {
        panic!("an EIP-1559 transfer")
    };
    let signature = alloy_primitives::Signature::new(U256::ZERO, U256::from(1), false);
    bad.blocks[1].transactions[0] = TxEnvelope::from(signed.tx().clone().into_signed(signature));
    let mut block = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut block, &batch_of(&sequencer, 1, 2));
    inbox.post_batch(&mut block, &bad);
    l1.push(block);
    // Block 5 sends the skipped transfer (nonce 3) again, validly signed.
    let mut block = inbox.l1_block(105, 0, 0, &[]);
    let next = Batch {
        first_block: 5,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![BatchBlock {
            timestamp: l1_time(103),
            l1_origin: 103,
            transactions: vec![signed_transfer(&key(), 3, user(5), 4)],
        }],
        last_block_open: false,
    };
    inbox.post_batch(&mut block, &next);
    l1.push(block);

    let dir = tempfile::tempdir().unwrap();
    let mut replica = open(dir.path());
    let outcome = commit(&mut replica, l1);
    assert_eq!(outcome.bad_segments, 0);
    assert_eq!(safe_head(&replica), 5);
    let (derived, sequenced) = (hashes(&replica), hashes(&sequencer));
    assert_eq!(derived[..4], sequenced[..4], "blocks 0..=3 as sequenced");
    assert_ne!(derived[4], sequenced[4]);
    assert!(
        block_summary(&replica, 4).2.is_empty(),
        "block 4 without its transfer"
    );
    assert_eq!(signed_transactions(&replica, 5).len(), 1);
    assert_eq!(balance(&replica, user(5)), U256::from(1 + 2 + 4));
    let reader = replica.store().reader().unwrap();
    let records = reader.l1_derivations(Some(105), 1).unwrap();
    assert_eq!(records[0].1.batches[1].outcome, BatchOutcome::Derived);
    assert_eq!(records[0].1.batches[1].l2_blocks, 2);
}

/// What derivation made of each record and deposit is kept per L1 block for operators (the
/// `rollup_getRecentBatches` and `rollup_getDeposits` methods), and an L1 revert removes it
/// with the block.
#[test]
fn derivation_records_say_what_each_record_and_deposit_became_and_unwind_with_l1() {
    let (_dir, sequencer, mut l1, mut inbox) = sequenced();
    let mut block = inbox.l1_block(104, 0, 0, &[]);
    let first = inbox.post_batch(&mut block, &batch_of(&sequencer, 1, 2));
    let mut second = inbox.encode(&batch_of(&sequencer, 3, 4));
    corrupt_segment(&mut second, 0);
    inbox.post(&mut block, second.clone());
    let posted = block
        .transactions
        .iter()
        .map(|tx| tx.hash)
        .collect::<Vec<_>>();
    l1.push(block);
    // The window of origin 103 closes at 113; anyone forces its block in.
    l1.extend((105..=112).map(|n| inbox.l1_block(n, 0, 0, &[])));
    let mut block = inbox.l1_block(113, 0, 0, &[]);
    inbox.force(&mut block);
    let forced_tx = block.transactions[1].hash;
    l1.push(block.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut replica = open(dir.path());
    commit(&mut replica, l1);
    assert_eq!(safe_head(&replica), 5);

    let reader = replica.store().reader().unwrap();
    let records = reader.l1_derivations(None, 100).unwrap();
    assert_eq!(
        records
            .iter()
            .map(|(number, _)| *number)
            .collect::<Vec<_>>(),
        vec![113, 104, 103, 102, 101],
        "newest first, only blocks with records or deposits"
    );
    let record =
        |tx_hash, tx_index, bytes: usize, first_l2_block, l2_blocks, transactions, outcome| {
            BatchRecord {
                tx_hash,
                tx_index,
                bytes: bytes as u32,
                first_l2_block,
                l2_blocks,
                transactions,
                outcome,
            }
        };
    assert_eq!(
        records[0].1.batches,
        vec![record(forced_tx, 1, 0, 5, 1, 0, BatchOutcome::Derived)],
        "the forced block"
    );
    let emptied = match &records[1].1.batches[1].outcome {
        BatchOutcome::Dropped(reason) => reason.clone(),
        other => panic!("the corrupted batch is reported, got {other:?}"),
    };
    assert!(emptied.contains("blocks emptied: segment 0"), "{emptied}");
    assert_eq!(
        records[1].1.batches,
        vec![
            record(posted[1], 1, first.len(), 1, 2, 3, BatchOutcome::Derived),
            record(
                posted[2],
                2,
                second.len(),
                3,
                2,
                0,
                BatchOutcome::Dropped(emptied)
            ),
        ]
    );
    assert!(records[1].1.deposits.is_empty());
    // L1 block 102 carried one deposit (nonce 1: one per block since the origin).
    assert_eq!(
        records[3].1.deposits,
        vec![DepositOrigin {
            nonce: 1,
            tx_hash: B256::with_last_byte(1),
            log_index: 0,
        }]
    );
    assert!(records[3].1.batches.is_empty());
    assert_eq!(
        reader.l1_derivations(Some(103), 1).unwrap()[0].0,
        102,
        "paging goes on below a given block"
    );
    drop(reader);

    revert(&mut replica, vec![block]);
    let reader = replica.store().reader().unwrap();
    assert_eq!(
        reader.l1_derivations(None, 100).unwrap()[0].0,
        104,
        "the reverted block's record is gone"
    );
    assert_eq!(reader.safe_head().unwrap(), Some(4));
}

/// The dispute game's block trace of every derived block: re-executed on its parent's
/// historical state, one state root per transaction, it starts at the parent's output root,
/// ends at the block's, and its last trace state holds the block's state root and gas; blocks
/// with deposits, transfers and none trace alike, on the sequencer and on a replica.
#[test]
fn every_derived_block_traces_from_its_parents_output_root_to_its_own() {
    let (_dir, mut sequencer, mut l1, mut inbox) = sequenced();
    let mut posted = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut posted, &batch_of(&sequencer, 1, 4));
    l1.push(posted.clone());
    commit(&mut sequencer, vec![posted]);
    let replica_dir = tempfile::tempdir().unwrap();
    let mut replica = open(replica_dir.path());
    commit(&mut replica, l1);
    for node in [&sequencer, &replica] {
        let reader = node.store().reader().unwrap();
        for number in 1..=4 {
            let trace = rollup_proposer::compute_trace(
                node.store(),
                batch_config().l2_chain_id,
                number,
                None,
            )
            .unwrap();
            let body = reader.body(number).unwrap().unwrap();
            let header = reader.header(number).unwrap().unwrap();
            assert_eq!(trace.seal_position(), body.len() as u64 + 2);
            let parent = reader.output_root(number - 1).unwrap().unwrap().hash();
            let own = reader.output_root(number).unwrap().unwrap().hash();
            assert_eq!(trace.claim(0), parent);
            assert_eq!(trace.claim(trace.seal_position()), own);
            assert_eq!(trace.claim(1 << rollup_execution::TRACE_DEPTH), own);
            let preamble = trace.state(1).unwrap();
            let parent_root = reader.header(number - 1).unwrap().unwrap().state_root;
            assert_eq!((preamble.state_root, preamble.included), (parent_root, 0));
            let last = trace.state(trace.seal_position() - 1).unwrap();
            assert_eq!(
                (last.state_root, last.cumulative_gas, last.included),
                (header.state_root, header.gas_used, body.len() as u64)
            );
            assert_eq!(trace.state(trace.seal_position()), None);
        }
    }
}

/// `node`'s blocks `from..=to` as a batch whose last block holds only its first `keep`
/// transactions and stays open.
fn open_batch_of(node: &RollupNode, from: u64, to: u64, keep: usize) -> Batch {
    let mut batch = batch_of(node, from, to);
    batch.blocks.last_mut().unwrap().transactions.truncate(keep);
    batch.last_block_open = true;
    batch
}

/// The rest of `node`'s open block `open` (its transactions from `from` on), then its blocks
/// after it up to `to`.
fn closing_batch_of(node: &RollupNode, open: u64, from: usize, to: u64) -> Batch {
    let mut batch = batch_of(node, open, to);
    batch.blocks[0].transactions.drain(..from);
    batch
}

#[test]
fn a_block_spanning_batches_derives_hash_for_hash_and_survives_a_reorg_of_its_last_part() {
    let (_dir, mut sequencer, mut l1, mut inbox) = sequenced();
    let unsafe_hashes = hashes(&sequencer);
    // Block 2 holds two transfers: the first goes with block 1 in L1 block 104, the second
    // with blocks 3 and 4 in L1 block 105.
    let mut first = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut first, &open_batch_of(&sequencer, 1, 2, 1));
    let after_first = inbox.clone();
    let mut second = inbox.l1_block(105, 0, 0, &[]);
    inbox.post_batch(&mut second, &closing_batch_of(&sequencer, 2, 1, 4));
    l1.extend([first.clone(), second.clone()]);

    let outcome = commit(&mut sequencer, vec![first.clone()]);
    assert_eq!((outcome.safe_l2_blocks, outcome.unwound_l2_blocks), (1, 0));
    assert_eq!(safe_head(&sequencer), 1, "block 2 waits for its last part");
    let outcome = commit(&mut sequencer, vec![second.clone()]);
    assert_eq!((outcome.safe_l2_blocks, outcome.unwound_l2_blocks), (3, 0));
    assert_eq!(
        hashes(&sequencer),
        unsafe_hashes,
        "its own batches made the blocks safe"
    );
    // The block stands in the record that closed it, first there.
    let reader = sequencer.store().reader().unwrap();
    let derivation = reader.block_derivation(2).unwrap().unwrap();
    assert_eq!(
        (
            derivation.inbox_record,
            derivation.block_in_record,
            derivation.l1_block
        ),
        (1, 0, 105)
    );
    drop(reader);

    // L1 drops its last part, then brings it back: block 2 leaves the safe chain and returns.
    revert(&mut sequencer, vec![second.clone()]);
    assert_eq!(safe_head(&sequencer), 1);
    let outcome = commit(&mut sequencer, vec![second.clone()]);
    assert_eq!((outcome.safe_l2_blocks, outcome.unwound_l2_blocks), (3, 0));
    assert_eq!(hashes(&sequencer), unsafe_hashes);

    // A replica derives the same chain from L1 alone, across a restart between the parts.
    let replica_dir = tempfile::tempdir().unwrap();
    let mut replica = open(replica_dir.path());
    commit(&mut replica, l1[..l1.len() - 1].to_vec());
    assert_eq!(safe_head(&replica), 1);
    drop(replica);
    let mut replica = open(replica_dir.path());
    commit(&mut replica, vec![second]);
    assert_eq!(hashes(&replica), unsafe_hashes);

    // A different last part after a reorg: block 2 gets what L1 now says.
    let mut inbox = after_first;
    let mut other = inbox.l1_block(105, 1, 0, &[]);
    let mut batch = closing_batch_of(&sequencer, 2, 1, 2);
    batch.blocks[0].transactions = vec![signed_transfer(&other_key(), 0, user(9), 7)];
    inbox.post_batch(&mut other, &batch);
    revert(&mut replica, vec![l1.last().unwrap().clone()]);
    commit(&mut replica, vec![other]);
    assert_eq!(safe_head(&replica), 2);
    let (_, _, body) = block_summary(&replica, 2);
    let signed: Vec<B256> = body
        .iter()
        .filter(|tx| matches!(tx, L2Transaction::Signed { .. }))
        .map(L2Transaction::hash)
        .collect();
    assert_eq!(signed.len(), 2);
    assert_eq!(
        signed[0],
        signed_transactions(&sequencer, 2)[0].tx_hash().to_owned()
    );
}

#[test]
fn force_include_closes_an_open_block_with_the_parts_posted() {
    let (_dir, mut sequencer, mut l1, mut inbox) = sequenced();
    let mut first = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut first, &open_batch_of(&sequencer, 1, 2, 1));
    l1.push(first);
    // The batcher goes quiet until block 2's origin's successor can be forced.
    for number in 105..=113 {
        l1.push(inbox.l1_block(number, 0, 0, &[]));
    }
    let mut forced = inbox.l1_block(114, 0, 0, &[]);
    inbox.force(&mut forced);
    l1.push(forced);

    let outcome = commit(&mut sequencer, l1[3..].to_vec());
    assert_eq!(
        safe_head(&sequencer),
        3,
        "blocks 1, 2 (closed) and the forced one"
    );
    assert!(
        outcome.unwound_l2_blocks > 0,
        "block 2 lost its second transfer"
    );
    let (_, _, body) = block_summary(&sequencer, 2);
    let signed = body
        .iter()
        .filter(|tx| matches!(tx, L2Transaction::Signed { .. }))
        .count();
    assert_eq!(signed, 1, "only the part posted");
    // The block stands where its last part left it: record 0, second block, L1 block 104.
    let derivation = sequencer
        .store()
        .reader()
        .unwrap()
        .block_derivation(2)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            derivation.inbox_record,
            derivation.block_in_record,
            derivation.l1_block
        ),
        (0, 1, 104)
    );
}

#[test]
fn a_part_that_does_not_decode_empties_the_whole_spanning_block() {
    let (_dir, mut sequencer, _l1, mut inbox) = sequenced();
    // Block 1, then block 2's first transfer in a batch whose segment does not decode...
    let mut first = inbox.l1_block(104, 0, 0, &[]);
    inbox.post_batch(&mut first, &batch_of(&sequencer, 1, 1));
    let mut data = inbox.encode(&open_batch_of(&sequencer, 2, 2, 1));
    corrupt_segment(&mut data, 0);
    inbox.post(&mut first, data);
    // ...and its second, which does, in the next L1 block.
    let mut second = inbox.l1_block(105, 0, 0, &[]);
    inbox.post_batch(&mut second, &closing_batch_of(&sequencer, 2, 1, 2));

    let outcome = commit(&mut sequencer, vec![first, second]);
    assert_eq!(outcome.bad_segments, 1);
    assert_eq!(safe_head(&sequencer), 2);
    let (_, _, body) = block_summary(&sequencer, 2);
    assert!(
        body.iter()
            .all(|tx| matches!(tx, L2Transaction::Deposit(_))),
        "no batch transaction of the block is kept"
    );
}

/// A chain dated ahead of the sequencer's clock (a batch or forced records dated up to the
/// drift past their origins, or a clock behind L1's) no longer stalls it until the clock gets
/// there: with the chain's second full it takes the next one, origins follow the chain's time,
/// and it builds one block per second of the clock, so the lead closes.
#[test]
fn a_chain_dated_ahead_of_the_clock_keeps_sequencing_and_the_lead_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = open(dir.path());
    let mut inbox = Inbox::new();
    commit(
        &mut node,
        (101..=102).map(|n| inbox.l1_block(n, 0, 0, &[])).collect(),
    );
    let ahead = l1_time(101) + 30;
    for _ in 0..10 {
        node.build_block(vec![], ahead).unwrap().unwrap();
    }
    assert_eq!(block_summary(&node, 10).0, ahead, "that second is full");
    // L1 block 103 is dated before the chain's time and after the clock's.
    commit(&mut node, vec![inbox.l1_block(103, 0, 0, &[])]);
    let clock = l1_time(101);
    assert!(l1_time(103) > clock && l1_time(103) <= ahead);
    assert!(node.next_origin_ready(clock).unwrap());
    let block = node
        .build_block(vec![transfer(0, user(5), 1)], clock)
        .unwrap()
        .expect("the next free second, not a wait for the clock");
    assert_eq!(block.number, 11);
    let (timestamp, origin, transactions) = block_summary(&node, 11);
    assert_eq!((timestamp, origin), (ahead + 1, 103));
    assert_eq!(transactions.len(), 1);
    // One block per second of the clock while ahead.
    assert!(node.build_block(vec![], clock).unwrap().is_none());
    node.build_block(vec![], clock + 1).unwrap().unwrap();
    assert_eq!(block_summary(&node, 12).0, ahead + 1);
    assert!(node.build_block(vec![], clock + 1).unwrap().is_none());
    // Once the clock is past the chain's time, blocks follow the clock again.
    let caught_up = ahead + 2;
    node.build_block(vec![], caught_up).unwrap().unwrap();
    node.build_block(vec![], caught_up).unwrap().unwrap();
    assert_eq!(block_summary(&node, 14).0, caught_up);
}

// ------------------------------------------------------------------------------------------
// Randomized L1 histories with deposits, batches (open blocks, bad segments) and
// forced records, reorged at a random point. Every replica must end on the same safe chain
// whatever way it was given the same canonical L1.
// ------------------------------------------------------------------------------------------

/// The seeds a randomized test runs: `default` from seed 1, or `ROLLUP_TEST_SEEDS` of them
/// from `ROLLUP_TEST_FIRST_SEED` (to run more, or to replay one that failed).
fn seeds(default: u64) -> (u64, u64) {
    let var = |name| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
    };
    (
        var("ROLLUP_TEST_FIRST_SEED").unwrap_or(1),
        var("ROLLUP_TEST_SEEDS").unwrap_or(default),
    )
}

/// xorshift64: a small deterministic generator, so a failing seed replays exactly.
struct XRng(u64);
impl XRng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

impl Inbox {
    /// Sees a block built elsewhere (its bridge messages counted).
    fn see(&mut self, block: &L1Block) {
        let (&below, &(_, messages_below)) = self.l1.range(..block.number).next_back().unwrap();
        assert_eq!(below + 1, block.number);
        self.l1.split_off(&block.number);
        let messages = block
            .receipts
            .iter()
            .filter(|receipt| receipt.success)
            .flat_map(|receipt| &receipt.logs)
            .filter(|log| log.address == BRIDGE)
            .count() as u64;
        self.l1
            .insert(block.number, (block.timestamp, messages_below + messages));
    }
}

/// L1 block `number` of fork `fork` on `parent_hash`, without transactions.
fn empty_l1_block(number: u64, fork: u64, parent_hash: B256) -> L1Block {
    L1Block {
        number,
        hash: super::l1_hash(number, fork),
        parent_hash,
        timestamp: l1_time(number),
        mix_hash: B256::with_last_byte(number as u8 ^ fork as u8),
        base_fee_per_gas: Some(1),
        transactions: vec![],
        receipts: vec![],
    }
}

/// Adds a transaction to the bridge to `block` whose receipt holds `logs`.
fn push_bridge_messages(block: &mut L1Block, logs: Vec<Log>) {
    block.transactions.push(L1Transaction {
        hash: keccak256([block.hash.as_slice(), b"dep"].concat()),
        from: user(0),
        to: Some(BRIDGE),
        input: Bytes::new(),
        blob_versioned_hashes: vec![],
        blobs: vec![],
    });
    block.receipts.push(L1Receipt {
        success: true,
        logs,
    });
}

/// Per-fork generator state.
#[derive(Clone)]
struct GenState {
    inbox: Inbox,
    next_nonce: u64,
    opens_in_a_row: u32,
}

fn random_l1_block(
    rng: &mut XRng,
    state: &mut GenState,
    number: u64,
    fork: u64,
    parent_fork: u64,
) -> L1Block {
    let mut block = empty_l1_block(number, fork, super::l1_hash(number - 1, parent_fork));
    let deposits = rng.below(3);
    if deposits > 0 {
        let logs = (0..deposits)
            .map(|i| {
                let to = user(1 + rng.below(4) as u8);
                super::deposit_log(state.next_nonce + i, to, 1 + rng.below(1000))
            })
            .collect();
        state.next_nonce += deposits;
        push_bridge_messages(&mut block, logs);
    }
    state.inbox.see(&block);
    let w = state.inbox.config.sequencing_window;
    let drift = state.inbox.config.max_sequencer_drift;
    let forcible = {
        let origin = state.inbox.last_origin + 1;
        origin < number && number >= origin + w
    };
    // Try a batch first (most of the time), else force when allowed.
    let mut posted = false;
    if rng.chance(70)
        && let Some((batch, corrupt)) = random_batch(rng, state, number, w, drift)
    {
        let mut data = state.inbox.encode(&batch);
        if corrupt && !BatchEnvelope::parse(&data).unwrap().segments.is_empty() {
            corrupt_segment(&mut data, 0);
        }
        state.inbox.post(&mut block, data.clone());
        if BatchEnvelope::parse(&data).unwrap().segment_bytes > 0 && rng.chance(50) {
            as_blob_batch(&mut block, &data);
        }
        state.opens_in_a_row = if batch.last_block_open {
            state.opens_in_a_row + 1
        } else {
            0
        };
        posted = true;
    }
    if !posted && forcible && rng.chance(60) {
        state.inbox.force(&mut block);
        state.opens_in_a_row = 0;
    }
    block
}

/// Turns the calldata record the last transaction of `block` appended into the same batch posted
/// as a blob batch (`postBlobBatch(envelope)`, segments in blobs). The node trusts the L1 source
/// to have checked blobs against versioned hashes, so these are stand-ins.
fn as_blob_batch(block: &mut L1Block, data: &[u8]) {
    use rollup_primitives::bindings::IBatchInbox::postBlobBatchCall;
    let envelope = BatchEnvelope::parse(data).unwrap();
    let envelope_len = data.len() - envelope.segment_bytes;
    let blobs: Vec<Bytes> = rollup_primitives::to_blobs(&data[envelope_len..])
        .iter()
        .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
        .collect();
    let hashes: Vec<B256> = blobs
        .iter()
        .map(|blob| {
            let mut hash = keccak256(blob);
            hash.0[0] = 1;
            hash
        })
        .collect();
    let log = &mut block.receipts.last_mut().unwrap().logs[0];
    let mut event = BatchAppended::decode_log_data(&log.data).unwrap();
    event.dataHash = keccak256(&data[..envelope_len]);
    event.segmentRoot = keccak256(hashes.iter().flat_map(|hash| hash.0).collect::<Vec<u8>>());
    event.blobCount = blobs.len() as u8;
    log.data = event.encode_log_data();
    let tx = block.transactions.last_mut().unwrap();
    tx.input = postBlobBatchCall {
        envelope: Bytes::copy_from_slice(&data[..envelope_len]),
    }
    .abi_encode()
    .into();
    tx.blob_versioned_hashes = hashes;
    tx.blobs = blobs;
}

fn random_batch(
    rng: &mut XRng,
    state: &GenState,
    number: u64,
    w: u64,
    drift: u64,
) -> Option<(Batch, bool)> {
    let inbox = &state.inbox;
    let tx = |rng: &mut XRng| {
        let k = if rng.chance(50) { key() } else { other_key() };
        signed_transfer(
            &k,
            rng.below(8),
            user(1 + rng.below(4) as u8),
            1 + rng.below(50),
        )
    };
    let mut blocks = Vec::new();
    let (mut origin, mut ts, mut at_ts) = (
        inbox.last_origin,
        inbox.last_timestamp,
        inbox.blocks_at_last_timestamp,
    );
    if let Some((parent, (odelta, tdelta))) = inbox.open {
        let block_origin = parent.l1_origin + u64::from(odelta);
        if number >= block_origin + 2 * w {
            return None;
        }
        let n = 1 + rng.below(2);
        blocks.push(BatchBlock {
            timestamp: parent.timestamp + u64::from(tdelta),
            l1_origin: block_origin,
            transactions: (0..n).map(|_| tx(rng)).collect(),
        });
    }
    let extra = if blocks.is_empty() {
        1 + rng.below(3)
    } else {
        rng.below(3)
    };
    for _ in 0..extra {
        let mut o = origin;
        if o + 1 < number && (number - o > 3 || rng.chance(40)) {
            o += 1;
        }
        let ots = inbox.origin_timestamp(o);
        let mut t = (ts + rng.below(3)).max(ots);
        let mut at = if t == ts { at_ts + 1 } else { 1 };
        if at > MAX_L2_BLOCKS_PER_SECOND {
            t += 1;
            at = 1;
        }
        if t > ots + drift {
            break;
        }
        if blocks.is_empty() && number >= o + 2 * w {
            return None;
        }
        let n = rng.below(3);
        blocks.push(BatchBlock {
            timestamp: t,
            l1_origin: o,
            transactions: (0..n).map(|_| tx(rng)).collect(),
        });
        (origin, ts, at_ts) = (o, t, at);
    }
    if blocks.is_empty() {
        return None;
    }
    let continuing_only = inbox.open.is_some() && blocks.len() == 1;
    let last_has_txs = !blocks.last().unwrap().transactions.is_empty();
    let open = last_has_txs && state.opens_in_a_row < 4 && !continuing_only && rng.chance(30);
    let corrupt = rng.chance(10);
    Some((
        Batch {
            first_block: inbox.next_block,
            deposit_count: 0,
            headers: vec![],
            blocks,
            last_block_open: open,
        },
        corrupt,
    ))
}

fn random_fork(
    rng: &mut XRng,
    state: &mut GenState,
    from: u64,
    to: u64,
    fork: u64,
    parent_fork: u64,
) -> Vec<L1Block> {
    (from..=to)
        .map(|n| {
            random_l1_block(
                rng,
                state,
                n,
                fork,
                if n == from { parent_fork } else { fork },
            )
        })
        .collect()
}

fn chain_of(blocks: &[L1Block]) -> Arc<L1Chain> {
    Arc::new(L1Chain::new(blocks.to_vec()).unwrap())
}

/// The safe chain and the users' balances.
fn safe_view(node: &RollupNode) -> (u64, Vec<B256>, Vec<U256>) {
    let reader = node.store().reader().unwrap();
    let safe = reader.safe_head().unwrap().unwrap();
    let hashes = (0..=safe)
        .map(|n| reader.block_hash(n).unwrap().unwrap())
        .collect();
    drop(reader);
    (safe, hashes, Vec::new())
}

fn commit_in_chunks(rng: &mut XRng, node: &mut RollupNode, blocks: &[L1Block]) {
    let mut at = 0;
    while at < blocks.len() {
        let n = (1 + rng.below(6) as usize).min(blocks.len() - at);
        node.handle_notification(&L1Notification::Committed {
            new: chain_of(&blocks[at..at + n]),
        })
        .unwrap_or_else(|err| panic!("commit of L1 {}: {err}", blocks[at].number));
        at += n;
    }
}

#[test]
fn randomized_reorgs_leave_every_replica_on_the_same_safe_chain() {
    let (first, seeds) = seeds(12);
    for seed in first..first + seeds {
        let mut rng = XRng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1234_5678_9abc_def1));
        let genesis = GenState {
            inbox: Inbox::new(),
            next_nonce: 0,
            opens_in_a_row: 0,
        };
        let len = 25 + rng.below(20);
        let fork_at = 102 + rng.below(len - 1);
        // Fork 0, remembering the generator's state below the fork point.
        let mut state = genesis.clone();
        let head = random_fork(&mut rng, &mut state, 101, fork_at - 1, 0, 0);
        let at_fork = state.clone();
        let tail0 = random_fork(&mut rng, &mut state, fork_at, 100 + len, 0, 0);
        let mut state1 = at_fork;
        let end1 = 100 + len + rng.below(4);
        let tail1 = random_fork(&mut rng, &mut state1, fork_at, end1, 1, 0);

        // X: fork 0, then the reorg to fork 1 (with a restart in between).
        let dir_x = tempfile::tempdir().unwrap();
        let mut x = open(dir_x.path());
        let all0: Vec<L1Block> = head.iter().chain(&tail0).cloned().collect();
        commit_in_chunks(&mut rng, &mut x, &all0);
        drop(x);
        let mut x = open(dir_x.path());
        x.handle_notification(&L1Notification::Reorged {
            old: chain_of(&tail0),
            new: chain_of(&tail1),
        })
        .unwrap_or_else(|err| panic!("seed {seed}: reorg at {fork_at}: {err}"));

        // Y: only the canonical chain, in other chunks.
        let dir_y = tempfile::tempdir().unwrap();
        let mut y = open(dir_y.path());
        let all1: Vec<L1Block> = head.iter().chain(&tail1).cloned().collect();
        commit_in_chunks(&mut rng, &mut y, &all1);

        // Z: fork 0 then a plain revert, then fork 1 block by block.
        let dir_z = tempfile::tempdir().unwrap();
        let mut z = open(dir_z.path());
        commit_in_chunks(&mut rng, &mut z, &all0);
        z.handle_notification(&L1Notification::Reverted {
            old: chain_of(&tail0),
        })
        .unwrap();
        for block in &tail1 {
            z.handle_notification(&L1Notification::Committed {
                new: chain_of(std::slice::from_ref(block)),
            })
            .unwrap();
        }

        let (vx, vy, vz) = (safe_view(&x), safe_view(&y), safe_view(&z));
        assert_eq!(
            vx.0, vy.0,
            "seed {seed}: safe heads differ (fork at {fork_at})"
        );
        assert_eq!(vx, vy, "seed {seed}: X and Y differ (fork at {fork_at})");
        assert_eq!(vz, vy, "seed {seed}: Z and Y differ (fork at {fork_at})");
        // Balances at the head: only comparable where no unsafe block is left over (a replica
        // keeps the blocks of a reorged-out batch, unsafe, until derivation replaces them).
        if l2_head(&x) == vx.0 && l2_head(&y) == vy.0 {
            for u in 1..=4 {
                assert_eq!(
                    balance(&x, user(u)),
                    balance(&y, user(u)),
                    "seed {seed}: balance of user {u}"
                );
            }
        }
        eprintln!("seed {seed}: fork at {fork_at}, safe head {}", vy.0);
    }
}

/// A sequencer building blocks of random (partly invalid) transfers over L1 blocks
/// with random deposits; a batcher that posts its unsafe blocks late, in parts (open blocks), or
/// stalls until anyone forces the epochs in. The replica and the sequencer must agree on every
/// safe block.
#[test]
fn randomized_sequencer_and_replica_agree_on_the_safe_chain() {
    sequencer_and_replica_agree(0, 41);
}

/// [`randomized_sequencer_and_replica_agree_on_the_safe_chain`] with L1 blocks reverted 1-4
/// deep at random: after each revert too.
#[test]
fn randomized_sequencer_and_replica_agree_through_l1_reorgs() {
    sequencer_and_replica_agree(10, 60);
}

/// Runs [`seeds`] of the sequencer against replica check over `blocks` L1 blocks, reverting
/// with a chance of `revert_percent` in each (once four are kept).
fn sequencer_and_replica_agree(revert_percent: u64, blocks: u64) {
    let (first, seeds) = seeds(6);
    for seed in first..first + seeds {
        let mut rng = XRng(0xdead_beef_cafe_f00d ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let dir_s = tempfile::tempdir().unwrap();
        let dir_r = tempfile::tempdir().unwrap();
        let mut s = open(dir_s.path());
        let mut r = open(dir_r.path());
        let mut inbox = Inbox::new();
        let mut deposits_so_far = 0u64;
        // Transactions of the open block already posted.
        let mut open_posted = 0usize;
        let mut stall = 0u64;
        let mut l2_now = l1_time(101);
        let mut fork = 0u64;
        let mut parent_hash = super::l1_hash(100, 0);
        // Per L1 block kept: the block and the generator's state after it.
        let mut kept: Vec<(L1Block, Inbox, u64, usize)> = Vec::new();
        let mut n = 100;
        let mut steps = 0;
        while steps < blocks {
            steps += 1;
            n += 1;
            if kept.len() > 3 && rng.chance(revert_percent) {
                let depth = 1 + rng.below(4.min(kept.len() as u64 - 1)) as usize;
                let old: Vec<L1Block> = kept
                    .split_off(kept.len() - depth)
                    .into_iter()
                    .map(|k| k.0)
                    .collect();
                let outcome_s = s
                    .handle_notification(&L1Notification::Reverted {
                        old: chain_of(&old),
                    })
                    .unwrap();
                let _ = s.take_orphaned_transactions();
                r.handle_notification(&L1Notification::Reverted {
                    old: chain_of(&old),
                })
                .unwrap();
                let _ = outcome_s;
                let (block, state_inbox, deposits, posted) = kept.last().unwrap().clone();
                inbox = state_inbox;
                deposits_so_far = deposits;
                open_posted = posted;
                parent_hash = block.hash;
                n = block.number + 1;
                fork += 1;
                let (vs, vr) = (safe_view(&s), safe_view(&r));
                assert_eq!(
                    vs, vr,
                    "seed {seed}: sequencer and replica differ after reverting {depth} L1 blocks to {}",
                    block.number
                );
            }
            // The sequencer builds a few blocks at times around the L1 head's.
            if n > 101 {
                for _ in 0..rng.below(4) {
                    l2_now = l2_now.max(l1_time(n - 1)) + rng.below(5);
                    let txs: Vec<L2Transaction> = (0..rng.below(4))
                        .map(|_| {
                            let k = if rng.chance(50) { key() } else { other_key() };
                            L2Transaction::Signed {
                                envelope: signed_transfer(
                                    &k,
                                    rng.below(10),
                                    user(1 + rng.below(4) as u8),
                                    1 + rng.below(9),
                                ),
                                sender: k.address(),
                            }
                        })
                        .collect();
                    let _ = s.build_block(txs, l2_now);
                    let _ = s.take_orphaned_transactions();
                }
            }
            // L1 block n: deposits, then maybe a batch or a forced record.
            let mut block = empty_l1_block(n, fork, parent_hash);
            let k = rng.below(3);
            if k > 0 {
                let logs = (0..k)
                    .map(|i| {
                        super::deposit_log(
                            deposits_so_far + i,
                            user(1 + rng.below(4) as u8),
                            1 + rng.below(99),
                        )
                    })
                    .collect();
                push_bridge_messages(&mut block, logs);
                deposits_so_far += k;
            }
            inbox.see(&block);
            if stall > 0 {
                stall -= 1;
            } else if rng.chance(10) {
                stall = 5 + rng.below(20);
            }
            let head = l2_head(&s);
            let mut posted = false;
            if stall == 0 && head >= inbox.next_block && rng.chance(70) {
                let to = inbox.next_block + rng.below(head - inbox.next_block + 1);
                let mut batch = batch_of(&s, inbox.next_block, to);
                if inbox.open.is_some() {
                    let first = &mut batch.blocks[0].transactions;
                    if first.len() > open_posted {
                        first.drain(..open_posted);
                    } else {
                        first.clear();
                    }
                }
                let last_len = batch.blocks.last().unwrap().transactions.len();
                let continuing_only = inbox.open.is_some() && batch.blocks.len() == 1;
                let mut keep_open = 0;
                if last_len >= 2 && !continuing_only && rng.chance(40) {
                    keep_open = 1 + rng.below(last_len as u64 - 1) as usize;
                    batch
                        .blocks
                        .last_mut()
                        .unwrap()
                        .transactions
                        .truncate(keep_open);
                    batch.last_block_open = true;
                }
                let corrupt = rng.chance(8);
                let mut trial = inbox.clone();
                let mut trial_block = block.clone();
                let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut data = trial.encode(&batch);
                    if corrupt && !BatchEnvelope::parse(&data).unwrap().segments.is_empty() {
                        corrupt_segment(&mut data, 0);
                    }
                    trial.post(&mut trial_block, data);
                }));
                if encoded.is_ok() {
                    inbox = trial;
                    block = trial_block;
                    posted = true;
                    open_posted = if batch.last_block_open {
                        let before = if batch.blocks.len() == 1 {
                            open_posted
                        } else {
                            0
                        };
                        before + keep_open
                    } else {
                        0
                    };
                }
            }
            if !posted {
                let origin = inbox.last_origin + 1;
                if origin < n && n >= origin + inbox.config.sequencing_window && rng.chance(70) {
                    inbox.force(&mut block);
                    open_posted = 0;
                }
            }
            parent_hash = block.hash;
            kept.push((block.clone(), inbox.clone(), deposits_so_far, open_posted));
            commit(&mut s, vec![block.clone()]);
            let _ = s.take_orphaned_transactions();
            commit(&mut r, vec![block]);
            let (vs, vr) = (safe_view(&s), safe_view(&r));
            assert_eq!(
                vs, vr,
                "seed {seed}: sequencer and replica differ after L1 block {n}"
            );
        }
        eprintln!(
            "seed {seed}: safe head {} of {}, {} records",
            safe_head(&r),
            l2_head(&s),
            inbox.next_index
        );
    }
}
