//! Keys and value hashes of the two kinds of leaves: accounts and storage slots.

use alloy_primitives::{Address, B256, U256, keccak256};

/// Domain byte of account keys.
const ACCOUNT_DOMAIN: u8 = 0x00;
/// Domain byte of storage keys.
const STORAGE_DOMAIN: u8 = 0x01;

/// Trie key of an account: `keccak256(0x00 ‖ address)`.
pub fn account_key(address: Address) -> B256 {
    let mut preimage = [0u8; 21];
    preimage[0] = ACCOUNT_DOMAIN;
    preimage[1..].copy_from_slice(address.as_slice());
    keccak256(preimage)
}

/// Trie key of a storage slot: `keccak256(0x01 ‖ address ‖ slot)`, the slot as a 32-byte
/// big-endian word.
pub fn storage_key(address: Address, slot: U256) -> B256 {
    let mut preimage = [0u8; 53];
    preimage[0] = STORAGE_DOMAIN;
    preimage[1..21].copy_from_slice(address.as_slice());
    preimage[21..].copy_from_slice(&slot.to_be_bytes::<32>());
    keccak256(preimage)
}

/// Value hash of an account leaf: `keccak256(abi.encode(uint256(nonce), balance, codeHash))`.
///
/// Never zero (a keccak output), so every account written to the trie is a leaf; whether an
/// empty account is written at all is the execution layer's decision.
pub fn account_value_hash(nonce: u64, balance: U256, code_hash: B256) -> B256 {
    let mut preimage = [0u8; 96];
    preimage[24..32].copy_from_slice(&nonce.to_be_bytes());
    preimage[32..64].copy_from_slice(&balance.to_be_bytes::<32>());
    preimage[64..].copy_from_slice(code_hash.as_slice());
    keccak256(preimage)
}

/// Value hash of a storage leaf: the slot value itself as a 32-byte big-endian word. Zero means
/// the slot is absent from the trie.
pub fn storage_value_hash(value: U256) -> B256 {
    B256::from(value)
}
