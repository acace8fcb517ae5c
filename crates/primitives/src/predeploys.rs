//! Addresses and limits shared with the Solidity contracts (`contracts/src/libraries`).
//! A test in `tests/` checks these against the deployed contracts.

use alloy_primitives::{Address, address};

/// The L2 bridge predeploy: mints bridged ERC-20s for deposits (and burns them for withdrawals).
pub const L2_BRIDGE: Address = address!("0x4200000000000000000000000000000000000010");

/// The `L2Bridge` storage slot holding the L1 bridge's address, written into the L2 genesis:
/// withdrawal hashes commit to it (with the L2 chain id and the L2 bridge), so a withdrawal
/// proves on exactly one L1 bridge.
pub const L2_BRIDGE_L1_BRIDGE_SLOT: u64 = 2;

/// The system sender of ERC-20 deposit transactions on L2. Nobody holds its key, so only
/// derivation can produce transactions from it; the L2 bridge trusts exactly this sender.
pub const DEPOSITOR: Address = address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Smallest gas limit of an ETH deposit (a plain value transfer).
pub const MIN_ETH_DEPOSIT_GAS: u64 = 21_000;

/// Smallest gas limit of an ERC-20 deposit: enough for `L2Bridge.finalizeDeposit` to deploy the
/// bridged token with the longest metadata on first use while keeping back the reserve that
/// records a refund if the credit fails (`DepositLimits.sol`).
pub const MIN_ERC20_DEPOSIT_GAS: u64 = 1_300_000;

/// Gas limit of the L2 transaction a forced withdrawal (`L1Bridge.withdraw`) becomes: enough
/// for `L2Bridge.withdrawTo` burning a bridged token, with headroom.
pub const FORCED_WITHDRAWAL_GAS: u64 = 200_000;

/// Largest `tokenMetadata` a deposit log may carry: `abi.encode(name, symbol, decimals)` with
/// both strings cut to 64 bytes by `L1Bridge` takes 288 bytes.
pub const MAX_TOKEN_METADATA_BYTES: usize = 288;

/// Added to an L1 contract's address to give its L2 identity (`from + 0x1111…1111`, wrapping):
/// an L2 account whose address equals an L1 contract's is not controlled by that contract.
pub const L1_TO_L2_ALIAS_OFFSET: Address = address!("0x1111000000000000000000000000000000001111");

/// The L2 identity of L1 contract `address`: `address + 0x1111000000000000000000000000000000001111`
/// modulo 2^160, as `AddressAliasing.applyL1ToL2Alias` and OP Stack compute it.
pub fn apply_l1_to_l2_alias(address: Address) -> Address {
    let sum = alloy_primitives::U160::from_be_bytes(address.0.0).wrapping_add(
        alloy_primitives::U160::from_be_bytes(L1_TO_L2_ALIAS_OFFSET.0.0),
    );
    Address::from(sum.to_be_bytes::<20>())
}

/// Largest gas limit of one deposit.
pub const MAX_DEPOSIT_GAS: u64 = 5_000_000;

/// Largest sum of deposit gas limits from one L1 block.
pub const DEPOSIT_GAS_PER_L1_BLOCK: u64 = 30_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliasing_adds_the_offset_modulo_2_160() {
        assert_eq!(apply_l1_to_l2_alias(Address::ZERO), L1_TO_L2_ALIAS_OFFSET);
        // OP Stack's vector: the L1 cross-domain messenger and its alias on L2.
        assert_eq!(
            apply_l1_to_l2_alias(address!("0x25ace71c97B33Cc4729CF772ae268934F7ab5fA1")),
            address!("0x36BDE71C97B33Cc4729cf772aE268934f7AB70B2")
        );
        assert_eq!(
            apply_l1_to_l2_alias(Address::repeat_byte(0xff)),
            address!("0x1111000000000000000000000000000000001110")
        );
    }
}
