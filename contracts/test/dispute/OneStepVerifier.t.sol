// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {L2Headers} from "test/utils/L2Headers.sol";
import {OrderedTries} from "test/utils/OrderedTries.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {StubInbox} from "test/dispute/StubInbox.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";

/// @dev The deposit one-step against a real `L1Bridge`'s deposit chain and state tries built
///      here. The expected next trace state is built independently of the verifier: the root
///      with `TrieBuilder` from the post-state's accounts (the trie is history independent),
///      the transaction and receipt by hand-written RLP. `crates/execution/tests` checks the
///      same step against the node's own execution and trace.
contract OneStepVerifierDepositTest is Test {
    uint256 internal constant L2_CHAIN_ID = 42_069;
    /// @dev The L1 origin of the disputed L2 block, which starts its epoch.
    uint256 internal constant ORIGIN = 100;
    uint256 internal constant L2_BLOCK = 77;
    bytes32 internal constant EMPTY = keccak256("");

    L1Bridge internal bridge;
    OneStepVerifier internal osv;
    uint256 internal nonce;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    /// @dev The messages of L1 block `ORIGIN`, in order.
    OneStepVerifier.ChainMessage[] internal messages;

    /// @dev A state trie: parallel arrays of accounts.
    struct State {
        address[] accounts;
        uint64[] nonces;
        uint256[] balances;
        bytes32[] codeHashes;
    }

    function setUp() public {
        StateManager manager = BridgeFixtures.deployStateManager(address(this), address(this), 7 days, 0);
        bridge = BridgeFixtures.deployL1Bridge(address(manager), L2_CHAIN_ID, address(this));
        osv = new StubInbox().verifier(IDepositChain(address(bridge)));
        // One message in the L1 block before the origin, three in the origin.
        vm.roll(ORIGIN - 1);
        _deposit(carol, carol, 1 ether, false);
        vm.roll(ORIGIN);
        _deposit(alice, bob, 1 ether, true);
        _deposit(alice, bob, 2 ether, true);
        _deposit(carol, alice, 3 ether, true);
        vm.roll(ORIGIN + 5);
    }

    // ------------------------------------------------------------------ the step

    /// @dev The second deposit of the block (alice pays bob 2 ETH) from a state where both
    ///      exist: the verifier accepts exactly the independently built next state.
    function test_deposit_existingAccounts_succeeds() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        bytes32 expected = _expectedNext(w.state, pre, messages[1]);
        bytes memory ctx = _context(2, w);
        uint256 before = gasleft();
        assertTrue(osv.verify(fromState, expected, ctx), "the right next state");
        console.log("gas deposit step, 3 messages in the L1 block", before - gasleft());
        assertFalse(osv.verify(fromState, keccak256("wrong"), _context(2, w)), "a wrong next state");
        // From another agreed state the same claim is wrong.
        w.state.cumulativeGas += 1;
        assertFalse(osv.verify(keccak256(abi.encode(w.state)), expected, _context(2, w)), "another agreed state");
    }

    /// @dev The recipient does not exist yet: it is created with the deposit as its balance.
    function test_deposit_freshRecipient_succeeds() public {
        State memory pre = _stateWithout(bob);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        bytes32 expected = _expectedNext(w.state, pre, messages[1]);
        assertTrue(osv.verify(fromState, expected, _context(2, w)));
    }

    /// @dev The third deposit (carol pays alice) sits last in its L1 block: no later hashes.
    function test_deposit_lastOfBlock_succeeds() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 3, ORIGIN - 1);
        assertEq(w.laterHashes.length, 0);
        assertTrue(osv.verify(fromState, _expectedNext(w.state, pre, messages[2]), _context(3, w)));
    }

    /// @dev A recipient with code runs it: not provable in part 1.
    function test_deposit_recipientWithCode_reverts() public {
        State memory pre = _state(5 ether, 1 ether, keccak256("code"));
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        bytes memory c1 = _context(2, w);
        vm.expectRevert(abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, L2_BLOCK, 2));
        osv.verify(fromState, bytes32(0), c1);
    }

    /// @dev A depositor's nonce at its maximum makes the step unprovable only if the trie
    ///      says so: a made-up one fails its proof instead.
    function test_deposit_forgedMaxNonce_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        w.from.nonce = type(uint64).max;
        bytes memory c = _context(2, w);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        osv.verify(fromState, bytes32(0), c);
    }

    /// @dev The block's fourth input is not a deposit (the origin has three): a batch
    ///      transaction or the seal, whose own witness decides it; the deposit witness is
    ///      refused there.
    function test_deposit_beyondDeposits_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 3, ORIGIN - 1);
        w.state.inputs = 4;
        fromState = keccak256(abi.encode(w.state));
        bytes memory c2 = _context(4, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c2);
    }

    /// @dev A block whose parent has the same origin starts no epoch and carries no deposits:
    ///      a deposit witness is refused.
    function test_deposit_noNewEpoch_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 1, ORIGIN);
        bytes memory c3 = _context(1, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c3);
    }

    /// @dev A message that is not the chain's (another amount) does not fold to the checkpoint.
    function test_deposit_forgedMessage_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        w.message.amount += 1;
        bytes memory c4 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c4);
    }

    /// @dev Later hashes of the wrong count, a context or parent header that is not the agreed
    ///      state's, an account the proof does not show: each reverts.
    function test_deposit_malformedWitness_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        bytes32[] memory none = new bytes32[](0);
        bytes32[] memory later = w.laterHashes;
        w.laterHashes = none;
        bytes memory c5 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c5);
        w.laterHashes = later;

        w.context.timestamp += 1;
        bytes memory c6 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c6);
        w.context.timestamp -= 1;

        bytes memory header = w.parentHeader;
        w.parentHeader = _parentHeader(ORIGIN - 2);
        bytes memory c7 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c7);
        w.parentHeader = header;

        w.from.balance += 1;
        bytes memory c8 = _context(2, w);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        osv.verify(fromState, bytes32(0), c8);
        w.from.balance -= 1;

        // An absent account with fields set.
        w.from.exists = false;
        bytes memory c9 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c9);
        w.from.exists = true;

        // Position 0 is the preamble's, and a state that is not the agreed one opens nothing.
        bytes memory c10 = _context(0, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), c10);
        bytes memory c11 = _context(2, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(keccak256("other"), bytes32(0), c11);
    }

    /// @dev A deposit's step cannot be passed off as an unprovable input: the input witness
    ///      at a deposit position reverts, so only the deposit witness decides it. Past the
    ///      block's deposits (the block has no batch transactions) is its seal, which
    ///      `STEP_SEAL` decides.
    function test_input_atDeposit_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        bytes memory input = _inputContext(2, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_DepositStep.selector, L2_BLOCK, 2));
        osv.verify(fromState, bytes32(0), input);

        w.state.inputs = 4;
        input = _inputContext(4, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, L2_BLOCK, 4));
        osv.verify(keccak256(abi.encode(w.state)), bytes32(0), input);
    }

    /// @dev Claiming the recipient holds code makes the step unprovable only if the trie says
    ///      so: a made-up account fails its proof instead.
    function test_deposit_forgedCodeRecipient_reverts() public {
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witness(pre, 2, ORIGIN - 1);
        w.to.codeHash = keccak256("code");
        bytes memory c = _context(2, w);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        osv.verify(fromState, bytes32(0), c);
    }

    /// @dev Fuzzed witness bodies for the deposit kind never return: they revert.
    function testFuzz_deposit_garbage_reverts(bytes calldata body, uint256 position) public {
        bytes memory ctx = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: L2_BLOCK, position: position, horizonL1Block: ORIGIN + 5, witness: abi.encode(uint8(4), body)
            })
        );
        vm.expectRevert();
        osv.verify(keccak256(body), bytes32(0), ctx);
    }

    /// @dev The dearest deposit step: the first of the most ETH deposits one L1 block takes
    ///      (30M deposit gas / 21,000), so every other message's hash is in the witness.
    function test_deposit_worstCaseGas_succeeds() public {
        uint256 origin = ORIGIN + 10;
        vm.roll(origin);
        delete messages;
        uint256 most = uint256(30_000_000) / 21_000;
        for (uint256 i; i < most; ++i) {
            _deposit(alice, bob, 1 ether, true);
        }
        vm.roll(origin + 1);
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        // The dearest message is the first after a mark of the chain: it folds to the next one.
        uint256 position = 128 - messages[0].nonce % 128 + 1;
        assertEq(messages[position - 1].nonce % 128, 0);
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witnessAt(pre, position, origin, origin - 1);
        assertEq(w.laterHashes.length, 127);
        bytes32 expected = _expectedNext(w.state, pre, messages[position - 1]);
        bytes memory ctx = _context(position, w);
        uint256 before = gasleft();
        bool valid = osv.verify(fromState, expected, ctx);
        uint256 used = before - gasleft();
        assertTrue(valid);
        console.log("gas deposit step, worst case (calldata excluded)", used);
        console.log("witness bytes", ctx.length);
        assertLt(used, 1_000_000, "a one-step stays under 1M gas");
    }

    /// @dev A message folds to the chain's next mark inside its L1 block, and only there; where
    ///      the bridge kept no mark (messages from before an upgrade that added them), it folds
    ///      to the block's checkpoint instead.
    function test_deposit_foldsToTheNextMark_succeeds() public {
        uint256 origin = ORIGIN + 10;
        vm.roll(origin);
        delete messages;
        for (uint256 i; i < 200; ++i) {
            _deposit(alice, bob, 1 ether, true);
        }
        vm.roll(origin + 1);
        State memory pre = _state(5 ether, 1 ether, EMPTY);
        uint256 position = 2;
        (OneStepVerifier.DepositWitness memory w, bytes32 fromState) = _witnessAt(pre, position, origin, origin - 1);
        uint256 nonce = messages[position - 1].nonce;
        assertEq(w.laterHashes.length, 128 - nonce % 128 - 1);
        bytes32 expected = _expectedNext(w.state, pre, messages[position - 1]);
        // Folding on to the block's end is refused while the mark exists.
        bytes32[] memory all = new bytes32[](messages.length - position);
        for (uint256 i = position; i < messages.length; ++i) {
            all[i - position] = keccak256(abi.encode(messages[i]));
        }
        bytes memory toMark = _context(position, w);
        assertTrue(osv.verify(fromState, expected, toMark));
        w.laterHashes = all;
        bytes memory toBlockEnd = _context(position, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, expected, toBlockEnd);
        // Without the mark (slot 7 of the bridge is `_chainMarks`), only the whole block folds.
        uint256 markNonce = (nonce / 128 + 1) * 128 - 1;
        vm.store(address(bridge), keccak256(abi.encode(markNonce, uint256(7))), bytes32(0));
        assertEq(bridge.depositChainMark(markNonce), bytes32(0));
        assertTrue(osv.verify(fromState, expected, toBlockEnd));
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, expected, toMark);
    }

    // ------------------------------------------------------------------ helpers

    function _deposit(address from, address to, uint256 amount, bool record) internal {
        vm.deal(from, from.balance + amount);
        vm.prank(from, from);
        bridge.depositTo{value: amount}(address(0), address(0), amount, 21_000, to);
        if (record) {
            messages.push(
                OneStepVerifier.ChainMessage({
                    kind: 0,
                    nonce: nonce,
                    from: from,
                    to: to,
                    l1Token: address(0),
                    l2Token: address(0),
                    amount: amount,
                    gasLimit: 21_000,
                    refundTo: from,
                    metadataHash: keccak256("")
                })
            );
        }
        ++nonce;
    }

    /// @dev alice (nonce 3), bob (nonce 0, with `bobCode`) and carol (7 ETH).
    function _state(uint256 aliceBalance, uint256 bobBalance, bytes32 bobCode) internal view returns (State memory s) {
        s.accounts = new address[](3);
        s.nonces = new uint64[](3);
        s.balances = new uint256[](3);
        s.codeHashes = new bytes32[](3);
        (s.accounts[0], s.nonces[0], s.balances[0], s.codeHashes[0]) = (alice, 3, aliceBalance, EMPTY);
        (s.accounts[1], s.nonces[1], s.balances[1], s.codeHashes[1]) = (bob, 0, bobBalance, bobCode);
        (s.accounts[2], s.nonces[2], s.balances[2], s.codeHashes[2]) = (carol, 0, 7 ether, EMPTY);
    }

    /// @dev `_state` without `gone`.
    function _stateWithout(address gone) internal view returns (State memory s) {
        State memory full = _state(5 ether, 1 ether, EMPTY);
        s.accounts = new address[](2);
        s.nonces = new uint64[](2);
        s.balances = new uint256[](2);
        s.codeHashes = new bytes32[](2);
        uint256 j;
        for (uint256 i; i < 3; ++i) {
            if (full.accounts[i] == gone) continue;
            (s.accounts[j], s.nonces[j], s.balances[j], s.codeHashes[j]) =
            (full.accounts[i], full.nonces[i], full.balances[i], full.codeHashes[i]);
            ++j;
        }
    }

    function _keys(State memory s) internal pure returns (bytes32[] memory keys, bytes32[] memory values) {
        keys = new bytes32[](s.accounts.length);
        values = new bytes32[](s.accounts.length);
        for (uint256 i; i < keys.length; ++i) {
            keys[i] = SparseMerkleTrie.accountKey(s.accounts[i]);
            values[i] = SparseMerkleTrie.accountValueHash(s.nonces[i], s.balances[i], s.codeHashes[i]);
        }
    }

    function _root(State memory s) internal pure returns (bytes32) {
        (bytes32[] memory keys, bytes32[] memory values) = _keys(s);
        return TrieBuilder.rootOf(keys, values);
    }

    function _find(State memory s, address account) internal pure returns (bool found, uint256 index) {
        for (uint256 i; i < s.accounts.length; ++i) {
            if (s.accounts[i] == account) return (true, i);
        }
    }

    /// @dev The account's opening and proof in `s` (present accounts only carry proofs here;
    ///      an absent one is proven by the terminal leaf `TrieBuilder` puts on its path).
    function _open(State memory s, address account)
        internal
        pure
        returns (OneStepVerifier.Account memory opened, SparseMerkleTrie.Proof memory proof)
    {
        (bytes32[] memory keys, bytes32[] memory values) = _keys(s);
        bytes32 key = SparseMerkleTrie.accountKey(account);
        (bool found, uint256 index) = _find(s, account);
        if (found) {
            opened = OneStepVerifier.Account(true, s.nonces[index], s.balances[index], s.codeHashes[index]);
            proof = SparseMerkleTrie.Proof(TrieBuilder.siblingsOf(keys, values, index), key, values[index], "");
            return (opened, proof);
        }
        // Absent: prove with the trie holding it too, cut at the depth where it would split off.
        bytes32[] memory withKeys = new bytes32[](keys.length + 1);
        bytes32[] memory withValues = new bytes32[](keys.length + 1);
        for (uint256 i; i < keys.length; ++i) {
            (withKeys[i], withValues[i]) = (keys[i], values[i]);
        }
        (withKeys[keys.length], withValues[keys.length]) = (key, bytes32(uint256(1)));
        bytes32[] memory path = TrieBuilder.siblingsOf(withKeys, withValues, keys.length);
        // The deepest sibling is the subtree that stays; the absent key's terminal is it when it
        // is one leaf, which holds for this small trie (the split is with a single account).
        uint256 depth = path.length - 1;
        bytes32 neighbour = path[depth];
        // Without the key, its neighbour rises over the empty siblings above it.
        while (depth != 0 && path[depth - 1] == 0) {
            --depth;
        }
        bytes32[] memory siblings = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            siblings[i] = path[i];
        }
        for (uint256 i; i < keys.length; ++i) {
            if (TrieBuilder.leaf(keys[i], values[i]) == neighbour) {
                proof = SparseMerkleTrie.Proof(siblings, keys[i], values[i], "");
                return (opened, proof);
            }
        }
        revert("the absent key's neighbour is not a single leaf");
    }

    function _parentHeader(uint256 origin) internal pure returns (bytes memory) {
        return L2Headers.header(origin);
    }

    function _witness(State memory pre, uint256 position, uint256 parentOrigin)
        internal
        view
        returns (OneStepVerifier.DepositWitness memory w, bytes32 fromState)
    {
        return _witnessAt(pre, position, ORIGIN, parentOrigin);
    }

    /// @dev The witness of the step at `position` of a block with L1 origin `origin` whose
    ///      parent's origin is `parentOrigin`, from trie `pre`, running `messages[position - 1]`.
    function _witnessAt(State memory pre, uint256 position, uint256 origin, uint256 parentOrigin)
        internal
        view
        returns (OneStepVerifier.DepositWitness memory w, bytes32 fromState)
    {
        w.parentHeader = _parentHeader(parentOrigin);
        w.context = L2Headers.context(L2_BLOCK, origin, parentOrigin);
        _stateAt(w, _root(pre), position);
        fromState = keccak256(abi.encode(w.state));
        uint256 index = position == 0 ? 0 : position - 1;
        if (index < messages.length) {
            w.message = messages[index];
            (, bytes32 chainAfterPrevious) = bridge.depositChainAt(origin - 1);
            bytes32 chain = chainAfterPrevious;
            for (uint256 i; i < index; ++i) {
                chain = keccak256(abi.encode(chain, keccak256(abi.encode(messages[i]))));
            }
            w.chainBefore = chain;
            // Up to the chain's next mark inside the block, or the block's end.
            uint256 end = messages.length;
            uint256 markEnd = (w.message.nonce / 128 + 1) * 128;
            if (markEnd < messages[end - 1].nonce + 1) end = index + markEnd - w.message.nonce;
            w.laterHashes = new bytes32[](end - index - 1);
            for (uint256 i = index + 1; i < end; ++i) {
                w.laterHashes[i - index - 1] = keccak256(abi.encode(messages[i]));
            }
            (w.from, w.fromProof) = _open(pre, w.message.from);
            State memory mid = _applyFrom(pre, w.message.from);
            (w.to, w.toProof) = _open(mid, w.message.to);
        }
    }

    /// @dev The agreed trace state at `position`: the block's earlier deposits (each an ETH
    ///      transfer of 21,000 gas) in the tries, whose append proofs `w` then carries.
    function _stateAt(OneStepVerifier.DepositWitness memory w, bytes32 stateRoot, uint256 position) internal view {
        (bytes[] memory txs, bytes[] memory receipts) = _included(position - 1);
        bytes32 txRoot;
        bytes32 receiptRoot;
        (txRoot, w.transactionsProof) = OrderedTries.build(txs);
        (receiptRoot, w.receiptsProof) = OrderedTries.build(receipts);
        w.state = OneStepVerifier.TraceState({
            version: 2,
            l2Block: L2_BLOCK,
            inputs: position,
            stateRoot: stateRoot,
            cumulativeGas: 21_000 * (position - 1),
            included: position - 1,
            txRoot: txRoot,
            receiptRoot: receiptRoot,
            logsBloomHash: keccak256(new bytes(256)),
            context: keccak256(abi.encode(w.context))
        });
    }

    /// @dev `pre` with the depositor's nonce bumped (its balance is unchanged: the mint and
    ///      the value cancel), the account created if absent.
    function _applyFrom(State memory pre, address from) internal pure returns (State memory s) {
        (bool found, uint256 index) = _find(pre, from);
        s = _copy(pre, found ? 0 : 1);
        if (!found) {
            index = pre.accounts.length;
            (s.accounts[index], s.nonces[index], s.balances[index], s.codeHashes[index]) = (from, 0, 0, EMPTY);
        }
        ++s.nonces[index];
    }

    function _copy(State memory pre, uint256 extra) internal pure returns (State memory s) {
        uint256 n = pre.accounts.length;
        s.accounts = new address[](n + extra);
        s.nonces = new uint64[](n + extra);
        s.balances = new uint256[](n + extra);
        s.codeHashes = new bytes32[](n + extra);
        for (uint256 i; i < n; ++i) {
            (s.accounts[i], s.nonces[i], s.balances[i], s.codeHashes[i]) =
            (pre.accounts[i], pre.nonces[i], pre.balances[i], pre.codeHashes[i]);
        }
    }

    /// @dev The next trace state, built without the verifier: the post-state's root, 21,000
    ///      gas, the transaction and receipt written out by hand.
    function _expectedNext(
        OneStepVerifier.TraceState memory state,
        State memory pre,
        OneStepVerifier.ChainMessage memory m
    ) internal view returns (bytes32) {
        State memory post = _applyFrom(pre, m.from);
        (bool found, uint256 index) = _find(post, m.to);
        if (!found) {
            post = _copy(post, 1);
            index = post.accounts.length - 1;
            (post.accounts[index], post.codeHashes[index]) = (m.to, EMPTY);
        }
        post.balances[index] += m.amount;
        uint256 cumulative = state.cumulativeGas + 21_000;
        (bytes[] memory txs, bytes[] memory receipts) = _included(state.included + 1);
        (bytes32 txRoot,) = OrderedTries.build(txs);
        (bytes32 receiptRoot,) = OrderedTries.build(receipts);
        return keccak256(
            abi.encode(
                OneStepVerifier.TraceState({
                    version: 2,
                    l2Block: state.l2Block,
                    inputs: state.inputs + 1,
                    stateRoot: _root(post),
                    cumulativeGas: cumulative,
                    included: state.included + 1,
                    txRoot: txRoot,
                    receiptRoot: receiptRoot,
                    logsBloomHash: state.logsBloomHash,
                    context: state.context
                })
            )
        );
    }

    /// @dev The first `count` deposits of `messages` as the block included them, and their
    ///      receipts (each 21,000 gas).
    function _included(uint256 count) internal view returns (bytes[] memory txs, bytes[] memory receipts) {
        txs = new bytes[](count);
        receipts = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            txs[i] = _depositTx(messages[i]);
            bytes memory receiptBody =
                abi.encodePacked(hex"01", _rlpGas(21_000 * (i + 1)), hex"b90100", new bytes(256), hex"c0");
            receipts[i] = abi.encodePacked(hex"7ef9", uint16(receiptBody.length), receiptBody);
        }
    }

    /// @dev The deposit transaction of ETH message `m`, written out by hand. Amounts here are
    ///      whole ETH below 256 ETH: 8-byte integers. Gas 21,000 is 0x5208.
    function _depositTx(OneStepVerifier.ChainMessage memory m) internal pure returns (bytes memory) {
        bytes memory body = abi.encodePacked(
            hex"a0",
            keccak256(abi.encode(bytes32(0), keccak256(abi.encode(m.nonce)))),
            hex"94",
            m.from,
            hex"94",
            m.to,
            hex"88",
            uint64(m.amount),
            hex"88",
            uint64(m.amount),
            hex"825208",
            hex"80"
        );
        return abi.encodePacked(hex"7ef8", uint8(body.length), body);
    }

    /// @dev Gas amounts here are 2 or 3 bytes long.
    function _rlpGas(uint256 gas) internal pure returns (bytes memory) {
        if (gas < 0x10000) return abi.encodePacked(hex"82", uint16(gas));
        return abi.encodePacked(hex"83", uint24(gas));
    }

    /// @dev The `STEP_INPUT` witness of the same agreed state as deposit witness `w`.
    function _inputContext(uint256 position, OneStepVerifier.DepositWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: L2_BLOCK,
                position: position,
                horizonL1Block: block.number,
                witness: abi.encode(
                    uint8(3),
                    abi.encode(
                        OneStepVerifier.InputWitness({
                            state: w.state,
                            context: w.context,
                            parentHeader: w.parentHeader,
                            blockTable: hex"00000000000000",
                            firstSegment: 0
                        })
                    )
                )
            })
        );
    }

    function _context(uint256 position, OneStepVerifier.DepositWitness memory w) internal view returns (bytes memory) {
        return abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: L2_BLOCK,
                position: position,
                horizonL1Block: block.number,
                witness: abi.encode(osv.STEP_DEPOSIT(), abi.encode(w))
            })
        );
    }
}
