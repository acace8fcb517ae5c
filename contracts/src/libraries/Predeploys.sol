// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Predeploys
/// @notice Fixed L2 addresses shared by the L1 contracts, the L2 genesis and the Rust node.
library Predeploys {
    /// @notice The L2 bridge, placed in the L2 genesis from `L2Bridge`'s deployed bytecode.
    address internal constant L2_BRIDGE = 0x4200000000000000000000000000000000000010;

    /// @notice The system sender of ERC-20 deposit transactions on L2. Nobody holds its key:
    ///         only derivation produces transactions from it.
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;
}
