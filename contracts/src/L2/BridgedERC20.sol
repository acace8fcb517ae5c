// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "solady/tokens/ERC20.sol";

/// @title BridgedERC20
/// @notice The L2 representation of an L1 ERC-20 token. The L2 bridge deploys one per L1 token
///         with CREATE2 (salt = the L1 token address); the constructor takes no arguments so the
///         init code hash is a constant and L1 can predict every L2 token address. The bridge
///         then initializes it with the L1 token's name, symbol and decimals, which `L1Bridge`
///         read from the L1 token at the deposit that deployed it, so the bridged token looks
///         like its L1 token in wallets and tools.
/// @dev    Storage: slot 0 `l1Token`, `_decimals`, `_nameLength`, `_symbolLength` (packed),
///         slots 1-2 `_name`, slots 3-4 `_symbol`; Solady's ERC20 keeps balances, allowances and
///         the supply in its own hashed slots.
contract BridgedERC20 is ERC20 {
    /// @notice Thrown when a caller other than the bridge mints, burns or initializes.
    error BridgedERC20_NotBridge();

    /// @notice Thrown when `initialize` is called a second time.
    error BridgedERC20_AlreadyInitialized();

    /// @notice Thrown when `initialize` is given the zero address.
    error BridgedERC20_ZeroL1Token();

    /// @notice Thrown when `initialize` is given a name or symbol longer than 64 bytes.
    error BridgedERC20_MetadataTooLong();

    /// @notice Longest name or symbol this token stores (the bridge cuts longer ones on L1).
    uint256 public constant MAX_STRING_BYTES = 64;

    /// @notice Emitted once, when the bridge binds this token to its L1 token.
    /// @param l1Token The L1 token this token represents.
    event Initialized(address indexed l1Token);

    /// @notice The bridge that deployed this token; the only account that may mint and burn.
    address public immutable bridge;

    /// @notice The L1 token this token represents (zero until initialized).
    address public l1Token;

    /// @dev The L1 token's decimals (set once, by `initialize`).
    uint8 private _decimals;

    /// @dev Byte length of `_name`.
    uint8 private _nameLength;

    /// @dev Byte length of `_symbol`.
    uint8 private _symbolLength;

    /// @dev The L1 token's name: its bytes left-aligned in two words, zero past its length.
    bytes32[2] private _name;

    /// @dev The L1 token's symbol: its bytes left-aligned in two words, zero past its length.
    bytes32[2] private _symbol;

    /// @notice Records the deploying bridge, the only account that may initialize, mint and burn.
    constructor() {
        bridge = msg.sender;
    }

    /// @dev Restricts a function to the deploying bridge.
    modifier onlyBridge() {
        if (msg.sender != bridge) revert BridgedERC20_NotBridge();
        _;
    }

    /// @notice Binds this token to its L1 token and takes on its metadata. Callable once, by the
    ///         bridge.
    /// @param l1Token_  The L1 token this token represents.
    /// @param name_     The L1 token's name (the bridge passes at most 64 bytes).
    /// @param symbol_   The L1 token's symbol (the bridge passes at most 64 bytes).
    /// @param decimals_ The L1 token's decimals.
    function initialize(address l1Token_, string calldata name_, string calldata symbol_, uint8 decimals_)
        external
        onlyBridge
    {
        if (l1Token != address(0)) revert BridgedERC20_AlreadyInitialized();
        if (l1Token_ == address(0)) revert BridgedERC20_ZeroL1Token();
        if (bytes(name_).length > MAX_STRING_BYTES || bytes(symbol_).length > MAX_STRING_BYTES) {
            revert BridgedERC20_MetadataTooLong();
        }
        l1Token = l1Token_;
        _decimals = decimals_;
        // casting to 'uint8' is safe because both lengths were checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        _nameLength = uint8(bytes(name_).length);
        // forge-lint: disable-next-line(unsafe-typecast)
        _symbolLength = uint8(bytes(symbol_).length);
        _name = _toWords(name_);
        _symbol = _toWords(symbol_);
        emit Initialized(l1Token_);
    }

    /// @notice Mints `amount` to `to`. Only the bridge, when finalizing a deposit.
    /// @param to     The recipient.
    /// @param amount The amount to mint.
    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from `from`. Only the bridge, when initiating a withdrawal.
    /// @param from   The holder whose tokens are burned.
    /// @param amount The amount to burn.
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }

    /// @notice The token name.
    /// @return The L1 token's name as read at the first deposit ("" if it had none).
    function name() public view override returns (string memory) {
        return _fromWords(_name, _nameLength);
    }

    /// @notice The token symbol.
    /// @return The L1 token's symbol as read at the first deposit ("" if it had none).
    function symbol() public view override returns (string memory) {
        return _fromWords(_symbol, _symbolLength);
    }

    /// @notice The token decimals.
    /// @return The L1 token's decimals as read at the first deposit (18 if it had none).
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev The bytes of `s` (at most 64) left-aligned in two words, zero past its length. Two
    ///      fixed words rather than a `string` keep the first deposit's deployment and storage
    ///      cheap: short strings cost one storage word, 64 bytes two.
    function _toWords(string calldata s) private pure returns (bytes32[2] memory words) {
        assembly ("memory-safe") {
            let length := s.length
            let first := calldataload(s.offset)
            let second := calldataload(add(s.offset, 0x20))
            switch lt(length, 0x20)
            case 1 {
                first := and(first, not(shr(shl(3, length), not(0))))
                second := 0
            }
            default { second := and(second, not(shr(shl(3, sub(length, 0x20)), not(0)))) }
            mstore(words, first)
            mstore(add(words, 0x20), second)
        }
    }

    /// @dev The string of `length` bytes stored by `_toWords` in `words`.
    function _fromWords(bytes32[2] storage words, uint256 length) private view returns (string memory s) {
        s = new string(length);
        if (length != 0) {
            bytes32 first = words[0];
            assembly ("memory-safe") {
                mstore(add(s, 0x20), first)
            }
        }
        if (length > 0x20) {
            bytes32 second = words[1];
            assembly ("memory-safe") {
                mstore(add(s, 0x40), second)
            }
        }
    }

    /// @dev No implicit infinite Permit2 allowance: allowances mean exactly what holders approved.
    function _givePermit2InfiniteAllowance() internal pure override returns (bool) {
        return false;
    }
}
