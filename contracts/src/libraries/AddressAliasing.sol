// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title AddressAliasing
/// @notice The L2 identity of an L1 contract, as OP Stack's `AddressAliasHelper` defines it:
///         `alias(a) = a + 0x1111000000000000000000000000000000001111` modulo 2^160.
///         A contract at address `a` on L1 does not control the account `a` on L2 (nobody may
///         have deployed the same code there, or someone else did), so everything it sends to
///         L2 comes from `alias(a)` instead. An EOA keeps its address: its key signs on both
///         layers. `L1Bridge` aliases its caller when `msg.sender != tx.origin` (OP's rule:
///         a contract, an account calling from a constructor, or an EIP-7702 account driven by
///         another transaction sender).
library AddressAliasing {
    /// @notice The offset added to an L1 contract's address to form its L2 identity.
    uint160 internal constant OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice The L2 identity of the L1 contract `l1Address`.
    /// @param l1Address The L1 contract's address.
    /// @return l2Address `l1Address + OFFSET`, wrapping at 2^160.
    function applyL1ToL2Alias(address l1Address) internal pure returns (address l2Address) {
        unchecked {
            l2Address = address(uint160(l1Address) + OFFSET);
        }
    }

    /// @notice The L1 contract whose L2 identity is `l2Address`.
    /// @param l2Address The aliased L2 address.
    /// @return l1Address `l2Address - OFFSET`, wrapping at 2^160.
    function undoL1ToL2Alias(address l2Address) internal pure returns (address l1Address) {
        unchecked {
            l1Address = address(uint160(l2Address) - OFFSET);
        }
    }
}
