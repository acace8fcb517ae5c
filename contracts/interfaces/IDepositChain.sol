// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDepositChain
/// @notice The L1 bridge's hash chain over its messages (deposits and forced withdrawals), with
///         one checkpoint per L1 block that has messages, so that the messages a batch must
///         include are fixed by L1 state alone: the BatchInbox checks a batch's deposit count
///         against `depositCountAt`, and a fraud proof opens the chain with `depositChainAt`.
/// @dev    For the message with nonce n (deposit: kind 0, forced withdrawal: kind 1):
///         `messageHash = keccak256(abi.encode(uint8 kind, uint256 nonce, address from, address
///         to, address l1Token, address l2Token, uint256 amount, uint32 gasLimit, address
///         refundTo, bytes32 keccak256(tokenMetadata)))` with the fields as the message's event
///         emits them (`refundTo` = 0 and `tokenMetadata` = "" for a forced withdrawal);
///         `chain_0 = 0`, `chain_{n+1} = keccak256(abi.encode(chain_n, messageHash))`.
interface IDepositChain {
    /// @notice The chain's state after the last message of one L1 block.
    /// @param l1Block The L1 block.
    /// @param count   The number of messages in L1 blocks up to and including `l1Block`.
    /// @param chain   The chain over those `count` messages.
    struct Checkpoint {
        uint64 l1Block;
        uint64 count;
        bytes32 chain;
    }

    /// @notice The chain over every message so far.
    /// @return count The number of messages (the next nonce).
    /// @return chain The chain over them (zero if none).
    function depositChain() external view returns (uint256 count, bytes32 chain);

    /// @notice The number of checkpoints: the number of L1 blocks that have messages.
    /// @return The checkpoint count.
    function checkpointCount() external view returns (uint256);

    /// @notice The checkpoint at `index` (checkpoints are in L1 block order, one per block).
    /// @param index The checkpoint index, below `checkpointCount()`.
    /// @return The checkpoint.
    function checkpoint(uint256 index) external view returns (Checkpoint memory);

    /// @notice The number of messages in L1 blocks up to and including `l1Block`.
    /// @param l1Block The L1 block.
    /// @return The message count (zero before the first message).
    function depositCountAt(uint256 l1Block) external view returns (uint256);

    /// @notice The chain over the messages in L1 blocks up to and including `l1Block`.
    /// @param l1Block The L1 block.
    /// @return count The number of those messages.
    /// @return chain The chain over them (zero if none).
    function depositChainAt(uint256 l1Block) external view returns (uint256 count, bytes32 chain);

    /// @notice The chain after message `nonce`, kept for every `DEPOSIT_CHAIN_MARK`-th message
    ///         (`nonce % DEPOSIT_CHAIN_MARK == DEPOSIT_CHAIN_MARK - 1`), so that a proof of one
    ///         message folds at most that many hashes even inside an L1 block full of messages.
    /// @param nonce The message's nonce.
    /// @return chain The chain over messages `0..=nonce`; zero if `nonce` is not a mark or was
    ///               appended before marks were kept.
    function depositChainMark(uint256 nonce) external view returns (bytes32 chain);
}
