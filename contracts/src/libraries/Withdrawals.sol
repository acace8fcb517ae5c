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
///         on another. Withdrawals are proven against the state root inside an `OutputRoot`, the
///         preimage of a proposal's root.
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

    /// @notice What a proposal claims about one L2 block, version 1: its state root and hash,
    ///         and where derivation stood when it became safe (the derivation cursor). A
    ///         proposal's root (`StateManager.Proposal.stateRoot`) is `hashOutputRoot` of it, so
    ///         withdrawals are proven against `stateRoot` inside it, and a dispute bisects over
    ///         these claims. Every field is a full word, so `abi.encode` of it is its fields in
    ///         order; the Rust node builds the same value (`rollup_primitives::OutputRoot`).
    /// @param version       The layout version, `OUTPUT_ROOT_VERSION`; any other is refused.
    /// @param l2BlockNumber The L2 block.
    /// @param stateRoot     Its state root (the root of the sparse Merkle trie of its state).
    /// @param l2BlockHash   Its hash.
    /// @param inboxRecord   The `BatchInbox` record it was derived from.
    /// @param blockInRecord Its position among that record's blocks, from 0.
    /// @param l1Block       The L1 block that appended that record (whose processing made the
    ///                      L2 block safe).
    struct OutputRoot {
        uint256 version;
        uint256 l2BlockNumber;
        bytes32 stateRoot;
        bytes32 l2BlockHash;
        uint256 inboxRecord;
        uint256 blockInRecord;
        uint256 l1Block;
    }

    /// @notice A withdrawal's proof, as `rollup_getWithdrawalProof` serves it: the output root
    ///         preimage of the proposal's L2 block, and a storage proof of the withdrawal's slot
    ///         against the state root inside it. `output` must hash to the proposal's root and
    ///         name its L2 block; `slot` is the caller's claim, checked against what L1 derives
    ///         so a wrong slot is reported precisely; the trie proof alone decides validity.
    /// @param output    The output root preimage (the result's `outputRoot`).
    /// @param slot      The L2 bridge storage slot proven (the result's `slot`).
    /// @param trieProof The trie proof of that slot against `output.stateRoot` (the result's
    ///                  `proof`).
    struct WithdrawalProof {
        OutputRoot output;
        uint256 slot;
        SparseMerkleTrie.Proof trieProof;
    }

    /// @notice The only `OutputRoot.version` there is.
    uint256 internal constant OUTPUT_ROOT_VERSION = 1;

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

    /// @notice The root a proposal carries for `output`.
    /// @param output The output root preimage.
    /// @return `keccak256(abi.encode(version, l2BlockNumber, stateRoot, l2BlockHash,
    ///         inboxRecord, blockInRecord, l1Block))`.
    function hashOutputRoot(OutputRoot memory output) internal pure returns (bytes32) {
        return keccak256(abi.encode(output));
    }

    /// @notice The L2 bridge storage slot recording the withdrawal `withdrawalHash`.
    /// @param withdrawalHash The withdrawal's hash.
    /// @return `keccak256(abi.encode(withdrawalHash, uint256(0)))` (Solidity mapping layout).
    function storageSlot(bytes32 withdrawalHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(withdrawalHash, SENT_WITHDRAWALS_SLOT));
    }
}
