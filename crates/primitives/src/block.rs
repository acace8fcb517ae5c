//! L2 blocks, transactions and receipts.

use alloy_consensus::{
    Header, Transaction as _, TxEnvelope, proofs,
    transaction::{RlpEcdsaDecodableTx as _, SignerRecoverable},
};
use alloy_eips::{
    BlockNumHash, Typed2718,
    eip2718::{Decodable2718, Encodable2718},
};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, TxKind, U256, logs_bloom};
use alloy_rlp::{BufMut, Decodable, Encodable, Header as RlpHeader};

use crate::{DEPOSIT_TX_TYPE, PrimitivesError, Result, TxDeposit};

/// Length of an L2 header's `extra_data`: the L1 origin number (8 bytes, big endian) followed
/// by its hash (32 bytes). Binding the origin into the header makes the L2 block hash commit
/// to the L1 block it was derived from.
pub const L2_BLOCK_EXTRA_DATA_LEN: usize = 40;

/// The L1 block an L2 block was derived from (its "epoch").
pub type L1Origin = BlockNumHash;

/// Fewest transactions worth recovering on more than one thread: below this, starting threads
/// costs more than it saves (one recovery is tens of microseconds).
const PARALLEL_RECOVERY_MIN: usize = 256;

/// The signers of `envelopes`, in order (an error for a signature that does not recover),
/// recovered on as many threads as the machine has cores once there are enough of them. For
/// untrusted transactions in bulk (a derived batch); the answer is the same as recovering one
/// by one.
pub fn recover_signers(
    envelopes: &[TxEnvelope],
) -> Vec<std::result::Result<Address, alloy_consensus::crypto::RecoveryError>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads == 1 || envelopes.len() < PARALLEL_RECOVERY_MIN {
        return envelopes.iter().map(|tx| tx.recover_signer()).collect();
    }
    let chunk = envelopes.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = envelopes
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|tx| tx.recover_signer())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(senders) => senders,
                // Recovery does not panic; if it ever did, the panic belongs to the caller.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// An L2 transaction with its sender, recovered once at ingress and carried from then on.
// Signed transactions dominate real blocks; boxing them would add an allocation per transaction.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L2Transaction {
    /// A deposit derived from L1; its sender is part of the transaction.
    Deposit(TxDeposit),
    /// A signed Ethereum transaction with its recovered sender.
    Signed {
        /// The transaction.
        envelope: TxEnvelope,
        /// Its recovered signer.
        sender: Address,
    },
}

/// Why `input` is not an EIP-2718 transaction, in terms of what was sent: alloy's own reasons
/// (`Unexpected type flag. Got 0.`) do not say what a signed transaction looks like.
fn envelope_error(input: &[u8], err: &alloy_eips::eip2718::Eip2718Error) -> String {
    const FORM: &str = "a signed transaction is a type byte (0x01 or 0x02) followed by an RLP \
                        list, or a legacy transaction's RLP list (first byte 0xc0-0xff)";
    let Some(&first) = input.first() else {
        return format!("no bytes: {FORM}");
    };
    match first {
        0x05..=0x7f => format!("unknown transaction type {first:#04x}: {FORM}"),
        0x80..=0xbf => format!(
            "an RLP string (first byte {first:#04x}), not a transaction: send the signed \
             transaction's bytes themselves; {FORM}"
        ),
        0xc0..=0xff => {
            // The list's claimed length, read by hand: alloy's header decoder refuses a
            // truncated list without saying by how much.
            let (length, rest) = if first <= 0xf7 {
                (Some(usize::from(first - 0xc0)), &input[1..])
            } else {
                let size = usize::from(first - 0xf7);
                let length = input.get(1..1 + size).and_then(|bytes| {
                    bytes.iter().try_fold(0usize, |acc, &b| {
                        acc.checked_mul(256)?.checked_add(b.into())
                    })
                });
                (length, input.get(1 + size..).unwrap_or_default())
            };
            match length {
                Some(length) if length > rest.len() => format!(
                    "legacy transaction RLP list of {length} bytes but only {} follow (truncated?)",
                    rest.len()
                ),
                None => format!(
                    "legacy transaction RLP list whose length does not follow its first byte \
                     {first:#04x} (truncated?)"
                ),
                // A whole list that is not a legacy transaction: alloy's envelope decoder then
                // speaks of type flags; its legacy decoder names the field that is wrong.
                Some(_) => match alloy_consensus::TxLegacy::rlp_decode_signed(&mut &input[..]) {
                    Err(legacy) => format!(
                        "legacy transaction: {legacy} (a legacy transaction is an RLP list of \
                         nine fields: nonce, gasPrice, gas, to, value, data, v, r, s)"
                    ),
                    Ok(_) => format!("legacy transaction: {err}"),
                },
            }
        }
        _ => format!("type {first:#04x} transaction: {err}"),
    }
}

impl L2Transaction {
    /// Decodes untrusted EIP-2718 bytes, recovering the signer of signed transactions.
    pub fn decode_2718_recover(mut bytes: &[u8]) -> Result<Self> {
        let tx = if bytes.first() == Some(&DEPOSIT_TX_TYPE) {
            let mut body = &bytes[1..];
            let deposit = TxDeposit::decode_body(&mut body)?;
            if !body.is_empty() {
                return Err(PrimitivesError::Decode {
                    what: "deposit transaction",
                    reason: format!("{} trailing bytes", body.len()),
                });
            }
            Self::Deposit(deposit)
        } else {
            let input = bytes;
            let envelope =
                TxEnvelope::decode_2718(&mut bytes).map_err(|err| PrimitivesError::Decode {
                    what: "transaction",
                    reason: envelope_error(input, &err),
                })?;
            if !bytes.is_empty() {
                return Err(PrimitivesError::Decode {
                    what: "transaction",
                    reason: format!("{} trailing bytes", bytes.len()),
                });
            }
            let sender = envelope
                .recover_signer()
                .map_err(|err| PrimitivesError::Decode {
                    what: "transaction signature",
                    reason: err.to_string(),
                })?;
            Self::Signed { envelope, sender }
        };
        Ok(tx)
    }

    /// Decodes trusted bytes (from our own database) with a sender stored beside them.
    pub fn decode_2718_with_sender(bytes: &[u8], sender: Address) -> Result<Self> {
        if bytes.first() == Some(&DEPOSIT_TX_TYPE) {
            return Ok(Self::Deposit(TxDeposit::decode_body(&mut &bytes[1..])?));
        }
        let envelope =
            TxEnvelope::decode_2718(&mut &bytes[..]).map_err(|err| PrimitivesError::Decode {
                what: "transaction",
                reason: err.to_string(),
            })?;
        Ok(Self::Signed { envelope, sender })
    }

    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        match self {
            Self::Deposit(tx) => tx.hash(),
            Self::Signed { envelope, .. } => *envelope.tx_hash(),
        }
    }

    /// The sender.
    pub const fn sender(&self) -> Address {
        match self {
            Self::Deposit(tx) => tx.from,
            Self::Signed { sender, .. } => *sender,
        }
    }

    /// The EIP-2718 type byte.
    pub fn tx_type(&self) -> u8 {
        match self {
            Self::Deposit(_) => DEPOSIT_TX_TYPE,
            Self::Signed { envelope, .. } => envelope.tx_type() as u8,
        }
    }

    /// Whether this is a deposit.
    pub const fn is_deposit(&self) -> bool {
        matches!(self, Self::Deposit(_))
    }

    /// Gas limit.
    pub fn gas_limit(&self) -> u64 {
        match self {
            Self::Deposit(tx) => tx.gas_limit,
            Self::Signed { envelope, .. } => envelope.gas_limit(),
        }
    }

    /// Call target or creation.
    pub fn kind(&self) -> TxKind {
        match self {
            Self::Deposit(tx) => TxKind::Call(tx.to),
            Self::Signed { envelope, .. } => envelope.kind(),
        }
    }

    /// Value sent.
    pub fn value(&self) -> U256 {
        match self {
            Self::Deposit(tx) => tx.value,
            Self::Signed { envelope, .. } => envelope.value(),
        }
    }

    /// Calldata.
    pub fn input(&self) -> &Bytes {
        match self {
            Self::Deposit(tx) => &tx.input,
            Self::Signed { envelope, .. } => envelope.input(),
        }
    }

    /// Sender nonce (deposits have none and report 0).
    pub fn nonce(&self) -> u64 {
        match self {
            Self::Deposit(_) => 0,
            Self::Signed { envelope, .. } => envelope.nonce(),
        }
    }
}

impl Typed2718 for L2Transaction {
    fn ty(&self) -> u8 {
        self.tx_type()
    }
}

impl Encodable2718 for L2Transaction {
    fn type_flag(&self) -> Option<u8> {
        match self {
            Self::Deposit(_) => Some(DEPOSIT_TX_TYPE),
            Self::Signed { envelope, .. } => envelope.type_flag(),
        }
    }

    fn encode_2718_len(&self) -> usize {
        match self {
            Self::Deposit(tx) => 1 + tx.length(),
            Self::Signed { envelope, .. } => envelope.encode_2718_len(),
        }
    }

    fn encode_2718(&self, out: &mut dyn BufMut) {
        match self {
            Self::Deposit(tx) => {
                out.put_u8(DEPOSIT_TX_TYPE);
                tx.encode(out);
            }
            Self::Signed { envelope, .. } => envelope.encode_2718(out),
        }
    }
}

/// The receipt of an L2 transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Receipt {
    /// EIP-2718 type of the transaction.
    pub tx_type: u8,
    /// Whether execution succeeded.
    pub success: bool,
    /// Gas used in the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Logs emitted.
    pub logs: Vec<Log>,
}

impl L2Receipt {
    fn rlp_header(&self, bloom: &Bloom) -> RlpHeader {
        let payload_length = self.success.length()
            + self.cumulative_gas_used.length()
            + bloom.length()
            + self.logs.length();
        RlpHeader {
            list: true,
            payload_length,
        }
    }

    /// The logs bloom.
    pub fn bloom(&self) -> Bloom {
        logs_bloom(self.logs.iter())
    }

    /// Decodes the EIP-2718 encoding produced by [`Encodable2718::encode_2718`].
    pub fn decode_2718(bytes: &[u8]) -> Result<Self> {
        let (tx_type, mut body) = match bytes.first() {
            Some(&b) if b < 0x7f => (b, &bytes[1..]),
            _ => (0, bytes),
        };
        let header = RlpHeader::decode(&mut body)?;
        if !header.list {
            return Err(PrimitivesError::Decode {
                what: "receipt",
                reason: "not a list".into(),
            });
        }
        let success = bool::decode(&mut body)?;
        let cumulative_gas_used = u64::decode(&mut body)?;
        let _bloom = Bloom::decode(&mut body)?;
        let logs = Vec::<Log>::decode(&mut body)?;
        Ok(Self {
            tx_type,
            success,
            cumulative_gas_used,
            logs,
        })
    }
}

impl Typed2718 for L2Receipt {
    fn ty(&self) -> u8 {
        self.tx_type
    }
}

impl Encodable2718 for L2Receipt {
    fn type_flag(&self) -> Option<u8> {
        (self.tx_type != 0).then_some(self.tx_type)
    }

    fn encode_2718_len(&self) -> usize {
        let bloom = self.bloom();
        let header = self.rlp_header(&bloom);
        usize::from(self.tx_type != 0) + header.length() + header.payload_length
    }

    fn encode_2718(&self, out: &mut dyn BufMut) {
        if self.tx_type != 0 {
            out.put_u8(self.tx_type);
        }
        let bloom = self.bloom();
        self.rlp_header(&bloom).encode(out);
        self.success.encode(out);
        self.cumulative_gas_used.encode(out);
        bloom.encode(out);
        self.logs.encode(out);
    }
}

/// An L2 block: an Ethereum-shaped header and its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Block {
    /// Header. `extra_data` carries the L1 origin, `mix_hash` the origin's `prevrandao`.
    pub header: Header,
    /// Transactions: deposits first.
    pub transactions: Vec<L2Transaction>,
}

impl L2Block {
    /// Block hash (keccak256 of the RLP header).
    pub fn hash(&self) -> B256 {
        self.header.hash_slow()
    }

    /// Block number.
    pub const fn number(&self) -> u64 {
        self.header.number
    }

    /// The L1 origin recorded in the header.
    pub fn l1_origin(&self) -> Result<L1Origin> {
        decode_l1_origin(&self.header.extra_data)
    }

    /// Root of the transactions trie, as Ethereum computes it.
    pub fn transactions_root(transactions: &[L2Transaction]) -> B256 {
        proofs::calculate_transaction_root(transactions)
    }

    /// Root of the receipts trie.
    pub fn receipts_root(receipts: &[L2Receipt]) -> B256 {
        proofs::calculate_receipt_root(receipts)
    }

    /// Logs bloom of a block's receipts.
    pub fn logs_bloom(receipts: &[L2Receipt]) -> Bloom {
        logs_bloom(receipts.iter().flat_map(|r| r.logs.iter()))
    }
}

/// Encodes an L1 origin into header `extra_data`.
pub fn encode_l1_origin(origin: L1Origin) -> Bytes {
    let mut out = Vec::with_capacity(L2_BLOCK_EXTRA_DATA_LEN);
    out.extend_from_slice(&origin.number.to_be_bytes());
    out.extend_from_slice(origin.hash.as_slice());
    out.into()
}

/// Decodes an L1 origin from header `extra_data`.
pub fn decode_l1_origin(extra_data: &[u8]) -> Result<L1Origin> {
    if extra_data.len() != L2_BLOCK_EXTRA_DATA_LEN {
        return Err(PrimitivesError::Decode {
            what: "L2 header extra_data",
            reason: format!(
                "expected {L2_BLOCK_EXTRA_DATA_LEN} bytes, got {}",
                extra_data.len()
            ),
        });
    }
    let number = u64::from_be_bytes(extra_data[..8].try_into().expect("length checked"));
    Ok(BlockNumHash {
        number,
        hash: B256::from_slice(&extra_data[8..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_roundtrip() {
        let receipt = L2Receipt {
            tx_type: DEPOSIT_TX_TYPE,
            success: true,
            cumulative_gas_used: 42_000,
            logs: vec![Log::new_unchecked(
                Address::repeat_byte(1),
                vec![B256::ZERO],
                Bytes::from_static(b"x"),
            )],
        };
        let bytes = receipt.encoded_2718();
        assert_eq!(bytes.len(), receipt.encode_2718_len());
        assert_eq!(L2Receipt::decode_2718(&bytes).unwrap(), receipt);
        let legacy = L2Receipt {
            tx_type: 0,
            ..receipt
        };
        assert_eq!(
            L2Receipt::decode_2718(&legacy.encoded_2718()).unwrap(),
            legacy
        );
    }

    #[test]
    fn l1_origin_roundtrip_and_rejects_bad_length() {
        let origin = BlockNumHash {
            number: 77,
            hash: B256::repeat_byte(9),
        };
        assert_eq!(decode_l1_origin(&encode_l1_origin(origin)).unwrap(), origin);
        assert!(decode_l1_origin(&[0u8; 39]).is_err());
    }

    /// What is wrong with bytes that are not a transaction is said in terms of what was sent.
    #[test]
    fn garbage_transactions_are_explained() {
        let reason = |bytes: &[u8]| {
            L2Transaction::decode_2718_recover(bytes)
                .unwrap_err()
                .to_string()
        };
        assert!(
            reason(&[0xde, 0xad, 0xbe, 0xef])
                .contains("legacy transaction RLP list of 30 bytes but only 3 follow"),
            "{}",
            reason(&[0xde, 0xad, 0xbe, 0xef])
        );
        assert!(reason(&[0x09, 0xc0]).contains("unknown transaction type 0x09"));
        assert!(
            reason(&[0x83, 1, 2, 3]).contains("an RLP string (first byte 0x83), not a transaction")
        );
        assert!(reason(&[]).contains("no bytes"));
        // Whole lists that are no legacy transaction, and a list whose length is cut off.
        for list in [&[0xc0][..], &[0xc1, 0x80], &[0xc3, 1, 2, 3]] {
            let reason = reason(list);
            assert!(
                reason.contains("a legacy transaction is an RLP list of nine fields")
                    && !reason.contains("type flag"),
                "{reason}"
            );
        }
        assert!(reason(&[0xf8]).contains("whose length does not follow its first byte 0xf8"));
        assert!(
            reason(&[0x02, 0xc0]).starts_with("malformed transaction: type 0x02 transaction: ")
        );
    }

    #[test]
    fn garbage_transactions_are_errors_not_panics() {
        for bytes in [
            &[][..],
            &[0x7e],
            &[0x02, 0xc0],
            &[0xff; 10],
            &[0x7e, 0xc0, 0x00],
        ] {
            assert!(L2Transaction::decode_2718_recover(bytes).is_err());
        }
    }
}
