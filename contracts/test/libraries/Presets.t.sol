// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Presets} from "src/libraries/Presets.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {DisputeGame} from "src/dispute/DisputeGame.sol";
import {StateManager} from "src/L1/StateManager.sol";

/// @dev The production bonds against the worst-case gas of winning a game they pay for.
contract PresetsTest is Test {
    /// @dev A step may need every segment of a batch opened: the bound counts them all.
    function test_worstCaseOpenings_everySegmentOfABatch_succeeds() public {
        BatchInbox inbox = new BatchInbox();
        assertEq(Presets.WORST_CASE_OPENINGS, inbox.MAX_SEGMENTS_PER_BATCH());
        uint256 segmentBytes = inbox.MAX_SEGMENTS_PER_BATCH() * inbox.MAX_SEGMENT_SIZE();
        uint256 blobs = (segmentBytes + inbox.BLOB_DATA_SIZE() - 1) / inbox.BLOB_DATA_SIZE();
        assertEq(Presets.WORST_CASE_BLOB_LOADS, blobs);
    }

    /// @dev The moves' share covers a full game's bisections (the blocks of a week and a
    ///      block's trace) at the 100k gas each move stays under, plus a step at EIP-7825's cap.
    function test_worstCaseMoves_coverAFullGame_succeeds() public {
        uint256 blockLevels = 20; // 2^20 L2 blocks: more than a week of 1-second blocks
        DisputeGame game = new DisputeGame(StateManager(address(1)), bytes32(uint256(1)), 1, 2, 1);
        uint256 moves = blockLevels + game.TRACE_DEPTH();
        assertGe(Presets.WORST_CASE_MOVES_GAS, moves * 100_000 + 2 ** 24, "moves");
    }

    /// @dev What each production bond pays the winner (half of a removed proposal's, a lost
    ///      challenger's whole) covers the winner's worst case at the reference gas price.
    function test_productionBonds_coverTheWorstCaseGame_succeeds() public {
        Presets.Preset memory production = Presets.production();
        uint256 worst = Presets.WORST_CASE_GAME_GAS * Presets.BOND_REFERENCE_GAS_PRICE;
        StateManager manager = new StateManager(1, production.proposalBond);
        assertGe(production.proposalBond * manager.REMOVAL_REWARD_BPS() / 10_000, worst, "proposal bond");
        assertGe(production.challengerBond, worst, "challenger bond");
        assertEq(
            Presets.WORST_CASE_GAME_GAS,
            Presets.WORST_CASE_OPENINGS * Presets.WORST_CASE_OPENING_GAS + Presets.WORST_CASE_BLOB_LOADS
                * Presets.WORST_CASE_BLOB_LOAD_GAS + Presets.WORST_CASE_MOVES_GAS
        );
    }
}
