// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {L1Header} from "src/libraries/L1Header.sol";
import {L1Headers} from "test/utils/L1Headers.sol";
import {L1HeaderVectors} from "test/fixtures/L1HeaderVectors.sol";

/// @dev Exposes the library (it reads calldata).
contract L1HeaderHarness {
    function parse(bytes calldata header) external pure returns (bytes32, uint64, uint64) {
        return L1Header.parse(header);
    }
}

contract L1HeaderTest is Test {
    bytes4 internal constant PANIC = 0x4e487b71;
    bytes4 internal constant ERROR_STRING = 0x08c379a0;

    L1HeaderHarness internal harness;

    function setUp() public {
        harness = new L1HeaderHarness();
    }

    /// @dev A header list of `items` (already RLP-encoded items, concatenated).
    function _list(bytes memory items) internal pure returns (bytes memory) {
        return L1Headers.encodeList(items);
    }

    /// @dev `count` one-byte items (0x01).
    function _filler(uint256 count) internal pure returns (bytes memory items) {
        for (uint256 i; i < count; ++i) {
            items = bytes.concat(items, hex"01");
        }
    }

    /// @dev A minimal 12-item header: 32-byte parent hash, filler, number, filler, timestamp.
    function _minimal(bytes memory parentHashItem, bytes memory numberItem, bytes memory timestampItem)
        internal
        pure
        returns (bytes memory)
    {
        return _list(bytes.concat(parentHashItem, _filler(7), numberItem, _filler(2), timestampItem));
    }

    // ------------------------------------------------------------------ real headers

    function test_parse_realHeaders_succeeds() public view {
        (bytes32 parentHash, uint64 number, uint64 timestamp) = harness.parse(L1HeaderVectors.BLOCK_1);
        assertEq(parentHash, L1HeaderVectors.BLOCK_1_PARENT_HASH);
        assertEq(number, 1);
        assertEq(timestamp, L1HeaderVectors.BLOCK_1_TIMESTAMP);
        assertEq(keccak256(L1HeaderVectors.BLOCK_1), L1HeaderVectors.BLOCK_1_HASH);

        (parentHash, number, timestamp) = harness.parse(L1HeaderVectors.BLOCK_2);
        assertEq(parentHash, L1HeaderVectors.BLOCK_1_HASH);
        assertEq(number, 2);
        assertEq(timestamp, L1HeaderVectors.BLOCK_2_TIMESTAMP);
        assertEq(keccak256(L1HeaderVectors.BLOCK_2), L1HeaderVectors.BLOCK_2_HASH);
    }

    /// @dev The test encoder reproduces a real header byte for byte, so headers it builds are
    ///      real headers.
    function test_encoder_matchesRealHeader_succeeds() public pure {
        L1Headers.Header memory h;
        h.parentHash = L1HeaderVectors.BLOCK_1_PARENT_HASH;
        h.ommersHash = L1Headers.EMPTY_OMMERS_HASH;
        h.stateRoot = 0x0242d6042fc5076d71e053415c968a287e1bb7eb2ec66d647d68e5f748146a96;
        h.transactionsRoot = 0x996b2d55ac49495f58e6309c593609a9b4b8914e39e85345688f90b35930010d;
        h.receiptsRoot = 0xf78dfb743fbd92ade140711c8bbc542b5e307f0ab7984eff35d751969fe57efa;
        h.logsBloom = new bytes(256);
        h.number = 1;
        h.gasLimit = 0x1c9c380;
        h.gasUsed = 0x5208;
        h.timestamp = L1HeaderVectors.BLOCK_1_TIMESTAMP;
        h.mixHash = 0x96bbf90f3c813a9aa5f0f8174d0473315da5976c1556da84021dc4573333f00f;
        h.baseFeePerGas = 0x3b9aca00;
        h.withdrawalsRoot = L1Headers.EMPTY_TRIE_ROOT;
        h.requestsHash = sha256("");
        assertEq(L1Headers.encode(h), L1HeaderVectors.BLOCK_1);
    }

    // ------------------------------------------------------------------ encodings

    function testFuzz_parse_builtHeader_succeeds(bytes32 parentHash, uint64 number, uint64 timestamp) public view {
        (bytes32 p, uint64 n, uint64 t) = harness.parse(L1Headers.make(parentHash, number, timestamp));
        assertEq(p, parentHash);
        assertEq(n, number);
        assertEq(t, timestamp);
    }

    /// @dev Short lists (payload < 56 bytes) and every integer width, single-byte form included.
    function testFuzz_parse_minimalHeader_succeeds(bytes32 parentHash, uint64 number, uint64 timestamp) public view {
        bytes memory header = _minimal(
            L1Headers.encodeBytes(abi.encodePacked(parentHash)),
            L1Headers.encodeUint(number),
            L1Headers.encodeUint(timestamp)
        );
        (bytes32 p, uint64 n, uint64 t) = harness.parse(header);
        assertEq(p, parentHash);
        assertEq(n, number);
        assertEq(t, timestamp);
    }

    /// @dev Non-minimal encodings (leading zeros, a long-form list) are read, not rejected: the
    ///      caller binds the bytes to a block hash, which only the canonical encoding matches.
    function test_parse_nonCanonicalEncodings_succeeds() public view {
        bytes memory items = bytes.concat(hex"a0", bytes32(uint256(7)), _filler(7), hex"820005", _filler(2), hex"8100");
        // Long-form list prefix for a short payload.
        bytes memory header = bytes.concat(hex"f8", bytes1(uint8(items.length)), items);
        (bytes32 p, uint64 n, uint64 t) = harness.parse(header);
        assertEq(p, bytes32(uint256(7)));
        assertEq(n, 5);
        assertEq(t, 0);
    }

    /// @dev Items after the twelfth are not walked; a nested list before it is skipped whole.
    function test_parse_skipsListsAndTrailingItems_succeeds() public view {
        bytes memory items = bytes.concat(
            hex"a0",
            bytes32(uint256(9)),
            hex"c3010203",
            _filler(6),
            hex"2a",
            _filler(2),
            hex"84499602d2",
            hex"c0",
            hex"b8",
            hex"38",
            new bytes(56)
        );
        (bytes32 p, uint64 n, uint64 t) = harness.parse(_list(items));
        assertEq(p, bytes32(uint256(9)));
        assertEq(n, 42);
        assertEq(t, 1_234_567_890);
    }

    // ------------------------------------------------------------------ malformed

    function test_parse_notAList_reverts() public {
        vm.expectRevert(L1Header.L1Header_NotAList.selector);
        harness.parse("");
        vm.expectRevert(L1Header.L1Header_NotAList.selector);
        harness.parse(hex"80");
        vm.expectRevert(L1Header.L1Header_NotAList.selector);
        harness.parse(L1Headers.encodeBytes(new bytes(100)));
    }

    function test_parse_lengthMismatch_reverts() public {
        bytes memory header = L1Headers.make(keccak256("p"), 10, 20);
        // Truncated by one byte.
        bytes memory truncated = new bytes(header.length - 1);
        for (uint256 i; i < truncated.length; ++i) {
            truncated[i] = header[i];
        }
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        harness.parse(truncated);
        // One byte too many.
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        harness.parse(bytes.concat(header, hex"00"));
        // A long-form prefix whose length bytes are cut off.
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        harness.parse(hex"f9ff");
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        harness.parse(hex"ff");
        // A length of 2^64 - 1.
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        harness.parse(hex"ffffffffffffffffff");
    }

    function test_parse_tooFewItems_reverts() public {
        bytes memory items = bytes.concat(hex"a0", bytes32(0), _filler(10));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 11));
        harness.parse(_list(items));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 0));
        harness.parse(hex"c0");
    }

    function test_parse_itemPastListEnd_reverts() public {
        // Item 3 claims 2 bytes but the list ends after 1.
        bytes memory items = bytes.concat(hex"a0", bytes32(0), _filler(2), hex"8201");
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 3));
        harness.parse(_list(items));
        // Item 1 is a long string whose length bytes run past the list.
        items = bytes.concat(hex"a0", bytes32(0), hex"bf");
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 1));
        harness.parse(_list(items));
        // Item 1 is a long list claiming 2^64 - 1 bytes.
        items = bytes.concat(hex"a0", bytes32(0), hex"ffffffffffffffffff");
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 1));
        harness.parse(_list(items));
    }

    function test_parse_badFields_reverts() public {
        bytes memory hash31 = L1Headers.encodeBytes(new bytes(31));
        bytes memory hash32 = L1Headers.encodeBytes(new bytes(32));
        bytes memory one = hex"01";
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 0));
        harness.parse(_minimal(hash31, one, one));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 0));
        harness.parse(_minimal(L1Headers.encodeList(new bytes(32)), one, one));
        // number: 9 bytes, a list.
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 8));
        harness.parse(_minimal(hash32, L1Headers.encodeBytes(new bytes(9)), one));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 8));
        harness.parse(_minimal(hash32, hex"c0", one));
        // timestamp: 9 bytes, a list.
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 11));
        harness.parse(_minimal(hash32, one, L1Headers.encodeBytes(new bytes(9))));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_BadField.selector, 11));
        harness.parse(_minimal(hash32, one, hex"c101"));
    }

    /// @dev Any input either parses or reverts with an `L1Header_*` error: never a panic, an
    ///      out-of-bounds read or an empty revert.
    function testFuzz_parse_randomBytes_onlyCustomErrors(bytes calldata header) public view {
        _checkOnlyCustomErrors(header);
    }

    /// @dev Random corruption of a real header: parses or reverts with an `L1Header_*` error.
    function testFuzz_parse_corruptedHeader_onlyCustomErrors(uint256 position, uint8 value, uint256 cut) public view {
        bytes memory header = L1Headers.make(keccak256("p"), 123_456, 1_700_000_000);
        header[position % header.length] = bytes1(value);
        uint256 length = bound(cut, 0, header.length);
        assembly ("memory-safe") {
            mstore(header, length)
        }
        _checkOnlyCustomErrors(header);
    }

    function _checkOnlyCustomErrors(bytes memory header) internal view {
        (bool ok, bytes memory result) = address(harness).staticcall(abi.encodeCall(L1HeaderHarness.parse, (header)));
        if (ok) return;
        assertTrue(result.length >= 4, "empty revert");
        bytes4 selector = bytes4(result);
        assertTrue(
            selector == L1Header.L1Header_NotAList.selector || selector == L1Header.L1Header_LengthMismatch.selector
                || selector == L1Header.L1Header_ItemOutOfBounds.selector
                || selector == L1Header.L1Header_BadField.selector,
            "not an L1Header error"
        );
    }
}
