//! End-to-end: bridge v2 as its users meet it.
//!
//! - The escape hatch: with the sequencer gone, a withdrawal started on L1
//!   (`L1Bridge.withdrawTo`) is forced into L2 by `rollup-node force-include` once the
//!   sequencing window passes, then proven and finalized against a replica's proposal, paying
//!   exactly.
//! - Contract wallets: a contract on L1 deposits to a recipient it names, and its own
//!   deposits land at its aliased L2 address, which it can exit with a forced withdrawal; a
//!   contract wallet on L2 withdraws to an L1 recipient it names.

use std::time::{Duration, Instant};

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes, U256, utils::parse_ether};
use alloy_provider::Provider;
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_derive::bridge_message_transaction;
use rollup_primitives::{
    L2_BRIDGE, apply_l1_to_l2_alias,
    bindings::{IBatchInbox, IL1Bridge, IL2Bridge},
};
use serde_json::{Value, json};

use super::{deposit_eth, ether, send};
use crate::{
    support::{self, Anvil, Devnet, Replica},
    withdrawals::{cli, l1_rpc, l2_wallet},
};

/// A minimal contract wallet: called with `target (20 bytes) ++ calldata` and some value, it
/// calls `target` with that calldata and value and bubbles up a revert; empty calldata just
/// accepts ETH. Hand-assembled so the test needs no compiler.
const WALLET_INIT_CODE: &str = concat!(
    // constructor: return the 46-byte runtime that follows
    "602e600c600039602e6000f3",
    // runtime
    "3615602c57",           // if calldata is empty: jump to STOP
    "60143603",             // len = calldatasize - 20
    "80601460003760006000", // calldatacopy(0, 20, len); retSize 0, retOffset 0
    "8260003460003560601c", // argsSize len, argsOffset 0, value, target = cd[0..20]
    "5af1602c57",           // call(gas, ...); success: jump to STOP
    "3d600060003e3d6000fd", // else revert with the callee's data
    "5b00",                 // STOP
);

fn wallet_call(target: Address, call: impl SolCall) -> Vec<u8> {
    [target.as_slice(), &call.abi_encode()].concat()
}

async fn deploy_wallet(provider: &alloy_provider::DynProvider) -> Address {
    let code: Bytes = WALLET_INIT_CODE.parse().unwrap();
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    receipt.contract_address.unwrap()
}

/// The L2 transaction hash the bridge message in `receipt` becomes (computed as derivation
/// does).
fn l2_tx_of(l1_bridge: Address, receipt: &TransactionReceipt) -> B256 {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| bridge_message_transaction(l1_bridge, &log.inner))
        .expect("a bridge message")
        .expect("a valid bridge message")
        .hash()
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| {
        u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    })
}

#[test]
fn a_withdrawal_started_on_l1_exits_without_a_sequencer() {
    support::run(a_withdrawal_started_on_l1_exits_without_a_sequencer_body());
}

async fn a_withdrawal_started_on_l1_exits_without_a_sequencer_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let l1_bridge = devnet.info.contracts.l1_bridge;
    let user = devnet.info.accounts[6].address;
    let user_key = devnet.info.accounts[6].private_key.to_string();
    let proposer_key = devnet.info.accounts[2].private_key.to_string();
    let l1 = devnet.l1(0);

    // The user holds ETH on L2, posted to L1 (safe).
    let before = devnet.l2_balance(user, "latest").await;
    deposit_eth(&devnet, 6, ether(2)).await;
    devnet.wait_balance(user, before + ether(2)).await;
    let start = Instant::now();
    loop {
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        let safe = devnet
            .l2("eth_getBalance", json!([user, status["safeL2"]["hash"]]))
            .await;
        if safe.as_str().unwrap().parse::<U256>().unwrap() == before + ether(2) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "deposit never became safe"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The sequencer is gone for good. What is left: L1, and a replica that proposes.
    devnet.kill9();
    let config = devnet.datadir.join("rollup.json");
    let replica = Replica::start(
        &anvil.url,
        &config,
        &dir.path().join("replica"),
        &[
            "--proposer-key",
            &proposer_key,
            "--proposer-head",
            "safe",
            "--proposal-interval",
            "1s",
        ],
    );

    // The user withdraws 1.25 ETH from L1 to a fresh recipient.
    let recipient = Address::repeat_byte(0x5a);
    let amount = parse_ether("1.25").unwrap();
    let receipt = send(
        &devnet.l1(6),
        l1_bridge,
        IL1Bridge::withdrawToCall {
            l1Token: Address::ZERO,
            l2Token: Address::ZERO,
            amount,
            to: recipient,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let l2_tx = l2_tx_of(l1_bridge, &receipt);
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| IL1Bridge::ForcedWithdrawalInitiated::decode_log_data(log.data()).ok())
        .unwrap();
    assert_eq!(
        (event.from, event.to, event.amount),
        (user, recipient, amount)
    );

    // Nobody sequences: once the sequencing window (20 L1 blocks) has closed, the user forces
    // the waiting epochs in from L1.
    l1_rpc(&l1, "anvil_mine", json!([25])).await;
    let file = devnet.datadir.join("devnet.json");
    let run = cli(
        &file,
        &[
            "force-include",
            "--config",
            config.to_str().unwrap(),
            "--l1-rpc-url",
            &anvil.url,
            "--l2-rpc-url",
            &replica.rpc_url,
            "--private-key",
            &user_key,
        ],
    )
    .await;
    assert!(
        run.ok,
        "force-include failed: {}\n{}",
        run.stderr,
        replica.log()
    );
    let start = Instant::now();
    let l2_receipt = loop {
        let receipt = replica
            .rpc("eth_getTransactionReceipt", json!([l2_tx]))
            .await;
        if !receipt.is_null() {
            break receipt;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the forced withdrawal never reached L2\n{}",
            replica.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(number(&l2_receipt["status"]), 1, "{l2_receipt}");
    let balance = replica
        .rpc("eth_getBalance", json!([user, "latest"]))
        .await
        .as_str()
        .unwrap()
        .parse::<U256>()
        .unwrap();
    assert_eq!(
        balance,
        before + ether(2) - amount,
        "taken from the user's L2 balance"
    );

    // A sequencer that takes connections and never answers (wedged, not gone) does not hold
    // the way out up: the command's reads of it time out and `--force` sends anyway. Before,
    // it waited for ever and sent nothing. (Account 7's forced withdrawal is of more than it
    // holds on L2; what is checked is that it reaches L1.)
    let wedged = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let wedged_url = format!("http://{}", wedged.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = wedged.incoming().collect();
        drop(held);
    });
    let other = devnet.info.accounts[7].address;
    let other_nonce = l1.get_transaction_count(other).await.unwrap();
    let run = cli(
        &file,
        &[
            "force-withdraw",
            "--amount",
            "0.01",
            "--force",
            "--wait-l2",
            "0",
            "--config",
            config.to_str().unwrap(),
            "--l1-rpc-url",
            &anvil.url,
            "--l2-rpc-url",
            &wedged_url,
            "--private-key",
            &devnet.info.accounts[7].private_key.to_string(),
        ],
    )
    .await;
    assert!(
        run.ok,
        "force-withdraw with a wedged L2 failed: {}",
        run.stderr
    );
    assert_eq!(
        l1.get_transaction_count(other).await.unwrap(),
        other_nonce + 1,
        "sent on L1"
    );

    // Prove against the replica's proposal, wait out the challenge period, finalize.
    let flags = |command: &str| {
        vec![
            command.to_string(),
            l2_tx.to_string(),
            "--config".into(),
            config.to_str().unwrap().into(),
            "--l1-rpc-url".into(),
            anvil.url.clone(),
            "--l2-rpc-url".into(),
            replica.rpc_url.clone(),
            "--private-key".into(),
            user_key.clone(),
        ]
    };
    // Swapped URLs are refused before anything is sent: a deposit "to L1" would otherwise have
    // gone to the L1 bridge's address on L2, where nobody controls it.
    let nonce_before = l1.get_transaction_count(user).await.unwrap();
    let run = cli(
        &file,
        &[
            "deposit",
            "--amount",
            "0.01",
            "--config",
            config.to_str().unwrap(),
            "--l1-rpc-url",
            &replica.rpc_url,
            "--l2-rpc-url",
            &anvil.url,
            "--private-key",
            &user_key,
        ],
    )
    .await;
    assert!(!run.ok, "a deposit with swapped URLs ran: {}", run.stdout);
    assert!(
        run.stderr
            .contains("--l1-rpc-url and --l2-rpc-url look swapped"),
        "{}",
        run.stderr
    );
    assert_eq!(l1.get_transaction_count(user).await.unwrap(), nonce_before);

    let mut prove = flags("prove");
    prove.extend(["--timeout".into(), "60s".into()]);
    let run = cli(&file, &prove.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(run.ok, "prove failed\n{}", replica.log());
    l1_rpc(&l1, "evm_increaseTime", json!([61])).await;
    l1_rpc(&l1, "evm_mine", json!([])).await;
    let paid_before = l1.get_balance(recipient).await.unwrap();
    let run = cli(
        &file,
        &flags("finalize")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(run.ok, "finalize failed");
    assert_eq!(
        l1.get_balance(recipient).await.unwrap(),
        paid_before + amount,
        "exact payout"
    );
}

#[test]
fn contract_wallets_name_their_recipients_and_are_aliased_on_l2() {
    support::run(contract_wallets_name_their_recipients_and_are_aliased_on_l2_body());
}

async fn contract_wallets_name_their_recipients_and_are_aliased_on_l2_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let l1_bridge = devnet.info.contracts.l1_bridge;
    let owner = devnet.l1(7);
    let wallet = deploy_wallet(&owner).await;
    let alias = apply_l1_to_l2_alias(wallet);

    // The wallet deposits to a recipient it names: the funds arrive there.
    let recipient = Address::repeat_byte(0x61);
    let receipt = send(
        &owner,
        wallet,
        wallet_call(
            l1_bridge,
            IL1Bridge::depositToCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount: ether(1),
                gasLimit: 21_000,
                to: recipient,
            },
        ),
        ether(1),
    )
    .await;
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| IL1Bridge::DepositInitiated::decode_log_data(log.data()).ok())
        .unwrap();
    assert_eq!(
        (event.from, event.to, event.refundTo),
        (alias, recipient, wallet),
        "a contract's L2 identity is its alias"
    );
    devnet.wait_balance(recipient, ether(1)).await;
    assert_eq!(devnet.l2_balance(wallet, "latest").await, U256::ZERO);

    // A deposit with too little gas for its recipient, an L2 contract (21 000 gas leaves none
    // for its code): the call fails and the ETH stays with the depositor's L2 identity, the
    // wallet's alias. That is the documented recovery path for ETH.
    let l2_owner = l2_wallet(&devnet, 7);
    let l2_contract = deploy_wallet(&l2_owner).await;
    let half = parse_ether("0.5").unwrap();
    let receipt = send(
        &owner,
        wallet,
        wallet_call(
            l1_bridge,
            IL1Bridge::depositToCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount: half,
                gasLimit: 21_000,
                to: l2_contract,
            },
        ),
        half,
    )
    .await;
    let failed = l2_tx_of(l1_bridge, &receipt);
    devnet.wait_balance(alias, half).await;
    let l2_receipt = devnet
        .l2("eth_getTransactionReceipt", json!([failed]))
        .await;
    assert_eq!(
        number(&l2_receipt["status"]),
        0,
        "the deposit's call failed"
    );
    assert_eq!(devnet.l2_balance(l2_contract, "latest").await, U256::ZERO);

    // Without a recipient, the wallet's deposit lands at its alias too (not at its own
    // address, which on L2 may belong to someone else) ...
    let quarter = parse_ether("0.25").unwrap();
    send(
        &owner,
        wallet,
        wallet_call(
            l1_bridge,
            IL1Bridge::depositCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount: quarter,
                gasLimit: 21_000,
            },
        ),
        quarter,
    )
    .await;
    let stranded = half + quarter;
    devnet.wait_balance(alias, stranded).await;

    // ... which only the wallet controls, from L1: its forced withdrawal takes it out.
    let receipt = send(
        &owner,
        wallet,
        wallet_call(
            l1_bridge,
            IL1Bridge::withdrawToCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount: stranded,
                to: wallet,
            },
        ),
        U256::ZERO,
    )
    .await;
    let forced = l2_tx_of(l1_bridge, &receipt);
    devnet.wait_balance(alias, U256::ZERO).await;
    let l2_receipt = devnet
        .l2("eth_getTransactionReceipt", json!([forced]))
        .await;
    assert_eq!(number(&l2_receipt["status"]), 1);
    let initiated: Vec<_> =
        serde_json::from_value::<Vec<alloy_rpc_types_eth::Log>>(l2_receipt["logs"].clone())
            .unwrap()
            .iter()
            .filter(|log| log.address() == L2_BRIDGE)
            .filter_map(|log| IL2Bridge::WithdrawalInitiated::decode_log_data(log.data()).ok())
            .collect();
    assert_eq!(initiated.len(), 1);
    assert_eq!(
        (initiated[0].from, initiated[0].to, initiated[0].amount),
        (alias, wallet, stranded)
    );

    // On L2, a contract wallet withdraws to an L1 recipient it names.
    let l1_recipient = Address::repeat_byte(0x62);
    let receipt = send(
        &l2_owner,
        l2_contract,
        wallet_call(
            L2_BRIDGE,
            IL2Bridge::withdrawToCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount: half,
                to: l1_recipient,
            },
        ),
        half,
    )
    .await;
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| IL2Bridge::WithdrawalInitiated::decode_log_data(log.data()).ok())
        .unwrap();
    assert_eq!((event.from, event.to), (l2_contract, l1_recipient));

    // Both withdrawals are proven by a relayer (account 8) and paid out exactly.
    let file = dir.path().join("devnet.json");
    let l2_withdrawal = receipt.transaction_hash.to_string();
    let forced = forced.to_string();
    for tx in [&forced, &l2_withdrawal] {
        let run = cli(&file, &["prove", tx, "--account", "8", "--timeout", "40s"]).await;
        assert!(run.ok, "prove failed\n{}", devnet.log());
    }
    let l1 = devnet.l1(0);
    l1_rpc(&l1, "evm_increaseTime", json!([61])).await;
    l1_rpc(&l1, "evm_mine", json!([])).await;
    let wallet_before = l1.get_balance(wallet).await.unwrap();
    for tx in [&forced, &l2_withdrawal] {
        let run = cli(&file, &["finalize", tx, "--account", "8"]).await;
        assert!(run.ok, "finalize failed");
    }
    assert_eq!(l1.get_balance(l1_recipient).await.unwrap(), half);
    assert_eq!(
        l1.get_balance(wallet).await.unwrap(),
        wallet_before + stranded,
        "the wallet got back what was stranded at its alias"
    );
}

#[test]
fn force_include_after_a_long_silence_proves_old_l1_hashes_first() {
    support::run(force_include_after_a_long_silence_proves_old_l1_hashes_first_body());
}

/// Nobody posts or forces anything for longer than L1 remembers block hashes (EIP-2935: 8 191
/// blocks): no single call could record the missing origins any more, so `force-include` first
/// proves the old hashes backwards (`BatchInbox.proveOriginHashes`), then forces the epochs in.
async fn force_include_after_a_long_silence_proves_old_l1_hashes_first_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start_fast(&anvil.url, &dir.path().join("devnet"));
    let inbox = devnet.info.contracts.batch_inbox;
    let user_key = devnet.info.accounts[6].private_key.to_string();
    let l1 = devnet.l1(0);
    let config = devnet.datadir.join("rollup.json");
    let file = devnet.datadir.join("devnet.json");
    devnet.kill9();
    let last_origin = crate::withdrawals::view(&l1, inbox, IBatchInbox::lastOriginCall {}).await;
    let recorded =
        crate::withdrawals::view(&l1, inbox, IBatchInbox::lastRecordedOriginCall {}).await;

    // The user has only L1 and the rollup config: no L2 RPC.
    let args = [
        "force-include",
        "--config",
        config.to_str().unwrap(),
        "--l1-rpc-url",
        &anvil.url,
        "--private-key",
        &user_key,
    ];
    let force_include = || cli(&file, &args);
    l1_rpc(&l1, "anvil_mine", json!([8_700])).await;
    let run = force_include().await;
    assert!(
        run.ok,
        "force-include failed: {}\n{}",
        run.stderr, run.stdout
    );
    assert!(
        run.stdout.contains("proving the hashes of L1 blocks"),
        "{}",
        run.stdout
    );
    // One call forces up to 256 epochs, recording at most 150 new origins (transaction size);
    // the hashes it needed are proven, so it landed.
    let forced_to = crate::withdrawals::view(&l1, inbox, IBatchInbox::lastOriginCall {}).await;
    assert_eq!(forced_to, (last_origin + 256).min(recorded + 150));
    assert!(
        !crate::withdrawals::view(
            &l1,
            inbox,
            IBatchInbox::provenOriginHashCall {
                number: U256::from(forced_to)
            }
        )
        .await
        .is_zero()
    );
    // The next call needs no proof: what it ends at is proven already.
    let run = force_include().await;
    assert!(run.ok, "second force-include failed: {}", run.stderr);
    assert!(!run.stdout.contains("proving"), "{}", run.stdout);
    assert_eq!(
        crate::withdrawals::view(&l1, inbox, IBatchInbox::lastOriginCall {}).await,
        forced_to + 150
    );
}
