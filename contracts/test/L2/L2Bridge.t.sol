// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {ERC20} from "solady/tokens/ERC20.sol";

contract L2BridgeTest is Test {
    event BridgedTokenDeployed(address indexed l1Token, address indexed l2Token);
    event DepositFinalized(
        address indexed l1Token, address indexed l2Token, address indexed from, address to, uint256 amount
    );
    event Initialized(address indexed l1Token);
    event WithdrawalInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        bytes32 withdrawalHash
    );

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
        L1Bridge l1Bridge = new L1Bridge(address(1));
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

    // ------------------------------------------------------------------ withdrawals

    /// @dev Credits `amount` of `l1Token`'s L2 token to `to` through a deposit.
    function _credit(address to, uint256 amount) internal returns (address l2Token) {
        l2Token = bridge.l2TokenOf(l1Token);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, to, to, amount);
    }

    function _hash(uint256 nonce, address from, address token1, address token2, uint256 amount)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(nonce, from, from, token1, token2, amount));
    }

    function test_withdraw_eth_succeeds() public {
        vm.deal(alice, 5 ether);
        bytes32 expected = _hash(0, alice, address(0), address(0), 2 ether);
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(0, alice, alice, address(0), address(0), 2 ether, expected);
        vm.prank(alice);
        bytes32 hash = bridge.withdraw{value: 2 ether}(address(0), address(0), 2 ether);
        assertEq(hash, expected);
        assertTrue(bridge.sentWithdrawals(hash));
        assertEq(bridge.withdrawalNonce(), 1);
        // The ETH stays locked in the predeploy.
        assertEq(address(bridge).balance, 2 ether);
        assertEq(alice.balance, 3 ether);
    }

    function test_withdraw_erc20_succeeds() public {
        address l2Token = _credit(alice, 10 ether);
        bytes32 expected = _hash(0, alice, l1Token, l2Token, 4 ether);
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(0, alice, alice, l1Token, l2Token, 4 ether, expected);
        vm.prank(alice);
        bytes32 hash = bridge.withdraw(l1Token, l2Token, 4 ether);
        assertEq(hash, expected);
        assertTrue(bridge.sentWithdrawals(hash));
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 6 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), 6 ether);
    }

    /// @dev The storage layout L1 proves against: `sentWithdrawals` at slot 0, the nonce at slot 1.
    function testFuzz_withdraw_storageLayout_succeeds(uint256 amount, uint8 count) public {
        amount = bound(amount, 1, 1e30);
        count = uint8(bound(count, 1, 5));
        vm.deal(alice, amount * count);
        for (uint256 i; i < count; ++i) {
            vm.prank(alice);
            bytes32 hash = bridge.withdraw{value: amount}(address(0), address(0), amount);
            bytes32 slot = keccak256(abi.encode(hash, uint256(0)));
            assertEq(slot, Withdrawals.storageSlot(hash));
            assertEq(vm.load(address(bridge), slot), bytes32(uint256(1)), "sentWithdrawals not at slot 0");
        }
        assertEq(vm.load(address(bridge), bytes32(uint256(1))), bytes32(uint256(count)), "nonce not at slot 1");
    }

    function testFuzz_withdraw_uniqueHashes_succeeds(uint256 amount) public {
        amount = bound(amount, 1, 1e30);
        vm.deal(alice, 2 * amount);
        vm.startPrank(alice);
        bytes32 first = bridge.withdraw{value: amount}(address(0), address(0), amount);
        bytes32 second = bridge.withdraw{value: amount}(address(0), address(0), amount);
        vm.stopPrank();
        assertTrue(first != second, "identical withdrawals share a hash");
        assertEq(second, _hash(1, alice, address(0), address(0), amount));
    }

    function testFuzz_withdraw_hashMatchesLibrary_succeeds(
        uint256 nonce,
        address from,
        address to,
        address token1,
        address token2,
        uint256 amount
    ) public view {
        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(nonce, from, to, token1, token2, amount);
        assertEq(bridge.hashWithdrawal(w), keccak256(abi.encode(nonce, from, to, token1, token2, amount)));
        assertEq(bridge.hashWithdrawal(w), Withdrawals.hash(w));
    }

    function test_withdraw_zeroAmount_reverts() public {
        address l2Token = _credit(alice, 1);
        vm.startPrank(alice);
        vm.expectRevert(L2Bridge.L2Bridge_ZeroAmount.selector);
        bridge.withdraw(address(0), address(0), 0);
        vm.expectRevert(L2Bridge.L2Bridge_ZeroAmount.selector);
        bridge.withdraw(l1Token, l2Token, 0);
        vm.stopPrank();
    }

    function testFuzz_withdraw_ethValueMismatch_reverts(uint256 amount, uint256 value) public {
        amount = bound(amount, 1, 1e30);
        value = bound(value, 0, 1e30);
        vm.assume(value != amount);
        vm.deal(alice, value);
        vm.expectRevert(L2Bridge.L2Bridge_ValueMismatch.selector);
        vm.prank(alice);
        bridge.withdraw{value: value}(address(0), address(0), amount);
    }

    function testFuzz_withdraw_ethWithL2Token_reverts(address l2Token) public {
        vm.assume(l2Token != address(0));
        vm.deal(alice, 1);
        vm.expectRevert(L2Bridge.L2Bridge_TokenMismatch.selector);
        vm.prank(alice);
        bridge.withdraw{value: 1}(address(0), l2Token, 1);
    }

    function testFuzz_withdraw_erc20WithValue_reverts(uint256 value) public {
        address l2Token = _credit(alice, 1);
        value = bound(value, 1, 1e30);
        vm.deal(alice, value);
        vm.expectRevert(L2Bridge.L2Bridge_ValueMismatch.selector);
        vm.prank(alice);
        bridge.withdraw{value: value}(l1Token, l2Token, 1);
    }

    function testFuzz_withdraw_erc20WrongL2Token_reverts(address l2Token) public {
        vm.assume(l2Token != bridge.l2TokenOf(l1Token));
        _credit(alice, 1);
        vm.expectRevert(L2Bridge.L2Bridge_TokenMismatch.selector);
        vm.prank(alice);
        bridge.withdraw(l1Token, l2Token, 1);
    }

    function testFuzz_withdraw_undeployedToken_reverts(address token) public {
        vm.assume(token != address(0));
        address l2Token = bridge.l2TokenOf(token);
        vm.expectRevert(L2Bridge.L2Bridge_UnknownToken.selector);
        vm.prank(alice);
        bridge.withdraw(token, l2Token, 1);
    }

    function testFuzz_withdraw_insufficientBalance_reverts(uint256 balance, uint256 amount) public {
        balance = bound(balance, 0, 1e30);
        amount = bound(amount, balance + 1, 1e31);
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, bob, bob, 1);
        if (balance != 0) _credit(alice, balance);
        vm.expectRevert(ERC20.InsufficientBalance.selector);
        vm.prank(alice);
        bridge.withdraw(l1Token, l2Token, amount);
        assertEq(bridge.withdrawalNonce(), 0);
    }

    function testFuzz_withdraw_erc20_succeeds(uint256 credited, uint256 amount, address holder) public {
        vm.assume(holder != address(0));
        credited = bound(credited, 1, type(uint128).max);
        amount = bound(amount, 1, credited);
        address l2Token = _credit(holder, credited);
        vm.prank(holder);
        bytes32 hash = bridge.withdraw(l1Token, l2Token, amount);
        assertEq(hash, _hash(0, holder, l1Token, l2Token, amount));
        assertTrue(bridge.sentWithdrawals(hash));
        assertEq(BridgedERC20(l2Token).balanceOf(holder), credited - amount);
    }
}
