//! Sustained load past the L1 data bound: clients offer transfers far faster than the
//! sequencer's configured L1 data rate (400 bytes per one-second L1 block; each new origin also
//! adds its ~640-byte L1 header to the backlog), for about a minute of L1 time. The sequencer must throttle (refusing with "sequencer is throttled") instead of
//! sequencing what cannot be posted in time, and no receipt it served may ever disappear or
//! move to another block.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_network::{TxSignerSync, eip2718::Encodable2718};
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::support::{self, Anvil, Devnet};

/// A signed EIP-1559 transfer of 1 wei from `key` (nonce `nonce`) to an account without code,
/// as the hex `eth_sendRawTransaction` takes.
pub(crate) fn transfer(key: &PrivateKeySigner, chain_id: u64, nonce: u64) -> String {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Default::default(),
    };
    let signature = key.sign_transaction_sync(&mut tx).unwrap();
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    format!(
        "0x{}",
        alloy_primitives::hex::encode(envelope.encoded_2718())
    )
}

#[test]
fn sustained_load_past_the_l1_data_bound_never_loses_a_served_receipt() {
    support::run(body());
}

async fn body() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_with(
        &anvil.url,
        dir.path(),
        &[
            "--block-time",
            "100ms",
            "--batcher-interval",
            "200ms",
            "--sequencer-l1-bytes-per-block",
            "400",
        ],
    );
    let chain_id = devnet.info.l2_chain_id;
    let keys: Vec<PrivateKeySigner> = (3..10)
        .map(|i| PrivateKeySigner::from_bytes(&devnet.info.accounts[i].private_key).unwrap())
        .collect();
    const PER_KEY: u64 = 100;
    let mut next = vec![0u64; keys.len()];
    let (mut refused, mut throttled_seen) = (0usize, false);
    // tx hash → the block hash its receipt first named.
    let mut served: HashMap<B256, Value> = HashMap::new();
    let mut sent: Vec<B256> = Vec::new();
    let start = Instant::now();
    while next.iter().any(|n| *n < PER_KEY) || served.len() < sent.len() {
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "load did not complete: {} sent, {} with receipts\n{}",
            sent.len(),
            served.len(),
            devnet.log()
        );
        // Offer the next transaction of every account; a throttled one is retried later.
        for (i, key) in keys.iter().enumerate() {
            while next[i] < PER_KEY {
                let raw = transfer(key, chain_id, next[i]);
                let provider = alloy_provider::ProviderBuilder::new()
                    .connect_http(devnet.info.l2_rpc_url.parse().unwrap());
                let answer = alloy_provider::Provider::raw_request::<_, Value>(
                    &provider,
                    "eth_sendRawTransaction".into(),
                    json!([raw]),
                )
                .await;
                match answer {
                    Ok(hash) => {
                        sent.push(hash.as_str().unwrap().parse().unwrap());
                        next[i] += 1;
                    }
                    Err(err) => {
                        // Backpressure: the throttle, or the pool's bound on how far ahead of
                        // an account's included nonce it queues. Retried next round; a lost
                        // transaction would leave a gap no retry fills, and time the test out.
                        let message = err.to_string();
                        assert!(
                            ["sequencer is throttled", "nonce too high", "txpool is full"]
                                .iter()
                                .any(|m| message.contains(m)),
                            "{message}"
                        );
                        refused += usize::from(message.contains("sequencer is throttled"));
                        break;
                    }
                }
            }
        }
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        throttled_seen |= status["daBacklog"]["throttled"].as_bool() == Some(true);
        // Every receipt once served stays, in the same block.
        for hash in &sent {
            let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
            match (served.get(hash), receipt.is_null()) {
                (Some(block), true) => panic!(
                    "the receipt of {hash} (block {block}) disappeared\n{}",
                    devnet.log()
                ),
                (Some(block), false) => {
                    assert_eq!(
                        &receipt["blockHash"], block,
                        "{hash} moved to another block"
                    )
                }
                (None, false) => {
                    served.insert(*hash, receipt["blockHash"].clone());
                }
                (None, true) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        refused > 0 && throttled_seen,
        "the load never reached the L1 data bound ({refused} refusals)"
    );
    // Everything is posted and derived in the end: the safe head passes every block that holds
    // one of the transfers (the chain keeps growing with a block per new L1 origin meanwhile).
    let mut last_block = 0;
    for hash in served.keys() {
        let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
        let number = receipt["blockNumber"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x");
        last_block = last_block.max(u64::from_str_radix(number, 16).unwrap());
    }
    let start = Instant::now();
    loop {
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        if status["safeL2"]["number"].as_u64().unwrap() >= last_block {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (hash, block) in &served {
        let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
        assert_eq!(&receipt["blockHash"], block, "{hash}");
    }
    // Drained: taking transactions again, with room for more.
    let status = devnet.l2("rollup_syncStatus", json!([])).await;
    let backlog = &status["daBacklog"];
    assert_eq!(backlog["throttled"], false, "{status}");
    assert!(backlog["headroom"].as_u64().unwrap() > 0, "{status}");
    assert!(
        !devnet.log().contains("replacing it"),
        "derivation replaced sequenced blocks"
    );
    eprintln!(
        "{} transfers, {refused} refusals while throttled, all in blocks up to {last_block}, all safe",
        sent.len()
    );
}
