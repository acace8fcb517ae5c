//! The batcher against real MDBX (blocks sealed by the node core) and, for the posting loop, a
//! real anvil L1.

mod posting;
mod split;

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use rollup_node_core::RollupNode;
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L2Genesis, L2Transaction, RollupConfig,
};
use rollup_storage::Store;

const L2_CHAIN_ID: u64 = 9;
const INBOX: Address = Address::repeat_byte(2);

/// The L2 account that signs the test transfers (anvil's dev key 0, funded in genesis).
fn user_key() -> PrivateKeySigner {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A rollup whose genesis (and L1 origin 0) is at `genesis_timestamp`, with a
/// `sequencing_window`-block window and a funded [`user_key`].
fn rollup_config(genesis_timestamp: u64, sequencing_window: u64) -> RollupConfig {
    let mut alloc = std::collections::BTreeMap::new();
    alloc.insert(
        user_key().address(),
        GenesisAccount {
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    RollupConfig {
        l1_chain_id: 1,
        l2_chain_id: L2_CHAIN_ID,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: INBOX,
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: genesis_timestamp,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1,
            alloc,
        },
        sequencing_window,
        max_sequencer_drift: u64::MAX / 4,
        batcher_address: Address::repeat_byte(4),
    }
}

fn open_node(dir: &std::path::Path, config: RollupConfig) -> RollupNode {
    RollupNode::new(Arc::new(config), Store::open(dir).unwrap()).unwrap()
}

/// A signed transfer of 1 wei from [`user_key`].
fn transfer(nonce: u64) -> L2Transaction {
    let tx = TxEip1559 {
        chain_id: L2_CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::with_last_byte(nonce as u8)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signature = user_key().sign_hash_sync(&tx.signature_hash()).unwrap();
    L2Transaction::Signed {
        envelope: TxEnvelope::from(tx.into_signed(signature)),
        sender: user_key().address(),
    }
}

/// Seals blocks on `node`, one per entry of `txs_per_block` (that many transfers each), one
/// second apart from `first_timestamp`; returns the last block's number and hash.
fn seal_blocks(
    node: &mut RollupNode,
    nonce: &mut u64,
    first_timestamp: u64,
    txs_per_block: &[u64],
) -> BlockNumHash {
    let mut last = BlockNumHash::default();
    for (i, &count) in txs_per_block.iter().enumerate() {
        let txs = (0..count)
            .map(|_| {
                *nonce += 1;
                transfer(*nonce - 1)
            })
            .collect::<Vec<_>>();
        let block = node
            .build_block(txs, first_timestamp + i as u64)
            .unwrap()
            .expect("block built");
        assert_eq!(block.transactions.len() as u64, count);
        last = BlockNumHash {
            number: block.number,
            hash: block.hash,
        };
    }
    last
}
