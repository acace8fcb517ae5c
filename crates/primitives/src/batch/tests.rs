//! Round trips, adversarial inputs and the bytes-per-transaction measurement of the codec.

use super::*;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::keccak256;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use proptest::prelude::*;

const CHAIN_ID: u64 = 42_069;

/// Deterministic test data generator (xorshift64*).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    pub(super) fn bytes(&mut self, len: usize, alphabet: u64) -> Vec<u8> {
        (0..len).map(|_| self.below(alphabet) as u8).collect()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn address(&mut self) -> Address {
        Address::from_slice(&self.bytes(20, 256))
    }

    /// An amount as people pick them (1-3 significant digits) or as contracts compute them.
    fn amount(&mut self, round_percent: u64, min_exp: u32, max_exp: u32) -> U256 {
        let exp = min_exp + self.below(u64::from(max_exp - min_exp + 1)) as u32;
        if self.chance(round_percent) {
            let digits = [9, 99, 999][self.below(3) as usize];
            U256::from(1 + self.below(digits)) * U256::from(10).pow(U256::from(exp))
        } else {
            U256::from(self.next()) % U256::from(10).pow(U256::from(exp + 2))
        }
    }
}

fn signer(name: &str) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256(name)).unwrap()
}

fn sign<T: SignableTransaction<Signature>>(signer: &PrivateKeySigner, tx: T) -> TxEnvelope
where
    alloy_consensus::Signed<T>: Into<TxEnvelope>,
{
    let signature = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    tx.into_signed(signature).into()
}

/// The kind of traffic a measured batch carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Traffic {
    /// ETH transfers only.
    Transfers,
    /// ETH transfers, ERC-20 transfers and swaps.
    Mix,
}

/// `tx_count` signed transactions from 50 senders to 100 recipients, 20 per block, with nonces,
/// fees and amounts shaped like a busy L2's.
fn realistic_batch(traffic: Traffic, tx_count: usize, seed: u64) -> Batch {
    let mut rng = Rng(seed);
    let senders: Vec<_> = (0..50).map(|i| signer(&format!("sender {i}"))).collect();
    let mut nonces: Vec<u64> = (0..50).map(|_| rng.below(3_000)).collect();
    let recipients: Vec<_> = (0..100).map(|_| rng.address()).collect();
    // (address, decimals, gas estimate)
    let tokens: Vec<_> = [(6, 41_309), (6, 46_109), (18, 34_612), (18, 29_962)]
        .map(|(d, g)| (rng.address(), d, g))
        .to_vec();
    let weth = rng.address();
    let routers = [rng.address(), rng.address()];

    let mut base_fees = vec![1_000_000u128 + u128::from(rng.below(500_000))];
    let mut blocks = Vec::new();
    let mut timestamp = 1_750_000_000;
    let mut l1_origin = 22_000_000;
    let mut made = 0;
    while made < tx_count {
        let base_fee = *base_fees.last().unwrap();
        let mut transactions = Vec::new();
        for _ in 0..20.min(tx_count - made) {
            let from = rng.below(50) as usize;
            let nonce = nonces[from];
            nonces[from] += 1;
            // Wallets price from a recent block's base fee with a 2x margin plus a tip.
            let seen = base_fees[base_fees.len().saturating_sub(1 + rng.below(3) as usize)];
            let tip = match rng.below(10) {
                0..=5 => 1_000_000,
                6..=7 => 10_000_000,
                _ => u128::from(rng.below(5_000_000)),
            };
            let max_fee = 2 * seen + tip;
            let kind = match traffic {
                Traffic::Transfers => 0,
                Traffic::Mix => match rng.below(100) {
                    0..=44 => 0,
                    45..=84 => 1,
                    _ => 2,
                },
            };
            let (to, value, gas_limit, input) = match kind {
                0 => {
                    let to = recipients[rng.below(100) as usize];
                    (to, rng.amount(60, 14, 17), 21_000, Bytes::new())
                }
                1 => {
                    let (token, decimals, gas) = tokens[rng.below(4) as usize];
                    let to = recipients[rng.below(100) as usize];
                    let amount = rng.amount(60, decimals - 2, decimals + 2);
                    let mut input = ERC20_SELECTORS[0].to_vec();
                    input.extend([0; 12]);
                    input.extend(to.as_slice());
                    input.extend(amount.to_be_bytes::<32>());
                    (
                        token,
                        U256::ZERO,
                        gas * 3 / 2 + rng.below(2) * 17_100,
                        input.into(),
                    )
                }
                _ => {
                    // swapExactETHForTokens(amountOutMin, path, to, deadline): 196 bytes.
                    let (token, ..) = tokens[rng.below(4) as usize];
                    let mut input = vec![0x7f, 0xf3, 0x6a, 0xb5];
                    input.extend(U256::from(rng.next()).to_be_bytes::<32>());
                    input.extend(U256::from(0x80).to_be_bytes::<32>());
                    input.extend(B256::left_padding_from(senders[from].address().as_slice()));
                    input.extend(U256::from(timestamp + 1_200).to_be_bytes::<32>());
                    input.extend(U256::from(2).to_be_bytes::<32>());
                    input.extend(B256::left_padding_from(weth.as_slice()));
                    input.extend(B256::left_padding_from(token.as_slice()));
                    let router = routers[rng.below(2) as usize];
                    (
                        router,
                        rng.amount(60, 14, 17),
                        150_000 + rng.below(60_000),
                        input.into(),
                    )
                }
            };
            let signer = &senders[from];
            let tx = if rng.chance(10) {
                sign(
                    signer,
                    TxLegacy {
                        chain_id: Some(CHAIN_ID),
                        nonce,
                        gas_price: seen + tip,
                        gas_limit,
                        to: TxKind::Call(to),
                        value,
                        input,
                    },
                )
            } else {
                sign(
                    signer,
                    TxEip1559 {
                        chain_id: CHAIN_ID,
                        nonce,
                        gas_limit,
                        max_fee_per_gas: max_fee,
                        max_priority_fee_per_gas: tip,
                        to: TxKind::Call(to),
                        value,
                        access_list: AccessList::default(),
                        input,
                    },
                )
            };
            transactions.push(tx);
        }
        made += transactions.len();
        blocks.push(BatchBlock {
            timestamp,
            l1_origin,
            transactions,
        });
        timestamp += 2;
        if blocks.len() % 6 == 0 {
            l1_origin += 1;
        }
        // EIP-1559 style drift of at most 12.5% per block.
        let drift = base_fee / 8 * u128::from(rng.below(200)) / 100;
        base_fees.push((base_fee + drift).saturating_sub(base_fee / 8).max(1));
    }
    Batch {
        parent_hash: keccak256("parent"),
        blocks,
    }
}

/// A realistic payload, also used as a FastLZ cross-check vector.
pub(super) fn sample_payload() -> Vec<u8> {
    realistic_batch(Traffic::Mix, 60, 7)
        .encode_payload()
        .unwrap()
}

fn round_trip(batch: &Batch, chain_id: u64) {
    let encoded = batch.encode().unwrap();
    let decoded = Batch::decode(&encoded, chain_id).unwrap();
    assert_eq!(&decoded, batch);
    for (a, b) in decoded
        .blocks
        .iter()
        .flat_map(|b| &b.transactions)
        .zip(batch.blocks.iter().flat_map(|b| &b.transactions))
    {
        assert_eq!(a.tx_hash(), b.tx_hash());
        assert_eq!(a.encoded_2718(), b.encoded_2718());
    }
}

#[test]
fn realistic_batches_round_trip_with_identical_hashes() {
    for traffic in [Traffic::Transfers, Traffic::Mix] {
        let batch = realistic_batch(traffic, 200, 1);
        round_trip(&batch, CHAIN_ID);
        // Decoded signatures still recover the original senders.
        let decoded = Batch::decode(&batch.encode().unwrap(), CHAIN_ID).unwrap();
        let tx = &decoded.blocks[0].transactions[0];
        let original = &batch.blocks[0].transactions[0];
        use alloy_consensus::transaction::SignerRecoverable;
        assert_eq!(
            tx.recover_signer().unwrap(),
            original.recover_signer().unwrap()
        );
    }
}

/// Prints bytes per transaction for the comparison in docs/benchmarks.md; run with `--nocapture`.
#[test]
fn bytes_per_transaction() {
    println!(
        "{:<34} {:>8} {:>12} {:>8}",
        "traffic (500 txs)", "RLP", "FastLZ(RLP)", "v1"
    );
    for (traffic, name, brotli) in [
        (Traffic::Transfers, "ETH transfers", 83.0),
        (Traffic::Mix, "transfer/ERC-20/swap mix", 91.0),
    ] {
        let batch = realistic_batch(traffic, 500, 2);
        let n = batch.transaction_count() as f64;
        let rlp: Vec<u8> = batch
            .blocks
            .iter()
            .flat_map(|b| &b.transactions)
            .flat_map(|tx| tx.encoded_2718())
            .collect();
        let fastlz_rlp = flz_compress(&rlp).len() as f64 / n;
        let v1 = batch.encode().unwrap().len() as f64 / n;
        println!(
            "{name:<34} {:>8.1} {fastlz_rlp:>12.1} {v1:>8.1}",
            rlp.len() as f64 / n
        );
        assert!(
            v1 < fastlz_rlp,
            "{name}: v1 {v1:.1} B/tx is no better than FastLZ over RLP"
        );
        assert!(
            v1 < brotli,
            "{name}: v1 {v1:.1} B/tx misses the brotli-11 target of {brotli} B/tx"
        );
    }
}

#[test]
fn rejects_what_the_format_cannot_carry() {
    let batch = realistic_batch(Traffic::Transfers, 3, 3);
    let legacy = |chain_id| {
        sign(
            &signer("legacy"),
            TxLegacy {
                chain_id,
                gas_limit: 21_000,
                to: TxKind::Call(Address::ZERO),
                ..Default::default()
            },
        )
    };
    let with = |tx: TxEnvelope| {
        let mut batch = batch.clone();
        batch.blocks[0].transactions.push(tx);
        batch.encode()
    };
    assert_eq!(
        with(legacy(None)),
        Err(BatchError::MissingChainId { index: 3 })
    );
    assert_eq!(
        with(legacy(Some(1))),
        Err(BatchError::ChainIdMismatch {
            index: 3,
            expected: CHAIN_ID,
            found: 1
        })
    );
    assert!(with(legacy(Some(CHAIN_ID))).is_ok());
    let eip7702 = sign(
        &signer("7702"),
        alloy_consensus::TxEip7702 {
            chain_id: CHAIN_ID,
            ..Default::default()
        },
    );
    assert_eq!(
        with(eip7702),
        Err(BatchError::UnsupportedTxType {
            index: 3,
            tx_type: 4
        })
    );

    assert_eq!(
        Batch {
            parent_hash: B256::ZERO,
            blocks: vec![]
        }
        .encode(),
        Err(BatchError::NoBlocks)
    );
    let mut backwards = batch.clone();
    backwards.blocks.push(BatchBlock {
        timestamp: 1,
        l1_origin: u64::MAX,
        transactions: vec![],
    });
    assert!(matches!(
        backwards.encode(),
        Err(BatchError::NotMonotonic {
            field: "timestamp",
            ..
        })
    ));
}

#[test]
fn a_legacy_transaction_decodes_for_the_given_chain_only() {
    let batch = realistic_batch(Traffic::Transfers, 40, 4);
    let legacy = batch
        .blocks
        .iter()
        .flat_map(|b| &b.transactions)
        .position(|tx| tx.is_legacy());
    assert!(legacy.is_some(), "sample has a legacy transaction");
    let encoded = batch.encode().unwrap();
    // On another chain the same bytes are different transactions, with different hashes.
    let elsewhere = Batch::decode(&encoded, CHAIN_ID + 1).unwrap();
    assert_ne!(elsewhere, batch);
    assert_eq!(Batch::decode(&encoded, CHAIN_ID).unwrap(), batch);
}

#[test]
fn limits_are_enforced() {
    let empty_block = |timestamp| BatchBlock {
        timestamp,
        l1_origin: 0,
        transactions: vec![],
    };
    let many_blocks = Batch {
        parent_hash: B256::ZERO,
        blocks: (0..=MAX_BLOCKS_PER_BATCH as u64).map(empty_block).collect(),
    };
    assert_eq!(
        many_blocks.encode(),
        Err(BatchError::TooManyBlocks {
            count: MAX_BLOCKS_PER_BATCH + 1,
            max: MAX_BLOCKS_PER_BATCH
        })
    );
    let full = Batch {
        parent_hash: B256::ZERO,
        blocks: (0..MAX_BLOCKS_PER_BATCH as u64).map(empty_block).collect(),
    };
    round_trip(&full, CHAIN_ID);

    let tx = realistic_batch(Traffic::Transfers, 1, 5).blocks[0].transactions[0].clone();
    let many_txs = Batch {
        parent_hash: B256::ZERO,
        blocks: vec![BatchBlock {
            timestamp: 0,
            l1_origin: 0,
            transactions: vec![tx; MAX_TRANSACTIONS_PER_BATCH + 1],
        }],
    };
    assert_eq!(
        many_txs.encode(),
        Err(BatchError::TooManyTransactions {
            count: MAX_TRANSACTIONS_PER_BATCH + 1,
            max: MAX_TRANSACTIONS_PER_BATCH
        })
    );

    // Incompressible transactions overflow MAX_BATCH_SIZE.
    let big = realistic_batch(Traffic::Mix, 2_000, 6);
    assert!(matches!(
        big.encode(),
        Err(BatchError::TooLarge {
            max: MAX_BATCH_SIZE,
            ..
        })
    ));
    // And decode refuses oversized input before decompressing it.
    let mut oversized = vec![BATCH_VERSION_1];
    oversized.extend(vec![0; MAX_BATCH_SIZE]);
    assert!(matches!(
        Batch::decode(&oversized, CHAIN_ID),
        Err(BatchError::TooLarge { .. })
    ));

    // A zip bomb: a tiny stream expanding past MAX_PAYLOAD_SIZE.
    let bomb = flz_compress(&vec![0; MAX_PAYLOAD_SIZE + 1]);
    let mut data = vec![BATCH_VERSION_1];
    data.extend(&bomb);
    assert!(data.len() < MAX_BATCH_SIZE);
    assert!(matches!(
        Batch::decode(&data, CHAIN_ID),
        Err(BatchError::Decompress { .. })
    ));

    // A count that claims more transactions than the payload could hold.
    let mut w = Writer::default();
    w.bytes(&[0; 32]);
    w.varint(1);
    w.varint(0);
    w.varint(0);
    w.varint(MAX_TRANSACTIONS_PER_BATCH as u64);
    assert!(matches!(
        decode_raw_payload(&w.buf),
        Err(BatchError::Malformed { .. })
    ));
}

fn decode_raw_payload(payload: &[u8]) -> Result<Batch, BatchError> {
    let mut data = vec![BATCH_VERSION_1];
    data.extend(flz_compress(payload));
    Batch::decode(&data, CHAIN_ID)
}

#[test]
fn trailing_bytes_and_bad_headers_are_rejected() {
    let batch = realistic_batch(Traffic::Mix, 30, 8);
    let mut payload = batch.encode_payload().unwrap();
    assert_eq!(decode_raw_payload(&payload).unwrap(), batch);
    payload.push(0);
    assert_eq!(
        decode_raw_payload(&payload),
        Err(BatchError::TrailingBytes { count: 1 })
    );

    let encoded = batch.encode().unwrap();
    let mut trailing = encoded.clone();
    trailing.push(0);
    assert!(
        Batch::decode(&trailing, CHAIN_ID).is_err(),
        "a dangling FastLZ byte"
    );
    assert_eq!(Batch::decode(&[], CHAIN_ID), Err(BatchError::Empty));
    let mut other_version = encoded;
    other_version[0] = 2;
    assert_eq!(
        Batch::decode(&other_version, CHAIN_ID),
        Err(BatchError::UnknownVersion(2))
    );
}

#[test]
fn non_canonical_payloads_are_rejected() {
    let erc20 = |padding: u8| {
        let mut input = ERC20_SELECTORS[0].to_vec();
        input.extend([0; 12]);
        input[15] = padding;
        input.extend([0x11; 20]);
        input.extend([0; 31]);
        input.push(5);
        input
    };
    let tx = |input: Vec<u8>| {
        sign(
            &signer("a"),
            TxEip1559 {
                chain_id: CHAIN_ID,
                to: TxKind::Call(Address::repeat_byte(0x22)),
                input: input.into(),
                ..Default::default()
            },
        )
    };
    let batch = Batch {
        parent_hash: B256::ZERO,
        blocks: vec![BatchBlock {
            timestamp: 1,
            l1_origin: 2,
            transactions: vec![tx(erc20(0)), tx(erc20(1))],
        }],
    };
    round_trip(&batch, CHAIN_ID);
    // The second call is not in canonical ABI form, so it is stored raw; cleaning its padding
    // in the payload spells out an ERC-20 call that must have been stored compactly.
    let mut payload = batch.encode_payload().unwrap();
    let dirty = erc20(1);
    let at = payload
        .windows(dirty.len())
        .position(|w| w == dirty.as_slice())
        .unwrap();
    payload[at + 15] = 0;
    assert_eq!(
        decode_raw_payload(&payload),
        Err(BatchError::Malformed {
            offset: at + 68,
            reason: "raw calldata has the compact ERC-20 form"
        })
    );

    // A recent value written out again, codes past the recent values, dirty padding nibble.
    let column =
        |bytes: &[u8], len| read_recent_column(&mut Reader::new(bytes), len, Literal::Varint);
    assert_eq!(column(&[0x10, 5], 2).unwrap(), [U256::from(5); 2]);
    assert!(column(&[0x00, 5, 5], 2).is_err());
    assert!(column(&[0x20, 5], 2).is_err());
    assert!(column(&[0x10, 5], 1).is_err());
    // A nonce written out although nonce - 1 is in the batch, or referenced past the nearest.
    let nonces = |bytes: &[u8], len| read_nonce_column(&mut Reader::new(bytes), len);
    assert_eq!(nonces(&[0, 1, 0, 5, 9], 3).unwrap(), [5, 6, 9]);
    assert!(nonces(&[0, 0, 5, 6], 2).is_err());
    assert!(nonces(&[0, 2, 5], 2).is_err());
    assert!(
        nonces(&[0, 0, 2, 5, 5], 3).is_err(),
        "duplicate nonce 5 then a reference to the older one"
    );
    assert_eq!(nonces(&[0, 0, 1, 5, 5], 3).unwrap(), [5, 5, 6]);
}

#[test]
fn corrupted_batches_are_rejected_or_decode_canonically() {
    let batch = realistic_batch(Traffic::Mix, 40, 9);
    let encoded = batch.encode().unwrap();
    let payload = batch.encode_payload().unwrap();
    let mut rng = Rng(99);
    let mut accepted = 0;

    // Every truncation fails.
    for len in 0..encoded.len() {
        assert!(
            Batch::decode(&encoded[..len], CHAIN_ID).is_err(),
            "truncated to {len}"
        );
    }
    for len in 0..payload.len() {
        assert!(
            decode_raw_payload(&payload[..len]).is_err(),
            "payload truncated to {len}"
        );
    }

    // Bit flips in the compressed stream and in the payload: either rejected, or what was
    // accepted is exactly the payload the decoded batch re-encodes to (no second encoding).
    for round in 0..3_000 {
        let (mut data, compressed) = if round % 2 == 0 {
            (encoded.clone(), true)
        } else {
            (payload.clone(), false)
        };
        let bit = rng.below(data.len() as u64 * 8) as usize;
        data[bit / 8] ^= 1 << (bit % 8);
        let (result, decompressed) = if compressed {
            let decompressed = flz_decompress(&data[1..], MAX_PAYLOAD_SIZE).ok();
            (Batch::decode(&data, CHAIN_ID), decompressed)
        } else {
            (decode_raw_payload(&data), Some(data.clone()))
        };
        if let Ok(decoded) = result {
            accepted += 1;
            assert_eq!(Some(decoded.encode_payload().unwrap()), decompressed);
        }
    }
    // Flips inside r ‖ s are valid batches with other signatures; the rest mostly are not.
    assert!(accepted > 0 && accepted < 3_000);

    // Random bytes are never a batch.
    for _ in 0..2_000 {
        let len = rng.below(400) as usize;
        let mut data = rng.bytes(len, 256);
        if let Some(first) = data.first_mut() {
            *first = BATCH_VERSION_1;
        }
        assert!(Batch::decode(&data, CHAIN_ID).is_err());
        assert!(decode_raw_payload(&data).is_err());
    }
}

fn arb_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        (1u64..1_000, 0u32..70)
            .prop_map(|(m, e)| U256::from(m) * U256::from(10).pow(U256::from(e))),
        any::<[u8; 32]>().prop_map(U256::from_be_bytes),
        Just(U256::MAX),
    ]
}

fn arb_u128() -> impl Strategy<Value = u128> {
    prop_oneof![
        Just(0u128),
        Just(1_000_000_000),
        any::<u64>().prop_map(u128::from),
        any::<u128>()
    ]
}

fn arb_address() -> impl Strategy<Value = Address> {
    prop_oneof![
        (0u8..6).prop_map(Address::with_last_byte),
        any::<[u8; 20]>().prop_map(Address::from)
    ]
}

fn arb_input() -> impl Strategy<Value = Bytes> {
    let erc20 = (
        0usize..2,
        arb_address(),
        arb_u256(),
        any::<bool>(),
        0usize..12,
    )
        .prop_map(|(kind, to, amount, dirty, at)| {
            let mut input = ERC20_SELECTORS[kind].to_vec();
            input.extend([0; 12]);
            input.extend(to.as_slice());
            input.extend(amount.to_be_bytes::<32>());
            // Sometimes not the canonical ABI form: must stay raw.
            if dirty {
                input[4 + at] = 1;
            }
            Bytes::from(input)
        });
    prop_oneof![
        Just(Bytes::new()),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from),
        erc20,
    ]
}

fn arb_access_list() -> impl Strategy<Value = AccessList> {
    proptest::collection::vec(
        (
            arb_address(),
            proptest::collection::vec(any::<[u8; 32]>().prop_map(B256::from), 0..3),
        ),
        0..3,
    )
    .prop_map(|items| {
        AccessList(
            items
                .into_iter()
                .map(|(address, storage_keys)| AccessListItem {
                    address,
                    storage_keys,
                })
                .collect(),
        )
    })
}

prop_compose! {
    fn arb_tx(chain_id: u64)(
        tx_type in 0u8..3,
        nonce in any::<u64>(),
        gas_limit in any::<u64>(),
        to in prop_oneof![1 => Just(TxKind::Create), 6 => arb_address().prop_map(TxKind::Call)],
        value in arb_u256(),
        fee in arb_u128(),
        priority_fee in arb_u128(),
        input in arb_input(),
        access_list in arb_access_list(),
        r in arb_u256(),
        s in arb_u256(),
        parity in any::<bool>(),
    ) -> TxEnvelope {
        let signature = Signature::new(r, s, parity);
        match tx_type {
            0 => TxLegacy { chain_id: Some(chain_id), nonce, gas_price: fee, gas_limit, to, value, input }
                .into_signed(signature).into(),
            1 => TxEip2930 { chain_id, nonce, gas_price: fee, gas_limit, to, value, access_list, input }
                .into_signed(signature).into(),
            _ => TxEip1559 {
                chain_id, nonce, gas_limit, max_fee_per_gas: fee, max_priority_fee_per_gas: priority_fee,
                to, value, access_list, input,
            }
            .into_signed(signature).into(),
        }
    }
}

fn arb_batch(chain_id: u64) -> impl Strategy<Value = Batch> {
    let block = (
        0u64..5,
        0u64..3,
        proptest::collection::vec(arb_tx(chain_id), 0..6),
    );
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(block, 1..5),
    )
        .prop_map(|(parent_hash, timestamp, l1_origin, blocks)| {
            let (mut timestamp, mut l1_origin) = (timestamp / 2, l1_origin / 2);
            let blocks = blocks
                .into_iter()
                .map(|(dt, dl, transactions)| {
                    timestamp += dt;
                    l1_origin += dl;
                    BatchBlock {
                        timestamp,
                        l1_origin,
                        transactions,
                    }
                })
                .collect();
            Batch {
                parent_hash: parent_hash.into(),
                blocks,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn batch_round_trip((chain_id, batch) in any::<u64>().prop_flat_map(|id| (Just(id), arb_batch(id)))) {
        let encoded = batch.encode()?;
        let decoded = Batch::decode(&encoded, chain_id)?;
        prop_assert_eq!(&decoded, &batch);
        let hashes = |b: &Batch| b.blocks.iter().flat_map(|b| &b.transactions).map(|tx| *tx.tx_hash()).collect::<Vec<_>>();
        prop_assert_eq!(hashes(&decoded), hashes(&batch));
    }

    #[test]
    fn random_payloads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(decoded) = decode_raw_payload(&data) {
            prop_assert_eq!(decoded.encode_payload()?, data);
        }
    }
}
