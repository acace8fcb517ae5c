// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "test/utils/Test.sol";
import {VerifierStepBase} from "test/dispute/VerifierStepBase.sol";
import {AccountTrie} from "test/utils/AccountTrie.sol";
import {Batches} from "test/utils/Batches.sol";
import {L2Headers} from "test/utils/L2Headers.sol";
import {SegmentBuilder} from "test/dispute/SegmentBuilder.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";

/// @notice The batch transaction step (`STEP_TRANSACTION`) against a real `BatchInbox` holding
///         real batches of transactions signed here, a real `SegmentStore` that opened their
///         segments and a real `L1Bridge` whose deposit chain puts one deposit before the
///         block's batch transactions. The expected next trace state is built without the
///         verifier: the post-state's root with `TrieBuilder` (`AccountTrie`), the transaction
///         hash with LibRLP (`SegmentBuilder`), the receipt as hand-written RLP.
///
///         Batches (L2 block: the batch transactions):
///         - record 0: block 1 (two filler transfers) and block 2, which starts the epoch of an
///           L1 origin holding one deposit, with `BLOCK_TXS` transactions, one per case below;
///           two segments, of block 1 and cases 0-5, and of cases 6-13 (so block 2 spans both);
///         - record 1: block 3, one transaction in a segment that does not decode;
///         - record 2: block 4, two transactions of alice with the same nonce, the first with
///           more gas than the block has.
contract OneStepVerifierTransactionTest is VerifierStepBase {
    uint256 internal constant BLOCK_GAS_LIMIT = 30_000_000;

    address internal constant CAROL = address(uint160(uint256(keccak256("carol"))));
    address internal constant CONTRACT = address(uint160(uint256(keccak256("contract"))));

    /// @dev Block 2's batch transactions (all from alice, nonce 3, to bob unless said).
    uint256 internal constant K_TRANSFER = 0; // EIP-1559, 1 ETH, max fee 10 gwei, tip 1 gwei
    uint256 internal constant K_LEGACY = 1; // legacy EIP-155 to carol, 0.5 ETH at 8 gwei
    uint256 internal constant K_EIP2930 = 2; // EIP-2930, empty access list, 2 ETH at 9 gwei
    uint256 internal constant K_SELF = 3; // EIP-1559 to alice herself
    uint256 internal constant K_LOW_FEE = 4; // max fee 6 gwei, below the base fee
    uint256 internal constant K_HIGH_S = 5; // K_TRANSFER with s' = n - s (EIP-2)
    uint256 internal constant K_LOW_GAS = 6; // gas limit 20,999
    uint256 internal constant K_TIP_ABOVE_FEE = 7; // tip 11 gwei over a max fee of 10
    uint256 internal constant K_CALLDATA = 8; // three bytes of calldata
    uint256 internal constant K_CREATE = 9; // a create without init code
    uint256 internal constant K_TO_CONTRACT = 10; // to an account with code
    uint256 internal constant K_PRECOMPILE = 11; // to 0x04 (identity)
    uint256 internal constant K_ACCESS_LIST = 12; // EIP-1559 with one access-list entry
    uint256 internal constant K_NO_SIGNER = 13; // r = 0: does not recover
    uint256 internal constant BLOCK_TXS = 14;
    /// @dev Block 1's transactions, then block 2's first six, are segment 0.
    uint256 internal constant SEGMENT_0_TXS = 8;

    bytes internal batch0;
    bytes internal batch1;
    bytes internal batch2;

    function setUp() public {
        _setUpVerifier();

        Batches.Segment[] memory segments = new Batches.Segment[](2);
        segments[0] = Batches.Segment(SegmentBuilder.segment(_segmentTxs(0, 0)), uint16(SEGMENT_0_TXS));
        segments[1] = Batches.Segment(SegmentBuilder.segment(_segmentTxs(0, 1)), uint16(2 + BLOCK_TXS - SEGMENT_0_TXS));
        Batches.Block[] memory blocks = new Batches.Block[](2);
        blocks[0] = _block(0, 2, 2);
        blocks[1] = _block(1, 12, uint16(BLOCK_TXS));
        Batches.Batch memory batch = _batch(1, blocks, segments);
        assertEq(batch.depositCount, 1);
        batch0 = Batches.encode(batch);
        blockTables.push(Batches.blockTable(blocks));
        assertEq(_post(batch0), 0);

        segments = new Batches.Segment[](1);
        segments[0] = Batches.Segment(Batches.noise(64, 3), 1);
        batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), segments);
        batch1 = Batches.encode(batch);
        blockTables.push(Batches.blockTable(batch.blocks));
        assertEq(_post(batch1), 1);

        segments[0] = Batches.Segment(SegmentBuilder.segment(_segmentTxs(2, 0)), 2);
        batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 2), segments);
        batch2 = Batches.encode(batch);
        blockTables.push(Batches.blockTable(batch.blocks));
        assertEq(_post(batch2), 2);

        assertTrue(store.open(0, batch0, 0).ok);
        assertTrue(store.open(0, batch0, 1).ok);
        assertFalse(store.open(1, batch1, 0).ok);
        assertTrue(store.open(2, batch2, 0).ok);
    }

    // ------------------------------------------------------------------ included transfers

    /// @dev An EIP-1559 transfer between existing accounts: the verifier accepts exactly the
    ///      independently built next state, whose balances are written out here.
    function test_transaction_eip1559Transfer_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        // Price min(10, 7 + 1) = 8 gwei; the beneficiary (zero, as the node builds blocks) gets
        // the 1 gwei tip, the base fee is burnt.
        _assertAccount(post, alice, 4, 10 ether - 1 ether - 21_000 * 8 gwei);
        _assertAccount(post, BOB, 0, 2 ether);
        _assertAccount(post, address(0), 0, 21_000 * 1 gwei);
        bytes memory ctx = _ctx(s, w);
        uint256 before = gasleft();
        bool valid = osv.verify(fromState, expected, ctx);
        uint256 used = before - gasleft();
        assertTrue(valid, "the right next state");
        console.log("gas transaction step, ETH transfer (calldata excluded)", used);
        console.log("witness bytes", ctx.length);
        assertLt(used, 1_000_000, "a one-step stays under 1M gas");

        assertFalse(osv.verify(fromState, keccak256("wrong"), ctx), "a wrong next state");
        assertFalse(osv.verify(fromState, _expectSkipped(w.state), ctx), "the transaction is not skipped");
        // The same claim from another agreed state (more gas used before) is wrong.
        s.cumulativeGas += 1;
        (w, fromState) = _witness(s);
        assertFalse(osv.verify(fromState, expected, _ctx(s, w)), "another agreed state");
    }

    /// @dev A legacy (EIP-155) transfer pays its gas price; its receipt has no type byte.
    function test_transaction_legacyTransfer_succeeds() public {
        Step memory s = _step(2, K_LEGACY);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 0.5 ether - 21_000 * 8 gwei);
        _assertAccount(post, CAROL, 5, 7.5 ether);
        _assertAccount(post, address(0), 0, 21_000 * 1 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev An EIP-2930 transfer with an empty access list.
    function test_transaction_eip2930Transfer_succeeds() public {
        Step memory s = _step(2, K_EIP2930);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 2 ether - 21_000 * 9 gwei);
        _assertAccount(post, BOB, 0, 3 ether);
        _assertAccount(post, address(0), 0, 21_000 * 2 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev A transfer to oneself pays only the fee.
    function test_transaction_selfTransfer_succeeds() public {
        Step memory s = _step(2, K_SELF);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 21_000 * 8 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev The recipient does not exist yet (nor does the beneficiary): both are created.
    function test_transaction_freshRecipient_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.pre = _without(s.pre, BOB);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        assertFalse(w.recipient.exists);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, BOB, 0, 1 ether);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev The max fee binds below base fee plus tip: the price is the max fee and the tip
    ///      what is left above the base fee.
    function test_transaction_feeCapBinds_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.context.baseFee = 9.5 gwei;
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 1 ether - 21_000 * 10 gwei);
        _assertAccount(post, address(0), 0, 21_000 * 0.5 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev A legacy price equal to the base fee leaves no tip: the absent beneficiary is
    ///      touched and stays absent (EIP-161).
    function test_transaction_zeroTip_succeeds() public {
        Step memory s = _step(2, K_LEGACY);
        s.context.baseFee = 8 gwei;
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        assertFalse(w.beneficiary.exists);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        (bool beneficiaryExists,) = AccountTrie.get(post, address(0));
        assertFalse(beneficiaryExists, "no account for a zero tip");
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev The beneficiary as an account of its own, as the recipient and as the sender.
    function test_transaction_beneficiary_succeeds() public {
        address[3] memory beneficiaries = [CAROL, BOB, alice];
        for (uint256 i; i < 3; ++i) {
            Step memory s = _step(2, K_TRANSFER);
            s.context.beneficiary = beneficiaries[i];
            (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
            (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
            (bool zeroExists,) = AccountTrie.get(post, address(0));
            assertFalse(zeroExists, "no tip for the zero address");
            assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
        }
        // Spelled out for the sender as beneficiary: the tip comes back.
        Step memory t = _step(2, K_TRANSFER);
        t.context.beneficiary = alice;
        (OneStepVerifier.TransactionWitness memory w2,) = _witness(t);
        (, AccountTrie.Entry[] memory post2) = _expectIncluded(t, w2.state);
        _assertAccount(post2, alice, 4, 10 ether - 1 ether - 21_000 * 7 gwei);
    }

    /// @dev The balance check's boundary: exactly `gasLimit * maxFee + value` suffices (the
    ///      sender pays less, at the effective price).
    function test_transaction_exactBalance_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.pre = AccountTrie.set(s.pre, alice, 3, 21_000 * 10 gwei + 1 ether, EMPTY);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 21_000 * 2 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev The block gas check's boundary: a transaction filling the block exactly fits.
    function test_transaction_fillsBlock_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.cumulativeGas = BLOCK_GAS_LIMIT - 21_000;
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected,) = _expectIncluded(s, w.state);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
    }

    /// @dev Included exactly when the balance covers `gasLimit * maxFee + value`.
    function testFuzz_transaction_balance_succeeds(uint256 balance) public {
        balance = bound(balance, 0, 2 ether);
        Step memory s = _step(2, K_TRANSFER);
        s.pre = AccountTrie.set(s.pre, alice, 3, balance, EMPTY);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        if (balance >= 21_000 * 10 gwei + 1 ether) {
            (bytes32 expected,) = _expectIncluded(s, w.state);
            assertTrue(osv.verify(fromState, expected, ctx));
        } else {
            assertTrue(osv.verify(fromState, _expectSkipped(w.state), ctx));
        }
    }

    // ------------------------------------------------------------------ skipped transactions

    /// @dev A nonce above or below the sender's: revm refuses it, only `inputs` moves.
    function test_transaction_badNonceSkipped_succeeds() public {
        uint64[2] memory nonces = [uint64(4), 2];
        for (uint256 i; i < 2; ++i) {
            Step memory s = _step(2, K_TRANSFER);
            s.pre = AccountTrie.set(s.pre, alice, nonces[i], 10 ether, EMPTY);
            _assertSkipped(s);
        }
    }

    /// @dev One wei short of `gasLimit * maxFee + value`, or no account at all.
    function test_transaction_insufficientBalanceSkipped_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.pre = AccountTrie.set(s.pre, alice, 3, 21_000 * 10 gwei + 1 ether - 1, EMPTY);
        _assertSkipped(s);
        // A fresh sender has nonce 0 and nothing: a transaction with nonce 0 is refused too.
        s.pre = _without(s.pre, alice);
        _assertSkipped(s);
    }

    /// @dev A max fee below the block's base fee, in the batch or by the block's base fee.
    function test_transaction_feeBelowBaseFeeSkipped_succeeds() public {
        _assertSkipped(_step(2, K_LOW_FEE));
        Step memory s = _step(2, K_TRANSFER);
        s.context.baseFee = 10 gwei + 1;
        _assertSkipped(s);
        // A tip above the max fee is refused as well.
        _assertSkipped(_step(2, K_TIP_ABOVE_FEE));
    }

    /// @dev One gas more than the block has left, or a gas limit above the block's.
    function test_transaction_exceedsBlockGasSkipped_succeeds() public {
        Step memory s = _step(2, K_TRANSFER);
        s.cumulativeGas = BLOCK_GAS_LIMIT - 20_999;
        _assertSkipped(s);
        _assertSkipped(_step(4, 0));
    }

    /// @dev A gas limit below 21,000.
    function test_transaction_lowGasLimitSkipped_succeeds() public {
        _assertSkipped(_step(2, K_LOW_GAS));
    }

    /// @dev The transfer's signature with `s' = n - s` and the other parity still recovers
    ///      alice through `ecrecover`, but derivation refuses it (EIP-2), so the step skips it.
    function test_transaction_highSSkipped_succeeds() public {
        SegmentBuilder.Tx memory t = _txOf(2, K_HIGH_S);
        assertGt(uint256(t.s), SECP256K1N / 2, "high s");
        (bytes32 signingHash,,) = SegmentBuilder.hashes(t, L2_CHAIN_ID);
        assertEq(ecrecover(signingHash, 27 + t.yParity, t.r, t.s), alice, "malleable, not garbage");
        _assertSkipped(_step(2, K_HIGH_S));
    }

    /// @dev A signature that recovers nobody (r = 0): skipped, whatever the sender's witness.
    function test_transaction_unrecoverableSkipped_succeeds() public {
        Step memory s = _step(2, K_NO_SIGNER);
        _assertSkipped(s);
    }

    // ------------------------------------------------------------------ transactions that run code

    /// @dev Calldata to an account without code runs no code: three non-zero bytes cost
    ///      21,048 intrinsic gas, below the EIP-7623 floor of 21,000 + 10 × 12 = 21,120, which
    ///      is what it uses. The witness must carry the leaf's calldata.
    function test_transaction_calldata_succeeds() public {
        Step memory s = _step(2, K_CALLDATA);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 1 ether - 21_120 * 8 gwei);
        _assertAccount(post, address(0), 0, 21_120 * 1 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
        w.data = hex"c0ffef";
        _expectBadWitness(s, w, fromState);
        w.data = hex"c0ff";
        _expectBadWitness(s, w, fromState);
    }

    function test_transaction_create_reverts() public {
        _assertUnprovable(_step(2, K_CREATE));
    }

    function test_transaction_recipientWithCode_reverts() public {
        _assertUnprovable(_step(2, K_TO_CONTRACT));
    }

    function test_transaction_precompileRecipient_reverts() public {
        _assertUnprovable(_step(2, K_PRECOMPILE));
    }

    /// @dev An access list of one address costs 2,400 gas: 23,400 in all. The witness must
    ///      carry the leaf's access list.
    function test_transaction_accessList_succeeds() public {
        Step memory s = _step(2, K_ACCESS_LIST);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 1 ether - 23_400 * 8 gwei);
        assertTrue(osv.verify(fromState, expected, _ctx(s, w)));
        w.accessList = hex"c0";
        _expectBadWitness(s, w, fromState);
    }

    /// @dev The access list is checked against the leaf before its size can make the step
    ///      unprovable: an oversized or made-up list is refused, never `NotProvableYet`.
    function test_transaction_junkAccessList_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        w.accessList = new bytes(osv.MAX_STEP_ACCESS_LIST() + 1);
        _expectBadWitness(s, w, fromState);
        s = _step(2, K_LEGACY);
        (w, fromState) = _witness(s);
        w.accessList = hex"c0";
        _expectBadWitness(s, w, fromState);
        w.accessList = new bytes(osv.MAX_STEP_ACCESS_LIST() + 1);
        _expectBadWitness(s, w, fromState);
    }

    /// @dev A sender with code (EIP-3607, or an EIP-7702 delegation) is left unprovable.
    function test_transaction_senderWithCode_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        s.pre = AccountTrie.set(s.pre, alice, 3, 10 ether, keccak256("delegation"));
        _assertUnprovable(s);
    }

    /// @dev Claiming the recipient holds code makes the step unprovable only if the trie says
    ///      so: a made-up account fails its proof instead.
    function test_transaction_forgedCodeRecipient_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        w.recipient.codeHash = keccak256("code");
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        osv.verify(fromState, bytes32(0), ctx);
    }

    // ------------------------------------------------------------------ the position's kind

    /// @dev The input witness is refused wherever L1 shows a batch transaction (and a deposit),
    ///      and at the seal, whatever the block's size.
    function test_input_atBatchTransaction_reverts() public {
        for (uint256 k; k < BLOCK_TXS; ++k) {
            Step memory s = _step(2, k);
            (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
            bytes memory ctx = _inputCtx(s, w);
            vm.expectRevert(
                abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_BatchTransactionStep.selector, 2, k + 2)
            );
            osv.verify(fromState, bytes32(0), ctx);
        }
        // The seal follows the last.
        uint256 seal = 2 + BLOCK_TXS;
        (OneStepVerifier.TransactionWitness memory sw, bytes32 sealState) = _witnessAt(_step(2, 0), seal);
        bytes memory sealCtx = _inputCtxAt(2, seal, sw);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, 2, seal));
        osv.verify(sealState, bytes32(0), sealCtx);
        // However many transactions the block included, its seal is `STEP_SEAL`'s.
        sw.state.included = 5000;
        sw.state.cumulativeGas = 29_000_000;
        sealCtx = _inputCtxAt(2, seal, sw);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, 2, seal));
        osv.verify(keccak256(abi.encode(sw.state)), bytes32(0), sealCtx);
        // Position 1 runs the epoch's deposit.
        (OneStepVerifier.TransactionWitness memory d, bytes32 depositState) = _witnessAt(_step(2, 0), 1);
        bytes memory depositCtx = _inputCtxAt(2, 1, d);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_DepositStep.selector, 2, 1));
        osv.verify(depositState, bytes32(0), depositCtx);
        // A block of the same epoch has no deposit: its position 1 is its first transaction.
        Step memory later = _step(4, 0);
        (OneStepVerifier.TransactionWitness memory l, bytes32 laterState) = _witness(later);
        bytes memory laterCtx = _inputCtx(later, l);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_BatchTransactionStep.selector, 4, 1));
        osv.verify(laterState, bytes32(0), laterCtx);
    }

    /// @dev The transaction witness at the deposit's position reverts, and so does it at the
    ///      seal (past the block's transactions), which only `STEP_SEAL` decides: neither is
    ///      passed off as unprovable.
    function test_transaction_notABatchTransaction_reverts() public {
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witnessAt(_step(2, K_TRANSFER), 1);
        bytes memory ctx = _ctxAt(2, 1, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_DepositStep.selector, 2, 1));
        osv.verify(fromState, bytes32(0), ctx);

        uint256 seal = 2 + BLOCK_TXS;
        (w, fromState) = _witnessAt(_step(2, K_TRANSFER), seal);
        ctx = _ctxAt(2, seal, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, 2, seal));
        osv.verify(fromState, bytes32(0), ctx);
    }

    /// @dev Every segment with a transaction of the block must be open: the block spans both of
    ///      record 0's. With a fresh store nothing is.
    function test_transaction_segmentNotOpened_reverts() public {
        SegmentStore fresh = new SegmentStore(inbox, L2_CHAIN_ID);
        OneStepVerifier verifier = new OneStepVerifier(IDepositChain(address(bridge)), fresh);
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 expected,) = _expectIncluded(s, w.state);
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SegmentNotOpened.selector, 0, 0));
        verifier.verify(fromState, expected, ctx);
        // The transaction's own segment is not enough.
        fresh.open(0, batch0, 0);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SegmentNotOpened.selector, 0, 1));
        verifier.verify(fromState, expected, ctx);
        fresh.open(0, batch0, 1);
        assertTrue(verifier.verify(fromState, expected, ctx));
    }

    /// @dev A block whose segment does not decode is empty: its first transaction position is
    ///      its seal, which only `STEP_SEAL` decides.
    function test_transaction_malformedSegment_reverts() public {
        Step memory s = _step(3, 0);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, 3, 1));
        osv.verify(fromState, bytes32(0), ctx);
    }

    /// @dev The leaf must be the position's, under its segment's stored root.
    function test_transaction_badLeaf_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes32[] memory proof = w.txProof;

        w.txProof = new bytes32[](proof.length);
        for (uint256 i; i < proof.length; ++i) {
            w.txProof[i] = proof[i];
        }
        w.txProof[1] = keccak256("another sibling");
        _expectBadWitness(s, w, fromState);

        w.txProof = new bytes32[](proof.length - 1);
        _expectBadWitness(s, w, fromState);
        w.txProof = proof;

        // Another transaction of the block (the legacy one, next in the segment) at this position.
        OneStepVerifier.BatchTx memory own = w.transaction;
        (w.transaction,) = _batchTx(_txOf(2, K_LEGACY));
        _expectBadWitness(s, w, fromState);

        // The transaction with one field changed.
        (w.transaction,) = _batchTx(_txOf(2, K_TRANSFER));
        w.transaction.value += 1;
        _expectBadWitness(s, w, fromState);
        w.transaction = own;
        assertFalse(osv.verify(fromState, bytes32(0), _ctx(s, w)), "intact witness, wrong claim");
    }

    /// @dev The block table must be the record's, and the first segment the block's.
    function test_transaction_badBlockTable_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory table = w.blockTable;

        // Block 1 with one transaction fewer, block 2 with one more: same length, other hash.
        w.blockTable = bytes.concat(table);
        w.blockTable[6] = 0x01;
        w.blockTable[13] = bytes1(uint8(BLOCK_TXS + 1));
        _expectBadWitness(s, w, fromState);

        w.blockTable = Batches.truncate(table, 7);
        _expectBadWitness(s, w, fromState);

        w.blockTable = blockTables[2];
        _expectBadWitness(s, w, fromState);
        w.blockTable = table;

        // Segment 1 does not hold the block's first transaction.
        w.firstSegment = 1;
        _expectBadWitness(s, w, fromState);
    }

    /// @dev A witness that does not open the agreed state.
    function test_transaction_badTraceState_reverts() public {
        Step memory s = _step(2, K_TRANSFER);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        w.context.timestamp += 1;
        _expectBadWitness(s, w, fromState);
        w.context.timestamp -= 1;
        w.parentHeader = L2Headers.header(ORIGIN);
        _expectBadWitness(s, w, fromState);
        w.parentHeader = L2Headers.header(GENESIS);
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(keccak256("another state"), bytes32(0), ctx);
        // The sender's account must be the trie's.
        w.sender.balance += 1;
        ctx = _ctx(s, w);
        vm.expectRevert(SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector);
        osv.verify(fromState, bytes32(0), ctx);
    }

    /// @dev Fuzzed witness bodies of the transaction kind never return: they revert.
    function testFuzz_transaction_garbage_reverts(bytes calldata body, uint256 position) public {
        bytes memory ctx = abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: 2,
                position: position,
                horizonL1Block: block.number,
                witness: abi.encode(STEP_TRANSACTION, body)
            })
        );
        vm.expectRevert();
        osv.verify(keccak256(body), bytes32(0), ctx);
    }

    // ------------------------------------------------------------------ a sender deferred earlier

    /// @dev Block 4 holds alice's transaction with more gas than the block has, then alice's
    ///      transfer with the same nonce, which fits. The step sees one transaction at a time,
    ///      so the second is included whatever happened to the first; `execute_block` must
    ///      include it too (at HEAD it deferred every later transaction of a deferred sender,
    ///      `deferred_senders`, and an honest claim lost this step).
    function test_transaction_afterDeferralOfSameSender_succeeds() public {
        _assertSkipped(_step(4, 0));
        Step memory s = _step(4, 1);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (bytes32 included, AccountTrie.Entry[] memory post) = _expectIncluded(s, w.state);
        _assertAccount(post, alice, 4, 10 ether - 1 ether - 21_000 * 8 gwei);
        _assertAccount(post, CAROL, 5, 8 ether);
        bytes memory ctx = _ctx(s, w);
        assertTrue(osv.verify(fromState, included, ctx), "included");
        assertFalse(osv.verify(fromState, _expectSkipped(w.state), ctx), "not skipped");
    }

    // ------------------------------------------------------------------ transactions

    function _block1Txs() internal pure returns (SegmentBuilder.Tx[] memory txs) {
        txs = new SegmentBuilder.Tx[](2);
        for (uint256 i; i < 2; ++i) {
            txs[i] = _transfer(2, BOB, 1 ether);
            txs[i].nonce = uint64(i);
            txs[i] = _sign(txs[i], DAVE_KEY);
        }
    }

    function _block2Txs() internal pure returns (SegmentBuilder.Tx[] memory txs) {
        txs = new SegmentBuilder.Tx[](BLOCK_TXS);
        txs[K_TRANSFER] = _sign(_transfer(2, BOB, 1 ether), ALICE_KEY);
        txs[K_LEGACY] = _sign(_transfer(0, CAROL, 0.5 ether), ALICE_KEY);
        txs[K_EIP2930] = _sign(_transfer(1, BOB, 2 ether), ALICE_KEY);
        txs[K_SELF] = _sign(_transfer(2, vm.addr(ALICE_KEY), 1 ether), ALICE_KEY);
        SegmentBuilder.Tx memory t = _transfer(2, BOB, 1 ether);
        t.fee = 6 gwei;
        txs[K_LOW_FEE] = _sign(t, ALICE_KEY);
        t = _sign(_transfer(2, BOB, 1 ether), ALICE_KEY);
        t.s = bytes32(SECP256K1N - uint256(t.s));
        t.yParity ^= 1;
        txs[K_HIGH_S] = t;
        t = _transfer(2, BOB, 1 ether);
        t.gasLimit = 20_999;
        txs[K_LOW_GAS] = _sign(t, ALICE_KEY);
        t = _transfer(2, BOB, 1 ether);
        t.priorityFee = 11 gwei;
        txs[K_TIP_ABOVE_FEE] = _sign(t, ALICE_KEY);
        t = _transfer(2, BOB, 1 ether);
        t.data = hex"c0ffee";
        t.gasLimit = 30_000;
        txs[K_CALLDATA] = _sign(t, ALICE_KEY);
        t = _transfer(2, address(0), 0);
        t.isCreate = true;
        t.gasLimit = 60_000;
        txs[K_CREATE] = _sign(t, ALICE_KEY);
        txs[K_TO_CONTRACT] = _sign(_transfer(2, CONTRACT, 1 ether), ALICE_KEY);
        txs[K_PRECOMPILE] = _sign(_transfer(2, address(4), 1 ether), ALICE_KEY);
        t = _transfer(2, BOB, 1 ether);
        t.gasLimit = 30_000;
        t.accessList = new SegmentBuilder.AccessEntry[](1);
        t.accessList[0] = SegmentBuilder.AccessEntry(BOB, new bytes32[](0));
        txs[K_ACCESS_LIST] = _sign(t, ALICE_KEY);
        t = _sign(_transfer(2, BOB, 1 ether), ALICE_KEY);
        t.r = bytes32(0);
        txs[K_NO_SIGNER] = t;
    }

    /// @dev Alice, nonce 3: more gas than a block has, then a transfer that fits.
    function _block4Txs() internal pure returns (SegmentBuilder.Tx[] memory txs) {
        txs = new SegmentBuilder.Tx[](2);
        SegmentBuilder.Tx memory t = _transfer(2, BOB, 1 ether);
        t.gasLimit = uint64(BLOCK_GAS_LIMIT + 1);
        txs[0] = _sign(t, ALICE_KEY);
        txs[1] = _sign(_transfer(2, CAROL, 1 ether), ALICE_KEY);
    }

    /// @dev A transaction of alice's (nonce 3, 21,000 gas), unsigned: EIP-1559 at a max fee
    ///      of 10 gwei with a 1 gwei tip, EIP-2930 at 9 gwei, legacy at 8 gwei.
    function _transfer(uint8 txType, address to, uint256 value) internal pure returns (SegmentBuilder.Tx memory t) {
        t.txType = txType;
        t.nonce = 3;
        t.gasLimit = 21_000;
        t.to = to;
        t.value = value;
        t.fee = txType == 2 ? 10 gwei : txType == 1 ? 9 gwei : 8 gwei;
        t.priorityFee = txType == 2 ? 1 gwei : 0;
    }

    /// @dev The transactions of segment `segment` of record `record`.
    function _segmentTxs(uint256 record, uint256 segment)
        internal
        pure
        override
        returns (SegmentBuilder.Tx[] memory txs)
    {
        if (record == 2) return _block4Txs();
        SegmentBuilder.Tx[] memory block2 = _block2Txs();
        if (segment == 1) {
            txs = new SegmentBuilder.Tx[](2 + BLOCK_TXS - SEGMENT_0_TXS);
            for (uint256 i; i < txs.length; ++i) {
                txs[i] = block2[SEGMENT_0_TXS - 2 + i];
            }
            return txs;
        }
        txs = new SegmentBuilder.Tx[](SEGMENT_0_TXS);
        SegmentBuilder.Tx[] memory block1 = _block1Txs();
        (txs[0], txs[1]) = (block1[0], block1[1]);
        for (uint256 i = 2; i < SEGMENT_0_TXS; ++i) {
            txs[i] = block2[i - 2];
        }
    }

    /// @dev Batch transaction `k` of L2 block `l2Block` (2 or 4).
    function _txOf(uint256 l2Block, uint256 k) internal pure returns (SegmentBuilder.Tx memory) {
        return l2Block == 4 ? _block4Txs()[k] : _block2Txs()[k];
    }

    /// @dev Where batch transaction `k` of `l2Block` sits: its record, segment and index there.
    function _locate(uint256 l2Block, uint256 k)
        internal
        pure
        returns (uint256 record, uint256 segment, uint256 index)
    {
        if (l2Block == 3) return (1, 0, 0);
        if (l2Block == 4) return (2, 0, k);
        index = 2 + k;
        if (index >= SEGMENT_0_TXS) (segment, index) = (1, index - SEGMENT_0_TXS);
    }

    // ------------------------------------------------------------------ states and witnesses

    /// @dev The default step at batch transaction `k` of `l2Block`: alice (nonce 3, 10 ETH),
    ///      bob (1 ETH), carol (nonce 5, 7 ETH) and a contract; the block's context with a
    ///      base fee of 7 gwei and the zero beneficiary (as the node builds blocks); for block
    ///      2 the deposit's 21,000 gas already used.
    function _step(uint256 l2Block, uint256 k) internal view returns (Step memory s) {
        s.l2Block = l2Block;
        s.k = k;
        s.pre = new AccountTrie.Entry[](4);
        s.pre[0] = AccountTrie.Entry(alice, 3, 10 ether, EMPTY);
        s.pre[1] = AccountTrie.Entry(BOB, 0, 1 ether, EMPTY);
        s.pre[2] = AccountTrie.Entry(CAROL, 5, 7 ether, EMPTY);
        s.pre[3] = AccountTrie.Entry(CONTRACT, 1, 0, keccak256("code"));
        s.context = L2Headers.context(l2Block, ORIGIN, _parentOrigin(l2Block));
        s.context.baseFee = BASE_FEE;
        s.cumulativeGas = l2Block == 2 ? 21_000 : 0;
    }

    /// @dev The block table, the first segment, the transaction and its leaf's proof.
    function _leafWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view override {
        (uint256 record, uint256 segment, uint256 index) = _locate(s.l2Block, s.k);
        w.blockTable = blockTables[record];
        w.firstSegment = 0;
        if (s.l2Block == 3) return;
        _fillLeaf(w, _txOf(s.l2Block, s.k), record, segment, index);
    }

    /// @dev The sender against the agreed root, then (when it can pay) the recipient and the
    ///      beneficiary against the roots after the updates before theirs.
    function _accountWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view override {
        (w.sender, w.senderProof) = AccountTrie.prove(s.pre, alice);
        if (s.l2Block == 3 || !_canPay(s)) return;
        (AccountTrie.Entry[] memory afterSender, AccountTrie.Entry[] memory afterRecipient,) = _afterTransfer(s);
        (w.recipient, w.recipientProof) = AccountTrie.prove(afterSender, _txOf(s.l2Block, s.k).to);
        (w.beneficiary, w.beneficiaryProof) = AccountTrie.prove(afterRecipient, s.context.beneficiary);
    }

    /// @dev Whether alice can pay the transaction at its effective price (whether or not revm
    ///      admits it): the accounts after it are then defined.
    function _canPay(Step memory s) internal view returns (bool) {
        SegmentBuilder.Tx memory t = _txOf(s.l2Block, s.k);
        (, AccountTrie.Entry memory sender) = AccountTrie.get(s.pre, alice);
        return t.fee >= s.context.baseFee && sender.balance >= _gasOf(t) * _price(t, s.context) + t.value;
    }

    /// @dev The gas a call that runs no code uses under Prague, computed here independently of
    ///      the verifier: intrinsic gas (calldata and access list) or the EIP-7623 floor.
    function _gasOf(SegmentBuilder.Tx memory t) internal pure returns (uint256) {
        uint256 zeros;
        for (uint256 i; i < t.data.length; ++i) {
            if (t.data[i] == 0) ++zeros;
        }
        uint256 others = t.data.length - zeros;
        uint256 gas = 21_000 + 4 * zeros + 16 * others;
        for (uint256 i; i < t.accessList.length; ++i) {
            gas += 2400 + 1900 * t.accessList[i].keys.length;
        }
        uint256 floor = 21_000 + 10 * (zeros + 4 * others);
        return gas > floor ? gas : floor;
    }

    /// @dev The effective gas price: the max fee, capped for EIP-1559 at base fee plus tip.
    function _price(SegmentBuilder.Tx memory t, OneStepVerifier.BlockContext memory c)
        internal
        pure
        returns (uint256 price)
    {
        price = t.fee;
        if (t.txType == 2 && c.baseFee + t.priorityFee < price) price = c.baseFee + t.priorityFee;
    }

    /// @dev The states after alice's transfer `s.k` (21,000 gas) updates her, the recipient
    ///      and the beneficiary, in that order (the tip to the beneficiary, the rest of the
    ///      fee burnt).
    function _afterTransfer(Step memory s)
        internal
        view
        returns (
            AccountTrie.Entry[] memory afterSender,
            AccountTrie.Entry[] memory afterRecipient,
            AccountTrie.Entry[] memory post
        )
    {
        SegmentBuilder.Tx memory t = _txOf(s.l2Block, s.k);
        uint256 price = _price(t, s.context);
        uint256 gas = _gasOf(t);
        uint256 tip = gas * (price - s.context.baseFee);
        address beneficiary = s.context.beneficiary;
        (, AccountTrie.Entry memory a) = AccountTrie.get(s.pre, alice);
        uint256 balance = a.balance - gas * price - t.value;
        if (t.to == alice) balance += t.value;
        if (beneficiary == alice) balance += tip;
        afterSender = AccountTrie.set(s.pre, alice, a.nonce + 1, balance, a.codeHash);
        afterRecipient = afterSender;
        if (t.to != alice) {
            (bool found, AccountTrie.Entry memory r) = AccountTrie.get(afterSender, t.to);
            balance = r.balance + t.value + (beneficiary == t.to ? tip : 0);
            afterRecipient = AccountTrie.set(afterSender, t.to, r.nonce, balance, found ? r.codeHash : EMPTY);
        }
        post = afterRecipient;
        if (beneficiary != alice && beneficiary != t.to) {
            (bool found, AccountTrie.Entry memory b) = AccountTrie.get(afterRecipient, beneficiary);
            post = AccountTrie.set(afterRecipient, beneficiary, b.nonce, b.balance + tip, found ? b.codeHash : EMPTY);
        }
    }

    /// @dev The next trace state of an included transfer, and the post-state it commits to.
    function _expectIncluded(Step memory s, OneStepVerifier.TraceState memory state)
        internal
        view
        returns (bytes32 next, AccountTrie.Entry[] memory post)
    {
        SegmentBuilder.Tx memory t = _txOf(s.l2Block, s.k);
        (,, post) = _afterTransfer(s);
        next = _includedState(state, t, _gasOf(t), AccountTrie.root(post));
    }

    function _without(AccountTrie.Entry[] memory state, address account)
        internal
        pure
        returns (AccountTrie.Entry[] memory)
    {
        return AccountTrie.set(state, account, 0, 0, EMPTY);
    }

    function _assertAccount(AccountTrie.Entry[] memory state, address account, uint64 nonce, uint256 balance)
        internal
        pure
    {
        (bool found, AccountTrie.Entry memory entry) = AccountTrie.get(state, account);
        assertTrue(found, "account exists");
        assertEq(entry.nonce, nonce, "nonce");
        assertEq(entry.balance, balance, "balance");
    }

    // ------------------------------------------------------------------ assertions

    /// @dev The step leaves everything but `inputs` as it was: that claim holds, the included
    ///      one (where defined) does not.
    function _assertSkipped(Step memory s) internal {
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        assertTrue(osv.verify(fromState, _expectSkipped(w.state), ctx), "skipped: only inputs moves");
        if (_canPay(s)) {
            (bytes32 included,) = _expectIncluded(s, w.state);
            assertFalse(osv.verify(fromState, included, ctx), "not included");
        }
    }

    /// @dev The step reverts `NotProvableYet`, but only because the transaction would be
    ///      included: with a nonce revm refuses, the same transaction is skipped.
    function _assertUnprovable(Step memory s) internal {
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, s.l2Block, _position(s)));
        osv.verify(fromState, bytes32(0), ctx);
        (, AccountTrie.Entry memory sender) = AccountTrie.get(s.pre, alice);
        s.pre = AccountTrie.set(s.pre, alice, sender.nonce + 1, sender.balance, sender.codeHash);
        _assertSkipped(s);
    }
}
