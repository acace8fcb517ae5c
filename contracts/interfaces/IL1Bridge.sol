// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL1Bridge
/// @notice L1 side of the rollup's token bridge (the seed interface): locks ETH and ERC-20
///         tokens on L1 for the derivation to credit on L2, starts withdrawals from L1 (forced
///         withdrawals, the exit no sequencer can block) and pays out proven withdrawals.
interface IL1Bridge {
    /// @notice Emitted for every deposit. The rollup derivation decodes this log into an L2
    ///         deposit transaction, so its layout is part of the protocol: 4 topics (signature,
    ///         nonce, from, to) and the canonical ABI encoding of the other fields as data.
    /// @param nonce         Unique, gapless counter shared with forced withdrawals, from 0.
    /// @param from          The depositor's L2 identity: the caller if an EOA
    ///                      (`msg.sender == tx.origin`), else the caller's alias
    ///                      (`AddressAliasing.applyL1ToL2Alias`).
    /// @param to            The L2 account credited.
    /// @param l1Token       The L1 token locked, or address(0) for ETH.
    /// @param l2Token       The L2 token minted, or address(0) for ETH.
    /// @param amount        The amount locked on L1 and credited on L2.
    /// @param gasLimit      The gas limit of the L2 deposit transaction.
    /// @param refundTo      The L1 caller (not aliased): the recipient of the refund
    ///                      withdrawal if the ERC-20 credit fails on L2.
    /// @param tokenMetadata Empty for ETH; `abi.encode(string name, string symbol, uint8
    ///                      decimals)` of the L1 token for ERC-20 (strings cut to 64 bytes).
    event DepositInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit,
        address refundTo,
        bytes tokenMetadata
    );

    /// @notice Emitted for every forced withdrawal. The derivation turns it into an L2 deposit
    ///         transaction from `from` to the L2 bridge calling `withdrawTo(l1Token, l2Token,
    ///         amount, to)` (value `amount` for ETH, else 0; no mint) with gas `gasLimit`,
    ///         included within the sequencing window whether or not the sequencer cooperates.
    /// @param nonce    Unique, gapless counter shared with deposits.
    /// @param from     The L2 account withdrawing: the caller's L2 identity (aliased if a contract).
    /// @param to       The L1 recipient of the withdrawal.
    /// @param l1Token  The L1 token to receive, or address(0) for ETH.
    /// @param l2Token  The L2 token to burn, or address(0) for ETH.
    /// @param amount   The amount to withdraw.
    /// @param gasLimit The gas limit of the L2 transaction (`FORCED_WITHDRAWAL_GAS`).
    event ForcedWithdrawalInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit
    );

    /// @notice Locks `amount` of ETH (`l1Token == l2Token == address(0)`, `msg.value == amount`)
    ///         or of an ERC-20 token (pulled from the caller) and credits it on L2 to the
    ///         caller's L2 identity (its address if an EOA, its alias if a contract).
    /// @param l1Token  The L1 token, or address(0) for ETH.
    /// @param l2Token  The L2 token the deposit mints, or address(0) for ETH.
    /// @param amount   The amount to deposit.
    /// @param gasLimit The gas limit of the resulting L2 deposit transaction.
    function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable;

    /// @notice Starts a forced withdrawal of `amount` from the caller's L2 identity to the
    ///         caller on L1: the escape hatch that needs no sequencer. Once derivation has run
    ///         it on L2, the withdrawal is proven and finalized like any other.
    /// @param l1Token The L1 token, or address(0) for ETH.
    /// @param l2Token The L2 token, or address(0) for ETH.
    /// @param amount  The amount to withdraw.
    function withdraw(address l1Token, address l2Token, uint256 amount) external;

    /// @notice Pays out a withdrawal the caller proved, once the proposal it was proven against
    ///         is final.
    /// @param withdrawalId The withdrawal's identifier, `uint256` of its hash.
    /// @param recipient    The L1 recipient.
    /// @param amount       The amount to pay out.
    function finalizeWithdrawal(uint256 withdrawalId, address recipient, uint256 amount) external;
}
