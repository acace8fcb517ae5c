// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Builds RLP-encoded L1 block headers for tests: a header with every Prague field
///         (`encode`), or a realistic one from just parent hash, number and timestamp (`make`),
///         plus the RLP primitives. Checked against real headers in `L1Header.t.sol`.
library L1Headers {
    /// @notice The fields of a Prague L1 header, in RLP order.
    struct Header {
        bytes32 parentHash;
        bytes32 ommersHash;
        address coinbase;
        bytes32 stateRoot;
        bytes32 transactionsRoot;
        bytes32 receiptsRoot;
        bytes logsBloom;
        uint256 difficulty;
        uint256 number;
        uint256 gasLimit;
        uint256 gasUsed;
        uint256 timestamp;
        bytes extraData;
        bytes32 mixHash;
        bytes8 nonce;
        uint256 baseFeePerGas;
        bytes32 withdrawalsRoot;
        uint256 blobGasUsed;
        uint256 excessBlobGas;
        bytes32 parentBeaconBlockRoot;
        bytes32 requestsHash;
    }

    /// @notice keccak256(RLP([])): the ommers hash of every post-merge block.
    bytes32 internal constant EMPTY_OMMERS_HASH = 0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347;

    /// @notice The root of an empty trie.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice A realistic header of block `number` with the given parent and timestamp; the
    ///         other fields are derived from the number, so every block's header differs.
    function make(bytes32 parentHash, uint256 number, uint256 timestamp) internal pure returns (bytes memory) {
        return encode(defaults(parentHash, number, timestamp));
    }

    /// @notice The fields `make` uses.
    function defaults(bytes32 parentHash, uint256 number, uint256 timestamp) internal pure returns (Header memory h) {
        h.parentHash = parentHash;
        h.ommersHash = EMPTY_OMMERS_HASH;
        h.coinbase = address(uint160(uint256(keccak256(abi.encode("coinbase", number)))));
        h.stateRoot = keccak256(abi.encode("state", number));
        h.transactionsRoot = EMPTY_TRIE_ROOT;
        h.receiptsRoot = EMPTY_TRIE_ROOT;
        h.logsBloom = new bytes(256);
        h.number = number;
        h.gasLimit = 36_000_000;
        h.gasUsed = (number * 7_919) % 36_000_000;
        h.timestamp = timestamp;
        h.extraData = "rollup test";
        h.mixHash = keccak256(abi.encode("randao", number));
        h.baseFeePerGas = 1 gwei + number;
        h.withdrawalsRoot = EMPTY_TRIE_ROOT;
        h.parentBeaconBlockRoot = keccak256(abi.encode("beacon", number));
        h.requestsHash = sha256("");
    }

    /// @notice RLP of `h`.
    function encode(Header memory h) internal pure returns (bytes memory) {
        // Concatenated a few items at a time (a long `bytes.concat` runs out of stack).
        bytes memory payload = bytes.concat(
            encodeBytes(abi.encodePacked(h.parentHash)),
            encodeBytes(abi.encodePacked(h.ommersHash)),
            encodeBytes(abi.encodePacked(h.coinbase)),
            encodeBytes(abi.encodePacked(h.stateRoot))
        );
        payload = bytes.concat(
            payload,
            encodeBytes(abi.encodePacked(h.transactionsRoot)),
            encodeBytes(abi.encodePacked(h.receiptsRoot)),
            encodeBytes(h.logsBloom)
        );
        payload = bytes.concat(
            payload, encodeUint(h.difficulty), encodeUint(h.number), encodeUint(h.gasLimit), encodeUint(h.gasUsed)
        );
        payload = bytes.concat(
            payload,
            encodeUint(h.timestamp),
            encodeBytes(h.extraData),
            encodeBytes(abi.encodePacked(h.mixHash)),
            encodeBytes(abi.encodePacked(h.nonce))
        );
        payload = bytes.concat(
            payload,
            encodeUint(h.baseFeePerGas),
            encodeBytes(abi.encodePacked(h.withdrawalsRoot)),
            encodeUint(h.blobGasUsed)
        );
        payload = bytes.concat(
            payload,
            encodeUint(h.excessBlobGas),
            encodeBytes(abi.encodePacked(h.parentBeaconBlockRoot)),
            encodeBytes(abi.encodePacked(h.requestsHash))
        );
        return encodeList(payload);
    }

    /// @notice RLP of a byte string.
    function encodeBytes(bytes memory value) internal pure returns (bytes memory) {
        if (value.length == 1 && uint8(value[0]) < 0x80) return value;
        return bytes.concat(_prefix(0x80, value.length), value);
    }

    /// @notice RLP of an unsigned integer (minimal big-endian bytes; 0 is the empty string).
    function encodeUint(uint256 value) internal pure returns (bytes memory) {
        return encodeBytes(minimalBigEndian(value));
    }

    /// @notice RLP of a list whose items' encodings, concatenated, are `payload`.
    function encodeList(bytes memory payload) internal pure returns (bytes memory) {
        return bytes.concat(_prefix(0xc0, payload.length), payload);
    }

    /// @notice `value` as big-endian bytes without leading zeros (empty for 0).
    function minimalBigEndian(uint256 value) internal pure returns (bytes memory out) {
        uint256 length;
        for (uint256 v = value; v != 0; v >>= 8) {
            ++length;
        }
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            out[length - 1 - i] = bytes1(uint8(value >> (8 * i)));
        }
    }

    /// @dev The RLP length prefix with base `offset` (0x80 strings, 0xc0 lists).
    function _prefix(uint256 offset, uint256 length) private pure returns (bytes memory) {
        // casting to 'uint8' is safe for the lengths RLP can express (offset + 55 + 8 < 256)
        // forge-lint: disable-next-line(unsafe-typecast)
        if (length < 56) return abi.encodePacked(uint8(offset + length));
        bytes memory lengthBytes = minimalBigEndian(length);
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes.concat(abi.encodePacked(uint8(offset + 55 + lengthBytes.length)), lengthBytes);
    }
}
