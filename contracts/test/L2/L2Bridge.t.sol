// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";

contract L2BridgeTest is Test {
    event BridgedTokenDeployed(address indexed l1Token, address indexed l2Token);
    event DepositFinalized(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount
    );
    event Initialized(address indexed l1Token);

    L2Bridge internal bridge;
    address internal l1Token;
    address internal alice;
    address internal bob;

    function setUp() public {
        // As in the L2 genesis: the runtime code alone, at the predeploy address.
        vm.etch(Predeploys.L2_BRIDGE, address(new L2Bridge()).code);
        bridge = L2Bridge(Predeploys.L2_BRIDGE);
        l1Token = makeAddr("l1Token");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
    }

    /// @dev Intrinsic gas of a transaction with `data` as calldata (no access list, no create).
    function _intrinsicGas(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function test_finalizeDeposit_firstDeposit_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        assertEq(l2Token.code.length, 0);

        vm.expectEmit(address(l2Token));
        emit Initialized(l1Token);
        vm.expectEmit(address(bridge));
        emit BridgedTokenDeployed(l1Token, l2Token);
        vm.expectEmit(address(bridge));
        emit DepositFinalized(l1Token, l2Token, alice, bob, 100 ether);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 100 ether);

        BridgedERC20 token = BridgedERC20(l2Token);
        assertEq(token.l1Token(), l1Token);
        assertEq(token.bridge(), address(bridge));
        assertEq(token.balanceOf(bob), 100 ether);
        assertEq(token.totalSupply(), 100 ether);
    }

    function test_finalizeDeposit_secondDeposit_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.startPrank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 1 ether);
        bytes32 codeHash = l2Token.codehash;

        vm.recordLogs();
        bridge.finalizeDeposit(l1Token, l2Token, bob, alice, 2 ether);
        vm.stopPrank();
        // Only Transfer and DepositFinalized: no second deployment.
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(l2Token.codehash, codeHash);
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 2 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), 3 ether);
    }

    function testFuzz_finalizeDeposit_notDepositor_reverts(address caller) public {
        vm.assume(caller != Predeploys.DEPOSITOR);
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.expectRevert(L2Bridge.L2Bridge_NotDepositor.selector);
        vm.prank(caller);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 1);
    }

    function testFuzz_finalizeDeposit_tokenMismatch_reverts(address l2Token) public {
        vm.assume(l2Token != bridge.l2TokenOf(l1Token));
        vm.expectRevert(L2Bridge.L2Bridge_TokenMismatch.selector);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 1);
    }

    function test_finalizeDeposit_zeroL1Token_reverts() public {
        address l2Token = bridge.l2TokenOf(address(0));
        vm.expectRevert(L2Bridge.L2Bridge_ZeroL1Token.selector);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(address(0), l2Token, alice, bob, 1);
    }

    function testFuzz_finalizeDeposit_anyTokenAndAmount_succeeds(
        address token,
        address from,
        address to,
        uint256 amount
    ) public {
        vm.assume(token != address(0) && to != address(0));
        address l2Token = bridge.l2TokenOf(token);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(token, l2Token, from, to, amount);
        assertEq(BridgedERC20(l2Token).balanceOf(to), amount);
        assertEq(BridgedERC20(l2Token).l1Token(), token);
    }

    /// @dev The L1 bridge's prediction is the L2 bridge's CREATE2 address, deployed or not.
    function testFuzz_l2TokenOf_matchesL1Prediction_succeeds(address token) public {
        vm.assume(token != address(0));
        L1Bridge l1Bridge = new L1Bridge();
        assertEq(bridge.l2TokenOf(token), l1Bridge.predictL2Token(token));
    }

    /// @dev Measures the first-time (deploying) finalizeDeposit and checks MIN_ERC20_DEPOSIT_GAS
    ///      covers it with >= 30% headroom, and that a deposit transaction with exactly that
    ///      gas limit succeeds.
    function test_finalizeDeposit_firstDepositGas_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        // Worst-case calldata: all-nonzero words.
        address from = address(type(uint160).max);
        address to = address(type(uint160).max - 1);
        uint256 amount = type(uint256).max;
        bytes memory data = abi.encodeCall(L2Bridge.finalizeDeposit, (l1Token, l2Token, from, to, amount));
        uint256 intrinsic = _intrinsicGas(data);

        vm.prank(Predeploys.DEPOSITOR);
        uint256 before = gasleft();
        bridge.finalizeDeposit(l1Token, l2Token, from, to, amount);
        uint256 execution = before - gasleft();
        uint256 total = intrinsic + execution;
        console.log("first ERC-20 finalizeDeposit execution gas", execution);
        console.log("first ERC-20 finalizeDeposit tx gas (intrinsic + execution)", total);
        assertGe(DepositLimits.MIN_ERC20_DEPOSIT_GAS, total * 130 / 100, "MIN_ERC20_DEPOSIT_GAS headroom < 30%");
    }

    /// @dev A deposit transaction with exactly MIN_ERC20_DEPOSIT_GAS deploys the token and mints.
    function test_finalizeDeposit_minGasFirstDeposit_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        address from = address(type(uint160).max);
        uint256 amount = type(uint256).max;
        bytes memory data = abi.encodeCall(L2Bridge.finalizeDeposit, (l1Token, l2Token, from, from, amount));
        uint256 executionGas = DepositLimits.MIN_ERC20_DEPOSIT_GAS - _intrinsicGas(data);

        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(bridge).call{gas: executionGas}(data);
        assertTrue(ok, "deposit with MIN_ERC20_DEPOSIT_GAS failed");
        assertEq(BridgedERC20(l2Token).balanceOf(from), amount);
    }
}
