// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, console} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {GasBurningMint, MockSafe, RevertingMint} from "test/utils/Mocks.sol";
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
    event DepositFailed(
        address indexed l1Token, address indexed from, address indexed refundTo, uint256 amount, bytes32 withdrawalHash
    );
    event Initialized(address indexed l1Token);
    event Transfer(address indexed from, address indexed to, uint256 amount);
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
    address internal l1Bridge;
    address internal l1Token;
    address internal alice;
    address internal bob;
    address internal refundTo;

    function setUp() public {
        l1Bridge = makeAddr("l1Bridge");
        // As in the L2 genesis: the runtime code at the predeploy address, `l1Bridge` in slot 2.
        bridge = BridgeFixtures.etchL2Bridge(l1Bridge);
        l1Token = makeAddr("l1Token");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        refundTo = makeAddr("refundTo");
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Intrinsic gas of a transaction with `data` as calldata (no access list, no create).
    function _intrinsicGas(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    function _metadata(string memory name, string memory symbol, uint8 decimals) internal pure returns (bytes memory) {
        return abi.encode(name, symbol, decimals);
    }

    function _defaultMetadata() internal pure returns (bytes memory) {
        return _metadata("Token", "TKN", 6);
    }

    /// @dev A string of `length` non-zero bytes.
    function _longString(uint256 length) internal pure returns (string memory s) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = bytes1(uint8(0x41 + (i % 26)));
        }
        s = string(b);
    }

    /// @dev The worst-case `finalizeDeposit` calldata for the first deposit of `l1Token`:
    ///      all-nonzero words and the longest metadata L1 passes.
    function _worstCaseDeposit() internal view returns (bytes memory) {
        return abi.encodeCall(
            L2Bridge.finalizeDeposit,
            (
                l1Token,
                bridge.l2TokenOf(l1Token),
                address(type(uint160).max),
                address(type(uint160).max - 1),
                type(uint256).max,
                address(type(uint160).max - 2),
                _metadata(_longString(64), _longString(64), type(uint8).max)
            )
        );
    }

    function _deposit(address token, address from, address to, uint256 amount, bytes memory metadata) internal {
        address l2Token = bridge.l2TokenOf(token);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(token, l2Token, from, to, amount, refundTo, metadata);
    }

    /// @dev Credits `amount` of `l1Token`'s L2 token to `to` through a deposit.
    function _credit(address to, uint256 amount) internal returns (address l2Token) {
        l2Token = bridge.l2TokenOf(l1Token);
        _deposit(l1Token, to, to, amount, _defaultMetadata());
    }

    function _hash(uint256 nonce, address from, address to, address token1, address token2, uint256 amount)
        internal
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(block.chainid, l1Bridge, Predeploys.L2_BRIDGE, nonce, from, to, token1, token2, amount)
        );
    }

    /// @dev Runs `data` as the depositor with `gas` and reports whether the token got deployed,
    ///      leaving no trace (state reverted, accounts cooled for the next probe).
    function _credits(bytes memory data, uint256 gas, address l2Token) internal returns (bool credited) {
        uint256 snapshot = vm.snapshotState();
        vm.cool(address(bridge));
        vm.cool(l2Token);
        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(bridge).call{gas: gas}(data);
        credited = ok && l2Token.code.length != 0;
        vm.revertToState(snapshot);
    }

    // ------------------------------------------------------------------ finalizeDeposit

    function test_finalizeDeposit_firstDeposit_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        assertEq(l2Token.code.length, 0);

        vm.expectEmit(address(l2Token));
        emit Initialized(l1Token);
        vm.expectEmit(address(bridge));
        emit BridgedTokenDeployed(l1Token, l2Token);
        vm.expectEmit(address(l2Token));
        emit Transfer(address(0), bob, 100 ether);
        vm.expectEmit(address(bridge));
        emit DepositFinalized(l1Token, l2Token, alice, bob, 100 ether);
        _deposit(l1Token, alice, bob, 100 ether, _metadata("USD Coin", "USDC", 6));

        BridgedERC20 token = BridgedERC20(l2Token);
        assertEq(token.l1Token(), l1Token);
        assertEq(token.bridge(), address(bridge));
        assertEq(token.balanceOf(bob), 100 ether);
        assertEq(token.totalSupply(), 100 ether);
        assertEq(token.name(), "USD Coin");
        assertEq(token.symbol(), "USDC");
        assertEq(token.decimals(), 6);
        assertEq(bridge.withdrawalNonce(), 0);
    }

    /// @dev Later deposits ignore the metadata, even malformed.
    function test_finalizeDeposit_secondDeposit_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        _deposit(l1Token, alice, bob, 1 ether, _defaultMetadata());
        bytes32 codeHash = l2Token.codehash;

        vm.recordLogs();
        _deposit(l1Token, bob, alice, 2 ether, hex"deadbeef");
        // Only Transfer and DepositFinalized: no second deployment, no refund.
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(l2Token.codehash, codeHash);
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 2 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), 3 ether);
        assertEq(BridgedERC20(l2Token).name(), "Token");
        assertEq(bridge.withdrawalNonce(), 0);
    }

    function testFuzz_finalizeDeposit_notDepositor_reverts(address caller) public {
        vm.assume(caller != Predeploys.DEPOSITOR);
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.expectRevert(L2Bridge.L2Bridge_NotDepositor.selector);
        vm.prank(caller);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 1, refundTo, _defaultMetadata());
    }

    function testFuzz_finalizeDeposit_tokenMismatch_reverts(address l2Token) public {
        vm.assume(l2Token != bridge.l2TokenOf(l1Token));
        vm.expectRevert(L2Bridge.L2Bridge_TokenMismatch.selector);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(l1Token, l2Token, alice, bob, 1, refundTo, _defaultMetadata());
    }

    function test_finalizeDeposit_zeroL1Token_reverts() public {
        address l2Token = bridge.l2TokenOf(address(0));
        vm.expectRevert(L2Bridge.L2Bridge_ZeroL1Token.selector);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(address(0), l2Token, alice, bob, 1, refundTo, _defaultMetadata());
    }

    function testFuzz_finalizeDeposit_anyTokenAndMetadata_succeeds(
        address token,
        address from,
        address to,
        uint256 amount,
        address refund,
        string memory name,
        string memory symbol,
        uint8 decimals
    ) public {
        vm.assume(token != address(0) && to != address(0));
        vm.assume(bytes(name).length <= 64 && bytes(symbol).length <= 64);
        address l2Token = bridge.l2TokenOf(token);
        vm.expectEmit(address(bridge));
        emit DepositFinalized(token, l2Token, from, to, amount);
        vm.prank(Predeploys.DEPOSITOR);
        bridge.finalizeDeposit(token, l2Token, from, to, amount, refund, _metadata(name, symbol, decimals));
        BridgedERC20 l2 = BridgedERC20(l2Token);
        assertEq(l2.balanceOf(to), amount);
        assertEq(l2.l1Token(), token);
        assertEq(l2.name(), name);
        assertEq(l2.symbol(), symbol);
        assertEq(l2.decimals(), decimals);
    }

    /// @dev The L1 bridge's prediction is the L2 bridge's CREATE2 address, deployed or not.
    function testFuzz_l2TokenOf_matchesL1Prediction_succeeds(address token) public {
        vm.assume(token != address(0));
        L1Bridge l1 = new L1Bridge(address(1), block.chainid, 0);
        assertEq(bridge.l2TokenOf(token), l1.predictL2Token(token));
    }

    function testFuzz_creditDeposit_notSelf_reverts(address caller, address to, uint256 amount) public {
        vm.assume(caller != address(bridge));
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.expectRevert(L2Bridge.L2Bridge_NotSelf.selector);
        vm.prank(caller);
        bridge.creditDeposit(l1Token, l2Token, to, amount, _defaultMetadata());
        assertEq(l2Token.code.length, 0);
    }

    // ------------------------------------------------------------------ failed deposits

    /// @dev Asserts the deposit of `amount` became refund withdrawal `nonce` to `refundTo`.
    function _assertRefunded(uint256 nonce, uint256 amount) internal view returns (bytes32 hash) {
        address l2Token = bridge.l2TokenOf(l1Token);
        hash = _hash(nonce, Predeploys.L2_BRIDGE, refundTo, l1Token, l2Token, amount);
        assertTrue(bridge.sentWithdrawals(hash), "refund withdrawal not recorded");
        assertEq(bridge.withdrawalNonce(), nonce + 1);
        assertEq(
            bridge.hashWithdrawal(
                Withdrawals.Withdrawal(nonce, Predeploys.L2_BRIDGE, refundTo, l1Token, l2Token, amount)
            ),
            hash
        );
    }

    /// @dev Expects the refund events of a failed deposit (`WithdrawalInitiated`, `DepositFailed`).
    function _expectRefund(uint256 nonce, address from, uint256 amount) internal {
        address l2Token = bridge.l2TokenOf(l1Token);
        bytes32 hash = _hash(nonce, Predeploys.L2_BRIDGE, refundTo, l1Token, l2Token, amount);
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(nonce, Predeploys.L2_BRIDGE, refundTo, l1Token, l2Token, amount, hash);
        vm.expectEmit(address(bridge));
        emit DepositFailed(l1Token, from, refundTo, amount, hash);
    }

    /// @dev Too little gas to deploy the token: the deposit becomes a refund, and the token can
    ///      still be deployed by a later deposit.
    function test_finalizeDeposit_tooLittleGasFirstDeposit_refunds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        bytes memory data = abi.encodeCall(
            L2Bridge.finalizeDeposit, (l1Token, l2Token, alice, alice, 5 ether, refundTo, _defaultMetadata())
        );
        _expectRefund(0, alice, 5 ether);
        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(bridge).call{gas: 400_000}(data);
        assertTrue(ok, "finalizeDeposit reverted");
        _assertRefunded(0, 5 ether);
        assertEq(l2Token.code.length, 0, "token deployed by a failed deposit");

        _deposit(l1Token, bob, bob, 1 ether, _defaultMetadata());
        assertEq(BridgedERC20(l2Token).balanceOf(bob), 1 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), 1 ether);
    }

    /// @dev A mint that reverts (here with a 16 KiB payload the bridge never copies).
    function test_finalizeDeposit_revertingMint_refunds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.etch(l2Token, address(new RevertingMint()).code);
        _expectRefund(0, alice, 7 ether);
        _deposit(l1Token, alice, bob, 7 ether, _defaultMetadata());
        _assertRefunded(0, 7 ether);
    }

    /// @dev A real reverting mint: the token's supply would overflow.
    function test_finalizeDeposit_supplyOverflow_refunds() public {
        address l2Token = _credit(alice, type(uint256).max);
        _expectRefund(0, bob, 1);
        _deposit(l1Token, bob, bob, 1, _defaultMetadata());
        _assertRefunded(0, 1);
        assertEq(BridgedERC20(l2Token).totalSupply(), type(uint256).max);
    }

    function testFuzz_finalizeDeposit_metadataTooLong_refunds(uint256 nameLength, uint256 symbolLength) public {
        nameLength = bound(nameLength, 0, 200);
        symbolLength = bound(symbolLength, 0, 200);
        vm.assume(nameLength > 64 || symbolLength > 64);
        _expectRefund(0, alice, 1 ether);
        _deposit(l1Token, alice, alice, 1 ether, _metadata(_longString(nameLength), _longString(symbolLength), 18));
        _assertRefunded(0, 1 ether);
        assertEq(bridge.l2TokenOf(l1Token).code.length, 0);
    }

    /// @dev Metadata that is not `abi.encode(string, string, uint8)`.
    function test_finalizeDeposit_malformedMetadata_refunds() public {
        bytes[] memory bad = new bytes[](7);
        bad[0] = "";
        bad[1] = hex"0102";
        bad[2] = abi.encode(uint256(0x60), uint256(0x80), uint256(256)); // decimals out of range
        bad[3] = abi.encode(uint256(0x1000), uint256(0x60), uint256(18)); // name offset out of bounds
        bad[4] = abi.encode(uint256(0x60), uint256(0x60), uint256(18), uint256(40)); // length past the end
        bad[5] = abi.encode(type(uint256).max, uint256(0x60), uint256(18), uint256(0)); // offset overflow
        bad[6] = abi.encode(uint256(0x60), type(uint256).max - 31, uint256(18), uint256(0));
        for (uint256 i; i < bad.length; ++i) {
            _expectRefund(i, alice, i + 1);
            _deposit(l1Token, alice, alice, i + 1, bad[i]);
            _assertRefunded(i, i + 1);
        }
        assertEq(bridge.l2TokenOf(l1Token).code.length, 0);
    }

    function testFuzz_finalizeDeposit_shortMetadata_refunds(bytes memory metadata, uint256 amount) public {
        vm.assume(metadata.length < 96);
        amount = bound(amount, 1, type(uint256).max);
        _expectRefund(0, alice, amount);
        _deposit(l1Token, alice, bob, amount, metadata);
        _assertRefunded(0, amount);
    }

    /// @dev With a credit that burns all the gas it gets, any gas an L1-accepted deposit can
    ///      carry still records the refund.
    function testFuzz_finalizeDeposit_failureNeverReverts_succeeds(uint256 gasLimit, bool deployed) public {
        bytes memory data = _worstCaseDeposit();
        gasLimit = bound(gasLimit, DepositLimits.MIN_ERC20_DEPOSIT_GAS, DepositLimits.MAX_DEPOSIT_GAS);
        address l2Token = bridge.l2TokenOf(l1Token);
        if (deployed) vm.etch(l2Token, address(new GasBurningMint()).code);
        else vm.etch(address(bridge), address(new L2Bridge()).code); // fresh, nothing deployed
        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(bridge).call{gas: gasLimit - _intrinsicGas(data)}(data);
        assertTrue(ok, "finalizeDeposit reverted");
        if (deployed) {
            assertEq(bridge.withdrawalNonce(), 1, "no refund recorded");
        }
    }

    /// @dev Measures what `finalizeDeposit` spends after a failed credit (recording the refund
    ///      withdrawal, worst case: first withdrawal ever, cold slots) and checks
    ///      DEPOSIT_FAILURE_GAS_RESERVE covers it with >= 50% headroom. The credit burns all the
    ///      gas it gets, so the frame ends with `reserve - spent after the call`.
    function test_finalizeDeposit_failureReserve_succeeds() public {
        address l2Token = bridge.l2TokenOf(l1Token);
        vm.etch(l2Token, address(new GasBurningMint()).code);
        bytes memory data = _worstCaseDeposit();
        uint256 gasGiven = DepositLimits.MIN_ERC20_DEPOSIT_GAS - _intrinsicGas(data);
        uint256 reserve = bridge.DEPOSIT_FAILURE_GAS_RESERVE();
        assertEq(reserve, DepositLimits.DEPOSIT_FAILURE_GAS_RESERVE);

        vm.cool(address(bridge));
        vm.cool(l2Token);
        vm.prank(Predeploys.DEPOSITOR);
        uint256 before = gasleft();
        (bool ok,) = address(bridge).call{gas: gasGiven}(data);
        uint256 used = before - gasleft();
        assertTrue(ok, "refund bookkeeping ran out of gas");
        assertEq(bridge.withdrawalNonce(), 1, "no refund recorded");
        // Unused gas came back: `gasGiven - used` of the reserve was left after the bookkeeping.
        uint256 spentAfterCredit = reserve - (gasGiven - used);
        console.log("gas spent after a failed credit (refund bookkeeping, upper bound)", spentAfterCredit);
        assertGe(reserve, spentAfterCredit * 150 / 100, "DEPOSIT_FAILURE_GAS_RESERVE headroom < 50%");
    }

    /// @dev Finds the smallest gas limit of the first (deploying) deposit, with the worst-case
    ///      calldata and metadata, that still credits rather than refunds, and checks
    ///      MIN_ERC20_DEPOSIT_GAS covers it with >= 30% headroom.
    function test_finalizeDeposit_firstDepositGas_succeeds() public {
        bytes memory data = _worstCaseDeposit();
        address l2Token = bridge.l2TokenOf(l1Token);
        uint256 intrinsic = _intrinsicGas(data);
        uint256 low = 0;
        uint256 high = DepositLimits.MAX_DEPOSIT_GAS;
        assertTrue(_credits(data, high, l2Token), "no credit with MAX_DEPOSIT_GAS");
        while (low + 1 < high) {
            uint256 mid = (low + high) / 2;
            if (_credits(data, mid, l2Token)) high = mid;
            else low = mid;
        }
        uint256 total = intrinsic + high;
        console.log("first ERC-20 deposit: calldata bytes", data.length);
        console.log("first ERC-20 deposit: smallest crediting tx gas (intrinsic + execution)", total);
        assertGe(DepositLimits.MIN_ERC20_DEPOSIT_GAS, total * 130 / 100, "MIN_ERC20_DEPOSIT_GAS headroom < 30%");
    }

    /// @dev A deposit transaction with exactly MIN_ERC20_DEPOSIT_GAS deploys the token, stores
    ///      the longest metadata and mints.
    function test_finalizeDeposit_minGasFirstDeposit_succeeds() public {
        bytes memory data = _worstCaseDeposit();
        address l2Token = bridge.l2TokenOf(l1Token);
        uint256 executionGas = DepositLimits.MIN_ERC20_DEPOSIT_GAS - _intrinsicGas(data);
        vm.prank(Predeploys.DEPOSITOR);
        (bool ok,) = address(bridge).call{gas: executionGas}(data);
        assertTrue(ok, "deposit with MIN_ERC20_DEPOSIT_GAS reverted");
        assertEq(bridge.withdrawalNonce(), 0, "refunded instead of credited");
        assertEq(BridgedERC20(l2Token).balanceOf(address(type(uint160).max - 1)), type(uint256).max);
        assertEq(BridgedERC20(l2Token).name(), _longString(64));
        assertEq(BridgedERC20(l2Token).decimals(), 255);
    }

    // ------------------------------------------------------------------ withdrawals

    function test_withdraw_eth_succeeds() public {
        vm.deal(alice, 5 ether);
        bytes32 expected = _hash(0, alice, alice, address(0), address(0), 2 ether);
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
        bytes32 expected = _hash(0, alice, alice, l1Token, l2Token, 4 ether);
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(0, alice, alice, l1Token, l2Token, 4 ether, expected);
        vm.prank(alice);
        bytes32 hash = bridge.withdraw(l1Token, l2Token, 4 ether);
        assertEq(hash, expected);
        assertTrue(bridge.sentWithdrawals(hash));
        assertEq(BridgedERC20(l2Token).balanceOf(alice), 6 ether);
        assertEq(BridgedERC20(l2Token).totalSupply(), 6 ether);
    }

    function testFuzz_withdrawTo_succeeds(address sender, address to, uint256 amount, bool erc20) public {
        vm.assume(sender != address(0) && sender != address(bridge) && to != address(0) && to != l1Bridge);
        amount = bound(amount, 1, 1e30);
        address l2Token;
        if (erc20) l2Token = _credit(sender, amount);
        else vm.deal(sender, amount);
        address token1 = erc20 ? l1Token : address(0);
        bytes32 expected = _hash(0, sender, to, token1, l2Token, amount);
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(0, sender, to, token1, l2Token, amount, expected);
        vm.prank(sender);
        bytes32 hash = bridge.withdrawTo{value: erc20 ? 0 : amount}(token1, l2Token, amount, to);
        assertEq(hash, expected);
        assertTrue(bridge.sentWithdrawals(hash));
        if (erc20) assertEq(BridgedERC20(l2Token).balanceOf(sender), 0);
    }

    function testFuzz_withdrawTo_zeroRecipient_reverts(uint256 amount) public {
        amount = bound(amount, 1, 1e30);
        vm.deal(alice, amount);
        vm.expectRevert(L2Bridge.L2Bridge_ZeroRecipient.selector);
        vm.prank(alice);
        bridge.withdrawTo{value: amount}(address(0), address(0), amount, address(0));
    }

    /// @dev A withdrawal to the L1 bridge could never be paid (ETH) or would strand its tokens
    ///      there: refused, ETH and tokens alike.
    function testFuzz_withdrawTo_l1Bridge_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, 1, 1e30);
        if (erc20) {
            address l2Token = _credit(alice, amount);
            vm.expectRevert(L2Bridge.L2Bridge_RecipientIsL1Bridge.selector);
            vm.prank(alice);
            bridge.withdrawTo(l1Token, l2Token, amount, l1Bridge);
            assertEq(BridgedERC20(l2Token).balanceOf(alice), amount);
        } else {
            vm.deal(alice, amount);
            vm.expectRevert(L2Bridge.L2Bridge_RecipientIsL1Bridge.selector);
            vm.prank(alice);
            bridge.withdrawTo{value: amount}(address(0), address(0), amount, l1Bridge);
            assertEq(alice.balance, amount);
        }
    }

    /// @dev A contract wallet on L2 (no key, so no `withdraw` to itself on L1 makes sense)
    ///      withdraws ETH and tokens to the L1 account it chooses.
    function test_withdrawTo_contractWallet_succeeds() public {
        address owner = makeAddr("owner");
        address l1Recipient = makeAddr("l1 multisig");
        address[] memory owners = new address[](1);
        owners[0] = owner;
        MockSafe safe = new MockSafe(owners, 1);
        address l2Token = _credit(address(safe), 10 ether);
        vm.deal(address(safe), 3 ether);

        bytes memory tokenCall = abi.encodeCall(L2Bridge.withdrawTo, (l1Token, l2Token, 10 ether, l1Recipient));
        bytes memory ethCall = abi.encodeCall(L2Bridge.withdrawTo, (address(0), address(0), 3 ether, l1Recipient));
        vm.startPrank(owner, owner);
        safe.approveHash(safe.transactionHash(address(bridge), 0, tokenCall, 0));
        safe.approveHash(safe.transactionHash(address(bridge), 3 ether, ethCall, 1));
        vm.expectEmit(address(bridge));
        emit WithdrawalInitiated(
            0,
            address(safe),
            l1Recipient,
            l1Token,
            l2Token,
            10 ether,
            _hash(0, address(safe), l1Recipient, l1Token, l2Token, 10 ether)
        );
        bytes32 tokenHash = abi.decode(safe.execTransaction(address(bridge), 0, tokenCall), (bytes32));
        bytes32 ethHash = abi.decode(safe.execTransaction(address(bridge), 3 ether, ethCall), (bytes32));
        vm.stopPrank();

        assertEq(tokenHash, _hash(0, address(safe), l1Recipient, l1Token, l2Token, 10 ether));
        assertEq(ethHash, _hash(1, address(safe), l1Recipient, address(0), address(0), 3 ether));
        assertTrue(bridge.sentWithdrawals(tokenHash) && bridge.sentWithdrawals(ethHash));
        assertEq(BridgedERC20(l2Token).balanceOf(address(safe)), 0);
        assertEq(address(safe).balance, 0);
    }

    /// @dev Without `l1Bridge` in its genesis storage a withdrawal could never be paid: refused.
    function test_withdraw_l1BridgeNotSet_reverts() public {
        vm.store(address(bridge), bytes32(uint256(2)), bytes32(0));
        vm.deal(alice, 1);
        vm.expectRevert(L2Bridge.L2Bridge_L1BridgeNotSet.selector);
        vm.prank(alice);
        bridge.withdraw{value: 1}(address(0), address(0), 1);
    }

    /// @dev The storage layout L1 proves against and the genesis writes: `sentWithdrawals` at
    ///      slot 0, the nonce at slot 1, `l1Bridge` at slot 2.
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
        assertEq(
            vm.load(address(bridge), bytes32(uint256(2))), bytes32(uint256(uint160(l1Bridge))), "l1Bridge not at slot 2"
        );
        assertEq(bridge.l1Bridge(), l1Bridge);
    }

    function testFuzz_withdraw_uniqueHashes_succeeds(uint256 amount) public {
        amount = bound(amount, 1, 1e30);
        vm.deal(alice, 2 * amount);
        vm.startPrank(alice);
        bytes32 first = bridge.withdraw{value: amount}(address(0), address(0), amount);
        bytes32 second = bridge.withdraw{value: amount}(address(0), address(0), amount);
        vm.stopPrank();
        assertTrue(first != second, "identical withdrawals share a hash");
        assertEq(second, _hash(1, alice, alice, address(0), address(0), amount));
    }

    /// @dev The hash binds the chain id, the L1 bridge and the L2 bridge.
    function testFuzz_hashWithdrawal_matchesLibrary_succeeds(
        uint256 nonce,
        address from,
        address to,
        address token1,
        address token2,
        uint256 amount,
        uint64 chainId,
        address otherL1Bridge
    ) public {
        vm.assume(chainId != 0 && otherL1Bridge != l1Bridge);
        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(nonce, from, to, token1, token2, amount);
        bytes32 here = bridge.hashWithdrawal(w);
        assertEq(
            here,
            keccak256(
                abi.encode(block.chainid, l1Bridge, Predeploys.L2_BRIDGE, nonce, from, to, token1, token2, amount)
            )
        );
        assertEq(here, Withdrawals.hash(w, block.chainid, l1Bridge));

        vm.store(address(bridge), bytes32(uint256(2)), bytes32(uint256(uint160(otherL1Bridge))));
        assertTrue(bridge.hashWithdrawal(w) != here, "hash ignores the L1 bridge");
        vm.store(address(bridge), bytes32(uint256(2)), bytes32(uint256(uint160(l1Bridge))));
        if (chainId != block.chainid) {
            vm.chainId(chainId);
            assertTrue(bridge.hashWithdrawal(w) != here, "hash ignores the chain id");
        }
    }

    function test_withdraw_zeroAmount_reverts() public {
        address l2Token = _credit(alice, 1);
        vm.startPrank(alice);
        vm.expectRevert(L2Bridge.L2Bridge_ZeroAmount.selector);
        bridge.withdraw(address(0), address(0), 0);
        vm.expectRevert(L2Bridge.L2Bridge_ZeroAmount.selector);
        bridge.withdrawTo(l1Token, l2Token, 0, bob);
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
        _deposit(l1Token, bob, bob, 1, _defaultMetadata());
        if (balance != 0) _credit(alice, balance);
        vm.expectRevert(ERC20.InsufficientBalance.selector);
        vm.prank(alice);
        bridge.withdraw(l1Token, l2Token, amount);
        assertEq(bridge.withdrawalNonce(), 0);
    }

    function testFuzz_withdraw_erc20_succeeds(uint256 credited, uint256 amount, address holder) public {
        // `withdraw` pays the holder itself on L1: never the L1 bridge (refused, tested above).
        vm.assume(holder != address(0) && holder != address(bridge) && holder != l1Bridge);
        credited = bound(credited, 1, type(uint128).max);
        amount = bound(amount, 1, credited);
        address l2Token = _credit(holder, credited);
        vm.prank(holder);
        bytes32 hash = bridge.withdraw(l1Token, l2Token, amount);
        assertEq(hash, _hash(0, holder, holder, l1Token, l2Token, amount));
        assertTrue(bridge.sentWithdrawals(hash));
        assertEq(BridgedERC20(l2Token).balanceOf(holder), credited - amount);
    }

    /// @dev Measures the L2 transaction a forced withdrawal becomes (`withdrawTo` as the
    ///      withdrawing account, worst case: first withdrawal ever, cold token, all-nonzero
    ///      calldata, ETH and ERC-20) and checks FORCED_WITHDRAWAL_GAS covers it with >= 30%
    ///      headroom; then runs both with exactly that gas limit.
    function test_withdrawTo_forcedWithdrawalGas_succeeds() public {
        address holder = address(type(uint160).max - 7);
        address to = address(type(uint160).max - 9);
        address l2Token = _credit(holder, type(uint128).max);
        vm.deal(holder, type(uint128).max);
        uint256 amount = type(uint128).max;
        bytes memory tokenCall = abi.encodeCall(L2Bridge.withdrawTo, (l1Token, l2Token, amount, to));
        bytes memory ethCall = abi.encodeCall(L2Bridge.withdrawTo, (address(0), address(0), amount, to));

        uint256 snapshot = vm.snapshotState();
        vm.cool(address(bridge));
        vm.cool(l2Token);
        vm.prank(holder);
        uint256 before = gasleft();
        (bool ok,) = address(bridge).call(tokenCall);
        uint256 tokenGas = before - gasleft() + _intrinsicGas(tokenCall);
        assertTrue(ok, "ERC-20 withdrawTo failed");
        vm.revertToState(snapshot);

        vm.cool(address(bridge));
        vm.prank(holder);
        before = gasleft();
        (ok,) = address(bridge).call{value: amount}(ethCall);
        // The value transfer's 9,000 (charged to this caller) stays in: an upper bound.
        uint256 ethGas = before - gasleft() + _intrinsicGas(ethCall);
        assertTrue(ok, "ETH withdrawTo failed");
        vm.revertToState(snapshot);

        console.log("forced ERC-20 withdrawal tx gas (intrinsic + execution)", tokenGas);
        console.log("forced ETH withdrawal tx gas (intrinsic + execution, upper bound)", ethGas);
        uint256 worst = tokenGas > ethGas ? tokenGas : ethGas;
        assertGe(DepositLimits.FORCED_WITHDRAWAL_GAS, worst * 130 / 100, "FORCED_WITHDRAWAL_GAS headroom < 30%");

        vm.cool(address(bridge));
        vm.cool(l2Token);
        vm.prank(holder);
        (ok,) = address(bridge).call{gas: DepositLimits.FORCED_WITHDRAWAL_GAS - _intrinsicGas(tokenCall)}(tokenCall);
        assertTrue(ok, "ERC-20 forced withdrawal with FORCED_WITHDRAWAL_GAS failed");
        vm.prank(holder);
        (ok,) = address(bridge).call{value: amount, gas: DepositLimits.FORCED_WITHDRAWAL_GAS - _intrinsicGas(ethCall)}(
            ethCall
        );
        assertTrue(ok, "ETH forced withdrawal with FORCED_WITHDRAWAL_GAS failed");
        assertEq(bridge.withdrawalNonce(), 2);
    }
}
