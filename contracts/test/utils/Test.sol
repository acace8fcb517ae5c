// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The subset of Foundry's cheatcodes this project uses (npm's forge-std is unusable offline).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    // Environment.
    function deal(address account, uint256 newBalance) external;
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function fee(uint256 newBasefee) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function label(address account, string calldata newLabel) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function assume(bool condition) external pure;
    function store(address target, bytes32 slot, bytes32 value) external;
    function prank(address msgSender, address txOrigin) external;
    function startPrank(address msgSender, address txOrigin) external;
    function chainId(uint256 newChainId) external;
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function cool(address target) external;
    function setBlockhash(uint256 blockNumber, bytes32 blockHash) external;
    function getRawBlockHeader(uint256 blockNumber) external view returns (bytes memory rlpHeader);
    function blobhashes(bytes32[] calldata hashes) external;
    function getBlobhashes() external view returns (bytes32[] memory hashes);

    // Expectations.
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function lastCallGas() external view returns (Gas memory gas);

    // Scripts.
    function startBroadcast() external;
    function stopBroadcast() external;
    function envOr(string calldata name, address defaultValue) external view returns (address value);
    function envOr(string calldata name, uint256 defaultValue) external view returns (uint256 value);
    function envOr(string calldata name, bool defaultValue) external view returns (bool value);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory value);
    function envOr(string calldata name, bytes32 defaultValue) external view returns (bytes32 value);
    function envExists(string calldata name) external view returns (bool result);
    function envAddress(string calldata name) external view returns (address value);
    function envUint(string calldata name) external view returns (uint256 value);
    function setEnv(string calldata name, string calldata value) external;

    // Files and JSON (reads need `fs_permissions` in foundry.toml).
    function readFile(string calldata path) external view returns (string memory data);
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseBytes(string calldata value) external pure returns (bytes memory parsedValue);
    function toString(uint256 value) external pure returns (string memory stringifiedValue);
    function toString(address value) external pure returns (string memory stringifiedValue);
    function toString(bytes32 value) external pure returns (string memory stringifiedValue);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);

    // Assertions (revert with a descriptive message on failure).
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    function assertEq(address left, address right, string calldata err) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata err) external pure;
    function assertEq(bool left, bool right, string calldata err) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata err) external pure;
    function assertEq(string calldata left, string calldata right, string calldata err) external pure;
    function assertTrue(bool condition, string calldata err) external pure;
    function assertFalse(bool condition, string calldata err) external pure;
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    function assertGe(uint256 left, uint256 right, string calldata err) external pure;
    function assertLt(uint256 left, uint256 right, string calldata err) external pure;
    function assertGt(uint256 left, uint256 right, string calldata err) external pure;
}

/// @notice Logging through Foundry's console precompile.
library console {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal view {
        _send(abi.encodeWithSignature("log(string)", message));
    }

    function log(string memory label, address value) internal view {
        _send(abi.encodeWithSignature("log(string,address)", label, value));
    }

    function log(string memory label, uint256 value) internal view {
        _send(abi.encodeWithSignature("log(string,uint256)", label, value));
    }

    function _send(bytes memory payload) private view {
        (bool ok,) = CONSOLE.staticcall(payload);
        ok;
    }
}

/// @notice Minimal shared base of scripts and tests: the cheatcode handle.
abstract contract CommonBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}

/// @notice Minimal script base (forge runs `run()`).
abstract contract Script is CommonBase {
    bool public IS_SCRIPT = true;
}

/// @notice Minimal test base: assertions, `bound`, `makeAddr` and the invariant-target
///         registry forge queries (`targetContracts()`, `targetSelectors()`, ...), as in
///         forge-std's StdInvariant.
abstract contract Test is CommonBase {
    /// @notice Selectors of one target contract that the invariant fuzzer may call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    bool public IS_TEST = true;

    address[] private _targetedContracts;
    address[] private _excludedContracts;
    address[] private _targetedSenders;
    address[] private _excludedSenders;
    FuzzSelector[] private _targetedSelectors;

    // ---------------------------------------------------------------- assertions

    function assertEq(uint256 left, uint256 right) internal pure {
        vm.assertEq(left, right, "assertEq(uint256)");
    }

    function assertEq(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(address left, address right) internal pure {
        vm.assertEq(left, right, "assertEq(address)");
    }

    function assertEq(address left, address right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(bytes32 left, bytes32 right) internal pure {
        vm.assertEq(left, right, "assertEq(bytes32)");
    }

    function assertEq(bytes32 left, bytes32 right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(bool left, bool right) internal pure {
        vm.assertEq(left, right, "assertEq(bool)");
    }

    function assertEq(bool left, bool right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(bytes memory left, bytes memory right) internal pure {
        vm.assertEq(left, right, "assertEq(bytes)");
    }

    function assertEq(string memory left, string memory right) internal pure {
        vm.assertEq(left, right, "assertEq(string)");
    }

    function assertEq(bytes memory left, bytes memory right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertEq(string memory left, string memory right, string memory err) internal pure {
        vm.assertEq(left, right, err);
    }

    function assertTrue(bool condition) internal pure {
        vm.assertTrue(condition, "assertTrue");
    }

    function assertTrue(bool condition, string memory err) internal pure {
        vm.assertTrue(condition, err);
    }

    function assertFalse(bool condition) internal pure {
        vm.assertFalse(condition, "assertFalse");
    }

    function assertFalse(bool condition, string memory err) internal pure {
        vm.assertFalse(condition, err);
    }

    function assertLe(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertLe(left, right, err);
    }

    function assertGe(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertGe(left, right, err);
    }

    function assertLt(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertLt(left, right, err);
    }

    function assertGt(uint256 left, uint256 right, string memory err) internal pure {
        vm.assertGt(left, right, err);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev Maps `x` into [min, max] uniformly enough for fuzzing, keeping in-range values as is
    ///      (forge-std's `_bound`).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);
        if (x > max) {
            uint256 diff = x - max;
            uint256 rem = diff % size;
            if (rem == 0) return max;
            return min + rem - 1;
        }
        uint256 diff2 = min - x;
        uint256 rem2 = diff2 % size;
        if (rem2 == 0) return min;
        return max - rem2 + 1;
    }

    /// @dev A labelled address derived from `name`.
    function makeAddr(string memory name) internal returns (address account) {
        account = vm.addr(uint256(keccak256(bytes(name))));
        vm.label(account, name);
    }

    // ---------------------------------------------------------------- invariant targets

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function excludeContract(address target) internal {
        _excludedContracts.push(target);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeSender(address sender) internal {
        _excludedSenders.push(sender);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    /// @notice Contracts the invariant fuzzer calls (queried by forge).
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @notice Contracts the invariant fuzzer never calls (queried by forge).
    function excludeContracts() public view returns (address[] memory) {
        return _excludedContracts;
    }

    /// @notice Senders the invariant fuzzer uses (queried by forge).
    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    /// @notice Senders the invariant fuzzer never uses (queried by forge).
    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    /// @notice Per-contract selectors the invariant fuzzer calls (queried by forge).
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }
}
