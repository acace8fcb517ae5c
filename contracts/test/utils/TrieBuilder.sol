// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @notice Builds small sparse Merkle tries and withdrawal proofs by hand, following
///         `SparseMerkleTrie`'s layout: leaf `keccak256(0x00 ‖ key ‖ valueHash)`, internal
///         `keccak256(0x01 ‖ left ‖ right)`, siblings root first, key bits most significant first.
library TrieBuilder {
    /// @dev A leaf's hash.
    function leaf(bytes32 key, bytes32 valueHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x00), key, valueHash));
    }

    /// @dev Hashes `node` at depth `siblings.length` on `key`'s path up to the root.
    function fold(bytes32 key, bytes32 node, bytes32[] memory siblings) internal pure returns (bytes32 hash) {
        hash = node;
        for (uint256 i = siblings.length; i != 0;) {
            --i;
            bool right = (uint256(key) >> (255 - i)) & 1 == 1;
            hash = right
                ? keccak256(abi.encodePacked(uint8(0x01), siblings[i], hash))
                : keccak256(abi.encodePacked(uint8(0x01), hash, siblings[i]));
        }
    }

    /// @dev The trie key of a withdrawal's `sentWithdrawals` slot in the L2 bridge.
    function withdrawalKey(Withdrawals.Withdrawal memory w) internal pure returns (bytes32) {
        return SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, uint256(Withdrawals.storageSlot(Withdrawals.hash(w))));
    }

    /// @dev The withdrawal's slot.
    function slotOf(Withdrawals.Withdrawal memory w) internal pure returns (uint256) {
        return uint256(Withdrawals.storageSlot(Withdrawals.hash(w)));
    }

    /// @dev A trie whose `w` leaf sits below `siblings` (any non-zero hashes stand for the rest
    ///      of the state). `siblings.length == 0` is the single-leaf trie: root = the leaf.
    function prove(Withdrawals.Withdrawal memory w, bytes32[] memory siblings)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proof)
    {
        bytes32 key = withdrawalKey(w);
        root = fold(key, leaf(key, Withdrawals.SENT_VALUE_HASH), siblings);
        proof.stateRoot = root;
        proof.slot = slotOf(w);
        proof.trieProof.siblings = siblings;
        proof.trieProof.terminalKey = key;
        proof.trieProof.terminalValueHash = Withdrawals.SENT_VALUE_HASH;
    }

    /// @dev The single-leaf trie holding only `w`.
    function proveSingle(Withdrawals.Withdrawal memory w)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proof)
    {
        return prove(w, new bytes32[](0));
    }

    /// @dev The canonical two-leaf trie holding `a` and `b`; proofs for both.
    function proveTwo(Withdrawals.Withdrawal memory a, Withdrawals.Withdrawal memory b)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB)
    {
        bytes32 keyA = withdrawalKey(a);
        bytes32 keyB = withdrawalKey(b);
        uint256 split;
        while ((uint256(keyA ^ keyB) >> (255 - split)) & 1 == 0) ++split;
        bytes32[] memory siblingsA = new bytes32[](split + 1);
        bytes32[] memory siblingsB = new bytes32[](split + 1);
        siblingsA[split] = leaf(keyB, Withdrawals.SENT_VALUE_HASH);
        siblingsB[split] = leaf(keyA, Withdrawals.SENT_VALUE_HASH);
        (root, proofA) = prove(a, siblingsA);
        bytes32 rootB;
        (rootB, proofB) = prove(b, siblingsB);
        require(root == rootB, "two-leaf roots differ");
    }
}
