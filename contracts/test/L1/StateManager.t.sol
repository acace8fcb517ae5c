// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {Ownable} from "solady/auth/Ownable.sol";

contract StateManagerTest is Test {
    event StateRootSubmitted(
        uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer
    );
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);

    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant BOND = 1 ether;

    StateManager internal manager;
    address internal owner;
    address internal proposer;

    function setUp() public {
        owner = makeAddr("owner");
        proposer = makeAddr("proposer");
        manager = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.deal(proposer, 100 ether);
    }

    function test_constructor_succeeds() public {
        assertEq(manager.owner(), owner);
        assertEq(manager.proposer(), proposer);
        assertEq(manager.challengePeriod(), CHALLENGE_PERIOD);
        assertEq(manager.proposalBond(), BOND);
        assertEq(manager.proposalCount(), 0);

        vm.expectEmit();
        emit ProposerUpdated(address(0), proposer);
        new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
    }

    function test_constructor_zeroAddress_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        new StateManager(address(0), proposer, CHALLENGE_PERIOD, BOND);
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        new StateManager(owner, address(0), CHALLENGE_PERIOD, BOND);
    }

    function testFuzz_submitStateRoot_succeeds(bytes32 stateRoot, bytes32 batchRoot, bytes calldata proof) public {
        vm.assume(stateRoot != 0 && batchRoot != 0);
        vm.expectEmit(address(manager));
        emit StateRootSubmitted(0, stateRoot, batchRoot, proposer);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(stateRoot, batchRoot, proof);

        assertEq(manager.proposalCount(), 1);
        assertEq(address(manager).balance, BOND);
        StateManager.Proposal memory p = manager.proposals(0);
        assertEq(p.stateRoot, stateRoot);
        assertEq(p.batchRoot, batchRoot);
        assertEq(p.proposer, proposer);
        assertEq(p.timestamp, block.timestamp);
        assertEq(p.l1Block, block.number);
        assertEq(p.bond, BOND);
    }

    function testFuzz_submitStateRoot_notProposer_reverts(address sender) public {
        vm.assume(sender != proposer);
        vm.deal(sender, BOND);
        vm.expectRevert(StateManager.StateManager_NotProposer.selector);
        vm.prank(sender);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), "");
    }

    function testFuzz_submitStateRoot_incorrectBond_reverts(uint256 value) public {
        value = bound(value, 0, 100 ether);
        vm.assume(value != BOND);
        vm.expectRevert(StateManager.StateManager_IncorrectBond.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: value}(bytes32(uint256(1)), bytes32(uint256(2)), "");
    }

    function test_submitStateRoot_zeroRoot_reverts() public {
        vm.startPrank(proposer);
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot{value: BOND}(bytes32(0), bytes32(uint256(2)), "");
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(0), "");
        vm.stopPrank();
    }

    function testFuzz_isFinal_afterChallengePeriod_succeeds(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 10 * CHALLENGE_PERIOD);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), "");
        vm.warp(block.timestamp + elapsed);
        assertEq(manager.isFinal(0), elapsed >= CHALLENGE_PERIOD);
    }

    function testFuzz_isFinal_unknownIndex_reverts(uint256 index) public {
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.isFinal(index);
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.proposals(index);
    }

    function testFuzz_verifyStateTransition_notImplemented_reverts(bytes32 from, bytes32 to, bytes calldata proof)
        public
    {
        vm.expectRevert(StateManager.StateManager_NotImplemented.selector);
        manager.verifyStateTransition(from, to, proof);
    }

    function testFuzz_setProposer_succeeds(address newProposer) public {
        vm.assume(newProposer != address(0));
        vm.expectEmit(address(manager));
        emit ProposerUpdated(proposer, newProposer);
        vm.prank(owner);
        manager.setProposer(newProposer);
        assertEq(manager.proposer(), newProposer);
    }

    function testFuzz_setProposer_notOwner_reverts(address sender) public {
        vm.assume(sender != owner);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        manager.setProposer(sender);
    }

    function test_setProposer_zeroAddress_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(owner);
        manager.setProposer(address(0));
    }
}
