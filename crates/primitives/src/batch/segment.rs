//! Segments: independently compressed runs of batch transactions, and the per-transaction
//! leaves an L1 contract can recompute from one segment alone.
//!
//! A segment is `FastLZ(payload)` with the payload laid out by field rather than by transaction
//! (see the [module docs](super) for the grammar). [`decode_segment`] is the consensus rule: the
//! Solidity `SegmentOpener` accepts exactly what it accepts and yields the same
//! [`tx_leaf`]s, which the differential tests check inside revm.

use std::collections::HashMap;

use alloy_consensus::{
    SignableTransaction, Transaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy,
};
use alloy_eips::{
    Typed2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use alloy_sol_types::SolValue;

use crate::bindings::IOneStepVerifier::BatchTx;

use super::{
    BatchError, MAX_SEGMENT_PAYLOAD, MAX_SEGMENT_SIZE, MAX_TRANSACTIONS_PER_SEGMENT,
    fastlz::{flz_compress, flz_decompress},
    wire::{Reader, Writer},
};

const TX_TYPE_LEGACY: u8 = 0;
const TX_TYPE_EIP2930: u8 = 1;
const TX_TYPE_EIP1559: u8 = 2;

/// ERC-20 calls whose calldata is stored as an address index and a decimal amount.
pub(super) const ERC20_SELECTORS: [[u8; 4]; 2] = [
    [0xa9, 0x05, 0x9c, 0xbb], // transfer(address,uint256)
    [0x09, 0x5e, 0xa7, 0xb3], // approve(address,uint256)
];
const ERC20_CALL_LEN: usize = 4 + 32 + 32;

/// How many recently seen values a recent-value code can refer to: codes are 4 bits.
const RECENT_VALUES: usize = 15;

/// Compresses `txs` into one segment.
///
/// Fails if there are no or too many transactions, if one cannot be carried (deposit,
/// EIP-4844, EIP-7702, legacy without EIP-155, another chain than the first transaction's), or
/// if the payload or the compressed segment exceeds its limit: split the transactions then.
pub fn encode_segment(txs: &[TxEnvelope]) -> Result<Vec<u8>, BatchError> {
    if txs.is_empty() {
        return Err(BatchError::NoTransactions);
    }
    if txs.len() > MAX_TRANSACTIONS_PER_SEGMENT {
        return Err(BatchError::TooManyTransactions {
            count: txs.len(),
            max: MAX_TRANSACTIONS_PER_SEGMENT,
        });
    }
    let payload = encode_payload(txs)?;
    if payload.len() > MAX_SEGMENT_PAYLOAD {
        return Err(BatchError::PayloadTooLarge {
            max: MAX_SEGMENT_PAYLOAD,
        });
    }
    let compressed = flz_compress(&payload);
    if compressed.len() > MAX_SEGMENT_SIZE {
        return Err(BatchError::TooLarge {
            size: compressed.len(),
            max: MAX_SEGMENT_SIZE,
        });
    }
    Ok(compressed)
}

/// Decodes an untrusted segment holding `tx_count` transactions of the L2 chain `chain_id`.
///
/// Never panics; allocates at most [`MAX_SEGMENT_PAYLOAD`] plus a bounded multiple of it.
pub fn decode_segment(
    compressed: &[u8],
    tx_count: usize,
    chain_id: u64,
) -> Result<Vec<TxEnvelope>, BatchError> {
    if compressed.len() > MAX_SEGMENT_SIZE {
        return Err(BatchError::TooLarge {
            size: compressed.len(),
            max: MAX_SEGMENT_SIZE,
        });
    }
    if tx_count == 0 || tx_count > MAX_TRANSACTIONS_PER_SEGMENT {
        return Err(BatchError::TooManyTransactions {
            count: tx_count,
            max: MAX_TRANSACTIONS_PER_SEGMENT,
        });
    }
    let payload = flz_decompress(compressed, MAX_SEGMENT_PAYLOAD)?;
    decode_payload(&payload, tx_count, chain_id)
}

/// The Merkle root of the segment's transaction leaves ([`tx_leaf`]).
pub fn segment_tx_root(txs: &[TxEnvelope]) -> B256 {
    merkle_root(&txs.iter().map(tx_leaf).collect::<Vec<_>>())
}

/// A binary Merkle root: no leaves give zero, one leaf is the root, otherwise the leaves are
/// padded with zeros to a power of two and hashed pairwise (`keccak256(left ‖ right)`).
pub fn merkle_root(leaves: &[B256]) -> B256 {
    match leaves.len() {
        0 => return B256::ZERO,
        1 => return leaves[0],
        _ => {}
    }
    let mut level = leaves.to_vec();
    level.resize(leaves.len().next_power_of_two(), B256::ZERO);
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| keccak256([pair[0].as_slice(), pair[1].as_slice()].concat()))
            .collect();
    }
    level[0]
}

/// The leaf an L1 contract derives for one batch transaction: `keccak256(abi.encode(`
/// [`batch_tx`]`))`.
pub fn tx_leaf(tx: &TxEnvelope) -> B256 {
    keccak256(batch_tx(tx).abi_encode())
}

/// What a batch transaction's leaf commits to (`OneStepVerifier.BatchTx`): its typed fields,
/// signing hash, transaction hash, calldata length and the Merkle root of its calldata's
/// 32-byte chunks.
pub fn batch_tx(tx: &TxEnvelope) -> BatchTx {
    let (fee, priority_fee, access_list_hash) = match tx {
        TxEnvelope::Legacy(signed) => (signed.tx().gas_price, 0, B256::ZERO),
        TxEnvelope::Eip2930(signed) => (
            signed.tx().gas_price,
            0,
            keccak256(alloy_rlp::encode(&signed.tx().access_list)),
        ),
        TxEnvelope::Eip1559(signed) => (
            signed.tx().max_fee_per_gas,
            signed.tx().max_priority_fee_per_gas,
            keccak256(alloy_rlp::encode(&signed.tx().access_list)),
        ),
        // Never in a decoded segment; a leaf of zeros keeps this total.
        _ => (0, 0, B256::ZERO),
    };
    let signature = tx.signature();
    let (to, is_create) = match tx.kind() {
        TxKind::Create => (Address::ZERO, true),
        TxKind::Call(to) => (to, false),
    };
    let input = tx.input();
    let chunks = input
        .chunks(32)
        .map(|chunk| {
            let mut word = B256::ZERO;
            word[..chunk.len()].copy_from_slice(chunk);
            word
        })
        .collect::<Vec<_>>();
    BatchTx {
        txType: U256::from(tx.ty()),
        nonce: U256::from(tx.nonce()),
        gasLimit: U256::from(tx.gas_limit()),
        to,
        isCreate: is_create,
        value: tx.value(),
        fee: U256::from(fee),
        priorityFee: U256::from(priority_fee),
        yParity: U256::from(u8::from(signature.v())),
        r: B256::from(signature.r()),
        s: B256::from(signature.s()),
        signingHash: tx.signature_hash(),
        txHash: *tx.tx_hash(),
        calldataLength: U256::from(input.len()),
        calldataRoot: merkle_root(&chunks),
        accessListHash: access_list_hash,
    }
}

/// The siblings that prove leaf `index` of `leaves` under [`merkle_root`], bottom up (none
/// for a single leaf); `None` if `index` is past the leaves.
pub fn merkle_proof(leaves: &[B256], index: usize) -> Option<Vec<B256>> {
    if index >= leaves.len() {
        return None;
    }
    let mut level = leaves.to_vec();
    if level.len() > 1 {
        level.resize(leaves.len().next_power_of_two(), B256::ZERO);
    }
    let mut proof = Vec::new();
    let mut index = index;
    while level.len() > 1 {
        proof.push(level[index ^ 1]);
        level = level
            .chunks(2)
            .map(|pair| keccak256([pair[0].as_slice(), pair[1].as_slice()].concat()))
            .collect();
        index /= 2;
    }
    Some(proof)
}

fn encode_payload(txs: &[TxEnvelope]) -> Result<Vec<u8>, BatchError> {
    let mut chain_id = None;
    let txs = txs
        .iter()
        .enumerate()
        .map(|(index, tx)| TxFields::from_envelope(index, tx, &mut chain_id))
        .collect::<Result<Vec<_>, _>>()?;

    let mut addresses = AddressTable::default();
    let mut body = Writer::default();
    for tx in &txs {
        body.byte(tx.tx_type);
    }
    body.bitmap(txs.iter().map(|tx| tx.signature.v()));
    write_nonce_column(&mut body, txs.iter().map(|tx| tx.nonce));
    write_recent_column(
        &mut body,
        txs.iter().map(|tx| U256::from(tx.gas_limit)),
        Literal::Varint,
    );
    for tx in &txs {
        match tx.to {
            TxKind::Create => body.varint(0),
            TxKind::Call(to) => body.varint(addresses.index(to) + 1),
        }
    }
    for tx in &txs {
        body.decimal(tx.value);
    }
    write_recent_column(
        &mut body,
        txs.iter().map(|tx| U256::from(tx.fee)),
        Literal::Decimal,
    );
    let priority_fees = txs.iter().filter_map(|tx| tx.priority_fee.map(U256::from));
    write_recent_column(&mut body, priority_fees, Literal::Decimal);
    for tx in &txs {
        match erc20_call(&tx.input) {
            Some(kind) => body.varint(2 * kind as u64 + 1),
            None => body.varint(2 * tx.input.len() as u64),
        }
    }
    for tx in &txs {
        match erc20_call(&tx.input) {
            Some(_) => {
                let to = Address::from_slice(&tx.input[16..36]);
                body.varint(addresses.index(to));
                body.decimal(U256::from_be_slice(&tx.input[36..68]));
            }
            None => body.bytes(&tx.input),
        }
    }
    for access_list in txs.iter().filter_map(|tx| tx.access_list.as_ref()) {
        body.varint(access_list.0.len() as u64);
        for item in &access_list.0 {
            body.varint(addresses.index(item.address));
            body.varint(item.storage_keys.len() as u64);
            for key in &item.storage_keys {
                body.bytes(key.as_slice());
            }
        }
    }
    for tx in &txs {
        body.bytes(&tx.signature.r().to_be_bytes::<32>());
        body.bytes(&tx.signature.s().to_be_bytes::<32>());
    }

    let mut payload = Writer::default();
    payload.varint(addresses.list.len() as u64);
    for address in &addresses.list {
        payload.bytes(address.as_slice());
    }
    payload.bytes(&body.buf);
    Ok(payload.buf)
}

fn decode_payload(payload: &[u8], n: usize, chain_id: u64) -> Result<Vec<TxEnvelope>, BatchError> {
    let mut r = Reader::new(payload);
    let address_count = r.count(Address::len_bytes())?;
    let addresses = (0..address_count)
        .map(|_| r.array::<20>().map(Address::from))
        .collect::<Result<Vec<_>, _>>()?;
    let address = |r: &Reader<'_>, index: u64| {
        usize::try_from(index)
            .ok()
            .and_then(|index| addresses.get(index).copied())
            .ok_or_else(|| r.error("address index out of the table"))
    };

    let mut txs = vec![TxFields::default(); n];
    for tx in &mut txs {
        tx.tx_type = r.byte()?;
        if tx.tx_type > TX_TYPE_EIP1559 {
            return Err(r.error("unsupported transaction type"));
        }
        if tx.tx_type != TX_TYPE_LEGACY {
            tx.access_list = Some(AccessList::default());
        }
        if tx.tx_type == TX_TYPE_EIP1559 {
            tx.priority_fee = Some(0);
        }
    }
    let parities = r.bitmap(n)?;
    for (tx, nonce) in txs.iter_mut().zip(read_nonce_column(&mut r, n)?) {
        tx.nonce = nonce;
    }
    for (tx, gas_limit) in txs
        .iter_mut()
        .zip(read_recent_column(&mut r, n, Literal::Varint)?)
    {
        tx.gas_limit =
            u64::try_from(gas_limit).map_err(|_| r.error("gas limit overflows 64 bits"))?;
    }
    for tx in &mut txs {
        tx.to = match r.varint()? {
            0 => TxKind::Create,
            index => TxKind::Call(address(&r, index - 1)?),
        };
    }
    for tx in &mut txs {
        tx.value = r.decimal()?;
    }
    let fee_overflow = |r: &Reader<'_>| r.error("fee overflows 128 bits");
    for (tx, fee) in txs
        .iter_mut()
        .zip(read_recent_column(&mut r, n, Literal::Decimal)?)
    {
        tx.fee = u128::try_from(fee).map_err(|_| fee_overflow(&r))?;
    }
    let with_priority = txs.iter().filter(|tx| tx.priority_fee.is_some()).count();
    let mut priority_fees =
        read_recent_column(&mut r, with_priority, Literal::Decimal)?.into_iter();
    for tx in &mut txs {
        if let Some(fee) = &mut tx.priority_fee {
            let value = priority_fees.next().unwrap_or_default();
            *fee = u128::try_from(value).map_err(|_| fee_overflow(&r))?;
        }
    }
    let mut forms = Vec::with_capacity(n);
    for _ in 0..n {
        forms.push(match r.varint()? {
            h if h % 2 == 0 => Calldata::Raw(usize::try_from(h / 2).unwrap_or(usize::MAX)),
            h if h / 2 < ERC20_SELECTORS.len() as u64 => Calldata::Erc20(h as usize / 2),
            _ => return Err(r.error("unknown calldata form")),
        });
    }
    for (tx, form) in txs.iter_mut().zip(forms) {
        tx.input = match form {
            Calldata::Raw(len) => Bytes::copy_from_slice(r.bytes(len)?),
            Calldata::Erc20(kind) => {
                let index = r.varint()?;
                let to = address(&r, index)?;
                let amount = r.decimal()?;
                let mut input = Vec::with_capacity(ERC20_CALL_LEN);
                input.extend_from_slice(&ERC20_SELECTORS[kind]);
                input.extend_from_slice(&[0; 12]);
                input.extend_from_slice(to.as_slice());
                input.extend_from_slice(&amount.to_be_bytes::<32>());
                input.into()
            }
        };
    }
    for tx in &mut txs {
        let Some(access_list) = &mut tx.access_list else {
            continue;
        };
        // An entry takes at least two bytes (two varints).
        let entries = r.count(2)?;
        let mut items = Vec::with_capacity(entries);
        for _ in 0..entries {
            let index = r.varint()?;
            let address = address(&r, index)?;
            let key_count = r.count(32)?;
            let storage_keys = (0..key_count)
                .map(|_| r.array::<32>().map(B256::from))
                .collect::<Result<_, _>>()?;
            items.push(AccessListItem {
                address,
                storage_keys,
            });
        }
        *access_list = AccessList(items);
    }
    for (tx, parity) in txs.iter_mut().zip(parities) {
        let rs = r.array::<64>()?;
        tx.signature = Signature::new(
            U256::from_be_slice(&rs[..32]),
            U256::from_be_slice(&rs[32..]),
            parity,
        );
    }
    if r.remaining() != 0 {
        return Err(BatchError::TrailingBytes {
            count: r.remaining(),
        });
    }
    Ok(txs
        .into_iter()
        .map(|tx| tx.into_envelope(chain_id))
        .collect())
}

/// How values missing from the recent values are written.
#[derive(Debug, Clone, Copy)]
enum Literal {
    Varint,
    Decimal,
}

/// Values that repeat a few recent ones (gas limits, fees): a 4-bit code per value (two per
/// byte, low nibble first, an unused last nibble zero), then the values that were not recent.
/// Code `j > 0` is the `j`-th most recently used distinct value, code 0 a new value.
fn write_recent_column(w: &mut Writer, values: impl Iterator<Item = U256>, literal: Literal) {
    let mut recent = Vec::with_capacity(RECENT_VALUES + 1);
    let mut codes = Vec::new();
    let mut literals = Writer::default();
    for value in values {
        match recent.iter().position(|v| *v == value) {
            Some(position) => {
                codes.push(position as u8 + 1);
                recent.remove(position);
            }
            None => {
                codes.push(0);
                match literal {
                    Literal::Varint => literals.varint_u256(value),
                    Literal::Decimal => literals.decimal(value),
                }
                recent.truncate(RECENT_VALUES - 1);
            }
        }
        recent.insert(0, value);
    }
    for pair in codes.chunks(2) {
        w.byte(pair[0] | pair.get(1).map_or(0, |high| high << 4));
    }
    w.bytes(&literals.buf);
}

/// Reads a recent-value column. A literal already among the recent values is accepted (it only
/// duplicates an entry); an unused last nibble is ignored.
fn read_recent_column(
    r: &mut Reader<'_>,
    len: usize,
    literal: Literal,
) -> Result<Vec<U256>, BatchError> {
    let packed = r.bytes(len.div_ceil(2))?;
    let codes = packed
        .iter()
        .flat_map(|byte| [byte & 0x0f, byte >> 4])
        .take(len);
    let mut recent = Vec::with_capacity(RECENT_VALUES + 1);
    let mut values = Vec::with_capacity(len);
    for code in codes {
        let value = if code == 0 {
            let value = match literal {
                Literal::Varint => r.varint_u256()?,
                Literal::Decimal => r.decimal()?,
            };
            recent.truncate(RECENT_VALUES - 1);
            value
        } else if usize::from(code) <= recent.len() {
            recent.remove(usize::from(code) - 1)
        } else {
            return Err(r.error("recent value code out of range"));
        };
        recent.insert(0, value);
        values.push(value);
    }
    Ok(values)
}

/// Nonces: a sender's transactions carry consecutive nonces, so most nonces are one more than
/// that of some earlier transaction of the segment. Each is stored as the distance back to the
/// nearest transaction whose nonce is one less (varint), or 0 and the nonce in a second column.
fn write_nonce_column(w: &mut Writer, nonces: impl Iterator<Item = u64>) {
    let mut last_index = HashMap::new();
    let mut literals = Writer::default();
    for (index, nonce) in nonces.enumerate() {
        match nonce
            .checked_sub(1)
            .and_then(|previous| last_index.get(&previous))
        {
            Some(&earlier) => w.varint((index - earlier) as u64),
            None => {
                w.varint(0);
                literals.varint(nonce);
            }
        }
        last_index.insert(nonce, index);
    }
    w.bytes(&literals.buf);
}

/// Reads the nonce column: distance `d > 0` means one more than the nonce `d` transactions
/// back (any earlier transaction may be named).
fn read_nonce_column(r: &mut Reader<'_>, len: usize) -> Result<Vec<u64>, BatchError> {
    let distances = (0..len)
        .map(|_| r.varint())
        .collect::<Result<Vec<_>, _>>()?;
    let mut nonces: Vec<u64> = Vec::with_capacity(len);
    for (index, distance) in distances.into_iter().enumerate() {
        let nonce = if distance == 0 {
            r.varint()?
        } else {
            let earlier = usize::try_from(distance)
                .ok()
                .and_then(|distance| index.checked_sub(distance))
                .ok_or(r.error("nonce reference before the first transaction"))?;
            nonces[earlier]
                .checked_add(1)
                .ok_or(r.error("nonce overflows 64 bits"))?
        };
        nonces.push(nonce);
    }
    Ok(nonces)
}

/// Which ERC-20 call, if `input` is one in the canonical ABI form stored compactly.
fn erc20_call(input: &[u8]) -> Option<usize> {
    if input.len() != ERC20_CALL_LEN || input[4..16] != [0; 12] {
        return None;
    }
    ERC20_SELECTORS
        .iter()
        .position(|selector| input[..4] == *selector)
}

enum Calldata {
    Raw(usize),
    Erc20(usize),
}

/// Encoder side of the address table: indices in order of first reference.
#[derive(Default)]
struct AddressTable {
    indices: HashMap<Address, u64>,
    list: Vec<Address>,
}

impl AddressTable {
    fn index(&mut self, address: Address) -> u64 {
        *self.indices.entry(address).or_insert_with(|| {
            self.list.push(address);
            self.list.len() as u64 - 1
        })
    }
}

/// The fields of a transaction, flattened across the supported types.
#[derive(Debug, Clone)]
struct TxFields {
    tx_type: u8,
    nonce: u64,
    gas_limit: u64,
    to: TxKind,
    value: U256,
    /// `gas_price`, or `max_fee_per_gas` for EIP-1559.
    fee: u128,
    /// `max_priority_fee_per_gas` of EIP-1559 transactions.
    priority_fee: Option<u128>,
    input: Bytes,
    /// Typed transactions only.
    access_list: Option<AccessList>,
    signature: Signature,
}

impl Default for TxFields {
    fn default() -> Self {
        Self {
            tx_type: TX_TYPE_LEGACY,
            nonce: 0,
            gas_limit: 0,
            to: TxKind::Create,
            value: U256::ZERO,
            fee: 0,
            priority_fee: None,
            input: Bytes::new(),
            access_list: None,
            signature: Signature::new(U256::ZERO, U256::ZERO, false),
        }
    }
}

impl TxFields {
    fn from_envelope(
        index: usize,
        envelope: &TxEnvelope,
        batch_chain_id: &mut Option<u64>,
    ) -> Result<Self, BatchError> {
        let mut check_chain = |found: u64| match *batch_chain_id {
            Some(expected) if expected != found => Err(BatchError::ChainIdMismatch {
                index,
                expected,
                found,
            }),
            _ => {
                *batch_chain_id = Some(found);
                Ok(())
            }
        };
        let fields = match envelope {
            TxEnvelope::Legacy(signed) => {
                let tx = signed.tx();
                check_chain(tx.chain_id.ok_or(BatchError::MissingChainId { index })?)?;
                Self {
                    tx_type: TX_TYPE_LEGACY,
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    to: tx.to,
                    value: tx.value,
                    fee: tx.gas_price,
                    priority_fee: None,
                    input: tx.input.clone(),
                    access_list: None,
                    signature: *signed.signature(),
                }
            }
            TxEnvelope::Eip2930(signed) => {
                let tx = signed.tx();
                check_chain(tx.chain_id)?;
                Self {
                    tx_type: TX_TYPE_EIP2930,
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    to: tx.to,
                    value: tx.value,
                    fee: tx.gas_price,
                    priority_fee: None,
                    input: tx.input.clone(),
                    access_list: Some(tx.access_list.clone()),
                    signature: *signed.signature(),
                }
            }
            TxEnvelope::Eip1559(signed) => {
                let tx = signed.tx();
                check_chain(tx.chain_id)?;
                Self {
                    tx_type: TX_TYPE_EIP1559,
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    to: tx.to,
                    value: tx.value,
                    fee: tx.max_fee_per_gas,
                    priority_fee: Some(tx.max_priority_fee_per_gas),
                    input: tx.input.clone(),
                    access_list: Some(tx.access_list.clone()),
                    signature: *signed.signature(),
                }
            }
            TxEnvelope::Eip4844(_) | TxEnvelope::Eip7702(_) => {
                return Err(BatchError::UnsupportedTxType {
                    index,
                    tx_type: envelope.ty(),
                });
            }
        };
        Ok(fields)
    }

    fn into_envelope(self, chain_id: u64) -> TxEnvelope {
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
        let access_list = access_list.unwrap_or_default();
        match tx_type {
            TX_TYPE_LEGACY => TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: fee,
                gas_limit,
                to,
                value,
                input,
            }
            .into_signed(signature)
            .into(),
            TX_TYPE_EIP2930 => TxEip2930 {
                chain_id,
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
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: fee,
                max_priority_fee_per_gas: priority_fee.unwrap_or_default(),
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

/// Keeps the encoder honest about `Encodable2718` being the hash the leaf commits to.
#[cfg(test)]
pub(super) fn envelope_hash(tx: &TxEnvelope) -> B256 {
    use alloy_eips::Encodable2718;
    keccak256(tx.encoded_2718())
}
