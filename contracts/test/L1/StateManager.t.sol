// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

/// @dev Rejects ETH.
contract EthRejecter {}

contract StateManagerTest is Test {
    event StateRootSubmitted(
        uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer
    );
    event ProposalL2Block(uint256 indexed index, uint256 indexed l2BlockNumber, bytes32 l2BlockHash);
    event BondReturned(uint256 indexed index, address indexed proposer, uint256 amount);
    event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);
    event DisputeGameSet(address indexed disputeGame);

    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant BOND = 1 ether;

    StateManager internal manager;
    address internal owner;
    address internal proposer;
    address internal game;
    address internal challenger;

    function setUp() public {
        owner = makeAddr("owner");
        proposer = makeAddr("proposer");
        game = makeAddr("disputeGame");
        challenger = makeAddr("challenger");
        manager = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.deal(proposer, 1000 ether);
        vm.prank(owner);
        manager.setDisputeGame(game);
    }

    /// @dev `submitStateRoot`'s proof: the L2 block the proposal binds.
    function _blockProof(uint256 number) internal pure returns (bytes memory) {
        return abi.encode(uint64(number), keccak256(abi.encode("block", number)));
    }

    /// @dev Proposes L2 block `number` with roots derived from it; returns the index.
    function _propose(uint256 number) internal returns (uint256 index) {
        index = manager.proposalCount();
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(
            keccak256(abi.encode("state", number)), keccak256(abi.encode("batch", number)), _blockProof(number)
        );
    }

    // ------------------------------------------------------------------ constructor and admin

    function test_constructor_succeeds() public {
        StateManager fresh = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        assertEq(fresh.owner(), owner);
        assertEq(fresh.proposer(), proposer);
        assertEq(fresh.challengePeriod(), CHALLENGE_PERIOD);
        assertEq(fresh.proposalBond(), BOND);
        assertEq(fresh.proposalCount(), 0);
        assertEq(fresh.disputeGame(), address(0));

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

    function testFuzz_setDisputeGame_succeeds(address newGame) public {
        vm.assume(newGame != address(0));
        StateManager fresh = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.expectEmit(address(fresh));
        emit DisputeGameSet(newGame);
        vm.prank(owner);
        fresh.setDisputeGame(newGame);
        assertEq(fresh.disputeGame(), newGame);
    }

    function test_setDisputeGame_twice_reverts() public {
        vm.expectRevert(StateManager.StateManager_DisputeGameAlreadySet.selector);
        vm.prank(owner);
        manager.setDisputeGame(makeAddr("other"));
    }

    function test_setDisputeGame_zeroAddress_reverts() public {
        StateManager fresh = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(owner);
        fresh.setDisputeGame(address(0));
    }

    function testFuzz_setDisputeGame_notOwner_reverts(address sender) public {
        vm.assume(sender != owner);
        StateManager fresh = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        fresh.setDisputeGame(sender);
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

    // ------------------------------------------------------------------ submitStateRoot

    function testFuzz_submitStateRoot_succeeds(bytes32 stateRoot, bytes32 batchRoot, uint64 number, bytes32 blockHash)
        public
    {
        vm.assume(stateRoot != 0 && batchRoot != 0 && blockHash != 0);
        vm.expectEmit(address(manager));
        emit StateRootSubmitted(0, stateRoot, batchRoot, proposer);
        vm.expectEmit(address(manager));
        emit ProposalL2Block(0, number, blockHash);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(stateRoot, batchRoot, abi.encode(number, blockHash));

        assertEq(manager.proposalCount(), 1);
        assertEq(address(manager).balance, BOND);
        StateManager.Proposal memory p = manager.proposals(0);
        assertEq(p.stateRoot, stateRoot);
        assertEq(p.batchRoot, batchRoot);
        assertEq(p.l2BlockHash, blockHash);
        assertEq(p.l2BlockNumber, number);
        assertEq(p.proposer, proposer);
        assertEq(p.timestamp, block.timestamp);
        assertEq(p.l1Block, block.number);
        assertEq(p.bond, BOND);
        assertFalse(p.removed);
        assertFalse(p.bondReturned);
        (uint256 index, StateManager.Proposal memory latest) = manager.latestProposal();
        assertEq(index, 0);
        assertEq(latest.stateRoot, stateRoot);
    }

    function testFuzz_submitStateRoot_notProposer_reverts(address sender) public {
        vm.assume(sender != proposer);
        vm.deal(sender, BOND);
        vm.expectRevert(StateManager.StateManager_NotProposer.selector);
        vm.prank(sender);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
    }

    function testFuzz_submitStateRoot_incorrectBond_reverts(uint256 value) public {
        value = bound(value, 0, 100 ether);
        vm.assume(value != BOND);
        vm.expectRevert(StateManager.StateManager_IncorrectBond.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: value}(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
    }

    function test_submitStateRoot_zeroRoot_reverts() public {
        vm.startPrank(proposer);
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot{value: BOND}(bytes32(0), bytes32(uint256(2)), _blockProof(1));
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(0), _blockProof(1));
        vm.stopPrank();
    }

    function test_submitStateRoot_zeroBlockHash_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroBlockHash.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(
            bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(uint64(1), bytes32(0))
        );
    }

    function testFuzz_submitStateRoot_malformedProof_reverts(bytes calldata proof) public {
        vm.assume(proof.length != 64);
        vm.expectRevert(StateManager.StateManager_MalformedProof.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), proof);
    }

    function testFuzz_submitStateRoot_blockNumberOverflow_reverts(uint256 number) public {
        number = bound(number, uint256(type(uint64).max) + 1, type(uint256).max);
        vm.expectRevert(StateManager.StateManager_MalformedProof.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(number, bytes32("h")));
    }

    function testFuzz_submitStateRoot_blockNotIncreasing_reverts(uint64 first, uint64 second) public {
        second = uint64(bound(second, 0, first));
        _propose(first);
        vm.expectRevert(StateManager.StateManager_L2BlockNotIncreasing.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(second));
    }

    /// @dev Removing the latest proposal lets the proposer propose its block (or an earlier one
    ///      above the latest live proposal) again.
    function test_submitStateRoot_afterRemoval_succeeds() public {
        _propose(10);
        _propose(20);
        _propose(30);
        vm.startPrank(game);
        manager.removeProposal(2, challenger);
        manager.removeProposal(1, challenger);
        vm.stopPrank();
        (uint256 index,) = manager.latestProposal();
        assertEq(index, 0);

        vm.expectRevert(StateManager.StateManager_L2BlockNotIncreasing.selector);
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(10));
        assertEq(_propose(11), 3);
        vm.prank(game);
        manager.removeProposal(3, challenger);
        // Walks back over 3, then straight to 0 (1 and 2 were skipped when 3 was submitted).
        (index,) = manager.latestProposal();
        assertEq(index, 0);
        vm.prank(game);
        manager.removeProposal(0, challenger);
        vm.expectRevert(StateManager.StateManager_NoProposal.selector);
        manager.latestProposal();
        assertEq(_propose(0), 4);
    }

    // ------------------------------------------------------------------ finality

    function testFuzz_isFinal_afterChallengePeriod_succeeds(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 10 * CHALLENGE_PERIOD);
        _propose(1);
        vm.warp(block.timestamp + elapsed);
        assertEq(manager.isFinal(0), elapsed >= CHALLENGE_PERIOD);
    }

    function testFuzz_isFinal_unknownIndex_reverts(uint256 index) public {
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.isFinal(index);
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.proposals(index);
    }

    function test_latestProposal_none_reverts() public {
        vm.expectRevert(StateManager.StateManager_NoProposal.selector);
        manager.latestProposal();
    }

    // ------------------------------------------------------------------ bonds

    function testFuzz_returnBond_succeeds(address caller, uint256 elapsed) public {
        elapsed = bound(elapsed, CHALLENGE_PERIOD, 100 * CHALLENGE_PERIOD);
        _propose(1);
        vm.warp(block.timestamp + elapsed);
        uint256 before = proposer.balance;
        vm.expectEmit(address(manager));
        emit BondReturned(0, proposer, BOND);
        vm.prank(caller);
        manager.returnBond(0);
        assertEq(proposer.balance, before + BOND);
        assertEq(address(manager).balance, 0);
        assertTrue(manager.proposals(0).bondReturned);
        // Still final after the bond went back.
        assertTrue(manager.isFinal(0));
    }

    function testFuzz_returnBond_notFinal_reverts(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, CHALLENGE_PERIOD - 1);
        _propose(1);
        vm.warp(block.timestamp + elapsed);
        vm.expectRevert(StateManager.StateManager_ProposalNotFinal.selector);
        manager.returnBond(0);
    }

    function test_returnBond_twice_reverts() public {
        _propose(1);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(0);
        vm.expectRevert(StateManager.StateManager_BondAlreadyReturned.selector);
        manager.returnBond(0);
    }

    function test_returnBond_removed_reverts() public {
        _propose(1);
        vm.prank(game);
        manager.removeProposal(0, challenger);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(StateManager.StateManager_ProposalRemoved.selector);
        manager.returnBond(0);
    }

    function testFuzz_returnBond_unknownIndex_reverts(uint256 index) public {
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.returnBond(index);
    }

    function test_returnBond_proposerRejectsEth_reverts() public {
        address rejecter = address(new EthRejecter());
        vm.prank(owner);
        manager.setProposer(rejecter);
        vm.deal(rejecter, BOND);
        vm.prank(rejecter);
        manager.submitStateRoot{value: BOND}(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(SafeTransferLib.ETHTransferFailed.selector);
        manager.returnBond(0);
        // The bond stays claimable.
        assertFalse(manager.proposals(0).bondReturned);
        assertEq(address(manager).balance, BOND);
    }

    // ------------------------------------------------------------------ removal

    function testFuzz_removeProposal_succeeds(uint256 recipientKey, uint256 elapsed) public {
        // An EOA (precompiles and cheatcode addresses would reject or swallow the ETH).
        address recipient = vm.addr(bound(recipientKey, 1, 1e70));
        elapsed = bound(elapsed, 0, CHALLENGE_PERIOD - 1);
        _propose(1);
        vm.warp(block.timestamp + elapsed);
        uint256 before = recipient.balance;
        vm.expectEmit(address(manager));
        emit ProposalRemoved(0, recipient, BOND);
        vm.prank(game);
        manager.removeProposal(0, recipient);
        assertEq(recipient.balance, before + BOND);
        assertEq(address(manager).balance, 0);
        assertTrue(manager.proposals(0).removed);
        // A removed proposal never becomes final.
        vm.warp(block.timestamp + 100 * CHALLENGE_PERIOD);
        assertFalse(manager.isFinal(0));
    }

    function testFuzz_removeProposal_notDisputeGame_reverts(address sender) public {
        vm.assume(sender != game);
        _propose(1);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        vm.prank(sender);
        manager.removeProposal(0, challenger);
    }

    function test_removeProposal_unset_reverts() public {
        // Before the owner sets a dispute game nobody can remove (address(0) cannot call).
        StateManager fresh = new StateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        vm.prank(game);
        fresh.removeProposal(0, challenger);
    }

    function test_removeProposal_final_reverts() public {
        _propose(1);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(StateManager.StateManager_ProposalFinal.selector);
        vm.prank(game);
        manager.removeProposal(0, challenger);
    }

    function test_removeProposal_twice_reverts() public {
        _propose(1);
        vm.startPrank(game);
        manager.removeProposal(0, challenger);
        vm.expectRevert(StateManager.StateManager_ProposalRemoved.selector);
        manager.removeProposal(0, challenger);
        vm.stopPrank();
    }

    function test_removeProposal_zeroRecipient_reverts() public {
        _propose(1);
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(game);
        manager.removeProposal(0, address(0));
    }

    function testFuzz_removeProposal_unknownIndex_reverts(uint256 index) public {
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        vm.prank(game);
        manager.removeProposal(index, challenger);
    }

    // ------------------------------------------------------------------ verifyStateTransition

    function testFuzz_verifyStateTransition_notImplemented_reverts(bytes32 from, bytes32 to, bytes calldata proof)
        public
    {
        vm.expectRevert(StateManager.StateManager_NotImplemented.selector);
        manager.verifyStateTransition(from, to, proof);
    }
}
