//! Batches: the L2 transactions the sequencer posts to the BatchInbox on L1, and their codec.
//!
//! # Wire format, version 1
//!
//! `0x01 ‖ FastLZ(payload)`, at most [`MAX_BATCH_SIZE`] bytes, where FastLZ is solady's
//! `LibZip.flzCompress` (so the fraud-proof verifier can open a batch on chain with
//! `LibZip.flzDecompress`) and the payload (at most [`MAX_PAYLOAD_SIZE`] bytes) is laid out by
//! field rather than by transaction, like OP's span batches, so FastLZ sees long runs of alike
//! bytes:
//!
//! ```text
//! parent_hash            32 bytes
//! block_count            varint, 1..=MAX_BLOCKS_PER_BATCH
//! blocks                 timestamp, l1_origin, tx_count as varints; the first block's timestamp
//!                        and L1 origin are absolute, later ones deltas from the previous block
//! address_count          varint, then that many 20-byte addresses: every address referenced
//!                        below, each once, in order of first reference
//! -- one entry per transaction, in batch order, column after column:
//! tx_types               1 byte each: 0 legacy (EIP-155), 1 EIP-2930, 2 EIP-1559
//! y_parity               bitmap
//! nonces                 varint distance back to the nearest transaction with nonce - 1, or 0;
//!                        then, for the zeros, the nonces as varints
//! gas_limits             recent-value codes (4 bits each), then the new values as varints
//! to                     varint: 0 creates a contract, i + 1 is address i of the table
//! values                 decimal
//! gas_price/max_fee      recent-value codes, then the new values as decimals
//! max_priority_fee       the same, over EIP-1559 transactions only
//! calldata_headers       varint: 2 * len for raw calldata of len bytes; 1 for an ERC-20
//!                        `transfer(address,uint256)`, 3 for `approve(address,uint256)`
//! calldata_bodies        raw calldata, or for the ERC-20 forms: address index varint, decimal
//! access_lists           typed transactions only: entry count varint; per entry an address
//!                        index varint, key count varint, 32-byte keys
//! signatures             r ‖ s, 64 bytes each
//! ```
//!
//! *varint* is unsigned LEB128; *decimal* is 0 for zero, else the byte `e + 1` then a varint
//! mantissa `m` for `m * 10^e` with the largest `e` (wei amounts are usually round); bitmaps
//! are packed least significant bit first; a *recent-value code* `j > 0` repeats the `j`-th most
//! recently used distinct value of the column, 0 takes the next new value (which must not be
//! among the last 15). Chain ids are not stored: typed transactions carry the chain id
//! given to [`Batch::decode`] and legacy ones are rebuilt as EIP-155 for it.
//!
//! # Invariants
//! - [`Batch::decode`] never panics and allocates at most [`MAX_PAYLOAD_SIZE`] plus a bounded
//!   multiple of the input: every count is checked against its limit and against the bytes left
//!   before anything is allocated.
//! - The payload has exactly one encoding: non-minimal varints and decimals, unused or
//!   duplicated addresses, wrong reference order, values written out that could have been
//!   referenced, raw
//!   calldata in an ERC-20 form, non-zero padding bits and trailing bytes are all rejected. So
//!   for every accepted input, the decompressed payload equals the payload of the re-encoded
//!   batch. (The FastLZ layer is not required to be canonical: any well-formed stream is
//!   accepted, since checking that would need the verifier to recompress on chain.)
//! - Decoded transactions are bit-identical to the encoded ones, including their hashes.
//!   Signatures are not recovered here; invalid signatures are derivation's concern.

mod error;
mod fastlz;
mod wire;

#[cfg(test)]
mod tests;

pub use error::BatchError;
pub use fastlz::{flz_compress, flz_decompress};

use std::collections::{HashMap, HashSet};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{
    Typed2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};

use wire::{Reader, Writer};

/// Version byte of the format described in the [module docs](self).
pub const BATCH_VERSION_1: u8 = 0x01;

/// Largest encoded batch in bytes: the calldata of one L1 transaction, under the 128 KiB
/// transaction size limit of L1 clients with room for the call's envelope.
pub const MAX_BATCH_SIZE: usize = 120_000;

/// Largest decompressed payload in bytes. Bounds what a replica allocates for a batch (FastLZ
/// expands up to 88x) and keeps an on-chain `LibZip.flzDecompress` of a batch around 2M gas of
/// memory expansion.
pub const MAX_PAYLOAD_SIZE: usize = 1 << 20;

/// Most blocks in one batch. Three payload bytes per empty block; at 100 ms blocks this is
/// almost two hours of an idle chain.
pub const MAX_BLOCKS_PER_BATCH: usize = 65_536;

/// Most transactions in one batch. Each carries an incompressible 64-byte `r ‖ s`, so a full
/// [`MAX_BATCH_SIZE`] batch holds under 2,000 real transactions; the cap only bounds what a
/// hostile batch of repeated signatures can make a replica allocate.
pub const MAX_TRANSACTIONS_PER_BATCH: usize = 16_384;

/// Smallest payload footprint of a block (three one-byte varints).
const MIN_BLOCK_SIZE: usize = 3;
/// Smallest payload footprint of a transaction (type byte and signature).
const MIN_TX_SIZE: usize = 65;

const TX_TYPE_LEGACY: u8 = 0;
const TX_TYPE_EIP2930: u8 = 1;
const TX_TYPE_EIP1559: u8 = 2;

/// ERC-20 calls whose calldata is stored as an address index and a decimal amount.
const ERC20_SELECTORS: [[u8; 4]; 2] = [
    [0xa9, 0x05, 0x9c, 0xbb], // transfer(address,uint256)
    [0x09, 0x5e, 0xa7, 0xb3], // approve(address,uint256)
];
const ERC20_CALL_LEN: usize = 4 + 32 + 32;

/// A run of consecutive L2 blocks, as posted to L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Hash of the L2 block before the first block of the batch.
    pub parent_hash: B256,
    /// The blocks, in order.
    pub blocks: Vec<BatchBlock>,
}

/// One L2 block of a [`Batch`]: what derivation needs to rebuild it besides the deposits,
/// which come from L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchBlock {
    /// The block's timestamp.
    pub timestamp: u64,
    /// Number of the block's L1 origin.
    pub l1_origin: u64,
    /// The sequenced transactions: signed, never deposits.
    pub transactions: Vec<TxEnvelope>,
}

impl Batch {
    /// Encodes the batch for posting.
    ///
    /// Fails if the batch has no blocks, exceeds a size or count limit, has decreasing
    /// timestamps or L1 origins, or holds a transaction the format cannot carry (deposit,
    /// EIP-4844, EIP-7702, legacy without EIP-155, or signed for another chain than the
    /// batch's first transaction).
    pub fn encode(&self) -> Result<Vec<u8>, BatchError> {
        let payload = self.encode_payload()?;
        let mut out = Vec::with_capacity(1 + payload.len());
        out.push(BATCH_VERSION_1);
        out.extend(flz_compress(&payload));
        if out.len() > MAX_BATCH_SIZE {
            return Err(BatchError::TooLarge {
                size: out.len(),
                max: MAX_BATCH_SIZE,
            });
        }
        Ok(out)
    }

    /// Decodes untrusted batch data from L1 for the L2 chain `chain_id`.
    pub fn decode(bytes: &[u8], chain_id: u64) -> Result<Self, BatchError> {
        let (&version, compressed) = bytes.split_first().ok_or(BatchError::Empty)?;
        if bytes.len() > MAX_BATCH_SIZE {
            return Err(BatchError::TooLarge {
                size: bytes.len(),
                max: MAX_BATCH_SIZE,
            });
        }
        if version != BATCH_VERSION_1 {
            return Err(BatchError::UnknownVersion(version));
        }
        let payload = flz_decompress(compressed, MAX_PAYLOAD_SIZE)?;
        Self::decode_payload(&payload, chain_id)
    }

    /// Number of transactions in all blocks.
    pub fn transaction_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|block| block.transactions.len())
            .sum()
    }

    /// The uncompressed v1 payload.
    fn encode_payload(&self) -> Result<Vec<u8>, BatchError> {
        if self.blocks.is_empty() {
            return Err(BatchError::NoBlocks);
        }
        if self.blocks.len() > MAX_BLOCKS_PER_BATCH {
            return Err(BatchError::TooManyBlocks {
                count: self.blocks.len(),
                max: MAX_BLOCKS_PER_BATCH,
            });
        }
        let tx_count = self.transaction_count();
        if tx_count > MAX_TRANSACTIONS_PER_BATCH {
            return Err(BatchError::TooManyTransactions {
                count: tx_count,
                max: MAX_TRANSACTIONS_PER_BATCH,
            });
        }

        let mut head = Writer::default();
        head.bytes(self.parent_hash.as_slice());
        head.varint(self.blocks.len() as u64);
        let mut previous: Option<&BatchBlock> = None;
        for (index, block) in self.blocks.iter().enumerate() {
            let (timestamp, l1_origin) = match previous {
                None => (block.timestamp, block.l1_origin),
                Some(prev) => (
                    delta(index, "timestamp", prev.timestamp, block.timestamp)?,
                    delta(index, "l1_origin", prev.l1_origin, block.l1_origin)?,
                ),
            };
            head.varint(timestamp);
            head.varint(l1_origin);
            head.varint(block.transactions.len() as u64);
            previous = Some(block);
        }

        let mut chain_id = None;
        let txs = self
            .blocks
            .iter()
            .flat_map(|block| &block.transactions)
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

        head.varint(addresses.list.len() as u64);
        for address in &addresses.list {
            head.bytes(address.as_slice());
        }
        let mut payload = head.buf;
        payload.extend_from_slice(&body.buf);
        if payload.len() > MAX_PAYLOAD_SIZE {
            return Err(BatchError::PayloadTooLarge {
                max: MAX_PAYLOAD_SIZE,
            });
        }
        Ok(payload)
    }

    fn decode_payload(payload: &[u8], chain_id: u64) -> Result<Self, BatchError> {
        let mut r = Reader::new(payload);
        let parent_hash = B256::from(r.array::<32>()?);
        let block_count = r.count(MAX_BLOCKS_PER_BATCH, MIN_BLOCK_SIZE)?;
        if block_count == 0 {
            return Err(r.error("a batch must contain at least one block"));
        }
        let mut blocks = Vec::with_capacity(block_count);
        let mut tx_counts = Vec::with_capacity(block_count);
        let mut tx_total = 0usize;
        for _ in 0..block_count {
            let timestamp = r.varint()?;
            let l1_origin = r.varint()?;
            let tx_count = r.count(MAX_TRANSACTIONS_PER_BATCH, MIN_TX_SIZE)?;
            let (timestamp, l1_origin) = match blocks.last() {
                Some(BatchBlock {
                    timestamp: t,
                    l1_origin: o,
                    ..
                }) => (
                    t.checked_add(timestamp)
                        .ok_or(r.error("timestamp overflows"))?,
                    o.checked_add(l1_origin)
                        .ok_or(r.error("l1 origin overflows"))?,
                ),
                _ => (timestamp, l1_origin),
            };
            tx_total += tx_count;
            if tx_total > MAX_TRANSACTIONS_PER_BATCH || tx_total * MIN_TX_SIZE > r.remaining() {
                return Err(r.error("transaction count exceeds the limit or the payload"));
            }
            blocks.push(BatchBlock {
                timestamp,
                l1_origin,
                transactions: Vec::new(),
            });
            tx_counts.push(tx_count);
        }

        let address_count = r.count(MAX_PAYLOAD_SIZE, Address::len_bytes())?;
        let mut addresses = AddressRefs::default();
        addresses.list.reserve_exact(address_count);
        let mut unique = HashSet::with_capacity(address_count);
        for _ in 0..address_count {
            let address = Address::from(r.array::<20>()?);
            if !unique.insert(address) {
                return Err(r.error("duplicate address in the address table"));
            }
            addresses.list.push(address);
        }

        let n = tx_total;
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
                index => TxKind::Call(addresses.get(&r, index - 1)?),
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
        let mut calldata = Vec::with_capacity(n);
        for _ in 0..n {
            let header = r.varint()?;
            calldata.push(match header {
                h if h % 2 == 0 => Calldata::Raw(usize::try_from(h / 2).unwrap_or(usize::MAX)),
                h if h / 2 < ERC20_SELECTORS.len() as u64 => Calldata::Erc20(h as usize / 2),
                _ => return Err(r.error("unknown calldata form")),
            });
        }
        for (tx, form) in txs.iter_mut().zip(calldata) {
            tx.input = match form {
                Calldata::Raw(len) => {
                    let input = r.bytes(len)?;
                    if erc20_call(input).is_some() {
                        return Err(r.error("raw calldata has the compact ERC-20 form"));
                    }
                    Bytes::copy_from_slice(input)
                }
                Calldata::Erc20(kind) => {
                    let index = r.varint()?;
                    let to = addresses.get(&r, index)?;
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
            let entries = r.count(MAX_PAYLOAD_SIZE, 2)?;
            let mut items = Vec::with_capacity(entries);
            for _ in 0..entries {
                let index = r.varint()?;
                let address = addresses.get(&r, index)?;
                let key_count = r.count(MAX_PAYLOAD_SIZE, 32)?;
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
        if addresses.next_new != addresses.list.len() {
            return Err(r.error("address table holds addresses no transaction references"));
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

        let mut txs = txs.into_iter().map(|tx| tx.into_envelope(chain_id));
        for (block, count) in blocks.iter_mut().zip(tx_counts) {
            block.transactions = txs.by_ref().take(count).collect();
        }
        Ok(Self {
            parent_hash,
            blocks,
        })
    }
}

fn delta(
    block: usize,
    field: &'static str,
    previous: u64,
    current: u64,
) -> Result<u64, BatchError> {
    current
        .checked_sub(previous)
        .ok_or(BatchError::NotMonotonic {
            block,
            field,
            previous,
            current,
        })
}

/// How many recently seen values a [`write_recent_column`] code can refer to: codes are 4 bits.
const RECENT_VALUES: usize = 15;

/// How values missing from the recent values are written.
#[derive(Debug, Clone, Copy)]
enum Literal {
    Varint,
    Decimal,
}

/// Values that repeat a few recent ones (gas limits, fees): a 4-bit code per value (two per byte,
/// low nibble first, an unused last nibble zero), then the values that were not recent. Code `j > 0` is the `j`-th most recently used distinct value,
/// code 0 a new value; a value is new only if it is not among the last [`RECENT_VALUES`].
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

fn read_recent_column(
    r: &mut Reader<'_>,
    len: usize,
    literal: Literal,
) -> Result<Vec<U256>, BatchError> {
    let packed = r.bytes(len.div_ceil(2))?;
    if !len.is_multiple_of(2) && packed[len / 2] >> 4 != 0 {
        return Err(r.error("unused recent-value code is not zero"));
    }
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
            if recent.contains(&value) {
                return Err(r.error("a recent value is written out instead of referenced"));
            }
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
/// that of some earlier transaction of the batch. Without recovering senders, each nonce is
/// stored as the distance back to the nearest transaction whose nonce is one less (varint),
/// or 0 and the nonce in a second column if there is none.
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

fn read_nonce_column(r: &mut Reader<'_>, len: usize) -> Result<Vec<u64>, BatchError> {
    let distances = (0..len)
        .map(|_| r.varint())
        .collect::<Result<Vec<_>, _>>()?;
    let mut last_index = HashMap::with_capacity(len);
    let mut nonces = Vec::with_capacity(len);
    for (index, distance) in distances.into_iter().enumerate() {
        let nonce = if distance == 0 {
            let nonce = r.varint()?;
            if nonce
                .checked_sub(1)
                .is_some_and(|previous| last_index.contains_key(&previous))
            {
                return Err(r.error("nonce written out instead of referenced"));
            }
            nonce
        } else {
            let earlier = usize::try_from(distance)
                .ok()
                .and_then(|distance| index.checked_sub(distance))
                .ok_or(r.error("nonce reference before the first transaction"))?;
            let previous: u64 = nonces[earlier];
            if last_index.get(&previous) != Some(&earlier) {
                return Err(r.error("nonce reference is not to the nearest transaction"));
            }
            previous
                .checked_add(1)
                .ok_or(r.error("nonce overflows 64 bits"))?
        };
        last_index.insert(nonce, index);
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

/// Decoder side of the address table, checking references come in first-use order.
#[derive(Default)]
struct AddressRefs {
    list: Vec<Address>,
    next_new: usize,
}

impl AddressRefs {
    fn get(&mut self, r: &Reader<'_>, index: u64) -> Result<Address, BatchError> {
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        if index > self.next_new || index >= self.list.len() {
            return Err(r.error("address index out of the table or not in first-use order"));
        }
        if index == self.next_new {
            self.next_new += 1;
        }
        Ok(self.list[index])
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
