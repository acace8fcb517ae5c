//! `rollup-node deploy`: the rollup's L1 contracts on a real L1, and the `rollup.json` every
//! replica runs from.
//!
//! Everything that can be checked before spending gas is: the config (a [`DeployPlan`]), that
//! the output files may be written, that the L1's chain id differs from the L2's, and that the
//! deployer can pay. [`deploy`] then deploys and reads every parameter back; the files are
//! written only after that, each atomically.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
};

use alloy_primitives::{Address, U256, utils::format_units};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::RpcClient;
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use rollup_primitives::artifacts;
use rollup_service::deploy::{DeployConfig, DeployPlan, Deployment, deploy};
use serde::Serialize;

use crate::cli::DeployArgs;

/// The rollup config replicas run from, in `--out`.
const ROLLUP_FILE: &str = "rollup.json";
/// Every deployed address, in `--out`.
const DEPLOYMENT_FILE: &str = "deployment.json";

/// Runs `rollup-node deploy`.
pub(crate) async fn run(args: DeployArgs) -> eyre::Result<()> {
    // The error names the file and the key at fault.
    let plan = DeployConfig::from_file(&args.config).map_err(|err| eyre!("{err}"))?;
    let key = args.private_key.as_deref().ok_or_else(|| {
        eyre!("--private-key (or ROLLUP_PRIVATE_KEY) is required: the deployer's key pays for the deployment")
    })?;
    let signer: PrivateKeySigner = key
        .trim()
        .parse()
        .map_err(|_| eyre!("--private-key is not a hex private key"))?;
    let rollup_path = args.out.join(ROLLUP_FILE);
    let deployment_path = args.out.join(DEPLOYMENT_FILE);
    if !args.force {
        for path in [&rollup_path, &deployment_path] {
            if path.exists() {
                bail!(
                    "{} exists: pass --force to overwrite it, or another --out",
                    path.display()
                );
            }
        }
    }
    // Created now, so a folder that cannot be written fails before anything is spent; removed
    // again (if this run created it and it is still empty) when the deployment fails.
    let created_out = !args.out.exists();
    std::fs::create_dir_all(&args.out)
        .wrap_err_with(|| format!("cannot create --out {}", args.out.display()))?;
    let result = deploy_into(&args, &plan, signer, &rollup_path, &deployment_path).await;
    if result.is_err() && created_out {
        let _ = std::fs::remove_dir(&args.out);
    }
    result
}

async fn deploy_into(
    args: &DeployArgs,
    plan: &DeployPlan,
    signer: PrivateKeySigner,
    rollup_path: &Path,
    deployment_path: &Path,
) -> eyre::Result<()> {
    let deployer = signer.address();

    let url = &args.l1_rpc_url;
    let client = RpcClient::new_http(
        url.parse()
            .wrap_err_with(|| format!("--l1-rpc-url {url} is not a URL"))?,
    );
    let provider = ProviderBuilder::new().connect_client(client.clone());
    let l1_chain_id = provider
        .get_chain_id()
        .await
        .wrap_err_with(|| format!("L1 at {url} does not answer eth_chainId"))?;
    if l1_chain_id == plan.l2_chain_id {
        bail!(
            "l2_chain_id {} is the L1's chain id: pick another, so signatures cannot be replayed across layers",
            plan.l2_chain_id
        );
    }
    let balance = provider
        .get_balance(deployer)
        .await
        .wrap_err_with(|| format!("reading the deployer's balance on {url}"))?;
    let gas = deployment_gas_estimate();
    let fee_per_gas = match provider.estimate_eip1559_fees().await {
        Ok(fees) => fees.max_fee_per_gas,
        Err(_) => provider
            .get_gas_price()
            .await
            .wrap_err_with(|| format!("reading the gas price on {url}"))?,
    };
    let cost = U256::from(gas) * U256::from(fee_per_gas);
    if balance < cost {
        bail!(
            "the deployer {deployer} holds {} ETH on L1 chain {l1_chain_id}, less than the deployment may cost: about {gas} gas at up to {} gwei = {} ETH; fund it first",
            amount(balance, "ether"),
            amount(U256::from(fee_per_gas), "gwei"),
            amount(cost, "ether")
        );
    }
    out!(
        "deploying to L1 chain {l1_chain_id} ({url}) from {deployer} (holds {} ETH; the deployment takes about {gas} gas)",
        amount(balance, "ether")
    );

    let nonce_before = provider.get_transaction_count(deployer).await.ok();
    let deployment = match deploy(client, url, signer, plan, &[]).await {
        Ok(deployment) => deployment,
        Err(err) => {
            let nonce_after = provider.get_transaction_count(deployer).await.ok();
            let context = if nonce_before.is_some() && nonce_before == nonce_after {
                "deployment failed before it sent anything: fix the cause and deploy again"
            } else {
                "deployment failed; contracts deployed before the failure stay on L1 unused: fix the cause and deploy again"
            };
            return Err(eyre::Report::new(err).wrap_err(context));
        }
    };
    let config = deployment.rollup_config(l1_chain_id, plan);
    config
        .validate()
        .wrap_err("the deployed contracts give an invalid rollup config")?;
    // Written first: if the rollup config cannot be written, the addresses are not lost.
    save(deployment_path, &deployment, args.force)?;
    save(rollup_path, &config, args.force)?;
    print_summary(
        args,
        l1_chain_id,
        plan,
        &deployment,
        rollup_path,
        deployment_path,
    );
    Ok(())
}

/// Gas the deployment takes at most, from the contracts' code: per creation 53 000 (creation
/// and transaction base), 16 per byte of init code (calldata), 200 per byte of runtime code
/// stored (the proxies' runtime for them) and 1 000 000 for the constructor (a proxy's also
/// creates its ProxyAdmin and runs the initializer); 100 000 per setup call.
fn deployment_gas_estimate() -> u64 {
    let creation = |artifact: &artifacts::Artifact| {
        53_000
            + 16 * artifact.bytecode.len() as u64
            + 200 * artifact.deployed_bytecode.len() as u64
            + 1_000_000
    };
    let contracts = [
        &*artifacts::TIMELOCK_CONTROLLER,
        &*artifacts::STATE_MANAGER,
        &*artifacts::BATCH_INBOX,
        &*artifacts::L1_BRIDGE,
        &*artifacts::SEGMENT_STORE,
        &*artifacts::ONE_STEP_VERIFIER,
        &*artifacts::DISPUTE_GAME,
    ];
    let proxies = 3 * creation(&artifacts::TRANSPARENT_PROXY);
    // setDisputeGame (the guardian's and the game's), setOneStepVerifier,
    // setPermissionlessProposals and the StateManager's hand-over to the timelock.
    let calls = 5 * 100_000;
    contracts.into_iter().map(creation).sum::<u64>() + proxies + calls
}

/// Writes `value` as JSON to `path` atomically: a temporary file, then a rename (`force`) or a
/// hard link, which fails rather than replace a file that appeared meanwhile. On failure the
/// JSON goes to stdout, so nothing deployed is lost.
fn save(path: &Path, value: &impl Serialize, force: bool) -> eyre::Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    // Synced, file and directory: the addresses of a deployment exist nowhere else, and a
    // crash of the machine must not leave an empty file in their place.
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        if force {
            std::fs::rename(&tmp, path)?;
        } else {
            let linked = std::fs::hard_link(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            linked?;
        }
        let dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        out!("{}:\n{text}", path.display());
        let reason = if err.kind() == ErrorKind::AlreadyExists {
            "it appeared during the deployment (pass --force to overwrite)".to_string()
        } else {
            err.to_string()
        };
        bail!(
            "cannot write {} ({reason}): its content is printed above; save it by hand",
            path.display()
        );
    }
    Ok(())
}

/// `wei` in `unit` (`ether`, `gwei`) without trailing zeros: `0.1`.
fn amount(wei: U256, unit: &str) -> String {
    let text = format_units(wei, unit).unwrap_or_default();
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `604800 s (7 days)`.
fn seconds(secs: u64) -> String {
    let unit = |count: u64, name: &str| {
        let plural = if count == 1 { "" } else { "s" };
        format!("{secs} s ({count} {name}{plural})")
    };
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => unit(s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => unit(s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => unit(s / 60, "minute"),
        s => format!("{s} s"),
    }
}

fn print_summary(
    args: &DeployArgs,
    l1_chain_id: u64,
    plan: &DeployPlan,
    d: &Deployment,
    rollup_path: &Path,
    deployment_path: &Path,
) {
    let proxy = |name: &str| {
        d.proxies.get(name).map_or_else(String::new, |info| {
            format!(
                " (proxy; implementation {}, ProxyAdmin {})",
                info.implementation, info.admin
            )
        })
    };
    let preset = &plan.preset;
    out!("\ndeployed to L1 chain {l1_chain_id}");
    out!("  TimelockController   {}", d.timelock);
    out!(
        "  StateManager         {}{}",
        d.state_manager,
        proxy("StateManager")
    );
    out!(
        "  BatchInbox           {}{}",
        d.batch_inbox,
        proxy("BatchInbox")
    );
    out!(
        "  L1Bridge             {}{}",
        d.l1_bridge,
        proxy("L1Bridge")
    );
    out!("  DisputeGame          {}", d.dispute_game);
    out!("  OneStepVerifier      {}", d.one_step_verifier);
    out!("  SegmentStore         {}", d.segment_store);
    out!(
        "  L1 origin            block {} ({}), timestamp {}",
        d.origin.number,
        d.origin.hash,
        d.origin_timestamp
    );
    out!("parameters");
    out!("  L2 chain id          {}", plan.l2_chain_id);
    out!(
        "  challenge period     {}",
        seconds(preset.challenge_period)
    );
    out!("  timelock delay       {}", seconds(preset.timelock_delay));
    out!(
        "  proposal bond        {} ETH",
        amount(preset.proposal_bond, "ether")
    );
    out!(
        "  sequencing window    {} L1 blocks",
        preset.sequencing_window
    );
    out!(
        "  max sequencer drift  {}",
        seconds(preset.max_sequencer_drift)
    );
    out!(
        "  challenger bond      {} ETH",
        amount(preset.challenger_bond, "ether")
    );
    out!(
        "  game clock           {} per side, extension {}",
        seconds(preset.max_clock_duration),
        seconds(preset.clock_extension)
    );
    out!(
        "  proposals            {}",
        if preset.permissionless_proposals {
            "permissionless (anyone may propose)"
        } else {
            "allowlisted (the proposer only)"
        }
    );
    out!("  genesis output root  {}", d.genesis_output_root);
    out!("  L2 gas limit         {}", plan.l2_gas_limit);
    out!("  L2 base fee          {} wei", plan.l2_base_fee);
    out!(
        "  owner                {} (proposes and executes timelocked changes)",
        plan.owner
    );
    out!("  batcher              {}", plan.batcher);
    out!("  proposer             {}", plan.proposer);
    out!(
        "  guardian             {}",
        plan.dispute_game.map_or_else(
            || "none".to_string(),
            |guardian: Address| format!(
                "{guardian} (may remove a proposal besides the DisputeGame)"
            )
        )
    );
    out!(
        "wrote {} (give it to every replica) and {}",
        rollup_path.display(),
        deployment_path.display()
    );
    out!(
        "next: `rollup-node node --config {} --l1-rpc-url {} --l1-beacon-url <the L1's beacon API>` (the beacon API serves the blobs of blob batches)",
        rollup_path.display(),
        args.l1_rpc_url
    );
    out!(
        "  the sequencer adds --sequencer --batcher-key <batcher's key> --proposer-key <proposer's key>; fund the batcher for L1 gas, the proposer for gas and one {} ETH bond per live proposal: a bond stays locked for the challenge period, so at one proposal per --proposal-interval (default 1 h) about {} ETH",
        amount(preset.proposal_bond, "ether"),
        amount(
            preset.proposal_bond * U256::from(preset.challenge_period.div_ceil(3_600).max(1)),
            "ether"
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_say_them() {
        assert_eq!(
            amount(U256::from(100_000_000_000_000_000u128), "ether"),
            "0.1"
        );
        assert_eq!(
            amount(U256::from(1_000_000_000_000_000_000u128), "ether"),
            "1"
        );
        assert_eq!(amount(U256::ZERO, "ether"), "0");
        assert_eq!(amount(U256::from(308_420_151u64), "gwei"), "0.308420151");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(seconds(7 * 86_400), "604800 s (7 days)");
        assert_eq!(seconds(43_200), "43200 s (12 hours)");
        assert_eq!(seconds(1_800), "1800 s (30 minutes)");
        assert_eq!(seconds(60), "60 s (1 minute)");
        assert_eq!(seconds(90), "90 s");
    }

    #[test]
    fn the_gas_estimate_covers_the_contracts() {
        let gas = deployment_gas_estimate();
        // Above the code it stores, below an L1 block's gas limit.
        let code: u64 = [&*artifacts::L1_BRIDGE, &*artifacts::STATE_MANAGER]
            .iter()
            .map(|a| 200 * a.deployed_bytecode.len() as u64)
            .sum();
        assert!(gas > code && gas < 36_000_000, "{gas}");
    }

    #[test]
    fn files_are_not_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ROLLUP_FILE);
        save(&path, &serde_json::json!({"a": 1}), false).unwrap();
        let err = save(&path, &serde_json::json!({"a": 2}), false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        let read = || std::fs::read_to_string(&path).unwrap();
        assert!(read().contains("\"a\": 1"));
        save(&path, &serde_json::json!({"a": 3}), true).unwrap();
        assert!(read().contains("\"a\": 3"));
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
