//! The start-up check of a rollup config against the deployment it names on L1.
//!
//! A replica derives whatever chain its `rollup.json` describes: with a wrong `l2ChainId`,
//! genesis field or sequencing window it derived a chain of its own from the right L1, served
//! it, and never said a word (an outsider's finding). The contracts hold the deployment's own
//! values, so the node reads them once L1 answers and refuses a config that contradicts them.

use alloy_primitives::{Address, B256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::RpcClient;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use rollup_primitives::{
    RollupConfig,
    bindings::{IBatchInbox, IDisputeGame, IL1Bridge, IStateManager},
};

/// Why the check did not pass.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentCheck {
    /// L1 holds the deployment, and it contradicts the config: the node must not start.
    #[error("{0}")]
    Contradicts(String),
    /// L1 could not be read (down, syncing, or no contract yet at an address): said as a
    /// warning, and the node goes on.
    #[error("{0}")]
    Unread(String),
}

/// Reads the deployment the rollup config names from the L1 behind `client`, as of its latest
/// block, and compares it with the config: the contracts exist and name each other, the
/// bridge's L2 chain id, the inbox's sequencing window, sequencer drift and genesis L1 origin,
/// and, where a dispute game is set, its genesis output root (which covers the whole L2
/// genesis: alloc, timestamp, gas limit, base fee). `proposer`, a proposer key's account, must
/// be the `StateManager`'s proposer unless its proposals are permissionless. Returns the
/// warnings about values governance may change since (the batcher).
pub async fn check_deployment(
    client: RpcClient,
    config: &RollupConfig,
    proposer: Option<Address>,
) -> Result<Vec<String>, DeploymentCheck> {
    let provider = ProviderBuilder::new().connect_client(client);
    let contracts = &config.contracts;
    for (field, address) in [
        ("contracts.batchInbox", contracts.batch_inbox),
        ("contracts.l1Bridge", contracts.l1_bridge),
        ("contracts.stateManager", contracts.state_manager),
    ] {
        let code = provider.get_code_at(address).await.map_err(|err| {
            DeploymentCheck::Unread(format!("reading the code at {field} {address}: {err}"))
        })?;
        if code.is_empty() {
            return Err(DeploymentCheck::Unread(format!(
                "no contract at {field} {address} on L1 yet: a wrong address in the rollup config, or an L1 node still syncing"
            )));
        }
    }
    let view = async |to: Address,
                      what: &str,
                      input: Vec<u8>|
           -> Result<Vec<u8>, DeploymentCheck> {
        provider
            .call(TransactionRequest::default().to(to).input(input.into()))
            .await
            .map(|out| out.to_vec())
            .map_err(|err| {
                let reverted = err
                    .as_error_resp()
                    .and_then(|payload| payload.as_revert_data())
                    .map(|data| rollup_primitives::describe_revert(&data));
                DeploymentCheck::Contradicts(match reverted {
                    // The config's genesis origin was never recorded by this inbox: another L1
                    // chain holds contracts at the same addresses (a dev chain started afresh).
                    Some(error) if error.starts_with("BatchInbox_OriginNotRecorded") => format!(
                        "reading {what} at {to} reverted {error}: this L1 never recorded the rollup's genesis L1 origin, so the rollup config (and a datadir made with it) is of a deployment on another L1 chain that has contracts at the same addresses (a dev chain started afresh?); run against that chain, or start afresh with this one's config"
                    ),
                    Some(error) => format!(
                        "reading {what} at {to} reverted {error}: is the rollup config's address that contract?"
                    ),
                    None => format!(
                        "reading {what} at {to} failed ({err}): is the rollup config's address that contract?"
                    ),
                })
            })
    };
    macro_rules! read {
        ($to:expr, $what:expr, $call:expr) => {{
            let call = $call;
            let out = view($to, $what, call.abi_encode()).await?;
            decode(&call, &out, $to, $what)?
        }};
    }
    let contradicts = |field: &str, config_value: String, l1_value: String| {
        DeploymentCheck::Contradicts(format!(
            "the rollup config's {field} is {config_value}, but the deployment on L1 has {l1_value}: a config of another deployment, or an edited one (a replica with it derives a chain of its own); use the deployment's rollup.json"
        ))
    };

    let chain_id: alloy_primitives::U256 = read!(
        contracts.l1_bridge,
        "L1Bridge.l2ChainId",
        IL1Bridge::l2ChainIdCall {}
    );
    if chain_id != alloy_primitives::U256::from(config.l2_chain_id) {
        return Err(contradicts(
            "l2ChainId",
            config.l2_chain_id.to_string(),
            chain_id.to_string(),
        ));
    }
    let bridge_manager: Address = read!(
        contracts.l1_bridge,
        "L1Bridge.stateManager",
        IL1Bridge::stateManagerCall {}
    );
    if bridge_manager != contracts.state_manager {
        return Err(contradicts(
            "contracts.stateManager",
            contracts.state_manager.to_string(),
            format!("{bridge_manager} (the L1Bridge's StateManager)"),
        ));
    }
    let inbox_bridge: Address = read!(
        contracts.batch_inbox,
        "BatchInbox.bridge",
        IBatchInbox::bridgeCall {}
    );
    if inbox_bridge != contracts.l1_bridge {
        return Err(contradicts(
            "contracts.l1Bridge",
            contracts.l1_bridge.to_string(),
            format!("{inbox_bridge} (the BatchInbox's bridge)"),
        ));
    }
    let window: u64 = read!(
        contracts.batch_inbox,
        "BatchInbox.sequencingWindow",
        IBatchInbox::sequencingWindowCall {}
    );
    if window != config.sequencing_window {
        return Err(contradicts(
            "sequencingWindow",
            config.sequencing_window.to_string(),
            window.to_string(),
        ));
    }
    let drift: u64 = read!(
        contracts.batch_inbox,
        "BatchInbox.maxSequencerDrift",
        IBatchInbox::maxSequencerDriftCall {}
    );
    if drift != config.max_sequencer_drift {
        return Err(contradicts(
            "maxSequencerDrift",
            config.max_sequencer_drift.to_string(),
            drift.to_string(),
        ));
    }
    let origin = config.genesis.l1_origin;
    let recorded: B256 = read!(
        contracts.batch_inbox,
        "BatchInbox.originHash",
        IBatchInbox::originHashCall {
            number: alloy_primitives::U256::from(origin.number),
        }
    );
    if recorded != origin.hash {
        return Err(contradicts(
            "genesis.l1Origin",
            format!("block {} {}", origin.number, origin.hash),
            format!("{recorded} recorded for that block in the BatchInbox"),
        ));
    }
    // Derivation expects the bridge's first message after the origin to be nonce 0: the
    // origin must precede every message (`deploy` takes the newest block before the bridge).
    // A bridge without `depositCountAt` (older than it) cannot be asked: not refused for that.
    let before_origin = view(
        contracts.l1_bridge,
        "L1Bridge.depositCountAt",
        IL1Bridge::depositCountAtCall {
            l1Block: alloy_primitives::U256::from(origin.number),
        }
        .abi_encode(),
    )
    .await
    .ok()
    .and_then(|out| IL1Bridge::depositCountAtCall::abi_decode_returns(&out).ok());
    if let Some(count) = before_origin.filter(|count| !count.is_zero()) {
        return Err(DeploymentCheck::Contradicts(format!(
            "the L1Bridge took {count} bridge messages at or before the rollup config's genesis.l1Origin (block {}): no L2 block derives them, and derivation expects the first message after the origin to be nonce 0. The origin must be an L1 block before the L1Bridge existed (`deploy` takes the newest such block); use the deployment's rollup.json",
            origin.number
        )));
    }
    let game: Address = read!(
        contracts.state_manager,
        "StateManager.disputeGame",
        IStateManager::disputeGameCall {}
    );
    if game != Address::ZERO {
        let root: B256 = read!(
            game,
            "DisputeGame.genesisOutputRoot",
            IDisputeGame::genesisOutputRootCall {}
        );
        let ours = crate::deploy::genesis_output_root(config).map_err(|err| {
            DeploymentCheck::Contradicts(format!(
                "the rollup config's L2 genesis does not build: {err}"
            ))
        })?;
        if root != ours {
            return Err(contradicts(
                "genesis (alloc, timestamp, gasLimit or baseFeePerGas)",
                format!("an L2 genesis with output root {ours}"),
                format!("{root} (the DisputeGame's genesisOutputRoot)"),
            ));
        }
    }
    if let Some(proposer) = proposer {
        let allowlisted: Address = read!(
            contracts.state_manager,
            "StateManager.proposer",
            IStateManager::proposerCall {}
        );
        let open: bool = read!(
            contracts.state_manager,
            "StateManager.permissionlessProposals",
            IStateManager::permissionlessProposalsCall {}
        );
        if proposer != allowlisted && !open {
            return Err(DeploymentCheck::Contradicts(format!(
                "the proposer key's account {proposer} is not the StateManager's proposer {allowlisted}, and proposals are not permissionless: every proposal would revert; use the proposer's key, or drop --proposer-key"
            )));
        }
    }
    let mut warnings = Vec::new();
    let batcher: Address = read!(
        contracts.batch_inbox,
        "BatchInbox.batcher",
        IBatchInbox::batcherCall {}
    );
    if batcher != config.batcher_address {
        warnings.push(format!(
            "the rollup config's batcherAddress is {}, but the BatchInbox's batcher is {batcher} (changed by governance since?): a batcher with the config's key has its batches refused",
            config.batcher_address
        ));
    }
    Ok(warnings)
}

/// Decodes `out`, the answer to `call` of `what` at `to`.
fn decode<C: SolCall>(
    _call: &C,
    out: &[u8],
    to: Address,
    what: &str,
) -> Result<C::Return, DeploymentCheck> {
    C::abi_decode_returns(out).map_err(|err| {
        DeploymentCheck::Contradicts(format!(
            "{what} at {to} answered something else ({err}): is the rollup config's address that contract?"
        ))
    })
}
