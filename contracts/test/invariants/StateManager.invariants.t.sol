// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {StateManager} from "src/L1/StateManager.sol";

/// @dev Moves bonds through a StateManager behind its proxy: a few actors deposit and withdraw
///      bonds and take turns as proposer; as owner and dispute game, the handler switches the
///      proposer and removes proposals (crediting any actor); anyone returns final bonds; time
///      passes. Actions the contract must refuse are attempted too and must revert with the
///      expected error.
contract StateManagerHandler is Test {
    StateManager internal immutable manager;
    uint256 internal immutable bond;
    uint256 internal immutable challengePeriod;
    address[] internal actors;

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostProposals;
    uint256 public ghostRemoved;
    uint256 public ghostReturned;
    uint256 public ghostRefused;

    /// @dev Strictly increasing, so every proposal follows the latest live one.
    uint64 internal nextL2Block = 1;

    constructor(StateManager manager_, address[] memory actors_) {
        manager = manager_;
        bond = manager_.proposalBond();
        challengePeriod = manager_.challengePeriod();
        actors = actors_;
    }

    function depositBond(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        // Mostly whole bonds (so proposals happen), sometimes an odd remainder.
        amount = bound(amount, 1, 4) * bond + (amount % 3 == 0 ? amount % bond : 0);
        vm.deal(actor, actor.balance + amount);
        vm.prank(actor);
        manager.depositBond{value: amount}();
        ghostDeposited += amount;
    }

    function withdrawBond(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        uint256 balance = manager.bondBalance(actor);
        if (balance == 0) {
            // More than the balance is refused.
            vm.prank(actor);
            try manager.withdrawBond(bound(amount, 1, type(uint256).max)) {
                revert("withdrew more than the bond balance");
            } catch (bytes memory reason) {
                _expect(reason, StateManager.StateManager_InsufficientBond.selector);
            }
            return;
        }
        amount = bound(amount, 1, balance);
        uint256 before = actor.balance;
        vm.prank(actor);
        manager.withdrawBond(amount);
        assertEq(actor.balance, before + amount, "withdrawBond paid a different amount");
        ghostWithdrawn += amount;
    }

    function propose(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        if (manager.proposer() != actor) manager.setProposer(actor);
        uint64 l2Block = nextL2Block++;
        bytes memory proof = abi.encode(l2Block, keccak256(abi.encode("block", l2Block)));
        bytes32 stateRoot = keccak256(abi.encode("state", l2Block));
        uint256 balance = manager.bondBalance(actor);
        vm.prank(actor);
        try manager.submitStateRoot(stateRoot, bytes32(uint256(1)), proof) {
            assertGe(balance, bond, "proposed without a bond");
            assertEq(manager.bondBalance(actor), balance - bond, "proposal drew a different bond");
            ++ghostProposals;
        } catch (bytes memory reason) {
            assertLt(balance, bond, "a bonded proposal was refused");
            _expect(reason, StateManager.StateManager_InsufficientBond.selector);
        }
    }

    function removeProposal(uint256 indexSeed, uint256 recipientSeed) external {
        uint256 count = manager.proposalCount();
        if (count == 0) return;
        uint256 index = indexSeed % count;
        address recipient = _actor(recipientSeed);
        StateManager.Proposal memory p = manager.proposals(index);
        bool isFinal = manager.isFinal(index);
        uint256 before = manager.bondBalance(recipient);
        try manager.removeProposal(index, recipient) returns (bool removed) {
            assertFalse(isFinal, "removed a final proposal");
            // Idempotent: removing a removed proposal returns false and credits nobody.
            assertEq(removed, !p.removed, "removeProposal's result");
            uint256 reward = p.bond * manager.REMOVAL_REWARD_BPS() / 10_000;
            assertEq(
                manager.bondBalance(recipient), before + (removed ? reward : 0), "removal credited a different bond"
            );
            if (removed) ++ghostRemoved;
        } catch (bytes memory reason) {
            assertFalse(p.removed, "removing a removed proposal reverted");
            _expect(reason, StateManager.StateManager_ProposalFinal.selector);
        }
    }

    function returnBond(uint256 indexSeed, uint256 callerSeed) external {
        uint256 count = manager.proposalCount();
        if (count == 0) return;
        uint256 index = indexSeed % count;
        StateManager.Proposal memory p = manager.proposals(index);
        bool isFinal = manager.isFinal(index);
        uint256 before = manager.bondBalance(p.proposer);
        vm.prank(_actor(callerSeed));
        try manager.returnBond(index) {
            assertTrue(isFinal && !p.bondReturned, "returned a bond that was not due");
            assertEq(manager.bondBalance(p.proposer), before + p.bond, "return credited a different bond");
            ++ghostReturned;
        } catch (bytes memory reason) {
            bytes4 expected = p.removed
                ? StateManager.StateManager_ProposalRemoved.selector
                : p.bondReturned
                    ? StateManager.StateManager_BondAlreadyReturned.selector
                    : StateManager.StateManager_ProposalNotFinal.selector;
            _expect(reason, expected);
            ++ghostRefused;
        }
    }

    function warp(uint256 elapsed) external {
        vm.warp(block.timestamp + bound(elapsed, 1, 2 * challengePeriod));
    }

    /// @notice Every account that can hold a bond balance in this run.
    function allActors() external view returns (address[] memory) {
        return actors;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _expect(bytes memory reason, bytes4 selector) internal pure {
        vm.assertEq(reason, abi.encodeWithSelector(selector), "unexpected revert");
    }
}

contract StateManagerInvariants is Test {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGE_PERIOD = 1 hours;

    StateManager internal manager;
    StateManagerHandler internal handler;

    function setUp() public {
        address[] memory actors = new address[](4);
        actors[0] = makeAddr("alice");
        actors[1] = makeAddr("bob");
        actors[2] = makeAddr("carol");
        actors[3] = makeAddr("challenger");

        // The handler becomes the owner (it switches proposers) and the dispute game (it removes).
        manager =
            Proxies.deployStateManager(makeAddr("proxyAdminOwner"), address(this), actors[0], CHALLENGE_PERIOD, BOND);
        handler = new StateManagerHandler(manager, actors);
        manager.transferOwnership(address(handler));
        vm.prank(address(handler));
        manager.setDisputeGame(address(handler));

        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = StateManagerHandler.depositBond.selector;
        selectors[1] = StateManagerHandler.withdrawBond.selector;
        selectors[2] = StateManagerHandler.propose.selector;
        selectors[3] = StateManagerHandler.removeProposal.selector;
        selectors[4] = StateManagerHandler.returnBond.selector;
        selectors[5] = StateManagerHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Bonds are conserved: the contract holds exactly the bond balances plus the bonds of
    ///      proposals neither removed nor returned plus the burned halves of removed ones.
    function invariant_bondsConserved() public view {
        uint256 held;
        address[] memory actors = handler.allActors();
        for (uint256 i; i < actors.length; ++i) {
            held += manager.bondBalance(actors[i]);
        }
        uint256 locked;
        uint256 burned;
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) locked += p.bond;
            if (p.removed) burned += p.bond - p.bond * manager.REMOVAL_REWARD_BPS() / 10_000;
        }
        assertEq(manager.burnedBonds(), burned, "burned != the unrewarded part of removed bonds");
        assertEq(address(manager).balance, held + locked + burned, "balance != bond balances + locked + burned bonds");
    }

    /// @dev ETH only enters through depositBond and only leaves through withdrawBond.
    function invariant_balanceMatchesFlows() public view {
        assertEq(
            address(manager).balance,
            handler.ghostDeposited() - handler.ghostWithdrawn(),
            "balance != deposited - withdrawn"
        );
    }

    /// @dev The proposal the next one must follow is the latest not removed, overall and for
    ///      each proposer, whatever order proposals were removed in.
    function invariant_latestIsHighestLive() public view {
        uint256 count = manager.proposalCount();
        address[] memory actors = handler.allActors();
        bool anyLive;
        for (uint256 i = count; i > 0; --i) {
            if (!manager.proposals(i - 1).removed) {
                (uint256 latest,) = manager.latestProposal();
                assertEq(latest, i - 1, "latestProposal is not the highest live");
                anyLive = true;
                break;
            }
        }
        if (!anyLive && count > 0) {
            try manager.latestProposal() {
                revert("latestProposal found a proposal when all were removed");
            } catch {}
        }
        for (uint256 a; a < actors.length; ++a) {
            (bool found, uint256 own) = manager.latestProposalOf(actors[a]);
            bool expected;
            for (uint256 i = count; i > 0; --i) {
                StateManager.Proposal memory p = manager.proposals(i - 1);
                if (!p.removed && p.proposer == actors[a]) {
                    assertTrue(found, "latestProposalOf missed a live proposal");
                    assertEq(own, i - 1, "latestProposalOf is not the proposer's highest live");
                    expected = true;
                    break;
                }
            }
            if (!expected) assertFalse(found, "latestProposalOf named a removed proposal");
        }
    }

    /// @dev Every proposal ends at most one way: a removed proposal's bond is never returned, and
    ///      a returned one is final.
    function invariant_proposalsSettleOnce() public view {
        uint256 count = manager.proposalCount();
        assertEq(count, handler.ghostProposals(), "proposal count != proposals made");
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            assertEq(p.bond, BOND, "proposal locked a different bond");
            assertFalse(p.removed && p.bondReturned, "removed proposal had its bond returned");
            if (p.bondReturned) assertTrue(manager.isFinal(i), "returned bond of a proposal that is not final");
        }
    }
}
