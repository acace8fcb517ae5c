// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "test/utils/Test.sol";
import {MockERC20, FeeOnTransferERC20, FalseReturningERC20, ReentrantERC20} from "test/utils/Mocks.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

contract L1BridgeTest is Test {
    event DepositInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit
    );

    L1Bridge internal bridge;
    MockERC20 internal token;
    address internal l2Token;
    address internal alice;

    uint32 internal constant ETH_GAS = 21_000;
    uint32 internal constant ERC20_GAS = 900_000;

    function setUp() public {
        bridge = new L1Bridge(address(new StateManager(address(this), address(this), 1 hours, 0)));
        token = new MockERC20();
        l2Token = bridge.predictL2Token(address(token));
        alice = makeAddr("alice");
        vm.deal(alice, 1_000_000 ether);
        token.mint(alice, type(uint128).max);
        vm.prank(alice);
        token.approve(address(bridge), type(uint256).max);
    }

    /// @dev A valid ETH deposit gas limit from a fuzz seed.
    function _ethGas(uint256 seed) internal pure returns (uint32) {
        return uint32(bound(seed, ETH_GAS, 5_000_000));
    }

    // ------------------------------------------------------------------ constants

    function test_constructor_zeroStateManager_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroAddress.selector);
        new L1Bridge(address(0));
    }

    function test_constants_succeeds() public view {
        assertEq(bridge.MIN_ETH_DEPOSIT_GAS(), 21_000);
        assertEq(bridge.MIN_ERC20_DEPOSIT_GAS(), ERC20_GAS);
        assertEq(bridge.MAX_DEPOSIT_GAS(), 5_000_000);
        assertEq(bridge.DEPOSIT_GAS_PER_L1_BLOCK(), 30_000_000);
        assertEq(bridge.bridgedTokenInitCodeHash(), keccak256(type(BridgedERC20).creationCode));
        assertEq(
            IL1Bridge.DepositInitiated.selector,
            keccak256("DepositInitiated(uint256,address,address,address,address,uint256,uint32)")
        );
    }

    // ------------------------------------------------------------------ ETH deposits

    function test_deposit_eth_succeeds() public {
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, alice, address(0), address(0), 1 ether, ETH_GAS);
        vm.prank(alice);
        bridge.deposit{value: 1 ether}(address(0), address(0), 1 ether, ETH_GAS);

        assertEq(address(bridge).balance, 1 ether);
        assertEq(bridge.deposits(address(0)), 1 ether);
        assertEq(bridge.depositNonce(), 1);
        assertEq(bridge.blockDepositGasUsed(), ETH_GAS);
    }

    /// @dev The log layout the Rust derivation decodes: 4 topics, 128 bytes of data.
    function test_deposit_logLayout_succeeds() public {
        vm.recordLogs();
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, 5, ERC20_GAS);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory log;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(bridge)) log = logs[i];
        }
        assertEq(log.topics.length, 4);
        assertEq(log.topics[0], IL1Bridge.DepositInitiated.selector);
        assertEq(log.topics[1], bytes32(uint256(0)));
        assertEq(log.topics[2], bytes32(uint256(uint160(alice))));
        assertEq(log.topics[3], bytes32(uint256(uint160(alice))));
        assertEq(log.data, abi.encode(address(token), l2Token, uint256(5), uint256(ERC20_GAS)));
        assertEq(log.data.length, 128);
    }

    function testFuzz_deposit_eth_succeeds(uint256 amount, uint256 gasSeed, address sender) public {
        vm.assume(sender != address(bridge));
        amount = bound(amount, 1, 1e30);
        uint32 gasLimit = _ethGas(gasSeed);
        vm.deal(sender, amount);

        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, sender, sender, address(0), address(0), amount, gasLimit);
        vm.prank(sender);
        bridge.deposit{value: amount}(address(0), address(0), amount, gasLimit);

        assertEq(address(bridge).balance, amount);
        assertEq(bridge.deposits(address(0)), amount);
        assertEq(bridge.depositNonce(), 1);
    }

    function testFuzz_deposit_ethValueMismatch_reverts(uint256 amount, uint256 value) public {
        amount = bound(amount, 1, 1e30);
        value = bound(value, 0, 1e30);
        vm.assume(value != amount);
        vm.deal(alice, value);
        vm.expectRevert(L1Bridge.L1Bridge_ValueMismatch.selector);
        vm.prank(alice);
        bridge.deposit{value: value}(address(0), address(0), amount, ETH_GAS);
    }

    function testFuzz_deposit_ethWithL2Token_reverts(address wrongL2Token) public {
        vm.assume(wrongL2Token != address(0));
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        vm.prank(alice);
        bridge.deposit{value: 1}(address(0), wrongL2Token, 1, ETH_GAS);
    }

    function test_deposit_zeroAmount_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroAmount.selector);
        vm.prank(alice);
        bridge.deposit(address(0), address(0), 0, ETH_GAS);

        vm.expectRevert(L1Bridge.L1Bridge_ZeroAmount.selector);
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, 0, ERC20_GAS);
    }

    function testFuzz_deposit_ethGasLimitOutOfRange_reverts(uint32 gasLimit) public {
        vm.assume(gasLimit < 21_000 || gasLimit > 5_000_000);
        vm.expectRevert(L1Bridge.L1Bridge_GasLimitOutOfRange.selector);
        vm.prank(alice);
        bridge.deposit{value: 1}(address(0), address(0), 1, gasLimit);
    }

    // ------------------------------------------------------------------ ERC-20 deposits

    function test_deposit_erc20_succeeds() public {
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, alice, address(token), l2Token, 7 ether, ERC20_GAS);
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, 7 ether, ERC20_GAS);

        assertEq(token.balanceOf(address(bridge)), 7 ether);
        assertEq(bridge.deposits(address(token)), 7 ether);
        assertEq(bridge.deposits(address(0)), 0);
        assertEq(bridge.depositNonce(), 1);
    }

    function testFuzz_deposit_erc20_succeeds(uint256 amount, uint256 gasSeed) public {
        amount = bound(amount, 1, type(uint128).max);
        uint32 gasLimit = uint32(bound(gasSeed, ERC20_GAS, 5_000_000));
        uint256 aliceBefore = token.balanceOf(alice);

        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, alice, address(token), l2Token, amount, gasLimit);
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, amount, gasLimit);

        assertEq(token.balanceOf(address(bridge)), amount);
        assertEq(token.balanceOf(alice), aliceBefore - amount);
        assertEq(bridge.deposits(address(token)), amount);
    }

    function testFuzz_deposit_erc20GasLimitOutOfRange_reverts(uint32 gasLimit) public {
        vm.assume(gasLimit < ERC20_GAS || gasLimit > 5_000_000);
        vm.expectRevert(L1Bridge.L1Bridge_GasLimitOutOfRange.selector);
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, 1, gasLimit);
    }

    function testFuzz_deposit_erc20WithValue_reverts(uint256 value) public {
        value = bound(value, 1, 1_000_000 ether);
        vm.expectRevert(L1Bridge.L1Bridge_ValueMismatch.selector);
        vm.prank(alice);
        bridge.deposit{value: value}(address(token), l2Token, 1, ERC20_GAS);
    }

    function testFuzz_deposit_erc20WrongL2Token_reverts(address wrongL2Token) public {
        vm.assume(wrongL2Token != l2Token);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        vm.prank(alice);
        bridge.deposit(address(token), wrongL2Token, 1, ERC20_GAS);
    }

    function testFuzz_deposit_notAContract_reverts(address l1Token) public {
        vm.assume(l1Token != address(0) && l1Token.code.length == 0);
        address predicted = bridge.predictL2Token(l1Token);
        vm.expectRevert(L1Bridge.L1Bridge_NotAContract.selector);
        vm.prank(alice);
        bridge.deposit(l1Token, predicted, 1, ERC20_GAS);
    }

    function test_deposit_feeOnTransfer_reverts() public {
        FeeOnTransferERC20 fee = new FeeOnTransferERC20();
        fee.mint(alice, 100 ether);
        vm.startPrank(alice);
        fee.approve(address(bridge), type(uint256).max);
        address feeL2Token = bridge.predictL2Token(address(fee));
        vm.expectRevert(L1Bridge.L1Bridge_FeeOnTransferToken.selector);
        bridge.deposit(address(fee), feeL2Token, 10 ether, ERC20_GAS);
        vm.stopPrank();
    }

    function test_deposit_falseReturningToken_reverts() public {
        FalseReturningERC20 bad = new FalseReturningERC20();
        address badL2Token = bridge.predictL2Token(address(bad));
        vm.expectRevert(SafeTransferLib.TransferFromFailed.selector);
        vm.prank(alice);
        bridge.deposit(address(bad), badL2Token, 1, ERC20_GAS);
    }

    function test_deposit_insufficientAllowance_reverts() public {
        address bob = makeAddr("bob");
        token.mint(bob, 1 ether);
        vm.expectRevert(SafeTransferLib.TransferFromFailed.selector);
        vm.prank(bob);
        bridge.deposit(address(token), l2Token, 1 ether, ERC20_GAS);
    }

    function test_deposit_reentrantToken_reverts() public {
        ReentrantERC20 reentrant = new ReentrantERC20();
        reentrant.setL2Token(bridge.predictL2Token(address(reentrant)));
        reentrant.mint(alice, 10);
        vm.startPrank(alice);
        reentrant.approve(address(bridge), type(uint256).max);
        address reentrantL2Token = bridge.predictL2Token(address(reentrant));
        bridge.deposit(address(reentrant), reentrantL2Token, 10, ERC20_GAS);
        vm.stopPrank();
        // The nested deposit was rejected by the guard; only the outer one counted.
        assertEq(reentrant.reentryRevertData(), abi.encodeWithSelector(ReentrancyGuardTransient.Reentrancy.selector));
        assertEq(bridge.depositNonce(), 1);
        assertEq(bridge.deposits(address(reentrant)), 10);
    }

    // ------------------------------------------------------------------ nonce and gas budget

    function test_deposit_nonceIncrements_succeeds() public {
        for (uint256 i; i < 5; ++i) {
            vm.expectEmit(address(bridge));
            emit DepositInitiated(i, alice, alice, address(0), address(0), i + 1, ETH_GAS);
            vm.prank(alice);
            bridge.deposit{value: i + 1}(address(0), address(0), i + 1, ETH_GAS);
        }
        assertEq(bridge.depositNonce(), 5);
        assertEq(bridge.deposits(address(0)), 15);
    }

    function test_deposit_blockGasExhausted_reverts() public {
        vm.startPrank(alice);
        for (uint256 i; i < 6; ++i) {
            bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
        }
        assertEq(bridge.blockDepositGasUsed(), 30_000_000);
        vm.expectRevert(L1Bridge.L1Bridge_BlockDepositGasExhausted.selector);
        bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);

        // The budget is per L1 block.
        vm.roll(block.number + 1);
        assertEq(bridge.blockDepositGasUsed(), 0);
        bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
        vm.stopPrank();
        assertEq(bridge.blockDepositGasUsed(), 5_000_000);
        assertEq(bridge.depositNonce(), 7);
    }

    function testFuzz_deposit_blockGasBudget_succeeds(uint32[8] memory gasSeeds) public {
        uint256 used;
        vm.startPrank(alice);
        for (uint256 i; i < gasSeeds.length; ++i) {
            uint32 gasLimit = _ethGas(gasSeeds[i]);
            if (used + gasLimit > 30_000_000) {
                vm.expectRevert(L1Bridge.L1Bridge_BlockDepositGasExhausted.selector);
                bridge.deposit{value: 1}(address(0), address(0), 1, gasLimit);
            } else {
                bridge.deposit{value: 1}(address(0), address(0), 1, gasLimit);
                used += gasLimit;
            }
            assertEq(bridge.blockDepositGasUsed(), used);
        }
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ withdrawals

    function testFuzz_withdraw_onL1_reverts(address l1Token, address l2Token_, uint256 amount) public {
        vm.expectRevert(L1Bridge.L1Bridge_WithdrawOnL2.selector);
        bridge.withdraw(l1Token, l2Token_, amount);
    }

    // ------------------------------------------------------------------ L1 -> L2 agreement

    /// @dev The predicted L2 token is where the real L2 bridge, at its predeploy address,
    ///      deploys the BridgedERC20.
    function testFuzz_predictL2Token_matchesCreate2Deployment_succeeds(address l1Token) public {
        vm.assume(l1Token != address(0));
        vm.etch(Predeploys.L2_BRIDGE, address(new L2Bridge()).code);
        address predicted = bridge.predictL2Token(l1Token);
        assertEq(predicted.code.length, 0);

        vm.prank(Predeploys.DEPOSITOR);
        L2Bridge(Predeploys.L2_BRIDGE).finalizeDeposit(l1Token, predicted, alice, alice, 1);

        assertGt(predicted.code.length, 0, "no token at the predicted address");
        assertEq(BridgedERC20(predicted).l1Token(), l1Token);
        assertEq(BridgedERC20(predicted).balanceOf(alice), 1);
    }

    /// @dev End to end: the DepositInitiated log, decoded as the derivation does, finalizes on
    ///      L2 within the deposit's own gas limit.
    function test_deposit_erc20FinalizesOnL2_succeeds() public {
        vm.etch(Predeploys.L2_BRIDGE, address(new L2Bridge()).code);
        vm.recordLogs();
        vm.prank(alice);
        bridge.deposit(address(token), l2Token, 3 ether, ERC20_GAS);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory log;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(bridge)) log = logs[i];
        }
        assertEq(log.topics[0], IL1Bridge.DepositInitiated.selector);

        address from = address(uint160(uint256(log.topics[2])));
        address to = address(uint160(uint256(log.topics[3])));
        (address l1Token_, address l2Token_, uint256 amount, uint32 gasLimit) =
            abi.decode(log.data, (address, address, uint256, uint32));

        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = Predeploys.L2_BRIDGE.call{gas: gasLimit - 21_000 - 164 * 16}(
            abi.encodeCall(L2Bridge.finalizeDeposit, (l1Token_, l2Token_, from, to, amount))
        );
        assertTrue(ok, "finalizeDeposit failed");
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 3 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), bridge.deposits(address(token)));
    }
}
