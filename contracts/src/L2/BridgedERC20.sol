// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";

/// @title BridgedERC20
/// @notice The L2 representation of an L1 ERC-20 token. The L2 bridge deploys one per L1 token
///         with CREATE2 (salt = the L1 token address); the constructor takes no arguments so the
///         init code hash is a constant and L1 can predict every L2 token address.
contract BridgedERC20 is ERC20 {
    /// @notice Thrown when a caller other than the bridge mints, burns or initializes.
    error BridgedERC20_NotBridge();

    /// @notice Thrown when `initialize` is called a second time.
    error BridgedERC20_AlreadyInitialized();

    /// @notice Thrown when `initialize` is given the zero address.
    error BridgedERC20_ZeroL1Token();

    /// @notice Emitted once, when the bridge binds this token to its L1 token.
    /// @param l1Token The L1 token this token represents.
    event Initialized(address indexed l1Token);

    /// @notice The bridge that deployed this token; the only account that may mint and burn.
    address public immutable bridge;

    /// @notice The L1 token this token represents (zero until initialized).
    address public l1Token;

    constructor() {
        bridge = msg.sender;
    }

    /// @dev Restricts a function to the deploying bridge.
    modifier onlyBridge() {
        if (msg.sender != bridge) revert BridgedERC20_NotBridge();
        _;
    }

    /// @notice Binds this token to its L1 token. Callable once, by the bridge.
    /// @param l1Token_ The L1 token this token represents.
    function initialize(address l1Token_) external onlyBridge {
        if (l1Token != address(0)) revert BridgedERC20_AlreadyInitialized();
        if (l1Token_ == address(0)) revert BridgedERC20_ZeroL1Token();
        l1Token = l1Token_;
        emit Initialized(l1Token_);
    }

    /// @notice Mints `amount` to `to`. Only the bridge, when finalizing a deposit.
    /// @param to     The recipient.
    /// @param amount The amount to mint.
    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from `from`. Only the bridge, when initiating a withdrawal.
    /// @param from   The holder whose tokens are burned.
    /// @param amount The amount to burn.
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }

    /// @notice The token name.
    /// @return The name, "Bridged ERC20".
    function name() public pure override returns (string memory) {
        return "Bridged ERC20";
    }

    /// @notice The token symbol.
    /// @return The symbol, "bERC20".
    function symbol() public pure override returns (string memory) {
        return "bERC20";
    }

    /// @dev No implicit infinite Permit2 allowance: allowances mean exactly what holders approved.
    function _givePermit2InfiniteAllowance() internal pure override returns (bool) {
        return false;
    }
}
