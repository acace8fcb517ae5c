//! `rollup-node devnet`: anvil + contracts + L2 node in one process.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use alloy_primitives::{Address, B256, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner};
use eyre::{WrapErr, bail};
use rollup_primitives::{
    ContractAddresses, GenesisAccount, L2_BRIDGE, L2Genesis, RollupConfig, artifacts,
};
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};
use tracing::{info, warn};

use crate::{cli::DevnetArgs, deploy, runner};

/// anvil's default mnemonic: its dev accounts are derived from it.
const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";
const DEV_ACCOUNTS: u32 = 10;

/// What `<datadir>/devnet.json` holds: everything a user or test needs to talk to the devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevnetInfo {
    pub(crate) l1_rpc_url: String,
    pub(crate) l2_rpc_url: String,
    pub(crate) l2_ws_url: String,
    pub(crate) l1_chain_id: u64,
    pub(crate) l2_chain_id: u64,
    pub(crate) contracts: DevnetContracts,
    pub(crate) accounts: Vec<DevAccount>,
    /// The rollup config file (relative to the datadir), for `rollup-node node --config`.
    pub(crate) rollup_config: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevnetContracts {
    pub(crate) l1_bridge: Address,
    pub(crate) batch_inbox: Address,
    pub(crate) state_manager: Address,
    pub(crate) dev_token: Address,
    pub(crate) l2_bridge: Address,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DevAccount {
    pub(crate) address: Address,
    pub(crate) private_key: B256,
}

fn dev_signers() -> eyre::Result<Vec<PrivateKeySigner>> {
    (0..DEV_ACCOUNTS)
        .map(|i| {
            Ok(
                MnemonicBuilder::<alloy_signer_local::coins_bip39::English>::default()
                    .phrase(DEV_MNEMONIC)
                    .index(i)?
                    .build()?,
            )
        })
        .collect()
}

/// `--batcher-max-delay` of the devnet unless set: blocks with transactions become safe within
/// seconds, while an idle devnet still posts only near the sequencing window's deadline.
const DEVNET_BATCHER_MAX_DELAY: Duration = Duration::from_secs(1);

/// Runs the devnet until Ctrl-C or SIGTERM, then shuts down in order: the roles and the node
/// stop first (none of them waits on L1 once cancelled, even if anvil is already gone), then the
/// anvil this command started, if any, so it can write its state.
pub(crate) async fn run(mut args: DevnetArgs) -> eyre::Result<()> {
    args.run
        .batcher_max_delay
        .get_or_insert(DEVNET_BATCHER_MAX_DELAY);
    let datadir = args.run.datadir.clone();
    std::fs::create_dir_all(&datadir)
        .wrap_err_with(|| format!("cannot create --datadir {}", datadir.display()))?;
    let cancel = runner::shutdown_on_signal();

    let mut anvil = None;
    let l1_rpc_url = match &args.l1_rpc_url {
        Some(url) => url.clone(),
        None => {
            let (child, url) = start_anvil(&args, &datadir).await?;
            anvil = Some(child);
            url
        }
    };
    let result = run_with_l1(&args, &datadir, &l1_rpc_url, cancel).await;
    if let Some(child) = anvil {
        stop_anvil(child).await;
    }
    result
}

async fn run_with_l1(
    args: &DevnetArgs,
    datadir: &Path,
    l1_rpc_url: &str,
    cancel: tokio_util::sync::CancellationToken,
) -> eyre::Result<()> {
    let provider =
        ProviderBuilder::new().connect_http(l1_rpc_url.parse().wrap_err("bad --l1-rpc-url")?);
    let Some(l1_chain_id) = wait_for_l1(&provider, l1_rpc_url, &cancel).await? else {
        return Ok(());
    };
    let signers = dev_signers()?;
    let info_path = datadir.join("devnet.json");
    // Stopping mid-deployment leaves no rollup.json behind: the next run deploys afresh.
    let (config, dev_token) = tokio::select! {
        biased;
        () = cancel.cancelled() => return Ok(()),
        setup = setup_chain(args, datadir, l1_rpc_url, l1_chain_id, &provider, &signers) => setup?,
    };

    let accounts = signers
        .iter()
        .map(|s| DevAccount {
            address: s.address(),
            private_key: B256::from_slice(&s.credential().to_bytes()),
        })
        .collect();
    let info = move |rpc: std::net::SocketAddr, config: &RollupConfig| DevnetInfo {
        l1_rpc_url: l1_rpc_url.to_string(),
        l2_rpc_url: format!("http://{rpc}"),
        l2_ws_url: format!("ws://{rpc}"),
        l1_chain_id: config.l1_chain_id,
        l2_chain_id: config.l2_chain_id,
        contracts: DevnetContracts {
            l1_bridge: config.contracts.l1_bridge,
            batch_inbox: config.contracts.batch_inbox,
            state_manager: config.contracts.state_manager,
            dev_token,
            l2_bridge: L2_BRIDGE,
        },
        accounts,
        rollup_config: "rollup.json".into(),
    };
    let config = Arc::new(config);
    let config_for_info = config.clone();
    let roles = runner::Roles {
        sequencer: true,
        batcher: Some(signers[1].clone()),
        proposer: Some(signers[2].clone()),
    };
    runner::run_node(config, l1_rpc_url, &args.run, roles, cancel, move |rpc| {
        let info = info(rpc, &config_for_info);
        write_json(&info_path, &info)?;
        println!(
            "\ndevnet ready\n  L1 RPC:  {}\n  L2 RPC:  {}\n  L2 WS:   {}\n  details: {}\n",
            info.l1_rpc_url,
            info.l2_rpc_url,
            info.l2_ws_url,
            info_path.display()
        );
        Ok(())
    })
    .await
}

/// Resumes the devnet of `datadir`, or deploys the contracts of a new one: its rollup config
/// and the dev token's address.
async fn setup_chain(
    args: &DevnetArgs,
    datadir: &Path,
    l1_rpc_url: &str,
    l1_chain_id: u64,
    provider: &impl Provider,
    signers: &[PrivateKeySigner],
) -> eyre::Result<(RollupConfig, Address)> {
    let config_path = datadir.join("rollup.json");
    let info_path = datadir.join("devnet.json");
    if config_path.exists() {
        let config = RollupConfig::from_file(&config_path)?;
        let info: DevnetInfo = std::fs::read_to_string(&info_path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or_else(|| {
                eyre::eyre!(
                    "{} is missing or corrupt; delete {} to start a new devnet",
                    info_path.display(),
                    datadir.display()
                )
            })?;
        // Stale until the node is up again (its RPC address may change).
        std::fs::remove_file(&info_path)?;
        let code = provider.get_code_at(config.contracts.l1_bridge).await?;
        if code.is_empty() || config.l1_chain_id != l1_chain_id {
            bail!(
                "the L1 at {l1_rpc_url} does not hold this devnet's contracts (its state was lost?); \
                 delete {} to start a new devnet",
                datadir.display()
            );
        }
        info!(target: "rollup::devnet", datadir = %datadir.display(), "resuming devnet");
        Ok((config, info.contracts.dev_token))
    } else {
        info!(target: "rollup::devnet", %l1_rpc_url, "deploying rollup contracts");
        let deployment = deploy::deploy(
            l1_rpc_url,
            deploy::DeployParams {
                deployer: signers[0].clone(),
                batcher: signers[1].address(),
                proposer: signers[2].address(),
                challenge_period_secs: 60,
                proposal_bond: U256::from(10u64).pow(U256::from(17)),
                token_holders: signers.iter().map(|s| s.address()).collect(),
            },
        )
        .await?;
        let config = devnet_config(l1_chain_id, args.l2_chain_id, &deployment, signers);
        config.validate()?;
        write_json(&config_path, &config)?;
        Ok((config, deployment.dev_token))
    }
}

fn devnet_config(
    l1_chain_id: u64,
    l2_chain_id: u64,
    deployment: &deploy::Deployment,
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
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> eyre::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(value)? + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// L1's chain id once it answers; `None` if `cancel` fires first.
async fn wait_for_l1(
    provider: &impl Provider,
    url: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> eyre::Result<Option<u64>> {
    for _ in 0..150 {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(None),
            id = provider.get_chain_id() => if let Ok(id) = id {
                return Ok(Some(id));
            },
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ok(None),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    bail!("L1 at {url} did not answer eth_chainId within 30s")
}

fn anvil_binary(args: &DevnetArgs) -> PathBuf {
    if let Some(bin) = &args.anvil_bin {
        return bin.clone();
    }
    // The pinned anvil installed by scripts/bootstrap.sh, found from the executable's or the
    // working directory's ancestors.
    let roots = std::env::current_exe()
        .ok()
        .into_iter()
        .chain(std::env::current_dir().ok());
    for root in roots {
        for dir in root.ancestors() {
            let candidate = dir.join("node_modules/.bin/anvil");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    PathBuf::from("anvil")
}

async fn start_anvil(args: &DevnetArgs, datadir: &Path) -> eyre::Result<(Child, String)> {
    let bin = anvil_binary(args);
    let state = datadir.join("anvil-state.json");
    let log = std::fs::File::create(datadir.join("anvil.log"))?;
    let mut command = Command::new(&bin);
    command
        .arg("--port")
        .arg(args.l1_port.to_string())
        .arg("--host")
        .arg("127.0.0.1")
        .arg("--block-time")
        .arg(args.l1_block_time.to_string())
        .arg("--state")
        .arg(&state)
        .arg("--state-interval")
        .arg("1")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    let child = command.spawn().wrap_err_with(|| {
        format!("cannot start anvil ({}): run scripts/bootstrap.sh, or pass --anvil-bin or --l1-rpc-url", bin.display())
    })?;
    let url = format!("http://127.0.0.1:{}", args.l1_port);
    info!(target: "rollup::devnet", %url, bin = %bin.display(), "started anvil L1");
    Ok((child, url))
}

async fn stop_anvil(mut child: Child) {
    info!(target: "rollup::devnet", "stopping anvil");
    // SIGTERM lets anvil write its state file, so the next run resumes the same L1.
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    warn!(target: "rollup::devnet", "anvil did not stop on SIGTERM; killing it");
    let _ = child.kill().await;
}
