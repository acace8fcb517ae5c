//! Differential tests of the on-chain segment opener (`contracts/src/dispute/SegmentOpener.sol`,
//! called through `SegmentOpenerHarness`) against the Rust segment codec
//! (`rollup_primitives::{decode_segment, tx_leaf}`), run in revm; and of the seal's ordered
//! trie (`contracts/src/libraries/OrderedTrie.sol`) against `alloy_trie`'s.
//!
//! The two are one consensus rule written twice: for every input they must give the same verdict
//! and, when the segment is valid, the same leaves. And the opener must never revert on content
//! and must stay under [`GAS_BOUND`] on the worst segments the limits allow.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address};
use alloy_rlp::BufMut;
use alloy_sol_types::{SolCall, sol};
use proptest::{collection::vec, prelude::*, strategy::ValueTree};
use rollup_execution::{
    SPEC_ID,
    revm::{
        Context, ExecuteEvm, MainBuilder, MainContext, MainnetEvm,
        context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
        database::{CacheDB, EmptyDB},
        handler::MainnetContext,
        state::{AccountInfo, Bytecode},
    },
};
use rollup_primitives::{
    MAX_SEGMENT_PAYLOAD, MAX_SEGMENT_SIZE, MAX_TRANSACTIONS_PER_SEGMENT, artifacts::Artifact,
    decode_segment, encode_segment, flz_compress, flz_decompress, merkle_root, segment_tx_root,
    tx_leaf,
};

sol! {
    function open(bytes compressed, uint256 txCount, uint256 chainId)
        external pure returns (bool ok, bytes32 txRoot);
    function openLeaves(bytes compressed, uint256 txCount, uint256 chainId)
        external pure returns (bool ok, bytes32[] leaves);
    function orderedTrieRoot(bytes[] values) external pure returns (bytes32 root);
}

const CHAIN_ID: u64 = 42_069;
/// Where the harness's runtime code is placed.
const HARNESS: Address = address!("0x5e65000000000000000000000000000000000001");
const CALLER: Address = address!("0x00000000000000000000000000000000ca11e400");
/// The most gas opening one segment may take: it must fit a transaction under EIP-7825's cap.
const GAS_BOUND: u64 = 1 << 24;
/// The gas limit of the calls, far above the bound so an overrun is measured, not cut off.
const CALL_GAS_LIMIT: u64 = 200_000_000;

const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];

type HarnessEvm = MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>;

/// `SegmentOpenerHarness` deployed in an in-memory revm.
struct Harness {
    evm: HarnessEvm,
}

/// What the opener said about one segment.
#[derive(Debug)]
struct Opened {
    /// The leaves, or `None` if the opener rejected the segment.
    leaves: Option<Vec<B256>>,
}

impl Harness {
    fn new() -> Self {
        let artifact: Artifact = serde_json::from_str(include_str!(
            "../../../contracts/artifacts/SegmentOpenerHarness.json"
        ))
        .expect("contracts/artifacts/SegmentOpenerHarness.json is corrupt: regenerate it");
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            HARNESS,
            AccountInfo::from_bytecode(Bytecode::new_raw(artifact.deployed_bytecode)),
        );
        let mut cfg = CfgEnv::new_with_spec(SPEC_ID);
        cfg.chain_id = CHAIN_ID;
        cfg.disable_nonce_check = true;
        cfg.disable_base_fee = true;
        cfg.disable_balance_check = true;
        let block = BlockEnv {
            gas_limit: CALL_GAS_LIMIT,
            ..Default::default()
        };
        let evm = Context::mainnet()
            .with_db(db)
            .with_cfg(cfg)
            .with_block(block)
            .build_mainnet();
        Self { evm }
    }

    /// Calls the harness; the opener never reverts, so anything but success fails the test.
    fn call(&mut self, data: Vec<u8>) -> (Bytes, u64) {
        let tx = TxEnv {
            caller: CALLER,
            kind: TxKind::Call(HARNESS),
            data: data.into(),
            gas_limit: CALL_GAS_LIMIT,
            chain_id: Some(CHAIN_ID),
            ..Default::default()
        };
        let result = self.evm.transact(tx).expect("revm accepts the call").result;
        let gas = result.tx_gas_used();
        match result {
            ExecutionResult::Success { output, .. } => (output.into_data(), gas),
            other => panic!("the opener must not revert or halt on any content: {other:?}"),
        }
    }

    fn open_leaves(&mut self, segment: &[u8], tx_count: usize) -> Opened {
        let call = openLeavesCall {
            compressed: segment.to_vec().into(),
            txCount: U256::from(tx_count),
            chainId: U256::from(CHAIN_ID),
        };
        let (output, _) = self.call(call.abi_encode());
        let returned = openLeavesCall::abi_decode_returns(&output)
            .expect("openLeaves returns (bool, bytes32[])");
        if !returned.ok {
            assert!(returned.leaves.is_empty(), "no leaves on failure");
        }
        Opened {
            leaves: returned.ok.then_some(returned.leaves),
        }
    }

    fn open(&mut self, segment: &[u8], tx_count: usize) -> (Option<B256>, u64) {
        let call = openCall {
            compressed: segment.to_vec().into(),
            txCount: U256::from(tx_count),
            chainId: U256::from(CHAIN_ID),
        };
        let (output, gas) = self.call(call.abi_encode());
        let returned = openCall::abi_decode_returns(&output).expect("open returns (bool, bytes32)");
        (returned.ok.then_some(returned.txRoot), gas)
    }
}

/// The Rust side's verdict and leaves.
fn rust_leaves(segment: &[u8], tx_count: usize) -> Option<Vec<B256>> {
    decode_segment(segment, tx_count, CHAIN_ID)
        .ok()
        .map(|txs| txs.iter().map(tx_leaf).collect())
}

// ------------------------------------------------------------------------------------------
// (a) Random transaction lists: encoded by Rust, opened by Solidity.

fn arb_address() -> impl Strategy<Value = Address> {
    prop_oneof![
        3 => (1u8..7).prop_map(Address::with_last_byte),
        1 => any::<[u8; 20]>().prop_map(Address::from),
    ]
}

fn arb_value() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        (1u64..1000, 0u64..30).prop_map(|(m, e)| U256::from(m) * U256::from(10).pow(U256::from(e))),
        any::<u64>().prop_map(U256::from),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn arb_fee() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(1_000_000_000),
        (1u128..40).prop_map(|gwei| gwei * 1_000_000_000),
        any::<u128>(),
    ]
}

fn erc20_call(selector: [u8; 4], to: Address, amount: U256) -> Bytes {
    let mut input = selector.to_vec();
    input.extend([0; 12]);
    input.extend(to.as_slice());
    input.extend(amount.to_be_bytes::<32>());
    input.into()
}

fn arb_input() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        3 => Just(Bytes::new()),
        1 => Just(Bytes::from_static(&[0x7f])),
        1 => Just(Bytes::from_static(&[0x80])),
        3 => vec(any::<u8>(), 0..300).prop_map(Bytes::from),
        2 => (arb_address(), arb_value()).prop_map(|(to, amount)| erc20_call(TRANSFER, to, amount)),
        2 => (arb_address(), arb_value()).prop_map(|(to, amount)| erc20_call(APPROVE, to, amount)),
    ]
}

fn arb_access_list() -> impl Strategy<Value = AccessList> {
    vec((arb_address(), vec(any::<[u8; 32]>(), 0..4)), 0..4).prop_map(|items| {
        AccessList(
            items
                .into_iter()
                .map(|(address, keys)| AccessListItem {
                    address,
                    storage_keys: keys.into_iter().map(B256::from).collect(),
                })
                .collect(),
        )
    })
}

fn arb_signature() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<bool>(), 0u8..8).prop_map(
        |(r, s, parity, small)| {
            // Now and then an r or s with leading zero bytes, to exercise minimal integers.
            let r = U256::from_be_bytes(r) >> (usize::from(small) * 32);
            Signature::new(r, U256::from_be_bytes(s), parity)
        },
    )
}

#[derive(Debug, Clone)]
struct TxSpec {
    tx_type: u8,
    nonce: u64,
    gas_limit: u64,
    to: TxKind,
    value: U256,
    fee: u128,
    priority_fee: u128,
    input: Bytes,
    access_list: AccessList,
    signature: Signature,
}

impl TxSpec {
    fn envelope(self) -> TxEnvelope {
        let Self {
            tx_type,
            nonce,
            gas_limit,
            to,
            value,
            fee,
            priority_fee,
            input,
            access_list,
            signature,
        } = self;
        match tx_type {
            0 => TxLegacy {
                chain_id: Some(CHAIN_ID),
                nonce,
                gas_price: fee,
                gas_limit,
                to,
                value,
                input,
            }
            .into_signed(signature)
            .into(),
            1 => TxEip2930 {
                chain_id: CHAIN_ID,
                nonce,
                gas_price: fee,
                gas_limit,
                to,
                value,
                access_list,
                input,
            }
            .into_signed(signature)
            .into(),
            _ => TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: fee,
                max_priority_fee_per_gas: priority_fee,
                to,
                value,
                access_list,
                input,
            }
            .into_signed(signature)
            .into(),
        }
    }
}

fn arb_tx() -> impl Strategy<Value = TxEnvelope> {
    (
        (0u8..3, prop_oneof![0u64..6, any::<u64>()]),
        prop_oneof![Just(21_000u64), 21_000u64..200_000, any::<u64>()],
        prop_oneof![1 => Just(TxKind::Create), 6 => arb_address().prop_map(TxKind::Call)],
        arb_value(),
        (arb_fee(), arb_fee()),
        arb_input(),
        arb_access_list(),
        arb_signature(),
    )
        .prop_map(
            |(
                (tx_type, nonce),
                gas_limit,
                to,
                value,
                (fee, priority_fee),
                input,
                access_list,
                signature,
            )| {
                TxSpec {
                    tx_type,
                    nonce,
                    gas_limit,
                    to,
                    value,
                    fee,
                    priority_fee,
                    input,
                    access_list,
                    signature,
                }
                .envelope()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every list the Rust encoder writes opens on chain, to the same leaves and root.
    #[test]
    fn encoded_segments_open_to_the_same_leaves(txs in vec(arb_tx(), 1..20)) {
        let segment = encode_segment(&txs).expect("small lists fit a segment");
        let expected: Vec<B256> = txs.iter().map(tx_leaf).collect();
        prop_assert_eq!(rust_leaves(&segment, txs.len()), Some(expected.clone()));

        let mut harness = Harness::new();
        let opened = harness.open_leaves(&segment, txs.len());
        prop_assert_eq!(opened.leaves, Some(expected));
        let (root, _) = harness.open(&segment, txs.len());
        prop_assert_eq!(root, Some(segment_tx_root(&txs)));
    }
}

/// The ordered trie root of `values` as the node's headers compute it.
fn rust_ordered_root(values: &[Bytes]) -> B256 {
    alloy_consensus::proofs::ordered_trie_root_with_encoder(values, |value, out| {
        out.put_slice(value)
    })
}

impl Harness {
    fn ordered_trie_root(&mut self, values: Vec<Bytes>) -> (B256, u64) {
        let (output, gas) = self.call(orderedTrieRootCall { values }.abi_encode());
        (
            orderedTrieRootCall::abi_decode_returns(&output).unwrap(),
            gas,
        )
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `OrderedTrie.root` agrees with `alloy_trie` on every list: short values (nodes inlined
    /// in their parents) and long ones, across the key widths (one byte below 128, two below
    /// 256, three above).
    #[test]
    fn ordered_trie_roots_agree(
        count in prop_oneof![0usize..20, 120usize..140, 250usize..300],
        sizes in vec(0usize..80, 1..8),
    ) {
        let values: Vec<Bytes> = (0..count)
            .map(|i| {
                let size = sizes[i % sizes.len()];
                Bytes::from((0..size).map(|j| (i * 31 + j * 7) as u8).collect::<Vec<u8>>())
            })
            .collect();
        let expected = rust_ordered_root(&values);
        let (root, _) = Harness::new().ordered_trie_root(values);
        prop_assert_eq!(root, expected);
    }
}

// ------------------------------------------------------------------------------------------
// (b) Mutated, truncated and random segments: the same verdict, and the same leaves when valid.

/// One way to damage a valid segment.
#[derive(Debug, Clone)]
enum Mutation {
    /// Set one payload byte (re-compressed).
    PayloadByte { position: usize, value: u8 },
    /// Insert a payload byte.
    PayloadInsert { position: usize, value: u8 },
    /// Delete a payload byte.
    PayloadDelete { position: usize },
    /// Cut the payload short.
    PayloadTruncate { keep: usize },
    /// Set one byte of the compressed stream.
    CompressedByte { position: usize, value: u8 },
    /// Cut the compressed stream short.
    CompressedTruncate { keep: usize },
    /// Claim one transaction more or fewer.
    TxCount { delta: i8 },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    // Positions are taken modulo the length; small ones hit the counts and columns up front.
    let position = prop_oneof![0usize..64, any::<usize>()];
    prop_oneof![
        4 => (position.clone(), any::<u8>())
            .prop_map(|(position, value)| Mutation::PayloadByte { position, value }),
        2 => (position.clone(), any::<u8>())
            .prop_map(|(position, value)| Mutation::PayloadInsert { position, value }),
        2 => position.clone().prop_map(|position| Mutation::PayloadDelete { position }),
        1 => any::<usize>().prop_map(|keep| Mutation::PayloadTruncate { keep }),
        2 => (position, any::<u8>())
            .prop_map(|(position, value)| Mutation::CompressedByte { position, value }),
        1 => any::<usize>().prop_map(|keep| Mutation::CompressedTruncate { keep }),
        1 => prop_oneof![Just(-1i8), Just(1i8)].prop_map(|delta| Mutation::TxCount { delta }),
    ]
}

/// Applies `mutation`; `None` if it needs a payload and the segment has none left.
fn mutate(segment: &[u8], tx_count: usize, mutation: &Mutation) -> Option<(Vec<u8>, usize)> {
    let mut compressed = segment.to_vec();
    let mut count = tx_count;
    match *mutation {
        Mutation::CompressedByte { position, value } => {
            let len = compressed.len();
            if len == 0 {
                return None;
            }
            compressed[position % len] = value;
        }
        Mutation::CompressedTruncate { keep } => {
            compressed.truncate(keep % compressed.len().max(1));
        }
        Mutation::TxCount { delta } => count = count.saturating_add_signed(isize::from(delta)),
        _ => {
            let mut payload = flz_decompress(segment, MAX_SEGMENT_PAYLOAD).ok()?;
            let len = payload.len();
            if len == 0 {
                return None;
            }
            match *mutation {
                Mutation::PayloadByte { position, value } => payload[position % len] = value,
                Mutation::PayloadInsert { position, value } => {
                    payload.insert(position % (len + 1), value);
                }
                Mutation::PayloadDelete { position } => {
                    payload.remove(position % len);
                }
                Mutation::PayloadTruncate { keep } => payload.truncate(keep % len),
                _ => unreachable!("stream and count mutations are handled above"),
            }
            compressed = flz_compress(&payload);
        }
    }
    Some((compressed, count))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Damaged segments: both sides agree on the verdict and, when still valid, on the leaves.
    #[test]
    fn mutated_segments_get_the_same_verdict(
        txs in vec(arb_tx(), 1..8),
        mutations in vec(arb_mutation(), 1..4),
    ) {
        let mut segment = encode_segment(&txs).expect("small lists fit a segment");
        let mut tx_count = txs.len();
        let mut harness = Harness::new();
        for mutation in &mutations {
            let Some(mutated) = mutate(&segment, tx_count, mutation) else {
                continue;
            };
            (segment, tx_count) = mutated;
            let expected = rust_leaves(&segment, tx_count);
            let opened = harness.open_leaves(&segment, tx_count);
            prop_assert_eq!(opened.leaves, expected, "mutation {:?}", mutation);
        }
    }

    /// Random streams and random payloads: the same verdict (almost always "invalid").
    #[test]
    fn random_segments_get_the_same_verdict(
        bytes in vec(any::<u8>(), 0..600),
        tx_count in 0usize..6,
        compress in any::<bool>(),
    ) {
        let segment = if compress { flz_compress(&bytes) } else { bytes };
        let opened = Harness::new().open_leaves(&segment, tx_count);
        prop_assert_eq!(opened.leaves, rust_leaves(&segment, tx_count));
    }
}

/// One access-list entry as written: its index and key count with `extra` continuation bytes
/// each (non-minimal, or over-long past 10 bytes), and its keys.
#[derive(Debug, Clone)]
struct RawEntry {
    index: u64,
    /// Past the table (an invalid entry).
    past: bool,
    index_extra: usize,
    keys: u8,
    keys_extra: usize,
}

/// A varint of `value` padded with `extra` redundant continuation bytes.
fn padded_varint(out: &mut Vec<u8>, mut value: u64, extra: usize) {
    let mut groups = Vec::new();
    loop {
        groups.push((value & 0x7f) as u8);
        value >>= 7;
        if value == 0 {
            break;
        }
    }
    groups.extend(std::iter::repeat_n(0, extra));
    let last = groups.len() - 1;
    for (i, group) in groups.into_iter().enumerate() {
        out.push(if i < last { group | 0x80 } else { group });
    }
}

/// Redundant varint bytes: mostly none, sometimes up to the 10-byte limit, rarely past it.
fn arb_padding() -> impl Strategy<Value = usize> {
    prop_oneof![120 => Just(0usize), 60 => 1usize..3, 16 => 3usize..9, 1 => 9usize..12]
}

fn arb_raw_entry() -> impl Strategy<Value = RawEntry> {
    (
        prop_oneof![8 => 0u64..4, 2 => 0u64..300, 1 => any::<u64>()],
        prop::bool::weighted(0.005),
        arb_padding(),
        prop_oneof![8 => Just(0u8), 1 => 1u8..3],
        arb_padding(),
    )
        .prop_map(|(index, past, index_extra, keys, keys_extra)| RawEntry {
            index,
            past,
            index_extra,
            keys,
            keys_extra,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Access lists written in every encoding the format accepts (and some it does not), as
    /// the word-parallel reader sees them: runs of short entries, non-minimal and over-long
    /// varints, keys, indexes past the table, around the 128-address mark.
    #[test]
    fn access_list_encodings_get_the_same_verdict(
        addresses in prop_oneof![Just(1usize), Just(4), Just(129), Just(300)],
        lists in vec(vec(arb_raw_entry(), 0..60), 1..4),
        claimed_extra in prop_oneof![8 => Just(0i64), 1 => -1i64..2],
        expensive in any::<bool>(),
    ) {
        let n = lists.len();
        let mut p = Payload::default();
        p.addresses(addresses);
        p.bytes(&vec![1; n]).bytes(&vec![0; n.div_ceil(8)]);
        p.bytes(&vec![0; n]).bytes(&vec![5; n]); // nonces
        p.bytes(&vec![0; n.div_ceil(2)]);
        for _ in 0..n {
            p.varint(21_000);
        }
        p.bytes(&vec![1; n]).bytes(&vec![0; n]); // to, value
        p.bytes(&vec![0; n.div_ceil(2)]);
        for _ in 0..n {
            p.bytes(&[10, 1]);
        }
        p.bytes(&vec![0; n]); // no calldata
        for list in &lists {
            p.varint((list.len() as i64 + claimed_extra).max(0) as u64);
            for entry in list {
                let index = if entry.past {
                    addresses as u64 + entry.index % 3
                } else {
                    entry.index % addresses as u64
                };
                padded_varint(&mut p.0, index, entry.index_extra);
                padded_varint(&mut p.0, u64::from(entry.keys), entry.keys_extra);
                for k in 0..entry.keys {
                    p.bytes(&[k + 1; 32]);
                }
            }
        }
        p.signatures(n);
        let Some(segment) = fits(p.0, expensive) else {
            return Ok(());
        };
        let opened = Harness::new().open_leaves(&segment, n);
        prop_assert_eq!(opened.leaves, rust_leaves(&segment, n));
    }
}

/// Every prefix of a valid payload and of its compressed stream, and every transaction count
/// around the right one.
#[test]
fn truncations_get_the_same_verdict() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let txs = vec(arb_tx(), 3..4)
        .new_tree(&mut runner)
        .expect("a value")
        .current();
    let segment = encode_segment(&txs).expect("fits");
    let payload = flz_decompress(&segment, MAX_SEGMENT_PAYLOAD).expect("valid");
    let mut harness = Harness::new();
    for keep in (0..payload.len()).step_by(3) {
        let cut = flz_compress(&payload[..keep]);
        let opened = harness.open_leaves(&cut, txs.len());
        assert_eq!(
            opened.leaves,
            rust_leaves(&cut, txs.len()),
            "payload cut at {keep}"
        );
    }
    for keep in 0..segment.len() {
        let opened = harness.open_leaves(&segment[..keep], txs.len());
        assert_eq!(
            opened.leaves,
            rust_leaves(&segment[..keep], txs.len()),
            "stream cut at {keep}"
        );
    }
    for tx_count in [0, 1, 2, 4, 5, 256, 257, usize::MAX >> 1] {
        let opened = harness.open_leaves(&segment, tx_count);
        assert_eq!(
            opened.leaves,
            rust_leaves(&segment, tx_count),
            "{tx_count} transactions"
        );
    }
    let opened = harness.open_leaves(&segment, txs.len());
    assert_eq!(
        opened.leaves.as_deref().map(merkle_root),
        Some(segment_tx_root(&txs))
    );
}

// ------------------------------------------------------------------------------------------
// (c) Adversarial segments: the most expensive the limits allow, and their gas.

/// Appends payload fields.
#[derive(Default)]
struct Payload(Vec<u8>);

impl Payload {
    fn varint(&mut self, mut value: u64) -> &mut Self {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
        self
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The address table: `count` distinct addresses.
    fn addresses(&mut self, count: usize) -> &mut Self {
        self.varint(count as u64);
        for i in 0..count {
            let mut address = [0x11; 20];
            address[..8].copy_from_slice(&(i as u64).to_be_bytes());
            self.bytes(&address);
        }
        self
    }

    /// One transaction of type `tx_type` up to its calldata (raw, `calldata` bytes of 0x5a),
    /// with the first address as recipient.
    fn one_tx_head(&mut self, tx_type: u8, calldata: usize) -> &mut Self {
        self.bytes(&[tx_type, 0]); // type, parity
        self.bytes(&[0, 5]); // nonce: a literal 5
        self.bytes(&[0]).varint(21_000); // gas limit
        self.bytes(&[1, 0]); // to address 0, value 0
        self.bytes(&[0, 10, 1]); // fee: 10^9
        if tx_type == 2 {
            self.bytes(&[0, 10, 1]);
        }
        self.varint(2 * calldata as u64);
        self.bytes(&vec![0x5a; calldata])
    }

    fn signatures(&mut self, count: usize) -> &mut Self {
        for i in 0..count {
            let mut rs = [0x77u8; 64];
            rs[..8].copy_from_slice(&(i as u64).to_be_bytes());
            self.bytes(&rs);
        }
        self
    }
}

/// A FastLZ stream of `payload` made of as many instructions as possible: 4-byte (else
/// 3-byte) matches at the smallest distance up to 8 that repeats the next bytes, otherwise
/// one-byte literal runs. 16,384 such matches, the most a 32 KiB segment holds, make exactly
/// the largest payload: the most work for the decompressor and then for the parser at once.
fn compress_expensively(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut i = 0;
    while i < payload.len() {
        let found = [4, 3].into_iter().find_map(|len| {
            (1..=8.min(i))
                .find(|&d| {
                    i + len <= payload.len()
                        && (0..len).all(|k| payload[i + k] == payload[i + k - d])
                })
                .map(|d| (len, d))
        });
        match found {
            Some((len, d)) => {
                out.extend([((len - 2) << 5) as u8, (d - 1) as u8]);
                i += len;
            }
            None => {
                out.extend([0, payload[i]]);
                i += 1;
            }
        }
    }
    out
}

/// The largest `count` in `1..=max` for which `build(count)` fits both limits, and its segment.
fn largest_fitting(max: usize, build: impl Fn(usize) -> Option<Vec<u8>>) -> (usize, Vec<u8>) {
    let (mut low, mut high) = (1, max);
    let mut best = None;
    while low <= high {
        let mid = (low + high) / 2;
        match build(mid) {
            Some(segment) => {
                best = Some((mid, segment));
                low = mid + 1;
            }
            None => high = mid - 1,
        }
    }
    best.expect("the smallest case fits")
}

fn fits(payload: Vec<u8>, expensive: bool) -> Option<Vec<u8>> {
    if payload.len() > MAX_SEGMENT_PAYLOAD {
        return None;
    }
    let segment = if expensive {
        compress_expensively(&payload)
    } else {
        flz_compress(&payload)
    };
    (segment.len() <= MAX_SEGMENT_SIZE).then_some(segment)
}

/// One type-1 transaction whose access list is as many copies of `entry` as fit, after
/// `addresses` addresses. Returns the copies and the segment.
fn access_list_segment(entry: &[u8], addresses: usize, expensive: bool) -> (usize, Vec<u8>) {
    access_list_run(entry, 1, addresses, expensive)
}

/// As [`access_list_segment`], for `run` holding `per_copy` entries.
fn access_list_run(
    run: &[u8],
    per_copy: usize,
    addresses: usize,
    expensive: bool,
) -> (usize, Vec<u8>) {
    largest_fitting(MAX_SEGMENT_PAYLOAD, |count| {
        let mut p = Payload::default();
        p.addresses(addresses)
            .one_tx_head(1, 0)
            .varint((count * per_copy) as u64);
        for _ in 0..count {
            p.bytes(run);
        }
        p.signatures(1);
        fits(p.0, expensive)
    })
}

/// A measured adversarial case.
struct Case {
    name: String,
    segment: Vec<u8>,
    tx_count: usize,
}

fn adversarial_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut push = |name: String, segment: Vec<u8>, tx_count: usize| {
        cases.push(Case {
            name,
            segment,
            tx_count,
        });
    };

    // Typical: 200 EIP-1559 ETH transfers to distinct recipients, round values, one fee pair.
    let transfers: Vec<TxEnvelope> = (0..200u64)
        .map(|i| {
            TxSpec {
                tx_type: 2,
                nonce: i * 7 % 5000,
                gas_limit: 21_000,
                to: TxKind::Call(Address::from_word(alloy_primitives::keccak256(
                    i.to_be_bytes(),
                ))),
                value: U256::from(1 + i % 50) * U256::from(10_000_000_000_000_000u64),
                fee: 3_000_000_000,
                priority_fee: 1_000_000_000,
                input: Bytes::new(),
                access_list: AccessList::default(),
                signature: Signature::new(
                    U256::from_be_bytes(alloy_primitives::keccak256([1, i as u8]).0),
                    U256::from_be_bytes(alloy_primitives::keccak256([2, i as u8]).0) >> 1,
                    i % 2 == 0,
                ),
            }
            .envelope()
        })
        .collect();
    push(
        "typical: 200 ETH transfers".into(),
        encode_segment(&transfers).expect("fits"),
        transfers.len(),
    );

    // Access lists of entries without keys: 2 payload bytes make 23 RLP bytes, hashed 3 times.
    for expensive in [false, true] {
        let compression = if expensive { "short matches" } else { "FastLZ" };
        let (count, segment) = access_list_segment(&[0, 0], 1, expensive);
        push(
            format!("access list: {count} entries, 1-byte index, no keys ({compression})"),
            segment,
            1,
        );
        // Non-minimal index varints take the general path: 3 bytes per entry.
        let (count, segment) = access_list_segment(&[0x80, 0, 0], 1, expensive);
        push(
            format!("access list: {count} entries, non-minimal index ({compression})"),
            segment,
            1,
        );
        let (count, segment) = access_list_segment(&[0, 0x80, 0], 1, expensive);
        push(
            format!("access list: {count} entries, non-minimal key count ({compression})"),
            segment,
            1,
        );
        let (count, segment) = access_list_segment(&[0x80, 0x80, 0, 0], 1, expensive);
        push(
            format!("access list: {count} entries, 3-byte index ({compression})"),
            segment,
            1,
        );
        let (count, segment) = access_list_segment(&[0x80, 0x80, 0, 0x80, 0], 1, expensive);
        push(
            format!("access list: {count} entries, 3+2-byte varints ({compression})"),
            segment,
            1,
        );
    }
    // Entries the word-parallel reader must stop at: six non-minimal ones, then one with a key.
    for expensive in [false, true] {
        let mut entry = [0x80, 0, 0].repeat(6);
        entry.extend([0, 1]);
        entry.extend([0u8; 32]);
        let (count, segment) = access_list_run(&entry, 7, 1, expensive);
        push(
            format!(
                "access list: {count} x (6 non-minimal entries, 1 with a key){}",
                if expensive { " (short matches)" } else { "" }
            ),
            segment,
            1,
        );
    }
    // Two-byte minimal indexes (a table of 129+ addresses).
    let (count, segment) = access_list_segment(&[0x80, 0x01, 0], 129, false);
    push(
        format!("access list: {count} entries, index 128"),
        segment,
        1,
    );
    // One key per entry: 34 payload bytes make 57 RLP bytes.
    for expensive in [false, true] {
        let mut entry = vec![0, 1];
        entry.extend([0u8; 32]);
        let (count, segment) = access_list_segment(&entry, 1, expensive);
        push(
            format!(
                "access list: {count} entries of one key{}",
                if expensive { " (short matches)" } else { "" }
            ),
            segment,
            1,
        );
    }
    let mut key_entry = vec![0, 100];
    key_entry.extend([0u8; 3200]);
    let (count, segment) = access_list_segment(&key_entry, 1, false);
    push(
        format!("access list: {count} entries of 100 keys"),
        segment,
        1,
    );

    // Access lists spread over the most transactions: short lists of non-minimal entries, then
    // as long as they fit.
    let most = MAX_SEGMENT_PAYLOAD / 512;
    for (entry, max) in [
        (&[0x80u8, 0, 0][..], 15),
        (&[0x80, 0, 0][..], most),
        (&[0, 0][..], most),
    ] {
        for expensive in [false, true] {
            let (per_tx, segment) = largest_fitting(max, |count| {
                let n = MAX_TRANSACTIONS_PER_SEGMENT;
                let mut p = Payload::default();
                p.addresses(1);
                p.bytes(&vec![1; n]).bytes(&vec![0; n / 8]);
                p.bytes(&vec![0; n]).bytes(&vec![5; n]); // nonces: literals
                p.bytes(&vec![0; n / 2]);
                for _ in 0..n {
                    p.varint(21_000);
                }
                p.bytes(&vec![1; n]).bytes(&vec![0; n]); // to, value
                p.bytes(&vec![0; n / 2]);
                for _ in 0..n {
                    p.bytes(&[10, 1]);
                }
                p.bytes(&vec![0; n]); // no calldata
                for _ in 0..n {
                    p.varint(count as u64);
                    for _ in 0..count {
                        p.bytes(entry);
                    }
                }
                p.signatures(n);
                fits(p.0, expensive)
            });
            push(
                format!(
                    "256 type-1 transactions x {per_tx} access-list entries of {} bytes{}",
                    entry.len(),
                    if expensive { " (short matches)" } else { "" }
                ),
                segment,
                MAX_TRANSACTIONS_PER_SEGMENT,
            );
        }
    }

    // Calldata: one transaction with as much as fits, and 256 transactions with as much each.
    for tx_type in [0, 2] {
        let (len, segment) = largest_fitting(MAX_SEGMENT_PAYLOAD, |len| {
            let mut p = Payload::default();
            p.addresses(1).one_tx_head(tx_type, len);
            if tx_type != 0 {
                p.varint(0);
            }
            p.signatures(1);
            fits(p.0, false)
        });
        push(
            format!("one type-{tx_type} transaction with {len} bytes of calldata"),
            segment,
            1,
        );
    }
    let (len, segment) = largest_fitting(MAX_SEGMENT_PAYLOAD / 256, |len| {
        let txs: Vec<TxEnvelope> = (0..MAX_TRANSACTIONS_PER_SEGMENT as u64)
            .map(|i| {
                TxSpec {
                    tx_type: (i % 3) as u8,
                    nonce: i,
                    gas_limit: 1_000_000 + i,
                    to: TxKind::Call(Address::with_last_byte(i as u8)),
                    value: U256::from(i),
                    fee: u128::from(i) + 1,
                    priority_fee: u128::from(i) + 2,
                    input: vec![i as u8; len].into(),
                    access_list: AccessList::default(),
                    signature: Signature::new(U256::MAX - U256::from(i), U256::MAX, false),
                }
                .envelope()
            })
            .collect();
        encode_segment(&txs).ok()
    });
    push(
        format!("256 transactions of all types, {len} bytes of calldata each, distinct fees"),
        segment,
        MAX_TRANSACTIONS_PER_SEGMENT,
    );

    // Recent columns: 256 literals each, as long as they may be (non-minimal varints), and
    // references to the deepest recent entry.
    {
        let n = MAX_TRANSACTIONS_PER_SEGMENT;
        let mut p = Payload::default();
        p.addresses(1);
        p.bytes(&vec![2; n]).bytes(&vec![0xff; n / 8]);
        for _ in 0..n {
            p.bytes(&[0x80; 9]).bytes(&[0]); // nonce distance 0, in 10 bytes
        }
        for i in 0..n {
            p.bytes(&[0xff; 9]).bytes(&[(i % 2) as u8]); // nonce literals in 10 bytes
        }
        // Gas: 15 literals then code 15 (the deepest), alternating.
        let codes = |i: usize| if i < 15 { 0u8 } else { 15 };
        let packed = |p: &mut Payload| {
            for pair in 0..n / 2 {
                p.bytes(&[codes(2 * pair) | (codes(2 * pair + 1) << 4)]);
            }
        };
        packed(&mut p);
        for i in 0..15u8 {
            p.bytes(&[0xff; 8]).bytes(&[0x80 | i, 0]); // 2^63-ish, 10 bytes
        }
        p.bytes(&vec![1; n]); // to
        for _ in 0..n {
            p.bytes(&[1]).bytes(&[0xff; 36]).bytes(&[0x0f]); // value 2^256 - 1 in 38 bytes
        }
        for _ in 0..2 {
            packed(&mut p);
            for i in 0..15u8 {
                // Fees below 2^128 written in 37 bytes: mantissa i+1, e = 0.
                p.bytes(&[1, 0x80 | (i + 1)]).bytes(&[0x80; 35]).bytes(&[0]);
            }
        }
        p.bytes(&vec![0; n]); // calldata
        for _ in 0..n {
            p.varint(0); // empty access lists
        }
        p.signatures(n);
        for expensive in [false, true] {
            let segment = fits(p.0.clone(), expensive).expect("fits");
            push(
                format!(
                    "256 transactions, longest literals and deepest recent references{}",
                    if expensive { " (short matches)" } else { "" }
                ),
                segment,
                n,
            );
        }
    }

    // The decompressor alone: the most instructions, each the dearest kind (a 3-byte run at
    // distance 1); the payload is then rejected at once.
    let mut runs = vec![0, 0x42];
    while runs.len() + 2 <= MAX_SEGMENT_SIZE {
        runs.extend([0x20, 0]);
    }
    push("16k short runs (decompression only)".into(), runs, 1);
    cases
}

#[test]
fn adversarial_segments_stay_under_the_gas_bound() {
    let mut harness = Harness::new();
    let mut worst = (0, String::new());
    for case in adversarial_cases() {
        let expected = rust_leaves(&case.segment, case.tx_count);
        let opened = harness.open_leaves(&case.segment, case.tx_count);
        assert_eq!(
            opened.leaves, expected,
            "{}: verdicts or leaves differ",
            case.name
        );
        let (root, gas) = harness.open(&case.segment, case.tx_count);
        assert_eq!(
            root,
            expected.as_deref().map(merkle_root),
            "{}: root",
            case.name
        );
        eprintln!(
            "{:>10} gas  {:>5} B  {}{}",
            gas,
            case.segment.len(),
            case.name,
            if expected.is_some() {
                ""
            } else {
                " [rejected]"
            }
        );
        if gas > worst.0 {
            worst = (gas, case.name.clone());
        }
        assert!(
            gas < GAS_BOUND,
            "{}: opening takes {gas} gas, over the bound of {GAS_BOUND}",
            case.name
        );
    }
    eprintln!("worst: {} gas ({})", worst.0, worst.1);
}
