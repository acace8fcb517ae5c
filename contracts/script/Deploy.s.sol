// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script, console} from "test/utils/Test.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {DisputeGame} from "src/dispute/DisputeGame.sol";
import {OneStepVerifier} from "src/dispute/OneStepVerifier.sol";
import {SegmentStore} from "src/dispute/SegmentStore.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {Presets} from "src/libraries/Presets.sol";
import {L1Header} from "src/libraries/L1Header.sol";

/// @notice Hands `L1Header` (which reads calldata) a header from the script's memory.
contract L1HeaderReader {
    /// @notice `L1Header.parse(header)`.
    /// @param header The RLP-encoded header.
    /// @return parentHash The parent hash.
    /// @return number     The block number.
    /// @return timestamp  The block timestamp.
    function parse(bytes calldata header) external pure returns (bytes32 parentHash, uint64 number, uint64 timestamp) {
        return L1Header.parse(header);
    }
}

/// @notice The cheatcode that tells whether the script broadcasts, and as whom (declared here:
///         the shared `Vm` interface of the tests does not list it).
interface VmCallers {
    /// @notice The current caller mode (0 none, 1 broadcast, 2 recurrent broadcast, 3 prank,
    ///         4 recurrent prank), `msg.sender` and `tx.origin`.
    function readCallers() external returns (uint8 callerMode, address msgSender, address txOrigin);
}

/// @title Deploy
/// @notice The production deployment of the rollup's L1 contracts. A `TimelockController` whose
///         only proposer and executor is `OWNER` (no admin: its roles and delay change only
///         through its own delay) owns everything: the ProxyAdmin of each proxy and the
///         StateManager and BatchInbox themselves. StateManager, BatchInbox and L1Bridge each
///         sit behind a `TransparentUpgradeableProxy`; the proxies are the addresses users and
///         the node use. The fraud proof's `OneStepVerifier` and `DisputeGame` (immutable, no
///         proxy: a new game is a new contract the timelock sets with `setDisputeGame`) are set
///         in the StateManager while the deployer still owns it, together with the preset's
///         `permissionlessProposals`; then the StateManager goes to the timelock.
///
///         Environment:
///         - `OWNER`, `BATCHER`, `PROPOSER` (addresses, required, non-zero): the timelock's
///           proposer and executor, the only account allowed to post batches, the only account
///           allowed to propose state roots.
///         - `L2_CHAIN_ID` (required, non-zero, not the L1's chain id): bound into every
///           withdrawal hash.
///         - `PRESET` (`production` by default, or `devnet`): the defaults of the next three.
///         - `CHALLENGE_PERIOD` (seconds, non-zero), `TIMELOCK_DELAY` (seconds, greater than the
///           challenge period), `PROPOSAL_BOND` (wei), `SEQUENCING_WINDOW` (L1 blocks, at least
///           2), `MAX_SEQUENCER_DRIFT` (seconds): override the preset.
///         - `GENESIS_ETH` (wei, default 0): the sum of the ETH balances the L2 genesis gives
///           its accounts. The bridge is built with it and the deployer locks exactly that much
///           in it (`lockGenesisEth`), so withdrawals of genesis balances are backed.
///         - `GENESIS_OUTPUT_ROOT` (bytes32, required, non-zero): the output root of L2 block 0,
///           the DisputeGame's anchor for proposals anchored on the genesis. It depends on the
///           L2 genesis state, which this script cannot compute: take it from
///           `rollup-node deploy` (which deploys everything itself) or from the node
///           (`rollup_getProof` of block 0 answers `outputRootHash` once block 0 is derived).
///         - `CHALLENGER_BOND` (wei), `MAX_CLOCK_DURATION`, `CLOCK_EXTENSION` (seconds, the
///           extension below the clock), `PERMISSIONLESS_PROPOSALS` (bool): override the
///           preset's dispute parameters.
///         - The L2 genesis the BatchInbox starts from. `GENESIS_ORIGIN` (default: the parent
///           of the block the script runs at, `block.number - 1`, the newest block whose hash
///           the chain can tell), `GENESIS_ORIGIN_HASH` (default: `blockhash(GENESIS_ORIGIN)`),
///           `GENESIS_ORIGIN_TIMESTAMP` (default: read from that block's RLP header, which the
///           script fetches from the RPC with `vm.getRawBlockHeader` and checks against the
///           hash; required when there is no RPC), `L2_GENESIS_TIMESTAMP` (default: the
///           genesis origin's timestamp). The inbox itself checks the hash against L1 when it
///           can (within 256 blocks, or through EIP-2935), so a wrong hash fails the deploy.
/// @dev    forge script script/Deploy.s.sol --rpc-url $L1_RPC_URL --broadcast --private-key $KEY
///         The deployer account needs no role afterwards; nothing is left owned by it.
///         `deploy(config)` (one argument) is the deployment without the fraud proof contracts,
///         as before them; `run()` and `deploy(config, dispute)` deploy and set both.
contract Deploy is Script {
    /// @notice What the deployment is made from.
    /// @param owner           The timelock's proposer and executor.
    /// @param batcher         The only account allowed to post batches.
    /// @param proposer        The only account allowed to submit state roots.
    /// @param l2ChainId       The L2 chain id.
    /// @param challengePeriod Seconds after a proposal before it is final.
    /// @param timelockDelay   The timelock's minimum delay in seconds.
    /// @param proposalBond    The bond (wei) each proposal locks.
    /// @param sequencingWindow       L1 blocks within which an L2 block's batch must be posted.
    /// @param maxSequencerDrift      Seconds an L2 block may run ahead of its L1 origin.
    /// @param genesisOrigin          The L1 origin of L2 genesis.
    /// @param genesisOriginHash      Its hash.
    /// @param genesisOriginTimestamp Its timestamp.
    /// @param l2GenesisTimestamp     The timestamp of L2 genesis (block 0).
    /// @param genesisEth             The ETH (wei) the L2 genesis allocates, locked in the bridge.
    struct Config {
        address owner;
        address batcher;
        address proposer;
        uint256 l2ChainId;
        uint256 challengePeriod;
        uint256 timelockDelay;
        uint256 proposalBond;
        uint64 sequencingWindow;
        uint64 maxSequencerDrift;
        uint64 genesisOrigin;
        bytes32 genesisOriginHash;
        uint64 genesisOriginTimestamp;
        uint64 l2GenesisTimestamp;
        uint256 genesisEth;
    }

    /// @notice The fraud proof part of the deployment (kept apart from `Config` so the
    ///         deployment without it keeps its shape).
    /// @param genesisOutputRoot The output root of L2 block 0 (the DisputeGame's genesis anchor).
    /// @param challengerBond    The bond (wei) a challenger posts per game.
    /// @param maxClockDuration  Seconds of thinking time each side has per game.
    /// @param clockExtension    The least time a side gets when its turn starts.
    /// @param permissionlessProposals Whether anyone may propose (devnet only).
    struct DisputeConfig {
        bytes32 genesisOutputRoot;
        uint256 challengerBond;
        uint64 maxClockDuration;
        uint64 clockExtension;
        bool permissionlessProposals;
    }

    /// @notice What the deployment made. The proxies are the contracts' public addresses.
    struct Deployment {
        TimelockController timelock;
        StateManager stateManager;
        BatchInbox batchInbox;
        L1Bridge l1Bridge;
        address stateManagerImplementation;
        address batchInboxImplementation;
        address l1BridgeImplementation;
        DisputeGame disputeGame;
        SegmentStore segmentStore;
        OneStepVerifier oneStepVerifier;
    }

    /// @notice Thrown when a required address (named by its environment variable) is zero.
    error Deploy_ZeroAddress(string name);

    /// @notice Thrown when the challenge period is zero.
    error Deploy_ZeroChallengePeriod();

    /// @notice Thrown when the timelock delay does not exceed the challenge period: users could
    ///         not exit before an upgrade they reject.
    error Deploy_TimelockDelayTooShort(uint256 timelockDelay, uint256 challengePeriod);

    /// @notice Thrown when the L2 chain id is zero.
    error Deploy_ZeroL2ChainId();

    /// @notice Thrown when the L2 chain id equals the chain id of the L1 being deployed to.
    error Deploy_L2ChainIdIsL1(uint256 chainId);

    /// @notice Thrown when `PRESET` is neither `production` nor `devnet`.
    error Deploy_UnknownPreset(string preset);

    /// @notice Thrown when the sequencing window is under 2 L1 blocks (the node requires 2).
    error Deploy_SequencingWindowTooShort(uint256 sequencingWindow);

    /// @notice Thrown when an environment number does not fit the field it sets.
    error Deploy_ValueTooLarge(string name, uint256 value);

    /// @notice Thrown when the genesis origin hash is zero (e.g. `blockhash` of a block the
    ///         chain no longer knows): set `GENESIS_ORIGIN_HASH`.
    error Deploy_UnknownGenesisOriginHash(uint256 genesisOrigin);

    /// @notice Thrown when the genesis origin's timestamp is neither given
    ///         (`GENESIS_ORIGIN_TIMESTAMP`) nor readable from the RPC's header of that block.
    error Deploy_UnknownGenesisOriginTimestamp(uint256 genesisOrigin);

    /// @notice Thrown when the header the RPC serves for the genesis origin does not hash to
    ///         the genesis origin hash or is not that block's.
    error Deploy_GenesisHeaderMismatch(uint256 genesisOrigin);

    /// @notice Thrown when the genesis output root is zero or unset (`GENESIS_OUTPUT_ROOT`).
    error Deploy_ZeroGenesisOutputRoot();

    /// @notice Thrown when the dispute clock is zero or its extension is not below it.
    error Deploy_BadClock(uint64 maxClockDuration, uint64 clockExtension);

    /// @notice Thrown when the challenger bond is zero.
    error Deploy_ZeroChallengerBond();

    /// @notice Reads the configuration from the environment, deploys, and logs the addresses.
    /// @return deployment The deployed contracts.
    function run() external returns (Deployment memory deployment) {
        Config memory config = readConfig();
        DisputeConfig memory dispute = readDisputeConfig();
        vm.startBroadcast();
        deployment = deploy(config, dispute);
        vm.stopBroadcast();

        console.log("TimelockController", address(deployment.timelock));
        console.log("StateManager (proxy)", address(deployment.stateManager));
        console.log("BatchInbox (proxy)", address(deployment.batchInbox));
        console.log("L1Bridge (proxy)", address(deployment.l1Bridge));
        console.log("StateManager implementation", deployment.stateManagerImplementation);
        console.log("BatchInbox implementation", deployment.batchInboxImplementation);
        console.log("L1Bridge implementation", deployment.l1BridgeImplementation);
        console.log("DisputeGame", address(deployment.disputeGame));
        console.log("SegmentStore", address(deployment.segmentStore));
        console.log("OneStepVerifier", address(deployment.oneStepVerifier));
        console.log("challenger bond (wei)", dispute.challengerBond);
        console.log("max clock duration (s)", dispute.maxClockDuration);
        console.log("clock extension (s)", dispute.clockExtension);
        console.log("permissionless proposals (0/1)", dispute.permissionlessProposals ? 1 : 0);
        console.log("challenge period (s)", config.challengePeriod);
        console.log("timelock delay (s)", config.timelockDelay);
        console.log("proposal bond (wei)", config.proposalBond);
        console.log("L2 chain id", config.l2ChainId);
        console.log("L2 genesis ETH locked (wei)", config.genesisEth);
        console.log("sequencing window (L1 blocks)", config.sequencingWindow);
        console.log("max sequencer drift (s)", config.maxSequencerDrift);
        console.log("genesis origin (L1 block)", config.genesisOrigin);
        console.log("genesis origin timestamp", config.genesisOriginTimestamp);
        console.log("L2 genesis timestamp", config.l2GenesisTimestamp);
        console.log("deployed after L1 block", block.number);
    }

    /// @notice The dispute configuration the environment describes (see the contract's notice).
    /// @return dispute The dispute configuration, not yet checked (`deploy` checks it).
    function readDisputeConfig() public view returns (DisputeConfig memory dispute) {
        Presets.Preset memory defaults = _preset();
        dispute.genesisOutputRoot = vm.envOr("GENESIS_OUTPUT_ROOT", bytes32(0));
        dispute.challengerBond = vm.envOr("CHALLENGER_BOND", defaults.challengerBond);
        dispute.maxClockDuration = _envUint64("MAX_CLOCK_DURATION", defaults.maxClockDuration);
        dispute.clockExtension = _envUint64("CLOCK_EXTENSION", defaults.clockExtension);
        dispute.permissionlessProposals = vm.envOr("PERMISSIONLESS_PROPOSALS", defaults.permissionlessProposals);
    }

    /// @notice The configuration the environment describes (see the contract's notice).
    /// @return config The configuration, not yet checked (`deploy` checks it).
    /// @dev    Not `view`: reading the genesis origin's header deploys an `L1HeaderReader` in the
    ///         script's simulation (before any broadcast, so never on chain).
    function readConfig() public returns (Config memory config) {
        Presets.Preset memory defaults = _preset();
        config.owner = vm.envAddress("OWNER");
        config.batcher = vm.envAddress("BATCHER");
        config.proposer = vm.envAddress("PROPOSER");
        config.l2ChainId = vm.envUint("L2_CHAIN_ID");
        config.challengePeriod = vm.envOr("CHALLENGE_PERIOD", defaults.challengePeriod);
        config.timelockDelay = vm.envOr("TIMELOCK_DELAY", defaults.timelockDelay);
        config.proposalBond = vm.envOr("PROPOSAL_BOND", defaults.proposalBond);
        config.sequencingWindow = _envUint64("SEQUENCING_WINDOW", defaults.sequencingWindow);
        config.maxSequencerDrift = _envUint64("MAX_SEQUENCER_DRIFT", defaults.maxSequencerDrift);

        config.genesisOrigin = _envUint64("GENESIS_ORIGIN", block.number == 0 ? 0 : block.number - 1);
        config.genesisOriginHash = vm.envOr("GENESIS_ORIGIN_HASH", blockhash(config.genesisOrigin));
        if (config.genesisOriginHash == bytes32(0)) revert Deploy_UnknownGenesisOriginHash(config.genesisOrigin);
        if (vm.envExists("GENESIS_ORIGIN_TIMESTAMP")) {
            config.genesisOriginTimestamp = _envUint64("GENESIS_ORIGIN_TIMESTAMP", 0);
        } else {
            config.genesisOriginTimestamp = _headerTimestamp(config.genesisOrigin, config.genesisOriginHash);
        }
        config.l2GenesisTimestamp = _envUint64("L2_GENESIS_TIMESTAMP", config.genesisOriginTimestamp);
        config.genesisEth = vm.envOr("GENESIS_ETH", uint256(0));
    }

    /// @notice Reverts unless `config` describes a deployment users can rely on.
    /// @param config The configuration.
    function check(Config memory config) public view {
        if (config.owner == address(0)) revert Deploy_ZeroAddress("OWNER");
        if (config.batcher == address(0)) revert Deploy_ZeroAddress("BATCHER");
        if (config.proposer == address(0)) revert Deploy_ZeroAddress("PROPOSER");
        if (config.l2ChainId == 0) revert Deploy_ZeroL2ChainId();
        if (config.l2ChainId == block.chainid) revert Deploy_L2ChainIdIsL1(config.l2ChainId);
        if (config.challengePeriod == 0) revert Deploy_ZeroChallengePeriod();
        if (config.timelockDelay <= config.challengePeriod) {
            revert Deploy_TimelockDelayTooShort(config.timelockDelay, config.challengePeriod);
        }
        if (config.sequencingWindow < 2) revert Deploy_SequencingWindowTooShort(config.sequencingWindow);
    }

    /// @notice Reverts unless `dispute` describes a playable dispute game.
    /// @param dispute The dispute configuration.
    function checkDispute(DisputeConfig memory dispute) public pure {
        if (dispute.genesisOutputRoot == bytes32(0)) revert Deploy_ZeroGenesisOutputRoot();
        if (dispute.challengerBond == 0) revert Deploy_ZeroChallengerBond();
        if (dispute.clockExtension == 0 || dispute.clockExtension >= dispute.maxClockDuration) {
            revert Deploy_BadClock(dispute.maxClockDuration, dispute.clockExtension);
        }
    }

    /// @notice Checks `config` and deploys without the fraud proof contracts: the timelock, then
    ///         each implementation and its proxy (ProxyAdmin owned by the timelock, initialized
    ///         in the proxy's constructor); the StateManager is the timelock's from the start.
    /// @param config The configuration.
    /// @return d The deployed contracts (`segmentStore`, `oneStepVerifier` and `disputeGame` zero).
    function deploy(Config memory config) public returns (Deployment memory d) {
        check(config);
        d = _deployCore(config, address(0));
    }

    /// @notice Checks both configurations and deploys everything: `deploy(config)`'s contracts,
    ///         then the `SegmentStore`, the `OneStepVerifier` and the `DisputeGame`, set in the StateManager with the
    ///         inbox (only blocks it recorded may be proposed) and the preset's
    ///         `permissionlessProposals` while the deployer owns it; then the
    ///         StateManager goes to the timelock, so the deployer keeps no power.
    /// @param config  The configuration.
    /// @param dispute The dispute configuration.
    /// @return d The deployed contracts.
    function deploy(Config memory config, DisputeConfig memory dispute) public returns (Deployment memory d) {
        check(config);
        checkDispute(dispute);
        address deployer = _effectiveSender();
        d = _deployCore(config, deployer);
        d.segmentStore = new SegmentStore(d.batchInbox, config.l2ChainId);
        d.oneStepVerifier = new OneStepVerifier(IDepositChain(address(d.l1Bridge)), d.segmentStore);
        d.disputeGame = new DisputeGame(
            d.stateManager,
            dispute.genesisOutputRoot,
            dispute.challengerBond,
            dispute.maxClockDuration,
            dispute.clockExtension
        );
        d.stateManager.setDisputeGame(address(d.disputeGame));
        d.stateManager.setOneStepVerifier(address(d.oneStepVerifier));
        d.stateManager.setBatchInbox(address(d.batchInbox));
        d.stateManager.setPermissionlessProposals(dispute.permissionlessProposals);
        d.stateManager.transferOwnership(address(d.timelock));
    }

    /// @dev The timelock, the StateManager (owned by `interimOwner` if non-zero, else by the
    ///      timelock), the bridge and the inbox.
    function _deployCore(Config memory config, address interimOwner) internal returns (Deployment memory d) {
        address[] memory owners = new address[](1);
        owners[0] = config.owner;
        // No admin: granting or revoking a role, or changing the delay, is itself a timelocked
        // operation of the timelock on itself.
        d.timelock = new TimelockController(config.timelockDelay, owners, owners, address(0));
        address timelock = address(d.timelock);

        d.stateManagerImplementation = address(new StateManager(config.challengePeriod, config.proposalBond));
        d.stateManager = StateManager(
            address(
                new TransparentUpgradeableProxy(
                    d.stateManagerImplementation,
                    timelock,
                    abi.encodeCall(
                        StateManager.initialize, (interimOwner == address(0) ? timelock : interimOwner, config.proposer)
                    )
                )
            )
        );

        // The bridge's configuration is immutable; its immutables name the StateManager's proxy,
        // so a StateManager upgrade needs no bridge upgrade. The proxy's constructor locks the
        // L2 genesis' ETH (paid with it), so no genesis balance is ever unbacked.
        L1Bridge l1BridgeImplementation = new L1Bridge(address(d.stateManager), config.l2ChainId, config.genesisEth);
        d.l1BridgeImplementation = address(l1BridgeImplementation);
        d.l1Bridge = L1Bridge(
            address(
                new TransparentUpgradeableProxy{value: config.genesisEth}(
                    d.l1BridgeImplementation, timelock, abi.encodeCall(l1BridgeImplementation.lockGenesisEth, ())
                )
            )
        );

        // The inbox checks batches against the bridge's deposit chain, so it comes after it.
        d.batchInboxImplementation = address(new BatchInbox());
        d.batchInbox = BatchInbox(
            address(
                new TransparentUpgradeableProxy(
                    d.batchInboxImplementation,
                    timelock,
                    abi.encodeCall(
                        BatchInbox.initialize,
                        (
                            timelock,
                            config.batcher,
                            address(d.l1Bridge),
                            config.sequencingWindow,
                            config.maxSequencerDrift,
                            config.genesisOrigin,
                            config.genesisOriginHash,
                            config.genesisOriginTimestamp,
                            config.l2GenesisTimestamp
                        )
                    )
                )
            )
        );
    }

    /// @dev The `PRESET` environment variable's preset (`production` by default).
    function _preset() internal view returns (Presets.Preset memory) {
        string memory preset = vm.envOr("PRESET", string("production"));
        if (keccak256(bytes(preset)) == keccak256("production")) return Presets.production();
        if (keccak256(bytes(preset)) == keccak256("devnet")) return Presets.devnet();
        revert Deploy_UnknownPreset(preset);
    }

    /// @dev The account the script's calls come from: the broadcaster while broadcasting, the
    ///      script itself when a test calls `deploy`. It owns the StateManager between its
    ///      initialization and the hand-over to the timelock.
    function _effectiveSender() internal returns (address) {
        (uint8 mode, address sender,) = VmCallers(address(vm)).readCallers();
        return mode == 1 || mode == 2 ? sender : address(this);
    }

    /// @dev A 64-bit environment number, `defaultValue` if unset.
    function _envUint64(string memory name, uint256 defaultValue) internal view returns (uint64) {
        uint256 value = vm.envOr(name, defaultValue);
        if (value > type(uint64).max) revert Deploy_ValueTooLarge(name, value);
        // casting to 'uint64' is safe because it was checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(value);
    }

    /// @dev The timestamp of L1 block `number`, read from the header the RPC serves for it
    ///      (checked against `hash`); reverts if there is no RPC to ask.
    function _headerTimestamp(uint256 number, bytes32 hash) internal returns (uint64) {
        bytes memory header;
        try vm.getRawBlockHeader(number) returns (bytes memory served) {
            header = served;
        } catch {
            revert Deploy_UnknownGenesisOriginTimestamp(number);
        }
        (, uint64 headerNumber, uint64 timestamp) = new L1HeaderReader().parse(header);
        if (keccak256(header) != hash || headerNumber != number) revert Deploy_GenesisHeaderMismatch(number);
        return timestamp;
    }
}
