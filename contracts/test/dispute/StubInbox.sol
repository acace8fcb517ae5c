// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInbox} from "src/L1/BatchInbox.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {L1Headers} from "test/utils/L1Headers.sol";

/// @dev The three `BatchInbox` views the one-step verifier reads, for unit tests of the dispute
///      game that play blocks anywhere in the 64-bit range, which no real inbox can hold: every
///      L2 block `n` is record `n`, a calldata batch of that one block without transactions
///      that keeps its parent's L1 origin and timestamp, and every L1 block `n` is recorded
///      with the header `originHeader(n)`. The verifier's steps over real batches and real
///      recorded origins run against a real `BatchInbox` (`OneStepVerifierPreamble.t.sol`,
///      `OneStepVerifierTransaction.t.sol`, `crates/execution/tests`).
contract StubInbox {
    /// @dev The block table of one block without transactions.
    bytes internal constant EMPTY_BLOCK = hex"00000000000000";

    /// @dev No block of these tests has the genesis origin as its L1 origin.
    function genesisOrigin() external pure returns (uint64) {
        return type(uint64).max;
    }

    function recordOf(uint64 l2Block) external pure returns (uint256) {
        return l2Block;
    }

    function records(uint256 index) external pure returns (BatchInbox.Record memory record) {
        record.firstBlock = uint64(index);
        record.blockCount = 1;
        record.blocksHash = keccak256(EMPTY_BLOCK);
    }

    /// @dev The recorded hash of L1 block `number`: that of `originHeader(number)`.
    function originHash(uint256 number) external pure returns (bytes32) {
        return keccak256(originHeader(number));
    }

    /// @dev The header of L1 block `number` (`L1Headers.make`, so its `mixHash` is
    ///      `keccak256(abi.encode("randao", number))`): a parent hash and timestamp made up from
    ///      the number, since no chain links the whole 64-bit range.
    function originHeader(uint256 number) public pure returns (bytes memory) {
        return L1Headers.make(keccak256(abi.encode("stub parent", number)), number, 1_700_000_000 + 12 * number);
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
