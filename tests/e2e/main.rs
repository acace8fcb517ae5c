//! End-to-end: a real anvil L1, the real `rollup-node` binary, real MDBX.
//!
//! Deposits of ETH and an ERC-20 reach L2; an L1 reorg removing a deposit unwinds it exactly;
//! a node killed with SIGKILL resumes with nothing lost or applied twice.

mod bridge;
mod config;
mod dispute;
mod docs;
mod live;
mod shutdown;
mod status;
mod support;
mod sustained;
mod trace;
mod transact;
mod withdrawals;

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, U256};
use alloy_provider::{DynProvider, Provider};
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};
use alloy_sol_types::{SolCall, SolValue};
use rollup_primitives::{
    MIN_ERC20_DEPOSIT_GAS,
    artifacts::predict_l2_token,
    bindings::{IERC20, IL1Bridge},
};
use serde_json::json;
use support::{Anvil, Devnet};

const ETHER: u64 = 1_000_000_000_000_000_000;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(ETHER)
}

/// Sends a transaction and waits for its receipt. A sequencer that refuses it as throttled
/// (its L1 data backlog near the sequencing window; a devnet's window is 20 L1 blocks, and
/// every L1 transaction of the test and the roles mines one) is asked again, as its error
/// tells users to, for at most 30 s. The gas limit is 60% above the estimate, as
/// `rollup-node deposit` sets it: a deposit burns L1 gas for its L2 gas at a fee that moves
/// from block to block, and one that landed a block later than estimated (a role's
/// transaction mined first) ran out of gas on a loaded machine.
async fn send(l1: &DynProvider, to: Address, input: Vec<u8>, value: U256) -> TransactionReceipt {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(input)
        .with_value(value);
    let estimate = l1.estimate_gas(tx.clone()).await.unwrap();
    let tx = tx.with_gas_limit(estimate * 8 / 5);
    let start = std::time::Instant::now();
    let pending = loop {
        match l1.send_transaction(tx.clone()).await {
            Err(err)
                if err.to_string().contains("sequencer is throttled")
                    && start.elapsed() < std::time::Duration::from_secs(30) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            result => break result.unwrap(),
        }
    };
    let receipt = pending.get_receipt().await.unwrap();
    assert!(receipt.status(), "transaction reverted: {receipt:?}");
    receipt
}

async fn deposit_eth(devnet: &Devnet, account: usize, amount: U256) -> TransactionReceipt {
    let call = IL1Bridge::depositCall {
        l1Token: Address::ZERO,
        l2Token: Address::ZERO,
        amount,
        gasLimit: 21_000,
    };
    send(
        &devnet.l1(account),
        devnet.info.contracts.l1_bridge,
        call.abi_encode(),
        amount,
    )
    .await
}

async fn l2_token_balance(devnet: &Devnet, token: Address, owner: Address) -> U256 {
    let call = IERC20::balanceOfCall { owner }.abi_encode();
    let out = devnet.l2("eth_call", json!([{ "to": token, "data": alloy_primitives::hex::encode_prefixed(call) }, "latest"])).await;
    U256::abi_decode(&alloy_primitives::hex::decode(out.as_str().unwrap()).unwrap()).unwrap()
}

#[test]
fn eth_and_erc20_deposits_reach_l2() {
    support::run(eth_and_erc20_deposits_reach_l2_body());
}

async fn eth_and_erc20_deposits_reach_l2_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(&anvil.url, dir.path());
    let user = devnet.info.accounts[3].address;
    let chain_id = devnet.l2("eth_chainId", json!([])).await;
    assert_eq!(chain_id, json!(format!("{:#x}", devnet.info.l2_chain_id)));

    // ETH: the balance changes in exactly the L2 block derived from the deposit's L1 block.
    let before = devnet.l2_balance(user, "latest").await;
    let amount = ether(3);
    let receipt = deposit_eth(&devnet, 3, amount).await;
    let l1_block = receipt.block_number.unwrap();
    devnet.wait_balance(user, before + amount).await;
    let l2_block = find_l2_block_of_l1(&devnet, l1_block).await;
    let block = devnet
        .l2(
            "eth_getBlockByNumber",
            json!([format!("{l2_block:#x}"), true]),
        )
        .await;
    let txs = block["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 1, "{block}");
    assert_eq!(txs[0]["type"], json!("0x7e"));
    assert_eq!(
        devnet
            .l2_balance(user, &format!("{:#x}", l2_block - 1))
            .await,
        before
    );
    assert_eq!(
        devnet.l2_balance(user, &format!("{l2_block:#x}")).await,
        before + amount
    );
    let tx_receipt = devnet
        .l2("eth_getTransactionReceipt", json!([txs[0]["hash"]]))
        .await;
    assert_eq!(tx_receipt["status"], json!("0x1"));

    // ERC-20: approve, deposit, and the bridged token on L2 holds the amount.
    let l1 = devnet.l1(3);
    let token = devnet.info.contracts.dev_token;
    let bridge = devnet.info.contracts.l1_bridge;
    let amount = ether(250);
    send(
        &l1,
        token,
        IERC20::approveCall {
            spender: bridge,
            amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let l2_token = predict_l2_token(token);
    let call = IL1Bridge::depositCall {
        l1Token: token,
        l2Token: l2_token,
        amount,
        gasLimit: MIN_ERC20_DEPOSIT_GAS as u32,
    };
    send(&l1, bridge, call.abi_encode(), U256::ZERO).await;
    wait_token_balance(&devnet, l2_token, user, amount).await;
    let code = devnet.l2("eth_getCode", json!([l2_token, "latest"])).await;
    assert!(
        code.as_str().unwrap().len() > 2,
        "bridged token deployed on L2"
    );

    // A second ERC-20 deposit reuses the token and adds up.
    send(
        &l1,
        token,
        IERC20::approveCall {
            spender: bridge,
            amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    send(&l1, bridge, call.abi_encode(), U256::ZERO).await;
    wait_token_balance(&devnet, l2_token, user, amount * U256::from(2)).await;

    // The bridge's message chain on L1 is the one derivation computes from the logs.
    let logs = l1
        .get_logs(
            &alloy_rpc_types_eth::Filter::new()
                .address(bridge)
                .from_block(0),
        )
        .await
        .unwrap();
    let mut chain = alloy_primitives::B256::ZERO;
    let mut count = 0u64;
    for log in &logs {
        if let Some(hash) = rollup_derive::bridge_message_hash(bridge, &log.inner) {
            chain = rollup_derive::extend_message_chain(chain, hash);
            count += 1;
        }
    }
    assert_eq!(count, 3, "one ETH and two ERC-20 deposits");
    let out = l1
        .call(
            TransactionRequest::default()
                .with_to(bridge)
                .with_input(IL1Bridge::depositChainCall {}.abi_encode()),
        )
        .await
        .unwrap();
    let on_l1 = IL1Bridge::depositChainCall::abi_decode_returns(&out).unwrap();
    assert_eq!((on_l1.count, on_l1.chain), (U256::from(count), chain));
}

async fn wait_token_balance(devnet: &Devnet, token: Address, owner: Address, expected: U256) {
    for _ in 0..600 {
        let code = devnet.l2("eth_getCode", json!([token, "latest"])).await;
        if code.as_str().unwrap().len() > 2
            && l2_token_balance(devnet, token, owner).await == expected
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "L2 token balance never reached {expected}\n{}",
        devnet.log()
    );
}

/// The first L2 block whose L1 origin is `l1_block`: the one carrying its deposits.
async fn find_l2_block_of_l1(devnet: &Devnet, l1_block: u64) -> u64 {
    let head: u64 = u64::from_str_radix(
        devnet
            .l2("eth_blockNumber", json!([]))
            .await
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    for number in 0..=head {
        let block = devnet
            .l2(
                "eth_getBlockByNumber",
                json!([format!("{number:#x}"), false]),
            )
            .await;
        let origin = &block["l1Origin"]["number"];
        let origin = origin.as_u64().or_else(|| {
            origin
                .as_str()
                .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        });
        if origin == Some(l1_block) {
            return number;
        }
    }
    panic!("no L2 block derived from L1 block {l1_block}");
}

#[test]
fn l1_reorg_removing_a_deposit_unwinds_it() {
    support::run(l1_reorg_removing_a_deposit_unwinds_it_body());
}

async fn l1_reorg_removing_a_deposit_unwinds_it_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(&anvil.url, dir.path());
    let user = devnet.info.accounts[4].address;
    let l1 = devnet.l1(4);
    let before = devnet.l2_balance(user, "latest").await;
    // Some L1 blocks first, so the L2 blocks derived from them lie below the fork point.
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x3"]))
        .await
        .unwrap();

    let receipt = deposit_eth(&devnet, 4, ether(1)).await;
    let deposit_block = receipt.block_number.unwrap();
    // Two more L1 blocks on top, so the reorg is three deep.
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x2"]))
        .await
        .unwrap();
    devnet.synced_to(deposit_block + 2).await;
    devnet.wait_balance(user, before + ether(1)).await;
    let hashes_before: Vec<_> = future_blocks(&devnet, 0, 3).await;

    // Replace every L1 block from the deposit's on with empty ones: the deposit is gone from L1.
    // The batcher keeps mining blocks (anvil automines), so retry until the receipt is gone.
    let deposit_tx = receipt.transaction_hash;
    loop {
        let head = l1.get_block_number().await.unwrap();
        l1.raw_request::<_, serde_json::Value>(
            "anvil_reorg".into(),
            json!([head - deposit_block + 1, []]),
        )
        .await
        .unwrap();
        if l1
            .get_transaction_receipt(deposit_tx)
            .await
            .unwrap()
            .is_none()
        {
            break;
        }
    }
    // One more block so the follower sees a new tip above the old one.
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x1"]))
        .await
        .unwrap();
    devnet.synced_to(deposit_block + 3).await;
    // The deposit is unwound exactly.
    devnet.wait_balance(user, before).await;
    assert_eq!(
        future_blocks(&devnet, 0, 3).await,
        hashes_before,
        "blocks below the fork point untouched"
    );

    // The replacement chain's deposits apply.
    deposit_eth(&devnet, 4, ether(2)).await;
    devnet.wait_balance(user, before + ether(2)).await;
}

async fn future_blocks(devnet: &Devnet, from: u64, to: u64) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for n in from..=to {
        out.push(
            devnet
                .l2("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
                .await["hash"]
                .clone(),
        );
    }
    out
}

#[test]
fn kill_9_between_l1_blocks_then_restart_loses_and_repeats_nothing() {
    support::run(kill_9_between_l1_blocks_then_restart_loses_and_repeats_nothing_body());
}

async fn kill_9_between_l1_blocks_then_restart_loses_and_repeats_nothing_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&anvil.url, dir.path());
    let user = devnet.info.accounts[5].address;
    let before = devnet.l2_balance(user, "latest").await;

    deposit_eth(&devnet, 5, ether(1)).await;
    devnet.wait_balance(user, before + ether(1)).await;
    let head_before: u64 = u64::from_str_radix(
        devnet
            .l2("eth_blockNumber", json!([]))
            .await
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let hashes_before = future_blocks(&devnet, 0, head_before).await;

    devnet.kill9();
    // L1 moves on while the node is down: another deposit and empty blocks.
    let receipt = deposit_eth(&devnet, 5, ether(2)).await;
    devnet
        .l1(5)
        .raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x3"]))
        .await
        .unwrap();
    let l1_tip = receipt.block_number.unwrap() + 3;

    let restarted = Devnet::start(&anvil.url, dir.path());
    restarted.synced_to(l1_tip).await;
    restarted.wait_balance(user, before + ether(3)).await;
    // And stays there: nothing is applied twice later either.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        restarted.l2_balance(user, "latest").await,
        before + ether(3),
        "each deposit exactly once"
    );
    assert_eq!(
        future_blocks(&restarted, 0, head_before).await,
        hashes_before,
        "same chain after restart"
    );
    assert!(restarted.log().contains("resuming devnet"));
}

#[test]
fn a_proposal_removed_by_an_l1_reorg_is_proposed_again() {
    support::run(a_proposal_removed_by_an_l1_reorg_is_proposed_again_body());
}

async fn latest_proposal(devnet: &Devnet) -> Option<rollup_primitives::bindings::Proposal> {
    use rollup_primitives::bindings::IStateManager;
    let l1 = devnet.l1(0);
    let call = |input: Vec<u8>| {
        TransactionRequest::default()
            .with_to(devnet.info.contracts.state_manager)
            .with_input(input)
    };
    let count = l1
        .call(call(IStateManager::proposalCountCall {}.abi_encode()))
        .await
        .unwrap();
    if U256::abi_decode(&count).unwrap().is_zero() {
        return None;
    }
    let out = l1
        .call(call(IStateManager::latestProposalCall {}.abi_encode()))
        .await
        .ok()?;
    Some(
        IStateManager::latestProposalCall::abi_decode_returns(&out)
            .unwrap()
            .proposal,
    )
}

async fn a_proposal_removed_by_an_l1_reorg_is_proposed_again_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let l1 = devnet.l1(0);
    let wait_for_proposal = async |after_l1_block: u64| {
        for _ in 0..600 {
            if let Some(proposal) = latest_proposal(&devnet).await
                && proposal.l1Block > after_l1_block
            {
                return proposal;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no proposal after L1 block {after_l1_block}\n{}",
            devnet.log()
        );
    };
    // Some L1 blocks, so the sequencer has origins to build on and the roles have work.
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x3"]))
        .await
        .unwrap();
    let first = wait_for_proposal(0).await;
    // The proposed root is the L2 block's output root (over its state root, its hash and where
    // it was derived from), and the proposal binds the block hash.
    let block = devnet
        .l2(
            "eth_getBlockByNumber",
            json!([format!("{:#x}", first.l2BlockNumber), false]),
        )
        .await;
    let output = output_root_at(&devnet, first.l2BlockNumber).await;
    assert_eq!(output["outputRootHash"], json!(first.stateRoot));
    assert_eq!(output["outputRoot"]["stateRoot"], block["stateRoot"]);
    assert_eq!(block["hash"], json!(first.l2BlockHash));

    // The first proposal becomes final (the devnet's challenge period is 60 s of L1 time), and
    // the proposer anchors its next proposal on it.
    l1.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), json!([61]))
        .await
        .unwrap();
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x1"]))
        .await
        .unwrap();
    let finalized_at = l1.get_block_number().await.unwrap();
    let anchor_of_latest = async || {
        use rollup_primitives::bindings::IStateManager;
        let manager = devnet.info.contracts.state_manager;
        let index = withdrawals::view(&l1, manager, IStateManager::latestProposalCall {})
            .await
            .index;
        withdrawals::view(&l1, manager, IStateManager::disputeOfCall { index })
            .await
            .anchor
    };
    // A round that began before the first proposal was final may still land unanchored.
    let mut anchored = false;
    for _ in 0..50 {
        let latest = wait_for_proposal(finalized_at).await;
        if anchor_of_latest().await == 1 {
            assert!(latest.l2BlockNumber > first.l2BlockNumber);
            anchored = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        anchored,
        "no proposal anchored on the first one\n{}",
        devnet.log()
    );

    // Remove every L1 block from the first proposal's on, its anchor with it (retrying: the
    // roles keep mining blocks). The proposer must not name the vanished anchor again.
    let fork = first.l1Block;
    loop {
        let head = l1.get_block_number().await.unwrap();
        l1.raw_request::<_, serde_json::Value>("anvil_reorg".into(), json!([head - fork + 1, []]))
            .await
            .unwrap();
        if latest_proposal(&devnet)
            .await
            .is_none_or(|p| p.l1Block < fork)
        {
            break;
        }
    }
    // The proposer sees the StateManager without it and proposes again.
    l1.raw_request::<_, serde_json::Value>("anvil_mine".into(), json!(["0x2"]))
        .await
        .unwrap();
    let again = wait_for_proposal(fork - 1).await;
    let output = output_root_at(&devnet, again.l2BlockNumber).await;
    assert_eq!(output["outputRootHash"], json!(again.stateRoot));
    // The proposer said what the reorg took, not only proposed again.
    let log = devnet.log();
    assert!(
        log.contains("was removed by an L1 reorg") && log.contains("will propose again"),
        "no warning of the proposal the reorg took\n{log}"
    );
}

/// `rollup_getProof` at L2 block `number`: its `outputRoot` and `outputRootHash`.
async fn output_root_at(devnet: &Devnet, number: u64) -> serde_json::Value {
    devnet
        .l2(
            "rollup_getProof",
            json!([
                "0x0000000000000000000000000000000000000000",
                [],
                format!("{number:#x}")
            ]),
        )
        .await
}
