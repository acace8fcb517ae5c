// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {IStateManager} from "interfaces/IStateManager.sol";

/// @title StateManager
/// @notice Records L2 output root proposals with their bonds. A proposal binds an L2 block
///         (number and hash), its output root and the batches it was derived from. It is final
///         once its challenge period has passed (measured from its L1 timestamp) unless the
///         dispute game removed it; a final proposal's bond returns to its proposer, a removed
///         proposal's bond goes where the dispute game says. A removed proposal never becomes
///         final, and a final proposal can no longer be removed.
///
///         Bonds move through a bond balance, so the seed's `submitStateRoot` stays non-payable:
///         `depositBond` credits the caller, `submitStateRoot` draws `proposalBond` from the
///         proposer's balance, `returnBond` and `removeProposal` credit the proposer or the
///         dispute game's recipient, and `withdrawBond` pays out. Nothing is ever pushed to an
///         account it did not ask for, so a recipient that rejects ETH cannot block a return
///         or a removal.
///
///         Output roots: the seed interface's `stateRoot` (the `submitStateRoot` argument, the
///         `Proposal` field, the `StateRootSubmitted` topic) carries the L2 block's OUTPUT ROOT,
///         `Withdrawals.hashOutputRoot(output)` = `keccak256(abi.encode(uint256 version,
///         uint256 l2BlockNumber, bytes32 stateRoot, bytes32 l2BlockHash, uint256 inboxRecord,
///         uint256 blockInRecord, uint256 l1Block))`, version 1: the block's state root and hash
///         and the derivation cursor (the `BatchInbox` record the block came from, its position
///         in it, the L1 block that appended the record). This contract stores the root as
///         given; `L1Bridge.proveWithdrawal` takes the preimage, checks it against the root and
///         the proposal's L2 block, and proves withdrawals against the state root inside it; the
///         dispute game bisects over these claims.
/// @dev    Bonds are conserved: this contract's balance is the sum of all bond balances plus
///         the bonds of proposals neither removed nor returned (plus any ETH forced in without a
///         call, which nobody can withdraw). The dispute game issue adds challenges (which will
///         also hold back finality while a game on the proposal is open) and
///         `verifyStateTransition`.
///
///         Runs behind a proxy: `challengePeriod` and `proposalBond` are immutables of the
///         implementation, everything else lives in the proxy's storage and is set by
///         `initialize`. The implementation itself can never be initialized. Storage is
///         append-only across upgrades (owner and initializer state sit in Solady's fixed slots).
contract StateManager is IStateManager, Ownable, Initializable {
    using SafeTransferLib for address;

    /// @notice An output root proposal.
    /// @param stateRoot     The proposed output root of the L2 block (`Withdrawals.OutputRoot`,
    ///                      hashed; the seed's name): commits to the block's state root, its
    ///                      hash and its derivation cursor.
    /// @param batchRoot     The commitment to the batches the L2 block range was derived from.
    /// @param l2BlockHash   The hash of the L2 block the proposal is for.
    /// @param l2BlockNumber The number of that L2 block.
    /// @param proposer      The account that proposed it (and gets the bond back).
    /// @param timestamp     The L1 timestamp of the proposal; the challenge period runs from it.
    /// @param l1Block       The L1 block of the proposal.
    /// @param removed       True once the dispute game removed it; it never becomes final then.
    /// @param bondReturned  True once the bond went back to the proposer.
    /// @param bond          The bond locked with it.
    struct Proposal {
        bytes32 stateRoot;
        bytes32 batchRoot;
        bytes32 l2BlockHash;
        uint64 l2BlockNumber;
        address proposer;
        uint64 timestamp;
        uint64 l1Block;
        bool removed;
        bool bondReturned;
        uint256 bond;
    }

    /// @notice Thrown when a caller other than the proposer submits an output root.
    error StateManager_NotProposer();

    /// @notice Thrown when a bond balance is smaller than the bond drawn or withdrawn from it.
    error StateManager_InsufficientBond();

    /// @notice Thrown when depositing or withdrawing a zero bond amount.
    error StateManager_ZeroAmount();

    /// @notice Thrown when constructing with a zero challenge period.
    error StateManager_ZeroChallengePeriod();

    /// @notice Thrown when an output (`stateRoot`) or batch root is zero.
    error StateManager_ZeroRoot();

    /// @notice Thrown when a proposal's L2 block hash is zero.
    error StateManager_ZeroBlockHash();

    /// @notice Thrown when `submitStateRoot`'s proof is not `abi.encode(uint64, bytes32)`.
    error StateManager_MalformedProof();

    /// @notice Thrown when a proposal's L2 block is not after the latest live proposal's.
    error StateManager_L2BlockNotIncreasing();

    /// @notice Thrown when the owner, proposer or dispute game would be the zero address.
    error StateManager_ZeroAddress();

    /// @notice Thrown when reading a proposal index that does not exist.
    error StateManager_UnknownProposal();

    /// @notice Thrown when there is no live (not removed) proposal.
    error StateManager_NoProposal();

    /// @notice Thrown when returning the bond of a proposal that is not final yet.
    error StateManager_ProposalNotFinal();

    /// @notice Thrown when returning the bond of, or removing, a removed proposal.
    error StateManager_ProposalRemoved();

    /// @notice Thrown when returning a bond a second time.
    error StateManager_BondAlreadyReturned();

    /// @notice Thrown when removing a proposal that is already final.
    error StateManager_ProposalFinal();

    /// @notice Thrown when a caller other than the dispute game removes a proposal.
    error StateManager_NotDisputeGame();

    /// @notice Thrown when setting the dispute game a second time.
    error StateManager_DisputeGameAlreadySet();

    /// @notice Thrown by functions the dispute game issue implements.
    error StateManager_NotImplemented();

    /// @notice Emitted for every proposal.
    /// @param index     The proposal's index, starting at 0.
    /// @param stateRoot The proposed output root (`Withdrawals.hashOutputRoot`).
    /// @param batchRoot The batch commitment.
    /// @param proposer  The proposer.
    event StateRootSubmitted(
        uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer
    );

    /// @notice Emitted with every `StateRootSubmitted`: the L2 block the proposal binds.
    /// @param index         The proposal's index.
    /// @param l2BlockNumber The L2 block number.
    /// @param l2BlockHash   The L2 block hash.
    event ProposalL2Block(uint256 indexed index, uint256 indexed l2BlockNumber, bytes32 l2BlockHash);

    /// @notice Emitted when a final proposal's bond goes back to its proposer's bond balance.
    /// @param index    The proposal's index.
    /// @param proposer The proposer credited.
    /// @param amount   The bond.
    event BondReturned(uint256 indexed index, address indexed proposer, uint256 amount);

    /// @notice Emitted when the dispute game removes a proposal.
    /// @param index         The proposal's index.
    /// @param bondRecipient The account whose bond balance is credited with the proposal's bond.
    /// @param bond          The bond.
    event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);

    /// @notice Emitted when an account adds ETH to its bond balance.
    /// @param account The account credited.
    /// @param amount  The wei added.
    event BondDeposited(address indexed account, uint256 amount);

    /// @notice Emitted when an account takes ETH out of its bond balance.
    /// @param account The account paid.
    /// @param amount  The wei withdrawn.
    event BondWithdrawn(address indexed account, uint256 amount);

    /// @notice Emitted when the proposer changes (including at initialization).
    /// @param previousProposer The old proposer (zero at initialization).
    /// @param newProposer      The new proposer.
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);

    /// @notice Emitted once, when the owner sets the dispute game.
    /// @param disputeGame The only account allowed to remove proposals.
    event DisputeGameSet(address indexed disputeGame);

    /// @notice Seconds after a proposal before it is final.
    uint256 public immutable challengePeriod;

    /// @notice The bond (wei) each proposal draws from its proposer's bond balance.
    uint256 public immutable proposalBond;

    /// @notice The only account allowed to submit output roots.
    address public proposer;

    /// @notice The only account allowed to remove proposals; set once by the owner.
    address public disputeGame;

    /// @dev Proposals, by index.
    Proposal[] private _proposals;

    /// @dev 1 + index of the latest live (not removed) proposal; 0 if there is none.
    uint256 private _latestLive;

    /// @dev 1 + index of the latest live proposal when proposal `index` was submitted (0: none);
    ///      followed back when the latest live proposal is removed.
    mapping(uint256 index => uint256 previousLive) private _previousLive;

    /// @notice Wei each account holds here for bonds: deposited, or credited by a returned or
    ///         removed proposal, and not yet drawn by a proposal or withdrawn.
    mapping(address account => uint256 balance) public bondBalance;

    /// @notice Sets the immutables of the implementation and locks it: only a proxy's storage
    ///         is ever initialized.
    /// @param challengePeriod_ Seconds after a proposal before it is final; never zero.
    /// @param proposalBond_    The bond (wei) each proposal draws from its proposer's balance.
    constructor(uint256 challengePeriod_, uint256 proposalBond_) {
        if (challengePeriod_ == 0) revert StateManager_ZeroChallengePeriod();
        challengePeriod = challengePeriod_;
        proposalBond = proposalBond_;
        _disableInitializers();
    }

    /// @notice Sets the owner and the proposer of a proxy. Once; the proxy's constructor calls
    ///         it, so nobody can initialize a deployed proxy in between.
    /// @param owner_    The account that may change the proposer and set the dispute game (the
    ///                  timelock in production).
    /// @param proposer_ The account that may submit output roots.
    function initialize(address owner_, address proposer_) external initializer {
        if (owner_ == address(0) || proposer_ == address(0)) revert StateManager_ZeroAddress();
        _initializeOwner(owner_);
        proposer = proposer_;
        emit ProposerUpdated(address(0), proposer_);
    }

    /// @notice Adds `msg.value` to the caller's bond balance, from which its proposals draw
    ///         their bonds.
    function depositBond() external payable {
        if (msg.value == 0) revert StateManager_ZeroAmount();
        bondBalance[msg.sender] += msg.value;
        emit BondDeposited(msg.sender, msg.value);
    }

    /// @notice Pays `amount` wei of the caller's bond balance to the caller. Bonds locked in
    ///         live proposals are not part of the balance until returned.
    /// @param amount The wei to withdraw.
    function withdrawBond(uint256 amount) external {
        if (amount == 0) revert StateManager_ZeroAmount();
        uint256 balance = bondBalance[msg.sender];
        if (balance < amount) revert StateManager_InsufficientBond();
        bondBalance[msg.sender] = balance - amount;
        emit BondWithdrawn(msg.sender, amount);
        msg.sender.safeTransferETH(amount);
    }

    /// @inheritdoc IStateManager
    /// @dev Only the proposer, whose bond balance must hold `proposalBond` (drawn here, locked
    ///      with the proposal). `proof` is
    ///      `abi.encode(uint64 l2BlockNumber, bytes32 l2BlockHash)` (exactly 64 bytes): the
    ///      proposal binds the L2 block whose output root is `stateRoot` and whose block range
    ///      was derived from the batches `batchRoot` commits to. `stateRoot` carries the output
    ///      root (`Withdrawals.hashOutputRoot` of the block's `Withdrawals.OutputRoot`, whose
    ///      `l2BlockNumber` and `l2BlockHash` must equal the ones in `proof` for withdrawals to
    ///      prove against it); it is stored as given, its preimage is checked where it is used.
    ///      Roots and block hash must be non-zero; `l2BlockNumber` must exceed the latest live
    ///      proposal's. Emits `StateRootSubmitted` and `ProposalL2Block`.
    function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) external {
        if (msg.sender != proposer) revert StateManager_NotProposer();
        if (stateRoot == bytes32(0) || batchRoot == bytes32(0)) revert StateManager_ZeroRoot();
        if (proof.length != 64) revert StateManager_MalformedProof();
        uint256 l2BlockNumber = uint256(bytes32(proof[0:32]));
        bytes32 l2BlockHash = bytes32(proof[32:64]);
        if (l2BlockNumber > type(uint64).max) revert StateManager_MalformedProof();
        if (l2BlockHash == bytes32(0)) revert StateManager_ZeroBlockHash();
        uint256 latest = _latestLive;
        if (latest != 0 && l2BlockNumber <= _proposals[latest - 1].l2BlockNumber) {
            revert StateManager_L2BlockNotIncreasing();
        }

        uint256 bond = proposalBond;
        uint256 balance = bondBalance[msg.sender];
        if (balance < bond) revert StateManager_InsufficientBond();
        bondBalance[msg.sender] = balance - bond;

        uint256 index = _proposals.length;
        _proposals.push(
            Proposal({
                stateRoot: stateRoot,
                batchRoot: batchRoot,
                l2BlockHash: l2BlockHash,
                // casting to 'uint64' is safe because it was checked above
                // forge-lint: disable-next-line(unsafe-typecast)
                l2BlockNumber: uint64(l2BlockNumber),
                proposer: msg.sender,
                timestamp: uint64(block.timestamp),
                l1Block: uint64(block.number),
                removed: false,
                bondReturned: false,
                bond: bond
            })
        );
        _previousLive[index] = latest;
        _latestLive = index + 1;
        emit StateRootSubmitted(index, stateRoot, batchRoot, msg.sender);
        emit ProposalL2Block(index, l2BlockNumber, l2BlockHash);
    }

    /// @inheritdoc IStateManager
    /// @dev Not implemented yet: always reverts `StateManager_NotImplemented`. The dispute game
    ///      issue implements the one-step verifier here (through an upgrade of this proxy's
    ///      implementation); the game calls it for the last disputed step and then
    ///      `removeProposal` when the proposer loses. Non-view as the seed declares it: the
    ///      one-step verifier reads and updates state on L1. `virtual` is the deliberate way to
    ///      keep that mutability without a body that needs it yet (solc does not suggest
    ///      narrowing the mutability of a function an override may give a state-changing body).
    function verifyStateTransition(bytes32, bytes32, bytes calldata) external virtual returns (bool) {
        revert StateManager_NotImplemented();
    }

    /// @notice Credits the bond of a final proposal back to its proposer's bond balance. Anyone
    ///         may call it; it credits exactly once.
    /// @param index The proposal index.
    function returnBond(uint256 index) external {
        Proposal storage p = _proposal(index);
        if (p.removed) revert StateManager_ProposalRemoved();
        if (p.bondReturned) revert StateManager_BondAlreadyReturned();
        if (!_isFinal(p)) revert StateManager_ProposalNotFinal();
        p.bondReturned = true;
        address to = p.proposer;
        uint256 amount = p.bond;
        bondBalance[to] += amount;
        emit BondReturned(index, to, amount);
    }

    /// @notice Removes a proposal that is not final yet and credits its bond to
    ///         `bondRecipient`'s bond balance (withdrawn with `withdrawBond`).
    ///         Only the dispute game (the challenger that won). A removed proposal never
    ///         becomes final, and withdrawals proven against it must be proven again.
    /// @param index         The proposal index.
    /// @param bondRecipient The account paid the proposal's bond.
    function removeProposal(uint256 index, address bondRecipient) external {
        if (msg.sender != disputeGame) revert StateManager_NotDisputeGame();
        if (bondRecipient == address(0)) revert StateManager_ZeroAddress();
        Proposal storage p = _proposal(index);
        if (p.removed) revert StateManager_ProposalRemoved();
        if (_isFinal(p)) revert StateManager_ProposalFinal();
        p.removed = true;
        if (_latestLive == index + 1) {
            // Walk back to the latest proposal still live; `_previousLive` skips the proposals
            // already removed when `index` was submitted.
            uint256 previous = _previousLive[index];
            while (previous != 0 && _proposals[previous - 1].removed) {
                previous = _previousLive[previous - 1];
            }
            _latestLive = previous;
        }
        uint256 bond = p.bond;
        bondBalance[bondRecipient] += bond;
        emit ProposalRemoved(index, bondRecipient, bond);
    }

    /// @notice Sets the dispute game, the only account allowed to remove proposals. Only the
    ///         owner, once.
    /// @param disputeGame_ The dispute game.
    function setDisputeGame(address disputeGame_) external onlyOwner {
        if (disputeGame_ == address(0)) revert StateManager_ZeroAddress();
        if (disputeGame != address(0)) revert StateManager_DisputeGameAlreadySet();
        disputeGame = disputeGame_;
        emit DisputeGameSet(disputeGame_);
    }

    /// @notice Replaces the proposer. Only the owner.
    /// @param newProposer The new proposer.
    function setProposer(address newProposer) external onlyOwner {
        if (newProposer == address(0)) revert StateManager_ZeroAddress();
        address previous = proposer;
        proposer = newProposer;
        emit ProposerUpdated(previous, newProposer);
    }

    /// @notice Whether the proposal at `index` is final: not removed and its challenge period
    ///         has passed.
    /// @param index The proposal index.
    /// @return True once `block.timestamp >= proposal.timestamp + challengePeriod`, unless removed.
    function isFinal(uint256 index) external view returns (bool) {
        return _isFinal(_proposal(index));
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
        return _proposal(index);
    }

    /// @notice The latest live (not removed) proposal, the one the next proposal must follow.
    /// @return index    Its index.
    /// @return proposal The proposal.
    function latestProposal() external view returns (uint256 index, Proposal memory proposal) {
        uint256 latest = _latestLive;
        if (latest == 0) revert StateManager_NoProposal();
        index = latest - 1;
        proposal = _proposals[index];
    }

    /// @dev The proposal at `index`; reverts `StateManager_UnknownProposal` if there is none.
    function _proposal(uint256 index) private view returns (Proposal storage) {
        if (index >= _proposals.length) revert StateManager_UnknownProposal();
        return _proposals[index];
    }

    /// @dev Not removed and past the challenge period (defined in L1 time; proposer-side skew of
    ///      seconds is immaterial).
    function _isFinal(Proposal storage p) private view returns (bool) {
        // forge-lint: disable-next-line(block-timestamp)
        return !p.removed && block.timestamp >= uint256(p.timestamp) + challengePeriod;
    }
}
