// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {Derivation} from "test/utils/Derivation.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {MockERC20, MockSafe, RevertingMint} from "test/utils/Mocks.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {AddressAliasing} from "src/libraries/AddressAliasing.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

/// @dev An L1 recipient that tries to finalize again (any withdrawal) when paid.
contract ReentrantRecipient {
    L1Bridge internal immutable bridge;
    bytes public reentryRevertData;
    uint256 internal id;
    uint256 internal amount;

    constructor(L1Bridge bridge_) {
        bridge = bridge_;
    }

    function arm(bytes32 id_, uint256 amount_) external {
        id = uint256(id_);
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
    event WithdrawalProven(
        bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient, address prover
    );
    event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);

    uint256 internal constant L2_CHAIN_ID = 4242;
    uint256 internal constant CHALLENGE_PERIOD = 1 days;
    uint256 internal constant BOND = 0.5 ether;
    uint32 internal constant ETH_GAS = 21_000;
    uint32 internal constant ERC20_GAS = uint32(DepositLimits.MIN_ERC20_DEPOSIT_GAS);
    uint256 internal constant LOCKED = 1_000 ether;

    StateManager internal manager;
    L1Bridge internal bridge;
    MockERC20 internal token;
    address internal l2Token;
    address internal game;
    address internal alice;
    address internal bob;
    address internal mallory;
    uint64 internal nextL2Block = 1;
    /// @dev The L2 block of each proposal made with `_propose`.
    mapping(uint256 index => uint64 l2Block) internal l2BlockOf;

    function setUp() public {
        game = makeAddr("disputeGame");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        mallory = makeAddr("mallory");
        manager = BridgeFixtures.deployStateManager(address(this), makeAddr("proposer"), CHALLENGE_PERIOD, BOND);
        manager.setDisputeGame(game);
        bridge = BridgeFixtures.deployL1Bridge(address(manager), L2_CHAIN_ID, makeAddr("proxyOwner"));
        token = new MockERC20();
        l2Token = bridge.predictL2Token(address(token));

        // Lock ETH and tokens to pay withdrawals from.
        vm.deal(alice, LOCKED);
        token.mint(alice, LOCKED);
        vm.startPrank(alice, alice);
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

    function _hash(Withdrawals.Withdrawal memory w) internal view returns (bytes32) {
        return Withdrawals.hash(w, L2_CHAIN_ID, address(bridge));
    }

    /// @dev Proposes the fixture output root of `stateRoot` at the next L2 block.
    function _propose(bytes32 stateRoot) internal returns (uint256 index) {
        index = BridgeFixtures.propose(manager, stateRoot, nextL2Block);
        l2BlockOf[index] = nextL2Block++;
    }

    /// @dev `proof` (a trie proof against its `output.stateRoot`) with the output root of
    ///      proposal `index`'s L2 block, as `rollup_getWithdrawalProof` at that block serves it.
    ///      Makes no call, so `vm.prank` and `vm.expectRevert` still apply to the prove call.
    function _at(uint256 index, Withdrawals.WithdrawalProof memory proof)
        internal
        view
        returns (Withdrawals.WithdrawalProof memory)
    {
        return BridgeFixtures.atBlock(proof, l2BlockOf[index]);
    }

    function _single(Withdrawals.Withdrawal memory w)
        internal
        view
        returns (bytes32 root, Withdrawals.WithdrawalProof memory proof)
    {
        return TrieBuilder.proveSingle(_hash(w));
    }

    /// @dev Proposes the single-leaf trie of `w` and proves `w` against it as `prover`.
    function _proposeAndProve(Withdrawals.Withdrawal memory w, address prover)
        internal
        returns (uint256 index, bytes32 id)
    {
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        index = _propose(root);
        vm.prank(prover);
        id = bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function _proposeAndProve(Withdrawals.Withdrawal memory w) internal returns (uint256 index, bytes32 id) {
        return _proposeAndProve(w, address(this));
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

    function _assumeUser(address account) internal view {
        vm.assume(
            account != Proxies.adminOf(address(bridge)) && account != Proxies.adminOf(address(manager))
        );
    }

    // ------------------------------------------------------------------ proveWithdrawal

    function test_proveWithdrawal_eth_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        bytes32 expectedId = keccak256(
            abi.encode(
                L2_CHAIN_ID,
                address(bridge),
                Predeploys.L2_BRIDGE,
                uint256(0),
                bob,
                bob,
                address(0),
                address(0),
                uint256(1 ether)
            )
        );
        // A single-leaf trie's root is the leaf.
        assertEq(root, TrieBuilder.leaf(TrieBuilder.withdrawalKey(expectedId), bytes32(uint256(1))));
        uint256 index = _propose(root);
        // The proposal carries the output root; the proof is against the state root inside it.
        bytes32 proposed = manager.proposals(index).stateRoot;
        assertEq(proposed, Withdrawals.hashOutputRoot(BridgeFixtures.outputRoot(root, l2BlockOf[index])));
        assertTrue(proposed != root);
        assertEq(_at(index, proof).output.stateRoot, root);

        vm.expectEmit(address(bridge));
        emit WithdrawalProven(expectedId, index, bob, alice);
        vm.prank(alice);
        bytes32 id = bridge.proveWithdrawal(index, w, _at(index, proof));
        assertEq(id, expectedId);
        assertEq(bridge.hashWithdrawal(w), id);

        L1Bridge.ProvenWithdrawal memory proven = bridge.provenWithdrawals(id, alice);
        assertEq(proven.proposalIndex, index);
        assertEq(proven.recipient, bob);
        assertEq(proven.l1Token, address(0));
        assertEq(proven.amount, 1 ether);
        assertEq(proven.provenAt, block.timestamp);
        assertEq(bridge.provenWithdrawals(id, bob).provenAt, 0, "proof stored under another prover");
    }

    /// @dev Tries of many withdrawals among unrelated leaves: every withdrawal proves with its
    ///      own proof.
    function testFuzz_proveWithdrawal_multiLeafTrie_succeeds(uint256 count, uint256 others, uint256 seed) public {
        count = bound(count, 1, 12);
        others = bound(others, 0, 12);
        Withdrawals.Withdrawal[] memory ws = new Withdrawals.Withdrawal[](count);
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            uint256 amount = bound(uint256(keccak256(abi.encode(seed, i))), 1, 10 ether);
            ws[i] = i % 2 == 0 ? _eth(i, bob, amount) : _erc20(i, alice, amount);
            hashes[i] = _hash(ws[i]);
        }
        (bytes32 root, Withdrawals.WithdrawalProof[] memory proofs) =
            TrieBuilder.proveMany(hashes, _siblings(seed, others));
        uint256 index = _propose(root);
        for (uint256 i; i < count; ++i) {
            assertEq(bridge.proveWithdrawal(index, ws[i], _at(index, proofs[i])), hashes[i]);
            assertEq(bridge.provenWithdrawals(hashes[i], address(this)).proposalIndex, index);
        }
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
        _assumeUser(caller);
        depth = bound(depth, 0, 256);
        Withdrawals.Withdrawal memory w = erc20 ? _erc20(nonce, to, amount) : _eth(nonce, to, amount);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), _siblings(seed, depth));
        uint256 index = _propose(root);
        vm.prank(caller);
        bytes32 id = bridge.proveWithdrawal(index, w, _at(index, proof));
        assertEq(id, _hash(w));
        assertEq(bridge.provenWithdrawals(id, caller).recipient, to);
        assertEq(bridge.provenWithdrawals(id, caller).amount, amount);
    }

    function testFuzz_proveWithdrawal_unknownProposal_reverts(uint256 index) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        _propose(root);
        index = bound(index, 1, type(uint256).max);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownProposal.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function test_proveWithdrawal_removedProposal_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        vm.prank(game);
        manager.removeProposal(index, game);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalRemoved.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function testFuzz_proveWithdrawal_unknownTokenMapping_reverts(address l1Token, address wrongL2Token) public {
        vm.assume(l1Token == address(0) ? wrongL2Token != address(0) : wrongL2Token != bridge.predictL2Token(l1Token));
        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(0, bob, bob, l1Token, wrongL2Token, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    /// @dev The same prover may prove again: its own proof is replaced, nobody else's touched.
    function test_proveWithdrawal_sameProverReplacesOwnProof_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 first = _propose(root);
        uint256 second = _propose(root);
        vm.prank(alice);
        bytes32 id = bridge.proveWithdrawal(first, w, _at(first, proof));
        vm.prank(bob);
        bridge.proveWithdrawal(first, w, _at(first, proof));
        vm.warp(block.timestamp + 10);
        vm.expectEmit(address(bridge));
        emit WithdrawalProven(id, second, bob, alice);
        vm.prank(alice);
        bridge.proveWithdrawal(second, w, _at(second, proof));
        assertEq(bridge.provenWithdrawals(id, alice).proposalIndex, second);
        assertEq(bridge.provenWithdrawals(id, alice).provenAt, block.timestamp);
        assertEq(bridge.provenWithdrawals(id, bob).proposalIndex, first, "another prover's proof changed");
    }

    /// @dev Someone else proving the user's withdrawal against a later proposal cannot delay
    ///      the user: the user's own proof, against the earlier proposal, pays out as soon as
    ///      that proposal is final.
    function test_proveWithdrawal_othersCannotDelay_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 2 ether);
        (uint256 early, bytes32 id) = _proposeAndProve(w, bob);
        vm.warp(block.timestamp + CHALLENGE_PERIOD / 2);
        (uint256 late,) = _proposeAndProve(w, mallory);
        assertEq(bridge.provenWithdrawals(id, bob).proposalIndex, early);
        assertEq(bridge.provenWithdrawals(id, mallory).proposalIndex, late);

        vm.warp(block.timestamp + CHALLENGE_PERIOD / 2);
        assertTrue(manager.isFinal(early) && !manager.isFinal(late));
        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        bridge.finalizeWithdrawalWithProof(uint256(id), bob, 2 ether, mallory);
        vm.prank(bob);
        bridge.finalizeWithdrawal(uint256(id), bob, 2 ether);
        assertEq(bob.balance, 2 ether);
        // Paid once: mallory's proof is now useless.
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.finalizeWithdrawalWithProof(uint256(id), bob, 2 ether, mallory);
    }

    /// @dev A removed proposal invalidates its proofs; the withdrawal is proven again against
    ///      another proposal (by the same prover) and pays out.
    function test_proveWithdrawal_afterRemoval_succeeds() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        (uint256 first, bytes32 id) = _proposeAndProve(w);
        vm.prank(game);
        manager.removeProposal(first, game);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalRemoved.selector);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);

        uint256 second = _propose(root);
        vm.expectEmit(address(bridge));
        emit WithdrawalProven(id, second, bob, address(this));
        bridge.proveWithdrawal(second, w, _at(second, proof));
        assertEq(bridge.provenWithdrawals(id, address(this)).proposalIndex, second);

        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);
        assertEq(bob.balance, 1 ether);
    }

    function test_proveWithdrawal_alreadyFinalized_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        (, bytes32 id) = _proposeAndProve(w);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);
        uint256 later = _propose(root);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.proveWithdrawal(later, w, _at(later, proof));
    }

    // ------------------------------------------------------------------ chain and bridge binding

    /// @dev The same withdrawal hashes differently under another L2 chain id or another L1
    ///      bridge, so a trie proving it for one never proves it for the other.
    function testFuzz_hashWithdrawal_boundToChainAndBridge_succeeds(uint256 otherChainId, uint256 nonce, uint256 amount)
        public
    {
        otherChainId = bound(otherChainId, 1, type(uint64).max);
        vm.assume(otherChainId != L2_CHAIN_ID);
        L1Bridge otherChain = BridgeFixtures.deployL1Bridge(address(manager), otherChainId, address(this));
        L1Bridge otherBridge = BridgeFixtures.deployL1Bridge(address(manager), L2_CHAIN_ID, address(this));
        Withdrawals.Withdrawal memory w = _eth(nonce, bob, amount);
        bytes32 id = bridge.hashWithdrawal(w);
        assertEq(id, _hash(w));
        assertTrue(otherChain.hashWithdrawal(w) != id, "hash ignores the chain id");
        assertTrue(otherBridge.hashWithdrawal(w) != id, "hash ignores the L1 bridge");
        assertTrue(otherChain.hashWithdrawal(w) != otherBridge.hashWithdrawal(w));

        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        otherChain.proveWithdrawal(index, w, _at(index, proof));
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        otherBridge.proveWithdrawal(index, w, _at(index, proof));
        // Even with its own slot claimed, the trie holds no such leaf.
        proof.slot = TrieBuilder.slotOf(otherBridge.hashWithdrawal(w));
        vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        otherBridge.proveWithdrawal(index, w, _at(index, proof));
        assertEq(bridge.proveWithdrawal(index, w, _at(index, _proofOf(w))), id);
    }

    function _proofOf(Withdrawals.Withdrawal memory w)
        internal
        view
        returns (Withdrawals.WithdrawalProof memory proof)
    {
        (, proof) = _single(w);
    }

    /// @dev The L2 bridge, configured with this L1 bridge and running on its chain id, records
    ///      exactly the hash this bridge proves; with another L1 bridge in its genesis it does not.
    function test_hashWithdrawal_matchesL2Bridge_succeeds() public {
        L2Bridge l2 = BridgeFixtures.etchL2Bridge(address(bridge));
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1 ether);
        vm.chainId(L2_CHAIN_ID);
        assertEq(l2.hashWithdrawal(w), bridge.hashWithdrawal(w));
        vm.chainId(L2_CHAIN_ID + 1);
        assertTrue(l2.hashWithdrawal(w) != bridge.hashWithdrawal(w));
        vm.chainId(L2_CHAIN_ID);
        BridgeFixtures.etchL2Bridge(makeAddr("another L1 bridge"));
        assertTrue(l2.hashWithdrawal(w) != bridge.hashWithdrawal(w));
    }

    // ------------------------------------------------------------------ bad proofs

    /// @dev Wrong root: a valid proof of the withdrawal, generated against another state root
    ///      at the proposal's L2 block: its output root preimage does not hash to the proposal's.
    function test_proveWithdrawal_wrongRoot_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root,) = _single(w);
        uint256 index = _propose(root);
        (, Withdrawals.WithdrawalProof memory other) = TrieBuilder.prove(_hash(w), _siblings(7, 3));
        vm.expectRevert(L1Bridge.L1Bridge_OutputRootMismatch.selector);
        bridge.proveWithdrawal(index, w, _at(index, other));
    }

    /// @dev Wrong slot: the client proved another slot of the L2 bridge (here: the nonce at slot
    ///      1, and the mapping entry computed with slot 1 instead of 0).
    function test_proveWithdrawal_wrongSlot_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof.slot = 1;
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
        proof.slot = uint256(keccak256(abi.encode(_hash(w), uint256(1))));
        proof.trieProof.terminalKey = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, proof.slot);
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    /// @dev Truncated: the deepest or the top sibling is missing, so the proof no longer folds
    ///      to the root.
    function test_proveWithdrawal_truncated_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = _siblings(1, 4);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), siblings);
        uint256 index = _propose(root);
        proof.trieProof.siblings = _copy(siblings, 0, 3);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
        proof.trieProof.siblings = _copy(siblings, 1, 4);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
        proof.trieProof.siblings = new bytes32[](0);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    /// @dev Proof for another withdrawal: the (valid) proof of `b` under the same root,
    ///      presented for `a`.
    function test_proveWithdrawal_anotherWithdrawal_reverts() public {
        Withdrawals.Withdrawal memory a = _eth(0, bob, 1 ether);
        Withdrawals.Withdrawal memory b = _eth(1, alice, 5 ether);
        (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB) =
            TrieBuilder.proveTwo(_hash(a), _hash(b));
        uint256 index = _propose(root);
        proofA.trieProof = proofB.trieProof;
        vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        bridge.proveWithdrawal(index, a, _at(index, proofA));
        // And with its own slot claimed too, the mismatch shows as a wrong slot.
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, a, _at(index, proofB));
    }

    /// @dev A withdrawal that was never sent: the proof shows its slot empty.
    function test_proveWithdrawal_slotEmpty_reverts() public {
        Withdrawals.Withdrawal memory sent = _eth(0, bob, 1);
        Withdrawals.Withdrawal memory unsent = _eth(0, bob, 2);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(sent);
        uint256 index = _propose(root);
        // Exclusion proof of `unsent`: the path ends in an empty subtree (terminal empty).
        proof.slot = TrieBuilder.slotOf(_hash(unsent));
        proof.trieProof.terminalKey = bytes32(0);
        proof.trieProof.terminalValueHash = bytes32(0);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_KeyAbsent.selector);
        bridge.proveWithdrawal(index, unsent, _at(index, proof));
    }

    function test_proveWithdrawal_wrongValue_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof.trieProof.terminalValueHash = bytes32(uint256(2));
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function test_proveWithdrawal_nonCanonical_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = new bytes32[](1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), siblings);
        uint256 index = _propose(root);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_NonCanonicalProof.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function test_proveWithdrawal_tooManySiblings_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof.trieProof.siblings = _siblings(3, 257);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_TooManySiblings.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    /// @dev The bad-proof classes have pairwise distinct errors.
    function test_proveWithdrawal_badProofErrorsDistinct_succeeds() public pure {
        bytes4[7] memory errors = [
            L1Bridge.L1Bridge_UnknownOutputRootVersion.selector, // unknown output root layout
            L1Bridge.L1Bridge_L2BlockMismatch.selector, // output root of another L2 block
            L1Bridge.L1Bridge_L2BlockHashMismatch.selector, // output root of another chain
            L1Bridge.L1Bridge_OutputRootMismatch.selector, // wrong root
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
            TrieBuilder.prove(_hash(w), _siblings(seed, bound(depth, 0, 64)));
        vm.assume(claimedRoot != root);
        uint256 index = _propose(root);
        proof.output.stateRoot = claimedRoot;
        vm.expectRevert(L1Bridge.L1Bridge_OutputRootMismatch.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function testFuzz_proveWithdrawal_wrongSlot_reverts(uint256 slot, uint256 seed) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), _siblings(seed, 8));
        vm.assume(slot != proof.slot);
        uint256 index = _propose(root);
        proof.slot = slot;
        proof.trieProof.terminalKey = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, slot);
        vm.expectRevert(L1Bridge.L1Bridge_WrongSlot.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function testFuzz_proveWithdrawal_truncated_reverts(uint256 seed, uint256 depth, uint256 drop, bool fromTop)
        public
    {
        depth = bound(depth, 1, 64);
        drop = bound(drop, 1, depth);
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        bytes32[] memory siblings = _siblings(seed, depth);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), siblings);
        uint256 index = _propose(root);
        proof.trieProof.siblings = fromTop ? _copy(siblings, drop, depth) : _copy(siblings, 0, depth - drop);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector);
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    function testFuzz_proveWithdrawal_anotherWithdrawal_reverts(uint256 nonce, address to, uint256 amount) public {
        Withdrawals.Withdrawal memory a = _eth(0, bob, 1 ether);
        Withdrawals.Withdrawal memory b = _eth(nonce, to, amount);
        vm.assume(_hash(a) != _hash(b));
        (bytes32 root, Withdrawals.WithdrawalProof memory proofA, Withdrawals.WithdrawalProof memory proofB) =
            TrieBuilder.proveTwo(_hash(a), _hash(b));
        uint256 index = _propose(root);
        proofA.trieProof = proofB.trieProof;
        vm.expectRevert(L1Bridge.L1Bridge_ProofKeyMismatch.selector);
        bridge.proveWithdrawal(index, a, _at(index, proofA));
    }

    /// @dev Any single tampered sibling, terminal key or value breaks the proof.
    function testFuzz_proveWithdrawal_tampered_reverts(uint256 seed, uint256 depth, uint256 which, bytes32 noise)
        public
    {
        depth = bound(depth, 1, 32);
        Withdrawals.Withdrawal memory w = _erc20(3, alice, 10);
        bytes32[] memory siblings = _siblings(seed, depth);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.prove(_hash(w), siblings);
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
        bridge.proveWithdrawal(index, w, _at(index, proof));
    }

    // ------------------------------------------------------------------ output roots

    /// @dev The known answer `rollup_primitives::OutputRoot::hash` asserts too
    ///      (`crates/primitives/src/proposal.rs`): L1 and the node hash the same layout.
    function test_hashOutputRoot_knownAnswer_succeeds() public pure {
        Withdrawals.OutputRoot memory output = Withdrawals.OutputRoot({
            version: 1,
            l2BlockNumber: 0x1234,
            stateRoot: 0x1111111111111111111111111111111111111111111111111111111111111111,
            l2BlockHash: 0x2222222222222222222222222222222222222222222222222222222222222222,
            inboxRecord: 7,
            blockInRecord: 3,
            l1Block: 0xabcdef
        });
        assertEq(Withdrawals.hashOutputRoot(output), 0xbce73d6c6c40fef8d25a98fa9134a3cdaef9a46906b8ef83db3f9a41759a35bd);
    }

    /// @dev The hash is keccak256 of the seven fields as words, in order.
    function testFuzz_hashOutputRoot_layout_succeeds(Withdrawals.OutputRoot memory output) public pure {
        assertEq(
            Withdrawals.hashOutputRoot(output),
            keccak256(
                abi.encode(
                    output.version,
                    output.l2BlockNumber,
                    output.stateRoot,
                    output.l2BlockHash,
                    output.inboxRecord,
                    output.blockInRecord,
                    output.l1Block
                )
            )
        );
    }

    /// @dev An output root of another version is refused, whether the proof changed the version
    ///      or the proposer proposed the root of such a preimage.
    function testFuzz_proveWithdrawal_unknownOutputRootVersion_reverts(uint256 version) public {
        vm.assume(version != Withdrawals.OUTPUT_ROOT_VERSION);
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof = _at(index, proof);
        proof.output.version = version;
        vm.expectRevert(L1Bridge.L1Bridge_UnknownOutputRootVersion.selector);
        bridge.proveWithdrawal(index, w, proof);

        uint64 l2Block = nextL2Block++;
        Withdrawals.OutputRoot memory output = BridgeFixtures.outputRoot(root, l2Block);
        output.version = version;
        index = BridgeFixtures.submit(manager, Withdrawals.hashOutputRoot(output), l2Block, output.l2BlockHash);
        proof.output = output;
        vm.expectRevert(L1Bridge.L1Bridge_UnknownOutputRootVersion.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev The output root of another L2 block (here: the proposal's state root at another
    ///      block number) does not prove against the proposal.
    function testFuzz_proveWithdrawal_otherL2Block_reverts(uint64 l2Block) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        vm.assume(l2Block != l2BlockOf[index]);
        vm.expectRevert(L1Bridge.L1Bridge_L2BlockMismatch.selector);
        bridge.proveWithdrawal(index, w, BridgeFixtures.atBlock(proof, l2Block));
    }

    /// @dev An output root naming another hash for the proposal's L2 block (another chain) does
    ///      not prove against the proposal.
    function testFuzz_proveWithdrawal_otherL2BlockHash_reverts(bytes32 l2BlockHash) public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof = _at(index, proof);
        vm.assume(l2BlockHash != proof.output.l2BlockHash);
        proof.output.l2BlockHash = l2BlockHash;
        vm.expectRevert(L1Bridge.L1Bridge_L2BlockHashMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev A proposal whose output root names another L2 block than the proposal itself is
    ///      useless: its preimage hashes to the root, yet nothing proves against it.
    function test_proveWithdrawal_outputRootOfAnotherBlock_reverts() public {
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint64 l2Block = nextL2Block;
        nextL2Block = l2Block + 3;
        Withdrawals.OutputRoot memory output = BridgeFixtures.outputRoot(root, l2Block);
        bytes32 outputRoot = Withdrawals.hashOutputRoot(output);
        proof.output = output;

        // The proposal claims the next block number with the output's block hash.
        uint256 index = BridgeFixtures.submit(manager, outputRoot, l2Block + 1, output.l2BlockHash);
        vm.expectRevert(L1Bridge.L1Bridge_L2BlockMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
        // Or the output's block number with another hash.
        output.l2BlockNumber = l2Block + 2;
        proof.output = output;
        index = BridgeFixtures.submit(manager, Withdrawals.hashOutputRoot(output), l2Block + 2, keccak256("another"));
        vm.expectRevert(L1Bridge.L1Bridge_L2BlockHashMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    /// @dev Any other field of the preimage changed (the state root, or the derivation cursor:
    ///      inbox record, position in it, L1 block) breaks the hash.
    function testFuzz_proveWithdrawal_outputRootMismatch_reverts(uint256 which, uint256 noise) public {
        vm.assume(noise != 0);
        Withdrawals.Withdrawal memory w = _eth(0, bob, 1);
        (bytes32 root, Withdrawals.WithdrawalProof memory proof) = _single(w);
        uint256 index = _propose(root);
        proof = _at(index, proof);
        which = bound(which, 0, 3);
        if (which == 0) proof.output.stateRoot ^= bytes32(noise);
        else if (which == 1) proof.output.inboxRecord ^= noise;
        else if (which == 2) proof.output.blockInRecord ^= noise;
        else proof.output.l1Block ^= noise;
        vm.expectRevert(L1Bridge.L1Bridge_OutputRootMismatch.selector);
        bridge.proveWithdrawal(index, w, proof);
    }

    // ------------------------------------------------------------------ finalizeWithdrawal

    function test_finalizeWithdrawal_eth_succeeds() public {
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 3 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectEmit(address(bridge));
        emit WithdrawalFinalized(id, bob, address(0), 3 ether);
        bridge.finalizeWithdrawal(uint256(id), bob, 3 ether);
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
        bridge.finalizeWithdrawal(uint256(id), bob, 4 ether);
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
        address prover,
        address caller,
        uint256 elapsed
    ) public {
        _assumeUser(prover);
        _assumeUser(caller);
        address to = vm.addr(bound(recipientKey, 1, 1e70));
        amount = bound(amount, 1, LOCKED);
        elapsed = bound(elapsed, CHALLENGE_PERIOD, 100 * CHALLENGE_PERIOD);
        Withdrawals.Withdrawal memory w = erc20 ? _erc20(nonce, to, amount) : _eth(nonce, to, amount);
        (, bytes32 id) = _proposeAndProve(w, prover);
        vm.warp(block.timestamp + elapsed);
        uint256 before = erc20 ? token.balanceOf(to) : to.balance;
        vm.prank(caller);
        bridge.finalizeWithdrawalWithProof(uint256(id), to, amount, prover);
        assertEq(erc20 ? token.balanceOf(to) : to.balance, before + amount);
        assertEq(bridge.deposits(w.l1Token), LOCKED - amount);
    }

    /// @dev `finalizeWithdrawal` uses the caller's own proof: someone else's does not count.
    function testFuzz_finalizeWithdrawal_otherProversProof_reverts(address caller) public {
        _assumeUser(caller);
        vm.assume(caller != alice);
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether), alice);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalNotProven.selector);
        vm.prank(caller);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);
        vm.prank(caller);
        bridge.finalizeWithdrawalWithProof(uint256(id), bob, 1 ether, alice);
        assertEq(bob.balance, 1 ether);
    }

    function testFuzz_finalizeWithdrawal_notProven_reverts(
        uint256 id,
        address recipient,
        uint256 amount,
        address prover
    ) public {
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalNotProven.selector);
        bridge.finalizeWithdrawal(id, recipient, amount);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalNotProven.selector);
        bridge.finalizeWithdrawalWithProof(id, recipient, amount, prover);
    }

    function testFuzz_finalizeWithdrawal_notFinal_reverts(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, CHALLENGE_PERIOD - 1);
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.warp(block.timestamp + elapsed);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);
    }

    function testFuzz_finalizeWithdrawal_removed_reverts(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 100 * CHALLENGE_PERIOD);
        (uint256 index, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.prank(game);
        manager.removeProposal(index, game);
        vm.warp(block.timestamp + elapsed);
        vm.expectRevert(L1Bridge.L1Bridge_ProposalRemoved.selector);
        bridge.finalizeWithdrawal(uint256(id), bob, 1 ether);
    }

    function testFuzz_finalizeWithdrawal_replay_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, 1, LOCKED / 2);
        (, bytes32 id) = _proposeAndProve(erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount));
        (, Withdrawals.WithdrawalProof memory proof) = _single(erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount));
        vm.prank(mallory);
        bridge.proveWithdrawal(0, erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount), _at(0, proof));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(uint256(id), bob, amount);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.finalizeWithdrawal(uint256(id), bob, amount);
        // Another prover's proof cannot pay it a second time either.
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector);
        bridge.finalizeWithdrawalWithProof(uint256(id), bob, amount, mallory);
        assertEq(erc20 ? token.balanceOf(bob) : bob.balance, amount);
    }

    function testFuzz_finalizeWithdrawal_mismatch_reverts(address recipient, uint256 amount) public {
        vm.assume(recipient != bob || amount != 1 ether);
        (, bytes32 id) = _proposeAndProve(_eth(0, bob, 1 ether));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawalMismatch.selector);
        bridge.finalizeWithdrawal(uint256(id), recipient, amount);
    }

    /// @dev Unreachable with a sound L2 (it never burns more than was minted from deposits), but
    ///      the bridge still refuses to pay out more than is locked per token.
    function testFuzz_finalizeWithdrawal_insufficientLocked_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, LOCKED + 1, type(uint128).max);
        (, bytes32 id) = _proposeAndProve(erc20 ? _erc20(0, bob, amount) : _eth(0, bob, amount));
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        vm.expectRevert(L1Bridge.L1Bridge_InsufficientLocked.selector);
        bridge.finalizeWithdrawal(uint256(id), bob, amount);
    }

    /// @dev A bridge whose L2 genesis gives accounts ETH pays no ETH withdrawal until that ETH is
    ///      locked: until then it could only be paid out of depositors' ETH. Tokens are not held.
    function testFuzz_finalizeWithdrawal_genesisEthNotLocked_reverts(uint256 genesisEth, uint256 amount) public {
        genesisEth = bound(genesisEth, 1, type(uint128).max);
        amount = bound(amount, 1, LOCKED);
        L1Bridge implementation = new L1Bridge(address(manager), L2_CHAIN_ID, genesisEth);
        bridge = L1Bridge(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), makeAddr("proxyOwner"), abi.encodeCall(implementation.l2ChainId, ())
                )
            )
        );
        vm.deal(alice, LOCKED);
        token.mint(alice, LOCKED);
        vm.startPrank(alice, alice);
        token.approve(address(bridge), type(uint256).max);
        bridge.deposit{value: LOCKED}(address(0), address(0), LOCKED, ETH_GAS);
        bridge.deposit(address(token), bridge.predictL2Token(address(token)), LOCKED, ERC20_GAS);
        vm.stopPrank();
        (, bytes32 eth) = _proposeAndProve(_eth(0, bob, amount));
        Withdrawals.Withdrawal memory tokens = _erc20(1, bob, amount);
        tokens.l2Token = bridge.predictL2Token(address(token));
        (, bytes32 erc20) = _proposeAndProve(tokens);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);

        vm.expectRevert(L1Bridge.L1Bridge_GenesisEthNotLocked.selector);
        bridge.finalizeWithdrawal(uint256(eth), bob, amount);
        bridge.finalizeWithdrawal(uint256(erc20), bob, amount);
        assertEq(token.balanceOf(bob), amount);

        vm.deal(address(this), genesisEth);
        bridge.lockGenesisEth{value: genesisEth}();
        bridge.finalizeWithdrawal(uint256(eth), bob, amount);
        assertEq(bob.balance, amount);
        assertEq(bridge.deposits(address(0)), LOCKED + genesisEth - amount);
    }

    function test_finalizeWithdrawal_reentrant_reverts() public {
        ReentrantRecipient recipient = new ReentrantRecipient(bridge);
        (, bytes32 id) = _proposeAndProve(_eth(0, address(recipient), 1 ether), address(recipient));
        recipient.arm(id, 1 ether);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawalWithProof(uint256(id), address(recipient), 1 ether, address(recipient));
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
        bridge.finalizeWithdrawal(uint256(id), recipient, 1 ether);
        assertFalse(bridge.finalizedWithdrawals(id));
        assertEq(bridge.deposits(address(0)), LOCKED);
    }

    // ------------------------------------------------------------------ end to end

    /// @dev Proposes a trie of the L2 bridge's withdrawals `hashes` (among unrelated leaves),
    ///      proves each on L1 and returns the proposal.
    function _proposeAndProveAll(Withdrawals.Withdrawal[] memory ws) internal returns (uint256 index) {
        bytes32[] memory hashes = new bytes32[](ws.length);
        for (uint256 i; i < ws.length; ++i) {
            hashes[i] = _hash(ws[i]);
            assertEq(vm.load(Predeploys.L2_BRIDGE, bytes32(TrieBuilder.slotOf(hashes[i]))), bytes32(uint256(1)));
        }
        (bytes32 root, Withdrawals.WithdrawalProof[] memory proofs) = TrieBuilder.proveMany(hashes, _siblings(99, 5));
        index = _propose(root);
        for (uint256 i; i < ws.length; ++i) {
            assertEq(bridge.proveWithdrawal(index, ws[i], _at(index, proofs[i])), hashes[i]);
        }
    }

    /// @dev L2: withdraw from the predeploy; its storage holds 1 at the slot L1 derives. L1:
    ///      prove that slot against a proposed root, wait out the challenge period, finalize.
    ///      ETH and ERC-20.
    function test_withdrawal_endToEnd_succeeds() public {
        L2Bridge l2Bridge = BridgeFixtures.etchL2Bridge(address(bridge));
        vm.chainId(L2_CHAIN_ID);
        assertEq(l2Bridge.l2TokenOf(address(token)), l2Token);
        vm.prank(Predeploys.DEPOSITOR);
        l2Bridge.finalizeDeposit(address(token), l2Token, bob, bob, 5 ether, bob, abi.encode("Mock", "MOCK", uint8(18)));
        vm.deal(bob, 2 ether);

        vm.startPrank(bob);
        bytes32 ethHash = l2Bridge.withdraw{value: 2 ether}(address(0), address(0), 2 ether);
        bytes32 tokenHash = l2Bridge.withdraw(address(token), l2Token, 5 ether);
        vm.stopPrank();
        assertEq(BridgedERC20(l2Token).totalSupply(), 0);

        Withdrawals.Withdrawal[] memory ws = new Withdrawals.Withdrawal[](2);
        ws[0] = _eth(0, bob, 2 ether);
        ws[1] = _erc20(1, bob, 5 ether);
        assertEq(_hash(ws[0]), ethHash);
        assertEq(_hash(ws[1]), tokenHash);
        uint256 index = _proposeAndProveAll(ws);

        vm.expectRevert(L1Bridge.L1Bridge_ProposalNotFinal.selector);
        bridge.finalizeWithdrawal(uint256(ethHash), bob, 2 ether);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        bridge.finalizeWithdrawal(uint256(ethHash), bob, 2 ether);
        bridge.finalizeWithdrawal(uint256(tokenHash), bob, 5 ether);
        assertEq(bob.balance, 2 ether);
        assertEq(token.balanceOf(bob), 5 ether);

        // The proposer's bond goes back to its bond balance once final.
        address proposer = manager.proposer();
        uint256 before = manager.bondBalance(proposer);
        manager.returnBond(index);
        assertEq(manager.bondBalance(proposer), before + BOND);
    }

    /// @dev The `finalizeDeposit` call derivation builds from deposit log `log`, with its metadata
    ///      replaced by `metadata` if `replace`.
    function _finalizeDepositCall(Vm.Log memory log, bool replace, bytes memory metadata)
        internal
        pure
        returns (bytes memory)
    {
        (address l1Token_, address l2Token_, uint256 amount,, address refundTo, bytes memory logged) =
            abi.decode(log.data, (address, address, uint256, uint32, address, bytes));
        return abi.encodeCall(
            L2Bridge.finalizeDeposit,
            (
                l1Token_,
                l2Token_,
                address(uint160(uint256(log.topics[2]))),
                address(uint160(uint256(log.topics[3]))),
                amount,
                refundTo,
                replace ? metadata : logged
            )
        );
    }

    /// @dev Failed deposits never lock funds: a first deposit run with too little gas, one whose
    ///      mint reverts, and one with malformed metadata each become a refund withdrawal on L2,
    ///      which the depositor's L1 address proves and finalizes here, receiving exactly the
    ///      deposited amount.
    function test_failedDeposit_refundEndToEnd_succeeds() public {
        L2Bridge l2Bridge = BridgeFixtures.etchL2Bridge(address(bridge));
        vm.chainId(L2_CHAIN_ID);
        address carol = makeAddr("carol");
        MockERC20 other = new MockERC20();
        address otherL2 = bridge.predictL2Token(address(other));
        token.mint(carol, 30 ether);
        other.mint(carol, 7 ether);
        vm.startPrank(carol, carol);
        token.approve(address(bridge), type(uint256).max);
        other.approve(address(bridge), type(uint256).max);
        vm.recordLogs();
        bridge.deposit(address(token), l2Token, 10 ether, ERC20_GAS);
        bridge.depositTo(address(token), l2Token, 20 ether, ERC20_GAS, bob);
        bridge.deposit(address(other), otherL2, 7 ether, ERC20_GAS);
        vm.stopPrank();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 tokenLocked = bridge.deposits(address(token));

        // Deposit 1 runs with too little gas for the first deployment.
        Vm.Log[] memory bridgeLogs = new Vm.Log[](3);
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(bridge)) bridgeLogs[n++] = logs[i];
        }
        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(l2Bridge).call{gas: 300_000}(_finalizeDepositCall(bridgeLogs[0], false, ""));
        assertTrue(ok);
        // Deposit 2 (to bob) meets a reverting mint; deposit 3 carries malformed metadata.
        vm.etch(l2Token, address(new RevertingMint()).code);
        assertTrue(Derivation.applyMessage(bridgeLogs[1]));
        vm.etch(l2Token, "");
        vm.prank(Predeploys.DEPOSITOR);
        (ok,) = address(l2Bridge).call(_finalizeDepositCall(bridgeLogs[2], true, hex"c0ffee"));
        assertTrue(ok);
        assertEq(l2Bridge.withdrawalNonce(), 3);
        assertEq(l2Token.code.length, 0);
        assertEq(otherL2.code.length, 0);

        Withdrawals.Withdrawal[] memory refunds = new Withdrawals.Withdrawal[](3);
        refunds[0] = Withdrawals.Withdrawal(0, Predeploys.L2_BRIDGE, carol, address(token), l2Token, 10 ether);
        refunds[1] = Withdrawals.Withdrawal(1, Predeploys.L2_BRIDGE, carol, address(token), l2Token, 20 ether);
        refunds[2] = Withdrawals.Withdrawal(2, Predeploys.L2_BRIDGE, carol, address(other), otherL2, 7 ether);
        _proposeAndProveAll(refunds);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        for (uint256 i; i < refunds.length; ++i) {
            bridge.finalizeWithdrawal(uint256(_hash(refunds[i])), carol, refunds[i].amount);
        }
        assertEq(token.balanceOf(carol), 30 ether, "refund not exact");
        assertEq(other.balanceOf(carol), 7 ether, "refund not exact");
        assertEq(bridge.deposits(address(token)), tokenLocked - 30 ether);
        assertEq(bridge.deposits(address(other)), 0);
        assertEq(token.balanceOf(bob), 0);
    }

    /// @dev The escape hatch: alice's L2 transactions are all censored, yet `withdraw` on L1
    ///      becomes a deposit-type L2 transaction from her account (derivation includes it),
    ///      which the L1 bridge then proves and pays out. Then the same for a Safe on L1 whose
    ///      ETH deposit landed at its L2 alias: it exits with `withdrawTo` from L1.
    function test_forcedWithdrawal_endToEnd_succeeds() public {
        L2Bridge l2Bridge = BridgeFixtures.etchL2Bridge(address(bridge));
        vm.chainId(L2_CHAIN_ID);
        vm.prank(Predeploys.DEPOSITOR);
        l2Bridge.finalizeDeposit(
            address(token), l2Token, alice, alice, 8 ether, alice, abi.encode("Mock", "MOCK", uint8(18))
        );
        vm.deal(alice, 3 ether);

        address[] memory owners = new address[](1);
        owners[0] = bob;
        MockSafe safe = new MockSafe(owners, 1);
        address safeAlias = AddressAliasing.applyL1ToL2Alias(address(safe));
        vm.deal(safeAlias, 4 ether); // an earlier ETH deposit by the Safe credited its alias
        address safeRecipient = makeAddr("treasury");
        bytes memory exitCall = abi.encodeCall(L1Bridge.withdrawTo, (address(0), address(0), 4 ether, safeRecipient));
        bytes32 exitHash = safe.transactionHash(address(bridge), 0, exitCall, 0);
        vm.prank(bob, bob);
        safe.approveHash(exitHash);

        vm.recordLogs();
        vm.startPrank(alice, alice);
        bridge.withdraw(address(token), l2Token, 8 ether);
        bridge.withdraw(address(0), address(0), 3 ether);
        vm.stopPrank();
        vm.prank(bob, bob);
        safe.execTransaction(address(bridge), 0, exitCall);
        bool[] memory ok = Derivation.applyAll(vm.getRecordedLogs(), address(bridge));
        assertTrue(ok.length == 3 && ok[0] && ok[1] && ok[2], "a forced withdrawal failed on L2");
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 0);
        assertEq(safeAlias.balance, 0);

        Withdrawals.Withdrawal[] memory ws = new Withdrawals.Withdrawal[](3);
        ws[0] = Withdrawals.Withdrawal(0, alice, alice, address(token), l2Token, 8 ether);
        ws[1] = Withdrawals.Withdrawal(1, alice, alice, address(0), address(0), 3 ether);
        ws[2] = Withdrawals.Withdrawal(2, safeAlias, safeRecipient, address(0), address(0), 4 ether);
        _proposeAndProveAll(ws);
        vm.warp(block.timestamp + CHALLENGE_PERIOD);
        uint256 aliceEth = alice.balance;
        bridge.finalizeWithdrawal(uint256(_hash(ws[0])), alice, 8 ether);
        bridge.finalizeWithdrawal(uint256(_hash(ws[1])), alice, 3 ether);
        bridge.finalizeWithdrawal(uint256(_hash(ws[2])), safeRecipient, 4 ether);
        assertEq(token.balanceOf(alice), 8 ether);
        assertEq(alice.balance, aliceEth + 3 ether);
        assertEq(safeRecipient.balance, 4 ether);
    }

    /// @dev A forced withdrawal for more than the L2 account holds fails on L2 and leaves
    ///      nothing to prove.
    function test_forcedWithdrawal_insufficientL2Balance_succeeds() public {
        BridgeFixtures.etchL2Bridge(address(bridge));
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.withdraw(address(0), address(0), 1 ether);
        bool[] memory ok = Derivation.applyAll(vm.getRecordedLogs(), address(bridge));
        assertFalse(ok[0]);
        assertEq(L2Bridge(Predeploys.L2_BRIDGE).withdrawalNonce(), 0);
    }
}
