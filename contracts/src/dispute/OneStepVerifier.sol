// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @title OneStepVerifier
/// @notice The one-step verifier of fraud proof part 1, behind
///         `StateManager.verifyStateTransition`. It decides the last step of a game's level 1,
///         a step of one L2 block's input trace (`IOneStepVerifier.StepContext`).
///
///         Witness: `abi.encode(uint8 kind, bytes body)`.
///         - `STEP_PADDING` (body: `abi.encode(Withdrawals.OutputRoot)`): a position after the
///           seal. The agreed state must be the output root of the disputed block itself (the
///           block is sealed), and the step leaves it unchanged: valid iff `toState == fromState`.
///
///         Every other step (the preamble, a deposit, a batch transaction, the seal) reverts
///         `NotProvableYet` in this version, so the dispute game resolves a game that reaches
///         one for an allowlisted proposer and against a permissionless one. The trace-state
///         layout those steps verify against is fixed in `docs/fraud-proof.md`; their one-steps
///         replace this contract through `StateManager.setOneStepVerifier` (the timelock).
/// @dev    Reads nothing but its arguments; a witness that does not open `fromState` reverts.
contract OneStepVerifier is IOneStepVerifier {
    /// @notice Witness kind: an identity step after the block's seal.
    uint8 public constant STEP_PADDING = 1;

    /// @notice Thrown when the witness does not open the agreed state or names another block.
    error OneStepVerifier_BadWitness();

    /// @inheritdoc IOneStepVerifier
    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external pure returns (bool) {
        StepContext memory ctx = abi.decode(proof, (StepContext));
        (uint8 kind, bytes memory body) = abi.decode(ctx.witness, (uint8, bytes));
        if (kind == STEP_PADDING) {
            if (ctx.position == 0) revert OneStepVerifier_BadWitness();
            Withdrawals.OutputRoot memory output = abi.decode(body, (Withdrawals.OutputRoot));
            if (
                output.version != Withdrawals.OUTPUT_ROOT_VERSION || output.l2BlockNumber != ctx.l2Block
                    || Withdrawals.hashOutputRoot(output) != fromState
            ) revert OneStepVerifier_BadWitness();
            return toState == fromState;
        }
        revert NotProvableYet(ctx.l2Block, ctx.position);
    }
}
