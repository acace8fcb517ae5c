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
        // What ends the key's path is its own leaf, another key's leaf (an absent key's
        // terminal) or nothing.
        (bytes32[] memory siblings, bool terminal, uint256 index) =
            TrieBuilder.pathTo(keys, values, SparseMerkleTrie.accountKey(account));
        proof.siblings = siblings;
        if (terminal) {
            proof.terminalKey = keys[index];
            proof.terminalValueHash = values[index];
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
}
