//! End-to-end: the fraud proof on the devnet, whose challenger role (dev account 10) and
//! proposer role (dev account 2, allowlisted) play the L1 `DisputeGame` on their own.
//!
//! - A false root proposed by any funded account (`rollup-node propose --state-root`, the
//!   devnet allows permissionless proposals) is challenged by the devnet's challenger and
//!   loses on its clock; its bond goes to the challenger; a withdrawal proven against it can
//!   never finalize; the honest proposal of the same block finalizes.
//! - A challenger that challenges an honest proposal (`challenge --force`) and then stops
//!   answering loses on its clock; its bond goes to the proposer.
//! - A challenger that answers with false picks drives the game to the padding step after the
//!   block's seal, where the proposer's one-step proof wins it.
//! - Both roles survive kill -9 mid-game: the node is restarted once during the first game
//!   (its challenger resolves it and claims the bonds) and once during the last (its defender
//!   bisects on to the step).
//!
//! On a second devnet, posting its batches in calldata, a challenger steers games on honest
//! proposals with false picks to the step of an input of its choice; the proposer's defender
//! proves that step on L1 and wins, with no `UnprovableStep` (the outcome is a proof, not the
//! proposer's allowlisting):
//! - the step of an L2 ETH transfer, proven with `STEP_TRANSACTION` once the defender opened
//!   the block's segments in the `SegmentStore`;
//! - the step of an ETH deposit from L1, proven with `STEP_DEPOSIT`;
//! - the preamble of that deposit's block (position 0), proven with `STEP_PREAMBLE` from the
//!   parent header, the inbox record's block table and the L1 origin's header;
//! - that block's seal, proven with `STEP_SEAL` from its transactions and receipts.
//!
//! On a devnet posting in blobs (the default), the same steering to an L2 ETH transfer ends in
//! the defender's `STEP_TRANSACTION` proof once it proved the block's blob segments on L1 by
//! point evaluation (`SegmentStore.loadBlob`) and opened them (`openBlob`).
//!
//! On a third devnet, also posting in calldata, permissionless liars propose false roots and
//! play their games themselves, never stepping: they bisect with the node's own claims
//! (`rollup_getTraceClaim`) up to a position of their choice and with false ones after it, so the
//! first wrong step is that position's. The devnet's challenger proves that step on L1 and wins
//! there, not on the liar's clock and with no `UnprovableStep`: an L2 ETH transfer
//! (`STEP_TRANSACTION`), an ETH deposit (`STEP_DEPOSIT`), the preamble (`STEP_PREAMBLE`) and the
//! seal (`STEP_SEAL`).

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_provider::{DynProvider, Provider};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use rollup_primitives::bindings::{
    Game, IBatchInbox, IDisputeGame, IL1Bridge, ISegmentStore, IStateManager, Proposal,
};
use serde_json::{Value, json};

use crate::{
    support::{self, Anvil, Devnet},
    withdrawals::{cli, l1_rpc, l2_wallet, revert_of, selector, signer, view, withdrawal_proof},
};

/// Bound for any single wait; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(90);

/// `DisputeGame.Status`.
const PROPOSER_WON: u8 = 2;
const CHALLENGER_WON: u8 = 3;

/// `OneStepVerifier.STEP_PREAMBLE`: the step that fixes a block's context.
const STEP_PREAMBLE: u8 = 2;

/// `OneStepVerifier.STEP_DEPOSIT`: the step of an ETH deposit.
const STEP_DEPOSIT: u8 = 4;
/// `OneStepVerifier.STEP_TRANSACTION`: the step of a batch transaction.
const STEP_TRANSACTION: u8 = 5;
/// `OneStepVerifier.STEP_SEAL`: the step from a block's last trace state to its output root.
const STEP_SEAL: u8 = 6;

/// What the tests need from `devnet.json`.
struct Setup {
    file: PathBuf,
    state_manager: Address,
    dispute_game: Address,
    l1_bridge: Address,
    batch_inbox: Address,
    segment_store: Address,
    proposer: Address,
    challenger: Address,
}

fn setup(devnet: &Devnet, dir: &Path) -> Setup {
    let file = dir.join("devnet.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let address = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("devnet.json lacks an address: {json}"))
            .parse::<Address>()
            .unwrap()
    };
    Setup {
        state_manager: devnet.info.contracts.state_manager,
        dispute_game: address(&json["contracts"]["disputeGame"]),
        l1_bridge: devnet.info.contracts.l1_bridge,
        batch_inbox: address(&json["contracts"]["batchInbox"]),
        segment_store: address(&json["contracts"]["segmentStore"]),
        proposer: address(&json["roles"]["proposer"]["address"]),
        challenger: address(&json["roles"]["challenger"]["address"]),
        file,
    }
}

/// Polls `check` every 200 ms until it returns `Some`, for at most [`WAIT`].
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    devnet: &Devnet,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}\n{}",
            devnet.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Moves L1 time forward by `seconds` and mines a block.
async fn advance(l1: &DynProvider, seconds: u64) {
    l1_rpc(l1, "evm_increaseTime", json!([seconds])).await;
    l1_rpc(l1, "evm_mine", json!([])).await;
}

async fn proposal(l1: &DynProvider, s: &Setup, index: u64) -> Proposal {
    view(
        l1,
        s.state_manager,
        IStateManager::proposalsCall {
            index: U256::from(index),
        },
    )
    .await
}

/// The index of the newest proposal `matches` picks, waited for (see [`until`]).
async fn newest_proposal(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    what: &str,
    matches: impl Fn(&Proposal) -> bool,
) -> u64 {
    until(devnet, what, || async {
        let count: u64 = view(l1, s.state_manager, IStateManager::proposalCountCall {})
            .await
            .to();
        for index in (0..count).rev() {
            if matches(&proposal(l1, s, index).await) {
                return Some(index);
            }
        }
        None
    })
    .await
}

async fn is_final(l1: &DynProvider, s: &Setup, index: u64) -> bool {
    view(
        l1,
        s.state_manager,
        IStateManager::isFinalCall {
            index: U256::from(index),
        },
    )
    .await
}

async fn game(l1: &DynProvider, s: &Setup, id: u64) -> Game {
    view(
        l1,
        s.dispute_game,
        IDisputeGame::gamesCall { id: U256::from(id) },
    )
    .await
}

/// The newest game on `proposal` opened by `challenger`.
async fn game_on(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    proposal: u64,
    challenger: Address,
) -> u64 {
    until(
        devnet,
        &format!("a game on proposal {proposal}"),
        || async {
            let count: u64 = view(l1, s.dispute_game, IDisputeGame::gameCountCall {})
                .await
                .to();
            // The newest: a proposal may be challenged again after a game on it ended.
            for id in (0..count).rev() {
                let g = game(l1, s, id).await;
                if g.proposal == proposal && g.challenger == challenger {
                    return Some(id);
                }
            }
            None
        },
    )
    .await
}

/// The first live honest proposal (by the devnet's proposer) of an L2 block at or after
/// `l2_block`, still inside its challenge period.
async fn honest_proposal(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    l2_block: u64,
) -> (u64, Proposal) {
    until(
        devnet,
        &format!("a proposal of L2 block {l2_block} or later"),
        || async {
            let count: u64 = view(l1, s.state_manager, IStateManager::proposalCountCall {})
                .await
                .to();
            let period: u64 = view(l1, s.state_manager, IStateManager::challengePeriodCall {})
                .await
                .to();
            let now = l1
                .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
                .await
                .unwrap()
                .unwrap()
                .header
                .timestamp;
            for index in (0..count).rev() {
                let p = proposal(l1, s, index).await;
                // Half the period left, so a challenge sent now is still in time.
                let open = p.timestamp + period / 2 > now;
                if p.proposer == s.proposer && !p.removed && p.l2BlockNumber >= l2_block && open {
                    return Some((index, p));
                }
            }
            None
        },
    )
    .await
}

/// Sends `input` from `from` after simulating it: a call that would revert panics with its
/// revert data and what the test was doing, instead of a bare failed receipt.
async fn checked_send(
    l1: &DynProvider,
    from: Address,
    to: Address,
    input: Vec<u8>,
    value: U256,
    what: &str,
) -> Result<alloy_rpc_types_eth::TransactionReceipt, String> {
    let tx = alloy_rpc_types_eth::TransactionRequest::default()
        .from(from)
        .to(to)
        .input(input.clone().into())
        .value(value);
    if let Err(err) = l1.call(tx.clone()).await {
        let data = err
            .as_error_resp()
            .and_then(|payload| payload.as_revert_data());
        return Err(format!("{what} would revert: {err} (data {data:?})"));
    }
    // A move's gas depends on the L1 time it is mined at (the clock extension writes one more
    // slot), so it gets the margin the node's own sender gives every transaction.
    let gas = l1
        .estimate_gas(tx.clone())
        .await
        .map_err(|err| format!("{what}: estimating gas failed: {err}"))?;
    let tx = tx.gas_limit(gas + gas / 5);
    let receipt = l1
        .send_transaction(tx.clone())
        .await
        .map_err(|err| format!("{what}: sending failed: {err}"))?
        .get_receipt()
        .await
        .map_err(|err| format!("{what}: no receipt: {err}"))?;
    if receipt.status() {
        return Ok(receipt);
    }
    // It passed the simulation and reverted once mined: replay it on the state it ran on.
    let block = receipt.block_number.unwrap_or_default();
    let replay = l1
        .call(tx)
        .block(alloy_rpc_types_eth::BlockId::number(
            block.saturating_sub(1),
        ))
        .await;
    Err(format!(
        "{what} reverted in L1 block {block} after passing the simulation (gas used {} of {}); replayed on its parent: {replay:?}",
        receipt.gas_used,
        gas + gas / 5
    ))
}

/// How a [`Picker`] picks.
#[derive(Debug, Clone, Copy)]
enum Picks {
    /// Agrees with every claim: the game ends at the last padding step.
    AgreeAll,
    /// Agrees exactly when that keeps the step at trace `position` of L2 block `block` inside
    /// the disputed range (level 0: `lo < block <= hi`; level 1: `lo <= position < hi`), so the
    /// game ends at that step whatever the claims are.
    Steer { block: u64, position: u64 },
}

impl Picks {
    fn agree(self, g: &Game) -> bool {
        let mid = g.lo + (g.hi - g.lo) / 2;
        match self {
            Self::AgreeAll => true,
            Self::Steer { block, .. } if g.level == 0 => mid < block,
            Self::Steer { position, .. } => mid <= position,
        }
    }
}

/// Sends move `input` in game `id` from `mover` (its provider and address). A move that fails
/// is fine only if the game ended between reading it and moving; anything else is a bug.
async fn send_move(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    mover: (&DynProvider, Address),
    id: u64,
    input: Vec<u8>,
    what: &str,
) {
    let (signer, from) = mover;
    if let Err(err) = checked_send(signer, from, s.dispute_game, input, U256::ZERO, what).await {
        let now = game(l1, s, id).await;
        assert_ne!(now.status, 1, "{err}\n{}", devnet.log());
    }
}

/// A challenger that picks in game `id` by `picks`.
struct Picker<'a> {
    l1: &'a DynProvider,
    s: &'a Setup,
    signer: &'a DynProvider,
    from: Address,
    id: u64,
    picks: Picks,
}

impl Picker<'_> {
    /// Picks whenever it is the challenger's turn, until the game is over or `stop` holds;
    /// returns the game then.
    async fn play(&self, devnet: &Devnet, stop: impl Fn(&Game) -> bool) -> Game {
        let id = self.id;
        until(devnet, &format!("game {id} to end"), || async {
            let g = game(self.l1, self.s, id).await;
            if g.status != 1 || stop(&g) {
                return Some(g);
            }
            if !g.proposerToMove {
                let pick = IDisputeGame::pickCall {
                    id: U256::from(id),
                    l2Block: g.l2Block,
                    position: g.lo + (g.hi - g.lo) / 2,
                    midClaim: g.midClaim,
                    agree: self.picks.agree(&g),
                };
                let what = format!("picking in game {id} ({g:?})");
                let mover = (self.signer, self.from);
                send_move(devnet, self.l1, self.s, mover, id, pick.abi_encode(), &what).await;
            }
            None
        })
        .await
    }
}

/// Waits until game `id` is resolved; returns its status. `staller_is_proposer` names the
/// side that never moves: L1 time is pushed forward only while that side is to move, so the
/// honest side's clock runs at the pace of real time and its agent answers in time.
async fn resolved(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    id: u64,
    staller_is_proposer: bool,
) -> u8 {
    until(devnet, &format!("game {id} to resolve"), || async {
        let g = game(l1, s, id).await;
        if g.status != 1 {
            return Some(g.status);
        }
        if g.proposerToMove == staller_is_proposer {
            advance(l1, 5).await;
        }
        None
    })
    .await
}

#[test]
fn disputes_on_the_devnet() {
    support::run(disputes_on_the_devnet_body());
}

async fn disputes_on_the_devnet_body() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let s = setup(&devnet, dir.path());
    let l1 = devnet.l1(0);
    let accounts: Vec<Address> = devnet.info.accounts.iter().map(|a| a.address).collect();

    // ---- A withdrawal on L2 (account 3), and the honest proposal that covers it.
    let run = cli(&s.file, &["withdraw", "--amount", "1", "--account", "3"]).await;
    assert!(run.ok, "withdraw failed");
    let withdraw_tx: B256 = run.field("L2 tx:").parse().unwrap();
    let receipt = devnet
        .l2("eth_getTransactionReceipt", json!([withdraw_tx]))
        .await;
    let withdraw_block = u64::from_str_radix(
        receipt["blockNumber"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let (honest_index, honest) = honest_proposal(&devnet, &l1, &s, withdraw_block).await;
    let block = honest.l2BlockNumber;

    // ---- A false root for the same block from account 5: the honest output with a wrong
    // derivation cursor, so its state root (and a withdrawal proof against it) is real.
    let (withdrawal, mut proof, withdrawal_hash) =
        withdrawal_proof(&devnet, withdraw_tx, block).await;
    proof.output.l1Block += U256::from(1);
    let false_root = keccak256(proof.output.abi_encode());
    assert_ne!(false_root, honest.stateRoot);
    let run = cli(
        &s.file,
        &[
            "propose",
            "--account",
            "5",
            "--l2-block",
            &block.to_string(),
            "--state-root",
            &false_root.to_string(),
        ],
    )
    .await;
    assert!(run.ok, "propose --state-root failed");
    assert!(
        run.stderr.to_lowercase().contains("bond"),
        "no warning about the bond: {}",
        run.stderr
    );
    let liar_index = newest_proposal(&devnet, &l1, &s, "the false proposal", |p| {
        p.stateRoot == false_root
    })
    .await;
    assert_eq!(proposal(&l1, &s, liar_index).await.proposer, accounts[5]);

    // `prove` and `withdrawal-status` take an honest covering proposal, not the newer false
    // one (before, both took the latest proposal: the false one, and `prove` gave up).
    let tx = withdraw_tx.to_string();
    let run = cli(&s.file, &["withdrawal-status", &tx, "--account", "3"]).await;
    assert!(run.ok, "withdrawal-status failed: {}", run.stderr);
    let chosen: u64 = run
        .field("proposal: #")
        .split_once(' ')
        .and_then(|(index, _)| index.parse().ok())
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_ne!(chosen, liar_index, "{}", run.stdout);
    let chosen_proposal = proposal(&l1, &s, chosen).await;
    assert!(chosen_proposal.l2BlockNumber >= withdraw_block);
    assert_ne!(chosen_proposal.stateRoot, false_root);
    let run = cli(
        &s.file,
        &["prove", &tx, "--account", "3", "--timeout", "60s"],
    )
    .await;
    assert!(run.ok, "prove failed: {}\n{}", run.stdout, run.stderr);
    let proven = view(
        &l1,
        s.l1_bridge,
        IL1Bridge::provenWithdrawalsCall {
            withdrawalId: withdrawal_hash,
            prover: accounts[3],
        },
    )
    .await;
    assert_eq!(proven.proposalIndex, U256::from(chosen));
    assert!(honest_index >= chosen);

    // A relayer (account 7) proves the withdrawal against the false root while it is live.
    let relayer = devnet.l1(7);
    let prove = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(liar_index),
        withdrawal: withdrawal.clone(),
        proof,
    };
    let proven = checked_send(
        &relayer,
        accounts[7],
        s.l1_bridge,
        prove.abi_encode(),
        U256::ZERO,
        "proving the withdrawal against the false root",
    )
    .await
    .unwrap();
    let withdrawal_id = proven
        .inner
        .logs()
        .iter()
        .find_map(|log| IL1Bridge::WithdrawalProven::decode_log(&log.inner).ok())
        .map(|event| event.withdrawalId)
        .expect("WithdrawalProven");
    // The user's status lists the relayer's proof as one against a false root, with no
    // `finalize --prover` to run (before, it offered one ready to paste).
    let run = cli(&s.file, &["withdrawal-status", &tx, "--account", "3"]).await;
    let relayer_line = run
        .stdout
        .lines()
        .find(|line| line.contains(&accounts[7].to_string()))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        relayer_line.contains(&format!("against proposal #{liar_index} (FALSE"))
            && !relayer_line.contains("--prover"),
        "{}",
        run.stdout
    );

    // ---- The devnet's challenger challenges it; the liar never answers and loses on its clock.
    let liar_game = game_on(&devnet, &l1, &s, liar_index, s.challenger).await;
    // The same account challenging again from the CLI is refused: a second bond on one dispute.
    let challenge_as = async |account: &str| {
        cli(
            &s.file,
            &[
                "challenge",
                "--proposal",
                &liar_index.to_string(),
                "--account",
                account,
            ],
        )
        .await
    };
    let run = challenge_as(&rollup_service::devnet::CHALLENGER_ACCOUNT.to_string()).await;
    assert!(
        !run.ok
            && run
                .stderr
                .contains(&format!("already plays game #{liar_game}")),
        "{}",
        run.stderr
    );
    // So is a challenge while a transaction of the account waits in the L1 pool (it may be
    // its challenger role's challenge, not a game yet).
    l1_rpc(&l1, "evm_setAutomine", json!([false])).await;
    let waiting = devnet
        .l1(7)
        .send_transaction(
            alloy_rpc_types_eth::TransactionRequest::default()
                .from(accounts[7])
                .to(accounts[7])
                .value(U256::from(1)),
        )
        .await
        .unwrap();
    let run = challenge_as("7").await;
    l1_rpc(&l1, "evm_setAutomine", json!([true])).await;
    l1_rpc(&l1, "evm_mine", json!([])).await;
    waiting.get_receipt().await.unwrap();
    assert!(
        !run.ok && run.stderr.contains("waiting in the L1 pool"),
        "{}",
        run.stderr
    );
    // Once it is mined, account 7's challenge goes through: a second game on the proposal,
    // which ends refunded when the devnet challenger's game removes it.
    let run = challenge_as("7").await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    let refund_game = game_on(&devnet, &l1, &s, liar_index, accounts[7]).await;
    // The node is killed mid-game and restarted: its challenger resolves and claims from L1.
    let mut devnet = devnet;
    devnet.kill9();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    assert_eq!(
        resolved(&devnet, &l1, &s, liar_game, true).await,
        CHALLENGER_WON
    );
    let removed = proposal(&l1, &s, liar_index).await;
    assert!(removed.removed, "the lost proposal is removed");
    let removal = l1
        .get_logs(
            &Filter::new()
                .address(s.state_manager)
                .event_signature(IStateManager::ProposalRemoved::SIGNATURE_HASH)
                .topic1(U256::from(liar_index))
                .from_block(0),
        )
        .await
        .unwrap();
    let removal = IStateManager::ProposalRemoved::decode_log(&removal[0].inner).unwrap();
    assert_eq!(
        removal.bondRecipient, s.challenger,
        "the liar's bond went to the challenger"
    );
    // Half of the liar's bond to the challenger, half burned: a liar that won the race to
    // remove its own proposal from another account would still lose half.
    assert_eq!(
        removal.bond,
        removed.bond / U256::from(2),
        "the challenger's half"
    );
    let burned: U256 = view(&l1, s.state_manager, IStateManager::burnedBondsCall {}).await;
    assert!(
        burned >= removed.bond - removal.bond,
        "the other half burned"
    );
    // Account 7's game is over (its proposal is gone), and no node role resolves another
    // account's game before a further clock: `claim` resolves it and pays the bond back, and
    // `disputes` says it was refunded, not won.
    let refunded = game(&l1, &s, refund_game).await;
    assert_eq!(refunded.status, 1, "still in progress before claim");
    let run = cli(&s.file, &["claim", "--account", "7"]).await;
    assert!(run.ok, "claim failed: {}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "game #{refund_game} on proposal #{liar_index} (challenger): its proposal was removed"
        )) && run.stdout.contains("resolved (L1 tx"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("DisputeGame credit: 0.") && run.stdout.contains("paid to"),
        "{}",
        run.stdout
    );
    assert_eq!(game(&l1, &s, refund_game).await.status, CHALLENGER_WON);
    let credit: U256 = view(
        &l1,
        s.dispute_game,
        IDisputeGame::creditCall {
            account: accounts[7],
        },
    )
    .await;
    assert!(credit.is_zero(), "the refund was paid");
    let run = cli(&s.file, &["disputes", "--count", "100"]).await;
    let (proposals, games) = run
        .stdout
        .split_once("dispute games in")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    // The liar's proposal is removed, and its games, which the StateManager stops counting then,
    // are not shown as open.
    let liar = proposals
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{liar_index} ")))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let columns: Vec<&str> = liar.split_whitespace().collect();
    assert_eq!(columns[2..4], ["removed", "-"], "{}", run.stdout);
    let listed = devnet
        .l2("rollup_getProposals", json!([liar_index, 1]))
        .await;
    let listed = &listed["proposals"][0];
    assert_eq!(
        (&listed["status"], &listed["openGames"]),
        (&json!("removed"), &json!(0)),
        "{listed}"
    );
    let line = games
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{refund_game} ")))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.contains("refunded"), "{}", run.stdout);
    // The withdrawal proven against the false root can never finalize.
    advance(&l1, 3_600).await;
    let finalize = IL1Bridge::finalizeWithdrawalCall {
        withdrawalId: withdrawal_id.into(),
        recipient: withdrawal.to,
        amount: withdrawal.amount,
    };
    let relayer_view = devnet.l1(7);
    assert_eq!(
        revert_of(&relayer_view, s.l1_bridge, finalize.abi_encode()).await,
        selector("L1Bridge_ProposalRemoved")
    );
    // The honest proposal of the same block was never challenged and is final.
    assert!(
        is_final(&l1, &s, honest_index).await,
        "the honest proposal of L2 block {block} is final"
    );
    // The challenger claimed its bond back and withdrew the liar's.
    until(&devnet, "the challenger to claim its credit", || async {
        let credit: U256 = view(
            &l1,
            s.dispute_game,
            IDisputeGame::creditCall {
                account: s.challenger,
            },
        )
        .await;
        credit.is_zero().then_some(())
    })
    .await;

    // ---- A proposal the StateManager refuses (a zero root) deposits no bond; `claim` pays
    // out a bond balance.
    let bond_of = |account: Address| {
        let l1 = l1.clone();
        let state_manager = s.state_manager;
        async move {
            let balance: U256 = view(
                &l1,
                state_manager,
                IStateManager::bondBalanceCall { account },
            )
            .await;
            balance
        }
    };
    let run = cli(
        &s.file,
        &[
            "propose",
            "--account",
            "4",
            "--l2-block",
            &block.to_string(),
            "--state-root",
            &B256::ZERO.to_string(),
        ],
    )
    .await;
    assert!(!run.ok, "a zero root was proposed: {}", run.stdout);
    assert!(
        run.stderr.contains("StateManager_ZeroRoot"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("deposited"), "{}", run.stdout);
    assert_eq!(bond_of(accounts[4]).await, U256::ZERO);
    checked_send(
        &devnet.l1(4),
        accounts[4],
        s.state_manager,
        IStateManager::depositBondCall {}.abi_encode(),
        U256::from(10u64.pow(16)),
        "depositing a bond",
    )
    .await
    .unwrap();
    let run = cli(&s.file, &["claim", "--account", "4"]).await;
    assert!(run.ok, "claim failed: {}", run.stderr);
    assert!(
        run.stdout
            .contains("StateManager bond balance: 0.01 ETH paid to"),
        "{}",
        run.stdout
    );
    assert_eq!(bond_of(accounts[4]).await, U256::ZERO);
    let run = cli(&s.file, &["claim", "--account", "4"]).await;
    assert!(run.stdout.contains("nothing to collect"), "{}", run.stdout);

    // ---- Account 6 challenges an honest proposal: refused without --force, then stalls.
    let (forced_index, forced) = honest_proposal(&devnet, &l1, &s, block + 1).await;
    let run = cli(
        &s.file,
        &[
            "challenge",
            "--proposal",
            &forced_index.to_string(),
            "--account",
            "6",
        ],
    )
    .await;
    assert!(
        !run.ok,
        "challenging a root the node agrees with needs --force"
    );
    let run = cli(
        &s.file,
        &[
            "challenge",
            "--proposal",
            &forced_index.to_string(),
            "--account",
            "6",
            "--force",
        ],
    )
    .await;
    assert!(run.ok, "challenge --force failed");
    let stalled = game_on(&devnet, &l1, &s, forced_index, accounts[6]).await;
    assert!(
        !is_final(&l1, &s, forced_index).await,
        "an open game holds finality back"
    );
    assert_eq!(
        resolved(&devnet, &l1, &s, stalled, false).await,
        PROPOSER_WON
    );
    advance(&l1, 120).await;
    assert!(
        is_final(&l1, &s, forced_index).await,
        "proposal {forced_index} of L2 block {} is final once its game closed",
        forced.l2BlockNumber
    );

    // ---- Account 8 challenges an honest proposal and agrees with every claim: the game ends
    // at the padding step after the block's seal, which the proposer proves.
    let (played_index, _) = honest_proposal(&devnet, &l1, &s, forced.l2BlockNumber + 1).await;
    let challenger = devnet.l1(8);
    let bond: U256 = view(&l1, s.dispute_game, IDisputeGame::challengerBondCall {}).await;
    checked_send(
        &challenger,
        accounts[8],
        s.dispute_game,
        IDisputeGame::challengeCall {
            proposal: U256::from(played_index),
            outputRoot: proposal(&l1, &s, played_index).await.stateRoot,
        }
        .abi_encode(),
        bond,
        &format!("challenging proposal {played_index}"),
    )
    .await
    .unwrap();
    let played = game_on(&devnet, &l1, &s, played_index, accounts[8]).await;
    // Half way (level 1 reached), the node is killed and restarted: its defender picks the game
    // up from L1 alone and finishes it.
    let picker = Picker {
        l1: &l1,
        s: &s,
        signer: &challenger,
        from: accounts[8],
        id: played,
        picks: Picks::AgreeAll,
    };
    let g = picker.play(&devnet, |g| g.level == 1).await;
    assert_eq!(g.status, 1, "the game is still running at level 1");
    let mut devnet = devnet;
    devnet.kill9();
    let devnet = Devnet::start_fast(&anvil.url, dir.path());
    let status = picker.play(&devnet, |_| false).await.status;
    assert_eq!(status, PROPOSER_WON);
    let g = game(&l1, &s, played).await;
    assert_eq!((g.level, g.hi - g.lo), (1, 1));
    assert_eq!(g.hi, 1 << 16, "the step was the last padding step");
}

/// A JSON-RPC quantity (`"0x1a"`).
fn quantity(value: &Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a quantity: {value}"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

/// The transactions of L2 block `number`, in full.
async fn block_transactions(devnet: &Devnet, number: u64) -> Vec<Value> {
    let block = devnet
        .l2(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        )
        .await;
    block["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("L2 block {number} has no transactions list: {block}"))
        .clone()
}

fn is_deposit(tx: &Value) -> bool {
    tx["type"] == "0x7e"
}

/// The sender and the input of L1 transaction `hash`.
async fn l1_transaction(l1: &DynProvider, hash: B256) -> (Address, Bytes) {
    let tx = l1_rpc(l1, "eth_getTransactionByHash", json!([hash])).await;
    let field = |name: &str| {
        tx[name]
            .as_str()
            .unwrap_or_else(|| panic!("L1 transaction {hash} has no {name}: {tx}"))
            .to_string()
    };
    (
        field("from").parse().unwrap(),
        field("input").parse().unwrap(),
    )
}

/// Account 8 challenges the live honest proposal of L2 block `block` or later and steers the
/// game with false picks to the step at trace `position` of `block`, which the proposer's
/// defender then has to prove; returns the game once it is over there, won by the proposer.
async fn steer(devnet: &Devnet, l1: &DynProvider, s: &Setup, block: u64, position: u64) -> u64 {
    let (index, proposal) = honest_proposal(devnet, l1, s, block).await;
    let from = devnet.info.accounts[8].address;
    let challenger = devnet.l1(8);
    let bond: U256 = view(l1, s.dispute_game, IDisputeGame::challengerBondCall {}).await;
    checked_send(
        &challenger,
        from,
        s.dispute_game,
        IDisputeGame::challengeCall {
            proposal: U256::from(index),
            outputRoot: proposal.stateRoot,
        }
        .abi_encode(),
        bond,
        &format!("challenging proposal {index}"),
    )
    .await
    .unwrap();
    let id = game_on(devnet, l1, s, index, from).await;
    let opened = game(l1, s, id).await;
    assert!(
        opened.level == 1 || opened.lo < block,
        "game {id} on proposal {index} (L2 block {}) is anchored at or after L2 block {block}: {opened:?}",
        proposal.l2BlockNumber
    );
    let started = Instant::now();
    let picker = Picker {
        l1,
        s,
        signer: &challenger,
        from,
        id,
        picks: Picks::Steer { block, position },
    };
    let g = picker.play(devnet, |_| false).await;
    eprintln!(
        "game {id} on proposal {index} (L2 blocks {}..={}) steered to step {position} of L2 block {block} in {:.1?}",
        opened.lo,
        proposal.l2BlockNumber,
        started.elapsed()
    );
    assert_eq!(
        (g.status, g.level, g.l2Block, g.lo, g.hi),
        (PROPOSER_WON, 1, block, position, position + 1),
        "game {id} ends at step {position} of L2 block {block}, won by the proposer: {g:?}\n{}",
        devnet.log()
    );
    id
}

/// The `UnprovableStep` events of game `id`: `(proposal, l2Block, position)`.
async fn unprovable_steps(l1: &DynProvider, s: &Setup, id: u64) -> Vec<(u64, u64, u64)> {
    l1.get_logs(
        &Filter::new()
            .address(s.dispute_game)
            .event_signature(IDisputeGame::UnprovableStep::SIGNATURE_HASH)
            .topic1(U256::from(id))
            .from_block(0),
    )
    .await
    .unwrap()
    .iter()
    .map(|log| {
        let event = IDisputeGame::UnprovableStep::decode_log(&log.inner).unwrap();
        (
            event.proposal.saturating_to(),
            event.l2Block.saturating_to(),
            event.position.saturating_to(),
        )
    })
    .collect()
}

/// The sender of the `step` that ended game `id` and its witness kind; panics if the game is
/// not resolved exactly once, or something else (`resolve`) ended it.
async fn ending_step(l1: &DynProvider, s: &Setup, id: u64) -> (Address, u8) {
    let filter = Filter::new()
        .address(s.dispute_game)
        .event_signature(IDisputeGame::GameResolved::SIGNATURE_HASH)
        .topic1(U256::from(id))
        .from_block(0);
    // The game's status can show it resolved a moment before anvil's log query returns the
    // event (seen once on a loaded machine): wait a few seconds for it.
    let mut resolved = Vec::new();
    for _ in 0..25 {
        resolved = l1.get_logs(&filter).await.unwrap();
        if !resolved.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(resolved.len(), 1, "game {id} is resolved once");
    let (sender, input) = l1_transaction(l1, resolved[0].transaction_hash.unwrap()).await;
    let step = IDisputeGame::stepCall::abi_decode(&input)
        .unwrap_or_else(|err| panic!("game {id} was not ended by a step ({err}): {input}"));
    let (witness_kind, _) = <(U256, Bytes)>::abi_decode_params(&step.witness).unwrap();
    (sender, witness_kind.saturating_to())
}

/// Checks that game `id` ended with the proposer's `step` carrying a witness of kind `kind`,
/// and that L1 proved it: no `UnprovableStep` (which would mean the proposer won by its
/// allowlisting).
async fn assert_proven(devnet: &Devnet, l1: &DynProvider, s: &Setup, id: u64, kind: u8) {
    let unprovable = unprovable_steps(l1, s, id).await;
    assert!(
        unprovable.is_empty(),
        "game {id} ended on a step L1 could not prove: {unprovable:?}\n{}",
        devnet.log()
    );
    assert_eq!(
        ending_step(l1, s, id).await,
        (s.proposer, kind),
        "game {id} ended with the proposer's step of witness kind {kind}"
    );
}

/// Where L2 transaction `receipt` sits: its L2 block and the trace position whose step runs it
/// (`1 +` the block's deposits `+` its index among the batch transactions).
async fn transaction_step(
    devnet: &Devnet,
    receipt: &alloy_rpc_types_eth::TransactionReceipt,
) -> (u64, u64) {
    let block = receipt.block_number.unwrap();
    let txs = block_transactions(devnet, block).await;
    let deposits = txs.iter().filter(|tx| is_deposit(tx)).count();
    let index = txs
        .iter()
        .filter(|tx| !is_deposit(tx))
        .position(|tx| {
            tx["hash"].as_str().and_then(|h| h.parse().ok()) == Some(receipt.transaction_hash)
        })
        .unwrap_or_else(|| {
            panic!(
                "transaction {} is not in its L2 block {block}: {txs:?}",
                receipt.transaction_hash
            )
        });
    (block, (1 + deposits + index) as u64)
}

/// ETH deposits of `amount` from L1 by dev accounts `depositors` to themselves (no code), mined
/// in one L1 block so they are messages of one origin; returns the L2 block that runs them (the
/// first of that origin's epoch) and the trace position of each one's step, in order.
async fn eth_deposits(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    depositors: &[usize],
    amount: U256,
) -> (u64, Vec<u64>) {
    let addresses: Vec<Address> = depositors
        .iter()
        .map(|&index| devnet.info.accounts[index].address)
        .collect();
    let scan_from = quantity(&devnet.l2("eth_blockNumber", json!([])).await);
    l1_rpc(l1, "evm_setAutomine", json!([false])).await;
    let mut pending = Vec::new();
    for &depositor in depositors {
        let deposit = IL1Bridge::depositCall {
            l1Token: Address::ZERO,
            l2Token: Address::ZERO,
            amount,
            gasLimit: 21_000,
        };
        let tx = alloy_rpc_types_eth::TransactionRequest::default()
            .to(s.l1_bridge)
            .input(deposit.abi_encode().into())
            .value(amount);
        let sent = devnet.l1(depositor).send_transaction(tx).await;
        pending.push(sent.unwrap_or_else(|err| panic!("account {depositor}'s deposit: {err}")));
    }
    l1_rpc(l1, "evm_mine", json!([])).await;
    l1_rpc(l1, "evm_setAutomine", json!([true])).await;
    let mut l1_blocks = Vec::new();
    for sent in pending {
        let receipt = sent.get_receipt().await.unwrap();
        assert!(receipt.status(), "the deposit failed: {receipt:?}");
        l1_blocks.push(receipt.block_number.unwrap());
    }
    assert!(
        l1_blocks.windows(2).all(|pair| pair[0] == pair[1]),
        "the deposits are in one L1 block: {l1_blocks:?}"
    );
    until(devnet, "the deposits on L2", || async {
        let head = quantity(&devnet.l2("eth_blockNumber", json!([])).await);
        for number in scan_from..=head {
            let deposits: Vec<Value> = block_transactions(devnet, number)
                .await
                .into_iter()
                .filter(is_deposit)
                .collect();
            let ours: Vec<u64> = (0..deposits.len())
                .filter(|&index| {
                    let tx = &deposits[index];
                    let from = tx["from"].as_str().and_then(|a| a.parse().ok());
                    let mint = tx["mint"].as_str().and_then(|m| m.parse().ok());
                    from.is_some_and(|from| addresses.contains(&from)) && mint == Some(amount)
                })
                .map(|index| 1 + index as u64)
                .collect();
            if !ours.is_empty() {
                assert_eq!(
                    ours.len(),
                    depositors.len(),
                    "every deposit in L2 block {number}: {deposits:?}"
                );
                return Some((number, ours));
            }
        }
        None
    })
    .await
}

/// A devnet in `dir` posting its batches in calldata (so that opening a segment is one
/// transaction), whose dispute roles look at their games four times a second (a game takes
/// some 25 of their moves), once it has 20 L2 blocks for level 0 to bisect. Keep the anvil.
async fn calldata_devnet(dir: &Path) -> (Anvil, Devnet, Setup) {
    devnet_at_block_20(dir, Anvil::start(), &["--batcher-data", "calldata"]).await
}

/// A devnet in `dir` on `anvil` with `extra` flags, its defender moving every 250 ms, once its
/// chain is long enough for level 0 to bisect (20 L2 blocks).
async fn devnet_at_block_20(dir: &Path, anvil: Anvil, extra: &[&str]) -> (Anvil, Devnet, Setup) {
    let devnet = Devnet::start_fast_with(
        &anvil.url,
        dir,
        &[extra, &["--dispute-interval", "250ms"]].concat(),
    );
    let s = setup(&devnet, dir);
    until(&devnet, "L2 block 20", || async {
        (quantity(&devnet.l2("eth_blockNumber", json!([])).await) >= 20).then_some(())
    })
    .await;
    (anvil, devnet, s)
}

#[test]
fn steered_games_end_in_proven_steps() {
    support::run(steered_games_end_in_proven_steps_body());
}

async fn steered_games_end_in_proven_steps_body() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);
    let accounts: Vec<Address> = devnet.info.accounts.iter().map(|a| a.address).collect();

    // ---- L2 ETH transfers from accounts 3, 5 and 7 to account 6 (no code), sent together so
    // they likely share a block, once the chain is long enough for level 0 to bisect: the game
    // steered to the last one's step ends in the defender's STEP_TRANSACTION proof.
    let mut pending = Vec::new();
    for sender in [3, 5, 7] {
        let tx = alloy_rpc_types_eth::TransactionRequest::default()
            .to(accounts[6])
            .value(crate::ether(1));
        let sent = l2_wallet(&devnet, sender).send_transaction(tx).await;
        pending.push(sent.unwrap_or_else(|err| panic!("account {sender}'s transfer: {err}")));
    }
    let mut transfers = Vec::new();
    for sent in pending {
        let receipt = sent.get_receipt().await.unwrap();
        assert!(receipt.status(), "the transfer failed: {receipt:?}");
        transfers.push(receipt);
    }
    let transfer = transfers.pop().unwrap();
    let (block, position) = transaction_step(&devnet, &transfer).await;
    let id = steer(&devnet, &l1, &s, block, position).await;
    assert_proven(&devnet, &l1, &s, id, STEP_TRANSACTION).await;
    // The step read the transaction from the block's calldata batch, whose segments the
    // defender opened in the SegmentStore.
    let (record, posted) = inbox_record(&l1, &s, block).await;
    assert_eq!(
        posted.blobCount, 0,
        "L2 block {block} was posted in calldata"
    );
    let opened = l1
        .get_logs(
            &Filter::new()
                .address(s.segment_store)
                .event_signature(ISegmentStore::SegmentOpened::SIGNATURE_HASH)
                .topic1(record)
                .from_block(0),
        )
        .await
        .unwrap();
    let mut openers = Vec::new();
    for log in &opened {
        let event = ISegmentStore::SegmentOpened::decode_log(&log.inner).unwrap();
        assert!(
            event.ok,
            "segment {} of record {record} decodes",
            event.segment
        );
        openers.push(l1_transaction(&l1, log.transaction_hash.unwrap()).await.0);
    }
    assert!(
        !openers.is_empty() && openers.iter().all(|opener| *opener == s.proposer),
        "the defender opened the segments of record {record} (openers {openers:?})\n{}",
        devnet.log()
    );
    eprintln!("transfer's step proven after {:.1?}", started.elapsed());

    // ---- ETH deposits from L1 by accounts 4 and 5 to themselves (no code), mined in one L1
    // block so they are two messages of one origin: the game steered to the later one's step
    // ends in the defender's STEP_DEPOSIT proof.
    let (block, positions) = eth_deposits(&devnet, &l1, &s, &[4, 5], crate::ether(2)).await;
    let position = positions[1];
    assert!(position >= 2, "the target deposit is not its block's first");
    let id = steer(&devnet, &l1, &s, block, position).await;
    assert_proven(&devnet, &l1, &s, id, STEP_DEPOSIT).await;
    eprintln!("deposit's step proven after {:.1?}", started.elapsed());

    // ---- The same block's preamble (it starts the epoch of the deposits' L1 block): the game
    // steered to position 0 ends in the defender's STEP_PREAMBLE proof of the block context.
    let id = steer(&devnet, &l1, &s, block, 0).await;
    assert_proven(&devnet, &l1, &s, id, STEP_PREAMBLE).await;
    eprintln!("preamble's step proven after {:.1?}", started.elapsed());

    // ---- The same block's seal: the game steered to the step from its last trace state ends
    // in the defender's STEP_SEAL proof of the block's header and output root.
    let (_, seal) = trace_claim(&devnet, block, 0).await;
    let id = steer(&devnet, &l1, &s, block, seal - 1).await;
    assert_proven(&devnet, &l1, &s, id, STEP_SEAL).await;
    eprintln!("seal's step proven after {:.1?}", started.elapsed());

    // ---- A block of more than 32 transactions, whose seal trace state v1 could not prove on
    // L1: the game steered to its seal ends in the defender's STEP_SEAL proof, and the one
    // steered to its last transaction's step (which appends to tries of over 32 values) in
    // STEP_TRANSACTION.
    let (block, count) = transfer_burst(&devnet, &[3, 4, 5, 7], 12).await;
    // Its trace ends at its output root, which only a safe block has.
    crate::transact::wait_safe(&devnet.info.l2_rpc_url, block, || {
        crate::transact::tail(devnet.log())
    })
    .await;
    let (_, seal) = trace_claim(&devnet, block, 0).await;
    let id = steer(&devnet, &l1, &s, block, seal - 1).await;
    assert_proven(&devnet, &l1, &s, id, STEP_SEAL).await;
    let id = steer(&devnet, &l1, &s, block, seal - 2).await;
    assert_proven(&devnet, &l1, &s, id, STEP_TRANSACTION).await;
    eprintln!(
        "the seal and last step of a block of {count} transactions proven after {:.1?}",
        started.elapsed()
    );
}

/// Sends `per_sender` ETH transfers from each of dev accounts `senders`, signed here with
/// consecutive nonces and sent all at once, until one L2 block holds more than 32 of them (a
/// burst may straddle a block boundary). Returns that block and how many it holds.
async fn transfer_burst(devnet: &Devnet, senders: &[usize], per_sender: u64) -> (u64, usize) {
    let chain_id = devnet.info.l2_chain_id;
    for _ in 0..3 {
        let mut raws = Vec::new();
        for &i in senders {
            let key = alloy_signer_local::PrivateKeySigner::from_bytes(
                &devnet.info.accounts[i].private_key,
            )
            .unwrap();
            let nonce = quantity(
                &devnet
                    .l2("eth_getTransactionCount", json!([key.address(), "pending"]))
                    .await,
            );
            raws.extend(
                (0..per_sender).map(|k| crate::sustained::transfer(&key, chain_id, nonce + k)),
            );
        }
        // One client for the burst: its connections are reused rather than opened per send.
        let provider = alloy_provider::ProviderBuilder::new()
            .connect_http(devnet.info.l2_rpc_url.parse().unwrap())
            .erased();
        let mut sends = tokio::task::JoinSet::new();
        for raw in raws {
            let provider = provider.clone();
            sends.spawn(async move {
                provider
                    .raw_request::<_, B256>("eth_sendRawTransaction".into(), json!([raw]))
                    .await
            });
        }
        let mut hashes = Vec::new();
        while let Some(sent) = sends.join_next().await {
            hashes.push(
                sent.unwrap()
                    .unwrap_or_else(|err| panic!("a burst transfer: {err}")),
            );
        }
        let mut blocks: std::collections::BTreeMap<u64, usize> = Default::default();
        for hash in &hashes {
            let receipt = until(devnet, "a burst transfer's receipt", || async {
                let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
                (!receipt.is_null()).then_some(receipt)
            })
            .await;
            assert_eq!(receipt["status"], "0x1", "{receipt}");
            *blocks.entry(quantity(&receipt["blockNumber"])).or_default() += 1;
        }
        let (block, count) = blocks.into_iter().max_by_key(|(_, count)| *count).unwrap();
        if count > 32 {
            return (block, count);
        }
    }
    panic!("no burst of transfers shared a block\n{}", devnet.log())
}

#[test]
fn blob_batch_steps_are_proven() {
    support::run(blob_batch_steps_are_proven_body());
}

/// On a devnet posting its batches in blobs (the default), a game steered to an L2 ETH
/// transfer's step ends in the defender's STEP_TRANSACTION proof: the defender first proves
/// the bytes of the block's blob segments on L1 by point evaluation (`SegmentStore.loadBlob`
/// for the few elements of a small segment like this one, `loadWholeBlob` for a large one) and
/// opens them (`openBlob`).
async fn blob_batch_steps_are_proven_body() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = devnet_at_block_20(dir.path(), Anvil::start(), &[]).await;
    let l1 = devnet.l1(0);
    let receipt = eth_transfer(&devnet, 3, 6).await;
    let (block, position) = transaction_step(&devnet, &receipt).await;
    let id = steer(&devnet, &l1, &s, block, position).await;
    assert_proven(&devnet, &l1, &s, id, STEP_TRANSACTION).await;
    let (record, posted) = inbox_record(&l1, &s, block).await;
    assert!(posted.blobCount > 0, "L2 block {block} was posted in blobs");
    let logs = |signature| {
        Filter::new()
            .address(s.segment_store)
            .event_signature(signature)
            .topic1(record)
            .from_block(0)
    };
    let loaded = l1
        .get_logs(&logs(ISegmentStore::BlobElementsLoaded::SIGNATURE_HASH))
        .await
        .unwrap();
    let opened = l1
        .get_logs(&logs(ISegmentStore::SegmentOpened::SIGNATURE_HASH))
        .await
        .unwrap();
    assert!(
        !loaded.is_empty() && !opened.is_empty(),
        "the defender loaded and opened the blob segments of record {record}\n{}",
        devnet.log()
    );
    for log in &loaded {
        assert_eq!(
            l1_transaction(&l1, log.transaction_hash.unwrap()).await.0,
            s.proposer,
            "the defender proved the field elements"
        );
    }
    eprintln!(
        "blob transfer's step proven after {:.1?}",
        started.elapsed()
    );
}

#[test]
fn a_step_in_a_block_of_many_blob_segments_opens_them_together() {
    support::run(a_step_in_a_block_of_many_blob_segments_opens_them_together_body());
}

/// On the default blob devnet, one L2 block of six calls of 20 000 random calldata bytes (a
/// blob segment each, about 650 field elements, loaded whole): a game steered to the step of
/// the block's first transfer ends in the defender's STEP_TRANSACTION proof, and the defender
/// moved the segments' loads and openings on together, the next transaction of several
/// segments in one L1 block, not one segment after another (ten games steered to ten such
/// blocks on the devnet's 30 s clocks were lost that way, every step still waiting for its
/// segments).
async fn a_step_in_a_block_of_many_blob_segments_opens_them_together_body() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // An L1 that mines a block a second (not one per transaction), as the devnet's, so that
    // transactions sent together share blocks.
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let (_anvil, devnet, s) = devnet_at_block_20(dir.path(), anvil, &[]).await;
    let l1 = devnet.l1(0);
    let (block, receipts) = big_calls_in_one_block(&devnet, 6).await;
    let first: alloy_rpc_types_eth::TransactionReceipt =
        serde_json::from_value(receipts[0].clone()).unwrap();
    let (_, position) = transaction_step(&devnet, &first).await;
    let id = steer(&devnet, &l1, &s, block, position).await;
    assert_proven(&devnet, &l1, &s, id, STEP_TRANSACTION).await;
    let (_, posted) = inbox_record(&l1, &s, block).await;
    assert!(posted.blobCount > 0, "L2 block {block} was posted in blobs");

    // Every load and opening of the SegmentStore on this devnet is the defender's, for this
    // block: the segments they moved on, and the transactions by L1 block (a whole blob's
    // load moves every segment in that blob on).
    let mut segments = std::collections::BTreeSet::new();
    let mut by_l1_block: std::collections::BTreeMap<u64, std::collections::BTreeSet<B256>> =
        Default::default();
    for signature in [
        ISegmentStore::BlobElementsLoaded::SIGNATURE_HASH,
        ISegmentStore::SegmentOpened::SIGNATURE_HASH,
    ] {
        let logs = l1
            .get_logs(
                &Filter::new()
                    .address(s.segment_store)
                    .event_signature(signature)
                    .from_block(0),
            )
            .await
            .unwrap();
        for log in logs {
            segments.insert((log.topics()[1], log.topics()[2]));
            by_l1_block
                .entry(log.block_number.unwrap())
                .or_default()
                .insert(log.transaction_hash.unwrap());
        }
    }
    assert!(
        segments.len() >= 6,
        "the block's six big calls filled six segments or more: {segments:?}"
    );
    let widest = by_l1_block.values().map(|txs| txs.len()).max().unwrap_or(0);
    assert!(
        widest >= 3,
        "several of the segments' transactions went out together (at most {widest} in one L1 block): {by_l1_block:?}\n{}",
        devnet.log()
    );
    eprintln!(
        "{} segments; their {} transactions in {} L1 blocks, at most {widest} in one; step proven after {:.1?}",
        segments.len(),
        by_l1_block.values().map(|txs| txs.len()).sum::<usize>(),
        by_l1_block.len(),
        started.elapsed()
    );
}

/// A signed EIP-1559 transaction from `key` to `to` with `input`, its fee cap 100 gwei and
/// tip `tip` gwei, as raw hex.
fn signed_call(
    key: &alloy_signer_local::PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    input: Vec<u8>,
    tip: u128,
) -> String {
    use alloy_consensus::SignableTransaction;
    use alloy_network::{TxSignerSync, eip2718::Encodable2718};
    let mut tx = alloy_consensus::TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000 + 40 * input.len() as u64,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: tip * 1_000_000_000,
        to: alloy_primitives::TxKind::Call(to),
        value: U256::from(1),
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = key.sign_transaction_sync(&mut tx).unwrap();
    let envelope: alloy_consensus::TxEnvelope = tx.into_signed(signature).into();
    format!(
        "0x{}",
        alloy_primitives::hex::encode(envelope.encoded_2718())
    )
}

#[test]
fn a_block_spanning_batches_is_derived_and_its_steps_proven() {
    support::run(a_block_spanning_batches_is_derived_and_its_steps_proven_body());
}

/// On a devnet posting in calldata (at most 120 000 bytes per batch), one L2 block of about
/// 200 kB of incompressible calldata: the batcher posts it in several batches, the first left
/// open; the node derives it from all of them without replacing it; and a game steered to the
/// step of a transfer in its first part (a record before the one holding the block) ends in the
/// defender's STEP_TRANSACTION proof, which opens segments of both records.
async fn a_block_spanning_batches_is_derived_and_its_steps_proven_body() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);
    let (block, receipts) = big_calls_in_one_block(&devnet, 10).await;
    let hash_before = devnet
        .l2(
            "eth_getBlockByNumber",
            json!([format!("{block:#x}"), false]),
        )
        .await["hash"]
        .clone();
    crate::transact::wait_safe(&devnet.info.l2_rpc_url, block, || devnet.log()).await;
    let hash_after = devnet
        .l2(
            "eth_getBlockByNumber",
            json!([format!("{block:#x}"), false]),
        )
        .await["hash"]
        .clone();
    assert_eq!(
        hash_before, hash_after,
        "derivation kept the block as sequenced"
    );

    // The record holding the block starts with its last part; the records before it left it
    // open and hold its first transactions.
    let (record, closing) = inbox_record(&l1, &s, block).await;
    assert_eq!(
        closing.firstBlock, block,
        "the block starts the record that closed it"
    );
    assert!(
        closing.firstBlockTxOffset > 0,
        "earlier records hold part of L2 block {block}"
    );
    let previous: IBatchInbox::Record = view(
        &l1,
        s.batch_inbox,
        IBatchInbox::recordsCall {
            index: record - U256::from(1),
        },
    )
    .await;
    assert!(
        previous.lastBlockOpen,
        "record {} left the block open",
        record - U256::from(1)
    );
    eprintln!(
        "L2 block {block}: {} transactions, the last {} in record {record}, after {:.1?}",
        receipts.len(),
        receipts.len() as u32 - closing.firstBlockTxOffset,
        started.elapsed()
    );

    // The first transfer's step, in the block's first part.
    let first_receipt: alloy_rpc_types_eth::TransactionReceipt =
        serde_json::from_value(receipts[0].clone()).unwrap();
    let (_, position) = transaction_step(&devnet, &first_receipt).await;
    let id = steer(&devnet, &l1, &s, block, position).await;
    assert_proven(&devnet, &l1, &s, id, STEP_TRANSACTION).await;
    let opened = l1
        .get_logs(
            &Filter::new()
                .address(s.segment_store)
                .event_signature(ISegmentStore::SegmentOpened::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let records: std::collections::BTreeSet<U256> = opened
        .iter()
        .map(|log| {
            ISegmentStore::SegmentOpened::decode_log(&log.inner)
                .unwrap()
                .record
        })
        .collect();
    assert!(
        records.contains(&record) && records.contains(&(record - U256::from(1))),
        "segments of both records opened: {records:?}"
    );
    eprintln!(
        "spanning block's step proven after {:.1?}",
        started.elapsed()
    );
}

/// A plain transfer from dev account 4 that sorts first (the highest tip), `count` calls of
/// 20 000 random calldata bytes each from account 3, and a plain transfer from account 5 that
/// sorts last, all to account 6, sent in one JSON-RPC batch so they arrive together, until they
/// land in one L2 block. Returns the block and their receipts, in that order.
async fn big_calls_in_one_block(devnet: &Devnet, count: u64) -> (u64, Vec<Value>) {
    let chain_id = devnet.info.l2_chain_id;
    let key = |i: usize| {
        alloy_signer_local::PrivateKeySigner::from_bytes(&devnet.info.accounts[i].private_key)
            .unwrap()
    };
    let nonce = async |i: usize| {
        quantity(
            &devnet
                .l2(
                    "eth_getTransactionCount",
                    json!([devnet.info.accounts[i].address, "pending"]),
                )
                .await,
        )
    };
    let to = devnet.info.accounts[6].address;
    let (first, last, big) = (4, 5, 3);
    let client = alloy_rpc_client::RpcClient::new_http(devnet.info.l2_rpc_url.parse().unwrap());
    // Up to eight tries: a 100 ms block tick can fall inside the batch's admission, more often
    // with the whole suite on two cores (CI once split it three times in a row).
    for attempt in 0..8 {
        let big_nonce = nonce(big).await;
        let mut raws = vec![signed_call(
            &key(first),
            chain_id,
            nonce(first).await,
            to,
            vec![],
            9,
        )];
        for k in 0..count {
            let input: Vec<u8> = (0..20_000u32)
                .map(|i| keccak256((attempt, k, i).abi_encode())[0])
                .collect();
            raws.push(signed_call(
                &key(big),
                chain_id,
                big_nonce + k,
                to,
                input,
                3,
            ));
        }
        raws.push(signed_call(
            &key(last),
            chain_id,
            nonce(last).await,
            to,
            vec![],
            2,
        ));
        let mut batch = client.new_batch();
        let waiters: Vec<_> = raws
            .iter()
            .map(|raw| {
                batch
                    .add_call::<_, B256>("eth_sendRawTransaction", &(raw.clone(),))
                    .unwrap()
            })
            .collect();
        batch.send().await.unwrap();
        let mut receipts = Vec::new();
        for waiter in waiters {
            let hash = waiter
                .await
                .unwrap_or_else(|err| panic!("a transaction: {err}"));
            let receipt = until(devnet, "the receipt", || async {
                let receipt = devnet.l2("eth_getTransactionReceipt", json!([hash])).await;
                (!receipt.is_null()).then_some(receipt)
            })
            .await;
            assert_eq!(receipt["status"], "0x1", "{receipt}");
            receipts.push(receipt);
        }
        let blocks: std::collections::BTreeSet<u64> = receipts
            .iter()
            .map(|receipt| quantity(&receipt["blockNumber"]))
            .collect();
        if let [block] = blocks.into_iter().collect::<Vec<_>>()[..] {
            return (block, receipts);
        }
    }
    panic!(
        "the burst shared no L2 block in eight attempts\n{}",
        devnet.log()
    )
}

/// An L2 transfer of 1 ether from dev account `from` to dev account `to` (no code), mined and
/// successful: its receipt.
async fn eth_transfer(
    devnet: &Devnet,
    from: usize,
    to: usize,
) -> alloy_rpc_types_eth::TransactionReceipt {
    crate::send(
        &l2_wallet(devnet, from),
        devnet.info.accounts[to].address,
        Vec::new(),
        crate::ether(1),
    )
    .await
}

/// The `BatchInbox` record holding L2 block `block`: its index and contents.
async fn inbox_record(l1: &DynProvider, s: &Setup, block: u64) -> (U256, IBatchInbox::Record) {
    let record: U256 = view(
        l1,
        s.batch_inbox,
        IBatchInbox::recordOfCall { l2Block: block },
    )
    .await;
    let posted = view(
        l1,
        s.batch_inbox,
        IBatchInbox::recordsCall { index: record },
    )
    .await;
    (record, posted)
}

/// This node's claim at `position` of L2 block `block`'s input trace (`rollup_getTraceClaim`),
/// with the seal's position.
async fn trace_claim(devnet: &Devnet, block: u64, position: u64) -> (B256, u64) {
    let claim = devnet
        .l2(
            "rollup_getTraceClaim",
            json!([format!("{block:#x}"), format!("{position:#x}")]),
        )
        .await;
    let hash = claim["claim"]
        .as_str()
        .and_then(|hash| hash.parse().ok())
        .unwrap_or_else(|| panic!("no claim at {position} of L2 block {block}: {claim}"));
    (hash, quantity(&claim["seal"]))
}

/// A permissionless proposer (dev account `account`) that proposes a false root of L2 block
/// `block` and plays the game the devnet's challenger opens on it, answering at once and never
/// stepping. At level 0 it posts the node's output roots: every midpoint is below `block`, so
/// the challenger agrees with each and the game narrows to `block`. At level 1 it posts the
/// node's claims up to position `honest_until` and false ones after it (its false root from the
/// seal on, as the padding of a lying trace repeats it), so the first wrong step is the one at
/// `honest_until`.
struct Liar<'a> {
    devnet: &'a Devnet,
    l1: &'a DynProvider,
    s: &'a Setup,
    account: usize,
    block: u64,
    honest_until: u64,
}

impl Liar<'_> {
    fn address(&self) -> Address {
        self.devnet.info.accounts[self.account].address
    }

    /// The root it proposes: not an output root at all.
    fn false_root(&self) -> B256 {
        keccak256(format!(
            "a false output root of L2 block {} by account {}",
            self.block, self.account
        ))
    }

    /// Proposes the false root; returns the proposal's index.
    async fn propose(&self) -> u64 {
        let root = self.false_root();
        let run = cli(
            &self.s.file,
            &[
                "propose",
                "--account",
                &self.account.to_string(),
                "--l2-block",
                &self.block.to_string(),
                "--state-root",
                &root.to_string(),
            ],
        )
        .await;
        assert!(
            run.ok,
            "account {}'s propose --state-root failed: {}",
            self.account, run.stderr
        );
        newest_proposal(self.devnet, self.l1, self.s, "the false proposal", |p| {
            p.stateRoot == root && p.proposer == self.address()
        })
        .await
    }

    /// Its claim at the midpoint of game `g`, whose block's seal is at `seal`.
    async fn claim(&self, g: &Game, seal: u64) -> B256 {
        let mid = g.lo + (g.hi - g.lo) / 2;
        if g.level == 0 {
            assert!(
                mid < self.block,
                "level 0 bisects below L2 block {}: {g:?}",
                self.block
            );
            // Position 0 of block `mid + 1`: the output root of block `mid`.
            return trace_claim(self.devnet, mid + 1, 0).await.0;
        }
        if mid <= self.honest_until {
            trace_claim(self.devnet, self.block, mid).await.0
        } else if mid >= seal {
            self.false_root()
        } else {
            keccak256(format!(
                "a false trace state at position {mid} of L2 block {}",
                self.block
            ))
        }
    }

    /// Bisects in game `id` whenever it is its turn, until the game is over; returns it then.
    async fn play(&self, id: u64) -> Game {
        let signer = self.devnet.l1(self.account);
        let (_, seal) = trace_claim(self.devnet, self.block, 0).await;
        until(self.devnet, &format!("game {id} to end"), || async {
            let g = game(self.l1, self.s, id).await;
            if g.status != 1 {
                return Some(g);
            }
            // The challenger's turn, or the step, which the liar never proves.
            if !g.proposerToMove || g.hi - g.lo < 2 {
                return None;
            }
            let claim = self.claim(&g, seal).await;
            let bisect = IDisputeGame::bisectCall {
                id: U256::from(id),
                l2Block: g.l2Block,
                position: g.lo + (g.hi - g.lo) / 2,
                claim,
            };
            let what = format!("account {} bisecting in game {id} ({g:?})", self.account);
            let mover = (&signer, self.address());
            send_move(
                self.devnet,
                self.l1,
                self.s,
                mover,
                id,
                bisect.abi_encode(),
                &what,
            )
            .await;
            None
        })
        .await
    }
}

#[test]
fn false_proposals_lose_at_the_step() {
    support::run(false_proposals_lose_at_the_step_body());
}

async fn false_proposals_lose_at_the_step_body() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);

    // ---- An L2 ETH transfer from account 3 to account 6 (no code), once level 0 has blocks
    // to bisect, and an ETH deposit from L1 by account 4.
    let transfer = eth_transfer(&devnet, 3, 6).await;
    let (transfer_block, transfer_position) = transaction_step(&devnet, &transfer).await;
    let (deposit_block, deposit_positions) =
        eth_deposits(&devnet, &l1, &s, &[4], crate::ether(2)).await;
    until(&devnet, "both blocks to be safe", || async {
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        let safe = status["safeL2"]["number"].as_u64().unwrap_or_default();
        (safe >= transfer_block.max(deposit_block)).then_some(())
    })
    .await;
    let (_, transfer_seal) = trace_claim(&devnet, transfer_block, 0).await;
    eprintln!(
        "transfer at position {transfer_position} of L2 block {transfer_block} (seal {transfer_seal}), deposit at position {} of L2 block {deposit_block}, after {:.1?}",
        deposit_positions[0],
        started.elapsed()
    );

    // ---- Four liars, each wrong from the step after its honest claims: the transfer's step
    // (STEP_TRANSACTION), the deposit's (STEP_DEPOSIT), the preamble (STEP_PREAMBLE, wrong from
    // position 1 on) and the seal (STEP_SEAL, a false output root after true trace states).
    let liar = |account, block, honest_until| Liar {
        devnet: &devnet,
        l1: &l1,
        s: &s,
        account,
        block,
        honest_until,
    };
    let cases = [
        (liar(5, transfer_block, transfer_position), STEP_TRANSACTION),
        (liar(6, deposit_block, deposit_positions[0]), STEP_DEPOSIT),
        (liar(7, deposit_block, 0), STEP_PREAMBLE),
        (liar(8, transfer_block, transfer_seal - 1), STEP_SEAL),
    ];
    let mut games = Vec::new();
    for (liar, _) in &cases {
        let index = liar.propose().await;
        let id = game_on(&devnet, &l1, &s, index, s.challenger).await;
        games.push((index, id));
    }
    let played = Instant::now();
    // The four games run at once: the liars answer at once, the challenger every round.
    let (a, b, c, d) = tokio::join!(
        cases[0].0.play(games[0].1),
        cases[1].0.play(games[1].1),
        cases[2].0.play(games[2].1),
        cases[3].0.play(games[3].1),
    );
    eprintln!("four games over in {:.1?}", played.elapsed());

    for (((liar, kind), (index, id)), g) in cases.iter().zip(&games).zip([a, b, c, d]) {
        let (index, id) = (*index, *id);
        let position = liar.honest_until;
        assert_eq!(
            (g.status, g.level, g.l2Block, g.lo, g.hi),
            (CHALLENGER_WON, 1, liar.block, position, position + 1),
            "game {id} on account {}'s proposal {index} ends at step {position} of L2 block {}, won by the challenger: {g:?}\n{}",
            liar.account,
            liar.block,
            devnet.log()
        );
        let (stepper, witness) = ending_step(&l1, &s, id).await;
        assert_eq!(
            (stepper, witness),
            (s.challenger, *kind),
            "game {id} ended with the challenger's step of the expected witness kind"
        );
        let unprovable = unprovable_steps(&l1, &s, id).await;
        assert!(
            unprovable.is_empty(),
            "game {id} ended on a step L1 proved: {unprovable:?}\n{}",
            devnet.log()
        );
        assert!(
            proposal(&l1, &s, index).await.removed,
            "account {}'s false proposal {index} is removed",
            liar.account
        );
        let removal = l1
            .get_logs(
                &Filter::new()
                    .address(s.state_manager)
                    .event_signature(IStateManager::ProposalRemoved::SIGNATURE_HASH)
                    .topic1(U256::from(index))
                    .from_block(0),
            )
            .await
            .unwrap();
        let removal = IStateManager::ProposalRemoved::decode_log(&removal[0].inner).unwrap();
        assert_eq!(
            removal.bondRecipient, s.challenger,
            "account {}'s bond went to the challenger",
            liar.account
        );
    }
    eprintln!(
        "false proposals lost at their steps after {:.1?}",
        started.elapsed()
    );
}

/// An L1 reorg that puts the proposer's batch and proposal back two blocks later (as L1 does
/// with the transactions of removed blocks) moves the proposed L2 block's inbox record to
/// another L1 block, so the replayed proposal's output root, which names the old one, would be
/// false: the node's own challenger took its bond before. The proposal names the L1 block it
/// was derived from by hash, so L1 refuses the replay, no game opens, and the proposer proposes
/// the block again as derived from the new chain.
///
/// anvil mines whenever the node sends a transaction, so L1 is held still (automine off)
/// while the reorg is built: a batch mined between reading the head and `anvil_reorg` made
/// the reorg one block shallower than built, leaving the record's block as it was (and the
/// replay rightly taken), about one run in six.
#[test]
fn a_proposal_replayed_onto_a_reorganised_l1_reverts() {
    support::run(a_proposal_replayed_onto_a_reorganised_l1_reverts_body());
}

async fn a_proposal_replayed_onto_a_reorganised_l1_reverts_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);
    let (index, proposed) = honest_proposal(&devnet, &l1, &s, 1).await;
    let block = proposed.l2BlockNumber;
    let output = devnet
        .l2(
            "rollup_getProof",
            json!([Address::ZERO, [], format!("{block:#x}")]),
        )
        .await;
    let derived_in = quantity(&output["outputRoot"]["l1Block"]);
    assert!(
        derived_in < proposed.l1Block,
        "the batch lands before its proposal"
    );

    // Replace L1 from the record's block on, every removed transaction two blocks later (or
    // in the last new block), with L1 held still so the head read is the head reorganised.
    l1_rpc(&l1, "evm_setAutomine", json!([false])).await;
    let head = l1.get_block_number().await.unwrap();
    let record_hash = l1
        .get_block_by_number(derived_in.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    let depth = head - derived_in + 1;
    let mut replayed = Vec::new();
    let mut proposal_tx = None;
    for (offset, number) in (derived_in..=head).enumerate() {
        let l1_block = l1_rpc(
            &l1,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        )
        .await;
        for tx in l1_block["transactions"].as_array().unwrap() {
            let hash: B256 = tx["hash"].as_str().unwrap().parse().unwrap();
            let input = tx["input"].as_str().unwrap_or_default();
            if number == proposed.l1Block
                && input.starts_with(&alloy_primitives::hex::encode_prefixed(
                    IStateManager::submitStateRootCall::SELECTOR,
                ))
            {
                proposal_tx = Some(hash);
            }
            let raw = l1_rpc(&l1, "eth_getRawTransactionByHash", json!([hash])).await;
            replayed.push(json!([raw, (offset as u64 + 2).min(depth - 1)]));
        }
    }
    let proposal_tx = proposal_tx.expect("the proposal's L1 transaction");
    l1_rpc(&l1, "anvil_reorg", json!([depth, replayed])).await;
    assert_eq!(
        l1.get_block_number().await.unwrap(),
        head,
        "the reorg keeps L1's height"
    );
    let new_record = l1
        .get_block_by_number(derived_in.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    assert_ne!(
        new_record, record_hash,
        "the reorg replaced the record's block"
    );
    l1_rpc(&l1, "evm_setAutomine", json!([true])).await;

    let receipt = until(&devnet, "the replayed proposal's receipt", || async {
        l1.get_transaction_receipt(proposal_tx).await.unwrap()
    })
    .await;
    assert!(
        !receipt.status(),
        "the proposal naming the old chain's L1 block {derived_in} was taken on the new one\n{}",
        devnet.log()
    );
    // The node follows the new chain and proposes the block again, as derived from it; nobody
    // has anything to challenge.
    let again = until(&devnet, "a new proposal of the block or later", || async {
        let count: u64 = view(&l1, s.state_manager, IStateManager::proposalCountCall {})
            .await
            .to();
        for at in index..count {
            let p = proposal(&l1, &s, at).await;
            if p.proposer == s.proposer && p.l2BlockNumber >= block {
                return Some(p);
            }
        }
        None
    })
    .await;
    let ours = devnet
        .l2(
            "rollup_getProof",
            json!([Address::ZERO, [], format!("{:#x}", again.l2BlockNumber)]),
        )
        .await;
    assert_eq!(
        ours["outputRootHash"]
            .as_str()
            .unwrap()
            .parse::<B256>()
            .unwrap(),
        again.stateRoot,
        "the new proposal is the node's output root"
    );
    // Give the challenger a few rounds to disagree with anything.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let games: u64 = view(&l1, s.dispute_game, IDisputeGame::gameCountCall {})
        .await
        .to();
    assert_eq!(games, 0, "no proposal to challenge\n{}", devnet.log());
}

/// A challenge that an L1 reorg removes, its nonce then taken by the agent's later moves,
/// leaves the false proposal unchallenged: the agent notices its game is gone and challenges
/// again (it remembered the proposal as challenged for good before).
#[test]
fn a_challenge_removed_by_an_l1_reorg_is_made_again() {
    support::run(a_challenge_removed_by_an_l1_reorg_is_made_again_body());
}

async fn a_challenge_removed_by_an_l1_reorg_is_made_again_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);
    let (index, first) = challenged_false_proposal(&devnet, &l1, &s).await;

    reorg_away_challengers(
        &devnet,
        &l1,
        &s,
        IDisputeGame::challengeCall::SELECTOR,
        || async {
            let games: u64 = view(&l1, s.dispute_game, IDisputeGame::gameCountCall {})
                .await
                .to();
            assert!(games <= first, "the reorg removed game {first}");
        },
    )
    .await;

    // The proposal is still there, unchallenged: the agent challenges it again.
    assert!(!proposal(&l1, &s, index).await.removed);
    let again = game_on(&devnet, &l1, &s, index, s.challenger).await;
    eprintln!("challenged again in game {again}");
}

/// A false proposal of L2 block 1 by account 5 and the game the devnet's challenger opens on
/// it: `(proposal index, game id)`.
async fn challenged_false_proposal(devnet: &Devnet, l1: &DynProvider, s: &Setup) -> (u64, u64) {
    let liar = Liar {
        devnet,
        l1,
        s,
        account: 5,
        block: 1,
        honest_until: 0,
    };
    let index = liar.propose().await;
    (index, game_on(devnet, l1, s, index, s.challenger).await)
}

/// Removes L1 from the block of the devnet challenger's last transaction calling `selector`
/// on, nothing replayed but a transfer of the challenger's at that transaction's nonce (anvil
/// puts removed transactions back in its pool; the agent's next moves would take the nonce),
/// then runs `check` on the new chain. L1 is held still (automine off) while the reorg is
/// built and checked, as anvil mines whenever the node sends.
async fn reorg_away_challengers<F: std::future::Future<Output = ()>>(
    devnet: &Devnet,
    l1: &DynProvider,
    s: &Setup,
    selector: [u8; 4],
    check: impl FnOnce() -> F,
) {
    l1_rpc(l1, "evm_setAutomine", json!([false])).await;
    let head = l1.get_block_number().await.unwrap();
    let selector = alloy_primitives::hex::encode_prefixed(selector);
    let mut found = None;
    for number in (0..=head).rev() {
        let l1_block = l1_rpc(
            l1,
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), true]),
        )
        .await;
        let tx = l1_block["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|tx| {
                tx["from"].as_str().and_then(|from| from.parse().ok()) == Some(s.challenger)
                    && tx["input"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with(&selector)
            })
            .cloned();
        if let Some(tx) = tx {
            found = Some((number, quantity(&tx["nonce"])));
            break;
        }
    }
    let (number, nonce) =
        found.unwrap_or_else(|| panic!("no {selector} of the challenger's on L1"));
    let key = signer(devnet, 10);
    assert_eq!(
        key.address(),
        s.challenger,
        "the devnet's challenger is dev account 10"
    );
    let chain_id = l1.get_chain_id().await.unwrap();
    let filler = signed_call(&key, chain_id, nonce, s.challenger, Vec::new(), 1);
    l1_rpc(l1, "anvil_reorg", json!([head - number + 1, [[filler, 0]]])).await;
    check().await;
    l1_rpc(l1, "evm_setAutomine", json!([true])).await;
}

/// A game the agent resolved, its resolution then removed by an L1 reorg (the nonce taken by
/// another transaction of the agent's), is resolved again: the agent reads a game again until
/// L1 finalized its end (it passed it for good once resolved before, the game open for ever,
/// both bonds locked).
#[test]
fn a_resolution_removed_by_an_l1_reorg_is_made_again() {
    support::run(a_resolution_removed_by_an_l1_reorg_is_made_again_body());
}

async fn a_resolution_removed_by_an_l1_reorg_is_made_again_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s) = calldata_devnet(dir.path()).await;
    let l1 = devnet.l1(0);
    let (index, id) = challenged_false_proposal(&devnet, &l1, &s).await;
    // The liar never answers: the agent resolves the game once the liar's clock ran out.
    assert_eq!(resolved(&devnet, &l1, &s, id, true).await, CHALLENGER_WON);
    // Rounds (every 250 ms) that see the game resolved, before L1 finalizes that.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let head = l1.get_block_number().await.unwrap();
    let finalized = l1
        .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Finalized)
        .await
        .unwrap()
        .map(|block| block.header.number);
    eprintln!("L1 head {head}, finalized {finalized:?}");
    reorg_away_challengers(
        &devnet,
        &l1,
        &s,
        IDisputeGame::resolveCall::SELECTOR,
        || async {
            assert_eq!(
                game(&l1, &s, id).await.status,
                1,
                "the reorg reopened game {id}"
            );
        },
    )
    .await;
    until(&devnet, &format!("game {id} resolved again"), || async {
        (game(&l1, &s, id).await.status == CHALLENGER_WON).then_some(())
    })
    .await;
    assert!(proposal(&l1, &s, index).await.removed);
    // By the challenger, a party, at once; not by the node's other agent (the proposer's),
    // which resolves others' games only a whole clock later.
    let filter = Filter::new()
        .address(s.dispute_game)
        .event_signature(IDisputeGame::GameResolved::SIGNATURE_HASH)
        .topic1(U256::from(id))
        .from_block(0);
    let resolutions = l1.get_logs(&filter).await.unwrap();
    let last = resolutions.last().expect("the game's resolution");
    let (resolver, _) = l1_transaction(&l1, last.transaction_hash.unwrap()).await;
    assert_eq!(
        resolver, s.challenger,
        "the challenger resolved game {id} again"
    );
}

/// Whether role `name`'s health reports an error containing `wanted` as its latest event.
async fn role_alarmed(devnet: &Devnet, name: &str, wanted: &str) -> bool {
    let roles = devnet.l2("rollup_getRoles", json!([])).await;
    roles["roles"].as_array().unwrap().iter().any(|role| {
        let at = |event: &str| role[event]["atMs"].as_u64().unwrap_or_default();
        role["name"] == name
            && at("lastError") >= at("lastSuccess")
            && role["lastError"]["message"]
                .as_str()
                .is_some_and(|error| error.contains(wanted))
    })
}

/// A devnet whose challenger cannot pay for a challenge (no ETH on L1): a false proposal
/// stays. Returns its L1 (and account 0's provider on it), kept for as long as the devnet.
async fn devnet_without_challenger(dir: &Path) -> (Anvil, Devnet, Setup, DynProvider) {
    let anvil = Anvil::start();
    let devnet = Devnet::start_fast(&anvil.url, dir);
    let s = setup(&devnet, dir);
    let l1 = devnet.l1(0);
    l1_rpc(&l1, "anvil_setBalance", json!([s.challenger, "0x0"])).await;
    (anvil, devnet, s, l1)
}

/// Moves L1 time past proposal `index`'s challenge period, which leaves it final.
async fn let_it_become_final(l1: &DynProvider, s: &Setup, index: u64) {
    let period: u64 = view(l1, s.state_manager, IStateManager::challengePeriodCall {})
        .await
        .to();
    advance(l1, period + 1).await;
    assert!(is_final(l1, s, index).await, "the false root is not final");
}

/// A live proposal of the proposer's own account that its node disagrees with (here made with
/// the proposer's key from the CLI; a safe-head proposal under an L1 reorg could be one) is an
/// alarm in the proposer's health at once, not only when it is final: unchallenged, it becomes
/// final. Once it is final the final-root alarm takes over.
#[test]
fn a_false_live_proposal_of_the_proposers_own_is_an_alarm() {
    support::run(a_false_live_proposal_of_the_proposers_own_is_an_alarm_body());
}

async fn a_false_live_proposal_of_the_proposers_own_is_an_alarm_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s, l1) = devnet_without_challenger(dir.path()).await;
    let proposer_account = devnet
        .info
        .accounts
        .iter()
        .position(|account| account.address == s.proposer)
        .expect("the proposer is a dev account");
    let false_root = B256::repeat_byte(0x66);
    // A block past the proposer role's own latest: the newest the inbox holds, once there is
    // one past the genesis. The role may propose it first: then try again with a newer one.
    let mut attempts = 0;
    let (index, block) = loop {
        attempts += 1;
        let block = until(&devnet, "a posted block past the genesis", || async {
            let next: u64 = view(&l1, s.batch_inbox, IBatchInbox::nextBlockCall {}).await;
            (next > 2).then_some(next - 1)
        })
        .await;
        let run = cli(
            &s.file,
            &[
                "propose",
                "--account",
                &proposer_account.to_string(),
                "--l2-block",
                &block.to_string(),
                "--state-root",
                &false_root.to_string(),
            ],
        )
        .await;
        if run.ok {
            let index = newest_proposal(&devnet, &l1, &s, "the false proposal", |p| {
                p.stateRoot == false_root
            })
            .await;
            break (index, block);
        }
        assert!(attempts < 8, "propose --state-root failed: {}", run.stderr);
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(proposal(&l1, &s, index).await.proposer, s.proposer);

    let live = format!(
        "live proposal(s) of this account disagree with this node's output roots now; the newest, #{index} of L2 block {block}"
    );
    until(
        &devnet,
        "the proposer's alarm on its own live proposal",
        || async { role_alarmed(&devnet, "proposer", &live).await.then_some(()) },
    )
    .await;
    assert!(
        !is_final(&l1, &s, index).await,
        "the alarm came only once final"
    );

    // Final: the alarm names it as final, and no longer as live.
    let_it_become_final(&l1, &s, index).await;
    let made_final = format!("#{index} of L2 block {block}, made");
    until(
        &devnet,
        "the proposer's alarm on the final root",
        || async {
            let final_alarm = role_alarmed(&devnet, "proposer", &made_final).await;
            let still_live = role_alarmed(&devnet, "proposer", "live proposal(s)").await;
            (final_alarm && !still_live).then_some(())
        },
    )
    .await;
}

/// A false root that became final (its challenger could not pay for a challenge) is an alarm
/// in the proposer's and the challenger's health for as long as they run: withdrawals can be
/// proven against it. (Every role stayed healthy before, the proposer said so once as a
/// warning.)
#[test]
fn a_false_root_that_became_final_is_an_alarm() {
    support::run(a_false_root_that_became_final_is_an_alarm_body());
}

async fn a_false_root_that_became_final_is_an_alarm_body() {
    let dir = tempfile::tempdir().unwrap();
    let (_anvil, devnet, s, l1) = devnet_without_challenger(dir.path()).await;
    until(&devnet, "a safe block past the genesis", || async {
        let status = devnet.l2("rollup_syncStatus", json!([])).await;
        (status["safeL2"]["number"].as_u64().unwrap_or_default() >= 2).then_some(())
    })
    .await;
    let false_root = B256::repeat_byte(0x77);
    let run = cli(
        &s.file,
        &[
            "propose",
            "--account",
            "5",
            "--state-root",
            &false_root.to_string(),
        ],
    )
    .await;
    assert!(run.ok, "propose --state-root failed: {}", run.stderr);
    let index = newest_proposal(&devnet, &l1, &s, "the false proposal", |p| {
        p.stateRoot == false_root
    })
    .await;
    let_it_become_final(&l1, &s, index).await;
    let alarm = format!(
        "final proposal(s) disagree with this node's output roots; the newest, #{index} of L2 block"
    );
    until(
        &devnet,
        "the proposer's and challenger's alarms",
        || async {
            (role_alarmed(&devnet, "proposer", &alarm).await
                && role_alarmed(&devnet, "challenger", &alarm).await)
                .then_some(())
        },
    )
    .await;
}
