//! Derivation rules for deposits, one test per rule of `derive_deposits`.

use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_derive::{DepositSkipReason, derive_deposits};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, DEPOSITOR, L1Block, L1Receipt, L1Transaction, L2_BRIDGE,
    L2Genesis, MAX_DEPOSIT_GAS, MIN_ERC20_DEPOSIT_GAS, RollupConfig,
    artifacts::predict_l2_token,
    bindings::{IL1Bridge::DepositInitiated, IL2Bridge},
};

const BRIDGE: Address = Address::repeat_byte(0xb1);
const USER: Address = Address::repeat_byte(0x11);
const TOKEN: Address = Address::repeat_byte(0x70);

fn config() -> RollupConfig {
    RollupConfig {
        l1_chain_id: 1,
        l2_chain_id: 2,
        contracts: ContractAddresses {
            l1_bridge: BRIDGE,
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: 0,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1,
            alloc: Default::default(),
        },
        sequencing_window: 10,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(4),
    }
}

fn event(l1_token: Address, l2_token: Address, amount: u64, gas: u32) -> DepositInitiated {
    DepositInitiated {
        nonce: U256::ZERO,
        from: USER,
        to: USER,
        l1Token: l1_token,
        l2Token: l2_token,
        amount: U256::from(amount),
        gasLimit: gas,
    }
}

fn log_of(event: &DepositInitiated) -> Log {
    Log {
        address: BRIDGE,
        data: event.encode_log_data(),
    }
}

fn block(receipts: Vec<(bool, Vec<Log>)>) -> L1Block {
    L1Block {
        number: 10,
        hash: B256::repeat_byte(0xaa),
        parent_hash: B256::repeat_byte(0xa9),
        timestamp: 1_000,
        mix_hash: B256::ZERO,
        base_fee_per_gas: Some(1),
        transactions: receipts
            .iter()
            .enumerate()
            .map(|(i, _)| L1Transaction {
                hash: B256::with_last_byte(i as u8),
                from: USER,
                to: Some(BRIDGE),
                input: Bytes::new(),
                blob_versioned_hashes: vec![],
            })
            .collect(),
        receipts: receipts
            .into_iter()
            .map(|(success, logs)| L1Receipt { success, logs })
            .collect(),
    }
}

#[test]
fn eth_deposit_mints_to_sender_and_sends_value() {
    let derived = derive_deposits(
        &config(),
        &block(vec![(
            true,
            vec![log_of(&event(Address::ZERO, Address::ZERO, 5, 21_000))],
        )]),
    );
    assert!(derived.skipped.is_empty());
    let [deposit] = derived.deposits.as_slice() else {
        panic!("one deposit expected")
    };
    assert_eq!(
        (deposit.from, deposit.to, deposit.mint, deposit.value),
        (USER, USER, 5, U256::from(5))
    );
    assert_eq!(deposit.gas_limit, 21_000);
    assert!(deposit.input.is_empty());
}

#[test]
fn erc20_deposit_calls_the_l2_bridge_from_the_depositor() {
    let l2_token = predict_l2_token(TOKEN);
    let derived = derive_deposits(
        &config(),
        &block(vec![(
            true,
            vec![log_of(&event(
                TOKEN,
                l2_token,
                9,
                MIN_ERC20_DEPOSIT_GAS as u32,
            ))],
        )]),
    );
    let [deposit] = derived.deposits.as_slice() else {
        panic!("one deposit expected")
    };
    assert_eq!(
        (deposit.from, deposit.to, deposit.mint),
        (DEPOSITOR, L2_BRIDGE, 0)
    );
    let call = IL2Bridge::finalizeDepositCall::abi_decode(&deposit.input).unwrap();
    assert_eq!(
        (call.l1Token, call.l2Token, call.to, call.amount),
        (TOKEN, l2_token, USER, U256::from(9))
    );
}

#[test]
fn source_hashes_are_unique_per_log_and_logs_of_failed_txs_are_ignored() {
    let ok = log_of(&event(Address::ZERO, Address::ZERO, 1, 21_000));
    let derived = derive_deposits(
        &config(),
        &block(vec![
            (true, vec![ok.clone(), ok.clone()]),
            (false, vec![ok.clone()]),
            (true, vec![ok]),
        ]),
    );
    assert_eq!(derived.deposits.len(), 3);
    let mut hashes: Vec<_> = derived.deposits.iter().map(|d| d.source_hash).collect();
    hashes.dedup();
    assert_eq!(hashes.len(), 3);
}

#[test]
fn logs_from_other_contracts_or_events_are_not_deposits() {
    let mut foreign = log_of(&event(Address::ZERO, Address::ZERO, 1, 21_000));
    foreign.address = Address::repeat_byte(0x99);
    let other_event = Log {
        address: BRIDGE,
        data: LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::new()),
    };
    let derived = derive_deposits(&config(), &block(vec![(true, vec![foreign, other_event])]));
    assert_eq!(derived, Default::default());
}

#[test]
fn malformed_logs_are_skipped() {
    let good = log_of(&event(Address::ZERO, Address::ZERO, 1, 21_000));
    let mut short_data = good.clone();
    short_data.data =
        LogData::new_unchecked(good.topics().to_vec(), good.data.data[..96].to_vec().into());
    let mut long_data = good.clone();
    long_data.data = LogData::new_unchecked(
        good.topics().to_vec(),
        [good.data.data.to_vec(), vec![0; 32]].concat().into(),
    );
    let mut few_topics = good.clone();
    few_topics.data = LogData::new_unchecked(good.topics()[..3].to_vec(), good.data.data.clone());
    let mut dirty_address = good.clone();
    let mut data = good.data.data.to_vec();
    data[0] = 0xff; // high bytes of the l1Token word
    dirty_address.data = LogData::new_unchecked(good.topics().to_vec(), data.into());
    let mut dirty_gas = good.clone();
    let mut data = good.data.data.to_vec();
    data[96] = 0x01; // gasLimit word above uint32
    dirty_gas.data = LogData::new_unchecked(good.topics().to_vec(), data.into());

    let derived = derive_deposits(
        &config(),
        &block(vec![(
            true,
            vec![
                short_data,
                long_data,
                few_topics,
                dirty_address,
                dirty_gas,
                good,
            ],
        )]),
    );
    assert_eq!(derived.deposits.len(), 1, "only the good log derives");
    assert_eq!(derived.skipped.len(), 5);
    assert!(
        derived
            .skipped
            .iter()
            .all(|s| matches!(s.reason, DepositSkipReason::Malformed(_)))
    );
    assert_eq!(
        derived
            .skipped
            .iter()
            .map(|s| s.log_index)
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
}

#[test]
fn semantic_rules_skip_bad_deposits() {
    let cases = [
        (
            event(Address::ZERO, Address::ZERO, 0, 21_000),
            DepositSkipReason::ZeroAmount,
        ),
        (
            event(Address::ZERO, TOKEN, 1, 21_000),
            DepositSkipReason::UnknownTokenMapping {
                l1_token: Address::ZERO,
                l2_token: TOKEN,
            },
        ),
        (
            event(
                TOKEN,
                Address::repeat_byte(5),
                1,
                MIN_ERC20_DEPOSIT_GAS as u32,
            ),
            DepositSkipReason::UnknownTokenMapping {
                l1_token: TOKEN,
                l2_token: Address::repeat_byte(5),
            },
        ),
        (
            event(Address::ZERO, Address::ZERO, 1, 20_999),
            DepositSkipReason::GasLimitOutOfRange {
                gas_limit: 20_999,
                min: 21_000,
                max: MAX_DEPOSIT_GAS,
            },
        ),
        (
            event(Address::ZERO, Address::ZERO, 1, MAX_DEPOSIT_GAS as u32 + 1),
            DepositSkipReason::GasLimitOutOfRange {
                gas_limit: MAX_DEPOSIT_GAS + 1,
                min: 21_000,
                max: MAX_DEPOSIT_GAS,
            },
        ),
        (
            event(TOKEN, predict_l2_token(TOKEN), 1, 21_000),
            DepositSkipReason::GasLimitOutOfRange {
                gas_limit: 21_000,
                min: MIN_ERC20_DEPOSIT_GAS,
                max: MAX_DEPOSIT_GAS,
            },
        ),
    ];
    for (event, reason) in cases {
        let derived = derive_deposits(&config(), &block(vec![(true, vec![log_of(&event)])]));
        assert!(derived.deposits.is_empty(), "{reason:?}");
        assert_eq!(derived.skipped[0].reason, reason);
    }
    let mut huge = event(Address::ZERO, Address::ZERO, 1, 21_000);
    huge.amount = U256::from(u128::MAX) + U256::from(1);
    let derived = derive_deposits(&config(), &block(vec![(true, vec![log_of(&huge)])]));
    assert_eq!(derived.skipped[0].reason, DepositSkipReason::AmountTooLarge);
}

#[test]
fn block_deposit_gas_budget_is_enforced_in_log_order() {
    let big = log_of(&event(
        Address::ZERO,
        Address::ZERO,
        1,
        MAX_DEPOSIT_GAS as u32,
    ));
    let small = log_of(&event(Address::ZERO, Address::ZERO, 1, 21_000));
    // Six max-gas deposits use the whole 30M budget; everything after them is skipped.
    let mut logs = vec![big; 7];
    logs.push(small);
    let derived = derive_deposits(&config(), &block(vec![(true, logs)]));
    assert_eq!(derived.deposits.len(), 6);
    assert_eq!(derived.skipped.len(), 2);
    assert!(
        derived
            .skipped
            .iter()
            .all(|s| s.reason == DepositSkipReason::BlockDepositGasExhausted)
    );
}

mod l2_time {
    use rollup_derive::{BatchBlockError, MAX_L2_BLOCKS_PER_SECOND, SafeParent, check_batch_block};

    use super::config;

    fn parent(blocks_at_timestamp: u64) -> SafeParent {
        SafeParent {
            timestamp: 5_000,
            l1_origin: 10,
            blocks_at_timestamp,
        }
    }

    #[test]
    fn at_most_ten_blocks_share_a_second() {
        let config = config();
        let check =
            |parent, timestamp| check_batch_block(&config, parent, 10, 4_990, timestamp, 11);
        assert_eq!(check(parent(MAX_L2_BLOCKS_PER_SECOND - 1), 5_000), Ok(()));
        assert_eq!(
            check(parent(MAX_L2_BLOCKS_PER_SECOND), 5_000),
            Err(BatchBlockError::TooManyBlocksPerSecond { timestamp: 5_000 })
        );
        assert_eq!(
            check(parent(MAX_L2_BLOCKS_PER_SECOND), 5_001),
            Ok(()),
            "the next second is free"
        );
    }

    #[test]
    fn next_free_timestamp_moves_on_only_when_the_second_is_full() {
        assert_eq!(
            parent(1).next_free_timestamp(4_000),
            5_000,
            "never before the parent"
        );
        assert_eq!(parent(1).next_free_timestamp(5_000), 5_000);
        assert_eq!(
            parent(MAX_L2_BLOCKS_PER_SECOND).next_free_timestamp(5_000),
            5_001
        );
        assert_eq!(
            parent(MAX_L2_BLOCKS_PER_SECOND).next_free_timestamp(5_007),
            5_007
        );
    }
}
