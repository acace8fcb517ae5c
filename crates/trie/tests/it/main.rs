//! Integration tests of `rollup-trie`: incremental updates against a from-scratch reference,
//! proofs, known-answer vectors, the Solidity fixture and a throughput measurement.

mod fixture;
mod perf;
mod proofs;
mod reference;
mod updates;
mod vectors;
