//! Differential tests of the deposit step of the L1 one-step verifier
//! (`contracts/src/dispute/OneStepVerifier.sol`, witness kind `STEP_DEPOSIT`) against the node.
//!
//! The real `L1Bridge` and `OneStepVerifier` run in revm as an L1. ETH deposits made there are
//! derived into L2 deposit transactions by the node's own derivation (`rollup_derive`),
//! executed into L2 blocks (`execute_block`), stored (`rollup_storage`) and traced
//! (`trace_block`); each deposit step's witness is built by `deposit_step` and
//! `deposit_chain_witness`, exactly as the dispute agent builds it. The verifier must accept
//! the node's next trace state and refuse any other, and refuse to prove (`NotProvableYet`)
//! every step it does not cover.

mod support;

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::SolValue;
use proptest::{prelude::*, test_runner::TestRunner};
use rollup_derive::{bridge_message, derive_deposits};
use rollup_execution::{
    BlockInput, BlockTrace, DepositStep, STEP_DEPOSIT, TraceInput, block_context, cut_at_mark,
    deposit_chain_mark, deposit_chain_witness, deposit_step, execute_block,
};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L1Block, L2Genesis, L2Transaction,
    RollupConfig,
    bindings::{
        IL1Bridge,
        IOneStepVerifier::{self, ChainMessage, DepositWitness},
    },
};
use support::{
    CONTRACT, CONTRACT_CODE, CallGas, DEPLOYER, DEPOSITOR, ETHER, EXISTING, GAS_BOUND, L1,
    L1_CHAIN_ID, L2, L2_CHAIN_ID, ORIGIN, STATE_MANAGER, STEP_INPUT, Verdict, decode_step_witness,
    l1_header, origin_hash, reverted, step_witness, tampered_claims,
};

/// The `SegmentStore`'s inbox: no contract (deposit steps never read it; the transaction
/// steps' tests in `one_step_transaction.rs` run a real `BatchInbox`).
const NO_INBOX: Address = address!("0x00000000000000000000000000000000000001b0");
/// L1 depositors (EOAs, so their L2 identity is themselves).
const ALICE: Address = DEPOSITOR;
const BOB: Address = address!("0x00000000000000000000000000000000000b0b00");

// ------------------------------------------------------------------------------------------
// L1: the bridge and the verifier in revm.

/// An L1 at block `ORIGIN - 3` with the bridge and the verifier reading it.
fn l1() -> L1 {
    let mut l1 = L1::with_bridge(ORIGIN - 3, &[DEPLOYER, ALICE, BOB]);
    // Deposit steps never read the inbox: the segment store names one that is not there.
    l1.deploy_verifier(NO_INBOX);
    l1
}

impl L1 {
    /// `depositChainMark(nonce)`.
    fn deposit_chain_mark(&mut self, nonce: u64) -> B256 {
        self.view(
            self.bridge,
            IL1Bridge::depositChainMarkCall {
                nonce: U256::from(nonce),
            },
        )
    }

    /// `depositChainAt(block)`.
    fn deposit_chain_at(&mut self, block: u64) -> (u64, B256) {
        let chain = self.view(
            self.bridge,
            IL1Bridge::depositChainAtCall {
                l1Block: U256::from(block),
            },
        );
        (chain.count.to(), chain.chain)
    }

    /// L1 block `number` as derivation sees it.
    fn block_at(&self, number: u64) -> L1Block {
        self.block(
            &l1_header(number, origin_hash(number - 1)),
            origin_hash(number),
        )
    }

    /// The bridge messages of L1 block `number`, in log order, decoded by the node.
    fn messages(&self, number: u64) -> Vec<ChainMessage> {
        self.block_at(number)
            .successful_logs()
            .filter_map(|(_, log)| bridge_message(self.bridge, log))
            .collect()
    }
}

// ------------------------------------------------------------------------------------------
// L2: the node's derivation, execution, storage and trace.

/// A genesis with origin `ORIGIN - 2`, `EXISTING` funded and `CONTRACT` holding code.
fn l2(l1_bridge: Address) -> L2 {
    let alloc = BTreeMap::from([
        (
            EXISTING,
            GenesisAccount {
                balance: U256::from(3 * ETHER),
                nonce: 4,
                code: None,
                storage: Default::default(),
            },
        ),
        (
            CONTRACT,
            GenesisAccount {
                balance: U256::ZERO,
                nonce: 1,
                code: Some(Bytes::from_static(CONTRACT_CODE)),
                storage: Default::default(),
            },
        ),
    ]);
    L2::new(RollupConfig {
        l1_chain_id: L1_CHAIN_ID,
        l2_chain_id: L2_CHAIN_ID,
        contracts: ContractAddresses {
            l1_bridge,
            batch_inbox: Address::repeat_byte(2),
            state_manager: STATE_MANAGER,
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash {
                number: ORIGIN - 2,
                hash: origin_hash(ORIGIN - 2),
            },
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc,
        },
        sequencing_window: 10,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(0x19),
    })
}

impl L2 {
    /// Executes and stores the next block, with L1 origin `origin` and `transactions`.
    fn append(&self, origin: u64, transactions: Vec<L2Transaction>) -> u64 {
        let reader = self.store.reader().unwrap();
        let head = reader.l2_head().unwrap().unwrap();
        let parent = reader.header(head).unwrap().unwrap();
        let parent_hash = reader.block_hash(head).unwrap().unwrap();
        drop(reader);
        let mut writer = self.store.writer().unwrap();
        let count = transactions.len();
        let mut executed = execute_block(
            writer.state(),
            BlockInput {
                timestamp: parent.timestamp + 2,
                parent,
                parent_hash,
                l1_origin: BlockNumHash {
                    number: origin,
                    hash: origin_hash(origin),
                },
                prevrandao: B256::with_last_byte(7),
                beneficiary: Address::repeat_byte(0xfe),
                gas_limit: self.config.genesis.gas_limit,
                chain_id: L2_CHAIN_ID,
                transactions,
            },
        )
        .unwrap();
        assert_eq!(
            executed.block.transactions.len(),
            count,
            "every deposit is included"
        );
        writer
            .append_block(&mut executed.block, &executed.receipts, &executed.bundle)
            .unwrap();
        writer.commit().unwrap();
        head + 1
    }

    /// Derives L1 block `number`'s deposits and executes them as the next block, which starts
    /// that epoch.
    fn append_epoch(&self, l1: &L1, number: u64) -> u64 {
        let derived = derive_deposits(&self.config, &l1.block_at(number));
        assert!(derived.skipped.is_empty(), "{:?}", derived.skipped);
        self.append(
            number,
            derived
                .deposits
                .into_iter()
                .map(L2Transaction::Deposit)
                .collect(),
        )
    }

    /// The trace of stored block `number`.
    fn trace(&self, number: u64) -> BlockTrace {
        self.trace_with(number, &TraceInput::stored(&self.body(number)))
    }

    fn deposit_step(&self, number: u64, position: u64) -> Option<DepositStep> {
        let reader = self.store.reader().unwrap();
        deposit_step(
            &reader.state_at(number - 1).unwrap(),
            reader.trie_at(number - 1).unwrap(),
            &self.header(number),
            &self.header(number - 1),
            L2_CHAIN_ID,
            &TraceInput::stored(&self.body(number)),
            position,
        )
        .unwrap()
    }
}

// ------------------------------------------------------------------------------------------
// Scenarios.

/// One ETH deposit made on L1.
#[derive(Debug, Clone)]
struct Deposit {
    depositor: Address,
    /// `None`: to the depositor itself (`deposit()`).
    to: Option<Address>,
    amount: U256,
    gas_limit: u32,
}

fn eth(depositor: Address, to: Option<Address>, amount: u128) -> Deposit {
    Deposit {
        depositor,
        to,
        amount: U256::from(amount),
        gas_limit: 21_000,
    }
}

/// An L1 with `earlier` deposited at `ORIGIN - 1` and `at_origin` at `ORIGIN` (and one more
/// message at `ORIGIN + 1`), and an L2 whose block 1 starts epoch `ORIGIN - 1`, block 2 epoch
/// `ORIGIN` and block 3 continues it.
struct Scenario {
    l1: L1,
    l2: L2,
}

impl Scenario {
    fn new(earlier: &[Deposit], at_origin: &[Deposit]) -> Self {
        let mut l1 = l1();
        for (number, deposits) in [(ORIGIN - 1, earlier), (ORIGIN, at_origin)] {
            l1.at(number);
            for d in deposits {
                l1.deposit(d.depositor, d.to, d.amount, d.gas_limit);
            }
        }
        // A later message must not disturb the checkpoints of earlier blocks.
        l1.at(ORIGIN + 1);
        l1.deposit(BOB, None, U256::from(1), 21_000);
        let l2 = l2(l1.bridge);
        assert_eq!(l2.append_epoch(&l1, ORIGIN - 1), 1);
        assert_eq!(l2.append_epoch(&l1, ORIGIN), 2);
        assert_eq!(l2.append(ORIGIN, Vec::new()), 3);
        Self { l1, l2 }
    }

    /// The witness of the deposit step at `position` of `block`, built as the dispute agent
    /// builds it, and the step.
    fn witness(&mut self, block: u64, position: u64) -> (DepositStep, Bytes) {
        let step = self
            .l2
            .deposit_step(block, position)
            .expect("the position runs a deposit");
        let origin: u64 = step.context.l1OriginNumber.to();
        let messages = self.l1.messages(origin);
        let (count_before, chain_at_parent) = self.l1.deposit_chain_at(origin - 1);
        let (count_after, checkpoint) = self.l1.deposit_chain_at(origin);
        assert_eq!(count_after - count_before, messages.len() as u64);
        let (chain_before, later, chain_after) =
            deposit_chain_witness(chain_at_parent, &messages, position as usize - 1).unwrap();
        assert_eq!(
            chain_after, checkpoint,
            "the messages fold to the bridge's checkpoint"
        );
        let message = messages[position as usize - 1].clone();
        // Inside the block, the witness folds only to the chain's next mark.
        let later = match deposit_chain_mark(message.nonce.to(), count_after) {
            Some(mark_nonce) => {
                let mark = self.l1.deposit_chain_mark(mark_nonce);
                assert!(!mark.is_zero(), "the bridge keeps mark {mark_nonce}");
                cut_at_mark(chain_before, &message, &later, mark_nonce, mark)
                    .expect("the messages fold to the bridge's mark")
            }
            None => later,
        };
        let witness = step
            .witness(message, chain_before, later)
            .expect("the message is the block's deposit");
        (step, witness)
    }

    /// Proves every deposit of `block`: the verifier accepts the node's next state and no
    /// other. Returns the gas of the costliest accepted proof.
    fn prove_all(&mut self, block: u64) -> CallGas {
        let trace = self.l2.trace(block);
        let deposits = self.l2.body(block).len() as u64;
        let mut worst = CallGas::default();
        for position in 1..=deposits {
            let (step, witness) = self.witness(block, position);
            assert!(step.provable(), "position {position} of block {block}");
            assert_eq!(Some(&step.state), trace.state(position));
            let from = trace.claim(position);
            let (verdict, gas) =
                self.l1
                    .verify_trace_step(&trace, block, position, witness.clone());
            assert_eq!(
                verdict,
                Verdict::Returned(true),
                "deposit {position} of block {block}: {step:#?}"
            );
            if gas.execution > worst.execution {
                worst = gas;
            }
            // Any other claim is refused: a later one, the same state, a tampered one.
            let next = trace.state(position + 1).copied().unwrap();
            let wrong = [trace.claim(position + 2), from]
                .into_iter()
                .chain(tampered_claims(next));
            self.l1
                .assert_refused(block, position, from, wrong, &witness);
        }
        worst
    }

    /// A deposit witness of the step at `position` of `block` that opens the trace state there
    /// with `message` (for positions that run no deposit).
    fn raw_witness(&mut self, block: u64, position: u64, message: ChainMessage) -> Bytes {
        let trace = self.l2.trace(block);
        let state = trace.state(position).unwrap();
        let empty = rollup_primitives::bindings::TrieProof {
            siblings: Vec::new(),
            terminalKey: B256::ZERO,
            terminalValueHash: B256::ZERO,
            lastSibling: Bytes::new(),
        };
        let account = IOneStepVerifier::Account {
            exists: false,
            nonce: 0,
            balance: U256::ZERO,
            codeHash: B256::ZERO,
        };
        let witness = DepositWitness {
            state: state.to_sol(),
            context: block_context(&self.l2.header(block)),
            parentHeader: alloy_rlp::encode(self.l2.header(block - 1)).into(),
            message,
            chainBefore: B256::ZERO,
            laterHashes: Vec::new(),
            from: account.clone(),
            fromProof: empty.clone(),
            to: account,
            toProof: empty,
            transactionsProof: Vec::new(),
            receiptsProof: Vec::new(),
        };
        step_witness(STEP_DEPOSIT, witness.abi_encode())
    }
}

/// Several deposits in each of two L1 blocks: to a fresh account, to an existing one, to the
/// depositor itself, to an account an earlier deposit of the block created, and from a
/// depositor whose nonce earlier deposits bumped.
fn mixed() -> (Vec<Deposit>, Vec<Deposit>) {
    let fresh = Address::repeat_byte(0x51);
    let earlier = vec![
        eth(ALICE, Some(Address::repeat_byte(0x50)), ETHER),
        eth(BOB, Some(EXISTING), 2),
    ];
    let at_origin = vec![
        eth(ALICE, Some(fresh), 5 * ETHER),
        eth(BOB, None, 7),
        Deposit {
            gas_limit: 100_000,
            ..eth(ALICE, Some(EXISTING), 123_456_789)
        },
        eth(BOB, Some(fresh), u128::from(u64::MAX)),
        eth(ALICE, None, 1),
    ];
    (earlier, at_origin)
}

#[test]
fn every_eth_deposit_is_proven_as_the_node_runs_it() {
    let (earlier, at_origin) = mixed();
    let mut s = Scenario::new(&earlier, &at_origin);
    s.prove_all(1);
    let gas = s.prove_all(2);
    println!("deposit step, five messages in the L1 block: {gas:?}");
    assert!(gas.execution < GAS_BOUND);
}

/// A trace for an untrusted request stops at its deadline (`rollup_getTraceClaim` runs one
/// per request, every transaction and a trie root after each), and one within it is the
/// trace without a deadline.
#[test]
fn a_trace_stops_at_its_deadline() {
    let (earlier, at_origin) = mixed();
    let s = Scenario::new(&earlier, &at_origin);
    let inputs = TraceInput::stored(&s.l2.body(2));
    let past = std::time::Instant::now();
    assert!(matches!(
        s.l2.trace_until(2, &inputs, past),
        Err(rollup_execution::ExecutionError::CallTimedOut)
    ));
    let later = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let (bounded, unbounded) = (s.l2.trace_until(2, &inputs, later).unwrap(), s.l2.trace(2));
    assert_eq!(bounded.seal_position(), unbounded.seal_position());
    for position in 0..=unbounded.seal_position() {
        assert_eq!(bounded.claim(position), unbounded.claim(position));
    }
}

#[test]
fn deposits_that_run_code_are_not_provable() {
    let precompile = Address::with_last_byte(0x04);
    let last_precompile = Address::with_last_byte(0x11);
    let at_origin = vec![
        eth(ALICE, Some(Address::repeat_byte(0x52)), 10),
        // The contract's code runs and writes its storage.
        Deposit {
            gas_limit: 100_000,
            ..eth(ALICE, Some(CONTRACT), 20)
        },
        eth(BOB, Some(precompile), 30),
        eth(BOB, Some(last_precompile), 40),
        eth(ALICE, Some(Address::with_last_byte(0x12)), 50),
        // Out of gas in the contract: the call fails, the mint stays with BOB.
        eth(BOB, Some(CONTRACT), 60),
        eth(BOB, Some(Address::repeat_byte(0x52)), 70),
    ];
    let mut s = Scenario::new(&[], &at_origin);
    let receipts = s.l2.store.reader().unwrap().receipts(2).unwrap().unwrap();
    let outcomes: Vec<bool> = receipts.iter().map(|r| r.success).collect();
    // A precompile called with no gas beyond the intrinsic fails too.
    assert_eq!(outcomes, [true, true, false, false, true, false, true]);
    let trace = s.l2.trace(2);
    let cases = [
        (1, true),
        (2, false),
        (3, false),
        (4, false),
        (5, true),
        (6, false),
        (7, true),
    ];
    for (position, provable) in cases {
        let (step, witness) = s.witness(2, position);
        assert_eq!(step.provable(), provable, "position {position}");
        let (verdict, _) = s.l1.verify_trace_step(&trace, 2, position, witness);
        let expected = if provable {
            Verdict::Returned(true)
        } else {
            Verdict::NotProvableYet(2, position)
        };
        assert_eq!(verdict, expected, "position {position}");
    }
}

/// A deposit witness at a position that runs no deposit is refused (`BadWitness`), never
/// passed off as unprovable: that position's own witness decides it.
#[test]
fn positions_that_run_no_deposit_refuse_a_deposit_witness() {
    let (earlier, at_origin) = mixed();
    let mut s = Scenario::new(&earlier, &at_origin);
    let last = s.l1.messages(ORIGIN).pop().unwrap();
    // Past the epoch's deposits: the position after the last one (the seal's state).
    let deposits = at_origin.len() as u64;
    let trace = s.l2.trace(2);
    let position = deposits + 1;
    assert!(s.l2.deposit_step(2, position).is_none());
    let witness = s.raw_witness(2, position, last.clone());
    let (verdict, _) = s.l1.verify_trace_step(&trace, 2, position, witness);
    assert_eq!(verdict, Verdict::BadWitness);
    // A block that starts no epoch carries no deposits.
    let trace = s.l2.trace(3);
    assert!(s.l2.deposit_step(3, 1).is_none());
    let witness = s.raw_witness(3, 1, last);
    let (verdict, _) = s.l1.verify_trace_step(&trace, 3, 1, witness);
    assert_eq!(verdict, Verdict::BadWitness);
}

/// The `STEP_INPUT` witness is refused at a deposit's position: only the deposit witness
/// decides a deposit. (Positions past the deposits read the inbox's block table:
/// `one_step_transaction.rs` runs them against a real `BatchInbox`.)
#[test]
fn an_input_witness_cannot_stand_for_a_deposit() {
    let (earlier, at_origin) = mixed();
    let mut s = Scenario::new(&earlier, &at_origin);
    let deposits = at_origin.len() as u64;
    for (block, position) in [(2, 1), (2, deposits)] {
        let trace = s.l2.trace(block);
        let state = trace.state(position).expect("a trace state");
        let witness = rollup_execution::input_witness(
            &s.l2.header(block),
            &s.l2.header(block - 1),
            state,
            Bytes::new(),
            0,
        );
        let witness = step_witness(STEP_INPUT, witness);
        let (verdict, _) = s.l1.verify_trace_step(&trace, block, position, witness);
        let expected = reverted(IOneStepVerifier::OneStepVerifier_DepositStep {
            l2Block: U256::from(block),
            position: U256::from(position),
        });
        assert_eq!(verdict, expected, "block {block} position {position}");
    }
}

#[test]
fn a_witness_that_misstates_the_chain_or_the_accounts_is_refused() {
    let (earlier, at_origin) = mixed();
    let mut s = Scenario::new(&earlier, &at_origin);
    let trace = s.l2.trace(2);
    let position = 3;
    let (from, to) = (trace.claim(position), trace.claim(position + 1));
    let (step, witness) = s.witness(2, position);
    let encode = |w: DepositWitness| step_witness(STEP_DEPOSIT, w.abi_encode());
    let honest: DepositWitness = decode_step_witness(STEP_DEPOSIT, &witness);
    let mut lies: Vec<(&str, DepositWitness)> = Vec::new();
    let mut w = honest.clone();
    w.chainBefore = B256::repeat_byte(3);
    lies.push(("chain before", w));
    let mut w = honest.clone();
    w.laterHashes.pop();
    lies.push(("later hashes", w));
    let mut w = honest.clone();
    w.message.amount += U256::from(1);
    lies.push(("amount", w));
    let mut w = honest.clone();
    w.message.nonce += U256::from(1);
    lies.push(("nonce", w));
    let mut w = honest.clone();
    w.context.timestamp += U256::from(1);
    lies.push(("context", w));
    let mut w = honest.clone();
    w.parentHeader = Bytes::from_static(&[0xc0]);
    lies.push(("parent header", w));
    let mut w = honest.clone();
    w.state.cumulativeGas += U256::from(1);
    lies.push(("state", w));
    for (what, w) in lies {
        let (verdict, _) = s.l1.verify(2, position, from, to, encode(w));
        assert_eq!(verdict, Verdict::BadWitness, "{what}");
    }
    // Accounts that are not the trie's fail their proofs (whatever the error).
    let mut w = honest.clone();
    w.from.balance += U256::from(1);
    let mut v = honest.clone();
    v.to.nonce += 1;
    let mut u = honest;
    u.fromProof = u.toProof.clone();
    for (what, w) in [("from", w), ("to", v), ("from proof", u)] {
        let (verdict, _) = s.l1.verify(2, position, from, to, encode(w));
        assert!(
            matches!(verdict, Verdict::Reverted(_)),
            "{what}: {verdict:?}"
        );
    }
    // The honest witness at another position opens the wrong state.
    let (verdict, _) = s.l1.verify_trace_step(&trace, 2, position + 1, witness);
    assert_eq!(verdict, Verdict::BadWitness);
    assert!(step.provable());
}

/// The most messages one L1 block can hold (`DEPOSIT_GAS_PER_L1_BLOCK / MIN_ETH_DEPOSIT_GAS`),
/// every one to a fresh account: a step folds the later hashes up to the chain's next mark
/// (every 128 messages), the dearest the first message after a mark; the whole step
/// transaction, calldata included, stays under the bound.
#[test]
fn the_worst_case_deposit_step_stays_under_the_gas_bound() {
    let count = (rollup_primitives::DEPOSIT_GAS_PER_L1_BLOCK
        / rollup_primitives::MIN_ETH_DEPOSIT_GAS) as usize;
    let at_origin: Vec<Deposit> = (0..count)
        .map(|i| {
            let depositor = if i % 2 == 0 { ALICE } else { BOB };
            let to = Address::from_word(alloy_primitives::keccak256(i.to_be_bytes()));
            eth(depositor, Some(to), u128::MAX - i as u128)
        })
        .collect();
    let mut s = Scenario::new(&[eth(BOB, None, 1)], &at_origin);
    assert_eq!(s.l2.body(2).len(), count);
    let trace = s.l2.trace(2);
    let mut worst = (0, CallGas::default());
    // One message before the block, so position p runs message p; 128 is the first after a mark.
    for position in [1, 128, count as u64 / 2, count as u64] {
        let (_, witness) = s.witness(2, position);
        let (verdict, gas) = s.l1.verify_trace_step(&trace, 2, position, witness.clone());
        assert_eq!(verdict, Verdict::Returned(true), "position {position}");
        println!(
            "deposit step {position} of {count} messages: verifier {} gas, a transaction of it {} gas ({} bytes of witness)",
            gas.execution,
            gas.transaction,
            witness.len()
        );
        if gas.execution > worst.1.execution {
            worst = (position, gas);
        }
    }
    println!(
        "worst deposit step: position {} of {count}, {:?}",
        worst.0, worst.1
    );
    assert!(worst.1.execution < GAS_BOUND, "{worst:?}");
    assert!(worst.1.transaction < GAS_BOUND, "{worst:?}");
}

fn arb_deposit() -> impl Strategy<Value = Deposit> {
    let amount = prop_oneof![
        Just(1u128),
        1u128..1_000_000,
        any::<u64>().prop_map(|v| u128::from(v) + 1),
        (1u128..=u128::MAX),
    ];
    let to = prop_oneof![
        Just(None),
        Just(Some(EXISTING)),
        Just(Some(ALICE)),
        Just(Some(BOB)),
        (0x13u8..=0x20).prop_map(|b| Some(Address::repeat_byte(b))),
        any::<[u8; 20]>().prop_map(|b| Some(Address::from(b))),
    ];
    let depositor = prop_oneof![Just(ALICE), Just(BOB)];
    let gas_limit = prop_oneof![Just(21_000u32), 21_000u32..1_000_000];
    (depositor, to, amount, gas_limit).prop_map(|(depositor, to, amount, gas_limit)| Deposit {
        depositor,
        to,
        amount: U256::from(amount),
        gas_limit,
    })
}

/// Random ETH deposits: the verifier agrees with the node on every one.
#[test]
fn random_deposits_are_proven() {
    let config = ProptestConfig {
        cases: 8,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let strategy = (
        proptest::collection::vec(arb_deposit(), 0..3),
        proptest::collection::vec(arb_deposit(), 1..5),
    );
    TestRunner::new(config)
        .run(&strategy, |(earlier, at_origin)| {
            let mut s = Scenario::new(&earlier, &at_origin);
            if !earlier.is_empty() {
                s.prove_all(1);
            }
            s.prove_all(2);
            Ok(())
        })
        .unwrap();
}
