// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm, console} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {Derivation} from "test/utils/Derivation.sol";
import {
    MockERC20,
    FeeOnTransferERC20,
    FalseReturningERC20,
    ReentrantERC20,
    MetadataERC20,
    MockSafe
} from "test/utils/Mocks.sol";
import {ProxyAdmin} from "@openzeppelin/contracts/proxy/transparent/ProxyAdmin.sol";
import {
    ITransparentUpgradeableProxy,
    TransparentUpgradeableProxy
} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {AddressAliasing} from "src/libraries/AddressAliasing.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";

/// @dev Deposits from its constructor: `msg.sender != tx.origin` although it has no code yet.
contract ConstructorDepositor {
    constructor(L1Bridge bridge) payable {
        bridge.deposit{value: msg.value}(address(0), address(0), msg.value, 21_000);
    }
}

/// @dev Any contract calling the bridge on behalf of whoever calls it.
contract Forwarder {
    function forward(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}

contract L1BridgeTest is Test {
    event DepositInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit,
        address refundTo,
        bytes tokenMetadata
    );
    event ForcedWithdrawalInitiated(
        uint256 indexed nonce,
        address indexed from,
        address indexed to,
        address l1Token,
        address l2Token,
        uint256 amount,
        uint32 gasLimit
    );

    uint256 internal constant L2_CHAIN_ID = 4242;
    uint32 internal constant ETH_GAS = 21_000;
    uint32 internal constant ERC20_GAS = uint32(DepositLimits.MIN_ERC20_DEPOSIT_GAS);
    uint32 internal constant FORCED_GAS = uint32(DepositLimits.FORCED_WITHDRAWAL_GAS);
    uint256 internal constant READ_GAS = 30_000;

    StateManager internal manager;
    L1Bridge internal bridge;
    address internal proxyAdmin;
    MockERC20 internal token;
    address internal l2Token;
    address internal alice;
    bytes internal mockMetadata;

    function setUp() public {
        manager = BridgeFixtures.deployStateManager(address(this), makeAddr("proposer"), 1 hours, 0);
        bridge = BridgeFixtures.deployL1Bridge(address(manager), L2_CHAIN_ID, makeAddr("proxyOwner"));
        proxyAdmin = Proxies.adminOf(address(bridge));
        token = new MockERC20();
        l2Token = bridge.predictL2Token(address(token));
        mockMetadata = abi.encode("Mock", "MOCK", uint8(18));
        alice = makeAddr("alice");
        vm.deal(alice, 1_000_000 ether);
        token.mint(alice, type(uint128).max);
        vm.prank(alice, alice);
        token.approve(address(bridge), type(uint256).max);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev A valid ETH deposit gas limit from a fuzz seed.
    function _ethGas(uint256 seed) internal pure returns (uint32) {
        return uint32(bound(seed, ETH_GAS, 5_000_000));
    }

    /// @dev Excludes callers the proxy or the test setup treat specially.
    function _assumeUser(address account) internal view {
        vm.assume(account != address(0) && account != proxyAdmin && account != address(bridge));
        vm.assume(account != address(this) && account != address(vm) && uint160(account) > 0xffff);
        vm.assume(account != 0x000000000000000000636F6e736F6c652e6c6f67);
    }

    /// @dev The last log `bridge` emitted among `logs`.
    function _lastBridgeLog(Vm.Log[] memory logs) internal view returns (Vm.Log memory log) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(bridge)) log = logs[i];
        }
    }

    /// @dev The metadata of the deposit `depositor` makes of 1 unit of `l1Token`.
    function _depositMetadata(address l1Token, address depositor) internal returns (bytes memory metadata) {
        address predicted = bridge.predictL2Token(l1Token);
        vm.recordLogs();
        vm.prank(depositor, depositor);
        bridge.deposit(l1Token, predicted, 1, ERC20_GAS);
        (,,,,, metadata) =
            abi.decode(_lastBridgeLog(vm.getRecordedLogs()).data, (address, address, uint256, uint32, address, bytes));
    }

    /// @dev A MetadataERC20 held and approved by alice.
    function _metadataToken(bytes memory name, bytes memory symbol, bytes memory decimals)
        internal
        returns (MetadataERC20 t)
    {
        t = new MetadataERC20(name, symbol, decimals);
        t.mint(alice, 1_000 ether);
        vm.prank(alice, alice);
        t.approve(address(bridge), type(uint256).max);
    }

    /// @dev A string of `length` bytes "AB...".
    function _string(uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = bytes1(uint8(0x41 + (i % 26)));
        }
        return string(b);
    }

    /// @dev The first `length` bytes of `s`.
    function _prefix(string memory s, uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i; i < length; ++i) {
            b[i] = bytes(s)[i];
        }
        return string(b);
    }

    // ------------------------------------------------------------------ construction and proxy

    function test_constructor_zeroStateManager_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroAddress.selector);
        new L1Bridge(address(0), L2_CHAIN_ID, 0);
    }

    function test_constructor_zeroChainId_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroChainId.selector);
        new L1Bridge(address(manager), 0, 0);
    }

    function testFuzz_constructor_genesisEthTooLarge_reverts(uint256 genesisEth) public {
        genesisEth = bound(genesisEth, uint256(type(uint128).max) + 1, type(uint256).max);
        vm.expectRevert(L1Bridge.L1Bridge_GenesisEthTooLarge.selector);
        new L1Bridge(address(manager), L2_CHAIN_ID, genesisEth);
    }

    /// @dev The proxy's constructor locks the genesis ETH, paid with it: the bridge holds it as
    ///      locked ETH, credits nothing on L2 (no message), and a second lock is refused.
    function testFuzz_lockGenesisEth_throughProxy_succeeds(uint256 genesisEth, address other) public {
        genesisEth = bound(genesisEth, 0, type(uint128).max);
        vm.deal(address(this), genesisEth);
        vm.expectEmit();
        emit L1Bridge.GenesisEthLocked(address(this), genesisEth);
        L1Bridge backed =
            BridgeFixtures.deployL1Bridge(address(manager), L2_CHAIN_ID, makeAddr("proxyOwner"), genesisEth);
        assertEq(backed.genesisEth(), genesisEth);
        assertTrue(backed.genesisEthLocked());
        assertEq(backed.deposits(address(0)), genesisEth);
        assertEq(address(backed).balance, genesisEth);
        assertEq(backed.depositNonce(), 0);
        (uint256 messages,) = backed.depositChain();
        assertEq(messages, 0);

        vm.deal(other, genesisEth);
        vm.expectRevert(L1Bridge.L1Bridge_GenesisEthAlreadyLocked.selector);
        vm.prank(other);
        backed.lockGenesisEth{value: genesisEth}();
    }

    /// @dev Only the exact amount locks, whoever pays it, and only once.
    function testFuzz_lockGenesisEth_exactOnce_succeeds(uint256 genesisEth, uint256 sent, address payer) public {
        genesisEth = bound(genesisEth, 1, type(uint128).max);
        sent = bound(sent, 0, uint256(type(uint128).max) + 1);
        vm.assume(sent != genesisEth && payer != makeAddr("proxyOwner"));
        L1Bridge implementation = new L1Bridge(address(manager), L2_CHAIN_ID, genesisEth);
        L1Bridge unlocked = L1Bridge(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), makeAddr("proxyOwner"), abi.encodeCall(implementation.l2ChainId, ())
                )
            )
        );
        assertFalse(unlocked.genesisEthLocked());
        vm.deal(payer, sent + genesisEth);
        vm.expectRevert(L1Bridge.L1Bridge_WrongGenesisEth.selector);
        vm.prank(payer);
        unlocked.lockGenesisEth{value: sent}();

        vm.prank(payer);
        unlocked.lockGenesisEth{value: genesisEth}();
        assertTrue(unlocked.genesisEthLocked());
        assertEq(unlocked.deposits(address(0)), genesisEth);

        vm.deal(payer, genesisEth);
        vm.expectRevert(L1Bridge.L1Bridge_GenesisEthAlreadyLocked.selector);
        vm.prank(payer);
        unlocked.lockGenesisEth{value: genesisEth}();
        assertEq(address(unlocked).balance, genesisEth);
    }

    function test_constants_succeeds() public view {
        assertEq(bridge.MIN_ETH_DEPOSIT_GAS(), 21_000);
        assertEq(bridge.MIN_ERC20_DEPOSIT_GAS(), DepositLimits.MIN_ERC20_DEPOSIT_GAS);
        assertEq(bridge.MAX_DEPOSIT_GAS(), 5_000_000);
        assertEq(bridge.DEPOSIT_GAS_PER_L1_BLOCK(), 30_000_000);
        assertEq(bridge.FORCED_WITHDRAWAL_GAS(), DepositLimits.FORCED_WITHDRAWAL_GAS);
        assertEq(bridge.MAX_TOKEN_STRING_BYTES(), 64);
        assertEq(bridge.TOKEN_METADATA_READ_GAS(), READ_GAS);
        assertEq(bridge.bridgedTokenInitCodeHash(), keccak256(type(BridgedERC20).creationCode));
        assertEq(
            IL1Bridge.DepositInitiated.selector,
            keccak256("DepositInitiated(uint256,address,address,address,address,uint256,uint32,address,bytes)")
        );
        assertEq(
            IL1Bridge.ForcedWithdrawalInitiated.selector,
            keccak256("ForcedWithdrawalInitiated(uint256,address,address,address,address,uint256,uint32)")
        );
    }

    /// @dev Behind a TransparentUpgradeableProxy with no initializer: the immutables are read
    ///      through the proxy, storage starts at zero, and an upgrade keeps the locked funds and
    ///      the nonce.
    function test_proxy_noInitializerAndUpgrade_succeeds() public {
        address implementation = Proxies.implementationOf(address(bridge));
        assertTrue(implementation != address(0) && implementation != address(bridge));
        assertEq(address(bridge.stateManager()), address(manager));
        assertEq(bridge.l2ChainId(), L2_CHAIN_ID);
        assertEq(bridge.depositNonce(), 0);
        assertEq(bridge.blockDepositGasUsed(), 0);

        vm.prank(alice, alice);
        bridge.deposit{value: 3 ether}(address(0), address(0), 3 ether, ETH_GAS);
        assertEq(address(bridge).balance, 3 ether);
        assertEq(implementation.balance, 0);

        L1Bridge next = new L1Bridge(address(manager), L2_CHAIN_ID, 0);
        vm.prank(makeAddr("proxyOwner"));
        ProxyAdmin(proxyAdmin).upgradeAndCall(ITransparentUpgradeableProxy(address(bridge)), address(next), "");
        assertEq(Proxies.implementationOf(address(bridge)), address(next));
        assertEq(bridge.deposits(address(0)), 3 ether);
        assertEq(bridge.depositNonce(), 1);
        assertEq(address(bridge).balance, 3 ether);
    }

    /// @dev Only the ProxyAdmin's owner upgrades; the ProxyAdmin itself cannot use the bridge.
    function testFuzz_proxy_upgradeNotOwner_reverts(address caller) public {
        vm.assume(caller != makeAddr("proxyOwner"));
        L1Bridge next = new L1Bridge(address(manager), L2_CHAIN_ID, 0);
        vm.expectRevert();
        vm.prank(caller);
        ProxyAdmin(proxyAdmin).upgradeAndCall(ITransparentUpgradeableProxy(address(bridge)), address(next), "");

        vm.deal(proxyAdmin, 1);
        vm.expectRevert(TransparentUpgradeableProxy.ProxyDeniedAdminAccess.selector);
        vm.prank(proxyAdmin);
        bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
    }

    // ------------------------------------------------------------------ aliasing

    function testFuzz_aliasing_roundTrip_succeeds(address account) public pure {
        address aliased = AddressAliasing.applyL1ToL2Alias(account);
        assertEq(
            uint256(uint160(aliased)),
            (uint256(uint160(account)) + 0x001111000000000000000000000000000000001111) % (1 << 160)
        );
        assertEq(AddressAliasing.undoL1ToL2Alias(aliased), account);
        assertEq(AddressAliasing.applyL1ToL2Alias(AddressAliasing.undoL1ToL2Alias(account)), account);
    }

    function test_aliasing_wraps_succeeds() public pure {
        assertEq(
            AddressAliasing.applyL1ToL2Alias(address(type(uint160).max)),
            address(uint160(0x1111000000000000000000000000000000001110))
        );
        assertEq(
            AddressAliasing.applyL1ToL2Alias(0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF),
            0x1111000000000000000000000000000000001110
        );
        assertEq(AddressAliasing.undoL1ToL2Alias(address(0)), 0xEeeeffFfFffFFFfFFFFFFFffffffFffFFfFfEEeF);
    }

    /// @dev A contract caller (`msg.sender != tx.origin`) deposits as its alias; `refundTo` is
    ///      its own L1 address.
    function testFuzz_deposit_contractCallerAliased_succeeds(address caller, address origin, uint256 amount) public {
        _assumeUser(caller);
        vm.assume(origin != caller);
        amount = bound(amount, 1, 1e30);
        vm.deal(caller, amount);
        address aliased = AddressAliasing.applyL1ToL2Alias(caller);
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, aliased, aliased, address(0), address(0), amount, ETH_GAS, caller, "");
        vm.prank(caller, origin);
        bridge.deposit{value: amount}(address(0), address(0), amount, ETH_GAS);
    }

    function test_deposit_fromConstructorAliased_succeeds() public {
        vm.deal(alice, 1 ether);
        vm.recordLogs();
        vm.prank(alice, alice);
        ConstructorDepositor depositor = new ConstructorDepositor{value: 1 ether}(bridge);
        Vm.Log memory log = _lastBridgeLog(vm.getRecordedLogs());
        address aliased = AddressAliasing.applyL1ToL2Alias(address(depositor));
        assertEq(log.topics[2], bytes32(uint256(uint160(aliased))));
        assertEq(log.topics[3], bytes32(uint256(uint160(aliased))));
    }

    /// @dev A Safe-like multisig on L1 deposits ETH and tokens to the L2 recipient it chose:
    ///      the event shows its alias as `from`, the chosen `to`, and the Safe as `refundTo`;
    ///      derivation credits the recipient on L2.
    function test_depositTo_safeToL2Recipient_succeeds() public {
        address[] memory owners = new address[](3);
        owners[0] = makeAddr("owner0");
        owners[1] = makeAddr("owner1");
        owners[2] = makeAddr("owner2");
        MockSafe safe = new MockSafe(owners, 2);
        address l2Recipient = makeAddr("l2 safe");
        vm.deal(address(safe), 5 ether);
        token.mint(address(safe), 100 ether);
        address aliased = AddressAliasing.applyL1ToL2Alias(address(safe));

        bytes memory approveCall = abi.encodeCall(token.approve, (address(bridge), 100 ether));
        bytes memory tokenCall =
            abi.encodeCall(L1Bridge.depositTo, (address(token), l2Token, 100 ether, ERC20_GAS, l2Recipient));
        bytes memory ethCall =
            abi.encodeCall(L1Bridge.depositTo, (address(0), address(0), 5 ether, ETH_GAS, l2Recipient));
        for (uint256 i; i < 2; ++i) {
            vm.startPrank(owners[i], owners[i]);
            safe.approveHash(safe.transactionHash(address(token), 0, approveCall, 0));
            safe.approveHash(safe.transactionHash(address(bridge), 0, tokenCall, 1));
            safe.approveHash(safe.transactionHash(address(bridge), 5 ether, ethCall, 2));
            vm.stopPrank();
        }

        BridgeFixtures.etchL2Bridge(address(bridge));
        vm.recordLogs();
        vm.startPrank(owners[2], owners[2]);
        safe.execTransaction(address(token), 0, approveCall);
        vm.expectEmit(address(bridge));
        emit DepositInitiated(
            0, aliased, l2Recipient, address(token), l2Token, 100 ether, ERC20_GAS, address(safe), mockMetadata
        );
        safe.execTransaction(address(bridge), 0, tokenCall);
        vm.expectEmit(address(bridge));
        emit DepositInitiated(1, aliased, l2Recipient, address(0), address(0), 5 ether, ETH_GAS, address(safe), "");
        safe.execTransaction(address(bridge), 5 ether, ethCall);
        vm.stopPrank();
        assertEq(address(bridge).balance, 5 ether);
        assertEq(token.balanceOf(address(bridge)), 100 ether);

        bool[] memory ok = Derivation.applyAll(vm.getRecordedLogs(), address(bridge));
        assertEq(ok.length, 2);
        assertTrue(ok[0] && ok[1], "an L2 deposit transaction failed");
        assertEq(BridgedERC20(l2Token).balanceOf(l2Recipient), 100 ether);
        assertEq(BridgedERC20(l2Token).name(), "Mock");
        assertEq(l2Recipient.balance, 5 ether);
        assertEq(BridgedERC20(l2Token).balanceOf(address(safe)), 0);
        assertEq(BridgedERC20(l2Token).balanceOf(aliased), 0);
    }

    // ------------------------------------------------------------------ ETH deposits

    function test_deposit_eth_succeeds() public {
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, alice, address(0), address(0), 1 ether, ETH_GAS, alice, "");
        vm.prank(alice, alice);
        bridge.deposit{value: 1 ether}(address(0), address(0), 1 ether, ETH_GAS);

        assertEq(address(bridge).balance, 1 ether);
        assertEq(bridge.deposits(address(0)), 1 ether);
        assertEq(bridge.depositNonce(), 1);
        assertEq(bridge.blockDepositGasUsed(), ETH_GAS);
    }

    /// @dev The log layout the Rust derivation decodes: 4 topics and the canonical ABI encoding
    ///      of (l1Token, l2Token, amount, gasLimit, refundTo, tokenMetadata); metadata at most
    ///      288 bytes.
    function test_deposit_logLayout_succeeds() public {
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.deposit(address(token), l2Token, 5, ERC20_GAS);
        Vm.Log memory log = _lastBridgeLog(vm.getRecordedLogs());
        assertEq(log.topics.length, 4);
        assertEq(log.topics[0], IL1Bridge.DepositInitiated.selector);
        assertEq(log.topics[1], bytes32(uint256(0)));
        assertEq(log.topics[2], bytes32(uint256(uint160(alice))));
        assertEq(log.topics[3], bytes32(uint256(uint160(alice))));
        assertEq(log.data, abi.encode(address(token), l2Token, uint256(5), uint256(ERC20_GAS), alice, mockMetadata));
        assertEq(mockMetadata.length, 224);
    }

    function testFuzz_deposit_eth_succeeds(uint256 amount, uint256 gasSeed, address sender) public {
        _assumeUser(sender);
        amount = bound(amount, 1, 1e30);
        uint32 gasLimit = _ethGas(gasSeed);
        vm.deal(sender, amount);

        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, sender, sender, address(0), address(0), amount, gasLimit, sender, "");
        vm.prank(sender, sender);
        bridge.deposit{value: amount}(address(0), address(0), amount, gasLimit);

        assertEq(address(bridge).balance, amount);
        assertEq(bridge.deposits(address(0)), amount);
        assertEq(bridge.depositNonce(), 1);
    }

    function testFuzz_depositTo_succeeds(uint256 amount, address to, bool erc20) public {
        vm.assume(to != address(0));
        amount = bound(amount, 1, 1_000_000 ether);
        address l1 = erc20 ? address(token) : address(0);
        address l2 = erc20 ? l2Token : address(0);
        uint32 gasLimit = erc20 ? ERC20_GAS : ETH_GAS;
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, to, l1, l2, amount, gasLimit, alice, erc20 ? mockMetadata : bytes(""));
        vm.prank(alice, alice);
        bridge.depositTo{value: erc20 ? 0 : amount}(l1, l2, amount, gasLimit, to);
        assertEq(bridge.deposits(l1), amount);
        assertEq(erc20 ? token.balanceOf(address(bridge)) : address(bridge).balance, amount);
    }

    function testFuzz_depositTo_zeroRecipient_reverts(uint256 amount, bool erc20) public {
        amount = bound(amount, 1, 1_000_000 ether);
        vm.expectRevert(L1Bridge.L1Bridge_ZeroRecipient.selector);
        vm.prank(alice, alice);
        if (erc20) bridge.depositTo(address(token), l2Token, amount, ERC20_GAS, address(0));
        else bridge.depositTo{value: amount}(address(0), address(0), amount, ETH_GAS, address(0));
    }

    function testFuzz_deposit_ethValueMismatch_reverts(uint256 amount, uint256 value) public {
        amount = bound(amount, 1, 1e30);
        value = bound(value, 0, 1e30);
        vm.assume(value != amount);
        vm.deal(alice, value);
        vm.expectRevert(L1Bridge.L1Bridge_ValueMismatch.selector);
        vm.prank(alice, alice);
        bridge.deposit{value: value}(address(0), address(0), amount, ETH_GAS);
    }

    function testFuzz_deposit_ethWithL2Token_reverts(address wrongL2Token) public {
        vm.assume(wrongL2Token != address(0));
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        vm.prank(alice, alice);
        bridge.deposit{value: 1}(address(0), wrongL2Token, 1, ETH_GAS);
    }

    /// @dev The L2 deposit transaction mints ETH as a 128-bit amount.
    function testFuzz_deposit_ethAmountTooLarge_reverts(uint256 amount) public {
        amount = bound(amount, uint256(type(uint128).max) + 1, type(uint256).max);
        vm.deal(alice, amount);
        vm.expectRevert(L1Bridge.L1Bridge_AmountTooLarge.selector);
        vm.prank(alice, alice);
        bridge.deposit{value: amount}(address(0), address(0), amount, ETH_GAS);
    }

    function test_deposit_zeroAmount_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroAmount.selector);
        vm.prank(alice, alice);
        bridge.deposit(address(0), address(0), 0, ETH_GAS);

        vm.expectRevert(L1Bridge.L1Bridge_ZeroAmount.selector);
        vm.prank(alice, alice);
        bridge.deposit(address(token), l2Token, 0, ERC20_GAS);
    }

    function testFuzz_deposit_ethGasLimitOutOfRange_reverts(uint32 gasLimit) public {
        vm.assume(gasLimit < 21_000 || gasLimit > 5_000_000);
        vm.expectRevert(L1Bridge.L1Bridge_GasLimitOutOfRange.selector);
        vm.prank(alice, alice);
        bridge.deposit{value: 1}(address(0), address(0), 1, gasLimit);
    }

    // ------------------------------------------------------------------ ERC-20 deposits

    function test_deposit_erc20_succeeds() public {
        vm.expectEmit(address(bridge));
        emit DepositInitiated(0, alice, alice, address(token), l2Token, 7 ether, ERC20_GAS, alice, mockMetadata);
        vm.prank(alice, alice);
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
        emit DepositInitiated(0, alice, alice, address(token), l2Token, amount, gasLimit, alice, mockMetadata);
        vm.prank(alice, alice);
        bridge.deposit(address(token), l2Token, amount, gasLimit);

        assertEq(token.balanceOf(address(bridge)), amount);
        assertEq(token.balanceOf(alice), aliceBefore - amount);
        assertEq(bridge.deposits(address(token)), amount);
    }

    function testFuzz_deposit_erc20GasLimitOutOfRange_reverts(uint32 gasLimit) public {
        vm.assume(gasLimit < ERC20_GAS || gasLimit > 5_000_000);
        vm.expectRevert(L1Bridge.L1Bridge_GasLimitOutOfRange.selector);
        vm.prank(alice, alice);
        bridge.deposit(address(token), l2Token, 1, gasLimit);
    }

    function testFuzz_deposit_erc20WithValue_reverts(uint256 value) public {
        value = bound(value, 1, 1_000_000 ether);
        vm.expectRevert(L1Bridge.L1Bridge_ValueMismatch.selector);
        vm.prank(alice, alice);
        bridge.deposit{value: value}(address(token), l2Token, 1, ERC20_GAS);
    }

    function testFuzz_deposit_erc20WrongL2Token_reverts(address wrongL2Token) public {
        vm.assume(wrongL2Token != l2Token);
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        vm.prank(alice, alice);
        bridge.deposit(address(token), wrongL2Token, 1, ERC20_GAS);
    }

    function testFuzz_deposit_notAContract_reverts(address l1Token) public {
        vm.assume(l1Token != address(0) && l1Token.code.length == 0);
        address predicted = bridge.predictL2Token(l1Token);
        vm.expectRevert(L1Bridge.L1Bridge_NotAContract.selector);
        vm.prank(alice, alice);
        bridge.deposit(l1Token, predicted, 1, ERC20_GAS);
    }

    function test_deposit_feeOnTransfer_reverts() public {
        FeeOnTransferERC20 fee = new FeeOnTransferERC20();
        fee.mint(alice, 100 ether);
        vm.startPrank(alice, alice);
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
        vm.prank(alice, alice);
        bridge.deposit(address(bad), badL2Token, 1, ERC20_GAS);
    }

    function test_deposit_insufficientAllowance_reverts() public {
        address bob = makeAddr("bob");
        token.mint(bob, 1 ether);
        vm.expectRevert(SafeTransferLib.TransferFromFailed.selector);
        vm.prank(bob, bob);
        bridge.deposit(address(token), l2Token, 1 ether, ERC20_GAS);
    }

    function test_deposit_reentrantToken_reverts() public {
        ReentrantERC20 reentrant = new ReentrantERC20();
        reentrant.setL2Token(bridge.predictL2Token(address(reentrant)));
        reentrant.mint(alice, 10);
        vm.startPrank(alice, alice);
        reentrant.approve(address(bridge), type(uint256).max);
        address reentrantL2Token = bridge.predictL2Token(address(reentrant));
        bridge.deposit(address(reentrant), reentrantL2Token, 10, ERC20_GAS);
        vm.stopPrank();
        // The nested deposit was rejected by the guard; only the outer one counted.
        assertEq(reentrant.reentryRevertData(), abi.encodeWithSelector(ReentrancyGuardTransient.Reentrancy.selector));
        assertEq(bridge.depositNonce(), 1);
        assertEq(bridge.deposits(address(reentrant)), 10);
    }

    // ------------------------------------------------------------------ token metadata

    function test_deposit_metadataBytes32_succeeds() public {
        MetadataERC20 mkr =
            _metadataToken(abi.encode(bytes32("Maker")), abi.encode(bytes32("MKR")), abi.encode(uint256(18)));
        assertEq(_depositMetadata(address(mkr), alice), abi.encode("Maker", "MKR", uint8(18)));
    }

    /// @dev Metadata functions that revert or do not exist: empty strings, decimals 18.
    function test_deposit_metadataReverting_succeeds() public {
        MetadataERC20 t = _metadataToken("", "", "");
        t.setReply(t.name.selector, MetadataERC20.Mode.Revert, 0, "");
        t.setReply(t.symbol.selector, MetadataERC20.Mode.Revert, 0, "");
        t.setReply(t.decimals.selector, MetadataERC20.Mode.Revert, 0, "");
        assertEq(_depositMetadata(address(t), alice), abi.encode("", "", uint8(18)));
    }

    /// @dev Functions that return nothing.
    function test_deposit_metadataEmptyReturns_succeeds() public {
        MetadataERC20 t = _metadataToken("", "", "");
        assertEq(_depositMetadata(address(t), alice), abi.encode("", "", uint8(18)));
    }

    function test_deposit_metadataLongStringsCut_succeeds() public {
        string memory longName = _string(200);
        MetadataERC20 t = _metadataToken(abi.encode(longName), abi.encode(_string(65)), abi.encode(uint256(6)));
        assertEq(_depositMetadata(address(t), alice), abi.encode(_prefix(longName, 64), _string(64), uint8(6)));
    }

    function testFuzz_deposit_metadataDecimals_succeeds(uint256 decimals) public {
        MetadataERC20 t = _metadataToken(abi.encode("T"), abi.encode("T"), abi.encode(decimals));
        uint8 expected = decimals > 255 ? 18 : uint8(decimals);
        assertEq(_depositMetadata(address(t), alice), abi.encode("T", "T", expected));
    }

    function test_deposit_metadataShortDecimals_succeeds() public {
        MetadataERC20 t = _metadataToken(
            abi.encode("T"), abi.encode("T"), hex"0000000000000000000000000000000000000000000000000000000000000006"
        );
        assertEq(_depositMetadata(address(t), alice), abi.encode("T", "T", uint8(6)));
        t.setReply(t.decimals.selector, MetadataERC20.Mode.Raw, 0, hex"06");
        assertEq(_depositMetadata(address(t), alice), abi.encode("T", "T", uint8(18)));
    }

    /// @dev A return bomb the token can afford within its read cap is cut to 64 bytes; one it
    ///      cannot afford runs out of gas inside the capped call and reads as "". The deposit
    ///      goes through either way.
    function test_deposit_metadataHugeReturns_succeeds() public {
        MetadataERC20 t = _metadataToken("", "", abi.encode(uint256(8)));
        t.setReply(t.name.selector, MetadataERC20.Mode.Bomb, 10_000, "");
        t.setReply(t.symbol.selector, MetadataERC20.Mode.Bomb, 1_000_000, "");
        bytes memory metadata = _depositMetadata(address(t), alice);
        (string memory name, string memory symbol, uint8 decimals) = abi.decode(metadata, (string, string, uint8));
        assertEq(bytes(name).length, 64);
        assertEq(symbol, "");
        assertEq(decimals, 8);
    }

    /// @dev Any bytes a token returns give a decodable metadata blob of at most 288 bytes
    ///      (the derivation's bound), with both strings at most 64 bytes, canonically encoded.
    function testFuzz_deposit_metadataArbitraryReturns_succeeds(
        bytes memory name,
        bytes memory symbol,
        bytes memory decimals
    ) public {
        MetadataERC20 t = _metadataToken(name, symbol, decimals);
        bytes memory metadata = _depositMetadata(address(t), alice);
        assertLe(metadata.length, 288, "metadata over 288 bytes");
        (string memory n, string memory s, uint8 d) = abi.decode(metadata, (string, string, uint8));
        assertLe(bytes(n).length, 64, "name over 64 bytes");
        assertLe(bytes(s).length, 64, "symbol over 64 bytes");
        assertEq(abi.encode(n, s, d), metadata, "metadata not canonical");
    }

    /// @dev A hostile token that burns all gas in every metadata function costs a depositor at
    ///      most 3 x TOKEN_METADATA_READ_GAS (+ 10,000) more than a plain token, and still
    ///      deposits (with "", "", 18).
    function test_deposit_metadataGasGriefBounded_succeeds() public {
        MetadataERC20 plain = _metadataToken(abi.encode("Plain"), abi.encode("PLN"), abi.encode(uint256(18)));
        MetadataERC20 hostile = _metadataToken("", "", "");
        hostile.setReply(hostile.name.selector, MetadataERC20.Mode.BurnGas, 0, "");
        hostile.setReply(hostile.symbol.selector, MetadataERC20.Mode.BurnGas, 0, "");
        hostile.setReply(hostile.decimals.selector, MetadataERC20.Mode.BurnGas, 0, "");
        // Warm both tokens' balances equally first.
        _depositMetadata(address(plain), alice);
        assertEq(_depositMetadata(address(hostile), alice), abi.encode("", "", uint8(18)));

        address plainL2 = bridge.predictL2Token(address(plain));
        address hostileL2 = bridge.predictL2Token(address(hostile));
        vm.prank(alice, alice);
        uint256 before = gasleft();
        bridge.deposit(address(plain), plainL2, 1, ERC20_GAS);
        uint256 plainGas = before - gasleft();
        vm.prank(alice, alice);
        before = gasleft();
        bridge.deposit(address(hostile), hostileL2, 1, ERC20_GAS);
        uint256 hostileGas = before - gasleft();
        console.log("ERC-20 deposit gas, plain token", plainGas);
        console.log("ERC-20 deposit gas, token burning all gas in name/symbol/decimals", hostileGas);
        assertLe(hostileGas, plainGas + 3 * READ_GAS + 10_000, "metadata griefing above the stated bound");
    }

    /// @dev Whatever gas a depositor sends, a deposit either gets the token's full metadata or
    ///      reverts: starving the (slow but honest) token's reads never yields blank metadata.
    function test_deposit_metadataCannotBeStarved_succeeds() public {
        MetadataERC20 slow = _metadataToken(abi.encode("Slow Token"), abi.encode("SLOW"), abi.encode(uint256(9)));
        slow.setReply(slow.name.selector, MetadataERC20.Mode.Slow, 60, abi.encode("Slow Token"));
        bytes memory expected = abi.encode("Slow Token", "SLOW", uint8(9));
        assertEq(_depositMetadata(address(slow), alice), expected);
        address slowL2 = bridge.predictL2Token(address(slow));

        uint256 starved;
        uint256 succeeded;
        for (uint256 gas = 20_000; gas < 200_000; gas += 2_000) {
            uint256 snapshot = vm.snapshotState();
            vm.recordLogs();
            vm.prank(alice, alice);
            (bool ok, bytes memory reason) =
                address(bridge).call{gas: gas}(abi.encodeCall(L1Bridge.deposit, (address(slow), slowL2, 1, ERC20_GAS)));
            if (ok) {
                (,,,,, bytes memory metadata) = abi.decode(
                    _lastBridgeLog(vm.getRecordedLogs()).data, (address, address, uint256, uint32, address, bytes)
                );
                assertEq(metadata, expected, "a starved read produced other metadata");
                ++succeeded;
            } else if (reason.length == 4 && bytes4(reason) == L1Bridge.L1Bridge_InsufficientGasForMetadata.selector) {
                ++starved;
            }
            vm.revertToState(snapshot);
        }
        assertGt(starved, 0, "never refused for lack of gas");
        assertGt(succeeded, 0, "never succeeded");
    }

    // ------------------------------------------------------------------ forced withdrawals

    function test_withdraw_eth_succeeds() public {
        vm.expectEmit(address(bridge));
        emit ForcedWithdrawalInitiated(0, alice, alice, address(0), address(0), 2 ether, FORCED_GAS);
        vm.prank(alice, alice);
        bridge.withdraw(address(0), address(0), 2 ether);
        assertEq(bridge.depositNonce(), 1);
        assertEq(bridge.blockDepositGasUsed(), FORCED_GAS);
        // Nothing moves on L1 until the withdrawal is proven and finalized.
        assertEq(address(bridge).balance, 0);
        assertEq(bridge.deposits(address(0)), 0);
    }

    function test_withdraw_logLayout_succeeds() public {
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.withdraw(address(token), l2Token, 9);
        Vm.Log memory log = _lastBridgeLog(vm.getRecordedLogs());
        assertEq(log.topics.length, 4);
        assertEq(log.topics[0], IL1Bridge.ForcedWithdrawalInitiated.selector);
        assertEq(log.topics[1], bytes32(uint256(0)));
        assertEq(log.topics[2], bytes32(uint256(uint160(alice))));
        assertEq(log.topics[3], bytes32(uint256(uint160(alice))));
        assertEq(log.data, abi.encode(address(token), l2Token, uint256(9), uint256(FORCED_GAS)));
    }

    function testFuzz_withdrawTo_succeeds(address sender, address to, uint256 amount, bool erc20) public {
        _assumeUser(sender);
        vm.assume(to != address(0));
        amount = bound(amount, 1, type(uint128).max);
        address l1 = erc20 ? address(token) : address(0);
        address l2 = erc20 ? l2Token : address(0);
        vm.expectEmit(address(bridge));
        emit ForcedWithdrawalInitiated(0, sender, to, l1, l2, amount, FORCED_GAS);
        vm.prank(sender, sender);
        bridge.withdrawTo(l1, l2, amount, to);
        assertEq(bridge.depositNonce(), 1);
    }

    /// @dev A contract withdraws from its L2 alias, to itself (`withdraw`) or anyone (`withdrawTo`).
    function testFuzz_withdraw_contractCallerAliased_succeeds(address caller, address origin, address to) public {
        _assumeUser(caller);
        vm.assume(origin != caller && to != address(0));
        address aliased = AddressAliasing.applyL1ToL2Alias(caller);
        vm.expectEmit(address(bridge));
        emit ForcedWithdrawalInitiated(0, aliased, caller, address(0), address(0), 1 ether, FORCED_GAS);
        vm.prank(caller, origin);
        bridge.withdraw(address(0), address(0), 1 ether);
        vm.expectEmit(address(bridge));
        emit ForcedWithdrawalInitiated(1, aliased, to, address(token), l2Token, 3, FORCED_GAS);
        vm.prank(caller, origin);
        bridge.withdrawTo(address(token), l2Token, 3, to);
    }

    function test_withdraw_zeroAmount_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroAmount.selector);
        vm.prank(alice, alice);
        bridge.withdraw(address(0), address(0), 0);
    }

    function testFuzz_withdraw_unknownTokenMapping_reverts(bool erc20, address wrongL2Token) public {
        address l1Token = erc20 ? address(token) : address(0);
        vm.assume(erc20 ? wrongL2Token != l2Token : wrongL2Token != address(0));
        vm.expectRevert(L1Bridge.L1Bridge_UnknownTokenMapping.selector);
        vm.prank(alice, alice);
        bridge.withdraw(l1Token, wrongL2Token, 1);
    }

    function testFuzz_withdraw_notAContract_reverts(address l1Token) public {
        vm.assume(l1Token != address(0) && l1Token.code.length == 0);
        address predicted = bridge.predictL2Token(l1Token);
        vm.expectRevert(L1Bridge.L1Bridge_NotAContract.selector);
        vm.prank(alice, alice);
        bridge.withdraw(l1Token, predicted, 1);
    }

    function testFuzz_withdraw_ethAmountTooLarge_reverts(uint256 amount) public {
        amount = bound(amount, uint256(type(uint128).max) + 1, type(uint256).max);
        vm.expectRevert(L1Bridge.L1Bridge_AmountTooLarge.selector);
        vm.prank(alice, alice);
        bridge.withdraw(address(0), address(0), amount);
    }

    function test_withdrawTo_zeroRecipient_reverts() public {
        vm.expectRevert(L1Bridge.L1Bridge_ZeroRecipient.selector);
        vm.prank(alice, alice);
        bridge.withdrawTo(address(0), address(0), 1, address(0));
    }

    /// @dev The L2 bridge would refuse it: refused here, before the L1 gas is spent for nothing.
    function testFuzz_withdrawTo_bridgeRecipient_reverts(uint256 amount) public {
        amount = bound(amount, 1, type(uint128).max - 1);
        vm.expectRevert(L1Bridge.L1Bridge_RecipientIsBridge.selector);
        vm.prank(alice, alice);
        bridge.withdrawTo(address(0), address(0), amount, address(bridge));
    }

    /// @dev Forced withdrawals take no ETH (non-payable, as the seed declares `withdraw`).
    function test_withdraw_withValue_reverts() public {
        vm.prank(alice, alice);
        (bool ok,) =
            address(bridge).call{value: 1 ether}(abi.encodeCall(L1Bridge.withdraw, (address(0), address(0), 1 ether)));
        assertFalse(ok, "withdraw accepted ETH");
        assertEq(bridge.depositNonce(), 0);
    }

    /// @dev Forced withdrawals share the deposit budget: 150 fill a block (30M / 200k).
    function test_withdraw_blockGasExhausted_reverts() public {
        uint256 fit = DepositLimits.DEPOSIT_GAS_PER_L1_BLOCK / FORCED_GAS;
        vm.startPrank(alice, alice);
        for (uint256 i; i < fit; ++i) {
            bridge.withdraw(address(0), address(0), 1);
        }
        vm.expectRevert(L1Bridge.L1Bridge_BlockDepositGasExhausted.selector);
        bridge.withdraw(address(0), address(0), 1);
        vm.expectRevert(L1Bridge.L1Bridge_BlockDepositGasExhausted.selector);
        bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
        vm.roll(block.number + 1);
        bridge.withdraw(address(0), address(0), 1);
        vm.stopPrank();
        assertEq(bridge.depositNonce(), fit + 1);
    }

    /// @dev Deposits and forced withdrawals draw from one gapless nonce sequence.
    function testFuzz_sharedNonce_succeeds(bool[12] memory forced) public {
        vm.startPrank(alice, alice);
        for (uint256 i; i < forced.length; ++i) {
            if (forced[i]) {
                vm.expectEmit(true, false, false, false, address(bridge));
                emit ForcedWithdrawalInitiated(i, address(0), address(0), address(0), address(0), 0, 0);
                bridge.withdraw(address(0), address(0), 1);
            } else {
                vm.expectEmit(true, false, false, false, address(bridge));
                emit DepositInitiated(i, address(0), address(0), address(0), address(0), 0, 0, address(0), "");
                bridge.deposit{value: 1}(address(0), address(0), 1, ETH_GAS);
            }
        }
        vm.stopPrank();
        assertEq(bridge.depositNonce(), forced.length);
    }

    // ------------------------------------------------------------------ nonce and gas budget

    function test_deposit_blockGasExhausted_reverts() public {
        vm.startPrank(alice, alice);
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
        vm.startPrank(alice, alice);
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

    // ------------------------------------------------------------------ deposit fee

    /// @dev The fee rule, restated: after a block that used `used`, then `empty` blocks without
    ///      deposits.
    function _expectedFee(uint256 fee, uint256 used, uint256 empty) internal view returns (uint256) {
        uint256 target = bridge.DEPOSIT_GAS_TARGET();
        if (used > target) {
            uint256 delta = fee * (used - target) / target / 8;
            fee += delta == 0 ? 1 : delta;
        } else {
            fee -= fee * (target - used) / target / 8;
        }
        for (uint256 i; i < empty && fee > 1; ++i) {
            uint256 down = fee / 8;
            fee -= down == 0 ? 1 : down;
        }
        return fee == 0 ? 1 : fee;
    }

    /// @dev Unused, the fee is 1 wei per L2 gas and a deposit burns no measurable L1 gas.
    function test_depositBaseFee_idle_succeeds() public {
        assertEq(bridge.depositBaseFee(), 1);
        vm.prank(alice, alice);
        bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
        assertEq(bridge.depositBaseFee(), 1);
        vm.roll(block.number + 1);
        assertEq(bridge.depositBaseFee(), 1, "5M is below the target");
    }

    /// @dev The fee follows the rule block after block, whatever each block uses and however
    ///      many blocks pass between: the fee a block's first deposit fixes follows from the
    ///      last block with deposits, its use, and the empty blocks since.
    function testFuzz_depositBaseFee_followsTheRule_succeeds(uint8[10] memory fills, uint8[10] memory gaps) public {
        uint256 stored = 1;
        uint256 used;
        uint256 lastBlock;
        vm.startPrank(alice, alice);
        for (uint256 b; b < fills.length; ++b) {
            uint256 expected = lastBlock == 0 ? stored : _expectedFee(stored, used, block.number - lastBlock - 1);
            assertEq(bridge.depositBaseFee(), expected);
            uint256 deposits = bound(fills[b], 0, 6);
            for (uint256 i; i < deposits; ++i) {
                bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
            }
            if (deposits != 0) {
                (stored, used, lastBlock) = (expected, deposits * 5_000_000, block.number);
                assertEq(bridge.depositBaseFee(), stored, "fixed for the block");
            }
            vm.roll(block.number + 1 + bound(gaps[b], 0, 3));
        }
        vm.stopPrank();
    }

    /// @dev A deposit burns `gasLimit * fee / max(basefee, 1 gwei)` L1 gas. (Few runs: each
    ///      burns hundreds of millions of gas in the interpreter.)
    /// forge-config: default.fuzz.runs = 16
    function testFuzz_depositBaseFee_burnsL1Gas_succeeds(uint256 basefee) public {
        basefee = bound(basefee, 0, 100 gwei);
        vm.fee(basefee);
        // Seventy full blocks raise the fee far above the floor.
        vm.startPrank(alice, alice);
        for (uint256 b; b < 70; ++b) {
            for (uint256 i; i < 6; ++i) {
                bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
            }
            vm.roll(block.number + 1);
        }
        uint256 fee = bridge.depositBaseFee();
        assertGt(fee, 1e9, "seventy full blocks");
        // The block's first deposit fixes its fee; the two measured after it differ only in
        // their gas limit, so in what they burn.
        bridge.deposit{value: 1}(address(0), address(0), 1, 21_000);
        uint256 before = gasleft();
        bridge.deposit{value: 1}(address(0), address(0), 1, 21_000);
        uint256 cheap = before - gasleft();
        before = gasleft();
        bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
        uint256 dear = before - gasleft();
        vm.stopPrank();
        uint256 price = basefee > 1 gwei ? basefee : 1 gwei;
        uint256 burn = (5_000_000 - 21_000) * fee / price;
        assertLe(dear - cheap, burn + 5_000, "burns at most the fee");
        assertGe(dear - cheap + 5_000, burn, "burns at least the fee");
    }

    /// @dev The reviewer's attack: one contract fills the whole budget at the top of every
    ///      block to keep forced withdrawals out. The fee rises 37.5% a block; within a hundred
    ///      blocks filling the budget needs more L1 gas than a block has, and a forced
    ///      withdrawal gets in at a cost of cents' worth of gas.
    function test_depositBaseFee_budgetStuffingPricesItselfOut_succeeds() public {
        vm.fee(10 gwei);
        BudgetFiller filler = new BudgetFiller();
        vm.deal(address(filler), 1 ether);
        address victim = makeAddr("victim");
        uint256 blocks;
        while (true) {
            vm.roll(block.number + 1);
            (bool filled,) = address(filler).call{gas: 60_000_000}(abi.encodeCall(BudgetFiller.fill, (bridge)));
            if (!filled) break;
            ++blocks;
            assertLt(blocks, 100, "still filling the budget after 100 blocks");
        }
        assertGt(blocks, 10, "the fee rises gradually");
        console.log("blocks the budget could be filled at 10 gwei, 60M gas a block:", blocks);
        uint256 before = gasleft();
        vm.prank(victim, victim);
        bridge.withdraw(address(0), address(0), 1 ether);
        uint256 used = before - gasleft();
        assertLt(used, 2_000_000, "a forced withdrawal's burn is modest");
    }

    // ------------------------------------------------------------------ L1 -> L2 agreement

    /// @dev The predicted L2 token is where the real L2 bridge, at its predeploy address,
    ///      deploys the BridgedERC20.
    function testFuzz_predictL2Token_matchesCreate2Deployment_succeeds(address l1Token) public {
        vm.assume(l1Token != address(0));
        BridgeFixtures.etchL2Bridge(address(bridge));
        address predicted = bridge.predictL2Token(l1Token);
        assertEq(predicted.code.length, 0);

        vm.prank(Predeploys.DEPOSITOR);
        L2Bridge(Predeploys.L2_BRIDGE).finalizeDeposit(l1Token, predicted, alice, alice, 1, alice, mockMetadata);

        assertGt(predicted.code.length, 0, "no token at the predicted address");
        assertEq(BridgedERC20(predicted).l1Token(), l1Token);
        assertEq(BridgedERC20(predicted).balanceOf(alice), 1);
    }

    /// @dev End to end: the DepositInitiated log, run as derivation does with the deposit's own
    ///      gas limit, deploys the L2 token with the L1 token's metadata and credits it.
    function test_deposit_erc20FinalizesOnL2_succeeds() public {
        MetadataERC20 usdc = _metadataToken(abi.encode("USD Coin"), abi.encode("USDC"), abi.encode(uint256(6)));
        address usdcL2 = bridge.predictL2Token(address(usdc));
        BridgeFixtures.etchL2Bridge(address(bridge));
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.deposit(address(usdc), usdcL2, 3e6, ERC20_GAS);
        bool[] memory ok = Derivation.applyAll(vm.getRecordedLogs(), address(bridge));
        assertTrue(ok.length == 1 && ok[0], "finalizeDeposit failed");
        assertEq(BridgedERC20(usdcL2).balanceOf(alice), 3e6);
        assertEq(BridgedERC20(usdcL2).name(), "USD Coin");
        assertEq(BridgedERC20(usdcL2).symbol(), "USDC");
        assertEq(BridgedERC20(usdcL2).decimals(), 6);
        assertEq(BridgedERC20(usdcL2).totalSupply(), bridge.deposits(address(usdc)));
        assertEq(L2Bridge(Predeploys.L2_BRIDGE).withdrawalNonce(), 0, "credit refunded");
    }

    /// @dev The first deposit of a token with the longest metadata, run with exactly
    ///      MIN_ERC20_DEPOSIT_GAS, is credited (not refunded).
    function test_deposit_longMetadataFinalizesWithMinimumGas_succeeds() public {
        MetadataERC20 t = _metadataToken(abi.encode(_string(100)), abi.encode(_string(100)), abi.encode(uint256(255)));
        address tL2 = bridge.predictL2Token(address(t));
        BridgeFixtures.etchL2Bridge(address(bridge));
        vm.recordLogs();
        vm.prank(alice, alice);
        bridge.deposit(address(t), tL2, 1 ether, ERC20_GAS);
        bool[] memory ok = Derivation.applyAll(vm.getRecordedLogs(), address(bridge));
        assertTrue(ok[0], "finalizeDeposit reverted");
        assertEq(L2Bridge(Predeploys.L2_BRIDGE).withdrawalNonce(), 0, "credit refunded");
        assertEq(BridgedERC20(tL2).name(), _string(64));
        assertEq(BridgedERC20(tL2).balanceOf(alice), 1 ether);
    }
}

/// @dev Fills the current L1 block's whole deposit gas budget with six 1-wei ETH deposits of
///      MAX_DEPOSIT_GAS each.
contract BudgetFiller {
    function fill(L1Bridge bridge) external {
        for (uint256 i; i < 6; ++i) {
            bridge.deposit{value: 1}(address(0), address(0), 1, 5_000_000);
        }
    }
}
