// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibFastLZ} from "src/libraries/LibFastLZ.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";

/// @title SegmentOpenerHarness
/// @notice Exposes `SegmentOpener`, `LibFastLZ` and `OrderedTrie` as external calls, so the
///         differential tests against the Rust codec and trie
///         (`crates/execution/tests/segment_opener.rs`) can run them in revm and measure their
///         gas. Not deployed on any chain.
contract SegmentOpenerHarness {
    /// @notice `SegmentOpener.open`.
    /// @param compressed The segment as posted.
    /// @param txCount    Its transaction count.
    /// @param chainId    The L2 chain id.
    /// @return ok     Whether the segment is valid.
    /// @return txRoot The Merkle root of its transactions' leaves.
    function open(bytes memory compressed, uint256 txCount, uint256 chainId)
        external
        pure
        returns (bool ok, bytes32 txRoot)
    {
        return SegmentOpener.open(compressed, txCount, chainId);
    }

    /// @notice `SegmentOpener.openLeaves`.
    /// @param compressed The segment as posted.
    /// @param txCount    Its transaction count.
    /// @param chainId    The L2 chain id.
    /// @return ok     Whether the segment is valid.
    /// @return leaves The transactions' leaves.
    function openLeaves(bytes memory compressed, uint256 txCount, uint256 chainId)
        external
        pure
        returns (bool ok, bytes32[] memory leaves)
    {
        return SegmentOpener.openLeaves(compressed, txCount, chainId);
    }

    /// @notice `SegmentOpener.merkleRoot`.
    /// @param leaves The leaves.
    /// @return root Their Merkle root.
    function merkleRoot(bytes32[] memory leaves) external pure returns (bytes32 root) {
        return SegmentOpener.merkleRoot(leaves);
    }

    /// @notice `LibFastLZ.decompress`.
    /// @param input     The FastLZ stream.
    /// @param maxOutput The output bound.
    /// @return ok     Whether the stream is well formed and within the bound.
    /// @return output The decompressed bytes.
    function decompress(bytes memory input, uint256 maxOutput) external pure returns (bool ok, bytes memory output) {
        return LibFastLZ.decompress(input, maxOutput);
    }

    /// @notice `OrderedTrie.root`.
    /// @param values The trie's values, the `i`-th under key `rlp(i)`.
    /// @return root The trie's root.
    function orderedTrieRoot(bytes[] memory values) external pure returns (bytes32 root) {
        return OrderedTrie.root(values);
    }
}
