//! The challenger and defender: plays the L1 `DisputeGame` with this node's own view of the chain.
//!
//! Every round it reads the proposals and games from L1 (nothing is kept locally, so a restart
//! mid-game simply picks the game up again) and:
//! - as challenger, challenges every proposal still in its challenge period whose output root
//!   differs from the node's own root of that block, once per proposal;
//! - in its games as challenger, picks: agrees with the proposer's midpoint claim iff the node
//!   computes the same claim;
//! - in games on its own proposals (the proposer defending), bisects with its own claims and
//!   proves the last step;
//! - resolves its own games once the side to move ran out of time (anyone else's a whole clock
//!   later, so no game stays open without its parties), claims its credits and withdraws bond
//!   balance beyond one proposal bond.
//!
//! Claims at level 0 are output roots ([`StoreReader::output_root`]); at level 1 they come from
//! the disputed block's trace ([`rollup_execution::trace_block`]), computed on demand from the
//! parent's historical state and kept while the game lasts.
//!
//! The last step's witness opens the agreed state as the parent's output root (the preamble),
//! the block's output root (padding) or a trace state. A step that runs one of the block's ETH
//! deposits to an account without code is proven (`STEP_DEPOSIT`): its bridge message comes
//! from the L1 bridge's logs of the block's L1 origin, its place in the deposit chain from
//! `depositChainAt`, the two accounts and their trie proofs from re-executing the block up to
//! it ([`rollup_execution::deposit_step`]). A batch transaction is proven from its opened
//! segment (`STEP_TRANSACTION`): the agent opens a calldata batch's segments from the batch, and
//! a blob batch's by proving their field elements on L1 by point evaluation first (from its
//! batcher's blobs, or blobs rebuilt from its stored blocks). The seal of any block from its
//! last trace state, which holds the roots of its transactions and receipts tries, and its
//! logs bloom (`STEP_SEAL`). As challenger the agent steps whenever the step is provable or the proposer
//! is not allowlisted.
//!
//! Both agents log under `rollup::dispute`, each line inside a `dispute` span naming its role
//! (`role = "challenger"` or `"defender"`, [`DisputeAgent::role`]), so an operator can tell
//! which agent said it.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, B256, Bytes, U256, utils::format_ether};
use alloy_provider::Provider;
use alloy_rpc_types_eth::{BlockId, Filter, TransactionReceipt, TransactionRequest};
use alloy_sol_types::SolEvent;
use alloy_sol_types::{SolCall, SolValue};
use rollup_execution::{
    BlockTrace, DepositStep, STEP_DEPOSIT, STEP_SEAL, STEP_TRANSACTION, TraceInput, TransactionStep,
};
use rollup_l1::L1Sender;
use rollup_primitives::{
    BLOB_BYTES_PER_FIELD_ELEMENT, BLOB_DATA_SIZE, L2Transaction, OutputRoot, RoleHealth,
    bindings::{
        Game, IBatchInbox, IDisputeGame, IL1Bridge, IOneStepVerifier, ISegmentStore, IStateManager,
        Proposal,
    },
    blob_commitment, blob_element_proof, blob_elements_covering, decode_l1_origin,
    whole_blob_proof,
};

use crate::inputs::{BlockBatch, Posted};
use rollup_storage::{Store, StoreReader};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, warn};

/// `DisputeGame.Status.InProgress`.
const IN_PROGRESS: u8 = 1;

/// `DisputeGame.Status.ProposerWon`.
const PROPOSER_WON: u8 = 2;

/// `DisputeGame.Status.ChallengerWon`.
const CHALLENGER_WON: u8 = 3;

/// Games this account may lose on one proposal it still disagrees with before it stops
/// challenging it: a lost game on a false root means the game was played against this node
/// (or it has a bug), and the challenge period may still leave time for another; past this
/// many, each further bond is more likely lost to the node's own mistake.
const MAX_LOST_GAMES_PER_PROPOSAL: usize = 3;

/// L1 gas one side's moves may take in a game played to its end, segments aside: a defence
/// over 2^20 blocks makes at most 36 bisections and one step, about 3.9M gas with the dearest
/// step transaction measured (docs/benchmarks.md, "Dispute game (gas)"). The agent wants this
/// much gas, at L1's current fees, per game of its in progress on top of the bonds it posts.
const GAS_PER_GAME: u64 = 4_000_000;

/// `OneStepVerifier.STEP_PADDING`: an identity step after the block's seal.
const STEP_PADDING: u8 = 1;

/// `OneStepVerifier.STEP_PREAMBLE`: the block's preamble, from its parent's output root.
const STEP_PREAMBLE: u8 = 2;

/// `OneStepVerifier.STEP_INPUT`: one input of the block L1 cannot decide, from a trace state
/// (a seal too large to prove): the game decides it by the proposer's allowlisting.
const STEP_INPUT: u8 = 3;

/// The witness of a game's last step.
struct Witness {
    /// Its kind (`STEP_*`).
    kind: u8,
    /// `abi.encode(uint8 kind, bytes body)`.
    bytes: Bytes,
    /// Whether L1 decides the step from it (rather than reverting `NotProvableYet`, which
    /// resolves the game by the proposer's allowlisting).
    provable: bool,
}

/// Field elements a `SegmentStore.loadBlob` transaction proves at most: about 11.5 M gas
/// (57,500 each), under EIP-7825's 16.8 M cap on a transaction.
const BLOB_ELEMENTS_PER_CALL: usize = 200;

/// Field elements of a blob (each carries 31 bytes of the stream).
const BLOB_ELEMENTS: usize = BLOB_DATA_SIZE / BLOB_BYTES_PER_FIELD_ELEMENT;

/// Fewest elements of a segment's part in one blob worth proving with `loadWholeBlob` (4.4 M
/// to 6.5 M gas, whatever the part's size) rather than element by element (57,500 gas each).
const WHOLE_BLOB_MIN_ELEMENTS: usize = 100;

/// The next load that moves a blob segment's chain on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BlobLoad {
    /// Every element covering the segment is proven.
    Done,
    /// `loadWholeBlob` of this blob of the batch.
    Whole(usize),
    /// `loadBlob` of these elements, counted from the first covering the segment.
    Elements(std::ops::Range<usize>),
}

/// What to load for a blob segment covered by stream elements `covering`, whose chain stands
/// at `next` of them (the furthest any load reached): the whole blob holding element
/// `covering.start + next` when at least [`WHOLE_BLOB_MIN_ELEMENTS`] of the segment's part in
/// it are still to prove; otherwise elements from `next` on, to the end of the part and at most
/// a transaction's worth. A whole-blob load chains the part from its start, which is chained
/// whenever the chain stands anywhere in it: the segment's start, or a blob boundary, where
/// the store keeps every chain that crosses it. So someone else's few element loads never push
/// the agent onto the dear path.
fn next_blob_load(covering: std::ops::Range<usize>, next: usize) -> BlobLoad {
    if next >= covering.len() {
        return BlobLoad::Done;
    }
    let element = covering.start + next;
    let index = element / BLOB_ELEMENTS;
    let part_end = covering.end.min((index + 1) * BLOB_ELEMENTS);
    if part_end - element >= WHOLE_BLOB_MIN_ELEMENTS {
        return BlobLoad::Whole(index);
    }
    let end = (part_end - covering.start).min(next + BLOB_ELEMENTS_PER_CALL);
    BlobLoad::Elements(next..end)
}

/// The next L1 transaction of one segment's opening (see [`DisputeAgent::open_within`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum OpeningStep {
    /// `open` of a calldata segment, with its record's bytes.
    Calldata,
    /// A load of blob bytes covering the segment.
    Load(BlobLoad),
    /// `openBlob` of a segment whose covering elements are all proven.
    OpenBlob,
}

/// What [`DisputeAgent::open_within`] did.
#[derive(Debug)]
struct OpeningReport {
    /// For each batch, whether every segment its steps read was open already.
    open: Vec<bool>,
    /// Transactions that succeeded on L1.
    sent: usize,
    /// The gas estimated for those sent.
    gas: u64,
}

impl OpeningReport {
    /// Whether nothing was left to open.
    fn all_open(&self) -> bool {
        self.open.iter().all(|open| *open)
    }
}

/// Rounds of openings a step waits for at most ([`DisputeAgent::open_segments`]): a block of
/// sixty blob segments takes about ten L1 blocks' worth.
const MAX_OPENING_BATCHES: usize = 32;

/// KZG results kept for the loads that use them (a few seconds of work each on a slow
/// machine); past it the finished ones are dropped.
const KZG_KEPT: usize = 256;

/// KZG jobs running at once in the background for openings ahead: the rest start as these
/// finish, so a round never waits on them and the machine keeps cores for the node.
const KZG_JOBS_AT_ONCE: usize = 4;

/// The KZG work of a blob load, by what it proves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KzgWork {
    /// The commitment and proof of the whole blob with this versioned hash (`loadWholeBlob`).
    Whole(B256),
    /// The values and proofs of these elements (counted over the batch's blobs) and every
    /// blob's commitment, for the batch whose first versioned hash this is (`loadBlob`).
    Elements(B256, std::ops::Range<usize>),
}

/// A [`KzgWork`]'s result.
#[derive(Debug, Clone)]
enum KzgDone {
    Whole([u8; 48], [u8; 48]),
    Elements(Arc<Vec<([u8; 32], [u8; 48])>>, Arc<Vec<u8>>),
}

/// A [`KzgWork`] under way in the background, or its result.
#[derive(Debug)]
enum KzgJob {
    Running(tokio::task::JoinHandle<Result<KzgDone, String>>),
    Done(KzgDone),
}

/// The L1 block gas limit taken until L1's latest block is read.
const DEFAULT_L1_BLOCK_GAS: u64 = 30_000_000;

/// `abi.encode(Withdrawals.OutputRoot)`.
fn output_root_abi(output: &OutputRoot) -> Vec<u8> {
    (
        U256::from(output.version),
        U256::from(output.l2_block_number),
        output.state_root,
        output.l2_block_hash,
        U256::from(output.inbox_record),
        U256::from(output.block_in_record),
        U256::from(output.l1_block),
    )
        .abi_encode_params()
}

/// Why a dispute round failed.
#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    /// An L1 read failed.
    #[error("reading the dispute contracts failed: {0}")]
    Read(String),
    /// A call reverted.
    #[error("a dispute contract call reverted: {0}")]
    Reverted(String),
    /// Sending a transaction failed.
    #[error(transparent)]
    L1(#[from] rollup_l1::L1Error),
    /// The local database failed.
    #[error(transparent)]
    Storage(#[from] rollup_storage::StorageError),
    /// Re-executing the disputed block failed.
    #[error("tracing L2 block {block} failed: {reason}")]
    Trace {
        /// The block.
        block: u64,
        /// Why.
        reason: String,
    },
    /// The node has not derived a block a game needs.
    #[error("L2 block {0} is not derived here yet: no claim about it can be computed")]
    NotDerived(u64),
}

/// What the dispute agent does.
#[derive(Debug, Clone, Copy)]
pub struct DisputeConfig {
    /// The L1 `StateManager`; the dispute game is its `disputeGame()`, read every round (so an
    /// upgraded game is followed at once).
    pub state_manager: Address,
    /// The L2 chain id (for re-executing blocks).
    pub chain_id: u64,
    /// How often to look at proposals and games.
    pub interval: Duration,
    /// Challenge proposals the node disagrees with (the challenger role). Without it the agent
    /// only defends its own proposals and resolves and claims.
    pub challenge: bool,
}

/// One move the agent decided on in a round: sent with the round's others at once, most urgent
/// first (one at a time, a flood of games took an L1 block per move and ran the clocks out).
#[derive(Debug)]
struct Move {
    what: &'static str,
    to: Address,
    input: Vec<u8>,
    value: U256,
    /// The L1 time by which it must land: the game's deadline, the end of a challenge period.
    deadline: u64,
    /// What to record once it succeeded.
    then: Then,
}

/// What a move's success changes in the agent.
#[derive(Debug)]
enum Then {
    Nothing,
    Resolved,
    /// A challenge of `index` (of `l2_block`, root `proposed`; the node's is `ours`).
    Challenged {
        index: u64,
        l2_block: u64,
        proposed: B256,
        ours: B256,
    },
}

/// How long a disputed block's batch read without the blobs it needs is kept before it is read
/// again from the beacon API, first; each read that still lacks them doubles the wait, up to
/// [`BLOBS_RETRY_MAX`].
const BLOBS_RETRY: Duration = Duration::from_secs(30);

/// The longest wait between two reads of a disputed batch whose blobs are missing.
const BLOBS_RETRY_MAX: Duration = Duration::from_secs(600);

/// The challenger and defender role.
#[derive(Debug)]
pub struct DisputeAgent {
    config: DisputeConfig,
    /// The `DisputeGame` of this round (`StateManager.disputeGame()`).
    dispute_game: Address,
    store: Store,
    sender: L1Sender,
    health: Option<RoleHealth>,
    /// Traces of disputed blocks, by block, each with whether it was built from the block's
    /// batch (`false`: from the stored block, while the batch's blobs were missing) and the
    /// block as derived when it was built.
    traces: HashMap<u64, (BlockTrace, bool, Derived)>,
    /// What L1 fixes about disputed blocks' batch transactions, by block (`None`: the
    /// verifier reads no inbox), with when it is to be read again if its blobs are missing, the
    /// wait after that, and the block as derived when it was read.
    batches: HashMap<u64, (Option<BlockBatch>, std::time::Instant, Duration, Derived)>,
    /// Proposals before this index are final or removed: never looked at again.
    proposal_cursor: u64,
    /// Games before this id are resolved.
    game_cursor: u64,
    /// Live proposals that need nothing of this agent before their challenge period ends:
    /// its own, and others' it agrees with, on both sides of L1 finality (see
    /// [`Self::rest_if_final`]): index → when that period ends. Not read again before then;
    /// with a proposal an hour over a 7-day period, a round read 168 of them.
    agreed_for_good: HashMap<u64, u64>,
    /// The newest L1 finalized block (number, hash) an entry of `agreed_for_good` rests on:
    /// should L1 ever serve another block at that number (its finality violated), the entries
    /// are dropped and every live proposal is read again.
    agreed_on: Option<(u64, B256)>,
    /// The blobs this process's batcher built, the first place to look for a blob batch's.
    known_blobs: Option<rollup_l1::KnownBlobs>,
    /// The beacon API, the last place to look for a blob batch's blobs (another encoder's
    /// batch, or one whose blocks derivation emptied, cannot be rebuilt from stored blocks).
    blob_source: Option<Arc<rollup_l1::BlobSource>>,
    /// Proposals with a game of this account in progress (learnt from every game since start):
    /// not challenged again while it runs.
    challenged: HashSet<u64>,
    /// The games this account lost, by proposal, each with whether it ended at a step (the
    /// proposer to move: a step proven valid, or one L1 cannot prove yet) rather than on this
    /// account's clock: a proposal it still disagrees with is challenged again while its
    /// challenge period runs, up to [`MAX_LOST_GAMES_PER_PROPOSAL`] losses.
    lost: HashMap<u64, HashMap<u64, bool>>,
    /// Proposals this account no longer challenges although it lost a game on them and still
    /// disagrees (see [`Self::challenge_again`]): said once as an error.
    given_up: HashSet<u64>,
    /// Proposals whose challenge could not be made (see [`Self::not_made`]): said once as an
    /// error.
    unchallenged: HashSet<u64>,
    /// Kinds of moves the account could not pay for: said once each as an error.
    unfunded_moves: HashSet<&'static str>,
    /// Final proposals whose root this node disagrees with: index → (L2 block, root, ours).
    /// An alarm every round for as long as the process runs.
    final_false: BTreeMap<u64, (u64, B256, B256)>,
    /// What the account's balance was last found short of, for its games' moves (see
    /// [`Self::check_reserve`]): said once as an error, an alarm until it is funded again.
    short_of_gas: Option<String>,
    /// Since when transactions of this account wait in the L1 pool at the start of rounds,
    /// and when the agent last waited on or replaced them (see [`Self::leftovers_settled`]).
    leftovers_since: Option<(std::time::Instant, std::time::Instant)>,
    /// What the last round found wrong although it ran, each once: the role's health reports
    /// them, joined, instead of success.
    alarms: Vec<String>,
    /// Failed rounds in a row, so an L1 outage is one warning a minute, not one a round.
    failures: rollup_l1::RepeatedFailure,
    /// Games this account lost defending a proposal of its own whose root this node agrees
    /// with: game id → (proposal, L2 block). Said once each as an error; an alarm for as long
    /// as the process runs (a true root removed and its bond lost: played against this node,
    /// or this node too slow or unfunded to answer in time).
    lost_defending: BTreeMap<u64, (u64, u64)>,
    /// L2 blocks whose segments were opened ahead for a game on this account's proposal
    /// ([`Self::open_ahead`]).
    opened_ahead: HashSet<u64>,
    /// Whether the last round saw a game on this account's proposal in a block's trace (level
    /// 1, where its steps and their segments come) whose side to move has less than
    /// [`PRESSING`] of L1 time left (see [`Self::pressing`]).
    pressing: bool,
    /// Whether the last round saw any game of this account (either side) whose side to move
    /// has less than [`PRESSING`] of L1 time left: collecting credit and bonds then waits.
    busy: bool,
    /// The gas this round may still spend on openings ahead ([`Self::open_ahead_of_steps`],
    /// [`Self::open_ahead`]): one L1 block's, over all games.
    opening_gas: u64,
    /// L1's block gas limit, as the round's latest block has it.
    block_gas: u64,
    /// Blob loads' KZG work, computed in the background (see [`Self::kzg`]).
    kzg: HashMap<KzgWork, KzgJob>,
}

/// A game whose side to move has less L1 time than this left is played without anything else
/// of the account's loop in between (a devnet's whole game; the last minute of a production
/// turn).
const PRESSING: u64 = 60;

/// A disputed block as this node derived it: its hash and where it was derived from (its
/// inbox record, that record's batch and L1 block). An L1 reorg that re-posts the block's
/// record, or moves it, changes it; what the agent cached about the block is then read again.
type Derived = (Option<B256>, Option<rollup_storage::BlockDerivation>);

/// What the round knows about the dispute contracts.
struct Params {
    now: u64,
    challenge_period: u64,
    challenger_bond: U256,
    max_clock: u64,
    /// L1's block gas limit.
    block_gas: u64,
}

impl DisputeAgent {
    /// An agent for the chain in `store`, acting with `sender`'s account.
    pub fn new(config: DisputeConfig, store: Store, sender: L1Sender) -> Self {
        Self {
            config,
            dispute_game: Address::ZERO,
            store,
            sender,
            health: None,
            traces: HashMap::new(),
            batches: HashMap::new(),
            proposal_cursor: 0,
            game_cursor: 0,
            agreed_for_good: HashMap::new(),
            agreed_on: None,
            known_blobs: None,
            blob_source: None,
            challenged: HashSet::new(),
            lost: HashMap::new(),
            given_up: HashSet::new(),
            unchallenged: HashSet::new(),
            unfunded_moves: HashSet::new(),
            short_of_gas: None,
            leftovers_since: None,
            final_false: BTreeMap::new(),
            alarms: Vec::new(),
            failures: rollup_l1::RepeatedFailure::default(),
            lost_defending: BTreeMap::new(),
            opened_ahead: HashSet::new(),
            pressing: false,
            busy: false,
            opening_gas: 0,
            block_gas: DEFAULT_L1_BLOCK_GAS,
            kzg: HashMap::new(),
        }
    }

    /// Looks for a disputed blob batch's blobs among those this process's batcher built
    /// first (before rebuilding them from the stored blocks).
    #[must_use]
    pub fn with_known_blobs(mut self, known: rollup_l1::KnownBlobs) -> Self {
        self.known_blobs = Some(known);
        self
    }

    /// Fetches a disputed blob batch's blobs from `source` (a beacon API, if any) when this
    /// process neither built them nor can rebuild them from its stored blocks.
    #[must_use]
    pub fn with_blob_source(mut self, source: Option<Arc<rollup_l1::BlobSource>>) -> Self {
        self.blob_source = source;
        self
    }

    /// Reports each round's outcome to `health`.
    #[must_use]
    pub fn with_health(mut self, health: RoleHealth) -> Self {
        self.health = Some(health);
        self
    }

    fn me(&self) -> Address {
        self.sender.address()
    }

    /// The `StateManager`'s one-step verifier.
    async fn one_step_verifier(&self) -> Result<Address, DisputeError> {
        self.call(
            self.config.state_manager,
            IStateManager::oneStepVerifierCall {},
        )
        .await
    }

    /// Reads `call` on `to` as of L1's latest block. Never `pending` (alloy's default): a move
    /// the agent made in answer to a transaction still in the mempool would apply to whatever
    /// was mined instead, and a party that replaced its transaction after seeing the answer
    /// turned an agreement with a true claim into one with a false claim, and so won games on
    /// false roots and lost the honest side's bonds.
    async fn call<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return, DisputeError> {
        self.call_at(to, call, BlockId::latest()).await
    }

    /// [`Self::call`] as of L1's block `block`.
    async fn call_at<C: SolCall>(
        &self,
        to: Address,
        call: C,
        block: BlockId,
    ) -> Result<C::Return, DisputeError> {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(call.abi_encode());
        let out =
            self.sender
                .call_at(tx, block)
                .await
                .map_err(|err| match err.as_error_resp() {
                    Some(payload) if payload.code == 3 || payload.message.contains("revert") => {
                        // Named from the contracts' errors: the node's text shows a custom
                        // error as its bare selector.
                        DisputeError::Reverted(payload.as_revert_data().map_or_else(
                            || rollup_l1::printable(&payload.message),
                            |data| rollup_primitives::describe_revert(&data),
                        ))
                    }
                    _ => DisputeError::Read(err.to_string()),
                })?;
        rollup_primitives::decode_returns::<C>(to, &out).map_err(DisputeError::Read)
    }

    /// Logs `receipt` of a `what` sent; whether it succeeded.
    fn sent(&self, what: &str, receipt: TransactionReceipt) -> bool {
        if receipt.status() {
            info!(target: "rollup::dispute", what, tx = %receipt.transaction_hash, "sent");
        } else {
            warn!(target: "rollup::dispute", what, tx = %receipt.transaction_hash, "reverted on L1");
        }
        receipt.status()
    }

    /// The node's claim at `at` of level 0 (an output root); `None` if it has not derived it.
    fn output_claim(reader: &StoreReader, block: u64) -> Result<Option<OutputRoot>, DisputeError> {
        Ok(reader.output_root(block)?)
    }

    /// What L1 fixes about `block`'s batch transactions: its inbox record's block table and,
    /// for a calldata batch, the batch; read once per game. `None` if the one-step verifier
    /// reads no inbox.
    ///
    /// A batch read without the blobs it needs is read again, with a beacon API to ask (down or
    /// behind for a moment), after [`BLOBS_RETRY`] and then ever longer waits as long as it
    /// lacks them: kept for the whole game, one failed fetch left every step of its
    /// transactions unprovable, and an honest agent lost on its clock.
    ///
    /// A batch read for the block as it was derived before an L1 reorg is dropped and read
    /// again.
    async fn block_batch(&mut self, block: u64) -> Result<Option<&BlockBatch>, DisputeError> {
        let now = std::time::Instant::now();
        let retry = self.blob_source.is_some();
        let derived = self.derived(block)?;
        if self
            .batches
            .get(&block)
            .is_some_and(|(.., before)| *before != derived)
        {
            info!(target: "rollup::dispute", block, "the disputed block was derived again from other L1 data (an L1 reorg); reading its batch again");
            self.batches.remove(&block);
        }
        let stale = self.batches.get(&block).is_none_or(|(batch, due, ..)| {
            retry && batch.as_ref().is_some_and(BlockBatch::lacks_data) && now >= *due
        });
        if stale {
            let wait = self
                .batches
                .get(&block)
                .map_or(BLOBS_RETRY, |(_, _, wait, _)| {
                    (*wait * 2).min(BLOBS_RETRY_MAX)
                });
            match self.read_block_batch(block).await {
                Ok(batch) => {
                    self.batches
                        .insert(block, (batch, now + wait, wait, derived));
                }
                Err(err) => match self.batches.get_mut(&block) {
                    // The batch as read before stands until a read succeeds.
                    Some((_, due, next, _)) => {
                        debug!(target: "rollup::dispute", block, %err, "cannot read the disputed block's batch again");
                        (*due, *next) = (now + wait, wait);
                    }
                    None => return Err(err),
                },
            }
        }
        Ok(self.batches[&block].0.as_ref())
    }

    /// `block` as this node derived it now ([`Derived`]).
    fn derived(&self, block: u64) -> Result<Derived, DisputeError> {
        let reader = self.store.reader()?;
        Ok((reader.block_hash(block)?, reader.block_derivation(block)?))
    }

    async fn read_block_batch(&self, block: u64) -> Result<Option<BlockBatch>, DisputeError> {
        let verifier = self.one_step_verifier().await?;
        let inbox = match self.call(verifier, IOneStepVerifier::inboxCall {}).await {
            Ok(inbox) => inbox,
            Err(DisputeError::Reverted(reason)) => {
                debug!(target: "rollup::dispute", %verifier, reason, "the one-step verifier reads no inbox");
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let index: u64 = self
            .call(inbox, IBatchInbox::recordOfCall { l2Block: block })
            .await?
            .saturating_to();
        let record = self
            .call(
                inbox,
                IBatchInbox::recordsCall {
                    index: U256::from(index),
                },
            )
            .await?;
        let posted = if record.forced {
            Posted::Forced(self.forced_block_table(&record)?)
        } else {
            self.posted_batch(inbox, index, &record).await?
        };
        let mut batch = BlockBatch::new(index, &record, posted, block, self.config.chain_id)
            .map_err(DisputeError::Read)?;
        // A block spanning records: the records before, left open, back to the one where it
        // starts, hold its first parts.
        if block == record.firstBlock {
            let mut at = index;
            while let Some(previous) = at.checked_sub(1)
                && batch.earlier.len() < rollup_primitives::MAX_SEGMENTS_PER_BLOCK
            {
                let open = self
                    .call(
                        inbox,
                        IBatchInbox::recordsCall {
                            index: U256::from(previous),
                        },
                    )
                    .await?;
                if !open.lastBlockOpen {
                    break;
                }
                let posted = self.posted_batch(inbox, previous, &open).await?;
                let part = BlockBatch::new(previous, &open, posted, block, self.config.chain_id)
                    .map_err(DisputeError::Read)?;
                batch.earlier.insert(0, part);
                // The record where the block starts: the ones before it may be left open for
                // an earlier block (the flag stays after a later record closed it).
                if open.blockCount != 1 || open.firstBlockTxOffset == 0 {
                    break;
                }
                at = previous;
            }
        }
        Ok(Some(batch))
    }

    /// The block table of a forced record, as `forceInclude` built it from the blocks'
    /// timestamps: per block, origin delta 1, the gap to the block before, no transactions.
    fn forced_block_table(&self, record: &IBatchInbox::Record) -> Result<Bytes, DisputeError> {
        let reader = self.store.reader()?;
        let mut table = Vec::with_capacity(usize::from(record.blockCount) * 7);
        for number in record.firstBlock..record.firstBlock + u64::from(record.blockCount) {
            let (parent, header) = header_and_parent(&reader, number)?;
            let parent = reader
                .header(parent)?
                .ok_or(DisputeError::NotDerived(parent))?;
            let gap = u32::try_from(header.timestamp.saturating_sub(parent.timestamp))
                .unwrap_or(u32::MAX);
            table.push(1);
            table.extend_from_slice(&gap.to_be_bytes());
            table.extend_from_slice(&[0, 0]);
        }
        Ok(table.into())
    }

    /// The batch of record `index`: the calldata of the L1 transaction that appended it.
    async fn posted_batch(
        &self,
        inbox: Address,
        index: u64,
        record: &IBatchInbox::Record,
    ) -> Result<Posted, DisputeError> {
        let read = |err: &dyn std::fmt::Display| DisputeError::Read(err.to_string());
        let logs = self
            .sender
            .provider()
            .get_logs(
                &Filter::new()
                    .address(inbox)
                    .event_signature(IBatchInbox::BatchAppended::SIGNATURE_HASH)
                    .topic1(U256::from(index))
                    .from_block(record.l1Block)
                    .to_block(record.l1Block),
            )
            .await
            .map_err(|e| read(&e))?;
        let tx_hash = logs
            .iter()
            .find(|log| !log.removed)
            .and_then(|log| log.transaction_hash)
            .ok_or_else(|| {
                DisputeError::Read(format!(
                    "no BatchAppended log of record {index} in L1 block {}",
                    record.l1Block
                ))
            })?;
        let tx = self
            .sender
            .provider()
            .get_transaction_by_hash(tx_hash)
            .await
            .map_err(|e| read(&e))?
            .ok_or_else(|| DisputeError::Read(format!("L1 transaction {tx_hash} not found")))?;
        let input = tx.input();
        if let Ok(call) = IBatchInbox::postBatchCall::abi_decode(input) {
            return Ok(Posted::Calldata(call.data));
        }
        if let Ok(call) = IBatchInbox::postBlobBatchCall::abi_decode(input) {
            let versioned_hashes = tx.blob_versioned_hashes().unwrap_or_default().to_vec();
            let mut blobs = self
                .blob_batch_blobs(&call.envelope, &versioned_hashes)
                .await;
            if blobs.is_none()
                && let Some(source) = &self.blob_source
            {
                blobs = self
                    .fetch_blobs(source, record.l1Block, &versioned_hashes)
                    .await;
            }
            if blobs.is_none() {
                warn!(target: "rollup::dispute", record = index, "this node has not the blobs of the disputed blob batch: its transactions' steps cannot be proven");
            }
            return Ok(Posted::Blobs {
                envelope: call.envelope,
                versioned_hashes,
                blobs,
            });
        }
        Err(DisputeError::Read(format!(
            "L1 transaction {tx_hash} appended record {index} without calling the inbox directly"
        )))
    }

    /// The blobs of a blob batch (`envelope`, carried by a transaction with
    /// `versioned_hashes`): this process's batcher's own, or rebuilt from the stored blocks the
    /// batch holds (`rollup_l1::rebuild_blob_batch`, which checks each against its hash).
    /// `None` when neither gives them (another encoder's batch, or a block derivation emptied).
    async fn blob_batch_blobs(
        &self,
        envelope: &Bytes,
        versioned_hashes: &[B256],
    ) -> Option<Vec<Bytes>> {
        if let Some(blobs) = self
            .known_blobs
            .as_ref()
            .and_then(|known| known.get_all(versioned_hashes))
        {
            return Some(blobs);
        }
        let store = self.store.clone();
        let envelope = envelope.clone();
        let hashes = versioned_hashes.to_vec();
        tokio::task::spawn_blocking(move || {
            let reader = store.reader().ok()?;
            rollup_l1::rebuild_blob_batch(&envelope, &hashes, |number| {
                Some((reader.header(number).ok()??, reader.body(number).ok()??))
            })
        })
        .await
        .ok()
        .flatten()
    }

    /// The blobs with `versioned_hashes` that L1 block `number` carried, from the beacon API
    /// `source` (each checked against its hash); `None`, with a warning, if it cannot serve them.
    async fn fetch_blobs(
        &self,
        source: &rollup_l1::BlobSource,
        number: u64,
        versioned_hashes: &[B256],
    ) -> Option<Vec<Bytes>> {
        let block = match self
            .sender
            .provider()
            .get_block_by_number(number.into())
            .await
        {
            Ok(Some(block)) => block,
            Ok(None) => {
                warn!(target: "rollup::dispute", l1_block = number, "L1 does not serve the block of a disputed blob batch");
                return None;
            }
            Err(err) => {
                warn!(target: "rollup::dispute", l1_block = number, %err, "cannot read the L1 block of a disputed blob batch");
                return None;
            }
        };
        match source
            .fetch(
                number,
                block.header.hash,
                block.header.timestamp,
                versioned_hashes,
            )
            .await
        {
            Ok(blobs) => {
                info!(target: "rollup::dispute", l1_block = number, blobs = blobs.len(), url = source.url(), "fetched a disputed blob batch's blobs from the beacon API");
                Some(blobs)
            }
            Err(err) => {
                warn!(target: "rollup::dispute", l1_block = number, %err, "the beacon API did not give a disputed blob batch's blobs");
                None
            }
        }
    }

    /// The trace of `block`, computed once per game, again once the block's batch gets the
    /// blobs it lacked when the trace was built (until then it is the stored block's), and
    /// again if an L1 reorg changed where the block was derived from.
    async fn trace(&mut self, block: u64) -> Result<&BlockTrace, DisputeError> {
        let complete = !self
            .block_batch(block)
            .await?
            .is_some_and(BlockBatch::lacks_data);
        let derived = self.derived(block)?;
        if self
            .traces
            .get(&block)
            .is_none_or(|(_, from_batch, before)| (complete && !from_batch) || *before != derived)
        {
            let batch = self
                .block_batch(block)
                .await?
                .and_then(BlockBatch::transactions);
            let store = self.store.clone();
            let chain_id = self.config.chain_id;
            let started = std::time::Instant::now();
            let trace =
                off_runtime(block, move || compute_trace(&store, chain_id, block, batch)).await?;
            info!(target: "rollup::dispute", block, seal = trace.seal_position(), elapsed = ?started.elapsed(), "traced the disputed block");
            if let Some((before, _, same)) = self.traces.get(&block)
                && *same == derived
                && before.seal_position() != trace.seal_position()
            {
                warn!(target: "rollup::dispute", block, seal_before = before.seal_position(), seal = trace.seal_position(), "the disputed block's trace from its batch differs from the stored block's it was traced from while the batch's blobs were missing (derivation skipped a transaction): claims made before follow the other trace");
            }
            self.traces.insert(block, (trace, complete, derived));
        }
        Ok(&self.traces[&block].0)
    }

    /// The node's claim at position `at` of `game`'s current level.
    async fn claim(&mut self, game: &Game, at: u64) -> Result<B256, DisputeError> {
        if game.level == 0 {
            let reader = self.store.reader()?;
            return Self::output_claim(&reader, at)?
                .map(|output| output.hash())
                .ok_or(DisputeError::NotDerived(at));
        }
        Ok(self.trace(game.l2Block).await?.claim(at))
    }

    /// The witness of the step at position `game.lo` of level 1, with its kind: it opens the
    /// agreed state as the parent's output root (the preamble), a trace state (an input: a
    /// transaction or the seal; a provable ETH deposit with its deposit witness) or the block's
    /// output root (padding), whichever it is.
    ///
    /// The segments a transaction's step reads are opened on L1 first (up to 16 transactions
    /// of up to about 15.5M gas each) if the step is provable, or if `open_unprovable`: a
    /// challenger facing an allowlisted proposer does not step where the verifier cannot
    /// prove, and opening for it would only pay for the proposer's own step.
    async fn witness(
        &mut self,
        game: &Game,
        open_unprovable: bool,
    ) -> Result<Witness, DisputeError> {
        let block = game.l2Block;
        let trace = self.trace(block).await?;
        let seal = trace.seal_position();
        let state = trace.state(game.lo).copied();
        let (kind, body) = if game.lo == 0 {
            if let Some(witness) = self.preamble_witness(block).await? {
                return Ok(witness);
            }
            let reader = self.store.reader()?;
            let parent = reader
                .output_root(block - 1)?
                .ok_or(DisputeError::NotDerived(block - 1))?;
            (STEP_PREAMBLE, output_root_abi(&parent))
        } else if game.lo >= seal {
            let reader = self.store.reader()?;
            let output = reader
                .output_root(block)?
                .ok_or(DisputeError::NotDerived(block))?;
            (STEP_PADDING, output_root_abi(&output))
        } else {
            let state = state.ok_or(DisputeError::NotDerived(block))?;
            if let Some((bytes, provable)) = self.deposit_witness(block, game.lo).await? {
                return Ok(Witness {
                    kind: STEP_DEPOSIT,
                    bytes,
                    provable,
                });
            }
            if let Some((bytes, provable)) = self
                .transaction_witness(block, game.lo, open_unprovable)
                .await?
            {
                return Ok(Witness {
                    kind: STEP_TRANSACTION,
                    bytes,
                    provable,
                });
            }
            // The seal (or a transaction L1 cannot open): L1 checks the block's opened segments
            // to tell an emptied block's seal from a batch transaction.
            let batch = self.block_batch(block).await?.cloned();
            let (block_table, first_segment) = match &batch {
                Some(batch) => {
                    let emptied = batch.has_batch_txs()
                        && batch.transactions().is_some_and(|txs| txs.is_empty());
                    if emptied {
                        self.open_segments(batch).await?;
                    }
                    (batch.block_table.clone(), batch.first_segment())
                }
                None => (Bytes::new(), 0),
            };
            let store = self.store.clone();
            if game.lo + 1 == seal {
                // An emptied block's seal follows its deposits; L1 tells it from the block's
                // first batch transaction by its opened segments, which need the blobs of a
                // blob batch. A block that holds every transaction of its batch reads no
                // segment at its seal: without the blobs its trace is the stored block's, and
                // its seal is where L1 has it if derivation skipped none of them.
                let without_blobs = batch.filter(|batch| batch.transactions().is_none());
                let (bytes, provable) = off_runtime(block, move || {
                    let provable = match without_blobs {
                        Some(batch) => {
                            let body = store
                                .reader()?
                                .body(block)?
                                .ok_or(DisputeError::NotDerived(block))?;
                            batch.holds_all_of(&body)
                        }
                        None => true,
                    };
                    let bytes = seal_witness(&store, block, state, block_table, first_segment)?;
                    Ok((bytes, provable))
                })
                .await?;
                return Ok(Witness {
                    kind: STEP_SEAL,
                    bytes,
                    provable,
                });
            }
            let input = off_runtime(block, move || {
                input_witness(&store, block, state, block_table, first_segment)
            })
            .await?;
            (STEP_INPUT, input)
        };
        Ok(Witness {
            kind,
            bytes: (U256::from(kind), Bytes::from(body))
                .abi_encode_params()
                .into(),
            provable: kind == STEP_PADDING,
        })
    }

    /// The `STEP_PREAMBLE` witness of `block`: its parent's output root and header, its inbox
    /// record's block table and its L1 origin's header, from which L1 fixes the block's context.
    /// `None` if the verifier reads no inbox or L1 has no such origin header (then the witness
    /// is the parent's output root alone, which an older verifier takes).
    async fn preamble_witness(&mut self, block: u64) -> Result<Option<Witness>, DisputeError> {
        let Some(block_table) = self
            .block_batch(block)
            .await?
            .map(|batch| batch.block_table.clone())
        else {
            return Ok(None);
        };
        let (parent, parent_header, origin) = {
            let reader = self.store.reader()?;
            let (parent_number, header) = header_and_parent(&reader, block)?;
            let parent = reader
                .output_root(parent_number)?
                .ok_or(DisputeError::NotDerived(parent_number))?;
            let parent_header = reader
                .header(parent_number)?
                .ok_or(DisputeError::NotDerived(parent_number))?;
            let origin = decode_l1_origin(&header.extra_data)
                .map_err(|err| DisputeError::Read(format!("block {block}'s L1 origin: {err}")))?;
            (parent, parent_header, origin)
        };
        let Some(origin_header) = rollup_l1::header_rlp(self.sender.provider(), origin.number)
            .await
            .map_err(DisputeError::Read)?
        else {
            return Ok(None);
        };
        if alloy_primitives::keccak256(&origin_header) != origin.hash {
            warn!(target: "rollup::dispute", block, origin = origin.number, "L1 has another block at the block's L1 origin: the preamble is not proven");
            return Ok(None);
        }
        let body = IOneStepVerifier::PreambleWitness {
            parent: parent.into(),
            parentHeader: alloy_rlp::encode(&parent_header).into(),
            blockTable: block_table,
            originHeader: origin_header,
        }
        .abi_encode();
        Ok(Some(Witness {
            kind: STEP_PREAMBLE,
            bytes: (U256::from(STEP_PREAMBLE), Bytes::from(body))
                .abi_encode_params()
                .into(),
            provable: true,
        }))
    }

    /// The `STEP_TRANSACTION` witness of the step at `position` of `block`, if its input is one
    /// of the block's batch transactions in a batch this node can read (calldata, or blobs it
    /// has); `None` otherwise (the step keeps
    /// its `STEP_INPUT` witness). Opens the block's segments in the `SegmentStore` first where
    /// nobody has, if the step is provable or `open_unprovable`. Fails only when L1 or the
    /// database cannot be read (the next round retries).
    async fn transaction_witness(
        &mut self,
        block: u64,
        position: u64,
        open_unprovable: bool,
    ) -> Result<Option<(Bytes, bool)>, DisputeError> {
        let Some(batch) = self.block_batch(block).await?.cloned() else {
            return Ok(None);
        };
        let Some(transactions) = batch.transactions() else {
            return Ok(None);
        };
        let store = self.store.clone();
        let chain_id = self.config.chain_id;
        let step = off_runtime(block, move || {
            compute_transaction_step(&store, chain_id, block, transactions, position)
        })
        .await?;
        let Some((step, k)) = step else {
            return Ok(None);
        };
        if self.trace(block).await?.state(position) != Some(&step.state) {
            warn!(target: "rollup::dispute", block, position, "re-executing the block up to the transaction gave another state than its trace: not proven");
            return Ok(None);
        }
        let Some((first_segment, proof)) = batch.leaf_proof(k) else {
            return Ok(None);
        };
        let provable = step.provable();
        if provable || open_unprovable {
            self.open_segments(&batch).await?;
        }
        let witness = step.witness(batch.block_table.clone(), first_segment, proof);
        Ok(Some((witness, provable)))
    }

    /// Opens every segment with a transaction of the block, in every record holding a part of
    /// it, in the verifier's `SegmentStore` that nobody opened yet: a transaction's step reads
    /// them there. Each L1 block's worth goes out together ([`Self::open_within`]) until
    /// nothing is left or a round of them moved nothing (said as warnings; the step then
    /// fails its simulation and the next round tries again).
    async fn open_segments(&mut self, batch: &BlockBatch) -> Result<(), DisputeError> {
        for _ in 0..MAX_OPENING_BATCHES {
            let report = self
                .open_within(std::slice::from_ref(batch), self.block_gas, true)
                .await?;
            if report.all_open() || report.sent == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Opens ahead what it can of the segments of `block` a step may read, with what is left
    /// of the round's gas for openings ([`Self::opening_gas`]): before a challenger's step
    /// (see [`Self::open_ahead_of_steps`] for the account's own proposals). Returns whether
    /// nothing was left to open.
    async fn open_ahead(&mut self, block: u64) -> Result<bool, DisputeError> {
        let Some(batch) = self.openable(block).await? else {
            return Ok(true);
        };
        let report = self
            .open_within(std::slice::from_ref(&batch), self.opening_gas, false)
            .await?;
        self.opening_gas = self.opening_gas.saturating_sub(report.gas);
        Ok(report.all_open())
    }

    /// The batch of `block` if a step may need segments of it opened: it has batch
    /// transactions and this node has their bytes (without the blobs, a transaction's step
    /// keeps its `STEP_INPUT` witness).
    async fn openable(&mut self, block: u64) -> Result<Option<BlockBatch>, DisputeError> {
        Ok(self
            .block_batch(block)
            .await?
            .filter(|batch| batch.has_batch_txs() && batch.transactions().is_some())
            .cloned())
    }

    /// Opens ahead the segments of `blocks` (most urgent first) for games of this account's
    /// own proposals that reached the blocks' traces (level 1): at the step the proposer's
    /// turn is down to the clock extension, and a block of several blob segments needs tens of
    /// L1 transactions. Every segment's next transaction goes out together, one L1 block's gas
    /// a round over all games ([`Self::opening_gas`]), so a round never waits long on them;
    /// the segments' chains are independent, so ten blocks steered to at once advance
    /// together, not one transaction a round. A block found all open is not read again.
    async fn open_ahead_of_steps(&mut self, blocks: Vec<u64>) -> Result<(), DisputeError> {
        let mut batches = Vec::new();
        for block in blocks {
            if self.opened_ahead.contains(&block) {
                continue;
            }
            match self.openable(block).await? {
                Some(batch) => batches.push((block, batch)),
                None => {
                    self.opened_ahead.insert(block);
                }
            }
        }
        if batches.is_empty() {
            return Ok(());
        }
        let (blocks, batches): (Vec<_>, Vec<_>) = batches.into_iter().unzip();
        let report = self.open_within(&batches, self.opening_gas, false).await?;
        self.opening_gas = self.opening_gas.saturating_sub(report.gas);
        for (block, open) in blocks.into_iter().zip(report.open) {
            if open {
                self.opened_ahead.insert(block);
            }
        }
        Ok(())
    }

    /// Sends the next L1 transaction of every segment of `batches` (in order) not yet opened,
    /// as far as `gas` (estimated) goes, all together: a calldata segment's `open`, or a blob
    /// segment's next load ([`next_blob_load`]) or its `openBlob`. A segment's chain moves one
    /// transaction per call (each load starts where the store stands); different segments'
    /// chains are independent. With `gas` 0 it only reads. A transaction whose estimate fails
    /// (someone else's load came first, say) is said as a warning and left to the next call.
    /// Without `wait`, a load whose KZG work is not done yet is left to a later call while the
    /// work goes on in the background ([`Self::kzg`]): a round that computed ten blocks' proofs
    /// before its next moves held every game's bisection back past its clock.
    async fn open_within(
        &mut self,
        batches: &[BlockBatch],
        gas: u64,
        wait: bool,
    ) -> Result<OpeningReport, DisputeError> {
        let verifier = self.one_step_verifier().await?;
        let store = self
            .call(verifier, IOneStepVerifier::segmentStoreCall {})
            .await?;
        let mut report = OpeningReport {
            open: Vec::with_capacity(batches.len()),
            sent: 0,
            gas: 0,
        };
        let mut pending = Vec::new();
        for (index, batch) in batches.iter().enumerate() {
            let before = pending.len();
            for (part, record) in batch.parts().enumerate() {
                for (segment, step) in self.next_openings(store, record).await? {
                    pending.push((index, part, segment, step));
                }
            }
            report.open.push(pending.len() == before);
        }
        let mut chosen = Vec::new();
        // A whole blob's load proves it for every segment in it: sent once. A segment holding
        // transactions of two of the blocks moves once too.
        let mut whole_loads = HashSet::new();
        let mut moved = HashSet::new();
        for (index, part, segment, step) in pending {
            if report.gas >= gas {
                break;
            }
            let Some(record) = batches[index].parts().nth(part) else {
                continue;
            };
            if !moved.insert((record.record, segment)) {
                continue;
            }
            if let OpeningStep::Load(BlobLoad::Whole(blob)) = step
                && !whole_loads.insert((record.record, blob))
            {
                continue;
            }
            let Some((what, input, elements)) =
                self.opening_input(record, segment, &step, wait).await?
            else {
                continue;
            };
            let Some(estimate) = self.estimate(what, store, &input).await else {
                continue;
            };
            if !chosen.is_empty() && report.gas + estimate > gas {
                break;
            }
            report.gas += estimate;
            chosen.push((record.record, segment, what, Bytes::from(input), elements));
        }
        if chosen.is_empty() {
            return Ok(report);
        }
        let results = self
            .sender
            .send_many(
                chosen
                    .iter()
                    .map(|(_, _, _, input, _)| (store, input.clone(), U256::ZERO))
                    .collect(),
            )
            .await;
        let mut failed = None;
        for ((record, segment, what, _, elements), result) in chosen.into_iter().zip(results) {
            let receipt = match result {
                Ok(receipt) => receipt,
                Err(err) => {
                    failed = failed.or(Some(err));
                    continue;
                }
            };
            if self.sent(what, receipt) {
                report.sent += 1;
                if elements > 0 {
                    metrics::counter!("rollup_dispute_blob_elements_loaded_total")
                        .increment(elements as u64);
                } else {
                    metrics::counter!("rollup_dispute_segments_opened_total").increment(1);
                }
                info!(target: "rollup::dispute", record, segment, what, "sent for a transaction's step");
            }
        }
        match failed {
            Some(err) if report.sent == 0 => Err(err.into()),
            _ => Ok(report),
        }
    }

    /// The next transaction of each segment of `part` with a transaction of the block that
    /// the `SegmentStore` at `store` has not opened; none when all are open (or the part has
    /// no bytes here).
    async fn next_openings(
        &self,
        store: Address,
        part: &BlockBatch,
    ) -> Result<Vec<(usize, OpeningStep)>, DisputeError> {
        let mut next = Vec::new();
        if part.blob.is_none() && part.data.is_none() {
            return Ok(next);
        }
        let record = U256::from(part.record);
        for segment in part.block_segments() {
            let opened = self
                .call(
                    store,
                    ISegmentStore::segmentsCall {
                        record,
                        segment: U256::from(segment),
                    },
                )
                .await?;
            if opened.opened {
                continue;
            }
            let Some(blob) = &part.blob else {
                next.push((segment, OpeningStep::Calldata));
                continue;
            };
            let covering = blob_elements_covering(blob.offsets[segment], blob.lengths[segment]);
            let loaded = self
                .call(
                    store,
                    ISegmentStore::blobLoadsCall {
                        record,
                        segment: U256::from(segment),
                    },
                )
                .await?
                .next as usize;
            next.push((
                segment,
                match next_blob_load(covering, loaded) {
                    BlobLoad::Done => OpeningStep::OpenBlob,
                    load => OpeningStep::Load(load),
                },
            ));
        }
        Ok(next)
    }

    /// The transaction of `step` for `segment` of `part`: what it is called in logs, its
    /// input, and the blob elements it proves (0 for an opening); `None` while its KZG work
    /// goes on (without `wait`, see [`Self::kzg`]).
    async fn opening_input(
        &mut self,
        part: &BlockBatch,
        segment: usize,
        step: &OpeningStep,
        wait: bool,
    ) -> Result<Option<(&'static str, Vec<u8>, usize)>, DisputeError> {
        let record = U256::from(part.record);
        let (blob, step) = match (&part.blob, &part.data, step) {
            (None, Some(data), OpeningStep::Calldata) => {
                let input = ISegmentStore::openCall {
                    record,
                    data: data.clone(),
                    segment: U256::from(segment),
                }
                .abi_encode();
                return Ok(Some(("open segment", input, 0)));
            }
            (Some(blob), _, OpeningStep::Load(load)) => (blob, load),
            (Some(blob), _, OpeningStep::OpenBlob) => {
                let covering = blob_elements_covering(blob.offsets[segment], blob.lengths[segment]);
                let covered: Bytes = covering
                    .flat_map(|element| {
                        let at = (element % BLOB_ELEMENTS) * 32;
                        blob.blobs[element / BLOB_ELEMENTS][at + 1..at + 32].to_vec()
                    })
                    .collect();
                let input = ISegmentStore::openBlobCall {
                    record,
                    envelope: blob.envelope.clone(),
                    segment: U256::from(segment),
                    covered,
                }
                .abi_encode();
                return Ok(Some(("open blob segment", input, 0)));
            }
            _ => {
                return Err(DisputeError::Read(format!(
                    "record {}'s segment {segment}: {step:?} does not fit its bytes",
                    part.record
                )));
            }
        };
        match step {
            BlobLoad::Done => Err(DisputeError::Read(format!(
                "record {}'s segment {segment}: nothing left to load",
                part.record
            ))),
            BlobLoad::Whole(index) => {
                let values = blob.blobs[*index].clone();
                let work = KzgWork::Whole(blob.versioned_hashes[*index]);
                let compute = move || {
                    whole_blob_proof(&values)
                        .map(|(commitment, proof)| KzgDone::Whole(commitment, proof))
                };
                let Some(KzgDone::Whole(commitment, proof)) = self.kzg(work, compute, wait).await?
                else {
                    return Ok(None);
                };
                let input = ISegmentStore::loadWholeBlobCall {
                    w: ISegmentStore::WholeBlob {
                        record,
                        envelope: blob.envelope.clone(),
                        versionedHashes: blob.versioned_hashes.clone(),
                        blob: U256::from(*index),
                        commitment: commitment.to_vec().into(),
                        values: blob.blobs[*index].clone(),
                        proof: proof.to_vec().into(),
                    },
                }
                .abi_encode();
                Ok(Some(("load a whole blob", input, BLOB_ELEMENTS)))
            }
            BlobLoad::Elements(range) => {
                let covering = blob_elements_covering(blob.offsets[segment], blob.lengths[segment]);
                let blobs = blob.blobs.clone();
                let absolute = covering.start + range.start..covering.start + range.end;
                let work = KzgWork::Elements(
                    blob.versioned_hashes.first().copied().unwrap_or_default(),
                    absolute.clone(),
                );
                let compute = move || {
                    let proven = absolute
                        .map(|element| {
                            blob_element_proof(
                                &blobs[element / BLOB_ELEMENTS],
                                element % BLOB_ELEMENTS,
                            )
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    let commitments = blobs
                        .iter()
                        .map(|b| blob_commitment(b))
                        .collect::<Result<Vec<_>, String>>()?
                        .concat();
                    Ok(KzgDone::Elements(Arc::new(proven), Arc::new(commitments)))
                };
                let Some(KzgDone::Elements(proven, commitments)) =
                    self.kzg(work, compute, wait).await?
                else {
                    return Ok(None);
                };
                let input = ISegmentStore::loadBlobCall {
                    e: ISegmentStore::BlobElements {
                        record,
                        envelope: blob.envelope.clone(),
                        versionedHashes: blob.versioned_hashes.clone(),
                        segment: U256::from(segment),
                        from: U256::from(range.start),
                        commitments: commitments.to_vec().into(),
                        payloads: proven.iter().flat_map(|(value, _)| *value).collect(),
                        proofs: proven.iter().flat_map(|(_, proof)| *proof).collect(),
                    },
                }
                .abi_encode();
                Ok(Some(("load blob elements", input, range.len())))
            }
        }
    }

    /// The result of `work` (which `compute` does): started in the background on first ask, on
    /// a blocking thread at full priority (unlike the batcher's sidecars, `rollup_l1::kzg_work_unless_urgent`,
    /// below sequencing: a proof here runs against a game's clock), at most
    /// [`KZG_JOBS_AT_ONCE`] at once unless waited for; `None` while it runs, unless
    /// `wait`. A job that failed is dropped and its error returned (the next ask starts it
    /// again).
    async fn kzg(
        &mut self,
        work: KzgWork,
        compute: impl FnOnce() -> Result<KzgDone, String> + Send + 'static,
        wait: bool,
    ) -> Result<Option<KzgDone>, DisputeError> {
        if !self.kzg.contains_key(&work) {
            let running = self
                .kzg
                .values()
                .filter(|job| matches!(job, KzgJob::Running(_)))
                .count();
            if !wait && running >= KZG_JOBS_AT_ONCE {
                return Ok(None);
            }
            if self.kzg.len() >= KZG_KEPT {
                self.kzg.retain(|_, job| matches!(job, KzgJob::Running(_)));
            }
            self.kzg.insert(
                work.clone(),
                KzgJob::Running(tokio::task::spawn_blocking(compute)),
            );
        }
        let Some(job) = self.kzg.get_mut(&work) else {
            return Ok(None);
        };
        if let KzgJob::Running(handle) = job {
            if !wait && !handle.is_finished() {
                return Ok(None);
            }
            let done = match handle.await {
                Ok(Ok(done)) => done,
                Ok(Err(err)) => {
                    self.kzg.remove(&work);
                    return Err(DisputeError::Read(err));
                }
                Err(err) => {
                    self.kzg.remove(&work);
                    return Err(DisputeError::Read(format!("blob proof task: {err}")));
                }
            };
            *job = KzgJob::Done(done);
        }
        match self.kzg.get(&work) {
            Some(KzgJob::Done(done)) => Ok(Some(done.clone())),
            _ => Ok(None),
        }
    }

    /// The gas L1's latest state says `input` to `to` takes (its simulation); `None`, said as
    /// a warning, if it fails there.
    async fn estimate(&self, what: &str, to: Address, input: &[u8]) -> Option<u64> {
        let request = TransactionRequest::default()
            .with_from(self.me())
            .with_to(to)
            .with_input(input.to_vec());
        match self
            .sender
            .provider()
            .estimate_gas(request)
            .block(BlockId::latest())
            .await
        {
            Ok(gas) => Some(gas),
            Err(err) => {
                let err = rollup_l1::call_failure(&err);
                warn!(target: "rollup::dispute", what, %err, "not sent: its simulation fails");
                None
            }
        }
    }

    /// The `STEP_DEPOSIT` witness of the step at `position` of `block`, if its input is an ETH
    /// deposit L1 can prove (to an account without code) and the StateManager's verifier
    /// proves deposits; `None` otherwise (the step keeps its `STEP_INPUT` witness, which L1
    /// decides by the proposer's allowlisting). Fails only when L1 or the database cannot be
    /// read (the next round retries).
    async fn deposit_witness(
        &mut self,
        block: u64,
        position: u64,
    ) -> Result<Option<(Bytes, bool)>, DisputeError> {
        let batch = self
            .block_batch(block)
            .await?
            .and_then(BlockBatch::transactions);
        let store = self.store.clone();
        let chain_id = self.config.chain_id;
        let step = off_runtime(block, move || {
            compute_deposit_step(&store, chain_id, block, batch, position)
        })
        .await?;
        let Some(step) = step else {
            return Ok(None);
        };
        if !step.provable() {
            // Still its own witness: L1 opens the message, then finds it unprovable.
            debug!(target: "rollup::dispute", block, position, "the deposit at the step runs code: not provable yet");
        }
        if self.trace(block).await?.state(position) != Some(&step.state) {
            warn!(target: "rollup::dispute", block, position, "re-executing the block up to the deposit gave another state than its trace: not proven");
            return Ok(None);
        }
        let verifier = self.one_step_verifier().await?;
        let bridge = match self
            .call(verifier, IOneStepVerifier::depositChainCall {})
            .await
        {
            Ok(bridge) => bridge,
            Err(DisputeError::Reverted(reason)) => {
                debug!(target: "rollup::dispute", %verifier, reason, "the one-step verifier proves no deposits");
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let Some(message) = self.deposit_message(&step, bridge).await? else {
            return Ok(None);
        };
        let (message, chain_before, later_hashes) = message;
        let witness = step.witness(message, chain_before, later_hashes);
        if witness.is_none() {
            warn!(target: "rollup::dispute", block, position, "the bridge message at the step is not the block's deposit there (derivation skipped a message?): not proven");
        }
        Ok(witness.map(|witness| (witness, step.provable())))
    }

    /// The bridge message the deposit `step` runs, with the deposit chain before it and the
    /// hashes of the later messages of its L1 block: message `position - 1` of the block's L1
    /// origin (an epoch's deposits are every message of its origin, in log order). `None`, with
    /// a warning, if the bridge's logs do not fold to its `depositChainAt` checkpoint.
    async fn deposit_message(
        &self,
        step: &DepositStep,
        bridge: Address,
    ) -> Result<Option<(IOneStepVerifier::ChainMessage, B256, Vec<B256>)>, DisputeError> {
        let origin: u64 = step.context.l1OriginNumber.saturating_to();
        let Some(parent_origin) = origin.checked_sub(1) else {
            return Ok(None);
        };
        let logs = self
            .sender
            .provider()
            .get_logs(
                &Filter::new()
                    .address(bridge)
                    .at_block_hash(step.context.l1OriginHash),
            )
            .await
            .map_err(|err| DisputeError::Read(err.to_string()))?;
        let messages: Vec<_> = logs
            .iter()
            .filter(|log| !log.removed)
            .filter_map(|log| rollup_derive::bridge_message(bridge, &log.inner))
            .collect();
        let before = self
            .call(
                bridge,
                IL1Bridge::depositChainAtCall {
                    l1Block: U256::from(parent_origin),
                },
            )
            .await?;
        let after = self
            .call(
                bridge,
                IL1Bridge::depositChainAtCall {
                    l1Block: U256::from(origin),
                },
            )
            .await?;
        let index = usize::try_from(step.position - 1).unwrap_or(usize::MAX);
        let folded = rollup_execution::deposit_chain_witness(before.chain, &messages, index);
        let Some((chain_before, later_hashes, chain_after)) = folded else {
            warn!(target: "rollup::dispute", origin, messages = messages.len(), position = step.position, "the origin's bridge messages are fewer than the block's deposits: not proven");
            return Ok(None);
        };
        if chain_after != after.chain
            || after.count.saturating_sub(before.count) != U256::from(messages.len())
        {
            warn!(target: "rollup::dispute", origin, %chain_after, checkpoint = %after.chain, "the bridge's logs of the origin do not fold to its deposit chain checkpoint: not proven");
            return Ok(None);
        }
        // Within an L1 block, the witness folds only to the chain's next mark, where the bridge
        // kept one.
        let message = messages[index].clone();
        let nonce: u64 = message.nonce.saturating_to();
        let later_hashes = match rollup_execution::deposit_chain_mark(
            nonce,
            after.count.saturating_to(),
        ) {
            Some(mark_nonce) => {
                let mark = self
                    .call(
                        bridge,
                        IL1Bridge::depositChainMarkCall {
                            nonce: U256::from(mark_nonce),
                        },
                    )
                    .await?;
                match rollup_execution::cut_at_mark(
                    chain_before,
                    &message,
                    &later_hashes,
                    mark_nonce,
                    mark,
                ) {
                    Some(kept) => kept,
                    None => {
                        warn!(target: "rollup::dispute", origin, mark_nonce, %mark, "the bridge's logs do not fold to its deposit chain mark: not proven");
                        return Ok(None);
                    }
                }
            }
            None => later_hashes,
        };
        Ok(Some((message, chain_before, later_hashes)))
    }

    async fn params(&self) -> Result<Params, DisputeError> {
        let latest = self
            .sender
            .provider()
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
            .await
            .map_err(|err| DisputeError::Read(err.to_string()))?
            .ok_or_else(|| DisputeError::Read("L1 has no latest block".into()))?
            .header;
        let sm = self.config.state_manager;
        let game = self.dispute_game;
        Ok(Params {
            now: latest.timestamp,
            block_gas: latest.gas_limit,
            challenge_period: self
                .call(sm, IStateManager::challengePeriodCall {})
                .await?
                .saturating_to(),
            challenger_bond: self.call(game, IDisputeGame::challengerBondCall {}).await?,
            max_clock: self
                .call(game, IDisputeGame::maxClockDurationCall {})
                .await?,
        })
    }

    /// L1's finalized block as (number, hash); `None` if L1 does not say (a read that fails
    /// decides nothing).
    async fn l1_finalized(&self) -> Option<(u64, B256)> {
        let block = self
            .sender
            .provider()
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Finalized)
            .await
            .ok()??;
        Some((block.header.number, block.header.hash))
    }

    /// The hash of L1 block `number`; `None` if L1 has no such block or does not answer.
    async fn l1_block_hash(&self, number: u64) -> Option<B256> {
        let block = self
            .sender
            .provider()
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Number(number))
            .await
            .ok()??;
        Some(block.header.hash)
    }

    /// Leaves live proposal `index` unread until its challenge period ends (see
    /// [`Self::agreed_for_good`]) if L1 finality fixes it: L1 serves the same proposal as of its
    /// finalized block. For another's proposal this node agrees with, `derived` (the L1 block
    /// of the record this node derived its L2 block from, and the store) must show this node's
    /// root of the block fixed too ([`root_is_final`]). `finalized` is L1's finalized block,
    /// read here once a round.
    async fn rest_if_final(
        &mut self,
        index: u64,
        proposal: &Proposal,
        derived: Option<(u64, &StoreReader)>,
        finalized: &mut Option<Option<(u64, B256)>>,
        params: &Params,
    ) {
        if finalized.is_none() {
            *finalized = Some(self.l1_finalized().await);
        }
        let Some(Some((number, hash))) = *finalized else {
            return;
        };
        if let Some((derived_in, reader)) = derived {
            let processed = reader
                .l1_block(number)
                .ok()
                .flatten()
                .map(|record| record.block.hash);
            if !root_is_final(derived_in, processed, (number, hash)) {
                return;
            }
        }
        // As of the finalized block by its hash, so both reads are of one chain: a provider's
        // lagging backend or an L1 clock that went back cannot fake it.
        let Ok(at_finalized) = self
            .call_at(
                self.config.state_manager,
                IStateManager::proposalsCall {
                    index: U256::from(index),
                },
                BlockId::hash(hash),
            )
            .await
        else {
            return;
        };
        let same = |p: &Proposal| {
            (
                p.stateRoot,
                p.l2BlockNumber,
                p.l2BlockHash,
                p.proposer,
                p.timestamp,
            )
        };
        if same(&at_finalized) != same(proposal) {
            return;
        }
        let ends = proposal.timestamp + params.challenge_period;
        debug!(target: "rollup::dispute", index, l1_finalized = number, period_ends = ends, "proposal needs nothing of this agent before its challenge period ends: not read again until then");
        self.agreed_for_good.insert(index, ends);
        // The newest finalized block any of them rests on: the others are its ancestors.
        if self.agreed_on.is_none_or(|(on, _)| on <= number) {
            self.agreed_on = Some((number, hash));
        }
    }

    /// Whether a game on this account's proposal, in a block's trace (level 1, where its
    /// step and the segments to open for it come), moves fast: its side to move had less than
    /// a minute of L1 time left at the last round. The proposer whose loop runs this agent
    /// then leaves its own L1 transactions (a proposal, a bond) for later: each takes L1
    /// blocks, and on a devnet's clock a turn at the step lasts ten seconds.
    pub const fn pressing(&self) -> bool {
        self.pressing
    }

    /// Whether any game of this account (either side) moved fast at the last round: less than
    /// a minute left for the side to move. Claiming credit and returning bonds wait then.
    pub const fn busy(&self) -> bool {
        self.busy
    }

    /// How often the agent looks at proposals and games.
    pub const fn interval(&self) -> Duration {
        self.config.interval
    }

    /// Stops every send in progress, and refuses new ones, once `cancel` fires (for an agent
    /// run inside another role's loop; [`Self::run`] sets it itself).
    #[must_use]
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.sender = self.sender.with_cancel(cancel);
        self
    }

    /// The role this agent plays: `challenger` (it challenges) or `defender` (it only plays
    /// the games on its own account's proposals, from the proposer's loop).
    pub const fn role(&self) -> &'static str {
        if self.config.challenge {
            "challenger"
        } else {
            "defender"
        }
    }

    /// The span every line of this agent is logged in: both agents share the target
    /// `rollup::dispute`, and the span names which one spoke.
    fn span(&self) -> tracing::Span {
        tracing::info_span!(target: "rollup::dispute", "dispute", role = self.role())
    }

    /// [`Self::round`], its failure logged and reported (the next round retries); its lines
    /// name this agent's role ([`Self::role`]).
    pub async fn round_logged(&mut self) {
        let span = self.span();
        self.round_reported().instrument(span).await;
    }

    /// [`Self::round_logged`] without its span.
    async fn round_reported(&mut self) {
        self.alarms.clear();
        match self.round().await {
            Ok(()) => {
                if let Some(failed) = self.failures.succeeded() {
                    info!(target: "rollup::dispute", failed, "dispute rounds succeed again");
                }
                if let Some(health) = &self.health {
                    match self.alarm() {
                        Some(alarm) => health.error(alarm),
                        None => health.success(format!(
                            "watched proposals from {} and games from {} on L1",
                            self.proposal_cursor, self.game_cursor
                        )),
                    }
                }
            }
            Err(err) => {
                match self.failures.failed(&err.to_string()) {
                    Some(0) => {
                        warn!(target: "rollup::dispute", %err, "dispute round failed; retrying")
                    }
                    Some(repeats) => {
                        warn!(target: "rollup::dispute", %err, repeats, "dispute rounds keep failing; retrying")
                    }
                    None => {
                        debug!(target: "rollup::dispute", %err, "dispute round failed again; retrying")
                    }
                }
                if let Some(health) = &self.health {
                    // A final root this node disagrees with stays first, whatever else failed.
                    let failed = format!("dispute round failed: {err}");
                    health.error(match self.final_alarm() {
                        Some(alarm) => format!("{alarm}; also: {failed}"),
                        None => failed,
                    });
                }
            }
        }
        // Traces and batches of blocks no game needs any more are dropped (a few per game at
        // most).
        if self.traces.len() > 16 || self.batches.len() > 16 {
            self.traces.clear();
            self.batches.clear();
        }
    }

    /// One round over proposals and games.
    pub async fn round(&mut self) -> Result<(), DisputeError> {
        self.dispute_game = self
            .call(self.config.state_manager, IStateManager::disputeGameCall {})
            .await?;
        if self.dispute_game == Address::ZERO {
            debug!(target: "rollup::dispute", "the StateManager has no dispute game: nothing to play");
            return Ok(());
        }
        let params = self.params().await?;
        // A fraction of a game's clock: on a devnet's 30 s clocks a full resubmission delay
        // could lose a turn that began with little time left.
        let wait = self
            .sender
            .resubmit_after()
            .min(Duration::from_secs(params.max_clock / 8));
        // The agent's own transactions are resubmitted as soon: one of its openings that an
        // outsider's copy pushed out of the pool held every later move of the account behind
        // its nonce for the whole default delay (12 s) on the devnet's 10 s turns.
        if !wait.is_zero() && wait < self.sender.resubmit_after() {
            self.sender = self.sender.clone().with_resubmit_after(wait);
        }
        if !self.leftovers_settled(wait).await? {
            // The standing alarms stay while the round waits.
            if let Some(short) = self.short_of_gas.clone() {
                self.raise(short);
            }
            return Ok(());
        }
        let sm = self.config.state_manager;
        let dg = self.dispute_game;
        let me = self.me();

        // Games first: which proposals already have a game of ours.
        let game_count: u64 = self
            .call(dg, IDisputeGame::gameCountCall {})
            .await?
            .saturating_to();
        let mut proposals: HashMap<u64, Proposal> = HashMap::new();
        let mut all_resolved = true;
        let mut moves = Vec::new();
        // The proposals with a game of ours in progress, as L1 has them now: every such game
        // is at or after the cursor, which passes resolved games only.
        let mut ours_in_progress = HashSet::new();
        let mut every_game_read = true;
        let mut at_step = Vec::new();
        // Games in progress this account plays (challenger, or proposer defending).
        let mut playing = 0;
        // Blocks of this account's proposals whose traces games bisect: their segments are
        // opened ahead of the step: block → the earliest deadline of a game there.
        let mut ahead: HashMap<u64, u64> = HashMap::new();
        self.pressing = false;
        self.busy = false;
        self.block_gas = params.block_gas;
        self.opening_gas = params.block_gas;
        for id in self.game_cursor..game_count {
            // A read that fails skips this game for the round, not the moves already decided
            // for the others (nor the cursor: the game is read again next round).
            let game = match self
                .call(dg, IDisputeGame::gamesCall { id: U256::from(id) })
                .await
            {
                Ok(game) => game,
                Err(err) => {
                    all_resolved = false;
                    every_game_read = false;
                    warn!(target: "rollup::dispute", game = id, %err, "could not read the game; retrying next round");
                    continue;
                }
            };
            if game.challenger == me {
                // Games ascend by id, so a later game on the same proposal decides.
                if game.status == IN_PROGRESS {
                    self.challenged.insert(game.proposal);
                    ours_in_progress.insert(game.proposal);
                    // A loss an L1 reorg took back is no loss (it counted towards giving up).
                    if let Some(lost) = self.lost.get_mut(&game.proposal) {
                        lost.remove(&id);
                    }
                } else {
                    self.challenged.remove(&game.proposal);
                    if game.status == PROPOSER_WON {
                        // Only `step` ends a game with the proposer to move and the proposer
                        // winning; `resolve` gives it the game when the challenger ran out of
                        // time.
                        let newly = self
                            .lost
                            .entry(game.proposal)
                            .or_default()
                            .insert(id, game.proposerToMove)
                            .is_none();
                        if newly {
                            metrics::counter!("rollup_dispute_games_lost_total", "side" => "challenger")
                                .increment(1);
                            // The bond is gone: said, not only counted.
                            warn!(
                                target: "rollup::dispute", game = id, proposal = game.proposal,
                                at_step = game.proposerToMove,
                                "this account LOST a game it challenged, and its bond with it: {}",
                                if game.proposerToMove {
                                    "the proposer's step stood (proven on L1, or one L1 cannot prove yet, which resolves for an allowlisted proposer)"
                                } else {
                                    "it ran out of time (was the node down, behind, or short of ETH for its moves?)"
                                }
                            );
                        }
                    }
                }
            }
            if game.status == CHALLENGER_WON
                && game.challenger != me
                && !self.lost_defending.contains_key(&id)
            {
                self.check_defended_loss(id, &game, &mut proposals).await;
            }
            if game.status != IN_PROGRESS {
                // The cursor passes a game once L1 finalized its end: an L1 reorg could still
                // bring it back in progress, unseen behind the cursor, its bonds locked.
                if all_resolved {
                    match self
                        .call_at(
                            dg,
                            IDisputeGame::gamesCall { id: U256::from(id) },
                            BlockId::finalized(),
                        )
                        .await
                    {
                        Ok(finalized) if finalized.status != IN_PROGRESS => {
                            self.game_cursor = id + 1;
                        }
                        _ => all_resolved = false,
                    }
                }
                continue;
            }
            all_resolved = false;
            let proposal = match proposals.get(&game.proposal) {
                Some(p) => p.clone(),
                None => match self
                    .call(
                        sm,
                        IStateManager::proposalsCall {
                            index: U256::from(game.proposal),
                        },
                    )
                    .await
                {
                    Ok(p) => {
                        proposals.insert(game.proposal, p.clone());
                        p
                    }
                    Err(err) => {
                        warn!(target: "rollup::dispute", game = id, proposal = game.proposal, %err, "could not read the game's proposal; retrying next round");
                        continue;
                    }
                },
            };
            if game.challenger == me || proposal.proposer == me {
                playing += 1;
                let used = if game.proposerToMove {
                    game.proposerUsed
                } else {
                    game.challengerUsed
                };
                let deadline = (game.lastMove + params.max_clock).saturating_sub(used);
                self.busy |= deadline <= params.now.saturating_add(PRESSING);
                if proposal.proposer == me && game.level == 1 && !proposal.removed {
                    let earliest = ahead.entry(game.l2Block).or_insert(deadline);
                    *earliest = (*earliest).min(deadline);
                    self.pressing |= deadline <= params.now.saturating_add(PRESSING);
                }
            }
            // A game at its step may need L1 transactions of its own before its move (segments
            // to open, blobs to load, each waiting for its receipt): played after the others'
            // moves went out, so one game steered there does not hold every other game back.
            if game.level == 1 && game.hi - game.lo == 1 && game.proposerToMove {
                at_step.push((id, game, proposal));
                continue;
            }
            if let Some(next) = self.play_logged(id, &game, &proposal, &params).await {
                moves.push(next);
            }
        }
        if every_game_read {
            // A challenge of ours that an L1 reorg removed (its nonce then reused) has no game:
            // the proposal may be challenged again.
            self.challenged
                .retain(|index| ours_in_progress.contains(index));
        }
        if self.config.challenge {
            // The moves decided above go out even if looking for new challenges fails.
            match self.challenge_new(&params).await {
                Ok(challenges) => moves.extend(challenges),
                Err(err) => {
                    warn!(target: "rollup::dispute", %err, "could not look for proposals to challenge; retrying next round");
                }
            }
        }
        let challenges: Vec<U256> = moves
            .iter()
            .filter(|next| matches!(next.then, Then::Challenged { .. }))
            .map(|next| next.value)
            .collect();
        self.check_reserve(playing + challenges.len(), challenges.iter().sum())
            .await;
        self.make(moves).await?;
        // This account's own steps first (its proposals' bonds hang on them), their witnesses
        // built, then all sent together, in one L1 block as the other moves (ten steps due at
        // once, sent one receipt after another, did not fit in a devnet turn). Their segments
        // are opened ahead (below), so building a witness rarely waits for L1. Then segments
        // opened ahead, then the steps a challenger may make to end a game early (which open
        // what they need with what is left of the round's one block of openings).
        let (own_steps, optional_steps): (Vec<_>, Vec<_>) = at_step
            .into_iter()
            .partition(|(_, _, proposal)| proposal.proposer == me);
        let mut steps = Vec::new();
        for (id, game, proposal) in own_steps {
            if let Some(next) = self.play_logged(id, &game, &proposal, &params).await {
                steps.push(next);
            }
        }
        self.make(steps).await?;
        // Segments opened ahead: one L1 block's gas of openings a round over all games, the
        // blocks of the games due first first (several blocks' openings in one round held
        // every other game's moves past their deadlines).
        let mut blocks: Vec<(u64, u64)> = ahead.into_iter().collect();
        blocks.sort_by_key(|(block, deadline)| (*deadline, *block));
        if let Err(err) = self
            .open_ahead_of_steps(blocks.into_iter().map(|(block, _)| block).collect())
            .await
        {
            debug!(target: "rollup::dispute", %err, "could not open segments ahead of their steps; trying next round");
        }
        let mut steps = Vec::new();
        for (id, game, proposal) in optional_steps {
            if let Some(next) = self.play_logged(id, &game, &proposal, &params).await {
                steps.push(next);
            }
        }
        self.make(steps).await?;
        // Credit and bonds can wait while a game of this account moves fast.
        if self.busy {
            return Ok(());
        }
        self.collect().await
    }

    /// Records game `id`, which the challenger won, if it was played on a proposal of this
    /// account whose root this node agrees with: a true root removed and its bond lost. Said
    /// once as an error and counted (`rollup_dispute_games_lost_total`); an alarm from then on
    /// (see [`Self::lost_defending`]). `proposals` caches the proposals read this round.
    async fn check_defended_loss(
        &mut self,
        id: u64,
        game: &Game,
        proposals: &mut HashMap<u64, Proposal>,
    ) {
        let proposal = match proposals.get(&game.proposal) {
            Some(proposal) => proposal.clone(),
            None => match self
                .call(
                    self.config.state_manager,
                    IStateManager::proposalsCall {
                        index: U256::from(game.proposal),
                    },
                )
                .await
            {
                Ok(proposal) => {
                    proposals.insert(game.proposal, proposal.clone());
                    proposal
                }
                Err(_) => return,
            },
        };
        if proposal.proposer != self.me() {
            // Not ours: never read again.
            self.lost_defending.insert(id, (game.proposal, u64::MAX));
            return;
        }
        let agreed = self
            .store
            .reader()
            .ok()
            .and_then(|reader| Self::output_claim(&reader, proposal.l2BlockNumber).ok())
            .flatten()
            .is_some_and(|ours| ours.hash() == proposal.stateRoot);
        if !agreed {
            // A root of its own this node no longer agrees with: the proposer says so.
            self.lost_defending.insert(id, (game.proposal, u64::MAX));
            return;
        }
        metrics::counter!("rollup_dispute_games_lost_total", "side" => "proposer").increment(1);
        error!(
            target: "rollup::dispute", game = id, proposal = game.proposal,
            l2_block = proposal.l2BlockNumber, challenger = %game.challenger,
            "LOST a game defending a proposal whose root this node agrees with: the proposal is removed and its bond went to the challenger. This node ran out of time (down, behind, or unfunded while its turn ran), the game was played against it, or another holder of the removal right (the guardian) removed the proposal while the game ran: look at the game's moves and at the transaction that emitted the proposal's ProposalRemoved"
        );
        self.lost_defending
            .insert(id, (game.proposal, proposal.l2BlockNumber));
    }

    /// A move that could not be made this round (`err`; `unfunded`: for want of ETH): an alarm, in the log once and in the
    /// role's health every round, when it was a challenge of a root this node disagrees with
    /// (on its way to being final unchallenged) or when the account cannot pay for its moves
    /// (an underfunded challenger let a false root through with its health green).
    fn not_made(&mut self, next: &Move, err: &str, unfunded: bool) {
        let message = match &next.then {
            Then::Challenged {
                index,
                proposed,
                ours,
                ..
            } => {
                if !self.unchallenged.insert(*index) {
                    // Said already; still an alarm this round.
                    self.raise(format!(
                        "cannot challenge proposal {index} (root {proposed}, ours {ours}): {err}"
                    ));
                    return;
                }
                format!(
                    "cannot challenge proposal {index} (root {proposed}, ours {ours}), a root this node disagrees with, which becomes final unchallenged at the end of its challenge period: {err}{}",
                    if unfunded {
                        format!(
                            "; send ETH to {} on L1 (the challenger bond and gas for the game's moves)",
                            self.me()
                        )
                    } else {
                        String::new()
                    }
                )
            }
            _ if unfunded => {
                let message = format!(
                    "cannot pay for its {} move on L1: {err}; send ETH to {} on L1, or its games are lost on the clock",
                    next.what,
                    self.me()
                );
                if !self.unfunded_moves.insert(next.what) {
                    self.raise(message);
                    return;
                }
                message
            }
            _ => return,
        };
        error!(target: "rollup::dispute", what = next.what, "{message}");
        self.raise(message);
    }

    /// Whether the account holds the `bonds` it is about to post and gas for the moves of
    /// `games` games (those it plays and those it is about to open) at L1's current fees,
    /// [`GAS_PER_GAME`] each: an account that posts a challenger bond and then cannot pay for
    /// its moves loses the game, and its bond, on the clock. Short of it, the challenges still
    /// go out (a false root unchallenged is worse) and it is an alarm naming the account to
    /// fund. A balance or fee read that fails decides nothing this round.
    async fn check_reserve(&mut self, games: usize, bonds: U256) {
        let short = if games == 0 {
            None
        } else {
            let (Ok(balance), Ok(fee)) = (self.sender.balance().await, self.sender.fee_cap().await)
            else {
                // Unread, the last finding stands.
                if let Some(message) = &self.short_of_gas {
                    self.raise(message.clone());
                }
                return;
            };
            reserve_shortfall(self.me(), balance, fee, games, bonds)
        };
        match short {
            Some(message) => {
                if self.short_of_gas.is_none() {
                    error!(target: "rollup::dispute", games, "{message}");
                }
                self.raise(message.clone());
                self.short_of_gas = Some(message);
            }
            None if self.short_of_gas.is_some() => {
                // With no game left the question is moot, not answered.
                if games > 0 {
                    info!(target: "rollup::dispute", games, "the account holds enough for its games' moves again");
                }
                self.short_of_gas = None;
            }
            None => {}
        }
    }

    /// [`Self::play`], its error logged (the game is played again next round).
    async fn play_logged(
        &mut self,
        id: u64,
        game: &Game,
        proposal: &Proposal,
        params: &Params,
    ) -> Option<Move> {
        match self.play(id, game, proposal, params).await {
            Ok(next) => next,
            Err(err) => {
                warn!(target: "rollup::dispute", game = id, %err, "could not move in the game; retrying next round");
                None
            }
        }
    }

    /// Sends the round's `moves` at once, most urgent first, each simulated on L1's latest
    /// block first (see [`Self::call`]): one that fails there (the game moved on, or the move
    /// is not ours) is not sent.
    async fn make(&mut self, mut moves: Vec<Move>) -> Result<(), DisputeError> {
        moves.sort_by_key(|next| next.deadline);
        let mut sendable = Vec::new();
        for next in moves {
            let simulated = TransactionRequest::default()
                .with_from(self.me())
                .with_to(next.to)
                .with_value(next.value)
                .with_input(next.input.clone());
            match self.sender.call_latest(simulated).await {
                Ok(_) => sendable.push(next),
                Err(err) => {
                    let err = rollup_l1::call_failure(&err);
                    warn!(target: "rollup::dispute", what = next.what, %err, "move not sent: its simulation fails");
                    let unfunded = err.to_lowercase().contains("insufficient funds");
                    self.not_made(&next, &err, unfunded);
                }
            }
        }
        if sendable.is_empty() {
            return Ok(());
        }
        let txs = sendable
            .iter()
            .map(|next| (next.to, Bytes::from(next.input.clone()), next.value))
            .collect();
        let results = self.sender.send_many(txs).await;
        for (next, result) in sendable.into_iter().zip(results) {
            let receipt = match result {
                Ok(receipt) => receipt,
                Err(rollup_l1::L1Error::Cancelled) => {
                    return Err(rollup_l1::L1Error::Cancelled.into());
                }
                Err(err @ rollup_l1::L1Error::NonceTaken { .. }) => {
                    // Not a failure of the move: L1 changed under the decision.
                    info!(target: "rollup::dispute", what = next.what, %err, "deciding again next round");
                    continue;
                }
                Err(err) => {
                    warn!(target: "rollup::dispute", what = next.what, %err, "move not made; deciding again next round");
                    let unfunded = matches!(err, rollup_l1::L1Error::Unfunded { .. });
                    self.not_made(&next, &err.to_string(), unfunded);
                    continue;
                }
            };
            if !receipt.status() {
                warn!(target: "rollup::dispute", what = next.what, tx = %receipt.transaction_hash, "reverted on L1");
                continue;
            }
            info!(target: "rollup::dispute", what = next.what, tx = %receipt.transaction_hash, "sent");
            match next.then {
                Then::Nothing => {}
                Then::Resolved => metrics::counter!("rollup_dispute_resolved_total").increment(1),
                Then::Challenged {
                    index,
                    l2_block,
                    proposed,
                    ours,
                } => {
                    metrics::counter!("rollup_dispute_challenges_total").increment(1);
                    self.challenged.insert(index);
                    self.unchallenged.remove(&index);
                    if let Some(health) = &self.health {
                        health.success(format!(
                            "challenged proposal {index} of L2 block {l2_block} (root {proposed}, ours {ours})"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The move in game `id` if it is this account's turn, the proof of its last step when that
    /// wins, or its resolution once the side to move ran out of time.
    async fn play(
        &mut self,
        id: u64,
        game: &Game,
        proposal: &Proposal,
        params: &Params,
    ) -> Result<Option<Move>, DisputeError> {
        let dg = self.dispute_game;
        let me = self.me();
        let used = if game.proposerToMove {
            game.proposerUsed
        } else {
            game.challengerUsed
        };
        let deadline = game.lastMove + params.max_clock - used;
        // A party resolves the games it won at once; anyone else's only once they have waited
        // a whole clock for their parties (yet no game stays open because its parties are
        // gone), and a role that only defends half a clock more than a challenger: a node's
        // two roles both sent `resolve` for a game neither played, at the same second, and one
        // failed. A game this account lost on its clock (it is the side to move) is the
        // winner's to resolve: the defender resolving one first removed its proposal before its
        // steps in the proposal's other games landed, which then refunded those challengers
        // instead of paying their bonds to it.
        let party = game.challenger == me || proposal.proposer == me;
        let to_move_is_me = if game.proposerToMove {
            proposal.proposer == me
        } else {
            game.challenger == me
        };
        let resolvable = if party && !to_move_is_me {
            deadline
        } else if self.config.challenge {
            deadline.saturating_add(params.max_clock)
        } else {
            deadline.saturating_add(params.max_clock + params.max_clock / 2)
        };
        let to_move = |what, input: Vec<u8>| Move {
            what,
            to: dg,
            input,
            value: U256::ZERO,
            deadline,
            then: Then::Nothing,
        };
        if params.now >= resolvable || (game.challenger == me && proposal.removed) {
            let input = IDisputeGame::resolveCall { id: U256::from(id) }.abi_encode();
            return Ok(Some(Move {
                then: Then::Resolved,
                ..to_move("resolve", input)
            }));
        }
        if proposal.removed || (to_move_is_me && params.now >= deadline) {
            // Nothing left to win: its challenger resolves it (and takes a refund or the bond).
            return Ok(None);
        }
        let at_step = game.level == 1 && game.hi - game.lo == 1;
        let mid = game.lo + (game.hi - game.lo) / 2;
        if game.challenger == me && !game.proposerToMove {
            let ours = self.claim(game, mid).await?;
            let agree = ours == game.midClaim;
            debug!(target: "rollup::dispute", game = id, level = game.level, mid, agree, "picking");
            // Naming the claim judged and where it is: a pick decided on a bisection that was
            // then replaced reverts instead of judging what was mined in its place.
            let input = IDisputeGame::pickCall {
                id: U256::from(id),
                l2Block: game.l2Block,
                position: mid,
                midClaim: game.midClaim,
                agree,
            }
            .abi_encode();
            return Ok(Some(to_move("pick", input)));
        } else if proposal.proposer == me && game.proposerToMove {
            if at_step {
                let witness = self.witness(game, true).await?;
                debug!(target: "rollup::dispute", game = id, position = game.lo, kind = witness.kind, provable = witness.provable, "stepping as the proposer");
                let witness = witness.bytes;
                let input = IDisputeGame::stepCall {
                    id: U256::from(id),
                    l2Block: game.l2Block,
                    position: game.lo,
                    witness,
                }
                .abi_encode();
                return Ok(Some(to_move("step", input)));
            } else {
                let claim = self.claim(game, mid).await?;
                let input = IDisputeGame::bisectCall {
                    id: U256::from(id),
                    l2Block: game.l2Block,
                    position: mid,
                    claim,
                }
                .abi_encode();
                return Ok(Some(to_move("bisect", input)));
            }
        } else if game.challenger == me && game.proposerToMove && at_step {
            // The proposer must prove its step; if the node can show it is wrong (a padding
            // step after the seal, or a deposit L1 proves), or no verifier can prove it and the
            // proposer is not allowlisted, end the game now instead of waiting for its clock.
            // The block's segments a transaction's step reads are opened first, with what is
            // left of the round's gas for openings (as for the account's own proposals):
            // opened all at once they took L1 blocks that held an outsider's other games'
            // moves back past their deadlines, for a game the proposer's clock ends anyway.
            if game.lo > 0 && !self.open_ahead(game.l2Block).await? {
                debug!(target: "rollup::dispute", game = id, position = game.lo, "the proposer is to step; opening the block's segments first, over the rounds");
                return Ok(None);
            }
            let allowlisted = self
                .call(
                    self.config.state_manager,
                    IStateManager::disputeOfCall {
                        index: U256::from(game.proposal),
                    },
                )
                .await?
                .allowlisted;
            let witness = self.witness(game, !allowlisted).await?;
            debug!(target: "rollup::dispute", game = id, position = game.lo, kind = witness.kind, provable = witness.provable, allowlisted, "the proposer is to step");
            if witness.provable || !allowlisted {
                let input = IDisputeGame::stepCall {
                    id: U256::from(id),
                    l2Block: game.l2Block,
                    position: game.lo,
                    witness: witness.bytes,
                }
                .abi_encode();
                return Ok(Some(to_move("step", input)));
            }
        }
        Ok(None)
    }

    /// Challenges every live proposal in its challenge period whose root differs from the
    /// node's, unless this account already did.
    async fn challenge_new(&mut self, params: &Params) -> Result<Vec<Move>, DisputeError> {
        let mut challenges = Vec::new();
        let sm = self.config.state_manager;
        let count: u64 = self
            .call(sm, IStateManager::proposalCountCall {})
            .await?
            .saturating_to();
        let mut settled = true;
        if self.agreed_for_good.is_empty() {
            self.agreed_on = None;
        } else if let Some((number, hash)) = self.agreed_on
            && self.l1_block_hash(number).await != Some(hash)
        {
            // Replaced, gone, or unread: nothing rests on it this round.
            warn!(target: "rollup::dispute", number, "L1 does not serve the finalized block the proposals left unread rest on (its finality violated, or the read failed): reading every live proposal again");
            self.agreed_for_good.clear();
            self.agreed_on = None;
        }
        // L1's finalized block (number, timestamp, hash), read once a round when first needed.
        let mut l1_finalized = None;
        for index in self.proposal_cursor..count {
            if let Some(&ends) = self.agreed_for_good.get(&index) {
                if params.now < ends {
                    settled = false;
                    continue;
                }
                // Its period is over: read once more, to pass the cursor.
                self.agreed_for_good.remove(&index);
            }
            let proposal = self
                .call(
                    sm,
                    IStateManager::proposalsCall {
                        index: U256::from(index),
                    },
                )
                .await?;
            let period_over = params.now >= proposal.timestamp + params.challenge_period;
            if period_over && !proposal.removed {
                match self.check_final(index, &proposal).await {
                    Ok(true) => {}
                    Ok(false) => settled = false,
                    Err(err) => {
                        debug!(target: "rollup::dispute", index, %err, "could not check whether the proposal is final; checking next round");
                        settled = false;
                    }
                }
            }
            if proposal.removed || period_over {
                // A removal passes the cursor once L1 finalized it (see the game cursor).
                if settled && !period_over {
                    let finalized = self
                        .call_at(
                            sm,
                            IStateManager::proposalsCall {
                                index: U256::from(index),
                            },
                            BlockId::finalized(),
                        )
                        .await;
                    if !finalized.is_ok_and(|p| p.removed) {
                        settled = false;
                    }
                }
                if settled {
                    self.proposal_cursor = index + 1;
                }
                continue;
            }
            settled = false;
            if proposal.proposer == self.me() {
                // Its games are the defender's, found among the games: nothing to do here.
                self.rest_if_final(index, &proposal, None, &mut l1_finalized, params)
                    .await;
                continue;
            }
            if self.challenged.contains(&index) {
                continue;
            }
            let (lost, at_step) = self.lost.get(&index).map_or((0, false), |games| {
                (games.len(), games.values().any(|&at_step| at_step))
            });
            let reader = self.store.reader()?;
            let Some(ours) = Self::output_claim(&reader, proposal.l2BlockNumber)? else {
                debug!(target: "rollup::dispute", index, l2_block = proposal.l2BlockNumber, "proposal of a block not derived here yet");
                continue;
            };
            if ours.hash() == proposal.stateRoot {
                // Derived, so safe: its record's L1 block is known.
                let derived_in = reader
                    .block_derivation(proposal.l2BlockNumber)?
                    .map_or(u64::MAX, |derived| derived.l1_block);
                self.rest_if_final(
                    index,
                    &proposal,
                    Some((derived_in, &reader)),
                    &mut l1_finalized,
                    params,
                )
                .await;
                continue;
            }
            // The node's L2 block must rest on the L1 this agent reads: right after an L1 reorg
            // the node may still hold blocks derived from the replaced fork (it unwinds them a
            // moment later), and a root that differs for that reason is no false root. An
            // outsider switching the L1 node between two forks had an honest proposal
            // challenged twice, and its root removed once.
            let derived_in = reader
                .block_derivation(proposal.l2BlockNumber)?
                .map(|derived| derived.l1_block);
            if let Some(derived_in) = derived_in {
                let stored = reader.l1_block(derived_in)?.map(|record| record.block.hash);
                let canonical = self.l1_block_hash(derived_in).await;
                if stored.is_none() || stored != canonical {
                    debug!(
                        target: "rollup::dispute", index, l2_block = proposal.l2BlockNumber, l1_block = derived_in,
                        stored = ?stored, on_l1 = ?canonical,
                        "this node derived the block from an L1 block the L1 node does not serve (a reorg not processed yet, or an L1 node behind): not challenging until they agree"
                    );
                    continue;
                }
            }
            if lost > 0
                && !self
                    .challenge_again(index, &proposal, lost, at_step)
                    .await?
            {
                continue;
            }
            if lost == 0 && self.unchallenged.contains(&index) {
                // A challenge that could not be made was said as an error already.
                debug!(target: "rollup::dispute", index, "trying the challenge again");
            } else if lost == 0 {
                warn!(
                    target: "rollup::dispute",
                    index, l2_block = proposal.l2BlockNumber, proposed = %proposal.stateRoot, ours = %ours.hash(),
                    proposer = %proposal.proposer, "proposal disagrees with this node: challenging"
                );
            } else {
                error!(
                    target: "rollup::dispute",
                    index, l2_block = proposal.l2BlockNumber, proposed = %proposal.stateRoot, ours = %ours.hash(),
                    proposer = %proposal.proposer, lost_games = lost,
                    "this account lost a game on a proposal this node still disagrees with: challenging it again; a game lost on a false root means it was played against this node or the node has a bug, so look at the games"
                );
            }
            let input = IDisputeGame::challengeCall {
                proposal: U256::from(index),
                outputRoot: proposal.stateRoot,
            }
            .abi_encode();
            challenges.push(Move {
                what: "challenge",
                to: self.dispute_game,
                input,
                value: params.challenger_bond,
                deadline: proposal.timestamp + params.challenge_period,
                then: Then::Challenged {
                    index,
                    l2_block: proposal.l2BlockNumber,
                    proposed: proposal.stateRoot,
                    ours: ours.hash(),
                },
            });
        }
        Ok(challenges)
    }

    /// Records proposal `index`, its challenge period over, if it is final with a root this
    /// node disagrees with (said once as an error; an alarm every round, see
    /// [`Self::final_alarm`]): withdrawals can be proven against it. Returns whether the
    /// proposal is settled for this check: not while its block is not derived here, nor
    /// while a root this node disagrees with is not final yet (a game on it still runs, and
    /// may end with the root final).
    async fn check_final(&mut self, index: u64, proposal: &Proposal) -> Result<bool, DisputeError> {
        if self.final_false.contains_key(&index) {
            return Ok(true);
        }
        let reader = self.store.reader()?;
        let Some(ours) = Self::output_claim(&reader, proposal.l2BlockNumber)? else {
            return Ok(false);
        };
        if ours.hash() == proposal.stateRoot {
            return Ok(true);
        }
        if !self
            .call(
                self.config.state_manager,
                IStateManager::isFinalCall {
                    index: U256::from(index),
                },
            )
            .await?
        {
            return Ok(false);
        }
        error!(
            target: "rollup::dispute", index, l2_block = proposal.l2BlockNumber,
            final_root = %proposal.stateRoot, ours = %ours.hash(), proposer = %proposal.proposer,
            "a FINAL proposal disagrees with this node's output root: withdrawals can be proven against it; tell the guardian (pause the bridge) and look at why no challenge removed it"
        );
        self.final_false.insert(
            index,
            (proposal.l2BlockNumber, proposal.stateRoot, ours.hash()),
        );
        Ok(true)
    }

    /// Whether no transaction of this account waits in the L1 pool, so the round may decide:
    /// one left by a killed process, one given up, or the CLI's with this key, mined while the
    /// round decides, could make it send the same again (a second challenge and bond on one
    /// proposal). Waits for them for `wait`, then replaces them with empty transactions and
    /// waits for those.
    async fn leftovers_settled(&mut self, wait: Duration) -> Result<bool, DisputeError> {
        let mined = self.sender.mined_nonce().await?;
        // An L1 endpoint that does not answer for `pending` must not stop every round.
        let pending = match self.sender.pending_nonce().await {
            Ok(pending) => pending,
            Err(rollup_l1::L1Error::Cancelled) => return Err(rollup_l1::L1Error::Cancelled.into()),
            Err(err) => {
                debug!(target: "rollup::dispute", %err, "could not read the account's pending nonce; deciding anyway");
                mined
            }
        };
        if pending <= mined {
            self.leftovers_since = None;
            return Ok(true);
        }
        let Some((since, acted)) = self.leftovers_since else {
            info!(target: "rollup::dispute", from = mined, to = pending, "transactions of this account wait in the L1 pool: deciding once they are mined");
            let now = std::time::Instant::now();
            self.leftovers_since = Some((now, now));
            return Ok(false);
        };
        if acted.elapsed() >= wait {
            self.sender.cancel_leftovers().await?;
            self.leftovers_since = Some((since, std::time::Instant::now()));
        }
        if since.elapsed() >= wait * 4 {
            self.raise(format!(
                "transactions of {} have waited in the L1 pool for {}s (nonces {mined}..{pending}), replaced with empty ones and still not mined: the agent decides nothing until they are",
                self.me(),
                since.elapsed().as_secs()
            ));
        }
        Ok(false)
    }

    /// The alarm while a final proposal disagrees with this node, naming the newest.
    fn final_alarm(&self) -> Option<String> {
        crate::proposer::final_disagreement_alarm(&self.final_false)
    }

    /// Adds `alarm` to what this round reports, once.
    fn raise(&mut self, alarm: String) {
        if !self.alarms.contains(&alarm) {
            self.alarms.push(alarm);
        }
    }

    /// What this round reports instead of success, if anything: its alarms, after the gravest,
    /// which stands every round once found: a final root this node disagrees with.
    fn alarm(&self) -> Option<String> {
        let mut all: Vec<String> = self.final_alarm().into_iter().collect();
        let lost: Vec<_> = self
            .lost_defending
            .iter()
            .filter(|(_, (_, block))| *block != u64::MAX)
            .collect();
        if let Some((game, (proposal, block))) = lost.last() {
            all.push(format!(
                "{} game(s) lost defending proposals whose roots this node agrees with; the newest, game {game} on proposal #{proposal} of L2 block {block}: a true root removed and its bond lost",
                lost.len()
            ));
        }
        for alarm in &self.alarms {
            if !all.contains(alarm) {
                all.push(alarm.clone());
            }
        }
        (!all.is_empty()).then(|| all.join("; also: "))
    }

    /// Whether to challenge again proposal `index`, which this node still disagrees with after
    /// this account lost `lost` games on it (`at_step`: one of them ended at a step rather
    /// than on this account's clock). Not if its proposer is allowlisted and a game reached
    /// its step: such a game is lost by design at a step L1 cannot prove yet
    /// (`UnprovableStep`), and would be again; one lost on the clock (L1 or this node down)
    /// may be won. Not past [`MAX_LOST_GAMES_PER_PROPOSAL`]. Either way the node says so, as
    /// an error and in its health, every round while the challenge period runs: a false root
    /// is on its way to being final.
    async fn challenge_again(
        &mut self,
        index: u64,
        proposal: &Proposal,
        lost: usize,
        at_step: bool,
    ) -> Result<bool, DisputeError> {
        let allowlisted = at_step
            && self
                .call(
                    self.config.state_manager,
                    IStateManager::disputeOfCall {
                        index: U256::from(index),
                    },
                )
                .await?
                .allowlisted;
        let why = if allowlisted {
            "its proposer is allowlisted, so a game that reaches a step L1 cannot prove yet resolves for it (UnprovableStep) and another challenge would lose the same way: the guardian must remove it"
        } else if lost >= MAX_LOST_GAMES_PER_PROPOSAL {
            "this account stops challenging it: look at the games (an attack on this node, or a bug in it), and ask the guardian to remove it"
        } else {
            return Ok(true);
        };
        let message = format!(
            "this account lost {lost} game(s) on proposal {index} of L2 block {}, whose root {} this node still disagrees with; {why}",
            proposal.l2BlockNumber, proposal.stateRoot
        );
        if self.given_up.insert(index) {
            error!(target: "rollup::dispute", index, lost_games = lost, allowlisted, "{message}");
        }
        self.raise(message);
        Ok(false)
    }

    /// Claims this account's credits in the game; a challenger also withdraws the rewards its
    /// `StateManager` bond balance holds (halves of removed proposals' bonds).
    async fn collect(&mut self) -> Result<(), DisputeError> {
        let me = self.me();
        let dg = self.dispute_game;
        let sm = self.config.state_manager;
        let mut txs: Vec<(&'static str, Address, Vec<u8>)> = Vec::new();
        let credit = self
            .call(dg, IDisputeGame::creditCall { account: me })
            .await?;
        if !credit.is_zero() {
            let input = IDisputeGame::claimCreditCall { recipient: me }.abi_encode();
            txs.push(("claimCredit", dg, input));
        }
        // The proposer's own balance is its working capital: bonds of final proposals come back
        // to it and pay for the next ones, so its defender leaves it alone (withdrawing them
        // made the proposer deposit again, two L1 transactions per restart). A challenger
        // withdraws its rewards, keeping one proposal bond only if its account is also the
        // allowlisted proposer.
        if self.config.challenge {
            let balance = self
                .call(sm, IStateManager::bondBalanceCall { account: me })
                .await?;
            let proposer = self.call(sm, IStateManager::proposerCall {}).await?;
            let keep = if proposer == me {
                self.call(sm, IStateManager::proposalBondCall {}).await?
            } else {
                U256::ZERO
            };
            if balance > keep {
                let input = IStateManager::withdrawBondCall {
                    amount: balance - keep,
                }
                .abi_encode();
                txs.push(("withdrawBond", sm, input));
            }
        }
        if txs.is_empty() {
            return Ok(());
        }
        // Together, in one L1 block: the next round's moves wait for them.
        let whats: Vec<_> = txs.iter().map(|(what, _, _)| *what).collect();
        let results = self
            .sender
            .send_many(
                txs.into_iter()
                    .map(|(_, to, input)| (to, Bytes::from(input), U256::ZERO))
                    .collect(),
            )
            .await;
        for (what, result) in whats.into_iter().zip(results) {
            match result {
                Ok(receipt) if receipt.status() => {
                    info!(target: "rollup::dispute", what, tx = %receipt.transaction_hash, "sent");
                }
                Ok(receipt) => {
                    warn!(target: "rollup::dispute", what, tx = %receipt.transaction_hash, "reverted on L1");
                }
                Err(rollup_l1::L1Error::Cancelled) => {
                    return Err(rollup_l1::L1Error::Cancelled.into());
                }
                Err(err) => {
                    warn!(target: "rollup::dispute", what, %err, "not sent; retrying next round")
                }
            }
        }
        Ok(())
    }

    /// Runs until `cancel` fires; a failed round is logged and retried.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), DisputeError> {
        self.sender = self.sender.with_cancel(cancel.clone());
        self.span().in_scope(|| {
            info!(
                target: "rollup::dispute",
                state_manager = %self.config.state_manager, account = %self.me(),
                challenge = self.config.challenge, "dispute agent running"
            );
        });
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.config.interval) => {}
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                () = self.round_logged() => {}
            }
        }
    }
}

/// Whether this node's output root of an L2 block stays what it is: the block was derived
/// from an inbox record appended in L1 block `derived_in`, at or below L1's finalized block
/// (`finalized`: number, hash), and the L1 block this node processed at that height
/// (`processed`) is the finalized one. Should the store hold a derivation from blocks L1 no
/// longer serves (a follower behind a reorg), the block will be derived again, maybe with
/// another root.
fn root_is_final(derived_in: u64, processed: Option<B256>, finalized: (u64, B256)) -> bool {
    let (number, hash) = finalized;
    processed == Some(hash) && derived_in <= number
}

/// What is wrong when `balance` (wei) does not cover `bonds` and [`GAS_PER_GAME`] gas at
/// `fee` (wei per gas) for each of `games` games of `account`; `None` when it does.
fn reserve_shortfall(
    account: Address,
    balance: U256,
    fee: u128,
    games: usize,
    bonds: U256,
) -> Option<String> {
    let gas = U256::from(GAS_PER_GAME) * U256::from(games) * U256::from(fee);
    let need = gas.saturating_add(bonds);
    (balance < need).then(|| {
        format!(
            "account {account} holds {} ETH on L1, less than the {} ETH its {games} game(s) may take ({} ETH of bonds, and {GAS_PER_GAME} gas each for the moves at {}, L1's current fee cap): send ETH to it, or a game may be lost on the clock",
            format_ether(balance),
            format_ether(need),
            format_ether(bonds),
            if fee < 1_000_000 {
                format!("{fee} wei")
            } else {
                format!("{:.3} gwei", fee as f64 / 1e9)
            },
        )
    })
}

/// Runs `work` (re-executing blocks, reading tries) for disputed block `block` off the async
/// runtime.
async fn off_runtime<T: Send + 'static>(
    block: u64,
    work: impl FnOnce() -> Result<T, DisputeError> + Send + 'static,
) -> Result<T, DisputeError> {
    // In the agent's span, so what the work logs names the agent too.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|err| DisputeError::Trace {
            block,
            reason: err.to_string(),
        })?
}

/// Stored block `block`'s header and its parent's number (`block` is never the genesis).
fn header_and_parent(
    reader: &rollup_storage::StoreReader,
    block: u64,
) -> Result<(u64, rollup_primitives::Header), DisputeError> {
    let parent = block
        .checked_sub(1)
        .ok_or(DisputeError::NotDerived(block))?;
    let header = reader
        .header(block)?
        .ok_or(DisputeError::NotDerived(block))?;
    Ok((parent, header))
}

/// The header of stored block `block` and its parent's.
fn headers(
    reader: &rollup_storage::StoreReader,
    block: u64,
) -> Result<(rollup_primitives::Header, rollup_primitives::Header), DisputeError> {
    let (parent, header) = header_and_parent(reader, block)?;
    let parent_header = reader
        .header(parent)?
        .ok_or(DisputeError::NotDerived(parent))?;
    Ok((header, parent_header))
}

/// The inputs of stored block `body`: its deposits, then `batch` (its batch transactions as
/// L1 gives them, skipped ones included) if known, else its own signed transactions.
fn block_inputs(body: &[L2Transaction], batch: Option<Vec<TxEnvelope>>) -> Vec<TraceInput> {
    match batch {
        Some(batch) => TraceInput::with_batch(body, batch),
        None => TraceInput::stored(body),
    }
}

/// Re-executes stored block `block` on its parent's historical state and returns its trace.
/// `batch` is the block's batch transactions as L1 gives them, those the block rules skipped
/// included (each is a position of the trace); without it the trace runs the block's own
/// transactions, which is the same unless derivation skipped one.
pub fn compute_trace(
    store: &Store,
    chain_id: u64,
    block: u64,
    batch: Option<Vec<TxEnvelope>>,
) -> Result<BlockTrace, DisputeError> {
    let reader = store.reader()?;
    let (parent, header) = header_and_parent(&reader, block)?;
    let body = reader.body(block)?.ok_or(DisputeError::NotDerived(block))?;
    let inputs = block_inputs(&body, batch);
    let parent_output = reader
        .output_root(parent)?
        .ok_or(DisputeError::NotDerived(parent))?;
    let output = reader
        .output_root(block)?
        .ok_or(DisputeError::NotDerived(block))?;
    let state = reader.state_at(parent)?;
    let trie = reader.trie_at(parent)?;
    rollup_execution::trace_block(
        &state,
        trie,
        &header,
        chain_id,
        &inputs,
        parent_output.hash(),
        output.hash(),
    )
    .map_err(|err| DisputeError::Trace {
        block,
        reason: err.to_string(),
    })
}

/// The `STEP_INPUT` body: `abi.encode(InputWitness)`, the agreed trace `state` with the
/// block's context, its parent's header, its record's `block_table` and the batch's
/// `first_segment` with a transaction of the block, from which L1 tells that the step runs no
/// deposit and no batch transaction.
fn input_witness(
    store: &Store,
    block: u64,
    state: rollup_execution::TraceState,
    block_table: Bytes,
    first_segment: u64,
) -> Result<Vec<u8>, DisputeError> {
    let reader = store.reader()?;
    let (header, parent_header) = headers(&reader, block)?;
    Ok(rollup_execution::input_witness(
        &header,
        &parent_header,
        &state,
        block_table,
        first_segment,
    ))
}

/// The `STEP_SEAL` witness of stored block `block` from its last trace `state`.
fn seal_witness(
    store: &Store,
    block: u64,
    state: rollup_execution::TraceState,
    block_table: Bytes,
    first_segment: u64,
) -> Result<Bytes, DisputeError> {
    let reader = store.reader()?;
    let (header, parent_header) = headers(&reader, block)?;
    Ok(rollup_execution::seal_witness(
        &header,
        &parent_header,
        &state,
        block_table,
        first_segment,
    ))
}

/// What the L2 state gives the witness of the step at `position` of stored block `block`, when
/// the block's `position`-th input is a deposit ([`rollup_execution::deposit_step`]).
fn compute_deposit_step(
    store: &Store,
    chain_id: u64,
    block: u64,
    batch: Option<Vec<TxEnvelope>>,
    position: u64,
) -> Result<Option<DepositStep>, DisputeError> {
    let reader = store.reader()?;
    let (header, parent_header) = headers(&reader, block)?;
    let body = reader.body(block)?.ok_or(DisputeError::NotDerived(block))?;
    // Only a block that starts an epoch carries deposits.
    let origin = decode_l1_origin(&header.extra_data).ok().map(|o| o.number);
    let parent_origin = decode_l1_origin(&parent_header.extra_data)
        .ok()
        .map(|o| o.number);
    if origin.is_none() || origin == parent_origin {
        return Ok(None);
    }
    let state = reader.state_at(parent_header.number)?;
    let trie = reader.trie_at(parent_header.number)?;
    rollup_execution::deposit_step(
        &state,
        trie,
        &header,
        &parent_header,
        chain_id,
        &block_inputs(&body, batch),
        position,
    )
    .map_err(|err| DisputeError::Trace {
        block,
        reason: err.to_string(),
    })
}

/// What the L2 state gives the witness of the step at `position` of stored block `block`,
/// whose batch transactions are `batch`, when the block's `position`-th input is one of them
/// ([`rollup_execution::transaction_step`]), with its index among them.
fn compute_transaction_step(
    store: &Store,
    chain_id: u64,
    block: u64,
    batch: Vec<TxEnvelope>,
    position: u64,
) -> Result<Option<(TransactionStep, usize)>, DisputeError> {
    let reader = store.reader()?;
    let (header, parent_header) = headers(&reader, block)?;
    let body = reader.body(block)?.ok_or(DisputeError::NotDerived(block))?;
    let deposits = body
        .iter()
        .filter(|tx| matches!(tx, L2Transaction::Deposit(_)))
        .count();
    let Some(k) = usize::try_from(position)
        .ok()
        .and_then(|p| p.checked_sub(1 + deposits))
        .filter(|k| *k < batch.len())
    else {
        return Ok(None);
    };
    let state = reader.state_at(parent_header.number)?;
    let trie = reader.trie_at(parent_header.number)?;
    let inputs = TraceInput::with_batch(&body, batch);
    rollup_execution::transaction_step(
        &state,
        trie,
        &header,
        &parent_header,
        chain_id,
        &inputs,
        position,
    )
    .map(|step| step.map(|step| (step, k)))
    .map_err(|err| DisputeError::Trace {
        block,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A challenging agent of a random account on `store`, against the L1 at `url`.
    fn test_agent(store: &Store, url: &str) -> DisputeAgent {
        let sender = L1Sender::new(
            url,
            alloy_signer_local::PrivateKeySigner::random(),
            rollup_l1::SenderConfig::default(),
        )
        .unwrap();
        let config = DisputeConfig {
            state_manager: Address::repeat_byte(0xb3),
            chain_id: 42_069,
            interval: Duration::from_secs(1),
            challenge: true,
        };
        DisputeAgent::new(config, store.clone(), sender)
    }

    /// An L1 that answers every `eth_call` with one 32-byte word and records the block each
    /// asked for.
    async fn recording_l1() -> (String, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        answering_l1(U256::from(1).abi_encode()).await
    }

    /// An L1 that answers every call with `answer` and records the block each asked for.
    async fn answering_l1(
        answer: Vec<u8>,
    ) -> (String, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        let result = alloy_primitives::hex::encode_prefixed(answer);
        let blocks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = blocks.clone();
        let url = crate::proposer::tests::json_rpc_server(move |call| {
            seen.lock().unwrap().push(call["params"][1].clone());
            serde_json::json!({"jsonrpc": "2.0", "id": call["id"], "result": result})
        })
        .await;
        (url, blocks)
    }

    /// What a test's subscriber logged.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Self;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// The challenger and the defender log under one target: each line names the agent's
    /// role, so an operator can tell which of them lost a round.
    #[tokio::test]
    async fn each_agent_names_its_role_on_its_lines() {
        let fixture = crate::proposer::tests::genesis_store("dispute-role");
        // An empty answer to the round's first read: the round fails and says so.
        let (url, _) = answering_l1(Vec::new()).await;
        for (challenge, role) in [(true, "challenger"), (false, "defender")] {
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(captured.clone())
                .with_ansi(false)
                .finish();
            let _default = tracing::subscriber::set_default(subscriber);
            let mut agent = test_agent(&fixture.store, &url);
            agent.config.challenge = challenge;
            assert_eq!(agent.role(), role);
            agent.round_logged().await;
            let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            let lines: Vec<&str> = logged
                .lines()
                .filter(|line| line.contains("rollup::dispute"))
                .collect();
            assert!(
                lines
                    .iter()
                    .any(|line| line.contains("dispute round failed")),
                "{logged}"
            );
            let named = format!("dispute{{role=\"{role}\"}}");
            assert!(
                lines.iter().all(|line| line.contains(&named)),
                "{role}: {logged}"
            );
        }
    }

    /// A proposal the node still disagrees with after this account lost a game on it is
    /// challenged again, unless its proposer is allowlisted (the loss is by design at a step L1
    /// cannot prove yet, and would repeat) or it lost too many; then it says so, once in the
    /// log and every round in its health.
    #[tokio::test]
    async fn a_lost_game_is_played_again_only_where_it_can_be_won() {
        let fixture = crate::proposer::tests::genesis_store("dispute-again");
        let agent = |url: &str| test_agent(&fixture.store, url);
        let dispute = |allowlisted| {
            rollup_primitives::bindings::ProposalDispute {
                anchor: 0,
                openGames: 0,
                allowlisted,
            }
            .abi_encode()
        };
        let proposal = Proposal {
            stateRoot: B256::repeat_byte(6),
            batchRoot: B256::ZERO,
            l2BlockHash: B256::ZERO,
            l2BlockNumber: 9,
            proposer: Address::repeat_byte(7),
            timestamp: 0,
            l1Block: 0,
            removed: false,
            bondReturned: false,
            bond: U256::ZERO,
        };

        let (url, _) = answering_l1(dispute(false)).await;
        let mut open = agent(&url);
        assert!(open.challenge_again(4, &proposal, 1, true).await.unwrap());
        assert!(open.alarm().is_none());
        assert!(
            !open
                .challenge_again(4, &proposal, MAX_LOST_GAMES_PER_PROPOSAL, false)
                .await
                .unwrap()
        );
        let alarm = open.alarm().unwrap();
        assert!(alarm.contains("stops challenging it"), "{alarm}");
        assert!(open.given_up.contains(&4));

        let (url, _) = answering_l1(dispute(true)).await;
        let mut allowlisted = agent(&url);
        // A game lost on this account's clock (L1 or the node was down) may be won next time,
        // even against an allowlisted proposer.
        assert!(
            allowlisted
                .challenge_again(4, &proposal, 1, false)
                .await
                .unwrap()
        );
        assert!(allowlisted.alarm().is_none());
        assert!(
            !allowlisted
                .challenge_again(4, &proposal, 2, true)
                .await
                .unwrap()
        );
        let alarm = allowlisted.alarm().unwrap();
        assert!(alarm.contains("its proposer is allowlisted"), "{alarm}");
    }

    /// A party resolves the games it won at once, but not one it lost on its clock: the
    /// defender resolving a lost game removed its proposal before its steps in that
    /// proposal's other games landed, which then refunded their challengers. Anyone resolves
    /// a game a whole clock after its deadline; a removed proposal's games are its
    /// challengers' to resolve.
    #[tokio::test]
    async fn a_party_resolves_at_once_only_the_games_it_won() {
        let fixture = crate::proposer::tests::genesis_store("dispute-resolve");
        let (url, _) = recording_l1().await;
        let mut agent = test_agent(&fixture.store, &url);
        let me = agent.me();
        let other = Address::repeat_byte(7);
        let params = Params {
            now: 1_000,
            challenge_period: 60,
            challenger_bond: U256::ZERO,
            max_clock: 30,
            block_gas: DEFAULT_L1_BLOCK_GAS,
        };
        // Level 0, the proposer to move, its clock out at 970 + 30 - 20 = 980.
        let game = |challenger, proposer_to_move| Game {
            proposal: 3,
            challenger,
            level: 0,
            status: IN_PROGRESS,
            proposerToMove: proposer_to_move,
            lo: 0,
            hi: 8,
            l2Block: 0,
            proposerUsed: 20,
            challengerUsed: 20,
            lastMove: 970,
            loClaim: B256::ZERO,
            hiClaim: B256::ZERO,
            midClaim: B256::ZERO,
            bond: U256::ZERO,
        };
        let proposal = |proposer, removed| Proposal {
            stateRoot: B256::repeat_byte(6),
            batchRoot: B256::ZERO,
            l2BlockHash: B256::ZERO,
            l2BlockNumber: 9,
            proposer,
            timestamp: 0,
            l1Block: 0,
            removed,
            bondReturned: false,
            bond: U256::ZERO,
        };
        let what = |next: Option<Move>| next.map(|next| next.what);
        let mut play = async |game: Game, proposal: Proposal, now: u64| {
            let params = Params { now, ..params };
            what(agent.play(5, &game, &proposal, &params).await.unwrap())
        };

        // The defender's clock ran out: its loss, the challenger's to resolve.
        assert_eq!(
            play(game(other, true), proposal(me, false), 1_000).await,
            None
        );
        // ... or anyone's, a whole clock later.
        assert_eq!(
            play(game(other, true), proposal(me, false), 1_010).await,
            Some("resolve")
        );
        // The challenger's clock ran out: the defender resolves at once.
        assert_eq!(
            play(game(other, false), proposal(me, false), 1_000).await,
            Some("resolve")
        );
        // As the challenger: a won game at once, a lost one not.
        assert_eq!(
            play(game(me, true), proposal(other, false), 1_000).await,
            Some("resolve")
        );
        assert_eq!(
            play(game(me, false), proposal(other, false), 1_000).await,
            None
        );
        // A removed proposal: nothing left for its defender to win; its challenger resolves
        // the game for its refund.
        assert_eq!(
            play(game(other, false), proposal(me, true), 975).await,
            None
        );
        assert_eq!(
            play(game(me, false), proposal(other, true), 975).await,
            Some("resolve")
        );
    }

    /// A challenge the account cannot make (an underfunded challenger) is an alarm, in the log
    /// and in the role's health, naming the account to fund: a false root otherwise went final
    /// while the health said all was well.
    #[tokio::test]
    async fn a_challenge_that_cannot_be_made_is_an_alarm() {
        let fixture = crate::proposer::tests::genesis_store("dispute-unfunded");
        let (url, _) = recording_l1().await;
        let mut agent = test_agent(&fixture.store, &url);
        let challenge = || Move {
            what: "challenge",
            to: Address::repeat_byte(0xb3),
            input: Vec::new(),
            value: U256::from(1),
            deadline: 0,
            then: Then::Challenged {
                index: 7,
                l2_block: 3,
                proposed: B256::repeat_byte(1),
                ours: B256::repeat_byte(2),
            },
        };
        agent.not_made(
            &challenge(),
            "insufficient funds for gas * price + value",
            true,
        );
        let alarm = agent.alarm().unwrap();
        assert!(
            alarm.contains("cannot challenge proposal 7") && alarm.contains("send ETH to"),
            "{alarm}"
        );
        // Every round it fails again stays an alarm.
        agent.alarms.clear();
        agent.not_made(
            &challenge(),
            "insufficient funds for gas * price + value",
            true,
        );
        assert!(agent.alarm().is_some());
        // A game move the account cannot pay for too; one that fails otherwise is not.
        agent.alarms.clear();
        let pick = Move {
            what: "pick",
            then: Then::Nothing,
            ..challenge()
        };
        agent.not_made(&pick, "reverts: DisputeGame_StaleMove()", false);
        assert!(agent.alarm().is_none());
        agent.not_made(&pick, "Insufficient funds for gas * price + value", true);
        assert!(
            agent
                .alarm()
                .unwrap()
                .contains("cannot pay for its pick move")
        );
        // Several in one round are all reported, a final root this node disagrees with first.
        agent.not_made(
            &challenge(),
            "insufficient funds for gas * price + value",
            true,
        );
        agent
            .final_false
            .insert(9, (5, B256::repeat_byte(3), B256::repeat_byte(4)));
        let alarm = agent.alarm().unwrap();
        let parts: Vec<&str> = alarm.split("; also: ").collect();
        assert_eq!(parts.len(), 3, "{alarm}");
        assert!(parts[0].contains("#9 of L2 block 5"), "{alarm}");
        assert!(parts[1].contains("cannot pay for its pick move"), "{alarm}");
        assert!(parts[2].contains("cannot challenge proposal 7"), "{alarm}");
    }

    /// A proposal the node agrees with is left alone until its period ends only when no L1
    /// reorg can change this node's root of its block.
    #[test]
    fn a_root_is_final_only_when_derived_from_the_finalized_chain() {
        let finalized = (100, B256::repeat_byte(0xf1));
        let ours = Some(B256::repeat_byte(0xf1));
        assert!(root_is_final(99, ours, finalized));
        assert!(root_is_final(100, ours, finalized));
        // Derived from a record above the finalized block: a reorg can still change it.
        assert!(!root_is_final(101, ours, finalized));
        // The store holds another block at the finalized height (the follower has not caught
        // up with a reorg), or none yet: what it derived may be derived again differently.
        assert!(!root_is_final(99, Some(B256::repeat_byte(0xee)), finalized));
        assert!(!root_is_final(99, None, finalized));
    }

    /// The account must hold its bonds and gas for every game's moves at L1's fee cap; short
    /// of it the alarm names the account and what it holds against what it needs.
    #[test]
    fn a_balance_short_of_the_games_moves_is_named() {
        let account = Address::repeat_byte(0xc1);
        let eth = |n: u64| U256::from(n) * U256::from(10u64).pow(U256::from(18));
        let gwei = 1_000_000_000u128;
        // Two games at 50 gwei: 0.4 ETH of moves, on top of a 1 ETH bond.
        assert!(reserve_shortfall(account, eth(2), 50 * gwei, 2, eth(1)).is_none());
        let bond_alone = eth(1) + U256::from(1);
        let message = reserve_shortfall(account, bond_alone, 50 * gwei, 2, eth(1)).unwrap();
        assert!(
            message.contains(&account.to_string())
                && message.contains("1.400000000000000000 ETH its 2 game(s)")
                && message.contains("at 50.000 gwei"),
            "{message}"
        );
        // A fee cap that jumped makes the same balance short.
        assert!(reserve_shortfall(account, eth(2), 500 * gwei, 2, eth(1)).is_some());
        // Sums past U256 saturate rather than wrap into "enough".
        assert!(
            reserve_shortfall(account, U256::MAX - U256::from(1), u128::MAX, 1, U256::MAX)
                .is_some()
        );
    }

    /// The agent decides and simulates its moves on L1's latest block, never on `pending`: a
    /// move answering a transaction still in the mempool applied to whatever its sender
    /// replaced it with (an outsider won a game on a false root that way, and drained a bridge).
    #[tokio::test]
    async fn the_agent_reads_and_simulates_on_the_latest_l1_block() {
        let fixture = crate::proposer::tests::genesis_store("dispute-latest");
        let (url, blocks) = recording_l1().await;
        let agent = test_agent(&fixture.store, &url);
        let count = agent
            .call(Address::repeat_byte(0xb3), IDisputeGame::gameCountCall {})
            .await
            .unwrap();
        assert_eq!(count, U256::from(1));
        // An opening's gas estimate (its simulation) too.
        let input = IDisputeGame::resolveCall { id: U256::ZERO }.abi_encode();
        let _ = agent
            .estimate("open segment", Address::repeat_byte(0xb3), &input)
            .await;
        let seen = blocks.lock().unwrap().clone();
        assert!(seen.len() >= 2, "{seen:?}");
        assert_eq!(seen[0], "latest", "the read");
        assert_eq!(seen[1], "latest", "the estimate");

        // A round's moves, sent together, are simulated on the latest block too.
        blocks.lock().unwrap().clear();
        let mut agent = agent;
        let resolve = Move {
            what: "resolve",
            to: Address::repeat_byte(0xb3),
            input: IDisputeGame::resolveCall { id: U256::ZERO }.abi_encode(),
            value: U256::ZERO,
            deadline: 0,
            then: Then::Nothing,
        };
        let _ = agent.make(vec![resolve]).await;
        let seen = blocks.lock().unwrap().clone();
        assert_eq!(
            seen.first().map(|b| b.as_str()),
            Some(Some("latest")),
            "the round's simulation: {seen:?}"
        );
    }

    /// What the agent read about a disputed block is read again once an L1 reorg made
    /// derivation take the block from another record: the batch cached for the record before
    /// would build steps L1 no longer accepts.
    #[tokio::test]
    async fn a_block_derived_again_has_its_batch_read_again() {
        let fixture = crate::proposer::tests::genesis_store("dispute-derived-again");
        let store = &fixture.store;
        let mut writer = crate::proposer::tests::append_empty_block(store);
        let first = rollup_storage::BlockDerivation {
            batch: B256::repeat_byte(1),
            inbox_record: 5,
            block_in_record: 0,
            l1_block: 77,
        };
        writer.set_block_derivation(1, &first).unwrap();
        writer.commit().unwrap();

        // An L1 nobody answers at: every read of the inbox fails.
        let mut agent = test_agent(store, "http://127.0.0.1:1");
        let derived = agent.derived(1).unwrap();
        let later = std::time::Instant::now() + Duration::from_secs(3_600);
        agent.batches.insert(1, (None, later, BLOBS_RETRY, derived));
        assert!(
            agent.block_batch(1).await.unwrap().is_none(),
            "read once per game"
        );

        // The record was re-posted in another L1 block; derivation took the block from it.
        let mut writer = store.writer().unwrap();
        let again = rollup_storage::BlockDerivation {
            inbox_record: 6,
            l1_block: 79,
            ..first
        };
        writer.set_block_derivation(1, &again).unwrap();
        writer.commit().unwrap();
        assert!(
            agent.block_batch(1).await.is_err(),
            "the batch is read again, from L1"
        );
        assert!(
            agent.batches.is_empty(),
            "nothing kept of the record before"
        );
    }

    /// A segment inside one blob: the whole blob from its start, nothing once chained; a
    /// small part element by element.
    #[test]
    fn a_segment_in_one_blob_loads_its_blob_whole_or_its_few_elements() {
        assert_eq!(next_blob_load(300..1_400, 0), BlobLoad::Whole(0));
        assert_eq!(next_blob_load(300..1_400, 1_100), BlobLoad::Done);
        assert_eq!(next_blob_load(4_100..4_150, 0), BlobLoad::Elements(0..50));
        // Someone else's few element loads left the chain inside the part: still the whole
        // blob, which chains the part from its start; element-wise only for the last few.
        assert_eq!(next_blob_load(300..1_400, 7), BlobLoad::Whole(0));
        assert_eq!(next_blob_load(300..1_400, 1_000), BlobLoad::Whole(0));
        assert_eq!(
            next_blob_load(300..1_400, 1_050),
            BlobLoad::Elements(1_050..1_100)
        );
    }

    /// A segment across two blobs: the first blob whole, then the second from the part's start.
    #[test]
    fn a_segment_across_blobs_loads_them_in_order() {
        let covering = 3_000..4_200;
        assert_eq!(next_blob_load(covering.clone(), 0), BlobLoad::Whole(0));
        // 1,096 elements in the first blob; the second holds 104, enough for a whole load.
        assert_eq!(next_blob_load(covering.clone(), 1_096), BlobLoad::Whole(1));
        // A chain past the boundary (element loads that crossed it): still the second blob.
        assert_eq!(next_blob_load(covering.clone(), 1_097), BlobLoad::Whole(1));
        assert_eq!(next_blob_load(covering, 1_200), BlobLoad::Done);
        // A part of fewer than 100 elements in the second blob goes element by element.
        assert_eq!(
            next_blob_load(4_000..4_150, 96),
            BlobLoad::Elements(96..150)
        );
        assert_eq!(next_blob_load(4_000..4_150, 0), BlobLoad::Elements(0..96));
    }
}
