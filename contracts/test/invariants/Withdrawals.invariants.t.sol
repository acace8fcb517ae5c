// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {DevToken} from "src/L1/DevToken.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @dev Drives the whole withdrawal life cycle at random: deposits, proposals of single-leaf
///      tries holding a withdrawal (new or an earlier one again), proofs, time, finalizations,
///      bond returns and removals. It is the proposer and the dispute game. Every call it makes
///      either succeeds or reverts with one of the errors its state allows; anything else fails
///      the run.
contract WithdrawalsHandler is Test {
    L1Bridge internal immutable bridge;
    StateManager internal immutable manager;
    DevToken internal immutable token;
    address internal immutable l2Token;
    address[] internal actors;

    Withdrawals.Withdrawal[] internal withdrawals;
    /// @dev Proposal index -> index into `withdrawals` of the withdrawal its trie holds.
    uint256[] internal proposalWithdrawal;
    uint64 internal nextL2Block = 1;

    mapping(address l1Token => uint256) public ghostDeposited;
    mapping(address l1Token => uint256) public ghostPaid;
    mapping(bytes32 withdrawalId => uint256) public ghostFinalizations;
    uint256 public ghostDoubleFinalizations;
    uint256 public ghostBondsIn;
    uint256 public ghostBondsOut;
    uint256 public ghostFinalized;

    constructor(L1Bridge bridge_, StateManager manager_, DevToken token_) {
        bridge = bridge_;
        manager = manager_;
        token = token_;
        l2Token = bridge_.predictL2Token(address(token_));
        actors.push(makeAddr("alice"));
        actors.push(makeAddr("bob"));
        actors.push(makeAddr("carol"));
        for (uint256 i; i < actors.length; ++i) {
            vm.prank(actors[i]);
            token_.approve(address(bridge_), type(uint256).max);
        }
    }

    function proposalCount() external view returns (uint256) {
        return proposalWithdrawal.length;
    }

    function withdrawalCount() external view returns (uint256) {
        return withdrawals.length;
    }

    // ------------------------------------------------------------------ actions

    function depositEth(uint256 actorSeed, uint256 amount) external {
        address actor = actors[actorSeed % actors.length];
        amount = bound(amount, 1, 1_000 ether);
        _ensureBudget(21_000);
        vm.deal(actor, actor.balance + amount);
        vm.prank(actor);
        bridge.deposit{value: amount}(address(0), address(0), amount, 21_000);
        ghostDeposited[address(0)] += amount;
    }

    function depositErc20(uint256 actorSeed, uint256 amount) external {
        address actor = actors[actorSeed % actors.length];
        amount = bound(amount, 1, 1_000 ether);
        _ensureBudget(900_000);
        token.mint(actor, amount);
        vm.prank(actor);
        bridge.deposit(address(token), l2Token, amount, 900_000);
        ghostDeposited[address(token)] += amount;
    }

    /// @dev Proposes a single-leaf trie holding a new withdrawal, or (1 in 4) an earlier one.
    function propose(uint256 actorSeed, uint256 amount, bool erc20, uint256 reuseSeed) external {
        uint256 w;
        if (withdrawals.length != 0 && reuseSeed % 4 == 0) {
            w = reuseSeed % withdrawals.length;
        } else {
            address to = actors[actorSeed % actors.length];
            amount = bound(amount, 1, 300 ether);
            withdrawals.push(
                Withdrawals.Withdrawal({
                    nonce: withdrawals.length,
                    from: to,
                    to: to,
                    l1Token: erc20 ? address(token) : address(0),
                    l2Token: erc20 ? l2Token : address(0),
                    amount: amount
                })
            );
            w = withdrawals.length - 1;
        }
        (bytes32 root,) = TrieBuilder.proveSingle(withdrawals[w]);
        uint256 bond = manager.proposalBond();
        vm.deal(address(this), address(this).balance + bond);
        manager.submitStateRoot{value: bond}(root, keccak256(abi.encode(w)), abi.encode(nextL2Block++, root));
        proposalWithdrawal.push(w);
        ghostBondsIn += bond;
    }

    function prove(uint256 proposalSeed, address caller) external {
        if (proposalWithdrawal.length == 0) return;
        uint256 index = proposalSeed % proposalWithdrawal.length;
        Withdrawals.Withdrawal memory w = withdrawals[proposalWithdrawal[index]];
        (, Withdrawals.WithdrawalProof memory proof) = TrieBuilder.proveSingle(w);
        vm.prank(caller);
        try bridge.proveWithdrawal(index, w, proof) returns (bytes32 id) {
            assertEq(id, Withdrawals.hash(w), "id != hash");
            assertFalse(manager.proposals(index).removed, "proven against a removed proposal");
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == L1Bridge.L1Bridge_ProposalRemoved.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyProven.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector,
                "prove: unexpected revert"
            );
        }
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 2 hours));
        vm.roll(block.number + 1);
    }

    function finalize(uint256 withdrawalSeed, address caller) external {
        if (withdrawals.length == 0) return;
        Withdrawals.Withdrawal memory w = withdrawals[withdrawalSeed % withdrawals.length];
        bytes32 id = Withdrawals.hash(w);
        vm.prank(caller);
        try bridge.finalizeWithdrawal(id, w.to, w.amount) {
            uint256 index = bridge.provenWithdrawals(id).proposalIndex;
            assertTrue(manager.isFinal(index), "finalized against a proposal that is not final");
            if (ghostFinalizations[id] != 0) ++ghostDoubleFinalizations;
            ++ghostFinalizations[id];
            ++ghostFinalized;
            ghostPaid[w.l1Token] += w.amount;
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == L1Bridge.L1Bridge_WithdrawalNotProven.selector
                    || err == L1Bridge.L1Bridge_ProposalRemoved.selector
                    || err == L1Bridge.L1Bridge_ProposalNotFinal.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector
                    || err == L1Bridge.L1Bridge_InsufficientLocked.selector,
                "finalize: unexpected revert"
            );
            if (err == L1Bridge.L1Bridge_InsufficientLocked.selector) {
                assertGt(w.amount, bridge.deposits(w.l1Token), "InsufficientLocked with enough locked");
            }
        }
    }

    function returnBond(uint256 proposalSeed, address caller) external {
        if (proposalWithdrawal.length == 0) return;
        uint256 index = proposalSeed % proposalWithdrawal.length;
        uint256 bond = manager.proposals(index).bond;
        vm.prank(caller);
        try manager.returnBond(index) {
            ghostBondsOut += bond;
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == StateManager.StateManager_ProposalNotFinal.selector
                    || err == StateManager.StateManager_BondAlreadyReturned.selector
                    || err == StateManager.StateManager_ProposalRemoved.selector,
                "returnBond: unexpected revert"
            );
        }
    }

    function removeProposal(uint256 proposalSeed, uint256 actorSeed) external {
        if (proposalWithdrawal.length == 0) return;
        uint256 index = proposalSeed % proposalWithdrawal.length;
        uint256 bond = manager.proposals(index).bond;
        try manager.removeProposal(index, actors[actorSeed % actors.length]) {
            ghostBondsOut += bond;
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == StateManager.StateManager_ProposalRemoved.selector
                    || err == StateManager.StateManager_ProposalFinal.selector,
                "removeProposal: unexpected revert"
            );
        }
    }

    /// @dev Bonds returned to the handler (it is the proposer).
    receive() external payable {}

    function _ensureBudget(uint32 gasLimit) internal {
        if (bridge.blockDepositGasUsed() + gasLimit > bridge.DEPOSIT_GAS_PER_L1_BLOCK()) {
            vm.roll(block.number + 1);
        }
    }
}

contract WithdrawalsInvariants is Test {
    L1Bridge internal bridge;
    StateManager internal manager;
    DevToken internal token;
    WithdrawalsHandler internal handler;

    function setUp() public {
        token = new DevToken();
        // The handler becomes proposer and dispute game once deployed.
        manager = new StateManager(address(this), address(1), 1 hours, 0.1 ether);
        bridge = new L1Bridge(address(manager));
        handler = new WithdrawalsHandler(bridge, manager, token);
        manager.setProposer(address(handler));
        manager.setDisputeGame(address(handler));

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = WithdrawalsHandler.depositEth.selector;
        selectors[1] = WithdrawalsHandler.depositErc20.selector;
        selectors[2] = WithdrawalsHandler.propose.selector;
        selectors[3] = WithdrawalsHandler.prove.selector;
        selectors[4] = WithdrawalsHandler.warp.selector;
        selectors[5] = WithdrawalsHandler.finalize.selector;
        selectors[6] = WithdrawalsHandler.returnBond.selector;
        selectors[7] = WithdrawalsHandler.removeProposal.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Per token, the bridge never pays out more than was deposited.
    function invariant_paidNeverExceedsDeposited() public view {
        assertLe(handler.ghostPaid(address(0)), handler.ghostDeposited(address(0)), "ETH paid > deposited");
        assertLe(handler.ghostPaid(address(token)), handler.ghostDeposited(address(token)), "token paid > deposited");
    }

    /// @dev The bridge's balances equal its accounting: deposited minus paid out, per token.
    function invariant_balancesMatchAccounting() public view {
        uint256 eth = handler.ghostDeposited(address(0)) - handler.ghostPaid(address(0));
        uint256 tokens = handler.ghostDeposited(address(token)) - handler.ghostPaid(address(token));
        assertEq(address(bridge).balance, eth, "ETH balance != deposited - paid");
        assertEq(bridge.deposits(address(0)), eth, "deposits[ETH] != deposited - paid");
        assertEq(token.balanceOf(address(bridge)), tokens, "token balance != deposited - paid");
        assertEq(bridge.deposits(address(token)), tokens, "deposits[token] != deposited - paid");
    }

    /// @dev No withdrawal is ever paid out twice.
    function invariant_noDoubleFinalization() public view {
        assertEq(handler.ghostDoubleFinalizations(), 0, "a withdrawal finalized twice");
    }

    /// @dev Bonds are conserved: the StateManager holds exactly the bonds of proposals neither
    ///      returned nor removed.
    function invariant_bondsConserved() public view {
        uint256 held;
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) held += p.bond;
        }
        assertEq(address(manager).balance, held, "StateManager balance != unsettled bonds");
        assertEq(held, handler.ghostBondsIn() - handler.ghostBondsOut(), "bonds in - out != unsettled bonds");
    }

    /// @dev A removed proposal is never final, and never has its bond returned.
    function invariant_removedNeverFinal() public view {
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (p.removed) {
                assertFalse(manager.isFinal(i), "removed proposal is final");
                assertFalse(p.bondReturned, "removed proposal's bond returned");
            }
        }
    }
}
