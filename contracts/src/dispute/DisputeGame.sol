// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";

/// @title DisputeGame
/// @notice Permissionless challenges of `StateManager` proposals, played as one-against-one
///         bisection games, each with its own bonds and chess clocks; a proposal may have many
///         games at once and is final only once every game on it closed in its favour.
///
///         A game disputes the proposal's claim about the L2 blocks between its anchor (a final
///         output root, or the genesis) and its block. Only the proposal's proposer claims; the
///         challenger picks. On the proposer's turn it posts its output root at the midpoint of
///         the disputed range; on the challenger's turn it agrees (the range moves up to the
///         midpoint) or disagrees (the range ends at it). Level 0 bisects derivation steps (one
///         step = one L2 block); once one block is left, level 1 bisects that block's input
///         trace, `2**TRACE_DEPTH` steps whose first claim is the agreed output root of the
///         parent, whose last claim is the proposer's output root of the block, and whose
///         inner claims are trace states (see `docs/fraud-proof.md`). At one step of level 1,
///         anyone calls `step` with a witness and `StateManager.verifyStateTransition` decides:
///         a valid step wins for the proposer, an invalid one for the challenger.
///
///         A step the verifier cannot prove yet (`IOneStepVerifier.NotProvableYet`: it runs EVM
///         code) resolves for the proposer only if it was allowlisted when it proposed, and for
///         the challenger otherwise; `UnprovableStep` reports it loudly. Allowlisted proposals
///         are therefore trusted for code-running steps until part 2 of the fraud proof.
///
///         Clocks: each side has `maxClockDuration` seconds of thinking time per game; the time
///         between a move and the next counts against the side to move. A side whose clock runs
///         out loses (`resolve`, callable by anyone). A side left with less than
///         `clockExtension` when its turn starts gets exactly `clockExtension` (the rule OP
///         adopted after its 2024 disclosure), so nobody is left without time to answer a move
///         made at the last second. A game therefore lasts at most `2 * maxClockDuration +
///         clockExtension * turns`, where turns is the number of moves of both sides (two per
///         bisection level plus the step): see `maxGameDuration`.
///
///         Bonds: a challenger posts `challengerBond` with its challenge; the proposer's bond is
///         the proposal's, held by `StateManager`. When the challenger wins, the proposal is
///         removed, half of its bond is credited to the challenger's `StateManager` bond balance
///         and the other half burned (`StateManager.REMOVAL_REWARD_BPS`: so a proposer that
///         removes its own false proposal from another account still loses half), and the
///         challenger's own bond is credited back here. When the proposer wins, the
///         challenger's bond is credited to the proposer. A game whose proposal another game
///         already removed refunds its challenger. Credits are claimed (`claimCredit`), never
///         pushed.
///
///         Every move names what it answers: a challenge the output root it disputes, a bisection
///         the position it claims at, a pick the claim it judges and its position, a step the
///         position it proves.
///         A move decided on a transaction that was then replaced (same nonce, higher fee) or
///         reorganised away reverts `DisputeGame_StaleMove` instead of applying to what was
///         mined in its place: without it, a party that saw the honest side's answer in the
///         mempool could swap the move it answered and turn an agreement with a true claim
///         into one with a false claim.
/// @dev    Games are never deleted; every game is resolved exactly once, by one of `step` or
///         `resolve`.
contract DisputeGame {
    using SafeTransferLib for address;

    /// @notice Where a game stands.
    enum Status {
        None,
        InProgress,
        ProposerWon,
        ChallengerWon
    }

    /// @notice A game.
    /// @param proposal       The proposal disputed.
    /// @param challenger     The account that challenged and picks.
    /// @param level          0: bisecting L2 blocks; 1: bisecting the input trace of `l2Block`.
    /// @param status         Where the game stands.
    /// @param proposerToMove True on the proposer's turn (bisect, or prove at one step).
    /// @param lo             The start of the disputed range (an L2 block, or a trace position).
    /// @param hi             Its end.
    /// @param l2Block        Level 1: the block whose trace is bisected (0 at level 0).
    /// @param proposerUsed   Seconds of its clock the proposer has used.
    /// @param challengerUsed Seconds of its clock the challenger has used.
    /// @param lastMove       When the last move was made (the challenge, at first).
    /// @param loClaim        The agreed claim at `lo`.
    /// @param hiClaim        The proposer's claim at `hi`, which the challenger disputes.
    /// @param midClaim       The proposer's claim at the midpoint, while the challenger picks.
    /// @param bond           The challenger's bond.
    struct Game {
        uint64 proposal;
        address challenger;
        uint8 level;
        Status status;
        bool proposerToMove;
        uint64 lo;
        uint64 hi;
        uint64 l2Block;
        uint64 proposerUsed;
        uint64 challengerUsed;
        uint64 lastMove;
        bytes32 loClaim;
        bytes32 hiClaim;
        bytes32 midClaim;
        uint256 bond;
    }

    /// @notice Thrown when a constructor parameter is zero or the extension exceeds the clock.
    error DisputeGame_BadParameter();

    /// @notice Thrown when a challenge does not carry exactly `challengerBond`.
    error DisputeGame_WrongBond();

    /// @notice Thrown for a game id that does not exist.
    error DisputeGame_UnknownGame();

    /// @notice Thrown when acting on a game that is already resolved.
    error DisputeGame_GameOver();

    /// @notice Thrown when a player moves out of turn or someone else moves for it.
    error DisputeGame_NotYourTurn();

    /// @notice Thrown when bisecting a range of one step, or stepping a range of more.
    error DisputeGame_WrongRange();

    /// @notice Thrown when moving after the mover's clock ran out (`resolve` ends the game).
    error DisputeGame_ClockExpired();

    /// @notice Thrown when resolving a game whose side to move still has time.
    error DisputeGame_ClockRunning();

    /// @notice Thrown when a claim is zero (no output root or trace state hashes to zero).
    error DisputeGame_ZeroClaim();

    /// @notice Thrown when claiming a zero credit.
    error DisputeGame_NoCredit();

    /// @notice Thrown when a move names a state other than the one its proposal or game is in:
    ///         the move was decided on a transaction that was replaced or reorganised away
    ///         before it was mined, so it answers nothing that is there.
    error DisputeGame_StaleMove();

    /// @notice Emitted when a game opens.
    /// @param game       The game id.
    /// @param proposal   The proposal disputed.
    /// @param challenger The challenger.
    /// @param lo         The anchor's L2 block.
    /// @param hi         The proposal's L2 block.
    event GameCreated(
        uint256 indexed game, uint256 indexed proposal, address indexed challenger, uint256 lo, uint256 hi
    );

    /// @notice Emitted when the proposer posts its claim at the midpoint.
    /// @param game  The game id.
    /// @param level The level.
    /// @param position The midpoint (an L2 block at level 0, a trace position at level 1).
    /// @param claim The claim.
    event Bisected(uint256 indexed game, uint8 level, uint256 position, bytes32 claim);

    /// @notice Emitted when the challenger picks a half.
    /// @param game  The game id.
    /// @param agree True if it agreed with the midpoint claim (the range moves up).
    /// @param level The level after the pick.
    /// @param lo    The new range's start.
    /// @param hi    The new range's end.
    event Picked(uint256 indexed game, bool agree, uint8 level, uint256 lo, uint256 hi);

    /// @notice Emitted when a game reaches a step no verifier can prove yet: loud on purpose,
    ///         the outcome rests on the proposer's allowlisting, not on a proof.
    /// @param game     The game id.
    /// @param proposal The proposal.
    /// @param l2Block  The block.
    /// @param position The step's trace position.
    event UnprovableStep(uint256 indexed game, uint256 indexed proposal, uint256 l2Block, uint256 position);

    /// @notice Emitted when a game is resolved.
    /// @param game   The game id.
    /// @param status `ProposerWon` or `ChallengerWon`.
    event GameResolved(uint256 indexed game, Status status);

    /// @notice Emitted when a credit is paid out.
    /// @param recipient The account paid.
    /// @param amount    The wei.
    event CreditClaimed(address indexed recipient, uint256 amount);

    /// @notice Trace steps of one block, as a power of two: the preamble, every deposit, every
    ///         batch transaction and the seal fit (a block has at most a few thousand), the rest
    ///         is padding.
    uint256 public constant TRACE_DEPTH = 16;

    /// @notice The proposals' registry.
    StateManager public immutable stateManager;

    /// @notice The output root of the L2 genesis, the anchor of proposals anchored on nothing.
    bytes32 public immutable genesisOutputRoot;

    /// @notice The wei a challenger posts; it covers the proposer's worst-case gas to defend.
    uint256 public immutable challengerBond;

    /// @notice Seconds of thinking time each side has per game.
    uint64 public immutable maxClockDuration;

    /// @notice The time a side whose turn starts is guaranteed at least.
    uint64 public immutable clockExtension;

    /// @dev Games, by id.
    Game[] private _games;

    /// @notice Wei each account may claim: bonds won or refunded here.
    mapping(address account => uint256 amount) public credit;

    /// @param stateManager_      The proposals' registry (its proxy).
    /// @param genesisOutputRoot_ The output root of L2 block 0.
    /// @param challengerBond_    The challenger's bond in wei.
    /// @param maxClockDuration_  Each side's clock in seconds.
    /// @param clockExtension_    The least time a side gets when its turn starts; below the clock.
    constructor(
        StateManager stateManager_,
        bytes32 genesisOutputRoot_,
        uint256 challengerBond_,
        uint64 maxClockDuration_,
        uint64 clockExtension_
    ) {
        if (
            address(stateManager_) == address(0) || genesisOutputRoot_ == bytes32(0) || challengerBond_ == 0
                || clockExtension_ == 0 || clockExtension_ >= maxClockDuration_
        ) revert DisputeGame_BadParameter();
        stateManager = stateManager_;
        genesisOutputRoot = genesisOutputRoot_;
        challengerBond = challengerBond_;
        maxClockDuration = maxClockDuration_;
        clockExtension = clockExtension_;
    }

    /// @notice Challenges proposal `proposal`: opens a game in which the caller disputes its
    ///         output root, with `challengerBond` as `msg.value`. Anyone may challenge any live
    ///         proposal while its challenge period runs, as often as they like; each game is
    ///         played and paid on its own.
    /// @param proposal   The proposal index.
    /// @param outputRoot The output root the challenger disputes: the proposal's.
    /// @return id The game id.
    function challenge(uint256 proposal, bytes32 outputRoot) external payable returns (uint256 id) {
        if (msg.value != challengerBond) revert DisputeGame_WrongBond();
        (uint256 anchorBlock, bytes32 anchorRoot) = stateManager.openGame(proposal);
        if (anchorRoot == bytes32(0)) anchorRoot = genesisOutputRoot;
        StateManager.Proposal memory p = stateManager.proposals(proposal);
        if (p.stateRoot != outputRoot) revert DisputeGame_StaleMove();
        id = _games.length;
        Game storage g = _games.push();
        // casting to 'uint64' is safe because proposal indices and L2 blocks are uint64 there
        // forge-lint: disable-next-line(unsafe-typecast)
        g.proposal = uint64(proposal);
        g.challenger = msg.sender;
        g.status = Status.InProgress;
        g.proposerToMove = true;
        // forge-lint: disable-next-line(unsafe-typecast)
        g.lo = uint64(anchorBlock);
        g.hi = p.l2BlockNumber;
        g.loClaim = anchorRoot;
        g.hiClaim = p.stateRoot;
        g.lastMove = uint64(block.timestamp);
        g.bond = msg.value;
        emit GameCreated(id, proposal, msg.sender, anchorBlock, p.l2BlockNumber);
        if (g.hi - g.lo == 1) _enterTrace(g);
    }

    /// @notice The proposer's move: its claim at the midpoint of the disputed range (its output
    ///         root of that L2 block at level 0, its trace state at that position at level 1).
    /// @param id       The game id.
    /// @param l2Block  The block whose trace is bisected (level 1), or 0 (level 0).
    /// @param position The midpoint the claim is at: an L2 block, or a trace position.
    /// @param claim    The claim.
    function bisect(uint256 id, uint64 l2Block, uint64 position, bytes32 claim) external {
        Game storage g = _inProgress(id);
        if (!g.proposerToMove || msg.sender != stateManager.proposals(g.proposal).proposer) {
            revert DisputeGame_NotYourTurn();
        }
        if (g.hi - g.lo < 2) revert DisputeGame_WrongRange();
        if (g.l2Block != l2Block || _mid(g) != position) revert DisputeGame_StaleMove();
        if (claim == bytes32(0)) revert DisputeGame_ZeroClaim();
        _tick(g);
        g.midClaim = claim;
        emit Bisected(id, g.level, _mid(g), claim);
    }

    /// @notice The challenger's move: agree with the proposer's midpoint claim (the dispute is
    ///         after it) or disagree (the dispute is before it, up to it).
    /// @param id       The game id.
    /// @param l2Block  The block whose trace is bisected (level 1), or 0 (level 0).
    /// @param position The midpoint the judged claim is at.
    /// @param midClaim The proposer's claim judged: the game's `midClaim`.
    /// @param agree    True to agree.
    function pick(uint256 id, uint64 l2Block, uint64 position, bytes32 midClaim, bool agree) external {
        Game storage g = _inProgress(id);
        if (g.proposerToMove || msg.sender != g.challenger) revert DisputeGame_NotYourTurn();
        if (g.l2Block != l2Block || _mid(g) != position || g.midClaim != midClaim) revert DisputeGame_StaleMove();
        _tick(g);
        uint64 mid = _mid(g);
        if (agree) {
            (g.lo, g.loClaim) = (mid, g.midClaim);
        } else {
            (g.hi, g.hiClaim) = (mid, g.midClaim);
        }
        g.midClaim = bytes32(0);
        if (g.level == 0 && g.hi - g.lo == 1) _enterTrace(g);
        emit Picked(id, agree, g.level, g.lo, g.hi);
    }

    /// @notice Proves the one step the game narrowed down to, on the proposer's turn and before
    ///         its clock runs out; anyone may call it (the outcome depends on the step, not on
    ///         the caller). A valid step resolves for the proposer, an invalid one for the
    ///         challenger; a step the verifier cannot prove yet resolves for an allowlisted
    ///         proposer and against any other, and emits `UnprovableStep`. A malformed witness
    ///         reverts with the verifier's error and changes nothing.
    /// @param id       The game id.
    /// @param l2Block  The block whose trace step is proven.
    /// @param position The step's position in that trace: the game's `lo`.
    /// @param witness  The opening of the agreed state and of the step's inputs.
    function step(uint256 id, uint64 l2Block, uint64 position, bytes calldata witness) external {
        Game storage g = _inProgress(id);
        if (g.level != 1 || g.hi - g.lo != 1 || !g.proposerToMove) revert DisputeGame_WrongRange();
        if (g.l2Block != l2Block || g.lo != position) revert DisputeGame_StaleMove();
        if (_expired(g)) revert DisputeGame_ClockExpired();
        StateManager.Proposal memory p = stateManager.proposals(g.proposal);
        if (p.removed) {
            // Another game already proved the proposal wrong: this challenger was right too.
            _finish(id, g, false);
            return;
        }
        bytes memory context = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: g.l2Block, position: g.lo, horizonL1Block: p.l1Block, witness: witness
            })
        );
        bool proposerWins;
        try stateManager.verifyStateTransition(g.loClaim, g.hiClaim, context) returns (bool valid) {
            proposerWins = valid;
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IOneStepVerifier.NotProvableYet.selector) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
            emit UnprovableStep(id, g.proposal, g.l2Block, g.lo);
            proposerWins = stateManager.disputeOf(g.proposal).allowlisted;
        }
        _finish(id, g, proposerWins);
    }

    /// @notice Ends a game whose side to move ran out of time (the other side wins), or whose
    ///         proposal another game removed (the challenger was right: its bond is refunded).
    ///         Anyone may call it.
    /// @param id The game id.
    function resolve(uint256 id) external {
        Game storage g = _inProgress(id);
        if (stateManager.proposals(g.proposal).removed) {
            _finish(id, g, false);
        } else if (_expired(g)) {
            _finish(id, g, !g.proposerToMove);
        } else {
            revert DisputeGame_ClockRunning();
        }
    }

    /// @notice Pays `recipient` everything it won or was refunded here. Anyone may trigger it;
    ///         the wei only ever goes to `recipient`.
    /// @param recipient The account paid.
    function claimCredit(address recipient) external {
        uint256 amount = credit[recipient];
        if (amount == 0) revert DisputeGame_NoCredit();
        credit[recipient] = 0;
        emit CreditClaimed(recipient, amount);
        recipient.safeTransferETH(amount);
    }

    /// @notice The number of games; the next game gets this id.
    /// @return The game count.
    function gameCount() external view returns (uint256) {
        return _games.length;
    }

    /// @notice Game `id`.
    /// @param id The game id.
    /// @return The game.
    function games(uint256 id) external view returns (Game memory) {
        return _game(id);
    }

    /// @notice When the side to move in game `id` loses if it does not move (0 once resolved).
    /// @param id The game id.
    /// @return The L1 timestamp at which `resolve` can end the game.
    function deadline(uint256 id) external view returns (uint256) {
        Game storage g = _game(id);
        if (g.status != Status.InProgress) return 0;
        return uint256(g.lastMove) + maxClockDuration - (g.proposerToMove ? g.proposerUsed : g.challengerUsed);
    }

    /// @notice The longest a game on a range of `range` L2 blocks can last, in seconds: both
    ///         clocks plus one extension per turn (two turns per bisection level, the levels
    ///         over the blocks and over one block's trace, and the step).
    /// @param range The number of L2 blocks between the anchor and the proposal.
    /// @return The bound; a proposal is final at most this long after its challenge period.
    function maxGameDuration(uint256 range) public view returns (uint256) {
        uint256 levels = TRACE_DEPTH;
        for (uint256 r = range; r > 1; r = (r + 1) / 2) {
            ++levels;
        }
        return 2 * uint256(maxClockDuration) + uint256(clockExtension) * (2 * levels + 1);
    }

    /// @dev Game `id`, in progress.
    function _inProgress(uint256 id) private view returns (Game storage g) {
        g = _game(id);
        if (g.status != Status.InProgress) revert DisputeGame_GameOver();
    }

    /// @dev Game `id`; reverts `DisputeGame_UnknownGame` if there is none.
    function _game(uint256 id) private view returns (Game storage) {
        if (id >= _games.length) revert DisputeGame_UnknownGame();
        return _games[id];
    }

    /// @dev The midpoint of the disputed range.
    function _mid(Game storage g) private view returns (uint64) {
        return g.lo + (g.hi - g.lo) / 2;
    }

    /// @dev Whether the side to move has used up its clock.
    function _expired(Game storage g) private view returns (bool) {
        uint256 used = (g.proposerToMove ? g.proposerUsed : g.challengerUsed) + (block.timestamp - g.lastMove);
        return used >= maxClockDuration;
    }

    /// @dev Charges the mover's clock, hands the turn over and extends the next mover's clock
    ///      to `clockExtension` if less is left.
    function _tick(Game storage g) private {
        if (_expired(g)) revert DisputeGame_ClockExpired();
        // casting to 'uint64' is safe because the clock did not expire: used < maxClockDuration
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 elapsed = uint64(block.timestamp - g.lastMove);
        uint64 floor = maxClockDuration - clockExtension;
        if (g.proposerToMove) {
            g.proposerUsed += elapsed;
            if (g.challengerUsed > floor) g.challengerUsed = floor;
        } else {
            g.challengerUsed += elapsed;
            if (g.proposerUsed > floor) g.proposerUsed = floor;
        }
        g.proposerToMove = !g.proposerToMove;
        g.lastMove = uint64(block.timestamp);
    }

    /// @dev Level 0 narrowed down to block `hi`: bisect its input trace, from the agreed output
    ///      root of its parent (position 0) to the proposer's output root of it (the last).
    function _enterTrace(Game storage g) private {
        g.level = 1;
        g.l2Block = g.hi;
        g.lo = 0;
        g.hi = uint64(1 << TRACE_DEPTH);
    }

    /// @dev Resolves game `id` and credits its bonds.
    function _finish(uint256 id, Game storage g, bool proposerWins) private {
        uint256 bond = g.bond;
        if (proposerWins) {
            g.status = Status.ProposerWon;
            credit[stateManager.proposals(g.proposal).proposer] += bond;
            stateManager.closeGame(g.proposal);
        } else {
            g.status = Status.ChallengerWon;
            credit[g.challenger] += bond;
            stateManager.removeProposal(g.proposal, g.challenger);
        }
        emit GameResolved(id, g.status);
    }
}
