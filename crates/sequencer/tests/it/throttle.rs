//! Data-availability throttling against a real core and MDBX: the sequencer stops taking
//! transactions when what it sequenced could no longer reach L1 before the sequencing window
//! closes, and takes them again once the batches are on L1.

use alloy_primitives::{B256, Bytes, Log, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_primitives::{
    Batch, BatchBlock, BatchEnvelope, BatchParent, L1Receipt, L1Transaction,
    bindings::IBatchInbox::{BatchAppended, postBatchCall},
};
use rollup_sequencer::DaConfig;

use super::*;

/// 2 000 bytes of batch data per L1 block, 2 blocks of margin, a 10-block window: 16 000 bytes
/// may be pending while L1 stands still.
const DA: DaConfig = DaConfig {
    l1_bytes_per_block: 2_000,
    margin_blocks: 2,
};

/// The batch of `node`'s blocks `from..=to`, on top of block `from - 1` (no deposits, no new
/// L1 origins to record).
fn batch_of(node: &RollupNode, from: u64, to: u64) -> Vec<u8> {
    let reader = node.store().reader().unwrap();
    let parent = reader.header(from - 1).unwrap().unwrap();
    let parent = BatchParent {
        timestamp: parent.timestamp,
        l1_origin: decode_l1_origin(&parent.extra_data).unwrap().number,
    };
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
        last_block_open: false,
    }
    .encode(parent)
    .unwrap()
}

/// The `BatchAppended` log the inbox emits for `data` as its first record (on L2 genesis).
fn first_record_log(config: &RollupConfig, data: &[u8]) -> Log {
    let envelope = BatchEnvelope::parse(data).unwrap();
    let event = BatchAppended {
        index: U256::ZERO,
        firstBlock: envelope.first_block,
        blockCount: envelope.blocks.len() as u16,
        lastOrigin: envelope.last_origin(config.genesis.l1_origin.number),
        depositCount: envelope.deposit_count,
        forced: false,
        dataHash: keccak256(data),
        segmentRoot: envelope.segment_root(),
        blocksHash: envelope.blocks_hash,
        blobCount: 0,
        lastBlockOpen: false,
    };
    Log {
        address: config.contracts.batch_inbox,
        data: event.encode_log_data(),
    }
}

#[test]
fn sequencing_stops_at_the_l1_data_bound_and_resumes_once_posted() {
    let senders: Vec<PrivateKeySigner> = (0..10).map(key).collect();
    let (_dir, mut node, pool) = setup_with(
        PoolConfig::default(),
        config_funding(
            senders
                .iter()
                .map(|k| (k.address(), U256::from(10u128.pow(20)))),
        ),
    );
    let config = node.config().clone();
    let sequencer = sequencer(&pool).with_da(DA);
    for key in &senders {
        for nonce in 0..60 {
            pool.add_raw(&raw(key, nonce, FEE)).unwrap();
        }
    }
    let mut now = 10;
    while !pool.throttle().backlog().throttled {
        sequencer.sequence_at(&mut node, now).unwrap();
        now += 1;
        assert!(
            now < 100,
            "never throttled: {:?}",
            pool.throttle().backlog()
        );
    }
    let backlog = pool.throttle().backlog();
    let head = node.heads().borrow().unsafe_l2.number;
    assert_eq!(
        backlog.blocks, head,
        "every block since genesis waits for L1"
    );
    // The bound holds up to the error of the bytes-per-transaction estimate (a few percent of
    // one block), which the margin of 2 L1 blocks (4 000 bytes) absorbs.
    assert!(
        backlog.bytes <= 16_000 + 800,
        "sequenced more than L1 can take in time: {backlog:?}"
    );
    assert!(!pool.is_empty(), "transactions wait in the pool");
    // New transactions are refused with a clear error; blocks take none.
    assert!(matches!(
        pool.add_raw(&raw(&senders[0], 60, FEE)),
        Err(PoolError::Throttled { backlog_bytes, .. }) if backlog_bytes == backlog.bytes
    ));
    sequencer.sequence_at(&mut node, now).unwrap();
    assert_eq!(node.heads().borrow().unsafe_l2.number, head);

    // The batcher posts everything in L1 block 1 (the inbox records it); once derived, the
    // backlog is gone.
    let data = batch_of(&node, 1, head);
    let record = first_record_log(&config, &data);
    let l1 = L1Block {
        number: 1,
        hash: B256::repeat_byte(0x11),
        parent_hash: config.genesis.l1_origin.hash,
        timestamp: now,
        mix_hash: B256::repeat_byte(0x22),
        base_fee_per_gas: Some(1),
        transactions: vec![L1Transaction {
            hash: B256::repeat_byte(0x33),
            from: config.batcher_address,
            to: Some(config.contracts.batch_inbox),
            input: postBatchCall {
                data: Bytes::from(data),
            }
            .abi_encode()
            .into(),
            blob_versioned_hashes: vec![],
            blobs: vec![],
        }],
        receipts: vec![L1Receipt {
            success: true,
            logs: vec![record],
        }],
    };
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(vec![l1]).unwrap()),
    })
    .unwrap();
    assert_eq!(node.heads().borrow().safe_l2.number, head, "all derived");
    let waiting = pool.len();
    sequencer.sequence_at(&mut node, now + 1).unwrap();
    let backlog = pool.throttle().backlog();
    assert!(!backlog.throttled, "{backlog:?}");
    assert!(pool.len() < waiting, "sequencing took transactions again");
}
