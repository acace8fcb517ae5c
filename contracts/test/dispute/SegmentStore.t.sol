// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm, console} from "test/utils/Test.sol";
import {InboxFixture} from "test/utils/InboxFixture.sol";
import {Batches} from "test/utils/Batches.sol";
import {SegmentBuilder} from "test/dispute/SegmentBuilder.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {SegmentOpener} from "src/dispute/SegmentOpener.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";

/// @notice `SegmentStore` against a real `BatchInbox` with real posted batches: what it stores
///         for each segment is checked against the segment table and against leaves computed
///         independently (`SegmentBuilder`, LibRLP), and it refuses whatever is not a calldata
///         batch's segment.
contract SegmentStoreTest is InboxFixture {
    event SegmentOpened(uint256 indexed record, uint256 indexed segment, bool ok, bytes32 txRoot);

    SegmentStore internal store;

    /// @dev Record 0: two blocks of four transactions each, four segments of 2, 3, 1 and 2
    ///      transactions, the last of them random bytes; two L1 headers before the block table.
    bytes internal batchData;
    SegmentBuilder.Tx[] internal txsOfSegment0;
    SegmentBuilder.Tx[] internal txsOfSegment1;
    SegmentBuilder.Tx[] internal txsOfSegment2;
    bytes[] internal segmentBytes;

    function setUp() public {
        _deployInbox();
        store = new SegmentStore(inbox, L2_CHAIN_ID);
        chain.roll(3);

        Batches.Segment[] memory segments = new Batches.Segment[](4);
        uint256 seed;
        for (uint256 j; j < 3; ++j) {
            SegmentBuilder.Tx[] memory txs = new SegmentBuilder.Tx[](_segmentTxs(j));
            for (uint256 i; i < txs.length; ++i) {
                txs[i] = _tx(uint8(seed % 3), seed);
                ++seed;
                _keep(j, txs[i]);
            }
            segments[j] = Batches.Segment(SegmentBuilder.segment(txs), _segmentTxs(j));
        }
        segments[3] = Batches.Segment(Batches.noise(300, 7), _segmentTxs(3));
        for (uint256 j; j < 4; ++j) {
            segmentBytes.push(segments[j].data);
        }
        Batches.Block[] memory blocks = new Batches.Block[](2);
        blocks[0] = _block(0, 2, 4);
        blocks[1] = _block(0, 2, 4);
        batchData = Batches.encode(_batch(2, blocks, segments));
        assertEq(_post(batchData), 0);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 2, "the batch carried two headers");
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_succeeds() public {
        assertEq(address(store.inbox()), address(inbox));
        assertEq(store.chainId(), L2_CHAIN_ID);
        assertEq(new SegmentStore(inbox, type(uint64).max).chainId(), type(uint64).max);
    }

    function test_constructor_badConfig_reverts() public {
        vm.expectRevert(SegmentStore.SegmentStore_BadConfig.selector);
        new SegmentStore(BatchInbox(address(0)), L2_CHAIN_ID);
        vm.expectRevert(SegmentStore.SegmentStore_BadConfig.selector);
        new SegmentStore(inbox, 0);
        vm.expectRevert(SegmentStore.SegmentStore_BadConfig.selector);
        new SegmentStore(inbox, uint256(type(uint64).max) + 1);
    }

    // ------------------------------------------------------------------ open

    /// @dev Each valid segment of a batch with several: its place in the batch from the segment
    ///      table, and the root of leaves computed without the opener.
    function test_open_validSegments_succeeds() public {
        for (uint256 j; j < 3; ++j) {
            bytes32 expectedRoot = SegmentBuilder.merkleRoot(_leaves(j));
            vm.expectEmit(address(store));
            emit SegmentOpened(0, j, true, expectedRoot);
            uint256 before = gasleft();
            SegmentStore.Segment memory opened = store.open(0, batchData, j);
            console.log("gas open, segment of transactions:", _segmentTxs(j));
            console.log("  gas", before - gasleft());
            assertTrue(opened.opened, "opened");
            assertTrue(opened.ok, "decodes");
            assertEq(opened.firstTx, _firstTx(j), "first transaction");
            assertEq(opened.txCount, _segmentTxs(j), "transaction count");
            assertEq(opened.txRoot, expectedRoot, "root of the independent leaves");
            (bool ok, bytes32[] memory leaves) = SegmentOpener.openLeaves(segmentBytes[j], _segmentTxs(j), L2_CHAIN_ID);
            assertTrue(ok);
            assertEq(opened.txRoot, SegmentOpener.merkleRoot(leaves), "SegmentOpener.merkleRoot of the leaves");
            _assertStored(0, j, opened);
        }
        // A segment nobody opened reads as all zero.
        SegmentStore.Segment memory unopened = store.segments(0, 3);
        assertFalse(unopened.opened);
        assertEq(unopened.txCount, 0);
    }

    /// @dev Segments open in any order, each on its own.
    function test_open_anyOrder_succeeds() public {
        SegmentStore.Segment memory last = store.open(0, batchData, 2);
        assertEq(last.firstTx, 5);
        assertEq(last.txRoot, _leaves(2)[0], "one leaf is its own root");
        assertFalse(store.segments(0, 1).opened);
        SegmentStore.Segment memory first = store.open(0, batchData, 0);
        assertEq(first.firstTx, 0);
        assertEq(first.txRoot, SegmentBuilder.merkleRoot(_leaves(0)));
    }

    /// @dev A segment that does not decode is stored as opened, not ok, with a zero root: its
    ///      blocks are empty. Its place in the batch is still the table's.
    function test_open_malformedSegment_succeeds() public {
        (bool decodes,) = SegmentOpener.open(segmentBytes[3], _segmentTxs(3), L2_CHAIN_ID);
        assertFalse(decodes, "the random segment does not decode");
        vm.expectEmit(address(store));
        emit SegmentOpened(0, 3, false, bytes32(0));
        SegmentStore.Segment memory opened = store.open(0, batchData, 3);
        assertTrue(opened.opened);
        assertFalse(opened.ok);
        assertEq(opened.txRoot, bytes32(0));
        assertEq(opened.firstTx, 6);
        assertEq(opened.txCount, 2);
        _assertStored(0, 3, opened);
    }

    /// @dev A second opening returns what the first stored and emits nothing; it does not even
    ///      read the data again.
    function test_open_twice_succeeds() public {
        vm.recordLogs();
        SegmentStore.Segment memory first = store.open(0, batchData, 1);
        uint256 before = gasleft();
        SegmentStore.Segment memory second = store.open(0, batchData, 1);
        console.log("gas open, already opened", before - gasleft());
        SegmentStore.Segment memory third = store.open(0, hex"", 1);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 events;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(store) && logs[i].topics[0] == SegmentOpened.selector) ++events;
        }
        assertEq(events, 1, "SegmentOpened once");
        assertEq(keccak256(abi.encode(second)), keccak256(abi.encode(first)));
        assertEq(keccak256(abi.encode(third)), keccak256(abi.encode(first)));
        _assertStored(0, 1, first);

        // The same for a segment that does not decode.
        store.open(0, batchData, 3);
        assertFalse(store.open(0, batchData, 3).ok);
    }

    function test_open_wrongData_reverts() public {
        bytes memory data = bytes.concat(batchData);
        data[data.length - 1] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, 0));
        store.open(0, data, 0);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, 0));
        store.open(0, Batches.truncate(batchData, batchData.length - 1), 0);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, 0));
        store.open(0, hex"", 0);

        // Another record's batch is not this one's.
        uint256 record = _postSecondBatch();
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, record));
        store.open(record, batchData, 0);
        assertFalse(store.segments(0, 0).opened, "nothing stored");
    }

    function test_open_unknownSegment_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_UnknownSegment.selector, 0, 4));
        store.open(0, batchData, 4);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_UnknownSegment.selector, 0, 255));
        store.open(0, batchData, 255);

        // A batch of empty blocks has no segment at all.
        bytes memory empty = Batches.encode(_batch(0, Batches.uniformBlocks(2, 0, 1, 0), new Batches.Segment[](0)));
        uint256 record = _post(empty);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_UnknownSegment.selector, record, 0));
        store.open(record, empty, 0);
    }

    function test_open_unknownRecord_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_UnknownRecord.selector, 1));
        store.open(1, batchData, 0);
    }

    /// @dev A later record, whose batch carries no headers, opens the same way.
    function test_open_laterRecord_succeeds() public {
        uint256 record = _postSecondBatch();
        SegmentStore.Segment memory opened = store.open(record, _secondBatch, 1);
        assertTrue(opened.ok);
        assertEq(opened.firstTx, 1);
        assertEq(opened.txCount, 2);
        SegmentBuilder.Tx[] memory txs = _secondBatchTxs();
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = SegmentBuilder.leaf(txs[1], L2_CHAIN_ID);
        leaves[1] = SegmentBuilder.leaf(txs[2], L2_CHAIN_ID);
        assertEq(opened.txRoot, SegmentBuilder.merkleRoot(leaves));
        assertFalse(store.segments(0, 1).opened, "record 0 untouched");
    }

    /// @dev Forced blocks have no segments.
    function test_open_forcedRecord_reverts() public {
        chain.roll(WINDOW);
        inbox.forceInclude(new bytes[](0));
        uint256 record = inbox.recordCount() - 1;
        assertTrue(inbox.records(record).forced);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotCalldataBatch.selector, record));
        store.open(record, hex"", 0);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotCalldataBatch.selector, record));
        store.open(record, batchData, 0);
    }

    /// @dev A blob batch's segments are not in calldata: refused even with its envelope, which
    ///      hashes to the record's `dataHash`.
    function test_open_blobBatch_reverts() public {
        uint256[] memory lengths = new uint256[](2);
        (lengths[0], lengths[1]) = (500, 700);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 2), Batches.blankSegments(lengths));
        bytes memory envelope = Batches.envelopeOnly(batch);
        uint256 record = _postBlob(envelope, 1);
        BatchInbox.Record memory r = inbox.records(record);
        assertEq(r.blobCount, 1);
        assertEq(r.dataHash, keccak256(envelope));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotCalldataBatch.selector, record));
        store.open(record, envelope, 0);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotCalldataBatch.selector, record));
        store.open(record, Batches.encode(batch), 1);
    }

    // ------------------------------------------------------------------ loadBlob, openBlob

    /// @dev A blob batch of two segments (500 and 700 bytes) in one blob: its record, envelope
    ///      and versioned hashes.
    function _blobRecord() internal returns (uint256 record, bytes memory envelope, bytes32[] memory hashes) {
        uint256[] memory lengths = new uint256[](2);
        (lengths[0], lengths[1]) = (500, 700);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 2), Batches.blankSegments(lengths));
        envelope = Batches.envelopeOnly(batch);
        record = _postBlob(envelope, 1);
        hashes = Batches.versionedHashes(1, record);
    }

    /// @dev `count` elements from `from` of segment `segment`, with made-up bytes and proofs.
    function _elements(
        uint256 record,
        bytes memory envelope,
        bytes32[] memory hashes,
        uint256 segment,
        uint256 from,
        uint256 count
    ) internal pure returns (SegmentStore.BlobElements memory) {
        return SegmentStore.BlobElements({
            record: record,
            envelope: envelope,
            versionedHashes: hashes,
            segment: segment,
            from: from,
            commitments: new bytes(48 * hashes.length),
            payloads: new bytes(32 * count),
            proofs: new bytes(48 * count)
        });
    }

    /// @dev Segment 1 (bytes 500..1200 of the stream) is covered by elements 16..38: 23 of
    ///      them, so loading from 23 on is past it.
    function test_loadBlob_outOfOrder_reverts() public {
        (uint256 record, bytes memory envelope, bytes32[] memory hashes) = _blobRecord();
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobLoadOutOfOrder.selector, 0, 1, 23));
        store.loadBlob(_elements(record, envelope, hashes, 1, 1, 1));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobLoadOutOfOrder.selector, 0, 0, 23));
        store.loadBlob(_elements(record, envelope, hashes, 1, 0, 24));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobLoadOutOfOrder.selector, 0, 0, 23));
        store.loadBlob(_elements(record, envelope, hashes, 1, 0, 0));
    }

    /// @dev Made-up proofs fail at the first element, with its index in the blob stream (the
    ///      test EVM's point evaluation refuses them, as L1's does).
    function testFuzz_loadBlob_badProof_reverts(bytes32 salt, uint8 count) public {
        (uint256 record, bytes memory envelope, bytes32[] memory hashes) = _blobRecord();
        SegmentStore.BlobElements memory e = _elements(record, envelope, hashes, 1, 0, bound(count, 1, 23));
        bytes memory junk = abi.encodePacked(keccak256(abi.encode(salt, 1)), keccak256(abi.encode(salt, 2)));
        for (uint256 i; i < 32; ++i) {
            e.payloads[i] = junk[i];
        }
        for (uint256 i; i < 48; ++i) {
            e.proofs[i] = junk[i + 16];
        }
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BadElementProof.selector, 16));
        store.loadBlob(e);
        assertEq(store.blobLoads(record, 1).next, 0);
    }

    /// @dev Another batch's versioned hashes or envelope, lengths that do not match, a calldata
    ///      batch or forced blocks: refused before any proof is checked.
    function test_loadBlob_notTheBatch_reverts() public {
        (uint256 record, bytes memory envelope, bytes32[] memory hashes) = _blobRecord();
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobHashesMismatch.selector, record));
        store.loadBlob(_elements(record, envelope, Batches.versionedHashes(1, record + 1), 0, 0, 1));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, record));
        store.loadBlob(_elements(record, bytes.concat(envelope, hex"00"), hashes, 0, 0, 1));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_UnknownSegment.selector, record, 2));
        store.loadBlob(_elements(record, envelope, hashes, 2, 0, 1));
        SegmentStore.BlobElements memory e = _elements(record, envelope, hashes, 0, 0, 2);
        e.proofs = new bytes(48);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadBlob(e);
        e = _elements(record, envelope, hashes, 0, 0, 1);
        e.commitments = new bytes(47);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadBlob(e);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotBlobBatch.selector, 0));
        store.loadBlob(_elements(0, batchData, hashes, 0, 0, 1));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotBlobBatch.selector, 0));
        store.openBlob(0, batchData, 0, hex"");
    }

    // ------------------------------------------------------------------ loadWholeBlob

    uint256 internal constant P = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;

    /// @dev The blob values of the polynomial with coefficients `c` (lowest first): its value
    ///      at `ω^bitrev(i)` for every element `i`, computed directly.
    function _valuesOf(uint256[] memory c) internal view returns (bytes memory values) {
        values = new bytes(4096 * 32);
        uint256 omega = store.ROOT_OF_UNITY();
        for (uint256 i; i < 4096; ++i) {
            uint256 reversed;
            for (uint256 b; b < 12; ++b) {
                reversed = (reversed << 1) | ((i >> b) & 1);
            }
            uint256 v = _horner(c, _pow(omega, reversed));
            assembly ("memory-safe") {
                mstore(add(add(values, 0x20), mul(i, 32)), v)
            }
        }
    }

    function _horner(uint256[] memory c, uint256 x) internal pure returns (uint256 v) {
        for (uint256 k = c.length; k > 0; --k) {
            v = addmod(mulmod(v, x, P), c[k - 1], P);
        }
    }

    function _pow(uint256 base, uint256 exponent) internal pure returns (uint256 result) {
        result = 1;
        for (; exponent != 0; exponent >>= 1) {
            if (exponent & 1 == 1) result = mulmod(result, base, P);
            base = mulmod(base, base, P);
        }
    }

    /// @dev The on-chain barycentric evaluation agrees with evaluating the polynomial directly,
    ///      at random points, for random polynomials of low degree and one of the highest degree.
    function testFuzz_evaluateBlob_matchesThePolynomial(uint256 seed, uint256 z) public view {
        z = bound(z, 0, P - 1);
        uint256[] memory c = new uint256[](1 + seed % 5);
        for (uint256 k; k < c.length; ++k) {
            c[k] = uint256(keccak256(abi.encode(seed, k))) % P;
        }
        bytes memory values = _valuesOf(c);
        // A point of the domain has no barycentric value: it is the element itself.
        if (_pow(z, 4096) == 1) return;
        assertEq(store.evaluateBlob(values, z), _horner(c, z));
    }

    /// @dev The highest degree a blob has (4095), with a few terms so that the test can
    ///      evaluate it directly at every point of the domain.
    function test_evaluateBlob_fullDegree_succeeds() public view {
        uint256[4] memory powers = [uint256(0), 1, 2049, 4095];
        uint256[4] memory coefficients;
        bytes memory values = new bytes(4096 * 32);
        uint256 omega = store.ROOT_OF_UNITY();
        for (uint256 t; t < 4; ++t) {
            coefficients[t] = uint256(keccak256(abi.encode(t))) % P;
        }
        for (uint256 i; i < 4096; ++i) {
            uint256 reversed;
            for (uint256 b; b < 12; ++b) {
                reversed = (reversed << 1) | ((i >> b) & 1);
            }
            uint256 x = _pow(omega, reversed);
            uint256 v;
            for (uint256 t; t < 4; ++t) {
                v = addmod(v, mulmod(coefficients[t], _pow(x, powers[t]), P), P);
            }
            assembly ("memory-safe") {
                mstore(add(add(values, 0x20), mul(i, 32)), v)
            }
        }
        uint256 z = uint256(keccak256("a point")) % P;
        uint256 expected;
        for (uint256 t; t < 4; ++t) {
            expected = addmod(expected, mulmod(coefficients[t], _pow(z, powers[t]), P), P);
        }
        uint256 gasBefore = gasleft();
        uint256 y = store.evaluateBlob(values, z);
        console.log("evaluateBlob gas", gasBefore - gasleft());
        assertEq(y, expected);
    }

    /// @dev A value at or above the modulus is not a blob's element; a point in the domain has
    ///      no barycentric value; fewer or more than 4096 values are not a blob.
    function test_evaluateBlob_notABlob_reverts() public {
        uint256[] memory c = new uint256[](2);
        (c[0], c[1]) = (3, 5);
        bytes memory values = _valuesOf(c);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.evaluateBlob(values, 1);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.evaluateBlob(values, P);
        assembly ("memory-safe") {
            mstore(add(values, add(0x20, mul(77, 32))), add(mload(add(values, add(0x20, mul(77, 32)))), P))
        }
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.evaluateBlob(values, 2);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.evaluateBlob(new bytes(4095 * 32), 2);
    }

    function _wholeBlob(uint256 record, bytes memory envelope, bytes32[] memory hashes)
        internal
        pure
        returns (SegmentStore.WholeBlob memory)
    {
        return SegmentStore.WholeBlob({
            record: record,
            envelope: envelope,
            versionedHashes: hashes,
            blob: 0,
            commitment: new bytes(48),
            values: new bytes(4096 * 32),
            proof: new bytes(48)
        });
    }

    /// @dev Made-up proofs (of made-up values) are refused by the precompile, and nothing is
    ///      chained.
    function testFuzz_loadWholeBlob_badProof_reverts(bytes32 salt) public {
        (uint256 record, bytes memory envelope, bytes32[] memory hashes) = _blobRecord();
        SegmentStore.WholeBlob memory w = _wholeBlob(record, envelope, hashes);
        bytes memory junk = abi.encodePacked(keccak256(abi.encode(salt, 1)), keccak256(abi.encode(salt, 2)), salt);
        for (uint256 i; i < 48; ++i) {
            w.commitment[i] = junk[i];
            w.proof[i] = junk[i + 48];
        }
        w.values[33] = salt[0];
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BadBlobProof.selector, 0));
        store.loadWholeBlob(w);
        assertEq(store.blobLoads(record, 0).next, 0);
        assertEq(store.blobLoads(record, 1).next, 0);
    }

    /// @dev Another batch's versioned hashes or envelope, a blob the batch does not have,
    ///      lengths that are not a blob's, a calldata batch: refused before any proof.
    function test_loadWholeBlob_notTheBatch_reverts() public {
        (uint256 record, bytes memory envelope, bytes32[] memory hashes) = _blobRecord();
        SegmentStore.WholeBlob memory w = _wholeBlob(record, envelope, Batches.versionedHashes(1, record + 1));
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobHashesMismatch.selector, record));
        store.loadWholeBlob(w);
        w = _wholeBlob(record, bytes.concat(envelope, hex"00"), hashes);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_DataMismatch.selector, record));
        store.loadWholeBlob(w);
        w = _wholeBlob(record, envelope, hashes);
        w.blob = 1;
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadWholeBlob(w);
        w = _wholeBlob(record, envelope, hashes);
        w.values = new bytes(4096 * 32 - 1);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadWholeBlob(w);
        w = _wholeBlob(record, envelope, hashes);
        w.commitment = new bytes(47);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadWholeBlob(w);
        w = _wholeBlob(record, envelope, hashes);
        w.proof = new bytes(49);
        vm.expectRevert(SegmentStore.SegmentStore_BlobLoadMalformed.selector);
        store.loadWholeBlob(w);
        w = _wholeBlob(0, batchData, hashes);
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_NotBlobBatch.selector, 0));
        store.loadWholeBlob(w);
    }

    /// @dev Nothing proven yet: no bytes open the segment.
    function testFuzz_openBlob_notLoaded_reverts(bytes memory covered) public {
        (uint256 record, bytes memory envelope,) = _blobRecord();
        vm.expectRevert(abi.encodeWithSelector(SegmentStore.SegmentStore_BlobNotLoaded.selector, record, 0));
        store.openBlob(record, envelope, 0, covered);
        assertFalse(store.segments(record, 0).opened);
    }

    /// @dev Whatever a segment holds, opening it stores a verdict and never reverts: the
    ///      opener's own, with a zero root when it does not decode.
    function testFuzz_open_arbitrarySegment_neverReverts(bytes memory segment, uint256 txCount) public {
        if (segment.length == 0) segment = hex"00";
        if (segment.length > SegmentOpener.MAX_SEGMENT_SIZE) segment = Batches.truncate(segment, 32_768);
        txCount = bound(txCount, 1, 256);
        uint256 record = _postOneSegment(segment, txCount);
        SegmentStore.Segment memory opened = store.open(record, _lastData, 0);
        (bool ok, bytes32 root) = SegmentOpener.open(segment, txCount, L2_CHAIN_ID);
        assertTrue(opened.opened);
        assertEq(opened.ok, ok);
        assertEq(opened.txRoot, root);
        if (!ok) assertEq(opened.txRoot, bytes32(0));
        assertEq(opened.firstTx, 0);
        assertEq(opened.txCount, txCount);
    }

    /// @dev A valid segment with one byte changed: never a revert, and the opener's verdict.
    function testFuzz_open_mutatedSegment_neverReverts(uint256 position, uint8 value) public {
        bytes memory segment = bytes.concat(segmentBytes[1]);
        position = bound(position, 0, segment.length - 1);
        segment[position] = bytes1(value);
        uint256 record = _postOneSegment(segment, 3);
        SegmentStore.Segment memory opened = store.open(record, _lastData, 0);
        (bool ok, bytes32 root) = SegmentOpener.open(segment, 3, L2_CHAIN_ID);
        assertEq(opened.ok, ok);
        assertEq(opened.txRoot, root);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Record 0's segment table: transactions per segment, and the batch index of each
    ///      segment's first.
    function _segmentTxs(uint256 segment) internal pure returns (uint16) {
        return [uint16(2), 3, 1, 2][segment];
    }

    function _firstTx(uint256 segment) internal pure returns (uint16) {
        return [uint16(0), 2, 5, 6][segment];
    }

    bytes internal _secondBatch;
    bytes internal _lastData;

    /// @dev Record 1: one block of three transactions in two segments (1 and 2), no headers.
    function _postSecondBatch() internal returns (uint256) {
        SegmentBuilder.Tx[] memory txs = _secondBatchTxs();
        SegmentBuilder.Tx[] memory head = new SegmentBuilder.Tx[](1);
        head[0] = txs[0];
        SegmentBuilder.Tx[] memory tail = new SegmentBuilder.Tx[](2);
        (tail[0], tail[1]) = (txs[1], txs[2]);
        Batches.Segment[] memory segments = new Batches.Segment[](2);
        segments[0] = Batches.Segment(SegmentBuilder.segment(head), 1);
        segments[1] = Batches.Segment(SegmentBuilder.segment(tail), 2);
        _secondBatch = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 3), segments));
        return _post(_secondBatch);
    }

    function _secondBatchTxs() internal pure returns (SegmentBuilder.Tx[] memory txs) {
        txs = new SegmentBuilder.Tx[](3);
        for (uint256 i; i < 3; ++i) {
            txs[i] = _tx(uint8(i), 100 + i);
        }
    }

    /// @dev A batch of one block whose `txCount` transactions are in the one segment `segment`.
    function _postOneSegment(bytes memory segment, uint256 txCount) internal returns (uint256) {
        Batches.Segment[] memory segments = new Batches.Segment[](1);
        // forge-lint: disable-next-line(unsafe-typecast)
        segments[0] = Batches.Segment(segment, uint16(txCount));
        // forge-lint: disable-next-line(unsafe-typecast)
        _lastData = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, uint16(txCount)), segments));
        return _post(_lastData);
    }

    /// @dev A transaction of `txType` (unsigned: the store does not recover signers).
    function _tx(uint8 txType, uint256 seed) internal pure returns (SegmentBuilder.Tx memory t) {
        t.txType = txType;
        t.nonce = uint64(seed % 1000);
        t.gasLimit = uint64(21_000 + seed % 5);
        t.to = address(uint160(uint256(keccak256(abi.encode("to", seed)))));
        t.value = (seed % 97) * 1e15;
        t.fee = uint128(2e9 + seed);
        t.priorityFee = txType == 2 ? 1e8 : 0;
        t.yParity = uint8(seed % 2);
        t.r = keccak256(abi.encode("r", seed));
        t.s = bytes32(uint256(keccak256(abi.encode("s", seed))) >> 1);
        if (seed % 4 == 1) t.data = abi.encodePacked(keccak256(abi.encode("data", seed)), uint8(seed));
    }

    function _keep(uint256 segment, SegmentBuilder.Tx memory t) internal {
        // Access lists stay empty here, so the copy to storage is field by field.
        SegmentBuilder.Tx storage kept =
            segment == 0 ? txsOfSegment0.push() : segment == 1 ? txsOfSegment1.push() : txsOfSegment2.push();
        kept.txType = t.txType;
        kept.nonce = t.nonce;
        kept.gasLimit = t.gasLimit;
        kept.to = t.to;
        kept.isCreate = t.isCreate;
        kept.value = t.value;
        kept.fee = t.fee;
        kept.priorityFee = t.priorityFee;
        kept.yParity = t.yParity;
        kept.r = t.r;
        kept.s = t.s;
        kept.data = t.data;
    }

    /// @dev The leaves of valid segment `segment`, from `SegmentBuilder` (LibRLP), not the
    ///      opener.
    function _leaves(uint256 segment) internal view returns (bytes32[] memory leaves) {
        SegmentBuilder.Tx[] storage txs = segment == 0 ? txsOfSegment0 : segment == 1 ? txsOfSegment1 : txsOfSegment2;
        leaves = new bytes32[](txs.length);
        for (uint256 i; i < txs.length; ++i) {
            leaves[i] = SegmentBuilder.leaf(txs[i], L2_CHAIN_ID);
        }
    }

    function _assertStored(uint256 record, uint256 segment, SegmentStore.Segment memory expected) internal view {
        SegmentStore.Segment memory stored = store.segments(record, segment);
        assertEq(stored.opened, expected.opened, "stored opened");
        assertEq(stored.ok, expected.ok, "stored ok");
        assertEq(stored.firstTx, expected.firstTx, "stored firstTx");
        assertEq(stored.txCount, expected.txCount, "stored txCount");
        assertEq(stored.txRoot, expected.txRoot, "stored txRoot");
    }
}
