// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VerifierStepBase} from "test/dispute/VerifierStepBase.sol";
import {AccountTrie} from "test/utils/AccountTrie.sol";
import {Batches} from "test/utils/Batches.sol";
import {L2Headers} from "test/utils/L2Headers.sol";
import {L2BlockHeaders} from "test/utils/L2BlockHeaders.sol";
import {SegmentBuilder} from "test/dispute/SegmentBuilder.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";

/// @notice Blocks spanning batches (`BatchInbox.OPEN_FLAG`) in the one-step verifier, against a
///         real `BatchInbox` holding real batches of transactions signed here, a real
///         `SegmentStore` that opened every segment (`ok` as the segment's bytes make it) and a
///         real `L1Bridge` whose deposit chain puts one deposit before block 2's batch
///         transactions. Expected next states are built without the verifier (`AccountTrie`,
///         `OrderedTries`, `SegmentBuilder`), the sealed header with `L2BlockHeaders`.
///
///         Records (L2 block: transactions `k` of that block; each record posted one L1 block
///         after the one before, so their `l1Block`s differ; "open": the record leaves its
///         last block open):
///         - record 0 (open): block 1 (two fillers), block 2 (origin ORIGIN, one deposit)
///           k = 0-2. Segments: [1:0, 1:1], [2:0, 2:1], [2:2]: block 2 starts in segment 1;
///         - record 1 (open): block 2 k = 3-4, one segment;
///         - record 2: block 2 k = 5-6, block 3 k = 0. Segments [2:5], [2:6, 3:0]. Block 2
///           spans records 0-2 (seven transactions, the seal at k = 7) and record 2 is its
///           record (`recordOf`);
///         - record 3 (open): block 4 k = 0-1, segments [4:0] and one that does not decode
///           (4:1); record 4: block 4 k = 2. Block 4 is empty (a segment of its earlier part
///           does not decode);
///         - record 5 (open): block 5 k = 0; record 6: block 5 k = 1 in a segment that does not
///           decode. Block 5 is empty (its later part does not decode);
///         - record 7 (open): block 6 k = 0; record 8 (open): block 6 k = 1, block 7 k = 0-1,
///           segments [6:1], [7:0, 7:1]; record 9: block 7 k = 2. Block 6 is closed by a
///           record holding another block, and block 7 is opened by a record that itself
///           continued an open block.
contract OneStepVerifierSpanningTest is VerifierStepBase {
    uint256 internal constant L2_GAS_LIMIT = 30_000_000;

    /// @dev Block 2's batch transactions over its three parts (3 + 2 + 2).
    uint256 internal constant SPAN_TXS = 7;
    /// @dev Records the layout knows (10 and 11 are posted by one test only).
    uint256 internal constant LAYOUT_RECORDS = 12;

    /// @dev Each record's batch as posted (its block table in `blockTables`).
    bytes[] internal batches;

    function setUp() public {
        _setUpVerifier();

        Batches.Block[] memory blocks = new Batches.Block[](2);
        blocks[0] = _block(0, 2, 2);
        blocks[1] = _block(1, 12, 3);
        _postRecord(1, blocks, true); // record 0
        _postRecord(0, _one(1, 12, 2), true); // record 1
        blocks = new Batches.Block[](2);
        blocks[0] = _block(1, 12, 2);
        blocks[1] = _block(0, 2, 1);
        _postRecord(0, blocks, false); // record 2
        _postRecord(0, _one(0, 2, 2), true); // record 3
        _postRecord(0, _one(0, 2, 1), false); // record 4
        _postRecord(0, _one(0, 2, 1), true); // record 5
        _postRecord(0, _one(0, 2, 1), false); // record 6
        _postRecord(0, _one(0, 2, 1), true); // record 7
        blocks = new Batches.Block[](2);
        blocks[0] = _block(0, 2, 1);
        blocks[1] = _block(0, 2, 2);
        _postRecord(0, blocks, true); // record 8
        _postRecord(0, _one(0, 2, 1), false); // record 9
        assertEq(inbox.nextBlock(), 8);

        for (uint256 r; r < batches.length; ++r) {
            for (uint256 s; s < _segmentCount(r); ++s) {
                assertEq(store.open(r, batches[r], s).ok, !_isNoise(_layout(r, s)[0]), "opened as built");
            }
        }
    }

    // ------------------------------------------------------------------ the inbox's view

    /// @dev What the verifier reads of the inbox: each spanning block's record is the one that
    ///      closes it, and the open records say how many of its transactions they hold.
    function test_spanning_inboxRecords_succeeds() public view {
        for (uint64 b = 2; b <= 7; ++b) {
            assertEq(inbox.recordOf(b), _closingRecord(b), "closing record");
        }
        BatchInbox.Record memory r0 = inbox.records(0);
        assertTrue(r0.lastBlockOpen);
        assertEq(r0.txCount, 5);
        assertEq(r0.lastBlockTxs, 3);
        BatchInbox.Record memory r1 = inbox.records(1);
        assertTrue(r1.lastBlockOpen);
        assertEq(r1.firstBlockTxOffset, 3);
        assertEq(r1.lastBlockTxs, 2);
        BatchInbox.Record memory r2 = inbox.records(2);
        assertFalse(r2.lastBlockOpen);
        assertEq(r2.firstBlock, 2);
        assertEq(r2.firstBlockTxOffset, 5);
        // Every record was posted in an L1 block of its own.
        assertLt(r0.l1Block, r1.l1Block, "record 1 later");
        assertLt(r1.l1Block, r2.l1Block, "record 2 later");
        // Record 8 continues block 6 and leaves block 7 open: its open block starts in it.
        BatchInbox.Record memory r8 = inbox.records(8);
        assertTrue(r8.lastBlockOpen);
        assertEq(r8.blockCount, 2);
        assertEq(r8.firstBlockTxOffset, 1);
        assertEq(r8.lastBlockTxs, 2);
        assertEq(inbox.records(9).firstBlockTxOffset, 2);
        // Record 7 still says it left block 6 open (only `forceInclude` clears the flag).
        assertTrue(inbox.records(7).lastBlockOpen);
    }

    // ------------------------------------------------------------------ batch transactions

    /// @dev Every transaction of block 2, in each of its three parts (the two open records and
    ///      the closing one, in their first, middle and last segments), is proven against its
    ///      own segment and included: exactly the independently built next state.
    function test_spanning_everyPartIncluded_succeeds() public {
        for (uint256 k; k < SPAN_TXS; ++k) {
            _assertIncluded(_step(2, k));
        }
    }

    /// @dev A transaction of the earlier part (record 0's segment 2, the open record's last)
    ///      and one of the later part (record 2's segment 1): included, not skipped, and no
    ///      other next state.
    function test_spanning_earlierAndLaterPart_succeeds() public {
        (uint256 record, uint256 segment,) = _locate(2, 2);
        assertEq(record, 0, "an earlier part");
        assertEq(segment, 2);
        Step memory s = _step(2, 2);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        assertTrue(osv.verify(fromState, _expectIncluded(s, w.state), ctx), "earlier part included");
        assertFalse(osv.verify(fromState, _expectSkipped(w.state), ctx), "earlier part not skipped");
        assertFalse(osv.verify(fromState, keccak256("wrong"), ctx), "earlier part, a wrong state");

        (record, segment,) = _locate(2, 6);
        assertEq(record, 2, "the closing record");
        assertEq(segment, 1);
        s = _step(2, 6);
        (w, fromState) = _witness(s);
        ctx = _ctx(s, w);
        assertTrue(osv.verify(fromState, _expectIncluded(s, w.state), ctx), "later part included");
        assertFalse(osv.verify(fromState, _expectSkipped(w.state), ctx), "later part not skipped");
        // The same transaction skipped by its nonce: only `inputs` moves.
        s.pre = AccountTrie.set(s.pre, alice, 4, 10 ether, EMPTY);
        (w, fromState) = _witness(s);
        assertTrue(osv.verify(fromState, _expectSkipped(w.state), _ctx(s, w)), "later part skipped");
    }

    /// @dev A block closed by a record holding another block after it (block 6: record 7, then
    ///      record 8), and the other blocks of a closing record (block 3, after block 2's last
    ///      part in record 2): their transactions are found where they are.
    function test_spanning_closingRecordWithMoreBlocks_succeeds() public {
        _assertIncluded(_step(6, 0));
        _assertIncluded(_step(6, 1));
        _assertIncluded(_step(3, 0));
    }

    /// @dev The leaf must be the position's: another transaction of the block (from the next
    ///      position, or from the other part), a proof of another shape, or the first segment
    ///      of another record all fail.
    function test_spanning_wrongLeaf_reverts() public {
        // Middle part (record 1): k = 4's transaction at k = 3's position.
        Step memory s = _step(2, 3);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        (OneStepVerifier.TransactionWitness memory other,) = _witness(_step(2, 4));
        w.transaction = other.transaction;
        w.txProof = other.txProof;
        _expectBadWitness(s, w, fromState);

        // Later part: k = 5 is alone in record 2's segment 0 (no siblings); k = 6's
        // transaction with its proof is refused there.
        s = _step(2, 5);
        (w, fromState) = _witness(s);
        assertEq(w.txProof.length, 0, "a segment of one");
        (other,) = _witness(_step(2, 6));
        w.transaction = other.transaction;
        w.txProof = other.txProof;
        _expectBadWitness(s, w, fromState);
        w.txProof = new bytes32[](0);
        _expectBadWitness(s, w, fromState);

        // k = 0 (earlier part) at the position of k = 5 (later part): same witness, wrong index.
        s = _step(2, 0);
        (w, fromState) = _witnessAt(s, _position(_step(2, 5)));
        _expectBadWitnessAt(2, _position(_step(2, 5)), w, fromState);
        // And k = 5 at the position of k = 0.
        (w, fromState) = _witnessAt(_step(2, 5), _position(s));
        _expectBadWitnessAt(2, _position(s), w, fromState);
        // k = 1 (record 0's segment 1, index 1 of 2) at the position of k = 3 (record 1's
        // segment 0, index 0 of 2): a proof of the right shape under the wrong root.
        (w, fromState) = _witnessAt(_step(2, 1), _position(_step(2, 3)));
        assertEq(w.txProof.length, 1);
        _expectBadWitnessAt(2, _position(_step(2, 3)), w, fromState);

        // A sibling changed.
        s = _step(2, 1);
        (w, fromState) = _witness(s);
        w.txProof[0] = keccak256("another sibling");
        _expectBadWitness(s, w, fromState);
    }

    /// @dev The first segment is the segment of record 0 (where block 2 starts) holding its
    ///      first transaction, whatever part the step's transaction is in; the block table is
    ///      the closing record's, not an open one's.
    function test_spanning_badFirstSegmentOrTable_reverts() public {
        uint256[2] memory ks = [uint256(1), 6];
        for (uint256 i; i < 2; ++i) {
            Step memory s = _step(2, ks[i]);
            (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
            assertEq(w.firstSegment, 1);
            assertTrue(osv.verify(fromState, _expectIncluded(s, w.state), _ctx(s, w)));
            // Segment 0 holds only block 1's; segment 2 starts after block 2's first.
            w.firstSegment = 0;
            _expectBadWitness(s, w, fromState);
            w.firstSegment = 2;
            _expectBadWitness(s, w, fromState);
            // The first segment right, the table of an open record (0 or 1).
            w.firstSegment = 1;
            w.blockTable = blockTables[0];
            _expectBadWitness(s, w, fromState);
            w.blockTable = blockTables[1];
            _expectBadWitness(s, w, fromState);
        }
    }

    /// @dev Every segment of every part must be open, even after the step's transaction: with a
    ///      fresh store, the step asks for each in turn (record 0's segments 1 and 2, record 1's,
    ///      record 2's 0 and 1) for a transaction in record 2's segment 0.
    function test_spanning_segmentNotOpened_reverts() public {
        SegmentStore fresh = new SegmentStore(inbox, L2_CHAIN_ID);
        OneStepVerifier verifier = new OneStepVerifier(IDepositChain(address(bridge)), fresh);
        Step memory s = _step(2, 5);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes32 expected = _expectIncluded(s, w.state);
        bytes memory ctx = _ctx(s, w);
        uint256[2][5] memory needed =
            [[uint256(0), 1], [uint256(0), 2], [uint256(1), 0], [uint256(2), 0], [uint256(2), 1]];
        for (uint256 i; i < needed.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    OneStepVerifier.OneStepVerifier_SegmentNotOpened.selector, needed[i][0], needed[i][1]
                )
            );
            verifier.verify(fromState, expected, ctx);
            fresh.open(needed[i][0], batches[needed[i][0]], needed[i][1]);
        }
        assertTrue(verifier.verify(fromState, expected, ctx));
    }

    // ------------------------------------------------------------------ the position's kind

    /// @dev Positions 2..8 of block 2 (after its deposit) run its seven batch transactions,
    ///      over its three parts: the input witness is refused there. Position 9 (k = 7, the
    ///      total over the parts) is the seal, for the input and the transaction witness;
    ///      position 10 is past it.
    function test_spanning_sealAfterLastPart_reverts() public {
        for (uint256 k; k < SPAN_TXS; ++k) {
            Step memory s = _step(2, k);
            (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
            bytes memory ctx = _inputCtxAt(2, _position(s), w);
            vm.expectRevert(
                abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_BatchTransactionStep.selector, 2, _position(s))
            );
            osv.verify(fromState, bytes32(0), ctx);
        }
        _expectSealStep(2, 2 + SPAN_TXS);
        _expectPastSeal(2, 3 + SPAN_TXS);
        // Block 3, after block 2's last part in record 2: one transaction, then its seal.
        _expectSealStep(3, 2);
        // Block 6 (closed by record 8, which holds block 7 too): two transactions.
        _expectSealStep(6, 3);
        // The deposit's position stays the deposit's.
        (OneStepVerifier.TransactionWitness memory d, bytes32 depositState) = _witnessAt(_step(2, 0), 1);
        bytes memory depositCtx = _ctxAt(2, 1, d);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_DepositStep.selector, 2, 1));
        osv.verify(depositState, bytes32(0), depositCtx);
    }

    // ------------------------------------------------------------------ empty blocks

    /// @dev Block 4's earlier part (record 3) has a segment that does not decode: the block
    ///      keeps none of its transactions, so position 1 (k = 0) is its seal, although k = 0's
    ///      own segment decodes and so does the closing record's; a later position is not a
    ///      provable transaction. The seal there is accepted.
    function test_spanning_earlierPartNotDecoding_reverts() public {
        assertTrue(store.segments(3, 0).ok);
        assertFalse(store.segments(3, 1).ok);
        assertTrue(store.segments(4, 0).ok);
        _expectSealStep(4, 1);
        // k = 2, in the closing record's decoding segment: the block has no such transaction.
        Step memory s = _step(4, 2);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        vm.expectRevert(abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, 4, 3));
        osv.verify(fromState, _expectIncluded(s, w.state), ctx);
        // The seal at position 1 names the closing record.
        _assertSeal(4, 1, 4);
    }

    /// @dev Block 5's later part (record 6) does not decode: its earlier part's transaction,
    ///      whose segment decodes, is not run either: position 1 is the seal.
    function test_spanning_laterPartNotDecoding_reverts() public {
        assertTrue(store.segments(5, 0).ok);
        assertFalse(store.segments(6, 0).ok);
        _expectSealStep(5, 1);
        _assertSeal(5, 1, 6);
    }

    /// @dev The contrast: when every segment of both parts decodes (block 6), position 1 runs
    ///      the earlier part's transaction.
    function test_spanning_allPartsDecode_succeeds() public {
        Step memory s = _step(6, 0);
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _inputCtxAt(6, 1, w);
        vm.expectRevert(abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_BatchTransactionStep.selector, 6, 1));
        osv.verify(fromState, bytes32(0), ctx);
    }

    // ------------------------------------------------------------------ the seal

    /// @dev Block 2's seal (position 9) builds the output root naming its closing record 2
    ///      (`recordOf`), block 0 of it and that record's L1 block: not the open records 0 or
    ///      1, nor block 1 of record 0 (where the block started).
    function test_spanning_sealNamesClosingRecord_succeeds() public {
        uint256 position = 2 + SPAN_TXS;
        (OneStepVerifier.SealWitness memory w, bytes32 fromState) = _sealWitness(2, position);
        bytes memory ctx = _sealCtx(2, position, w);
        Withdrawals.OutputRoot memory output = _sealOutput(w, 2, 0);
        assertEq(output.inboxRecord, inbox.recordOf(2));
        assertEq(output.l1Block, inbox.records(2).l1Block);
        assertTrue(osv.verify(fromState, Withdrawals.hashOutputRoot(output), ctx), "the closing record");

        assertFalse(osv.verify(fromState, Withdrawals.hashOutputRoot(_sealOutput(w, 0, 1)), ctx), "record 0");
        assertFalse(osv.verify(fromState, Withdrawals.hashOutputRoot(_sealOutput(w, 1, 0)), ctx), "record 1");
        output = _sealOutput(w, 2, 0);
        output.l1Block = inbox.records(0).l1Block;
        assertFalse(osv.verify(fromState, Withdrawals.hashOutputRoot(output), ctx), "record 0's L1 block");
        output = _sealOutput(w, 2, 0);
        output.blockInRecord = 1;
        assertFalse(osv.verify(fromState, Withdrawals.hashOutputRoot(output), ctx), "another block of it");

        // Not before the last part's last transaction.
        (OneStepVerifier.SealWitness memory early, bytes32 earlyState) = _sealWitness(2, position - 1);
        bytes memory earlyCtx = _sealCtx(2, position - 1, early);
        vm.expectRevert(
            abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_BatchTransactionStep.selector, 2, position - 1)
        );
        osv.verify(earlyState, bytes32(0), earlyCtx);
        // Nor with an open record's table.
        w.blockTable = blockTables[0];
        ctx = _sealCtx(2, position, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(fromState, bytes32(0), ctx);
    }

    /// @dev Block 6's seal names record 8 (which closes it and holds block 7 too), block 0.
    function test_spanning_sealOfBlockClosedWithOthers_succeeds() public {
        _assertSeal(6, 3, 8);
        // Block 3, the second block of block 2's closing record: block 1 of record 2.
        (OneStepVerifier.SealWitness memory w, bytes32 fromState) = _sealWitness(3, 2);
        assertTrue(
            osv.verify(fromState, Withdrawals.hashOutputRoot(_sealOutput(w, 2, 1)), _sealCtx(3, 2, w)), "block 3"
        );
    }

    // ------------------------------------------------------------------ the preamble

    /// @dev Block 2's preamble reads its deltas from the closing record's table (whose entry
    ///      repeats the opening one): origin ORIGIN, 12 seconds after its parent. An open
    ///      record's table is refused.
    function test_spanning_preamble_succeeds() public {
        uint256 t0 = chain.timestampOf(GENESIS);
        // casting to 'uint64' is safe: GENESIS is a small constant
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 genesis = uint64(GENESIS);
        L2BlockHeaders.Header memory parent = L2BlockHeaders.make(
            keccak256("genesis"),
            1,
            t0 + 2,
            genesis,
            chain.hashOf(GENESIS),
            bytes32(0),
            L2_GAS_LIMIT,
            15_000_000,
            1 gwei
        );
        bytes memory parentHeader = L2BlockHeaders.encode(parent);
        OneStepVerifier.PreambleWitness memory w = OneStepVerifier.PreambleWitness({
            parent: Withdrawals.OutputRoot({
                version: Withdrawals.OUTPUT_ROOT_VERSION,
                l2BlockNumber: 1,
                stateRoot: parent.stateRoot,
                l2BlockHash: keccak256(parentHeader),
                inboxRecord: 0,
                blockInRecord: 0,
                l1Block: inbox.records(0).l1Block
            }),
            parentHeader: parentHeader,
            blockTable: blockTables[2],
            originHeader: chain.header(ORIGIN)
        });
        OneStepVerifier.BlockContext memory context = OneStepVerifier.BlockContext({
            parentHash: keccak256(parentHeader),
            number: 2,
            timestamp: t0 + 14,
            l1OriginNumber: ORIGIN,
            l1OriginHash: chain.hashOf(ORIGIN),
            // The parent used exactly its target: the base fee stays.
            baseFee: 1 gwei,
            gasLimit: L2_GAS_LIMIT,
            beneficiary: address(0),
            prevrandao: keccak256(abi.encode("randao", ORIGIN))
        });
        bytes32 fromState = Withdrawals.hashOutputRoot(w.parent);
        bytes32 expected = _firstState(parent.stateRoot, context);
        assertTrue(osv.verify(fromState, expected, _preambleCtx(w)), "the block's first trace state");
        context.timestamp += 1;
        assertFalse(osv.verify(fromState, _firstState(parent.stateRoot, context), _preambleCtx(w)), "a second later");
        context.timestamp -= 1;
        context.l1OriginNumber -= 1;
        context.l1OriginHash = chain.hashOf(GENESIS);
        context.prevrandao = bytes32(0);
        assertFalse(osv.verify(fromState, _firstState(parent.stateRoot, context), _preambleCtx(w)), "no new origin");

        for (uint256 r; r < 2; ++r) {
            w.blockTable = blockTables[r];
            bytes memory ctx = _preambleCtx(w);
            vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
            osv.verify(fromState, expected, ctx);
        }
    }

    /// @dev Block 2's first trace state with `context`.
    function _firstState(bytes32 stateRoot, OneStepVerifier.BlockContext memory context)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                OneStepVerifier.TraceState({
                    version: 2,
                    l2Block: 2,
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

    // ------------------------------------------------------------------ open, then closed

    /// @dev Block 8 stays out of the inbox while open (no step of it is decided), then
    ///      `forceInclude` closes it after a continuation: its two parts are records 10 and 11,
    ///      its seal names record 11 (not the forced record after it).
    function test_spanning_closedByForceInclude_succeeds() public {
        _postRecord(0, _one(0, 2, 1), true); // record 10
        _postRecord(0, _one(0, 2, 1), true); // record 11
        assertEq(inbox.nextBlock(), 8);
        {
            Step memory s = _step(8, 0);
            (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
            bytes memory ctx = _ctx(s, w);
            vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, 8));
            osv.verify(fromState, bytes32(0), ctx);
        }
        for (uint256 r = 10; r < 12; ++r) {
            assertTrue(store.open(r, batches[r], 0).ok);
        }

        chain.roll(GENESIS + 2 + WINDOW - block.number);
        inbox.forceInclude(chain.headers(GENESIS + 2, GENESIS + 2));
        assertEq(inbox.recordOf(8), 11);
        assertEq(inbox.records(12).firstBlock, 9);
        assertFalse(inbox.records(11).lastBlockOpen);
        assertTrue(inbox.records(10).lastBlockOpen);

        _assertIncluded(_step(8, 0));
        _assertIncluded(_step(8, 1));
        _expectSealStep(8, 3);
        _assertSeal(8, 3, 11);
    }

    // ------------------------------------------------------------------ a block opened by a continuation

    /// @dev Block 7 starts in record 8, which itself continued block 6 (left open by record 7),
    ///      and ends in record 9: its parts are record 8's last two transactions and record 9's
    ///      one. Record 7 still has `lastBlockOpen` set (for block 6), but holds none of block 7.
    ///      So position 1 runs the transaction in record 8's segment 1 (the first segment),
    ///      position 3 the one in record 9, and position 4 is the seal. (Against the verifier
    ///      as first written this fails: `_blockParts` walks back over every record with
    ///      `lastBlockOpen`, so it takes record 7, which left block 6 open, for block 7's first
    ///      part and asks for its segment 1, `OneStepVerifier_SegmentNotOpened(7, 1)`.)
    function test_spanning_blockOpenedByContinuation_succeeds() public {
        assertEq(inbox.recordOf(7), 9);
        assertEq(inbox.records(9).firstBlockTxOffset, 2, "the inbox: two transactions before record 9");
        _assertIncluded(_step(7, 0));
        _assertIncluded(_step(7, 2));
        _expectSealStep(7, 4);
        _assertSeal(7, 4, 9);
    }

    // ------------------------------------------------------------------ the layout

    /// @dev The transactions of segment `segment` of record `record`, each as
    ///      `l2Block * 100 + k` (see the contract's notice).
    function _layout(uint256 record, uint256 segment) internal pure returns (uint256[] memory) {
        if (record == 0) {
            if (segment == 0) return _list(100, 101);
            if (segment == 1) return _list(200, 201);
            return _list(202);
        }
        if (record == 1) return _list(203, 204);
        if (record == 2) return segment == 0 ? _list(205) : _list(206, 300);
        if (record == 3) return segment == 0 ? _list(400) : _list(401);
        if (record == 4) return _list(402);
        if (record == 5) return _list(500);
        if (record == 6) return _list(501);
        if (record == 7) return _list(600);
        if (record == 8) return segment == 0 ? _list(601) : _list(700, 701);
        if (record == 9) return _list(702);
        if (record == 10) return _list(800);
        return _list(801);
    }

    function _segmentCount(uint256 record) internal pure returns (uint256) {
        if (record == 0) return 3;
        if (record == 2 || record == 3 || record == 8) return 2;
        return 1;
    }

    /// @dev The segments that do not decode hold these.
    function _isNoise(uint256 id) internal pure returns (bool) {
        return id == 401 || id == 501;
    }

    /// @dev The record closing (holding, for `recordOf`) each block.
    function _closingRecord(uint256 l2Block) internal pure returns (uint256) {
        uint8[9] memory records = [0, 0, 2, 2, 4, 6, 8, 9, 11];
        return records[l2Block];
    }

    function _list(uint256 a) internal pure returns (uint256[] memory l) {
        l = new uint256[](1);
        l[0] = a;
    }

    function _list(uint256 a, uint256 b) internal pure returns (uint256[] memory l) {
        l = new uint256[](2);
        (l[0], l[1]) = (a, b);
    }

    function _one(uint8 originDelta, uint32 timestampDelta, uint16 txCount)
        internal
        pure
        returns (Batches.Block[] memory blocks)
    {
        blocks = new Batches.Block[](1);
        blocks[0] = _block(originDelta, timestampDelta, txCount);
    }

    /// @dev Posts the next record with its layout's segments, keeps its batch and table, and
    ///      moves L1 on by a block.
    function _postRecord(uint256 headerCount, Batches.Block[] memory blocks, bool open) internal {
        uint256 record = inbox.recordCount();
        Batches.Segment[] memory segments = new Batches.Segment[](_segmentCount(record));
        for (uint256 s; s < segments.length; ++s) {
            uint256[] memory ids = _layout(record, s);
            bytes memory data =
                _isNoise(ids[0]) ? Batches.noise(64, record) : SegmentBuilder.segment(_segmentTxs(record, s));
            // casting to 'uint16' is safe: at most two transactions
            // forge-lint: disable-next-line(unsafe-typecast)
            segments[s] = Batches.Segment(data, uint16(ids.length));
        }
        Batches.Batch memory batch = _batch(headerCount, blocks, segments);
        batch.open = open;
        bytes memory encoded = Batches.encode(batch);
        assertEq(_post(encoded), record);
        assertEq(inbox.records(record).lastBlockOpen, open);
        batches.push(encoded);
        blockTables.push(Batches.blockTable(blocks));
        chain.roll(1);
    }

    /// @dev Where transaction `k` of `l2Block` sits: its record, segment and index there.
    function _locate(uint256 l2Block, uint256 k)
        internal
        pure
        returns (uint256 record, uint256 segment, uint256 index)
    {
        uint256 id = l2Block * 100 + k;
        for (record = 0; record < LAYOUT_RECORDS; ++record) {
            for (segment = 0; segment < _segmentCount(record); ++segment) {
                uint256[] memory ids = _layout(record, segment);
                for (index = 0; index < ids.length; ++index) {
                    if (ids[index] == id) return (record, segment, index);
                }
            }
        }
        revert("no such transaction");
    }

    /// @dev The segment holding the block's first transaction (in the record it starts in).
    function _firstSegment(uint256 l2Block) internal pure returns (uint256 segment) {
        (, segment,) = _locate(l2Block, 0);
    }

    // ------------------------------------------------------------------ transactions

    /// @dev Transaction `id` (`l2Block * 100 + k`): block 1's are dave's fillers; every other is
    ///      alice's EIP-1559 transfer to bob (nonce 3, 21,000 gas, max fee 10 gwei, tip 1 gwei)
    ///      of a value of its own, so that no two leaves are alike.
    function _txOf(uint256 id) internal pure returns (SegmentBuilder.Tx memory t) {
        t.txType = 2;
        t.gasLimit = 21_000;
        t.to = BOB;
        t.fee = 10 gwei;
        t.priorityFee = 1 gwei;
        if (id / 100 == 1) {
            // casting to 'uint64' is safe: k < 2
            // forge-lint: disable-next-line(unsafe-typecast)
            t.nonce = uint64(id % 100);
            t.value = 1 ether;
            return _sign(t, DAVE_KEY);
        }
        t.nonce = 3;
        t.value = id * 0.001 ether;
        return _sign(t, ALICE_KEY);
    }

    /// @dev The transactions of segment `segment` of record `record`, as `_layout` lists them.
    function _segmentTxs(uint256 record, uint256 segment)
        internal
        pure
        override
        returns (SegmentBuilder.Tx[] memory txs)
    {
        uint256[] memory ids = _layout(record, segment);
        txs = new SegmentBuilder.Tx[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            txs[i] = _txOf(ids[i]);
        }
    }

    // ------------------------------------------------------------------ states and witnesses

    /// @dev The step at transaction `k` of `l2Block`: alice (nonce 3, 10 ETH) and bob (1 ETH);
    ///      the block's context with a base fee of 7 gwei and the zero beneficiary; for block 2
    ///      the deposit's 21,000 gas already used.
    function _step(uint256 l2Block, uint256 k) internal pure returns (Step memory s) {
        s.l2Block = l2Block;
        s.k = k;
        s.pre = new AccountTrie.Entry[](2);
        s.pre[0] = AccountTrie.Entry(vm.addr(ALICE_KEY), 3, 10 ether, EMPTY);
        s.pre[1] = AccountTrie.Entry(BOB, 0, 1 ether, EMPTY);
        s.context = L2Headers.context(l2Block, ORIGIN, _parentOrigin(l2Block));
        s.context.baseFee = BASE_FEE;
        s.cumulativeGas = 21_000 * _included(l2Block);
    }

    /// @dev The block table (its closing record's), the first segment, the transaction and its
    ///      leaf's proof in its segment.
    function _leafWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view override {
        (uint256 record, uint256 segment, uint256 index) = _locate(s.l2Block, s.k);
        w.blockTable = blockTables[_closingRecord(s.l2Block)];
        w.firstSegment = _firstSegment(s.l2Block);
        _fillLeaf(w, _txOf(s.l2Block * 100 + s.k), record, segment, index);
    }

    /// @dev Alice against the agreed root, bob after her update, the zero beneficiary after his.
    function _accountWitness(Step memory s, OneStepVerifier.TransactionWitness memory w) internal view override {
        (w.sender, w.senderProof) = AccountTrie.prove(s.pre, alice);
        (AccountTrie.Entry[] memory afterSender, AccountTrie.Entry[] memory afterRecipient,) = _afterTransfer(s);
        (w.recipient, w.recipientProof) = AccountTrie.prove(afterSender, BOB);
        (w.beneficiary, w.beneficiaryProof) = AccountTrie.prove(afterRecipient, address(0));
    }

    /// @dev The states after alice's transfer `s.k`: 21,000 gas at min(10, 7 + 1) = 8 gwei and
    ///      the value from alice (nonce bumped), the value to bob, the 1 gwei tip to the zero
    ///      beneficiary (the base fee burnt).
    function _afterTransfer(Step memory s)
        internal
        pure
        returns (
            AccountTrie.Entry[] memory afterSender,
            AccountTrie.Entry[] memory afterRecipient,
            AccountTrie.Entry[] memory post
        )
    {
        uint256 value = _txOf(s.l2Block * 100 + s.k).value;
        (, AccountTrie.Entry memory a) = AccountTrie.get(s.pre, vm.addr(ALICE_KEY));
        afterSender = AccountTrie.set(s.pre, a.account, a.nonce + 1, a.balance - 21_000 * 8 gwei - value, EMPTY);
        (, AccountTrie.Entry memory b) = AccountTrie.get(afterSender, BOB);
        afterRecipient = AccountTrie.set(afterSender, BOB, b.nonce, b.balance + value, EMPTY);
        post = AccountTrie.set(afterRecipient, address(0), 0, 21_000 * 1 gwei, EMPTY);
    }

    /// @dev The next trace state of the included transfer (21,000 gas).
    function _expectIncluded(Step memory s, OneStepVerifier.TraceState memory state) internal pure returns (bytes32) {
        (,, AccountTrie.Entry[] memory post) = _afterTransfer(s);
        return _includedState(state, _txOf(s.l2Block * 100 + s.k), 21_000, AccountTrie.root(post));
    }

    // ------------------------------------------------------------------ seals

    /// @dev The seal witness of `l2Block` from a trace state at `position` (three transactions
    ///      included, made-up roots).
    function _sealWitness(uint256 l2Block, uint256 position)
        internal
        view
        returns (OneStepVerifier.SealWitness memory w, bytes32 fromState)
    {
        Step memory s = _step(l2Block, 0);
        w.state = OneStepVerifier.TraceState({
            version: 2,
            l2Block: l2Block,
            inputs: position,
            stateRoot: keccak256(abi.encode("post state", l2Block)),
            cumulativeGas: 63_000,
            included: 3,
            txRoot: keccak256(abi.encode("transactions", l2Block)),
            receiptRoot: keccak256(abi.encode("receipts", l2Block)),
            logsBloomHash: keccak256(new bytes(256)),
            context: keccak256(abi.encode(s.context))
        });
        w.context = s.context;
        w.parentHeader = L2Headers.header(_parentOrigin(l2Block));
        w.blockTable = blockTables[_closingRecord(l2Block)];
        w.firstSegment = _firstSegment(l2Block);
        w.logsBloom = new bytes(256);
        fromState = keccak256(abi.encode(w.state));
    }

    /// @dev The output root of the sealed block named as block `blockInRecord` of `record`, its
    ///      hash that of the header `L2BlockHeaders` builds from the witness.
    function _sealOutput(OneStepVerifier.SealWitness memory w, uint256 record, uint256 blockInRecord)
        internal
        view
        returns (Withdrawals.OutputRoot memory output)
    {
        OneStepVerifier.BlockContext memory c = w.context;
        L2BlockHeaders.Header memory h;
        h.parentHash = c.parentHash;
        h.stateRoot = w.state.stateRoot;
        h.transactionsRoot = w.state.txRoot;
        h.receiptsRoot = w.state.receiptRoot;
        h.number = c.number;
        h.gasLimit = c.gasLimit;
        h.gasUsed = w.state.cumulativeGas;
        h.timestamp = c.timestamp;
        // casting to 'uint64' is safe: an L1 block number near GENESIS
        // forge-lint: disable-next-line(unsafe-typecast)
        h.l1OriginNumber = uint64(c.l1OriginNumber);
        h.l1OriginHash = c.l1OriginHash;
        h.mixHash = c.prevrandao;
        h.baseFee = c.baseFee;
        output = Withdrawals.OutputRoot({
            version: Withdrawals.OUTPUT_ROOT_VERSION,
            l2BlockNumber: c.number,
            stateRoot: w.state.stateRoot,
            l2BlockHash: keccak256(L2BlockHeaders.encode(h)),
            inboxRecord: record,
            blockInRecord: blockInRecord,
            l1Block: inbox.records(record).l1Block
        });
    }

    function _sealCtx(uint256 l2Block, uint256 position, OneStepVerifier.SealWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        return _stepCtx(l2Block, position, STEP_SEAL, abi.encode(w));
    }

    // ------------------------------------------------------------------ step contexts

    function _preambleCtx(OneStepVerifier.PreambleWitness memory w) internal view returns (bytes memory) {
        return _stepCtx(2, 0, STEP_PREAMBLE, abi.encode(w));
    }

    // ------------------------------------------------------------------ assertions

    /// @dev The step of `s` includes its transaction: that next state holds, the skipped one
    ///      does not.
    function _assertIncluded(Step memory s) internal {
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witness(s);
        bytes memory ctx = _ctx(s, w);
        assertTrue(
            osv.verify(fromState, _expectIncluded(s, w.state), ctx),
            string.concat("block ", vm.toString(s.l2Block), " k ", vm.toString(s.k), " included")
        );
        assertFalse(osv.verify(fromState, _expectSkipped(w.state), ctx), "not skipped");
    }

    /// @dev `position` of `l2Block` is its seal: the input and the transaction witnesses both
    ///      revert `OneStepVerifier_SealStep`.
    function _expectSealStep(uint256 l2Block, uint256 position) internal {
        _expectBothRevert(
            l2Block,
            position,
            abi.encodeWithSelector(OneStepVerifier.OneStepVerifier_SealStep.selector, l2Block, position)
        );
    }

    /// @dev `position` of `l2Block` is past its seal: `NotProvableYet` for both witnesses.
    function _expectPastSeal(uint256 l2Block, uint256 position) internal {
        _expectBothRevert(
            l2Block, position, abi.encodeWithSelector(IOneStepVerifier.NotProvableYet.selector, l2Block, position)
        );
    }

    /// @dev The input and the transaction witnesses at `position` of `l2Block` (with k = 0's
    ///      transaction as a stand-in) both revert with `revertData`.
    function _expectBothRevert(uint256 l2Block, uint256 position, bytes memory revertData) internal {
        (OneStepVerifier.TransactionWitness memory w, bytes32 fromState) = _witnessAt(_step(l2Block, 0), position);
        bytes memory ctx = _inputCtxAt(l2Block, position, w);
        vm.expectRevert(revertData);
        osv.verify(fromState, bytes32(0), ctx);
        ctx = _ctxAt(l2Block, position, w);
        vm.expectRevert(revertData);
        osv.verify(fromState, bytes32(0), ctx);
    }

    /// @dev The seal of `l2Block` at `position` builds the output root naming `record` (the
    ///      closing one), block 0 of it and its L1 block; and no other record.
    function _assertSeal(uint256 l2Block, uint256 position, uint256 record) internal view {
        // casting to 'uint64' is safe: a small block number
        // forge-lint: disable-next-line(unsafe-typecast)
        assertEq(inbox.recordOf(uint64(l2Block)), record, "recordOf");
        (OneStepVerifier.SealWitness memory w, bytes32 fromState) = _sealWitness(l2Block, position);
        bytes memory ctx = _sealCtx(l2Block, position, w);
        assertTrue(osv.verify(fromState, Withdrawals.hashOutputRoot(_sealOutput(w, record, 0)), ctx), "the seal");
        assertFalse(
            osv.verify(fromState, Withdrawals.hashOutputRoot(_sealOutput(w, record - 1, 0)), ctx), "the open record"
        );
    }
}
