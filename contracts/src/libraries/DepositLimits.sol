// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title DepositLimits
/// @notice Bounds on the L2 gas a deposit or forced withdrawal may request. The derivation turns
///         every deposit and forced withdrawal into an L2 deposit transaction with the requested
///         gas limit, so these bounds keep each one executable and the messages of one L1 block
///         within an L2 block's capacity.
library DepositLimits {
    /// @notice Minimum gas of an ETH deposit: the intrinsic cost of a plain value transfer.
    uint256 internal constant MIN_ETH_DEPOSIT_GAS = 21_000;

    /// @notice Minimum gas of an ERC-20 deposit: enough for `L2Bridge.finalizeDeposit` to credit
    ///         the first deposit of a token, which deploys its `BridgedERC20` and stores the
    ///         longest metadata (two 64-byte strings), while keeping `DEPOSIT_FAILURE_GAS_RESERVE`
    ///         back. Measured in `L2Bridge.t.sol` (binary search, worst-case calldata of 548
    ///         bytes): the smallest gas limit that still credits is 971,611 including intrinsic
    ///         gas; x1.3 = 1,263,095, rounded up; the test fails below 30% headroom. Below it
    ///         the deposit would not be lost (it becomes a refund), but L1 refuses it anyway.
    uint256 internal constant MIN_ERC20_DEPOSIT_GAS = 1_300_000;

    /// @notice Maximum gas a single deposit may request.
    uint256 internal constant MAX_DEPOSIT_GAS = 5_000_000;

    /// @notice Maximum sum of the requested gas of all deposits and forced withdrawals made in
    ///         one L1 block.
    uint256 internal constant DEPOSIT_GAS_PER_L1_BLOCK = 30_000_000;

    /// @notice Gas limit of the L2 transaction a forced withdrawal becomes
    ///         (`L2Bridge.withdrawTo` called by the L1 caller's L2 identity), charged to the L1
    ///         block's deposit gas budget. Measured in `L2Bridge.t.sol` (first withdrawal ever,
    ///         cold accounts, all-nonzero calldata): 121,587 for an ERC-20 burn, 109,842 for ETH
    ///         (both including intrinsic gas); 200,000 leaves 64% headroom.
    uint256 internal constant FORCED_WITHDRAWAL_GAS = 200_000;

    /// @notice Gas `L2Bridge.finalizeDeposit` keeps back from the credit so that recording a
    ///         refund withdrawal always succeeds when the credit fails. Measured in
    ///         `L2Bridge.t.sol` with a credit that burns all its gas (first withdrawal ever, cold
    ///         slots): at most 35,120 gas are spent after the failed call; 75,000 leaves more
    ///         than 2x (the test fails below 50% headroom).
    uint256 internal constant DEPOSIT_FAILURE_GAS_RESERVE = 75_000;

    /// @notice Longest token name or symbol carried to L2: `L1Bridge` cuts longer ones, and
    ///         `L2Bridge` refunds a first deposit whose metadata exceeds it. Bounds the gas of
    ///         the first credit and the size of a deposit log (metadata at most 288 bytes).
    uint256 internal constant MAX_TOKEN_STRING_BYTES = 64;
}
