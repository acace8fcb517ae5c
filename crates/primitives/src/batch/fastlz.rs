//! FastLZ (level 1), byte-compatible with solady's `LibZip.flzCompress` / `flzDecompress`.
//!
//! The compressor is a line-by-line port of solady's (MIT) so that `flz_compress` produces
//! exactly the bytes `LibZip.flzCompress` produces on chain. The hash is computed exactly in 64
//! bits as the EVM does; solady's JavaScript reference multiplies in floating point and can
//! differ on large inputs, so the Solidity code is the reference.
//!
//! The decompressor is stricter than `LibZip.flzDecompress`, which reads past the end of its
//! input or before the start of its output on malformed streams instead of failing. Here a
//! truncated instruction, a back-reference before the start of the output, or an output larger
//! than the caller's bound is an error. On well-formed streams both produce the same bytes.

use super::BatchError;

/// Bits of the compressor's hash table index (8192 entries).
const HASH_LOG: u32 = 13;
/// The largest back-reference distance an instruction can encode.
const MAX_DISTANCE: usize = 8191;
/// Inputs shorter than this are emitted as literals only.
const MIN_INPUT_FOR_MATCHES: usize = 13;

/// Compresses `input` exactly as solady's `LibZip.flzCompress` does.
pub fn flz_compress(input: &[u8]) -> Vec<u8> {
    let len = input.len();
    let mut out = Vec::with_capacity(len + len / 32 + 1);
    let mut table = vec![0usize; 1 << HASH_LOG];
    let u24 = |i: usize| {
        u32::from(input[i]) | (u32::from(input[i + 1]) << 8) | (u32::from(input[i + 2]) << 16)
    };
    let hash = |v: u32| ((2_654_435_769_u64 * u64::from(v)) >> 19) as usize & ((1 << HASH_LOG) - 1);

    let mut anchor = 0;
    if len > MIN_INPUT_FOR_MATCHES {
        let limit = len - MIN_INPUT_FOR_MATCHES;
        let mut ip = 2;
        while ip < limit {
            // Find the next position whose 3 bytes occurred within the window.
            let mut reference;
            let mut distance;
            loop {
                let seq = u24(ip);
                let slot = hash(seq);
                reference = table[slot];
                table[slot] = ip;
                distance = ip - reference;
                if ip >= limit {
                    break;
                }
                ip += 1;
                if distance <= MAX_DISTANCE && seq == u24(reference) {
                    break;
                }
            }
            if ip >= limit {
                break;
            }
            ip -= 1;
            if ip > anchor {
                emit_literals(&input[anchor..ip], &mut out);
            }
            // Length of the match beyond its first 3 bytes, plus one on a mismatch (as FastLZ's
            // `flz_cmp`); never zero because `ip < limit`.
            let mut bound = len - 7 - ip;
            let mut extra = 0;
            while extra < bound {
                if input[reference + 3 + extra] != input[ip + 3 + extra] {
                    bound = 0;
                }
                extra += 1;
            }
            ip += extra;
            emit_match(extra, distance - 1, &mut out);
            table[hash(u24(ip))] = ip;
            ip += 1;
            table[hash(u24(ip))] = ip;
            ip += 1;
            anchor = ip;
        }
    }
    emit_literals(&input[anchor..], &mut out);
    out
}

fn emit_literals(mut literals: &[u8], out: &mut Vec<u8>) {
    while !literals.is_empty() {
        let run = literals.len().min(32);
        out.push((run - 1) as u8);
        out.extend_from_slice(&literals[..run]);
        literals = &literals[run..];
    }
}

fn emit_match(mut len: usize, distance: usize, out: &mut Vec<u8>) {
    let high = (distance >> 8) as u8;
    let low = distance as u8;
    while len > 262 {
        out.extend_from_slice(&[224 + high, 253, low]);
        len -= 262;
    }
    if len < 7 {
        out.extend_from_slice(&[((len as u8) << 5) + high, low]);
    } else {
        out.extend_from_slice(&[224 + high, (len - 7) as u8, low]);
    }
}

/// Decompresses a FastLZ stream produced by [`flz_compress`] or `LibZip.flzCompress`, refusing
/// to produce more than `max_output` bytes.
///
/// Never panics and never allocates more than `max_output` bytes (plus the input's length),
/// whatever the input.
pub fn flz_decompress(input: &[u8], max_output: usize) -> Result<Vec<u8>, BatchError> {
    let err = |offset, reason| BatchError::Decompress { offset, reason };
    let mut out = Vec::with_capacity(input.len().saturating_mul(2).min(max_output));
    let mut i = 0;
    while i < input.len() {
        let control = input[i];
        let kind = control >> 5;
        if kind == 0 {
            let run = usize::from(control) + 1;
            let literals = input
                .get(i + 1..i + 1 + run)
                .ok_or(err(i, "literal run past the end"))?;
            if out.len() + run > max_output {
                return Err(err(i, "output exceeds the size limit"));
            }
            out.extend_from_slice(literals);
            i += 1 + run;
            continue;
        }
        let (len, low, size) = if kind == 7 {
            let ext = *input.get(i + 1).ok_or(err(i, "truncated long match"))?;
            let low = *input.get(i + 2).ok_or(err(i, "truncated long match"))?;
            (9 + usize::from(ext), low, 3)
        } else {
            let low = *input.get(i + 1).ok_or(err(i, "truncated match"))?;
            (2 + usize::from(kind), low, 2)
        };
        let distance = (usize::from(control & 0x1f) << 8 | usize::from(low)) + 1;
        if distance > out.len() {
            return Err(err(i, "match refers before the start of the output"));
        }
        if out.len() + len > max_output {
            return Err(err(i, "output exceeds the size limit"));
        }
        let start = out.len() - distance;
        // Byte by byte: the source may overlap the bytes being written (runs).
        for k in start..start + len {
            out.push(out[k]);
        }
        i += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::tests::Rng;
    use alloy_primitives::{hex, keccak256};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let compressed = flz_compress(&data);
            prop_assert_eq!(flz_decompress(&compressed, data.len())?, data);
        }

        #[test]
        fn round_trip_compressible(data in proptest::collection::vec(0u8..4, 0..20_000)) {
            let compressed = flz_compress(&data);
            prop_assert_eq!(flz_decompress(&compressed, data.len())?, data);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(out) = flz_decompress(&data, 4096) {
                prop_assert!(out.len() <= 4096);
            }
        }
    }

    #[test]
    fn output_bound_is_enforced() {
        let data = vec![7u8; 10_000];
        let compressed = flz_compress(&data);
        assert!(compressed.len() < 200);
        assert_eq!(flz_decompress(&compressed, 10_000).unwrap(), data);
        assert!(matches!(
            flz_decompress(&compressed, 9_999),
            Err(BatchError::Decompress {
                reason: "output exceeds the size limit",
                ..
            })
        ));
    }

    #[test]
    fn malformed_streams_are_rejected() {
        // Literal run of 4 with only 3 bytes.
        assert!(flz_decompress(&[3, 1, 2, 3], 100).is_err());
        // Match before any output.
        assert!(flz_decompress(&[0x20, 0], 100).is_err());
        // Match reaching before the start.
        assert!(flz_decompress(&[0, 9, 0x20, 1], 100).is_err());
        // Truncated matches.
        assert!(flz_decompress(&[0, 9, 0x20], 100).is_err());
        assert!(flz_decompress(&[0, 9, 0xe0, 0], 100).is_err());
        // A valid overlapping match: one literal then copy it 3 times.
        assert_eq!(
            flz_decompress(&[0, 9, 0x20, 0], 100).unwrap(),
            vec![9, 9, 9, 9]
        );
    }

    /// Inputs whose compression the forge test cross-checks against solady on chain.
    fn vectors() -> Vec<Vec<u8>> {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let mut vectors = vec![
            Vec::new(),
            vec![0x42],
            b"0123456789ab".to_vec(),
            b"0123456789abc".to_vec(),
            b"0123456789abcd".to_vec(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            vec![0; 1000],
            vec![0xff; 263 + 9],
            b"the quick brown fox jumps over the lazy dog; the quick brown fox jumps again"
                .repeat(20),
        ];
        for len in [20, 33, 64, 100, 300, 1000, 3000] {
            for alphabet in [2, 16, 256] {
                vectors.push(rng.bytes(len, alphabet));
            }
        }
        vectors.push(rng.bytes(12_000, 4));
        // Long-distance repeats: a block repeated at distances around the 8191 window.
        for gap in [8190, 8191, 8192] {
            let block = rng.bytes(40, 256);
            let mut data = block.clone();
            data.extend(rng.bytes(gap - 40, 256));
            data.extend(&block);
            data.extend(rng.bytes(20, 256));
            vectors.push(data);
        }
        vectors.push(super::super::tests::sample_payload());
        vectors
    }

    fn render_fixture() -> String {
        let mut sol = String::from(
            "// SPDX-License-Identifier: MIT\n\
             // GENERATED by `cargo test -p rollup-primitives batch::fastlz` with UPDATE_FIXTURES=1.\n\
             // Do not edit: the Rust test fails when this file is stale.\n\
             pragma solidity ^0.8.28;\n\n\
             /// @notice FastLZ vectors from the Rust batch codec (`flz_compress`), cross-checked\n\
             ///         against solady's LibZip in test/libraries/LibZip.t.sol.\n\
             library LibZipVectors {\n\
             \x20   struct Vector {\n\
             \x20       bytes input;\n\
             \x20       bytes compressed;\n\
             \x20       bytes32 inputHash;\n\
             \x20   }\n\n",
        );
        let vectors = vectors();
        sol.push_str(&format!(
            "    uint256 internal constant COUNT = {};\n\n    function get(uint256 i) internal pure returns (Vector memory v) {{\n",
            vectors.len()
        ));
        for (i, input) in vectors.iter().enumerate() {
            let compressed = flz_compress(input);
            sol.push_str(&format!(
                "        if (i == {i}) return Vector(hex\"{}\", hex\"{}\", {});\n",
                hex::encode(input),
                hex::encode(&compressed),
                keccak256(input),
            ));
        }
        sol.push_str("        revert(\"LibZipVectors: index out of range\");\n    }\n}\n");
        sol
    }

    #[test]
    fn solidity_fixture_is_fresh() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/test/fixtures/LibZipVectors.sol"
        );
        let expected = render_fixture();
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
            std::fs::write(path, &expected).unwrap();
            return;
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is stale: rerun with UPDATE_FIXTURES=1 and run the LibZip forge test"
        );
    }

    #[test]
    fn vectors_round_trip() {
        for input in vectors() {
            let compressed = flz_compress(&input);
            assert_eq!(flz_decompress(&compressed, input.len()).unwrap(), input);
        }
    }
}
