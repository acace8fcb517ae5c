// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IStateManager
/// @notice L1 record of proposed L2 state roots and the fraud-proof entry point.
interface IStateManager {
    /// @notice Proposes the L2 state root `stateRoot` for the batches committed to by `batchRoot`.
    /// @param stateRoot The proposed L2 state (output) root.
    /// @param batchRoot The commitment to the batches the root was derived from.
    /// @param proof     Supporting data for the proposal.
    /// @dev Non-payable: a proposal's bond is drawn from a balance funded separately.
    function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) external;

    /// @notice Checks one state transition step from `fromState` to `toState`.
    /// @param fromState The pre-state commitment.
    /// @param toState   The claimed post-state commitment.
    /// @param proof     The witness for the step.
    /// @return True if the transition is valid.
    /// @dev Non-view: the one-step verifier may record what it checked.
    function verifyStateTransition(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool);
}
