//! The proposer loop.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use rollup_l1::{L1Error, L1Sender};
use rollup_primitives::{
    BlockNumHash, Heads, OutputRoot, RoleHealth, batch_root,
    bindings::{IStateManager, Proposal},
    decode_l1_origin,
};
use rollup_storage::{StorageError, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

/// Proposer errors.
#[derive(Debug, thiserror::Error)]
pub enum ProposerError {
    /// Reading L2 blocks failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Talking to L1 failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// An L1 read failed (transport, node): retried next round, never taken for "nothing".
    #[error("reading the StateManager failed: {0}")]
    Read(String),
    /// An L1 read reverted.
    #[error("a StateManager call reverted: {0}")]
    Reverted(String),
    /// The block to propose is not stored.
    #[error("L2 block {0} is not stored")]
    MissingBlock(u64),
    /// The block to propose has no derivation record (the `BatchInbox` record it came from), so
    /// its output root cannot be built: only safe blocks are proposed, and derivation records
    /// every safe block. Retried next round; if it persists the database lost the record (a
    /// database from before derivation cursors were recorded needs a resync).
    #[error(
        "L2 block {0} has no derivation record (inbox record, position, L1 block): its output root cannot be built"
    )]
    NotDerived(u64),
    /// The L1 block a proposal names is not among the L1 blocks the node processed.
    #[error("L1 block {0} is not among the L1 blocks this node processed")]
    MissingL1Block(u64),
    /// The key may not propose: every proposal would revert, so no bond is deposited for one.
    #[error(
        "the proposer key's account {key} is not the StateManager's proposer {proposer}, and proposals are not permissionless: every proposal would revert (StateManager_NotProposer); no bond was deposited. Use the proposer's key, or have the owner make this account the proposer (setProposer)"
    )]
    NotProposer {
        /// The key's account.
        key: alloy_primitives::Address,
        /// The StateManager's proposer.
        proposer: alloy_primitives::Address,
    },
}

/// Which L2 head the proposer proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProposalHead {
    /// The finalized head: derived from finalized L1 blocks, so no L1 reorg can change it and
    /// an honest proposal can never be invalidated by one. The production choice.
    #[default]
    Finalized,
    /// The safe head: derived from L1 data that an L1 reorg may still remove (the proposal is
    /// then made again). For devnets, whose L1 finality is simulated.
    Safe,
}

/// Proposer settings.
#[derive(Debug, Clone, Copy)]
pub struct ProposerConfig {
    /// The L1 `StateManager`.
    pub state_manager: Address,
    /// How often to consider a new proposal.
    pub interval: Duration,
    /// Which head to propose.
    pub head: ProposalHead,
}

/// The commitment a block without a batch (an epoch forced in when the sequencing window
/// closed) contributes to a proposal's batch root: it is derived from its L1 origin alone.
pub fn forced_block_commitment(origin: B256) -> B256 {
    alloy_primitives::keccak256([b"forced-epoch".as_slice(), origin.as_slice()].concat())
}

/// The output root of L2 block `number` as this node derived it; `None` unless the block is
/// stored and has its derivation record (safe), or is the genesis. What the proposer agrees
/// with.
pub(crate) fn local_output_root(
    store: &Store,
    number: u64,
) -> Result<Option<OutputRoot>, ProposerError> {
    Ok(store.reader()?.output_root(number)?)
}

/// `submitStateRoot`'s 160-byte proof: `abi.encode(uint64 number, bytes32 hash, uint256 anchor,
/// uint256 l1Number, bytes32 l1Hash)`, `anchor` = 1 + the index of the final proposal the range
/// starts at, 0 for the L2 genesis, and `l1` an L1 block the output was derived from
/// ([`proposal_l1_block`]), which L1 checks against its own hash of that block.
pub fn anchored_proof(number: u64, hash: B256, anchor: u64, l1: BlockNumHash) -> Bytes {
    (
        number,
        hash,
        U256::from(anchor),
        U256::from(l1.number),
        l1.hash,
    )
        .abi_encode_params()
        .into()
}

/// Whether a send failed because the `StateManager` refused the proof's form
/// (`StateManager_MalformedProof()`).
fn refused_as_malformed(err: &L1Error) -> bool {
    let L1Error::Rpc { source, .. } = err else {
        return false;
    };
    source
        .as_error_resp()
        .and_then(|payload| payload.as_revert_data())
        .is_some_and(|data| {
            data.starts_with(&alloy_primitives::keccak256("StateManager_MalformedProof()")[..4])
        })
}

/// The most bonds of final proposals the proposer returns to its balance in one round (sent
/// together); the rest wait for the next round.
const MAX_BOND_RETURNS_PER_ROUND: usize = 16;

/// Below this many L1 blocks under the node's L1 tip, a proposal names the L1 block that
/// appended its L2 block's inbox record; further down, the block [`PROPOSAL_L1_DEPTH`] under
/// the tip. Either is at most this old when the proposal is sent, plus the node's
/// `--l1-confirmations` and the time the proposal waits in L1's pool: inside the 256 blocks
/// `blockhash` tells with room to spare (with EIP-2935, 8 191).
pub const PROPOSAL_L1_RECENT: u64 = 128;

/// How far under the L1 tip a proposal of an older record names its L1 block: deep enough
/// that no reorg L1 sees moves it.
pub const PROPOSAL_L1_DEPTH: u64 = 64;

/// The L1 block a proposal names, with its hash, so that L1 refuses it on any chain where that
/// block is another (`StateManager_L1BlockHashMismatch`): the block that appended the proposed
/// L2 block's inbox record (`derived_in`, the output root's `l1Block`), or, when that is more
/// than [`PROPOSAL_L1_RECENT`] blocks under the node's L1 tip `l1_tip`, a descendant of it
/// [`PROPOSAL_L1_DEPTH`] under the tip. An L1 reorg that moves the record changes that block,
/// so the proposal L1 would replay onto the new chain from its mempool (an output root naming
/// the record's old L1 block: false) reverts instead of losing its bond to a challenger.
pub fn proposal_l1_block(derived_in: u64, l1_tip: u64) -> u64 {
    if l1_tip.saturating_sub(derived_in) <= PROPOSAL_L1_RECENT {
        derived_in
    } else {
        l1_tip - PROPOSAL_L1_DEPTH
    }
}

/// What a proposal round's failure usually means, for the errors whose names do not say it.
fn round_failure_hint(err: &str) -> &'static str {
    if err.contains("StateManager_L1BlockHashMismatch")
        || err.contains("StateManager_L1BlockHashUnavailable")
    {
        " (L1's blockhash of the L1 block the proposal names is not the hash this node followed, or L1 does not tell it (not yet: an L1 endpoint behind the one the node follows, a lagging load-balanced backend; no longer: older than 8 191 blocks, or 256 without the EIP-2935 history contract): an L1 reorg since the node read it, or anvil after it reloaded its saved state, whose BLOCKHASH disagrees with its RPC for the blocks before; the next rounds retry, and name a newer L1 block once the record is 128 L1 blocks old)"
    } else {
        ""
    }
}

/// Most proposals one round reads while looking for anchors: bounds a round's L1 reads
/// whatever others propose (the rest is read in later rounds).
const ANCHOR_SCAN_PER_ROUND: u64 = 256;

/// The alarm the proposer and the challenger raise while final proposals disagree with this
/// node (`found`: proposal index → (L2 block, final root, this node's root)), naming the
/// newest; `None` while there are none.
pub(crate) fn final_disagreement_alarm(found: &BTreeMap<u64, (u64, B256, B256)>) -> Option<String> {
    let (index, (block, root, ours)) = found.last_key_value()?;
    Some(format!(
        "{} final proposal(s) disagree with this node's output roots; the newest, #{index} of L2 block {block}, made {root} final where this node has {ours}: withdrawals can be proven against it, tell the guardian",
        found.len()
    ))
}

/// What the proposer learned about anchors: the final proposals it agrees with, by L2 block,
/// and where to read on.
#[derive(Debug, Default)]
struct AnchorScan {
    /// The first proposal not yet settled (neither final nor removed): reading resumes here.
    next: u64,
    /// Final proposals whose root equals this node's output root of their block: L2 block →
    /// proposal index (the first such proposal of the block).
    agreed: BTreeMap<u64, u64>,
    /// Final proposals whose root differs from this node's output root of their block:
    /// proposal index → (L2 block, final root, this node's root). An alarm for as long as the
    /// process runs (and found again by the next process's scan).
    disagreeing: BTreeMap<u64, (u64, B256, B256)>,
}

impl AnchorScan {
    /// The `anchor` argument for a proposal of L2 block `number`: 1 + the index of the agreed
    /// final proposal of the highest block below `number`, or 0 (the genesis).
    fn anchor_for(&self, number: u64) -> u64 {
        self.agreed
            .range(..number)
            .next_back()
            .map_or(0, |(_, index)| index + 1)
    }
}

/// What a proposal for safe L2 block `number` submits: `(output, batchRoot, proof)`. The
/// `submitStateRoot` argument `stateRoot` is `output.hash()`, the block's [`OutputRoot`] (its
/// state root and hash, and the derivation cursor storage recorded when it became safe);
/// `proof = abi.encode(uint64 number, bytes32 blockHash)` (anchored on the genesis: the
/// proposer itself submits [`anchored_proof`]); the batch root covers the batches of blocks
/// `after + 1..=number`.
pub fn proposal_inputs(
    store: &Store,
    after: u64,
    number: u64,
) -> Result<(OutputRoot, B256, Bytes), ProposerError> {
    let reader = store.reader()?;
    if reader.header(number)?.is_none() || reader.block_hash(number)?.is_none() {
        return Err(ProposerError::MissingBlock(number));
    }
    // The genesis is every range's start, never a proposal: it has no derivation cursor.
    let output = match number {
        0 => None,
        _ => reader.output_root(number)?,
    }
    .ok_or(ProposerError::NotDerived(number))?;
    let hash = output.l2_block_hash;
    let mut commitments: Vec<B256> = Vec::new();
    for block in after + 1..=number {
        let mut commitment = reader.block_batch(block)?.unwrap_or_default();
        if commitment.is_zero() {
            // Forced in by the sequencing window: no batch, but the L1 block it came from.
            let forced = reader
                .header(block)?
                .ok_or(ProposerError::MissingBlock(block))?;
            let origin = decode_l1_origin(&forced.extra_data)
                .map_err(|_| ProposerError::MissingBlock(block))?;
            commitment = forced_block_commitment(origin.hash);
        }
        if commitments.last() != Some(&commitment) {
            commitments.push(commitment);
        }
    }
    let proof = (number, hash).abi_encode_params();
    Ok((output, batch_root(&commitments), proof.into()))
}

/// A proposal of this proposer's account as last read on L1 (or made): what an L1 reorg can
/// take away without leaving a trace in the `StateManager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OwnProposal {
    /// Its index in the `StateManager`.
    index: u64,
    /// The L2 block it proposes.
    l2_block: u64,
    /// Its output root.
    output_root: B256,
}

/// Proposes until cancelled.
#[derive(Debug)]
pub struct Proposer {
    config: ProposerConfig,
    store: Store,
    heads: watch::Receiver<Heads>,
    sender: L1Sender,
    health: Option<RoleHealth>,
    anchors: Mutex<AnchorScan>,
    /// Live proposals of this proposer's account whose root differs from this node's output
    /// root of their block now: index → (L2 block, root, this node's root). See
    /// [`Self::check_own`].
    own_false: Mutex<BTreeMap<u64, (u64, B256, B256)>>,
    /// Proposals of this account, true by this node, that were seen removed (said once each).
    /// See [`Self::check_own`].
    own_removed: Mutex<std::collections::BTreeSet<u64>>,
    /// This account's newest live proposal as last read or made. See
    /// [`Self::vanished_own_proposal`].
    own_latest: Mutex<Option<OwnProposal>>,
    /// Whether the last failure reported was a proposal round's ([`Self::report_round_failure`]):
    /// a round that reads L1 again ends it even with nothing to propose, and only it (a failed
    /// bond reclaim stands until a reclaim works).
    round_failed: std::sync::atomic::AtomicBool,
    /// Plays the games on this proposer's proposals ([`Self::with_defender`]).
    defender: Option<crate::DisputeAgent>,
}

/// Why a proposal reverts, most likely first.
const REVERT_CAUSES: &str = "L1 changed since it was built (an L1 reorg, or a restart while L1 went on), which the next round retries from fresh L1 state; if it keeps reverting, this key may not be the StateManager's proposer or its bond may be short";

impl Proposer {
    /// A proposer for the chain in `store`, following `heads`, submitting with `sender` (the
    /// `StateManager`'s proposer account).
    pub fn new(
        config: ProposerConfig,
        store: Store,
        heads: watch::Receiver<Heads>,
        sender: L1Sender,
    ) -> Self {
        Self {
            config,
            store,
            heads,
            sender,
            health: None,
            defender: None,
            anchors: Mutex::new(AnchorScan::default()),
            own_false: Mutex::new(BTreeMap::new()),
            own_removed: Mutex::new(std::collections::BTreeSet::new()),
            own_latest: Mutex::new(None),
            round_failed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Defends this proposer's proposals in the dispute game with `agent` (which must send
    /// from the same account): its rounds run in the proposer's loop, between proposals, so the
    /// account's transactions never race each other, at the agent's interval.
    #[must_use]
    pub fn with_defender(mut self, agent: crate::DisputeAgent) -> Self {
        self.defender = Some(agent);
        self
    }

    /// Reports each proposal made, and each failed round, to `health`.
    #[must_use]
    pub fn with_health(mut self, health: RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    /// Reports a round's outcome; a success while a proposal disagrees with this node (a final
    /// one, or a live one of its own) is reported as that alarm instead (a proposer that
    /// proposes regularly looked healthy).
    fn report(&self, success: bool, message: impl FnOnce() -> String) {
        match &self.health {
            Some(health) if success => match self.alarm() {
                Some(alarm) => health.error(alarm),
                None => health.success(message()),
            },
            Some(health) => health.error(message()),
            None => {}
        }
    }

    /// Reports a failed proposal round ([`Self::round_failed`]).
    fn report_round_failure(&self, message: impl FnOnce() -> String) {
        self.round_failed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.report(false, message);
    }

    /// The standing alarms: a final proposal this node disagrees with (the gravest, first),
    /// and live proposals of this account it disagrees with.
    fn alarm(&self) -> Option<String> {
        let own = {
            let own = self
                .own_false
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            own.last_key_value().map(|(index, (block, root, ours))| {
                format!(
                    "{} live proposal(s) of this account disagree with this node's output roots now; the newest, #{index} of L2 block {block}, has {root} where this node has {ours}: it becomes final when its challenge period ends unless a challenger removes it (taking its bond)",
                    own.len()
                )
            })
        };
        let all: Vec<String> = self.final_disagreement().into_iter().chain(own).collect();
        (!all.is_empty()).then(|| all.join("; also: "))
    }

    /// Compares proposal `index` of this account with this node's output root of its block,
    /// once the node has derived it, and keeps the account of [`Self::own_false`]. A proposer
    /// proposes what its node derived; the root can change after that only through an L1
    /// reorg under a proposal of the safe head (which `submitStateRoot`'s L1 block hash check
    /// mostly turns into a revert) or a bug. Said once as an error, then an alarm every round
    /// until the proposal is removed, agrees again, or is final (then the anchor scan's alarm
    /// takes over). This account does not challenge itself: the operator decides.
    ///
    /// A removed proposal whose root this node agrees with is said once as a warning: a lost
    /// game (the dispute role says how) or a removal by another holder of the right, the
    /// guardian, which no game shows. Its bond is gone and withdrawals proven against it must be
    /// proven again.
    async fn check_own(&self, index: u64, proposal: &Proposal) -> Result<(), ProposerError> {
        let local = local_output_root(&self.store, proposal.l2BlockNumber)?;
        if proposal.removed
            && local
                .as_ref()
                .is_some_and(|local| local.hash() == proposal.stateRoot)
            && self
                .own_removed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(index)
        {
            warn!(
                target: "rollup::proposer", index, l2_block = proposal.l2BlockNumber,
                root = %proposal.stateRoot,
                "a proposal of this account whose root this node agrees with was REMOVED on L1 (a lost dispute game, or the guardian): its bond is gone, and withdrawals proven against it must be proven again (`rollup-node prove` picks a live proposal)"
            );
        }
        let disagrees = !proposal.removed
            && local
                .as_ref()
                .is_some_and(|local| local.hash() != proposal.stateRoot);
        // Read only for a disagreement, which should never be.
        let live = disagrees
            && !self
                .call(IStateManager::isFinalCall {
                    index: U256::from(index),
                })
                .await?;
        let mut own = self
            .own_false
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match local {
            Some(local) if live => {
                let entry = (proposal.l2BlockNumber, proposal.stateRoot, local.hash());
                if own.insert(index, entry).is_none() {
                    error!(
                        target: "rollup::proposer", index, l2_block = proposal.l2BlockNumber,
                        proposed = %proposal.stateRoot, local_root = %local.hash(),
                        "a live proposal of this account disagrees with this node's output root now: unless a challenger removes it (taking its bond) it becomes final, and withdrawals can be proven against it. Look at why the block changed (an L1 reorg under a safe-head proposal?) and tell the guardian"
                    );
                }
            }
            // Not derived here now (an L1 reorg being derived again): looked at next round.
            None if !proposal.removed => {}
            _ => {
                if own.remove(&index).is_some() {
                    info!(target: "rollup::proposer", index, removed = proposal.removed, "the proposal of this account this node disagreed with is removed, final, or agrees again");
                }
            }
        }
        Ok(())
    }

    /// Reads again the proposals of [`Self::own_false`] and checks them ([`Self::check_own`]).
    async fn recheck_own(&self) -> Result<(), ProposerError> {
        let indices: Vec<u64> = self
            .own_false
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        for index in indices {
            let proposal = self
                .call(IStateManager::proposalsCall {
                    index: U256::from(index),
                })
                .await?;
            self.check_own(index, &proposal).await?;
        }
        Ok(())
    }

    /// The alarm while a final proposal disagrees with this node (see
    /// [`AnchorScan::disagreeing`]), naming the newest.
    fn final_disagreement(&self) -> Option<String> {
        let scan = self
            .anchors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        final_disagreement_alarm(&scan.disagreeing)
    }

    async fn call<C: SolCall>(&self, call: C) -> Result<C::Return, ProposerError> {
        let tx = TransactionRequest::default()
            .with_to(self.config.state_manager)
            .with_input(call.abi_encode());
        // As of L1's latest block (see `L1Sender::call_latest`).
        let out = self.sender.call_latest(tx).await.map_err(|err| {
            // A JSON-RPC error answer about a revert is the contract's verdict; anything else
            // (transport, node trouble) is a failed read.
            match err.as_error_resp() {
                Some(payload) if payload.code == 3 || payload.message.contains("revert") => {
                    // Named from the contracts' errors: the node's text shows a custom error as
                    // its bare selector (`custom error 0x68b8820b`).
                    ProposerError::Reverted(payload.as_revert_data().map_or_else(
                        || rollup_l1::printable(&payload.message),
                        |data| rollup_primitives::describe_revert(&data),
                    ))
                }
                _ => ProposerError::Read(err.to_string()),
            }
        })?;
        rollup_primitives::decode_returns::<C>(self.config.state_manager, &out)
            .map_err(ProposerError::Read)
    }

    /// The L2 block of this proposer's own newest live proposal (0 if none): what its next
    /// proposal must exceed. Other accounts' proposals (a false one included) never hold it
    /// back. A failed read is an error, so a flaky L1 never makes it re-propose from scratch.
    /// Checks that proposal against this node's root too ([`Self::check_own`]).
    ///
    /// Says when a proposal of this account is gone from L1 with the L1 blocks that held it
    /// ([`Self::vanished_own_proposal`]): the round then proposes again.
    async fn latest_proposed(&self) -> Result<u64, ProposerError> {
        let own = self
            .call(IStateManager::latestProposalOfCall {
                account: self.sender.address(),
            })
            .await?;
        let latest = if own.found {
            let index = own.index.saturating_to();
            let proposal = self
                .call(IStateManager::proposalsCall { index: own.index })
                .await?;
            self.check_own(index, &proposal).await?;
            Some(OwnProposal {
                index,
                l2_block: proposal.l2BlockNumber,
                output_root: proposal.stateRoot,
            })
        } else {
            None
        };
        let proposed = latest.map_or(0, |latest| latest.l2_block);
        if let Some(gone) = self.vanished_own_proposal(latest).await? {
            warn!(
                target: "rollup::proposer", index = gone.index, l2_block = gone.l2_block,
                output_root = %gone.output_root, latest_live_l2_block = proposed,
                "this account's proposal of L2 block {} (output root {}) was removed by an L1 reorg, or the L1 node answered from before it (a lagging backend): the StateManager it reads holds it no more; will propose again (the next proposal covers the L2 blocks after {proposed})",
                gone.l2_block, gone.output_root
            );
            metrics::counter!("rollup_proposer_proposals_reorged_total").increment(1);
        }
        Ok(proposed)
    }

    /// Records `latest`, this account's newest live proposal on L1 now, and returns the one
    /// recorded before if an L1 reorg took it: it is no longer this account's newest live
    /// proposal, and the `StateManager` holds no proposal of it at its index any more (a
    /// proposal removed by a game or the guardian stays there, marked removed, and
    /// [`Self::check_own`] says so). Nothing of L1 marks a proposal a reorg took.
    async fn vanished_own_proposal(
        &self,
        latest: Option<OwnProposal>,
    ) -> Result<Option<OwnProposal>, ProposerError> {
        let before = *self
            .own_latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let gone = match before {
            Some(before) if latest.is_none_or(|latest| latest.l2_block < before.l2_block) => {
                let count = self
                    .call(IStateManager::proposalCountCall {})
                    .await?
                    .saturating_to::<u64>();
                let still_there = before.index < count && {
                    let proposal = self
                        .call(IStateManager::proposalsCall {
                            index: U256::from(before.index),
                        })
                        .await?;
                    proposal.proposer == self.sender.address()
                        && proposal.l2BlockNumber == before.l2_block
                        && proposal.stateRoot == before.output_root
                };
                (!still_there).then_some(before)
            }
            _ => None,
        };
        self.remember_own(latest);
        Ok(gone)
    }

    /// Records `latest` as this account's newest live proposal.
    fn remember_own(&self, latest: Option<OwnProposal>) {
        *self
            .own_latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = latest;
    }

    /// Reads the proposals made since the last round and records the final ones whose root
    /// equals this node's output root of their block (a final root it does not agree with is
    /// never an anchor, and is reported loudly). At most [`ANCHOR_SCAN_PER_ROUND`] a round.
    async fn scan_anchors(&self) -> Result<(), ProposerError> {
        let count = self
            .call(IStateManager::proposalCountCall {})
            .await?
            .saturating_to::<u64>();
        let start = {
            let mut scan = self
                .anchors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Fewer proposals than were read: an L1 reorg took some, and perhaps an agreed
            // anchor with them. Read everything again.
            if count < scan.next {
                warn!(target: "rollup::proposer", proposals = count, read = scan.next, "the StateManager holds fewer proposals than were read (an L1 reorg); reading anchors again");
                *scan = AnchorScan::default();
            }
            scan.next
        };
        let end = count.min(start.saturating_add(ANCHOR_SCAN_PER_ROUND));
        // `next` moves over settled proposals only: one that may still become final is read
        // again next round.
        let mut next = start;
        let mut settled_so_far = true;
        let mut agreed = Vec::new();
        for index in start..end {
            let proposal = self
                .call(IStateManager::proposalsCall {
                    index: U256::from(index),
                })
                .await?;
            let is_final = !proposal.removed
                && self
                    .call(IStateManager::isFinalCall {
                        index: U256::from(index),
                    })
                    .await?;
            if !is_final && proposal.proposer == self.sender.address() {
                // Every live proposal of this account, not only its newest: one made with its
                // key elsewhere (the CLI) is followed at once by the next proposal of its own.
                self.check_own(index, &proposal).await?;
            }
            let settled = if proposal.removed {
                true
            } else if is_final {
                let number = proposal.l2BlockNumber;
                match local_output_root(&self.store, number)? {
                    Some(local) if local.hash() == proposal.stateRoot => {
                        agreed.push((number, index));
                        true
                    }
                    Some(local) => {
                        let mut scan = self
                            .anchors
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if scan
                            .disagreeing
                            .insert(index, (number, proposal.stateRoot, local.hash()))
                            .is_none()
                        {
                            error!(
                                target: "rollup::proposer", index, l2_block = number,
                                final_root = %proposal.stateRoot, local_root = %local.hash(),
                                proposer = %proposal.proposer,
                                "a FINAL proposal disagrees with this node's output root; never anchoring on it. Withdrawals can be proven against that root: tell the guardian (pause the bridge) and look at why no challenge removed it"
                            );
                        }
                        true
                    }
                    // Not derived here yet: looked at again once it is.
                    None => false,
                }
            } else {
                false
            };
            if settled && settled_so_far {
                next = index + 1;
            } else {
                settled_so_far = false;
            }
        }
        let mut scan = self
            .anchors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (number, index) in agreed {
            scan.agreed.entry(number).or_insert(index);
        }
        scan.next = scan.next.max(next);
        Ok(())
    }

    /// Whether `anchor` (1 + a proposal index, 0 for the genesis) may anchor a proposal of L2
    /// block `number` on L1 as it is now: a final proposal below `number` whose root is this
    /// node's output root of its block, as `submitStateRoot` and a later dispute need.
    async fn anchor_holds(&self, anchor: u64, number: u64) -> Result<bool, ProposerError> {
        let Some(index) = anchor.checked_sub(1) else {
            return Ok(true);
        };
        let count = self
            .call(IStateManager::proposalCountCall {})
            .await?
            .saturating_to::<u64>();
        if index >= count {
            return Ok(false);
        }
        let proposal = self
            .call(IStateManager::proposalsCall {
                index: U256::from(index),
            })
            .await?;
        if proposal.removed || proposal.l2BlockNumber >= number {
            return Ok(false);
        }
        if !self
            .call(IStateManager::isFinalCall {
                index: U256::from(index),
            })
            .await?
        {
            return Ok(false);
        }
        Ok(local_output_root(&self.store, proposal.l2BlockNumber)?
            .is_some_and(|local| local.hash() == proposal.stateRoot))
    }

    /// The anchor of a proposal of L2 block `number` (see [`anchored_proof`]); drops the agreed
    /// proposals below it, which a later (higher) proposal will never prefer.
    fn take_anchor(&self, number: u64) -> u64 {
        let mut scan = self
            .anchors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let anchor = scan.anchor_for(number);
        if anchor > 0
            && let Some((&block, _)) = scan.agreed.iter().find(|(_, index)| **index + 1 == anchor)
        {
            scan.agreed = scan.agreed.split_off(&block);
        }
        anchor
    }

    /// The L1 block (and its hash, as this node processed it) a proposal of `output`, the
    /// output root of L2 block `number`, names ([`proposal_l1_block`]); `None` if the node has
    /// derived the block again since `output` was read. Read in one snapshot with the output
    /// root: a hash read after an L1 reorg moved the record, beside the output read before it,
    /// would name the new chain's block for the old chain's output, which L1 would take.
    fn proposal_l1(
        &self,
        number: u64,
        output: &OutputRoot,
    ) -> Result<Option<BlockNumHash>, ProposerError> {
        let reader = self.store.reader()?;
        if reader.output_root(number)?.as_ref() != Some(output) {
            return Ok(None);
        }
        let tip = reader
            .l1_cursor()?
            .map_or(output.l1_block, |tip| tip.number);
        let l1 = proposal_l1_block(output.l1_block, tip);
        reader
            .l1_block(l1)?
            .map(|record| Some(record.block))
            .ok_or(ProposerError::MissingL1Block(l1))
    }

    /// One round: propose the safe head if it is ahead of the latest proposal.
    pub async fn propose_once(&self) -> Result<Option<u64>, ProposerError> {
        let safe = match self.config.head {
            ProposalHead::Finalized => self.heads.borrow().finalized_l2.number,
            ProposalHead::Safe => self.heads.borrow().safe_l2.number,
        };
        let proposed = self.latest_proposed().await?;
        if safe <= proposed {
            // L1 reads work again: a failed round reported before would otherwise stand until
            // the next proposal, an interval or more away (a success counts only then, not
            // every round with nothing to propose). Not another failure, and not over a
            // standing alarm, which the round reports itself.
            let ended = self
                .round_failed
                .swap(false, std::sync::atomic::Ordering::Relaxed);
            if ended && self.alarm().is_none() {
                self.report(true, || {
                    format!("reading L1 works again; nothing new to propose (this account's newest proposal is of L2 block {proposed})")
                });
            }
            return Ok(None);
        }
        let (output, batch_root, _) = proposal_inputs(&self.store, proposed, safe)?;
        let output_root = output.hash();
        self.scan_anchors().await?;
        let mut anchor = self.take_anchor(safe);
        if !self.anchor_holds(anchor, safe).await? {
            // An L1 reorg replaced or unsettled the proposal the scan agreed with (the count
            // alone does not show a replaced one): every proposal it named would revert
            // `StateManager_BadAnchor`. Read the proposals again.
            warn!(target: "rollup::proposer", anchor, l2_block = safe, "the anchor agreed with is no longer a final proposal of this node's root on L1 (an L1 reorg?); reading anchors again");
            *self
                .anchors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = AnchorScan::default();
            self.scan_anchors().await?;
            anchor = self.take_anchor(safe);
            if !self.anchor_holds(anchor, safe).await? {
                return Ok(None);
            }
        }
        let Some(l1) = self.proposal_l1(safe, &output)? else {
            info!(target: "rollup::proposer", l2_block = safe, "the block was derived again while the proposal was prepared (an L1 reorg); proposing next round");
            return Ok(None);
        };
        let proof = anchored_proof(safe, output.l2_block_hash, anchor, l1);
        self.ensure_bond().await?;
        // The seed interface's `stateRoot` argument carries the output root.
        let submit = |proof: Bytes| {
            IStateManager::submitStateRootCall {
                stateRoot: output_root,
                batchRoot: batch_root,
                proof,
            }
            .abi_encode()
        };
        let receipt = match self
            .sender
            .send(self.config.state_manager, submit(proof.clone()).into())
            .await
        {
            // A StateManager deployed before proposals named their L1 block (a devnet resumed
            // with a newer node, a deployment not yet upgraded) takes the 96-byte proof only.
            Err(err) if refused_as_malformed(&err) => {
                warn!(target: "rollup::proposer", l2_block = safe, "the StateManager predates proposals that name their L1 block (StateManager_MalformedProof): proposing without it, so an L1 reorg's replay of this proposal is not refused; upgrade the StateManager");
                self.sender
                    .send(self.config.state_manager, submit(proof.slice(..96)).into())
                    .await?
            }
            other => other?,
        };
        if !receipt.status() {
            // Usually L1 moved under the proposal (a reorg, or a restart while L1 went on, so
            // the anchor it proves against is gone); retried from fresh L1 state next round.
            warn!(target: "rollup::proposer", tx = %receipt.transaction_hash, l2_block = safe, "proposal reverted: {REVERT_CAUSES}");
            self.report(false, || {
                format!(
                    "proposal of L2 block {safe} reverted in L1 transaction {}: {REVERT_CAUSES}",
                    receipt.transaction_hash
                )
            });
            return Ok(None);
        }
        // The anchor as `disputes` lists proposals: by index, or the genesis.
        let anchor_proposal = anchor
            .checked_sub(1)
            .map_or_else(|| "genesis".to_string(), |index| format!("#{index}"));
        info!(
            target: "rollup::proposer",
            l2_block = safe, %output_root, state_root = %output.state_root, %batch_root, anchor = %anchor_proposal,
            inbox_record = output.inbox_record, block_in_record = output.block_in_record,
            derived_in_l1_block = output.l1_block, l1_block = receipt.block_number.unwrap_or_default(),
            "output root proposed"
        );
        self.round_failed
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.report(true, || {
            format!(
                "proposed the output root {output_root} of L2 block {safe} (state root {}) in L1 block {}",
                output.state_root,
                receipt.block_number.unwrap_or_default()
            )
        });
        // Recorded now, not first read next round: a reorg before then must be said too.
        if let Some(submitted) = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.config.state_manager)
            .find_map(|log| IStateManager::StateRootSubmitted::decode_log_data(log.data()).ok())
        {
            self.remember_own(Some(OwnProposal {
                index: submitted.index.saturating_to(),
                l2_block: safe,
                output_root,
            }));
        }
        metrics::counter!("rollup_proposer_proposals_total").increment(1);
        metrics::gauge!("rollup_proposer_latest_l2_block").set(safe as f64);
        Ok(Some(safe))
    }

    /// Tops the proposer's bond balance in the StateManager up to one proposal bond:
    /// `submitStateRoot` draws the bond from that balance, and returned bonds flow back into it,
    /// so in steady state only the first proposal (and one after each lost dispute) deposits.
    async fn ensure_bond(&self) -> Result<(), ProposerError> {
        let bond = self.call(IStateManager::proposalBondCall {}).await?;
        let balance = self
            .call(IStateManager::bondBalanceCall {
                account: self.sender.address(),
            })
            .await?;
        if balance >= bond {
            return Ok(());
        }
        // A key that may not propose would lock its deposit for nothing.
        let me = self.sender.address();
        let proposer = self.call(IStateManager::proposerCall {}).await?;
        if proposer != me
            && !self
                .call(IStateManager::permissionlessProposalsCall {})
                .await?
        {
            return Err(ProposerError::NotProposer { key: me, proposer });
        }
        let top_up = bond - balance;
        let receipt = self
            .sender
            .send_with_value(
                self.config.state_manager,
                IStateManager::depositBondCall {}.abi_encode().into(),
                top_up,
            )
            .await?;
        if !receipt.status() {
            return Err(ProposerError::Reverted(format!(
                "depositBond of {top_up} wei reverted (tx {})",
                receipt.transaction_hash
            )));
        }
        info!(target: "rollup::proposer", wei = %top_up, "bond deposited");
        Ok(())
    }

    /// Returns the bonds of final proposals, oldest first, from `next` on; returns the next
    /// index to look at.
    async fn reclaim_bonds(&self, mut next: u64) -> Result<u64, ProposerError> {
        let count = self
            .call(IStateManager::proposalCountCall {})
            .await?
            .saturating_to::<u64>();
        let me = self.sender.address();
        let mut returns = Vec::new();
        while next < count && returns.len() < MAX_BOND_RETURNS_PER_ROUND {
            let index = U256::from(next);
            let proposal = self.call(IStateManager::proposalsCall { index }).await?;
            // Only this proposer's own bonds: returning anyone's (anyone may) cost it a
            // transaction each, and an outsider who made twenty true proposals at once held up
            // its defender for twenty L1 blocks, long enough to lose a game on its clock.
            if proposal.removed || proposal.bondReturned || proposal.proposer != me {
                next += 1;
                continue;
            }
            if !self.call(IStateManager::isFinalCall { index }).await? {
                break;
            }
            returns.push(next);
            next += 1;
        }
        if returns.is_empty() {
            return Ok(next);
        }
        // Together, in one L1 block: the defender waits for them.
        let txs = returns
            .iter()
            .map(|index| {
                (
                    self.config.state_manager,
                    IStateManager::returnBondCall {
                        index: U256::from(*index),
                    }
                    .abi_encode()
                    .into(),
                    U256::ZERO,
                )
            })
            .collect();
        let results = self.sender.send_many(txs).await;
        for (index, result) in returns.into_iter().zip(results) {
            match result {
                Ok(receipt) => {
                    debug!(target: "rollup::proposer", index, ok = receipt.status(), "bond returned");
                }
                Err(L1Error::Cancelled) => return Err(L1Error::Cancelled.into()),
                Err(err) => {
                    warn!(target: "rollup::proposer", index, %err, "returning a bond failed; retrying next round");
                    next = next.min(index);
                }
            }
        }
        Ok(next)
    }

    /// Runs until `cancel` fires. Errors are logged and retried next round. Every L1 call and
    /// wait stops with `cancel`, so a dead L1 cannot hold up a shutdown.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), ProposerError> {
        self.sender = self.sender.with_cancel(cancel.clone());
        let mut defender = self
            .defender
            .take()
            .map(|agent| agent.with_cancel(cancel.clone()));
        info!(
            target: "rollup::proposer", state_manager = %self.config.state_manager,
            sender = %self.sender.address(), defends = defender.is_some(), "proposer running"
        );
        let tick = defender.as_ref().map_or(self.config.interval, |agent| {
            agent.interval().min(self.config.interval)
        });
        let mut next_bond = 0;
        let mut last_proposal_round: Option<std::time::Instant> = None;
        // An L1 outage is one warning a minute per kind of round, not one a round.
        let (mut round_failures, mut reclaim_failures) = (
            rollup_l1::RepeatedFailure::default(),
            rollup_l1::RepeatedFailure::default(),
        );
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(tick) => {}
            }
            let due = last_proposal_round.is_none_or(|at| at.elapsed() >= self.config.interval);
            let round = async {
                if let Some(agent) = defender.as_mut() {
                    agent.round_logged().await;
                    // A proposal and a bond deposit take L1 blocks each, which a fast game's
                    // turn may not have (an outsider's defender lost a devnet game at its
                    // step with this loop's proposal in between): they wait for the game, but
                    // never more than an interval past due, so a slow challenger cannot stop
                    // proposals.
                    let overdue = last_proposal_round
                        .is_none_or(|at| at.elapsed() >= self.config.interval * 2);
                    if due && agent.pressing() && !overdue {
                        debug!(target: "rollup::proposer", "a game on this account's proposals moves fast: proposing after it");
                        return;
                    }
                }
                if !due {
                    return;
                }
                last_proposal_round = Some(std::time::Instant::now());
                // Before proposing, so the round's report is of what stands now.
                let alarmed = self.alarm().is_some();
                if let Err(err) = self.recheck_own().await {
                    debug!(target: "rollup::proposer", %err, "could not read again the proposals of this account this node disagrees with; next round");
                }
                if alarmed && self.alarm().is_none() {
                    self.report(true, || {
                        "no proposal this node disagrees with is left".into()
                    });
                }
                match self.propose_once().await {
                    Ok(_) => {
                        if let Some(failed) = round_failures.succeeded() {
                            info!(target: "rollup::proposer", failed, "proposal rounds succeed again");
                        }
                    }
                    Err(err) => {
                        let hint = round_failure_hint(&err.to_string());
                        match round_failures.failed(&err.to_string()) {
                            Some(0) => {
                                warn!(target: "rollup::proposer", %err, "proposal round failed; retrying{hint}")
                            }
                            Some(repeats) => {
                                warn!(target: "rollup::proposer", %err, repeats, "proposal rounds keep failing; retrying{hint}")
                            }
                            None => {
                                debug!(target: "rollup::proposer", %err, "proposal round failed again; retrying")
                            }
                        }
                        self.report_round_failure(|| format!("proposal round failed: {err}{hint}"));
                    }
                }
                if let Some(alarm) = self.alarm() {
                    self.report(false, || alarm);
                }
                // Returning bonds takes L1 blocks too, and can wait: not while a game of this
                // account moves fast (an outsider's defender lost ten devnet games with a
                // bond returned in between, after a held-back proposal went out).
                if defender.as_ref().is_some_and(crate::DisputeAgent::busy) {
                    return;
                }
                match self.reclaim_bonds(next_bond).await {
                    Ok(next) => {
                        next_bond = next;
                        reclaim_failures.succeeded();
                    }
                    Err(err) => {
                        match reclaim_failures.failed(&err.to_string()) {
                            Some(0) => {
                                warn!(target: "rollup::proposer", %err, "bond reclaim failed; retrying")
                            }
                            Some(repeats) => {
                                warn!(target: "rollup::proposer", %err, repeats, "bond reclaims keep failing; retrying")
                            }
                            None => {
                                debug!(target: "rollup::proposer", %err, "bond reclaim failed again; retrying")
                            }
                        }
                        self.report(false, || format!("bond reclaim failed: {err}"));
                    }
                }
            };
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = round => {}
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use alloy_primitives::keccak256;
    use rollup_primitives::{BlockNumHash, ContractAddresses, L2Genesis, RollupConfig};
    use rollup_storage::BlockDerivation;

    use rollup_primitives::OUTPUT_ROOT_VERSION;

    use super::*;

    /// A store holding only the genesis block, in a fresh directory (removed on drop).
    pub(crate) struct GenesisStore {
        pub(crate) store: Store,
        dir: std::path::PathBuf,
    }

    impl Drop for GenesisStore {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Appends an empty block 1 on the genesis of `store`, uncommitted.
    pub(crate) fn append_empty_block(store: &Store) -> rollup_storage::StoreWriter {
        let mut writer = store.writer().unwrap();
        let mut block = rollup_primitives::L2Block {
            header: alloy_consensus::Header {
                number: 1,
                parent_hash: writer.block_hash(0).unwrap().unwrap(),
                ..Default::default()
            },
            transactions: vec![],
        };
        writer
            .append_block(&mut block, &[], &revm::database::BundleState::default())
            .unwrap();
        writer
    }

    pub(crate) fn genesis_store(name: &str) -> GenesisStore {
        let dir =
            std::env::temp_dir().join(format!("rollup-proposer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir).unwrap();
        let config = RollupConfig {
            l1_chain_id: 1337,
            l2_chain_id: 42_069,
            contracts: ContractAddresses {
                l1_bridge: Address::repeat_byte(0xb1),
                batch_inbox: Address::repeat_byte(0xb2),
                state_manager: Address::repeat_byte(0xb3),
            },
            genesis: L2Genesis {
                l1_origin: BlockNumHash {
                    number: 10,
                    hash: B256::repeat_byte(0x10),
                },
                timestamp: 1_000,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1_000_000_000,
                alloc: BTreeMap::new(),
            },
            sequencing_window: 10,
            max_sequencer_drift: 600,
            batcher_address: Address::repeat_byte(4),
        };
        store.init_genesis(&config).unwrap();
        GenesisStore { store, dir }
    }

    /// The proposal's root is the output root of the block: its header's state root, its hash
    /// and the derivation cursor storage recorded; without that record nothing is proposed.
    #[test]
    fn proposal_root_is_the_output_root_of_the_block() {
        let fixture = genesis_store("output-root");
        let store = &fixture.store;
        // The genesis is the start of every range, never proposed; its root is the genesis
        // output root.
        assert!(matches!(
            proposal_inputs(store, 0, 0),
            Err(ProposerError::NotDerived(0))
        ));
        assert_eq!(
            local_output_root(store, 0).unwrap().unwrap().inbox_record,
            0
        );
        assert!(matches!(
            proposal_inputs(store, 0, 1),
            Err(ProposerError::MissingBlock(1))
        ));

        // Block 1, stored but not yet safe: nothing to propose.
        let writer = append_empty_block(store);
        writer.commit().unwrap();
        assert!(matches!(
            proposal_inputs(store, 0, 1),
            Err(ProposerError::NotDerived(1))
        ));
        assert_eq!(local_output_root(store, 1).unwrap(), None);

        let derivation = BlockDerivation {
            batch: keccak256("batch"),
            inbox_record: 5,
            block_in_record: 2,
            l1_block: 77,
        };
        let mut writer = store.writer().unwrap();
        writer.set_block_derivation(1, &derivation).unwrap();
        writer.commit().unwrap();

        let (output, _, proof) = proposal_inputs(store, 0, 1).unwrap();
        let reader = store.reader().unwrap();
        let header = reader.header(1).unwrap().unwrap();
        let hash = reader.block_hash(1).unwrap().unwrap();
        assert_eq!(
            output,
            OutputRoot {
                version: OUTPUT_ROOT_VERSION,
                l2_block_number: 1,
                state_root: header.state_root,
                l2_block_hash: hash,
                inbox_record: 5,
                block_in_record: 2,
                l1_block: 77,
            }
        );
        assert_ne!(
            output.hash(),
            header.state_root,
            "the root is not the bare state root"
        );
        assert_eq!(proof, Bytes::from((1u64, hash).abi_encode_params()));
        assert_eq!(local_output_root(store, 1).unwrap(), Some(output));
        assert_eq!(local_output_root(store, 2).unwrap(), None);
    }

    /// The proof names the anchor and the L1 block as `StateManager.submitStateRoot` reads
    /// them: five words, the block, its hash, 1 + the anchor's index, the L1 block and its hash.
    #[test]
    fn the_anchored_proof_is_five_words() {
        let hash = B256::repeat_byte(0xab);
        let l1 = BlockNumHash {
            number: 900,
            hash: B256::repeat_byte(0xcd),
        };
        let proof = anchored_proof(42, hash, 7, l1);
        assert_eq!(proof.len(), 160);
        assert_eq!(U256::from_be_slice(&proof[0..32]), U256::from(42));
        assert_eq!(&proof[32..64], hash.as_slice());
        assert_eq!(U256::from_be_slice(&proof[64..96]), U256::from(7));
        assert_eq!(U256::from_be_slice(&proof[96..128]), U256::from(900));
        assert_eq!(&proof[128..160], l1.hash.as_slice());
    }

    /// A StateManager that refuses the 160-byte proof (one deployed before it) is recognised
    /// from its revert, so the proposer proposes with the 96-byte one instead of failing every
    /// round.
    #[test]
    fn a_refused_proof_form_is_recognised() {
        let reverted = |data: String| L1Error::Rpc {
            url: "http://l1".into(),
            method: "eth_estimateGas",
            source: alloy_provider::transport::TransportError::ErrorResp(
                serde_json::from_str(&format!(
                    r#"{{"code":3,"message":"execution reverted","data":"{data}"}}"#
                ))
                .unwrap(),
            ),
        };
        let selector =
            |signature: &str| alloy_primitives::hex::encode_prefixed(&keccak256(signature)[..4]);
        assert!(refused_as_malformed(&reverted(selector(
            "StateManager_MalformedProof()"
        ))));
        assert!(!refused_as_malformed(&reverted(selector(
            "StateManager_L1BlockHashMismatch(uint256)"
        ))));
        assert!(!refused_as_malformed(&L1Error::Cancelled));
    }

    #[test]
    fn an_l1_block_hash_refusal_is_explained() {
        assert!(
            round_failure_hint("reverted: StateManager_L1BlockHashMismatch(l1Block: 63)")
                .contains("anvil after it reloaded")
        );
        assert!(
            round_failure_hint("StateManager_L1BlockHashUnavailable(l1Block: 348)")
                .contains("L1 reorg")
        );
        assert_eq!(round_failure_hint("L1 unreachable"), "");
    }

    /// A recent record's own L1 block; an older one's descendant 64 under the tip, inside the
    /// 256 blocks `blockhash` tells either way.
    #[test]
    fn a_proposal_names_the_records_l1_block_while_recent() {
        assert_eq!(proposal_l1_block(1_000, 1_000), 1_000);
        assert_eq!(proposal_l1_block(1_000, 1_128), 1_000);
        assert_eq!(proposal_l1_block(1_000, 1_129), 1_065);
        assert_eq!(proposal_l1_block(1_000, 50_000), 49_936);
        for tip in 1_000..2_000 {
            let named = proposal_l1_block(1_000, tip);
            assert!(
                named >= 1_000 && tip - named <= PROPOSAL_L1_RECENT,
                "{tip}: {named}"
            );
        }
    }

    /// A JSON-RPC server over HTTP/1.1 on a free local port that answers each request with
    /// `respond(request)` (the whole answer object); its URL.
    pub(crate) async fn json_rpc_server(
        respond: impl Fn(&serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
    ) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let respond = std::sync::Arc::new(respond);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let respond = respond.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        request.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&request).to_string();
                        let Some((head, body)) = text.split_once("\r\n\r\n") else {
                            continue;
                        };
                        let length = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() < length {
                            continue;
                        }
                        let call: serde_json::Value =
                            serde_json::from_str(&body[..length]).unwrap();
                        let reply = respond(&call).to_string();
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                        stream.write_all(response.as_bytes()).await.unwrap();
                        request.clear();
                    }
                });
            }
        });
        url
    }

    /// An L1 that answers `eth_call`s with `answer(input)` and every other method with an
    /// error.
    async fn scripted_l1(answer: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> String {
        json_rpc_server(move |call| {
            let params = &call["params"][0];
            let input = params["input"]
                .as_str()
                .or_else(|| params["data"].as_str())
                .map(|hex| alloy_primitives::hex::decode(hex).unwrap());
            match input {
                Some(input) if call["method"] == "eth_call" => serde_json::json!({
                    "jsonrpc": "2.0", "id": call["id"],
                    "result": alloy_primitives::hex::encode_prefixed(answer(&input)),
                }),
                _ => serde_json::json!({
                    "jsonrpc": "2.0", "id": call["id"],
                    "error": {"code": -32601, "message": "not served here"},
                }),
            }
        })
        .await
    }

    /// A proposer of `signer` on the store of `fixture`, whose `StateManager` answers at `url`
    /// (at a made-up address: the scripted L1 answers any), with the sender of its heads.
    fn proposer_on(
        fixture: &GenesisStore,
        url: String,
        signer: alloy_signer_local::PrivateKeySigner,
    ) -> (Proposer, watch::Sender<Heads>) {
        let sender = L1Sender::new(&url, signer, rollup_l1::SenderConfig::default()).unwrap();
        let (heads_sender, heads) = watch::channel(Heads::default());
        let config = ProposerConfig {
            state_manager: Address::repeat_byte(0xb3),
            interval: Duration::from_secs(1),
            head: ProposalHead::Safe,
        };
        (
            Proposer::new(config, fixture.store.clone(), heads, sender),
            heads_sender,
        )
    }

    /// A `StateManager` on a scripted L1 ([`scripted_l1`]) holding `proposals`, which a test
    /// changes as L1 would.
    async fn state_manager_l1(
        proposals: std::sync::Arc<std::sync::Mutex<Vec<Proposal>>>,
    ) -> String {
        scripted_l1(move |input| {
            let proposals = proposals.lock().unwrap();
            if let Ok(call) = IStateManager::latestProposalOfCall::abi_decode(input) {
                let latest = proposals
                    .iter()
                    .rposition(|p| p.proposer == call.account && !p.removed);
                IStateManager::latestProposalOfCall::abi_encode_returns(
                    &IStateManager::latestProposalOfReturn {
                        found: latest.is_some(),
                        index: U256::from(latest.unwrap_or_default()),
                    },
                )
            } else if let Ok(call) = IStateManager::proposalsCall::abi_decode(input) {
                IStateManager::proposalsCall::abi_encode_returns(
                    &proposals[call.index.saturating_to::<usize>()],
                )
            } else if IStateManager::proposalCountCall::abi_decode(input).is_ok() {
                IStateManager::proposalCountCall::abi_encode_returns(&U256::from(proposals.len()))
            } else {
                panic!("unexpected call {input:?}")
            }
        })
        .await
    }

    /// A proposal of this account an L1 reorg took is told (and proposed again), one a game
    /// removed is not taken for one: the reorg leaves no trace in the `StateManager`, the game
    /// leaves the proposal marked removed.
    #[tokio::test]
    async fn a_proposal_an_l1_reorg_took_is_told_apart_from_a_removed_one() {
        let fixture = genesis_store("reorged-proposal");
        let signer = alloy_signer_local::PrivateKeySigner::random();
        let me = signer.address();
        let proposal = |proposer, l2_block: u64, root: u8| Proposal {
            stateRoot: B256::repeat_byte(root),
            batchRoot: B256::ZERO,
            l2BlockHash: B256::ZERO,
            l2BlockNumber: l2_block,
            proposer,
            timestamp: 0,
            l1Block: 0,
            removed: false,
            bondReturned: false,
            bond: U256::ZERO,
        };
        let other = Address::repeat_byte(7);
        let proposals = std::sync::Arc::new(std::sync::Mutex::new(vec![
            proposal(me, 4, 4),
            proposal(other, 6, 6),
            proposal(me, 9, 9),
        ]));
        let (proposer, _heads) =
            proposer_on(&fixture, state_manager_l1(proposals.clone()).await, signer);
        assert_eq!(proposer.latest_proposed().await.unwrap(), 9);
        assert_eq!(
            proposer.vanished_own_proposal(None).await.unwrap(),
            None,
            "nothing read before"
        );

        // A game removes the proposal of block 9: still at its index, marked removed.
        assert_eq!(proposer.latest_proposed().await.unwrap(), 9);
        proposals.lock().unwrap()[2].removed = true;
        let latest = Some(OwnProposal {
            index: 0,
            l2_block: 4,
            output_root: B256::repeat_byte(4),
        });
        assert_eq!(proposer.vanished_own_proposal(latest).await.unwrap(), None);

        // A reorg takes the proposal of block 9 with its L1 block.
        proposals.lock().unwrap()[2].removed = false;
        assert_eq!(proposer.latest_proposed().await.unwrap(), 9);
        proposals.lock().unwrap().truncate(2);
        let taken = OwnProposal {
            index: 2,
            l2_block: 9,
            output_root: B256::repeat_byte(9),
        };
        assert_eq!(
            proposer.vanished_own_proposal(latest).await.unwrap(),
            Some(taken)
        );
        // Said once.
        assert_eq!(proposer.vanished_own_proposal(latest).await.unwrap(), None);

        // Another account's proposal now stands at the taken one's index.
        proposals.lock().unwrap().push(proposal(me, 9, 9));
        assert_eq!(proposer.latest_proposed().await.unwrap(), 9);
        proposals.lock().unwrap()[2] = proposal(other, 9, 9);
        assert_eq!(
            proposer.vanished_own_proposal(latest).await.unwrap(),
            Some(taken)
        );

        // Everything of this account taken: the round proposes from the genesis on.
        proposals.lock().unwrap()[2] = proposal(me, 9, 9);
        assert_eq!(proposer.latest_proposed().await.unwrap(), 9);
        proposals.lock().unwrap().clear();
        assert_eq!(proposer.latest_proposed().await.unwrap(), 0);
        assert_eq!(*proposer.own_latest.lock().unwrap(), None);
    }

    /// A round that reads L1 again after failed ones ends the proposer's failure in its
    /// health even with nothing to propose; a round with nothing to propose counts no success
    /// otherwise.
    #[tokio::test]
    async fn a_round_after_an_l1_outage_ends_the_failure() {
        let fixture = genesis_store("outage-over");
        let url = state_manager_l1(std::sync::Arc::default()).await;
        let signer = alloy_signer_local::PrivateKeySigner::random();
        let health = rollup_primitives::Health::default();
        let role = health.role("proposer");
        let (proposer, _heads) = proposer_on(&fixture, url, signer);
        let proposer = proposer.with_health(role.clone());
        proposer.report_round_failure(|| "proposal round failed: L1 unreachable".into());
        assert_eq!(proposer.propose_once().await.unwrap(), None);
        let status = &health.snapshot()[0];
        assert!(!status.failing, "{status:?}");
        assert_eq!(status.successes, 1);
        assert_eq!(proposer.propose_once().await.unwrap(), None);
        assert_eq!(health.snapshot()[0].successes, 1, "said once");
        // Another failure (a bond reclaim) is not ended by a round with nothing to propose.
        role.error("bond reclaim failed: reverted");
        assert_eq!(proposer.propose_once().await.unwrap(), None);
        assert!(health.snapshot()[0].failing, "{:?}", health.snapshot()[0]);
    }

    /// The anchor is the agreed final proposal of the highest block below the proposed one;
    /// none below it means the genesis (0).
    #[test]
    fn anchors_are_the_highest_agreed_final_proposal_below() {
        let mut scan = AnchorScan::default();
        assert_eq!(scan.anchor_for(10), 0, "nothing final: the genesis");
        // Proposal 3 at block 5, proposal 8 at block 9, proposal 12 at block 20.
        scan.agreed.insert(5, 3);
        scan.agreed.insert(9, 8);
        scan.agreed.insert(20, 12);
        assert_eq!(scan.anchor_for(5), 0, "an anchor must be below the block");
        assert_eq!(scan.anchor_for(6), 4);
        assert_eq!(scan.anchor_for(9), 4);
        assert_eq!(scan.anchor_for(10), 9);
        assert_eq!(scan.anchor_for(21), 13);
    }
}
