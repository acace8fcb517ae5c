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

    /// @notice Thrown when an append proof does not open the trie's root down to where the new
    ///         key leaves it, or holds a node the tries `append` serves never have.
    error OrderedTrie_BadProof();

    /// @notice Thrown when appending a value shorter than 32 bytes (`append` keeps every node
    ///         referenced by hash).
    error OrderedTrie_ShortValue();

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

    /// @notice The root after appending `value` as value `index` (key `rlp(index)`) to the trie
    ///         of root `trieRoot`, which holds values `0..index`: the root the trie of all
    ///         `index + 1` values has. `proof` lists the nodes on the new key's path, from the
    ///         root node down to where the key leaves the trie (a branch without the key's
    ///         next nibble, a leaf, or an extension the key does not follow); it is empty for
    ///         the empty trie.
    /// @dev    Builds a trace's transactions and receipts tries one value at a time, so a
    ///         block's seal needs no list of its values. Every value is 32 bytes or more (an
    ///         EIP-2718 transaction or receipt), so every node of these tries is at least 32
    ///         bytes and referenced by its hash: a proof with an inline node, a branch holding a
    ///         value or a key already present reverts `OrderedTrie_BadProof`.
    function append(bytes32 trieRoot, uint256 index, bytes memory value, bytes[] memory proof)
        internal
        pure
        returns (bytes32)
    {
        if (index >= MAX_VALUES) revert OrderedTrie_TooManyValues(index + 1);
        if (value.length < 32) revert OrderedTrie_ShortValue();
        uint256 key = _key(index);
        uint256 n = proof.length;
        if (trieRoot == EMPTY_ROOT) {
            if (n != 0) revert OrderedTrie_BadProof();
            (bytes32 leaf,) = _leaf(key, 0, value);
            return leaf;
        }
        if (n == 0) revert OrderedTrie_BadProof();
        uint256[] memory depths = new uint256[](n);
        bytes32 ref = _insert(trieRoot, key, value, proof, depths);
        // Up: each node on the path takes its child's new reference.
        for (uint256 i = n - 1; i > 0;) {
            --i;
            bytes memory node = proof[i];
            uint256 depth = depths[i];
            if (_isBranch(node)) {
                (bytes32[16] memory refs, uint256 mask) = _branchRefs(node);
                refs[_nibble(key, depth)] = ref;
                ref = _branchOf(refs, mask);
            } else {
                // An extension the key followed: its path is the key's nibbles down to the
                // child.
                (ref,) = _extension(key, depth, depths[i + 1], ref, HASHED);
            }
        }
        return ref;
    }

    /// @dev Walks `proof` down from `trieRoot` along `key` (recording each node's depth in
    ///      `depths`): each node must hash to its parent's reference, and the last one must
    ///      be where the key leaves the trie. Returns that node's reference with the key's
    ///      leaf put in.
    function _insert(bytes32 trieRoot, uint256 key, bytes memory value, bytes[] memory proof, uint256[] memory depths)
        private
        pure
        returns (bytes32)
    {
        uint256 n = proof.length;
        bytes32 expected = trieRoot;
        uint256 depth;
        for (uint256 i;; ++i) {
            if (i == n) revert OrderedTrie_BadProof();
            bytes memory node = proof[i];
            if (keccak256(node) != expected || depth >= key & 0xff) revert OrderedTrie_BadProof();
            depths[i] = depth;
            bool inserted;
            uint256 next;
            (inserted, expected, next) =
                _isBranch(node) ? _atBranch(node, key, depth, value) : _atPair(node, key, depth, value);
            if (inserted) {
                if (i != n - 1) revert OrderedTrie_BadProof();
                return expected;
            }
            depth = next;
        }
    }

    /// @dev At branch `node` (nibble `depth` of `key`): the child to descend into, or the
    ///      branch's new reference with the key's leaf in its empty slot.
    function _atBranch(bytes memory node, uint256 key, uint256 depth, bytes memory value)
        private
        pure
        returns (bool inserted, bytes32 ref, uint256 next)
    {
        (bytes32[16] memory refs, uint256 mask) = _branchRefs(node);
        uint256 slot = _nibble(key, depth);
        if (mask & (uint256(1) << slot) != 0) return (false, refs[slot], depth + 1);
        (refs[slot],) = _leaf(key, depth + 1, value);
        return (true, _branchOf(refs, mask | (uint256(1) << slot)), 0);
    }

    /// @dev At leaf or extension `node` (nibble `depth` of `key`): the child of an extension
    ///      the key follows, or the reference of what replaces the node once the key's leaf
    ///      is in: a branch where the key leaves the node's path, holding the node's rest and
    ///      the new leaf, under an extension over the path they share.
    function _atPair(bytes memory node, uint256 key, uint256 depth, bytes memory value)
        private
        pure
        returns (bool inserted, bytes32 ref, uint256 next)
    {
        (bool isLeaf, uint256 nodeKey, uint256 end, uint256 second, uint256 secondLength) = _pair(node, key, depth);
        uint256 common = depth;
        while (common < end && common < key & 0xff && _nibble(nodeKey, common) == _nibble(key, common)) {
            ++common;
        }
        if (!isLeaf && common == end) {
            assembly ("memory-safe") {
                ref := mload(add(add(node, 0x21), second))
            }
            return (false, ref, end);
        }
        // A leaf of the key itself, or a key that is a prefix of another: not in these tries.
        if (common == end || common == key & 0xff) revert OrderedTrie_BadProof();
        bytes32[16] memory pair;
        pair[_nibble(nodeKey, common)] = _split(node, isLeaf, nodeKey, end, second, secondLength, common);
        (pair[_nibble(key, common)],) = _leaf(key, common + 1, value);
        ref = _branchOf(pair, (uint256(1) << _nibble(nodeKey, common)) | (uint256(1) << _nibble(key, common)));
        if (common > depth) (ref,) = _extension(key, depth, common, ref, HASHED);
        return (true, ref, 0);
    }

    /// @dev Whether an append proof's node is a branch: its first item is a child reference
    ///      (empty or a hash), where a leaf or an extension starts with its path (a byte below
    ///      `0x80`, or a string of two to four bytes).
    function _isBranch(bytes memory node) private pure returns (bool branch) {
        (uint256 offset,) = _listPayload(node);
        assembly ("memory-safe") {
            let first := byte(0, mload(add(add(node, 0x20), offset)))
            branch := or(eq(first, 0x80), eq(first, 0xa0))
        }
    }

    /// @dev The payload of the RLP list `node`, which must span it exactly.
    function _listPayload(bytes memory node) private pure returns (uint256 offset, uint256 end) {
        bool bad;
        assembly ("memory-safe") {
            let length := mload(node)
            let first := byte(0, mload(add(node, 0x20)))
            switch lt(first, 0xf8)
            case 1 {
                // A short list (an underflow for a string prefix fails the length check).
                offset := 1
                end := add(1, sub(first, 0xc0))
                bad := lt(first, 0xc0)
            }
            default {
                // A long list: up to four bytes of length.
                let size := sub(first, 0xf7)
                bad := gt(size, 4)
                offset := add(1, size)
                end := add(offset, shr(sub(256, mul(8, size)), mload(add(node, 0x21))))
            }
            bad := or(bad, or(lt(length, 2), or(iszero(eq(end, length)), eq(offset, end))))
        }
        if (bad) revert OrderedTrie_BadProof();
    }

    /// @dev The sixteen child references of branch `node` and the mask of those present; every
    ///      child is empty or a hash, and the branch holds no value.
    function _branchRefs(bytes memory node) private pure returns (bytes32[16] memory refs, uint256 mask) {
        (uint256 cursor, uint256 end) = _listPayload(node);
        bool bad;
        assembly ("memory-safe") {
            let p := add(add(node, 0x20), cursor)
            let limit := add(add(node, 0x20), end)
            for { let c := 0 } lt(c, 16) { c := add(c, 1) } {
                if iszero(lt(p, limit)) {
                    bad := 1
                    break
                }
                switch byte(0, mload(p))
                case 0x80 { p := add(p, 1) }
                case 0xa0 {
                    if gt(add(p, 33), limit) {
                        bad := 1
                        break
                    }
                    mstore(add(refs, shl(5, c)), mload(add(p, 1)))
                    mask := or(mask, shl(c, 1))
                    p := add(p, 33)
                }
                default {
                    bad := 1
                    break
                }
            }
            // The value slot: empty, and the last byte of the node.
            if iszero(bad) { bad := iszero(and(eq(add(p, 1), limit), eq(byte(0, mload(p)), 0x80))) }
        }
        if (bad) revert OrderedTrie_BadProof();
    }

    /// @dev A leaf or an extension on the path of `key` below nibble `depth`: whether it is a
    ///      leaf; its own key (`key`'s first `depth` nibbles, then its path) and where that
    ///      ends; and its second item (the leaf's value, or the extension's child reference)
    ///      as offset and length in `node`.
    function _pair(bytes memory node, uint256 key, uint256 depth)
        private
        pure
        returns (bool isLeaf, uint256 nodeKey, uint256 end, uint256 second, uint256 secondLength)
    {
        (uint256 cursor, uint256 listEnd) = _listPayload(node);
        uint256 nibbles;
        uint256 count;
        (isLeaf, nibbles, count, cursor) = _hexPrefix(node, cursor, listEnd);
        end = depth + count;
        if (end > 6 || (!isLeaf && count == 0)) revert OrderedTrie_BadProof();
        unchecked {
            // `key`'s first `depth` nibbles, then the path's `count`, left-aligned in bits
            // 8..31 with the nibble count in the low byte (as `_key`).
            uint256 top = depth == 0 ? 0 : (key >> (32 - 4 * depth)) << (4 * count);
            nodeKey = ((top | nibbles) << (32 - 4 * end)) | end;
        }
        uint256 prefix = uint8(node[cursor]);
        (second, secondLength) = _string(node, cursor, listEnd);
        if (second + secondLength != listEnd) revert OrderedTrie_BadProof();
        if (!isLeaf) {
            // The child is a hash: `second` points at its 0xa0.
            if (prefix != 0xa0) revert OrderedTrie_BadProof();
            (second, secondLength) = (cursor, HASHED);
        }
    }

    /// @dev The hex-prefix path at `cursor` of `node`: whether it is a leaf's, its nibbles
    ///      (right-aligned), their count, and where the next item starts. The path is one byte
    ///      below 0x80, or a string of two to four bytes (keys have at most six nibbles).
    function _hexPrefix(bytes memory node, uint256 cursor, uint256 listEnd)
        private
        pure
        returns (bool isLeaf, uint256 nibbles, uint256 count, uint256 next)
    {
        uint256 pathBytes = 1;
        uint256 prefix = uint8(node[cursor]);
        if (prefix >= 0x80) {
            if (prefix < 0x82 || prefix > 0x84) revert OrderedTrie_BadProof();
            pathBytes = prefix - 0x80;
            ++cursor;
        }
        if (cursor + pathBytes >= listEnd) revert OrderedTrie_BadProof();
        uint256 path;
        for (uint256 i; i < pathBytes; ++i) {
            path = (path << 8) | uint8(node[cursor + i]);
        }
        uint256 flag = path >> (8 * pathBytes - 4);
        if (flag > 3) revert OrderedTrie_BadProof();
        // An odd path keeps its first nibble beside the flag; an even one pads it with zero.
        if (flag % 2 == 0 && (path >> (8 * pathBytes - 8)) & 0xf != 0) revert OrderedTrie_BadProof();
        count = 2 * pathBytes - (flag % 2 == 1 ? 1 : 2);
        nibbles = path & ((uint256(1) << (4 * count)) - 1);
        return (flag >= 2, nibbles, count, cursor + pathBytes);
    }

    /// @dev The RLP string at `cursor` of `node` (ending by `listEnd`): its payload's offset
    ///      and length.
    function _string(bytes memory node, uint256 cursor, uint256 listEnd)
        private
        pure
        returns (uint256 offset, uint256 length)
    {
        uint256 prefix = uint8(node[cursor]);
        if (prefix < 0x80) return (cursor, 1);
        if (prefix < 0xb8) return (cursor + 1, prefix - 0x80);
        if (prefix > 0xbb) revert OrderedTrie_BadProof();
        uint256 size = prefix - 0xb7;
        if (cursor + 1 + size > listEnd) revert OrderedTrie_BadProof();
        for (uint256 i; i < size; ++i) {
            length = (length << 8) | uint8(node[cursor + 1 + i]);
        }
        offset = cursor + 1 + size;
    }

    /// @dev What stays of leaf or extension `node` (own key `nodeKey`, ending at nibble `end`)
    ///      under the new branch at nibble `common`: the leaf with its path shortened, the
    ///      extension shortened, or the extension's child itself when nothing of its path is
    ///      left.
    function _split(
        bytes memory node,
        bool isLeaf,
        uint256 nodeKey,
        uint256 end,
        uint256 second,
        uint256 secondLength,
        uint256 common
    ) private pure returns (bytes32 ref) {
        if (isLeaf) {
            bytes memory value = new bytes(secondLength);
            assembly ("memory-safe") {
                mcopy(add(value, 0x20), add(add(node, 0x20), second), secondLength)
            }
            (ref,) = _leaf(nodeKey, common + 1, value);
            return ref;
        }
        bytes32 child;
        assembly ("memory-safe") {
            child := mload(add(add(node, 0x21), second))
        }
        if (common + 1 == end) return child;
        (ref,) = _extension(nodeKey, common + 1, end, child, HASHED);
    }

    /// @dev The hash of a branch whose children are `refs` where `mask` has a bit (each by
    ///      hash), without a value.
    function _branchOf(bytes32[16] memory refs, uint256 mask) private pure returns (bytes32 ref) {
        assembly ("memory-safe") {
            // Every child is 1 byte (empty) or 33 (by hash), plus the empty value: the payload
            // is 17 to 529 bytes, so the list header is 0xf8 or 0xf9 with its length.
            let children := 0
            for { let m := mask } m { m := shr(1, m) } { children := add(children, and(m, 1)) }
            let payload := add(17, mul(32, children))
            let out := mload(0x40)
            let cursor := out
            switch lt(payload, 256)
            case 1 {
                mstore8(cursor, 0xf8)
                mstore8(add(cursor, 1), payload)
                cursor := add(cursor, 2)
            }
            default {
                mstore8(cursor, 0xf9)
                mstore8(add(cursor, 1), shr(8, payload))
                mstore8(add(cursor, 2), and(payload, 0xff))
                cursor := add(cursor, 3)
            }
            for { let c := 0 } lt(c, 16) { c := add(c, 1) } {
                switch and(shr(c, mask), 1)
                case 0 {
                    mstore8(cursor, 0x80)
                    cursor := add(cursor, 1)
                }
                default {
                    mstore8(cursor, 0xa0)
                    mstore(add(cursor, 1), mload(add(refs, shl(5, c))))
                    cursor := add(cursor, 33)
                }
            }
            mstore8(cursor, 0x80)
            ref := keccak256(out, sub(add(cursor, 1), out))
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
