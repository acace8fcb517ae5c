// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "test/utils/Test.sol";
import {InboxFixture} from "test/utils/InboxFixture.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";

/// @notice Recording origins after a gap longer than L1 remembers block hashes: recording checks
///         its newest header against L1's hash of that block and cannot be split across
///         transactions, so without `proveOriginHashes` a long enough stretch in which nobody
///         records (no batches, no forced blocks) would stop the chain and its escape hatch for
///         good. These prove the hashes backwards in chunks, then record and force-include.
contract BatchInboxOriginGapTest is InboxFixture {
    /// @dev Headers per `proveOriginHashes` call in these tests (a real caller sizes chunks to
    ///      its gas cap: about 41 000 gas per header plus its calldata, so about 250 of
    ///      Ethereum's ~600-byte headers fit EIP-7825's 2^24 gas).
    uint256 internal constant CHUNK = 200;

    event OriginHashesProven(uint64 firstBlock, uint64 lastBlock);

    function setUp() public {
        _deployInbox();
    }

    /// @dev Proves the hashes of blocks `from..to`, newest chunk first, each chunk anchored on
    ///      the parent the one after it proved (the newest on L1's own hash).
    function _proveDown(uint256 from, uint256 to, uint256 chunk) internal {
        uint256 high = to;
        while (true) {
            uint256 low = high + 1 > from + chunk ? high + 1 - chunk : from;
            inbox.proveOriginHashes(chain.headers(low, high));
            if (low == from) break;
            high = low - 1;
        }
    }

    /// @dev Without an EIP-2935 contract L1 tells 256 hashes: after 1 200 silent blocks no run
    ///      from the recorded origins can end at a block L1 knows, until the gap is proven.
    function test_proveOriginHashes_gapWithoutHistory_succeeds() public {
        chain.roll(1200);
        uint256 from = GENESIS + 1;
        bytes[] memory run = chain.headers(from, from + 200);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, from + 200));
        inbox.recordOrigins(run);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, from + 200));
        inbox.forceInclude(run);

        // The newest chunk ends where L1 still tells the hash (and is final).
        uint256 anchor = block.number - 100;
        bytes[] memory newest = chain.headers(anchor - CHUNK + 1, anchor);
        vm.expectEmit(address(inbox));
        emit OriginHashesProven(uint64(anchor - CHUNK + 1), uint64(anchor));
        uint256 gasBefore = gasleft();
        inbox.proveOriginHashes(newest);
        uint256 used = gasBefore - gasleft();
        // A chunk of this size fits a transaction under EIP-7825's cap with its calldata,
        // priced at EIP-7623's floor (40 gas per nonzero byte) as if every byte were nonzero.
        uint256 calldataGas = 40 * CHUNK * newest[0].length;
        console.log("proveOriginHashes, gas per header:", used / CHUNK);
        assertTrue(used + calldataGas < 1 << 24, "a chunk fits one transaction");
        _proveDown(from, anchor - CHUNK, CHUNK);
        assertEq(inbox.provenOriginHash(anchor), chain.hashOf(anchor));
        assertEq(inbox.provenOriginHash(from), chain.hashOf(from));
        assertEq(inbox.provenOriginHash(from - 1), chain.hashOf(from - 1), "the oldest one's parent");
        assertEq(inbox.provenOriginHash(anchor + 1), bytes32(0), "nothing above the anchor");

        // Now the escape hatch records its origins and forces a block, and recording goes on
        // in runs of any length up to the proven ones.
        uint256 records = inbox.recordCount();
        inbox.forceInclude(run);
        assertEq(inbox.lastRecordedOrigin(), from + 200);
        assertTrue(inbox.recordCount() > records, "forced a block");
        inbox.recordOrigins(chain.headers(from + 201, from + 777));
        assertEq(inbox.lastRecordedOrigin(), from + 777);
        assertEq(inbox.originHash(from + 777), chain.hashOf(from + 777));
    }

    /// @dev With EIP-2935 (8191 hashes) the reviewer's case: 8191 + 1200 silent blocks.
    function test_proveOriginHashes_gapBeyondHistory_succeeds() public {
        chain.roll(8191 + 1200);
        chain.enableHistory();
        uint256 from = GENESIS + 1;
        bytes[] memory run = chain.headers(from, from + 250);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, from + 250));
        inbox.recordOrigins(run);

        // Anchored on the oldest block EIP-2935 still serves.
        _proveDown(from, block.number - 8191, CHUNK);
        inbox.recordOrigins(run);
        assertEq(inbox.lastRecordedOrigin(), from + 250);
    }

    /// @dev A chunk whose newest header is neither told by L1 nor proven is refused, so proofs
    ///      only ever descend from L1's own hashes.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_proveOriginHashes_unanchored_reverts(uint256 high) public {
        chain.roll(1200);
        high = bound(high, GENESIS + 1, block.number - 257);
        uint256 low = high > GENESIS + 20 ? high - 19 : GENESIS + 1;
        bytes[] memory run = chain.headers(low, high);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, high));
        inbox.proveOriginHashes(run);
    }

    /// @dev Headers too recent to be final are refused: a proven hash must never go stale.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_proveOriginHashes_tooNew_reverts(uint256 high) public {
        chain.roll(500);
        high = bound(high, block.number - inbox.ORIGIN_PROOF_DEPTH() + 1, block.number - 1);
        bytes[] memory run = chain.headers(high - 5, high);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_HeadersTooNew.selector, high));
        inbox.proveOriginHashes(run);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_HeadersTooNew.selector, 0));
        inbox.proveOriginHashes(new bytes[](0));
        // Exactly ORIGIN_PROOF_DEPTH deep is deep enough.
        uint256 deepest = block.number - inbox.ORIGIN_PROOF_DEPTH();
        inbox.proveOriginHashes(chain.headers(deepest - 5, deepest));
        assertEq(inbox.provenOriginHash(deepest), chain.hashOf(deepest));
    }

    /// @dev A forged header anywhere in a chunk breaks the chain of parents (or the anchor), and
    ///      a gap in the numbers is refused: nothing is proven.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_proveOriginHashes_forgedOrGapped_reverts(uint256 which, bytes32 noise, bool gap) public {
        chain.roll(1200);
        uint256 high = block.number - 100;
        bytes[] memory run = chain.headers(high - 9, high);
        which = bound(which, 0, 9);
        if (gap) {
            if (which == 0) which = 1;
            run[which] = chain.header(high - 9 + which + 1);
            vm.expectRevert(
                abi.encodeWithSelector(
                    BatchInbox.BatchInbox_HeaderNumberMismatch.selector, high - 9 + which, high - 9 + which + 1
                )
            );
        } else {
            vm.assume(noise != bytes32(0));
            // The header's last 32 bytes are inside its RLP list (a hash field or the tail):
            // any change keeps it parseable but changes its hash.
            bytes memory forged = run[which];
            bytes32 word;
            uint256 length = forged.length;
            assembly ("memory-safe") {
                let at := add(add(forged, 0x20), sub(length, 0x20))
                word := mload(at)
                mstore(at, xor(word, noise))
            }
            run[which] = forged;
            if (which == 9) {
                vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashMismatch.selector, high));
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(BatchInbox.BatchInbox_ParentHashMismatch.selector, high - 9 + which + 1)
                );
            }
        }
        inbox.proveOriginHashes(run);
    }

    /// @dev A proven hash is consulted only where L1 no longer tells one, and only for the
    ///      blocks proven: recording a run that ends just past them is still refused.
    function test_proveOriginHashes_onlyProvenBlocks_reverts() public {
        chain.roll(1200);
        uint256 from = GENESIS + 1;
        uint256 anchor = block.number - 100;
        _proveDown(anchor - 2 * CHUNK + 1, anchor, CHUNK);
        uint256 provenFrom = anchor - 2 * CHUNK;
        // The recorded origins end far below the proven stretch.
        bytes[] memory run = chain.headers(from, from + 100);
        vm.expectRevert(abi.encodeWithSelector(BatchInbox.BatchInbox_BlockHashUnavailable.selector, from + 100));
        inbox.recordOrigins(run);
        // The oldest chunk's parent is proven too, and a chunk can anchor on it.
        inbox.proveOriginHashes(chain.headers(provenFrom - 9, provenFrom));
    }
}
