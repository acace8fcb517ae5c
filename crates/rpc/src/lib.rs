//! L2 JSON-RPC: `eth_*`, `net_*`, `web3_*` and `rollup_*` over HTTP and WebSocket.
//!
//! [`start_server`] serves [`rpc_module`] on one port (jsonrpsee answers HTTP and WebSocket on
//! the same socket); a host such as reth merges [`rpc_module`] into its own server instead.
//! Responses use the JSON shapes geth and reth emit (hex quantities, camelCase), so cast,
//! alloy, viem and ethers read them. Deposit transactions (type `0x7e`) use the OP Stack's
//! shape; L2 blocks carry a non-standard `l1Origin: {number, hash}`.
//!
//! Block tags: `latest` and `pending` are the stored L2 head (the unsafe head: the node
//! stores every block before it publishes it), `safe` and `finalized` come from the node's
//! [`Heads`], `earliest` is genesis; EIP-1898 objects (`{blockHash}`, `{blockNumber}`) work
//! wherever a block is taken.
//!
//! # Invariants
//! - Handlers only read MDBX through read transactions opened per request and dropped before
//!   the response is sent; they never write, never hold the node's context and never block
//!   the node. EVM calls and log scans run on blocking threads.
//! - One request sees one consistent snapshot: a block, its receipts and the state it is
//!   resolved against come from the same read transaction.
//! - Request data never panics a handler: malformed input is `-32602`, a missing block is
//!   `null` (block and transaction getters) or `-32000` (state queries), storage failures are
//!   `-32603` with the storage error's message.

mod error;
mod eth;
mod rollup;
mod txs;
pub use rollup::{
    AccountProofJson, ProofJson, StorageProofJson, TerminalJson, WithdrawalJson,
    WithdrawalProofJson,
};
mod types;

use std::{net::SocketAddr, sync::Arc};

use rollup_primitives::{Heads, RollupConfig};
use rollup_storage::Store;
use tracing::info;

pub use error::{
    EXECUTION_REVERTED_CODE, INTERNAL_ERROR_CODE, INVALID_PARAMS_CODE, LIMIT_EXCEEDED_CODE, Result,
    RpcError, SERVER_ERROR_CODE,
};
pub use types::{
    BlockTransactionsJson, DepositTransactionJson, L1OriginJson, L2HeadJson, RpcBlock, RpcReceipt,
    RpcTransaction, SyncStatus, TxLocation,
};

/// Default largest block range one `eth_getLogs` may scan.
pub const DEFAULT_MAX_BLOCK_RANGE: u64 = 10_000;

/// Where and how the server listens.
#[derive(Debug, Clone)]
pub struct RpcServerConfig {
    /// Listen address (port 0 picks a free port; [`start_server`] returns the bound one).
    pub addr: SocketAddr,
    /// Largest block range one `eth_getLogs` may scan.
    pub max_block_range: u64,
    /// Most concurrent connections (HTTP and WebSocket together).
    pub max_connections: u32,
}

impl Default for RpcServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_block_range: DEFAULT_MAX_BLOCK_RANGE,
            max_connections: 100,
        }
    }
}

/// What the handlers read: the database, the rollup config and the node's heads.
#[derive(Debug, Clone)]
pub struct RpcContext {
    /// The L2 database (handlers open read transactions only).
    pub store: Store,
    /// The rollup config (chain ids).
    pub config: Arc<RollupConfig>,
    /// The node's heads, for `safe`/`finalized` tags and `rollup_syncStatus`.
    pub heads: tokio::sync::watch::Receiver<Heads>,
    /// The sequencer's transaction pool (`eth_sendRawTransaction`); `None` on replicas.
    pub pool: Option<Arc<rollup_sequencer::TxPool>>,
}

/// Starts HTTP + WebSocket JSON-RPC on one port. Returns the bound address and a handle to
/// stop it (`handle.stop()`, then `handle.stopped().await`).
pub async fn start_server(
    config: RpcServerConfig,
    ctx: RpcContext,
) -> Result<(SocketAddr, jsonrpsee::server::ServerHandle)> {
    let server_error = |reason: String| RpcError::Server {
        addr: config.addr,
        reason,
    };
    let server_config = jsonrpsee::server::ServerConfig::builder()
        .max_connections(config.max_connections)
        .build();
    let server = jsonrpsee::server::Server::builder()
        .set_config(server_config)
        .build(config.addr)
        .await
        .map_err(|err| server_error(err.to_string()))?;
    let addr = server
        .local_addr()
        .map_err(|err| server_error(err.to_string()))?;
    let handle = server.start(rpc_module_with_limits(ctx, config.max_block_range));
    info!(target: "rollup::rpc", %addr, "JSON-RPC server listening (HTTP and WebSocket)");
    Ok((addr, handle))
}

/// Every method of this crate in one module, with the default `eth_getLogs` range limit, so a
/// host (reth) can merge it into its own server.
pub fn rpc_module(ctx: RpcContext) -> jsonrpsee::RpcModule<()> {
    rpc_module_with_limits(ctx, DEFAULT_MAX_BLOCK_RANGE)
}

/// [`rpc_module`] with an explicit `eth_getLogs` block range limit.
pub fn rpc_module_with_limits(ctx: RpcContext, max_block_range: u64) -> jsonrpsee::RpcModule<()> {
    let mut module = eth::module(eth::EthApi {
        ctx,
        max_block_range,
    });
    eth::register(&mut module);
    txs::register(&mut module);
    rollup::register(&mut module);
    module.remove_context()
}
