// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title DepositLimits
/// @notice Bounds on the L2 gas a deposit may request. The derivation turns every deposit into
///         an L2 deposit transaction with the requested gas limit, so these bounds keep each
///         deposit executable and the deposits of one L1 block within an L2 block's capacity.
library DepositLimits {
    /// @notice Minimum gas of an ETH deposit: the intrinsic cost of a plain value transfer.
    uint256 internal constant MIN_ETH_DEPOSIT_GAS = 21_000;

    /// @notice Minimum gas of an ERC-20 deposit: enough for `L2Bridge.finalizeDeposit`
    ///         including the first-time CREATE2 deployment of the token's `BridgedERC20`
    ///         (measured in `L2Bridge.t.sol`: 661,337 gas including intrinsic cost with
    ///         worst-case calldata; x1.3 = 859,738, rounded up; the test fails if it drifts).
    uint256 internal constant MIN_ERC20_DEPOSIT_GAS = 900_000;

    /// @notice Maximum gas a single deposit may request.
    uint256 internal constant MAX_DEPOSIT_GAS = 5_000_000;

    /// @notice Maximum sum of the requested gas of all deposits made in one L1 block.
    uint256 internal constant DEPOSIT_GAS_PER_L1_BLOCK = 30_000_000;
}
