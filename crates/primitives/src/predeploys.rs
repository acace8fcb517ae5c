//! Addresses and limits shared with the Solidity contracts (`contracts/src/libraries`).
//! A test in `tests/` checks these against the deployed contracts.

use alloy_primitives::{Address, address};

/// The L2 bridge predeploy: mints bridged ERC-20s for deposits (and burns them for withdrawals).
pub const L2_BRIDGE: Address = address!("0x4200000000000000000000000000000000000010");

/// Where tools look for the deterministic CREATE2 deployer (`forge script` and `forge create`
/// with a salt, hardhat-deploy's deterministic deployments): the address it has on every chain.
/// Preinstalled in the L2 genesis with [`CREATE2_DEPLOYER_CODE`].
pub const CREATE2_DEPLOYER: Address = address!("0x4e59b44847b379578588920cA78FbF26c0B4956C");

/// The CREATE2 deployer's runtime code: the 69 bytes every chain that has the deployer holds at
/// [`CREATE2_DEPLOYER`]. Tools compare it byte for byte (`forge script` refuses "invalid
/// CREATE2 deployer bytecode"), so it cannot be rewritten. Calldata is a 32-byte salt followed
/// by init code; it creates the contract with CREATE2, forwarding the call's value, and returns
/// its 20-byte address, or reverts with no data if the creation failed:
///
/// ```text
/// 00 PUSH32 -32; CALLDATASIZE; ADD                 size = calldatasize - 32
/// 23 PUSH1 0; DUP2; PUSH1 32; DUP3; CALLDATACOPY    memory[0..size] = calldata[32..]
/// 2a DUP1; CALLDATALOAD                            salt (calldata[0..32])
/// 2c DUP3; DUP3; CALLVALUE; CREATE2                create2(value, 0, size, salt)
/// 30 DUP1; ISZERO; ISZERO; PUSH1 0x39; JUMPI       created: return it
/// 36 DUP2; DUP3; REVERT                            failed: revert(0, 0)
/// 39 JUMPDEST; DUP1; DUP3; MSTORE; POP; POP; POP; PUSH1 20; PUSH1 12; RETURN
/// ```
pub const CREATE2_DEPLOYER_CODE: [u8; 69] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xe0, 0x36, 0x01, 0x60, 0x00, 0x81, 0x60, 0x20, 0x82, 0x37, 0x80, 0x35, 0x82, 0x82, 0x34, 0xf5,
    0x80, 0x15, 0x15, 0x60, 0x39, 0x57, 0x81, 0x82, 0xfd, 0x5b, 0x80, 0x82, 0x52, 0x50, 0x50, 0x50,
    0x60, 0x14, 0x60, 0x0c, 0xf3,
];

/// Where tools look for Multicall3 (viem's `multicall`, wagmi's batched reads): the address it
/// has on every chain. Preinstalled in the L2 genesis (`contracts/src/L2/Multicall3.sol`).
pub const MULTICALL3: Address = address!("0xcA11bde05977b3631167028862bE2a173976CA11");

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
