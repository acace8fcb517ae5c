// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {Vm} from "test/utils/Test.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Proxies} from "test/utils/Proxies.sol";

/// @notice Deploys the bridge tests' contracts as production runs them: the StateManager and
///         the L1Bridge behind OpenZeppelin `TransparentUpgradeableProxy`s, the L2Bridge as its
///         runtime code at the predeploy with the genesis storage. Every test that needs a
///         StateManager goes through `deployStateManager` and `propose`, so a change of the
///         StateManager's API is absorbed here.
library BridgeFixtures {
    /// @dev `L2Bridge` storage slot of `l1Bridge`.
    bytes32 internal constant L2_BRIDGE_L1_BRIDGE_SLOT = bytes32(uint256(2));

    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice A StateManager behind a proxy (ProxyAdmin owned by `owner`), initialized with
    ///         `owner` and `proposer`.
    function deployStateManager(address owner, address proposer, uint256 challengePeriod, uint256 proposalBond)
        internal
        returns (StateManager)
    {
        return Proxies.deployStateManager(owner, proposer, challengePeriod, proposalBond);
    }

    /// @notice Proposes `stateRoot` for L2 block `l2BlockNumber` as the manager's proposer,
    ///         funding the proposal's bond first.
    /// @return index The proposal's index.
    function propose(StateManager manager, bytes32 stateRoot, uint64 l2BlockNumber) internal returns (uint256 index) {
        address proposer = manager.proposer();
        uint256 bond = manager.proposalBond();
        index = manager.proposalCount();
        if (bond != 0) {
            VM.deal(proposer, proposer.balance + bond);
            VM.prank(proposer);
            manager.depositBond{value: bond}();
        }
        VM.prank(proposer);
        manager.submitStateRoot(
            stateRoot, keccak256(abi.encode("batch", index)), abi.encode(l2BlockNumber, keccak256(abi.encode(index)))
        );
    }

    /// @notice An L1Bridge behind a proxy whose ProxyAdmin is owned by `proxyOwner`, without an
    ///         initializer (as deployed in production). OpenZeppelin's proxy refuses empty
    ///         initialization data, so its constructor makes a read-only call instead.
    function deployL1Bridge(address stateManager, uint256 l2ChainId, address proxyOwner) internal returns (L1Bridge) {
        L1Bridge implementation = new L1Bridge(stateManager, l2ChainId);
        return L1Bridge(
            address(
                new TransparentUpgradeableProxy(
                    address(implementation), proxyOwner, abi.encodeCall(implementation.l2ChainId, ())
                )
            )
        );
    }

    /// @notice The L2Bridge as the L2 genesis holds it: runtime code at the predeploy, `l1Bridge`
    ///         written into slot 2.
    function etchL2Bridge(address l1Bridge) internal returns (L2Bridge) {
        VM.etch(Predeploys.L2_BRIDGE, address(new L2Bridge()).code);
        VM.store(Predeploys.L2_BRIDGE, L2_BRIDGE_L1_BRIDGE_SLOT, bytes32(uint256(uint160(l1Bridge))));
        return L2Bridge(Predeploys.L2_BRIDGE);
    }
}
