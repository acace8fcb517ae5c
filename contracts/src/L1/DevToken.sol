// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";

/// @title DevToken
/// @notice Devnet-only ERC-20 with an open faucet. Anyone can mint any amount: NEVER deploy it
///         on a real network.
contract DevToken is ERC20 {
    /// @notice Mints `amount` to `to`. Open to anyone (devnet faucet).
    /// @param to     The recipient.
    /// @param amount The amount to mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The token name.
    /// @return The name, "Dev Token".
    function name() public pure override returns (string memory) {
        return "Dev Token";
    }

    /// @notice The token symbol.
    /// @return The symbol, "DEV".
    function symbol() public pure override returns (string memory) {
        return "DEV";
    }

    /// @dev No implicit infinite Permit2 allowance.
    function _givePermit2InfiniteAllowance() internal pure override returns (bool) {
        return false;
    }
}
