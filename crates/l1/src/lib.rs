//! L1 follower over JSON-RPC: turns any L1 execution node (anvil, reth, geth) into a stream of
//! [`L1Notification`](rollup_primitives::L1Notification)s with reth ExEx semantics, so the rollup
//! core runs the same behind reth or behind a plain RPC endpoint.
//!
//! [`L1Follower`] polls `eth_blockNumber`, fetches each new block with full transactions and its
//! receipts ([`L1Rpc::fetch_block`]), and remembers the last [`WINDOW_DEPTH`] canonical blocks to
//! recognise reorgs: when a new block does not extend the remembered tip, or the tip is no longer
//! canonical, it searches down for the fork point and reports `Reorged{old, new}` (or
//! `Reverted{old}` when L1 has no replacement yet).
//!
//! [`L1Sender`] lands the roles' L1 transactions (batches, proposals): one nonce at a time,
//! with fee bumps and resubmission until mined.
//!
//! # Invariants
//!
//! - Every `Committed` chain extends the tip of everything reported before it: its first block's
//!   parent is the previous notification's new tip (or `known[0]` at start).
//! - A `Reorged`/`Reverted` `old` chain is exactly the blocks previously reported (or passed as
//!   `known`) above the fork point, in ascending order, and `new` starts right above the fork.
//!   Blocks from `known`, and blocks deeper than [`FULL_BLOCKS_KEPT`] below the tip, appear in
//!   `old` with header fields only.
//! - Every reported block carries one receipt per transaction, in order, read by the block's
//!   hash; data mixed from two forks is detected and refetched, never reported.
//! - No `Committed` chain is longer than `max_blocks_per_notification`.
//! - Temporary RPC failures never stop the follower; a rate-limited call is retried at once a
//!   few times, a failed poll with backoff, logged (target `rollup::l1`) and counted
//!   (`rollup_l1_rpc_errors_total`). Answers that do not add up are refetched and counted
//!   (`rollup_l1_inconsistent_answers_total`); five polls in a row of them log a warning. A
//!   block the node does not serve (`null` below its head: a lagging load-balanced backend) is
//!   asked for again a few times, and the blocks below it are reported meanwhile, so following
//!   advances as long as each block is served in the end.
//!
//! - Every JSON-RPC request to the L1 node is timed (`rollup_l1_request_seconds{method}`): an
//!   answer slower than 2 s is warned about when slow answers start and then once a minute, a
//!   request unanswered after 5 s is logged once before its timeout, and the log says when the
//!   node answers in time again.
//!
//! Metrics: gauges `rollup_l1_head` and `rollup_l1_followed_block`, counters
//! `rollup_l1_reorgs_total`, `rollup_l1_rpc_errors_total` and
//! `rollup_l1_inconsistent_answers_total`, summary `rollup_l1_request_seconds{method}`.

mod blobs;
mod error;
mod follower;
mod header;
mod in_process;
mod kzg_thread;
mod rpc;
mod sender;
mod transport;

pub use blobs::{
    BlobSource, KnownBlobs, MAX_SERVED_BLOBS, SidecarFormat, blob_batch_transactions,
    rebuild_blob_batch, sidecar, sidecar_in, versioned_hash,
};
pub use error::{
    L1Error, REPEATED_FAILURE_WARN_EVERY, RepeatedFailure, Result, call_failure, printable,
};
pub use follower::{BlobConfig, FULL_BLOCKS_KEPT, L1Follower, L1FollowerConfig, WINDOW_DEPTH};
pub use header::header_rlp;
pub use in_process::InProcessTransport;
pub use kzg_thread::{
    KZG_CHECK_THREAD_NAME, KZG_THREAD_NAME, KZG_THREAD_NICE, KZG_URGENT_THREAD_NAME, kzg_work,
    kzg_work_unless_urgent, start_kzg_thread, urgent_kzg_work,
};
pub use rpc::L1Rpc;
pub use sender::{L1Sender, Prepared, SenderConfig};
pub use transport::http_client_with_timeout;
