// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOneStepVerifier
/// @notice Checks the one step a dispute game narrowed down to. `StateManager`'s
///         `verifyStateTransition` forwards here.
interface IOneStepVerifier {
    /// @notice Where a disputed step is, as the dispute game states it (never the players).
    /// @param l2Block       The L2 block whose input trace the step belongs to.
    /// @param position      The step's position in that trace: 0 is the block's preamble, then
    ///                      its deposits, its batch transactions and its seal; every position
    ///                      after the seal is an identity step (the trace is padded to
    ///                      `2**TRACE_DEPTH` steps).
    /// @param horizonL1Block The disputed proposal's L1 block: the step may read inbox records,
    ///                      recorded origins and bridge messages of earlier L1 blocks only.
    /// @param witness       The opening of the pre-state and of the step's inputs.
    struct StepContext {
        uint256 l2Block;
        uint256 position;
        uint256 horizonL1Block;
        bytes witness;
    }

    /// @notice Thrown for a step that runs EVM code (precompiles included): part 2 of the fraud
    ///         proof proves those; until then a game that reaches one resolves by the rule
    ///         `DisputeGame` documents.
    /// @param l2Block  The L2 block the step belongs to.
    /// @param position The step's position in that block's input trace.
    error NotProvableYet(uint256 l2Block, uint256 position);

    /// @notice Whether the step from `fromState` leads to `toState`.
    /// @param fromState The agreed state commitment before the step.
    /// @param toState   The claimed state commitment after it.
    /// @param proof     `abi.encode(StepContext)` as `DisputeGame` builds it: where the step is and
    ///                  the witness that opens `fromState` and the step's inputs.
    /// @return True if `toState` is the state the step leads to, false if it is not. Reverts
    ///         on a malformed witness (it proves nothing either way) and with
    ///         `NotProvableYet` for a step that runs code.
    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool);
}
