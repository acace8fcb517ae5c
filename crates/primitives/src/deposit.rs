//! The deposit transaction: an unsigned L2 transaction derived from an L1 bridge log.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// EIP-2718 type byte of deposit transactions (the same byte OP Stack uses).
pub const DEPOSIT_TX_TYPE: u8 = 0x7e;

/// A deposit transaction. It carries no signature: derivation fixes every field from the L1
/// log, so authenticity comes from L1 itself.
///
/// Execution: `mint` wei are credited to `from` first (and stay credited even if the call
/// fails), then `from` calls `to` with `value` and `input`, bounded by `gas_limit`, paying no
/// gas fee.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    RlpEncodable,
    RlpDecodable,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct TxDeposit {
    /// Unique identity of the deposit: see [`deposit_source_hash`].
    pub source_hash: B256,
    /// Sender on L2.
    pub from: Address,
    /// Call target on L2.
    pub to: Address,
    /// Wei minted to `from` before the call.
    pub mint: u128,
    /// Wei sent with the call.
    pub value: U256,
    /// Gas limit of the call.
    pub gas_limit: u64,
    /// Calldata.
    pub input: Bytes,
}

impl TxDeposit {
    /// EIP-2718 encoding: the type byte followed by the RLP list.
    pub fn encoded_2718(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.length());
        out.push(DEPOSIT_TX_TYPE);
        self.encode(&mut out);
        out
    }

    /// Decodes the RLP body (after the type byte).
    pub fn decode_body(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        Self::decode(buf)
    }

    /// Transaction hash: keccak256 of the EIP-2718 encoding.
    pub fn hash(&self) -> B256 {
        keccak256(self.encoded_2718())
    }
}

/// The source hash of a bridge deposit or forced withdrawal: `keccak256(bytes32(0) ++
/// keccak256(bytes32(nonce)))`, where `nonce` is the bridge's deposit nonce. Unique per bridge
/// message, and independent of the L1 block and log position that carried it, so an L1 contract
/// can compute it from the nonce alone.
pub fn deposit_source_hash(nonce: u64) -> B256 {
    let mut outer = [0u8; 64];
    outer[32..].copy_from_slice(keccak256(U256::from(nonce).to_be_bytes::<32>()).as_slice());
    keccak256(outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_roundtrip_and_hash_is_stable() {
        let tx = TxDeposit {
            source_hash: deposit_source_hash(3),
            from: Address::repeat_byte(2),
            to: Address::repeat_byte(3),
            mint: 10,
            value: U256::from(7),
            gas_limit: 21_000,
            input: Bytes::from_static(b"hi"),
        };
        let encoded = tx.encoded_2718();
        assert_eq!(encoded[0], DEPOSIT_TX_TYPE);
        let decoded = TxDeposit::decode_body(&mut &encoded[1..]).unwrap();
        assert_eq!(decoded, tx);
        assert_eq!(decoded.hash(), tx.hash());
        assert_ne!(deposit_source_hash(4), tx.source_hash);
    }
}
