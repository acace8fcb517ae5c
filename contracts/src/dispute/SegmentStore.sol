// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInbox} from "src/L1/BatchInbox.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";

/// @title SegmentStore
/// @notice Opens the segments of calldata batches on L1, once each, and keeps what a one-step
///         proof needs of them: whether the segment decodes, where its transactions sit in the
///         batch, and the Merkle root of their leaves (`SegmentOpener`). Opening a segment costs
///         up to about 13.4M gas, more than one step may use, so it is a transaction of its
///         own that anyone may send; a step then proves one transaction's leaf against the
///         stored root.
/// @dev    Reads only the `BatchInbox`'s records: the batch data must hash to the record's
///         `dataHash`, which the inbox computed when it accepted the batch, so its envelope is
///         well formed and only the segment's contents are untrusted. Blob batches (whose
///         segments are not in calldata) and forced blocks (which have none) cannot be opened
///         here.
contract SegmentStore {
    /// @notice What opening one segment gave.
    /// @param opened  Whether it was opened (all other fields are zero until then).
    /// @param ok      Whether it decodes: if not, every block with a transaction in it is empty.
    /// @param firstTx The index in the batch of its first transaction.
    /// @param txCount Its transaction count (the batch's segment table's).
    /// @param txRoot  `SegmentOpener.merkleRoot` of its transactions' leaves; zero if not `ok`.
    struct Segment {
        bool opened;
        bool ok;
        uint16 firstTx;
        uint16 txCount;
        bytes32 txRoot;
    }

    /// @notice The inbox whose records fix the batches.
    BatchInbox public immutable inbox;

    /// @notice The L2 chain id the segments' transactions are decoded for.
    uint256 public immutable chainId;

    /// @dev Bytes of the envelope before the headers, of a block entry, of a segment entry.
    uint256 private constant _FIXED = 21;
    uint256 private constant _BLOCK_ENTRY = 7;
    uint256 private constant _SEGMENT_ENTRY = 6;

    mapping(uint256 record => mapping(uint256 segment => Segment)) private _segments;

    /// @notice Emitted when a segment is opened.
    /// @param record  The inbox record of its batch.
    /// @param segment Its index in the batch.
    /// @param ok      Whether it decodes.
    /// @param txRoot  The Merkle root of its transactions' leaves (zero if not `ok`).
    event SegmentOpened(uint256 indexed record, uint256 indexed segment, bool ok, bytes32 txRoot);

    /// @notice Thrown when deployed without an inbox or with a chain id beyond 64 bits.
    error SegmentStore_BadConfig();

    /// @notice Thrown when the record is a blob batch or forced blocks: no segments in calldata.
    /// @param record The record index.
    error SegmentStore_NotCalldataBatch(uint256 record);

    /// @notice Thrown when the data given is not the record's batch.
    /// @param record The record index.
    error SegmentStore_DataMismatch(uint256 record);

    /// @notice Thrown when the batch has no such segment.
    /// @param record  The record index.
    /// @param segment The segment index.
    error SegmentStore_UnknownSegment(uint256 record, uint256 segment);

    /// @param inbox_   The batch inbox.
    /// @param chainId_ The L2 chain id.
    constructor(BatchInbox inbox_, uint256 chainId_) {
        if (address(inbox_) == address(0) || chainId_ == 0 || chainId_ > type(uint64).max) {
            revert SegmentStore_BadConfig();
        }
        inbox = inbox_;
        chainId = chainId_;
    }

    /// @notice Opens segment `segment` of the calldata batch of record `record` and stores the
    ///         result. Idempotent: a segment already opened is returned as stored.
    /// @param record  The inbox record index.
    /// @param data    The batch as posted (`postBatch`'s argument).
    /// @param segment The segment's index in the batch.
    /// @return result What opening gave.
    function open(uint256 record, bytes calldata data, uint256 segment) external returns (Segment memory result) {
        result = _segments[record][segment];
        if (result.opened) return result;
        BatchInbox.Record memory r = inbox.records(record);
        if (r.forced || r.blobCount != 0) revert SegmentStore_NotCalldataBatch(record);
        if (keccak256(data) != r.dataHash) revert SegmentStore_DataMismatch(record);
        (uint256 start, uint256 length, uint256 firstTx, uint256 txCount) = _locate(record, data, segment);
        (bool ok, bytes32[] memory leaves) = SegmentOpener.openLeaves(data[start:start + length], txCount, chainId);
        result.opened = true;
        result.ok = ok;
        // casting to 'uint16' is safe: at most 16 segments of at most 256 transactions each
        // forge-lint: disable-next-line(unsafe-typecast)
        result.firstTx = uint16(firstTx);
        // forge-lint: disable-next-line(unsafe-typecast)
        result.txCount = uint16(txCount);
        if (ok) result.txRoot = SegmentOpener.merkleRoot(leaves);
        _segments[record][segment] = result;
        emit SegmentOpened(record, segment, ok, result.txRoot);
    }

    /// @dev Where segment `segment` of the batch `data` (of record `record`) starts and how long
    ///      it is, with the batch index of its first transaction and its transaction count, read
    ///      from the envelope the inbox accepted (so every length is within `data`).
    function _locate(uint256 record, bytes calldata data, uint256 segment)
        private
        pure
        returns (uint256 start, uint256 length, uint256 firstTx, uint256 txCount)
    {
        uint256 segmentCount = _read(data, 12, 1);
        if (segment >= segmentCount) revert SegmentStore_UnknownSegment(record, segment);
        uint256 table = _FIXED;
        for (uint256 headers = _read(data, 11, 1); headers != 0; --headers) {
            table += 2 + _read(data, table, 2);
        }
        table += _read(data, 9, 2) * _BLOCK_ENTRY;
        start = table + segmentCount * _SEGMENT_ENTRY;
        for (uint256 j; j < segment; ++j) {
            uint256 entry = _read(data, table + j * _SEGMENT_ENTRY, _SEGMENT_ENTRY);
            start += entry >> 16;
            firstTx += entry & 0xffff;
        }
        uint256 own = _read(data, table + segment * _SEGMENT_ENTRY, _SEGMENT_ENTRY);
        (length, txCount) = (own >> 16, own & 0xffff);
    }

    /// @notice What opening segment `segment` of record `record` gave (all zero if not opened).
    /// @param record  The inbox record index.
    /// @param segment The segment's index in the batch.
    /// @return The stored result.
    function segments(uint256 record, uint256 segment) external view returns (Segment memory) {
        return _segments[record][segment];
    }

    /// @dev The big-endian integer of `size` bytes at `offset`.
    function _read(bytes calldata data, uint256 offset, uint256 size) private pure returns (uint256 value) {
        for (uint256 i; i < size; ++i) {
            value = (value << 8) | uint8(data[offset + i]);
        }
    }
}
