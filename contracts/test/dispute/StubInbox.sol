// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInbox} from "src/L1/BatchInbox.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";

/// @dev The two `BatchInbox` views the one-step verifier reads, for unit tests of the dispute
///      game that play blocks anywhere in the 64-bit range, which no real inbox can hold: every
///      L2 block `n` is record `n`, a calldata batch of that one block without transactions.
///      The verifier's steps over real batches run against a real `BatchInbox` in
///      `crates/execution/tests`.
contract StubInbox {
    /// @dev The block table of one block without transactions.
    bytes internal constant EMPTY_BLOCK = hex"00000000000000";

    function recordOf(uint64 l2Block) external pure returns (uint256) {
        return l2Block;
    }

    function records(uint256 index) external pure returns (BatchInbox.Record memory record) {
        record.firstBlock = uint64(index);
        record.blockCount = 1;
        record.blocksHash = keccak256(EMPTY_BLOCK);
    }

    /// @dev The block table of every record.
    function blockTable() external pure returns (bytes memory) {
        return EMPTY_BLOCK;
    }

    /// @dev A verifier over `depositChain` and this inbox.
    function verifier(IDepositChain depositChain) external returns (OneStepVerifier) {
        return new OneStepVerifier(depositChain, new SegmentStore(BatchInbox(address(this)), 42_069));
    }
}
