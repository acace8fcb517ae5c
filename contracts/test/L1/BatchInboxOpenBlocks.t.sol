// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchInboxBase} from "test/L1/BatchInbox.t.sol";
import {Batches} from "test/utils/Batches.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";

/// @notice Blocks spanning batches: a batch leaves its last block open (`OPEN_FLAG`), the next
///         batches continue it, and a block is in the inbox only once closed.
contract BatchInboxOpenBlocksTest is BatchInboxBase {
    /// @dev Blocks 1-3 (2, 3 and 5 transactions in one segment), block 3 left open.
    function _openThird() internal returns (Batches.Batch memory batch) {
        chain.roll(5);
        Batches.Block[] memory blocks = Batches.uniformBlocks(3, 0, 2, 0);
        (blocks[0].txCount, blocks[1].txCount, blocks[2].txCount) = (2, 3, 5);
        batch = _batch(0, blocks, _segments(1_000, 10));
        batch.open = true;
        _post(Batches.encode(batch));
    }

    /// @dev A batch continuing the open block with `txCounts[0]` transactions, then blocks with
    ///      the others, each transaction in a segment of its own.
    function _continuation(uint16[] memory txCounts, bool open) internal returns (Batches.Batch memory batch) {
        Batches.Block[] memory blocks = Batches.uniformBlocks(txCounts.length, 0, 2, 0);
        uint256 total;
        for (uint256 i; i < txCounts.length; ++i) {
            blocks[i].txCount = txCounts[i];
            total += txCounts[i];
        }
        Batches.Segment[] memory segments = new Batches.Segment[](total);
        for (uint256 j; j < total; ++j) {
            segments[j] = Batches.Segment(Batches.noise(100, j), 1);
        }
        batch = _batch(0, blocks, segments);
        batch.open = open;
    }

    function _counts(uint16 a) internal pure returns (uint16[] memory counts) {
        counts = new uint16[](1);
        counts[0] = a;
    }

    function _counts(uint16 a, uint16 b) internal pure returns (uint16[] memory counts) {
        counts = new uint16[](2);
        (counts[0], counts[1]) = (a, b);
    }

    function test_openBlock_spansThreeBatches_succeeds() public {
        Batches.Batch memory first = _openThird();
        BatchInbox.Record memory record = inbox.records(0);
        assertTrue(record.lastBlockOpen);
        assertEq(record.firstBlockTxOffset, 0);
        assertEq(record.txCount, 10);
        assertEq(record.lastBlockTxs, 5);
        assertEq(record.lastBlockDeltas, 2);
        assertEq(record.openSegments, 1);
        // Blocks 1 and 2 are in; block 3 is not until closed.
        assertEq(inbox.nextBlock(), 3);
        assertEq(inbox.recordOf(2), 0);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, 3));
        inbox.recordOf(3);
        uint256 timestamp = inbox.lastTimestamp();
        assertEq(timestamp, _ts(GENESIS) + 6);

        // Block 3 again, 4 more transactions in 4 segments, still open.
        Batches.Batch memory second = _continuation(_counts(4), true);
        assertEq(second.firstBlock, 3);
        bytes memory data = Batches.encode(second);
        vm.expectEmit(address(inbox));
        emit BatchAppended(
            1,
            3,
            1,
            uint64(GENESIS),
            0,
            false,
            keccak256(data),
            Batches.segmentRoot(second.segments),
            keccak256(Batches.blockTable(second.blocks)),
            0,
            true
        );
        _post(data);
        record = inbox.records(1);
        assertTrue(record.lastBlockOpen);
        assertEq(record.firstBlockTxOffset, 5);
        assertEq(record.txCount, 4);
        assertEq(record.lastBlockTxs, 4);
        assertEq(record.openSegments, 5);
        assertEq(inbox.nextBlock(), 3);
        // The continued block is not stepped again: same timestamp, same count at it.
        assertEq(inbox.lastTimestamp(), timestamp);
        assertEq(inbox.blocksAtLastTimestamp(), 1);

        // Block 3's last 2 transactions, then block 4: block 3 is closed.
        _post(Batches.encode(_continuation(_counts(2, 1), false)));
        record = inbox.records(2);
        assertFalse(record.lastBlockOpen);
        assertEq(record.firstBlockTxOffset, 9);
        assertEq(record.txCount, 3);
        assertEq(record.lastBlockTxs, 1);
        assertEq(record.openSegments, 0);
        assertEq(inbox.nextBlock(), 5);
        assertEq(inbox.lastTimestamp(), timestamp + 2);
        // The record that closes a block is its record (it starts with it).
        assertEq(inbox.recordOf(3), 2);
        assertEq(inbox.recordOf(4), 2);
        assertEq(inbox.recordOf(2), 0);
        assertEq(first.blocks.length, 3);
    }

    function test_openBlock_blobBatches_succeeds() public {
        chain.roll(5);
        // Block 1 with 3 transactions over 3 segments, open.
        uint256[] memory lengths = _lengths(3, 30_000, 30_000);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 2, 3), _blobSegments(lengths, 3));
        batch.open = true;
        _postBlob(Batches.envelopeOnly(batch), 1);
        assertEq(inbox.records(0).openSegments, 3);
        assertEq(inbox.nextBlock(), 1);
        // Closed by a blob batch with one more.
        batch = _batch(0, Batches.uniformBlocks(1, 0, 2, 1), _blobSegments(_lengths(1, 10, 10), 1));
        _postBlob(Batches.envelopeOnly(batch), 1);
        assertEq(inbox.records(1).firstBlockTxOffset, 3);
        assertEq(inbox.nextBlock(), 2);
        assertEq(inbox.recordOf(1), 1);
    }

    function test_openBlock_otherDeltas_reverts() public {
        _openThird();
        Batches.Batch memory batch = _continuation(_counts(1), false);
        batch.blocks[0].timestampDelta = 3;
        _postReverts(
            Batches.encode(batch), abi.encodeWithSelector(BatchInbox.BatchInbox_ContinuationMismatch.selector, 3)
        );
        batch.blocks[0].timestampDelta = 2;
        batch.blocks[0].originDelta = 1;
        _postReverts(
            Batches.encode(batch), abi.encodeWithSelector(BatchInbox.BatchInbox_ContinuationMismatch.selector, 3)
        );
    }

    function test_openBlock_mustContinue_reverts() public {
        _openThird();
        Batches.Batch memory batch = _continuation(_counts(1), false);
        batch.firstBlock = 4;
        _postReverts(
            Batches.encode(batch), abi.encodeWithSelector(BatchInbox.BatchInbox_UnexpectedFirstBlock.selector, 3, 4)
        );
    }

    function test_openBlock_emptyPart_reverts() public {
        chain.roll(5);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(2, 0, 2, 0), _segments(100, 1));
        batch.blocks[0].txCount = 1;
        batch.open = true;
        // The open block would have no transaction here.
        _postReverts(Batches.encode(batch), abi.encodeWithSelector(BatchInbox.BatchInbox_EmptyPart.selector, 2));

        _openThird();
        Batches.Batch memory empty = _continuation(_counts(0, 1), false);
        _postReverts(Batches.encode(empty), abi.encodeWithSelector(BatchInbox.BatchInbox_EmptyPart.selector, 3));
    }

    function test_openBlock_moreThanSixteenSegments_reverts() public {
        chain.roll(5);
        // Block 1's 16 transactions in 16 segments cannot stay open: its next part would make 17.
        _postReverts(
            Batches.encode(_continuation(_counts(16), true)),
            abi.encodeWithSelector(BatchInbox.BatchInbox_BlockTooLarge.selector, 1, 17)
        );
        // 15 may; a next part of 2 segments would make 17, of 1 closes it at 16.
        _post(Batches.encode(_continuation(_counts(15), true)));
        assertEq(inbox.records(0).openSegments, 15);
        _postReverts(
            Batches.encode(_continuation(_counts(2), false)),
            abi.encodeWithSelector(BatchInbox.BatchInbox_BlockTooLarge.selector, 1, 17)
        );
        _post(Batches.encode(_continuation(_counts(1), false)));
        assertEq(inbox.nextBlock(), 2);
    }

    function test_openBlock_afterWindow_reverts() public {
        _openThird();
        chain.roll(2 * WINDOW);
        _postReverts(
            Batches.encode(_continuation(_counts(1), false)),
            abi.encodeWithSelector(BatchInbox.BatchInbox_SequencingWindowExpired.selector, GENESIS)
        );
    }

    function test_forceInclude_closesOpenBlock_succeeds() public {
        _openThird();
        _post(Batches.encode(_continuation(_counts(1), true)));
        chain.roll(WINDOW);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);

        vm.expectEmit(address(inbox));
        emit OpenBlockClosed(1, 3);
        inbox.forceInclude(headers);

        // Block 3 holds what its records posted; the forced block follows it.
        BatchInbox.Record memory record = inbox.records(1);
        assertFalse(record.lastBlockOpen);
        assertEq(record.openSegments, 0);
        assertEq(inbox.recordOf(3), 1);
        assertEq(inbox.records(2).firstBlock, 4);
        assertEq(inbox.recordOf(4), 2);
        assertEq(inbox.nextBlock(), 5);
    }
}
