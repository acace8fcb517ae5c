// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";

/// @title Withdrawals
/// @notice The L2 -> L1 withdrawal format shared by `L2Bridge` (which records withdrawals) and
///         `L1Bridge` (which proves and pays them out). A withdrawal is identified by its hash;
///         `L2Bridge` stores `sentWithdrawals[hash] = true` in its mapping at storage slot 0, so
///         the withdrawal's trie key is `SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE,
///         storageSlot(hash))` and its value hash is `bytes32(uint256(1))` (a storage leaf's
///         value hash is the slot value itself).
///         The hash binds the withdrawal to one rollup and one bridge pair: the L2 chain id,
///         the L1 bridge (the address users interact with, i.e. its proxy) and the L2 bridge
///         predeploy, so a withdrawal recorded on one chain or for one L1 bridge never proves
///         on another.
library Withdrawals {
    /// @notice A withdrawal initiated on L2.
    /// @param nonce   The L2 bridge's sequential withdrawal nonce (makes every hash unique).
    /// @param from    The L2 account that withdrew.
    /// @param to      The L1 recipient.
    /// @param l1Token The L1 token paid out, or address(0) for ETH.
    /// @param l2Token The L2 token burned, or address(0) for ETH.
    /// @param amount  The amount.
    struct Withdrawal {
        uint256 nonce;
        address from;
        address to;
        address l1Token;
        address l2Token;
        uint256 amount;
    }

    /// @notice A withdrawal's storage proof, as `rollup_getProof(L2_BRIDGE, [slot])` serves it.
    ///         `stateRoot` and `slot` are the caller's claims, checked against what L1 derives so
    ///         a wrong root or a wrong slot is reported precisely; the trie proof alone decides
    ///         validity.
    /// @param stateRoot The state root the proof was generated against (the result's `stateRoot`).
    /// @param slot      The L2 bridge storage slot proven (`storageProof[0].slot`).
    /// @param trieProof The trie proof of that slot (`storageProof[0].proof`).
    struct WithdrawalProof {
        bytes32 stateRoot;
        uint256 slot;
        SparseMerkleTrie.Proof trieProof;
    }

    /// @notice Storage slot of the `L2Bridge.sentWithdrawals` mapping.
    uint256 internal constant SENT_WITHDRAWALS_SLOT = 0;

    /// @notice Value of a sent withdrawal's slot (`true`), which is also its trie value hash.
    bytes32 internal constant SENT_VALUE_HASH = bytes32(uint256(1));

    /// @notice The withdrawal's hash, its identifier on both layers.
    /// @param withdrawal The withdrawal.
    /// @param l2ChainId  The L2 chain id (`block.chainid` on L2, `L1Bridge.l2ChainId` on L1).
    /// @param l1Bridge   The L1 bridge that pays it out (`L2Bridge.l1Bridge` on L2,
    ///                   `address(this)` in the L1 bridge).
    /// @return `keccak256(abi.encode(l2ChainId, l1Bridge, Predeploys.L2_BRIDGE, nonce, from, to,
    ///         l1Token, l2Token, amount))`.
    function hash(Withdrawal memory withdrawal, uint256 l2ChainId, address l1Bridge) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                l2ChainId,
                l1Bridge,
                Predeploys.L2_BRIDGE,
                withdrawal.nonce,
                withdrawal.from,
                withdrawal.to,
                withdrawal.l1Token,
                withdrawal.l2Token,
                withdrawal.amount
            )
        );
    }

    /// @notice The L2 bridge storage slot recording the withdrawal `withdrawalHash`.
    /// @param withdrawalHash The withdrawal's hash.
    /// @return `keccak256(abi.encode(withdrawalHash, uint256(0)))` (Solidity mapping layout).
    function storageSlot(bytes32 withdrawalHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(withdrawalHash, SENT_WITHDRAWALS_SLOT));
    }
}
