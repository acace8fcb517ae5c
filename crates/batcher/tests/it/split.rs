//! Batches stop at the size limit and carry on from there; a block that fits no batch is an
//! error, not a silent stall.

use rollup_batcher::{PendingBatch, build_batch};
use rollup_node_core::RollupNode;
use rollup_primitives::Batch;

use crate::{open_node, rollup_config};

fn node_with_blocks(dir: &std::path::Path, blocks: u64) -> RollupNode {
    let mut node = open_node(dir, rollup_config(1_000, 10));
    // Irregular timestamps, so the batch payload does not compress to nothing.
    let mut timestamp = 1_000;
    for i in 0..blocks {
        timestamp += (i * i * 7_919 + 13) % 100_003;
        node.build_block(vec![], timestamp).unwrap().unwrap();
    }
    node
}

#[test]
fn batches_stop_at_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_with_blocks(dir.path(), 20);
    let store = node.store();
    let whole = build_batch(store, 1, 20, 256, 120_000).unwrap().unwrap();
    assert_eq!(whole.last_block, 20);
    assert!(!whole.full);
    assert_eq!(whole.oldest_with_transactions, None, "empty blocks");
    let whole = whole.bytes;
    // A limit smaller than the whole batch: consecutive batches, each within the limit and
    // extending the previous one, cover every block.
    let ten = build_batch(store, 1, 10, 256, 120_000).unwrap().unwrap();
    let limit = ten.bytes.len();
    assert!(limit < whole.len());
    let reader = store.reader().unwrap();
    let (mut from, mut batches) = (1, 0);
    while from <= 20 {
        let PendingBatch {
            batch,
            bytes,
            last_block: last,
            full,
            ..
        } = build_batch(store, from, 20, 256, limit).unwrap().unwrap();
        // Every batch but the last stopped at the limit with more blocks waiting.
        assert_eq!(full, last < 20);
        assert!(bytes.len() <= limit);
        assert_eq!(Batch::decode(&bytes, 9).unwrap(), batch);
        assert_eq!(
            batch.parent_hash,
            reader.block_hash(from - 1).unwrap().unwrap()
        );
        assert_eq!(batch.blocks.len() as u64, last - from + 1);
        from = last + 1;
        batches += 1;
    }
    assert!(batches >= 2);
    // The block count cap applies too.
    let capped = build_batch(store, 1, 20, 5, 120_000).unwrap().unwrap();
    assert_eq!((capped.last_block, capped.full), (5, true));
    // A block that fits no batch at all is reported.
    assert!(build_batch(store, 1, 20, 256, 8).is_err());
}
