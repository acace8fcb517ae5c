// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";
import {OrderedTries} from "test/utils/OrderedTries.sol";

/// @notice Exposes the library externally, so reverts can be expected and gas measured.
contract OrderedTrieHarness {
    function root(bytes[] calldata values) external pure returns (bytes32) {
        return OrderedTrie.root(values);
    }

    function append(bytes32 trieRoot, uint256 index, bytes calldata value, bytes[] calldata proof)
        external
        pure
        returns (bytes32)
    {
        return OrderedTrie.append(trieRoot, index, value, proof);
    }
}

/// @notice `OrderedTrie.append` against `OrderedTrie.root` of the longer list, with proofs from
///         `test/utils/OrderedTries.sol` (up to 127 values); the node's own tries
///         (`rollup_execution::OrderedTrie`, crossing 128 and 256 values) are checked against
///         the library in `crates/execution/tests/ordered_trie.rs`.
contract OrderedTrieTest is Test {
    OrderedTrieHarness internal harness;

    function setUp() public {
        harness = new OrderedTrieHarness();
    }

    /// @dev `count` values of 32 to 300 bytes from `seed`.
    function _values(uint256 seed, uint256 count) internal pure returns (bytes[] memory values) {
        values = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            uint256 length = 32 + uint256(keccak256(abi.encode(seed, i, "length"))) % 269;
            bytes memory value = new bytes(length);
            for (uint256 j; j < length; j += 32) {
                bytes32 word = keccak256(abi.encode(seed, i, j));
                assembly ("memory-safe") {
                    mstore(add(add(value, 0x20), j), word)
                }
            }
            values[i] = value;
        }
    }

    function test_builderMatchesRoot() public view {
        bytes[] memory values = _values(1, 127);
        for (uint256 n; n < 128; ++n) {
            bytes[] memory some = OrderedTries.prefix(values, n);
            (bytes32 root,) = OrderedTries.build(some);
            assertEq(root, harness.root(some), "builder root");
        }
    }

    /// @dev Every append from 0 to 127 values gives the root of the longer list.
    function test_appendEveryPrefix() public view {
        bytes[] memory values = _values(2, 128);
        for (uint256 n; n < 128; ++n) {
            (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, n));
            assertEq(
                harness.append(root, n, values[n], proof), harness.root(OrderedTries.prefix(values, n + 1)), "append"
            );
        }
    }

    function testFuzz_append(uint256 seed, uint8 count) public view {
        uint256 n = count % 128;
        bytes[] memory values = _values(seed, n + 1);
        (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, n));
        assertEq(harness.append(root, n, values[n], proof), harness.root(values));
    }

    /// @dev Any byte of any proof node changed, a node dropped or one added: refused.
    function testFuzz_appendRefusesTamperedProofs(uint256 seed, uint8 count, uint256 which, uint8 flip) public {
        uint256 n = 1 + count % 127;
        bytes[] memory values = _values(seed, n + 1);
        (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, n));
        bytes memory node = proof[which % proof.length];
        node[(which >> 8) % node.length] ^= bytes1(uint8(flip) | 1);
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, n, values[n], proof);
    }

    function test_appendRefusesMissingOrExtraNodes() public {
        bytes[] memory values = _values(3, 40);
        (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, 39));
        assertEq(proof.length, 2, "root and a group branch");
        bytes[] memory short = new bytes[](1);
        short[0] = proof[0];
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, 39, values[39], short);
        bytes[] memory long = new bytes[](3);
        (long[0], long[1], long[2]) = (proof[0], proof[1], proof[1]);
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, 39, values[39], long);
        // The empty trie takes no proof; a non-empty one needs one.
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(OrderedTries.EMPTY_ROOT, 0, values[0], proof);
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, 39, values[39], new bytes[](0));
    }

    /// @dev The proof of another index, or the append of a key already present: refused.
    function test_appendRefusesWrongIndex() public {
        bytes[] memory values = _values(4, 41);
        (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, 40));
        // Key 38 is in the trie: its path ends at a leaf of the same key.
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, 38, values[40], proof);
        // Key 56 (slot 3) is not on the path this proof opens (slot 2).
        vm.expectRevert(OrderedTrie.OrderedTrie_BadProof.selector);
        harness.append(root, 56, values[40], proof);
    }

    function test_appendRefusesShortValuesAndTooManyValues() public {
        bytes[] memory none = new bytes[](0);
        vm.expectRevert(OrderedTrie.OrderedTrie_ShortValue.selector);
        harness.append(OrderedTries.EMPTY_ROOT, 0, new bytes(31), none);
        vm.expectRevert(abi.encodeWithSelector(OrderedTrie.OrderedTrie_TooManyValues.selector, (1 << 16) + 1));
        harness.append(OrderedTries.EMPTY_ROOT, 1 << 16, new bytes(32), none);
    }

    /// @dev Gas of one append to a trie of 127 transfers' size (about 110 bytes each).
    function test_appendGas() public {
        bytes[] memory values = new bytes[](128);
        for (uint256 i; i < 128; ++i) {
            values[i] = abi.encodePacked(keccak256(abi.encode(i)), keccak256(abi.encode(i, 1)), new bytes(46));
        }
        (bytes32 root, bytes[] memory proof) = OrderedTries.build(OrderedTries.prefix(values, 127));
        uint256 before = gasleft();
        harness.append(root, 127, values[127], proof);
        console.log("append gas (127 values)", before - gasleft());
    }
}
