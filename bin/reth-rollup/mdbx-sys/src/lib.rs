//! `signet-mdbx-sys`'s API served from reth's `reth-mdbx-sys`.
//!
//! Both are bindgen output of libmdbx's `mdbx.h` (signet's crate is a fork of reth's); reth's
//! links libmdbx v0.13.12, signet's v0.13.7. Two copies of the same C symbols in one binary let
//! the linker keep one of them for both, so one of the two Rust bindings would run on C code it
//! was not generated for. Re-exporting reth's bindings under signet's crate name leaves exactly
//! one libmdbx, reth's, which both reth's L1 database and the rollup's L2 database use.
#![allow(unreachable_pub)]

pub use reth_mdbx_sys::*;
