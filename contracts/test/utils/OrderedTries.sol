// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Small ordered tries for one-step tests, built node by node: the root of up to 127
///         values and the append proof of the next one (`OrderedTrie.append`), written out
///         independently of the library so the two check each other.
/// @dev    Below 128 values every key has two nibbles: `rlp(0)` is `0x80`, `rlp(i)` is `i`. Two
///         or more values make the root a branch over the first nibble: slot 8 holds value 0,
///         slot `h` the values `16h..16h+15` (from 1); a slot with one value holds a leaf with
///         the key's last nibble, one with several a branch over it whose leaves have empty
///         paths. Values must be 32 bytes or more (every node is then referenced by hash).
library OrderedTries {
    /// @notice `keccak256(rlp(""))`: the root of the empty trie.
    bytes32 internal constant EMPTY_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice The root of the ordered trie of `values` and the append proof of value
    ///         `values.length`.
    function build(bytes[] memory values) internal pure returns (bytes32 root, bytes[] memory proof) {
        uint256 n = values.length;
        require(n < 128, "OrderedTries: at most 127 values");
        if (n == 0) return (EMPTY_ROOT, new bytes[](0));
        if (n == 1) {
            // One leaf with the whole key 0x80 (even path: flag byte 0x20).
            proof = new bytes[](1);
            proof[0] = _leaf(hex"2080", values[0]);
            return (keccak256(proof[0]), proof);
        }
        bytes[16] memory groups;
        bytes32[16] memory refs;
        bool[16] memory present;
        for (uint256 h; h < 8; ++h) {
            groups[h] = _group(values, h);
            if (groups[h].length != 0) (refs[h], present[h]) = (keccak256(groups[h]), true);
        }
        // Value 0: key nibbles 8, 0; the leaf keeps the odd path [0] (flag byte 0x30).
        groups[8] = _leaf(hex"30", values[0]);
        (refs[8], present[8]) = (keccak256(groups[8]), true);
        bytes memory rootNode = _branch(refs, present);
        root = keccak256(rootNode);
        uint256 slot = n >> 4;
        if (groups[slot].length == 0) {
            proof = new bytes[](1);
            proof[0] = rootNode;
        } else {
            proof = new bytes[](2);
            (proof[0], proof[1]) = (rootNode, groups[slot]);
        }
    }

    /// @notice `values[0..count]`.
    function prefix(bytes[] memory values, uint256 count) internal pure returns (bytes[] memory out) {
        out = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            out[i] = values[i];
        }
    }

    /// @dev The node of slot `h`: values `max(1, 16h)..min(n, 16h + 16)`, or nothing.
    function _group(bytes[] memory values, uint256 h) private pure returns (bytes memory) {
        uint256 from = h == 0 ? 1 : 16 * h;
        uint256 to = values.length < 16 * h + 16 ? values.length : 16 * h + 16;
        if (from >= to) return "";
        // One value: a leaf with the key's last nibble (odd path, flag nibble 3).
        if (to - from == 1) return _leaf(abi.encodePacked(uint8(0x30 | (from & 0xf))), values[from]);
        bytes32[16] memory refs;
        bool[16] memory present;
        for (uint256 i = from; i < to; ++i) {
            // Leaves with empty paths (flag byte 0x20).
            (refs[i & 0xf], present[i & 0xf]) = (keccak256(_leaf(hex"20", values[i])), true);
        }
        return _branch(refs, present);
    }

    /// @dev `rlp([path, value])`.
    function _leaf(bytes memory path, bytes memory value) private pure returns (bytes memory) {
        return _list(abi.encodePacked(_string(path), _string(value)));
    }

    /// @dev `rlp([child 0, ..., child 15, ""])`, each child by hash or empty.
    function _branch(bytes32[16] memory refs, bool[16] memory present) private pure returns (bytes memory) {
        bytes memory payload;
        for (uint256 c; c < 16; ++c) {
            payload = present[c] ? abi.encodePacked(payload, hex"a0", refs[c]) : abi.encodePacked(payload, hex"80");
        }
        return _list(abi.encodePacked(payload, hex"80"));
    }

    /// @dev An RLP string.
    function _string(bytes memory data) private pure returns (bytes memory) {
        if (data.length == 1 && uint8(data[0]) < 0x80) return data;
        return abi.encodePacked(_length(data.length, 0x80), data);
    }

    /// @dev An RLP list of `payload`.
    function _list(bytes memory payload) private pure returns (bytes memory) {
        return abi.encodePacked(_length(payload.length, 0xc0), payload);
    }

    /// @dev An RLP length prefix (`offset` 0x80 for a string, 0xc0 for a list); lengths here
    ///      are below 64 kB.
    function _length(uint256 length, uint256 offset) private pure returns (bytes memory) {
        // casting to 'uint8' is safe: each value is below 256 in its branch
        // forge-lint: disable-next-line(unsafe-typecast)
        if (length < 56) return abi.encodePacked(uint8(offset + length));
        // forge-lint: disable-next-line(unsafe-typecast)
        if (length < 256) return abi.encodePacked(uint8(offset + 56), uint8(length));
        require(length < 1 << 16, "OrderedTries: value too long");
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encodePacked(uint8(offset + 57), uint16(length));
    }
}
