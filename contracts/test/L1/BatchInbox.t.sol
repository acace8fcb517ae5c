// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm, console} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {OwnershipTests} from "test/utils/OwnershipTests.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Batches} from "test/utils/Batches.sol";
import {L1Chain} from "test/utils/L1Chain.sol";
import {L1Headers} from "test/utils/L1Headers.sol";
import {L1HeaderVectors} from "test/fixtures/L1HeaderVectors.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {L1Header} from "src/libraries/L1Header.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

/// @dev Calls the inbox from a contract, as a contract batcher or a forwarding account would.
contract InboxCaller {
    function post(BatchInbox inbox, bytes calldata data) external {
        inbox.postBatch(data);
    }

    function force(BatchInbox inbox, bytes[] calldata headers) external {
        inbox.forceInclude(headers);
    }
}

/// @dev A history contract that answers whatever it was told to, however long.
contract RawHistory {
    bytes internal answer;

    function setAnswer(bytes calldata answer_) external {
        answer = answer_;
    }

    fallback() external {
        bytes memory reply = answer;
        assembly ("memory-safe") {
            return(add(reply, 0x20), mload(reply))
        }
    }
}

/// @notice Shared setup: a simulated L1 (`L1Chain`) whose block GENESIS is the L2 genesis
///         origin, a real L1Bridge and the inbox behind its proxy; helpers that build valid
///         batches from the inbox's current state.
abstract contract BatchInboxBase is Test {
    event BatchAppended(
        uint256 indexed index,
        uint64 firstBlock,
        uint16 blockCount,
        uint64 lastOrigin,
        uint64 depositCount,
        bool forced,
        bytes32 dataHash,
        bytes32 segmentRoot,
        bytes32 blocksHash,
        uint8 blobCount,
        bool lastBlockOpen
    );
    event OpenBlockClosed(uint256 indexed index, uint64 l2Block);
    event OriginsRecorded(uint64 firstOrigin, uint64 lastOrigin, bytes32 lastHash);
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);
    event Initialized(uint64 version);

    uint64 internal constant WINDOW = 100;
    uint64 internal constant DRIFT = 600;
    uint256 internal constant GENESIS = 1000;
    uint256 internal constant TIMESTAMP_BASE = 1_700_000_000;
    uint32 internal constant ETH_GAS = 21_000;

    L1Chain internal chain;
    L1Bridge internal bridge;
    BatchInbox internal inbox;
    address internal owner;
    address internal batcher;
    address internal depositor;

    function setUp() public virtual {
        owner = makeAddr("owner");
        batcher = makeAddr("batcher");
        depositor = makeAddr("depositor");
        vm.deal(depositor, 1_000 ether);
        chain = new L1Chain(GENESIS, TIMESTAMP_BASE);
        bridge = BridgeFixtures.deployL1Bridge(address(1), 4242, makeAddr("proxyOwner"));
        inbox = Proxies.deployBatchInbox(_config());
    }

    // ------------------------------------------------------------------ helpers

    function _config() internal view returns (Proxies.InboxConfig memory) {
        return Proxies.InboxConfig({
            owner: owner,
            batcher: batcher,
            bridge: address(bridge),
            sequencingWindow: WINDOW,
            maxSequencerDrift: DRIFT,
            genesisOrigin: uint64(GENESIS),
            genesisOriginHash: chain.hashOf(GENESIS),
            genesisOriginTimestamp: uint64(chain.timestampOf(GENESIS)),
            l2GenesisTimestamp: uint64(chain.timestampOf(GENESIS))
        });
    }

    function _ts(uint256 l1Block) internal view returns (uint256) {
        return chain.timestampOf(l1Block);
    }

    /// @dev An ETH deposit in the current L1 block.
    function _deposit() internal {
        vm.prank(depositor, depositor);
        bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
    }

    /// @dev A batch continuing the inbox's chain: `headerCount` headers after the recorded
    ///      ones, the given blocks and segments, and the deposit count the bridge requires.
    function _batch(uint256 headerCount, Batches.Block[] memory blocks, Batches.Segment[] memory segments)
        internal
        returns (Batches.Batch memory batch)
    {
        return Batches.continuing(inbox, bridge, chain, headerCount, blocks, segments);
    }

    /// @dev `_batch` with no segments and empty blocks.
    function _emptyBlocks(uint256 headerCount, Batches.Block[] memory blocks) internal returns (bytes memory) {
        return Batches.encode(_batch(headerCount, blocks, new Batches.Segment[](0)));
    }

    /// @dev One segment of `length` random bytes holding `txCount` transactions.
    function _segments(uint256 length, uint16 txCount) internal pure returns (Batches.Segment[] memory segments) {
        segments = new Batches.Segment[](1);
        segments[0] = Batches.Segment(Batches.noise(length, length), txCount);
    }

    /// @dev The 12-block batch of the gas measurement: one new header, origin moves once.
    function _typicalBlocks() internal pure returns (Batches.Block[] memory blocks) {
        return _typicalBlocks(1);
    }

    /// @dev `_typicalBlocks` with `txCount` transactions per block.
    function _typicalBlocks(uint16 txCount) internal pure returns (Batches.Block[] memory blocks) {
        blocks = Batches.uniformBlocks(12, 0, 2, txCount);
        blocks[5].originDelta = 1; // block 6 at +12 s: the next L1 block's timestamp
    }

    function _post(bytes memory data) internal {
        vm.prank(batcher, batcher);
        inbox.postBatch(data);
    }

    function _postReverts(bytes memory data, bytes memory revertData) internal {
        vm.prank(batcher, batcher);
        vm.expectRevert(revertData);
        inbox.postBatch(data);
    }

    /// @dev Posts `envelope` as a blob batch from a transaction carrying `blobCount` blobs;
    ///      returns their versioned hashes.
    function _postBlob(bytes memory envelope, uint256 blobCount) internal returns (bytes32[] memory hashes) {
        hashes = Batches.versionedHashes(blobCount, inbox.recordCount());
        vm.blobhashes(hashes);
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);
    }

    function _postBlobReverts(bytes memory envelope, uint256 blobCount, bytes memory revertData) internal {
        vm.blobhashes(Batches.versionedHashes(blobCount, 0));
        vm.prank(batcher, batcher);
        vm.expectRevert(revertData);
        inbox.postBlobBatch(envelope);
    }

    /// @dev Segments of the given lengths for a blob batch (their bytes never reach the inbox),
    ///      holding `txTotal` transactions between them: one each, the rest in the first.
    function _blobSegments(uint256[] memory lengths, uint256 txTotal)
        internal
        pure
        returns (Batches.Segment[] memory segments)
    {
        segments = Batches.blankSegments(lengths);
        // forge-lint: disable-next-line(unsafe-typecast)
        segments[0].txCount = uint16(txTotal - (lengths.length - 1));
    }

    /// @dev `count` segment lengths: `length` each, the last `last`.
    function _lengths(uint256 count, uint256 length, uint256 last) internal pure returns (uint256[] memory lengths) {
        lengths = new uint256[](count);
        for (uint256 j; j < count; ++j) {
            lengths[j] = j + 1 == count ? last : length;
        }
    }

    /// @dev The headers from the next unrecorded origin up to `to`.
    function _headersUpTo(uint256 to) internal returns (bytes[] memory) {
        return chain.headers(inbox.lastRecordedOrigin() + 1, to);
    }

    function _noHeaders() internal pure returns (bytes[] memory) {
        return new bytes[](0);
    }

    /// @dev 21,000 plus the calldata cost (16 per nonzero byte, 4 per zero byte) of a call.
    function _intrinsicGas(bytes memory callData) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < callData.length; ++i) {
            gas += callData[i] == 0 ? 4 : 16;
        }
    }

    /// @dev Whether `selector` is one of the inbox's (or its header reader's) custom errors.
    function _isInboxError(bytes4 selector) internal pure returns (bool) {
        bytes4[36] memory known = [
            BatchInbox.BatchInbox_ZeroAddress.selector,
            BatchInbox.BatchInbox_ZeroSequencingWindow.selector,
            BatchInbox.BatchInbox_ZeroGenesisOriginHash.selector,
            BatchInbox.BatchInbox_GenesisOriginHashMismatch.selector,
            BatchInbox.BatchInbox_NotBatcher.selector,
            BatchInbox.BatchInbox_CallerNotEOA.selector,
            BatchInbox.BatchInbox_NonCanonicalCalldata.selector,
            BatchInbox.BatchInbox_BatchTooLarge.selector,
            BatchInbox.BatchInbox_BatchTruncated.selector,
            BatchInbox.BatchInbox_UnsupportedVersion.selector,
            BatchInbox.BatchInbox_UnexpectedFirstBlock.selector,
            BatchInbox.BatchInbox_InvalidBlockCount.selector,
            BatchInbox.BatchInbox_TooManySegments.selector,
            BatchInbox.BatchInbox_HeaderNumberMismatch.selector,
            BatchInbox.BatchInbox_ParentHashMismatch.selector,
            BatchInbox.BatchInbox_BlockHashUnavailable.selector,
            BatchInbox.BatchInbox_BlockHashMismatch.selector,
            BatchInbox.BatchInbox_OriginNotRecorded.selector,
            BatchInbox.BatchInbox_InvalidOriginDelta.selector,
            BatchInbox.BatchInbox_SequencingWindowExpired.selector,
            BatchInbox.BatchInbox_TooManyBlocksPerSecond.selector,
            BatchInbox.BatchInbox_TimestampBeforeOrigin.selector,
            BatchInbox.BatchInbox_TimestampDriftExceeded.selector,
            BatchInbox.BatchInbox_TimestampOverflow.selector,
            BatchInbox.BatchInbox_InvalidSegmentLength.selector,
            BatchInbox.BatchInbox_InvalidSegmentTxCount.selector,
            BatchInbox.BatchInbox_SegmentLengthMismatch.selector,
            BatchInbox.BatchInbox_TxCountMismatch.selector,
            BatchInbox.BatchInbox_DepositCountMismatch.selector,
            BatchInbox.BatchInbox_SequencingWindowOpen.selector,
            BatchInbox.BatchInbox_ForcedTimestampGapTooLarge.selector,
            BatchInbox.BatchInbox_NoBlobData.selector,
            BatchInbox.BatchInbox_BlobCountMismatch.selector,
            L1Header.L1Header_NotAList.selector,
            L1Header.L1Header_LengthMismatch.selector,
            L1Header.L1Header_ItemOutOfBounds.selector
        ];
        for (uint256 i; i < known.length; ++i) {
            if (selector == known[i]) return true;
        }
        return selector == L1Header.L1Header_BadField.selector
            || selector == BatchInbox.BatchInbox_UnknownRecord.selector
            || selector == BatchInbox.BatchInbox_BlockNotRecorded.selector;
    }

    /// @dev Asserts that a failed call reverted with one of the inbox's custom errors (never a
    ///      panic, a string or empty data).
    function _assertCustomError(bool ok, bytes memory result) internal pure {
        if (ok) return;
        assertTrue(result.length >= 4, "reverted without an error");
        assertTrue(_isInboxError(bytes4(result)), "reverted with something else than an inbox error");
    }
}

contract BatchInboxTest is BatchInboxBase {
    // ------------------------------------------------------------------ initialize

    function test_initialize_succeeds() public {
        assertEq(inbox.owner(), owner);
        assertEq(inbox.batcher(), batcher);
        assertEq(address(inbox.bridge()), address(bridge));
        assertEq(inbox.sequencingWindow(), WINDOW);
        assertEq(inbox.maxSequencerDrift(), DRIFT);
        assertEq(inbox.genesisOrigin(), GENESIS);
        assertEq(inbox.lastRecordedOrigin(), GENESIS);
        assertEq(inbox.originHash(GENESIS), chain.hashOf(GENESIS));
        assertEq(inbox.originTimestamp(GENESIS), _ts(GENESIS));
        assertEq(inbox.nextBlock(), 1);
        assertEq(inbox.lastOrigin(), GENESIS);
        assertEq(inbox.lastTimestamp(), _ts(GENESIS));
        assertEq(inbox.blocksAtLastTimestamp(), 1);
        assertEq(inbox.recordCount(), 0);

        address implementation = address(new BatchInbox());
        vm.expectEmit();
        emit BatcherUpdated(address(0), batcher);
        vm.expectEmit();
        emit Initialized(1);
        new TransparentUpgradeableProxy(implementation, owner, Proxies.inboxInitCall(_config()));
    }

    function test_initialize_constants_succeeds() public view {
        assertEq(inbox.BATCH_VERSION(), 2);
        assertEq(inbox.MAX_BATCH_SIZE(), 120_000);
        assertEq(inbox.MAX_BLOCKS_PER_BATCH(), 4096);
        assertEq(inbox.MAX_SEGMENTS_PER_BATCH(), 16);
        assertEq(inbox.MAX_SEGMENT_SIZE(), 32_768);
        assertEq(inbox.MAX_TRANSACTIONS_PER_SEGMENT(), 256);
        assertEq(inbox.MAX_L2_BLOCKS_PER_SECOND(), 10);
        assertEq(inbox.HISTORY_STORAGE_ADDRESS(), 0x0000F90827F1C53a10cb7A02335B175320002935);
        assertEq(inbox.BLOB_BYTES_PER_FIELD_ELEMENT(), 31);
        assertEq(inbox.BLOB_DATA_SIZE(), 4096 * inbox.BLOB_BYTES_PER_FIELD_ELEMENT());
        assertEq(inbox.BLOB_DATA_SIZE(), Batches.BLOB_DATA_SIZE);
    }

    function test_initialize_badConfig_reverts() public {
        address implementation = address(new BatchInbox());
        Proxies.InboxConfig memory config = _config();
        config.owner = address(0);
        _initReverts(implementation, config, abi.encodeWithSelector(BatchInbox.BatchInbox_ZeroAddress.selector));
        config = _config();
        config.batcher = address(0);
        _initReverts(implementation, config, abi.encodeWithSelector(BatchInbox.BatchInbox_ZeroAddress.selector));
        config = _config();
        config.bridge = address(0);
        _initReverts(implementation, config, abi.encodeWithSelector(BatchInbox.BatchInbox_ZeroAddress.selector));
        config = _config();
        config.sequencingWindow = 0;
        _initReverts(
            implementation, config, abi.encodeWithSelector(BatchInbox.BatchInbox_ZeroSequencingWindow.selector)
        );
        config = _config();
        config.genesisOriginHash = bytes32(0);
        _initReverts(
            implementation, config, abi.encodeWithSelector(BatchInbox.BatchInbox_ZeroGenesisOriginHash.selector)
        );
    }

    /// @dev A genesis hash L1 contradicts is refused, through `blockhash` and through EIP-2935.
    function test_initialize_genesisOriginHashMismatch_reverts() public {
        address implementation = address(new BatchInbox());
        Proxies.InboxConfig memory config = _config();
        config.genesisOriginHash = keccak256("another block");
        bytes memory mismatch =
            abi.encodeWithSelector(BatchInbox.BatchInbox_GenesisOriginHashMismatch.selector, GENESIS);
        _initReverts(implementation, config, mismatch);

        chain.roll(500);
        chain.enableHistory();
        _initReverts(implementation, config, mismatch);
        // The right hash still passes through the history contract.
        Proxies.deployBatchInbox(_config());
    }

    /// @dev A genesis origin L1 cannot vouch for (current, future, or too old without history)
    ///      is taken as given.
    function test_initialize_genesisOriginUnknowable_succeeds() public {
        Proxies.InboxConfig memory config = _config();
        config.genesisOriginHash = keccak256("unverifiable");
        config.genesisOrigin = uint64(block.number);
        assertEq(Proxies.deployBatchInbox(config).originHash(block.number), keccak256("unverifiable"));
        config.genesisOrigin = uint64(block.number + 1000);
        Proxies.deployBatchInbox(config);
        chain.roll(300);
        config.genesisOrigin = uint64(GENESIS);
        Proxies.deployBatchInbox(config);
    }

    function _initReverts(address implementation, Proxies.InboxConfig memory config, bytes memory revertData) internal {
        vm.expectRevert(revertData);
        new TransparentUpgradeableProxy(implementation, owner, Proxies.inboxInitCall(config));
    }

    function testFuzz_initialize_twice_reverts(address sender) public {
        vm.assume(sender != Proxies.adminOf(address(inbox)));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        inbox.initialize(sender, sender, sender, 1, 1, 0, keccak256("h"), 0, 0);
        assertEq(inbox.owner(), owner);
        assertEq(inbox.batcher(), batcher);
    }

    function testFuzz_initialize_implementation_reverts(address sender) public {
        BatchInbox implementation = new BatchInbox();
        assertEq(implementation.owner(), address(0));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        implementation.initialize(sender, sender, sender, 1, 1, 0, keccak256("h"), 0, 0);
    }

    // ------------------------------------------------------------------ setBatcher

    function testFuzz_setBatcher_succeeds(address newBatcher) public {
        vm.assume(newBatcher != address(0) && newBatcher != Proxies.adminOf(address(inbox)));
        vm.assume(newBatcher.code.length == 0 && newBatcher != address(vm));
        vm.expectEmit(address(inbox));
        emit BatcherUpdated(batcher, newBatcher);
        vm.prank(owner);
        inbox.setBatcher(newBatcher);
        assertEq(inbox.batcher(), newBatcher);

        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        if (newBatcher != batcher) {
            vm.expectRevert(BatchInbox.BatchInbox_NotBatcher.selector);
            vm.prank(batcher, batcher);
            inbox.postBatch(data);
        }
        vm.prank(newBatcher, newBatcher);
        inbox.postBatch(data);
        assertEq(inbox.recordCount(), 1);
    }

    function testFuzz_setBatcher_notOwner_reverts(address sender) public {
        vm.assume(sender != owner && sender != Proxies.adminOf(address(inbox)));
        vm.expectRevert(Ownable.Unauthorized.selector);
        vm.prank(sender);
        inbox.setBatcher(sender);
    }

    function test_setBatcher_zeroAddress_reverts() public {
        vm.expectRevert(BatchInbox.BatchInbox_ZeroAddress.selector);
        vm.prank(owner);
        inbox.setBatcher(address(0));
    }

    // ------------------------------------------------------------------ recordOrigins

    function test_recordOrigins_succeeds() public {
        chain.roll(10);
        bytes[] memory headers = _headersUpTo(GENESIS + 5);
        vm.expectEmit(address(inbox));
        emit OriginsRecorded(uint64(GENESIS + 1), uint64(GENESIS + 5), chain.hashOf(GENESIS + 5));
        inbox.recordOrigins(headers);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 5);
        for (uint256 n = GENESIS + 1; n <= GENESIS + 5; ++n) {
            assertEq(inbox.originHash(n), chain.hashOf(n));
            assertEq(inbox.originTimestamp(n), _ts(n));
        }
        // Continues from there; the cursor does not move.
        inbox.recordOrigins(_headersUpTo(GENESIS + 9));
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 9);
        assertEq(inbox.lastOrigin(), GENESIS);
        assertEq(inbox.recordCount(), 0);
    }

    /// @dev Two real (anvil) headers: genesis is block 1, block 2 is recorded.
    function test_recordOrigins_realHeader_succeeds() public {
        vm.roll(3);
        vm.setBlockhash(1, L1HeaderVectors.BLOCK_1_HASH);
        vm.setBlockhash(2, L1HeaderVectors.BLOCK_2_HASH);
        Proxies.InboxConfig memory config = _config();
        config.genesisOrigin = 1;
        config.genesisOriginHash = L1HeaderVectors.BLOCK_1_HASH;
        config.genesisOriginTimestamp = L1HeaderVectors.BLOCK_1_TIMESTAMP;
        BatchInbox real = Proxies.deployBatchInbox(config);
        bytes[] memory headers = new bytes[](1);
        headers[0] = L1HeaderVectors.BLOCK_2;
        real.recordOrigins(headers);
        assertEq(real.lastRecordedOrigin(), 2);
        assertEq(real.originHash(2), L1HeaderVectors.BLOCK_2_HASH);
        assertEq(real.originTimestamp(2), L1HeaderVectors.BLOCK_2_TIMESTAMP);
    }

    function test_recordOrigins_empty_succeeds() public {
        vm.recordLogs();
        inbox.recordOrigins(_noHeaders());
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(inbox.lastRecordedOrigin(), GENESIS);
    }

    /// @dev Anyone, a contract included, may record origins.
    function testFuzz_recordOrigins_anyone_succeeds(address caller) public {
        vm.assume(caller != Proxies.adminOf(address(inbox)));
        chain.roll(3);
        bytes[] memory headers = _headersUpTo(GENESIS + 2);
        vm.prank(caller);
        inbox.recordOrigins(headers);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 2);
    }

    /// @dev A run may start at an origin already recorded: the recorded headers must match and
    ///      change nothing; only the new ones are recorded (and announced).
    function test_recordOrigins_overlap_succeeds() public {
        chain.roll(10);
        inbox.recordOrigins(_headersUpTo(GENESIS + 3));
        bytes[] memory headers = chain.headers(GENESIS + 2, GENESIS + 5);
        vm.expectEmit(address(inbox));
        emit OriginsRecorded(uint64(GENESIS + 4), uint64(GENESIS + 5), chain.hashOf(GENESIS + 5));
        inbox.recordOrigins(headers);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 5);
        assertEq(inbox.originHash(GENESIS + 4), chain.hashOf(GENESIS + 4));

        // Only recorded origins: nothing happens, nothing is announced.
        vm.recordLogs();
        inbox.recordOrigins(chain.headers(GENESIS + 1, GENESIS + 5));
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 5);
    }

    /// @dev A header at a recorded height that is not the recorded block (a sibling with the
    ///      same parent) is refused.
    function test_recordOrigins_overlapFork_reverts() public {
        chain.roll(10);
        inbox.recordOrigins(_headersUpTo(GENESIS + 3));
        bytes[] memory headers = new bytes[](2);
        headers[0] = L1Headers.make(chain.hashOf(GENESIS + 1), GENESIS + 2, _ts(GENESIS + 2) + 1);
        headers[1] = chain.header(GENESIS + 3);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashMismatch.selector, GENESIS + 2));
        inbox.recordOrigins(headers);
    }

    function test_recordOrigins_numberMismatch_reverts() public {
        chain.roll(5);
        // Skips block GENESIS + 1.
        bytes[] memory headers = chain.headers(GENESIS + 2, GENESIS + 3);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInbox.BatchInbox_HeaderNumberMismatch.selector, GENESIS + 1, GENESIS + 2)
        );
        inbox.recordOrigins(headers);
        // Out of order.
        headers = chain.headers(GENESIS + 1, GENESIS + 3);
        (headers[1], headers[2]) = (headers[2], headers[1]);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInbox.BatchInbox_HeaderNumberMismatch.selector, GENESIS + 2, GENESIS + 3)
        );
        inbox.recordOrigins(headers);
        // The recorded block again.
        headers = chain.headers(GENESIS, GENESIS);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInbox.BatchInbox_HeaderNumberMismatch.selector, GENESIS + 1, GENESIS)
        );
        inbox.recordOrigins(headers);
    }

    function test_recordOrigins_parentHashMismatch_reverts() public {
        chain.roll(5);
        bytes[] memory headers = new bytes[](2);
        // A header of the right number but another parent (a fork).
        headers[0] = L1Headers.make(keccak256("fork"), GENESIS + 1, _ts(GENESIS + 1));
        headers[1] = chain.header(GENESIS + 2);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, GENESIS + 1));
        inbox.recordOrigins(headers);
        // The first header is right, the second does not follow it.
        headers[0] = chain.header(GENESIS + 1);
        headers[1] = L1Headers.make(keccak256("fork"), GENESIS + 2, _ts(GENESIS + 2));
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, GENESIS + 2));
        inbox.recordOrigins(headers);
    }

    /// @dev A well-linked chain of headers that L1 did not produce: its newest hash differs.
    function test_recordOrigins_blockHashMismatch_reverts() public {
        chain.roll(5);
        bytes[] memory headers = new bytes[](2);
        headers[0] = chain.header(GENESIS + 1);
        L1Headers.Header memory fake = L1Headers.defaults(chain.hashOf(GENESIS + 1), GENESIS + 2, _ts(GENESIS + 2));
        fake.extraData = "not the real block";
        headers[1] = L1Headers.encode(fake);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashMismatch.selector, GENESIS + 2));
        inbox.recordOrigins(headers);
    }

    /// @dev The current block and future blocks have no hash yet.
    function test_recordOrigins_currentBlock_reverts() public {
        bytes[] memory headers = new bytes[](1);
        headers[0] = L1Headers.make(chain.hashOf(GENESIS), block.number, block.timestamp);
        assertEq(block.number, GENESIS + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1));
        inbox.recordOrigins(headers);
    }

    /// @dev 256 blocks back is the oldest `blockhash` answers.
    function test_recordOrigins_blockhashBoundary_succeeds() public {
        chain.roll(256);
        assertEq(block.number, GENESIS + 257);
        inbox.recordOrigins(_headersUpTo(GENESIS + 1));
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 1);
    }

    function test_recordOrigins_tooOldWithoutHistory_reverts() public {
        chain.roll(257);
        assertEq(block.number, GENESIS + 258);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1));
        inbox.recordOrigins(headers);
    }

    /// @dev Beyond 256 blocks the inbox asks the EIP-2935 history contract (its real code).
    function test_recordOrigins_history_succeeds() public {
        chain.roll(2000);
        chain.enableHistory();
        bytes[] memory headers = _headersUpTo(GENESIS + 20);
        inbox.recordOrigins(headers);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 20);
        assertEq(inbox.originHash(GENESIS + 20), chain.hashOf(GENESIS + 20));

        // A wrong answer from the history contract is a mismatch.
        chain.sealTo(GENESIS + 21);
        vm.store(chain.HISTORY_STORAGE_ADDRESS(), bytes32((GENESIS + 21) % 8191), keccak256("wrong"));
        headers = _headersUpTo(GENESIS + 21);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashMismatch.selector, GENESIS + 21));
        inbox.recordOrigins(headers);
    }

    /// @dev The history contract serves 8191 blocks; older ones, and empty answers, are unavailable.
    function test_recordOrigins_historyUnavailable_reverts() public {
        chain.roll(300);
        chain.enableHistory();
        chain.sealTo(GENESIS + 2);
        vm.store(chain.HISTORY_STORAGE_ADDRESS(), bytes32((GENESIS + 2) % 8191), bytes32(0));
        bytes[] memory headers = _headersUpTo(GENESIS + 2);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 2));
        inbox.recordOrigins(headers);

        chain.roll(8191);
        headers = _headersUpTo(GENESIS + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1));
        inbox.recordOrigins(headers);
    }

    /// @dev A history contract answering anything but 32 bytes is not believed.
    function test_recordOrigins_historyMalformedAnswer_reverts() public {
        chain.roll(300);
        chain.sealTo(GENESIS + 1);
        RawHistory raw = new RawHistory();
        vm.etch(chain.HISTORY_STORAGE_ADDRESS(), address(raw).code);
        RawHistory history = RawHistory(chain.HISTORY_STORAGE_ADDRESS());
        bytes32 hash = chain.hashOf(GENESIS + 1);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);
        bytes memory unavailable =
            abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1);

        history.setAnswer(bytes.concat(hash, bytes32(0)));
        vm.expectRevert(unavailable);
        inbox.recordOrigins(headers);
        history.setAnswer(abi.encodePacked(bytes31(hash)));
        vm.expectRevert(unavailable);
        inbox.recordOrigins(headers);
        history.setAnswer(abi.encodePacked(hash));
        inbox.recordOrigins(headers);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 1);
    }

    function test_recordOrigins_malformedHeader_reverts() public {
        chain.roll(5);
        bytes[] memory headers = new bytes[](1);
        headers[0] = hex"";
        vm.expectRevert(L1Header.L1Header_NotAList.selector);
        inbox.recordOrigins(headers);
        headers[0] = bytes.concat(chain.header(GENESIS + 1), hex"00");
        vm.expectRevert(L1Header.L1Header_LengthMismatch.selector);
        inbox.recordOrigins(headers);
        headers[0] = L1Headers.encodeList(bytes.concat(hex"a0", bytes32(0), hex"0102"));
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 3));
        inbox.recordOrigins(headers);
    }

    function testFuzz_recordOrigins_randomHeaders_onlyCustomErrors(bytes[] calldata headers, uint8 roll) public {
        chain.roll(roll);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.recordOrigins, (headers)));
        _assertCustomError(ok, result);
        if (headers.length != 0) assertFalse(ok, "random headers accepted");
    }

    // ------------------------------------------------------------------ postBatch: success

    function test_postBatch_typical_succeeds() public {
        chain.roll(5);
        Batches.Batch memory batch = _batch(1, _typicalBlocks(), _segments(20_000, 12));
        bytes memory data = Batches.encode(batch);
        bytes memory blockTable = Batches.blockTable(batch.blocks);
        bytes32 segmentRoot = keccak256(batch.segments[0].data);

        vm.expectEmit(address(inbox));
        emit OriginsRecorded(uint64(GENESIS + 1), uint64(GENESIS + 1), chain.hashOf(GENESIS + 1));
        vm.expectEmit(address(inbox));
        emit BatchAppended(
            0, 1, 12, uint64(GENESIS + 1), 0, false, keccak256(data), segmentRoot, keccak256(blockTable), 0, false
        );
        _post(data);

        BatchInbox.Record memory record = inbox.records(0);
        assertEq(record.firstBlock, 1);
        assertEq(record.blockCount, 12);
        assertEq(record.lastOrigin, GENESIS + 1);
        assertEq(record.depositCount, 0);
        assertEq(record.l1Block, block.number);
        assertFalse(record.forced);
        assertEq(record.blobCount, 0);
        assertEq(record.dataHash, keccak256(data));
        assertEq(record.segmentRoot, segmentRoot);
        assertEq(record.blocksHash, keccak256(blockTable));

        assertEq(inbox.recordCount(), 1);
        assertEq(inbox.nextBlock(), 13);
        assertEq(inbox.lastOrigin(), GENESIS + 1);
        assertEq(inbox.lastTimestamp(), _ts(GENESIS) + 24);
        assertEq(inbox.blocksAtLastTimestamp(), 1);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 1);
        assertEq(inbox.originHash(GENESIS + 1), chain.hashOf(GENESIS + 1));
        for (uint64 b = 1; b <= 12; ++b) {
            assertEq(inbox.recordOf(b), 0);
        }
    }

    /// @dev Segment roots for 0..16 segments follow the spec's merkleRoot (checked against a
    ///      recursive implementation), and a block's transactions may span segments.
    function testFuzz_postBatch_segmentRoot_succeeds(uint256 segmentCount, uint256 seed) public {
        segmentCount = bound(segmentCount, 0, 16);
        Batches.Segment[] memory segments = new Batches.Segment[](segmentCount);
        uint256 txTotal;
        for (uint256 j; j < segmentCount; ++j) {
            uint256 length = bound(uint256(keccak256(abi.encode(seed, j))), 1, 2_000);
            uint16 txCount = uint16(bound(uint256(keccak256(abi.encode(seed, j, "tx"))), 1, 256));
            segments[j] = Batches.Segment(Batches.noise(length, uint256(keccak256(abi.encode(seed, j)))), txCount);
            txTotal += txCount;
        }
        // Three blocks share the transactions unevenly (the last may hold none).
        Batches.Block[] memory blocks = Batches.uniformBlocks(3, 0, 1, 0);
        blocks[0].txCount = uint16(txTotal / 3);
        blocks[1].txCount = uint16(txTotal - txTotal / 3);
        Batches.Batch memory batch = _batch(0, blocks, segments);
        _post(Batches.encode(batch));
        bytes32 expected = Batches.segmentRoot(segments);
        assertEq(inbox.records(0).segmentRoot, expected);
        if (segmentCount == 0) assertEq(expected, bytes32(0));
        if (segmentCount == 1) assertEq(expected, keccak256(segments[0].data));
    }

    function test_postBatch_maximalShape_succeeds() public {
        // 4096 empty blocks, ten per second: the timestamps stay within the drift.
        Batches.Block[] memory blocks = new Batches.Block[](4096);
        for (uint256 i; i < 4096; i += 10) {
            blocks[i].timestampDelta = 1;
        }
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.nextBlock(), 4097);
        assertEq(inbox.recordOf(4096), 0);
        assertEq(inbox.blocksAtLastTimestamp(), 6);
    }

    function test_postBatch_largestBatch_succeeds() public {
        // 16 segments summing to exactly MAX_BATCH_SIZE.
        Batches.Block[] memory blocks = Batches.uniformBlocks(1, 0, 1, 16);
        Batches.Segment[] memory segments = new Batches.Segment[](16);
        uint256 overhead = Batches.FIXED_SIZE + 7 + 16 * 6;
        uint256 total = 120_000 - overhead;
        for (uint256 j; j < 16; ++j) {
            uint256 length = j < 15 ? total / 16 : total - 15 * (total / 16);
            segments[j] = Batches.Segment(Batches.noise(length, j), 1);
        }
        bytes memory data = Batches.encode(_batch(0, blocks, segments));
        assertEq(data.length, 120_000);
        _post(data);
        assertEq(inbox.records(0).segmentRoot, Batches.segmentRoot(segments));
    }

    /// @dev A batch can record as many headers as fit in MAX_BATCH_SIZE (about 190 real ones).
    function test_postBatch_manyHeaders_succeeds() public {
        // A window long enough for a batch whose first origin is 180 blocks old.
        Proxies.InboxConfig memory config = _config();
        config.sequencingWindow = 3_600;
        inbox = Proxies.deployBatchInbox(config);
        chain.roll(180);
        Batches.Block[] memory blocks = Batches.uniformBlocks(1, 1, 12, 0);
        bytes memory data = _emptyBlocks(180, blocks);
        _post(data);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 180);
        assertEq(inbox.lastOrigin(), GENESIS + 1);
        assertEq(inbox.originHash(GENESIS + 100), chain.hashOf(GENESIS + 100));
    }

    /// @dev Batches chain: the second starts where the first ended and its origins may use the
    ///      headers recorded by the first, or recorded separately.
    function test_postBatch_sequence_succeeds() public {
        chain.roll(20);
        _post(_emptyBlocks(3, _typicalBlocks(0)));
        inbox.recordOrigins(_headersUpTo(GENESIS + 10));
        Batches.Block[] memory blocks = Batches.uniformBlocks(6, 1, 12, 0);
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.recordCount(), 2);
        assertEq(inbox.records(1).firstBlock, 13);
        assertEq(inbox.records(1).lastOrigin, GENESIS + 7);
        assertEq(inbox.nextBlock(), 19);
        assertEq(inbox.recordOf(12), 0);
        assertEq(inbox.recordOf(13), 1);
        assertEq(inbox.recordOf(18), 1);
    }

    // ------------------------------------------------------------------ postBatch: caller and calldata

    function testFuzz_postBatch_notBatcher_reverts(address sender) public {
        vm.assume(sender != batcher && sender != Proxies.adminOf(address(inbox)));
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        vm.expectRevert(BatchInbox.BatchInbox_NotBatcher.selector);
        vm.prank(sender, sender);
        inbox.postBatch(data);
    }

    function testFuzz_postBatch_notTopLevel_reverts(address origin) public {
        vm.assume(origin != batcher);
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        vm.expectRevert(BatchInbox.BatchInbox_CallerNotEOA.selector);
        vm.prank(batcher, origin);
        inbox.postBatch(data);
    }

    /// @dev A batcher with code (a contract, or an EIP-7702 delegated EOA whose code could
    ///      call the inbox from a transaction to itself) is refused even when it is tx.origin.
    function test_postBatch_batcherWithCode_reverts() public {
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        vm.etch(batcher, abi.encodePacked(hex"ef0100", address(new InboxCaller())));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_CallerNotEOA.selector));

        // A contract batcher cannot post through itself either.
        InboxCaller caller = new InboxCaller();
        vm.prank(owner);
        inbox.setBatcher(address(caller));
        vm.expectRevert(BatchInbox.BatchInbox_CallerNotEOA.selector);
        caller.post(inbox, data);
    }

    function test_postBatch_nonCanonicalCalldata_reverts() public {
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        assertTrue(data.length % 32 != 0, "the test needs padding");
        bytes memory canonical = abi.encodeCall(BatchInbox.postBatch, (data));
        bytes memory nonCanonical = abi.encodeWithSelector(BatchInbox.BatchInbox_NonCanonicalCalldata.selector);

        // Offset 0x40, with a spare word before the length.
        _rawPostReverts(
            bytes.concat(BatchInbox.postBatch.selector, bytes32(uint256(0x40)), bytes32(0), _tail(canonical, 36)),
            nonCanonical
        );
        // A trailing word.
        _rawPostReverts(bytes.concat(canonical, bytes32(0)), nonCanonical);
        // A trailing byte.
        _rawPostReverts(bytes.concat(canonical, hex"00"), nonCanonical);
        // Nonzero padding.
        bytes memory dirty = bytes.concat(canonical);
        dirty[dirty.length - 1] = 0x01;
        _rawPostReverts(dirty, nonCanonical);
        // Padding missing.
        _rawPostReverts(Batches.truncate(canonical, 4 + 64 + data.length), nonCanonical);

        // The canonical encoding passes.
        vm.prank(batcher, batcher);
        (bool ok,) = address(inbox).call(canonical);
        assertTrue(ok);
    }

    function _tail(bytes memory data, uint256 from) internal pure returns (bytes memory out) {
        out = new bytes(data.length - from);
        for (uint256 i; i < out.length; ++i) {
            out[i] = data[from + i];
        }
    }

    function _rawPostReverts(bytes memory callData, bytes memory revertData) internal {
        vm.prank(batcher, batcher);
        (bool ok, bytes memory result) = address(inbox).call(callData);
        assertFalse(ok, "non-canonical calldata accepted");
        assertEq(result, revertData);
    }

    // ------------------------------------------------------------------ postBatch: envelope

    function test_postBatch_tooLarge_reverts() public {
        bytes memory data = new bytes(120_001);
        data[0] = 0x02;
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_BatchTooLarge.selector, 120_001));
    }

    function test_postBatch_version_reverts() public {
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        data[0] = 0x01;
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_UnsupportedVersion.selector, 1));
        _postReverts(hex"03", abi.encodeWithSelector(BatchInbox.BatchInbox_UnsupportedVersion.selector, 3));
    }

    function test_postBatch_truncated_reverts() public {
        bytes memory truncated = abi.encodeWithSelector(BatchInbox.BatchInbox_BatchTruncated.selector);
        _postReverts("", truncated);
        _postReverts(hex"02", truncated);
        chain.roll(3);
        Batches.Batch memory batch = _batch(2, Batches.uniformBlocks(3, 0, 1, 0), new Batches.Segment[](0));
        bytes memory data = Batches.encode(batch);
        // Every cut inside the fixed fields, the headers or the block table is a truncation.
        uint256[6] memory cuts = [uint256(20), 21, 22, 23 + 100, data.length - 7, data.length - 1];
        for (uint256 i; i < cuts.length; ++i) {
            _postReverts(Batches.truncate(data, cuts[i]), truncated);
        }
        // The segment table announced but cut.
        Batches.Segment[] memory segments = _segments(10, 1);
        batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), segments);
        data = Batches.encode(batch);
        _postReverts(Batches.truncate(data, data.length - 10 - 1), truncated);
    }

    function test_postBatch_firstBlock_reverts() public {
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        Batches.setField(data, Batches.FIRST_BLOCK_OFFSET, 8, 2);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_UnexpectedFirstBlock.selector, 1, 2));
        Batches.setField(data, Batches.FIRST_BLOCK_OFFSET, 8, 0);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_UnexpectedFirstBlock.selector, 1, 0));
        // Posting the same batch twice: the second no longer starts at nextBlock.
        Batches.setField(data, Batches.FIRST_BLOCK_OFFSET, 8, 1);
        _post(data);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_UnexpectedFirstBlock.selector, 2, 1));
    }

    function test_postBatch_blockCount_reverts() public {
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        Batches.setField(data, Batches.BLOCK_COUNT_OFFSET, 2, 0);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidBlockCount.selector, 0));
        data = _emptyBlocks(0, Batches.uniformBlocks(4097, 0, 0, 0));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidBlockCount.selector, 4097));
    }

    function test_postBatch_tooManySegments_reverts() public {
        Batches.Segment[] memory segments = new Batches.Segment[](17);
        for (uint256 j; j < 17; ++j) {
            segments[j] = Batches.Segment(hex"aa", 1);
        }
        bytes memory data = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 17), segments));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_TooManySegments.selector, 17));
    }

    /// @dev Headers in a batch are checked like `recordOrigins`': the newest against
    ///      `blockhash`, or EIP-2935 beyond 256 blocks, and never the current block.
    function test_postBatch_headerHashSources_succeeds() public {
        Proxies.InboxConfig memory config = _config();
        config.sequencingWindow = 3_600;
        inbox = Proxies.deployBatchInbox(config);
        Batches.Block[] memory blocks = Batches.uniformBlocks(1, 1, 12, 0);

        // A header of the current block is never accepted.
        Batches.Batch memory batch = _batch(0, blocks, new Batches.Segment[](0));
        batch.headers = new bytes[](1);
        batch.headers[0] = L1Headers.make(chain.hashOf(GENESIS), block.number, block.timestamp);
        _postReverts(
            Batches.encode(batch),
            abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1)
        );

        // Beyond 256 blocks: unavailable without history; with it, the batch lands.
        chain.roll(400);
        bytes memory data = _emptyBlocks(1, blocks);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, GENESIS + 1));
        chain.enableHistory();
        _post(data);
        assertEq(inbox.originHash(GENESIS + 1), chain.hashOf(GENESIS + 1));
    }

    /// @dev Someone recording some of a batch's headers first does not make the batch revert.
    function test_postBatch_headersRecordedMeanwhile_succeeds() public {
        chain.roll(5);
        Batches.Block[] memory blocks = Batches.uniformBlocks(3, 1, 12, 0);
        bytes memory data = _emptyBlocks(3, blocks);
        inbox.recordOrigins(_headersUpTo(GENESIS + 2)); // front-runs the batch
        _post(data);
        assertEq(inbox.lastRecordedOrigin(), GENESIS + 3);
        assertEq(inbox.lastOrigin(), GENESIS + 3);
    }

    function test_postBatch_headers_reverts() public {
        chain.roll(5);
        Batches.Batch memory batch = _batch(2, Batches.uniformBlocks(1, 0, 1, 0), new Batches.Segment[](0));
        // Wrong number.
        batch.headers[0] = chain.header(GENESIS + 2);
        _postReverts(
            Batches.encode(batch),
            abi.encodeWithSelector(BatchInbox.BatchInbox_HeaderNumberMismatch.selector, GENESIS + 1, GENESIS + 2)
        );
        // Forked parent.
        batch.headers[0] = L1Headers.make(keccak256("fork"), GENESIS + 1, _ts(GENESIS + 1));
        _postReverts(
            Batches.encode(batch),
            abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, GENESIS + 1)
        );
        // Not L1's block.
        batch.headers[0] = chain.header(GENESIS + 1);
        batch.headers[1] = L1Headers.make(chain.hashOf(GENESIS + 1), GENESIS + 2, _ts(GENESIS + 2) + 1);
        _postReverts(
            Batches.encode(batch), abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashMismatch.selector, GENESIS + 2)
        );
        // Malformed RLP.
        batch.headers[1] = hex"c0";
        _postReverts(Batches.encode(batch), abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 0));
    }

    // ------------------------------------------------------------------ postBatch: blocks

    function test_postBatch_originDelta_reverts() public {
        chain.roll(5);
        inbox.recordOrigins(_headersUpTo(GENESIS + 3));
        Batches.Block[] memory blocks = Batches.uniformBlocks(3, 0, 12, 0);
        blocks[2].originDelta = 2;
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidOriginDelta.selector, 3)
        );
        blocks[2].originDelta = 255;
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidOriginDelta.selector, 3)
        );
    }

    function test_postBatch_originNotRecorded_reverts() public {
        chain.roll(5);
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 1, 12, 0);
        // One header recorded in the batch, two origins used.
        _postReverts(
            _emptyBlocks(1, blocks),
            abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, GENESIS + 2)
        );
        _postReverts(
            _emptyBlocks(0, blocks),
            abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, GENESIS + 1)
        );
        _post(_emptyBlocks(2, blocks));
    }

    /// @dev The first block's origin must be younger than the sequencing window; the boundary
    ///      is `block.number == origin + sequencingWindow`.
    function test_postBatch_sequencingWindow_reverts() public {
        // At origin + 2 * window - 1 the batch lands (checked on a snapshot): one window for
        // the sequencer, then one of grace in which forcing races it.
        chain.roll(2 * WINDOW - 2);
        assertEq(block.number, GENESIS + 2 * WINDOW - 1);
        bytes memory data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        uint256 snapshot = vm.snapshotState();
        _post(data);
        vm.revertToState(snapshot);

        chain.roll(1);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_SequencingWindowExpired.selector, GENESIS));
        // Moving the first block to the next origin reopens it; later blocks are not checked.
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 0, 12, 0);
        blocks[0].originDelta = 1;
        _post(_emptyBlocks(1, blocks));
    }

    function test_postBatch_timestampBeforeOrigin_reverts() public {
        chain.roll(5);
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 0, 1, 0);
        blocks[1].originDelta = 1; // origin timestamp +12, block timestamp +2
        _postReverts(
            _emptyBlocks(1, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_TimestampBeforeOrigin.selector, 2)
        );
        blocks[1].timestampDelta = 11; // exactly the origin's timestamp
        _post(_emptyBlocks(1, blocks));
    }

    function test_postBatch_drift_reverts() public {
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 0, uint32(DRIFT / 2), 0);
        blocks[1].timestampDelta = uint32(DRIFT / 2 + 1);
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_TimestampDriftExceeded.selector, 2)
        );
        blocks[1].timestampDelta = uint32(DRIFT / 2);
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.lastTimestamp(), _ts(GENESIS) + DRIFT);
    }

    /// @dev A block's timestamp must fit 64 bits even where the drift would allow more.
    function test_postBatch_timestampOverflow_reverts() public {
        Proxies.InboxConfig memory config = _config();
        config.maxSequencerDrift = type(uint64).max;
        config.genesisOrigin = uint64(block.number + 5); // unverifiable, so any timestamp goes
        config.genesisOriginTimestamp = type(uint64).max - 1;
        config.l2GenesisTimestamp = type(uint64).max - 1;
        inbox = Proxies.deployBatchInbox(config);
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 0, 1, 0);
        // The origin is in the future: the window check passes (block.number < origin + window).
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_TimestampOverflow.selector, 2)
        );
    }

    function test_postBatch_tenBlocksPerSecond_reverts() public {
        // Genesis holds one slot of its second: nine more fit, a tenth does not.
        Batches.Block[] memory blocks = Batches.uniformBlocks(10, 0, 0, 0);
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_TooManyBlocksPerSecond.selector, 10)
        );
        blocks = Batches.uniformBlocks(9, 0, 0, 0);
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.blocksAtLastTimestamp(), 10);
        assertEq(inbox.lastTimestamp(), _ts(GENESIS));

        // Within one batch: 1 + 10 at the next second is one too many.
        blocks = Batches.uniformBlocks(11, 0, 0, 0);
        blocks[0].timestampDelta = 1;
        _postReverts(
            _emptyBlocks(0, blocks), abi.encodeWithSelector(BatchInbox.BatchInbox_TooManyBlocksPerSecond.selector, 20)
        );
    }

    /// @dev The count carries across batches: 6 + 4 at one second fit, one more does not, and
    ///      a block at a later second starts again from one.
    function test_postBatch_tenBlocksPerSecondAcrossBatches_reverts() public {
        Batches.Block[] memory blocks = Batches.uniformBlocks(6, 0, 0, 0);
        blocks[0].timestampDelta = 1;
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.blocksAtLastTimestamp(), 6);
        _post(_emptyBlocks(0, Batches.uniformBlocks(4, 0, 0, 0)));
        assertEq(inbox.blocksAtLastTimestamp(), 10);
        _postReverts(
            _emptyBlocks(0, Batches.uniformBlocks(1, 0, 0, 0)),
            abi.encodeWithSelector(BatchInbox.BatchInbox_TooManyBlocksPerSecond.selector, 11)
        );
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0)));
        assertEq(inbox.blocksAtLastTimestamp(), 1);
    }

    // ------------------------------------------------------------------ postBatch: segments

    function test_postBatch_segmentLength_reverts() public {
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(10, 1));
        bytes memory data = Batches.encode(batch);
        uint256 table = Batches.blockTableOffset(batch) + 7;
        Batches.setField(data, table, 4, 0);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidSegmentLength.selector, 0, 0));

        // One byte over MAX_SEGMENT_SIZE.
        batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(32_769, 1));
        _postReverts(
            Batches.encode(batch),
            abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidSegmentLength.selector, 0, 32_769)
        );
        batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(32_768, 1));
        _post(Batches.encode(batch));
    }

    function test_postBatch_segmentTxCount_reverts() public {
        Batches.Segment[] memory segments = new Batches.Segment[](2);
        segments[0] = Batches.Segment(hex"aabb", 1);
        segments[1] = Batches.Segment(hex"cc", 0);
        bytes memory data = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 1), segments));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidSegmentTxCount.selector, 1, 0));
        segments[1].txCount = 257;
        data = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 258), segments));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidSegmentTxCount.selector, 1, 257));
        segments[1].txCount = 256;
        _post(Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 257), segments)));
    }

    function test_postBatch_segmentBytes_reverts() public {
        bytes memory data = Batches.encode(_batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(10, 1)));
        // A byte after the last segment.
        _postReverts(
            bytes.concat(data, hex"00"),
            abi.encodeWithSelector(BatchInbox.BatchInbox_SegmentLengthMismatch.selector, 11, 10)
        );
        // No segments but bytes after the table.
        data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0));
        _postReverts(
            bytes.concat(data, hex"00"),
            abi.encodeWithSelector(BatchInbox.BatchInbox_SegmentLengthMismatch.selector, 1, 0)
        );
        // Segments longer than the bytes left.
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(10, 1));
        data = Batches.encode(batch);
        Batches.setField(data, Batches.blockTableOffset(batch) + 7, 4, 11);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_SegmentLengthMismatch.selector, 10, 11));
    }

    function test_postBatch_txCountMismatch_reverts() public {
        bytes memory data = Batches.encode(_batch(0, Batches.uniformBlocks(2, 0, 1, 3), _segments(10, 5)));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_TxCountMismatch.selector, 6, 5));
        // Transactions in blocks but no segment.
        data = _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 1));
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_TxCountMismatch.selector, 1, 0));
    }

    // ------------------------------------------------------------------ postBatch: deposits

    /// @dev A batch must include exactly the bridge messages of L1 blocks up to its last origin.
    function test_postBatch_depositCount_succeeds() public {
        _deposit(); // in GENESIS + 1
        chain.roll(2);
        _deposit(); // in GENESIS + 3
        _deposit();
        chain.roll(2);

        // Last origin GENESIS: no messages.
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0)));
        assertEq(inbox.records(0).depositCount, 0);
        // Last origin GENESIS + 2: the one of GENESIS + 1.
        Batches.Block[] memory blocks = Batches.uniformBlocks(2, 1, 12, 0);
        bytes memory data = _emptyBlocks(2, blocks);
        Batches.setField(data, Batches.DEPOSIT_COUNT_OFFSET, 8, 0);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_DepositCountMismatch.selector, 1, 0));
        Batches.setField(data, Batches.DEPOSIT_COUNT_OFFSET, 8, 3);
        _postReverts(data, abi.encodeWithSelector(BatchInbox.BatchInbox_DepositCountMismatch.selector, 1, 3));
        Batches.setField(data, Batches.DEPOSIT_COUNT_OFFSET, 8, 1);
        _post(data);
        assertEq(inbox.records(1).depositCount, 1);
        // Last origin GENESIS + 3: all three.
        _post(_emptyBlocks(1, Batches.uniformBlocks(1, 1, 12, 0)));
        assertEq(inbox.records(2).depositCount, 3);
    }

    // ------------------------------------------------------------------ postBlobBatch

    /// @dev The typical batch with its segment in one blob: the record commits to the envelope
    ///      and the versioned hash, and the cursor moves as for a calldata batch.
    function test_postBlobBatch_oneBlob_succeeds() public {
        chain.roll(5);
        Batches.Batch memory batch = _batch(1, _typicalBlocks(), _segments(20_000, 12));
        bytes memory envelope = Batches.envelopeOnly(batch);
        bytes memory blockTable = Batches.blockTable(batch.blocks);
        bytes32[] memory hashes = Batches.versionedHashes(1, 0);
        vm.blobhashes(hashes);

        vm.expectEmit(address(inbox));
        emit OriginsRecorded(uint64(GENESIS + 1), uint64(GENESIS + 1), chain.hashOf(GENESIS + 1));
        vm.expectEmit(address(inbox));
        emit BatchAppended(
            0,
            1,
            12,
            uint64(GENESIS + 1),
            0,
            false,
            keccak256(envelope),
            keccak256(abi.encode(hashes[0])),
            keccak256(blockTable),
            1,
            false
        );
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);

        BatchInbox.Record memory record = inbox.records(0);
        assertEq(record.firstBlock, 1);
        assertEq(record.blockCount, 12);
        assertEq(record.lastOrigin, GENESIS + 1);
        assertEq(record.depositCount, 0);
        assertEq(record.l1Block, block.number);
        assertFalse(record.forced);
        assertEq(record.blobCount, 1);
        assertEq(record.dataHash, keccak256(envelope));
        assertEq(record.segmentRoot, keccak256(abi.encode(hashes[0])));
        assertEq(record.blocksHash, keccak256(blockTable));

        assertEq(inbox.recordCount(), 1);
        assertEq(inbox.nextBlock(), 13);
        assertEq(inbox.lastOrigin(), GENESIS + 1);
        assertEq(inbox.lastTimestamp(), _ts(GENESIS) + 24);
        assertEq(inbox.recordOf(12), 0);
    }

    /// @dev One byte more than a blob's data takes a second blob; the root commits to both
    ///      versioned hashes in order.
    function test_postBlobBatch_twoBlobs_succeeds() public {
        uint256[] memory lengths = _lengths(4, 32_768, Batches.BLOB_DATA_SIZE + 1 - 3 * 32_768);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(12, 0, 2, 0), _blobSegments(lengths, 12));
        batch.blocks[0].txCount = 12;
        assertEq(Batches.segmentBytes(batch.segments), Batches.BLOB_DATA_SIZE + 1);
        bytes memory envelope = Batches.envelopeOnly(batch);
        bytes32[] memory hashes = Batches.versionedHashes(2, 7);
        vm.blobhashes(hashes);
        bytes32 root = keccak256(abi.encodePacked(hashes[0], hashes[1]));

        vm.expectEmit(address(inbox));
        emit BatchAppended(
            0,
            1,
            12,
            uint64(GENESIS),
            0,
            false,
            keccak256(envelope),
            root,
            keccak256(Batches.blockTable(batch.blocks)),
            2,
            false
        );
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);
        assertEq(inbox.records(0).blobCount, 2);
        assertEq(inbox.records(0).segmentRoot, root);
        assertEq(root, Batches.versionedHashesRoot(hashes));
        // The order of the blobs matters.
        assertTrue(root != keccak256(abi.encodePacked(hashes[1], hashes[0])));
    }

    /// @dev Segments filling exactly one blob's data need one blob, not two.
    function test_postBlobBatch_exactlyOneBlob_succeeds() public {
        uint256[] memory lengths = _lengths(4, 32_768, Batches.BLOB_DATA_SIZE - 3 * 32_768);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 4), _blobSegments(lengths, 4));
        assertEq(Batches.segmentBytes(batch.segments), Batches.BLOB_DATA_SIZE);
        bytes memory envelope = Batches.envelopeOnly(batch);
        _postBlobReverts(envelope, 2, abi.encodeWithSelector(BatchInbox.BatchInbox_BlobCountMismatch.selector, 1, 2));
        bytes32[] memory hashes = _postBlob(envelope, 1);
        assertEq(inbox.records(0).blobCount, 1);
        assertEq(inbox.records(0).segmentRoot, keccak256(abi.encode(hashes[0])));
    }

    /// @dev The largest blob batch: 16 segments of MAX_SEGMENT_SIZE take five blobs.
    function test_postBlobBatch_maxSegments_succeeds() public {
        uint256[] memory lengths = _lengths(16, 32_768, 32_768);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 16), _blobSegments(lengths, 16));
        assertEq(Batches.blobCount(Batches.segmentBytes(batch.segments)), 5);
        bytes32[] memory hashes = _postBlob(Batches.envelopeOnly(batch), 5);
        assertEq(inbox.records(0).blobCount, 5);
        assertEq(inbox.records(0).segmentRoot, Batches.versionedHashesRoot(hashes));
    }

    /// @dev The transaction must carry exactly the blobs the segments fill: not fewer, not more,
    ///      not none.
    function test_postBlobBatch_blobCount_reverts() public {
        uint256[] memory lengths = _lengths(4, 32_768, Batches.BLOB_DATA_SIZE + 1 - 3 * 32_768);
        bytes memory twoBlobs =
            Batches.envelopeOnly(_batch(0, Batches.uniformBlocks(1, 0, 1, 4), _blobSegments(lengths, 4)));
        bytes memory oneBlob = Batches.envelopeOnly(_batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(100, 1)));
        bytes4 mismatch = BatchInbox.BatchInbox_BlobCountMismatch.selector;

        _postBlobReverts(twoBlobs, 1, abi.encodeWithSelector(mismatch, 2, 1));
        _postBlobReverts(twoBlobs, 3, abi.encodeWithSelector(mismatch, 2, 3));
        _postBlobReverts(twoBlobs, 0, abi.encodeWithSelector(mismatch, 2, 0));
        _postBlobReverts(oneBlob, 0, abi.encodeWithSelector(mismatch, 1, 0));
        // All the blobs a transaction may carry are counted.
        _postBlobReverts(oneBlob, 6, abi.encodeWithSelector(mismatch, 1, 6));
        assertEq(inbox.recordCount(), 0);

        _postBlob(twoBlobs, 2);
        assertEq(inbox.recordCount(), 1);
    }

    /// @dev A blob batch whose segments hold no bytes is refused, whatever blobs come with it;
    ///      the same batch goes through `postBatch`.
    function test_postBlobBatch_noSegments_reverts() public {
        bytes memory envelope = _emptyBlocks(0, Batches.uniformBlocks(2, 0, 1, 0));
        bytes memory noBlobData = abi.encodeWithSelector(BatchInbox.BatchInbox_NoBlobData.selector);
        _postBlobReverts(envelope, 0, noBlobData);
        _postBlobReverts(envelope, 1, noBlobData);
        _post(envelope);
        assertEq(inbox.records(0).blobCount, 0);
    }

    function test_postBlobBatch_caller_reverts() public {
        bytes memory envelope = Batches.envelopeOnly(_batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(10, 1)));
        vm.blobhashes(Batches.versionedHashes(1, 0));
        vm.expectRevert(BatchInbox.BatchInbox_NotBatcher.selector);
        vm.prank(owner, owner);
        inbox.postBlobBatch(envelope);
        vm.expectRevert(BatchInbox.BatchInbox_CallerNotEOA.selector);
        vm.prank(batcher, owner);
        inbox.postBlobBatch(envelope);

        bytes memory canonical = abi.encodeCall(BatchInbox.postBlobBatch, (envelope));
        bytes memory nonCanonical = abi.encodeWithSelector(BatchInbox.BatchInbox_NonCanonicalCalldata.selector);
        _rawPostReverts(bytes.concat(canonical, hex"00"), nonCanonical);
        _rawPostReverts(bytes.concat(canonical, bytes32(0)), nonCanonical);
        vm.prank(batcher, batcher);
        (bool ok,) = address(inbox).call(canonical);
        assertTrue(ok, "canonical blob batch refused");
    }

    /// @dev The envelope checks of `postBatch` fire on the blob path too, before the blobs are
    ///      looked at (every transaction here carries the right blob).
    function test_postBlobBatch_envelope_reverts() public {
        _deposit(); // in GENESIS + 1
        chain.roll(3);
        Batches.Batch memory batch = _batch(1, _typicalBlocks(), _segments(500, 12));
        bytes memory envelope = Batches.envelopeOnly(batch);

        _postBlobReverts(
            new bytes(120_001), 1, abi.encodeWithSelector(BatchInbox.BatchInbox_BatchTooLarge.selector, 120_001)
        );
        _postBlobReverts(hex"03", 1, abi.encodeWithSelector(BatchInbox.BatchInbox_UnsupportedVersion.selector, 3));
        _postBlobReverts(
            Batches.truncate(envelope, envelope.length - 1),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_BatchTruncated.selector)
        );
        bytes memory data = Batches.setField(bytes.concat(envelope), Batches.FIRST_BLOCK_OFFSET, 8, 2);
        _postBlobReverts(data, 1, abi.encodeWithSelector(BatchInbox.BatchInbox_UnexpectedFirstBlock.selector, 1, 2));
        batch.headers[0] = L1Headers.make(keccak256("fork"), GENESIS + 1, _ts(GENESIS + 1));
        _postBlobReverts(
            Batches.envelopeOnly(batch),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, GENESIS + 1)
        );
        batch.headers[0] = chain.header(GENESIS + 1);

        // Transactions: the blocks hold 12, the segment 11.
        batch.segments[0].txCount = 11;
        _postBlobReverts(
            Batches.envelopeOnly(batch),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_TxCountMismatch.selector, 12, 11)
        );
        batch.segments[0].txCount = 12;
        // Segment table entries.
        batch.segments[0].data = new bytes(32_769);
        _postBlobReverts(
            Batches.envelopeOnly(batch),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_InvalidSegmentLength.selector, 0, 32_769)
        );
        batch.segments[0].data = new bytes(500);

        // Bytes after the segment table: the whole calldata batch, or a single byte.
        _postBlobReverts(
            Batches.encode(batch),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_SegmentLengthMismatch.selector, 500, 0)
        );
        _postBlobReverts(
            bytes.concat(envelope, hex"00"),
            1,
            abi.encodeWithSelector(BatchInbox.BatchInbox_SegmentLengthMismatch.selector, 1, 0)
        );

        // The deposit of GENESIS + 1 must be included.
        data = Batches.setField(bytes.concat(envelope), Batches.DEPOSIT_COUNT_OFFSET, 8, 0);
        _postBlobReverts(data, 1, abi.encodeWithSelector(BatchInbox.BatchInbox_DepositCountMismatch.selector, 1, 0));

        // The envelope as built lands.
        _postBlob(envelope, 1);
        assertEq(inbox.records(0).depositCount, 1);
        assertEq(inbox.nextBlock(), 13);
    }

    /// @dev A calldata batch ignores whatever blobs its transaction carries: blobCount 0, the
    ///      segments' merkle root.
    function test_postBatch_withBlobs_succeeds() public {
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, 1), _segments(100, 1));
        vm.blobhashes(Batches.versionedHashes(2, 0));
        _post(Batches.encode(batch));
        assertEq(inbox.records(0).blobCount, 0);
        assertEq(inbox.records(0).segmentRoot, keccak256(batch.segments[0].data));
    }

    /// @dev Calldata and blob batches interleave: each continues where the other ended.
    function test_postBlobBatch_interleaved_succeeds() public {
        chain.roll(10);
        _post(Batches.encode(_batch(1, _typicalBlocks(), _segments(300, 12))));
        _postBlob(Batches.envelopeOnly(_batch(1, _typicalBlocks(), _segments(30_000, 12))), 1);
        uint256[] memory lengths = _lengths(5, 32_768, 100);
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(3, 0, 1, 2), _blobSegments(lengths, 6));
        _postBlob(Batches.envelopeOnly(batch), 2);
        _post(_emptyBlocks(2, Batches.uniformBlocks(2, 1, 12, 0)));

        assertEq(inbox.recordCount(), 4);
        uint64[4] memory firstBlocks = [uint64(1), 13, 25, 28];
        uint8[4] memory blobCounts = [uint8(0), 1, 2, 0];
        for (uint256 i; i < 4; ++i) {
            BatchInbox.Record memory record = inbox.records(i);
            assertEq(record.firstBlock, firstBlocks[i]);
            assertEq(record.blobCount, blobCounts[i]);
            assertEq(inbox.recordOf(firstBlocks[i]), i);
        }
        assertEq(inbox.records(2).lastOrigin, GENESIS + 2);
        assertEq(inbox.nextBlock(), 30);
        assertEq(inbox.lastOrigin(), GENESIS + 4);
        assertEq(inbox.recordOf(29), 3);
    }

    /// @dev Any segment shape: the batch needs exactly ceil(S / BLOB_DATA_SIZE) blobs, and its
    ///      record commits to the envelope and those blobs' versioned hashes.
    function testFuzz_postBlobBatch_segmentSizes_succeeds(uint256 seed, uint8 segmentCount) public {
        uint256 count = bound(segmentCount, 1, 16);
        uint256[] memory lengths = new uint256[](count);
        for (uint256 j; j < count; ++j) {
            // Mostly small or full segments, so that blob boundaries are hit.
            uint256 r = uint256(keccak256(abi.encode(seed, j)));
            lengths[j] = r % 4 == 0 ? 32_768 : bound(r >> 8, 1, 32_768);
        }
        Batches.Segment[] memory segments = Batches.blankSegments(lengths);
        uint256 segmentBytes = Batches.segmentBytes(segments);
        uint256 blobs = Batches.blobCount(segmentBytes);
        assertEq(blobs, (segmentBytes + Batches.BLOB_DATA_SIZE - 1) / Batches.BLOB_DATA_SIZE);
        // forge-lint: disable-next-line(unsafe-typecast)
        Batches.Batch memory batch = _batch(0, Batches.uniformBlocks(1, 0, 1, uint16(count)), segments);
        bytes memory envelope = Batches.envelopeOnly(batch);

        bytes4 mismatch = BatchInbox.BatchInbox_BlobCountMismatch.selector;
        _postBlobReverts(envelope, blobs - 1, abi.encodeWithSelector(mismatch, blobs, blobs - 1));
        _postBlobReverts(envelope, blobs + 1, abi.encodeWithSelector(mismatch, blobs, blobs + 1));
        bytes32[] memory hashes = _postBlob(envelope, blobs);

        BatchInbox.Record memory record = inbox.records(0);
        assertEq(record.blobCount, blobs);
        assertGe(record.blobCount, 1, "no blob");
        assertLe(record.blobCount, 5, "more than five blobs");
        assertEq(record.segmentRoot, Batches.versionedHashesRoot(hashes));
        assertEq(record.dataHash, keccak256(envelope));
        assertEq(record.blocksHash, keccak256(Batches.blockTable(batch.blocks)));
        assertEq(inbox.nextBlock(), 2);
    }

    /// @dev Random envelopes and blob counts never panic: accepted or an inbox error.
    function testFuzz_postBlobBatch_randomEnvelope_onlyCustomErrors(bytes calldata tail, uint8 blobs) public {
        bytes memory envelope = bytes.concat(hex"02", bytes8(uint64(1)), tail);
        vm.blobhashes(Batches.versionedHashes(blobs % 8, 0));
        vm.prank(batcher, batcher);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.postBlobBatch, (envelope)));
        _assertCustomError(ok, result);
    }

    // ------------------------------------------------------------------ forceInclude

    function test_forceInclude_succeeds() public {
        _deposit(); // in GENESIS + 1
        chain.roll(WINDOW);
        assertEq(block.number, GENESIS + 1 + WINDOW);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);
        uint256 timestamp = _ts(GENESIS + 1);
        bytes32 blocksHash = keccak256(abi.encodePacked(uint8(1), uint32(timestamp - _ts(GENESIS)), uint16(0)));

        vm.expectEmit(address(inbox));
        emit OriginsRecorded(uint64(GENESIS + 1), uint64(GENESIS + 1), chain.hashOf(GENESIS + 1));
        vm.expectEmit(address(inbox));
        emit BatchAppended(0, 1, 1, uint64(GENESIS + 1), 1, true, bytes32(0), bytes32(0), blocksHash, 0, false);
        inbox.forceInclude(headers);

        BatchInbox.Record memory record = inbox.records(0);
        assertEq(record.firstBlock, 1);
        assertEq(record.blockCount, 1);
        assertEq(record.lastOrigin, GENESIS + 1);
        assertEq(record.depositCount, 1);
        assertEq(record.l1Block, block.number);
        assertTrue(record.forced);
        assertEq(record.blobCount, 0);
        assertEq(record.dataHash, bytes32(0));
        assertEq(record.segmentRoot, bytes32(0));
        assertEq(record.blocksHash, blocksHash);
        assertEq(inbox.nextBlock(), 2);
        assertEq(inbox.lastOrigin(), GENESIS + 1);
        assertEq(inbox.lastTimestamp(), timestamp);
        assertEq(inbox.blocksAtLastTimestamp(), 1);
        assertEq(inbox.recordOf(1), 0);
    }

    function test_forceInclude_tooEarly_reverts() public {
        chain.roll(WINDOW - 1);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                BatchInbox.BatchInbox_SequencingWindowOpen.selector, GENESIS + 1, GENESIS + 1 + WINDOW
            )
        );
        inbox.forceInclude(headers);
        chain.roll(1);
        inbox.forceInclude(headers);
    }

    function test_forceInclude_originNotRecorded_reverts() public {
        chain.roll(WINDOW + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, GENESIS + 1));
        inbox.forceInclude(_noHeaders());
        // Recorded separately, then forced without headers, by a contract: one call forces
        // every origin whose window has closed (GENESIS + 1 and + 2), in one record.
        inbox.recordOrigins(_headersUpTo(GENESIS + 3));
        InboxCaller caller = new InboxCaller();
        caller.force(inbox, _noHeaders());
        assertEq(inbox.nextBlock(), 3);
        assertEq(inbox.lastOrigin(), GENESIS + 2);
        assertEq(inbox.recordCount(), 1);
        assertEq(inbox.records(0).blockCount, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                BatchInbox.BatchInbox_SequencingWindowOpen.selector, GENESIS + 3, GENESIS + 3 + WINDOW
            )
        );
        caller.force(inbox, _noHeaders());
    }

    /// @dev The forced block's timestamp: the origin's when the L2 chain is behind it; the
    ///      chain's own when ahead (drift), one second later once ten blocks share it.
    function test_forceInclude_timestamps_succeeds() public {
        // The batcher runs ahead: ten blocks at genesis + 100 s, origin GENESIS.
        Batches.Block[] memory blocks = Batches.uniformBlocks(10, 0, 0, 0);
        blocks[0].timestampDelta = 100;
        _post(_emptyBlocks(0, blocks));
        assertEq(inbox.blocksAtLastTimestamp(), 10);
        uint256 last = _ts(GENESIS) + 100;

        chain.roll(WINDOW + 10);
        inbox.recordOrigins(_headersUpTo(GENESIS + 10));
        // One call forces every closed origin. GENESIS + 1 (+12 s) is behind the chain: ten
        // blocks share `last`, so +1; GENESIS + 2..8 (up to +96 s) share `last + 1`;
        // GENESIS + 9 (+108 s) and later are ahead and take their own timestamps.
        inbox.forceInclude(_noHeaders());
        uint256 count = inbox.records(1).blockCount;
        assertGe(count, 9, "origins up to GENESIS + 9 have closed windows");
        bytes memory entries = abi.encodePacked(uint8(1), uint32(1), uint16(0));
        for (uint256 i = 2; i <= 8; ++i) {
            entries = abi.encodePacked(entries, uint8(1), uint32(0), uint16(0));
        }
        uint256 previous = last + 1;
        for (uint256 i = 9; i <= count; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            entries = abi.encodePacked(entries, uint8(1), uint32(_ts(GENESIS + i) - previous), uint16(0));
            previous = _ts(GENESIS + i);
        }
        assertEq(inbox.records(1).blocksHash, keccak256(entries));
        assertEq(inbox.lastTimestamp(), _ts(GENESIS + count));
        assertEq(inbox.blocksAtLastTimestamp(), 1);
        assertEq(inbox.lastOrigin(), GENESIS + count);
        assertEq(inbox.nextBlock(), 11 + count);
    }

    /// @dev Once forced past, the batcher continues from the forced block with a fresh origin.
    function test_forceInclude_batcherResumes_succeeds() public {
        chain.roll(WINDOW);
        inbox.forceInclude(_headersUpTo(GENESIS + 1));
        // Origin GENESIS + 1 is two windows old; the batcher moves to GENESIS + 2.
        chain.roll(WINDOW);
        _postReverts(
            _emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0)),
            abi.encodeWithSelector(BatchInbox.BatchInbox_SequencingWindowExpired.selector, GENESIS + 1)
        );
        _post(_emptyBlocks(1, Batches.uniformBlocks(1, 1, 12, 0)));
        assertEq(inbox.nextBlock(), 3);
        assertEq(inbox.recordOf(1), 0);
        assertEq(inbox.recordOf(2), 1);
    }

    function test_forceInclude_timestampGapTooLarge_reverts() public {
        Proxies.InboxConfig memory config = _config();
        config.l2GenesisTimestamp = 0; // genesis at time 0, origins at ~1.7e9 + 2^32 ahead
        chain.roll(1);
        // A chain whose origin GENESIS + 1 is 2^32 s after L2 genesis.
        bytes memory header = L1Headers.make(chain.hashOf(GENESIS), GENESIS + 1, uint256(type(uint32).max) + 1);
        vm.setBlockhash(GENESIS + 1, keccak256(header));
        inbox = Proxies.deployBatchInbox(config);
        chain.roll(WINDOW);
        bytes[] memory headers = new bytes[](1);
        headers[0] = header;
        vm.expectRevert(
            abi.encodeWithSelector(
                BatchInbox.BatchInbox_ForcedTimestampGapTooLarge.selector, uint256(type(uint32).max) + 1
            )
        );
        inbox.forceInclude(headers);
    }

    function test_forceInclude_badHeaders_reverts() public {
        chain.roll(WINDOW + 2);
        bytes[] memory headers = new bytes[](1);
        headers[0] = L1Headers.make(keccak256("fork"), GENESIS + 1, _ts(GENESIS + 1));
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, GENESIS + 1));
        inbox.forceInclude(headers);
        headers[0] = hex"c0";
        vm.expectRevert(abi.encodeWithSelector(L1Header.L1Header_ItemOutOfBounds.selector, 0));
        inbox.forceInclude(headers);
        headers = chain.headers(GENESIS + 2, GENESIS + 2);
        vm.expectRevert(
            abi.encodeWithSelector(BatchInbox.BatchInbox_HeaderNumberMismatch.selector, GENESIS + 1, GENESIS + 2)
        );
        inbox.forceInclude(headers);
    }

    /// @dev A forced block one second after ten blocks at the largest timestamp would not fit
    ///      64 bits.
    function test_forceInclude_timestampOverflow_reverts() public {
        Proxies.InboxConfig memory config = _config();
        config.maxSequencerDrift = type(uint64).max;
        config.l2GenesisTimestamp = type(uint64).max;
        inbox = Proxies.deployBatchInbox(config);
        _post(_emptyBlocks(0, Batches.uniformBlocks(9, 0, 0, 0)));
        assertEq(inbox.blocksAtLastTimestamp(), 10);
        chain.roll(WINDOW);
        bytes[] memory headers = _headersUpTo(GENESIS + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_TimestampOverflow.selector, 10));
        inbox.forceInclude(headers);
    }

    function testFuzz_forceInclude_random_onlyCustomErrors(bytes[] calldata headers, uint16 roll) public {
        chain.roll(roll);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.forceInclude, (headers)));
        _assertCustomError(ok, result);
        assertFalse(ok, "random headers forced a block");
    }

    // ------------------------------------------------------------------ views

    function test_records_unknown_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_UnknownRecord.selector, 0));
        inbox.records(0);
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0)));
        inbox.records(0);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_UnknownRecord.selector, 1));
        inbox.records(1);
    }

    function test_originViews_notRecorded_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, GENESIS - 1));
        inbox.originHash(GENESIS - 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, GENESIS + 1));
        inbox.originTimestamp(GENESIS + 1);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_OriginNotRecorded.selector, type(uint256).max));
        inbox.originHash(type(uint256).max);
    }

    /// @dev `recordOf` agrees with a linear scan over records of random sizes.
    function testFuzz_recordOf_matchesScan_succeeds(uint256 seed, uint64 query) public {
        uint256 batches = bound(seed, 1, 12);
        for (uint256 i; i < batches; ++i) {
            uint256 size = bound(uint256(keccak256(abi.encode(seed, i))), 1, 20);
            _post(_emptyBlocks(0, Batches.uniformBlocks(size, 0, 1, 0)));
        }
        uint64 next = inbox.nextBlock();
        if (query == 0 || query >= next) {
            vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, query));
            inbox.recordOf(query);
            query = uint64(bound(query, 1, next - 1));
        }
        uint256 index = inbox.recordOf(query);
        BatchInbox.Record memory record = inbox.records(index);
        assertLe(record.firstBlock, query, "record starts after the block");
        assertGt(uint256(record.firstBlock) + record.blockCount, query, "record ends before the block");
    }

    function testFuzz_records_onlyCustomErrors(uint256 index) public {
        _post(_emptyBlocks(0, Batches.uniformBlocks(2, 0, 1, 0)));
        (bool ok, bytes memory result) = address(inbox).staticcall(abi.encodeCall(BatchInbox.records, (index)));
        _assertCustomError(ok, result);
        assertEq(ok, index == 0);
    }

    function testFuzz_originViews_onlyCustomErrors(uint256 number) public {
        chain.roll(3);
        inbox.recordOrigins(_headersUpTo(GENESIS + 2));
        bool recorded = number >= GENESIS && number <= GENESIS + 2;
        (bool ok, bytes memory result) = address(inbox).staticcall(abi.encodeCall(BatchInbox.originHash, (number)));
        _assertCustomError(ok, result);
        assertEq(ok, recorded);
        if (ok) assertEq(abi.decode(result, (bytes32)), chain.hashOf(number));
        (ok, result) = address(inbox).staticcall(abi.encodeCall(BatchInbox.originTimestamp, (number)));
        _assertCustomError(ok, result);
        assertEq(ok, recorded);
    }

    /// @dev Any initialization either succeeds or reverts with an inbox error.
    function testFuzz_initialize_randomConfig_onlyCustomErrors(Proxies.InboxConfig memory config) public {
        address implementation = address(new BatchInbox());
        try new TransparentUpgradeableProxy(implementation, owner, Proxies.inboxInitCall(config)) returns (
            TransparentUpgradeableProxy proxy
        ) {
            BatchInbox created = BatchInbox(address(proxy));
            assertEq(created.nextBlock(), 1);
            assertEq(created.lastOrigin(), config.genesisOrigin);
            assertEq(created.originHash(config.genesisOrigin), config.genesisOriginHash);
        } catch (bytes memory result) {
            _assertCustomError(false, result);
        }
    }

    function test_recordOf_notRecorded_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, 0));
        inbox.recordOf(0);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockNotRecorded.selector, 1));
        inbox.recordOf(1);
    }

    // ------------------------------------------------------------------ fuzzing postBatch

    /// @dev Random data never panics: it is accepted or rejected with an inbox error.
    function testFuzz_postBatch_randomData_onlyCustomErrors(bytes calldata data) public {
        vm.prank(batcher, batcher);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.postBatch, (data)));
        _assertCustomError(ok, result);
    }

    /// @dev Random data behind a valid version and first block, so that it gets further.
    function testFuzz_postBatch_randomEnvelope_onlyCustomErrors(bytes calldata tail, uint8 headerCount) public {
        chain.roll(3);
        bytes memory data = bytes.concat(hex"02", bytes8(uint64(1)), tail);
        if (data.length > 11) data[11] = bytes1(headerCount % 3);
        vm.prank(batcher, batcher);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.postBatch, (data)));
        _assertCustomError(ok, result);
    }

    /// @dev A valid batch with one byte changed: accepted or rejected with an inbox error.
    function testFuzz_postBatch_mutatedBatch_onlyCustomErrors(uint256 position, uint8 value) public {
        _deposit();
        chain.roll(5);
        Batches.Segment[] memory segments = new Batches.Segment[](2);
        segments[0] = Batches.Segment(Batches.noise(100, 1), 3);
        segments[1] = Batches.Segment(Batches.noise(50, 2), 9);
        bytes memory data = Batches.encode(_batch(2, _typicalBlocks(), segments));
        data[position % data.length] = bytes1(value);
        vm.prank(batcher, batcher);
        (bool ok, bytes memory result) = address(inbox).call(abi.encodeCall(BatchInbox.postBatch, (data)));
        _assertCustomError(ok, result);
    }

    /// @dev Valid batches of random shape are accepted, and the cursor ends where the block
    ///      table says.
    function testFuzz_postBatch_validShape_succeeds(uint256 seed, uint8 blockCount, uint8 rollBy) public {
        chain.roll(bound(rollBy, 1, 60));
        uint256 count = bound(blockCount, 1, 60);
        uint256 available = block.number - 1 - GENESIS; // origins that can be recorded
        Batches.Block[] memory blocks = new Batches.Block[](count);
        uint256 origin = GENESIS;
        uint256 timestamp = _ts(GENESIS);
        uint256 same = 1;
        uint256 txTotal;
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 3 == 0 && origin < GENESIS + available) {
                ++origin;
                blocks[i].originDelta = 1;
            }
            // At least the origin's timestamp, at most the drift; ten per second at most.
            uint256 low = timestamp < _ts(origin) ? _ts(origin) : timestamp;
            if (low == timestamp && same == 10) low = timestamp + 1;
            uint256 next = low + (r >> 8) % 3;
            if (next > _ts(origin) + DRIFT) next = low;
            blocks[i].timestampDelta = uint32(next - timestamp);
            same = next == timestamp ? same + 1 : 1;
            timestamp = next;
            blocks[i].txCount = uint16((r >> 16) % 3);
            txTotal += blocks[i].txCount;
        }
        Batches.Segment[] memory segments = txTotal == 0 ? new Batches.Segment[](0) : _segments(64, uint16(txTotal));
        _post(Batches.encode(_batch(origin - GENESIS, blocks, segments)));
        assertEq(inbox.nextBlock(), count + 1);
        assertEq(inbox.lastOrigin(), origin);
        assertEq(inbox.lastTimestamp(), timestamp);
        assertEq(inbox.blocksAtLastTimestamp(), same);
    }

    // ------------------------------------------------------------------ gas

    /// @dev Logs the last call's gas: as a transaction (with `--isolate`, where forge runs every
    ///      call as its own transaction and counts its intrinsic gas) and its execution alone.
    function _logGas(string memory label, bytes memory callData) internal {
        uint256 total = vm.lastCallGas().gasTotalUsed;
        uint256 intrinsic = _intrinsicGas(callData);
        console.log(label);
        console.log("  gas used (with --isolate: the whole transaction)", total);
        if (total > intrinsic) console.log("  execution (total - 21,000 - calldata)", total - intrinsic);
        console.log("  calldata bytes", callData.length);
    }

    /// @dev Gas of the inbox's calls in steady state (records and origins exist already). Run
    ///      with `forge test --isolate --match-test test_gas -vv` for per-transaction numbers:
    ///      without `--isolate` the test's single transaction keeps every slot warm.
    function test_gas_report() public {
        chain.roll(5);
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0))); // warm-up: the first record

        bytes memory data = Batches.encode(_batch(1, _typicalBlocks(), _segments(20_000, 12)));
        vm.prank(batcher, batcher);
        inbox.postBatch(data);
        _logGas("postBatch: 1 header, 12 blocks, 1 segment of 20 kB", abi.encodeCall(BatchInbox.postBatch, (data)));

        inbox.recordOrigins(_headersUpTo(GENESIS + 2));
        data = Batches.encode(_batch(0, _typicalBlocks(), _segments(20_000, 12)));
        vm.prank(batcher, batcher);
        inbox.postBatch(data);
        _logGas("postBatch: the same without the header", abi.encodeCall(BatchInbox.postBatch, (data)));

        chain.roll(20);
        bytes[] memory headers = _headersUpTo(inbox.lastRecordedOrigin() + 1);
        inbox.recordOrigins(headers);
        _logGas("recordOrigins: 1 header", abi.encodeCall(BatchInbox.recordOrigins, (headers)));
        headers = _headersUpTo(inbox.lastRecordedOrigin() + 10);
        inbox.recordOrigins(headers);
        _logGas("recordOrigins: 10 headers", abi.encodeCall(BatchInbox.recordOrigins, (headers)));

        chain.roll(WINDOW);
        inbox.forceInclude(_noHeaders());
        _logGas("forceInclude: no header", abi.encodeCall(BatchInbox.forceInclude, (_noHeaders())));
        // Force until the recorded origins run out, then once more with a header.
        while (inbox.lastOrigin() < inbox.lastRecordedOrigin()) {
            inbox.forceInclude(_noHeaders());
        }
        headers = _headersUpTo(inbox.lastRecordedOrigin() + 1);
        inbox.forceInclude(headers);
        _logGas("forceInclude: 1 header", abi.encodeCall(BatchInbox.forceInclude, (headers)));
    }
}

/// @notice Gas of blob batches against the calldata batch of `test_gas_report`. Forge 1.7's
///         `--isolate` cannot run a transaction carrying `vm.blobhashes` (the isolated blob
///         transaction fails validation), so each post runs as the first call of its test's own
///         transaction, its calldata built in `setUp` (a transaction before): the inbox and the
///         bridge are then as cold as in a transaction of their own. The logged gas is the
///         execution; the transaction adds 21,000 and the calldata. `postBatch` is measured the
///         same way, to compare like with like and to check the method against
///         `test_gas_report --isolate`. Run `forge test --match-contract BatchInboxGasTest -vv`.
contract BatchInboxGasTest is BatchInboxBase {
    /// @dev The typical batch (1 header, 12 blocks, 20 kB of segments) in calldata.
    bytes internal calldataBatch;
    /// @dev Its envelope, for the same segment in one blob.
    bytes internal oneBlobEnvelope;
    /// @dev The typical blocks with 4 segments of 124 kB in all: two blobs.
    bytes internal twoBlobEnvelope;

    function setUp() public override {
        super.setUp();
        chain.roll(5);
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0))); // the first record
        calldataBatch = Batches.encode(_batch(1, _typicalBlocks(), _segments(20_000, 12)));
        oneBlobEnvelope = Batches.envelopeOnly(_batch(1, _typicalBlocks(), _segments(20_000, 12)));
        uint256[] memory lengths = _lengths(4, 32_768, Batches.BLOB_DATA_SIZE + 1 - 3 * 32_768);
        twoBlobEnvelope = Batches.envelopeOnly(_batch(1, _typicalBlocks(), _blobSegments(lengths, 12)));
    }

    function test_gas_postBatch_report() public {
        bytes memory data = calldataBatch;
        vm.prank(batcher, batcher);
        inbox.postBatch(data);
        _logExecutionGas(
            "postBatch: 1 header, 12 blocks, 1 segment of 20 kB", abi.encodeCall(BatchInbox.postBatch, (data))
        );
    }

    function test_gas_postBlobBatch_oneBlob_report() public {
        bytes memory envelope = oneBlobEnvelope;
        vm.blobhashes(Batches.versionedHashes(1, 0));
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);
        _logExecutionGas(
            "postBlobBatch: 1 header, 12 blocks, 1 segment of 20 kB in 1 blob",
            abi.encodeCall(BatchInbox.postBlobBatch, (envelope))
        );
        assertEq(inbox.records(1).blobCount, 1);
    }

    function test_gas_postBlobBatch_twoBlobs_report() public {
        bytes memory envelope = twoBlobEnvelope;
        vm.blobhashes(Batches.versionedHashes(2, 0));
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);
        _logExecutionGas(
            "postBlobBatch: 1 header, 12 blocks, 4 segments of 124 kB in 2 blobs",
            abi.encodeCall(BatchInbox.postBlobBatch, (envelope))
        );
        assertEq(inbox.records(1).blobCount, 2);
    }

    /// @dev Logs the last call's gas (its execution, without `--isolate`) and the transaction's.
    function _logExecutionGas(string memory label, bytes memory callData) internal view {
        uint256 execution = vm.lastCallGas().gasTotalUsed;
        uint256 intrinsic = _intrinsicGas(callData);
        console.log(label);
        console.log("  execution", execution);
        console.log("  transaction (+ 21,000 + calldata)", execution + intrinsic);
        console.log("  calldata bytes", callData.length);
    }
}

/// @notice The BatchInbox's ownership (`OwnershipTests`), its owner power here `setBatcher`;
///         and whatever happens to the ownership, the batcher keeps posting.
contract BatchInboxOwnershipTest is BatchInboxBase, OwnershipTests {
    function setUp() public override {
        super.setUp();
        initialOwner = owner;
        owned = Ownable(address(inbox));
    }

    function _act(address caller, address value) internal override {
        vm.prank(caller);
        inbox.setBatcher(value);
    }

    function _acted() internal view override returns (address) {
        return inbox.batcher();
    }

    /// @dev The batcher does not depend on the owner: after the owner renounces or hands the
    ///      inbox to someone else, batches still land.
    function testFuzz_renounceOwnership_batcherKeepsPosting_succeeds(bool renounce, address newOwner) public {
        _assumeCaller(newOwner);
        vm.prank(owner);
        if (renounce) {
            inbox.renounceOwnership();
        } else {
            inbox.transferOwnership(newOwner);
        }
        assertEq(inbox.owner(), renounce ? address(0) : newOwner);
        _post(_emptyBlocks(0, Batches.uniformBlocks(1, 0, 1, 0)));
        chain.roll(1);
        _post(_emptyBlocks(1, Batches.uniformBlocks(1, 1, 12, 0)));
        assertEq(inbox.recordCount(), 2);
        assertEq(inbox.nextBlock(), 3);
        assertEq(inbox.batcher(), batcher);
    }
}
