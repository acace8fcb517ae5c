// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "solady/auth/Ownable.sol";
import {IStateManager} from "interfaces/IStateManager.sol";

/// @title StateManager
/// @notice Records L2 state root proposals. A proposal is final once its challenge period has
///         passed. Skeleton: the dispute game issue adds challenges, bond settlement and
///         `verifyStateTransition`.
contract StateManager is IStateManager, Ownable {
    /// @notice A state root proposal.
    /// @param stateRoot The proposed L2 state (output) root.
    /// @param batchRoot The commitment to the batches it was derived from.
    /// @param proposer  The account that proposed it.
    /// @param timestamp The L1 timestamp of the proposal.
    /// @param l1Block   The L1 block of the proposal.
    /// @param bond      The bond locked with it.
    struct Proposal {
        bytes32 stateRoot;
        bytes32 batchRoot;
        address proposer;
        uint64 timestamp;
        uint64 l1Block;
        uint256 bond;
    }

    /// @notice Thrown when a caller other than the proposer submits a state root.
    error StateManager_NotProposer();

    /// @notice Thrown when `msg.value` differs from `proposalBond`.
    error StateManager_IncorrectBond();

    /// @notice Thrown when a state or batch root is zero.
    error StateManager_ZeroRoot();

    /// @notice Thrown when the owner or proposer would be the zero address.
    error StateManager_ZeroAddress();

    /// @notice Thrown when reading a proposal index that does not exist.
    error StateManager_UnknownProposal();

    /// @notice Thrown by functions the dispute game issue implements.
    error StateManager_NotImplemented();

    /// @notice Emitted for every proposal.
    /// @param index     The proposal's index, starting at 0.
    /// @param stateRoot The proposed state root.
    /// @param batchRoot The batch commitment.
    /// @param proposer  The proposer.
    event StateRootSubmitted(
        uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer
    );

    /// @notice Emitted when the proposer changes (including at construction).
    /// @param previousProposer The old proposer (zero at construction).
    /// @param newProposer      The new proposer.
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);

    /// @notice Seconds after a proposal before it is final.
    uint256 public immutable challengePeriod;

    /// @notice The exact bond (wei) each proposal must lock.
    uint256 public immutable proposalBond;

    /// @notice The only account allowed to submit state roots.
    address public proposer;

    /// @dev Proposals, by index.
    Proposal[] private _proposals;

    /// @param owner_           The account that may change the proposer.
    /// @param proposer_        The account that may submit state roots.
    /// @param challengePeriod_ Seconds after a proposal before it is final.
    /// @param proposalBond_    The bond (wei) each proposal must lock.
    constructor(address owner_, address proposer_, uint256 challengePeriod_, uint256 proposalBond_) {
        if (owner_ == address(0) || proposer_ == address(0)) revert StateManager_ZeroAddress();
        _initializeOwner(owner_);
        proposer = proposer_;
        challengePeriod = challengePeriod_;
        proposalBond = proposalBond_;
        emit ProposerUpdated(address(0), proposer_);
    }

    /// @inheritdoc IStateManager
    /// @dev Only the proposer, with `msg.value == proposalBond` and non-zero roots. `proof` is
    ///      not checked yet (the dispute game issue defines it). The bond stays locked until bond
    ///      settlement lands with the dispute game.
    function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata) external payable {
        if (msg.sender != proposer) revert StateManager_NotProposer();
        if (msg.value != proposalBond) revert StateManager_IncorrectBond();
        if (stateRoot == bytes32(0) || batchRoot == bytes32(0)) revert StateManager_ZeroRoot();
        uint256 index = _proposals.length;
        _proposals.push(
            Proposal({
                stateRoot: stateRoot,
                batchRoot: batchRoot,
                proposer: msg.sender,
                timestamp: uint64(block.timestamp),
                l1Block: uint64(block.number),
                bond: msg.value
            })
        );
        emit StateRootSubmitted(index, stateRoot, batchRoot, msg.sender);
    }

    /// @inheritdoc IStateManager
    /// @dev Not implemented yet: always reverts `StateManager_NotImplemented`. The dispute game
    ///      issue implements the one-step verifier here.
    function verifyStateTransition(bytes32, bytes32, bytes calldata) external pure returns (bool) {
        revert StateManager_NotImplemented();
    }

    /// @notice Replaces the proposer. Only the owner.
    /// @param newProposer The new proposer.
    function setProposer(address newProposer) external onlyOwner {
        if (newProposer == address(0)) revert StateManager_ZeroAddress();
        address previous = proposer;
        proposer = newProposer;
        emit ProposerUpdated(previous, newProposer);
    }

    /// @notice Whether the proposal at `index` is final (its challenge period has passed).
    /// @param index The proposal index.
    /// @return True once `block.timestamp >= proposal.timestamp + challengePeriod`.
    function isFinal(uint256 index) external view returns (bool) {
        if (index >= _proposals.length) revert StateManager_UnknownProposal();
        // The challenge period is defined in L1 time; proposer-side skew of seconds is immaterial.
        // forge-lint: disable-next-line(block-timestamp)
        return block.timestamp >= uint256(_proposals[index].timestamp) + challengePeriod;
    }

    /// @notice The number of proposals.
    /// @return The proposal count; the next proposal gets this index.
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// @notice The proposal at `index`.
    /// @param index The proposal index.
    /// @return The recorded proposal.
    function proposals(uint256 index) external view returns (Proposal memory) {
        if (index >= _proposals.length) revert StateManager_UnknownProposal();
        return _proposals[index];
    }
}
