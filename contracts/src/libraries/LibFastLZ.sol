// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title LibFastLZ
/// @notice Strict FastLZ (level 1) decompression of the stream format solady's
///         `LibZip.flzCompress` writes, with a bound on the output: the on-chain twin of
///         `flz_decompress` in `crates/primitives/src/batch/fastlz.rs`, and the same verdict on
///         every input.
///         solady's `LibZip.flzDecompress` trusts its input: a truncated instruction reads past
///         the end of the stream and a back-reference before the start of the output reads
///         whatever memory lies there. Here those streams fail instead, and nothing reverts on
///         content, so a fraud proof can open untrusted batch data.
/// @dev    Stream: a control byte `c`; `c >> 5 == 0` is a literal run of `c + 1` bytes that
///         follow; otherwise a match of length `(c >> 5) + 2`, or `9 + next byte` when
///         `c >> 5 == 7`, at distance `((c & 31) << 8 | last byte) + 1` back in the output.
///         A match longer than its distance repeats the last `distance` bytes (a run). Long
///         runs are copied with MCOPY in doubling chunks, so a 264-byte run of one byte costs 9
///         copies, not 264 iterations; short ones (at most 8 bytes) are repeated in one word.
library LibFastLZ {
    /// @notice Decompresses `input`, producing at most `maxOutput` bytes.
    /// @param input     The FastLZ stream (empty decompresses to empty).
    /// @param maxOutput The most bytes the output may hold.
    /// @return ok     False if a literal run passes the end of the input, a match instruction is
    ///                truncated, a match refers to bytes before the start of the output, or the
    ///                output would exceed `maxOutput`.
    /// @return output The decompressed bytes; empty when `ok` is false.
    function decompress(bytes memory input, uint256 maxOutput) internal pure returns (bool ok, bytes memory output) {
        assembly ("memory-safe") {
            // Nothing addressable is larger; keeps `outStart + maxOutput` from wrapping.
            if gt(maxOutput, 0xffffffff) { maxOutput := 0xffffffff }
            output := mload(0x40)
            let outStart := add(output, 0x20)
            let outLimit := add(outStart, maxOutput)
            let op := outStart
            let ip := add(input, 0x20)
            let ipEnd := add(ip, mload(input))
            ok := 1
            // `ip` only grows and the loop stops once it reaches the end, so an instruction that
            // runs past the end is the last one: one check after the loop finds it. Reading
            // past the end meanwhile is harmless, what it produces is discarded.
            // Literal runs and short matches make at most 4 bytes per input byte, so they may
            // overshoot `outLimit` by a bounded amount: one check after the loop finds that too
            // (the output only grows). Long matches, up to 88 bytes per input byte, are checked
            // one by one.
            for {} lt(ip, ipEnd) {} {
                let w := mload(ip)
                let c := byte(0, w)
                if lt(sub(c, 0x20), 0xc0) {
                    // Short match of 3..8 bytes (0x20 <= c < 0xe0): one word. Writing the whole
                    // word is harmless: the bytes past the match are written again, or past the
                    // end.
                    let len := add(shr(5, c), 2)
                    let distance := add(and(shr(240, w), 0x1fff), 1)
                    ip := add(ip, 2)
                    if gt(distance, sub(op, outStart)) {
                        ok := 0
                        break
                    }
                    let x := mload(sub(op, distance))
                    if lt(distance, len) {
                        // A run of period d = distance < 8: the d bytes times
                        // floor((2^256 - 1) / (2^(8d) - 1)), which is 2^s * (1 + 2^(8d) + ...),
                        // repeat them from the top of the word, at least 28 bytes.
                        let bits := shl(3, distance)
                        x := mul(shr(sub(256, bits), x), div(not(0), sub(shl(bits, 1), 1)))
                    }
                    mstore(op, x)
                    op := add(op, len)
                    continue
                }
                if lt(c, 0x20) {
                    // Literal run of c + 1 bytes.
                    let run := add(c, 1)
                    let src := add(ip, 1)
                    ip := add(src, run)
                    mcopy(op, src, run)
                    op := add(op, run)
                    continue
                }
                // Long match of 9 + next byte (9..264) bytes.
                let len := add(9, byte(1, w))
                let distance := add(or(shl(8, and(c, 0x1f)), byte(2, w)), 1)
                ip := add(ip, 3)
                if or(gt(distance, sub(op, outStart)), gt(add(op, len), outLimit)) {
                    ok := 0
                    break
                }
                let src := sub(op, distance)
                switch lt(distance, len)
                case 0 { mcopy(op, src, len) }
                default {
                    // [src, op + done) repeats with period `distance` and `done` is a multiple
                    // of it, so copying from `src` extends the run: 1, 3, 7, 15... periods.
                    mcopy(op, src, distance)
                    for { let done := distance } lt(done, len) {} {
                        let chunk := add(done, distance)
                        if gt(chunk, sub(len, done)) { chunk := sub(len, done) }
                        mcopy(add(op, done), src, chunk)
                        done := add(done, chunk)
                    }
                }
                op := add(op, len)
            }
            if gt(op, outLimit) { ok := 0 }
            if gt(ip, ipEnd) { ok := 0 }
            if iszero(ok) { op := outStart }
            mstore(output, sub(op, outStart))
            mstore(op, 0) // Zero the word after the bytes, as Solidity's own allocations do.
            mstore(0x40, add(op, 0x20))
        }
    }
}
