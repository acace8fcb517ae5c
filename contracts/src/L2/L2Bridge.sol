// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @title L2Bridge
/// @notice L2 side of the token bridge, placed in the L2 genesis at `Predeploys.L2_BRIDGE` from
///         its deployed bytecode. It therefore has no constructor logic and no immutables.
///         ERC-20 deposits arrive as system transactions from `Predeploys.DEPOSITOR` calling
///         `finalizeDeposit`; ETH deposits are credited natively by the deposit transaction.
///         Withdrawals start here: `withdraw` burns the bridged token (or takes the ETH, which
///         stays locked in this predeploy for good) and records the withdrawal's hash in
///         `sentWithdrawals`, which L1 proves against a proposed state root.
/// @dev    Storage layout (part of the protocol: L1 proves slots of this contract):
///         slot 0: `sentWithdrawals` (withdrawal `h` at `keccak256(abi.encode(h, uint256(0)))`,
///                 value 1 once sent); slot 1: `withdrawalNonce`. Append new state only after them.
contract L2Bridge {
    /// @notice Thrown when `finalizeDeposit` is called by anyone but the depositor system sender.
    error L2Bridge_NotDepositor();

    /// @notice Thrown when the L2 token named by the deposit is not the one derived from the L1 token.
    error L2Bridge_TokenMismatch();

    /// @notice Thrown when a deposit names the zero address as its L1 token.
    error L2Bridge_ZeroL1Token();

    /// @notice Thrown when a withdrawal's amount is zero.
    error L2Bridge_ZeroAmount();

    /// @notice Thrown when `msg.value` does not match the withdrawal (ETH: `amount`; ERC-20: zero).
    error L2Bridge_ValueMismatch();

    /// @notice Thrown when an ERC-20 withdrawal names an L2 token this bridge has not deployed.
    error L2Bridge_UnknownToken();

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

    /// @notice Emitted for every withdrawal.
    /// @param nonce          The withdrawal's nonce.
    /// @param from           The L2 account that withdrew.
    /// @param to             The L1 recipient.
    /// @param l1Token        The L1 token paid out, or address(0) for ETH.
    /// @param l2Token        The L2 token burned, or address(0) for ETH.
    /// @param amount         The amount.
    /// @param withdrawalHash The withdrawal's hash (`Withdrawals.hash`), its L1 identifier.
    event WithdrawalInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        bytes32 withdrawalHash
    );

    /// @notice Withdrawals sent, by hash. MUST stay at storage slot 0 (see the contract's @dev).
    mapping(bytes32 withdrawalHash => bool sent) public sentWithdrawals;

    /// @notice The nonce the next withdrawal receives; equals the number of withdrawals. Slot 1.
    uint256 public withdrawalNonce;

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

    /// @notice Starts a withdrawal of `amount` to `msg.sender` on L1. ETH: `l1Token == l2Token ==
    ///         address(0)` and `msg.value == amount` (the ETH stays locked here). ERC-20:
    ///         `msg.value == 0`, `l2Token == l2TokenOf(l1Token)` deployed by this bridge; burns
    ///         `amount` of it from `msg.sender`. Records the withdrawal hash in `sentWithdrawals`.
    /// @param l1Token The L1 token to receive, or address(0) for ETH.
    /// @param l2Token The L2 token to burn, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    /// @return withdrawalHash The withdrawal's hash, its identifier on L1.
    function withdraw(address l1Token, address l2Token, uint256 amount)
        external
        payable
        returns (bytes32 withdrawalHash)
    {
        if (amount == 0) revert L2Bridge_ZeroAmount();
        if (l1Token == address(0)) {
            if (l2Token != address(0)) revert L2Bridge_TokenMismatch();
            if (msg.value != amount) revert L2Bridge_ValueMismatch();
        } else {
            if (msg.value != 0) revert L2Bridge_ValueMismatch();
            if (l2Token != l2TokenOf(l1Token)) revert L2Bridge_TokenMismatch();
            if (l2Token.code.length == 0) revert L2Bridge_UnknownToken();
            if (BridgedERC20(l2Token).l1Token() != l1Token) revert L2Bridge_TokenMismatch();
        }

        uint256 nonce = withdrawalNonce;
        withdrawalNonce = nonce + 1;
        withdrawalHash = Withdrawals.hash(
            Withdrawals.Withdrawal({
                nonce: nonce, from: msg.sender, to: msg.sender, l1Token: l1Token, l2Token: l2Token, amount: amount
            })
        );
        sentWithdrawals[withdrawalHash] = true;
        emit WithdrawalInitiated(nonce, msg.sender, msg.sender, l1Token, l2Token, amount, withdrawalHash);

        // The bridge's own token: burning cannot re-enter.
        if (l1Token != address(0)) BridgedERC20(l2Token).burn(msg.sender, amount);
    }

    /// @notice The hash of a withdrawal (`Withdrawals.hash`).
    /// @param withdrawal The withdrawal.
    /// @return The withdrawal's hash.
    function hashWithdrawal(Withdrawals.Withdrawal calldata withdrawal) external pure returns (bytes32) {
        return Withdrawals.hash(withdrawal);
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
