// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL1Bridge
/// @notice L1 side of the rollup's token bridge: locks ETH and ERC-20 tokens on L1 for the
///         derivation to credit on L2.
interface IL1Bridge {
    /// @notice Emitted for every deposit. The rollup derivation decodes this log into an L2
    ///         deposit transaction, so its layout is part of the protocol: 4 topics (signature,
    ///         nonce, from, to) and 128 bytes of data (l1Token, l2Token, amount, gasLimit).
    /// @param nonce    Unique, gapless deposit counter starting at 0.
    /// @param from     The L1 account that made the deposit.
    /// @param to       The L2 account credited.
    /// @param l1Token  The L1 token locked, or address(0) for ETH.
    /// @param l2Token  The L2 token minted, or address(0) for ETH.
    /// @param amount   The amount locked on L1 and credited on L2.
    /// @param gasLimit The gas limit of the L2 deposit transaction.
    event DepositInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit
    );

    /// @notice Locks `amount` of ETH (`l1Token == l2Token == address(0)`, `msg.value == amount`)
    ///         or of an ERC-20 token (pulled from the caller) and credits it to the caller on L2.
    /// @param l1Token  The L1 token, or address(0) for ETH.
    /// @param l2Token  The L2 token the deposit mints, or address(0) for ETH.
    /// @param amount   The amount to deposit.
    /// @param gasLimit The gas limit of the resulting L2 deposit transaction.
    function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable;

    /// @notice Withdraws `amount` of `l1Token` bridged as `l2Token`.
    /// @param l1Token The L1 token, or address(0) for ETH.
    /// @param l2Token The L2 token, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    function withdraw(address l1Token, address l2Token, uint256 amount) external;

    /// @notice Pays out a proven withdrawal after the challenge period.
    /// @param withdrawalId The withdrawal's identifier.
    /// @param recipient    The L1 recipient.
    /// @param amount       The amount to pay out.
    function finalizeWithdrawal(bytes32 withdrawalId, address recipient, uint256 amount) external;
}
