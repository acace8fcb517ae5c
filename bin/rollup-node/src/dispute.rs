//! User commands of the fraud proof: `propose`, `challenge` and `disputes`.
//!
//! They find the chains and contracts as the bridge commands do ([`Client`]: a `devnet.json`,
//! or `--config` with URLs and key), simulate every transaction first and name the contract's
//! error when it would revert. The dispute game's address is read from the StateManager
//! (`disputeGame()`), so a game the timelock replaced is followed without a config change.
//! What the node agrees with is its output root of a block (`rollup_getProof`'s
//! `outputRootHash`), the root a proposal of that block carries.

use std::time::Duration;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::Provider;
use alloy_sol_types::{SolCall, SolEvent};
use eyre::{bail, eyre};
use rollup_primitives::bindings::{IDisputeGame, IStateManager};
use serde_json::{Value, json};

use crate::{
    cli::{ChallengeArgs, ClaimArgs, DisputesArgs, ProposeArgs},
    client::{Agreement, Client, quantity, utc},
};

/// Most proposals `propose` reads through the node while looking for its anchor.
const MAX_ANCHOR_SCAN: u64 = 10_000;
/// `rollup_getProposals`' page size.
const PAGE: u64 = 100;

/// `wei` in ether without trailing zeros.
fn ether(wei: U256) -> String {
    crate::client::format_amount(wei, 18)
}

/// The `DisputeGame` new games open in.
async fn dispute_game(client: &Client) -> eyre::Result<Address> {
    let game = client
        .l1_view(client.state_manager, IStateManager::disputeGameCall {})
        .await
        .map_err(|err| {
            eyre!(
                "{err} (is this StateManager from before the fraud proof? it has no dispute game)"
            )
        })?;
    if game.is_zero() {
        bail!("the StateManager has no dispute game set: nothing to challenge in");
    }
    Ok(game)
}

/// `anchor` for a proposal of L2 block `number`: 1 + the index of the final proposal of the
/// highest block below `number` whose root the node agrees with (`matchesLocal`), or 0 (the
/// genesis). Read through the node's `rollup_getProposals`, at most [`MAX_ANCHOR_SCAN`].
async fn find_anchor(client: &Client, number: u64) -> eyre::Result<u64> {
    let mut best: Option<(u64, u64)> = None;
    let mut from = 0;
    loop {
        let page = client
            .l2_rpc("rollup_getProposals", json!([from, PAGE]))
            .await?;
        let total = quantity(&page["count"]).unwrap_or_default();
        let proposals = page["proposals"].as_array().cloned().unwrap_or_default();
        for proposal in &proposals {
            let (Some(index), Some(block)) =
                (quantity(&proposal["index"]), quantity(&proposal["l2Block"]))
            else {
                continue;
            };
            if proposal["status"] == "final"
                && proposal["matchesLocal"] == Value::Bool(true)
                && block < number
                && best.is_none_or(|(_, best_block)| block > best_block)
            {
                best = Some((index, block));
            }
        }
        from += PAGE;
        if proposals.is_empty() || from >= total || from >= MAX_ANCHOR_SCAN {
            break;
        }
    }
    Ok(best.map_or(0, |(index, _)| index + 1))
}

/// `rollup-node propose`.
pub(crate) async fn propose(args: ProposeArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let number = match args.l2_block {
        Some(number) => number,
        None => client.safe_head().await.ok_or_else(|| {
            eyre!("cannot read the node's safe head (rollup_syncStatus): pass --l2-block")
        })?,
    };
    if number == 0 {
        bail!("L2 block 0 is the genesis, every proposal's first anchor: propose a later block");
    }
    if let Some(safe) = client.safe_head().await
        && number > safe
    {
        bail!(
            "the node has not derived L2 block {number} as safe yet (its safe head is {safe}): wait for it, or pick an earlier --l2-block"
        );
    }
    let local = client.local_output_root(number).await?;
    let root = match (args.state_root, local) {
        (Some(root), Some(local)) if root == local => root,
        (Some(root), _) => {
            eprintln!(
                "WARNING: {root} is not your node's output root of L2 block {number} ({}): a false proposal; any challenger wins its game and takes your proposal bond",
                local.map_or_else(|| "not derived yet".to_string(), |l| l.to_string())
            );
            root
        }
        (None, Some(local)) => local,
        (None, None) => bail!(
            "the node has not derived L2 block {number} as safe, so it has no output root for it: wait for the block to become safe, or pick another --l2-block"
        ),
    };
    let own = client
        .l1_view(
            client.state_manager,
            IStateManager::latestProposalOfCall {
                account: client.sender,
            },
        )
        .await?;
    if own.found {
        let latest = client.proposal(own.index).await?;
        if latest.l2BlockNumber >= number {
            bail!(
                "your latest live proposal (#{}) is for L2 block {}: a new one must be for a later block than {number}",
                own.index,
                latest.l2BlockNumber
            );
        }
    }
    let anchor = find_anchor(&client, number).await?;
    let proof = client
        .l2_rpc(
            "rollup_getProof",
            json!([Address::ZERO, [], format!("{number:#x}")]),
        )
        .await?;
    let block_hash: B256 = proof["blockHash"]
        .as_str()
        .and_then(|hash| hash.parse().ok())
        .ok_or_else(|| eyre!("the node does not have L2 block {number}"))?;
    // The node's own answer, read with the L1 block below: a root read before an L1 reorg
    // moved the block's record is not proposed with a hash read after it.
    if args.state_root.is_none()
        && proof["outputRootHash"]
            .as_str()
            .and_then(|hash| hash.parse().ok())
            != Some(root)
    {
        bail!(
            "the node derived L2 block {number} again while this command ran (an L1 reorg?): run it again"
        );
    }
    // The L1 block the output was derived from (or a descendant) and its hash as the node
    // processed it: a reorg that moves the block's record makes L1 refuse this proposal
    // instead of taking it as a false one.
    let derived_in = quantity(&proof["outputRoot"]["l1Block"]).ok_or_else(|| {
        eyre!("the node has not derived L2 block {number} as safe: it names no L1 block for it")
    })?;
    let derived_in_hash: B256 = proof["outputL1BlockHash"]
        .as_str()
        .and_then(|hash| hash.parse().ok())
        .ok_or_else(|| {
            eyre!("the node names no hash for L1 block {derived_in}, which it derived L2 block {number} from: update it, or wait for it to catch up")
        })?;
    let mut l1_tip = client.l1.get_block_number().await?;
    // `blockhash` knows a block only once another is on top of it: a proposal naming L1's
    // newest block reverts `StateManager_L1BlockHashUnavailable` wherever the L1 simulates it
    // as of that block. Wait for the next one (about a slot).
    let waited = std::time::Instant::now();
    while l1_tip <= derived_in {
        if waited.elapsed() >= Duration::from_secs(60) {
            bail!(
                "L1 made no block on top of block {derived_in}, which the node derived L2 block {number} from, in a minute: the proposal must name that block, and L1 tells its hash only once another follows it. Is the L1 node producing blocks?"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        l1_tip = client.l1.get_block_number().await?;
    }
    let l1_number = rollup_proposer::proposal_l1_block(derived_in, l1_tip);
    let l1_hash = if l1_number == derived_in {
        derived_in_hash
    } else {
        // An older record: a descendant of its block on L1's chain, once L1 still has that block.
        let on_l1 = |number: u64| {
            let l1 = client.l1.clone();
            async move {
                Ok::<_, eyre::Report>(
                    l1.get_block_by_number(number.into())
                        .await?
                        .ok_or_else(|| eyre!("the L1 node has no block {number}"))?
                        .header
                        .hash,
                )
            }
        };
        if on_l1(derived_in).await? != derived_in_hash {
            bail!(
                "L1 block {derived_in}, which the node derived L2 block {number} from, is another block on the L1 now: the node has not followed an L1 reorg yet; wait for it"
            );
        }
        on_l1(l1_number).await?
    };

    // Nothing on L1 reads the batch root; a proposal made here commits to its output root.
    let batch_root = keccak256([b"rollup-node propose".as_slice(), root.as_slice()].concat());
    let proof = rollup_proposer::anchored_proof(
        number,
        block_hash,
        anchor,
        rollup_primitives::BlockNumHash {
            number: l1_number,
            hash: l1_hash,
        },
    );
    let submit = IStateManager::submitStateRootCall {
        stateRoot: root,
        batchRoot: batch_root,
        proof,
    }
    .abi_encode();
    // Every check the StateManager makes before it draws the bond, before any bond is
    // deposited: a proposal it refuses must not leave a deposit behind.
    client
        .check_l1_call(
            client.state_manager,
            submit.clone(),
            Some("StateManager_InsufficientBond"),
            "StateManager.submitStateRoot",
        )
        .await?;

    // The bond: topped up like the proposer role does.
    let bond = client
        .l1_view(client.state_manager, IStateManager::proposalBondCall {})
        .await?;
    let balance = client
        .l1_view(
            client.state_manager,
            IStateManager::bondBalanceCall {
                account: client.sender,
            },
        )
        .await?;
    if balance < bond {
        let top_up = bond - balance;
        let receipt = client
            .send(
                false,
                client.state_manager,
                IStateManager::depositBondCall {}.abi_encode(),
                top_up,
                "StateManager.depositBond",
            )
            .await?;
        out!(
            "deposited {} ETH of bond (L1 tx {})",
            ether(top_up),
            receipt.transaction_hash
        );
    }
    let receipt = client
        .send(
            false,
            client.state_manager,
            submit,
            U256::ZERO,
            "StateManager.submitStateRoot",
        )
        .await?;
    let index = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == client.state_manager)
        .find_map(|log| IStateManager::StateRootSubmitted::decode_log_data(log.data()).ok())
        .map(|event| event.index);
    out!(
        "proposed {root} for L2 block {number} ({}), anchored on {}",
        if local == Some(root) {
            "your node's output root"
        } else {
            "NOT your node's output root"
        },
        if anchor == 0 {
            "the genesis".to_string()
        } else {
            format!("proposal #{}", anchor - 1)
        }
    );
    match index {
        Some(index) => out!("proposal: #{index}"),
        None => out!("proposal: (its StateRootSubmitted log was not found)"),
    }
    out!("L1 tx: {}", receipt.transaction_hash);
    out!("bond: {} ETH", ether(bond));
    Ok(())
}

/// How many of the newest games `rollup-node challenge` reads for one of the account's own in
/// progress on the proposal.
const OPEN_GAME_SCAN: u64 = 512;

/// `rollup-node challenge`.
pub(crate) async fn challenge(args: ChallengeArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let index = U256::from(args.proposal);
    let proposal = client.proposal(index).await?;
    if proposal.removed {
        bail!(
            "proposal #{} was already removed: nothing to challenge",
            args.proposal
        );
    }
    let number = proposal.l2BlockNumber;
    let local = client.local_output_root(number).await?;
    match local {
        Some(local) if local == proposal.stateRoot && !args.force => bail!(
            "your node agrees with proposal #{}: {local} is its output root of L2 block {number}. A challenge of a true root loses the bond to the proposer; --force challenges anyway",
            args.proposal
        ),
        None if !args.force => bail!(
            "your node has not derived L2 block {number} as safe, so it cannot tell whether proposal #{} is false: wait for it to catch up, or --force",
            args.proposal
        ),
        Some(local) if local != proposal.stateRoot => out!(
            "proposal #{} claims {} for L2 block {number}; your node's output root is {local}",
            args.proposal,
            proposal.stateRoot
        ),
        _ => eprintln!(
            "WARNING: challenging with --force although your node does not disagree: the bond is lost if the root is true"
        ),
    }
    let game = dispute_game(&client).await?;
    let bond = client
        .l1_view(game, IDisputeGame::challengerBondCall {})
        .await?;
    if !args.force {
        // A challenge of this account still in the L1 pool (a challenger role holding the key
        // sent it) is no game yet: a second one now would post a second bond.
        let read = |err| crate::client::explain("reading the account's nonce on L1", &err);
        let mined = client
            .l1
            .get_transaction_count(client.sender)
            .await
            .map_err(read)?;
        let pending = client
            .l1
            .get_transaction_count(client.sender)
            .pending()
            .await
            .map_err(read)?;
        if pending > mined {
            bail!(
                "{} has {} transaction(s) waiting in the L1 pool (nonces {mined}..{pending}); if a challenger role holds this key, one may be its challenge of proposal #{}. Run this again once they are mined (`rollup-node disputes` then shows any game), or --force",
                client.sender,
                pending - mined,
                args.proposal
            );
        }
    }
    let open = client.open_games(index).await?;
    if open > 0 && !args.force {
        // A game in progress is usually among the newest: read back from the newest until the
        // proposal's open games are seen (`openGames` also counts those of a dispute game an
        // upgrade replaced), at most a few hundred.
        let count = client
            .l1_view(game, IDisputeGame::gameCountCall {})
            .await?
            .saturating_to::<u64>();
        let (mut seen, mut id) = (0, count);
        while seen < open && id > count.saturating_sub(OPEN_GAME_SCAN) {
            id -= 1;
            let g = client
                .l1_view(game, IDisputeGame::gamesCall { id: U256::from(id) })
                .await?;
            if g.proposal != args.proposal || g.status != 1 {
                continue;
            }
            seen += 1;
            if g.challenger == client.sender {
                bail!(
                    "{} already plays game #{id} on proposal #{} (in progress): a second challenge would post a second bond on the same dispute. A challenger role holding this key plays that game; `rollup-node disputes` shows it. --force challenges anyway",
                    client.sender,
                    args.proposal
                );
            }
        }
    }
    if open > 0 {
        out!(
            "note: proposal #{} already has {open} open game(s); if one of them removes it, this game ends refunded (`rollup-node claim` collects the bond)",
            args.proposal
        );
    }
    let receipt = client
        .send(
            false,
            game,
            // The root checked above: if the proposal is not what was read (replaced before it
            // was mined, or an L1 reorg), the challenge reverts instead of disputing another.
            IDisputeGame::challengeCall {
                proposal: index,
                outputRoot: proposal.stateRoot,
            }
            .abi_encode(),
            bond,
            "DisputeGame.challenge",
        )
        .await?;
    let created = receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == game)
        .find_map(|log| IDisputeGame::GameCreated::decode_log_data(log.data()).ok());
    out!("L1 tx: {}", receipt.transaction_hash);
    out!("bond: {} ETH", ether(bond));
    if let Some(created) = created {
        let id = created.game;
        let deadline = client
            .l1_view(game, IDisputeGame::deadlineCall { id })
            .await?;
        out!(
            "game: #{id} on proposal #{}, L2 blocks {}..{}",
            args.proposal,
            created.lo,
            created.hi
        );
        out!(
            "next: the proposer must bisect by {} (or lose); then you pick on each of its claims before your clock runs out. Only a node whose challenger role signs with this account (`rollup-node node --challenger-key`, running before your clock runs out) plays those moves: without one this challenge loses its bond on the clock. `rollup-node disputes` shows the game",
            utc(deadline.saturating_to::<u64>())
        );
    }
    out!(
        "once the game is over: `rollup-node claim` resolves it if nobody has, and collects your bond back, and half the proposal's bond if this game removed it (the other half is burned; if another game or the guardian removed it first, only your bond comes back)"
    );
    Ok(())
}

/// Most proposals `claim` reads back from the newest when it looks for this account's final
/// proposals whose bond has not come back.
const MAX_CLAIM_SCAN: u64 = 1_000;

/// Most games `claim` reads back from the newest when it looks for games this account plays.
const MAX_GAME_SCAN: u64 = 256;

/// Ends the games in progress this account plays (as challenger, or as the proposer of the
/// disputed proposal) that are over in its favour, so that what they owe it becomes credit
/// `claimCredit` pays: a challenger's whose proposal another game or the guardian removed (its
/// bond refunded), and either side's whose opponent ran out of time. The node's dispute roles
/// resolve their own games at once; a game played from the command line would otherwise wait
/// for someone else to resolve it. A game this account lost on its own clock is left to the
/// winner, as the node's agent leaves it: resolving it for a defender that also challenged its
/// own proposal would remove the proposal before its other games paid their bonds to it.
/// Prints those still running, and those lost on this account's clock.
async fn resolve_own_games(client: &Client, game: Address) -> eyre::Result<()> {
    let me = client.sender;
    let now = client.l1_time().await?;
    let count = client
        .l1_view(game, IDisputeGame::gameCountCall {})
        .await?
        .saturating_to::<u64>();
    if count > MAX_GAME_SCAN {
        out!(
            "looked at the newest {MAX_GAME_SCAN} dispute games (#{}..#{}) for games of yours to resolve",
            count - MAX_GAME_SCAN,
            count - 1
        );
    }
    // Per proposal: its proposer, and whether it is removed (also by a resolve sent here).
    let mut proposals = std::collections::HashMap::new();
    for id in (count.saturating_sub(MAX_GAME_SCAN)..count).rev() {
        let g = client
            .l1_view(game, IDisputeGame::gamesCall { id: U256::from(id) })
            .await?;
        if g.status != 1 {
            continue;
        }
        let (proposer, removed) = match proposals.get(&g.proposal) {
            Some(known) => *known,
            None => {
                let p = client.proposal(U256::from(g.proposal)).await?;
                *proposals
                    .entry(g.proposal)
                    .or_insert((p.proposer, p.removed))
            }
        };
        let challenger = g.challenger == me;
        if !challenger && proposer != me {
            continue;
        }
        let deadline = client
            .l1_view(game, IDisputeGame::deadlineCall { id: U256::from(id) })
            .await?
            .saturating_to::<u64>();
        let side = match (challenger, proposer == me) {
            (true, true) => "challenger of your own proposal",
            (true, false) => "challenger",
            _ => "proposer",
        };
        let to_move_is_me = if g.proposerToMove {
            proposer == me
        } else {
            challenger
        };
        let (resolve, why) = if removed {
            (
                challenger,
                "its proposal was removed: the challenger's bond is refunded",
            )
        } else if deadline <= now && to_move_is_me {
            (
                false,
                "you ran out of time to move: the other side won it and resolves it",
            )
        } else if deadline <= now {
            (true, "the other side ran out of time to move: you won it")
        } else {
            out!(
                "game #{id} on proposal #{} ({side}): in progress, {} to move by {}; {}",
                g.proposal,
                if to_move_is_me {
                    "you are"
                } else {
                    "the other side is"
                },
                utc(deadline),
                if challenger {
                    format!(
                        "your bond of {} ETH stays in it until it ends",
                        ether(g.bond)
                    )
                } else {
                    "your proposal's bond stays drawn until it ends".to_string()
                }
            );
            continue;
        };
        if !resolve {
            out!("game #{id} on proposal #{} ({side}): {why}", g.proposal);
            continue;
        }
        match client
            .send(
                false,
                game,
                IDisputeGame::resolveCall { id: U256::from(id) }.abi_encode(),
                U256::ZERO,
                "DisputeGame.resolve",
            )
            .await
        {
            Ok(receipt) => {
                out!(
                    "game #{id} on proposal #{} ({side}): {why}; resolved (L1 tx {})",
                    g.proposal,
                    receipt.transaction_hash
                );
                // The proposer ran out of time: the challenger won and the proposal is
                // removed, so its other games (read next) are over too.
                if g.proposerToMove && !removed {
                    proposals.insert(g.proposal, (proposer, true));
                }
            }
            // Someone may have resolved it since it was read: the next run sees it.
            Err(err) => out!(
                "game #{id} on proposal #{} ({side}): {why}, but resolving it failed: {err:#}",
                g.proposal
            ),
        }
    }
    Ok(())
}

/// `rollup-node claim`.
pub(crate) async fn claim(args: ClaimArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let me = client.sender;
    let mut collected = false;

    // Games over in this account's favour first: resolving them turns them into credit. A
    // failed read there leaves the rest of the claim to go on.
    let game = dispute_game(&client).await?;
    if let Err(err) = resolve_own_games(&client, game).await {
        out!("could not look through the dispute games for games of yours to resolve: {err:#}");
    }

    // Credit in the dispute game: won games, refunds.
    let credit = client
        .l1_view(game, IDisputeGame::creditCall { account: me })
        .await?;
    if credit.is_zero() {
        out!("DisputeGame credit: none");
    } else {
        let receipt = client
            .send(
                false,
                game,
                IDisputeGame::claimCreditCall { recipient: me }.abi_encode(),
                U256::ZERO,
                "DisputeGame.claimCredit",
            )
            .await?;
        out!(
            "DisputeGame credit: {} ETH paid to {me} (L1 tx {})",
            ether(credit),
            receipt.transaction_hash
        );
        collected = true;
    }

    // Bonds of this account's final proposals, back into its bond balance.
    let count: U256 = client
        .l1_view(client.state_manager, IStateManager::proposalCountCall {})
        .await?;
    let count = count.saturating_to::<u64>();
    let mut returned = U256::ZERO;
    let mut pending = Vec::new();
    for index in (count.saturating_sub(MAX_CLAIM_SCAN)..count).rev() {
        let proposal = client.proposal(U256::from(index)).await?;
        if proposal.proposer != me || proposal.removed || proposal.bondReturned {
            continue;
        }
        if !client
            .l1_view(
                client.state_manager,
                IStateManager::isFinalCall {
                    index: U256::from(index),
                },
            )
            .await?
        {
            pending.push(index);
            continue;
        }
        client
            .send(
                false,
                client.state_manager,
                IStateManager::returnBondCall {
                    index: U256::from(index),
                }
                .abi_encode(),
                U256::ZERO,
                "StateManager.returnBond",
            )
            .await?;
        out!(
            "proposal #{index} is final: its bond of {} ETH is back in the bond balance",
            ether(proposal.bond)
        );
        returned += proposal.bond;
    }
    if count > MAX_CLAIM_SCAN {
        out!(
            "looked at the newest {MAX_CLAIM_SCAN} proposals (#{}..#{}); a final one of yours older than that returns its bond with `StateManager.returnBond(index)` (the StateManager is {})",
            count - MAX_CLAIM_SCAN,
            count - 1,
            client.state_manager
        );
    }
    if !pending.is_empty() {
        pending.reverse();
        out!(
            "not final yet, their bonds stay drawn: proposal(s) {}",
            pending
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // The bond balance itself.
    let balance = client
        .l1_view(
            client.state_manager,
            IStateManager::bondBalanceCall { account: me },
        )
        .await?;
    if balance.is_zero() {
        out!("StateManager bond balance: none");
    } else if args.keep_bond {
        out!(
            "StateManager bond balance: {} ETH, kept (--keep-bond) for your next proposal",
            ether(balance)
        );
    } else {
        let receipt = client
            .send(
                false,
                client.state_manager,
                IStateManager::withdrawBondCall { amount: balance }.abi_encode(),
                U256::ZERO,
                "StateManager.withdrawBond",
            )
            .await?;
        out!(
            "StateManager bond balance: {} ETH paid to {me} (L1 tx {})",
            ether(balance),
            receipt.transaction_hash
        );
        collected = true;
    }
    if !collected && returned.is_zero() {
        out!("nothing to collect");
    }
    Ok(())
}

/// A game's status as `disputes` prints it.
fn game_status(status: u8) -> &'static str {
    match status {
        1 => "in progress",
        2 => "proposer won",
        3 => "challenger won",
        _ => "unknown",
    }
}

/// `rollup-node disputes`.
pub(crate) async fn disputes(mut args: DisputesArgs) -> eyre::Result<()> {
    // Reading needs no key: a throwaway one satisfies --config's requirement, and signs nothing.
    if args.client.config.is_some() && args.client.private_key.is_none() {
        args.client.private_key = Some(format!("{:#x}", B256::with_last_byte(1)));
    }
    let client = Client::new(&args.client).await?;
    let now = client.l1_time().await?;
    let period = client
        .l1_view(client.state_manager, IStateManager::challengePeriodCall {})
        .await?
        .saturating_to::<u64>();
    let count = client
        .l1_view(client.state_manager, IStateManager::proposalCountCall {})
        .await?
        .saturating_to::<u64>();
    out!(
        "proposals ({count} in all, challenge period {period} s, L1 time {})",
        utc(now)
    );
    out!(
        "{:>6}  {:>9}  {:<10}  {:>5}  {:>6}  {:<5}  {:<42}  root",
        "index",
        "l2 block",
        "status",
        "games",
        "anchor",
        "agree",
        "proposer"
    );
    let mut other_block_hash = false;
    for i in count.saturating_sub(args.count)..count {
        let index = U256::from(i);
        let p = client.proposal(index).await?;
        let dispute = client
            .l1_view(client.state_manager, IStateManager::disputeOfCall { index })
            .await
            .ok();
        let open = dispute.as_ref().map_or(0, |d| d.openGames);
        let status = if p.removed {
            "removed"
        } else if open > 0 {
            "challenged"
        } else if now >= p.timestamp + period {
            "final"
        } else {
            "pending"
        };
        let agree = match client.local_output(p.l2BlockNumber).await {
            Ok(Some(local)) => match local.judge(&p) {
                Agreement::Agrees => "yes",
                Agreement::Disagrees => "NO",
                Agreement::OtherBlockHash => {
                    other_block_hash = true;
                    "HASH"
                }
            },
            _ => "?",
        };
        let anchor = dispute.as_ref().map_or_else(
            || "?".to_string(),
            |d| match d.anchor {
                0 => "gen".to_string(),
                a => format!("#{}", a - 1),
            },
        );
        // A removed proposal's games no longer count in the `StateManager`, which leaves its
        // counter where the removal found it: games still shown open there read as running.
        let open = if p.removed {
            "-".to_string()
        } else {
            open.to_string()
        };
        out!(
            "{i:>6}  {:>9}  {status:<10}  {open:>5}  {anchor:>6}  {agree:<5}  {:<42}  {}",
            p.l2BlockNumber,
            p.proposer.to_string(),
            p.stateRoot
        );
    }
    if other_block_hash {
        out!(
            "HASH: your node's output root, with another L2 block hash beside it: L1Bridge proves no withdrawal against such a proposal, and no game removes it (its root is true)"
        );
    }
    let game = match client
        .l1_view(client.state_manager, IStateManager::disputeGameCall {})
        .await
    {
        Ok(game) if !game.is_zero() => game,
        _ => {
            out!("no dispute game is set in the StateManager");
            return Ok(());
        }
    };
    let games = client
        .l1_view(game, IDisputeGame::gameCountCall {})
        .await?
        .saturating_to::<u64>();
    out!("\ndispute games in {game} ({games} in all)");
    out!(
        "{:>5}  {:>8}  {:<14}  {:>5}  {:<21}  {:<10}  {:<42}  deadline",
        "id",
        "proposal",
        "status",
        "level",
        "range",
        "turn",
        "challenger"
    );
    // Per proposal: whether it is removed, the L1 block to search its logs from, and the
    // transaction that removed it.
    let mut removals: std::collections::HashMap<u64, (bool, u64, Option<B256>)> =
        std::collections::HashMap::new();
    let mut any_refunded = false;
    for id in games.saturating_sub(args.count)..games {
        let g = client
            .l1_view(game, IDisputeGame::gamesCall { id: U256::from(id) })
            .await?;
        let in_progress = g.status == 1;
        let (removed, from_block, removal) = match removals.get(&g.proposal) {
            Some(known) => *known,
            None => {
                let p = client.proposal(U256::from(g.proposal)).await?;
                let removal = if p.removed {
                    first_log_tx(
                        &client,
                        client.state_manager,
                        IStateManager::ProposalRemoved::SIGNATURE_HASH,
                        g.proposal,
                        p.l1Block,
                    )
                    .await
                } else {
                    None
                };
                *removals
                    .entry(g.proposal)
                    .or_insert((p.removed, p.l1Block, removal))
            }
        };
        // A challenger whose game ended after another game (or the guardian) had removed the
        // proposal got its bond back and no reward: the removal was another transaction than
        // this game's resolution.
        let refunded = g.status == 3
            && match removal {
                Some(removal) => first_log_tx(
                    &client,
                    game,
                    IDisputeGame::GameResolved::SIGNATURE_HASH,
                    id,
                    from_block,
                )
                .await
                .is_some_and(|resolution| resolution != removal),
                None => false,
            };
        let status = if refunded {
            any_refunded = true;
            "refunded"
        } else {
            game_status(g.status)
        };
        let range = if g.level == 1 {
            format!("block {} {}..{}", g.l2Block, g.lo, g.hi)
        } else {
            format!("blocks {}..{}", g.lo, g.hi)
        };
        let (turn, deadline) = if in_progress {
            let deadline = client
                .l1_view(game, IDisputeGame::deadlineCall { id: U256::from(id) })
                .await?
                .saturating_to::<u64>();
            (
                if g.proposerToMove {
                    "proposer"
                } else {
                    "challenger"
                },
                if removed {
                    "- (proposal removed: anyone may resolve; refunds the challenger)".to_string()
                } else if deadline <= now {
                    format!("{} (expired: anyone may resolve)", utc(deadline))
                } else {
                    utc(deadline)
                },
            )
        } else {
            ("-", "-".to_string())
        };
        out!(
            "{id:>5}  {:>8}  {:<14}  {:>5}  {range:<21}  {turn:<10}  {:<42}  {deadline}",
            g.proposal,
            status,
            g.level,
            g.challenger.to_string()
        );
    }
    if any_refunded {
        out!(
            "refunded: another game or the guardian had removed the proposal; the challenger got its bond back, and the removal's reward went to whoever removed it"
        );
    }
    Ok(())
}

/// The L1 transaction of the first log of `event` from `contract` whose first indexed topic is
/// `key`, searched from L1 block `from_block`: the removal of a proposal (`ProposalRemoved`,
/// from the proposal's own L1 block, before which it could not be removed), the resolution of a
/// game (`GameResolved`). `None` when the log cannot be read (an L1 endpoint that limits log
/// ranges): `disputes` then prints the game's status as the contract records it.
async fn first_log_tx(
    client: &Client,
    contract: Address,
    event: B256,
    key: u64,
    from_block: u64,
) -> Option<B256> {
    let filter = alloy_rpc_types_eth::Filter::new()
        .address(contract)
        .event_signature(event)
        .topic1(U256::from(key))
        .from_block(from_block);
    client
        .l1
        .get_logs(&filter)
        .await
        .ok()?
        .first()?
        .transaction_hash
}
