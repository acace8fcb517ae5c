//! `--blob-work`: what the node's KZG work costs on this machine, step by step, in one thread
//! (the node runs it on its `rollup-kzg` threads the same way).
//!
//! The blobs hold keccak-derived bytes, which FastLZ cannot shrink, like the compressed
//! segments a batch carries; KZG's cost does not depend on the values anyway.

use std::time::{Duration, Instant};

use alloy_eips::eip4844::Blob;
use alloy_primitives::keccak256;
use rollup_l1::SidecarFormat;
use rollup_primitives::{BLOB_DATA_SIZE, KZG_PRECOMPUTE};

/// L1 bytes per ETH transfer in row (b) (`docs/benchmarks.md`), to put each step per transfer.
const BYTES_PER_TRANSFER: f64 = 89.0;

/// Times each blob step on `count` blobs and prints a table.
pub(crate) fn run(count: usize) -> eyre::Result<()> {
    let count = count.max(1);
    println!(
        "\n=== blob work: {count} blobs, one thread, KZG setup at precompute {KZG_PRECOMPUTE} ==="
    );
    let start = Instant::now();
    rollup_primitives::kzg_settings();
    let setup = start.elapsed();
    println!(
        "loading the trusted setup (once per process): {:.2} s",
        setup.as_secs_f64()
    );

    let blobs = random_blobs(count);
    let per_blob = |took: Duration| took.as_secs_f64() * 1000.0 / count as f64;
    let transfers_per_blob = BLOB_DATA_SIZE as f64 / BYTES_PER_TRANSFER;
    let row = |what: &str, took: Duration| {
        let ms = per_blob(took);
        println!(
            "{what:<58} {ms:>8.1} ms/blob {:>8.1} µs/transfer",
            ms * 1000.0 / transfers_per_blob
        );
    };
    println!(
        "{:<58} {:>16} {:>20}",
        "step",
        "",
        format!("(at {BYTES_PER_TRANSFER} B, {transfers_per_blob:.0}/blob)")
    );

    let start = Instant::now();
    for blob in &blobs {
        rollup_l1::versioned_hash(blob.as_slice()).map_err(|err| eyre::eyre!(err))?;
    }
    row(
        "commitment (derivation checks a blob it did not build)",
        start.elapsed(),
    );

    let start = Instant::now();
    rollup_l1::sidecar_in(blobs.clone(), None, SidecarFormat::Eip4844)
        .map_err(|err| eyre::eyre!(err))?;
    row(
        "EIP-4844 sidecar: commitment + blob proof (before Osaka)",
        start.elapsed(),
    );

    let start = Instant::now();
    rollup_l1::sidecar_in(blobs, None, SidecarFormat::Eip7594).map_err(|err| eyre::eyre!(err))?;
    row(
        "EIP-7594 sidecar: commitment + 128 cell proofs (Osaka)",
        start.elapsed(),
    );
    Ok(())
}

/// `count` blobs of pseudo-random data.
fn random_blobs(count: usize) -> Vec<Blob> {
    let mut data = Vec::with_capacity(count * BLOB_DATA_SIZE);
    let mut seed = keccak256(b"rollup-bench blob work");
    while data.len() < count * BLOB_DATA_SIZE {
        data.extend_from_slice(seed.as_slice());
        seed = keccak256(seed);
    }
    data.truncate(count * BLOB_DATA_SIZE);
    rollup_primitives::to_blobs(&data)
}
