// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OrderedTrie} from "src/libraries/OrderedTrie.sol";

/// @title TraceTries
/// @notice Appends to the transactions and receipts tries a trace state carries
///         (`OrderedTrie.append`), for `OneStepVerifier`, which deploys it in its constructor:
///         the code lives here so the verifier stays under the 24 KiB contract size limit.
///         Stateless; its reverts (`OrderedTrie_BadProof`, ...) reach the verifier's caller.
contract TraceTries {
    /// @notice `OrderedTrie.append`: the root after appending `value` as value `index` to the
    ///         ordered trie of root `trieRoot`, from `proof`.
    function append(bytes32 trieRoot, uint256 index, bytes calldata value, bytes[] calldata proof)
        external
        pure
        returns (bytes32)
    {
        return OrderedTrie.append(trieRoot, index, value, proof);
    }
}
