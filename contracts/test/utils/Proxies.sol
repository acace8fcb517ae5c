// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {Vm} from "test/utils/Test.sol";

/// @notice Deploys the proxied L1 contracts for tests, as the deploy script does (implementation,
///         then a TransparentUpgradeableProxy that initializes it), without a timelock.
library Proxies {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice The ProxyAdmin of `proxy`: the one account whose calls the proxy never forwards
    ///         (fuzzed callers must exclude it).
    function adminOf(address proxy) internal view returns (address) {
        return address(uint160(uint256(VM.load(proxy, ERC1967Utils.ADMIN_SLOT))));
    }

    /// @notice The implementation behind `proxy`.
    function implementationOf(address proxy) internal view returns (address) {
        return address(uint160(uint256(VM.load(proxy, ERC1967Utils.IMPLEMENTATION_SLOT))));
    }

    /// @notice A StateManager behind a proxy whose ProxyAdmin belongs to `proxyAdminOwner`.
    function deployStateManager(
        address proxyAdminOwner,
        address owner,
        address proposer,
        uint256 challengePeriod,
        uint256 proposalBond
    ) internal returns (StateManager) {
        StateManager implementation = new StateManager(challengePeriod, proposalBond);
        return StateManager(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), proxyAdminOwner, abi.encodeCall(StateManager.initialize, (owner, proposer))
                )
            )
        );
    }

    /// @notice A StateManager behind a proxy, its ProxyAdmin owned by `owner`.
    function deployStateManager(address owner, address proposer, uint256 challengePeriod, uint256 proposalBond)
        internal
        returns (StateManager)
    {
        return deployStateManager(owner, owner, proposer, challengePeriod, proposalBond);
    }

    /// @notice What a BatchInbox is initialized with (`BatchInbox.initialize`'s parameters).
    struct InboxConfig {
        address owner;
        address batcher;
        address bridge;
        uint64 sequencingWindow;
        uint64 maxSequencerDrift;
        uint64 genesisOrigin;
        bytes32 genesisOriginHash;
        uint64 genesisOriginTimestamp;
        uint64 l2GenesisTimestamp;
    }

    /// @notice The `BatchInbox.initialize` call `config` describes.
    function inboxInitCall(InboxConfig memory config) internal pure returns (bytes memory) {
        return abi.encodeCall(
            BatchInbox.initialize,
            (
                config.owner,
                config.batcher,
                config.bridge,
                config.sequencingWindow,
                config.maxSequencerDrift,
                config.genesisOrigin,
                config.genesisOriginHash,
                config.genesisOriginTimestamp,
                config.l2GenesisTimestamp
            )
        );
    }

    /// @notice A BatchInbox behind a proxy initialized with `config`, its ProxyAdmin owned by
    ///         `config.owner`.
    function deployBatchInbox(InboxConfig memory config) internal returns (BatchInbox) {
        return BatchInbox(
            address(new TransparentUpgradeableProxy(address(new BatchInbox()), config.owner, inboxInitCall(config)))
        );
    }
}
