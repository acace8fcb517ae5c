// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";

/// @title L2Bridge
/// @notice L2 side of the token bridge, placed in the L2 genesis at `Predeploys.L2_BRIDGE` from
///         its deployed bytecode. It therefore has no constructor logic and no immutables.
///         ERC-20 deposits arrive as system transactions from `Predeploys.DEPOSITOR` calling
///         `finalizeDeposit`; ETH deposits are credited natively by the deposit transaction.
contract L2Bridge {
    /// @notice Thrown when `finalizeDeposit` is called by anyone but the depositor system sender.
    error L2Bridge_NotDepositor();

    /// @notice Thrown when the L2 token named by the deposit is not the one derived from the L1 token.
    error L2Bridge_TokenMismatch();

    /// @notice Thrown when a deposit names the zero address as its L1 token.
    error L2Bridge_ZeroL1Token();

    /// @notice Emitted when the first deposit of an L1 token deploys its L2 token.
    /// @param l1Token The L1 token.
    /// @param l2Token The newly deployed `BridgedERC20`.
    event BridgedTokenDeployed(address indexed l1Token, address indexed l2Token);

    /// @notice Emitted when an ERC-20 deposit is credited on L2.
    /// @param l1Token The L1 token locked in the L1 bridge.
    /// @param l2Token The L2 token minted.
    /// @param from    The L1 depositor.
    /// @param to      The L2 recipient.
    /// @param amount  The amount minted.
    event DepositFinalized(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount
    );

    /// @notice Credits an ERC-20 deposit: deploys the L1 token's `BridgedERC20` on first use and
    ///         mints `amount` to `to`. Only callable by `Predeploys.DEPOSITOR`.
    /// @param l1Token The L1 token locked in the L1 bridge.
    /// @param l2Token The L2 token the deposit names; must equal `l2TokenOf(l1Token)`.
    /// @param from    The L1 depositor.
    /// @param to      The L2 recipient.
    /// @param amount  The amount to mint.
    function finalizeDeposit(address l1Token, address l2Token, address from, address to, uint256 amount) external {
        if (msg.sender != Predeploys.DEPOSITOR) revert L2Bridge_NotDepositor();
        if (l1Token == address(0)) revert L2Bridge_ZeroL1Token();
        if (l2Token != l2TokenOf(l1Token)) revert L2Bridge_TokenMismatch();

        if (l2Token.code.length == 0) {
            // Deploys at `l2Token` by construction of `l2TokenOf`.
            new BridgedERC20{salt: _salt(l1Token)}();
            BridgedERC20(l2Token).initialize(l1Token);
            emit BridgedTokenDeployed(l1Token, l2Token);
        }
        BridgedERC20(l2Token).mint(to, amount);
        emit DepositFinalized(l1Token, l2Token, from, to, amount);
    }

    /// @notice The L2 token of `l1Token`: the CREATE2 address of its `BridgedERC20`, whether or
    ///         not it is deployed yet.
    /// @param l1Token The L1 token.
    /// @return The L2 token address.
    function l2TokenOf(address l1Token) public view returns (address) {
        bytes32 hash = keccak256(
            abi.encodePacked(bytes1(0xff), address(this), _salt(l1Token), keccak256(type(BridgedERC20).creationCode))
        );
        return address(uint160(uint256(hash)));
    }

    /// @dev The CREATE2 salt of an L1 token's `BridgedERC20`.
    function _salt(address l1Token) private pure returns (bytes32) {
        return bytes32(uint256(uint160(l1Token)));
    }
}
