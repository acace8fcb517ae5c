// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {Deploy} from "script/Deploy.s.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ProxyAdmin} from "@openzeppelin/contracts/proxy/transparent/ProxyAdmin.sol";
import {ITransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Ownable as OzOwnable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable} from "solady/auth/Ownable.sol";
import {Initializable} from "solady/utils/Initializable.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {Presets} from "src/libraries/Presets.sol";
import {Batches} from "test/utils/Batches.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @notice The production deployment (script/Deploy.s.sol) and who can change it: only the
///         timelock, only after its delay, which exceeds the challenge period.
contract GovernanceTest is Test {
    uint256 internal constant L2_CHAIN_ID = 901;

    Deploy internal script;
    Deploy.Config internal config;
    Deploy.Deployment internal d;
    address internal owner;
    address internal batcher;
    address internal proposer;

    function setUp() public {
        owner = makeAddr("owner");
        batcher = makeAddr("batcher");
        proposer = makeAddr("proposer");
        script = new Deploy();
        Presets.Preset memory preset = Presets.production();
        config = Deploy.Config({
            owner: owner,
            batcher: batcher,
            proposer: proposer,
            l2ChainId: L2_CHAIN_ID,
            challengePeriod: preset.challengePeriod,
            timelockDelay: preset.timelockDelay,
            proposalBond: preset.proposalBond,
            sequencingWindow: uint64(preset.sequencingWindow),
            maxSequencerDrift: uint64(preset.maxSequencerDrift),
            genesisOrigin: uint64(block.number - 1),
            genesisOriginHash: blockhash(block.number - 1),
            genesisOriginTimestamp: uint64(block.timestamp),
            l2GenesisTimestamp: uint64(block.timestamp),
            genesisEth: 0
        });
        d = script.deploy(config);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Schedules `target.call(data)` on the timelock as the owner, with the minimum delay.
    function _schedule(address target, bytes memory data, bytes32 salt) internal returns (bytes32 id) {
        id = d.timelock.hashOperation(target, 0, data, bytes32(0), salt);
        vm.prank(owner);
        d.timelock.schedule(target, 0, data, bytes32(0), salt, config.timelockDelay);
    }

    /// @dev Executes a scheduled operation as the owner.
    function _execute(address target, bytes memory data, bytes32 salt) internal {
        vm.prank(owner);
        d.timelock.execute(target, 0, data, bytes32(0), salt);
    }

    /// @dev Schedules, waits out the delay, executes.
    function _timelocked(address target, bytes memory data) internal {
        bytes32 salt = keccak256(data);
        _schedule(target, data, salt);
        vm.warp(block.timestamp + config.timelockDelay);
        _execute(target, data, salt);
    }

    /// @dev The call that upgrades `proxy` to `implementation` through its ProxyAdmin.
    function _upgradeCall(address proxy, address implementation)
        internal
        view
        returns (address proxyAdmin, bytes memory data)
    {
        proxyAdmin = Proxies.adminOf(proxy);
        data = abi.encodeCall(ProxyAdmin.upgradeAndCall, (ITransparentUpgradeableProxy(proxy), implementation, ""));
    }

    /// @dev Upgrading `proxy` through the timelock: refused before the delay, done after it.
    function _checkTimelockedUpgrade(address proxy, address implementation) internal {
        (address proxyAdmin, bytes memory data) = _upgradeCall(proxy, implementation);
        bytes32 salt = keccak256("upgrade");
        bytes32 id = _schedule(proxyAdmin, data, salt);

        vm.warp(block.timestamp + config.timelockDelay - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                id,
                bytes32(2 ** uint256(TimelockController.OperationState.Ready))
            )
        );
        _execute(proxyAdmin, data, salt);
        assertTrue(Proxies.implementationOf(proxy) != implementation, "upgraded before the delay");

        vm.warp(block.timestamp + 1);
        _execute(proxyAdmin, data, salt);
        assertEq(Proxies.implementationOf(proxy), implementation, "not upgraded after the delay");
        assertTrue(d.timelock.isOperationDone(id));
    }

    /// @dev A valid first batch for the deployed inbox: one empty block, a second after genesis,
    ///      with the genesis origin.
    function _firstBatch() internal pure returns (bytes memory) {
        Batches.Batch memory batch;
        batch.firstBlock = 1;
        batch.blocks = Batches.uniformBlocks(1, 0, 1, 0);
        return Batches.encode(batch);
    }

    /// @dev Fuzzed callers must not be the timelock or a ProxyAdmin (whose calls a proxy never
    ///      forwards).
    function _assumeOutsider(address caller) internal view {
        vm.assume(caller != address(d.timelock));
        vm.assume(caller != Proxies.adminOf(address(d.stateManager)));
        vm.assume(caller != Proxies.adminOf(address(d.batchInbox)));
        vm.assume(caller != Proxies.adminOf(address(d.l1Bridge)));
    }

    // ------------------------------------------------------------------ the deployment

    function test_deploy_wiring_succeeds() public view {
        TimelockController timelock = d.timelock;
        assertEq(timelock.getMinDelay(), 10 days);
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), owner));
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), owner));
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), owner));
        // Only the timelock administers itself; the deployer keeps nothing.
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(script)));
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), owner));
        assertFalse(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "anyone may execute");

        address[3] memory proxies = [address(d.stateManager), address(d.batchInbox), address(d.l1Bridge)];
        address[3] memory implementations =
            [d.stateManagerImplementation, d.batchInboxImplementation, d.l1BridgeImplementation];
        for (uint256 i; i < 3; ++i) {
            assertEq(ProxyAdmin(Proxies.adminOf(proxies[i])).owner(), address(timelock), "ProxyAdmin owner");
            assertEq(Proxies.implementationOf(proxies[i]), implementations[i], "implementation");
        }

        assertEq(d.stateManager.owner(), address(timelock));
        assertEq(d.stateManager.proposer(), proposer);
        assertEq(d.stateManager.disputeGame(), address(0));
        assertEq(d.stateManager.challengePeriod(), 7 days);
        assertEq(d.stateManager.proposalBond(), 20 ether);
        assertEq(d.batchInbox.owner(), address(timelock));
        assertEq(d.batchInbox.batcher(), batcher);
        assertEq(address(d.batchInbox.bridge()), address(d.l1Bridge), "inbox reads the bridge proxy");
        assertEq(d.batchInbox.sequencingWindow(), 3_600);
        assertEq(d.batchInbox.maxSequencerDrift(), 1_800);
        assertEq(d.batchInbox.genesisOrigin(), config.genesisOrigin);
        assertEq(d.batchInbox.lastRecordedOrigin(), config.genesisOrigin);
        assertEq(d.batchInbox.originHash(config.genesisOrigin), config.genesisOriginHash);
        assertEq(d.batchInbox.originTimestamp(config.genesisOrigin), config.genesisOriginTimestamp);
        assertEq(d.batchInbox.lastTimestamp(), config.l2GenesisTimestamp);
        assertEq(d.batchInbox.nextBlock(), 1);
        assertEq(address(d.l1Bridge.stateManager()), address(d.stateManager), "bridge reads the proxy");
        assertEq(d.l1Bridge.l2ChainId(), L2_CHAIN_ID);
    }

    function test_presets_timelockExceedsChallengePeriod_succeeds() public pure {
        Presets.Preset memory production = Presets.production();
        assertEq(production.challengePeriod, 7 days);
        assertEq(production.timelockDelay, 10 days);
        assertEq(production.proposalBond, 20 ether);
        assertEq(production.sequencingWindow, 3_600);
        assertEq(production.maxSequencerDrift, 1_800);
        assertGt(production.timelockDelay, production.challengePeriod, "production: timelock <= challenge period");
        Presets.Preset memory devnet = Presets.devnet();
        assertEq(devnet.challengePeriod, 60);
        assertEq(devnet.timelockDelay, 120);
        assertEq(devnet.proposalBond, 0.1 ether);
        assertEq(devnet.sequencingWindow, 20);
        assertEq(devnet.maxSequencerDrift, 600);
        assertGt(devnet.timelockDelay, devnet.challengePeriod, "devnet: timelock <= challenge period");
    }

    // ------------------------------------------------------------------ upgrades

    function test_upgrade_stateManager_waitsForTimelock_succeeds() public {
        // State survives the upgrade; the new implementation's immutables take effect.
        vm.deal(proposer, 1 ether);
        vm.prank(proposer);
        d.stateManager.depositBond{value: 1 ether}();
        address next = address(new StateManager(8 days, 2 ether));
        _checkTimelockedUpgrade(address(d.stateManager), next);
        assertEq(d.stateManager.challengePeriod(), 8 days);
        assertEq(d.stateManager.bondBalance(proposer), 1 ether);
        assertEq(d.stateManager.owner(), address(d.timelock));
        assertEq(d.stateManager.proposer(), proposer);
    }

    function test_upgrade_batchInbox_waitsForTimelock_succeeds() public {
        vm.prank(batcher, batcher);
        d.batchInbox.postBatch(_firstBatch());
        _checkTimelockedUpgrade(address(d.batchInbox), address(new BatchInbox()));
        assertEq(d.batchInbox.recordCount(), 1);
        assertEq(d.batchInbox.nextBlock(), 2);
        assertEq(d.batchInbox.batcher(), batcher);
    }

    function test_upgrade_l1Bridge_waitsForTimelock_succeeds() public {
        _checkTimelockedUpgrade(address(d.l1Bridge), address(new L1Bridge(address(d.stateManager), L2_CHAIN_ID, 0)));
        assertEq(d.l1Bridge.l2ChainId(), L2_CHAIN_ID);
    }

    function test_schedule_shorterThanMinDelay_reverts() public {
        (address proxyAdmin, bytes memory data) = _upgradeCall(address(d.stateManager), address(1));
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockInsufficientDelay.selector, config.timelockDelay - 1, config.timelockDelay
            )
        );
        vm.prank(owner);
        d.timelock.schedule(proxyAdmin, 0, data, bytes32(0), bytes32(0), config.timelockDelay - 1);
    }

    /// @dev The owner can cancel a scheduled upgrade; it can then never execute.
    function test_cancel_scheduledUpgrade_succeeds() public {
        address next = address(new StateManager(8 days, 2 ether));
        (address proxyAdmin, bytes memory data) = _upgradeCall(address(d.stateManager), next);
        bytes32 id = _schedule(proxyAdmin, data, bytes32(0));
        vm.prank(owner);
        d.timelock.cancel(id);
        vm.warp(block.timestamp + config.timelockDelay);
        vm.expectRevert();
        _execute(proxyAdmin, data, bytes32(0));
        assertEq(Proxies.implementationOf(address(d.stateManager)), d.stateManagerImplementation);
    }

    function testFuzz_schedule_notOwner_reverts(address caller) public {
        vm.assume(caller != owner);
        (address proxyAdmin, bytes memory data) = _upgradeCall(address(d.stateManager), address(1));
        bytes32 proposerRole = d.timelock.PROPOSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, proposerRole)
        );
        vm.prank(caller);
        d.timelock.schedule(proxyAdmin, 0, data, bytes32(0), bytes32(0), config.timelockDelay);
    }

    /// @dev Nobody but the timelock, the owner included, upgrades a proxy directly.
    function testFuzz_upgrade_notTimelock_reverts(address caller, uint256 which) public {
        _assumeOutsider(caller);
        address[3] memory proxies = [address(d.stateManager), address(d.batchInbox), address(d.l1Bridge)];
        address proxy = proxies[which % 3];
        address before = Proxies.implementationOf(proxy);
        (address proxyAdmin, bytes memory data) = _upgradeCall(proxy, address(new BatchInbox()));

        vm.expectRevert(abi.encodeWithSelector(OzOwnable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        (bool ok,) = proxyAdmin.call(data);
        ok;

        // Calling the proxy's upgrade function itself reaches the implementation, which has none.
        vm.prank(caller);
        (ok,) = proxy.call(abi.encodeCall(ITransparentUpgradeableProxy.upgradeToAndCall, (address(1), "")));
        assertFalse(ok);
        assertEq(Proxies.implementationOf(proxy), before);
    }

    // ------------------------------------------------------------------ owner actions

    function testFuzz_ownerActions_notTimelock_reverts(address caller) public {
        _assumeOutsider(caller);
        vm.startPrank(caller);
        vm.expectRevert(Ownable.Unauthorized.selector);
        d.stateManager.setProposer(caller);
        vm.expectRevert(Ownable.Unauthorized.selector);
        d.stateManager.setDisputeGame(caller);
        vm.expectRevert(Ownable.Unauthorized.selector);
        d.batchInbox.setBatcher(caller);
        vm.expectRevert(Ownable.Unauthorized.selector);
        d.stateManager.transferOwnership(caller);
        vm.expectRevert(Ownable.Unauthorized.selector);
        d.batchInbox.transferOwnership(caller);
        vm.stopPrank();
    }

    function test_ownerActions_throughTimelock_succeeds() public {
        address newProposer = makeAddr("newProposer");
        address newBatcher = makeAddr("newBatcher");
        address game = makeAddr("disputeGame");
        _timelocked(address(d.stateManager), abi.encodeCall(StateManager.setProposer, (newProposer)));
        _timelocked(address(d.batchInbox), abi.encodeCall(BatchInbox.setBatcher, (newBatcher)));
        _timelocked(address(d.stateManager), abi.encodeCall(StateManager.setDisputeGame, (game)));
        assertEq(d.stateManager.proposer(), newProposer);
        assertEq(d.batchInbox.batcher(), newBatcher);
        assertEq(d.stateManager.disputeGame(), game);
    }

    /// @dev Handing the StateManager or the BatchInbox to a new owner (a new timelock, say) goes
    ///      through the timelock, whose delay (10 days) outlasts a handover request (48 hours):
    ///      the new owner must ask within the 48 hours before the timelock executes the
    ///      completion. An older request, such as one made when the completion was scheduled,
    ///      has expired: the execution reverts and the timelock stays the owner.
    function testFuzz_completeOwnershipHandover_throughTimelock_succeeds(uint256 requestAge, bool inbox) public {
        Ownable target = inbox ? Ownable(address(d.batchInbox)) : Ownable(address(d.stateManager));
        address newOwner = makeAddr("newOwner");
        requestAge = bound(requestAge, 0, config.timelockDelay);
        bytes memory data = abi.encodeCall(Ownable.completeOwnershipHandover, (newOwner));
        bytes32 salt = keccak256(data);
        uint256 executeAt = block.timestamp + config.timelockDelay;
        _schedule(address(target), data, salt);
        vm.warp(executeAt - requestAge);
        vm.prank(newOwner);
        target.requestOwnershipHandover();
        vm.warp(executeAt);
        bool expired = requestAge > 48 hours;
        if (expired) vm.expectRevert(Ownable.NoHandoverRequest.selector);
        _execute(address(target), data, salt);
        assertEq(target.owner(), expired ? address(d.timelock) : newOwner);
    }

    /// @dev The ProxyAdmins (OpenZeppelin `Ownable`, one step) belong to the timelock: nobody
    ///      else, the owner included, transfers or renounces them.
    function testFuzz_proxyAdminOwnership_notTimelock_reverts(address caller, uint256 which) public {
        _assumeOutsider(caller);
        address[3] memory proxies = [address(d.stateManager), address(d.batchInbox), address(d.l1Bridge)];
        ProxyAdmin proxyAdmin = ProxyAdmin(Proxies.adminOf(proxies[which % 3]));
        vm.expectRevert(abi.encodeWithSelector(OzOwnable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        proxyAdmin.transferOwnership(caller);
        vm.expectRevert(abi.encodeWithSelector(OzOwnable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        proxyAdmin.renounceOwnership();
        assertEq(proxyAdmin.owner(), address(d.timelock));
    }

    // ------------------------------------------------------------------ contracts behind their proxies

    function testFuzz_stateManager_initializeAgain_reverts(address caller) public {
        _assumeOutsider(caller);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(caller);
        d.stateManager.initialize(caller, caller);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(caller);
        d.batchInbox.initialize(caller, caller, caller, 1, 1, 0, keccak256("hash"), 0, 0);
    }

    function testFuzz_implementations_initialize_reverts(address caller) public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(caller);
        StateManager(d.stateManagerImplementation).initialize(caller, caller);
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        vm.prank(caller);
        BatchInbox(d.batchInboxImplementation).initialize(caller, caller, caller, 1, 1, 0, keccak256("hash"), 0, 0);
    }

    /// @dev The StateManager works behind its proxy: bonded proposal, finality, bond returned.
    function test_stateManager_behindProxy_succeeds() public {
        vm.deal(proposer, 20 ether);
        vm.startPrank(proposer);
        d.stateManager.depositBond{value: 20 ether}();
        d.stateManager.submitStateRoot(keccak256("state"), keccak256("batch"), abi.encode(uint64(1), keccak256("b")));
        vm.stopPrank();
        assertEq(d.stateManager.bondBalance(proposer), 0);
        assertEq(address(d.stateManager).balance, 20 ether);
        assertEq(d.stateManagerImplementation.balance, 0);

        vm.warp(block.timestamp + 7 days);
        assertTrue(d.stateManager.isFinal(0));
        d.stateManager.returnBond(0);
        vm.prank(proposer);
        d.stateManager.withdrawBond(20 ether);
        assertEq(proposer.balance, 20 ether);
    }

    /// @dev Withdrawal hashes bind the proxy's address (the one the L2 bridge knows), never the
    ///      implementation's.
    function testFuzz_l1Bridge_hashesWithProxyAddress_succeeds(Withdrawals.Withdrawal memory w) public view {
        bytes32 expected = keccak256(
            abi.encode(
                L2_CHAIN_ID,
                address(d.l1Bridge),
                Predeploys.L2_BRIDGE,
                w.nonce,
                w.from,
                w.to,
                w.l1Token,
                w.l2Token,
                w.amount
            )
        );
        assertEq(d.l1Bridge.hashWithdrawal(w), expected);
        assertEq(Withdrawals.hash(w, L2_CHAIN_ID, address(d.l1Bridge)), expected);
        assertTrue(expected != Withdrawals.hash(w, L2_CHAIN_ID, d.l1BridgeImplementation));
    }

    // ------------------------------------------------------------------ configuration checks

    function test_deploy_zeroAddress_reverts() public {
        Deploy.Config memory bad = config;
        bad.owner = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_ZeroAddress.selector, "OWNER"));
        script.deploy(bad);
        bad = config;
        bad.batcher = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_ZeroAddress.selector, "BATCHER"));
        script.deploy(bad);
        bad = config;
        bad.proposer = address(0);
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_ZeroAddress.selector, "PROPOSER"));
        script.deploy(bad);
    }

    function test_deploy_zeroChallengePeriod_reverts() public {
        Deploy.Config memory bad = config;
        bad.challengePeriod = 0;
        vm.expectRevert(Deploy.Deploy_ZeroChallengePeriod.selector);
        script.deploy(bad);
    }

    function testFuzz_deploy_timelockNotLongerThanChallengePeriod_reverts(uint256 timelockDelay) public {
        Deploy.Config memory bad = config;
        bad.timelockDelay = bound(timelockDelay, 0, config.challengePeriod);
        vm.expectRevert(
            abi.encodeWithSelector(
                Deploy.Deploy_TimelockDelayTooShort.selector, bad.timelockDelay, config.challengePeriod
            )
        );
        script.deploy(bad);
    }

    function testFuzz_deploy_sequencingWindowTooShort_reverts(uint64 window) public {
        Deploy.Config memory bad = config;
        bad.sequencingWindow = uint64(bound(window, 0, 1));
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_SequencingWindowTooShort.selector, bad.sequencingWindow));
        script.deploy(bad);
    }

    /// @dev The inbox refuses a genesis origin hash L1 contradicts, so a deployment cannot start
    ///      from a block that is not L1's.
    function test_deploy_wrongGenesisOriginHash_reverts() public {
        Deploy.Config memory bad = config;
        bad.genesisOriginHash = keccak256("not the block");
        vm.expectRevert(
            abi.encodeWithSelector(BatchInbox.BatchInbox_GenesisOriginHashMismatch.selector, bad.genesisOrigin)
        );
        script.deploy(bad);
    }

    function test_deploy_badL2ChainId_reverts() public {
        Deploy.Config memory bad = config;
        bad.l2ChainId = 0;
        vm.expectRevert(Deploy.Deploy_ZeroL2ChainId.selector);
        script.deploy(bad);
        bad.l2ChainId = block.chainid;
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_L2ChainIdIsL1.selector, block.chainid));
        script.deploy(bad);
    }

    /// @dev The environment interface, in one test because the environment is shared by every
    ///      test of the run (no other test reads these variables).
    function test_readConfig_environment_succeeds() public {
        vm.setEnv("OWNER", vm.toString(owner));
        vm.setEnv("BATCHER", vm.toString(batcher));
        vm.setEnv("PROPOSER", vm.toString(proposer));
        vm.setEnv("L2_CHAIN_ID", "901");
        vm.roll(100);
        vm.warp(1_700_000_000);

        // Without an RPC to serve the genesis origin's header, its timestamp must be given.
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_UnknownGenesisOriginTimestamp.selector, 99));
        script.readConfig();
        vm.setEnv("GENESIS_ORIGIN_TIMESTAMP", "1699999988");

        // Production preset by default.
        Deploy.Config memory read = script.readConfig();
        assertEq(read.owner, owner);
        assertEq(read.batcher, batcher);
        assertEq(read.proposer, proposer);
        assertEq(read.l2ChainId, 901);
        assertEq(read.challengePeriod, Presets.PRODUCTION_CHALLENGE_PERIOD);
        assertEq(read.timelockDelay, Presets.PRODUCTION_TIMELOCK_DELAY);
        assertEq(read.proposalBond, Presets.PRODUCTION_PROPOSAL_BOND);
        assertEq(read.sequencingWindow, Presets.PRODUCTION_SEQUENCING_WINDOW);
        assertEq(read.maxSequencerDrift, Presets.PRODUCTION_MAX_SEQUENCER_DRIFT);
        // The genesis origin defaults to the parent of the block the script runs at.
        assertEq(read.genesisOrigin, 99);
        assertEq(read.genesisOriginHash, blockhash(99));
        assertEq(read.genesisOriginTimestamp, 1_699_999_988);
        assertEq(read.l2GenesisTimestamp, 1_699_999_988);

        vm.setEnv("PRESET", "devnet");
        read = script.readConfig();
        assertEq(read.challengePeriod, Presets.DEVNET_CHALLENGE_PERIOD);
        assertEq(read.timelockDelay, Presets.DEVNET_TIMELOCK_DELAY);
        assertEq(read.proposalBond, Presets.DEVNET_PROPOSAL_BOND);
        assertEq(read.sequencingWindow, Presets.DEVNET_SEQUENCING_WINDOW);
        assertEq(read.maxSequencerDrift, Presets.DEVNET_MAX_SEQUENCER_DRIFT);

        vm.setEnv("CHALLENGE_PERIOD", "3600");
        vm.setEnv("TIMELOCK_DELAY", "7200");
        vm.setEnv("PROPOSAL_BOND", "5");
        vm.setEnv("SEQUENCING_WINDOW", "50");
        vm.setEnv("MAX_SEQUENCER_DRIFT", "300");
        vm.setEnv("GENESIS_ORIGIN", "98");
        vm.setEnv("GENESIS_ORIGIN_HASH", vm.toString(blockhash(98)));
        vm.setEnv("GENESIS_ORIGIN_TIMESTAMP", "1699999976");
        vm.setEnv("L2_GENESIS_TIMESTAMP", "1699999980");
        read = script.readConfig();
        assertEq(read.challengePeriod, 3600);
        assertEq(read.timelockDelay, 7200);
        assertEq(read.proposalBond, 5);
        assertEq(read.sequencingWindow, 50);
        assertEq(read.maxSequencerDrift, 300);
        assertEq(read.genesisOrigin, 98);
        assertEq(read.genesisOriginHash, blockhash(98));
        assertEq(read.genesisOriginTimestamp, 1_699_999_976);
        assertEq(read.l2GenesisTimestamp, 1_699_999_980);

        // run() deploys what the environment describes, the dispute contracts included.
        vm.setEnv("GENESIS_OUTPUT_ROOT", vm.toString(bytes32(uint256(1))));
        Deploy.Deployment memory ran = script.run();
        assertEq(ran.stateManager.disputeGame(), address(ran.disputeGame));
        assertEq(ran.stateManager.oneStepVerifier(), address(ran.oneStepVerifier));
        assertEq(ran.stateManager.batchInbox(), address(ran.batchInbox));
        assertTrue(ran.stateManager.permissionlessProposals());
        assertEq(ran.stateManager.owner(), address(ran.timelock));
        assertEq(ran.disputeGame.genesisOutputRoot(), bytes32(uint256(1)));
        assertEq(ran.stateManager.challengePeriod(), 3600);
        assertEq(ran.timelock.getMinDelay(), 7200);
        assertEq(ran.batchInbox.batcher(), batcher);
        assertEq(ran.batchInbox.sequencingWindow(), 50);
        assertEq(ran.batchInbox.genesisOrigin(), 98);
        assertEq(ran.batchInbox.originHash(98), blockhash(98));
        assertEq(ran.batchInbox.lastTimestamp(), 1_699_999_980);

        vm.setEnv("PRESET", "mainnet");
        vm.expectRevert(abi.encodeWithSelector(Deploy.Deploy_UnknownPreset.selector, "mainnet"));
        script.readConfig();
    }
}
