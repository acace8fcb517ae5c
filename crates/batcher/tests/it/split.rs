//! Batches start where the inbox says and carry the L1 headers of exactly the origins they add;
//! they stop at the size limit (or at an origin whose header is not known yet) and carry on
//! from there; a block that fits no batch is an error, not a silent stall.

use std::{cell::RefCell, sync::Arc, time::Duration};

use alloy_primitives::{B256, Bytes};
use rollup_batcher::{BatchStart, BatcherConfig, DataPath, PendingBatch, PostReason, build_batch};
use rollup_node_core::RollupNode;
use rollup_primitives::{
    BLOB_DATA_SIZE, Batch, BatchEnvelope, BatchParent, L1Block, L1Chain, L1Notification,
    blob_count, blob_data, decode_l1_origin, to_blobs,
};

use crate::{L2_CHAIN_ID, open_node, rollup_config};

/// L1 blocks after the rollup's origin (block 0) that the first L2 blocks adopt, one each.
const NEW_ORIGINS: u64 = 5;

/// A node with `blocks` empty L2 blocks; blocks 1..=NEW_ORIGINS adopt L1 blocks 1..=NEW_ORIGINS.
fn node_with_blocks(dir: &std::path::Path, blocks: u64) -> RollupNode {
    let mut node = open_node(dir, rollup_config(1_000, 10));
    commit_l1_blocks(&mut node, NEW_ORIGINS);
    // Irregular timestamps, so the batch payload does not compress to nothing.
    let mut timestamp = 1_000;
    for i in 0..blocks {
        timestamp += (i * i * 7_919 + 13) % 100_003;
        node.build_block(vec![], timestamp).unwrap().unwrap();
    }
    assert_eq!(
        origin_of(&node, NEW_ORIGINS.min(blocks)),
        NEW_ORIGINS.min(blocks)
    );
    node
}

/// Hands `node` empty L1 blocks 1..=`count` after the rollup's origin (block 0), one second
/// apart from time 1 001, each hashed as its stand-in [`header`] is.
fn commit_l1_blocks(node: &mut RollupNode, count: u64) {
    let l1 = (1..=count)
        .map(|number| L1Block {
            number,
            hash: l1_hash(number),
            parent_hash: l1_hash(number - 1),
            timestamp: 1_000 + number,
            mix_hash: B256::ZERO,
            base_fee_per_gas: Some(1),
            transactions: vec![],
            receipts: vec![],
        })
        .collect();
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(l1).unwrap()),
    })
    .unwrap();
}

fn origin_of(node: &RollupNode, number: u64) -> u64 {
    let header = node
        .store()
        .reader()
        .unwrap()
        .header(number)
        .unwrap()
        .unwrap();
    decode_l1_origin(&header.extra_data).unwrap().number
}

/// A stand-in for the RLP of L1 header `number`: the batcher carries headers without reading
/// them (the inbox checks them), but checks that a block's own origin hashes to the block's
/// origin hash.
fn header(number: u64) -> Option<Bytes> {
    Some(Bytes::from(format!("header {number}").into_bytes()))
}

/// The hash of L1 block `number` in these tests: its stand-in header's, and the rollup's
/// origin (block 0) as [`rollup_config`] has it.
fn l1_hash(number: u64) -> B256 {
    if number == 0 {
        B256::ZERO
    } else {
        alloy_primitives::keccak256(header(number).unwrap())
    }
}

/// Where the inbox's first batch starts: after L2 genesis, with only the rollup's origin recorded.
fn genesis_start(node: &RollupNode) -> BatchStart {
    let genesis = &node.config().genesis;
    BatchStart {
        first_block: 1,
        parent: BatchParent {
            timestamp: genesis.timestamp,
            l1_origin: genesis.l1_origin.number,
        },
        last_recorded_origin: genesis.l1_origin.number,
        posted_txs: None,
    }
}

/// Where the inbox's next batch starts once it recorded `pending` (started at `start`).
fn after(start: &BatchStart, pending: &PendingBatch) -> BatchStart {
    start.after(pending)
}

/// `pending` holds the node's blocks from `start` on, the headers of exactly the origins the
/// inbox has not recorded, in order, and its bytes (in blobs, its segments) decode to it on the
/// inbox's parent.
fn check(node: &RollupNode, start: &BatchStart, pending: &PendingBatch) {
    let PendingBatch {
        batch,
        bytes,
        last_block,
        ..
    } = pending;
    assert_eq!(batch.first_block, start.first_block);
    assert_eq!(
        batch.blocks.len() as u64,
        last_block - start.first_block + 1
    );
    let reader = node.store().reader().unwrap();
    for (block, number) in batch.blocks.iter().zip(start.first_block..) {
        let header = reader.header(number).unwrap().unwrap();
        assert_eq!(
            (block.timestamp, block.l1_origin),
            (header.timestamp, origin_of(node, number))
        );
    }
    let last_origin = batch.blocks.last().unwrap().l1_origin;
    let new_origins: Vec<Bytes> = (start.last_recorded_origin + 1..=last_origin)
        .filter_map(header)
        .collect();
    assert_eq!(batch.headers, new_origins);
    let envelope = match pending.data {
        DataPath::Calldata => BatchEnvelope::parse(bytes),
        DataPath::Blobs { .. } => BatchEnvelope::parse_blob(
            &bytes[..pending.envelope_len],
            &blob_data(&to_blobs(pending.segments())),
        ),
    }
    .unwrap();
    assert_eq!(envelope.first_block, start.first_block);
    assert_eq!(envelope.headers, batch.headers);
    assert_eq!(envelope.deposit_count, 0, "left for the bridge's count");
    let (blocks, failed) = envelope.decode_blocks(start.parent, L2_CHAIN_ID);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(blocks, batch.blocks);
}

#[test]
fn batches_start_at_the_inbox_and_carry_the_headers_of_the_origins_they_add() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_with_blocks(dir.path(), 20);
    let store = node.store();
    let start = genesis_start(&node);

    let asked = RefCell::new(Vec::new());
    let logged = |number| {
        asked.borrow_mut().push(number);
        header(number)
    };
    let whole = build_batch(store, &start, 20, 256, 120_000, DataPath::Calldata, &logged)
        .unwrap()
        .unwrap();
    assert_eq!((whole.last_block, whole.full), (20, false));
    assert_eq!(whole.oldest_with_transactions, None, "empty blocks");
    check(&node, &start, &whole);
    assert_eq!(whole.batch.headers.len() as u64, NEW_ORIGINS);
    assert_eq!(
        asked.into_inner(),
        (1..=NEW_ORIGINS).collect::<Vec<_>>(),
        "only headers the inbox has not recorded are asked for, each once"
    );

    // Someone recorded origins up to 3 (`recordOrigins`): the batch carries only 4 and 5.
    let recorded = BatchStart {
        last_recorded_origin: 3,
        ..start
    };
    let pending = build_batch(
        store,
        &recorded,
        20,
        256,
        120_000,
        DataPath::Calldata,
        &header,
    )
    .unwrap()
    .unwrap();
    check(&node, &recorded, &pending);
    assert_eq!(
        pending.batch.headers,
        vec![header(4).unwrap(), header(5).unwrap()]
    );
    // For blocks on those, the batcher asks the inbox about the newest as its blocks name it
    // (block 3 on 3): no header of theirs is carried to check.
    let (block, origin) = rollup_batcher::newest_recorded_origin(store, &pending, 3)
        .unwrap()
        .unwrap();
    assert_eq!((block, origin.number, origin.hash), (3, 3, l1_hash(3)));

    // A batch from block 8 on adds no origin: no headers.
    let later = after(
        &start,
        &build_batch(store, &start, 7, 256, 120_000, DataPath::Calldata, &header)
            .unwrap()
            .unwrap(),
    );
    assert_eq!(later.first_block, 8);
    let pending = build_batch(store, &later, 20, 256, 120_000, DataPath::Calldata, &header)
        .unwrap()
        .unwrap();
    check(&node, &later, &pending);
    assert!(pending.batch.headers.is_empty());

    // Header 4 is not available yet: the batch stops before the block that adopts it, and is
    // not full (it grows once the header is known).
    let known = |number| (number <= 3).then(|| header(number)).flatten();
    let pending = build_batch(store, &start, 20, 256, 120_000, DataPath::Calldata, &known)
        .unwrap()
        .unwrap();
    assert_eq!((pending.last_block, pending.full), (3, false));
    check(&node, &start, &pending);
    // Not even the first block's origin is known: no batch yet.
    assert!(
        build_batch(store, &start, 20, 256, 120_000, DataPath::Calldata, &|_| {
            None
        })
        .unwrap()
        .is_none()
    );

    // An L1 reorg replaced L1 block 4, and the node has not unwound the blocks built on it
    // yet: L1 serves another header at 4. The batch stops before the first block adopting 4
    // (posted with the new header, it would replace the blocks the sequencer rebuilds).
    let reorged = |number| {
        if number == 4 {
            Some(Bytes::from_static(b"header 4 of the new chain"))
        } else {
            header(number)
        }
    };
    let pending = build_batch(
        store,
        &start,
        20,
        256,
        120_000,
        DataPath::Calldata,
        &reorged,
    )
    .unwrap()
    .unwrap();
    assert_eq!(pending.last_block, 3);
    check(&node, &start, &pending);
    // The blocks before it go out at once (the next batch starts at that block and reads
    // the header again).
    assert!(pending.full);
    // From there on, nothing is posted until the node has unwound the block.
    let from_4 = after(&start, &pending);
    assert!(matches!(
        build_batch(
            store,
            &from_4,
            20,
            256,
            120_000,
            DataPath::Calldata,
            &reorged
        ),
        Err(rollup_batcher::BatcherError::OriginReorged {
            block: 4,
            origin: 4
        })
    ));

    // Every origin new to the inbox: the batch carries all their headers, and there is no
    // recorded one to ask the inbox about.
    let from_genesis = build_batch(store, &start, 3, 256, 120_000, DataPath::Calldata, &header)
        .unwrap()
        .unwrap();
    assert!(
        rollup_batcher::newest_recorded_origin(store, &from_genesis, 0)
            .unwrap()
            .is_none()
    );

    // The deposit count is set in place: the bytes become the batch's encoding with it.
    let mut pending = whole;
    pending.set_deposit_count(7);
    let expected = Batch {
        deposit_count: 7,
        ..pending.batch.clone()
    };
    assert_eq!(pending.batch, expected);
    assert_eq!(pending.bytes, expected.encode(start.parent).unwrap());
    assert_eq!(
        BatchEnvelope::parse(&pending.bytes).unwrap().deposit_count,
        7
    );
}

/// After an idle stretch longer than one batch transaction's new origins
/// (`MAX_NEW_ORIGINS_PER_CALL`), the batch that reaches the cap is full and goes out at once;
/// before, it waited for the sequencing window's deadline, and every block after it with it.
#[test]
fn a_batch_adding_the_most_origins_one_call_takes_is_full() {
    use rollup_batcher::origins::MAX_NEW_ORIGINS_PER_CALL;
    let dir = tempfile::tempdir().unwrap();
    let mut node = open_node(dir.path(), rollup_config(1_000, 10_000));
    let origins = MAX_NEW_ORIGINS_PER_CALL + 30;
    commit_l1_blocks(&mut node, origins);
    // One idle L2 block per L1 block, each on the next origin.
    for i in 1..=origins {
        node.build_block(vec![], 1_000 + i).unwrap().unwrap();
    }
    assert_eq!(origin_of(&node, origins), origins);
    // The batcher fetches the headers of at most that many new origins for one batch.
    let fetched = |number: u64| {
        (number <= MAX_NEW_ORIGINS_PER_CALL)
            .then(|| header(number))
            .flatten()
    };
    let start = genesis_start(&node);
    let build = |headers: &dyn Fn(u64) -> Option<Bytes>| {
        build_batch(
            node.store(),
            &start,
            origins,
            10_000,
            rollup_primitives::MAX_BATCH_SIZE,
            DataPath::Calldata,
            headers,
        )
        .unwrap()
        .unwrap()
    };
    let pending = build(&fetched);
    assert_eq!(pending.batch.headers.len() as u64, MAX_NEW_ORIGINS_PER_CALL);
    assert_eq!(pending.last_block, MAX_NEW_ORIGINS_PER_CALL);
    assert!(pending.full, "the batch cannot take another origin");
    assert_eq!(pending.oldest_with_transactions, None);
    let config = BatcherConfig::new(node.config());
    assert_eq!(
        config.post_reason(&pending, Duration::from_secs(1_001), origins),
        Some(PostReason::Full)
    );
    check(&node, &start, &pending);

    // A header L1 has not given yet is only a wait: not full.
    let waiting = build(&|number: u64| (number <= 20).then(|| header(number)).flatten());
    assert_eq!(waiting.last_block, 20);
    assert!(!waiting.full);
}

#[test]
fn batches_stop_at_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_with_blocks(dir.path(), 20);
    let store = node.store();
    let start = genesis_start(&node);
    let whole = build_batch(store, &start, 20, 256, 120_000, DataPath::Calldata, &header)
        .unwrap()
        .unwrap();
    assert_eq!(whole.last_block, 20);
    assert!(!whole.full);
    let whole = whole.bytes;
    // A limit smaller than the whole batch: consecutive batches, each within the limit and
    // starting where the inbox's last one ended, cover every block.
    let ten = build_batch(store, &start, 10, 256, 120_000, DataPath::Calldata, &header)
        .unwrap()
        .unwrap();
    let limit = ten.bytes.len();
    assert!(limit < whole.len());
    let (mut next, mut batches) = (start, 0);
    while next.first_block <= 20 {
        let pending = build_batch(store, &next, 20, 256, limit, DataPath::Calldata, &header)
            .unwrap()
            .unwrap();
        // Every batch but the last stopped at the limit with more blocks waiting.
        assert_eq!(pending.full, pending.last_block < 20);
        assert!(pending.bytes.len() <= limit);
        check(&node, &next, &pending);
        next = after(&next, &pending);
        batches += 1;
    }
    assert!(batches >= 2);
    // The block count cap applies too.
    let capped = build_batch(store, &start, 20, 5, 120_000, DataPath::Calldata, &header)
        .unwrap()
        .unwrap();
    assert_eq!((capped.last_block, capped.full), (5, true));
    check(&node, &start, &capped);
    // A block that fits no batch at all is reported.
    assert!(build_batch(store, &start, 20, 256, 8, DataPath::Calldata, &header).is_err());
}

/// A blob batch whose last blob would carry less than half a blob's data is cut to one blob
/// fewer (`PendingBatch::fewer_blobs`), the blocks that no longer fit left to the next batch
/// when they can wait there (`BatcherConfig::cut_pays`); one whose last blob is at least half
/// full, one of a single blob, or one in calldata stays as it is.
#[test]
fn blob_batches_are_cut_to_whole_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = crate::open_node(dir.path(), rollup_config(1_000, 1_000));
    // 22 blocks of 150 transfers, some 10 kB of segments each: about two blobs in all.
    let last = crate::seal_blocks(&mut node, &mut 0, 1_000, &[150; 22]).number;
    let store = node.store();
    let start = genesis_start(&node);
    let batch_of = |to, data| {
        build_batch(store, &start, to, 256, 120_000, data, &header)
            .unwrap()
            .unwrap()
    };
    let blobs = |pending: &PendingBatch| blob_count(pending.segments().len());
    let six = DataPath::Blobs { max_blobs: 6 };

    // The first batch that needs a second blob: that blob holds one block at most.
    let two = (1..=last)
        .map(|to| batch_of(to, six))
        .find(|pending| blobs(pending) == 2)
        .expect("the blocks fill more than one blob");
    assert!(two.segments().len() - BLOB_DATA_SIZE < BLOB_DATA_SIZE / 2);
    assert_eq!(two.fewer_blobs(), Some(1));
    let cut = batch_of(two.last_block, DataPath::Blobs { max_blobs: 1 });
    assert_eq!((blobs(&cut), cut.last_block), (1, two.last_block - 1));
    assert_eq!(cut.fewer_blobs(), None, "one blob stays one blob");
    check(&node, &start, &cut);

    // The cut is posted only if the block left out can wait for a later batch: more blocks
    // wait than fit, or it is not due for its age yet; never when its window is closing.
    let config = BatcherConfig::new(node.config());
    let left = two.batch.blocks.last().unwrap();
    let sealed = |seconds_ago: u64| Duration::from_secs(left.timestamp + seconds_ago);
    let pays = |reason, now, l1_head| config.cut_pays(reason, &two, &cut, now, l1_head);
    assert!(pays(PostReason::Full, sealed(1), 0));
    assert!(pays(PostReason::MaxDelay, sealed(1), 0));
    assert!(pays(PostReason::Full, sealed(60), 0), "more blocks wait");
    assert!(
        !pays(PostReason::MaxDelay, sealed(60), 0),
        "due: it would go alone"
    );
    assert!(!pays(PostReason::WindowDeadline, sealed(1), 0));
    let closing = left.l1_origin + config.sequencing_window - 1 - config.window_margin - 1;
    assert!(pays(PostReason::Full, sealed(1), closing - 1));
    assert!(
        !pays(PostReason::Full, sealed(1), closing),
        "its window is closing"
    );
    assert!(
        !config.cut_pays(PostReason::Full, &two, &two, sealed(1), 0),
        "nothing left out"
    );
    // Nor if the cut's one blob would carry less than the two blobs did each.
    let thin = batch_of(two.last_block / 3, DataPath::Blobs { max_blobs: 1 });
    assert!(thin.segments().len() * 2 < two.segments().len());
    assert!(!config.cut_pays(PostReason::Full, &two, &thin, sealed(1), 0));

    // A second blob at least half full stays.
    let whole = (two.last_block..=last)
        .map(|to| batch_of(to, six))
        .find(|pending| pending.segments().len() - BLOB_DATA_SIZE >= BLOB_DATA_SIZE / 2)
        .expect("the blocks fill a blob and a half");
    assert_eq!((blobs(&whole), whole.fewer_blobs()), (2, None));

    // Calldata is paid by the byte.
    assert_eq!(batch_of(1, DataPath::Calldata).fewer_blobs(), None);
}

#[test]
fn a_block_larger_than_a_batch_spans_batches_at_its_segment_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let config = rollup_config(1_000, 100);
    let mut node = open_node(dir.path(), config);
    let mut nonce = 0;
    // Block 1: 600 transfers, three segments alone (256, 256, 88); blocks 2 and 3: one each.
    crate::seal_blocks(&mut node, &mut nonce, 1_001, &[600, 1, 1]);
    let store = node.store();
    let block_one: Vec<_> = store
        .reader()
        .unwrap()
        .body(1)
        .unwrap()
        .unwrap()
        .into_iter()
        .filter_map(|tx| match tx {
            rollup_primitives::L2Transaction::Signed { envelope, .. } => Some(envelope),
            rollup_primitives::L2Transaction::Deposit(_) => None,
        })
        .collect();
    let alone = rollup_primitives::segment_tx_counts(&block_one).unwrap();
    assert_eq!(alone, vec![256, 256, 88]);
    // A limit that holds one of those segments but not two.
    let start = genesis_start(&node);
    let header_one = store.reader().unwrap().header(1).unwrap().unwrap();
    let encoded = |count: usize| {
        Batch {
            first_block: 1,
            deposit_count: 0,
            headers: vec![],
            blocks: vec![rollup_primitives::BatchBlock {
                timestamp: header_one.timestamp,
                l1_origin: origin_of(&node, 1),
                transactions: block_one[..count].to_vec(),
            }],
            last_block_open: true,
        }
        .encode(start.parent)
        .unwrap()
        .len()
    };
    let limit = encoded(256) + 100;
    assert!(limit < encoded(512));
    let mut next = start;
    let mut parts = Vec::new();
    loop {
        let pending = build_batch(store, &next, 3, 256, limit, DataPath::Calldata, &header)
            .unwrap()
            .unwrap();
        assert!(pending.bytes.len() <= limit);
        let envelope = BatchEnvelope::parse(&pending.bytes).unwrap();
        assert_eq!(envelope.last_block_open, pending.batch.last_block_open);
        assert_eq!(envelope.first_block, next.first_block);
        parts.push(pending.clone());
        next = after(&next, &pending);
        if !pending.batch.last_block_open {
            break;
        }
        // The batch after an open one starts at the same block, after what was posted of it.
        assert_eq!(next.first_block, 1);
        assert_eq!(next.parent, start.parent, "the open block's parent");
    }
    // Block 1 went out in three batches, cut where it splits alone; the last one closed it
    // and carried blocks 2 and 3.
    let counts: Vec<usize> = parts
        .iter()
        .map(|part| part.batch.blocks[0].transactions.len())
        .collect();
    assert_eq!(counts, alone);
    assert_eq!(parts.last().unwrap().last_block, 3);
    assert_eq!(next.first_block, 4);
    let joined: Vec<_> = parts
        .iter()
        .flat_map(|part| part.batch.blocks[0].transactions.clone())
        .collect();
    assert_eq!(joined, block_one);
    // Each part's segments hold only block 1's transactions: one segment each.
    for part in &parts[..2] {
        assert_eq!(BatchEnvelope::parse(&part.bytes).unwrap().segments.len(), 1);
    }
}
