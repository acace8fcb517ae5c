//! Batches stop at the size limit and carry on from there; a block that fits no batch is an
//! error, not a silent stall.

use std::sync::Arc;

use alloy_primitives::Address;
use rollup_batcher::build_batch;
use rollup_node_core::RollupNode;
use rollup_primitives::{Batch, BlockNumHash, ContractAddresses, L2Genesis, RollupConfig};
use rollup_storage::Store;

fn node_with_blocks(dir: &std::path::Path, blocks: u64) -> RollupNode {
    let config = RollupConfig {
        l1_chain_id: 1,
        l2_chain_id: 9,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1,
            alloc: Default::default(),
        },
        sequencing_window: 10,
        max_sequencer_drift: u64::MAX / 4,
    };
    let mut node = RollupNode::new(Arc::new(config), Store::open(dir).unwrap()).unwrap();
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
    let (_, whole, last) = build_batch(store, 1, 20, 256, 120_000).unwrap().unwrap();
    assert_eq!(last, 20);
    // A limit smaller than the whole batch: consecutive batches, each within the limit and
    // extending the previous one, cover every block.
    let (_, ten, _) = build_batch(store, 1, 10, 256, 120_000).unwrap().unwrap();
    let limit = ten.len();
    assert!(limit < whole.len());
    let reader = store.reader().unwrap();
    let (mut from, mut batches) = (1, 0);
    while from <= 20 {
        let (batch, bytes, last) = build_batch(store, from, 20, 256, limit).unwrap().unwrap();
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
    assert_eq!(build_batch(store, 1, 20, 5, 120_000).unwrap().unwrap().2, 5);
    // A block that fits no batch at all is reported.
    assert!(build_batch(store, 1, 20, 256, 8).is_err());
}
