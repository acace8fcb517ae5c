// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SafeTransferLib} from "solady/utils/SafeTransferLib.sol";
import {ReentrancyGuardTransient} from "solady/utils/ReentrancyGuardTransient.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {BridgedERC20} from "src/L2/BridgedERC20.sol";
import {DepositLimits} from "src/libraries/DepositLimits.sol";
import {Predeploys} from "src/libraries/Predeploys.sol";

/// @title L1Bridge
/// @notice Locks ETH and ERC-20 tokens on L1 and emits `DepositInitiated`, which the rollup
///         derivation turns into an L2 deposit transaction crediting the depositor on L2.
///         ERC-20 tokens are credited as the token's `BridgedERC20`, deployed by the L2 bridge
///         at a CREATE2 address this contract predicts.
/// @dev    Withdrawals are not enabled yet: a later issue adds withdrawal proofs against
///         finalized state roots.
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

    /// @notice Thrown by `withdraw` and `finalizeWithdrawal` until withdrawal proofs exist.
    error L1Bridge_WithdrawalsNotEnabled();

    /// @notice Minimum L2 gas of an ETH deposit.
    uint256 public constant MIN_ETH_DEPOSIT_GAS = DepositLimits.MIN_ETH_DEPOSIT_GAS;

    /// @notice Minimum L2 gas of an ERC-20 deposit (covers deploying the L2 token).
    uint256 public constant MIN_ERC20_DEPOSIT_GAS = DepositLimits.MIN_ERC20_DEPOSIT_GAS;

    /// @notice Maximum L2 gas of any deposit.
    uint256 public constant MAX_DEPOSIT_GAS = DepositLimits.MAX_DEPOSIT_GAS;

    /// @notice Maximum sum of deposit gas limits within one L1 block.
    uint256 public constant DEPOSIT_GAS_PER_L1_BLOCK = DepositLimits.DEPOSIT_GAS_PER_L1_BLOCK;

    /// @notice keccak256 of `BridgedERC20`'s creation code, the CREATE2 init code hash on L2.
    bytes32 public immutable bridgedTokenInitCodeHash;

    /// @notice The nonce the next deposit receives; equals the number of deposits made.
    uint256 public depositNonce;

    /// @notice Total amount locked per L1 token (address(0) for ETH).
    mapping(address l1Token => uint256 amount) public deposits;

    /// @dev L1 block of the last deposit and the deposit gas already used in it, packed.
    uint64 private _gasBlock;
    uint192 private _gasUsedInBlock;

    /// @notice Records the L2 token init code hash used by `predictL2Token`.
    constructor() {
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
    /// @dev Not enabled yet: always reverts `L1Bridge_WithdrawalsNotEnabled`. A later issue adds
    ///      withdrawals proven against finalized state roots.
    function withdraw(address, address, uint256) external pure {
        revert L1Bridge_WithdrawalsNotEnabled();
    }

    /// @inheritdoc IL1Bridge
    /// @dev Not enabled yet: always reverts `L1Bridge_WithdrawalsNotEnabled`. A later issue adds
    ///      withdrawals proven against finalized state roots.
    function finalizeWithdrawal(bytes32, address, uint256) external pure {
        revert L1Bridge_WithdrawalsNotEnabled();
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
