// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";

/// @title BatchInbox
/// @notice Records a commitment (keccak256 of the calldata) to every L2 batch the batcher posts,
///         so the fraud-proof verifier can open any byte the state transition depends on.
/// @dev    Runs behind a proxy: `initialize` sets the owner and batcher in the proxy's storage;
///         the implementation itself can never be initialized. Storage is append-only across
///         upgrades (owner and initializer state sit in Solady's fixed slots).
contract BatchInbox is Ownable, Initializable {
    /// @notice A posted batch.
    /// @param commitment keccak256 of the batch data.
    /// @param l1Block    The L1 block the batch was posted in.
    /// @param timestamp  The timestamp of that L1 block.
    struct Batch {
        bytes32 commitment;
        uint64 l1Block;
        uint64 timestamp;
    }

    /// @notice Thrown when a caller other than the batcher posts a batch.
    error BatchInbox_NotBatcher();

    /// @notice Thrown when a batch has no data.
    error BatchInbox_EmptyBatch();

    /// @notice Thrown when the owner or batcher would be the zero address.
    error BatchInbox_ZeroAddress();

    /// @notice Thrown when reading a batch index that was never posted.
    error BatchInbox_UnknownBatch();

    /// @notice Emitted for every posted batch.
    /// @param index      The batch's index, starting at 0.
    /// @param commitment keccak256 of the batch data.
    /// @param length     The batch data length in bytes.
    event BatchPosted(uint256 indexed index, bytes32 indexed commitment, uint256 length);

    /// @notice Emitted when the batcher changes (including at initialization).
    /// @param previousBatcher The old batcher (zero at initialization).
    /// @param newBatcher      The new batcher.
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);

    /// @notice The only account allowed to post batches.
    address public batcher;

    /// @dev Posted batches, by index.
    Batch[] private _batches;

    /// @notice Locks the implementation: only a proxy's storage is ever initialized.
    constructor() {
        _disableInitializers();
    }

    /// @notice Sets the owner and the batcher of a proxy. Once; the proxy's constructor calls
    ///         it, so nobody can initialize a deployed proxy in between.
    /// @param owner_   The account that may change the batcher (the timelock in production).
    /// @param batcher_ The account that may post batches.
    function initialize(address owner_, address batcher_) external initializer {
        if (owner_ == address(0) || batcher_ == address(0)) revert BatchInbox_ZeroAddress();
        _initializeOwner(owner_);
        batcher = batcher_;
        emit BatcherUpdated(address(0), batcher_);
    }

    /// @notice Posts a batch: records keccak256(`data`) with the current L1 block and timestamp.
    ///         Only the batcher.
    /// @param data The encoded batch.
    function postBatch(bytes calldata data) external {
        if (msg.sender != batcher) revert BatchInbox_NotBatcher();
        if (data.length == 0) revert BatchInbox_EmptyBatch();
        bytes32 commitment = keccak256(data);
        uint256 index = _batches.length;
        _batches.push(
            Batch({commitment: commitment, l1Block: uint64(block.number), timestamp: uint64(block.timestamp)})
        );
        emit BatchPosted(index, commitment, data.length);
    }

    /// @notice Replaces the batcher. Only the owner.
    /// @param newBatcher The new batcher.
    function setBatcher(address newBatcher) external onlyOwner {
        if (newBatcher == address(0)) revert BatchInbox_ZeroAddress();
        address previous = batcher;
        batcher = newBatcher;
        emit BatcherUpdated(previous, newBatcher);
    }

    /// @notice The number of batches posted.
    /// @return The batch count; the next batch gets this index.
    function batchCount() external view returns (uint256) {
        return _batches.length;
    }

    /// @notice The batch at `index`.
    /// @param index The batch index.
    /// @return The recorded batch.
    function batches(uint256 index) external view returns (Batch memory) {
        if (index >= _batches.length) revert BatchInbox_UnknownBatch();
        return _batches[index];
    }
}
