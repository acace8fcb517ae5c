// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title OrderedTrie
/// @notice The root of an Ethereum ordered trie: the Merkle-Patricia trie whose key for the
///         `i`-th value is `rlp(i)`, as a block header's `transactionsRoot` and `receiptsRoot`
///         commit to its transactions and receipts (`alloy_trie::root::ordered_trie_root`). The
///         trie is built in memory from all its values; the one-step verifier's seal uses it for
///         the blocks whose whole lists fit a step.
/// @dev    Keys `rlp(i)` are prefix-free, so no branch holds a value; sorted, they are
///         `rlp(1)..rlp(127)` (one byte each), `rlp(0)` (`0x80`), then `0x81 ‖ i` for
///         `128 <= i < 256` and `0x82 ‖ i` (two bytes) up to `MAX_VALUES - 1`.
///         A node is returned as its reference in its parent: a node of 32 bytes or more by its
///         hash (length 33: `0xa0 ‖ hash`), a shorter one by its bytes, left-aligned in a word.
///         Nodes are encoded in scratch memory past the free memory pointer and hashed at once;
///         only a branch's children references are allocated.
library OrderedTrie {
    /// @notice The root of a trie without values: `keccak256(rlp(""))`.
    bytes32 internal constant EMPTY_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice Values up to which keys are at most three bytes.
    uint256 internal constant MAX_VALUES = 1 << 16;

    /// @notice Length of a reference by hash.
    uint256 private constant HASHED = 33;

    /// @notice Thrown when asked for a trie of more than `MAX_VALUES` values.
    error OrderedTrie_TooManyValues(uint256 count);

    /// @notice The root of the ordered trie of `values`.
    function root(bytes[] memory values) internal pure returns (bytes32 result) {
        uint256 n = values.length;
        if (n == 0) return EMPTY_ROOT;
        if (n > MAX_VALUES) revert OrderedTrie_TooManyValues(n);
        // `order` lists value indices in key order, `keys` their keys (`_key`).
        uint256[] memory keys = new uint256[](n);
        uint256[] memory order = new uint256[](n);
        uint256 j;
        for (uint256 i = 1; i < n && i < 128; ++i) {
            order[j++] = i;
        }
        order[j++] = 0;
        for (uint256 i = 128; i < n; ++i) {
            order[j++] = i;
        }
        for (uint256 p; p < n; ++p) {
            keys[p] = _key(order[p]);
        }
        (bytes32 ref, uint256 length) = _node(keys, order, values, 0, n, 0);
        if (length == HASHED) return ref;
        // The root node is hashed whatever its length.
        assembly ("memory-safe") {
            mstore(0x00, ref)
            result := keccak256(0x00, length)
        }
    }

    /// @dev `rlp(i)` as a nibble path: its bytes left-aligned in bits 8..31, its nibble count
    ///      in the low byte.
    function _key(uint256 i) private pure returns (uint256) {
        if (i == 0) return (0x80 << 24) | 2;
        if (i < 128) return (i << 24) | 2;
        if (i < 256) return (((0x81 << 8) | i) << 16) | 4;
        return (((0x82 << 16) | i) << 8) | 6;
    }

    /// @dev Nibble `d` (from the most significant) of key `key`.
    function _nibble(uint256 key, uint256 d) private pure returns (uint256) {
        unchecked {
            return (key >> (28 - 4 * d)) & 0xf;
        }
    }

    /// @dev The reference of the node holding sorted keys `lo..hi` below nibble `depth`.
    function _node(
        uint256[] memory keys,
        uint256[] memory order,
        bytes[] memory values,
        uint256 lo,
        uint256 hi,
        uint256 depth
    ) private pure returns (bytes32, uint256) {
        uint256 first = keys[lo];
        if (hi - lo == 1) return _leaf(first, depth, values[order[lo]]);
        // Sorted keys share what the first and the last share.
        uint256 last = keys[hi - 1];
        uint256 shortest = first & 0xff < last & 0xff ? first & 0xff : last & 0xff;
        uint256 common = depth;
        while (common < shortest && _nibble(first, common) == _nibble(last, common)) {
            ++common;
        }
        (bytes32 ref, uint256 length) = _branch(keys, order, values, lo, hi, common);
        if (common == depth) return (ref, length);
        return _extension(first, depth, common, ref, length);
    }

    /// @dev A branch node over sorted keys `lo..hi`, split by their nibble `depth` (no key ends
    ///      there: keys are prefix-free).
    function _branch(
        uint256[] memory keys,
        uint256[] memory order,
        bytes[] memory values,
        uint256 lo,
        uint256 hi,
        uint256 depth
    ) private pure returns (bytes32, uint256) {
        bytes32[16] memory refs;
        uint256[16] memory lengths;
        uint256 payload = 1;
        uint256 p = lo;
        for (uint256 c; c < 16; ++c) {
            uint256 q = p;
            while (q < hi && _nibble(keys[q], depth) == c) {
                ++q;
            }
            if (q == p) {
                ++payload;
            } else {
                (refs[c], lengths[c]) = _node(keys, order, values, p, q, depth + 1);
                payload += lengths[c];
            }
            p = q;
        }
        uint256 out;
        uint256 cursor;
        assembly ("memory-safe") {
            out := mload(0x40)
            cursor := out
        }
        cursor = _listHeader(cursor, payload);
        for (uint256 c; c < 16; ++c) {
            cursor = _writeRef(cursor, refs[c], lengths[c]);
        }
        assembly ("memory-safe") {
            mstore8(cursor, 0x80)
            cursor := add(cursor, 1)
        }
        return _finish(out, cursor);
    }

    /// @dev A leaf: the rest of `key` from nibble `depth`, and `value`.
    function _leaf(uint256 key, uint256 depth, bytes memory value) private pure returns (bytes32, uint256) {
        (uint256 path, uint256 pathLength) = _path(key, depth, key & 0xff, 2);
        uint256 valueLength = value.length;
        uint256 first;
        assembly ("memory-safe") {
            first := byte(0, mload(add(value, 0x20)))
        }
        bool single = valueLength == 1 && first < 0x80;
        uint256 payload = _pathSize(pathLength) + (single ? 1 : _headerSize(valueLength) + valueLength);
        uint256 out;
        assembly ("memory-safe") {
            out := mload(0x40)
        }
        uint256 cursor = _writePath(_listHeader(out, payload), path, pathLength);
        if (single) {
            assembly ("memory-safe") {
                mstore8(cursor, first)
                cursor := add(cursor, 1)
            }
        } else {
            cursor = _header(cursor, valueLength, 0x80);
            assembly ("memory-safe") {
                mcopy(cursor, add(value, 0x20), valueLength)
                cursor := add(cursor, valueLength)
            }
        }
        return _finish(out, cursor);
    }

    /// @dev An extension: nibbles `from..to` of `key`, then the branch `ref`.
    function _extension(uint256 key, uint256 from, uint256 to, bytes32 ref, uint256 length)
        private
        pure
        returns (bytes32, uint256)
    {
        (uint256 path, uint256 pathLength) = _path(key, from, to, 0);
        uint256 out;
        assembly ("memory-safe") {
            out := mload(0x40)
        }
        uint256 cursor = _listHeader(out, _pathSize(pathLength) + length);
        cursor = _writeRef(_writePath(cursor, path, pathLength), ref, length);
        return _finish(out, cursor);
    }

    /// @dev Nibbles `from..to` of `key` in hex-prefix encoding with flag `flag` (2 for a leaf,
    ///      0 for an extension), as an integer of `length` bytes (at most 4).
    function _path(uint256 key, uint256 from, uint256 to, uint256 flag)
        private
        pure
        returns (uint256 path, uint256 length)
    {
        unchecked {
            uint256 count = to - from;
            // The nibbles `from..to`, right-aligned (masked by `count` nibbles of ones).
            // forge-lint: disable-next-line(incorrect-shift)
            uint256 rest = (key >> (32 - 4 * to)) & ((1 << (4 * count)) - 1);
            path = count % 2 == 1 ? ((flag + 1) << (4 * count)) | rest : ((flag << 4) << (4 * count)) | rest;
            length = count / 2 + 1;
        }
    }

    /// @dev The encoded size of a path of `length` bytes: a one-byte path is below `0x80`.
    function _pathSize(uint256 length) private pure returns (uint256) {
        return length == 1 ? 1 : length + 1;
    }

    /// @dev Writes a path of `length` bytes at `cursor` as an RLP string; returns the end.
    function _writePath(uint256 cursor, uint256 path, uint256 length) private pure returns (uint256) {
        if (length != 1) {
            assembly ("memory-safe") {
                mstore8(cursor, add(0x80, length))
                cursor := add(cursor, 1)
            }
        }
        assembly ("memory-safe") {
            mstore(cursor, shl(sub(256, mul(8, length)), path))
        }
        return cursor + length;
    }

    /// @dev Writes reference `ref` of length `length` (0: an empty child, `0x80`) at `cursor`.
    function _writeRef(uint256 cursor, bytes32 ref, uint256 length) private pure returns (uint256) {
        assembly ("memory-safe") {
            switch length
            case 0 {
                mstore8(cursor, 0x80)
                cursor := add(cursor, 1)
            }
            case 33 {
                mstore8(cursor, 0xa0)
                mstore(add(cursor, 1), ref)
                cursor := add(cursor, 33)
            }
            default {
                mstore(cursor, ref)
                cursor := add(cursor, length)
            }
        }
        return cursor;
    }

    /// @dev The node encoded at `out..end` as a reference.
    function _finish(uint256 out, uint256 end) private pure returns (bytes32 ref, uint256 length) {
        length = end - out;
        assembly ("memory-safe") {
            switch lt(length, 32)
            case 1 {
                // Only the node's own bytes: later writes may have left more in the word.
                ref := and(mload(out), not(shr(mul(8, length), not(0))))
            }
            default {
                ref := keccak256(out, length)
                length := 33
            }
        }
    }

    /// @dev The size of the RLP length prefix of a payload of `length` bytes.
    function _headerSize(uint256 length) private pure returns (uint256 size) {
        if (length < 56) return 1;
        for (uint256 v = length; v != 0; v >>= 8) {
            ++size;
        }
        return size + 1;
    }

    /// @dev Writes a list's length prefix at `cursor`; returns the end.
    function _listHeader(uint256 cursor, uint256 payload) private pure returns (uint256) {
        return _header(cursor, payload, 0xc0);
    }

    /// @dev Writes an RLP length prefix at `cursor` (`offset` `0x80` for a string, `0xc0` for a
    ///      list); returns the end.
    function _header(uint256 cursor, uint256 length, uint256 offset) private pure returns (uint256) {
        uint256 size = _headerSize(length);
        assembly ("memory-safe") {
            switch eq(size, 1)
            case 1 { mstore8(cursor, add(offset, length)) }
            default {
                let bytesLength := sub(size, 1)
                mstore8(cursor, add(add(offset, 55), bytesLength))
                mstore(add(cursor, 1), shl(sub(256, mul(8, bytesLength)), length))
            }
        }
        return cursor + size;
    }
}
