// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {DisputeGame} from "src/dispute/DisputeGame.sol";
import {TestVerifier} from "test/dispute/TestVerifier.sol";

/// @dev Plays dispute games at random: allowlisted and permissionless proposals (on the genesis
///      or on a final anchor), challenges, bisections, picks, steps (the test verifier answers
///      valid, invalid, not provable yet, or breaks), time, resolutions, credit claims and bond
///      returns. Each move is made when the game's state allows it and must then succeed;
///      moves the state forbids are attempted too and must revert with the expected error.
///      After every call it checks that resolved games stay resolved and final proposals stay
///      final.
contract DisputeGameHandler is Test {
    StateManager internal immutable manager;
    DisputeGame internal immutable dg;
    TestVerifier internal immutable verifier;
    uint256 internal immutable challengePeriod;
    uint256 internal immutable challengerBond;
    uint256 internal immutable proposalBond;

    address[] internal proposers;
    address[] internal challengers;
    address[] internal everyone;

    /// @dev The status each game resolved to (None while in progress).
    mapping(uint256 id => DisputeGame.Status) internal resolvedAs;
    /// @dev Whether each proposal was ever seen final.
    mapping(uint256 index => bool) internal seenFinal;

    uint256 public ghostSteps;
    uint256 public ghostResolves;
    uint256 public ghostClaims;

    constructor(StateManager manager_, DisputeGame dg_, TestVerifier verifier_, address allowlisted) {
        manager = manager_;
        dg = dg_;
        verifier = verifier_;
        challengePeriod = manager_.challengePeriod();
        challengerBond = dg_.challengerBond();
        proposalBond = manager_.proposalBond();
        proposers.push(allowlisted);
        proposers.push(makeAddr("alice"));
        proposers.push(makeAddr("bob"));
        challengers.push(makeAddr("carol"));
        challengers.push(makeAddr("dave"));
        challengers.push(makeAddr("erin"));
        for (uint256 i; i < proposers.length; ++i) {
            everyone.push(proposers[i]);
        }
        for (uint256 i; i < challengers.length; ++i) {
            everyone.push(challengers[i]);
        }
    }

    // ------------------------------------------------------------------ views for invariants

    function allAccounts() external view returns (address[] memory) {
        return everyone;
    }

    // ------------------------------------------------------------------ actions

    /// @dev A proposal by an allowlisted or permissionless proposer, above its own latest block,
    ///      anchored on the genesis or (when one exists below it) on a final proposal.
    function propose(uint256 actorSeed, uint256 delta, uint256 anchorSeed) external {
        address who = proposers[actorSeed % proposers.length];
        (bool found, uint256 latest) = manager.latestProposalOf(who);
        uint256 number = (found ? manager.proposals(latest).l2BlockNumber : 0) + 1 + delta % 6;
        uint256 anchor;
        uint256 count = manager.proposalCount();
        if (count != 0 && anchorSeed % 2 == 0) {
            uint256 candidate = anchorSeed % count;
            if (manager.isFinal(candidate) && manager.proposals(candidate).l2BlockNumber < number) {
                anchor = candidate + 1;
            }
        }
        vm.deal(who, who.balance + proposalBond);
        vm.startPrank(who);
        manager.depositBond{value: proposalBond}();
        manager.submitStateRoot(
            keccak256(abi.encode("output", who, number)),
            keccak256(abi.encode("batch", number)),
            abi.encode(uint64(number), keccak256(abi.encode("block", number)), anchor)
        );
        vm.stopPrank();
        _sync();
    }

    /// @dev A challenge: succeeds on a live proposal in its challenge period naming its root,
    ///      else reverts; `stale` names another root (a proposal replaced before it was mined).
    function challenge(uint256 proposalSeed, uint256 challengerSeed, bool stale) external {
        uint256 count = manager.proposalCount();
        if (count == 0) return;
        uint256 index = proposalSeed % count;
        address who = challengers[challengerSeed % challengers.length];
        StateManager.Proposal memory p = manager.proposals(index);
        vm.deal(who, who.balance + challengerBond);
        vm.prank(who);
        bytes32 named = stale ? keccak256(abi.encode(p.stateRoot)) : p.stateRoot;
        try dg.challenge{value: challengerBond}(index, named) returns (uint256 id) {
            assertFalse(stale, "challenged naming another root");
            assertFalse(p.removed, "challenged a removed proposal");
            assertLt(block.timestamp, uint256(p.timestamp) + challengePeriod, "challenged after the period");
            assertEq(id + 1, dg.gameCount(), "game id");
        } catch (bytes memory reason) {
            bool over = block.timestamp >= uint256(p.timestamp) + challengePeriod;
            _expect(
                reason,
                p.removed
                    ? StateManager.StateManager_ProposalRemoved.selector
                    : over
                        ? StateManager.StateManager_ChallengePeriodOver.selector
                        : DisputeGame.DisputeGame_StaleMove.selector
            );
        }
        _sync();
    }

    /// @dev The proposal's proposer bisects when it may, at the midpoint; anyone else never can,
    ///      nor can it at another position (`stale`: a move decided on a replaced one).
    function bisect(uint256 gameSeed, bytes32 claim, bool asOther, bool stale) external {
        (bool any, uint256 id, DisputeGame.Game memory g) = _pickGame(gameSeed);
        if (!any) return;
        if (claim == bytes32(0)) claim = keccak256("claim");
        address by = manager.proposals(g.proposal).proposer;
        bool allowed = g.status == DisputeGame.Status.InProgress && g.proposerToMove && g.hi - g.lo >= 2;
        uint64 mid = g.lo + (g.hi - g.lo) / 2;
        if (asOther || !allowed || stale) {
            vm.prank(asOther ? g.challenger : by);
            try dg.bisect(id, g.l2Block, stale ? mid + 1 : mid, claim) {
                assertTrue(!asOther && allowed && !stale, "a forbidden bisection succeeded");
            } catch (bytes memory reason) {
                // The proposer on its turn, naming another position: refused for that alone,
                // before its clock is looked at.
                if (stale && !asOther && allowed) _expect(reason, DisputeGame.DisputeGame_StaleMove.selector);
            }
        } else if (block.timestamp < dg.deadline(id)) {
            vm.prank(by);
            dg.bisect(id, g.l2Block, mid, claim);
        } else {
            vm.prank(by);
            try dg.bisect(id, g.l2Block, mid, claim) {
                revert("bisected after the clock ran out");
            } catch (bytes memory reason) {
                _expect(reason, DisputeGame.DisputeGame_ClockExpired.selector);
            }
        }
        _sync();
    }

    /// @dev The challenger picks when it may, naming the claim it judges; never one it does not
    ///      name (`stale`: a pick decided on a bisection that was replaced).
    function pick(uint256 gameSeed, bool agree, bool stale) external {
        (bool any, uint256 id, DisputeGame.Game memory g) = _pickGame(gameSeed);
        if (!any || g.status != DisputeGame.Status.InProgress || g.proposerToMove) return;
        bool inTime = block.timestamp < dg.deadline(id);
        vm.prank(g.challenger);
        if (stale) {
            // Another claim, or the same claim at another position (a reorganised pick).
            (uint64 position, bytes32 claim) =
                agree ? (_midOf(g) + 1, g.midClaim) : (_midOf(g), keccak256(abi.encode(g.midClaim)));
            try dg.pick(id, g.l2Block, position, claim, agree) {
                revert("picked a claim the game does not hold");
            } catch (bytes memory reason) {
                _expect(reason, DisputeGame.DisputeGame_StaleMove.selector);
            }
        } else if (inTime) {
            dg.pick(id, g.l2Block, _midOf(g), g.midClaim, agree);
            DisputeGame.Game memory after_ = dg.games(id);
            assertTrue(after_.proposerToMove, "pick did not hand the turn over");
        } else {
            try dg.pick(id, g.l2Block, _midOf(g), g.midClaim, agree) {
                revert("picked after the clock ran out");
            } catch (bytes memory reason) {
                _expect(reason, DisputeGame.DisputeGame_ClockExpired.selector);
            }
        }
        _sync();
    }

    /// @dev Several moves of one game at once (no time passes), toward its one step: a game
    ///      needs at least 16 bisections (the level-1 trace) before it gets there.
    function play(uint256 gameSeed, uint256 moves, uint256 seed) external {
        (bool any, uint256 id,) = _pickGame(gameSeed);
        if (!any) return;
        // Mostly all the way to the step; sometimes a few moves only.
        moves = moves % 4 == 0 ? bound(moves, 1, 48) : type(uint256).max;
        for (uint256 i; i < moves; ++i) {
            DisputeGame.Game memory g = dg.games(id);
            if (g.status != DisputeGame.Status.InProgress || block.timestamp >= dg.deadline(id)) break;
            if (g.level == 1 && g.hi - g.lo == 1) break;
            seed = uint256(keccak256(abi.encode(seed, i)));
            if (g.proposerToMove) {
                vm.prank(manager.proposals(g.proposal).proposer);
                dg.bisect(id, g.l2Block, g.lo + (g.hi - g.lo) / 2, bytes32(seed | 1));
            } else {
                vm.prank(g.challenger);
                dg.pick(id, g.l2Block, _midOf(g), g.midClaim, seed % 2 == 0);
            }
        }
        _sync();
    }

    /// @dev Anyone steps a game at its one step; the test verifier answers as `modeSeed` says.
    function step(uint256 gameSeed, uint256 modeSeed) external {
        (bool any, uint256 id, DisputeGame.Game memory g) = _gameAtStep(gameSeed);
        if (!any || g.status != DisputeGame.Status.InProgress || g.level != 1 || g.hi - g.lo != 1) return;
        TestVerifier.Mode mode = TestVerifier.Mode(modeSeed % 4);
        verifier.setMode(mode);
        bool removed = manager.proposals(g.proposal).removed;
        bool expired = block.timestamp >= dg.deadline(id);
        try dg.step(id, g.l2Block, g.lo, "") {
            assertFalse(expired, "stepped after the clock ran out");
            DisputeGame.Status s = dg.games(id).status;
            if (removed) {
                assertTrue(s == DisputeGame.Status.ChallengerWon, "step on a removed proposal");
            } else if (mode == TestVerifier.Mode.Valid) {
                assertTrue(s == DisputeGame.Status.ProposerWon, "valid step lost");
            } else if (mode == TestVerifier.Mode.Invalid) {
                assertTrue(s == DisputeGame.Status.ChallengerWon, "invalid step won");
            } else {
                assertTrue(mode == TestVerifier.Mode.Unprovable, "a broken verifier decided");
                bool allowlisted = manager.disputeOf(g.proposal).allowlisted;
                assertTrue(
                    s == (allowlisted ? DisputeGame.Status.ProposerWon : DisputeGame.Status.ChallengerWon),
                    "unprovable step resolved against the rule"
                );
            }
            ++ghostSteps;
        } catch (bytes memory reason) {
            if (expired) {
                _expect(reason, DisputeGame.DisputeGame_ClockExpired.selector);
            } else {
                assertTrue(mode == TestVerifier.Mode.Broken && !removed, "step reverted");
                _expect(reason, TestVerifier.TestVerifier_Broken.selector);
                assertTrue(dg.games(id).status == DisputeGame.Status.InProgress, "a reverted step resolved");
            }
        }
        _sync();
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 3 hours));
        vm.roll(block.number + 1);
        _sync();
    }

    /// @dev Anyone resolves: succeeds once the side to move ran out or the proposal was removed.
    function resolve(uint256 gameSeed) external {
        (bool any, uint256 id, DisputeGame.Game memory g) = _pickGame(gameSeed);
        if (!any) return;
        bool removed = manager.proposals(g.proposal).removed;
        try dg.resolve(id) {
            assertTrue(g.status == DisputeGame.Status.InProgress, "resolved twice");
            DisputeGame.Status s = dg.games(id).status;
            if (removed) {
                assertTrue(s == DisputeGame.Status.ChallengerWon, "resolved a removed proposal's game for it");
            } else {
                assertGe(
                    block.timestamp,
                    uint256(g.lastMove) + dg.maxClockDuration()
                        - (g.proposerToMove ? g.proposerUsed : g.challengerUsed),
                    "resolved early"
                );
                assertTrue(
                    s == (g.proposerToMove ? DisputeGame.Status.ChallengerWon : DisputeGame.Status.ProposerWon),
                    "the side that ran out won"
                );
            }
            ++ghostResolves;
        } catch (bytes memory reason) {
            _expect(
                reason,
                g.status != DisputeGame.Status.InProgress
                    ? DisputeGame.DisputeGame_GameOver.selector
                    : DisputeGame.DisputeGame_ClockRunning.selector
            );
        }
        _sync();
    }

    /// @dev Anyone pays an account its credit; a zero credit reverts.
    function claim(uint256 actorSeed) external {
        address who = everyone[actorSeed % everyone.length];
        uint256 amount = dg.credit(who);
        uint256 before = who.balance;
        try dg.claimCredit(who) {
            assertGt(amount, 0, "claimed a zero credit");
            assertEq(who.balance, before + amount, "claim paid a different amount");
            assertEq(dg.credit(who), 0, "credit left after a claim");
            ++ghostClaims;
        } catch (bytes memory reason) {
            assertEq(amount, 0, "a credit could not be claimed");
            _expect(reason, DisputeGame.DisputeGame_NoCredit.selector);
        }
        _sync();
    }

    /// @dev Anyone returns a final proposal's bond.
    function returnBond(uint256 proposalSeed) external {
        uint256 count = manager.proposalCount();
        if (count == 0) return;
        uint256 index = proposalSeed % count;
        StateManager.Proposal memory p = manager.proposals(index);
        bool isFinal = manager.isFinal(index);
        try manager.returnBond(index) {
            assertTrue(isFinal && !p.bondReturned, "returned a bond not due");
        } catch (bytes memory reason) {
            bytes4 expected = p.removed
                ? StateManager.StateManager_ProposalRemoved.selector
                : p.bondReturned
                    ? StateManager.StateManager_BondAlreadyReturned.selector
                    : StateManager.StateManager_ProposalNotFinal.selector;
            _expect(reason, expected);
        }
        _sync();
    }

    // ------------------------------------------------------------------ helpers

    /// @dev A game: the latest one half the time (so games get played through), else any.
    function _pickGame(uint256 seed) internal view returns (bool any, uint256 id, DisputeGame.Game memory g) {
        uint256 count = dg.gameCount();
        if (count == 0) return (false, 0, g);
        id = seed % 2 == 0 ? count - 1 : (seed >> 1) % count;
        return (true, id, dg.games(id));
    }

    /// @dev A game in progress at its one step, searched from a seeded start; else any game.
    function _gameAtStep(uint256 seed) internal view returns (bool any, uint256 id, DisputeGame.Game memory g) {
        uint256 count = dg.gameCount();
        if (count == 0) return (false, 0, g);
        for (uint256 i; i < count; ++i) {
            id = (seed % count + i) % count;
            g = dg.games(id);
            if (g.status == DisputeGame.Status.InProgress && g.level == 1 && g.hi - g.lo == 1) return (true, id, g);
        }
        return _pickGame(seed);
    }

    /// @dev Resolved games keep their outcome; final proposals stay final and are never removed.
    function _sync() internal {
        uint256 games = dg.gameCount();
        for (uint256 id; id < games; ++id) {
            DisputeGame.Status s = dg.games(id).status;
            DisputeGame.Status recorded = resolvedAs[id];
            if (recorded != DisputeGame.Status.None) {
                assertTrue(s == recorded, "a resolved game changed its outcome");
            } else if (s != DisputeGame.Status.InProgress) {
                assertTrue(s != DisputeGame.Status.None, "a game lost its status");
                resolvedAs[id] = s;
            }
        }
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            bool isFinal = manager.isFinal(i);
            if (seenFinal[i]) assertTrue(isFinal, "a final proposal stopped being final");
            if (isFinal) seenFinal[i] = true;
        }
    }

    /// @dev The midpoint of `g`'s range: where the proposer claims, and the challenger judges.
    function _midOf(DisputeGame.Game memory g) internal pure returns (uint64) {
        return g.lo + (g.hi - g.lo) / 2;
    }

    function _expect(bytes memory reason, bytes4 selector) internal pure {
        vm.assertEq(reason, abi.encodeWithSelector(selector), "unexpected revert");
    }
}

contract DisputeGameInvariants is Test {
    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGER_BOND = 0.3 ether;
    uint64 internal constant MAX_CLOCK = 1 hours;
    uint64 internal constant CLOCK_EXT = 5 minutes;

    StateManager internal manager;
    DisputeGame internal dg;
    TestVerifier internal verifier;
    DisputeGameHandler internal handler;

    function setUp() public {
        address proposer = makeAddr("proposer");
        manager =
            Proxies.deployStateManager(makeAddr("proxyAdminOwner"), address(this), proposer, CHALLENGE_PERIOD, BOND);
        dg = new DisputeGame(manager, keccak256("genesis"), CHALLENGER_BOND, MAX_CLOCK, CLOCK_EXT);
        verifier = new TestVerifier();
        manager.setDisputeGame(address(dg));
        manager.setOneStepVerifier(address(verifier));
        manager.setPermissionlessProposals(true);
        handler = new DisputeGameHandler(manager, dg, verifier, proposer);

        // Weighted: challenges, multi-move plays, steps, resolutions and time more often than
        // the rest, so that games get played down to their step or run out of time.
        bytes4[] memory selectors = new bytes4[](19);
        selectors[0] = DisputeGameHandler.propose.selector;
        selectors[1] = DisputeGameHandler.propose.selector;
        selectors[2] = DisputeGameHandler.challenge.selector;
        selectors[3] = DisputeGameHandler.challenge.selector;
        selectors[4] = DisputeGameHandler.challenge.selector;
        selectors[5] = DisputeGameHandler.play.selector;
        selectors[6] = DisputeGameHandler.play.selector;
        selectors[7] = DisputeGameHandler.play.selector;
        selectors[8] = DisputeGameHandler.step.selector;
        selectors[9] = DisputeGameHandler.step.selector;
        selectors[10] = DisputeGameHandler.resolve.selector;
        selectors[11] = DisputeGameHandler.resolve.selector;
        selectors[12] = DisputeGameHandler.warp.selector;
        selectors[13] = DisputeGameHandler.warp.selector;
        selectors[14] = DisputeGameHandler.bisect.selector;
        selectors[15] = DisputeGameHandler.pick.selector;
        selectors[16] = DisputeGameHandler.claim.selector;
        selectors[17] = DisputeGameHandler.claim.selector;
        selectors[18] = DisputeGameHandler.returnBond.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev A removed proposal is never final, and never has its bond returned.
    function invariant_removedNeverFinal() public view {
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (p.removed) {
                assertFalse(manager.isFinal(i), "removed proposal is final");
                assertFalse(p.bondReturned, "removed proposal's bond returned");
            }
        }
    }

    /// @dev The dispute game holds exactly the credits plus the bonds of games in progress.
    function invariant_gameBondsConserved() public view {
        address[] memory accounts = handler.allAccounts();
        uint256 held;
        for (uint256 i; i < accounts.length; ++i) {
            held += dg.credit(accounts[i]);
        }
        uint256 games = dg.gameCount();
        for (uint256 id; id < games; ++id) {
            DisputeGame.Game memory g = dg.games(id);
            if (g.status == DisputeGame.Status.InProgress) held += g.bond;
        }
        assertEq(address(dg).balance, held, "DisputeGame balance != credits + bonds in play");
    }

    /// @dev The StateManager holds exactly the bond balances plus the bonds of proposals neither
    ///      removed nor returned, plus the burned halves of removed ones.
    function invariant_managerBondsConserved() public view {
        address[] memory accounts = handler.allAccounts();
        uint256 held;
        for (uint256 i; i < accounts.length; ++i) {
            held += manager.bondBalance(accounts[i]);
        }
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) held += p.bond;
        }
        held += manager.burnedBonds();
        assertEq(address(manager).balance, held, "StateManager balance != bond balances + locked + burned bonds");
    }

    /// @dev A live proposal's open game count is the number of its games in progress.
    function invariant_openGamesCounted() public view {
        uint256 count = manager.proposalCount();
        uint256[] memory inProgress = new uint256[](count);
        uint256 games = dg.gameCount();
        for (uint256 id; id < games; ++id) {
            DisputeGame.Game memory g = dg.games(id);
            if (g.status == DisputeGame.Status.InProgress) ++inProgress[g.proposal];
        }
        for (uint256 i; i < count; ++i) {
            if (manager.proposals(i).removed) continue;
            assertEq(manager.disputeOf(i).openGames, inProgress[i], "openGames != games in progress");
        }
    }

    /// @dev Every game ended by a resolution has a final status; games in progress have a
    ///      future or current deadline only while in progress.
    function invariant_statusConsistent() public view {
        uint256 games = dg.gameCount();
        for (uint256 id; id < games; ++id) {
            DisputeGame.Game memory g = dg.games(id);
            assertTrue(g.status != DisputeGame.Status.None, "a game without status");
            assertEq(dg.deadline(id) == 0, g.status != DisputeGame.Status.InProgress, "deadline of a resolved game");
            assertLe(g.proposerUsed, dg.maxClockDuration(), "proposer clock overdrawn");
            assertLe(g.challengerUsed, dg.maxClockDuration(), "challenger clock overdrawn");
        }
    }
}
