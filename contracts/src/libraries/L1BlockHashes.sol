// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L1BlockHashes
/// @notice L1's own hash of one of its past blocks, as far back as L1 can tell: `blockhash` for
///         the last 256 blocks, the EIP-2935 history contract (8 191 blocks) before that.
library L1BlockHashes {
    /// @notice The EIP-2935 block hash history contract, asked for hashes older than 256 blocks.
    address internal constant HISTORY_STORAGE_ADDRESS = 0x0000F90827F1C53a10cb7A02335B175320002935;

    /// @notice L1's hash of block `blockNumber`, if L1 can tell: `known` is false for the
    ///         current block and later ones, and for blocks older than 256 when the history
    ///         contract has no code, does not answer 32 bytes, or answers zero.
    /// @param blockNumber The L1 block.
    /// @return known      Whether L1 told the hash.
    /// @return hash       The hash (zero when not known).
    function tryCanonicalHash(uint256 blockNumber) internal view returns (bool known, bytes32 hash) {
        if (blockNumber >= block.number) return (false, bytes32(0));
        if (block.number - blockNumber <= 256) return (true, blockhash(blockNumber));
        address history = HISTORY_STORAGE_ADDRESS;
        if (history.code.length == 0) return (false, bytes32(0));
        assembly ("memory-safe") {
            mstore(0x00, blockNumber)
            let ok := staticcall(gas(), history, 0x00, 0x20, 0x00, 0x20)
            hash := mload(0x00)
            known := and(and(ok, eq(returndatasize(), 0x20)), iszero(iszero(hash)))
        }
    }
}
