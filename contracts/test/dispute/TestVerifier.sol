// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";

/// @dev A one-step verifier whose outcome the test sets: valid, invalid, not provable yet, or
///      another revert. Records the last step it decided.
contract TestVerifier is IOneStepVerifier {
    enum Mode {
        Valid,
        Invalid,
        Unprovable,
        Broken
    }

    error TestVerifier_Broken();

    Mode public mode;
    uint256 public calls;
    bytes32 public lastFrom;
    bytes32 public lastTo;
    uint256 public lastL2Block;
    uint256 public lastPosition;
    uint256 public lastHorizon;
    bytes public lastWitness;

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool) {
        StepContext memory ctx = abi.decode(proof, (StepContext));
        if (mode == Mode.Unprovable) revert NotProvableYet(ctx.l2Block, ctx.position);
        if (mode == Mode.Broken) revert TestVerifier_Broken();
        ++calls;
        (lastFrom, lastTo) = (fromState, toState);
        (lastL2Block, lastPosition, lastHorizon, lastWitness) = (ctx.l2Block, ctx.position, ctx.horizonL1Block, ctx.witness);
        return mode == Mode.Valid;
    }
}

/// @dev Has no way to receive ETH.
contract CreditRejecter {}
