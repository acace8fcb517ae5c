//! The L1 and the L2 of the one-step verifier's differential tests (`one_step_deposit.rs`,
//! `one_step_transaction.rs`): the real `L1Bridge`, `SegmentStore` and `OneStepVerifier` in
//! revm, what the verifier answers and the gas it takes, and the node's store as the L2. Each
//! test deploys what else its steps read (the transaction steps a real `BatchInbox`) and adds
//! its own calls.

// Each test target compiles this module and uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use alloy_sol_types::{SolCall, SolError, SolType, SolValue, sol};
use rollup_execution::{
    BlockTrace, SPEC_ID, TraceInput, TraceState,
    revm::{
        Context, InspectCommitEvm, Inspector, MainBuilder, MainContext,
        context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
        database::{CacheDB, EmptyDB},
        interpreter::{CallInputs, CallOutcome},
        state::AccountInfo,
    },
    trace_block,
};
use rollup_primitives::{
    L1Block, L1Receipt, L1Transaction, L2Transaction, RollupConfig, artifacts,
    bindings::{
        IL1Bridge,
        IOneStepVerifier::{self, StepContext},
    },
};
use rollup_storage::Store;

sol! {
    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external view returns (bool);
}

pub(crate) const L1_CHAIN_ID: u64 = 31_337;
pub(crate) const L2_CHAIN_ID: u64 = 42_069;
/// The L1 block whose bridge messages the tested epoch deposits.
pub(crate) const ORIGIN: u64 = 100;
pub(crate) const DEPLOYER: Address = address!("0x00000000000000000000000000000000de910e11");
/// An L1 depositor (an EOA, so its L2 identity is itself); the sender every L1 transaction
/// derivation sees names.
pub(crate) const DEPOSITOR: Address = address!("0x00000000000000000000000000000000a11ce000");
/// The bridge's `stateManager` (never called by these tests).
pub(crate) const STATE_MANAGER: Address = address!("0x0000000000000000000000000000000005fa7e00");
/// A funded account in the L2 genesis, without a key.
pub(crate) const EXISTING: Address = address!("0x00000000000000000000000000000000e1157100");
/// An L2 account in the genesis holding [`CONTRACT_CODE`].
pub(crate) const CONTRACT: Address = address!("0x00000000000000000000000000000000c0de0000");
/// CALLVALUE PUSH0 SSTORE STOP: stores what it is sent in slot 0.
pub(crate) const CONTRACT_CODE: &[u8] = &[0x34, 0x5f, 0x55, 0x00];
pub(crate) const ETHER: u128 = 1_000_000_000_000_000_000;
/// Gas of every L1 call, far above what any needs.
pub(crate) const L1_GAS: u64 = 30_000_000;
/// The most gas a step's verification may take.
pub(crate) const GAS_BOUND: u64 = 1_000_000;
/// `OneStepVerifier.STEP_INPUT`.
pub(crate) const STEP_INPUT: u8 = 3;

pub(crate) fn l1_timestamp(number: u64) -> u64 {
    1_700_000_000 + 12 * number
}

/// The hash of L1 block `number` where nothing on L1 checks it (any non-zero value).
pub(crate) fn origin_hash(number: u64) -> B256 {
    B256::from(U256::from(number) | (U256::from(0xa1) << 248))
}

/// The header of L1 block `number`, child of `parent_hash`.
pub(crate) fn l1_header(number: u64, parent_hash: B256) -> Header {
    Header {
        parent_hash,
        number,
        timestamp: l1_timestamp(number),
        gas_limit: L1_GAS,
        mix_hash: B256::with_last_byte(7),
        base_fee_per_gas: Some(1),
        ..Default::default()
    }
}

/// The witness `StepContext` carries: `abi.encode(kind, body)`.
pub(crate) fn step_witness(kind: u8, body: Vec<u8>) -> Bytes {
    (U256::from(kind), Bytes::from(body))
        .abi_encode_params()
        .into()
}

/// The body of a witness of `kind`, decoded.
pub(crate) fn decode_step_witness<T: SolType<RustType = T>>(kind: u8, witness: &Bytes) -> T {
    let (witness_kind, body) = <(U256, Bytes)>::abi_decode_params(witness).unwrap();
    assert_eq!(witness_kind, U256::from(kind));
    T::abi_decode(&body).unwrap()
}

/// Claims of trace state `next` with one field tampered with: the state root, the cumulative
/// gas, the transactions trie root.
pub(crate) fn tampered_claims(next: TraceState) -> [B256; 3] {
    [
        TraceState {
            state_root: B256::repeat_byte(1),
            ..next
        }
        .hash(),
        TraceState {
            cumulative_gas: next.cumulative_gas + 1,
            ..next
        }
        .hash(),
        TraceState {
            tx_root: B256::repeat_byte(2),
            ..next
        }
        .hash(),
    ]
}

// ------------------------------------------------------------------------------------------
// L1: the bridge, the segment store and the verifier in revm.

/// Records the gas the outermost call frame spent: the callee's own execution, without the
/// transaction's intrinsic and calldata gas.
#[derive(Default)]
struct FrameGas {
    depth: usize,
    spent: u64,
}

impl<CTX> Inspector<CTX> for FrameGas {
    fn call(&mut self, _: &mut CTX, _: &mut CallInputs) -> Option<CallOutcome> {
        self.depth += 1;
        None
    }

    fn call_end(&mut self, _: &mut CTX, _: &CallInputs, outcome: &mut CallOutcome) {
        self.depth -= 1;
        if self.depth == 0 {
            self.spent = outcome.result.gas.total_gas_spent();
        }
    }
}

/// What the verifier said.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `verify` returned.
    Returned(bool),
    /// It reverted `NotProvableYet(l2Block, position)`.
    NotProvableYet(u64, u64),
    /// It reverted `OneStepVerifier_BadWitness`.
    BadWitness,
    /// It reverted with something else (a trie proof error, another verifier error, ...).
    Reverted(Bytes),
}

/// The revert of `error`, as `Verdict::Reverted`.
pub(crate) fn reverted(error: impl SolError) -> Verdict {
    Verdict::Reverted(error.abi_encode().into())
}

/// Gas of one L1 call.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallGas {
    /// The callee's own execution (the call frame).
    pub(crate) execution: u64,
    /// The whole transaction, calldata and intrinsic gas included.
    pub(crate) transaction: u64,
}

pub(crate) struct L1 {
    pub(crate) db: CacheDB<EmptyDB>,
    /// The L1 block the next calls run in.
    pub(crate) number: u64,
    pub(crate) bridge: Address,
    /// The inbox the segment store reads.
    pub(crate) inbox: Address,
    pub(crate) segment_store: Address,
    pub(crate) verifier: Address,
    /// The receipts of every L1 block, in order.
    pub(crate) receipts: BTreeMap<u64, Vec<L1Receipt>>,
}

impl L1 {
    /// An L1 at block `number` in which `funded` hold ample ETH, with the bridge (the bare
    /// implementation: it needs no initializer).
    pub(crate) fn with_bridge(number: u64, funded: &[Address]) -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        for &who in funded {
            db.insert_account_info(
                who,
                AccountInfo {
                    balance: U256::MAX >> 1,
                    ..Default::default()
                },
            );
        }
        let mut l1 = Self {
            db,
            number,
            bridge: Address::ZERO,
            inbox: Address::ZERO,
            segment_store: Address::ZERO,
            verifier: Address::ZERO,
            receipts: BTreeMap::new(),
        };
        let mut code = artifacts::L1_BRIDGE.bytecode.to_vec();
        code.extend((STATE_MANAGER, U256::from(L2_CHAIN_ID), U256::ZERO).abi_encode_params());
        l1.bridge = l1.create(code);
        l1
    }

    /// Deploys the segment store reading `inbox`, and the verifier reading the bridge and it.
    pub(crate) fn deploy_verifier(&mut self, inbox: Address) {
        self.inbox = inbox;
        let mut code = artifacts::SEGMENT_STORE.bytecode.to_vec();
        code.extend((inbox, U256::from(L2_CHAIN_ID)).abi_encode_params());
        self.segment_store = self.create(code);
        let mut code = artifacts::ONE_STEP_VERIFIER.bytecode.to_vec();
        code.extend((self.bridge, self.segment_store).abi_encode_params());
        self.verifier = self.create(code);
    }

    pub(crate) fn exec(
        &mut self,
        caller: Address,
        kind: TxKind,
        value: U256,
        data: Vec<u8>,
    ) -> (ExecutionResult, CallGas) {
        self.exec_with_blobs(caller, kind, value, data, Vec::new())
    }

    /// `exec` of a transaction carrying blobs with `blob_hashes` (EIP-4844; none: not a blob
    /// transaction).
    pub(crate) fn exec_with_blobs(
        &mut self,
        caller: Address,
        kind: TxKind,
        value: U256,
        data: Vec<u8>,
        blob_hashes: Vec<B256>,
    ) -> (ExecutionResult, CallGas) {
        let mut cfg = CfgEnv::new_with_spec(SPEC_ID);
        cfg.chain_id = L1_CHAIN_ID;
        cfg.disable_nonce_check = true;
        cfg.disable_base_fee = true;
        let block = BlockEnv {
            number: U256::from(self.number),
            timestamp: U256::from(l1_timestamp(self.number)),
            gas_limit: L1_GAS,
            ..Default::default()
        };
        let mut evm = Context::mainnet()
            .with_db(&mut self.db)
            .with_cfg(cfg)
            .with_block(block)
            .build_mainnet_with_inspector(FrameGas::default());
        let tx = TxEnv {
            caller,
            kind,
            value,
            data: data.into(),
            gas_limit: L1_GAS,
            gas_price: 0,
            chain_id: Some(L1_CHAIN_ID),
            tx_type: if blob_hashes.is_empty() { 0 } else { 3 },
            max_fee_per_blob_gas: u128::from(!blob_hashes.is_empty()),
            blob_hashes,
            ..Default::default()
        };
        let result = evm
            .inspect_tx_commit(tx)
            .expect("revm accepts the L1 transaction");
        let gas = CallGas {
            execution: evm.inspector.spent,
            transaction: result.tx_gas_used(),
        };
        (result, gas)
    }

    pub(crate) fn create(&mut self, code: Vec<u8>) -> Address {
        let (result, _) = self.exec(DEPLOYER, TxKind::Create, U256::ZERO, code);
        result
            .created_address()
            .unwrap_or_else(|| panic!("deployment failed: {result:?}"))
    }

    /// A call that must succeed: its output and gas.
    pub(crate) fn call(&mut self, caller: Address, to: Address, data: Vec<u8>) -> (Bytes, CallGas) {
        let (result, gas) = self.exec(caller, TxKind::Call(to), U256::ZERO, data);
        match result {
            ExecutionResult::Success { output, .. } => (output.into_data(), gas),
            other => panic!("L1 call to {to} failed: {other:?}"),
        }
    }

    /// `call` to `to` by `DEPLOYER`, which must succeed: what it returns.
    pub(crate) fn view<C: SolCall>(&mut self, to: Address, call: C) -> C::Return {
        let (out, _) = self.call(DEPLOYER, to, call.abi_encode());
        C::abi_decode_returns(&out).unwrap()
    }

    /// Moves to L1 block `number`.
    pub(crate) fn at(&mut self, number: u64) {
        assert!(number >= self.number);
        self.number = number;
    }

    /// An ETH deposit of `amount` from `depositor` to `to` on L2 (`deposit()`, crediting the
    /// depositor itself, when `to` is `None`).
    pub(crate) fn deposit(
        &mut self,
        depositor: Address,
        to: Option<Address>,
        amount: U256,
        gas_limit: u32,
    ) {
        let data = match to {
            Some(to) => IL1Bridge::depositToCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount,
                gasLimit: gas_limit,
                to,
            }
            .abi_encode(),
            None => IL1Bridge::depositCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount,
                gasLimit: gas_limit,
            }
            .abi_encode(),
        };
        let (result, _) = self.exec(depositor, TxKind::Call(self.bridge), amount, data);
        assert!(result.is_success(), "the deposit failed on L1: {result:?}");
        self.receipts
            .entry(self.number)
            .or_default()
            .push(L1Receipt {
                success: true,
                logs: result.into_logs(),
            });
    }

    /// The L1 block of `header`, told to derivation with hash `hash`, holding the deposits made
    /// in it.
    pub(crate) fn block(&self, header: &Header, hash: B256) -> L1Block {
        let receipts = self
            .receipts
            .get(&header.number)
            .cloned()
            .unwrap_or_default();
        L1Block {
            number: header.number,
            hash,
            parent_hash: header.parent_hash,
            timestamp: header.timestamp,
            mix_hash: header.mix_hash,
            base_fee_per_gas: header.base_fee_per_gas,
            transactions: receipts
                .iter()
                .map(|_| L1Transaction {
                    hash: B256::ZERO,
                    from: DEPOSITOR,
                    to: Some(self.bridge),
                    input: Bytes::new(),
                    blob_versioned_hashes: Vec::new(),
                    blobs: Vec::new(),
                })
                .collect(),
            receipts,
        }
    }

    /// `OneStepVerifier.verify(from, to, abi.encode(StepContext))`, with the current L1 block
    /// as the horizon.
    pub(crate) fn verify(
        &mut self,
        l2_block: u64,
        position: u64,
        from: B256,
        to: B256,
        witness: Bytes,
    ) -> (Verdict, CallGas) {
        let context = StepContext {
            l2Block: U256::from(l2_block),
            position: U256::from(position),
            horizonL1Block: U256::from(self.number),
            witness,
        };
        let call = verifyCall {
            fromState: from,
            toState: to,
            proof: context.abi_encode().into(),
        };
        let (result, gas) = self.exec(
            DEPLOYER,
            TxKind::Call(self.verifier),
            U256::ZERO,
            call.abi_encode(),
        );
        let verdict = match result {
            ExecutionResult::Success { output, .. } => {
                Verdict::Returned(verifyCall::abi_decode_returns(output.data()).unwrap())
            }
            ExecutionResult::Revert { output, .. } => {
                if let Ok(err) = IOneStepVerifier::NotProvableYet::abi_decode(&output) {
                    Verdict::NotProvableYet(err.l2Block.to(), err.position.to())
                } else if IOneStepVerifier::OneStepVerifier_BadWitness::abi_decode(&output).is_ok()
                {
                    Verdict::BadWitness
                } else {
                    Verdict::Reverted(output)
                }
            }
            ExecutionResult::Halt { reason, .. } => panic!("the verifier halted: {reason:?}"),
        };
        (verdict, gas)
    }

    /// `verify` of the step at `position` of `l2_block` from the node's claim there to its
    /// next one, as `trace` has them.
    pub(crate) fn verify_trace_step(
        &mut self,
        trace: &BlockTrace,
        l2_block: u64,
        position: u64,
        witness: Bytes,
    ) -> (Verdict, CallGas) {
        self.verify(
            l2_block,
            position,
            trace.claim(position),
            trace.claim(position + 1),
            witness,
        )
    }

    /// Asserts that `verify` with `witness` refuses the step at `position` of `l2_block` from
    /// `from` to every claim of `wrong`.
    pub(crate) fn assert_refused(
        &mut self,
        l2_block: u64,
        position: u64,
        from: B256,
        wrong: impl IntoIterator<Item = B256>,
        witness: &Bytes,
    ) {
        for to in wrong {
            let (verdict, _) = self.verify(l2_block, position, from, to, witness.clone());
            assert_eq!(
                verdict,
                Verdict::Returned(false),
                "block {l2_block} position {position}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// L2: the node's storage and trace.

pub(crate) struct L2 {
    _dir: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) config: RollupConfig,
}

impl L2 {
    /// A store in a fresh directory, holding `config`'s genesis.
    pub(crate) fn new(config: RollupConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&config).unwrap();
        Self {
            _dir: dir,
            store,
            config,
        }
    }

    pub(crate) fn header(&self, number: u64) -> Header {
        self.store
            .reader()
            .unwrap()
            .header(number)
            .unwrap()
            .unwrap()
    }

    pub(crate) fn body(&self, number: u64) -> Vec<L2Transaction> {
        self.store.reader().unwrap().body(number).unwrap().unwrap()
    }

    pub(crate) fn head(&self) -> u64 {
        self.store.reader().unwrap().l2_head().unwrap().unwrap()
    }

    /// The trace of stored block `number` over `inputs` (its two ends are placeholders: no
    /// step these tests prove reaches them).
    pub(crate) fn trace_with(&self, number: u64, inputs: &[TraceInput]) -> BlockTrace {
        let reader = self.store.reader().unwrap();
        trace_block(
            &reader.state_at(number - 1).unwrap(),
            reader.trie_at(number - 1).unwrap(),
            &self.header(number),
            L2_CHAIN_ID,
            inputs,
            B256::repeat_byte(0xa0),
            B256::repeat_byte(0xb0),
        )
        .unwrap()
    }

    /// [`Self::trace_with`] stopped at `deadline`.
    #[allow(dead_code, reason = "not every test binary traces with a deadline")]
    pub(crate) fn trace_until(
        &self,
        number: u64,
        inputs: &[TraceInput],
        deadline: std::time::Instant,
    ) -> rollup_execution::Result<BlockTrace> {
        let reader = self.store.reader().unwrap();
        rollup_execution::trace_block_until(
            &reader.state_at(number - 1).unwrap(),
            reader.trie_at(number - 1).unwrap(),
            &self.header(number),
            L2_CHAIN_ID,
            inputs,
            (B256::repeat_byte(0xa0), B256::repeat_byte(0xb0)),
            Some(deadline),
        )
    }
}
