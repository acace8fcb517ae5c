// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {L2Headers} from "test/utils/L2Headers.sol";
import {L2BlockHeaders} from "test/utils/L2BlockHeaders.sol";
import {L1Headers} from "test/utils/L1Headers.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {DisputeGame} from "src/dispute/DisputeGame.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";
import {StubInbox} from "test/dispute/StubInbox.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {TestVerifier, CreditRejecter} from "test/dispute/TestVerifier.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

/// @dev Shared deployment and play helpers of the dispute game tests.
abstract contract DisputeGameBase is Test {
    uint256 internal constant CHALLENGE_PERIOD = 1 days;
    uint256 internal constant BOND = 1 ether;
    /// @dev What the challenger that removes a proposal is credited of its bond; the rest burns.
    uint256 internal constant REWARD = BOND / 2;
    uint256 internal constant CHALLENGER_BOND = 0.25 ether;
    uint64 internal constant MAX_CLOCK = 1 days;
    uint64 internal constant CLOCK_EXT = 3 hours;
    uint64 internal constant TRACE_STEPS = 1 << 16;
    bytes32 internal constant GENESIS_ROOT = keccak256("genesis output root");

    StateManager internal manager;
    DisputeGame internal dg;
    TestVerifier internal verifier;
    address internal owner;
    address internal proposer;
    address internal challenger;
    /// @dev Every account that may hold a bond balance or a credit in a test.
    address[] internal accounts;

    /// @dev Level-1 claims of the padding tests: positions in [paddingFrom, paddingUntil] claim
    ///      `paddingRoot`, positions after `paddingUntil` claim `paddingWrong` (unset: `_claim`).
    bytes32 internal paddingRoot;
    bytes32 internal paddingWrong;
    uint64 internal paddingFrom;
    uint64 internal paddingUntil;

    function setUp() public virtual {
        owner = makeAddr("owner");
        proposer = makeAddr("proposer");
        challenger = makeAddr("challenger");
        accounts.push(proposer);
        accounts.push(challenger);
        manager = Proxies.deployStateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        dg = new DisputeGame(manager, GENESIS_ROOT, CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        verifier = new TestVerifier();
        vm.startPrank(owner);
        manager.setDisputeGame(address(dg));
        manager.setOneStepVerifier(address(verifier));
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The output root `who` proposes for L2 block `number` in these tests.
    function _root(address who, uint256 number) internal pure returns (bytes32) {
        return keccak256(abi.encode("output", who, number));
    }

    /// @dev The proposer's claim at `position` of `level` (never zero).
    function _claim(uint8 level, uint256 position) internal pure returns (bytes32) {
        return keccak256(abi.encode("claim", level, position));
    }

    /// @dev Proposes `root` for L2 block `number` as `who` (funding its bond), anchored on
    ///      `anchor` (1 + a final proposal's index, 0 for the genesis).
    function _proposeRoot(address who, uint256 number, bytes32 root, uint256 anchor) internal returns (uint256 index) {
        index = manager.proposalCount();
        vm.deal(who, who.balance + BOND);
        vm.startPrank(who);
        manager.depositBond{value: BOND}();
        manager.submitStateRoot(
            root,
            keccak256(abi.encode("batch", number)),
            abi.encode(uint64(number), keccak256(abi.encode("block", number)), anchor)
        );
        vm.stopPrank();
    }

    /// @dev Proposes `_root(who, number)` for block `number` on the genesis.
    function _propose(address who, uint256 number) internal returns (uint256) {
        return _proposeRoot(who, number, _root(who, number), 0);
    }

    /// @dev `who` challenges `proposal` with the exact bond; returns the game id.
    function _challenge(address who, uint256 proposal) internal returns (uint256 id) {
        vm.deal(who, who.balance + CHALLENGER_BOND);
        {
            bytes32 disputed_ = _rootOf(dg, proposal);
            vm.prank(who);
            id = dg.challenge{value: CHALLENGER_BOND}(proposal, disputed_);
        }
    }

    /// @dev Game `id`.
    function _g(uint256 id) internal view returns (DisputeGame.Game memory) {
        return dg.games(id);
    }

    /// @dev The block and position a bisection of game `id` of `game` claims at (what `bisect`
    ///      names), read before any prank or expected revert so that they apply to the move.
    function _bisectAt(DisputeGame game, uint256 id) internal view returns (uint64, uint64) {
        DisputeGame.Game memory g = game.games(id);
        return (g.l2Block, g.lo + (g.hi - g.lo) / 2);
    }

    /// @dev The block and position a step of game `id` of `game` proves (what `step` names).
    function _stepAt(DisputeGame game, uint256 id) internal view returns (uint64, uint64) {
        DisputeGame.Game memory g = game.games(id);
        return (g.l2Block, g.lo);
    }

    /// @dev The output root of proposal `index` of `game`'s StateManager (what `challenge`
    ///      names); zero for an index with no proposal.
    function _rootOf(DisputeGame game, uint256 index) internal view returns (bytes32) {
        try game.stateManager().proposals(index) returns (StateManager.Proposal memory p) {
            return p.stateRoot;
        } catch {
            return bytes32(0);
        }
    }

    /// @dev The midpoint of game `id`'s range.
    function _mid(uint256 id) internal view returns (uint64) {
        DisputeGame.Game memory g = _g(id);
        return g.lo + (g.hi - g.lo) / 2;
    }

    /// @dev The claim the proposer posts at the midpoint of game `id` (padding claims if set).
    function _claimFor(uint256 id) internal view returns (bytes32) {
        DisputeGame.Game memory g = _g(id);
        uint64 mid = g.lo + (g.hi - g.lo) / 2;
        if (g.level == 1 && paddingRoot != 0 && mid >= paddingFrom) {
            return mid <= paddingUntil ? paddingRoot : paddingWrong;
        }
        if (g.level == 1 && paddingRoot != 0) return keccak256(abi.encode(_traceState(g.l2Block, mid)));
        return _claim(g.level, mid);
    }

    /// @dev The trace state the padding tests claim at `position` (before the seal) of `l2Block`.
    function _traceState(uint256 l2Block, uint256 position) internal pure returns (OneStepVerifier.TraceState memory) {
        return OneStepVerifier.TraceState({
            version: 2,
            l2Block: l2Block,
            inputs: position,
            stateRoot: keccak256(abi.encode("root", position)),
            cumulativeGas: 21_000 * position,
            included: position - 1,
            txRoot: keccak256(abi.encode("txs", position)),
            receiptRoot: keccak256(abi.encode("receipts", position)),
            logsBloomHash: keccak256(new bytes(256)),
            context: keccak256(abi.encode(L2Headers.context(l2Block, 5, 5)))
        });
    }

    /// @dev The `STEP_INPUT` witness of `_traceState(l2Block, position)`: a block that starts
    ///      no epoch (its parent has the same L1 origin), so the input is no deposit.
    function _inputWitness(OneStepVerifier.TraceState memory state) internal pure returns (bytes memory) {
        return abi.encode(
            uint8(3),
            abi.encode(
                OneStepVerifier.InputWitness({
                    state: state,
                    context: L2Headers.context(state.l2Block, 5, 5),
                    parentHeader: L2Headers.header(5),
                    blockTable: hex"00000000000000",
                    firstSegment: 0
                })
            )
        );
    }

    /// @dev The proposal's proposer bisects game `id` with `_claimFor`.
    function _bisect(uint256 id) internal {
        address by = manager.proposals(_g(id).proposal).proposer;
        bytes32 claim = _claimFor(id);
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.prank(by);
            dg.bisect(id, atBlock_, atPosition_, claim);
        }
    }

    /// @dev The game's challenger picks.
    function _pick(uint256 id, bool agree) internal {
        address by = _g(id).challenger;
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.prank(by);
            dg.pick(id, atBlock_, atPosition_, judged_, agree);
        }
    }

    /// @dev Whether game `id` is at its one step (level 1, one position left).
    function _atStep(uint256 id) internal view returns (bool) {
        DisputeGame.Game memory g = _g(id);
        return g.level == 1 && g.hi - g.lo == 1;
    }

    /// @dev Plays game `id` without delay down to its one step: the challenger disputes L2 block
    ///      `disputedBlock` at level 0 (it must be in the range) and the step at trace position
    ///      `position` at level 1.
    function _narrow(uint256 id, uint256 disputedBlock, uint256 position) internal {
        while (!_atStep(id)) {
            DisputeGame.Game memory g = _g(id);
            if (g.proposerToMove) {
                _bisect(id);
            } else {
                uint64 mid = g.lo + (g.hi - g.lo) / 2;
                _pick(id, g.level == 0 ? mid < disputedBlock : mid <= position);
            }
        }
        assertEq(_g(id).lo, _g(id).level == 1 ? position : 0);
    }

    /// @dev Sum of `credit` over `accounts` plus the bonds of games in progress: what the dispute
    ///      game's balance must equal.
    function _gameHeld() internal view returns (uint256 total) {
        for (uint256 i; i < accounts.length; ++i) {
            total += dg.credit(accounts[i]);
        }
        for (uint256 i; i < dg.gameCount(); ++i) {
            DisputeGame.Game memory g = dg.games(i);
            if (g.status == DisputeGame.Status.InProgress) total += g.bond;
        }
    }

    /// @dev Sum of bond balances over `accounts` plus the bonds of live unreturned proposals:
    ///      what the StateManager's balance must equal.
    function _managerHeld() internal view returns (uint256 total) {
        for (uint256 i; i < accounts.length; ++i) {
            total += manager.bondBalance(accounts[i]);
        }
        for (uint256 i; i < manager.proposalCount(); ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) total += p.bond;
        }
        total += manager.burnedBonds();
    }

    /// @dev Both contracts hold exactly what their accounting says.
    function _assertConserved() internal view {
        assertEq(address(dg).balance, _gameHeld(), "DisputeGame balance != credits + bonds in play");
        assertEq(address(manager).balance, _managerHeld(), "StateManager balance != bond balances + locked bonds");
    }

    /// @dev A new account registered for the conservation sums.
    function _account(string memory name) internal returns (address a) {
        a = makeAddr(name);
        accounts.push(a);
    }
}

contract DisputeGameTest is DisputeGameBase {
    event GameCreated(
        uint256 indexed game, uint256 indexed proposal, address indexed challenger, uint256 lo, uint256 hi
    );
    event Bisected(uint256 indexed game, uint8 level, uint256 position, bytes32 claim);
    event Picked(uint256 indexed game, bool agree, uint8 level, uint256 lo, uint256 hi);
    event UnprovableStep(uint256 indexed game, uint256 indexed proposal, uint256 l2Block, uint256 position);
    event GameResolved(uint256 indexed game, DisputeGame.Status status);
    event CreditClaimed(address indexed recipient, uint256 amount);
    event ProposalChallenged(uint256 indexed index, address indexed game, uint256 openGames);
    event ProposalDefended(uint256 indexed index, address indexed game, uint256 openGames);
    event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);

    // ------------------------------------------------------------------ construction

    function test_constructor_succeeds() public view {
        assertEq(address(dg.stateManager()), address(manager));
        assertEq(dg.genesisOutputRoot(), GENESIS_ROOT);
        assertEq(dg.challengerBond(), CHALLENGER_BOND);
        assertEq(dg.maxClockDuration(), MAX_CLOCK);
        assertEq(dg.clockExtension(), CLOCK_EXT);
        assertEq(dg.TRACE_DEPTH(), 16);
        assertEq(dg.gameCount(), 0);
    }

    function test_constructor_badParameter_reverts() public {
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(StateManager(address(0)), GENESIS_ROOT, CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(manager, bytes32(0), CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(manager, GENESIS_ROOT, 0, MAX_CLOCK, CLOCK_EXT);
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(manager, GENESIS_ROOT, CHALLENGER_BOND, MAX_CLOCK, 0);
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(manager, GENESIS_ROOT, CHALLENGER_BOND, MAX_CLOCK, MAX_CLOCK);
        vm.expectRevert(DisputeGame.DisputeGame_BadParameter.selector);
        new DisputeGame(manager, GENESIS_ROOT, CHALLENGER_BOND, 0, 0);
    }

    // ------------------------------------------------------------------ challenge

    /// @dev A game on a genesis-anchored proposal disputes blocks 0..n, from the genesis root to
    ///      the proposal's root, the proposer to move.
    function test_challenge_genesisAnchor_succeeds() public {
        uint256 index = _propose(proposer, 8);
        vm.deal(challenger, CHALLENGER_BOND);
        uint256 id;
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.expectEmit(address(manager));
            emit ProposalChallenged(index, address(dg), 1);
            vm.expectEmit(address(dg));
            emit GameCreated(0, index, challenger, 0, 8);
            vm.prank(challenger);
            id = dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
        assertEq(id, 0);
        assertEq(dg.gameCount(), 1);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.proposal, index);
        assertEq(g.challenger, challenger);
        assertEq(g.level, 0);
        assertTrue(g.status == DisputeGame.Status.InProgress);
        assertTrue(g.proposerToMove);
        assertEq(g.lo, 0);
        assertEq(g.hi, 8);
        assertEq(g.l2Block, 0);
        assertEq(g.proposerUsed, 0);
        assertEq(g.challengerUsed, 0);
        assertEq(g.lastMove, block.timestamp);
        assertEq(g.loClaim, GENESIS_ROOT);
        assertEq(g.hiClaim, _root(proposer, 8));
        assertEq(g.midClaim, bytes32(0));
        assertEq(g.bond, CHALLENGER_BOND);
        assertEq(manager.disputeOf(index).openGames, 1);
        assertEq(address(dg).balance, CHALLENGER_BOND);
        _assertConserved();
    }

    /// @dev A proposal anchored on a final proposal is disputed from the anchor's block and root.
    function test_challenge_finalAnchor_succeeds() public {
        uint256 anchor = _propose(proposer, 10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        uint256 index = _proposeRoot(proposer, 26, _root(proposer, 26), anchor + 1);
        uint256 id = _challenge(challenger, index);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.level, 0);
        assertEq(g.lo, 10);
        assertEq(g.hi, 26);
        assertEq(g.loClaim, _root(proposer, 10));
        assertEq(g.hiClaim, _root(proposer, 26));
    }

    /// @dev A range of one block enters level 1 at once: the block's trace, from the anchor's
    ///      root (genesis) to the proposal's root.
    function test_challenge_oneBlockGenesis_succeeds() public {
        uint256 index = _propose(proposer, 1);
        uint256 id = _challenge(challenger, index);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.level, 1);
        assertEq(g.l2Block, 1);
        assertEq(g.lo, 0);
        assertEq(g.hi, TRACE_STEPS);
        assertEq(g.loClaim, GENESIS_ROOT);
        assertEq(g.hiClaim, _root(proposer, 1));
        assertTrue(g.proposerToMove);
    }

    function test_challenge_oneBlockFinalAnchor_succeeds() public {
        uint256 anchor = _propose(proposer, 10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        uint256 index = _proposeRoot(proposer, 11, _root(proposer, 11), anchor + 1);
        uint256 id = _challenge(challenger, index);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.level, 1);
        assertEq(g.l2Block, 11);
        assertEq(g.lo, 0);
        assertEq(g.hi, TRACE_STEPS);
        assertEq(g.loClaim, _root(proposer, 10));
        assertEq(g.hiClaim, _root(proposer, 11));
    }

    function testFuzz_challenge_wrongBond_reverts(uint256 value) public {
        vm.assume(value != CHALLENGER_BOND);
        value = bound(value, 0, 100 ether);
        vm.assume(value != CHALLENGER_BOND);
        uint256 index = _propose(proposer, 8);
        vm.deal(challenger, value);
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.expectRevert(DisputeGame.DisputeGame_WrongBond.selector);
            vm.prank(challenger);
            dg.challenge{value: value}(index, disputed_);
        }
        assertEq(manager.disputeOf(index).openGames, 0);
    }

    /// @dev Until the last second of the challenge period, never after.
    function test_challenge_afterPeriod_reverts() public {
        uint256 index = _propose(proposer, 8);
        vm.warp(block.timestamp + CHALLENGE_PERIOD - 1);
        _challenge(challenger, index);
        vm.warp(block.timestamp + 1);
        vm.deal(challenger, CHALLENGER_BOND);
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.expectRevert(StateManager.StateManager_ChallengePeriodOver.selector);
            vm.prank(challenger);
            dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
    }

    function test_challenge_removedProposal_reverts() public {
        uint256 index = _propose(proposer, 1);
        uint256 id = _challenge(challenger, index);
        verifier.setMode(TestVerifier.Mode.Invalid);
        _narrow(id, 1, 5);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, "");
        }
        vm.deal(challenger, CHALLENGER_BOND);
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.expectRevert(StateManager.StateManager_ProposalRemoved.selector);
            vm.prank(challenger);
            dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
    }

    function testFuzz_challenge_unknownProposal_reverts(uint256 index) public {
        vm.deal(challenger, CHALLENGER_BOND);
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
            vm.prank(challenger);
            dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
    }

    // ------------------------------------------------------------------ bisect and pick

    function test_bisect_succeeds() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        bytes32 claim = _claim(0, 4);
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectEmit(address(dg));
            emit Bisected(id, 0, 4, claim);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, claim);
        }
        DisputeGame.Game memory g = _g(id);
        assertEq(g.midClaim, claim);
        assertFalse(g.proposerToMove);
        assertEq(g.lo, 0);
        assertEq(g.hi, 8);
    }

    function testFuzz_bisect_notProposer_reverts(address sender) public {
        vm.assume(sender != proposer);
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_NotYourTurn.selector);
            vm.prank(sender);
            dg.bisect(id, atBlock_, atPosition_, _claim(0, 4));
        }
    }

    /// @dev Only the proposal's own proposer bisects, not the allowlisted one.
    function test_bisect_otherProposalsProposer_reverts() public {
        vm.prank(owner);
        manager.setPermissionlessProposals(true);
        address alice = _account("alice");
        uint256 id = _challenge(challenger, _propose(alice, 8));
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_NotYourTurn.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, _claim(0, 4));
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.prank(alice);
            dg.bisect(id, atBlock_, atPosition_, _claim(0, 4));
        }
    }

    function test_bisect_notYourTurn_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        _bisect(id);
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_NotYourTurn.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, _claim(0, 2));
        }
    }

    function test_bisect_zeroClaim_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_ZeroClaim.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, bytes32(0));
        }
    }

    /// @dev No bisection of a single step.
    /// @dev A challenge names the root it disputes: one decided on a proposal replaced before
    ///      it was mined (the same index, another root) reverts instead of disputing a root the
    ///      challenger may well agree with.
    function testFuzz_challenge_namingAnotherRoot_reverts(bytes32 named) public {
        uint256 index = _propose(proposer, 8);
        vm.assume(named != _root(proposer, 8));
        vm.deal(challenger, CHALLENGER_BOND);
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        vm.prank(challenger);
        dg.challenge{value: CHALLENGER_BOND}(index, named);
        assertEq(dg.gameCount(), 0);
    }

    /// @dev A bisection names the block and position it claims at; any other reverts (the pick
    ///      it answered was replaced by the other pick, which moved the range).
    function testFuzz_bisect_atAnotherPosition_reverts(uint64 l2Block, uint64 position) public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.assume(l2Block != 0 || position != 4);
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        vm.prank(proposer);
        dg.bisect(id, l2Block, position, _claim(0, 4));
    }

    /// @dev The attack naming closes: the proposer shows a true claim in the mempool, the
    ///      challenger's agreement with it goes out, and the proposer replaces its bisection with
    ///      a false claim that is mined first. The agreement names the claim it judged and
    ///      reverts; the challenger then judges the claim that is there.
    function test_pick_ofAReplacedClaim_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        bytes32 shown = _claim(0, 4);
        bytes32 mined = keccak256("false claim");
        vm.prank(proposer);
        dg.bisect(id, 0, 4, mined);
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        vm.prank(challenger);
        dg.pick(id, 0, 4, shown, true);
        vm.prank(challenger);
        dg.pick(id, 0, 4, mined, false);
        assertEq(_g(id).hi, 4);
        assertEq(_g(id).hiClaim, mined);
    }

    /// @dev The other side of the swap: the challenger shows "agree" in the mempool and the
    ///      honest proposer's bisection of the range that leaves goes out, but a "disagree" is
    ///      mined first. The bisection names the midpoint of the range it expected and reverts;
    ///      the one of the range there is succeeds, in time.
    function test_bisect_afterAReplacedPick_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.prank(proposer);
        dg.bisect(id, 0, 4, _claim(0, 4));
        vm.prank(challenger);
        dg.pick(id, 0, 4, _claim(0, 4), false);
        // Agreeing would have left [4, 8], midpoint 6; disagreeing left [0, 4], midpoint 2.
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        vm.prank(proposer);
        dg.bisect(id, 0, 6, _claim(0, 6));
        vm.prank(proposer);
        dg.bisect(id, 0, 2, _claim(0, 2));
        assertEq(_g(id).midClaim, _claim(0, 2));
        assertFalse(_g(id).proposerToMove);
    }

    /// @dev A pick names the position of the claim it judges as well as the claim: the same
    ///      claim at another position (a reorganised history in which the proposer posted it
    ///      elsewhere) is not what the challenger judged.
    function testFuzz_pick_atAnotherPosition_reverts(uint64 l2Block, uint64 position) public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.prank(proposer);
        dg.bisect(id, 0, 4, _claim(0, 4));
        vm.assume(l2Block != 0 || position != 4);
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        vm.prank(challenger);
        dg.pick(id, l2Block, position, _claim(0, 4), true);
    }

    /// @dev A step names the block and position it proves; any other reverts.
    function testFuzz_step_atAnotherPosition_reverts(uint64 l2Block, uint64 position) public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        _narrow(id, 3, 5);
        vm.assume(l2Block != 3 || position != 5);
        vm.expectRevert(DisputeGame.DisputeGame_StaleMove.selector);
        dg.step(id, l2Block, position, "");
        assertTrue(_g(id).status == DisputeGame.Status.InProgress);
    }

    function test_bisect_oneStep_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 1));
        _narrow(id, 1, 77);
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_WrongRange.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, _claim(1, 77));
        }
    }

    function testFuzz_pick_notChallenger_reverts(address sender) public {
        vm.assume(sender != challenger);
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        _bisect(id);
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_NotYourTurn.selector);
            vm.prank(sender);
            dg.pick(id, atBlock_, atPosition_, judged_, true);
        }
    }

    function test_pick_proposersTurn_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_NotYourTurn.selector);
            vm.prank(challenger);
            dg.pick(id, atBlock_, atPosition_, judged_, true);
        }
    }

    /// @dev Agree moves lo up to the midpoint with its claim, disagree moves hi down; level 0
    ///      reaching one block enters level 1 on that block with the agreed claims carried.
    function test_pick_levelTransition_succeeds() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        _bisect(id); // claim at 4
        vm.expectEmit(address(dg));
        emit Picked(id, true, 0, 4, 8);
        _pick(id, true);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.lo, 4);
        assertEq(g.hi, 8);
        assertEq(g.loClaim, _claim(0, 4));
        assertEq(g.midClaim, bytes32(0));
        assertTrue(g.proposerToMove);
        _bisect(id); // claim at 6
        _pick(id, false);
        g = _g(id);
        assertEq(g.lo, 4);
        assertEq(g.hi, 6);
        assertEq(g.loClaim, _claim(0, 4));
        assertEq(g.hiClaim, _claim(0, 6));
        _bisect(id); // claim at 5
        vm.expectEmit(address(dg));
        emit Picked(id, true, 1, 0, TRACE_STEPS);
        _pick(id, true);
        g = _g(id);
        assertEq(g.level, 1);
        assertEq(g.l2Block, 6);
        assertEq(g.lo, 0);
        assertEq(g.hi, TRACE_STEPS);
        assertEq(g.loClaim, _claim(0, 5));
        assertEq(g.hiClaim, _claim(0, 6));
        assertTrue(g.proposerToMove);
        // Level 1 bisects the trace: first midpoint 2**15.
        vm.expectEmit(address(dg));
        emit Bisected(id, 1, TRACE_STEPS / 2, _claim(1, TRACE_STEPS / 2));
        _bisect(id);
    }

    /// @dev Fuzzed claims and picks follow the model: midpoint lo + (hi - lo) / 2, the picked
    ///      half, the level-0 to level-1 transition, and at most maxGameDuration's level count of
    ///      bisections before the one step.
    function testFuzz_bisectPick_model_succeeds(uint256 number, uint256 seed) public {
        number = bound(number, 1, 1 << 40);
        uint256 index = _propose(proposer, number);
        uint256 id = _challenge(challenger, index);
        (uint8 level, uint64 lo, uint64 hi, uint64 l2Block) = (0, 0, uint64(number), 0);
        (bytes32 loClaim, bytes32 hiClaim) = (GENESIS_ROOT, _root(proposer, number));
        if (hi - lo == 1) (level, l2Block, lo, hi) = (1, hi, 0, TRACE_STEPS);
        uint256 levels = 16;
        for (uint256 r = number; r > 1; r = (r + 1) / 2) {
            ++levels;
        }
        uint256 bisections;
        while (!(level == 1 && hi - lo == 1)) {
            seed = uint256(keccak256(abi.encode(seed)));
            bytes32 claim = keccak256(abi.encode(seed, "claim"));
            uint64 mid = lo + (hi - lo) / 2;
            {
                (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
                vm.prank(proposer);
                dg.bisect(id, atBlock_, atPosition_, claim);
            }
            ++bisections;
            bool agree = seed % 2 == 0;
            _pick(id, agree);
            if (agree) (lo, loClaim) = (mid, claim);
            else (hi, hiClaim) = (mid, claim);
            if (level == 0 && hi - lo == 1) (level, l2Block, lo, hi) = (1, hi, 0, TRACE_STEPS);
            DisputeGame.Game memory g = _g(id);
            assertEq(g.level, level);
            assertEq(g.lo, lo);
            assertEq(g.hi, hi);
            assertEq(g.l2Block, l2Block);
            assertEq(g.loClaim, loClaim);
            assertEq(g.hiClaim, hiClaim);
            assertTrue(g.proposerToMove);
        }
        assertLe(bisections, levels, "more bisections than maxGameDuration counts");
        assertGe(l2Block, 1, "disputed block below the range");
        assertLe(l2Block, number, "disputed block above the range");
    }

    // ------------------------------------------------------------------ step with the test verifier

    function test_step_notOneStep_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_WrongRange.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
        _bisect(id);
        _pick(id, true);
        _bisect(id);
        _pick(id, true);
        _bisect(id);
        _pick(id, true);
        assertEq(_g(id).level, 1);
        // Level 1, the whole trace left.
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_WrongRange.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
        // Level 1, two steps left, the challenger's turn.
        while (_g(id).hi - _g(id).lo > 2) {
            _bisect(id);
            _pick(id, false);
        }
        _bisect(id);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_WrongRange.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
    }

    /// @dev A valid step wins for the proposer; anyone may submit it. The verifier sees the
    ///      agreed and disputed claims, the block, the position and the proposal's L1 block.
    function test_step_valid_succeeds() public {
        vm.roll(4242);
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        _narrow(id, 6, 1234);
        DisputeGame.Game memory g = _g(id);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectEmit(address(manager));
            emit ProposalDefended(index, address(dg), 0);
            vm.expectEmit(address(dg));
            emit GameResolved(id, DisputeGame.Status.ProposerWon);
            vm.prank(makeAddr("anyone"));
            dg.step(id, atBlock_, atPosition_, "witness");
        }
        assertEq(verifier.calls(), 1);
        assertEq(verifier.lastFrom(), g.loClaim);
        assertEq(verifier.lastTo(), g.hiClaim);
        assertEq(verifier.lastFrom(), _claim(1, 1234));
        assertEq(verifier.lastTo(), _claim(1, 1235));
        assertEq(verifier.lastL2Block(), 6);
        assertEq(verifier.lastPosition(), 1234);
        assertEq(verifier.lastHorizon(), 4242);
        assertEq(verifier.lastWitness(), bytes("witness"));
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
        // Payout: the challenger's bond is credited to the proposer; the proposal lives on.
        assertEq(dg.credit(proposer), CHALLENGER_BOND);
        assertEq(dg.credit(challenger), 0);
        assertEq(manager.disputeOf(index).openGames, 0);
        assertFalse(manager.proposals(index).removed);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        assertTrue(manager.isFinal(index));
        _assertConserved();
    }

    /// @dev An invalid step wins for the challenger: the proposal is removed, its bond goes to
    ///      the challenger's StateManager bond balance and the challenger's bond comes back.
    function test_step_invalid_succeeds() public {
        verifier.setMode(TestVerifier.Mode.Invalid);
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        _narrow(id, 3, 0);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectEmit(address(manager));
            emit ProposalRemoved(index, challenger, REWARD);
            vm.expectEmit(address(dg));
            emit GameResolved(id, DisputeGame.Status.ChallengerWon);
            dg.step(id, atBlock_, atPosition_, "");
        }
        assertTrue(_g(id).status == DisputeGame.Status.ChallengerWon);
        assertTrue(manager.proposals(index).removed);
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(dg.credit(challenger), CHALLENGER_BOND);
        assertEq(dg.credit(proposer), 0);
        _assertConserved();
        vm.warp(block.timestamp + 10 * CHALLENGE_PERIOD);
        assertFalse(manager.isFinal(index));
    }

    /// @dev A step nobody can prove yet resolves for an allowlisted proposer, loudly.
    function test_step_unprovableAllowlisted_succeeds() public {
        verifier.setMode(TestVerifier.Mode.Unprovable);
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        _narrow(id, 8, 3);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectEmit(address(dg));
            emit UnprovableStep(id, index, 8, 3);
            vm.expectEmit(address(dg));
            emit GameResolved(id, DisputeGame.Status.ProposerWon);
            dg.step(id, atBlock_, atPosition_, "");
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
        assertEq(dg.credit(proposer), CHALLENGER_BOND);
        assertEq(manager.disputeOf(index).openGames, 0);
        _assertConserved();
    }

    /// @dev ... and against a permissionless one.
    function test_step_unprovablePermissionless_succeeds() public {
        vm.prank(owner);
        manager.setPermissionlessProposals(true);
        address alice = _account("alice");
        verifier.setMode(TestVerifier.Mode.Unprovable);
        uint256 index = _propose(alice, 8);
        assertFalse(manager.disputeOf(index).allowlisted);
        uint256 id = _challenge(challenger, index);
        _narrow(id, 8, 3);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectEmit(address(dg));
            emit UnprovableStep(id, index, 8, 3);
            vm.expectEmit(address(dg));
            emit GameResolved(id, DisputeGame.Status.ChallengerWon);
            dg.step(id, atBlock_, atPosition_, "");
        }
        assertTrue(manager.proposals(index).removed);
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(dg.credit(challenger), CHALLENGER_BOND);
        assertEq(dg.credit(alice), 0);
        _assertConserved();
    }

    /// @dev Any other verifier revert bubbles up and changes nothing.
    function test_step_verifierReverts_reverts() public {
        verifier.setMode(TestVerifier.Mode.Broken);
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        _narrow(id, 2, 9);
        DisputeGame.Game memory before = _g(id);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(TestVerifier.TestVerifier_Broken.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
        DisputeGame.Game memory g = _g(id);
        assertTrue(g.status == DisputeGame.Status.InProgress);
        assertEq(g.lastMove, before.lastMove);
        assertEq(g.proposerUsed, before.proposerUsed);
        assertEq(manager.disputeOf(index).openGames, 1);
        assertEq(dg.credit(proposer) + dg.credit(challenger), 0);
        // A working step afterwards decides it.
        verifier.setMode(TestVerifier.Mode.Valid);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, "");
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
    }

    /// @dev Without a verifier (a StateManager whose owner set none) the step reverts.
    function test_step_noVerifier_reverts() public {
        StateManager bare = Proxies.deployStateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        DisputeGame game = new DisputeGame(bare, GENESIS_ROOT, CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        vm.prank(owner);
        bare.setDisputeGame(address(game));
        vm.deal(proposer, BOND);
        vm.startPrank(proposer);
        bare.depositBond{value: BOND}();
        bare.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(uint64(1), bytes32(uint256(3))));
        vm.stopPrank();
        vm.deal(challenger, CHALLENGER_BOND);
        uint256 id;
        {
            bytes32 disputed_ = _rootOf(game, 0);
            vm.prank(challenger);
            id = game.challenge{value: CHALLENGER_BOND}(0, disputed_);
        }
        for (uint256 i; i < 16; ++i) {
            {
                (uint64 atBlock_, uint64 atPosition_) = _bisectAt(game, id);
                vm.prank(proposer);
                game.bisect(id, atBlock_, atPosition_, _claim(1, i));
            }
            {
                bytes32 judged_ = game.games(id).midClaim;
                (uint64 atBlock_, uint64 atPosition_) = _bisectAt(game, id);
                vm.prank(challenger);
                game.pick(id, atBlock_, atPosition_, judged_, true);
            }
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(game, id);
            vm.expectRevert(StateManager.StateManager_NoVerifier.selector);
            game.step(id, atBlock_, atPosition_, "");
        }
    }

    function test_step_clockExpired_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 1));
        _narrow(id, 1, 100);
        vm.warp(dg.deadline(id));
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_ClockExpired.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
        dg.resolve(id);
        assertTrue(_g(id).status == DisputeGame.Status.ChallengerWon);
    }

    // ------------------------------------------------------------------ step with the OneStepVerifier

    /// @dev The output root of L2 block `number` the padding tests propose.
    function _output(uint256 number) internal pure returns (Withdrawals.OutputRoot memory) {
        return BridgeFixtures.outputRoot(keccak256(abi.encode("state", number)), uint64(number));
    }

    /// @dev A padding witness opening `output`.
    function _paddingWitness(Withdrawals.OutputRoot memory output) internal pure returns (bytes memory) {
        return abi.encode(uint8(1), abi.encode(output));
    }

    /// @dev Uses the real OneStepVerifier; proposes block 1 with its output root and plays to
    ///      the step at `position`, the proposer claiming the block's root from `SEAL` on (and
    ///      `wrong` after `goodUntil` if non-zero). Returns the proposal and game.
    function _paddingGame(uint64 position, uint64 goodUntil, bytes32 wrong)
        internal
        returns (uint256 index, uint256 id)
    {
        address osv = address(new StubInbox().verifier(IDepositChain(address(0xB41D6E))));
        vm.prank(owner);
        manager.setOneStepVerifier(osv);
        bytes32 root = Withdrawals.hashOutputRoot(_output(1));
        index = _proposeRoot(proposer, 1, root, 0);
        id = _challenge(challenger, index);
        (paddingRoot, paddingFrom, paddingUntil, paddingWrong) = (root, 100, goodUntil, wrong);
        _narrow(id, 1, position);
    }

    /// @dev An identity step after the seal is valid: the proposer wins.
    function test_step_paddingValid_succeeds() public {
        (uint256 index, uint256 id) = _paddingGame(500, type(uint64).max, bytes32(0));
        DisputeGame.Game memory g = _g(id);
        assertEq(g.loClaim, g.hiClaim);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(_output(1)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
        assertEq(manager.disputeOf(index).openGames, 0);
    }

    /// @dev A padding step whose claimed post-state differs from the sealed root is invalid.
    function test_step_paddingInvalid_succeeds() public {
        (uint256 index, uint256 id) = _paddingGame(500, 500, keccak256("wrong"));
        DisputeGame.Game memory g = _g(id);
        assertEq(g.loClaim, Withdrawals.hashOutputRoot(_output(1)));
        assertEq(g.hiClaim, keccak256("wrong"));
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.prank(challenger);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(_output(1)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ChallengerWon);
        assertTrue(manager.proposals(index).removed);
    }

    /// @dev A witness that does not open the agreed state, names another block or version, or
    ///      does not decode, reverts and leaves the game as it was.
    function test_step_paddingBadWitness_reverts() public {
        (, uint256 id) = _paddingGame(500, type(uint64).max, bytes32(0));
        Withdrawals.OutputRoot memory output = _output(1);
        output.stateRoot = keccak256("another state");
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(output));
        }
        output = _output(1);
        output.l2BlockNumber = 2;
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(output));
        }
        output = _output(1);
        output.version = 2;
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(output));
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert();
            dg.step(id, atBlock_, atPosition_, hex"0001");
        }
        assertTrue(_g(id).status == DisputeGame.Status.InProgress);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(_output(1)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
    }

    /// @dev Position 0 (the preamble) is never padding.
    function test_step_paddingPositionZero_reverts() public {
        (, uint256 id) = _paddingGame(0, type(uint64).max, bytes32(0));
        assertEq(_g(id).lo, 0);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(_output(1)));
        }
    }

    /// @dev An input step (a transaction or the seal) whose agreed trace state the witness
    ///      opens is not provable yet: NotProvableYet, so the game resolves for the allowlisted
    ///      proposer and says so.
    function test_step_inputUnprovable_allowlistedWins_succeeds() public {
        (uint256 index, uint256 id) = _paddingGame(7, type(uint64).max, bytes32(0));
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectEmit(address(dg));
            emit UnprovableStep(id, index, 1, 7);
            dg.step(id, atBlock_, atPosition_, _inputWitness(_traceState(1, 7)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
    }

    /// @dev An input witness must open the agreed state as a trace state of this block that
    ///      consumed exactly `position` inputs; anything else reverts and changes nothing.
    function test_step_inputBadWitness_reverts() public {
        (, uint256 id) = _paddingGame(7, type(uint64).max, bytes32(0));
        OneStepVerifier.TraceState memory state = _traceState(1, 7);
        state.inputs = 8;
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _inputWitness(state));
        }
        state = _traceState(2, 7);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _inputWitness(state));
        }
        state = _traceState(1, 7);
        state.version = 1;
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _inputWitness(state));
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(2), abi.encode(_output(0))));
        }
        assertTrue(_g(id).status == DisputeGame.Status.InProgress);
    }

    /// @dev A padding step cannot be passed off as unprovable: its agreed state is the block's
    ///      output root, which opens as no trace state and no parent output root, so an
    ///      allowlisted proposer whose claim after the seal is wrong still loses.
    function test_step_paddingAsOtherKind_reverts() public {
        (uint256 index, uint256 id) = _paddingGame(500, 500, keccak256("wrong"));
        vm.startPrank(proposer);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, _inputWitness(_traceState(1, 500)));
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(2), abi.encode(_output(1))));
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(0), bytes("")));
        }
        vm.stopPrank();
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, _paddingWitness(_output(1)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ChallengerWon);
        assertTrue(manager.proposals(index).removed);
    }

    /// @dev Uses the real OneStepVerifier over the stub inbox and a fresh game whose genesis
    ///      output root opens with a genesis header (L1 origin 7, 30M gas, 1 gwei, at its gas
    ///      target). Returns the preamble witness of block 1 and the context it has.
    function _preambleSetup()
        internal
        returns (OneStepVerifier.PreambleWitness memory w, OneStepVerifier.BlockContext memory context)
    {
        StubInbox stub = new StubInbox();
        address osv = address(stub.verifier(IDepositChain(address(0xB41D6E))));
        bytes32 genesisRoot;
        (w, genesisRoot) = _preambleWitness(stub, 1, 7, 1_700_000_000, 1 gwei, 30_000_000);
        context = OneStepVerifier.BlockContext({
            parentHash: w.parent.l2BlockHash,
            number: 1,
            timestamp: 1_700_000_000,
            l1OriginNumber: 7,
            l1OriginHash: keccak256(stub.originHeader(7)),
            baseFee: 1 gwei,
            gasLimit: 30_000_000,
            beneficiary: address(0),
            prevrandao: keccak256(abi.encode("randao", uint256(7)))
        });
        dg = new DisputeGame(manager, genesisRoot, CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        vm.startPrank(owner);
        manager.setDisputeGame(address(dg));
        manager.setOneStepVerifier(osv);
        vm.stopPrank();
    }

    /// @dev After `_preambleSetup`: proposes block 1 and plays to the preamble step (position
    ///      0), the proposer claiming `first` at position 1. Returns the proposal and the game.
    function _preambleGame(bytes32 first) internal returns (uint256 index, uint256 id) {
        index = _proposeRoot(proposer, 1, keccak256("block 1's output root"), 0);
        id = _challenge(challenger, index);
        while (!_atStep(id)) {
            if (_g(id).proposerToMove) {
                uint64 mid = _mid(id);
                {
                    (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
                    vm.prank(proposer);
                    dg.bisect(id, atBlock_, atPosition_, mid == 1 ? first : _claim(1, mid));
                }
            } else {
                _pick(id, false);
            }
        }
        assertEq(_g(id).lo, 0);
        assertEq(_g(id).loClaim, dg.genesisOutputRoot());
        assertEq(_g(id).hiClaim, first);
    }

    /// @dev A proposer whose first trace state is the one L1 fixes wins the preamble step.
    function test_step_preambleValid_succeeds() public {
        (OneStepVerifier.PreambleWitness memory w, OneStepVerifier.BlockContext memory context) = _preambleSetup();
        (uint256 index, uint256 id) = _preambleGame(_firstState(1, w.parent.stateRoot, context));
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(2), abi.encode(w)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
        assertEq(manager.disputeOf(index).openGames, 0);
        assertFalse(manager.proposals(index).removed);
        _assertConserved();
    }

    /// @dev A first trace state with another base fee (one wei more) loses the preamble step;
    ///      a bad witness (another L1 block's header as the origin's) first reverts and changes
    ///      nothing.
    function test_step_preambleInvalid_succeeds() public {
        (OneStepVerifier.PreambleWitness memory w, OneStepVerifier.BlockContext memory context) = _preambleSetup();
        context.baseFee += 1;
        (uint256 index, uint256 id) = _preambleGame(_firstState(1, w.parent.stateRoot, context));
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.originHeader = new StubInbox().originHeader(8);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(2), abi.encode(bad)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.InProgress);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, abi.encode(uint8(2), abi.encode(w)));
        }
        assertTrue(_g(id).status == DisputeGame.Status.ChallengerWon);
        assertTrue(manager.proposals(index).removed);
        _assertConserved();
    }

    /// @dev Witness kinds other than padding, preamble, input, deposit, transaction and seal
    ///      revert.
    function testFuzz_verify_unknownKind_reverts(uint8 kind, uint256 l2Block, uint256 position) public {
        vm.assume(kind == 0 || kind > 6);
        OneStepVerifier osv = new StubInbox().verifier(IDepositChain(address(0xB41D6E)));
        bytes memory ctx = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: l2Block, position: position, horizonL1Block: 1, witness: abi.encode(kind, bytes("x"))
            })
        );
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(bytes32(uint256(1)), bytes32(uint256(1)), ctx);
    }

    /// @dev The preamble over the stub inbox (every block keeps its parent's L1 origin and
    ///      timestamp; L1 block `n`'s header is `stub.originHeader(n)`): from the parent's output
    ///      root at position 0 the step is valid exactly for the block's first trace state, whose
    ///      context is written out here. The parent used its gas target, so the base fee stays.
    function testFuzz_verify_preamble_succeeds(
        uint64 number,
        uint64 origin,
        uint64 timestamp,
        uint64 baseFee,
        uint64 gasLimit,
        bytes32 toState
    ) public {
        number = uint64(bound(number, 1, type(uint64).max));
        StubInbox stub = new StubInbox();
        // Not the genesis origin, whose prevrandao is zero.
        origin = uint64(bound(origin, 0, type(uint64).max - 1));
        OneStepVerifier osv = stub.verifier(IDepositChain(address(0xB41D6E)));
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) =
            _preambleWitness(stub, number, origin, timestamp, baseFee, gasLimit);
        OneStepVerifier.BlockContext memory context = OneStepVerifier.BlockContext({
            parentHash: keccak256(w.parentHeader),
            number: number,
            timestamp: timestamp,
            l1OriginNumber: origin,
            l1OriginHash: keccak256(stub.originHeader(origin)),
            baseFee: baseFee,
            gasLimit: gasLimit,
            beneficiary: address(0),
            prevrandao: keccak256(abi.encode("randao", uint256(origin)))
        });
        _assertPreamble(osv, from, w, context, toState);
    }

    /// @dev `w` steps from `from` exactly to the first trace state with `context`, not to
    ///      `toState` unless it is that one, and not to the same state one second later.
    function _assertPreamble(
        OneStepVerifier osv,
        bytes32 from,
        OneStepVerifier.PreambleWitness memory w,
        OneStepVerifier.BlockContext memory context,
        bytes32 toState
    ) internal view {
        bytes32 next = _firstState(context.number, w.parent.stateRoot, context);
        bytes memory ctx = _stepContext(context.number, 0, abi.encode(uint8(2), abi.encode(w)));
        assertTrue(osv.verify(from, next, ctx), "the block's first trace state");
        assertEq(osv.verify(from, toState, ctx), toState == next);
        context.timestamp += 1;
        assertFalse(
            osv.verify(from, _firstState(context.number, w.parent.stateRoot, context), ctx), "another timestamp"
        );
    }

    /// @dev A preamble witness that does not open the agreed state (another state, output root
    ///      version or block), whose parent header is not the output root's, whose block table is
    ///      not the record's, whose origin header is not the recorded origin's, or that steps at
    ///      a position other than 0 (or in genesis), reverts BadWitness.
    function testFuzz_verify_preambleBadWitness_reverts(uint64 number, uint64 origin, uint256 position) public {
        number = uint64(bound(number, 1, type(uint64).max));
        origin = uint64(bound(origin, 0, type(uint64).max - 1));
        position = bound(position, 1, type(uint256).max);
        StubInbox stub = new StubInbox();
        OneStepVerifier osv = stub.verifier(IDepositChain(address(0xB41D6E)));
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) =
            _preambleWitness(stub, number, origin, 1_700_000_000, 1 gwei, 30_000_000);

        // At another position, or for genesis.
        _expectBadPreamble(osv, from, number, position, w);
        _expectBadPreamble(osv, from, 0, 0, w);
        // From another agreed state.
        _expectBadPreamble(osv, keccak256(abi.encode(from)), number, 0, w);
        // Another output root version or block, rehashed as the agreed state.
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.parent.version = 2;
        _expectBadPreamble(osv, Withdrawals.hashOutputRoot(bad.parent), number, 0, bad);
        bad = _copy(w);
        bad.parent.l2BlockNumber = number;
        _expectBadPreamble(osv, Withdrawals.hashOutputRoot(bad.parent), number, 0, bad);
        // A parent header that is not the output root's block.
        bad = _copy(w);
        (OneStepVerifier.PreambleWitness memory other,) =
            _preambleWitness(stub, number, origin + 1, 1_700_000_000, 1 gwei, 30_000_000);
        bad.parentHeader = other.parentHeader;
        _expectBadPreamble(osv, from, number, 0, bad);
        // Another block table, or none.
        bad = _copy(w);
        bad.blockTable = hex"01000000010000";
        _expectBadPreamble(osv, from, number, 0, bad);
        bad.blockTable = "";
        _expectBadPreamble(osv, from, number, 0, bad);
        // The header of another L1 block than the origin.
        bad = _copy(w);
        bad.originHeader = stub.originHeader(uint256(origin) + 1);
        _expectBadPreamble(osv, from, number, 0, bad);
        // The origin's header with another prevrandao (so another hash).
        bad.originHeader = _withMixHash(stub, origin, keccak256("another randao"));
        _expectBadPreamble(osv, from, number, 0, bad);
    }

    /// @dev The preamble witness of L2 block `number` over `stub`: its parent (`number - 1`) has
    ///      L1 origin `origin`, timestamp `timestamp`, base fee `baseFee`, gas limit `gasLimit`
    ///      and used its gas target. Returns it with the parent's output root (the agreed state).
    function _preambleWitness(
        StubInbox stub,
        uint256 number,
        uint64 origin,
        uint256 timestamp,
        uint256 baseFee,
        uint256 gasLimit
    ) internal pure returns (OneStepVerifier.PreambleWitness memory w, bytes32 from) {
        bytes memory parentHeader = L2BlockHeaders.encode(
            L2BlockHeaders.make(
                keccak256(abi.encode("grandparent", number)),
                number - 1,
                timestamp,
                origin,
                stub.originHash(origin),
                keccak256(abi.encode("randao", uint256(origin))),
                gasLimit,
                gasLimit / 2,
                baseFee
            )
        );
        Withdrawals.OutputRoot memory parent = _output(number - 1);
        parent.l2BlockHash = keccak256(parentHeader);
        w = OneStepVerifier.PreambleWitness({
            parent: parent,
            parentHeader: parentHeader,
            blockTable: stub.blockTable(),
            originHeader: stub.originHeader(origin)
        });
        from = Withdrawals.hashOutputRoot(parent);
    }

    /// @dev The first trace state of `number` (after the preamble): the parent's state root,
    ///      one input consumed, nothing run, and `context`.
    function _firstState(uint256 number, bytes32 stateRoot, OneStepVerifier.BlockContext memory context)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                OneStepVerifier.TraceState({
                    version: 2,
                    l2Block: number,
                    inputs: 1,
                    stateRoot: stateRoot,
                    cumulativeGas: 0,
                    included: 0,
                    txRoot: OrderedTrie.EMPTY_ROOT,
                    receiptRoot: OrderedTrie.EMPTY_ROOT,
                    logsBloomHash: keccak256(new bytes(256)),
                    context: keccak256(abi.encode(context))
                })
            )
        );
    }

    /// @dev The proof `verify` takes for a step of `l2Block` at `position`.
    function _stepContext(uint256 l2Block, uint256 position, bytes memory witness)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encode(
            IOneStepVerifier.StepContext({l2Block: l2Block, position: position, horizonL1Block: 1, witness: witness})
        );
    }

    /// @dev Expects `verify` of the preamble `w` of `l2Block` at `position` from `from` to
    ///      revert BadWitness.
    function _expectBadPreamble(
        OneStepVerifier osv,
        bytes32 from,
        uint256 l2Block,
        uint256 position,
        OneStepVerifier.PreambleWitness memory w
    ) internal {
        bytes memory ctx = _stepContext(l2Block, position, abi.encode(uint8(2), abi.encode(w)));
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(from, bytes32(0), ctx);
    }

    /// @dev A deep copy of `w` (its fields can then change alone).
    function _copy(OneStepVerifier.PreambleWitness memory w)
        internal
        pure
        returns (OneStepVerifier.PreambleWitness memory)
    {
        return abi.decode(abi.encode(w), (OneStepVerifier.PreambleWitness));
    }

    /// @dev The stub's header of L1 block `number` with another `mixHash`.
    function _withMixHash(StubInbox stub, uint256 number, bytes32 mixHash) internal pure returns (bytes memory) {
        L1Headers.Header memory h =
            L1Headers.defaults(keccak256(abi.encode("stub parent", number)), number, 1_700_000_000 + 12 * number);
        assertEq(keccak256(L1Headers.encode(h)), stub.originHash(number));
        h.mixHash = mixHash;
        return L1Headers.encode(h);
    }

    /// @dev An input step opened from a trace state past the seal is not provable.
    function testFuzz_verify_input_reverts(uint64 number, uint256 position, bytes32 toState) public {
        number = uint64(bound(number, 1, type(uint64).max));
        // Position 1 is the seal of the stub's empty blocks, which `STEP_SEAL` decides; past it
        // only a false claim can stand, and nothing is provable.
        position = bound(position, 2, 1 << 16);
        OneStepVerifier osv = new StubInbox().verifier(IDepositChain(address(0xB41D6E)));
        OneStepVerifier.TraceState memory state = _traceState(number, position);
        bytes memory ctx = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: number, position: position, horizonL1Block: 1, witness: _inputWitness(state)
            })
        );
        vm.expectRevert(abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, uint256(number), position));
        osv.verify(keccak256(abi.encode(state)), toState, ctx);
    }

    function testFuzz_verify_padding_succeeds(uint64 number, uint256 position, bytes32 toState) public {
        number = uint64(bound(number, 1, type(uint64).max));
        position = bound(position, 1, type(uint256).max);
        OneStepVerifier osv = new StubInbox().verifier(IDepositChain(address(0xB41D6E)));
        Withdrawals.OutputRoot memory output = _output(number);
        bytes32 from = Withdrawals.hashOutputRoot(output);
        bytes memory ctx = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: number, position: position, horizonL1Block: 1, witness: _paddingWitness(output)
            })
        );
        assertTrue(osv.verify(from, from, ctx));
        assertEq(osv.verify(from, toState, ctx), toState == from);
    }

    // ------------------------------------------------------------------ clocks

    /// @dev The time between moves is charged to the side to move only.
    function testFuzz_clock_chargesSideToMove_succeeds(uint256 d1, uint256 d2, uint256 d3) public {
        d1 = bound(d1, 0, MAX_CLOCK - CLOCK_EXT);
        d2 = bound(d2, 0, MAX_CLOCK - CLOCK_EXT);
        d3 = bound(d3, 0, MAX_CLOCK - CLOCK_EXT - d1);
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        uint256 start = block.timestamp;
        assertEq(dg.deadline(id), start + MAX_CLOCK);
        vm.warp(block.timestamp + d1);
        _bisect(id);
        DisputeGame.Game memory g = _g(id);
        assertEq(g.proposerUsed, d1);
        assertEq(g.challengerUsed, 0);
        assertEq(g.lastMove, block.timestamp);
        assertEq(dg.deadline(id), block.timestamp + MAX_CLOCK);
        vm.warp(block.timestamp + d2);
        _pick(id, true);
        g = _g(id);
        assertEq(g.proposerUsed, d1);
        assertEq(g.challengerUsed, d2);
        assertEq(dg.deadline(id), block.timestamp + MAX_CLOCK - d1);
        vm.warp(block.timestamp + d3);
        _bisect(id);
        g = _g(id);
        assertEq(g.proposerUsed, d1 + d3);
        assertEq(g.challengerUsed, d2);
        assertEq(dg.deadline(id), block.timestamp + MAX_CLOCK - d2);
    }

    function test_bisect_clockExpired_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.warp(block.timestamp + MAX_CLOCK);
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_ClockExpired.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, _claim(0, 4));
        }
        // One second earlier it would have been in time.
        vm.warp(block.timestamp - 1);
        _bisect(id);
    }

    function test_pick_clockExpired_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        _bisect(id);
        vm.warp(block.timestamp + MAX_CLOCK);
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_ClockExpired.selector);
            vm.prank(challenger);
            dg.pick(id, atBlock_, atPosition_, judged_, true);
        }
    }

    function test_resolve_clockRunning_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.warp(block.timestamp + MAX_CLOCK - 1);
        vm.expectRevert(DisputeGame.DisputeGame_ClockRunning.selector);
        dg.resolve(id);
        _bisect(id);
        vm.warp(block.timestamp + MAX_CLOCK - 1);
        vm.expectRevert(DisputeGame.DisputeGame_ClockRunning.selector);
        dg.resolve(id);
    }

    /// @dev The proposer does not move in time: the challenger wins.
    function test_resolve_proposerExpired_succeeds() public {
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        vm.warp(dg.deadline(id));
        vm.expectEmit(address(dg));
        emit GameResolved(id, DisputeGame.Status.ChallengerWon);
        vm.prank(makeAddr("anyone"));
        dg.resolve(id);
        assertTrue(manager.proposals(index).removed);
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(dg.credit(challenger), CHALLENGER_BOND);
        assertEq(dg.deadline(id), 0);
        _assertConserved();
    }

    /// @dev The challenger does not pick in time: the proposer wins and the game closes.
    function test_resolve_challengerExpired_succeeds() public {
        uint256 index = _propose(proposer, 8);
        uint256 id = _challenge(challenger, index);
        vm.warp(block.timestamp + 100);
        _bisect(id);
        assertEq(dg.deadline(id), block.timestamp + MAX_CLOCK);
        vm.warp(dg.deadline(id));
        dg.resolve(id);
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);
        assertEq(dg.credit(proposer), CHALLENGER_BOND);
        assertEq(manager.disputeOf(index).openGames, 0);
        assertTrue(manager.isFinal(index));
        _assertConserved();
    }

    /// @dev A side left with less than clockExtension when its turn starts gets exactly
    ///      clockExtension; a side with exactly that much or more keeps its clock.
    function test_clock_extension_succeeds() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        // The proposer uses all but 10 seconds.
        vm.warp(block.timestamp + MAX_CLOCK - 10);
        _bisect(id);
        assertEq(_g(id).proposerUsed, MAX_CLOCK - 10);
        // The challenger answers: the proposer's turn starts with exactly clockExtension.
        vm.warp(block.timestamp + 5);
        _pick(id, true);
        assertEq(_g(id).proposerUsed, MAX_CLOCK - CLOCK_EXT);
        assertEq(dg.deadline(id), block.timestamp + CLOCK_EXT);
        // The challenger, at exactly clockExtension left, keeps it.
        vm.warp(block.timestamp + 1);
        _bisect(id);
        vm.warp(block.timestamp + MAX_CLOCK - CLOCK_EXT - 5);
        _pick(id, true);
        assertEq(_g(id).challengerUsed, MAX_CLOCK - CLOCK_EXT);
        // The proposer (CLOCK_EXT - 1 left) is extended again.
        assertEq(_g(id).proposerUsed, MAX_CLOCK - CLOCK_EXT);
        vm.warp(block.timestamp + CLOCK_EXT - 1);
        _bisect(id);
        assertEq(_g(id).challengerUsed, MAX_CLOCK - CLOCK_EXT);
        assertEq(dg.deadline(id), block.timestamp + CLOCK_EXT);
        // A side with more than clockExtension left is not touched.
        uint256 other = _challenge(challenger, _propose(proposer, 9));
        vm.warp(block.timestamp + 1000);
        _bisect(other);
        _pick(other, true);
        assertEq(_g(other).proposerUsed, 1000);
    }

    function test_deadline_succeeds() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        uint256 start = block.timestamp;
        assertEq(dg.deadline(id), start + MAX_CLOCK);
        vm.warp(start + 500);
        // Time passing does not move the deadline.
        assertEq(dg.deadline(id), start + MAX_CLOCK);
        _bisect(id);
        assertEq(dg.deadline(id), start + 500 + MAX_CLOCK);
        vm.warp(start + 800);
        _pick(id, true);
        assertEq(dg.deadline(id), start + 800 + MAX_CLOCK - 500);
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        dg.deadline(id + 1);
    }

    function test_maxGameDuration_succeeds() public view {
        uint256 base = 2 * uint256(MAX_CLOCK);
        assertEq(dg.maxGameDuration(0), base + CLOCK_EXT * 33);
        assertEq(dg.maxGameDuration(1), base + CLOCK_EXT * 33);
        assertEq(dg.maxGameDuration(2), base + CLOCK_EXT * 35);
        assertEq(dg.maxGameDuration(3), base + CLOCK_EXT * 37);
        assertEq(dg.maxGameDuration(4), base + CLOCK_EXT * 37);
        assertEq(dg.maxGameDuration(8), base + CLOCK_EXT * 39);
        assertEq(dg.maxGameDuration(9), base + CLOCK_EXT * 41);
        assertEq(dg.maxGameDuration(1 << 20), base + CLOCK_EXT * 73);
        assertEq(dg.maxGameDuration((1 << 20) + 1), base + CLOCK_EXT * 75);
    }

    /// @dev However both sides spend their time (often all but one second of what is left, so
    ///      every turn gets extended), the latest possible resolve is never later than
    ///      maxGameDuration(range) after the challenge.
    function testFuzz_maxGameDuration_bound_succeeds(uint256 number, uint256 seed) public {
        number = bound(number, 1, 5000);
        uint256 id = _challenge(challenger, _propose(proposer, number));
        uint256 start = block.timestamp;
        uint256 limit = start + dg.maxGameDuration(number);
        while (true) {
            assertLe(dg.deadline(id), limit, "a deadline beyond maxGameDuration");
            seed = uint256(keccak256(abi.encode(seed)));
            // Stall now and then: the game ends at the deadline.
            if (_atStep(id) || seed % 23 == 0) break;
            uint256 left = dg.deadline(id) - block.timestamp;
            uint256 delay = seed % 3 == 0 ? bound(seed >> 8, 0, left - 1) : left - 1;
            vm.warp(block.timestamp + delay);
            if (_g(id).proposerToMove) _bisect(id);
            else _pick(id, (seed >> 128) % 2 == 0);
        }
        vm.warp(dg.deadline(id));
        dg.resolve(id);
        assertLe(block.timestamp, limit, "resolved after the bound");
    }

    // ------------------------------------------------------------------ resolution

    function test_resolve_twice_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 8));
        vm.warp(dg.deadline(id));
        dg.resolve(id);
        vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
        dg.resolve(id);
    }

    /// @dev A resolved game takes no more moves.
    function test_moves_afterResolution_reverts() public {
        uint256 id = _challenge(challenger, _propose(proposer, 1));
        _narrow(id, 1, 9);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, "");
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
            dg.step(id, atBlock_, atPosition_, "");
        }
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, _claim(1, 1));
        }
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
            vm.prank(challenger);
            dg.pick(id, atBlock_, atPosition_, judged_, true);
        }
        vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
        dg.resolve(id);
        assertEq(dg.deadline(id), 0);
    }

    function testFuzz_unknownGame_reverts(uint256 id) public {
        _challenge(challenger, _propose(proposer, 8));
        id = bound(id, 1, type(uint256).max);
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        dg.resolve(id);
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        dg.step(id, 1, 0, "");
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        vm.prank(proposer);
        dg.bisect(id, 0, 4, _claim(0, 1));
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        vm.prank(challenger);
        dg.pick(id, 0, 4, _claim(0, 4), true);
        vm.expectRevert(DisputeGame.DisputeGame_UnknownGame.selector);
        dg.games(id);
    }

    // ------------------------------------------------------------------ credits

    function test_claimCredit_succeeds() public {
        verifier.setMode(TestVerifier.Mode.Invalid);
        uint256 id = _challenge(challenger, _propose(proposer, 1));
        _narrow(id, 1, 3);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, "");
        }
        uint256 before = challenger.balance;
        vm.expectEmit(address(dg));
        emit CreditClaimed(challenger, CHALLENGER_BOND);
        vm.prank(makeAddr("anyone"));
        dg.claimCredit(challenger);
        assertEq(challenger.balance, before + CHALLENGER_BOND);
        assertEq(dg.credit(challenger), 0);
        assertEq(address(dg).balance, 0);
        // Once.
        vm.expectRevert(DisputeGame.DisputeGame_NoCredit.selector);
        dg.claimCredit(challenger);
        // The proposal's bond sits in the StateManager, withdrawn there.
        vm.prank(challenger);
        manager.withdrawBond(REWARD);
        assertEq(challenger.balance, before + CHALLENGER_BOND + REWARD);
        _assertConserved();
    }

    function testFuzz_claimCredit_zero_reverts(address recipient) public {
        vm.expectRevert(DisputeGame.DisputeGame_NoCredit.selector);
        dg.claimCredit(recipient);
    }

    /// @dev A recipient that rejects ETH keeps its credit; nothing is lost or jammed.
    function test_claimCredit_recipientRejectsEth_reverts() public {
        address rejecter = address(new CreditRejecter());
        accounts.push(rejecter);
        uint256 id = _challenge(rejecter, _propose(proposer, 8));
        vm.warp(dg.deadline(id));
        dg.resolve(id);
        assertEq(dg.credit(rejecter), CHALLENGER_BOND);
        vm.expectRevert(SafeTransferLib.ETHTransferFailed.selector);
        dg.claimCredit(rejecter);
        assertEq(dg.credit(rejecter), CHALLENGER_BOND);
        assertEq(address(dg).balance, CHALLENGER_BOND);
        _assertConserved();
    }

    /// @dev Whatever block and step a game narrows to, whoever submits it, and whatever the
    ///      verifier answers: a valid step pays the challenger's bond to the proposer and leaves
    ///      the proposal to become final; an invalid step, or one nobody can prove yet against a
    ///      proposer that was not allowlisted, removes the proposal, gives its bond to the
    ///      challenger and refunds the challenger's. Every wei is accounted for, the credit is
    ///      paid once to its owner whoever claims it, and the game cannot be stepped again.
    function testFuzz_step_outcome_succeeds(
        uint256 number,
        uint256 disputed,
        uint256 position,
        uint256 mode,
        bool allowlisted,
        address caller
    ) public {
        number = bound(number, 1, 1 << 20);
        disputed = bound(disputed, 1, number);
        position = bound(position, 0, TRACE_STEPS - 1);
        TestVerifier.Mode m = TestVerifier.Mode(bound(mode, 0, 2));
        address who = proposer;
        if (!allowlisted) {
            vm.prank(owner);
            manager.setPermissionlessProposals(true);
            who = _account("permissionless");
        }
        vm.assume(caller != who && caller != challenger && caller != address(dg));
        verifier.setMode(m);
        uint256 index = _propose(who, number);
        uint256 id = _challenge(challenger, index);
        _narrow(id, disputed, position);
        bool proposerWins = m == TestVerifier.Mode.Valid || (m == TestVerifier.Mode.Unprovable && allowlisted);

        // `_narrow` left the game at block `disputed`, position `position`.
        vm.expectEmit(address(dg));
        emit GameResolved(id, proposerWins ? DisputeGame.Status.ProposerWon : DisputeGame.Status.ChallengerWon);
        vm.prank(caller);
        dg.step(id, uint64(disputed), uint64(position), abi.encode(disputed, position));
        _assertConserved();
        assertEq(manager.disputeOf(index).openGames, proposerWins ? 0 : 1);
        assertEq(manager.proposals(index).removed, !proposerWins);
        assertEq(manager.bondBalance(challenger), proposerWins ? 0 : REWARD);
        address winner = proposerWins ? who : challenger;
        address loser = proposerWins ? challenger : who;
        assertEq(dg.credit(winner), CHALLENGER_BOND);
        assertEq(dg.credit(loser), 0);
        vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
        dg.step(id, uint64(disputed), uint64(position), "");

        uint256 before = winner.balance;
        uint256 callerBefore = caller.balance;
        vm.expectEmit(address(dg));
        emit CreditClaimed(winner, CHALLENGER_BOND);
        vm.prank(caller);
        dg.claimCredit(winner);
        assertEq(winner.balance, before + CHALLENGER_BOND);
        assertEq(caller.balance, callerBefore, "the caller was paid");
        assertEq(address(dg).balance, 0);
        vm.expectRevert(DisputeGame.DisputeGame_NoCredit.selector);
        dg.claimCredit(winner);

        // The proposal's own bond: back to the proposer once final, or already the challenger's.
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        if (proposerWins) manager.returnBond(index);
        assertEq(manager.bondBalance(winner), proposerWins ? BOND : REWARD);
        _assertConserved();
    }

    /// @dev At any point of a game, the side to move loses once its clock is out, and not a
    ///      second before; anyone may resolve it, the bonds go as `step` would send them, and
    ///      every wei is accounted for.
    function testFuzz_resolve_clockExpired_succeeds(
        uint256 number,
        uint256 moves,
        uint256 seed,
        uint256 late,
        address caller
    ) public {
        number = bound(number, 1, 1 << 20);
        moves = bound(moves, 0, 60);
        late = bound(late, 0, 10 * MAX_CLOCK);
        uint256 index = _propose(proposer, number);
        uint256 id = _challenge(challenger, index);
        for (uint256 i; i < moves && !_atStep(id); ++i) {
            if (_g(id).proposerToMove) {
                _bisect(id);
            } else {
                _pick(id, uint256(keccak256(abi.encode(seed, i))) % 2 == 0);
            }
        }
        bool proposerToMove = _g(id).proposerToMove;
        uint256 deadline = dg.deadline(id);
        vm.warp(deadline - 1);
        vm.expectRevert(DisputeGame.DisputeGame_ClockRunning.selector);
        dg.resolve(id);

        vm.warp(deadline + late);
        vm.expectEmit(address(dg));
        emit GameResolved(id, proposerToMove ? DisputeGame.Status.ChallengerWon : DisputeGame.Status.ProposerWon);
        vm.prank(caller);
        dg.resolve(id);
        assertEq(manager.proposals(index).removed, proposerToMove);
        assertEq(dg.credit(proposerToMove ? challenger : proposer), CHALLENGER_BOND);
        assertEq(dg.credit(proposerToMove ? proposer : challenger), 0);
        assertEq(manager.bondBalance(challenger), proposerToMove ? REWARD : 0);
        assertEq(manager.isFinal(index), !proposerToMove);
        assertEq(dg.deadline(id), 0);
        _assertConserved();
        vm.expectRevert(DisputeGame.DisputeGame_GameOver.selector);
        dg.resolve(id);
    }

    /// @dev Credits from several games add up and are paid in one claim, to their owner only,
    ///      whoever triggers it; nothing is left to claim twice.
    function testFuzz_claimCredit_accumulated_succeeds(uint256 games, address caller) public {
        games = bound(games, 1, 4);
        vm.assume(caller != proposer && caller != address(dg));
        for (uint256 i; i < games; ++i) {
            uint256 id = _challenge(challenger, _propose(proposer, 2 * (i + 1)));
            _bisect(id);
            vm.warp(dg.deadline(id));
            dg.resolve(id);
        }
        assertEq(dg.credit(proposer), games * CHALLENGER_BOND);
        _assertConserved();
        uint256 before = proposer.balance;
        uint256 callerBefore = caller.balance;
        vm.prank(caller);
        dg.claimCredit(proposer);
        assertEq(proposer.balance, before + games * CHALLENGER_BOND);
        assertEq(caller.balance, callerBefore, "the caller was paid");
        assertEq(dg.credit(proposer), 0);
        assertEq(address(dg).balance, 0);
        vm.expectRevert(DisputeGame.DisputeGame_NoCredit.selector);
        vm.prank(caller);
        dg.claimCredit(proposer);
        _assertConserved();
    }

    // ------------------------------------------------------------------ parallel games

    /// @dev Three games on one proposal: the first challenger win removes it and takes the
    ///      proposal's bond; the others end as ChallengerWon with their bond refunded only,
    ///      through resolve (without waiting for a clock) or step (without asking the verifier).
    function test_parallelGames_firstWinRemoves_succeeds() public {
        address second = _account("second");
        address third = _account("third");
        uint256 index = _propose(proposer, 8);
        uint256 a = _challenge(challenger, index);
        uint256 b = _challenge(second, index);
        uint256 c = _challenge(third, index);
        assertEq(manager.disputeOf(index).openGames, 3);
        _narrow(a, 5, 17);
        _narrow(c, 2, 40);
        _bisect(b);
        verifier.setMode(TestVerifier.Mode.Invalid);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, a);
            dg.step(a, atBlock_, atPosition_, "");
        }
        assertTrue(manager.proposals(index).removed);
        assertEq(manager.bondBalance(challenger), REWARD);
        _assertConserved();

        // b: the challenger's turn, clock running; resolves at once.
        vm.expectEmit(address(dg));
        emit GameResolved(b, DisputeGame.Status.ChallengerWon);
        dg.resolve(b);
        // c: at its step; resolved without consulting the verifier.
        verifier.setMode(TestVerifier.Mode.Valid);
        uint256 calls = verifier.calls();
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, c);
            dg.step(c, atBlock_, atPosition_, "");
        }
        assertEq(verifier.calls(), calls);
        assertTrue(_g(b).status == DisputeGame.Status.ChallengerWon);
        assertTrue(_g(c).status == DisputeGame.Status.ChallengerWon);
        assertEq(manager.bondBalance(second), 0);
        assertEq(manager.bondBalance(third), 0);
        assertEq(dg.credit(second), CHALLENGER_BOND);
        assertEq(dg.credit(third), CHALLENGER_BOND);
        assertEq(dg.credit(proposer), 0);
        _assertConserved();
    }

    /// @dev The proposal is final only once every game on it closed in its favour.
    function test_parallelGames_finalWhenAllClosed_succeeds() public {
        address second = _account("second");
        uint256 index = _propose(proposer, 8);
        uint256 a = _challenge(challenger, index);
        vm.warp(block.timestamp + CHALLENGE_PERIOD - 1);
        uint256 b = _challenge(second, index);
        _narrow(a, 8, 65535);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, a);
            dg.step(a, atBlock_, atPosition_, "");
        }
        assertEq(manager.disputeOf(index).openGames, 1);
        vm.warp(block.timestamp + 1);
        assertFalse(manager.isFinal(index));
        _bisect(b);
        vm.warp(dg.deadline(b) - 1);
        assertFalse(manager.isFinal(index));
        vm.warp(dg.deadline(b));
        assertFalse(manager.isFinal(index));
        dg.resolve(b);
        assertTrue(manager.isFinal(index));
        assertEq(dg.credit(proposer), 2 * CHALLENGER_BOND);
        manager.returnBond(index);
        _assertConserved();
    }

    // ------------------------------------------------------------------ sybils

    /// @dev N challengers each open a game at the last second of the challenge period and stall
    ///      (after the proposer's first bisection, or before it when the proposer is slow): the
    ///      proposal is final no later than timestamp + challengePeriod + maxGameDuration(range).
    function testFuzz_sybils_finalityBound_succeeds(uint256 n, uint256 number, uint256 proposerDelay) public {
        n = bound(n, 1, 12);
        number = bound(number, 1, 1 << 30);
        uint256 index = _propose(proposer, number);
        uint256 proposedAt = block.timestamp;
        uint256 limit = proposedAt + CHALLENGE_PERIOD + dg.maxGameDuration(number);
        vm.warp(proposedAt + CHALLENGE_PERIOD - 1);
        uint256[] memory ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _challenge(_account(string.concat("sybil", vm.toString(i))), index);
        }
        // The proposer answers every game, as late as it likes within its clock.
        vm.warp(block.timestamp + bound(proposerDelay, 0, MAX_CLOCK - 1));
        for (uint256 i; i < n; ++i) {
            _bisect(ids[i]);
        }
        uint256 latest;
        for (uint256 i; i < n; ++i) {
            if (dg.deadline(ids[i]) > latest) latest = dg.deadline(ids[i]);
        }
        assertLe(latest, limit, "a deadline after the bound");
        vm.warp(latest);
        for (uint256 i; i < n; ++i) {
            dg.resolve(ids[i]);
        }
        assertTrue(manager.isFinal(index));
        assertLe(block.timestamp, limit, "resolved after the bound");
        assertEq(dg.credit(proposer), n * CHALLENGER_BOND);
        _assertConserved();
    }

    /// @dev The same with a withdrawal proven against the proposal: it finalizes once the
    ///      stalled games are resolved, within the bound, and not before.
    function test_sybils_withdrawalFinalizes_succeeds() public {
        uint256 l2ChainId = 4242;
        L1Bridge bridge = BridgeFixtures.deployL1Bridge(address(manager), l2ChainId, makeAddr("proxyOwner"));
        address alice = _account("alice");
        address bob = _account("bob");
        vm.deal(alice, 10 ether);
        vm.prank(alice, alice);
        bridge.deposit{value: 10 ether}(address(0), address(0), 10 ether, 21_000);

        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(0, bob, bob, address(0), address(0), 2 ether);
        (bytes32 stateRoot, Withdrawals.WithdrawalProof memory proof) =
            TrieBuilder.proveSingle(Withdrawals.hash(w, l2ChainId, address(bridge)));
        uint256 index = BridgeFixtures.propose(manager, stateRoot, 20);
        uint256 proposedAt = block.timestamp;
        vm.prank(bob);
        bytes32 wid = bridge.proveWithdrawal(index, w, BridgeFixtures.atBlock(proof, 20));
        uint256 limit = proposedAt + CHALLENGE_PERIOD + dg.maxGameDuration(20);

        vm.warp(proposedAt + CHALLENGE_PERIOD - 1);
        uint256[] memory ids = new uint256[](5);
        for (uint256 i; i < ids.length; ++i) {
            ids[i] = _challenge(_account(string.concat("sybil", vm.toString(i))), index);
        }
        vm.warp(proposedAt + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        vm.prank(bob);
        bridge.finalizeWithdrawal(uint256(wid), bob, 2 ether);
        for (uint256 i; i < ids.length; ++i) {
            _bisect(ids[i]);
        }
        vm.warp(dg.deadline(ids[0]));
        for (uint256 i; i < ids.length; ++i) {
            dg.resolve(ids[i]);
        }
        assertLe(block.timestamp, limit, "resolved after the bound");
        vm.prank(bob);
        bridge.finalizeWithdrawal(uint256(wid), bob, 2 ether);
        assertEq(bob.balance, 2 ether);
        _assertConserved();
    }

    // ------------------------------------------------------------------ bonds

    /// @dev A mixed run: several proposals and games, every outcome; both contracts stay
    ///      conserved at every step and all credits pay out.
    function test_bonds_conserved_succeeds() public {
        vm.prank(owner);
        manager.setPermissionlessProposals(true);
        address alice = _account("alice");
        address second = _account("second");
        uint256 p0 = _propose(proposer, 4);
        uint256 p1 = _propose(alice, 4);
        uint256 p2 = _propose(proposer, 9);
        _assertConserved();
        uint256 g0 = _challenge(challenger, p0);
        uint256 g1 = _challenge(second, p1);
        uint256 g2 = _challenge(challenger, p2);
        uint256 g3 = _challenge(second, p2);
        _assertConserved();
        // g0: proposer proves; g1: unprovable, permissionless loses; g2: challenger wins by
        // clock; g3: refunded after the removal.
        _narrow(g0, 2, 50);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, g0);
            dg.step(g0, atBlock_, atPosition_, "");
        }
        _assertConserved();
        verifier.setMode(TestVerifier.Mode.Unprovable);
        _narrow(g1, 1, 0);
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, g1);
            dg.step(g1, atBlock_, atPosition_, "");
        }
        _assertConserved();
        vm.warp(dg.deadline(g2));
        dg.resolve(g2);
        _assertConserved();
        dg.resolve(g3);
        _assertConserved();
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(p0);
        _assertConserved();
        assertEq(dg.credit(proposer), CHALLENGER_BOND);
        assertEq(dg.credit(challenger), CHALLENGER_BOND);
        assertEq(dg.credit(second), 2 * CHALLENGER_BOND);
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(manager.bondBalance(second), REWARD);
        assertEq(manager.burnedBonds(), 2 * (BOND - REWARD), "p1 and p2 each burned half");
        for (uint256 i; i < accounts.length; ++i) {
            if (dg.credit(accounts[i]) != 0) dg.claimCredit(accounts[i]);
        }
        assertEq(address(dg).balance, 0);
        _assertConserved();
    }

    // ------------------------------------------------------------------ gas

    /// @dev Marks the game's, the StateManager's (proxy and implementation) and the verifier's
    ///      storage cold, as at the start of a transaction.
    function _cool() internal {
        vm.cool(address(dg));
        vm.cool(address(manager));
        vm.cool(Proxies.implementationOf(address(manager)));
        vm.cool(manager.oneStepVerifier());
    }

    /// @dev Gas of each move on a game over 2**20 blocks, the step a padding step through the
    ///      real OneStepVerifier; logged and bounded. Every measured call starts with cold
    ///      storage (`_cool`), as in its own transaction; the 21,000 intrinsic gas and calldata
    ///      are not included.
    function test_gas_moves_succeeds() public {
        address osv = address(new StubInbox().verifier(IDepositChain(address(0xB41D6E))));
        vm.prank(owner);
        manager.setOneStepVerifier(osv);
        uint256 number = 1 << 20;
        Withdrawals.OutputRoot memory output = _output(number);
        bytes32 root = Withdrawals.hashOutputRoot(output);
        uint256 index = _proposeRoot(proposer, number, root, 0);

        vm.deal(challenger, 2 * CHALLENGER_BOND);
        _cool();
        uint256 id;
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.prank(challenger);
            id = dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
        uint256 challengeGas = vm.lastCallGas().gasTotalUsed;

        bytes32 claim = _claim(0, 1);
        _cool();
        {
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.prank(proposer);
            dg.bisect(id, atBlock_, atPosition_, claim);
        }
        uint256 bisectGas = vm.lastCallGas().gasTotalUsed;
        _cool();
        {
            bytes32 judged_ = dg.games(id).midClaim;
            (uint64 atBlock_, uint64 atPosition_) = _bisectAt(dg, id);
            vm.prank(challenger);
            dg.pick(id, atBlock_, atPosition_, judged_, true);
        }
        uint256 pickGas = vm.lastCallGas().gasTotalUsed;

        (paddingRoot, paddingFrom, paddingUntil, paddingWrong) = (root, 100, type(uint64).max, bytes32(0));
        _narrow(id, number, 30_000);
        bytes memory witness = _paddingWitness(output);
        _cool();
        {
            (uint64 atBlock_, uint64 atPosition_) = _stepAt(dg, id);
            dg.step(id, atBlock_, atPosition_, witness);
        }
        uint256 stepGas = vm.lastCallGas().gasTotalUsed;
        assertTrue(_g(id).status == DisputeGame.Status.ProposerWon);

        uint256 other;
        {
            bytes32 disputed_ = _rootOf(dg, index);
            vm.prank(challenger);
            other = dg.challenge{value: CHALLENGER_BOND}(index, disputed_);
        }
        vm.warp(dg.deadline(other));
        _cool();
        dg.resolve(other);
        uint256 resolveGas = vm.lastCallGas().gasTotalUsed;
        _cool();
        dg.claimCredit(challenger);
        uint256 claimGas = vm.lastCallGas().gasTotalUsed;

        console.log("gas challenge", challengeGas);
        console.log("gas bisect", bisectGas);
        console.log("gas pick", pickGas);
        console.log("gas step (padding)", stepGas);
        console.log("gas resolve (challenger wins)", resolveGas);
        console.log("gas claimCredit", claimGas);
        assertLt(challengeGas, 300_000, "challenge gas");
        assertLt(bisectGas, 100_000, "bisect gas");
        assertLt(pickGas, 100_000, "pick gas");
        assertLt(stepGas, 200_000, "step gas");
        assertLt(resolveGas, 200_000, "resolve gas");
        assertLt(claimGas, 100_000, "claimCredit gas");
    }
}
