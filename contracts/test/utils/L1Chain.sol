// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CommonBase} from "test/utils/Test.sol";
import {L1Headers} from "test/utils/L1Headers.sol";

/// @notice A simulated L1 for BatchInbox tests: block `n` has timestamp `timestampOf(n)` and a
///         real RLP header chained to its parent's, made when first needed (`sealTo`) and
///         announced to the EVM with `vm.setBlockhash` (and to the EIP-2935 history contract,
///         once `enableHistory` installed its real code). Moving on is `roll`.
contract L1Chain is CommonBase {
    /// @notice The EIP-2935 history contract's address and its runtime code (Prague).
    address public constant HISTORY_STORAGE_ADDRESS = 0x0000F90827F1C53a10cb7A02335B175320002935;
    bytes public constant HISTORY_STORAGE_CODE =
        hex"3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500";
    uint256 public constant HISTORY_SERVE_WINDOW = 8191;

    /// @notice Seconds between L1 blocks.
    uint256 public constant BLOCK_TIME = 12;

    /// @notice The first block with a header (the L2 genesis origin in tests).
    uint256 public immutable firstBlock;

    /// @notice Timestamp of block 0 (block n has `timestampBase + n * BLOCK_TIME`).
    uint256 public immutable timestampBase;

    /// @notice The newest block with a header.
    uint256 public sealedUpTo;

    /// @notice Whether sealed hashes are also written to the history contract.
    bool public historyEnabled;

    mapping(uint256 number => bytes) internal _headers;

    /// @notice Each sealed block's hash.
    mapping(uint256 number => bytes32) public hashOf;

    /// @notice Starts at block `firstBlock_`: rolls there, seals it, and rolls one further (a
    ///         block's hash is known once the chain has moved past it).
    constructor(uint256 firstBlock_, uint256 timestampBase_) {
        firstBlock = firstBlock_;
        timestampBase = timestampBase_;
        sealedUpTo = firstBlock_ - 1;
        _rollTo(firstBlock_ + 1);
        sealTo(firstBlock_);
    }

    /// @notice The timestamp of block `number`.
    function timestampOf(uint256 number) public view returns (uint256) {
        return timestampBase + number * BLOCK_TIME;
    }

    /// @notice Moves L1 forward by `blocks` blocks (number and timestamp).
    function roll(uint256 blocks) external {
        _rollTo(block.number + blocks);
    }

    /// @notice Makes the headers of every block up to `number` (which must be in the past).
    function sealTo(uint256 number) public {
        require(number < block.number, "L1Chain: cannot seal the current or a future block");
        for (uint256 n = sealedUpTo + 1; n <= number; ++n) {
            bytes32 parentHash = n == firstBlock ? keccak256("before the first block") : hashOf[n - 1];
            bytes memory encoded = L1Headers.make(parentHash, n, timestampOf(n));
            bytes32 hash = keccak256(encoded);
            _headers[n] = encoded;
            hashOf[n] = hash;
            vm.setBlockhash(n, hash);
            if (historyEnabled) vm.store(HISTORY_STORAGE_ADDRESS, bytes32(n % HISTORY_SERVE_WINDOW), hash);
        }
        if (number > sealedUpTo) sealedUpTo = number;
    }

    /// @notice The header of block `number` (sealing up to it first).
    function header(uint256 number) external returns (bytes memory) {
        sealTo(number);
        return _headers[number];
    }

    /// @notice The headers of blocks `from..to` (inclusive; empty if `from > to`).
    function headers(uint256 from, uint256 to) external returns (bytes[] memory list) {
        if (from > to) return new bytes[](0);
        sealTo(to);
        list = new bytes[](to - from + 1);
        for (uint256 n = from; n <= to; ++n) {
            list[n - from] = _headers[n];
        }
    }

    /// @notice Installs the real EIP-2935 history contract and fills it with the sealed hashes
    ///         it would hold (the last HISTORY_SERVE_WINDOW blocks).
    function enableHistory() external {
        vm.etch(HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE);
        historyEnabled = true;
        uint256 from = block.number > HISTORY_SERVE_WINDOW ? block.number - HISTORY_SERVE_WINDOW : 0;
        for (uint256 n = from < firstBlock ? firstBlock : from; n <= sealedUpTo; ++n) {
            vm.store(HISTORY_STORAGE_ADDRESS, bytes32(n % HISTORY_SERVE_WINDOW), hashOf[n]);
        }
    }

    function _rollTo(uint256 number) internal {
        vm.roll(number);
        vm.warp(timestampOf(number));
    }
}
