// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {L1Headers} from "test/utils/L1Headers.sol";

/// @notice Complete L2 headers as the node seals them (`rollup_execution::execute_block`, the
///         genesis through `RollupConfig::genesis_header`): the sixteen RLP fields of a London
///         header and nothing after the base fee (no withdrawals root, no blob fields), the
///         L1 origin in `extraData` (its number, 8 bytes big endian, then its hash). Unlike
///         `L2Headers.header`, every field is where a real header has it, so the one-step's
///         preamble can read the timestamp (field 11), gas limit (9), gas used (10) and base
///         fee (15).
library L2BlockHeaders {
    /// @notice The fields the node sets; the rest are fixed (zero beneficiary, empty ommers,
    ///         difficulty 0, nonce 0, an empty bloom).
    struct Header {
        bytes32 parentHash;
        bytes32 stateRoot;
        bytes32 transactionsRoot;
        bytes32 receiptsRoot;
        uint256 number;
        uint256 gasLimit;
        uint256 gasUsed;
        uint256 timestamp;
        uint64 l1OriginNumber;
        bytes32 l1OriginHash;
        bytes32 mixHash;
        uint256 baseFee;
    }

    /// @notice The RLP of `h`: keccak256 of it is the block's hash.
    function encode(Header memory h) internal pure returns (bytes memory) {
        // Concatenated a few items at a time (a long `bytes.concat` runs out of stack).
        bytes memory payload = bytes.concat(
            L1Headers.encodeBytes(abi.encodePacked(h.parentHash)),
            L1Headers.encodeBytes(abi.encodePacked(L1Headers.EMPTY_OMMERS_HASH)),
            L1Headers.encodeBytes(abi.encodePacked(address(0))),
            L1Headers.encodeBytes(abi.encodePacked(h.stateRoot))
        );
        payload = bytes.concat(
            payload,
            L1Headers.encodeBytes(abi.encodePacked(h.transactionsRoot)),
            L1Headers.encodeBytes(abi.encodePacked(h.receiptsRoot)),
            L1Headers.encodeBytes(new bytes(256))
        );
        payload = bytes.concat(
            payload,
            L1Headers.encodeUint(0),
            L1Headers.encodeUint(h.number),
            L1Headers.encodeUint(h.gasLimit),
            L1Headers.encodeUint(h.gasUsed)
        );
        payload = bytes.concat(
            payload,
            L1Headers.encodeUint(h.timestamp),
            L1Headers.encodeBytes(abi.encodePacked(h.l1OriginNumber, h.l1OriginHash)),
            L1Headers.encodeBytes(abi.encodePacked(h.mixHash)),
            L1Headers.encodeBytes(abi.encodePacked(bytes8(0))),
            L1Headers.encodeUint(h.baseFee)
        );
        return L1Headers.encodeList(payload);
    }

    /// @notice The header of a block at `number` with the given origin, timestamp and fee
    ///         fields; the roots are made up from the number.
    function make(
        bytes32 parentHash,
        uint256 number,
        uint256 timestamp,
        uint64 l1OriginNumber,
        bytes32 l1OriginHash,
        bytes32 mixHash,
        uint256 gasLimit,
        uint256 gasUsed,
        uint256 baseFee
    ) internal pure returns (Header memory h) {
        h.parentHash = parentHash;
        h.stateRoot = keccak256(abi.encode("l2 state", number));
        h.transactionsRoot = keccak256(abi.encode("l2 transactions", number));
        h.receiptsRoot = keccak256(abi.encode("l2 receipts", number));
        h.number = number;
        h.gasLimit = gasLimit;
        h.gasUsed = gasUsed;
        h.timestamp = timestamp;
        h.l1OriginNumber = l1OriginNumber;
        h.l1OriginHash = l1OriginHash;
        h.mixHash = mixHash;
        h.baseFee = baseFee;
    }
}
