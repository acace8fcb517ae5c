// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {OwnershipTests} from "test/utils/OwnershipTests.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L1BlockHashes} from "src/libraries/L1BlockHashes.sol";
import {L1Chain} from "test/utils/L1Chain.sol";
import {IStateManager} from "interfaces/IStateManager.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

/// @dev Rejects ETH.
contract EthRejecter {}

/// @dev Withdraws its bond and, while receiving it, tries to withdraw the same bond again.
contract ReentrantBondWithdrawer {
    StateManager internal immutable manager;
    bytes public reentryRevertData;

    constructor(StateManager manager_) {
        manager = manager_;
    }

    function depositAndWithdraw(uint256 amount) external payable {
        manager.depositBond{value: msg.value}();
        manager.withdrawBond(amount);
    }

    receive() external payable {
        if (reentryRevertData.length != 0) return;
        try manager.withdrawBond(msg.value) {
            reentryRevertData = hex"00";
        } catch (bytes memory reason) {
            reentryRevertData = reason;
        }
    }
}

/// @dev A one-step verifier that records what it was asked and answers `answer`, or reverts
///      with `revertData` when set.
contract RecordingVerifier is IOneStepVerifier {
    bool public answer;
    bytes public revertData;
    bytes32 public lastFrom;
    bytes32 public lastTo;
    bytes public lastProof;

    function set(bool answer_, bytes calldata revertData_) external {
        answer = answer_;
        revertData = revertData_;
    }

    function verify(bytes32 fromState, bytes32 toState, bytes calldata proof) external returns (bool) {
        bytes memory data = revertData;
        if (data.length != 0) {
            assembly ("memory-safe") {
                revert(add(data, 32), mload(data))
            }
        }
        (lastFrom, lastTo, lastProof) = (fromState, toState, proof);
        return answer;
    }
}

/// @dev The one `BatchInbox` view the StateManager reads: the first L2 block not recorded.
contract MockInboxHead {
    uint64 public nextBlock;

    function set(uint64 next) external {
        nextBlock = next;
    }
}

contract StateManagerTest is Test {
    event StateRootSubmitted(
        uint256 indexed index, bytes32 indexed stateRoot, bytes32 indexed batchRoot, address proposer
    );
    event ProposalL2Block(uint256 indexed index, uint256 indexed l2BlockNumber, bytes32 l2BlockHash);
    event BondReturned(uint256 indexed index, address indexed proposer, uint256 amount);
    event ProposalRemoved(uint256 indexed index, address indexed bondRecipient, uint256 bond);
    event BondBurned(uint256 indexed index, uint256 amount);
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);
    event DisputeGameSet(address indexed disputeGame);
    event BondDeposited(address indexed account, uint256 amount);
    event BondWithdrawn(address indexed account, uint256 amount);
    event Initialized(uint64 version);
    event OneStepVerifierSet(address indexed verifier);
    event PermissionlessProposalsSet(bool permissionless);
    event BatchInboxSet(address indexed inbox);
    event ProposalChallenged(uint256 indexed index, address indexed game, uint256 openGames);
    event ProposalDefended(uint256 indexed index, address indexed game, uint256 openGames);

    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant BOND = 1 ether;
    /// @dev What a removal credits (`REMOVAL_REWARD_BPS` of the bond); the rest is burned.
    uint256 internal constant REWARD = BOND / 2;

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
        manager = _deploy();
        vm.deal(proposer, 1000 ether);
        vm.prank(proposer);
        manager.depositBond{value: 100 * BOND}();
        vm.prank(owner);
        manager.setDisputeGame(game);
    }

    /// @dev A fresh StateManager behind a proxy, initialized with `owner` and `proposer`.
    function _deploy() internal returns (StateManager) {
        return Proxies.deployStateManager(owner, proposer, CHALLENGE_PERIOD, BOND);
    }

    /// @dev Sum of bond balances of the accounts a test touches plus the bonds of live proposals
    ///      whose bond was not returned: what `address(manager).balance` must equal.
    function _bondsHeld(address[] memory accounts) internal view returns (uint256 total) {
        for (uint256 i; i < accounts.length; ++i) {
            total += manager.bondBalance(accounts[i]);
        }
        for (uint256 i; i < manager.proposalCount(); ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) total += p.bond;
        }
        total += manager.burnedBonds();
    }

    /// @dev `submitStateRoot`'s proof: the L2 block the proposal binds.
    function _blockProof(uint256 number) internal pure returns (bytes memory) {
        // casting to 'uint64' is safe because tests pass small block numbers
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encode(uint64(number), keccak256(abi.encode("block", number)));
    }

    /// @dev Proposes L2 block `number` with roots derived from it; returns the index.
    function _propose(uint256 number) internal returns (uint256 index) {
        index = manager.proposalCount();
        vm.prank(proposer);
        manager.submitStateRoot(
            keccak256(abi.encode("state", number)), keccak256(abi.encode("batch", number)), _blockProof(number)
        );
    }

    /// @dev Proposes L2 block `number` as `who` (funding its bond) with the 96-byte proof naming
    ///      `anchor` (1 + a final proposal's index, 0 for the genesis); returns the index.
    function _proposeAs(address who, uint256 number, uint256 anchor) internal returns (uint256 index) {
        index = manager.proposalCount();
        vm.deal(who, who.balance + BOND);
        vm.startPrank(who);
        manager.depositBond{value: BOND}();
        manager.submitStateRoot(
            keccak256(abi.encode("state", number, who)),
            keccak256(abi.encode("batch", number)),
            abi.encode(uint64(number), keccak256(abi.encode("block", number)), anchor)
        );
        vm.stopPrank();
    }

    /// @dev Opens proposing to everybody (as the owner).
    function _permissionless() internal {
        vm.prank(owner);
        manager.setPermissionlessProposals(true);
    }

    // ------------------------------------------------------------------ construction and initialization

    function testFuzz_constructor_succeeds(uint256 challengePeriod, uint256 bond) public {
        challengePeriod = bound(challengePeriod, 1, type(uint256).max);
        StateManager implementation = new StateManager(challengePeriod, bond);
        assertEq(implementation.challengePeriod(), challengePeriod);
        assertEq(implementation.proposalBond(), bond);
        // The implementation has no owner and no proposer, and never gets any.
        assertEq(implementation.owner(), address(0));
        assertEq(implementation.proposer(), address(0));
    }

    function test_constructor_zeroChallengePeriod_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroChallengePeriod.selector);
        new StateManager(0, BOND);
    }

    function test_initialize_succeeds() public {
        assertEq(manager.owner(), owner);
        assertEq(manager.proposer(), proposer);
        assertEq(manager.challengePeriod(), CHALLENGE_PERIOD);
        assertEq(manager.proposalBond(), BOND);
        assertEq(manager.proposalCount(), 0);

        // The proxy's constructor initializes it: there is no window to initialize it first.
        StateManager implementation = new StateManager(CHALLENGE_PERIOD, BOND);
        vm.expectEmit();
        emit ProposerUpdated(address(0), proposer);
        vm.expectEmit();
        emit Initialized(1);
        StateManager fresh = StateManager(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), owner, abi.encodeCall(StateManager.initialize, (owner, proposer))
                )
            )
        );
        assertEq(fresh.owner(), owner);
        assertEq(fresh.disputeGame(), address(0));
    }

    function testFuzz_initialize_twice_reverts(address sender, address newOwner, address newProposer) public {
        vm.assume(sender != Proxies.adminOf(address(manager)));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        manager.initialize(newOwner, newProposer);
        assertEq(manager.owner(), owner);
        assertEq(manager.proposer(), proposer);
    }

    function testFuzz_initialize_implementation_reverts(address sender) public {
        StateManager implementation = new StateManager(CHALLENGE_PERIOD, BOND);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        implementation.initialize(sender, sender);
    }

    function test_initialize_zeroAddress_reverts() public {
        address implementation = address(new StateManager(CHALLENGE_PERIOD, BOND));
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        new TransparentUpgradeableProxy(
            implementation, owner, abi.encodeCall(StateManager.initialize, (address(0), proposer))
        );
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        new TransparentUpgradeableProxy(
            implementation, owner, abi.encodeCall(StateManager.initialize, (owner, address(0)))
        );
    }

    // ------------------------------------------------------------------ admin

    function testFuzz_setDisputeGame_succeeds(address newGame) public {
        vm.assume(newGame != address(0));
        StateManager fresh = _deploy();
        vm.expectEmit(address(fresh));
        emit DisputeGameSet(newGame);
        vm.prank(owner);
        fresh.setDisputeGame(newGame);
        assertEq(fresh.disputeGame(), newGame);
    }

    /// @dev Setting the dispute game again upgrades it: new games open in the new contract, and
    ///      the old one keeps its rights over the games it opened.
    function test_setDisputeGame_twice_succeeds() public {
        address next = makeAddr("nextDisputeGame");
        vm.expectEmit(address(manager));
        emit DisputeGameSet(next);
        vm.prank(owner);
        manager.setDisputeGame(next);
        assertEq(manager.disputeGame(), next);
        assertTrue(manager.isDisputeGame(next));
        assertTrue(manager.isDisputeGame(game));
    }

    function test_setDisputeGame_zeroAddress_reverts() public {
        StateManager fresh = _deploy();
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(owner);
        fresh.setDisputeGame(address(0));
    }

    function testFuzz_setDisputeGame_notOwner_reverts(address sender) public {
        StateManager fresh = _deploy();
        vm.assume(sender != owner && sender != Proxies.adminOf(address(fresh)));
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
        vm.assume(sender != owner && sender != Proxies.adminOf(address(manager)));
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
        // Block 0 is the genesis: nothing is anchored below it.
        number = uint64(bound(number, 1, type(uint64).max));
        vm.expectEmit(address(manager));
        emit StateRootSubmitted(0, stateRoot, batchRoot, proposer);
        vm.expectEmit(address(manager));
        emit ProposalL2Block(0, number, blockHash);
        vm.prank(proposer);
        manager.submitStateRoot(stateRoot, batchRoot, abi.encode(number, blockHash));

        assertEq(manager.proposalCount(), 1);
        // The bond moved from the proposer's balance into the proposal; no ETH moved.
        assertEq(manager.bondBalance(proposer), 99 * BOND);
        assertEq(address(manager).balance, 100 * BOND);
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
        StateManager.ProposalDispute memory d = manager.disputeOf(0);
        assertEq(d.anchor, 0);
        assertEq(d.openGames, 0);
        assertTrue(d.allowlisted);
        (bool found, uint256 own) = manager.latestProposalOf(proposer);
        assertTrue(found);
        assertEq(own, 0);
    }

    function testFuzz_submitStateRoot_notProposer_reverts(address sender) public {
        vm.assume(sender != proposer && sender != Proxies.adminOf(address(manager)));
        vm.deal(sender, BOND);
        vm.prank(sender);
        manager.depositBond{value: BOND}();
        vm.expectRevert(StateManager.StateManager_NotProposer.selector);
        vm.prank(sender);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
    }

    function testFuzz_submitStateRoot_insufficientBond_reverts(uint256 balance) public {
        balance = bound(balance, 0, BOND - 1);
        StateManager fresh = _deploy();
        if (balance != 0) {
            vm.prank(proposer);
            fresh.depositBond{value: balance}();
        }
        vm.expectRevert(StateManager.StateManager_InsufficientBond.selector);
        vm.prank(proposer);
        fresh.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        assertEq(fresh.bondBalance(proposer), balance);
    }

    /// @dev The seed's signature is non-payable: ETH sent with a proposal is refused, not
    ///      mistaken for a bond.
    function test_submitStateRoot_withValue_reverts() public {
        vm.prank(proposer);
        (bool ok,) = address(manager).call{value: BOND}(
            abi.encodeCall(IStateManager.submitStateRoot, (bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1)))
        );
        assertFalse(ok);
        assertEq(manager.proposalCount(), 0);
    }

    /// @dev Each proposal draws one bond; the last one the balance can cover succeeds.
    function test_submitStateRoot_drawsEachBond_succeeds() public {
        StateManager fresh = _deploy();
        vm.prank(proposer);
        fresh.depositBond{value: 2 * BOND + 1}();
        vm.startPrank(proposer);
        fresh.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        fresh.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(2));
        assertEq(fresh.bondBalance(proposer), 1);
        vm.expectRevert(StateManager.StateManager_InsufficientBond.selector);
        fresh.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(3));
        vm.stopPrank();
        assertEq(address(fresh).balance, 2 * BOND + 1);
    }

    /// @dev With a zero bond (a devnet choice) proposals need no bond balance.
    function test_submitStateRoot_zeroBond_succeeds() public {
        StateManager fresh = Proxies.deployStateManager(owner, proposer, CHALLENGE_PERIOD, 0);
        vm.prank(proposer);
        fresh.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        assertEq(fresh.proposals(0).bond, 0);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        fresh.returnBond(0);
        assertEq(fresh.bondBalance(proposer), 0);
    }

    function test_submitStateRoot_zeroRoot_reverts() public {
        vm.startPrank(proposer);
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot(bytes32(0), bytes32(uint256(2)), _blockProof(1));
        vm.expectRevert(StateManager.StateManager_ZeroRoot.selector);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(0), _blockProof(1));
        vm.stopPrank();
    }

    function test_submitStateRoot_zeroBlockHash_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroBlockHash.selector);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(uint64(1), bytes32(0)));
    }

    /// @dev The 160-byte proof: the 96-byte one with an L1 block and its hash appended.
    function _l1BoundProof(uint256 number, uint256 l1Block, bytes32 l1Hash) internal pure returns (bytes memory) {
        // casting to 'uint64' is safe because tests pass small block numbers
        // forge-lint: disable-next-line(unsafe-typecast)
        return abi.encode(uint64(number), keccak256(abi.encode("block", number)), uint256(0), l1Block, l1Hash);
    }

    function testFuzz_submitStateRoot_l1BlockHash_succeeds(uint256 back, bytes32 l1Hash) public {
        vm.assume(l1Hash != 0);
        back = bound(back, 1, 256);
        vm.roll(10_000);
        uint256 l1Block = block.number - back;
        vm.setBlockhash(l1Block, l1Hash);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _l1BoundProof(7, l1Block, l1Hash));
        StateManager.Proposal memory p = manager.proposals(0);
        assertEq(p.l2BlockNumber, 7);
        assertEq(p.l2BlockHash, keccak256(abi.encode("block", uint256(7))));
        assertEq(manager.disputeOf(0).anchor, 0);
    }

    /// @dev The proposal an L1 reorg sent again onto a chain where its L1 block has another
    ///      hash: refused, so the proposer keeps its bond.
    function testFuzz_submitStateRoot_l1BlockHashMismatch_reverts(uint256 back, bytes32 l1Hash, bytes32 named) public {
        vm.assume(l1Hash != named);
        back = bound(back, 1, 256);
        vm.roll(10_000);
        uint256 l1Block = block.number - back;
        vm.setBlockhash(l1Block, l1Hash);
        vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_L1BlockHashMismatch.selector, l1Block));
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _l1BoundProof(7, l1Block, named));
        assertEq(manager.proposalCount(), 0);
    }

    /// @dev An L1 block whose hash L1 cannot tell: the current one, a later one, or one older
    ///      than 256 blocks with no EIP-2935 history contract.
    function testFuzz_submitStateRoot_l1BlockHashUnavailable_reverts(uint256 l1Block, bytes32 named) public {
        vm.roll(10_000);
        vm.etch(L1BlockHashes.HISTORY_STORAGE_ADDRESS, "");
        vm.assume(l1Block >= block.number || block.number - l1Block > 256);
        vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_L1BlockHashUnavailable.selector, l1Block));
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _l1BoundProof(7, l1Block, named));
    }

    /// @dev Past 256 blocks the EIP-2935 history contract tells the hash.
    function test_submitStateRoot_l1BlockHashFromHistory_succeeds() public {
        L1Chain chain = new L1Chain(100, 1_000_000);
        chain.roll(100);
        chain.sealTo(150);
        chain.enableHistory();
        chain.roll(1_000);
        uint256 l1Block = 150;
        assertGt(block.number - l1Block, 256, "older than blockhash tells");
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_L1BlockHashMismatch.selector, l1Block));
        manager.submitStateRoot(
            bytes32(uint256(1)), bytes32(uint256(2)), _l1BoundProof(7, l1Block, bytes32(uint256(1)))
        );
        bytes32 l1Hash = chain.hashOf(l1Block);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _l1BoundProof(7, l1Block, l1Hash));
        assertEq(manager.proposalCount(), 1);
    }

    function testFuzz_submitStateRoot_malformedProof_reverts(bytes calldata proof) public {
        vm.assume(proof.length != 64 && proof.length != 96 && proof.length != 160);
        vm.expectRevert(StateManager.StateManager_MalformedProof.selector);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), proof);
    }

    function testFuzz_submitStateRoot_blockNumberOverflow_reverts(uint256 number) public {
        number = bound(number, uint256(type(uint64).max) + 1, type(uint256).max);
        vm.expectRevert(StateManager.StateManager_MalformedProof.selector);
        vm.prank(proposer);
        // casting to 'bytes32' is safe because the literal is one byte
        // forge-lint: disable-next-line(unsafe-typecast)
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(number, bytes32("h")));
    }

    function testFuzz_submitStateRoot_blockNotIncreasing_reverts(uint64 first, uint64 second) public {
        first = uint64(bound(first, 1, type(uint64).max));
        second = uint64(bound(second, 1, first));
        _propose(first);
        vm.expectRevert(StateManager.StateManager_L2BlockNotIncreasing.selector);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(second));
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
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(10));
        assertEq(_propose(11), 3);
        vm.prank(game);
        manager.removeProposal(3, challenger);
        // Back to 0: 1 and 2 were removed before 3 was submitted, so 3 follows 0.
        (index,) = manager.latestProposal();
        assertEq(index, 0);
        vm.prank(game);
        manager.removeProposal(0, challenger);
        vm.expectRevert(StateManager.StateManager_NoProposal.selector);
        manager.latestProposal();
        (bool found,) = manager.latestProposalOf(proposer);
        assertFalse(found);
        // Block 1 again (block 0 is the genesis, never proposed).
        assertEq(_propose(1), 4);
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
        vm.assume(caller != Proxies.adminOf(address(manager)));
        elapsed = bound(elapsed, CHALLENGE_PERIOD, 100 * CHALLENGE_PERIOD);
        _propose(1);
        vm.warp(block.timestamp + elapsed);
        uint256 before = proposer.balance;
        vm.expectEmit(address(manager));
        emit BondReturned(0, proposer, BOND);
        vm.prank(caller);
        manager.returnBond(0);
        // Credited, never pushed: the proposer withdraws it when it wants.
        assertEq(proposer.balance, before);
        assertEq(manager.bondBalance(proposer), 100 * BOND);
        assertEq(address(manager).balance, 100 * BOND);
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

    /// @dev A proposer that rejects ETH cannot block the return of its bond (nothing is pushed);
    ///      it only cannot withdraw its balance, which stays intact.
    function test_returnBond_proposerRejectsEth_succeeds() public {
        address rejecter = address(new EthRejecter());
        vm.prank(owner);
        manager.setProposer(rejecter);
        vm.deal(rejecter, BOND);
        vm.startPrank(rejecter);
        manager.depositBond{value: BOND}();
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        vm.stopPrank();
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(0);
        assertTrue(manager.proposals(0).bondReturned);
        assertEq(manager.bondBalance(rejecter), BOND);
        vm.expectRevert(SafeTransferLib.ETHTransferFailed.selector);
        vm.prank(rejecter);
        manager.withdrawBond(BOND);
        assertEq(manager.bondBalance(rejecter), BOND);
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
        emit ProposalRemoved(0, recipient, REWARD);
        vm.expectEmit(address(manager));
        emit BondBurned(0, BOND - REWARD);
        vm.prank(game);
        manager.removeProposal(0, recipient);
        assertEq(recipient.balance, before);
        assertEq(manager.bondBalance(recipient), recipient == proposer ? 99 * BOND + REWARD : REWARD);
        assertEq(manager.burnedBonds(), BOND - REWARD);
        assertEq(address(manager).balance, 100 * BOND);
        assertTrue(manager.proposals(0).removed);
        // The recipient takes the reward out itself; the burned half stays for good.
        vm.prank(recipient);
        manager.withdrawBond(REWARD);
        assertEq(recipient.balance, before + REWARD);
        assertEq(address(manager).balance, 100 * BOND - REWARD);
        // A removed proposal never becomes final.
        vm.warp(block.timestamp + 100 * CHALLENGE_PERIOD);
        assertFalse(manager.isFinal(0));
    }

    function testFuzz_removeProposal_notDisputeGame_reverts(address sender) public {
        vm.assume(sender != game && sender != Proxies.adminOf(address(manager)));
        _propose(1);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        vm.prank(sender);
        manager.removeProposal(0, challenger);
    }

    /// @dev A recipient that rejects ETH cannot block a removal: the bond is credited.
    function test_removeProposal_recipientRejectsEth_succeeds() public {
        address rejecter = address(new EthRejecter());
        _propose(1);
        vm.prank(game);
        manager.removeProposal(0, rejecter);
        assertTrue(manager.proposals(0).removed);
        assertEq(manager.bondBalance(rejecter), REWARD);
    }

    function test_removeProposal_unset_reverts() public {
        // Before the owner sets a dispute game nobody can remove (address(0) cannot call).
        StateManager fresh = _deploy();
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

    /// @dev Idempotent: the second removal (a parallel game's) returns false, credits nobody
    ///      and emits nothing.
    function test_removeProposal_twice_succeeds() public {
        address other = makeAddr("otherChallenger");
        _propose(1);
        vm.startPrank(game);
        assertTrue(manager.removeProposal(0, challenger));
        vm.recordLogs();
        assertFalse(manager.removeProposal(0, other));
        vm.stopPrank();
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(manager.bondBalance(other), 0);
        assertEq(manager.burnedBonds(), BOND - REWARD, "burned once");
        assertTrue(manager.proposals(0).removed);
        assertEq(address(manager).balance, 100 * BOND);
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

    // ------------------------------------------------------------------ bond balance

    function testFuzz_depositBond_succeeds(address account, uint256 first, uint256 second) public {
        vm.assume(account != address(0));
        first = bound(first, 1, 1e30);
        second = bound(second, 1, 1e30);
        StateManager fresh = _deploy();
        vm.assume(account != Proxies.adminOf(address(fresh)));
        vm.deal(account, first + second);
        vm.expectEmit(address(fresh));
        emit BondDeposited(account, first);
        vm.prank(account);
        fresh.depositBond{value: first}();
        vm.prank(account);
        fresh.depositBond{value: second}();
        assertEq(fresh.bondBalance(account), first + second);
        assertEq(address(fresh).balance, first + second);
    }

    function test_depositBond_zero_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAmount.selector);
        vm.prank(proposer);
        manager.depositBond();
    }

    function testFuzz_withdrawBond_succeeds(uint256 amount) public {
        amount = bound(amount, 1, 100 * BOND);
        uint256 before = proposer.balance;
        vm.expectEmit(address(manager));
        emit BondWithdrawn(proposer, amount);
        vm.prank(proposer);
        manager.withdrawBond(amount);
        assertEq(proposer.balance, before + amount);
        assertEq(manager.bondBalance(proposer), 100 * BOND - amount);
        assertEq(address(manager).balance, 100 * BOND - amount);
    }

    function testFuzz_withdrawBond_insufficient_reverts(uint256 amount) public {
        amount = bound(amount, 100 * BOND + 1, type(uint256).max);
        vm.expectRevert(StateManager.StateManager_InsufficientBond.selector);
        vm.prank(proposer);
        manager.withdrawBond(amount);
    }

    function test_withdrawBond_zero_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAmount.selector);
        vm.prank(proposer);
        manager.withdrawBond(0);
    }

    /// @dev A bond locked in a live proposal is not withdrawable until it is returned.
    function test_withdrawBond_lockedInProposal_reverts() public {
        _propose(1);
        vm.expectRevert(StateManager.StateManager_InsufficientBond.selector);
        vm.prank(proposer);
        manager.withdrawBond(100 * BOND);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(0);
        vm.prank(proposer);
        manager.withdrawBond(100 * BOND);
        assertEq(address(manager).balance, 0);
    }

    /// @dev Re-entering `withdrawBond` from the payout finds the balance already debited.
    function test_withdrawBond_reentrant_reverts() public {
        ReentrantBondWithdrawer attacker = new ReentrantBondWithdrawer(manager);
        vm.deal(address(this), BOND);
        attacker.depositAndWithdraw{value: BOND}(BOND);
        assertEq(
            attacker.reentryRevertData(), abi.encodeWithSelector(StateManager.StateManager_InsufficientBond.selector)
        );
        assertEq(address(attacker).balance, BOND);
        assertEq(manager.bondBalance(address(attacker)), 0);
        assertEq(address(manager).balance, 100 * BOND);
    }

    /// @dev Deposit, propose, remove and return, withdraw: the balance always equals the bond
    ///      balances plus the bonds of live unreturned proposals plus the burned bonds.
    function test_bonds_conserved_succeeds() public {
        address[] memory accounts = new address[](2);
        accounts[0] = proposer;
        accounts[1] = challenger;
        assertEq(address(manager).balance, _bondsHeld(accounts));
        _propose(1);
        _propose(2);
        _propose(3);
        assertEq(address(manager).balance, _bondsHeld(accounts));
        vm.prank(game);
        manager.removeProposal(2, challenger);
        assertEq(address(manager).balance, _bondsHeld(accounts));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(0);
        assertEq(address(manager).balance, _bondsHeld(accounts));
        vm.prank(challenger);
        manager.withdrawBond(REWARD);
        vm.prank(proposer);
        manager.withdrawBond(98 * BOND);
        assertEq(address(manager).balance, _bondsHeld(accounts));
        // The third proposal's bond (locked) and the burned half of the removed one's.
        assertEq(address(manager).balance, BOND + BOND - REWARD);
    }

    // ------------------------------------------------------------------ permissionless proposals

    function test_setPermissionlessProposals_succeeds() public {
        address alice = makeAddr("alice");
        assertFalse(manager.permissionlessProposals());
        vm.expectEmit(address(manager));
        emit PermissionlessProposalsSet(true);
        vm.prank(owner);
        manager.setPermissionlessProposals(true);
        assertTrue(manager.permissionlessProposals());

        // Anyone proposes now; only the allowlisted proposer's proposals are marked allowlisted.
        uint256 a = _proposeAs(alice, 1, 0);
        uint256 b = _proposeAs(proposer, 1, 0);
        assertEq(manager.proposals(a).proposer, alice);
        assertFalse(manager.disputeOf(a).allowlisted);
        assertTrue(manager.disputeOf(b).allowlisted);

        // Closed again: only the proposer.
        vm.expectEmit(address(manager));
        emit PermissionlessProposalsSet(false);
        vm.prank(owner);
        manager.setPermissionlessProposals(false);
        vm.expectRevert(StateManager.StateManager_NotProposer.selector);
        vm.prank(alice);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(2));
        _proposeAs(proposer, 2, 0);
    }

    function testFuzz_setPermissionlessProposals_notOwner_reverts(address sender) public {
        vm.assume(sender != owner && sender != Proxies.adminOf(address(manager)));
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        manager.setPermissionlessProposals(true);
    }

    /// @dev The switch decides, for any account but the allowlisted proposer, whether it may
    ///      propose; the allowlisted proposer may either way.
    function testFuzz_setPermissionlessProposals_succeeds(bool permissionless, address who) public {
        vm.assume(who != proposer && who != address(manager) && who != Proxies.adminOf(address(manager)));
        vm.expectEmit(address(manager));
        emit PermissionlessProposalsSet(permissionless);
        vm.prank(owner);
        manager.setPermissionlessProposals(permissionless);
        assertEq(manager.permissionlessProposals(), permissionless);

        vm.deal(who, BOND);
        vm.prank(who);
        manager.depositBond{value: BOND}();
        if (!permissionless) vm.expectRevert(StateManager.StateManager_NotProposer.selector);
        vm.prank(who);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(1));
        assertEq(manager.proposalCount(), permissionless ? 1 : 0);
        assertEq(manager.bondBalance(who), permissionless ? 0 : BOND);
        _propose(1);
        assertTrue(manager.disputeOf(manager.proposalCount() - 1).allowlisted);
    }

    /// @dev The allowlisted flag is the proposer's at proposal time: replacing the proposer
    ///      later changes nothing on recorded proposals.
    function test_submitStateRoot_allowlistedSnapshot_succeeds() public {
        uint256 index = _propose(1);
        vm.prank(owner);
        manager.setProposer(makeAddr("nextProposer"));
        assertTrue(manager.disputeOf(index).allowlisted);
    }

    /// @dev Several proposals of one block by different proposers; each proposer's blocks only
    ///      increase against its own latest live proposal.
    function test_submitStateRoot_sameBlockDifferentProposers_succeeds() public {
        _permissionless();
        address alice = makeAddr("alice");
        address bob = makeAddr("bob");
        uint256 p0 = _proposeAs(proposer, 5, 0);
        uint256 p1 = _proposeAs(alice, 5, 0);
        uint256 p2 = _proposeAs(bob, 5, 0);
        assertEq(manager.proposals(p0).l2BlockNumber, 5);
        assertEq(manager.proposals(p1).l2BlockNumber, 5);
        assertEq(manager.proposals(p2).l2BlockNumber, 5);
        assertTrue(manager.proposals(p1).stateRoot != manager.proposals(p0).stateRoot);
        (uint256 latest,) = manager.latestProposal();
        assertEq(latest, p2);
        (bool found, uint256 own) = manager.latestProposalOf(alice);
        assertTrue(found);
        assertEq(own, p1);

        // Alice cannot repeat or go back, bob's later block does not hold alice back.
        uint256 p3 = _proposeAs(bob, 9, 0);
        vm.deal(alice, BOND);
        vm.startPrank(alice);
        manager.depositBond{value: BOND}();
        vm.expectRevert(StateManager.StateManager_L2BlockNotIncreasing.selector);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(5));
        vm.stopPrank();
        uint256 p4 = _proposeAs(alice, 6, 0);
        (latest,) = manager.latestProposal();
        assertEq(latest, p4);

        // Removing alice's latest walks her own chain back, not bob's.
        vm.prank(game);
        manager.removeProposal(p4, challenger);
        (found, own) = manager.latestProposalOf(alice);
        assertTrue(found);
        assertEq(own, p1);
        (found, own) = manager.latestProposalOf(bob);
        assertEq(own, p3);
        (latest,) = manager.latestProposal();
        assertEq(latest, p3);
        (found,) = manager.latestProposalOf(makeAddr("nobody"));
        assertFalse(found);
    }

    // ------------------------------------------------------------------ anchors

    /// @dev A 64-byte proof anchors on the genesis; the game gets block 0 and a zero root.
    function test_submitStateRoot_genesisAnchor_succeeds() public {
        uint256 index = _propose(7);
        assertEq(manager.disputeOf(index).anchor, 0);
        vm.prank(game);
        (uint256 anchorBlock, bytes32 anchorRoot) = manager.openGame(index);
        assertEq(anchorBlock, 0);
        assertEq(anchorRoot, bytes32(0));
        // A 96-byte proof naming anchor 0 is the genesis too.
        uint256 next = _proposeAs(proposer, 8, 0);
        assertEq(manager.disputeOf(next).anchor, 0);
    }

    /// @dev A 96-byte proof names a final proposal below the block; games start from it.
    function test_submitStateRoot_finalAnchor_succeeds() public {
        uint256 first = _propose(10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        assertTrue(manager.isFinal(first));
        uint256 index = _proposeAs(proposer, 20, first + 1);
        StateManager.ProposalDispute memory d = manager.disputeOf(index);
        assertEq(d.anchor, first + 1);
        vm.prank(game);
        (uint256 anchorBlock, bytes32 anchorRoot) = manager.openGame(index);
        assertEq(anchorBlock, 10);
        assertEq(anchorRoot, manager.proposals(first).stateRoot);
        // Another proposer anchors on it as well.
        _permissionless();
        uint256 other = _proposeAs(makeAddr("alice"), 11, first + 1);
        assertEq(manager.disputeOf(other).anchor, first + 1);
    }

    /// @dev Proposes block `number` with a 96-byte proof naming `anchor` and expects BadAnchor.
    function _expectBadAnchor(uint256 number, uint256 anchor) internal {
        vm.expectRevert(StateManager.StateManager_BadAnchor.selector);
        vm.prank(proposer);
        manager.submitStateRoot(
            bytes32(uint256(1)), bytes32(uint256(2)), abi.encode(uint64(number), bytes32(uint256(3)), anchor)
        );
    }

    function test_submitStateRoot_anchorNotFinal_reverts() public {
        uint256 first = _propose(10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD - 1);
        _expectBadAnchor(20, first + 1);
        // Past its period but with a game open: still not final.
        vm.prank(game);
        manager.openGame(first);
        vm.warp(block.timestamp + 1);
        _expectBadAnchor(20, first + 1);
        vm.prank(game);
        manager.closeGame(first);
        _proposeAs(proposer, 20, first + 1);
    }

    function test_submitStateRoot_anchorRemoved_reverts() public {
        uint256 first = _propose(10);
        vm.prank(game);
        manager.removeProposal(first, challenger);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        _expectBadAnchor(20, first + 1);
    }

    function testFuzz_submitStateRoot_anchorOutOfRange_reverts(uint256 anchor) public {
        _propose(10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        anchor = bound(anchor, 2, type(uint256).max);
        _expectBadAnchor(20, anchor);
    }

    function testFuzz_submitStateRoot_anchorNotBelow_reverts(uint64 number) public {
        uint256 first = _propose(10);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        number = uint64(bound(number, 0, 10));
        _expectBadAnchor(number, first + 1);
    }

    function test_submitStateRoot_genesisBlockZero_reverts() public {
        vm.expectRevert(StateManager.StateManager_BadAnchor.selector);
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(0));
        _expectBadAnchor(0, 0);
    }

    // ------------------------------------------------------------------ games

    function test_openGame_succeeds() public {
        uint256 index = _propose(3);
        vm.expectEmit(address(manager));
        emit ProposalChallenged(index, game, 1);
        vm.prank(game);
        manager.openGame(index);
        vm.expectEmit(address(manager));
        emit ProposalChallenged(index, game, 2);
        vm.prank(game);
        manager.openGame(index);
        assertEq(manager.disputeOf(index).openGames, 2);
    }

    function testFuzz_openGame_notDisputeGame_reverts(address sender) public {
        vm.assume(sender != game && sender != Proxies.adminOf(address(manager)));
        _propose(1);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        vm.prank(sender);
        manager.openGame(0);
    }

    function testFuzz_closeGame_notDisputeGame_reverts(address sender) public {
        vm.assume(sender != game && sender != Proxies.adminOf(address(manager)));
        _propose(1);
        vm.prank(game);
        manager.openGame(0);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        vm.prank(sender);
        manager.closeGame(0);
    }

    /// @dev A proposal can be challenged until the last second of its period, never after.
    function testFuzz_openGame_challengePeriod_succeeds(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3 * CHALLENGE_PERIOD);
        uint256 index = _propose(1);
        vm.warp(block.timestamp + elapsed);
        if (elapsed >= CHALLENGE_PERIOD) vm.expectRevert(StateManager.StateManager_ChallengePeriodOver.selector);
        vm.prank(game);
        manager.openGame(index);
        assertEq(manager.disputeOf(index).openGames, elapsed < CHALLENGE_PERIOD ? 1 : 0);
    }

    function test_openGame_removed_reverts() public {
        uint256 index = _propose(1);
        vm.startPrank(game);
        manager.removeProposal(index, challenger);
        vm.expectRevert(StateManager.StateManager_ProposalRemoved.selector);
        manager.openGame(index);
        vm.stopPrank();
    }

    function testFuzz_openGame_unknownIndex_reverts(uint256 index) public {
        vm.startPrank(game);
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.openGame(index);
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.closeGame(index);
        vm.stopPrank();
        vm.expectRevert(StateManager.StateManager_UnknownProposal.selector);
        manager.disputeOf(index);
    }

    function test_closeGame_succeeds() public {
        uint256 index = _propose(1);
        vm.startPrank(game);
        manager.openGame(index);
        manager.openGame(index);
        vm.expectEmit(address(manager));
        emit ProposalDefended(index, game, 1);
        manager.closeGame(index);
        vm.expectEmit(address(manager));
        emit ProposalDefended(index, game, 0);
        manager.closeGame(index);
        vm.stopPrank();
        assertEq(manager.disputeOf(index).openGames, 0);
    }

    /// @dev A holder of `isDisputeGame` that did not open a game (a guardian, a replaced game)
    ///      cannot close it: the proposal stays unfinal under the running game, whose loss can
    ///      still remove it, so that game's bonds are never locked.
    function test_closeGame_notOpener_reverts() public {
        address guardian = makeAddr("guardian");
        vm.prank(owner);
        manager.setDisputeGame(guardian);
        vm.prank(owner);
        manager.setDisputeGame(game);
        uint256 index = _propose(1);
        vm.prank(game);
        manager.openGame(index);
        vm.prank(guardian);
        vm.expectRevert(StateManager.StateManager_NoOpenGame.selector);
        manager.closeGame(index);
        vm.warp(block.timestamp + 2 * CHALLENGE_PERIOD);
        assertFalse(manager.isFinal(index));
        vm.prank(game);
        assertTrue(manager.removeProposal(index, challenger));
    }

    /// @dev A game may close after the challenge period (games outlive it).
    function test_closeGame_noOpenGame_reverts() public {
        uint256 index = _propose(1);
        vm.startPrank(game);
        vm.expectRevert(StateManager.StateManager_NoOpenGame.selector);
        manager.closeGame(index);
        manager.openGame(index);
        vm.warp(block.timestamp + 10 * CHALLENGE_PERIOD);
        manager.closeGame(index);
        vm.expectRevert(StateManager.StateManager_NoOpenGame.selector);
        manager.closeGame(index);
        vm.stopPrank();
    }

    /// @dev Each game contract closes exactly the games it opened, whatever the counts and
    ///      however long after the challenge period: a replaced game cannot close the current
    ///      game's, nor the current one the replaced one's, and the proposal is final (its bond
    ///      returnable) only once every game closed.
    function testFuzz_closeGame_onlyOwnGames_succeeds(uint256 mine, uint256 theirs, uint256 elapsed) public {
        mine = bound(mine, 1, 5);
        theirs = bound(theirs, 1, 5);
        elapsed = bound(elapsed, CHALLENGE_PERIOD, 100 * CHALLENGE_PERIOD);
        address next = makeAddr("nextDisputeGame");
        uint256 index = _propose(1);
        for (uint256 i; i < mine; ++i) {
            vm.prank(game);
            manager.openGame(index);
        }
        vm.prank(owner);
        manager.setDisputeGame(next);
        for (uint256 i; i < theirs; ++i) {
            vm.prank(next);
            manager.openGame(index);
        }
        vm.warp(block.timestamp + elapsed);

        for (uint256 i; i < theirs; ++i) {
            vm.expectEmit(address(manager));
            emit ProposalDefended(index, next, mine + theirs - i - 1);
            vm.prank(next);
            manager.closeGame(index);
        }
        vm.expectRevert(StateManager.StateManager_NoOpenGame.selector);
        vm.prank(next);
        manager.closeGame(index);
        for (uint256 i; i < mine; ++i) {
            assertFalse(manager.isFinal(index), "final with a game open");
            vm.expectRevert(StateManager.StateManager_ProposalNotFinal.selector);
            manager.returnBond(index);
            vm.expectEmit(address(manager));
            emit ProposalDefended(index, game, mine - i - 1);
            vm.prank(game);
            manager.closeGame(index);
        }
        vm.expectRevert(StateManager.StateManager_NoOpenGame.selector);
        vm.prank(game);
        manager.closeGame(index);
        assertEq(manager.disputeOf(index).openGames, 0);
        assertTrue(manager.isFinal(index));
        manager.returnBond(index);
        assertEq(manager.bondBalance(proposer), 100 * BOND);
    }

    /// @dev An open game holds finality (and the bond) back past the challenge period; the
    ///      proposal can still be removed meanwhile; it is final once the game closes.
    function test_isFinal_openGame_succeeds() public {
        uint256 index = _propose(1);
        uint256 other = _propose(2);
        vm.startPrank(game);
        manager.openGame(index);
        manager.openGame(other);
        vm.stopPrank();
        vm.warp(block.timestamp + 5 * CHALLENGE_PERIOD);
        assertFalse(manager.isFinal(index));
        vm.expectRevert(StateManager.StateManager_ProposalNotFinal.selector);
        manager.returnBond(index);
        vm.startPrank(game);
        manager.closeGame(index);
        assertTrue(manager.removeProposal(other, challenger));
        vm.stopPrank();
        assertTrue(manager.isFinal(index));
        assertFalse(manager.isFinal(other));
        manager.returnBond(index);
        assertEq(manager.bondBalance(challenger), REWARD);
    }

    /// @dev Idempotent removal credits the proposal's bond once, to the first recipient, even
    ///      after the challenge period and with games still counted open.
    function test_removeProposal_parallelGames_creditsOnce_succeeds() public {
        address second = makeAddr("secondChallenger");
        uint256 index = _propose(1);
        vm.startPrank(game);
        manager.openGame(index);
        manager.openGame(index);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectEmit(address(manager));
        emit ProposalRemoved(index, challenger, REWARD);
        assertTrue(manager.removeProposal(index, challenger));
        assertFalse(manager.removeProposal(index, second));
        vm.stopPrank();
        assertEq(manager.bondBalance(challenger), REWARD);
        assertEq(manager.bondBalance(second), 0);
        assertFalse(manager.isFinal(index));
        address[] memory accounts = new address[](3);
        (accounts[0], accounts[1], accounts[2]) = (proposer, challenger, second);
        assertEq(address(manager).balance, _bondsHeld(accounts));
    }

    /// @dev Removing the head costs the same gas however many removed proposals lie below it:
    ///      a walk back over them could outgrow a block and jam the game that wins the removal.
    function test_removeProposal_manyRemovedBelowHead_constantGas_succeeds() public {
        uint256 first = _propose(1);
        uint256 alone = _propose(2);
        vm.prank(game);
        uint256 gasBefore = gasleft();
        manager.removeProposal(alone, challenger);
        uint256 baseline = gasBefore - gasleft();

        uint256 count = 600;
        vm.deal(proposer, (count + 1) * BOND);
        vm.prank(proposer);
        manager.depositBond{value: (count + 1) * BOND}();
        for (uint256 i = 3; i < 3 + count; ++i) {
            _propose(i);
        }
        uint256 head = _propose(3 + count);
        vm.startPrank(game);
        for (uint256 i = alone + 1; i < head; ++i) {
            manager.removeProposal(i, challenger);
        }
        gasBefore = gasleft();
        manager.removeProposal(head, challenger);
        uint256 used = gasBefore - gasleft();
        vm.stopPrank();

        assertLe(used, baseline + 5_000, "removing the head walked back");
        (uint256 latest,) = manager.latestProposal();
        assertEq(latest, first);
        (bool found, uint256 own) = manager.latestProposalOf(proposer);
        assertTrue(found);
        assertEq(own, first);
    }

    /// @dev Removing proposals of several proposers in any order keeps the latest live proposal,
    ///      overall and of each proposer, the highest-indexed one not removed.
    function testFuzz_removeProposal_anyOrder_keepsLatestLive_succeeds(uint256 seed) public {
        _permissionless();
        address[3] memory who = [proposer, makeAddr("alice"), makeAddr("bob")];
        uint256 count = 12;
        uint256[] memory blockOf = new uint256[](3);
        for (uint256 i; i < count; ++i) {
            uint256 w = uint256(keccak256(abi.encode(seed, "who", i))) % 3;
            _proposeAs(who[w], ++blockOf[w], 0);
        }
        uint256 removals = bound(seed, 1, count);
        for (uint256 r; r < removals; ++r) {
            uint256 index = uint256(keccak256(abi.encode(seed, "remove", r))) % count;
            vm.prank(game);
            manager.removeProposal(index, challenger);
            _assertLatestLive(who);
        }
        // New proposals link to what is left, and removing them again finds it.
        for (uint256 w; w < 3; ++w) {
            uint256 index = _proposeAs(who[w], ++blockOf[w], 0);
            _assertLatestLive(who);
            vm.prank(game);
            manager.removeProposal(index, challenger);
            _assertLatestLive(who);
        }
    }

    /// @dev `latestProposal` and each `latestProposalOf` name the highest live index.
    function _assertLatestLive(address[3] memory who) internal view {
        uint256 count = manager.proposalCount();
        (bool any, uint256 expected) = (false, 0);
        for (uint256 i = count; i > 0; --i) {
            if (!manager.proposals(i - 1).removed) {
                (any, expected) = (true, i - 1);
                break;
            }
        }
        try manager.latestProposal() returns (uint256 latest, StateManager.Proposal memory) {
            assertTrue(any, "latestProposal named a removed proposal");
            assertEq(latest, expected, "latestProposal");
        } catch {
            assertFalse(any, "latestProposal found none");
        }
        for (uint256 w; w < who.length; ++w) {
            (bool own, uint256 ownExpected) = (false, 0);
            for (uint256 i = count; i > 0; --i) {
                StateManager.Proposal memory p = manager.proposals(i - 1);
                if (!p.removed && p.proposer == who[w]) {
                    (own, ownExpected) = (true, i - 1);
                    break;
                }
            }
            (bool found, uint256 index) = manager.latestProposalOf(who[w]);
            assertEq(found, own, "latestProposalOf found");
            if (own) assertEq(index, ownExpected, "latestProposalOf");
        }
    }

    /// @dev Upgrading the dispute game: the new one opens games, the old one opens no new
    ///      ones but still closes and wins the games it opened.
    function test_setDisputeGame_upgrade_oldGameKeepsRights_succeeds() public {
        address next = makeAddr("nextDisputeGame");
        uint256 a = _propose(1);
        uint256 b = _propose(2);
        vm.startPrank(game);
        manager.openGame(a);
        manager.openGame(b);
        vm.stopPrank();
        vm.prank(owner);
        manager.setDisputeGame(next);
        assertEq(manager.disputeGame(), next);
        vm.prank(next);
        manager.openGame(a);
        vm.prank(game);
        vm.expectRevert(StateManager.StateManager_NotDisputeGame.selector);
        manager.openGame(a);
        vm.prank(game);
        manager.closeGame(a);
        vm.prank(next);
        manager.closeGame(a);
        vm.prank(game);
        assertTrue(manager.removeProposal(b, challenger));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        assertTrue(manager.isFinal(a));
        assertFalse(manager.isFinal(b));
    }

    // ------------------------------------------------------------------ one-step verifier

    function test_setOneStepVerifier_succeeds() public {
        address verifier = address(new RecordingVerifier());
        vm.expectEmit(address(manager));
        emit OneStepVerifierSet(verifier);
        vm.prank(owner);
        manager.setOneStepVerifier(verifier);
        assertEq(manager.oneStepVerifier(), verifier);
        // Replaceable.
        address next = address(new RecordingVerifier());
        vm.prank(owner);
        manager.setOneStepVerifier(next);
        assertEq(manager.oneStepVerifier(), next);
    }

    function testFuzz_setOneStepVerifier_notOwner_reverts(address sender) public {
        vm.assume(sender != owner && sender != Proxies.adminOf(address(manager)));
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        manager.setOneStepVerifier(sender);
    }

    function testFuzz_setOneStepVerifier_succeeds(address verifier) public {
        vm.assume(verifier != address(0));
        vm.expectEmit(address(manager));
        emit OneStepVerifierSet(verifier);
        vm.prank(owner);
        manager.setOneStepVerifier(verifier);
        assertEq(manager.oneStepVerifier(), verifier);
    }

    function test_setOneStepVerifier_zeroAddress_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(owner);
        manager.setOneStepVerifier(address(0));
    }

    /// @dev Forwards its arguments and the verifier's answer unchanged.
    function testFuzz_verifyStateTransition_forwards_succeeds(
        bytes32 from,
        bytes32 to,
        bytes calldata proof,
        bool answer
    ) public {
        RecordingVerifier verifier = new RecordingVerifier();
        verifier.set(answer, "");
        vm.prank(owner);
        manager.setOneStepVerifier(address(verifier));
        assertEq(manager.verifyStateTransition(from, to, proof), answer);
        assertEq(verifier.lastFrom(), from);
        assertEq(verifier.lastTo(), to);
        assertEq(verifier.lastProof(), proof);
    }

    /// @dev The verifier's revert (here NotProvableYet) bubbles up unchanged.
    function test_verifyStateTransition_verifierReverts_reverts() public {
        RecordingVerifier verifier = new RecordingVerifier();
        bytes memory reason = abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, 3, 4);
        verifier.set(true, reason);
        vm.prank(owner);
        manager.setOneStepVerifier(address(verifier));
        vm.expectRevert(reason);
        manager.verifyStateTransition(bytes32(uint256(1)), bytes32(uint256(2)), "");
    }

    // ------------------------------------------------------------------ verifyStateTransition

    function testFuzz_verifyStateTransition_noVerifier_reverts(bytes32 from, bytes32 to, bytes calldata proof) public {
        vm.expectRevert(StateManager.StateManager_NoVerifier.selector);
        manager.verifyStateTransition(from, to, proof);
    }

    // ------------------------------------------------------------------ batch inbox bound

    /// @dev Once the inbox is set, only L2 blocks it recorded may be proposed, by anyone.
    function test_submitStateRoot_blockNotInInbox_reverts() public {
        MockInboxHead inbox = new MockInboxHead();
        inbox.set(5);
        vm.expectEmit(address(manager));
        emit BatchInboxSet(address(inbox));
        vm.prank(owner);
        manager.setBatchInbox(address(inbox));
        assertEq(manager.batchInbox(), address(inbox));

        _propose(4);
        vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_BlockNotInInbox.selector, 5, 5));
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(5));

        // A permissionless proposer is bound the same way.
        _permissionless();
        address alice = makeAddr("alice");
        vm.deal(alice, BOND);
        vm.startPrank(alice);
        manager.depositBond{value: BOND}();
        vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_BlockNotInInbox.selector, 9, 5));
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(9));
        vm.stopPrank();

        // The inbox records more: the block can be proposed.
        inbox.set(6);
        _propose(5);
    }

    /// @dev Fuzzed: a block is accepted exactly when the inbox recorded it.
    function testFuzz_submitStateRoot_inboxBound(uint64 next, uint64 number) public {
        number = uint64(bound(number, 1, type(uint64).max));
        MockInboxHead inbox = new MockInboxHead();
        inbox.set(next);
        vm.prank(owner);
        manager.setBatchInbox(address(inbox));
        if (number >= next) {
            vm.expectRevert(abi.encodeWithSelector(StateManager.StateManager_BlockNotInInbox.selector, number, next));
        }
        vm.prank(proposer);
        manager.submitStateRoot(bytes32(uint256(1)), bytes32(uint256(2)), _blockProof(number));
        if (number < next) assertEq(manager.proposals(0).l2BlockNumber, number);
    }

    function testFuzz_setBatchInbox_succeeds(address inbox) public {
        vm.assume(inbox != address(0));
        vm.expectEmit(address(manager));
        emit BatchInboxSet(inbox);
        vm.prank(owner);
        manager.setBatchInbox(inbox);
        assertEq(manager.batchInbox(), inbox);
    }

    function test_setBatchInbox_zeroAddress_reverts() public {
        vm.expectRevert(StateManager.StateManager_ZeroAddress.selector);
        vm.prank(owner);
        manager.setBatchInbox(address(0));
    }

    function testFuzz_setBatchInbox_notOwner_reverts(address sender) public {
        vm.assume(sender != owner && sender != Proxies.adminOf(address(manager)));
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        manager.setBatchInbox(address(1));
    }
}

/// @notice The StateManager's ownership (`OwnershipTests`), its owner power here `setProposer`;
///         and whatever happens to the ownership, no bond is locked.
contract StateManagerOwnershipTest is OwnershipTests {
    uint256 internal constant CHALLENGE_PERIOD = 1 hours;
    uint256 internal constant BOND = 1 ether;
    /// @dev What a removal credits (`REMOVAL_REWARD_BPS` of the bond); the rest is burned.
    uint256 internal constant REWARD = BOND / 2;

    StateManager internal manager;
    address internal proposer;
    address internal game;

    function setUp() public {
        vm.warp(1_700_000_000);
        initialOwner = makeAddr("owner");
        proposer = makeAddr("proposer");
        game = makeAddr("disputeGame");
        manager =
            Proxies.deployStateManager(makeAddr("proxyAdminOwner"), initialOwner, proposer, CHALLENGE_PERIOD, BOND);
        owned = Ownable(address(manager));
        vm.prank(initialOwner);
        manager.setDisputeGame(game);
    }

    function _act(address caller, address value) internal override {
        vm.prank(caller);
        manager.setProposer(value);
    }

    function _acted() internal view override returns (address) {
        return manager.proposer();
    }

    /// @dev Bonds never depend on the owner: after the owner renounces or hands the contract to
    ///      someone else, the proposer still proposes with its bond, a final proposal's bond
    ///      still returns, a removed one's reward still reaches the dispute game's recipient, and
    ///      every wei but the burned half can be withdrawn.
    function testFuzz_renounceOwnership_bondsNotLocked_succeeds(
        bool renounce,
        address newOwner,
        uint256 deposit,
        uint256 recipientKey
    ) public {
        _assumeCaller(newOwner);
        deposit = bound(deposit, 2 * BOND, 100 ether);
        // An EOA (precompiles and cheatcode addresses would reject or swallow the ETH).
        address recipient = vm.addr(bound(recipientKey, 1, 1e70));
        vm.assume(recipient != proposer);
        vm.deal(proposer, deposit);
        vm.prank(proposer);
        manager.depositBond{value: deposit}();
        vm.prank(proposer);
        manager.submitStateRoot(keccak256("state 1"), keccak256("batch 1"), abi.encode(uint64(1), keccak256("1")));

        vm.prank(initialOwner);
        if (renounce) {
            manager.renounceOwnership();
        } else {
            manager.transferOwnership(newOwner);
        }
        assertEq(manager.owner(), renounce ? address(0) : newOwner);
        assertEq(manager.proposer(), proposer);
        assertEq(manager.disputeGame(), game);

        vm.prank(proposer);
        manager.submitStateRoot(keccak256("state 2"), keccak256("batch 2"), abi.encode(uint64(2), keccak256("2")));
        vm.prank(game);
        assertTrue(manager.removeProposal(1, recipient));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        manager.returnBond(0);
        assertEq(address(manager).balance, deposit);

        vm.prank(recipient);
        manager.withdrawBond(REWARD);
        vm.prank(proposer);
        manager.withdrawBond(deposit - BOND);
        assertEq(recipient.balance, REWARD);
        assertEq(proposer.balance, deposit - BOND);
        // Only the burned half of the removed proposal's bond stays.
        assertEq(address(manager).balance, BOND - REWARD);
        assertEq(manager.burnedBonds(), BOND - REWARD);
    }
}
