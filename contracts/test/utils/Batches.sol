// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInbox} from "src/L1/BatchInbox.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {L1Chain} from "test/utils/L1Chain.sol";

/// @notice Encodes batch envelopes (format v2) for tests, calldata and blob batches, and
///         computes what the inbox records for them with an implementation of its own (segment
///         merkle root, block table hash, blob count and versioned hashes root).
library Batches {
    /// @notice One block entry.
    struct Block {
        uint8 originDelta;
        uint32 timestampDelta;
        uint16 txCount;
    }

    /// @notice One segment: its bytes and transaction count (its length is `data.length`).
    struct Segment {
        bytes data;
        uint16 txCount;
    }

    /// @notice A batch continuing `inbox`'s chain: `headerCount` of `chain`'s headers after the
    ///         recorded ones, the given blocks and segments, and the deposit count `bridge`
    ///         requires.
    function continuing(
        BatchInbox inbox,
        IDepositChain bridge,
        L1Chain chain,
        uint256 headerCount,
        Block[] memory blocks,
        Segment[] memory segments
    ) internal returns (Batch memory batch) {
        batch.firstBlock = inbox.nextBlock();
        uint256 from = inbox.lastRecordedOrigin() + 1;
        batch.headers = headerCount == 0 ? new bytes[](0) : chain.headers(from, from + headerCount - 1);
        batch.blocks = blocks;
        batch.segments = segments;
        uint256 lastOrigin = inbox.lastOrigin();
        // A batch continuing an open block repeats its entry, which the inbox does not step again.
        uint256 records = inbox.recordCount();
        uint256 skip = records != 0 && inbox.records(records - 1).lastBlockOpen ? 1 : 0;
        for (uint256 i = skip; i < blocks.length; ++i) {
            lastOrigin += blocks[i].originDelta;
        }
        batch.depositCount = uint64(bridge.depositCountAt(lastOrigin));
    }

    /// @notice A batch before encoding; the counts are those of the arrays.
    struct Batch {
        uint64 firstBlock;
        uint64 depositCount;
        bytes[] headers;
        Block[] blocks;
        Segment[] segments;
        bool open;
    }

    /// @notice Offsets of the fixed envelope fields.
    uint256 internal constant FIRST_BLOCK_OFFSET = 1;
    uint256 internal constant BLOCK_COUNT_OFFSET = 9;
    uint256 internal constant HEADER_COUNT_OFFSET = 11;
    uint256 internal constant SEGMENT_COUNT_OFFSET = 12;
    uint256 internal constant DEPOSIT_COUNT_OFFSET = 13;
    uint256 internal constant FIXED_SIZE = 21;

    /// @notice Data bytes per blob in the blob data stream (31 of each of 4096 field elements).
    uint256 internal constant BLOB_DATA_SIZE = 4096 * 31;

    /// @notice The batch `postBatch` takes: the envelope, then the segments.
    function encode(Batch memory batch) internal pure returns (bytes memory data) {
        data = envelopeOnly(batch);
        for (uint256 j; j < batch.segments.length; ++j) {
            data = bytes.concat(data, batch.segments[j].data);
        }
    }

    /// @notice The blob batch `postBlobBatch` takes: the envelope up to and including the segment
    ///         table (the segments travel in blobs).
    function envelopeOnly(Batch memory batch) internal pure returns (bytes memory data) {
        data = abi.encodePacked(
            uint8(2),
            batch.firstBlock,
            uint16(batch.blocks.length),
            uint8(batch.headers.length),
            uint8(batch.segments.length) | (batch.open ? 0x80 : 0),
            batch.depositCount
        );
        for (uint256 k; k < batch.headers.length; ++k) {
            data = bytes.concat(data, abi.encodePacked(uint16(batch.headers[k].length)), batch.headers[k]);
        }
        data = bytes.concat(data, blockTable(batch.blocks));
        for (uint256 j; j < batch.segments.length; ++j) {
            data =
                bytes.concat(data, abi.encodePacked(uint32(batch.segments[j].data.length), batch.segments[j].txCount));
        }
    }

    /// @notice The sum of the segment lengths (the bytes a blob batch's blobs carry).
    function segmentBytes(Segment[] memory segments) internal pure returns (uint256 total) {
        for (uint256 j; j < segments.length; ++j) {
            total += segments[j].data.length;
        }
    }

    /// @notice The blobs a blob batch with `segmentBytes_` bytes of segments carries:
    ///         ceil(segmentBytes_ / BLOB_DATA_SIZE), written as a loop (the inbox divides).
    function blobCount(uint256 segmentBytes_) internal pure returns (uint256 count) {
        for (uint256 filled; filled < segmentBytes_; filled += BLOB_DATA_SIZE) {
            ++count;
        }
    }

    /// @notice `count` distinct versioned hashes (version byte 0x01, as KZG commitments give).
    function versionedHashes(uint256 count, uint256 seed) internal pure returns (bytes32[] memory hashes) {
        hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            hashes[i] = bytes32(uint256(keccak256(abi.encode(seed, i))) >> 8 | uint256(1) << 248);
        }
    }

    /// @notice What a blob batch's record holds as `segmentRoot`: keccak256 of the versioned
    ///         hashes, one after the other.
    function versionedHashesRoot(bytes32[] memory hashes) internal pure returns (bytes32 root) {
        bytes memory packed;
        for (uint256 i; i < hashes.length; ++i) {
            packed = bytes.concat(packed, hashes[i]);
        }
        return keccak256(packed);
    }

    /// @notice Segments of the given lengths, each holding one transaction. Their bytes are zero:
    ///         in a blob batch the inbox only reads the lengths.
    function blankSegments(uint256[] memory lengths) internal pure returns (Segment[] memory segments) {
        segments = new Segment[](lengths.length);
        for (uint256 j; j < lengths.length; ++j) {
            segments[j] = Segment(new bytes(lengths[j]), 1);
        }
    }

    /// @notice The block table bytes (7 per block).
    function blockTable(Block[] memory blocks) internal pure returns (bytes memory table) {
        table = new bytes(7 * blocks.length);
        for (uint256 i; i < blocks.length; ++i) {
            uint256 entry =
                uint256(blocks[i].originDelta) << 48 | uint256(blocks[i].timestampDelta) << 16 | blocks[i].txCount;
            setField(table, 7 * i, 7, entry);
        }
    }

    /// @notice The offset of the block table in `encode(batch)`.
    function blockTableOffset(Batch memory batch) internal pure returns (uint256 offset) {
        offset = FIXED_SIZE;
        for (uint256 k; k < batch.headers.length; ++k) {
            offset += 2 + batch.headers[k].length;
        }
    }

    /// @notice merkleRoot(keccak256(segment) for each segment), computed recursively.
    function segmentRoot(Segment[] memory segments) internal pure returns (bytes32) {
        bytes32[] memory leaves = new bytes32[](segments.length);
        for (uint256 j; j < segments.length; ++j) {
            leaves[j] = keccak256(segments[j].data);
        }
        return merkleRoot(leaves);
    }

    /// @notice The spec's merkleRoot: 0 leaves → 0; 1 → the leaf; else pad with zero leaves to
    ///         a power of two and hash pairs. Written recursively (the inbox iterates).
    function merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        uint256 width = 1;
        while (width < leaves.length) width *= 2;
        return _subtree(leaves, 0, width);
    }

    function _subtree(bytes32[] memory leaves, uint256 start, uint256 width) private pure returns (bytes32) {
        if (width == 1) return start < leaves.length ? leaves[start] : bytes32(0);
        return
            keccak256(
                abi.encodePacked(_subtree(leaves, start, width / 2), _subtree(leaves, start + width / 2, width / 2))
            );
    }

    /// @notice `count` blocks, all with the same entry.
    function uniformBlocks(uint256 count, uint8 originDelta, uint32 timestampDelta, uint16 txCount)
        internal
        pure
        returns (Block[] memory blocks)
    {
        blocks = new Block[](count);
        for (uint256 i; i < count; ++i) {
            blocks[i] = Block(originDelta, timestampDelta, txCount);
        }
    }

    /// @notice Deterministic pseudo-random bytes (compressed segments look random).
    function noise(uint256 length, uint256 seed) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            // `new bytes` allocated whole words, so the last store stays inside `out`.
            assembly ("memory-safe") {
                mstore(add(add(out, 0x20), i), word)
            }
        }
    }

    /// @notice `data` with the big-endian `size`-byte field at `offset` set to `value`.
    function setField(bytes memory data, uint256 offset, uint256 size, uint256 value)
        internal
        pure
        returns (bytes memory)
    {
        for (uint256 i; i < size; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            data[offset + size - 1 - i] = bytes1(uint8(value >> (8 * i)));
        }
        return data;
    }

    /// @notice The first `length` bytes of `data`.
    function truncate(bytes memory data, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = data[i];
        }
    }
}
