// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LibZip} from "solady/utils/LibZip.sol";
import {Test, console} from "test/utils/Test.sol";
import {LibZipVectors} from "test/fixtures/LibZipVectors.sol";
import {LibFastLZ} from "src/libraries/LibFastLZ.sol";

/// @notice A plain byte-by-byte strict decoder, line for line `flz_decompress` in
///         `crates/primitives/src/batch/fastlz.rs`: the reference the assembly is fuzzed against.
library ReferenceFastLZ {
    function decompress(bytes memory input, uint256 maxOutput) internal pure returns (bool, bytes memory) {
        bytes memory out = new bytes(maxOutput);
        uint256 len;
        uint256 i;
        while (i < input.length) {
            uint256 control = uint8(input[i]);
            uint256 kind = control >> 5;
            if (kind == 0) {
                uint256 run = control + 1;
                if (i + 1 + run > input.length) return (false, "");
                if (len + run > maxOutput) return (false, "");
                for (uint256 k; k < run; ++k) {
                    out[len++] = input[i + 1 + k];
                }
                i += 1 + run;
                continue;
            }
            uint256 matchLen;
            uint256 low;
            uint256 size;
            if (kind == 7) {
                if (i + 2 >= input.length) return (false, "");
                matchLen = 9 + uint256(uint8(input[i + 1]));
                low = uint8(input[i + 2]);
                size = 3;
            } else {
                if (i + 1 >= input.length) return (false, "");
                matchLen = 2 + kind;
                low = uint8(input[i + 1]);
                size = 2;
            }
            uint256 distance = ((control & 0x1f) << 8 | low) + 1;
            if (distance > len) return (false, "");
            if (len + matchLen > maxOutput) return (false, "");
            uint256 start = len - distance;
            for (uint256 k; k < matchLen; ++k) {
                out[len++] = out[start + k];
            }
            i += size;
        }
        assembly {
            mstore(out, len)
        }
        return (true, out);
    }
}

/// @notice Exposes the library externally, so its gas can be measured per call.
contract LibFastLZHarness {
    /// @dev Gas of the decompression alone (no ABI copies).
    function decompressGas(bytes memory input, uint256 maxOutput) external view returns (bool ok, uint256 gasUsed) {
        uint256 before = gasleft();
        (ok,) = LibFastLZ.decompress(input, maxOutput);
        gasUsed = before - gasleft();
    }
}

/// @notice `LibFastLZ`: the same bytes as solady's LibZip on every well-formed stream, the same
///         verdict as the Rust decoder on every stream, and no revert on any.
contract LibFastLZTest is Test {
    LibFastLZHarness internal harness = new LibFastLZHarness();

    function _decompress(bytes memory input, uint256 maxOutput) internal pure returns (bool ok, bytes memory out) {
        return LibFastLZ.decompress(input, maxOutput);
    }

    function _assertFails(bytes memory input, uint256 maxOutput, string memory why) internal pure {
        (bool ok, bytes memory out) = _decompress(input, maxOutput);
        assertFalse(ok, why);
        assertEq(out.length, 0, "no output on failure");
        (bool refOk,) = ReferenceFastLZ.decompress(input, maxOutput);
        assertFalse(refOk, "reference agrees");
    }

    function test_decompress_rustVectors_succeeds() external pure {
        for (uint256 i; i < LibZipVectors.COUNT; ++i) {
            LibZipVectors.Vector memory v = LibZipVectors.get(i);
            (bool ok, bytes memory out) = _decompress(v.compressed, v.input.length);
            assertTrue(ok, "vector decompresses");
            assertEq(keccak256(out), v.inputHash, "vector output");
            if (v.input.length > 0) {
                _assertFails(v.compressed, v.input.length - 1, "one byte short of the bound");
            }
        }
    }

    function test_decompress_empty_succeeds() external pure {
        (bool ok, bytes memory out) = _decompress("", 0);
        assertTrue(ok, "empty stream");
        assertEq(out.length, 0, "empty output");
    }

    function test_decompress_literalPastEnd_fails() external pure {
        _assertFails(hex"03010203", 100, "literal run of 4 with 3 bytes");
        _assertFails(hex"1f", 100, "literal run with no bytes");
        _assertFails(hex"00aa01bb", 100, "second literal run short");
    }

    function test_decompress_truncatedMatch_fails() external pure {
        _assertFails(hex"000920", 100, "short match without its distance byte");
        _assertFails(hex"0009e0", 100, "long match without its length byte");
        _assertFails(hex"0009e000", 100, "long match without its distance byte");
    }

    function test_decompress_distanceBeforeStart_fails() external pure {
        _assertFails(hex"2000", 100, "match before any output");
        _assertFails(hex"00092001", 100, "distance 2 after one byte");
        _assertFails(hex"0109092101", 100, "distance 258 after two bytes");
        (bool ok,) = _decompress(hex"0109092001", 100);
        assertTrue(ok, "distance 2 after two bytes");
    }

    function test_decompress_outputBound_fails() external pure {
        bytes memory data = new bytes(10_000);
        for (uint256 i; i < data.length; ++i) {
            data[i] = bytes1(uint8(i % 7));
        }
        bytes memory compressed = LibZip.flzCompress(data);
        (bool ok, bytes memory out) = _decompress(compressed, 10_000);
        assertTrue(ok, "at the bound");
        assertEq(out, data, "output");
        _assertFails(compressed, 9_999, "a match past the bound");
        _assertFails(hex"0301020304", 3, "a literal run past the bound");
        (ok,) = _decompress(hex"0301020304", 4);
        assertTrue(ok, "a literal run at the bound");
    }

    function test_decompress_overlappingRuns_succeeds() external pure {
        (bool ok, bytes memory out) = _decompress(hex"00092000", 100);
        assertTrue(ok, "run");
        assertEq(out, hex"09090909", "one byte repeated");
        // Every distance 1..40 with every length 3..300 repeats the pattern.
        for (uint256 distance = 1; distance <= 40; distance += 3) {
            for (uint256 len = 3; len <= 264; len += 37) {
                bytes memory stream = _literals(distance);
                stream = bytes.concat(stream, _match(len, distance));
                (ok, out) = _decompress(stream, 1000);
                assertTrue(ok, "overlapping match");
                (bool refOk, bytes memory expected) = ReferenceFastLZ.decompress(stream, 1000);
                assertTrue(refOk, "reference");
                assertEq(out, expected, "overlapping match output");
                assertEq(out.length, distance + len, "length");
            }
        }
    }

    function testFuzz_decompress_roundTrip_succeeds(bytes memory data) external pure {
        (bool ok, bytes memory out) = _decompress(LibZip.flzCompress(data), data.length);
        assertTrue(ok, "round trip");
        assertEq(out, data, "round trip output");
    }

    function testFuzz_decompress_roundTripCompressible_succeeds(uint256 seed, uint256 len, uint256 alphabet)
        external
        pure
    {
        len = bound(len, 0, 6_000);
        alphabet = bound(alphabet, 1, 4);
        bytes memory data = new bytes(len);
        for (uint256 i; i < len; ++i) {
            if (i % 32 == 0) seed = uint256(keccak256(abi.encode(seed)));
            data[i] = bytes1(uint8((seed >> (8 * (i % 32))) % alphabet));
        }
        bytes memory compressed = LibZip.flzCompress(data);
        (bool ok, bytes memory out) = _decompress(compressed, len);
        assertTrue(ok, "round trip");
        assertEq(out, data, "round trip output");
        assertEq(out, LibZip.flzDecompress(compressed), "solady agrees");
    }

    /// @dev Random streams: the verdict and output of the Rust-equivalent reference, and, when
    ///      well formed, solady's output. Reaching the assertions means nothing reverted.
    function testFuzz_decompress_garbage_matchesReference(bytes memory input, uint256 maxOutput) external pure {
        maxOutput = bound(maxOutput, 0, 4096);
        (bool ok, bytes memory out) = _decompress(input, maxOutput);
        (bool refOk, bytes memory expected) = ReferenceFastLZ.decompress(input, maxOutput);
        vm.assertEq(ok, refOk, "verdict");
        assertEq(out, expected, "output");
        if (ok) assertEq(out, LibZip.flzDecompress(input), "solady agrees");
    }

    /// @dev Streams made of valid-looking instructions, so most pass and the checks are reached
    ///      deep into the stream.
    function testFuzz_decompress_instructionStreams_matchesReference(uint256 seed, uint256 count) external pure {
        count = bound(count, 1, 200);
        bytes memory stream;
        uint256 produced;
        for (uint256 i; i < count; ++i) {
            seed = uint256(keccak256(abi.encode(seed)));
            uint256 kind = seed % 8;
            if (kind == 0 || produced == 0) {
                uint256 run = (seed >> 8) % 32 + 1;
                stream = bytes.concat(stream, _literals(run));
                produced += run;
            } else {
                // Mostly in range, sometimes one past.
                uint256 distance = (seed >> 16) % (produced + 1) + 1;
                if (distance > 8192) distance = 8192;
                uint256 len = kind == 7 ? 9 + (seed >> 32) % 256 : kind + 2;
                stream = bytes.concat(stream, _match(len, distance));
                produced += len;
            }
        }
        if (seed % 5 == 0) {
            assembly {
                mstore(stream, sub(mload(stream), 1))
            }
        }
        uint256 maxOutput = seed % 3 == 0 ? produced - 1 : produced;
        (bool ok, bytes memory out) = _decompress(stream, maxOutput);
        (bool refOk, bytes memory expected) = ReferenceFastLZ.decompress(stream, maxOutput);
        vm.assertEq(ok, refOk, "verdict");
        assertEq(out, expected, "output");
    }

    /// @dev The most instructions a 32 KiB segment can hold, each the dearest of its kind:
    ///      2-byte matches of 3 bytes at distance 1 (runs), and 2-byte literal runs.
    function test_decompress_worstCaseGas() external view {
        uint256 size = 32_768;
        bytes memory runs = new bytes(size);
        runs[1] = 0x42;
        for (uint256 i = 2; i + 1 < size; i += 2) {
            runs[i] = 0x20; // length 3, distance 1
        }
        (bool ok, uint256 runsGas) = harness.decompressGas(runs, 65_536);
        assertTrue(ok, "runs");

        bytes memory literals = new bytes(size);
        for (uint256 i; i < size; i += 2) {
            literals[i + 1] = bytes1(uint8(i));
        }
        uint256 literalsGas;
        (ok, literalsGas) = harness.decompressGas(literals, 65_536);
        assertTrue(ok, "literals");

        // The longest runs: 264 bytes per 3-byte instruction, past the payload bound.
        bytes memory longRuns = new bytes(2 + 3 * ((size - 2) / 3));
        longRuns[1] = 0x42;
        for (uint256 i = 2; i < longRuns.length; i += 3) {
            longRuns[i] = 0xe0;
            longRuns[i + 1] = 0xfd;
        }
        uint256 longRunsGas;
        (ok, longRunsGas) = harness.decompressGas(longRuns, 65_536);
        assertFalse(ok, "long runs exceed the payload bound");
        console.log("decompress 16k short runs, gas", runsGas);
        console.log("decompress 16k one-byte literals, gas", literalsGas);
        console.log("decompress long runs to the bound, gas", longRunsGas);
        assertLt(runsGas, 5_500_000, "short runs gas");
        assertLt(literalsGas, 3_500_000, "literals gas");
    }

    /// @dev `count` literal bytes 1, 2, ... as one or more literal runs.
    function _literals(uint256 count) internal pure returns (bytes memory stream) {
        uint256 written;
        while (written < count) {
            uint256 run = count - written > 32 ? 32 : count - written;
            bytes memory chunk = new bytes(run + 1);
            chunk[0] = bytes1(uint8(run - 1));
            for (uint256 k; k < run; ++k) {
                chunk[k + 1] = bytes1(uint8(written + k + 1));
            }
            stream = bytes.concat(stream, chunk);
            written += run;
        }
    }

    /// @dev One match instruction (len 3..264; distance 1..8192).
    function _match(uint256 len, uint256 distance) internal pure returns (bytes memory) {
        uint256 d = distance - 1;
        if (len < 9) return abi.encodePacked(uint8(((len - 2) << 5) | (d >> 8)), uint8(d));
        return abi.encodePacked(uint8(0xe0 | (d >> 8)), uint8(len - 9), uint8(d));
    }
}
