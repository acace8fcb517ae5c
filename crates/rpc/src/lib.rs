//! L2 JSON-RPC: `eth_*`, `net_*`, `web3_*`, `debug_trace*` and `rollup_*` over HTTP and
//! WebSocket.
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
//!   the node. Every handler that reads the database (or the pool) runs on a blocking thread,
//!   never on the async workers that accept connections, so a slow read cannot stall cheap
//!   requests such as `eth_chainId`.
//! - Heavy requests (`eth_call`, `eth_estimateGas`, `eth_getLogs`, `eth_feeHistory`,
//!   `rollup_getProof`, `rollup_getWithdrawalProof`, `rollup_getTraceClaim`, `debug_trace*`:
//!   those that execute or scan) run at most
//!   [`RpcServerConfig::max_heavy_requests`] at a time; one that finds no slot within
//!   [`RpcServerConfig::heavy_queue_timeout`] is answered "server busy" (`-32005`).
//! - An EVM call runs with at most [`RpcServerConfig::gas_cap`] gas and stops after
//!   [`RpcServerConfig::evm_timeout`] of wall-clock time, whatever its code does; a trace
//!   (`debug_trace*`, which replays the block up to the transaction) too, and it records at most
//!   [`MAX_TRACE_BYTES`] of trace data.
//! - A full MDBX reader table is retried briefly, then answered "server busy" (`-32005`); it
//!   never fails anything but the request.
//! - One request sees one consistent snapshot: a block, its receipts and the state it is
//!   resolved against come from the same read transaction.
//! - Live feeds (`eth_subscribe`, filters) never make the node wait: one task reads each new
//!   block after the node published it and hands it to every subscriber and filter through
//!   bounded broadcast channels; a reader more than [`CHAIN_EVENT_BUFFER`] blocks behind is
//!   dropped with an error, never silently skipped.
//! - What a WebSocket client asks for is bounded by what it reads ([`start_server`] only): its
//!   requests are not read while it is behind on its answers or runs
//!   [`MAX_RUNNING_CALLS_PER_CONNECTION`] calls, an answer past [`MAX_OWED_BYTES_PER_CONNECTION`]
//!   owed (or [`MAX_OWED_BYTES`] over all connections) is replaced by `-32005`, and a client that
//!   reads nothing for [`CLIENT_READ_TIMEOUT`] is disconnected.
//! - Request data never panics a handler: malformed input is `-32602`, a missing block is
//!   `null` (block and transaction getters) or `-32000` (state queries), storage failures are
//!   `-32603` with the storage error's message.

mod debug;
mod error;
mod eth;
mod filters;
mod flow;
pub use flow::{
    CLIENT_READ_TIMEOUT, MAX_OWED_BYTES, MAX_OWED_BYTES_PER_CLIENT, MAX_OWED_BYTES_PER_CONNECTION,
    MAX_RUNNING_CALLS_PER_CONNECTION, SMALL_ANSWER_BYTES,
};
mod http_subscriptions;
mod ids;
mod overrides;
mod pubsub;
mod rollup;
mod txpool;
mod txs;
pub use rollup::{
    AccountProofJson, OutputRootJson, ProofJson, StorageProofJson, TerminalJson, TraceClaimJson,
    TraceStateJson, WithdrawalJson, WithdrawalProofJson,
};
mod types;

mod l1_reader;
mod rollup_data;
mod status;
pub use l1_reader::{L1_READ_TIMEOUT, L1HeadJson, L1Reader};
pub use rollup_data::{
    MAX_BLOCK_STATS, MAX_LIST_COUNT, MAX_SCANNED_L1_BLOCKS, WITHDRAWAL_SCAN_BLOCKS,
};
pub use status::{STATUS_PATHS, StatusPage, StatusPageLayer};

use std::{net::SocketAddr, sync::Arc, time::Duration};

use rollup_primitives::{Heads, Health, RollupConfig};
use rollup_storage::Store;
use tracing::{debug, info};

pub use error::{
    EXECUTION_REVERTED_CODE, INTERNAL_ERROR_CODE, INVALID_PARAMS_CODE, LIMIT_EXCEEDED_CODE, Result,
    RpcError, SERVER_ERROR_CODE,
};
pub use filters::FILTER_EXPIRY;
pub use pubsub::{CHAIN_EVENT_BUFFER, LIVE_FEED_LOGS, MAX_LIVE_CRITERIA, REORG_WINDOW};
pub use types::{
    BlockTransactionsJson, DaBacklogJson, DepositTransactionJson, L1OriginJson, L2HeadJson,
    RpcBlock, RpcReceipt, RpcTransaction, SyncStatus, TxLocation,
};

pub use debug::MAX_TRACE_BYTES;

/// Largest response the server sends (jsonrpsee's default is 10 MB): room for a trace at
/// [`MAX_TRACE_BYTES`] with margin for the estimate; reth's default is 160 MB.
pub const MAX_RESPONSE_BYTES: u32 = 64 << 20;

/// Most requests in one JSON-RPC batch (geth's limit): a larger batch is refused whole with
/// `-32010`, so one HTTP body cannot hold a connection's handler for seconds.
pub const MAX_BATCH_REQUESTS: u32 = 1_000;

/// Default most logs one `eth_getLogs` over several blocks returns (reth's
/// `--rpc.max-logs-per-response`): the result is built in memory before the response size limit
/// can apply.
pub const DEFAULT_MAX_LOGS_PER_RESPONSE: usize = 20_000;

/// Default largest block range one `eth_getLogs` may scan.
pub const DEFAULT_MAX_BLOCK_RANGE: u64 = 10_000;
/// Default most subscriptions one WebSocket connection may hold (reth's and jsonrpsee's).
pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 1024;
/// Default most filters installed at once, for all clients together (HTTP has no connection
/// to count them by).
pub const DEFAULT_MAX_FILTERS: usize = 10_000;
/// Default gas cap of `eth_call` and `eth_estimateGas` (reth's and geth's `--rpc.gascap`).
pub const DEFAULT_GAS_CAP: u64 = 50_000_000;
/// Default wall-clock limit of one `eth_call` or `eth_estimateGas` (reth's `--rpc.evm-timeout`,
/// geth's `--rpc.evmtimeout`).
pub const DEFAULT_EVM_TIMEOUT: Duration = Duration::from_secs(5);
/// Default longest wait of a heavy request for a free slot before it is answered "server busy":
/// as long as one call may run, so a request queued behind running calls normally gets a slot.
pub const DEFAULT_HEAVY_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time an HTTP connection may go without sending a whole request's headers before it
/// is closed: geth's idle timeout for keep-alive connections (120 s), longer than the 90 s
/// reqwest's pool (so alloy's and cast's) and Go's keep idle connections for, so those clients
/// never send on a connection the server is closing at that moment.
pub const DEFAULT_HTTP_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Default number of heavy requests run at once: twice the CPU cores (at least 4). They are
/// mostly CPU-bound (EVM) or page-cache reads, so more would only share the same cores.
pub fn default_max_heavy_requests() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .saturating_mul(2)
        .max(4)
}

/// Where and how the server listens, and the limits every request runs within.
#[derive(Debug, Clone)]
pub struct RpcServerConfig {
    /// Listen address (port 0 picks a free port; [`start_server`] returns the bound one).
    pub addr: SocketAddr,
    /// Largest block range one `eth_getLogs` may scan; 0 for no limit, as reth's flag.
    pub max_block_range: u64,
    /// Most logs one `eth_getLogs` over several blocks returns (one block's always come whole),
    /// and about the most one filter poll returns; 0 for no limit, as reth's flag.
    pub max_logs_per_response: usize,
    /// Most concurrent connections (HTTP and WebSocket together). WebSockets may hold at most
    /// [`websocket_cap`] of them, so plain HTTP always has room.
    pub max_connections: u32,
    /// Most concurrent connections from one client address (0 for no cap), so one client
    /// cannot hold every slot of [`Self::max_connections`] (a thousand idle WebSockets locked
    /// every other client out). Loopback clients are not capped: a reverse proxy on the host
    /// (whose clients all come from its address) caps its own, and local tools trust the host.
    pub max_connections_per_ip: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty: none). A request from
    /// one of these addresses is held to the per-client shares as the address the proxies
    /// recorded (the rightmost in the header that is not itself a trusted proxy), and the
    /// proxy's own connections are not capped per address. A header from any other peer is
    /// ignored: a client cannot pose as another.
    pub trusted_proxies: Vec<IpRange>,
    /// Most gas one `eth_call` or `eth_estimateGas` may use. As reth: an `eth_call` that asks for
    /// more is refused ("intrinsic gas too high"), one that asks for none gets this much (more
    /// than the block gas limit, if the cap is higher); `eth_estimateGas` searches up to it.
    pub gas_cap: u64,
    /// Wall-clock limit of one `eth_call` or `eth_estimateGas` (all its trial runs together);
    /// past it the call is stopped and answered "execution aborted (timeout = …)".
    pub evm_timeout: Duration,
    /// Most heavy requests (those that execute or scan) running at once.
    pub max_heavy_requests: usize,
    /// Longest a heavy request waits for a slot before it is answered "server busy".
    pub heavy_queue_timeout: Duration,
    /// Most `eth_subscribe` subscriptions one WebSocket connection may hold; one more is
    /// refused (`-32006`).
    pub max_subscriptions_per_connection: u32,
    /// Most filters (`eth_new*Filter`) installed at once, for all clients together; one more
    /// is refused (`-32005`).
    pub max_filters: usize,
    /// Most logs the live feeds (subscriptions, filters) hold over the blocks they buffer
    /// ([`LIVE_FEED_LOGS`]); a block past it is sent without its logs, and a log subscriber or
    /// filter that could match it is dropped with an error naming the block.
    pub live_feed_logs: usize,
    /// Web origins a browser may call the HTTP endpoint from (CORS), as geth's
    /// `--http.corsdomain`: `*` for any, or a comma-separated list such as
    /// `http://localhost:3000,https://app.example`. `None` sends no CORS headers, so browsers
    /// refuse pages from other origins (WebSocket is not subject to CORS).
    pub cors_domains: Option<String>,
    /// How long an HTTP connection may go without sending a whole request's headers (idle
    /// between requests, or a request half sent) before it is closed
    /// ([`DEFAULT_HTTP_IDLE_TIMEOUT`]). WebSockets, once upgraded, are not held to it.
    pub http_idle_timeout: Duration,
}

/// The CORS layer for `domains` (see [`RpcServerConfig::cors_domains`]): preflights answered,
/// `POST` and `GET` allowed with a JSON body. Something that is not an origin (a browser sends
/// `scheme://host[:port]`, or `null`) is an error naming it: it would never match.
pub fn cors_layer(domains: &str) -> std::result::Result<tower_http::cors::CorsLayer, String> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<&str> = domains
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .collect();
    if origins.is_empty() {
        return Err("no origin given: use `*` or a comma-separated list of origins".into());
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .map(|origin| {
                    check_origin(origin)?;
                    http::HeaderValue::from_str(origin)
                        .map_err(|_| format!("`{origin}` is not a valid origin"))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
        )
    };
    // Any request header, as geth allows: an SDK that adds `Authorization` or its own header
    // (for a gateway in front of the node) would otherwise fail the browser's preflight. The
    // headers asked for are named back, as geth's CORS does: the `*` wildcard never covers
    // `Authorization`.
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([http::Method::POST, http::Method::GET])
        .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(600)))
}

/// Whether `origin` has the form a browser's `Origin` header has.
fn check_origin(origin: &str) -> std::result::Result<(), String> {
    if origin == "null" {
        return Ok(());
    }
    let form = "an origin is scheme://host[:port], such as http://localhost:3000";
    let Some((scheme, authority)) = origin.split_once("://") else {
        return Err(format!("`{origin}` is not an origin: {form}"));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let authority_ok = !authority.is_empty()
        && !authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#@".contains(c));
    if !scheme_ok || !authority_ok {
        let hint = if authority.contains('/') {
            " (without a path or trailing slash)"
        } else {
            ""
        };
        return Err(format!("`{origin}` is not an origin: {form}{hint}"));
    }
    Ok(())
}

/// [`RpcServerConfig::max_connections`]'s default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1_000;

/// The most WebSockets open at once out of `max_connections`: all but a tenth (at least one),
/// kept for plain HTTP. A WebSocket stays open as long as its client likes, idle or not, so without this a
/// thousand idle ones (ten addresses at the per-address cap) refused every HTTP request with
/// `429`, the status page's included.
pub const fn websocket_cap(max_connections: u32) -> u32 {
    let for_http = if max_connections / 10 > 1 {
        max_connections / 10
    } else {
        1
    };
    max_connections.saturating_sub(for_http)
}

/// [`RpcServerConfig::max_connections_per_ip`]'s default: a tenth of the connections.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: u32 = 100;

/// The address a request came from, for the per-client shares of node-wide budgets (the
/// connections, the installed filters and what they name, see [`PER_CLIENT_SHARE`]); `None`
/// for a loopback client, which is not held to a share. An IPv6 client is its /64: one host is
/// routinely given a whole /64, and taking each of its addresses for another client would let
/// it hold every share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddr(pub(crate) Option<std::net::IpAddr>);

impl ClientAddr {
    /// The client at `ip`.
    pub(crate) fn of(ip: std::net::IpAddr) -> Self {
        let ip = match ip.to_canonical() {
            std::net::IpAddr::V6(v6) if !v6.is_loopback() => {
                std::net::IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())
            }
            ip => ip,
        };
        Self((!ip.is_loopback()).then_some(ip))
    }

    /// The client a call came from, as its connection recorded it (uncapped if none did: a
    /// module called without this server, as in tests).
    pub(crate) fn from_extensions(extensions: &jsonrpsee::Extensions) -> Self {
        extensions.get::<Self>().copied().unwrap_or(Self(None))
    }
}

/// A range of addresses, `10.0.0.0/8` or `fd00::/8`, or one address (`127.0.0.1`): a trusted
/// proxy of [`RpcServerConfig::trusted_proxies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` is in this range (an IPv4-mapped IPv6 address as its IPv4 one).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        // Both as 128-bit numbers with their width; a range of the other family holds nothing.
        let (range, ip, bits) = match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(range), IpAddr::V4(ip)) => {
                (u32::from(range).into(), u32::from(ip).into(), 32)
            }
            (IpAddr::V6(range), IpAddr::V6(ip)) => (u128::from(range), u128::from(ip), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        range.checked_shr(shift).unwrap_or(0) == ip.checked_shr(shift).unwrap_or(0)
    }
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
        let addr: std::net::IpAddr = addr.trim().parse().map_err(|_| {
            format!("{text:?} is not an address or a range such as 10.0.0.0/8 or fd00::/8")
        })?;
        let addr = addr.to_canonical();
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            bits
        } else {
            prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?
        };
        Ok(Self { addr, prefix })
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Whether `ip` is one of `proxies`.
fn is_trusted(proxies: &[IpRange], ip: std::net::IpAddr) -> bool {
    proxies.iter().any(|range| range.contains(ip))
}

/// The client of a request from `peer` with `headers`: where `peer` is a trusted proxy, the
/// rightmost address of `X-Forwarded-For` (all of its headers in order) that is not itself a
/// trusted proxy, which a trusted proxy wrote (a client controls only what comes before it);
/// the leftmost if all are trusted; `peer` itself without such a header, where one entry does
/// not parse (a proxy that writes something else), or from any other peer.
pub(crate) fn client_of(
    peer: std::net::IpAddr,
    headers: &http::HeaderMap,
    proxies: &[IpRange],
) -> ClientAddr {
    if !is_trusted(proxies, peer) {
        return ClientAddr::of(peer);
    }
    let mut forwarded = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return ClientAddr::of(peer);
        };
        for entry in value.split(',') {
            let entry = entry.trim();
            // An address, or one with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
            let Some(ip) = entry
                .parse::<std::net::IpAddr>()
                .ok()
                .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
            else {
                return ClientAddr::of(peer);
            };
            forwarded.push(ip);
        }
    }
    let client = forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(proxies, **ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer);
    ClientAddr::of(client)
}

/// One client address may hold at most this fraction (1 / N) of the installed filters and of
/// the addresses and topics installed filters and log subscriptions name: one client filled
/// both for every other client before.
pub const PER_CLIENT_SHARE: usize = 10;

/// Connections open per client address, for [`RpcServerConfig::max_connections_per_ip`].
#[derive(Debug, Default)]
struct PerIp {
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, u32>>,
}

/// One admitted connection of a capped address: its slot is freed when it is dropped.
#[derive(Debug)]
pub(crate) struct PerIpSlot {
    per_ip: Arc<PerIp>,
    ip: std::net::IpAddr,
}

impl PerIp {
    /// Admits a connection from `client` if its address has fewer than `cap` open (a loopback
    /// client, or `cap` 0, always): `Some` holds its slot (`None` inside for an uncapped one).
    fn admit(self: &Arc<Self>, client: ClientAddr, cap: u32) -> Option<Option<PerIpSlot>> {
        let Some(ip) = client.0.filter(|_| cap != 0) else {
            return Some(None);
        };
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Some(PerIpSlot {
            per_ip: Arc::clone(self),
            ip,
        }))
    }
}

impl Drop for PerIpSlot {
    fn drop(&mut self) {
        let mut open = self
            .per_ip
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl Default for RpcServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_block_range: DEFAULT_MAX_BLOCK_RANGE,
            max_logs_per_response: DEFAULT_MAX_LOGS_PER_RESPONSE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            trusted_proxies: Vec::new(),
            gas_cap: DEFAULT_GAS_CAP,
            evm_timeout: DEFAULT_EVM_TIMEOUT,
            max_heavy_requests: default_max_heavy_requests(),
            heavy_queue_timeout: DEFAULT_HEAVY_QUEUE_TIMEOUT,
            max_subscriptions_per_connection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
            max_filters: DEFAULT_MAX_FILTERS,
            live_feed_logs: LIVE_FEED_LOGS,
            cors_domains: None,
            http_idle_timeout: DEFAULT_HTTP_IDLE_TIMEOUT,
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
    /// A view of L1 for the methods that report L1 state (proposals, where withdrawals stand);
    /// `None` if the node has no L1 link, and those methods say so.
    pub l1: Option<L1Reader>,
    /// The health of the roles this process runs (`rollup_getRoles`).
    pub health: Health,
}

impl RpcContext {
    /// A context without an L1 view and with no roles reporting health: add them with
    /// [`Self::with_l1`] and [`Self::with_health`].
    pub fn new(
        store: Store,
        config: Arc<RollupConfig>,
        heads: tokio::sync::watch::Receiver<Heads>,
        pool: Option<Arc<rollup_sequencer::TxPool>>,
    ) -> Self {
        Self {
            store,
            config,
            heads,
            pool,
            l1: None,
            health: Health::default(),
        }
    }

    /// Reads L1 through `l1`.
    #[must_use]
    pub fn with_l1(mut self, l1: L1Reader) -> Self {
        self.l1 = Some(l1);
        self
    }

    /// Reports the roles of `health`.
    #[must_use]
    pub fn with_health(mut self, health: Health) -> Self {
        self.health = health;
        self
    }
}

/// Starts HTTP + WebSocket JSON-RPC on one port, with the status page at `GET /`
/// ([`StatusPageLayer`]). Returns the bound address and a handle to stop it (`handle.stop()`,
/// then `handle.stopped().await`, which waits for every connection to finish).
///
/// The server accepts connections itself (jsonrpsee serves each) so that every socket goes
/// through a flow-controlled stream: a WebSocket client that does not read its answers stops being
/// read, instead of making the node hold every answer it asks for.
pub async fn start_server(
    config: RpcServerConfig,
    ctx: RpcContext,
) -> Result<(SocketAddr, jsonrpsee::server::ServerHandle)> {
    let server_error = |reason: String| RpcError::Server {
        addr: config.addr,
        reason,
    };
    let cors = config
        .cors_domains
        .as_deref()
        .map(cors_layer)
        .transpose()
        .map_err(|reason| server_error(format!("CORS domains: {reason}")))?;
    let server_config = jsonrpsee::server::ServerConfig::builder()
        .max_connections(config.max_connections)
        .max_request_body_size(ids::MAX_REWRITTEN_BYTES)
        .max_response_body_size(MAX_RESPONSE_BYTES)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
            MAX_BATCH_REQUESTS,
        ))
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_id_provider(pubsub::HexIdProvider)
        .build();
    let services = jsonrpsee::server::Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .option_layer(cors)
                .layer(StatusPageLayer)
                .layer(http_subscriptions::MarkPlainHttpLayer)
                .layer(ids::OddIdsLayer),
        )
        .set_rpc_middleware(
            jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
                .layer_fn(flow::FlowRpc)
                .layer_fn(http_subscriptions::HttpSubscriptions),
        )
        .to_service_builder();
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|err| server_error(err.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|err| server_error(err.to_string()))?;
    let methods = jsonrpsee::Methods::from(rpc_module_with_limits(ctx, &config));
    let (stop, handle) = jsonrpsee::server::stop_channel();
    tokio::spawn(async move {
        let stopped = stop.clone().shutdown();
        tokio::pin!(stopped);
        let owed = Arc::new(flow::OwedBytes::default());
        let websockets = Arc::new(flow::WebSockets::new(websocket_cap(config.max_connections)));
        let per_ip = Arc::new(PerIp::default());
        let cap = config.max_connections_per_ip;
        let idle_timeout = config.http_idle_timeout;
        let trusted_proxies: Arc<[IpRange]> = config.trusted_proxies.clone().into();
        loop {
            let (socket, peer) = tokio::select! {
                () = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors, say: try again shortly rather than spin.
                        debug!(target: "rollup::rpc", %err, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            // A trusted proxy carries many clients: its connections are not capped per
            // address (each request names its client, `flow::WithFlow`).
            let client = if is_trusted(&trusted_proxies, peer.ip()) {
                ClientAddr(None)
            } else {
                ClientAddr::of(peer.ip())
            };
            let Some(slot) = per_ip.admit(client, cap) else {
                metrics::counter!("rollup_rpc_connections_refused_total", "reason" => "per_ip")
                    .increment(1);
                debug!(target: "rollup::rpc", peer = %peer.ip(), cap, "refused a connection: its address has the most connections one address may hold");
                // Said in plain HTTP if the socket takes it at once; closed either way.
                let _ = socket.try_write(too_many_connections(cap).as_bytes());
                continue;
            };
            // Answers go out as soon as they are written, as jsonrpsee's own server sets it.
            let _ = socket.set_nodelay(true);
            let flow = Arc::new(flow::Flow::new(Arc::clone(&owed), client.0));
            // The address's slot lives as long as the socket: with the connection's flow,
            // which the socket keeps, also after an upgrade hands it to the WebSocket. Held by
            // the connection's task alone, it was given back the moment hyper handed the
            // upgraded socket over, and one address could open every WebSocket there is.
            flow.hold_client_slot(slot);
            let service = flow::WithFlow {
                inner: services.clone().build(methods.clone(), stop.clone()),
                flow: Arc::clone(&flow),
                websockets: Arc::clone(&websockets),
                peer: peer.ip(),
                trusted_proxies: Arc::clone(&trusted_proxies),
            };
            let connection_stopped = stop.clone().shutdown();
            tokio::spawn(async move {
                let socket = flow::FlowStream::new(socket, flow);
                if let Err(err) =
                    serve_http1(socket, service, idle_timeout, connection_stopped).await
                {
                    debug!(target: "rollup::rpc", %err, "connection ended with an error");
                }
            });
        }
    });
    info!(
        target: "rollup::rpc", %addr,
        gas_cap = config.gas_cap, evm_timeout = ?config.evm_timeout,
        max_heavy_requests = config.max_heavy_requests,
        "JSON-RPC server listening (HTTP and WebSocket)"
    );
    Ok((addr, handle))
}

/// The HTTP answer to a connection over its address's cap (429, as a rate-limiting proxy).
fn too_many_connections(cap: u32) -> String {
    let body = format!(
        "too many connections from this address: at most {cap} at once; close idle ones or reuse them\n"
    );
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Serves one connection as HTTP/1.1, with its upgrade to WebSocket, until it ends or `stopped`
/// resolves (then it finishes the requests under way and closes).
///
/// Only HTTP/1.1, as geth and reth serve JSON-RPC: jsonrpsee's own connection helper would also
/// take HTTP/2 without TLS, whose streams (about 200 per connection) the WebSocket flow control
/// does not see. A client that opens with HTTP/2's preface gets the connection closed.
async fn serve_http1<I, S, B>(
    io: I,
    service: S,
    idle_timeout: Duration,
    stopped: impl std::future::Future<Output = ()>,
) -> std::result::Result<(), hyper::Error>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body<Data = hyper::body::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // hyper's header read timeout: a connection that sends no request, or half of one, is
    // closed instead of kept for ever (3 000 idle ones held 3 000 file descriptors, and, with
    // the descriptors used up, the RPC). Its clock runs from the end of the previous answer,
    // so it is also the keep-alive idle timeout: hyper's default of 30 s closed connections
    // that clients' pools (90 s) still sent on, and a request could meet the close.
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .serve_connection(
            hyper_util::rt::TokioIo::new(io),
            hyper_util::service::TowerToHyperService::new(service),
        )
        .with_upgrades();
    tokio::pin!(connection, stopped);
    tokio::select! {
        done = &mut connection => done,
        () = &mut stopped => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}

/// Every method of this crate in one module, with the default limits
/// ([`RpcServerConfig::default`]), so a host (reth) can merge it into its own server.
pub fn rpc_module(ctx: RpcContext) -> jsonrpsee::RpcModule<()> {
    rpc_module_with_limits(ctx, &RpcServerConfig::default())
}

/// [`rpc_module`] with the request limits of `config` (its address and connection limit belong
/// to a server and are not used here). The heavy-request slots belong to the module: two
/// modules built from one config have twice the slots.
pub fn rpc_module_with_limits(
    ctx: RpcContext,
    config: &RpcServerConfig,
) -> jsonrpsee::RpcModule<()> {
    let live = pubsub::Live::new(&ctx, config.max_filters, config.live_feed_logs);
    let mut module = eth::module(eth::EthApi {
        ctx,
        max_block_range: config.max_block_range,
        max_logs_per_response: config.max_logs_per_response,
        gas_cap: config.gas_cap,
        evm_timeout: config.evm_timeout,
        heavy: eth::HeavySlots::new(config.max_heavy_requests, config.heavy_queue_timeout),
    });
    eth::register(&mut module);
    txs::register(&mut module);
    txpool::register(&mut module);
    rollup::register(&mut module);
    rollup_data::register(&mut module);
    debug::register(&mut module);
    pubsub::register(&mut module, &live);
    filters::register(&mut module, &live);
    module.remove_context()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_ranges_parse_and_match() {
        let range = |text: &str| text.parse::<IpRange>().unwrap();
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        assert!(range("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!range("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(
            range("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped"
        );
        assert!(range("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!range("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(range("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(
            !range("0.0.0.0/0").contains(ip("2001:db8::1")),
            "another family"
        );
        assert!(range("fd00::/8").contains(ip("fd12::1")));
        assert!(!range("fd00::/8").contains(ip("fe80::1")));
        assert!(range("::/0").contains(ip("2001:db8::1")));
        assert_eq!(range(" 10.1.0.0/16 ").to_string(), "10.1.0.0/16");
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0/8",
            "proxy.local",
            "10.0.0.0/x",
        ] {
            let err = bad.parse::<IpRange>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    /// Behind trusted proxies the client is the address they recorded; a client's own
    /// `X-Forwarded-For` moves nothing, from outside or through the proxy.
    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_address_it_recorded() {
        let proxies: Vec<IpRange> = ["127.0.0.1", "10.0.0.0/8"]
            .map(|range| range.parse().unwrap())
            .into();
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let client = |peer: &str, forwarded: &[&str]| {
            let mut headers = http::HeaderMap::new();
            for value in forwarded {
                headers.append("x-forwarded-for", value.parse().unwrap());
            }
            client_of(ip(peer), &headers, &proxies)
        };
        let of = |text: &str| ClientAddr::of(ip(text));
        // Through a proxy on the host: the address it appended.
        assert_eq!(client("127.0.0.1", &["203.0.113.7"]), of("203.0.113.7"));
        // A client that wrote its own header first: the proxy's entry, the rightmost, counts.
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1, 203.0.113.7"]),
            of("203.0.113.7")
        );
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1", "203.0.113.7"]),
            of("203.0.113.7")
        );
        // Two proxies in a row: the first untrusted from the right.
        assert_eq!(
            client("127.0.0.1", &["203.0.113.7, 10.0.0.5"]),
            of("203.0.113.7")
        );
        // Ports as some proxies write them.
        assert_eq!(client("10.0.0.5", &["203.0.113.7:4711"]), of("203.0.113.7"));
        assert_eq!(
            client("10.0.0.5", &["[2001:db8::1]:4711"]),
            of("2001:db8::1")
        );
        // All trusted (a local tool through the proxy): the leftmost, uncapped as loopback.
        assert_eq!(client("10.0.0.5", &["127.0.0.1"]), ClientAddr(None));
        // No header, or one that does not parse: the proxy itself.
        assert_eq!(client("127.0.0.1", &[]), ClientAddr(None));
        assert_eq!(client("10.0.0.5", &[]), of("10.0.0.5"));
        assert_eq!(
            client("127.0.0.1", &["203.0.113.7, unknown"]),
            ClientAddr(None)
        );
        // From an untrusted peer the header is ignored.
        assert_eq!(client("198.51.100.1", &["203.0.113.7"]), of("198.51.100.1"));
        assert_eq!(
            client_of(ip("127.0.0.1"), &http::HeaderMap::new(), &[]),
            ClientAddr(None)
        );
    }

    /// An IPv6 client is its /64 (one host's usual allocation); IPv4 clients are each their own
    /// address, an IPv4-mapped IPv6 one as its IPv4 address.
    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let of = |text: &str| ClientAddr::of(text.parse::<std::net::IpAddr>().unwrap());
        assert_eq!(
            of("2001:db8:1:2::1"),
            of("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(of("2001:db8:1:2::1"), of("2001:db8:1:3::1"));
        assert_ne!(of("203.0.113.7"), of("203.0.113.8"));
        assert_eq!(of("::ffff:203.0.113.7"), of("203.0.113.7"));
        assert_eq!(of("::1"), ClientAddr(None));
    }

    /// One address holds at most its cap of connections, freed as they close; other addresses
    /// keep theirs; loopback clients (IPv4, IPv6, IPv4-mapped) and a cap of 0 are not capped.
    #[test]
    fn one_address_holds_at_most_its_share_of_connections() {
        let per_ip = Arc::new(PerIp::default());
        let one = ClientAddr::of([203, 0, 113, 7].into());
        let other = ClientAddr::of("2001:db8::1".parse().unwrap());
        let first = per_ip.admit(one, 2).unwrap();
        let second = per_ip.admit(one, 2).unwrap();
        assert!(first.is_some() && second.is_some());
        assert!(per_ip.admit(one, 2).is_none(), "a third is refused");
        assert!(
            per_ip.admit(other, 2).unwrap().is_some(),
            "another address is not"
        );
        drop(first);
        assert!(
            per_ip.admit(one, 2).unwrap().is_some(),
            "a closed one frees its slot"
        );
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let client = ClientAddr::of(local.parse().unwrap());
            for _ in 0..5 {
                assert!(matches!(per_ip.admit(client, 2), Some(None)), "{local}");
            }
        }
        assert!(matches!(per_ip.admit(one, 0), Some(None)), "0 is no cap");
        drop(second);
    }

    #[test]
    fn the_refusal_is_a_whole_http_answer() {
        let answer = too_many_connections(100);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 429 "), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(body.contains("at most 100 at once"), "{body}");
    }
}
