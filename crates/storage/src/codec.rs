//! Fixed binary encodings of table values. Decoders never panic: short or long input is a
//! [`StorageError::Corrupt`].

use alloy_eips::BlockNumHash;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256};
use revm::state::AccountInfo;
use rollup_primitives::{L2Receipt, L2Transaction, TxDeposit};

use crate::{Result, error::corrupt};

/// Reads fixed-size fields from a byte slice.
pub(crate) struct Cursor<'a> {
    table: &'static str,
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) const fn new(table: &'static str, bytes: &'a [u8]) -> Self {
        Self { table, bytes }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(corrupt(
                self.table,
                &[],
                format!("truncated: wanted {n} more bytes"),
            ));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub(crate) fn address(&mut self) -> Result<Address> {
        Ok(Address::from_slice(self.take(20)?))
    }

    pub(crate) fn b256(&mut self) -> Result<B256> {
        Ok(B256::from_slice(self.take(32)?))
    }

    pub(crate) fn u256(&mut self) -> Result<U256> {
        Ok(U256::from_be_slice(self.take(32)?))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    pub(crate) fn finish(self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupt(
                self.table,
                &[],
                format!("{} trailing bytes", self.bytes.len()),
            ))
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

pub(crate) const ACCOUNT_LEN: usize = 72;

pub(crate) fn encode_account(info: &AccountInfo) -> [u8; ACCOUNT_LEN] {
    let mut out = [0u8; ACCOUNT_LEN];
    out[..8].copy_from_slice(&info.nonce.to_be_bytes());
    out[8..40].copy_from_slice(&info.balance.to_be_bytes::<32>());
    out[40..].copy_from_slice(info.code_hash.as_slice());
    out
}

pub(crate) fn decode_account(bytes: &[u8]) -> Result<AccountInfo> {
    let mut cur = Cursor::new("Accounts", bytes);
    let nonce = cur.u64()?;
    let balance = cur.u256()?;
    let code_hash = cur.b256()?;
    cur.finish()?;
    Ok(AccountInfo {
        nonce,
        balance,
        code_hash,
        account_id: None,
        code: None,
    })
}

pub(crate) fn storage_key(address: Address, slot: U256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    key
}

/// `block ‖ key`: the key of a keyed changeset entry, so one block's entries are contiguous.
pub(crate) fn changeset_key(block: u64, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + key.len());
    out.extend_from_slice(&block.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// An account as it was before a block: `0` (did not exist) or `1 ‖ account`.
pub(crate) fn encode_prior_account(info: Option<&AccountInfo>) -> Vec<u8> {
    match info {
        None => vec![0],
        Some(info) => {
            let mut out = Vec::with_capacity(1 + ACCOUNT_LEN);
            out.push(1);
            out.extend_from_slice(&encode_account(info));
            out
        }
    }
}

pub(crate) fn decode_prior_account(bytes: &[u8]) -> Result<Option<AccountInfo>> {
    match bytes.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, account)) => decode_account(account).map(Some),
        _ => Err(corrupt(
            "AccountChangeSets",
            bytes,
            "expected 0 or 1 ‖ account",
        )),
    }
}

/// A trie node as it was before a block (empty: no node at the path).
pub(crate) fn encode_prior_node(node: Option<&rollup_trie::Node>) -> Vec<u8> {
    node.map(|node| node.encode().to_vec()).unwrap_or_default()
}

pub(crate) fn decode_prior_node(bytes: &[u8]) -> Result<Option<rollup_trie::Node>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    rollup_trie::Node::decode(bytes)
        .map(Some)
        .map_err(|err| corrupt("TrieNodeChangeSets", bytes, err))
}

pub(crate) fn encode_body(transactions: &[L2Transaction]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(transactions.len() as u32).to_be_bytes());
    for tx in transactions {
        out.extend_from_slice(tx.sender().as_slice());
        put_bytes(&mut out, &tx.encoded_2718());
    }
    out
}

pub(crate) fn decode_body(bytes: &[u8]) -> Result<Vec<L2Transaction>> {
    let mut cur = Cursor::new("Bodies", bytes);
    let count = cur.u32()? as usize;
    let mut txs = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let sender = cur.address()?;
        let raw = cur.bytes()?;
        txs.push(
            L2Transaction::decode_2718_with_sender(raw, sender)
                .map_err(|err| corrupt("Bodies", &[], err))?,
        );
    }
    cur.finish()?;
    Ok(txs)
}

/// Transaction `index` of an encoded body, decoding only that one: a lookup by hash in a block
/// of thousands skips the others by their length prefixes.
pub(crate) fn decode_body_entry(bytes: &[u8], index: usize) -> Result<Option<L2Transaction>> {
    let mut cur = Cursor::new("Bodies", bytes);
    let count = cur.u32()? as usize;
    if index >= count {
        return Ok(None);
    }
    for _ in 0..index {
        cur.address()?;
        cur.bytes()?;
    }
    let sender = cur.address()?;
    let raw = cur.bytes()?;
    L2Transaction::decode_2718_with_sender(raw, sender)
        .map(Some)
        .map_err(|err| corrupt("Bodies", &[], err))
}

/// Receipt `index` of a block's encoded receipts, decoded alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptEntry {
    /// The receipt.
    pub(crate) receipt: L2Receipt,
    /// The block's gas used before its transaction.
    pub(crate) previous_gas: u64,
    /// How many logs the receipts before it hold.
    pub(crate) logs_before: u64,
}

/// Receipt `index` of a block's encoded receipts. The receipts before it are read only as far
/// as their cumulative gas and the number of their logs, never decoded whole.
pub(crate) fn decode_receipt_entry(bytes: &[u8], index: usize) -> Result<Option<ReceiptEntry>> {
    let mut cur = Cursor::new("Receipts", bytes);
    let count = cur.u32()? as usize;
    if index >= count {
        return Ok(None);
    }
    let (mut previous_gas, mut logs_before) = (0, 0);
    for _ in 0..index {
        let (gas, logs) = receipt_summary(cur.bytes()?)?;
        previous_gas = gas;
        logs_before += logs;
    }
    let receipt =
        L2Receipt::decode_2718(cur.bytes()?).map_err(|err| corrupt("Receipts", &[], err))?;
    Ok(Some(ReceiptEntry {
        receipt,
        previous_gas,
        logs_before,
    }))
}

/// The cumulative gas and the number of logs of an EIP-2718 receipt (`[type] rlp([status,
/// cumulativeGas, bloom, logs])`), reading list headers only.
fn receipt_summary(bytes: &[u8]) -> Result<(u64, u64)> {
    use alloy_rlp::{Decodable, Header};
    let bad = |err: alloy_rlp::Error| corrupt("Receipts", &[], err);
    let mut body = match bytes.first() {
        Some(&b) if b < 0x7f => &bytes[1..],
        _ => bytes,
    };
    let header = Header::decode(&mut body).map_err(bad)?;
    if !header.list || body.len() < header.payload_length {
        return Err(corrupt("Receipts", &[], "receipt is not a list"));
    }
    let mut fields = &body[..header.payload_length];
    bool::decode(&mut fields).map_err(bad)?;
    let cumulative_gas = u64::decode(&mut fields).map_err(bad)?;
    skip_item(&mut fields).map_err(bad)?; // the bloom
    let logs = Header::decode(&mut fields).map_err(bad)?;
    if !logs.list || fields.len() < logs.payload_length {
        return Err(corrupt("Receipts", &[], "logs are not a list"));
    }
    let mut items = &fields[..logs.payload_length];
    let mut count = 0;
    while !items.is_empty() {
        skip_item(&mut items).map_err(bad)?;
        count += 1;
    }
    Ok((cumulative_gas, count))
}

/// Advances `buf` past one RLP item.
fn skip_item(buf: &mut &[u8]) -> std::result::Result<(), alloy_rlp::Error> {
    let header = alloy_rlp::Header::decode(buf)?;
    if buf.len() < header.payload_length {
        return Err(alloy_rlp::Error::InputTooShort);
    }
    *buf = &buf[header.payload_length..];
    Ok(())
}

pub(crate) fn encode_receipts(receipts: &[L2Receipt]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(receipts.len() as u32).to_be_bytes());
    for receipt in receipts {
        put_bytes(&mut out, &receipt.encoded_2718());
    }
    out
}

pub(crate) fn decode_receipts(bytes: &[u8]) -> Result<Vec<L2Receipt>> {
    let mut cur = Cursor::new("Receipts", bytes);
    let count = cur.u32()? as usize;
    let mut receipts = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let raw = cur.bytes()?;
        receipts.push(L2Receipt::decode_2718(raw).map_err(|err| corrupt("Receipts", &[], err))?);
    }
    cur.finish()?;
    Ok(receipts)
}

/// Prior values of everything one block changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ChangeSet {
    /// Accounts and their values before the block (`None`: did not exist).
    pub(crate) accounts: Vec<(Address, Option<AccountInfo>)>,
    /// Storage slots and their values before the block (zero: unset).
    pub(crate) storage: Vec<(Address, U256, U256)>,
}

impl ChangeSet {
    /// The legacy blob layout (older versions wrote one per block); kept to test the decoder.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.accounts.len() * 93 + self.storage.len() * 84);
        out.extend_from_slice(&(self.accounts.len() as u32).to_be_bytes());
        for (address, info) in &self.accounts {
            out.extend_from_slice(address.as_slice());
            match info {
                None => out.push(0),
                Some(info) => {
                    out.push(1);
                    out.extend_from_slice(&encode_account(info));
                }
            }
        }
        out.extend_from_slice(&(self.storage.len() as u32).to_be_bytes());
        for (address, slot, value) in &self.storage {
            out.extend_from_slice(address.as_slice());
            out.extend_from_slice(&slot.to_be_bytes::<32>());
            out.extend_from_slice(&value.to_be_bytes::<32>());
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut cur = Cursor::new("ChangeSets", bytes);
        let mut set = Self::default();
        for _ in 0..cur.u32()? {
            let address = cur.address()?;
            let info = match cur.take(1)?[0] {
                0 => None,
                1 => Some(decode_account(cur.take(ACCOUNT_LEN)?)?),
                flag => return Err(corrupt("ChangeSets", &[], format!("account flag {flag}"))),
            };
            set.accounts.push((address, info));
        }
        for _ in 0..cur.u32()? {
            set.storage.push((cur.address()?, cur.u256()?, cur.u256()?));
        }
        cur.finish()?;
        Ok(set)
    }
}

/// What the store remembers of a processed L1 block: enough to use it as an L1 origin (its
/// deposits, timestamp and `prevrandao`) and to unwind to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1BlockRecord {
    /// The L1 block.
    pub block: BlockNumHash,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its `prevrandao`.
    pub mix_hash: B256,
    /// The safe L2 head after processing it.
    pub safe_l2_head: u64,
    /// The deposits derived from it, in log order.
    pub deposits: Vec<TxDeposit>,
    /// The bridge's deposit nonce expected next after this block. Stored per block so an unwind
    /// restores it. The origin's record holds 0; `None` in a database whose origin record
    /// predates that (until its first message since the origin, which then sets it).
    pub next_deposit_nonce: Option<u64>,
    /// The index of the next `BatchInbox` record after this block (the records derivation has
    /// consumed through it).
    pub next_inbox_record: u64,
}

impl L1BlockRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(84 + self.deposits.len() * 200);
        out.extend_from_slice(self.block.hash.as_slice());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(self.mix_hash.as_slice());
        out.extend_from_slice(&self.safe_l2_head.to_be_bytes());
        out.extend_from_slice(&(self.deposits.len() as u32).to_be_bytes());
        for deposit in &self.deposits {
            put_bytes(&mut out, &deposit.encoded_2718());
        }
        out.extend_from_slice(&self.next_inbox_record.to_be_bytes());
        if let Some(nonce) = self.next_deposit_nonce {
            out.extend_from_slice(&nonce.to_be_bytes());
        }
        out
    }

    pub(crate) fn decode(number: u64, bytes: &[u8]) -> Result<Self> {
        let mut cur = Cursor::new("L1Blocks", bytes);
        let hash = cur.b256()?;
        let timestamp = cur.u64()?;
        let mix_hash = cur.b256()?;
        let safe_l2_head = cur.u64()?;
        let count = cur.u32()? as usize;
        let mut deposits = Vec::with_capacity(count.min(1 << 12));
        for _ in 0..count {
            let raw = cur.bytes()?;
            let deposit = raw
                .split_first()
                .and_then(|(_, mut body)| TxDeposit::decode_body(&mut body).ok())
                .ok_or_else(|| corrupt("L1Blocks", &number.to_be_bytes(), "bad deposit"))?;
            deposits.push(deposit);
        }
        let next_inbox_record = cur.u64()?;
        let next_deposit_nonce = if cur.is_empty() {
            None
        } else {
            Some(cur.u64()?)
        };
        cur.finish()?;
        Ok(Self {
            block: BlockNumHash { number, hash },
            timestamp,
            mix_hash,
            safe_l2_head,
            deposits,
            next_deposit_nonce,
            next_inbox_record,
        })
    }
}

/// What derivation made of one L1 block's batches and bridge messages, kept for operators
/// (`rollup_getRecentBatches`, `rollup_getDeposits`, the status page). Not consensus data: it is
/// written with the block's [`L1BlockRecord`] and unwound with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L1BlockDerivation {
    /// Every `BatchInbox` record appended in the block (posted batches and forced blocks), in
    /// log order.
    pub batches: Vec<BatchRecord>,
    /// Where each deposit of the block's [`L1BlockRecord::deposits`] came from, same order.
    pub deposits: Vec<DepositOrigin>,
}

/// One batch posted to L1 and what derivation did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// The L1 transaction that posted it.
    pub tx_hash: B256,
    /// Its index in the L1 block.
    pub tx_index: u32,
    /// Length of the batch data (the `postBatch` argument), in bytes.
    pub bytes: u32,
    /// The first L2 block derived from it (meaningful when `l2_blocks > 0`).
    pub first_l2_block: u64,
    /// How many L2 blocks became safe from it.
    pub l2_blocks: u32,
    /// Signed transactions in those blocks.
    pub transactions: u32,
    /// What derivation did with it.
    pub outcome: BatchOutcome,
}

/// What derivation did with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every block of it became safe.
    Derived,
    /// Not derived (records of format v1 only, whose re-posts derivation ignored; the inbox now
    /// refuses them).
    Ignored,
    /// Segments that did not decode: the blocks with transactions in them were derived empty
    /// (the text says which segments and why); the rest derived as posted.
    Dropped(String),
}

/// The L1 log a deposit (or forced withdrawal) was derived from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepositOrigin {
    /// The bridge's nonce of the message.
    pub nonce: u64,
    /// The L1 transaction that emitted it.
    pub tx_hash: B256,
    /// The log's index in the L1 block.
    pub log_index: u64,
}

impl L1BlockDerivation {
    /// Nothing to keep.
    pub const fn is_empty(&self) -> bool {
        self.batches.is_empty() && self.deposits.is_empty()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.batches.len() * 70 + self.deposits.len() * 48);
        out.extend_from_slice(&(self.batches.len() as u32).to_be_bytes());
        for batch in &self.batches {
            out.extend_from_slice(batch.tx_hash.as_slice());
            out.extend_from_slice(&batch.tx_index.to_be_bytes());
            out.extend_from_slice(&batch.bytes.to_be_bytes());
            out.extend_from_slice(&batch.first_l2_block.to_be_bytes());
            out.extend_from_slice(&batch.l2_blocks.to_be_bytes());
            out.extend_from_slice(&batch.transactions.to_be_bytes());
            match &batch.outcome {
                BatchOutcome::Derived => out.push(0),
                BatchOutcome::Ignored => out.push(1),
                BatchOutcome::Dropped(reason) => {
                    out.push(2);
                    put_bytes(&mut out, reason.as_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.deposits.len() as u32).to_be_bytes());
        for deposit in &self.deposits {
            out.extend_from_slice(&deposit.nonce.to_be_bytes());
            out.extend_from_slice(deposit.tx_hash.as_slice());
            out.extend_from_slice(&deposit.log_index.to_be_bytes());
        }
        out
    }

    pub(crate) fn decode(number: u64, bytes: &[u8]) -> Result<Self> {
        let key = number.to_be_bytes();
        let mut cur = Cursor::new("L1BlockDerivations", bytes);
        let mut derivation = Self::default();
        for _ in 0..cur.u32()? {
            let tx_hash = cur.b256()?;
            let tx_index = cur.u32()?;
            let length = cur.u32()?;
            let first_l2_block = cur.u64()?;
            let l2_blocks = cur.u32()?;
            let transactions = cur.u32()?;
            let outcome = match cur.take(1)?[0] {
                0 => BatchOutcome::Derived,
                1 => BatchOutcome::Ignored,
                2 => BatchOutcome::Dropped(String::from_utf8_lossy(cur.bytes()?).into_owned()),
                other => {
                    return Err(corrupt(
                        "L1BlockDerivations",
                        &key,
                        format!("batch outcome {other}"),
                    ));
                }
            };
            derivation.batches.push(BatchRecord {
                tx_hash,
                tx_index,
                bytes: length,
                first_l2_block,
                l2_blocks,
                transactions,
                outcome,
            });
        }
        for _ in 0..cur.u32()? {
            derivation.deposits.push(DepositOrigin {
                nonce: cur.u64()?,
                tx_hash: cur.b256()?,
                log_index: cur.u64()?,
            });
        }
        cur.finish()?;
        Ok(derivation)
    }
}

pub(crate) fn encode_num_hash(block: BlockNumHash) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&block.number.to_be_bytes());
    out[8..].copy_from_slice(block.hash.as_slice());
    out
}

pub(crate) fn decode_num_hash(table: &'static str, bytes: &[u8]) -> Result<BlockNumHash> {
    let mut cur = Cursor::new(table, bytes);
    let number = cur.u64()?;
    let hash = cur.b256()?;
    cur.finish()?;
    Ok(BlockNumHash { number, hash })
}

pub(crate) fn decode_u64(table: &'static str, bytes: &[u8]) -> Result<u64> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(table, bytes, "expected 8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block's transactions (a deposit, then signed legacy and EIP-1559 transfers) and
    /// receipts with 0 to 3 logs each.
    fn block(count: usize) -> (Vec<L2Transaction>, Vec<L2Receipt>) {
        use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
        use alloy_eips::Typed2718;
        use alloy_primitives::{Bytes, Log, Signature, TxKind};
        let signature = Signature::new(U256::from(1), U256::from(2), false);
        let mut transactions = vec![L2Transaction::Deposit(TxDeposit {
            source_hash: B256::repeat_byte(9),
            from: Address::repeat_byte(1),
            to: Address::repeat_byte(2),
            mint: 5,
            value: U256::from(5),
            gas_limit: 100_000,
            input: Bytes::new(),
        })];
        for i in 1..count as u64 {
            let to = TxKind::Call(Address::with_last_byte(i as u8));
            let envelope = if i % 2 == 0 {
                TxLegacy {
                    nonce: i,
                    gas_price: 7,
                    gas_limit: 21_000,
                    to,
                    ..Default::default()
                }
                .into_signed(signature)
                .into()
            } else {
                let input = Bytes::from(vec![i as u8; i as usize % 40]);
                TxEip1559 {
                    nonce: i,
                    gas_limit: 50_000,
                    to,
                    input,
                    ..Default::default()
                }
                .into_signed(signature)
                .into()
            };
            transactions.push(L2Transaction::Signed {
                envelope,
                sender: Address::repeat_byte(i as u8),
            });
        }
        let mut cumulative_gas_used = 0;
        let receipts = transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                cumulative_gas_used += 21_000 + i as u64;
                let logs = (0..i % 4)
                    .map(|l| {
                        Log::new_unchecked(
                            Address::repeat_byte(l as u8),
                            vec![B256::repeat_byte(i as u8); l],
                            Bytes::from(vec![l as u8; 3 * l]),
                        )
                    })
                    .collect();
                L2Receipt {
                    tx_type: tx.ty(),
                    success: i % 3 != 1,
                    cumulative_gas_used,
                    logs,
                }
            })
            .collect();
        (transactions, receipts)
    }

    #[test]
    fn one_entry_of_a_body_or_its_receipts_decodes_alone_as_in_the_whole() {
        let (transactions, receipts) = block(300);
        let body = encode_body(&transactions);
        let encoded = encode_receipts(&receipts);
        let whole = decode_receipts(&encoded).unwrap();
        assert_eq!(whole, receipts);
        for i in 0..transactions.len() {
            assert_eq!(
                decode_body_entry(&body, i).unwrap().as_ref(),
                Some(&transactions[i])
            );
            let entry = decode_receipt_entry(&encoded, i).unwrap().unwrap();
            assert_eq!(entry.receipt, receipts[i]);
            let previous_gas = i
                .checked_sub(1)
                .map_or(0, |p| receipts[p].cumulative_gas_used);
            assert_eq!(entry.previous_gas, previous_gas, "receipt {i}");
            let logs_before: usize = receipts[..i].iter().map(|r| r.logs.len()).sum();
            assert_eq!(entry.logs_before, logs_before as u64, "receipt {i}");
        }
        assert_eq!(decode_body_entry(&body, transactions.len()).unwrap(), None);
        assert_eq!(
            decode_receipt_entry(&encoded, receipts.len()).unwrap(),
            None
        );
    }

    #[test]
    fn a_cut_body_or_receipts_entry_is_an_error_not_a_panic() {
        let (transactions, receipts) = block(8);
        let body = encode_body(&transactions);
        let encoded = encode_receipts(&receipts);
        let last = transactions.len() - 1;
        for cut in 0..body.len() {
            assert!(
                decode_body_entry(&body[..cut], last).is_err(),
                "body cut at {cut}"
            );
        }
        for cut in 0..encoded.len() {
            assert!(
                decode_receipt_entry(&encoded[..cut], last).is_err(),
                "receipts cut at {cut}"
            );
        }
    }

    #[test]
    fn changeset_roundtrip_and_truncation_is_an_error() {
        let set = ChangeSet {
            accounts: vec![
                (Address::repeat_byte(1), None),
                (
                    Address::repeat_byte(2),
                    Some(AccountInfo {
                        nonce: 3,
                        balance: U256::from(4),
                        code_hash: B256::repeat_byte(5),
                        account_id: None,
                        code: None,
                    }),
                ),
            ],
            storage: vec![(Address::repeat_byte(2), U256::from(7), U256::from(8))],
        };
        let bytes = set.encode();
        assert_eq!(ChangeSet::decode(&bytes).unwrap(), set);
        for cut in 0..bytes.len() {
            assert!(ChangeSet::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn l1_block_derivation_roundtrip_and_truncation_is_an_error() {
        let derivation = L1BlockDerivation {
            batches: vec![
                BatchRecord {
                    tx_hash: B256::repeat_byte(1),
                    tx_index: 3,
                    bytes: 1_234,
                    first_l2_block: 17,
                    l2_blocks: 4,
                    transactions: 9,
                    outcome: BatchOutcome::Derived,
                },
                BatchRecord {
                    tx_hash: B256::repeat_byte(2),
                    tx_index: 4,
                    bytes: 10,
                    first_l2_block: 0,
                    l2_blocks: 0,
                    transactions: 0,
                    outcome: BatchOutcome::Dropped("block 0 of 1: too old".into()),
                },
                BatchRecord {
                    tx_hash: B256::repeat_byte(3),
                    tx_index: 5,
                    bytes: 10,
                    first_l2_block: 0,
                    l2_blocks: 0,
                    transactions: 0,
                    outcome: BatchOutcome::Ignored,
                },
            ],
            deposits: vec![DepositOrigin {
                nonce: 7,
                tx_hash: B256::repeat_byte(8),
                log_index: 2,
            }],
        };
        let bytes = derivation.encode();
        assert_eq!(L1BlockDerivation::decode(1, &bytes).unwrap(), derivation);
        for cut in 0..bytes.len() {
            assert!(L1BlockDerivation::decode(1, &bytes[..cut]).is_err());
        }
        assert!(L1BlockDerivation::default().is_empty());
    }

    #[test]
    fn prior_values_roundtrip_and_malformed_input_is_an_error() {
        let info = AccountInfo {
            nonce: 9,
            balance: U256::from(10),
            code_hash: B256::repeat_byte(11),
            account_id: None,
            code: None,
        };
        for prior in [None, Some(info)] {
            let bytes = encode_prior_account(prior.as_ref());
            assert_eq!(decode_prior_account(&bytes).unwrap(), prior);
            for cut in 0..bytes.len() {
                assert!(decode_prior_account(&bytes[..cut]).is_err());
            }
        }
        assert!(decode_prior_account(&[0, 0]).is_err());
        assert!(decode_prior_account(&[2]).is_err());
        let node = rollup_trie::Node::Leaf {
            key: B256::repeat_byte(1),
            value_hash: B256::repeat_byte(2),
        };
        for prior in [None, Some(node)] {
            let bytes = encode_prior_node(prior.as_ref());
            assert_eq!(decode_prior_node(&bytes).unwrap(), prior);
        }
        assert!(decode_prior_node(&[1, 2, 3]).is_err());
        assert_eq!(
            &changeset_key(7, &[1, 2])[..],
            &[0, 0, 0, 0, 0, 0, 0, 7, 1, 2]
        );
    }
}

/// The part of an L2 block left open by one inbox record (`BatchInbox.Record.lastBlockOpen`):
/// its transactions in that record's batch, kept until a later record closes the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBlockPart {
    /// The open block.
    pub l2_block: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its L1 origin.
    pub l1_origin: u64,
    /// Where the block stands if `forceInclude` closes it after this part (with no more
    /// transactions): this record, the block's position in it, its L1 block.
    pub closed_here: BlockDerivation,
    /// Its transactions in the record (EIP-2718 bytes), in order; `None` if a segment holding
    /// one of them did not decode, which empties the whole block.
    pub transactions: Option<Vec<Vec<u8>>>,
}

impl OpenBlockPart {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.l2_block.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.l1_origin.to_be_bytes());
        out.extend_from_slice(&self.closed_here.encode());
        match &self.transactions {
            None => out.push(0),
            Some(transactions) => {
                out.push(1);
                out.extend_from_slice(&(transactions.len() as u32).to_be_bytes());
                for tx in transactions {
                    out.extend_from_slice(&(tx.len() as u32).to_be_bytes());
                    out.extend_from_slice(tx);
                }
            }
        }
        out
    }

    /// The L2 block of an encoded part, read without decoding its transactions.
    pub(crate) fn decode_l2_block(bytes: &[u8]) -> Result<u64> {
        Cursor::new("OpenBlockParts", bytes).u64()
    }

    pub(crate) fn decode(index: u64, bytes: &[u8]) -> Result<Self> {
        let mut cur = Cursor::new("OpenBlockParts", bytes);
        let l2_block = cur.u64()?;
        let timestamp = cur.u64()?;
        let l1_origin = cur.u64()?;
        let closed_here = BlockDerivation {
            batch: cur.b256()?,
            inbox_record: cur.u64()?,
            block_in_record: cur.u64()?,
            l1_block: cur.u64()?,
        };
        let transactions = match cur.take(1)?[0] {
            0 => None,
            1 => {
                let count = cur.u32()? as usize;
                // Every transaction takes at least its 4-byte length.
                let mut transactions = Vec::with_capacity(count.min(bytes.len() / 4));
                for _ in 0..count {
                    transactions.push(cur.bytes()?.to_vec());
                }
                Some(transactions)
            }
            other => {
                return Err(corrupt(
                    "OpenBlockParts",
                    &index.to_be_bytes(),
                    format!("unknown flag {other}"),
                ));
            }
        };
        cur.finish()
            .map_err(|_| corrupt("OpenBlockParts", &index.to_be_bytes(), "trailing bytes"))?;
        Ok(Self {
            l2_block,
            timestamp,
            l1_origin,
            closed_here,
            transactions,
        })
    }
}

/// Where a safe L2 block was derived from: its batch and the derivation cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockDerivation {
    /// `keccak256` of the batch data (zero for a forced block).
    pub batch: B256,
    /// The `BatchInbox` record.
    pub inbox_record: u64,
    /// The block's position among the record's blocks, from 0.
    pub block_in_record: u64,
    /// The L1 block that appended the record.
    pub l1_block: u64,
}

impl BlockDerivation {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(56);
        out.extend_from_slice(self.batch.as_slice());
        out.extend_from_slice(&self.inbox_record.to_be_bytes());
        out.extend_from_slice(&self.block_in_record.to_be_bytes());
        out.extend_from_slice(&self.l1_block.to_be_bytes());
        out
    }

    pub(crate) fn decode(number: u64, bytes: &[u8]) -> Result<Self> {
        let mut cur = Cursor::new("BlockBatches", bytes);
        let at = Self {
            batch: cur.b256()?,
            inbox_record: cur.u64()?,
            block_in_record: cur.u64()?,
            l1_block: cur.u64()?,
        };
        cur.finish()
            .map_err(|_| corrupt("BlockBatches", &number.to_be_bytes(), "trailing bytes"))?;
        Ok(at)
    }
}
