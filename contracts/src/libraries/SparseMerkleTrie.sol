// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibBit} from "solady/utils/LibBit.sol";

/// @title SparseMerkleTrie
/// @notice Verifier for the L2 state commitment: a binary keccak sparse Merkle trie with short
///         paths over 256-bit keys (DESIGN.md §5). Mirrors `verify` and `update_root_with_proof`
///         of the Rust crate `rollup-trie`, which documents the layout:
///         - account leaf: key `keccak256(0x00 ‖ address)`, value hash
///           `keccak256(abi.encode(uint256(nonce), balance, codeHash))`;
///         - storage leaf: key `keccak256(0x01 ‖ address ‖ slot)`, value hash the slot value;
///         - key bits are read most significant first; bit `d` picks the child below depth `d`;
///         - empty subtree: `0`; a subtree with one key is its leaf, placed as high as possible;
///           leaf `keccak256(0x00 ‖ key ‖ valueHash)`, internal `keccak256(0x01 ‖ left ‖ right)`.
///         A zero value hash means "absent" everywhere: no leaf ever holds zero.
library SparseMerkleTrie {
    /// @notice A proof for one key, as `rollup_trie::prove` produces it.
    /// @param siblings          Sibling hashes from the root down; the terminal sits at depth
    ///                          `siblings.length`.
    /// @param terminalKey       Key of the leaf ending the path (ignored if the terminal is empty).
    /// @param terminalValueHash Value hash of that leaf, or 0 if the path ends in an empty subtree.
    /// @param lastSibling       The 65-byte node (hash preimage) of the deepest sibling; only
    ///                          needed to delete the key, since a sibling leaf then moves up.
    struct Proof {
        bytes32[] siblings;
        bytes32 terminalKey;
        bytes32 terminalValueHash;
        bytes lastSibling;
    }

    /// @notice Number of bits in a key: no proof has more siblings.
    uint256 internal constant MAX_DEPTH = 256;

    /// @notice Domain byte of a leaf's hash preimage.
    uint8 internal constant LEAF_TAG = 0x00;

    /// @notice Domain byte of an internal node's hash preimage.
    uint8 internal constant INTERNAL_TAG = 0x01;

    /// @notice Thrown when a proof has more siblings than a key has bits.
    error SparseMerkleTrie_TooManySiblings();

    /// @notice Thrown when the terminal's deepest sibling is empty: a canonical trie places the
    ///         terminal higher.
    error SparseMerkleTrie_NonCanonicalProof();

    /// @notice Thrown when the terminal is another key's leaf that is not on the proven key's path.
    error SparseMerkleTrie_KeyMismatch();

    /// @notice Thrown when the key is present with another value than claimed.
    error SparseMerkleTrie_ValueMismatch();

    /// @notice Thrown when the key was claimed absent but the proof shows its leaf.
    error SparseMerkleTrie_KeyPresent();

    /// @notice Thrown when the key was claimed present but the proof shows it absent.
    error SparseMerkleTrie_KeyAbsent();

    /// @notice Thrown when the proof does not fold to the root (tampered, missing or extra sibling).
    error SparseMerkleTrie_InvalidProof();

    /// @notice Thrown when a deletion's proof lacks the deepest sibling's node.
    error SparseMerkleTrie_MissingLastSibling();

    /// @notice Thrown when `lastSibling` is not the preimage of the deepest sibling.
    error SparseMerkleTrie_LastSiblingMismatch();

    /// @notice Trie key of an account.
    /// @param account The account's address.
    /// @return `keccak256(0x00 ‖ account)`.
    function accountKey(address account) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), account));
    }

    /// @notice Trie key of a storage slot.
    /// @param account The account owning the slot.
    /// @param slot    The slot.
    /// @return `keccak256(0x01 ‖ account ‖ slot)`.
    function storageKey(address account, uint256 slot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x01), account, slot));
    }

    /// @notice Value hash of an account leaf.
    /// @param nonce    The account's nonce.
    /// @param balance  The account's balance.
    /// @param codeHash The account's code hash.
    /// @return `keccak256(abi.encode(uint256(nonce), balance, codeHash))`.
    function accountValueHash(uint64 nonce, uint256 balance, bytes32 codeHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(nonce), balance, codeHash));
    }

    /// @notice Reverts unless `proof` shows `key` holding `valueHash` (0: absent) under `root`.
    /// @param root      The trie root.
    /// @param key       The key.
    /// @param valueHash The claimed value hash, 0 for absence.
    /// @param proof     The proof.
    function verify(bytes32 root, bytes32 key, bytes32 valueHash, Proof memory proof) internal pure {
        bytes32[] memory siblings = proof.siblings;
        uint256 depth = siblings.length;
        if (depth > MAX_DEPTH) revert SparseMerkleTrie_TooManySiblings();
        if (depth != 0 && siblings[depth - 1] == 0) revert SparseMerkleTrie_NonCanonicalProof();
        bytes32 terminalHash;
        if (proof.terminalValueHash != 0) {
            if (proof.terminalKey == key) {
                if (valueHash == 0) revert SparseMerkleTrie_KeyPresent();
                if (valueHash != proof.terminalValueHash) revert SparseMerkleTrie_ValueMismatch();
            } else {
                if (_commonPrefixLength(key, proof.terminalKey) < depth) revert SparseMerkleTrie_KeyMismatch();
                if (valueHash != 0) revert SparseMerkleTrie_KeyAbsent();
            }
            terminalHash = _hashNode(LEAF_TAG, proof.terminalKey, proof.terminalValueHash);
        } else if (valueHash != 0) {
            revert SparseMerkleTrie_KeyAbsent();
        }
        if (_fold(key, terminalHash, siblings, depth) != root) revert SparseMerkleTrie_InvalidProof();
    }

    /// @notice The root after setting `key` from `oldValueHash` to `newValueHash` (0: absent),
    ///         given a proof of the old value against `root`. Reverts as `verify` does.
    /// @param root         The trie root before the update.
    /// @param key          The key.
    /// @param oldValueHash The key's current value hash, 0 if absent.
    /// @param newValueHash The key's new value hash, 0 to delete it.
    /// @param proof        Proof of `oldValueHash` against `root`.
    /// @return The trie root after the update.
    function computeUpdatedRoot(
        bytes32 root,
        bytes32 key,
        bytes32 oldValueHash,
        bytes32 newValueHash,
        Proof memory proof
    ) internal pure returns (bytes32) {
        verify(root, key, oldValueHash, proof);
        bytes32[] memory siblings = proof.siblings;
        uint256 depth = siblings.length;

        if (newValueHash == 0) {
            if (oldValueHash == 0) return root; // Deleting an absent key.
            if (depth == 0) return bytes32(0); // The key was the only leaf.
            bytes32 last = siblings[depth - 1];
            bytes memory node = proof.lastSibling;
            if (node.length == 0) revert SparseMerkleTrie_MissingLastSibling();
            if (node.length != 65 || keccak256(node) != last) revert SparseMerkleTrie_LastSiblingMismatch();
            // A sibling internal node still holds two or more keys: the slot just empties.
            if (uint8(node[0]) == INTERNAL_TAG) return _fold(key, bytes32(0), siblings, depth);
            // A sibling leaf is now alone below the parent: it rises while its sibling is empty.
            uint256 top = depth - 1;
            while (top != 0 && siblings[top - 1] == 0) {
                unchecked {
                    --top;
                }
            }
            return _fold(key, last, siblings, top);
        }

        bytes32 subtree = _hashNode(LEAF_TAG, key, newValueHash);
        if (proof.terminalValueHash != 0 && proof.terminalKey != key) {
            // Both leaves descend to the first bit where their keys differ.
            uint256 split = _commonPrefixLength(key, proof.terminalKey);
            bytes32 other = _hashNode(LEAF_TAG, proof.terminalKey, proof.terminalValueHash);
            subtree =
                _bit(key, split) ? _hashNode(INTERNAL_TAG, other, subtree) : _hashNode(INTERNAL_TAG, subtree, other);
            while (split > depth) {
                unchecked {
                    --split;
                }
                subtree = _bit(key, split)
                    ? _hashNode(INTERNAL_TAG, bytes32(0), subtree)
                    : _hashNode(INTERNAL_TAG, subtree, bytes32(0));
            }
        }
        return _fold(key, subtree, siblings, depth);
    }

    /// @dev Hashes `node`, sitting at `depth` on `key`'s path, up to the root with the first
    ///      `depth` siblings.
    function _fold(bytes32 key, bytes32 node, bytes32[] memory siblings, uint256 depth)
        private
        pure
        returns (bytes32 hash)
    {
        assembly ("memory-safe") {
            // 65 bytes of scratch above the free memory pointer: tag ‖ left ‖ right.
            let ptr := mload(0x40)
            mstore8(ptr, 0x01)
            let words := add(siblings, 0x20)
            hash := node
            for { let i := depth } i {} {
                i := sub(i, 1)
                let sibling := mload(add(words, shl(5, i)))
                switch and(shr(sub(255, i), key), 1)
                case 0 {
                    mstore(add(ptr, 1), hash)
                    mstore(add(ptr, 33), sibling)
                }
                default {
                    mstore(add(ptr, 1), sibling)
                    mstore(add(ptr, 33), hash)
                }
                hash := keccak256(ptr, 65)
            }
        }
    }

    /// @dev `keccak256(tag ‖ first ‖ second)`.
    function _hashNode(uint8 tag, bytes32 first, bytes32 second) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, tag)
            mstore(add(ptr, 1), first)
            mstore(add(ptr, 33), second)
            hash := keccak256(ptr, 65)
        }
    }

    /// @dev Bit `index` of `key`, most significant first.
    function _bit(bytes32 key, uint256 index) private pure returns (bool) {
        return (uint256(key) >> (255 - index)) & 1 == 1;
    }

    /// @dev Number of leading bits `a` and `b` share (256 if equal).
    function _commonPrefixLength(bytes32 a, bytes32 b) private pure returns (uint256) {
        return LibBit.clz(uint256(a ^ b));
    }
}
