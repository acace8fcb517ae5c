// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OwnableNoValue} from "src/libraries/OwnableNoValue.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {IStateManager} from "interfaces/IStateManager.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {L1BlockHashes} from "src/libraries/L1BlockHashes.sol";

/// @title StateManager
/// @notice Records L2 output root proposals with their bonds. A proposal binds an L2 block
///         (number and hash), its output root and the batches it was derived from. It is final
///         once its challenge period has passed (measured from its L1 timestamp) unless the
///         dispute game removed it; a final proposal's bond returns to its proposer, half of a
///         removed proposal's bond goes where the dispute game says and the other half is
///         burned. A removed proposal never becomes final, and a final proposal can no longer be
///         removed.
///
///         Bonds move through a bond balance, so the seed's `submitStateRoot` stays non-payable:
///         `depositBond` credits the caller, `submitStateRoot` draws `proposalBond` from the
///         proposer's balance, `returnBond` and `removeProposal` credit the proposer or the
///         dispute game's recipient (`removeProposal` burns the other half, `burnedBonds`), and
///         `withdrawBond` pays out. Nothing is ever pushed to an
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
///         the bonds of proposals neither removed nor returned plus `burnedBonds` (plus any ETH
///         forced in without a call, which nobody can withdraw). A proposal with an open game is not final (`openGame`,
///         `closeGame`: a game contract closes only the games it opened), and
///         `verifyStateTransition` forwards to the one-step verifier.
///
///         Runs behind a proxy: `challengePeriod` and `proposalBond` are immutables of the
///         implementation, everything else lives in the proxy's storage and is set by
///         `initialize`. The implementation itself can never be initialized. Storage is
///         append-only across upgrades (owner and initializer state sit in Solady's fixed slots).
contract StateManager is IStateManager, OwnableNoValue, Initializable {
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

    /// @notice Thrown when `submitStateRoot`'s proof is none of its three forms (64, 96 or 160
    ///         bytes) or names an L2 block number above 2^64 - 1.
    error StateManager_MalformedProof();

    /// @notice Thrown when a proposal names an L1 block whose hash L1 no longer tells (older
    ///         than 256 blocks without the EIP-2935 history contract, or than 8 191) or does
    ///         not tell yet (the current block or a later one).
    /// @param l1Block The L1 block the proposal named.
    error StateManager_L1BlockHashUnavailable(uint256 l1Block);

    /// @notice Thrown when a proposal names an L1 block by a hash that is not L1's: it was
    ///         derived from an L1 chain that a reorg has since replaced (or was replayed onto
    ///         another).
    /// @param l1Block The L1 block the proposal named.
    error StateManager_L1BlockHashMismatch(uint256 l1Block);

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

    /// @notice Thrown when the anchor a proposal names is not final, was removed, does not
    ///         exist, or is not below the proposed L2 block.
    error StateManager_BadAnchor();

    /// @notice Thrown when challenging a proposal whose challenge period has passed.
    error StateManager_ChallengePeriodOver();

    /// @notice Thrown when a game contract closes a game on a proposal where it has none open.
    error StateManager_NoOpenGame();

    /// @notice Thrown by `verifyStateTransition` while no one-step verifier is set.
    error StateManager_NoVerifier();

    /// @notice Thrown when proposing an L2 block the batch inbox has not recorded yet: no
    ///         batch on L1 contains it, so no proposal of it can be true or disputed.
    /// @param l2Block   The proposed L2 block.
    /// @param nextBlock The first L2 block the inbox has not recorded.
    error StateManager_BlockNotInInbox(uint256 l2Block, uint256 nextBlock);

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
    /// @param bondRecipient The account whose bond balance is credited with the reward.
    /// @param bond          The reward credited: `REMOVAL_REWARD_BPS` of the proposal's bond.
    event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);

    /// @notice Emitted when a removal burns the rest of the proposal's bond.
    /// @param index  The proposal's index.
    /// @param amount The wei burned (kept here for good; see `burnedBonds`).
    event BondBurned(uint256 indexed index, uint256 amount);

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

    /// @notice Emitted when the owner sets the dispute game (again: an upgrade).
    /// @param disputeGame The contract new challenges are opened in.
    event DisputeGameSet(address indexed disputeGame);

    /// @notice Emitted when the owner sets the one-step verifier `verifyStateTransition` uses.
    /// @param verifier The verifier.
    event OneStepVerifierSet(address indexed verifier);

    /// @notice Emitted when the owner sets the batch inbox proposals are checked against.
    /// @param inbox The inbox.
    event BatchInboxSet(address indexed inbox);

    /// @notice Emitted when the owner opens or closes proposing to everybody.
    /// @param permissionless True when anyone may propose.
    event PermissionlessProposalsSet(bool permissionless);

    /// @notice Emitted when a dispute game opens a game on a proposal.
    /// @param index     The proposal.
    /// @param game      The dispute game contract.
    /// @param openGames The proposal's open games, this one included.
    event ProposalChallenged(uint256 indexed index, address indexed game, uint256 openGames);

    /// @notice Emitted when a dispute game closes a game on a proposal the proposer defended.
    /// @param index     The proposal.
    /// @param game      The dispute game contract.
    /// @param openGames The proposal's games still open.
    event ProposalDefended(uint256 indexed index, address indexed game, uint256 openGames);

    /// @notice The share of a removed proposal's bond credited to whoever the dispute game names
    ///         (the challenger that won), in basis points; the rest is burned. Not all of it:
    ///         anyone may open any number of games on a proposal, so a proposer caught lying
    ///         could win the race to remove its own proposal from a second account, in a game it
    ///         plays on both sides, and take its whole bond back. Half of the bond is lost
    ///         whoever removes the proposal (as Arbitrum's rollup split a losing stake).
    uint256 public constant REMOVAL_REWARD_BPS = 5_000;

    /// @notice Seconds after a proposal before it is final.
    uint256 public immutable challengePeriod;

    /// @notice The bond (wei) each proposal draws from its proposer's bond balance.
    uint256 public immutable proposalBond;

    /// @notice The only account allowed to submit output roots.
    address public proposer;

    /// @notice The dispute game new challenges are opened in; the owner (the timelock) may
    ///         replace it (part 2 of the fraud proof). Every game contract ever set keeps the
    ///         right to close the games it opened (`isDisputeGame`).
    address public disputeGame;

    /// @dev Proposals, by index.
    Proposal[] private _proposals;

    /// @dev 1 + index of the latest live (not removed) proposal; 0 if there is none.
    uint256 private _latestLive;

    /// @dev 1 + index of the live proposal before proposal `index` (0: none): the head when
    ///      `index` was submitted, mended whenever the one it names is removed; followed back
    ///      when the latest live proposal is removed.
    mapping(uint256 index => uint256 previousLive) private _previousLive;

    /// @notice Wei each account holds here for bonds: deposited, or credited by a returned or
    ///         removed proposal, and not yet drawn by a proposal or withdrawn.
    mapping(address account => uint256 balance) public bondBalance;

    /// @notice What the fraud proof adds to a proposal (kept beside `Proposal` so the proposal
    ///         array's layout stays that of earlier implementations).
    /// @param anchor      1 + the index of the final proposal the proposal's range starts at, or
    ///                    0 for the L2 genesis: a dispute bisects the L2 blocks after the anchor.
    /// @param openGames   Games on the proposal not yet closed; it is not final while any is.
    /// @param allowlisted Whether the proposer was the allowlisted proposer when it proposed (a
    ///                    game that reaches a step no verifier can prove yet resolves for an
    ///                    allowlisted proposer only).
    struct ProposalDispute {
        uint64 anchor;
        uint64 openGames;
        bool allowlisted;
    }

    /// @dev Dispute data of each proposal, by index.
    mapping(uint256 index => ProposalDispute) private _disputes;

    /// @notice Whether `account` is or was the dispute game: the contracts allowed to open,
    ///         close and win games on proposals.
    mapping(address account => bool) public isDisputeGame;

    /// @notice The one-step verifier behind `verifyStateTransition`; the owner may replace it.
    address public oneStepVerifier;

    /// @notice When true anyone may propose (the devnet's switch); otherwise only `proposer`.
    ///         Stays false in every non-devnet preset until the EVM one-step exists.
    bool public permissionlessProposals;

    /// @dev 1 + index of each proposer's latest live proposal (0: none).
    mapping(address proposer => uint256 latest) private _latestLiveOf;

    /// @dev 1 + index of the proposer's live proposal before proposal `index` (0: none), kept
    ///      as `_previousLive` is; followed back when that proposal is removed.
    mapping(uint256 index => uint256 previousLive) private _previousLiveOf;

    /// @dev Open games on each proposal by each game contract: a contract closes only the games
    ///      it opened, so no other holder of `isDisputeGame` (a guardian, a replaced game) can
    ///      make a proposal final under a running game and lock that game's bonds.
    mapping(uint256 index => mapping(address game => uint256 open)) private _openGamesBy;

    /// @notice The batch inbox whose recorded blocks bound what may be proposed: a proposal's
    ///         L2 block must be below its `nextBlock()`. Zero (unset) checks nothing.
    address public batchInbox;

    /// @dev 1 + index of the live proposal submitted next after proposal `index` while it was
    ///      live (0: none): the other half of `_previousLive`'s links, so that removing any
    ///      proposal mends its neighbours in constant gas (a removal walking back over removed
    ///      proposals could cost more than a block holds, and jam the game that removes it).
    mapping(uint256 index => uint256 nextLive) private _nextLive;

    /// @dev The same as `_nextLive` within each proposer's own chain (`_previousLiveOf`).
    mapping(uint256 index => uint256 nextLive) private _nextLiveOf;

    /// @notice Wei of removed proposals' bonds that no account was credited: they stay in this
    ///         contract and nothing can withdraw them.
    uint256 public burnedBonds;

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
    /// @dev Only the allowlisted `proposer`, unless `permissionlessProposals`; the caller's bond
    ///      balance must hold `proposalBond` (drawn here, locked with the proposal). `proof` is
    ///      `abi.encode(uint64 l2BlockNumber, bytes32 l2BlockHash)` (64 bytes, anchored on the
    ///      L2 genesis) or `abi.encode(uint64 l2BlockNumber, bytes32 l2BlockHash, uint256 anchor)`
    ///      (96 bytes) where `anchor` is 1 + the index of a final proposal below `l2BlockNumber`
    ///      (0: the genesis): a dispute bisects the blocks between the anchor and the proposal,
    ///      so an honest proposer anchors on the latest final proposal; or that with
    ///      `uint256 l1BlockNumber, bytes32 l1BlockHash` appended (160 bytes), an L1 block the
    ///      output was derived from (the one that appended the block's inbox record, or a later
    ///      one) and its hash, which must be L1's: an L1 reorg that moved the record turns the
    ///      proposal, sent again from the mempool onto the new chain, into a revert instead of a
    ///      false proposal that loses its bond. `stateRoot` carries the
    ///      output root (`Withdrawals.hashOutputRoot` of the block's `Withdrawals.OutputRoot`),
    ///      stored as given; its preimage is checked where it is used. Roots and block hash must
    ///      be non-zero; `l2BlockNumber` must exceed the caller's own latest live proposal's.
    ///      Several proposals may exist for one block: a false one never blocks an honest one.
    ///      The proposal's L1 horizon is its `l1Block`: the inbox records and bridge messages of
    ///      earlier L1 blocks. Emits `StateRootSubmitted` and `ProposalL2Block`.
    function submitStateRoot(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) external {
        bool allowlisted = msg.sender == proposer;
        if (!allowlisted && !permissionlessProposals) revert StateManager_NotProposer();
        if (stateRoot == bytes32(0) || batchRoot == bytes32(0)) revert StateManager_ZeroRoot();
        if (proof.length != 64 && proof.length != 96 && proof.length != 160) revert StateManager_MalformedProof();
        uint256 l2BlockNumber = uint256(bytes32(proof[0:32]));
        bytes32 l2BlockHash = bytes32(proof[32:64]);
        uint256 anchor = proof.length >= 96 ? uint256(bytes32(proof[64:96])) : 0;
        if (l2BlockNumber > type(uint64).max) revert StateManager_MalformedProof();
        if (l2BlockHash == bytes32(0)) revert StateManager_ZeroBlockHash();
        if (proof.length == 160) {
            uint256 l1BlockNumber = uint256(bytes32(proof[96:128]));
            (bool known, bytes32 canonical) = L1BlockHashes.tryCanonicalHash(l1BlockNumber);
            if (!known) revert StateManager_L1BlockHashUnavailable(l1BlockNumber);
            if (canonical != bytes32(proof[128:160])) revert StateManager_L1BlockHashMismatch(l1BlockNumber);
        }
        address inbox = batchInbox;
        if (inbox != address(0)) {
            uint256 next = BatchInbox(inbox).nextBlock();
            if (l2BlockNumber >= next) revert StateManager_BlockNotInInbox(l2BlockNumber, next);
        }
        if (anchor != 0) {
            if (anchor > _proposals.length) revert StateManager_BadAnchor();
            Proposal storage a = _proposals[anchor - 1];
            if (!_isFinal(anchor - 1, a) || a.l2BlockNumber >= l2BlockNumber) revert StateManager_BadAnchor();
        } else if (l2BlockNumber == 0) {
            revert StateManager_BadAnchor();
        }
        uint256 ownLatest = _latestLiveOf[msg.sender];
        if (ownLatest != 0 && l2BlockNumber <= _proposals[ownLatest - 1].l2BlockNumber) {
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
        // casting to 'uint64' is safe because `anchor` <= the proposal count
        // forge-lint: disable-next-line(unsafe-typecast)
        _disputes[index] = ProposalDispute({anchor: uint64(anchor), openGames: 0, allowlisted: allowlisted});
        uint256 latest = _latestLive;
        _previousLive[index] = latest;
        if (latest != 0) _nextLive[latest - 1] = index + 1;
        _latestLive = index + 1;
        _previousLiveOf[index] = ownLatest;
        if (ownLatest != 0) _nextLiveOf[ownLatest - 1] = index + 1;
        _latestLiveOf[msg.sender] = index + 1;
        emit StateRootSubmitted(index, stateRoot, batchRoot, msg.sender);
        emit ProposalL2Block(index, l2BlockNumber, l2BlockHash);
    }

    /// @inheritdoc IStateManager
    /// @dev Forwards to the `oneStepVerifier` the owner set (`IOneStepVerifier.verify`), which
    ///      reads its inputs from L1 storage only and reverts on a malformed witness; reverts
    ///      `StateManager_NoVerifier` while none is set. The dispute game calls it for the last
    ///      disputed step of a game; anyone may call it to check a step.
    function verifyStateTransition(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool) {
        address verifier = oneStepVerifier;
        if (verifier == address(0)) revert StateManager_NoVerifier();
        return IOneStepVerifier(verifier).verify(fromState, toState, proof);
    }

    /// @notice Credits the bond of a final proposal back to its proposer's bond balance. Anyone
    ///         may call it; it credits exactly once.
    /// @param index The proposal index.
    function returnBond(uint256 index) external {
        Proposal storage p = _proposal(index);
        if (p.removed) revert StateManager_ProposalRemoved();
        if (p.bondReturned) revert StateManager_BondAlreadyReturned();
        if (!_isFinal(index, p)) revert StateManager_ProposalNotFinal();
        p.bondReturned = true;
        address to = p.proposer;
        uint256 amount = p.bond;
        bondBalance[to] += amount;
        emit BondReturned(index, to, amount);
    }

    /// @notice Removes a proposal that is not final yet, credits `REMOVAL_REWARD_BPS` of its
    ///         bond to `bondRecipient`'s bond balance (withdrawn with `withdrawBond`) and burns
    ///         the rest. Only a dispute game (the challenger that won). A removed proposal never becomes
    ///         final, and withdrawals proven against it must be proven again. Idempotent: a
    ///         proposal already removed (by a parallel game) stays removed, nobody is credited
    ///         twice, and the call returns false, so parallel games never jam each other.
    /// @param index         The proposal index.
    /// @param bondRecipient The account paid the proposal's bond.
    /// @return removed True if this call removed the proposal (and credited its bond).
    function removeProposal(uint256 index, address bondRecipient) external returns (bool removed) {
        if (!isDisputeGame[msg.sender]) revert StateManager_NotDisputeGame();
        if (bondRecipient == address(0)) revert StateManager_ZeroAddress();
        Proposal storage p = _proposal(index);
        if (p.removed) return false;
        if (_isFinal(index, p)) revert StateManager_ProposalFinal();
        p.removed = true;
        _latestLive = _unlink(_latestLive, index, _previousLive, _nextLive);
        address proposer_ = p.proposer;
        _latestLiveOf[proposer_] = _unlink(_latestLiveOf[proposer_], index, _previousLiveOf, _nextLiveOf);
        uint256 bond = p.bond;
        uint256 reward = bond * REMOVAL_REWARD_BPS / 10_000;
        bondBalance[bondRecipient] += reward;
        burnedBonds += bond - reward;
        emit ProposalRemoved(index, bondRecipient, reward);
        emit BondBurned(index, bond - reward);
        return true;
    }

    /// @notice Counts a new game on proposal `index`: it is not final until the game closes.
    ///         Only the current dispute game (a replaced one still closes the games it opened,
    ///         but opens no new ones), only while the proposal is live and its challenge period
    ///         runs (a proposal can be challenged until its last second, never after).
    /// @param index The proposal.
    /// @return anchorBlock The L2 block the proposal's range starts at (its anchor's).
    /// @return anchorRoot  The anchor's output root (0 for the genesis: the game knows it).
    function openGame(uint256 index) external returns (uint256 anchorBlock, bytes32 anchorRoot) {
        if (msg.sender != disputeGame) revert StateManager_NotDisputeGame();
        Proposal storage p = _proposal(index);
        if (p.removed) revert StateManager_ProposalRemoved();
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= uint256(p.timestamp) + challengePeriod) revert StateManager_ChallengePeriodOver();
        ProposalDispute storage d = _disputes[index];
        uint64 open = d.openGames + 1;
        d.openGames = open;
        ++_openGamesBy[index][msg.sender];
        emit ProposalChallenged(index, msg.sender, open);
        uint256 anchor = d.anchor;
        if (anchor != 0) {
            Proposal storage a = _proposals[anchor - 1];
            (anchorBlock, anchorRoot) = (a.l2BlockNumber, a.stateRoot);
        }
    }

    /// @notice Closes a game the proposer won (a game the proposer lost calls
    ///         `removeProposal`, and a removed proposal's games no longer count). Only a dispute
    ///         game, and only for a game it opened itself.
    /// @param index The proposal.
    function closeGame(uint256 index) external {
        if (!isDisputeGame[msg.sender]) revert StateManager_NotDisputeGame();
        _proposal(index);
        uint256 mine = _openGamesBy[index][msg.sender];
        if (mine == 0) revert StateManager_NoOpenGame();
        _openGamesBy[index][msg.sender] = mine - 1;
        ProposalDispute storage d = _disputes[index];
        uint64 open = d.openGames;
        d.openGames = open - 1;
        emit ProposalDefended(index, msg.sender, open - 1);
    }

    /// @notice Sets the dispute game new challenges are opened in. Only the owner (the
    ///         timelock); setting it again upgrades the game (part 2) while the games already
    ///         open in the previous contract still close there.
    /// @param disputeGame_ The dispute game.
    function setDisputeGame(address disputeGame_) external onlyOwner {
        if (disputeGame_ == address(0)) revert StateManager_ZeroAddress();
        disputeGame = disputeGame_;
        isDisputeGame[disputeGame_] = true;
        emit DisputeGameSet(disputeGame_);
    }

    /// @notice Sets the one-step verifier behind `verifyStateTransition`. Only the owner.
    /// @param verifier The verifier.
    function setOneStepVerifier(address verifier) external onlyOwner {
        if (verifier == address(0)) revert StateManager_ZeroAddress();
        oneStepVerifier = verifier;
        emit OneStepVerifierSet(verifier);
    }

    /// @notice Sets the batch inbox proposals are checked against: from then on only L2 blocks
    ///         it recorded may be proposed. Only the owner.
    /// @param inbox The inbox.
    function setBatchInbox(address inbox) external onlyOwner {
        if (inbox == address(0)) revert StateManager_ZeroAddress();
        batchInbox = inbox;
        emit BatchInboxSet(inbox);
    }

    /// @notice Opens proposing to everybody or closes it to the allowlisted `proposer`. Only
    ///         the owner; the devnet's switch, off in every other preset until the EVM one-step
    ///         proof exists.
    /// @param permissionless True to let anyone propose.
    function setPermissionlessProposals(bool permissionless) external onlyOwner {
        permissionlessProposals = permissionless;
        emit PermissionlessProposalsSet(permissionless);
    }

    /// @notice Replaces the proposer. Only the owner.
    /// @param newProposer The new proposer.
    function setProposer(address newProposer) external onlyOwner {
        if (newProposer == address(0)) revert StateManager_ZeroAddress();
        address previous = proposer;
        proposer = newProposer;
        emit ProposerUpdated(previous, newProposer);
    }

    /// @notice Whether the proposal at `index` is final: not removed, its challenge period has
    ///         passed and every game on it closed in its favour.
    /// @param index The proposal index.
    /// @return True once `block.timestamp >= proposal.timestamp + challengePeriod` and no game
    ///         is open, unless removed.
    function isFinal(uint256 index) external view returns (bool) {
        return _isFinal(index, _proposal(index));
    }

    /// @notice The dispute data of the proposal at `index`.
    /// @param index The proposal index.
    /// @return The anchor, open game count and whether it was allowlisted.
    function disputeOf(uint256 index) external view returns (ProposalDispute memory) {
        _proposal(index);
        return _disputes[index];
    }

    /// @notice `account`'s latest live proposal, the one its next proposal must follow.
    /// @param account The proposer.
    /// @return found    False if the account has no live proposal.
    /// @return index    Its index.
    function latestProposalOf(address account) external view returns (bool found, uint256 index) {
        uint256 latest = _latestLiveOf[account];
        if (latest == 0) return (false, 0);
        return (true, latest - 1);
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

    /// @dev Not removed, past the challenge period (defined in L1 time; proposer-side skew of
    ///      seconds is immaterial) and no game open on it.
    function _isFinal(uint256 index, Proposal storage p) private view returns (bool) {
        // forge-lint: disable-next-line(block-timestamp)
        return
            !p.removed && block.timestamp >= uint256(p.timestamp) + challengePeriod && _disputes[index].openGames == 0;
    }

    /// @dev Takes the live proposal `index` out of a chain of live proposals (`latest` its head,
    ///      1-based, linked both ways through `previous` and `next`) and returns the chain's new
    ///      head. Constant gas: every removal mends its neighbours' links, so the links only ever
    ///      name live proposals. A live proposal below the head was followed by a later live one
    ///      (linked when that one was submitted, or mended since), so `next[index]` is set.
    function _unlink(
        uint256 latest,
        uint256 index,
        mapping(uint256 => uint256) storage previous,
        mapping(uint256 => uint256) storage next
    ) private returns (uint256) {
        uint256 prior = previous[index];
        if (latest == index + 1) {
            if (prior != 0) next[prior - 1] = 0;
            return prior;
        }
        uint256 later = next[index];
        previous[later - 1] = prior;
        if (prior != 0) next[prior - 1] = later;
        return latest;
    }
}
