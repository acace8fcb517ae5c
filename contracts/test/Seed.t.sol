// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "test/utils/Test.sol";
import {IL1Bridge} from "interfaces/IL1Bridge.sol";
import {IStateManager} from "interfaces/IStateManager.sol";
import {L1Bridge} from "src/L1/L1Bridge.sol";
import {StateManager} from "src/L1/StateManager.sol";

/// @notice The seed's interfaces are the public ABI (DESIGN.md §5): every seed function exists
///         with its exact selector and state mutability, in the interfaces and in the contracts
///         that implement them. Checked against the compiled artifacts (what the node, the CLI and
///         any wallet see), not only against Solidity's `.selector`.
/// @dev    Artifacts are read from `$FOUNDRY_OUT` (default `out`, relative to the project root),
///         which must lie inside the `fs_permissions` read path (`./`).
contract SeedTest is Test {
    /// @dev A seed function: its canonical signature, ABI name and input types, mutability and
    ///      single output type ("" for none).
    struct SeedFunction {
        string signature;
        string name;
        string[] inputs;
        string mutability;
        string output;
    }

    function _bridgeSeeds() internal pure returns (SeedFunction[] memory seeds) {
        seeds = new SeedFunction[](3);
        seeds[0] = _seed("deposit", _types4("address", "address", "uint256", "uint32"), "payable", "");
        seeds[1] = _seed("withdraw", _types3("address", "address", "uint256"), "nonpayable", "");
        seeds[2] = _seed("finalizeWithdrawal", _types3("uint256", "address", "uint256"), "nonpayable", "");
    }

    function _stateManagerSeeds() internal pure returns (SeedFunction[] memory seeds) {
        seeds = new SeedFunction[](2);
        seeds[0] = _seed("submitStateRoot", _types3("bytes32", "bytes32", "bytes"), "nonpayable", "");
        seeds[1] = _seed("verifyStateTransition", _types3("bytes32", "bytes32", "bytes"), "nonpayable", "bool");
    }

    function test_seedSelectors_IL1Bridge_succeeds() public view {
        // An interface has no code to compare: the implementation's artifact vouches for the dir.
        _checkFresh(_readArtifact("L1Bridge", "L1Bridge"), "L1Bridge", type(L1Bridge).creationCode);
        _checkArtifact(_readArtifact("IL1Bridge", "IL1Bridge"), "IL1Bridge", _bridgeSeeds());
    }

    function test_seedSelectors_L1Bridge_succeeds() public view {
        string memory json = _readArtifact("L1Bridge", "L1Bridge");
        _checkFresh(json, "L1Bridge", type(L1Bridge).creationCode);
        _checkArtifact(json, "L1Bridge", _bridgeSeeds());
    }

    function test_seedSelectors_IStateManager_succeeds() public view {
        _checkFresh(_readArtifact("StateManager", "StateManager"), "StateManager", type(StateManager).creationCode);
        _checkArtifact(_readArtifact("IStateManager", "IStateManager"), "IStateManager", _stateManagerSeeds());
    }

    function test_seedSelectors_StateManager_succeeds() public view {
        string memory json = _readArtifact("StateManager", "StateManager");
        _checkFresh(json, "StateManager", type(StateManager).creationCode);
        _checkArtifact(json, "StateManager", _stateManagerSeeds());
    }

    /// @dev The selectors Solidity itself computes for the interfaces and the contracts agree
    ///      with the seed signatures.
    function test_seedSelectors_solidity_succeeds() public pure {
        assertEq(IL1Bridge.deposit.selector, bytes4(keccak256("deposit(address,address,uint256,uint32)")));
        assertEq(IL1Bridge.withdraw.selector, bytes4(keccak256("withdraw(address,address,uint256)")));
        assertEq(
            IL1Bridge.finalizeWithdrawal.selector, bytes4(keccak256("finalizeWithdrawal(uint256,address,uint256)"))
        );
        assertEq(L1Bridge.deposit.selector, IL1Bridge.deposit.selector);
        assertEq(L1Bridge.withdraw.selector, IL1Bridge.withdraw.selector);
        assertEq(L1Bridge.finalizeWithdrawal.selector, IL1Bridge.finalizeWithdrawal.selector);
        assertEq(IStateManager.submitStateRoot.selector, bytes4(keccak256("submitStateRoot(bytes32,bytes32,bytes)")));
        assertEq(
            IStateManager.verifyStateTransition.selector,
            bytes4(keccak256("verifyStateTransition(bytes32,bytes32,bytes)"))
        );
        assertEq(StateManager.submitStateRoot.selector, IStateManager.submitStateRoot.selector);
        assertEq(StateManager.verifyStateTransition.selector, IStateManager.verifyStateTransition.selector);
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The artifact `<out>/<file>.sol/<name>.json`.
    function _readArtifact(string memory file, string memory name) internal view returns (string memory) {
        string memory path = string.concat(vm.envOr("FOUNDRY_OUT", string("out")), "/", file, ".sol/", name, ".json");
        try vm.readFile(path) returns (string memory json) {
            return json;
        } catch {
            revert(
                string.concat(
                    "cannot read ", path, ": with --out DIR, run with FOUNDRY_OUT=DIR instead (inside the project)"
                )
            );
        }
    }

    /// @dev The artifact was written by this build (bytecode carries no metadata hash, so equal
    ///      code means the same compilation); a stale `out` would check an old ABI.
    function _checkFresh(string memory json, string memory name, bytes memory creationCode) internal pure {
        assertTrue(
            keccak256(vm.parseJsonBytes(json, ".bytecode.object")) == keccak256(creationCode),
            string.concat(
                name, ": artifact is stale (built from other sources); set FOUNDRY_OUT to this build's out dir"
            )
        );
    }

    /// @dev Asserts that artifact `json` has every seed function: one ABI entry with its name,
    ///      input types, mutability and outputs, and solc's method identifier for its signature
    ///      equal to the keccak selector.
    function _checkArtifact(string memory json, string memory name, SeedFunction[] memory seeds) internal view {
        for (uint256 i; i < seeds.length; ++i) {
            SeedFunction memory seed = seeds[i];
            string memory where = string.concat(name, ".", seed.signature);

            string memory identifierKey = string.concat(".methodIdentifiers['", seed.signature, "']");
            assertTrue(vm.keyExistsJson(json, identifierKey), string.concat(where, ": no function has this signature"));
            string memory identifier = vm.parseJsonString(json, identifierKey);
            assertEq(
                bytes32(bytes4(vm.parseBytes(string.concat("0x", identifier)))),
                bytes32(bytes4(keccak256(bytes(seed.signature)))),
                string.concat(where, ": compiled selector differs from the seed's")
            );

            string memory entry = _findAbiEntry(json, seed);
            assertTrue(bytes(entry).length != 0, string.concat(where, ": not in the ABI"));
            vm.assertEq(
                vm.parseJsonString(json, string.concat(entry, ".stateMutability")),
                seed.mutability,
                string.concat(where, ": state mutability differs from the seed's")
            );
            if (bytes(seed.output).length == 0) {
                assertFalse(
                    vm.keyExistsJson(json, string.concat(entry, ".outputs[0]")),
                    string.concat(where, ": returns a value the seed does not declare")
                );
            } else {
                vm.assertEq(
                    vm.parseJsonString(json, string.concat(entry, ".outputs[0].type")),
                    seed.output,
                    string.concat(where, ": return type differs from the seed's")
                );
                assertFalse(
                    vm.keyExistsJson(json, string.concat(entry, ".outputs[1]")),
                    string.concat(where, ": returns more than the seed declares")
                );
            }
        }
    }

    /// @dev The JSON path (`.abi[i]`) of the function entry with the seed's name and input types,
    ///      or "" if there is none.
    function _findAbiEntry(string memory json, SeedFunction memory seed) internal view returns (string memory) {
        string memory entry = ".abi[0]";
        for (uint256 i = 1; vm.keyExistsJson(json, entry); ++i) {
            if (
                _eq(vm.parseJsonString(json, string.concat(entry, ".type")), "function")
                    && _eq(vm.parseJsonString(json, string.concat(entry, ".name")), seed.name)
                    && _inputsMatch(json, entry, seed.inputs)
            ) return entry;
            entry = string.concat(".abi[", vm.toString(i), "]");
        }
        return "";
    }

    function _inputsMatch(string memory json, string memory entry, string[] memory inputs)
        internal
        view
        returns (bool)
    {
        for (uint256 j; j < inputs.length; ++j) {
            string memory input = string.concat(entry, ".inputs[", vm.toString(j), "]");
            if (!vm.keyExistsJson(json, input)) return false;
            if (!_eq(vm.parseJsonString(json, string.concat(input, ".type")), inputs[j])) return false;
        }
        return !vm.keyExistsJson(json, string.concat(entry, ".inputs[", vm.toString(inputs.length), "]"));
    }

    function _seed(string memory name, string[] memory inputs, string memory mutability, string memory output)
        internal
        pure
        returns (SeedFunction memory seed)
    {
        string memory signature = string.concat(name, "(");
        for (uint256 i; i < inputs.length; ++i) {
            signature = string.concat(signature, i == 0 ? "" : ",", inputs[i]);
        }
        seed = SeedFunction({
            signature: string.concat(signature, ")"), name: name, inputs: inputs, mutability: mutability, output: output
        });
    }

    function _types3(string memory a, string memory b, string memory c) internal pure returns (string[] memory t) {
        t = new string[](3);
        (t[0], t[1], t[2]) = (a, b, c);
    }

    function _types4(string memory a, string memory b, string memory c, string memory d)
        internal
        pure
        returns (string[] memory t)
    {
        t = new string[](4);
        (t[0], t[1], t[2], t[3]) = (a, b, c, d);
    }

    function _eq(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }
}
