//! A devnet's L1 side, for any L1 that funds anvil's (and reth `--dev`'s) dev accounts: deploys
//! the rollup's contracts from the embedded bytecode, writes the rollup config and the devnet's
//! `devnet.json`, and resumes a devnet whose datadir already holds them.

use std::{net::SocketAddr, path::Path};

use alloy_primitives::{Address, B256, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::RpcClient;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner};
use rollup_primitives::{L2_BRIDGE, RollupConfig};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::deploy::{self, DeployPlan, Preset};

/// anvil's default mnemonic (reth's dev chain funds the same accounts): the dev accounts.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";
/// How many dev accounts the devnet funds on L2 and lists in `devnet.json`: anvil's ten, and
/// the challenger's (index [`CHALLENGER_ACCOUNT`], funded on L1 by account 0 at deployment).
pub const DEV_ACCOUNTS: u32 = 11;
/// The dev account of the devnet's owner (deployer, timelock proposer and executor).
pub const OWNER_ACCOUNT: usize = 0;
/// The dev account of the devnet's batcher (and so of its sequencer's batches).
pub const BATCHER_ACCOUNT: usize = 1;
/// The dev account of the devnet's allowlisted proposer.
pub const PROPOSER_ACCOUNT: usize = 2;
/// The dev account of the devnet's guardian: besides the `DisputeGame`, it may remove a
/// proposal (`StateManager.isDisputeGame`), so a test can remove a root directly.
pub const GUARDIAN_ACCOUNT: usize = 9;
/// The dev account of the devnet's challenger role: an account no other role or test uses.
pub const CHALLENGER_ACCOUNT: usize = 10;
/// What the deployer sends the challenger on L1 when the L1 does not fund it (anvil funds ten
/// accounts only): 1 000 ETH.
const CHALLENGER_L1_FUNDS: u128 = 1_000_000_000_000_000_000_000;
/// The rollup config's file name in a devnet datadir.
pub const ROLLUP_CONFIG_FILE: &str = "rollup.json";
/// The devnet description's file name in a devnet datadir.
pub const DEVNET_INFO_FILE: &str = "devnet.json";
/// The devnet's contract addresses, written before the rollup config when it deploys them:
/// what a resume reads if the node never got to write [`DEVNET_INFO_FILE`].
pub const DEPLOYED_FILE: &str = "deployed.json";
/// Written before a devnet deploys its contracts and removed once [`ROLLUP_CONFIG_FILE`] marks
/// the deployment done: a run that finds it knows an earlier deployment did not finish (killed,
/// or failed), and says which account and nonces made whatever that one left on L1.
pub const DEPLOYING_FILE: &str = "deploying.json";

/// What [`DEPLOYING_FILE`] records of a deployment under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStarted {
    /// The L1 endpoint it deployed through.
    pub l1: String,
    /// The deployer account.
    pub deployer: Address,
    /// The deployer's L1 nonce before its first transaction: the contracts it created are at
    /// the CREATE addresses of this nonce and the following ones.
    pub first_nonce: u64,
    /// The L1 head when it started.
    pub l1_block: u64,
}

/// Says so if `datadir` holds the record of a deployment that did not finish
/// ([`DEPLOYING_FILE`]); returns the record (`None`: none, or unreadable, which is said too).
pub fn interrupted_deployment(datadir: &Path) -> Option<DeploymentStarted> {
    let path = datadir.join(DEPLOYING_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str::<DeploymentStarted>(&text) {
        Ok(started) => {
            tracing::warn!(
                target: "rollup::devnet",
                l1 = %started.l1, deployer = %started.deployer, first_nonce = started.first_nonce, l1_block = started.l1_block,
                "an earlier deployment in this datadir did not finish (the devnet was killed while deploying, or the deployment failed): whatever it deployed on that L1 (CREATE addresses of the deployer from that nonce on) is abandoned; deploying a new set"
            );
            Some(started)
        }
        Err(err) => {
            tracing::warn!(target: "rollup::devnet", path = %path.display(), %err, "an earlier deployment in this datadir did not finish, and its record is unreadable; deploying a new set");
            None
        }
    }
}

/// Errors setting up a devnet.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// An L1 call failed.
    #[error("L1 ({l1}): {what}: {reason}")]
    L1 {
        /// The L1 endpoint.
        l1: String,
        /// What was being done.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// Deploying the contracts failed.
    #[error(transparent)]
    Deploy(#[from] deploy::DeployError),
    /// The datadir holds a devnet the L1 does not know.
    #[error("{0}")]
    Stale(String),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

type Result<T, E = DevnetError> = std::result::Result<T, E>;

/// What `<datadir>/devnet.json` holds: everything a user or test needs to talk to the devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetInfo {
    /// L1 JSON-RPC URL.
    pub l1_rpc_url: String,
    /// L2 JSON-RPC URL (HTTP).
    pub l2_rpc_url: String,
    /// L2 JSON-RPC URL (WebSocket).
    pub l2_ws_url: String,
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// L2 chain id.
    pub l2_chain_id: u64,
    /// Contract addresses.
    pub contracts: DevnetContracts,
    /// Which dev account plays which role.
    #[serde(default)]
    pub roles: DevnetRoles,
    /// The funded dev accounts with their (public, test-only) keys.
    pub accounts: Vec<DevAccount>,
    /// The rollup config file (relative to the datadir), for `rollup-node node --config`.
    pub rollup_config: String,
}

/// The devnet's contracts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetContracts {
    /// `L1Bridge`.
    pub l1_bridge: Address,
    /// `BatchInbox`.
    pub batch_inbox: Address,
    /// `StateManager`.
    pub state_manager: Address,
    /// A mintable ERC-20 on L1 for trying token deposits.
    pub dev_token: Address,
    /// The L2 bridge predeploy.
    pub l2_bridge: Address,
    /// The timelock that owns the L1 contracts (dev account 0 schedules and executes).
    pub timelock: Address,
    /// `DisputeGame`: where proposals are challenged (zero for a devnet from before it).
    #[serde(default)]
    pub dispute_game: Address,
    /// `OneStepVerifier`: behind `StateManager.verifyStateTransition`.
    #[serde(default)]
    pub one_step_verifier: Address,
    /// `SegmentStore`: where a calldata batch's segment is opened before a batch transaction's
    /// step (zero for a devnet from before it).
    #[serde(default)]
    pub segment_store: Address,
}

/// The devnet's role accounts (each also in `accounts`, at `account`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetRoles {
    /// Deploys, and schedules and executes timelocked changes.
    pub owner: DevnetRole,
    /// The sequencer: it has no L1 account of its own; its blocks reach L1 through the
    /// batcher, whose account this is.
    pub sequencer: DevnetRole,
    /// Posts batches (`BatchInbox.batcher`).
    pub batcher: DevnetRole,
    /// The allowlisted proposer (`StateManager.proposer`).
    pub proposer: DevnetRole,
    /// The challenger role's account.
    pub challenger: DevnetRole,
    /// May remove a proposal besides the `DisputeGame` (`StateManager.isDisputeGame`).
    pub guardian: DevnetRole,
}

/// One role's account.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetRole {
    /// Its address.
    pub address: Address,
    /// Its index in `accounts` (and `--account` of the user commands).
    pub account: usize,
}

/// One dev account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevAccount {
    /// Address.
    pub address: Address,
    /// Private key (a well-known test key: never use it anywhere real).
    pub private_key: B256,
}

/// The dev accounts' signers, in mnemonic order: 0 deploys and owns the timelock, 1 batches,
/// 2 proposes, 9 is the guardian, 10 challenges.
pub fn dev_signers() -> Vec<PrivateKeySigner> {
    (0..DEV_ACCOUNTS)
        .map(|i| {
            MnemonicBuilder::<alloy_signer_local::coins_bip39::English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)
                .and_then(|builder| builder.build())
                .expect("the dev mnemonic and indices are valid")
        })
        .collect()
}

/// A devnet whose contracts are on L1 and whose config is in the datadir.
#[derive(Debug, Clone)]
pub struct Devnet {
    /// The rollup config (also in `<datadir>/rollup.json`).
    pub config: RollupConfig,
    /// The L1 dev token.
    pub dev_token: Address,
    /// The timelock that owns the L1 contracts.
    pub timelock: Address,
    /// The `DisputeGame`.
    pub dispute_game: Address,
    /// The `OneStepVerifier`.
    pub one_step_verifier: Address,
    /// The `SegmentStore` the verifier reads.
    pub segment_store: Address,
}

/// Which dev account plays which role.
pub fn dev_roles() -> DevnetRoles {
    let signers = dev_signers();
    let role = |account: usize| DevnetRole {
        address: signers[account].address(),
        account,
    };
    DevnetRoles {
        owner: role(OWNER_ACCOUNT),
        sequencer: role(BATCHER_ACCOUNT),
        batcher: role(BATCHER_ACCOUNT),
        proposer: role(PROPOSER_ACCOUNT),
        challenger: role(CHALLENGER_ACCOUNT),
        guardian: role(GUARDIAN_ACCOUNT),
    }
}

impl Devnet {
    /// `devnet.json` for this devnet, with the L2 RPC at `l2_rpc`.
    pub fn info(&self, l1_rpc_url: &str, l2_rpc: SocketAddr) -> DevnetInfo {
        self.info_at(l1_rpc_url, Some(l2_rpc))
    }

    /// [`Self::info`], with empty L2 URLs before the node serves its RPC.
    fn info_at(&self, l1_rpc_url: &str, l2_rpc: Option<SocketAddr>) -> DevnetInfo {
        DevnetInfo {
            l1_rpc_url: l1_rpc_url.to_string(),
            l2_rpc_url: l2_rpc
                .map(|rpc| format!("http://{rpc}"))
                .unwrap_or_default(),
            l2_ws_url: l2_rpc.map(|rpc| format!("ws://{rpc}")).unwrap_or_default(),
            l1_chain_id: self.config.l1_chain_id,
            l2_chain_id: self.config.l2_chain_id,
            contracts: DevnetContracts {
                l1_bridge: self.config.contracts.l1_bridge,
                batch_inbox: self.config.contracts.batch_inbox,
                state_manager: self.config.contracts.state_manager,
                dev_token: self.dev_token,
                l2_bridge: L2_BRIDGE,
                timelock: self.timelock,
                dispute_game: self.dispute_game,
                one_step_verifier: self.one_step_verifier,
                segment_store: self.segment_store,
            },
            roles: dev_roles(),
            accounts: dev_signers()
                .iter()
                .map(|signer| DevAccount {
                    address: signer.address(),
                    private_key: B256::from_slice(&signer.credential().to_bytes()),
                })
                .collect(),
            rollup_config: ROLLUP_CONFIG_FILE.into(),
        }
    }
}

/// The L2 block gas limit of a devnet started without one.
pub const DEVNET_L2_GAS_LIMIT: u64 = 30_000_000;

/// The L2 chain id of a devnet started without one.
pub const DEVNET_L2_CHAIN_ID: u64 = 42_069;

/// Refuses to resume the devnet of `datadir`, whose rollup config is `config`, with an L2 chain
/// id or gas limit other than its own: both are fixed at genesis. `None` asks for nothing.
pub fn check_resumable(
    datadir: &Path,
    config: &RollupConfig,
    l2_chain_id: Option<u64>,
    l2_gas_limit: Option<u64>,
) -> Result<()> {
    if let Some(wanted) = l2_chain_id.filter(|&id| id != config.l2_chain_id) {
        return Err(DevnetError::Stale(format!(
            "the devnet in {} has L2 chain id {}, not {wanted}: it is fixed at genesis; drop the flag, or delete the datadir to start a new devnet",
            datadir.display(),
            config.l2_chain_id
        )));
    }
    if let Some(wanted) = l2_gas_limit.filter(|&gas| gas != config.genesis.gas_limit) {
        return Err(DevnetError::Stale(format!(
            "the devnet in {} has an L2 gas limit of {}, not {wanted}: it is fixed at genesis; drop the flag, or delete the datadir to start a new devnet",
            datadir.display(),
            config.genesis.gas_limit
        )));
    }
    Ok(())
}

/// Resumes the devnet of `datadir`, or deploys the contracts of a new one through `client` (an
/// L1 named `l1` in messages) and writes its rollup config.
///
/// A new devnet has the L2 chain id `l2_chain_id` ([`DEVNET_L2_CHAIN_ID`] if `None`) and its
/// L2 blocks have `l2_gas_limit` gas ([`DEVNET_L2_GAS_LIMIT`] if `None`; at least one L1
/// block's deposits). Both are fixed at genesis: resuming a devnet with a different one is
/// refused, since its blocks could not be derived again and its signed transactions and
/// withdrawals commit to the chain id.
///
/// A datadir whose contracts the L1 does not hold (its state was lost) is refused with what to
/// do. A resume leaves `devnet.json` in place (its contract addresses are what a resume reads;
/// a start that fails must leave the datadir resumable) and the node rewrites it once its RPC
/// is up.
pub async fn setup(
    datadir: &Path,
    client: RpcClient,
    l1: &str,
    l2_chain_id: Option<u64>,
    l2_gas_limit: Option<u64>,
) -> Result<Devnet> {
    let signers = dev_signers();
    let mut plan = devnet_plan(l2_chain_id.unwrap_or(DEVNET_L2_CHAIN_ID), &signers);
    plan.l2_gas_limit = l2_gas_limit.unwrap_or(DEVNET_L2_GAS_LIMIT);
    // A bad value is refused before anything reaches L1.
    plan.check(false)?;
    let l1_error = |what: &str| {
        let what = what.to_string();
        move |err: &dyn std::fmt::Display| DevnetError::L1 {
            l1: l1.to_string(),
            what: what.clone(),
            reason: err.to_string(),
        }
    };
    let provider = ProviderBuilder::new().connect_client(client.clone());
    let l1_chain_id = provider
        .get_chain_id()
        .await
        .map_err(|err| l1_error("eth_chainId")(&err))?;
    let config_path = datadir.join(ROLLUP_CONFIG_FILE);
    let info_path = datadir.join(DEVNET_INFO_FILE);
    if config_path.exists() {
        let config = RollupConfig::from_file(&config_path).map_err(|err| DevnetError::File {
            path: config_path.display().to_string(),
            reason: err.to_string(),
        })?;
        let read = |path: &Path| std::fs::read_to_string(path).ok();
        // The info file; else, for a devnet killed before its node served, the deployment
        // record (devnets from before it have the info file).
        let contracts: Option<DevnetContracts> = read(&info_path)
            .and_then(|text| serde_json::from_str::<DevnetInfo>(&text).ok())
            .map(|info| info.contracts)
            .or_else(|| {
                read(&datadir.join(DEPLOYED_FILE)).and_then(|text| serde_json::from_str(&text).ok())
            });
        check_resumable(datadir, &config, l2_chain_id, l2_gas_limit)?;
        let Some(contracts) = contracts else {
            return Err(DevnetError::Stale(format!(
                "{} is missing or corrupt (and so is {DEPLOYED_FILE}); delete {} to start a new devnet",
                info_path.display(),
                datadir.display()
            )));
        };
        let code = provider
            .get_code_at(config.contracts.l1_bridge)
            .await
            .map_err(|err| l1_error("eth_getCode")(&err))?;
        if code.is_empty() || config.l1_chain_id != l1_chain_id {
            return Err(DevnetError::Stale(format!(
                "the L1 ({l1}) does not hold this devnet's contracts (its state was lost?); delete {} to start a new devnet",
                datadir.display()
            )));
        }
        check_l1_agrees_with_its_logs(&provider, &config, l1, datadir).await?;
        // Cut off between the config and the record's removal: the deployment was done.
        let _ = std::fs::remove_file(datadir.join(DEPLOYING_FILE));
        info!(target: "rollup::devnet", datadir = %datadir.display(), "resuming devnet");
        return Ok(Devnet {
            config,
            dev_token: contracts.dev_token,
            timelock: contracts.timelock,
            dispute_game: contracts.dispute_game,
            one_step_verifier: contracts.one_step_verifier,
            segment_store: contracts.segment_store,
        });
    }
    interrupted_deployment(datadir);
    let deployer = signers[0].address();
    let (first_nonce, l1_block) = tokio::try_join!(
        async { provider.get_transaction_count(deployer).pending().await },
        async { provider.get_block_number().await },
    )
    .map_err(|err| l1_error("eth_getTransactionCount and eth_blockNumber")(&err))?;
    write_json(
        &datadir.join(DEPLOYING_FILE),
        &DeploymentStarted {
            l1: l1.to_string(),
            deployer,
            first_nonce,
            l1_block,
        },
    )?;
    cover_genesis_eth(&client, l1, deployer, &plan).await?;
    info!(target: "rollup::devnet", %l1, "deploying rollup contracts");
    let deployment = deploy::deploy(
        client.clone(),
        l1,
        signers[0].clone(),
        &plan,
        &signers
            .iter()
            .map(PrivateKeySigner::address)
            .collect::<Vec<_>>(),
    )
    .await?;
    let config = deployment.rollup_config(l1_chain_id, &plan);
    config
        .validate()
        .map_err(|err| DevnetError::Stale(err.to_string()))?;
    fund_challenger(client, l1, &signers).await?;
    let devnet = Devnet {
        config,
        dev_token: deployment.dev_token.unwrap_or_default(),
        timelock: deployment.timelock,
        dispute_game: deployment.dispute_game,
        one_step_verifier: deployment.one_step_verifier,
        segment_store: deployment.segment_store,
    };
    // The addresses only the info file keeps (the dev token, the timelock, the dispute
    // contracts) go to disk before the rollup config, whose presence marks the deployment as
    // done: the info file is written once the node serves (it tells users and scripts the
    // devnet is ready), and a `kill -9` before that left a config and no info file, a datadir
    // no later run could resume.
    write_json(
        &datadir.join(DEPLOYED_FILE),
        &devnet.info_at(l1, None).contracts,
    )?;
    write_json(&config_path, &devnet.config)?;
    // Done: a later start resumes this deployment.
    let _ = std::fs::remove_file(datadir.join(DEPLOYING_FILE));
    Ok(devnet)
}

/// Refuses a datadir (named by `flag`) that holds an L2 database but not the `missing` files a
/// devnet of it would have (a replica's, or one whose `rollup.json` was removed): a devnet started
/// there would deploy another rollup, write its config beside the database, and only then find
/// that the database holds another chain. `missing` empty: nothing to refuse.
pub fn refuse_unresumable(datadir: &Path, missing: &[&str], flag: &str) -> Result<()> {
    if missing.is_empty() || !datadir.join("db").join("mdbx.dat").exists() {
        return Ok(());
    }
    Err(DevnetError::Stale(format!(
        "{} holds an L2 database but no {}: it is not a devnet's datadir that can be resumed (a replica's?), and a devnet started there would deploy another rollup beside it. Use another {flag}, or remove {} to start afresh",
        datadir.display(),
        missing.join(" and no "),
        datadir.join("db").display()
    )))
}

/// How many L1 blocks one `eth_getLogs` of [`check_l1_agrees_with_its_logs`] spans.
const LOG_WINDOW: u64 = 5_000;

/// Refuses an L1 whose contracts count more inbox records or bridge messages than its blocks
/// log: the state of an anvil saved while it mined a block (a kill of the devnet or of anvil
/// at that moment) holds the block's effects without the block. The node would serve first
/// and stop at the next record with an error; checked here, the devnet says so before it is
/// ready, and before its roles post anything on that L1.
async fn check_l1_agrees_with_its_logs(
    provider: &impl Provider,
    config: &RollupConfig,
    l1: &str,
    datadir: &Path,
) -> Result<()> {
    use alloy_rpc_types_eth::Filter;
    use alloy_sol_types::SolEvent;
    use rollup_primitives::bindings::{IBatchInbox, IL1Bridge};

    let failed = |what: &str, reason: String| DevnetError::L1 {
        l1: l1.to_string(),
        what: what.to_string(),
        reason,
    };
    let head = provider
        .get_block_number()
        .await
        .map_err(|err| failed("eth_blockNumber", err.to_string()))?;
    let inbox = config.contracts.batch_inbox;
    let bridge = config.contracts.l1_bridge;
    let records = view(provider, inbox, IBatchInbox::recordCountCall {}, head)
        .await
        .map_err(|reason| failed("reading the inbox's record count", reason))?;
    let messages = view(provider, bridge, IL1Bridge::depositNonceCall {}, head)
        .await
        .map_err(|reason| failed("reading the bridge's message count", reason))?;
    // The newest record and message each log names its index: one past it is the count.
    let (mut logged_records, mut logged_messages) = (None, None);
    let mut to = head;
    loop {
        let from = to.saturating_sub(LOG_WINDOW - 1);
        let filter = Filter::new()
            .address(vec![inbox, bridge])
            .event_signature(vec![
                IBatchInbox::BatchAppended::SIGNATURE_HASH,
                IL1Bridge::DepositInitiated::SIGNATURE_HASH,
                IL1Bridge::ForcedWithdrawalInitiated::SIGNATURE_HASH,
            ])
            .from_block(from)
            .to_block(to);
        let logs = provider
            .get_logs(&filter)
            .await
            .map_err(|err| failed("eth_getLogs", err.to_string()))?;
        for log in logs.iter().rev() {
            let (Some(topic), Some(index)) = (log.topics().first(), log.topics().get(1)) else {
                continue;
            };
            let next = U256::from_be_bytes(index.0).saturating_add(U256::from(1));
            if log.address() == inbox && *topic == IBatchInbox::BatchAppended::SIGNATURE_HASH {
                logged_records.get_or_insert(next);
            } else if log.address() == bridge {
                logged_messages.get_or_insert(next);
            }
        }
        if (logged_records.is_some() || records.is_zero())
            && (logged_messages.is_some() || messages.is_zero())
            || from == 0
        {
            break;
        }
        to = from - 1;
    }
    let contradiction = [
        ("inbox records", records, logged_records.unwrap_or_default()),
        (
            "bridge messages",
            messages,
            logged_messages.unwrap_or_default(),
        ),
    ]
    .into_iter()
    .find(|(_, held, logged)| held != logged);
    if let Some((what, held, logged)) = contradiction {
        return Err(DevnetError::Stale(format!(
            "the devnet's L1 ({l1}) contradicts itself: at block {head} its contracts hold {held} {what}, and its blocks log {logged}. An anvil saved its state while it mined a block (the devnet, or anvil, was killed at that moment): the state holds the block's effects without the block. This devnet cannot be resumed on that L1: start a fresh one with another --datadir, or move {} away",
            datadir.display()
        )));
    }
    Ok(())
}

/// `call`'s answer from `to` at block `at`, or why there is none.
async fn view<C: alloy_sol_types::SolCall>(
    provider: &impl Provider,
    to: Address,
    call: C,
    at: u64,
) -> std::result::Result<C::Return, String> {
    use alloy_network::TransactionBuilder;
    let request = alloy_rpc_types_eth::TransactionRequest::default()
        .with_to(to)
        .with_input(call.abi_encode());
    let out = provider
        .call(request)
        .block(at.into())
        .await
        .map_err(|err| err.to_string())?;
    rollup_primitives::decode_returns::<C>(to, &out)
}

/// Tops the deployer up on L1 (`anvil_setBalance`, by the L2 genesis' ETH) when it holds less
/// than that ETH, which the deployment locks in the bridge, plus 100 ETH for gas: the devnet's dev accounts hold
/// 1 000 ETH each on L2, more than anvil's 10 000 ETH per account in total. reth's dev chain
/// funds them with enough and is never asked.
async fn cover_genesis_eth(
    client: &RpcClient,
    l1: &str,
    deployer: Address,
    plan: &DeployPlan,
) -> Result<()> {
    let failed = |what: &str, err: &dyn std::fmt::Display| DevnetError::L1 {
        l1: l1.to_string(),
        what: what.to_string(),
        reason: err.to_string(),
    };
    let provider = ProviderBuilder::new().connect_client(client.clone());
    let balance = provider
        .get_balance(deployer)
        .await
        .map_err(|err| failed("reading the deployer's balance", &err))?;
    let genesis_eth = plan.genesis_eth().unwrap_or_default();
    if balance >= genesis_eth + U256::from(100u64) * U256::from(10u64).pow(U256::from(18)) {
        return Ok(());
    }
    // Afterwards the deployer holds what it held, less gas.
    client
        .request::<_, serde_json::Value>("anvil_setBalance", (deployer, balance + genesis_eth))
        .await
        .map_err(|err| {
            failed(
                "topping up the deployer for the L2 genesis ETH (anvil_setBalance; the devnet's L1 must be an anvil or fund dev account 0 with it)",
                &err,
            )
        })?;
    info!(target: "rollup::devnet", %deployer, "topped up the deployer on L1 to lock the L2 genesis ETH");
    Ok(())
}

/// Sends the challenger's account [`CHALLENGER_L1_FUNDS`] from dev account 0 unless the L1
/// already funds it (anvil funds its first ten accounts only).
async fn fund_challenger(client: RpcClient, l1: &str, signers: &[PrivateKeySigner]) -> Result<()> {
    use alloy_network::{EthereumWallet, TransactionBuilder};
    let failed = |what: &str, err: &dyn std::fmt::Display| DevnetError::L1 {
        l1: l1.to_string(),
        what: what.to_string(),
        reason: err.to_string(),
    };
    let challenger = signers[CHALLENGER_ACCOUNT].address();
    let funds = U256::from(CHALLENGER_L1_FUNDS);
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signers[OWNER_ACCOUNT].clone()))
        .connect_client(client);
    let balance = provider
        .get_balance(challenger)
        .await
        .map_err(|err| failed("reading the challenger's balance", &err))?;
    if balance >= funds {
        return Ok(());
    }
    let tx = alloy_rpc_types_eth::TransactionRequest::default()
        .with_to(challenger)
        .with_value(funds - balance);
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|err| failed("funding the challenger", &err))?
        .get_receipt()
        .await
        .map_err(|err| failed("funding the challenger", &err))?;
    if !receipt.status() {
        return Err(failed("funding the challenger", &"the transfer reverted"));
    }
    info!(target: "rollup::devnet", %challenger, "funded the challenger on L1");
    Ok(())
}

/// The devnet's deployment: [`Preset::DEVNET`] times (and permissionless proposals), dev account
/// 0 owns the timelock, 1 batches, 2 proposes, 9 is the guardian (so a test can remove a root
/// directly, besides the `DisputeGame`), and every dev account has 1 000 ETH on L2.
fn devnet_plan(l2_chain_id: u64, signers: &[PrivateKeySigner]) -> DeployPlan {
    DeployPlan {
        l2_chain_id,
        owner: signers[OWNER_ACCOUNT].address(),
        batcher: signers[BATCHER_ACCOUNT].address(),
        proposer: signers[PROPOSER_ACCOUNT].address(),
        dispute_game: Some(signers[GUARDIAN_ACCOUNT].address()),
        preset: Preset::DEVNET,
        l2_gas_limit: DEVNET_L2_GAS_LIMIT,
        l2_base_fee: 1_000_000_000,
        l2_alloc: signers
            .iter()
            .map(|signer| {
                (
                    signer.address(),
                    U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18)),
                )
            })
            .collect(),
    }
}

/// Writes `value` as pretty JSON, atomically and durably: a temporary file, synced, renamed into
/// place, and the directory synced, so that a crash of the machine leaves the old file or the
/// new one, never an empty one (a devnet whose config is empty cannot be resumed).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value).map_err(|err| DevnetError::File {
        path: path.display().to_string(),
        reason: err.to_string(),
    })? + "\n";
    (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })()
    .map_err(|err: std::io::Error| DevnetError::File {
        path: path.display().to_string(),
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_deployment_is_read_back_from_its_record() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(interrupted_deployment(dir.path()), None);
        let started = DeploymentStarted {
            l1: "http://127.0.0.1:8545".into(),
            deployer: Address::repeat_byte(7),
            first_nonce: 3,
            l1_block: 42,
        };
        write_json(&dir.path().join(DEPLOYING_FILE), &started).unwrap();
        assert_eq!(interrupted_deployment(dir.path()), Some(started));
        std::fs::write(dir.path().join(DEPLOYING_FILE), "{\"l1\":").unwrap();
        assert_eq!(interrupted_deployment(dir.path()), None);
    }
}
