// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {Proxies} from "test/utils/Proxies.sol";
import {Derivation} from "test/utils/Derivation.sol";
import {TrieBuilder} from "test/utils/TrieBuilder.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {DevToken} from "src/L1/DevToken.sol";
import {L2Bridge} from "src/L2/L2Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {AddressAliasing} from "src/libraries/AddressAliasing.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @dev Drives both layers at random, in one EVM: L1 deposits (`deposit`, `depositTo`, from
///      EOAs and aliased contracts) run on the L2 bridge as derivation would (some with too
///      little gas, so they become refund withdrawals), L2 withdrawals (`withdraw`, `withdrawTo`),
///      forced withdrawals from L1 (some overdrawn, so they fail on L2), proposals of multi-leaf
///      tries holding recorded withdrawals among unrelated leaves, proofs by several provers
///      (each preceded by forgery attempts: a withdrawal not in the trie, another withdrawal's
///      proof, an output root of another state or derivation cursor, a tampered sibling or value), time, finalizations (own proof or someone else's),
///      bond returns and removals. It is the proposer and the dispute game. Every call either
///      succeeds or fails in a way its state allows; anything else fails the run.
contract WithdrawalsHandler is Test {
    L1Bridge internal immutable bridge;
    StateManager internal immutable manager;
    DevToken internal immutable token;
    L2Bridge internal immutable l2;
    address internal immutable l2Token;
    address[] internal actors;
    address[] internal provers;

    /// @dev Every withdrawal the L2 bridge recorded, and its id.
    Withdrawals.Withdrawal[] internal withdrawals;
    bytes32[] internal ids;
    /// @dev Per proposal: indices into `withdrawals` its trie holds, and its unrelated leaves.
    uint256[][] internal members;
    bytes32[][] internal others;
    /// @dev Per proposal: its L2 block (its output root is the fixtures' for its trie's root).
    uint64[] internal l2Blocks;
    uint64 internal nextL2Block = 1;
    /// @dev (withdrawal index, prover index) of every successful proof, to finalize often.
    uint256[2][] internal proven;

    mapping(address l1Token => uint256) public ghostDeposited;
    mapping(address l1Token => uint256) public ghostPaid;
    /// @dev Sum of the amounts of recorded withdrawals not paid out yet.
    mapping(address l1Token => uint256) public ghostPending;
    /// @dev ETH credited on L2 by deposits and not withdrawn on L2 yet, in total and per account.
    uint256 public ghostL2Eth;
    mapping(address account => uint256) internal l2Eth;
    mapping(bytes32 withdrawalId => uint256) public ghostFinalizations;
    uint256 public ghostDoubleFinalizations;
    uint256 public ghostFinalizedUnsent;
    uint256 public ghostForgeriesAccepted;
    uint256 public ghostForgeryAttempts;
    uint256 public ghostMessages;
    uint256 public ghostRefunds;
    uint256 public ghostFinalized;
    /// @dev The proposal each successful finalization was proven against.
    uint256[] internal finalizedAgainst;

    constructor(L1Bridge bridge_, StateManager manager_, DevToken token_, L2Bridge l2_) {
        bridge = bridge_;
        manager = manager_;
        token = token_;
        l2 = l2_;
        l2Token = bridge_.predictL2Token(address(token_));
        actors.push(makeAddr("alice"));
        actors.push(makeAddr("bob"));
        actors.push(makeAddr("carol"));
        for (uint256 i; i < actors.length; ++i) {
            vm.prank(actors[i]);
            token_.approve(address(bridge_), type(uint256).max);
            provers.push(actors[i]);
        }
        provers.push(makeAddr("relayer"));
    }

    // ------------------------------------------------------------------ views for invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }

    function withdrawalCount() external view returns (uint256) {
        return withdrawals.length;
    }

    function provenCount() external view returns (uint256) {
        return proven.length;
    }

    function withdrawalId(uint256 i) external view returns (bytes32) {
        return ids[i];
    }

    function finalizedCount() external view returns (uint256) {
        return finalizedAgainst.length;
    }

    function finalizedProposal(uint256 i) external view returns (uint256) {
        return finalizedAgainst[i];
    }

    // ------------------------------------------------------------------ L1 -> L2

    function depositEth(uint256 actorSeed, uint256 amount, bool asContract, uint256 toSeed, bool chooseRecipient)
        external
    {
        (address caller, address origin, address identity) = _caller(actorSeed, asContract);
        address to = chooseRecipient ? actors[toSeed % actors.length] : identity;
        amount = bound(amount, 1, 1_000 ether);
        _ensureBudget(21_000);
        vm.deal(caller, caller.balance + amount);
        vm.recordLogs();
        vm.prank(caller, origin);
        if (chooseRecipient) bridge.depositTo{value: amount}(address(0), address(0), amount, 21_000, to);
        else bridge.deposit{value: amount}(address(0), address(0), amount, 21_000);
        ghostDeposited[address(0)] += amount;
        ++ghostMessages;
        assertTrue(Derivation.applyMessage(_lastBridgeLog()), "ETH deposit failed on L2");
        l2Eth[to] += amount;
        ghostL2Eth += amount;
    }

    /// @dev An ERC-20 deposit, run on L2 with its own gas limit, or (`starve`) with only 85,000
    ///      gas so that the credit fails and becomes a refund withdrawal to the L1 caller.
    function depositErc20(
        uint256 actorSeed,
        uint256 amount,
        bool asContract,
        uint256 toSeed,
        bool chooseRecipient,
        bool starve
    ) external {
        amount = bound(amount, 1, 1_000 ether);
        Vm.Log memory log = _depositErc20OnL1(actorSeed, amount, asContract, toSeed, chooseRecipient);
        uint256 nonce = l2.withdrawalNonce();
        uint256 supply = _l2Supply();
        if (starve) {
            vm.prank(Predeploys.DEPOSITOR);
            (bool ok,) = address(l2).call{gas: 85_000}(_finalizeDepositCall(log));
            assertTrue(ok, "finalizeDeposit reverted");
            assertEq(l2.withdrawalNonce(), nonce + 1, "starved deposit not refunded");
            assertEq(_l2Supply(), supply, "starved deposit minted");
            (,,,, address refundTo,) = abi.decode(log.data, (address, address, uint256, uint32, address, bytes));
            _record(Withdrawals.Withdrawal(nonce, Predeploys.L2_BRIDGE, refundTo, address(token), l2Token, amount));
            ++ghostRefunds;
        } else {
            assertTrue(Derivation.applyMessage(log), "finalizeDeposit reverted");
            assertEq(l2.withdrawalNonce(), nonce, "deposit with its gas limit refunded");
            assertEq(_l2Supply(), supply + amount, "deposit not minted");
        }
    }

    function _depositErc20OnL1(uint256 actorSeed, uint256 amount, bool asContract, uint256 toSeed, bool chooseRecipient)
        internal
        returns (Vm.Log memory)
    {
        (address caller, address origin, address identity) = _caller(actorSeed, asContract);
        address to = chooseRecipient ? actors[toSeed % actors.length] : identity;
        uint32 gasLimit = uint32(bridge.MIN_ERC20_DEPOSIT_GAS());
        _ensureBudget(gasLimit);
        token.mint(caller, amount);
        vm.recordLogs();
        vm.prank(caller, origin);
        if (chooseRecipient) bridge.depositTo(address(token), l2Token, amount, gasLimit, to);
        else bridge.deposit(address(token), l2Token, amount, gasLimit);
        ghostDeposited[address(token)] += amount;
        ++ghostMessages;
        return _lastBridgeLog();
    }

    /// @dev The `finalizeDeposit` call derivation builds from the deposit log `log`.
    function _finalizeDepositCall(Vm.Log memory log) internal pure returns (bytes memory) {
        (address l1Token, address l2Token_, uint256 amount,, address refundTo, bytes memory metadata) =
            abi.decode(log.data, (address, address, uint256, uint32, address, bytes));
        return abi.encodeCall(
            L2Bridge.finalizeDeposit,
            (
                l1Token,
                l2Token_,
                address(uint160(uint256(log.topics[2]))),
                address(uint160(uint256(log.topics[3]))),
                amount,
                refundTo,
                metadata
            )
        );
    }

    // ------------------------------------------------------------------ withdrawals

    function withdrawL2(uint256 actorSeed, uint256 amount, bool erc20, uint256 toSeed, bool chooseRecipient) external {
        address from = actors[actorSeed % actors.length];
        address to = chooseRecipient ? _recipient(toSeed) : from;
        uint256 available = erc20 ? _l2Balance(from) : l2Eth[from];
        if (available == 0) return;
        amount = bound(amount, 1, available);
        uint256 nonce = l2.withdrawalNonce();
        vm.prank(from);
        if (erc20) l2.withdrawTo(address(token), l2Token, amount, to);
        else l2.withdrawTo{value: amount}(address(0), address(0), amount, to);
        _debitL2(from, erc20, amount);
        _record(
            Withdrawals.Withdrawal(
                nonce, from, to, erc20 ? address(token) : address(0), erc20 ? l2Token : address(0), amount
            )
        );
    }

    /// @dev A forced withdrawal from L1 of the caller's L2 identity. `flags` bits: ERC-20, call
    ///      as a contract, choose a recipient; one in four overdraws (asks for more than the
    ///      account holds on L2), which must fail on L2 and record nothing.
    function forceWithdrawal(uint256 actorSeed, uint256 amount, uint256 toSeed, uint256 flags) external {
        bool erc20 = flags & 1 != 0;
        bool overdraw = (flags >> 3) % 4 == 0;
        (address caller, address origin, address identity) = _caller(actorSeed, flags & 2 != 0);
        address to = flags & 4 != 0 ? _recipient(toSeed) : caller;
        uint256 available = erc20 ? _l2Balance(identity) : l2Eth[identity];
        if (overdraw) {
            // More than the account holds on L2 (for ETH: more than its whole balance).
            uint256 floor = (erc20 ? available : identity.balance) + 1;
            amount = bound(amount, floor, floor + 1_000 ether);
        } else {
            if (available == 0) return;
            amount = bound(amount, 1, available);
        }
        Withdrawals.Withdrawal memory w = Withdrawals.Withdrawal(
            l2.withdrawalNonce(),
            identity,
            to,
            erc20 ? address(token) : address(0),
            erc20 ? l2Token : address(0),
            amount
        );
        _ensureBudget(uint32(bridge.FORCED_WITHDRAWAL_GAS()));
        vm.recordLogs();
        vm.prank(caller, origin);
        if (flags & 4 != 0) bridge.withdrawTo(w.l1Token, w.l2Token, amount, to);
        else bridge.withdraw(w.l1Token, w.l2Token, amount);
        ++ghostMessages;

        bool ok = Derivation.applyMessage(_lastBridgeLog());
        assertTrue(ok == !overdraw, "forced withdrawal outcome on L2");
        if (!ok) {
            assertEq(l2.withdrawalNonce(), w.nonce, "failed forced withdrawal recorded");
            return;
        }
        _debitL2(identity, erc20, amount);
        _record(w);
    }

    // ------------------------------------------------------------------ proposals and proofs

    /// @dev Proposes a trie holding up to 8 recorded withdrawals among up to 4 unrelated leaves.
    function propose(uint256 seed, uint256 count, uint256 otherCount) external {
        uint256 total = withdrawals.length;
        count = total == 0 ? 0 : bound(count, 1, total < 8 ? total : 8);
        otherCount = bound(otherCount, count == 0 ? 1 : 0, 4);
        uint256[] memory picked = new uint256[](count);
        uint256 n;
        for (uint256 i; i < count; ++i) {
            uint256 candidate = uint256(keccak256(abi.encode(seed, i))) % total;
            bool duplicate;
            for (uint256 j; j < n; ++j) {
                if (picked[j] == candidate) duplicate = true;
            }
            if (!duplicate) picked[n++] = candidate;
        }
        uint256[] memory chosen = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            chosen[i] = picked[i];
        }
        bytes32[] memory unrelated = new bytes32[](otherCount);
        for (uint256 i; i < otherCount; ++i) {
            unrelated[i] = keccak256(abi.encode("unrelated", seed, i));
        }
        (bytes32 root,) = TrieBuilder.proveMany(_hashes(chosen), unrelated);

        uint64 l2Block = nextL2Block++;
        Withdrawals.OutputRoot memory output = BridgeFixtures.outputRoot(root, l2Block);
        uint256 bond = manager.proposalBond();
        vm.deal(address(this), address(this).balance + bond);
        manager.depositBond{value: bond}();
        manager.submitStateRoot(
            Withdrawals.hashOutputRoot(output), keccak256(abi.encode(seed)), abi.encode(l2Block, output.l2BlockHash)
        );
        members.push(chosen);
        others.push(unrelated);
        l2Blocks.push(l2Block);
    }

    /// @dev Proves one withdrawal of a proposal's trie as one of the provers, after trying to
    ///      forge proofs against the same proposal.
    function prove(uint256 proposalSeed, uint256 memberSeed, uint256 proverSeed, uint256 forgerySeed) external {
        if (members.length == 0) return;
        uint256 index = proposalSeed % members.length;
        uint256[] memory chosen = members[index];
        if (chosen.length == 0) return;
        (, Withdrawals.WithdrawalProof[] memory proofs) = TrieBuilder.proveMany(_hashes(chosen), others[index]);
        for (uint256 i; i < proofs.length; ++i) {
            BridgeFixtures.atBlock(proofs[i], l2Blocks[index]);
        }
        uint256 m = memberSeed % chosen.length;
        Withdrawals.Withdrawal memory w = withdrawals[chosen[m]];
        address prover = provers[proverSeed % provers.length];

        _forge(index, w, proofs, m, prover, forgerySeed);

        vm.prank(prover);
        try bridge.proveWithdrawal(index, w, proofs[m]) returns (bytes32 id) {
            proven.push([chosen[m], proverSeed % provers.length]);
            assertEq(id, ids[chosen[m]], "id != recorded id");
            assertFalse(manager.proposals(index).removed, "proven against a removed proposal");
            assertEq(bridge.provenWithdrawals(id, prover).proposalIndex, index, "proof not stored under prover");
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == L1Bridge.L1Bridge_ProposalRemoved.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector,
                "prove: unexpected revert"
            );
        }
    }

    /// @dev Forgery attempts against proposal `index` whose trie holds `w` (member `m`): each
    ///      must revert and leave no proof behind.
    function _forge(
        uint256 index,
        Withdrawals.Withdrawal memory w,
        Withdrawals.WithdrawalProof[] memory proofs,
        uint256 m,
        address prover,
        uint256 seed
    ) internal {
        // A withdrawal not in the trie (amount raised), with the member's proof, claiming either
        // the member's slot or its own.
        Withdrawals.Withdrawal memory fake = _copyWithdrawal(w);
        fake.amount = w.amount + 1 + (seed % 1000);
        _expectForgeryFails(index, fake, proofs[m], prover);
        Withdrawals.WithdrawalProof memory ownSlot = _copyProof(proofs[m]);
        ownSlot.slot = TrieBuilder.slotOf(bridge.hashWithdrawal(fake));
        _expectForgeryFails(index, fake, ownSlot, prover);
        // The same withdrawal to another recipient.
        fake = _copyWithdrawal(w);
        fake.to = address(uint160(w.to) ^ uint160(seed | 1));
        _expectForgeryFails(index, fake, proofs[m], prover);
        // Another member's proof, re-targeted at this withdrawal's slot.
        if (proofs.length > 1) {
            Withdrawals.WithdrawalProof memory other =
                _copyProof(proofs[(m + 1 + seed % (proofs.length - 1)) % proofs.length]);
            other.slot = proofs[m].slot;
            _expectForgeryFails(index, w, other, prover);
        }
        // The member's proof against another state root, or with another derivation cursor:
        // the output root preimage no longer hashes to the proposal's root.
        Withdrawals.WithdrawalProof memory otherOutput = _copyProof(proofs[m]);
        if (seed % 2 == 0) otherOutput.output.stateRoot ^= bytes32(seed | 1);
        else otherOutput.output.inboxRecord ^= seed | 1;
        _expectForgeryFails(index, w, otherOutput, prover);
        // A tampered sibling, or (single-leaf trie) a tampered value.
        Withdrawals.WithdrawalProof memory tampered = _copyProof(proofs[m]);
        uint256 depth = tampered.trieProof.siblings.length;
        if (depth != 0) tampered.trieProof.siblings[seed % depth] ^= bytes32(seed | 1);
        else tampered.trieProof.terminalValueHash = bytes32(uint256(2));
        _expectForgeryFails(index, w, tampered, prover);
    }

    function _expectForgeryFails(
        uint256 index,
        Withdrawals.Withdrawal memory w,
        Withdrawals.WithdrawalProof memory proof,
        address prover
    ) internal {
        ++ghostForgeryAttempts;
        bytes32 id = bridge.hashWithdrawal(w);
        L1Bridge.ProvenWithdrawal memory before = bridge.provenWithdrawals(id, prover);
        vm.prank(prover);
        try bridge.proveWithdrawal(index, w, proof) {
            ++ghostForgeriesAccepted;
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == L1Bridge.L1Bridge_OutputRootMismatch.selector || err == L1Bridge.L1Bridge_WrongSlot.selector
                    || err == L1Bridge.L1Bridge_ProofKeyMismatch.selector
                    || err == SparseMerkleTrie.SparseMerkleTrie_InvalidProof.selector
                    || err == SparseMerkleTrie.SparseMerkleTrie_ValueMismatch.selector
                    || err == SparseMerkleTrie.SparseMerkleTrie_NonCanonicalProof.selector
                    || err == L1Bridge.L1Bridge_ProposalRemoved.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector,
                "forgery: unexpected revert"
            );
        }
        assertEq(bridge.provenWithdrawals(id, prover).provenAt, before.provenAt, "forgery changed a proof");
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 3 hours));
        vm.roll(block.number + 1);
    }

    /// @dev Finalizes a recorded withdrawal with a prover's proof: as that prover
    ///      (`finalizeWithdrawal`) or as anyone (`finalizeWithdrawalWithProof`). Three times in
    ///      four the pair is one that proved successfully, else any.
    function finalize(uint256 withdrawalSeed, uint256 proverSeed, address caller, bool asProver) external {
        if (withdrawals.length == 0) return;
        uint256 i = withdrawalSeed % withdrawals.length;
        address prover = provers[proverSeed % provers.length];
        if (proven.length != 0 && proverSeed % 4 != 0) {
            uint256[2] memory pair = proven[withdrawalSeed % proven.length];
            i = pair[0];
            prover = provers[pair[1]];
        }
        Withdrawals.Withdrawal memory w = withdrawals[i];
        bytes32 id = ids[i];
        if (asProver) caller = prover;
        vm.assume(caller != Proxies.adminOf(address(bridge)));
        vm.prank(caller);
        try bridge.finalizeWithdrawalWithProof(uint256(id), w.to, w.amount, prover) {
            uint256 index = bridge.provenWithdrawals(id, prover).proposalIndex;
            assertTrue(manager.isFinal(index), "finalized against a proposal that is not final");
            finalizedAgainst.push(index);
            if (!l2.sentWithdrawals(id)) ++ghostFinalizedUnsent;
            if (ghostFinalizations[id] != 0) ++ghostDoubleFinalizations;
            ++ghostFinalizations[id];
            ++ghostFinalized;
            ghostPaid[w.l1Token] += w.amount;
            ghostPending[w.l1Token] -= w.amount;
        } catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == L1Bridge.L1Bridge_WithdrawalNotProven.selector
                    || err == L1Bridge.L1Bridge_ProposalRemoved.selector
                    || err == L1Bridge.L1Bridge_ProposalNotFinal.selector
                    || err == L1Bridge.L1Bridge_WithdrawalAlreadyFinalized.selector,
                "finalize: unexpected revert (InsufficientLocked means L1 cannot pay a sent withdrawal)"
            );
        }
    }

    function returnBond(uint256 proposalSeed, address caller) external {
        if (members.length == 0) return;
        uint256 index = proposalSeed % members.length;
        vm.assume(caller != Proxies.adminOf(address(manager)));
        vm.prank(caller);
        try manager.returnBond(index) {}
        catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == StateManager.StateManager_ProposalNotFinal.selector
                    || err == StateManager.StateManager_BondAlreadyReturned.selector
                    || err == StateManager.StateManager_ProposalRemoved.selector,
                "returnBond: unexpected revert"
            );
        }
    }

    /// @dev The dispute game removes a proposal (one call in four, so that most proposals live);
    ///      removing a removed proposal is a no-op.
    function removeProposal(uint256 proposalSeed, uint256 actorSeed) external {
        if (members.length == 0 || actorSeed % 4 != 0) return;
        uint256 index = proposalSeed % members.length;
        try manager.removeProposal(index, actors[actorSeed % actors.length]) {}
        catch (bytes memory reason) {
            bytes4 err = bytes4(reason);
            assertTrue(
                err == StateManager.StateManager_ProposalRemoved.selector
                    || err == StateManager.StateManager_ProposalFinal.selector,
                "removeProposal: unexpected revert"
            );
        }
    }

    // ------------------------------------------------------------------ helpers

    /// @dev An actor calling as an EOA or (asContract) as a contract: `tx.origin` differs and
    ///      its L2 identity is its alias.
    function _caller(uint256 seed, bool asContract)
        internal
        view
        returns (address caller, address origin, address identity)
    {
        caller = actors[seed % actors.length];
        origin = asContract ? address(0xBEEF) : caller;
        identity = asContract ? AddressAliasing.applyL1ToL2Alias(caller) : caller;
    }

    /// @dev An L1 recipient that accepts ETH: an actor or the treasury.
    function _recipient(uint256 seed) internal returns (address) {
        return seed % 4 == 3 ? makeAddr("treasury") : actors[seed % actors.length];
    }

    function _l2Supply() internal view returns (uint256) {
        return l2Token.code.length == 0 ? 0 : BridgedERC20(l2Token).totalSupply();
    }

    function _l2Balance(address account) internal view returns (uint256) {
        return l2Token.code.length == 0 ? 0 : BridgedERC20(l2Token).balanceOf(account);
    }

    function _debitL2(address account, bool erc20, uint256 amount) internal {
        if (!erc20) {
            l2Eth[account] -= amount;
            ghostL2Eth -= amount;
        }
    }

    /// @dev Records a withdrawal the L2 bridge just sent.
    function _record(Withdrawals.Withdrawal memory w) internal {
        bytes32 id = bridge.hashWithdrawal(w);
        assertEq(l2.hashWithdrawal(w), id, "L1 and L2 hash a withdrawal differently");
        assertTrue(l2.sentWithdrawals(id), "withdrawal not sent on L2");
        withdrawals.push(w);
        ids.push(id);
        ghostPending[w.l1Token] += w.amount;
    }

    function _hashes(uint256[] memory chosen) internal view returns (bytes32[] memory hashes) {
        hashes = new bytes32[](chosen.length);
        for (uint256 i; i < chosen.length; ++i) {
            hashes[i] = ids[chosen[i]];
        }
    }

    function _copyWithdrawal(Withdrawals.Withdrawal memory w) internal pure returns (Withdrawals.Withdrawal memory) {
        return Withdrawals.Withdrawal(w.nonce, w.from, w.to, w.l1Token, w.l2Token, w.amount);
    }

    function _copyProof(Withdrawals.WithdrawalProof memory p)
        internal
        pure
        returns (Withdrawals.WithdrawalProof memory q)
    {
        Withdrawals.OutputRoot memory o = p.output;
        q.output = Withdrawals.OutputRoot(
            o.version, o.l2BlockNumber, o.stateRoot, o.l2BlockHash, o.inboxRecord, o.blockInRecord, o.l1Block
        );
        q.slot = p.slot;
        q.trieProof.siblings = new bytes32[](p.trieProof.siblings.length);
        for (uint256 i; i < p.trieProof.siblings.length; ++i) {
            q.trieProof.siblings[i] = p.trieProof.siblings[i];
        }
        q.trieProof.terminalKey = p.trieProof.terminalKey;
        q.trieProof.terminalValueHash = p.trieProof.terminalValueHash;
    }

    function _lastBridgeLog() internal returns (Vm.Log memory log) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(bridge)) log = logs[i];
        }
    }

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
    L2Bridge internal l2;
    WithdrawalsHandler internal handler;

    function setUp() public {
        token = new DevToken();
        // The handler becomes proposer and dispute game once deployed.
        manager = BridgeFixtures.deployStateManager(address(this), address(1), 1 hours, 0.1 ether);
        // The L2 runs in this EVM: its chain id is this chain's.
        bridge = BridgeFixtures.deployL1Bridge(address(manager), block.chainid, makeAddr("proxyOwner"));
        l2 = BridgeFixtures.etchL2Bridge(address(bridge));
        handler = new WithdrawalsHandler(bridge, manager, token, l2);
        manager.setProposer(address(handler));
        manager.setDisputeGame(address(handler));

        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = WithdrawalsHandler.depositEth.selector;
        selectors[1] = WithdrawalsHandler.depositErc20.selector;
        selectors[2] = WithdrawalsHandler.withdrawL2.selector;
        selectors[3] = WithdrawalsHandler.forceWithdrawal.selector;
        selectors[4] = WithdrawalsHandler.propose.selector;
        selectors[5] = WithdrawalsHandler.prove.selector;
        selectors[6] = WithdrawalsHandler.warp.selector;
        selectors[7] = WithdrawalsHandler.finalize.selector;
        selectors[8] = WithdrawalsHandler.returnBond.selector;
        selectors[9] = WithdrawalsHandler.removeProposal.selector;
        // Proofs and payouts twice as often as the rest: they need proposals, proofs and time.
        selectors[10] = WithdrawalsHandler.prove.selector;
        selectors[11] = WithdrawalsHandler.finalize.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Per token, the bridge never pays out more than was deposited, and its balances
    ///      equal its accounting: deposited minus paid out.
    function invariant_solvencyPerToken() public view {
        uint256 eth = handler.ghostDeposited(address(0)) - handler.ghostPaid(address(0));
        uint256 tokens = handler.ghostDeposited(address(token)) - handler.ghostPaid(address(token));
        assertEq(address(bridge).balance, eth, "ETH balance != deposited - paid");
        assertEq(bridge.deposits(address(0)), eth, "deposits[ETH] != deposited - paid");
        assertEq(token.balanceOf(address(bridge)), tokens, "token balance != deposited - paid");
        assertEq(bridge.deposits(address(token)), tokens, "deposits[token] != deposited - paid");
    }

    /// @dev Per token, what L1 holds backs exactly what exists on L2 plus every withdrawal sent
    ///      (by users, forced from L1, or refunds of failed deposits) and not paid out yet.
    function invariant_lockedBacksL2() public view {
        address l2Token = bridge.predictL2Token(address(token));
        uint256 supply = l2Token.code.length == 0 ? 0 : BridgedERC20(l2Token).totalSupply();
        assertEq(
            bridge.deposits(address(token)),
            supply + handler.ghostPending(address(token)),
            "deposits[token] != L2 supply + pending withdrawals"
        );
        assertEq(
            bridge.deposits(address(0)),
            handler.ghostL2Eth() + handler.ghostPending(address(0)),
            "deposits[ETH] != L2 ETH + pending withdrawals"
        );
    }

    /// @dev No withdrawal is ever paid out twice, nor one the L2 bridge never sent.
    function invariant_noDoubleFinalization() public view {
        assertEq(handler.ghostDoubleFinalizations(), 0, "a withdrawal finalized twice");
        assertEq(handler.ghostFinalizedUnsent(), 0, "a withdrawal finalized that L2 never sent");
        for (uint256 i; i < handler.withdrawalCount(); ++i) {
            bytes32 id = handler.withdrawalId(i);
            assertTrue(bridge.finalizedWithdrawals(id) == (handler.ghostFinalizations(id) == 1), "finalized flag");
        }
    }

    /// @dev No forged proof (a withdrawal not in the trie, another withdrawal's proof, tampered
    ///      siblings or value) was ever accepted.
    function invariant_noForgeryAccepted() public view {
        assertEq(handler.ghostForgeriesAccepted(), 0, "a forged proof was accepted");
    }

    /// @dev One gapless nonce sequence on L1 for deposits and forced withdrawals; the L2 nonce
    ///      counts every recorded withdrawal.
    function invariant_noncesCount() public view {
        assertEq(bridge.depositNonce(), handler.ghostMessages(), "L1 nonce != messages");
        assertEq(l2.withdrawalNonce(), handler.withdrawalCount(), "L2 nonce != withdrawals");
    }

    /// @dev Bonds are conserved: the StateManager holds exactly the bond balances plus the bonds
    ///      of proposals neither returned nor removed.
    function invariant_bondsConserved() public view {
        uint256 held = manager.bondBalance(address(handler));
        for (uint256 i; i < handler.actorCount(); ++i) {
            held += manager.bondBalance(handler.actor(i));
        }
        uint256 count = manager.proposalCount();
        for (uint256 i; i < count; ++i) {
            StateManager.Proposal memory p = manager.proposals(i);
            if (!p.removed && !p.bondReturned) held += p.bond;
        }
        held += manager.burnedBonds();
        assertEq(address(manager).balance, held, "StateManager balance != bond balances + unsettled + burned bonds");
    }

    /// @dev Every finalized withdrawal was proven against a proposal that is final and stays so:
    ///      never removed afterwards (the handler keeps trying to remove proposals).
    function invariant_finalizedAgainstFinalProposal() public view {
        for (uint256 i; i < handler.finalizedCount(); ++i) {
            uint256 index = handler.finalizedProposal(i);
            assertTrue(manager.isFinal(index), "a withdrawal was finalized against a proposal no longer final");
            assertFalse(manager.proposals(index).removed, "a withdrawal was finalized against a removed proposal");
        }
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
