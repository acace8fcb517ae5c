// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "test/utils/Test.sol";
import {BridgeFixtures} from "test/utils/BridgeFixtures.sol";
import {DepositChainLogs} from "test/utils/DepositChainLogs.sol";
import {IDepositChain} from "interfaces/IDepositChain.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {DevToken} from "src/L1/DevToken.sol";

/// @dev Makes random, valid deposits (`deposit` and `depositTo`, ETH and ERC-20) and forced
///      withdrawals (`withdraw` and `withdrawTo`), from EOAs and from contracts (aliased), and
///      keeps ghost totals. Every call must succeed (`fail_on_revert`).
contract L1BridgeHandler is Test {
    L1Bridge internal immutable bridge;
    DevToken internal immutable token;
    address internal immutable l2Token;
    address[] internal actors;

    uint256 public ghostEthDeposited;
    uint256 public ghostTokenDeposited;
    uint256 public ghostDeposits;
    uint256 public ghostForcedWithdrawals;

    /// @notice The deposit chain recomputed from the bridge's logs.
    bytes32 public ghostChain;
    uint256 public ghostMessages;

    constructor(L1Bridge bridge_, DevToken token_) {
        bridge = bridge_;
        token = token_;
        l2Token = bridge_.predictL2Token(address(token_));
        actors.push(makeAddr("alice"));
        actors.push(makeAddr("bob"));
        actors.push(makeAddr("carol"));
        for (uint256 i; i < actors.length; ++i) {
            address actor = actors[i];
            vm.prank(actor);
            token_.approve(address(bridge_), type(uint256).max);
        }
    }

    /// @dev An actor and whether it calls as a contract (`tx.origin` someone else).
    function _caller(uint256 seed) internal view returns (address actor, address origin) {
        actor = actors[seed % actors.length];
        origin = (seed >> 8) % 3 == 0 ? address(0xBEEF) : actor;
    }

    /// @dev A second genesis lock, of any amount by anyone: always refused, moves nothing.
    function lockGenesisAgain(uint256 actorSeed, uint256 amount) external {
        (address actor, address origin) = _caller(actorSeed);
        amount = bound(amount, 0, 1_000_000 ether);
        vm.deal(actor, actor.balance + amount);
        vm.prank(actor, origin);
        vm.expectRevert(L1Bridge.L1Bridge_GenesisEthAlreadyLocked.selector);
        bridge.lockGenesisEth{value: amount}();
    }

    function depositEth(uint256 actorSeed, uint256 amount, uint256 gasSeed, address to, bool chooseRecipient) external {
        (address actor, address origin) = _caller(actorSeed);
        amount = bound(amount, 1, 1_000_000 ether);
        uint32 gasLimit = uint32(bound(gasSeed, bridge.MIN_ETH_DEPOSIT_GAS(), bridge.MAX_DEPOSIT_GAS()));
        _ensureBudget(gasLimit);
        vm.deal(actor, actor.balance + amount);
        vm.recordLogs();
        vm.prank(actor, origin);
        if (chooseRecipient && to != address(0)) {
            bridge.depositTo{value: amount}(address(0), address(0), amount, gasLimit, to);
        } else {
            bridge.deposit{value: amount}(address(0), address(0), amount, gasLimit);
        }
        _absorb();
        ghostEthDeposited += amount;
        ++ghostDeposits;
    }

    function depositErc20(uint256 actorSeed, uint256 amount, uint256 gasSeed, address to, bool chooseRecipient)
        external
    {
        (address actor, address origin) = _caller(actorSeed);
        amount = bound(amount, 1, 1e36);
        uint32 gasLimit = uint32(bound(gasSeed, bridge.MIN_ERC20_DEPOSIT_GAS(), bridge.MAX_DEPOSIT_GAS()));
        _ensureBudget(gasLimit);
        token.mint(actor, amount);
        vm.recordLogs();
        vm.prank(actor, origin);
        if (chooseRecipient && to != address(0)) {
            bridge.depositTo(address(token), l2Token, amount, gasLimit, to);
        } else {
            bridge.deposit(address(token), l2Token, amount, gasLimit);
        }
        _absorb();
        ghostTokenDeposited += amount;
        ++ghostDeposits;
    }

    function forceWithdrawal(uint256 actorSeed, uint256 amount, bool erc20, address to, bool chooseRecipient) external {
        (address actor, address origin) = _caller(actorSeed);
        amount = bound(amount, 1, type(uint128).max);
        _ensureBudget(uint32(bridge.FORCED_WITHDRAWAL_GAS()));
        address l1 = erc20 ? address(token) : address(0);
        address l2 = erc20 ? l2Token : address(0);
        vm.recordLogs();
        vm.prank(actor, origin);
        // The bridge refuses itself as a withdrawal's recipient (its own test covers that).
        if (chooseRecipient && to != address(0) && to != address(bridge)) bridge.withdrawTo(l1, l2, amount, to);
        else bridge.withdraw(l1, l2, amount);
        _absorb();
        ++ghostForcedWithdrawals;
    }

    function nextBlock(uint256 blocks) external {
        vm.roll(block.number + bound(blocks, 1, 10));
    }

    /// @dev Folds the recorded bridge logs into the ghost chain.
    function _absorb() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (ghostChain, ghostMessages) = DepositChainLogs.extend(ghostChain, ghostMessages, logs, address(bridge));
    }

    /// @dev Moves to the next L1 block when this block's deposit gas budget is spent.
    function _ensureBudget(uint32 gasLimit) internal {
        if (bridge.blockDepositGasUsed() + gasLimit > bridge.DEPOSIT_GAS_PER_L1_BLOCK()) {
            vm.roll(block.number + 1);
        }
    }
}

contract L1BridgeInvariants is Test {
    L1Bridge internal bridge;
    DevToken internal token;
    L1BridgeHandler internal handler;

    /// @dev The ETH the L2 genesis allocates, locked when the bridge's proxy is created.
    uint256 internal constant GENESIS_ETH = 11_000 ether;

    function setUp() public {
        vm.deal(address(this), GENESIS_ETH);
        bridge = BridgeFixtures.deployL1Bridge(address(1), 4242, makeAddr("proxyOwner"), GENESIS_ETH);
        token = new DevToken();
        handler = new L1BridgeHandler(bridge, token);

        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = L1BridgeHandler.depositEth.selector;
        selectors[1] = L1BridgeHandler.depositErc20.selector;
        selectors[2] = L1BridgeHandler.forceWithdrawal.selector;
        selectors[3] = L1BridgeHandler.nextBlock.selector;
        selectors[4] = L1BridgeHandler.lockGenesisAgain.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev The bridge holds exactly the genesis ETH plus the ETH deposited, and accounts for
    ///      all of it; forced withdrawals and refused second genesis locks move nothing on L1.
    function invariant_ethBalanceMatchesDeposits() public view {
        uint256 locked = GENESIS_ETH + handler.ghostEthDeposited();
        assertEq(address(bridge).balance, locked, "ETH balance != genesis ETH + ETH deposited");
        assertEq(bridge.deposits(address(0)), locked, "deposits[ETH] != genesis ETH + ETH deposited");
        assertTrue(bridge.genesisEthLocked());
    }

    /// @dev The bridge holds exactly the tokens deposited, and accounts for all of them.
    function invariant_tokenBalanceMatchesDeposits() public view {
        assertEq(token.balanceOf(address(bridge)), bridge.deposits(address(token)), "token balance != deposits[token]");
        assertEq(bridge.deposits(address(token)), handler.ghostTokenDeposited(), "deposits[token] != deposited");
    }

    /// @dev Nonces are gapless and shared: the next nonce is the number of deposits and forced
    ///      withdrawals made.
    function invariant_nonceCountsMessages() public view {
        assertEq(
            bridge.depositNonce(),
            handler.ghostDeposits() + handler.ghostForcedWithdrawals(),
            "nonce != deposits + forced withdrawals"
        );
    }

    /// @dev The deposit chain is the chain of the emitted messages; checkpoints have increasing
    ///      blocks and counts, the last count is `depositNonce`, and each checkpoint is what
    ///      `depositChainAt` answers for its block.
    function invariant_depositChainFollowsLogs() public view {
        (uint256 count, bytes32 chain) = bridge.depositChain();
        assertEq(count, bridge.depositNonce(), "chain count != depositNonce");
        assertEq(count, handler.ghostMessages(), "chain count != messages logged");
        assertEq(chain, handler.ghostChain(), "chain != chain of the logs");
        uint256 checkpoints = bridge.checkpointCount();
        uint256 previousBlock;
        uint256 previousCount;
        for (uint256 i; i < checkpoints; ++i) {
            IDepositChain.Checkpoint memory c = bridge.checkpoint(i);
            if (i != 0) assertGt(c.l1Block, previousBlock, "checkpoint blocks not increasing");
            assertGt(c.count, previousCount, "checkpoint counts not increasing");
            (uint256 atCount, bytes32 atChain) = bridge.depositChainAt(c.l1Block);
            assertEq(atCount, c.count, "depositChainAt(block).count");
            assertEq(atChain, c.chain, "depositChainAt(block).chain");
            assertEq(bridge.depositCountAt(c.l1Block), c.count, "depositCountAt(block)");
            if (c.l1Block != 0) assertEq(bridge.depositCountAt(c.l1Block - 1), previousCount, "count before block");
            previousBlock = c.l1Block;
            previousCount = c.count;
        }
        assertEq(previousCount, count, "last checkpoint count != depositNonce");
        if (checkpoints != 0) assertEq(bridge.checkpoint(checkpoints - 1).chain, chain, "last checkpoint chain");
    }

    /// @dev No L1 block ever carries more deposit gas than the budget.
    function invariant_blockBudgetRespected() public view {
        assertLe(bridge.blockDepositGasUsed(), bridge.DEPOSIT_GAS_PER_L1_BLOCK(), "block deposit gas over budget");
    }
}
