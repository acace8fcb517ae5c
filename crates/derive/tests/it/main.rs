//! Derivation rules: one test per rule of `derive_deposits`, and how `extract_inbox_records`
//! reads the `BatchInbox`'s records from an L1 block.

use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use alloy_sol_types::{SolCall, SolEvent};
use rollup_derive::{DepositSkipReason, derive_deposits};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, DEPOSITOR, FORCED_WITHDRAWAL_GAS, L1Block, L1Receipt,
    L1Transaction, L2_BRIDGE, L2Genesis, MAX_DEPOSIT_GAS, MAX_TOKEN_METADATA_BYTES,
    MIN_ERC20_DEPOSIT_GAS, RollupConfig,
    artifacts::predict_l2_token,
    bindings::{
        IL1Bridge::{DepositInitiated, ForcedWithdrawalInitiated},
        IL2Bridge,
    },
    deposit_source_hash,
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
        refundTo: USER,
        tokenMetadata: if l1_token.is_zero() {
            Bytes::new()
        } else {
            metadata("Token", "TOK", 6)
        },
    }
}

fn metadata(name: &str, symbol: &str, decimals: u8) -> Bytes {
    use alloy_sol_types::{SolType, sol_data};
    type Metadata = (sol_data::String, sol_data::String, sol_data::Uint<8>);
    Metadata::abi_encode_params(&(name.to_string(), symbol.to_string(), decimals)).into()
}

fn forced(l1_token: Address, l2_token: Address, amount: u64) -> ForcedWithdrawalInitiated {
    ForcedWithdrawalInitiated {
        nonce: U256::ZERO,
        from: USER,
        to: Address::repeat_byte(0x22),
        l1Token: l1_token,
        l2Token: l2_token,
        amount: U256::from(amount),
        gasLimit: FORCED_WITHDRAWAL_GAS as u32,
    }
}

fn log_of(event: &impl SolEvent) -> Log {
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
                blobs: vec![],
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
    assert_eq!(
        (call.refundTo, call.tokenMetadata),
        (USER, metadata("Token", "TOK", 6))
    );
}

#[test]
fn forced_withdrawals_run_the_l2_bridge_as_the_l2_account() {
    let l2_token = predict_l2_token(TOKEN);
    let mut eth = forced(Address::ZERO, Address::ZERO, 7);
    eth.nonce = U256::from(4);
    let mut token = forced(TOKEN, l2_token, 9);
    token.nonce = U256::from(5);
    let derived = derive_deposits(
        &config(),
        &block(vec![(true, vec![log_of(&eth), log_of(&token)])]),
    );
    assert!(derived.skipped.is_empty(), "{:?}", derived.skipped);
    let [eth_tx, token_tx] = derived.deposits.as_slice() else {
        panic!("two forced withdrawals expected")
    };
    // ETH: the value comes from the account's L2 balance; nothing is minted.
    assert_eq!(
        (eth_tx.from, eth_tx.to, eth_tx.mint, eth_tx.value),
        (USER, L2_BRIDGE, 0, U256::from(7))
    );
    assert_eq!(eth_tx.gas_limit, FORCED_WITHDRAWAL_GAS);
    assert_eq!(eth_tx.source_hash, deposit_source_hash(4));
    let call = IL2Bridge::withdrawToCall::abi_decode(&eth_tx.input).unwrap();
    assert_eq!(
        (call.l1Token, call.l2Token, call.amount, call.to),
        (
            Address::ZERO,
            Address::ZERO,
            U256::from(7),
            Address::repeat_byte(0x22)
        )
    );
    // ERC-20: the bridge burns the account's bridged tokens; no ETH moves.
    assert_eq!(
        (token_tx.from, token_tx.to, token_tx.value),
        (USER, L2_BRIDGE, U256::ZERO)
    );
    assert_eq!(token_tx.source_hash, deposit_source_hash(5));
    let call = IL2Bridge::withdrawToCall::abi_decode(&token_tx.input).unwrap();
    assert_eq!((call.l1Token, call.l2Token), (TOKEN, l2_token));
}

#[test]
fn forced_withdrawal_rules() {
    let mut wrong_gas = forced(Address::ZERO, Address::ZERO, 1);
    wrong_gas.gasLimit += 1;
    let mut zero_recipient = forced(Address::ZERO, Address::ZERO, 1);
    zero_recipient.to = Address::ZERO;
    let cases = [
        (
            wrong_gas,
            DepositSkipReason::GasLimitOutOfRange {
                gas_limit: FORCED_WITHDRAWAL_GAS + 1,
                min: FORCED_WITHDRAWAL_GAS,
                max: FORCED_WITHDRAWAL_GAS,
            },
        ),
        (zero_recipient, DepositSkipReason::ZeroRecipient),
        (
            forced(Address::ZERO, Address::ZERO, 0),
            DepositSkipReason::ZeroAmount,
        ),
        (
            forced(TOKEN, Address::repeat_byte(5), 1),
            DepositSkipReason::UnknownTokenMapping {
                l1_token: TOKEN,
                l2_token: Address::repeat_byte(5),
            },
        ),
    ];
    for (event, reason) in cases {
        let derived = derive_deposits(&config(), &block(vec![(true, vec![log_of(&event)])]));
        assert!(derived.deposits.is_empty(), "{reason:?}");
        assert_eq!(derived.skipped[0].reason, reason);
    }
}

#[test]
fn token_metadata_rules() {
    let mut eth_with_metadata = event(Address::ZERO, Address::ZERO, 1, 21_000);
    eth_with_metadata.tokenMetadata = metadata("x", "y", 1);
    let mut oversized = event(
        TOKEN,
        predict_l2_token(TOKEN),
        1,
        MIN_ERC20_DEPOSIT_GAS as u32,
    );
    oversized.tokenMetadata = vec![0u8; MAX_TOKEN_METADATA_BYTES + 1].into();
    let mut largest = oversized.clone();
    largest.tokenMetadata = metadata(&"n".repeat(64), &"s".repeat(64), 18);
    assert_eq!(largest.tokenMetadata.len(), MAX_TOKEN_METADATA_BYTES);
    let derived = derive_deposits(
        &config(),
        &block(vec![(
            true,
            vec![
                log_of(&eth_with_metadata),
                log_of(&oversized),
                log_of(&largest),
            ],
        )]),
    );
    assert_eq!(
        derived.deposits.len(),
        1,
        "the largest real metadata derives"
    );
    assert_eq!(
        derived
            .skipped
            .iter()
            .map(|s| (s.log_index, s.reason.clone()))
            .collect::<Vec<_>>(),
        vec![
            (0, DepositSkipReason::BadTokenMetadata),
            (1, DepositSkipReason::BadTokenMetadata)
        ]
    );
}

#[test]
fn source_hashes_follow_the_nonce_and_logs_of_failed_txs_are_ignored() {
    let ok = |nonce: u64| {
        let mut event = event(Address::ZERO, Address::ZERO, 1, 21_000);
        event.nonce = U256::from(nonce);
        log_of(&event)
    };
    let derived = derive_deposits(
        &config(),
        &block(vec![
            (true, vec![ok(0), ok(1)]),
            (false, vec![ok(2)]),
            (true, vec![ok(2)]),
        ]),
    );
    assert_eq!(
        derived
            .deposits
            .iter()
            .map(|d| d.source_hash)
            .collect::<Vec<_>>(),
        (0..3).map(deposit_source_hash).collect::<Vec<_>>()
    );
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
    let mut moved_offset = good.clone();
    let mut data = good.data.data.to_vec();
    data.extend([0u8; 32]);
    data[5 * 32 + 31] += 32; // tokenMetadata's offset points one word further
    moved_offset.data = LogData::new_unchecked(good.topics().to_vec(), data.into());

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
                moved_offset,
                good,
            ],
        )]),
    );
    assert_eq!(derived.deposits.len(), 1, "only the good log derives");
    assert_eq!(derived.skipped.len(), 6);
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
        vec![0, 1, 2, 3, 4, 5]
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
    let mut zero_recipient = event(Address::ZERO, Address::ZERO, 1, 21_000);
    zero_recipient.to = Address::ZERO;
    for (event, reason) in cases
        .into_iter()
        .chain([(zero_recipient, DepositSkipReason::ZeroRecipient)])
    {
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

mod inbox_records {
    use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256, keccak256};
    use alloy_sol_types::{SolCall, SolEvent};
    use rollup_derive::{InboxDataError, InboxRecord, extract_inbox_records};
    use rollup_primitives::{
        L1Block, L1Receipt, L1Transaction,
        bindings::IBatchInbox::{
            BatchAppended, forceIncludeCall, postBatchCall, postBlobBatchCall,
        },
    };

    use super::{USER, config};

    const INBOX: Address = Address::repeat_byte(2);
    const BATCHER: Address = Address::repeat_byte(4);
    const L1_BLOCK: u64 = 10;

    /// The record `index` of `data` (a forced one has no data), as the inbox emits it.
    fn event(index: u64, data: Option<&[u8]>) -> BatchAppended {
        BatchAppended {
            index: U256::from(index),
            firstBlock: 1 + 3 * index,
            blockCount: 3,
            lastOrigin: 7 + index,
            depositCount: 2 * index,
            forced: data.is_none(),
            dataHash: data.map_or(B256::ZERO, keccak256),
            segmentRoot: B256::repeat_byte(0x5e),
            blocksHash: B256::repeat_byte(0xb0),
            blobCount: 0,
            lastBlockOpen: false,
        }
    }

    fn inbox_log(event: &BatchAppended) -> Log {
        Log {
            address: INBOX,
            data: event.encode_log_data(),
        }
    }

    /// A transaction from `from` to `to` with `input`, and its receipt.
    fn call(
        from: Address,
        to: Address,
        input: Vec<u8>,
        success: bool,
        logs: Vec<Log>,
    ) -> (L1Transaction, L1Receipt) {
        (
            L1Transaction {
                hash: keccak256(&input),
                from,
                to: Some(to),
                input: input.into(),
                blob_versioned_hashes: vec![],
                blobs: vec![],
            },
            L1Receipt { success, logs },
        )
    }

    /// The batcher's `postBatch(data)`, whose receipt holds `event`.
    fn post(data: &[u8], event: &BatchAppended) -> (L1Transaction, L1Receipt) {
        let input = postBatchCall {
            data: Bytes::copy_from_slice(data),
        }
        .abi_encode();
        call(BATCHER, INBOX, input, true, vec![inbox_log(event)])
    }

    /// Anyone's `forceInclude([])`, whose receipt holds `event`.
    fn force(event: &BatchAppended) -> (L1Transaction, L1Receipt) {
        let input = forceIncludeCall { headers: vec![] }.abi_encode();
        call(USER, INBOX, input, true, vec![inbox_log(event)])
    }

    fn block(calls: Vec<(L1Transaction, L1Receipt)>) -> L1Block {
        let (transactions, receipts) = calls.into_iter().unzip();
        L1Block {
            number: L1_BLOCK,
            hash: B256::repeat_byte(0xaa),
            parent_hash: B256::repeat_byte(0xa9),
            timestamp: 1_000,
            mix_hash: B256::ZERO,
            base_fee_per_gas: Some(1),
            transactions,
            receipts,
        }
    }

    fn record(index: u64, data: Option<&[u8]>, tx_hash: B256, tx_index: usize) -> InboxRecord {
        let event = event(index, data);
        InboxRecord {
            index,
            first_block: event.firstBlock,
            block_count: 3,
            last_origin: event.lastOrigin,
            deposit_count: event.depositCount,
            data_hash: event.dataHash,
            segment_root: event.segmentRoot,
            blocks_hash: event.blocksHash,
            last_block_open: event.lastBlockOpen,
            data: data.map(Bytes::copy_from_slice),
            blob_data: None,
            tx_hash,
            tx_index,
        }
    }

    #[test]
    fn records_come_in_log_order_with_the_data_of_their_postbatch_call() {
        let (first, second) = (vec![2u8, 1, 2, 3], vec![2u8, 4, 5]);
        let unrelated = call(USER, Address::repeat_byte(0x99), vec![1], true, vec![]);
        let calls = vec![
            unrelated,
            post(&first, &event(0, Some(&first))),
            force(&event(1, None)),
            post(&second, &event(2, Some(&second))),
        ];
        let hashes: Vec<B256> = calls.iter().map(|(tx, _)| tx.hash).collect();
        let records = extract_inbox_records(&config(), &block(calls)).unwrap();
        assert_eq!(
            records,
            vec![
                record(0, Some(&first), hashes[1], 1),
                record(1, None, hashes[2], 2),
                record(2, Some(&second), hashes[3], 3),
            ]
        );
    }

    #[test]
    fn a_forced_record_has_no_data() {
        // Whatever the transaction's calldata: a forced block carries no batch.
        let data = [2u8, 9, 9];
        let (tx, mut receipt) = post(&data, &event(0, Some(&data)));
        receipt.logs = vec![inbox_log(&event(0, None))];
        let records = extract_inbox_records(&config(), &block(vec![(tx, receipt)])).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].data, None);
        assert_eq!(records[0].data_hash, B256::ZERO);
    }

    #[test]
    fn logs_of_other_contracts_or_events_and_of_failed_transactions_are_not_records() {
        let data = [2u8, 1];
        let record = event(0, Some(&data));
        // The same event from another contract (a fake inbox).
        let (tx, mut foreign) = post(&data, &record);
        foreign.logs[0].address = Address::repeat_byte(0x99);
        // A reverted call: its logs never happened.
        let (failed_tx, mut failed) = post(&data, &record);
        failed.success = false;
        // Another event of the inbox.
        let (other_tx, mut other) = post(&data, &record);
        other.logs[0].data = LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::new());
        let records = extract_inbox_records(
            &config(),
            &block(vec![(tx, foreign), (failed_tx, failed), (other_tx, other)]),
        )
        .unwrap();
        assert!(records.is_empty(), "{records:?}");
    }

    #[test]
    fn a_posted_record_without_its_data_is_an_error() {
        let data = [2u8, 1, 2];
        let record = event(0, Some(&data));
        let missing = |tx_index| InboxDataError::MissingData {
            l1_block: L1_BLOCK,
            index: 0,
            data_hash: keccak256(data),
            tx_index,
        };
        // Calldata with other data than the record's hash names.
        let other = post(&[2, 1, 3], &record);
        // The right data, but not sent to the inbox (the log cannot come from that call).
        let (mut elsewhere, receipt) = post(&data, &record);
        elsewhere.to = Some(Address::repeat_byte(0x99));
        // Not a postBatch call at all.
        let (mut not_a_post, not_a_post_receipt) = post(&data, &record);
        not_a_post.input = forceIncludeCall { headers: vec![] }.abi_encode().into();
        let unrelated = call(USER, Address::repeat_byte(0x99), vec![1], true, vec![]);
        for (case, calls) in [
            ("other data", vec![other]),
            ("another recipient", vec![unrelated, (elsewhere, receipt)]),
            ("not postBatch", vec![(not_a_post, not_a_post_receipt)]),
        ] {
            let tx_index = calls.len() - 1;
            assert_eq!(
                extract_inbox_records(&config(), &block(calls)),
                Err(missing(tx_index)),
                "{case}"
            );
        }
    }

    /// The batcher's `postBlobBatch(envelope)` carrying `blobs`, whose receipt holds the
    /// record the inbox emits for it: `segmentRoot` is the hash of the versioned hashes.
    fn post_blobs(index: u64, envelope: &[u8], blobs: &[Bytes]) -> (L1Transaction, L1Receipt) {
        let hashes: Vec<B256> = blobs
            .iter()
            .map(|blob| rollup_l1::versioned_hash(blob).unwrap())
            .collect();
        let event = BatchAppended {
            segmentRoot: keccak256(hashes.iter().flat_map(|hash| hash.0).collect::<Vec<u8>>()),
            blobCount: blobs.len() as u8,
            ..event(index, Some(envelope))
        };
        let input = postBlobBatchCall {
            envelope: Bytes::copy_from_slice(envelope),
        }
        .abi_encode();
        let (mut tx, receipt) = call(BATCHER, INBOX, input, true, vec![inbox_log(&event)]);
        tx.blob_versioned_hashes = hashes;
        tx.blobs = blobs.to_vec();
        (tx, receipt)
    }

    #[test]
    fn a_blob_record_carries_its_envelope_and_the_blob_data() {
        let envelope = [2u8, 7, 7];
        let segments: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let blobs: Vec<Bytes> = rollup_primitives::to_blobs(&segments)
            .iter()
            .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
            .collect();
        assert_eq!(blobs.len(), 2);
        let (tx, receipt) = post_blobs(0, &envelope, &blobs);
        let records =
            extract_inbox_records(&config(), &block(vec![(tx.clone(), receipt.clone())])).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].data.as_ref().map(|data| &data[..]),
            Some(&envelope[..])
        );
        let blob_data = records[0].blob_data.as_ref().unwrap();
        assert_eq!(&blob_data[..segments.len()], &segments[..]);

        // The L1 source did not attach the blobs (no beacon API), attached fewer, or the
        // transaction's versioned hashes are not the ones the inbox recorded.
        let missing = InboxDataError::MissingBlobs {
            l1_block: L1_BLOCK,
            index: 0,
            blob_count: 2,
            tx_index: 0,
        };
        for change in [
            (|tx: &mut L1Transaction| tx.blobs.clear()) as fn(&mut L1Transaction),
            |tx| {
                tx.blobs.pop();
            },
            |tx| tx.blob_versioned_hashes.reverse(),
            |tx| {
                tx.blob_versioned_hashes.pop();
                tx.blobs.pop();
            },
        ] {
            let mut changed = tx.clone();
            change(&mut changed);
            assert_eq!(
                extract_inbox_records(&config(), &block(vec![(changed, receipt.clone())])),
                Err(missing.clone())
            );
        }
        // An envelope that is not the recorded one is missing data, as for calldata.
        let (_, other_receipt) = post_blobs(0, &[2, 7, 8], &blobs);
        assert!(matches!(
            extract_inbox_records(&config(), &block(vec![(tx, other_receipt)])),
            Err(InboxDataError::MissingData { .. })
        ));
    }

    #[test]
    fn a_malformed_record_log_is_an_error() {
        let data = [2u8, 1];
        let good = inbox_log(&event(0, Some(&data)));
        let mut short = good.clone();
        short.data = LogData::new_unchecked(
            good.topics().to_vec(),
            good.data.data[..good.data.data.len() - 32].to_vec().into(),
        );
        let mut no_index = good.clone();
        no_index.data = LogData::new_unchecked(good.topics()[..1].to_vec(), good.data.data.clone());
        let mut huge_index = good.clone();
        huge_index.data = LogData::new_unchecked(
            vec![good.topics()[0], B256::repeat_byte(0xff)],
            good.data.data.clone(),
        );
        for (case, log) in [
            ("short data", short),
            ("no index topic", no_index),
            ("index above 64 bits", huge_index),
        ] {
            let (tx, mut receipt) = post(&data, &event(0, Some(&data)));
            receipt.logs = vec![log];
            let unrelated = call(USER, Address::repeat_byte(0x99), vec![1], true, vec![]);
            assert_eq!(
                extract_inbox_records(&config(), &block(vec![unrelated, (tx, receipt)])),
                Err(InboxDataError::MalformedLog {
                    l1_block: L1_BLOCK,
                    tx_index: 1,
                }),
                "{case}"
            );
        }
    }
}
