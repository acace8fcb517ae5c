// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DisputeGameBase} from "test/dispute/DisputeGame.t.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {StubInbox} from "test/dispute/StubInbox.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {DisputeGame} from "src/dispute/DisputeGame.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @dev A proposer caught lying races an honest challenger to remove its own proposal: from a
///      second account it opens a game it plays on both sides and throws it within a few blocks
///      (the real OneStepVerifier refuses the padding step from a made-up output root). Before
///      removals burned half the bond, the liar's two accounts got back everything they paid
///      and the honest challenger only its own bond: a false proposal cost its proposer gas.
contract DisputeGameSelfChallengeTest is DisputeGameBase {
    function _madeUp(uint256 number) internal pure returns (Withdrawals.OutputRoot memory) {
        return BridgeFixtures.outputRoot(keccak256(abi.encode("made up", number)), uint64(number));
    }

    /// @dev Plays game `id` to its step: `liar` claims `claim` everywhere, `picker` agrees.
    function _playTo(uint256 id, address liar, address picker, bytes32 claim) internal {
        while (!_atStep(id)) {
            DisputeGame.Game memory g = _g(id);
            if (g.proposerToMove) {
                vm.prank(liar);
                dg.bisect(id, g.l2Block, g.lo + (g.hi - g.lo) / 2, claim);
            } else {
                vm.prank(picker);
                dg.pick(id, g.l2Block, g.lo + (g.hi - g.lo) / 2, g.midClaim, true);
            }
        }
    }

    /// @dev `by` steps game `id` where it stands, with `witness`.
    function _stepAsIs(uint256 id, address by, bytes memory witness) internal {
        (uint64 atBlock, uint64 atPosition) = _stepAt(dg, id);
        vm.prank(by);
        dg.step(id, atBlock, atPosition, witness);
    }

    function _selfRemoval(bool permissionless) internal {
        address osv = address(new StubInbox().verifier(IDepositChain(address(0xB41D6E))));
        vm.startPrank(owner);
        manager.setOneStepVerifier(osv);
        manager.setPermissionlessProposals(permissionless);
        vm.stopPrank();
        address liar = permissionless ? _account("liar") : proposer;
        address second = _account("second");
        address honest = _account("honest");

        uint256 index = _proposeRoot(liar, 1, keccak256("false output root"), 0);
        uint256 gameA = _challenge(honest, index);
        uint256 gameB = _challenge(second, index);
        uint256 liarPaid = BOND + CHALLENGER_BOND;
        uint256 liarBefore = manager.bondBalance(liar);

        bytes32 madeUp = Withdrawals.hashOutputRoot(_madeUp(1));
        _playTo(gameB, liar, second, madeUp);
        _stepAsIs(gameB, second, abi.encode(uint8(1), abi.encode(_madeUp(1))));
        assertTrue(_g(gameB).status == DisputeGame.Status.ChallengerWon);
        assertTrue(manager.proposals(index).removed);
        // The honest game ends at once, its bond refunded.
        dg.resolve(gameA);
        assertEq(dg.credit(honest), CHALLENGER_BOND);

        uint256 liarBack =
            manager.bondBalance(liar) - liarBefore + manager.bondBalance(second) + dg.credit(second) + dg.credit(liar);
        assertEq(liarBack, liarPaid - (BOND - REWARD), "the liar's side loses the burned half of its bond");
        assertEq(manager.burnedBonds(), BOND - REWARD);
        _assertConserved();
    }

    function test_selfRemoval_permissionless_losesHalfTheBond_succeeds() public {
        _selfRemoval(true);
    }

    function test_selfRemoval_allowlisted_losesHalfTheBond_succeeds() public {
        _selfRemoval(false);
    }
}
