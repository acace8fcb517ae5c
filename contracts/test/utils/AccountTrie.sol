// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";

/// @notice L2 account states for one-step tests: a list of accounts, the root of the canonical
///         sparse Merkle trie holding them (`TrieBuilder`) and a proof for any address, present
///         or absent, as the verifier's witnesses take them. A state is a value: `set` returns a
///         new list, and an account left empty is dropped (EIP-161), as the node's trie drops
///         it.
library AccountTrie {
    /// @notice `keccak256("")`: the code hash of an account without code.
    bytes32 internal constant EMPTY_CODE_HASH = keccak256("");

    /// @notice One account of a state.
    struct Entry {
        address account;
        uint64 nonce;
        uint256 balance;
        bytes32 codeHash;
    }

    /// @notice The root of the trie holding `state`.
    function root(Entry[] memory state) internal pure returns (bytes32) {
        (bytes32[] memory keys, bytes32[] memory values) = _leaves(state);
        return TrieBuilder.rootOf(keys, values);
    }

    /// @notice Whether `account` is in `state`, and its fields (zero if absent).
    function get(Entry[] memory state, address account) internal pure returns (bool found, Entry memory entry) {
        for (uint256 i; i < state.length; ++i) {
            if (state[i].account == account) return (true, state[i]);
        }
        entry.account = account;
    }

    /// @notice `state` with `account` set to the given fields (added if absent), or removed if
    ///         they make it empty.
    function set(Entry[] memory state, address account, uint64 nonce, uint256 balance, bytes32 codeHash)
        internal
        pure
        returns (Entry[] memory updated)
    {
        bool empty = nonce == 0 && balance == 0 && codeHash == EMPTY_CODE_HASH;
        (bool found,) = get(state, account);
        uint256 length = state.length;
        if (!found && !empty) ++length;
        if (found && empty) --length;
        updated = new Entry[](length);
        uint256 j;
        for (uint256 i; i < state.length; ++i) {
            if (state[i].account == account) continue;
            updated[j++] = state[i];
        }
        if (!empty) updated[j] = Entry(account, nonce, balance, codeHash);
    }

    /// @notice `account` as a witness opens it (absent: `exists` false, every field zero) and
    ///         its proof against `root(state)`.
    function prove(Entry[] memory state, address account)
        internal
        pure
        returns (OneStepVerifier.Account memory opened, SparseMerkleTrie.Proof memory proof)
    {
        (bool found, Entry memory entry) = get(state, account);
        if (found) opened = OneStepVerifier.Account(true, entry.nonce, entry.balance, entry.codeHash);
        (bytes32[] memory keys, bytes32[] memory values) = _leaves(state);
        bytes32 key = SparseMerkleTrie.accountKey(account);
        // Down the key's path while more than one key shares it: each sibling is the subtree
        // of the keys that leave the path there. What stays is the key's own leaf, another
        // key's leaf (an absent key's terminal) or nothing.
        uint256[] memory members = _all(keys.length);
        bytes32[] memory path = new bytes32[](256);
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
        proof.siblings = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof.siblings[i] = path[i];
        }
        if (members.length == 1) {
            proof.terminalKey = keys[members[0]];
            proof.terminalValueHash = values[members[0]];
        }
    }

    function _leaves(Entry[] memory state) private pure returns (bytes32[] memory keys, bytes32[] memory values) {
        keys = new bytes32[](state.length);
        values = new bytes32[](state.length);
        for (uint256 i; i < state.length; ++i) {
            keys[i] = SparseMerkleTrie.accountKey(state[i].account);
            values[i] = SparseMerkleTrie.accountValueHash(state[i].nonce, state[i].balance, state[i].codeHash);
        }
    }

    function _subtree(bytes32[] memory keys, bytes32[] memory values, uint256[] memory members, uint256 depth)
        private
        pure
        returns (bytes32)
    {
        if (members.length == 0) return 0;
        if (members.length == 1) return TrieBuilder.leaf(keys[members[0]], values[members[0]]);
        (uint256[] memory left, uint256[] memory right) = _split(keys, members, depth);
        return TrieBuilder.node(_subtree(keys, values, left, depth + 1), _subtree(keys, values, right, depth + 1));
    }

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

    function _all(uint256 count) private pure returns (uint256[] memory all) {
        all = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            all[i] = i;
        }
    }

    function _bit(bytes32 key, uint256 index) private pure returns (bool) {
        return (uint256(key) >> (255 - index)) & 1 == 1;
    }
}
