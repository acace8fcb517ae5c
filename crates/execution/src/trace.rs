//! The input trace of one L2 block, as level 1 of the dispute game bisects it.
//!
//! A block's trace has a claim at every position from 0 to `2^TRACE_DEPTH`:
//! - position 0 is the parent's output root (agreed when level 1 starts);
//! - position `1` is the state after the preamble (the block context fixed, nothing run);
//! - position `1 + i` is the state after the block's transaction `i` (deposits first);
//! - the seal, position `transactions + 2`, turns the last trace state into the block's output
//!   root, and every later position repeats it (padding, the identity step).
//!
//! Inner positions are [`TraceState`]s, `keccak256` of their ABI encoding, which commit to
//! everything that crosses transactions: the state root, cumulative gas, the included count,
//! the roots of the ordered tries of the transactions and receipts included so far (built one
//! value at a time, [`OrderedTrie`], so the seal needs no list of them), the hash of the
//! logs bloom, and the block context. Only the block
//! in dispute is ever traced: the node re-executes it on demand from its parent's historical
//! state, recomputing the state root after every transaction on an overlay of the parent's trie.
//!
//! The same re-execution, stopped before a deposit, gives what the one-step verifier needs to
//! prove an ETH deposit's step ([`deposit_step`]): the accounts it changes and their trie
//! proofs; the bridge message and its place in the deposit chain come from L1
//! ([`deposit_chain_witness`]), and [`DepositStep::witness`] puts them together.

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::{Header, Transaction as _, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bloom, Bytes, U256, keccak256};
use alloy_sol_types::SolValue;
use revm::{
    DatabaseRef,
    context::BlockEnv,
    database::{State, states::CacheAccount},
    inspector::NoOpInspector,
    primitives::KECCAK_EMPTY,
};
use rollup_primitives::{
    L2Transaction, TxDeposit,
    bindings::{
        IOneStepVerifier::{
            Account, BatchTx, BlockContext, ChainMessage, DepositWitness,
            TraceState as SolTraceState, TransactionWitness,
        },
        TrieProof,
    },
    decode_l1_origin, deposit_source_hash,
};
use rollup_trie::{Node, NodePath, NodeStore, TrieUpdate};

use crate::{
    ExecutionError, OrderedTrie, ReplayState, Result,
    executor::{block_tx_env, header_block_env, mint},
    replay::{TxOutcome, TxRun},
};

/// Bisected positions of one block's trace: `2^16`, as `DisputeGame.TRACE_DEPTH` says.
pub const TRACE_DEPTH: u32 = 16;

/// The version of [`TraceState`]'s layout: 2 holds the tries' roots and the bloom's hash (1
/// held hash chains of the transactions and receipts).
pub const TRACE_STATE_VERSION: u64 = 2;

/// What a trace claim commits to between the preamble and the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceState {
    /// The block being built.
    pub l2_block: u64,
    /// Inputs consumed: 1 after the preamble, `1 + i` after transaction `i`.
    pub inputs: u64,
    /// The state root after them.
    pub state_root: B256,
    /// Gas used by the block so far.
    pub cumulative_gas: u64,
    /// Transactions included so far.
    pub included: u64,
    /// The root of the ordered trie of the included transactions (EIP-2718 encoded): the
    /// header's `transactionsRoot` at the seal.
    pub tx_root: B256,
    /// The root of the ordered trie of their receipts: the header's `receiptsRoot` at the seal.
    pub receipt_root: B256,
    /// The union of their receipts' blooms: the header's `logsBloom` at the seal (the state
    /// commits to its `keccak256`).
    pub logs_bloom: Bloom,
    /// [`block_context_hash`] of the block.
    pub context: B256,
}

impl TraceState {
    /// The claim: `keccak256(abi.encode(version, l2Block, inputs, stateRoot, cumulativeGas,
    /// included, txRoot, receiptRoot, keccak256(logsBloom), context))`.
    pub fn hash(&self) -> B256 {
        keccak256(self.abi_encode())
    }

    /// `abi.encode(OneStepVerifier.TraceState)`: the preimage of [`Self::hash`], the witness
    /// of a step from this state.
    pub fn abi_encode(&self) -> Vec<u8> {
        self.to_sol().abi_encode()
    }

    /// The state as `OneStepVerifier.TraceState`.
    pub fn to_sol(&self) -> SolTraceState {
        SolTraceState {
            version: U256::from(TRACE_STATE_VERSION),
            l2Block: U256::from(self.l2_block),
            inputs: U256::from(self.inputs),
            stateRoot: self.state_root,
            cumulativeGas: U256::from(self.cumulative_gas),
            included: U256::from(self.included),
            txRoot: self.tx_root,
            receiptRoot: self.receipt_root,
            logsBloomHash: keccak256(self.logs_bloom),
            context: self.context,
        }
    }
}

/// One input of a block after its preamble, in the order L1 fixes them: the block's deposits,
/// then every batch transaction the inbox record gives the block, including those the block
/// rules skip (each is a position of the trace, as on L1).
#[derive(Debug, Clone)]
pub enum TraceInput {
    /// A deposit, or a batch transaction with its recovered sender; a batch transaction is
    /// still skipped if it does not fit the block's remaining gas or revm refuses it.
    Tx(L2Transaction),
    /// A batch transaction whose signature does not recover: skipped.
    Unrecovered(TxEnvelope),
}

impl TraceInput {
    /// A batch transaction as derivation meets it: with its sender if its signature recovers.
    pub fn batch(envelope: TxEnvelope) -> Self {
        match envelope.recover_signer() {
            Ok(sender) => Self::Tx(L2Transaction::Signed { envelope, sender }),
            Err(_) => Self::Unrecovered(envelope),
        }
    }

    /// The inputs of a stored block when its batch transactions are not known: its own
    /// transactions, all of them run. Exact unless derivation skipped a batch transaction.
    pub fn stored(transactions: &[L2Transaction]) -> Vec<Self> {
        transactions.iter().cloned().map(Self::Tx).collect()
    }

    /// The inputs of stored block `transactions` whose batch transactions are `batch`: its
    /// deposits, then `batch` (which holds every signed transaction the block included).
    pub fn with_batch(transactions: &[L2Transaction], batch: Vec<TxEnvelope>) -> Vec<Self> {
        transactions
            .iter()
            .filter(|tx| matches!(tx, L2Transaction::Deposit(_)))
            .cloned()
            .map(Self::Tx)
            .chain(batch.into_iter().map(Self::batch))
            .collect()
    }
}

/// The block context a trace fixes in its preamble (`OneStepVerifier.BlockContext`): the
/// header's parent hash, number, timestamp, L1 origin, base fee, gas limit, beneficiary and
/// `prevrandao`.
pub fn block_context(header: &Header) -> BlockContext {
    let origin = decode_l1_origin(&header.extra_data).unwrap_or_default();
    BlockContext {
        parentHash: header.parent_hash,
        number: U256::from(header.number),
        timestamp: U256::from(header.timestamp),
        l1OriginNumber: U256::from(origin.number),
        l1OriginHash: origin.hash,
        baseFee: U256::from(header.base_fee_per_gas.unwrap_or_default()),
        gasLimit: U256::from(header.gas_limit),
        beneficiary: header.beneficiary,
        prevrandao: header.mix_hash,
    }
}

/// The `STEP_INPUT` witness body of the step from trace `state` of the block `header`, whose
/// parent is `parent_header`, in the inbox record with block table `block_table` whose first
/// segment with a transaction of the block is `first_segment` (zero if none):
/// `abi.encode(InputWitness)`. L1 reads from the context, the parent's header and the block
/// table whether the step runs one of the block's deposits or batch transactions (then only
/// their own witnesses are accepted).
pub fn input_witness(
    header: &Header,
    parent_header: &Header,
    state: &TraceState,
    block_table: Bytes,
    first_segment: u64,
) -> Vec<u8> {
    rollup_primitives::bindings::IOneStepVerifier::InputWitness {
        state: state.to_sol(),
        context: block_context(header),
        parentHeader: alloy_rlp::encode(parent_header).into(),
        blockTable: block_table,
        firstSegment: U256::from(first_segment),
    }
    .abi_encode()
}

/// `OneStepVerifier.STEP_SEAL`: the witness kind of a block's seal.
pub const STEP_SEAL: u8 = 6;

/// The witness of the seal of block `header` (`abi.encode(uint8 STEP_SEAL, bytes abi.encode(
/// SealWitness))`), from its last trace `state`: the `STEP_INPUT` fields (see
/// [`input_witness`]) and the block's logs bloom. L1 proves the seal of any block: the state
/// holds both tries' roots.
pub fn seal_witness(
    header: &Header,
    parent_header: &Header,
    state: &TraceState,
    block_table: Bytes,
    first_segment: u64,
) -> Bytes {
    let witness = rollup_primitives::bindings::IOneStepVerifier::SealWitness {
        state: state.to_sol(),
        context: block_context(header),
        parentHeader: alloy_rlp::encode(parent_header).into(),
        blockTable: block_table,
        firstSegment: U256::from(first_segment),
        logsBloom: Bytes::copy_from_slice(state.logs_bloom.as_slice()),
    };
    (U256::from(STEP_SEAL), Bytes::from(witness.abi_encode()))
        .abi_encode_params()
        .into()
}

/// The hash a trace state commits the block context with: `keccak256(abi.encode(`
/// [`block_context`]`))`, i.e. of `(parentHash, number, timestamp, l1OriginNumber,
/// l1OriginHash, baseFee, gasLimit, beneficiary, prevrandao)`.
pub fn block_context_hash(header: &Header) -> B256 {
    keccak256(block_context(header).abi_encode())
}

/// One block's trace claims.
#[derive(Debug, Clone)]
pub struct BlockTrace {
    /// Claims at positions `0..=seal`; every later position repeats the last.
    claims: Vec<B256>,
    /// The trace states behind positions `1..seal`.
    states: Vec<TraceState>,
}

impl BlockTrace {
    /// The position of the seal: the first position whose claim is the block's output root.
    pub fn seal_position(&self) -> u64 {
        self.claims.len() as u64 - 1
    }

    /// The claim at `position` (anything past the seal is the block's output root).
    pub fn claim(&self, position: u64) -> B256 {
        let last = self.claims.len() - 1;
        self.claims[usize::try_from(position).map_or(last, |p| p.min(last))]
    }

    /// The trace state at `position`, for `1 <= position < seal`.
    pub fn state(&self, position: u64) -> Option<&TraceState> {
        let index = usize::try_from(position).ok()?.checked_sub(1)?;
        self.states.get(index)
    }
}

/// Where the next included transaction and its receipt go in the trace state's tries: the
/// nodes on their keys' paths (`OneStepVerifier`'s `transactionsProof` and `receiptsProof`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendProofs {
    /// The append proof in the transactions trie.
    pub transactions: Vec<Bytes>,
    /// The append proof in the receipts trie.
    pub receipts: Vec<Bytes>,
}

/// A trie on top of another: writes of earlier steps first, then the parent's nodes.
struct Overlay<S> {
    base: S,
    writes: BTreeMap<NodePath, Option<Node>>,
}

impl<S: NodeStore> NodeStore for Overlay<S> {
    type Error = S::Error;

    fn node(&self, path: &NodePath) -> core::result::Result<Option<Node>, Self::Error> {
        match self.writes.get(path) {
            Some(write) => Ok(*write),
            None => self.base.node(path),
        }
    }
}

/// The trie leaves (key → value hash, `None`: absent) a cached account stands for now.
fn cached_leaves(address: Address, cached: &CacheAccount, out: &mut Vec<(B256, Option<B256>)>) {
    let key = rollup_trie::account_key(address);
    match &cached.account {
        Some(account) => {
            out.push((
                key,
                Some(rollup_trie::account_value_hash(
                    account.info.nonce,
                    account.info.balance,
                    account.info.code_hash,
                )),
            ));
            for (slot, value) in &account.storage {
                out.push((
                    rollup_trie::storage_key(address, *slot),
                    (!value.is_zero()).then(|| rollup_trie::storage_value_hash(*value)),
                ));
            }
        }
        None => out.push((key, None)),
    }
}

/// One block re-executed on its parent's state one input at a time, with the state trie after
/// each on an overlay of the parent's trie: what [`trace_block`] walks to the seal and
/// [`deposit_step`] up to the deposit it proves.
struct Tracer<'a, DB: DatabaseRef, S> {
    header: &'a Header,
    chain_id: u64,
    overlay: Overlay<S>,
    /// The state after the inputs run so far (`None` only while a transaction runs on it).
    state: Option<ReplayState<DB>>,
    block_env: BlockEnv,
    /// The leaf each trie key was last given (key → value hash, `None`: absent).
    emitted: HashMap<B256, Option<B256>>,
    /// The trace state after the inputs run so far.
    current: TraceState,
    /// The transactions included so far (`current.tx_root` is its root).
    transactions: OrderedTrie,
    /// Their receipts (`current.receipt_root`).
    receipts: OrderedTrie,
    /// When tracing stops ([`trace_block_until`]); `None`: never.
    deadline: Option<std::time::Instant>,
}

impl<'a, DB, S> Tracer<'a, DB, S>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    /// The tracer at position 1: the preamble done, nothing run.
    fn new(db: DB, trie: S, header: &'a Header, chain_id: u64) -> Result<Self> {
        let overlay = Overlay {
            base: trie,
            writes: BTreeMap::new(),
        };
        let state_root = rollup_trie::root(&overlay).map_err(|err| db_error(header, &err))?;
        Ok(Self {
            header,
            chain_id,
            overlay,
            // Transitions record which accounts each transaction changed.
            state: Some(
                State::builder()
                    .with_database_ref(db)
                    .with_bundle_update()
                    .build(),
            ),
            block_env: header_block_env(header),
            emitted: HashMap::new(),
            current: TraceState {
                l2_block: header.number,
                inputs: 1,
                state_root,
                cumulative_gas: 0,
                included: 0,
                tx_root: alloy_consensus::EMPTY_ROOT_HASH,
                receipt_root: alloy_consensus::EMPTY_ROOT_HASH,
                logs_bloom: Bloom::ZERO,
                context: block_context_hash(header),
            },
            transactions: OrderedTrie::new(),
            receipts: OrderedTrie::new(),
            deadline: None,
        })
    }

    /// The tracer after the block's first `inputs`, at the step of the next one.
    fn before(
        db: DB,
        trie: S,
        header: &'a Header,
        chain_id: u64,
        inputs: &[TraceInput],
    ) -> Result<Self> {
        let mut tracer = Self::new(db, trie, header, chain_id)?;
        for (index, input) in inputs.iter().enumerate() {
            tracer.step(index, input)?;
        }
        Ok(tracer)
    }

    /// Runs the block's input `index` (from 0) and moves the trace state past it: a skipped
    /// batch transaction moves only `inputs`.
    fn step(&mut self, index: usize, input: &TraceInput) -> Result<()> {
        let block = self.header.number;
        let tx = match input {
            TraceInput::Unrecovered(_) => {
                self.current.inputs += 1;
                return Ok(());
            }
            TraceInput::Tx(tx) => tx,
        };
        let is_signed = matches!(tx, L2Transaction::Signed { .. });
        // `execute_block`'s rule: a batch transaction that does not fit the block's remaining
        // gas is left out.
        if is_signed
            && self.current.cumulative_gas.saturating_add(tx.gas_limit()) > self.header.gas_limit
        {
            self.current.inputs += 1;
            return Ok(());
        }
        let mut state = self
            .state
            .take()
            .expect("the state is back after every transaction");
        if let L2Transaction::Deposit(deposit) = tx {
            mint(&mut state, deposit.from, deposit.mint)
                .map_err(|err| db_error(self.header, &err))?;
        }
        let (tx_env, is_deposit) = block_tx_env(tx);
        let run = TxRun {
            chain_id: self.chain_id,
            block: &self.block_env,
            is_deposit,
            deadline: self.deadline,
        };
        let (outcome, _, mut state) = run.run(state, tx_env, NoOpInspector)?;
        let (success, gas_used, logs) = match outcome {
            TxOutcome::Executed(result) => (
                result.is_success(),
                result.tx_gas_used(),
                result.into_logs(),
            ),
            TxOutcome::Database(message) => {
                return Err(ExecutionError::Database { block, message });
            }
            TxOutcome::Invalid(_) if is_deposit => (false, 0, Vec::new()),
            TxOutcome::Invalid(reason) => {
                // revm refused it before running anything: the block rules skip it.
                tracing::debug!(target: "rollup::execution", block, index, %reason, "batch transaction skipped in the trace");
                self.state = Some(state);
                self.current.inputs += 1;
                return Ok(());
            }
        };
        // The trie changes of this transaction: every leaf of the accounts it changed (the
        // mint included) that differs from what the trie was last given.
        let changed = state
            .transition_state
            .as_mut()
            .map(|transitions| std::mem::take(&mut transitions.transitions))
            .unwrap_or_default();
        let mut leaves = Vec::new();
        for address in changed.keys() {
            if let Some(cached) = state.cache.accounts.get(address) {
                cached_leaves(*address, cached, &mut leaves);
            }
        }
        self.state = Some(state);
        let mut updates = BTreeMap::new();
        for (key, value) in leaves {
            if self.emitted.get(&key) != Some(&value) {
                self.emitted.insert(key, value);
                updates.insert(key, value);
            }
        }
        let TrieUpdate { root, writes, .. } = rollup_trie::apply_updates(&self.overlay, &updates)
            .map_err(|err| db_error(self.header, &err))?;
        self.overlay.writes.extend(writes);
        let current = &mut self.current;
        current.cumulative_gas += gas_used;
        let receipt = rollup_primitives::L2Receipt {
            tx_type: tx.tx_type(),
            success,
            cumulative_gas_used: current.cumulative_gas,
            logs,
        };
        current.inputs += 1;
        current.state_root = root;
        current.included += 1;
        current.logs_bloom.accrue_bloom(&receipt.bloom());
        self.transactions.push(tx.encoded_2718());
        self.receipts.push(receipt.encoded_2718());
        current.tx_root = self.transactions.root();
        current.receipt_root = self.receipts.root();
        Ok(())
    }

    /// The append proofs of the next included transaction and receipt (`OrderedTrie.append`
    /// on L1), in the tries of those included so far.
    fn append_proofs(&mut self) -> AppendProofs {
        AppendProofs {
            transactions: self.transactions.append_proof(),
            receipts: self.receipts.append_proof(),
        }
    }

    /// `address`'s account in the state after the inputs run so far, checked against its
    /// leaf in `proof` (a proof against `root`).
    fn account(
        &mut self,
        address: Address,
        root: B256,
        proof: &rollup_trie::Proof,
    ) -> Result<Account> {
        let state = self.state.as_mut().expect("no transaction is running");
        let info =
            revm::Database::basic(state, address).map_err(|err| db_error(self.header, &err))?;
        let account = info.map_or(
            Account {
                exists: false,
                nonce: 0,
                balance: U256::ZERO,
                codeHash: B256::ZERO,
            },
            |info| Account {
                exists: true,
                nonce: info.nonce,
                balance: info.balance,
                codeHash: info.code_hash,
            },
        );
        let value = account.exists.then(|| {
            rollup_trie::account_value_hash(account.nonce, account.balance, account.codeHash)
        });
        rollup_trie::verify(root, rollup_trie::account_key(address), value, proof).map_err(
            |err| ExecutionError::Database {
                block: self.header.number,
                message: format!("account {address} differs from its trie leaf: {err}"),
            },
        )?;
        Ok(account)
    }
}

fn db_error(header: &Header, err: &dyn std::fmt::Display) -> ExecutionError {
    ExecutionError::Database {
        block: header.number,
        message: err.to_string(),
    }
}

/// Traces stored block `header` with `inputs` (its deposits and batch transactions,
/// [`TraceInput`]) on `db`, the state after its parent, whose state trie is `trie` (its root
/// must be the parent's state root).
/// `parent_output` and `output` are the output roots at the trace's two ends. Fails if the
/// re-executed block does not end in `header`'s state root and gas: the database does not hold
/// the state the block was built on.
pub fn trace_block<DB, S>(
    db: DB,
    trie: S,
    header: &Header,
    chain_id: u64,
    inputs: &[TraceInput],
    parent_output: B256,
    output: B256,
) -> Result<BlockTrace>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    trace_block_until(
        db,
        trie,
        header,
        chain_id,
        inputs,
        (parent_output, output),
        None,
    )
}

/// [`trace_block`] for an untrusted request: with a `deadline`, a transaction still running
/// then is stopped, as is the trace between two inputs, and the trace fails with
/// [`ExecutionError::CallTimedOut`]. `outputs` are the parent's and the block's output roots.
pub fn trace_block_until<DB, S>(
    db: DB,
    trie: S,
    header: &Header,
    chain_id: u64,
    inputs: &[TraceInput],
    (parent_output, output): (B256, B256),
    deadline: Option<std::time::Instant>,
) -> Result<BlockTrace>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    let mut tracer = Tracer::new(db, trie, header, chain_id)?;
    tracer.deadline = deadline;
    let mut states = vec![tracer.current];
    for (index, input) in inputs.iter().enumerate() {
        if deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline) {
            return Err(ExecutionError::CallTimedOut);
        }
        tracer.step(index, input)?;
        states.push(tracer.current);
    }
    let current = tracer.current;
    if current.state_root != header.state_root || current.cumulative_gas != header.gas_used {
        return Err(ExecutionError::Database {
            block: header.number,
            message: format!(
                "re-executing the block for its trace ended at state root {} and {} gas, its header says {} and {}",
                current.state_root, current.cumulative_gas, header.state_root, header.gas_used
            ),
        });
    }
    let mut claims = Vec::with_capacity(states.len() + 2);
    claims.push(parent_output);
    claims.extend(states.iter().map(TraceState::hash));
    claims.push(output);
    Ok(BlockTrace { claims, states })
}

/// The highest precompile address under Prague (`OneStepVerifier.LAST_PRECOMPILE`): a call to
/// any address up to it runs code.
pub const LAST_PRECOMPILE: Address = Address::with_last_byte(0x11);

/// Whether a call to `account` runs a Prague precompile (`0x01` to [`LAST_PRECOMPILE`];
/// `OneStepVerifier._isPrecompile`).
fn is_precompile(account: Address) -> bool {
    account != Address::ZERO && account <= LAST_PRECOMPILE
}

/// The gas of an ETH deposit that runs no code (`OneStepVerifier.TRANSFER_GAS`).
pub const TRANSFER_GAS: u64 = 21_000;

/// `OneStepVerifier.STEP_DEPOSIT`: the witness kind of a deposit step.
pub const STEP_DEPOSIT: u8 = 4;

/// What the L2 state gives the witness of the step at a position whose input is a deposit
/// (`OneStepVerifier.DepositWitness` without the bridge message): the agreed trace state, the
/// block's context, its parent's header, and the two accounts the deposit changes with their
/// trie proofs.
#[derive(Debug, Clone)]
pub struct DepositStep {
    /// The position: the step runs the block's `position`-th input.
    pub position: u64,
    /// The deposit it runs.
    pub deposit: TxDeposit,
    /// The trace state at `position` (the step's agreed state).
    pub state: TraceState,
    /// The block's context (the preimage of `state.context`).
    pub context: BlockContext,
    /// The RLP of the parent header (the preimage of `context.parentHash`).
    pub parent_header: Bytes,
    /// `deposit.from` in the state at `position`.
    pub from: Account,
    /// Its proof against `state.state_root`.
    pub from_proof: rollup_trie::Proof,
    /// `deposit.to` after `from`'s update (the mint and the call's nonce bump); `from` itself
    /// when the two are the same account.
    pub to: Account,
    /// Its proof against the root after `from`'s update; `None` when `to == from`.
    pub to_proof: Option<rollup_trie::Proof>,
    /// Where the deposit and its receipt go in the state's tries.
    pub append_proofs: AppendProofs,
}

impl DepositStep {
    /// Whether L1 can prove the step (`OneStepVerifier` proves it rather than reverting
    /// `NotProvableYet`): an ETH deposit (`mint == value`, no input) that runs no code, i.e.
    /// to an account without code outside the precompiles, from an account whose nonce can
    /// still grow. (The message must also be an ETH deposit, [`Self::witness`] checks.)
    pub fn provable(&self) -> bool {
        let deposit = &self.deposit;
        U256::from(deposit.mint) == deposit.value
            && deposit.mint != 0
            && deposit.input.is_empty()
            && !is_precompile(deposit.to)
            && deposit.gas_limit >= TRANSFER_GAS
            && self.from.nonce != u64::MAX
            && (!self.to.exists || self.to.codeHash == KECCAK_EMPTY)
    }

    /// The witness of the step (`abi.encode(uint8 STEP_DEPOSIT, bytes abi.encode(
    /// DepositWitness))`) with the deposit's bridge `message`, the deposit chain before it
    /// and the hashes of the messages after it in the same L1 block ([`deposit_chain_witness`]).
    /// `None` if `message` is not the deposit this step runs.
    pub fn witness(
        &self,
        message: ChainMessage,
        chain_before: B256,
        later_hashes: Vec<B256>,
    ) -> Option<Bytes> {
        let deposit = &self.deposit;
        let nonce = u64::try_from(message.nonce).ok()?;
        // Every deposit's step takes this witness (L1 refuses an input witness there); an ETH
        // deposit's message must be the transaction field for field, any other's (which L1
        // finds unprovable once it opened the message) the one with its nonce.
        let is_eth = message.kind == 0 && message.l1Token.is_zero() && message.l2Token.is_zero();
        let matches = deposit_source_hash(nonce) == deposit.source_hash
            && (!is_eth
                || (message.from == deposit.from
                    && message.to == deposit.to
                    && message.amount == deposit.value
                    && U256::from(deposit.mint) == deposit.value
                    && u64::from(message.gasLimit) == deposit.gas_limit
                    && deposit.input.is_empty()));
        if !matches {
            return None;
        }
        let empty = TrieProof {
            siblings: Vec::new(),
            terminalKey: B256::ZERO,
            terminalValueHash: B256::ZERO,
            lastSibling: Bytes::new(),
        };
        let witness = DepositWitness {
            state: self.state.to_sol(),
            context: self.context.clone(),
            parentHeader: self.parent_header.clone(),
            message,
            chainBefore: chain_before,
            laterHashes: later_hashes,
            from: self.from.clone(),
            fromProof: trie_proof(&self.from_proof),
            to: self.to.clone(),
            toProof: self.to_proof.as_ref().map_or(empty, trie_proof),
            transactionsProof: self.append_proofs.transactions.clone(),
            receiptsProof: self.append_proofs.receipts.clone(),
        };
        Some(
            (U256::from(STEP_DEPOSIT), Bytes::from(witness.abi_encode()))
                .abi_encode_params()
                .into(),
        )
    }
}

/// A trie proof as `SparseMerkleTrie.Proof`.
pub fn trie_proof(proof: &rollup_trie::Proof) -> TrieProof {
    let (terminal_key, terminal_value_hash) = match proof.terminal {
        rollup_trie::Terminal::Leaf { key, value_hash } => (key, value_hash),
        rollup_trie::Terminal::Empty => (B256::ZERO, B256::ZERO),
    };
    TrieProof {
        siblings: proof.siblings.clone(),
        terminalKey: terminal_key,
        terminalValueHash: terminal_value_hash,
        lastSibling: proof
            .last_sibling
            .map(|node| Bytes::from(node.encode().to_vec()))
            .unwrap_or_default(),
    }
}

/// The hash the bridge's deposit chain folds in for `message`: `keccak256(abi.encode(message))`.
pub fn chain_message_hash(message: &ChainMessage) -> B256 {
    keccak256(message.abi_encode())
}

/// Where message `index` of one L1 block's bridge `messages` sits in the deposit chain, given
/// the chain before the block (`depositChainAt(block - 1).chain`): the chain before the
/// message, the hashes of the block's later messages, and the chain after the whole block
/// (what `depositChainAt(block).chain` must be). `None` if `index` is past the messages.
pub fn deposit_chain_witness(
    chain_before_block: B256,
    messages: &[ChainMessage],
    index: usize,
) -> Option<(B256, Vec<B256>, B256)> {
    if index >= messages.len() {
        return None;
    }
    let extend = |chain: B256, hash: B256| keccak256([chain, hash].concat());
    let hashes: Vec<B256> = messages.iter().map(chain_message_hash).collect();
    let chain_before = hashes[..index]
        .iter()
        .fold(chain_before_block, |chain, hash| extend(chain, *hash));
    let chain_after = hashes[index..]
        .iter()
        .fold(chain_before, |chain, hash| extend(chain, *hash));
    Some((chain_before, hashes[index + 1..].to_vec(), chain_after))
}

/// The bridge keeps the deposit chain after every this many messages
/// (`L1Bridge.DEPOSIT_CHAIN_MARK`, `depositChainMark`).
pub const DEPOSIT_CHAIN_MARK: u64 = 128;

/// The nonce of the mark a deposit step of message `nonce` folds to when its L1 block's
/// messages end before `count_after` (`depositChainAt(origin).count`): the next multiple of
/// [`DEPOSIT_CHAIN_MARK`] inside the block, if any (else it folds to the block's checkpoint).
pub const fn deposit_chain_mark(nonce: u64, count_after: u64) -> Option<u64> {
    let end = (nonce / DEPOSIT_CHAIN_MARK + 1) * DEPOSIT_CHAIN_MARK;
    if end < count_after {
        Some(end - 1)
    } else {
        None
    }
}

/// The later hashes of a deposit step's witness ([`deposit_chain_witness`]) cut at the chain's
/// mark `mark` after message `mark_nonce` ([`deposit_chain_mark`]), as `OneStepVerifier`
/// requires where the bridge kept it; a zero `mark` (none kept: messages from before the bridge
/// kept marks) leaves them whole. `None` if they do not fold to the mark.
pub fn cut_at_mark(
    chain_before: B256,
    message: &ChainMessage,
    later: &[B256],
    mark_nonce: u64,
    mark: B256,
) -> Option<Vec<B256>> {
    if mark.is_zero() {
        return Some(later.to_vec());
    }
    let nonce = u64::try_from(message.nonce).ok()?;
    let keep = usize::try_from(mark_nonce.checked_sub(nonce)?).ok()?;
    let kept = later.get(..keep)?.to_vec();
    let extend = |chain: B256, hash: &B256| keccak256([chain, *hash].concat());
    let folded = kept
        .iter()
        .fold(extend(chain_before, &chain_message_hash(message)), extend);
    (folded == mark).then_some(kept)
}

/// What the L2 state gives the witness of the step at `position` of stored block `header`
/// (parent `parent_header`, `inputs`, on `db` and `trie` as [`trace_block`] takes them) when
/// the block's `position`-th input (from 1) is a deposit: the block re-executed up to it,
/// `from` proven against that state's root, then `from`'s update alone applied (nonce
/// bumped; the mint and the value cancel) and `to` proven against the root after it. `None`
/// if that input is not a deposit. Whether L1 can prove the step: [`DepositStep::provable`].
pub fn deposit_step<DB, S>(
    db: DB,
    trie: S,
    header: &Header,
    parent_header: &Header,
    chain_id: u64,
    inputs: &[TraceInput],
    position: u64,
) -> Result<Option<DepositStep>>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    let Some(index) = usize::try_from(position)
        .ok()
        .and_then(|p| p.checked_sub(1))
    else {
        return Ok(None);
    };
    let Some(TraceInput::Tx(L2Transaction::Deposit(deposit))) = inputs.get(index) else {
        return Ok(None);
    };
    let mut tracer = Tracer::before(db, trie, header, chain_id, &inputs[..index])?;
    let root = tracer.current.state_root;
    let append_proofs = tracer.append_proofs();
    let trie_error = |err: &dyn std::fmt::Display| db_error(header, err);
    let from_key = rollup_trie::account_key(deposit.from);
    let from_proof = rollup_trie::prove(&tracer.overlay, from_key).map_err(|e| trie_error(&e))?;
    let from = tracer.account(deposit.from, root, &from_proof)?;
    let (to, to_proof) = if deposit.to == deposit.from {
        (from.clone(), None)
    } else {
        let code_hash = if from.exists {
            from.codeHash
        } else {
            KECCAK_EMPTY
        };
        let updated =
            rollup_trie::account_value_hash(from.nonce.saturating_add(1), from.balance, code_hash);
        let update = rollup_trie::apply_updates(
            &tracer.overlay,
            &BTreeMap::from([(from_key, Some(updated))]),
        )
        .map_err(|e| trie_error(&e))?;
        let after_from = Overlay {
            base: &tracer.overlay,
            writes: update.writes,
        };
        let to_proof = rollup_trie::prove(&after_from, rollup_trie::account_key(deposit.to))
            .map_err(|e| trie_error(&e))?;
        let to = tracer.account(deposit.to, update.root, &to_proof)?;
        (to, Some(to_proof))
    };
    Ok(Some(DepositStep {
        position,
        deposit: deposit.clone(),
        state: tracer.current,
        context: block_context(header),
        parent_header: alloy_rlp::encode(parent_header).into(),
        from,
        from_proof,
        to,
        to_proof,
        append_proofs,
    }))
}

/// `OneStepVerifier.STEP_TRANSACTION`: the witness kind of a batch transaction's step.
pub const STEP_TRANSACTION: u8 = 5;

/// An account the step changes, with its proof against the root after the accounts changed
/// before it.
#[derive(Debug, Clone)]
pub struct ProvenAccount {
    /// The account's address.
    pub address: Address,
    /// The account before the step.
    pub account: Account,
    /// Its proof.
    pub proof: rollup_trie::Proof,
}

/// What the L2 state gives the witness of the step at a position whose input is a batch
/// transaction (`OneStepVerifier.TransactionWitness` without the L1 parts): the agreed trace
/// state, the block's context, its parent's header, and the accounts the transaction
/// changes, each proven against the root after the ones before it (sender, recipient,
/// beneficiary; an account that is an earlier one is left out).
#[derive(Debug, Clone)]
pub struct TransactionStep {
    /// The position: the step runs the block's `position`-th input.
    pub position: u64,
    /// The transaction it runs.
    pub envelope: TxEnvelope,
    /// The trace state at `position` (the step's agreed state).
    pub state: TraceState,
    /// The block's context (the preimage of `state.context`).
    pub context: BlockContext,
    /// The RLP of the parent header (the preimage of `context.parentHash`).
    pub parent_header: Bytes,
    /// The signer in the state at `position`; `None` if the signature does not recover.
    pub sender: Option<ProvenAccount>,
    /// The recipient after the sender's update, if the transaction is included and the
    /// recipient is not the sender.
    pub recipient: Option<ProvenAccount>,
    /// The beneficiary after the sender's and the recipient's updates, if the transaction is
    /// included and the beneficiary is neither of them.
    pub beneficiary: Option<ProvenAccount>,
    /// Whether the block rules include it.
    pub included: bool,
    /// Where it and its receipt go in the state's tries.
    pub append_proofs: AppendProofs,
}

impl TransactionStep {
    /// Whether L1 can decide the step (`OneStepVerifier` returns rather than reverting
    /// `NotProvableYet`), as the verifier decides it: the signature does not recover, or the
    /// verifier's own checks skip the transaction ([`verifier_admits`]); or, with at most
    /// [`MAX_STEP_CALLDATA`] bytes of calldata and [`MAX_STEP_ACCESS_LIST`] of access list
    /// (whose gas the verifier counts), its gas limit is below its intrinsic gas (skipped,
    /// whatever code it would run), or it is a call that runs no code: from an account without
    /// code to an account without code outside the precompiles. (The verifier skips only for
    /// reasons revm refuses too; revm refuses more, EIP-3607 for one, which the verifier leaves
    /// unprovable.)
    pub fn provable(&self) -> bool {
        let Some(sender) = &self.sender else {
            return true;
        };
        let tx = rollup_primitives::batch_tx(&self.envelope);
        if !verifier_admits(&tx, &sender.account, &self.state, &self.context) {
            return true;
        }
        if tx.calldataLength > U256::from(MAX_STEP_CALLDATA)
            || access_list_rlp(&self.envelope).len() > MAX_STEP_ACCESS_LIST
        {
            return false;
        }
        // Below its intrinsic gas revm refuses it before looking at any code: skipped.
        if U256::from(verifier_gas(&self.envelope)) > tx.gasLimit {
            return true;
        }
        let without_code = |account: &Account| !account.exists || account.codeHash == KECCAK_EMPTY;
        without_code(&sender.account)
            && !tx.isCreate
            && !is_precompile(tx.to)
            && self
                .recipient
                .as_ref()
                .is_none_or(|recipient| without_code(&recipient.account))
    }

    /// The witness of the step (`abi.encode(uint8 STEP_TRANSACTION, bytes abi.encode(
    /// TransactionWitness))`), with what L1 fixes: the inbox record's `block_table`, the
    /// batch's `first_segment` holding a transaction of the block, and `tx_proof`, the Merkle
    /// siblings of the transaction's leaf in its segment.
    pub fn witness(&self, block_table: Bytes, first_segment: u64, tx_proof: Vec<B256>) -> Bytes {
        let opened = |proven: &Option<ProvenAccount>| match proven {
            Some(proven) => (proven.account.clone(), trie_proof(&proven.proof)),
            None => (absent_account(), empty_trie_proof()),
        };
        let (sender, sender_proof) = opened(&self.sender);
        let (recipient, recipient_proof) = opened(&self.recipient);
        let (beneficiary, beneficiary_proof) = opened(&self.beneficiary);
        let witness = TransactionWitness {
            state: self.state.to_sol(),
            context: self.context.clone(),
            parentHeader: self.parent_header.clone(),
            blockTable: block_table,
            firstSegment: U256::from(first_segment),
            transaction: rollup_primitives::batch_tx(&self.envelope),
            txProof: tx_proof,
            sender,
            senderProof: sender_proof,
            recipient,
            recipientProof: recipient_proof,
            beneficiary,
            beneficiaryProof: beneficiary_proof,
            data: self.envelope.input().clone(),
            accessList: access_list_rlp(&self.envelope).into(),
            encoded: self.envelope.encoded_2718().into(),
            transactionsProof: self.append_proofs.transactions.clone(),
            receiptsProof: self.append_proofs.receipts.clone(),
        };
        (
            U256::from(STEP_TRANSACTION),
            Bytes::from(witness.abi_encode()),
        )
            .abi_encode_params()
            .into()
    }
}

/// `OneStepVerifier.MAX_STEP_CALLDATA`: the most calldata a batch transaction's step reads.
pub const MAX_STEP_CALLDATA: usize = 6144;

/// `OneStepVerifier.MAX_STEP_ACCESS_LIST`: the most bytes of RLP access list a batch
/// transaction's step reads.
pub const MAX_STEP_ACCESS_LIST: usize = 3072;

/// The RLP of `envelope`'s access list as the verifier takes it: none for a legacy transaction.
fn access_list_rlp(envelope: &TxEnvelope) -> Vec<u8> {
    match envelope.access_list() {
        Some(list) if !matches!(envelope, TxEnvelope::Legacy(_)) => alloy_rlp::encode(list),
        _ => Vec::new(),
    }
}

/// Whether `OneStepVerifier._admitted` lets batch transaction `tx` from `sender` through at
/// trace state `state` of the block with `context`: it fits the remaining gas, and none of the
/// fee, intrinsic-gas floor, nonce and balance checks it makes refuses it.
fn verifier_admits(
    tx: &BatchTx,
    sender: &Account,
    state: &TraceState,
    context: &BlockContext,
) -> bool {
    let u64_max = U256::from(u64::MAX);
    let u128_max = U256::from(u128::MAX);
    if tx.gasLimit > u64_max || tx.fee > u128_max || tx.priorityFee > u128_max {
        return false;
    }
    let transfer_gas = U256::from(TRANSFER_GAS);
    if U256::from(state.cumulative_gas) + tx.gasLimit > context.gasLimit
        || tx.gasLimit < transfer_gas
        || (tx.txType == U256::from(2) && tx.priorityFee > tx.fee)
        || tx.fee < context.baseFee
        || tx.nonce != U256::from(sender.nonce)
        || tx.nonce == u64_max
    {
        return false;
    }
    let gas_cost = tx.gasLimit * tx.fee;
    if gas_cost > u128_max || tx.value > U256::MAX - gas_cost {
        return false;
    }
    sender.balance >= gas_cost + tx.value
}

/// An absent account as the verifier opens it.
fn absent_account() -> Account {
    Account {
        exists: false,
        nonce: 0,
        balance: U256::ZERO,
        codeHash: B256::ZERO,
    }
}

/// A proof the verifier ignores.
fn empty_trie_proof() -> TrieProof {
    TrieProof {
        siblings: Vec::new(),
        terminalKey: B256::ZERO,
        terminalValueHash: B256::ZERO,
        lastSibling: Bytes::new(),
    }
}

/// An account as the state holds it (absent: `None` from the database).
fn account_of(info: Option<revm::state::AccountInfo>) -> Account {
    info.map_or_else(absent_account, |info| Account {
        exists: true,
        nonce: info.nonce,
        balance: info.balance,
        codeHash: info.code_hash,
    })
}

/// The value hash of `key` in `store` (`None`: absent).
fn leaf_value<S>(store: &S, key: B256) -> core::result::Result<Option<B256>, String>
where
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    let proof = rollup_trie::prove(store, key).map_err(|err| err.to_string())?;
    Ok(match proof.terminal {
        rollup_trie::Terminal::Leaf {
            key: leaf,
            value_hash,
        } if leaf == key => Some(value_hash),
        _ => None,
    })
}

/// The gas `OneStepVerifier._intrinsicGas` charges a call that runs no code (Prague): the
/// intrinsic gas of its calldata and access list (and, for a creation, 32,000 and 2 per word
/// of init code), or the EIP-7623 calldata floor if larger. Below it revm refuses any
/// transaction.
fn verifier_gas(envelope: &TxEnvelope) -> u128 {
    let input = envelope.input();
    let zeros = input.iter().filter(|byte| **byte == 0).count() as u128;
    let others = input.len() as u128 - zeros;
    let mut gas = u128::from(TRANSFER_GAS) + 4 * zeros + 16 * others;
    if envelope.kind().is_create() {
        gas += 32_000 + 2 * (input.len() as u128).div_ceil(32);
    }
    let floor = u128::from(TRANSFER_GAS) + 10 * (zeros + 4 * others);
    if let Some(list) = envelope.access_list() {
        let keys: usize = list.iter().map(|item| item.storage_keys.len()).sum();
        gas += 2400 * list.len() as u128 + 1900 * keys as u128;
    }
    gas.max(floor)
}

/// The sender's leaf after batch transaction `envelope` as `OneStepVerifier._applySender`
/// computes it: [`verifier_gas`] at the effective price and `value` paid, the nonce bumped,
/// `value` back if it is the recipient and the priority fee if it is the beneficiary. `None`
/// if the numbers do not work out (the verifier never gets there then).
fn verifier_sender_update(
    envelope: &TxEnvelope,
    account: &Account,
    sender: Address,
    header: &Header,
) -> Option<B256> {
    let base_fee = u128::from(header.base_fee_per_gas.unwrap_or_default());
    let price = envelope.effective_gas_price(Some(base_fee as u64));
    let gas = verifier_gas(envelope);
    let reward = U256::from(gas.checked_mul(price.checked_sub(base_fee)?)?);
    let mut balance = account
        .balance
        .checked_sub(U256::from(gas.checked_mul(price)?))?
        .checked_sub(envelope.value())?;
    if envelope.to() == Some(sender) {
        balance = balance.checked_add(envelope.value())?;
    }
    if header.beneficiary == sender {
        balance = balance.checked_add(reward)?;
    }
    let code_hash = if account.exists {
        account.codeHash
    } else {
        KECCAK_EMPTY
    };
    Some(rollup_trie::account_value_hash(
        account.nonce.checked_add(1)?,
        balance,
        code_hash,
    ))
}

/// What the L2 state gives the witness of the step at `position` of stored block `header`
/// (parent `parent_header`, `inputs`, on `db` and `trie` as [`trace_block`] takes them) when
/// the block's `position`-th input (from 1) is a batch transaction: the block re-executed up
/// to it, the signer proven against that state's root, then, if the block rules include the
/// transaction, the recipient and the beneficiary each proven against the root with the
/// accounts before it already at their values after the transaction (each account changes
/// once: what `OneStepVerifier` applies). `None` if that input is not a batch transaction.
pub fn transaction_step<DB, S>(
    db: DB,
    trie: S,
    header: &Header,
    parent_header: &Header,
    chain_id: u64,
    inputs: &[TraceInput],
    position: u64,
) -> Result<Option<TransactionStep>>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    S: NodeStore,
    S::Error: std::fmt::Display,
{
    let Some(index) = usize::try_from(position)
        .ok()
        .and_then(|p| p.checked_sub(1))
    else {
        return Ok(None);
    };
    let (envelope, sender) = match inputs.get(index) {
        Some(TraceInput::Tx(L2Transaction::Signed { envelope, sender })) => {
            (envelope.clone(), Some(*sender))
        }
        Some(TraceInput::Unrecovered(envelope)) => (envelope.clone(), None),
        _ => return Ok(None),
    };
    let mut tracer = Tracer::before(db, trie, header, chain_id, &inputs[..index])?;
    let state = tracer.current;
    let mut step = TransactionStep {
        position,
        envelope: envelope.clone(),
        state,
        context: block_context(header),
        parent_header: alloy_rlp::encode(parent_header).into(),
        sender: None,
        recipient: None,
        beneficiary: None,
        included: false,
        append_proofs: tracer.append_proofs(),
    };
    let Some(sender) = sender else {
        return Ok(Some(step));
    };
    let trie_error = |err: &dyn std::fmt::Display| db_error(header, err);
    // The accounts before the transaction, in the order the verifier changes them.
    let mut unique = vec![sender];
    for address in [envelope.to(), Some(header.beneficiary)]
        .into_iter()
        .flatten()
    {
        if !unique.contains(&address) {
            unique.push(address);
        }
    }
    let mut before = Vec::with_capacity(unique.len());
    {
        let db_state = tracer.state.as_mut().expect("no transaction is running");
        for address in &unique {
            let info = revm::Database::basic(db_state, *address).map_err(|e| trie_error(&e))?;
            before.push(account_of(info));
        }
    }
    let writes_before = tracer.overlay.writes.clone();
    let sender_proof = rollup_trie::prove(&tracer.overlay, rollup_trie::account_key(sender))
        .map_err(|e| trie_error(&e))?;
    let sender_account = tracer.account(sender, state.state_root, &sender_proof)?;
    step.sender = Some(ProvenAccount {
        address: sender,
        account: sender_account,
        proof: sender_proof,
    });
    tracer.step(index, &inputs[index])?;
    step.included = tracer.current.included > state.included;
    if !step.included {
        return Ok(Some(step));
    }
    // The values after the transaction, read from the trie the trace built; the sender's as
    // the verifier applies it (intrinsic gas only), which is the same for the calls it proves
    // and is what it checks the recipient's proof against before finding code there.
    let mut after = unique
        .iter()
        .map(|address| leaf_value(&tracer.overlay, rollup_trie::account_key(*address)))
        .collect::<core::result::Result<Vec<_>, _>>()
        .map_err(|e| trie_error(&e))?;
    if let Some(value) = verifier_sender_update(&envelope, &before[0], sender, header) {
        after[0] = Some(value);
    }
    // Replay the updates one account at a time on the state before the transaction.
    let mut current = Overlay {
        base: &tracer.overlay.base,
        writes: writes_before,
    };
    for (i, address) in unique.iter().enumerate() {
        let key = rollup_trie::account_key(*address);
        if i > 0 {
            let proof = rollup_trie::prove(&current, key).map_err(|e| trie_error(&e))?;
            let proven = ProvenAccount {
                address: *address,
                account: before[i].clone(),
                proof,
            };
            if Some(*address) == envelope.to() {
                step.recipient = Some(proven);
            } else {
                step.beneficiary = Some(proven);
            }
        }
        let update = rollup_trie::apply_updates(&current, &BTreeMap::from([(key, after[i])]))
            .map_err(|e| trie_error(&e))?;
        current.writes.extend(update.writes);
    }
    Ok(Some(step))
}
