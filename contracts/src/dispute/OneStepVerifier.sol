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
///         - `STEP_PREAMBLE` (body: `abi.encode(Withdrawals.OutputRoot)`): position 0; the agreed
///           state is the output root of the parent block.
///         - `STEP_INPUT` (body: `abi.encode(TraceState)`, the fields `docs/fraud-proof.md`
///           lists): a position inside the block's trace, from a trace state of this block
///           that has consumed exactly `position` inputs (a transaction, or the seal).
///
///         The preamble and input steps revert `NotProvableYet` in this version, so the dispute
///         game resolves a game that reaches one for an allowlisted proposer and against a
///         permissionless one. They do so only once the witness has opened the agreed state as
///         that kind of state: a state opens as exactly one kind (hash preimages are unique),
///         so a padding step, whose agreed state is the block's output root, can never be
///         passed off as unprovable. Their one-steps replace this contract through
///         `StateManager.setOneStepVerifier` (the timelock).
/// @dev    Reads nothing but its arguments; a witness that does not open `fromState` reverts.
contract OneStepVerifier is IOneStepVerifier {
    /// @notice Witness kind: an identity step after the block's seal.
    uint8 public constant STEP_PADDING = 1;

    /// @notice Witness kind: the block's preamble, from its parent's output root.
    uint8 public constant STEP_PREAMBLE = 2;

    /// @notice Witness kind: one input of the block (a transaction, or the seal), from a trace
    ///         state.
    uint8 public constant STEP_INPUT = 3;

    /// @notice The version of the trace state layout.
    uint256 public constant TRACE_STATE_VERSION = 1;

    /// @notice A trace state's preimage: what a level-1 claim inside a block commits to.
    struct TraceState {
        uint256 version;
        uint256 l2Block;
        uint256 inputs;
        bytes32 stateRoot;
        uint256 cumulativeGas;
        uint256 included;
        bytes32 txAccumulator;
        bytes32 receiptAccumulator;
        bytes32 context;
    }

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
        if (kind == STEP_PREAMBLE) {
            if (ctx.position != 0 || ctx.l2Block == 0) revert OneStepVerifier_BadWitness();
            Withdrawals.OutputRoot memory parent = abi.decode(body, (Withdrawals.OutputRoot));
            if (
                parent.version != Withdrawals.OUTPUT_ROOT_VERSION || parent.l2BlockNumber != ctx.l2Block - 1
                    || Withdrawals.hashOutputRoot(parent) != fromState
            ) revert OneStepVerifier_BadWitness();
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        if (kind == STEP_INPUT) {
            TraceState memory state = abi.decode(body, (TraceState));
            if (
                state.version != TRACE_STATE_VERSION || state.l2Block != ctx.l2Block || state.inputs != ctx.position
                    || keccak256(abi.encode(state)) != fromState
            ) revert OneStepVerifier_BadWitness();
            revert NotProvableYet(ctx.l2Block, ctx.position);
        }
        revert OneStepVerifier_BadWitness();
    }
}
