// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {StateManager} from "src/L1/StateManager.sol";

/// @notice Under any mix of permissionless proposals from three proposers and removals, the
///         newest live proposal overall (`latestProposal`) and of each proposer
///         (`latestProposalOf`) are what a scan of every proposal finds.
contract StateManagerProposalListsTest is Test {
    StateManager manager;
    address owner = makeAddr("owner");
    address game = makeAddr("game");
    address[3] who;

    function setUp() public {
        manager = Proxies.deployStateManager(owner, makeAddr("p0"), 1 days, 1 ether);
        vm.startPrank(owner);
        manager.setDisputeGame(game);
        manager.setPermissionlessProposals(true);
        vm.stopPrank();
        who = [makeAddr("p0"), makeAddr("p1"), makeAddr("p2")];
    }

    function testFuzz_latestProposals_matchAScan_succeeds(uint256[40] memory ops) public {
        for (uint256 i; i < ops.length; ++i) {
            uint256 op = ops[i];
            if (op % 3 != 0 || manager.proposalCount() == 0) {
                uint256 a = (op >> 8) % 3;
                (bool f, uint256 idx) = manager.latestProposalOf(who[a]);
                uint256 b = f ? manager.proposals(idx).l2BlockNumber + 1 : 1;
                vm.deal(who[a], 1 ether);
                vm.startPrank(who[a]);
                manager.depositBond{value: 1 ether}();
                manager.submitStateRoot(
                    keccak256(abi.encode(i)), bytes32(uint256(1)), abi.encode(uint64(b), bytes32(uint256(2)))
                );
                vm.stopPrank();
            } else {
                uint256 idx = (op >> 8) % manager.proposalCount();
                vm.prank(game);
                manager.removeProposal(idx, address(1));
            }
            _check();
        }
    }

    function _check() internal view {
        uint256 n = manager.proposalCount();
        // global
        int256 hi = -1;
        int256[3] memory own = [int256(-1), -1, -1];
        for (uint256 k; k < n; ++k) {
            StateManager.Proposal memory p = manager.proposals(k);
            if (p.removed) continue;
            hi = int256(k);
            for (uint256 a; a < 3; ++a) {
                if (p.proposer == who[a]) own[a] = int256(k);
            }
        }
        if (hi >= 0) {
            (uint256 idx,) = manager.latestProposal();
            assertEq(idx, uint256(hi), "global head");
        }
        for (uint256 a; a < 3; ++a) {
            (bool f, uint256 idx) = manager.latestProposalOf(who[a]);
            if (own[a] < 0) {
                assertFalse(f, "own none");
            } else {
                assertTrue(f, "own found");
                assertEq(idx, uint256(own[a]), "own head");
            }
        }
    }
}
