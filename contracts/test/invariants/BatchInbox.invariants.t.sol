// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Batches} from "test/utils/Batches.sol";
import {L1Chain} from "test/utils/L1Chain.sol";
import {DepositChainLogs} from "test/utils/DepositChainLogs.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";

/// @dev Drives a simulated L1 with a bridge and an inbox: L1 blocks pass, users deposit and
///      force withdrawals, the batcher posts random valid batches (with or without headers, their
///      segments in calldata or in blobs), anyone records origins or forces blocks. Every call
///      must succeed (`fail_on_revert`): the handler only makes moves the rules allow, and skips
///      a move the state rules out.
contract BatchInboxHandler is Test {
    uint64 public constant WINDOW = 40;
    uint64 public constant DRIFT = 120;
    uint256 public constant GENESIS = 500;
    uint32 internal constant ETH_GAS = 21_000;

    L1Chain public immutable chain;
    L1Bridge public immutable bridge;
    BatchInbox public immutable inbox;
    address internal immutable batcher;
    address internal immutable user;

    /// @notice The deposit chain recomputed from the bridge's logs, and its checkpoints.
    bytes32 public ghostChain;
    uint256 public ghostCount;
    IDepositChain.Checkpoint[] internal _ghostCheckpoints;

    /// @notice The blobs each blob batch's transaction carried, by record index: their count
    ///         and the keccak256 of their versioned hashes (zero for other records).
    mapping(uint256 index => uint256) public ghostBlobCount;
    mapping(uint256 index => bytes32) public ghostBlobRoot;

    uint256 public batchesPosted;
    uint256 public blobBatchesPosted;
    uint256 public blocksForced;
    uint256 public postsSkipped;

    constructor() {
        batcher = makeAddr("batcher");
        user = makeAddr("user");
        vm.deal(user, 1_000_000 ether);
        chain = new L1Chain(GENESIS, 1_700_000_000);
        chain.enableHistory();
        bridge = BridgeFixtures.deployL1Bridge(address(1), 4242, makeAddr("proxyOwner"));
        inbox = Proxies.deployBatchInbox(
            Proxies.InboxConfig({
                owner: makeAddr("owner"),
                batcher: batcher,
                bridge: address(bridge),
                sequencingWindow: WINDOW,
                maxSequencerDrift: DRIFT,
                genesisOrigin: uint64(GENESIS),
                genesisOriginHash: chain.hashOf(GENESIS),
                genesisOriginTimestamp: uint64(chain.timestampOf(GENESIS)),
                l2GenesisTimestamp: uint64(chain.timestampOf(GENESIS))
            })
        );
    }

    function ghostCheckpoints() external view returns (IDepositChain.Checkpoint[] memory) {
        return _ghostCheckpoints;
    }

    // ------------------------------------------------------------------ moves

    function rollL1(uint256 blocks) external {
        chain.roll(bound(blocks, 1, 12));
    }

    /// @notice A user deposits ETH or forces a withdrawal (one to three messages).
    function message(uint256 seed) external {
        uint256 messages = bound(seed, 1, 3);
        vm.recordLogs();
        for (uint256 i; i < messages; ++i) {
            if (bridge.blockDepositGasUsed() + bridge.FORCED_WITHDRAWAL_GAS() > bridge.DEPOSIT_GAS_PER_L1_BLOCK()) {
                chain.roll(1);
            }
            vm.prank(user, user);
            if ((seed >> (8 + i)) & 1 == 0) bridge.deposit{value: 1 + i}(address(0), address(0), 1 + i, ETH_GAS);
            else bridge.withdraw(address(0), address(0), 1 + i);
        }
        _absorb(vm.getRecordedLogs());
    }

    /// @notice Records up to 20 origins (as far as L1 has blocks), sometimes starting with up to
    ///      three origins recorded already (someone else recorded them meanwhile).
    function recordOrigins(uint256 count) external {
        uint256 recorded = inbox.lastRecordedOrigin();
        uint256 overlap = (count >> 8) % 4;
        if (overlap > recorded - GENESIS) overlap = recorded - GENESIS;
        uint256 from = recorded + 1 - overlap;
        uint256 to = recorded + bound(count, 1, 20);
        if (to > block.number - 1) to = block.number - 1;
        if (to < from) return;
        inbox.recordOrigins(chain.headers(from, to));
    }

    /// @notice Forces the next blocks (one to five, while their windows have passed), recording
    ///      their origins (plus a few more) in the same calls if needed. Before the window has
    ///      passed, one call in four rolls L1 to its end (the batcher went quiet); the others do
    ///      nothing.
    function forceInclude(uint256 seed) external {
        uint256 origin = uint256(inbox.lastOrigin()) + 1;
        if (block.number < origin + WINDOW) {
            if (seed % 4 != 0) return;
            chain.roll(origin + WINDOW - block.number);
        }
        uint256 times = 1 + (seed >> 8) % 5;
        for (uint256 i; i < times && block.number >= uint256(inbox.lastOrigin()) + 1 + WINDOW; ++i) {
            origin = uint256(inbox.lastOrigin()) + 1;
            uint256 from = inbox.lastRecordedOrigin() + 1;
            uint256 to = from - 1;
            if (origin > to) to = origin + (seed >> (16 + 2 * i)) % 4;
            if (to > block.number - 1) to = block.number - 1;
            inbox.forceInclude(chain.headers(from, to));
            ++blocksForced;
        }
    }

    /// @dev The state a batch's blocks are planned from, moved along block by block.
    struct Plan {
        uint256 origin;
        uint256 timestamp;
        uint256 sameTimestampBlocks;
        uint256 maxOrigin;
    }

    /// @notice The batcher posts a random valid batch, if the sequencing window allows one; one
    ///         in three with transactions carries its segments in blobs (up to eight segments
    ///         of up to 32 KiB, so one to three blobs).
    function postBatch(uint256 seed) external {
        uint256 recorded = inbox.lastRecordedOrigin();
        Plan memory plan = Plan({
            origin: inbox.lastOrigin(),
            timestamp: inbox.lastTimestamp(),
            sameTimestampBlocks: inbox.blocksAtLastTimestamp(),
            // Origins up to the last finished L1 block, at most 100 new ones (the batch's size).
            maxOrigin: block.number - 1 > recorded + 100 ? recorded + 100 : block.number - 1
        });
        // The first block may move to the next origin; beyond that only forcing helps.
        if (block.number >= plan.origin + 1 + WINDOW) {
            ++postsSkipped;
            return;
        }
        Batches.Block[] memory blocks = _planBlocks(seed, plan);
        if (blocks.length == 0) {
            ++postsSkipped;
            return;
        }
        uint256 txTotal;
        for (uint256 i; i < blocks.length; ++i) {
            txTotal += blocks[i].txCount;
        }

        Batches.Batch memory batch;
        batch.firstBlock = inbox.nextBlock();
        batch.blocks = blocks;
        batch.headers = plan.origin > recorded ? chain.headers(recorded + 1, plan.origin) : new bytes[](0);
        bool inBlobs = txTotal != 0 && (seed >> 128) % 3 == 0;
        if (inBlobs) {
            batch.segments = _blobSegments(seed, txTotal);
        } else if (txTotal != 0) {
            batch.segments = new Batches.Segment[](1);
            // forge-lint: disable-next-line(unsafe-typecast)
            batch.segments[0] = Batches.Segment(Batches.noise(1 + seed % 200, seed), uint16(txTotal));
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        batch.depositCount = uint64(bridge.depositCountAt(plan.origin));
        if (inBlobs) {
            bytes32[] memory hashes =
                Batches.versionedHashes(Batches.blobCount(Batches.segmentBytes(batch.segments)), seed);
            uint256 index = inbox.recordCount();
            ghostBlobCount[index] = hashes.length;
            ghostBlobRoot[index] = Batches.versionedHashesRoot(hashes);
            vm.blobhashes(hashes);
            vm.prank(batcher, batcher);
            inbox.postBlobBatch(Batches.envelopeOnly(batch));
            ++blobBatchesPosted;
        } else {
            vm.prank(batcher, batcher);
            inbox.postBatch(Batches.encode(batch));
        }
        ++batchesPosted;
    }

    /// @dev One to eight segments (no more than `txTotal`) of 1 to 32 KiB for a blob batch,
    ///      holding `txTotal` transactions: one each, the rest in the first.
    function _blobSegments(uint256 seed, uint256 txTotal) internal pure returns (Batches.Segment[] memory segments) {
        uint256 count = 1 + (seed >> 136) % (txTotal < 8 ? txTotal : 8);
        uint256[] memory lengths = new uint256[](count);
        for (uint256 j; j < count; ++j) {
            lengths[j] = bound(uint256(keccak256(abi.encode(seed, "segment", j))), 1, 32_768);
        }
        segments = Batches.blankSegments(lengths);
        // casting is safe: txTotal is at most 24 blocks of 2 transactions
        // forge-lint: disable-next-line(unsafe-typecast)
        segments[0].txCount = uint16(txTotal - (count - 1));
    }

    /// @dev Up to 24 random blocks the rules allow from `plan` (fewer if the L2 chain runs
    ///      ahead of what its origins allow); `plan` ends at the last one.
    function _planBlocks(uint256 seed, Plan memory plan) internal view returns (Batches.Block[] memory blocks) {
        uint256 count = bound(seed, 1, 24);
        blocks = new Batches.Block[](count);
        uint256 built;
        for (; built < count; ++built) {
            uint256 r = uint256(keccak256(abi.encode(seed, built)));
            bool mustMove = built == 0 && block.number >= plan.origin + WINDOW;
            // A batcher falling behind L1 catches up: most blocks then move to the next origin.
            bool behind = plan.origin + WINDOW / 2 < block.number;
            bool move = mustMove || (plan.origin < plan.maxOrigin && (behind ? r % 4 != 0 : r % 4 == 0));
            if (move && plan.origin >= plan.maxOrigin) break; // no later L1 block to move to yet
            uint256 origin = move ? plan.origin + 1 : plan.origin;
            // The earliest timestamp the rules allow, then a random step of up to 2 s.
            uint256 originTimestamp = chain.timestampOf(origin);
            uint256 low = plan.timestamp < originTimestamp ? originTimestamp : plan.timestamp;
            if (low == plan.timestamp && plan.sameTimestampBlocks == 10) low = plan.timestamp + 1;
            if (low > originTimestamp + DRIFT) break; // the L2 chain ran ahead of its origin
            uint256 next = low + (r >> 8) % 3;
            if (next > originTimestamp + DRIFT) next = originTimestamp + DRIFT;
            blocks[built] = Batches.Block({
                originDelta: move ? 1 : 0,
                // casting is safe: steps are a few seconds, counts below 3
                // forge-lint: disable-next-line(unsafe-typecast)
                timestampDelta: uint32(next - plan.timestamp),
                // forge-lint: disable-next-line(unsafe-typecast)
                txCount: uint16((r >> 16) % 3)
            });
            plan.sameTimestampBlocks = next == plan.timestamp ? plan.sameTimestampBlocks + 1 : 1;
            plan.origin = origin;
            plan.timestamp = next;
        }
        assembly ("memory-safe") {
            mstore(blocks, built)
        }
    }

    // ------------------------------------------------------------------ ghost

    function _absorb(Vm.Log[] memory logs) internal {
        uint256 before = ghostCount;
        (ghostChain, ghostCount) = DepositChainLogs.extend(ghostChain, ghostCount, logs, address(bridge));
        if (ghostCount == before) return;
        uint256 n = _ghostCheckpoints.length;
        if (n != 0 && _ghostCheckpoints[n - 1].l1Block == block.number) {
            // forge-lint: disable-next-line(unsafe-typecast)
            _ghostCheckpoints[n - 1].count = uint64(ghostCount);
            _ghostCheckpoints[n - 1].chain = ghostChain;
        } else {
            _ghostCheckpoints.push(
                // forge-lint: disable-next-line(unsafe-typecast)
                IDepositChain.Checkpoint({l1Block: uint64(block.number), count: uint64(ghostCount), chain: ghostChain})
            );
        }
    }
}

contract BatchInboxInvariants is Test {
    BatchInboxHandler internal handler;
    BatchInbox internal inbox;
    L1Bridge internal bridge;
    L1Chain internal chain;

    function setUp() public {
        handler = new BatchInboxHandler();
        inbox = handler.inbox();
        bridge = handler.bridge();
        chain = handler.chain();
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = BatchInboxHandler.rollL1.selector;
        selectors[1] = BatchInboxHandler.message.selector;
        selectors[2] = BatchInboxHandler.recordOrigins.selector;
        selectors[3] = BatchInboxHandler.forceInclude.selector;
        selectors[4] = BatchInboxHandler.postBatch.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Records tile the L2 chain from block 1: each starts where the previous ended, and
    ///      the last ends at `nextBlock`.
    function invariant_recordsContiguous() public view {
        uint256 count = inbox.recordCount();
        uint256 expectedFirst = 1;
        for (uint256 i; i < count; ++i) {
            BatchInbox.Record memory record = inbox.records(i);
            assertEq(record.firstBlock, expectedFirst, "record does not start where the previous ended");
            assertGe(record.blockCount, 1, "empty record");
            assertEq(inbox.recordOf(record.firstBlock), i, "recordOf(first block)");
            expectedFirst = uint256(record.firstBlock) + record.blockCount;
            assertEq(inbox.recordOf(uint64(expectedFirst - 1)), i, "recordOf(last block)");
        }
        assertEq(inbox.nextBlock(), expectedFirst, "nextBlock != end of the last record");
        assertEq(count, handler.batchesPosted() + handler.blocksForced(), "records != appends");
    }

    /// @dev Records follow L1: origins and deposit counts never go back, every record's count
    ///      is the bridge's count at its last origin, and origins stay within the recorded ones.
    function invariant_recordsFollowL1() public view {
        uint256 count = inbox.recordCount();
        uint256 previousOrigin;
        uint256 previousDeposits;
        for (uint256 i; i < count; ++i) {
            BatchInbox.Record memory record = inbox.records(i);
            assertGe(record.lastOrigin, previousOrigin, "origin went back");
            assertGe(record.depositCount, previousDeposits, "deposit count went back");
            assertEq(record.depositCount, bridge.depositCountAt(record.lastOrigin), "deposit count != bridge's");
            assertLe(record.lastOrigin, inbox.lastRecordedOrigin(), "origin not recorded");
            assertLt(record.lastOrigin, record.l1Block, "origin not before the posting block");
            if (record.forced) {
                // Every forced origin's window had closed: the last one's too.
                assertLe(record.lastOrigin + handler.WINDOW(), record.l1Block, "forced an origin whose window was open");
                assertLe(record.blockCount, inbox.MAX_FORCED_BLOCKS_PER_CALL(), "too many forced blocks");
            }
            previousOrigin = record.lastOrigin;
            previousDeposits = record.depositCount;
        }
        assertEq(inbox.lastOrigin(), count == 0 ? handler.GENESIS() : previousOrigin, "cursor origin");
        assertGe(inbox.blocksAtLastTimestamp(), 1, "blocks at last timestamp below 1");
        assertLe(inbox.blocksAtLastTimestamp(), 10, "more than 10 blocks per second");
    }

    /// @dev A record's blobs are its transaction's: a blob batch records the count and versioned
    ///      hashes it carried, every other record none.
    function invariant_blobRecords() public view {
        uint256 count = inbox.recordCount();
        uint256 blobRecords;
        for (uint256 i; i < count; ++i) {
            BatchInbox.Record memory record = inbox.records(i);
            assertEq(record.blobCount, handler.ghostBlobCount(i), "blob count != the transaction's");
            if (record.blobCount == 0) continue;
            ++blobRecords;
            assertFalse(record.forced, "forced record with blobs");
            assertEq(record.segmentRoot, handler.ghostBlobRoot(i), "segment root != the versioned hashes'");
        }
        assertEq(blobRecords, handler.blobBatchesPosted(), "blob records != blob batches posted");
    }

    /// @dev Every recorded origin is L1's block: its hash and timestamp.
    function invariant_originsAreL1s() public view {
        uint256 last = inbox.lastRecordedOrigin();
        assertLt(last, block.number, "origin recorded before its block ended");
        for (uint256 n = inbox.genesisOrigin(); n <= last; ++n) {
            assertEq(inbox.originHash(n), chain.hashOf(n), "origin hash != L1's");
            assertEq(inbox.originTimestamp(n), chain.timestampOf(n), "origin timestamp != L1's");
        }
    }

    /// @dev Checkpoints: one per L1 block with messages, blocks increasing, counts increasing
    ///      and the last equal to `depositNonce`; chains equal the chain recomputed from logs.
    function invariant_depositCheckpoints() public view {
        IDepositChain.Checkpoint[] memory ghost = handler.ghostCheckpoints();
        uint256 count = bridge.checkpointCount();
        assertEq(count, ghost.length, "checkpoint count");
        uint256 previousBlock;
        uint256 previousCount;
        for (uint256 i; i < count; ++i) {
            IDepositChain.Checkpoint memory c = bridge.checkpoint(i);
            if (i != 0) assertGt(c.l1Block, previousBlock, "checkpoint blocks not increasing");
            assertGt(c.count, previousCount, "checkpoint counts not increasing");
            assertEq(c.l1Block, ghost[i].l1Block, "checkpoint block != logs'");
            assertEq(c.count, ghost[i].count, "checkpoint count != logs'");
            assertEq(c.chain, ghost[i].chain, "checkpoint chain != logs'");
            (uint256 atCount, bytes32 atChain) = bridge.depositChainAt(c.l1Block);
            assertEq(atCount, c.count, "depositChainAt(block).count");
            assertEq(atChain, c.chain, "depositChainAt(block).chain");
            previousBlock = c.l1Block;
            previousCount = c.count;
        }
        assertEq(previousCount, bridge.depositNonce(), "last checkpoint count != depositNonce");
        (uint256 headCount, bytes32 headChain) = bridge.depositChain();
        assertEq(headCount, bridge.depositNonce(), "depositChain count != depositNonce");
        assertEq(headCount, handler.ghostCount(), "count != messages in the logs");
        assertEq(headChain, handler.ghostChain(), "chain != chain of the logs");
    }
}
