//! A devnet's L1 side, for any L1 that funds anvil's (and reth `--dev`'s) dev accounts: deploys
//! the rollup's contracts from the embedded bytecode, writes the rollup config and the devnet's
//! `devnet.json`, and resumes a devnet whose datadir already holds them.

use std::{collections::BTreeMap, net::SocketAddr, path::Path};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::RpcClient;
use alloy_rpc_types_eth::{BlockNumberOrTag, TransactionRequest};
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner};
use alloy_sol_types::{SolCall, SolValue};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L2_BRIDGE, L2Genesis, RollupConfig, artifacts,
    bindings::IERC20,
};
use serde::{Deserialize, Serialize};
use tracing::info;

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

/// The dev accounts' signers, in mnemonic order: 0 deploys, 1 batches, 2 proposes.
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
        });
    }
    info!(target: "rollup::devnet", %l1, "deploying rollup contracts");
    let signers = dev_signers();
    let deployment = deploy(
        client,
        l1,
        DeployParams {
            deployer: signers[0].clone(),
            batcher: signers[1].address(),
            proposer: signers[2].address(),
            challenge_period_secs: 60,
            proposal_bond: U256::from(10u64).pow(U256::from(17)),
            token_holders: signers.iter().map(PrivateKeySigner::address).collect(),
        },
    )
    .await?;
    let config = devnet_config(l1_chain_id, l2_chain_id, &deployment, &signers);
    config
        .validate()
        .map_err(|err| DevnetError::Stale(err.to_string()))?;
    write_json(&config_path, &config)?;
    Ok(Devnet {
        config,
        dev_token: deployment.dev_token,
    })
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

fn devnet_config(
    l1_chain_id: u64,
    l2_chain_id: u64,
    deployment: &Deployment,
    signers: &[PrivateKeySigner],
) -> RollupConfig {
    let mut alloc = BTreeMap::new();
    for signer in signers {
        alloc.insert(
            signer.address(),
            GenesisAccount {
                balance: U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18)),
                ..Default::default()
            },
        );
    }
    alloc.insert(
        L2_BRIDGE,
        GenesisAccount {
            code: Some(artifacts::L2_BRIDGE_CODE.deployed_bytecode.clone()),
            ..Default::default()
        },
    );
    RollupConfig {
        l1_chain_id,
        l2_chain_id,
        contracts: ContractAddresses {
            l1_bridge: deployment.l1_bridge,
            batch_inbox: deployment.batch_inbox,
            state_manager: deployment.state_manager,
        },
        genesis: L2Genesis {
            l1_origin: deployment.origin,
            timestamp: deployment.origin_timestamp,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc,
        },
        sequencing_window: 20,
        max_sequencer_drift: 600,
        batcher_address: signers[1].address(),
    }
}

/// Where the contracts landed.
#[derive(Debug, Clone)]
struct Deployment {
    l1_bridge: Address,
    batch_inbox: Address,
    state_manager: Address,
    dev_token: Address,
    /// The L1 block after every deployment: the rollup's L1 origin.
    origin: BlockNumHash,
    origin_timestamp: u64,
}

/// Parameters of a devnet deployment.
struct DeployParams {
    deployer: PrivateKeySigner,
    batcher: Address,
    proposer: Address,
    challenge_period_secs: u64,
    proposal_bond: U256,
    /// Accounts that get `DevToken`s.
    token_holders: Vec<Address>,
}

async fn deploy(client: RpcClient, l1: &str, params: DeployParams) -> Result<Deployment> {
    let failed = |what: &str, reason: String| DevnetError::L1 {
        l1: l1.to_string(),
        what: what.to_string(),
        reason,
    };
    let owner = params.deployer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(params.deployer))
        .connect_client(client);
    let create = |code: &Bytes, args: Vec<u8>| {
        let mut init = code.to_vec();
        init.extend(args);
        TransactionRequest::default().with_deploy_code(init)
    };
    let batch_inbox = deploy_contract(
        &provider,
        l1,
        "BatchInbox",
        create(
            &artifacts::BATCH_INBOX.bytecode,
            (owner, params.batcher).abi_encode_params(),
        ),
    )
    .await?;
    let state_manager = deploy_contract(
        &provider,
        l1,
        "StateManager",
        create(
            &artifacts::STATE_MANAGER.bytecode,
            (
                owner,
                params.proposer,
                U256::from(params.challenge_period_secs),
                params.proposal_bond,
            )
                .abi_encode_params(),
        ),
    )
    .await?;
    // The bridge checks withdrawals against the StateManager's proposals.
    let l1_bridge = deploy_contract(
        &provider,
        l1,
        "L1Bridge",
        create(
            &artifacts::L1_BRIDGE.bytecode,
            (state_manager,).abi_encode_params(),
        ),
    )
    .await?;
    let dev_token = deploy_contract(
        &provider,
        l1,
        "DevToken",
        create(&artifacts::DEV_TOKEN.bytecode, vec![]),
    )
    .await?;

    let mut pending = Vec::new();
    for holder in &params.token_holders {
        let mint = IERC20::mintCall {
            to: *holder,
            amount: U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18)),
        };
        let tx = TransactionRequest::default()
            .with_to(dev_token)
            .with_input(mint.abi_encode());
        pending.push(
            provider
                .send_transaction(tx)
                .await
                .map_err(|err| failed("minting DevToken", err.to_string()))?,
        );
    }
    for tx in pending {
        tx.get_receipt()
            .await
            .map_err(|err| failed("waiting for a DevToken mint", err.to_string()))?;
    }

    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|err| failed("reading the latest block", err.to_string()))?
        .ok_or_else(|| failed("reading the latest block", "L1 has none".into()))?;
    Ok(Deployment {
        l1_bridge,
        batch_inbox,
        state_manager,
        dev_token,
        origin: BlockNumHash {
            number: block.header.number,
            hash: block.header.hash,
        },
        origin_timestamp: block.header.timestamp,
    })
}

async fn deploy_contract(
    provider: &impl Provider,
    l1: &str,
    name: &str,
    tx: TransactionRequest,
) -> Result<Address> {
    let failed = |reason: String| DevnetError::L1 {
        l1: l1.to_string(),
        what: format!("deploying {name}"),
        reason,
    };
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|err| failed(err.to_string()))?
        .get_receipt()
        .await
        .map_err(|err| failed(err.to_string()))?;
    if !receipt.status() {
        return Err(failed(format!(
            "the deployment reverted (tx {})",
            receipt.transaction_hash
        )));
    }
    let address = receipt
        .contract_address
        .ok_or_else(|| failed("the receipt has no contract address".into()))?;
    info!(target: "rollup::devnet", contract = name, %address, "deployed");
    Ok(address)
}
