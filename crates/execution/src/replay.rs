//! Re-execution of stored blocks, for tracers: the same transactions on the same parent state,
//! under the same rules as [`crate::execute_block`], with an inspector on the ones asked for.

use std::time::Instant;

use alloy_consensus::Header;
use revm::{
    Context, DatabaseRef, InspectCommitEvm, Inspector, MainBuilder, MainContext,
    context::{BlockEnv, TxEnv, result::EVMError, result::ExecutionResult},
    database::{State, WrapDatabaseRef},
    handler::MainnetContext,
    inspector::NoOpInspector,
};
use rollup_primitives::L2Transaction;

use crate::{
    ExecutionError, Result,
    executor::{CallDeadline, apply_tx_rules, block_tx_env, cfg_env, header_block_env, mint},
};

/// The state a replayed block runs on: its parent's, with the changes of the transactions
/// replayed so far cached on top.
pub type ReplayState<DB> = State<WrapDatabaseRef<DB>>;

/// The revm context a replayed transaction runs in; an inspector given to [`replay_block`]
/// must inspect it (revm-inspectors' tracers inspect any context).
pub type ReplayContext<DB> = MainnetContext<ReplayState<DB>>;

/// A transaction of a replayed block that ran with an inspector.
#[derive(Debug)]
pub struct ReplayedTransaction<I> {
    /// Its index in the block.
    pub index: usize,
    /// The inspector it ran with, holding what it recorded.
    pub inspector: I,
    /// How it ended, or, for a deposit that failed validation before executing (a gas limit
    /// below its intrinsic gas), the reason revm refused it: as in [`crate::execute_block`] it
    /// kept its mint and has a failed receipt that used no gas, but no EVM frame ever ran.
    pub result: core::result::Result<ExecutionResult, String>,
}

/// Executes `transactions` — the first transactions of the stored block `header`, in order —
/// again on `db`, the state after the block's parent, exactly as [`crate::execute_block`]
/// executed them: a deposit first mints its ETH, then runs without fee, nonce check or block gas
/// limit. The transactions for which `inspector_for` returns an inspector run with it and come
/// back, with their results, in block order; the others only change the state the next ones
/// see. Nothing is written anywhere.
///
/// Every transaction runs under `deadline` (see [`crate::simulate_call`]): a replay still
/// running then is stopped and the answer is [`ExecutionError::CallTimedOut`].
///
/// A stored signed transaction that revm now refuses means the database does not hold the
/// state the block was built on: [`ExecutionError::InvalidStoredTransaction`].
pub fn replay_block<DB, I>(
    db: DB,
    header: &Header,
    chain_id: u64,
    transactions: &[L2Transaction],
    deadline: Option<Instant>,
    mut inspector_for: impl FnMut(usize, &L2Transaction) -> Option<I>,
) -> Result<Vec<ReplayedTransaction<I>>>
where
    DB: DatabaseRef,
    DB::Error: std::fmt::Display,
    I: Inspector<ReplayContext<DB>>,
{
    let block = header.number;
    let db_error = |err: &dyn std::fmt::Display| ExecutionError::Database {
        block,
        message: err.to_string(),
    };
    let mut state = State::builder().with_database_ref(db).build();
    let block_env = header_block_env(header);
    let mut inspected = Vec::new();
    for (index, tx) in transactions.iter().enumerate() {
        if let L2Transaction::Deposit(deposit) = tx {
            mint(&mut state, deposit.from, deposit.mint).map_err(|err| db_error(&err))?;
        }
        let (tx_env, is_deposit) = block_tx_env(tx);
        let env = TxRun {
            chain_id,
            block: &block_env,
            is_deposit,
            deadline,
        };
        let (outcome, inspector) = match inspector_for(index, tx) {
            Some(inspector) => {
                let (outcome, inspector, after) = env.run(state, tx_env, inspector)?;
                state = after;
                (outcome, Some(inspector))
            }
            None => {
                let (outcome, _, after) = env.run(state, tx_env, NoOpInspector)?;
                state = after;
                (outcome, None)
            }
        };
        let result = match outcome {
            TxOutcome::Executed(result) => Ok(result),
            TxOutcome::Database(message) => {
                return Err(ExecutionError::Database { block, message });
            }
            TxOutcome::Invalid(reason) if is_deposit => Err(reason),
            TxOutcome::Invalid(reason) => {
                return Err(ExecutionError::InvalidStoredTransaction {
                    block,
                    index,
                    reason,
                });
            }
        };
        if let Some(inspector) = inspector {
            inspected.push(ReplayedTransaction {
                index,
                inspector,
                result,
            });
        }
    }
    Ok(inspected)
}

/// What one replayed transaction runs with.
pub(crate) struct TxRun<'a> {
    pub(crate) chain_id: u64,
    pub(crate) block: &'a BlockEnv,
    pub(crate) is_deposit: bool,
    pub(crate) deadline: Option<Instant>,
}

/// How a replayed transaction ended, its errors rendered.
pub(crate) enum TxOutcome {
    Executed(ExecutionResult),
    /// The state database failed.
    Database(String),
    /// revm refused the transaction before executing it.
    Invalid(String),
}

impl TxRun<'_> {
    /// Runs `tx` with `inspector` on `state`, commits its changes there and hands the state
    /// back. (The EVM owns its state while it runs: an inspector over a borrowed one would
    /// have to inspect contexts of every lifetime, which only `'static` databases allow.)
    pub(crate) fn run<DB, I>(
        &self,
        state: ReplayState<DB>,
        tx: TxEnv,
        inspector: I,
    ) -> Result<(TxOutcome, I, ReplayState<DB>)>
    where
        DB: DatabaseRef,
        I: Inspector<ReplayContext<DB>>,
    {
        let mut cfg = cfg_env(self.chain_id);
        apply_tx_rules(&mut cfg, self.is_deposit);
        let mut evm = Context::mainnet()
            .with_db(state)
            .with_cfg(cfg)
            .with_block(self.block.clone())
            .build_mainnet_with_inspector((CallDeadline::new(self.deadline), inspector));
        let outcome = evm.inspect_tx_commit(tx);
        let (deadline, inspector) = evm.inspector;
        if deadline.expired {
            return Err(ExecutionError::CallTimedOut);
        }
        let outcome = match outcome {
            Ok(result) => TxOutcome::Executed(result),
            Err(EVMError::Database(err)) => TxOutcome::Database(err.to_string()),
            Err(err) => TxOutcome::Invalid(err.to_string()),
        };
        Ok((outcome, inspector, evm.ctx.journaled_state.database))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
    use revm::{
        bytecode::Bytecode,
        database::{CacheDB, EmptyDB},
        interpreter::{CallInputs, CallOutcome},
        state::AccountInfo,
    };
    use rollup_primitives::{L1Origin, TxDeposit};

    use super::*;
    use crate::{BlockInput, execute_block};

    const FUNDED: Address = Address::repeat_byte(0x01);
    const FRESH: Address = Address::repeat_byte(0x02);
    const RECIPIENT: Address = Address::repeat_byte(0x03);
    const LOOP: Address = Address::repeat_byte(0x10);
    const CHAIN_ID: u64 = 901;
    const ETHER: u128 = 1_000_000_000_000_000_000;

    /// `FUNDED` holds 10 ether; `LOOP` runs `JUMPDEST PUSH1 0 JUMP` until its gas ends.
    fn parent_state() -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::new());
        db.insert_account_info(
            FUNDED,
            AccountInfo {
                balance: U256::from(10 * ETHER),
                ..Default::default()
            },
        );
        let code = Bytecode::new_raw(Bytes::from_static(&[0x5b, 0x60, 0x00, 0x56]));
        db.insert_account_info(
            LOOP,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        db
    }

    fn signed(
        sender: Address,
        nonce: u64,
        to: Address,
        value: u128,
        gas_limit: u64,
    ) -> L2Transaction {
        let tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit,
            max_fee_per_gas: 1_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to),
            value: U256::from(value),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        // The executor trusts the recovered sender it is given; the signature is never checked.
        L2Transaction::Signed {
            envelope: TxEnvelope::from(tx.into_signed(Signature::test_signature())),
            sender,
        }
    }

    fn deposit(from: Address, mint: u128, gas_limit: u64) -> L2Transaction {
        L2Transaction::Deposit(TxDeposit {
            source_hash: B256::repeat_byte(0xd0),
            from,
            to: from,
            mint,
            value: U256::ZERO,
            gas_limit,
            input: Bytes::new(),
        })
    }

    /// Executes `transactions` as block 1 on [`parent_state`], as the node does.
    fn build(transactions: Vec<L2Transaction>) -> (Header, Vec<rollup_primitives::L2Receipt>) {
        let parent = Header {
            gas_limit: 30_000_000,
            gas_used: 15_000_000,
            base_fee_per_gas: Some(7),
            ..Default::default()
        };
        let executed = execute_block(
            parent_state(),
            BlockInput {
                parent,
                parent_hash: B256::ZERO,
                timestamp: 2,
                l1_origin: L1Origin::default(),
                prevrandao: B256::repeat_byte(0x42),
                beneficiary: Address::repeat_byte(0xfe),
                gas_limit: 30_000_000,
                chain_id: CHAIN_ID,
                transactions,
            },
        )
        .unwrap();
        assert!(executed.deferred.is_empty());
        (executed.block.header, executed.receipts)
    }

    /// A transaction that does not fit the block's remaining gas is left out alone: the
    /// sender's later transactions face the rules on their own (the one-step verifier sees one
    /// transaction at a time), and those revm then refuses go back to the pool with it.
    #[test]
    fn a_deferred_transaction_leaves_its_senders_later_ones_to_the_rules() {
        let first = signed(FUNDED, 0, RECIPIENT, 1, 21_000);
        let too_big = signed(FUNDED, 1, RECIPIENT, 1, 30_000_000);
        let same_nonce = signed(FUNDED, 1, RECIPIENT, 2, 21_000);
        let ahead = signed(FUNDED, 3, RECIPIENT, 3, 21_000);
        let executed = execute_block(
            parent_state(),
            BlockInput {
                parent: Header {
                    gas_limit: 30_000_000,
                    gas_used: 15_000_000,
                    base_fee_per_gas: Some(7),
                    ..Default::default()
                },
                parent_hash: B256::ZERO,
                timestamp: 2,
                l1_origin: L1Origin::default(),
                prevrandao: B256::repeat_byte(0x42),
                beneficiary: Address::repeat_byte(0xfe),
                gas_limit: 30_000_000,
                chain_id: CHAIN_ID,
                transactions: vec![
                    first.clone(),
                    too_big.clone(),
                    same_nonce.clone(),
                    ahead.clone(),
                ],
            },
        )
        .unwrap();
        let included: Vec<B256> = executed
            .block
            .transactions
            .iter()
            .map(L2Transaction::hash)
            .collect();
        assert_eq!(included, vec![first.hash(), same_nonce.hash()]);
        assert_eq!(executed.deferred, vec![too_big.hash(), ahead.hash()]);
    }

    /// Counts the frames it sees.
    #[derive(Debug, Default)]
    struct Frames(u32);

    impl<CTX> Inspector<CTX> for Frames {
        fn call(&mut self, _: &mut CTX, _: &mut CallInputs) -> Option<CallOutcome> {
            self.0 += 1;
            None
        }
    }

    #[test]
    fn a_replay_sees_each_transaction_as_the_block_did_mint_included() {
        // FRESH has nothing before the deposit: its transfer works only if the mint applies.
        // (The deposit's call bumped its nonce.)
        let transactions = vec![
            deposit(FRESH, ETHER, 50_000),
            signed(FRESH, 1, RECIPIENT, ETHER / 2, 21_000),
            signed(FUNDED, 0, RECIPIENT, 5, 21_000),
        ];
        let (header, receipts) = build(transactions.clone());
        assert_eq!(receipts.len(), 3, "every transaction included");

        let replayed = replay_block(
            parent_state(),
            &header,
            CHAIN_ID,
            &transactions,
            None,
            |_, _| Some(Frames::default()),
        )
        .unwrap();
        let mut previous = 0;
        for (tx, receipt) in replayed.iter().zip(&receipts) {
            let result = tx.result.as_ref().unwrap();
            assert_eq!(result.is_success(), receipt.success, "tx {}", tx.index);
            assert_eq!(
                result.tx_gas_used(),
                receipt.cumulative_gas_used - previous,
                "tx {}",
                tx.index
            );
            assert_eq!(tx.inspector.0, 1, "one frame each");
            previous = receipt.cumulative_gas_used;
        }

        // Only the second inspected: the first still runs (its mint funds the second).
        let only = replay_block(
            parent_state(),
            &header,
            CHAIN_ID,
            &transactions[..2],
            None,
            |index, _| (index == 1).then(Frames::default),
        )
        .unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].index, 1);
        assert!(only[0].result.as_ref().unwrap().is_success());
    }

    #[test]
    fn a_deposit_refused_before_execution_keeps_its_mint_in_the_replay() {
        let transactions = vec![
            deposit(FRESH, ETHER, 1_000),
            signed(FRESH, 0, RECIPIENT, ETHER / 2, 21_000),
        ];
        let (header, receipts) = build(transactions.clone());
        assert!(!receipts[0].success);
        assert!(receipts[1].success);
        let replayed = replay_block(
            parent_state(),
            &header,
            CHAIN_ID,
            &transactions,
            None,
            |_, _| Some(Frames::default()),
        )
        .unwrap();
        assert!(replayed[0].result.is_err(), "{:?}", replayed[0]);
        assert_eq!(replayed[0].inspector.0, 0, "no frame ran");
        assert!(replayed[1].result.as_ref().unwrap().is_success());
    }

    #[test]
    fn a_replay_past_its_deadline_is_stopped() {
        let transactions = vec![signed(FUNDED, 0, LOOP, 0, 30_000_000)];
        let (header, _) = build(transactions.clone());
        let started = Instant::now();
        let result = replay_block(
            parent_state(),
            &header,
            CHAIN_ID,
            &transactions,
            Some(started + Duration::from_millis(20)),
            |_, _| Some(Frames::default()),
        );
        assert!(
            matches!(result, Err(ExecutionError::CallTimedOut)),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_stored_transaction_invalid_on_the_parent_state_is_an_error() {
        let (header, _) = build(vec![signed(FUNDED, 0, RECIPIENT, 1, 21_000)]);
        // Nonce 3 where the account is at 0: not what the block held.
        let result = replay_block(
            parent_state(),
            &header,
            CHAIN_ID,
            &[signed(FUNDED, 3, RECIPIENT, 1, 21_000)],
            None,
            |_, _| Some(Frames::default()),
        );
        assert!(
            matches!(
                result,
                Err(ExecutionError::InvalidStoredTransaction {
                    block: 1,
                    index: 0,
                    ..
                })
            ),
            "{result:?}"
        );
    }
}
