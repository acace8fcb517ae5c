// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm, console} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {DepositChainLogs} from "test/utils/DepositChainLogs.sol";
import {MockERC20} from "test/utils/Mocks.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {AddressAliasing} from "src/libraries/AddressAliasing.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";

/// @dev Calls the bridge as a contract (its L2 identity is aliased).
contract ChainForwarder {
    function call(address target, bytes calldata data) external payable {
        (bool ok, bytes memory result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}

/// @notice The bridge's deposit hash chain and its per-L1-block checkpoints, checked against
///         the chain a node computes from the bridge's logs (`DepositChainLogs`).
contract L1BridgeDepositChainTest is Test {
    uint32 internal constant ETH_GAS = 21_000;
    uint32 internal constant ERC20_GAS = uint32(DepositLimits.MIN_ERC20_DEPOSIT_GAS);

    L1Bridge internal bridge;
    MockERC20 internal token;
    address internal l2Token;
    address internal alice;
    ChainForwarder internal forwarder;

    /// @dev The reference: chain and count from the logs, and one checkpoint per L1 block.
    bytes32 internal refChain;
    uint256 internal refCount;
    IDepositChain.Checkpoint[] internal refCheckpoints;

    function setUp() public {
        bridge = BridgeFixtures.deployL1Bridge(address(1), 4242, makeAddr("proxyOwner"));
        token = new MockERC20();
        l2Token = bridge.predictL2Token(address(token));
        alice = makeAddr("alice");
        forwarder = new ChainForwarder();
        vm.deal(alice, 1_000 ether);
        token.mint(alice, 1_000 ether);
        token.mint(address(forwarder), 1_000 ether);
        vm.prank(alice, alice);
        token.approve(address(bridge), type(uint256).max);
        vm.prank(address(forwarder));
        token.approve(address(bridge), type(uint256).max);
        vm.roll(100);
    }

    // ------------------------------------------------------------------ helpers

    function _depositEth(uint256 amount) internal {
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.deposit{value: amount}(address(0), address(0), amount, ETH_GAS);
        _absorb();
    }

    function _depositToken(uint256 amount, address to) internal {
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.depositTo(address(token), l2Token, amount, ERC20_GAS, to);
        _absorb();
    }

    function _forceWithdraw(uint256 amount) internal {
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.withdraw(address(0), address(0), amount);
        _absorb();
    }

    /// @dev A deposit and a forced withdrawal made by a contract (aliased `from`).
    function _viaContract(uint256 amount) internal {
        vm.deal(address(forwarder), amount);
        vm.recordLogs();
        forwarder.call{value: amount}(
            address(bridge), abi.encodeCall(L1Bridge.depositTo, (address(0), address(0), amount, ETH_GAS, alice))
        );
        forwarder.call(address(bridge), abi.encodeCall(L1Bridge.withdrawTo, (address(token), l2Token, amount, alice)));
        _absorb();
    }

    /// @dev Folds the recorded logs into the reference chain and checkpoints.
    function _absorb() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 before = refCount;
        (refChain, refCount) = DepositChainLogs.extend(refChain, refCount, logs, address(bridge));
        if (refCount == before) return;
        uint256 n = refCheckpoints.length;
        if (n != 0 && refCheckpoints[n - 1].l1Block == block.number) {
            refCheckpoints[n - 1].count = uint64(refCount);
            refCheckpoints[n - 1].chain = refChain;
        } else {
            refCheckpoints.push(
                IDepositChain.Checkpoint({l1Block: uint64(block.number), count: uint64(refCount), chain: refChain})
            );
        }
    }

    /// @dev The bridge's chain, checkpoints and per-block views equal the reference.
    function _checkAgainstReference() internal view {
        (uint256 count, bytes32 chain) = bridge.depositChain();
        assertEq(count, refCount, "count");
        assertEq(count, bridge.depositNonce(), "count != depositNonce");
        assertEq(chain, refChain, "chain");
        assertEq(bridge.checkpointCount(), refCheckpoints.length, "checkpoint count");
        for (uint256 i; i < refCheckpoints.length; ++i) {
            IDepositChain.Checkpoint memory c = bridge.checkpoint(i);
            assertEq(c.l1Block, refCheckpoints[i].l1Block, "checkpoint block");
            assertEq(c.count, refCheckpoints[i].count, "checkpoint count");
            assertEq(c.chain, refCheckpoints[i].chain, "checkpoint chain");
        }
    }

    /// @dev The reference answer for `depositChainAt(l1Block)`: a linear scan.
    function _scan(uint256 l1Block) internal view returns (uint256 count, bytes32 chain) {
        for (uint256 i; i < refCheckpoints.length && refCheckpoints[i].l1Block <= l1Block; ++i) {
            (count, chain) = (refCheckpoints[i].count, refCheckpoints[i].chain);
        }
    }

    // ------------------------------------------------------------------ tests

    function test_depositChain_empty_succeeds() public {
        (uint256 count, bytes32 chain) = bridge.depositChain();
        assertEq(count, 0);
        assertEq(chain, bytes32(0));
        assertEq(bridge.checkpointCount(), 0);
        assertEq(bridge.depositCountAt(block.number), 0);
        assertEq(bridge.depositCountAt(type(uint256).max), 0);
        (count, chain) = bridge.depositChainAt(type(uint256).max);
        assertEq(count, 0);
        assertEq(chain, bytes32(0));
        vm.expectRevert(L1Bridge.L1Bridge_UnknownCheckpoint.selector);
        bridge.checkpoint(0);
    }

    /// @dev The first message's chain, written out from the spec: kind, nonce, from, to, tokens,
    ///      amount, gas limit, refundTo, keccak256 of the metadata, each a full ABI word.
    function test_depositChain_firstMessage_succeeds() public {
        _depositEth(5);
        bytes32 messageHash = keccak256(
            abi.encode(
                uint8(0), uint256(0), alice, alice, address(0), address(0), uint256(5), ETH_GAS, alice, keccak256("")
            )
        );
        (uint256 count, bytes32 chain) = bridge.depositChain();
        assertEq(count, 1);
        assertEq(chain, keccak256(abi.encode(bytes32(0), messageHash)));

        vm.roll(block.number + 1);
        _forceWithdraw(7);
        bytes32 forcedHash = keccak256(
            abi.encode(
                uint8(1),
                uint256(1),
                alice,
                alice,
                address(0),
                address(0),
                uint256(7),
                uint32(DepositLimits.FORCED_WITHDRAWAL_GAS),
                address(0),
                keccak256("")
            )
        );
        (, bytes32 next) = bridge.depositChain();
        assertEq(next, keccak256(abi.encode(chain, forcedHash)));
        _checkAgainstReference();
    }

    /// @dev Every kind of message, from EOAs and contracts, over several L1 blocks (some
    ///      without messages): chain and checkpoints follow the logs.
    function test_depositChain_matchesLogs_succeeds() public {
        _depositEth(1 ether);
        _depositToken(3 ether, makeAddr("bob"));
        _forceWithdraw(2 ether);
        _checkAgainstReference();
        assertEq(bridge.checkpointCount(), 1, "one L1 block, one checkpoint");

        vm.roll(block.number + 3);
        _viaContract(4 ether);
        _checkAgainstReference();
        assertEq(bridge.checkpointCount(), 2);
        IDepositChain.Checkpoint memory c = bridge.checkpoint(1);
        assertEq(c.l1Block, block.number);
        assertEq(c.count, 5);

        vm.roll(block.number + 1);
        _depositEth(1);
        vm.roll(block.number + 10);
        _depositToken(1, alice);
        _depositEth(2);
        _checkAgainstReference();
        assertEq(bridge.checkpointCount(), 4);

        // Per-block views, including blocks without messages and before the first.
        for (uint256 b = 95; b <= block.number + 2; ++b) {
            (uint256 count, bytes32 chain) = _scan(b);
            assertEq(bridge.depositCountAt(b), count, "depositCountAt");
            (uint256 atCount, bytes32 atChain) = bridge.depositChainAt(b);
            assertEq(atCount, count, "depositChainAt count");
            assertEq(atChain, chain, "depositChainAt chain");
        }
    }

    /// @dev A contract's messages hash its aliased L2 identity as `from` (as emitted) and the
    ///      contract itself as `refundTo`.
    function test_depositChain_aliasedFrom_succeeds() public {
        _viaContract(1);
        address aliased = AddressAliasing.applyL1ToL2Alias(address(forwarder));
        bytes32 depositHash = keccak256(
            abi.encode(
                uint8(0),
                uint256(0),
                aliased,
                alice,
                address(0),
                address(0),
                uint256(1),
                ETH_GAS,
                address(forwarder),
                keccak256("")
            )
        );
        bytes32 forcedHash = keccak256(
            abi.encode(
                uint8(1),
                uint256(1),
                aliased,
                alice,
                address(token),
                l2Token,
                uint256(1),
                uint32(DepositLimits.FORCED_WITHDRAWAL_GAS),
                address(0),
                keccak256("")
            )
        );
        bytes32 expected = keccak256(abi.encode(keccak256(abi.encode(bytes32(0), depositHash)), forcedHash));
        (uint256 count, bytes32 chain) = bridge.depositChain();
        assertEq(count, 2);
        assertEq(chain, expected);
        _checkAgainstReference();
    }

    /// @dev A reverted message leaves no trace in the chain.
    function test_depositChain_revertedMessage_succeeds() public {
        _depositEth(1);
        (uint256 countBefore, bytes32 chainBefore) = bridge.depositChain();
        vm.prank(alice, alice);
        vm.expectRevert(L1Bridge.L1Bridge_ValueMismatch.selector);
        bridge.deposit{value: 1}(address(0), address(0), 2, ETH_GAS);
        (uint256 countAfter, bytes32 chainAfter) = bridge.depositChain();
        assertEq(countAfter, countBefore);
        assertEq(chainAfter, chainBefore);
        assertEq(bridge.checkpointCount(), 1);
    }

    function testFuzz_checkpoint_unknown_reverts(uint256 index) public {
        _depositEth(1);
        index = bound(index, 1, type(uint256).max);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownCheckpoint.selector);
        bridge.checkpoint(index);
    }

    /// @dev Random histories: the galloping search answers as a linear scan does, for every
    ///      block around them.
    function testFuzz_depositCountAt_matchesScan_succeeds(uint256 seed, uint8 steps) public {
        uint256 start = block.number;
        uint256 n = bound(steps, 1, 40);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            vm.roll(block.number + r % 4);
            uint256 messages = (r >> 8) % 3;
            for (uint256 m; m < messages; ++m) {
                if ((r >> (16 + m)) & 1 == 0) _depositEth(1 + m);
                else _forceWithdraw(1 + m);
            }
        }
        _checkAgainstReference();
        for (uint256 b = start - 1; b <= block.number + 1; ++b) {
            (uint256 count, bytes32 chain) = _scan(b);
            assertEq(bridge.depositCountAt(b), count, "depositCountAt");
            (uint256 atCount, bytes32 atChain) = bridge.depositChainAt(b);
            assertEq(atCount, count, "depositChainAt count");
            assertEq(atChain, chain, "depositChainAt chain");
        }
    }

    /// @dev The chain after every 128th message is kept as a mark, whatever L1 blocks the
    ///      messages fall in; no other nonce has one.
    function test_depositChainMark_everyMark_succeeds() public {
        uint256 mark = bridge.DEPOSIT_CHAIN_MARK();
        assertEq(mark, 128);
        for (uint256 i; i < 2 * mark + 5; ++i) {
            if (i % 50 == 0) vm.roll(block.number + 1);
            if (i % 3 == 0) _forceWithdraw(1);
            else _depositEth(1);
            uint256 nonce = refCount - 1;
            bytes32 expected = nonce % mark == mark - 1 ? refChain : bytes32(0);
            assertEq(bridge.depositChainMark(nonce), expected, "mark");
        }
        _checkAgainstReference();
        assertEq(bridge.depositChainMark(2 * mark + 10), bytes32(0), "no mark ahead of the chain");
    }

    /// @dev Gas of messages with the chain. Run with `--isolate` for per-transaction numbers
    ///      (cold slots, fresh-slot costs); without it the test's single transaction warms them.
    function test_gas_depositChain() public {
        vm.prank(alice, alice);
        bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
        for (uint256 round; round < 2; ++round) {
            vm.roll(block.number + 1);
            vm.prank(alice, alice);
            bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
            console.log("ETH deposit, first in its L1 block", vm.lastCallGas().gasTotalUsed);
            vm.prank(alice, alice);
            bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
            console.log("ETH deposit, later in its L1 block", vm.lastCallGas().gasTotalUsed);
            vm.roll(block.number + 1);
            vm.prank(alice, alice);
            bridge.deposit(address(token), l2Token, 1, ERC20_GAS);
            console.log("ERC-20 deposit, first in its L1 block", vm.lastCallGas().gasTotalUsed);
            vm.roll(block.number + 1);
            vm.prank(alice, alice);
            bridge.withdraw(address(0), address(0), 1);
            console.log("forced withdrawal, first in its L1 block", vm.lastCallGas().gasTotalUsed);
        }
        vm.prank(alice, alice);
        bridge.depositCountAt(block.number - 1);
        console.log("depositCountAt, recent block", vm.lastCallGas().gasTotalUsed);
    }
}
