// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @notice Builds sparse Merkle tries and withdrawal proofs by hand, following
///         `SparseMerkleTrie`'s layout: leaf `keccak256(0x00 ‖ key ‖ valueHash)`, internal
///         `keccak256(0x01 ‖ left ‖ right)`, empty subtree 0, a subtree holding one key is its
///         leaf (placed as high as possible), siblings root first, key bits most significant
///         first. Withdrawals are named by their hash (`L1Bridge.hashWithdrawal`), which already
///         binds the chain id and both bridges.
library TrieBuilder {
    /// @dev A leaf's hash.
    function leaf(bytes32 key, bytes32 valueHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x00), key, valueHash));
    }

    /// @dev An internal node's hash.
    function node(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(0x01), left, right));
    }

    /// @dev Hashes `subtree` at depth `siblings.length` on `key`'s path up to the root.
    function fold(bytes32 key, bytes32 subtree, bytes32[] memory siblings) internal pure returns (bytes32 hash) {
        hash = subtree;
        for (uint256 i = siblings.length; i != 0;) {
            --i;
            hash = _bit(key, i) ? node(siblings[i], hash) : node(hash, siblings[i]);
        }
    }

    /// @dev The trie key of a withdrawal's `sentWithdrawals` slot in the L2 bridge.
    function withdrawalKey(bytes32 withdrawalHash) internal pure returns (bytes32) {
        return SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, slotOf(withdrawalHash));
    }

    /// @dev The withdrawal's slot.
    function slotOf(bytes32 withdrawalHash) internal pure returns (uint256) {
        return uint256(Withdrawals.storageSlot(withdrawalHash));
    }

    /// @dev A trie whose withdrawal leaf sits below `siblings` (any non-zero hashes stand for the
    ///      rest of the state). `siblings.length == 0` is the single-leaf trie: root = the leaf.
    function prove(bytes32 withdrawalHash, bytes32[] memory siblings)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proof)
    {
        bytes32 key = withdrawalKey(withdrawalHash);
        root = fold(key, leaf(key, Withdrawals.SENT_VALUE_HASH), siblings);
        proof = _proof(withdrawalHash, root, siblings);
    }

    /// @dev The single-leaf trie holding only the withdrawal.
    function proveSingle(bytes32 withdrawalHash)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proof)
    {
        return prove(withdrawalHash, new bytes32[](0));
    }

    /// @dev The canonical two-leaf trie holding withdrawals `a` and `b`; proofs for both.
    function proveTwo(bytes32 a, bytes32 b)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB)
    {
        bytes32[] memory hashes = new bytes32[](2);
        hashes[0] = a;
        hashes[1] = b;
        Withdrawals.WithdrawalProof[] memory proofs;
        (root, proofs) = proveMany(hashes, new bytes32[](0));
        (proofA, proofB) = (proofs[0], proofs[1]);
    }

    /// @dev The canonical trie holding the withdrawals `withdrawalHashes` (distinct) and
    ///      unrelated leaves at `otherKeys` (standing for the rest of the L2 state); a proof for
    ///      every withdrawal.
    function proveMany(bytes32[] memory withdrawalHashes, bytes32[] memory otherKeys)
        internal
        pure
        returns (bytes32 root, Withdrawals.WithdrawalProof[] memory proofs)
    {
        uint256 count = withdrawalHashes.length;
        bytes32[] memory keys = new bytes32[](count + otherKeys.length);
        bytes32[] memory values = new bytes32[](keys.length);
        for (uint256 i; i < count; ++i) {
            keys[i] = withdrawalKey(withdrawalHashes[i]);
            values[i] = Withdrawals.SENT_VALUE_HASH;
        }
        for (uint256 i; i < otherKeys.length; ++i) {
            keys[count + i] = otherKeys[i];
            values[count + i] = keccak256(abi.encode("other leaf", otherKeys[i]));
        }
        root = rootOf(keys, values);
        proofs = new Withdrawals.WithdrawalProof[](count);
        for (uint256 i; i < count; ++i) {
            proofs[i] = _proof(withdrawalHashes[i], root, siblingsOf(keys, values, i));
        }
    }

    /// @dev The root of the canonical trie holding `keys` (distinct) with `values` (non-zero).
    function rootOf(bytes32[] memory keys, bytes32[] memory values) internal pure returns (bytes32) {
        return _subtree(keys, values, _all(keys.length), 0);
    }

    /// @dev The siblings, root first, of `keys[index]`'s leaf in the canonical trie.
    function siblingsOf(bytes32[] memory keys, bytes32[] memory values, uint256 index)
        internal
        pure
        returns (bytes32[] memory siblings)
    {
        (siblings,,) = pathTo(keys, values, keys[index]);
    }

    /// @dev The path of `key` (present or not) in the canonical trie: the siblings, root first,
    ///      down to where no other key shares it, and what ends the path there (`found`: the
    ///      leaf of `keys[terminal]`, the key's own or another's; else an empty subtree).
    function pathTo(bytes32[] memory keys, bytes32[] memory values, bytes32 key)
        internal
        pure
        returns (bytes32[] memory siblings, bool found, uint256 terminal)
    {
        bytes32[] memory path = new bytes32[](256);
        uint256[] memory members = _all(keys.length);
        uint256 depth;
        while (members.length > 1) {
            (uint256[] memory left, uint256[] memory right) = _split(keys, members, depth);
            if (_bit(key, depth)) {
                path[depth] = _subtree(keys, values, left, depth + 1);
                members = right;
            } else {
                path[depth] = _subtree(keys, values, right, depth + 1);
                members = left;
            }
            ++depth;
        }
        siblings = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            siblings[i] = path[i];
        }
        if (members.length == 1) (found, terminal) = (true, members[0]);
    }

    /// @dev A membership proof of the withdrawal under `root`. Of the output root only the state
    ///      root is set: the L2 block and its derivation belong to a proposal
    ///      (`BridgeFixtures.atBlock`).
    function _proof(bytes32 withdrawalHash, bytes32 root, bytes32[] memory siblings)
        private
        pure
        returns (Withdrawals.WithdrawalProof memory proof)
    {
        proof.output.stateRoot = root;
        proof.slot = slotOf(withdrawalHash);
        proof.trieProof.siblings = siblings;
        proof.trieProof.terminalKey = withdrawalKey(withdrawalHash);
        proof.trieProof.terminalValueHash = Withdrawals.SENT_VALUE_HASH;
    }

    /// @dev The hash of the subtree at `depth` holding `members` (indices into `keys`).
    function _subtree(bytes32[] memory keys, bytes32[] memory values, uint256[] memory members, uint256 depth)
        private
        pure
        returns (bytes32)
    {
        if (members.length == 0) return 0;
        if (members.length == 1) return leaf(keys[members[0]], values[members[0]]);
        (uint256[] memory left, uint256[] memory right) = _split(keys, members, depth);
        return node(_subtree(keys, values, left, depth + 1), _subtree(keys, values, right, depth + 1));
    }

    /// @dev `members` split by the key bit at `depth` (0: left, 1: right).
    function _split(bytes32[] memory keys, uint256[] memory members, uint256 depth)
        private
        pure
        returns (uint256[] memory left, uint256[] memory right)
    {
        uint256 rightCount;
        for (uint256 i; i < members.length; ++i) {
            if (_bit(keys[members[i]], depth)) ++rightCount;
        }
        left = new uint256[](members.length - rightCount);
        right = new uint256[](rightCount);
        uint256 l;
        uint256 r;
        for (uint256 i; i < members.length; ++i) {
            if (_bit(keys[members[i]], depth)) right[r++] = members[i];
            else left[l++] = members[i];
        }
    }

    /// @dev `[0, 1, ..., count - 1]`.
    function _all(uint256 count) private pure returns (uint256[] memory all) {
        all = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            all[i] = i;
        }
    }

    /// @dev Bit `index` of `key`, most significant first.
    function _bit(bytes32 key, uint256 index) private pure returns (bool) {
        return (uint256(key) >> (255 - index)) & 1 == 1;
    }
}
