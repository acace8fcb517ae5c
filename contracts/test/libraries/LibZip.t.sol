// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibZip} from "solady/utils/LibZip.sol";
import {Test} from "../utils/Test.sol";
import {LibZipVectors} from "../fixtures/LibZipVectors.sol";

/// @notice Cross-checks the Rust batch codec's FastLZ (`crates/primitives/src/batch/fastlz.rs`)
///         against solady's LibZip, which the fraud-proof verifier uses to open batches: every
///         vector the Rust side compressed must decompress on chain to the original bytes, and
///         LibZip must compress the original to exactly the Rust output.
contract LibZipTest is Test {
    function test_flzDecompress_rustVectors_succeeds() external pure {
        for (uint256 i; i < LibZipVectors.COUNT; ++i) {
            LibZipVectors.Vector memory v = LibZipVectors.get(i);
            bytes memory output = LibZip.flzDecompress(v.compressed);
            assertEq(keccak256(output), v.inputHash, "flzDecompress(rust compressed) != input");
            assertEq(output.length, v.input.length, "decompressed length");
        }
    }

    function test_flzCompress_rustVectors_succeeds() external pure {
        for (uint256 i; i < LibZipVectors.COUNT; ++i) {
            LibZipVectors.Vector memory v = LibZipVectors.get(i);
            assertEq(keccak256(v.input), v.inputHash, "fixture input hash");
            vm.assertEq(LibZip.flzCompress(v.input), v.compressed, "flzCompress(input) != rust compressed");
        }
    }

    function testFuzz_flzCompress_roundTrip_succeeds(bytes memory data) external pure {
        vm.assertEq(LibZip.flzDecompress(LibZip.flzCompress(data)), data, "round trip");
    }
}
