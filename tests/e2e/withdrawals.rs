//! End-to-end: the whole withdrawal life cycle, for ETH (driven through the `rollup-node` user
//! CLI) and for an ERC-20 (driven directly with alloy): deposit on L1 → transfer on L2 →
//! withdraw on L2 → a proposal lands → prove → finalize is refused before the challenge period →
//! L1 time advances → finalize pays exactly, totals are conserved to the wei, and a second
//! finalize reverts. Proofs against an unknown or a removed proposal revert too.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256, utils::parse_ether};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use rollup_primitives::{
    L2_BRIDGE, MIN_ERC20_DEPOSIT_GAS,
    artifacts::predict_l2_token,
    bindings::{
        IERC20, IL1Bridge, IL2Bridge, IStateManager, OutputRoot, Proposal, TrieProof, Withdrawal,
        WithdrawalProof,
    },
};
use serde_json::{Value, json};

use super::{send, wait_token_balance};
use crate::support::{self, Anvil, Devnet};

/// Generous bound for any single wait; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(45);

/// One run of the user CLI against the devnet file.
pub(crate) struct CliRun {
    pub(crate) ok: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl CliRun {
    /// The value after `label` on a line of stdout (`L2 tx: 0x…`).
    pub(crate) fn field(&self, label: &str) -> String {
        self.stdout
            .lines()
            .find_map(|line| line.strip_prefix(label).map(|rest| rest.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{}", self.stdout))
    }
}

pub(crate) async fn cli(devnet_file: &Path, args: &[&str]) -> CliRun {
    let devnet_file = devnet_file.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollup-node"));
        command.args(&args);
        // `--config` replaces the devnet file.
        if !args.iter().any(|arg| arg == "--config") {
            command.arg("--devnet").arg(&devnet_file);
        }
        let out = command
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "0")
            .env_remove("ROLLUP_L1_RPC_URL")
            .env_remove("ROLLUP_L2_RPC_URL")
            .env_remove("ROLLUP_PRIVATE_KEY")
            .env_remove("ROLLUP_ACCOUNT")
            .env_remove("ROLLUP_CLIENT_CONFIG")
            .output()
            .expect("run rollup-node");
        let run = CliRun {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!(
            "$ rollup-node {} ({:.1?}, {})\n{}{}",
            args.join(" "),
            start.elapsed(),
            if run.ok { "ok" } else { "FAILED" },
            run.stdout,
            run.stderr
        );
        run
    })
    .await
    .unwrap()
}

pub(crate) fn signer(devnet: &Devnet, index: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&devnet.info.accounts[index].private_key).unwrap()
}

/// A provider on L2 that signs with dev account `index` (the devnet node sequences).
pub(crate) fn l2_wallet(devnet: &Devnet, index: usize) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer(devnet, index)))
        .connect_http(devnet.info.l2_rpc_url.parse().unwrap())
        .erased()
}

pub(crate) async fn view<C: SolCall>(provider: &DynProvider, to: Address, call: C) -> C::Return {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(call.abi_encode());
    let out = provider
        .call(tx)
        .await
        .unwrap_or_else(|err| panic!("{} failed: {err}", C::SIGNATURE));
    C::abi_decode_returns(&out).unwrap()
}

/// The custom error an L1 call reverts with, by name (the revert data must be exactly its
/// selector: every rollup error takes no arguments).
pub(crate) async fn revert_of(l1: &DynProvider, to: Address, input: Vec<u8>) -> Bytes {
    let tx = TransactionRequest::default().with_to(to).with_input(input);
    match l1.call(tx).await {
        Ok(out) => panic!("expected a revert, the call returned {out}"),
        Err(err) => err
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data())
            .unwrap_or_else(|| panic!("revert without data: {err}")),
    }
}

pub(crate) fn selector(error: &str) -> Bytes {
    Bytes::copy_from_slice(&keccak256(format!("{error}()"))[..4])
}

pub(crate) async fn l1_rpc(l1: &DynProvider, method: &str, params: Value) -> Value {
    l1.raw_request::<_, Value>(method.to_string().into(), params)
        .await
        .unwrap_or_else(|err| panic!("L1 {method}: {err}"))
}

/// Waits for a live proposal at or after L2 block `l2_block`.
async fn covering_proposal(
    l1: &DynProvider,
    state_manager: Address,
    l2_block: u64,
    devnet: &Devnet,
) -> (u64, Proposal) {
    let start = Instant::now();
    loop {
        let tx = TransactionRequest::default()
            .with_to(state_manager)
            .with_input(IStateManager::latestProposalCall {}.abi_encode());
        if let Ok(out) = l1.call(tx).await {
            let latest = IStateManager::latestProposalCall::abi_decode_returns(&out).unwrap();
            if latest.proposal.l2BlockNumber >= l2_block {
                return (latest.index.to(), latest.proposal);
            }
        }
        assert!(
            start.elapsed() < WAIT,
            "no proposal covers L2 block {l2_block}\n{}",
            devnet.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `L1Bridge.proveWithdrawal`'s arguments from `rollup_getWithdrawalProof` at `l2_block`, and
/// the withdrawal hash. The proof's `output` is the response's `outputRoot`, whose hash the
/// response's `outputRootHash` must be.
pub(crate) async fn withdrawal_proof(
    devnet: &Devnet,
    tx: B256,
    l2_block: u64,
) -> (Withdrawal, WithdrawalProof, B256) {
    let r = devnet
        .l2(
            "rollup_getWithdrawalProof",
            json!([tx, format!("{l2_block:#x}")]),
        )
        .await;
    let b256 = |v: &Value| v.as_str().unwrap().parse::<B256>().unwrap();
    let u256 = |v: &Value| v.as_str().unwrap().parse::<U256>().unwrap();
    let address = |v: &Value| v.as_str().unwrap().parse::<Address>().unwrap();
    let w = &r["withdrawal"];
    let withdrawal = Withdrawal {
        nonce: u256(&w["nonce"]),
        from: address(&w["from"]),
        to: address(&w["to"]),
        l1Token: address(&w["l1Token"]),
        l2Token: address(&w["l2Token"]),
        amount: u256(&w["amount"]),
    };
    let terminal = &r["proof"]["terminal"];
    let o = &r["outputRoot"];
    assert!(o.is_object(), "no output root at L2 block {l2_block}: {r}");
    let output = OutputRoot {
        version: u256(&o["version"]),
        l2BlockNumber: u256(&o["l2BlockNumber"]),
        stateRoot: b256(&o["stateRoot"]),
        l2BlockHash: b256(&o["l2BlockHash"]),
        inboxRecord: u256(&o["inboxRecord"]),
        blockInRecord: u256(&o["blockInRecord"]),
        l1Block: u256(&o["l1Block"]),
    };
    assert_eq!(output.l2BlockNumber, U256::from(l2_block));
    assert_eq!(
        output.stateRoot,
        b256(&r["stateRoot"]),
        "the proof is against the output's state root"
    );
    assert_eq!(keccak256(output.abi_encode()), b256(&r["outputRootHash"]));
    let proof = WithdrawalProof {
        output,
        slot: u256(&r["slot"]),
        trieProof: TrieProof {
            siblings: r["proof"]["siblings"]
                .as_array()
                .unwrap()
                .iter()
                .map(b256)
                .collect(),
            terminalKey: if terminal.is_null() {
                B256::ZERO
            } else {
                b256(&terminal["key"])
            },
            terminalValueHash: if terminal.is_null() {
                B256::ZERO
            } else {
                b256(&terminal["valueHash"])
            },
            lastSibling: r["proof"]["lastSibling"]
                .as_str()
                .map(|s| s.parse::<Bytes>().unwrap())
                .unwrap_or_default(),
        },
    };
    (withdrawal, proof, b256(&r["withdrawalHash"]))
}

/// The ETH the bridge holds locked (`deposits(address(0))`).
async fn locked_eth(l1: &DynProvider, l1_bridge: Address) -> U256 {
    view(
        l1,
        l1_bridge,
        IL1Bridge::depositsCall {
            l1Token: Address::ZERO,
        },
    )
    .await
}

async fn l1_eth(l1: &DynProvider, who: Address) -> U256 {
    l1.get_balance(who).await.unwrap()
}

fn address_of(devnet_json: &Value, key: &str) -> Address {
    devnet_json["contracts"][key]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn eth_and_erc20_withdrawals_full_cycle() {
    support::run(eth_and_erc20_withdrawals_full_cycle_body());
}

async fn eth_and_erc20_withdrawals_full_cycle_body() {
    let started = Instant::now();
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let file: PathBuf = dir.path().join("devnet.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let state_manager = address_of(&json, "stateManager");
    let l1_bridge = devnet.info.contracts.l1_bridge;
    let dev_token = devnet.info.contracts.dev_token;
    let l2_token = predict_l2_token(dev_token);
    let accounts: Vec<Address> = devnet.info.accounts.iter().map(|a| a.address).collect();
    let l1 = devnet.l1(0);
    eprintln!("devnet up after {:.1?}", started.elapsed());

    // The L2 genesis' ETH (every dev account's 1 000) is locked in the bridge from the start,
    // so L1 backs every L2 wei before anyone deposits.
    let genesis_eth = parse_ether("1000").unwrap() * U256::from(accounts.len());
    assert_eq!(
        view(&l1, l1_bridge, IL1Bridge::genesisEthCall {}).await,
        genesis_eth
    );
    assert!(view(&l1, l1_bridge, IL1Bridge::genesisEthLockedCall {}).await);
    assert_eq!(locked_eth(&l1, l1_bridge).await, genesis_eth);
    assert_eq!(l1_eth(&l1, l1_bridge).await, genesis_eth);

    // ---- ETH, through the CLI: account 3 deposits, transfers on L2, withdraws; account 7
    // (a relayer) proves and finalizes, so account 3's L1 balance moves by exactly the payout.
    let (eth_user, eth_relayer) = (accounts[3], "7");
    // More than the account holds: said in ETH, before anything is sent.
    for (command, layer) in [("deposit", "L1"), ("withdraw", "L2")] {
        let run = cli(&file, &[command, "--amount", "1000000", "--account", "3"]).await;
        assert!(
            !run.ok
                && run
                    .stderr
                    .contains(&format!("on {layer}, not more than the 1000000 ETH")),
            "{command}: {}",
            run.stderr
        );
    }
    let l2_before = devnet.l2_balance(eth_user, "latest").await;
    let run = cli(&file, &["deposit", "--amount", "2", "--account", "3"]).await;
    assert!(run.ok, "deposit failed");
    devnet
        .wait_balance(eth_user, l2_before + parse_ether("2").unwrap())
        .await;
    // A transfer on L2 (a transaction the withdrawal's proof has to see past).
    let transfer = parse_ether("0.25").unwrap();
    let friend_before = devnet.l2_balance(accounts[6], "latest").await;
    send(&l2_wallet(&devnet, 3), accounts[6], vec![], transfer).await;
    assert_eq!(
        devnet.l2_balance(accounts[6], "latest").await,
        friend_before + transfer
    );

    let eth_amount = parse_ether("1.5").unwrap();
    let l2_bridge_before = devnet.l2_balance(L2_BRIDGE, "latest").await;
    let run = cli(&file, &["withdraw", "--amount", "1.5", "--account", "3"]).await;
    assert!(run.ok, "withdraw failed");
    let eth_tx = run.field("L2 tx:");
    let eth_hash: B256 = run.field("withdrawal hash:").parse().unwrap();
    // The withdrawn ETH is locked in the L2 bridge for good.
    assert_eq!(
        devnet.l2_balance(L2_BRIDGE, "latest").await,
        l2_bridge_before + eth_amount
    );

    // An ETH withdrawal to an L1 recipient that rejects ETH (DevToken has no `receive`) is
    // refused before anything is sent: L1 could never pay it. Sent anyway (here with alloy),
    // `withdrawal-status` reports it not payable at its final time instead of "finalize now".
    let l2_bridge_before = devnet.l2_balance(L2_BRIDGE, "latest").await;
    let to_rejecter = [
        "withdraw",
        "--amount",
        "0.1",
        "--to",
        &dev_token.to_string(),
        "--account",
        "3",
    ];
    let run = cli(&file, &to_rejecter).await;
    assert!(
        !run.ok && run.stderr.contains("rejects ETH") && run.stderr.contains("nothing was sent"),
        "{}",
        run.stderr
    );
    assert_eq!(
        devnet.l2_balance(L2_BRIDGE, "latest").await,
        l2_bridge_before
    );
    let rejected_amount = parse_ether("0.1").unwrap();
    let rejected_tx = send(
        &l2_wallet(&devnet, 3),
        L2_BRIDGE,
        IL2Bridge::withdrawToCall {
            l1Token: Address::ZERO,
            l2Token: Address::ZERO,
            amount: rejected_amount,
            to: dev_token,
        }
        .abi_encode(),
        rejected_amount,
    )
    .await
    .transaction_hash
    .to_string();

    let run = cli(&file, &["withdrawal-status", &eth_tx]).await;
    assert!(run.ok, "status failed");
    assert!(run.stdout.contains("proven: no"), "{}", run.stdout);

    // The same from the rollup config, as against a deployment without a devnet file: contract
    // addresses from `rollup.json`, URLs and key from flags.
    let rollup_json = dir.path().join("rollup.json");
    let str_field = |value: &Value| value.as_str().unwrap().to_string();
    let (l1_url, l2_url) = (str_field(&json["l1RpcUrl"]), str_field(&json["l2RpcUrl"]));
    let key = str_field(&json["accounts"][3]["privateKey"]);
    let run = cli(
        &file,
        &[
            "withdrawal-status",
            &eth_tx,
            "--config",
            rollup_json.to_str().unwrap(),
            "--l1-rpc-url",
            &l1_url,
            "--l2-rpc-url",
            &l2_url,
            "--private-key",
            &key,
        ],
    )
    .await;
    assert!(run.ok, "status from --config failed\n{}", run.stderr);
    assert!(run.stdout.contains("proven: no"), "{}", run.stdout);
    let run = cli(
        &file,
        &[
            "withdrawal-status",
            &eth_tx,
            "--config",
            rollup_json.to_str().unwrap(),
            "--l1-rpc-url",
            &l1_url,
        ],
    )
    .await;
    assert!(!run.ok, "no --l2-rpc-url accepted");
    assert!(run.stderr.contains("--l2-rpc-url"), "{}", run.stderr);

    let run = cli(
        &file,
        &[
            "prove",
            &eth_tx,
            "--account",
            eth_relayer,
            "--timeout",
            "40s",
        ],
    )
    .await;
    assert!(run.ok, "prove failed\n{}", devnet.log());
    assert!(
        run.stdout.contains("proven against proposal #"),
        "{}",
        run.stdout
    );
    let proven = view(
        &l1,
        l1_bridge,
        IL1Bridge::provenWithdrawalsCall {
            withdrawalId: eth_hash,
            prover: accounts[7],
        },
    )
    .await;
    assert_eq!(proven.recipient, eth_user);
    assert_eq!(proven.amount, eth_amount);
    let eth_proposal: u64 = proven.proposalIndex.to();
    let run = cli(
        &file,
        &[
            "prove",
            &rejected_tx,
            "--account",
            eth_relayer,
            "--timeout",
            "40s",
        ],
    )
    .await;
    assert!(
        run.ok,
        "prove of the rejected withdrawal failed\n{}",
        run.stderr
    );
    // Proving twice against a live proposal is a no-op for the CLI.
    let run = cli(&file, &["prove", &eth_tx, "--account", eth_relayer]).await;
    assert!(
        run.ok && run.stdout.contains("already proven"),
        "{}",
        run.stdout
    );
    // So is `--again` while no better proposal than the proof's own has come: no transaction.
    let run = cli(
        &file,
        &["prove", &eth_tx, "--account", eth_relayer, "--again"],
    )
    .await;
    assert!(
        run.ok
            && run.stdout.contains("nothing to do")
            && !run.stdout.contains("proven against proposal #"),
        "{}",
        run.stdout
    );

    // Too early: the CLI names the contract's error.
    let run = cli(&file, &["finalize", &eth_tx, "--account", eth_relayer]).await;
    assert!(!run.ok, "finalize before the challenge period succeeded");
    assert!(
        run.stderr.contains("L1Bridge_ProposalNotFinal"),
        "{}",
        run.stderr
    );
    // Proofs are per prover: the relayer's proof is its own, and another account sees it
    // listed (usable with `finalize --prover`), not as its own.
    let run = cli(
        &file,
        &["withdrawal-status", &eth_tx, "--account", eth_relayer],
    )
    .await;
    assert!(
        run.stdout.contains("proven: yes") && run.stdout.contains("final at:"),
        "{}",
        run.stdout
    );
    let run = cli(&file, &["withdrawal-status", &eth_tx]).await;
    assert!(
        run.stdout.contains("proven: no") && run.stdout.contains("--prover"),
        "{}",
        run.stdout
    );

    // ---- ERC-20, through alloy: account 4 deposits 100 DEV, sends 40 to account 5 on L2,
    // account 5 withdraws them; account 8 proves and finalizes.
    let depositor = devnet.l1(4);
    let deposit_amount = parse_ether("100").unwrap();
    send(
        &depositor,
        dev_token,
        IERC20::approveCall {
            spender: l1_bridge,
            amount: deposit_amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let call = IL1Bridge::depositCall {
        l1Token: dev_token,
        l2Token: l2_token,
        amount: deposit_amount,
        gasLimit: MIN_ERC20_DEPOSIT_GAS as u32,
    };
    send(&depositor, l1_bridge, call.abi_encode(), U256::ZERO).await;
    wait_token_balance(&devnet, l2_token, accounts[4], deposit_amount).await;
    let token_amount = parse_ether("40").unwrap();
    send(
        &l2_wallet(&devnet, 4),
        l2_token,
        IERC20::transferCall {
            to: accounts[5],
            amount: token_amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let l2_reader = l2_wallet(&devnet, 5);
    assert_eq!(
        view(
            &l2_reader,
            l2_token,
            IERC20::balanceOfCall { owner: accounts[5] }
        )
        .await,
        token_amount
    );
    let supply_before = view(&l2_reader, l2_token, IERC20::totalSupplyCall {}).await;
    let receipt = send(
        &l2_reader,
        L2_BRIDGE,
        IL2Bridge::withdrawCall {
            l1Token: dev_token,
            l2Token: l2_token,
            amount: token_amount,
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let token_tx = receipt.transaction_hash;
    let token_block = receipt.block_number.unwrap();
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| IL2Bridge::WithdrawalInitiated::decode_log_data(log.data()).ok())
        .expect("WithdrawalInitiated");
    assert_eq!(
        (event.from, event.to, event.amount),
        (accounts[5], accounts[5], token_amount)
    );
    // Burned on L2.
    assert_eq!(
        view(&l2_reader, l2_token, IERC20::totalSupplyCall {}).await,
        supply_before - token_amount
    );
    assert_eq!(
        view(
            &l2_reader,
            l2_token,
            IERC20::balanceOfCall { owner: accounts[5] }
        )
        .await,
        U256::ZERO
    );

    let (token_proposal, proposal) =
        covering_proposal(&l1, state_manager, token_block, &devnet).await;
    let (withdrawal, proof, token_hash) =
        withdrawal_proof(&devnet, token_tx, proposal.l2BlockNumber).await;
    assert_eq!(token_hash, event.withdrawalHash);
    assert_eq!(
        keccak256(proof.output.abi_encode()),
        proposal.stateRoot,
        "the proof's output root is the proposal's root"
    );
    assert_eq!(
        (proof.output.l2BlockNumber, proof.output.l2BlockHash),
        (U256::from(proposal.l2BlockNumber), proposal.l2BlockHash)
    );
    assert_ne!(
        proof.output.stateRoot, proposal.stateRoot,
        "the root is not the bare state root"
    );
    let relayer = devnet.l1(8);
    // A proposal index that does not exist.
    let count: u64 = view(&l1, state_manager, IStateManager::proposalCountCall {})
        .await
        .to();
    let bad = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(count + 100),
        withdrawal: withdrawal.clone(),
        proof: proof.clone(),
    };
    assert_eq!(
        revert_of(&relayer, l1_bridge, bad.abi_encode()).await,
        selector("L1Bridge_UnknownProposal")
    );
    // The output root preimage must be version 1, of the proposal's block, and hash to its root.
    let tampered = |change: &dyn Fn(&mut OutputRoot)| {
        let mut proof = proof.clone();
        change(&mut proof.output);
        IL1Bridge::proveWithdrawalCall {
            proposalIndex: U256::from(token_proposal),
            withdrawal: withdrawal.clone(),
            proof,
        }
        .abi_encode()
    };
    for (change, error) in [
        (
            tampered(&|o| o.version = U256::from(2)),
            "L1Bridge_UnknownOutputRootVersion",
        ),
        (
            tampered(&|o| o.l2BlockNumber += U256::from(1)),
            "L1Bridge_L2BlockMismatch",
        ),
        (
            tampered(&|o| o.l2BlockHash = B256::repeat_byte(1)),
            "L1Bridge_L2BlockHashMismatch",
        ),
        (
            tampered(&|o| o.inboxRecord += U256::from(1)),
            "L1Bridge_OutputRootMismatch",
        ),
    ] {
        assert_eq!(
            revert_of(&relayer, l1_bridge, change).await,
            selector(error),
            "{error}"
        );
    }
    let prove = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(token_proposal),
        withdrawal: withdrawal.clone(),
        proof: proof.clone(),
    };
    send(&relayer, l1_bridge, prove.abi_encode(), U256::ZERO).await;
    let finalize_token = IL1Bridge::finalizeWithdrawalCall {
        withdrawalId: token_hash.into(),
        recipient: accounts[5],
        amount: token_amount,
    };
    assert_eq!(
        revert_of(&relayer, l1_bridge, finalize_token.abi_encode()).await,
        selector("L1Bridge_ProposalNotFinal")
    );

    // ---- A removed proposal: the devnet's dispute game (account 9) removes the latest
    // proposal (a newer one than both proofs used); proving against it reverts.
    let newest = loop {
        let count: u64 = view(&l1, state_manager, IStateManager::proposalCountCall {})
            .await
            .to();
        if count > token_proposal.max(eth_proposal) + 1 {
            break count - 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let game = devnet.l1(9);
    send(
        &game,
        state_manager,
        IStateManager::removeProposalCall {
            index: U256::from(newest),
            bondRecipient: accounts[9],
        }
        .abi_encode(),
        U256::ZERO,
    )
    .await;
    let removed = view(
        &l1,
        state_manager,
        IStateManager::proposalsCall {
            index: U256::from(newest),
        },
    )
    .await;
    assert!(removed.removed);
    // The proposer, whose root it was and true, says so: no game shows a removal by the guardian.
    let waited = Instant::now();
    let fields = format!("index={newest} l2_block={}", removed.l2BlockNumber);
    while !devnet.log().lines().any(|line| {
        line.contains("a proposal of this account whose root this node agrees with was REMOVED")
            && line.contains(&fields)
    }) {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no warning for the removed proposal #{newest}\n{}",
            devnet.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (w2, p2, _) = withdrawal_proof(&devnet, token_tx, removed.l2BlockNumber).await;
    let against_removed = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(newest),
        withdrawal: w2,
        proof: p2,
    };
    assert_eq!(
        revert_of(&relayer, l1_bridge, against_removed.abi_encode()).await,
        selector("L1Bridge_ProposalRemoved")
    );

    // ---- The challenge period passes on L1, while `finalize --wait` waits for it.
    let period: u64 = view(&l1, state_manager, IStateManager::challengePeriodCall {})
        .await
        .to();
    assert_eq!(period, 60, "devnet challenge period");
    let user_l1_before = l1_eth(&l1, eth_user).await;
    let bridge_eth_before = l1_eth(&l1, l1_bridge).await;
    let locked_eth_before = locked_eth(&l1, l1_bridge).await;
    let waiting = {
        let file = file.clone();
        let eth_tx = eth_tx.clone();
        tokio::spawn(async move {
            cli(
                &file,
                &[
                    "finalize",
                    &eth_tx,
                    "--wait",
                    "--timeout",
                    "30s",
                    "--account",
                    eth_relayer,
                ],
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !waiting.is_finished(),
        "finalize --wait returned before the challenge period passed"
    );
    l1_rpc(&l1, "evm_increaseTime", json!([period + 1])).await;
    l1_rpc(&l1, "evm_mine", json!([])).await;
    for index in [eth_proposal, token_proposal] {
        assert!(
            view(
                &l1,
                state_manager,
                IStateManager::isFinalCall {
                    index: U256::from(index)
                }
            )
            .await
        );
    }

    // Final, but not payable: said, with the contract's reason, instead of "finalize now".
    let run = cli(
        &file,
        &["withdrawal-status", &rejected_tx, "--account", eth_relayer],
    )
    .await;
    assert!(
        run.stdout
            .contains("finalized: no — final, but finalizing now would fail")
            && run.stdout.contains("ETHTransferFailed"),
        "{}",
        run.stdout
    );

    // ETH: the waiting CLI finalizes as soon as the proposal is final.
    let run = waiting.await.unwrap();
    assert!(run.ok, "finalize --wait failed");
    assert!(
        run.stdout.contains(&format!(
            "waiting for proposal #{eth_proposal} to become final"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        l1_eth(&l1, eth_user).await,
        user_l1_before + eth_amount,
        "exact payout"
    );
    assert_eq!(
        l1_eth(&l1, l1_bridge).await,
        bridge_eth_before - eth_amount,
        "bridge ETH conserved"
    );
    assert_eq!(
        locked_eth(&l1, l1_bridge).await,
        locked_eth_before - eth_amount
    );
    assert!(
        view(
            &l1,
            l1_bridge,
            IL1Bridge::finalizedWithdrawalsCall {
                withdrawalId: eth_hash
            }
        )
        .await
    );
    // Running it again is not an error, as with `prove`: there is nothing left to do.
    let run = cli(&file, &["finalize", &eth_tx, "--account", eth_relayer]).await;
    assert!(
        run.ok && run.stdout.contains("already finalized: nothing to do"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let run = cli(&file, &["withdrawal-status", &eth_tx]).await;
    assert!(run.stdout.contains("finalized: yes"), "{}", run.stdout);

    // Past the final time, the prover is told to finalize now, and any other account is
    // pointed at that proof before a proof of its own.
    let token_status = |account: Option<&'static str>| {
        let mut args = vec!["withdrawal-status".to_string(), token_tx.to_string()];
        if let Some(account) = account {
            args.extend(["--account".to_string(), account.to_string()]);
        }
        let file = file.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli(&file, &args).await
        }
    };
    let run = token_status(Some("8")).await;
    assert!(
        run.stdout.contains("proven: yes")
            && run.stdout.contains("(passed;")
            && run.stdout.lines().any(|line| line.starts_with(&format!(
                "finalized: no — run `rollup-node finalize {token_tx} --account 8"
            )) && line.ends_with("` now")),
        "{}",
        run.stdout
    );
    let run = token_status(None).await;
    assert!(
        run.stdout.contains(&format!(
            "proven: no, not by this account ({}) — `rollup-node finalize {token_tx} --prover <account> --devnet",
            accounts[0]
        )),
        "{}",
        run.stdout
    );

    // ERC-20: finalize directly.
    let recipient_before = view(&l1, dev_token, IERC20::balanceOfCall { owner: accounts[5] }).await;
    let bridge_tokens_before =
        view(&l1, dev_token, IERC20::balanceOfCall { owner: l1_bridge }).await;
    let bridge_eth_before = l1_eth(&l1, l1_bridge).await;
    send(&relayer, l1_bridge, finalize_token.abi_encode(), U256::ZERO).await;
    assert_eq!(
        view(&l1, dev_token, IERC20::balanceOfCall { owner: accounts[5] }).await,
        recipient_before + token_amount
    );
    assert_eq!(
        view(&l1, dev_token, IERC20::balanceOfCall { owner: l1_bridge }).await,
        bridge_tokens_before - token_amount
    );
    assert_eq!(
        l1_eth(&l1, l1_bridge).await,
        bridge_eth_before,
        "no ETH moves for a token payout"
    );
    // L1 tokens locked == L2 supply: 100 deposited, 40 withdrawn.
    assert_eq!(
        view(
            &l1,
            l1_bridge,
            IL1Bridge::depositsCall { l1Token: dev_token }
        )
        .await,
        deposit_amount - token_amount
    );
    assert_eq!(
        view(&l2_reader, l2_token, IERC20::totalSupplyCall {}).await,
        deposit_amount - token_amount
    );
    assert_eq!(
        revert_of(&relayer, l1_bridge, finalize_token.abi_encode()).await,
        selector("L1Bridge_WithdrawalAlreadyFinalized")
    );
    // Proving a paid-out withdrawal again is refused too.
    let again = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(token_proposal),
        withdrawal,
        proof,
    };
    assert_eq!(
        revert_of(&relayer, l1_bridge, again.abi_encode()).await,
        selector("L1Bridge_WithdrawalAlreadyFinalized")
    );
    eprintln!("withdrawal cycle done after {:.1?}", started.elapsed());
    let log = devnet.log();
    let problems: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    eprintln!(
        "node log: {} warning/error lines\n{}",
        problems.len(),
        problems.join("\n")
    );
}
