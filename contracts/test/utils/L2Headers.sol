// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";

/// @title L2Headers
/// @notice L2 headers and block contexts for one-step tests.
library L2Headers {
    /// @notice An L2 header's RLP: twelve fields, then `extraData` naming L1 origin `origin`
    ///         (its number, 8 bytes, and a hash), then a base fee. The one-step reads only the
    ///         origin; the rest is plausible filler.
    function header(uint256 origin) internal pure returns (bytes memory) {
        bytes memory fields = abi.encodePacked(
            hex"a0",
            keccak256("parent of parent"),
            hex"a0",
            keccak256("ommers"),
            hex"94",
            address(0),
            hex"a0",
            keccak256("state"),
            hex"a0",
            keccak256("txs"),
            hex"a0",
            keccak256("receipts")
        );
        // bloom, difficulty 0, number 76, gas limit 30M, gas used 21,000, a timestamp
        fields = abi.encodePacked(
            fields,
            hex"b90100",
            new bytes(256),
            hex"80",
            hex"4c",
            hex"8401c9c380",
            hex"825208",
            hex"84",
            uint32(1_700_000_000)
        );
        // extraData (the origin's number and hash), then the base fee
        fields = abi.encodePacked(fields, hex"a8", uint64(origin), originHash(origin), hex"07");
        return abi.encodePacked(hex"f9", uint16(fields.length), fields);
    }

    /// @notice The hash these tests give L1 block `origin`.
    function originHash(uint256 origin) internal pure returns (bytes32) {
        return keccak256(abi.encode("origin", origin));
    }

    /// @notice The context of L2 block `number` with L1 origin `origin`, whose parent header is
    ///         `header(parentOrigin)`.
    function context(uint256 number, uint256 origin, uint256 parentOrigin)
        internal
        pure
        returns (OneStepVerifier.BlockContext memory)
    {
        return OneStepVerifier.BlockContext({
            parentHash: keccak256(header(parentOrigin)),
            number: number,
            timestamp: 1_700_000_002,
            l1OriginNumber: origin,
            l1OriginHash: originHash(origin),
            baseFee: 7,
            gasLimit: 30_000_000,
            beneficiary: address(0),
            prevrandao: keccak256("randao")
        });
    }
}
