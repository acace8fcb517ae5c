//! `reth-rollup`: a reth L1 node with the rollup installed as an execution extension (ExEx).
//!
//! A thin adapter: reth's `ExExNotification`s become the core's `L1Notification`s
//! ([`convert`]), the core ([`RollupNode`]) derives, executes and stores the L2 chain in its own
//! MDBX database, and this binary forwards the core's finished heights to reth and serves the
//! rollup's JSON-RPC. All logic lives in the root workspace's crates.
//!
//! # Invariants
//! - On start the notification stream resumes from the core's stored L1 cursor
//!   (`set_notifications_with_head`), so reth backfills exactly the blocks the core lacks.
//! - `FinishedHeight` is sent only after the MDBX transaction holding that L1 block's L2 state
//!   commits (`NotificationOutcome::finished_height` is set after the commit).
//! - The ExEx future never returns while the node runs: it ends only when reth closes the
//!   notification stream at shutdown, or with an error that reth treats as critical.
//! - L2 `eth_*` is served only on `--rollup.rpc-addr`; reth's own server keeps its L1 `eth_*`
//!   and gains only the `rollup_*` methods.

mod convert;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::Parser;
use eyre::WrapErr;
use futures_util::TryStreamExt;
use reth_ethereum::{
    EthPrimitives,
    cli::{chainspec::EthereumChainSpecParser, interface::Cli},
    exex::{ExExContext, ExExHead},
    node::{
        EthereumNode,
        api::{FullNodeComponents, NodeTypes},
    },
    provider::BlockIdReader,
};
use rollup_node_core::RollupNode;
use rollup_primitives::{BlockNumHash, RollupConfig};
use rollup_rpc::{RpcContext, RpcServerConfig};
use rollup_storage::Store;
use tracing::{debug, info, warn};

use crate::convert::to_l1_notification;

/// The rollup's flags, added to reth's `node` command.
#[derive(Debug, Clone, clap::Args)]
struct RollupArgs {
    /// The rollup config (JSON: chain ids, contract addresses, L2 genesis).
    #[arg(long = "rollup.config", value_name = "FILE", env = "ROLLUP_CONFIG")]
    config: PathBuf,
    /// Where the rollup keeps its data; its MDBX database is `<dir>/db`.
    /// Defaults to `<reth datadir>/rollup`.
    #[arg(long = "rollup.datadir", value_name = "DIR", env = "ROLLUP_DATADIR")]
    datadir: Option<PathBuf>,
    /// Address of the L2 JSON-RPC server (`eth_*`, `net_*`, `web3_*`, `rollup_*`; HTTP and
    /// WebSocket on one port). Separate from reth's, whose `eth_*` is L1.
    #[arg(
        long = "rollup.rpc-addr",
        value_name = "ADDR",
        env = "ROLLUP_RPC_ADDR",
        default_value = "127.0.0.1:9545"
    )]
    rpc_addr: SocketAddr,
    /// Largest block range one L2 `eth_getLogs` may scan.
    #[arg(long = "rollup.rpc-max-block-range", value_name = "BLOCKS", default_value_t = rollup_rpc::DEFAULT_MAX_BLOCK_RANGE)]
    rpc_max_block_range: u64,
}

fn main() -> eyre::Result<()> {
    Cli::<EthereumChainSpecParser, RollupArgs>::parse().run(async move |builder, args| {
        let datadir = args
            .datadir
            .unwrap_or_else(|| builder.config().datadir().data_dir().join("rollup"));
        let config = Arc::new(RollupConfig::from_file(&args.config).wrap_err_with(|| {
            format!("cannot read the rollup config {}", args.config.display())
        })?);
        let l1_chain_id = builder.config().chain.chain.id();
        eyre::ensure!(
            config.l1_chain_id == l1_chain_id,
            "the rollup config {} is for L1 chain {}, but this node runs chain {l1_chain_id} (set --chain)",
            args.config.display(),
            config.l1_chain_id
        );
        let db_path = datadir.join("db");
        let store = Store::open(&db_path)
            .wrap_err_with(|| format!("cannot open the rollup database at {}", db_path.display()))?;
        let node = RollupNode::new(config.clone(), store.clone())?;
        // A replica: no sequencer role, so no transaction pool (`eth_sendRawTransaction` is off).
        let rpc_context = RpcContext { store, config, heads: node.heads(), pool: None };

        let (l2_rpc_addr, l2_rpc) = rollup_rpc::start_server(
            RpcServerConfig {
                addr: args.rpc_addr,
                max_block_range: args.rpc_max_block_range,
                ..Default::default()
            },
            rpc_context.clone(),
        )
        .await
        .wrap_err_with(|| {
            format!("cannot serve the L2 JSON-RPC on {} (set --rollup.rpc-addr)", args.rpc_addr)
        })?;
        info!(target: "rollup::exex", addr = %l2_rpc_addr, db = %db_path.display(), "L2 JSON-RPC ready");

        let handle = builder
            .node(EthereumNode::default())
            .extend_rpc_modules(move |ctx| {
                ctx.modules.merge_configured(rollup_namespace(rpc_context))?;
                Ok(())
            })
            .install_exex("rollup", async move |ctx| Ok(run_exex(ctx, node)))
            .launch_with_debug_capabilities()
            .await?;
        let exit = handle.wait_for_node_exit().await;
        // Dropping the handle would stop the server too; stop it explicitly and wait.
        let _ = l2_rpc.stop();
        l2_rpc.stopped().await;
        exit
    })
}

/// The `rollup_*` methods only: reth's server keeps its own (L1) `eth_*`.
fn rollup_namespace(ctx: RpcContext) -> jsonrpsee::RpcModule<()> {
    let mut module = rollup_rpc::rpc_module(ctx);
    let foreign: Vec<&'static str> = module
        .method_names()
        .filter(|name| !name.starts_with("rollup_"))
        .collect();
    for name in foreign {
        module.remove_method(name);
    }
    module
}

/// The ExEx: feeds reth's notifications to the core, from the core's stored L1 cursor on.
async fn run_exex<Node>(mut ctx: ExExContext<Node>, mut node: RollupNode) -> eyre::Result<()>
where
    Node: FullNodeComponents<Types: NodeTypes<Primitives = EthPrimitives>>,
{
    let cursor = node.l1_cursor()?;
    info!(target: "rollup::exex", l1_block = cursor.number, hash = %cursor.hash, "resuming from the stored L1 cursor");
    ctx.set_notifications_with_head(ExExHead::new(cursor));

    let mut l1_finalized = BlockNumHash::default();
    // The cursor the stream was last re-opened from after a reset, so a reset that recurs
    // without progress is not answered by another catch-up (that would loop).
    let mut caught_up_from: Option<BlockNumHash> = None;
    while let Some(notification) = ctx.notifications.try_next().await? {
        let notification = to_l1_notification(&notification)?;
        // MDBX writes and revm execution block: keep them off the async worker's queue.
        let outcome = tokio::task::block_in_place(|| node.handle_notification(&notification));
        match outcome {
            Ok(outcome) => {
                debug!(target: "rollup::exex", ?outcome, "L1 notification applied");
                if let Some(height) = outcome.finished_height {
                    ctx.send_finished_height(height)
                        .map_err(|_| eyre::eyre!("reth closed the ExEx event channel"))?;
                }
            }
            // The notification does not connect to the stored chain: blocks went by that the
            // core never saw (e.g. reth was still syncing when the rollup started). Whatever was
            // applied before that is committed with its cursor; re-open the stream from the
            // stored cursor so reth backfills the gap up to its current head.
            Err(err) if err.is_reset() => {
                let cursor = node.l1_cursor()?;
                if caught_up_from == Some(cursor) {
                    warn!(target: "rollup::exex", %err, l1_cursor = cursor.number, "L1 notification skipped: it does not connect even after catching up from the stored cursor");
                } else {
                    warn!(target: "rollup::exex", %err, l1_cursor = cursor.number, "L1 notification does not connect; catching up from the stored cursor");
                    ctx.catch_up_notifications_with_head(ExExHead::new(cursor))?;
                    caught_up_from = Some(cursor);
                }
            }
            Err(err) => return Err(err).wrap_err("the rollup core failed; stopping the ExEx"),
        }
        // The finalized L2 head follows L1 finality.
        if let Some(finalized) = ctx.provider().finalized_block_num_hash()?
            && finalized != l1_finalized
        {
            l1_finalized = finalized;
            tokio::task::block_in_place(|| node.set_l1_finalized(finalized))?;
        }
    }
    info!(target: "rollup::exex", "notification stream closed: the node is shutting down");
    Ok(())
}
