// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "test/utils/Test.sol";
import {InboxFixture} from "test/utils/InboxFixture.sol";
import {Batches} from "test/utils/Batches.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {L1Headers} from "test/utils/L1Headers.sol";
import {L2BlockHeaders} from "test/utils/L2BlockHeaders.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {OrderedTrie} from "src/libraries/OrderedTrie.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {IOneStepVerifier} from "interfaces/IOneStepVerifier.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";

/// @notice The preamble step (`STEP_PREAMBLE`) against a real `BatchInbox` holding real L1
///         origins (headers of the simulated L1, `L1Chain`) and real batches, and an L2 chain of
///         complete headers (`L2BlockHeaders`) built here as the node seals them. The expected
///         first trace state of each block is written out by hand: its timestamp and L1 origin
///         from the batches posted below, the origin's hash and `prevrandao` from `L1Chain` and
///         `L1Headers.make` (`mixHash = keccak256(abi.encode("randao", number))`), the base fee
///         by EIP-1559 worked out in the comments (`alloy_eips::calc_next_block_base_fee`: a
///         target of half the gas limit, a change of `baseFee * |used - target| / (target *
///         8)`, at least 1 up, saturating down, none for a zero target).
///
///         The chain (L2 block: L1 origin, timestamp as genesis T0 + seconds, gas used; record):
///         - 0 (genesis): origin GENESIS, T0, 0 gas, base fee 1 gwei;
///         - record 0 (calldata, one segment): block 1: GENESIS, T0 + 2, 21,000; block 2:
///           GENESIS + 1 (its epoch holds a deposit), T0 + 14, 63,000; block 3: same origin and
///           timestamp, 0; block 4: GENESIS + 2, T0 + 25, 0;
///         - record 1 (blob batch): block 5: GENESIS + 3, T0 + 37, 21,000; block 6: same
///           origin, T0 + 40, 0;
///         - record 2 (`forceInclude` after the sequencing window): block 7: GENESIS + 4,
///           T0 + 48 (its origin's timestamp), 0; block 8: GENESIS + 5, T0 + 60, 0;
///         - record 3 (calldata, no transactions): block 9: GENESIS + 6, T0 + 74, 0.
///         Every block keeps the genesis gas limit of 30M (target 15M).
contract OneStepVerifierPreambleTest is InboxFixture {
    uint8 internal constant STEP_PREAMBLE = 2;
    uint256 internal constant L2_GAS_LIMIT = 30_000_000;
    uint256 internal constant BLOCKS = 9;
    address internal constant DEPOSITOR = address(uint160(uint256(keccak256("depositor"))));

    OneStepVerifier internal osv;
    /// @dev The L2 chain, genesis first.
    L2BlockHeaders.Header[] internal l2Headers;
    /// @dev The block table of each record, as posted (record 2's as `forceInclude` makes it).
    bytes[] internal blockTables;

    function setUp() public {
        _deployInbox();
        osv = new OneStepVerifier(IDepositChain(address(bridge)), new SegmentStore(inbox, L2_CHAIN_ID));
        // A deposit in L1 block GENESIS + 1, the origin of block 2's epoch.
        _deposit(DEPOSITOR, DEPOSITOR, 1 ether);
        chain.roll(3);

        // Record 0: blocks 1-4, with the headers of GENESIS + 1 and + 2.
        Batches.Block[] memory blocks = new Batches.Block[](4);
        blocks[0] = _block(0, 2, 1);
        blocks[1] = _block(1, 12, 2);
        blocks[2] = _block(0, 0, 0);
        blocks[3] = _block(1, 11, 0);
        Batches.Segment[] memory segments = new Batches.Segment[](1);
        segments[0] = Batches.Segment(Batches.noise(96, 0), 3);
        assertEq(_post(Batches.encode(_batch(2, blocks, segments))), 0);
        blockTables.push(Batches.blockTable(blocks));

        // Record 1: blocks 5-6 in a blob batch, with the header of GENESIS + 3.
        blocks = new Batches.Block[](2);
        blocks[0] = _block(1, 12, 1);
        blocks[1] = _block(0, 3, 0);
        uint256[] memory lengths = new uint256[](1);
        lengths[0] = 200;
        assertEq(_postBlob(Batches.envelopeOnly(_batch(1, blocks, Batches.blankSegments(lengths))), 1), 1);
        blockTables.push(Batches.blockTable(blocks));

        // Record 2: the batcher goes quiet; once the windows of GENESIS + 4 and + 5 have passed,
        // anyone forces one block per origin, at the origin's timestamp.
        chain.roll(102);
        inbox.forceInclude(chain.headers(GENESIS + 4, GENESIS + 5));
        blockTables.push(abi.encodePacked(uint8(1), uint32(8), uint16(0), uint8(1), uint32(12), uint16(0)));

        // Record 3: block 9, with the header of GENESIS + 6.
        blocks = new Batches.Block[](1);
        blocks[0] = _block(1, 14, 0);
        assertEq(_post(Batches.encode(_batch(1, blocks, new Batches.Segment[](0)))), 3);
        blockTables.push(Batches.blockTable(blocks));

        assertEq(inbox.nextBlock(), BLOCKS + 1);
        assertTrue(inbox.records(2).forced);
        assertEq(inbox.records(1).blobCount, 1);
        for (uint256 r; r < 4; ++r) {
            assertEq(inbox.records(r).blocksHash, keccak256(blockTables[r]));
        }

        // The L2 chain as the node seals it (casting origins to 'uint64' is safe: they are
        // L1 block numbers near GENESIS).
        l2Headers.push(
            L2BlockHeaders.make(
                bytes32(0),
                0,
                _t0(),
                // forge-lint: disable-next-line(unsafe-typecast)
                uint64(GENESIS),
                chain.hashOf(GENESIS),
                bytes32(0),
                L2_GAS_LIMIT,
                0,
                1 gwei
            )
        );
        for (uint256 n = 1; n <= BLOCKS; ++n) {
            uint256 origin = _origin(n);
            l2Headers.push(
                L2BlockHeaders.make(
                    keccak256(L2BlockHeaders.encode(l2Headers[n - 1])),
                    n,
                    _timestamp(n),
                    // forge-lint: disable-next-line(unsafe-typecast)
                    uint64(origin),
                    chain.hashOf(origin),
                    _randao(origin),
                    L2_GAS_LIMIT,
                    _gasUsed(n),
                    _baseFee(n)
                )
            );
        }
    }

    // ------------------------------------------------------------------ the chain's blocks

    /// @dev Block 1, the first after genesis (first of record 0): it keeps the genesis origin
    ///      and is 2 seconds later; genesis used no gas, so 1 gwei falls by an eighth.
    function test_preamble_firstBlockAfterGenesis_succeeds() public {
        _assertOnly(
            1,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[0])),
                number: 1,
                timestamp: _t0() + 2,
                l1OriginNumber: GENESIS,
                l1OriginHash: chain.hashOf(GENESIS),
                baseFee: 875_000_000, // 1e9 - 1e9 * 15e6 / 120e6
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                // The genesis epoch runs with prevrandao zero (the node starts before it reads
                // the genesis origin's header).
                prevrandao: bytes32(0)
            })
        );
    }

    /// @dev Block 2 advances its origin by one (origin delta 1) and its timestamp by 12 inside
    ///      its record. Also the gas of a typical preamble, with the verifier's and the inbox's
    ///      storage cold as in a transaction of its own (calldata and the 21,000 intrinsic gas
    ///      excluded).
    function test_preamble_newOrigin_succeeds() public {
        OneStepVerifier.BlockContext memory context = OneStepVerifier.BlockContext({
            parentHash: keccak256(L2BlockHeaders.encode(l2Headers[1])),
            number: 2,
            timestamp: _t0() + 14,
            l1OriginNumber: GENESIS + 1,
            l1OriginHash: chain.hashOf(GENESIS + 1),
            // 875e6 * (15e6 - 21,000) / 120e6 = 109,221,875 off
            baseFee: 765_778_125,
            gasLimit: L2_GAS_LIMIT,
            beneficiary: address(0),
            prevrandao: keccak256(abi.encode("randao", GENESIS + 1))
        });
        assertEq(inbox.originHash(GENESIS + 1), chain.hashOf(GENESIS + 1));
        _assertOnly(2, context);

        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(2);
        bytes memory ctx = _ctx(2, 0, w);
        bytes32 expected = _firstState(2, w.parent.stateRoot, context);
        vm.cool(address(osv));
        vm.cool(address(inbox));
        vm.cool(Proxies.implementationOf(address(inbox)));
        uint256 before = gasleft();
        bool valid = osv.verify(from, expected, ctx);
        uint256 used = before - gasleft();
        assertTrue(valid);
        console.log("gas preamble step (calldata excluded)", used);
        console.log("witness bytes", ctx.length);
        assertLt(used, 1_000_000, "a one-step stays under 1M gas");
    }

    /// @dev Block 3 keeps its parent's origin and timestamp (both deltas 0).
    function test_preamble_sameOriginAndTimestamp_succeeds() public {
        _assertOnly(
            3,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[2])),
                number: 3,
                timestamp: _t0() + 14,
                l1OriginNumber: GENESIS + 1,
                l1OriginHash: chain.hashOf(GENESIS + 1),
                // 765,778,125 * (15e6 - 63,000) / 120e6 = 95,320,232 off
                baseFee: 670_457_893,
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 1))
            })
        );
    }

    /// @dev Block 5 opens record 1 (a blob batch): its parent, block 4, is the last block of
    ///      record 0, and its deltas are record 1's first entry.
    function test_preamble_firstBlockOfRecord_succeeds() public {
        assertEq(inbox.recordOf(4), 0);
        assertEq(inbox.recordOf(5), 1);
        assertEq(inbox.records(1).firstBlock, 5);
        _assertOnly(
            5,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[4])),
                number: 5,
                timestamp: _t0() + 37,
                l1OriginNumber: GENESIS + 3,
                l1OriginHash: chain.hashOf(GENESIS + 3),
                // block 4's parent used nothing: 670,457,893 - 83,807,236 = 586,650,657; block 4
                // used nothing: 586,650,657 - 73,331,332
                baseFee: 513_319_325,
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 3))
            })
        );
    }

    /// @dev Block 6, the second of the blob batch (origin delta 0, 3 seconds).
    function test_preamble_blobBatchSecondBlock_succeeds() public {
        _assertOnly(
            6,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[5])),
                number: 6,
                timestamp: _t0() + 40,
                l1OriginNumber: GENESIS + 3,
                l1OriginHash: chain.hashOf(GENESIS + 3),
                // 513,319,325 * (15e6 - 21,000) / 120e6 = 64,075,084 off
                baseFee: 449_244_241,
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 3))
            })
        );
    }

    /// @dev Blocks 7 and 8 were forced (`forceInclude`): one per origin, each at its origin's
    ///      timestamp; block 7's parent is the blob batch's last block.
    function test_preamble_forcedBlocks_succeeds() public {
        assertTrue(inbox.records(inbox.recordOf(7)).forced);
        _assertOnly(
            7,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[6])),
                number: 7,
                timestamp: chain.timestampOf(GENESIS + 4),
                l1OriginNumber: GENESIS + 4,
                l1OriginHash: chain.hashOf(GENESIS + 4),
                baseFee: 393_088_711, // 449,244,241 - 56,155,530
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 4))
            })
        );
        _assertOnly(
            8,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[7])),
                number: 8,
                timestamp: chain.timestampOf(GENESIS + 5),
                l1OriginNumber: GENESIS + 5,
                l1OriginHash: chain.hashOf(GENESIS + 5),
                baseFee: 343_952_623, // 393,088,711 - 49,136,088
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 5))
            })
        );
    }

    /// @dev Block 9, posted after the forced blocks: its parent is a forced block.
    function test_preamble_afterForcedBlock_succeeds() public {
        _assertOnly(
            9,
            OneStepVerifier.BlockContext({
                parentHash: keccak256(L2BlockHeaders.encode(l2Headers[8])),
                number: 9,
                timestamp: _t0() + 74,
                l1OriginNumber: GENESIS + 6,
                l1OriginHash: chain.hashOf(GENESIS + 6),
                baseFee: 300_958_546, // 343,952,623 - 42,994,077
                gasLimit: L2_GAS_LIMIT,
                beneficiary: address(0),
                prevrandao: keccak256(abi.encode("randao", GENESIS + 6))
            })
        );
    }

    /// @dev Every block of the chain: its preamble leads to the state with the context the
    ///      chain's next header holds, and to no other block's.
    function test_preamble_everyBlock_succeeds() public {
        for (uint256 n = 1; n <= BLOCKS; ++n) {
            (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(n);
            bytes memory ctx = _ctx(n, 0, w);
            assertTrue(osv.verify(from, _firstState(n, w.parent.stateRoot, _context(n)), ctx), "the block's context");
            for (uint256 m = 1; m <= BLOCKS; ++m) {
                if (m == n) continue;
                OneStepVerifier.BlockContext memory other = _context(m);
                other.number = n;
                assertFalse(osv.verify(from, _firstState(n, w.parent.stateRoot, other), ctx), "another block's context");
            }
        }
    }

    // ------------------------------------------------------------------ base fee

    /// @dev Gas used above the target raises the base fee by `baseFee * excess / (target * 8)`.
    function test_preamble_baseFeeAboveTarget_succeeds() public {
        _assertBaseFee(1 gwei, 20_000_000, L2_GAS_LIMIT, 1_041_666_666); // + 1e9 * 5e6 / 120e6
        _assertBaseFee(1 gwei, L2_GAS_LIMIT, L2_GAS_LIMIT, 1_125_000_000); // a full block: + 1/8
        _assertBaseFee(1 gwei, 15_000_001, L2_GAS_LIMIT, 1_000_000_008); // + 1e9 / 120e6
    }

    /// @dev Gas used below the target lowers it, rounding the decrease down.
    function test_preamble_baseFeeBelowTarget_succeeds() public {
        _assertBaseFee(1 gwei, 10_000_000, L2_GAS_LIMIT, 958_333_334); // - 1e9 * 5e6 / 120e6
        _assertBaseFee(1 gwei, 0, L2_GAS_LIMIT, 875_000_000); // an empty block: - 1/8
        _assertBaseFee(1 gwei, 14_999_999, L2_GAS_LIMIT, 999_999_992); // - 1e9 / 120e6
        _assertBaseFee(8, 0, L2_GAS_LIMIT, 7);
        _assertBaseFee(7, 0, L2_GAS_LIMIT, 7); // 7 / 8 rounds to no decrease
        _assertBaseFee(1, 0, L2_GAS_LIMIT, 1);
        _assertBaseFee(type(uint64).max, 0, L2_GAS_LIMIT, 16_140_901_064_495_857_664); // - (2^64 - 1) / 8
    }

    /// @dev Gas used at the target keeps it; an odd gas limit's target rounds down.
    function test_preamble_baseFeeAtTarget_succeeds() public {
        _assertBaseFee(1 gwei, 15_000_000, L2_GAS_LIMIT, 1 gwei);
        _assertBaseFee(1 gwei, 15_000_000, L2_GAS_LIMIT + 1, 1 gwei);
        _assertBaseFee(0, 15_000_000, L2_GAS_LIMIT, 0);
    }

    /// @dev Above the target the base fee rises by at least 1, even from 0.
    function test_preamble_baseFeeMinimumIncrease_succeeds() public {
        _assertBaseFee(7, 15_000_001, L2_GAS_LIMIT, 8); // 7 / 120e6 rounds to 0
        _assertBaseFee(1, L2_GAS_LIMIT, L2_GAS_LIMIT, 2); // 1 * 15e6 / 120e6 rounds to 0
        _assertBaseFee(0, L2_GAS_LIMIT, L2_GAS_LIMIT, 1);
    }

    /// @dev A gas limit below 2 has no target: the base fee stays, whatever the gas used.
    function test_preamble_baseFeeZeroTarget_succeeds() public {
        _assertBaseFee(1 gwei, 1, 1, 1 gwei);
        _assertBaseFee(1 gwei, 0, 1, 1 gwei);
        _assertBaseFee(1 gwei, 0, 0, 1 gwei);
        _assertBaseFee(0, 0, 0, 0);
    }

    /// @dev Any parent fee fields (gas used at most the limit, as in a valid block; a result
    ///      that fits 64 bits, as the node's): the base fee is alloy's.
    function testFuzz_preamble_baseFee_succeeds(uint64 baseFee, uint64 gasLimit, uint64 gasUsed) public {
        gasUsed = uint64(bound(gasUsed, 0, gasLimit));
        uint256 expected = _alloyNextBaseFee(gasUsed, gasLimit, baseFee);
        vm.assume(expected <= type(uint64).max);
        _assertBaseFee(baseFee, gasUsed, gasLimit, expected);
    }

    // ------------------------------------------------------------------ bad witnesses

    /// @dev A parent output root that is not the agreed state, names another block, or has
    ///      another version.
    function test_preamble_badParentOutput_reverts() public {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(5);
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.parent.stateRoot = keccak256("another state");
        _expectBadWitness(from, 5, 0, bad);
        // Consistent with the agreed state, but of another block or version.
        bad = _copy(w);
        bad.parent.l2BlockNumber = 5;
        _expectBadWitness(Withdrawals.hashOutputRoot(bad.parent), 5, 0, bad);
        bad = _copy(w);
        bad.parent.version = 2;
        _expectBadWitness(Withdrawals.hashOutputRoot(bad.parent), 5, 0, bad);
        // Block 4's own output root as block 6's parent.
        (OneStepVerifier.PreambleWitness memory six,) = _witness(6);
        six.parent = w.parent;
        _expectBadWitness(from, 6, 0, six);
    }

    /// @dev A parent header that is not the output root's block (another block's, or one with a
    ///      byte more).
    function test_preamble_badParentHeader_reverts() public {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(5);
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.parentHeader = L2BlockHeaders.encode(l2Headers[3]);
        _expectBadWitness(from, 5, 0, bad);
        bad.parentHeader = bytes.concat(w.parentHeader, hex"00");
        _expectBadWitness(from, 5, 0, bad);
        bad.parentHeader = "";
        _expectBadWitness(from, 5, 0, bad);
    }

    /// @dev A block table that is not the inbox record's: another record's, one with a block's
    ///      timestamp delta changed, a truncated one, none.
    function test_preamble_badBlockTable_reverts() public {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(2);
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.blockTable = blockTables[1];
        _expectBadWitness(from, 2, 0, bad);
        bad.blockTable = Batches.setField(_copyBytes(blockTables[0]), 7 + 1, 4, 13);
        _expectBadWitness(from, 2, 0, bad);
        bad.blockTable = Batches.truncate(blockTables[0], 14);
        _expectBadWitness(from, 2, 0, bad);
        bad.blockTable = "";
        _expectBadWitness(from, 2, 0, bad);
        // A forced block with the table of the record before it.
        (w, from) = _witness(7);
        w.blockTable = blockTables[1];
        _expectBadWitness(from, 7, 0, w);
    }

    /// @dev An origin header that is not the recorded origin's: the parent's origin (the
    ///      block advanced), the next L1 block's, the origin's with another `prevrandao`.
    function test_preamble_badOriginHeader_reverts() public {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(2);
        OneStepVerifier.PreambleWitness memory bad = _copy(w);
        bad.originHeader = chain.header(GENESIS);
        _expectBadWitness(from, 2, 0, bad);
        bad.originHeader = chain.header(GENESIS + 2);
        _expectBadWitness(from, 2, 0, bad);
        L1Headers.Header memory h =
            L1Headers.defaults(chain.hashOf(GENESIS), GENESIS + 1, chain.timestampOf(GENESIS + 1));
        assertEq(keccak256(L1Headers.encode(h)), chain.hashOf(GENESIS + 1));
        h.mixHash = keccak256("another randao");
        bad.originHeader = L1Headers.encode(h);
        _expectBadWitness(from, 2, 0, bad);
        bad.originHeader = "";
        _expectBadWitness(from, 2, 0, bad);
    }

    /// @dev The preamble is the step at position 0 of a block after genesis.
    function test_preamble_badPosition_reverts() public {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(2);
        _expectBadWitness(from, 2, 1, w);
        _expectBadWitness(from, 2, 1 << 16, w);
        _expectBadWitness(from, 2, type(uint256).max, w);
        // The parent's output root is block 1's: the witness names another block.
        _expectBadWitness(from, 3, 0, w);
        _expectBadWitness(from, 1, 0, w);
        _expectBadWitness(from, 0, 0, w);
    }

    /// @dev A block the inbox holds no record of (the next one) has no preamble: the inbox says
    ///      so.
    function test_preamble_unrecordedBlock_reverts() public {
        uint256 next = BLOCKS + 1;
        Withdrawals.OutputRoot memory parent = _output(BLOCKS);
        OneStepVerifier.PreambleWitness memory w = OneStepVerifier.PreambleWitness({
            parent: parent,
            parentHeader: L2BlockHeaders.encode(l2Headers[BLOCKS]),
            blockTable: blockTables[3],
            originHeader: chain.header(GENESIS + 6)
        });
        bytes memory ctx = _ctx(next, 0, w);
        // casting to 'uint64' is safe: next = BLOCKS + 1
        // forge-lint: disable-next-line(unsafe-typecast)
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, uint64(next)));
        osv.verify(Withdrawals.hashOutputRoot(parent), bytes32(0), ctx);
    }

    // ------------------------------------------------------------------ the chain by hand

    /// @dev The L2 genesis timestamp: its origin's.
    function _t0() internal view returns (uint256) {
        return chain.timestampOf(GENESIS);
    }

    /// @dev The L1 origin of L2 block `n` (see the contract's notice).
    function _origin(uint256 n) internal pure returns (uint256) {
        uint8[10] memory deltas = [0, 0, 1, 1, 2, 3, 3, 4, 5, 6];
        return GENESIS + deltas[n];
    }

    /// @dev The timestamp of L2 block `n`.
    function _timestamp(uint256 n) internal view returns (uint256) {
        uint8[10] memory seconds_ = [0, 2, 14, 14, 25, 37, 40, 48, 60, 74];
        return _t0() + seconds_[n];
    }

    /// @dev The gas L2 block `n` used.
    function _gasUsed(uint256 n) internal pure returns (uint256) {
        uint32[10] memory used = [uint32(0), 21_000, 63_000, 0, 0, 21_000, 0, 0, 0, 0];
        return used[n];
    }

    /// @dev The base fee of L2 block `n`, by EIP-1559 from its parent (worked out in the tests
    ///      of each block).
    function _baseFee(uint256 n) internal pure returns (uint256) {
        uint32[10] memory fees = [
            uint32(1 gwei),
            875_000_000,
            765_778_125,
            670_457_893,
            586_650_657,
            513_319_325,
            449_244_241,
            393_088_711,
            343_952_623,
            300_958_546
        ];
        return fees[n];
    }

    /// @dev The `prevrandao` of the L2 blocks whose L1 origin is `number`: as `L1Headers.make`
    ///      builds the origin's, zero for the genesis origin.
    function _randao(uint256 number) internal pure returns (bytes32) {
        if (number == GENESIS) return bytes32(0);
        return keccak256(abi.encode("randao", number));
    }

    /// @dev The context of L2 block `n`, from the chain's tables.
    function _context(uint256 n) internal view returns (OneStepVerifier.BlockContext memory) {
        return OneStepVerifier.BlockContext({
            parentHash: keccak256(L2BlockHeaders.encode(l2Headers[n - 1])),
            number: n,
            timestamp: _timestamp(n),
            l1OriginNumber: _origin(n),
            l1OriginHash: chain.hashOf(_origin(n)),
            baseFee: _baseFee(n),
            gasLimit: L2_GAS_LIMIT,
            beneficiary: address(0),
            prevrandao: _randao(_origin(n))
        });
    }

    /// @dev The output root of L2 block `n` as the node commits to it.
    function _output(uint256 n) internal view returns (Withdrawals.OutputRoot memory output) {
        output.version = Withdrawals.OUTPUT_ROOT_VERSION;
        output.l2BlockNumber = n;
        output.stateRoot = l2Headers[n].stateRoot;
        output.l2BlockHash = keccak256(L2BlockHeaders.encode(l2Headers[n]));
        if (n != 0) {
            // casting to 'uint64' is safe: n <= BLOCKS
            // forge-lint: disable-next-line(unsafe-typecast)
            output.inboxRecord = inbox.recordOf(uint64(n));
            BatchInbox.Record memory record = inbox.records(output.inboxRecord);
            output.blockInRecord = n - record.firstBlock;
            output.l1Block = record.l1Block;
        }
    }

    /// @dev The preamble witness of L2 block `n` and the agreed state (its parent's output root).
    function _witness(uint256 n) internal returns (OneStepVerifier.PreambleWitness memory w, bytes32 from) {
        // casting to 'uint64' is safe: n <= BLOCKS
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 record = inbox.recordOf(uint64(n));
        w = OneStepVerifier.PreambleWitness({
            parent: _output(n - 1),
            parentHeader: L2BlockHeaders.encode(l2Headers[n - 1]),
            blockTable: blockTables[record],
            originHeader: chain.header(_origin(n))
        });
        from = Withdrawals.hashOutputRoot(w.parent);
    }

    /// @dev The first trace state of L2 block `n`: the parent's state root, one input (the
    ///      preamble) consumed, nothing run, and `context`.
    function _firstState(uint256 n, bytes32 stateRoot, OneStepVerifier.BlockContext memory context)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(_traceState(n, stateRoot, context)));
    }

    function _traceState(uint256 n, bytes32 stateRoot, OneStepVerifier.BlockContext memory context)
        internal
        pure
        returns (OneStepVerifier.TraceState memory)
    {
        return OneStepVerifier.TraceState({
            version: 2,
            l2Block: n,
            inputs: 1,
            stateRoot: stateRoot,
            cumulativeGas: 0,
            included: 0,
            txRoot: OrderedTrie.EMPTY_ROOT,
            receiptRoot: OrderedTrie.EMPTY_ROOT,
            logsBloomHash: keccak256(new bytes(256)),
            context: keccak256(abi.encode(context))
        });
    }

    /// @dev The proof `verify` takes for the step of `l2Block` at `position` with `w`.
    function _ctx(uint256 l2Block, uint256 position, OneStepVerifier.PreambleWitness memory w)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(
            IOneStepVerifier.StepContext({
                l2Block: l2Block,
                position: position,
                horizonL1Block: block.number,
                witness: abi.encode(STEP_PREAMBLE, abi.encode(w))
            })
        );
    }

    // ------------------------------------------------------------------ assertions

    /// @dev Block `n`'s preamble leads to the first trace state with exactly `context`: not to
    ///      one with any single field of the context or of the trace state changed.
    function _assertOnly(uint256 n, OneStepVerifier.BlockContext memory context) internal {
        (OneStepVerifier.PreambleWitness memory w, bytes32 from) = _witness(n);
        bytes memory ctx = _ctx(n, 0, w);
        OneStepVerifier.TraceState memory state = _traceState(n, w.parent.stateRoot, context);
        assertTrue(osv.verify(from, keccak256(abi.encode(state)), ctx), "the block's first trace state");
        for (uint256 field; field < 9; ++field) {
            OneStepVerifier.BlockContext memory changed = _changeContext(context, field);
            assertFalse(
                osv.verify(from, _firstState(n, w.parent.stateRoot, changed), ctx),
                string.concat("context field ", vm.toString(field), " changed")
            );
        }
        for (uint256 field; field < 10; ++field) {
            OneStepVerifier.TraceState memory changed = _changeState(state, field);
            assertFalse(
                osv.verify(from, keccak256(abi.encode(changed)), ctx),
                string.concat("trace state field ", vm.toString(field), " changed")
            );
        }
    }

    /// @dev The parent of block 2 (block 1) with the given fee fields and otherwise as in the
    ///      chain: block 2's preamble fixes `expected` as its base fee and the parent's gas
    ///      limit, and no base fee one away.
    function _assertBaseFee(uint256 parentBaseFee, uint256 parentGasUsed, uint256 parentGasLimit, uint256 expected)
        internal
    {
        (OneStepVerifier.PreambleWitness memory w,) = _witness(2);
        L2BlockHeaders.Header memory parentHeader = l2Headers[1];
        parentHeader.baseFee = parentBaseFee;
        parentHeader.gasUsed = parentGasUsed;
        parentHeader.gasLimit = parentGasLimit;
        w.parentHeader = L2BlockHeaders.encode(parentHeader);
        w.parent.l2BlockHash = keccak256(w.parentHeader);
        bytes32 from = Withdrawals.hashOutputRoot(w.parent);
        bytes memory ctx = _ctx(2, 0, w);

        OneStepVerifier.BlockContext memory context = _context(2);
        context.parentHash = w.parent.l2BlockHash;
        context.gasLimit = parentGasLimit;
        context.baseFee = expected;
        assertTrue(osv.verify(from, _firstState(2, w.parent.stateRoot, context), ctx), "the expected base fee");
        context.baseFee = expected + 1;
        assertFalse(osv.verify(from, _firstState(2, w.parent.stateRoot, context), ctx), "one wei more");
        if (expected != 0) {
            context.baseFee = expected - 1;
            assertFalse(osv.verify(from, _firstState(2, w.parent.stateRoot, context), ctx), "one wei less");
        }
    }

    /// @dev `verify` of `w` for `l2Block` at `position` from `from` reverts BadWitness.
    function _expectBadWitness(
        bytes32 from,
        uint256 l2Block,
        uint256 position,
        OneStepVerifier.PreambleWitness memory w
    ) internal {
        bytes memory ctx = _ctx(l2Block, position, w);
        vm.expectRevert(OneStepVerifier.OneStepVerifier_BadWitness.selector);
        osv.verify(from, bytes32(0), ctx);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev `alloy_eips::calc_next_block_base_fee` with Ethereum's parameters, line for line:
    ///      u128 products (exact here), `as u64` truncations, `saturating_sub`.
    function _alloyNextBaseFee(uint64 gasUsed, uint64 gasLimit, uint64 baseFee) internal pure returns (uint256) {
        uint256 gasTarget = uint256(gasLimit) / 2;
        if (gasTarget == 0) return baseFee;
        if (gasUsed == gasTarget) return baseFee;
        if (gasUsed > gasTarget) {
            uint256 change = uint256(baseFee) * (gasUsed - gasTarget) / (gasTarget * 8);
            return uint256(baseFee) + uint64(change > 1 ? change : 1);
        }
        uint256 decrease = uint64(uint256(baseFee) * (gasTarget - gasUsed) / (gasTarget * 8));
        return decrease >= baseFee ? 0 : baseFee - decrease;
    }

    /// @dev `context` with field `field` (in declaration order) changed.
    function _changeContext(OneStepVerifier.BlockContext memory context, uint256 field)
        internal
        pure
        returns (OneStepVerifier.BlockContext memory c)
    {
        c = abi.decode(abi.encode(context), (OneStepVerifier.BlockContext));
        if (field == 0) c.parentHash = bytes32(uint256(c.parentHash) ^ 1);
        else if (field == 1) c.number += 1;
        else if (field == 2) c.timestamp += 1;
        else if (field == 3) c.l1OriginNumber += 1;
        else if (field == 4) c.l1OriginHash = bytes32(uint256(c.l1OriginHash) ^ 1);
        else if (field == 5) c.baseFee += 1;
        else if (field == 6) c.gasLimit += 1;
        else if (field == 7) c.beneficiary = address(1);
        else c.prevrandao = bytes32(uint256(c.prevrandao) ^ 1);
    }

    /// @dev `state` with field `field` (in declaration order) changed.
    function _changeState(OneStepVerifier.TraceState memory state, uint256 field)
        internal
        pure
        returns (OneStepVerifier.TraceState memory s)
    {
        s = abi.decode(abi.encode(state), (OneStepVerifier.TraceState));
        if (field == 0) s.version += 1;
        else if (field == 1) s.l2Block += 1;
        else if (field == 2) s.inputs = 0;
        else if (field == 3) s.stateRoot = bytes32(uint256(s.stateRoot) ^ 1);
        else if (field == 4) s.cumulativeGas = 21_000;
        else if (field == 5) s.included = 1;
        else if (field == 6) s.txRoot = keccak256("tx");
        else if (field == 7) s.receiptRoot = keccak256("receipt");
        else if (field == 8) s.logsBloomHash = keccak256("bloom");
        else s.context = bytes32(uint256(s.context) ^ 1);
    }

    /// @dev A deep copy of `w` (its fields can then change alone).
    function _copy(OneStepVerifier.PreambleWitness memory w)
        internal
        pure
        returns (OneStepVerifier.PreambleWitness memory)
    {
        return abi.decode(abi.encode(w), (OneStepVerifier.PreambleWitness));
    }

    function _copyBytes(bytes memory data) internal pure returns (bytes memory) {
        return bytes.concat(data);
    }
}
