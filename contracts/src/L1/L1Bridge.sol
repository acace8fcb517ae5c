// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {StateManager} from "src/L1/StateManager.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";
import {SparseMerkleTrie} from "src/libraries/SparseMerkleTrie.sol";
import {Withdrawals} from "src/libraries/Withdrawals.sol";

/// @title L1Bridge
/// @notice Locks ETH and ERC-20 tokens on L1 and emits `DepositInitiated`, which the rollup
///         derivation turns into an L2 deposit transaction crediting the depositor on L2.
///         ERC-20 tokens are credited as the token's `BridgedERC20`, deployed by the L2 bridge
///         at a CREATE2 address this contract predicts.
///         Withdrawals start on L2 (`L2Bridge.withdraw`), are proven here against a proposed
///         state root (`proveWithdrawal`) and paid out once that proposal is final
///         (`finalizeWithdrawal`); a proposal removed by the dispute game invalidates the proofs
///         made against it. Payouts never exceed what was deposited per token.
contract L1Bridge is IL1Bridge, ReentrancyGuardTransient {
    using SafeTransferLib for address;

    /// @notice Thrown when a deposit's amount is zero.
    error L1Bridge_ZeroAmount();

    /// @notice Thrown when `msg.value` does not match the deposit (ETH: `amount`; ERC-20: zero).
    error L1Bridge_ValueMismatch();

    /// @notice Thrown when the token pair is neither (0, 0) for ETH nor (token, predictL2Token(token)).
    error L1Bridge_UnknownTokenMapping();

    /// @notice Thrown when the requested L2 gas limit is outside [minimum, MAX_DEPOSIT_GAS].
    error L1Bridge_GasLimitOutOfRange();

    /// @notice Thrown when the deposits of this L1 block would exceed DEPOSIT_GAS_PER_L1_BLOCK.
    error L1Bridge_BlockDepositGasExhausted();

    /// @notice Thrown when an ERC-20 deposit names an address without code.
    error L1Bridge_NotAContract();

    /// @notice Thrown when the bridge received a different amount than the deposit states.
    error L1Bridge_FeeOnTransferToken();

    /// @notice Thrown by `withdraw`: withdrawals start on L2, at the L2Bridge predeploy.
    error L1Bridge_WithdrawOnL2();

    /// @notice Thrown when the constructor is given the zero address as StateManager.
    error L1Bridge_ZeroAddress();

    /// @notice Thrown when a withdrawal names a proposal index that does not exist.
    error L1Bridge_UnknownProposal();

    /// @notice Thrown when proving against, or finalizing after proving against, a removed proposal.
    error L1Bridge_ProposalRemoved();

    /// @notice Thrown when finalizing before the proven-against proposal is final.
    error L1Bridge_ProposalNotFinal();

    /// @notice Thrown when finalizing a withdrawal that was never proven.
    error L1Bridge_WithdrawalNotProven();

    /// @notice Thrown when proving a withdrawal already proven against a proposal that was not removed.
    error L1Bridge_WithdrawalAlreadyProven();

    /// @notice Thrown when proving or finalizing a withdrawal that was already paid out.
    error L1Bridge_WithdrawalAlreadyFinalized();

    /// @notice Thrown when `finalizeWithdrawal`'s recipient or amount differ from the proven withdrawal.
    error L1Bridge_WithdrawalMismatch();

    /// @notice Thrown when a payout would exceed what is locked for the token (never, if L2 is sound).
    error L1Bridge_InsufficientLocked();

    /// @notice Bad proof, wrong root: the proof was generated against another state root than
    ///         the proposal's (`proof.stateRoot != proposal.stateRoot`).
    error L1Bridge_StateRootMismatch();

    /// @notice Bad proof, wrong slot: the proof is for another L2 bridge storage slot than the
    ///         withdrawal's (`proof.slot != Withdrawals.storageSlot(hash)`).
    error L1Bridge_WrongSlot();

    /// @notice Bad proof, proof for another withdrawal: the trie proof ends at another key's
    ///         leaf than the withdrawal's slot (e.g. the proof of another withdrawal).
    error L1Bridge_ProofKeyMismatch();

    /// @notice Minimum L2 gas of an ETH deposit.
    uint256 public constant MIN_ETH_DEPOSIT_GAS = DepositLimits.MIN_ETH_DEPOSIT_GAS;

    /// @notice Minimum L2 gas of an ERC-20 deposit (covers deploying the L2 token).
    uint256 public constant MIN_ERC20_DEPOSIT_GAS = DepositLimits.MIN_ERC20_DEPOSIT_GAS;

    /// @notice Maximum L2 gas of any deposit.
    uint256 public constant MAX_DEPOSIT_GAS = DepositLimits.MAX_DEPOSIT_GAS;

    /// @notice Maximum sum of deposit gas limits within one L1 block.
    uint256 public constant DEPOSIT_GAS_PER_L1_BLOCK = DepositLimits.DEPOSIT_GAS_PER_L1_BLOCK;

    /// @notice A proven withdrawal.
    /// @param proposalIndex The proposal it was proven against; it pays out once that is final.
    /// @param recipient     The L1 recipient (the withdrawal's `to`).
    /// @param l1Token       The L1 token paid out, or address(0) for ETH.
    /// @param provenAt      The L1 timestamp of the proof (never 0 once proven).
    /// @param amount        The amount paid out.
    struct ProvenWithdrawal {
        uint256 proposalIndex;
        address recipient;
        address l1Token;
        uint64 provenAt;
        uint256 amount;
    }

    /// @notice Emitted when a withdrawal is proven against a proposal.
    /// @param withdrawalId  The withdrawal hash.
    /// @param proposalIndex The proposal it was proven against.
    /// @param recipient     The L1 recipient.
    event WithdrawalProven(bytes32 indexed withdrawalId, uint256 indexed proposalIndex, address indexed recipient);

    /// @notice Emitted when a withdrawal is paid out.
    /// @param withdrawalId The withdrawal hash.
    /// @param recipient    The L1 recipient paid.
    /// @param l1Token      The L1 token paid, or address(0) for ETH.
    /// @param amount       The amount paid.
    event WithdrawalFinalized(bytes32 indexed withdrawalId, address indexed recipient, address l1Token, uint256 amount);

    /// @notice keccak256 of `BridgedERC20`'s creation code, the CREATE2 init code hash on L2.
    bytes32 public immutable bridgedTokenInitCodeHash;

    /// @notice The StateManager whose proposals withdrawals are proven against.
    StateManager public immutable stateManager;

    /// @notice The nonce the next deposit receives; equals the number of deposits made.
    uint256 public depositNonce;

    /// @notice Total amount locked per L1 token (address(0) for ETH).
    mapping(address l1Token => uint256 amount) public deposits;

    /// @dev L1 block of the last deposit and the deposit gas already used in it, packed.
    uint64 private _gasBlock;
    uint192 private _gasUsedInBlock;

    /// @notice Proven withdrawals, by withdrawal hash.
    mapping(bytes32 withdrawalId => ProvenWithdrawal) internal _provenWithdrawals;

    /// @notice Withdrawals paid out, by withdrawal hash.
    mapping(bytes32 withdrawalId => bool) public finalizedWithdrawals;

    /// @notice Records the StateManager and the L2 token init code hash used by `predictL2Token`.
    /// @param stateManager_ The StateManager whose proposals withdrawals are proven against.
    constructor(address stateManager_) {
        if (stateManager_ == address(0)) revert L1Bridge_ZeroAddress();
        stateManager = StateManager(stateManager_);
        bridgedTokenInitCodeHash = keccak256(type(BridgedERC20).creationCode);
    }

    /// @inheritdoc IL1Bridge
    /// @dev The L2 recipient is always `msg.sender`. ETH: `l1Token == l2Token == address(0)`,
    ///      `msg.value == amount`, gasLimit >= MIN_ETH_DEPOSIT_GAS. ERC-20: `msg.value == 0`,
    ///      `l1Token` a contract, `l2Token == predictL2Token(l1Token)`, gasLimit >=
    ///      MIN_ERC20_DEPOSIT_GAS; the bridge must receive exactly `amount` (fee-on-transfer
    ///      tokens are rejected; rebasing tokens are unsupported).
    function deposit(address l1Token, address l2Token, uint256 amount, uint32 gasLimit) external payable nonReentrant {
        if (amount == 0) revert L1Bridge_ZeroAmount();
        bool isEth = l1Token == address(0);
        if (isEth) {
            if (l2Token != address(0)) revert L1Bridge_UnknownTokenMapping();
            if (msg.value != amount) revert L1Bridge_ValueMismatch();
        } else {
            if (msg.value != 0) revert L1Bridge_ValueMismatch();
            if (l1Token.code.length == 0) revert L1Bridge_NotAContract();
            if (l2Token != predictL2Token(l1Token)) revert L1Bridge_UnknownTokenMapping();
        }
        uint256 minGas = isEth ? MIN_ETH_DEPOSIT_GAS : MIN_ERC20_DEPOSIT_GAS;
        if (gasLimit < minGas || gasLimit > MAX_DEPOSIT_GAS) revert L1Bridge_GasLimitOutOfRange();
        _useBlockDepositGas(gasLimit);

        uint256 nonce = depositNonce;
        depositNonce = nonce + 1;
        deposits[l1Token] += amount;
        emit DepositInitiated(nonce, msg.sender, msg.sender, l1Token, l2Token, amount, gasLimit);

        if (!isEth) {
            uint256 balanceBefore = l1Token.balanceOf(address(this));
            l1Token.safeTransferFrom(msg.sender, address(this), amount);
            if (l1Token.balanceOf(address(this)) - balanceBefore != amount) {
                revert L1Bridge_FeeOnTransferToken();
            }
        }
    }

    /// @inheritdoc IL1Bridge
    /// @dev Always reverts `L1Bridge_WithdrawOnL2`: withdrawals start on L2 with
    ///      `L2Bridge.withdraw` at `Predeploys.L2_BRIDGE`, then are proven here with
    ///      `proveWithdrawal` and paid out with `finalizeWithdrawal`.
    function withdraw(address, address, uint256) external pure {
        revert L1Bridge_WithdrawOnL2();
    }

    /// @notice Proves that the L2 bridge recorded `withdrawal` in the state root of proposal
    ///         `proposalIndex`, so it can be paid out once that proposal is final. Anyone may
    ///         prove any withdrawal; it always pays `withdrawal.to`. A withdrawal proven against a
    ///         live proposal cannot be proven again; once that proposal is removed it may be
    ///         proven against another one.
    /// @dev    Proves the storage leaf `SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE,
    ///         uint256(Withdrawals.storageSlot(hash)))` with value hash `bytes32(uint256(1))`
    ///         (`sentWithdrawals[hash] == true`) against `proposal.stateRoot`. Bad proofs revert
    ///         with: wrong root `L1Bridge_StateRootMismatch`; wrong slot `L1Bridge_WrongSlot`;
    ///         proof for another withdrawal (another key's leaf) `L1Bridge_ProofKeyMismatch`;
    ///         truncated or tampered siblings `SparseMerkleTrie_InvalidProof`; a proof showing the
    ///         slot empty `SparseMerkleTrie_KeyAbsent`, another value
    ///         `SparseMerkleTrie_ValueMismatch`, an empty deepest sibling
    ///         `SparseMerkleTrie_NonCanonicalProof`, over 256 siblings
    ///         `SparseMerkleTrie_TooManySiblings`.
    /// @param proposalIndex The StateManager proposal whose state root the proof is against.
    /// @param withdrawal    The withdrawal, as `L2Bridge.withdraw` recorded it.
    /// @param proof         The storage proof of the withdrawal's slot.
    /// @return withdrawalId The withdrawal hash.
    function proveWithdrawal(
        uint256 proposalIndex,
        Withdrawals.Withdrawal calldata withdrawal,
        Withdrawals.WithdrawalProof calldata proof
    ) external returns (bytes32 withdrawalId) {
        if (proposalIndex >= stateManager.proposalCount()) {
            revert L1Bridge_UnknownProposal();
        }
        StateManager.Proposal memory proposal = stateManager.proposals(proposalIndex);
        if (proposal.removed) revert L1Bridge_ProposalRemoved();
        bool isEth = withdrawal.l1Token == address(0);
        if (isEth ? withdrawal.l2Token != address(0) : withdrawal.l2Token != predictL2Token(withdrawal.l1Token)) {
            revert L1Bridge_UnknownTokenMapping();
        }

        withdrawalId = Withdrawals.hash(withdrawal);
        if (finalizedWithdrawals[withdrawalId]) revert L1Bridge_WithdrawalAlreadyFinalized();
        ProvenWithdrawal storage proven = _provenWithdrawals[withdrawalId];
        if (proven.provenAt != 0 && !stateManager.proposals(proven.proposalIndex).removed) {
            revert L1Bridge_WithdrawalAlreadyProven();
        }

        if (proof.stateRoot != proposal.stateRoot) revert L1Bridge_StateRootMismatch();
        bytes32 slot = Withdrawals.storageSlot(withdrawalId);
        if (proof.slot != uint256(slot)) revert L1Bridge_WrongSlot();
        bytes32 key = SparseMerkleTrie.storageKey(Predeploys.L2_BRIDGE, uint256(slot));
        SparseMerkleTrie.Proof calldata trieProof = proof.trieProof;
        if (trieProof.terminalValueHash != 0 && trieProof.terminalKey != key) revert L1Bridge_ProofKeyMismatch();
        SparseMerkleTrie.verify(proposal.stateRoot, key, Withdrawals.SENT_VALUE_HASH, trieProof);

        _provenWithdrawals[withdrawalId] = ProvenWithdrawal({
            proposalIndex: proposalIndex,
            recipient: withdrawal.to,
            l1Token: withdrawal.l1Token,
            provenAt: uint64(block.timestamp),
            amount: withdrawal.amount
        });
        emit WithdrawalProven(withdrawalId, proposalIndex, withdrawal.to);
    }

    /// @inheritdoc IL1Bridge
    /// @dev `withdrawalId` is the withdrawal hash; `recipient` and `amount` must be the proven
    ///      withdrawal's. Pays once the proposal it was proven against is final. Anyone may call
    ///      it; it always pays the proven recipient. Reverts `L1Bridge_WithdrawalAlreadyFinalized`,
    ///      `L1Bridge_WithdrawalNotProven`, `L1Bridge_WithdrawalMismatch`,
    ///      `L1Bridge_ProposalRemoved` (prove it again against another proposal),
    ///      `L1Bridge_ProposalNotFinal`, `L1Bridge_InsufficientLocked`, in this order.
    function finalizeWithdrawal(bytes32 withdrawalId, address recipient, uint256 amount) external nonReentrant {
        if (finalizedWithdrawals[withdrawalId]) revert L1Bridge_WithdrawalAlreadyFinalized();
        ProvenWithdrawal memory proven = _provenWithdrawals[withdrawalId];
        if (proven.provenAt == 0) revert L1Bridge_WithdrawalNotProven();
        if (recipient != proven.recipient || amount != proven.amount) revert L1Bridge_WithdrawalMismatch();
        if (stateManager.proposals(proven.proposalIndex).removed) revert L1Bridge_ProposalRemoved();
        if (!stateManager.isFinal(proven.proposalIndex)) revert L1Bridge_ProposalNotFinal();
        address l1Token = proven.l1Token;
        uint256 locked = deposits[l1Token];
        if (amount > locked) revert L1Bridge_InsufficientLocked();

        finalizedWithdrawals[withdrawalId] = true;
        deposits[l1Token] = locked - amount;
        emit WithdrawalFinalized(withdrawalId, recipient, l1Token, amount);

        if (l1Token == address(0)) recipient.safeTransferETH(amount);
        else l1Token.safeTransfer(recipient, amount);
    }

    /// @notice A proven withdrawal (all zero if not proven).
    /// @param withdrawalId The withdrawal hash.
    /// @return The proof record.
    function provenWithdrawals(bytes32 withdrawalId) external view returns (ProvenWithdrawal memory) {
        return _provenWithdrawals[withdrawalId];
    }

    /// @notice The hash of a withdrawal (`Withdrawals.hash`), its `withdrawalId`.
    /// @param withdrawal The withdrawal.
    /// @return The withdrawal hash.
    function hashWithdrawal(Withdrawals.Withdrawal calldata withdrawal) external pure returns (bytes32) {
        return Withdrawals.hash(withdrawal);
    }

    /// @notice The L2 token of `l1Token`: the address at which the L2 bridge deploys its
    ///         `BridgedERC20` with CREATE2 (salt = the L1 token address).
    /// @param l1Token The L1 token.
    /// @return The L2 token address.
    function predictL2Token(address l1Token) public view returns (address) {
        bytes32 hash = keccak256(
            abi.encodePacked(
                bytes1(0xff), Predeploys.L2_BRIDGE, bytes32(uint256(uint160(l1Token))), bridgedTokenInitCodeHash
            )
        );
        return address(uint160(uint256(hash)));
    }

    /// @notice Deposit gas already requested in the current L1 block.
    /// @return The sum of the gas limits of this block's deposits.
    function blockDepositGasUsed() external view returns (uint256) {
        return _gasBlock == block.number ? _gasUsedInBlock : 0;
    }

    /// @dev Charges `gasLimit` to the current L1 block's deposit gas budget.
    function _useBlockDepositGas(uint256 gasLimit) private {
        uint256 used = _gasBlock == block.number ? _gasUsedInBlock + gasLimit : gasLimit;
        if (used > DEPOSIT_GAS_PER_L1_BLOCK) revert L1Bridge_BlockDepositGasExhausted();
        _gasBlock = uint64(block.number);
        // casting to 'uint192' is safe because `used` <= DEPOSIT_GAS_PER_L1_BLOCK
        // forge-lint: disable-next-line(unsafe-typecast)
        _gasUsedInBlock = uint192(used);
    }

    /// @dev Always use transient storage for the reentrancy guard (L1 is post-Cancun).
    function _useTransientReentrancyGuardOnlyOnMainnet() internal pure override returns (bool) {
        return false;
    }
}
