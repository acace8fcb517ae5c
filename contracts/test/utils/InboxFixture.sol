// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Batches} from "test/utils/Batches.sol";
import {L1Chain} from "test/utils/L1Chain.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";

/// @notice A real `BatchInbox` (behind its proxy, on a simulated L1 whose block `GENESIS` is
///         the L2 genesis origin) and a real `L1Bridge` whose deposit chain it checks, for the
///         dispute contracts that read them: batches posted as the batcher posts them,
///         deposits, forced blocks.
abstract contract InboxFixture is Test {
    uint256 internal constant L2_CHAIN_ID = 42_069;
    uint256 internal constant GENESIS = 1000;
    uint256 internal constant TIMESTAMP_BASE = 1_700_000_000;
    uint64 internal constant WINDOW = 100;
    uint64 internal constant DRIFT = 600;

    L1Chain internal chain;
    L1Bridge internal bridge;
    BatchInbox internal inbox;
    address internal batcher = makeAddr("batcher");

    /// @dev Deploys the chain (now at L1 block `GENESIS + 1`), the bridge and the inbox.
    function _deployInbox() internal {
        chain = new L1Chain(GENESIS, TIMESTAMP_BASE);
        bridge = BridgeFixtures.deployL1Bridge(address(1), L2_CHAIN_ID, makeAddr("proxyOwner"));
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

    /// @dev An ETH deposit from `from` to `to` in the current L1 block.
    function _deposit(address from, address to, uint256 amount) internal {
        vm.deal(from, from.balance + amount);
        vm.prank(from, from);
        bridge.depositTo{value: amount}(address(0), address(0), amount, 21_000, to);
    }

    /// @dev A batch continuing the inbox's chain: `headerCount` headers after the recorded
    ///      ones, the given blocks and segments, and the deposit count the bridge requires.
    function _batch(uint256 headerCount, Batches.Block[] memory blocks, Batches.Segment[] memory segments)
        internal
        returns (Batches.Batch memory batch)
    {
        return Batches.continuing(inbox, bridge, chain, headerCount, blocks, segments);
    }

    /// @dev Posts `data` as a calldata batch; returns its record's index.
    function _post(bytes memory data) internal returns (uint256 record) {
        record = inbox.recordCount();
        vm.prank(batcher, batcher);
        inbox.postBatch(data);
    }

    /// @dev Posts `envelope` as a blob batch from a transaction carrying `blobCount` blobs;
    ///      returns its record's index.
    function _postBlob(bytes memory envelope, uint256 blobCount) internal returns (uint256 record) {
        record = inbox.recordCount();
        vm.blobhashes(Batches.versionedHashes(blobCount, record));
        vm.prank(batcher, batcher);
        inbox.postBlobBatch(envelope);
    }

    /// @dev One block entry.
    function _block(uint8 originDelta, uint32 timestampDelta, uint16 txCount)
        internal
        pure
        returns (Batches.Block memory)
    {
        return Batches.Block(originDelta, timestampDelta, txCount);
    }
}
