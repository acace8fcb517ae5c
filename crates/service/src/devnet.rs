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
/// How many dev accounts the devnet funds on L2 and lists in `devnet.json`.
pub const DEV_ACCOUNTS: u32 = 10;
/// The rollup config's file name in a devnet datadir.
pub const ROLLUP_CONFIG_FILE: &str = "rollup.json";
/// The devnet description's file name in a devnet datadir.
pub const DEVNET_INFO_FILE: &str = "devnet.json";

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
/// 2 proposes, 9 is the dispute game.
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
}

impl Devnet {
    /// `devnet.json` for this devnet, with the L2 RPC at `l2_rpc`.
    pub fn info(&self, l1_rpc_url: &str, l2_rpc: SocketAddr) -> DevnetInfo {
        DevnetInfo {
            l1_rpc_url: l1_rpc_url.to_string(),
            l2_rpc_url: format!("http://{l2_rpc}"),
            l2_ws_url: format!("ws://{l2_rpc}"),
            l1_chain_id: self.config.l1_chain_id,
            l2_chain_id: self.config.l2_chain_id,
            contracts: DevnetContracts {
                l1_bridge: self.config.contracts.l1_bridge,
                batch_inbox: self.config.contracts.batch_inbox,
                state_manager: self.config.contracts.state_manager,
                dev_token: self.dev_token,
                l2_bridge: L2_BRIDGE,
                timelock: self.timelock,
            },
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

/// Resumes the devnet of `datadir`, or deploys the contracts of a new one through `client` (an
/// L1 named `l1` in messages) and writes its rollup config.
///
/// A datadir whose contracts the L1 does not hold (its state was lost) is refused with what to
/// do. `devnet.json` is removed while resuming: it is stale until the node is up again.
pub async fn setup(
    datadir: &Path,
    client: RpcClient,
    l1: &str,
    l2_chain_id: u64,
) -> Result<Devnet> {
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
        let info: Option<DevnetInfo> = std::fs::read_to_string(&info_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let Some(info) = info else {
            return Err(DevnetError::Stale(format!(
                "{} is missing or corrupt; delete {} to start a new devnet",
                info_path.display(),
                datadir.display()
            )));
        };
        let _ = std::fs::remove_file(&info_path);
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
        info!(target: "rollup::devnet", datadir = %datadir.display(), "resuming devnet");
        return Ok(Devnet {
            config,
            dev_token: info.contracts.dev_token,
            timelock: info.contracts.timelock,
        });
    }
    info!(target: "rollup::devnet", %l1, "deploying rollup contracts");
    let signers = dev_signers();
    let plan = devnet_plan(l2_chain_id, &signers);
    let deployment = deploy::deploy(
        client,
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
    write_json(&config_path, &config)?;
    Ok(Devnet {
        config,
        dev_token: deployment.dev_token.unwrap_or_default(),
        timelock: deployment.timelock,
    })
}

/// The devnet's deployment: [`Preset::DEVNET`] times, dev account 0 owns the timelock, 1 batches,
/// 2 proposes, 9 is the dispute game (so a test can remove a root), and every dev account has
/// 1 000 ETH on L2.
fn devnet_plan(l2_chain_id: u64, signers: &[PrivateKeySigner]) -> DeployPlan {
    DeployPlan {
        l2_chain_id,
        owner: signers[0].address(),
        batcher: signers[1].address(),
        proposer: signers[2].address(),
        dispute_game: Some(signers[9].address()),
        preset: Preset::DEVNET,
        l2_gas_limit: 30_000_000,
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

/// Writes `value` as pretty JSON, atomically (a temporary file renamed into place).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value).map_err(|err| DevnetError::File {
        path: path.display().to_string(),
        reason: err.to_string(),
    })? + "\n";
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|err| DevnetError::File {
            path: path.display().to_string(),
            reason: err.to_string(),
        })
}
