// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title L1Header
/// @notice Reads the three fields the BatchInbox needs from an RLP-encoded L1 block header:
///         field 0 `parentHash`, field 8 `number` and field 11 `timestamp`.
/// @dev    A header is an RLP list; only its first twelve items are walked (every fork's header
///         starts with the same twelve fields). The reader is strict about bounds and shape —
///         the outer list must span the input exactly, every walked item must lie inside the
///         list, `parentHash` must be a 32-byte string and `number`/`timestamp` strings of at
///         most 8 bytes — and reverts with an `L1Header_*` error otherwise; it never reads past
///         the input. It does not insist on minimal (canonical) encodings: the caller binds the
///         exact bytes to a block hash, and only the canonical encoding of a real header hashes
///         to that block's hash.
library L1Header {
    /// @notice Thrown when the header is empty or does not start with an RLP list prefix.
    error L1Header_NotAList();

    /// @notice Thrown when the outer list's encoded length differs from the header's length
    ///         (truncated, or bytes after the list).
    error L1Header_LengthMismatch();

    /// @notice Thrown when item `field` of the list (or its length prefix) is missing or runs
    ///         past the end of the list.
    /// @param field The item's index in the header list.
    error L1Header_ItemOutOfBounds(uint256 field);

    /// @notice Thrown when a field has the wrong shape: `parentHash` (0) not a 32-byte string,
    ///         `number` (8) or `timestamp` (11) a list or longer than 8 bytes.
    /// @param field The field's index in the header list.
    error L1Header_BadField(uint256 field);

    /// @dev Indices of the fields read.
    uint256 private constant _PARENT_HASH = 0;
    uint256 private constant _NUMBER = 8;
    uint256 private constant _TIMESTAMP = 11;

    /// @notice The parent hash, number and timestamp of an RLP-encoded header.
    /// @param header The RLP encoding of the header (a list of at least 12 items).
    /// @return parentHash The parent block's hash (field 0).
    /// @return number     The block number (field 8).
    /// @return timestamp  The block timestamp (field 11).
    function parse(bytes calldata header) internal pure returns (bytes32 parentHash, uint64 number, uint64 timestamp) {
        if (header.length == 0 || uint8(header[0]) < 0xc0) revert L1Header_NotAList();
        uint256 end = header.length;
        (uint256 offset, uint256 length,, bool fits) = _item(header, 0, end);
        if (!fits || offset + length != end) revert L1Header_LengthMismatch();
        for (uint256 field; field <= _TIMESTAMP; ++field) {
            if (offset >= end) revert L1Header_ItemOutOfBounds(field);
            (uint256 dataOffset, uint256 dataLength, bool isList, bool itemFits) = _item(header, offset, end);
            if (!itemFits) revert L1Header_ItemOutOfBounds(field);
            if (field == _PARENT_HASH) {
                if (isList || dataLength != 32) revert L1Header_BadField(field);
                parentHash = bytes32(header[dataOffset:dataOffset + 32]);
            } else if (field == _NUMBER || field == _TIMESTAMP) {
                if (isList || dataLength > 8) revert L1Header_BadField(field);
                // casting to 'uint64' is safe because the value has at most 8 bytes
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64 value = uint64(_bigEndian(header, dataOffset, dataLength));
                if (field == _NUMBER) number = value;
                else timestamp = value;
            }
            offset = dataOffset + dataLength;
        }
    }

    /// @dev Decodes the RLP prefix of the item at `offset` (< `end`): where its payload starts,
    ///      how long it is, whether it is a list, and whether prefix and payload fit before `end`.
    function _item(bytes calldata header, uint256 offset, uint256 end)
        private
        pure
        returns (uint256 dataOffset, uint256 dataLength, bool isList, bool ok)
    {
        uint256 prefix = uint8(header[offset]);
        if (prefix < 0x80) {
            // A single byte, its own payload.
            return (offset, 1, false, true);
        }
        uint256 lengthOfLength;
        if (prefix <= 0xb7) {
            dataLength = prefix - 0x80;
        } else if (prefix <= 0xbf) {
            lengthOfLength = prefix - 0xb7;
        } else if (prefix <= 0xf7) {
            isList = true;
            dataLength = prefix - 0xc0;
        } else {
            isList = true;
            lengthOfLength = prefix - 0xf7;
        }
        dataOffset = offset + 1 + lengthOfLength;
        if (dataOffset > end) return (0, 0, isList, false);
        if (lengthOfLength != 0) dataLength = _bigEndian(header, offset + 1, lengthOfLength);
        // `dataOffset` and `dataLength` are below 2^64 each (`lengthOfLength` <= 8), so the sum
        // cannot overflow.
        ok = dataOffset + dataLength <= end;
    }

    /// @dev The big-endian integer in `header[offset:offset + length]`, `length` <= 32 and the
    ///      range inside `header` (checked by the callers).
    function _bigEndian(bytes calldata header, uint256 offset, uint256 length) private pure returns (uint256 value) {
        if (length == 0) return 0;
        value = uint256(bytes32(header[offset:offset + length])) >> (256 - 8 * length);
    }
}
