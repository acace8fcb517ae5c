// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script, console} from "test/utils/Test.sol";
import {BatchInbox} from "src/L1/BatchInbox.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {DevToken} from "src/L1/DevToken.sol";

/// @title Deploy
/// @notice Deploys the rollup's L1 contracts. Parameters come from the environment:
///         OWNER, BATCHER, PROPOSER (default: the broadcasting sender), CHALLENGE_PERIOD
///         (seconds, default 60), PROPOSAL_BOND (wei, default 0.1 ether), DEPLOY_DEV_TOKEN
///         (default false; devnet only).
/// @dev    forge script script/Deploy.s.sol --rpc-url $L1_RPC --broadcast --private-key $KEY
contract Deploy is Script {
    /// @notice Deploys and logs the addresses.
    /// @return inbox   The BatchInbox.
    /// @return manager The StateManager.
    /// @return bridge  The L1Bridge.
    function run() external returns (BatchInbox inbox, StateManager manager, L1Bridge bridge) {
        address owner = vm.envOr("OWNER", msg.sender);
        address batcher = vm.envOr("BATCHER", msg.sender);
        address proposer = vm.envOr("PROPOSER", msg.sender);
        uint256 challengePeriod = vm.envOr("CHALLENGE_PERIOD", uint256(60));
        uint256 proposalBond = vm.envOr("PROPOSAL_BOND", uint256(0.1 ether));
        bool deployDevToken = vm.envOr("DEPLOY_DEV_TOKEN", false);

        vm.startBroadcast();
        inbox = new BatchInbox(owner, batcher);
        manager = new StateManager(owner, proposer, challengePeriod, proposalBond);
        bridge = new L1Bridge(address(manager));
        DevToken devToken;
        if (deployDevToken) devToken = new DevToken();
        vm.stopBroadcast();

        console.log("BatchInbox", address(inbox));
        console.log("StateManager", address(manager));
        console.log("L1Bridge", address(bridge));
        if (deployDevToken) console.log("DevToken", address(devToken));
    }
}
