// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {Vm} from "test/utils/Test.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";
import {Proxies} from "test/utils/Proxies.sol";

/// @notice Deploys the bridge tests' contracts as production runs them: the StateManager and
///         the L1Bridge behind OpenZeppelin `TransparentUpgradeableProxy`s, the L2Bridge as its
///         runtime code at the predeploy with the genesis storage. Every test that needs a
///         StateManager goes through `deployStateManager` and `propose`, so a change of the
///         StateManager's API is absorbed here. Proposals carry output roots
///         (`Withdrawals.OutputRoot`); `outputRoot` is the one the fixtures use for a state root
///         at an L2 block.
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

    /// @notice The output root the fixtures propose for `stateRoot` at L2 block `l2BlockNumber`
    ///         (what `rollup_getWithdrawalProof` at that block serves): version 1, a block hash
    ///         that depends on the block number alone (so a proof against another state root at
    ///         the same block fails on the root, not on the hash) and some derivation cursor.
    function outputRoot(bytes32 stateRoot, uint64 l2BlockNumber) internal pure returns (Withdrawals.OutputRoot memory) {
        return Withdrawals.OutputRoot({
            version: Withdrawals.OUTPUT_ROOT_VERSION,
            l2BlockNumber: l2BlockNumber,
            stateRoot: stateRoot,
            l2BlockHash: keccak256(abi.encode("l2 block", l2BlockNumber)),
            inboxRecord: l2BlockNumber / 3,
            blockInRecord: l2BlockNumber % 3,
            l1Block: 1_000 + uint256(l2BlockNumber)
        });
    }

    /// @notice `proof` with its output root set to `outputRoot(proof.output.stateRoot,
    ///         l2BlockNumber)`: a trie proof (`TrieBuilder` fills in only the state root) made
    ///         into a proof against the fixture proposal of that block. Changes `proof` in place.
    function atBlock(Withdrawals.WithdrawalProof memory proof, uint64 l2BlockNumber)
        internal
        pure
        returns (Withdrawals.WithdrawalProof memory)
    {
        proof.output = outputRoot(proof.output.stateRoot, l2BlockNumber);
        return proof;
    }

    /// @notice Proposes the output root of `stateRoot` at L2 block `l2BlockNumber`
    ///         (`outputRoot`) as the manager's proposer, funding the proposal's bond first.
    /// @return index The proposal's index.
    function propose(StateManager manager, bytes32 stateRoot, uint64 l2BlockNumber) internal returns (uint256 index) {
        Withdrawals.OutputRoot memory output = outputRoot(stateRoot, l2BlockNumber);
        return submit(manager, Withdrawals.hashOutputRoot(output), l2BlockNumber, output.l2BlockHash);
    }

    /// @notice Submits `root` for L2 block (`l2BlockNumber`, `l2BlockHash`) as the manager's
    ///         proposer, funding the proposal's bond first; nothing ties the root to the block.
    /// @return index The proposal's index.
    function submit(StateManager manager, bytes32 root, uint64 l2BlockNumber, bytes32 l2BlockHash)
        internal
        returns (uint256 index)
    {
        address proposer = manager.proposer();
        uint256 bond = manager.proposalBond();
        index = manager.proposalCount();
        if (bond != 0) {
            VM.deal(proposer, proposer.balance + bond);
            VM.prank(proposer);
            manager.depositBond{value: bond}();
        }
        VM.prank(proposer);
        manager.submitStateRoot(root, keccak256(abi.encode("batch", index)), abi.encode(l2BlockNumber, l2BlockHash));
    }

    /// @notice An L1Bridge behind a proxy whose ProxyAdmin is owned by `proxyOwner`, for an L2
    ///         genesis without ETH balances.
    function deployL1Bridge(address stateManager, uint256 l2ChainId, address proxyOwner) internal returns (L1Bridge) {
        return deployL1Bridge(stateManager, l2ChainId, proxyOwner, 0);
    }

    /// @notice An L1Bridge behind a proxy whose ProxyAdmin is owned by `proxyOwner`, as deployed
    ///         in production: the proxy's constructor locks `genesisEth` (paid by the caller).
    function deployL1Bridge(address stateManager, uint256 l2ChainId, address proxyOwner, uint256 genesisEth)
        internal
        returns (L1Bridge)
    {
        L1Bridge implementation = new L1Bridge(stateManager, l2ChainId, genesisEth);
        return L1Bridge(
            address(
                new TransparentUpgradeableProxy{value: genesisEth}(
                    address(implementation), proxyOwner, abi.encodeCall(implementation.lockGenesisEth, ())
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
