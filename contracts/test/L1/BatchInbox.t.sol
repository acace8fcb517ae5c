// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";

contract BatchInboxTest is Test {
    event BatchPosted(uint256 indexed index, bytes32 indexed commitment, uint256 length);
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);
    event Initialized(uint64 version);

    BatchInbox internal inbox;
    address internal owner;
    address internal batcher;

    function setUp() public {
        owner = makeAddr("owner");
        batcher = makeAddr("batcher");
        inbox = Proxies.deployBatchInbox(owner, batcher);
    }

    function test_initialize_succeeds() public {
        assertEq(inbox.owner(), owner);
        assertEq(inbox.batcher(), batcher);
        assertEq(inbox.batchCount(), 0);

        address implementation = address(new BatchInbox());
        vm.expectEmit();
        emit BatcherUpdated(address(0), batcher);
        vm.expectEmit();
        emit Initialized(1);
        new TransparentUpgradeableProxy(implementation, owner, abi.encodeCall(BatchInbox.initialize, (owner, batcher)));
    }

    function test_initialize_zeroAddress_reverts() public {
        address implementation = address(new BatchInbox());
        vm.expectRevert(BatchInbox.BatchInbox_ZeroAddress.selector);
        new TransparentUpgradeableProxy(
            implementation, owner, abi.encodeCall(BatchInbox.initialize, (address(0), batcher))
        );
        vm.expectRevert(BatchInbox.BatchInbox_ZeroAddress.selector);
        new TransparentUpgradeableProxy(
            implementation, owner, abi.encodeCall(BatchInbox.initialize, (owner, address(0)))
        );
    }

    function testFuzz_initialize_twice_reverts(address sender, address newOwner, address newBatcher) public {
        vm.assume(sender != Proxies.adminOf(address(inbox)));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        inbox.initialize(newOwner, newBatcher);
        assertEq(inbox.owner(), owner);
        assertEq(inbox.batcher(), batcher);
    }

    function testFuzz_initialize_implementation_reverts(address sender) public {
        BatchInbox implementation = new BatchInbox();
        assertEq(implementation.owner(), address(0));
        assertEq(implementation.batcher(), address(0));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(sender);
        implementation.initialize(sender, sender);
    }

    function testFuzz_postBatch_succeeds(bytes calldata data, uint64 blockNumber, uint64 timestamp) public {
        vm.assume(data.length > 0);
        vm.roll(blockNumber);
        vm.warp(timestamp);

        vm.expectEmit(address(inbox));
        emit BatchPosted(0, keccak256(data), data.length);
        vm.prank(batcher);
        inbox.postBatch(data);

        assertEq(inbox.batchCount(), 1);
        BatchInbox.Batch memory batch = inbox.batches(0);
        assertEq(batch.commitment, keccak256(data));
        assertEq(batch.l1Block, blockNumber);
        assertEq(batch.timestamp, timestamp);
    }

    function test_postBatch_indicesIncrement_succeeds() public {
        vm.startPrank(batcher);
        for (uint256 i; i < 3; ++i) {
            bytes memory data = abi.encode(i);
            vm.expectEmit(address(inbox));
            emit BatchPosted(i, keccak256(data), 32);
            inbox.postBatch(data);
        }
        vm.stopPrank();
        assertEq(inbox.batchCount(), 3);
        assertEq(inbox.batches(2).commitment, keccak256(abi.encode(uint256(2))));
    }

    function testFuzz_postBatch_notBatcher_reverts(address sender, bytes calldata data) public {
        vm.assume(sender != batcher && sender != Proxies.adminOf(address(inbox)));
        vm.expectRevert(BatchInbox.BatchInbox_NotBatcher.selector);
        vm.prank(sender);
        inbox.postBatch(data);
    }

    function test_postBatch_empty_reverts() public {
        vm.expectRevert(BatchInbox.BatchInbox_EmptyBatch.selector);
        vm.prank(batcher);
        inbox.postBatch("");
    }

    function testFuzz_batches_unknownIndex_reverts(uint256 index) public {
        vm.expectRevert(BatchInbox.BatchInbox_UnknownBatch.selector);
        inbox.batches(index);
    }

    function testFuzz_setBatcher_succeeds(address newBatcher) public {
        vm.assume(newBatcher != address(0) && newBatcher != Proxies.adminOf(address(inbox)));
        vm.expectEmit(address(inbox));
        emit BatcherUpdated(batcher, newBatcher);
        vm.prank(owner);
        inbox.setBatcher(newBatcher);
        assertEq(inbox.batcher(), newBatcher);

        // The new batcher posts; the old one no longer can.
        vm.prank(newBatcher);
        inbox.postBatch(hex"01");
        if (newBatcher != batcher) {
            vm.expectRevert(BatchInbox.BatchInbox_NotBatcher.selector);
            vm.prank(batcher);
            inbox.postBatch(hex"01");
        }
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
}
