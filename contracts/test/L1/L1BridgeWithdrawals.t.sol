// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {MockERC20} from "test/utils/Mocks.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

/// @dev An L1 recipient that tries to finalize again (any withdrawal) when paid.
contract ReentrantRecipient {
    L1Bridge internal immutable bridge;
    bytes public reentryRevertData;
    bytes32 internal id;
    uint256 internal amount;

    constructor(L1Bridge bridge_) {
        bridge = bridge_;
    }

    function arm(bytes32 id_, uint256 amount_) external {
        id = id_;
        amount = amount_;
    }

    receive() external payable {
        try bridge.finalizeWithdrawal(id, address(this), amount) {}
        catch (bytes memory reason) {
            reentryRevertData = reason;
        }
    }
}

/// @dev Rejects ETH.
contract RejectingRecipient {}

contract L1BridgeWithdrawalsTest is Test {
    event WithdrawalProven(bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient);
    event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);

    uint256 internal constant CHALLENGE_PERIOD = 1 days;
    uint256 internal constant BOND = 0.5 ether;
    uint32 internal constant ETH_GAS = 21_000;
    uint32 internal constant ERC20_GAS = 900_000;
    uint256 internal constant LOCKED = 1_000 ether;

    StateManager internal manager;
    L1Bridge internal bridge;
    MockERC20 internal token;
    address internal l2Token;
    address internal proposer;
    address internal game;
    address internal alice;
    address internal bob;
    uint64 internal nextL2Block = 1;

    function setUp() public {
        proposer = makeAddr("proposer");
        game = makeAddr("disputeGame");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        manager = new StateManager(address(this), proposer, CHALLENGE_PERIOD, BOND);
        manager.setDisputeGame(game);
        bridge = new L1Bridge(address(manager));
        token = new MockERC20();
        l2Token = bridge.predictL2Token(address(token));
        vm.deal(proposer, 1_000 ether);

        // Lock ETH and tokens to pay withdrawals from.
        vm.deal(alice, LOCKED);
        token.mint(alice, LOCKED);
        vm.startPrank(alice);
        token.approve(address(bridge), type(uint256).max);
        bridge.deposit{value: LOCKED}(address(0), address(0), LOCKED, ETH_GAS);
        bridge.deposit(address(token), l2Token, LOCKED, ERC20_GAS);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ helpers

    function _eth(uint256 nonce, address to, uint256 amount) internal pure returns (Withdrawals.Withdrawal memory) {
        return Withdrawals.Withdrawal(nonce, to, to, address(0), address(0), amount);
    }

    function _erc20(uint256 nonce, address to, uint256 amount) internal view returns (Withdrawals.Withdrawal memory) {
        return Withdrawals.Withdrawal(nonce, to, to, address(token), l2Token, amount);
    }

    function _propose(bytes32 stateRoot) internal returns (uint256 index) {
        index = manager.proposalCount();
        vm.prank(proposer);
        manager.submitStateRoot{value: BOND}(
            stateRoot, keccak256(abi.encode("batch", index)), abi.encode(nextL2Block++, keccak256(abi.encode(index)))
        );
    }

    /// @dev Proposes the single-leaf trie of `w` and proves `w` against it.
    function _proposeAndProve(Withdrawals.Withdrawal memory w) internal returns (uint256 index, bytes32 id) {
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        index = _propose(root);
        id = bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev `count` non-zero pseudo-random siblings from `seed`.
    function _siblings(uint256 seed, uint256 count) internal pure returns (bytes32[] memory siblings) {
        siblings = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            siblings[i] = keccak256(abi.encode(seed, i));
        }
    }

    function _copy(bytes32[] memory a, uint256 from, uint256 to) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](to - from);
        for (uint256 i = from; i < to; ++i) {
            b[i - from] = a[i];
        }
    }

    // ------------------------------------------------------------------ proveWithdrawal

    function test_proveWithdrawal_eth_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        // A single-leaf trie's root is the leaf.
        assertEq(root, TrieBuilder.leaf(TrieBuilder.withdrawalKey(w), bytes32(uint256(1))));
        uint256 index = _propose(root);
        bytes32 expectedId = keccak256(abi.encode(uint256(0), bob, bob, address(0), address(0), uint256(1 ether)));

        vm.expectEmit(address(bridge));
        emit WithdrawalProven(expectedId, index, bob);
        bytes32 id = bridge.proveWithdrawal(index, w, proof);
        assertEq(id, expectedId);
        assertEq(bridge.hashWithdrawal(w), id);

        L1Bridge.ProvenWithdrawal memory proven = bridge.provenWithdrawals(id);
        assertEq(proven.proposalIndex, index);
        assertEq(proven.recipient, bob);
        assertEq(proven.l1Token, address(0));
        assertEq(proven.amount, 1 ether);
        assertEq(proven.provenAt, block.timestamp);
    }

    function test_proveWithdrawal_twoLeafTrie_succeeds() public {
        Withdrawals.Withdrawal memory a = _eth(0, bob, 1 ether);
        Withdrawals.Withdrawal memory b = _erc20(1, alice, 2 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB) =
            TrieBuilder.proveTwo(a, b);
        uint256 index = _propose(root);
        bridge.proveWithdrawal(index, a, proofA);
        bytes32 idB = bridge.proveWithdrawal(index, b, proofB);
        assertEq(bridge.provenWithdrawals(idB).l1Token, address(token));
    }

    function testFuzz_proveWithdrawal_deepProof_succeeds(
        uint256 seed,
        uint256 depth,
        uint256 nonce,
        address to,
        uint256 amount,
        bool erc20,
        address caller
    ) public {
        depth = bound(depth, 0, 256);
        Withdrawals.Withdrawal memory w = erc20 ? _erc20(nonce, to, amount) : _eth(nonce, to, amount);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, _siblings(seed, depth));
        uint256 index = _propose(root);
        vm.prank(caller);
        bytes32 id = bridge.proveWithdrawal(index, w, proof);
        assertEq(id, Withdrawals.hash(w));
        assertEq(bridge.provenWithdrawals(id).recipient, to);
        assertEq(bridge.provenWithdrawals(id).amount, amount);
    }

    function testFuzz_proveWithdrawal_unknownProposal_reverts(uint256 index) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        _propose(root);
        index = bound(index, 1, type(uint256).max);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownProposal.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function test_proveWithdrawal_removedProposal_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        vm.prank(game);
        manager.removeProposal(index, game);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalRemoved.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function testFuzz_proveWithdrawal_unknownTokenMapping_reverts(address l1Token, address wrongL2Token) public {
        vm.assume(l1Token == address(0) ? wrongL2Token != address(0) : wrongL2Token != bridge.predictL2Token(l1Token));
        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(0, bob, bob, l1Token, wrongL2Token, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function test_proveWithdrawal_alreadyProven_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 first = _propose(root);
        uint256 second = _propose(root);
        bridge.proveWithdrawal(first, w, proof);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyProven.selector);
        bridge.proveWithdrawal(first, w, proof);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyProven.selector);
        bridge.proveWithdrawal(second, w, proof);
    }

    /// @dev A removed proposal invalidates its proofs; the withdrawal is proven again elsewhere.
    function test_proveWithdrawal_afterRemoval_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        (uint256 first, bytes32 id) = _proposeAndProve(w);
        vm.prank(game);
        manager.removeProposal(first, game);
        uint256 second = _propose(root);
        vm.expectEmit(address(bridge));
        emit WithdrawalProven(id, second, bob);
        bridge.proveWithdrawal(second, w, proof);
        assertEq(bridge.provenWithdrawals(id).proposalIndex, second);

        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(id, bob, 1 ether);
        assertEq(bob.balance, 1 ether);
    }

    function test_proveWithdrawal_alreadyFinalized_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        (, bytes32 id) = _proposeAndProve(w);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(id, bob, 1 ether);
        uint256 later = _propose(root);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.proveWithdrawal(later, w, proof);
    }

    // ------------------------------------------------------------------ bad proofs

    /// @dev Wrong root: a valid proof of the withdrawal, generated against another state root.
    function test_proveWithdrawal_wrongRoot_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root,) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        (, Withdrawals.WithdrawalProof memory other) = TrieBuilder.prove(w, _siblings(7, 3));
        vm.expectRevert(L1Bridge.L1Bridge_StateRootMismatch.selector);
        bridge.proveWithdrawal(index, w, other);
    }

    /// @dev Wrong slot: the client proved another slot of the L2 bridge (here: the nonce at slot
    ///      1, and the mapping entry computed with slot 1 instead of 0).
    function test_proveWithdrawal_wrongSlot_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        proof.slot = 1;
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, proof);
        proof.slot = uint256(keccak256(abi.encode(Withdrawals.hash(w), uint256(1))));
        proof.trieProof.terminalKey = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, proof.slot);
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev Truncated: the deepest or the top sibling is missing, so the proof no longer folds
    ///      to the root.
    function test_proveWithdrawal_truncated_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = _siblings(1, 4);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, siblings);
        uint256 index = _propose(root);
        proof.trieProof.siblings = _copy(siblings, 0, 3);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, proof);
        proof.trieProof.siblings = _copy(siblings, 1, 4);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, proof);
        proof.trieProof.siblings = new bytes32[](0);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev Proof for another withdrawal: the (valid) proof of `b` under the same root,
    ///      presented for `a`.
    function test_proveWithdrawal_anotherWithdrawal_reverts() public {
        Withdrawals.Withdrawal memory a = _eth(0, bob, 1 ether);
        Withdrawals.Withdrawal memory b = _eth(1, alice, 5 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB) =
            TrieBuilder.proveTwo(a, b);
        uint256 index = _propose(root);
        proofA.trieProof = proofB.trieProof;
        vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        bridge.proveWithdrawal(index, a, proofA);
        // And with its own slot claimed too, the mismatch shows as a wrong slot.
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, a, proofB);
    }

    /// @dev A withdrawal that was never sent: the proof shows its slot empty.
    function test_proveWithdrawal_slotEmpty_reverts() public {
        Withdrawals.Withdrawal memory sent = _eth(0, bob, 1);
        Withdrawals.Withdrawal memory unsent = _eth(0, bob, 2);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(sent);
        uint256 index = _propose(root);
        // Exclusion proof of `unsent`: the path ends in an empty subtree (terminal empty).
        proof.slot = TrieBuilder.slotOf(unsent);
        proof.trieProof.terminalKey = bytes32(0);
        proof.trieProof.terminalValueHash = bytes32(0);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_KeyAbsent.selector);
        bridge.proveWithdrawal(index, unsent, proof);
    }

    function test_proveWithdrawal_wrongValue_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        proof.trieProof.terminalValueHash = bytes32(uint256(2));
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function test_proveWithdrawal_nonCanonical_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = new bytes32[](1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, siblings);
        uint256 index = _propose(root);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_NonCanonicalProof.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function test_proveWithdrawal_tooManySiblings_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        uint256 index = _propose(root);
        proof.trieProof.siblings = _siblings(3, 257);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_TooManySiblings.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev The four bad-proof classes of the issue have pairwise distinct errors.
    function test_proveWithdrawal_badProofErrorsDistinct_succeeds() public pure {
        bytes4[4] memory errors = [
            L1Bridge.L1Bridge_StateRootMismatch.selector, // wrong root
            L1Bridge.L1Bridge_WrongSlot.selector, // wrong slot
            SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector, // truncated
            L1Bridge.L1Bridge_ProofKeyMismatch.selector // proof for another withdrawal
        ];
        for (uint256 i; i < errors.length; ++i) {
            for (uint256 j = i + 1; j < errors.length; ++j) {
                assertTrue(errors[i] != errors[j], "bad-proof errors collide");
            }
        }
    }

    function testFuzz_proveWithdrawal_wrongRoot_reverts(bytes32 claimedRoot, uint256 seed, uint256 depth) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) =
            TrieBuilder.prove(w, _siblings(seed, bound(depth, 0, 64)));
        vm.assume(claimedRoot != root);
        uint256 index = _propose(root);
        proof.stateRoot = claimedRoot;
        vm.expectRevert(L1Bridge.L1Bridge_StateRootMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function testFuzz_proveWithdrawal_wrongSlot_reverts(uint256 slot, uint256 seed) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, _siblings(seed, 8));
        vm.assume(slot != proof.slot);
        uint256 index = _propose(root);
        proof.slot = slot;
        proof.trieProof.terminalKey = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, slot);
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function testFuzz_proveWithdrawal_truncated_reverts(uint256 seed, uint256 depth, uint256 drop, bool fromTop)
        public
    {
        depth = bound(depth, 1, 64);
        drop = bound(drop, 1, depth);
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = _siblings(seed, depth);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, siblings);
        uint256 index = _propose(root);
        proof.trieProof.siblings = fromTop ? _copy(siblings, drop, depth) : _copy(siblings, 0, depth - drop);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    function testFuzz_proveWithdrawal_anotherWithdrawal_reverts(uint256 nonce, address to, uint256 amount) public {
        Withdrawals.Withdrawal memory a = _eth(0, bob, 1 ether);
        Withdrawals.Withdrawal memory b = _eth(nonce, to, amount);
        vm.assume(Withdrawals.hash(a) != Withdrawals.hash(b));
        (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB) =
            TrieBuilder.proveTwo(a, b);
        uint256 index = _propose(root);
        proofA.trieProof = proofB.trieProof;
        vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        bridge.proveWithdrawal(index, a, proofA);
    }

    /// @dev Any single tampered sibling, terminal key or value breaks the proof.
    function testFuzz_proveWithdrawal_tampered_reverts(uint256 seed, uint256 depth, uint256 which, bytes32 noise)
        public
    {
        depth = bound(depth, 1, 32);
        Withdrawals.Withdrawal memory w = _erc20(3, alice, 10);
        bytes32[] memory siblings = _siblings(seed, depth);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(w, siblings);
        uint256 index = _propose(root);
        vm.assume(noise != 0);
        which = bound(which, 0, depth + 1);
        if (which < depth) {
            vm.assume(siblings[which] ^ noise != 0);
            proof.trieProof.siblings[which] ^= noise;
            vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        } else if (which == depth) {
            proof.trieProof.terminalKey ^= noise;
            vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        } else {
            proof.trieProof.terminalValueHash ^= noise;
            vm.expectRevert(
                proof.trieProof.terminalValueHash == 0
                    ? SparseMerkleTrie.SparseMerkleTrie_KeyAbsent.selector
                    : SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector
            );
        }
        bridge.proveWithdrawal(index, w, proof);
    }

    // ------------------------------------------------------------------ finalizeWithdrawal

    function test_finalizeWithdrawal_eth_succeeds() public {
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 3 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectEmit(address(bridge));
        emit WithdrawalFinalized(id, bob, address(0), 3 ether);
        bridge.finalizeWithdrawal(id, bob, 3 ether);
        assertEq(bob.balance, 3 ether);
        assertEq(address(bridge).balance, LOCKED - 3 ether);
        assertEq(bridge.deposits(address(0)), LOCKED - 3 ether);
        assertTrue(bridge.finalizedWithdrawals(id));
    }

    function test_finalizeWithdrawal_erc20_succeeds() public {
        (, bytes32 id) = _proposeAndProve(_erc20(0, bob, 4 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectEmit(address(bridge));
        emit WithdrawalFinalized(id, bob, address(token), 4 ether);
        bridge.finalizeWithdrawal(id, bob, 4 ether);
        assertEq(token.balanceOf(bob), 4 ether);
        assertEq(token.balanceOf(address(bridge)), LOCKED - 4 ether);
        assertEq(bridge.deposits(address(token)), LOCKED - 4 ether);
        assertEq(bridge.deposits(address(0)), LOCKED);
    }

    function testFuzz_finalizeWithdrawal_succeeds(
        uint256 nonce,
        uint256 recipientKey,
        uint256 amount,
        bool erc20,
        address caller,
        uint256 elapsed
    ) public {
        address to = vm.addr(bound(recipientKey, 1, 1e70));
        amount = bound(amount, 1, LOCKED);
        elapsed = bound(elapsed, CHALLENGE_PERIOD, 100 * CHALLENGE_PERIOD);
        Withdrawals.Withdrawal memory w = erc20 ? _erc20(nonce, to, amount) : _eth(nonce, to, amount);
        (, bytes32 id) = _proposeAndProve(w);
        vm.warp(block.timestamp + elapsed);
        uint256 before = erc20 ? token.balanceOf(to) : to.balance;
        vm.prank(caller);
        bridge.finalizeWithdrawal(id, to, amount);
        assertEq(erc20 ? token.balanceOf(to) : to.balance, before + amount);
        assertEq(bridge.deposits(w.l1Token), LOCKED - amount);
    }

    function testFuzz_finalizeWithdrawal_notProven_reverts(bytes32 id, address recipient, uint256 amount) public {
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalNotProven.selector);
        bridge.finalizeWithdrawal(id, recipient, amount);
    }

    function testFuzz_finalizeWithdrawal_notFinal_reverts(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, CHALLENGE_PERIOD - 1);
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.warp(block.timestamp + elapsed);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        bridge.finalizeWithdrawal(id, bob, 1 ether);
    }

    function testFuzz_finalizeWithdrawal_removed_reverts(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 100 * CHALLENGE_PERIOD);
        (uint256 index, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.prank(game);
        manager.removeProposal(index, game);
        vm.warp(block.timestamp + elapsed);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalRemoved.selector);
        bridge.finalizeWithdrawal(id, bob, 1 ether);
    }

    function testFuzz_finalizeWithdrawal_replay_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, 1, LOCKED / 2);
        (, bytes32 id) = _proposeAndProve(erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(id, bob, amount);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.finalizeWithdrawal(id, bob, amount);
        assertEq(erc20 ? token.balanceOf(bob) : bob.balance, amount);
    }

    function testFuzz_finalizeWithdrawal_mismatch_reverts(address recipient, uint256 amount) public {
        vm.assume(recipient != bob || amount != 1 ether);
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalMismatch.selector);
        bridge.finalizeWithdrawal(id, recipient, amount);
    }

    /// @dev Unreachable with a sound L2 (it never burns more than was minted from deposits), but
    ///      the bridge still refuses to pay out more than is locked per token.
    function testFuzz_finalizeWithdrawal_insufficientLocked_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, LOCKED + 1, type(uint128).max);
        (, bytes32 id) = _proposeAndProve(erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_InsufficientLocked.selector);
        bridge.finalizeWithdrawal(id, bob, amount);
    }

    function test_finalizeWithdrawal_reentrant_reverts() public {
        ReentrantRecipient recipient = new ReentrantRecipient(bridge);
        (, bytes32 id) = _proposeAndProve(_eth(0, address(recipient), 1 ether));
        recipient.arm(id, 1 ether);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(id, address(recipient), 1 ether);
        assertEq(recipient.reentryRevertData(), abi.encodeWithSelector(ReentrancyGuardTransient.Reentrancy.selector));
        assertEq(address(recipient).balance, 1 ether);
        assertEq(bridge.deposits(address(0)), LOCKED - 1 ether);
    }

    /// @dev A recipient that rejects ETH leaves the withdrawal unfinalized (retryable).
    function test_finalizeWithdrawal_recipientRejects_reverts() public {
        address recipient = address(new RejectingRecipient());
        (, bytes32 id) = _proposeAndProve(_eth(0, recipient, 1 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(SafeTransferLib.ETHTransferFailed.selector);
        bridge.finalizeWithdrawal(id, recipient, 1 ether);
        assertFalse(bridge.finalizedWithdrawals(id));
        assertEq(bridge.deposits(address(0)), LOCKED);
    }

    // ------------------------------------------------------------------ end to end

    /// @dev L2: withdraw from the predeploy; its storage holds 1 at the slot L1 derives. L1:
    ///      prove that slot against a proposed root (a trie of the withdrawal's leaf under
    ///      stand-in siblings), wait out the challenge period, finalize. ETH and ERC-20.
    function test_withdrawal_endToEnd_succeeds() public {
        vm.etch(Predeploys.L2_BRIDGE, address(new L2Bridge()).code);
        L2Bridge l2Bridge = L2Bridge(Predeploys.L2_BRIDGE);
        assertEq(l2Bridge.l2TokenOf(address(token)), l2Token);
        vm.prank(Predeploys.DEPOSITOR);
        l2Bridge.finalizeDeposit(address(token), l2Token, bob, bob, 5 ether);
        vm.deal(bob, 2 ether);

        vm.startPrank(bob);
        bytes32 ethHash = l2Bridge.withdraw{value: 2 ether}(address(0), address(0), 2 ether);
        bytes32 tokenHash = l2Bridge.withdraw(address(token), l2Token, 5 ether);
        vm.stopPrank();
        assertEq(BridgedERC20(l2Token).totalSupply(), 0);

        Withdrawals.Withdrawal memory ethW = _eth(0, bob, 2 ether);
        Withdrawals.Withdrawal memory tokenW = _erc20(1, bob, 5 ether);
        assertEq(Withdrawals.hash(ethW), ethHash);
        assertEq(Withdrawals.hash(tokenW), tokenHash);
        assertEq(vm.load(Predeploys.L2_BRIDGE, bytes32(TrieBuilder.slotOf(ethW))), bytes32(uint256(1)));
        assertEq(vm.load(Predeploys.L2_BRIDGE, bytes32(TrieBuilder.slotOf(tokenW))), bytes32(uint256(1)));

        (bytes32 root, Withdrawals.WithdrawalProof memory ethProof, Withdrawals.WithdrawalProof memory tokenProof) =
            TrieBuilder.proveTwo(ethW, tokenW);
        uint256 index = _propose(root);
        assertEq(bridge.proveWithdrawal(index, ethW, ethProof), ethHash);
        assertEq(bridge.proveWithdrawal(index, tokenW, tokenProof), tokenHash);

        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        bridge.finalizeWithdrawal(ethHash, bob, 2 ether);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(ethHash, bob, 2 ether);
        bridge.finalizeWithdrawal(tokenHash, bob, 5 ether);
        assertEq(bob.balance, 2 ether);
        assertEq(token.balanceOf(bob), 5 ether);

        // The proposer gets the bond back once final.
        uint256 before = proposer.balance;
        manager.returnBond(index);
        assertEq(proposer.balance, before + BOND);
    }
}
