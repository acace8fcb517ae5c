// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Multicall3} from "src/L2/Multicall3.sol";

/// @notice A target that returns its input's length, reverts on request and keeps what it is paid.
contract Target {
    error Refused(uint256 code);

    function echo(uint256 x) external payable returns (uint256, uint256) {
        return (x, msg.value);
    }

    function refuse(uint256 code) external pure {
        revert Refused(code);
    }
}

contract Multicall3Test is Test {
    Multicall3 internal multicall;
    Target internal target;

    function setUp() public {
        multicall = new Multicall3();
        target = new Target();
    }

    function _echo(uint256 x) internal pure returns (bytes memory) {
        return abi.encodeCall(Target.echo, (x));
    }

    function _refuse(uint256 code) internal pure returns (bytes memory) {
        return abi.encodeCall(Target.refuse, (code));
    }

    function testFuzz_aggregate_returnsEveryResultInOrder(uint256 a, uint256 b) public {
        Multicall3.Call[] memory calls = new Multicall3.Call[](2);
        calls[0] = Multicall3.Call(address(target), _echo(a));
        calls[1] = Multicall3.Call(address(target), _echo(b));
        (uint256 blockNumber, bytes[] memory results) = multicall.aggregate(calls);
        assertEq(blockNumber, block.number);
        assertEq(abi.decode(results[0], (uint256)), a);
        assertEq(abi.decode(results[1], (uint256)), b);
    }

    function test_aggregate_revertsIfAnyCallFails() public {
        Multicall3.Call[] memory calls = new Multicall3.Call[](2);
        calls[0] = Multicall3.Call(address(target), _echo(1));
        calls[1] = Multicall3.Call(address(target), _refuse(7));
        vm.expectRevert(bytes("Multicall3: call failed"));
        multicall.aggregate(calls);
        vm.expectRevert(bytes("Multicall3: call failed"));
        multicall.blockAndAggregate(calls);
    }

    function testFuzz_tryAggregate_reportsFailuresUnlessRequired(uint256 code) public {
        Multicall3.Call[] memory calls = new Multicall3.Call[](2);
        calls[0] = Multicall3.Call(address(target), _refuse(code));
        calls[1] = Multicall3.Call(address(target), _echo(code));
        Multicall3.Result[] memory results = multicall.tryAggregate(false, calls);
        assertFalse(results[0].success);
        assertEq(results[0].returnData, abi.encodeWithSelector(Target.Refused.selector, code));
        assertTrue(results[1].success);
        (uint256 blockNumber, bytes32 blockHash, Multicall3.Result[] memory again) =
            multicall.tryBlockAndAggregate(false, calls);
        assertEq(blockNumber, block.number);
        assertEq(blockHash, blockhash(block.number));
        assertEq(again.length, 2);
        vm.expectRevert(bytes("Multicall3: call failed"));
        multicall.tryAggregate(true, calls);
    }

    function testFuzz_aggregate3_failsOnlyWhereFailureIsNotAllowed(bool allowFailure, uint256 code) public {
        Multicall3.Call3[] memory calls = new Multicall3.Call3[](2);
        calls[0] = Multicall3.Call3(address(target), true, _refuse(code));
        calls[1] = Multicall3.Call3(address(target), allowFailure, _refuse(code));
        if (!allowFailure) {
            vm.expectRevert(bytes("Multicall3: call failed"));
            multicall.aggregate3(calls);
            return;
        }
        Multicall3.Result[] memory results = multicall.aggregate3(calls);
        assertFalse(results[0].success);
        assertFalse(results[1].success);
    }

    function testFuzz_aggregate3Value_forwardsEachValueAndChecksTheTotal(uint96 a, uint96 b, uint96 extra) public {
        uint256 total = uint256(a) + b;
        vm.deal(address(this), total + extra);
        Multicall3.Call3Value[] memory calls = new Multicall3.Call3Value[](2);
        calls[0] = Multicall3.Call3Value(address(target), false, a, _echo(1));
        calls[1] = Multicall3.Call3Value(address(target), false, b, _echo(2));
        if (extra != 0) {
            vm.expectRevert(bytes("Multicall3: value mismatch"));
            multicall.aggregate3Value{value: total + extra}(calls);
        }
        Multicall3.Result[] memory results = multicall.aggregate3Value{value: total}(calls);
        (, uint256 paid0) = abi.decode(results[0].returnData, (uint256, uint256));
        (, uint256 paid1) = abi.decode(results[1].returnData, (uint256, uint256));
        assertEq(paid0, a);
        assertEq(paid1, b);
        assertEq(address(target).balance, total);
        assertEq(address(multicall).balance, 0);
    }

    function testFuzz_getters_readTheBlock(address account, uint96 balance) public {
        vm.deal(account, balance);
        vm.roll(1_000);
        vm.fee(7);
        assertEq(multicall.getEthBalance(account), account.balance);
        assertEq(multicall.getBlockNumber(), 1_000);
        assertEq(multicall.getBasefee(), 7);
        assertEq(multicall.getChainId(), block.chainid);
        assertEq(multicall.getCurrentBlockTimestamp(), block.timestamp);
        assertEq(multicall.getCurrentBlockGasLimit(), block.gaslimit);
        assertEq(multicall.getCurrentBlockCoinbase(), block.coinbase);
        assertEq(multicall.getCurrentBlockDifficulty(), block.prevrandao);
        assertEq(multicall.getLastBlockHash(), blockhash(999));
        assertEq(multicall.getBlockHash(998), blockhash(998));
    }
}
