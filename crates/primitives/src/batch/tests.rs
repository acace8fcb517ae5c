//! Round trips, adversarial inputs and the bytes-per-transaction measurement of the codec.

use super::*;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::keccak256;
use alloy_primitives::{Address, B256, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use proptest::prelude::*;
use segment::ERC20_SELECTORS;

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
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks,
        last_block_open: false,
    }
}

/// The parent every test batch builds on: right before the first block.
fn parent_of(batch: &Batch) -> BatchParent {
    let first = &batch.blocks[0];
    BatchParent {
        timestamp: first.timestamp,
        l1_origin: first.l1_origin,
    }
}

/// A realistic segment payload, also used as a FastLZ cross-check vector.
pub(super) fn sample_payload() -> Vec<u8> {
    let batch = realistic_batch(Traffic::Mix, 60, 7);
    let txs: Vec<_> = batch
        .blocks
        .into_iter()
        .flat_map(|b| b.transactions)
        .collect();
    flz_decompress(&encode_segment(&txs).unwrap(), MAX_SEGMENT_PAYLOAD).unwrap()
}

fn decode(encoded: &[u8], parent: BatchParent, chain_id: u64) -> Batch {
    let envelope = BatchEnvelope::parse(encoded).unwrap();
    let (blocks, failed) = envelope.decode_blocks(parent, chain_id);
    assert!(failed.is_empty(), "segments failed: {failed:?}");
    Batch {
        first_block: envelope.first_block,
        deposit_count: envelope.deposit_count,
        headers: envelope.headers,
        blocks,
        last_block_open: envelope.last_block_open,
    }
}

fn round_trip(batch: &Batch, chain_id: u64) {
    let parent = parent_of(batch);
    let encoded = batch.encode(parent).unwrap();
    let decoded = decode(&encoded, parent, chain_id);
    assert_eq!(&decoded, batch);
    for (a, b) in decoded
        .blocks
        .iter()
        .flat_map(|b| &b.transactions)
        .zip(batch.blocks.iter().flat_map(|b| &b.transactions))
    {
        assert_eq!(a.tx_hash(), b.tx_hash());
        assert_eq!(a.encoded_2718(), b.encoded_2718());
        assert_eq!(segment::envelope_hash(a), *b.tx_hash());
    }
}

#[test]
fn realistic_batches_round_trip_with_identical_hashes() {
    for traffic in [Traffic::Transfers, Traffic::Mix] {
        // More than one segment's worth of transactions.
        let batch = realistic_batch(traffic, 700, 1);
        round_trip(&batch, CHAIN_ID);
        let parent = parent_of(&batch);
        let envelope = BatchEnvelope::parse(&batch.encode(parent).unwrap()).unwrap();
        assert_eq!(envelope.segments.len(), 3);
        assert_eq!(envelope.transaction_count(), 700);
        // Decoded signatures still recover the original senders.
        let (decoded, _) = envelope.decode_blocks(parent, CHAIN_ID);
        let tx = &decoded[0].transactions[0];
        let original = &batch.blocks[0].transactions[0];
        use alloy_consensus::transaction::SignerRecoverable;
        assert_eq!(
            tx.recover_signer().unwrap(),
            original.recover_signer().unwrap()
        );
    }
}

/// A batch too large for calldata goes out as a blob batch: the envelope as calldata, the
/// segments in blobs. Parsed back from the two it is the same batch, block for block.
#[test]
fn a_blob_batch_parses_to_the_same_batch_as_its_calldata_form() {
    let batch = realistic_batch(Traffic::Mix, 3_000, 7);
    let parent = parent_of(&batch);
    assert!(matches!(
        batch.encode(parent),
        Err(BatchError::TooLarge { .. })
    ));
    let (bytes, envelope_len) = batch.encode_unbounded(parent).unwrap();
    let (envelope, segments) = bytes.split_at(envelope_len);
    let blobs = to_blobs(segments);
    assert_eq!(blobs.len(), blob_count(segments.len()));
    assert!(blobs.len() >= 2, "{} segment bytes", segments.len());
    let stream = blob_data(&blobs);
    let parsed = BatchEnvelope::parse_blob(envelope, &stream).unwrap();
    assert_eq!(parsed.segment_bytes, segments.len());
    assert_eq!(parsed.transaction_count(), 3_000);
    let (blocks, failed) = parsed.decode_blocks(parent, CHAIN_ID);
    assert!(failed.is_empty());
    // The blob data runs past the segments; those bytes are ignored.
    assert!(stream.len() > segments.len());
    assert_eq!(blocks, batch.blocks);

    // Blob data that stops short of the declared segments, an envelope with bytes after its
    // segment table, and a blob batch without segments are refused.
    assert!(matches!(
        BatchEnvelope::parse_blob(envelope, &stream[..segments.len() - 1]),
        Err(BatchError::MissingBlobData { declared }) if declared == segments.len()
    ));
    let mut longer = envelope.to_vec();
    longer.push(0);
    assert!(matches!(
        BatchEnvelope::parse_blob(&longer, &stream),
        Err(BatchError::TrailingBytes { count: 1 })
    ));
    let empty = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![BatchBlock {
            timestamp: parent.timestamp,
            l1_origin: parent.l1_origin,
            transactions: vec![],
        }],
        last_block_open: false,
    };
    let (empty_envelope, len) = empty.encode_unbounded(parent).unwrap();
    assert_eq!(len, empty_envelope.len());
    assert!(BatchEnvelope::parse_blob(&empty_envelope, &stream).is_err());
}

/// Prints bytes per transaction for the comparison in docs/benchmarks.md; run with `--nocapture`.
#[test]
fn bytes_per_transaction() {
    println!(
        "{:<34} {:>8} {:>12} {:>8}",
        "traffic (500 txs)", "RLP", "FastLZ(RLP)", "v2"
    );
    // Brotli-11 over the same RLP, for reference: 83 and 91 B/tx. Independent segments cost
    // a few bytes per transaction against one stream (each repeats its address table).
    for (traffic, name, bound) in [
        (Traffic::Transfers, "ETH transfers", 88.0),
        (Traffic::Mix, "transfer/ERC-20/swap mix", 97.0),
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
        let v2 = batch.encode(parent_of(&batch)).unwrap().len() as f64 / n;
        println!(
            "{name:<34} {:>8.1} {fastlz_rlp:>12.1} {v2:>8.1}",
            rlp.len() as f64 / n
        );
        assert!(
            v2 < fastlz_rlp,
            "{name}: v2 {v2:.1} B/tx is no better than FastLZ over RLP"
        );
        assert!(v2 < bound, "{name}: v2 {v2:.1} B/tx is above {bound} B/tx");
    }
}

/// What each transaction field costs in a v2 batch: the bytes per transaction saved when that
/// field is made the same in every EIP-1559 transaction (so that it compresses to nearly
/// nothing).
/// Printed for `docs/benchmarks.md` with `--nocapture`.
#[test]
fn what_each_field_costs() {
    type Edit = fn(&mut TxEip1559, &mut Signature);
    let edits: [(&str, Edit); 7] = [
        ("signature (r, s, y)", |_, sig| {
            *sig = Signature::new(U256::from(7), U256::from(9), false)
        }),
        ("recipient (to)", |tx, _| {
            tx.to = TxKind::Call(Address::ZERO)
        }),
        ("value", |tx, _| tx.value = U256::ZERO),
        ("calldata", |tx, _| tx.input = Bytes::new()),
        ("nonce", |tx, _| tx.nonce = 0),
        ("fees (max fee, tip)", |tx, _| {
            tx.max_fee_per_gas = 1;
            tx.max_priority_fee_per_gas = 1;
        }),
        ("gas limit", |tx, _| tx.gas_limit = 21_000),
    ];
    for (traffic, name) in [
        (Traffic::Transfers, "ETH transfers"),
        (Traffic::Mix, "transfer/ERC-20/swap mix"),
    ] {
        let batch = realistic_batch(traffic, 500, 2);
        let n = batch.transaction_count() as f64;
        let size = |batch: &Batch| batch.encode(parent_of(batch)).unwrap().len() as f64 / n;
        let total = size(&batch);
        println!("{name}: {total:.1} B/tx in all");
        let mut costs = Vec::new();
        for (field, edit) in edits {
            let mut edited = batch.clone();
            for block in &mut edited.blocks {
                for tx in &mut block.transactions {
                    // The few legacy and EIP-2930 transactions stay as they are.
                    let TxEnvelope::Eip1559(signed) = tx.clone() else {
                        continue;
                    };
                    let (mut inner, mut signature, _) = signed.into_parts();
                    edit(&mut inner, &mut signature);
                    *tx = inner.into_signed(signature).into();
                }
            }
            let cost = total - size(&edited);
            println!("  {field:<22} {cost:>6.1} B/tx");
            costs.push((field, cost));
        }
        let rest = total - costs.iter().map(|(_, cost)| cost).sum::<f64>();
        // The one transaction in ten that is legacy keeps all its fields here; the rest is
        // types, counts and block framing.
        println!("  {:<22} {rest:>6.1} B/tx", "everything else");
        // A signature is 64 random bytes and a parity bit: nothing compresses it (the few
        // legacy and EIP-2930 transactions keep theirs here).
        assert!(
            costs[0].1 > 50.0,
            "{name}: signature {:.1} B/tx",
            costs[0].1
        );
        // Every field costs something or nothing, never less than nothing by more than noise.
        assert!(costs.iter().all(|(_, cost)| *cost > -1.0), "{costs:?}");
        assert!(rest > 0.0, "{name}: fields cost more than the whole");
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
        batch.encode(parent_of(&batch))
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

    let parent = parent_of(&batch);
    let mut empty = batch.clone();
    empty.blocks.clear();
    assert_eq!(empty.encode(parent), Err(BatchError::NoBlocks));
    let mut backwards = batch.clone();
    backwards.blocks.push(BatchBlock {
        timestamp: 1,
        l1_origin: batch.blocks.last().unwrap().l1_origin,
        transactions: vec![],
    });
    assert!(matches!(
        backwards.encode(parent),
        Err(BatchError::NotMonotonic {
            field: "timestamp",
            ..
        })
    ));
    let mut skipping = batch.clone();
    skipping.blocks.push(BatchBlock {
        timestamp: u64::MAX / 2,
        l1_origin: batch.blocks.last().unwrap().l1_origin + 2,
        transactions: vec![],
    });
    assert!(matches!(
        skipping.encode(parent),
        Err(BatchError::OriginNotAdjacent { .. })
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
    let parent = parent_of(&batch);
    let encoded = batch.encode(parent).unwrap();
    // On another chain the same bytes are different transactions, with different hashes.
    let elsewhere = decode(&encoded, parent, CHAIN_ID + 1);
    assert_ne!(elsewhere, batch);
    assert_eq!(decode(&encoded, parent, CHAIN_ID), batch);
}

#[test]
fn limits_are_enforced() {
    let empty_block = |timestamp| BatchBlock {
        timestamp,
        l1_origin: 0,
        transactions: vec![],
    };
    let parent = BatchParent {
        timestamp: 0,
        l1_origin: 0,
    };
    let many_blocks = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: (0..=MAX_BLOCKS_PER_BATCH as u64).map(empty_block).collect(),
        last_block_open: false,
    };
    assert_eq!(
        many_blocks.encode(parent),
        Err(BatchError::TooManyBlocks {
            count: MAX_BLOCKS_PER_BATCH + 1,
            max: MAX_BLOCKS_PER_BATCH
        })
    );
    let mut most_blocks = many_blocks;
    most_blocks.blocks.pop();
    let encoded = most_blocks.encode(parent).unwrap();
    assert_eq!(encoded.len(), 21 + 7 * MAX_BLOCKS_PER_BATCH);
    assert_eq!(decode(&encoded, parent, CHAIN_ID), most_blocks);

    // A segment never holds more than its limit of transactions or bytes.
    let big = realistic_batch(Traffic::Mix, 1_000, 5);
    let envelope = BatchEnvelope::parse(&big.encode(parent_of(&big)).unwrap()).unwrap();
    for (count, bytes) in &envelope.segments {
        assert!(*count <= MAX_TRANSACTIONS_PER_SEGMENT);
        assert!(bytes.len() <= MAX_SEGMENT_SIZE);
    }
    // Too much for one batch.
    let huge = realistic_batch(Traffic::Mix, 3_000, 6);
    assert!(matches!(
        huge.encode(parent_of(&huge)),
        Err(BatchError::TooLarge { .. })
    ));
    // A segment of incompressible calldata splits until it fits.
    let mut rng = Rng(9);
    let fat: Vec<TxEnvelope> = (0..4)
        .map(|nonce| {
            sign(
                &signer("fat"),
                TxEip1559 {
                    chain_id: CHAIN_ID,
                    nonce,
                    gas_limit: 1_000_000,
                    to: TxKind::Call(Address::ZERO),
                    input: rng.bytes(20_000, 256).into(),
                    ..Default::default()
                },
            )
        })
        .collect();
    assert!(matches!(
        encode_segment(&fat),
        Err(BatchError::PayloadTooLarge { .. })
    ));
    assert!(matches!(
        encode_segment(&fat[..2]),
        Err(BatchError::TooLarge { .. })
    ));
    let batch = Batch {
        first_block: 1,
        deposit_count: 0,
        headers: vec![],
        blocks: vec![BatchBlock {
            timestamp: 0,
            l1_origin: 0,
            transactions: fat,
        }],
        last_block_open: false,
    };
    let envelope = BatchEnvelope::parse(&batch.encode(parent).unwrap()).unwrap();
    assert_eq!(envelope.segments.len(), 4);
    round_trip(&batch, CHAIN_ID);

    // Segments are filled, not halved: each but the last holds as many transactions as fit
    // (20 transactions of 2 500 incompressible bytes: about 13 to a segment, where halving
    // would stop at 10).
    let mut rng = Rng(10);
    let medium: Vec<TxEnvelope> = (0..20)
        .map(|nonce| {
            sign(
                &signer("medium"),
                TxEip1559 {
                    chain_id: CHAIN_ID,
                    nonce,
                    gas_limit: 1_000_000,
                    to: TxKind::Call(Address::ZERO),
                    input: rng.bytes(2_500, 256).into(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let segments = split_into_segments(&medium).unwrap();
    assert_eq!(segments.iter().map(|(count, _)| count).sum::<usize>(), 20);
    let mut start = 0;
    for (count, _) in &segments[..segments.len() - 1] {
        assert!(*count > 10, "a segment of only {count} transactions");
        assert!(
            encode_segment(&medium[start..start + count + 1]).is_err(),
            "segment at {start} could hold one more than its {count}"
        );
        start += count;
    }
    let batch = Batch {
        blocks: vec![BatchBlock {
            timestamp: 0,
            l1_origin: 0,
            transactions: medium,
        }],
        ..batch
    };
    round_trip(&batch, CHAIN_ID);
}

/// An envelope with one block of `txs` transactions in one segment of `segment` bytes.
fn envelope_bytes(txs: u16, segment: &[u8]) -> Vec<u8> {
    let mut out = vec![BATCH_VERSION];
    out.extend(7u64.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.push(0);
    out.push(u8::from(!segment.is_empty()));
    out.extend(0u64.to_be_bytes());
    out.extend([1, 0, 0, 0, 2]);
    out.extend(txs.to_be_bytes());
    if !segment.is_empty() {
        out.extend((segment.len() as u32).to_be_bytes());
        out.extend(txs.to_be_bytes());
        out.extend(segment);
    }
    out
}

#[test]
fn malformed_envelopes_are_rejected() {
    let batch = realistic_batch(Traffic::Transfers, 5, 8);
    let txs: Vec<_> = batch
        .blocks
        .iter()
        .flat_map(|b| b.transactions.clone())
        .collect();
    let segment = encode_segment(&txs).unwrap();
    let good = envelope_bytes(5, &segment);
    let envelope = BatchEnvelope::parse(&good).unwrap();
    assert_eq!(envelope.first_block, 7);
    assert_eq!(
        envelope.blocks[0],
        BlockEntry {
            origin_delta: 1,
            timestamp_delta: 2,
            tx_count: 5
        }
    );
    assert_eq!(envelope.segment_root(), keccak256(&segment));
    assert_eq!(envelope.blocks_hash, keccak256([1, 0, 0, 0, 2, 0, 5]));
    assert!(BatchEnvelope::parse(&envelope_bytes(0, &[])).is_ok());

    let mutate = |at: usize, byte: u8| {
        let mut data = good.clone();
        data[at] = byte;
        BatchEnvelope::parse(&data)
    };
    assert_eq!(BatchEnvelope::parse(&[]), Err(BatchError::Empty));
    assert_eq!(mutate(0, 1), Err(BatchError::UnknownVersion(1)));
    // Zero blocks, too many blocks.
    assert!(mutate(10, 0).is_err() && mutate(9, 0xff).is_err());
    // An origin delta of 2.
    assert!(mutate(21, 2).is_err());
    // Blocks and segments disagree on the transaction count.
    assert!(mutate(27, 4).is_err());
    // Trailing and missing bytes.
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        BatchEnvelope::parse(&long),
        Err(BatchError::TrailingBytes { count: 1 })
    );
    assert!(BatchEnvelope::parse(&good[..good.len() - 1]).is_err());
    // Every truncation fails cleanly.
    for len in 0..good.len() {
        assert!(BatchEnvelope::parse(&good[..len]).is_err());
    }
}

#[test]
fn a_bad_segment_empties_only_its_blocks() {
    let batch = realistic_batch(Traffic::Transfers, 600, 10);
    let parent = parent_of(&batch);
    let mut envelope = BatchEnvelope::parse(&batch.encode(parent).unwrap()).unwrap();
    assert_eq!(envelope.segments.len(), 3);
    // Corrupt the middle segment: transactions 256..512.
    envelope.segments[1].1 = Bytes::from_static(&[0x1f, 1, 2]);
    let (blocks, failed) = envelope.decode_blocks(parent, CHAIN_ID);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, 1);
    assert_eq!(blocks.len(), batch.blocks.len());
    let mut first_tx = 0;
    for (decoded, original) in blocks.iter().zip(&batch.blocks) {
        let range = first_tx..first_tx + original.transactions.len();
        first_tx = range.end;
        assert_eq!(decoded.timestamp, original.timestamp);
        assert_eq!(decoded.l1_origin, original.l1_origin);
        let touches_bad = range.start < 512 && range.end > 256;
        if touches_bad {
            assert!(decoded.transactions.is_empty(), "block {range:?} keeps txs");
        } else {
            assert_eq!(decoded.transactions, original.transactions);
        }
    }
}

#[test]
fn leaves_commit_to_every_field() {
    let batch = realistic_batch(Traffic::Mix, 30, 11);
    let txs: Vec<_> = batch
        .blocks
        .iter()
        .flat_map(|b| b.transactions.clone())
        .collect();
    let leaves: Vec<_> = txs.iter().map(tx_leaf).collect();
    let unique: std::collections::HashSet<_> = leaves.iter().collect();
    assert_eq!(unique.len(), leaves.len());
    assert_eq!(segment_tx_root(&txs), merkle_root(&leaves));
    assert_eq!(merkle_root(&[]), B256::ZERO);
    assert_eq!(merkle_root(&leaves[..1]), leaves[0]);
    let three = merkle_root(&leaves[..3]);
    let pair = |a: B256, b: B256| keccak256([a.as_slice(), b.as_slice()].concat());
    assert_eq!(
        three,
        pair(pair(leaves[0], leaves[1]), pair(leaves[2], B256::ZERO))
    );
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
        0u64..2,
        proptest::collection::vec(arb_tx(chain_id), 0..6),
    );
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(block, 1..5),
    )
        .prop_map(|(first_block, timestamp, l1_origin, blocks)| {
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
                first_block,
                deposit_count: first_block / 3,
                headers: vec![],
                blocks,
                last_block_open: false,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn batch_round_trip((chain_id, batch) in any::<u64>().prop_flat_map(|id| (Just(id), arb_batch(id)))) {
        let parent = parent_of(&batch);
        let encoded = batch.encode(parent)?;
        let envelope = BatchEnvelope::parse(&encoded)?;
        let (blocks, failed) = envelope.decode_blocks(parent, chain_id);
        prop_assert!(failed.is_empty());
        prop_assert_eq!(&blocks, &batch.blocks);
        let hashes = |b: &[BatchBlock]| b.iter().flat_map(|b| &b.transactions).map(|tx| *tx.tx_hash()).collect::<Vec<_>>();
        prop_assert_eq!(hashes(&blocks), hashes(&batch.blocks));
    }

    #[test]
    fn random_segments_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), count in 1usize..40) {
        let _ = decode_segment(&data, count, CHAIN_ID);
        // As a raw payload behind a literal-only FastLZ stream.
        let _ = decode_segment(&flz_compress(&data), count, CHAIN_ID);
    }

    #[test]
    fn random_envelopes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut data = data;
        if let Some(first) = data.first_mut() {
            *first = BATCH_VERSION;
        }
        if let Ok(envelope) = BatchEnvelope::parse(&data) {
            let _ = envelope.decode_blocks(BatchParent { timestamp: 0, l1_origin: 0 }, CHAIN_ID);
        }
    }

    #[test]
    fn mutated_segments_decode_or_fail_deterministically(seed in any::<u64>(), flips in 1usize..8) {
        let batch = realistic_batch(Traffic::Mix, 20, seed);
        let txs: Vec<_> = batch.blocks.iter().flat_map(|b| b.transactions.clone()).collect();
        let mut segment = encode_segment(&txs)?;
        let mut rng = Rng(seed | 1);
        for _ in 0..flips {
            let at = rng.below(segment.len() as u64) as usize;
            segment[at] ^= 1 << rng.below(8);
        }
        let first = decode_segment(&segment, txs.len(), CHAIN_ID);
        prop_assert_eq!(first, decode_segment(&segment, txs.len(), CHAIN_ID));
    }
}

/// The largest transaction the pool accepts ([`MAX_TX_SIZE`] bytes, EIP-2718) always fits one
/// segment on its own, however incompressible: random calldata, or random access-list keys.
/// Otherwise one user could send a transaction no batch can carry and stall the batcher.
#[test]
fn the_largest_admissible_transaction_fits_one_segment() {
    use alloy_eips::eip2718::Encodable2718;
    let mut rng = Rng(99);
    let mut noise = |len: usize| -> Vec<u8> { (0..len).map(|_| rng.below(256) as u8).collect() };
    let sender = signer("large");
    let with_calldata = |len: usize, noise: &mut dyn FnMut(usize) -> Vec<u8>| {
        sign(
            &sender,
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: u64::MAX - 1,
                gas_limit: u64::MAX,
                max_fee_per_gas: u128::MAX,
                max_priority_fee_per_gas: u128::MAX,
                to: TxKind::Call(Address::repeat_byte(0xee)),
                value: U256::MAX,
                access_list: AccessList::default(),
                input: noise(len).into(),
            },
        )
    };
    // Grow the calldata up to the bound, then check both shapes right at it.
    let mut len = MAX_TX_SIZE - 200;
    let mut tx = with_calldata(len, &mut noise);
    while tx.encode_2718_len() < MAX_TX_SIZE {
        len += MAX_TX_SIZE - tx.encode_2718_len();
        tx = with_calldata(len, &mut noise);
    }
    assert!(tx.encode_2718_len() >= MAX_TX_SIZE);
    let segment = encode_segment(std::slice::from_ref(&tx)).unwrap();
    assert!(segment.len() <= MAX_SEGMENT_SIZE, "{}", segment.len());
    assert_eq!(decode_segment(&segment, 1, CHAIN_ID).unwrap(), vec![tx]);

    // Each entry of 8 keys takes about 8 x 33 + 24 bytes of RLP.
    let keys = (MAX_TX_SIZE - 400) * 8 / (8 * 33 + 24);
    let access_list = AccessList(
        (0..keys / 8)
            .map(|_| AccessListItem {
                address: Address::from_slice(&noise(20)),
                storage_keys: (0..8).map(|_| B256::from_slice(&noise(32))).collect(),
            })
            .collect(),
    );
    let tx = sign(
        &sender,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 1,
            gas_limit: 30_000_000,
            max_fee_per_gas: 1,
            max_priority_fee_per_gas: 1,
            to: TxKind::Create,
            value: U256::ZERO,
            access_list,
            input: noise(50).into(),
        },
    );
    let size = tx.encode_2718_len();
    assert!((MAX_TX_SIZE - 800..=MAX_TX_SIZE).contains(&size), "{size}");
    let segment = encode_segment(std::slice::from_ref(&tx)).unwrap();
    assert!(segment.len() <= MAX_SEGMENT_SIZE, "{}", segment.len());
}

/// A block of [`DataPath::max_block_tx_bytes`] of the least compressible transactions, in the
/// shapes that split into the most segments (large and small alternating, all near the size
/// bound), still fits [`MAX_SEGMENTS_PER_BLOCK`] segments, and each of its segments, with the
/// envelope, one batch of either path (what the batcher posts when the block spans batches).
#[test]
fn a_full_block_of_incompressible_transactions_fits_its_segments_on_either_path() {
    let mut rng = Rng(7);
    let sender = signer("full block");
    for path in [DataPath::Calldata, DataPath::BLOBS] {
        for sizes in [
            vec![MAX_TX_SIZE - 300],
            vec![MAX_TX_SIZE - 300, 1_200],
            vec![16_000, 17_000],
            vec![400],
        ] {
            let mut transactions = Vec::new();
            let mut total = 0;
            for (nonce, size) in sizes.iter().cycle().enumerate() {
                let input: Vec<u8> = (0..*size).map(|_| rng.below(256) as u8).collect();
                let tx = sign(
                    &sender,
                    TxEip1559 {
                        chain_id: CHAIN_ID,
                        nonce: nonce as u64,
                        gas_limit: 1_000_000,
                        max_fee_per_gas: 2,
                        max_priority_fee_per_gas: 1,
                        to: TxKind::Call(Address::repeat_byte(1)),
                        value: U256::ZERO,
                        access_list: AccessList::default(),
                        input: input.into(),
                    },
                );
                if total + tx.encode_2718_len() > path.max_block_tx_bytes() {
                    break;
                }
                total += tx.encode_2718_len();
                transactions.push(tx);
            }
            let batch = Batch {
                first_block: 1,
                deposit_count: 0,
                headers: vec![Bytes::from(vec![0xab; 640])],
                blocks: vec![BatchBlock {
                    timestamp: 10,
                    l1_origin: 1,
                    transactions,
                }],
                last_block_open: false,
            };
            let parent = BatchParent {
                timestamp: 10,
                l1_origin: 0,
            };
            let (bytes, envelope_len) = batch.encode_unbounded(parent).unwrap();
            let envelope =
                BatchEnvelope::parse_blob(&bytes[..envelope_len], &bytes[envelope_len..]).unwrap();
            assert!(
                envelope.segments.len() <= MAX_SEGMENTS_PER_BLOCK,
                "{path:?} {sizes:?}"
            );
            for (_, segment) in &envelope.segments {
                assert!(
                    path.fits(envelope_len + segment.len(), envelope_len, MAX_BATCH_SIZE),
                    "{path:?} {sizes:?}: {total} bytes of transactions, envelope {envelope_len}"
                );
            }
        }
    }
}

#[test]
fn bulk_recovery_matches_one_by_one_and_keeps_failures_in_place() {
    let signers: Vec<_> = (0..7).map(|i| signer(&format!("bulk {i}"))).collect();
    let envelopes: Vec<TxEnvelope> = (0..600u64)
        .map(|i| {
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: i,
                gas_limit: 21_000,
                max_fee_per_gas: 2,
                to: TxKind::Call(Address::with_last_byte(i as u8)),
                ..Default::default()
            };
            if i % 97 == 13 {
                // r = 0 is no signature at all: it does not recover.
                tx.into_signed(Signature::new(U256::ZERO, U256::from(1), false))
                    .into()
            } else {
                sign(&signers[i as usize % signers.len()], tx)
            }
        })
        .collect();
    use alloy_consensus::transaction::SignerRecoverable;
    let bulk = crate::recover_signers(&envelopes);
    assert_eq!(bulk.len(), envelopes.len());
    for (i, (envelope, sender)) in envelopes.iter().zip(&bulk).enumerate() {
        match envelope.recover_signer() {
            Ok(one) => assert_eq!(sender.as_ref().ok(), Some(&one), "transaction {i}"),
            Err(_) => assert!(sender.is_err(), "transaction {i} recovered in bulk only"),
        }
        assert_eq!(sender.is_err(), i % 97 == 13, "transaction {i}");
    }
    // Below the threshold the same answer comes from the calling thread.
    let senders = |list: &[Result<Address, _>]| {
        list.iter()
            .map(|s| s.as_ref().ok().copied())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        senders(&crate::recover_signers(&envelopes[..20])),
        senders(&bulk[..20])
    );
}

/// The open flag travels in the segment count byte: a batch leaving its last block open
/// round-trips with it, and other high bits are not a count the inbox would take.
#[test]
fn the_open_flag_round_trips_and_other_high_bits_are_refused() {
    let mut batch = realistic_batch(Traffic::Transfers, 300, 9);
    batch.last_block_open = true;
    round_trip(&batch, CHAIN_ID);
    let parent = parent_of(&batch);
    let encoded = batch.encode(parent).unwrap();
    let envelope = BatchEnvelope::parse(&encoded).unwrap();
    assert!(envelope.last_block_open);
    assert_eq!(
        usize::from(encoded[12] & !OPEN_FLAG),
        envelope.segments.len()
    );
    assert_eq!(encoded[12] & OPEN_FLAG, OPEN_FLAG);
    // The same batch closed differs only in that bit.
    batch.last_block_open = false;
    let closed = batch.encode(parent).unwrap();
    assert_eq!(closed[12] | OPEN_FLAG, encoded[12]);
    assert_eq!(closed[..12], encoded[..12]);
    assert_eq!(closed[13..], encoded[13..]);
    for bit in [0x20u8, 0x40] {
        let mut bad = closed.clone();
        bad[12] |= bit;
        assert!(matches!(
            BatchEnvelope::parse(&bad),
            Err(BatchError::TooManySegments { .. })
        ));
    }
    // How the batcher cuts a block: the counts of the segments it splits into.
    let transactions: Vec<_> = batch
        .blocks
        .iter()
        .flat_map(|b| b.transactions.clone())
        .collect();
    let counts = segment_tx_counts(&transactions).unwrap();
    assert_eq!(counts.iter().sum::<usize>(), transactions.len());
    assert_eq!(
        counts.len(),
        BatchEnvelope::parse(&closed).unwrap().segments.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Derivation stores an open block's part as the EIP-2718 bytes of its decoded
    /// transactions and decodes them again when the block closes (a failure there stops
    /// derivation). Every transaction a segment decodes to must survive that round trip.
    #[test]
    fn decoded_transactions_survive_the_2718_round_trip((chain_id, batch) in any::<u64>().prop_flat_map(|id| (Just(id), arb_batch(id)))) {
        use alloy_eips::{Decodable2718, Encodable2718};
        let parent = parent_of(&batch);
        let encoded = batch.encode(parent)?;
        let envelope = BatchEnvelope::parse(&encoded)?;
        let (blocks, _) = envelope.decode_parts(parent, chain_id);
        for (block, _) in blocks {
            for tx in block.transactions {
                let raw = tx.encoded_2718();
                let back = TxEnvelope::decode_2718(&mut raw.as_slice());
                prop_assert!(back.is_ok(), "{:?} does not decode back: {:?}", tx, back.err());
                let back = back.unwrap();
                prop_assert_eq!(back.tx_hash(), tx.tx_hash());
            }
        }
    }
}
